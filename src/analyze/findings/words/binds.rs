//! The words of findings about binds and ports.

use super::Words;
use crate::analyze::describe::{self, endpoint};
use crate::analyze::findings::fact::{Delivery, MulticastService, Unbound, User};
use crate::model::{Proto, Snapshot, Socket};
use crate::text::clean;
use std::collections::BTreeSet;

/// The sockets as `tcp 0.0.0.0:80 of alice (uid 1001), held by api[12] alice; …`: the
/// first socket of each user, then the others up to [`LISTED`] in all, in their order, then
/// how many more. A port bound on 70 addresses made a 20 KB paragraph nobody reads (the
/// finding lists every socket in its `sockets` anyway); a user's socket is never among the
/// ones only counted, so a list of users' sockets names every user.
fn socket_list(sockets: &[&Socket]) -> String {
    let mut users = BTreeSet::new();
    let mut listed: Vec<bool> = sockets.iter().map(|s| users.insert(s.uid)).collect();
    let room = LISTED.saturating_sub(users.len());
    for l in listed.iter_mut().filter(|l| !**l).take(room) {
        *l = true;
    }
    let mut text = sockets
        .iter()
        .zip(&listed)
        .filter(|(_, l)| **l)
        .map(|(s, _)| describe::socket(s))
        .collect::<Vec<_>>()
        .join("; ");
    let more = listed.iter().filter(|l| !**l).count();
    if more > 0 {
        text.push_str(&format!("; and {more} more"));
    }
    text
}

/// How many sockets an explanation describes one by one (more when more users own them).
const LISTED: usize = 10;

/// A route in words: `IPv4 to 127.0.0.1 → tcp 127.0.0.1:80 (api[12])`.
pub(super) fn route_line(proto: Proto, r: &Delivery) -> String {
    let to = match r.to {
        Some(a) => format!("{} to {a}", r.family.name()),
        None => format!("{} to any other address", r.family.name()),
    };
    // The device as the route gives it, as it always was (issue 11 changes no output).
    let dev = r
        .device
        .as_deref()
        .map(|d| format!(" arriving on {d}"))
        .unwrap_or_default();
    let receivers: Vec<String> = r
        .receivers
        .iter()
        .map(|s| format!("{} ({})", endpoint(s), describe::process_names(s)))
        .collect();
    // Certain receivers share the traffic (a SO_REUSEPORT group); uncertain ones are the
    // candidates, only one of which receives it.
    let dest = if receivers.is_empty() {
        proto.unreceived().to_string()
    } else if r.certain {
        receivers.join(" + ")
    } else {
        format!("one of {} (not certain)", receivers.join(" or "))
    };
    format!("{to}{dev} → {dest}: {}", r.how)
}

pub(super) fn wildcard_overlap(
    snap: &Snapshot,
    proto: Proto,
    port: u16,
    sockets: &[&Socket],
    users: &[User],
    routes: &[Delivery],
    multicast: Option<MulticastService>,
) -> Words {
    let proto_kind = proto;
    let proto = proto.name();
    let netns = sockets
        .first()
        .map(|s| describe::netns_of(snap, s))
        .unwrap_or_default();
    let summary = format!(
        "{proto} port {port}{netns}: {} overlapping binds ({}); exact addresses take their own traffic, the wildcard the rest",
        sockets.len(),
        sockets
            .iter()
            .map(|s| endpoint(s))
            .collect::<Vec<_>>()
            .join(", ")
    );
    let mut text = format!(
        "These binds share {proto} port {port} and cover some of the same addresses: {}. Who receives what:\n",
        socket_list(sockets)
    );
    for r in routes {
        text.push_str("  - ");
        text.push_str(&route_line(proto_kind, r));
        text.push('\n');
    }
    if let Some(service) = multicast {
        text.push_str(&shared_by_design(service));
    } else if users.len() > 1 {
        text.push_str(
            "They belong to different users, so one user's service receives traffic that clients may mean for the other's. \
             If that is not intended, give the port to one service, or bind each to its own address and port.",
        );
    } else {
        text.push_str(
            "One user owns them all. This is fine when intended (an admin listener on loopback beside a public one); \
             a client connecting to the specific address never reaches the wildcard socket.",
        );
    }
    Words {
        summary,
        explanation: text,
    }
}

