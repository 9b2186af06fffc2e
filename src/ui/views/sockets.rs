//! The Sockets view: one row per socket, with its highlights (overlap marker, worst
//! finding, cross-user, queue), and a detail that explains its findings and says
//! everything known about the socket, its holders and its port.

use super::cells::{
    address_badge, badge_spans, holders_cell, option_badges, scope_badge, severity_rank,
    severity_span, user_long, user_short,
};
use super::data::{QueueMark, SockInfo};
use super::lines::{finding_lines, labelled, local_text};
use super::{Ctx, Detail, RowKey, View};
use crate::model::addr::endpoint;
use crate::model::{Family, Missing, Socket};
use crate::output::containers;
use crate::text::clean;
use crate::ui::theme::Theme;
use crate::ui::widgets::bar;
use crate::ui::widgets::table::{Column, Row, SortKey, Source};
use ratatui::text::{Line, Span};
use std::net::IpAddr;

pub const MARK: usize = 0;
pub const PROTO: usize = 1;
pub const LOCAL: usize = 2;
pub const STATE: usize = 3;
pub const USER: usize = 4;
pub const HOLDERS: usize = 5;
pub const CONTAINER: usize = 6;
pub const OPTIONS: usize = 7;
pub const QUEUE: usize = 8;
pub const SYN: usize = 9;
pub const NETNS: usize = 10;
pub const REMOTE: usize = 11;

#[rustfmt::skip] // a table: one column per line
const COLUMNS: [Column; 11] = [
    Column::new("!",        3,  3, 0),
    Column::new("PROTO",    5,  5, 0),
    Column::new("LOCAL",   17, 28, 0).grow(),
    Column::new("STATE",    6,  6, 1),
    Column::new("USER",     6, 10, 2),
    Column::new("HOLDERS", 12, 24, 1).grow(),
    Column::new("CONTAINER", 9, 20, 2),
    Column::new("OPTIONS",  8, 24, 3),
    Column::new("QUEUE",    5, 22, 2),
    Column::new("SYNQ",     4,  4, 5).right(),
    Column::new("NETNS",   10, 12, 4),
];

/// With connections in the snapshot: a REMOTE column too.
#[rustfmt::skip]
const COLUMNS_REMOTE: [Column; 12] = [
    Column::new("!",        3,  3, 0),
    Column::new("PROTO",    5,  5, 0),
    Column::new("LOCAL",   17, 28, 0).grow(),
    Column::new("STATE",    6, 11, 1),
    Column::new("USER",     6, 10, 2),
    Column::new("HOLDERS", 12, 24, 1).grow(),
    Column::new("CONTAINER", 9, 20, 2),
    Column::new("OPTIONS",  8, 24, 3),
    Column::new("QUEUE",    5, 22, 2),
    Column::new("SYNQ",     4,  4, 6).right(),
    Column::new("NETNS",   10, 12, 5),
    Column::new("REMOTE",  16, 24, 4),
];

/// Files of several hosts (`bindscope open`): the NETNS column says the host first
/// (`web1:host`), and is kept on narrow screens.
const fn with_host<const N: usize>(cols: [Column; N]) -> [Column; N] {
    let mut c = cols;
    c[NETNS] = Column::new("HOST:NETNS", 12, 22, 1);
    c
}
const COLUMNS_HOSTS: [Column; 11] = with_host(COLUMNS);
const COLUMNS_REMOTE_HOSTS: [Column; 12] = with_host(COLUMNS_REMOTE);

/// A snapshot without containers: the CONTAINER column hidden (it would be empty).
const fn no_container<const N: usize>(cols: [Column; N]) -> [Column; N] {
    let mut c = cols;
    c[CONTAINER] = c[CONTAINER].hidden();
    c
}
const PLAIN: [Column; 11] = no_container(COLUMNS);
const PLAIN_REMOTE: [Column; 12] = no_container(COLUMNS_REMOTE);
const PLAIN_HOSTS: [Column; 11] = no_container(COLUMNS_HOSTS);
const PLAIN_REMOTE_HOSTS: [Column; 12] = no_container(COLUMNS_REMOTE_HOSTS);

