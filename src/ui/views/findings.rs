//! The Findings view: every finding, most severe first, then by port; the facets of one
//! problem on one port are one row. The detail gives the explanations in plain words and
//! the sockets involved; Enter shows those sockets.

use super::cells::{severity_rank, user_short};
use super::data::FindingEntry;
use super::lines::{explanation_lines, labelled, local_text};
use super::{Ctx, Detail, LIST_MAX, RowKey, View};
use crate::model::Finding;
use crate::output::findings::problem_title;
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
    /// The first (most severe) facet.
    f: &'a Finding,
    entry: &'a FindingEntry,
    sockets: &'a [u32],
    cx: Ctx<'a>,
}

/// The findings of an entry, most severe first.
fn facets<'a>(cx: Ctx<'a>, e: &FindingEntry) -> Vec<&'a Finding> {
    e.facets
        .iter()
        .filter_map(|&fi| cx.data.findings.get(fi as usize))
        .collect()
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
        self.cx.data.finding_entries.len()
    }

    fn row(&self, i: usize) -> Option<FindingRow<'_>> {
        let entry = self.cx.data.finding_entries.get(i)?;
        Some(FindingRow {
            f: self.cx.data.findings.get(*entry.facets.first()? as usize)?,
            entry,
            sockets: &entry.sockets,
            cx: self.cx,
        })
    }
}

impl FindingRow<'_> {
    /// The kind, and for a problem how many more facets it has: `cross_user_port +2`.
    fn kind(&self) -> String {
        let kind = clean(self.f.kind.name()).into_owned();
        match self.entry.facets.len() {
            0 | 1 => kind,
            n => format!("{kind} +{}", n - 1),
        }
    }

    /// The finding's summary, or the problem's headline.
    fn summary(&self) -> String {
        match &self.entry.problem {
            Some(port) if self.entry.facets.len() > 1 => clean(&problem_title(
                self.cx.snap,
                port,
                &facets(self.cx, self.entry),
            ))
            .into_owned(),
            _ => clean(&self.f.summary).into_owned(),
        }
    }

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
        let severity = self.entry.severity;
        match col {
            SEVERITY => Line::styled(severity.name(), theme.severity(severity)),
            KIND => Line::styled(self.kind(), theme.severity(severity)),
            SOCKETS => Line::raw(self.sockets.len().to_string()),
            NETNS => Line::raw(self.netns()),
            SUMMARY => Line::raw(self.summary()),
            _ => Line::default(),
        }
    }

    fn sort_key(&self, col: usize) -> SortKey {
        match col {
            SEVERITY => {
                severity_rank(Some(self.entry.severity)).map_or(SortKey::Missing, SortKey::Num)
            }
            KIND => SortKey::text(&self.kind()),
            SOCKETS => SortKey::num(u32::try_from(self.sockets.len()).unwrap_or(u32::MAX)),
            NETNS => SortKey::text(&self.netns()),
            SUMMARY => SortKey::text(&self.summary()),
            _ => SortKey::Missing,
        }
    }
}

impl View for Table<'_> {
    fn keep(&self, i: usize, mask: &[bool]) -> bool {
        self.cx.data.finding_entries.get(i).is_some_and(|e| {
            e.sockets
                .iter()
                .any(|&s| mask.get(s as usize).copied().unwrap_or(false))
        })
    }

    fn key(&self, i: usize) -> Option<RowKey> {
        let e = self.cx.data.finding_entries.get(i)?;
        let f = self.cx.data.findings.get(*e.facets.first()? as usize)?;
        let ids = e
            .sockets
            .iter()
            .filter_map(|&s| self.cx.snap.sockets.get(s as usize))
            .map(|s| s.id.clone())
            .collect();
        Some(RowKey::Finding(f.kind.clone(), ids))
    }

    fn detail(&self, i: usize) -> Detail {
        let Some(e) = self.cx.data.finding_entries.get(i) else {
            return Detail::default();
        };
        detail(self.cx, e)
    }

    fn noun(&self) -> &'static str {
        "findings"
    }
}

fn detail(cx: Ctx<'_>, e: &FindingEntry) -> Detail {
    let theme = cx.theme;
    let facets = facets(cx, e);
    let Some(first) = facets.first() else {
        return Detail::default();
    };
    let mut lines = Vec::new();
    if let (Some(port), true) = (&e.problem, facets.len() > 1) {
        lines.push(Line::styled(
            clean(&problem_title(cx.snap, port, &facets)).into_owned(),
            theme.severity(e.severity),
        ));
        lines.push(Line::default());
    }
    for f in &facets {
        lines.push(Line::from(vec![
            Span::styled(
                format!("{:<10}", f.severity.name()),
                theme.severity(f.severity),
            ),
            Span::raw(clean(&f.summary).into_owned()),
        ]));
        lines.push(Line::default());
        lines.extend(explanation_lines(&f.explanation, 0, theme.text));
        lines.push(Line::default());
    }
    let idx = &e.sockets;
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
    let title = match facets.len() {
        1 => format!("{}: {}", e.severity.name(), clean(first.kind.name())),
        n => format!("{}: one problem, {n} findings", e.severity.name()),
    };
    Detail { title, lines }
}
