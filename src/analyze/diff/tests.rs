use super::*;
use crate::model::{
    AcceptQueue, AddrFlag, AddressState, FindingKind, Holder, Interface, InterfaceAddr, OptionName,
    Proto, Reason, Scope, Severity, State,
};
use crate::testing::{netns, snapshot_of, socket};
use serde_json::json;
use std::collections::BTreeSet;
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

/// The fields of the only socket change.
fn fields_of(d: &Diff) -> &[SocketField] {
    assert_eq!(d.sockets.len(), 1, "{:#?}", d.sockets);
    assert_eq!(d.sockets[0].kind, ChangeKind::Changed);
    &d.sockets[0].fields
}

fn change<T>(before: T, after: T) -> Change<T> {
    Change { before, after }
}

/// A holder as the diff compares it.
fn key(name: &str, pid: u32, user: &str) -> HolderKey {
    HolderKey {
        pid,
        name: name.into(),
        user: HolderUser::Name(user.into()),
    }
}

/// `socket()`'s only holder.
fn web(pid: u32) -> HolderKey {
    key("web\x1b[31m", pid, "www-data")
}

fn held(keys: &[HolderKey]) -> Holders {
    Holders::Held(keys.iter().cloned().collect())
}

fn option(name: OptionName, before: OptionRead, after: OptionRead) -> SocketField {
    SocketField::Option {
        name,
        change: change(before, after),
    }
}

fn known(s: OptionSetting) -> OptionRead {
    OptionRead::Known(s)
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
    let text = include_str!("../../../tests/fixtures/demo-snapshot.json");
    let s: Snapshot = serde_json::from_str(text).expect("fixture parses");
    let d = diff(&s, &s);
    assert!(d.is_empty(), "{d:#?}");
    assert_eq!(d.after.sockets, s.sockets.len());
    assert_eq!(d.netns_names.len(), 2);
}

#[test]
fn a_restart_in_the_demo_fixture_is_one_change_and_keeps_its_findings() {
    let text = include_str!("../../../tests/fixtures/demo-snapshot.json");
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
    assert_eq!(d.sockets[0].before_id, Some(old.clone()));
    assert_eq!(
        d.sockets[0].fields[0],
        SocketField::Socket(change(old, new))
    );
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
        SocketField::Socket(change(SocketId("1-1".into()), SocketId("1-9".into())))
    );
    assert_eq!(
        f[1],
        SocketField::Holders(change(held(&[web(10)]), held(&[web(11)])))
    );
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
    let SocketField::Holders(holders) = &d.sockets[0].fields[1] else {
        panic!("{:#?}", d.sockets[0].fields);
    };
    assert_eq!(holders.added(), vec![&web(13)]);
    assert_eq!(holders.removed(), vec![&web(12)]);
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
    type Case = (&'static str, fn(&mut Socket), Vec<SocketField>);
    use OptionSetting::{Count, Device, Flag, Seconds};
    let cases: Vec<Case> = vec![
        (
            "user",
            |s| {
                s.uid = 1002;
                s.user = Some("bob".into());
            },
            vec![
                SocketField::Uid(change(1001, 1002)),
                SocketField::User(change(Some("alice".into()), Some("bob".into()))),
            ],
        ),
        (
            "address became tentative",
            |s| {
                s.scope = Scope::Specific;
                s.address_state = AddressState::Tentative;
            },
            vec![
                SocketField::Scope(change(Scope::Wildcard, Scope::Specific)),
                SocketField::AddressState(change(AddressState::Any, AddressState::Tentative)),
            ],
        ),
        (
            "unknown option became known",
            |s| {
                s.options.reuseport = Some(true);
                s.options.reasons.clear();
            },
            vec![option(
                OptionName::Reuseport,
                OptionRead::Unknown,
                known(Flag(true)),
            )],
        ),
        (
            "known option became unknown",
            |s| s.options.reuseaddr = None,
            vec![option(
                OptionName::Reuseaddr,
                known(Flag(true)),
                OptionRead::Unknown,
            )],
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
            vec![option(
                OptionName::V6only,
                known(Flag(true)),
                OptionRead::NotApplicable,
            )],
        ),
        (
            "numeric options and device",
            |s| {
                s.options.defer_accept = Some(0);
                s.options.fastopen = Some(5);
                s.options.bind_device = None;
            },
            vec![
                option(
                    OptionName::DeferAccept,
                    known(Seconds(7)),
                    known(Seconds(0)),
                ),
                option(OptionName::Fastopen, known(Count(0)), known(Count(5))),
                option(
                    OptionName::BindDevice,
                    known(Device(Some("lo".into()))),
                    known(Device(None)),
                ),
            ],
        ),
        (
            "state",
            |s| s.state = State::Close,
            vec![SocketField::State(change(State::Listen, State::Close))],
        ),
        (
            "a connection's remote end",
            |s| {
                s.remote_addr = Some("192.0.2.9".parse().expect("addr"));
                s.remote_port = Some(443);
            },
            vec![SocketField::Remote(change(
                Remote {
                    addr: None,
                    port: None,
                },
                Remote {
                    addr: Some("192.0.2.9".parse().expect("addr")),
                    port: Some(443),
                },
            ))],
        ),
        (
            "holder added, fd ignored",
            |s| {
                s.holders[0].fd = 99;
                s.holders.push(holder("nginx", 40, "root"));
            },
            vec![SocketField::Holders(change(
                held(&[web(42)]),
                held(&[web(42), key("nginx", 40, "root")]),
            ))],
        ),
        (
            "holders gone",
            |s| {
                s.holders.clear();
                s.holders_unknown = Some("needs root".into());
            },
            vec![SocketField::Holders(change(
                held(&[web(42)]),
                Holders::NotVisible,
            ))],
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
            vec![
                SocketField::Uid(change(1001, 0)),
                SocketField::AcceptQueue(change(
                    Some(AcceptQueue {
                        len: 3,
                        backlog: 128,
                    }),
                    Some(AcceptQueue {
                        len: 100,
                        backlog: 128,
                    }),
                )),
                SocketField::SynRecv(change(Some(2), None)),
            ],
        ),
    ];
    for (name, mutate, want) in cases {
        let mut after = socket();
        mutate(&mut after);
        let d = diff(&snap(vec![socket()]), &snap(vec![after]));
        assert_eq!(fields_of(&d), want, "{name}");
    }
}

