//! Table-driven tests per finding kind on built snapshots, with the negatives that matter.
//! They assert on the typed facts and their severities; the words are pinned once, in
//! `words/tests.rs`.

use super::fact::{
    Acceptors, DadProblem, Fact, HolderUnseen, MulticastService, NonlocalAllowance, Unbound, User,
};
use super::merge::{self, Subject};
use super::*;
use crate::analyze::history::History;
use crate::model::FindingKind;
use crate::model::*;
use crate::testing::{netns, snapshot_of};
use std::collections::BTreeSet;
use std::net::IpAddr;
use std::sync::Arc;

/// A bind with every option known and off, held by one process of its own uid.
pub(super) fn sock(id: &str, proto: Proto, addr: &str, port: u16, uid: u32) -> Socket {
    let mut s = crate::testing::receiving(id, proto, addr.parse().expect("addr"), port);
    s.netns = NetnsId(1);
    s.uid = uid;
    s.user = None;
    s.device = None;
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
        container: None,
        pid: 100 + uid,
        fd: 3,
        name: format!("svc{uid}").into(),
        uid,
        ruid: uid,
        user: None,
        cmdline: Arc::from(vec![]),
        unit: None,
        netns: Some(NetnsId(1)),
        ppid: None,
        threads: None,
        exe: None,
    }];
    s
}

/// A namespace with IPv4 and IPv6 on lo, unprivileged ports from 1024.
pub(super) fn host() -> Netns {
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

pub(super) fn snap(sockets: Vec<Socket>) -> Snapshot {
    snapshot_of(sockets, vec![host()])
}

/// The facts of a snapshot without history.
fn found(snap: &Snapshot) -> Vec<Fact<'_>> {
    facts(snap, &History::default())
}

fn of_kind<'a, 's>(fs: &'a [Fact<'s>], kind: FindingKind) -> Vec<&'a Fact<'s>> {
    fs.iter().filter(|f| f.kind() == kind).collect()
}

/// The one fact of a kind a snapshot has (the test fails on none or several).
fn one<'s>(snap: &'s Snapshot, kind: FindingKind) -> Fact<'s> {
    let fs = found(snap);
    let mut got = fs.into_iter().filter(|f| f.kind() == kind);
    let first = got.next().unwrap_or_else(|| panic!("no {kind} fact"));
    assert!(got.next().is_none(), "several {kind} facts");
    first
}

fn none_of(snap: &Snapshot, kind: FindingKind) -> bool {
    of_kind(&found(snap), kind).is_empty()
}

fn ids<'a>(sockets: &[&'a Socket]) -> Vec<&'a str> {
    sockets.iter().map(|s| s.id.0.as_str()).collect()
}

fn uids(users: &[User]) -> Vec<u32> {
    users.iter().map(|u| u.uid).collect()
}

fn dual(mut s: Socket) -> Socket {
    s.options.v6only = Some(false);
    s.scope = Scope::DualStackWildcard;
    s
}

fn ip(s: &str) -> IpAddr {
    s.parse().expect("test address")
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
        let snap = snap(c.sockets);
        let fs = found(&snap);
        let got = of_kind(&fs, FindingKind::WildcardOverlap);
        match c.expect {
            None => assert!(got.is_empty(), "{}: {got:#?}", c.name),
            Some((sev, want)) => {
                assert_eq!(got.len(), 1, "{}: {fs:#?}", c.name);
                assert_eq!(got[0].severity(), sev, "{}", c.name);
                let Fact::WildcardOverlap {
                    sockets, routes, ..
                } = got[0]
                else {
                    panic!("{}: {:?}", c.name, got[0]);
                };
                assert_eq!(ids(sockets), want, "{}", c.name);
                // Who receives what: every bind involved receives on some route.
                for s in sockets {
                    assert!(
                        routes.iter().any(|r| r.receivers.contains(s)),
                        "{}: {} receives nothing: {routes:#?}",
                        c.name,
                        s.id
                    );
                }
            }
        }
    }
}

#[test]
fn overlap_says_who_receives_what() {
    let snap = snap(vec![
        sock("w", Proto::Tcp, "0.0.0.0", 8080, 1001),
        sock("l", Proto::Tcp, "127.0.0.1", 8080, 1002),
    ]);
    let Fact::WildcardOverlap {
        proto,
        port,
        users,
        routes,
        ..
    } = one(&snap, FindingKind::WildcardOverlap)
    else {
        panic!("not an overlap");
    };
    assert_eq!((proto, port), (Proto::Tcp, 8080));
    assert_eq!(uids(&users), vec![1001, 1002], "different users");
    let to = |family: Family, to: Option<IpAddr>| -> Vec<&str> {
        let r = routes
            .iter()
            .find(|r| r.family == family && r.to == to)
            .unwrap_or_else(|| panic!("no route {family:?} {to:?}: {routes:#?}"));
        ids(&r.receivers)
    };
    assert_eq!(to(Family::Ipv4, Some(ip("127.0.0.1"))), vec!["l"]);
    assert_eq!(to(Family::Ipv4, None), vec!["w"]);
}

#[test]
fn reuseport_group_is_info_and_same_user_is_not_cross_user() {
    let mut a = sock("a", Proto::Tcp, "0.0.0.0", 8080, 1001);
    let mut b = sock("b", Proto::Tcp, "0.0.0.0", 8080, 1001);
    a.options.reuseport = Some(true);
    b.options.reuseport = Some(true);
    b.holders[0].pid = 999;
    let snap = snap(vec![a, b]);
    let g = one(&snap, FindingKind::ReuseportGroup);
    assert_eq!(g.severity(), Severity::Info);
    let Fact::ReuseportGroup {
        proto,
        members,
        uid,
    } = &g
    else {
        panic!("{g:?}");
    };
    assert_eq!((*proto, *uid), (Proto::Tcp, 1001));
    assert_eq!(ids(members), vec!["a", "b"]);
    assert!(none_of(&snap, FindingKind::CrossUserPort), "same user");
    assert!(none_of(&snap, FindingKind::CrossUserSocket));
    assert!(
        none_of(&snap, FindingKind::WildcardOverlap),
        "identical binds are a group, not an overlap"
    );
}

