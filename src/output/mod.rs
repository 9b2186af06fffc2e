//! Writing snapshots: JSON (the file format), the table for people, atomic file writes,
//! and the sanitizing every text output goes through.

pub mod diff;
pub mod findings;
pub mod sanitize;
pub mod table;
pub mod write;

use crate::model::Snapshot;
use std::io::{self, Write};

/// The snapshot as JSON, one object and a newline. Compact unless `pretty`: files of 50,000
/// sockets are read by tools more often than by eyes.
pub fn write_json(w: &mut dyn Write, snap: &Snapshot, pretty: bool) -> io::Result<()> {
    if pretty {
        serde_json::to_writer_pretty(&mut *w, snap)?;
    } else {
        serde_json::to_writer(&mut *w, snap)?;
    }
    w.write_all(b"\n")
}
