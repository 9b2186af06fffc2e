//! Findings: the judgement a list of sockets does not give. Pure: snapshot (+ history) in,
//! findings out, in four steps that each live in one place:
//!
//! 1. detection finds typed [`Fact`]s (`binds.rs`, `queues.rs`, `addresses.rs`, `holders.rs`);
//! 2. `judge.rs` gives each fact its severity, by the rules in the README's table;
//! 3. `merge.rs` merges many facts of one kind in one process into one finding;
//! 4. `words/` writes each finding's summary and explanation (who, what, why, what to do).
//!
//! The fact is not kept on [`Finding`]: a finding is the file format (its fields are what
//! files, exports and the dashboard read, and a file read back must equal what was written),
//! and a fact borrows the snapshot it was found in and has no file form, so a finding loaded
//! from a file could never have one and every reader would have to handle both. A reader
//! that wants the typed facts asks [`facts`], a pure function of the same snapshot and
//! history (cheap next to collection), and gets them for as long as it holds the snapshot.

mod addresses;
mod binds;
pub mod fact;
mod holders;
mod judge;
pub mod merge;
mod queues;
pub mod words;

pub use fact::Fact;

use super::history::History;
use crate::model::{Finding, NetnsId, PortKey, Proto, Snapshot, Socket, State};
use merge::Subject;
use std::collections::HashMap;

/// Every fact of a snapshot, in the order they are found (binds, queues, addresses,
/// holders). `history` holds the recent samples (the current snapshot included) for the
/// queue facts; an empty history judges queues on this snapshot alone.
pub fn facts<'s>(snap: &'s Snapshot, history: &History) -> Vec<Fact<'s>> {
    let mut out = Vec::new();
    out.extend(binds::facts(snap));
    out.extend(queues::facts(snap, history));
    out.extend(addresses::facts(snap));
    out.extend(holders::facts(snap));
    out
}

/// All findings for a snapshot, most severe first, then by kind and sockets. Findings that
/// are facets of one problem on one port carry that port in `problem`.
pub fn analyze(snap: &Snapshot, history: &History) -> Vec<Finding> {
    let mut out: Vec<Finding> = merge::per_process(facts(snap, history))
        .iter()
        .filter_map(|subject| finding(snap, subject))
        .collect();
    // A key names a problem only when two or more findings share it.
    let mut facets: HashMap<PortKey, usize> = HashMap::new();
    for key in out.iter().filter_map(|f| f.problem) {
        *facets.entry(key).or_default() += 1;
    }
    for f in &mut out {
        f.problem = f.problem.filter(|k| facets.get(k).is_some_and(|&n| n > 1));
    }
    out.sort_by(|a, b| {
        b.severity
            .cmp(&a.severity)
            .then_with(|| a.kind.cmp(&b.kind))
            .then_with(|| a.sockets.cmp(&b.sockets))
    });
    out
}

/// The finding a fact, or a group of facts, makes; `None` only for an empty group.
fn finding(snap: &Snapshot, subject: &Subject) -> Option<Finding> {
    let sockets = subject.sockets();
    let (first, words) = match subject {
        Subject::One(fact) => (fact, words::of(fact, snap)),
        Subject::Group(facts) => {
            let first = facts.first()?;
            (first, words::of_group(&words::of(first, snap), &sockets))
        }
    };
    let mut ids: Vec<_> = sockets.iter().map(|s| s.id.clone()).collect();
    ids.sort();
    ids.dedup();
    Some(Finding {
        kind: first.kind(),
        severity: first.severity(),
        sockets: ids,
        summary: words.summary,
        explanation: words.explanation,
        problem: match subject {
            Subject::One(fact) => fact.port_key(),
            Subject::Group(_) => None,
        },
    })
}

/// `net.ipv4.ip_unprivileged_port_start` of the socket's namespace (1024 when unknown).
pub(crate) fn unprivileged_start(snap: &Snapshot, s: &Socket) -> u16 {
    snap.netns
        .iter()
        .find(|n| n.id == s.netns)
        .and_then(|n| n.sysctls.ip_unprivileged_port_start)
        .and_then(|v| u16::try_from(v.clamp(0, 65535)).ok())
        .unwrap_or(1024)
}

/// Who uses each port of each namespace: one uid, or several (`None`). Built once per
/// analysis so the client-port rule stays linear in the sockets.
pub(crate) struct PortUsers(
    HashMap<(NetnsId, Proto, u16), Option<u32>, foldhash::fast::FixedState>,
);

impl PortUsers {
    pub(crate) fn new(snap: &Snapshot) -> PortUsers {
        let mut m: HashMap<_, Option<u32>, foldhash::fast::FixedState> = HashMap::default();
        for s in &snap.sockets {
            m.entry((s.netns, s.proto, s.local_port))
                .and_modify(|u| {
                    if *u != Some(s.uid) {
                        *u = None;
                    }
                })
                .or_insert(Some(s.uid));
        }
        PortUsers(m)
    }

    /// Whether the socket is a client on a port the kernel hands out to outgoing traffic:
    /// UDP, or TCP not listening, on a port inside its namespace's
    /// `net.ipv4.ip_local_port_range` (which IPv6 shares), and no socket of another user
    /// shares that port. Clients' sockets (avahi's and chronyd's queries, autobound
    /// sockets) live there and their port changes at each start. A socket of another user
    /// on the same port is judged as anywhere else: it can take the client's replies (a
    /// more specific bind wins the lookup). Unknown range: not assumed.
    pub(crate) fn is_client_port(&self, snap: &Snapshot, s: &Socket) -> bool {
        if s.proto == Proto::Tcp && s.state == State::Listen {
            return false;
        }
        let in_range = snap
            .netns
            .iter()
            .find(|n| n.id == s.netns)
            .and_then(|n| n.sysctls.ip_local_port_range)
            .is_some_and(|[low, high]| (low..=high).contains(&u32::from(s.local_port)));
        in_range && self.0.get(&(s.netns, s.proto, s.local_port)) == Some(&Some(s.uid))
    }
}

/// Whether any user may bind this socket's port (no CAP_NET_BIND_SERVICE needed).
pub(crate) fn port_is_unprivileged(snap: &Snapshot, s: &Socket) -> bool {
    s.local_port >= unprivileged_start(snap, s)
}

#[cfg(test)]
mod tests;
