//! `bindscope rules`: the Linux counterpart of the Windows "first caller × second caller"
//! tables (seed 004, "Using SO_REUSEADDR and SO_EXCLUSIVEADDRUSE", tables 2 and 3).
//!
//! A row is a first socket (no option, SO_REUSEADDR or SO_REUSEPORT; bound to the wildcard
//! or to a specific address; for TCP listening or only bound), a column a second socket
//! (the same choices, always listening for TCP, as the same user or another one). A cell is
//! what the second socket's bind() and listen() return, and then who receives traffic to
//! the specific address and to any other local address.
//!
//! Nothing here decides a rule of its own: the result is the can-bind what-if
//! ([`whatif::can_bind`]) over a snapshot holding only the first socket, and the receivers
//! are the routes of [`ports::port_groups`] over the one or two sockets bound. The table
//! only lays out their answers, so it says what the rest of bindscope says.

use crate::analyze::ports::{self, Route};
use crate::analyze::whatif::{self, BindRequest, BindResult, Phase};
use crate::model::{
    AddressState, Family, NetnsId, Options, Proto, Scope, Snapshot, Socket, SocketId, State, View,
};
use serde::Serialize;
use std::collections::BTreeMap;
use std::net::{IpAddr, Ipv4Addr};

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

/// The destinations traffic is sent to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Dest {
    /// [`SPECIFIC`].
    Specific,
    /// Any other local address ([`OTHER`] when measured).
    Other,
}

impl Dest {
    pub const ALL: [Dest; 2] = [Dest::Specific, Dest::Other];

    pub fn addr(self) -> Ipv4Addr {
        match self {
            Dest::Specific => SPECIFIC,
            Dest::Other => OTHER,
        }
    }
}

/// One of the two sockets of a cell.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Which {
    First,
    Second,
}

/// Who receives the traffic to one destination.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case", tag = "kind", content = "of")]
pub enum Receivers {
    /// Refused (TCP) or dropped (UDP).
    Nobody,
    /// One socket takes all of it.
    One(Which),
    /// A SO_REUSEPORT group of both: each connection or datagram to one of them, by a hash.
    Split,
    /// One of these, and the routes cannot say which (`certain: false`).
    OneOf(Vec<Which>),
    /// The bind's result is uncertain: one of these, as it turns out.
    Depends(Vec<Receivers>),
}

/// A cell's answer: what the second socket's calls return, and who then receives.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CellAnswer {
    pub result: BindResult,
    /// For `uncertain`: the results that remain possible (the what-if's `possible`).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub possible: Vec<BindResult>,
    /// The call that returned `result` (for `ok`, the last one made).
    pub at: Phase,
    pub receivers: BTreeMap<Dest, Receivers>,
}

/// How a measurement compares with the prediction.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Agreement {
    /// The same result, call and receivers.
    Agrees,
    /// The prediction was uncertain and the kernel did one of the things it named.
    WithinUncertain,
    Differs,
}

/// Compares a prediction with what the kernel did.
pub fn compare(predicted: &CellAnswer, measured: &CellAnswer) -> Agreement {
    let mut out = Agreement::Agrees;
    if predicted.result == BindResult::Uncertain {
        if !predicted.possible.contains(&measured.result) {
            return Agreement::Differs;
        }
        out = Agreement::WithinUncertain;
    } else if predicted.result != measured.result || predicted.at != measured.at {
        return Agreement::Differs;
    }
    for dest in Dest::ALL {
        let p = predicted.receivers.get(&dest);
        let m = measured.receivers.get(&dest);
        match (p, m) {
            (p, m) if p == m => {}
            (Some(p), Some(m)) if admits(p, m) => out = Agreement::WithinUncertain,
            _ => return Agreement::Differs,
        }
    }
    out
}

