//! The Changes view: the dashboard's diff mode. What appeared, disappeared or changed since
//! the baseline (the first snapshot, a recording's first sample, or the one on screen when
//! `b` was pressed): sockets, findings new and resolved, namespaces. The comparison is
//! [`crate::analyze::diff`], the same as `bindscope diff`.

use super::cells::user_short;
use super::lines::{explanation_lines, label, labelled, local_text};
use super::{Ctx, Detail, RowKey, View};
use crate::analyze::diff::{ChangeKind, Diff, FindingChangeKind};
use crate::output::diff::{FieldWords, netns_fields, socket_fields};
use crate::text::clean;
use crate::ui::theme::Theme;
use crate::ui::widgets::table::{Column, Row, SortKey, Source};
use ratatui::text::{Line, Span};

pub const CHANGE: usize = 0;
pub const PROTO: usize = 1;
pub const LOCAL: usize = 2;
pub const STATE: usize = 3;
pub const USER: usize = 4;
pub const WHAT: usize = 5;

#[rustfmt::skip]
const COLUMNS: [Column; 6] = [
    Column::new("CHANGE",   8, 12, 0),
    Column::new("PROTO",    5,  5, 1),
    Column::new("LOCAL",   12, 28, 0),
    Column::new("STATE",    5,  7, 2),
    Column::new("USER",     4, 10, 2),
    Column::new("WHAT",    10, 40, 0).grow(),
];

/// One row: an entry of the diff.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Entry {
    Socket(usize),
    Finding(usize),
    Netns(usize),
}

/// The comparison on screen, with what the table needs to filter it.
#[derive(Debug, Clone, Default)]
pub struct Changes {
    pub diff: Option<Diff>,
    pub rows: Vec<Entry>,
    /// Per row: whether the filter keeps it (a socket row by its socket, a finding by any
    /// of its sockets, namespaces always).
    pub keep: Vec<bool>,
    /// What the baseline is, for the detail and the empty table.
    pub baseline: String,
}

impl Changes {
    pub fn new(diff: Diff, baseline: String) -> Changes {
        let rows = (0..diff.sockets.len())
            .map(Entry::Socket)
            .chain((0..diff.findings.len()).map(Entry::Finding))
            .chain((0..diff.netns.len()).map(Entry::Netns))
            .collect::<Vec<_>>();
        let keep = vec![true; rows.len()];
        Changes {
            diff: Some(diff),
            rows,
            keep,
            baseline,
        }
    }
}

pub struct Table<'a> {
    cx: Ctx<'a>,
}

impl<'a> Table<'a> {
    pub fn new(cx: Ctx<'a>) -> Table<'a> {
        Table { cx }
    }
}

pub struct ChangeRow<'a> {
    entry: Entry,
    diff: &'a Diff,
}

impl Source for Table<'_> {
    type Row<'r>
        = ChangeRow<'r>
    where
        Self: 'r;

    fn columns(&self) -> &'static [Column] {
        &COLUMNS
    }

    fn len(&self) -> usize {
        self.cx.changes.rows.len()
    }

    fn row(&self, i: usize) -> Option<ChangeRow<'_>> {
        Some(ChangeRow {
            entry: *self.cx.changes.rows.get(i)?,
            diff: self.cx.changes.diff.as_ref()?,
        })
    }
}

fn kind_text(k: ChangeKind) -> &'static str {
    match k {
        ChangeKind::Appeared => "+ appeared",
        ChangeKind::Disappeared => "- gone",
        ChangeKind::Changed => "~ changed",
    }
}

fn kind_style(k: ChangeKind, theme: &Theme) -> ratatui::style::Style {
    match k {
        ChangeKind::Appeared => theme.ok,
        ChangeKind::Disappeared => theme.critical,
        ChangeKind::Changed => theme.warning,
    }
}

/// One change in a few words: `holders +nginx[40] -nginx[12]`, `reuseport ? → true`.
pub fn field_text(f: &FieldWords) -> String {
    let name = match &f.subject {
        Some(subject) => format!("{} {}", clean(&f.field), clean(subject)),
        None => clean(&f.field).into_owned(),
    };
    if f.added.is_empty() && f.removed.is_empty() {
        return format!("{name} {} → {}", clean(&f.before), clean(&f.after));
    }
    let mut parts = vec![name];
    parts.extend(f.added.iter().map(|a| format!("+{}", clean(a))));
    parts.extend(f.removed.iter().map(|r| format!("-{}", clean(r))));
    parts.join(" ")
}

