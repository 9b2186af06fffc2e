//! CSV export: one row per (socket, holder), for spreadsheets and fleet tooling that want a
//! flat table rather than the nested JSON file. A socket without holders still gets one row,
//! with empty holder columns, so every socket is counted.
//!
//! Cells follow the file format's meanings: unknown (`None`) is an empty cell, never a
//! guessed `false`; names of states, scopes and address states are the JSON file's names.
//! Every text cell is sanitized ([`clean`]) and guarded against spreadsheet formula
//! injection (OWASP "CSV Injection"): a process name like `=cmd|' /C calc'!A0` must not run
//! when a colleague opens the file in a spreadsheet. A text cell longer than a spreadsheet
//! cell can hold (a cmdline of a megabyte) is cut to fit, and says how much was cut.

use crate::analyze::describe;
use crate::model::{Container, Holder, NetnsId, Options, Snapshot, Socket, SocketId};
use crate::output::containers;
use crate::text::clean;
use serde::Serialize;
use std::collections::HashMap;
use std::io;

/// The header row, in column order.
pub const COLUMNS: [&str; 42] = [
    "host",
    "taken_at",
    "netns",
    "netns_name",
    "socket_id",
    "proto",
    "family",
    "state",
    "local_addr",
    "local_port",
    "remote_addr",
    "remote_port",
    "device",
    "scope",
    "address_state",
    "uid",
    "user",
    "accept_queue_len",
    "accept_queue_backlog",
    "syn_recv",
    "reuseaddr",
    "reuseport",
    "v6only",
    "freebind",
    "transparent",
    "nonblocking",
    "defer_accept",
    "fastopen",
    "bind_device",
    "holder_pid",
    "holder_fd",
    "holder_name",
    "holder_uid",
    "holder_user",
    "holder_unit",
    "holder_cmdline",
    "findings",
    "mark",
    "unknown_options",
    "container",
    "image",
    "pod",
];

/// What the `mark` column says for a mark whose note is empty: the socket is marked, and an
/// empty cell would read as "not marked". (A file with several marks on one socket gets
/// their distinct notes, `;`-joined.)
pub const MARKED_WITHOUT_NOTE: &str = "marked";

/// Writes the header and one row per (socket, holder).
pub fn write(w: &mut dyn io::Write, snap: &Snapshot) -> io::Result<()> {
    let ctx = Context::new(snap);
    let mut out = ::csv::WriterBuilder::new().from_writer(w);
    out.write_record(COLUMNS)?;
    for s in &snap.sockets {
        let head = socket_cells(&ctx, s);
        let tail = tail_cells(&ctx, s);
        let owner = ctx.owners.get(&s.netns).copied();
        if s.holders.is_empty() {
            out.write_record(
                head.iter()
                    .chain(&holder_cells(None))
                    .chain(&tail)
                    .chain(&container_cells(s, None, owner)),
            )?;
        }
        for h in &s.holders {
            out.write_record(
                head.iter()
                    .chain(&holder_cells(Some(h)))
                    .chain(&tail)
                    .chain(&container_cells(s, Some(h), owner)),
            )?;
        }
    }
    out.flush()
}

/// Lookups built once per export: a snapshot of 50,000 sockets must not scan the findings
/// and marks once per socket.
struct Context<'a> {
    snap: &'a Snapshot,
    /// [`describe::netns_labels`], as every output names namespaces.
    netns_names: HashMap<NetnsId, String>,
    owners: HashMap<NetnsId, &'a Container>,
    findings: HashMap<&'a SocketId, Vec<&'a str>>,
    marks: HashMap<&'a SocketId, Vec<&'a str>>,
}

impl<'a> Context<'a> {
    fn new(snap: &'a Snapshot) -> Self {
        let netns_names = describe::netns_labels(snap);
        let owners = containers::owners(snap);
        let mut findings: HashMap<&SocketId, Vec<&str>> = HashMap::new();
        for f in &snap.findings {
            for id in &f.sockets {
                let kinds = findings.entry(id).or_default();
                // A finding may name a socket twice, and several findings share a kind:
                // one mention per kind, in the order the snapshot lists them.
                if !kinds.contains(&f.kind.name()) {
                    kinds.push(f.kind.name());
                }
            }
        }
        let mut marks: HashMap<&SocketId, Vec<&str>> = HashMap::new();
        for m in &snap.marks {
            let note = if m.note.trim().is_empty() {
                MARKED_WITHOUT_NOTE
            } else {
                m.note.as_str()
            };
            let notes = marks.entry(&m.socket).or_default();
            if !notes.contains(&note) {
                notes.push(note);
            }
        }
        Context {
            snap,
            netns_names,
            owners,
            findings,
            marks,
        }
    }
}

