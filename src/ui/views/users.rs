//! The Users view: one row per user, as socket owner (`sk_uid`) and as holder, with the
//! sockets where the two differ, and a detail listing them.

use super::cells::{holder_short, ports_text, severity_rank, severity_span, user_long, user_short};
use super::data::User;
use super::lines::{findings_of, labelled, local_text};
use super::{Ctx, Detail, RowKey, View};
use crate::ui::theme::Theme;
use crate::ui::widgets::table::{Column, Row, SortKey, Source};
use ratatui::text::{Line, Span};

pub const MARK: usize = 0;
pub const UID: usize = 1;
pub const USER: usize = 2;
pub const OWNS: usize = 3;
pub const HOLDS: usize = 4;
pub const PROCS: usize = 5;
pub const CROSS: usize = 6;
pub const PORTS: usize = 7;

#[rustfmt::skip]
const COLUMNS: [Column; 8] = [
    Column::new("!",      1,  1, 0),
    Column::new("UID",    6,  7, 0).right(),
    Column::new("USER",   8, 16, 0),
    Column::new("OWNS",   5,  6, 0).right(),
    Column::new("HOLDS",  5,  6, 0).right(),
    Column::new("PROCS",  5,  6, 1).right(),
    Column::new("CROSS",  5,  6, 1).right(),
    Column::new("PORTS", 10, 30, 2).grow(),
];

pub struct Table<'a> {
    cx: Ctx<'a>,
}

impl<'a> Table<'a> {
    pub fn new(cx: Ctx<'a>) -> Table<'a> {
        Table { cx }
    }
}

pub struct UserRow<'a> {
    u: &'a User,
}

impl Source for Table<'_> {
    type Row<'r>
        = UserRow<'r>
    where
        Self: 'r;

    fn columns(&self) -> &'static [Column] {
        &COLUMNS
    }

    fn len(&self) -> usize {
        self.cx.data.users.len()
    }

    fn row(&self, i: usize) -> Option<UserRow<'_>> {
        Some(UserRow {
            u: self.cx.data.users.get(i)?,
        })
    }
}

fn count(n: usize, theme: &Theme) -> Line<'static> {
    Line::styled(n.to_string(), super::cells::count_style(n, theme))
}

impl Row for UserRow<'_> {
    fn cell(&self, col: usize, width: u16, theme: &Theme) -> Line<'_> {
        let u = self.u;
        match col {
            MARK => Line::from(severity_span(u.worst, theme)),
            UID => Line::raw(u.uid.to_string()),
            USER => match &u.name {
                Some(_) => Line::raw(user_short(u.name.as_deref(), u.uid)),
                None => Line::styled("?", theme.muted),
            },
            OWNS => count(u.owned.len(), theme),
            HOLDS => count(u.held.len(), theme),
            PROCS => count(u.pids.len(), theme),
            CROSS => {
                let n = u.cross as usize;
                let style = if n > 0 { theme.cross_user } else { theme.muted };
                Line::styled(n.to_string(), style)
            }
            PORTS => Line::raw(ports_text(&u.ports, (usize::from(width) / 6).max(1))),
            _ => Line::default(),
        }
    }

    fn sort_key(&self, col: usize) -> SortKey {
        let u = self.u;
        let n = |n: usize| SortKey::num(u32::try_from(n).unwrap_or(u32::MAX));
        match col {
            MARK => severity_rank(u.worst).map_or(SortKey::Missing, SortKey::Num),
            UID => SortKey::num(u.uid),
            USER => u.name.as_deref().map_or(SortKey::Missing, SortKey::text),
            OWNS => n(u.owned.len()),
            HOLDS => n(u.held.len()),
            PROCS => n(u.pids.len()),
            CROSS => SortKey::num(u.cross),
            PORTS => u
                .ports
                .first()
                .map_or(SortKey::Missing, |&p| SortKey::num(p)),
            _ => SortKey::Missing,
        }
    }
}

impl View for Table<'_> {
    fn keep(&self, i: usize, mask: &[bool]) -> bool {
        self.cx.data.users.get(i).is_some_and(|u| {
            u.owned
                .iter()
                .chain(&u.held)
                .any(|&s| mask.get(s as usize).copied().unwrap_or(false))
        })
    }

    fn key(&self, i: usize) -> Option<RowKey> {
        self.cx.data.users.get(i).map(|u| RowKey::Uid(u.uid))
    }

    fn detail(&self, i: usize) -> Detail {
        let Some(u) = self.cx.data.users.get(i) else {
            return Detail::default();
        };
        detail(self.cx, u)
    }

    fn noun(&self) -> &'static str {
        "users"
    }
}

use super::LIST_MAX;

fn detail(cx: Ctx<'_>, u: &User) -> Detail {
    let theme = cx.theme;
    let mut lines = vec![labelled(
        "user",
        vec![Span::raw(format!(
            "{} · owns {} socket{} · holds {} through {} process{}",
            user_long(u.name.as_deref(), u.uid),
            u.owned.len(),
            if u.owned.len() == 1 { "" } else { "s" },
            u.held.len(),
            u.pids.len(),
            if u.pids.len() == 1 { "" } else { "es" },
        ))],
        theme,
    )];
    let list = |label: &str, idx: &[u32], lines: &mut Vec<Line<'static>>| {
        for (k, &si) in idx.iter().take(LIST_MAX).enumerate() {
            let Some(s) = cx.snap.sockets.get(si as usize) else {
                continue;
            };
            let cross = s.uid != u.uid || s.holders.iter().any(|h| h.uid != u.uid);
            let holders: Vec<String> = s
                .holders
                .iter()
                .map(|h| {
                    format!(
                        "{} {}",
                        holder_short(h),
                        user_short(h.user.as_deref(), h.uid)
                    )
                })
                .collect();
            let text = format!(
                "{} {} {} · socket of {} · held by {}",
                s.proto.name(),
                local_text(s),
                s.state_label(),
                user_short(s.user.as_deref(), s.uid),
                if holders.is_empty() {
                    "-".to_string()
                } else {
                    holders.join(", ")
                }
            );
            let style = if cross { theme.cross_user } else { theme.text };
            lines.push(labelled(
                if k == 0 { label } else { "" },
                vec![Span::styled(text, style)],
                theme,
            ));
        }
        if idx.len() > LIST_MAX {
            lines.push(labelled(
                "",
                vec![Span::styled(
                    format!("and {} more", idx.len() - LIST_MAX),
                    theme.muted,
                )],
                theme,
            ));
        }
    };
    list("owns", &u.owned, &mut lines);
    let held_only: Vec<u32> = u
        .held
        .iter()
        .copied()
        .filter(|s| u.owned.binary_search(s).is_err())
        .collect();
    list("holds", &held_only, &mut lines);
    findings_of(cx, u.owned.iter().chain(&u.held).copied(), &mut lines);
    Detail {
        title: user_long(u.name.as_deref(), u.uid),
        lines,
    }
}
