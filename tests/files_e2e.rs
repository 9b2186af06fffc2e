//! Recordings end to end, with the real binary: `record` a namespace where one listener's
//! accept queue grows (it never accepts) and another's does not, then read the recording
//! back: the file is valid JSON Lines, `diff` sees the queue change, and `open` in a real
//! terminal finds the growth with the recorded history. Ctrl-C leaves a valid file.

// A test may unwrap, expect and panic: that is the test failing (Cargo.toml denies them
// in the program).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::tmux::{self, Tmux};
use common::*;
use serde_json::Value;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const STUCK: u16 = 24611;
const SERVED: u16 = 24612;

fn lines(path: &std::path::Path) -> Vec<Value> {
    let text = std::fs::read_to_string(path).expect("read the recording");
    assert!(text.ends_with('\n'), "every line is whole");
    text.lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("a line is JSON: {e}")))
        .collect()
}

#[test]
fn a_recording_shows_the_growth_when_opened() {
    let Some(ns) = privileged("a_recording_shows_the_growth") else {
        return;
    };
    if !tmux::available() {
        return;
    }
    let _t = Trickle::start(&ns, STUCK, SERVED);
    let dir = tempfile::tempdir().expect("tempdir");
    let rec = dir.path().join("rec.jsonl");
    let bin = env!("CARGO_BIN_EXE_bindscope");
    let out = ns
        .cmd(&[
            bin,
            "record",
            "-o",
            rec.to_str().expect("path"),
            "--interval",
            "400ms",
        ])
        .args(["--samples", "8", "--netns", "current"])
        .output()
        .expect("run record");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "record failed: {stderr}");
    assert!(stderr.contains("recorded 8 samples"), "{stderr}");
    let frames = lines(&rec);
    assert_eq!(frames.len(), 8);
    let schema = schema_validator();
    for (i, f) in frames.iter().enumerate() {
        assert_schema_valid(&schema, f, &format!("sample {i} of the recording"));
    }
    // The recorded findings are judged with the history so far: the last one has growth.
    let last = frames.last().expect("frames");
    let stuck_id = last["sockets"]
        .as_array()
        .expect("sockets")
        .iter()
        .find(|s| s["local_port"] == STUCK && s["state"] == "listen")
        .and_then(|s| s["id"].as_str())
        .expect("the stuck listener")
        .to_string();
    let grows = |f: &Value| {
        f["findings"].as_array().is_some_and(|a| {
            a.iter().any(|x| {
                x["kind"] == "accept_queue_growing"
                    && x["sockets"]
                        .as_array()
                        .is_some_and(|s| s.iter().any(|i| i == stuck_id.as_str()))
            })
        })
    };
    assert!(grows(last), "{}", last["findings"]);
    assert!(!grows(&frames[0]), "one sample shows no growth");

    // diff of the recording alone: first against last; the queue changed, exit 1.
    let d = Command::new(bin)
        .args(["diff", rec.to_str().expect("path"), "--format", "json"])
        .output()
        .expect("run diff");
    assert_eq!(
        d.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&d.stderr)
    );
    let diff: Value = serde_json::from_slice(&d.stdout).expect("diff json");
    assert_eq!(diff["format"], "bindscope.diff");
    let text = serde_json::to_string(&diff).expect("json");
    assert!(text.contains("accept_queue"), "{text}");

    // open, in a real terminal: the last sample, the growth found by the filter.
    let session = format!("bst-open-{}", std::process::id());
    let t = Tmux::start(
        &session,
        160,
        40,
        &format!("{bin} open {}; echo EXIT=$?; sleep 60", rec.display()),
    );
    t.wait_for("the last sample", |s| s.contains("[8/8]"));
    t.keys(&["/"]);
    t.keys(&["-l", "finding:growing"]);
    t.keys(&["Enter"]);
    let s = t.wait_for("the filter applied", |s| {
        s.contains("filter finding:growing") && s.contains("1/1 · sort")
    });
    assert!(
        s.contains(&format!("127.0.0.1:{STUCK}")),
        "the stuck one is growing:\n{s}"
    );
    assert!(
        !s.contains(&format!("127.0.0.1:{SERVED}")),
        "the served one is not growing:\n{s}"
    );
    // Back to the first sample: one sample, no history, no growth.
    t.keys(&["{"]);
    t.wait_for("the first sample without growth", |s| {
        s.contains("[1/8]") && !s.contains(&format!("127.0.0.1:{STUCK}"))
    });
    t.keys(&["q"]);
    let after = t.wait_for("bindscope to exit", |s| s.contains("EXIT="));
    assert!(after.contains("EXIT=0"), "{after}");
}

#[test]
fn ctrl_c_leaves_a_valid_recording_and_nothing_is_overwritten() {
    let Some(ns) = privileged("ctrl_c_leaves_a_valid_recording") else {
        return;
    };
    let dir = tempfile::tempdir().expect("tempdir");
    let rec = dir.path().join("rec.jsonl");
    let bin = env!("CARGO_BIN_EXE_bindscope");
    let child = ns
        .cmd(&[
            bin,
            "record",
            "-o",
            rec.to_str().expect("path"),
            "--interval",
            "200ms",
        ])
        .args(["--netns", "current"])
        .stderr(Stdio::piped())
        .spawn()
        .expect("start record");
    let start = Instant::now();
    while std::fs::read_to_string(&rec).map_or(0, |t| t.lines().count()) < 3 {
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "no samples written"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    // SIGINT, as Ctrl-C sends it.
    let pid = rustix::process::Pid::from_raw(i32::try_from(child.id()).expect("pid")).expect("pid");
    rustix::process::kill_process(pid, rustix::process::Signal::INT).expect("kill -INT");
    let out = child.wait_with_output().expect("wait");
    let stderr = String::from_utf8_lossy(&out.stderr);
    // 130 = 128 + SIGINT, as shells report a command that Ctrl-C stopped.
    assert_eq!(out.status.code(), Some(130), "after Ctrl-C: {stderr}");
    assert!(stderr.contains("recorded"), "{stderr}");
    let n = lines(&rec).len();
    assert!(n >= 3, "{n} samples");
    // The file opens (diff reads it whole) and is never overwritten without --force.
    let again = Command::new(bin)
        .args([
            "record",
            "-o",
            rec.to_str().expect("path"),
            "--samples",
            "1",
        ])
        .output()
        .expect("run record");
    assert_eq!(again.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&again.stderr).contains("--force"));
    assert_eq!(lines(&rec).len(), n, "the recording is untouched");
}
