//! What changed between two snapshots: sockets that appeared, disappeared or changed,
//! findings that are new or resolved, and network namespaces that changed. Pure: two
//! snapshots in, a [`Diff`] out; `output::diff` renders it and the dashboard shows it.
//!
//! # Matching sockets
//! 1. **By id** (namespace and kernel cookie, and the host in a view merged from several
//!    hosts). A cookie is never reused while the host is up (`sock_gen_cookie`), so an equal
//!    id is the same socket, provided the two also agree on namespace, protocol, family and
//!    local port: ids from two different hosts can coincide (every host's first namespace has
//!    the same inode, and cookies are small counters), and such a pair is not one socket.
//! 2. **By endpoint**, among the sockets left over: host, namespace, protocol, family, local
//!    address and port, device, state, remote address and port. A socket recreated on the
//!    same endpoint (a restarted service) is *changed*, with a `socket` field saying old id →
//!    new id, rather than one disappearing and one appearing.
//! 3. **Within one endpoint** several sockets can be left over on each side (an SO_REUSEPORT
//!    group restarted, several UDP binds). Each side is sorted by its holders (name, pid) and
//!    then by cookie; first the sockets held by the same processes are paired (a service that
//!    reopened its socket without restarting), then the rest in that order. Extra sockets on
//!    either side appeared or disappeared. Sockets are never paired across hosts,
//!    namespaces, protocols or families.
//!
//! When the two snapshots name different hosts the diff compares two machines: pairs are
//! still made by endpoint (the same service on both), but a different id is not reported as
//! a recreated socket, since ids of two hosts never name the same socket.
//!
//! # Fields compared
//! state, local and remote address (a socket matched by id can `connect()`), uid, user,
//! device, scope, address state, each option, holders (as a set of process name, pid and
//! user; fd numbers are ignored, a process may dup a socket without changing anything), and
//! the queues: accept queue (len/backlog) and SYN_RECV count. Queue numbers move on every
//! refresh of a busy host, so queue fields have their own [`FieldKind::Queue`], come last,
//! and a socket whose only changes are queues is counted apart ([`Counts::queue_only`]).
//! An option that was unknown and is now known (or the reverse, e.g. a snapshot taken
//! without root) is [`FieldKind::BecameKnown`] / [`FieldKind::BecameUnknown`]: the socket may
//! not have changed at all, only what could be read about it. Byte queues of connections
//! (`recv_q`, `send_q`) are not compared: they change on every read.
//!
//! # Findings
//! Matched by kind and the set of their socket ids, the ids of `before` mapped through the
//! socket matching so a recreated socket keeps its findings. A finding about no socket (a
//! host address stuck in DAD) is matched by kind and summary. New: in `after` only;
//! resolved: in `before` only. A finding whose severity or summary changed (queue numbers
//! in the summary) is neither.
//!
//! # Namespaces
//! Matched by id. Changed: name, whether it was entered, sysctls, interfaces (added,
//! removed, link up or carrier), addresses (added, removed, flags such as tentative or
//! dadfailed) and TcpExt counters that rose. A counter that fell was reset (the namespace
//! was recreated or the host rebooted) and says nothing about drops, so it is not reported.
//! Interfaces, sysctls and counters are not compared when either side could not enter the
//! namespace: they were not read.

use crate::model::{
    AddrFlag, Family, Finding, FindingKind, Interface, Netns, NetnsId, OptionName, Options, Proto,
    Snapshot, Socket, SocketId, State,
};
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::net::IpAddr;

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Diff {
    pub before: Side,
    pub after: Side,
    /// Appeared, then disappeared, then changed; within each by namespace, protocol, port
    /// and address.
    pub sockets: Vec<SocketChange>,
    /// New, then resolved; within each most severe first.
    pub findings: Vec<FindingChange>,
    /// Appeared, then disappeared, then changed; within each by id.
    pub netns: Vec<NetnsChange>,
    /// The name of every namespace of either snapshot that has one (`after`'s name when both
    /// do), so a socket's namespace can be named without the snapshots.
    pub netns_names: BTreeMap<NetnsId, String>,
}

/// One snapshot of the two, in brief.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Side {
    pub hostname: String,
    pub taken_at: crate::model::TakenAt,
    pub sockets: usize,
    pub findings: usize,
    pub netns: usize,
    /// From the snapshot's privileges: when the two sides differ here, options and holders
    /// that became unknown or vanished may only be unreadable.
    pub options_readable: bool,
    pub all_holders_visible: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ChangeKind {
    Appeared,
    Disappeared,
    Changed,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SocketChange {
    pub kind: ChangeKind,
    /// The socket as it is in `after` (appeared, changed) or was in `before` (disappeared).
    pub socket: Socket,
    /// Its id in `before` when it differs (matched by endpoint: the socket was recreated,
    /// e.g. a restarted service).
    pub before_id: Option<SocketId>,
    /// Empty unless changed; queue fields last.
    pub fields: Vec<FieldChange>,
}

impl SocketChange {
    /// Changed, and every change is a queue number.
    pub fn queue_only(&self) -> bool {
        self.kind == ChangeKind::Changed
            && !self.fields.is_empty()
            && self.fields.iter().all(|f| f.kind == FieldKind::Queue)
    }
}

/// What sort of change a [`FieldChange`] is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum FieldKind {
    /// A value changed.
    Value,
    /// A queue number changed (`accept_queue`, `syn_recv`): expected on a busy host.
    Queue,
    /// Was unknown (`?`), is known now: what was read changed, maybe not the socket.
    BecameKnown,
    /// Was known, is unknown (`?`) now.
    BecameUnknown,
}

/// One field that differs, as display strings (raw: renderers sanitize them).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FieldChange {
    /// `state`, `uid`, `user`, `holders`, `reuseport`, `accept_queue`, `socket`, a sysctl or
    /// counter name, `addresses`, `address_flags`, ...
    pub field: String,
    /// What the field belongs to when one change has several of it: the interface of
    /// `link`, the address of `address_flags`.
    pub subject: Option<String>,
    pub kind: FieldKind,
    /// `?` when unknown, `n/a` when the option does not apply.
    pub before: String,
    pub after: String,
    /// For set-valued fields (`holders`, `interfaces`, `addresses`): the members only in
    /// `after` and only in `before`; `before` and `after` hold the whole sets.
    pub added: Vec<String>,
    pub removed: Vec<String>,
}

