//! Queue history across refreshes: per listener, the accept queue length, backlog and
//! SYN_RECV count of the last samples, and per namespace the TcpExt counters, so findings can
//! say "growing" and "overflows rising". A listener is keyed by its socket id (namespace and
//! cookie): a restarted listener is a new socket with a new history.

use crate::model::{NetnsId, Snapshot, SocketId, TcpExtCounters};
use serde::{Deserialize, Serialize};
use std::collections::{HashMap, VecDeque};

/// One listener's queues at one sample.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct QueueSample {
    /// Milliseconds on the sampler's clock.
    pub at_ms: u64,
    pub len: u32,
    pub backlog: u32,
    pub syn_recv: u32,
}

#[derive(Debug, Clone)]
pub struct History {
    capacity: usize,
    samples: usize,
    queues: HashMap<SocketId, VecDeque<QueueSample>>,
    counters: HashMap<NetnsId, VecDeque<(u64, TcpExtCounters)>>,
}

impl Default for History {
    fn default() -> Self {
        History::new(60)
    }
}

impl History {
    /// Keeps the last `capacity` samples (at least 2).
    pub fn new(capacity: usize) -> Self {
        History {
            capacity: capacity.max(2),
            samples: 0,
            queues: HashMap::new(),
            counters: HashMap::new(),
        }
    }

    /// Adds a snapshot taken at `at_ms`. Listeners that are gone are forgotten.
    pub fn record(&mut self, snap: &Snapshot, at_ms: u64) {
        self.samples += 1;
        let cap = self.capacity;
        let mut present = std::collections::HashSet::new();
        for s in &snap.sockets {
            let Some(q) = s.accept_queue else { continue };
            present.insert(s.id.clone());
            let ring = self.queues.entry(s.id.clone()).or_default();
            if ring.len() == cap {
                ring.pop_front();
            }
            ring.push_back(QueueSample {
                at_ms,
                len: q.len,
                backlog: q.backlog,
                syn_recv: s.syn_recv.unwrap_or(0),
            });
        }
        self.queues.retain(|id, _| present.contains(id));
        for ns in &snap.netns {
            if ns.error.is_some() {
                continue;
            }
            let ring = self.counters.entry(ns.id).or_default();
            if ring.len() == cap {
                ring.pop_front();
            }
            ring.push_back((at_ms, ns.counters.clone()));
        }
    }

    /// How many snapshots were recorded.
    pub fn samples(&self) -> usize {
        self.samples
    }

    /// A listener's samples, oldest first.
    pub fn queue(&self, id: &SocketId) -> Vec<QueueSample> {
        self.queues
            .get(id)
            .map(|r| r.iter().copied().collect())
            .unwrap_or_default()
    }

    /// How much a counter of a namespace rose over the window; `None` without two samples
    /// or when the counter is unknown. A counter that went down (namespace recreated) is 0.
    pub fn counter_rise(
        &self,
        netns: NetnsId,
        field: impl Fn(&TcpExtCounters) -> Option<u64>,
    ) -> Option<u64> {
        let ring = self.counters.get(&netns)?;
        if ring.len() < 2 {
            return None;
        }
        let first = field(&ring.front()?.1)?;
        let last = field(&ring.back()?.1)?;
        Some(last.saturating_sub(first))
    }
}

/// A queue is growing when at least three samples never go down and the last is above the
/// first: a listener that accepts slower than clients arrive.
pub fn is_growing(samples: &[QueueSample]) -> bool {
    samples.len() >= 3
        && samples.windows(2).all(|w| w[1].len >= w[0].len)
        && samples.last().map(|s| s.len) > samples.first().map(|s| s.len)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::AcceptQueue;
    use crate::testing::{netns, snapshot_of, socket};

    fn snap_with(len: u32, id: &str, overflows: u64) -> Snapshot {
        let mut s = socket();
        s.id = SocketId(id.into());
        s.accept_queue = Some(AcceptQueue { len, backlog: 8 });
        let mut ns = netns(1, Some("host"), None);
        ns.counters.listen_overflows = Some(overflows);
        snapshot_of(vec![s], vec![ns])
    }

    #[test]
    fn growth_needs_three_rising_samples() {
        let q = |lens: &[u32]| -> Vec<QueueSample> {
            lens.iter()
                .enumerate()
                .map(|(i, &len)| QueueSample {
                    at_ms: i as u64,
                    len,
                    backlog: 8,
                    syn_recv: 0,
                })
                .collect()
        };
        assert!(is_growing(&q(&[0, 1, 3])));
        assert!(is_growing(&q(&[2, 2, 5])));
        assert!(!is_growing(&q(&[0, 3])), "two samples are not a trend");
        assert!(!is_growing(&q(&[0, 4, 2])), "it went down: accepted");
        assert!(!is_growing(&q(&[3, 3, 3])), "steady");
    }

    #[test]
    fn records_keep_a_window_and_forget_restarted_listeners() {
        let mut h = History::new(3);
        for (i, len) in [1, 2, 3, 4].into_iter().enumerate() {
            h.record(&snap_with(len, "a", i as u64 * 5), i as u64 * 1000);
        }
        let q = h.queue(&SocketId("a".into()));
        assert_eq!(q.iter().map(|s| s.len).collect::<Vec<_>>(), vec![2, 3, 4]);
        assert_eq!(h.counter_rise(NetnsId(1), |c| c.listen_overflows), Some(10));
        assert_eq!(h.samples(), 4);
        // The listener restarted: a new socket id; the old history is dropped.
        h.record(&snap_with(0, "b", 20), 5000);
        assert!(h.queue(&SocketId("a".into())).is_empty());
        assert_eq!(h.queue(&SocketId("b".into())).len(), 1);
    }
}