pub struct Table<'a> {
    cx: Ctx<'a>,
    remote: bool,
    hosts: bool,
    containers: bool,
}

impl<'a> Table<'a> {
    pub fn new(cx: Ctx<'a>) -> Table<'a> {
        // Decided per snapshot by what it holds.
        let remote = cx.data.has_remote;
        let hosts = cx.data.multi_host;
        let containers = !cx.data.containers.is_empty();
        Table {
            cx,
            remote,
            hosts,
            containers,
        }
    }
}

pub struct SocketRow<'a> {
    s: &'a Socket,
    info: &'a SockInfo,
    cx: Ctx<'a>,
}

impl Source for Table<'_> {
    type Row<'r>
        = SocketRow<'r>
    where
        Self: 'r;

    fn columns(&self) -> &'static [Column] {
        match (self.remote, self.hosts, self.containers) {
            (true, false, true) => &COLUMNS_REMOTE,
            (false, false, true) => &COLUMNS,
            (true, true, true) => &COLUMNS_REMOTE_HOSTS,
            (false, true, true) => &COLUMNS_HOSTS,
            (true, false, false) => &PLAIN_REMOTE,
            (false, false, false) => &PLAIN,
            (true, true, false) => &PLAIN_REMOTE_HOSTS,
            (false, true, false) => &PLAIN_HOSTS,
        }
    }

    fn len(&self) -> usize {
        self.cx.snap.sockets.len()
    }

    fn row(&self, i: usize) -> Option<SocketRow<'_>> {
        Some(SocketRow {
            s: self.cx.snap.sockets.get(i)?,
            info: self.cx.data.sockets.get(i)?,
            cx: self.cx,
        })
    }
}

/// The queue cell: a bar of the accept queue against its backlog, the numbers, and a
/// sparkline of the queue length over the recent refreshes, as the width allows.
fn queue_cell<'a>(row: &SocketRow<'a>, width: u16, theme: &Theme) -> Line<'a> {
    let s = row.s;
    let Some(q) = s.accept_queue else {
        let text = match (s.recv_q, s.send_q) {
            (Some(r), Some(w)) if r > 0 || w > 0 => format!("r{r} w{w}"),
            _ => "-".to_string(),
        };
        return Line::styled(text, theme.muted);
    };
    let style = match row.info.queue {
        QueueMark::Full => theme.critical,
        QueueMark::Growing => theme.warning,
        QueueMark::Normal => theme.text,
    };
    let nums = format!("{}/{}", q.len, q.backlog);
    let w = usize::from(width);
    let n = nums.chars().count();
    // What fits, in order of importance: the numbers, the bar before them, the sparkline
    // after them (numbers padded so the sparklines line up).
    if w < n + 5 {
        return Line::styled(nums, style);
    }
    let mut spans = vec![
        Span::styled(bar::bar(q.len, q.backlog, 4), style),
        Span::raw(" "),
    ];
    let pad = n.max(7);
    if w >= 5 + pad + 1 + 3 {
        let lens: Vec<u32> = row.cx.history.queue(&s.id).iter().map(|q| q.len).collect();
        let cells = (w - 5 - pad - 1).min(8);
        spans.push(Span::styled(format!("{nums:<pad$} "), style));
        spans.push(Span::styled(bar::sparkline(&lens, 0, cells), style));
    } else {
        spans.push(Span::styled(nums, style));
    }
    Line::from(spans)
}

