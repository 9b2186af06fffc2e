//! Markdown export: a report to paste into a ticket or a postmortem, for colleagues who
//! cannot reach the host. It says when and how the snapshot was taken (and what the run
//! could not see), the findings most severe first with their explanations, the marks, and a
//! table of the listening and bound sockets with their owners.
//!
//! Every string from the snapshot is sanitized ([`clean`]) and then escaped for Markdown, so
//! a process that names itself `x|y` cannot break the table, and one that names itself
//! `<img src=…>` or `[click](http://…)` cannot inject HTML or a link into the ticket.

use crate::analyze::describe;
use crate::model::addr::endpoint;
use crate::model::{Finding, Holder, NetnsId, Severity, Snapshot, Socket, SocketId, State};
use crate::output::findings::{Entry, entries, entry_counts, problem_title};
use crate::output::table::option_badges;
use crate::text::{clean, count};
use std::collections::HashMap;
use std::fmt::Write as _;
use std::io;

/// How many sockets of one finding are listed before the rest are counted: a reuseport
/// group of 64 members should not bury the next finding.
const SOCKETS_LISTED: usize = 20;

const SEVERITIES: [(Severity, &str); 4] = [
    (Severity::Critical, "Critical"),
    (Severity::Warning, "Warning"),
    (Severity::Notice, "Notice"),
    (Severity::Info, "Info"),
];

/// Writes the whole report.
pub fn write(w: &mut dyn io::Write, snap: &Snapshot) -> io::Result<()> {
    w.write_all(render(snap).as_bytes())
}

/// The report as one string: it is built in memory and written at once.
fn render(snap: &Snapshot) -> String {
    let ctx = Context::new(snap);
    let mut out = String::new();
    header(&mut out, &ctx);
    findings(&mut out, &ctx);
    marks(&mut out, &ctx);
    listeners(&mut out, &ctx);
    out
}

/// Lookups built once: sockets by id and namespace names by id.
struct Context<'a> {
    snap: &'a Snapshot,
    sockets: HashMap<&'a SocketId, &'a Socket>,
    netns_names: HashMap<NetnsId, String>,
}

impl<'a> Context<'a> {
    fn new(snap: &'a Snapshot) -> Self {
        Context {
            snap,
            sockets: snap.sockets.iter().map(|s| (&s.id, s)).collect(),
            netns_names: describe::netns_labels(snap),
        }
    }

    /// The namespace's label ([`describe::netns_label`]: its name, its owner container's,
    /// or `net:[ID] · socat (uid 1001)`), as the table shows it.
    fn netns_name(&self, id: NetnsId) -> String {
        self.netns_names
            .get(&id)
            .cloned()
            .unwrap_or_else(|| format!("net:[{id}]"))
    }

    /// `tcp 0.0.0.0:9000 in web held by ingest`, escaped: two sockets on one port differ
    /// by their holders. An id missing from the snapshot is named as such.
    fn socket_words(&self, id: &SocketId) -> String {
        let Some(s) = self.sockets.get(id) else {
            return format!("socket {} (not in this snapshot)", inline(&id.0));
        };
        let mut words = format!("{} in {}", describe::endpoint(s), self.netns_name(s.netns));
        if !s.holders.is_empty() {
            let _ = write!(words, " held by {}", describe::process_names(s));
        }
        inline(&words)
    }
}

fn header(out: &mut String, ctx: &Context) {
    let snap = ctx.snap;
    let p = &snap.privileges;
    let _ = writeln!(out, "# bindscope: {}\n", inline(&snap.host.hostname));
    let who = if p.euid == 0 {
        "root (euid 0)".to_string()
    } else {
        format!("euid {} (not root)", p.euid)
    };
    let _ = writeln!(
        out,
        "Taken at {} on kernel {}, run as {who}.\n",
        inline(&snap.taken_at.to_string()),
        inline(&snap.host.kernel)
    );
    counts_lines(out, snap);
    privilege_lines(out, ctx);
    out.push('\n');
    if snap.warnings.is_empty() {
        out.push_str("No warnings from the scan.\n\n");
    } else {
        out.push_str("Warnings from the scan:\n\n");
        for warning in &snap.warnings {
            let _ = writeln!(out, "- {}", inline(warning));
        }
        out.push('\n');
    }
}

