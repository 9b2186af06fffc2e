//! Findings: the judgement a list of sockets does not give. Each kind has a stable id, a
//! severity by the rules in the README's table, the sockets involved, a one-line summary and
//! an explanation in plain words (who, what, why, what to do). Pure: snapshot (+ history) in,
//! findings out.

mod addresses;
mod binds;
mod holders;
mod queues;

use super::history::History;
use crate::model::{Finding, FindingKind, Severity, Snapshot, Socket, SocketId};

/// All findings for a snapshot, most severe first. `history` holds the recent samples
/// (the current snapshot included) for the queue findings; an empty history judges queues
/// on this snapshot alone.
pub fn analyze(snap: &Snapshot, history: &History) -> Vec<Finding> {
    let mut out = Vec::new();
    out.extend(binds::findings(snap));
    out.extend(queues::findings(snap, history));
    out.extend(addresses::findings(snap));
    out.extend(holders::findings(snap));
    let mut out = merge_per_process(snap, out);
    out.sort_by(|a, b| {
        b.severity
            .cmp(&a.severity)
            .then_with(|| a.kind.cmp(&b.kind))
            .then_with(|| a.sockets.cmp(&b.sockets))
    });
    out
}

/// Above this many findings of one kind for one process, they become one finding.
const MERGE_ABOVE: usize = 3;

/// One process with 200 blocking listeners is one problem, not 200: per-socket findings of
/// the same kind, severity and holder process (in one namespace) merge into one finding that
/// lists every socket. Keeps reports readable and snapshots of busy hosts small.
fn merge_per_process(snap: &Snapshot, findings: Vec<Finding>) -> Vec<Finding> {
    use std::collections::BTreeMap;
    let by_id: std::collections::HashMap<&SocketId, &Socket> =
        snap.sockets.iter().map(|s| (&s.id, s)).collect();
    let mut out = Vec::new();
    let mut groups: BTreeMap<(FindingKind, Severity, String), Vec<Finding>> = BTreeMap::new();
    for f in findings {
        let sock = match f.sockets.first() {
            Some(first) if f.kind.merges_per_process() => by_id.get(first).copied(),
            _ => None,
        };
        match sock {
            Some(s) => {
                let holder = match s.holders.first() {
                    Some(h) => format!("{} {}", s.netns, h.pid),
                    None => format!("{} none", s.netns),
                };
                groups
                    .entry((f.kind.clone(), f.severity, holder))
                    .or_default()
                    .push(f);
            }
            None => out.push(f),
        }
    }
    for ((kind, severity, _), group) in groups {
        if group.len() <= MERGE_ABOVE {
            out.extend(group);
            continue;
        }
        let sockets: Vec<&Socket> = group
            .iter()
            .flat_map(|f| f.sockets.iter())
            .filter_map(|id| by_id.get(id).copied())
            .collect();
        let Some(first) = sockets.first() else {
            out.extend(group);
            continue;
        };
        let owner = if first.holders.is_empty() {
            "with no visible holder".to_string()
        } else {
            format!("of {}", super::describe::holders(first))
        };
        let listed: Vec<String> = sockets
            .iter()
            .take(20)
            .map(|s| super::describe::endpoint(s))
            .collect();
        let more = sockets.len().saturating_sub(listed.len());
        let summary = format!(
            "{} sockets {owner}: {}",
            sockets.len(),
            group
                .first()
                .map(|f| f.summary.as_str())
                .unwrap_or_default()
        );
        let explanation = format!(
            "{}\nThe same holds for every socket of this group: {}{}.",
            group
                .first()
                .map(|f| f.explanation.as_str())
                .unwrap_or_default(),
            listed.join(", "),
            if more > 0 {
                format!(" and {more} more")
            } else {
                String::new()
            }
        );
        out.push(finding(kind, severity, &sockets, summary, explanation));
    }
    out
}

pub(crate) fn finding(
    kind: FindingKind,
    severity: Severity,
    sockets: &[&Socket],
    summary: String,
    explanation: String,
) -> Finding {
    let mut ids: Vec<SocketId> = sockets.iter().map(|s| s.id.clone()).collect();
    ids.sort();
    ids.dedup();
    Finding {
        kind,
        severity,
        sockets: ids,
        summary,
        explanation,
    }
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

/// Whether any user may bind this socket's port (no CAP_NET_BIND_SERVICE needed).
pub(crate) fn port_is_unprivileged(snap: &Snapshot, s: &Socket) -> bool {
    s.local_port >= unprivileged_start(snap, s)
}

#[cfg(test)]
mod tests;
