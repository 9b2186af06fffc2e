//! A sampling session: collect → history → judge, in one place for every command that takes
//! snapshots (`snapshot`, `findings`, `record`) and the dashboard's collector thread.
//!
//! Above `collect` and `analyze` (it drives one and feeds the other), below the outputs'
//! users. Each sample is recorded in the history at its time on the collector's own clock
//! (milliseconds since the session started), so a recording replays with its recorded times.

use crate::analyze::findings;
use crate::analyze::history::History;
use crate::collect::changes::QuietChanges;
use crate::collect::linux::collector::{CollectError, Collector, Refreshed};
use crate::model::{Finding, Snapshot};
use std::time::Duration;

/// One snapshot as a session took it.
#[derive(Debug)]
pub struct Sample {
    pub snap: Snapshot,
    /// When it was taken: milliseconds since the session started, as the history has it.
    pub at_ms: u64,
}

pub struct Session {
    collector: Collector,
    history: History,
    /// The collector's monotonic clock when the session started.
    started: Duration,
    /// The snapshot [`Session::refresh`] keeps up to date.
    current: Option<Snapshot>,
}

/// What a refresh changed in the session's snapshot.
#[derive(Debug)]
pub enum Change {
    /// A new snapshot.
    Whole,
    /// These numbers only, applied already (a copy of the snapshot elsewhere applies them
    /// too).
    Quiet(QuietChanges),
}

/// The session's snapshot after a refresh.
pub struct Refresh<'a> {
    pub snap: &'a Snapshot,
    /// The history, with this snapshot recorded.
    pub history: &'a History,
    pub at_ms: u64,
    pub change: Change,
}

impl Session {
    /// A session over `collector`, keeping the queue history in `history` (its capacity is
    /// the window growth is judged over).
    pub fn new(collector: Collector, history: History) -> Session {
        let started = collector.monotonic();
        Session {
            collector,
            history,
            started,
            current: None,
        }
    }

