//! bindscope handed to other users with file capabilities (the README's setcap recipe), and
//! the faults a chaos run found: files the user names are opened with the user's rights,
//! output never replaces what is not a regular file, inputs that would block are refused,
//! exports are readable by their consumers, signals give the shells' exit statuses.

// A test may unwrap, expect and panic: that is the test failing (Cargo.toml denies them
// in the program).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::*;
use serde_json::Value;
use std::os::unix::fs::{FileTypeExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const CAPS: &str = "cap_sys_ptrace,cap_dac_read_search,cap_sys_admin+ep";

/// A copy of the binary with the README's capabilities, runnable by nobody.
fn setcap_binary() -> BinCopy {
    let bin = world_readable_binary();
    let out = Command::new("setcap")
        .args([CAPS, bin.path.to_str().expect("utf-8")])
        .output()
        .expect("setcap (Debian package libcap2-bin)");
    assert!(
        out.status.success(),
        "setcap failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    bin
}

/// A directory everyone can enter, for files whose own mode is what the test is about.
fn open_dir() -> tempfile::TempDir {
    let dir = tempfile::Builder::new()
        .prefix("bst-safety-")
        .tempdir()
        .expect("tempdir");
    std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755)).expect("chmod");
    dir
}

fn write_mode(path: &Path, text: &str, mode: u32) {
    std::fs::write(path, text).expect("write");
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).expect("chmod");
}

/// The demo snapshot with a secret in every holder's cmdline.
fn recording_with(secret: &str) -> String {
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/demo-snapshot.json"
    ))
    .expect("fixture");
    let mut snap: Value = serde_json::from_str(&text).expect("fixture JSON");
    for s in snap["sockets"].as_array_mut().expect("sockets") {
        for h in s["holders"].as_array_mut().expect("holders") {
            h["cmdline"] = serde_json::json!(["/usr/sbin/daemon", format!("--password={secret}")]);
        }
    }
    serde_json::to_string(&snap).expect("JSON")
}

#[test]
fn with_capabilities_nobody_reads_no_root_only_file_but_still_sees_every_holder() {
    let Some(ns) = privileged("setcap_as_nobody") else {
        return;
    };
    let bin = setcap_binary();
    let dir = open_dir();
    let secret = "SECRET-7d1f";
    let config = dir.path().join("root-only.toml");
    write_mode(
        &config,
        &format!("[keys]\nquit = \"q\"\ndb_password = \"{secret}\"\n"),
        0o600,
    );
    let rec = dir.path().join("root-only.json");
    write_mode(&rec, &recording_with(secret), 0o600);
    let (config_s, rec_s) = (
        config.to_str().expect("utf-8"),
        rec.to_str().expect("utf-8"),
    );

    // Root itself reads them: the secrets are there to leak.
    let as_root = run_timeout(
        Command::new(BINDSCOPE).args(["diff", rec_s, rec_s]),
        RUN_TIMEOUT,
    );
    assert_eq!(as_root.status.code(), Some(0), "{}", as_root.stderr);

    for args in [
        vec!["--config", config_s],
        vec!["open", rec_s],
        vec!["open", "--config", config_s, rec_s],
        vec!["diff", rec_s, rec_s],
        vec!["diff", rec_s],
    ] {
        let run = as_nobody(&ns, &bin.path, &args);
        assert_eq!(run.status.code(), Some(2), "{args:?}: {run:?}");
        assert!(
            run.stderr.contains("Permission denied"),
            "{args:?} says permission denied: {}",
            run.stderr
        );
        let all = format!("{}{}", run.stdout, run.stderr);
        assert!(!all.contains(secret), "{args:?} revealed the file: {all}");
        assert!(
            !all.contains("db_password"),
            "{args:?} revealed a key: {all}"
        );
    }

    // -o into a directory only root may write: refused, nothing created. (These capabilities
    // grant no write past permissions, so this shows the behaviour a user gets; that the
    // write path drops rights a setuid install would have is output::write's unit test.)
    let private = tempfile::tempdir().expect("tempdir");
    std::fs::set_permissions(private.path(), std::fs::Permissions::from_mode(0o711))
        .expect("chmod");
    let target = private.path().join("out.json");
    let run = as_nobody(
        &ns,
        &bin.path,
        &[
            "snapshot",
            "--netns",
            "current",
            "-o",
            target.to_str().expect("utf-8"),
        ],
    );
    assert_eq!(run.status.code(), Some(2), "{run:?}");
    assert!(run.stderr.contains("Permission denied"), "{}", run.stderr);
    assert_eq!(std::fs::read_dir(private.path()).expect("ls").count(), 0);

    // The same binary, the same user: the collection keeps its capabilities, and reads
    // another user's holder and options.
    let sm = Sockmaker::start(
        &ns,
        &serde_json::json!({"sockets": [
            {"name": "svc", "proto": "tcp", "family": 4, "addr": "127.0.0.1", "port": 24811,
             "listen": 8, "uid": 1001, "options": {"reuseaddr": true}}
        ]}),
    );
    let run = as_nobody(
        &ns,
        &bin.path,
        &["snapshot", "-f", "json", "--netns", "current"],
    );
    assert!(run.ok(), "{run:?}");
    let snap = run.json();
    let s = by_inode(&snap, sm.inode("svc"));
    assert_eq!(s["options"]["reuseaddr"], Value::Bool(true), "{s}");
    let holder_uids: Vec<u64> = s["holders"]
        .as_array()
        .expect("holders")
        .iter()
        .filter_map(|h| h["uid"].as_u64())
        .collect();
    assert_eq!(holder_uids, vec![1001], "{s}");
}

