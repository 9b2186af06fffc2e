//! `scripts/demo`, as a user runs it: `up` makes the README's demo (two namespaces, the
//! sockets of screenshots/demo-spec*.json as several uids) and leaves it running; the real
//! binary sees every socket there; `up` again changes nothing; `down` leaves no namespace
//! and no process behind, also after a partial `up`. Under its own namespace prefix and
//! state directory, so a demo a user has up is never touched.

// A test may unwrap, expect and panic: that is the test failing (Cargo.toml denies them
// in the program).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::*;
use serde_json::Value;
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;

const DEMO: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/scripts/demo");

/// `scripts/demo` with this test's prefix and state directory; `down` when dropped, so a
/// failing test leaves nothing behind either.
struct Demo {
    prefix: String,
    state: PathBuf,
}

impl Demo {
    fn run(&self, action: &str) -> (i32, String, String) {
        let out = Command::new(DEMO)
            .arg(action)
            .env("BINDSCOPE_DEMO_PREFIX", &self.prefix)
            .env("BINDSCOPE_DEMO_STATE", &self.state)
            .output()
            .expect("run scripts/demo");
        (
            out.status.code().unwrap_or(-1),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    }

    fn ok(&self, action: &str) -> String {
        let (code, out, err) = self.run(action);
        assert_eq!(code, 0, "demo {action}: {out}{err}");
        out
    }

    fn web(&self) -> String {
        format!("{}-web", self.prefix)
    }

    fn db(&self) -> String {
        format!("{}-db", self.prefix)
    }
}

impl Drop for Demo {
    fn drop(&mut self) {
        let _ = self.run("down");
    }
}

fn namespaces() -> BTreeSet<String> {
    host(&["ip", "netns", "list"])
        .lines()
        .filter_map(|l| l.split_whitespace().next())
        .map(str::to_string)
        .collect()
}

fn pids_in(ns: &str) -> Vec<u32> {
    host(&["ip", "netns", "pids", ns])
        .split_whitespace()
        .filter_map(|p| p.parse().ok())
        .collect()
}

/// The sockets of a spec file: (namespace, proto, address, port, uid).
fn expected(ns: &str, spec: &str) -> Vec<(String, String, String, u64, u64)> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(spec);
    let spec: Value =
        serde_json::from_str(&std::fs::read_to_string(path).expect("spec")).expect("spec JSON");
    spec["sockets"]
        .as_array()
        .expect("sockets")
        .iter()
        .map(|s| {
            (
                ns.to_string(),
                s["proto"].as_str().expect("proto").to_string(),
                s["addr"].as_str().expect("addr").to_string(),
                s["port"].as_u64().expect("port"),
                s["uid"].as_u64().expect("uid"),
            )
        })
        .collect()
}

