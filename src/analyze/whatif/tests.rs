//! The what-if against the measured tables of linux-bind-semantics.md and bindmatrix, through
//! `can_bind`; assertions on the verdict's types (the words are `output::whatif`'s tests).

use super::fixtures::*;
use super::*;
use crate::model::{NetnsId, OptionName, Socket, SocketId, State, View};

/// The `InUse` of a definite EADDRINUSE.
fn in_use(v: &Verdict) -> &InUse {
    match &v.explanation {
        Explanation::Decided(Cause::InUse(u)) => u,
        other => panic!("not a definite EADDRINUSE: {other:#?}"),
    }
}

fn ids(sockets: &[&Socket]) -> Vec<SocketId> {
    sockets.iter().map(|s| s.id.clone()).collect()
}

// -----------------------------------------------------------------------------------
// §3.4: the measured Windows-style tables (IPv4), first socket × second socket.

const OPTS: [&str; 8] = ["", "", "ra", "ra", "rp", "rp", "ra rp", "ra rp"];
const ADDRS: [&str; 8] = [
    "0.0.0.0",
    "127.0.0.1",
    "0.0.0.0",
    "127.0.0.1",
    "0.0.0.0",
    "127.0.0.1",
    "0.0.0.0",
    "127.0.0.1",
];

fn check_table(name: &str, first_words: &str, same_uid: bool, table: [&str; 8]) {
    let udp = first_words.contains("udp");
    let listening = first_words.contains("listen");
    for (r, row) in table.iter().enumerate() {
        let cells: Vec<&str> = row.split_whitespace().collect();
        assert_eq!(cells.len(), 8, "{name} row {r}");
        for (c, cell) in cells.iter().enumerate() {
            let first = sock(
                1,
                ADDRS[r],
                5000,
                1001,
                &format!("{first_words} {}", OPTS[r]),
            );
            let s = snap(vec![first]);
            let uid = if same_uid { 1001 } else { 1002 };
            let words = format!("{} {}", OPTS[c], if udp { "udp" } else { "listen" });
            let q = req(&format!("{}:5000", ADDRS[c]), uid, &words);
            let v = verdict(&s, &q);
            let measured = if *cell == "X" {
                BindResult::Eaddrinuse
            } else {
                BindResult::Ok
            };
            // A TCP RP bind blocked by a bound-only SO_REUSEADDR socket may pass through
            // the port's SO_REUSEPORT fast path, depending on earlier binds: uncertain.
            let fast_path = !udp
                && !listening
                && OPTS[c].contains("rp")
                && !OPTS[c].contains("ra")
                && OPTS[r].contains("ra")
                && measured == BindResult::Eaddrinuse;
            let ctx = format!(
                "{name}: first '{} {}' second '{} {}' -> {v:#?}",
                OPTS[r], ADDRS[r], OPTS[c], ADDRS[c]
            );
            if fast_path {
                assert_eq!(v.result, BindResult::Uncertain, "{ctx}");
                assert!(v.possible.contains(&measured), "{ctx}");
                assert!(
                    v.uncertain_because
                        .iter()
                        .any(|b| matches!(b, Unknown::TcpFastPath { uid: u, .. } if *u == uid)),
                    "{ctx}"
                );
            } else {
                assert_eq!(v.result, measured, "{ctx}");
            }
            if measured == BindResult::Eaddrinuse && !fast_path {
                let first = SocketId(format!("{}-1", NS.0));
                assert_eq!(v.blockers, vec![first.clone()], "{ctx}");
                let u = in_use(&v);
                assert_eq!((u.proto, u.port), (q.proto, 5000), "{ctx}");
                assert_eq!(u.new.addr, q.addr, "names the new socket: {ctx}");
                let refused: Vec<&Socket> = u.refusals.iter().map(|r| &r.socket).collect();
                assert_eq!(ids(&refused), vec![first], "names the blocker: {ctx}");
                assert_eq!(
                    u.refusals[0].rule,
                    refusal(OPTS[r], OPTS[c], same_uid, listening),
                    "{ctx}"
                );
            }
        }
    }
}

