//! The exporter's sampler: a thread that takes a judged snapshot every interval and keeps
//! the newest good one for the scrapes, rendered at most once per format.

use crate::analyze::findings;
use crate::analyze::history::History;
use crate::collect::linux::collector::{CollectConfig, CollectError, Collector, ProbeWhen};
use crate::export::prom::{self, Exposition, TextFormat};
use crate::model::{Snapshot, TakenAt};
use crate::session::{Change, Session};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// How often the sampler's wait looks for the stop flag.
const TICK: Duration = Duration::from_millis(100);

/// The sample being served: when it was taken, and the judged snapshot its families are
/// rendered from, which quiet refreshes that moved nothing those families show share.
pub struct Served {
    taken_at: TakenAt,
    duration_ms: u64,
    body: Arc<Body>,
}

/// A judged snapshot, and its families rendered at most once per format.
struct Body {
    snap: Snapshot,
    /// Prometheus text and OpenMetrics, each rendered at the first scrape that asks.
    rendered: Mutex<[Option<Arc<str>>; 2]>,
}

impl Served {
    fn new(snap: Snapshot) -> Served {
        Served {
            taken_at: snap.taken_at.clone(),
            duration_ms: snap.scan.duration_ms,
            body: Arc::new(Body {
                snap,
                rendered: Mutex::new([None, None]),
            }),
        }
    }

    /// The same families, at a later time.
    fn at(&self, taken_at: TakenAt, duration_ms: u64) -> Served {
        Served {
            taken_at,
            duration_ms,
            body: Arc::clone(&self.body),
        }
    }

    /// The judged snapshot the families come from (taken at or before [`Served::taken_at`]).
    pub fn snap(&self) -> &Snapshot {
        &self.body.snap
    }

    /// When the sample was taken.
    pub fn taken_at(&self) -> &TakenAt {
        &self.taken_at
    }

    /// The snapshot's metrics in `format` (without the exporter's status and end).
    pub fn rendered(&self, format: TextFormat, how: &Exposition) -> String {
        let snap = &self.body.snap;
        let mut out = prom::render_head(snap, &self.taken_at, self.duration_ms, format);
        let slot = match format {
            TextFormat::Prometheus => 0,
            TextFormat::OpenMetrics => 1,
        };
        let how = Exposition { format, ..*how };
        match self.body.rendered.lock() {
            Ok(mut cache) => {
                out.push_str(
                    cache[slot].get_or_insert_with(|| Arc::from(prom::render_families(snap, &how))),
                );
            }
            // A scrape thread panicked while holding it: render without the cache.
            Err(_) => out.push_str(&prom::render_families(snap, &how)),
        }
        out
    }
}

/// Collections tried and failed since the start.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counters {
    pub collections: u64,
    pub errors: u64,
}

struct Shared {
    served: Mutex<Option<Arc<Served>>>,
    counters: Mutex<Counters>,
    stop: AtomicBool,
    how: Exposition,
}

/// What a scrape needs: the newest sample and the counters.
#[derive(Clone)]
pub struct Handle(Arc<Shared>);

impl Handle {
    /// The whole exposition in `format`, `None` before the first good sample.
    pub fn exposition(&self, format: TextFormat, previous_scrape: Option<f64>) -> Option<String> {
        let served = self.0.served.lock().ok()?.clone()?;
        let counters = self.0.counters.lock().map(|c| *c).unwrap_or_default();
        Some(super::exposition(
            &served,
            format,
            &self.0.how,
            counters,
            previous_scrape,
        ))
    }
}

pub struct Sampler {
    shared: Arc<Shared>,
    thread: Option<JoinHandle<()>>,
}

impl Sampler {
    /// Takes the first sample (an error if it fails), then samples every `interval` on a
    /// thread of its own.
    pub fn start(
        cfg: CollectConfig,
        interval: Duration,
        how: Exposition,
    ) -> anyhow::Result<Sampler> {
        let cfg = CollectConfig {
            // A socket is duplicated for its options only once it has lived a whole interval
            // (see ProbeWhen): an exporter runs for months beside services that restart.
            probe_when: ProbeWhen::SeenTwice,
            ..cfg
        };
        let mut session = Session::new(Collector::new(cfg), History::default());
        let first = next_served(&mut session, None)?;
        let shared = Arc::new(Shared {
            served: Mutex::new(Some(Arc::new(first))),
            counters: Mutex::new(Counters {
                collections: 1,
                errors: 0,
            }),
            stop: AtomicBool::new(false),
            how,
        });
        let for_thread = Arc::clone(&shared);
        let thread = std::thread::Builder::new()
            .name("sampler".into())
            .spawn(move || sample_loop(session, interval, &for_thread))?;
        Ok(Sampler {
            shared,
            thread: Some(thread),
        })
    }

    pub fn served(&self) -> Option<Arc<Served>> {
        self.shared.served.lock().ok()?.clone()
    }

    pub fn handle(&self) -> Handle {
        Handle(Arc::clone(&self.shared))
    }

    /// Stops the thread, after the collection it may be in.
    pub fn stop(mut self) {
        self.shared.stop.store(true, Ordering::Release);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// The next sample to serve. A quiet refresh that moved nothing the families show (no
/// socket's numbers, no counter) keeps `last`'s families when the history had settled (a
/// queue still in a growth window may change a finding): it costs no judgement, no copy of
/// the snapshot and no rendering. Anything else is judged and copied once.
fn next_served(session: &mut Session, last: Option<&Served>) -> Result<Served, CollectError> {
    let r = session.refresh()?;
    if let (Some(last), Change::Quiet(c)) = (last, &r.change)
        && c.sockets.is_empty()
        && !c.judged
        && r.history.settled(r.snap)
    {
        return Ok(last.at(r.snap.taken_at.clone(), r.snap.scan.duration_ms));
    }
    let mut snap = r.snap.clone();
    snap.findings = findings::analyze(&snap, r.history);
    Ok(Served::new(snap))
}

fn sample_loop(mut session: Session, interval: Duration, shared: &Shared) {
    let mut next = Instant::now() + interval;
    loop {
        while Instant::now() < next {
            if shared.stop.load(Ordering::Acquire) {
                return;
            }
            std::thread::sleep(TICK.min(next.saturating_duration_since(Instant::now())));
        }
        if shared.stop.load(Ordering::Acquire) {
            return;
        }
        next += interval;
        let last = shared.served.lock().ok().and_then(|s| s.clone());
        let result = next_served(&mut session, last.as_deref());
        if let Ok(mut c) = shared.counters.lock() {
            c.collections += 1;
            c.errors += u64::from(result.is_err());
        }
        match result {
            Ok(served) => {
                if let Ok(mut s) = shared.served.lock() {
                    *s = Some(Arc::new(served));
                }
            }
            Err(e) => eprintln!("bindscope: collection failed, serving the last good sample: {e}"),
        }
        // A collection longer than the interval: start the next one at once, not a burst
        // to catch up.
        let now = Instant::now();
        if next < now {
            next = now;
        }
    }
}
