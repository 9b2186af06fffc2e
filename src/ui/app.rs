//! The dashboard's state and its update function: every input is a [`Msg`], every outside
//! action the app wants is an [`Effect`] for the runtime to carry out. No I/O and no clock
//! here, so the whole app runs in tests, driven message by message.
//!
//! State per snapshot (the findings judged with the queue history, port groups, processes,
//! users) is derived once when the snapshot arrives ([`Data`]); per view, the filtered and
//! sorted row order is cached and rebuilt only when the snapshot, the filter or the sort
//! changes. A key press then costs a few visible rows: [`App::render`] draws only what is on
//! screen and is a pure function of the state, so a paused view, or a snapshot file, draws
//! exactly the same way.
//!
//! This file holds the state and its transitions. What the keys, the mouse and the prompts
//! do is in `keys.rs`, `mouse.rs` and `input.rs`; the cached rows in `tables.rs`; drawing in
//! `render.rs` (the screen and its body), `footer.rs` (the line under a table) and
//! `status_bar.rs` (prompts, messages and key hints), over the areas of `layout.rs`.

mod changes;
mod export;
pub mod fingerprint;
mod footer;
mod handover;
mod input;
mod keys;
pub mod layout;
mod mouse;
mod record;
mod render;
mod replay;
mod status_bar;
mod tables;
mod whatif;

use self::fingerprint::{Basis, Fingerprint};
use self::input::LineInput;
use self::layout::{Areas, layout};
use super::keymap::{Action, Keymap};
use super::theme::Theme;
use super::views::changes::Changes;
use super::views::data::Data;
use super::views::whatif::WhatIfPanel;
use super::views::{self, Ctx, RowKey, ViewId, with_view};
use super::widgets::table::{self, TableState};
use crate::analyze::history::History;
use crate::collect::changes::QuietChanges;
use crate::export::feed::FeedEvent;
use crate::export::timeline::Timeline;
use crate::model::{Snapshot, SocketId};
use crate::query::{Filter, FilterError};
use ratatui::crossterm::event::{KeyEvent, MouseEvent};
use ratatui::layout::Rect;
use ratatui::text::Line;
use std::collections::{BTreeMap, HashSet};
use std::path::PathBuf;
use std::time::Duration;

/// Everything that happens to the app.
#[derive(Debug)]
pub enum Msg {
    Key(KeyEvent),
    Mouse(MouseEvent),
    Resize {
        width: u16,
        height: u16,
    },
    /// A new snapshot, taken `at_ms` on the runtime's clock (for queue history).
    Snapshot {
        snap: Box<Snapshot>,
        at_ms: u64,
    },
    /// A new snapshot whose findings and view data the collector thread already worked out
    /// (`data`), with the same history the app keeps; `None` when the data it sent last
    /// still holds (its [`Basis`] held). Keeps a refresh of 50,000 sockets off the thread
    /// that answers keys.
    Prepared {
        snap: Box<Snapshot>,
        at_ms: u64,
        /// `fingerprint::of(snap)`, already computed there.
        fingerprint: Fingerprint,
        data: Option<Box<Data>>,
    },
    /// The moving numbers of the snapshot on screen, as the collector thread's session
    /// applied them to its copy (`session::Change::Quiet`); the fingerprint and data as in
    /// [`Msg::Prepared`].
    Quiet {
        changes: QuietChanges,
        at_ms: u64,
        fingerprint: Fingerprint,
        data: Option<Box<Data>>,
    },
    /// The collector failed; the app keeps showing the last snapshot and says so.
    CollectFailed(String),
    /// What streams being followed delivered since the last message (`open -`, `open
    /// --follow`), in order.
    Feed(Vec<FeedEvent>),
    /// How an [`Effect::StartRecording`] went.
    RecordingStarted {
        path: PathBuf,
        result: Result<(), String>,
    },
    /// Writing the recording failed; it has stopped.
    RecordingFailed(String),
    /// How an [`Effect::Export`] went: the file written, or why not.
    Exported {
        path: PathBuf,
        result: Result<(), String>,
    },
}

/// A snapshot as it arrives: when it was taken, and, from the collector thread, its
/// fingerprint with the data made for it when that thread's [`Basis`] did not hold.
#[derive(Debug)]
struct Incoming {
    sample: Sample,
    at_ms: u64,
    prepared: Option<(Fingerprint, Option<Box<Data>>)>,
}

