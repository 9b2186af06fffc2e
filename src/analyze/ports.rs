//! Port groups: the sockets bound to one (namespace, protocol, port), and a small routing
//! table of who receives which traffic, by the kernel's lookup (linux-bind-semantics.md §4):
//! an exact address before the wildcard (two lookup passes), an IPv4 socket before a
//! dual-stack one for IPv4, a device-bound socket only for traffic arriving on its device, a
//! SO_REUSEPORT group split by a hash, and among identical UDP binds the newest one.

use crate::model::addr::{effective_addr, is_wildcard};
use crate::model::{Family, NetnsId, Proto, Socket, SocketId, State};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::net::IpAddr;

/// One route of a port group: traffic of a family, to an address (or any other), perhaps
/// only when arriving on a device, goes to these sockets, for this reason.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Route {
    pub family: Family,
    /// The destination address; `None` for "any other local address".
    pub to: Option<IpAddr>,
    /// Only traffic arriving on this device.
    pub device: Option<String>,
    /// The receiving sockets: one, a SO_REUSEPORT group, or none (refused).
    pub sockets: Vec<SocketId>,
    pub how: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PortGroup {
    pub netns: NetnsId,
    pub proto: Proto,
    pub port: u16,
    /// Every socket bound to the port (listeners, bound-only TCP, UDP).
    pub members: Vec<SocketId>,
    pub routes: Vec<Route>,
}

/// Whether a socket holds the port as a bind (not a connection or request of a listener).
pub fn is_bind(s: &Socket) -> bool {
    match s.proto {
        Proto::Tcp => matches!(s.state, State::Listen | State::Close),
        Proto::Udp => true,
    }
}

/// Whether a socket receives new traffic for its port: TCP listeners, and UDP sockets.
fn receives(s: &Socket) -> bool {
    match s.proto {
        Proto::Tcp => s.state == State::Listen,
        Proto::Udp => true,
    }
}

/// Whether `s` can receive traffic of `family` at all.
pub fn takes_family(s: &Socket, family: Family) -> bool {
    let eff = effective_addr(s.local_addr);
    match family {
        // IPv4: IPv4 sockets, v4-mapped binds, and `[::]` without V6ONLY.
        Family::Ipv4 => {
            matches!(eff, IpAddr::V4(_))
                || (eff.is_unspecified()
                    && s.family == Family::Ipv6
                    && s.options.v6only != Some(true))
        }
        // IPv6: IPv6 sockets whose address is not v4-mapped.
        Family::Ipv6 => s.family == Family::Ipv6 && matches!(eff, IpAddr::V6(_)),
    }
}

/// Groups the binds of a snapshot by (namespace, protocol, port), each with its routes.
pub fn port_groups(sockets: &[Socket]) -> Vec<PortGroup> {
    let mut groups: BTreeMap<(NetnsId, Proto, u16), Vec<&Socket>> = BTreeMap::new();
    for s in sockets.iter().filter(|s| is_bind(s)) {
        groups
            .entry((s.netns, s.proto, s.local_port))
            .or_default()
            .push(s);
    }
    groups
        .into_iter()
        .map(|((netns, proto, port), members)| PortGroup {
            netns,
            proto,
            port,
            members: members.iter().map(|s| s.id.clone()).collect(),
            routes: routes(proto, &members),
        })
        .collect()
}

fn routes(proto: Proto, members: &[&Socket]) -> Vec<Route> {
    let receivers: Vec<&Socket> = members.iter().copied().filter(|s| receives(s)).collect();
    let mut out = Vec::new();
    for family in [Family::Ipv4, Family::Ipv6] {
        let takers: Vec<&Socket> = receivers
            .iter()
            .copied()
            .filter(|s| takes_family(s, family))
            .collect();
        // Pass 1: every exact address bound on the port.
        let mut exact: Vec<IpAddr> = takers
            .iter()
            .map(|s| effective_addr(s.local_addr))
            .filter(|a| !a.is_unspecified())
            .collect();
        exact.sort();
        exact.dedup();
        for addr in exact {
            let cands: Vec<&Socket> = takers
                .iter()
                .copied()
                .filter(|s| effective_addr(s.local_addr) == addr)
                .collect();
            let why = "an exact-address bind is found before any wildcard (first lookup pass)";
            out.extend(choose(proto, family, Some(addr), &cands, why));
        }
        // Pass 2: the wildcards.
        let wild: Vec<&Socket> = takers
            .iter()
            .copied()
            .filter(|s| is_wildcard(s.local_addr))
            .collect();
        if wild.is_empty() {
            if !receivers.is_empty() {
                out.push(Route {
                    family,
                    to: None,
                    device: None,
                    sockets: Vec::new(),
                    how: format!(
                        "no socket takes {} on this port: {} (and the port is free to bind for that family)",
                        family.name(),
                        match proto {
                            Proto::Tcp => "connections are refused",
                            Proto::Udp => "datagrams are dropped",
                        }
                    ),
                });
            }
            continue;
        }
        let why = "the wildcard bind takes every other local address (second lookup pass)";
        out.extend(choose(proto, family, None, &wild, why));
    }
    out
}

