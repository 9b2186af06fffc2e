//! The dashboard's runtime: the terminal, a collector thread, and the loop that turns
//! terminal events and snapshots into [`Msg`]s for the [`App`] and carries out its
//! [`Effect`]s. The terminal is restored on quit, on error, on panic, and on SIGTERM, SIGHUP
//! and SIGINT. Colours go out as the 16 ANSI colours ([`ansi16`]), and a terminal that
//! cannot show UTF-8 gets every frame in ASCII ([`crate::ui::widgets::ascii`]).

mod ansi16;

use super::app::{App, AppInit, Effect, Msg, Sample, fingerprint};
use super::views::data::Data;
use super::widgets::ascii;
use crate::export;
use crate::export::feed::{Feed, FeedEvent};
use crate::model::Snapshot;
use crate::output::write::{create_recording_or, write_atomic};
use crate::session::{Change, Refresh, Session};
use crate::signals::{self, Ending};
use crate::text::glyphs::Charset;
use ansi16::Ansi16;
use ratatui::backend::CrosstermBackend;
use ratatui::crossterm::event::{self, DisableMouseCapture, EnableMouseCapture, Event};
use ratatui::crossterm::execute;
use ratatui::crossterm::terminal::{
    Clear, ClearType, EnterAlternateScreen, LeaveAlternateScreen, disable_raw_mode, enable_raw_mode,
};
use ratatui::{Frame, Terminal};
use std::collections::VecDeque;
use std::io::Write as _;
use std::io::{self, Stdout};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{self, Receiver};
use std::sync::{Arc, Condvar, Mutex};
use std::thread;
use std::time::{Duration, Instant};

/// How often the loop wakes without input, to pick up a new snapshot.
const POLL: Duration = Duration::from_millis(100);

/// What the collector thread is told, and what it hands back.
struct Shared {
    state: Mutex<CollectorState>,
    wake: Condvar,
}

struct CollectorState {
    interval: Duration,
    paused: bool,
    stop: bool,
    /// Only the newest snapshot is kept: a slow UI never works through a backlog.
    latest: Option<Result<Prepared, String>>,
    /// Bumped on every change of interval or pause, so a waiting collector re-reads them.
    generation: u64,
}

/// Puts the terminal back the way it was. Safe to call more than once.
pub fn restore_terminal() {
    let _ = disable_raw_mode();
    let _ = execute!(io::stdout(), LeaveAlternateScreen, DisableMouseCapture);
    let _ = execute!(io::stdout(), ratatui::crossterm::cursor::Show);
}

/// Whether a dashboard has the terminal in raw mode right now. The one global here: the
/// binary's out-of-memory handler has no other way to reach the terminal before it exits.
static TERMINAL_TAKEN: AtomicBool = AtomicBool::new(false);

/// Restores the terminal if a dashboard has it, for the out-of-memory exit (no unwinding
/// happens there, so the guard below never runs).
pub fn restore_terminal_if_taken() {
    if TERMINAL_TAKEN.swap(false, Ordering::SeqCst) {
        restore_terminal();
    }
}

/// Restores the terminal when dropped: on return, on `?`, and while unwinding.
struct TerminalGuard;

impl TerminalGuard {
    fn take() -> TerminalGuard {
        TERMINAL_TAKEN.store(true, Ordering::SeqCst);
        TerminalGuard
    }
}

impl Drop for TerminalGuard {
    fn drop(&mut self) {
        TERMINAL_TAKEN.store(false, Ordering::SeqCst);
        restore_terminal();
    }
}

/// A refresh with the time it was taken and, when anything the views depend on changed,
/// their data, worked out on the collector thread.
struct Prepared {
    sample: Sample,
    at_ms: u64,
    fingerprint: fingerprint::Fingerprint,
    data: Option<Box<Data>>,
}

impl Prepared {
    /// `self` and then `newer`, as one message (the app has not taken `self` yet): no
    /// change may be dropped, and data made for `self` holds for `newer` when that found
    /// nothing changed since (no data of its own).
    fn then(self, newer: Prepared) -> Prepared {
        let sample = self.sample.then(newer.sample);
        Prepared {
            sample,
            at_ms: newer.at_ms,
            fingerprint: newer.fingerprint,
            data: newer.data.or(self.data),
        }
    }

    fn into_msg(self) -> Msg {
        match self.sample {
            Sample::Whole(snap) => Msg::Prepared {
                snap,
                at_ms: self.at_ms,
                fingerprint: self.fingerprint,
                data: self.data,
            },
            Sample::Quiet(changes) => Msg::Quiet {
                changes,
                at_ms: self.at_ms,
                fingerprint: self.fingerprint,
                data: self.data,
            },
        }
    }
}

