//! Prometheus text format (exposition format 0.0.4), for node_exporter's textfile collector:
//! a cron job or timer writes `bindscope snapshot --format prom` into the collector's
//! directory, and the fleet's alerting sees full accept queues, SYN backlogs, listen
//! overflows and findings without anyone logging in.
//!
//! Names follow the Prometheus conventions (`bindscope_` prefix, snake_case, base units,
//! `_total` only on counters). Series are unique and their label sets bounded: listeners
//! sharing an address and port through SO_REUSEPORT are summed into one series, and no
//! socket id, cookie, pid or inode is a label, since those change on every restart and
//! would churn series. Every label value is sanitized ([`clean`]) and then escaped.

use crate::analyze::describe;
use crate::model::{
    Container, Family, FindingKind, NetnsId, Severity, Snapshot, Socket, TcpExtCounters,
};
use crate::output::containers;
use crate::text::clean;
use std::collections::{BTreeMap, HashMap};
use std::fmt::{Display, Write as _};
use std::io;

const SEVERITIES: [Severity; 4] = [
    Severity::Critical,
    Severity::Warning,
    Severity::Notice,
    Severity::Info,
];

/// Writes every metric family, each with its `# HELP` and `# TYPE` lines.
pub fn write(w: &mut dyn io::Write, snap: &Snapshot) -> io::Result<()> {
    w.write_all(render(snap).as_bytes())
}

fn render(snap: &Snapshot) -> String {
    let ns = netns_labels(snap);
    let mut out = String::new();
    snapshot_metrics(&mut out, snap);
    for family in socket_families(snap, &ns)
        .into_iter()
        .chain(listener_families(snap, &ns))
        .chain([findings_family(snap)])
        .chain(tcpext_families(snap, &ns))
    {
        family.render(&mut out);
    }
    out
}

#[derive(Clone, Copy)]
enum Kind {
    Gauge,
    Counter,
}

/// One metric family: its samples keyed by their label values (already sanitized), in the
/// order of `labels`. Keying by the values makes every series unique by construction.
struct MetricFamily {
    name: &'static str,
    help: &'static str,
    kind: Kind,
    labels: Vec<&'static str>,
    samples: BTreeMap<Vec<String>, u64>,
}

impl MetricFamily {
    fn new(name: &'static str, help: &'static str, kind: Kind, labels: &[&'static str]) -> Self {
        MetricFamily {
            name,
            help,
            kind,
            labels: labels.to_vec(),
            samples: BTreeMap::new(),
        }
    }

    /// Adds `value` to the series of these label values (a sum when it exists already).
    fn add(&mut self, values: Vec<String>, value: u64) {
        let v = self.samples.entry(values).or_insert(0);
        *v = v.saturating_add(value);
    }

    /// Nothing for a family without samples: an empty family says nothing a reader needs.
    fn render(&self, out: &mut String) {
        if self.samples.is_empty() {
            return;
        }
        header(out, self.name, self.help, self.kind);
        for (values, v) in &self.samples {
            let _ = writeln!(out, "{}{} {v}", self.name, labels(&self.labels, values));
        }
    }
}

fn header(out: &mut String, name: &str, help: &str, kind: Kind) {
    let kind = match kind {
        Kind::Gauge => "gauge",
        Kind::Counter => "counter",
    };
    let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} {kind}");
}

/// `{a="x",b="y"}`, or nothing without labels.
fn labels(names: &[&str], values: &[String]) -> String {
    if names.is_empty() {
        return String::new();
    }
    let pairs: Vec<String> = names
        .iter()
        .zip(values)
        .map(|(n, v)| format!("{n}=\"{}\"", escape(v)))
        .collect();
    format!("{{{}}}", pairs.join(","))
}

/// Label value escaping of the exposition format: backslash, double quote and newline.
fn escape(v: &str) -> String {
    let mut out = String::with_capacity(v.len());
    for c in v.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\n' => out.push_str("\\n"),
            c => out.push(c),
        }
    }
    out
}

/// A family of one unlabelled gauge.
fn scalar(out: &mut String, name: &str, help: &str, value: impl Display) {
    header(out, name, help, Kind::Gauge);
    let _ = writeln!(out, "{name} {value}");
}