#[test]
fn family_split_cases() {
    // IPv4 only on an unprivileged port: notice, IPv6 is free for anyone.
    let s = snap(vec![sock("v4", Proto::Tcp, "0.0.0.0", 8080, 1001)]);
    let f = one(&s, FindingKind::FamilySplit);
    assert_eq!(f.severity(), Severity::Notice);
    assert!(
        matches!(
            f,
            Fact::FamilySplit {
                proto: Proto::Tcp,
                port: 8080,
                bound: Family::Ipv4,
                open: Unbound::AllIpv6,
                ..
            }
        ),
        "{f:?}"
    );
    // IPv6 only (V6ONLY): warning, IPv4 is free for anyone.
    let s = snap(vec![sock("v6", Proto::Tcp, "::", 9100, 1001)]);
    let f = one(&s, FindingKind::FamilySplit);
    assert_eq!(f.severity(), Severity::Warning);
    assert!(
        matches!(
            f,
            Fact::FamilySplit {
                port: 9100,
                bound: Family::Ipv6,
                open: Unbound::AllIpv4,
                ..
            }
        ),
        "{f:?}"
    );
    assert_eq!(ids(&f.sockets()), vec!["v6"]);
    // Both families, dual-stack, or a privileged port: nothing.
    for sockets in [
        vec![dual(sock("d", Proto::Tcp, "::", 8080, 1))],
        vec![
            sock("a", Proto::Tcp, "0.0.0.0", 8080, 1),
            sock("b", Proto::Tcp, "::", 8080, 1),
        ],
        vec![sock("p", Proto::Tcp, "0.0.0.0", 80, 0)],
        // Specific addresses of one family: clients of them use that family.
        vec![sock("s6", Proto::Tcp, "fd00::5", 8080, 1001)],
        vec![sock("s4", Proto::Tcp, "10.0.0.5", 8080, 1001)],
    ] {
        let s = snap(sockets);
        assert!(none_of(&s, FindingKind::FamilySplit), "{:?}", found(&s));
    }
}

#[test]
fn family_split_on_loopback_tells_the_localhost_story() {
    // 127.0.0.1 only: [::1] is free, and `localhost` clients try ::1 first.
    let s = snap(vec![sock("l4", Proto::Tcp, "127.0.0.1", 11211, 104)]);
    let f = one(&s, FindingKind::FamilySplit);
    assert!(
        matches!(
            f,
            Fact::FamilySplit {
                open: Unbound::LoopbackIpv6,
                ..
            }
        ),
        "{f:?}"
    );
    assert_eq!(f.severity(), Severity::Notice);
    // Loopback beside a specific address still leaves ::1.
    let s = snap(vec![
        sock("l4", Proto::Tcp, "127.0.0.1", 6000, 1),
        sock("e4", Proto::Tcp, "10.0.0.5", 6000, 1),
    ]);
    assert!(matches!(
        one(&s, FindingKind::FamilySplit),
        Fact::FamilySplit {
            open: Unbound::LoopbackIpv6,
            ..
        }
    ));
    // ::1 only: only clients that dial 127.0.0.1 by number miss it: info.
    let s = snap(vec![sock("l6", Proto::Tcp, "::1", 6001, 1)]);
    let f = one(&s, FindingKind::FamilySplit);
    assert!(matches!(
        f,
        Fact::FamilySplit {
            open: Unbound::LoopbackIpv4,
            ..
        }
    ));
    assert_eq!(f.severity(), Severity::Info);
    // Both loopbacks: nothing.
    let s = snap(vec![
        sock("l4", Proto::Tcp, "127.0.0.1", 6379, 107),
        sock("l6", Proto::Tcp, "::1", 6379, 107),
    ]);
    assert!(none_of(&s, FindingKind::FamilySplit), "{:?}", found(&s));
}

/// The namespace's ephemeral ports as Linux's default sets them.
fn with_local_range(mut s: Snapshot) -> Snapshot {
    for n in &mut s.netns {
        n.sysctls.ip_local_port_range = Some([32768, 60999]);
    }
    s
}

#[test]
fn clients_on_ports_the_kernel_chose_serve_nothing_to_take() {
    // avahi's query sockets: UDP on an ephemeral port, with SO_REUSEADDR, IPv4 and IPv6
    // (V6ONLY) of the same user.
    let mut a = sock("a", Proto::Udp, "0.0.0.0", 34244, 108);
    a.options.reuseaddr = Some(true);
    let b = sock("b", Proto::Udp, "::", 34244, 108);
    let s = with_local_range(snap(vec![a.clone(), b]));
    for kind in [
        FindingKind::FamilySplit,
        FindingKind::UdpReuseaddrTakeover,
        FindingKind::CrossUserPort,
        FindingKind::WildcardOverlap,
    ] {
        assert!(none_of(&s, kind.clone()), "{kind:?}: {:?}", found(&s));
    }
    // Unknown range: not assumed, the findings stay.
    let s = snap(vec![a.clone()]);
    assert!(!none_of(&s, FindingKind::UdpReuseaddrTakeover));
    // A TCP listener on an ephemeral port serves: its findings stay.
    let s = with_local_range(snap(vec![sock("t", Proto::Tcp, "0.0.0.0", 40000, 1001)]));
    assert!(!none_of(&s, FindingKind::FamilySplit), "{:?}", found(&s));
    // Outside the range: a server, judged as before.
    a.local_port = 7000;
    let s = with_local_range(snap(vec![a]));
    assert!(!none_of(&s, FindingKind::UdpReuseaddrTakeover));
}

