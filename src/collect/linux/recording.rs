//! A recording of a host: what collection read from it, laid out in a directory so that
//! [`super::replay::RecordedSources`] can serve it again and tests can run collection,
//! analysis and the dashboard on a real host without root. Made by
//! [`super::recorder::Recorder`] (`cargo run --example record_host`, driven by
//! `scripts/record-host`).
//!
//! ```text
//! DIR/recording.json            Manifest: clocks, euid, probes, user names, namespaces
//! DIR/snapshot.json             the snapshot collection made while recording (not judged:
//!                               findings follow the analysis of the day)
//! DIR/proc/                     the host's /proc files it read: PID/{comm,cmdline,status,
//!                               stat,cgroup}, PID/ns/net and PID/fd/N as symlinks,
//!                               PID/fdinfo/N of sockets, self -> PID, self's mountinfo,
//!                               sys/kernel/{hostname,osrelease}
//! DIR/netns/ID/proc/            the namespace's own files: sys/net/…, thread-self/net/netstat
//! DIR/netns/ID/netlink/NNN-PROTO.nl   one dump each, in the order made: the request, then
//!                               the replies (nlmsghdr framing, host byte order)
//! DIR/state/PATH                container runtimes' state files that were read, at their
//!                               host path below `state/` (`state/var/lib/docker/containers/
//!                               ID/config.v2.json`); the ones that could not be read are in
//!                               the manifest's `state_errors` with why
//! ```

use super::sockopt::ProbeError;
use super::state_files::StateFileError;
use crate::collect::join::ProbedOptions;
use crate::model::View;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

/// The manifest's name in a recording directory.
pub const MANIFEST: &str = "recording.json";
/// The snapshot collection made while recording, without findings.
pub const SNAPSHOT: &str = "snapshot.json";
/// The host's `/proc` files.
pub const PROC: &str = "proc";
/// One directory per namespace entered, by inode.
pub const NETNS: &str = "netns";
/// A namespace's dumps, under `NETNS/ID/`.
pub const NETLINK: &str = "netlink";
/// Container runtimes' state files, at their host paths.
pub const STATE: &str = "state";
/// The extension of one dump's file.
pub const DUMP_EXT: &str = "nl";

/// The version of this layout; a reader refuses another.
pub const VERSION: u32 = 1;

/// What a recording holds besides files.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Manifest {
    pub version: u32,
    /// How collection was asked to run (the snapshot depends on it).
    pub view: View,
    pub probe_options: bool,
    /// The effective uid collection ran as.
    pub euid: u32,
    /// Every reading of the wall clock, in order.
    pub wall_clock: Vec<SystemTime>,
    /// Every reading of the monotonic clock, in order.
    pub monotonic: Vec<Duration>,
    /// Where `ip netns` keeps its mounts, and those found there (inode, path).
    pub run_netns: PathBuf,
    pub named: Vec<(u64, PathBuf)>,
    /// What listing them warned about (entries that are not nsfs mounts, ...).
    pub named_warnings: Vec<String>,
    /// The namespaces read, by inode.
    pub namespaces: BTreeMap<u64, NetnsRecord>,
    /// Namespaces that could not be entered, and why.
    pub not_entered: BTreeMap<u64, String>,
    /// Every options probe, in order.
    pub probes: Vec<ProbeRecord>,
    /// Every uid looked up, and its name.
    pub user_names: BTreeMap<u32, Option<String>>,
    /// Runtime state files that could not be read, and why (those read are under
    /// [`STATE`]). Absent in recordings made before containers were named.
    #[serde(default)]
    pub state_errors: BTreeMap<PathBuf, StateFileError>,
}

/// What was asked of one namespace besides its dumps and files.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct NetnsRecord {
    /// The kernel's answer to "are bound-only TCP sockets dumped", when it was asked.
    pub dumps_bound_inactive: Option<bool>,
}

/// One options probe: which holder and socket, and what it gave.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProbeRecord {
    pub pid: u32,
    pub tid: Option<u32>,
    pub fd: u32,
    pub inode: u64,
    pub cookie: u64,
    pub result: Result<ProbedOptions, ProbeFailure>,
}

/// [`ProbeError`] as a recording keeps it (the probe's own type is not serialized).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ProbeFailure {
    Denied(String),
    Vanished,
    FdClosed,
    OtherSocket { fd: u32, found: u64, expected: u64 },
    Replaced { fd: u32 },
    Unsupported,
    ThreadUnsupported,
    Other(String),
}