/// When the snapshot was taken, how the scan went, and what it could not see: an alert on
/// a stale file or on a collector that lost its privileges needs these.
fn snapshot_metrics(out: &mut String, snap: &Snapshot) {
    if let Some(t) = snap.taken_at.time().map(|t| t.unix_seconds()) {
        scalar(
            out,
            "bindscope_snapshot_timestamp_seconds",
            "When the snapshot was taken, in seconds since the Unix epoch.",
            t,
        );
    }
    scalar(
        out,
        "bindscope_scan_duration_seconds",
        "How long the scan that made the snapshot took.",
        snap.scan.duration_ms as f64 / 1000.0,
    );
    scalar(
        out,
        "bindscope_scan_processes_unreadable",
        "Processes whose file descriptors could not be read: sockets they hold lack that holder.",
        snap.scan.processes_unreadable,
    );
    let p = &snap.privileges;
    scalar(
        out,
        "bindscope_options_readable",
        "1 when every socket option probe could read its socket; 0 when some options are unknown.",
        u8::from(p.options_readable),
    );
    scalar(
        out,
        "bindscope_holders_visible",
        "1 when every process's file descriptors could be read, so holder lists are complete.",
        u8::from(p.all_holders_visible),
    );
    scalar(
        out,
        "bindscope_warnings",
        "Warnings the scan reported (see the snapshot file).",
        snap.warnings.len(),
    );
    scalar(
        out,
        "bindscope_network_namespaces",
        "Network namespaces in the snapshot.",
        snap.netns.len(),
    );
    scalar(
        out,
        "bindscope_network_namespaces_not_entered",
        "Network namespaces that could not be entered: their sockets and counters are missing.",
        snap.netns.iter().filter(|n| n.error.is_some()).count(),
    );
}

/// The label of each namespace: [`describe::netns_label`]'s, as every output names it
/// (`net:[ID] · socat (uid 1001)` when nothing names it). Two namespaces with one name (a
/// unit and a container, say) get the id appended, so their series stay apart.
fn netns_labels(snap: &Snapshot) -> HashMap<NetnsId, String> {
    let mut labels = describe::netns_labels(snap);
    let mut uses: HashMap<String, usize> = HashMap::new();
    for n in &snap.netns {
        if let Some(l) = labels.get(&n.id) {
            *uses.entry(l.clone()).or_default() += 1;
        }
    }
    for n in &snap.netns {
        if let Some(l) = labels.get_mut(&n.id)
            && uses.get(l.as_str()).copied().unwrap_or(0) > 1
        {
            l.push_str(&format!(" net:[{}]", n.id));
        }
    }
    labels
}

/// Labels shared by the per-socket families, and their values for one socket. A view merged
/// from several hosts' files adds `host` first, so hosts are not summed together.
struct SocketLabels<'a> {
    merged: bool,
    netns: &'a HashMap<NetnsId, String>,
}

impl SocketLabels<'_> {
    fn names(&self, rest: &[&'static str]) -> Vec<&'static str> {
        let host: &[&'static str] = if self.merged { &["host"] } else { &[] };
        host.iter().chain(&["netns"]).chain(rest).copied().collect()
    }

    fn values(&self, s: &Socket, rest: Vec<String>) -> Vec<String> {
        let host = self
            .merged
            .then(|| clean(s.host.as_deref().unwrap_or("")).into_owned());
        let netns = self
            .netns
            .get(&s.netns)
            .cloned()
            .unwrap_or_else(|| format!("net:[{}]", s.netns));
        host.into_iter().chain([netns]).chain(rest).collect()
    }
}

fn socket_labels<'a>(snap: &Snapshot, netns: &'a HashMap<NetnsId, String>) -> SocketLabels<'a> {
    SocketLabels {
        merged: snap.sockets.iter().any(|s| s.host.is_some()),
        netns,
    }
}

/// `bindscope_sockets{netns,proto,state}`: how many sockets of each kind, per namespace.
fn socket_families(snap: &Snapshot, ns: &HashMap<NetnsId, String>) -> Vec<MetricFamily> {
    let l = socket_labels(snap, ns);
    let mut f = MetricFamily::new(
        "bindscope_sockets",
        "Sockets in the snapshot by namespace, protocol and state (close: bound, not listening or connected).",
        Kind::Gauge,
        &l.names(&["proto", "state"]),
    );
    for s in &snap.sockets {
        let rest = vec![s.proto.name().into(), s.state.name().into()];
        f.add(l.values(s, rest), 1);
    }
    vec![f]
}

/// The listeners sharing one series: the members of a SO_REUSEPORT group on one address and
/// port, or a single socket. A sum is `None` once a member does not know its value: a
/// partial sum would read as a smaller queue than there is.
struct Group {
    sockets: u64,
    len: Option<u64>,
    backlog: Option<u64>,
    /// SYN_RECV counted per member.
    syn_own: Option<u64>,
    /// SYN_RECV counted for the whole group (`syn_recv_shared`): each member reports the
    /// group's total, so it is taken once, not summed.
    syn_shared: u64,
}