impl Row for SocketRow<'_> {
    fn cell(&self, col: usize, width: u16, theme: &Theme) -> Line<'_> {
        let s = self.s;
        match col {
            MARK => {
                let marker = match self.info.marker {
                    Some(m) => Span::styled(m.to_string(), theme.overlap_marker),
                    None => Span::raw(" "),
                };
                let marked = if self.cx.snap.marks.iter().any(|m| m.socket == s.id) {
                    Span::styled("*", theme.mark)
                } else {
                    Span::raw(" ")
                };
                Line::from(vec![marker, severity_span(self.info.worst, theme), marked])
            }
            PROTO => Line::raw(s.proto.name()),
            LOCAL => {
                // The address always; its badges only when they fit whole.
                let text = local_text(s);
                let mut room = usize::from(width).saturating_sub(text.chars().count());
                let mut spans = vec![Span::raw(text)];
                if let Some(b) = address_badge(s.address_state)
                    && b.len() < room
                {
                    spans.push(Span::raw(" "));
                    spans.push(Span::styled(b, theme.warning));
                    room -= b.len() + 1;
                }
                let scope = scope_badge(s.scope);
                if !scope.is_empty() && scope.len() < room {
                    spans.push(Span::raw(" "));
                    spans.push(Span::styled(scope, theme.muted));
                }
                Line::from(spans)
            }
            STATE => Line::raw(s.state_label()),
            USER => {
                let style = if self.info.cross_user {
                    theme.cross_user
                } else {
                    theme.text
                };
                Line::styled(user_short(s.user.as_deref(), s.uid), style)
            }
            HOLDERS => {
                let (text, none) = holders_cell(s, usize::from(width));
                let style = if none {
                    theme.badge_unknown
                } else if s.holders.iter().any(|h| h.uid != s.uid) {
                    theme.cross_user
                } else {
                    theme.text
                };
                Line::styled(text, style)
            }
            CONTAINER => {
                let list = self.cx.data.socket_containers(s);
                if list.is_empty() {
                    Line::default()
                } else {
                    Line::raw(containers::cell(&list))
                }
            }
            OPTIONS => Line::from(badge_spans(&option_badges(s), width, theme)),
            QUEUE => queue_cell(self, width, theme),
            SYN => match s.syn_recv {
                Some(n) => {
                    let text = if s.syn_recv_shared {
                        format!("{n}*")
                    } else {
                        n.to_string()
                    };
                    let style = if n == 0 { theme.muted } else { theme.text };
                    Line::styled(text, style)
                }
                None => Line::styled("-", theme.muted),
            },
            NETNS => Line::raw(self.cx.data.ns_name(s.netns)),
            REMOTE => match (s.remote_addr, s.remote_port) {
                (Some(a), Some(p)) => Line::raw(endpoint(a, p, None)),
                _ => Line::styled("-", theme.muted),
            },
            _ => Line::default(),
        }
    }

    fn sort_key(&self, col: usize) -> SortKey {
        let s = self.s;
        match col {
            MARK => match severity_rank(self.info.worst) {
                Some(r) => SortKey::Tuple(vec![
                    r,
                    self.info.marker.map_or(0, |m| i64::from(u32::from(m))),
                ]),
                None => SortKey::Missing,
            },
            PROTO => SortKey::text(s.proto.name()),
            LOCAL => {
                let mut key = vec![i64::from(s.local_port), i64::from(s.family == Family::Ipv6)];
                key.extend(addr_bytes(s.local_addr));
                key.push(i64::from(s.proto == crate::model::Proto::Udp));
                SortKey::Tuple(key)
            }
            STATE => SortKey::text(s.state_label()),
            USER => SortKey::text(&user_short(s.user.as_deref(), s.uid)),
            HOLDERS => match s.holders.first() {
                Some(h) => SortKey::text(&h.name),
                None => SortKey::Missing,
            },
            CONTAINER => {
                let list = self.cx.data.socket_containers(s);
                if list.is_empty() {
                    SortKey::Missing
                } else {
                    SortKey::text(&containers::cell(&list))
                }
            }
            OPTIONS => {
                let b: Vec<String> = option_badges(s).into_iter().map(|b| b.long).collect();
                SortKey::Text(b.join(" "))
            }
            QUEUE => match s.accept_queue {
                // Fullest first when reversed: the fill ratio, then the length.
                Some(q) => SortKey::Tuple(vec![
                    i64::from(q.len) * 10_000 / i64::from(q.backlog.max(1)),
                    i64::from(q.len),
                ]),
                None => SortKey::Missing,
            },
            SYN => s.syn_recv.map_or(SortKey::Missing, SortKey::num),
            NETNS => SortKey::text(&self.cx.data.ns_name(s.netns)),
            REMOTE => match (s.remote_addr, s.remote_port) {
                (Some(a), Some(p)) => {
                    let mut key = addr_bytes(a);
                    key.push(i64::from(p));
                    SortKey::Tuple(key)
                }
                _ => SortKey::Missing,
            },
            _ => SortKey::Missing,
        }
    }
}

