//! The Ports view: one row per port group (namespace, protocol, port), and its routing
//! table: which socket receives which traffic, by the kernel's lookup.

use super::cells::{
    holder_short, option_badges, severity_rank, severity_span, user_long, user_short,
};
use super::data::Group;
use super::lines::{labelled, list_tail, local_text, route_lines};
use super::{Ctx, Detail, LIST_MAX, RowKey, View};
use crate::model::Family;
use crate::text::clean;
use crate::ui::theme::Theme;
use crate::ui::widgets::table::{Column, Row, SortKey, Source};
use ratatui::text::{Line, Span};
use std::collections::BTreeSet;

pub const MARK: usize = 0;
pub const PROTO: usize = 1;
pub const PORT: usize = 2;
pub const BINDS: usize = 3;
pub const USERS: usize = 4;
pub const HOLDERS: usize = 5;
pub const ROUTES: usize = 6;
pub const NETNS: usize = 7;

#[rustfmt::skip]
const COLUMNS: [Column; 8] = [
    Column::new("!",        2,  2, 0),
    Column::new("PROTO",    3,  5, 0),
    Column::new("PORT",     5,  6, 0).right(),
    Column::new("BINDS",    5,  5, 1).right(),
    Column::new("USERS",    8, 16, 2),
    Column::new("HOLDERS", 12, 24, 1),
    Column::new("ROUTES",  20, 40, 0).grow(),
    Column::new("NETNS",   10, 12, 3),
];

pub struct Table<'a> {
    cx: Ctx<'a>,
}

impl<'a> Table<'a> {
    pub fn new(cx: Ctx<'a>) -> Table<'a> {
        Table { cx }
    }
}

pub struct PortRow<'a> {
    g: &'a Group,
    cx: Ctx<'a>,
}

impl Source for Table<'_> {
    type Row<'r>
        = PortRow<'r>
    where
        Self: 'r;

    fn columns(&self) -> &'static [Column] {
        &COLUMNS
    }

    fn len(&self) -> usize {
        self.cx.data.groups.len()
    }

    fn row(&self, i: usize) -> Option<PortRow<'_>> {
        Some(PortRow {
            g: self.cx.data.groups.get(i)?,
            cx: self.cx,
        })
    }
}

impl PortRow<'_> {
    fn users(&self) -> String {
        self.g
            .uids
            .iter()
            .map(|&uid| {
                let name = self
                    .g
                    .members
                    .iter()
                    .filter_map(|&m| self.cx.snap.sockets.get(m as usize))
                    .find(|s| s.uid == uid)
                    .and_then(|s| s.user.as_deref());
                user_short(name, uid)
            })
            .collect::<Vec<_>>()
            .join(",")
    }

    fn holders(&self) -> String {
        let names: BTreeSet<String> = self
            .g
            .members
            .iter()
            .filter_map(|&m| self.cx.snap.sockets.get(m as usize))
            .flat_map(|s| s.holders.iter().map(|h| clean(&h.name).into_owned()))
            .collect();
        if names.is_empty() {
            "-".into()
        } else {
            names.into_iter().collect::<Vec<_>>().join(",")
        }
    }
}

