//! A snapshot cut down to some of its sockets that is still a snapshot file: `snapshot
//! QUERY` and `who` write it, and `open` and `diff` load it without a warning about
//! dangling references.

use crate::model::{NetnsId, Snapshot, SocketId};
use std::collections::HashSet;

/// Keeps the sockets in `keep` and what refers only to them: the findings all of whose
/// sockets are kept (a finding about a kept socket and a dropped one would name a socket the
/// file lacks), their marks, and the namespaces the kept sockets and their holders live in.
/// Namespaces that were not entered stay too: a matching socket may hide in one, and the
/// file must say so (unknown is not "none").
pub fn narrow(snap: &mut Snapshot, keep: &HashSet<SocketId>) {
    snap.sockets.retain(|s| keep.contains(&s.id));
    snap.findings
        .retain(|f| !f.sockets.is_empty() && f.sockets.iter().all(|id| keep.contains(id)));
    snap.marks.retain(|m| keep.contains(&m.socket));
    let used: HashSet<NetnsId> = snap
        .sockets
        .iter()
        .flat_map(|s| std::iter::once(s.netns).chain(s.holders.iter().filter_map(|h| h.netns)))
        .collect();
    snap.netns
        .retain(|n| used.contains(&n.id) || n.error.is_some());
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Finding, FindingKind, Mark, NetnsId, Severity};
    use crate::testing::{netns, snapshot_of, socket};

    #[test]
    fn keeps_what_the_kept_sockets_need_and_nothing_else() {
        let mut a = socket();
        a.id = SocketId("1-a".into());
        a.netns = NetnsId(1);
        let mut b = socket();
        b.id = SocketId("2-b".into());
        b.netns = NetnsId(2);
        let mut snap = snapshot_of(
            vec![a, b],
            vec![
                netns(1, Some("one"), None),
                netns(2, Some("two"), None),
                netns(3, Some("hidden"), Some("permission denied")),
            ],
        );
        let finding = |ids: &[&str]| Finding {
            kind: FindingKind::WildcardOverlap,
            severity: Severity::Warning,
            sockets: ids.iter().map(|i| SocketId((*i).into())).collect(),
            summary: String::new(),
            explanation: String::new(),
            problem: None,
        };
        snap.findings = vec![
            finding(&["1-a"]),
            finding(&["1-a", "2-b"]),
            finding(&["2-b"]),
        ];
        snap.marks = vec![
            Mark {
                socket: SocketId("1-a".into()),
                note: "a".into(),
            },
            Mark {
                socket: SocketId("2-b".into()),
                note: "b".into(),
            },
        ];
        narrow(&mut snap, &HashSet::from([SocketId("1-a".into())]));
        assert_eq!(snap.sockets.len(), 1);
        assert_eq!(
            snap.findings.len(),
            1,
            "only the finding that names 1-a alone"
        );
        assert_eq!(snap.marks.len(), 1);
        let ns: Vec<u64> = snap.netns.iter().map(|n| n.id.0).collect();
        assert_eq!(ns, vec![1, 3], "its namespace, and the one not entered");
    }
}
