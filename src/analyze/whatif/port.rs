//! What the TCP and UDP conflict checks share: the sockets in the port's bucket, the
//! unknown inputs a decision read, and why an overlapping socket refuses the new one.

use super::cause::{Cause, InUse, Lack, Refusal, RefusalRule, Unknown};
use super::verdict::{BindRequest, BindResult, Outcome, Phase};
use crate::analyze::overlap::Endpoint;
use crate::model::{Family, NetnsId, OptionName, Proto, Snapshot, Socket, State, View};

/// The sockets that share the port's bucket: same namespace, protocol and port. TCP request
/// sockets (SYN_RECV) live in ehash only and hold no port (§3.1).
pub(super) fn port_sockets<'a>(
    snap: &'a Snapshot,
    netns: NetnsId,
    req: &BindRequest,
) -> Vec<&'a Socket> {
    snap.sockets
        .iter()
        .filter(|s| s.netns == netns && s.proto == req.proto && s.local_port == req.port)
        .filter(|s| {
            !(s.proto == Proto::Tcp && matches!(s.state, State::SynRecv | State::NewSynRecv))
        })
        .collect()
}

/// Which unknown options of `s` the decision read: SO_REUSEADDR when `ra_read`,
/// SO_REUSEPORT when `rp_read` (each only if unknown), IPV6_V6ONLY when `v6only_read`.
pub(super) fn unknown_inputs(
    s: &Socket,
    ra_read: bool,
    rp_read: bool,
    v6only_read: bool,
) -> Vec<Unknown> {
    let mut out = Vec::new();
    let mut unknown = |option| {
        out.push(Unknown::SocketOption {
            socket: Box::new(s.clone()),
            option,
        });
    };
    if ra_read && s.options.reuseaddr.is_none() {
        unknown(OptionName::Reuseaddr);
    }
    if rp_read && s.options.reuseport.is_none() {
        unknown(OptionName::Reuseport);
    }
    if v6only_read {
        unknown(OptionName::V6only);
    }
    out
}

/// The new socket's own V6ONLY is unknown when neither the request nor the sysctl says.
pub(super) fn push_cand_v6only(cand: &Endpoint, because: &mut Vec<Unknown>) {
    if cand.family == Family::Ipv6
        && cand.v6only.is_none()
        && !because.contains(&Unknown::NewSocketV6only)
    {
        because.push(Unknown::NewSocketV6only);
    }
}

/// Whether the snapshot may lack sockets that hold the port: it was taken with the
/// listening view, without connections, TIME_WAIT or connected UDP sockets.
pub(super) fn partial_view(snap: &Snapshot) -> bool {
    snap.view == View::Listening
}

/// EADDRINUSE at bind() because of `blockers` (TCP or UDP by `req.proto`); `more_unknown`
/// sockets may refuse too.
pub(super) fn in_use(
    req: &BindRequest,
    cand: &Endpoint,
    blockers: &[(&Socket, Endpoint)],
    more_unknown: usize,
) -> Outcome {
    let tcp = req.proto == Proto::Tcp;
    Outcome {
        result: BindResult::Eaddrinuse,
        at: Phase::Bind,
        blockers: blockers.iter().map(|(s, _)| s.id.clone()).collect(),
        cause: Cause::InUse(InUse {
            proto: req.proto,
            port: req.port,
            new: cand.clone(),
            refusals: blockers
                .iter()
                .map(|(s, old)| Refusal {
                    socket: (*s).clone(),
                    rule: refusal_rule(cand, old, tcp),
                })
                .collect(),
            more_unknown,
        }),
    }
}

/// Why `old` refuses `cand` (TCP when `tcp`, where a listener never shares through
/// SO_REUSEADDR; UDP otherwise).
pub(super) fn refusal_rule(cand: &Endpoint, old: &Endpoint, tcp: bool) -> RefusalRule {
    let c_ra = cand.reuseaddr == Some(true);
    let c_rp = cand.reuseport == Some(true);
    let o_ra = old.reuseaddr == Some(true);
    let o_rp = old.reuseport == Some(true);
    if tcp && c_ra && o_ra && old.state == State::Listen && !(c_rp && o_rp) {
        return RefusalRule::ReuseaddrNeverSharesWithListener;
    }
    if c_rp && o_rp && old.uid != cand.uid {
        return RefusalRule::ReuseportOtherUid {
            yours: cand.uid,
            its: old.uid,
        };
    }
    if !c_ra && !c_rp {
        return RefusalRule::NewSetsNeither;
    }
    let lack = |v: Option<bool>| match v {
        None => Lack::Unknown,
        _ => Lack::NotSet,
    };
    let reuseaddr = (c_ra && !o_ra).then(|| lack(old.reuseaddr));
    let reuseport = (c_rp && !o_rp).then(|| lack(old.reuseport));
    if reuseaddr.is_none() && reuseport.is_none() {
        RefusalRule::NoRule
    } else {
        RefusalRule::Lacks {
            reuseaddr,
            reuseport,
        }
    }
}