#[test]
fn demo_up_makes_the_readme_sockets_and_down_removes_everything() {
    // The gate (root, ip, python3); the namespace it makes is not the demo's.
    let Some(_gate) = privileged("demo_up_and_down") else {
        return;
    };
    let tag = std::process::id();
    let demo = Demo {
        prefix: format!("bstdemo{tag}"),
        state: std::env::temp_dir().join(format!("bindscope-demo-test-{tag}")),
    };
    let (web, db) = (demo.web(), demo.db());

    let first = demo.ok("up");
    assert!(
        first.contains(&format!("made namespace {web}"))
            && first.contains(&format!("made namespace {db}"))
            && first.contains("down"),
        "up says what it made and how to remove it:\n{first}"
    );
    assert!(namespaces().contains(&web) && namespaces().contains(&db));
    // Idempotent: a second `up` makes nothing new.
    let again = demo.ok("up");
    assert!(
        again.contains(&format!("namespace {web} is up already")) && !again.contains("made"),
        "{again}"
    );
    assert!(demo.ok("status").contains(&format!("{web}: up")));

    // What the real binary sees in the two namespaces.
    let run = run_timeout(
        Command::new(BINDSCOPE).args(["snapshot", "-f", "json", "-n", &format!("{web},{db}")]),
        RUN_TIMEOUT,
    )
    .expect_ok("bindscope snapshot of the demo");
    let snap = run.json();
    let ns_name = |id: &Value| -> String {
        snap["netns"]
            .as_array()
            .expect("netns")
            .iter()
            .find(|n| &n["id"] == id)
            .map(|n| n["name"].as_str().unwrap_or_default().to_string())
            .unwrap_or_default()
    };
    let seen: BTreeSet<(String, String, String, u64, u64)> = sockets(&snap)
        .iter()
        .map(|s| {
            (
                ns_name(&s["netns"]),
                s["proto"].as_str().unwrap_or_default().to_string(),
                s["local_addr"].as_str().unwrap_or_default().to_string(),
                s["local_port"].as_u64().unwrap_or_default(),
                s["uid"].as_u64().unwrap_or(u64::MAX),
            )
        })
        .collect();
    let mut want = expected(&web, "screenshots/demo-spec.json");
    want.extend(expected(&db, "screenshots/demo-spec-db.json"));
    for w in &want {
        assert!(
            seen.contains(w),
            "{w:?} is missing; seen:\n  {}",
            list(&snap)
        );
    }
    assert_eq!(
        seen.len(),
        want.len(),
        "only the demo's sockets:\n  {}",
        list(&snap)
    );
    // Port 80 is held by root and, through a forked child, by www-data (uid 33).
    let port80 = on_port(&snap, 80);
    let holder_uids: BTreeSet<u64> = port80
        .iter()
        .flat_map(|s| s["holders"].as_array().into_iter().flatten())
        .filter_map(|h| h["uid"].as_u64())
        .collect();
    assert_eq!(holder_uids, BTreeSet::from([0, 33]), "{port80:?}");

    text_outputs_follow_the_locale(&web, &db);

    let pids: Vec<u32> = pids_in(&web).into_iter().chain(pids_in(&db)).collect();
    assert!(pids.len() >= 15, "the holders run: {pids:?}");
    let down = demo.ok("down");
    assert!(down.contains(&format!("removed namespace {web}")), "{down}");
    let left = namespaces();
    assert!(!left.contains(&web) && !left.contains(&db), "{left:?}");
    let alive: Vec<&u32> = pids.iter().filter(|&&p| common::running(p)).collect();
    assert!(alive.is_empty(), "processes left after down: {alive:?}");
    assert!(!demo.state.exists(), "the state directory is removed");
    assert_eq!(demo.run("status").0, 3, "status: not up");
    assert!(demo.ok("down").contains("nothing to remove"));

    // A partial demo (a namespace without its sockets): status says so, down removes it,
    // and up after one makes the whole demo.
    host(&["ip", "netns", "add", &db]);
    let (code, out, _) = demo.run("status");
    assert_eq!(code, 1, "partly up:\n{out}");
    assert!(
        out.contains(&format!("{db}: namespace without its sockets")),
        "{out}"
    );
    demo.ok("down");
    assert!(!namespaces().contains(&db));
    host(&["ip", "netns", "add", &web]);
    let up = demo.ok("up");
    assert!(up.contains(&format!("made namespace {web}")), "{up}");
    assert_eq!(demo.run("status").0, 0);
    demo.ok("down");
    let left = namespaces();
    assert!(!left.contains(&web) && !left.contains(&db), "{left:?}");
}

/// `bindscope ARGS`' stdout with the locale variables set to `locale` (`None`: all unset).
fn text_output(locale: Option<&str>, args: &[&str]) -> String {
    let mut cmd = Command::new(BINDSCOPE);
    cmd.args(args)
        .env_remove("LC_ALL")
        .env_remove("LC_CTYPE")
        .env_remove("LANG");
    if let Some(l) = locale {
        cmd.env("LANG", l);
    }
    let run = run_timeout(&mut cmd, RUN_TIMEOUT);
    // `findings` exits 1 when it finds something, as it does here.
    assert!(
        matches!(run.status.code(), Some(0 | 1)),
        "{args:?}: {}\n{}",
        run.status,
        run.stderr
    );
    run.stdout
}

/// The text outputs of the README's examples on the demo: under `LANG=C` (and a Latin-1
/// locale) nothing but ASCII, each glyph its stand-in; under a UTF-8 locale, and with no
/// locale variable at all, the same bytes with the glyphs.
fn text_outputs_follow_the_locale(web: &str, db: &str) {
    let both = format!("{web},{db}");
    let ports = ["ports", "--netns", web, "port:8080,8125"];
    let utf8 = text_output(Some("C.UTF-8"), &ports);
    assert!(utf8.contains(" \u{2192} "), "routes have arrows:\n{utf8}");
    assert_eq!(text_output(None, &ports), utf8, "no locale variable: UTF-8");
    let ascii = text_output(Some("C"), &ports);
    assert_eq!(ascii, bindscope::text::glyphs::to_ascii(&utf8), "LANG=C");
    assert!(
        ascii.contains("IPv4 to 127.0.0.1 > tcp 127.0.0.1:8080"),
        "{ascii}"
    );
    for args in [
        &["snapshot", "--netns", &both, "-f", "table"][..],
        &["findings", "--netns", &both][..],
    ] {
        let utf8 = text_output(Some("en_US.UTF-8"), args);
        let ascii = text_output(Some("en_US.ISO-8859-1"), args);
        assert!(
            utf8.contains(web) && ascii.contains(web),
            "{args:?}:\n{ascii}"
        );
        let bad: Vec<char> = ascii.chars().filter(|c| !c.is_ascii()).collect();
        assert!(bad.is_empty(), "{args:?}: {bad:?}\n{ascii}");
    }
    // JSON stays UTF-8 whatever the locale: it is data, not text for a terminal.
    let json = text_output(Some("C"), &["findings", "--netns", web, "-f", "json"]);
    assert!(
        json.contains('\u{2192}'),
        "the explanations keep their arrows"
    );
}
