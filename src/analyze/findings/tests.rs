//! Table-driven tests per finding kind on built snapshots, with the negatives that matter.

use super::*;
use crate::analyze::history::History;
use crate::model::FindingKind;
use crate::model::*;
use crate::testing::{netns, snapshot_of, socket};
use std::sync::Arc;

/// A bind with every option known and off, held by one process of its own uid.
fn sock(id: &str, proto: Proto, addr: &str, port: u16, uid: u32) -> Socket {
    let mut s = socket();
    s.id = SocketId(id.into());
    s.netns = NetnsId(1);
    s.proto = proto;
    s.local_addr = addr.parse().expect("addr");
    s.family = if s.local_addr.is_ipv4() {
        Family::Ipv4
    } else {
        Family::Ipv6
    };
    s.local_port = port;
    s.uid = uid;
    s.user = None;
    s.device = None;
    s.state = if proto == Proto::Tcp {
        State::Listen
    } else {
        State::Close
    };
    s.accept_queue = (proto == Proto::Tcp).then_some(AcceptQueue {
        len: 0,
        backlog: 128,
    });
    s.syn_recv = (proto == Proto::Tcp).then_some(0);
    s.scope = crate::model::addr::scope_of(s.local_addr, Some(s.family == Family::Ipv6));
    s.address_state = AddressState::Local;
    s.options = Options {
        reuseaddr: Some(false),
        reuseport: Some(false),
        v6only: (s.family == Family::Ipv6).then_some(true),
        freebind: Some(false),
        transparent: Some(false),
        nonblocking: Some(true),
        defer_accept: (proto == Proto::Tcp).then_some(0),
        fastopen: (proto == Proto::Tcp).then_some(0),
        bind_device: None,
        reasons: Default::default(),
    };
    s.holders = vec![Holder {
        pid: 100 + uid,
        fd: 3,
        name: format!("svc{uid}").into(),
        uid,
        ruid: uid,
        user: None,
        cmdline: Arc::from(vec![]),
        unit: None,
        netns: Some(NetnsId(1)),
    }];
    s
}

/// A namespace with IPv4 and IPv6 on lo, unprivileged ports from 1024.
fn host() -> Netns {
    let mut n = netns(1, Some("host"), None);
    n.kind = NetnsKind::Host;
    n.sysctls.ip_unprivileged_port_start = Some(1024);
    n.interfaces = vec![Interface {
        index: 1,
        name: "lo".into(),
        up: true,
        loopback: true,
        carrier: true,
        addresses: vec![
            InterfaceAddr {
                addr: "127.0.0.1".parse().expect("a"),
                prefix_len: 8,
                scope: "host".into(),
                flags: vec![],
            },
            InterfaceAddr {
                addr: "::1".parse().expect("a"),
                prefix_len: 128,
                scope: "host".into(),
                flags: vec![],
            },
        ],
    }];
    n
}

fn run(sockets: Vec<Socket>) -> Vec<Finding> {
    analyze(&snapshot_of(sockets, vec![host()]), &History::default())
}

fn of_kind(fs: &[Finding], kind: FindingKind) -> Vec<&Finding> {
    fs.iter().filter(|f| f.kind == kind).collect()
}

fn ids(f: &Finding) -> Vec<&str> {
    f.sockets.iter().map(|s| s.0.as_str()).collect()
}

fn dual(mut s: Socket) -> Socket {
    s.options.v6only = Some(false);
    s.scope = Scope::DualStackWildcard;
    s
}

