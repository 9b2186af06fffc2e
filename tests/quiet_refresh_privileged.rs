//! The live views' quiet refresh against the real kernel: in a namespace of its own, a
//! session refreshes while clients queue on a listener, datagrams wait on a UDP socket, a
//! listener opens and a socket closes. Each refresh must be quiet exactly when only numbers
//! moved, and the snapshot the quiet changes keep up to date must equal what a collection
//! from nothing sees at that moment.
//!
//! Needs root and `ip netns` (see tests/common); `cargo test --test quiet_refresh_privileged`.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use bindscope::analyze::history::History;
use bindscope::collect::linux::collector::{
    CollectConfig, Collector, NetnsSelect, ProbeWhen, collect,
};
use bindscope::model::Snapshot;
use bindscope::session::{Change, Session};
use common::*;
use serde_json::{Value, json};
use std::io::{BufRead, BufReader};
use std::process::{Child, Stdio};
use std::time::Duration;

fn config(ns: &Netns, probe_when: ProbeWhen) -> CollectConfig {
    CollectConfig {
        netns: NetnsSelect::Only(vec![ns.name().to_string()]),
        probe_when,
        ..CollectConfig::default()
    }
}

/// The snapshot without what differs between any two collections of the same state: the
/// time, the scan's figures and races, the findings (not judged here), and the processes
/// living in the namespace (a client process comes and goes; discovery is cached).
fn comparable(snap: &Snapshot) -> Value {
    let mut v = serde_json::to_value(snap).expect("json");
    for k in ["taken_at", "scan", "warnings", "findings"] {
        v.as_object_mut().expect("object").remove(k);
    }
    for ns in v["netns"].as_array_mut().expect("netns") {
        let ns = ns.as_object_mut().expect("netns object");
        ns.remove("pids");
        ns.remove("processes");
    }
    v
}

/// A refresh, and what it was.
fn refresh(s: &mut Session) -> (Value, &'static str, Vec<usize>) {
    let r = s.refresh().expect("refresh");
    let (kind, moved) = match &r.change {
        Change::Whole => ("whole", Vec::new()),
        Change::Quiet(c) => ("quiet", c.sockets.iter().map(|(i, _)| *i).collect()),
    };
    (comparable(r.snap), kind, moved)
}

/// What a collection from nothing sees now.
fn fresh(ns: &Netns) -> Value {
    comparable(&collect(&config(ns, ProbeWhen::FirstSeen)).expect("collect"))
}

fn index_of(v: &Value, port: u16, proto: &str) -> usize {
    v["sockets"]
        .as_array()
        .expect("sockets")
        .iter()
        .position(|s| s["local_port"] == port && s["proto"] == proto)
        .unwrap_or_else(|| panic!("no {proto} socket on port {port}"))
}

/// Two clients connected to `port` and never accepted, held until dropped.
struct Clients(Child);

impl Clients {
    fn start(ns: &Netns, port: u16) -> Clients {
        let code = format!(
            "import socket,sys,time\n\
             c=[socket.create_connection(('127.0.0.1',{port})) for _ in range(2)]\n\
             print('ok',flush=True)\n\
             sys.stdin.read()"
        );
        let mut child = ns
            .cmd(&[&python(), "-c", &code])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .expect("clients");
        let mut line = String::new();
        BufReader::new(child.stdout.take().expect("stdout"))
            .read_line(&mut line)
            .expect("read");
        assert_eq!(line.trim(), "ok");
        Clients(child)
    }
}

impl Drop for Clients {
    fn drop(&mut self) {
        let stdin = self.0.stdin.take();
        stop_child(&mut self.0, stdin);
    }
}

