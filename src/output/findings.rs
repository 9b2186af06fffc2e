//! The findings report: text grouped by severity, readable when pasted into an incident
//! channel, and JSON for tools. Pure: findings in, text out.

use crate::analyze::describe;
use crate::analyze::ports::PortGroup;
use crate::model::{Finding, PortKey, Severity, Snapshot};
use crate::text::{clean, count};
use serde::Serialize;
use std::fmt::Write as _;

/// What `bindscope findings --format json` prints.
#[derive(Debug, Serialize)]
pub struct Report<'a> {
    pub findings: Vec<&'a Finding>,
    pub min_severity: Severity,
    /// Findings at each severity, including those below `min_severity`.
    pub counts: Counts,
    pub host: &'a crate::model::Host,
    pub taken_at: &'a crate::model::TakenAt,
    pub samples: u32,
    pub port_groups: Vec<PortGroup>,
}

#[derive(Debug, Default, Serialize, PartialEq, Eq)]
pub struct Counts {
    pub critical: usize,
    pub warning: usize,
    pub notice: usize,
    pub info: usize,
}

impl Counts {
    /// How many of `severities` are at each severity.
    pub fn of(severities: impl IntoIterator<Item = Severity>) -> Counts {
        let mut c = Counts::default();
        for severity in severities {
            match severity {
                Severity::Critical => c.critical += 1,
                Severity::Warning => c.warning += 1,
                Severity::Notice => c.notice += 1,
                Severity::Info => c.info += 1,
            }
        }
        c
    }

    /// `1 critical, 4 warnings, 10 notices, 2 info`: the tally in reports.
    pub fn tally(&self) -> String {
        format!(
            "{} critical, {}, {}, {} info",
            self.critical,
            count(self.warning, "warning", "warnings"),
            count(self.notice, "notice", "notices"),
            self.info
        )
    }
}

/// What a report lists: one finding, or the facets of one problem on one port (findings
/// that share `problem`), shown together at the worst facet's severity.
#[derive(Debug, PartialEq, Eq)]
pub enum Entry<'a> {
    One(&'a Finding),
    Problem {
        port: PortKey,
        facets: Vec<&'a Finding>,
    },
}

impl Entry<'_> {
    pub fn severity(&self) -> Severity {
        match self {
            Entry::One(f) => f.severity,
            Entry::Problem { facets, .. } => facets
                .iter()
                .map(|f| f.severity)
                .max()
                .unwrap_or(Severity::Info),
        }
    }
}

/// The entries of `findings` in their order, each problem where its first facet is, its
/// facets most severe first.
pub fn entries(findings: &[Finding]) -> Vec<Entry<'_>> {
    let mut out: Vec<Entry> = Vec::new();
    for f in findings {
        let Some(key) = f.problem else {
            out.push(Entry::One(f));
            continue;
        };
        let existing = out.iter_mut().find_map(|e| match e {
            Entry::Problem { port, facets } if *port == key => Some(facets),
            _ => None,
        });
        match existing {
            Some(facets) => facets.push(f),
            None => out.push(Entry::Problem {
                port: key,
                facets: vec![f],
            }),
        }
    }
    for e in &mut out {
        if let Entry::Problem { facets, .. } = e {
            facets.sort_by_key(|f| std::cmp::Reverse(f.severity));
        }
    }
    out
}

/// The entries counted at their severities: a problem counts once.
pub fn entry_counts(entries: &[Entry]) -> Counts {
    Counts::of(entries.iter().map(Entry::severity))
}

/// The headline of a problem: `udp port 7000 in namespace 'web': one problem, 3 findings
/// (udp_reuseaddr_takeover, cross_user_port, family_split)`.
pub fn problem_title(snap: &Snapshot, port: &PortKey, facets: &[&Finding]) -> String {
    // Each kind once, in the facets' order, with how many when several.
    let mut kinds: Vec<(&str, usize)> = Vec::new();
    for f in facets {
        match kinds.iter_mut().find(|(k, _)| *k == f.kind.name()) {
            Some((_, n)) => *n += 1,
            None => kinds.push((f.kind.name(), 1)),
        }
    }
    let kinds: Vec<String> = kinds
        .into_iter()
        .map(|(k, n)| {
            if n == 1 {
                k.to_string()
            } else {
                format!("{k} ×{n}")
            }
        })
        .collect();
    format!(
        "{} port {}{}: one problem, {} ({})",
        port.proto.name(),
        port.port,
        describe::in_netns(snap, port.netns),
        count(facets.len(), "finding", "findings"),
        kinds.join(", ")
    )
}

pub fn counts(findings: &[Finding]) -> Counts {
    Counts::of(findings.iter().map(|f| f.severity))
}