#[test]
fn output_never_replaces_what_is_not_a_regular_file() {
    let Some(ns) = privileged("output_not_regular") else {
        return;
    };
    let dir = tempfile::tempdir().expect("tempdir");
    let fifo = dir.path().join("fifo");
    mkfifo(&fifo);
    // A character device of our own: the same device as /dev/null, so writing is harmless.
    let dev = dir.path().join("null");
    rustix::fs::mknodat(
        rustix::fs::CWD,
        &dev,
        rustix::fs::FileType::CharacterDevice,
        rustix::fs::Mode::from_raw_mode(0o666),
        rustix::fs::makedev(1, 3),
    )
    .expect("mknod");
    let fifo_s = fifo.to_str().expect("utf-8");
    let dev_s = dev.to_str().expect("utf-8");

    let run = bindscope(
        &ns,
        &["snapshot", "--netns", "current", "-o", fifo_s],
        RunAs::Root,
    );
    assert_eq!(run.status.code(), Some(2), "{run:?}");
    assert!(run.stderr.contains("is a FIFO"), "{}", run.stderr);
    assert!(file_type(&fifo).is_fifo(), "the FIFO is still a FIFO");

    let run = bindscope(
        &ns,
        &["snapshot", "--netns", "current", "-o", dev_s],
        RunAs::Root,
    );
    assert!(run.ok(), "{run:?}");
    assert!(
        file_type(&dev).is_char_device(),
        "the device is still a device"
    );

    // record: the same rules.
    let run = bindscope(
        &ns,
        &[
            "record",
            "--netns",
            "current",
            "--samples",
            "1",
            "-o",
            fifo_s,
        ],
        RunAs::Root,
    );
    assert_eq!(run.status.code(), Some(2), "{run:?}");
    assert!(file_type(&fifo).is_fifo());
}

#[test]
fn inputs_that_would_block_are_refused_at_once() {
    let dir = tempfile::tempdir().expect("tempdir");
    let fifo = dir.path().join("fifo");
    mkfifo(&fifo);
    let fifo_s = fifo.to_str().expect("utf-8");
    let snap = dir.path().join("a.json");
    std::fs::copy(
        concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/fixtures/demo-snapshot.json"
        ),
        &snap,
    )
    .expect("copy");
    let snap_s = snap.to_str().expect("utf-8");
    for args in [
        vec!["open", fifo_s],
        vec!["diff", snap_s, fifo_s],
        vec!["diff", fifo_s],
        vec!["--config", fifo_s],
    ] {
        let started = Instant::now();
        let run = run_timeout(Command::new(BINDSCOPE).args(&args), Duration::from_secs(20));
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "{args:?} blocked"
        );
        assert_eq!(run.status.code(), Some(2), "{args:?}: {run:?}");
        assert!(
            run.stderr
                .contains("is a FIFO (named pipe), not a regular file"),
            "{args:?}: {}",
            run.stderr
        );
    }
    // `-` is standard input, read whole.
    let run = run_timeout(
        Command::new("sh").args(["-c", &format!("{BINDSCOPE} diff - {snap_s} < {snap_s}")]),
        Duration::from_secs(20),
    );
    assert_eq!(run.status.code(), Some(0), "{run:?}");
    assert!(run.stdout.contains("no differences"), "{}", run.stdout);
}

