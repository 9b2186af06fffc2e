//! The walk through the kernel's checks, in the kernel's order: setsockopt() before bind(),
//! then `__inet_bind` (address, then port) or `__inet6_bind` (port, then address), then
//! `get_port` (the conflicts, in `tcp` and `udp`). The first definite failure gives the
//! errno; a step that the snapshot cannot decide is remembered and the walk goes on as if
//! it passed, so the verdict lists every result still possible.

use super::address::{check_v4_address, check_v4_valid, check_v6_valid, iface, needs_scope};
use super::cause::{Cause, NamespaceProblem, Note, Unknown};
use super::verdict::{BindRequest, BindResult, Explanation, Outcome, Phase, Verdict};
use super::{tcp, udp};
use crate::analyze::overlap::Endpoint;
use crate::model::addr::mapped_v4;
use crate::model::{Family, Netns, NetnsId, Proto, Snapshot, SocketId, State};
use std::net::IpAddr;

/// One check's answer.
pub(super) enum Step {
    Pass,
    Fail(Outcome),
    /// Fails with `fail` under some reading of the unknowns, passes under another.
    Unknown {
        fail: Outcome,
        because: Vec<Unknown>,
    },
}

/// Collects the steps in order: the first definite failure ends the walk; unknown steps
/// are remembered and the walk goes on as if they passed.
#[derive(Default)]
pub(super) struct Walk {
    unknown: Vec<(Outcome, Vec<Unknown>)>,
    pub(super) notes: Vec<Note>,
}

impl Walk {
    pub(super) fn step(&mut self, s: Step) -> Option<Outcome> {
        match s {
            Step::Pass => None,
            Step::Fail(o) => Some(o),
            Step::Unknown { fail, because } => {
                self.unknown.push((fail, because));
                None
            }
        }
    }

    fn finish(self, last: Outcome) -> Verdict {
        if self.unknown.is_empty() {
            return Verdict {
                result: last.result,
                at: last.at,
                blockers: last.blockers,
                explanation: Explanation::Decided(last.cause),
                uncertain_because: Vec::new(),
                possible: Vec::new(),
                notes: self.notes,
            };
        }
        let at = self.unknown.first().map_or(last.at, |(o, _)| o.at);
        let mut possible = Vec::new();
        let mut blockers: Vec<SocketId> = Vec::new();
        let mut because = Vec::new();
        let mut outcomes = Vec::new();
        let unknown = self.unknown.into_iter();
        for (o, b) in unknown.chain([(last, Vec::new())]) {
            if !possible.contains(&o.result) {
                possible.push(o.result);
            }
            for id in &o.blockers {
                if !blockers.contains(id) {
                    blockers.push(id.clone());
                }
            }
            because.extend(b);
            outcomes.push(o);
        }
        Verdict {
            result: BindResult::Uncertain,
            at,
            blockers,
            explanation: Explanation::Undecided(outcomes),
            uncertain_because: because,
            possible,
            notes: self.notes,
        }
    }
}

