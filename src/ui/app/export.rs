//! The file name of an exported snapshot: `bindscope-HOST-YYYYmmddTHHMMSSZ.json`, from the
//! snapshot itself (never the clock), so the same snapshot always gets the same name.

use crate::model::Snapshot;
use std::path::{Path, PathBuf};

/// The host name as a file name part: letters, digits, `.`, `-` and `_`; anything else (a
/// `/`, a control character from a hostile file) becomes `_`.
fn host_part(host: &str) -> String {
    let s: String = host
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_') {
                c
            } else {
                '_'
            }
        })
        .collect();
    // No hidden files or `..`; and a bounded length.
    let s = s.trim_start_matches('.');
    let s: String = s.chars().take(64).collect();
    if s.is_empty() { "host".into() } else { s }
}

/// `20261122T074423Z` from an RFC 3339 UTC time; `None` when it is not one.
fn stamp(taken_at: &str) -> Option<String> {
    let (date, time) = taken_at.split_once(['T', 't', ' '])?;
    let date: String = date.chars().filter(char::is_ascii_digit).collect();
    let time: String = time
        .chars()
        .take_while(|c| c.is_ascii_digit() || *c == ':')
        .filter(char::is_ascii_digit)
        .collect();
    (date.len() == 8 && time.len() == 6).then(|| format!("{date}T{time}Z"))
}

pub fn export_path(dir: &Path, snap: &Snapshot) -> PathBuf {
    let when = stamp(&snap.taken_at).unwrap_or_else(|| "unknown-time".into());
    dir.join(format!(
        "bindscope-{}-{when}.json",
        host_part(&snap.host.hostname)
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        assert_eq!(
            stamp("2026-11-22T07:44:23Z").as_deref(),
            Some("20261122T074423Z")
        );
        assert_eq!(
            stamp("2026-11-22T07:44:23.123456Z").as_deref(),
            Some("20261122T074423Z")
        );
        assert_eq!(stamp("yesterday"), None);
        assert_eq!(host_part("vm"), "vm");
        assert_eq!(host_part("../etc/passwd"), "_etc_passwd");
        assert_eq!(host_part("a\x1b[2Jb"), "a__2Jb");
        assert_eq!(host_part(""), "host");
    }
}
