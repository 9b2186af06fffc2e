//! Test builders for the what-if: the namespace of bindmatrix §7, sockets and requests from
//! short word lists. Shared by the analysis tests and the words' tests in `output::whatif`.

use super::{BindRequest, Verdict, can_bind, parse_endpoint};
use crate::model::{
    AddrFlag, AddressState, Family, Holder, Interface, InterfaceAddr, Missing, Netns, NetnsId,
    NetnsKind, OptionName, Options, Proto, Reason, Scope, Snapshot, Socket, SocketId, State,
    Sysctls, TcpExtCounters, View,
};
use std::collections::BTreeMap;
use std::net::IpAddr;
use std::sync::Arc;

pub(crate) const NS: NetnsId = NetnsId(4026531840);

pub(crate) fn ifaddr(a: &str, len: u8, scope: &str, flags: &[AddrFlag]) -> InterfaceAddr {
    InterfaceAddr {
        addr: a.parse().expect("test address"),
        prefix_len: len,
        scope: scope.into(),
        flags: flags.to_vec(),
    }
}

pub(crate) fn link(
    index: u32,
    name: &str,
    up: bool,
    carrier: bool,
    addrs: Vec<InterfaceAddr>,
) -> Interface {
    Interface {
        index,
        name: name.into(),
        up,
        loopback: name == "lo",
        carrier,
        addresses: addrs,
    }
}

/// The namespace of bindmatrix §7: lo, v0 (up, 10.9.9.1/24, link-local, nodad address),
/// va (tentative fd01::1, no carrier), vo (optimistic fd02::1), vx (dadfailed fd03::1),
/// vc (never up, 10.8.8.1), vd (down, 10.7.7.1).
pub(crate) fn host_ns() -> Netns {
    use AddrFlag::*;
    Netns {
        containers: Vec::new(),
        id: NS,
        name: Some("t".into()),
        kind: NetnsKind::Named,
        processes: 1,
        pids: vec![],
        paths: vec![],
        container: None,
        unit: None,
        current: true,
        error: None,
        interfaces: vec![
            link(
                1,
                "lo",
                true,
                true,
                vec![
                    ifaddr("127.0.0.1", 8, "host", &[Permanent]),
                    ifaddr("::1", 128, "host", &[Permanent]),
                ],
            ),
            link(
                2,
                "v0",
                true,
                true,
                vec![
                    ifaddr("10.9.9.1", 24, "global", &[Permanent]),
                    ifaddr("fd00:9::1", 64, "global", &[Permanent, Nodad]),
                    ifaddr("fe80::38c2:d8ff:fe64:d9ae", 64, "link", &[Permanent]),
                ],
            ),
            link(
                3,
                "va",
                true,
                false,
                vec![ifaddr("fd01::1", 64, "global", &[Tentative, Permanent])],
            ),
            link(
                4,
                "vo",
                true,
                false,
                vec![ifaddr(
                    "fd02::1",
                    64,
                    "global",
                    &[Optimistic, Tentative, Permanent],
                )],
            ),
            link(
                5,
                "vx",
                true,
                true,
                vec![ifaddr(
                    "fd03::1",
                    64,
                    "global",
                    &[Dadfailed, Tentative, Permanent],
                )],
            ),
            link(
                6,
                "vc",
                false,
                false,
                vec![ifaddr("10.8.8.1", 24, "global", &[Permanent])],
            ),
            link(
                7,
                "vd",
                false,
                false,
                vec![ifaddr("10.7.7.1", 24, "global", &[Permanent])],
            ),
        ],
        sysctls: Sysctls {
            ipv4_ip_nonlocal_bind: Some(0),
            ipv6_ip_nonlocal_bind: Some(0),
            bindv6only: Some(0),
            ip_unprivileged_port_start: Some(1024),
            ..Sysctls::default()
        },
        counters: TcpExtCounters::default(),
    }
}

