//! The Processes view: one row per process holding sockets, with its ports, and a detail
//! of its command line, unit and every socket it holds.

use super::cells::{ports_text, severity_rank, severity_span, user_long, user_short};
use super::data::Process;
use super::lines::{labelled, list_tail, local_text};
use super::{Ctx, Detail, LIST_MAX, RowKey, View};
use crate::text::clean;
use crate::ui::theme::Theme;
use crate::ui::widgets::table::{Column, Row, SortKey, Source};
use ratatui::text::{Line, Span};

pub const MARK: usize = 0;
pub const PID: usize = 1;
pub const NAME: usize = 2;
pub const USER: usize = 3;
pub const SOCKETS: usize = 4;
pub const LISTEN: usize = 5;
pub const PORTS: usize = 6;
pub const CONTAINER: usize = 7;
pub const UNIT: usize = 8;
pub const NETNS: usize = 9;
pub const COMMAND: usize = 10;

#[rustfmt::skip]
const COLUMNS: [Column; 11] = [
    Column::new("!",        1,  1, 0),
    Column::new("PID",      7,  7, 0).right(),
    Column::new("NAME",    10, 16, 0),
    Column::new("USER",     6, 10, 0),
    Column::new("SOCKS",    5,  5, 1).right(),
    Column::new("LISTEN",   6,  6, 2).right(),
    Column::new("PORTS",   10, 24, 1),
    Column::new("CONTAINER", 9, 20, 3),
    Column::new("UNIT",     8, 24, 4),
    Column::new("NETNS",   10, 12, 3),
    Column::new("COMMAND", 10, 30, 5).grow(),
];

/// A snapshot without containers: the CONTAINER column hidden.
const PLAIN: [Column; 11] = {
    let mut c = COLUMNS;
    c[CONTAINER] = c[CONTAINER].hidden();
    c
};

pub struct Table<'a> {
    cx: Ctx<'a>,
}

impl<'a> Table<'a> {
    pub fn new(cx: Ctx<'a>) -> Table<'a> {
        Table { cx }
    }
}

pub struct ProcessRow<'a> {
    p: &'a Process,
    cx: Ctx<'a>,
}

impl Source for Table<'_> {
    type Row<'r>
        = ProcessRow<'r>
    where
        Self: 'r;

    fn columns(&self) -> &'static [Column] {
        if self.cx.data.containers.is_empty() {
            &PLAIN
        } else {
            &COLUMNS
        }
    }

    fn len(&self) -> usize {
        self.cx.data.processes.len()
    }

    fn row(&self, i: usize) -> Option<ProcessRow<'_>> {
        Some(ProcessRow {
            p: self.cx.data.processes.get(i)?,
            cx: self.cx,
        })
    }
}

fn netns_name(cx: Ctx<'_>, p: &Process) -> String {
    match p.netns {
        Some(n) => cx.data.ns_name(n),
        None => "?".to_string(),
    }
}

fn command(p: &Process) -> String {
    let args: Vec<String> = p.cmdline.iter().map(|a| clean(a).into_owned()).collect();
    args.join(" ")
}

