//! Golden texts: a few findings' words pinned in full, so a change of wording is a visible,
//! deliberate diff. The detection tests assert on facts and do not read sentences.

use super::*;
use crate::analyze::findings::fact::{DadProblem, Delivery, NonlocalAllowance, Unbound};
use crate::analyze::findings::tests::{host, snap, sock};
use crate::analyze::findings::{facts, merge};
use crate::analyze::history::History;
use crate::model::*;
use crate::testing::{netns, snapshot_of};

fn words(summary: &str, explanation: &str) -> Words {
    Words {
        summary: summary.into(),
        explanation: explanation.into(),
    }
}

#[test]
fn overlap_of_two_users_lists_the_routes() {
    let sn = snap(vec![
        sock("w", Proto::Tcp, "0.0.0.0", 8080, 1001),
        sock("l", Proto::Tcp, "127.0.0.1", 8080, 1002),
    ]);
    let fs = facts(&sn, &History::default());
    let fact = fs
        .iter()
        .find(|f| f.kind() == FindingKind::WildcardOverlap)
        .expect("an overlap");
    assert_eq!(
        of(fact, &sn),
        words(
            "tcp port 8080: 2 overlapping binds (tcp 127.0.0.1:8080, tcp 0.0.0.0:8080); \
             exact addresses take their own traffic, the wildcard the rest",
            "These binds share tcp port 8080 and cover some of the same addresses: \
             tcp 127.0.0.1:8080 of uid 1002, held by svc1002[1102] uid 1002; \
             tcp 0.0.0.0:8080 of uid 1001, held by svc1001[1101] uid 1001. Who receives what:\n  \
             - IPv4 to 127.0.0.1 → tcp 127.0.0.1:8080 (svc1002): an exact-address bind is found before \
             any wildcard (first lookup pass); this socket receives it\n  \
             - IPv4 to any other address → tcp 0.0.0.0:8080 (svc1001): the wildcard bind takes every \
             other local address (second lookup pass); this socket receives it\n  \
             - IPv6 to any other address → refused: no socket takes IPv6 on this port: connections are \
             refused (and the port is free to bind for that family)\n\
             They belong to different users, so one user's service receives traffic that clients may \
             mean for the other's. If that is not intended, give the port to one service, or bind each \
             to its own address and port."
        )
    );
}

/// Names from the host (users, namespaces) are sanitized; a snapshot of several namespaces
/// names the socket's.
#[test]
fn family_split_in_a_named_namespace_is_sanitized() {
    let mut s = sock("v4", Proto::Tcp, "0.0.0.0", 8080, 1001);
    s.user = Some("al\x1bice".into());
    s.netns = NetnsId(2);
    let mut web = netns(2, Some("we\x1bb"), None);
    web.interfaces = host().interfaces;
    let sn = snapshot_of(vec![s.clone()], vec![host(), web]);
    let fact = Fact::FamilySplit {
        proto: Proto::Tcp,
        port: 8080,
        bound: Family::Ipv4,
        open: Unbound::AllIpv6,
        receivers: vec![&s],
    };
    assert_eq!(
        of(&fact, &sn),
        words(
            "tcp port 8080 in namespace 'we\\x1bb' is held for IPv4 only: any user can bind it on IPv6",
            "Only IPv4 is bound on tcp port 8080: tcp 0.0.0.0:8080 of al\\x1bice (uid 1001), held by \
             svc1001[1101] uid 1001. Any local user can bind [::]:8080 with IPV6_V6ONLY, or [::1]:8080, \
             and receive every IPv6 connection to it, including clients that resolve 'localhost' to ::1 \
             first. Bind the service to [::] as well (or dual-stack), or make sure IPv6 clients cannot \
             reach this port."
        )
    );
}

#[test]
fn nonlocal_bind_says_what_allowed_it() {
    let sn = snap(vec![]);
    let vip = sock("vip", Proto::Tcp, "192.0.2.80", 443, 0);
    let fact = Fact::NonlocalBind {
        socket: &vip,
        allowed_by: NonlocalAllowance::Freebind,
    };
    assert_eq!(
        of(&fact, &sn),
        words(
            "tcp 192.0.2.80:443 is bound to an address on no interface (svc0)",
            "tcp 192.0.2.80:443 of uid 0, held by svc0[100] uid 0: 192.0.2.80 is not assigned to any \
             interface of its namespace; IP_FREEBIND allowed it. The socket receives nothing until the \
             address appears (a floating or virtual IP moving here); if that is the plan this is fine. \
             Otherwise the service is listening where no client can reach it: check the address in its \
             configuration."
        )
    );
}

