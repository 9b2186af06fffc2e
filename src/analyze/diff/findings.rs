//! New and resolved findings: matched by kind and their sockets, mapped through the socket
//! matching.

use super::{FindingChange, FindingChangeKind};
use crate::model::{Finding, FindingKind, SocketId};
use std::collections::{BTreeMap, HashMap};

/// Kind, the socket ids (of `after`), and for a finding about no socket its summary.
type FindingKey = (FindingKind, Vec<SocketId>, String);

fn finding_key(f: &Finding, renamed: &HashMap<&SocketId, &SocketId>) -> FindingKey {
    let mut ids: Vec<SocketId> = f
        .sockets
        .iter()
        .map(|id| renamed.get(id).map_or_else(|| id.clone(), |&to| to.clone()))
        .collect();
    ids.sort_unstable();
    ids.dedup();
    let summary = if ids.is_empty() {
        f.summary.clone()
    } else {
        String::new()
    };
    (f.kind.clone(), ids, summary)
}

pub(super) fn finding_changes(
    before: &[Finding],
    after: &[Finding],
    renamed: &HashMap<&SocketId, &SocketId>,
) -> Vec<FindingChange> {
    let none = HashMap::new();
    let mut groups: BTreeMap<FindingKey, (Vec<&Finding>, Vec<&Finding>)> = BTreeMap::new();
    for f in before {
        groups.entry(finding_key(f, renamed)).or_default().0.push(f);
    }
    for f in after {
        groups.entry(finding_key(f, &none)).or_default().1.push(f);
    }
    let mut out = Vec::new();
    for (bs, as_) in groups.into_values() {
        // The same key twice on one side (a malformed file): the surplus counts.
        let change = |kind, f: &&Finding| FindingChange {
            kind,
            finding: (*f).clone(),
        };
        out.extend(
            as_.iter()
                .skip(bs.len())
                .map(|f| change(FindingChangeKind::New, f)),
        );
        out.extend(
            bs.iter()
                .skip(as_.len())
                .map(|f| change(FindingChangeKind::Resolved, f)),
        );
    }
    out.sort_by(|x, y| {
        x.kind
            .cmp(&y.kind)
            .then_with(|| y.finding.severity.cmp(&x.finding.severity))
            .then_with(|| x.finding.kind.cmp(&y.finding.kind))
            .then_with(|| x.finding.sockets.cmp(&y.finding.sockets))
            .then_with(|| x.finding.summary.cmp(&y.finding.summary))
    });
    out
}
