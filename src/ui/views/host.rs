//! The Host view: one row per network namespace, and a detail of its interfaces and
//! address flags, the sysctls that decide binds, the TcpExt counters (with their rise over
//! the recent refreshes), and the host's privileges, warnings and scan.

use super::cells::count_style;
use super::data::ContainerEntry;
use super::lines::labelled;
use super::{Ctx, Detail, LIST_MAX, RowKey, View};
use crate::model::{AddrFlag, Netns, NetnsKind, Sysctls, TcpExtCounters};
use crate::output::containers;
use crate::text::{clean, count};
use crate::ui::theme::Theme;
use crate::ui::widgets::table::{Column, Row, SortKey, Source};
use ratatui::text::{Line, Span};

pub const ORDER: usize = 0;
pub const KIND: usize = 1;
pub const CONTAINERS: usize = 2;
pub const ID: usize = 3;
pub const PROCS: usize = 4;
pub const SOCKETS: usize = 5;
pub const IFACES: usize = 6;
pub const ADDRS: usize = 7;
pub const FLAGGED: usize = 8;
pub const OVERFLOWS: usize = 9;
pub const DROPS: usize = 10;
pub const NOTE: usize = 11;

#[rustfmt::skip]
const COLUMNS: [Column; 12] = [
    Column::new("NETNS",     8, 28, 0),
    Column::new("KIND",      6,  9, 1),
    Column::new("CONTAINERS", 10, 18, 1),
    Column::new("ID",       10, 10, 4).right(),
    Column::new("PROCS",     5,  5, 2).right(),
    Column::new("SOCKS",     5,  5, 0).right(),
    Column::new("IFACES",    6,  6, 3).right(),
    Column::new("ADDRS",     5,  5, 3).right(),
    Column::new("FLAGGED",   7,  7, 1).right(),
    Column::new("OVERFLOWS", 9,  9, 2).right(),
    Column::new("DROPS",     5,  6, 2).right(),
    Column::new("NOTE",     10, 30, 5).grow(),
];

/// A snapshot without containers: the CONTAINERS column hidden.
const PLAIN: [Column; 12] = {
    let mut c = COLUMNS;
    c[CONTAINERS] = c[CONTAINERS].hidden();
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

pub struct NetnsRow<'a> {
    n: &'a Netns,
    cx: Ctx<'a>,
}

impl Source for Table<'_> {
    type Row<'r>
        = NetnsRow<'r>
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
        self.cx.snap.netns.len()
    }

    fn row(&self, i: usize) -> Option<NetnsRow<'_>> {
        Some(NetnsRow {
            n: self.cx.snap.netns.get(i)?,
            cx: self.cx,
        })
    }
}

pub fn kind_name(k: NetnsKind) -> &'static str {
    match k {
        NetnsKind::Host => "host",
        NetnsKind::Named => "named",
        NetnsKind::Container => "container",
        NetnsKind::Unit => "unit",
        NetnsKind::Mount => "mount",
        NetnsKind::Process => "process",
        NetnsKind::Other => "other",
    }
}

/// Flags that make an address hard or impossible to bind (DAD not done or failed).
fn flag_is_bad(f: AddrFlag) -> bool {
    matches!(
        f,
        AddrFlag::Tentative | AddrFlag::Dadfailed | AddrFlag::Optimistic | AddrFlag::Deprecated
    )
}

impl NetnsRow<'_> {
    fn sockets(&self) -> usize {
        self.cx
            .data
            .ns_sockets
            .get(&self.n.id)
            .copied()
            .unwrap_or(0)
    }

    fn addrs(&self) -> usize {
        self.n.interfaces.iter().map(|i| i.addresses.len()).sum()
    }

    fn flagged(&self) -> usize {
        self.n
            .interfaces
            .iter()
            .flat_map(|i| &i.addresses)
            .filter(|a| a.flags.iter().any(|&f| flag_is_bad(f)))
            .count()
    }

    fn note(&self) -> String {
        if let Some(e) = &self.n.error {
            return format!("not entered: {}", clean(e));
        }
        if self.n.current {
            return "bindscope runs here".into();
        }
        String::new()
    }
}

fn opt_count(v: Option<u64>, theme: &Theme) -> Line<'static> {
    match v {
        Some(n) => Line::styled(
            n.to_string(),
            if n == 0 { theme.muted } else { theme.warning },
        ),
        None => Line::styled("?", theme.badge_unknown),
    }
}

