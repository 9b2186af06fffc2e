//! Helpers for the real-kernel integration tests: a throwaway network namespace, real
//! sockets made by `tests/helpers/sockmaker.py`, the bindscope binary run inside the
//! namespace (as root or as nobody), and `ss` as a second opinion.
//!
//! Every test makes its own namespace, so tests can run in parallel threads. Tests that need
//! root call [`privileged`] first: without root (or without `ip netns`) it explains why and
//! the test returns early, unless `BINDSCOPE_REQUIRE_PRIVILEGED=1`, which turns the skip into
//! a failure (for CI runners that are supposed to be privileged).

#![allow(dead_code)]

pub mod prometheus;
pub mod tmux;

use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::io::{BufRead, BufReader, Read, Write};
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, ExitStatus, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::mpsc::{self, Receiver};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// Set to 1 to make a missing privilege a test failure instead of a skip.
pub const REQUIRE_ENV: &str = "BINDSCOPE_REQUIRE_PRIVILEGED";
/// The uid that the unprivileged runs use.
pub const NOBODY: u32 = 65534;
/// How long one bindscope run may take before the test gives up on it.
pub const RUN_TIMEOUT: Duration = Duration::from_secs(120);

pub const SOCKMAKER: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/helpers/sockmaker.py");
pub const BINDSCOPE: &str = env!("CARGO_BIN_EXE_bindscope");

/// The gate of every privileged test: a fresh namespace, or `None` (skip) after saying why.
/// With `BINDSCOPE_REQUIRE_PRIVILEGED=1` a missing privilege panics instead.
pub fn privileged(test: &str) -> Option<Netns> {
    match check_privileged().and_then(|()| Netns::create(test)) {
        Ok(ns) => Some(ns),
        Err(why) => {
            if std::env::var(REQUIRE_ENV).is_ok_and(|v| v == "1") {
                panic!("{test}: {REQUIRE_ENV}=1 but the test cannot run: {why}");
            }
            eprintln!("SKIPPED {test}: {why} (set {REQUIRE_ENV}=1 to make this a failure)");
            None
        }
    }
}

fn check_privileged() -> Result<(), String> {
    let euid = rustix::process::geteuid().as_raw();
    if euid != 0 {
        return Err(format!("needs root (euid is {euid})"));
    }
    for tool in ["ip", "ss", "setpriv"] {
        if which(tool).is_none() {
            return Err(format!("'{tool}' is not on PATH"));
        }
    }
    if !Path::new(&python()).exists() && which(&python()).is_none() {
        return Err(format!("no python3 ('{}')", python()));
    }
    Ok(())
}

pub fn which(tool: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|d| d.join(tool))
        .find(|p| p.is_file())
}

/// The interpreter for sockmaker: `BINDSCOPE_TEST_PYTHON`, else the system one (a pyenv shim
/// may not work under `ip netns exec`), else `python3` from PATH.
pub fn python() -> String {
    if let Ok(p) = std::env::var("BINDSCOPE_TEST_PYTHON") {
        return p;
    }
    if Path::new("/usr/bin/python3").exists() {
        return "/usr/bin/python3".into();
    }
    "python3".into()
}

// ---------------------------------------------------------------------------------------
// Running commands

/// What a finished command left behind.
#[derive(Debug)]
pub struct Run {
    pub status: ExitStatus,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    pub fn ok(&self) -> bool {
        self.status.success()
    }

    /// stdout as JSON; panics with stderr when it is not.
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.stdout).unwrap_or_else(|e| {
            panic!(
                "output is not JSON ({e}); status {}\n--- stdout (first 2000 chars) ---\n{}\n--- stderr ---\n{}",
                self.status,
                self.stdout.chars().take(2000).collect::<String>(),
                self.stderr
            )
        })
    }

    pub fn expect_ok(self, what: &str) -> Run {
        assert!(
            self.ok(),
            "{what} failed: {}\n--- stdout ---\n{}\n--- stderr ---\n{}",
            self.status,
            self.stdout,
            self.stderr
        );
        self
    }
}

fn reader_thread<R: Read + Send + 'static>(mut r: R) -> std::thread::JoinHandle<Vec<u8>> {
    std::thread::spawn(move || {
        let mut buf = Vec::new();
        let _ = r.read_to_end(&mut buf);
        buf
    })
}