/// The columns from `host` to `bind_device`.
fn socket_cells(ctx: &Context, s: &Socket) -> Vec<String> {
    let host = s.host.as_deref().unwrap_or(&ctx.snap.host.hostname);
    let q = s.accept_queue.as_ref();
    let o = &s.options;
    vec![
        text(host),
        text(&ctx.snap.taken_at.to_string()),
        s.netns.to_string(),
        text(
            ctx.netns_names
                .get(&s.netns)
                .map(String::as_str)
                .unwrap_or(""),
        ),
        text(&s.id.0),
        serde_name(&s.proto),
        serde_name(&s.family),
        s.state.name().to_string(),
        s.local_addr.to_string(),
        s.local_port.to_string(),
        opt(s.remote_addr),
        opt(s.remote_port),
        text(s.device.as_deref().unwrap_or("")),
        serde_name(&s.scope),
        serde_name(&s.address_state),
        s.uid.to_string(),
        text(s.user.as_deref().unwrap_or("")),
        opt(q.map(|q| q.len)),
        opt(q.map(|q| q.backlog)),
        opt(s.syn_recv),
        opt(o.reuseaddr),
        opt(o.reuseport),
        opt(o.v6only),
        opt(o.freebind),
        opt(o.transparent),
        opt(o.nonblocking),
        opt(o.defer_accept),
        opt(o.fastopen),
        text(o.bind_device.as_deref().unwrap_or("")),
    ]
}

/// The `holder_*` columns; all empty for a socket without holders.
fn holder_cells(h: Option<&Holder>) -> [String; 7] {
    let Some(h) = h else {
        return Default::default();
    };
    [
        h.pid.to_string(),
        h.fd.to_string(),
        text(&h.name),
        h.uid.to_string(),
        text(h.user.as_deref().unwrap_or("")),
        text(h.unit.as_deref().unwrap_or("")),
        text(&h.cmdline.join(" ")),
    ]
}

/// `container`, `image` and `pod` of one row: its holder's container; for a row without
/// one, the namespace owner's when no holder of the socket is in a container (a socket with
/// no visible holder in a container's namespace), as [`containers::of_socket`] decides.
/// Empty when none, and an image or pod nobody could read is empty too.
fn container_cells(s: &Socket, h: Option<&Holder>, owner: Option<&Container>) -> [String; 3] {
    let c = h.and_then(|h| h.container.as_deref()).or_else(|| {
        s.holders
            .iter()
            .all(|h| h.container.is_none())
            .then_some(owner)
            .flatten()
    });
    let Some(c) = c else {
        return Default::default();
    };
    [
        text(&c.label()),
        text(c.image.as_deref().unwrap_or("")),
        c.pod.as_ref().map(|p| text(&p.label())).unwrap_or_default(),
    ]
}

/// `findings`, `mark` and `unknown_options`.
fn tail_cells(ctx: &Context, s: &Socket) -> [String; 3] {
    let joined = |m: &HashMap<&SocketId, Vec<&str>>| {
        m.get(&s.id).map(|v| text(&v.join(";"))).unwrap_or_default()
    };
    [
        joined(&ctx.findings),
        joined(&ctx.marks),
        unknown_options(&s.options).join(";"),
    ]
}

/// The options that apply to the socket and were not read (not those that do not apply,
/// like v6only on IPv4 or TCP options on UDP; `bind_device` with no value and no reason is
/// the known "no device").
fn unknown_options(o: &Options) -> Vec<&'static str> {
    o.unknowns().map(|(key, _)| key.name()).collect()
}

/// A value we format ourselves (number, bool, address), or an empty cell when unknown.
fn opt<T: ToString>(v: Option<T>) -> String {
    v.map(|v| v.to_string()).unwrap_or_default()
}

