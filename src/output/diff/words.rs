//! The words of a diff's field changes, written once: `bindscope diff`'s report and JSON
//! document and the dashboard's Changes view all take them from here. The values are raw
//! (strings from the snapshots as they are); whoever prints them cleans them.
//!
//! Unknown is `?`, an option that does not apply `n/a`, nothing `-`; states are named as the
//! table names them ([`Socket::state_label`]) and endpoints as `ss` prints them
//! ([`endpoint`]).

use crate::analyze::diff::{
    Change, FieldKind, HolderKey, HolderUser, Holders, IfAddr, LinkState, NetnsChange, NetnsField,
    OptionSetting, OptionValue, Remote, SocketChange, SocketField,
};
use crate::model::addr::endpoint;
use crate::model::{AddrFlag, OptionName, Socket, State};
use serde::Serialize;
use std::collections::BTreeSet;

/// One field change in words; serialized as the JSON document's `FieldChange`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FieldWords {
    /// `state`, `uid`, `holders`, `reuseport`, `accept_queue`, `socket`, a sysctl or counter
    /// name, `addresses`, `address_flags`, ...
    pub field: String,
    /// What the field belongs to when one change has several of it: the interface of
    /// `link`, the address of `address_flags`.
    pub subject: Option<String>,
    pub kind: FieldKind,
    pub before: String,
    pub after: String,
    /// For set-valued fields (`holders`, `interfaces`, `addresses`): the members only in
    /// `after` and only in `before`; `before` and `after` hold the whole sets.
    pub added: Vec<String>,
    pub removed: Vec<String>,
}

impl FieldWords {
    fn new(field: &str, kind: FieldKind, before: String, after: String) -> FieldWords {
        FieldWords {
            field: field.to_string(),
            subject: None,
            kind,
            before,
            after,
            added: Vec::new(),
            removed: Vec::new(),
        }
    }

    fn of<T>(field: &str, kind: FieldKind, c: &Change<T>, word: impl Fn(&T) -> String) -> Self {
        FieldWords::new(field, kind, word(&c.before), word(&c.after))
    }
}

/// The words of every field of a changed socket, in its order.
pub fn socket_fields(c: &SocketChange) -> Vec<FieldWords> {
    c.fields
        .iter()
        .map(|f| socket_field(f, &c.socket))
        .collect()
}

/// The words of every field of a changed namespace, in its order.
pub fn netns_fields(n: &NetnsChange) -> Vec<FieldWords> {
    n.fields.iter().map(netns_field).collect()
}

/// One field of `s`, the socket the change is about (its protocol names its states).
pub fn socket_field(f: &SocketField, s: &Socket) -> FieldWords {
    let kind = f.kind();
    match f {
        SocketField::Socket(c) => FieldWords::of("socket", kind, c, |id| id.0.clone()),
        SocketField::State(c) => FieldWords::of("state", kind, c, |&st| state_label(s, st).into()),
        SocketField::Local(c) => {
            FieldWords::of("local", kind, c, |&(addr, port)| endpoint(addr, port, None))
        }
        SocketField::Remote(c) => FieldWords::of("remote", kind, c, remote),
        SocketField::Uid(c) => FieldWords::of("uid", kind, c, u32::to_string),
        SocketField::User(c) => FieldWords::of("user", kind, c, |u| or_dash(u.as_deref())),
        SocketField::Device(c) => FieldWords::of("device", kind, c, |d| or_dash(d.as_deref())),
        SocketField::Scope(c) => FieldWords::of("scope", kind, c, |sc| sc.name().into()),
        SocketField::AddressState(c) => {
            FieldWords::of("address_state", kind, c, |st| st.name().into())
        }
        SocketField::Option { name, change } => {
            FieldWords::of(option_name(*name), kind, change, option_value)
        }
        SocketField::Holders(c) => FieldWords {
            added: holder_labels(c.added()),
            removed: holder_labels(c.removed()),
            ..FieldWords::of("holders", kind, c, holders)
        },
        SocketField::AcceptQueue(c) => FieldWords::of("accept_queue", kind, c, |q| match q {
            Some(q) => format!("{}/{}", q.len, q.backlog),
            None => "-".into(),
        }),
        SocketField::SynRecv(c) => FieldWords::of("syn_recv", kind, c, |n| {
            n.map_or_else(|| "-".into(), |n| n.to_string())
        }),
    }
}

/// `state` as the table names it on a socket like `s`: a matched pair never differs in
/// protocol, which is what [`Socket::state_label`] reads besides the state.
fn state_label(s: &Socket, state: State) -> &'static str {
    if s.state == state {
        return s.state_label();
    }
    let mut like = s.clone();
    like.state = state;
    like.state_label()
}

fn remote(r: &Remote) -> String {
    match (r.addr, r.port) {
        (Some(addr), Some(port)) => endpoint(addr, port, None),
        (Some(addr), None) => addr.to_string(),
        (None, _) => "-".into(),
    }
}

fn or_dash(s: Option<&str>) -> String {
    s.unwrap_or("-").to_string()
}

/// An option as files name it (the serde name of [`OptionName`]).
fn option_name(name: OptionName) -> &'static str {
    match name {
        OptionName::Reuseaddr => "reuseaddr",
        OptionName::Reuseport => "reuseport",
        OptionName::V6only => "v6only",
        OptionName::Freebind => "freebind",
        OptionName::Transparent => "transparent",
        OptionName::Nonblocking => "nonblocking",
        OptionName::DeferAccept => "defer_accept",
        OptionName::Fastopen => "fastopen",
        OptionName::BindDevice => "bind_device",
        OptionName::Other => "other",
    }
}