fn counts_lines(out: &mut String, snap: &Snapshot) {
    let listening = snap.sockets.iter().filter(|s| s.is_listener()).count();
    let bound = snap.sockets.iter().filter(|s| is_bound_only(s)).count();
    let other = snap.sockets.len() - listening - bound;
    let _ = write!(
        out,
        "- Sockets: {}, of which {listening} listening and {bound} bound but not listening",
        snap.sockets.len()
    );
    if other > 0 {
        let _ = write!(
            out,
            "; {other} others (connections, requests, TIME_WAIT) are not listed below"
        );
    }
    out.push('\n');
    let _ = writeln!(out, "- Network namespaces: {}", snap.netns.len());
}

/// What the run could see, and what a partial view means for the reader.
fn privilege_lines(out: &mut String, ctx: &Context) {
    let p = &ctx.snap.privileges;
    out.push_str(if p.options_readable {
        "- Socket options: all readable\n"
    } else {
        "- Socket options: not all readable; an option that could not be read is shown with \
         `?` (unknown), never as off\n"
    });
    out.push_str(if p.all_holders_visible {
        "- Holders: all visible\n"
    } else {
        "- Holders: not all visible; some processes' file descriptors could not be read, so a \
         holder list may be incomplete (`+?`) and a socket shown without holders may still be \
         held\n"
    });
    for line in &p.missing {
        let _ = writeln!(out, "  - {}", inline(line));
    }
    for n in ctx.snap.netns.iter() {
        if let Some(error) = &n.error {
            let _ = writeln!(
                out,
                "- Network namespace {} was not entered: {}",
                inline(&ctx.netns_name(n.id)),
                inline(error)
            );
        }
    }
}

fn findings(out: &mut String, ctx: &Context) {
    let all = &ctx.snap.findings;
    out.push_str("## Findings\n\n");
    if all.is_empty() {
        out.push_str("No findings.\n\n");
        return;
    }
    // Facets of one problem on one port are one entry, at the worst facet's severity.
    let entries = entries(all);
    let c = entry_counts(&entries);
    let _ = writeln!(
        out,
        "{}: {}.\n",
        count(entries.len(), "finding", "findings"),
        c.tally()
    );
    for (severity, title) in SEVERITIES {
        let group: Vec<&Entry> = entries
            .iter()
            .filter(|e| e.severity() == severity)
            .collect();
        if group.is_empty() {
            continue;
        }
        let _ = writeln!(out, "### {title} ({})\n", group.len());
        for e in group {
            match e {
                Entry::One(f) => finding(out, ctx, f),
                Entry::Problem { port, facets } => {
                    let _ = writeln!(
                        out,
                        "**problem**: {}\n",
                        inline(&problem_title(ctx.snap, port, facets))
                    );
                    for f in facets {
                        finding(out, ctx, f);
                    }
                }
            }
        }
    }
}

/// Kind and summary, the explanation as a blockquote, the sockets it names.
fn finding(out: &mut String, ctx: &Context, f: &Finding) {
    let _ = writeln!(
        out,
        "**{}**: {}\n",
        inline(f.kind.name()),
        inline(&f.summary)
    );
    let quote = blockquote(&f.explanation);
    if !quote.is_empty() {
        let _ = writeln!(out, "{quote}\n");
    }
    if f.sockets.is_empty() {
        return;
    }
    let mut names: Vec<String> = f
        .sockets
        .iter()
        .take(SOCKETS_LISTED)
        .map(|id| ctx.socket_words(id))
        .collect();
    if f.sockets.len() > SOCKETS_LISTED {
        names.push(format!("{} more", f.sockets.len() - SOCKETS_LISTED));
    }
    let _ = writeln!(out, "Sockets: {}.\n", names.join("; "));
}

/// An explanation as a blockquote, one paragraph per line of the text. Lines that start with
/// `- ` stay list items (the routes of an overlap); everything else is escaped text.
fn blockquote(text: &str) -> String {
    let mut paragraphs = Vec::new();
    for line in text.lines().map(str::trim) {
        if line.is_empty() {
            continue;
        }
        match line.strip_prefix("- ") {
            Some(item) => paragraphs.push(format!("> - {}", inline(item))),
            None => paragraphs.push(format!("> {}", inline(line))),
        }
    }
    // A blank quoted line between paragraphs, so a line after a list item is not read as
    // that item's continuation.
    paragraphs.join("\n>\n")
}