#[test]
fn what_sort_of_change_each_field_is() {
    use OptionSetting::Flag;
    let cases = [
        (
            option(
                OptionName::Reuseport,
                OptionRead::Unknown,
                known(Flag(true)),
            ),
            FieldKind::BecameKnown,
        ),
        (
            option(
                OptionName::Reuseport,
                known(Flag(true)),
                OptionRead::Unknown,
            ),
            FieldKind::BecameUnknown,
        ),
        (
            option(
                OptionName::V6only,
                OptionRead::NotApplicable,
                known(Flag(true)),
            ),
            FieldKind::Value,
        ),
        (
            option(OptionName::V6only, known(Flag(false)), known(Flag(true))),
            FieldKind::Value,
        ),
        (
            SocketField::SynRecv(change(Some(1), None)),
            FieldKind::Queue,
        ),
        (
            SocketField::AcceptQueue(change(None, None)),
            FieldKind::Queue,
        ),
        (SocketField::Uid(change(1, 2)), FieldKind::Value),
    ];
    for (field, kind) in cases {
        assert_eq!(field.kind(), kind, "{field:?}");
    }
    let sysctl = |before, after| NetnsField::Sysctl {
        name: "net.core.somaxconn".into(),
        change: change(before, after),
    };
    assert_eq!(sysctl(None, Some(json!(1))).kind(), FieldKind::BecameKnown);
    assert_eq!(
        sysctl(Some(json!(1)), None).kind(),
        FieldKind::BecameUnknown
    );
    assert_eq!(
        sysctl(Some(json!(1)), Some(json!(2))).kind(),
        FieldKind::Value
    );
}