#[test]
fn wildcard_overlap_cases() {
    struct Case {
        name: &'static str,
        sockets: Vec<Socket>,
        expect: Option<(Severity, Vec<&'static str>)>,
    }
    let cases = vec![
        Case {
            name: "wildcard and loopback, same user",
            sockets: vec![
                sock("w", Proto::Tcp, "0.0.0.0", 8080, 1001),
                sock("l", Proto::Tcp, "127.0.0.1", 8080, 1001),
            ],
            expect: Some((Severity::Notice, vec!["l", "w"])),
        },
        Case {
            name: "wildcard and specific of different users (UDP)",
            sockets: vec![
                sock("w", Proto::Udp, "0.0.0.0", 5000, 1001),
                sock("s", Proto::Udp, "127.0.0.1", 5000, 1002),
            ],
            expect: Some((Severity::Warning, vec!["s", "w"])),
        },
        Case {
            name: "v4 wildcard and dual-stack [::]: v4 wins IPv4",
            sockets: vec![
                sock("v4", Proto::Tcp, "0.0.0.0", 8081, 1001),
                dual(sock("d", Proto::Tcp, "::", 8081, 1001)),
            ],
            expect: Some((Severity::Notice, vec!["d", "v4"])),
        },
        Case {
            name: "NEGATIVE: [::] V6ONLY and 0.0.0.0 take disjoint families",
            sockets: vec![
                sock("v4", Proto::Tcp, "0.0.0.0", 8082, 1001),
                sock("v6", Proto::Tcp, "::", 8082, 1001),
            ],
            expect: None,
        },
        Case {
            name: "NEGATIVE: the same port in two namespaces",
            sockets: vec![sock("w", Proto::Tcp, "0.0.0.0", 8083, 1001), {
                let mut s = sock("l", Proto::Tcp, "127.0.0.1", 8083, 1001);
                s.netns = NetnsId(2);
                s
            }],
            expect: None,
        },
        Case {
            name: "NEGATIVE: tcp and udp on one port number",
            sockets: vec![
                sock("t", Proto::Tcp, "0.0.0.0", 8084, 1001),
                sock("u", Proto::Udp, "127.0.0.1", 8084, 1001),
            ],
            expect: None,
        },
    ];
    for c in cases {
        let fs = run(c.sockets);
        let got = of_kind(&fs, FindingKind::WildcardOverlap);
        match c.expect {
            None => assert!(got.is_empty(), "{}: {got:#?}", c.name),
            Some((sev, want)) => {
                assert_eq!(got.len(), 1, "{}: {fs:#?}", c.name);
                assert_eq!(got[0].severity, sev, "{}", c.name);
                assert_eq!(ids(got[0]), want, "{}", c.name);
                assert!(
                    got[0].explanation.contains("→"),
                    "{}: routes explained",
                    c.name
                );
            }
        }
    }
}

#[test]
fn overlap_explanation_says_who_receives_what() {
    let fs = run(vec![
        sock("w", Proto::Tcp, "0.0.0.0", 8080, 1001),
        sock("l", Proto::Tcp, "127.0.0.1", 8080, 1002),
    ]);
    let f = of_kind(&fs, FindingKind::WildcardOverlap)[0];
    assert!(
        f.explanation
            .contains("IPv4 to 127.0.0.1 → tcp 127.0.0.1:8080 (svc1002)"),
        "{}",
        f.explanation
    );
    assert!(
        f.explanation
            .contains("IPv4 to any other address → tcp 0.0.0.0:8080 (svc1001)"),
        "{}",
        f.explanation
    );
    assert!(f.explanation.contains("different users"));
}

#[test]
fn reuseport_group_is_info_and_same_user_is_not_cross_user() {
    let mut a = sock("a", Proto::Tcp, "0.0.0.0", 8080, 1001);
    let mut b = sock("b", Proto::Tcp, "0.0.0.0", 8080, 1001);
    a.options.reuseport = Some(true);
    b.options.reuseport = Some(true);
    b.holders[0].pid = 999;
    let fs = run(vec![a, b]);
    let g = of_kind(&fs, FindingKind::ReuseportGroup);
    assert_eq!(g.len(), 1, "{fs:#?}");
    assert_eq!(g[0].severity, Severity::Info);
    assert_eq!(ids(g[0]), vec!["a", "b"]);
    assert!(
        of_kind(&fs, FindingKind::CrossUserPort).is_empty(),
        "same user: {fs:#?}"
    );
    assert!(of_kind(&fs, FindingKind::CrossUserSocket).is_empty());
    assert!(
        of_kind(&fs, FindingKind::WildcardOverlap).is_empty(),
        "identical binds are a group, not an overlap"
    );
}

#[test]
fn family_split_cases() {
    // IPv4 only on an unprivileged port: notice.
    let fs = run(vec![sock("v4", Proto::Tcp, "0.0.0.0", 8080, 1001)]);
    let f = of_kind(&fs, FindingKind::FamilySplit);
    assert_eq!(f.len(), 1);
    assert_eq!(f[0].severity, Severity::Notice);
    assert!(f[0].explanation.contains("[::1]:8080"));
    // IPv6 only (V6ONLY): warning, IPv4 is free for anyone.
    let fs = run(vec![sock("v6", Proto::Tcp, "::", 9100, 1001)]);
    let f = of_kind(&fs, FindingKind::FamilySplit);
    assert_eq!(f[0].severity, Severity::Warning);
    assert!(f[0].explanation.contains("0.0.0.0:9100"));
    // Both families, dual-stack, or a privileged port: nothing.
    assert!(
        of_kind(
            &run(vec![dual(sock("d", Proto::Tcp, "::", 8080, 1))]),
            FindingKind::FamilySplit
        )
        .is_empty()
    );
    assert!(
        of_kind(
            &run(vec![
                sock("a", Proto::Tcp, "0.0.0.0", 8080, 1),
                sock("b", Proto::Tcp, "::", 8080, 1)
            ]),
            FindingKind::FamilySplit
        )
        .is_empty()
    );
    assert!(
        of_kind(
            &run(vec![sock("p", Proto::Tcp, "0.0.0.0", 80, 0)]),
            FindingKind::FamilySplit
        )
        .is_empty()
    );
}

#[test]
fn udp_reuseaddr_takeover_not_on_privileged_ports() {
    let mut u = sock("u", Proto::Udp, "0.0.0.0", 5353, 1001);
    u.options.reuseaddr = Some(true);
    let fs = run(vec![u.clone()]);
    let f = of_kind(&fs, FindingKind::UdpReuseaddrTakeover);
    assert_eq!(f.len(), 1);
    assert_eq!(f[0].severity, Severity::Warning);
    u.local_port = 53;
    assert!(
        of_kind(&run(vec![u.clone()]), FindingKind::UdpReuseaddrTakeover).is_empty(),
        "privileged port"
    );
    u.local_port = 5353;
    u.options.reuseaddr = None;
    assert!(
        of_kind(&run(vec![u]), FindingKind::UdpReuseaddrTakeover).is_empty(),
        "unknown is not true"
    );
}

#[test]
fn cross_user_port_and_socket() {
    let a = sock("a", Proto::Udp, "0.0.0.0", 5353, 1001);
    let b = sock("b", Proto::Udp, "0.0.0.0", 5353, 1002);
    let fs = run(vec![a, b]);
    let f = of_kind(&fs, FindingKind::CrossUserPort);
    assert_eq!(f.len(), 1);
    assert_eq!(
        f[0].severity,
        Severity::Warning,
        "overlapping UDP binds of two users"
    );
    // Different families of two users: notice.
    let fs = run(vec![
        sock("a", Proto::Tcp, "0.0.0.0", 7000, 1001),
        sock("b", Proto::Tcp, "::", 7000, 1002),
    ]);
    assert_eq!(
        of_kind(&fs, FindingKind::CrossUserPort)[0].severity,
        Severity::Notice
    );

    // A root listener with a worker of another uid: cross_user_socket (info).
    let mut s = sock("s", Proto::Tcp, "0.0.0.0", 80, 0);
    let mut worker = s.holders[0].clone();
    worker.pid = 2;
    worker.uid = 33;
    s.holders.push(worker);
    let fs = run(vec![s.clone()]);
    let f = of_kind(&fs, FindingKind::CrossUserSocket);
    assert_eq!(f.len(), 1);
    assert_eq!(f[0].severity, Severity::Info);
    // Socket uid differs from its only holder (socket activation).
    s.holders.remove(0);
    assert!(
        of_kind(&run(vec![s]), FindingKind::CrossUserSocket)[0]
            .explanation
            .contains("held only by other users")
    );
}

#[test]
fn listen_race_and_device_gap() {
    let mut b = sock("b", Proto::Tcp, "0.0.0.0", 7000, 1002);
    b.state = State::Close;
    b.accept_queue = None;
    b.options.reuseaddr = Some(true);
    assert_eq!(
        of_kind(&run(vec![b.clone()]), FindingKind::ListenRace).len(),
        1
    );
    b.options.reuseaddr = Some(false);
    assert!(of_kind(&run(vec![b]), FindingKind::ListenRace).is_empty());

    let mut d = sock("d", Proto::Tcp, "0.0.0.0", 9090, 0);
    d.device = Some("eth1".into());
    assert_eq!(
        of_kind(&run(vec![d.clone()]), FindingKind::DeviceGap).len(),
        1
    );
    d.local_addr = "fe80::1".parse().expect("a");
    d.family = Family::Ipv6;
    d.scope = Scope::LinkLocal;
    assert!(
        of_kind(&run(vec![d]), FindingKind::DeviceGap).is_empty(),
        "link-local carries its device"
    );
}

fn with_queue(len: u32, backlog: u32) -> Socket {
    let mut s = sock("q", Proto::Tcp, "0.0.0.0", 9000, 1002);
    s.accept_queue = Some(AcceptQueue { len, backlog });
    s
}

#[test]
fn accept_queue_full_and_growing() {
    let fs = run(vec![with_queue(5, 4)]);
    let f = of_kind(&fs, FindingKind::AcceptQueueFull);
    assert_eq!(f[0].severity, Severity::Critical, "over the limit");
    assert_eq!(
        of_kind(&run(vec![with_queue(4, 4)]), FindingKind::AcceptQueueFull)[0].severity,
        Severity::Warning
    );
    assert!(of_kind(&run(vec![with_queue(3, 4)]), FindingKind::AcceptQueueFull).is_empty());

    let mut h = History::new(10);
    for (i, len) in [0u32, 2, 5].into_iter().enumerate() {
        h.record(
            &snapshot_of(vec![with_queue(len, 128)], vec![host()]),
            i as u64 * 1000,
        );
    }
    let snap = snapshot_of(vec![with_queue(5, 128)], vec![host()]);
    let fs = analyze(&snap, &h);
    let g = of_kind(&fs, FindingKind::AcceptQueueGrowing);
    assert_eq!(g.len(), 1, "{fs:#?}");
    assert!(
        g[0].summary.contains("grew from 0 to 5 of 128"),
        "{}",
        g[0].summary
    );

    // One that accepts (the queue drains) is not growing.
    let mut h = History::new(10);
    for (i, len) in [0u32, 3, 0].into_iter().enumerate() {
        h.record(
            &snapshot_of(vec![with_queue(len, 128)], vec![host()]),
            i as u64 * 1000,
        );
    }
    assert!(of_kind(&analyze(&snap, &h), FindingKind::AcceptQueueGrowing).is_empty());
}

#[test]
fn overflows_rising_are_critical() {
    let mut h = History::new(10);
    for (i, n) in [10u64, 14].into_iter().enumerate() {
        let mut ns = host();
        ns.counters.listen_overflows = Some(n);
        h.record(&snapshot_of(vec![with_queue(0, 128)], vec![ns]), i as u64);
    }
    let fs = analyze(&snapshot_of(vec![with_queue(0, 128)], vec![host()]), &h);
    let f = of_kind(&fs, FindingKind::AcceptQueueFull);
    assert_eq!(f.len(), 1, "{fs:#?}");
    assert_eq!(f[0].severity, Severity::Critical);
    assert!(f[0].summary.contains("rose by 4"));
}

#[test]
fn syn_backlog_and_defer_accept() {
    let mut s = with_queue(0, 16);
    s.syn_recv = Some(10);
    let fs = run(vec![s.clone()]);
    assert_eq!(
        of_kind(&fs, FindingKind::SynBacklog)[0].severity,
        Severity::Warning
    );
    s.options.defer_accept = Some(7);
    let f = run(vec![s.clone()]);
    let f = of_kind(&f, FindingKind::SynBacklog);
    assert_eq!(
        f[0].severity,
        Severity::Notice,
        "TCP_DEFER_ACCEPT makes waiting requests normal"
    );
    assert!(f[0].explanation.contains("TCP_DEFER_ACCEPT (7s)"));
    s.syn_recv = Some(16);
    assert_eq!(
        of_kind(&run(vec![s.clone()]), FindingKind::SynBacklog)[0].severity,
        Severity::Critical
    );
    s.syn_recv = Some(2);
    assert!(of_kind(&run(vec![s]), FindingKind::SynBacklog).is_empty());
}

#[test]
fn blocking_listener_only_when_known() {
    let mut s = with_queue(0, 8);
    s.options.nonblocking = Some(false);
    assert_eq!(
        of_kind(&run(vec![s.clone()]), FindingKind::BlockingListener).len(),
        1
    );
    s.options.nonblocking = None;
    assert!(
        of_kind(&run(vec![s]), FindingKind::BlockingListener).is_empty(),
        "unknown is not false"
    );
}

#[test]
fn nonlocal_and_tentative_binds() {
    let mut s = sock("vip", Proto::Tcp, "192.0.2.80", 443, 0);
    s.address_state = AddressState::Nonlocal;
    s.options.freebind = Some(true);
    let fs = run(vec![s.clone()]);
    let f = of_kind(&fs, FindingKind::NonlocalBind);
    assert_eq!(f[0].severity, Severity::Info);
    assert!(f[0].explanation.contains("IP_FREEBIND allowed it"));
    s.options.freebind = Some(false);
    assert_eq!(
        of_kind(&run(vec![s]), FindingKind::NonlocalBind)[0].severity,
        Severity::Notice
    );

    let mut t = sock("t", Proto::Tcp, "2001:db8::5", 8443, 0);
    t.address_state = AddressState::Tentative;
    let fs = run(vec![t]);
    assert_eq!(
        of_kind(&fs, FindingKind::TentativeBind)[0].severity,
        Severity::Warning
    );

    // A host address stuck tentative without carrier, and a dadfailed one.
    let mut ns = host();
    ns.interfaces.push(Interface {
        index: 2,
        name: "veth0".into(),
        up: true,
        loopback: false,
        carrier: false,
        addresses: vec![
            InterfaceAddr {
                addr: "2001:db8::7".parse().expect("a"),
                prefix_len: 64,
                scope: "global".into(),
                flags: vec![AddrFlag::Tentative],
            },
            InterfaceAddr {
                addr: "2001:db8::8".parse().expect("a"),
                prefix_len: 64,
                scope: "global".into(),
                flags: vec![AddrFlag::Tentative, AddrFlag::Dadfailed],
            },
        ],
    });
    let fs = analyze(&snapshot_of(vec![], vec![ns]), &History::default());
    let t = of_kind(&fs, FindingKind::TentativeBind);
    assert_eq!(t.len(), 2, "{fs:#?}");
    assert!(t.iter().any(|f| f.summary.contains("stuck tentative")));
    assert!(
        t.iter()
            .any(|f| f.summary.contains("failed duplicate address detection"))
    );
}

#[test]
fn holder_unknown_cases() {
    let mut s = sock("h", Proto::Tcp, "0.0.0.0", 9999, 0);
    s.holders.clear();
    s.holders_unknown = Some("needs root".into());
    assert_eq!(
        of_kind(&run(vec![s.clone()]), FindingKind::HolderUnknown)[0].severity,
        Severity::Info
    );
    s.holders_unknown = None;
    assert_eq!(
        of_kind(&run(vec![s.clone()]), FindingKind::HolderUnknown)[0].severity,
        Severity::Notice
    );
    s.inode = 0;
    assert!(
        of_kind(&run(vec![s]), FindingKind::HolderUnknown)[0]
            .explanation
            .contains("inode is 0")
    );
}

#[test]
fn every_kind_is_produced_by_some_test_input_and_sorted_by_severity() {
    let fs = run(vec![
        with_queue(5, 4),
        sock("v6", Proto::Tcp, "::", 9100, 1001),
    ]);
    assert!(
        fs.windows(2).all(|w| w[0].severity >= w[1].severity),
        "{fs:#?}"
    );
    for f in &fs {
        assert!(
            FindingKind::ALL.contains(&f.kind),
            "unknown kind {}",
            f.kind
        );
        assert!(!f.summary.is_empty() && !f.explanation.is_empty());
    }
}

#[test]
fn many_findings_of_one_process_merge() {
    let listeners: Vec<Socket> = (0..50)
        .map(|i| {
            let mut s = sock(&format!("s{i:02}"), Proto::Tcp, "0.0.0.0", 20000 + i, 1001);
            s.options.nonblocking = Some(false);
            s
        })
        .collect();
    let mut other = sock("other", Proto::Tcp, "0.0.0.0", 30000, 1002);
    other.options.nonblocking = Some(false);
    let mut all = listeners;
    all.push(other);
    let fs = run(all);
    let b = of_kind(&fs, FindingKind::BlockingListener);
    assert_eq!(
        b.len(),
        2,
        "one merged finding for the process, one single: {b:#?}"
    );
    let merged = b.iter().find(|f| f.sockets.len() == 50).expect("merged");
    assert!(
        merged.summary.starts_with("50 sockets of svc1001[1101]"),
        "{}",
        merged.summary
    );
    assert!(
        merged.explanation.contains("and 30 more."),
        "{}",
        merged.explanation
    );
    assert!(b.iter().any(|f| f.sockets.len() == 1));
}

#[test]
fn syn_queue_counters_rising() {
    let mut h = History::new(10);
    for (i, (drops, cookies)) in [(0u64, 5u64), (0, 9)].into_iter().enumerate() {
        let mut ns = host();
        ns.counters.req_q_full_drop = Some(drops);
        ns.counters.req_q_full_do_cookies = Some(cookies);
        h.record(&snapshot_of(vec![with_queue(0, 128)], vec![ns]), i as u64);
    }
    let fs = analyze(&snapshot_of(vec![with_queue(0, 128)], vec![host()]), &h);
    let f = of_kind(&fs, FindingKind::SynBacklog);
    assert_eq!(f.len(), 1, "{fs:#?}");
    assert_eq!(f[0].severity, Severity::Warning);
    assert!(
        f[0].summary.contains("answered 4 SYNs with SYN cookies"),
        "{}",
        f[0].summary
    );
}