/// A socket from a word list: "tcp", "udp", "listen", "bound", "tw", "ra", "rp",
/// "v6only", "dual", "dev=NAME", "ra?" (unknown), "rp?", "v6only?".
pub(crate) fn sock(id: u64, addr: &str, port: u16, uid: u32, words: &str) -> Socket {
    let w: Vec<&str> = words.split_whitespace().collect();
    let has = |x: &str| w.contains(&x);
    let local_addr: IpAddr = addr.parse().expect("test address");
    let family = if local_addr.is_ipv4() {
        Family::Ipv4
    } else {
        Family::Ipv6
    };
    let proto = if has("udp") { Proto::Udp } else { Proto::Tcp };
    let state = if has("tw") {
        State::TimeWait
    } else if has("listen") {
        State::Listen
    } else {
        State::Close
    };
    let tri = |name: &str| {
        if has(&format!("{name}?")) {
            None
        } else {
            Some(has(name))
        }
    };
    let v6only = match family {
        Family::Ipv4 => None,
        Family::Ipv6 if has("v6only?") => None,
        Family::Ipv6 => {
            Some(has("v6only") || !(local_addr.is_unspecified() || addr.starts_with("::ffff:")))
        }
    };
    let device = w
        .iter()
        .find_map(|x| x.strip_prefix("dev="))
        .map(String::from);
    let mut reasons = BTreeMap::new();
    for (n, name) in [
        (OptionName::Reuseaddr, "ra"),
        (OptionName::Reuseport, "rp"),
        (OptionName::V6only, "v6only"),
    ] {
        if has(&format!("{name}?")) {
            reasons.insert(n, Missing::Unknown(Reason::from("not probed (test)")));
        }
    }
    Socket {
        id: SocketId(format!("{}-{id:x}", NS.0)),
        netns: NS,
        proto,
        family,
        local_addr,
        local_port: port,
        remote_addr: None,
        remote_port: None,
        state,
        uid,
        user: Some(format!("u{uid}").into()),
        inode: if state == State::TimeWait {
            0
        } else {
            100 + id
        },
        device: device.clone(),
        scope: Scope::Specific,
        address_state: AddressState::Local,
        accept_queue: None,
        syn_recv: None,
        options: Options {
            reuseaddr: tri("ra"),
            reuseport: tri("rp"),
            v6only,
            freebind: Some(false),
            transparent: Some(false),
            nonblocking: None,
            defer_accept: None,
            fastopen: None,
            bind_device: device,
            reasons,
        },
        holders: if state == State::TimeWait {
            vec![]
        } else {
            vec![Holder {
                container: None,
                pid: 4000 + id as u32,
                fd: 3,
                name: Arc::from("srv"),
                uid,
                ruid: uid,
                user: None,
                cmdline: vec!["srv".to_string()].into(),
                unit: None,
                netns: Some(NS),
                ppid: None,
                threads: None,
                exe: None,
            }]
        },
        cookie: id,
        recv_q: None,
        send_q: None,
        holders_unknown: None,
        syn_recv_shared: false,
        host: None,
        cgroup_id: None,
        dump_pos: None,
    }
}

pub(crate) fn snap_with(sockets: Vec<Socket>, ns: Netns) -> Snapshot {
    Snapshot {
        format: crate::model::FORMAT.into(),
        version: crate::model::VERSION,
        taken_at: "2026-11-22T07:00:00Z".into(),
        host: crate::model::Host {
            hostname: "h".into(),
            kernel: "6.18.44".into(),
        },
        privileges: crate::model::Privileges {
            euid: 0,
            options_readable: true,
            all_holders_visible: true,
            missing: vec![],
        },
        warnings: vec![],
        netns: vec![ns],
        sockets,
        findings: vec![],
        marks: vec![],
        dashboard: None,
        view: View::All,
        scan: crate::model::ScanStats::default(),
    }
}

pub(crate) fn snap(sockets: Vec<Socket>) -> Snapshot {
    snap_with(sockets, host_ns())
}

/// A request from "ADDR:PORT" and words: "udp", "ra", "rp", "v6only", "dual",
/// "freebind", "transparent", "listen", "dev=NAME".
pub(crate) fn req(endpoint: &str, uid: u32, words: &str) -> BindRequest {
    let (addr, scope_device, port) = parse_endpoint(endpoint).expect("test endpoint");
    let w: Vec<&str> = words.split_whitespace().collect();
    let has = |x: &str| w.contains(&x);
    BindRequest {
        history_complete: false,
        proto: if has("udp") { Proto::Udp } else { Proto::Tcp },
        addr,
        port,
        scope_device,
        reuseaddr: has("ra"),
        reuseport: has("rp"),
        v6only: if has("v6only") {
            Some(true)
        } else if has("dual") {
            Some(false)
        } else {
            None
        },
        freebind: has("freebind"),
        transparent: has("transparent"),
        device: w
            .iter()
            .find_map(|x| x.strip_prefix("dev="))
            .map(String::from),
        uid,
        listen: has("listen"),
    }
}

pub(crate) fn verdict(s: &Snapshot, r: &BindRequest) -> Verdict {
    can_bind(s, NS, r)
}