/// Word-wraps `text` to `width` columns, each line indented by `indent`; newlines in the
/// text start new lines (the routes of an overlap stay one per line).
pub fn wrap(text: &str, width: usize, indent: &str) -> String {
    let mut out = String::new();
    for para in text.split('\n') {
        let para = clean(para);
        let lead = para.len() - para.trim_start().len();
        let hang = " ".repeat(
            lead + if para.trim_start().starts_with("- ") {
                2
            } else {
                0
            },
        );
        let mut line = format!("{indent}{}", &para[..lead]);
        let mut fresh = true;
        for word in para.split_whitespace() {
            if !fresh && line.chars().count() + 1 + word.chars().count() > width {
                out.push_str(line.trim_end());
                out.push('\n');
                line = format!("{indent}{hang}");
                fresh = true;
            }
            if !fresh {
                line.push(' ');
            }
            line.push_str(word);
            fresh = false;
        }
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
}

/// How many further findings of one kind are listed by summary before they are counted.
const LISTED: usize = 10;

fn render_one(out: &mut String, f: &Finding) {
    render_at(out, f, "  ", "      ");
}

fn render_at(out: &mut String, f: &Finding, head: &str, body: &str) {
    out.push_str(&wrap(&format!("[{}] {}", f.kind, f.summary), 100, head));
    out.push_str(&wrap(&f.explanation, 100, body));
    if !f.sockets.is_empty() {
        let ids: Vec<&str> = f.sockets.iter().take(8).map(|s| s.0.as_str()).collect();
        let more = f.sockets.len() - ids.len();
        let tail = if more > 0 {
            format!(" (+{more} more)")
        } else {
            String::new()
        };
        out.push_str(&wrap(
            &format!("sockets: {}{tail}", ids.join(" ")),
            100,
            body,
        ));
    }
}

/// The report for people.
pub fn render_text(snap: &Snapshot, all: &[Finding], min: Severity, samples: u32) -> String {
    let mut out = String::new();
    let ns = snap.netns.len();
    let _ = writeln!(
        out,
        "bindscope findings: {} ({}), {}, {} network namespace{}, {} sample{}",
        clean(&snap.host.hostname),
        clean(&snap.host.kernel),
        snap.taken_at,
        ns,
        if ns == 1 { "" } else { "s" },
        samples,
        if samples == 1 { "" } else { "s" }
    );
    let all_entries = entries(all);
    let c = entry_counts(&all_entries);
    let _ = writeln!(out, "{}", c.tally());
    if samples < 3 {
        out.push_str("(queue growth and counter rises need history: use --samples 3 or more)\n");
    }
    let shown_entries: Vec<&Entry> = all_entries.iter().filter(|e| e.severity() >= min).collect();
    let shown: Vec<&Finding> = shown_entries
        .iter()
        .filter_map(|e| match e {
            Entry::One(f) => Some(*f),
            Entry::Problem { .. } => None,
        })
        .collect();
    if shown_entries.is_empty() {
        let _ = writeln!(out, "\nNothing at or above {}.", min.name());
    }
    for sev in [
        Severity::Critical,
        Severity::Warning,
        Severity::Notice,
        Severity::Info,
    ] {
        let group: Vec<&&Finding> = shown.iter().filter(|f| f.severity == sev).collect();
        let mut problems: Vec<(&PortKey, &Vec<&Finding>)> = shown_entries
            .iter()
            .filter(|e| e.severity() == sev)
            .filter_map(|e| match e {
                Entry::Problem { port, facets } => Some((port, facets)),
                Entry::One(_) => None,
            })
            .collect();
        if group.is_empty() && problems.is_empty() {
            continue;
        }
        let _ = writeln!(out, "\n{}", sev.name().to_uppercase());
        // Problems first, by port: one situation, every facet explained under it.
        problems.sort_by_key(|(port, _)| (port.port, port.proto, port.netns));
        for (port, facets) in problems {
            out.push_str(&wrap(&problem_title(snap, port, facets), 100, "  "));
            for f in facets {
                render_at(&mut out, f, "    ", "        ");
            }
        }
        // Within a severity, by kind: many findings of one kind say the same thing, so the
        // first is explained in full and the rest are listed by their summaries.
        let mut kinds: Vec<&str> = group.iter().map(|f| f.kind.name()).collect();
        kinds.dedup();
        kinds.sort_unstable();
        kinds.dedup();
        for kind in kinds {
            let of_kind: Vec<&&&Finding> = group.iter().filter(|f| f.kind.name() == kind).collect();
            let full = if of_kind.len() <= 3 { of_kind.len() } else { 1 };
            for f in of_kind.iter().take(full) {
                render_one(&mut out, f);
            }
            let rest = &of_kind[full..];
            for f in rest.iter().take(LISTED) {
                out.push_str(&wrap(&format!("[{}] {}", f.kind, f.summary), 100, "  "));
            }
            if rest.len() > LISTED {
                let _ = writeln!(
                    out,
                    "  ... and {} more {kind} findings like these (--format json lists them all)",
                    rest.len() - LISTED
                );
            }
        }
    }
    let hidden = all_entries.len() - shown_entries.len();
    if hidden > 0 {
        let _ = writeln!(
            out,
            "\n{hidden} more below {} (--min-severity info shows them).",
            min.name()
        );
    }
    if !snap.privileges.missing.is_empty() {
        out.push('\n');
        for line in &snap.privileges.missing {
            out.push_str(&wrap(&format!("note: {line}"), 100, ""));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::SocketId;
    use crate::testing::{netns, snapshot_of};

    fn f(kind: &str, severity: Severity, explanation: &str) -> Finding {
        Finding {
            kind: kind.into(),
            severity,
            sockets: vec![SocketId("1-2a".into())],
            summary: format!("{kind} summary"),
            explanation: explanation.into(),
            problem: None,
        }
    }

    #[test]
    fn facets_of_a_problem_are_one_entry_at_the_worst_severity() {
        let snap = snapshot_of(vec![], vec![netns(1, Some("host"), None)]);
        let port = PortKey {
            netns: crate::model::NetnsId(1),
            proto: crate::model::Proto::Udp,
            port: 7000,
        };
        let facet = |kind: &str, sev| Finding {
            problem: Some(port),
            ..f(kind, sev, "why")
        };
        let all = vec![
            facet("udp_reuseaddr_takeover", Severity::Warning),
            f("blocking_listener", Severity::Notice, "alone"),
            facet("cross_user_port", Severity::Notice),
        ];
        let e = entries(&all);
        assert_eq!(e.len(), 2);
        assert_eq!(e[0].severity(), Severity::Warning);
        assert!(matches!(&e[0], Entry::Problem { facets, .. } if facets.len() == 2));
        let c = entry_counts(&e);
        assert_eq!((c.warning, c.notice), (1, 1), "a problem counts once");
        let t = render_text(&snap, &all, Severity::Info, 1);
        assert!(t.contains("0 critical, 1 warning, 1 notice, 0 info"), "{t}");
        let title = t
            .find(
                "udp port 7000: one problem, 2 findings (udp_reuseaddr_takeover, cross_user_port)",
            )
            .expect(&t);
        let warning = t.find("WARNING").expect("warning section");
        let notice = t.find("NOTICE").expect("notice section");
        assert!(warning < title && title < notice, "{t}");
        assert!(
            t.contains("    [cross_user_port] cross_user_port summary"),
            "{t}"
        );
    }

    #[test]
    fn grouped_by_severity_with_hidden_count() {
        let snap = snapshot_of(vec![], vec![netns(1, Some("host"), None)]);
        let all = vec![
            f(
                "accept_queue_full",
                Severity::Critical,
                "queue\nfull \x1b[2J",
            ),
            f("family_split", Severity::Notice, "word ".repeat(40).trim()),
            f("reuseport_group", Severity::Info, "group"),
        ];
        let t = render_text(&snap, &all, Severity::Notice, 1);
        assert!(
            t.contains("1 critical, 0 warnings, 1 notice, 1 info"),
            "{t}"
        );
        let crit = t.find("CRITICAL").expect("critical group");
        let notice = t.find("NOTICE").expect("notice group");
        assert!(crit < notice);
        assert!(!t.contains("INFO"), "info is below --min-severity notice");
        assert!(t.contains("1 more below notice"), "{t}");
        assert!(
            t.contains("      queue\n      full \\x1b[2J\n"),
            "newlines kept, escapes cleaned: {t}"
        );
        assert!(t.lines().all(|l| l.chars().count() <= 100), "wrapped: {t}");
        assert!(t.contains("use --samples 3"), "{t}");
    }

    #[test]
    fn many_of_one_kind_are_summarized() {
        let snap = snapshot_of(vec![], vec![netns(1, Some("host"), None)]);
        let all: Vec<Finding> = (0..30)
            .map(|_| {
                f(
                    "blocking_listener",
                    Severity::Notice,
                    "the long explanation",
                )
            })
            .collect();
        let t = render_text(&snap, &all, Severity::Notice, 1);
        assert_eq!(t.matches("the long explanation").count(), 1, "{t}");
        assert_eq!(t.matches("[blocking_listener]").count(), 11, "{t}");
        assert!(
            t.contains("... and 19 more blocking_listener findings"),
            "{t}"
        );
    }

    #[test]
    fn nothing_to_report() {
        let snap = snapshot_of(vec![], vec![netns(1, Some("host"), None)]);
        let t = render_text(&snap, &[], Severity::Warning, 3);
        assert!(t.contains("Nothing at or above warning."), "{t}");
        assert!(!t.contains("--samples 3"));
    }

    #[test]
    fn wrap_keeps_route_lines_hanging() {
        let w = wrap(
            "Routes:\n  - IPv4 to 127.0.0.1 → this socket because of a long reason that wraps around",
            40,
            "",
        );
        assert!(w.starts_with("Routes:\n  - IPv4"), "{w}");
        assert!(
            w.lines().nth(2).is_some_and(|l| l.starts_with("    ")),
            "hanging indent: {w}"
        );
    }
}
