//! Newtypes for the identifiers that tie sockets, processes and namespaces together.

use serde::{Deserialize, Serialize};
use std::fmt;

/// A network namespace, named by the inode of its `ns/net` link (`net:[4026531840]`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct NetnsId(pub u64);

/// A socket id that is unique in a file and stable for the life of the socket across
/// snapshots and runs: the namespace and the kernel's socket cookie, which is never reused
/// while the host is up (`sock_gen_cookie`).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct SocketId(pub String);

impl SocketId {
    pub fn new(netns: NetnsId, cookie: u64) -> Self {
        SocketId(format!("{}-{:x}", netns.0, cookie))
    }
}

impl fmt::Display for NetnsId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

impl fmt::Display for SocketId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}