impl Row for NetnsRow<'_> {
    fn cell(&self, col: usize, _width: u16, theme: &Theme) -> Line<'_> {
        let n = self.n;
        match col {
            ORDER => Line::raw(self.cx.data.ns_name(n.id)),
            KIND => Line::raw(kind_name(n.kind)),
            CONTAINERS => Line::raw(containers::netns_cell(n.container.as_ref(), &n.containers)),
            ID => Line::styled(n.id.to_string(), theme.muted),
            PROCS => Line::raw(n.processes.to_string()),
            SOCKETS => {
                let c = self.sockets();
                Line::styled(c.to_string(), count_style(c, theme))
            }
            IFACES => Line::raw(n.interfaces.len().to_string()),
            ADDRS => Line::raw(self.addrs().to_string()),
            FLAGGED => {
                let c = self.flagged();
                let style = if c > 0 { theme.warning } else { theme.muted };
                Line::styled(c.to_string(), style)
            }
            OVERFLOWS => opt_count(n.counters.listen_overflows, theme),
            DROPS => opt_count(n.counters.listen_drops, theme),
            NOTE => {
                let style = if n.error.is_some() {
                    theme.warning
                } else {
                    theme.muted
                };
                Line::styled(self.note(), style)
            }
            _ => Line::default(),
        }
    }

    fn sort_key(&self, col: usize) -> SortKey {
        let n = self.n;
        let num = |v: usize| SortKey::num(u32::try_from(v).unwrap_or(u32::MAX));
        let opt = |v: Option<u64>| {
            v.map_or(SortKey::Missing, |v| {
                SortKey::Num(i64::try_from(v).unwrap_or(i64::MAX))
            })
        };
        match col {
            // The host's namespace first, then by name.
            ORDER => SortKey::Tuple(vec![
                i64::from(n.kind != NetnsKind::Host),
                i64::from(n.name.is_none()),
            ]),
            KIND => SortKey::text(kind_name(n.kind)),
            CONTAINERS => {
                let cell = containers::netns_cell(n.container.as_ref(), &n.containers);
                if cell.is_empty() {
                    SortKey::Missing
                } else {
                    SortKey::Text(cell.to_lowercase())
                }
            }
            ID => SortKey::Num(i64::try_from(n.id.0).unwrap_or(i64::MAX)),
            PROCS => SortKey::num(n.processes),
            SOCKETS => num(self.sockets()),
            IFACES => num(n.interfaces.len()),
            ADDRS => num(self.addrs()),
            FLAGGED => num(self.flagged()),
            OVERFLOWS => opt(n.counters.listen_overflows),
            DROPS => opt(n.counters.listen_drops),
            NOTE => SortKey::Text(self.note().to_lowercase()),
            _ => SortKey::Missing,
        }
    }
}

impl View for Table<'_> {
    /// Namespaces are context, not matches: the filter leaves them all.
    fn keep(&self, _i: usize, _mask: &[bool]) -> bool {
        true
    }

    fn key(&self, i: usize) -> Option<RowKey> {
        self.cx.snap.netns.get(i).map(|n| RowKey::Netns(n.id))
    }

    fn detail(&self, i: usize) -> Detail {
        let Some(n) = self.cx.snap.netns.get(i) else {
            return Detail::default();
        };
        detail(self.cx, n)
    }

    fn noun(&self) -> &'static str {
        "namespaces"
    }
}

fn sysctl_rows(s: &Sysctls) -> Vec<(&'static str, String)> {
    let v = |x: Option<i64>| x.map_or("?".to_string(), |x| x.to_string());
    vec![
        (
            "net.ipv4.ip_unprivileged_port_start",
            v(s.ip_unprivileged_port_start),
        ),
        ("net.ipv4.ip_nonlocal_bind", v(s.ipv4_ip_nonlocal_bind)),
        ("net.ipv6.ip_nonlocal_bind", v(s.ipv6_ip_nonlocal_bind)),
        ("net.ipv6.bindv6only", v(s.bindv6only)),
        (
            "net.ipv4.ip_local_port_range",
            s.ip_local_port_range
                .map_or("?".to_string(), |[a, b]| format!("{a} {b}")),
        ),
        ("net.core.somaxconn", v(s.somaxconn)),
        ("net.ipv4.tcp_syncookies", v(s.tcp_syncookies)),
        ("net.ipv4.tcp_max_syn_backlog", v(s.tcp_max_syn_backlog)),
        ("net.ipv4.tcp_l3mdev_accept", v(s.tcp_l3mdev_accept)),
        ("net.ipv4.udp_l3mdev_accept", v(s.udp_l3mdev_accept)),
        ("net.ipv4.ip_autobind_reuse", v(s.ip_autobind_reuse)),
    ]
}

