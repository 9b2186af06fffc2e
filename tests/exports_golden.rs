//! The exports of the demo snapshot (`tests/fixtures/demo-snapshot.json`) compared byte for
//! byte with `tests/golden/demo.{csv,md,prom}`, and the Prometheus output of the demo and of
//! a hostile snapshot checked by `promtool check metrics`.
//!
//! After an intended change of an export, regenerate the golden files and review the diff:
//!
//! ```sh
//! UPDATE_GOLDEN=1 cargo test --test exports_golden
//! git diff tests/golden
//! ```
//!
//! The promtool test needs `/usr/bin/promtool` (Debian package `prometheus`); without it the
//! test fails rather than passing silently.

// A test may unwrap, expect and panic: that is the test failing (Cargo.toml denies them
// in the program).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use bindscope::export::{csv, markdown, prom};
use bindscope::model::Snapshot;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

type Export = fn(&mut dyn std::io::Write, &Snapshot) -> std::io::Result<()>;

fn demo() -> Snapshot {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/demo-snapshot.json");
    let text = std::fs::read_to_string(&path).expect("read the demo fixture");
    serde_json::from_str(&text).expect("the demo fixture is a snapshot")
}

fn export(f: Export, snap: &Snapshot) -> Vec<u8> {
    let mut out = Vec::new();
    f(&mut out, snap).expect("export to a Vec");
    out
}

fn golden_path(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/golden")
        .join(name)
}

/// Compares with the golden file, or rewrites it when `UPDATE_GOLDEN=1`.
fn check_golden(name: &str, f: Export) {
    let got = export(f, &demo());
    let path = golden_path(name);
    if std::env::var("UPDATE_GOLDEN").is_ok_and(|v| v == "1") {
        std::fs::write(&path, &got).expect("write the golden file");
        return;
    }
    let want = std::fs::read(&path).unwrap_or_else(|e| {
        panic!(
            "{}: {e}; run UPDATE_GOLDEN=1 cargo test --test exports_golden",
            path.display()
        )
    });
    if got != want {
        panic!(
            "{name} differs from {}; if the change is intended, run \
             UPDATE_GOLDEN=1 cargo test --test exports_golden and review the diff.\n\
             --- got ---\n{}",
            path.display(),
            String::from_utf8_lossy(&got)
        );
    }
}

#[test]
fn csv_matches_golden() {
    check_golden("demo.csv", csv::write);
}

#[test]
fn markdown_matches_golden() {
    check_golden("demo.md", markdown::write);
}

#[test]
fn prom_matches_golden() {
    check_golden("demo.prom", prom::write);
}

/// The demo with every name an attacker controls made hostile: quotes, backslashes,
/// newlines, escape sequences, bidi overrides, formula and Markdown starts.
fn hostile() -> Snapshot {
    const EVIL: &str = "a\"b\\c\nd\x1b[31m\u{202e}e|`f`=1+2 \\n\"";
    let mut snap = demo();
    snap.host.hostname = format!("# {EVIL}");
    snap.taken_at = format!("={EVIL}").into();
    snap.warnings.push(EVIL.to_string());
    for (i, n) in snap.netns.iter_mut().enumerate() {
        // Both namespaces get one name: their series must still be unique.
        n.name = Some(format!("ns{EVIL}"));
        n.error = (i == 1).then(|| EVIL.to_string());
    }
    for s in &mut snap.sockets {
        s.user = Some(format!("u{EVIL}").into());
        s.device = Some(format!("dev{EVIL}"));
        for h in &mut s.holders {
            h.name = format!("-{EVIL}").into();
            h.user = Some(format!("@{EVIL}").into());
            h.cmdline = vec![format!("+{EVIL}"), "\t\r".to_string()].into();
        }
    }
    for f in &mut snap.findings {
        f.kind = bindscope::model::FindingKind::Unknown(format!("k{EVIL}"));
        f.summary = format!("[x](http://evil) <b>{EVIL}</b>");
        f.explanation = format!("{EVIL}\n- {EVIL}\n# {EVIL}");
    }
    snap
}

/// `promtool check metrics` on the text; its complaints as the error.
fn promtool_check(text: &[u8]) -> Result<(), String> {
    let mut child = match Command::new("promtool")
        .args(["check", "metrics"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
    {
        Ok(child) => child,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            panic!("promtool not found: install the Debian package 'prometheus'")
        }
        Err(e) => panic!("running promtool: {e}"),
    };
    child
        .stdin
        .take()
        .expect("piped stdin")
        .write_all(text)
        .expect("write to promtool");
    let out = child.wait_with_output().expect("wait for promtool");
    if out.status.success() {
        Ok(())
    } else {
        Err(format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ))
    }
}

#[test]
fn promtool_accepts_the_demo_and_a_hostile_snapshot() {
    for (what, snap) in [("demo", demo()), ("hostile", hostile())] {
        let text = export(prom::write, &snap);
        if let Err(why) = promtool_check(&text) {
            panic!(
                "promtool rejects the {what} export:\n{why}\n--- export ---\n{}",
                String::from_utf8_lossy(&text)
            );
        }
    }
}

#[test]
fn hostile_snapshot_exports_stay_inert() {
    let snap = hostile();
    let csv_text = String::from_utf8(export(csv::write, &snap)).expect("utf-8");
    let mut reader = ::csv::ReaderBuilder::new().from_reader(csv_text.as_bytes());
    let width = reader.headers().expect("header").len();
    for record in reader.records() {
        let record = record.expect("valid csv");
        assert_eq!(record.len(), width);
        for cell in &record {
            assert!(
                !cell.starts_with(['=', '+', '-', '@', '\t', '\r']),
                "formula start: {cell:?}"
            );
            assert!(!cell.chars().any(char::is_control), "control: {cell:?}");
        }
    }
    let md = String::from_utf8(export(markdown::write, &snap)).expect("utf-8");
    assert!(!md.contains('\x1b') && !md.contains('\u{202e}'), "{md}");
    assert_eq!(md.matches('<').count(), md.matches("\\<").count(), "{md}");
    assert_eq!(md.matches("](").count(), md.matches("\\](").count(), "{md}");
    let rows: Vec<&str> = md.lines().filter(|l| l.starts_with('|')).collect();
    let cells = |l: &str| {
        l.replace("\\\\", "")
            .replace("\\|", "")
            .matches('|')
            .count()
    };
    assert!(rows.iter().all(|r| cells(r) == cells(rows[0])), "{md}");
    assert_eq!(
        md.lines().filter(|l| l.starts_with('#')).count(),
        md.lines()
            .filter(|l| l.starts_with("# bindscope") || l.starts_with("##"))
            .count(),
        "only our own headings: {md}"
    );
}