#[test]
fn multicast_responders_share_their_port_by_design() {
    // Two users' mDNS responders on the wildcard: info, with the protocol named.
    let mut a = sock("a", Proto::Udp, "0.0.0.0", 5353, 108);
    a.options.reuseaddr = Some(true);
    let mut b = sock("b", Proto::Udp, "0.0.0.0", 5353, 1001);
    b.options.reuseaddr = Some(true);
    let s = snap(vec![a.clone(), b.clone()]);
    let f = one(&s, FindingKind::CrossUserPort);
    assert!(
        matches!(
            f,
            Fact::CrossUserPort {
                multicast: Some(MulticastService::Mdns),
                udp_overlap: true,
                ..
            }
        ),
        "{f:?}"
    );
    assert_eq!(f.severity(), Severity::Info);
    assert!(
        none_of(&s, FindingKind::FamilySplit),
        "responders on IPv4 only lose nothing: multicast reaches them"
    );
    for f in facts(&s, &History::default())
        .into_iter()
        .filter(|f| f.kind() == FindingKind::UdpReuseaddrTakeover)
    {
        assert_eq!(f.severity(), Severity::Info, "{f:?}");
    }
    // Another user on a unicast address of the port takes unicast from the responder:
    // that is the takeover the warning is for.
    let mut thief = sock("t", Proto::Udp, "127.0.0.1", 5353, 1002);
    thief.options.reuseaddr = Some(true);
    let s = snap(vec![a.clone(), thief.clone()]);
    let f = one(&s, FindingKind::CrossUserPort);
    assert!(matches!(
        f,
        Fact::CrossUserPort {
            multicast: None,
            ..
        }
    ));
    assert_eq!(f.severity(), Severity::Warning);
    // LLMNR, SSDP and WS-Discovery are known too; another UDP port is not.
    for (port, service) in [
        (5355, Some(MulticastService::Llmnr)),
        (1900, Some(MulticastService::Ssdp)),
        (3702, Some(MulticastService::WsDiscovery)),
        (5354, None),
    ] {
        assert_eq!(MulticastService::of(Proto::Udp, port), service);
        assert_eq!(MulticastService::of(Proto::Tcp, port), None);
    }
}

#[test]
fn udp_reuseaddr_takeover_not_on_privileged_ports() {
    let mut u = sock("u", Proto::Udp, "0.0.0.0", 7353, 1001);
    u.options.reuseaddr = Some(true);
    let s = snap(vec![u.clone()]);
    let f = one(&s, FindingKind::UdpReuseaddrTakeover);
    assert_eq!(f.severity(), Severity::Warning);
    assert!(
        matches!(
            f,
            Fact::UdpReuseaddrTakeover {
                unprivileged_from: 1024,
                ..
            }
        ),
        "{f:?}"
    );
    u.local_port = 53;
    assert!(
        none_of(&snap(vec![u.clone()]), FindingKind::UdpReuseaddrTakeover),
        "privileged port"
    );
    u.local_port = 7353;
    u.options.reuseaddr = None;
    assert!(
        none_of(&snap(vec![u]), FindingKind::UdpReuseaddrTakeover),
        "unknown is not true"
    );
}

#[test]
fn cross_user_port_and_socket() {
    let s = snap(vec![
        sock("a", Proto::Udp, "0.0.0.0", 7353, 1001),
        sock("b", Proto::Udp, "0.0.0.0", 7353, 1002),
    ]);
    let f = one(&s, FindingKind::CrossUserPort);
    assert_eq!(
        f.severity(),
        Severity::Warning,
        "overlapping UDP binds of two users"
    );
    let Fact::CrossUserPort {
        users, udp_overlap, ..
    } = &f
    else {
        panic!("{f:?}");
    };
    assert!(*udp_overlap);
    assert_eq!(uids(users), vec![1001, 1002]);
    // Different families of two users: notice.
    let s = snap(vec![
        sock("a", Proto::Tcp, "0.0.0.0", 7000, 1001),
        sock("b", Proto::Tcp, "::", 7000, 1002),
    ]);
    let f = one(&s, FindingKind::CrossUserPort);
    assert_eq!(f.severity(), Severity::Notice);
    assert!(
        matches!(
            f,
            Fact::CrossUserPort {
                udp_overlap: false,
                port: 7000,
                ..
            }
        ),
        "{f:?}"
    );

    // A daemon's sockets of two uids (bound before and after it dropped privileges) beside
    // another root service's on the same port: one service per uid set, no finding; a
    // socket of the second uid held by a third process is one again.
    let mut early = sock("early", Proto::Tcp, "10.0.0.1", 53, 0);
    early.holders[0].pid = 40;
    let mut late = sock("late", Proto::Tcp, "fd00::1", 53, 65534);
    late.holders[0].pid = 40;
    let mut other = sock("other", Proto::Tcp, "127.0.0.1", 53, 0);
    other.holders[0].pid = 41;
    assert!(
        none_of(
            &snap(vec![early.clone(), late.clone(), other.clone()]),
            FindingKind::CrossUserPort
        ),
        "the uids differ only within one daemon's sockets"
    );
    let mut stranger = sock("stranger", Proto::Tcp, "10.0.0.2", 53, 1002);
    stranger.holders[0].pid = 42;
    one(
        &snap(vec![early, late, other, stranger]),
        FindingKind::CrossUserPort,
    );

    // A root listener with a worker of another uid: cross_user_socket (info).
    let mut root = sock("s", Proto::Tcp, "0.0.0.0", 80, 0);
    let mut worker = root.holders[0].clone();
    worker.pid = 2;
    worker.uid = 33;
    worker.user = Some("www-data".into());
    root.holders.push(worker);
    let s = snap(vec![root.clone()]);
    let f = one(&s, FindingKind::CrossUserSocket);
    assert_eq!(f.severity(), Severity::Info);
    let Fact::CrossUserSocket {
        owner,
        holders,
        foreign_owner,
        ..
    } = &f
    else {
        panic!("{f:?}");
    };
    assert!(!foreign_owner);
    assert_eq!(owner, &User { uid: 0, name: None });
    assert_eq!(
        holders,
        &vec![
            User { uid: 0, name: None },
            User {
                uid: 33,
                name: Some("www-data")
            }
        ]
    );
    // Socket uid differs from its only holder (socket activation).
    root.holders.remove(0);
    let s = snap(vec![root]);
    assert!(
        matches!(
            one(&s, FindingKind::CrossUserSocket),
            Fact::CrossUserSocket {
                foreign_owner: true,
                ..
            }
        ),
        "held only by other users"
    );
}