fn marks(out: &mut String, ctx: &Context) {
    if ctx.snap.marks.is_empty() {
        return;
    }
    out.push_str("## Marks\n\n");
    for m in &ctx.snap.marks {
        let note = if m.note.trim().is_empty() {
            "(no note)".to_string()
        } else {
            inline(&m.note)
        };
        let _ = writeln!(out, "- {}: {note}", ctx.socket_words(&m.socket));
    }
    out.push('\n');
}

const TABLE_HEADER: &str = "| proto | state | local | netns | scope | address | queue | SYN_RECV \
     | user | options | holders |\n|---|---|---|---|---|---|---|---|---|---|---|\n";

fn listeners(out: &mut String, ctx: &Context) {
    out.push_str("## Listeners\n\n");
    let rows: Vec<&Socket> = ctx
        .snap
        .sockets
        .iter()
        .filter(|s| s.is_listener() || is_bound_only(s))
        .collect();
    if rows.is_empty() {
        out.push_str("No listening or bound sockets.\n");
        return;
    }
    out.push_str(TABLE_HEADER);
    for s in rows {
        let cells = row(ctx, s);
        let _ = writeln!(out, "| {} |", cells.join(" | "));
    }
    out.push_str(
        "\nqueue: accept queue length/backlog (full when length > backlog). \
         SYN_RECV: handshakes in progress for the listener (`*`: counted for its whole \
         SO_REUSEPORT group). options: the options that are set; `?`: unknown. \
         holders: process\\[pid\\] (user); `+?`: more may exist among processes whose file \
         descriptors could not be read.\n",
    );
}

/// One table row, every cell escaped.
fn row(ctx: &Context, s: &Socket) -> [String; 11] {
    let queue = match s.accept_queue {
        Some(q) => format!("{}/{}", q.len, q.backlog),
        None => "-".into(),
    };
    let syn_recv = match (s.syn_recv, s.syn_recv_shared) {
        (Some(n), true) => format!("{n}\\*"),
        (Some(n), false) => n.to_string(),
        (None, _) => "-".into(),
    };
    [
        s.proto.name().into(),
        s.state_label().into(),
        cell(&endpoint(s.local_addr, s.local_port, s.device.as_deref())),
        cell(&ctx.netns_name(s.netns)),
        s.scope.name().into(),
        s.address_state.name().into(),
        queue,
        syn_recv,
        cell(&describe::user(s.user.as_deref(), s.uid)),
        cell(&option_badges(&s.options, s.proto, s.state)),
        holders_cell(s),
    ]
}

/// `nginx[812] (root), nginx[813] (www-data)`, or why there is no holder.
fn holders_cell(s: &Socket) -> String {
    if s.holders.is_empty() {
        return match (&s.holders_unknown, s.inode) {
            (_, 0) => "none (kernel-held)".into(),
            (Some(_), _) => "unknown (not visible without privileges)".into(),
            (None, _) => "none found".into(),
        };
    }
    let mut parts: Vec<String> = s.holders.iter().map(holder).collect();
    if s.holders_unknown.is_some() {
        parts.push("+?".into());
    }
    parts.join(", ")
}

/// `nginx[812] (www-data)`, and `(www-data, container web)` when it runs in one: a
/// host-network container's process is otherwise indistinguishable from the host's.
fn holder(h: &Holder) -> String {
    let who = match &h.user {
        Some(u) => u.to_string(),
        None => format!("uid {}", h.uid),
    };
    match &h.container {
        Some(c) => cell(&format!(
            "{}[{}] ({who}, container {})",
            h.name,
            h.pid,
            c.label()
        )),
        None => cell(&format!("{}[{}] ({who})", h.name, h.pid)),
    }
}

/// Listeners are listed with bound-only TCP and unconnected UDP sockets: all hold a port.
fn is_bound_only(s: &Socket) -> bool {
    matches!(s.state, State::Close | State::BoundInactive)
}

/// Untrusted text as inline Markdown that may begin a line: sanitized, every character that
/// could start markup backslash-escaped (CommonMark allows escaping any ASCII punctuation),
/// and a start that would make the line a heading, list item, rule or setext underline
/// escaped too.
fn inline(s: &str) -> String {
    escape(s, true)
}

/// Untrusted text as a table cell: a cell cannot open a block, so a lone `-` stays as it is.
fn cell(s: &str) -> String {
    escape(s, false)
}

