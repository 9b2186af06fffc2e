//! Writing snapshots: JSON (the file format), the table for people, atomic file writes
//! (sanitizing, which every text output goes through, is the leaf `crate::text`). All JSON
//! for users is written by
//! [`json`], which escapes what could mislead a terminal.

pub mod containers;
pub mod diff;
pub mod findings;
pub mod json;
pub mod table;
pub mod whatif;
pub mod write;

use crate::model::Snapshot;
use std::io::{self, Write};

/// The snapshot as JSON, one object and a newline. Compact unless `pretty`: files of 50,000
/// sockets are read by tools more often than by eyes.
pub fn write_json(w: &mut dyn Write, snap: &Snapshot, pretty: bool) -> io::Result<()> {
    if pretty {
        json::to_writer_pretty(&mut *w, snap)?;
    } else {
        json::to_writer(&mut *w, snap)?;
    }
    w.write_all(b"\n")
}

/// `812 B`, `14.2 KiB`, `3.1 MiB`.
pub fn size_text(bytes: u64) -> String {
    const UNITS: [&str; 4] = ["KiB", "MiB", "GiB", "TiB"];
    if bytes < 1024 {
        return format!("{bytes} B");
    }
    let mut v = bytes as f64 / 1024.0;
    let mut unit = UNITS[0];
    for u in UNITS.iter().skip(1) {
        if v < 1024.0 {
            break;
        }
        v /= 1024.0;
        unit = u;
    }
    format!("{v:.1} {unit}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes() {
        assert_eq!(size_text(812), "812 B");
        assert_eq!(size_text(14_540), "14.2 KiB");
        assert_eq!(size_text(3 * 1024 * 1024 + 100_000), "3.1 MiB");
        assert_eq!(size_text(3 << 30), "3.0 GiB");
    }
}