/// Runs `cmd` with stdin closed, killing it (by its pid) after `timeout`.
pub fn run_timeout(cmd: &mut Command, timeout: Duration) -> Run {
    let desc = format!("{cmd:?}");
    let mut child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {desc}: {e}"));
    let out = reader_thread(child.stdout.take().expect("stdout piped"));
    let err = reader_thread(child.stderr.take().expect("stderr piped"));
    let start = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().expect("try_wait") {
            break status;
        }
        if start.elapsed() > timeout {
            let _ = child.kill();
            let _ = child.wait();
            let stderr = String::from_utf8_lossy(&err.join().unwrap_or_default()).into_owned();
            panic!("{desc} did not finish within {timeout:?}; stderr:\n{stderr}");
        }
        std::thread::sleep(Duration::from_millis(10));
    };
    Run {
        status,
        stdout: String::from_utf8_lossy(&out.join().unwrap_or_default()).into_owned(),
        stderr: String::from_utf8_lossy(&err.join().unwrap_or_default()).into_owned(),
    }
}

/// Runs a command on the host and returns its stdout; panics when it fails.
pub fn host(argv: &[&str]) -> String {
    let mut cmd = Command::new(argv[0]);
    cmd.args(&argv[1..]);
    run_timeout(&mut cmd, Duration::from_secs(30))
        .expect_ok(&argv.join(" "))
        .stdout
}

// ---------------------------------------------------------------------------------------
// Network namespace

static NS_COUNTER: AtomicU32 = AtomicU32::new(0);

/// A network namespace `bst-…` that lives as long as this guard. Drop kills the processes
/// left in it (`ip netns pids`) and deletes it.
#[derive(Debug)]
pub struct Netns {
    name: String,
}

impl Netns {
    pub fn create(test: &str) -> Result<Netns, String> {
        let nanos = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.subsec_nanos())
            .unwrap_or(0);
        let name = format!(
            "bst-{}-{}-{:05x}",
            std::process::id(),
            NS_COUNTER.fetch_add(1, Ordering::SeqCst),
            nanos & 0xfffff
        );
        let r = run_timeout(
            Command::new("ip").args(["netns", "add", &name]),
            Duration::from_secs(30),
        );
        if !r.ok() {
            return Err(format!("'ip netns add {name}' failed: {}", r.stderr.trim()));
        }
        let ns = Netns { name };
        let r = run_timeout(
            Command::new("ip").args(["-n", &ns.name, "link", "set", "lo", "up"]),
            Duration::from_secs(30),
        );
        if !r.ok() {
            return Err(format!(
                "'ip -n {} link set lo up' failed: {}",
                ns.name,
                r.stderr.trim()
            ));
        }
        let r = run_timeout(&mut ns.cmd(&["true"]), Duration::from_secs(30));
        if !r.ok() {
            return Err(format!(
                "'ip netns exec {} true' failed: {}",
                ns.name,
                r.stderr.trim()
            ));
        }
        eprintln!("{test}: namespace {}", ns.name);
        Ok(ns)
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    /// The namespace id bindscope uses: the inode of the namespace (`net:[INODE]`).
    pub fn id(&self) -> u64 {
        std::fs::metadata(format!("/run/netns/{}", self.name))
            .expect("stat /run/netns/NAME")
            .ino()
    }

    /// `ip netns exec NAME argv…`, not started.
    pub fn cmd(&self, argv: &[&str]) -> Command {
        let mut c = Command::new("ip");
        c.args(["netns", "exec", &self.name]).args(argv);
        c
    }

    /// Runs argv inside the namespace.
    pub fn run(&self, argv: &[&str]) -> Run {
        run_timeout(&mut self.cmd(argv), Duration::from_secs(60))
    }

    /// Runs argv inside the namespace and returns stdout; panics when it fails.
    pub fn sh(&self, argv: &[&str]) -> String {
        self.run(argv)
            .expect_ok(&format!("in {}: {}", self.name, argv.join(" ")))
            .stdout
    }

    /// `ip -n NAME args…`; panics when it fails.
    pub fn ip(&self, args: &[&str]) -> String {
        let mut argv = vec!["ip", "-n", &self.name];
        argv.extend_from_slice(args);
        host(&argv)
    }

    pub fn pids(&self) -> Vec<u32> {
        let r = run_timeout(
            Command::new("ip").args(["netns", "pids", &self.name]),
            Duration::from_secs(30),
        );
        r.stdout
            .split_whitespace()
            .filter_map(|p| p.parse().ok())
            .collect()
    }

    /// Runs a small Python program inside the namespace (as root) and returns its stdout.
    pub fn python(&self, code: &str) -> Run {
        self.run(&[&python(), "-c", code])
    }
}

