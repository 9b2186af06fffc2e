//! Pure judgements about addresses: the scope a bind covers, whether its address is usable
//! on the host, and which listener the kernel's lookup would hand a request to.
//! The rules are linux-bind-semantics.md §2 (scope), §7 (address validity) and §4 (lookup).

use crate::collect::raw::RawAddr;
use crate::model::addr::{effective_addr, v6_is_link_local};
use crate::model::{AddressState, Family};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

// IFA_F_* from include/uapi/linux/if_addr.h.
pub const IFA_F_TEMPORARY: u32 = 0x01;
pub const IFA_F_NODAD: u32 = 0x02;
pub const IFA_F_OPTIMISTIC: u32 = 0x04;
pub const IFA_F_DADFAILED: u32 = 0x08;
pub const IFA_F_DEPRECATED: u32 = 0x20;
pub const IFA_F_TENTATIVE: u32 = 0x40;
pub const IFA_F_PERMANENT: u32 = 0x80;
pub const IFA_F_NOPREFIXROUTE: u32 = 0x200;

fn in_prefix_v4(a: Ipv4Addr, net: Ipv4Addr, len: u8) -> bool {
    if len == 0 {
        return true;
    }
    let mask = u32::MAX
        .checked_shl(32 - u32::from(len.min(32)))
        .unwrap_or(0);
    u32::from(a) & mask == u32::from(net) & mask
}

fn broadcast_v4(net: Ipv4Addr, len: u8) -> Option<Ipv4Addr> {
    if len >= 31 {
        return None;
    }
    let host_bits = u32::MAX >> u32::from(len);
    Some(Ipv4Addr::from(u32::from(net) | host_bits))
}

/// Whether the bound address is usable now, judged against the namespace's addresses.
/// `ifindex` is the socket's bound device (0: none); a link-local IPv6 address is only
/// matched on that device.
pub fn address_state(addr: IpAddr, ifindex: u32, addrs: &[RawAddr]) -> AddressState {
    match effective_addr(addr) {
        IpAddr::V4(a) => address_state_v4(a, addrs),
        IpAddr::V6(a) => address_state_v6(a, ifindex, addrs),
    }
}

fn address_state_v4(a: Ipv4Addr, addrs: &[RawAddr]) -> AddressState {
    if a.is_unspecified() {
        return AddressState::Any;
    }
    // RTN_MULTICAST and RTN_BROADCAST are accepted by inet_addr_valid_or_nonlocal (§2).
    if a.is_multicast() || a.is_broadcast() {
        return AddressState::Local;
    }
    for ra in addrs {
        let IpAddr::V4(own) = ra.addr else { continue };
        if own == a {
            return AddressState::Local;
        }
        // A host-scope address (127.0.0.1/8 on lo) makes its whole prefix local: the
        // `local 127.0.0.0/8` route.
        if ra.scope == 254 && in_prefix_v4(a, own, ra.prefix_len) {
            return AddressState::Local;
        }
        if broadcast_v4(own, ra.prefix_len) == Some(a) {
            return AddressState::Local;
        }
    }
    AddressState::Nonlocal
}

fn address_state_v6(a: Ipv6Addr, ifindex: u32, addrs: &[RawAddr]) -> AddressState {
    if a.is_unspecified() {
        return AddressState::Any;
    }
    if a.is_multicast() {
        return AddressState::Local;
    }
    let link_local = v6_is_link_local(&a);
    let found = addrs.iter().find(|ra| {
        ra.addr == IpAddr::V6(a) && (!link_local || ifindex == 0 || ra.index == ifindex)
    });
    match found {
        None => AddressState::Nonlocal,
        Some(ra) => v6_flags_state(ra.flags),
    }
}

/// The bindability of an IPv6 address from its IFA_F_* flags. A dadfailed address keeps
/// TENTATIVE; an optimistic one is bindable while DAD runs (§2).
pub fn v6_flags_state(flags: u32) -> AddressState {
    if flags & IFA_F_DADFAILED != 0 {
        AddressState::Dadfailed
    } else if flags & IFA_F_OPTIMISTIC != 0 {
        AddressState::Optimistic
    } else if flags & IFA_F_TENTATIVE != 0 {
        AddressState::Tentative
    } else if flags & IFA_F_DEPRECATED != 0 {
        AddressState::Deprecated
    } else {
        AddressState::Local
    }
}