    /// For live views: the next refresh, applied to the snapshot the session keeps (a
    /// quiet one only changes its moving numbers; see `Collector::refresh`), and added to
    /// the history.
    pub fn refresh(&mut self) -> Result<Refresh<'_>, CollectError> {
        let refreshed = match self.collector.refresh() {
            Ok(r) => r,
            Err(e) => {
                // The next refresh starts from nothing: no change may apply to a snapshot
                // the caller never got.
                self.current = None;
                self.collector.forget_last();
                return Err(e);
            }
        };
        let at_ms = self.now_ms();
        let (snap, change) = match (refreshed, self.current.take()) {
            (Refreshed::Quiet(changes), Some(mut snap)) => {
                changes.apply(&mut snap);
                self.history
                    .record_quiet(&snap, &changes.socket_indexes(), at_ms);
                (snap, Change::Quiet(changes))
            }
            (Refreshed::Whole(snap), _) => {
                self.history.record(&snap, at_ms);
                (*snap, Change::Whole)
            }
            // Not by the collector's contract (a quiet refresh follows a whole one, which
            // the session keeps, and an error makes the collector forget it); if it ever
            // happened, a whole snapshot is taken rather than changes applied to nothing.
            (Refreshed::Quiet(_), None) => {
                self.collector.forget_last();
                let snap = self.collector.collect()?;
                self.history.record(&snap, at_ms);
                (snap, Change::Whole)
            }
        };
        let snap = self.current.insert(snap);
        Ok(Refresh {
            snap,
            history: &self.history,
            at_ms,
            change,
        })
    }

    fn now_ms(&self) -> u64 {
        self.collector
            .monotonic()
            .saturating_sub(self.started)
            .as_millis() as u64
    }

    /// Takes one snapshot and adds it to the history. Its findings are not judged: the
    /// caller judges when it needs them ([`Session::judge`]), once.
    pub fn sample(&mut self) -> Result<Sample, CollectError> {
        let sample = self.sample_unrecorded()?;
        self.history.record(&sample.snap, sample.at_ms);
        Ok(sample)
    }

    /// Takes one snapshot and does not record it: for a command that takes only this one,
    /// whose findings are the same without it ([`History::record`] of a first sample
    /// leaves nothing to judge: growth needs three samples, a counter's rise two).
    /// Recording 15,000 listeners takes ~10 ms.
    pub fn sample_unrecorded(&mut self) -> Result<Sample, CollectError> {
        let snap = self.collector.collect()?;
        let at_ms = self.now_ms();
        Ok(Sample { snap, at_ms })
    }

    /// As [`Session::sample`], with the findings judged into the snapshot.
    pub fn judged_sample(&mut self) -> Result<Sample, CollectError> {
        let mut sample = self.sample()?;
        sample.snap.findings = self.judge(&sample.snap);
        Ok(sample)
    }

    /// The findings of `snap` (the last sample) with the history so far.
    pub fn judge(&self, snap: &Snapshot) -> Vec<Finding> {
        findings::analyze(snap, &self.history)
    }

    pub fn history(&self) -> &History {
        &self.history
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::collect::linux::collector::CollectConfig;
    use crate::collect::linux::replay::RecordedSources;
    use std::path::Path;

    /// A session over the recorded host, and how long its recorded collection took (ms).
    fn session() -> (Session, u64) {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/small-host");
        let sources = RecordedSources::load(&dir).expect("the recording");
        let clock = &sources.manifest().monotonic;
        let (first, last) = (clock.first().copied(), clock.last().copied());
        let took = last
            .unwrap_or_default()
            .saturating_sub(first.unwrap_or_default());
        let s = Session::new(
            Collector::with_sources(CollectConfig::default(), Box::new(sources)),
            History::new(5),
        );
        (s, took.as_millis() as u64)
    }

    /// Each sample goes into the history once, at its time on the collector's clock; the
    /// findings are judged only when asked, with that history.
    #[test]
    fn samples_are_recorded_then_judged() {
        let (mut s, took_ms) = session();
        let first = s.sample().expect("sample");
        assert!(first.snap.findings.is_empty(), "not judged");
        assert_eq!(s.history().samples(), 1);
        let judged = s.judged_sample().expect("sample");
        assert_eq!(s.history().samples(), 2);
        assert!(!judged.snap.findings.is_empty());
        assert_eq!(judged.snap.findings, s.judge(&judged.snap));
        // The first sample is timed by the recorded clock (from the session's start to its
        // end); the recording has no later readings, so time stands still after it.
        assert_eq!(first.at_ms, took_ms);
        assert_eq!(judged.at_ms, first.at_ms);
    }

    /// A first sample judges the same unrecorded: what `snapshot` relies on to skip
    /// recording it. The snapshot has listeners with full accept queues, SYN_RECV and
    /// counters, so every use of the history (queues, counter rises) is asked.
    #[test]
    fn a_first_sample_judges_the_same_unrecorded() {
        let (mut s, _) = session();
        let mut sample = s.sample_unrecorded().expect("sample");
        assert_eq!(s.history().samples(), 0, "not recorded");
        for (i, sock) in sample.snap.sockets.iter_mut().enumerate() {
            if let Some(q) = &mut sock.accept_queue {
                q.len = q.backlog + i as u32 % 2;
                sock.syn_recv = Some(q.backlog);
            }
        }
        for ns in &mut sample.snap.netns {
            ns.counters.listen_overflows = Some(7);
            ns.counters.req_q_full_drop = Some(3);
        }
        let unrecorded = findings::analyze(&sample.snap, s.history());
        let mut once = History::new(5);
        once.record(&sample.snap, sample.at_ms);
        assert_eq!(unrecorded, findings::analyze(&sample.snap, &once));
        assert!(
            unrecorded
                .iter()
                .any(|f| f.kind == crate::model::FindingKind::AcceptQueueFull),
            "{unrecorded:?}"
        );
    }
}