/// What the collector thread keeps to judge snapshots as the app would: the session (whose
/// history is the app's), and what the last data it made was made from.
struct Judge {
    session: Session,
    basis: fingerprint::Basis,
    /// The fingerprint of the session's snapshot: kept across quiet refreshes that change
    /// nothing it covers.
    fingerprint: Option<fingerprint::Fingerprint>,
}

impl Judge {
    /// The next refresh, with the views' data when anything they depend on changed.
    fn prepare(&mut self) -> Result<Prepared, String> {
        let Refresh {
            snap,
            history,
            at_ms,
            change,
        } = self.session.refresh().map_err(|e| format!("{e}"))?;
        let fp = match (&change, self.fingerprint) {
            (Change::Quiet(c), Some(fp)) if !c.judged => fp,
            _ => fingerprint::of(snap),
        };
        self.fingerprint = Some(fp);
        let data = if self.basis.holds(fp) {
            None
        } else {
            let data = Data::new(snap, history);
            self.basis.made(fp, snap, history);
            Some(Box::new(data))
        };
        let sample = match change {
            Change::Whole => Sample::Whole(Box::new(snap.clone())),
            Change::Quiet(c) => Sample::Quiet(c),
        };
        Ok(Prepared {
            sample,
            at_ms,
            fingerprint: fp,
            data,
        })
    }
}

/// Takes snapshots until told to stop: one, then a wait of the interval (cut short when
/// the interval, pause or stop change), and while paused no collection at all.
fn collector_thread(shared: Arc<Shared>, session: Session) {
    let mut judge = Judge {
        session,
        basis: fingerprint::Basis::default(),
        fingerprint: None,
    };
    loop {
        {
            let Ok(mut st) = shared.state.lock() else {
                return;
            };
            while st.paused && !st.stop {
                st = match shared.wake.wait(st) {
                    Ok(g) => g,
                    Err(_) => return,
                };
            }
            if st.stop {
                return;
            }
        }
        let result = judge.prepare();
        let Ok(mut st) = shared.state.lock() else {
            return;
        };
        // An unread refresh and this one go as one (see `Prepared::then`). After a
        // failure the session starts again from a whole snapshot.
        let result = match (result, st.latest.take()) {
            (Ok(new), Some(Ok(old))) => Ok(old.then(new)),
            (result, _) => result,
        };
        st.latest = Some(result);
        let generation = st.generation;
        let deadline = Instant::now() + st.interval;
        while !st.stop && st.generation == generation {
            let now = Instant::now();
            if now >= deadline {
                break;
            }
            st = match shared.wake.wait_timeout(st, deadline - now) {
                Ok((g, _)) => g,
                Err(_) => return,
            };
        }
    }
}

/// Signals, the panic hook and the hang-up watchdog: what every dashboard needs before it
/// touches the terminal. Returns what the signals set.
fn prepare() -> anyhow::Result<Ending> {
    // Signals: SIGTERM and SIGHUP end the loop cleanly; SIGINT too (in raw mode ctrl-c
    // arrives as a key, but `kill -INT` does not).
    let signalled = Ending::register()?;
    // A panic restores the terminal before the message is printed, so it can be read.
    let previous = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        restore_terminal();
        previous(info);
    }));
    // crossterm spins reading end-of-file from a hung-up terminal (a closed window, a killed
    // tmux) and never returns to the loop: a watchdog ends the process when that happens.
    // The terminal is standard input, or /dev/tty when standard input is a stream (`open
    // -`), as crossterm itself reads keys from it then: a stream that ends is no hang-up.
    let tty = Tty::open();
    thread::Builder::new()
        .name("hangup-watchdog".into())
        .spawn(move || {
            loop {
                thread::sleep(Duration::from_millis(200));
                if tty.gone() {
                    restore_terminal();
                    // As a shell reports a process that SIGHUP ended: the terminal went.
                    std::process::exit(i32::from(signals::exit_status(
                        signal_hook::consts::SIGHUP,
                    )));
                }
            }
        })?;
    Ok(signalled)
}

/// Runs the dashboard over files (`init.replay`): no collector; what streams deliver
/// (`feed`, for `open -` and `--follow`) is added as it comes.
pub fn run_files(init: AppInit, charset: Charset, feed: Option<Feed>) -> anyhow::Result<u8> {
    let signalled = prepare()?;
    let mut app = App::new(init);
    let feed = feed.map(|Feed { early, rx }| {
        if !early.is_empty() {
            app.update(Msg::Feed(early));
        }
        rx
    });
    let sources = Sources {
        collector: None,
        feed: feed.as_ref(),
    };
    event_loop(app, sources, &signalled, charset)
}

/// Where new samples come from: the collector thread (a live host), or the readers of
/// streams (files that grow); neither for files read once.
#[derive(Clone, Copy)]
struct Sources<'a> {
    collector: Option<&'a Arc<Shared>>,
    feed: Option<&'a Receiver<FeedEvent>>,
}

