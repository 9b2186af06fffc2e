//! The grid: the first sockets (rows), the second ones (columns), the addresses, uids and
//! ports of the cells.

use crate::model::Proto;
use serde::Serialize;
use std::net::Ipv4Addr;

/// The specific address of the table: on `lo` in every namespace, so the table means the
/// same everywhere and `--verify` needs no other interface.
pub const SPECIFIC: Ipv4Addr = Ipv4Addr::new(127, 0, 0, 1);
/// "Any other local address", as traffic is sent to it: in 127.0.0.0/8, so local to every
/// namespace with `lo` up, and not the specific address.
pub const OTHER: Ipv4Addr = Ipv4Addr::new(127, 0, 0, 2);
/// The uid of the first socket, and of the second one when it is another user's. Any two
/// unprivileged uids do: the rules compare them, never their names.
pub const FIRST_UID: u32 = 1001;
pub const OTHER_UID: u32 = 1002;
/// Cells use ports from here up, one each: a cell's sockets and the TIME_WAIT its traffic
/// leaves never meet another cell's. Below the default ephemeral range (32768).
pub const FIRST_PORT: u16 = 20000;

/// The sharing option a socket sets before bind().
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Sharing {
    Default,
    Reuseaddr,
    Reuseport,
}

impl Sharing {
    pub const ALL: [Sharing; 3] = [Sharing::Default, Sharing::Reuseaddr, Sharing::Reuseport];
}

/// Where a socket binds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Place {
    /// `0.0.0.0`.
    Wildcard,
    /// [`SPECIFIC`].
    Specific,
}

impl Place {
    pub const ALL: [Place; 2] = [Place::Wildcard, Place::Specific];

    pub fn addr(self) -> Ipv4Addr {
        match self {
            Place::Wildcard => Ipv4Addr::UNSPECIFIED,
            Place::Specific => SPECIFIC,
        }
    }
}

/// What the first TCP socket does after bind(). UDP sockets have no listen().
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Held {
    Listening,
    Bound,
}

/// Whose the second socket is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Who {
    SameUser,
    OtherUser,
}

impl Who {
    pub const ALL: [Who; 2] = [Who::SameUser, Who::OtherUser];

    pub fn uid(self) -> u32 {
        match self {
            Who::SameUser => FIRST_UID,
            Who::OtherUser => OTHER_UID,
        }
    }
}

/// A row: the first socket.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct First {
    pub sharing: Sharing,
    pub place: Place,
    /// `None` for UDP.
    pub held: Option<Held>,
}

/// A column: the second socket (for TCP it calls listen() after bind()).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct Second {
    pub sharing: Sharing,
    pub place: Place,
    pub who: Who,
}

/// The rows of a protocol's table, in the order they are printed.
pub fn rows(proto: Proto) -> Vec<First> {
    let helds: &[Option<Held>] = match proto {
        Proto::Tcp => &[Some(Held::Listening), Some(Held::Bound)],
        Proto::Udp => &[None],
    };
    let mut out = Vec::new();
    for sharing in Sharing::ALL {
        for place in Place::ALL {
            for &held in helds {
                out.push(First {
                    sharing,
                    place,
                    held,
                });
            }
        }
    }
    out
}

/// The columns, in the order they are printed: the same user's six, then another user's.
pub fn columns() -> Vec<Second> {
    let mut out = Vec::new();
    for who in Who::ALL {
        for sharing in Sharing::ALL {
            for place in Place::ALL {
                out.push(Second {
                    sharing,
                    place,
                    who,
                });
            }
        }
    }
    out
}

/// Every cell of a protocol's table with its port, rows then columns.
pub fn cells(proto: Proto) -> Vec<(First, Second, u16)> {
    let mut out = Vec::new();
    let mut port = FIRST_PORT;
    for first in rows(proto) {
        for second in columns() {
            out.push((first, second, port));
            port = port.saturating_add(1);
        }
    }
    out
}
