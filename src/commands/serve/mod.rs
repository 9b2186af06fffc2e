//! `bindscope serve`: a Prometheus exporter. A sampler thread takes a judged snapshot every
//! interval with the incremental collector (the dashboard's caches, the queue history for
//! growth findings) and keeps the newest good one; a scrape renders that sample, so it never
//! waits on a walk of every process. A failed collection keeps the last good sample and is
//! counted (`bindscope_collection_errors_total`).
//!
//! Read-only, and nothing from a request reaches the filesystem or the collector: the only
//! paths are `/metrics` and `/`, a request head is capped, and a connection lasts at most
//! [`CLIENT_TIMEOUT`] however slowly its client sends. It listens on loopback unless told
//! otherwise. SIGTERM or SIGINT end it cleanly, with status 0 (a service's normal stop);
//! SIGHUP is ignored.

mod http;
mod sampler;

use super::explain_privileges;
use crate::cli::ServeArgs;
use crate::export::prom::{ExporterStatus, Exposition, TextFormat};
use anyhow::Context as _;
use http::{Method, Request, RequestError, Response};
use sampler::{Sampler, Served};
use std::net::{TcpListener, TcpStream};
use std::os::fd::AsFd;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

/// Connections answered at once; more wait in the kernel's accept queue.
const MAX_CONNECTIONS: usize = 8;
/// How long a connection may last, from accept to the last byte of the answer: reading the
/// request and writing the answer together.
const CLIENT_TIMEOUT: Duration = Duration::from_secs(10);
/// How often the accept loop looks for a signal.
const TICK: Duration = Duration::from_millis(250);
/// The pause while every slot is busy, or after an error from accept().
const BUSY_WAIT: Duration = Duration::from_millis(20);

pub fn run(args: &ServeArgs) -> anyhow::Result<u8> {
    let stop = stop_signals()?;
    let listener = TcpListener::bind(args.listen)
        .with_context(|| format!("cannot listen on {}", args.listen))?;
    listener.set_nonblocking(true)?;
    let local = listener.local_addr()?;
    if !local.ip().is_loopback() {
        eprintln!(
            "bindscope: serving on {local}, beyond this host: anyone who can reach it reads every \
             listener's address, port and user. Put TLS and authentication in front of it (see \
             \"bindscope serve\" in the README)."
        );
    }
    let how = Exposition {
        format: TextFormat::Prometheus,
        series_limit: Some(usize::try_from(args.max_series).unwrap_or(usize::MAX)),
    };
    // The first sample before the first request, so a scrape never finds nothing; its
    // failure is an error, as for `record`.
    let sampler = Sampler::start(args.collect.config(), args.interval, how)?;
    if let Some(served) = sampler.served() {
        explain_privileges(served.snap(), args.quiet);
    }
    if !args.quiet.quiet {
        eprintln!(
            "bindscope: serving metrics on http://{local}/metrics, sampling every {}",
            humantime::format_duration(args.interval)
        );
    }
    let active = Arc::new(AtomicUsize::new(0));
    let previous_scrape = Arc::new(std::sync::Mutex::new(None::<f64>));
    while !stop.load(Ordering::Relaxed) {
        // Every slot busy: leave new connections in the kernel's accept queue, where they
        // wait for a slot instead of being refused.
        if active.load(Ordering::Acquire) >= MAX_CONNECTIONS {
            std::thread::sleep(BUSY_WAIT);
            continue;
        }
        if !readable(&listener, TICK) {
            continue;
        }
        let conn = match listener.accept() {
            Ok((c, _)) => c,
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => continue,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            // Out of fds, a reset before accept: this connection is lost, the server is
            // not; the pause keeps a persistent error (EMFILE) from spinning the loop.
            Err(_) => {
                std::thread::sleep(BUSY_WAIT);
                continue;
            }
        };
        let slot = Slot::take(&active);
        let handle = sampler.handle();
        let previous = Arc::clone(&previous_scrape);
        // A thread that cannot be made (EAGAIN under TasksMax) drops this connection only;
        // its slot is given back by the closure's drop.
        let _ = std::thread::Builder::new()
            .name("scrape".into())
            .spawn(move || {
                let _slot = slot;
                serve_one(conn, &handle, &previous);
            });
    }
    sampler.stop();
    Ok(0)
}

/// A busy connection slot, given back when dropped: also when its thread panics, or
/// cannot be started.
struct Slot(Arc<AtomicUsize>);

impl Slot {
    fn take(active: &Arc<AtomicUsize>) -> Slot {
        active.fetch_add(1, Ordering::AcqRel);
        Slot(Arc::clone(active))
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::AcqRel);
    }
}

