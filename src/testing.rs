//! Builders for tests of the pure layers: small snapshots made in code.

use crate::model::*;
use std::collections::BTreeMap;
use std::sync::Arc;

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
        view: View::Listening,
        scan: ScanStats::default(),
    }
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
