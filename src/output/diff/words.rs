//! The words of a diff's field changes, written once: `bindscope diff`'s report and JSON
//! document and the dashboard's Changes view all take them from here. The values are raw
//! (strings from the snapshots as they are); whoever prints them cleans them.
//!
//! Unknown is `?`, an option that does not apply `n/a`, nothing `-`; states are named as the
//! table names them ([`Socket::state_label`]) and endpoints as `ss` prints them
//! ([`endpoint`]).

use crate::analyze::diff::{
    Change, FieldKind, HolderKey, HolderUser, Holders, IfAddr, LinkState, NetnsChange, NetnsField,
    OptionRead, OptionSetting, Remote, SocketChange, SocketField,
};
use crate::model::addr::endpoint;
use crate::model::{AddrFlag, Socket, State};
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
            FieldWords::of(name.name(), kind, change, option_read)
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

fn option_read(v: &OptionRead) -> String {
    match v {
        OptionRead::Known(setting) => option_setting(setting),
        OptionRead::Unknown => "?".into(),
        OptionRead::NotApplicable => "n/a".into(),
    }
}

fn option_setting(s: &OptionSetting) -> String {
    match s {
        OptionSetting::Flag(b) => b.to_string(),
        OptionSetting::Seconds(0) | OptionSetting::Count(0) => "off".into(),
        OptionSetting::Seconds(n) => format!("{n}s"),
        OptionSetting::Count(n) => n.to_string(),
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

#[cfg(test)]
mod tests {
    //! The words of each sort of change, from real diffs of small snapshots (the typed
    //! changes themselves are tested in `analyze::diff`).

    use super::*;
    use crate::analyze::diff::diff;
    use crate::model::{
        AcceptQueue, AddressState, Holder, Interface, InterfaceAddr, Missing, OptionName, Proto,
        Reason, Scope, Snapshot, SocketId,
    };
    use crate::testing::{netns, snapshot_of, socket};
    use std::sync::Arc;

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

    /// (field, kind, before, after) of each change of the only socket change, in words.
    fn fields_of(d: &crate::analyze::diff::Diff) -> Vec<(String, FieldKind, String, String)> {
        assert_eq!(d.sockets.len(), 1, "{:#?}", d.sockets);
        socket_fields(&d.sockets[0])
            .into_iter()
            .map(|f| (f.field, f.kind, f.before, f.after))
            .collect()
    }

    #[test]
    fn sysctls_as_files_hold_them_names_and_interfaces() {
        let mut b = netns(1, Some("host"), None);
        b.sysctls.ip_local_port_range = Some([32768, 60999]);
        let mut a = b.clone();
        a.sysctls.ip_local_port_range = Some([1024, 65535]);
        a.sysctls.somaxconn = Some(4096);
        a.name = None;
        a.interfaces.push(Interface {
            index: 3,
            name: "eth1".into(),
            up: false,
            loopback: false,
            carrier: false,
            addresses: vec![],
        });
        let d = diff(&snapshot_of(vec![], vec![b]), &snapshot_of(vec![], vec![a]));
        let words = netns_fields(&d.netns[0]);
        let got: Vec<(&str, FieldKind, &str, &str)> = words
            .iter()
            .map(|f| {
                (
                    f.field.as_str(),
                    f.kind,
                    f.before.as_str(),
                    f.after.as_str(),
                )
            })
            .collect();
        assert_eq!(
            got,
            vec![
                ("name", FieldKind::Value, "host", "-"),
                ("net.core.somaxconn", FieldKind::BecameKnown, "?", "4096"),
                (
                    "net.ipv4.ip_local_port_range",
                    FieldKind::Value,
                    "32768 60999",
                    "1024 65535"
                ),
                ("interfaces", FieldKind::Value, "(none)", "eth1"),
            ]
        );
        assert_eq!(words[3].added, vec!["eth1"]);
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
                        Missing::NotApplicable(Reason::from("not applicable to IPv4 sockets")),
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
                "udp states, as the table names them",
                |s| {
                    s.proto = Proto::Udp;
                    s.state = State::Established;
                },
                &[("state", FieldKind::Value, "listen", "connected")],
            ),
            (
                "endpoints, as ss prints them",
                |s| {
                    s.local_addr = "::1".parse().expect("addr");
                    s.remote_addr = Some("192.0.2.9".parse().expect("addr"));
                    s.remote_port = Some(443);
                    s.device = None;
                },
                &[
                    ("local", FieldKind::Value, "[::]:8080", "[::1]:8080"),
                    ("remote", FieldKind::Value, "-", "192.0.2.9:443"),
                    ("device", FieldKind::Value, "lo", "-"),
                ],
            ),
            (
                "a remote address without a port",
                |s| s.remote_addr = Some("2001:db8::9".parse().expect("addr")),
                &[("remote", FieldKind::Value, "-", "2001:db8::9")],
            ),
            (
                "recreated, and held by the kernel",
                |s| {
                    s.id = SocketId("1-9".into());
                    s.inode = 0;
                    s.holders.clear();
                },
                &[
                    ("socket", FieldKind::Value, "1-2a", "1-9"),
                    (
                        "holders",
                        FieldKind::Value,
                        "web\x1b[31m[42] (www-data)",
                        "(none: kernel-held)",
                    ),
                ],
            ),
            (
                "a user without a name",
                |s| {
                    s.user = None;
                    s.holders[0].user = None;
                },
                &[
                    ("user", FieldKind::Value, "alice", "-"),
                    (
                        "holders",
                        FieldKind::Value,
                        "web\x1b[31m[42] (www-data)",
                        "web\x1b[31m[42] (uid 33)",
                    ),
                ],
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
            // One protocol on both sides, as in every matched pair: the udp case is `listen`
            // before only because no udp socket listens.
            let mut before = socket();
            before.proto = after.proto;
            let d = diff(&snap(vec![before]), &snap(vec![after]));
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
        let f = &socket_fields(&d.sockets[0])[0];
        assert_eq!(f.before, "nginx[12] (www-data), web\x1b[31m[42] (www-data)");
        assert_eq!(f.after, "nginx[12] (www-data), nginx[40] (root)");
        assert_eq!(f.added, vec!["nginx[40] (root)"]);
        assert_eq!(f.removed, vec!["web\x1b[31m[42] (www-data)"]);
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
        let words = netns_fields(&d.netns[2]);
        let fields: Vec<(&str, Option<&str>, &str, &str)> = words
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
        assert_eq!(words[2].added, vec!["eth0 192.0.2.1/24"]);
    }

    #[test]
    fn a_namespace_not_entered() {
        let mut b = netns(1, Some("host"), None);
        b.sysctls.somaxconn = Some(4096);
        let a = netns(1, Some("host"), Some("needs CAP_SYS_ADMIN"));
        let d = diff(&snapshot_of(vec![], vec![b]), &snapshot_of(vec![], vec![a]));
        let words = netns_fields(&d.netns[0]);
        let fields: Vec<(&str, &str, &str)> = words
            .iter()
            .map(|f| (f.field.as_str(), f.before.as_str(), f.after.as_str()))
            .collect();
        assert_eq!(fields, vec![("entered", "yes", "no: needs CAP_SYS_ADMIN")]);
    }
}
