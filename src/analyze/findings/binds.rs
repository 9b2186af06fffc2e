//! Findings about binds and ports: overlaps and who receives what (§4), reuseport groups,
//! and the ways another user could take traffic (§5).

use super::{finding, port_is_unprivileged};
use crate::analyze::describe::{self, endpoint};
use crate::analyze::ports::{self, PortGroup, Route};
use crate::model::FindingKind;
use crate::model::addr::{effective_addr, is_wildcard};
use crate::model::{Family, Finding, Proto, Scope, Severity, Snapshot, Socket, State};
use std::collections::{BTreeMap, BTreeSet, HashMap};

pub fn findings(snap: &Snapshot) -> Vec<Finding> {
    let by_id: HashMap<&str, &Socket> = snap.sockets.iter().map(|s| (s.id.0.as_str(), s)).collect();
    let mut out = Vec::new();
    for g in ports::port_groups(&snap.sockets) {
        let members: Vec<&Socket> = g
            .members
            .iter()
            .filter_map(|id| by_id.get(id.0.as_str()).copied())
            .collect();
        out.extend(wildcard_overlap(snap, &g, &members, &by_id));
        out.extend(reuseport_groups(snap, &members));
        out.extend(family_split(snap, &g, &members));
        out.extend(cross_user_port(snap, &members));
    }
    for s in &snap.sockets {
        out.extend(udp_reuseaddr_takeover(snap, s));
        out.extend(listen_race(snap, s));
        out.extend(device_gap(snap, s));
    }
    out
}

/// A route in words: `IPv4 to 127.0.0.1 → tcp 127.0.0.1:80 (api[12])`.
fn route_line(r: &Route, by_id: &HashMap<&str, &Socket>) -> String {
    let to = match r.to {
        Some(a) => format!("{} to {a}", r.family.name()),
        None => format!("{} to any other address", r.family.name()),
    };
    let dev = r
        .device
        .as_deref()
        .map(|d| format!(" arriving on {d}"))
        .unwrap_or_default();
    let receivers: Vec<String> = r
        .sockets
        .iter()
        .filter_map(|id| by_id.get(id.0.as_str()))
        .map(|s| format!("{} ({})", endpoint(s), describe::process_names(s)))
        .collect();
    let dest = if receivers.is_empty() {
        "nobody".to_string()
    } else {
        receivers.join(" + ")
    };
    format!("{to}{dev} → {dest}: {}", r.how)
}

