//! Real-kernel tests of `bindscope findings`: queue growth judged over samples, exit codes,
//! and findings in the snapshot file. Each test makes its own network namespace.

// A test may unwrap, expect and panic: that is the test failing (Cargo.toml denies them
// in the program).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::*;
use serde_json::Value;

fn kinds_for(report: &Value, snap_sockets: &[Value], inode: u64) -> Vec<String> {
    let id = snap_sockets
        .iter()
        .find(|s| s["inode"] == inode)
        .and_then(|s| s["id"].as_str())
        .unwrap_or_else(|| panic!("no socket with inode {inode}"))
        .to_string();
    report["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .filter(|f| {
            f["sockets"]
                .as_array()
                .is_some_and(|a| a.iter().any(|s| s == id.as_str()))
        })
        .map(|f| f["kind"].as_str().unwrap_or_default().to_string())
        .collect()
}

#[test]
fn a_listener_that_never_accepts_is_growing_and_one_that_accepts_is_not() {
    let Some(ns) = privileged("a_listener_that_never_accepts_is_growing") else {
        return;
    };
    let t = Trickle::start(&ns, 24001, 24002);
    let run = bindscope(
        &ns,
        &[
            "findings",
            "--netns",
            "current",
            "--samples",
            "5",
            "--interval",
            "600ms",
            "--min-severity",
            "info",
            "--format",
            "json",
        ],
        RunAs::Root,
    );
    assert_eq!(
        run.status.code(),
        Some(1),
        "findings exist, so exit 1: {}\n{}",
        run.stdout,
        run.stderr
    );
    let report = run.json();
    assert_eq!(report["samples"], 5);
    let snap = snapshot(&ns, false);
    let socks = sockets(&snap);
    let stuck = kinds_for(&report, socks, t.inode("stuck"));
    let served = kinds_for(&report, socks, t.inode("served"));
    assert!(
        stuck
            .iter()
            .any(|k| k == "accept_queue_growing" || k == "accept_queue_full"),
        "the listener that never accepts is growing: {stuck:?}\n{}",
        serde_json::to_string_pretty(&report["findings"]).unwrap_or_default()
    );
    assert!(
        !served.iter().any(|k| k.starts_with("accept_queue")),
        "the listener that accepts is not: {served:?}"
    );
    let growing = report["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .find(|f| f["kind"] == "accept_queue_growing")
        .expect("a growing finding");
    assert_eq!(growing["severity"], "warning");
    assert!(
        growing["explanation"]
            .as_str()
            .is_some_and(|e| e.contains("python3")),
        "the explanation names the process: {growing}"
    );
}

#[test]
fn exit_status_follows_min_severity_and_snapshot_carries_findings() {
    let Some(ns) = privileged("exit_status_follows_min_severity") else {
        return;
    };
    // An IPv6-only listener (V6ONLY) on an unprivileged port: family_split at warning.
    let _sm = Sockmaker::start(
        &ns,
        &serde_json::json!({"sockets": [{
            "name": "six", "proto": "tcp", "family": 6, "addr": "::", "port": 24100,
            "options": {"v6only": true, "nonblocking": true}, "listen": 16, "uid": 1001
        }]}),
    );
    let args = |min: &'static str| -> Vec<&'static str> {
        vec!["findings", "--netns", "current", "--min-severity", min]
    };
    let warn = bindscope(&ns, &args("warning"), RunAs::Root);
    assert_eq!(
        warn.status.code(),
        Some(1),
        "{}\n{}",
        warn.stdout,
        warn.stderr
    );
    assert!(warn.stdout.contains("WARNING"), "{}", warn.stdout);
    assert!(warn.stdout.contains("[family_split]"), "{}", warn.stdout);
    let crit = bindscope(&ns, &args("critical"), RunAs::Root);
    assert_eq!(
        crit.status.code(),
        Some(0),
        "{}\n{}",
        crit.stdout,
        crit.stderr
    );
    assert!(
        crit.stdout.contains("Nothing at or above critical."),
        "{}",
        crit.stdout
    );
    let bad = bindscope(&ns, &["findings", "--netns", "nosuchns"], RunAs::Root);
    assert_eq!(
        bad.status.code(),
        Some(2),
        "an error exits 2: {}",
        bad.stderr
    );

    let snap = snapshot(&ns, false);
    let kinds: Vec<&str> = snap["findings"]
        .as_array()
        .expect("findings in the snapshot")
        .iter()
        .filter_map(|f| f["kind"].as_str())
        .collect();
    assert!(kinds.contains(&"family_split"), "{kinds:?}");
}

#[test]
fn can_bind_answers_from_the_snapshot_with_exit_codes() {
    let Some(ns) = privileged("can_bind_answers_from_the_snapshot") else {
        return;
    };
    let sm = Sockmaker::start(
        &ns,
        &serde_json::json!({"sockets": [{
            "name": "web", "proto": "tcp", "family": 4, "addr": "0.0.0.0", "port": 24200,
            "options": {"reuseport": true}, "listen": 16, "uid": 1001
        }]}),
    );
    let ask = |extra: &[&str]| {
        let mut args = vec!["can-bind", "--netns", "current", "-f", "json"];
        args.extend_from_slice(extra);
        bindscope(&ns, &args, RunAs::Root)
    };
    // Another user's reuseport listener refuses: EADDRINUSE, exit 1, the listener blocks.
    let run = ask(&["tcp", "127.0.0.1:24200", "--reuseport", "--user", "1002"]);
    assert_eq!(run.status.code(), Some(1), "{}\n{}", run.stdout, run.stderr);
    let v = run.json();
    assert_eq!(v["result"], "EADDRINUSE");
    assert_eq!(v["at"], "bind");
    let snap = snapshot(&ns, false);
    let web_id = sockets(&snap)
        .iter()
        .find(|s| s["inode"] == sm.inode("web"))
        .and_then(|s| s["id"].as_str())
        .expect("the listener's id")
        .to_string();
    assert_eq!(v["blockers"], serde_json::json!([web_id]));
    assert!(
        v["explanation"]
            .as_str()
            .is_some_and(|e| e.contains("same uid")),
        "{v}"
    );
    // The same uid with SO_REUSEPORT shares: ok, exit 0.
    let run = ask(&[
        "tcp",
        "127.0.0.1:24200",
        "--reuseport",
        "--user",
        "1001",
        "--listen",
    ]);
    assert_eq!(run.status.code(), Some(0), "{}\n{}", run.stdout, run.stderr);
    assert_eq!(run.json()["result"], "ok");
    // A privileged port for an ordinary user, an address on no interface, bad input.
    assert_eq!(
        ask(&["tcp", "[::1]:80", "--user", "1001"]).json()["result"],
        "EACCES"
    );
    assert_eq!(
        ask(&["udp", "192.0.2.9:5000"]).json()["result"],
        "EADDRNOTAVAIL"
    );
    let bad = ask(&["tcp", "::1:80"]);
    assert_eq!(
        bad.status.code(),
        Some(2),
        "IPv6 without brackets is an error: {}",
        bad.stderr
    );
    assert!(bad.stderr.contains("bracket"), "{}", bad.stderr);
    // A --netns glob that names two namespaces is refused, not answered for one of them.
    let _second = Netns::create("can_bind_second").expect("a second namespace");
    let glob = format!("bst-{}-*", std::process::id());
    let run = bindscope(
        &ns,
        &["can-bind", "--netns", &glob, "tcp", "127.0.0.1:24201"],
        RunAs::Root,
    );
    assert_eq!(run.status.code(), Some(2), "{}\n{}", run.stdout, run.stderr);
    assert!(
        run.stderr.contains("matches") && run.stderr.contains("name one"),
        "{}",
        run.stderr
    );
}