#[test]
fn listen_race_and_device_gap() {
    let mut b = sock("b", Proto::Tcp, "0.0.0.0", 7000, 1002);
    b.state = State::Close;
    b.accept_queue = None;
    b.options.reuseaddr = Some(true);
    let s = snap(vec![b.clone()]);
    let f = one(&s, FindingKind::ListenRace);
    assert_eq!(f.severity(), Severity::Notice);
    assert_eq!(ids(&f.sockets()), vec!["b"]);
    b.options.reuseaddr = Some(false);
    assert!(none_of(&snap(vec![b]), FindingKind::ListenRace));

    let mut d = sock("d", Proto::Tcp, "0.0.0.0", 9090, 0);
    d.device = Some("eth1".into());
    let s = snap(vec![d.clone()]);
    let f = one(&s, FindingKind::DeviceGap);
    assert_eq!(f.severity(), Severity::Notice);
    assert!(matches!(f, Fact::DeviceGap { device: "eth1", .. }), "{f:?}");
    d.local_addr = "fe80::1".parse().expect("a");
    d.family = Family::Ipv6;
    d.scope = Scope::LinkLocal;
    assert!(
        none_of(&snap(vec![d]), FindingKind::DeviceGap),
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
    let s = snap(vec![with_queue(5, 4)]);
    let f = one(&s, FindingKind::AcceptQueueFull);
    assert_eq!(f.severity(), Severity::Critical, "over the limit");
    assert!(
        matches!(
            f,
            Fact::AcceptQueueFull {
                queue: AcceptQueue { len: 5, backlog: 4 },
                overflows: 0,
                ..
            }
        ),
        "{f:?}"
    );
    assert_eq!(
        one(&snap(vec![with_queue(4, 4)]), FindingKind::AcceptQueueFull).severity(),
        Severity::Warning,
        "at the limit"
    );
    assert!(none_of(
        &snap(vec![with_queue(3, 4)]),
        FindingKind::AcceptQueueFull
    ));

    let mut h = History::new(10);
    for (i, len) in [0u32, 2, 5].into_iter().enumerate() {
        h.record(&snap(vec![with_queue(len, 128)]), i as u64 * 1000);
    }
    let now = snap(vec![with_queue(5, 128)]);
    let fs = facts(&now, &h);
    let g = of_kind(&fs, FindingKind::AcceptQueueGrowing);
    assert_eq!(g.len(), 1, "{fs:#?}");
    assert_eq!(g[0].severity(), Severity::Warning);
    let Fact::AcceptQueueGrowing {
        first,
        last,
        samples,
        ..
    } = g[0]
    else {
        panic!("{:?}", g[0]);
    };
    assert_eq!(
        (first.len, last.len, last.backlog, *samples),
        (0, 5, 128, 3)
    );
    assert_eq!(last.at_ms - first.at_ms, 2000);

    // One that accepts (the queue drains) is not growing.
    let mut h = History::new(10);
    for (i, len) in [0u32, 3, 0].into_iter().enumerate() {
        h.record(&snap(vec![with_queue(len, 128)]), i as u64 * 1000);
    }
    assert!(of_kind(&facts(&now, &h), FindingKind::AcceptQueueGrowing).is_empty());
}

/// History of one namespace whose counters go from `from` to `to`, with one listener.
fn counters_rising(
    listener: &Socket,
    set: impl Fn(&mut TcpExtCounters, u64),
    from: u64,
    to: u64,
) -> History {
    let mut h = History::new(10);
    for (i, n) in [from, to].into_iter().enumerate() {
        let mut ns = host();
        set(&mut ns.counters, n);
        h.record(&snapshot_of(vec![listener.clone()], vec![ns]), i as u64);
    }
    h
}

#[test]
fn a_queue_at_its_limit_with_overflows_rising_is_critical() {
    let q = with_queue(4, 4);
    let h = counters_rising(&q, |c, n| c.listen_overflows = Some(n), 10, 13);
    let now = snap(vec![q]);
    let fs = facts(&now, &h);
    let f = of_kind(&fs, FindingKind::AcceptQueueFull);
    assert_eq!(f.len(), 1, "the listener, not also the namespace: {fs:#?}");
    assert!(
        matches!(f[0], Fact::AcceptQueueFull { overflows: 3, .. }),
        "{:?}",
        f[0]
    );
    assert_eq!(f[0].severity(), Severity::Critical);
}

#[test]
fn overflows_rising_are_critical() {
    let mut h = History::new(10);
    for (i, n) in [10u64, 14].into_iter().enumerate() {
        let mut ns = host();
        ns.counters.listen_overflows = Some(n);
        h.record(&snapshot_of(vec![with_queue(0, 128)], vec![ns]), i as u64);
    }
    let now = snap(vec![with_queue(0, 128)]);
    let fs = facts(&now, &h);
    let f = of_kind(&fs, FindingKind::AcceptQueueFull);
    assert_eq!(f.len(), 1, "{fs:#?}");
    assert_eq!(f[0].severity(), Severity::Critical);
    assert!(
        matches!(f[0], Fact::OverflowsUnseen { rise: 4, netns } if netns.id == NetnsId(1)),
        "{:?}",
        f[0]
    );
}

#[test]
fn syn_backlog_and_defer_accept() {
    let mut s = with_queue(0, 16);
    s.syn_recv = Some(10);
    let sn = snap(vec![s.clone()]);
    let f = one(&sn, FindingKind::SynBacklog);
    assert_eq!(f.severity(), Severity::Warning);
    assert!(
        matches!(
            f,
            Fact::SynBacklog {
                syn_recv: 10,
                backlog: 16,
                defer_accept: None,
                shared: false,
                ..
            }
        ),
        "{f:?}"
    );
    s.options.defer_accept = Some(7);
    let sn = snap(vec![s.clone()]);
    let f = one(&sn, FindingKind::SynBacklog);
    assert_eq!(
        f.severity(),
        Severity::Notice,
        "TCP_DEFER_ACCEPT makes waiting requests normal"
    );
    assert!(
        matches!(
            f,
            Fact::SynBacklog {
                defer_accept: Some(7),
                ..
            }
        ),
        "{f:?}"
    );
    s.syn_recv = Some(16);
    assert_eq!(
        one(&snap(vec![s.clone()]), FindingKind::SynBacklog).severity(),
        Severity::Critical
    );
    s.syn_recv = Some(2);
    assert!(none_of(&snap(vec![s]), FindingKind::SynBacklog));
}

#[test]
fn blocking_listener_only_when_known() {
    let mut s = with_queue(0, 8);
    s.options.nonblocking = Some(false);
    s.holders[0].threads = Some(8);
    let sn = snap(vec![s.clone()]);
    let f = one(&sn, FindingKind::BlockingListener);
    assert_eq!(f.severity(), Severity::Notice);
    assert!(matches!(
        f,
        Fact::BlockingListener {
            acceptors: Acceptors::Threads { threads: 8, .. },
            ..
        }
    ));
    // A lone accepter (one process, one thread) does not hang on Linux.
    s.holders[0].threads = Some(1);
    assert!(none_of(
        &snap(vec![s.clone()]),
        FindingKind::BlockingListener
    ));
    // Unknown threads: not taken as several.
    s.holders[0].threads = None;
    assert!(none_of(
        &snap(vec![s.clone()]),
        FindingKind::BlockingListener
    ));
    // Two single-threaded processes holding it (a prefork server): several acceptors.
    let mut child = s.holders[0].clone();
    child.pid += 1;
    child.ppid = Some(s.holders[0].pid);
    s.holders.push(child);
    assert!(matches!(
        one(&snap(vec![s.clone()]), FindingKind::BlockingListener),
        Fact::BlockingListener {
            acceptors: Acceptors::Processes(2),
            ..
        }
    ));
    s.options.nonblocking = None;
    assert!(
        none_of(&snap(vec![s]), FindingKind::BlockingListener),
        "unknown is not false"
    );
}

#[test]
fn nonlocal_and_tentative_binds() {
    let mut s = sock("vip", Proto::Tcp, "192.0.2.80", 443, 0);
    s.address_state = AddressState::Nonlocal;
    s.options.freebind = Some(true);
    let allowed = |s: &Socket| -> (NonlocalAllowance, Severity) {
        let sn = snap(vec![s.clone()]);
        let f = one(&sn, FindingKind::NonlocalBind);
        match f {
            Fact::NonlocalBind { allowed_by, .. } => (allowed_by, f.severity()),
            other => panic!("{other:?}"),
        }
    };
    assert_eq!(allowed(&s), (NonlocalAllowance::Freebind, Severity::Info));
    s.options.freebind = Some(false);
    s.options.transparent = Some(true);
    assert_eq!(
        allowed(&s),
        (NonlocalAllowance::Transparent, Severity::Info)
    );
    s.options.transparent = Some(false);
    assert_eq!(
        allowed(&s),
        (NonlocalAllowance::Unseen, Severity::Notice),
        "the namespace has IPv4 and no sysctl says yes"
    );

    let mut t = sock("t", Proto::Tcp, "2001:db8::5", 8443, 0);
    t.address_state = AddressState::Tentative;
    let sn = snap(vec![t.clone()]);
    let f = one(&sn, FindingKind::TentativeBind);
    assert_eq!(f.severity(), Severity::Warning);
    assert!(
        matches!(
            f,
            Fact::TentativeBind {
                problem: DadProblem::Tentative,
                ..
            }
        ),
        "{f:?}"
    );
    t.address_state = AddressState::Optimistic;
    assert!(
        none_of(&snap(vec![t]), FindingKind::TentativeBind),
        "optimistic is usable"
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
                addr: ip("2001:db8::7"),
                prefix_len: 64,
                scope: "global".into(),
                flags: vec![AddrFlag::Tentative],
            },
            InterfaceAddr {
                addr: ip("2001:db8::8"),
                prefix_len: 64,
                scope: "global".into(),
                flags: vec![AddrFlag::Tentative, AddrFlag::Dadfailed],
            },
            InterfaceAddr {
                addr: ip("2001:db8::9"),
                prefix_len: 64,
                scope: "global".into(),
                flags: vec![AddrFlag::Tentative, AddrFlag::Optimistic],
            },
        ],
    });
    let sn = snapshot_of(vec![], vec![ns]);
    let fs = found(&sn);
    let stuck: Vec<(IpAddr, &str, DadProblem, Severity)> = fs
        .iter()
        .filter_map(|f| match f {
            Fact::StuckAddress {
                interface,
                address,
                problem,
                ..
            } => Some((
                address.addr,
                interface.name.as_str(),
                *problem,
                f.severity(),
            )),
            _ => None,
        })
        .collect();
    assert_eq!(
        stuck,
        vec![
            (
                ip("2001:db8::7"),
                "veth0",
                DadProblem::Tentative,
                Severity::Notice
            ),
            (
                ip("2001:db8::8"),
                "veth0",
                DadProblem::Dadfailed,
                Severity::Warning
            ),
        ],
        "an optimistic address is not stuck"
    );
    assert!(fs.iter().all(|f| f.kind() == FindingKind::TentativeBind));
}