impl From<&ProbeError> for ProbeFailure {
    fn from(e: &ProbeError) -> Self {
        match e {
            ProbeError::Denied(s) => ProbeFailure::Denied(s.clone()),
            ProbeError::Vanished => ProbeFailure::Vanished,
            ProbeError::FdClosed => ProbeFailure::FdClosed,
            &ProbeError::OtherSocket {
                fd,
                found,
                expected,
            } => ProbeFailure::OtherSocket {
                fd,
                found,
                expected,
            },
            &ProbeError::Replaced { fd } => ProbeFailure::Replaced { fd },
            ProbeError::Unsupported => ProbeFailure::Unsupported,
            ProbeError::ThreadUnsupported => ProbeFailure::ThreadUnsupported,
            ProbeError::Other(s) => ProbeFailure::Other(s.clone()),
        }
    }
}

impl From<ProbeFailure> for ProbeError {
    fn from(f: ProbeFailure) -> Self {
        match f {
            ProbeFailure::Denied(s) => ProbeError::Denied(s),
            ProbeFailure::Vanished => ProbeError::Vanished,
            ProbeFailure::FdClosed => ProbeError::FdClosed,
            ProbeFailure::OtherSocket {
                fd,
                found,
                expected,
            } => ProbeError::OtherSocket {
                fd,
                found,
                expected,
            },
            ProbeFailure::Replaced { fd } => ProbeError::Replaced { fd },
            ProbeFailure::Unsupported => ProbeError::Unsupported,
            ProbeFailure::ThreadUnsupported => ProbeError::ThreadUnsupported,
            ProbeFailure::Other(s) => ProbeError::Other(s),
        }
    }
}

/// Where a state file read at `path` on the host is kept in a recording `dir`; `None` for a
/// path that is not absolute and plain (`..`, `.`), which no reader asks for and a hostile
/// recording must not use to reach outside `dir`.
pub fn state_path(dir: &Path, path: &Path) -> Option<PathBuf> {
    use std::path::Component;
    let mut out = dir.join(STATE);
    let mut comps = path.components();
    if comps.next() != Some(Component::RootDir) {
        return None;
    }
    for c in comps {
        match c {
            Component::Normal(part) => out.push(part),
            _ => return None,
        }
    }
    Some(out)
}

/// `DIR/netns/ID`.
pub fn netns_dir(dir: &Path, id: u64) -> PathBuf {
    dir.join(NETNS).join(id.to_string())
}

/// Why a recording could not be read or written.
#[derive(Debug, thiserror::Error)]
pub enum RecordingError {
    #[error("'{}': {source}", path.display())]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("'{}': {source}", path.display())]
    Json {
        path: PathBuf,
        source: serde_json::Error,
    },
    #[error("'{}': layout version {found}, this bindscope reads {VERSION}", path.display())]
    Version { path: PathBuf, found: u32 },
    #[error("'{}': {what}", path.display())]
    Malformed { path: PathBuf, what: String },
}

impl RecordingError {
    pub fn io(path: &Path) -> impl FnOnce(std::io::Error) -> RecordingError + '_ {
        move |source| RecordingError::Io {
            path: path.to_path_buf(),
            source,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn state_paths_stay_inside_the_recording() {
        let dir = Path::new("/rec");
        assert_eq!(
            state_path(
                dir,
                Path::new("/var/lib/docker/containers/x/config.v2.json")
            ),
            Some(PathBuf::from(
                "/rec/state/var/lib/docker/containers/x/config.v2.json"
            ))
        );
        assert_eq!(state_path(dir, Path::new("/a/../../etc/passwd")), None);
        assert_eq!(state_path(dir, Path::new("relative")), None);
    }

    /// Every probe error survives the trip through a recording, so a replay says what the
    /// live probe said.
    #[test]
    fn probe_errors_round_trip() {
        let all = [
            ProbeError::Denied("EPERM".into()),
            ProbeError::Vanished,
            ProbeError::FdClosed,
            ProbeError::OtherSocket {
                fd: 3,
                found: 1,
                expected: 2,
            },
            ProbeError::Replaced { fd: 4 },
            ProbeError::Unsupported,
            ProbeError::ThreadUnsupported,
            ProbeError::Other("x".into()),
        ];
        for e in all {
            let json = serde_json::to_string(&ProbeFailure::from(&e)).expect("serialize");
            let back: ProbeFailure = serde_json::from_str(&json).expect("deserialize");
            assert_eq!(ProbeError::from(back), e);
        }
    }
}