/// A TCP listener as the request lookup sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ListenerKey {
    pub family: Family,
    pub addr: IpAddr,
    pub port: u16,
    pub ifindex: u32,
    /// Unknown counts as dual-stack (the reading under which it can receive IPv4).
    pub v6only: Option<bool>,
}

/// A request socket (SYN_RECV) as inet_diag reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RequestKey {
    pub addr: IpAddr,
    pub port: u16,
    pub ifindex: u32,
}

/// Which of `listeners` the kernel's listener lookup would pick for a connection to the
/// request's local address (§4.1): an exact-address pass before the wildcard pass; within a
/// pass the best score (device-bound +1, IPv4 socket +1 for IPv4 traffic). Returns every
/// listener with the best score: more than one means a SO_REUSEPORT group, whose member is
/// chosen by a hash that inet_diag does not show.
pub fn pick_listeners(listeners: &[ListenerKey], req: RequestKey) -> Vec<usize> {
    let target = effective_addr(req.addr);
    // An IPv6 request on `::` (a v4 connection through a dual-stack listener can show up
    // this way) says nothing about the address: only the wildcard pass applies.
    let unspecified = target.is_unspecified();
    let is_v4 = matches!(target, IpAddr::V4(_));
    let dev_ok = |l: &ListenerKey| l.ifindex == 0 || l.ifindex == req.ifindex;
    let score = |l: &ListenerKey| {
        let mut s = if l.ifindex != 0 { 2 } else { 1 };
        if is_v4 && l.family == Family::Ipv4 {
            s += 1;
        }
        s
    };
    let exact = |l: &ListenerKey| -> bool {
        let la = effective_addr(l.addr);
        !unspecified && la == target && !la.is_unspecified() && family_can_take(l, is_v4)
    };
    let wildcard = |l: &ListenerKey| -> bool {
        match effective_addr(l.addr) {
            IpAddr::V4(a) => a.is_unspecified() && is_v4,
            // `[::]` V6ONLY takes only IPv6; dual-stack takes both.
            IpAddr::V6(a) => a.is_unspecified() && (!is_v4 || l.v6only != Some(true)),
        }
    };
    for pass in [&exact as &dyn Fn(&ListenerKey) -> bool, &wildcard] {
        let candidates: Vec<usize> = listeners
            .iter()
            .enumerate()
            .filter(|(_, l)| l.port == req.port && dev_ok(l) && pass(l))
            .map(|(i, _)| i)
            .collect();
        if let Some(best) = candidates.iter().map(|&i| score(&listeners[i])).max() {
            return candidates
                .into_iter()
                .filter(|&i| score(&listeners[i]) == best)
                .collect();
        }
    }
    Vec::new()
}

