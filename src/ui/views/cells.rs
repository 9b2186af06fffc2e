//! Small pieces of text that several views draw: state and scope names, users, holders,
//! option badges, severities and ports. Every untrusted string passes through
//! [`clean`] here or at its call.

use crate::model::{AddressState, Holder, OptionName, Proto, Scope, Severity, Socket, State};
use crate::text::clean;
use crate::ui::theme::Theme;
use ratatui::style::Style;
use ratatui::text::Span;

/// The scope badge after a local address; empty for a specific address (the address says
/// it already).
pub fn scope_badge(s: Scope) -> &'static str {
    match s {
        Scope::Wildcard => "any",
        Scope::DualStackWildcard => "dual",
        Scope::Loopback => "lo",
        Scope::LinkLocal => "link",
        Scope::Specific => "",
    }
}

/// The address state worth a badge: anything but an ordinary local or wildcard address.
pub fn address_badge(a: AddressState) -> Option<&'static str> {
    match a {
        AddressState::Any | AddressState::Local => None,
        AddressState::Nonlocal => Some("nonlocal"),
        AddressState::Tentative => Some("tentative"),
        AddressState::Optimistic => Some("optimistic"),
        AddressState::Dadfailed => Some("dadfailed"),
        AddressState::Deprecated => Some("deprecated"),
    }
}

/// `alice` or the uid when the name is unknown.
pub fn user_short(name: Option<&str>, uid: u32) -> String {
    match name {
        Some(n) => clean(n).into_owned(),
        None => uid.to_string(),
    }
}

/// `alice (1001)` or `uid 1001`.
pub fn user_long(name: Option<&str>, uid: u32) -> String {
    match name {
        Some(n) => format!("{} ({uid})", clean(n)),
        None => format!("uid {uid}"),
    }
}

/// `nginx[812]`.
pub fn holder_short(h: &Holder) -> String {
    format!("{}[{}]", clean(&h.name), h.pid)
}

/// The holders cell for `width` columns: the first holder, `+N` for the other processes
/// and `+?` when more may hide among unreadable processes (left out when narrow: the
/// header and the detail say it).
pub fn holders_cell(s: &Socket, width: usize) -> (String, bool) {
    let Some(first) = s.holders.first() else {
        let text = if s.inode == 0 {
            "(kernel)"
        } else if s.holders_unknown.is_some() {
            "? not visible"
        } else {
            "(none found)"
        };
        return (text.to_string(), true);
    };
    let mut pids: Vec<u32> = s.holders.iter().map(|h| h.pid).collect();
    pids.sort_unstable();
    pids.dedup();
    let more = pids.len().saturating_sub(1);
    let mut text = holder_short(first);
    let narrow = width < 20;
    if more > 0 {
        text.push_str(&format!("{}+{more}", if narrow { "" } else { " " }));
    }
    if s.holders_unknown.is_some() && !narrow {
        text.push_str(" +?");
    }
    (text, false)
}