/// A whole snapshot, or changes to the one before it.
#[derive(Debug)]
pub enum Sample {
    Whole(Box<Snapshot>),
    Quiet(QuietChanges),
}

impl Sample {
    /// This sample and then `newer`, as one: changes apply to the snapshot before them, so
    /// none may be dropped. For whoever holds samples not yet shown (the collector thread's
    /// unread one, a paused view's pending one).
    pub fn then(self, newer: Sample) -> Sample {
        match (self, newer) {
            (_, Sample::Whole(snap)) => Sample::Whole(snap),
            (Sample::Whole(mut snap), Sample::Quiet(c)) => {
                c.apply(&mut snap);
                Sample::Whole(snap)
            }
            (Sample::Quiet(a), Sample::Quiet(b)) => Sample::Quiet(a.then(b)),
        }
    }
}

impl Incoming {
    /// This one and then `newer`, as one (a paused view keeps only what it will show on
    /// resume).
    fn then(self, newer: Incoming) -> Incoming {
        let sample = self.sample.then(newer.sample);
        // Data the collector thread made must not be lost to a newer sample it judged the
        // same (no data): that data is the one it holds for.
        let prepared = match (newer.prepared, self.prepared) {
            (Some((fp, None)), Some((_, old @ Some(_)))) => Some((fp, old)),
            (newer, _) => newer,
        };
        Incoming {
            sample,
            at_ms: newer.at_ms,
            prepared,
        }
    }
}

/// What the app asks the runtime to do.
#[derive(Debug)]
pub enum Effect {
    Quit,
    /// Refresh at this interval from now on.
    SetInterval(Duration),
    /// Stop or resume the collector (a paused view also ignores new snapshots).
    SetPaused(bool),
    /// Write this snapshot to this file (whole or not at all).
    Export(PathBuf, Box<Snapshot>),
    /// Open this file for a recording (never replacing one); answer with
    /// [`Msg::RecordingStarted`].
    StartRecording(PathBuf),
    /// Append this sample to the recording.
    RecordSample(Box<Snapshot>),
    /// Close the recording.
    StopRecording,
}

/// How the app starts.
pub struct AppInit {
    pub keymap: Keymap,
    pub theme: Theme,
    pub interval: Duration,
    /// Where `e` writes snapshot files.
    pub export_dir: PathBuf,
    /// Files to show instead of the live host (`bindscope open`).
    pub replay: Option<Timeline>,
    /// A warning for the status bar at start (the config file could not be read).
    pub notice: Option<String>,
}

/// What keys do right now.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Mode {
    Normal,
    Help,
    /// Typing a filter: the table previews it while it parses.
    Filter(FilterPrompt),
    /// Typing a what-if request.
    WhatIf(TextPrompt),
    /// Typing a note for the selected socket.
    Note(TextPrompt),
    /// Typing the file to export to (its extension picks the format).
    Export(TextPrompt),
    /// Typing the file to record to.
    Record(TextPrompt),
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct FilterPrompt {
    input: LineInput,
    error: Option<FilterError>,
    /// The filter before the prompt opened, restored by Esc.
    before_text: String,
    before: Filter,
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct TextPrompt {
    input: LineInput,
    error: Option<String>,
}

/// Sockets picked from a finding (Enter in the Findings view): shown instead of the text
/// filter, which comes back with Esc.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Jump {
    ids: HashSet<SocketId>,
    label: String,
    prev_text: String,
    prev: Filter,
}

/// The filter in force.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
struct FilterState {
    text: String,
    parsed: Filter,
    jump: Option<Jump>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Tone {
    Info,
    Ok,
    Error,
}

/// A message in the status bar until the next key.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Status {
    text: String,
    tone: Tone,
}

/// One view's table, and whether its rows need rebuilding (with the row to select then).
#[derive(Debug, Clone, Default)]
struct ViewState {
    table: TableState,
    stale: bool,
    keep: Option<RowKey>,
}

static EMPTY_TABLE: TableState = TableState {
    rows: Vec::new(),
    selected: 0,
    offset: 0,
    sort: table::Sort {
        col: 0,
        desc: false,
    },
};