/// Would `req` bind (and listen) in namespace `netns` of `snap`, and if not, why.
pub fn can_bind(snap: &Snapshot, netns: NetnsId, req: &BindRequest) -> Verdict {
    let mut walk = Walk::default();
    let family = match req.addr {
        IpAddr::V4(_) => Family::Ipv4,
        IpAddr::V6(_) => Family::Ipv6,
    };
    let Some(ns) = snap.netns.iter().find(|n| n.id == netns) else {
        return cannot_judge(NamespaceProblem::Missing(netns));
    };
    if let Some(err) = &ns.error {
        return cannot_judge(NamespaceProblem::NotEntered {
            netns,
            error: err.clone(),
        });
    }

    // Before bind(): the options are set with setsockopt. IP_TRANSPARENT is judged before
    // SO_BINDTODEVICE (the order of tests/helpers/bindcheck.py); a program that sets them
    // the other way round meets ENODEV first.
    if let Some(o) = walk.step(check_transparent(req)) {
        return walk.finish(o);
    }
    if let Some(o) = walk.step(check_device_exists(ns, req)) {
        return walk.finish(o);
    }
    if family == Family::Ipv4 && req.v6only.is_some() {
        walk.notes.push(Note::V6onlyIgnoredOnIpv4);
    }

    // bind(): __inet_bind or __inet6_bind; both yield the device the socket ends up bound to
    // (a link-local scope overrides SO_BINDTODEVICE) and its V6ONLY.
    let bound = match family {
        Family::Ipv4 => {
            if req.scope_device.is_some() {
                walk.notes.push(Note::ScopeIgnoredOnIpv4);
            }
            // v4 checks the address first, then the port (§6, __inet_bind).
            let step = check_v4_address(ns, req, &mut walk.notes);
            if let Some(o) = walk.step(step) {
                return walk.finish(o);
            }
            if let Some(o) = walk.step(check_privileged_port(ns, req)) {
                return walk.finish(o);
            }
            Bound {
                device: req.device.clone(),
                v6only: Some(false),
            }
        }
        Family::Ipv6 => match inet6_bind_checks(ns, req, &mut walk) {
            Ok(b) => b,
            Err(o) => return walk.finish(*o),
        },
    };
    privileged_note(ns, req, &mut walk.notes);

    if req.port == 0 {
        // Port 0: the kernel picks a free ephemeral port (inet_csk_find_open_port /
        // udp_lib_get_port), which the snapshot cannot predict but which rarely fails.
        walk.notes.push(Note::EphemeralPort);
        return walk.finish(ok_outcome(req, Cause::KernelPicksPort));
    }

    let cand = Endpoint {
        family,
        addr: req.addr,
        v6only: bound.v6only,
        device: bound.device.clone(),
        reuseaddr: Some(req.reuseaddr),
        reuseport: Some(req.reuseport),
        uid: req.uid,
        state: State::Close,
    };
    let step = match req.proto {
        Proto::Tcp => tcp::conflicts(snap, netns, req, &cand, &mut walk.notes),
        Proto::Udp => udp::conflicts(snap, netns, req, &cand, &mut walk.notes),
    };
    if let Some(o) = walk.step(step) {
        return walk.finish(o);
    }
    if req.proto == Proto::Udp && req.listen {
        walk.notes.push(Note::UdpHasNoListen);
    }
    let fits = Cause::Fits {
        proto: req.proto,
        port: req.port,
        listens: req.listens(),
        new: cand,
    };
    walk.finish(ok_outcome(req, fits))
}

/// What bind() leaves set on the new socket.
struct Bound {
    device: Option<String>,
    v6only: Option<bool>,
}

fn cannot_judge(why: NamespaceProblem) -> Verdict {
    Verdict {
        result: BindResult::Uncertain,
        at: Phase::Bind,
        blockers: Vec::new(),
        explanation: Explanation::CannotJudge(why.clone()),
        uncertain_because: vec![Unknown::Namespace(why)],
        possible: Vec::new(),
        notes: Vec::new(),
    }
}

fn ok_outcome(req: &BindRequest, cause: Cause) -> Outcome {
    let at = if req.listens() {
        Phase::Listen
    } else {
        Phase::Bind
    };
    Outcome::new(BindResult::Ok, at, cause)
}

// ---------------------------------------------------------------------------------------
// Before bind()

fn check_transparent(req: &BindRequest) -> Step {
    if req.transparent && req.uid != 0 {
        // do_ip_setsockopt / do_ipv6_setsockopt: IP_TRANSPARENT needs CAP_NET_ADMIN or
        // CAP_NET_RAW in the namespace's user namespace (§2).
        return Step::Fail(Outcome::new(
            BindResult::Eperm,
            Phase::Setsockopt,
            Cause::TransparentNeedsCapability { uid: req.uid },
        ));
    }
    Step::Pass
}

fn check_device_exists(ns: &Netns, req: &BindRequest) -> Step {
    match &req.device {
        Some(d) if iface(ns, d).is_none() => Step::Fail(Outcome::new(
            BindResult::Enodev,
            Phase::Setsockopt,
            Cause::NoSuchDevice { device: d.clone() },
        )),
        _ => Step::Pass,
    }
}

// ---------------------------------------------------------------------------------------
// Privileged ports