impl Drop for Netns {
    fn drop(&mut self) {
        for _ in 0..50 {
            let pids = self.pids();
            if pids.is_empty() {
                break;
            }
            for pid in pids {
                let _ = Command::new("kill")
                    .args(["-9", &pid.to_string()])
                    .stderr(Stdio::null())
                    .status();
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = Command::new("ip")
            .args(["netns", "del", &self.name])
            .status();
    }
}

// ---------------------------------------------------------------------------------------
// sockmaker

/// A running sockmaker: the sockets of its spec exist while this lives. Drop closes its
/// stdin, which makes it kill every process it started and exit.
pub struct Sockmaker {
    child: Child,
    stdin: Option<ChildStdin>,
    lines: Receiver<String>,
    /// The JSON line it printed: `{"pid", "sockets": [...], "clients": [...]}`.
    pub report: Value,
    _spec: tempfile::NamedTempFile,
}

impl Sockmaker {
    /// Starts sockmaker inside `ns` and waits for its report; panics on any error.
    pub fn start(ns: &Netns, spec: &Value) -> Sockmaker {
        let mut file = tempfile::Builder::new()
            .prefix("bst-spec-")
            .suffix(".json")
            .tempfile()
            .expect("spec temp file");
        file.write_all(spec.to_string().as_bytes())
            .expect("write spec");
        file.flush().expect("flush spec");
        let spec_path = file.path().to_str().expect("utf-8 temp path").to_owned();
        let mut child = ns
            .cmd(&[&python(), SOCKMAKER, &spec_path])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("start sockmaker");
        let stdin = child.stdin.take();
        let stdout = child.stdout.take().expect("stdout piped");
        let (tx, lines) = mpsc::channel();
        std::thread::spawn(move || {
            use std::io::BufRead;
            for line in std::io::BufReader::new(stdout).lines() {
                match line {
                    Ok(l) => {
                        if tx.send(l).is_err() {
                            break;
                        }
                    }
                    Err(_) => break,
                }
            }
        });
        let mut sm = Sockmaker {
            child,
            stdin,
            lines,
            report: Value::Null,
            _spec: file,
        };
        let line = sm.next_line(Duration::from_secs(60));
        let report: Value = serde_json::from_str(&line).unwrap_or_else(|e| {
            panic!("sockmaker printed something that is not JSON ({e}): {line}")
        });
        if let Some(err) = report.get("error") {
            panic!("sockmaker could not build {spec}: {err}");
        }
        sm.report = report;
        sm
    }

    fn next_line(&mut self, timeout: Duration) -> String {
        match self.lines.recv_timeout(timeout) {
            Ok(l) => l,
            Err(e) => {
                let status = self.child.try_wait().ok().flatten();
                panic!("no line from sockmaker within {timeout:?} ({e}); exit status {status:?}")
            }
        }
    }

    /// The report of the socket called `name`.
    pub fn sock(&self, name: &str) -> &Value {
        self.report["sockets"]
            .as_array()
            .and_then(|a| a.iter().find(|s| s["name"] == name))
            .unwrap_or_else(|| panic!("sockmaker made no socket '{name}': {}", self.report))
    }

    pub fn inode(&self, name: &str) -> u64 {
        self.sock(name)["inode"].as_u64().expect("inode")
    }

    pub fn port(&self, name: &str) -> u16 {
        self.sock(name)["port"].as_u64().expect("port") as u16
    }

    /// Every process holding `name` closes it; returns once they have.
    pub fn close(&mut self, name: &str) {
        let stdin = self.stdin.as_mut().expect("sockmaker stdin");
        writeln!(stdin, "close {name}").expect("write to sockmaker");
        stdin.flush().expect("flush sockmaker stdin");
        let line = self.next_line(Duration::from_secs(30));
        let reply: Value = serde_json::from_str(&line).expect("sockmaker reply is JSON");
        assert_eq!(
            reply["closed"], name,
            "sockmaker could not close {name}: {line}"
        );
    }
}

impl Drop for Sockmaker {
    fn drop(&mut self) {
        stop_child(&mut self.child, self.stdin.take());
    }
}

// ---------------------------------------------------------------------------------------
// bindscope

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RunAs {
    Root,
    /// uid/gid 65534 with no supplementary groups, through `setpriv`.
    Nobody,
}

/// A copy of the binary that nobody can read and run: the build directory may not be
/// reachable for other users. Lives as long as the returned guard.
pub struct BinCopy {
    _dir: tempfile::TempDir,
    pub path: PathBuf,
}

pub fn world_readable_binary() -> BinCopy {
    let dir = tempfile::Builder::new()
        .prefix("bst-bin-")
        .tempdir()
        .expect("temp dir for the binary");
    std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755))
        .expect("chmod 0755 temp dir");
    let path = dir.path().join("bindscope");
    // Copied by another process: a file this process held open for writing would be
    // inherited by the children other test threads fork meanwhile, and running it would fail
    // with ETXTBSY until each of them had exec'd.
    let copied = Command::new("install")
        .args(["-m", "0755", BINDSCOPE])
        .arg(&path)
        .status()
        .expect("run install");
    assert!(copied.success(), "install {BINDSCOPE} {}", path.display());
    BinCopy { _dir: dir, path }
}