/// An IPv4 connection reaches IPv4 sockets and v4-mapped or dual-stack IPv6 sockets; an
/// IPv6 connection reaches only IPv6 sockets with a non-mapped address.
fn family_can_take(l: &ListenerKey, is_v4: bool) -> bool {
    match (is_v4, l.family) {
        (true, Family::Ipv4) => true,
        (true, Family::Ipv6) => matches!(effective_addr(l.addr), IpAddr::V4(_)),
        (false, Family::Ipv4) => false,
        (false, Family::Ipv6) => matches!(effective_addr(l.addr), IpAddr::V6(_)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().expect("test address")
    }

    fn raddr(index: u32, a: &str, len: u8, scope: u8, flags: u32) -> RawAddr {
        RawAddr {
            index,
            addr: ip(a),
            prefix_len: len,
            scope,
            flags,
        }
    }

    #[test]
    fn address_states() {
        let addrs = vec![
            raddr(1, "127.0.0.1", 8, 254, IFA_F_PERMANENT),
            raddr(1, "::1", 128, 254, IFA_F_PERMANENT),
            raddr(2, "10.9.9.1", 24, 0, IFA_F_PERMANENT),
            raddr(2, "2001:db8::5", 64, 0, IFA_F_TENTATIVE),
            raddr(2, "2001:db8::6", 64, 0, IFA_F_TENTATIVE | IFA_F_DADFAILED),
            raddr(2, "2001:db8::7", 64, 0, IFA_F_OPTIMISTIC | IFA_F_TENTATIVE),
            raddr(2, "2001:db8::8", 64, 0, IFA_F_DEPRECATED),
            raddr(2, "fe80::1", 64, 253, IFA_F_PERMANENT),
        ];
        let st = |a: &str, dev: u32| address_state(ip(a), dev, &addrs);
        assert_eq!(st("0.0.0.0", 0), AddressState::Any);
        assert_eq!(st("::", 0), AddressState::Any);
        assert_eq!(st("127.0.0.1", 0), AddressState::Local);
        assert_eq!(st("127.0.0.2", 0), AddressState::Local);
        assert_eq!(st("::ffff:127.0.0.2", 0), AddressState::Local);
        assert_eq!(st("10.9.9.1", 0), AddressState::Local);
        assert_eq!(st("10.9.9.255", 0), AddressState::Local);
        assert_eq!(st("10.9.9.2", 0), AddressState::Nonlocal);
        assert_eq!(st("192.0.2.77", 0), AddressState::Nonlocal);
        assert_eq!(st("224.0.0.251", 0), AddressState::Local);
        assert_eq!(st("::1", 0), AddressState::Local);
        assert_eq!(st("2001:db8::5", 0), AddressState::Tentative);
        assert_eq!(st("2001:db8::6", 0), AddressState::Dadfailed);
        assert_eq!(st("2001:db8::7", 0), AddressState::Optimistic);
        assert_eq!(st("2001:db8::8", 0), AddressState::Deprecated);
        assert_eq!(st("2001:db8::9", 0), AddressState::Nonlocal);
        assert_eq!(st("fe80::1", 2), AddressState::Local);
        assert_eq!(st("fe80::1", 3), AddressState::Nonlocal);
    }

    fn lk(family: Family, a: &str, port: u16, dev: u32, v6only: Option<bool>) -> ListenerKey {
        ListenerKey {
            family,
            addr: ip(a),
            port,
            ifindex: dev,
            v6only,
        }
    }

    fn req(a: &str, port: u16) -> RequestKey {
        RequestKey {
            addr: ip(a),
            port,
            ifindex: 1,
        }
    }

    #[test]
    fn exact_address_beats_wildcard() {
        let ls = [
            lk(Family::Ipv4, "0.0.0.0", 80, 0, None),
            lk(Family::Ipv4, "127.0.0.1", 80, 0, None),
        ];
        assert_eq!(pick_listeners(&ls, req("127.0.0.1", 80)), vec![1]);
        assert_eq!(pick_listeners(&ls, req("127.0.0.2", 80)), vec![0]);
        assert!(pick_listeners(&ls, req("127.0.0.1", 81)).is_empty());
    }

    #[test]
    fn v4_beats_dual_stack_and_v6only_takes_no_v4() {
        let ls = [
            lk(Family::Ipv6, "::", 80, 0, Some(false)),
            lk(Family::Ipv4, "0.0.0.0", 80, 0, None),
        ];
        assert_eq!(pick_listeners(&ls, req("127.0.0.1", 80)), vec![1]);
        assert_eq!(pick_listeners(&ls, req("::1", 80)), vec![0]);
        let only6 = [lk(Family::Ipv6, "::", 80, 0, Some(true))];
        assert!(pick_listeners(&only6, req("127.0.0.1", 80)).is_empty());
        let dual = [lk(Family::Ipv6, "::", 80, 0, Some(false))];
        assert_eq!(pick_listeners(&dual, req("::ffff:127.0.0.1", 80)), vec![0]);
    }

    #[test]
    fn reuseport_group_is_shared_and_device_must_match() {
        let ls = [
            lk(Family::Ipv4, "0.0.0.0", 80, 0, None),
            lk(Family::Ipv4, "0.0.0.0", 80, 0, None),
            lk(Family::Ipv4, "0.0.0.0", 80, 7, None),
        ];
        // Device 7 does not match the request's device 1: only the unbound pair.
        assert_eq!(pick_listeners(&ls, req("10.0.0.1", 80)), vec![0, 1]);
    }
}