#[test]
fn exports_are_readable_by_their_consumers_and_named_by_extension() {
    let Some(ns) = privileged("exports_by_extension") else {
        return;
    };
    let dir = open_dir();
    let path = |name: &str| dir.path().join(name);
    let out = |name: &str| path(name).to_str().expect("utf-8").to_owned();
    for (name, mode, starts) in [
        ("x.prom", 0o644, "# HELP"),
        ("x.csv", 0o600, "host,taken_at,"),
        ("x.md", 0o600, "# "),
        ("x.json", 0o600, "{\"format\":\"bindscope.snapshot\""),
        ("x.txt", 0o600, "PROTO"),
        ("x.noext", 0o600, "{\"format\":\"bindscope.snapshot\""),
    ] {
        let run = bindscope(
            &ns,
            &["snapshot", "--netns", "current", "-o", &out(name)],
            RunAs::Root,
        );
        assert!(run.ok(), "{name}: {run:?}");
        let text = std::fs::read_to_string(path(name)).expect("read");
        assert!(
            text.starts_with(starts),
            "{name} starts with {starts:?}: {text:.200}"
        );
        let got = std::fs::metadata(path(name))
            .expect("stat")
            .permissions()
            .mode()
            & 0o777;
        assert_eq!(got, mode, "{name}: mode {got:o}");
    }
    // node_exporter's textfile collector runs as its own user: it can read the .prom file.
    let cat = Command::new("setpriv")
        .args([
            &format!("--reuid={NOBODY}"),
            &format!("--regid={NOBODY}"),
            "--clear-groups",
            "cat",
            &out("x.prom"),
        ])
        .output()
        .expect("setpriv cat");
    assert!(
        cat.status.success(),
        "{}",
        String::from_utf8_lossy(&cat.stderr)
    );
    assert!(String::from_utf8_lossy(&cat.stdout).contains("bindscope_"));
    // -f wins over the extension; --mode over the format's mode; -o - is stdout.
    let run = bindscope(
        &ns,
        &[
            "snapshot",
            "--netns",
            "current",
            "-f",
            "prom",
            "--mode",
            "0640",
            "-o",
            &out("y.json"),
        ],
        RunAs::Root,
    );
    assert!(run.ok(), "{run:?}");
    assert!(
        std::fs::read_to_string(path("y.json"))
            .expect("read")
            .starts_with("# HELP")
    );
    let got = std::fs::metadata(path("y.json"))
        .expect("stat")
        .permissions()
        .mode()
        & 0o777;
    assert_eq!(got, 0o640);
    let run = bindscope(
        &ns,
        &["snapshot", "--netns", "current", "-o", "-"],
        RunAs::Root,
    );
    assert!(run.ok(), "{run:?}");
    assert_eq!(run.json()["format"], "bindscope.snapshot");
    assert!(!Path::new("-").exists(), "no file named '-'");
    // A flag of the dashboard before a command is an error, not ignored.
    let run = bindscope(&ns, &["-n", "nosuch", "snapshot"], RunAs::Root);
    assert_eq!(run.status.code(), Some(2), "{run:?}");
    assert!(run.stderr.contains("cannot be used with"), "{}", run.stderr);
}

#[test]
fn hostile_names_reach_stderr_escaped() {
    let Some(ns) = privileged("hostile_names") else {
        return;
    };
    // A namespace whose name writes the clipboard (OSC 52) and reverses text (bidi).
    let hostile = format!("bst-\u{1b}]52;c;aGk=\u{7}\u{202e}-{}", std::process::id());
    let _named = NamedNetns::add(&hostile);
    let arg = "\u{1b}[2J\u{9b}31m\u{202e}";
    let run = run_timeout(
        Command::new(BINDSCOPE).args(["snapshot", "--netns", arg]),
        RUN_TIMEOUT,
    );
    drop(ns);
    assert_eq!(run.status.code(), Some(2), "{run:?}");
    assert!(
        run.stderr.contains("no network namespace matches"),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr.contains("\\x1b]52;c;aGk=\\x07\\u{202e}"),
        "the name, escaped: {}",
        run.stderr
    );
    assert!(
        run.stderr.contains("'\\x1b[2J\\x9b31m\\u{202e}'"),
        "the argument, escaped: {}",
        run.stderr
    );
    for bad in ['\u{1b}', '\u{7}', '\u{9b}', '\u{202e}'] {
        assert!(
            !run.stderr.contains(bad),
            "raw {bad:?} on stderr: {:?}",
            run.stderr
        );
    }
}