/// The rule by which the first socket of a table (options `first`, of uid 1001) refuses the
/// second (`second`, uid 1001 or 1002), as §3.1 and §3.3 state it.
fn refusal(first: &str, second: &str, same_uid: bool, listening: bool) -> RefusalRule {
    let has = |opts: &str, o: &str| opts.split_whitespace().any(|w| w == o);
    let (f_ra, f_rp) = (has(first, "ra"), has(first, "rp"));
    let (s_ra, s_rp) = (has(second, "ra"), has(second, "rp"));
    if !s_ra && !s_rp {
        return RefusalRule::NewSetsNeither;
    }
    if listening && s_ra && f_ra && !(s_rp && f_rp) {
        return RefusalRule::ReuseaddrNeverSharesWithListener;
    }
    if s_rp && f_rp && !same_uid {
        return RefusalRule::ReuseportOtherUid {
            yours: 1002,
            its: 1001,
        };
    }
    RefusalRule::Lacks {
        reuseaddr: (s_ra && !f_ra).then_some(Lack::NotSet),
        reuseport: (s_rp && !f_rp).then_some(Lack::NotSet),
    }
}

#[test]
fn table_tcp_listen_same_uid() {
    check_table(
        "tcp listen same uid",
        "listen",
        true,
        [
            "X X X X X X X X",
            "X X X X X X X X",
            "X X X X X X X X",
            "X X X X X X X X",
            "X X X X o o o o",
            "X X X X o o o o",
            "X X X X o o o o",
            "X X X X o o o o",
        ],
    );
}

#[test]
fn table_tcp_listen_other_uid() {
    check_table(
        "tcp listen other uid",
        "listen",
        false,
        ["X X X X X X X X"; 8],
    );
}

#[test]
fn table_tcp_bound_same_uid() {
    check_table(
        "tcp bound same uid",
        "bound",
        true,
        [
            "X X X X X X X X",
            "X X X X X X X X",
            "X X o o X X o o",
            "X X o o X X o o",
            "X X X X o o o o",
            "X X X X o o o o",
            "X X o o o o o o",
            "X X o o o o o o",
        ],
    );
}

#[test]
fn table_tcp_bound_other_uid() {
    check_table(
        "tcp bound other uid",
        "bound",
        false,
        [
            "X X X X X X X X",
            "X X X X X X X X",
            "X X o o X X o o",
            "X X o o X X o o",
            "X X X X X X X X",
            "X X X X X X X X",
            "X X o o X X o o",
            "X X o o X X o o",
        ],
    );
}

#[test]
fn table_udp_same_uid() {
    check_table(
        "udp same uid",
        "udp",
        true,
        [
            "X X X X X X X X",
            "X X X X X X X X",
            "X X o o X X o o",
            "X X o o X X o o",
            "X X X X o o o o",
            "X X X X o o o o",
            "X X o o o o o o",
            "X X o o o o o o",
        ],
    );
}

#[test]
fn table_udp_other_uid() {
    check_table(
        "udp other uid",
        "udp",
        false,
        [
            "X X X X X X X X",
            "X X X X X X X X",
            "X X o o X X o o",
            "X X o o X X o o",
            "X X X X X X X X",
            "X X X X X X X X",
            "X X o o X X o o",
            "X X o o X X o o",
        ],
    );
}

// -----------------------------------------------------------------------------------
// §3.2: the dual-stack tables through can_bind (first listening for TCP).

const SEVEN: [(&str, &str, &str); 7] = [
    ("0.0.0.0", "", ""),
    ("127.0.0.1", "", ""),
    ("[::]", "dual", "dual"),
    ("[::]", "v6only", "v6only"),
    ("[::1]", "", ""),
    ("[::ffff:127.0.0.1]", "", ""),
    ("[::ffff:0.0.0.0]", "", ""),
];

fn bare(a: &str) -> &str {
    a.trim_start_matches('[').trim_end_matches(']')
}

