//! How long the dashboard takes inside the app at 50,000 sockets: taking a snapshot in, a
//! quiet refresh, a key press with its redraw, typing a filter, reversing the sort; and the
//! parts of a refresh (findings, port groups, the views' data). No terminal, no collector:
//! the app is driven through `App::update` and drawn on ratatui's `TestBackend`, as the
//! dashboard's tests drive it, on a busy host made from the demo snapshot.
//!
//! Usage:        cargo bench --bench dashboard_timing
//! Environment:  SOCKETS (50000): the size of the host; RUNS (3): each figure is the
//!               median of this many runs, each with a new app.
//!
//! Absolute times move with the machine's load (two shared cores here), so each figure is
//! also printed as a share of something measured in the same run, or of the 50 ms a key
//! press may take (README, "Performance"): a quiet refresh against a full one, each part
//! against the full refresh it belongs to.

use bindscope::analyze::findings::analyze;
use bindscope::analyze::history::History;
use bindscope::analyze::ports::port_groups;
use bindscope::model::{Snapshot, SocketId, State};
use bindscope::ui::app::{App, AppInit, Msg};
use bindscope::ui::keymap::Keymap;
use bindscope::ui::theme::Theme;
use bindscope::ui::views::data::Data;
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use std::error::Error;
use std::time::{Duration, Instant};

include!("busy_host.rs");

/// What a key press may take, from the key to the redrawn screen (README, "Performance").
const KEY_BUDGET: Duration = Duration::from_millis(50);

/// The terminal sizes the dashboard's screenshots are taken at.
const SIZES: [(u16, u16); 2] = [(80, 24), (160, 48)];

type Term = Terminal<TestBackend>;

fn main() -> Result<(), Box<dyn Error>> {
    let n = env_number("SOCKETS", 50_000)?;
    let runs = env_number("RUNS", 3)?.max(1);
    let demo: Snapshot =
        serde_json::from_str(include_str!("../tests/fixtures/demo-snapshot.json"))?;
    let snap = busy_host(demo, n);
    println!(
        "dashboard inside the app at {n} sockets, median of {runs} runs ({} build)",
        if cfg!(debug_assertions) {
            "debug"
        } else {
            "release"
        }
    );
    for (w, h) in SIZES {
        let mut runs_at = Vec::with_capacity(runs);
        for _ in 0..runs {
            runs_at.push(app_at(&snap, w, h)?);
        }
        let m = |f: fn(&AppTimes) -> Duration| median(runs_at.iter().map(f).collect());
        let full = m(|t| t.full);
        let quiet = m(|t| t.quiet);
        let (mean, worst) = (m(|t| t.key_mean), m(|t| t.key_worst));
        let (filter, sort) = (m(|t| t.filter), m(|t| t.sort));
        println!("{w}x{h}:");
        row("snapshot taken in", full, "");
        row(
            "a quiet refresh",
            quiet,
            &format!("{} of a full one", share(quiet, full)),
        );
        row(
            "key + redraw, mean",
            mean,
            &format!("{} of the key budget", share(mean, KEY_BUDGET)),
        );
        row(
            "key + redraw, worst",
            worst,
            &format!("{} of the key budget", share(worst, KEY_BUDGET)),
        );
        row(
            &format!("filter typed ({FILTER_KEYS} keys) + redraw"),
            filter,
            &format!(
                "{} of the key budget per key",
                share(filter / FILTER_KEYS, KEY_BUDGET)
            ),
        );
        row(
            "reverse sort + redraw",
            sort,
            &format!("{} of the key budget", share(sort, KEY_BUDGET)),
        );
    }
    parts(&snap, runs);
    Ok(())
}

fn env_number(name: &str, default: usize) -> Result<usize, Box<dyn Error>> {
    match std::env::var(name) {
        Ok(v) => Ok(v.parse().map_err(|e| format!("{name}={v:?}: {e}"))?),
        Err(_) => Ok(default),
    }
}

/// What one app at one size took.
struct AppTimes {
    full: Duration,
    quiet: Duration,
    key_mean: Duration,
    key_worst: Duration,
    filter: Duration,
    sort: Duration,
}

/// The filter typed: `/`, the text and Enter, each a key press (with a live preview over
/// every socket for each character).
const FILTER: &str = "port:2000-3000";
const FILTER_KEYS: u32 = FILTER.len() as u32 + 2;