fn fields_text(fields: &[FieldWords]) -> String {
    fields
        .iter()
        .map(field_text)
        .collect::<Vec<_>>()
        .join(" · ")
}

impl ChangeRow<'_> {
    /// The rank of the row's kind, for the default order: sockets (appeared, gone,
    /// changed), then findings (new, resolved), then namespaces.
    fn rank(&self) -> i64 {
        match self.entry {
            Entry::Socket(i) => match self.diff.sockets.get(i).map(|c| c.kind) {
                Some(ChangeKind::Appeared) => 0,
                Some(ChangeKind::Disappeared) => 1,
                _ => 2,
            },
            Entry::Finding(i) => match self.diff.findings.get(i).map(|f| f.kind) {
                Some(FindingChangeKind::New) => 3,
                _ => 4,
            },
            Entry::Netns(_) => 5,
        }
    }

    fn what(&self) -> String {
        match self.entry {
            Entry::Socket(i) => self
                .diff
                .sockets
                .get(i)
                .map_or_else(String::new, |c| fields_text(&socket_fields(c))),
            Entry::Finding(i) => self.diff.findings.get(i).map_or_else(String::new, |f| {
                format!(
                    "{} {}: {}",
                    f.finding.severity.name(),
                    clean(f.finding.kind.name()),
                    clean(&f.finding.summary)
                )
            }),
            Entry::Netns(i) => self
                .diff
                .netns
                .get(i)
                .map_or_else(String::new, |n| fields_text(&netns_fields(n))),
        }
    }
}

impl Row for ChangeRow<'_> {
    fn cell(&self, col: usize, _width: u16, theme: &Theme) -> Line<'_> {
        match self.entry {
            Entry::Socket(i) => {
                let Some(c) = self.diff.sockets.get(i) else {
                    return Line::default();
                };
                let s = &c.socket;
                match col {
                    CHANGE => Line::styled(kind_text(c.kind), kind_style(c.kind, theme)),
                    PROTO => Line::raw(s.proto.name()),
                    LOCAL => Line::raw(local_text(s)),
                    STATE => Line::raw(s.state_label()),
                    USER => Line::raw(user_short(s.user.as_deref(), s.uid)),
                    WHAT => Line::raw(self.what()),
                    _ => Line::default(),
                }
            }
            Entry::Finding(i) => {
                let Some(f) = self.diff.findings.get(i) else {
                    return Line::default();
                };
                match col {
                    CHANGE => match f.kind {
                        FindingChangeKind::New => Line::styled("+ finding", theme.warning),
                        FindingChangeKind::Resolved => Line::styled("- resolved", theme.ok),
                    },
                    WHAT => Line::styled(self.what(), theme.severity(f.finding.severity)),
                    _ => Line::default(),
                }
            }
            Entry::Netns(i) => {
                let Some(n) = self.diff.netns.get(i) else {
                    return Line::default();
                };
                match col {
                    CHANGE => Line::styled(
                        match n.kind {
                            ChangeKind::Appeared => "+ netns",
                            ChangeKind::Disappeared => "- netns",
                            ChangeKind::Changed => "~ netns",
                        },
                        kind_style(n.kind, theme),
                    ),
                    LOCAL => Line::raw(
                        n.name
                            .as_deref()
                            .map_or_else(|| n.id.to_string(), |s| clean(s).into_owned()),
                    ),
                    WHAT => Line::raw(self.what()),
                    _ => Line::default(),
                }
            }
        }
    }

    fn sort_key(&self, col: usize) -> SortKey {
        let sock = match self.entry {
            Entry::Socket(i) => self.diff.sockets.get(i).map(|c| &c.socket),
            _ => None,
        };
        match col {
            CHANGE => SortKey::Num(self.rank()),
            PROTO => sock.map_or(SortKey::Missing, |s| SortKey::text(s.proto.name())),
            LOCAL => sock.map_or(SortKey::Missing, |s| {
                SortKey::Tuple(vec![i64::from(s.local_port), self.rank()])
            }),
            STATE => sock.map_or(SortKey::Missing, |s| SortKey::text(s.state_label())),
            USER => sock.map_or(SortKey::Missing, |s| SortKey::num(s.uid)),
            WHAT => SortKey::text(&self.what()),
            _ => SortKey::Missing,
        }
    }
}