#[test]
fn quiet_refreshes_keep_the_snapshot_equal_to_a_fresh_one() {
    let Some(ns) = privileged("quiet_refreshes_keep_the_snapshot_equal_to_a_fresh_one") else {
        return;
    };
    let made = Sockmaker::start(
        &ns,
        &json!({"sockets": [
            {"name": "web", "proto": "tcp", "family": 4, "addr": "127.0.0.1", "port": 0,
             "options": {}, "listen": 8, "uid": 0},
            {"name": "dns", "proto": "udp", "family": 4, "addr": "127.0.0.1", "port": 0,
             "options": {}, "uid": 1001},
            {"name": "bound", "proto": "tcp", "family": 6, "addr": "::", "port": 0,
             "options": {"reuseaddr": true}, "uid": 1002},
            {"name": "gone", "proto": "udp", "family": 6, "addr": "::1", "port": 0,
             "options": {}, "uid": 0}
        ]}),
    );
    let mut made = made;
    let web = made.port("web");
    let dns = made.port("dns");
    let mut s = Session::new(
        Collector::new(config(&ns, ProbeWhen::SeenTwice)),
        History::default(),
    );

    // The first refresh is whole; so is the second, which reads the options of the
    // sockets the first saw; then nothing changes.
    assert_eq!(refresh(&mut s).1, "whole");
    assert_eq!(refresh(&mut s).1, "whole");
    let (snap, kind, moved) = refresh(&mut s);
    assert_eq!((kind, moved.len()), ("quiet", 0));
    assert_eq!(snap, fresh(&ns));

    // Clients queue on the listener: only its accept queue moves.
    let clients = Clients::start(&ns, web);
    let (snap, kind, moved) = refresh(&mut s);
    assert_eq!(kind, "quiet", "a client process holds no socket shown");
    assert_eq!(moved, vec![index_of(&snap, web, "tcp")]);
    assert_eq!(snap["sockets"][moved[0]]["accept_queue"]["len"], 2);
    assert_eq!(snap, fresh(&ns));

    // A file opened here changes this process's fd count, not what is shown; a process
    // that comes with sockets of its own and goes (a client, a cron job) neither.
    let file = std::fs::File::open("/proc/self/status").expect("open");
    assert_eq!(refresh(&mut s).1, "quiet");
    drop(file);
    let mut passer = std::process::Command::new(python())
        .args([
            "-c",
            "import socket,sys\nu=socket.socket(socket.AF_UNIX)\nt=socket.socket()\nprint('ok',flush=True)\nsys.stdin.readline()",
        ])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("python");
    let mut line = String::new();
    BufReader::new(passer.stdout.take().expect("stdout"))
        .read_line(&mut line)
        .expect("read");
    assert_eq!(
        refresh(&mut s).1,
        "quiet",
        "a new process holding other sockets"
    );
    let stdin = passer.stdin.take();
    stop_child(&mut passer, stdin);
    assert_eq!(
        refresh(&mut s).1,
        "quiet",
        "a process gone that held nothing shown"
    );

    // Datagrams wait on the UDP socket: its receive queue is read by the whole read that
    // comes every 10 s, with the same numbers as a fresh collection.
    ns.python(&format!(
        "import socket\ns=socket.socket(socket.AF_INET,socket.SOCK_DGRAM)\n\
         s.sendto(b'x'*100,('127.0.0.1',{dns}))"
    ))
    .expect_ok("send a datagram");
    std::thread::sleep(Duration::from_millis(10_200));
    let (snap, kind, moved) = refresh(&mut s);
    assert_eq!(kind, "quiet");
    let at = index_of(&snap, dns, "udp");
    assert!(moved.contains(&at), "{moved:?}");
    assert!(snap["sockets"][at]["recv_q"].as_u64() > Some(0));
    assert_eq!(snap, fresh(&ns));

    // A new listener is a whole refresh (a new process holds it), and so is a socket
    // closed (its holder's fd count falls).
    let late = Sockmaker::start(
        &ns,
        &json!({"sockets": [{"name": "late", "proto": "tcp", "family": 4,
            "addr": "127.0.0.2", "port": 0, "options": {}, "listen": 4, "uid": 0}]}),
    );
    let (snap, kind, _) = refresh(&mut s);
    assert_eq!(kind, "whole");
    index_of(&snap, late.port("late"), "tcp");
    assert_eq!(refresh(&mut s).1, "whole", "the new socket's options");
    assert_eq!(refresh(&mut s).1, "quiet");
    let gone = made.port("gone");
    made.close("gone");
    let (snap, kind, _) = refresh(&mut s);
    assert_eq!(kind, "whole");
    assert!(
        !snap["sockets"]
            .as_array()
            .expect("sockets")
            .iter()
            .any(|x| x["local_port"] == gone && x["proto"] == "udp")
    );
    assert_eq!(snap, fresh(&ns));
    drop(clients);
    drop(late);
}

/// While requests wait in a SYN queue, every refresh reads the namespace whole: the counts
/// follow the kernel's at once, not at the next periodic whole read.
#[test]
fn waiting_requests_are_followed_every_refresh() {
    let Some(ns) = privileged("waiting_requests_are_followed_every_refresh") else {
        return;
    };
    // TCP_DEFER_ACCEPT keeps idle clients' requests in SYN_RECV for about 7 s, then moves
    // them to the accept queue.
    let made = Sockmaker::start(
        &ns,
        &json!({"sockets": [
            {"name": "deferred", "proto": "tcp", "family": 4, "addr": "0.0.0.0", "port": 0,
             "options": {"defer_accept": 5}, "listen": 16, "uid": 0,
             "clients": 3, "clients_send": false}
        ]}),
    );
    let port = made.port("deferred");
    let mut s = Session::new(
        Collector::new(config(&ns, ProbeWhen::SeenTwice)),
        History::default(),
    );
    refresh(&mut s);
    refresh(&mut s);
    let (snap, kind, _) = refresh(&mut s);
    assert_eq!(kind, "quiet");
    let at = index_of(&snap, port, "tcp");
    if ss_syn_recv(&ns, port) != 3 {
        eprintln!("the requests left the SYN queue before the refreshes: a slow machine");
    }
    assert!(wait_for(Duration::from_secs(20), || ss_syn_recv(&ns, port) == 0));
    let (snap, kind, _) = refresh(&mut s);
    assert_eq!(kind, "quiet");
    assert_eq!(snap["sockets"][at]["syn_recv"], 0);
    assert_eq!(snap["sockets"][at]["accept_queue"]["len"], 3);
    assert_eq!(snap, fresh(&ns));
}
