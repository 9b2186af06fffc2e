//! Facts about binds and ports: overlaps and who receives what (§4), reuseport groups, and
//! the ways another user could take traffic (§5).

use super::fact::{Delivery, Fact, MulticastService, Unbound, User};
use super::{PortUsers, port_is_unprivileged, unprivileged_start};
use crate::analyze::ports::{self, BindGroup};
use crate::model::addr::{effective_addr, is_wildcard};
use crate::model::{Family, Proto, Scope, Snapshot, Socket, State};
use std::collections::{BTreeMap, BTreeSet, HashMap};

pub fn facts(snap: &Snapshot) -> Vec<Fact<'_>> {
    let mut out = Vec::new();
    let port_users = PortUsers::new(snap);
    for g in ports::bind_groups(&snap.sockets) {
        // Clients on ports the kernel picked serve nothing another bind could take.
        let served: Vec<&Socket> = g
            .members
            .iter()
            .copied()
            .filter(|s| !port_users.is_client_port(snap, s))
            .collect();
        out.extend(wildcard_overlap(&g, &served));
        out.extend(reuseport_groups(&g.members));
        out.extend(family_split(snap, &g, &served));
        out.extend(cross_user_port(&served));
    }
    for s in snap
        .sockets
        .iter()
        .filter(|s| !port_users.is_client_port(snap, s))
    {
        out.extend(udp_reuseaddr_takeover(snap, s));
        out.extend(listen_race(snap, s));
        out.extend(device_gap(snap, s));
    }
    out
}

/// The multicast protocol whose responders these are, if the port is one and every socket
/// is bound to a wildcard or a multicast group (where each gets all the group's datagrams).
/// A socket on a specific unicast address takes unicast from the others: not by design.
fn responders(proto: Proto, port: u16, sockets: &[&Socket]) -> Option<MulticastService> {
    MulticastService::of(proto, port).filter(|_| {
        sockets.iter().all(|s| {
            let a = effective_addr(s.local_addr);
            is_wildcard(s.local_addr) || a.is_multicast()
        })
    })
}

/// The distinct socket users of `sockets`, by uid, each named as the first of its sockets
/// names it.
fn socket_users<'s>(sockets: &[&'s Socket]) -> Vec<User<'s>> {
    let uids: BTreeSet<u32> = sockets.iter().map(|s| s.uid).collect();
    uids.into_iter()
        .map(|uid| User {
            uid,
            name: sockets
                .iter()
                .find(|s| s.uid == uid)
                .and_then(|s| s.user.as_deref()),
        })
        .collect()
}

