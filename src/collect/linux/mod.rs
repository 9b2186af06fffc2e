//! The Linux sources: netlink (sock_diag, rtnetlink), `/proc`, the options probe, network
//! namespaces, and the collector that runs them for one snapshot. `sources` puts them behind
//! one interface, which `replay` serves from a recording that `recorder` made.

pub mod collector;
pub mod containers;
pub mod in_netns;
pub mod last;
pub mod netlink;
pub mod netns;
pub mod owners;
pub mod privileges;
pub mod procfs;
pub mod recorder;
pub mod recording;
pub mod replay;
pub mod rtnl;
pub mod select;
pub mod sock_diag;
pub mod sockopt;
pub mod sources;
pub mod state_files;