/// SIGTERM and SIGINT stop the exporter; SIGHUP is ignored (a service's lost terminal or a
/// habitual "reload" must not take the metrics away), as node_exporter does.
fn stop_signals() -> std::io::Result<Arc<AtomicBool>> {
    use signal_hook::consts::{SIGHUP, SIGINT, SIGTERM};
    let stop = Arc::new(AtomicBool::new(false));
    for sig in [SIGTERM, SIGINT] {
        signal_hook::flag::register(sig, Arc::clone(&stop))?;
    }
    // A handler that sets a flag nobody reads: the default action (exit) is replaced.
    signal_hook::flag::register(SIGHUP, Arc::new(AtomicBool::new(false)))?;
    Ok(stop)
}

/// Waits up to `timeout` for a connection to accept.
fn readable(listener: &TcpListener, timeout: Duration) -> bool {
    use rustix::event::{PollFd, PollFlags, Timespec, poll};
    let fd = listener.as_fd();
    let mut fds = [PollFd::new(&fd, PollFlags::IN)];
    let t = Timespec {
        tv_sec: timeout.as_secs() as i64,
        tv_nsec: i64::from(timeout.subsec_nanos()),
    };
    matches!(poll(&mut fds, Some(&t)), Ok(n) if n > 0)
}

fn serve_one(
    conn: TcpStream,
    sampler: &sampler::Handle,
    previous_scrape: &std::sync::Mutex<Option<f64>>,
) {
    let started = Instant::now();
    // accept() on a non-blocking listener gives a blocking socket on Linux; say it, since
    // the deadline below works through blocking calls with timeouts.
    let _ = conn.set_nonblocking(false);
    let mut io = http::Deadlined {
        stream: &conn,
        deadline: started + CLIENT_TIMEOUT,
    };
    let (response, head_only, metrics) = match http::read_request(&mut io) {
        Ok(req) => {
            let head_only = req.method == Method::Head;
            let metrics = req.path == "/metrics";
            (answer(&req, sampler, previous_scrape), head_only, metrics)
        }
        Err(RequestError::Closed | RequestError::Io(_)) => return,
        Err(RequestError::TimedOut) => {
            // A moment more to say why, then the connection is closed either way.
            io.deadline = Instant::now() + Duration::from_secs(1);
            let _ = http::write_response(&mut io, &Response::text(408, "request timeout\n"), false);
            return;
        }
        Err(RequestError::TooLarge) => (Response::text(431, "request too large\n"), false, false),
        Err(e @ RequestError::Malformed(_)) => {
            (Response::text(400, &format!("{e}\n")), false, false)
        }
    };
    let _ = http::write_response(&mut io, &response, head_only);
    if metrics
        && response.status == 200
        && let Ok(mut last) = previous_scrape.lock()
    {
        *last = Some(started.elapsed().as_secs_f64());
    }
}

fn answer(
    req: &Request,
    sampler: &sampler::Handle,
    previous_scrape: &std::sync::Mutex<Option<f64>>,
) -> Response {
    if !matches!(req.method, Method::Get | Method::Head) {
        let mut r = Response::text(405, "only GET and HEAD\n");
        r.allow = Some("GET, HEAD");
        return r;
    }
    match req.path.as_str() {
        "/metrics" => {
            let format = if http::wants_openmetrics(req.accept.as_deref()) {
                TextFormat::OpenMetrics
            } else {
                TextFormat::Prometheus
            };
            let previous = previous_scrape.lock().ok().and_then(|g| *g);
            match sampler.exposition(format, previous) {
                Some(body) => Response {
                    status: 200,
                    content_type: format.content_type(),
                    body: body.into_bytes(),
                    allow: None,
                },
                None => Response::text(503, "no sample yet\n"),
            }
        }
        "/" => Response {
            status: 200,
            content_type: "text/html; charset=utf-8",
            body: index_page().into_bytes(),
            allow: None,
        },
        _ => Response::text(404, "not found: the metrics are at /metrics\n"),
    }
}

fn index_page() -> String {
    format!(
        "<!doctype html>\n<html><head><title>bindscope exporter</title></head><body>\n\
         <h1>bindscope exporter</h1>\n<p>Who owns every bound port: listeners, their accept \
         queues and users, and findings, for Prometheus.</p>\n\
         <p><a href=\"/metrics\">/metrics</a></p>\n<p>bindscope {}</p>\n</body></html>\n",
        env!("CARGO_PKG_VERSION")
    )
}

/// The status families of a scrape, from the sampler's counters.
fn status(served: &Served, counters: sampler::Counters, previous: Option<f64>) -> ExporterStatus {
    ExporterStatus {
        version: env!("CARGO_PKG_VERSION").to_string(),
        revision: env!("BINDSCOPE_GIT_COMMIT").to_string(),
        collections: counters.collections,
        collection_errors: counters.errors,
        last_success_unix: served.taken_at().time().map(|t| t.unix_seconds()),
        previous_scrape_seconds: previous,
    }
}

/// The whole exposition of `served` in `format`.
fn exposition(
    served: &Served,
    format: TextFormat,
    how: &Exposition,
    counters: sampler::Counters,
    previous: Option<f64>,
) -> String {
    let mut out = served.rendered(format, how);
    status(served, counters, previous).render(&mut out, format);
    format.end(&mut out);
    out
}
