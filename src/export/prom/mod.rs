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

mod encode;
mod status;

pub use encode::TextFormat;
pub use status::ExporterStatus;

use crate::analyze::describe;
use crate::model::{
    Container, Family, FindingKind, NetnsId, Scope, Severity, Snapshot, Socket, TcpExtCounters,
};
use crate::output::containers;
use crate::text::clean;
use encode::{Kind, MetricFamily};
use std::collections::{BTreeMap, HashMap};
use std::io;

const SEVERITIES: [Severity; 4] = [
    Severity::Critical,
    Severity::Warning,
    Severity::Notice,
    Severity::Info,
];

/// How to write an exposition.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Exposition {
    pub format: TextFormat,
    /// At most this many series per per-socket family (listeners, current findings), so a
    /// host with 50,000 sockets cannot flood Prometheus: the listeners with the longest
    /// accept queues and the most severe findings are kept, and
    /// `bindscope_series_omitted` says how many were left out. `None`: no limit.
    pub series_limit: Option<usize>,
}

impl Default for Exposition {
    /// The textfile collector's: Prometheus text, every series.
    fn default() -> Self {
        Exposition {
            format: TextFormat::Prometheus,
            series_limit: None,
        }
    }
}

/// Writes every metric family, each with its `# HELP` and `# TYPE` lines, in the
/// Prometheus text format (a textfile for node_exporter).
pub fn write(w: &mut dyn io::Write, snap: &Snapshot) -> io::Result<()> {
    let how = Exposition::default();
    let mut out = render(snap, &how);
    how.format.end(&mut out);
    w.write_all(out.as_bytes())
}

/// The families of `snap`, without the format's end (`# EOF`): an exporter appends its own
/// families ([`ExporterStatus`]) first.
pub fn render(snap: &Snapshot, how: &Exposition) -> String {
    let mut out = render_head(snap, &snap.taken_at, snap.scan.duration_ms, how.format);
    out.push_str(&render_families(snap, how));
    out
}

/// The snapshot's own metrics ([`render`]'s first part), for a sample taken at `taken_at`
/// by a scan of `duration_ms`: a quiet refresh moves those and nothing else.
pub fn render_head(
    snap: &Snapshot,
    taken_at: &crate::model::TakenAt,
    duration_ms: u64,
    format: TextFormat,
) -> String {
    let mut out = String::new();
    snapshot_metrics(&mut out, snap, taken_at, duration_ms, format);
    out
}

/// The sockets', listeners', findings' and counters' families ([`render`]'s second part):
/// what an exporter renders once per sample that changed them.
pub fn render_families(snap: &Snapshot, how: &Exposition) -> String {
    let ns = netns_labels(snap);
    let mut out = String::new();
    let mut omitted = MetricFamily::new(
        "bindscope_series_omitted",
        "Series left out of this exposition by the exporter's series limit (--max-series), per family.",
        Kind::Gauge,
        &["family"],
    );
    let (listeners, left_out) = listener_families(snap, &ns, how.series_limit);
    if how.series_limit.is_some() {
        omitted.add(vec!["bindscope_listener".into()], left_out);
    }
    let (finding_series, left_out) = finding_series(snap, &ns, how.series_limit);
    if how.series_limit.is_some() {
        omitted.add(vec!["bindscope_finding".into()], left_out);
    }
    for family in socket_families(snap, &ns)
        .into_iter()
        .chain(listeners)
        .chain([findings_family(snap), finding_series, omitted])
        .chain(tcpext_families(snap, &ns))
    {
        family.render(&mut out, how.format);
    }
    out
}

/// When the snapshot was taken, how the scan went, and what it could not see: an alert on
/// a stale file or on a collector that lost its privileges needs these.
fn snapshot_metrics(
    out: &mut String,
    snap: &Snapshot,
    taken_at: &crate::model::TakenAt,
    duration_ms: u64,
    format: TextFormat,
) {
    if let Some(t) = taken_at.time().map(|t| t.unix_seconds()) {
        encode::scalar(
            out,
            format,
            Kind::Gauge,
            "bindscope_snapshot_timestamp_seconds",
            "When the snapshot was taken, in seconds since the Unix epoch.",
            t,
        );
    }
    encode::scalar(
        out,
        format,
        Kind::Gauge,
        "bindscope_scan_duration_seconds",
        "How long the scan that made the snapshot took.",
        duration_ms as f64 / 1000.0,
    );
    encode::scalar(
        out,
        format,
        Kind::Gauge,
        "bindscope_scan_processes_unreadable",
        "Processes whose file descriptors could not be read: sockets they hold lack that holder.",
        snap.scan.processes_unreadable,
    );
    let p = &snap.privileges;
    encode::scalar(
        out,
        format,
        Kind::Gauge,
        "bindscope_options_readable",
        "1 when every socket option probe could read its socket; 0 when some options are unknown.",
        u8::from(p.options_readable),
    );
    encode::scalar(
        out,
        format,
        Kind::Gauge,
        "bindscope_holders_visible",
        "1 when every process's file descriptors could be read, so holder lists are complete.",
        u8::from(p.all_holders_visible),
    );
    encode::scalar(
        out,
        format,
        Kind::Gauge,
        "bindscope_warnings",
        "Warnings the scan reported (see the snapshot file).",
        snap.warnings.len(),
    );
    encode::scalar(
        out,
        format,
        Kind::Gauge,
        "bindscope_network_namespaces",
        "Network namespaces in the snapshot.",
        snap.netns.len(),
    );
    encode::scalar(
        out,
        format,
        Kind::Gauge,
        "bindscope_network_namespaces_not_entered",
        "Network namespaces that could not be entered: their sockets and counters are missing.",
        snap.netns.iter().filter(|n| n.error.is_some()).count(),
    );
}