impl FieldChange {
    fn value(field: &str, before: String, after: String) -> FieldChange {
        FieldChange {
            field: field.to_string(),
            subject: None,
            kind: FieldKind::Value,
            before,
            after,
            added: Vec::new(),
            removed: Vec::new(),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum FindingChangeKind {
    New,
    Resolved,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FindingChange {
    pub kind: FindingChangeKind,
    /// As in `after` (new) or `before` (resolved).
    pub finding: Finding,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct NetnsChange {
    pub kind: ChangeKind,
    pub id: NetnsId,
    pub name: Option<String>,
    /// Empty unless changed.
    pub fields: Vec<FieldChange>,
}

/// How much changed, for a summary line.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Counts {
    pub appeared: usize,
    pub disappeared: usize,
    /// Changed sockets, not counting those whose only changes are queue numbers.
    pub changed: usize,
    /// Changed sockets whose only changes are queue numbers.
    pub queue_only: usize,
    pub new_findings: usize,
    pub resolved_findings: usize,
    /// Namespaces that appeared, disappeared or changed.
    pub netns: usize,
}

impl Diff {
    pub fn is_empty(&self) -> bool {
        self.sockets.is_empty() && self.findings.is_empty() && self.netns.is_empty()
    }

    pub fn counts(&self) -> Counts {
        let mut c = Counts::default();
        for s in &self.sockets {
            match s.kind {
                ChangeKind::Appeared => c.appeared += 1,
                ChangeKind::Disappeared => c.disappeared += 1,
                ChangeKind::Changed if s.queue_only() => c.queue_only += 1,
                ChangeKind::Changed => c.changed += 1,
            }
        }
        for f in &self.findings {
            match f.kind {
                FindingChangeKind::New => c.new_findings += 1,
                FindingChangeKind::Resolved => c.resolved_findings += 1,
            }
        }
        c.netns = self.netns.len();
        c
    }
}

/// What changed from `before` to `after` (see the module docs for the rules).
pub fn diff(before: &Snapshot, after: &Snapshot) -> Diff {
    let same_host = before.host.hostname == after.host.hostname;
    let m = match_sockets(&before.sockets, &after.sockets);
    let renamed: HashMap<&SocketId, &SocketId> = m
        .pairs
        .iter()
        .map(|&(i, j)| (&before.sockets[i].id, &after.sockets[j].id))
        .collect();
    Diff {
        before: side(before),
        after: side(after),
        sockets: socket_changes(before, after, &m, same_host),
        findings: finding_changes(&before.findings, &after.findings, &renamed),
        netns: netns_changes(&before.netns, &after.netns),
        netns_names: netns_names(before, after),
    }
}

fn side(s: &Snapshot) -> Side {
    Side {
        hostname: s.host.hostname.clone(),
        taken_at: s.taken_at.clone(),
        sockets: s.sockets.len(),
        findings: s.findings.len(),
        netns: s.netns.len(),
        options_readable: s.privileges.options_readable,
        all_holders_visible: s.privileges.all_holders_visible,
    }
}

fn netns_names(before: &Snapshot, after: &Snapshot) -> BTreeMap<NetnsId, String> {
    // `after` last, so its names win.
    before
        .netns
        .iter()
        .chain(&after.netns)
        .filter_map(|n| Some((n.id, n.name.clone()?)))
        .collect()
}

// ---------------------------------------------------------------------------------------
// Socket matching

/// Indices into `before.sockets` and `after.sockets`.
#[derive(Debug, Default)]
struct Matching {
    pairs: Vec<(usize, usize)>,
    before_only: Vec<usize>,
    after_only: Vec<usize>,
}

/// What identifies a bind or connection when the id does not: a recreated socket has
/// all of these equal.
type EndpointKey<'a> = (
    Option<&'a str>,
    NetnsId,
    Proto,
    Family,
    IpAddr,
    u16,
    Option<&'a str>,
    State,
    Option<IpAddr>,
    Option<u16>,
);

fn endpoint_key(s: &Socket) -> EndpointKey<'_> {
    (
        s.host.as_deref(),
        s.netns,
        s.proto,
        s.family,
        s.local_addr,
        s.local_port,
        s.device.as_deref(),
        s.state,
        s.remote_addr,
        s.remote_port,
    )
}

/// Whether two sockets with one id can be one socket: none of these change after bind().
fn same_socket(b: &Socket, a: &Socket) -> bool {
    b.netns == a.netns && b.proto == a.proto && b.family == a.family && b.local_port == a.local_port
}

fn match_sockets(before: &[Socket], after: &[Socket]) -> Matching {
    let pairs = match_by_id(before, after);
    let mut b_used = vec![false; before.len()];
    let mut a_used = vec![false; after.len()];
    for &(i, j) in &pairs {
        b_used[i] = true;
        a_used[j] = true;
    }
    let mut groups: BTreeMap<EndpointKey<'_>, (Vec<usize>, Vec<usize>)> = BTreeMap::new();
    for (i, s) in before.iter().enumerate().filter(|(i, _)| !b_used[*i]) {
        groups.entry(endpoint_key(s)).or_default().0.push(i);
    }
    for (j, s) in after.iter().enumerate().filter(|(j, _)| !a_used[*j]) {
        groups.entry(endpoint_key(s)).or_default().1.push(j);
    }
    let mut m = Matching {
        pairs,
        ..Matching::default()
    };
    for (bs, as_) in groups.into_values() {
        pair_group(before, after, bs, as_, &mut m);
    }
    m
}

/// Pairs sockets with equal ids. Ids are unique in a well-formed file; a malformed one with
/// duplicates pairs them in file order and leaves the rest to endpoint matching.
fn match_by_id(before: &[Socket], after: &[Socket]) -> Vec<(usize, usize)> {
    let mut by_id: HashMap<(Option<&str>, &SocketId), Vec<usize>> = HashMap::new();
    for (j, s) in after.iter().enumerate() {
        by_id.entry((s.host.as_deref(), &s.id)).or_default().push(j);
    }
    let mut taken = vec![false; after.len()];
    let mut pairs = Vec::new();
    for (i, b) in before.iter().enumerate() {
        let Some(candidates) = by_id.get(&(b.host.as_deref(), &b.id)) else {
            continue;
        };
        if let Some(&j) = candidates
            .iter()
            .find(|&&j| !taken[j] && same_socket(b, &after[j]))
        {
            taken[j] = true;
            pairs.push((i, j));
        }
    }
    pairs
}

/// The processes holding a socket, sorted: what pairs the members of a group.
fn holder_key(s: &Socket) -> Vec<(&str, u32)> {
    let mut k: Vec<(&str, u32)> = s.holders.iter().map(|h| (&*h.name, h.pid)).collect();
    k.sort_unstable();
    k.dedup();
    k
}

/// The sockets `idx` of one side with their pairing keys, in pairing order.
type Keyed<'a> = Vec<((Vec<(&'a str, u32)>, u64), usize)>;

