//! Address validity: may this namespace bind the address at all? IPv4 follows
//! `__inet_bind` → `inet_addr_type_table` → `inet_addr_valid_or_nonlocal`, IPv6
//! `ipv6_chk_addr` in `__inet6_bind`; both answer EADDRNOTAVAIL unless IP_FREEBIND,
//! IP_TRANSPARENT or the namespace's `ip_nonlocal_bind` allows a non-local bind.

use super::cause::{Cause, Note, Unknown, V4Accepted, V6Unusable};
use super::order::Step;
use super::verdict::{BindRequest, BindResult, Outcome, Phase};
use crate::model::{AddrFlag, AddrScope, Interface, InterfaceAddr, Netns};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

pub(super) fn iface<'a>(ns: &'a Netns, name: &str) -> Option<&'a Interface> {
    ns.interfaces.iter().find(|i| i.name == name)
}

/// What `__inet_dev_addr_type` answers for an address, read from the interfaces.
enum V4Kind {
    /// RTN_LOCAL: the address itself, or inside a loopback prefix.
    Local,
    /// RTN_BROADCAST / RTN_MULTICAST: accepted for UDP and TCP alike (§2).
    Accepted(V4Accepted),
    /// RTN_UNICAST or no route: not local.
    NotLocal,
    Unknown(Unknown),
}

fn has_flag(a: &InterfaceAddr, f: AddrFlag) -> bool {
    a.flags.contains(&f)
}

fn in_prefix(a: Ipv4Addr, net: Ipv4Addr, len: u8) -> bool {
    if len == 0 {
        return true;
    }
    let shift = 32 - u32::from(len.min(32));
    let mask = u32::MAX.checked_shl(shift).unwrap_or(0);
    u32::from(a) & mask == u32::from(net) & mask
}

fn v4_kind(ns: &Netns, a: Ipv4Addr) -> V4Kind {
    if a.is_broadcast() {
        return V4Kind::Accepted(V4Accepted::LimitedBroadcast);
    }
    if a.is_multicast() {
        return V4Kind::Accepted(V4Accepted::Multicast);
    }
    let any_v4 = ns
        .interfaces
        .iter()
        .flat_map(|i| i.addresses.iter())
        .any(|x| x.addr.is_ipv4());
    if !any_v4 {
        // KERNEL: __inet_dev_addr_type() starts from RTN_BROADCAST and only looks the
        // address up when the local table exists (fib_get_table). A namespace that never had
        // an IPv4 address (lo never up) has none, so every IPv4 address binds. lo up creates
        // the table with 127.0.0.1; an empty table (all addresses deleted) answers UNICAST.
        let lo_up = ns.interfaces.iter().any(|i| i.loopback && i.up);
        if lo_up {
            return V4Kind::NotLocal;
        }
        return V4Kind::Accepted(V4Accepted::NoLocalTable);
    }
    for i in &ns.interfaces {
        for x in &i.addresses {
            let IpAddr::V4(own) = x.addr else { continue };
            if own == a {
                return V4Kind::Local;
            }
        }
    }
    let mut unknown = None;
    for i in &ns.interfaces {
        for x in &i.addresses {
            let IpAddr::V4(own) = x.addr else { continue };
            // fib_add_ifaddr(): the prefix route of an address on a loopback device is
            // RTN_LOCAL (the whole 127.0.0.0/8); it is added when the device is up and
            // survives it going down, so a down lo leaves it unknown.
            if i.loopback
                && !has_flag(x, AddrFlag::Noprefixroute)
                && in_prefix(a, own, x.prefix_len)
            {
                if i.up {
                    return V4Kind::Local;
                }
                unknown = Some(Unknown::LoopbackPrefixDown {
                    addr: a,
                    own,
                    prefix_len: x.prefix_len,
                    device: i.name.clone(),
                });
            }
            // The subnet broadcast route exists while the device is up (measured: it goes
            // with the device; a missing carrier keeps it).
            if i.up && x.prefix_len < 31 {
                let bcast = u32::from(own) | (u32::MAX >> u32::from(x.prefix_len));
                if u32::from(a) == bcast {
                    return V4Kind::Accepted(V4Accepted::SubnetBroadcast {
                        addr: a,
                        own,
                        prefix_len: x.prefix_len,
                        device: i.name.clone(),
                    });
                }
            }
        }
    }
    match unknown {
        Some(u) => V4Kind::Unknown(u),
        None => V4Kind::NotLocal,
    }
}

/// `inet_can_nonlocal_bind()`: sysctl net.ipv4.ip_nonlocal_bind, IP_FREEBIND or
/// IP_TRANSPARENT. `None`: only the unknown sysctl could allow it.
fn v4_nonlocal_allowed(ns: &Netns, req: &BindRequest) -> Option<bool> {
    if req.freebind || req.transparent {
        return Some(true);
    }
    ns.sysctls.ipv4_ip_nonlocal_bind.map(|v| v != 0)
}

