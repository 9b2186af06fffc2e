//! One view of several hosts: snapshots of different hosts merged into one snapshot, so the
//! dashboard, the filter and the exports work on them unchanged.
//!
//! What must stay apart stays apart: the analysis groups sockets by namespace, and two
//! hosts' namespaces can have the same inode (every host's first namespace is often
//! `4026531840`), so namespaces are renumbered where they collide, and socket ids get the host
//! as a prefix (`web1/4026531840-2a`). Each socket carries its host in `Socket::host`. The ids
//! are a pure function of the host name and the original ids, so the same socket has the same
//! id in every frame of a recording, and marks made on a merged view find it again.

use crate::analyze::describe;
use crate::model::{Host, Mark, NetnsId, Privileges, Snapshot, SocketId};
use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;

/// The merged snapshot of `parts` (host name, its snapshot). One part is returned as it is.
pub fn merge(parts: &[&Snapshot]) -> Snapshot {
    match parts {
        [] => empty(),
        [one] => (*one).clone(),
        _ => merge_many(parts),
    }
}

fn empty() -> Snapshot {
    Snapshot {
        format: crate::model::FORMAT.into(),
        version: crate::model::VERSION,
        // No host, no time: written as the empty text, as before a merge of nothing.
        taken_at: crate::model::TakenAt::Unreadable(String::new()),
        host: Host {
            hostname: String::new(),
            kernel: String::new(),
        },
        privileges: Privileges {
            euid: 0,
            options_readable: true,
            all_holders_visible: true,
            missing: Vec::new(),
        },
        warnings: Vec::new(),
        netns: Vec::new(),
        sockets: Vec::new(),
        findings: Vec::new(),
        marks: Vec::new(),
        dashboard: None,
        view: crate::model::View::Listening,
        scan: Default::default(),
    }
}

/// A namespace id unique across the merged hosts: the original when free, else the original
/// moved above the 32-bit inode range by the host's position (deterministic).
fn unique_netns(id: NetnsId, host_index: usize, used: &mut BTreeSet<NetnsId>) -> NetnsId {
    if used.insert(id) {
        return id;
    }
    let mut k = host_index as u64;
    loop {
        let candidate = NetnsId((k << 40) | (id.0 & 0xff_ffff_ffff));
        if used.insert(candidate) {
            return candidate;
        }
        k += 1;
    }
}

/// The id of a host's socket in the merged view.
pub fn merged_id(host: &str, id: &SocketId) -> SocketId {
    SocketId(format!("{host}/{}", id.0))
}

