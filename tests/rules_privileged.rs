//! `bindscope rules` against the real kernel: `rules tcp --verify` and `rules udp --verify`
//! measure every cell with real sockets of two uids and real traffic in a throwaway
//! namespace of their own, and no cell may differ from the prediction; the namespace is gone
//! afterwards, also after Ctrl-C; the Markdown table (for docs) is the same on every run and
//! equal to tests/golden/rules.md (`UPDATE_GOLDEN=1 cargo test --test rules_privileged`
//! rewrites it; review the diff).
//!
//! Needs root and `ip netns`; without them it prints why and passes as skipped, unless
//! `BINDSCOPE_REQUIRE_PRIVILEGED=1`.

// A test may unwrap, expect and panic: that is the test failing (Cargo.toml denies them
// in the program).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::*;
use serde_json::Value;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const GOLDEN: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/golden/rules.md");

/// The throwaway namespace a run named on stderr.
fn scratch_name(stderr: &str) -> String {
    stderr
        .lines()
        .find_map(|l| l.split("throwaway network namespace '").nth(1))
        .and_then(|rest| rest.split('\'').next())
        .unwrap_or_else(|| panic!("no namespace named in: {stderr}"))
        .to_string()
}

fn namespace_exists(name: &str) -> bool {
    std::path::Path::new("/run/netns").join(name).exists()
}

fn verify(proto: &str) {
    // The command makes and deletes its own namespace; the host's are never used, so it
    // runs here rather than inside the test's namespace (which only gates the privileges).
    let Some(_ns) = privileged(&format!("rules_{proto}_verify")) else {
        return;
    };
    let r = run_timeout(
        Command::new(BINDSCOPE).args(["rules", proto, "--verify", "--format", "json"]),
        RUN_TIMEOUT,
    );
    let name = scratch_name(&r.stderr);
    assert!(!namespace_exists(&name), "{name} was left behind");
    let doc: Value = serde_json::from_str(&r.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}\n{}", r.stdout, r.stderr));
    assert_eq!(doc["verified"], true);
    let cells = doc["tables"][0]["cells"].as_array().expect("cells");
    let want = if proto == "tcp" { 144 } else { 72 };
    assert_eq!(cells.len(), want);
    let mut counts = std::collections::BTreeMap::<String, usize>::new();
    let mut differing = Vec::new();
    let mut kinds = std::collections::BTreeSet::new();
    for c in cells {
        let a = c["agreement"].as_str().expect("every cell measured");
        *counts.entry(a.to_string()).or_default() += 1;
        // Every cell agrees: neither a difference nor an uncertain prediction (in a fresh
        // namespace the whole bind history is known, so nothing is left open).
        if a != "agrees" {
            differing.push(c.to_string());
        }
        for dest in ["specific", "other"] {
            kinds.insert(c["measured"]["receivers"][dest]["kind"].to_string());
        }
    }
    eprintln!("rules {proto} --verify: {counts:?}");
    assert!(
        differing.is_empty(),
        "cells where the prediction is not exactly what the kernel did:\n{}",
        differing.join("\n")
    );
    assert_eq!(r.status.code(), Some(0), "{}", r.stderr);
    // The measurement saw every kind of outcome: a split, one socket, nobody.
    for k in ["\"split\"", "\"one\"", "\"nobody\""] {
        assert!(kinds.contains(k), "no cell measured {k}: {kinds:?}");
    }
}

#[test]
fn rules_tcp_verify_agrees_on_every_cell() {
    verify("tcp");
}

#[test]
fn rules_udp_verify_agrees_on_every_cell() {
    verify("udp");
}

#[test]
fn markdown_is_stable() {
    let Some(ns) = privileged("rules_markdown") else {
        return;
    };
    let once = bindscope(&ns, &["rules", "--format", "markdown"], RunAs::Root)
        .expect_ok("rules --format markdown")
        .stdout;
    let again = bindscope(&ns, &["rules", "--format", "markdown"], RunAs::Root)
        .expect_ok("rules --format markdown")
        .stdout;
    assert_eq!(once, again, "two runs differ");
    if std::env::var("UPDATE_GOLDEN").is_ok_and(|v| v == "1") {
        std::fs::write(GOLDEN, &once).expect("write the golden file");
        return;
    }
    let golden = std::fs::read_to_string(GOLDEN)
        .expect("tests/golden/rules.md; run UPDATE_GOLDEN=1 cargo test --test rules_privileged");
    assert_eq!(
        once, golden,
        "the table changed: run UPDATE_GOLDEN=1 cargo test --test rules_privileged and review the diff"
    );
}

#[test]
fn verify_needs_root() {
    let Some(ns) = privileged("rules_verify_nobody") else {
        return;
    };
    let r = bindscope(&ns, &["rules", "udp", "--verify"], RunAs::Nobody);
    assert_eq!(r.status.code(), Some(2), "{}", r.stderr);
    assert!(r.stderr.contains("--verify needs root"), "{}", r.stderr);
}

/// Ctrl-C during the measurement: exit 130, and the namespace is deleted.
#[test]
fn interrupted_verify_deletes_its_namespace() {
    let Some(_ns) = privileged("rules_verify_sigint") else {
        return;
    };
    let mut child = Command::new(BINDSCOPE)
        .args(["rules", "udp", "--verify"])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn bindscope");
    let stderr = child.stderr.take().expect("stderr");
    let mut lines = std::io::BufRead::lines(std::io::BufReader::new(stderr));
    let first = lines.next().expect("a line").expect("utf-8");
    let name = scratch_name(&first);
    assert!(
        namespace_exists(&name),
        "{name} should exist while measuring"
    );
    rustix::process::kill_process(
        rustix::process::Pid::from_child(&child),
        rustix::process::Signal::INT,
    )
    .expect("SIGINT");
    let deadline = Instant::now() + Duration::from_secs(30);
    let status = loop {
        if let Some(s) = child.try_wait().expect("wait") {
            break s;
        }
        assert!(
            Instant::now() < deadline,
            "bindscope did not stop on SIGINT"
        );
        std::thread::sleep(Duration::from_millis(20));
    };
    let rest: Vec<String> = lines.map_while(Result::ok).collect();
    assert_eq!(status.code(), Some(130), "{}", rest.join("\n"));
    assert!(!namespace_exists(&name), "{name} was left behind");
}