fn addr_bytes(a: IpAddr) -> Vec<i64> {
    match a {
        IpAddr::V4(v4) => v4.octets().iter().map(|&b| i64::from(b)).collect(),
        IpAddr::V6(v6) => v6.octets().iter().map(|&b| i64::from(b)).collect(),
    }
}

impl View for Table<'_> {
    fn keep(&self, i: usize, mask: &[bool]) -> bool {
        mask.get(i).copied().unwrap_or(false)
    }

    fn key(&self, i: usize) -> Option<RowKey> {
        self.cx
            .snap
            .sockets
            .get(i)
            .map(|s| RowKey::Socket(s.id.clone()))
    }

    fn find(&self, key: &RowKey) -> Option<usize> {
        match key {
            RowKey::Socket(id) => self.cx.data.by_id.get(id).map(|&i| i as usize),
            _ => None,
        }
    }

    fn detail(&self, i: usize) -> Detail {
        match (self.cx.snap.sockets.get(i), self.cx.data.sockets.get(i)) {
            (Some(s), Some(info)) => detail(self.cx, s, info),
            _ => Detail::default(),
        }
    }

    fn noun(&self) -> &'static str {
        "sockets"
    }
}

fn on_off(v: Option<bool>) -> &'static str {
    match v {
        Some(true) => "on",
        Some(false) => "off",
        None => "?",
    }
}

fn detail(cx: Ctx<'_>, s: &Socket, info: &SockInfo) -> Detail {
    let theme = cx.theme;
    let mut lines = finding_lines(cx, &info.findings);
    if !lines.is_empty() {
        lines.push(Line::default());
    }
    let ns = cx.data.ns_name(s.netns);
    let family = s.family.name();
    lines.push(labelled(
        "socket",
        vec![Span::raw(format!(
            "{} {} · {} · {family} · netns {ns} (net:[{}])",
            s.proto.name(),
            local_text(s),
            s.state_label(),
            s.netns
        ))],
        theme,
    ));
    if let (Some(a), Some(p)) = (s.remote_addr, s.remote_port) {
        lines.push(labelled(
            "remote",
            vec![Span::raw(endpoint(a, p, None))],
            theme,
        ));
    }
    lines.push(labelled(
        "id",
        vec![Span::raw(format!(
            "{} · inode {} · cookie {:#x}{}",
            clean(&s.id.0),
            s.inode,
            s.cookie,
            s.cgroup_id
                .map(|c| format!(" · cgroup {c}"))
                .unwrap_or_default()
        ))],
        theme,
    ));
    let mut scope = vec![Span::raw(format!(
        "{} · address {}",
        s.scope.name(),
        s.address_state.name()
    ))];
    if let Some(d) = &s.device {
        scope.push(Span::raw(format!(" · device {}", clean(d))));
    }
    lines.push(labelled("scope", scope, theme));
    let user_style = if info.cross_user {
        theme.cross_user
    } else {
        theme.text
    };
    lines.push(labelled(
        "user",
        vec![
            Span::styled(user_long(s.user.as_deref(), s.uid), user_style),
            Span::styled(
                " (socket uid: its creator; what SO_REUSEPORT compares)",
                theme.muted,
            ),
        ],
        theme,
    ));
    holder_lines(cx, s, &mut lines);
    container_lines(cx, s, &mut lines);
    option_lines(s, theme, &mut lines);
    queue_lines(cx, s, info, &mut lines);
    port_lines(cx, s, info, &mut lines);
    for m in cx.snap.marks.iter().filter(|m| m.socket == s.id) {
        lines.push(labelled(
            "mark",
            vec![Span::styled(
                if m.note.is_empty() {
                    "marked (no note)".to_string()
                } else {
                    clean(&m.note).into_owned()
                },
                theme.mark,
            )],
            theme,
        ));
    }
    Detail {
        title: format!("{} {}", s.proto.name(), local_text(s)),
        lines,
    }
}

