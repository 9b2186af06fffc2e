//! Real-kernel tests of processes and sockets that misbehave while bindscope looks: a
//! process whose main thread has exited, and services that close and rebind their port
//! while `bindscope record` samples. Each test makes its own network namespace and needs
//! root (see `common::privileged`).

// A test may unwrap, expect and panic: that is the test failing (Cargo.toml denies them
// in the program).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

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

/// One side of the close-and-rebind run: tests/helpers/rebind.py churning `workers` ports.
struct Churn {
    helper: Helper,
    ports: Vec<u64>,
    steady_port: u64,
    proto: &'static str,
}

impl Churn {
    fn start(ns: &Netns, proto: &'static str, hold_ms: u32, workers: u32) -> Churn {
        // The helper runs until its stdin closes (the 600 s are a backstop).
        let hold = hold_ms.to_string();
        let n = workers.to_string();
        let mut helper = Helper::start(ns, "rebind.py", &[proto, "600", &hold, &n]);
        let ready = helper.next_json(Duration::from_secs(60));
        let ports = ready["workers"]
            .as_array()
            .expect("workers")
            .iter()
            .map(|w| w["port"].as_u64().expect("port"))
            .collect();
        let steady_port = ready["steady"]["port"].as_u64().expect("steady port");
        Churn {
            helper,
            ports,
            steady_port,
            proto,
        }
    }

    /// Stops the churn and returns its totals.
    fn finish(&mut self) -> Value {
        self.helper.close_stdin();
        self.helper.next_json(Duration::from_secs(30))
    }
}

/// Services that close their socket and bind the port again at once, holding each socket
/// for at most 20 ms, while `bindscope record --interval 1s` samples their namespace:
/// no socket younger than an interval is ever duplicated (its options wait for the next
/// sample, which it does not live to see), so no rebind meets EADDRINUSE; a steady socket's
/// options are still read. The interval leaves a worker most of a second of descheduling on
/// a loaded machine before its 20 ms socket could rightly be seen twice. Before
/// ProbeWhen::SeenTwice the recorder duplicated the churning sockets every sample (their
/// options were read, or found to be another socket's after the duplicate was taken) and
/// rebinds failed now and then.
#[test]
fn recording_never_duplicates_a_socket_younger_than_one_interval() {
    let Some(ns) = privileged("recording_never_duplicates_a_socket_younger_than_one_interval")
    else {
        return;
    };
    const HOLD_MS: u32 = 20;
    let mut churns = [
        Churn::start(&ns, "tcp", HOLD_MS, 12),
        Churn::start(&ns, "udp", HOLD_MS, 12),
    ];
    let dir = tempfile::tempdir().expect("temp dir");
    let file = dir.path().join("rec.jsonl");
    let file_arg = file.to_str().expect("utf-8 path");
    let started = Instant::now();
    let run = bindscope(
        &ns,
        &[
            "record",
            "--netns",
            "current",
            "--interval",
            "1s",
            "--duration",
            "12s",
            "-o",
            file_arg,
        ],
        RunAs::Root,
    );
    let recorded = started.elapsed();
    let totals: Vec<Value> = churns.iter_mut().map(Churn::finish).collect();
    let run = run.expect_ok("bindscope record");
    let text = std::fs::read_to_string(&file).expect("read the recording");
    let samples: Vec<Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).expect("a sample is JSON"))
        .collect();
    eprintln!(
        "recorded {} samples in {recorded:?}; churn: {totals:?}; stderr: {}",
        samples.len(),
        run.stderr.trim()
    );
    assert!(samples.len() >= 8, "{} samples", samples.len());

    let mut churn_seen = 0;
    // Churning sockets whose options were not left for the next sample, and of those the
    // ones a duplicate was taken of (read, or found to be another socket's once taken).
    let mut not_deferred: Vec<String> = Vec::new();
    let mut duplicated = 0;
    for (i, snap) in samples.iter().enumerate() {
        for c in &churns {
            for s in sockets(snap).iter().filter(|s| s["proto"] == c.proto) {
                let port = s["local_port"].as_u64().expect("port");
                let reason = &s["options"]["reasons"]["reuseaddr"];
                if c.ports.contains(&port) {
                    churn_seen += 1;
                    if reason != "new socket: read at the next sample" {
                        let text = reason.as_str().unwrap_or("");
                        if reason.is_null() || text.starts_with("the holder") {
                            duplicated += 1;
                        }
                        not_deferred.push(format!("sample {i}: {} ({reason})", brief(s)));
                    }
                } else if port == c.steady_port && i >= 2 {
                    // Seen by the sample before: read, with what the helper set.
                    let expected = c.proto == "tcp";
                    assert_eq!(
                        s["options"]["reuseaddr"], expected,
                        "sample {i}: the steady {} socket's options: {}",
                        c.proto, s["options"]
                    );
                }
            }
        }
    }
    assert!(
        not_deferred.is_empty(),
        "{} sockets younger than an interval were not left for the next sample, {duplicated} \
         of them duplicated; the first:\n  {}",
        not_deferred.len(),
        not_deferred
            .iter()
            .take(5)
            .cloned()
            .collect::<Vec<_>>()
            .join("\n  ")
    );
    // The churning sockets were there to be duplicated: most samples caught some.
    assert!(
        churn_seen >= samples.len(),
        "only {churn_seen} churning sockets in {} samples",
        samples.len()
    );
    for (c, t) in churns.iter().zip(&totals) {
        let cycles = t["cycles"].as_u64().expect("cycles");
        assert!(cycles >= 1000, "{}: only {cycles} cycles", c.proto);
        assert_eq!(
            t["eaddrinuse"], 0,
            "{}: rebinds failed with EADDRINUSE while bindscope recorded: {t}",
            c.proto
        );
    }
}