fn keyed(side: &[Socket], idx: Vec<usize>) -> Keyed<'_> {
    let mut v: Keyed<'_> = idx
        .into_iter()
        .map(|i| ((holder_key(&side[i]), side[i].cookie), i))
        .collect();
    v.sort_unstable();
    v
}

/// Pairs the left-over sockets of one endpoint (module docs, step 3).
fn pair_group(
    before: &[Socket],
    after: &[Socket],
    bs: Vec<usize>,
    as_: Vec<usize>,
    m: &mut Matching,
) {
    let (bs, mut as_) = (keyed(before, bs), keyed(after, as_));
    // First the sockets held by the same processes (a service that reopened its socket
    // without restarting), then the rest in order.
    let mut rest = Vec::new();
    for ((holders, _), i) in bs {
        match as_.iter().position(|((h, _), _)| *h == holders) {
            Some(pos) => m.pairs.push((i, as_.remove(pos).1)),
            None => rest.push(i),
        }
    }
    let as_: Vec<usize> = as_.into_iter().map(|(_, j)| j).collect();
    let n = rest.len().min(as_.len());
    m.pairs
        .extend(rest.iter().copied().zip(as_.iter().copied()));
    m.before_only.extend(rest.iter().skip(n));
    m.after_only.extend(as_.iter().skip(n));
}

// ---------------------------------------------------------------------------------------
// Socket changes

fn socket_changes(
    before: &Snapshot,
    after: &Snapshot,
    m: &Matching,
    same_host: bool,
) -> Vec<SocketChange> {
    let mut out: Vec<SocketChange> = Vec::new();
    let whole = |kind, s: &Socket| SocketChange {
        kind,
        socket: s.clone(),
        before_id: None,
        fields: Vec::new(),
    };
    out.extend(
        m.after_only
            .iter()
            .map(|&j| whole(ChangeKind::Appeared, &after.sockets[j])),
    );
    out.extend(
        m.before_only
            .iter()
            .map(|&i| whole(ChangeKind::Disappeared, &before.sockets[i])),
    );
    for &(i, j) in &m.pairs {
        let (b, a) = (&before.sockets[i], &after.sockets[j]);
        // Most sockets did not change: skip building their display strings.
        if b == a {
            continue;
        }
        let fields = socket_fields(b, a, same_host);
        if fields.is_empty() {
            continue;
        }
        out.push(SocketChange {
            kind: ChangeKind::Changed,
            socket: a.clone(),
            before_id: (b.id != a.id).then(|| b.id.clone()),
            fields,
        });
    }
    out.sort_by(|x, y| change_order(x).cmp(&change_order(y)));
    out
}

type ChangeOrder<'a> = (
    ChangeKind,
    NetnsId,
    Proto,
    u16,
    IpAddr,
    Family,
    State,
    Option<IpAddr>,
    Option<u16>,
    Option<&'a str>,
    u64,
    &'a SocketId,
);

fn change_order(c: &SocketChange) -> ChangeOrder<'_> {
    let s = &c.socket;
    (
        c.kind,
        s.netns,
        s.proto,
        s.local_port,
        s.local_addr,
        s.family,
        s.state,
        s.remote_addr,
        s.remote_port,
        s.device.as_deref(),
        s.cookie,
        &s.id,
    )
}

/// Every field that differs, queues last.
fn socket_fields(b: &Socket, a: &Socket, same_host: bool) -> Vec<FieldChange> {
    let mut out = Vec::new();
    if same_host && b.id != a.id {
        out.push(FieldChange::value("socket", b.id.0.clone(), a.id.0.clone()));
    }
    push_value(
        &mut out,
        "state",
        b.state_label().into(),
        a.state_label().into(),
    );
    push_value(
        &mut out,
        "local",
        addr_port(Some(b.local_addr), Some(b.local_port)),
        addr_port(Some(a.local_addr), Some(a.local_port)),
    );
    push_value(
        &mut out,
        "remote",
        addr_port(b.remote_addr, b.remote_port),
        addr_port(a.remote_addr, a.remote_port),
    );
    push_value(&mut out, "uid", b.uid.to_string(), a.uid.to_string());
    push_value(
        &mut out,
        "user",
        or_dash(b.user.as_deref()),
        or_dash(a.user.as_deref()),
    );
    push_value(
        &mut out,
        "device",
        or_dash(b.device.as_deref()),
        or_dash(a.device.as_deref()),
    );
    push_value(
        &mut out,
        "scope",
        b.scope.name().into(),
        a.scope.name().into(),
    );
    push_value(
        &mut out,
        "address_state",
        b.address_state.name().into(),
        a.address_state.name().into(),
    );
    out.extend(option_changes(&b.options, &a.options));
    out.extend(holder_change(b, a));
    out.extend(queue_changes(b, a));
    out
}

fn push_value(out: &mut Vec<FieldChange>, field: &str, before: String, after: String) {
    if before != after {
        out.push(FieldChange::value(field, before, after));
    }
}

fn addr_port(addr: Option<IpAddr>, port: Option<u16>) -> String {
    match (addr, port) {
        (Some(IpAddr::V4(a)), Some(p)) => format!("{a}:{p}"),
        (Some(IpAddr::V6(a)), Some(p)) => format!("[{a}]:{p}"),
        (Some(a), None) => a.to_string(),
        (None, _) => "-".into(),
    }
}

fn or_dash(s: Option<&str>) -> String {
    s.unwrap_or("-").to_string()
}

/// An option as read: a value, unknown, or not applicable to this socket.
#[derive(PartialEq)]
enum OptionValue {
    Known(String),
    Unknown,
    NotApplicable,
}

impl OptionValue {
    fn of<T>(o: &Options, key: OptionName, v: Option<T>, show: impl Fn(T) -> String) -> Self {
        match v {
            Some(v) => OptionValue::Known(show(v)),
            None if o.not_applicable(key) => OptionValue::NotApplicable,
            None => OptionValue::Unknown,
        }
    }

    fn display(&self) -> String {
        match self {
            OptionValue::Known(s) => s.clone(),
            OptionValue::Unknown => "?".into(),
            OptionValue::NotApplicable => "n/a".into(),
        }
    }
}

fn option_change(field: &str, b: OptionValue, a: OptionValue) -> Option<FieldChange> {
    if b == a {
        return None;
    }
    let kind = match (&b, &a) {
        (OptionValue::Unknown, OptionValue::Known(_)) => FieldKind::BecameKnown,
        (OptionValue::Known(_), OptionValue::Unknown) => FieldKind::BecameUnknown,
        _ => FieldKind::Value,
    };
    Some(FieldChange {
        kind,
        ..FieldChange::value(field, b.display(), a.display())
    })
}

