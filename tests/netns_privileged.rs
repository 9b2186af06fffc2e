//! Real-kernel tests of `bindscope snapshot` across several network namespaces at once.
//!
//! One test builds five namespaces next to the one the test runs in (the "root" namespace):
//! - A: `ip netns add`, a listener, a UDP socket, a freebind listener on D's address;
//! - B: made by a process that unshare(CLONE_NEWNET)'d, opened sockets, forked a grandchild
//!   that keeps them and exited: only the orphaned grandchild holds it, nothing names it;
//! - C: a listener on the same 127.0.0.1 port as a listener of the test process in the root
//!   namespace;
//! - D: a dummy interface (or a veth pair, both ends in D) with an IPv4 and an IPv6
//!   address of its own, listeners on them;
//! - E: a listener with backlog 1 whose accept queue overflowed (ListenOverflows > 0).
//!
//! bindscope runs once, as root, in the test's own namespace, with no `--netns` (every
//! namespace), and must attribute every socket to its namespace, name each namespace, and
//! report interfaces, sysctls and counters per namespace; `ss` run inside each namespace is
//! the second opinion. Then `--netns` selects by name, by id, and fails on an unknown name.
//! As nobody, a namespace it cannot enter is listed with the reason, not dropped.
//!
//! They need root, `ip netns` and `nsenter`; without them they print why and pass as skipped,
//! unless `BINDSCOPE_REQUIRE_PRIVILEGED=1`. All traffic stays on loopback interfaces (and a
//! dummy or veth one) inside the test's namespaces. Run: `cargo test --test netns_privileged`.

// A test may unwrap, expect and panic: that is the test failing (Cargo.toml denies them
// in the program).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::*;
use serde_json::{Value, json};
use std::collections::{BTreeMap, BTreeSet};
use std::io::{BufRead, BufReader};
use std::os::fd::AsRawFd;
use std::os::unix::fs::MetadataExt;
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// `NET_NS_INIT_INO` (`include/uapi/linux/nsfs.h`, Linux 6.18+): the inode of `init_net`.
const NET_NS_INIT_INO: u64 = 0xEFFF_FFF9;

const D_IPV4: &str = "10.77.0.1";
const D_IPV6: &str = "fd77::1";
/// The somaxconn set in A only: sysctls are per namespace.
const A_SOMAXCONN: u64 = 1234;

// ---------------------------------------------------------------------------------------
// Places to run things: a named namespace, or one reachable only through a process

/// How to run a command inside one of the test's namespaces.
struct Place {
    label: String,
    id: u64,
    /// `ip netns exec NAME` or `nsenter --net=/proc/PID/ns/net`.
    prefix: Vec<String>,
}

impl Place {
    fn named(label: &str, ns: &Netns) -> Place {
        Place {
            label: format!("{label} ({})", ns.name()),
            id: ns.id(),
            prefix: vec!["ip".into(), "netns".into(), "exec".into(), ns.name().into()],
        }
    }

    fn of_pid(label: &str, pid: u32, id: u64) -> Place {
        Place {
            label: format!("{label} (pid {pid})"),
            id,
            prefix: vec!["nsenter".into(), format!("--net=/proc/{pid}/ns/net")],
        }
    }

    fn sh(&self, argv: &[&str]) -> String {
        let mut cmd = Command::new(&self.prefix[0]);
        cmd.args(&self.prefix[1..]).args(argv);
        run_timeout(&mut cmd, Duration::from_secs(60))
            .expect_ok(&format!("in {}: {}", self.label, argv.join(" ")))
            .stdout
    }

    fn ss(&self) -> Vec<SsSocket> {
        parse_ss(&self.sh(&["ss", "-H", "-tuanpe"]))
    }

    /// The TcpExt counters of `/proc/net/netstat` inside.
    fn tcpext(&self) -> BTreeMap<String, u64> {
        parse_tcpext(&self.sh(&["cat", "/proc/net/netstat"]))
    }
}

/// The `TcpExt:` header and value lines of `/proc/net/netstat`, zipped.
fn parse_tcpext(text: &str) -> BTreeMap<String, u64> {
    let lines: Vec<&str> = text.lines().collect();
    for pair in lines.windows(2) {
        if let (Some(keys), Some(vals)) = (
            pair[0].strip_prefix("TcpExt:"),
            pair[1].strip_prefix("TcpExt:"),
        ) && !vals
            .trim_start()
            .starts_with(|c: char| c.is_ascii_alphabetic())
        {
            return keys
                .split_whitespace()
                .zip(vals.split_whitespace())
                .filter_map(|(k, v)| Some((k.to_string(), v.parse().ok()?)))
                .collect();
        }
    }
    panic!("no TcpExt lines in /proc/net/netstat:\n{text}");
}

fn ns_inode(path: &str) -> u64 {
    std::fs::metadata(path)
        .unwrap_or_else(|e| panic!("stat {path}: {e}"))
        .ino()
}

/// The first line a child prints on stdout, within `timeout`.
fn first_line(child: &mut Child, timeout: Duration, what: &str) -> Value {
    let stdout = child.stdout.take().expect("stdout piped");
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let mut line = String::new();
        let _ = BufReader::new(stdout).read_line(&mut line);
        let _ = tx.send(line);
    });
    let line = rx
        .recv_timeout(timeout)
        .unwrap_or_else(|e| panic!("{what}: no report within {timeout:?} ({e})"));
    let v: Value = serde_json::from_str(&line)
        .unwrap_or_else(|e| panic!("{what}: report is not JSON ({e}): {line:?}"));
    if let Some(err) = v.get("error") {
        panic!("{what} failed: {err}");
    }
    v
}