impl Group {
    fn new() -> Self {
        Group {
            sockets: 0,
            len: Some(0),
            backlog: Some(0),
            syn_own: Some(0),
            syn_shared: 0,
        }
    }

    fn add(&mut self, s: &Socket) {
        self.sockets += 1;
        let q = s.accept_queue;
        self.len = self.len.zip(q).map(|(a, q)| a + u64::from(q.len));
        self.backlog = self.backlog.zip(q).map(|(a, q)| a + u64::from(q.backlog));
        match (s.syn_recv, s.syn_recv_shared) {
            (Some(n), true) => self.syn_shared = self.syn_shared.max(u64::from(n)),
            (Some(n), false) => self.syn_own = self.syn_own.map(|a| a + u64::from(n)),
            (None, _) => self.syn_own = None,
        }
    }

    fn syn_recv(&self) -> Option<u64> {
        self.syn_own.map(|own| own + self.syn_shared)
    }
}

const LISTENER_LABELS: [&str; 6] = ["proto", "family", "address", "port", "device", "user"];

/// The longest `container` or `pod` label value: runtimes allow long names, and a label
/// value that size would bloat every sample of the series.
const CONTAINER_LABEL_MAX: usize = 128;

/// The `container` and `pod` labels of the listener series, present only in a snapshot
/// that has containers (pods): a host without them keeps its series as they were. A
/// listener outside any container gets `""`, which Prometheus reads as no label. The value
/// is the container's label (its name, else `runtime:short-id`), the same for every
/// restart of a named container, and one series per container: bounded by the host's
/// containers, never by its sockets.
struct ContainerLabels<'a> {
    owners: HashMap<NetnsId, &'a Container>,
    container: bool,
    pod: bool,
}

impl<'a> ContainerLabels<'a> {
    fn new(snap: &'a Snapshot) -> Self {
        let owners = containers::owners(snap);
        let all = || {
            snap.netns
                .iter()
                .flat_map(|n| n.container.iter().chain(&n.containers))
                .chain(
                    snap.sockets
                        .iter()
                        .flat_map(|s| s.holders.iter().filter_map(|h| h.container.as_deref())),
                )
        };
        ContainerLabels {
            container: all().next().is_some(),
            pod: all().any(|c| c.pod.is_some()),
            owners,
        }
    }

    fn names(&self) -> Vec<&'static str> {
        let mut out = Vec::new();
        if self.container {
            out.push("container");
        }
        if self.pod {
            out.push("pod");
        }
        out
    }

    fn values(&self, s: &Socket) -> Vec<String> {
        let list = containers::of_socket(s, self.owners.get(&s.netns).copied());
        let mut out = Vec::new();
        if self.container {
            out.push(bounded(containers::cell(&list)));
        }
        if self.pod {
            let pod = list
                .first()
                .and_then(|c| c.pod.as_ref())
                .map(|p| clean(&p.label()).into_owned())
                .unwrap_or_default();
            out.push(bounded(pod));
        }
        out
    }
}

/// `v` cut to [`CONTAINER_LABEL_MAX`] characters, `…` marking the cut.
fn bounded(v: String) -> String {
    if v.chars().count() <= CONTAINER_LABEL_MAX {
        return v;
    }
    let mut out: String = v.chars().take(CONTAINER_LABEL_MAX - 1).collect();
    out.push('…');
    out
}

/// The per-listener gauges, one series per (namespace, address, port, device, user, and
/// container and pod when the snapshot has them).
fn listener_families(snap: &Snapshot, ns: &HashMap<NetnsId, String>) -> Vec<MetricFamily> {
    let l = socket_labels(snap, ns);
    let c = ContainerLabels::new(snap);
    let mut groups: BTreeMap<Vec<String>, Group> = BTreeMap::new();
    for s in snap.sockets.iter().filter(|s| s.is_listener()) {
        let mut rest = listener_values(s);
        rest.extend(c.values(s));
        let key = l.values(s, rest);
        groups.entry(key).or_insert_with(Group::new).add(s);
    }
    let mut rest: Vec<&'static str> = LISTENER_LABELS.to_vec();
    rest.extend(c.names());
    let names = l.names(&rest);
    let mut sockets = MetricFamily::new(
        "bindscope_listener_sockets",
        "TCP listening sockets the listener series covers (more than 1: a SO_REUSEPORT group, summed).",
        Kind::Gauge,
        &names,
    );
    let mut len = MetricFamily::new(
        "bindscope_listener_accept_queue_length",
        "Connections established and waiting for accept() (sk_ack_backlog).",
        Kind::Gauge,
        &names,
    );
    let mut backlog = MetricFamily::new(
        "bindscope_listener_accept_queue_backlog",
        "Accept queue limit: min(listen() backlog, net.core.somaxconn); full when length exceeds it.",
        Kind::Gauge,
        &names,
    );
    let mut syn = MetricFamily::new(
        "bindscope_listener_syn_recv",
        "Handshakes in progress (SYN_RECV request sockets) for the listener.",
        Kind::Gauge,
        &names,
    );
    for (key, g) in groups {
        let emit = |f: &mut MetricFamily, v: Option<u64>| {
            if let Some(v) = v {
                f.add(key.clone(), v);
            }
        };
        emit(&mut len, g.len);
        emit(&mut backlog, g.backlog);
        emit(&mut syn, g.syn_recv());
        sockets.add(key, g.sockets);
    }
    vec![sockets, len, backlog, syn]
}

