//! The bottom line and the one above it: an open prompt with its error or its help, else
//! the last message (or the collector's failure) and the key hints, which come from the
//! keymap so they name the keys the user really has.

use super::layout::Areas;
use super::{App, Mode, Tone};
use crate::text::clean;
use crate::ui::keymap::Action;
use crate::ui::views::{ViewId, status};
use ratatui::buffer::Buffer;
use ratatui::layout::{Position, Rect};
use ratatui::text::Line;

impl App {
    pub(super) fn render_status(
        &self,
        buf: &mut Buffer,
        areas: &Areas,
        cursor: &mut Option<Position>,
    ) {
        let t = &self.theme;
        let area = areas.status;
        if area.height == 0 {
            return;
        }
        // The line above the status bar, for a prompt's error or help.
        let note_area = Rect {
            y: area.y.saturating_sub(1),
            ..area
        };
        let have_note_row = area.y > areas.tabs.bottom();
        match &self.mode {
            Mode::Filter(p) => {
                *cursor =
                    status::render_prompt(buf, area, "/", &p.input.text(), p.input.cursor_col(), t);
                if have_note_row {
                    let (line, style) = match &p.error {
                        Some(e) => (Line::raw(format!("{e}")), t.error),
                        None => (
                            Line::raw(format!(
                                "{} of {} sockets match · enter apply · esc cancel",
                                self.mask.iter().filter(|&&m| m).count(),
                                self.mask.len()
                            )),
                            t.muted,
                        ),
                    };
                    status::render_note(buf, note_area, &line, style);
                }
            }
            Mode::WhatIf(p) | Mode::Note(p) | Mode::Export(p) | Mode::Record(p) => {
                let (prefix, help) = match self.mode {
                    Mode::WhatIf(_) => ("what-if: ", super::whatif::USAGE),
                    Mode::Record(_) => (
                        "record to: ",
                        "JSON Lines, each new sample with the view, marks and notes · enter: start · esc: cancel",
                    ),
                    Mode::Export(_) => (
                        "export to: ",
                        "tab: next format (.json .csv .md .prom .txt) · enter: write · esc: cancel · marks and notes go into .json, .csv and .md",
                    ),
                    _ => (
                        "note: ",
                        "a note on the selected socket; empty removes the mark",
                    ),
                };
                *cursor = status::render_prompt(
                    buf,
                    area,
                    prefix,
                    &p.input.text(),
                    p.input.cursor_col(),
                    t,
                );
                if have_note_row {
                    let (line, style) = match &p.error {
                        Some(e) => (Line::raw(clean(e).into_owned()), t.error),
                        None => (Line::raw(help), t.muted),
                    };
                    status::render_note(buf, note_area, &line, style);
                }
            }
            Mode::Normal | Mode::Help => {
                let left = if let Some(s) = &self.status {
                    let style = match s.tone {
                        Tone::Info => t.text,
                        Tone::Ok => t.ok,
                        Tone::Error => t.error,
                    };
                    Line::styled(clean(&s.text).into_owned(), style)
                } else if let Some(e) = &self.collect_error {
                    Line::styled(
                        format!("collecting failed, showing the last snapshot: {}", clean(e)),
                        t.critical,
                    )
                } else {
                    status::hints_line(
                        &self.keymap.hints(&self.hint_actions()),
                        usize::from(area.width),
                        t,
                    )
                };
                let right = if self.status.is_some() || self.collect_error.is_some() {
                    status::hints_line(
                        &self.keymap.hints(&[Action::Help, Action::Quit]),
                        usize::from(area.width),
                        t,
                    )
                } else {
                    Line::default()
                };
                status::render(buf, area, &left, &right, t);
            }
        }
    }

    /// The actions the status bar offers, most useful first (it is cut at the right).
    fn hint_actions(&self) -> Vec<Action> {
        let mut a = vec![Action::Help, Action::Filter];
        if self.view == ViewId::Findings || !self.expanded {
            a.push(Action::Enter);
        }
        if self.expanded || self.whatif.is_some() || self.filter.jump.is_some() {
            a.push(Action::Back);
        }
        a.push(Action::SortNext);
        // Files do not refresh: the hints offer stepping instead of pausing.
        if self.replay.is_some() {
            a.extend([Action::StepBack, Action::StepForward, Action::Baseline]);
        } else {
            a.push(Action::Pause);
        }
        a.extend([
            Action::WhatIf,
            Action::Export,
            Action::NextView,
            Action::Quit,
        ]);
        a
    }
}
