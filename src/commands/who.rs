//! `bindscope who PORT`: who holds a port, in every network namespace (one snapshot, cut
//! down to the sockets of that port). Exit status 0 when a socket has it, 1 when none has,
//! 3 when none was seen but a namespace could not be entered (it may be there).

mod target;

use super::{explain_privileges, query::print_pids, text_to_stdout, to_stdout};
use crate::analyze::history::History;
use crate::cli::{WhoArgs, WhoFormat};
use crate::collect::linux::collector::Collector;
use crate::model::{Scope, Socket, SocketId, addr::effective_addr};
use crate::query::narrow;
use crate::session::Session;
use crate::text::clean;
use std::collections::HashSet;
pub use target::{Target, TargetError, parse};

pub fn run(args: &WhoArgs) -> anyhow::Result<u8> {
    let target = parse(&args.target)?;
    let cfg = args.collect.config();
    let mut snap = Session::new(Collector::new(cfg), History::default())
        .judged_sample()?
        .snap;
    explain_privileges(&snap, args.quiet);
    let keep: HashSet<SocketId> = snap
        .sockets
        .iter()
        .filter(|s| receives(&target, s))
        .map(|s| s.id.clone())
        .collect();
    if keep.is_empty() {
        // Unknown is not "nobody": a namespace that could not be entered may hold it.
        let unread: Vec<String> = snap
            .netns
            .iter()
            .filter_map(|n| {
                n.error.as_ref().map(|e| {
                    format!(
                        "{} ({})",
                        crate::analyze::describe::netns_label(&snap, n.id),
                        clean(e)
                    )
                })
            })
            .collect();
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

/// Whether `s` is on the target's port and protocol and, with an address, would receive
/// there: bound to it (v4-mapped counts as IPv4), or to a wildcard of its family, or to
/// `[::]` without V6ONLY for an IPv4 address (§2 of linux-bind-semantics.md).
pub fn receives(t: &Target, s: &Socket) -> bool {
    if s.local_port != t.port || t.proto.is_some_and(|p| p != s.proto) {
        return false;
    }
    let Some(want) = t.addr.map(effective_addr) else {
        return true;
    };
    let bound = effective_addr(s.local_addr);
    if bound == want {
        return true;
    }
    bound.is_unspecified()
        && (bound.is_ipv4() == want.is_ipv4()
            || (want.is_ipv4() && s.scope == Scope::DualStackWildcard))
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
                receives(&t(arg), &on(bound, scope)),
                want,
                "{arg} vs {bound}"
            );
        }
        assert_eq!(socket().proto, Proto::Tcp);
    }
}
