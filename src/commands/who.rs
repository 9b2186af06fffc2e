//! `bindscope who PORT`: who holds a port, in every network namespace (one snapshot, cut
//! down to the sockets of that port). Exit status 0 when a socket has it, 1 when none has,
//! 3 when none was seen but a namespace could not be entered (it may be there).

mod target;

use super::{explain_privileges, query::print_pids, text_to_stdout, to_stdout};
use crate::analyze::history::History;
use crate::cli::{WhoArgs, WhoFormat};
use crate::collect::linux::collector::Collector;
use crate::model::{Interface, Scope, Socket, SocketId, addr::effective_addr};
use crate::query::narrow;
use crate::session::Session;
use crate::text::clean;
use std::collections::HashSet;
use std::net::IpAddr;
pub use target::{Target, TargetError, parse};

pub fn run(args: &WhoArgs) -> anyhow::Result<u8> {
    let target = parse(&args.target)?;
    let cfg = args.collect.config();
    let mut snap = Session::new(Collector::new(cfg), History::default())
        .judged_sample()?
        .snap;
    explain_privileges(&snap, args.quiet);
    if let Some(scope) = &target.scope
        && !snap
            .netns
            .iter()
            .any(|n| n.interfaces.iter().any(|i| &i.name == scope))
    {
        eprintln!(
            "bindscope: no namespace read has an interface '{}'",
            clean(scope)
        );
    }
    let keep: HashSet<SocketId> = snap
        .sockets
        .iter()
        .filter(|s| {
            let ns = snap.netns.iter().find(|n| n.id == s.netns);
            covers(&target, s, ns.map(|n| n.interfaces.as_slice()))
        })
        .map(|s| s.id.clone())
        .collect();
    if keep.is_empty() {
        // Unknown is not "nobody": a namespace that could not be entered may hold it.
        let unread = crate::output::who::not_entered(&snap);
        if unread.is_empty() {
            return Ok(1);
        }
        eprintln!(
            "bindscope: no socket on that port in the namespaces read; not entered, so unknown: {}",
            unread.join("; ")
        );
        return Ok(3);
    }
    narrow(&mut snap, &keep);
    if args.pids {
        print_pids(&snap, args.quiet.quiet)?;
        return Ok(0);
    }
    match args.format() {
        WhoFormat::Table => {
            let text = crate::output::who::render(&snap);
            text_to_stdout(&text)?;
        }
        WhoFormat::Json => to_stdout(|w| crate::output::write_json(w, &snap, false))?,
    }
    Ok(0)
}

/// Whether `s` is on the target's port and protocol and, with an address, covers it: bound
/// to it (v4-mapped counts as IPv4), or to a wildcard of its family, or to `[::]` without
/// V6ONLY for an IPv4 address (§2 of linux-bind-semantics.md); and, when bound to a device,
/// when traffic to that address arrives on that device. Which of the covering sockets
/// receives is `bindscope ports`' answer (the kernel's lookup), not this one's.
pub fn covers(t: &Target, s: &Socket, interfaces: Option<&[Interface]>) -> bool {
    if s.local_port != t.port || t.proto.is_some_and(|p| p != s.proto) {
        return false;
    }
    let Some(want) = t.addr.map(effective_addr) else {
        return true;
    };
    let bound = effective_addr(s.local_addr);
    let address = bound == want
        || (bound.is_unspecified()
            && (bound.is_ipv4() == want.is_ipv4()
                || (want.is_ipv4() && s.scope == Scope::DualStackWildcard)));
    if !address {
        return false;
    }
    match (&s.device, arrival(t, want, interfaces)) {
        (Some(bound_to), Some(arrives_on)) => *bound_to == arrives_on,
        // Not bound to a device, or the address is on no interface seen here: the
        // address decides.
        _ => true,
    }
}