#[test]
fn dual_stack_tables() {
    let none = [
        "X X X o o X X",
        "X X X o o X X",
        "X X X X X X X",
        "o o X X X o o",
        "o o X X X o o",
        "X X X o o X X",
        "X X X o o X X",
    ];
    let all_ok = ["o o o o o o o"; 7];
    for (proto, opts, table) in [
        ("listen", "", none),
        ("listen", "ra", none),
        ("listen", "rp", all_ok),
        ("udp", "", none),
        ("udp", "ra", all_ok),
        ("udp", "rp", all_ok),
    ] {
        for (r, row) in table.iter().enumerate() {
            for (c, cell) in row.split_whitespace().enumerate() {
                let (ra, rw, _) = SEVEN[r];
                let (ca, _, cw) = SEVEN[c];
                let first = sock(1, bare(ra), 5001, 1001, &format!("{proto} {opts} {rw}"));
                let s = snap(vec![first]);
                let q = req(&format!("{ca}:5001"), 1001, &format!("{proto} {opts} {cw}"));
                let v = verdict(&s, &q);
                let want = if cell == "X" {
                    BindResult::Eaddrinuse
                } else {
                    BindResult::Ok
                };
                assert_eq!(
                    v.result, want,
                    "{proto} {opts}: first {ra} {rw}, second {ca} {cw}: {v:#?}"
                );
            }
        }
    }
}

// -----------------------------------------------------------------------------------
// §3.7: devices (first uid 1001, second uid 1002, 0.0.0.0, no options).

#[test]
fn device_table() {
    let devs = ["", "dev=lo", "dev=v0"];
    let table = [["X", "X", "X"], ["X", "X", "o"], ["X", "o", "X"]];
    for proto in ["listen", "udp"] {
        for (r, row) in table.iter().enumerate() {
            for (c, cell) in row.iter().enumerate() {
                let first = sock(1, "0.0.0.0", 5002, 1001, &format!("{proto} {}", devs[r]));
                let s = snap(vec![first]);
                let q = req("0.0.0.0:5002", 1002, &format!("{proto} {}", devs[c]));
                let want = if *cell == "X" {
                    BindResult::Eaddrinuse
                } else {
                    BindResult::Ok
                };
                assert_eq!(
                    verdict(&s, &q).result,
                    want,
                    "{proto} first {} second {}",
                    devs[r],
                    devs[c]
                );
            }
        }
    }
}

// -----------------------------------------------------------------------------------
// §7 / bindmatrix §7: address validity, privileged ports, order of the checks.

