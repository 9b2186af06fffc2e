//! The whole screen, drawn from the state: the header, the timeline of opened files, the
//! tabs, the body (the view's table, its footer and the detail pane), the status bar and the
//! help overlay. A pure function of the app: it reads the state and changes nothing, so a
//! paused view or a snapshot file draws exactly the same way.

use super::layout::Areas;
use super::{App, Mode};
use crate::ui::views::header::{self, HeaderInfo};
use crate::ui::views::{self, Ctx, detail, help, with_view};
use crate::ui::widgets::table;
use crate::ui::widgets::text::{draw_fitted, width};
use ratatui::Frame;
use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::text::Line;

impl App {
    /// Draws the whole screen: a pure function of the state.
    pub fn render(&self, frame: &mut Frame) {
        let screen = frame.area();
        let areas = self.areas(screen);
        let theme = &self.theme;
        let filter = self.filter_label();
        let tabs = header::tabs(
            &self.keymap,
            screen.width,
            filter.as_deref().map_or(0, |f| width(f) + 9),
        );
        let mut cursor = None;
        {
            let buf = frame.buffer_mut();
            header::render(
                buf,
                areas.header,
                &HeaderInfo {
                    snap: self.snapshot.as_deref(),
                    data: &self.data,
                    interval: self.interval,
                    paused: self.paused,
                    pending: self.pending.is_some(),
                    replay: self.replay_position(),
                    recording: self.recording().map(|r| r.samples),
                },
                theme,
            );
            if areas.timeline.height > 0 {
                self.with_timeline(|info| {
                    crate::ui::views::timeline::render(buf, areas.timeline, info, theme);
                });
            }
            header::render_tabs(buf, areas.tabs, &tabs, self.view, filter.as_deref(), theme);
            match self.ctx() {
                Some(cx) => self.render_body(buf, &areas, cx),
                None => {
                    let body = Rect {
                        height: areas.table.height + areas.footer.height + areas.detail.height,
                        ..areas.table
                    };
                    draw_fitted(
                        buf,
                        body.x,
                        body.y,
                        &Line::styled("waiting for the first snapshot…", theme.muted),
                        body.width,
                    );
                }
            }
            self.render_status(buf, &areas, &mut cursor);
            if self.mode == Mode::Help {
                help::render(buf, screen, &self.keymap, theme, self.help_scroll);
            }
        }
        if let Some(pos) = cursor {
            frame.set_cursor_position(pos);
        }
    }

    fn render_body(&self, buf: &mut Buffer, areas: &Areas, cx: Ctx<'_>) {
        let theme = &self.theme;
        let state = self.current();
        if areas.table.height > 0 {
            with_view!(self.view, cx, |t| {
                let empty = if self.filter_label().is_some() {
                    format!(
                        "no {} match the filter (esc clears it)",
                        views::View::noun(&t)
                    )
                } else {
                    format!("no {}", views::View::noun(&t))
                };
                table::render(buf, areas.table, &t, state, theme, &empty);
            });
        }
        if areas.footer.height > 0 {
            let (legend, pos) = self.footer(cx);
            draw_fitted(
                buf,
                areas.footer.x,
                areas.footer.y,
                &legend,
                areas.footer.width,
            );
            let pw = u16::try_from(pos.width()).unwrap_or(0);
            if usize::from(pw) + legend.width() + 2 <= usize::from(areas.footer.width) {
                let x = areas.footer.x + areas.footer.width - pw;
                draw_fitted(buf, x, areas.footer.y, &pos, pw);
            }
        }
        if areas.detail.height > 0
            && let Some((title, lines)) = self.detail_content()
        {
            let focused = self.expanded || self.whatif.is_some();
            detail::render(
                buf,
                areas.detail,
                &title,
                &lines,
                self.detail_scroll,
                theme,
                focused,
            );
        }
    }
}
