//! The snapshot: the file format `bindscope.snapshot` version 1 (product.md, and the JSON
//! Schema in `assets/snapshot.schema.json`). Field names here are a public interface.

use super::FindingKind;
use super::host::{Host, Netns, Privileges};
use super::ids::{NetnsId, SocketId};
use super::socket::{Proto, Socket};
use super::time::TakenAt;
use serde::{Deserialize, Serialize};

pub const FORMAT: &str = "bindscope.snapshot";
pub const VERSION: u32 = 1;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Info,
    Notice,
    Warning,
    Critical,
}

impl Severity {
    /// The name used in files and reports (the serde name).
    pub fn name(self) -> &'static str {
        match self {
            Severity::Critical => "critical",
            Severity::Warning => "warning",
            Severity::Notice => "notice",
            Severity::Info => "info",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Finding {
    pub kind: FindingKind,
    pub severity: Severity,
    pub sockets: Vec<SocketId>,
    pub summary: String,
    pub explanation: String,
    /// Set when this finding is one facet of a problem on one port (several of
    /// cross_user_port, wildcard_overlap, udp_reuseaddr_takeover and family_split there):
    /// every facet carries the same port, and reports show them as one entry.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub problem: Option<PortKey>,
}

/// One port of one namespace: what the facets of a problem share.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct PortKey {
    pub netns: NetnsId,
    pub proto: Proto,
    pub port: u16,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Mark {
    pub socket: SocketId,
    pub note: String,
}

/// Which sockets a snapshot holds: `listening` (listeners, bound-only TCP, unconnected UDP)
/// or `all` (adds connections, request sockets and TIME_WAIT).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum View {
    Listening,
    All,
}

/// What the scan met on the way: counts that explain `warnings`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct ScanStats {
    pub duration_ms: u64,
    pub processes_scanned: u32,
    /// Processes that exited between listing /proc and reading them.
    pub processes_vanished: u32,
    /// fds closed between listing a fd directory and reading the link.
    pub fds_vanished: u32,
    /// Processes whose fd table could not be read (permission).
    pub processes_unreadable: u32,
    pub options_probed: u32,
    pub options_failed: u32,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Snapshot {
    pub format: String,
    pub version: u32,
    /// RFC 3339, UTC (`2026-11-22T07:44:23.120Z`); a file may hold other text here, which
    /// loads with a warning.
    pub taken_at: TakenAt,
    pub host: Host,
    pub privileges: Privileges,
    pub warnings: Vec<String>,
    pub netns: Vec<Netns>,
    pub sockets: Vec<Socket>,
    pub findings: Vec<Finding>,
    pub marks: Vec<Mark>,
    pub view: View,
    pub scan: ScanStats,
    /// The dashboard's view when this was exported or recorded from it (see
    /// [`super::dashboard`]); absent otherwise.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "super::dashboard::deserialize_lenient"
    )]
    pub dashboard: Option<super::dashboard::DashboardState>,
}
