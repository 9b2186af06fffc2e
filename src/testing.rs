//! Builders for tests of the pure layers: small snapshots made in code.

use crate::model::*;
use std::collections::BTreeMap;
use std::sync::Arc;

/// [`socket`] as a receiving bind of `proto` on `addr:port`: a TCP listener or an unconnected
/// UDP socket, with its family from the address.
pub fn receiving(id: &str, proto: Proto, addr: std::net::IpAddr, port: u16) -> Socket {
    let mut s = socket();
    s.id = SocketId(id.into());
    s.proto = proto;
    s.local_addr = addr;
    s.family = if s.local_addr.is_ipv4() {
        Family::Ipv4
    } else {
        Family::Ipv6
    };
    s.local_port = port;
    s.remote_addr = None;
    s.remote_port = None;
    s.state = if proto == Proto::Tcp {
        State::Listen
    } else {
        State::Close
    };
    s
}

/// A listener with every field set: `[::]%lo:8080`, uid 1001 alice, one holder whose name
/// carries an escape sequence.
pub fn socket() -> Socket {
    Socket {
        id: SocketId("1-2a".into()),
        netns: NetnsId(1),
        proto: Proto::Tcp,
        family: Family::Ipv6,
        local_addr: "::".parse().expect("addr"),
        local_port: 8080,
        remote_addr: None,
        remote_port: None,
        state: State::Listen,
        uid: 1001,
        user: Some("alice".into()),
        inode: 7,
        device: Some("lo".into()),
        scope: Scope::Wildcard,
        address_state: AddressState::Any,
        accept_queue: Some(AcceptQueue {
            len: 3,
            backlog: 128,
        }),
        syn_recv: Some(2),
        options: Options {
            reuseaddr: Some(true),
            reuseport: None,
            v6only: Some(true),
            freebind: Some(false),
            transparent: Some(false),
            nonblocking: Some(true),
            defer_accept: Some(7),
            fastopen: Some(0),
            bind_device: Some("lo".into()),
            reasons: BTreeMap::from([(
                OptionName::Reuseport,
                Missing::Unknown(Reason::from("needs root")),
            )]),
        },
        holders: vec![Holder {
            container: None,
            pid: 42,
            fd: 5,
            name: "web\x1b[31m".into(),
            uid: 33,
            ruid: 33,
            user: Some(Arc::from("www-data")),
            cmdline: vec!["web".to_string()].into(),
            unit: None,
            netns: Some(NetnsId(1)),
            ppid: None,
            threads: None,
            exe: None,
        }],
        cookie: 0x2a,
        recv_q: None,
        send_q: None,
        holders_unknown: None,
        syn_recv_shared: false,
        host: None,
        cgroup_id: None,
        dump_pos: None,
    }
}

/// A named container of `runtime` with a 64-hex id made from the name (its bytes in hex,
/// zero-padded), no image and no pod.
pub fn container(runtime: Runtime, name: &str) -> Container {
    let mut id: String = name.bytes().map(|b| format!("{b:02x}")).collect();
    id.truncate(64);
    while id.len() < 64 {
        id.push('0');
    }
    Container {
        runtime,
        id,
        name: Some(name.to_string()),
        image: None,
        pod: None,
    }
}

/// A namespace entry; `error` set means not entered.
pub fn netns(id: u64, name: Option<&str>, error: Option<&str>) -> Netns {
    Netns {
        containers: Vec::new(),
        id: NetnsId(id),
        name: name.map(String::from),
        kind: NetnsKind::Named,
        processes: 1,
        pids: vec![],
        paths: vec![],
        container: None,
        unit: None,
        current: false,
        error: error.map(String::from),
        interfaces: vec![],
        sysctls: Sysctls::default(),
        counters: TcpExtCounters::default(),
    }
}

/// A snapshot of these sockets and namespaces, everything else empty.
pub fn snapshot_of(sockets: Vec<Socket>, netns: Vec<Netns>) -> Snapshot {
    Snapshot {
        format: FORMAT.into(),
        version: VERSION,
        taken_at: "2026-11-22T07:00:00Z".into(),
        host: Host {
            hostname: "h".into(),
            kernel: "6.18".into(),
        },
        privileges: Privileges {
            euid: 0,
            options_readable: true,
            all_holders_visible: true,
            missing: vec![],
        },
        warnings: vec![],
        netns,
        sockets,
        findings: vec![],
        marks: vec![],
        dashboard: None,
        view: View::Listening,
        scan: ScanStats::default(),
    }
}

