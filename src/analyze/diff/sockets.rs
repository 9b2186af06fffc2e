//! The changes of the sockets: appeared, disappeared, and the fields of a matched pair
//! that differ.

use super::matching::Matching;
use super::{ChangeKind, FieldChange, FieldKind, SocketChange};
use crate::model::{
    Family, NetnsId, OptionName, Options, Proto, Snapshot, Socket, SocketId, State,
};
use std::collections::BTreeSet;
use std::net::IpAddr;

pub(super) fn socket_changes(
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

pub(super) fn push_value(out: &mut Vec<FieldChange>, field: &str, before: String, after: String) {
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

pub(super) fn or_dash(s: Option<&str>) -> String {
    s.unwrap_or("-").to_string()
}

/// An option as read: a value, unknown, or not applicable to this socket.
#[derive(PartialEq)]
pub(super) enum OptionValue {
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

pub(super) fn option_change(field: &str, b: OptionValue, a: OptionValue) -> Option<FieldChange> {
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
