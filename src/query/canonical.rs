//! A filter back to text: the canonical form the status line shows, which parses back to
//! the same filter (keys and values lowercase, `!` for negation, aliases resolved).

use super::ast::{Filter, Pred, ScopeSel, StateSel, pred_key};
use super::lexer::key_prefix_len;
use crate::model::{Family, Scope};
use std::fmt::{self, Write as _};

impl Filter {
    /// The canonical text of the filter, for the status line: keys and values lowercase,
    /// `!` for negation, aliases resolved (`family:4` → `family:ipv4`). Parses back to the
    /// same filter; empty for the empty filter.
    pub fn describe(&self) -> String {
        let mut out = String::new();
        for (i, term) in self.terms.iter().enumerate() {
            if i > 0 {
                out.push(' ');
            }
            if term.negated {
                out.push('!');
            }
            match term.alts.first() {
                Some(Pred::Text(n)) => {
                    push_text(&mut out, &n.lower);
                    continue;
                }
                Some(first) => {
                    if let Some(key) = pred_key(first) {
                        out.push_str(key.name());
                        out.push(':');
                    }
                }
                None => {}
            }
            for (j, p) in term.alts.iter().enumerate() {
                if j > 0 {
                    out.push(',');
                }
                push_value(&mut out, p);
            }
        }
        out
    }
}

impl fmt::Display for Filter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.describe())
    }
}

fn push_quoted(out: &mut String, text: &str) {
    out.push('"');
    for c in text.chars() {
        if c == '"' || c == '\\' {
            out.push('\\');
        }
        out.push(c);
    }
    out.push('"');
}

fn push_text(out: &mut String, text: &str) {
    let needs_quotes = text.is_empty()
        || text.starts_with(['!', '-'])
        || text.chars().any(|c| c.is_whitespace() || c == '"')
        || key_prefix_len(&text.chars().collect::<Vec<_>>(), 0).is_some();
    if needs_quotes {
        push_quoted(out, text);
    } else {
        out.push_str(text);
    }
}

fn push_value(out: &mut String, p: &Pred) {
    let text = |out: &mut String, t: &str| {
        if t.is_empty() || t.chars().any(|c| c.is_whitespace() || c == '"' || c == ',') {
            push_quoted(out, t);
        } else {
            out.push_str(t);
        }
    };
    match p {
        Pred::Port(lo, hi) if lo == hi => {
            let _ = write!(out, "{lo}");
        }
        Pred::Port(lo, hi) => {
            let _ = write!(out, "{lo}-{hi}");
        }
        Pred::Netns(pattern) | Pred::Container(pattern) => text(out, pattern.text()),
        Pred::Image(glob) => text(out, glob.text()),
        Pred::Pod(pattern) => text(out, pattern.text()),
        Pred::User { name, .. }
        | Pred::Finding(name)
        | Pred::Addr(name)
        | Pred::Unit(name)
        | Pred::Host(name)
        | Pred::Mark(name)
        | Pred::Text(name) => text(out, &name.lower),
        Pred::AnyFinding | Pred::AnyMark => out.push_str("any"),
        Pred::Proto(p) => out.push_str(p.name()),
        Pred::Scope(ScopeSel::AnyWildcard) => out.push_str("wildcard"),
        Pred::Scope(ScopeSel::Is(s)) => out.push_str(scope_name(*s)),
        Pred::State(StateSel::Bound) => out.push_str("bound"),
        Pred::State(StateSel::Is(s)) => out.push_str(s.name()),
        Pred::Pid(n) => {
            let _ = write!(out, "{n}");
        }
        Pred::Family(Family::Ipv4) => out.push_str("ipv4"),
        Pred::Family(Family::Ipv6) => out.push_str("ipv6"),
    }
}

fn scope_name(s: Scope) -> &'static str {
    match s {
        // Not reached through ScopeSel::Is (wildcard parses to AnyWildcard); kept total.
        Scope::Wildcard => "wildcard",
        Scope::DualStackWildcard => "dual",
        Scope::Loopback => "loopback",
        Scope::LinkLocal => "link_local",
        Scope::Specific => "specific",
    }
}