impl View for Table<'_> {
    fn keep(&self, i: usize, _mask: &[bool]) -> bool {
        self.cx.changes.keep.get(i).copied().unwrap_or(true)
    }

    fn key(&self, i: usize) -> Option<RowKey> {
        let diff = self.cx.changes.diff.as_ref()?;
        Some(match self.cx.changes.rows.get(i)? {
            Entry::Socket(k) => RowKey::Socket(diff.sockets.get(*k)?.socket.id.clone()),
            Entry::Finding(k) => {
                let f = &diff.findings.get(*k)?.finding;
                RowKey::Finding(f.kind.clone(), f.sockets.clone())
            }
            Entry::Netns(k) => RowKey::Netns(diff.netns.get(*k)?.id),
        })
    }

    fn detail(&self, i: usize) -> Detail {
        let (Some(diff), Some(entry)) = (&self.cx.changes.diff, self.cx.changes.rows.get(i)) else {
            return Detail::default();
        };
        let theme = self.cx.theme;
        // "Now" is the snapshot on screen: a quiet refresh keeps the comparison, made
        // before, since only volatile fields such as the time moved.
        let mut lines = vec![labelled(
            "compared",
            vec![Span::raw(format!(
                "{} ({}) → now ({})",
                self.cx.changes.baseline,
                clean(&diff.before.taken_at.to_string()),
                clean(&self.cx.snap.taken_at.to_string())
            ))],
            theme,
        )];
        let field_lines = |lines: &mut Vec<Line<'static>>, fields: &[FieldWords]| {
            for f in fields {
                lines.push(Line::from(vec![
                    label(&clean(&f.field), theme),
                    Span::styled(clean(&f.before).into_owned(), theme.critical),
                    Span::styled(" → ", theme.muted),
                    Span::styled(clean(&f.after).into_owned(), theme.ok),
                ]));
            }
        };
        let title = match *entry {
            Entry::Socket(k) => {
                let Some(c) = diff.sockets.get(k) else {
                    return Detail::default();
                };
                let s = &c.socket;
                lines.push(labelled(
                    "socket",
                    vec![Span::raw(format!(
                        "{} {} {} · {} · {}",
                        s.proto.name(),
                        local_text(s),
                        s.state_label(),
                        self.cx.data.ns_name(s.netns),
                        user_short(s.user.as_deref(), s.uid)
                    ))],
                    theme,
                ));
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
                    "holders",
                    vec![Span::raw(if holders.is_empty() {
                        "none visible".to_string()
                    } else {
                        holders.join(", ")
                    })],
                    theme,
                ));
                if let Some(old) = &c.before_id {
                    lines.push(labelled(
                        "recreated",
                        vec![Span::raw(format!(
                            "the socket was {}, now {} (same endpoint: a restart?)",
                            clean(&old.0),
                            clean(&s.id.0)
                        ))],
                        theme,
                    ));
                }
                lines.push(Line::default());
                field_lines(&mut lines, &socket_fields(c));
                format!("{} {} {}", kind_text(c.kind), s.proto.name(), local_text(s))
            }
            Entry::Finding(k) => {
                let Some(f) = diff.findings.get(k) else {
                    return Detail::default();
                };
                let word = match f.kind {
                    FindingChangeKind::New => "new since the baseline",
                    FindingChangeKind::Resolved => "resolved since the baseline",
                };
                lines.push(Line::from(vec![
                    Span::styled(
                        format!("{:<10}", f.finding.severity.name()),
                        theme.severity(f.finding.severity),
                    ),
                    Span::raw(format!("{word}: {}", clean(&f.finding.summary))),
                ]));
                lines.push(Line::default());
                lines.extend(explanation_lines(&f.finding.explanation, 0, theme.text));
                format!("finding {}", clean(f.finding.kind.name()))
            }
            Entry::Netns(k) => {
                let Some(n) = diff.netns.get(k) else {
                    return Detail::default();
                };
                field_lines(&mut lines, &netns_fields(n));
                format!(
                    "netns {}",
                    n.name
                        .as_deref()
                        .map_or_else(|| n.id.to_string(), |s| clean(s).into_owned())
                )
            }
        };
        Detail { title, lines }
    }

    fn noun(&self) -> &'static str {
        "changes since the baseline"
    }
}
