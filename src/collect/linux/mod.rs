//! The Linux sources: netlink (sock_diag, rtnetlink), `/proc`, and the options probe.

pub mod netlink;
pub mod procfs;
pub mod rtnl;
pub mod sock_diag;
pub mod sockopt;