/// A wildcard and a more specific bind (or an IPv4 and a dual-stack wildcard) take traffic
/// of the same family on one port.
fn wildcard_overlap<'s>(g: &BindGroup<'s>, members: &[&'s Socket]) -> Option<Fact<'s>> {
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
    // Every socket named here is a member of the group (routes are of its binds), and ids
    // are unique: a map over the group finds them.
    let by_id: HashMap<&str, &Socket> = g.members.iter().map(|s| (s.id.0.as_str(), *s)).collect();
    let sockets: Vec<&Socket> = involved
        .iter()
        .filter_map(|id| by_id.get(id).copied())
        .collect();
    // The routes, the costly part of the lookup, only for a port that has an overlap.
    let routes = g
        .routes()
        .iter()
        .map(|r| Delivery {
            family: r.family,
            to: r.to,
            device: r.device.clone(),
            receivers: r
                .sockets
                .iter()
                .filter_map(|id| by_id.get(id.0.as_str()).copied())
                .collect(),
            how: r.how.clone(),
            certain: r.certain,
        })
        .collect();
    Some(Fact::WildcardOverlap {
        proto: g.proto,
        port: g.port,
        users: socket_users(&sockets),
        multicast: responders(g.proto, g.port, &sockets),
        sockets,
        routes,
    })
}

/// Several sockets share one address and port through SO_REUSEPORT.
fn reuseport_groups<'s>(members: &[&'s Socket]) -> Vec<Fact<'s>> {
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
        .filter_map(|members| {
            let first = members.first()?;
            Some(Fact::ReuseportGroup {
                proto: first.proto,
                uid: first.uid,
                members,
            })
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
fn family_split<'s>(
    snap: &Snapshot,
    g: &BindGroup<'s>,
    members: &[&'s Socket],
) -> Option<Fact<'s>> {
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
    // A multicast protocol's responders get its multicast whatever else binds the port:
    // another family's bind takes nothing from them.
    if responders(g.proto, g.port, &receivers).is_some() {
        return None;
    }
    let any_wildcard = receivers.iter().any(|s| is_wildcard(s.local_addr));
    // The loopback `localhost` resolves to: 127.0.0.1 and ::1 exactly (a service on
    // 127.0.0.53 is dialled by that number, and [::1] takes nothing from it).
    let localhost = |v4: bool| {
        receivers
            .iter()
            .any(|s| match effective_addr(s.local_addr) {
                std::net::IpAddr::V4(a) => v4 && a == std::net::Ipv4Addr::LOCALHOST,
                std::net::IpAddr::V6(a) => !v4 && a == std::net::Ipv6Addr::LOCALHOST,
            })
    };
    // A bind to specific addresses of one family loses nothing of the other: clients of
    // those addresses use their family. Only a wildcard leaves a whole family, and a
    // loopback bind leaves the other loopback, which `localhost` clients may try.
    let (bound, open) = match (v4, v6) {
        (true, false) if any_wildcard => (Family::Ipv4, Unbound::AllIpv6),
        (true, false) if localhost(true) => (Family::Ipv4, Unbound::LoopbackIpv6),
        (false, true) if any_wildcard => (Family::Ipv6, Unbound::AllIpv4),
        (false, true) if localhost(false) => (Family::Ipv6, Unbound::LoopbackIpv4),
        _ => return None,
    };
    Some(Fact::FamilySplit {
        proto: g.proto,
        port: g.port,
        bound,
        open,
        receivers,
    })
}

/// Sockets of different users (socket uids) share one port. When one process holds them
/// all, that is said (info: one service, whose sockets differ by when it dropped
/// privileges). When several do but the uids differ only as one process's own sockets do
/// (dnsmasq binding, as nobody, an address that appeared after it started, beside another
/// root service on the port), no user has a service of their own there: nothing to say.
fn cross_user_port<'s>(members: &[&'s Socket]) -> Option<Fact<'s>> {
    let users = socket_users(members);
    if users.len() < 2 {
        return None;
    }
    let held_by_one = common_holder(members);
    if held_by_one.is_none() && uids_joined_by_holders(members) {
        return None;
    }
    let first = members.first()?;
    // UDP binds that overlap across users: one of them receives the other's unicast.
    let udp_overlap = first.proto == Proto::Udp && udp_users_overlap(members);
    Some(Fact::CrossUserPort {
        proto: first.proto,
        port: first.local_port,
        multicast: responders(first.proto, first.local_port, members),
        held_by_one,
        members: members.to_vec(),
        users,
        udp_overlap,
    })
}

/// Whether two UDP binds of different users overlap: a wildcard and any bind of a family
/// it takes, or two binds of one address, on the same device or where either has none.
/// Only pairs with a wildcard or one address can overlap, so the specific binds are
/// compared within their address: linear for the usual port of many specific binds (one
/// per worker, or per address), where comparing every pair was quadratic.
fn udp_users_overlap(members: &[&Socket]) -> bool {
    let (wildcards, specific): (Vec<&Socket>, Vec<&Socket>) = members
        .iter()
        .copied()
        .partition(|s| is_wildcard(s.local_addr));
    if wildcards
        .iter()
        .any(|w| members.iter().any(|m| users_binds_overlap(w, m)))
    {
        return true;
    }
    let mut by_addr: HashMap<std::net::IpAddr, Vec<&Socket>> = HashMap::new();
    for s in specific {
        by_addr
            .entry(effective_addr(s.local_addr))
            .or_default()
            .push(s);
    }
    by_addr.values().filter(|same| same.len() > 1).any(|same| {
        same.iter()
            .any(|a| same.iter().any(|b| users_binds_overlap(a, b)))
    })
}

/// Whether UDP binds `a` and `b`, of different users, take traffic of one family to one
/// address on one device.
fn users_binds_overlap(a: &Socket, b: &Socket) -> bool {
    a.uid != b.uid
        && [Family::Ipv4, Family::Ipv6].iter().any(|&f| {
            ports::takes_family(a, f)
                && ports::takes_family(b, f)
                && (is_wildcard(a.local_addr)
                    || is_wildcard(b.local_addr)
                    || effective_addr(a.local_addr) == effective_addr(b.local_addr))
        })
        && (a.device.is_none() || b.device.is_none() || a.device == b.device)
}

