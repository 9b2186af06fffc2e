//! Facts about bound addresses (§2, §7 of the semantics): binds to addresses that are on
//! no interface, and IPv6 addresses stuck in DAD (tentative) or failed (dadfailed).

use super::fact::{DadProblem, Fact, NonlocalAllowance};
use crate::analyze::ports::is_bind;
use crate::model::{AddrFlag, AddressState, Family, Snapshot, Socket};

pub fn facts(snap: &Snapshot) -> Vec<Fact<'_>> {
    let mut out: Vec<Fact> = snap
        .sockets
        .iter()
        .filter(|s| is_bind(s))
        .filter_map(|s| nonlocal_bind(snap, s).or_else(|| tentative_bind(s)))
        .collect();
    out.extend(stuck_host_addresses(snap));
    out
}

fn nonlocal_bind<'s>(snap: &Snapshot, s: &'s Socket) -> Option<Fact<'s>> {
    if s.address_state != AddressState::Nonlocal {
        return None;
    }
    let ns = snap.netns.iter().find(|n| n.id == s.netns);
    let sysctl = ns.and_then(|n| match s.family {
        Family::Ipv4 => n.sysctls.ipv4_ip_nonlocal_bind,
        Family::Ipv6 => n.sysctls.ipv6_ip_nonlocal_bind,
    });
    let no_ipv4_at_all = s.local_addr.is_ipv4()
        && ns.is_some_and(|n| {
            !n.interfaces
                .iter()
                .any(|i| i.addresses.iter().any(|a| a.addr.is_ipv4()))
        });
    // In the order `inet_can_nonlocal()` and the routing lookup would let it through.
    let allowed_by = if s.options.freebind == Some(true) {
        NonlocalAllowance::Freebind
    } else if s.options.transparent == Some(true) {
        NonlocalAllowance::Transparent
    } else if sysctl == Some(1) {
        NonlocalAllowance::Sysctl
    } else if no_ipv4_at_all {
        NonlocalAllowance::NoIpv4InNamespace
    } else {
        NonlocalAllowance::Unseen
    };
    Some(Fact::NonlocalBind {
        socket: s,
        allowed_by,
    })
}

fn tentative_bind(s: &Socket) -> Option<Fact<'_>> {
    let problem = match s.address_state {
        AddressState::Tentative => DadProblem::Tentative,
        AddressState::Dadfailed => DadProblem::Dadfailed,
        _ => return None,
    };
    Some(Fact::TentativeBind { socket: s, problem })
}

/// Host addresses stuck in DAD (tentative on a link without carrier) or failed.
fn stuck_host_addresses(snap: &Snapshot) -> Vec<Fact<'_>> {
    let mut out = Vec::new();
    for netns in &snap.netns {
        for interface in &netns.interfaces {
            for address in &interface.addresses {
                let dadfailed = address.flags.contains(&AddrFlag::Dadfailed);
                // An optimistic address is usable during DAD; with carrier DAD finishes.
                let stuck = address.flags.contains(&AddrFlag::Tentative)
                    && !address.flags.contains(&AddrFlag::Optimistic)
                    && !interface.carrier;
                let problem = if dadfailed {
                    DadProblem::Dadfailed
                } else if stuck {
                    DadProblem::Tentative
                } else {
                    continue;
                };
                out.push(Fact::StuckAddress {
                    netns,
                    interface,
                    address,
                    problem,
                });
            }
        }
    }
    out
}