/// The EADDRNOTAVAIL check for an IPv4 address `a` (also for a v4-mapped one on an IPv6
/// socket: "Reproduce AF_INET checks", `__inet6_bind`). `shown` is the address as asked.
pub(super) fn check_v4_valid(
    ns: &Netns,
    req: &BindRequest,
    a: Ipv4Addr,
    shown: IpAddr,
    notes: &mut Vec<Note>,
) -> Step {
    if a.is_unspecified() {
        return Step::Pass;
    }
    let notavail = |as_far_as_shown: bool| {
        Outcome::new(
            BindResult::Eaddrnotavail,
            Phase::Bind,
            Cause::NotLocalV4 {
                addr: shown,
                as_far_as_shown,
            },
        )
    };
    match v4_kind(ns, a) {
        V4Kind::Local => Step::Pass,
        V4Kind::Accepted(kind) => {
            notes.push(Note::AddressAccepted { addr: shown, kind });
            Step::Pass
        }
        V4Kind::NotLocal => match v4_nonlocal_allowed(ns, req) {
            Some(true) => {
                notes.push(Note::NonLocalAllowed { addr: shown });
                Step::Pass
            }
            Some(false) => Step::Fail(notavail(false)),
            None => Step::Unknown {
                fail: notavail(false),
                because: vec![Unknown::Ipv4NonlocalBind { addr: shown }],
            },
        },
        V4Kind::Unknown(why) => match v4_nonlocal_allowed(ns, req) {
            Some(true) => Step::Pass,
            _ => Step::Unknown {
                fail: notavail(true),
                because: vec![why],
            },
        },
    }
}

pub(super) fn check_v4_address(ns: &Netns, req: &BindRequest, notes: &mut Vec<Note>) -> Step {
    match req.addr {
        IpAddr::V4(a) => check_v4_valid(ns, req, a, req.addr, notes),
        IpAddr::V6(_) => Step::Pass,
    }
}

/// `__ipv6_addr_needs_scope_id(ipv6_addr_type(a))`: link-local unicast, and multicast of
/// interface-local or link-local scope.
pub(super) fn needs_scope(a: &Ipv6Addr) -> bool {
    let s = a.segments();
    let link_local = s[0] & 0xffc0 == 0xfe80;
    let mc_scope = if a.is_multicast() { s[0] & 0x000f } else { 0 };
    link_local || (a.is_multicast() && (mc_scope == 1 || mc_scope == 2))
}

pub(super) fn check_v6_valid(
    ns: &Netns,
    req: &BindRequest,
    a: &Ipv6Addr,
    dev: Option<&str>,
) -> Step {
    // ipv6_chk_addr(net, addr, dev, 0) with IFA_F_TENTATIVE banned; an optimistic address
    // has TENTATIVE cleared for the test ("Decouple optimistic from tentative"). With a
    // device, a link- or host-scope address must be on that device; others may be anywhere.
    // When several interfaces hold the address, the last one that does not fit is named.
    let mut found = false;
    let mut why = V6Unusable::NotHere;
    for i in &ns.interfaces {
        for x in &i.addresses {
            if x.addr != IpAddr::V6(*a) {
                continue;
            }
            let tentative = has_flag(x, AddrFlag::Tentative) && !has_flag(x, AddrFlag::Optimistic);
            let dev_ok = match dev {
                None => true,
                Some(d) => i.name == d || !matches!(x.scope, AddrScope::Link | AddrScope::Host),
            };
            if !tentative && dev_ok {
                found = true;
            } else if tentative {
                why = if has_flag(x, AddrFlag::Dadfailed) {
                    V6Unusable::DadFailed {
                        device: i.name.clone(),
                    }
                } else {
                    V6Unusable::Tentative {
                        device: i.name.clone(),
                        carrier: i.carrier,
                    }
                };
            } else {
                why = V6Unusable::OtherDevice {
                    scope: x.scope.clone(),
                    on: i.name.clone(),
                    wanted: dev.unwrap_or("").to_string(),
                };
            }
        }
    }
    if found || req.freebind || req.transparent {
        return Step::Pass;
    }
    let fail = Outcome::new(
        BindResult::Eaddrnotavail,
        Phase::Bind,
        Cause::V6NotUsable { addr: *a, why },
    );
    match ns.sysctls.ipv6_ip_nonlocal_bind {
        Some(v) if v != 0 => Step::Pass,
        Some(_) => Step::Fail(fail),
        None => Step::Unknown {
            fail,
            because: vec![Unknown::Ipv6NonlocalBind { addr: *a }],
        },
    }
}
