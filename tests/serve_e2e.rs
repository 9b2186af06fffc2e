//! `bindscope serve` scraped by a real Prometheus server (Debian's `prometheus`), both
//! inside a throwaway network namespace with known listeners: the listener's queue series
//! has the value the kernel reports, the finding series exists for the port `bindscope
//! findings` names, a listener closed between scrapes disappears, and SIGTERM ends the
//! exporter with status 0. A second test makes collections fail and checks the last good
//! sample is served and the failures counted.
//!
//! Needs root, `ip`, python3 and `prometheus`; otherwise it prints why and passes as
//! skipped, unless `BINDSCOPE_REQUIRE_PRIVILEGED=1`. Run: `cargo test --test serve_e2e`.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::prometheus::*;
use common::*;
use serde_json::{Value, json};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

fn value(sample: &Value) -> f64 {
    sample["value"][1]
        .as_str()
        .and_then(|s| s.parse().ok())
        .unwrap_or(f64::NAN)
}

#[test]
fn prometheus_scrapes_the_exporter() {
    let Some(ns) = privileged("prometheus_scrapes_the_exporter") else {
        return;
    };
    let mut sm = Sockmaker::start(
        &ns,
        &json!({"sockets": [
            // Three clients connected, none accepted: an accept queue of 3.
            {"name": "busy", "proto": "tcp", "family": 4, "addr": "0.0.0.0", "port": 0,
             "listen": 8, "uid": 1001, "clients": 3},
            // Two users on one UDP port: a wildcard and a loopback bind (findings).
            {"name": "wild", "proto": "udp", "family": 4, "addr": "0.0.0.0", "port": 0,
             "options": {"reuseaddr": true}, "uid": 1001},
            {"name": "spy", "proto": "udp", "family": 4, "addr": "127.0.0.1", "port_of": "wild",
             "options": {"reuseaddr": true}, "uid": 1002},
            // Closed between scrapes.
            {"name": "gone", "proto": "tcp", "family": 4, "addr": "0.0.0.0", "port": 0,
             "listen": 4, "uid": 1001, "group": "other"},
        ]}),
    );
    let (busy, shared, gone) = (sm.port("busy"), sm.port("wild"), sm.port("gone"));
    let _exporter = start_exporter(&ns, &["-n", "current"]);

    // OpenMetrics on request, the classic text otherwise; nothing but /metrics and /.
    let (status, om) = get(
        &ns,
        &format!("http://{EXPORTER}/metrics"),
        Some("application/openmetrics-text;version=1.0.0"),
    );
    assert_eq!(status, 200);
    assert!(om.ends_with("# EOF\n"), "{om}");
    assert_eq!(
        get(&ns, &format!("http://{EXPORTER}/../../etc/passwd"), None).0,
        404
    );
    assert_eq!(get(&ns, &format!("http://{EXPORTER}/"), None).0, 200);

    let dir = tempfile::tempdir().expect("temp dir");
    let _prom = start_prometheus(
        &ns,
        &format!(
            "global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\n\
             scrape_configs:\n  - job_name: bindscope\n    static_configs:\n      - targets: ['{EXPORTER}']\n"
        ),
        dir.path(),
    );

    // Two scrapes, both up.
    assert!(
        wait_for(Duration::from_secs(60), || {
            query(&ns, "count_over_time(up{job=\"bindscope\"}[1m])")
                .first()
                .is_some_and(|s| value(s) >= 2.0)
        }),
        "Prometheus did not scrape the exporter twice"
    );
    let up = query(&ns, "up{job=\"bindscope\"}");
    assert_eq!(up.first().map(value), Some(1.0), "{up:?}");

    // The queue the kernel holds (ss agrees: sockmaker's clients are never accepted).
    let q = query(
        &ns,
        &format!("bindscope_listener_accept_queue_length{{port=\"{busy}\"}}"),
    );
    assert_eq!(q.len(), 1, "{q:?}");
    assert_eq!(value(&q[0]), 3.0, "{q:?}");
    assert_eq!(
        q[0]["metric"]["user"],
        user_name(1001).as_str().unwrap_or("1001")
    );
    let backlog = query(
        &ns,
        &format!("bindscope_listener_accept_queue_backlog{{port=\"{busy}\"}}"),
    );
    assert_eq!(backlog.first().map(value), Some(8.0), "{backlog:?}");

    // The finding series name the port `bindscope findings` names, with the same kinds.
    let findings = ns.run(&[
        BINDSCOPE,
        "findings",
        "-n",
        "current",
        "--min-severity",
        "info",
        "-f",
        "json",
    ]);
    let findings: Value = serde_json::from_str(&findings.stdout).expect("findings JSON");
    let mut want: Vec<String> = findings["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .filter(|f| {
            // "tcp port P: …" or "udp 0.0.0.0:P has …" (ephemeral ports are all 5 digits)
            f["summary"].as_str().is_some_and(|s| {
                s.contains(&format!("port {shared}")) || s.contains(&format!(":{shared}"))
            })
        })
        .map(|f| f["kind"].as_str().unwrap_or("").to_string())
        .collect();
    want.sort();
    want.dedup();
    assert!(
        !want.is_empty(),
        "bindscope findings names nothing on port {shared}: {findings}"
    );
    let mut got: Vec<String> = Vec::new();
    assert!(
        wait_for(Duration::from_secs(20), || {
            got = query(&ns, &format!("bindscope_finding{{port=\"{shared}\"}}"))
                .iter()
                .map(|s| s["metric"]["kind"].as_str().unwrap_or("").to_string())
                .collect();
            got.sort();
            got.dedup();
            got == want
        }),
        "finding series {got:?}, bindscope findings {want:?}"
    );

    // A listener closed between scrapes leaves the next scrape, and the query.
    let gone_q = format!("bindscope_listener_accept_queue_length{{port=\"{gone}\"}}");
    assert_eq!(query(&ns, &gone_q).len(), 1);
    sm.close("gone");
    assert!(
        wait_for(Duration::from_secs(20), || query(&ns, &gone_q).is_empty()),
        "the closed listener's series is still there"
    );
    assert_eq!(
        query(&ns, "bindscope_collection_errors_total")
            .first()
            .map(value),
        Some(0.0)
    );
}

