//! What installing bindscope gives, run for real: the completion scripts loaded by bash, zsh
//! and fish and asked to complete, the man pages read by man(1) (troff) and mandoc's lint
//! with warnings failing, a page for every command, and `--version` naming the commit.
//!
//! zsh, fish and mandoc are optional on a developer's machine: without one, its test says so
//! and returns, unless BINDSCOPE_REQUIRE_PRIVILEGED=1 (CI), where it fails (CI installs the
//! Debian packages zsh, fish, mandoc, man-db).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use clap::CommandFactory;
use common::*;
use std::collections::BTreeSet;
use std::path::Path;
use std::process::Command;
use std::time::Duration;

const TIMEOUT: Duration = Duration::from_secs(60);

/// Whether `tool` is on PATH; without it, skips with a message, or fails under
/// BINDSCOPE_REQUIRE_PRIVILEGED=1.
fn have(tool: &str, test: &str) -> bool {
    let found = std::env::var_os("PATH")
        .is_some_and(|p| std::env::split_paths(&p).any(|d| d.join(tool).is_file()));
    if !found {
        if std::env::var(REQUIRE_ENV).is_ok_and(|v| v == "1") {
            panic!("{test}: {REQUIRE_ENV}=1 but '{tool}' is not installed");
        }
        eprintln!("SKIPPED {test}: '{tool}' is not installed (set {REQUIRE_ENV}=1 to fail)");
    }
    found
}

/// `shell -c script` (bash, fish) with `$B` set to the binary, in a clean environment.
fn shell(shell: &str, flags: &[&str], script: &str) -> Run {
    let mut cmd = Command::new(shell);
    cmd.args(flags)
        .arg("-c")
        .arg(script)
        .env("B", BINDSCOPE)
        .env("HOME", std::env::temp_dir())
        .env_remove("XDG_CONFIG_HOME");
    run_timeout(&mut cmd, TIMEOUT)
}

fn lines(text: &str) -> BTreeSet<String> {
    text.lines().map(|l| l.trim().to_string()).collect()
}

/// The namespaces `ip netns list` names, as the hooks list them.
fn netns_names() -> BTreeSet<String> {
    let r = run_timeout(Command::new("ip").args(["netns", "list"]), TIMEOUT);
    r.stdout
        .lines()
        .filter_map(|l| l.split_whitespace().next())
        .map(str::to_string)
        .collect()
}

/// The commands of the clap definition, as a user types them (clap's `help` left out).
fn commands() -> Vec<String> {
    bindscope::cli::Cli::command()
        .get_subcommands()
        .map(|c| c.get_name().to_string())
        .filter(|n| n != "help")
        .collect()
}

/// Checks what a hook offered for `-n` against `ip netns list` run just before and just
/// after it: other tests (and other programs) add and delete namespaces meanwhile, so a
/// name is expected when it was there both times, and allowed when it was there once.
/// The three words are always offered.
fn assert_netns_candidates(what: &str, complete: impl FnOnce() -> BTreeSet<String>) {
    let before = netns_names();
    let got = complete();
    let after = netns_names();
    let words: BTreeSet<String> = ["all", "current", "host"].map(String::from).into();
    let surely: BTreeSet<&String> = before.intersection(&after).chain(&words).collect();
    let maybe: BTreeSet<&String> = before.union(&after).chain(&words).collect();
    let got: BTreeSet<&String> = got.iter().collect();
    assert!(
        surely.is_subset(&got) && got.is_subset(&maybe),
        "{what}: offered {got:?}; ip netns list said {before:?}, then {after:?}"
    );
}

// ---------------------------------------------------------------------------------------
// bash

