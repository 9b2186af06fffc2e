//! Snapshot files in and out: the strict loader for snapshot and recording files, the
//! exports for people and tools (CSV, Markdown, Prometheus text format), redaction for
//! sharing outside the team, and merging files of several hosts into one view.

pub mod csv;
pub mod load;
pub mod markdown;
pub mod prom;
pub mod redact;