pub(super) fn reuseport_group(
    snap: &Snapshot,
    proto: Proto,
    members: &[&Socket],
    uid: u32,
) -> Words {
    let procs: BTreeSet<String> = members.iter().map(|s| describe::process_names(s)).collect();
    let (shared, netns) = match members.first() {
        Some(first) => (endpoint(first), describe::netns_of(snap, first)),
        None => (String::new(), String::new()),
    };
    let summary = format!(
        "{} sockets share {shared}{netns} through SO_REUSEPORT ({})",
        members.len(),
        procs.into_iter().collect::<Vec<_>>().join(", ")
    );
    let split = match proto {
        Proto::Tcp => {
            "Each new connection goes to one member, chosen by a hash of its addresses and ports; a member that stops accepting keeps its share queued until clients time out."
        }
        Proto::Udp => {
            "Each datagram goes to one member, chosen by a hash of its addresses and ports: one client's traffic always reaches the same member."
        }
    };
    let explanation = format!(
        "Members: {}. {split} Only sockets created by the same user (socket uid {uid}) can join this group; \
         a member held by a process that is gone (a leaked fd) still takes its share.",
        socket_list(members),
    );
    Words {
        summary,
        explanation,
    }
}

pub(super) fn family_split(
    snap: &Snapshot,
    proto: Proto,
    port: u16,
    open: Unbound,
    receivers: &[&Socket],
) -> Words {
    let proto = proto.name();
    let netns = receivers
        .first()
        .map(|s| describe::netns_of(snap, s))
        .unwrap_or_default();
    let list = socket_list(receivers);
    match open {
        Unbound::AllIpv6 => Words {
            summary: format!(
                "{proto} port {port}{netns} is held for IPv4 only: any user can bind it on IPv6"
            ),
            explanation: format!(
                "Only IPv4 is bound on {proto} port {port}: {list}. Any local user can bind [::]:{port} with IPV6_V6ONLY, or [::1]:{port}, \
                 and receive every IPv6 connection to it, including clients that resolve 'localhost' to ::1 first. \
                 Bind the service to [::] as well (or dual-stack), or make sure IPv6 clients cannot reach this port."
            ),
        },
        Unbound::AllIpv4 => Words {
            summary: format!(
                "{proto} port {port}{netns} is held for IPv6 only: any user can bind it on IPv4 and take all IPv4 traffic"
            ),
            explanation: format!(
                "Only IPv6 is bound on {proto} port {port}, on [::] with IPV6_V6ONLY: {list}. \
                 Any local user can bind 0.0.0.0:{port} and receive every IPv4 connection to this port. \
                 Turn IPV6_V6ONLY off on the [::] socket (dual-stack), or bind 0.0.0.0 too."
            ),
        },
        Unbound::LoopbackIpv6 => Words {
            summary: format!(
                "{proto} port {port}{netns} is served on 127.0.0.1 only: any user can bind [::1]:{port} and receive clients of 'localhost'"
            ),
            explanation: format!(
                "The service listens on IPv4 loopback only: {list}. Clients that connect to 'localhost' get ::1 first from getaddrinfo(3) \
                 (the address order of RFC 6724) and fall back to 127.0.0.1 only when ::1 refuses them. Any local user can bind [::1]:{port} \
                 and receive those clients, with whatever they send (passwords, queries). Also bind [::1]:{port}, or have clients connect to 127.0.0.1."
            ),
        },
        Unbound::LoopbackIpv4 => Words {
            summary: format!(
                "{proto} port {port}{netns} is served on ::1 only: any user can bind 127.0.0.1:{port}"
            ),
            explanation: format!(
                "The service listens on IPv6 loopback only: {list}. Clients of 'localhost' reach it on ::1, but a client that connects \
                 to 127.0.0.1 by number reaches whoever binds 127.0.0.1:{port}, which any local user can. Also bind 127.0.0.1:{port} \
                 if any client uses it."
            ),
        },
    }
}

/// Why sharing a multicast protocol's port is no takeover.
fn shared_by_design(service: MulticastService) -> String {
    format!(
        "This is {} ({}): its responders share the port with SO_REUSEADDR by design and each of them receives every multicast \
         query, so several responders, of any users, are normal. Unicast reaches only one of them, the most specific or \
         the most recently bound: the answers to the QU questions responders ask at startup (RFC 6762 section 5.4) and any \
         unicast query.",
        service.name(),
        service.reference()
    )
}