fn seconds_or_off(n: u32) -> String {
    if n == 0 {
        "off".into()
    } else {
        format!("{n}s")
    }
}

fn number_or_off(n: u32) -> String {
    if n == 0 { "off".into() } else { n.to_string() }
}

/// SO_BINDTODEVICE: `None` without a reason is a known "no device" (model docs).
fn bind_device(o: &Options) -> OptionValue {
    let reason = o.reasons.contains_key(&OptionName::BindDevice);
    match &o.bind_device {
        Some(d) => OptionValue::Known(d.clone()),
        None if !reason => OptionValue::Known("none".into()),
        None if o.not_applicable(OptionName::BindDevice) => OptionValue::NotApplicable,
        None => OptionValue::Unknown,
    }
}

fn option_changes(b: &Options, a: &Options) -> Vec<FieldChange> {
    let flag = |o: &Options, key: OptionName, v: Option<bool>| {
        OptionValue::of(o, key, v, |v| v.to_string())
    };
    let flags = [
        ("reuseaddr", OptionName::Reuseaddr, b.reuseaddr, a.reuseaddr),
        ("reuseport", OptionName::Reuseport, b.reuseport, a.reuseport),
        ("v6only", OptionName::V6only, b.v6only, a.v6only),
        ("freebind", OptionName::Freebind, b.freebind, a.freebind),
        (
            "transparent",
            OptionName::Transparent,
            b.transparent,
            a.transparent,
        ),
        (
            "nonblocking",
            OptionName::Nonblocking,
            b.nonblocking,
            a.nonblocking,
        ),
    ];
    let mut out: Vec<FieldChange> = flags
        .into_iter()
        .filter_map(|(name, key, bv, av)| option_change(name, flag(b, key, bv), flag(a, key, av)))
        .collect();
    let defer =
        |o: &Options| OptionValue::of(o, OptionName::DeferAccept, o.defer_accept, seconds_or_off);
    let fastopen =
        |o: &Options| OptionValue::of(o, OptionName::Fastopen, o.fastopen, number_or_off);
    out.extend(option_change("defer_accept", defer(b), defer(a)));
    out.extend(option_change("fastopen", fastopen(b), fastopen(a)));
    out.extend(option_change("bind_device", bind_device(b), bind_device(a)));
    out
}

/// The holders as a set of `name[pid] (user)`, in pid order; fds are ignored.
fn holder_set(s: &Socket) -> Vec<String> {
    let set: BTreeSet<(u32, String)> = s
        .holders
        .iter()
        .map(|h| {
            let user = match &h.user {
                Some(u) => u.to_string(),
                None => format!("uid {}", h.uid),
            };
            (h.pid, format!("{}[{}] ({user})", h.name, h.pid))
        })
        .collect();
    set.into_iter().map(|(_, label)| label).collect()
}

/// The whole holder set in words, or why it is empty.
fn holders_display(s: &Socket, set: &[String]) -> String {
    if !set.is_empty() {
        return set.join(", ");
    }
    if s.inode == 0 {
        "(none: kernel-held)".into()
    } else if s.holders_unknown.is_some() {
        "(none visible)".into()
    } else {
        "(none)".into()
    }
}

fn holder_change(b: &Socket, a: &Socket) -> Option<FieldChange> {
    let (bs, as_) = (holder_set(b), holder_set(a));
    if bs == as_ {
        return None;
    }
    Some(FieldChange {
        added: as_.iter().filter(|h| !bs.contains(h)).cloned().collect(),
        removed: bs.iter().filter(|h| !as_.contains(h)).cloned().collect(),
        ..FieldChange::value("holders", holders_display(b, &bs), holders_display(a, &as_))
    })
}

fn queue_changes(b: &Socket, a: &Socket) -> Vec<FieldChange> {
    let accept = |s: &Socket| match s.accept_queue {
        Some(q) => format!("{}/{}", q.len, q.backlog),
        None => "-".into(),
    };
    let syn = |s: &Socket| s.syn_recv.map_or_else(|| "-".into(), |n| n.to_string());
    let mut out = Vec::new();
    push_value(&mut out, "accept_queue", accept(b), accept(a));
    push_value(&mut out, "syn_recv", syn(b), syn(a));
    for f in &mut out {
        f.kind = FieldKind::Queue;
    }
    out
}

// ---------------------------------------------------------------------------------------
// Findings

/// Kind, the socket ids (of `after`), and for a finding about no socket its summary.
type FindingKey = (FindingKind, Vec<SocketId>, String);

fn finding_key(f: &Finding, renamed: &HashMap<&SocketId, &SocketId>) -> FindingKey {
    let mut ids: Vec<SocketId> = f
        .sockets
        .iter()
        .map(|id| renamed.get(id).map_or_else(|| id.clone(), |&to| to.clone()))
        .collect();
    ids.sort_unstable();
    ids.dedup();
    let summary = if ids.is_empty() {
        f.summary.clone()
    } else {
        String::new()
    };
    (f.kind.clone(), ids, summary)
}

fn finding_changes(
    before: &[Finding],
    after: &[Finding],
    renamed: &HashMap<&SocketId, &SocketId>,
) -> Vec<FindingChange> {
    let none = HashMap::new();
    let mut groups: BTreeMap<FindingKey, (Vec<&Finding>, Vec<&Finding>)> = BTreeMap::new();
    for f in before {
        groups.entry(finding_key(f, renamed)).or_default().0.push(f);
    }
    for f in after {
        groups.entry(finding_key(f, &none)).or_default().1.push(f);
    }
    let mut out = Vec::new();
    for (bs, as_) in groups.into_values() {
        // The same key twice on one side (a malformed file): the surplus counts.
        let change = |kind, f: &&Finding| FindingChange {
            kind,
            finding: (*f).clone(),
        };
        out.extend(
            as_.iter()
                .skip(bs.len())
                .map(|f| change(FindingChangeKind::New, f)),
        );
        out.extend(
            bs.iter()
                .skip(as_.len())
                .map(|f| change(FindingChangeKind::Resolved, f)),
        );
    }
    out.sort_by(|x, y| {
        x.kind
            .cmp(&y.kind)
            .then_with(|| y.finding.severity.cmp(&x.finding.severity))
            .then_with(|| x.finding.kind.cmp(&y.finding.kind))
            .then_with(|| x.finding.sockets.cmp(&y.finding.sockets))
            .then_with(|| x.finding.summary.cmp(&y.finding.summary))
    });
    out
}