/// The interface traffic to `addr` arrives on in a namespace with these interfaces: the
/// scope the user gave; the loopback device for 127.0.0.0/8 and ::1; else the interface
/// that holds the address (local traffic arrives on the address's device, not on lo:
/// measured, docs/lookup). `None` when no interface has it.
fn arrival(t: &Target, addr: IpAddr, interfaces: Option<&[Interface]>) -> Option<String> {
    if let Some(scope) = &t.scope {
        return Some(scope.clone());
    }
    let interfaces = interfaces?;
    if addr.is_loopback() {
        return interfaces
            .iter()
            .find(|i| i.loopback)
            .map(|i| i.name.clone());
    }
    interfaces
        .iter()
        .find(|i| i.addresses.iter().any(|a| effective_addr(a.addr) == addr))
        .map(|i| i.name.clone())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Proto;
    use crate::testing::socket;

    #[test]
    fn who_receives_on_an_address() {
        let on = |addr: &str, scope: Scope| {
            let mut s = socket();
            s.local_addr = addr.parse().unwrap();
            s.local_port = 443;
            s.scope = scope;
            s
        };
        let t = |arg: &str| parse(arg).unwrap();
        let cases = [
            ("443", "10.0.0.5", Scope::Specific, true),
            ("444", "10.0.0.5", Scope::Specific, false),
            ("udp/443", "10.0.0.5", Scope::Specific, false),
            ("tcp/443", "10.0.0.5", Scope::Specific, true),
            ("10.0.0.5:443", "10.0.0.5", Scope::Specific, true),
            ("10.0.0.5:443", "10.0.0.6", Scope::Specific, false),
            ("10.0.0.5:443", "0.0.0.0", Scope::Wildcard, true),
            ("10.0.0.5:443", "::ffff:10.0.0.5", Scope::Specific, true),
            ("10.0.0.5:443", "::", Scope::DualStackWildcard, true),
            ("10.0.0.5:443", "::", Scope::Wildcard, false),
            ("[::1]:443", "::", Scope::Wildcard, true),
            ("[::1]:443", "0.0.0.0", Scope::Wildcard, false),
            ("[::1]:443", "::1", Scope::Loopback, true),
        ];
        for (arg, bound, scope, want) in cases {
            assert_eq!(
                covers(&t(arg), &on(bound, scope), None),
                want,
                "{arg} vs {bound}"
            );
        }
        assert_eq!(socket().proto, Proto::Tcp);
    }

    /// A socket bound to a device covers an address only when traffic to it arrives on that
    /// device: lo for loopback addresses, else the interface holding the address, or the
    /// scope given; an address on no interface leaves the address to decide.
    #[test]
    fn a_device_bound_socket_covers_what_arrives_on_its_device() {
        use crate::model::{AddrScope, InterfaceAddr};
        let iface = |index: u32, name: &str, loopback: bool, addrs: &[&str]| Interface {
            index,
            name: name.into(),
            up: true,
            loopback,
            carrier: true,
            addresses: addrs
                .iter()
                .map(|a| InterfaceAddr {
                    addr: a.parse().unwrap(),
                    prefix_len: 24,
                    scope: AddrScope::Global,
                    flags: vec![],
                })
                .collect(),
        };
        let ifaces = [
            iface(1, "lo", true, &["127.0.0.1", "::1"]),
            iface(2, "eth0", false, &["10.0.0.5", "fe80::1"]),
        ];
        let on_lo = |addr: &str, scope: Scope| {
            let mut s = socket();
            s.local_addr = addr.parse().unwrap();
            s.local_port = 9090;
            s.scope = scope;
            s.device = Some("lo".into());
            s
        };
        let t = |arg: &str| parse(arg).unwrap();
        let v4 = on_lo("0.0.0.0", Scope::Wildcard);
        let v6 = on_lo("::", Scope::Wildcard);
        for (arg, s, want) in [
            ("127.0.0.1:9090", &v4, true),
            ("10.0.0.5:9090", &v4, false),
            ("192.0.2.7:9090", &v4, true),
            ("9090", &v4, true),
            ("[::1]:9090", &v6, true),
            ("[fe80::1%eth0]:9090", &v6, false),
            ("[fe80::1%lo]:9090", &v6, true),
        ] {
            assert_eq!(covers(&t(arg), s, Some(&ifaces)), want, "{arg}");
        }
    }
}