// The fact's fields, spelled out: the words read every one of them.
#[allow(clippy::too_many_arguments)]
pub(super) fn cross_user_port(
    snap: &Snapshot,
    proto: Proto,
    port: u16,
    members: &[&Socket],
    users: &[User],
    udp_overlap: bool,
    multicast: Option<MulticastService>,
    held_by_one: Option<u32>,
) -> Words {
    let proto = proto.name();
    let netns = members
        .first()
        .map(|s| describe::netns_of(snap, s))
        .unwrap_or_default();
    let names: Vec<String> = users
        .iter()
        .map(|u| describe::user(u.name, u.uid))
        .collect();
    let holder = held_by_one.and_then(|pid| {
        members
            .iter()
            .flat_map(|s| &s.holders)
            .find(|h| h.pid == pid)
            .map(|h| format!("{}[{pid}]", clean(&h.name)))
    });
    if let Some(holder) = holder {
        return Words {
            summary: format!(
                "{proto} port {port}{netns} has sockets of {} users, all held by {holder}",
                users.len()
            ),
            explanation: format!(
                "Sockets of different users share {proto} port {port}: {}. One process, {holder}, holds \
                 every one of them: a socket keeps the user that created it, and this service made some \
                 before it dropped privileges and some after (a daemon binding an address that appeared \
                 later does this). Whichever socket takes the traffic, it reaches the same service.",
                socket_list(members)
            ),
        };
    }
    let what = if let Some(service) = multicast {
        shared_by_design(service)
    } else if udp_overlap {
        "Their binds overlap: for unicast, the more specific or the most recently bound socket receives everything, \
         whichever user it belongs to; broadcast and multicast reach all of them. If one service should own the port, \
         run it on a privileged port or stop the others from binding it."
            .to_string()
    } else {
        "Their binds do not take the same traffic (different addresses, families or devices), but each user's service \
         depends on the other not widening its bind. If one service should own the port, \
         run it on a privileged port or stop the others from binding it."
            .to_string()
    };
    Words {
        summary: format!(
            "{proto} port {port}{netns} is bound by {} users: {}",
            users.len(),
            names.join(", ")
        ),
        explanation: format!(
            "Sockets of different users share {proto} port {port}: {}. {what}",
            socket_list(members)
        ),
    }
}

pub(super) fn udp_reuseaddr_takeover(
    snap: &Snapshot,
    s: &Socket,
    unprivileged_from: u16,
    multicast: Option<MulticastService>,
) -> Words {
    if let Some(service) = multicast {
        return Words {
            summary: format!(
                "{}{} answers {} with SO_REUSEADDR, as the protocol requires",
                endpoint(s),
                describe::netns_of(snap, s),
                service.name()
            ),
            explanation: format!(
                "{} set SO_REUSEADDR. {}",
                describe::socket(s),
                shared_by_design(service)
            ),
        };
    }
    Words {
        summary: format!(
            "{}{} has SO_REUSEADDR: any user can bind the same port and take its datagrams",
            endpoint(s),
            describe::netns_of(snap, s)
        ),
        explanation: format!(
            "{} set SO_REUSEADDR. For UDP that lets any local user, of any uid, bind the same port with SO_REUSEADDR \
             to the same or a more specific address; the newest or most specific socket then receives all unicast \
             datagrams (broadcast and multicast still reach both). Drop SO_REUSEADDR if the service does not need it, \
             use SO_REUSEPORT instead (it only shares with the same user), or move the service to a port below {unprivileged_from}.",
            describe::socket(s),
        ),
    }
}

pub(super) fn listen_race(snap: &Snapshot, s: &Socket) -> Words {
    Words {
        summary: format!(
            "{}{} is bound with SO_REUSEADDR but not listening: another user can bind it and listen first",
            endpoint(s),
            describe::netns_of(snap, s)
        ),
        explanation: format!(
            "{} is bound but has not called listen(). With SO_REUSEADDR on both sockets, any other user can bind the same \
             port too; whoever calls listen() first owns it, and the other's listen() fails with EADDRINUSE. \
             Call listen() right after bind(), or drop SO_REUSEADDR until then.",
            describe::socket(s)
        ),
    }
}

/// `dev` is written as the socket gives it, as it always was (issue 11 changes no output);
/// the text report and the JSON writers escape it on output.
pub(super) fn device_gap(snap: &Snapshot, s: &Socket, dev: &str) -> Words {
    Words {
        summary: format!(
            "{}{} is bound to device {dev}: any user can take the port on other devices",
            endpoint(s),
            describe::netns_of(snap, s)
        ),
        explanation: format!(
            "{} only receives traffic that arrives on {dev} (SO_BINDTODEVICE). Sockets bound to different devices never conflict, \
             and an unprivileged process may set SO_BINDTODEVICE once, so any local user can bind the same port on another \
             device and receive what arrives there.{local}",
            describe::socket(s),
            local = if dev == "lo" {
                " Bound to lo, it serves only connections made on this host."
            } else {
                " Connections made on this host arrive on lo and never reach it unless the client binds the same device."
            }
        ),
    }
}
