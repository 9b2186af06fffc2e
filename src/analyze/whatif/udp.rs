//! UDP conflicts: `udp_lib_get_port` → `udp_lib_lport_inuse` (§3.3).
//!
//! KERNEL: the doc reads the check as "conflict if any overlapping socket refuses". 6.18
//! walks the port's chain (newest socket first) and stops at the first overlapping socket
//! that does not share through SO_REUSEADDR: if that one shares through SO_REUSEPORT with
//! the same uid the bind succeeds, without looking at older ones (measured: 127.0.0.1 without
//! options, then 127.0.0.2 with RP: a 0.0.0.0 RP bind succeeds; in the other order it fails).
//! The snapshot does not show the order, so a mix of both kinds is uncertain.

use super::cause::{Cause, Note, Unknown};
use super::order::Step;
use super::port::{in_use, partial_view, port_sockets, push_cand_v6only, unknown_inputs};
use super::verdict::{BindRequest, BindResult, Outcome, Phase};
use crate::analyze::overlap::{Endpoint, addr_overlap, and3, dev_overlap, not3};
use crate::model::{NetnsId, Proto, Snapshot, Socket};

pub(super) fn conflicts(
    snap: &Snapshot,
    netns: NetnsId,
    req: &BindRequest,
    cand: &Endpoint,
    notes: &mut Vec<Note>,
) -> Step {
    // For each overlapping socket: whether it is in the walk (not shared through RA), and
    // whether it shares through RP.
    let mut refusing_sure = Vec::new(); // in the walk for sure, does not share through RP
    let mut refusing_maybe = Vec::new();
    let mut sharing_possible = false; // some socket in the walk may share through RP
    let mut sure_in_walk = false;
    let mut rp_partners: Vec<Socket> = Vec::new();
    let mut because = Vec::new();
    let mut ra_sharers: Vec<Socket> = Vec::new();
    for s in port_sockets(snap, netns, req) {
        let old = Endpoint::from_socket(s);
        if !dev_overlap(cand.device.as_deref(), old.device.as_deref()) {
            continue;
        }
        let overlap = addr_overlap(cand, &old);
        let in_walk = and3(overlap, not3(and3(cand.reuseaddr, old.reuseaddr)));
        if in_walk == Some(false) {
            if overlap == Some(true) {
                ra_sharers.push(s.clone());
            }
            continue;
        }
        let compat = and3(
            and3(cand.reuseport, old.reuseport),
            Some(old.uid == cand.uid),
        );
        if in_walk == Some(true) {
            sure_in_walk = true;
        }
        if compat != Some(false) {
            sharing_possible = true;
        }
        if compat == Some(true) {
            rp_partners.push(s.clone());
        }
        if in_walk.is_none() || compat.is_none() {
            because.extend(unknown_inputs(
                s,
                cand.reuseaddr == Some(true),
                cand.reuseport == Some(true),
                overlap.is_none() && old.v6only.is_none(),
            ));
            if overlap.is_none() {
                push_cand_v6only(cand, &mut because);
            }
        }
        if compat != Some(true) {
            if in_walk == Some(true) && compat == Some(false) {
                refusing_sure.push((s, old));
            } else {
                refusing_maybe.push((s, old));
            }
        }
    }
    if !ra_sharers.is_empty() {
        notes.push(Note::SharesThroughReuseaddr(ra_sharers));
    }
    if !rp_partners.is_empty() && refusing_sure.is_empty() && refusing_maybe.is_empty() {
        notes.push(Note::JoinsReuseportGroup(rp_partners.clone()));
    }
    let refusing: Vec<(&Socket, Endpoint)> = refusing_sure
        .iter()
        .chain(refusing_maybe.iter())
        .map(|(s, o)| (*s, o.clone()))
        .collect();
    let inuse_possible = !refusing.is_empty();
    let ok_possible = !sure_in_walk || sharing_possible;
    if !inuse_possible {
        if partial_view(snap) {
            let o = Outcome::new(
                BindResult::Eaddrinuse,
                Phase::Bind,
                Cause::Uncollected { proto: Proto::Udp },
            );
            return Step::Unknown {
                fail: o,
                because: vec![Unknown::ListeningView],
            };
        }
        return Step::Pass;
    }
    let o = in_use(req, cand, &refusing, 0);
    if !ok_possible {
        return Step::Fail(o);
    }
    if !refusing_sure.is_empty() && !rp_partners.is_empty() {
        because.push(Unknown::UdpBindOrder {
            partners: rp_partners,
            refusers: refusing_sure.iter().map(|(s, _)| (*s).clone()).collect(),
        });
    }
    Step::Unknown { fail: o, because }
}
