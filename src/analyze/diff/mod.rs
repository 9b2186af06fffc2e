//! What changed between two snapshots: sockets that appeared, disappeared or changed,
//! findings that are new or resolved, and network namespaces that changed. Pure: two
//! snapshots in, a [`Diff`] out. What changed is typed ([`SocketField`], [`NetnsField`]:
//! a [`Change`] of a `State`, an option's [`OptionRead`], a set of [`HolderKey`]s...); the
//! words for it are written once, in `output::diff::words`, for `bindscope diff` (text and
//! JSON) and the dashboard's Changes view.
//!
//! The parts: `matching` (which socket is which), `sockets` (appeared, disappeared,
//! changed, in report order), `socket_fields` (what differs in a matched pair),
//! `findings`, `netns`, and `fields` (the typed changes).
//!
//! # Matching sockets
//! 1. **By id** (namespace and kernel cookie, and the host in a view merged from several
//!    hosts). A cookie is never reused while the host is up (`sock_gen_cookie`), so an equal
//!    id is the same socket, provided the two also agree on namespace, protocol, family and
//!    local port: ids from two different hosts can coincide (every host's first namespace has
//!    the same inode, and cookies are small counters), and such a pair is not one socket.
//! 2. **By endpoint**, among the sockets left over: host, namespace, protocol, family, local
//!    address and port, device, state, remote address and port. A socket recreated on the
//!    same endpoint (a restarted service) is *changed*, with a [`SocketField::Socket`] saying
//!    old id → new id, rather than one disappearing and one appearing.
//! 3. **Within one endpoint** several sockets can be left over on each side (an SO_REUSEPORT
//!    group restarted, several UDP binds). Each side is sorted by its holders (name, pid) and
//!    then by cookie; first the sockets held by the same processes are paired (a service that
//!    reopened its socket without restarting), then the rest in that order. Extra sockets on
//!    either side appeared or disappeared. Sockets are never paired across hosts,
//!    namespaces, protocols or families.
//!
//! When the two snapshots name different hosts the diff compares two machines: pairs are
//! still made by endpoint (the same service on both), but a different id is not reported as
//! a recreated socket, since ids of two hosts never name the same socket.
//!
//! # Fields compared
//! state (as the table names it: a change `Socket::state_label` does not show is none),
//! local and remote address (a socket matched by id can `connect()`), uid, user,
//! device, scope, address state, each option, holders (as a set of process name, pid and
//! user; fd numbers are ignored, a process may dup a socket without changing anything), and
//! the queues: accept queue (len/backlog) and SYN_RECV count. Queue numbers move on every
//! refresh of a busy host, so queue fields have their own [`FieldKind::Queue`], come last,
//! and a socket whose only changes are queues is counted apart ([`Counts::queue_only`]).
//! An option that was unknown and is now known (or the reverse, e.g. a snapshot taken
//! without root) is [`FieldKind::BecameKnown`] / [`FieldKind::BecameUnknown`]: the socket may
//! not have changed at all, only what could be read about it. Byte queues of connections
//! (`recv_q`, `send_q`) are not compared: they change on every read.
//!
//! # Findings
//! Matched by kind and the set of their socket ids, the ids of `before` mapped through the
//! socket matching so a recreated socket keeps its findings. A finding about no socket (a
//! host address stuck in DAD) is matched by kind and summary. New: in `after` only;
//! resolved: in `before` only. A finding whose severity or summary changed (queue numbers
//! in the summary) is neither.
//!
//! # Namespaces
//! Matched by id. Changed: name, whether it was entered, sysctls, interfaces (added,
//! removed, link up or carrier), addresses (added, removed, flags such as tentative or
//! dadfailed) and TcpExt counters that rose. A counter that fell was reset (the namespace
//! was recreated or the host rebooted) and says nothing about drops, so it is not reported.
//! Interfaces, sysctls and counters are not compared when either side could not enter the
//! namespace: they were not read.

mod fields;
mod findings;
mod matching;
mod netns;
mod socket_fields;
mod sockets;
#[cfg(test)]
mod tests;

pub use fields::{
    Change, FieldKind, HolderKey, HolderUser, Holders, IfAddr, LinkState, NetnsField, OptionRead,
    OptionSetting, Remote, SocketField,
};

use crate::model::{Finding, NetnsId, Snapshot, Socket, SocketId};
use serde::Serialize;
use std::collections::{BTreeMap, HashMap};