fn escape(s: &str, line_start: bool) -> String {
    let s = clean(s);
    let mut out = String::with_capacity(s.len() + 8);
    let lead = s.len() - s.trim_start().len();
    out.push_str(&s[..lead]);
    let rest = &s[lead..];
    let marker = block_marker(rest).filter(|_| line_start);
    for (i, c) in rest.char_indices() {
        let markup = matches!(
            c,
            '\\' | '`' | '*' | '_' | '<' | '>' | '[' | ']' | '|' | '~' | '&' | '$'
        );
        if markup || marker == Some(i) {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// Where the character sits that would open a block if the text began a line: `# x`,
/// `- x`, `+ x`, `---`, `===`, `1. x`, `1) x` (CommonMark: a marker followed by a space, or
/// the end, or a run of the same character).
fn block_marker(s: &str) -> Option<usize> {
    let ends_marker =
        |next: Option<char>, c: char| next.is_none_or(|n| n.is_whitespace() || n == c);
    let mut chars = s.chars();
    let first = chars.next()?;
    let second = chars.next();
    if first == '#' || (matches!(first, '-' | '+' | '=') && ends_marker(second, first)) {
        return Some(0);
    }
    let digits = s.len() - s.trim_start_matches(|c: char| c.is_ascii_digit()).len();
    let mut after = s[digits..].chars();
    match (after.next(), after.next()) {
        (Some('.' | ')'), next) if digits > 0 && ends_marker(next, ' ') => Some(digits),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Mark, Severity};
    use crate::testing::{netns, snapshot_of, socket};

    fn one_host() -> Snapshot {
        snapshot_of(vec![socket()], vec![netns(1, Some("host"), None)])
    }

    fn finding(kind: &str, severity: Severity, summary: &str) -> Finding {
        Finding {
            kind: kind.into(),
            severity,
            sockets: vec![SocketId("1-2a".into())],
            summary: summary.into(),
            explanation: format!("why {summary}"),
            problem: None,
        }
    }

    fn table_rows(md: &str) -> Vec<&str> {
        md.lines().filter(|l| l.starts_with('|')).collect()
    }

    /// Cells of a table line, splitting on `|` that is not escaped.
    fn cells(line: &str) -> Vec<String> {
        let mut cells = vec![String::new()];
        let mut escaped = false;
        for c in line.chars() {
            match c {
                '|' if !escaped => cells.push(String::new()),
                _ => cells.last_mut().expect("one cell").push(c),
            }
            escaped = c == '\\' && !escaped;
        }
        cells
    }

    #[test]
    fn escapes_markup_and_line_starts() {
        assert_eq!(inline("nginx"), "nginx");
        assert_eq!(inline("a|b"), "a\\|b");
        assert_eq!(inline("`rm -rf`"), "\\`rm -rf\\`");
        assert_eq!(
            inline("[x](http://evil) <img src=x>"),
            "\\[x\\](http://evil) \\<img src=x\\>"
        );
        assert_eq!(inline("*b* _i_ ~s~ \\"), "\\*b\\* \\_i\\_ \\~s\\~ \\\\");
        assert_eq!(inline("# title"), "\\# title");
        assert_eq!(inline("a # b"), "a # b");
        assert_eq!(inline("- item"), "\\- item");
        assert_eq!(inline("12. item"), "12\\. item");
        assert_eq!(inline("3) item"), "3\\) item");
        assert_eq!(inline("1."), "1\\.");
        assert_eq!(inline("1.5 s"), "1.5 s");
        assert_eq!(inline("6.18"), "6.18");
        assert_eq!(inline("-x"), "-x");
        assert_eq!(inline("---"), "\\---");
        assert_eq!(inline("="), "\\=");
        assert_eq!(inline("+ 1"), "\\+ 1");
        assert_eq!(cell("-"), "-");
        assert_eq!(cell("# a|b"), "# a\\|b");
        assert_eq!(inline("&amp; $x$"), "\\&amp; \\$x\\$");
        assert_eq!(inline("a\x1b[2J\u{202e}b"), "a\\\\x1b\\[2J\\\\u{202e}b");
    }

    #[test]
    fn hostile_process_name_stays_in_its_cell() {
        let mut snap = one_host();
        snap.sockets[0].holders[0].name = "we|b`x`\n| a | b |".into();
        let md = render(&snap);
        let rows = table_rows(&md);
        assert_eq!(rows.len(), 3, "header, rule, one row: {md}");
        let header = cells(rows[0]).len();
        assert_eq!(cells(rows[2]).len(), header, "{}", rows[2]);
        assert!(
            rows[2].contains("we\\|b\\`x\\`\\\\x0a\\| a \\| b \\|\\[42\\] (www-data)"),
            "{}",
            rows[2]
        );
    }

    #[test]
    fn no_raw_html_or_links_from_names() {
        let mut snap = one_host();
        snap.host.hostname = "<script>alert(1)</script>".into();
        snap.sockets[0].holders[0].name = "[ok](http://evil.example)".into();
        snap.findings = vec![finding(
            "x",
            Severity::Info,
            "![img](http://evil.example/x.png)",
        )];
        let md = render(&snap);
        // Raw HTML needs an unescaped `<`: every one here is escaped.
        assert_eq!(md.matches('<').count(), md.matches("\\<").count(), "{md}");
        // A link needs an unescaped `](`: every one here is escaped.
        assert_eq!(md.matches("](").count(), md.matches("\\](").count(), "{md}");
        assert!(md.contains("\\[ok\\](http://evil.example)\\[42\\]"), "{md}");
        assert!(md.contains("# bindscope: \\<script\\>alert(1)\\</script\\>"));
    }

    #[test]
    fn listener_row() {
        let md = render(&one_host());
        let rows = table_rows(&md);
        assert_eq!(
            rows[2],
            "| tcp | listen | \\[::\\]%lo:8080 | host | wildcard | any | 3/128 | 2 | \
             alice (uid 1001) | reuseaddr,reuseport?,v6only,nonblock,defer=7s,dev=lo | \
             web\\\\x1b\\[31m\\[42\\] (www-data) |"
        );
    }

    #[test]
    fn containers_are_named_with_their_processes_and_namespaces() {
        let md = render(&crate::testing::container_host());
        let line = |port: &str| {
            md.lines()
                .find(|l| l.contains(&format!(":{port} |")))
                .unwrap_or_else(|| panic!("no row for {port}:\n{md}"))
                .to_string()
        };
        assert!(
            line("9090").contains("| web |")
                && line("9090").contains("httpd\\[9090\\] (root, container side)"),
            "{}",
            line("9090")
        );
        assert!(
            line("18080").contains("| host |")
                && line("18080").contains("(root, container podman:686f73746300)"),
            "host network: the process says it: {}",
            line("18080")
        );
        assert!(
            line("7000").contains("| net:\\[3\\] · socat (uid 1001) |"),
            "{}",
            line("7000")
        );
    }

    #[test]
    fn holders_and_shared_syn_recv() {
        let mut snap = one_host();
        let s = &mut snap.sockets[0];
        s.syn_recv_shared = true;
        s.holders_unknown = Some("needs root".into());
        s.holders[0].user = None;
        let md = render(&snap);
        let row = table_rows(&md)[2];
        assert!(row.contains("| 2\\* |"), "{row}");
        assert!(row.ends_with("(uid 33), +? |"), "{row}");
        snap.sockets[0].holders.clear();
        let md = render(&snap);
        assert!(md.contains("| unknown (not visible without privileges) |"));
    }

    #[test]
    fn empty_sections_say_so() {
        let md = render(&snapshot_of(vec![], vec![]));
        assert!(md.contains("## Findings\n\nNo findings.\n"), "{md}");
        assert!(md.contains("No warnings from the scan."), "{md}");
        assert!(md.contains("## Listeners\n\nNo listening or bound sockets.\n"));
        assert!(!md.contains("## Marks"), "no marks, no section");
    }

    #[test]
    fn findings_most_severe_first_with_explanation_and_sockets() {
        let mut snap = one_host();
        snap.findings = vec![
            finding("reuseport_group", Severity::Info, "group"),
            finding("accept_queue_full", Severity::Critical, "full"),
            finding("family_split", Severity::Notice, "split"),
        ];
        snap.findings[1].explanation = "Routes:\n  - v4 → a\n  - v6 → b\nDone *now*".into();
        snap.findings[1].sockets.push(SocketId("gone".into()));
        let md = render(&snap);
        let crit = md.find("### Critical (1)").expect("critical");
        let notice = md.find("### Notice (1)").expect("notice");
        let info = md.find("### Info (1)").expect("info");
        assert!(crit < notice && notice < info, "{md}");
        assert!(md.contains("3 findings: 1 critical, 0 warnings, 1 notice, 1 info."));
        assert!(
            md.contains(
                "**accept\\_queue\\_full**: full\n\n\
             > Routes:\n>\n> - v4 → a\n>\n> - v6 → b\n>\n> Done \\*now\\*\n\n\
             Sockets: tcp \\[::\\]%lo:8080 in host held by web\\\\x1b\\[31m; \
             socket gone (not in this snapshot).\n"
            ),
            "{md}"
        );
    }

    #[test]
    fn many_sockets_of_one_finding_are_counted() {
        let mut snap = one_host();
        let mut f = finding("reuseport_group", Severity::Info, "group");
        f.sockets = vec![SocketId("1-2a".into()); 25];
        snap.findings = vec![f];
        let md = render(&snap);
        assert!(md.contains("; 5 more.\n"), "{md}");
    }

    #[test]
    fn marks_and_privileges() {
        let mut snap = one_host();
        snap.marks = vec![
            Mark {
                socket: SocketId("1-2a".into()),
                note: "ask the *db* team".into(),
            },
            Mark {
                socket: SocketId("1-2a".into()),
                note: String::new(),
            },
        ];
        snap.privileges.euid = 1000;
        snap.privileges.options_readable = false;
        snap.privileges.all_holders_visible = false;
        snap.privileges.missing = vec!["run with sudo".into()];
        snap.warnings = vec!["1 process vanished".into()];
        snap.netns
            .push(netns(2, Some("c|1"), Some("needs CAP_SYS_ADMIN")));
        let md = render(&snap);
        assert!(
            md.contains(
                "## Marks\n\n- tcp \\[::\\]%lo:8080 in host held by web\\\\x1b\\[31m: \
             ask the \\*db\\* team\n\
             - tcp \\[::\\]%lo:8080 in host held by web\\\\x1b\\[31m: (no note)\n"
            ),
            "{md}"
        );
        assert!(md.contains("run as euid 1000 (not root)"), "{md}");
        assert!(md.contains("- Socket options: not all readable"), "{md}");
        assert!(md.contains("- Holders: not all visible"), "{md}");
        assert!(md.contains("  - run with sudo\n"), "{md}");
        assert!(md.contains("- Network namespace c\\|1 was not entered: needs CAP\\_SYS\\_ADMIN"));
        assert!(
            md.contains("Warnings from the scan:\n\n- 1 process vanished\n"),
            "{md}"
        );
    }

    proptest::proptest! {
        /// Whatever a process calls itself, the row keeps its cells and no markup opens.
        #[test]
        fn any_name_stays_one_cell(name in proptest::prelude::any::<String>()) {
            let mut snap = one_host();
            snap.sockets[0].holders[0].name = name.as_str().into();
            let md = render(&snap);
            let rows = table_rows(&md);
            proptest::prop_assert_eq!(rows.len(), 3);
            proptest::prop_assert_eq!(cells(rows[2]).len(), cells(rows[0]).len());
            proptest::prop_assert_eq!(md.matches('<').count(), md.matches("\\<").count());
            proptest::prop_assert_eq!(md.matches('[').count(), md.matches("\\[").count());
        }
    }

    #[test]
    fn demo_fixture_has_every_listener_and_finding() {
        let snap: Snapshot =
            serde_json::from_str(include_str!("../../tests/fixtures/demo-snapshot.json"))
                .expect("fixture parses");
        let md = render(&snap);
        let ctx = Context::new(&snap);
        for s in snap
            .sockets
            .iter()
            .filter(|s| s.is_listener() || is_bound_only(s))
        {
            let local = cell(&endpoint(s.local_addr, s.local_port, s.device.as_deref()));
            let ns = cell(&ctx.netns_name(s.netns));
            let proto = s.proto.name();
            let lead = format!("| {proto} | {} | {local} | {ns} |", s.state_label());
            assert!(md.contains(&lead), "{lead} in {md}");
        }
        for f in &snap.findings {
            let line = format!("**{}**: {}\n", inline(f.kind.name()), inline(&f.summary));
            assert!(md.contains(&line), "{line}");
        }
        let rows = table_rows(&md);
        let width = cells(rows[0]).len();
        assert!(rows.iter().all(|r| cells(r).len() == width), "{md}");
    }
}