#[test]
fn address_validity_and_check_order() {
    use BindResult::*;
    let cases: Vec<(&str, u32, &str, BindResult, Phase)> = vec![
        ("192.0.2.1:5003", 1001, "", Eaddrnotavail, Phase::Bind),
        ("192.0.2.1:5003", 1001, "freebind", Ok, Phase::Bind),
        (
            "192.0.2.1:5003",
            1001,
            "transparent",
            Eperm,
            Phase::Setsockopt,
        ),
        ("192.0.2.1:5003", 0, "transparent", Ok, Phase::Bind),
        ("10.8.8.1:5003", 1001, "", Ok, Phase::Bind), // interface never up
        ("10.7.7.1:5003", 1001, "", Ok, Phase::Bind), // interface down
        ("10.9.9.255:5003", 1001, "udp", Ok, Phase::Bind), // subnet broadcast, v0 up
        ("10.7.7.255:5003", 1001, "udp", Eaddrnotavail, Phase::Bind), // broadcast, vd down
        ("224.0.0.251:5003", 1001, "udp", Ok, Phase::Bind),
        ("224.0.0.251:5003", 1001, "", Ok, Phase::Bind), // TCP too, on IPv4
        ("255.255.255.255:5003", 1001, "udp", Ok, Phase::Bind),
        ("127.3.2.1:5003", 1001, "", Ok, Phase::Bind), // the loopback /8
        ("0.1.2.3:5003", 1001, "", Eaddrnotavail, Phase::Bind), // 0/8 is unicast on 6.x
        ("[2001:db8::1]:5003", 1001, "", Eaddrnotavail, Phase::Bind),
        ("[2001:db8::1]:5003", 1001, "freebind", Ok, Phase::Bind),
        ("[fd01::1]:5003", 1001, "", Eaddrnotavail, Phase::Bind), // tentative
        ("[fd01::1]:5003", 1001, "freebind", Ok, Phase::Bind),
        ("[fd01::1]:5003", 0, "transparent", Ok, Phase::Bind),
        ("[fd02::1]:5003", 1001, "", Ok, Phase::Bind), // optimistic
        ("[fd03::1]:5003", 1001, "", Eaddrnotavail, Phase::Bind), // dadfailed
        ("[fd00:9::1]:5003", 1001, "", Ok, Phase::Bind), // nodad
        ("[fd00:9::1]:5003", 1001, "dev=lo", Ok, Phase::Bind), // global scope: any device
        ("[::1]:5003", 1001, "dev=v0", Eaddrnotavail, Phase::Bind), // host scope: lo only
        (
            "[fe80::38c2:d8ff:fe64:d9ae]:5003",
            1001,
            "",
            Einval,
            Phase::Bind,
        ),
        (
            "[fe80::38c2:d8ff:fe64:d9ae%v0]:5003",
            1001,
            "",
            Ok,
            Phase::Bind,
        ),
        (
            "[fe80::38c2:d8ff:fe64:d9ae%lo]:5003",
            1001,
            "",
            Eaddrnotavail,
            Phase::Bind,
        ),
        (
            "[fe80::38c2:d8ff:fe64:d9ae]:5003",
            1001,
            "dev=v0",
            Ok,
            Phase::Bind,
        ),
        // The scope overrides SO_BINDTODEVICE.
        (
            "[fe80::38c2:d8ff:fe64:d9ae%v0]:5003",
            1001,
            "dev=lo",
            Ok,
            Phase::Bind,
        ),
        (
            "[fe80::38c2:d8ff:fe64:d9ae%nosuch]:5003",
            1001,
            "",
            Enodev,
            Phase::Bind,
        ),
        (
            "[::ffff:127.0.0.1]:5003",
            1001,
            "v6only",
            Einval,
            Phase::Bind,
        ),
        (
            "[::ffff:192.0.2.1]:5003",
            1001,
            "",
            Eaddrnotavail,
            Phase::Bind,
        ),
        ("[::ffff:192.0.2.1]:5003", 1001, "freebind", Ok, Phase::Bind),
        ("[ff02::1]:5003", 1001, "udp", Einval, Phase::Bind), // link-scope multicast: needs a device
        ("[ff02::1%v0]:5003", 1001, "udp", Ok, Phase::Bind),
        ("[ff05::1]:5003", 1001, "udp", Ok, Phase::Bind),
        ("[ff05::1]:5003", 1001, "", Einval, Phase::Bind), // TCP cannot bind IPv6 multicast
        ("0.0.0.0:80", 1001, "", Eacces, Phase::Bind),
        ("0.0.0.0:80", 0, "", Ok, Phase::Bind),
        // v4 checks the address before the port, v6 the port before the address.
        ("192.0.2.1:80", 1001, "", Eaddrnotavail, Phase::Bind),
        ("[2001:db8::1]:80", 1001, "", Eacces, Phase::Bind),
        ("[ff05::1]:80", 1001, "", Einval, Phase::Bind), // multicast on TCP comes first
        (
            "0.0.0.0:5003",
            1001,
            "dev=nosuch",
            Enodev,
            Phase::Setsockopt,
        ),
        ("0.0.0.0:5003", 1001, "listen", Ok, Phase::Listen),
        ("0.0.0.0:0", 1001, "", Ok, Phase::Bind),
    ];
    let s = snap(vec![]);
    for (ep, uid, words, want, at) in cases {
        let v = verdict(&s, &req(ep, uid, words));
        assert_eq!(
            (v.result, v.at),
            (want, at),
            "{ep} uid {uid} {words}: {v:#?}"
        );
        assert!(matches!(v.explanation, Explanation::Decided(_)), "{v:#?}");
        if want == Eacces {
            assert_eq!(
                v.explanation,
                Explanation::Decided(Cause::PrivilegedPort {
                    port: 80,
                    uid,
                    start: Some(1024)
                }),
            );
        }
    }
}