#[test]
fn syn_backlog_full_deferred_and_shared() {
    let sn = snap(vec![]);
    let q = sock("q", Proto::Tcp, "0.0.0.0", 9000, 1002);
    let fact = Fact::SynBacklog {
        socket: &q,
        syn_recv: 16,
        backlog: 16,
        defer_accept: Some(7),
        shared: true,
    };
    assert_eq!(
        of(&fact, &sn),
        words(
            "tcp 0.0.0.0:9000: 16 SYN_RECV requests waiting (backlog 16), TCP_DEFER_ACCEPT on",
            "tcp 0.0.0.0:9000 of uid 1002, held by svc1002[1102] uid 1002: 16 half-open requests wait \
             in the SYN queue (counted for its whole SO_REUSEPORT group: the kernel does not say which \
             member each request belongs to). This listener has TCP_DEFER_ACCEPT (7s): a client's bare \
             ACK is dropped and the connection waits in the SYN queue until the client sends data, while \
             the client already believes it is connected. Requests piling up here are then normal for \
             protocols where the client speaks first; for protocols where the server speaks first (SMTP, \
             SSH, MySQL) the clients hang until the period ends. TCPDeferAcceptDrop counts the dropped \
             ACKs. The SYN queue is at its limit (16): further SYNs get SYN cookies \
             (net.ipv4.tcp_syncookies=1, TCPReqQFullDoCookies) or are dropped (TCPReqQFullDrop)."
        )
    );
}

#[test]
fn stuck_address_in_one_of_several_namespaces() {
    let ns = host();
    let sn = snapshot_of(vec![], vec![host(), netns(2, Some("web"), None)]);
    let lo = &ns.interfaces[0];
    let fact = Fact::StuckAddress {
        netns: &ns,
        interface: lo,
        address: &lo.addresses[1],
        problem: DadProblem::Dadfailed,
    };
    assert_eq!(
        of(&fact, &sn),
        words(
            "::1/128 on lo in namespace 'host' failed duplicate address detection",
            "The address ::1 on lo in namespace 'host' is dadfailed: another host on the link answered \
             for it. It stays unusable: every bind() to it fails with EADDRNOTAVAIL. Find the duplicate, \
             then remove and re-add the address."
        )
    );
}

/// A merged group says whose sockets they are, then the first finding's words, and lists
/// 20 sockets before it counts the rest.
#[test]
fn merged_group_names_the_process_and_counts_the_rest() {
    let sockets: Vec<Socket> = (0..25)
        .map(|i| {
            let mut s = sock(&format!("s{i:02}"), Proto::Tcp, "0.0.0.0", 20000 + i, 1001);
            s.options.nonblocking = Some(false);
            s.holders[0].threads = Some(8);
            s.holders[0].user = Some("alice".into());
            s
        })
        .collect();
    let sn = snap(sockets);
    let subjects = merge::per_process(facts(&sn, &History::default()));
    let (first, group) = subjects
        .iter()
        .find_map(|s| match s {
            merge::Subject::Group(g) if g[0].kind() == FindingKind::BlockingListener => {
                Some((&g[0], s))
            }
            _ => None,
        })
        .expect("a group of blocking listeners");
    let listed: Vec<String> = (20000..20020).map(|p| format!("tcp 0.0.0.0:{p}")).collect();
    assert_eq!(
        of_group(&of(first, &sn), &group.sockets()),
        words(
            "25 sockets of svc1001[1101] alice: tcp 0.0.0.0:20000: the listening fd is blocking and 8 threads may wait on it (svc1001)",
            &format!(
                "tcp 0.0.0.0:20000 of uid 1001, held by svc1001[1101] alice is in blocking mode (no \
                 O_NONBLOCK) and process 1101 has 8 threads. If they multiplex the listener (select(), \
                 poll(), or epoll without EPOLLEXCLUSIVE), one connection wakes all of them: one accept() \
                 takes it and the others then block in accept() until the next client arrives, while any \
                 other work they do waits. Waiters that sleep in accept() itself are woken one at a time \
                 and are not affected, nor is a lone accepter: on Linux a connection reset after the wakeup \
                 stays queued, accept() returns it and the first recv() reports ECONNRESET. Set O_NONBLOCK \
                 on the listening socket and treat EAGAIN from accept() as 'nothing yet', or let one process \
                 or thread accept.\nThe same holds for every socket of this group: {} and 5 more.",
                listed.join(", ")
            )
        )
    );
}