#[test]
fn what_the_table_would_not_show_is_no_change() {
    type Case = (&'static str, fn(&mut Socket), fn(&mut Socket));
    let cases: [Case; 3] = [
        (
            // Both `bound` in the table.
            "close and bound_inactive on tcp",
            |s| s.state = State::Close,
            |s| s.state = State::BoundInactive,
        ),
        (
            // Why a list is empty is not a change of who holds the socket.
            "no holders, for another reason",
            |s| s.holders.clear(),
            |s| {
                s.holders.clear();
                s.holders_unknown = Some("needs root".into());
            },
        ),
        (
            "a remote port without an address",
            |_| {},
            |s| s.remote_port = Some(9),
        ),
    ];
    for (name, b, a) in cases {
        let (mut before, mut after) = (socket(), socket());
        b(&mut before);
        a(&mut after);
        let d = diff(&snap(vec![before]), &snap(vec![after]));
        assert!(d.is_empty(), "{name}: {d:#?}");
    }
}

#[test]
fn holder_added_and_removed_are_listed() {
    let mut before = socket();
    before.holders.push(holder("nginx", 12, "www-data"));
    let mut after = socket();
    after.holders = vec![holder("nginx", 12, "www-data"), holder("nginx", 40, "root")];
    let d = diff(&snap(vec![before]), &snap(vec![after]));
    let SocketField::Holders(c) = &d.sockets[0].fields[0] else {
        panic!("{:#?}", d.sockets[0].fields);
    };
    assert_eq!(c.added(), vec![&key("nginx", 40, "root")]);
    assert_eq!(c.removed(), vec![&web(42)]);
    // A holder whose user has no name is told apart by its uid.
    let mut nameless = holder("nginx", 12, "www-data");
    nameless.user = None;
    assert_eq!(
        Holders::of(&Socket {
            holders: vec![nameless],
            ..socket()
        }),
        Holders::Held(BTreeSet::from([HolderKey {
            pid: 12,
            name: "nginx".into(),
            user: HolderUser::Uid(33),
        }]))
    );
}

#[test]
fn addresses_are_in_the_order_they_read() {
    let at = |addr: &str, prefix_len| IfAddr {
        interface: "eth0".into(),
        addr: addr.parse().expect("addr"),
        prefix_len,
    };
    let set: Vec<IfAddr> = BTreeSet::from([
        at("9.0.0.1", 8),
        at("10.0.0.1", 8),
        at("2001:db8::1", 64),
        at("10.0.0.1", 16),
    ])
    .into_iter()
    .collect();
    assert_eq!(
        set,
        vec![
            at("10.0.0.1", 16),
            at("10.0.0.1", 8),
            at("2001:db8::1", 64),
            at("9.0.0.1", 8),
        ]
    );
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
    a.counters.listen_drops = Some(3);
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
    let eth0 = |addr: &str, prefix_len| IfAddr {
        interface: "eth0".into(),
        addr: addr.parse().expect("addr"),
        prefix_len,
    };
    let (v6, v4) = (eth0("2001:db8::1", 64), eth0("192.0.2.1", 24));
    let link = |up, carrier| LinkState { up, carrier };
    assert_eq!(
        d.netns[2].fields,
        vec![
            NetnsField::Sysctl {
                name: "net.core.somaxconn".into(),
                change: change(Some(json!(4096)), Some(json!(128))),
            },
            NetnsField::Link {
                interface: "eth0".into(),
                change: change(link(true, true), link(true, false)),
            },
            NetnsField::Addresses(change(
                BTreeSet::from([v6.clone()]),
                BTreeSet::from([v4, v6.clone()])
            )),
            NetnsField::AddressFlags {
                address: v6,
                change: change(
                    BTreeSet::from([AddrFlag::Tentative]),
                    BTreeSet::from([AddrFlag::Tentative, AddrFlag::Dadfailed])
                ),
            },
            // ListenDrops fell from 50 to 3: a reset, not reported.
            NetnsField::CounterRose {
                name: "ListenOverflows".into(),
                change: change(10, 15),
            },
        ]
    );
    assert_eq!(d.counts().netns, 3);
}

#[test]
fn a_namespace_not_entered_compares_no_interfaces_or_counters() {
    let mut b = netns(1, Some("host"), None);
    b.sysctls.somaxconn = Some(4096);
    let a = netns(1, Some("host"), Some("needs CAP_SYS_ADMIN"));
    let d = diff(&snapshot_of(vec![], vec![b]), &snapshot_of(vec![], vec![a]));
    assert_eq!(
        d.netns[0].fields,
        vec![NetnsField::Entered(change(
            None,
            Some("needs CAP_SYS_ADMIN".into())
        ))]
    );
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