#[test]
fn sysctls_lift_or_impose_checks() {
    let mut ns = host_ns();
    ns.sysctls.ipv4_ip_nonlocal_bind = Some(1);
    ns.sysctls.ipv6_ip_nonlocal_bind = Some(1);
    ns.sysctls.ip_unprivileged_port_start = Some(80);
    let s = snap_with(vec![], ns);
    assert_eq!(
        verdict(&s, &req("192.0.2.1:5004", 1001, "")).result,
        BindResult::Ok
    );
    assert_eq!(
        verdict(&s, &req("[fd01::1]:5004", 1001, "")).result,
        BindResult::Ok
    );
    assert_eq!(
        verdict(&s, &req("0.0.0.0:80", 1001, "")).result,
        BindResult::Ok
    );
    assert_eq!(
        verdict(&s, &req("0.0.0.0:79", 1001, "")).result,
        BindResult::Eacces
    );
}

#[test]
fn bindv6only_sysctl_is_the_default_v6only() {
    let mut ns = host_ns();
    ns.sysctls.bindv6only = Some(1);
    let first = sock(1, "0.0.0.0", 5005, 1001, "listen");
    let s = snap_with(vec![first], ns);
    // `::` without an explicit V6ONLY is V6ONLY here, so it misses the IPv4 listener.
    assert_eq!(
        verdict(&s, &req("[::]:5005", 1002, "")).result,
        BindResult::Ok
    );
    assert_eq!(
        verdict(&s, &req("[::]:5005", 1002, "dual")).result,
        BindResult::Eaddrinuse
    );
    assert_eq!(
        verdict(&s, &req("[::ffff:127.0.0.1]:5005", 1002, "")).result,
        BindResult::Einval
    );
}

#[test]
fn namespace_without_ipv4_binds_any_ipv4_address() {
    // KERNEL: no IPv4 address ever (lo down) → no local table → RTN_BROADCAST.
    let mut ns = host_ns();
    ns.interfaces = vec![link(1, "lo", false, false, vec![])];
    let s = snap_with(vec![], ns.clone());
    let v = verdict(&s, &req("10.1.2.3:5006", 1001, ""));
    assert_eq!(v.result, BindResult::Ok, "{v:#?}");
    assert_eq!(
        v.notes,
        vec![Note::AddressAccepted {
            addr: "10.1.2.3".parse().unwrap(),
            kind: V4Accepted::NoLocalTable
        }]
    );
    // lo up but its 127.0.0.1 deleted: the table exists and is empty.
    ns.interfaces = vec![link(1, "lo", true, true, vec![])];
    let s = snap_with(vec![], ns);
    assert_eq!(
        verdict(&s, &req("10.1.2.3:5006", 1001, "")).result,
        BindResult::Eaddrnotavail
    );
}

#[test]
fn loopback_prefix_on_a_down_lo_is_uncertain() {
    let mut ns = host_ns();
    ns.interfaces[0].up = false;
    let s = snap_with(vec![], ns);
    let v = verdict(&s, &req("127.0.0.5:5007", 1001, ""));
    assert_eq!(v.result, BindResult::Uncertain, "{v:#?}");
    assert_eq!(v.possible, vec![BindResult::Eaddrnotavail, BindResult::Ok]);
    assert_eq!(
        verdict(&s, &req("127.0.0.1:5007", 1001, "")).result,
        BindResult::Ok
    );
}

// -----------------------------------------------------------------------------------
// Sockets that are not listeners, and the listen() re-check