pub struct App {
    keymap: Keymap,
    theme: Theme,
    interval: Duration,
    paused: bool,
    export_dir: PathBuf,
    snapshot: Option<Box<Snapshot>>,
    /// The newest snapshot that arrived while paused, applied on resume.
    pending: Option<Incoming>,
    history: History,
    data: Data,
    /// What `data` was made from: whether it holds for the next snapshot.
    basis: Basis,
    view: ViewId,
    views: [ViewState; 7],
    filter: FilterState,
    /// Per socket of the snapshot: whether the filter keeps it.
    mask: Vec<bool>,
    mode: Mode,
    /// The terminal size, from [`Msg::Resize`]: for paging and mouse hits.
    size: Option<(u16, u16)>,
    status: Option<Status>,
    collect_error: Option<String>,
    /// The detail pane fills the body (Enter).
    expanded: bool,
    detail_scroll: usize,
    help_scroll: usize,
    whatif: Option<WhatIfPanel>,
    /// The last what-if typed, offered again.
    whatif_input: String,
    /// Marks and notes by socket, carried across snapshots and into exports.
    marks: BTreeMap<SocketId, String>,
    /// The opened files, when showing files rather than the live host.
    replay: Option<replay::Replay>,
    /// The recording `R` started, while it runs.
    recording: Option<record::Recording>,
    /// The view the files last handed over, as the screen showed it then (`handover`).
    handed: Option<crate::model::dashboard::DashboardState>,
    /// The user changed the view themselves: the files' views are left alone.
    handed_declined: bool,
    /// ...and was told so, once.
    handed_said: bool,
    /// The Changes view's comparison must be made again (a new snapshot or baseline).
    diff_stale: bool,
    /// What the Changes view compares with: the first snapshot, or the one on screen when
    /// `b` was pressed; with its description.
    baseline: Option<(Box<Snapshot>, String)>,
    changes: Changes,
}

impl App {
    pub fn new(init: AppInit) -> App {
        let views = ViewId::ALL.map(|v| ViewState {
            table: TableState::new(v.default_sort()),
            stale: false,
            keep: None,
        });
        let mut app = App {
            keymap: init.keymap,
            theme: init.theme,
            interval: init.interval,
            paused: false,
            export_dir: init.export_dir,
            snapshot: None,
            pending: None,
            history: History::default(),
            data: Data::default(),
            basis: Basis::default(),
            view: ViewId::Sockets,
            views,
            filter: FilterState::default(),
            mask: Vec::new(),
            mode: Mode::Normal,
            size: None,
            status: init.notice.map(|text| Status {
                text,
                tone: Tone::Error,
            }),
            collect_error: None,
            expanded: false,
            detail_scroll: 0,
            help_scroll: 0,
            whatif: None,
            whatif_input: String::new(),
            marks: BTreeMap::new(),
            replay: None,
            recording: None,
            handed: None,
            handed_declined: false,
            handed_said: false,
            diff_stale: true,
            baseline: None,
            changes: Changes::default(),
        };
        // Files open at their last instant: the state they end in, with the whole
        // recording's history behind it; `[` and `{` go back.
        if let Some(timeline) = init.replay {
            let last = timeline.len().saturating_sub(1);
            // The Changes view compares with the first instant, judged as it was then.
            let mut first = timeline.snapshot(0);
            let mut h = timeline.history(0);
            h.record(&first, 0);
            first.findings = crate::analyze::findings::analyze(&first, &h);
            let label = if last > 0 {
                "the first sample"
            } else {
                "the file"
            };
            app.baseline = Some((Box::new(first), label.into()));
            app.replay = Some(replay::Replay { timeline, pos: 0 });
            app.show_instant(last);
        }
        app
    }

    pub fn paused(&self) -> bool {
        self.paused
    }

    pub fn interval(&self) -> Duration {
        self.interval
    }

