//! Handing the view over: what a file carries of the dashboard's view
//! ([`DashboardState`]), written by the export and the recording, and restored when a file
//! or a stream is opened, so the colleague who opens it sees what its author saw.
//!
//! A stream keeps handing over: until the user changes the view themselves (a key or a
//! click that changes the view, filter, sort, row or detail), each new view the author
//! recorded is taken too, so the reader follows the author; from then on the files' views
//! are left alone (the user leads), and the status bar says so once. A row that vanishes
//! under the selection is not the user moving.

use super::{App, Tone};
use crate::model::dashboard::{DashboardState, RowKey as FileRow, SortState, Tab};
use crate::query;
use crate::ui::views::{RowKey, ViewId, with_view};

/// The file's name of a view.
fn tab_of(v: ViewId) -> Tab {
    match v {
        ViewId::Sockets => Tab::Sockets,
        ViewId::Ports => Tab::Ports,
        ViewId::Processes => Tab::Processes,
        ViewId::Users => Tab::Users,
        ViewId::Findings => Tab::Findings,
        ViewId::Host => Tab::Host,
        ViewId::Changes => Tab::Changes,
    }
}

fn view_of(t: Tab) -> ViewId {
    match t {
        Tab::Sockets => ViewId::Sockets,
        Tab::Ports => ViewId::Ports,
        Tab::Processes => ViewId::Processes,
        Tab::Users => ViewId::Users,
        Tab::Findings => ViewId::Findings,
        Tab::Host => ViewId::Host,
        Tab::Changes => ViewId::Changes,
    }
}

fn to_file(k: RowKey) -> FileRow {
    match k {
        RowKey::Socket(id) => FileRow::Socket { id },
        RowKey::Group(netns, proto, port) => FileRow::Port { netns, proto, port },
        RowKey::Pid(pid) => FileRow::Process { pid },
        RowKey::Uid(uid) => FileRow::User { uid },
        RowKey::Finding(finding, sockets) => FileRow::Finding { finding, sockets },
        RowKey::Netns(id) => FileRow::Netns { id },
    }
}

fn from_file(k: &FileRow) -> RowKey {
    match k.clone() {
        FileRow::Socket { id } => RowKey::Socket(id),
        FileRow::Port { netns, proto, port } => RowKey::Group(netns, proto, port),
        FileRow::Process { pid } => RowKey::Pid(pid),
        FileRow::User { uid } => RowKey::Uid(uid),
        FileRow::Finding { finding, sockets } => RowKey::Finding(finding, sockets),
        FileRow::Netns { id } => RowKey::Netns(id),
    }
}

impl App {
    /// The view on screen, as a file carries it.
    pub(super) fn dashboard_state(&self) -> DashboardState {
        let table = self.current();
        let sort = self.columns().get(table.sort.col).map(|c| SortState {
            column: c.title.to_string(),
            descending: table.sort.desc,
        });
        let selected = self.ctx().and_then(|cx| {
            let i = table.selected_index()?;
            with_view!(self.view, cx, |t| crate::ui::views::View::key(&t, i))
        });
        DashboardState {
            tab: tab_of(self.view),
            filter: self.filter.text.clone(),
            sort,
            selected: selected.map(to_file),
            expanded: self.expanded,
        }
    }

    /// Takes the view of the snapshot just shown from a file or a stream, as the module
    /// docs say: at the first, and after that while the user is still on the view the
    /// last one set.
    pub(super) fn take_handed_view(&mut self) {
        let Some(state) = self.snapshot.as_deref().and_then(|s| s.dashboard.clone()) else {
            return;
        };
        if self.handed.as_ref() == Some(&state) {
            return;
        }
        if self.handed_declined {
            if !self.handed_said {
                self.handed_said = true;
                self.say(
                    "the file's author changed the view; you changed yours, so yours stays",
                    Tone::Info,
                );
            }
            return;
        }
        self.restore(&state);
        self.handed = Some(state);
    }

    /// Runs `input` (a key or a click): when it changes the view while the files hand
    /// theirs over, the user leads from then on. A step through the time line that
    /// restores a recorded view is the files' doing, not the user's.
    pub(super) fn user_input(
        &mut self,
        input: impl FnOnce(&mut App) -> Vec<super::Effect>,
    ) -> Vec<super::Effect> {
        let watching = self.handed.is_some() && !self.handed_declined;
        let taken = |a: &App| a.snapshot.as_deref().map(|s| s.taken_at.clone());
        let before = watching.then(|| (self.dashboard_state(), taken(self)));
        let effects = input(self);
        // Another sample (a step) may move the selection off a row it lacks: not the user.
        if let Some((view, at)) = before
            && taken(self) == at
            && self.dashboard_state() != view
        {
            self.handed_declined = true;
        }
        effects
    }

    /// Shows `state`: its view, filter, sort, row and detail; a part this snapshot cannot
    /// show (a filter this version does not read, a column it lacks, a row that is gone)
    /// is left as it is, and the status bar says which.
    fn restore(&mut self, state: &DashboardState) {
        let mut missed = Vec::new();
        self.switch(view_of(state.tab));
        if state.filter != self.filter.text {
            match query::parse(&state.filter) {
                Ok(f) => {
                    self.filter.text = state.filter.clone();
                    self.filter.jump = None;
                    self.filter.parsed = f;
                    self.filter_changed();
                }
                Err(e) => missed.push(format!("its filter ({e})")),
            }
        }
        if let Some(sort) = &state.sort {
            match self.columns().iter().position(|c| c.title == sort.column) {
                Some(col) => {
                    let now = self.current().sort;
                    if (now.col, now.desc) != (col, sort.descending) {
                        self.set_sort(col, sort.descending);
                    }
                }
                None => missed.push(format!("its sort by {}", sort.column)),
            }
        }
        if let Some(row) = &state.selected {
            let key = from_file(row);
            let view = self.view;
            self.invalidate_one(view);
            if let Some(v) = self.views.get_mut(view.index()) {
                v.keep = Some(key.clone());
            }
            self.refresh(view);
            let found = self.ctx().and_then(|cx| {
                let i = self.current().selected_index()?;
                with_view!(view, cx, |t| crate::ui::views::View::key(&t, i))
            });
            if found.as_ref() != Some(&key) {
                missed.push("its selected row (not in this sample)".into());
            }
        }
        self.expanded = state.expanded;
        self.detail_scroll = 0;
        if !missed.is_empty() {
            self.say(
                format!("the file's view is shown except {}", missed.join(", ")),
                Tone::Info,
            );
        }
    }
}