// ---------------------------------------------------------------------------------------
// Namespaces

fn netns_changes(before: &[Netns], after: &[Netns]) -> Vec<NetnsChange> {
    let bm: BTreeMap<NetnsId, &Netns> = before.iter().map(|n| (n.id, n)).collect();
    let am: BTreeMap<NetnsId, &Netns> = after.iter().map(|n| (n.id, n)).collect();
    let whole = |kind, n: &Netns| NetnsChange {
        kind,
        id: n.id,
        name: n.name.clone(),
        fields: Vec::new(),
    };
    let mut out: Vec<NetnsChange> = Vec::new();
    out.extend(
        am.iter()
            .filter(|(id, _)| !bm.contains_key(id))
            .map(|(_, n)| whole(ChangeKind::Appeared, n)),
    );
    out.extend(
        bm.iter()
            .filter(|(id, _)| !am.contains_key(id))
            .map(|(_, n)| whole(ChangeKind::Disappeared, n)),
    );
    for (id, a) in &am {
        let Some(b) = bm.get(id) else { continue };
        let fields = netns_fields(b, a);
        if !fields.is_empty() {
            out.push(NetnsChange {
                fields,
                ..whole(ChangeKind::Changed, a)
            });
        }
    }
    out
}

fn netns_fields(b: &Netns, a: &Netns) -> Vec<FieldChange> {
    let mut out = Vec::new();
    push_value(
        &mut out,
        "name",
        or_dash(b.name.as_deref()),
        or_dash(a.name.as_deref()),
    );
    let entered = |n: &Netns| match &n.error {
        None => "yes".to_string(),
        Some(e) => format!("no: {e}"),
    };
    push_value(&mut out, "entered", entered(b), entered(a));
    if b.error.is_some() || a.error.is_some() {
        return out;
    }
    out.extend(sysctl_changes(b, a));
    out.extend(interface_changes(&b.interfaces, &a.interfaces));
    out.extend(address_changes(&b.interfaces, &a.interfaces));
    out.extend(counter_rises(b, a));
    out
}

/// A serializable struct as its fields by their file names (the sysctl and counter names),
/// so a knob added to the model is compared without a change here.
fn named_values<T: Serialize>(v: &T) -> BTreeMap<String, serde_json::Value> {
    match serde_json::to_value(v) {
        Ok(serde_json::Value::Object(m)) => m.into_iter().collect(),
        _ => BTreeMap::new(),
    }
}

fn json_display(v: &serde_json::Value) -> Option<String> {
    match v {
        serde_json::Value::Null => None,
        serde_json::Value::Array(items) => Some(
            items
                .iter()
                .map(|i| json_display(i).unwrap_or_else(|| "?".into()))
                .collect::<Vec<_>>()
                .join(" "),
        ),
        serde_json::Value::String(s) => Some(s.clone()),
        other => Some(other.to_string()),
    }
}

fn sysctl_changes(b: &Netns, a: &Netns) -> Vec<FieldChange> {
    let (bv, av) = (named_values(&b.sysctls), named_values(&a.sysctls));
    let mut out = Vec::new();
    for (name, after) in &av {
        let before = bv.get(name).and_then(json_display);
        let after = json_display(after);
        let to_opt = |v: Option<String>| v.map_or(OptionValue::Unknown, OptionValue::Known);
        out.extend(option_change(name, to_opt(before), to_opt(after)));
    }
    out
}

/// Counters that rose, with by how much (`15 (+5)`).
fn counter_rises(b: &Netns, a: &Netns) -> Vec<FieldChange> {
    let (bv, av) = (named_values(&b.counters), named_values(&a.counters));
    let mut out = Vec::new();
    for (name, after) in &av {
        let (Some(before), Some(after)) = (bv.get(name).and_then(|v| v.as_u64()), after.as_u64())
        else {
            continue;
        };
        if after > before {
            let rise = after - before;
            out.push(FieldChange::value(
                name,
                before.to_string(),
                format!("{after} (+{rise})"),
            ));
        }
    }
    out
}

/// A set-valued field: before and after whole, and what was added and removed.
fn set_change(field: &str, b: &BTreeSet<String>, a: &BTreeSet<String>) -> Option<FieldChange> {
    if b == a {
        return None;
    }
    let join = |s: &BTreeSet<String>| {
        if s.is_empty() {
            "(none)".to_string()
        } else {
            s.iter().cloned().collect::<Vec<_>>().join(", ")
        }
    };
    Some(FieldChange {
        added: a.difference(b).cloned().collect(),
        removed: b.difference(a).cloned().collect(),
        ..FieldChange::value(field, join(b), join(a))
    })
}

fn interface_changes(b: &[Interface], a: &[Interface]) -> Vec<FieldChange> {
    let names = |l: &[Interface]| l.iter().map(|i| i.name.clone()).collect::<BTreeSet<_>>();
    let mut out: Vec<FieldChange> = set_change("interfaces", &names(b), &names(a))
        .into_iter()
        .collect();
    let link = |i: &Interface| {
        format!(
            "{}, {}",
            if i.up { "up" } else { "down" },
            if i.carrier { "carrier" } else { "no carrier" }
        )
    };
    let bm: BTreeMap<&str, &Interface> = b.iter().map(|i| (i.name.as_str(), i)).collect();
    for ai in a {
        let Some(bi) = bm.get(ai.name.as_str()) else {
            continue;
        };
        let (before, after) = (link(bi), link(ai));
        if before != after {
            out.push(FieldChange {
                subject: Some(ai.name.clone()),
                ..FieldChange::value("link", before, after)
            });
        }
    }
    out
}

/// Every address as `eth0 2001:db8::1/64` with its flags.
fn addresses(l: &[Interface]) -> BTreeMap<String, String> {
    l.iter()
        .flat_map(|i| {
            i.addresses.iter().map(move |a| {
                // A set: the kernel's order of flags says nothing.
                let flags: BTreeSet<AddrFlag> = a.flags.iter().copied().collect();
                let flags: Vec<&str> = flags.into_iter().map(AddrFlag::name).collect();
                let flags = if flags.is_empty() {
                    "none".to_string()
                } else {
                    flags.join(",")
                };
                (format!("{} {}/{}", i.name, a.addr, a.prefix_len), flags)
            })
        })
        .collect()
}