/// The socket the snapshot and the routes see for one side of a cell. `order` is 1 for the
/// first socket and 2 for the second: today's routes read "bound later" from the inode.
fn socket(
    netns: NetnsId,
    proto: Proto,
    port: u16,
    which: Which,
    (sharing, place): (Sharing, Place),
    uid: u32,
    listening: bool,
) -> Socket {
    let addr = IpAddr::V4(place.addr());
    let order: u64 = match which {
        Which::First => 1,
        Which::Second => 2,
    };
    Socket {
        id: SocketId(socket_name(which).into()),
        netns,
        proto,
        family: Family::Ipv4,
        local_addr: addr,
        local_port: port,
        remote_addr: None,
        remote_port: None,
        state: if listening {
            State::Listen
        } else {
            State::Close
        },
        uid,
        user: None,
        inode: order,
        device: None,
        scope: match place {
            Place::Wildcard => Scope::Wildcard,
            Place::Specific => Scope::Loopback,
        },
        address_state: match place {
            Place::Wildcard => AddressState::Any,
            Place::Specific => AddressState::Local,
        },
        accept_queue: None,
        syn_recv: None,
        options: Options {
            reuseaddr: Some(sharing == Sharing::Reuseaddr),
            reuseport: Some(sharing == Sharing::Reuseport),
            freebind: Some(false),
            transparent: Some(false),
            ..Options::default()
        },
        holders: Vec::new(),
        cookie: order,
        recv_q: None,
        send_q: None,
        holders_unknown: None,
        syn_recv_shared: false,
        cgroup_id: None,
        host: None,
    }
}

/// The id of each side's socket in the routes.
pub fn socket_name(which: Which) -> &'static str {
    match which {
        Which::First => "first",
        Which::Second => "second",
    }
}

/// Predicts a cell for the namespace `netns` of `template` (its interfaces and sysctls; its
/// sockets are replaced by the cell's).
pub fn predict(
    template: &Snapshot,
    netns: NetnsId,
    proto: Proto,
    port: u16,
    first: First,
    second: Second,
) -> CellAnswer {
    let tcp = proto == Proto::Tcp;
    let a = socket(
        netns,
        proto,
        port,
        Which::First,
        (first.sharing, first.place),
        FIRST_UID,
        first.held == Some(Held::Listening),
    );
    let mut snap = template.clone();
    snap.sockets = vec![a.clone()];
    snap.findings.clear();
    // The snapshot is complete by construction: no connection or TIME_WAIT is hidden.
    snap.view = View::All;
    let req = BindRequest {
        proto,
        addr: IpAddr::V4(second.place.addr()),
        port,
        scope_device: None,
        reuseaddr: second.sharing == Sharing::Reuseaddr,
        reuseport: second.sharing == Sharing::Reuseport,
        v6only: None,
        freebind: false,
        transparent: false,
        device: None,
        uid: second.who.uid(),
        listen: tcp,
    };
    let verdict = whatif::can_bind(&snap, netns, &req);
    let b = socket(
        netns,
        proto,
        port,
        Which::Second,
        (second.sharing, second.place),
        second.who.uid(),
        tcp,
    );
    let alone = [a.clone()];
    let both = [a, b];
    // The sockets bound afterwards, in every case the verdict leaves open.
    let mut cases: Vec<&[Socket]> = Vec::new();
    let (ok, failed) = match verdict.result {
        BindResult::Ok => (true, false),
        BindResult::Uncertain => (
            verdict.possible.contains(&BindResult::Ok),
            verdict.possible.iter().any(|r| *r != BindResult::Ok),
        ),
        _ => (false, true),
    };
    if ok {
        cases.push(&both);
    }
    if failed {
        cases.push(&alone);
    }
    let receivers = Dest::ALL
        .into_iter()
        .map(|d| {
            let each: Vec<Receivers> = cases.iter().map(|c| receivers(c, d)).collect();
            (d, merge(each))
        })
        .collect();
    CellAnswer {
        result: verdict.result,
        possible: if verdict.result == BindResult::Uncertain {
            verdict.possible.clone()
        } else {
            Vec::new()
        },
        at: verdict.at,
        receivers,
    }
}

