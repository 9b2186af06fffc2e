//! Detail-pane lines that several views show: labels, explanations, the tail of a socket
//! list, a socket's findings, a port's routing table. Views do not import each other; what
//! they share lives here.

use super::cells::{holder_short, user_short};
use super::data::Group;
use super::{Ctx, LIST_MAX};
use crate::analyze::ports::Route;
use crate::model::addr::endpoint;
use crate::model::{Proto, Socket, SocketId};
use crate::text::clean;
use crate::ui::theme::Theme;
use ratatui::style::Style;
use ratatui::text::{Line, Span};

/// The local endpoint text: `0.0.0.0:8080`, `[::1]%lo:53`.
pub fn local_text(s: &Socket) -> String {
    endpoint(s.local_addr, s.local_port, s.device.as_deref())
}

/// `label     ` padded to the detail's label column.
pub fn label(name: &str, theme: &Theme) -> Span<'static> {
    Span::styled(format!("{name:<9} "), theme.header)
}

/// A labelled detail line.
pub fn labelled(name: &str, spans: Vec<Span<'static>>, theme: &Theme) -> Line<'static> {
    let mut all = vec![label(name, theme)];
    all.extend(spans);
    Line::from(all)
}

/// Lines of an explanation (which may hold line breaks), sanitized and indented.
pub fn explanation_lines(text: &str, indent: usize, style: Style) -> Vec<Line<'static>> {
    text.lines()
        .map(|l| Line::styled(format!("{}{}", " ".repeat(indent), clean(l)), style))
        .collect()
}

/// The end of a detail that lists sockets: how many more than [`LIST_MAX`] there are, then
/// the findings those sockets are in (each once).
pub fn list_tail(cx: Ctx<'_>, sockets: &[u32], lines: &mut Vec<Line<'static>>) {
    if sockets.len() > LIST_MAX {
        lines.push(labelled(
            "",
            vec![Span::styled(
                format!("and {} more", sockets.len() - LIST_MAX),
                cx.theme.muted,
            )],
            cx.theme,
        ));
    }
    findings_of(cx, sockets.iter().copied(), lines);
}

/// After a blank line, the findings these sockets are in, each once.
pub fn findings_of(
    cx: Ctx<'_>,
    sockets: impl IntoIterator<Item = u32>,
    lines: &mut Vec<Line<'static>>,
) {
    let mut seen = std::collections::BTreeSet::new();
    let findings: Vec<u32> = sockets
        .into_iter()
        .filter_map(|s| cx.data.sockets.get(s as usize))
        .flat_map(|i| i.findings.iter().copied())
        .filter(|f| seen.insert(*f))
        .collect();
    if !findings.is_empty() {
        lines.push(Line::default());
        lines.extend(finding_lines(cx, &findings));
    }
}

/// The socket with this id in the snapshot on screen.
pub fn socket_by_id<'a>(cx: Ctx<'a>, id: &SocketId) -> Option<&'a Socket> {
    cx.data
        .by_id
        .get(id)
        .and_then(|&i| cx.snap.sockets.get(i as usize))
}

/// The findings of a socket: each with its severity, summary and explanation.
pub fn finding_lines(cx: Ctx<'_>, findings: &[u32]) -> Vec<Line<'static>> {
    let theme = cx.theme;
    let mut out = Vec::new();
    for &fi in findings {
        let Some(f) = cx.data.findings.get(fi as usize) else {
            continue;
        };
        let sev = theme.severity(f.severity);
        out.push(Line::from(vec![
            Span::styled(format!("{:<10}", f.severity.name()), sev),
            Span::styled(format!("{}: ", clean(f.kind.name())), sev),
            Span::raw(clean(&f.summary).into_owned()),
        ]));
        out.extend(explanation_lines(&f.explanation, 10, theme.text));
    }
    out
}

/// A socket of a route in words: `tcp 127.0.0.1:8080 api-server[22268] alice`.
fn route_socket(cx: Ctx<'_>, id: &SocketId) -> String {
    let Some(s) = socket_by_id(cx, id) else {
        return clean(&id.0).into_owned();
    };
    let holders: Vec<String> = s.holders.iter().map(holder_short).collect();
    let mut holders_text = holders.join(",");
    if holders_text.is_empty() {
        holders_text = "no visible holder".into();
    }
    format!(
        "{} {} {}",
        local_text(s),
        holders_text,
        user_short(s.user.as_deref(), s.uid)
    )
}

/// Sockets named per route; a large SO_REUSEPORT group is summed up past these.
const ROUTE_MAX: usize = 12;

/// The routing table of a group: one line per route and the kernel's reason under it;
/// `this` marks the socket the detail is about.
pub fn route_lines(cx: Ctx<'_>, g: &Group, this: Option<&SocketId>) -> Vec<Line<'static>> {
    let theme = cx.theme;
    let mut out = Vec::new();
    for r in &g.group.routes {
        out.push(route_line(cx, g.group.proto, r, this, theme));
        out.push(Line::styled(
            format!("              {}", clean(&r.how)),
            theme.muted,
        ));
    }
    out
}

fn route_line(
    cx: Ctx<'_>,
    proto: Proto,
    r: &Route,
    this: Option<&SocketId>,
    theme: &Theme,
) -> Line<'static> {
    let to = match r.to {
        Some(a) => format!("to {a}"),
        None => "to any other address".to_string(),
    };
    let dev = r
        .device
        .as_deref()
        .map(|d| format!(" on {}", clean(d)))
        .unwrap_or_default();
    let mut spans = vec![Span::styled(
        format!("  {} {to}{dev} → ", r.family.name()),
        theme.text,
    )];
    if r.sockets.is_empty() {
        spans.push(Span::styled(proto.unreceived(), theme.warning));
    }
    // Certain receivers share the traffic (a SO_REUSEPORT group); uncertain ones are
    // candidates, one of which receives it.
    let (first, between) = if r.certain {
        ("", " | ")
    } else {
        ("one of ", " or ")
    };
    if !r.sockets.is_empty() && !first.is_empty() {
        spans.push(Span::styled(first, theme.warning));
    }
    for (k, id) in r.sockets.iter().take(ROUTE_MAX).enumerate() {
        if k > 0 {
            spans.push(Span::raw(between));
        }
        let is_this = this == Some(id);
        let style = if is_this {
            theme.title_focused
        } else {
            theme.text
        };
        spans.push(Span::styled(route_socket(cx, id), style));
        if is_this {
            spans.push(Span::styled(" (this socket)", theme.muted));
        }
    }
    if r.sockets.len() > ROUTE_MAX {
        spans.push(Span::styled(
            format!(" and {} more", r.sockets.len() - ROUTE_MAX),
            theme.muted,
        ));
    }
    Line::from(spans)
}
