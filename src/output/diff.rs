//! `bindscope diff`: the [`Diff`] of two snapshots as text for people (tickets, incident
//! channels) and as JSON for tools ([`document`]). Pure: a diff in, text out; every string
//! that came from a snapshot passes through [`clean`]. The words of each field change are
//! [`words`]', shared with the dashboard's Changes view.

mod document;
mod words;

pub use document::write_json;
pub use words::{FieldWords, netns_fields, socket_field, socket_fields};

use super::findings::wrap;
use crate::analyze::describe;
use crate::analyze::diff::{
    ChangeKind, Counts, Diff, FieldKind, FindingChange, FindingChangeKind, NetnsChange,
    SocketChange, SocketField,
};
use crate::model::addr::endpoint;
use crate::model::{NetnsId, Socket};
use crate::text::clean;
use std::fmt::Write as _;

/// The `format` of a diff document.
pub const FORMAT: &str = "bindscope.diff";
/// The `version` of a diff document; raised when a name or meaning changes.
pub const VERSION: u32 = 1;

/// Lines are wrapped at this width, as in the findings report.
const WIDTH: usize = 100;
/// Sockets whose only change is a queue number are listed up to this many, then counted:
/// on a busy host every listener's queue moves between two snapshots.
const QUEUE_LISTED: usize = 20;

/// The diff for people: a header, a summary of the counts, then the sockets that appeared
/// (`+`), disappeared (`-`) and changed (`~`, with one `field: before → after` line per
/// change, queues last), the sockets whose only changes are queues, new and resolved
/// findings, and namespace changes. `no differences` when there are none.
pub fn render_text(d: &Diff) -> String {
    let mut out = header(d);
    if d.is_empty() {
        out.push_str("no differences\n");
        return out;
    }
    out.push_str(&summary(&d.counts()));
    out.push_str(&privileges_note(d));
    let of = |kind: ChangeKind| d.sockets.iter().filter(move |c| c.kind == kind);
    let changed: Vec<&SocketChange> = of(ChangeKind::Changed)
        .filter(|c| !c.queue_only())
        .collect();
    let queues: Vec<&SocketChange> = of(ChangeKind::Changed).filter(|c| c.queue_only()).collect();
    socket_section(
        &mut out,
        d,
        "Appeared",
        '+',
        &of(ChangeKind::Appeared).collect::<Vec<_>>(),
    );
    socket_section(
        &mut out,
        d,
        "Disappeared",
        '-',
        &of(ChangeKind::Disappeared).collect::<Vec<_>>(),
    );
    socket_section(&mut out, d, "Changed", '~', &changed);
    queue_section(&mut out, d, &queues);
    finding_section(&mut out, d, FindingChangeKind::New);
    finding_section(&mut out, d, FindingChangeKind::Resolved);
    netns_section(&mut out, d);
    out
}

/// `bindscope diff: web-1, before T1 → after T2`, and the sizes of both sides.
fn header(d: &Diff) -> String {
    let (b, a) = (&d.before, &d.after);
    let mut out = if b.hostname == a.hostname {
        format!(
            "bindscope diff: {}, before {} → after {}\n",
            clean(&b.hostname),
            clean(&b.taken_at.to_string()),
            clean(&a.taken_at.to_string())
        )
    } else {
        format!(
            "bindscope diff: before {} {} → after {} {} (two hosts: sockets are matched by endpoint)\n",
            clean(&b.hostname),
            clean(&b.taken_at.to_string()),
            clean(&a.hostname),
            clean(&a.taken_at.to_string())
        )
    };
    let _ = writeln!(
        out,
        "sockets {} → {}, findings {} → {}",
        b.sockets, a.sockets, b.findings, a.findings
    );
    out
}