    pub fn update(&mut self, msg: Msg) -> Vec<Effect> {
        let takes_sample = matches!(
            msg,
            Msg::Snapshot { .. } | Msg::Prepared { .. } | Msg::Quiet { .. }
        );
        let mut effects = match msg {
            Msg::Key(k) => self.user_input(|a| a.on_key(k)),
            Msg::Mouse(m) => self.user_input(|a| a.on_mouse(m)),
            Msg::Resize { width, height } => {
                self.size = Some((width, height));
                Vec::new()
            }
            Msg::Snapshot { snap, at_ms } => {
                self.arrived(Incoming {
                    sample: Sample::Whole(snap),
                    at_ms,
                    prepared: None,
                });
                Vec::new()
            }
            Msg::Prepared {
                snap,
                at_ms,
                fingerprint,
                data,
            } => {
                self.arrived(Incoming {
                    sample: Sample::Whole(snap),
                    at_ms,
                    prepared: Some((fingerprint, data)),
                });
                Vec::new()
            }
            Msg::Quiet {
                changes,
                at_ms,
                fingerprint,
                data,
            } => {
                self.arrived(Incoming {
                    sample: Sample::Quiet(changes),
                    at_ms,
                    prepared: Some((fingerprint, data)),
                });
                Vec::new()
            }
            Msg::Feed(events) => {
                let frames = if self.recording.is_some() {
                    events
                        .iter()
                        .filter_map(|e| match e {
                            FeedEvent::Frame { snap, .. } => Some((**snap).clone()),
                            _ => None,
                        })
                        .collect()
                } else {
                    Vec::new()
                };
                self.on_feed(events);
                self.record_streamed(frames)
            }
            Msg::RecordingStarted { path, result } => self.recording_started(path, result),
            Msg::RecordingFailed(e) => {
                self.recording_failed(e);
                Vec::new()
            }
            Msg::CollectFailed(e) => {
                self.collect_error = Some(e);
                Vec::new()
            }
            Msg::Exported { path, result } => {
                self.status = Some(match result {
                    Ok(()) => Status {
                        text: format!("exported {}", path.display()),
                        tone: Tone::Ok,
                    },
                    Err(e) => Status {
                        text: format!("export to {} failed: {e}", path.display()),
                        tone: Tone::Error,
                    },
                });
                Vec::new()
            }
        };
        if takes_sample && self.recording.is_some() {
            effects.extend(self.record_on_screen());
        }
        // Whatever happened, the current view's rows are fresh and its selection on screen.
        if self.view == ViewId::Changes {
            self.ensure_changes();
        }
        self.refresh(self.view);
        let page = self.page();
        if let Some(v) = self.views.get_mut(self.view.index()) {
            v.table.scroll_into_view(page);
        }
        effects
    }

    /// A snapshot arrived: taken in, or kept for the resume while paused.
    fn arrived(&mut self, new: Incoming) {
        if !self.paused {
            self.apply(new);
            return;
        }
        self.pending = Some(match self.pending.take() {
            Some(old) => old.then(new),
            None => new,
        });
    }

    /// Takes a new snapshot in: history, findings, derived rows; the filter and every
    /// view's selection carry over.
    fn apply(&mut self, new: Incoming) {
        let Incoming {
            sample,
            at_ms,
            prepared,
        } = new;
        // Quiet changes apply to the snapshot on screen, whose findings stay the data's.
        let (snap, quiet) = match sample {
            Sample::Whole(snap) => {
                self.history.record(&snap, at_ms);
                (snap, false)
            }
            Sample::Quiet(changes) => match self.snapshot.take() {
                Some(mut snap) => {
                    changes.apply(&mut snap);
                    self.history
                        .record_quiet(&snap, &changes.socket_indexes(), at_ms);
                    (snap, true)
                }
                // Changes to nothing (cannot happen: the collector thread sends a whole
                // snapshot first); there is nothing to show them on.
                None => return,
            },
        };
        let data = match prepared {
            // Made on the collector thread, whose basis did not hold.
            Some((fp, Some(data))) => {
                self.basis.made(fp, &snap, &self.history);
                *data
            }
            // The collector thread's basis held: the data it made last still holds, and
            // that is the data in hand (nothing it sends is lost, paused or not).
            Some((fp, None)) if (quiet || self.snapshot.is_some()) && self.basis.is_from(fp) => {
                self.keep_data(snap, quiet);
                return;
            }
            // Judged here: a snapshot from a file, or sent without data.
            prepared => {
                let fp = prepared.map_or_else(|| fingerprint::of(&snap), |(fp, _)| fp);
                if (quiet || self.snapshot.is_some()) && self.basis.holds(fp) {
                    self.keep_data(snap, quiet);
                    return;
                }
                let data = Data::new(&snap, &self.history);
                self.basis.made(fp, &snap, &self.history);
                data
            }
        };
        self.install(snap, data);
    }