/// Runs `bindscope args…` inside `ns`.
pub fn bindscope(ns: &Netns, args: &[&str], as_user: RunAs) -> Run {
    match as_user {
        RunAs::Root => {
            let mut argv = vec![BINDSCOPE];
            argv.extend_from_slice(args);
            run_timeout(&mut ns.cmd(&argv), RUN_TIMEOUT)
        }
        RunAs::Nobody => as_nobody(ns, &world_readable_binary().path, args),
    }
}

/// `bin args…` as nobody (uid and gid 65534, no supplementary groups, through `setpriv`)
/// inside `ns`, with HOME=/ (no config file of root's).
pub fn as_nobody(ns: &Netns, bin: &Path, args: &[&str]) -> Run {
    let bin = bin.to_str().expect("utf-8 path");
    let uid = format!("--reuid={NOBODY}");
    let gid = format!("--regid={NOBODY}");
    let mut argv = vec!["setpriv", &uid, &gid, "--clear-groups", "--", bin];
    argv.extend_from_slice(args);
    let mut cmd = ns.cmd(&argv);
    cmd.env("HOME", "/");
    run_timeout(&mut cmd, RUN_TIMEOUT)
}

/// `bindscope snapshot --format json --netns current [--all]` as root in `ns`: must exit 0
/// with JSON. Only the test's own namespace: the tests compare it with `ss` run there.
pub fn snapshot(ns: &Netns, all: bool) -> Value {
    let mut args = vec!["snapshot", "--format", "json", "--netns", "current"];
    if all {
        args.push("--all");
    }
    let run = bindscope(ns, &args, RunAs::Root).expect_ok("bindscope snapshot");
    run.json()
}

// ---------------------------------------------------------------------------------------
// Reading a snapshot

pub fn sockets(snap: &Value) -> &Vec<Value> {
    snap["sockets"]
        .as_array()
        .unwrap_or_else(|| panic!("snapshot has no 'sockets' array: {snap}"))
}

/// A one-line description of a snapshot socket, for failure messages.
pub fn brief(s: &Value) -> String {
    format!(
        "{} {} {}:{} state={} uid={} inode={} holders={}",
        s["proto"],
        s["family"],
        s["local_addr"],
        s["local_port"],
        s["state"],
        s["uid"],
        s["inode"],
        s["holders"]
    )
}

pub fn list(snap: &Value) -> String {
    sockets(snap)
        .iter()
        .map(brief)
        .collect::<Vec<_>>()
        .join("\n  ")
}

/// The snapshot socket with this inode; panics with the socket list when there is none.
pub fn by_inode(snap: &Value, inode: u64) -> &Value {
    let found: Vec<&Value> = sockets(snap)
        .iter()
        .filter(|s| s["inode"].as_u64() == Some(inode))
        .collect();
    assert_eq!(
        found.len(),
        1,
        "expected exactly one socket with inode {inode}, got {}; sockets:\n  {}",
        found.len(),
        list(snap)
    );
    found[0]
}

/// The snapshot sockets on this local port.
pub fn on_port(snap: &Value, port: u16) -> Vec<&Value> {
    sockets(snap)
        .iter()
        .filter(|s| s["local_port"].as_u64() == Some(port as u64))
        .collect()
}

/// (pid, fd, effective uid) of every holder.
pub fn holders(s: &Value) -> BTreeSet<(u64, u64, u64)> {
    s["holders"]
        .as_array()
        .unwrap_or_else(|| panic!("socket has no 'holders' array: {s}"))
        .iter()
        .map(|h| {
            (
                h["pid"].as_u64().expect("holder pid"),
                h["fd"].as_u64().expect("holder fd"),
                h["uid"].as_u64().expect("holder uid"),
            )
        })
        .collect()
}