/// Whether every socket uid of `members` is joined to the others through processes that
/// hold sockets of several of them (union-find over uids, one union per such process).
fn uids_joined_by_holders(members: &[&Socket]) -> bool {
    let mut parent: BTreeMap<u32, u32> = members.iter().map(|s| (s.uid, s.uid)).collect();
    fn root(parent: &BTreeMap<u32, u32>, mut u: u32) -> u32 {
        while let Some(&p) = parent.get(&u) {
            if p == u {
                break;
            }
            u = p;
        }
        u
    }
    let mut by_pid: BTreeMap<u32, BTreeSet<u32>> = BTreeMap::new();
    for s in members {
        for h in &s.holders {
            by_pid.entry(h.pid).or_default().insert(s.uid);
        }
    }
    for uids in by_pid.values() {
        let mut it = uids.iter();
        let Some(&first) = it.next() else { continue };
        for &u in it {
            let (a, b) = (root(&parent, first), root(&parent, u));
            if a != b {
                parent.insert(b, a);
            }
        }
    }
    let roots: BTreeSet<u32> = parent.keys().map(|&u| root(&parent, u)).collect();
    roots.len() == 1
}

/// The lowest pid that holds every one of `members`, when one does. A process unseen
/// (unreadable) might hold one too, but that only shares the socket: every member is in the
/// hands of the common holder, so no other service bound the port.
fn common_holder(members: &[&Socket]) -> Option<u32> {
    let mut common: Option<std::collections::BTreeSet<u32>> = None;
    for s in members {
        if s.holders.is_empty() {
            return None;
        }
        let pids: std::collections::BTreeSet<u32> = s.holders.iter().map(|h| h.pid).collect();
        common = Some(match common {
            None => pids,
            Some(c) => c.intersection(&pids).copied().collect(),
        });
    }
    common.and_then(|c| c.first().copied())
}

/// UDP with SO_REUSEADDR on an unprivileged port: any user can take its unicast (§5).
fn udp_reuseaddr_takeover<'s>(snap: &Snapshot, s: &'s Socket) -> Option<Fact<'s>> {
    if s.proto != Proto::Udp
        || s.remote_port.is_some()
        || s.options.reuseaddr != Some(true)
        || !port_is_unprivileged(snap, s)
    {
        return None;
    }
    Some(Fact::UdpReuseaddrTakeover {
        socket: s,
        unprivileged_from: unprivileged_start(snap, s),
        multicast: responders(s.proto, s.local_port, &[s]),
    })
}

/// A TCP socket bound but not listening, with SO_REUSEADDR: a listen() race (§3.5).
fn listen_race<'s>(snap: &Snapshot, s: &'s Socket) -> Option<Fact<'s>> {
    if s.proto != Proto::Tcp
        || s.state != State::Close
        || s.options.reuseaddr != Some(true)
        || !port_is_unprivileged(snap, s)
    {
        return None;
    }
    Some(Fact::ListenRace { socket: s })
}

/// A listener bound to one device: the port on other devices is free for anyone (§5).
fn device_gap<'s>(snap: &Snapshot, s: &'s Socket) -> Option<Fact<'s>> {
    let receives = s.state == State::Listen || (s.proto == Proto::Udp && s.remote_port.is_none());
    let device = s.device.as_deref()?;
    // A link-local address carries its device by nature; that is no gap.
    if !receives || s.scope == Scope::LinkLocal || !port_is_unprivileged(snap, s) {
        return None;
    }
    Some(Fact::DeviceGap { socket: s, device })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analyze::findings::tests::sock;
    use proptest::prelude::*;

    /// Every pair compared, as the overlap was first written.
    fn every_pair(members: &[&Socket]) -> bool {
        members
            .iter()
            .any(|a| members.iter().any(|b| users_binds_overlap(a, b)))
    }

    const ADDRS: [&str; 8] = [
        "0.0.0.0",
        "::",
        "::ffff:0.0.0.0",
        "127.0.0.1",
        "::ffff:127.0.0.1",
        "10.0.0.1",
        "::1",
        "224.0.0.251",
    ];

    proptest! {
        #[test]
        fn the_overlap_is_that_of_every_pair(
            picks in proptest::collection::vec((0..ADDRS.len(), 0u32..3, 0u8..3, any::<bool>()), 0..12)
        ) {
            let sockets: Vec<Socket> = picks
                .iter()
                .enumerate()
                .map(|(i, &(a, uid, dev, v6only))| {
                    let mut s = sock(&format!("s{i}"), Proto::Udp, ADDRS[a], 5353, uid);
                    s.device = (dev > 0).then(|| format!("eth{dev}"));
                    if s.family == Family::Ipv6 {
                        s.options.v6only = Some(v6only);
                    }
                    s
                })
                .collect();
            let members: Vec<&Socket> = sockets.iter().collect();
            prop_assert_eq!(udp_users_overlap(&members), every_pair(&members));
        }
    }
}
