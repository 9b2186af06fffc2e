//! The exporter's sampler: a thread that takes a judged snapshot every interval and keeps
//! the newest good one for the scrapes, rendered at most once per format.

use crate::analyze::history::History;
use crate::collect::linux::collector::{CollectConfig, Collector, ProbeWhen};
use crate::export::prom::{self, Exposition, TextFormat};
use crate::model::Snapshot;
use crate::session::Session;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// How often the sampler's wait looks for the stop flag.
const TICK: Duration = Duration::from_millis(100);

/// The sample being served, and its renderings.
pub struct Served {
    pub snap: Snapshot,
    /// Prometheus text and OpenMetrics, each rendered at the first scrape that asks.
    rendered: Mutex<[Option<Arc<str>>; 2]>,
}

impl Served {
    fn new(snap: Snapshot) -> Served {
        Served {
            snap,
            rendered: Mutex::new([None, None]),
        }
    }

    /// The snapshot's families in `format` (without the exporter's status and end).
    pub fn rendered(&self, format: TextFormat, how: &Exposition) -> String {
        let slot = match format {
            TextFormat::Prometheus => 0,
            TextFormat::OpenMetrics => 1,
        };
        let Ok(mut cache) = self.rendered.lock() else {
            // A scrape thread panicked while holding it: render without the cache.
            return prom::render(&self.snap, &Exposition { format, ..*how });
        };
        let text = cache[slot].get_or_insert_with(|| {
            Arc::from(prom::render(&self.snap, &Exposition { format, ..*how }))
        });
        text.to_string()
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
        let first = session.judged_sample()?;
        let shared = Arc::new(Shared {
            served: Mutex::new(Some(Arc::new(Served::new(first.snap)))),
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
        let result = session.judged_sample();
        if let Ok(mut c) = shared.counters.lock() {
            c.collections += 1;
            c.errors += u64::from(result.is_err());
        }
        match result {
            Ok(sample) => {
                if let Ok(mut s) = shared.served.lock() {
                    *s = Some(Arc::new(Served::new(sample.snap)));
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
