//! Real-kernel tests of processes and sockets that misbehave while bindscope looks: a
//! process whose main thread has exited. Each test makes its own network namespace and
//! needs root (see `common::privileged`).

mod common;

use bindscope::collect::linux::collector::{CollectConfig, Collector, NetnsSelect};
use bindscope::collect::linux::procfs::{self, ProcRoot};
use common::*;
use serde_json::Value;
use std::collections::HashMap;
use std::time::{Duration, Instant};

/// `/proc/PID/stat`'s state letter, or `None` once the process is gone.
fn state_of(pid: u32) -> Option<u8> {
    let stat = std::fs::read(format!("/proc/{pid}/stat")).ok()?;
    procfs::parse_stat_state(&stat)
}

/// The snapshot socket with this inode, with its holders as (pid, fd).
fn holders_of(snap: &Value, inode: u64) -> Vec<(u64, u64)> {
    by_inode(snap, inode)["holders"]
        .as_array()
        .expect("holders")
        .iter()
        .map(|h| {
            (
                h["pid"].as_u64().expect("pid"),
                h["fd"].as_u64().expect("fd"),
            )
        })
        .collect()
}

/// A process whose main thread called pthread_exit has an empty `/proc/PID/fd`; its
/// sockets are found through a live thread and shown with the process as holder, options
/// and O_NONBLOCK read through that thread, and no `holder_unknown` finding. The walk that a
/// refresh reuses compares the thread's fd count and notices a new socket.
#[test]
fn zombie_leader_sockets_have_their_process_as_holder() {
    let Some(ns) = privileged("zombie_leader_sockets_have_their_process_as_holder") else {
        return;
    };
    let mut helper = Helper::start(&ns, "zombie_leader.py", &[]);
    let made = helper.next_json(Duration::from_secs(30));
    let pid = made["pid"].as_u64().expect("pid") as u32;
    assert_eq!(
        pid,
        helper.pid(),
        "ip netns exec runs python as its own pid"
    );
    let tid = made["worker_tid"].as_u64().expect("worker_tid") as u32;
    let inode = made["inode"].as_u64().expect("inode");
    let fd = made["fd"].as_u64().expect("fd");
    // The situation under test, checked on the real kernel before bindscope looks.
    assert!(
        wait_for(Duration::from_secs(10), || state_of(pid) == Some(b'Z')),
        "the main thread of {pid} did not exit: state {:?}",
        state_of(pid).map(char::from)
    );
    let listed = std::fs::read_dir(format!("/proc/{pid}/fd"))
        .map(|d| d.count())
        .unwrap_or(0);
    assert_eq!(listed, 0, "a zombie leader lists no fds");

    let started = Instant::now();
    let snap = snapshot(&ns, false);
    eprintln!("snapshot took {:?}", started.elapsed());
    let s = by_inode(&snap, inode);
    assert_eq!(
        holders_of(&snap, inode),
        vec![(u64::from(pid), fd)],
        "the holder is the process (tgid), not the thread: {}",
        brief(s)
    );
    let holder = &s["holders"][0];
    assert_eq!(holder["name"], "python3", "{holder}");
    assert!(
        holder["cmdline"].as_array().is_some_and(|c| c
            .iter()
            .any(|a| a.as_str().is_some_and(|a| a.ends_with("zombie_leader.py")))),
        "the cmdline comes from the live thread: {holder}"
    );
    assert_eq!(holder["netns"].as_u64(), Some(ns.id()), "{holder}");
    // Read through the thread's pidfd (PIDFD_THREAD) and fdinfo.
    assert_eq!(s["options"]["reuseaddr"], true, "{}", s["options"]);
    assert_eq!(s["options"]["nonblocking"], false, "{}", s["options"]);
    let id = s["id"].as_str().expect("id");
    let unknown: Vec<&Value> = snap["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .filter(|f| f["kind"] == "holder_unknown")
        .filter(|f| {
            f["sockets"]
                .as_array()
                .is_some_and(|a| a.iter().any(|x| x == id))
        })
        .collect();
    assert!(unknown.is_empty(), "{unknown:?}");

    // The incremental walk: a process's table is reused when its count is unchanged, and
    // the count compared is the thread's (the zombie leader's is always 0).
    let root = ProcRoot::default();
    let mut first = HashMap::new();
    let scan = procfs::scan_socket_fds_reusing(&root, &HashMap::new(), &mut first);
    let entry = first.get(&pid).expect("the process was walked").clone();
    assert_eq!(entry.tid, Some(tid), "read through the worker thread");
    assert!(entry.sockets.contains(&(fd as u32, inode)), "{entry:?}");
    assert!(scan.fds.iter().any(|f| f.pid == pid && f.inode == inode));
    let only_this = HashMap::from([(pid, entry.clone())]);
    let mut again = HashMap::new();
    let scan = procfs::scan_socket_fds_reusing(&root, &only_this, &mut again);
    assert_eq!(scan.processes_reused, 1, "the unchanged table is reused");
    assert_eq!(again.get(&pid), Some(&entry));

    // A collector that keeps its cache across refreshes finds a socket opened later.
    let cfg = CollectConfig {
        netns: NetnsSelect::Only(vec![ns.name().to_string()]),
        ..CollectConfig::default()
    };
    let mut collector = Collector::new(cfg);
    let before = collector.collect().expect("collect");
    let holders = |snap: &bindscope::model::Snapshot, inode: u64| -> Vec<(u32, u32)> {
        snap.sockets
            .iter()
            .filter(|s| s.inode == inode)
            .flat_map(|s| s.holders.iter().map(|h| (h.pid, h.fd)))
            .collect()
    };
    assert_eq!(holders(&before, inode), vec![(pid, fd as u32)]);
    helper.send("open");
    let opened = helper.next_json(Duration::from_secs(30))["opened"].clone();
    let udp_inode = opened["inode"].as_u64().expect("inode");
    let udp_fd = opened["fd"].as_u64().expect("fd") as u32;
    let mut after_open = HashMap::new();
    let scan = procfs::scan_socket_fds_reusing(&root, &only_this, &mut after_open);
    assert_eq!(
        scan.processes_reused, 0,
        "a new fd changes the thread's count"
    );
    assert!(
        scan.fds
            .iter()
            .any(|f| f.pid == pid && f.inode == udp_inode)
    );
    let after = collector.collect().expect("collect");
    assert_eq!(holders(&after, udp_inode), vec![(pid, udp_fd)]);
    assert_eq!(holders(&after, inode), vec![(pid, fd as u32)]);
}
