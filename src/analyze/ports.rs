//! Port groups: the sockets bound to one (namespace, protocol, port), and who receives which
//! traffic, by the kernel's lookup as [`crate::analyze::lookup`] computes it (docs/lookup):
//! the Ports view, the overlap findings and `bindscope ports` all read these routes.

use crate::analyze::lookup;
pub use crate::analyze::lookup::Route;
use crate::model::addr::effective_addr;
use crate::model::{Family, NetnsId, Proto, Socket, SocketId, State};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::net::IpAddr;

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
    bind_groups(sockets)
        .into_iter()
        .map(|g| PortGroup {
            netns: g.netns,
            proto: g.proto,
            port: g.port,
            members: g.members.iter().map(|s| s.id.clone()).collect(),
            routes: g.routes(),
        })
        .collect()
}

/// The sockets bound to one (namespace, protocol, port), borrowed, with their routes
/// computed only when asked: the findings need them for the few ports where binds overlap,
/// and at 50,000 sockets the routes of every port cost more than the rest of the analysis.
#[derive(Debug, Clone)]
pub struct BindGroup<'s> {
    pub netns: NetnsId,
    pub proto: Proto,
    pub port: u16,
    /// In the order of the snapshot.
    pub members: Vec<&'s Socket>,
}

impl BindGroup<'_> {
    /// Who receives which traffic on this port ([`PortGroup::routes`]).
    pub fn routes(&self) -> Vec<Route> {
        lookup::routes(self.proto, &self.members)
    }
}

/// The binds of a snapshot by (namespace, protocol, port), in that order.
pub fn bind_groups(sockets: &[Socket]) -> Vec<BindGroup<'_>> {
    let mut groups: BTreeMap<(NetnsId, Proto, u16), Vec<&Socket>> = BTreeMap::new();
    for s in sockets.iter().filter(|s| is_bind(s)) {
        groups
            .entry((s.netns, s.proto, s.local_port))
            .or_default()
            .push(s);
    }
    groups
        .into_iter()
        .map(|((netns, proto, port), members)| BindGroup {
            netns,
            proto,
            port,
            members,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::receiving;

    fn sock(id: &str, proto: Proto, addr: &str, port: u16, v6only: Option<bool>) -> Socket {
        let mut s = receiving(id, proto, addr.parse().expect("addr"), port);
        s.device = None;
        s.options.v6only = v6only;
        s.options.reuseport = Some(false);
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
            other4.how.contains("IPv4 socket scores above a dual-stack"),
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

        // Identical UDP binds: the first in the kernel's chain (the newest bind) takes all
        // (docs/lookup U1, U5). The inode does not tell which that is (equal to the hashing
        // order in 46 of 204 measured runs); the dump position does.
        let mut u1 = sock("u1", Proto::Udp, "0.0.0.0", 5353, None);
        let mut u2 = sock("u2", Proto::Udp, "0.0.0.0", 5353, None);
        u1.inode = 10;
        u2.inode = 20;
        u1.options.reuseaddr = Some(true);
        u2.options.reuseaddr = Some(true);
        let g = &port_groups(&[u1.clone(), u2.clone()])[0];
        let r = route(g, Family::Ipv4, None);
        assert!(!r.certain, "no dump positions: {r:?}");
        assert_eq!(ids(r), vec!["u1", "u2"]);
        (u1.dump_pos, u2.dump_pos) = (Some(1), Some(0));
        let g = &port_groups(&[u1, u2])[0];
        let r = route(g, Family::Ipv4, None);
        assert!(r.certain, "{r:?}");
        assert_eq!(ids(r), vec!["u2"]);
        assert!(
            r.how.contains("first in the kernel's chain wins"),
            "{}",
            r.how
        );
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
