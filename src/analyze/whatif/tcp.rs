//! TCP conflicts: `inet_csk_get_port` → `inet_csk_bind_conflict` with relax=true,
//! reuseport_ok=true (§3.1), and the SO_REUSEPORT fast path that can skip the check.

use super::cause::{Cause, Note, ShareRule, Sharer, Unknown};
use super::order::Step;
use super::port::{in_use, partial_view, port_sockets, push_cand_v6only, unknown_inputs};
use super::verdict::{BindRequest, BindResult, Outcome, Phase};
use crate::analyze::overlap::{
    Endpoint, and3, dev_overlap, not3, or3, rcv_saddr_equal, tcp_bucket_overlap,
};
use crate::model::{Family, NetnsId, Proto, Snapshot, State};

/// The conflict check of bind(). listen() runs the same check again with the new socket in
/// LISTEN (`inet_csk_listen_start`); `inet_bind_conflict` reads the new socket's own
/// `sk_reuse` there, not the `reuse` of the fast path, so against the same sockets it gives
/// the same answer as bind() (measured: an RA socket binding and listening next to a
/// bound-only RA socket succeeds both times, and the other socket's later listen() fails,
/// §3.5).
pub(super) fn conflicts(
    snap: &Snapshot,
    netns: NetnsId,
    req: &BindRequest,
    cand: &Endpoint,
    notes: &mut Vec<Note>,
) -> Step {
    let mut definite = Vec::new();
    let mut maybe = Vec::new();
    let mut because = Vec::new();
    let mut sharers = Vec::new();
    for s in port_sockets(snap, netns, req) {
        let old = Endpoint::from_socket(s);
        if !dev_overlap(cand.device.as_deref(), old.device.as_deref()) {
            continue;
        }
        let overlap = tcp_bucket_overlap(cand, &old);
        if overlap == Some(false) {
            continue;
        }
        // inet_bind_conflict(): the first branch (both SO_REUSEADDR, the other not
        // listening) never conflicts for an explicit bind; the second conflicts unless both
        // have SO_REUSEPORT and the uids match or the other is in TIME_WAIT.
        let ra = and3(
            and3(cand.reuseaddr, old.reuseaddr),
            Some(old.state != State::Listen),
        );
        let rp = and3(
            and3(cand.reuseport, old.reuseport),
            Some(old.state == State::TimeWait || old.uid == cand.uid),
        );
        let conflict = and3(overlap, not3(or3(ra, rp)));
        match conflict {
            Some(true) => definite.push((s, old)),
            Some(false) => {
                let rule = if ra == Some(true) {
                    ShareRule::BothReuseaddrNotListening
                } else if old.state == State::TimeWait {
                    ShareRule::BothReuseportTimeWait
                } else {
                    ShareRule::BothReuseportSameUid
                };
                if ra == Some(true) && rp != Some(true) && old.state != State::TimeWait {
                    // The race says it all for this one.
                    notes.push(Note::ListenRace {
                        socket: Box::new(s.clone()),
                    });
                } else {
                    sharers.push(Sharer {
                        socket: s.clone(),
                        rule,
                    });
                }
            }
            None => {
                because.extend(unknown_inputs(
                    s,
                    cand.reuseaddr == Some(true) && old.state != State::Listen,
                    cand.reuseport == Some(true),
                    overlap.is_none() && old.v6only.is_none(),
                ));
                if overlap.is_none() {
                    push_cand_v6only(cand, &mut because);
                }
                maybe.push((s, old));
            }
        }
    }
    if !sharers.is_empty() {
        notes.push(Note::SharesPort(sharers));
    }
    if !definite.is_empty() {
        // KERNEL: inet_csk_get_port() skips the conflict check when sk_reuseport_match()
        // holds for the bucket's fast-path state (tb->fastreuseport, fastuid, fast_rcv_saddr):
        // the last SO_REUSEPORT socket to bind or listen on the port records its uid and
        // address, and a later SO_REUSEPORT socket of that uid "inside" that address is let
        // in without looking at the other owners. That earlier socket may have passed the
        // blockers where the new one cannot, and it may have closed since (measured: an RP
        // socket then binds next to a listener without RP on its own device). The snapshot
        // does not show bind order or departed sockets.
        // With the whole history known, only a socket still there can have set the fast
        // path: a SO_REUSEPORT one of the candidate's uid.
        let fast_path_setter_possible = !req.history_complete
            || port_sockets(snap, netns, req)
                .iter()
                .any(|s| s.options.reuseport == Some(true) && s.uid == cand.uid);
        if fast_path_setter_possible
            && let Some(covering) =
                fast_path_possible(cand, definite.iter().chain(maybe.iter()).map(|(_, o)| o))
        {
            return Step::Unknown {
                fail: in_use(req, cand, &definite, 0),
                because: vec![Unknown::TcpFastPath {
                    uid: cand.uid,
                    covering,
                }],
            };
        }
        return Step::Fail(in_use(req, cand, &definite, maybe.len()));
    }
    if !maybe.is_empty() {
        let o = in_use(req, cand, &maybe, 0);
        return Step::Unknown { fail: o, because };
    }
    if partial_view(snap) {
        let o = Outcome::new(
            BindResult::Eaddrinuse,
            Phase::Bind,
            Cause::Uncollected { proto: Proto::Tcp },
        );
        return Step::Unknown {
            fail: o,
            because: vec![Unknown::ListeningView],
        };
    }
    Step::Pass
}