/// The user name of a uid from the passwd database, as bindscope should print it.
pub fn user_name(uid: u64) -> Value {
    match uzers::get_user_by_uid(uid as u32) {
        Some(u) => Value::String(u.name().to_string_lossy().into_owned()),
        None => Value::Null,
    }
}

pub const BOOL_OPTIONS: [&str; 6] = [
    "reuseaddr",
    "reuseport",
    "v6only",
    "freebind",
    "transparent",
    "nonblocking",
];
pub const INT_OPTIONS: [&str; 2] = ["defer_accept", "fastopen"];

/// "Unknown is not false": every option that is null carries a reason.
pub fn assert_nulls_explained(s: &Value) {
    let opts = &s["options"];
    assert!(opts.is_object(), "socket without options: {}", brief(s));
    for key in BOOL_OPTIONS.iter().chain(INT_OPTIONS.iter()) {
        assert!(
            opts.get(*key).is_some(),
            "options.{key} is missing (must be present, null if unknown): {}",
            brief(s)
        );
        if opts[*key].is_null() {
            let reason = opts["reasons"][*key].as_str().unwrap_or("");
            assert!(
                !reason.trim().is_empty(),
                "options.{key} is null without a reason in options.reasons: {} options={}",
                brief(s),
                opts
            );
        }
    }
}

/// Checks everything that sockmaker knows about `made` (one entry of its report) against the
/// snapshot socket `s`, read by root: addresses, uid, inode, cookie, namespace, holders and
/// the options as the kernel reported them back to sockmaker.
pub fn assert_made(s: &Value, made: &Value, ns: &Netns) {
    let ctx = format!("socket '{}' ({})", made["name"], brief(s));
    assert_eq!(s["proto"], made["proto"], "{ctx}: proto");
    let family = if made["family"] == 6 { "ipv6" } else { "ipv4" };
    assert_eq!(s["family"], family, "{ctx}: family");
    assert_eq!(s["local_addr"], made["addr"], "{ctx}: local_addr");
    assert_eq!(s["local_port"], made["port"], "{ctx}: local_port");
    assert_eq!(s["uid"], made["uid"], "{ctx}: uid (sk_uid of the creator)");
    assert_eq!(
        s["user"],
        user_name(made["uid"].as_u64().unwrap()),
        "{ctx}: user"
    );
    assert_eq!(s["inode"], made["inode"], "{ctx}: inode");
    assert_eq!(s["cookie"], made["cookie"], "{ctx}: cookie (SO_COOKIE)");
    assert_eq!(s["netns"], ns.id(), "{ctx}: netns id");
    let id = s["id"].as_str().unwrap_or("");
    assert!(!id.is_empty(), "{ctx}: empty id");

    // Holders: exactly the processes that sockmaker says hold it.
    let want: BTreeSet<(u64, u64, u64)> = made["holders"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| {
            (
                h["pid"].as_u64().unwrap(),
                h["fd"].as_u64().unwrap(),
                h["uid"].as_u64().unwrap(),
            )
        })
        .collect();
    assert_eq!(holders(s), want, "{ctx}: holders (pid, fd, uid)");
    for h in s["holders"].as_array().unwrap() {
        let m = made["holders"]
            .as_array()
            .unwrap()
            .iter()
            .find(|m| m["pid"] == h["pid"])
            .unwrap();
        assert_eq!(
            h["name"], m["comm"],
            "{ctx}: holder name of pid {}",
            h["pid"]
        );
        assert_eq!(
            h["ruid"], m["uid"],
            "{ctx}: holder ruid of pid {}",
            h["pid"]
        );
        assert_eq!(
            h["user"],
            user_name(m["uid"].as_u64().unwrap()),
            "{ctx}: holder user"
        );
        assert_eq!(
            h["netns"],
            ns.id(),
            "{ctx}: holder netns of pid {}",
            h["pid"]
        );
        let cmdline = h["cmdline"].as_array().expect("holder cmdline array");
        assert!(
            cmdline
                .iter()
                .any(|a| a.as_str().is_some_and(|a| a.ends_with("sockmaker.py"))),
            "{ctx}: holder cmdline {cmdline:?} does not name sockmaker.py"
        );
    }

    // Options: root can read every one of them; compare with what the kernel told sockmaker.
    assert_nulls_explained(s);
    let eff = &made["effective"];
    let opts = &s["options"];
    let listener = made["accept_queue"].is_object();
    for key in ["reuseaddr", "reuseport", "freebind", "transparent"] {
        assert_eq!(opts[key], eff[key], "{ctx}: options.{key}");
    }
    // O_NONBLOCK matters on a listening fd (the select/accept race); on other sockets
    // bindscope may leave it unread, with a reason.
    if listener || !opts["nonblocking"].is_null() {
        assert_eq!(
            opts["nonblocking"], eff["nonblocking"],
            "{ctx}: options.nonblocking"
        );
    }
    if made["family"] == 6 {
        assert_eq!(opts["v6only"], eff["v6only"], "{ctx}: options.v6only");
    }
    if made["proto"] == "tcp" {
        for key in INT_OPTIONS {
            // A bound-only socket may say "not applicable" (null with a reason).
            if listener || !opts[key].is_null() {
                assert_eq!(opts[key], eff[key], "{ctx}: options.{key}");
            }
        }
    }
    assert_eq!(
        opts["bind_device"], eff["bind_device"],
        "{ctx}: options.bind_device"
    );
    if listener {
        assert_eq!(s["state"], "listen", "{ctx}: state");
        assert_eq!(
            s["accept_queue"]["backlog"], made["accept_queue"]["backlog"],
            "{ctx}: accept_queue.backlog"
        );
    }
}

