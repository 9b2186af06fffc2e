//! Keys: what each action of the keymap does in each mode, and the prompts' editing.

use super::input::LineInput;
use super::replay::Step;
use super::whatif::{self as request, Defaults};
use super::{App, Effect, FilterPrompt, Jump, Mode, TextPrompt, Tone};
use crate::analyze::whatif::can_bind;
use crate::model::{Mark, NetnsId};
use crate::query;
use crate::ui::keymap::Action;
use crate::ui::views::header::interval_text;
use crate::ui::views::whatif::WhatIfPanel;
use crate::ui::views::{ViewId, detail, help};
use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyEventKind, KeyModifiers};
use std::time::Duration;

/// The refresh intervals `+` and `-` step through.
pub const INTERVALS: [Duration; 6] = [
    Duration::from_millis(250),
    Duration::from_millis(500),
    Duration::from_secs(1),
    Duration::from_secs(2),
    Duration::from_secs(5),
    Duration::from_secs(10),
];

/// The next interval from `now`: faster (`-1`) or slower (`+1`); `None` at either end. An
/// interval between steps (from the command line) goes to the nearest step that way.
pub fn step_interval(now: Duration, dir: i8) -> Option<Duration> {
    if dir < 0 {
        INTERVALS.iter().rev().find(|&&d| d < now).copied()
    } else {
        INTERVALS.iter().find(|&&d| d > now).copied()
    }
}

impl App {
    pub(super) fn on_key(&mut self, k: KeyEvent) -> Vec<Effect> {
        if k.kind == KeyEventKind::Release {
            return Vec::new();
        }
        match self.mode {
            Mode::Filter(_) => self.filter_key(&k),
            Mode::WhatIf(_) => self.whatif_key(&k),
            Mode::Note(_) => self.note_key(&k),
            Mode::Export(_) => self.export_key(&k),
            Mode::Record(_) => self.record_key(&k),
            Mode::Help => self.help_key(&k),
            Mode::Normal => self.normal_key(&k),
        }
    }

    fn normal_key(&mut self, k: &KeyEvent) -> Vec<Effect> {
        let Some(action) = self.keymap.lookup(k) else {
            return Vec::new();
        };
        // A message lasts until the next key.
        self.status = None;
        let page = isize::try_from(self.page()).unwrap_or(20);
        match action {
            Action::Quit => return vec![Effect::Quit],
            Action::Up => self.move_by(-1),
            Action::Down => self.move_by(1),
            Action::PageUp => self.move_by(-page),
            Action::PageDown => self.move_by(page),
            Action::Top => self.move_by(isize::MIN),
            Action::Bottom => self.move_by(isize::MAX),
            Action::Enter => self.enter(),
            Action::Back => self.back(),
            Action::NextView => self.switch(self.view.next()),
            Action::PrevView => self.switch(self.view.prev()),
            Action::View(n) => {
                if let Some(v) = ViewId::from_number(n) {
                    self.switch(v);
                }
            }
            Action::Filter => {
                self.mode = Mode::Filter(FilterPrompt {
                    input: LineInput::new(&self.filter.text),
                    error: None,
                    before_text: self.filter.text.clone(),
                    before: self.filter.parsed.clone(),
                });
            }
            Action::SortNext => {
                // The next column this snapshot shows (a hidden one has nothing to sort).
                let cols = self.columns();
                let n = cols.len().max(1);
                let from = self.current().sort.col;
                let col = (1..=n)
                    .map(|k| (from + k) % n)
                    .find(|&c| cols.get(c).is_some_and(|c| !c.hidden))
                    .unwrap_or(from);
                self.set_sort(col, false);
            }
            Action::SortReverse => {
                let s = self.current().sort;
                self.set_sort(s.col, !s.desc);
            }
            Action::Pause | Action::Faster | Action::Slower | Action::Refresh
                if self.is_replay() =>
            {
                let (back, fwd) = (
                    self.key_for(Action::StepBack),
                    self.key_for(Action::StepForward),
                );
                let following = self
                    .replay
                    .as_ref()
                    .is_some_and(|r| r.timeline.is_following());
                let text = if following {
                    let last = self.key_for(Action::StepLast);
                    format!(
                        "a stream brings its samples as they are written: {back} steps back and holds the view there, {last} follows the newest again"
                    )
                } else {
                    format!("files do not refresh: {back} and {fwd} step through a recording")
                };
                self.say(text, Tone::Info);
            }
            Action::Pause => return self.toggle_pause(),
            Action::Faster => return self.change_interval(-1),
            Action::Slower => return self.change_interval(1),
            Action::Refresh => {
                if self.paused {
                    let key = self.key_for(Action::Pause);
                    self.say(format!("paused: {key} resumes"), Tone::Info);
                } else {
                    // Setting the interval restarts it: the runtime collects now.
                    return vec![Effect::SetInterval(self.interval)];
                }
            }
            Action::StepBack => self.step(Step::Back),
            Action::StepForward => self.step(Step::Forward),
            Action::StepFirst => self.step(Step::First),
            Action::StepLast => self.step(Step::Last),
            Action::Baseline => self.set_baseline(),
            Action::WhatIf => self.open_whatif(),
            Action::Export => return self.export(),
            Action::Record => return self.record(),
            Action::Mark => self.toggle_mark(),
            Action::Note => self.open_note(),
            Action::Help => {
                self.mode = Mode::Help;
                self.help_scroll = 0;
            }
        }
        Vec::new()
    }

