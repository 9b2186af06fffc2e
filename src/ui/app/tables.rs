//! The cached rows of each view: the filter's socket mask, and the filtered and sorted
//! order, rebuilt only when the snapshot, the filter or the sort changes (and lazily, for
//! a view that is not on screen). The selection follows its row across rebuilds.

use super::{App, FilterState};
use crate::model::Socket;
use crate::query::FilterContext;
use crate::ui::views::{Ctx, View, ViewId, with_view};
use crate::ui::widgets::table::{Sort, order};

impl App {
    /// Recomputes which sockets the filter (and a finding's socket set) keeps.
    pub(super) fn recompute_mask(&mut self) {
        let Some(snap) = self.snapshot.as_deref() else {
            self.mask.clear();
            return;
        };
        let cx = &self.data.filter_cx;
        self.mask = snap
            .sockets
            .iter()
            .map(|s| filter_keeps(&self.filter, cx, s))
            .collect();
    }

    /// The filter changed: new mask, and every view's rows are stale.
    pub(super) fn filter_changed(&mut self) {
        self.invalidate();
        self.recompute_mask();
        self.changes_keep();
    }

    /// Marks every view stale, remembering the row each had selected (for views already
    /// stale, the row they had before).
    pub(super) fn invalidate(&mut self) {
        let Some(snap) = self.snapshot.as_deref() else {
            for v in &mut self.views {
                v.stale = true;
            }
            return;
        };
        let cx = Ctx {
            snap,
            data: &self.data,
            history: &self.history,
            theme: &self.theme,
            changes: &self.changes,
        };
        for (view, v) in ViewId::ALL.iter().zip(self.views.iter_mut()) {
            if v.stale {
                continue;
            }
            v.keep = v
                .table
                .selected_index()
                .and_then(|i| with_view!(*view, cx, |t| t.key(i)));
            v.stale = true;
        }
    }

    /// Rebuilds a stale view's rows and puts the selection back on its row (or at the same
    /// position, when the row is gone).
    pub(super) fn refresh(&mut self, view: ViewId) {
        let Some(v) = self.views.get_mut(view.index()) else {
            return;
        };
        if !v.stale {
            return;
        }
        v.stale = false;
        let keep = v.keep.take();
        let Some(snap) = self.snapshot.as_deref() else {
            v.table.rows.clear();
            v.table.select(0);
            return;
        };
        let cx = Ctx {
            snap,
            data: &self.data,
            history: &self.history,
            theme: &self.theme,
            changes: &self.changes,
        };
        let mask = &self.mask;
        let sort = v.table.sort;
        let (rows, found) = with_view!(view, cx, |t| {
            let rows = order(&t, |i| t.keep(i, mask), sort);
            let found = keep.as_ref().and_then(|k| t.find(k));
            (rows, found)
        });
        v.table.rows = rows;
        let pos = found.and_then(|i| v.table.rows.iter().position(|&r| r as usize == i));
        match pos {
            Some(p) => v.table.selected = p,
            None => v.table.select(v.table.selected),
        }
    }

    /// Sorts the current view by `col`.
    pub(super) fn set_sort(&mut self, col: usize, desc: bool) {
        let view = self.view;
        self.invalidate_one(view);
        if let Some(v) = self.views.get_mut(view.index()) {
            v.table.sort = Sort { col, desc };
        }
        self.refresh(view);
    }

    /// Marks one view stale, keeping its selected row.
    pub(super) fn invalidate_one(&mut self, view: ViewId) {
        let Some(snap) = self.snapshot.as_deref() else {
            return;
        };
        let cx = Ctx {
            snap,
            data: &self.data,
            history: &self.history,
            theme: &self.theme,
            changes: &self.changes,
        };
        let Some(v) = self.views.get_mut(view.index()) else {
            return;
        };
        if v.stale {
            return;
        }
        v.keep = v
            .table
            .selected_index()
            .and_then(|i| with_view!(view, cx, |t| t.key(i)));
        v.stale = true;
    }
}

/// Whether the filter in force keeps `s`: the finding's sockets when one was picked (Enter
/// in the Findings view), and the typed filter.
pub(super) fn filter_keeps(filter: &FilterState, cx: &FilterContext, s: &Socket) -> bool {
    filter.jump.as_ref().is_none_or(|j| j.ids.contains(&s.id)) && filter.parsed.matches(s, cx)
}