/// `v4 127.0.0.1→api-server  v4 *→api-server  v6 *→refused`: the routing table in one line.
fn routes_summary(cx: Ctx<'_>, g: &Group, theme: &Theme) -> Vec<Span<'static>> {
    let mut spans = Vec::new();
    for (k, r) in g.group.routes.iter().enumerate() {
        if k > 0 {
            spans.push(Span::raw("  "));
        }
        let fam = match r.family {
            Family::Ipv4 => "v4",
            Family::Ipv6 => "v6",
        };
        let to = match r.to {
            Some(a) => a.to_string(),
            None => "*".to_string(),
        };
        let dev = r
            .device
            .as_deref()
            .map(|d| format!("%{}", clean(d)))
            .unwrap_or_default();
        spans.push(Span::styled(format!("{fam} {to}{dev}→"), theme.muted));
        if r.sockets.is_empty() {
            spans.push(Span::styled(g.group.proto.unreceived(), theme.warning));
        } else {
            let names: Vec<String> = r
                .sockets
                .iter()
                .filter_map(|id| cx.data.by_id.get(id))
                .filter_map(|&i| cx.snap.sockets.get(i as usize))
                .map(|s| match s.holders.first() {
                    Some(h) => clean(&h.name).into_owned(),
                    None => "?".to_string(),
                })
                .collect();
            let mut uniq = names.clone();
            uniq.dedup();
            let text = if uniq.len() == 1 && names.len() > 1 {
                format!("{}×{}", uniq.join(""), names.len())
            } else {
                names.join("|")
            };
            spans.push(Span::raw(text));
        }
    }
    spans
}

impl Row for PortRow<'_> {
    fn cell(&self, col: usize, _width: u16, theme: &Theme) -> Line<'_> {
        let g = self.g;
        match col {
            MARK => {
                let marker = match g.marker {
                    Some(m) => Span::styled(m.to_string(), theme.overlap_marker),
                    None => Span::raw(" "),
                };
                Line::from(vec![marker, severity_span(g.worst, theme)])
            }
            PROTO => Line::raw(g.group.proto.name()),
            PORT => Line::raw(g.group.port.to_string()),
            BINDS => Line::raw(g.members.len().to_string()),
            USERS => {
                let style = if g.uids.len() > 1 {
                    theme.cross_user
                } else {
                    theme.text
                };
                Line::styled(self.users(), style)
            }
            HOLDERS => Line::raw(self.holders()),
            ROUTES => Line::from(routes_summary(self.cx, g, theme)),
            NETNS => Line::raw(self.cx.data.ns_name(g.group.netns)),
            _ => Line::default(),
        }
    }

    fn sort_key(&self, col: usize) -> SortKey {
        let g = self.g;
        match col {
            MARK => severity_rank(g.worst).map_or(SortKey::Missing, SortKey::Num),
            PROTO => SortKey::text(g.group.proto.name()),
            PORT => SortKey::Tuple(vec![
                i64::from(g.group.port),
                i64::from(g.group.proto == crate::model::Proto::Udp),
            ]),
            BINDS => SortKey::num(u32::try_from(g.members.len()).unwrap_or(u32::MAX)),
            USERS => SortKey::Text(self.users()),
            HOLDERS => SortKey::Text(self.holders().to_lowercase()),
            ROUTES => SortKey::num(u32::try_from(g.group.routes.len()).unwrap_or(u32::MAX)),
            NETNS => SortKey::text(&self.cx.data.ns_name(g.group.netns)),
            _ => SortKey::Missing,
        }
    }
}

impl View for Table<'_> {
    fn keep(&self, i: usize, mask: &[bool]) -> bool {
        self.cx.data.groups.get(i).is_some_and(|g| {
            g.members
                .iter()
                .any(|&m| mask.get(m as usize).copied().unwrap_or(false))
        })
    }

    fn key(&self, i: usize) -> Option<RowKey> {
        let g = &self.cx.data.groups.get(i)?.group;
        Some(RowKey::Group(g.netns, g.proto, g.port))
    }

    fn detail(&self, i: usize) -> Detail {
        let Some(g) = self.cx.data.groups.get(i) else {
            return Detail::default();
        };
        detail(self.cx, g)
    }

    fn noun(&self) -> &'static str {
        "ports"
    }
}

fn detail(cx: Ctx<'_>, g: &Group) -> Detail {
    let theme = cx.theme;
    let mut lines = Vec::new();
    lines.push(labelled(
        "routes",
        vec![Span::styled(
            "who receives which traffic (the kernel's lookup)",
            theme.muted,
        )],
        theme,
    ));
    if g.group.routes.is_empty() {
        lines.push(Line::styled(
            "  nothing receives: no listener or UDP socket on this port",
            theme.muted,
        ));
    }
    lines.extend(route_lines(cx, g, None));
    lines.push(Line::default());
    for (k, &m) in g.members.iter().take(LIST_MAX).enumerate() {
        let Some(s) = cx.snap.sockets.get(m as usize) else {
            continue;
        };
        let marker = cx
            .data
            .sockets
            .get(m as usize)
            .and_then(|i| i.marker)
            .map(|c| format!("{c} "))
            .unwrap_or_default();
        let badges: Vec<String> = option_badges(s).into_iter().map(|b| b.long).collect();
        let holders: Vec<String> = s.holders.iter().map(holder_short).collect();
        lines.push(labelled(
            if k == 0 { "binds" } else { "" },
            vec![
                Span::styled(marker, theme.overlap_marker),
                Span::raw(format!(
                    "{} {} · {} · holders {} · {}",
                    local_text(s),
                    s.state_label(),
                    user_long(s.user.as_deref(), s.uid),
                    if holders.is_empty() {
                        "-".to_string()
                    } else {
                        holders.join(", ")
                    },
                    if badges.is_empty() {
                        "no options".to_string()
                    } else {
                        badges.join(" ")
                    }
                )),
            ],
            theme,
        ));
    }
    list_tail(cx, &g.members, &mut lines);
    Detail {
        title: format!(
            "{} port {} in {}",
            g.group.proto.name(),
            g.group.port,
            cx.data.ns_name(g.group.netns)
        ),
        lines,
    }
}