/// `proto, family, address, port, device, user`: what identifies a listener across restarts.
fn listener_values(s: &Socket) -> Vec<String> {
    let family = match s.family {
        Family::Ipv4 => "ipv4",
        Family::Ipv6 => "ipv6",
    };
    let user = match &s.user {
        Some(u) => clean(u).into_owned(),
        None => s.uid.to_string(),
    };
    vec![
        s.proto.name().into(),
        family.into(),
        s.local_addr.to_string(),
        s.local_port.to_string(),
        clean(s.device.as_deref().unwrap_or("")).into_owned(),
        user,
    ]
}

/// `bindscope_findings{kind,severity}`: every known kind at every severity, 0 when absent,
/// so `bindscope_findings{kind="accept_queue_full"} > 0` works without `absent()`; kinds
/// this build does not know (a newer file) are listed as they come.
fn findings_family(snap: &Snapshot) -> MetricFamily {
    let mut f = MetricFamily::new(
        "bindscope_findings",
        "Findings of each kind and severity in the snapshot (bindscope findings explains them).",
        Kind::Gauge,
        &["kind", "severity"],
    );
    for kind in FindingKind::ALL {
        for severity in SEVERITIES {
            f.add(vec![kind.name().into(), severity.name().into()], 0);
        }
    }
    for finding in &snap.findings {
        let key = vec![
            clean(finding.kind.name()).into_owned(),
            finding.severity.name().into(),
        ];
        f.add(key, 1);
    }
    f
}

type CounterField = fn(&TcpExtCounters) -> Option<u64>;

/// The TcpExt counters of `/proc/net/netstat` that say a listener dropped work.
const TCPEXT: [(&str, &str, CounterField); 5] = [
    (
        "bindscope_tcpext_listen_overflows_total",
        "TcpExt ListenOverflows: connection attempts dropped because an accept queue was full.",
        |c| c.listen_overflows,
    ),
    (
        "bindscope_tcpext_listen_drops_total",
        "TcpExt ListenDrops: connection attempts dropped by listeners, for any reason (overflows included).",
        |c| c.listen_drops,
    ),
    (
        "bindscope_tcpext_req_q_full_drop_total",
        "TcpExt TCPReqQFullDrop: SYNs dropped because the SYN queue was full and syncookies were off.",
        |c| c.req_q_full_drop,
    ),
    (
        "bindscope_tcpext_req_q_full_do_cookies_total",
        "TcpExt TCPReqQFullDoCookies: SYN cookies sent because the SYN queue was full.",
        |c| c.req_q_full_do_cookies,
    ),
    (
        "bindscope_tcpext_defer_accept_drop_total",
        "TcpExt TCPDeferAcceptDrop: bare ACKs dropped by TCP_DEFER_ACCEPT listeners.",
        |c| c.defer_accept_drop,
    ),
];