/// The receivers when the bind's result is not known: the same in every case, or what
/// each case gives.
fn merge(mut each: Vec<Receivers>) -> Receivers {
    each.dedup();
    match each.len() {
        0 => Receivers::Nobody,
        1 => each.remove(0),
        _ => Receivers::Depends(each),
    }
}

/// Whether the kernel's `measured` receivers are among those `predicted` leaves open.
fn admits(predicted: &Receivers, measured: &Receivers) -> bool {
    match (predicted, measured) {
        (Receivers::OneOf(cands), Receivers::One(w)) => cands.contains(w),
        (Receivers::Depends(cases), m) => cases.iter().any(|c| admits(c, m)),
        (p, m) => p == m,
    }
}

/// Who receives traffic to `dest`, read from the routes of the port group.
fn receivers(bound: &[Socket], dest: Dest) -> Receivers {
    let groups = ports::port_groups(bound);
    let Some(group) = groups.first() else {
        return Receivers::Nobody;
    };
    // Pass 1's route for the address if there is one, else the "any other address" route.
    let v4 = |r: &&Route| r.family == Family::Ipv4 && r.device.is_none();
    let exact = group
        .routes
        .iter()
        .filter(v4)
        .find(|r| r.to == Some(IpAddr::V4(dest.addr())));
    let route = exact.or_else(|| group.routes.iter().filter(v4).find(|r| r.to.is_none()));
    let Some(route) = route else {
        return Receivers::Nobody;
    };
    let which: Vec<Which> = route
        .sockets
        .iter()
        .filter_map(|id| {
            [Which::First, Which::Second]
                .into_iter()
                .find(|w| id.0 == socket_name(*w))
        })
        .collect();
    match which.as_slice() {
        [] => Receivers::Nobody,
        [one] => Receivers::One(*one),
        several => {
            // Several sockets on one route: a SO_REUSEPORT group (same uid, every member
            // with the option) splits the traffic; otherwise the route names candidates.
            let members: Vec<&Socket> = bound
                .iter()
                .filter(|s| route.sockets.contains(&s.id))
                .collect();
            let group = members.iter().all(|s| s.options.reuseport == Some(true))
                && members.windows(2).all(|w| w[0].uid == w[1].uid);
            if group {
                Receivers::Split
            } else {
                Receivers::OneOf(several.to_vec())
            }
        }
    }
}

/// One cell of a table: the prediction and, with `--verify`, what the kernel did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Cell {
    pub first: First,
    pub second: Second,
    pub port: u16,
    pub predicted: CellAnswer,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub measured: Option<CellAnswer>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub agreement: Option<Agreement>,
}

/// A protocol's table: every cell, rows then columns.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Table {
    pub proto: Proto,
    pub cells: Vec<Cell>,
}

impl Table {
    /// The predicted table of `proto` for the namespace `netns` of `template`.
    pub fn predict(template: &Snapshot, netns: NetnsId, proto: Proto) -> Table {
        let cells = cells(proto)
            .into_iter()
            .map(|(first, second, port)| Cell {
                first,
                second,
                port,
                predicted: predict(template, netns, proto, port, first, second),
                measured: None,
                agreement: None,
            })
            .collect();
        Table { proto, cells }
    }

    /// Records what the kernel did in a cell (looked up by port).
    pub fn record(&mut self, port: u16, measured: CellAnswer) {
        if let Some(c) = self.cells.iter_mut().find(|c| c.port == port) {
            c.agreement = Some(compare(&c.predicted, &measured));
            c.measured = Some(measured);
        }
    }

    /// How many measured cells differ from the prediction.
    pub fn differing(&self) -> usize {
        self.count(Agreement::Differs)
    }

    pub fn count(&self, a: Agreement) -> usize {
        self.cells.iter().filter(|c| c.agreement == Some(a)).count()
    }
}

#[cfg(test)]
mod tests;