/// One frame of the app, in `charset`.
pub fn draw(app: &App, frame: &mut Frame, charset: Charset) {
    app.render(frame);
    if charset == Charset::Ascii {
        ascii::downgrade(frame.buffer_mut());
    }
}

/// Runs the dashboard over `session`'s samples until the user quits or a signal arrives.
/// Returns the exit status.
pub fn run(init: AppInit, session: Session, charset: Charset) -> anyhow::Result<u8> {
    let signalled = prepare()?;
    let shared = Arc::new(Shared {
        state: Mutex::new(CollectorState {
            interval: init.interval,
            paused: false,
            stop: false,
            latest: None,
            generation: 0,
        }),
        wake: Condvar::new(),
    });
    let worker = {
        let shared = Arc::clone(&shared);
        thread::Builder::new()
            .name("collector".into())
            .spawn(move || collector_thread(shared, session))?
    };

    let sources = Sources {
        collector: Some(&shared),
        feed: None,
    };
    let result = event_loop(App::new(init), sources, &signalled, charset);

    if let Ok(mut st) = shared.state.lock() {
        st.stop = true;
    }
    shared.wake.notify_all();
    // The collector may be inside a long scan; it checks `stop` when it finishes.
    drop(worker);
    result
}

fn event_loop(
    mut app: App,
    sources: Sources<'_>,
    signalled: &Ending,
    charset: Charset,
) -> anyhow::Result<u8> {
    let shared = sources.collector;
    // Stopped (its last samples written) however the loop ends.
    let mut recorder = Recorder::default();
    enable_raw_mode()?;
    let _guard = TerminalGuard::take();
    // Cleared by hand: `Terminal::clear` asks the terminal where its cursor is, and a
    // terminal that never answers (a serial console, some multiplexers) would stop the
    // dashboard after crossterm's 2 s timeout. A full-screen view does not need to know.
    execute!(
        io::stdout(),
        EnterAlternateScreen,
        EnableMouseCapture,
        Clear(ClearType::All)
    )?;
    let mut terminal: Terminal<CrosstermBackend<Ansi16<Stdout>>> =
        Terminal::new(CrosstermBackend::new(Ansi16::new(io::stdout())))?;
    // The app lays out pages and mouse targets from the size: tell it once at the start.
    let size = terminal.size()?;
    app.update(Msg::Resize {
        width: size.width,
        height: size.height,
    });
    let mut dirty = true;
    loop {
        // SIGTERM, SIGHUP, SIGINT. (A terminal that hung up is the watchdog's: crossterm
        // never returns from reading it.)
        if let Some(status) = signalled.exit_status() {
            return Ok(status);
        }
        if dirty {
            terminal.draw(|f| draw(&app, f, charset))?;
            dirty = false;
        }
        let mut msgs = Vec::new();
        if event::poll(POLL)? {
            // Drain what is queued, so a burst of keys or wheel events costs one draw.
            loop {
                match event::read()? {
                    Event::Key(k) => msgs.push(Msg::Key(k)),
                    Event::Mouse(m) => msgs.push(Msg::Mouse(m)),
                    Event::Resize(width, height) => msgs.push(Msg::Resize { width, height }),
                    _ => {}
                }
                if !event::poll(Duration::ZERO)? {
                    break;
                }
            }
        }
        let latest = shared
            .and_then(|sh| sh.state.lock().ok())
            .and_then(|mut st| st.latest.take());
        match latest {
            Some(Ok(p)) => msgs.push(p.into_msg()),
            Some(Err(e)) => msgs.push(Msg::CollectFailed(e)),
            None => {}
        }
        // Every sample that came since the last turn at once: a followed file catching up
        // is shown once, at its newest.
        if let Some(events) = sources.feed.map(|f| f.try_iter().collect::<Vec<_>>())
            && !events.is_empty()
        {
            msgs.push(Msg::Feed(events));
        }
        if let Some(e) = recorder.failure() {
            msgs.push(Msg::RecordingFailed(e));
        }
        for msg in msgs {
            dirty = true;
            // An effect's answer can bring effects of its own (a recording started writes
            // the sample on screen).
            let mut effects: VecDeque<Effect> = app.update(msg).into();
            while let Some(effect) = effects.pop_front() {
                match effect {
                    Effect::Quit => {
                        recorder.stop();
                        return Ok(0);
                    }
                    Effect::SetInterval(d) => control(shared, |st| st.interval = d),
                    Effect::SetPaused(p) => control(shared, |st| st.paused = p),
                    Effect::Export(path, snap) => {
                        // The file name's extension picks the format (`.csv`, `.md`, ...).
                        let format =
                            export::Format::from_path(&path).unwrap_or(export::Format::Json);
                        let result = write_atomic(&path, format.file_mode(), |w| {
                            export::write(w, &snap, format, true)
                        })
                        .map_err(|e| e.to_string());
                        effects.extend(app.update(Msg::Exported { path, result }));
                    }
                    Effect::StartRecording(path) => {
                        let result = recorder.start(&path);
                        effects.extend(app.update(Msg::RecordingStarted { path, result }));
                    }
                    Effect::RecordSample(snap) => recorder.sample(snap),
                    Effect::StopRecording => recorder.stop(),
                }
            }
        }
    }
}