fn option_value(v: &OptionValue) -> String {
    match v {
        OptionValue::Known(setting) => option_setting(setting),
        OptionValue::Unknown => "?".into(),
        OptionValue::NotApplicable => "n/a".into(),
    }
}

fn option_setting(s: &OptionSetting) -> String {
    match s {
        OptionSetting::Flag(b) => b.to_string(),
        OptionSetting::Seconds(0) | OptionSetting::QueueLen(0) => "off".into(),
        OptionSetting::Seconds(n) => format!("{n}s"),
        OptionSetting::QueueLen(n) => n.to_string(),
        OptionSetting::Device(Some(d)) => d.clone(),
        OptionSetting::Device(None) => "none".into(),
    }
}

/// `nginx[12] (www-data)`, or `(uid 33)` when the name is unknown.
fn holder_label(h: &HolderKey) -> String {
    let user = match &h.user {
        HolderUser::Name(u) => u.to_string(),
        HolderUser::Uid(uid) => format!("uid {uid}"),
    };
    format!("{}[{}] ({user})", h.name, h.pid)
}

/// Holders in pid order, then as they read.
fn holder_labels<'a>(hs: impl IntoIterator<Item = &'a HolderKey>) -> Vec<String> {
    let sorted: BTreeSet<(u32, String)> =
        hs.into_iter().map(|h| (h.pid, holder_label(h))).collect();
    sorted.into_iter().map(|(_, label)| label).collect()
}

/// The whole holder set, or why it is empty.
fn holders(h: &Holders) -> String {
    match h {
        Holders::Held(set) => holder_labels(set).join(", "),
        Holders::KernelHeld => "(none: kernel-held)".into(),
        Holders::NotVisible => "(none visible)".into(),
        Holders::None => "(none)".into(),
    }
}

pub fn netns_field(f: &NetnsField) -> FieldWords {
    let kind = f.kind();
    match f {
        NetnsField::Name(c) => FieldWords::of("name", kind, c, |n| or_dash(n.as_deref())),
        NetnsField::Entered(c) => FieldWords::of("entered", kind, c, |error| match error {
            None => "yes".into(),
            Some(e) => format!("no: {e}"),
        }),
        NetnsField::Sysctl { name, change } => FieldWords::of(name, kind, change, |v| {
            v.as_ref()
                .and_then(json_value)
                .unwrap_or_else(|| "?".into())
        }),
        NetnsField::Interfaces(c) => set_words("interfaces", kind, c, String::clone),
        NetnsField::Link { interface, change } => FieldWords {
            subject: Some(interface.clone()),
            ..FieldWords::of("link", kind, change, link)
        },
        NetnsField::Addresses(c) => set_words("addresses", kind, c, if_addr),
        NetnsField::AddressFlags { address, change } => FieldWords {
            subject: Some(if_addr(address)),
            ..FieldWords::of("address_flags", kind, change, addr_flags)
        },
        NetnsField::CounterRose { name, change } => FieldWords::new(
            name,
            kind,
            change.before.to_string(),
            format!(
                "{} (+{})",
                change.after,
                change.after.saturating_sub(change.before)
            ),
        ),
    }
}

/// A sysctl's value as its file holds it: a number, or the numbers of a range (`32768
/// 60999`); `None` for null.
fn json_value(v: &serde_json::Value) -> Option<String> {
    match v {
        serde_json::Value::Null => None,
        serde_json::Value::Array(items) => Some(
            items
                .iter()
                .map(|i| json_value(i).unwrap_or_else(|| "?".into()))
                .collect::<Vec<_>>()
                .join(" "),
        ),
        serde_json::Value::String(s) => Some(s.clone()),
        other => Some(other.to_string()),
    }
}

/// A set-valued field: both sets whole (`(none)` when empty) and what was added and removed,
/// in the set's order.
fn set_words<T: Ord>(
    field: &str,
    kind: FieldKind,
    c: &Change<BTreeSet<T>>,
    word: impl Fn(&T) -> String,
) -> FieldWords {
    let whole = |s: &BTreeSet<T>| {
        if s.is_empty() {
            "(none)".to_string()
        } else {
            s.iter().map(&word).collect::<Vec<_>>().join(", ")
        }
    };
    FieldWords {
        added: c.after.difference(&c.before).map(&word).collect(),
        removed: c.before.difference(&c.after).map(&word).collect(),
        ..FieldWords::of(field, kind, c, whole)
    }
}

fn link(l: &LinkState) -> String {
    format!(
        "{}, {}",
        if l.up { "up" } else { "down" },
        if l.carrier { "carrier" } else { "no carrier" }
    )
}

/// `eth0 2001:db8::1/64`.
fn if_addr(a: &IfAddr) -> String {
    format!("{} {}/{}", a.interface, a.addr, a.prefix_len)
}

/// `tentative,dadfailed`, or `none`.
fn addr_flags(flags: &BTreeSet<AddrFlag>) -> String {
    if flags.is_empty() {
        return "none".into();
    }
    flags.iter().map(|f| f.name()).collect::<Vec<_>>().join(",")
}
