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

/// One listener's queue numbers at a sample.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Queued {
    len: u32,
    backlog: u32,
    syn_recv: u32,
}

impl Queued {
    fn of(s: &crate::model::Socket) -> Option<Queued> {
        let q = s.accept_queue?;
        Some(Queued {
            len: q.len,
            backlog: q.backlog,
            syn_recv: s.syn_recv.unwrap_or(0),
        })
    }
}

/// One listener's samples as runs of equal numbers: a listener whose queue does not move
/// costs nothing per sample (a live view samples every listener every second).
#[derive(Debug, Clone)]
struct Ring {
    /// (numbers, the sample they were first seen at), oldest first; the last run lasts to
    /// the newest sample. Runs wholly before the window are dropped.
    runs: VecDeque<(Queued, usize)>,
    /// The sample this listener was first recorded at.
    since: usize,
    /// The last sample that listed it (a whole record drops the rest).
    seen: usize,
}

#[derive(Debug, Clone)]
pub struct History {
    capacity: usize,
    samples: usize,
    /// When each of the window's samples was taken, oldest first.
    times: VecDeque<u64>,
    /// The last sample at which some listener's numbers changed: verdicts drawn from the
    /// queues hold while no change is within the window ([`History::settled`]).
    last_change: usize,
    queues: HashMap<SocketId, Ring, foldhash::fast::RandomState>,
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
            times: VecDeque::new(),
            last_change: 0,
            queues: HashMap::default(),
            counters: HashMap::new(),
        }
    }

    /// The first sample of the window.
    fn window_start(&self) -> usize {
        (self.samples + 1).saturating_sub(self.capacity).max(1)
    }

    /// A new sample taken at `at_ms`, before its numbers are recorded.
    fn begin(&mut self, at_ms: u64) {
        self.samples += 1;
        if self.times.len() == self.capacity {
            self.times.pop_front();
        }
        self.times.push_back(at_ms);
    }

    /// Records `q` for `id` at the current sample.
    fn put(&mut self, id: &SocketId, q: Queued) {
        let now = self.samples;
        let start = self.window_start();
        let ring = match self.queues.get_mut(id) {
            Some(ring) => ring,
            None => self.queues.entry(id.clone()).or_insert_with(|| Ring {
                runs: VecDeque::new(),
                since: now,
                seen: now,
            }),
        };
        ring.seen = now;
        match ring.runs.back() {
            Some((last, _)) if *last == q => {}
            Some(_) => {
                ring.runs.push_back((q, now));
                self.last_change = now;
            }
            None => ring.runs.push_back((q, now)),
        }
        while ring.runs.get(1).is_some_and(|(_, from)| *from <= start) {
            ring.runs.pop_front();
        }
    }

    fn record_counters(&mut self, snap: &Snapshot, at_ms: u64) {
        let cap = self.capacity;
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

    /// Adds a snapshot taken at `at_ms`. Listeners that are gone are forgotten.
    pub fn record(&mut self, snap: &Snapshot, at_ms: u64) {
        self.begin(at_ms);
        let now = self.samples;
        let mut listeners = 0;
        for s in &snap.sockets {
            let Some(q) = Queued::of(s) else { continue };
            listeners += 1;
            // Two sockets of one id (a file can say anything) are one listener, sampled once.
            if self.queues.get(&s.id).is_some_and(|r| r.seen == now) {
                continue;
            }
            self.put(&s.id, q);
        }
        // More rings than listeners: some listener is gone.
        if self.queues.len() != listeners {
            self.queues.retain(|_, r| r.seen == now);
        }
        self.record_counters(snap, at_ms);
    }

    /// Adds `snap`, taken at `at_ms`, which is the snapshot last recorded with the quiet
    /// changes applied: the same listeners, of which only those at `changed` (indexes into
    /// its sockets) may have new numbers. Costs those, not every listener.
    pub fn record_quiet(&mut self, snap: &Snapshot, changed: &[usize], at_ms: u64) {
        self.begin(at_ms);
        // Every listener is still there: none is forgotten, and the others' last runs
        // simply last one sample more.
        for &i in changed {
            let Some(s) = snap.sockets.get(i) else {
                continue;
            };
            if let Some(q) = Queued::of(s) {
                self.put(&s.id, q);
            }
        }
        self.record_counters(snap, at_ms);
    }

    /// How many snapshots were recorded.
    pub fn samples(&self) -> usize {
        self.samples
    }

    /// A listener's samples, oldest first.
    pub fn queue(&self, id: &SocketId) -> Vec<QueueSample> {
        let Some(ring) = self.queues.get(id) else {
            return Vec::new();
        };
        let first = self.window_start();
        let from = ring.since.max(first);
        let mut out = Vec::with_capacity((self.samples + 1).saturating_sub(from));
        let mut run = 0;
        for n in from..=self.samples {
            // The run in force at sample n: the last that began at or before it (the first
            // run also stands for the window's start, where its own start was dropped).
            while ring.runs.get(run + 1).is_some_and(|(_, at)| *at <= n) {
                run += 1;
            }
            let Some((q, _)) = ring.runs.get(run) else {
                break;
            };
            out.push(QueueSample {
                at_ms: self.times.get(n - first).copied().unwrap_or(0),
                len: q.len,
                backlog: q.backlog,
                syn_recv: q.syn_recv,
            });
        }
        out
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

    /// Whether more samples equal to `snap`, the last one recorded, would leave every verdict
    /// drawn from this history as it is: each window that such samples extend holds one value
    /// throughout. While any of them changed within its window, the same snapshot again can
    /// start a growth (the third sample of `[1, 2, 2]`) or end one, and a counter's rise can
    /// slide out of the window. Windows that `snap` does not extend (a namespace not entered
    /// this time, or gone) no longer change, and neither do their verdicts.
    pub fn settled(&self, snap: &Snapshot) -> bool {
        // Every listener's window is extended by each record (those of gone ones are
        // dropped): they hold one value unless a change is within the window.
        let queues = self.last_change < self.window_start() + 1;
        queues
            && snap
                .netns
                .iter()
                .filter(|n| n.error.is_none())
                .filter_map(|n| self.counters.get(&n.id))
                .all(|r| r.front().is_none_or(|(_, a)| r.iter().all(|(_, b)| a == b)))
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

    #[test]
    fn settled_once_every_window_it_extends_holds_one_value() {
        let mut h = History::new(3);
        let at = |len: u32, overflows: u64| snap_with(len, "a", overflows);
        h.record(&at(1, 0), 0);
        assert!(h.settled(&at(1, 0)), "one sample");
        h.record(&at(2, 0), 1000);
        assert!(!h.settled(&at(2, 0)), "[1, 2]: one more 2 makes a growth");
        h.record(&at(2, 0), 2000);
        assert!(
            !h.settled(&at(2, 0)),
            "[1, 2, 2] grows until the 1 slides out"
        );
        h.record(&at(2, 0), 3000);
        assert!(h.settled(&at(2, 0)), "[2, 2, 2]");
        // A counter's rise holds until it leaves the window.
        h.record(&at(2, 5), 4000);
        h.record(&at(2, 5), 5000);
        assert!(!h.settled(&at(2, 5)), "ListenOverflows [0, 5, 5]");
        h.record(&at(2, 5), 6000);
        assert!(h.settled(&at(2, 5)));
        // A namespace not entered this time: its window no longer moves.
        h.record(&at(2, 9), 7000);
        assert!(!h.settled(&at(2, 9)));
        let mut not_entered = at(2, 9);
        not_entered.netns[0].error = Some("EPERM".into());
        h.record(&not_entered, 8000);
        assert!(h.settled(&not_entered));
    }

    /// A quiet record costs only the listeners that changed, and reads back exactly as
    /// whole records of the same snapshots would.
    #[test]
    fn quiet_records_read_back_as_whole_ones() {
        let mut quiet = History::new(3);
        let mut whole = History::new(3);
        let mut snap = snap_with(1, "a", 0);
        for (i, len) in [1, 1, 2, 2, 2, 5].into_iter().enumerate() {
            let at = i as u64 * 1000;
            let changed = snap.sockets[0].accept_queue.map(|q| q.len) != Some(len);
            snap.sockets[0].accept_queue = Some(AcceptQueue { len, backlog: 8 });
            if i == 0 {
                quiet.record(&snap, at);
            } else {
                let moved: Vec<usize> = if changed { vec![0] } else { Vec::new() };
                quiet.record_quiet(&snap, &moved, at);
            }
            whole.record(&snap, at);
            assert_eq!(
                quiet.queue(&snap.sockets[0].id),
                whole.queue(&snap.sockets[0].id)
            );
            assert_eq!(quiet.settled(&snap), whole.settled(&snap), "sample {i}");
        }
        let q = quiet.queue(&snap.sockets[0].id);
        assert_eq!(
            q.iter().map(|s| (s.at_ms, s.len)).collect::<Vec<_>>(),
            vec![(3000, 2), (4000, 2), (5000, 5)]
        );
    }
}