fn check_privileged_port(ns: &Netns, req: &BindRequest) -> Step {
    // inet_port_requires_bind_service(): port < ip_unprivileged_port_start needs
    // CAP_NET_BIND_SERVICE (ns_capable). Port 0 never does. Only uid 0 is assumed to have it.
    if req.port == 0 || req.uid == 0 {
        return Step::Pass;
    }
    let start = ns.sysctls.ip_unprivileged_port_start;
    let eacces = Outcome::new(
        BindResult::Eacces,
        Phase::Bind,
        Cause::PrivilegedPort {
            port: req.port,
            uid: req.uid,
            start,
        },
    );
    match start {
        Some(start) if i64::from(req.port) < start => Step::Fail(eacces),
        Some(_) => Step::Pass,
        None => Step::Unknown {
            fail: eacces,
            because: vec![Unknown::UnprivilegedPortStart],
        },
    }
}

fn privileged_note(ns: &Netns, req: &BindRequest, notes: &mut Vec<Note>) {
    if req.uid == 0
        && req.port != 0
        && ns
            .sysctls
            .ip_unprivileged_port_start
            .is_some_and(|s| i64::from(req.port) < s)
    {
        notes.push(Note::RootAssumedPrivileged { port: req.port });
    }
}

// ---------------------------------------------------------------------------------------
// IPv6 (__inet6_bind): port before address

/// The checks of `__inet6_bind`; `Err`: the outcome that ends the walk (boxed: an outcome
/// carries the sockets it names).
fn inet6_bind_checks(
    ns: &Netns,
    req: &BindRequest,
    walk: &mut Walk,
) -> Result<Bound, Box<Outcome>> {
    let IpAddr::V6(a) = req.addr else {
        return Ok(Bound {
            device: req.device.clone(),
            v6only: Some(false),
        });
    };
    // inet6_create(): V6ONLY starts from net.ipv6.bindv6only unless set explicitly.
    let v6only_set = req.v6only.or(ns.sysctls.bindv6only.map(|v| v != 0));
    if a.is_multicast() && req.proto == Proto::Tcp {
        return Err(Box::new(Outcome::new(
            BindResult::Einval,
            Phase::Bind,
            Cause::TcpMulticastV6 { addr: a },
        )));
    }
    // KERNEL-documented order: IPv6 checks the privileged port before the address (§6).
    if let Some(o) = walk.step(check_privileged_port(ns, req)) {
        return Err(Box::new(o));
    }
    if let Some(v4) = mapped_v4(&a) {
        if req.scope_device.is_some() {
            walk.notes.push(Note::ScopeIgnoredOnMapped);
        }
        let einval = Outcome::new(
            BindResult::Einval,
            Phase::Bind,
            Cause::MappedOnV6only { addr: a },
        );
        match v6only_set {
            Some(true) => return Err(Box::new(einval)),
            Some(false) => {}
            None => {
                if let Some(o) = walk.step(Step::Unknown {
                    fail: einval,
                    because: vec![Unknown::MappedV6only],
                }) {
                    return Err(Box::new(o));
                }
            }
        }
        let step = check_v4_valid(ns, req, v4, IpAddr::V6(a), &mut walk.notes);
        if let Some(o) = walk.step(step) {
            return Err(Box::new(o));
        }
        return Ok(Bound {
            device: req.device.clone(),
            v6only: Some(false),
        });
    }
    if a.is_unspecified() {
        if req.scope_device.is_some() {
            walk.notes.push(Note::ScopeIgnoredOnWildcard);
        }
        return Ok(Bound {
            device: req.device.clone(),
            v6only: v6only_set,
        });
    }
    let mut device = req.device.clone();
    if needs_scope(&a) {
        if let Some(scope) = &req.scope_device {
            if iface(ns, scope).is_none() {
                return Err(Box::new(Outcome::new(
                    BindResult::Enodev,
                    Phase::Bind,
                    Cause::NoSuchScope {
                        scope: scope.clone(),
                    },
                )));
            }
            // "Override any existing binding, if another one is supplied by user."
            device = Some(scope.clone());
        }
        if device.is_none() {
            return Err(Box::new(Outcome::new(
                BindResult::Einval,
                Phase::Bind,
                Cause::LinkLocalNeedsDevice { addr: a },
            )));
        }
    } else if req.scope_device.is_some() {
        walk.notes.push(Note::ScopeIgnoredNotLinkLocal { addr: a });
    }
    if !a.is_multicast()
        && let Some(o) = walk.step(check_v6_valid(ns, req, &a, device.as_deref()))
    {
        return Err(Box::new(o));
    }
    // A specific, non-mapped IPv6 bind makes the socket V6ONLY (__inet6_bind).
    Ok(Bound {
        device,
        v6only: Some(true),
    })
}
