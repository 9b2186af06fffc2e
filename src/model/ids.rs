//! Newtypes for the identifiers that tie sockets, processes and namespaces together.

use crate::text::digits;
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
    /// `{netns}-{cookie in hex}`. Written digit by digit: the join makes one per socket,
    /// and `format!` was a tenth of its time at 50,000 sockets.
    pub fn new(netns: NetnsId, cookie: u64) -> Self {
        // Right to left: the cookie in hex, the dash, the namespace in decimal.
        let mut text = [0u8; 20 + 1 + 16];
        let dash = digits::at_end(&mut text, cookie, 16) - 1;
        text[dash] = b'-';
        let at = digits::at_end(&mut text[..dash], netns.0, 10);
        // ASCII digits and a dash: always UTF-8.
        SocketId(String::from_utf8_lossy(&text[at..]).into_owned())
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_socket_id_is_the_namespace_in_decimal_and_the_cookie_in_hex() {
        for (netns, cookie) in [
            (0, 0),
            (4026531840, 0x14ffe),
            (u64::MAX, u64::MAX),
            (7, 1 << 60),
        ] {
            assert_eq!(
                SocketId::new(NetnsId(netns), cookie).0,
                format!("{netns}-{cookie:x}")
            );
        }
    }
}
