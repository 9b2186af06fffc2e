//! The Debian package: `scripts/build-deb` builds it, and the test checks what a user would
//! get from `apt install ./bindscope_*.deb`: the control fields, every file in its place
//! (binary, man pages, completions, units, rules, dashboard, schemas, docs), the package
//! installed and removed with dpkg, in a throwaway root directory (`dpkg --root`, never the
//! host's), its files intact (`dpkg --verify`), the installed binary, man pages that troff
//! does not warn about, a completion script bash loads, and rules promtool accepts.
//!
//! Builds bindscope in release mode into `target/quickstart` (shared with
//! tests/readme_quickstart.rs). Needs dpkg, man-db and promtool (Debian: dpkg, man-db,
//! prometheus); a missing one is a failure. Run: `cargo test --test package_e2e`.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::*;
use std::path::Path;
use std::process::Command;
use std::time::Duration;

fn tool(name: &str, package: &str) {
    assert!(
        which(name).is_some(),
        "'{name}' is missing: install the Debian package '{package}'"
    );
}

fn sh(argv: &[&str]) -> Run {
    run_timeout(
        Command::new(argv[0]).args(&argv[1..]),
        Duration::from_secs(120),
    )
}

#[test]
fn the_debian_package_installs_what_it_says() {
    for (t, p) in [
        ("dpkg-deb", "dpkg"),
        ("man", "man-db"),
        ("promtool", "prometheus"),
        ("objdump", "binutils"),
    ] {
        tool(t, p);
    }
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let out = tempfile::tempdir().expect("temp dir");
    let build = run_timeout(
        Command::new(root.join("scripts/build-deb"))
            .arg(out.path())
            .current_dir(root)
            .env("CARGO_TARGET_DIR", root.join("target/quickstart")),
        Duration::from_secs(1800),
    )
    .expect_ok("scripts/build-deb");
    let deb = build.stdout.trim().to_string();
    assert!(Path::new(&deb).is_file(), "no package at {deb}");

    // Control fields.
    let field = |name: &str| {
        sh(&["dpkg-deb", "-f", &deb, name])
            .expect_ok("dpkg-deb -f")
            .stdout
            .trim()
            .to_string()
    };
    assert_eq!(field("Package"), "bindscope");
    assert_eq!(field("Version"), env!("CARGO_PKG_VERSION"));
    let arch = sh(&["dpkg", "--print-architecture"])
        .expect_ok("dpkg")
        .stdout;
    assert_eq!(field("Architecture"), arch.trim());
    let depends = field("Depends");
    // libc6 at the newest glibc symbol version the binary uses, and libgcc-s1 (libgcc_s).
    let mut libc = None;
    for dep in depends.split(", ") {
        match dep
            .strip_prefix("libc6 (>= ")
            .and_then(|v| v.strip_suffix(')'))
        {
            Some(v) => libc = Some(v),
            None => assert_eq!(dep, "libgcc-s1", "Depends: {depends}"),
        }
    }
    let libc = libc.unwrap_or_else(|| panic!("Depends: {depends}"));
    // The libc it asks for is one this machine, which built and runs it, has.
    let have = sh(&["dpkg-query", "-W", "-f", "${Version}", "libc6"])
        .expect_ok("dpkg-query libc6")
        .stdout;
    assert!(
        sh(&["dpkg", "--compare-versions", &have, "ge", libc]).ok(),
        "Depends {depends}, this machine has libc6 {have}"
    );

    // Installed into a throwaway root: dpkg's own database there, nothing of the host's.
    let dest = tempfile::tempdir().expect("temp root");
    let d = dest.path();
    for dir in ["var/lib/dpkg/info", "var/lib/dpkg/updates"] {
        std::fs::create_dir_all(d.join(dir)).expect("dpkg dirs");
    }
    std::fs::write(d.join("var/lib/dpkg/status"), "").expect("dpkg status");
    let root_arg = format!("--root={}", d.display());
    sh(&[
        "dpkg",
        &root_arg,
        "--force-not-root",
        // The maintainer scripts run here, not chrooted into the root (which has no /bin/sh);
        // dpkg sets DPKG_ROOT for them, which makes them leave systemd alone.
        "--force-script-chrootless",
        "--force-depends",
        "--log=/dev/null",
        "-i",
        &deb,
    ])
    .expect_ok("dpkg -i");
    let status = sh(&["dpkg", &root_arg, "-s", "bindscope"]).expect_ok("dpkg -s");
    assert!(
        status.stdout.contains("Status: install ok installed"),
        "{}",
        status.stdout
    );
    let verify = sh(&["dpkg", &root_arg, "--verify", "bindscope"]);
    assert!(
        verify.ok() && verify.stdout.trim().is_empty(),
        "dpkg --verify: {}{}",
        verify.stdout,
        verify.stderr
    );

    let bin = d.join("usr/bin/bindscope");
    let version = sh(&[bin.to_str().expect("utf-8"), "--version"]).expect_ok("--version");
    // The binary build-deb built (a commit made meanwhile would change the debug build's).
    let release = root.join("target/quickstart/release/bindscope");
    let built = sh(&[release.to_str().expect("utf-8"), "--version"]).expect_ok("--version");
    assert_eq!(
        version.stdout, built.stdout,
        "the package's binary is another build"
    );
    assert!(
        version
            .stdout
            .starts_with(&format!("bindscope {} (", env!("CARGO_PKG_VERSION"))),
        "{}",
        version.stdout
    );

    // Every page: the main one and one per command, none that troff warns about.
    let man1 = d.join("usr/share/man/man1");
    // The pages the binary itself writes are the pages shipped.
    sh(&[
        bin.to_str().expect("utf-8"),
        "man",
        "--out-dir",
        out.path().to_str().expect("utf-8"),
    ])
    .expect_ok("bindscope man --out-dir");
    let mut pages: Vec<String> = std::fs::read_dir(&man1)
        .expect("man1")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect();
    pages.sort();
    let mut generated: Vec<String> = std::fs::read_dir(out.path())
        .expect("out dir")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".1"))
        .map(|n| format!("{n}.gz"))
        .collect();
    generated.sort();
    assert_eq!(pages, generated);
    for want in [
        "bindscope.1.gz",
        "bindscope-who.1.gz",
        "bindscope-serve.1.gz",
    ] {
        assert!(pages.iter().any(|p| p == want), "no {want} in {pages:?}");
    }
    for page in &pages {
        let path = man1.join(page);
        let r = run_timeout(
            Command::new("man")
                .args(["--warnings", "-l"])
                .arg(&path)
                .env("MANWIDTH", "80"),
            Duration::from_secs(60),
        );
        assert!(r.ok() && r.stderr.is_empty(), "{page}: {}", r.stderr);
        assert!(r.stdout.contains("bindscope"), "{page} is empty");
    }

    // Completions where each shell looks, and bash loads its own.
    for f in [
        "usr/share/bash-completion/completions/bindscope",
        "usr/share/zsh/vendor-completions/_bindscope",
        "usr/share/fish/vendor_completions.d/bindscope.fish",
    ] {
        assert!(d.join(f).is_file(), "no {f}");
    }
    let bash = sh(&[
        "bash",
        "-c",
        &format!(
            "source {} && complete -p bindscope",
            d.join("usr/share/bash-completion/completions/bindscope")
                .display()
        ),
    ])
    .expect_ok("bash completion");
    assert!(bash.stdout.contains("bindscope"), "{}", bash.stdout);

    // Units, rules, dashboard and schemas: the repository's files, unchanged.
    for (installed, source) in [
        (
            "lib/systemd/system/bindscope-exporter.service",
            "assets/systemd/bindscope-exporter.service",
        ),
        (
            "lib/systemd/system/bindscope-textfile.service",
            "assets/systemd/bindscope-textfile.service",
        ),
        (
            "lib/systemd/system/bindscope-textfile.timer",
            "assets/systemd/bindscope-textfile.timer",
        ),
        (
            "usr/share/bindscope/prometheus/bindscope-alerts.yml",
            "assets/prometheus/bindscope-alerts.yml",
        ),
        (
            "usr/share/bindscope/grafana/bindscope.json",
            "assets/grafana/bindscope.json",
        ),
        (
            "usr/share/bindscope/schemas/snapshot.schema.json",
            "assets/snapshot.schema.json",
        ),
        (
            "usr/share/bindscope/schemas/findings.schema.json",
            "assets/findings.schema.json",
        ),
    ] {
        let a = std::fs::read(d.join(installed)).unwrap_or_else(|e| panic!("{installed}: {e}"));
        let b = std::fs::read(root.join(source)).expect("source asset");
        assert!(a == b, "{installed} differs from {source}");
    }
    sh(&[
        "promtool",
        "check",
        "rules",
        d.join("usr/share/bindscope/prometheus/bindscope-alerts.yml")
            .to_str()
            .expect("utf-8"),
    ])
    .expect_ok("promtool check rules");
    for f in ["copyright", "README.md.gz", "changelog.Debian.gz"] {
        assert!(
            d.join("usr/share/doc/bindscope").join(f).is_file(),
            "no doc {f}"
        );
    }

    // Removed: nothing of it is left but dpkg's own database.
    sh(&[
        "dpkg",
        &root_arg,
        "--force-not-root",
        // The maintainer scripts run here, not chrooted into the root (which has no /bin/sh);
        // dpkg sets DPKG_ROOT for them, which makes them leave systemd alone.
        "--force-script-chrootless",
        "--log=/dev/null",
        "-r",
        "bindscope",
    ])
    .expect_ok("dpkg -r");
    let left: Vec<String> = walk(d)
        .into_iter()
        .filter(|p| !p.starts_with("var/lib/dpkg"))
        .collect();
    assert!(left.is_empty(), "left after dpkg -r: {left:?}");
}

/// Every regular file under `dir`, relative to it.
fn walk(dir: &Path) -> Vec<String> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(p) = stack.pop() {
        for e in std::fs::read_dir(&p).into_iter().flatten().flatten() {
            let path = e.path();
            if path.is_dir() {
                stack.push(path);
            } else {
                out.push(
                    path.strip_prefix(dir)
                        .expect("under dir")
                        .to_string_lossy()
                        .into_owned(),
                );
            }
        }
    }
    out
}