#[test]
fn holder_unknown_cases() {
    let mut s = sock("h", Proto::Tcp, "0.0.0.0", 9999, 0);
    s.holders.clear();
    s.holders_unknown = Some("needs root".into());
    let why = |s: &Socket| -> (String, Severity) {
        let sn = snap(vec![s.clone()]);
        let f = one(&sn, FindingKind::HolderUnknown);
        match f {
            Fact::HolderUnknown { why, .. } => (format!("{why:?}"), f.severity()),
            other => panic!("{other:?}"),
        }
    };
    assert_eq!(
        why(&s),
        (
            format!("{:?}", HolderUnseen::Unreadable("needs root")),
            Severity::Info
        )
    );
    s.holders_unknown = None;
    assert_eq!(
        why(&s),
        (format!("{:?}", HolderUnseen::NotVisible), Severity::Notice)
    );
    s.inode = 0;
    s.holders_unknown = Some("needs root".into());
    assert_eq!(
        why(&s),
        (format!("{:?}", HolderUnseen::KernelHeld), Severity::Notice),
        "inode 0 is the kernel's, whatever else is unreadable"
    );
}

#[test]
fn every_kind_is_produced_by_some_test_input_and_sorted_by_severity() {
    let sn = snap(vec![
        with_queue(5, 4),
        sock("v6", Proto::Tcp, "::", 9100, 1001),
    ]);
    let fs = analyze(&sn, &History::default());
    assert!(
        fs.windows(2).all(|w| w[0].severity >= w[1].severity),
        "{fs:#?}"
    );
    assert_eq!(fs.len(), found(&sn).len(), "nothing to merge here");
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
fn many_facts_of_one_process_merge() {
    let listeners: Vec<Socket> = (0..50)
        .map(|i| {
            let mut s = sock(&format!("s{i:02}"), Proto::Tcp, "0.0.0.0", 20000 + i, 1001);
            s.options.nonblocking = Some(false);
            s.holders[0].threads = Some(8);
            s
        })
        .collect();
    let mut other = sock("other", Proto::Tcp, "0.0.0.0", 30000, 1002);
    other.options.nonblocking = Some(false);
    other.holders[0].threads = Some(8);
    let mut all = listeners;
    all.push(other);
    let sn = snap(all);
    let blocking: Vec<Fact> = found(&sn)
        .into_iter()
        .filter(|f| f.kind() == FindingKind::BlockingListener)
        .collect();
    let subjects = merge::per_process(blocking);
    assert_eq!(
        subjects.len(),
        2,
        "one group for the process, one single: {subjects:#?}"
    );
    assert!(
        subjects
            .iter()
            .any(|s| matches!(s, Subject::Group(g) if g.len() == 50)),
        "{subjects:#?}"
    );
    assert!(
        subjects
            .iter()
            .any(|s| matches!(s, Subject::One(f) if ids(&f.sockets()) == ["other"]))
    );
    // The findings: the group lists every socket once.
    let fs = analyze(&sn, &History::default());
    let b: Vec<&Finding> = fs
        .iter()
        .filter(|f| f.kind == FindingKind::BlockingListener)
        .collect();
    assert_eq!(b.len(), 2, "{b:#?}");
    assert!(b.iter().any(|f| f.sockets.len() == 50));
    assert!(b.iter().any(|f| f.sockets.len() == 1));
}

#[test]
fn three_of_one_process_stay_apart() {
    let sockets: Vec<Socket> = (0..3)
        .map(|i| {
            let mut s = sock(&format!("s{i}"), Proto::Tcp, "0.0.0.0", 20000 + i, 1001);
            s.options.nonblocking = Some(false);
            s.holders[0].threads = Some(8);
            s
        })
        .collect();
    let sn = snap(sockets);
    let subjects = merge::per_process(found(&sn));
    let blocking = subjects
        .iter()
        .filter(|s| match s {
            Subject::One(f) => f.kind() == FindingKind::BlockingListener,
            Subject::Group(_) => false,
        })
        .count();
    assert_eq!(blocking, 3, "{subjects:#?}");
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
    let now = snap(vec![with_queue(0, 128)]);
    let fs = facts(&now, &h);
    let f = of_kind(&fs, FindingKind::SynBacklog);
    assert_eq!(f.len(), 1, "{fs:#?}");
    assert_eq!(f[0].severity(), Severity::Warning, "cookies, no drops");
    assert!(
        matches!(
            f[0],
            Fact::SynQueueOverflow {
                drops: 0,
                cookies: 4,
                at_limit,
                ..
            } if at_limit.is_empty()
        ),
        "{:?}",
        f[0]
    );
}

#[test]
fn syn_drops_are_critical_and_name_the_full_listener() {
    let mut full = with_queue(0, 16);
    full.syn_recv = Some(16);
    let h = counters_rising(&full, |c, n| c.req_q_full_drop = Some(n), 1, 3);
    let now = snap(vec![full]);
    let fs = facts(&now, &h);
    let f = fs
        .iter()
        .find(|f| matches!(f, Fact::SynQueueOverflow { .. }))
        .unwrap_or_else(|| panic!("{fs:#?}"));
    assert_eq!(f.severity(), Severity::Critical);
    assert!(
        matches!(f, Fact::SynQueueOverflow { drops: 2, cookies: 0, at_limit, .. } if ids(at_limit) == ["q"]),
        "{f:?}"
    );
}

#[test]
fn nonlocal_bind_by_sysctl_or_without_ipv4() {
    let mut s = sock("vip", Proto::Tcp, "192.0.2.80", 8443, 0);
    s.address_state = AddressState::Nonlocal;
    let allowed = |ns: Netns| -> (NonlocalAllowance, Severity) {
        let sn = snapshot_of(vec![s.clone()], vec![ns]);
        let f = one(&sn, FindingKind::NonlocalBind);
        match f {
            Fact::NonlocalBind { allowed_by, .. } => (allowed_by, f.severity()),
            other => panic!("{other:?}"),
        }
    };
    let mut ns = host();
    ns.sysctls.ipv4_ip_nonlocal_bind = Some(1);
    assert_eq!(allowed(ns), (NonlocalAllowance::Sysctl, Severity::Notice));
    let mut ns = host();
    ns.sysctls.ipv6_ip_nonlocal_bind = Some(1);
    assert_eq!(
        allowed(ns).0,
        NonlocalAllowance::Unseen,
        "the IPv6 sysctl does not let an IPv4 address through"
    );
    let mut ns = host();
    for i in &mut ns.interfaces {
        i.addresses.retain(|a| a.addr.is_ipv6());
    }
    assert_eq!(
        allowed(ns),
        (NonlocalAllowance::NoIpv4InNamespace, Severity::Notice)
    );
}

/// The finding a fact makes carries the fact's kind, severity and sockets: the words are
/// the only thing `analyze` adds.
#[test]
fn findings_are_the_facts_judged_and_worded() {
    let mut u = sock("u", Proto::Udp, "0.0.0.0", 5353, 1001);
    u.options.reuseaddr = Some(true);
    let sn = snap(vec![u, sock("v6", Proto::Tcp, "::", 9100, 1002)]);
    let fs = found(&sn);
    let findings = analyze(&sn, &History::default());
    assert_eq!(fs.len(), findings.len());
    for fact in &fs {
        let w = words::of(fact, &sn);
        let f = findings
            .iter()
            .find(|f| f.summary == w.summary)
            .unwrap_or_else(|| panic!("no finding for {fact:?}"));
        assert_eq!(f.kind, fact.kind());
        assert_eq!(f.severity, fact.severity());
        assert_eq!(f.explanation, w.explanation);
        let want: Vec<SocketId> = fact.filed_sockets().iter().map(|s| s.id.clone()).collect();
        assert_eq!(f.sockets, want);
    }
}

#[test]
fn facets_of_one_problem_share_their_port() {
    // uid 1002 bound 127.0.0.1:7000 beside uid 1001's 0.0.0.0:7000, both with SO_REUSEADDR:
    // one takeover, seen as a takeover, a cross-user port and an overlap.
    let mut svc = sock("svc", Proto::Udp, "0.0.0.0", 7000, 1001);
    svc.options.reuseaddr = Some(true);
    let mut thief = sock("thief", Proto::Udp, "127.0.0.1", 7000, 1002);
    thief.options.reuseaddr = Some(true);
    let lone = sock("lone", Proto::Tcp, "::", 9100, 1003);
    let s = snap(vec![svc, thief, lone]);
    let all = analyze(&s, &History::default());
    let on_7000: Vec<&Finding> = all
        .iter()
        .filter(|f| f.problem.is_some_and(|k| k.port == 7000))
        .collect();
    let kinds: BTreeSet<&str> = on_7000.iter().map(|f| f.kind.name()).collect();
    assert!(
        kinds.is_superset(&BTreeSet::from([
            "udp_reuseaddr_takeover",
            "cross_user_port",
            "wildcard_overlap"
        ])),
        "{kinds:?}"
    );
    assert!(on_7000.iter().all(|f| f.problem
        == Some(PortKey {
            netns: NetnsId(1),
            proto: Proto::Udp,
            port: 7000
        })));
    // A finding alone on its port is no problem of facets.
    let lone = all
        .iter()
        .find(|f| f.kind == FindingKind::FamilySplit)
        .expect("family_split on 9100");
    assert_eq!(lone.problem, None);
}

/// A socket of `uid` held by one process running `exe`.
fn held_by(id: &str, port: u16, uid: u32, pid: u32, exe: &str, ppid: u32) -> Socket {
    let mut s = sock(id, Proto::Tcp, "0.0.0.0", port, uid);
    let h = &mut s.holders[0];
    h.pid = pid;
    h.exe = Some(exe.into());
    h.ppid = Some(ppid);
    h.name = exe.rsplit('/').next().unwrap_or(exe).into();
    s
}

#[test]
fn unrelated_programs_of_one_user() {
    // nobody runs dnsmasq, a socat relay and a Python server.
    let s = snap(vec![
        held_by("d", 5300, 65534, 10, "/usr/sbin/dnsmasq", 1),
        held_by("s", 8081, 65534, 11, "/usr/bin/socat1", 1),
        held_by("p", 8000, 65534, 12, "/usr/bin/python3.11", 1),
    ]);
    let f = one(&s, FindingKind::SharedUid);
    let Fact::SharedUid {
        user,
        programs,
        reuseport,
        ..
    } = &f
    else {
        panic!("{f:?}");
    };
    assert_eq!(user.uid, 65534);
    assert_eq!(programs.len(), 3);
    assert!(reuseport.is_empty());
    assert_eq!(f.severity(), Severity::Info);
    // With SO_REUSEPORT on one of them, a concrete takeover: notice.
    let mut rp = held_by("p", 8000, 65534, 12, "/usr/bin/python3.11", 1);
    rp.options.reuseport = Some(true);
    let s = snap(vec![
        held_by("d", 5300, 65534, 10, "/usr/sbin/dnsmasq", 1),
        rp,
    ]);
    assert_eq!(one(&s, FindingKind::SharedUid).severity(), Severity::Notice);
    // A service's own workers (child of the master, or the same executable): related.
    for sockets in [
        vec![
            held_by("m", 80, 33, 20, "/usr/sbin/nginx", 1),
            held_by("w", 8080, 33, 21, "/usr/bin/helper", 20),
        ],
        vec![
            held_by("a", 9000, 1001, 30, "/usr/bin/python3.11", 1),
            held_by("b", 9001, 1001, 31, "/usr/bin/python3.11", 1),
        ],
    ] {
        let s = snap(sockets);
        assert!(none_of(&s, FindingKind::SharedUid), "{:?}", found(&s));
    }
    // Root may do all of this anyway.
    let s = snap(vec![
        held_by("x", 22, 0, 40, "/usr/sbin/sshd", 1),
        held_by("y", 25, 0, 41, "/usr/sbin/exim4", 1),
    ]);
    assert!(none_of(&s, FindingKind::SharedUid));
}

#[test]
fn review_cases_a_client_port_shared_with_another_user_and_namespaces_apart() {
    // A takeover on an ephemeral port is judged: another user's bind shares the port.
    let mut svc = sock("svc", Proto::Udp, "0.0.0.0", 40000, 1001);
    svc.options.reuseaddr = Some(true);
    let mut thief = sock("thief", Proto::Udp, "127.0.0.1", 40000, 1002);
    thief.options.reuseaddr = Some(true);
    let s = with_local_range(snap(vec![svc, thief]));
    assert!(
        !none_of(&s, FindingKind::UdpReuseaddrTakeover),
        "{:?}",
        found(&s)
    );
    assert!(!none_of(&s, FindingKind::CrossUserPort));

    // Programs of one uid in two namespaces (two containers) are no shared_uid.
    let a = held_by("d", 5300, 65534, 10, "/usr/sbin/dnsmasq", 1);
    let mut b = held_by("s", 8081, 65534, 11, "/usr/bin/socat", 1);
    b.netns = NetnsId(2);
    let mut sn = snap(vec![a, b]);
    let mut other = host();
    other.id = NetnsId(2);
    sn.netns.push(other);
    assert!(none_of(&sn, FindingKind::SharedUid), "{:?}", found(&sn));

    // A service on 127.0.0.53 is dialled by that number: no localhost story.
    let s = snap(vec![sock("r", Proto::Tcp, "127.0.0.53", 5335, 101)]);
    assert!(none_of(&s, FindingKind::FamilySplit), "{:?}", found(&s));
}

#[test]
fn facets_of_a_problem_are_not_merged_into_a_process_group() {
    // svc holds four UDP SO_REUSEADDR sockets; a thief of another user sits on one port.
    let mut sockets: Vec<Socket> = (0..4)
        .map(|i| {
            let mut s = sock(&format!("svc{i}"), Proto::Udp, "0.0.0.0", 7000 + i, 1001);
            s.options.reuseaddr = Some(true);
            s
        })
        .collect();
    let mut thief = sock("thief", Proto::Udp, "127.0.0.1", 7000, 1002);
    thief.options.reuseaddr = Some(true);
    sockets.push(thief);
    let all = analyze(&snap(sockets), &History::default());
    // The victim's takeover on 7000 is a facet of the 7000 problem, not one of a group.
    let takeover_7000 = all
        .iter()
        .find(|f| {
            f.kind == FindingKind::UdpReuseaddrTakeover
                && f.sockets == vec![SocketId("svc0".into())]
        })
        .expect("svc's takeover on 7000 on its own");
    assert_eq!(takeover_7000.problem.map(|k| k.port), Some(7000));
    // No merged finding lists the thief's socket as svc's.
    for f in all.iter().filter(|f| f.sockets.len() > 1) {
        assert!(
            f.problem.is_some() || !f.sockets.contains(&SocketId("thief".into())),
            "{f:?}"
        );
    }
}

/// A daemon that binds as root, drops to nobody and binds an address that appeared later
/// (dnsmasq once IPv6 DAD is done) holds sockets of two users on one port: not another
/// user's service, so info, naming the process; two processes of those users are a notice.
#[test]
fn one_process_holding_sockets_of_two_users_is_info() {
    let a = sock("a", Proto::Udp, "10.0.0.1", 53, 0);
    let mut b = sock("b", Proto::Udp, "fe80::1", 53, 65534);
    b.holders[0].pid = a.holders[0].pid;
    b.holders[0].name = a.holders[0].name.clone();
    let s = snap(vec![a.clone(), b.clone()]);
    let f = one(&s, FindingKind::CrossUserPort);
    assert!(
        matches!(f, Fact::CrossUserPort { held_by_one: Some(pid), .. } if pid == a.holders[0].pid),
        "{f:?}"
    );
    assert_eq!(f.severity(), Severity::Info);
    let w = crate::analyze::findings::words::of(&f, &s);
    assert!(
        w.summary.ends_with(&format!(
            "has sockets of 2 users, all held by {}[{}]",
            a.holders[0].name, a.holders[0].pid
        )),
        "{}",
        w.summary
    );
    // Two processes: the users' services differ.
    let mut c = b.clone();
    c.holders[0].pid = 4242;
    let s = snap(vec![a, c]);
    let f = one(&s, FindingKind::CrossUserPort);
    assert!(
        matches!(
            f,
            Fact::CrossUserPort {
                held_by_one: None,
                ..
            }
        ),
        "{f:?}"
    );
    assert_eq!(f.severity(), Severity::Notice);
}
