//! The Linux sources: netlink (sock_diag, rtnetlink), `/proc`, the options probe, and the
//! collector that runs them for one snapshot.

pub mod collector;
pub mod netlink;
pub mod procfs;
pub mod rtnl;
pub mod sock_diag;
pub mod sockopt;
