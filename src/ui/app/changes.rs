//! The Changes view's comparison: made when the view is on screen and the snapshot or the
//! baseline changed since, never on a refresh nobody looks at (a diff of 50,000 sockets
//! is not free); and filtered like every other view.

use super::tables::filter_keeps;
use super::{App, Tone};
use crate::analyze::diff::diff;
use crate::model::SocketId;
use crate::ui::views::changes::{Changes, Entry};
use crate::ui::views::header::time_text;
use std::collections::HashSet;

impl App {
    /// Compares the snapshot on screen with the baseline, when either changed.
    pub(super) fn ensure_changes(&mut self) {
        if !self.diff_stale {
            return;
        }
        self.diff_stale = false;
        let (Some(snap), Some((base, label))) = (self.snapshot.as_deref(), &self.baseline) else {
            self.changes = Changes::default();
            return;
        };
        self.changes = Changes::new(diff(base, snap), label.clone());
        self.changes_keep();
        if let Some(v) = self
            .views
            .get_mut(crate::ui::views::ViewId::Changes.index())
        {
            v.stale = true;
        }
    }

    /// Which rows of the Changes view the filter keeps: a socket row by its socket (also a
    /// socket that is gone), a finding when any of its sockets is kept, namespaces always.
    pub(super) fn changes_keep(&mut self) {
        let Some(d) = self.changes.diff.as_ref() else {
            return;
        };
        let cx = &self.data.filter_cx;
        let sock_keep: Vec<bool> = d
            .sockets
            .iter()
            .map(|c| filter_keeps(&self.filter, cx, &c.socket))
            .collect();
        let kept_changed: HashSet<&SocketId> = d
            .sockets
            .iter()
            .zip(&sock_keep)
            .filter_map(|(c, &k)| k.then_some(&c.socket.id))
            .collect();
        let kept_now = |id: &SocketId| {
            self.data
                .by_id
                .get(id)
                .and_then(|&si| self.mask.get(si as usize))
                .copied()
                .unwrap_or(false)
        };
        let unfiltered = self.filter.parsed.describe().is_empty() && self.filter.jump.is_none();
        self.changes.keep = self
            .changes
            .rows
            .iter()
            .map(|e| match *e {
                Entry::Socket(i) => sock_keep.get(i).copied().unwrap_or(true),
                Entry::Finding(i) => {
                    unfiltered
                        || d.findings.get(i).is_some_and(|fc| {
                            fc.finding
                                .sockets
                                .iter()
                                .any(|id| kept_changed.contains(id) || kept_now(id))
                        })
                }
                Entry::Netns(_) => true,
            })
            .collect();
    }

    /// `b`: the Changes view compares with the snapshot on screen from now on.
    pub(super) fn set_baseline(&mut self) {
        let Some(snap) = self.snapshot.as_deref() else {
            self.say("nothing to compare with yet", Tone::Info);
            return;
        };
        let label = match self.replay_position() {
            Some((pos, len)) => format!("sample {}/{len}", pos + 1),
            None => format!("the snapshot of {}", time_text(&snap.taken_at)),
        };
        let copy = Box::new(snap.clone());
        self.say(
            format!("baseline set: the Changes view compares with {label}"),
            Tone::Ok,
        );
        self.baseline = Some((copy, label));
        self.diff_stale = true;
    }
}