/// A Docker host as issue 13 measured one: `hostc` runs with `--network host` (port 18080
/// in the host namespace, beside a plain sshd on 22); `web` made namespace 2 (8080) and
/// `side` joined it (`--network container:web`, 9090), where one more socket has no
/// visible holder; namespace 3 is nobody's: socat of uid 1001 listens on 7000 there.
/// Images and a pod are set on some, so every field has a place to show.
pub fn container_host() -> Snapshot {
    let mut web = container(Runtime::Docker, "web");
    web.image = Some("nginx:1.25".into());
    let mut side = container(Runtime::Docker, "side");
    side.image = Some("bs:1".into());
    side.pod = Some(Pod {
        namespace: Some("default".into()),
        name: "api".into(),
    });
    let mut hostc = container(Runtime::Podman, "hostc");
    hostc.name = None;
    let listener =
        |id: &str, ns: u64, port: u16, holder: Option<(&str, u32, Option<&Container>)>| {
            let mut s = socket();
            s.id = SocketId(id.into());
            s.netns = NetnsId(ns);
            s.local_port = port;
            s.device = None;
            s.options.bind_device = None;
            match holder {
                Some((name, uid, c)) => {
                    // The socket's creator is its holder: no cross-user findings in the way.
                    s.uid = uid;
                    s.user = Some(if uid == 0 { "root" } else { "alice" }.into());
                    let h = &mut s.holders[0];
                    h.name = name.into();
                    h.cmdline = vec![name.to_string()].into();
                    h.uid = uid;
                    h.ruid = uid;
                    h.user = s.user.clone();
                    h.pid = u32::from(port);
                    h.netns = Some(NetnsId(ns));
                    h.container = c.map(|c| Arc::new(c.clone()));
                }
                None => {
                    s.holders.clear();
                    s.holders_unknown = Some("needs root".into());
                }
            }
            s
        };
    let sockets = vec![
        listener("1-16", 1, 22, Some(("sshd", 0, None))),
        listener("1-4694", 1, 18080, Some(("httpd", 0, Some(&hostc)))),
        listener("2-1f90", 2, 8080, Some(("httpd", 0, Some(&web)))),
        listener("2-2382", 2, 9090, Some(("httpd", 0, Some(&side)))),
        listener("2-1f91", 2, 8081, None),
        listener("3-1b58", 3, 7000, Some(("socat", 1001, None))),
    ];
    let mut host = netns(1, Some("host"), None);
    host.kind = NetnsKind::Host;
    host.current = true;
    let mut shared = netns(2, Some("web"), None);
    shared.kind = NetnsKind::Container;
    shared.container = Some(web.clone());
    shared.containers = vec![web, side];
    let mut nobody = netns(3, None, None);
    nobody.kind = NetnsKind::Process;
    snapshot_of(sockets, vec![host, shared, nobody])
}

/// A loaded file of `frames`: a recording when there are several.
pub fn loaded(path: &str, frames: Vec<Snapshot>) -> crate::export::load::Loaded {
    use crate::export::load::{FileKind, Loaded};
    Loaded {
        path: path.into(),
        kind: if frames.len() > 1 {
            FileKind::Recording
        } else {
            FileKind::Snapshot
        },
        frames,
        warnings: Vec::new(),
    }
}

/// The property tests' config: `cases` runs, and no file of past failures written into the
/// source tree (a failure prints its case; replay it as a unit test).
pub fn props(cases: u32) -> proptest::test_runner::Config {
    proptest::test_runner::Config {
        cases,
        failure_persistence: None,
        ..proptest::test_runner::Config::default()
    }
}

/// A FIFO at `path`, for tests of what must never block on one.
pub fn mkfifo(path: &std::path::Path) {
    rustix::fs::mknodat(
        rustix::fs::CWD,
        path,
        rustix::fs::FileType::Fifo,
        rustix::fs::Mode::from_raw_mode(0o600),
        0,
    )
    .expect("mkfifo");
}

/// Whether a test that needs something of the machine (`why_not` is `None` when it has it)
/// can run. When it cannot, it says so; under `BINDSCOPE_REQUIRE_PRIVILEGED=1` (CI) that is
/// a failure, never a silent pass.
pub fn can_run(test: &str, why_not: Option<&str>) -> bool {
    let Some(why) = why_not else {
        return true;
    };
    if std::env::var("BINDSCOPE_REQUIRE_PRIVILEGED").as_deref() == Ok("1") {
        panic!("{test}: {why}, and BINDSCOPE_REQUIRE_PRIVILEGED=1");
    }
    eprintln!("SKIPPED {test}: {why} (set BINDSCOPE_REQUIRE_PRIVILEGED=1 to make this a failure)");
    false
}

/// [`can_run`] for a test that needs root.
pub fn as_root(test: &str) -> bool {
    let root = rustix::process::geteuid().is_root();
    can_run(test, (!root).then_some("needs root"))
}