#[test]
fn time_wait_and_children() {
    // A TIME_WAIT socket with SO_REUSEADDR (inherited) shares with an RA bind of any uid;
    // without, it blocks even RA (bindmatrix §4).
    let tw_ra = sock(1, "127.0.0.1", 5008, 0, "tw ra");
    let s = snap(vec![tw_ra]);
    assert_eq!(
        verdict(&s, &req("0.0.0.0:5008", 1002, "ra listen")).result,
        BindResult::Ok
    );
    assert_eq!(
        verdict(&s, &req("0.0.0.0:5008", 1002, "")).result,
        BindResult::Eaddrinuse
    );
    // TIME_WAIT with SO_REUSEPORT: the uid does not matter.
    let tw_rp = sock(1, "127.0.0.1", 5009, 0, "tw rp");
    let s = snap(vec![tw_rp]);
    assert_eq!(
        verdict(&s, &req("0.0.0.0:5009", 1002, "rp")).result,
        BindResult::Ok
    );
    // An established child without RA blocks an RA bind.
    let mut child = sock(1, "127.0.0.1", 5010, 1001, "");
    child.state = State::Established;
    let s = snap(vec![child]);
    assert_eq!(
        verdict(&s, &req("0.0.0.0:5010", 1002, "ra")).result,
        BindResult::Eaddrinuse
    );
    assert_eq!(
        verdict(&s, &req("127.0.0.2:5010", 1002, "")).result,
        BindResult::Ok
    );
}

#[test]
fn request_sockets_hold_no_port() {
    let mut req_sock = sock(1, "127.0.0.1", 5011, 0, "");
    req_sock.state = State::SynRecv;
    let s = snap(vec![req_sock]);
    assert_eq!(
        verdict(&s, &req("0.0.0.0:5011", 1002, "")).result,
        BindResult::Ok
    );
}

#[test]
fn listen_race_is_a_note_not_a_failure() {
    // Measured: next to a bound-only RA socket, an RA socket binds and listens; the other
    // socket's listen() is the one that fails afterwards (§3.5).
    let x = sock(1, "0.0.0.0", 5012, 1001, "bound ra");
    let s = snap(vec![x.clone()]);
    let v = verdict(&s, &req("127.0.0.1:5012", 1002, "ra listen"));
    assert_eq!((v.result, v.at), (BindResult::Ok, Phase::Listen), "{v:#?}");
    assert_eq!(
        v.notes,
        vec![Note::ListenRace {
            socket: Box::new(x)
        }]
    );
}

#[test]
fn other_proto_and_namespace_do_not_conflict() {
    let mut other_ns = sock(1, "0.0.0.0", 5013, 1001, "listen");
    other_ns.netns = NetnsId(1);
    let udp = sock(2, "0.0.0.0", 5013, 1001, "udp");
    let s = snap(vec![other_ns, udp]);
    assert_eq!(
        verdict(&s, &req("0.0.0.0:5013", 1002, "listen")).result,
        BindResult::Ok
    );
}

// -----------------------------------------------------------------------------------
// Uncertain: never a wrong definite answer

#[test]
fn unknown_option_of_a_relevant_socket_is_named() {
    let x = sock(1, "0.0.0.0", 5014, 1001, "bound ra?");
    let s = snap(vec![x.clone()]);
    let v = verdict(&s, &req("127.0.0.1:5014", 1002, "ra"));
    assert_eq!(v.result, BindResult::Uncertain, "{v:#?}");
    assert_eq!(v.possible, vec![BindResult::Eaddrinuse, BindResult::Ok]);
    // The socket carries the snapshot's reason ("not probed (test)") for the words.
    assert_eq!(
        v.uncertain_because,
        vec![Unknown::SocketOption {
            socket: Box::new(x),
            option: OptionName::Reuseaddr
        }]
    );
    assert_eq!(v.blockers.len(), 1);
    // Without SO_REUSEADDR on the new socket the unknown option does not matter.
    assert_eq!(
        verdict(&s, &req("127.0.0.1:5014", 1002, "")).result,
        BindResult::Eaddrinuse
    );
}

#[test]
fn unknown_v6only_of_a_dual_listener() {
    let x = sock(1, "::", 5015, 1001, "listen v6only?");
    let s = snap(vec![x]);
    let v = verdict(&s, &req("127.0.0.1:5015", 1002, ""));
    assert_eq!(v.result, BindResult::Uncertain, "{v:#?}");
    assert!(
        v.uncertain_because.iter().any(|b| matches!(
            b,
            Unknown::SocketOption {
                option: OptionName::V6only,
                ..
            }
        )),
        "{v:#?}"
    );
    // An IPv6 bind overlaps `::` whatever V6ONLY says.
    assert_eq!(
        verdict(&s, &req("[::1]:5015", 1002, "")).result,
        BindResult::Eaddrinuse
    );
}