/// `ip netns add NAME`, deleted on drop.
struct NamedNetns(String);

impl NamedNetns {
    fn add(name: &str) -> NamedNetns {
        let out = Command::new("ip")
            .args(["netns", "add", name])
            .output()
            .expect("ip netns add");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        NamedNetns(name.to_owned())
    }
}

impl Drop for NamedNetns {
    fn drop(&mut self) {
        let _ = Command::new("ip")
            .args(["netns", "delete", &self.0])
            .stderr(Stdio::null())
            .status();
    }
}

#[test]
fn record_exits_with_the_shells_status_for_each_signal() {
    let Some(ns) = privileged("record_signals") else {
        return;
    };
    let dir = tempfile::tempdir().expect("tempdir");
    for (sig, status) in [
        (rustix::process::Signal::TERM, 143),
        (rustix::process::Signal::HUP, 129),
        (rustix::process::Signal::INT, 130),
    ] {
        let rec = dir.path().join(format!("{status}.jsonl"));
        let child = ns
            .cmd(&[
                BINDSCOPE,
                "record",
                "--netns",
                "current",
                "--interval",
                "200ms",
                "-o",
                rec.to_str().expect("utf-8"),
            ])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("record");
        let started = Instant::now();
        while std::fs::read_to_string(&rec).map_or(0, |t| t.lines().count()) < 2 {
            assert!(started.elapsed() < Duration::from_secs(20), "no samples");
            std::thread::sleep(Duration::from_millis(50));
        }
        // ip netns exec runs bindscope as its child: signal bindscope itself.
        let pid = child_of(child.id()).unwrap_or(child.id());
        let pid = rustix::process::Pid::from_raw(i32::try_from(pid).expect("pid")).expect("pid");
        rustix::process::kill_process(pid, sig).expect("kill");
        let out = child.wait_with_output().expect("wait");
        assert_eq!(
            out.status.code(),
            Some(status),
            "{sig:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(String::from_utf8_lossy(&out.stderr).contains("recorded"));
    }
}

/// The pid of `parent`'s only child, if it has one (`ip netns exec` may exec in place).
fn child_of(parent: u32) -> Option<u32> {
    let text = std::fs::read_to_string(format!("/proc/{parent}/task/{parent}/children")).ok()?;
    text.split_whitespace().next()?.parse().ok()
}

fn mkfifo(path: &PathBuf) {
    rustix::fs::mknodat(
        rustix::fs::CWD,
        path,
        rustix::fs::FileType::Fifo,
        rustix::fs::Mode::from_raw_mode(0o666),
        0,
    )
    .expect("mkfifo");
}

fn file_type(path: &Path) -> std::fs::FileType {
    std::fs::symlink_metadata(path).expect("stat").file_type()
}

/// Under any address-space limit, a run ends with its result or with exit status 2 and a
/// message: never Rust's abort (134) with a backtrace.
#[test]
fn out_of_memory_is_a_message_and_status_2() {
    let dir = tempfile::tempdir().expect("tempdir");
    let big = dir.path().join("big.json");
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/demo-snapshot.json"
    ))
    .expect("fixture");
    let mut snap: Value = serde_json::from_str(&text).expect("fixture JSON");
    let base = snap["sockets"].as_array().expect("sockets").clone();
    let mut many = Vec::new();
    for i in 0..400 {
        for s in &base {
            let mut s = s.clone();
            s["id"] = format!("{}-{i}", s["id"].as_str().expect("id")).into();
            many.push(s);
        }
    }
    snap["sockets"] = many.into();
    std::fs::write(&big, serde_json::to_vec(&snap).expect("JSON")).expect("write");
    let big = big.to_str().expect("utf-8");
    let mut outcomes = Vec::new();
    for limit_mib in [24, 40, 64, 96, 160, 2048] {
        let run = run_timeout(
            Command::new("sh").args([
                "-c",
                &format!(
                    "ulimit -v {}; exec {BINDSCOPE} diff {big} {big}",
                    limit_mib * 1024
                ),
            ]),
            RUN_TIMEOUT,
        );
        let code = run.status.code();
        match code {
            Some(0) => assert!(run.stdout.contains("no differences"), "{run:?}"),
            Some(2) => assert!(
                run.stderr
                    .contains("bindscope: out of memory (could not allocate")
                    && run.stderr.contains("raise the memory limit"),
                "{limit_mib} MiB: {run:?}"
            ),
            // The dynamic loader itself may not fit under the smallest limits.
            Some(127) if limit_mib < 64 => {}
            _ => panic!("{limit_mib} MiB: exit {code:?}: {run:?}"),
        }
        outcomes.push(code);
    }
    assert!(
        outcomes.contains(&Some(2)),
        "some limit was too small: {outcomes:?}"
    );
    assert!(
        outcomes.contains(&Some(0)),
        "some limit was enough: {outcomes:?}"
    );
}