    pub(super) fn columns(&self) -> &'static [crate::ui::widgets::table::Column] {
        match self.ctx() {
            Some(cx) => crate::ui::views::with_view!(self.view, cx, |t| {
                crate::ui::widgets::table::Source::columns(&t)
            }),
            None => &[],
        }
    }

    /// Moves the selection, or scrolls the detail when it fills the body.
    pub(super) fn move_by(&mut self, delta: isize) {
        if self.expanded || (self.whatif.is_some() && self.current().rows.is_empty()) {
            self.scroll_detail(delta);
            return;
        }
        let view = self.view.index();
        let Some(v) = self.views.get_mut(view) else {
            return;
        };
        let before = v.table.selected;
        v.table.move_by(delta);
        if v.table.selected != before {
            self.detail_scroll = 0;
        }
    }

    pub(super) fn scroll_detail(&mut self, delta: isize) {
        let max = match (self.screen(), self.detail_content()) {
            (Some(screen), Some((_, lines))) => {
                detail::max_scroll(&lines, self.areas(screen).detail)
            }
            // Without a known size, allow scrolling; drawing clamps.
            _ => usize::MAX / 2,
        };
        self.detail_scroll = self.detail_scroll.saturating_add_signed(delta).min(max);
    }

    fn enter(&mut self) {
        if self.view == ViewId::Findings && !self.expanded {
            self.jump_to_finding();
            return;
        }
        self.expanded = !self.expanded;
        self.detail_scroll = 0;
    }

    /// Esc: closes the innermost thing open; last, clears the filter.
    fn back(&mut self) {
        if self.expanded {
            self.expanded = false;
            self.detail_scroll = 0;
        } else if self.whatif.is_some() {
            self.whatif = None;
            self.detail_scroll = 0;
        } else if let Some(j) = self.filter.jump.take() {
            self.filter.text = j.prev_text;
            self.filter.parsed = j.prev;
            self.filter_changed();
        } else if !self.filter.parsed.is_empty() {
            self.filter.text.clear();
            self.filter.parsed = query::Filter::default();
            self.filter_changed();
            self.say("filter cleared", Tone::Info);
        }
    }

    pub(super) fn switch(&mut self, view: ViewId) {
        if view != self.view {
            self.view = view;
            self.expanded = false;
            self.detail_scroll = 0;
        }
    }

    /// Enter on a finding: the Sockets view, showing just its sockets.
    fn jump_to_finding(&mut self) {
        let Some(i) = self.current().selected_index() else {
            return;
        };
        let Some(e) = self.data.finding_entries.get(i) else {
            return;
        };
        let Some(f) = e
            .facets
            .first()
            .and_then(|&fi| self.data.findings.get(fi as usize))
        else {
            return;
        };
        // A problem's row shows the sockets of all its facets.
        let ids: std::collections::HashSet<_> = e
            .facets
            .iter()
            .filter_map(|&fi| self.data.findings.get(fi as usize))
            .flat_map(|f| f.sockets.iter().cloned())
            .collect();
        let what = match (&e.problem, e.facets.len()) {
            (Some(port), n) if n > 1 => format!("{} port {}", port.proto.name(), port.port),
            _ => crate::text::clean(f.kind.name()).into_owned(),
        };
        let label = format!(
            "{what} ({})",
            crate::text::count(ids.len(), "socket", "sockets")
        );
        let ids = ids.into_iter().collect();
        let (prev_text, prev) = match self.filter.jump.take() {
            // From one finding to another: Esc still restores the filter typed by hand.
            Some(j) => (j.prev_text, j.prev),
            None => (
                std::mem::take(&mut self.filter.text),
                std::mem::take(&mut self.filter.parsed),
            ),
        };
        self.filter.jump = Some(Jump {
            ids,
            label,
            prev_text,
            prev,
        });
        self.filter_changed();
        self.switch(ViewId::Sockets);
        if let Some(v) = self.views.get_mut(ViewId::Sockets.index()) {
            v.keep = None;
            v.table.selected = 0;
        }
        self.refresh(ViewId::Sockets);
        let key = self.key_for(Action::Back);
        self.say(
            format!("showing the sockets of the finding · {key} goes back"),
            Tone::Info,
        );
    }

    fn toggle_pause(&mut self) -> Vec<Effect> {
        self.paused = !self.paused;
        if !self.paused
            && let Some(new) = self.pending.take()
        {
            self.apply(new);
        }
        vec![Effect::SetPaused(self.paused)]
    }

    fn change_interval(&mut self, dir: i8) -> Vec<Effect> {
        match step_interval(self.interval, dir) {
            Some(d) => {
                self.interval = d;
                self.say(format!("refresh every {}", interval_text(d)), Tone::Info);
                vec![Effect::SetInterval(d)]
            }
            None => {
                let which = if dir < 0 { "fastest" } else { "slowest" };
                self.say(
                    format!(
                        "already the {which} refresh: every {}",
                        interval_text(self.interval)
                    ),
                    Tone::Info,
                );
                Vec::new()
            }
        }
    }

    /// The namespace the selected row is about, for the what-if.
    fn selected_netns(&self) -> Option<NetnsId> {
        let snap = self.snapshot.as_deref()?;
        let i = self.current().selected_index()?;
        let sock = |si: u32| snap.sockets.get(si as usize).map(|s| s.netns);
        match self.view {
            ViewId::Sockets => sock(u32::try_from(i).ok()?),
            ViewId::Ports => self.data.groups.get(i).map(|g| g.group.netns),
            ViewId::Processes => self.data.processes.get(i).and_then(|p| p.netns),
            ViewId::Users => None,
            ViewId::Findings => self
                .data
                .finding_entries
                .get(i)
                .and_then(|e| e.sockets.first())
                .and_then(|&si| sock(si)),
            ViewId::Host => snap.netns.get(i).map(|n| n.id),
            ViewId::Changes => None,
        }
    }

    fn open_whatif(&mut self) {
        // Offer the selected socket's endpoint: "could someone else bind this?"
        let text = match (self.view, self.snapshot.as_deref()) {
            (ViewId::Sockets, Some(snap)) => self
                .current()
                .selected_index()
                .and_then(|i| snap.sockets.get(i))
                .map(|s| {
                    let proto = s.proto.name();
                    // Without the `%dev` that local_text shows: a device is `--device`.
                    let addr = crate::model::addr::endpoint(s.local_addr, s.local_port, None);
                    format!("{proto} {addr} ")
                })
                .unwrap_or_else(|| self.whatif_input.clone()),
            _ => self.whatif_input.clone(),
        };
        self.mode = Mode::WhatIf(TextPrompt {
            input: LineInput::new(&text),
            error: None,
        });
    }

    /// Asks the what-if of `input` on the current snapshot.
    fn ask(&self, input: &str) -> Result<WhatIfPanel, String> {
        let snap = self
            .snapshot
            .as_deref()
            .ok_or("no snapshot yet to ask about")?;
        let defaults = Defaults {
            netns: self.selected_netns(),
            uid: snap.privileges.euid,
        };
        let (req, netns) = request::parse(input, snap, &defaults)?;
        Ok(WhatIfPanel {
            input: input.trim().to_string(),
            netns,
            uid: req.uid,
            verdict: can_bind(snap, netns, &req),
        })
    }

    /// A new snapshot: the open what-if is asked again, in the same namespace.
    pub(super) fn rerun_whatif(&mut self) {
        let Some(p) = &self.whatif else { return };
        let Some(snap) = self.snapshot.as_deref() else {
            return;
        };
        let defaults = Defaults {
            netns: Some(p.netns),
            uid: p.uid,
        };
        if let Ok((req, netns)) = request::parse(&p.input, snap, &defaults) {
            let verdict = can_bind(snap, netns, &req);
            if let Some(p) = &mut self.whatif {
                p.verdict = verdict;
            }
        }
    }

    fn whatif_key(&mut self, k: &KeyEvent) -> Vec<Effect> {
        let Mode::WhatIf(p) = &mut self.mode else {
            return Vec::new();
        };
        match k.code {
            KeyCode::Esc => self.mode = Mode::Normal,
            KeyCode::Char('c') if k.modifiers.contains(KeyModifiers::CONTROL) => {
                self.mode = Mode::Normal;
            }
            KeyCode::Enter => {
                let text = p.input.text();
                match self.ask(&text) {
                    Ok(panel) => {
                        self.whatif_input = panel.input.clone();
                        self.whatif = Some(panel);
                        self.detail_scroll = 0;
                        self.expanded = false;
                        self.mode = Mode::Normal;
                    }
                    Err(e) => {
                        if let Mode::WhatIf(p) = &mut self.mode {
                            p.error = Some(e);
                        }
                    }
                }
            }
            _ => {
                if p.input.handle(k) {
                    p.error = None;
                }
            }
        }
        Vec::new()
    }

    fn filter_key(&mut self, k: &KeyEvent) -> Vec<Effect> {
        let Mode::Filter(p) = &mut self.mode else {
            return Vec::new();
        };
        let cancel = k.code == KeyCode::Esc
            || (k.code == KeyCode::Char('c') && k.modifiers.contains(KeyModifiers::CONTROL));
        if cancel {
            let (text, before) = (p.before_text.clone(), p.before.clone());
            self.mode = Mode::Normal;
            self.filter.text = text;
            if self.filter.parsed != before {
                self.filter.parsed = before;
                self.filter_changed();
            }
            return Vec::new();
        }
        if k.code == KeyCode::Enter {
            let text = p.input.text();
            match query::parse(&text) {
                Ok(f) => {
                    self.mode = Mode::Normal;
                    self.filter.text = text;
                    if self.filter.parsed != f {
                        self.filter.parsed = f;
                        self.filter_changed();
                    }
                }
                // The error stays on screen; the prompt stays open to fix it.
                Err(e) => p.error = Some(e),
            }
            return Vec::new();
        }
        if !p.input.handle(k) {
            return Vec::new();
        }
        // Live preview: each keystroke that parses filters the table; one that does not
        // keeps the last good preview and shows why.
        match query::parse(&p.input.text()) {
            Ok(f) => {
                p.error = None;
                if self.filter.parsed != f {
                    self.filter.parsed = f;
                    self.filter_changed();
                }
            }
            Err(e) => p.error = Some(e),
        }
        Vec::new()
    }

    fn help_key(&mut self, k: &KeyEvent) -> Vec<Effect> {
        let Some(action) = self.keymap.lookup(k) else {
            return Vec::new();
        };
        let max = self.screen().map_or(usize::MAX / 2, |s| {
            help::max_scroll(&self.keymap, &self.theme, s)
        });
        let page = self.screen().map_or(10, help::text_rows).max(1);
        let scroll = |s: usize, d: isize| s.saturating_add_signed(d).min(max);
        match action {
            Action::Quit => return vec![Effect::Quit],
            Action::Help | Action::Back | Action::Enter => self.mode = Mode::Normal,
            Action::Up => self.help_scroll = scroll(self.help_scroll, -1),
            Action::Down => self.help_scroll = scroll(self.help_scroll, 1),
            Action::PageUp => {
                self.help_scroll = scroll(self.help_scroll, -isize::try_from(page).unwrap_or(10));
            }
            Action::PageDown => {
                self.help_scroll = scroll(self.help_scroll, isize::try_from(page).unwrap_or(10));
            }
            Action::Top => self.help_scroll = 0,
            Action::Bottom => self.help_scroll = max,
            _ => {}
        }
        Vec::new()
    }

    /// The selected socket's id, in the Sockets view.
    pub(super) fn selected_socket(&self) -> Option<crate::model::SocketId> {
        if self.view != ViewId::Sockets {
            return None;
        }
        let i = self.current().selected_index()?;
        self.snapshot
            .as_deref()?
            .sockets
            .get(i)
            .map(|s| s.id.clone())
    }

    fn toggle_mark(&mut self) {
        let Some(id) = self.selected_socket() else {
            self.say(
                "marks are set on sockets: select one in the Sockets view",
                Tone::Info,
            );
            return;
        };
        if self.marks.remove(&id).is_some() {
            self.say("mark removed", Tone::Info);
        } else {
            self.marks.insert(id, String::new());
            let key = self.key_for(Action::Note);
            self.say(format!("marked · {key} adds a note"), Tone::Info);
        }
        self.sync_marks();
    }

    fn open_note(&mut self) {
        let Some(id) = self.selected_socket() else {
            self.say(
                "notes are set on sockets: select one in the Sockets view",
                Tone::Info,
            );
            return;
        };
        let text = self.marks.get(&id).cloned().unwrap_or_default();
        self.mode = Mode::Note(TextPrompt {
            input: LineInput::new(&text),
            error: None,
        });
    }

    fn note_key(&mut self, k: &KeyEvent) -> Vec<Effect> {
        let Mode::Note(p) = &mut self.mode else {
            return Vec::new();
        };
        match k.code {
            KeyCode::Esc => self.mode = Mode::Normal,
            KeyCode::Enter => {
                let note = p.input.text().trim().to_string();
                self.mode = Mode::Normal;
                if let Some(id) = self.selected_socket() {
                    if note.is_empty() {
                        self.marks.remove(&id);
                    } else {
                        self.marks.insert(id, note);
                    }
                    self.sync_marks();
                }
            }
            _ => {
                p.input.handle(k);
            }
        }
        Vec::new()
    }

    /// The snapshot's marks are the app's, for the sockets it holds: what the detail shows
    /// and what an export carries.
    pub(super) fn sync_marks(&mut self) {
        let Some(snap) = self.snapshot.as_deref_mut() else {
            return;
        };
        snap.marks = self
            .marks
            .iter()
            .filter(|(id, _)| self.data.by_id.contains_key(*id))
            .map(|(id, note)| Mark {
                socket: id.clone(),
                note: note.clone(),
            })
            .collect();
        // The filter's `mark:` follows the marks as they are made; a refresh that brought
        // no change to them (most) does not filter 50,000 sockets again.
        let marks: std::collections::HashMap<_, _> = snap
            .marks
            .iter()
            .map(|m| (m.socket.clone(), m.note.clone()))
            .collect();
        if marks != self.data.filter_cx.marks {
            self.data.filter_cx.marks = marks;
            if self.filter.text.contains("mark:") {
                self.filter_changed();
            }
        }
    }
}