#[test]
fn unknown_sysctl() {
    let mut ns = host_ns();
    ns.sysctls.ip_unprivileged_port_start = None;
    ns.sysctls.bindv6only = None;
    let first = sock(1, "0.0.0.0", 81, 0, "listen");
    let s = snap_with(vec![first], ns);
    let v = verdict(&s, &req("0.0.0.0:81", 1001, ""));
    // EACCES or, past it, EADDRINUSE: never ok.
    assert_eq!(v.result, BindResult::Uncertain, "{v:#?}");
    assert_eq!(v.possible, vec![BindResult::Eacces, BindResult::Eaddrinuse]);
    let v = verdict(&s, &req("[::]:81", 0, ""));
    assert_eq!(v.result, BindResult::Uncertain, "{v:#?}");
    assert!(
        v.uncertain_because.contains(&Unknown::NewSocketV6only),
        "{v:#?}"
    );
}

#[test]
fn udp_bind_order_decides_between_a_partner_and_a_refuser() {
    // KERNEL: udp_lib_lport_inuse stops at the newest overlapping socket.
    let a = sock(1, "127.0.0.1", 5016, 1001, "udp");
    let b = sock(2, "127.0.0.2", 5016, 1001, "udp rp");
    let s = snap(vec![a.clone(), b.clone()]);
    let v = verdict(&s, &req("0.0.0.0:5016", 1001, "udp rp"));
    assert_eq!(v.result, BindResult::Uncertain, "{v:#?}");
    assert_eq!(v.possible, vec![BindResult::Eaddrinuse, BindResult::Ok]);
    assert_eq!(
        v.uncertain_because,
        vec![Unknown::UdpBindOrder {
            partners: vec![b],
            refusers: vec![a]
        }]
    );
    // Another uid has no partner: definite.
    assert_eq!(
        verdict(&s, &req("0.0.0.0:5016", 1002, "udp rp")).result,
        BindResult::Eaddrinuse
    );
}

#[test]
fn tcp_reuseport_fast_path_makes_device_and_ra_blockers_uncertain() {
    // KERNEL: measured, a SO_REUSEPORT bind passes a listener without SO_REUSEPORT on its
    // own device once another RP socket of that uid bound on another device.
    let b = sock(1, "0.0.0.0", 5017, 1001, "listen dev=lo");
    let s = snap(vec![b]);
    let v = verdict(&s, &req("0.0.0.0:5017", 1002, "rp dev=lo"));
    assert_eq!(v.result, BindResult::Uncertain, "{v:#?}");
    // A listener without a device cannot have been passed: definite.
    let c = sock(1, "0.0.0.0", 5018, 1001, "listen");
    let s = snap(vec![c]);
    assert_eq!(
        verdict(&s, &req("0.0.0.0:5018", 1002, "rp")).result,
        BindResult::Eaddrinuse
    );
}