// ---------------------------------------------------------------------------------------
// B: a namespace held only by an orphan

/// Runs as root in the test's namespace: unshares a new network namespace, opens a TCP
/// listener and a UDP socket on its loopback, forks a grandchild that keeps them and exits.
/// The grandchild waits to be re-parented, reports, and lives until its stdin closes (the
/// test's end, even if the test process dies).
const ORPHAN_PY: &str = r#"
import ctypes, json, os, socket, subprocess, sys, time
CLONE_NEWNET = 0x40000000
libc = ctypes.CDLL(None, use_errno=True)
try:
    if libc.unshare(CLONE_NEWNET) != 0:
        raise OSError(ctypes.get_errno(), "unshare(CLONE_NEWNET)")
    subprocess.run(["ip", "link", "set", "lo", "up"], check=True)
    lst = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    lst.bind(("127.0.0.1", 0))
    lst.listen(8)
    udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    udp.bind(("127.0.0.1", 0))
except Exception as e:
    print(json.dumps({"error": "%s: %s" % (type(e).__name__, e)}), flush=True)
    sys.exit(1)
creator = os.getpid()
if os.fork() != 0:
    os._exit(0)  # the creator exits: the grandchild is re-parented
deadline = time.monotonic() + 10
while os.getppid() == creator and time.monotonic() < deadline:
    time.sleep(0.01)
def desc(s):
    return {"inode": os.fstat(s.fileno()).st_ino, "fd": s.fileno(),
            "port": s.getsockname()[1]}
print(json.dumps({"pid": os.getpid(), "ppid": os.getppid(), "creator": creator,
                  "netns": os.stat("/proc/self/ns/net").st_ino,
                  "listener": desc(lst), "udp": desc(udp)}), flush=True)
sys.stdin.read()
"#;

/// The orphan holding B. Drop closes its stdin (it exits) and kills it if it is still ours.
struct Orphan {
    pid: u32,
    marker: String,
    stdin: Option<ChildStdin>,
    report: Value,
}

impl Orphan {
    fn start() -> Orphan {
        let marker = format!("bst-orphan-{}", std::process::id());
        let mut creator = Command::new(python())
            .args(["-c", ORPHAN_PY, &marker])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("start the namespace creator");
        let stdin = creator.stdin.take();
        let report = first_line(&mut creator, Duration::from_secs(30), "orphan");
        let status = creator.wait().expect("wait for the creator");
        let pid = report["pid"].as_u64().expect("orphan pid") as u32;
        let orphan = Orphan {
            pid,
            marker,
            stdin,
            report,
        };
        assert!(
            status.success(),
            "the namespace creator exited with {status}"
        );
        assert_ne!(
            orphan.report["ppid"], orphan.report["creator"],
            "the grandchild was not re-parented: {}",
            orphan.report
        );
        orphan
    }

    fn netns(&self) -> u64 {
        self.report["netns"].as_u64().expect("orphan netns")
    }

    fn inode(&self, which: &str) -> u64 {
        self.report[which]["inode"].as_u64().expect("inode")
    }

    fn fd(&self, which: &str) -> u64 {
        self.report[which]["fd"].as_u64().expect("fd")
    }

    fn is_ours(&self) -> bool {
        std::fs::read(format!("/proc/{}/cmdline", self.pid))
            .is_ok_and(|c| String::from_utf8_lossy(&c).contains(&self.marker))
    }
}

impl Drop for Orphan {
    fn drop(&mut self) {
        drop(self.stdin.take());
        let start = Instant::now();
        while self.is_ours() && start.elapsed() < Duration::from_secs(5) {
            std::thread::sleep(Duration::from_millis(20));
        }
        if self.is_ours() {
            // A pid checked to be the orphan this guard started.
            if let Some(pid) = i32::try_from(self.pid)
                .ok()
                .and_then(rustix::process::Pid::from_raw)
            {
                let _ = rustix::process::kill_process(pid, rustix::process::Signal::KILL);
            }
        }
    }
}

// ---------------------------------------------------------------------------------------
// E: an accept queue that overflowed

/// Runs inside E: a listener with backlog 1 on loopback; clients connect one after the other
/// and are never accepted. Two fit in the queue (full when len > backlog); the SYNs of the
/// others are dropped, counting ListenOverflows. Those are then closed so that no SYN is
/// retransmitted and the counters stay put. Reports, then lives until stdin closes.
const OVERFLOW_PY: &str = r#"
import json, os, socket, sys, time
def tcpext():
    lines = open("/proc/net/netstat").read().splitlines()
    for k, v in zip(lines, lines[1:]):
        if k.startswith("TcpExt:") and v.startswith("TcpExt:") and v.split()[1].isdigit():
            return dict(zip(k.split()[1:], map(int, v.split()[1:])))
lst = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
lst.bind(("127.0.0.1", 0))
lst.listen(1)
port = lst.getsockname()[1]
clients = []
for _ in range(6):
    c = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    c.setblocking(False)
    try:
        c.connect(("127.0.0.1", port))
    except BlockingIOError:
        pass
    clients.append(c)
    time.sleep(0.05)
deadline = time.monotonic() + 5
while tcpext()["ListenOverflows"] == 0 and time.monotonic() < deadline:
    time.sleep(0.05)
kept = []
for c in clients:
    try:
        c.getpeername()
        kept.append(c)
    except OSError:
        c.close()
time.sleep(0.3)
print(json.dumps({"pid": os.getpid(), "port": port, "inode": os.fstat(lst.fileno()).st_ino,
                  "kept": len(kept), "tcpext": tcpext()}), flush=True)
sys.stdin.read()
"#;