/// Among candidates for one destination: device-bound ones take their device's traffic,
/// the rest take everything else; within each set the kernel's score and reuseport decide.
fn choose(
    proto: Proto,
    family: Family,
    to: Option<IpAddr>,
    cands: &[&Socket],
    why: &str,
) -> Vec<Route> {
    let mut out = Vec::new();
    let mut devices: Vec<&str> = cands.iter().filter_map(|s| s.device.as_deref()).collect();
    devices.sort();
    devices.dedup();
    let unbound: Vec<&Socket> = cands
        .iter()
        .copied()
        .filter(|s| s.device.is_none())
        .collect();
    for dev in devices {
        let on_dev: Vec<&Socket> = cands
            .iter()
            .copied()
            .filter(|s| s.device.as_deref() == Some(dev))
            .collect();
        let (ids, how) = pick(proto, family, &on_dev);
        let mut how =
            format!("{why}; bound to {dev}, it only sees traffic arriving on {dev}; {how}");
        if !unbound.is_empty() {
            how.push_str(
                "; an unbound socket shares this address through SO_REUSEPORT: on 6.18 the \
                 group that called listen() or bind() last is found first and wins",
            );
        }
        out.push(Route {
            family,
            to,
            device: Some(dev.to_string()),
            sockets: ids,
            how,
        });
    }
    if !unbound.is_empty() {
        let (ids, how) = pick(proto, family, &unbound);
        out.push(Route {
            family,
            to,
            device: None,
            sockets: ids,
            how: format!("{why}; {how}"),
        });
    }
    out
}

