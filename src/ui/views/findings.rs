//! The Findings view: every finding, most severe first; the detail gives its explanation
//! in plain words and the sockets involved; Enter shows those sockets.

use super::cells::{severity_rank, user_short};
use super::lines::{explanation_lines, labelled, local_text};
use super::{Ctx, Detail, LIST_MAX, RowKey, View};
use crate::model::Finding;
use crate::text::clean;
use crate::ui::theme::Theme;
use crate::ui::widgets::table::{Column, Row, SortKey, Source};
use ratatui::text::{Line, Span};

pub const SEVERITY: usize = 0;
pub const KIND: usize = 1;
pub const SOCKETS: usize = 2;
pub const NETNS: usize = 3;
pub const SUMMARY: usize = 4;

#[rustfmt::skip]
const COLUMNS: [Column; 5] = [
    Column::new("SEVERITY",  8,  9, 0),
    Column::new("KIND",     12, 22, 0),
    Column::new("SOCKS",     5,  5, 2).right(),
    Column::new("NETNS",    10, 12, 3),
    Column::new("SUMMARY",  20, 40, 1).grow(),
];

pub struct Table<'a> {
    cx: Ctx<'a>,
}

impl<'a> Table<'a> {
    pub fn new(cx: Ctx<'a>) -> Table<'a> {
        Table { cx }
    }
}

pub struct FindingRow<'a> {
    f: &'a Finding,
    sockets: &'a [u32],
    cx: Ctx<'a>,
}

impl Source for Table<'_> {
    type Row<'r>
        = FindingRow<'r>
    where
        Self: 'r;

    fn columns(&self) -> &'static [Column] {
        &COLUMNS
    }

    fn len(&self) -> usize {
        self.cx.data.findings.len()
    }

    fn row(&self, i: usize) -> Option<FindingRow<'_>> {
        Some(FindingRow {
            f: self.cx.data.findings.get(i)?,
            sockets: self.cx.data.finding_sockets.get(i)?,
            cx: self.cx,
        })
    }
}

impl FindingRow<'_> {
    /// The namespaces of the sockets involved, by name.
    fn netns(&self) -> String {
        let mut names: Vec<String> = self
            .sockets
            .iter()
            .filter_map(|&i| self.cx.snap.sockets.get(i as usize))
            .map(|s| self.cx.data.ns_name(s.netns))
            .collect();
        names.sort();
        names.dedup();
        if names.is_empty() {
            "-".into()
        } else {
            names.join(",")
        }
    }
}

impl Row for FindingRow<'_> {
    fn cell(&self, col: usize, _width: u16, theme: &Theme) -> Line<'_> {
        let f = self.f;
        match col {
            SEVERITY => Line::styled(f.severity.name(), theme.severity(f.severity)),
            KIND => Line::styled(
                clean(f.kind.name()).into_owned(),
                theme.severity(f.severity),
            ),
            SOCKETS => Line::raw(f.sockets.len().to_string()),
            NETNS => Line::raw(self.netns()),
            SUMMARY => Line::raw(clean(&f.summary).into_owned()),
            _ => Line::default(),
        }
    }

    fn sort_key(&self, col: usize) -> SortKey {
        let f = self.f;
        match col {
            SEVERITY => severity_rank(Some(f.severity)).map_or(SortKey::Missing, SortKey::Num),
            KIND => SortKey::text(f.kind.name()),
            SOCKETS => SortKey::num(u32::try_from(f.sockets.len()).unwrap_or(u32::MAX)),
            NETNS => SortKey::text(&self.netns()),
            SUMMARY => SortKey::text(&f.summary),
            _ => SortKey::Missing,
        }
    }
}

impl View for Table<'_> {
    fn keep(&self, i: usize, mask: &[bool]) -> bool {
        self.cx.data.finding_sockets.get(i).is_some_and(|idx| {
            idx.iter()
                .any(|&s| mask.get(s as usize).copied().unwrap_or(false))
        })
    }

    fn key(&self, i: usize) -> Option<RowKey> {
        let f = self.cx.data.findings.get(i)?;
        Some(RowKey::Finding(f.kind.clone(), f.sockets.clone()))
    }

    fn detail(&self, i: usize) -> Detail {
        let (Some(f), Some(idx)) = (
            self.cx.data.findings.get(i),
            self.cx.data.finding_sockets.get(i),
        ) else {
            return Detail::default();
        };
        detail(self.cx, f, idx)
    }

    fn noun(&self) -> &'static str {
        "findings"
    }
}

fn detail(cx: Ctx<'_>, f: &Finding, idx: &[u32]) -> Detail {
    let theme = cx.theme;
    let sev = theme.severity(f.severity);
    let mut lines = vec![
        Line::from(vec![
            Span::styled(format!("{:<10}", f.severity.name()), sev),
            Span::raw(clean(&f.summary).into_owned()),
        ]),
        Line::default(),
    ];
    lines.extend(explanation_lines(&f.explanation, 0, theme.text));
    lines.push(Line::default());
    for (k, &i) in idx.iter().take(LIST_MAX).enumerate() {
        let Some(s) = cx.snap.sockets.get(i as usize) else {
            continue;
        };
        let holders: Vec<String> = s
            .holders
            .iter()
            .map(|h| {
                format!(
                    "{}[{}] {}",
                    clean(&h.name),
                    h.pid,
                    user_short(h.user.as_deref(), h.uid)
                )
            })
            .collect();
        lines.push(labelled(
            if k == 0 { "sockets" } else { "" },
            vec![Span::raw(format!(
                "{} {} {} · {} · {} · {}",
                s.proto.name(),
                local_text(s),
                s.state_label(),
                cx.data.ns_name(s.netns),
                user_short(s.user.as_deref(), s.uid),
                if holders.is_empty() {
                    "no visible holder".to_string()
                } else {
                    holders.join(", ")
                }
            ))],
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
    Detail {
        title: format!("{}: {}", f.severity.name(), clean(f.kind.name())),
        lines,
    }
}