// ---------------------------------------------------------------------------------------
// ss

/// One line of `ss -H -tuanpe`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SsSocket {
    pub proto: String,
    pub state: String,
    pub recv_q: u64,
    pub send_q: u64,
    /// Canonical address text (`::` for ss's `*`), without brackets or device.
    pub addr: String,
    pub port: u16,
    pub device: Option<String>,
    pub uid: u64,
    pub inode: u64,
    pub pids: BTreeSet<u64>,
}

/// `addr[%dev]:port` as ss prints it: `127.0.0.1%lo:80`, `[::1]:80`, `*:80` (dual-stack `::`).
pub fn parse_ss_endpoint(text: &str) -> Option<(String, Option<String>, u16)> {
    let (host, port) = text.rsplit_once(':')?;
    let port = if port == "*" { 0 } else { port.parse().ok()? };
    let (host, dev) = match host.split_once('%') {
        Some((h, d)) => (h, Some(d.to_string())),
        None => (host, None),
    };
    let host = host.trim_start_matches('[').trim_end_matches(']');
    let host = if host == "*" { "::" } else { host };
    Some((host.to_string(), dev, port))
}

/// Parses `ss -H -tuanpe` (iproute2 6.1) output. ss omits `uid:` for uid 0.
pub fn parse_ss(text: &str) -> Vec<SsSocket> {
    let mut out = Vec::new();
    for line in text.lines() {
        let f: Vec<&str> = line.split_whitespace().collect();
        if f.len() < 6 || !(f[0] == "tcp" || f[0] == "udp") {
            continue;
        }
        let Some((addr, device, port)) = parse_ss_endpoint(f[4]) else {
            continue;
        };
        let mut s = SsSocket {
            proto: f[0].to_string(),
            state: f[1].to_string(),
            recv_q: f[2].parse().unwrap_or(0),
            send_q: f[3].parse().unwrap_or(0),
            addr,
            port,
            device,
            uid: 0,
            inode: 0,
            pids: BTreeSet::new(),
        };
        for tok in &f[6..] {
            if let Some(v) = tok.strip_prefix("uid:") {
                s.uid = v.parse().unwrap_or(0);
            } else if let Some(v) = tok.strip_prefix("ino:") {
                s.inode = v.parse().unwrap_or(0);
            }
        }
        let mut rest = line;
        while let Some(i) = rest.find("pid=") {
            rest = &rest[i + 4..];
            let digits: String = rest.chars().take_while(|c| c.is_ascii_digit()).collect();
            if let Ok(pid) = digits.parse() {
                s.pids.insert(pid);
            }
        }
        out.push(s);
    }
    out
}

/// `ss -H -tuanpe` inside `ns`.
pub fn ss(ns: &Netns) -> Vec<SsSocket> {
    parse_ss(&ns.sh(&["ss", "-H", "-tuanpe"]))
}

/// The number of SYN_RECV request sockets on local port `port`, as ss sees them.
/// Uses `ss -H -tn state syn-recv` (no `-p`: fast, for time-critical checks); its lines are
/// `Recv-Q Send-Q Local Peer`.
pub fn ss_syn_recv(ns: &Netns, port: u16) -> usize {
    ns.sh(&["ss", "-H", "-tn", "state", "syn-recv"])
        .lines()
        .filter_map(|l| l.split_whitespace().nth(2).and_then(parse_ss_endpoint))
        .filter(|(_, _, p)| *p == port)
        .count()
}