#[test]
fn sigterm_ends_the_exporter_cleanly() {
    let Some(ns) = privileged("sigterm_ends_the_exporter_cleanly") else {
        return;
    };
    let mut exporter = start_exporter(&ns, &["-n", "current"]);
    let pid = exporter.0.id().to_string();
    // SIGHUP is ignored: still serving after it.
    assert!(
        Command::new("kill")
            .args(["-HUP", &pid])
            .status()
            .expect("kill")
            .success()
    );
    std::thread::sleep(Duration::from_millis(500));
    assert_eq!(
        exporter.0.try_wait().ok().flatten(),
        None,
        "SIGHUP stopped it"
    );
    assert_eq!(get(&ns, &format!("http://{EXPORTER}/metrics"), None).0, 200);
    // `ip netns exec` execs the program: the child's pid is bindscope's.
    let status = Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .expect("kill");
    assert!(status.success());
    let mut code = None;
    assert!(wait_for(Duration::from_secs(10), || {
        code = exporter.0.try_wait().ok().flatten();
        code.is_some()
    }));
    assert_eq!(code.and_then(|c| c.code()), Some(0), "{code:?}");
}

/// The namespace it serves loses its name: once the collector's namespace list is renewed
/// every collection fails ("no network namespace matches"); /metrics keeps answering with
/// the last good sample, whose time stops moving, and the failures are counted.
#[test]
fn a_failed_collection_keeps_the_last_sample() {
    let Some(ns) = privileged("a_failed_collection_keeps_the_last_sample") else {
        return;
    };
    let Some(watched) = privileged("a_failed_collection_keeps_the_last_sample (watched)") else {
        return;
    };
    let sm = Sockmaker::start(
        &watched,
        &json!({"sockets": [{"name": "l", "proto": "tcp", "family": 4, "addr": "0.0.0.0",
                              "port": 0, "listen": 4, "uid": 1001}]}),
    );
    let port = sm.port("l");
    let _exporter = start_exporter(&ns, &["-n", watched.name()]);
    let metrics = || get(&ns, &format!("http://{EXPORTER}/metrics"), None);
    let (_, before) = metrics();
    assert!(
        before.contains(&format!("netns=\"{}\"", watched.name()))
            && before.contains(&format!("port=\"{port}\"")),
        "{before}"
    );
    let gauge = |text: &str, name: &str| -> Option<f64> {
        text.lines()
            .find_map(|l| l.strip_prefix(&format!("{name} ")))
            .and_then(|v| v.trim().parse().ok())
    };
    assert_eq!(
        gauge(&before, "bindscope_collection_errors_total"),
        Some(0.0)
    );
    // The name goes; the namespace lives on in sockmaker's processes.
    host(&["ip", "netns", "del", watched.name()]);
    let mut after = String::new();
    assert!(
        wait_for(Duration::from_secs(30), || {
            after = metrics().1;
            gauge(&after, "bindscope_collection_errors_total").is_some_and(|e| e >= 2.0)
        }),
        "no collection error counted: {after}"
    );
    // More failed collections (about one a second, later on a loaded machine).
    let errors = |text: &str| gauge(text, "bindscope_collection_errors_total");
    let mut later = String::new();
    assert!(
        wait_for(Duration::from_secs(30), || {
            let (status, text) = metrics();
            later = text;
            status == 200 && errors(&later) > errors(&after)
        }),
        "no further collection error counted: {later}"
    );
    let t = |text: &str| gauge(text, "bindscope_last_collection_success_timestamp_seconds");
    assert!(t(&after).is_some());
    assert_eq!(
        t(&after),
        t(&later),
        "a failed collection replaced the sample"
    );
    assert_eq!(
        gauge(&later, "bindscope_snapshot_timestamp_seconds"),
        t(&later),
        "the families served are those of the last good sample"
    );
    drop(sm);
}

