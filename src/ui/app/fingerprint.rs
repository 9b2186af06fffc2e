//! A hash of everything the findings and the views' data are made of, so a refresh of a
//! quiet host (the same sockets, holders, options and queues) costs the collection only:
//! the analysis is skipped when the fingerprint did not change.

use crate::analyze::history::History;
use crate::model::{Finding, Snapshot};
use std::collections::hash_map::DefaultHasher;
use std::hash::{Hash, Hasher};

/// The fingerprint of a snapshot, in socket order. Time, scan figures and warnings are left
/// out: they change every refresh and feed no finding.
pub fn of(snap: &Snapshot) -> u64 {
    let mut h = DefaultHasher::new();
    snap.sockets.len().hash(&mut h);
    for s in &snap.sockets {
        s.id.hash(&mut h);
        s.state.hash(&mut h);
        s.uid.hash(&mut h);
        s.local_addr.hash(&mut h);
        s.local_port.hash(&mut h);
        s.remote_addr.hash(&mut h);
        s.remote_port.hash(&mut h);
        s.device.hash(&mut h);
        s.scope.hash(&mut h);
        s.address_state.hash(&mut h);
        s.accept_queue.map(|q| (q.len, q.backlog)).hash(&mut h);
        s.syn_recv.hash(&mut h);
        s.syn_recv_shared.hash(&mut h);
        s.holders_unknown.hash(&mut h);
        let o = &s.options;
        (
            o.reuseaddr,
            o.reuseport,
            o.v6only,
            o.freebind,
            o.transparent,
            o.nonblocking,
        )
            .hash(&mut h);
        (o.defer_accept, o.fastopen, &o.bind_device).hash(&mut h);
        for h2 in &s.holders {
            (
                h2.pid,
                h2.fd,
                h2.uid,
                &*h2.name,
                h2.user.as_deref(),
                h2.unit.as_deref(),
            )
                .hash(&mut h);
        }
    }
    for n in &snap.netns {
        (n.id, &n.name, n.kind, &n.error).hash(&mut h);
        let c = &n.counters;
        (
            c.listen_overflows,
            c.listen_drops,
            c.req_q_full_drop,
            c.req_q_full_do_cookies,
            c.defer_accept_drop,
        )
            .hash(&mut h);
        for i in &n.interfaces {
            (i.index, &i.name, i.up, i.carrier).hash(&mut h);
            for a in &i.addresses {
                (a.addr, a.prefix_len, &a.flags).hash(&mut h);
            }
        }
    }
    (&snap.privileges.missing, snap.marks.len()).hash(&mut h);
    h.finish()
}

/// Whether the findings could change with history alone, on an unchanged snapshot: a queue
/// judged growing (the window slides), or counters that rose within the window (a rise slides
/// out). A full queue is not: it is judged on the snapshot, which the fingerprint covers.
pub fn history_bound(findings: &[Finding], history: &History, snap: &Snapshot) -> bool {
    findings.iter().any(|f| f.kind == "accept_queue_growing")
        || snap.netns.iter().any(|n| {
            [
                history.counter_rise(n.id, |c| c.listen_overflows),
                history.counter_rise(n.id, |c| c.req_q_full_drop),
                history.counter_rise(n.id, |c| c.req_q_full_do_cookies),
            ]
            .into_iter()
            .any(|r| r.unwrap_or(0) > 0)
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::AcceptQueue;
    use crate::testing::{netns, snapshot_of, socket};

    #[test]
    fn changes_with_what_findings_use_and_not_with_time() {
        let a = snapshot_of(vec![socket()], vec![netns(1, Some("host"), None)]);
        let mut b = a.clone();
        b.taken_at = "2030-01-01T00:00:00Z".into();
        b.scan.duration_ms = 999;
        assert_eq!(of(&a), of(&b), "time and scan figures do not count");
        b.sockets[0].accept_queue = Some(AcceptQueue {
            len: 9,
            backlog: 128,
        });
        assert_ne!(of(&a), of(&b), "a queue length counts");
        let mut c = a.clone();
        c.sockets[0].options.reuseport = Some(true);
        assert_ne!(of(&a), of(&c), "an option counts");
        let mut d = a.clone();
        d.netns[0].counters.listen_overflows = Some(3);
        assert_ne!(of(&a), of(&d), "a counter counts");
    }

    #[test]
    fn only_growth_and_rising_counters_bind_findings_to_history() {
        use crate::model::{Finding, Severity};
        let snap = snapshot_of(vec![socket()], vec![netns(1, Some("host"), None)]);
        let mut h = History::new(10);
        h.record(&snap, 0);
        h.record(&snap, 1000);
        let f = |kind: &str| Finding {
            kind: kind.into(),
            severity: Severity::Warning,
            sockets: vec![],
            summary: String::new(),
            explanation: String::new(),
        };
        assert!(
            !history_bound(&[f("accept_queue_full")], &h, &snap),
            "judged on the snapshot"
        );
        assert!(history_bound(&[f("accept_queue_growing")], &h, &snap));
        let mut rose = snap.clone();
        rose.netns[0].counters.listen_overflows = Some(5);
        let mut h2 = History::new(10);
        let mut before = snap.clone();
        before.netns[0].counters.listen_overflows = Some(1);
        h2.record(&before, 0);
        h2.record(&rose, 1000);
        assert!(history_bound(&[], &h2, &rose), "a rise in the window");
    }
}
