//! One process with 200 blocking listeners is one problem, not 200: per-socket facts of the
//! same kind, severity and holder process (in one namespace) become one finding that lists
//! every socket. Keeps reports readable and snapshots of busy hosts small.

use super::fact::Fact;
use crate::model::{FindingKind, NetnsId, PortKey, Severity, Socket};
use std::collections::BTreeMap;

/// Above this many facts of one kind for one process, they become one finding.
const MERGE_ABOVE: usize = 3;

/// What one finding is made from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Subject<'s> {
    One(Fact<'s>),
    /// More than `MERGE_ABOVE` (3) facts of one kind and severity whose first socket has the
    /// same first holder; never empty.
    Group(Vec<Fact<'s>>),
}

/// The process a fact is filed under: its first socket's namespace and first holder's pid
/// (`None`: no holder). `None` for kinds that do not merge, and facts without sockets.
fn holder_key(fact: &Fact) -> Option<(NetnsId, Option<u32>)> {
    if !fact.kind().merges_per_process() {
        return None;
    }
    let filed = fact.filed_sockets();
    let s = filed.first()?;
    Some((s.netns, s.holders.first().map(|h| h.pid)))
}

/// The facts as findings-to-be, in order: those that do not merge first, as found, then per
/// (kind, severity, holder) either the facts one by one or their group.
pub fn per_process(facts: Vec<Fact<'_>>) -> Vec<Subject<'_>> {
    let mut out = Vec::new();
    type Key = (FindingKind, Severity, NetnsId, Option<u32>);
    let mut groups: BTreeMap<Key, Vec<Fact>> = BTreeMap::new();
    // A facet of a problem on one port (two or more facts there) stays apart, so the
    // problem keeps it and no other process's group takes it in.
    let mut on_port: BTreeMap<PortKey, usize> = BTreeMap::new();
    for key in facts.iter().filter_map(Fact::port_key) {
        *on_port.entry(key).or_default() += 1;
    }
    for fact in facts {
        let facet = fact
            .port_key()
            .is_some_and(|k| on_port.get(&k).is_some_and(|&n| n > 1));
        match holder_key(&fact).filter(|_| !facet) {
            Some((netns, pid)) => groups
                .entry((fact.kind(), fact.severity(), netns, pid))
                .or_default()
                .push(fact),
            None => out.push(Subject::One(fact)),
        }
    }
    for group in groups.into_values() {
        if group.len() <= MERGE_ABOVE {
            out.extend(group.into_iter().map(Subject::One));
        } else {
            out.push(Subject::Group(group));
        }
    }
    out
}

impl<'s> Subject<'s> {
    /// Every socket, fact by fact, each fact's in the order its finding files them (a socket
    /// in two facts of the group is counted twice, as the group's words count it).
    pub fn sockets(&self) -> Vec<&'s Socket> {
        match self {
            Subject::One(fact) => fact.filed_sockets(),
            Subject::Group(facts) => facts.iter().flat_map(Fact::filed_sockets).collect(),
        }
    }
}
