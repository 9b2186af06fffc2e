//! Computes `--version`: `0.1.0 (4fd49a7 2026-12-03)`, the package version, the commit it
//! was built from and the build date, as the env var BINDSCOPE_VERSION for `src/cli.rs`
//! (and the date alone as BINDSCOPE_BUILD_DATE, for the man pages; the commit alone as
//! BINDSCOPE_GIT_COMMIT, for the exporter's `bindscope_build_info`).
//!
//! A source tarball has no `.git`: the commit is then `unknown` (git is not asked, so a
//! tarball unpacked inside some other repository does not take that repository's commit).
//! SOURCE_DATE_EPOCH, when set, is the date (reproducible builds,
//! https://reproducible-builds.org/specs/source-date-epoch/).

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{SystemTime, UNIX_EPOCH};

fn main() {
    let dir = PathBuf::from(std::env::var_os("CARGO_MANIFEST_DIR").unwrap_or_default());
    let commit = commit(&dir).unwrap_or_else(|| "unknown".into());
    let date = build_date();
    let version = std::env::var("CARGO_PKG_VERSION").unwrap_or_default();
    println!("cargo:rustc-env=BINDSCOPE_VERSION={version} ({commit} {date})");
    // The man pages' date, and the exporter's bindscope_build_info{revision}.
    println!("cargo:rustc-env=BINDSCOPE_BUILD_DATE={date}");
    println!("cargo:rustc-env=BINDSCOPE_GIT_COMMIT={commit}");
    println!("cargo:rerun-if-env-changed=SOURCE_DATE_EPOCH");
    println!("cargo:rerun-if-changed=build.rs");
    for path in watched(&dir) {
        println!("cargo:rerun-if-changed={}", path.display());
    }
}

/// `git` in `dir`, its output trimmed; `None` when git is missing or fails.
fn git(dir: &Path, args: &[&str]) -> Option<String> {
    let out = Command::new("git")
        .args(args)
        .current_dir(dir)
        .stderr(std::process::Stdio::null())
        .output()
        .ok()?;
    let text = String::from_utf8(out.stdout).ok()?;
    let text = text.trim();
    (out.status.success() && !text.is_empty()).then(|| text.to_string())
}

/// The short commit of HEAD, only when this package's directory is itself a checkout: `.git`
/// is a directory, or a file (`gitdir: ...`) in a worktree or submodule.
fn commit(dir: &Path) -> Option<String> {
    if !dir.join(".git").exists() {
        return None;
    }
    git(dir, &["rev-parse", "--short", "HEAD"])
}

/// What moves when HEAD does: the HEAD file (a checkout, a detached HEAD), the file of the
/// branch it points at (a commit), and packed-refs (a branch packed by `git gc`). git says
/// where they are, which handles worktrees, whose HEAD is in `.git/worktrees/NAME` and
/// whose branches are in the main repository. A branch with no file yet (packed) is watched
/// by its directory, in which a new commit creates it; cargo reruns the script on every
/// build for a path that does not exist, so only existing paths are given.
fn watched(dir: &Path) -> Vec<PathBuf> {
    if !dir.join(".git").exists() {
        return Vec::new();
    }
    let path = |name: &str| git(dir, &["rev-parse", "--git-path", name]).map(|p| dir.join(p));
    let mut out: Vec<PathBuf> = Vec::new();
    out.extend(path("HEAD"));
    let branch = git(dir, &["symbolic-ref", "-q", "HEAD"]);
    if let Some(file) = branch.and_then(|b| path(&b)) {
        if file.exists() {
            out.push(file);
        } else if let Some(parent) = file.parent() {
            out.push(parent.to_path_buf());
        }
    }
    out.extend(path("packed-refs"));
    out.retain(|p| p.exists());
    out
}

/// `YYYY-MM-DD` (UTC) of SOURCE_DATE_EPOCH, or of now; `unknown` when SOURCE_DATE_EPOCH
/// is set but not a number of seconds (the build goes on: a date is not worth failing for,
/// and a wrong one would be worse than none).
fn build_date() -> String {
    let secs = match std::env::var("SOURCE_DATE_EPOCH") {
        Ok(v) => match v.trim().parse::<u64>() {
            Ok(s) => s,
            Err(_) => {
                println!("cargo:warning=SOURCE_DATE_EPOCH '{v}' is not a number of seconds");
                return "unknown".into();
            }
        },
        Err(_) => SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or(0),
    };
    let (y, m, d) = civil_from_days(secs / 86_400);
    format!("{y:04}-{m:02}-{d:02}")
}

/// The proleptic Gregorian date of a day count since 1970-01-01 (Howard Hinnant's
/// `civil_from_days`, http://howardhinnant.github.io/date_algorithms.html).
fn civil_from_days(days: u64) -> (u64, u64, u64) {
    let z = days + 719_468;
    let era = z / 146_097;
    let doe = z % 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + u64::from(m <= 2);
    (y, m, d)
}