/// 50,000 sockets (bench/mksockets.py: 300 processes of four uids, 30 % listeners): the
/// exposition passes `promtool check metrics`, no per-socket family exceeds --max-series,
/// and `bindscope_series_omitted` counts exactly the listener series left out.
#[test]
fn fifty_thousand_sockets_stay_under_the_series_limit() {
    use std::io::{BufRead, BufReader, Write as _};
    let Some(ns) = privileged("fifty_thousand_sockets_stay_under_the_series_limit") else {
        return;
    };
    let promtool = which("promtool").unwrap_or_else(|| {
        panic!("no 'promtool' on PATH: install the Debian package 'prometheus'")
    });
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/bench/mksockets.py");
    let mut maker = ns
        .cmd(&[
            &python(),
            script,
            "--procs",
            "300",
            "--sockets",
            "50000",
            "--big",
            "10000",
        ])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("start mksockets");
    let stdin = maker.stdin.take();
    let mut ready = String::new();
    BufReader::new(maker.stdout.take().expect("stdout"))
        .read_line(&mut ready)
        .expect("mksockets READY line");
    assert!(ready.starts_with("READY "), "mksockets: {ready}");
    let _maker = scopeguard(maker, stdin);
    let limit = 2000;
    let _exporter = start_exporter(&ns, &["-n", "current", "--max-series", "2000"]);
    let (status, text) = get(&ns, &format!("http://{EXPORTER}/metrics"), None);
    assert_eq!(status, 200);
    let mut check = Command::new(promtool)
        .args(["check", "metrics"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("promtool");
    check
        .stdin
        .take()
        .expect("stdin")
        .write_all(text.as_bytes())
        .expect("write to promtool");
    let out = check.wait_with_output().expect("promtool");
    assert!(
        out.status.success(),
        "promtool: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let count = |name: &str| {
        text.lines()
            .filter(|l| l.starts_with(&format!("{name}{{")))
            .count()
    };
    for family in [
        "bindscope_listener_sockets",
        "bindscope_listener_accept_queue_length",
        "bindscope_finding",
    ] {
        assert!(count(family) <= limit, "{family}: {} series", count(family));
    }
    assert_eq!(count("bindscope_listener_sockets"), limit);
    // Every listening socket of the namespace is on its own address: the listener series
    // are the listening sockets, as ss counts them.
    let listening = ns.sh(&["ss", "-Htln"]).lines().count();
    let omitted = text
        .lines()
        .find_map(|l| l.strip_prefix("bindscope_series_omitted{family=\"bindscope_listener\"} "))
        .and_then(|v| v.trim().parse::<usize>().ok())
        .unwrap_or_else(|| panic!("no bindscope_series_omitted for listeners"));
    assert_eq!(
        omitted + limit,
        listening,
        "omitted {omitted}, ss counts {listening}"
    );
}

/// A child whose stdin is closed (its signal to stop) and which is then reaped, at the end
/// of the test or on failure.
fn scopeguard(child: Child, stdin: Option<std::process::ChildStdin>) -> impl Drop {
    struct G(Child, Option<std::process::ChildStdin>);
    impl Drop for G {
        fn drop(&mut self) {
            stop_child(&mut self.0, self.1.take());
        }
    }
    G(child, stdin)
}

/// Clients that hold connections open, silent or sending a byte now and then, get a 408
/// within the connection's 10 s, and a scrape arriving meanwhile waits in the kernel's
/// accept queue for a slot instead of being refused.
#[test]
fn slow_clients_cannot_hold_the_exporter() {
    let Some(ns) = privileged("slow_clients_cannot_hold_the_exporter") else {
        return;
    };
    let _exporter = start_exporter(&ns, &["-n", "current"]);
    let code = format!(
        r#"
import socket, threading, time, urllib.request, json
host, port = {EXPORTER:?}.split(":")
port = int(port)
out = {{"slow": [], "scrape": None}}
def slow(trickle):
    s = socket.create_connection((host, port))
    t0 = time.monotonic()
    s.settimeout(30)
    data = b""
    try:
        while True:
            if trickle:
                try:
                    s.send(b"G")
                except OSError:
                    pass
            try:
                chunk = s.recv(4096)
            except socket.timeout:
                chunk = b""
            if not chunk:
                break
            data += chunk
            if trickle:
                time.sleep(2)
    except OSError:
        pass
    out["slow"].append([round(time.monotonic() - t0, 1), data.split(b"\r\n")[0].decode(errors="replace")])
threads = [threading.Thread(target=slow, args=(i % 2 == 0,)) for i in range(10)]
for t in threads:
    t.start()
time.sleep(1)
t0 = time.monotonic()
with urllib.request.urlopen("http://{EXPORTER}/metrics", timeout=30) as r:
    out["scrape"] = [r.status, round(time.monotonic() - t0, 1)]
for t in threads:
    t.join()
print(json.dumps(out))
"#
    );
    let run = ns.python(&code).expect_ok("slow clients");
    let out: serde_json::Value = serde_json::from_str(run.stdout.trim()).expect("JSON");
    assert_eq!(out["scrape"][0], 200, "{out}");
    assert!(out["scrape"][1].as_f64().unwrap_or(99.0) < 30.0, "{out}");
    let slow = out["slow"].as_array().expect("slow");
    assert_eq!(slow.len(), 10, "{out}");
    for c in slow {
        let secs = c[0].as_f64().unwrap_or(99.0);
        assert!(
            secs < 26.0,
            "a slow client held its connection {secs} s: {out}"
        );
        let first = c[1].as_str().unwrap_or("");
        assert!(
            first.starts_with("HTTP/1.1 408") || first.starts_with("HTTP/1.1 400"),
            "{out}"
        );
    }
}
