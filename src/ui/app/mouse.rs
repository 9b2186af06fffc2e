//! The mouse: a click on a tab switches view, on a column title sorts by it, on a row
//! selects it; the wheel moves the selection, or scrolls the detail or help under it.

use super::{App, Effect, Mode};
use crate::ui::views::header;
use crate::ui::widgets::table::column_at;
use ratatui::crossterm::event::{MouseButton, MouseEvent, MouseEventKind};
use ratatui::layout::{Position, Rect};

/// Rows per wheel notch.
const WHEEL: isize = 3;

impl App {
    pub(super) fn on_mouse(&mut self, m: MouseEvent) -> Vec<Effect> {
        // Without a size the layout is unknown; a click could land anywhere.
        let Some(screen) = self.screen() else {
            return Vec::new();
        };
        let at = Position::new(m.column, m.row);
        let dir = match m.kind {
            MouseEventKind::ScrollDown => Some(WHEEL),
            MouseEventKind::ScrollUp => Some(-WHEEL),
            _ => None,
        };
        match self.mode {
            Mode::Help => {
                if let Some(d) = dir {
                    let max = crate::ui::views::help::max_scroll(&self.keymap, &self.theme, screen);
                    self.help_scroll = self.help_scroll.saturating_add_signed(d).min(max);
                }
                return Vec::new();
            }
            // Prompts own the keyboard; the mouse waits.
            Mode::Filter(_)
            | Mode::WhatIf(_)
            | Mode::Note(_)
            | Mode::Export(_)
            | Mode::Record(_) => {
                return Vec::new();
            }
            Mode::Normal => {}
        }
        let areas = self.areas(screen);
        if let Some(d) = dir {
            if areas.detail.contains(at) {
                self.scroll_detail(d);
            } else {
                self.move_by(d);
            }
            return Vec::new();
        }
        if m.kind != MouseEventKind::Down(MouseButton::Left) {
            return Vec::new();
        }
        self.status = None;
        if areas.timeline.contains(at) {
            let target = self.with_timeline(|info| {
                crate::ui::views::timeline::instant_at(info, areas.timeline.width, at.x)
            });
            if let Some(i) = target.flatten() {
                self.show_instant(i);
            }
        } else if areas.tabs.contains(at) {
            self.click_tab(areas.tabs, screen, at);
        } else if areas.table.contains(at) {
            self.click_table(areas.table, at);
        }
        Vec::new()
    }

    fn click_tab(&mut self, tabs: Rect, screen: Rect, at: Position) {
        let filter = self.filter_label();
        let list = header::tabs(
            &self.keymap,
            screen.width,
            filter
                .as_deref()
                .map_or(0, |f| crate::ui::widgets::text::width(f) + 9),
        );
        let x = at.x.saturating_sub(tabs.x);
        if let Some(t) = list.iter().find(|t| x >= t.x && x < t.x + t.width) {
            self.switch(t.view);
        }
    }

    fn click_table(&mut self, table: Rect, at: Position) {
        if at.y == table.y {
            // The header row: sort by that column, again to reverse.
            let cols = self.columns();
            if let Some(col) = column_at(cols, table.width, at.x.saturating_sub(table.x)) {
                let s = self.current().sort;
                let desc = s.col == col && !s.desc;
                self.set_sort(col, desc);
            }
            return;
        }
        let body = usize::from(table.height.saturating_sub(1));
        let offset = self.current().visible_offset(body);
        let pos = offset + usize::from(at.y - table.y - 1);
        if pos < self.current().rows.len()
            && let Some(v) = self.views.get_mut(self.view.index())
        {
            if v.table.selected != pos {
                self.detail_scroll = 0;
            }
            v.table.selected = pos;
        }
    }
}