/// Two snapshots compared. Not serialized itself: `output::diff` writes the JSON document,
/// with every change in its words.
#[derive(Debug, Clone, PartialEq)]
pub struct Diff {
    pub before: Side,
    pub after: Side,
    /// Appeared, then disappeared, then changed; within each by namespace, protocol, port
    /// and address.
    pub sockets: Vec<SocketChange>,
    /// New, then resolved; within each most severe first.
    pub findings: Vec<FindingChange>,
    /// Appeared, then disappeared, then changed; within each by id.
    pub netns: Vec<NetnsChange>,
    /// The name of every namespace of either snapshot that has one (`after`'s name when both
    /// do), so a socket's namespace can be named without the snapshots.
    pub netns_names: BTreeMap<NetnsId, String>,
}

/// One snapshot of the two, in brief.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Side {
    pub hostname: String,
    pub taken_at: crate::model::TakenAt,
    pub sockets: usize,
    pub findings: usize,
    pub netns: usize,
    /// From the snapshot's privileges: when the two sides differ here, options and holders
    /// that became unknown or vanished may only be unreadable.
    pub options_readable: bool,
    pub all_holders_visible: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ChangeKind {
    Appeared,
    Disappeared,
    Changed,
}

#[derive(Debug, Clone, PartialEq)]
pub struct SocketChange {
    pub kind: ChangeKind,
    /// The socket as it is in `after` (appeared, changed) or was in `before` (disappeared).
    pub socket: Socket,
    /// Its id in `before` when it differs (matched by endpoint: the socket was recreated,
    /// e.g. a restarted service).
    pub before_id: Option<SocketId>,
    /// Empty unless changed; queue fields last.
    pub fields: Vec<SocketField>,
}

impl SocketChange {
    /// Changed, and every change is a queue number.
    pub fn queue_only(&self) -> bool {
        self.kind == ChangeKind::Changed
            && !self.fields.is_empty()
            && self.fields.iter().all(|f| f.kind() == FieldKind::Queue)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum FindingChangeKind {
    New,
    Resolved,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FindingChange {
    pub kind: FindingChangeKind,
    /// As in `after` (new) or `before` (resolved).
    pub finding: Finding,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NetnsChange {
    pub kind: ChangeKind,
    pub id: NetnsId,
    pub name: Option<String>,
    /// Empty unless changed.
    pub fields: Vec<NetnsField>,
}

/// How much changed, for a summary line.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Counts {
    pub appeared: usize,
    pub disappeared: usize,
    /// Changed sockets, not counting those whose only changes are queue numbers.
    pub changed: usize,
    /// Changed sockets whose only changes are queue numbers.
    pub queue_only: usize,
    pub new_findings: usize,
    pub resolved_findings: usize,
    /// Namespaces that appeared, disappeared or changed.
    pub netns: usize,
}

impl Diff {
    pub fn is_empty(&self) -> bool {
        self.sockets.is_empty() && self.findings.is_empty() && self.netns.is_empty()
    }

    pub fn counts(&self) -> Counts {
        let mut c = Counts::default();
        for s in &self.sockets {
            match s.kind {
                ChangeKind::Appeared => c.appeared += 1,
                ChangeKind::Disappeared => c.disappeared += 1,
                ChangeKind::Changed if s.queue_only() => c.queue_only += 1,
                ChangeKind::Changed => c.changed += 1,
            }
        }
        for f in &self.findings {
            match f.kind {
                FindingChangeKind::New => c.new_findings += 1,
                FindingChangeKind::Resolved => c.resolved_findings += 1,
            }
        }
        c.netns = self.netns.len();
        c
    }
}

/// What changed from `before` to `after` (see the module docs for the rules).
pub fn diff(before: &Snapshot, after: &Snapshot) -> Diff {
    let same_host = before.host.hostname == after.host.hostname;
    let m = matching::match_sockets(&before.sockets, &after.sockets);
    let renamed: HashMap<&SocketId, &SocketId> = m
        .pairs
        .iter()
        .map(|&(i, j)| (&before.sockets[i].id, &after.sockets[j].id))
        .collect();
    Diff {
        before: side(before),
        after: side(after),
        sockets: sockets::socket_changes(before, after, &m, same_host),
        findings: findings::finding_changes(&before.findings, &after.findings, &renamed),
        netns: netns::netns_changes(&before.netns, &after.netns),
        netns_names: netns_names(before, after),
    }
}

fn side(s: &Snapshot) -> Side {
    Side {
        hostname: s.host.hostname.clone(),
        taken_at: s.taken_at.clone(),
        sockets: s.sockets.len(),
        findings: s.findings.len(),
        netns: s.netns.len(),
        options_readable: s.privileges.options_readable,
        all_holders_visible: s.privileges.all_holders_visible,
    }
}

fn netns_names(before: &Snapshot, after: &Snapshot) -> BTreeMap<NetnsId, String> {
    // `after` last, so its names win.
    before
        .netns
        .iter()
        .chain(&after.netns)
        .filter_map(|n| Some((n.id, n.name.clone()?)))
        .collect()
}