/// Whether the SO_REUSEPORT fast path of `inet_csk_get_port` could let `cand` skip the
/// conflict check: some socket S (SO_REUSEPORT, `cand`'s uid, any SO_REUSEADDR and device)
/// whose address `sk_reuseport_match` counts as covering `cand`'s (`rcv_saddr_equal(S, cand,
/// true, false)`) could itself have bound next to every blocker. Returns S.
///
/// Only wildcard shapes can cover another address, and `ipv6_rcv_saddr_equal` lets a V6ONLY
/// `::` cover a dual-stack `::`, and `0.0.0.0` cover it too: such an S passes IPv4 (resp.
/// IPv6-only) blockers that the dual-stack bind overlaps (found by the differential test).
fn fast_path_possible<'a>(
    cand: &Endpoint,
    blockers: impl Iterator<Item = &'a Endpoint> + Clone,
) -> Option<Endpoint> {
    if cand.reuseport != Some(true) {
        return None;
    }
    let shape = |family: Family, addr: &str, v6only: Option<bool>| -> Option<Endpoint> {
        Some(Endpoint {
            family,
            addr: addr.parse().ok()?,
            v6only,
            device: None,
            reuseaddr: Some(true),
            reuseport: Some(true),
            uid: cand.uid,
            state: State::Close,
        })
    };
    let shapes: Vec<Endpoint> = [
        Some(cand.clone()),
        shape(Family::Ipv6, "::", Some(true)),
        shape(Family::Ipv6, "::", Some(false)),
        shape(Family::Ipv4, "0.0.0.0", Some(false)),
        shape(Family::Ipv6, "::ffff:0.0.0.0", Some(false)),
    ]
    .into_iter()
    .flatten()
    .collect();
    shapes.into_iter().find(|s| {
        rcv_saddr_equal(s, cand, true, false) != Some(false)
            && blockers.clone().all(|o| passes(s, o))
    })
}

/// Whether S (a possible earlier SO_REUSEPORT socket) could have bound next to `o`, or `o`
/// could have joined after S without closing the fast path.
fn passes(s: &Endpoint, o: &Endpoint) -> bool {
    // S on another device, or S with SO_REUSEADDR next to a non-listener with it, or S's
    // address not overlapping, or a SO_REUSEPORT partner of S.
    let passes = or3(
        or3(
            Some(o.device.is_some()),
            and3(Some(o.state != State::Listen), o.reuseaddr),
        ),
        or3(
            not3(tcp_bucket_overlap(s, o)),
            and3(
                o.reuseport,
                Some(o.state == State::TimeWait || o.uid == s.uid),
            ),
        ),
    );
    // KERNEL: a connection joins the bucket without touching the fast path
    // (__inet_inherit_port), and accept() then gives it the accepting process's uid
    // (sock_graft sets sk_uid): a SO_REUSEPORT child now of another uid may come from a
    // listener of the new socket's uid whose fast path is still open (measured: root
    // accepted a child of a uid-1001 RP listener; a uid-1001 RP bind still succeeds).
    let connection = !matches!(
        o.state,
        State::Listen | State::Close | State::BoundInactive | State::TimeWait
    );
    or3(passes, and3(Some(connection), o.reuseport)) != Some(false)
}