fn merge_many(parts: &[&Snapshot]) -> Snapshot {
    let mut out = empty();
    let mut used = BTreeSet::new();
    let mut hosts = Vec::new();
    let mut kernels = BTreeSet::new();
    for (i, snap) in parts.iter().enumerate() {
        let host = snap.host.hostname.as_str();
        hosts.push(host.to_string());
        kernels.insert(snap.host.kernel.clone());
        let label: Arc<str> = Arc::from(host);
        let renum: HashMap<NetnsId, NetnsId> = snap
            .netns
            .iter()
            .map(|n| (n.id, unique_netns(n.id, i, &mut used)))
            .collect();
        let map_ns = |id: NetnsId| renum.get(&id).copied().unwrap_or(id);
        // Labels from the host's own snapshot: an unnamed namespace keeps the name its
        // holders give it (`net:[ID] · socat (uid 1001)`) once it has a host's name.
        let labels = describe::netns_labels(snap);
        for n in &snap.netns {
            let mut n = n.clone();
            // The namespace list shows which host a namespace is on. Containers (owner and
            // members) stay as they are: they are the host's, and its namespace says which.
            n.name = Some(match n.name {
                Some(name) => format!("{host}:{name}"),
                None => format!(
                    "{host}:{}",
                    labels
                        .get(&n.id)
                        .cloned()
                        .unwrap_or_else(|| format!("net:[{}]", n.id))
                ),
            });
            n.id = map_ns(n.id);
            out.netns.push(n);
        }
        for s in &snap.sockets {
            let mut s = s.clone();
            s.id = merged_id(host, &s.id);
            s.netns = map_ns(s.netns);
            for h in &mut s.holders {
                h.netns = h.netns.map(map_ns);
            }
            s.host = Some(Arc::clone(&label));
            out.sockets.push(s);
        }
        for f in &snap.findings {
            let mut f = f.clone();
            f.sockets = f.sockets.iter().map(|id| merged_id(host, id)).collect();
            f.summary = format!("{host}: {}", f.summary);
            out.findings.push(f);
        }
        out.marks.extend(snap.marks.iter().map(|m| Mark {
            socket: merged_id(host, &m.socket),
            note: m.note.clone(),
        }));
        out.warnings
            .extend(snap.warnings.iter().map(|w| format!("{host}: {w}")));
        out.privileges.options_readable &= snap.privileges.options_readable;
        out.privileges.all_holders_visible &= snap.privileges.all_holders_visible;
        out.privileges.missing.extend(
            snap.privileges
                .missing
                .iter()
                .map(|m| format!("{host}: {m}")),
        );
        if snap.view == crate::model::View::All {
            out.view = crate::model::View::All;
        }
        // The newest time stands for the merged view.
        if snap.taken_at > out.taken_at {
            out.taken_at = snap.taken_at.clone();
        }
        out.scan.duration_ms = out.scan.duration_ms.max(snap.scan.duration_ms);
    }
    out.privileges.euid = parts.first().map_or(0, |s| s.privileges.euid);
    out.host = Host {
        hostname: hosts.join(", "),
        kernel: kernels.into_iter().collect::<Vec<_>>().join(", "),
    };
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{netns, snapshot_of, socket};

    fn host(name: &str) -> Snapshot {
        let mut so = socket();
        so.netns = NetnsId(4026531840);
        so.id = SocketId::new(so.netns, so.cookie);
        let mut s = snapshot_of(vec![so], vec![netns(4026531840, Some("host"), None)]);
        s.host.hostname = name.into();
        s
    }

    #[test]
    fn one_part_is_itself() {
        let a = host("web1");
        assert_eq!(merge(&[&a]), a);
    }

    #[test]
    fn hosts_stay_apart() {
        let (a, b) = (host("web1"), host("web2"));
        let m = merge(&[&a, &b]);
        assert_eq!(m.sockets.len(), 2);
        assert_eq!(m.host.hostname, "web1, web2");
        let ids: BTreeSet<_> = m.sockets.iter().map(|s| s.id.clone()).collect();
        assert_eq!(ids.len(), 2, "socket ids unique across hosts");
        assert_ne!(
            m.sockets[0].netns, m.sockets[1].netns,
            "same inode on two hosts is two namespaces"
        );
        assert_eq!(m.sockets[1].host.as_deref(), Some("web2"));
        assert_eq!(m.netns[1].name.as_deref(), Some("web2:host"));
        // Two listeners on :80 of different hosts do not overlap.
        let findings = crate::analyze::findings::analyze(&m, &Default::default());
        assert!(findings.iter().all(|f| f.sockets.len() < 2), "{findings:?}");
    }

    #[test]
    fn ids_are_stable_across_frames() {
        let (a, b) = (host("web1"), host("web2"));
        assert_eq!(merge(&[&a, &b]), merge(&[&a.clone(), &b.clone()]));
        let mut marked = b.clone();
        marked.marks.push(Mark {
            socket: b.sockets[0].id.clone(),
            note: "look".into(),
        });
        let m = merge(&[&a, &marked]);
        assert_eq!(m.marks[0].socket, m.sockets[1].id);
    }

    #[test]
    fn containers_are_kept_per_host() {
        let (mut a, mut b) = (
            crate::testing::container_host(),
            crate::testing::container_host(),
        );
        a.host.hostname = "web1".into();
        b.host.hostname = "web2".into();
        let m = merge(&[&a, &b]);
        let names: Vec<_> = m.netns.iter().filter_map(|n| n.name.as_deref()).collect();
        assert_eq!(
            names,
            [
                "web1:host",
                "web1:web",
                "web1:net:[3] · socat (uid 1001)",
                "web2:host",
                "web2:web",
                "web2:net:[3] · socat (uid 1001)"
            ]
        );
        for (merged, orig) in m.netns.iter().zip(a.netns.iter().chain(&b.netns)) {
            assert_eq!(merged.container, orig.container);
            assert_eq!(merged.containers, orig.containers);
        }
        for (merged, orig) in m.sockets.iter().zip(a.sockets.iter().chain(&b.sockets)) {
            let c = |s: &crate::model::Socket| s.holders.first().and_then(|h| h.container.clone());
            assert_eq!(c(merged), c(orig));
        }
        // The dashboard lists each host's containers apart, though their ids are equal.
        let d = crate::ui::views::data::Data::with_findings(&m, Vec::new());
        assert_eq!(d.containers.len(), 6);
    }
}