/// One app at one size: a snapshot, a quiet one, keys, a filter, a sort.
fn app_at(snap: &Snapshot, w: u16, h: u16) -> Result<AppTimes, Box<dyn Error>> {
    let mut a = App::new(AppInit {
        keymap: Keymap::default(),
        theme: Theme::default(),
        interval: Duration::from_secs(1),
        export_dir: "/var/tmp/exports".into(),
        replay: None,
        notice: None,
    });
    a.update(Msg::Resize {
        width: w,
        height: h,
    });
    let first = Box::new(snap.clone());
    let (_, full) = timed(|| {
        a.update(Msg::Snapshot {
            snap: first,
            at_ms: 0,
        })
    });
    // The same host a second later: only a volatile field moved (the app's fingerprint
    // leaves it out, as it leaves out the time taken), so the data made for the first holds.
    let mut again = Box::new(snap.clone());
    again.scan.duration_ms += 1;
    let (_, quiet) = timed(|| {
        a.update(Msg::Snapshot {
            snap: again,
            at_ms: 1000,
        })
    });
    let mut term = Terminal::new(TestBackend::new(w, h))?;
    draw(&mut term, &a)?;

    let keys = [
        key('j'),
        code(KeyCode::PageDown),
        key('G'),
        key('k'),
        key('g'),
        key('2'),
        key('j'),
        key('1'),
    ];
    let mut presses = Vec::with_capacity(keys.len());
    for k in keys {
        let t = Instant::now();
        a.update(k);
        draw(&mut term, &a)?;
        presses.push(t.elapsed());
    }
    let key_mean = presses.iter().sum::<Duration>() / u32::try_from(presses.len()).unwrap_or(1);
    let key_worst = presses.iter().max().copied().unwrap_or_default();

    let t = Instant::now();
    a.update(key('/'));
    for c in FILTER.chars() {
        a.update(key(c));
    }
    a.update(code(KeyCode::Enter));
    draw(&mut term, &a)?;
    let filter = t.elapsed();

    let t = Instant::now();
    a.update(key('S'));
    draw(&mut term, &a)?;
    let sort = t.elapsed();
    Ok(AppTimes {
        full,
        quiet,
        key_mean,
        key_worst,
        filter,
        sort,
    })
}

/// The parts of the data a full refresh makes, each as a share of the whole made in the
/// same run. What is made is dropped outside the timing, as the app keeps it.
fn parts(snap: &Snapshot, runs: usize) {
    let history = History::default();
    let (mut whole, mut findings, mut data, mut groups) = (vec![], vec![], vec![], vec![]);
    for _ in 0..runs {
        whole.push(timed(|| Data::new(snap, &history)).1);
        let (found, d) = timed(|| analyze(snap, &history));
        findings.push(d);
        groups.push(timed(|| port_groups(&snap.sockets)).1);
        data.push(timed(|| Data::with_findings(snap, found)).1);
    }
    let whole = median(whole);
    println!("the data of a full refresh:");
    row("findings and view data", whole, "");
    for (what, d) in [
        ("findings (analyze)", findings),
        ("view data (with the findings)", data),
        ("  of which port groups", groups),
    ] {
        let d = median(d);
        row(what, d, &format!("{} of the whole", share(d, whole)));
    }
}

/// What `f` made, and how long it took.
fn timed<T>(f: impl FnOnce() -> T) -> (T, Duration) {
    let t = Instant::now();
    let out = f();
    (out, t.elapsed())
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v.get(v.len() / 2).copied().unwrap_or_default()
}

fn draw(term: &mut Term, a: &App) -> Result<(), Box<dyn Error>> {
    term.draw(|f| a.render(f))?;
    Ok(())
}

fn row(what: &str, d: Duration, relative: &str) {
    println!(
        "  {what:<34} {:>9.2} ms  {relative}",
        d.as_secs_f64() * 1000.0
    );
}

/// `part` as a percentage of `whole`.
fn share(part: Duration, whole: Duration) -> String {
    if whole.is_zero() {
        return "-".into();
    }
    format!("{:.1}%", 100.0 * part.as_secs_f64() / whole.as_secs_f64())
}

fn key(c: char) -> Msg {
    Msg::Key(KeyEvent::new(KeyCode::Char(c), KeyModifiers::NONE))
}

fn code(c: KeyCode) -> Msg {
    Msg::Key(KeyEvent::new(c, KeyModifiers::NONE))
}