/// A process in a named namespace that lives until its stdin closes.
struct Held {
    child: Child,
    stdin: Option<ChildStdin>,
    report: Value,
}

impl Held {
    fn start(ns: &Netns, code: &str, what: &str) -> Held {
        let mut child = ns
            .cmd(&[&python(), "-c", code])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap_or_else(|e| panic!("start {what}: {e}"));
        let stdin = child.stdin.take();
        let mut held = Held {
            child,
            stdin,
            report: Value::Null,
        };
        held.report = first_line(&mut held.child, Duration::from_secs(30), what);
        held
    }
}

impl Drop for Held {
    fn drop(&mut self) {
        drop(self.stdin.take());
        let start = Instant::now();
        while start.elapsed() < Duration::from_secs(5) {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

// ---------------------------------------------------------------------------------------
// Reading the snapshot

fn tcp(name: &str, family: u8, addr: &str, port: u16) -> Value {
    json!({"name": name, "proto": "tcp", "family": family, "addr": addr, "port": port,
           "options": {}, "listen": 8, "uid": 0})
}

fn udp(name: &str, family: u8, addr: &str) -> Value {
    json!({"name": name, "proto": "udp", "family": family, "addr": addr, "port": 0,
           "options": {}, "uid": 0})
}

/// Runs bindscope as root in the test's own namespace.
fn bindscope_here(args: &[&str]) -> Run {
    run_timeout(Command::new(BINDSCOPE).args(args), RUN_TIMEOUT)
}

fn netns_list(snap: &Value) -> &Vec<Value> {
    snap["netns"]
        .as_array()
        .unwrap_or_else(|| panic!("snapshot has no 'netns' array"))
}

/// A short description of every namespace entry, for failure messages.
fn netns_brief(snap: &Value) -> String {
    netns_list(snap)
        .iter()
        .map(|n| {
            format!(
                "id={} name={} kind={} current={} pids={} paths={} error={}",
                n["id"], n["name"], n["kind"], n["current"], n["pids"], n["paths"], n["error"]
            )
        })
        .collect::<Vec<_>>()
        .join("\n  ")
}

/// The one `netns` entry with this id.
fn entry(snap: &Value, id: u64) -> &Value {
    let found: Vec<&Value> = netns_list(snap)
        .iter()
        .filter(|n| n["id"].as_u64() == Some(id))
        .collect();
    assert_eq!(
        found.len(),
        1,
        "expected one netns entry with id {id}, got {}:\n  {}",
        found.len(),
        netns_brief(snap)
    );
    found[0]
}

fn inodes_in(snap: &Value, id: u64) -> BTreeSet<u64> {
    sockets(snap)
        .iter()
        .filter(|s| s["netns"].as_u64() == Some(id))
        .map(|s| s["inode"].as_u64().expect("inode"))
        .collect()
}

/// The snapshot cut down to the sockets of one namespace, for [`assert_matches_ss_lines`].
fn only_netns(snap: &Value, id: u64) -> Value {
    let socks: Vec<Value> = sockets(snap)
        .iter()
        .filter(|s| s["netns"].as_u64() == Some(id))
        .cloned()
        .collect();
    json!({ "sockets": socks })
}

fn interface_names(n: &Value) -> BTreeSet<String> {
    n["interfaces"]
        .as_array()
        .unwrap_or_else(|| panic!("netns entry without interfaces: {n}"))
        .iter()
        .map(|i| i["name"].as_str().expect("interface name").to_string())
        .collect()
}

fn has_address(n: &Value, addr: &str) -> bool {
    n["interfaces"].as_array().is_some_and(|ifs| {
        ifs.iter().any(|i| {
            i["addresses"]
                .as_array()
                .is_some_and(|a| a.iter().any(|a| a["addr"] == addr))
        })
    })
}

/// The counters bindscope reports.
const COUNTERS: [&str; 5] = [
    "ListenOverflows",
    "ListenDrops",
    "TCPReqQFullDrop",
    "TCPReqQFullDoCookies",
    "TCPDeferAcceptDrop",
];

/// Each counter of the entry lies between what the namespace said before and after the run.
fn assert_counters(
    n: &Value,
    place: &Place,
    before: &BTreeMap<String, u64>,
    after: &BTreeMap<String, u64>,
) {
    for key in COUNTERS {
        let (Some(lo), Some(hi)) = (before.get(key), after.get(key)) else {
            continue; // an older kernel without it
        };
        let got = n["counters"][key].as_u64().unwrap_or_else(|| {
            panic!(
                "{}: counters.{key} is {} (the kernel has {lo})",
                place.label, n["counters"][key]
            )
        });
        assert!(
            *lo <= got && got <= *hi,
            "{}: counters.{key} = {got}, but /proc/net/netstat inside says {lo} before and {hi} after",
            place.label
        );
    }
}

fn assert_valid(doc: &Value, what: &str) {
    assert_schema_valid(&schema_validator(), doc, what);
}

/// `nsenter` is needed for the namespace only a process holds.
fn have_nsenter(test: &str) -> bool {
    let ok = Command::new("nsenter")
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if !ok {
        assert_ne!(
            std::env::var(REQUIRE_ENV).as_deref(),
            Ok("1"),
            "{test}: {REQUIRE_ENV}=1 but nsenter(1) is not on PATH"
        );
        eprintln!("SKIPPED {test}: nsenter(1) is not on PATH");
    }
    ok
}

/// Gives `ns` an interface of its own, up: `dummy0`, or, when the kernel has no dummy
/// driver, a veth pair `veth0`/`veth1` with both ends inside `ns` (so nothing leaves it).
/// Returns the interface names, the one to put addresses on first.
fn add_own_interface(ns: &Netns) -> Vec<String> {
    let dummy = run_timeout(
        Command::new("ip").args(["-n", ns.name(), "link", "add", "dummy0", "type", "dummy"]),
        Duration::from_secs(30),
    );
    let links: Vec<String> = if dummy.ok() {
        vec!["dummy0".into()]
    } else {
        eprintln!(
            "no dummy interfaces ({}): using a veth pair inside the namespace",
            dummy.stderr.trim()
        );
        ns.ip(&[
            "link", "add", "veth0", "type", "veth", "peer", "name", "veth1",
        ]);
        vec!["veth0".into(), "veth1".into()]
    };
    for l in &links {
        ns.ip(&["link", "set", l, "up"]);
    }
    links
}

/// The listener of the test process itself, in the root namespace, on loopback.
struct RootListener {
    listener: std::net::TcpListener,
    port: u16,
    inode: u64,
}

impl RootListener {
    fn bind() -> RootListener {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
        let port = listener.local_addr().expect("local_addr").port();
        let inode = ns_inode(&format!("/proc/self/fd/{}", listener.as_raw_fd()));
        RootListener {
            listener,
            port,
            inode,
        }
    }

    fn fd(&self) -> u64 {
        self.listener.as_raw_fd() as u64
    }
}

// ---------------------------------------------------------------------------------------
// The five namespaces, seen by root

#[test]
fn five_namespaces_at_once() {
    const TEST: &str = "five_namespaces_at_once";
    let Some(a) = privileged(TEST) else {
        return;
    };
    if !have_nsenter(TEST) {
        return;
    }
    let c = Netns::create(TEST).expect("namespace C");
    let d = Netns::create(TEST).expect("namespace D");
    let e = Netns::create(TEST).expect("namespace E");
    let own_id = ns_inode("/proc/self/ns/net");
    let test_pid = u64::from(std::process::id());

    // D: an interface and addresses of its own (nodad: the IPv6 one is usable at once).
    let d_links = add_own_interface(&d);
    let d_if = d_links[0].as_str();
    d.ip(&["addr", "add", &format!("{D_IPV4}/24"), "dev", d_if]);
    d.ip(&["addr", "add", &format!("{D_IPV6}/64"), "dev", d_if, "nodad"]);
    // A: a sysctl of its own.
    a.sh(&[
        "sysctl",
        "-qw",
        &format!("net.core.somaxconn={A_SOMAXCONN}"),
    ]);

    // Root: a listener of this process; C: one on the same address and port.
    let root = RootListener::bind();
    let sm_a = Sockmaker::start(
        &a,
        &json!({"sockets": [
            tcp("a_lst", 4, "127.0.0.1", 0),
            udp("a_udp", 6, "::1"),
            // D's address, which A does not have: nonlocal here, local in D.
            {"name": "a_free", "proto": "tcp", "family": 4, "addr": D_IPV4, "port": 0,
             "options": {"freebind": true}, "listen": 8, "uid": 0},
        ]}),
    );
    let sm_c = Sockmaker::start(
        &c,
        &json!({"sockets": [tcp("c_lst", 4, "127.0.0.1", root.port)]}),
    );
    let sm_d = Sockmaker::start(
        &d,
        &json!({"sockets": [
            tcp("d_lst4", 4, D_IPV4, 0),
            tcp("d_lst6", 6, D_IPV6, 0),
            udp("d_udp", 4, D_IPV4),
        ]}),
    );
    let overflow = Held::start(&e, OVERFLOW_PY, "overflow in E");
    let e_port = overflow.report["port"].as_u64().expect("E port");
    let e_inode = overflow.report["inode"].as_u64().expect("E inode");
    let e_kept = overflow.report["kept"].as_u64().expect("E kept");
    assert!(
        overflow.report["tcpext"]["ListenOverflows"]
            .as_u64()
            .is_some_and(|n| n > 0),
        "the kernel counted no ListenOverflows in E: {}",
        overflow.report
    );
    let orphan = Orphan::start();
    let b_id = orphan.netns();
    assert_ne!(
        b_id, own_id,
        "the orphan did not get a namespace of its own"
    );

    let places = [
        ("A", Place::named("A", &a)),
        ("B", Place::of_pid("B", orphan.pid, b_id)),
        ("C", Place::named("C", &c)),
        ("D", Place::named("D", &d)),
        ("E", Place::named("E", &e)),
    ];
    let ids: BTreeSet<u64> = places.iter().map(|(_, p)| p.id).collect();
    assert_eq!(ids.len(), 5, "five different namespaces");
    assert!(!ids.contains(&own_id));

    // ---- one run, every namespace --------------------------------------------------------
    let before: Vec<BTreeMap<String, u64>> = places.iter().map(|(_, p)| p.tcpext()).collect();
    let run = bindscope_here(&["snapshot", "--format", "json"]).expect_ok("bindscope snapshot");
    let after: Vec<BTreeMap<String, u64>> = places.iter().map(|(_, p)| p.tcpext()).collect();
    let ss_lines: Vec<Vec<SsSocket>> = places.iter().map(|(_, p)| p.ss()).collect();
    let snap = run.json();
    assert_valid(&snap, "the all-namespaces snapshot");
    eprintln!("{TEST}: namespaces:\n  {}", netns_brief(&snap));

    // Every namespace once; every socket and holder in a listed one.
    let listed: Vec<u64> = netns_list(&snap)
        .iter()
        .map(|n| n["id"].as_u64().expect("netns id"))
        .collect();
    let unique: BTreeSet<u64> = listed.iter().copied().collect();
    assert_eq!(unique.len(), listed.len(), "a namespace is listed twice");
    for id in ids.iter().chain([&own_id]) {
        entry(&snap, *id);
    }
    for s in sockets(&snap) {
        let ns = s["netns"]
            .as_u64()
            .unwrap_or_else(|| panic!("no netns: {}", brief(s)));
        assert!(
            unique.contains(&ns),
            "socket in an unlisted namespace: {}",
            brief(s)
        );
    }
    let ids_unique: BTreeSet<&str> = sockets(&snap)
        .iter()
        .map(|s| s["id"].as_str().expect("socket id"))
        .collect();
    assert_eq!(
        ids_unique.len(),
        sockets(&snap).len(),
        "socket ids are not unique"
    );

    // The root namespace: the current one.
    let current: Vec<&Value> = netns_list(&snap)
        .iter()
        .filter(|n| n["current"] == true)
        .collect();
    assert_eq!(
        current.len(),
        1,
        "one current namespace:\n  {}",
        netns_brief(&snap)
    );
    let r = current[0];
    assert_eq!(r["id"], own_id, "current is the test's namespace");
    assert!(
        r.get("error").is_none_or(Value::is_null),
        "root entry: {}",
        r["error"]
    );
    let pid1 = std::fs::metadata("/proc/1/ns/net").map(|m| m.ino()).ok();
    if own_id == NET_NS_INIT_INO || pid1 == Some(own_id) {
        assert_eq!(r["kind"], "host", "the test runs in the host namespace");
        assert_eq!(r["name"], "host");
    }
    let hosts = netns_list(&snap)
        .iter()
        .filter(|n| n["kind"] == "host")
        .count();
    assert!(hosts <= 1, "{hosts} host namespaces");

    // Names and kinds of ours.
    for (label, ns) in [("A", &a), ("C", &c), ("D", &d), ("E", &e)] {
        let n = entry(&snap, ns.id());
        let ctx = format!("{label} ({})", ns.name());
        assert_eq!(n["kind"], "named", "{ctx}: kind");
        assert_eq!(n["name"], ns.name(), "{ctx}: name");
        let path = format!("/run/netns/{}", ns.name());
        assert!(
            n["paths"]
                .as_array()
                .is_some_and(|p| p.iter().any(|p| p == &path)),
            "{ctx}: paths {} lack {path}",
            n["paths"]
        );
        assert_eq!(n["current"], false, "{ctx}: current");
        assert!(
            n.get("error").is_none_or(Value::is_null),
            "{ctx}: error {}",
            n["error"]
        );
    }
    let b = entry(&snap, b_id);
    match b["kind"].as_str() {
        Some("process") => assert_eq!(b["name"], Value::Null, "B: a process namespace has no name"),
        Some(k @ ("unit" | "container")) => {
            assert!(b["name"].is_string(), "B: kind {k} without a name");
            assert_eq!(b["name"], b[k], "B: name is the {k}");
        }
        other => panic!("B: kind {other:?} (want process, or unit/container from its cgroup)"),
    }
    eprintln!(
        "{TEST}: B (orphan {}) is kind {} name {}",
        orphan.pid, b["kind"], b["name"]
    );
    assert_eq!(b["pids"], json!([orphan.pid]), "B: pids");
    assert_eq!(b["processes"], 1, "B: processes");
    assert_eq!(b["paths"], json!([]), "B: paths");
    assert_eq!(b["current"], false, "B: current");
    assert!(
        b.get("error").is_none_or(Value::is_null),
        "B: error {}",
        b["error"]
    );

    // Sockets: each in its namespace, nothing else in ours.
    let by_ns = [
        (&a, &sm_a, vec!["a_lst", "a_udp", "a_free"]),
        (&c, &sm_c, vec!["c_lst"]),
        (&d, &sm_d, vec!["d_lst4", "d_lst6", "d_udp"]),
    ];
    for (ns, sm, names) in &by_ns {
        for name in names {
            assert_made(by_inode(&snap, sm.inode(name)), sm.sock(name), ns);
        }
        let want: BTreeSet<u64> = names.iter().map(|n| sm.inode(n)).collect();
        assert_eq!(
            inodes_in(&snap, ns.id()),
            want,
            "the sockets of {}:\n  {}",
            ns.name(),
            list(&snap)
        );
    }
    for which in ["listener", "udp"] {
        let s = by_inode(&snap, orphan.inode(which));
        assert_eq!(s["netns"], b_id, "B {which}: netns ({})", brief(s));
        assert_eq!(
            holders(s),
            BTreeSet::from([(u64::from(orphan.pid), orphan.fd(which), 0)]),
            "B {which}: held by the orphan only ({})",
            brief(s)
        );
        for h in s["holders"].as_array().unwrap() {
            assert_eq!(h["netns"], b_id, "B {which}: holder netns");
        }
    }
    assert_eq!(
        inodes_in(&snap, b_id),
        BTreeSet::from([orphan.inode("listener"), orphan.inode("udp")]),
        "the sockets of B:\n  {}",
        list(&snap)
    );
    let s = by_inode(&snap, e_inode);
    assert_eq!(s["netns"], e.id(), "E listener: netns");
    assert_eq!(
        s["accept_queue"],
        json!({"len": e_kept, "backlog": 1}),
        "E listener"
    );
    assert_eq!(
        inodes_in(&snap, e.id()),
        BTreeSet::from([e_inode]),
        "the sockets of E"
    );

    // The shared port: the root listener once, in the root namespace; C's once, in C.
    let s = by_inode(&snap, root.inode);
    assert_eq!(s["netns"], own_id, "root listener: netns ({})", brief(s));
    assert_eq!(s["state"], "listen");
    assert_eq!(s["local_addr"], "127.0.0.1");
    assert_eq!(s["address_state"], "local", "root listener: address_state");
    assert!(
        holders(s).contains(&(test_pid, root.fd(), 0)),
        "root listener: held by the test process (pid {test_pid}, fd {}): {}",
        root.fd(),
        brief(s)
    );
    // (Other namespaces, ours or not, may have a listener on that port number by chance.)
    let mut on_shared: Vec<(u64, u64)> = on_port(&snap, root.port)
        .into_iter()
        .filter(|s| s["proto"] == "tcp" && s["state"] == "listen")
        .filter(|s| s["netns"] == own_id || s["netns"] == c.id())
        .map(|s| (s["netns"].as_u64().unwrap(), s["inode"].as_u64().unwrap()))
        .collect();
    on_shared.sort_unstable();
    let mut want = vec![(own_id, root.inode), (c.id(), sm_c.inode("c_lst"))];
    want.sort_unstable();
    assert_eq!(
        on_shared,
        want,
        "listeners on the shared port {}: (netns, inode)\n  {}",
        root.port,
        list(&snap)
    );

    // Addresses are judged in the socket's own namespace.
    for name in ["d_lst4", "d_lst6", "d_udp"] {
        let s = by_inode(&snap, sm_d.inode(name));
        assert_eq!(s["address_state"], "local", "D {name}: D has the address");
    }
    let s = by_inode(&snap, sm_a.inode("a_free"));
    assert_eq!(
        s["address_state"], "nonlocal",
        "A a_free: {D_IPV4} is D's, not A's"
    );

    // Interfaces per namespace.
    let dn = entry(&snap, d.id());
    let mut want_if: BTreeSet<String> = d_links.iter().cloned().collect();
    want_if.insert("lo".into());
    assert_eq!(interface_names(dn), want_if, "D: interfaces");
    let dev = dn["interfaces"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["name"] == d_if)
        .unwrap();
    assert_eq!(dev["up"], true, "D {d_if}: up");
    assert_eq!(dev["loopback"], false, "D {d_if}: loopback");
    let addrs: BTreeSet<(String, u64)> = dev["addresses"]
        .as_array()
        .expect("addresses")
        .iter()
        .filter(|a| a["scope"] == "global")
        .map(|a| {
            (
                a["addr"].as_str().unwrap().to_string(),
                a["prefix_len"].as_u64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        addrs,
        BTreeSet::from([(D_IPV4.to_string(), 24), (D_IPV6.to_string(), 64)]),
        "D {d_if}: global addresses ({})",
        dev["addresses"]
    );
    for a6 in dev["addresses"].as_array().unwrap() {
        if a6["addr"] == D_IPV6 {
            let flags = a6["flags"].as_array().expect("flags");
            assert!(
                flags.iter().any(|f| f == "nodad") && !flags.iter().any(|f| f == "tentative"),
                "D {D_IPV6}: flags {a6}"
            );
        }
    }
    for (label, place) in &places {
        let n = entry(&snap, place.id);
        if *label != "D" {
            assert_eq!(
                interface_names(n),
                BTreeSet::from(["lo".to_string()]),
                "{}: interfaces",
                place.label
            );
        }
        // What `ip link` inside says.
        let ip_names: BTreeSet<String> = place
            .sh(&["ip", "-o", "link", "show"])
            .lines()
            .filter_map(|l| l.split(": ").nth(1))
            .map(|n| n.split('@').next().unwrap().to_string())
            .collect();
        assert_eq!(
            interface_names(n),
            ip_names,
            "{}: interfaces vs ip link",
            place.label
        );
    }
    for n in netns_list(&snap) {
        if n["id"] != d.id() {
            assert!(
                !has_address(n, D_IPV4) && !has_address(n, D_IPV6),
                "namespace {} {} has D's addresses",
                n["id"],
                n["name"]
            );
        }
    }

    // Sysctls per namespace.
    assert_eq!(
        entry(&snap, a.id())["sysctls"]["net.core.somaxconn"],
        A_SOMAXCONN,
        "A: somaxconn"
    );
    for id in ids.iter().chain([&own_id]).filter(|id| **id != a.id()) {
        assert_ne!(
            entry(&snap, *id)["sysctls"]["net.core.somaxconn"],
            A_SOMAXCONN,
            "namespace {id}: A's somaxconn"
        );
    }

    // Counters per namespace: E overflowed, fresh A did not; each as the kernel says inside.
    for (i, (label, place)) in places.iter().enumerate() {
        let n = entry(&snap, place.id);
        assert_counters(n, place, &before[i], &after[i]);
        match *label {
            "E" => assert!(
                n["counters"]["ListenOverflows"]
                    .as_u64()
                    .is_some_and(|v| v > 0),
                "E: ListenOverflows {}",
                n["counters"]
            ),
            "A" => assert_eq!(n["counters"]["ListenOverflows"], 0, "A: ListenOverflows"),
            _ => {}
        }
    }

    // ss inside each namespace: the same listeners and UDP sockets.
    for ((_, place), lines) in places.iter().zip(ss_lines) {
        assert!(
            !lines.is_empty(),
            "{}: ss shows nothing; is this the right namespace?",
            place.label
        );
        assert_matches_ss_lines(&only_netns(&snap, place.id), lines);
    }

    // ---- --all: connections too, each in its namespace ---------------------------------
    let all = bindscope_here(&["snapshot", "--format", "json", "--all"])
        .expect_ok("bindscope snapshot --all")
        .json();
    assert_valid(&all, "the all-namespaces snapshot --all");
    let on_e: Vec<&Value> = sockets(&all)
        .iter()
        .filter(|s| s["local_port"] == e_port || s["remote_port"] == e_port)
        .filter(|s| s["netns"] == e.id())
        .collect();
    // the listener, the queued children and the client ends
    assert_eq!(
        on_e.len() as u64,
        1 + 2 * e_kept,
        "E --all: sockets on port {e_port}:\n  {}",
        on_e.iter()
            .map(|s| brief(s))
            .collect::<Vec<_>>()
            .join("\n  ")
    );
    for (label, place) in &places {
        let want: BTreeSet<u64> = sockets(&snap)
            .iter()
            .filter(|s| s["netns"] == place.id)
            .map(|s| s["inode"].as_u64().unwrap())
            .collect();
        let got: BTreeSet<u64> = sockets(&all)
            .iter()
            .filter(|s| s["netns"] == place.id && s["inode"] != 0)
            .filter(|s| s["state"] == "listen" || s["state"] == "close")
            .map(|s| s["inode"].as_u64().unwrap())
            .collect();
        assert_eq!(
            got, want,
            "{label}: --all keeps the same listeners and bound sockets"
        );
    }
    let s = by_inode(&all, root.inode);
    assert_eq!(s["netns"], own_id, "--all: root listener netns");

    // ---- --netns selects -----------------------------------------------------------------
    let only_a = bindscope_here(&["snapshot", "--format", "json", "--netns", a.name()])
        .expect_ok("--netns A")
        .json();
    let listed: Vec<u64> = netns_list(&only_a)
        .iter()
        .map(|n| n["id"].as_u64().unwrap())
        .collect();
    assert_eq!(listed, vec![a.id()], "--netns {}: namespaces", a.name());
    assert_eq!(
        inodes_in(&only_a, a.id()),
        BTreeSet::from([
            sm_a.inode("a_lst"),
            sm_a.inode("a_udp"),
            sm_a.inode("a_free")
        ]),
        "--netns {}: sockets",
        a.name()
    );
    assert_eq!(
        sockets(&only_a).len(),
        3,
        "--netns A: only A's sockets:\n  {}",
        list(&only_a)
    );
    assert_eq!(entry(&only_a, a.id())["name"], a.name());

    let b_arg = b_id.to_string();
    let only_b = bindscope_here(&["snapshot", "--format", "json", "--netns", &b_arg])
        .expect_ok("--netns B's id")
        .json();
    let listed: Vec<u64> = netns_list(&only_b)
        .iter()
        .map(|n| n["id"].as_u64().unwrap())
        .collect();
    assert_eq!(listed, vec![b_id], "--netns {b_id}: namespaces");
    let all_b: BTreeSet<u64> = sockets(&only_b)
        .iter()
        .map(|s| s["inode"].as_u64().unwrap())
        .collect();
    assert_eq!(
        all_b,
        BTreeSet::from([orphan.inode("listener"), orphan.inode("udp")]),
        "--netns {b_id}: only B's sockets:\n  {}",
        list(&only_b)
    );

    // Repeated and comma-separated: A and E by name, the root one as `current`.
    let arg = format!("{},{}", a.name(), e.name());
    let several = bindscope_here(&[
        "snapshot", "--format", "json", "--netns", &arg, "--netns", "current",
    ])
    .expect_ok("--netns A,E --netns current")
    .json();
    let listed: BTreeSet<u64> = netns_list(&several)
        .iter()
        .map(|n| n["id"].as_u64().unwrap())
        .collect();
    assert_eq!(
        listed,
        BTreeSet::from([a.id(), e.id(), own_id]),
        "--netns {arg} --netns current"
    );
    let socket_ns: BTreeSet<u64> = sockets(&several)
        .iter()
        .map(|s| s["netns"].as_u64().unwrap())
        .collect();
    assert!(
        socket_ns.is_subset(&listed),
        "sockets outside the selection"
    );
    assert_eq!(by_inode(&several, root.inode)["netns"], own_id);
    assert_eq!(by_inode(&several, e_inode)["netns"], e.id());
    assert!(
        sockets(&several).iter().all(|s| s["netns"] != c.id()),
        "C was not selected"
    );

    let bad = bindscope_here(&["snapshot", "--format", "json", "--netns", "nosuchns"]);
    assert_eq!(
        bad.status.code(),
        Some(2),
        "--netns nosuchns: exit status; stderr:\n{}",
        bad.stderr
    );
    assert!(
        bad.stdout.trim().is_empty(),
        "--netns nosuchns printed: {}",
        bad.stdout
    );
    assert!(
        bad.stderr.contains("nosuchns"),
        "--netns nosuchns: the message names it:\n{}",
        bad.stderr
    );
    assert!(
        bad.stderr.contains(a.name()),
        "--netns nosuchns: the message lists the known names (A is {}):\n{}",
        a.name(),
        bad.stderr
    );
    drop(orphan);
}

// ---------------------------------------------------------------------------------------
// Without privileges

/// `bindscope args…` as nobody (setpriv), from the test's own namespace.
fn bindscope_as_nobody(args: &[&str]) -> Run {
    let bin = world_readable_binary();
    let uid = format!("--reuid={NOBODY}");
    let gid = format!("--regid={NOBODY}");
    let mut cmd = Command::new("setpriv");
    cmd.args([uid.as_str(), gid.as_str(), "--clear-groups", "--"])
        .arg(&bin.path)
        .args(args)
        .env("HOME", "/")
        .current_dir("/");
    run_timeout(&mut cmd, RUN_TIMEOUT)
}

#[test]
fn nobody_lists_a_named_namespace_it_cannot_enter() {
    const TEST: &str = "nobody_lists_a_named_namespace_it_cannot_enter";
    let Some(a) = privileged(TEST) else {
        return;
    };
    let sm = Sockmaker::start(
        &a,
        &json!({"sockets": [tcp("a_lst", 4, "127.0.0.1", 0), udp("a_udp", 4, "127.0.0.1")]}),
    );
    let own_id = ns_inode("/proc/self/ns/net");
    let run = bindscope_as_nobody(&["snapshot", "--format", "json"]);
    assert!(
        run.ok(),
        "as nobody: {}\n--- stderr ---\n{}",
        run.status,
        run.stderr
    );
    let snap = run.json();
    assert_valid(&snap, "nobody's all-namespaces snapshot");
    assert_eq!(snap["privileges"]["euid"], NOBODY);

    let n = entry(&snap, a.id());
    assert_eq!(n["kind"], "named", "A: kind");
    assert_eq!(n["name"], a.name(), "A: name");
    let err = n["error"].as_str().unwrap_or_else(|| {
        panic!(
            "A is listed without an error although nobody cannot enter it:\n  {}",
            netns_brief(&snap)
        )
    });
    let lower = err.to_lowercase();
    assert!(
        err.contains("CAP_SYS_ADMIN") || lower.contains("permission"),
        "A: the error gives no reason: {err:?}"
    );
    // Not entered: nothing of A, and unknown is not zero.
    assert_eq!(
        inodes_in(&snap, a.id()),
        BTreeSet::new(),
        "no sockets attributed to A"
    );
    for name in ["a_lst", "a_udp"] {
        let ino = sm.inode(name);
        assert!(
            sockets(&snap).iter().all(|s| s["inode"] != ino),
            "A's {name} (inode {ino}) is in nobody's snapshot"
        );
    }
    assert_eq!(
        n["interfaces"],
        json!([]),
        "A: interfaces of a namespace not entered"
    );
    for key in COUNTERS {
        assert!(
            n["counters"][key].is_null(),
            "A: counters.{key} is {} for a namespace not entered (unknown, not a number)",
            n["counters"][key]
        );
    }
    assert!(
        n["sysctls"]
            .as_object()
            .is_some_and(|m| m.values().all(Value::is_null)),
        "A: sysctls of a namespace not entered: {}",
        n["sysctls"]
    );

    // The namespace nobody runs in is entered (no setns needed) and has no error.
    let r = entry(&snap, own_id);
    assert_eq!(r["current"], true);
    assert!(
        r.get("error").is_none_or(Value::is_null),
        "current: {}",
        r["error"]
    );

    // It says what is missing, on stderr and in the file.
    let missing = snap["privileges"]["missing"]
        .as_array()
        .expect("privileges.missing");
    assert!(!missing.is_empty(), "privileges.missing is empty");
    let text = missing
        .iter()
        .filter_map(Value::as_str)
        .collect::<Vec<_>>()
        .join(" ");
    assert!(
        text.contains("namespace"),
        "privileges.missing does not mention the namespaces it could not enter: {text}"
    );
    assert!(
        run.stderr.contains("namespace"),
        "stderr does not say that namespaces were not entered:\n{}",
        run.stderr
    );
    assert!(
        run.stderr.to_lowercase().contains("cap_sys_admin") || run.stderr.contains("sudo"),
        "stderr does not say how to get what is missing:\n{}",
        run.stderr
    );
}

/// A namespace that only another user's process holds cannot even be found by nobody
/// (reading `/proc/PID/ns/net` needs ptrace access). It must then be listed with an error,
/// or the run must say, in its own sentence, that namespaces of unreadable processes may be
/// missing: not dropped without a word.
#[test]
fn nobody_does_not_silently_drop_a_process_held_namespace() {
    const TEST: &str = "nobody_does_not_silently_drop_a_process_held_namespace";
    // The gate (root, ip, ss, setpriv); the namespace it makes is not used.
    let Some(_gate) = privileged(TEST) else {
        return;
    };
    let orphan = Orphan::start();
    let b_id = orphan.netns();
    let run = bindscope_as_nobody(&["snapshot", "--format", "json"]);
    assert!(
        run.ok(),
        "as nobody: {}\n--- stderr ---\n{}",
        run.status,
        run.stderr
    );
    let snap = run.json();
    assert_eq!(
        inodes_in(&snap, b_id),
        BTreeSet::new(),
        "B's sockets as nobody"
    );
    if let Some(n) = netns_list(&snap)
        .iter()
        .find(|n| n["id"].as_u64() == Some(b_id))
    {
        assert!(
            n["error"].as_str().is_some_and(|e| !e.trim().is_empty()),
            "B is listed without an error: {n}"
        );
        return;
    }
    // Not listed: some sentence must tie unreadable processes to missing namespaces.
    let mut texts: Vec<String> = snap["privileges"]["missing"]
        .as_array()
        .into_iter()
        .flatten()
        .chain(snap["warnings"].as_array().into_iter().flatten())
        .filter_map(|v| v.as_str().map(str::to_string))
        .collect();
    texts.push(run.stderr.clone());
    let said = texts.iter().any(|t| {
        t.split(['.', ';', '\n']).any(|clause| {
            let c = clause.to_lowercase();
            c.contains("namespace") && c.contains("process")
        })
    });
    assert!(
        said,
        "as nobody, namespace {b_id} (held only by root's pid {}) is neither listed nor \
         mentioned: no sentence says that the namespaces of unreadable processes may be \
         missing\nnamespaces:\n  {}\nprivileges: {}\nwarnings: {}\nstderr:\n{}",
        orphan.pid,
        netns_brief(&snap),
        snap["privileges"],
        snap["warnings"],
        run.stderr
    );
}