/// A wildcard and a more specific bind (or an IPv4 and a dual-stack wildcard) take traffic
/// of the same family on one port: say who receives what.
fn wildcard_overlap(
    snap: &Snapshot,
    g: &PortGroup,
    members: &[&Socket],
    by_id: &HashMap<&str, &Socket>,
) -> Option<Finding> {
    let receivers: Vec<&Socket> = members
        .iter()
        .copied()
        .filter(|s| s.proto == Proto::Udp || s.state == State::Listen)
        .collect();
    let mut involved: BTreeSet<&str> = BTreeSet::new();
    for family in [Family::Ipv4, Family::Ipv6] {
        let takers: Vec<&Socket> = receivers
            .iter()
            .copied()
            .filter(|s| ports::takes_family(s, family))
            .collect();
        let wild: Vec<&Socket> = takers
            .iter()
            .copied()
            .filter(|s| is_wildcard(s.local_addr))
            .collect();
        if wild.is_empty() {
            continue;
        }
        let specific: Vec<&Socket> = takers
            .iter()
            .copied()
            .filter(|s| !is_wildcard(s.local_addr))
            .collect();
        // v4 wildcard and dual-stack `[::]` both take IPv4: the v4 one wins it.
        let mixed_wild = family == Family::Ipv4
            && wild.iter().any(|s| s.family == Family::Ipv4)
            && wild.iter().any(|s| {
                s.family == Family::Ipv6
                    && !matches!(effective_addr(s.local_addr), std::net::IpAddr::V4(_))
            });
        if !specific.is_empty() || mixed_wild {
            involved.extend(wild.iter().map(|s| s.id.0.as_str()));
            involved.extend(specific.iter().map(|s| s.id.0.as_str()));
        }
    }
    if involved.is_empty() {
        return None;
    }
    let socks: Vec<&Socket> = involved
        .iter()
        .filter_map(|id| by_id.get(id).copied())
        .collect();
    let uids: BTreeSet<u32> = socks.iter().map(|s| s.uid).collect();
    let severity = if uids.len() > 1 {
        Severity::Warning
    } else {
        Severity::Notice
    };
    let first = socks.first()?;
    let proto = if g.proto == Proto::Tcp { "tcp" } else { "udp" };
    let summary = format!(
        "{proto} port {}{}: {} overlapping binds ({}); exact addresses take their own traffic, the wildcard the rest",
        g.port,
        describe::netns_of(snap, first),
        socks.len(),
        socks
            .iter()
            .map(|s| endpoint(s))
            .collect::<Vec<_>>()
            .join(", ")
    );
    let mut text = format!(
        "These binds share {proto} port {} and cover some of the same addresses: {}. Who receives what:\n",
        g.port,
        socks
            .iter()
            .map(|s| describe::socket(s))
            .collect::<Vec<_>>()
            .join("; ")
    );
    for r in &g.routes {
        text.push_str("  - ");
        text.push_str(&route_line(r, by_id));
        text.push('\n');
    }
    if uids.len() > 1 {
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
    Some(finding(
        FindingKind::WildcardOverlap,
        severity,
        &socks,
        summary,
        text,
    ))
}

/// Several sockets share one address and port through SO_REUSEPORT.
fn reuseport_groups(snap: &Snapshot, members: &[&Socket]) -> Vec<Finding> {
    let mut groups: BTreeMap<(String, Option<String>), Vec<&Socket>> = BTreeMap::new();
    for s in members.iter().copied().filter(|s| {
        s.options.reuseport == Some(true) && (s.proto == Proto::Udp || s.state == State::Listen)
    }) {
        groups
            .entry((effective_addr(s.local_addr).to_string(), s.device.clone()))
            .or_default()
            .push(s);
    }
    groups
        .into_values()
        .filter(|g| g.len() > 1)
        .filter_map(|g| {
            let first = g.first()?;
            let procs: BTreeSet<String> = g.iter().map(|s| describe::process_names(s)).collect();
            let summary = format!(
                "{} sockets share {}{} through SO_REUSEPORT ({})",
                g.len(),
                endpoint(first),
                describe::netns_of(snap, first),
                procs.into_iter().collect::<Vec<_>>().join(", ")
            );
            let split = match first.proto {
                Proto::Tcp => "Each new connection goes to one member, chosen by a hash of its addresses and ports; a member that stops accepting keeps its share queued until clients time out.",
                Proto::Udp => "Each datagram goes to one member, chosen by a hash of its addresses and ports: one client's traffic always reaches the same member.",
            };
            let text = format!(
                "Members: {}. {split} Only sockets created by the same user (socket uid {}) can join this group; \
                 a member held by a process that is gone (a leaked fd) still takes its share.",
                g.iter().map(|s| describe::socket(s)).collect::<Vec<_>>().join("; "),
                first.uid
            );
            Some(finding(FindingKind::ReuseportGroup, Severity::Info, &g, summary, text))
        })
        .collect()
}

/// Whether the namespace of `s` has any IPv6 address (IPv6 enabled).
fn has_ipv6(snap: &Snapshot, s: &Socket) -> bool {
    snap.netns
        .iter()
        .find(|n| n.id == s.netns)
        .is_some_and(|n| {
            n.interfaces
                .iter()
                .any(|i| i.addresses.iter().any(|a| a.addr.is_ipv6()))
        })
}

/// A port held for one family only: another user can bind the other family and take it.
fn family_split(snap: &Snapshot, g: &PortGroup, members: &[&Socket]) -> Option<Finding> {
    let receivers: Vec<&Socket> = members
        .iter()
        .copied()
        .filter(|s| (s.proto == Proto::Udp && s.remote_port.is_none()) || s.state == State::Listen)
        .collect();
    let first = receivers.first()?;
    if !port_is_unprivileged(snap, first) || !has_ipv6(snap, first) {
        return None;
    }
    let v4 = receivers
        .iter()
        .any(|s| ports::takes_family(s, Family::Ipv4));
    let v6 = receivers
        .iter()
        .any(|s| ports::takes_family(s, Family::Ipv6));
    let proto = if g.proto == Proto::Tcp { "tcp" } else { "udp" };
    let list = receivers
        .iter()
        .map(|s| describe::socket(s))
        .collect::<Vec<_>>()
        .join("; ");
    match (v4, v6) {
        (true, false) => Some(finding(
            FindingKind::FamilySplit,
            Severity::Notice,
            &receivers,
            format!(
                "{proto} port {}{} is held for IPv4 only: any user can bind it on IPv6",
                g.port,
                describe::netns_of(snap, first)
            ),
            format!(
                "Only IPv4 is bound on {proto} port {}: {list}. Any local user can bind [::]:{} with IPV6_V6ONLY, or [::1]:{}, \
                 and receive every IPv6 connection to it, including clients that resolve 'localhost' to ::1 first. \
                 Bind the service to [::] as well (or dual-stack), or make sure IPv6 clients cannot reach this port.",
                g.port, g.port, g.port
            ),
        )),
        (false, true) => Some(finding(
            FindingKind::FamilySplit,
            Severity::Warning,
            &receivers,
            format!(
                "{proto} port {}{} is held for IPv6 only: any user can bind it on IPv4 and take all IPv4 traffic",
                g.port,
                describe::netns_of(snap, first)
            ),
            format!(
                "Only IPv6 is bound on {proto} port {} (with IPV6_V6ONLY, or a specific IPv6 address): {list}. \
                 Any local user can bind 0.0.0.0:{} and receive every IPv4 connection to this port. \
                 Turn IPV6_V6ONLY off on the [::] socket (dual-stack), or bind 0.0.0.0 too.",
                g.port, g.port
            ),
        )),
        _ => None,
    }
}

/// Sockets of different users (socket uids) share one port.
fn cross_user_port(snap: &Snapshot, members: &[&Socket]) -> Option<Finding> {
    let uids: BTreeSet<u32> = members.iter().map(|s| s.uid).collect();
    if uids.len() < 2 {
        return None;
    }
    let first = members.first()?;
    // UDP binds that overlap across users: one of them receives the other's unicast.
    let udp_overlap = first.proto == Proto::Udp
        && members.iter().any(|a| {
            members.iter().any(|b| {
                a.uid != b.uid
                    && [Family::Ipv4, Family::Ipv6].iter().any(|&f| {
                        ports::takes_family(a, f)
                            && ports::takes_family(b, f)
                            && (is_wildcard(a.local_addr)
                                || is_wildcard(b.local_addr)
                                || effective_addr(a.local_addr) == effective_addr(b.local_addr))
                    })
                    && (a.device.is_none() || b.device.is_none() || a.device == b.device)
            })
        });
    let users: Vec<String> = uids
        .iter()
        .map(|u| {
            let name = members
                .iter()
                .find(|s| s.uid == *u)
                .and_then(|s| s.user.as_deref());
            describe::user(name, *u)
        })
        .collect();
    let proto = if first.proto == Proto::Tcp {
        "tcp"
    } else {
        "udp"
    };
    let (severity, what) = if udp_overlap {
        (
            Severity::Warning,
            "Their binds overlap: for unicast, the more specific or the most recently bound socket receives everything, \
             whichever user it belongs to; broadcast and multicast reach all of them.",
        )
    } else {
        (
            Severity::Notice,
            "Their binds do not take the same traffic (different addresses, families or devices), but each user's service \
             depends on the other not widening its bind.",
        )
    };
    Some(finding(
        FindingKind::CrossUserPort,
        severity,
        members,
        format!(
            "{proto} port {}{} is bound by {} users: {}",
            first.local_port,
            describe::netns_of(snap, first),
            uids.len(),
            users.join(", ")
        ),
        format!(
            "Sockets of different users share {proto} port {}: {}. {what} If one service should own the port, \
             run it on a privileged port or stop the others from binding it.",
            first.local_port,
            members
                .iter()
                .map(|s| describe::socket(s))
                .collect::<Vec<_>>()
                .join("; ")
        ),
    ))
}

/// UDP with SO_REUSEADDR on an unprivileged port: any user can take its unicast (§5).
fn udp_reuseaddr_takeover(snap: &Snapshot, s: &Socket) -> Option<Finding> {
    if s.proto != Proto::Udp
        || s.remote_port.is_some()
        || s.options.reuseaddr != Some(true)
        || !port_is_unprivileged(snap, s)
    {
        return None;
    }
    Some(finding(
        FindingKind::UdpReuseaddrTakeover,
        Severity::Warning,
        &[s],
        format!(
            "{}{} has SO_REUSEADDR: any user can bind the same port and take its datagrams",
            endpoint(s),
            describe::netns_of(snap, s)
        ),
        format!(
            "{} set SO_REUSEADDR. For UDP that lets any local user, of any uid, bind the same port with SO_REUSEADDR \
             to the same or a more specific address; the newest or most specific socket then receives all unicast \
             datagrams (broadcast and multicast still reach both). Drop SO_REUSEADDR if the service does not need it, \
             use SO_REUSEPORT instead (it only shares with the same user), or move the service to a port below {}.",
            describe::socket(s),
            super::unprivileged_start(snap, s)
        ),
    ))
}

/// A TCP socket bound but not listening, with SO_REUSEADDR: a listen() race (§3.5).
fn listen_race(snap: &Snapshot, s: &Socket) -> Option<Finding> {
    if s.proto != Proto::Tcp
        || s.state != State::Close
        || s.options.reuseaddr != Some(true)
        || !port_is_unprivileged(snap, s)
    {
        return None;
    }
    Some(finding(
        FindingKind::ListenRace,
        Severity::Notice,
        &[s],
        format!(
            "{}{} is bound with SO_REUSEADDR but not listening: another user can bind it and listen first",
            endpoint(s),
            describe::netns_of(snap, s)
        ),
        format!(
            "{} is bound but has not called listen(). With SO_REUSEADDR on both sockets, any other user can bind the same \
             port too; whoever calls listen() first owns it, and the other's listen() fails with EADDRINUSE. \
             Call listen() right after bind(), or drop SO_REUSEADDR until then.",
            describe::socket(s)
        ),
    ))
}

/// A listener bound to one device: the port on other devices is free for anyone (§5).
fn device_gap(snap: &Snapshot, s: &Socket) -> Option<Finding> {
    let receives = s.state == State::Listen || (s.proto == Proto::Udp && s.remote_port.is_none());
    let dev = s.device.as_deref()?;
    // A link-local address carries its device by nature; that is no gap.
    if !receives || s.scope == Scope::LinkLocal || !port_is_unprivileged(snap, s) {
        return None;
    }
    Some(finding(
        FindingKind::DeviceGap,
        Severity::Notice,
        &[s],
        format!(
            "{}{} is bound to device {dev}: any user can take the port on other devices",
            endpoint(s),
            describe::netns_of(snap, s)
        ),
        format!(
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
    ))
}