/// The label of each namespace: its name, owner container or unit, else `net:[ID]`
/// ([`describe::stable_netns_labels`]: not the holder hint other outputs add, which would
/// start a new series whenever another process comes to hold most sockets). Two namespaces with one name (a
/// unit and a container, say) get the id appended, so their series stay apart.
fn netns_labels(snap: &Snapshot) -> HashMap<NetnsId, String> {
    let mut labels = describe::stable_netns_labels(snap);
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

/// `bindscope_sockets{netns,proto,state,scope}`: how many sockets of each kind, per
/// namespace.
fn socket_families(snap: &Snapshot, ns: &HashMap<NetnsId, String>) -> Vec<MetricFamily> {
    let l = socket_labels(snap, ns);
    let mut f = MetricFamily::new(
        "bindscope_sockets",
        "Sockets in the snapshot by namespace, protocol, state (close: bound, not listening or connected) and address scope.",
        Kind::Gauge,
        &l.names(&["proto", "state", "scope"]),
    );
    for s in &snap.sockets {
        let rest = vec![
            s.proto.name().into(),
            s.state.name().into(),
            scope_label(s.scope).into(),
        ];
        f.add(l.values(s, rest), 1);
    }
    vec![f]
}

/// The scope as the file format names it (`dual_stack_wildcard`, `link_local`): label
/// values stay one word, like the JSON a query would compare them with.
fn scope_label(scope: Scope) -> &'static str {
    match scope {
        Scope::Wildcard => "wildcard",
        Scope::DualStackWildcard => "dual_stack_wildcard",
        Scope::Loopback => "loopback",
        Scope::LinkLocal => "link_local",
        Scope::Specific => "specific",
    }
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
/// container and pod when the snapshot has them), and how many listener series `limit` left
/// out: the kept ones are those with the longest accept queues, then the most SYN_RECV.
fn listener_families(
    snap: &Snapshot,
    ns: &HashMap<NetnsId, String>,
    limit: Option<usize>,
) -> (Vec<MetricFamily>, u64) {
    let l = socket_labels(snap, ns);
    let c = ContainerLabels::new(snap);
    let mut groups: BTreeMap<Vec<String>, Group> = BTreeMap::new();
    for s in snap.sockets.iter().filter(|s| s.is_listener()) {
        let mut rest = listener_values(s);
        rest.extend(c.values(s));
        let key = l.values(s, rest);
        groups.entry(key).or_insert_with(Group::new).add(s);
    }
    let mut kept: Vec<(Vec<String>, Group)> = groups.into_iter().collect();
    let mut omitted = 0;
    if let Some(limit) = limit.filter(|&n| kept.len() > n) {
        // Stable: equal queues keep the label order, so the same series stay from one
        // scrape to the next.
        kept.sort_by_key(|(_, g)| {
            std::cmp::Reverse((g.len.unwrap_or(0), g.syn_recv().unwrap_or(0)))
        });
        omitted = (kept.len() - limit) as u64;
        kept.truncate(limit);
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
    for (key, g) in kept {
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
    (vec![sockets, len, backlog, syn], omitted)
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

/// `bindscope_finding{kind,severity,netns,proto,port}`: 1 for each current finding, so an
/// alert can name the port (`bindscope_findings` only counts). Findings about the same
/// kind, port and namespace share a series; a finding of no port (a namespace-wide one) has
/// `port=""`. Bounded by `limit`: the most severe are kept. Returns the family and how many
/// series were left out.
fn finding_series(
    snap: &Snapshot,
    ns: &HashMap<NetnsId, String>,
    limit: Option<usize>,
) -> (MetricFamily, u64) {
    let by_id: HashMap<&str, &Socket> = snap.sockets.iter().map(|s| (s.id.0.as_str(), s)).collect();
    let mut series: BTreeMap<Vec<String>, Severity> = BTreeMap::new();
    for f in &snap.findings {
        let first = f
            .sockets
            .iter()
            .find_map(|id| by_id.get(id.0.as_str()).copied());
        let (netns, proto, port) = match (f.problem, first) {
            (Some(k), _) => (Some(k.netns), k.proto.name(), k.port.to_string()),
            (None, Some(s)) => (Some(s.netns), s.proto.name(), s.local_port.to_string()),
            (None, None) => (None, "", String::new()),
        };
        let netns = netns
            .map(|id| {
                ns.get(&id)
                    .cloned()
                    .unwrap_or_else(|| format!("net:[{id}]"))
            })
            .unwrap_or_default();
        let key = vec![
            clean(f.kind.name()).into_owned(),
            f.severity.name().into(),
            netns,
            proto.into(),
            port,
        ];
        series.insert(key, f.severity);
    }
    let mut kept: Vec<(Vec<String>, Severity)> = series.into_iter().collect();
    let mut omitted = 0;
    if let Some(limit) = limit.filter(|&n| kept.len() > n) {
        kept.sort_by_key(|(_, sev)| std::cmp::Reverse(*sev));
        omitted = (kept.len() - limit) as u64;
        kept.truncate(limit);
    }
    let mut family = MetricFamily::new(
        "bindscope_finding",
        "1 for each current finding, by kind, severity, namespace, protocol and port (bindscope findings explains them).",
        Kind::Gauge,
        &["kind", "severity", "netns", "proto", "port"],
    );
    for (key, _) in kept {
        family.add(key, 1);
    }
    (family, omitted)
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
mod tests;