#[test]
fn tcp_fast_path_through_a_v6only_or_v4_wildcard_for_a_dual_stack_bind() {
    // KERNEL (found by the differential test): sk_reuseport_match counts a V6ONLY `::`
    // (and 0.0.0.0) as covering a dual-stack `::`, though they miss IPv4 (IPv6) binds
    // that the dual-stack one overlaps.
    let v4 = sock(1, "10.9.9.1", 5025, 1001, "listen");
    let s = snap(vec![v4]);
    let v = verdict(&s, &req("[::]:5025", 1002, "rp dual"));
    assert_eq!(v.result, BindResult::Uncertain, "{v:#?}");
    // The earlier socket would be a V6ONLY `::`, which misses the IPv4 blocker.
    assert!(
        matches!(
            &v.uncertain_because[0],
            Unknown::TcpFastPath { uid: 1002, covering }
                if covering.addr.is_unspecified() && covering.v6only == Some(true)
        ),
        "{v:#?}"
    );
    assert_eq!(
        verdict(&s, &req("[::]:5025", 1002, "rp v6only")).result,
        BindResult::Ok
    );
    let v6 = sock(1, "::1", 5026, 1001, "listen");
    let s = snap(vec![v6]);
    let v = verdict(&s, &req("[::]:5026", 1002, "rp dual"));
    assert_eq!(v.result, BindResult::Uncertain, "{v:#?}");
    // A dual-stack blocker overlaps every shape that could cover the new bind.
    let dual = sock(1, "::", 5027, 1001, "listen dual");
    let s = snap(vec![dual]);
    assert_eq!(
        verdict(&s, &req("[::]:5027", 1002, "rp dual")).result,
        BindResult::Eaddrinuse
    );
}

#[test]
fn accepted_child_of_another_uid_may_sit_behind_the_fast_path() {
    // The child of a uid-1001 SO_REUSEPORT listener, accepted by root: sk_uid 0.
    let l = sock(1, "10.9.9.1", 5028, 1001, "listen rp");
    let mut child = sock(2, "10.9.9.1", 5028, 0, "rp");
    child.state = State::Established;
    let s = snap(vec![l, child]);
    let v = verdict(&s, &req("10.9.9.1:5028", 1001, "rp"));
    assert_eq!(v.result, BindResult::Uncertain, "{v:#?}");
    assert_eq!(v.blockers, vec![SocketId(format!("{}-2", NS.0))]);
    // Without SO_REUSEPORT on the new socket there is no fast path.
    assert_eq!(
        verdict(&s, &req("10.9.9.1:5028", 1001, "")).result,
        BindResult::Eaddrinuse
    );
}

#[test]
fn listening_view_cannot_promise_ok() {
    let mut s = snap(vec![]);
    s.view = View::Listening;
    let v = verdict(&s, &req("0.0.0.0:5019", 1001, ""));
    assert_eq!(v.result, BindResult::Uncertain, "{v:#?}");
    assert_eq!(v.uncertain_because, vec![Unknown::ListeningView]);
    // A blocker it did collect still decides.
    let mut s = snap(vec![sock(1, "0.0.0.0", 5019, 1001, "listen")]);
    s.view = View::Listening;
    assert_eq!(
        verdict(&s, &req("0.0.0.0:5019", 1001, "")).result,
        BindResult::Eaddrinuse
    );
}

#[test]
fn unentered_or_missing_namespace_is_uncertain() {
    let mut ns = host_ns();
    ns.error = Some("permission denied".into());
    let s = snap_with(vec![], ns);
    assert_eq!(
        verdict(&s, &req("0.0.0.0:5020", 0, "")).result,
        BindResult::Uncertain
    );
    let s = snap(vec![]);
    assert_eq!(
        can_bind(&s, NetnsId(1), &req("0.0.0.0:5020", 0, "")).result,
        BindResult::Uncertain
    );
}

// -----------------------------------------------------------------------------------
// Names

#[test]
fn result_names_are_the_serde_names() {
    for (r, name) in [
        (BindResult::Ok, "ok"),
        (BindResult::Eaddrinuse, "EADDRINUSE"),
        (BindResult::Eaddrnotavail, "EADDRNOTAVAIL"),
        (BindResult::Eacces, "EACCES"),
        (BindResult::Einval, "EINVAL"),
        (BindResult::Eperm, "EPERM"),
        (BindResult::Enodev, "ENODEV"),
        (BindResult::Uncertain, "uncertain"),
    ] {
        assert_eq!(serde_json::to_value(r).expect("json"), name);
        assert_eq!(r.name(), name);
    }
    for (p, name) in [
        (Phase::Setsockopt, "setsockopt"),
        (Phase::Bind, "bind"),
        (Phase::Listen, "listen"),
    ] {
        assert_eq!(serde_json::to_value(p).expect("json"), name);
        assert_eq!(p.call(), format!("{name}()"));
    }
}