/// bash's completion of `words` (the last one being completed), through the function the
/// script registers, as bash calls it on Tab.
fn bash_complete(words: &[&str]) -> BTreeSet<String> {
    let quoted: Vec<String> = words.iter().map(|w| format!("'{w}'")).collect();
    let script = format!(
        r#"source <("$B" completions bash) || exit 9
spec=$(complete -p bindscope) || exit 8
fn=$(printf '%s\n' "$spec" | sed -n 's/.* -F \([^ ]*\) .*/\1/p')
COMP_WORDS=({words}); COMP_CWORD=$(( ${{#COMP_WORDS[@]}} - 1 ))
COMP_LINE="${{COMP_WORDS[*]}}"; COMP_POINT=${{#COMP_LINE}}
"$fn" bindscope "${{COMP_WORDS[COMP_CWORD]}}" "${{COMP_WORDS[COMP_CWORD-1]}}"
printf '%s\n' "${{COMPREPLY[@]}}""#,
        words = quoted.join(" ")
    );
    let r = shell("bash", &["--norc", "--noprofile"], &script).expect_ok("bash completion");
    assert!(r.stderr.is_empty(), "bash said: {}", r.stderr);
    lines(&r.stdout)
}

#[test]
fn bash_loads_the_script_and_completes_commands_flags_and_values() {
    let r = shell(
        "bash",
        &["--norc", "--noprofile"],
        r#"source <("$B" completions bash); complete -p bindscope"#,
    )
    .expect_ok("source the bash script");
    assert!(r.stderr.is_empty(), "bash said: {}", r.stderr);
    assert!(
        r.stdout.contains("-F _bindscope_with_netns")
            && r.stdout.trim_end().ends_with(" bindscope"),
        "{}",
        r.stdout
    );
    assert_eq!(
        bash_complete(&["bindscope", "can"]),
        BTreeSet::from(["can-bind".to_string()])
    );
    let subs = bash_complete(&["bindscope", ""]);
    for c in commands() {
        assert!(subs.contains(&c), "{c} is not offered: {subs:?}");
    }
    assert!(bash_complete(&["bindscope", "findings", "--min"]).contains("--min-severity"));
    assert_eq!(
        bash_complete(&["bindscope", "findings", "--min-severity", "w"]),
        BTreeSet::from(["warning".to_string()])
    );
    assert_eq!(
        bash_complete(&["bindscope", "completions", "f"]),
        BTreeSet::from(["fish".to_string()])
    );
    // -n: what `ip netns list` names now, and the three words.
    assert_netns_candidates("bash", || {
        bash_complete(&["bindscope", "snapshot", "-n", ""])
    });
    // A list: the items before the last comma are kept.
    assert_eq!(
        bash_complete(&["bindscope", "ports", "--netns", "host,cu"]),
        BTreeSet::from(["host,current".to_string()])
    );
}

/// A namespace made now is offered at once: the hook asks `ip netns list` at every Tab.
#[test]
fn a_new_namespace_is_completed_by_name_in_every_shell() {
    let Some(ns) = privileged("a_new_namespace_is_completed_by_name_in_every_shell") else {
        return;
    };
    let name = ns.name().to_string();
    let prefix = &name[..name.len() - 2];
    let got = bash_complete(&["bindscope", "can-bind", "tcp", "127.0.0.1:80", "-n", prefix]);
    assert!(got.contains(&name), "bash: {got:?}");
    if have(
        "fish",
        "a_new_namespace_is_completed_by_name_in_every_shell",
    ) {
        let r = shell(
            "fish",
            &["--no-config"],
            &format!(
                r#""$B" completions fish | source; complete -C "bindscope findings -n {prefix}""#
            ),
        )
        .expect_ok("fish completion");
        assert!(lines(&r.stdout).contains(&name), "fish: {}", r.stdout);
    }
    if have("zsh", "a_new_namespace_is_completed_by_name_in_every_shell") {
        let r = shell(
            "zsh",
            &["-f"],
            r#"autoload -U compinit; compinit -u -D
source <("$B" completions zsh) || exit 9
compadd() { [[ $1 == -a ]] && print -rl -- ${(P)2} }
_bindscope_netns_names"#,
        )
        .expect_ok("zsh: the -n hook");
        assert!(lines(&r.stdout).contains(&name), "zsh: {}", r.stdout);
    }
}

// ---------------------------------------------------------------------------------------
// zsh and fish

#[test]
fn zsh_loads_the_script_with_compinit() {
    if !have("zsh", "zsh_loads_the_script_with_compinit") {
        return;
    }
    let r = shell(
        "zsh",
        &["-f"],
        r#"autoload -U compinit; compinit -u -D
source <("$B" completions zsh) || exit 9
whence -w _bindscope _bindscope_netns_names
print -r -- $_comps[bindscope]"#,
    )
    .expect_ok("source the zsh script");
    assert!(r.stderr.is_empty(), "zsh said: {}", r.stderr);
    assert_eq!(
        r.stdout.lines().collect::<Vec<_>>(),
        [
            "_bindscope: function",
            "_bindscope_netns_names: function",
            "_bindscope"
        ],
        "{}",
        r.stdout
    );
    // The hook's candidates, caught by a compadd that prints them (the real one works only
    // inside a completion widget).
    assert_netns_candidates("zsh", || {
        let r = shell(
            "zsh",
            &["-f"],
            r#"autoload -U compinit; compinit -u -D
source <("$B" completions zsh) || exit 9
compadd() { [[ $1 == -a ]] && print -rl -- ${(P)2} }
_bindscope_netns_names"#,
        )
        .expect_ok("zsh: the -n hook");
        lines(&r.stdout)
    });
}

#[test]
fn fish_loads_the_script_and_completes() {
    if !have("fish", "fish_loads_the_script_and_completes") {
        return;
    }
    let first = |out: &str| -> BTreeSet<String> {
        out.lines()
            .filter_map(|l| l.split('\t').next())
            .map(str::to_string)
            .collect()
    };
    let r = shell(
        "fish",
        &["--no-config"],
        r#""$B" completions fish | source; complete -C "bindscope sn""#,
    )
    .expect_ok("fish: bindscope sn");
    assert!(r.stderr.is_empty(), "fish said: {}", r.stderr);
    assert_eq!(first(&r.stdout), BTreeSet::from(["snapshot".to_string()]));
    assert_netns_candidates("fish", || {
        let r = shell(
            "fish",
            &["--no-config"],
            r#""$B" completions fish | source; complete -C "bindscope snapshot --netns ""#,
        )
        .expect_ok("fish: --netns");
        first(&r.stdout)
    });
    // Only the commands that take -n are offered it.
    let r = shell(
        "fish",
        &["--no-config"],
        r#""$B" completions fish | source; complete -C "bindscope rules --"; echo ==; complete -C "bindscope ports --""#,
    )
    .expect_ok("fish: flags of rules and ports");
    let (rules, ports) = r.stdout.split_once("==\n").expect("two lists");
    assert!(!first(rules).contains("--netns"), "rules: {rules}");
    assert!(first(rules).contains("--verify"), "rules: {rules}");
    assert!(first(ports).contains("--netns"), "ports: {ports}");
    let r = shell(
        "fish",
        &["--no-config"],
        r#""$B" completions fish | source; complete -C "bindscope findings --min-severity ""#,
    )
    .expect_ok("fish: --min-severity");
    assert_eq!(
        first(&r.stdout),
        ["info", "notice", "warning", "critical"]
            .map(String::from)
            .into()
    );
}

// ---------------------------------------------------------------------------------------
// Man pages

fn write_pages(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut cmd = Command::new(BINDSCOPE);
    cmd.args(["man", "--out-dir"]).arg(dir);
    run_timeout(&mut cmd, TIMEOUT).expect_ok("bindscope man --out-dir");
    let mut pages: Vec<_> = std::fs::read_dir(dir)
        .expect("read the pages' directory")
        .map(|e| e.expect("entry").path())
        .collect();
    pages.sort();
    pages
}

#[test]
fn every_command_has_a_page_that_man_reads_without_a_warning() {
    let dir = tempfile::tempdir().expect("tempdir");
    let pages = write_pages(dir.path());
    let names: BTreeSet<String> = pages
        .iter()
        .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
        .collect();
    let mut expected: BTreeSet<String> = commands()
        .iter()
        .map(|c| format!("bindscope-{c}.1"))
        .collect();
    expected.insert("bindscope.1".into());
    assert_eq!(names, expected, "a page per command, and no other");

    let main = std::fs::read_to_string(dir.path().join("bindscope.1")).unwrap();
    for c in commands() {
        // The main page's SUBCOMMANDS section points at each command's page.
        let reference = format!("bindscope\\-{}(1)", c.replace('-', "\\-"));
        assert!(main.contains(&reference), "bindscope.1 lacks {reference}");
        // `bindscope man COMMAND` prints the page --out-dir wrote.
        let r = run_timeout(Command::new(BINDSCOPE).args(["man", &c]), TIMEOUT)
            .expect_ok("bindscope man COMMAND");
        let file = std::fs::read_to_string(dir.path().join(format!("bindscope-{c}.1"))).unwrap();
        assert_eq!(r.stdout, file, "bindscope man {c}");
        // Every long flag of the command is on its page.
        let sub = bindscope::cli::Cli::command();
        let sub = sub.find_subcommand(&c).unwrap();
        for arg in sub.get_arguments() {
            if let Some(long) = arg.get_long() {
                let roff = format!("\\-\\-{}", long.replace('-', "\\-"));
                assert!(file.contains(&roff), "bindscope-{c}.1 lacks --{long}");
            }
        }
    }
    let r = run_timeout(Command::new(BINDSCOPE).arg("man"), TIMEOUT).expect_ok("bindscope man");
    assert_eq!(r.stdout, main, "bindscope man prints bindscope.1");

    let test = "every_command_has_a_page_that_man_reads_without_a_warning";
    if have("man", test) {
        for page in &pages {
            // --warnings makes troff print every warning (-ww); man-db passes them on stderr.
            let mut cmd = Command::new("man");
            cmd.args(["--warnings", "-l"])
                .arg(page)
                .env("MANWIDTH", "80")
                .env("MANPAGER", "cat")
                .env("LC_ALL", "C.UTF-8");
            let r = run_timeout(&mut cmd, TIMEOUT).expect_ok("man -l");
            assert!(r.stderr.is_empty(), "{}: {}", page.display(), r.stderr);
            assert!(
                r.stdout.contains("NAME") && r.stdout.contains("SYNOPSIS"),
                "{}",
                r.stdout
            );
        }
        let man = run_timeout(
            Command::new("man")
                .args(["-l"])
                .arg(dir.path().join("bindscope-can-bind.1"))
                .env("MANWIDTH", "200")
                .env("MANPAGER", "cat"),
            TIMEOUT,
        )
        .expect_ok("man -l can-bind");
        assert!(
            man.stdout.contains("--reuseport")
                && man.stdout.contains("SO_REUSEPORT on the new socket"),
            "{}",
            man.stdout
        );
    }

    if have("mandoc", test) {
        let mut cmd = Command::new("mandoc");
        cmd.args(["-T", "lint", "-W", "warning"]).args(&pages);
        let r = run_timeout(&mut cmd, TIMEOUT);
        assert!(
            r.ok() && r.stdout.is_empty() && r.stderr.is_empty(),
            "mandoc -T lint:\n{}{}",
            r.stdout,
            r.stderr
        );
    }
}

#[test]
fn man_refuses_an_unknown_command_and_a_missing_directory() {
    let r = run_timeout(Command::new(BINDSCOPE).args(["man", "nosuch"]), TIMEOUT);
    assert_eq!(r.status.code(), Some(2), "{}", r.stderr);
    assert!(
        r.stderr.contains("no command 'nosuch'") && r.stderr.contains("can-bind"),
        "{}",
        r.stderr
    );
    let dir = tempfile::tempdir().expect("tempdir");
    let missing = dir.path().join("missing");
    let mut cmd = Command::new(BINDSCOPE);
    cmd.args(["man", "--out-dir"]).arg(&missing);
    let r = run_timeout(&mut cmd, TIMEOUT);
    assert_eq!(r.status.code(), Some(2), "{}", r.stderr);
    assert!(r.stderr.contains("is not a directory"), "{}", r.stderr);
    assert!(!missing.exists());
}

// ---------------------------------------------------------------------------------------
// --version

#[test]
fn version_names_the_commit_and_the_build_date() {
    let r = run_timeout(Command::new(BINDSCOPE).arg("--version"), TIMEOUT).expect_ok("--version");
    let line = r.stdout.trim_end();
    let rest = line
        .strip_prefix(concat!("bindscope ", env!("CARGO_PKG_VERSION"), " ("))
        .and_then(|r| r.strip_suffix(')'))
        .unwrap_or_else(|| panic!("not 'bindscope VERSION (COMMIT DATE)': {line}"));
    let (commit, date) = rest.split_once(' ').expect("COMMIT DATE");
    let d: Vec<&str> = date.split('-').collect();
    assert!(
        d.len() == 3
            && [4, 2, 2] == [d[0].len(), d[1].len(), d[2].len()]
            && d.iter().all(|p| p.bytes().all(|b| b.is_ascii_digit())),
        "date: {date}"
    );
    // Built from a checkout, the commit is HEAD's (cargo reran build.rs when HEAD moved).
    let root = env!("CARGO_MANIFEST_DIR");
    if Path::new(root).join(".git").exists() {
        let head = run_timeout(
            Command::new("git").args(["-C", root, "rev-parse", "HEAD"]),
            TIMEOUT,
        )
        .expect_ok("git rev-parse HEAD");
        assert!(
            commit.len() >= 7 && head.stdout.trim().starts_with(commit),
            "{commit} is not HEAD ({})",
            head.stdout.trim()
        );
    } else {
        assert_eq!(commit, "unknown");
    }
    let short = run_timeout(Command::new(BINDSCOPE).arg("-V"), TIMEOUT).expect_ok("-V");
    assert_eq!(short.stdout, r.stdout);
}

// ---------------------------------------------------------------------------------------
// build.rs, compiled on its own and run as cargo runs it

/// build.rs built into `dir` (it uses std only).
fn build_script(dir: &Path) -> std::path::PathBuf {
    let out = dir.join("build-script");
    let rustc = std::env::var("RUSTC").unwrap_or_else(|_| "rustc".into());
    let mut cmd = Command::new(rustc);
    cmd.args(["--edition", "2024", "-o"])
        .arg(&out)
        .arg(concat!(env!("CARGO_MANIFEST_DIR"), "/build.rs"));
    run_timeout(&mut cmd, Duration::from_secs(120)).expect_ok("rustc build.rs");
    out
}

/// What build.rs prints for a package in `manifest_dir`: (the version, the rerun paths).
fn build_output(script: &Path, manifest_dir: &Path, epoch: Option<&str>) -> (String, Vec<String>) {
    let mut cmd = Command::new(script);
    cmd.env("CARGO_MANIFEST_DIR", manifest_dir)
        .env("CARGO_PKG_VERSION", "9.8.7")
        .env_remove("SOURCE_DATE_EPOCH");
    if let Some(e) = epoch {
        cmd.env("SOURCE_DATE_EPOCH", e);
    }
    let r = run_timeout(&mut cmd, TIMEOUT).expect_ok("build.rs");
    let version = r
        .stdout
        .lines()
        .find_map(|l| l.strip_prefix("cargo:rustc-env=BINDSCOPE_VERSION="))
        .expect("BINDSCOPE_VERSION")
        .to_string();
    let rerun = r
        .stdout
        .lines()
        .filter_map(|l| l.strip_prefix("cargo:rerun-if-changed="))
        .filter(|p| *p != "build.rs")
        .map(str::to_string)
        .collect();
    (version, rerun)
}

fn git(dir: &Path, args: &[&str]) -> String {
    let mut cmd = Command::new("git");
    cmd.arg("-C")
        .arg(dir)
        .args([
            "-c",
            "user.name=t",
            "-c",
            "user.email=t@t",
            "-c",
            "init.defaultBranch=main",
        ])
        .args(args);
    run_timeout(&mut cmd, TIMEOUT)
        .expect_ok(&format!("git {args:?}"))
        .stdout
        .trim()
        .to_string()
}

#[test]
fn the_build_script_names_the_commit_date_and_what_moves_with_head() {
    if !have(
        "git",
        "the_build_script_names_the_commit_date_and_what_moves_with_head",
    ) {
        return;
    }
    let tmp = tempfile::tempdir().expect("tempdir");
    let script = build_script(tmp.path());

    // A source tarball: no .git, so no commit, even inside another repository.
    let tarball = tmp.path().join("tarball");
    std::fs::create_dir(&tarball).unwrap();
    let (v, rerun) = build_output(&script, &tarball, Some("0"));
    assert_eq!(v, "9.8.7 (unknown 1970-01-01)");
    assert!(rerun.is_empty(), "{rerun:?}");
    let (v, _) = build_output(&script, &tarball, Some("1709251199"));
    assert_eq!(v, "9.8.7 (unknown 2024-02-29)", "a leap day, 23:59:59 UTC");
    let (v, _) = build_output(&script, &tarball, Some("yesterday"));
    assert_eq!(v, "9.8.7 (unknown unknown)");

    // A checkout: HEAD's commit; HEAD and the branch's file are watched.
    let repo = tmp.path().join("repo");
    std::fs::create_dir(&repo).unwrap();
    git(&repo, &["init", "-q"]);
    git(&repo, &["commit", "-q", "--allow-empty", "-m", "one"]);
    let (v, rerun) = build_output(&script, &repo, Some("86400"));
    let head = git(&repo, &["rev-parse", "--short", "HEAD"]);
    assert_eq!(v, format!("9.8.7 ({head} 1970-01-02)"));
    let git_dir = repo.join(".git");
    let watched = |p: &Path| rerun.iter().any(|r| Path::new(r) == p);
    assert!(watched(&git_dir.join("HEAD")), "{rerun:?}");
    assert!(watched(&git_dir.join("refs/heads/main")), "{rerun:?}");

    // The branch packed (git gc): packed-refs, and the directory a new commit writes to.
    git(&repo, &["pack-refs", "--all"]);
    let (_, rerun) = build_output(&script, &repo, Some("0"));
    let watched = |p: &Path| rerun.iter().any(|r| Path::new(r) == p);
    assert!(watched(&git_dir.join("packed-refs")), "{rerun:?}");
    assert!(watched(&git_dir.join("refs/heads")), "{rerun:?}");
    assert!(rerun.iter().all(|r| Path::new(r).exists()), "{rerun:?}");

    // A worktree: .git is a file; its HEAD is in the main repository's worktrees/, its
    // branch among the main repository's refs.
    let wt = tmp.path().join("wt");
    git(
        &repo,
        &["worktree", "add", "-q", "-b", "side2", wt.to_str().unwrap()],
    );
    git(&wt, &["commit", "-q", "--allow-empty", "-m", "two"]);
    assert!(wt.join(".git").is_file());
    let (v, rerun) = build_output(&script, &wt, Some("0"));
    let head = git(&wt, &["rev-parse", "--short", "HEAD"]);
    assert_eq!(v, format!("9.8.7 ({head} 1970-01-01)"));
    let watched = |p: &Path| rerun.iter().any(|r| Path::new(r) == p);
    assert!(watched(&git_dir.join("worktrees/wt/HEAD")), "{rerun:?}");
    assert!(watched(&git_dir.join("refs/heads/side2")), "{rerun:?}");
}