/// A process's command line with a bidi override, a C1 control and a zero-width space
/// reaches JSON output escaped (`\u202e`), never as the raw characters a terminal would act
/// on; the JSON still means the same text.
#[test]
fn json_escapes_what_a_terminal_would_act_on() {
    let Some(ns) = privileged("json_escapes") else {
        return;
    };
    let hostile = "evil\u{202e}gpj\u{9b}31m\u{200b}\u{2028}";
    let code = "import socket,sys\n\
                s=socket.socket(); s.bind(('127.0.0.1', 24907)); s.listen(4)\n\
                print('ready', flush=True); sys.stdin.read()";
    let mut child = ns
        .cmd(&[&python(), "-c", code, hostile])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("python");
    let mut line = String::new();
    std::io::BufRead::read_line(
        &mut std::io::BufReader::new(child.stdout.take().expect("stdout")),
        &mut line,
    )
    .expect("ready line");
    assert_eq!(line.trim(), "ready");
    let run = bindscope(
        &ns,
        &["snapshot", "-f", "json", "--netns", "current"],
        RunAs::Root,
    );
    let stdin = child.stdin.take();
    stop_child(&mut child, stdin);
    assert!(run.ok(), "{run:?}");
    for raw in ['\u{202e}', '\u{9b}', '\u{200b}', '\u{2028}'] {
        assert!(!run.stdout.contains(raw), "raw {raw:?} in the JSON");
    }
    assert!(
        run.stdout
            .contains("evil\\u202egpj\\u009b31m\\u200b\\u2028"),
        "escaped in the JSON"
    );
    let snap = run.json();
    let cmdline = snap["sockets"]
        .as_array()
        .expect("sockets")
        .iter()
        .find(|s| s["local_port"] == 24907)
        .and_then(|s| s["holders"][0]["cmdline"].as_array().cloned())
        .expect("the listener with its holder");
    assert_eq!(
        cmdline.last().and_then(Value::as_str),
        Some(hostile),
        "the same text"
    );
}

/// `record` waits one interval before reading a new socket's options, unless the recording
/// has one sample: then it reads them at once, as `snapshot` does.
#[test]
fn a_one_sample_recording_reads_options_at_once() {
    let Some(ns) = privileged("one_sample_recording") else {
        return;
    };
    let sm = Sockmaker::start(
        &ns,
        &serde_json::json!({"sockets": [
            {"name": "svc", "proto": "tcp", "family": 4, "addr": "127.0.0.1", "port": 24821,
             "listen": 8, "uid": 1001, "options": {"reuseaddr": true}}
        ]}),
    );
    let dir = tempfile::tempdir().expect("tempdir");
    for (args, known) in [
        (vec!["--samples", "1"], true),
        (vec!["--duration", "100ms", "--interval", "1s"], true),
        (vec!["--samples", "2", "--interval", "100ms"], false),
    ] {
        let rec = dir.path().join(format!("{}.jsonl", args.join("")));
        let mut argv = vec![
            "record",
            "--netns",
            "current",
            "-o",
            rec.to_str().expect("utf-8"),
        ];
        argv.extend_from_slice(&args);
        let run = bindscope(&ns, &argv, RunAs::Root);
        assert!(run.ok(), "{args:?}: {run:?}");
        let text = std::fs::read_to_string(&rec).expect("recording");
        let first: Value =
            serde_json::from_str(text.lines().next().expect("a line")).expect("JSON");
        let s = by_inode(&first, sm.inode("svc"));
        let want = if known {
            Value::Bool(true)
        } else {
            Value::Null
        };
        assert_eq!(
            s["options"]["reuseaddr"], want,
            "{args:?}: first sample {s}"
        );
        if !known {
            let last: Value =
                serde_json::from_str(text.lines().last().expect("a line")).expect("JSON");
            assert_eq!(
                by_inode(&last, sm.inode("svc"))["options"]["reuseaddr"],
                true
            );
        }
    }
}