fn holder_lines(cx: Ctx<'_>, s: &Socket, lines: &mut Vec<Line<'static>>) {
    let theme = cx.theme;
    if s.holders.is_empty() {
        let why = match (&s.holders_unknown, s.inode) {
            (_, 0) => "no process: the kernel holds it (TIME_WAIT, a request, or a child not yet accepted)".to_string(),
            (Some(r), _) => format!("none visible: {}", clean(r)),
            (None, _) => "none found".to_string(),
        };
        lines.push(labelled(
            "holders",
            vec![Span::styled(why, theme.badge_unknown)],
            theme,
        ));
        return;
    }
    for (k, h) in s.holders.iter().enumerate() {
        let style = if h.uid != s.uid {
            theme.cross_user
        } else {
            theme.text
        };
        let mut text = format!(
            "{}[{}] fd {} · {}",
            clean(&h.name),
            h.pid,
            h.fd,
            user_long(h.user.as_deref(), h.uid)
        );
        if h.ruid != h.uid {
            text.push_str(&format!(" (real uid {})", h.ruid));
        }
        if let Some(c) = &h.container {
            text.push_str(&format!(" · container {}", clean(&c.label())));
        }
        if let Some(u) = &h.unit {
            text.push_str(&format!(" · {}", clean(u)));
        }
        if let Some(n) = h.netns
            && n != s.netns
        {
            text.push_str(&format!(" · lives in netns {}", cx.data.ns_name(n)));
        }
        let name = if k == 0 { "holders" } else { "" };
        lines.push(labelled(name, vec![Span::styled(text, style)], theme));
        if !h.cmdline.is_empty() {
            let cmd: Vec<String> = h.cmdline.iter().map(|a| clean(a).into_owned()).collect();
            lines.push(labelled(
                "",
                vec![Span::styled(format!("  {}", cmd.join(" ")), theme.muted)],
                theme,
            ));
        }
    }
    if let Some(r) = &s.holders_unknown {
        lines.push(labelled(
            "",
            vec![Span::styled(
                format!("more may exist: {}", clean(r)),
                theme.badge_unknown,
            )],
            theme,
        ));
    }
}

/// The socket's containers in full (name, runtime, short id, image, pod), and who owns its
/// namespace and who else lives there: what an admin asks first on a container host.
fn container_lines(cx: Ctx<'_>, s: &Socket, lines: &mut Vec<Line<'static>>) {
    let theme = cx.theme;
    let list = cx.data.socket_containers(s);
    let held = s.holders.iter().any(|h| h.container.is_some());
    for (k, c) in list.iter().enumerate() {
        let mut spans = vec![Span::raw(containers::describe(c))];
        if !held {
            spans.push(Span::styled(
                " (owns the namespace; no holder seen in a container)",
                theme.muted,
            ));
        }
        lines.push(labelled(
            // Not "container": a 9-letter label leaves one space, and the wrap's
            // hanging indent needs two to find the label.
            if k == 0 { "runs in" } else { "" },
            spans,
            theme,
        ));
    }
    let Some(n) = cx.snap.netns.iter().find(|n| n.id == s.netns) else {
        return;
    };
    let owner = n.container.as_ref();
    let others: Vec<String> = n
        .containers
        .iter()
        .filter(|m| !owner.is_some_and(|o| containers::same(o, m)))
        .map(|m| clean(&m.label()).into_owned())
        .collect();
    let mut text = match owner {
        Some(o) => format!("owned by {}", clean(&o.label())),
        None if others.is_empty() => return,
        None => "no owner known".to_string(),
    };
    if !others.is_empty() {
        let shown = others.len().min(super::LIST_MAX);
        text.push_str(&format!(
            " · shared with {}",
            others.get(..shown).unwrap_or_default().join(", ")
        ));
        if others.len() > shown {
            text.push_str(&format!(" and {} more", others.len() - shown));
        }
    }
    lines.push(labelled("netns", vec![Span::raw(text)], theme));
}