/// The receivers among sockets that match equally well, and why.
fn pick(proto: Proto, family: Family, cands: &[&Socket]) -> (Vec<SocketId>, String) {
    // For IPv4 an IPv4 socket scores one more than a dual-stack IPv6 one (compute_score).
    let v4: Vec<&Socket> = cands
        .iter()
        .copied()
        .filter(|s| s.family == Family::Ipv4)
        .collect();
    let (best, note) = if family == Family::Ipv4 && !v4.is_empty() && v4.len() < cands.len() {
        (v4, "an IPv4 socket beats a dual-stack IPv6 one for IPv4; ")
    } else {
        (cands.to_vec(), "")
    };
    let ids: Vec<SocketId> = best.iter().map(|s| s.id.clone()).collect();
    let connected: Vec<&Socket> = best
        .iter()
        .copied()
        .filter(|s| s.remote_port.is_some())
        .collect();
    let how = if best.len() == 1 {
        format!("{note}this socket receives it")
    } else if best.iter().all(|s| s.options.reuseport == Some(true)) && connected.is_empty() {
        match proto {
            Proto::Tcp => format!(
                "{note}a SO_REUSEPORT group of {}: each connection goes to one member by a hash of its addresses and ports",
                best.len()
            ),
            Proto::Udp => format!(
                "{note}a SO_REUSEPORT group of {}: each datagram goes to one member by a hash of its addresses and ports (one sender's port always reaches the same member)",
                best.len()
            ),
        }
    } else if proto == Proto::Udp {
        let newest = best
            .iter()
            .max_by_key(|s| s.inode)
            .map(|s| s.id.to_string());
        format!(
            "{note}{} identical UDP binds{}: the most recently bound one receives all unicast \
             (bindscope cannot see bind order; the newest socket is probably {}), broadcast \
             and multicast reach all of them",
            best.len(),
            if connected.is_empty() {
                String::new()
            } else {
                format!(
                    ", {} of them connected: those receive only from their peer, first",
                    connected.len()
                )
            },
            newest.unwrap_or_default()
        )
    } else {
        format!(
            "{note}{} sockets match equally and are not one SO_REUSEPORT group (options unknown?): the kernel picks the first in its hash bucket",
            best.len()
        )
    };
    (ids, how)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::socket;

    fn sock(id: &str, proto: Proto, addr: &str, port: u16, v6only: Option<bool>) -> Socket {
        let mut s = socket();
        s.id = SocketId(id.into());
        s.proto = proto;
        s.local_addr = addr.parse().expect("addr");
        s.family = if s.local_addr.is_ipv4() {
            Family::Ipv4
        } else {
            Family::Ipv6
        };
        s.local_port = port;
        s.device = None;
        s.options.v6only = v6only;
        s.options.reuseport = Some(false);
        s.state = if proto == Proto::Tcp {
            State::Listen
        } else {
            State::Close
        };
        s
    }

    fn route<'a>(g: &'a PortGroup, family: Family, to: Option<&str>) -> &'a Route {
        let to: Option<IpAddr> = to.map(|a| a.parse().expect("addr"));
        g.routes
            .iter()
            .find(|r| r.family == family && r.to == to && r.device.is_none())
            .unwrap_or_else(|| panic!("no route {family:?} {to:?} in {:#?}", g.routes))
    }

    fn ids(r: &Route) -> Vec<&str> {
        r.sockets.iter().map(|s| s.0.as_str()).collect()
    }

    #[test]
    fn exact_beats_wildcard_and_v4_beats_dual_stack() {
        let g = port_groups(&[
            sock("wild4", Proto::Tcp, "0.0.0.0", 80, None),
            sock("lo", Proto::Tcp, "127.0.0.1", 80, None),
            sock("dual", Proto::Tcp, "::", 80, Some(false)),
        ]);
        assert_eq!(g.len(), 1);
        let g = &g[0];
        assert_eq!(g.members.len(), 3);
        assert_eq!(ids(route(g, Family::Ipv4, Some("127.0.0.1"))), vec!["lo"]);
        let other4 = route(g, Family::Ipv4, None);
        assert_eq!(ids(other4), vec!["wild4"]);
        assert!(
            other4.how.contains("IPv4 socket beats a dual-stack"),
            "{}",
            other4.how
        );
        assert_eq!(ids(route(g, Family::Ipv6, None)), vec!["dual"]);
    }

    #[test]
    fn v6only_wildcard_leaves_ipv4_to_nobody() {
        let g = &port_groups(&[sock("six", Proto::Tcp, "::", 9100, Some(true))])[0];
        let r = route(g, Family::Ipv4, None);
        assert!(r.sockets.is_empty());
        assert!(r.how.contains("free to bind"), "{}", r.how);
        assert_eq!(ids(route(g, Family::Ipv6, None)), vec!["six"]);
    }

    #[test]
    fn reuseport_group_splits_and_udp_newest_wins() {
        let mut a = sock("a", Proto::Tcp, "0.0.0.0", 8080, None);
        let mut b = sock("b", Proto::Tcp, "0.0.0.0", 8080, None);
        a.options.reuseport = Some(true);
        b.options.reuseport = Some(true);
        let g = &port_groups(&[a, b])[0];
        let r = route(g, Family::Ipv4, None);
        assert_eq!(ids(r), vec!["a", "b"]);
        assert!(r.how.contains("SO_REUSEPORT group of 2"), "{}", r.how);

        let mut u1 = sock("u1", Proto::Udp, "0.0.0.0", 5353, None);
        let mut u2 = sock("u2", Proto::Udp, "0.0.0.0", 5353, None);
        u1.inode = 10;
        u2.inode = 20;
        u1.options.reuseaddr = Some(true);
        u2.options.reuseaddr = Some(true);
        let g = &port_groups(&[u1, u2])[0];
        let r = route(g, Family::Ipv4, None);
        assert!(r.how.contains("most recently bound"), "{}", r.how);
        assert!(r.how.contains("probably u2"), "{}", r.how);
    }

    #[test]
    fn device_bound_members_get_their_own_route_and_namespaces_do_not_mix() {
        let mut d = sock("dev", Proto::Tcp, "0.0.0.0", 9090, None);
        d.device = Some("eth1".into());
        let mut other_ns = sock("ns2", Proto::Tcp, "0.0.0.0", 9090, None);
        other_ns.netns = NetnsId(2);
        let gs = port_groups(&[d, other_ns]);
        assert_eq!(gs.len(), 2, "one group per namespace");
        let r = gs[0]
            .routes
            .iter()
            .find(|r| r.device.as_deref() == Some("eth1"))
            .expect("device route");
        assert_eq!(ids(r), vec!["dev"]);
        assert!(r.how.contains("only sees traffic arriving on eth1"));
    }

    #[test]
    fn bound_only_and_connections_are_not_receivers() {
        let mut b = sock("bound", Proto::Tcp, "0.0.0.0", 7000, None);
        b.state = State::Close;
        let mut est = sock("conn", Proto::Tcp, "10.0.0.1", 7000, None);
        est.state = State::Established;
        let gs = port_groups(&[b, est]);
        assert_eq!(gs[0].members.len(), 1, "the connection is not a member");
        assert!(
            gs[0].routes.is_empty(),
            "nothing receives: {:?}",
            gs[0].routes
        );
    }
}