fn plural(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

fn summary(c: &Counts) -> String {
    format!(
        "{} appeared, {} disappeared, {} changed, {} with queue changes only; \
         findings {} new, {} resolved; {} changed\n",
        c.appeared,
        c.disappeared,
        c.changed,
        c.queue_only,
        c.new_findings,
        c.resolved_findings,
        plural(c.netns, "namespace", "namespaces")
    )
}

/// Said when the sides were read with different privileges: then a `?` or a vanished holder
/// may only mean "not readable this time".
fn privileges_note(d: &Diff) -> String {
    let (b, a) = (&d.before, &d.after);
    if b.options_readable == a.options_readable && b.all_holders_visible == a.all_holders_visible {
        return String::new();
    }
    wrap(
        "note: the snapshots were taken with different privileges: an option that became \
         unknown (?) or a holder that vanished may only be unreadable in one of them.",
        WIDTH,
        "",
    )
}

/// ` in 'web'` or ` in net:[4026532245]` when either snapshot has several namespaces.
fn netns_label(d: &Diff, id: NetnsId) -> String {
    if d.before.netns.max(d.after.netns) <= 1 {
        return String::new();
    }
    match d.netns_names.get(&id) {
        Some(name) => format!(" in '{}'", clean(name)),
        None => format!(" in net:[{id}]"),
    }
}

/// `tcp 0.0.0.0:80 in 'web'`, with ` -> remote` for a connection.
fn socket_name(d: &Diff, s: &Socket) -> String {
    let mut name = describe::endpoint(s);
    if let (Some(addr), Some(port)) = (s.remote_addr, s.remote_port) {
        let _ = write!(name, " -> {}", endpoint(addr, port, None));
    }
    name.push_str(&netns_label(d, s.netns));
    name
}

/// `tcp 0.0.0.0:80 (listen) of root (uid 0), held by nginx[12] root`.
fn socket_line(d: &Diff, s: &Socket) -> String {
    format!(
        "{} ({}) of {}, held by {}",
        socket_name(d, s),
        s.state_label(),
        describe::user(s.user.as_deref(), s.uid),
        describe::holders(s)
    )
}

fn socket_section(out: &mut String, d: &Diff, title: &str, sign: char, changes: &[&SocketChange]) {
    if changes.is_empty() {
        return;
    }
    let _ = writeln!(out, "\n{title} ({})", changes.len());
    for c in changes {
        out.push_str(&wrap(
            &format!("{sign} {}", socket_line(d, &c.socket)),
            WIDTH,
            "  ",
        ));
        for f in &c.fields {
            let recreated = matches!(f, SocketField::Socket(_));
            let line = field_line(&socket_field(f, &c.socket), recreated);
            out.push_str(&wrap(&line, WIDTH, "      "));
        }
    }
}

/// `tcp 0.0.0.0:80: accept_queue 3/128 → 7/128, syn_recv 0 → 2`, one line per socket.
fn queue_section(out: &mut String, d: &Diff, changes: &[&SocketChange]) {
    if changes.is_empty() {
        return;
    }
    let _ = writeln!(out, "\nQueue changes only ({})", changes.len());
    for c in changes.iter().take(QUEUE_LISTED) {
        let fields: Vec<String> = socket_fields(c)
            .iter()
            .map(|f| {
                format!(
                    "{} {} → {}",
                    clean(&f.field),
                    clean(&f.before),
                    clean(&f.after)
                )
            })
            .collect();
        let line = format!("~ {}: {}", socket_name(d, &c.socket), fields.join(", "));
        out.push_str(&wrap(&line, WIDTH, "  "));
    }
    if changes.len() > QUEUE_LISTED {
        let _ = writeln!(
            out,
            "  ... and {} more (--format json lists them all)",
            changes.len() - QUEUE_LISTED
        );
    }
}

/// `field: before → after`, `holders: +a, -b` for sets, with a word on what kind of change
/// it is when the value alone would mislead (`recreated`: the change is a socket's new id).
fn field_line(f: &FieldWords, recreated: bool) -> String {
    let name = match &f.subject {
        Some(s) => format!("{} {}", clean(&f.field), clean(s)),
        None => clean(&f.field).into_owned(),
    };
    if !f.added.is_empty() || !f.removed.is_empty() {
        let parts: Vec<String> = f
            .added
            .iter()
            .map(|a| format!("+{}", clean(a)))
            .chain(f.removed.iter().map(|r| format!("-{}", clean(r))))
            .collect();
        return format!("{name}: {}", parts.join(", "));
    }
    let note = match f.kind {
        FieldKind::BecameKnown => " (was unknown, now read)",
        FieldKind::BecameUnknown => " (now unknown: not read this time)",
        _ if recreated => " (recreated: restarted or reopened on the same endpoint)",
        _ => "",
    };
    format!("{name}: {} → {}{note}", clean(&f.before), clean(&f.after))
}

fn finding_section(out: &mut String, d: &Diff, kind: FindingChangeKind) {
    let of_kind: Vec<&FindingChange> = d.findings.iter().filter(|f| f.kind == kind).collect();
    if of_kind.is_empty() {
        return;
    }
    let (title, sign) = match kind {
        FindingChangeKind::New => ("New findings", '+'),
        FindingChangeKind::Resolved => ("Resolved findings", '-'),
    };
    let _ = writeln!(out, "\n{title} ({})", of_kind.len());
    for c in of_kind {
        let f = &c.finding;
        let line = format!(
            "{sign} {} [{}] {}",
            f.severity.name(),
            clean(f.kind.name()),
            clean(&f.summary)
        );
        // Cleaned before `wrap`, which would take a raw newline for a paragraph break.
        out.push_str(&wrap(&line, WIDTH, "  "));
    }
}

/// `'web' (net:[4026532245])` or `net:[4026532245]`.
fn netns_name(n: &NetnsChange) -> String {
    match &n.name {
        Some(name) => format!("'{}' (net:[{}])", clean(name), n.id),
        None => format!("net:[{}]", n.id),
    }
}

fn netns_section(out: &mut String, d: &Diff) {
    if d.netns.is_empty() {
        return;
    }
    let _ = writeln!(out, "\nNamespaces ({})", d.netns.len());
    for n in &d.netns {
        let sign = match n.kind {
            ChangeKind::Appeared => '+',
            ChangeKind::Disappeared => '-',
            ChangeKind::Changed => '~',
        };
        let _ = writeln!(out, "  {sign} {}", netns_name(n));
        for f in &netns_fields(n) {
            out.push_str(&wrap(&field_line(f, false), WIDTH, "      "));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analyze::diff::diff;
    use crate::model::{Finding, Severity, Snapshot, SocketId};
    use crate::testing::{netns, snapshot_of, socket};

    fn sock(cookie: u64, port: u16, pid: u32) -> Socket {
        let mut s = socket();
        s.cookie = cookie;
        s.id = SocketId::new(s.netns, cookie);
        s.local_port = port;
        s.holders.iter_mut().for_each(|h| h.pid = pid);
        s
    }

    fn snap(sockets: Vec<Socket>) -> Snapshot {
        snapshot_of(sockets, vec![netns(1, Some("host"), None)])
    }

    /// A small example with a change of every sort.
    fn example() -> (Snapshot, Snapshot) {
        let mut before = snap(vec![sock(1, 80, 10), sock(2, 81, 10), sock(3, 82, 10)]);
        let mut restarted = sock(9, 80, 11);
        restarted.options.reuseport = Some(true);
        let mut busy = sock(3, 82, 10);
        busy.syn_recv = Some(40);
        let mut after = snap(vec![restarted.clone(), busy, sock(4, 83, 10)]);
        after.taken_at = "2026-11-22T08:00:00Z".into();
        let finding = |kind: &str, s: &Socket, severity| Finding {
            kind: kind.into(),
            severity,
            sockets: vec![s.id.clone()],
            summary: format!("{kind} on port {}", s.local_port),
            explanation: String::new(),
            problem: None,
        };
        before.findings = vec![finding("listen_race", &sock(2, 81, 10), Severity::Notice)];
        after.findings = vec![finding(
            "blocking_listener",
            &sock(4, 83, 10),
            Severity::Warning,
        )];
        after.netns[0].counters.listen_overflows = Some(5);
        before.netns[0].counters.listen_overflows = Some(2);
        (before, after)
    }

    #[test]
    fn no_differences() {
        let s = snap(vec![socket()]);
        let t = render_text(&diff(&s, &s));
        assert_eq!(
            t,
            "bindscope diff: h, before 2026-11-22T07:00:00Z → after 2026-11-22T07:00:00Z\n\
             sockets 1 → 1, findings 0 → 0\n\
             no differences\n"
        );
    }

    #[test]
    fn every_section() {
        let (before, after) = example();
        let t = render_text(&diff(&before, &after));
        let want = "\
bindscope diff: h, before 2026-11-22T07:00:00Z → after 2026-11-22T08:00:00Z
sockets 3 → 3, findings 1 → 1
1 appeared, 1 disappeared, 1 changed, 1 with queue changes only; findings 1 new, 1 resolved; 1 namespace changed

Appeared (1)
  + tcp [::]%lo:83 (listen) of alice (uid 1001), held by web\\x1b[31m[10] www-data

Disappeared (1)
  - tcp [::]%lo:81 (listen) of alice (uid 1001), held by web\\x1b[31m[10] www-data

Changed (1)
  ~ tcp [::]%lo:80 (listen) of alice (uid 1001), held by web\\x1b[31m[11] www-data
      socket: 1-1 → 1-9 (recreated: restarted or reopened on the same endpoint)
      reuseport: ? → true (was unknown, now read)
      holders: +web\\x1b[31m[11] (www-data), -web\\x1b[31m[10] (www-data)

Queue changes only (1)
  ~ tcp [::]%lo:82: syn_recv 2 → 40

New findings (1)
  + warning [blocking_listener] blocking_listener on port 83

Resolved findings (1)
  - notice [listen_race] listen_race on port 81

Namespaces (1)
  ~ 'host' (net:[1])
      ListenOverflows: 2 → 5 (+3)
";
        assert_eq!(t, want, "{t}");
    }

    #[test]
    fn hostile_strings_come_out_cleaned() {
        let evil = "x\x1b]0;owned\x07\u{202e}\n";
        let mut before = snap(vec![sock(1, 80, 10)]);
        before.host.hostname = evil.into();
        before.netns[0].name = Some(evil.into());
        let mut after = before.clone();
        let s = &mut after.sockets[0];
        s.user = Some(evil.into());
        s.device = Some(evil.into());
        s.holders[0].name = evil.into();
        after.sockets.push(sock(2, 81, 10));
        after.netns.push(netns(2, Some(evil), None));
        after.findings = vec![Finding {
            kind: evil.into(),
            severity: Severity::Info,
            sockets: vec![],
            summary: evil.into(),
            explanation: String::new(),
            problem: None,
        }];
        after.netns[0].sysctls.somaxconn = Some(1);
        let t = render_text(&diff(&before, &after));
        for bad in ['\x1b', '\x07', '\u{202e}'] {
            assert!(!t.contains(bad), "{bad:?} in {t}");
        }
        assert!(t.contains("x\\x1b]0;owned\\x07\\u{202e}\\x0a"), "{t}");
        assert!(
            t.lines().all(|l| !l.trim().is_empty() || l.is_empty()),
            "{t}"
        );
    }

    #[test]
    fn queue_only_sockets_are_listed_up_to_a_limit() {
        let before = snap((0..25).map(|i| sock(i + 1, 1000 + i as u16, 10)).collect());
        let mut after = before.clone();
        after.sockets.iter_mut().for_each(|s| s.syn_recv = Some(99));
        let t = render_text(&diff(&before, &after));
        assert!(t.contains("0 changed, 25 with queue changes only"), "{t}");
        assert_eq!(t.matches(": syn_recv 2 → 99").count(), QUEUE_LISTED, "{t}");
        assert!(
            t.contains("... and 5 more (--format json lists them all)"),
            "{t}"
        );
    }

    #[test]
    fn json_document() {
        let (before, after) = example();
        let mut buf = Vec::new();
        write_json(&mut buf, &diff(&before, &after)).expect("write");
        assert!(buf.ends_with(b"\n"));
        let v: serde_json::Value = serde_json::from_slice(&buf).expect("json");
        assert_eq!(v["format"], "bindscope.diff");
        assert_eq!(v["version"], 1);
        assert_eq!(v["counts"]["queue_only"], 1);
        assert_eq!(v["before"]["hostname"], "h");
        assert_eq!(v["sockets"][0]["kind"], "appeared");
        assert_eq!(v["sockets"][2]["kind"], "changed");
        assert_eq!(v["sockets"][2]["before_id"], "1-1");
        assert_eq!(v["sockets"][2]["socket"]["id"], "1-9");
        let f = &v["sockets"][2]["fields"][1];
        assert_eq!(f["field"], "reuseport");
        assert_eq!(f["kind"], "became_known");
        assert_eq!(f["subject"], serde_json::Value::Null);
        assert_eq!(v["sockets"][3]["fields"][0]["kind"], "queue");
        assert_eq!(v["findings"][0]["kind"], "new");
        assert_eq!(v["findings"][0]["finding"]["kind"], "blocking_listener");
        assert_eq!(v["netns"][0]["kind"], "changed");
        assert_eq!(v["netns_names"]["1"], "host");
    }
}