fn option_lines(s: &Socket, theme: &Theme, lines: &mut Vec<Line<'static>>) {
    let o = &s.options;
    let mut parts = vec![
        format!("reuseaddr {}", on_off(o.reuseaddr)),
        format!("reuseport {}", on_off(o.reuseport)),
    ];
    if s.family == Family::Ipv6 {
        parts.push(format!("v6only {}", on_off(o.v6only)));
    }
    parts.push(format!("freebind {}", on_off(o.freebind)));
    parts.push(format!("transparent {}", on_off(o.transparent)));
    if s.is_listener() {
        parts.push(match o.nonblocking {
            Some(true) => "nonblocking".to_string(),
            Some(false) => "blocking".to_string(),
            None => "nonblocking ?".to_string(),
        });
    }
    if s.proto == crate::model::Proto::Tcp {
        parts.push(match o.defer_accept {
            Some(0) => "defer_accept off".to_string(),
            Some(n) => format!("defer_accept {n}s"),
            None => "defer_accept ?".to_string(),
        });
        parts.push(match o.fastopen {
            Some(0) => "fastopen off".to_string(),
            Some(n) => format!("fastopen {n}"),
            None => "fastopen ?".to_string(),
        });
    }
    parts.push(match &o.bind_device {
        Some(d) => format!("bound to device {}", clean(d)),
        None => "no SO_BINDTODEVICE".to_string(),
    });
    lines.push(labelled(
        "options",
        vec![Span::raw(parts.join(" · "))],
        theme,
    ));
    // Options that do not apply to this socket (v6only on IPv4…) are no news: only the
    // unknown ones get a line, with why.
    for (key, missing) in &o.reasons {
        let Missing::Unknown(reason) = missing else {
            continue;
        };
        lines.push(labelled(
            "",
            vec![Span::styled(
                format!("{} unknown: {}", key.name(), clean(reason)),
                theme.badge_unknown,
            )],
            theme,
        ));
    }
}

fn queue_lines(cx: Ctx<'_>, s: &Socket, info: &SockInfo, lines: &mut Vec<Line<'static>>) {
    let theme = cx.theme;
    if let Some(q) = s.accept_queue {
        let (state, style) = match info.queue {
            QueueMark::Full => (" FULL", theme.critical),
            QueueMark::Growing => (" growing", theme.warning),
            QueueMark::Normal => ("", theme.text),
        };
        let mut spans = vec![Span::styled(
            format!("accept {}/{} (len/backlog){state}", q.len, q.backlog),
            style,
        )];
        if let Some(n) = s.syn_recv {
            spans.push(Span::raw(format!(
                " · SYN_RECV {n}{}",
                if s.syn_recv_shared {
                    " (for the whole SO_REUSEPORT group)"
                } else {
                    ""
                }
            )));
        }
        lines.push(labelled("queue", spans, theme));
        let samples = cx.history.queue(&s.id);
        if !samples.is_empty() {
            let start = samples.len().saturating_sub(12);
            let lens: Vec<String> = samples
                .get(start..)
                .unwrap_or_default()
                .iter()
                .map(|q| q.len.to_string())
                .collect();
            lines.push(labelled(
                "",
                vec![Span::styled(
                    format!(
                        "history (oldest first, last {} refreshes): {}",
                        lens.len(),
                        lens.join(" ")
                    ),
                    theme.muted,
                )],
                theme,
            ));
        }
    } else if let (Some(r), Some(w)) = (s.recv_q, s.send_q) {
        lines.push(labelled(
            "queue",
            vec![Span::raw(format!("{r} bytes received, {w} bytes to send"))],
            theme,
        ));
    }
}

/// Who receives this port's traffic: the routing table of its port group.
fn port_lines(cx: Ctx<'_>, s: &Socket, info: &SockInfo, lines: &mut Vec<Line<'static>>) {
    let theme = cx.theme;
    let Some(g) = info.group.and_then(|g| cx.data.groups.get(g as usize)) else {
        return;
    };
    lines.push(labelled(
        "port",
        vec![Span::raw(format!(
            "{} {} in {}: {} bind{}",
            g.group.proto.name(),
            g.group.port,
            cx.data.ns_name(g.group.netns),
            g.members.len(),
            if g.members.len() == 1 { "" } else { "s" }
        ))],
        theme,
    ));
    lines.extend(super::lines::route_lines(cx, g, Some(&s.id)));
}
