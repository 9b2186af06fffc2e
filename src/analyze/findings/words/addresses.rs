//! The words of findings about bound addresses.

use super::Words;
use crate::analyze::describe::{self, endpoint};
use crate::analyze::findings::fact::{DadProblem, NonlocalAllowance};
use crate::model::{Interface, InterfaceAddr, Netns, Snapshot, Socket};
use crate::text::clean;

pub(super) fn nonlocal_bind(snap: &Snapshot, s: &Socket, allowed_by: NonlocalAllowance) -> Words {
    let how = match allowed_by {
        NonlocalAllowance::Freebind => "IP_FREEBIND allowed it",
        NonlocalAllowance::Transparent => "IP_TRANSPARENT allowed it (a transparent proxy)",
        NonlocalAllowance::Sysctl => "the ip_nonlocal_bind sysctl allowed it",
        NonlocalAllowance::NoIpv4InNamespace => {
            "the namespace has no IPv4 address at all, and without a local routing table the kernel accepts any IPv4 address"
        }
        NonlocalAllowance::Unseen => {
            "the address was local when bound and has been removed since, or an option bindscope could not read allowed it"
        }
    };
    Words {
        summary: format!(
            "{}{} is bound to an address on no interface ({})",
            endpoint(s),
            describe::netns_of(snap, s),
            describe::process_names(s)
        ),
        explanation: format!(
            "{}: {} is not assigned to any interface of its namespace; {how}. The socket receives nothing until the address \
             appears (a floating or virtual IP moving here); if that is the plan this is fine. Otherwise the service is \
             listening where no client can reach it: check the address in its configuration.",
            describe::socket(s),
            s.local_addr
        ),
    }
}

pub(super) fn tentative_bind(snap: &Snapshot, s: &Socket, problem: DadProblem) -> Words {
    let (state, why) = match problem {
        DadProblem::Tentative => (
            "tentative",
            "duplicate address detection has not finished (it needs carrier on the link)",
        ),
        DadProblem::Dadfailed => ("dadfailed", "another host on the link already uses it"),
    };
    Words {
        summary: format!(
            "{}{} is bound to an IPv6 address that is {state}",
            endpoint(s),
            describe::netns_of(snap, s),
        ),
        explanation: format!(
            "{}: the address is {state}: {why}. A plain bind() to it fails with EADDRNOTAVAIL; this socket got it through IP_FREEBIND, \
             IP_TRANSPARENT or the ipv6 ip_nonlocal_bind sysctl, and receives nothing while the address is unusable. \
             Services that start during the DAD window fail unless they set IP_FREEBIND (systemd FreeBind=yes) or the \
             address is added with 'nodad' or 'optimistic'.",
            describe::socket(s)
        ),
    }
}

pub(super) fn stuck_address(
    snap: &Snapshot,
    netns: &Netns,
    interface: &Interface,
    a: &InterfaceAddr,
    problem: DadProblem,
) -> Words {
    let where_ = match &netns.name {
        Some(n) if snap.netns.len() > 1 => format!(" in namespace '{}'", clean(n)),
        _ => String::new(),
    };
    let iface = clean(&interface.name);
    match problem {
        DadProblem::Dadfailed => Words {
            summary: format!(
                "{}/{} on {iface}{where_} failed duplicate address detection",
                a.addr, a.prefix_len
            ),
            explanation: format!(
                "The address {} on {iface}{where_} is dadfailed: another host on the link answered for it. It stays \
                 unusable: every bind() to it fails with EADDRNOTAVAIL. Find the duplicate, then remove and re-add the address.",
                a.addr
            ),
        },
        DadProblem::Tentative => Words {
            summary: format!(
                "{}/{} on {iface}{where_} is stuck tentative (no carrier)",
                a.addr, a.prefix_len
            ),
            explanation: format!(
                "The address {} on {iface}{where_} is tentative and the link has no carrier, so duplicate address \
                 detection cannot finish. Until it does, a bind() to it fails with EADDRNOTAVAIL: services that start now \
                 fail unless they use IP_FREEBIND (systemd FreeBind=yes). Bring the link up, or add the address with 'nodad'.",
                a.addr
            ),
        },
    }
}