/// TCP listeners and unconnected UDP sockets of a root snapshot against ss in the same
/// namespace: the same sockets (by inode), each with the same address, port, device, uid and
/// holder pids. ss 6.1 cannot show bound-only TCP sockets, so those are left out.
pub fn assert_matches_ss(ns: &Netns, snap: &Value) {
    assert_matches_ss_lines(snap, ss(ns));
}

/// [`assert_matches_ss`] against ss output taken earlier (when the kernel state moves on).
pub fn assert_matches_ss_lines(snap: &Value, ss_lines: Vec<SsSocket>) {
    let ours: BTreeMap<u64, &Value> = sockets(snap)
        .iter()
        .filter(|s| {
            (s["proto"] == "tcp" && s["state"] == "listen")
                || (s["proto"] == "udp" && s["state"] == "close")
        })
        .map(|s| (s["inode"].as_u64().expect("inode"), s))
        .collect();
    let theirs: BTreeMap<u64, SsSocket> = ss_lines
        .into_iter()
        .filter(|s| {
            (s.proto == "tcp" && s.state == "LISTEN") || (s.proto == "udp" && s.state == "UNCONN")
        })
        .map(|s| (s.inode, s))
        .collect();
    let a: BTreeSet<u64> = ours.keys().copied().collect();
    let b: BTreeSet<u64> = theirs.keys().copied().collect();
    assert_eq!(
        a,
        b,
        "bindscope and ss list different listeners/UDP sockets (inodes)\nbindscope:\n  {}\nss:\n  {:?}",
        list(snap),
        theirs.values().collect::<Vec<_>>()
    );
    for (inode, s) in ours {
        let t = &theirs[&inode];
        let ctx = format!("inode {inode}: bindscope {} vs ss {t:?}", brief(s));
        assert_eq!(s["proto"], t.proto.as_str(), "{ctx}: proto");
        assert_eq!(s["local_addr"], t.addr.as_str(), "{ctx}: address");
        assert_eq!(s["local_port"], t.port, "{ctx}: port");
        assert_eq!(s["uid"], t.uid, "{ctx}: uid");
        assert_eq!(
            s["device"].as_str().map(str::to_string),
            t.device,
            "{ctx}: device"
        );
        let pids: BTreeSet<u64> = holders(s).into_iter().map(|(p, _, _)| p).collect();
        assert_eq!(pids, t.pids, "{ctx}: holder pids");
        if s["proto"] == "tcp" {
            assert_eq!(
                s["accept_queue"]["len"], t.recv_q,
                "{ctx}: accept queue vs Recv-Q"
            );
            assert_eq!(
                s["accept_queue"]["backlog"], t.send_q,
                "{ctx}: backlog vs Send-Q"
            );
        }
    }
}

/// Whether `pid` is a running process: a zombie (exited, not yet reaped by whichever
/// process inherited it) has ended.
pub fn running(pid: u32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat")).is_ok_and(|stat| {
        // The state follows the command name, which is in parentheses and may hold any byte.
        stat.rsplit_once(')')
            .and_then(|(_, rest)| rest.split_whitespace().next())
            .is_some_and(|state| !matches!(state, "Z" | "X"))
    })
}

