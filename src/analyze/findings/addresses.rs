//! Findings about bound addresses (§2, §7 of the semantics): binds to addresses that are on
//! no interface, and IPv6 addresses stuck in DAD (tentative) or failed (dadfailed).

use super::finding;
use crate::analyze::describe::{self, endpoint};
use crate::analyze::ports::is_bind;
use crate::model::FindingKind;
use crate::model::{AddrFlag, AddressState, Family, Finding, Severity, Snapshot, Socket};

pub fn findings(snap: &Snapshot) -> Vec<Finding> {
    let mut out: Vec<Finding> = snap
        .sockets
        .iter()
        .filter(|s| is_bind(s))
        .filter_map(|s| nonlocal_bind(snap, s).or_else(|| tentative_bind(snap, s)))
        .collect();
    out.extend(stuck_host_addresses(snap));
    out
}

fn nonlocal_bind(snap: &Snapshot, s: &Socket) -> Option<Finding> {
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
    let (severity, how) = if s.options.freebind == Some(true) {
        (Severity::Info, "IP_FREEBIND allowed it".to_string())
    } else if s.options.transparent == Some(true) {
        (
            Severity::Info,
            "IP_TRANSPARENT allowed it (a transparent proxy)".to_string(),
        )
    } else if sysctl == Some(1) {
        (
            Severity::Notice,
            "the ip_nonlocal_bind sysctl allowed it".to_string(),
        )
    } else if no_ipv4_at_all {
        (
            Severity::Notice,
            "the namespace has no IPv4 address at all, and without a local routing table the kernel accepts any IPv4 address"
                .to_string(),
        )
    } else {
        (
            Severity::Notice,
            "the address was local when bound and has been removed since, or an option bindscope could not read allowed it"
                .to_string(),
        )
    };
    Some(finding(
        FindingKind::NonlocalBind,
        severity,
        &[s],
        format!(
            "{}{} is bound to an address on no interface ({})",
            endpoint(s),
            describe::netns_of(snap, s),
            describe::process_names(s)
        ),
        format!(
            "{}: {} is not assigned to any interface of its namespace; {how}. The socket receives nothing until the address \
             appears (a floating or virtual IP moving here); if that is the plan this is fine. Otherwise the service is \
             listening where no client can reach it: check the address in its configuration.",
            describe::socket(s),
            s.local_addr
        ),
    ))
}

fn tentative_bind(snap: &Snapshot, s: &Socket) -> Option<Finding> {
    let (severity, what) = match s.address_state {
        AddressState::Tentative => (
            Severity::Warning,
            "tentative: duplicate address detection has not finished (it needs carrier on the link)",
        ),
        AddressState::Dadfailed => (
            Severity::Warning,
            "dadfailed: another host on the link already uses it",
        ),
        _ => return None,
    };
    Some(finding(
        FindingKind::TentativeBind,
        severity,
        &[s],
        format!(
            "{}{} is bound to an IPv6 address that is {}",
            endpoint(s),
            describe::netns_of(snap, s),
            what.split(':').next().unwrap_or(what)
        ),
        format!(
            "{}: the address is {what}. A plain bind() to it fails with EADDRNOTAVAIL; this socket got it through IP_FREEBIND, \
             IP_TRANSPARENT or the ipv6 ip_nonlocal_bind sysctl, and receives nothing while the address is unusable. \
             Services that start during the DAD window fail unless they set IP_FREEBIND (systemd FreeBind=yes) or the \
             address is added with 'nodad' or 'optimistic'.",
            describe::socket(s)
        ),
    ))
}

/// Host addresses stuck in DAD (tentative on a link without carrier) or failed.
fn stuck_host_addresses(snap: &Snapshot) -> Vec<Finding> {
    let mut out = Vec::new();
    for ns in &snap.netns {
        for i in &ns.interfaces {
            for a in &i.addresses {
                let dadfailed = a.flags.contains(&AddrFlag::Dadfailed);
                let stuck = a.flags.contains(&AddrFlag::Tentative)
                    && !a.flags.contains(&AddrFlag::Optimistic)
                    && !i.carrier;
                if !dadfailed && !stuck {
                    continue;
                }
                let where_ = match &ns.name {
                    Some(n) if snap.netns.len() > 1 => {
                        format!(" in namespace '{}'", crate::text::clean(n))
                    }
                    _ => String::new(),
                };
                let iface = crate::text::clean(&i.name);
                let (summary, text) = if dadfailed {
                    (
                        format!(
                            "{}/{} on {iface}{where_} failed duplicate address detection",
                            a.addr, a.prefix_len
                        ),
                        format!(
                            "The address {} on {iface}{where_} is dadfailed: another host on the link answered for it. It stays \
                             unusable: every bind() to it fails with EADDRNOTAVAIL. Find the duplicate, then remove and re-add the address.",
                            a.addr
                        ),
                    )
                } else {
                    (
                        format!(
                            "{}/{} on {iface}{where_} is stuck tentative (no carrier)",
                            a.addr, a.prefix_len
                        ),
                        format!(
                            "The address {} on {iface}{where_} is tentative and the link has no carrier, so duplicate address \
                             detection cannot finish. Until it does, a bind() to it fails with EADDRNOTAVAIL: services that start now \
                             fail unless they use IP_FREEBIND (systemd FreeBind=yes). Bring the link up, or add the address with 'nodad'.",
                            a.addr
                        ),
                    )
                };
                out.push(finding(
                    FindingKind::TentativeBind,
                    if dadfailed {
                        Severity::Warning
                    } else {
                        Severity::Notice
                    },
                    &[],
                    summary,
                    text,
                ));
            }
        }
    }
    out
}