type CounterField = fn(&TcpExtCounters) -> Option<u64>;

const COUNTERS: [(&str, CounterField); 5] = [
    ("ListenOverflows", |c| c.listen_overflows),
    ("ListenDrops", |c| c.listen_drops),
    ("TCPReqQFullDrop", |c| c.req_q_full_drop),
    ("TCPReqQFullDoCookies", |c| c.req_q_full_do_cookies),
    ("TCPDeferAcceptDrop", |c| c.defer_accept_drop),
];

fn detail(cx: Ctx<'_>, n: &Netns) -> Detail {
    let theme = cx.theme;
    let mut head = format!(
        "{} · {} · net:[{}] · {} process{}",
        cx.data.ns_name(n.id),
        kind_name(n.kind),
        n.id,
        n.processes,
        if n.processes == 1 { "" } else { "es" }
    );
    if !n.pids.is_empty() {
        let pids: Vec<String> = n.pids.iter().map(u32::to_string).collect();
        head.push_str(&format!(" (pids {})", pids.join(", ")));
    }
    let mut lines = vec![labelled("netns", vec![Span::raw(head)], theme)];
    for p in &n.paths {
        lines.push(labelled("", vec![Span::raw(clean(p).into_owned())], theme));
    }
    // Its containers: the owner first, then those that joined it, with their sockets.
    let members = cx
        .data
        .containers
        .iter()
        .filter(|e| e.netns == Some(n.id))
        .filter(|e| {
            n.container
                .iter()
                .chain(&n.containers)
                .any(|c| containers::same(c, &e.container))
        });
    let mut members: Vec<_> = members.collect();
    members.sort_by_key(|e| !e.owner);
    for (k, e) in members.into_iter().enumerate() {
        lines.push(labelled(
            if k == 0 { "members" } else { "" },
            container_spans(e, None, theme),
            theme,
        ));
    }
    if let Some(u) = &n.unit {
        lines.push(labelled(
            "unit",
            vec![Span::raw(clean(u).into_owned())],
            theme,
        ));
    }
    if let Some(e) = &n.error {
        lines.push(labelled(
            "not seen",
            vec![Span::styled(clean(e).into_owned(), theme.warning)],
            theme,
        ));
    }
    for (k, i) in n.interfaces.iter().enumerate() {
        let mut state = vec![if i.up { "up" } else { "DOWN" }];
        if i.loopback {
            state.push("loopback");
        }
        state.push(if i.carrier { "carrier" } else { "NO CARRIER" });
        let style = if i.up && (i.carrier || i.loopback) {
            theme.text
        } else {
            theme.warning
        };
        lines.push(labelled(
            if k == 0 { "ifaces" } else { "" },
            vec![Span::styled(
                format!("{} (#{}) {}", clean(&i.name), i.index, state.join(" · ")),
                style,
            )],
            theme,
        ));
        for a in &i.addresses {
            let mut spans = vec![Span::raw(format!(
                "    {}/{} scope {}",
                a.addr,
                a.prefix_len,
                clean(&a.scope.name())
            ))];
            for &f in &a.flags {
                let st = if f == AddrFlag::Dadfailed {
                    theme.critical
                } else if flag_is_bad(f) {
                    theme.warning
                } else {
                    theme.muted
                };
                spans.push(Span::raw(" "));
                spans.push(Span::styled(f.name(), st));
            }
            lines.push(labelled("", spans, theme));
        }
    }
    for (k, (name, value)) in sysctl_rows(&n.sysctls).into_iter().enumerate() {
        lines.push(labelled(
            if k == 0 { "sysctls" } else { "" },
            vec![Span::raw(format!("{name:<38} {value}"))],
            theme,
        ));
    }
    for (k, (name, field)) in COUNTERS.iter().enumerate() {
        let value = field(&n.counters);
        let rise = cx.history.counter_rise(n.id, field);
        let mut spans = vec![Span::raw(format!(
            "{name:<38} {}",
            value.map_or("?".to_string(), |v| v.to_string())
        ))];
        if let Some(r) = rise.filter(|&r| r > 0) {
            spans.push(Span::styled(
                format!(" (+{r} over the recent refreshes)"),
                theme.warning,
            ));
        }
        lines.push(labelled(if k == 0 { "counters" } else { "" }, spans, theme));
    }
    lines.push(Line::default());
    host_lines(cx, &mut lines);
    container_group(cx, &mut lines);
    Detail {
        title: format!("netns {}", cx.data.ns_name(n.id)),
        lines,
    }
}