/// Polls `f` until it is true or `timeout` passes.
pub fn wait_for(timeout: Duration, mut f: impl FnMut() -> bool) -> bool {
    let start = Instant::now();
    loop {
        if f() {
            return true;
        }
        if start.elapsed() > timeout {
            return false;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

// ---------------------------------------------------------------------------------------
// The JSON Schema of the snapshot file

/// A validator for `assets/snapshot.schema.json`, with formats (date-time, ip) checked.
pub fn schema_validator() -> jsonschema::Validator {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/assets/snapshot.schema.json");
    let text = std::fs::read_to_string(path)
        .unwrap_or_else(|e| panic!("cannot read the snapshot schema {path}: {e}"));
    let schema: Value =
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("{path} is not JSON: {e}"));
    jsonschema::options()
        .should_validate_formats(true)
        .build(&schema)
        .unwrap_or_else(|e| panic!("{path} is not a valid JSON Schema: {e}"))
}

/// Panics with every schema error (the first 20) when `doc` does not validate.
pub fn assert_schema_valid(v: &jsonschema::Validator, doc: &Value, what: &str) {
    let errors: Vec<String> = v
        .iter_errors(doc)
        .map(|e| format!("at '{}': {e}", e.instance_path()))
        .take(20)
        .collect();
    assert!(
        errors.is_empty(),
        "{what} does not match assets/snapshot.schema.json:\n  {}",
        errors.join("\n  ")
    );
}

/// Stops a helper process: closes its stdin (the helpers exit when it closes), waits up to
/// 10 s, then kills it.
pub fn stop_child(child: &mut Child, stdin: Option<ChildStdin>) {
    drop(stdin);
    let start = Instant::now();
    while start.elapsed() < Duration::from_secs(10) {
        if let Ok(Some(_)) = child.try_wait() {
            return;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    let _ = child.kill();
    let _ = child.wait();
}

/// tests/helpers/trickle.py running in `ns`; stopped (stdin closed, killed) on drop.
pub struct Trickle {
    pub child: Child,
    pub ready: Value,
}

impl Trickle {
    pub fn start(ns: &Netns, stuck: u16, served: u16) -> Trickle {
        let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/helpers/trickle.py");
        let mut child = ns
            .cmd(&["python3", script, &stuck.to_string(), &served.to_string()])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .expect("start trickle.py");
        let mut line = String::new();
        BufReader::new(child.stdout.take().expect("stdout"))
            .read_line(&mut line)
            .expect("read trickle.py");
        let ready: Value =
            serde_json::from_str(&line).unwrap_or_else(|e| panic!("trickle.py said {line:?}: {e}"));
        Trickle { child, ready }
    }

    pub fn inode(&self, which: &str) -> u64 {
        self.ready[which]["inode"].as_u64().expect("inode")
    }
}

impl Drop for Trickle {
    fn drop(&mut self) {
        let stdin = self.child.stdin.take();
        stop_child(&mut self.child, stdin);
    }
}

/// A Python helper from tests/helpers/ running in a namespace, talking JSON lines: stdout is
/// read by a thread, stdin stays open for commands. Drop closes stdin and, if the helper has
/// not exited within 10 s, kills it by its pid, which ends every thread of it. (A helper whose
/// main thread has exited is not in `ip netns pids`, so the namespace's cleanup alone would
/// miss it.)
pub struct Helper {
    child: Child,
    stdin: Option<ChildStdin>,
    lines: Receiver<String>,
    what: String,
}

impl Helper {
    /// Starts `python3 tests/helpers/SCRIPT args…` inside `ns`.
    pub fn start(ns: &Netns, script: &str, args: &[&str]) -> Helper {
        let path = format!("{}/tests/helpers/{script}", env!("CARGO_MANIFEST_DIR"));
        let mut argv = vec![python(), path];
        argv.extend(args.iter().map(|a| a.to_string()));
        let argv: Vec<&str> = argv.iter().map(String::as_str).collect();
        let what = argv.join(" ");
        let mut child = ns
            .cmd(&argv)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {what}: {e}"));
        let stdin = child.stdin.take();
        let stdout = child.stdout.take().expect("stdout piped");
        let (tx, lines) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        Helper {
            child,
            stdin,
            lines,
            what,
        }
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// The next line it prints, as JSON; panics after `timeout` or on a `{"error": …}`.
    pub fn next_json(&mut self, timeout: Duration) -> Value {
        let line = match self.lines.recv_timeout(timeout) {
            Ok(l) => l,
            Err(e) => {
                let status = self.child.try_wait().ok().flatten();
                panic!(
                    "no line from {} within {timeout:?} ({e}); exit status {status:?}",
                    self.what
                )
            }
        };
        let v: Value = serde_json::from_str(&line).unwrap_or_else(|e| {
            panic!(
                "{} printed something that is not JSON ({e}): {line}",
                self.what
            )
        });
        if let Some(err) = v.get("error") {
            panic!("{} failed: {err}", self.what);
        }
        v
    }

    /// Writes one command line to its stdin.
    pub fn send(&mut self, line: &str) {
        let stdin = self.stdin.as_mut().expect("helper stdin");
        writeln!(stdin, "{line}").expect("write to helper");
        stdin.flush().expect("flush helper stdin");
    }

    /// Sends one JSON request and returns its answer (see [`Helper::next_json`]).
    pub fn ask(&mut self, msg: &Value, timeout: Duration) -> Value {
        self.send(&msg.to_string());
        self.next_json(timeout)
    }

    /// Closes its stdin (the helpers finish and report when it closes).
    pub fn close_stdin(&mut self) {
        drop(self.stdin.take());
    }
}

impl Drop for Helper {
    fn drop(&mut self) {
        stop_child(&mut self.child, self.stdin.take());
    }
}
