//! The README's quick start, run as it is written: the three lines between the
//! `<!-- quickstart` markers, each given to `sh -c` unchanged.
//!
//! What the test adds around them, without touching their text: `cargo install` writes into
//! a temporary root (`CARGO_INSTALL_ROOT`) and builds in `target/quickstart`
//! (`CARGO_TARGET_DIR`: a directory of its own, since the running `cargo test` holds the
//! build lock of `target/`), and that root's `bin` goes first on `PATH`, as `~/.cargo/bin`
//! is for a rustup user. The other two lines run inside a throwaway network namespace
//! where a process named sshd listens on port 22 as root: `bindscope who :22` must name it
//! (and exit 0), and the dashboard, in tmux, must show it and quit on `q` with status 0.
//!
//! Needs root, `ip`, python3 and tmux, and builds bindscope in release mode once (a few
//! minutes the first time); without root it prints why and passes as skipped, unless
//! `BINDSCOPE_REQUIRE_PRIVILEGED=1`. Run: `cargo test --test readme_quickstart`.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::tmux::Tmux;
use common::*;
use std::path::Path;
use std::process::Command;
use std::time::Duration;

/// The quick start's command lines, as the README has them.
fn quickstart() -> Vec<String> {
    let readme = include_str!("../README.md");
    let start = readme
        .find("<!-- quickstart")
        .expect("README has a <!-- quickstart --> marker");
    let end = readme[start..]
        .find("<!-- /quickstart -->")
        .map(|e| start + e)
        .expect("README closes the quick start with <!-- /quickstart -->");
    let block = &readme[start..end];
    let body = block
        .split("```sh\n")
        .nth(1)
        .and_then(|b| b.split("```").next())
        .expect("the quick start is a ```sh block");
    body.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(str::to_owned)
        .collect()
}

#[test]
fn the_quick_start_is_three_lines_an_install_a_who_and_the_dashboard() {
    let lines = quickstart();
    assert_eq!(lines.len(), 3, "{lines:#?}");
    assert!(
        lines[0].starts_with("cargo install --locked --path . "),
        "{}",
        lines[0]
    );
    assert!(lines[1].starts_with("bindscope who "), "{}", lines[1]);
    assert!(lines[2].starts_with("bindscope "), "{}", lines[2]);
}

#[test]
fn the_quick_start_runs_as_written() {
    let Some(ns) = privileged("the_quick_start_runs_as_written") else {
        return;
    };
    if !tmux::available() {
        return;
    }
    let lines = quickstart();
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let install = tempfile::tempdir().expect("temp install root");
    let bin_dir = install.path().join("bin");
    let path = format!(
        "{}:{}",
        bin_dir.display(),
        std::env::var("PATH").unwrap_or_default()
    );

    // 1. cargo install, in the checkout, as a user types it.
    let run = run_timeout(
        Command::new("sh")
            .args(["-c", &lines[0]])
            .current_dir(root)
            .env("CARGO_INSTALL_ROOT", install.path())
            .env("CARGO_TARGET_DIR", root.join("target/quickstart"))
            .env("PATH", &path),
        Duration::from_secs(1800),
    );
    assert!(run.ok(), "{}: {}{}", lines[0], run.stdout, run.stderr);
    let installed = bin_dir.join("bindscope");
    assert!(installed.is_file(), "no {}", installed.display());

    // A root process called sshd on port 22 in the namespace: who must name it.
    let sm = Sockmaker::start(
        &ns,
        &serde_json::json!({"sockets": [
            {"name": "ssh", "proto": "tcp", "family": 4, "addr": "0.0.0.0", "port": 22,
             "listen": 128, "uid": 0, "comm": "sshd"}
        ]}),
    );
    let sshd = sm.sock("ssh")["pid"].as_u64().expect("pid");

    // 2. who.
    let who = run_timeout(
        ns.cmd(&["sh", "-c", &lines[1]]).env("PATH", &path),
        Duration::from_secs(120),
    );
    assert_eq!(
        who.status.code(),
        Some(0),
        "{}: {}{}",
        lines[1],
        who.stdout,
        who.stderr
    );
    let group = who
        .stdout
        .split("\n\n")
        .find(|g| g.starts_with(ns.name()))
        .unwrap_or_else(|| panic!("no group for {}: {}", ns.name(), who.stdout));
    assert!(
        group.contains("0.0.0.0:22") && group.contains(&format!("{sshd} sshd")),
        "{group}"
    );

    // 3. The dashboard, in a terminal: it shows the listener, and q quits with status 0.
    let session = format!("bst-quickstart-{}", std::process::id());
    let shell = format!(
        "env PATH={path} ip netns exec {} sh -c '{}'; echo EXIT=$?; sleep 60",
        ns.name(),
        lines[2].replace('\'', r"'\''")
    );
    let t = Tmux::start(&session, 160, 40, &shell);
    t.wait_for("sshd on port 22", |s| {
        s.contains(":22") && s.contains("sshd")
    });
    t.keys(&["q"]);
    t.wait_for("the exit status", |s| s.contains("EXIT=0"));
}