/// `web · docker 02175b2a1941 · image nginx:1.25 · owner · 2 listening of 3 sockets`,
/// with `in NETNS` when `netns_name` is given (the host-wide list).
fn container_spans(
    e: &ContainerEntry,
    netns_name: Option<String>,
    theme: &Theme,
) -> Vec<Span<'static>> {
    let mut spans = vec![Span::raw(containers::describe(&e.container))];
    if let Some(ns) = netns_name {
        spans.push(Span::raw(format!(" · in {ns}")));
    }
    if e.owner {
        spans.push(Span::styled(" · owns the namespace", theme.muted));
    }
    spans.push(Span::styled(
        format!(
            " · {} listening of {}",
            e.listening,
            count(e.sockets as usize, "socket", "sockets")
        ),
        if e.listening > 0 {
            theme.text
        } else {
            theme.muted
        },
    ));
    spans
}

/// Every container of the snapshot, whatever namespace is selected: the Host view's
/// Containers grouping (host-network ones too, which own no namespace).
fn container_group(cx: Ctx<'_>, lines: &mut Vec<Line<'static>>) {
    let theme = cx.theme;
    let all = &cx.data.containers;
    if all.is_empty() {
        return;
    }
    lines.push(Line::default());
    lines.push(Line::styled(
        format!("Containers ({})", all.len()),
        theme.header,
    ));
    for e in all.iter().take(LIST_MAX) {
        let ns = e.netns.map(|id| cx.data.ns_name(id));
        lines.push(labelled("", container_spans(e, ns, theme), theme));
    }
    if all.len() > LIST_MAX {
        lines.push(labelled(
            "",
            vec![Span::styled(
                format!("and {} more", all.len() - LIST_MAX),
                theme.muted,
            )],
            theme,
        ));
    }
}

/// The host as a whole: what this run could see and how the scan went.
fn host_lines(cx: Ctx<'_>, lines: &mut Vec<Line<'static>>) {
    let theme = cx.theme;
    let snap = cx.snap;
    let p = &snap.privileges;
    lines.push(labelled(
        "host",
        vec![Span::raw(format!(
            "{} · kernel {} · taken {} · euid {}",
            clean(&snap.host.hostname),
            clean(&snap.host.kernel),
            clean(&snap.taken_at.to_string()),
            p.euid
        ))],
        theme,
    ));
    lines.push(labelled(
        "sees",
        vec![
            Span::styled(
                if p.options_readable {
                    "every option readable"
                } else {
                    "some options unreadable (shown as ?)"
                },
                if p.options_readable {
                    theme.ok
                } else {
                    theme.warning
                },
            ),
            Span::raw(" · "),
            Span::styled(
                if p.all_holders_visible {
                    "every holder visible"
                } else {
                    "holder lists may be incomplete"
                },
                if p.all_holders_visible {
                    theme.ok
                } else {
                    theme.warning
                },
            ),
        ],
        theme,
    ));
    for m in &p.missing {
        lines.push(labelled(
            "",
            vec![Span::styled(clean(m).into_owned(), theme.warning)],
            theme,
        ));
    }
    for (k, w) in snap.warnings.iter().enumerate() {
        lines.push(labelled(
            if k == 0 { "warnings" } else { "" },
            vec![Span::styled(clean(w).into_owned(), theme.warning)],
            theme,
        ));
    }
    let s = &snap.scan;
    lines.push(labelled(
        "scan",
        vec![Span::raw(format!(
            "{} ms · {} scanned, {} vanished, {} unreadable · {} vanished · options probed {}, failed {}",
            s.duration_ms,
            count(s.processes_scanned as usize, "process", "processes"),
            s.processes_vanished,
            s.processes_unreadable,
            count(s.fds_vanished as usize, "fd", "fds"),
            s.options_probed,
            s.options_failed
        ))],
        theme,
    ));
}