/// The name the snapshot file uses for an enum value (`dual_stack_wildcard`, `nonlocal`), so
/// CSV and JSON agree without a second copy of the names. Unit variants always serialize to
/// a string; anything else would be a model change, and gives an empty cell, not a panic.
fn serde_name<T: Serialize>(v: &T) -> String {
    match serde_json::to_value(v) {
        Ok(serde_json::Value::String(s)) => s,
        _ => String::new(),
    }
}

/// Untrusted text as a cell: sanitized, defused as a formula, and cut to fit a cell.
fn text(s: &str) -> String {
    fit_cell(defuse_formula(&clean(s)))
}

/// The most characters a spreadsheet cell holds: Excel's limit ("Total number of characters
/// that a cell can contain: 32,767", Excel specifications and limits), counted as Excel
/// counts, in UTF-16 code units. A longer cell is not held whole by the spreadsheet, so the
/// export cuts it itself, visibly, rather than leave it to the import.
pub const MAX_CELL_CHARS: usize = 32_767;

/// `cell` whole when it fits in [`MAX_CELL_CHARS`]; otherwise its start, ending with
/// `…[truncated N chars]`, N the UTF-16 code units cut, the whole within the limit. Cut
/// between characters, never inside a surrogate pair.
fn fit_cell(cell: String) -> String {
    // A UTF-16 code unit takes at least one UTF-8 byte: most cells need no counting.
    if cell.len() <= MAX_CELL_CHARS {
        return cell;
    }
    let units: usize = cell.chars().map(char::len_utf16).sum();
    if units <= MAX_CELL_CHARS {
        return cell;
    }
    // The most text that fits beside the marker, whose length depends on the count it
    // gives: a few steps down from the room a one-digit count would leave.
    let marker_units = |cut: usize| truncation_marker(cut).chars().count();
    let mut room = MAX_CELL_CHARS - marker_units(1);
    while room > 0 && room + marker_units(units - room) > MAX_CELL_CHARS {
        room -= 1;
    }
    let mut kept = 0;
    let mut end = 0;
    for (i, c) in cell.char_indices() {
        if kept + c.len_utf16() > room {
            break;
        }
        kept += c.len_utf16();
        end = i + c.len_utf8();
    }
    let mut out = cell.get(..end).unwrap_or_default().to_string();
    out.push_str(&truncation_marker(units - kept));
    out
}

/// What ends a cut cell. ASCII but for `…`, one UTF-16 code unit.
fn truncation_marker(cut: usize) -> String {
    format!("…[truncated {cut} chars]")
}