fn address_changes(b: &[Interface], a: &[Interface]) -> Vec<FieldChange> {
    let (bm, am) = (addresses(b), addresses(a));
    let keys = |m: &BTreeMap<String, String>| m.keys().cloned().collect::<BTreeSet<_>>();
    let mut out: Vec<FieldChange> = set_change("addresses", &keys(&bm), &keys(&am))
        .into_iter()
        .collect();
    for (addr, after) in &am {
        let Some(before) = bm.get(addr) else { continue };
        if before != after {
            out.push(FieldChange {
                subject: Some(addr.clone()),
                ..FieldChange::value("address_flags", before.clone(), after.clone())
            });
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{AcceptQueue, AddressState, Holder, InterfaceAddr, Reason, Scope, Severity};
    use crate::testing::{netns, snapshot_of, socket};
    use std::sync::Arc;

    /// `socket()` with another cookie (and so id), port and holder pid.
    fn sock(cookie: u64, port: u16, pid: u32) -> Socket {
        let mut s = socket();
        s.cookie = cookie;
        s.id = SocketId::new(s.netns, cookie);
        s.local_port = port;
        for h in &mut s.holders {
            h.pid = pid;
        }
        s
    }

    fn snap(sockets: Vec<Socket>) -> Snapshot {
        snapshot_of(sockets, vec![netns(1, Some("host"), None)])
    }

    fn holder(name: &str, pid: u32, user: &str) -> Holder {
        Holder {
            name: name.into(),
            pid,
            user: Some(Arc::from(user)),
            ..socket().holders[0].clone()
        }
    }

    fn finding(kind: &str, sockets: &[&Socket]) -> Finding {
        Finding {
            kind: FindingKind::from_name(kind),
            severity: Severity::Warning,
            sockets: sockets.iter().map(|s| s.id.clone()).collect(),
            summary: format!("{kind} summary"),
            explanation: String::new(),
            problem: None,
        }
    }

    /// (field, kind, before, after) of each change of the only socket change.
    fn fields_of(d: &Diff) -> Vec<(String, FieldKind, String, String)> {
        assert_eq!(d.sockets.len(), 1, "{:#?}", d.sockets);
        assert_eq!(d.sockets[0].kind, ChangeKind::Changed);
        d.sockets[0]
            .fields
            .iter()
            .map(|f| (f.field.clone(), f.kind, f.before.clone(), f.after.clone()))
            .collect()
    }

    #[test]
    fn a_snapshot_against_itself_has_no_differences() {
        let mut other = socket();
        other.id = SocketId("1-2b".into());
        other.cookie = 0x2b;
        let s = snap(vec![socket(), other]);
        let d = diff(&s, &s);
        assert!(d.is_empty(), "{d:#?}");
        assert_eq!(d.counts(), Counts::default());
        assert_eq!(d.before.sockets, 2);
    }

    #[test]
    fn the_demo_fixture_against_itself_has_no_differences() {
        let text = include_str!("../../tests/fixtures/demo-snapshot.json");
        let s: Snapshot = serde_json::from_str(text).expect("fixture parses");
        let d = diff(&s, &s);
        assert!(d.is_empty(), "{d:#?}");
        assert_eq!(d.after.sockets, s.sockets.len());
        assert_eq!(d.netns_names.len(), 2);
    }

    #[test]
    fn a_restart_in_the_demo_fixture_is_one_change_and_keeps_its_findings() {
        let text = include_str!("../../tests/fixtures/demo-snapshot.json");
        let before: Snapshot = serde_json::from_str(text).expect("fixture parses");
        let mut after = before.clone();
        // Restart the listener of port 9000 (it has findings): new cookie, new pid.
        let s = after
            .sockets
            .iter_mut()
            .find(|s| s.local_port == 9000)
            .expect("port 9000");
        let old = s.id.clone();
        s.cookie += 0x1000;
        s.id = SocketId::new(s.netns, s.cookie);
        let new = s.id.clone();
        s.holders.iter_mut().for_each(|h| h.pid += 1);
        for f in &mut after.findings {
            f.sockets
                .iter_mut()
                .filter(|id| **id == old)
                .for_each(|id| *id = new.clone());
        }
        let d = diff(&before, &after);
        assert_eq!(d.sockets.len(), 1, "{d:#?}");
        assert_eq!(d.sockets[0].before_id, Some(old));
        assert_eq!(d.sockets[0].fields[0].field, "socket");
        assert!(d.findings.is_empty(), "{:#?}", d.findings);
    }

    #[test]
    fn appeared_and_disappeared() {
        let (a, b, c) = (sock(1, 80, 10), sock(2, 81, 10), sock(3, 82, 10));
        let d = diff(&snap(vec![a.clone(), b.clone()]), &snap(vec![b, c.clone()]));
        let got: Vec<(ChangeKind, &SocketId)> =
            d.sockets.iter().map(|c| (c.kind, &c.socket.id)).collect();
        assert_eq!(
            got,
            vec![
                (ChangeKind::Appeared, &c.id),
                (ChangeKind::Disappeared, &a.id)
            ]
        );
        let n = d.counts();
        assert_eq!((n.appeared, n.disappeared, n.changed), (1, 1, 0));
    }

    #[test]
    fn a_recreated_socket_is_matched_by_endpoint() {
        let d = diff(&snap(vec![sock(1, 80, 10)]), &snap(vec![sock(9, 80, 11)]));
        let f = fields_of(&d);
        assert_eq!(
            f[0],
            (
                "socket".into(),
                FieldKind::Value,
                "1-1".into(),
                "1-9".into()
            )
        );
        assert_eq!(f[1].0, "holders");
        assert_eq!(d.sockets[0].before_id, Some(SocketId("1-1".into())));
        assert_eq!(d.sockets[0].socket.id, SocketId("1-9".into()));
    }

    #[test]
    fn never_paired_across_protocols_namespaces_or_ports() {
        let base = sock(1, 80, 10);
        type Mutation = (&'static str, fn(&mut Socket));
        let mutations: [Mutation; 4] = [
            ("proto", |s| s.proto = Proto::Udp),
            ("netns", |s| s.netns = NetnsId(2)),
            ("state", |s| s.state = State::Close),
            ("addr", |s| s.local_addr = "::1".parse().expect("addr")),
        ];
        for (name, mutate) in mutations {
            let mut other = sock(2, 80, 10);
            mutate(&mut other);
            let d = diff(&snap(vec![base.clone()]), &snap(vec![other]));
            let kinds: Vec<ChangeKind> = d.sockets.iter().map(|c| c.kind).collect();
            assert_eq!(
                kinds,
                vec![ChangeKind::Appeared, ChangeKind::Disappeared],
                "{name}"
            );
        }
    }

    #[test]
    fn an_equal_id_on_another_port_is_not_the_same_socket() {
        // Two hosts can hand out the same id (same first namespace inode, small cookies).
        let mut other = sock(1, 81, 10);
        other.id = sock(1, 80, 10).id;
        let d = diff(&snap(vec![sock(1, 80, 10)]), &snap(vec![other]));
        assert_eq!(d.counts().appeared, 1);
        assert_eq!(d.counts().disappeared, 1);
    }

    #[test]
    fn between_two_hosts_other_ids_are_not_recreations() {
        let before = snap(vec![sock(1, 80, 10)]);
        let mut after = snap(vec![sock(9, 80, 10)]);
        after.host.hostname = "other".into();
        let d = diff(&before, &after);
        assert!(d.is_empty(), "same service on both hosts: {d:#?}");
    }

    #[test]
    fn a_reuseport_group_of_three_with_one_member_replaced() {
        let group = |cookies: [u64; 3], pids: [u32; 3]| {
            cookies
                .iter()
                .zip(pids)
                .map(|(&c, p)| sock(c, 80, p))
                .collect::<Vec<_>>()
        };
        let before = snap(group([1, 2, 3], [10, 11, 12]));
        let after = snap(group([1, 2, 7], [10, 11, 13]));
        let d = diff(&before, &after);
        assert_eq!(d.sockets.len(), 1, "{d:#?}");
        assert_eq!(d.sockets[0].before_id, Some(SocketId("1-3".into())));
        let holders = &d.sockets[0].fields[1];
        assert_eq!(holders.added, vec!["web\x1b[31m[13] (www-data)"]);
        assert_eq!(holders.removed, vec!["web\x1b[31m[12] (www-data)"]);
    }

    #[test]
    fn a_group_restarted_pairs_by_holders_then_cookie_and_leaves_extras() {
        // Member pid 11 reopened its socket; the others restarted as pids 20 and 21, and
        // one fewer came back.
        let before = snap(vec![sock(1, 80, 10), sock(2, 80, 11), sock(3, 80, 12)]);
        let after = snap(vec![sock(9, 80, 21), sock(8, 80, 11)]);
        let d = diff(&before, &after);
        let got: Vec<(ChangeKind, Option<&str>, &str)> = d
            .sockets
            .iter()
            .map(|c| {
                (
                    c.kind,
                    c.before_id.as_ref().map(|i| i.0.as_str()),
                    c.socket.id.0.as_str(),
                )
            })
            .collect();
        assert_eq!(
            got,
            vec![
                (ChangeKind::Disappeared, None, "1-3"),
                (ChangeKind::Changed, Some("1-2"), "1-8"),
                (ChangeKind::Changed, Some("1-1"), "1-9"),
            ]
        );
        // Same input in another order: the same diff.
        let mut shuffled = after.clone();
        shuffled.sockets.reverse();
        let mut b2 = before.clone();
        b2.sockets.reverse();
        assert_eq!(diff(&b2, &shuffled).sockets, d.sockets);
    }

    #[test]
    fn field_changes() {
        type Case = (
            &'static str,
            fn(&mut Socket),
            &'static [(&'static str, FieldKind, &'static str, &'static str)],
        );
        let cases: &[Case] = &[
            (
                "user",
                |s| {
                    s.uid = 1002;
                    s.user = Some("bob".into());
                },
                &[
                    ("uid", FieldKind::Value, "1001", "1002"),
                    ("user", FieldKind::Value, "alice", "bob"),
                ],
            ),
            (
                "address became tentative",
                |s| {
                    s.scope = Scope::Specific;
                    s.address_state = AddressState::Tentative;
                },
                &[
                    ("scope", FieldKind::Value, "wildcard", "specific"),
                    ("address_state", FieldKind::Value, "any", "TENTATIVE"),
                ],
            ),
            (
                "unknown option became known",
                |s| {
                    s.options.reuseport = Some(true);
                    s.options.reasons.clear();
                },
                &[("reuseport", FieldKind::BecameKnown, "?", "true")],
            ),
            (
                "known option became unknown",
                |s| s.options.reuseaddr = None,
                &[("reuseaddr", FieldKind::BecameUnknown, "true", "?")],
            ),
            (
                "not applicable is not unknown",
                |s| {
                    s.options.v6only = None;
                    s.options.reasons.insert(
                        OptionName::V6only,
                        crate::model::Missing::NotApplicable(Reason::from(
                            "not applicable to IPv4 sockets",
                        )),
                    );
                },
                &[("v6only", FieldKind::Value, "true", "n/a")],
            ),
            (
                "numeric options and device",
                |s| {
                    s.options.defer_accept = Some(0);
                    s.options.fastopen = Some(5);
                    s.options.bind_device = None;
                },
                &[
                    ("defer_accept", FieldKind::Value, "7s", "off"),
                    ("fastopen", FieldKind::Value, "off", "5"),
                    ("bind_device", FieldKind::Value, "lo", "none"),
                ],
            ),
            (
                "state, as the table names it",
                |s| s.state = State::Close,
                &[("state", FieldKind::Value, "listen", "bound")],
            ),
            (
                "holder added, fd ignored",
                |s| {
                    s.holders[0].fd = 99;
                    s.holders.push(holder("nginx", 40, "root"));
                },
                &[(
                    "holders",
                    FieldKind::Value,
                    "web\x1b[31m[42] (www-data)",
                    "nginx[40] (root), web\x1b[31m[42] (www-data)",
                )],
            ),
            (
                "holders gone",
                |s| {
                    s.holders.clear();
                    s.holders_unknown = Some("needs root".into());
                },
                &[(
                    "holders",
                    FieldKind::Value,
                    "web\x1b[31m[42] (www-data)",
                    "(none visible)",
                )],
            ),
            (
                "queues come last",
                |s| {
                    s.accept_queue = Some(AcceptQueue {
                        len: 100,
                        backlog: 128,
                    });
                    s.syn_recv = None;
                    s.uid = 0;
                },
                &[
                    ("uid", FieldKind::Value, "1001", "0"),
                    ("accept_queue", FieldKind::Queue, "3/128", "100/128"),
                    ("syn_recv", FieldKind::Queue, "2", "-"),
                ],
            ),
        ];
        for (name, mutate, want) in cases {
            let mut after = socket();
            mutate(&mut after);
            let d = diff(&snap(vec![socket()]), &snap(vec![after]));
            let want: Vec<(String, FieldKind, String, String)> = want
                .iter()
                .map(|&(f, k, b, a)| (f.into(), k, b.into(), a.into()))
                .collect();
            assert_eq!(fields_of(&d), want, "{name}");
        }
    }

    #[test]
    fn holder_added_and_removed_are_listed() {
        let mut before = socket();
        before.holders.push(holder("nginx", 12, "www-data"));
        let mut after = socket();
        after.holders = vec![holder("nginx", 12, "www-data"), holder("nginx", 40, "root")];
        let d = diff(&snap(vec![before]), &snap(vec![after]));
        let f = &d.sockets[0].fields[0];
        assert_eq!(f.before, "nginx[12] (www-data), web\x1b[31m[42] (www-data)");
        assert_eq!(f.after, "nginx[12] (www-data), nginx[40] (root)");
        assert_eq!(f.added, vec!["nginx[40] (root)"]);
        assert_eq!(f.removed, vec!["web\x1b[31m[42] (www-data)"]);
    }

    #[test]
    fn queue_only_changes_are_counted_apart() {
        let mut busy = sock(2, 81, 10);
        busy.syn_recv = Some(9);
        let mut moved = sock(3, 82, 10);
        moved.accept_queue = Some(AcceptQueue {
            len: 0,
            backlog: 128,
        });
        moved.uid = 0;
        let before = snap(vec![sock(2, 81, 10), sock(3, 82, 10)]);
        let d = diff(&before, &snap(vec![busy, moved]));
        let c = d.counts();
        assert_eq!((c.changed, c.queue_only), (1, 1), "{d:#?}");
        assert!(d.sockets[0].queue_only());
        assert!(!d.sockets[1].queue_only());
        assert!(!d.is_empty());
    }

    #[test]
    fn findings_new_resolved_and_kept_through_a_restart() {
        let (a, b, c) = (sock(1, 80, 10), sock(2, 81, 10), sock(3, 82, 10));
        let restarted = sock(9, 80, 11);
        let mut before = snap(vec![a.clone(), b.clone(), c.clone()]);
        before.findings = vec![
            finding("family_split", &[&a]),
            finding("listen_race", &[&b]),
            finding("tentative_bind", &[]),
        ];
        let mut after = snap(vec![restarted.clone(), b.clone(), c.clone()]);
        after.findings = vec![
            finding("family_split", &[&restarted]),
            finding("blocking_listener", &[&c]),
            finding("tentative_bind", &[]),
        ];
        let d = diff(&before, &after);
        let got: Vec<(FindingChangeKind, &str)> = d
            .findings
            .iter()
            .map(|f| (f.kind, f.finding.kind.name()))
            .collect();
        assert_eq!(
            got,
            vec![
                (FindingChangeKind::New, "blocking_listener"),
                (FindingChangeKind::Resolved, "listen_race"),
            ]
        );
        let n = d.counts();
        assert_eq!((n.new_findings, n.resolved_findings), (1, 1));
    }

    #[test]
    fn namespace_changes() {
        let mut b = netns(1, Some("host"), None);
        b.sysctls.somaxconn = Some(4096);
        b.counters.listen_overflows = Some(10);
        b.counters.listen_drops = Some(50);
        b.interfaces = vec![Interface {
            index: 2,
            name: "eth0".into(),
            up: true,
            loopback: false,
            carrier: true,
            addresses: vec![InterfaceAddr {
                addr: "2001:db8::1".parse().expect("addr"),
                prefix_len: 64,
                scope: "global".into(),
                flags: vec![AddrFlag::Tentative],
            }],
        }];
        let mut a = b.clone();
        a.sysctls.somaxconn = Some(128);
        a.counters.listen_overflows = Some(15);
        a.counters.listen_drops = Some(3); // fell: a reset, not reported
        a.interfaces[0].carrier = false;
        a.interfaces[0].addresses[0].flags = vec![AddrFlag::Dadfailed, AddrFlag::Tentative];
        a.interfaces[0].addresses.push(InterfaceAddr {
            addr: "192.0.2.1".parse().expect("addr"),
            prefix_len: 24,
            scope: "global".into(),
            flags: vec![],
        });
        let before = snapshot_of(vec![], vec![b, netns(3, None, None)]);
        let after = snapshot_of(vec![], vec![a, netns(2, Some("web"), None)]);
        let d = diff(&before, &after);
        let kinds: Vec<(ChangeKind, u64)> = d.netns.iter().map(|n| (n.kind, n.id.0)).collect();
        assert_eq!(
            kinds,
            vec![
                (ChangeKind::Appeared, 2),
                (ChangeKind::Disappeared, 3),
                (ChangeKind::Changed, 1)
            ]
        );
        let fields: Vec<(&str, Option<&str>, &str, &str)> = d.netns[2]
            .fields
            .iter()
            .map(|f| {
                (
                    f.field.as_str(),
                    f.subject.as_deref(),
                    f.before.as_str(),
                    f.after.as_str(),
                )
            })
            .collect();
        assert_eq!(
            fields,
            vec![
                ("net.core.somaxconn", None, "4096", "128"),
                ("link", Some("eth0"), "up, carrier", "up, no carrier"),
                (
                    "addresses",
                    None,
                    "eth0 2001:db8::1/64",
                    "eth0 192.0.2.1/24, eth0 2001:db8::1/64"
                ),
                (
                    "address_flags",
                    Some("eth0 2001:db8::1/64"),
                    "tentative",
                    "tentative,dadfailed"
                ),
                ("ListenOverflows", None, "10", "15 (+5)"),
            ]
        );
        assert_eq!(d.netns[2].fields[2].added, vec!["eth0 192.0.2.1/24"]);
        assert_eq!(d.counts().netns, 3);
    }

    #[test]
    fn a_namespace_not_entered_compares_no_interfaces_or_counters() {
        let mut b = netns(1, Some("host"), None);
        b.sysctls.somaxconn = Some(4096);
        let a = netns(1, Some("host"), Some("needs CAP_SYS_ADMIN"));
        let d = diff(&snapshot_of(vec![], vec![b]), &snapshot_of(vec![], vec![a]));
        let fields: Vec<&str> = d.netns[0].fields.iter().map(|f| f.field.as_str()).collect();
        assert_eq!(fields, vec!["entered"]);
        assert_eq!(d.netns[0].fields[0].after, "no: needs CAP_SYS_ADMIN");
    }

    #[test]
    fn malformed_duplicate_ids_do_not_panic() {
        let s = snap(vec![sock(1, 80, 10), sock(1, 80, 10), sock(1, 81, 10)]);
        let t = snap(vec![sock(1, 80, 10)]);
        let d = diff(&s, &t);
        assert_eq!(d.counts().disappeared, 2, "{d:#?}");
        let d = diff(&t, &s);
        assert_eq!(d.counts().appeared, 2, "{d:#?}");
    }
}