/// The dashboard's recording (`R`): a thread that writes each sample as a line, so a
/// sample of 50,000 sockets never holds up the keys; synced after each, as `record` does.
#[derive(Default)]
struct Recorder {
    /// Bounded: a burst of samples (a followed file read from its start while recording)
    /// waits for the disk here rather than piling up, so stopping waits for a few writes
    /// at most.
    tx: Option<mpsc::SyncSender<Box<Snapshot>>>,
    writer: Option<thread::JoinHandle<()>>,
    failed: Arc<Mutex<Option<String>>>,
}

/// Samples the recorder's writer may have in hand.
const RECORD_QUEUE: usize = 8;

/// However the dashboard ends (quit, a signal, an error), what was recorded is written.
impl Drop for Recorder {
    fn drop(&mut self) {
        self.stop();
    }
}

impl Recorder {
    /// Opens `path` (never replacing a file) and starts the writer.
    fn start(&mut self, path: &std::path::Path) -> Result<(), String> {
        self.stop();
        let mut file = create_recording_or(path, false, "").map_err(|e| e.to_string())?;
        let (tx, rx) = mpsc::sync_channel::<Box<Snapshot>>(RECORD_QUEUE);
        let failed = Arc::clone(&self.failed);
        let writer = thread::Builder::new()
            .name("recorder".into())
            .spawn(move || {
                let mut line = Vec::with_capacity(1 << 16);
                for snap in rx {
                    line.clear();
                    let written = crate::output::json::to_writer(&mut line, &snap)
                        .map_err(io::Error::from)
                        .and_then(|()| {
                            line.push(b'\n');
                            file.write_all(&line)?;
                            file.sync_data()
                        });
                    if let Err(e) = written {
                        if let Ok(mut f) = failed.lock() {
                            *f = Some(e.to_string());
                        }
                        return;
                    }
                }
            })
            .map_err(|e| e.to_string())?;
        self.tx = Some(tx);
        self.writer = Some(writer);
        Ok(())
    }

    fn sample(&self, snap: Box<Snapshot>) {
        if let Some(tx) = &self.tx {
            let _ = tx.send(snap);
        }
    }

    /// Closes the recording once what was sent is written.
    fn stop(&mut self) {
        self.tx = None;
        if let Some(w) = self.writer.take() {
            let _ = w.join();
        }
    }

    /// Why the writer stopped, once.
    fn failure(&mut self) -> Option<String> {
        let e = self.failed.lock().ok()?.take()?;
        self.stop();
        Some(e)
    }
}

/// The terminal the keys come from, for the watchdog.
enum Tty {
    Stdin,
    /// `/dev/tty`, standard input being a stream.
    Device(std::fs::File),
    /// No terminal to watch (it could not be opened: the dashboard would not run either).
    None,
}

impl Tty {
    fn open() -> Tty {
        use std::io::IsTerminal as _;
        use std::os::unix::fs::OpenOptionsExt as _;
        if io::stdin().is_terminal() {
            return Tty::Stdin;
        }
        std::fs::OpenOptions::new()
            .read(true)
            .custom_flags(libc::O_NOCTTY)
            .open("/dev/tty")
            .map_or(Tty::None, Tty::Device)
    }

    /// Whether the terminal has hung up or failed.
    fn gone(&self) -> bool {
        use rustix::event::{PollFd, PollFlags, Timespec, poll};
        let stdin = io::stdin();
        let mut fds = match self {
            Tty::Stdin => [PollFd::new(&stdin, PollFlags::IN)],
            Tty::Device(f) => [PollFd::new(f, PollFlags::IN)],
            Tty::None => return false,
        };
        let zero = Timespec {
            tv_sec: 0,
            tv_nsec: 0,
        };
        match poll(&mut fds, Some(&zero)) {
            Ok(_) => fds[0]
                .revents()
                .intersects(PollFlags::HUP | PollFlags::ERR | PollFlags::NVAL),
            Err(_) => false,
        }
    }
}

fn control(shared: Option<&Arc<Shared>>, change: impl FnOnce(&mut CollectorState)) {
    let Some(shared) = shared else {
        return;
    };
    if let Ok(mut st) = shared.state.lock() {
        change(&mut st);
        st.generation = st.generation.wrapping_add(1);
    }
    shared.wake.notify_all();
}
