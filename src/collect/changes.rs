//! What a quiet refresh found: the host as the last snapshot showed it, but for the numbers
//! that move on a quiet host (queues, SYN_RECV counts, the TcpExt counters, the processes
//! living in each namespace). A live view applies it to the snapshot it holds instead of
//! receiving, joining, judging and laying out every socket again.

use crate::model::{AcceptQueue, Snapshot, TakenAt, TcpExtCounters};

/// One socket's moving numbers, as `collect::join` sets them.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SocketNumbers {
    pub accept_queue: Option<AcceptQueue>,
    pub syn_recv: Option<u32>,
    pub syn_recv_shared: bool,
    pub recv_q: Option<u32>,
    pub send_q: Option<u32>,
}

impl SocketNumbers {
    /// The numbers of a snapshot's socket.
    pub fn of(s: &crate::model::Socket) -> Self {
        SocketNumbers {
            accept_queue: s.accept_queue,
            syn_recv: s.syn_recv,
            syn_recv_shared: s.syn_recv_shared,
            recv_q: s.recv_q,
            send_q: s.send_q,
        }
    }

    /// Whether the findings or the views' data read what differs between the two: the
    /// accept queue and SYN_RECV do, the byte queues of other sockets do not (see
    /// `ui::app::fingerprint::VOLATILE`).
    fn judged_differently(&self, other: &SocketNumbers) -> bool {
        (self.accept_queue, self.syn_recv, self.syn_recv_shared)
            != (other.accept_queue, other.syn_recv, other.syn_recv_shared)
    }
}

/// A namespace's moving parts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NetnsChange {
    /// Index into `Snapshot::netns`.
    pub index: usize,
    pub processes: u32,
    pub pids: Vec<u32>,
    pub counters: TcpExtCounters,
}

/// What changed since the snapshot the collector gave last (with the changes it gave since
/// applied). Applied in order, quiet changes keep a copy of that snapshot equal to what a
/// whole refresh would have made, but for the scan's statistics and race warnings, which
/// describe the last whole scan.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QuietChanges {
    pub taken_at: TakenAt,
    /// How long this refresh took.
    pub duration_ms: u64,
    /// Every namespace, in the snapshot's order.
    pub netns: Vec<NetnsChange>,
    /// The sockets whose numbers changed: (index into `Snapshot::sockets`, new numbers).
    pub sockets: Vec<(usize, SocketNumbers)>,
    /// Whether anything the findings or the views' data are made of changed: a listener's
    /// queues or a namespace's counters. Otherwise only what the views draw from the
    /// snapshot itself moved.
    pub judged: bool,
}

impl QuietChanges {
    /// Changes to `snap`, listing the sockets whose numbers differ from `before`'s.
    pub fn new(
        taken_at: TakenAt,
        duration_ms: u64,
        netns: Vec<NetnsChange>,
        snap_netns_counters: &[TcpExtCounters],
        sockets: Vec<(usize, SocketNumbers, SocketNumbers)>,
    ) -> Self {
        let counters_moved = netns
            .iter()
            .any(|n| snap_netns_counters.get(n.index) != Some(&n.counters));
        let judged = counters_moved
            || sockets
                .iter()
                .any(|(_, old, new)| old.judged_differently(new));
        QuietChanges {
            taken_at,
            duration_ms,
            netns,
            sockets: sockets.into_iter().map(|(i, _, new)| (i, new)).collect(),
            judged,
        }
    }

    /// These changes and then `newer`, as one.
    pub fn then(mut self, newer: QuietChanges) -> QuietChanges {
        let mut sockets: std::collections::BTreeMap<usize, SocketNumbers> =
            self.sockets.drain(..).collect();
        sockets.extend(newer.sockets);
        QuietChanges {
            taken_at: newer.taken_at,
            duration_ms: newer.duration_ms,
            netns: newer.netns,
            sockets: sockets.into_iter().collect(),
            judged: self.judged || newer.judged,
        }
    }

    /// The indexes of the sockets whose numbers changed.
    pub fn socket_indexes(&self) -> Vec<usize> {
        self.sockets.iter().map(|(i, _)| *i).collect()
    }

    /// Brings `snap` up to date. Indexes out of range (a snapshot that is not the one these
    /// changes are for) are skipped rather than trusted.
    pub fn apply(&self, snap: &mut Snapshot) {
        snap.taken_at = self.taken_at.clone();
        snap.scan.duration_ms = self.duration_ms;
        for n in &self.netns {
            if let Some(ns) = snap.netns.get_mut(n.index) {
                ns.processes = n.processes;
                ns.pids.clone_from(&n.pids);
                ns.counters.clone_from(&n.counters);
            }
        }
        for (i, v) in &self.sockets {
            if let Some(s) = snap.sockets.get_mut(*i) {
                s.accept_queue = v.accept_queue;
                s.syn_recv = v.syn_recv;
                s.syn_recv_shared = v.syn_recv_shared;
                s.recv_q = v.recv_q;
                s.send_q = v.send_q;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::TakenAt;

    fn numbers(len: u32) -> SocketNumbers {
        SocketNumbers {
            accept_queue: Some(AcceptQueue { len, backlog: 128 }),
            syn_recv: Some(0),
            ..SocketNumbers::default()
        }
    }

    #[test]
    fn byte_queues_are_not_judged_accept_queues_are() {
        let at = TakenAt::from_clock(std::time::SystemTime::UNIX_EPOCH);
        let udp = |q| SocketNumbers {
            recv_q: Some(q),
            send_q: Some(0),
            ..SocketNumbers::default()
        };
        let c = QuietChanges::new(at.clone(), 1, Vec::new(), &[], vec![(0, udp(0), udp(512))]);
        assert!(!c.judged);
        let c = QuietChanges::new(at, 1, Vec::new(), &[], vec![(0, numbers(0), numbers(3))]);
        assert!(c.judged);
        assert_eq!(c.sockets, vec![(0, numbers(3))]);
    }
}