/// TcpExt counters per namespace; a counter the kernel did not report is left out.
fn tcpext_families(snap: &Snapshot, ns: &HashMap<NetnsId, String>) -> Vec<MetricFamily> {
    TCPEXT
        .iter()
        .map(|(name, help, field)| {
            let mut f = MetricFamily::new(name, help, Kind::Counter, &["netns"]);
            for n in &snap.netns {
                if let (Some(v), Some(label)) = (field(&n.counters), ns.get(&n.id)) {
                    f.add(vec![label.clone()], v);
                }
            }
            f
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{AcceptQueue, Finding, SocketId, State};
    use crate::testing::{netns, snapshot_of, socket};
    use proptest::prelude::*;

    /// One parsed sample: name, labels (unescaped), value.
    #[derive(Debug, PartialEq)]
    struct Sample {
        name: String,
        labels: BTreeMap<String, String>,
        value: f64,
    }

    /// A small parser of the text format, strict enough to catch broken escaping: it fails
    /// on anything it does not understand.
    fn parse(text: &str) -> Vec<Sample> {
        text.lines()
            .filter(|l| !l.starts_with('#'))
            .map(|l| parse_line(l).unwrap_or_else(|| panic!("unparsable line {l:?}")))
            .collect()
    }

    fn parse_line(line: &str) -> Option<Sample> {
        let name_end = line.find(['{', ' '])?;
        let name = line[..name_end].to_string();
        let mut labels = BTreeMap::new();
        let mut rest = &line[name_end..];
        if let Some(body) = rest.strip_prefix('{') {
            let mut chars = body.char_indices();
            let mut key = String::new();
            loop {
                let (_, c) = chars.next()?;
                match c {
                    '}' => break,
                    ',' => {}
                    '=' => {
                        if chars.next()?.1 != '"' {
                            return None;
                        }
                        let mut value = String::new();
                        loop {
                            match chars.next()?.1 {
                                '"' => break,
                                '\\' => match chars.next()?.1 {
                                    '\\' => value.push('\\'),
                                    '"' => value.push('"'),
                                    'n' => value.push('\n'),
                                    _ => return None,
                                },
                                c => value.push(c),
                            }
                        }
                        labels.insert(std::mem::take(&mut key), value);
                    }
                    c => key.push(c),
                }
            }
            let consumed = chars.next().map(|(i, _)| i).unwrap_or(body.len());
            rest = &body[consumed..];
            rest = rest.strip_prefix('}').unwrap_or(rest);
        }
        let value = rest.strip_prefix(' ')?.parse().ok()?;
        Some(Sample {
            name,
            labels,
            value,
        })
    }

    fn export(snap: &Snapshot) -> String {
        let mut out = Vec::new();
        write(&mut out, snap).expect("write to a Vec");
        String::from_utf8(out).expect("utf-8")
    }

    fn find<'a>(samples: &'a [Sample], name: &str) -> Vec<&'a Sample> {
        samples.iter().filter(|s| s.name == name).collect()
    }

    fn one_host() -> Snapshot {
        snapshot_of(vec![socket()], vec![netns(1, Some("host"), None)])
    }

    #[test]
    fn listener_series_and_labels() {
        let text = export(&one_host());
        let samples = parse(&text);
        let len = find(&samples, "bindscope_listener_accept_queue_length");
        assert_eq!(len.len(), 1, "{text}");
        let want: BTreeMap<String, String> = [
            ("netns", "host"),
            ("proto", "tcp"),
            ("family", "ipv6"),
            ("address", "::"),
            ("port", "8080"),
            ("device", "lo"),
            ("user", "alice"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        assert_eq!(len[0].labels, want);
        assert_eq!(len[0].value, 3.0);
        let backlog = find(&samples, "bindscope_listener_accept_queue_backlog");
        assert_eq!(backlog[0].value, 128.0);
        assert_eq!(find(&samples, "bindscope_listener_syn_recv")[0].value, 2.0);
        assert_eq!(find(&samples, "bindscope_listener_sockets")[0].value, 1.0);
        assert!(text.contains("# TYPE bindscope_listener_syn_recv gauge\n"));
        assert!(!text.contains("1-2a"), "no socket ids in labels: {text}");
    }

    #[test]
    fn reuseport_members_are_one_series() {
        let mut a = socket();
        a.options.reuseport = Some(true);
        let mut b = a.clone();
        b.id = SocketId("1-2b".into());
        b.accept_queue = Some(AcceptQueue {
            len: 10,
            backlog: 128,
        });
        b.syn_recv = Some(5);
        let mut other_port = a.clone();
        other_port.id = SocketId("1-2c".into());
        other_port.local_port = 8081;
        let snap = snapshot_of(vec![a, b, other_port], vec![netns(1, Some("host"), None)]);
        let samples = parse(&export(&snap));
        let on_8080 = |name: &str| -> f64 {
            let found: Vec<&Sample> = find(&samples, name)
                .into_iter()
                .filter(|s| s.labels["port"] == "8080")
                .collect();
            assert_eq!(found.len(), 1, "{name}: one series");
            found[0].value
        };
        assert_eq!(on_8080("bindscope_listener_sockets"), 2.0);
        assert_eq!(on_8080("bindscope_listener_accept_queue_length"), 13.0);
        assert_eq!(on_8080("bindscope_listener_accept_queue_backlog"), 256.0);
        assert_eq!(on_8080("bindscope_listener_syn_recv"), 7.0);
        assert_eq!(find(&samples, "bindscope_listener_sockets").len(), 2);
    }

    #[test]
    fn shared_syn_recv_is_counted_once_and_unknown_is_left_out() {
        let mut a = socket();
        a.syn_recv = Some(9);
        a.syn_recv_shared = true;
        let mut b = a.clone();
        b.id = SocketId("1-2b".into());
        let mut unknown = socket();
        unknown.id = SocketId("1-2c".into());
        unknown.local_port = 9000;
        unknown.syn_recv = None;
        unknown.accept_queue = None;
        let snap = snapshot_of(vec![a, b, unknown], vec![netns(1, Some("host"), None)]);
        let samples = parse(&export(&snap));
        let syn = find(&samples, "bindscope_listener_syn_recv");
        assert_eq!(syn.len(), 1, "no series for the unknown one");
        assert_eq!(syn[0].value, 9.0, "group total taken once");
        assert_eq!(
            find(&samples, "bindscope_listener_accept_queue_length").len(),
            1
        );
        assert_eq!(find(&samples, "bindscope_listener_sockets").len(), 2);
    }

    #[test]
    fn label_values_are_cleaned_then_escaped() {
        let mut s = socket();
        s.user = Some("a\"b\\c\nd\x1b[31m\u{202e}".into());
        let snap = snapshot_of(vec![s], vec![netns(1, Some("ns\"\\"), None)]);
        let text = export(&snap);
        assert!(
            text.contains(r#"user="a\"b\\c\\x0ad\\x1b[31m\\u{202e}""#),
            "{text}"
        );
        assert!(text.contains(r#"netns="ns\"\\""#), "{text}");
        let samples = parse(&text);
        let len = find(&samples, "bindscope_listener_accept_queue_length");
        assert_eq!(len[0].labels["user"], "a\"b\\c\\x0ad\\x1b[31m\\u{202e}");
        assert_eq!(len[0].labels["netns"], "ns\"\\");
        assert_eq!(escape("x\ny"), "x\\ny", "newline escape kept for safety");
    }

    #[test]
    fn every_known_finding_kind_has_a_series() {
        let mut snap = one_host();
        let finding = |kind: &str, severity| Finding {
            kind: kind.into(),
            severity,
            sockets: vec![],
            summary: String::new(),
            explanation: String::new(),
            problem: None,
        };
        snap.findings = vec![
            finding("accept_queue_full", Severity::Critical),
            finding("accept_queue_full", Severity::Critical),
            finding("from_the_future\"", Severity::Info),
        ];
        let samples = parse(&export(&snap));
        let f = find(&samples, "bindscope_findings");
        assert_eq!(f.len(), FindingKind::ALL.len() * 4 + 1);
        let value = |kind: &str, sev: &str| {
            f.iter()
                .find(|s| s.labels["kind"] == kind && s.labels["severity"] == sev)
                .map(|s| s.value)
        };
        assert_eq!(value("accept_queue_full", "critical"), Some(2.0));
        assert_eq!(value("accept_queue_full", "warning"), Some(0.0));
        assert_eq!(value("holder_unknown", "info"), Some(0.0));
        assert_eq!(value("from_the_future\"", "info"), Some(1.0));
    }

    /// The zero series are only as good as `FindingKind::ALL`: it must list every kind the README's
    /// findings table (product.md's table, as shipped) documents, in that order.
    #[test]
    fn known_kinds_match_the_readme_table() {
        let readme = include_str!("../../README.md");
        let table: Vec<&str> = readme
            .lines()
            .skip_while(|l| !l.starts_with("| kind | when |"))
            .skip(2)
            .take_while(|l| l.starts_with("| `"))
            .filter_map(|l| l.split('`').nth(1))
            .collect();
        let names: Vec<&str> = FindingKind::ALL.iter().map(FindingKind::name).collect();
        assert_eq!(table, names);
    }

    #[test]
    fn tcpext_counters_per_namespace_and_unknown_left_out() {
        let mut snap = one_host();
        snap.netns[0].counters.listen_overflows = Some(7);
        snap.netns[0].counters.defer_accept_drop = Some(0);
        snap.netns.push(netns(2, None, Some("not entered")));
        let text = export(&snap);
        assert!(text.contains(
            "# TYPE bindscope_tcpext_listen_overflows_total counter\n\
             bindscope_tcpext_listen_overflows_total{netns=\"host\"} 7\n"
        ));
        assert!(text.contains("bindscope_tcpext_defer_accept_drop_total{netns=\"host\"} 0\n"));
        assert!(
            !text.contains("listen_drops"),
            "unknown counters are not emitted"
        );
        assert!(text.contains("bindscope_network_namespaces_not_entered 1\n"));
    }

    #[test]
    fn namespaces_sharing_a_name_stay_apart() {
        let mut other = socket();
        other.id = SocketId("2-2a".into());
        other.netns = NetnsId(2);
        let snap = snapshot_of(
            vec![socket(), other],
            vec![netns(1, Some("web"), None), netns(2, Some("web"), None)],
        );
        let samples = parse(&export(&snap));
        let sockets = find(&samples, "bindscope_listener_sockets");
        let names: Vec<&str> = sockets.iter().map(|s| s.labels["netns"].as_str()).collect();
        assert_eq!(names, ["web net:[1]", "web net:[2]"]);
    }

    #[test]
    fn merged_views_label_the_host() {
        let mut a = socket();
        a.host = Some("db-1".into());
        let mut b = socket();
        b.host = Some("db-2".into());
        let snap = snapshot_of(vec![a, b], vec![netns(1, Some("host"), None)]);
        let samples = parse(&export(&snap));
        let hosts: Vec<&str> = find(&samples, "bindscope_sockets")
            .iter()
            .map(|s| s.labels["host"].as_str())
            .collect();
        assert_eq!(hosts, ["db-1", "db-2"]);
    }

    #[test]
    fn socket_counts_and_snapshot_metrics() {
        let mut bound = socket();
        bound.id = SocketId("1-2b".into());
        bound.state = State::Close;
        let mut snap = snapshot_of(vec![socket(), bound], vec![netns(1, Some("host"), None)]);
        snap.scan.duration_ms = 1500;
        let text = export(&snap);
        assert!(
            text.contains(
                "bindscope_sockets{netns=\"host\",proto=\"tcp\",state=\"close\"} 1\n\
             bindscope_sockets{netns=\"host\",proto=\"tcp\",state=\"listen\"} 1\n"
            ),
            "{text}"
        );
        assert!(
            text.contains("bindscope_snapshot_timestamp_seconds 1795330800\n"),
            "{text}"
        );
        assert!(
            text.contains("bindscope_scan_duration_seconds 1.5\n"),
            "{text}"
        );
        snap.taken_at = "2026-11-22T07:00:00.250Z".into();
        assert!(
            export(&snap).contains("bindscope_snapshot_timestamp_seconds 1795330800.25\n"),
            "the fraction is kept"
        );
        // Not a time of the file format (the loader warned): no timestamp is made up, even
        // from a text a lenient reading would take.
        for text in ["yesterday", "2026-11-22 07:00:00", ""] {
            snap.taken_at = text.into();
            assert!(!export(&snap).contains("timestamp"), "{text:?} is left out");
        }
    }

    #[test]
    fn every_sample_has_help_and_type_and_is_unique() {
        let snap: Snapshot =
            serde_json::from_str(include_str!("../../tests/fixtures/demo-snapshot.json"))
                .expect("fixture parses");
        let text = export(&snap);
        let samples = parse(&text);
        let mut seen = std::collections::BTreeSet::new();
        for s in &samples {
            assert!(text.contains(&format!("# HELP {} ", s.name)), "{}", s.name);
            assert!(text.contains(&format!("# TYPE {} ", s.name)), "{}", s.name);
            assert!(seen.insert((&s.name, &s.labels)), "duplicate {s:?}");
        }
    }

    #[test]
    fn demo_fixture_queues_round_trip() {
        let snap: Snapshot =
            serde_json::from_str(include_str!("../../tests/fixtures/demo-snapshot.json"))
                .expect("fixture parses");
        let ns = netns_labels(&snap);
        let samples = parse(&export(&snap));
        let listeners: Vec<&Socket> = snap.sockets.iter().filter(|s| s.is_listener()).collect();
        assert!(!listeners.is_empty());
        for s in listeners {
            let want = |name: &str| -> Vec<&Sample> {
                find(&samples, name)
                    .into_iter()
                    .filter(|x| {
                        x.labels["netns"] == ns[&s.netns]
                            && x.labels["address"] == s.local_addr.to_string()
                            && x.labels["port"] == s.local_port.to_string()
                            && x.labels["device"] == s.device.clone().unwrap_or_default()
                    })
                    .collect()
            };
            let q = s.accept_queue.expect("listeners have queues");
            let len = want("bindscope_listener_accept_queue_length");
            assert_eq!(len.len(), 1, "{:?}", s.id);
            assert_eq!(len[0].value, f64::from(q.len), "{:?}", s.id);
            let backlog = want("bindscope_listener_accept_queue_backlog");
            assert_eq!(backlog[0].value, f64::from(q.backlog), "{:?}", s.id);
            let syn = want("bindscope_listener_syn_recv");
            assert_eq!(syn[0].value, f64::from(s.syn_recv.expect("known")));
        }
    }

    /// The listener series of `port` on the container host, as label maps.
    fn listener_labels(text: &str, port: u16) -> BTreeMap<String, String> {
        let samples = parse(text);
        let len = find(&samples, "bindscope_listener_sockets");
        let hits: Vec<_> = len
            .iter()
            .filter(|s| s.labels.get("port") == Some(&port.to_string()))
            .collect();
        assert_eq!(hits.len(), 1, "one series for {port}: {text}");
        hits[0].labels.clone()
    }

    #[test]
    fn listeners_are_labelled_with_their_container_and_pod() {
        let text = export(&crate::testing::container_host());
        let l = |port| listener_labels(&text, port);
        assert_eq!(l(8080)["container"], "web");
        assert_eq!(l(8080)["pod"], "");
        assert_eq!(l(9090)["container"], "side");
        assert_eq!(l(9090)["pod"], "default/api");
        assert_eq!(l(8081)["container"], "web", "no holder: the owner");
        assert_eq!(l(18080)["container"], "podman:686f73746300");
        assert_eq!(l(18080)["netns"], "host");
        assert_eq!(l(22)["container"], "");
        assert_eq!(l(7000)["netns"], "net:[3] · socat (uid 1001)");
        // Without containers the series keep their labels as they were.
        let plain = export(&one_host());
        assert!(!plain.contains("container="), "{plain}");
        assert!(!plain.contains("pod="), "{plain}");
    }

    #[test]
    fn container_labels_are_escaped_and_bounded() {
        let mut snap = crate::testing::container_host();
        let hostile = format!("a\"b\\c\nd{}", "x".repeat(500));
        for s in &mut snap.sockets {
            for h in &mut s.holders {
                if let Some(c) = &h.container {
                    let mut c = (**c).clone();
                    c.name = Some(hostile.clone());
                    h.container = Some(std::sync::Arc::new(c));
                }
            }
        }
        let text = export(&snap);
        let v = &listener_labels(&text, 9090)["container"];
        assert_eq!(v.chars().count(), CONTAINER_LABEL_MAX);
        // Cleaned (the newline made visible), then escaped in the text, read back whole.
        assert!(v.starts_with(r#"a"b\c\x0ad"#), "{v}");
        assert!(text.contains(r#"container="a\"b\\c\\x0ad"#), "{text}");
        assert!(v.ends_with('…'));
    }

    /// `promtool check metrics` accepts the container host's text (the golden test checks
    /// the demo's; this one has the `container` and `pod` labels).
    #[test]
    fn promtool_accepts_container_labels() {
        use std::io::Write as _;
        use std::process::{Command, Stdio};
        let text = export(&crate::testing::container_host());
        let mut child = Command::new("promtool")
            .args(["check", "metrics"])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| {
                panic!("running promtool ({e}): install the Debian package 'prometheus'")
            });
        child
            .stdin
            .take()
            .expect("piped stdin")
            .write_all(text.as_bytes())
            .expect("write to promtool");
        let out = child.wait_with_output().expect("wait for promtool");
        assert!(
            out.status.success(),
            "{}{}\n{text}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }

    proptest! {
        /// Whatever a user or namespace is called, the text parses back to the cleaned name.
        #[test]
        fn any_label_value_round_trips(user in any::<String>(), ns in any::<String>()) {
            let mut s = socket();
            s.user = Some(user.as_str().into());
            let snap = snapshot_of(vec![s], vec![netns(1, Some(&ns), None)]);
            let samples = parse(&export(&snap));
            let len = find(&samples, "bindscope_listener_accept_queue_length");
            prop_assert_eq!(len.len(), 1);
            prop_assert_eq!(&len[0].labels["user"], &clean(&user).into_owned());
            prop_assert_eq!(&len[0].labels["netns"], &clean(&ns).into_owned());
        }

        /// A hostile or mangled time never panics: it parses or the timestamp is left out.
        #[test]
        fn any_taken_at_is_safe(taken_at in any::<String>()) {
            let mut snap = one_host();
            snap.taken_at = taken_at.into();
            let samples = parse(&export(&snap));
            prop_assert!(find(&samples, "bindscope_snapshot_timestamp_seconds").len() <= 1);
        }
    }
}