/// One option badge: its short and long forms, and whether it is a warning sign or an
/// unknown value.
pub struct Badge {
    pub short: String,
    pub long: String,
    pub kind: BadgeKind,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BadgeKind {
    Set,
    Unknown,
    Warn,
}

/// The option badges of a socket: set options by name, unknown ones with `?`, a blocking
/// listener as `blocking`. Connections show only the options that decide bind conflicts,
/// as the snapshot table does.
pub fn option_badges(s: &Socket) -> Vec<Badge> {
    let o = &s.options;
    let mut out = Vec::new();
    let mut flag = |short: &str, long: &str, key: OptionName, v: Option<bool>| match v {
        Some(true) => out.push(Badge {
            short: short.into(),
            long: long.into(),
            kind: BadgeKind::Set,
        }),
        Some(false) => {}
        None if o.not_applicable(key) => {}
        None => out.push(Badge {
            short: format!("{short}?"),
            long: format!("{long}?"),
            kind: BadgeKind::Unknown,
        }),
    };
    flag("ra", "reuseaddr", OptionName::Reuseaddr, o.reuseaddr);
    flag("rp", "reuseport", OptionName::Reuseport, o.reuseport);
    let bound = matches!(s.state, State::Listen | State::Close | State::BoundInactive);
    if !bound {
        return out;
    }
    flag("v6", "v6only", OptionName::V6only, o.v6only);
    flag("fb", "freebind", OptionName::Freebind, o.freebind);
    flag("tp", "transparent", OptionName::Transparent, o.transparent);
    match o.nonblocking {
        Some(false) if s.state == State::Listen => out.push(Badge {
            short: "blk".into(),
            long: "blocking".into(),
            kind: BadgeKind::Warn,
        }),
        None if s.state == State::Listen && !o.not_applicable(OptionName::Nonblocking) => {
            out.push(Badge {
                short: "nb?".into(),
                long: "nonblock?".into(),
                kind: BadgeKind::Unknown,
            })
        }
        _ => {}
    }
    if s.proto == Proto::Tcp {
        match o.defer_accept {
            Some(0) => {}
            Some(n) => out.push(Badge {
                short: format!("d{n}"),
                long: format!("defer={n}s"),
                kind: BadgeKind::Set,
            }),
            None if o.not_applicable(OptionName::DeferAccept) => {}
            None => out.push(Badge {
                short: "d?".into(),
                long: "defer?".into(),
                kind: BadgeKind::Unknown,
            }),
        }
        match o.fastopen {
            Some(0) => {}
            Some(n) => out.push(Badge {
                short: format!("fo{n}"),
                long: format!("fastopen={n}"),
                kind: BadgeKind::Set,
            }),
            None if o.not_applicable(OptionName::Fastopen) => {}
            None => out.push(Badge {
                short: "fo?".into(),
                long: "fastopen?".into(),
                kind: BadgeKind::Unknown,
            }),
        }
    }
    if let Some(d) = &o.bind_device {
        let d = clean(d);
        out.push(Badge {
            short: format!("@{d}"),
            long: format!("dev={d}"),
            kind: BadgeKind::Set,
        });
    }
    out
}

/// The badges as spans in `width` columns: the long names when they fit, else the short.
pub fn badge_spans(badges: &[Badge], width: u16, theme: &Theme) -> Vec<Span<'static>> {
    if badges.is_empty() {
        return vec![Span::styled("-", theme.muted)];
    }
    let long: usize = badges.iter().map(|b| b.long.chars().count() + 1).sum();
    let use_long = long.saturating_sub(1) <= usize::from(width);
    let mut spans = Vec::new();
    for (i, b) in badges.iter().enumerate() {
        if i > 0 {
            spans.push(Span::raw(" "));
        }
        let style = match b.kind {
            BadgeKind::Set => theme.text,
            BadgeKind::Unknown => theme.badge_unknown,
            BadgeKind::Warn => theme.warning,
        };
        let text = if use_long { &b.long } else { &b.short };
        spans.push(Span::styled(text.clone(), style));
    }
    spans
}

/// A one-cell sign of a severity, told apart by glyph as well as colour (monochrome).
pub fn severity_glyph(s: Severity) -> &'static str {
    match s {
        Severity::Critical => "!",
        Severity::Warning => "!",
        Severity::Notice => "•",
        Severity::Info => "·",
    }
}

/// The severity sign, or a blank, styled.
pub fn severity_span(s: Option<Severity>, theme: &Theme) -> Span<'static> {
    match s {
        Some(s) => Span::styled(severity_glyph(s), theme.severity(s)),
        None => Span::raw(" "),
    }
}

/// A number for sorting a severity (higher is worse); `None` sorts as missing.
pub fn severity_rank(s: Option<Severity>) -> Option<i64> {
    s.map(|s| match s {
        Severity::Info => 1,
        Severity::Notice => 2,
        Severity::Warning => 3,
        Severity::Critical => 4,
    })
}

/// `80, 443, 8080 +3`: up to `max` ports.
pub fn ports_text(ports: &[u16], max: usize) -> String {
    let shown: Vec<String> = ports.iter().take(max).map(u16::to_string).collect();
    let mut text = shown.join(",");
    if ports.len() > max {
        text.push_str(&format!(" +{}", ports.len() - max));
    }
    text
}

/// A style for a count: muted when zero.
pub fn count_style(n: usize, theme: &Theme) -> Style {
    if n == 0 { theme.muted } else { theme.text }
}