/// A leading `'` on a cell that a spreadsheet would read as a formula: `=`, `+`, `-`, `@`,
/// tab or carriage return first (OWASP "CSV Injection"). Spreadsheets show the text as it
/// was; tools reading the CSV see the `'` and can strip it.
fn defuse_formula(s: &str) -> String {
    match s.chars().next() {
        Some('=' | '+' | '-' | '@' | '\t' | '\r') => format!("'{s}"),
        _ => s.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Finding, Mark, Missing, OptionName, Severity};
    use crate::testing::{netns, snapshot_of, socket};
    use proptest::prelude::*;
    use std::sync::Arc;

    fn export(snap: &Snapshot) -> String {
        let mut out = Vec::new();
        write(&mut out, snap).expect("write to a Vec");
        String::from_utf8(out).expect("utf-8")
    }

    /// The rows (header included) as the csv crate reads them back.
    fn rows(csv: &str) -> Vec<Vec<String>> {
        ::csv::ReaderBuilder::new()
            .has_headers(false)
            .from_reader(csv.as_bytes())
            .records()
            .map(|r| r.expect("valid csv").iter().map(String::from).collect())
            .collect()
    }

    fn cell<'a>(row: &'a [String], column: &str) -> &'a str {
        let i = COLUMNS
            .iter()
            .position(|c| *c == column)
            .expect("known column");
        &row[i]
    }

    fn one_host() -> Snapshot {
        snapshot_of(vec![socket()], vec![netns(1, Some("host"), None)])
    }

    fn with_holder_name(name: &str) -> Snapshot {
        let mut snap = one_host();
        snap.sockets[0].holders[0].name = name.into();
        snap
    }

    #[test]
    fn header_then_one_row_per_holder() {
        let mut snap = one_host();
        let mut second = snap.sockets[0].holders[0].clone();
        second.pid = 43;
        snap.sockets[0].holders.push(second);
        let r = rows(&export(&snap));
        assert_eq!(r[0], COLUMNS);
        assert_eq!(r.len(), 3);
        assert_eq!(cell(&r[1], "holder_pid"), "42");
        assert_eq!(cell(&r[2], "holder_pid"), "43");
        assert!(r.iter().all(|row| row.len() == COLUMNS.len()));
    }

    #[test]
    fn socket_without_holders_gets_one_row_with_empty_holder_columns() {
        let mut snap = one_host();
        snap.sockets[0].holders.clear();
        let r = rows(&export(&snap));
        assert_eq!(r.len(), 2);
        for c in COLUMNS.iter().filter(|c| c.starts_with("holder_")) {
            assert_eq!(cell(&r[1], c), "", "{c}");
        }
        assert_eq!(cell(&r[1], "local_port"), "8080");
    }

    #[test]
    fn containers_images_and_pods_per_row() {
        let r = rows(&export(&crate::testing::container_host()));
        let row = |port: &str| {
            r.iter()
                .find(|row| cell(row, "local_port") == port)
                .unwrap_or_else(|| panic!("no row for {port}"))
        };
        let three = |port: &str| {
            let x = row(port);
            [cell(x, "container"), cell(x, "image"), cell(x, "pod")].map(String::from)
        };
        assert_eq!(three("8080"), ["web", "nginx:1.25", ""]);
        assert_eq!(three("9090"), ["side", "bs:1", "default/api"]);
        assert_eq!(
            three("8081"),
            ["web", "nginx:1.25", ""],
            "no holder: the owner"
        );
        assert_eq!(three("18080"), ["podman:686f73746300", "", ""]);
        assert_eq!(three("22"), ["", "", ""]);
        assert_eq!(
            cell(row("7000"), "netns_name"),
            "net:[3] · socat (uid 1001)"
        );
        assert_eq!(cell(row("8080"), "netns_name"), "web");
    }

    #[test]
    fn a_hostile_container_name_is_one_safe_cell() {
        let mut snap = crate::testing::container_host();
        if let Some(c) = snap.sockets[2].holders[0].container.as_mut() {
            let mut c = (**c).clone();
            c.name = Some("=HYPERLINK(\"x\")\x1b[2J".into());
            c.image = Some("+img".into());
            snap.sockets[2].holders[0].container = Some(Arc::new(c));
        }
        let r = rows(&export(&snap));
        let row = r
            .iter()
            .find(|row| cell(row, "local_port") == "8080")
            .expect("row");
        assert_eq!(cell(row, "container"), "'=HYPERLINK(\"x\")\\x1b[2J");
        assert_eq!(cell(row, "image"), "'+img");
    }

    #[test]
    fn cells_use_the_file_format_names() {
        let r = rows(&export(&one_host()));
        let row = &r[1];
        assert_eq!(cell(row, "host"), "h");
        assert_eq!(cell(row, "taken_at"), "2026-11-22T07:00:00Z");
        assert_eq!(cell(row, "netns"), "1");
        assert_eq!(cell(row, "netns_name"), "host");
        assert_eq!(cell(row, "socket_id"), "1-2a");
        assert_eq!(cell(row, "proto"), "tcp");
        assert_eq!(cell(row, "family"), "ipv6");
        assert_eq!(cell(row, "state"), "listen");
        assert_eq!(cell(row, "local_addr"), "::");
        assert_eq!(cell(row, "remote_addr"), "");
        assert_eq!(cell(row, "scope"), "wildcard");
        assert_eq!(cell(row, "address_state"), "any");
        assert_eq!(cell(row, "accept_queue_len"), "3");
        assert_eq!(cell(row, "accept_queue_backlog"), "128");
        assert_eq!(cell(row, "syn_recv"), "2");
        assert_eq!(cell(row, "reuseaddr"), "true");
        assert_eq!(cell(row, "freebind"), "false");
        assert_eq!(cell(row, "defer_accept"), "7");
        assert_eq!(cell(row, "bind_device"), "lo");
        assert_eq!(cell(row, "holder_cmdline"), "web");
    }

    #[test]
    fn unknown_options_are_empty_cells_and_listed() {
        let r = rows(&export(&one_host()));
        assert_eq!(cell(&r[1], "reuseport"), "", "unknown is not false");
        assert_eq!(cell(&r[1], "unknown_options"), "reuseport");

        let mut snap = one_host();
        let o = &mut snap.sockets[0].options;
        o.nonblocking = None;
        o.bind_device = None;
        o.fastopen = None;
        o.reasons.insert(
            OptionName::BindDevice,
            Missing::Unknown("needs root".into()),
        );
        o.reasons.insert(
            OptionName::Fastopen,
            Missing::NotApplicable("not applicable to UDP".into()),
        );
        let r = rows(&export(&snap));
        assert_eq!(cell(&r[1], "nonblocking"), "");
        assert_eq!(cell(&r[1], "fastopen"), "");
        assert_eq!(
            cell(&r[1], "unknown_options"),
            "reuseport;nonblocking;bind_device",
            "not-applicable fastopen is not unknown"
        );
    }

    #[test]
    fn unbound_device_is_not_unknown() {
        let mut snap = one_host();
        snap.sockets[0].options.bind_device = None;
        let r = rows(&export(&snap));
        assert_eq!(cell(&r[1], "bind_device"), "");
        assert_eq!(cell(&r[1], "unknown_options"), "reuseport");
    }

    #[test]
    fn formula_starts_are_defused() {
        for (name, want) in [
            ("=cmd|' /C calc'!A0", "'=cmd|' /C calc'!A0"),
            ("+1", "'+1"),
            ("-x", "'-x"),
            ("@SUM(1)", "'@SUM(1)"),
            ("nginx", "nginx"),
            ("a=b", "a=b"),
        ] {
            let r = rows(&export(&with_holder_name(name)));
            assert_eq!(cell(&r[1], "holder_name"), want, "{name}");
        }
        assert_eq!(defuse_formula("\tx"), "'\tx");
        assert_eq!(defuse_formula("\rx"), "'\rx");
        assert_eq!(defuse_formula(""), "");
    }

    #[test]
    fn tab_and_cr_starts_are_sanitized_before_they_reach_a_cell() {
        for name in ["\t=1+1", "\r=1+1"] {
            let r = rows(&export(&with_holder_name(name)));
            let c = cell(&r[1], "holder_name");
            assert!(c.starts_with("\\x0"), "{c:?}");
            assert!(!c.contains(['\t', '\r']), "{c:?}");
        }
    }

    #[test]
    fn every_text_column_is_defused() {
        let mut snap = one_host();
        snap.host.hostname = "=host".into();
        snap.taken_at = "+t".into();
        snap.netns[0].name = Some("-ns".into());
        let s = &mut snap.sockets[0];
        s.id = SocketId("@id".into());
        s.user = Some("=u".into());
        s.device = Some("+d".into());
        s.options.bind_device = Some("+d".into());
        let h = &mut s.holders[0];
        h.user = Some(Arc::from("@u"));
        h.unit = Some(Arc::from("=unit"));
        h.cmdline = vec!["-c".to_string(), "x".to_string()].into();
        snap.findings.push(Finding {
            kind: "=kind".into(),
            severity: Severity::Info,
            sockets: vec![SocketId("@id".into())],
            summary: String::new(),
            explanation: String::new(),
            problem: None,
        });
        snap.marks.push(Mark {
            socket: SocketId("@id".into()),
            note: "=note".into(),
        });
        let r = rows(&export(&snap));
        for (column, c) in COLUMNS.iter().zip(&r[1]) {
            assert!(
                !c.starts_with(['=', '+', '-', '@', '\t', '\r']),
                "{column}: {c:?}"
            );
        }
        assert_eq!(cell(&r[1], "holder_cmdline"), "'-c x");
        assert_eq!(cell(&r[1], "findings"), "'=kind");
        assert_eq!(cell(&r[1], "mark"), "'=note");
    }

    #[test]
    fn control_and_bidi_characters_are_escaped() {
        let r = rows(&export(&with_holder_name(
            "evil\u{202e}gpj\x1b[2J\nx,\"y\"",
        )));
        assert_eq!(
            cell(&r[1], "holder_name"),
            "evil\\u{202e}gpj\\x1b[2J\\x0ax,\"y\""
        );
        let r = rows(&export(&one_host()));
        assert_eq!(cell(&r[1], "holder_name"), "web\\x1b[31m");
    }

    #[test]
    fn merged_views_name_the_sockets_host() {
        let mut snap = one_host();
        snap.sockets[0].host = Some("db-1".into());
        let r = rows(&export(&snap));
        assert_eq!(cell(&r[1], "host"), "db-1");
    }

    #[test]
    fn findings_and_marks_of_the_socket() {
        let mut snap = one_host();
        let finding = |kind: &str, id: &str| Finding {
            kind: kind.into(),
            severity: Severity::Notice,
            sockets: vec![SocketId(id.into())],
            summary: String::new(),
            explanation: String::new(),
            problem: None,
        };
        snap.findings = vec![
            finding("family_split", "1-2a"),
            finding("device_gap", "1-2a"),
            finding("family_split", "1-2a"),
            finding("listen_race", "other"),
        ];
        snap.marks = vec![Mark {
            socket: SocketId("1-2a".into()),
            note: String::new(),
        }];
        let r = rows(&export(&snap));
        assert_eq!(cell(&r[1], "findings"), "family_split;device_gap");
        assert_eq!(cell(&r[1], "mark"), MARKED_WITHOUT_NOTE);

        snap.marks.push(Mark {
            socket: SocketId("1-2a".into()),
            note: "ask db team".into(),
        });
        let r = rows(&export(&snap));
        assert_eq!(cell(&r[1], "mark"), "marked;ask db team");
    }

    #[test]
    fn demo_fixture_round_trips() {
        let snap: Snapshot =
            serde_json::from_str(include_str!("../../tests/fixtures/demo-snapshot.json"))
                .expect("fixture parses");
        let r = rows(&export(&snap));
        let expected: Vec<(&Socket, &Holder)> = snap
            .sockets
            .iter()
            .flat_map(|s| s.holders.iter().map(move |h| (s, h)))
            .collect();
        assert!(snap.sockets.iter().all(|s| !s.holders.is_empty()));
        assert_eq!(r.len(), 1 + expected.len());
        for (row, (s, h)) in r[1..].iter().zip(expected) {
            assert_eq!(cell(row, "host"), snap.host.hostname);
            assert_eq!(cell(row, "socket_id"), s.id.0);
            assert_eq!(cell(row, "netns"), s.netns.to_string());
            assert_eq!(cell(row, "local_addr"), s.local_addr.to_string());
            assert_eq!(cell(row, "local_port"), s.local_port.to_string());
            assert_eq!(cell(row, "state"), s.state.name());
            assert_eq!(cell(row, "uid"), s.uid.to_string());
            assert_eq!(cell(row, "user"), s.user.as_deref().unwrap_or(""));
            assert_eq!(cell(row, "device"), s.device.as_deref().unwrap_or(""));
            let q = s.accept_queue;
            assert_eq!(cell(row, "accept_queue_len"), opt(q.map(|q| q.len)));
            assert_eq!(cell(row, "accept_queue_backlog"), opt(q.map(|q| q.backlog)));
            assert_eq!(cell(row, "syn_recv"), opt(s.syn_recv));
            assert_eq!(cell(row, "reuseaddr"), opt(s.options.reuseaddr));
            assert_eq!(cell(row, "reuseport"), opt(s.options.reuseport));
            assert_eq!(cell(row, "v6only"), opt(s.options.v6only));
            assert_eq!(cell(row, "nonblocking"), opt(s.options.nonblocking));
            assert_eq!(cell(row, "defer_accept"), opt(s.options.defer_accept));
            assert_eq!(cell(row, "holder_pid"), h.pid.to_string());
            assert_eq!(cell(row, "holder_fd"), h.fd.to_string());
            assert_eq!(cell(row, "holder_name"), text(&h.name));
            assert_eq!(cell(row, "holder_uid"), h.uid.to_string());
            assert_eq!(cell(row, "holder_user"), h.user.as_deref().unwrap_or(""));
            assert_eq!(cell(row, "holder_cmdline"), text(&h.cmdline.join(" ")));
            let kinds: Vec<&str> = snap
                .findings
                .iter()
                .filter(|f| f.sockets.contains(&s.id))
                .map(|f| f.kind.name())
                .fold(Vec::new(), |mut v, k| {
                    if !v.contains(&k) {
                        v.push(k);
                    }
                    v
                });
            assert_eq!(cell(row, "findings"), kinds.join(";"));
        }
    }

    fn utf16_len(s: &str) -> usize {
        s.encode_utf16().count()
    }

    #[test]
    fn a_megabyte_cmdline_is_cut_to_one_spreadsheet_cell() {
        let mut snap = one_host();
        let arg = "x".repeat(1 << 20);
        snap.sockets[0].holders[0].cmdline = vec!["/usr/bin/app".to_string(), arg].into();
        let r = rows(&export(&snap));
        let c = cell(&r[1], "holder_cmdline");
        assert_eq!(utf16_len(c), MAX_CELL_CHARS, "cut to the limit exactly");
        // 13 + 1,048,576 characters, of which 32,767 - 26 are kept beside the marker.
        let kept = MAX_CELL_CHARS - 26;
        assert_eq!(
            c,
            format!(
                "/usr/bin/app {}…[truncated {} chars]",
                "x".repeat(kept - 13),
                13 + (1 << 20) - kept
            )
        );
    }

    #[test]
    fn cells_are_cut_between_characters_as_spreadsheets_count_them() {
        // At the limit: whole, even when its UTF-8 is 4 times longer.
        let fits = "😀".repeat(MAX_CELL_CHARS / 2) + "a";
        assert_eq!(utf16_len(&fits), MAX_CELL_CHARS);
        assert_eq!(fit_cell(fits.clone()), fits);
        assert_eq!(
            fit_cell("a".repeat(MAX_CELL_CHARS)),
            "a".repeat(MAX_CELL_CHARS)
        );
        // Over: cut. Each 😀 is a surrogate pair; the room beside "…[truncated 21 chars]"
        // (32,767 - 21) is even, so with one 1-unit character first a pair straddles it and
        // is left out whole. "é" is 2 bytes but 1 unit.
        let straddling = "a".to_string() + &"😀".repeat(MAX_CELL_CHARS / 2 + 1);
        for over in [
            straddling,
            "😀".repeat(MAX_CELL_CHARS / 2 + 1),
            "é".repeat(MAX_CELL_CHARS + 1),
            "é".repeat(MAX_CELL_CHARS + 100_000),
        ] {
            let total = utf16_len(&over);
            let cut = fit_cell(over.clone());
            assert!(utf16_len(&cut) <= MAX_CELL_CHARS, "{}", utf16_len(&cut));
            let (kept, marker) = cut.split_once('…').expect("marked");
            assert!(over.starts_with(kept), "a prefix, cut between characters");
            assert_eq!(
                format!("…{marker}"),
                truncation_marker(total - utf16_len(kept)),
                "says how many units were cut"
            );
            assert!(
                utf16_len(&cut) >= MAX_CELL_CHARS - 1,
                "no more cut than needed"
            );
        }
    }

    #[test]
    fn a_cut_cell_stays_defused() {
        let mut snap = one_host();
        snap.sockets[0].holders[0].cmdline = vec![format!("=cmd{}", "A".repeat(40_000))].into();
        let r = rows(&export(&snap));
        let c = cell(&r[1], "holder_cmdline");
        assert!(c.starts_with("'=cmdAAA"), "{}", &c[..10]);
        // 40,005 characters with the quote, 32,744 kept: the marker's 4 digits fill the rest.
        assert!(
            c.ends_with("A…[truncated 7261 chars]"),
            "{}",
            &c[c.len() - 30..]
        );
        assert_eq!(utf16_len(c), MAX_CELL_CHARS);
    }

    proptest! {
        /// Whatever a process calls itself, the cell reads back sanitized, defused, and the
        /// row keeps its shape.
        #[test]
        fn any_name_is_one_safe_cell(name in any::<String>()) {
            let r = rows(&export(&with_holder_name(&name)));
            prop_assert_eq!(r.len(), 2);
            prop_assert_eq!(r[1].len(), COLUMNS.len());
            let c = cell(&r[1], "holder_name");
            prop_assert_eq!(c, text(&name));
            prop_assert!(!c.starts_with(['=', '+', '-', '@', '\t', '\r']));
            prop_assert!(!c.chars().any(char::is_control));
        }
    }
}