impl Row for ProcessRow<'_> {
    fn cell(&self, col: usize, width: u16, theme: &Theme) -> Line<'_> {
        let p = self.p;
        match col {
            MARK => Line::from(severity_span(p.worst, theme)),
            PID => Line::raw(p.pid.to_string()),
            NAME => Line::raw(clean(&p.name).into_owned()),
            USER => {
                let style = if p.cross_user {
                    theme.cross_user
                } else {
                    theme.text
                };
                Line::styled(user_short(p.user.as_deref(), p.uid), style)
            }
            SOCKETS => Line::raw(p.sockets.len().to_string()),
            LISTEN => Line::raw(p.listening.to_string()),
            PORTS => {
                // As many ports as fit, assuming five columns each.
                let max = (usize::from(width) / 6).max(1);
                Line::raw(ports_text(&p.ports, max))
            }
            UNIT => match &p.unit {
                Some(u) => Line::raw(clean(u).into_owned()),
                None => Line::styled("-", theme.muted),
            },
            NETNS => Line::raw(netns_name(self.cx, p)),
            COMMAND => Line::styled(command(p), theme.muted),
            CONTAINER => match &p.container {
                Some(c) => Line::raw(clean(&c.label()).into_owned()),
                None => Line::styled("-", theme.muted),
            },
            _ => Line::default(),
        }
    }

    fn sort_key(&self, col: usize) -> SortKey {
        let p = self.p;
        let count = |n: usize| SortKey::num(u32::try_from(n).unwrap_or(u32::MAX));
        match col {
            MARK => severity_rank(p.worst).map_or(SortKey::Missing, SortKey::Num),
            PID => SortKey::num(p.pid),
            NAME => SortKey::text(&p.name),
            USER => SortKey::text(&user_short(p.user.as_deref(), p.uid)),
            SOCKETS => count(p.sockets.len()),
            LISTEN => SortKey::num(p.listening),
            PORTS => p
                .ports
                .first()
                .map_or(SortKey::Missing, |&port| SortKey::num(port)),
            UNIT => p.unit.as_deref().map_or(SortKey::Missing, SortKey::text),
            NETNS => SortKey::text(&netns_name(self.cx, p)),
            COMMAND => SortKey::text(&command(p)),
            CONTAINER => p
                .container
                .as_ref()
                .map_or(SortKey::Missing, |c| SortKey::text(&c.label())),
            _ => SortKey::Missing,
        }
    }
}

impl View for Table<'_> {
    fn keep(&self, i: usize, mask: &[bool]) -> bool {
        self.cx.data.processes.get(i).is_some_and(|p| {
            p.sockets
                .iter()
                .any(|&s| mask.get(s as usize).copied().unwrap_or(false))
        })
    }

    fn key(&self, i: usize) -> Option<RowKey> {
        self.cx.data.processes.get(i).map(|p| RowKey::Pid(p.pid))
    }

    fn detail(&self, i: usize) -> Detail {
        let Some(p) = self.cx.data.processes.get(i) else {
            return Detail::default();
        };
        detail(self.cx, p)
    }

    fn noun(&self) -> &'static str {
        "processes"
    }
}

fn detail(cx: Ctx<'_>, p: &Process) -> Detail {
    let theme = cx.theme;
    let mut lines = vec![
        labelled(
            "process",
            vec![Span::raw(format!(
                "{}[{}] · {} · netns {}",
                clean(&p.name),
                p.pid,
                user_long(p.user.as_deref(), p.uid),
                netns_name(cx, p)
            ))],
            theme,
        ),
        labelled("command", vec![Span::raw(command(p))], theme),
    ];
    if let Some(c) = &p.container {
        lines.push(labelled(
            "runs in",
            vec![Span::raw(crate::output::containers::describe(c))],
            theme,
        ));
    }
    if let Some(u) = &p.unit {
        lines.push(labelled(
            "unit",
            vec![Span::raw(clean(u).into_owned())],
            theme,
        ));
    }
    for (k, &si) in p.sockets.iter().take(LIST_MAX).enumerate() {
        let Some(s) = cx.snap.sockets.get(si as usize) else {
            continue;
        };
        let fds: Vec<String> = s
            .holders
            .iter()
            .filter(|h| h.pid == p.pid)
            .map(|h| h.fd.to_string())
            .collect();
        let others: Vec<String> = s
            .holders
            .iter()
            .filter(|h| h.pid != p.pid)
            .map(|h| format!("{}[{}]", clean(&h.name), h.pid))
            .collect();
        let style = if s.uid != p.uid {
            theme.cross_user
        } else {
            theme.text
        };
        let mut text = format!(
            "{} {} {} · fd {} · socket of {}",
            s.proto.name(),
            local_text(s),
            s.state_label(),
            fds.join(","),
            user_long(s.user.as_deref(), s.uid)
        );
        if !others.is_empty() {
            text.push_str(&format!(" · shared with {}", others.join(", ")));
        }
        lines.push(labelled(
            if k == 0 { "sockets" } else { "" },
            vec![Span::styled(text, style)],
            theme,
        ));
    }
    list_tail(cx, &p.sockets, &mut lines);
    Detail {
        title: format!("{}[{}]", clean(&p.name), p.pid),
        lines,
    }
}