    /// Shows `snap` with the data in hand, which holds for it: only the volatile fields
    /// changed (`fingerprint::VOLATILE`), which the views draw from the snapshot itself.
    /// `quiet`: `snap` is the one on screen with quiet changes applied, which carries the
    /// data's findings already.
    fn keep_data(&mut self, mut snap: Box<Snapshot>, quiet: bool) {
        // The Host view can be sorted by process counts, which are volatile: its few rows
        // are ordered again.
        self.invalidate_one(ViewId::Host);
        if !quiet {
            snap.findings = self.data.findings.clone();
        }
        self.snapshot = Some(snap);
        self.adopt_marks();
        self.collect_error = None;
    }

    /// Makes `snap` with its `data` the current state.
    fn install(&mut self, mut snap: Box<Snapshot>, data: Data) {
        // The snapshot carries its findings (for the filter and for exports).
        snap.findings = data.findings.clone();
        self.invalidate();
        if self.baseline.is_none() {
            self.baseline = Some((snap.clone(), "the first snapshot".into()));
        }
        self.snapshot = Some(snap);
        self.data = data;
        self.diff_stale = true;
        self.adopt_marks();
        self.collect_error = None;
        self.recompute_mask();
        self.rerun_whatif();
    }

    /// The marks the snapshot on screen came with (a file's) join the app's, and from then
    /// on it carries the app's: what the Sockets view, the header and an export show. Every
    /// snapshot taken in comes through here, quiet refresh or not: a fresh one carries none.
    fn adopt_marks(&mut self) {
        if let Some(snap) = self.snapshot.as_deref() {
            for m in &snap.marks {
                self.marks
                    .entry(m.socket.clone())
                    .or_insert_with(|| m.note.clone());
            }
        }
        self.sync_marks();
    }

    fn ctx(&self) -> Option<Ctx<'_>> {
        Some(Ctx {
            snap: self.snapshot.as_deref()?,
            data: &self.data,
            history: &self.history,
            theme: &self.theme,
            changes: &self.changes,
        })
    }

    fn current(&self) -> &TableState {
        // `views` has one entry per ViewId; the empty table is never reached.
        self.views
            .get(self.view.index())
            .map_or(&EMPTY_TABLE, |v| &v.table)
    }

    fn screen(&self) -> Option<Rect> {
        self.size.map(|(w, h)| Rect::new(0, 0, w, h))
    }

    fn areas(&self, screen: Rect) -> Areas {
        layout(
            screen,
            self.current().rows.len(),
            self.expanded,
            self.replay.is_some(),
        )
    }

    /// Rows per page: the table body for the known terminal size.
    fn page(&self) -> usize {
        self.screen()
            .map(|s| self.areas(s).body_rows())
            .unwrap_or(20)
            .max(1)
    }

    /// The detail pane's title and lines: the what-if panel when one is open, else the
    /// selected row's detail.
    fn detail_content(&self) -> Option<(String, Vec<Line<'static>>)> {
        let cx = self.ctx()?;
        if let Some(p) = &self.whatif {
            return Some(views::whatif::lines(cx, p));
        }
        let i = self.current().selected_index()?;
        let d = with_view!(self.view, cx, |t| views::View::detail(&t, i));
        Some((d.title, d.lines))
    }

    /// The filter as the tab line shows it.
    fn filter_label(&self) -> Option<String> {
        let text = self.filter.parsed.describe();
        match (&self.filter.jump, text.is_empty()) {
            (Some(j), true) => Some(j.label.clone()),
            (Some(j), false) => Some(format!("{} {text}", j.label)),
            (None, false) => Some(text),
            (None, true) => None,
        }
    }

    /// The first key of an action, as help writes it.
    fn key_for(&self, action: Action) -> String {
        self.keymap
            .keys(action)
            .first()
            .map_or_else(|| action.name().to_string(), ToString::to_string)
    }

    /// A status message in `tone`.
    fn say(&mut self, text: impl Into<String>, tone: Tone) {
        self.status = Some(Status {
            text: text.into(),
            tone,
        });
    }
}

#[cfg(test)]
mod tests;
