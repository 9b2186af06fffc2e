//! The line under a view's table: a legend of the highlights that view uses (or what its
//! keys do) on the left, the selected row's position and the sort on the right.

use super::App;
use crate::ui::keymap::Action;
use crate::ui::views::{Ctx, ViewId, with_view};
use crate::ui::widgets::table;
use ratatui::text::{Line, Span};

impl App {
    /// The legend of the highlights (left) and the position and sort (right).
    pub(super) fn footer(&self, _cx: Ctx<'_>) -> (Line<'static>, Line<'static>) {
        let t = &self.theme;
        let legend = match self.view {
            ViewId::Sockets | ViewId::Ports => vec![
                Span::styled("A", t.overlap_marker),
                Span::styled(" overlap  ", t.muted),
                Span::styled("!", t.critical),
                Span::styled("!", t.warning),
                Span::styled("•", t.notice),
                Span::styled("·", t.info),
                Span::styled(" finding  ", t.muted),
                Span::styled("user", t.cross_user),
                Span::styled(" cross-user  ", t.muted),
                Span::styled("queue", t.muted),
                Span::raw(" "),
                Span::styled("growing", t.warning),
                Span::raw(" "),
                Span::styled("full", t.critical),
            ],
            ViewId::Processes | ViewId::Users => vec![
                Span::styled("!", t.critical),
                Span::styled("!", t.warning),
                Span::styled("•", t.notice),
                Span::styled("·", t.info),
                Span::styled(" worst finding  ", t.muted),
                Span::styled("user", t.cross_user),
                Span::styled(" holds another user's socket", t.muted),
            ],
            ViewId::Findings => {
                let enter = self.key_for(Action::Enter);
                vec![Span::styled(
                    format!("{enter}: show the sockets of the finding"),
                    t.muted,
                )]
            }
            ViewId::Host => vec![Span::styled(
                "flagged: addresses tentative, dadfailed, optimistic or deprecated",
                t.muted,
            )],
            ViewId::Changes => {
                let b = self.key_for(Action::Baseline);
                vec![
                    Span::styled("since ", t.muted),
                    Span::raw(self.changes.baseline.clone()),
                    Span::styled(
                        format!(" · {b}: compare with the snapshot on screen"),
                        t.muted,
                    ),
                ]
            }
        };
        let st = self.current();
        let cols = with_view!(self.view, _cx, |t| table::Source::columns(&t));
        let sort = cols.get(st.sort.col).map_or("", |c| c.title);
        let n = st.rows.len();
        let pos = if n == 0 {
            "0/0".to_string()
        } else {
            format!("{}/{n}", st.selected + 1)
        };
        let arrow = if st.sort.desc { '▼' } else { '▲' };
        let right = Line::styled(format!("{pos} · sort {sort}{arrow}"), t.muted);
        (Line::from(legend), right)
    }
}
