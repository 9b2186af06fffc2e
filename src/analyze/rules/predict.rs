//! A cell predicted: the what-if over a snapshot of the first socket, then the routes of
//! the sockets bound.

use super::answer::{CellAnswer, Dest, Receivers, Which};
use super::grid::{FIRST_UID, First, Held, Place, Second, Sharing};
use crate::analyze::ports::{self, Route};
use crate::analyze::whatif::{self, BindRequest, BindResult};
use crate::model::{
    AddressState, Family, NetnsId, Options, Proto, Scope, Snapshot, Socket, SocketId, State, View,
};
use std::net::IpAddr;

/// The socket the snapshot and the routes see for one side of a cell. `order` is 1 for the
/// first socket and 2 for the second: today's routes read "bound later" from the inode.
/// The lookup engine reads the chain order from the sock_diag dump position instead; there
/// the second socket, hashed later, comes first (head insertion of IPv4 sockets,
/// docs/lookup §1.3), so its position is 0 and the first one's 1.
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
        // Both are IPv4 and without a device: one hash chain, newest first (docs/lookup
        // §0), so the second socket is dumped before the first.
        dump_pos: Some(match which {
            Which::First => 1,
            Which::Second => 0,
        }),
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
        // The table is about two sockets in a fresh namespace: nothing else ever bound
        // the port.
        history_complete: true,
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