/// Where bindscope cannot tell which candidate receives, the finding says "one of … or …",
/// never "A + B", which reads as a SO_REUSEPORT group sharing the traffic.
#[test]
fn an_uncertain_route_names_candidates_not_a_group() {
    let a = sock("a", Proto::Udp, "0.0.0.0", 9999, 1001);
    let b = sock("b", Proto::Udp, "0.0.0.0", 9999, 1002);
    let mut d = Delivery {
        family: Family::Ipv4,
        to: None,
        device: None,
        receivers: vec![&a, &b],
        how: "cannot tell which: the snapshot has no dump positions".into(),
        certain: false,
    };
    assert_eq!(
        binds::route_line(Proto::Udp, &d),
        "IPv4 to any other address → one of udp 0.0.0.0:9999 (svc1001) or udp 0.0.0.0:9999 \
         (svc1002) (not certain): cannot tell which: the snapshot has no dump positions"
    );
    d.certain = true;
    d.how = "a SO_REUSEPORT group".into();
    assert_eq!(
        binds::route_line(Proto::Udp, &d),
        "IPv4 to any other address → udp 0.0.0.0:9999 (svc1001) + udp 0.0.0.0:9999 (svc1002): \
         a SO_REUSEPORT group"
    );
}

/// A group of many sockets describes the first ten and counts the rest (the finding's
/// `sockets` list them all): a port bound on 70 addresses made a 20 KB paragraph.
#[test]
fn a_long_socket_list_describes_ten_and_counts_the_rest() {
    let sockets: Vec<Socket> = (0..13)
        .map(|i| {
            let mut s = sock(&format!("m{i:02}"), Proto::Udp, "0.0.0.0", 5353, 1001);
            s.options.reuseport = Some(true);
            s
        })
        .collect();
    let sn = snap(sockets);
    let fs = facts(&sn, &History::default());
    let fact = fs
        .iter()
        .find(|f| f.kind() == FindingKind::ReuseportGroup)
        .expect("a SO_REUSEPORT group");
    let explanation = of(fact, &sn).explanation;
    let described = "udp 0.0.0.0:5353 of uid 1001, held by svc1001[1101] uid 1001";
    assert_eq!(explanation.matches(described).count(), 10, "{explanation}");
    assert!(
        explanation.starts_with(&format!("Members: {described}; ")),
        "{explanation}"
    );
    assert!(
        explanation.contains(&format!("{described}; and 3 more. Each datagram")),
        "{explanation}"
    );
}

/// Cut short, a list of several users' sockets still describes a socket of each user: a
/// port with twelve sockets of one user and one of another names both.
#[test]
fn a_long_list_of_two_users_names_both() {
    let mut sockets: Vec<Socket> = (0..12)
        .map(|i| {
            sock(
                &format!("a{i:02}"),
                Proto::Tcp,
                &format!("127.0.0.{}", i + 1),
                7000,
                1001,
            )
        })
        .collect();
    sockets.push(sock("b", Proto::Tcp, "127.0.1.1", 7000, 1002));
    let sn = snap(sockets);
    let fs = facts(&sn, &History::default());
    let fact = fs
        .iter()
        .find(|f| f.kind() == FindingKind::CrossUserPort)
        .expect("a port of two users");
    let explanation = of(fact, &sn).explanation;
    assert!(
        explanation.contains("tcp 127.0.1.1:7000 of uid 1002"),
        "{explanation}"
    );
    assert_eq!(
        explanation.matches(" of uid 1001").count(),
        9,
        "{explanation}"
    );
    assert!(explanation.contains("; and 3 more"), "{explanation}");
}
