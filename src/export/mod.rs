//! Snapshot files in and out: the strict loader for snapshot and recording files, the
//! exports for people and tools (CSV, Markdown, Prometheus text format), redaction for
//! sharing outside the team, and merging files of several hosts into one view.

pub mod csv;
pub mod feed;
pub mod load;
pub mod markdown;
pub mod merge;
pub mod prom;
pub mod redact;
pub mod streamed;
pub mod timeline;

use crate::model::Snapshot;
use crate::output;
use std::io::{self, Write};
use std::path::Path;

/// The formats a snapshot can be written in: `snapshot --format`, and by extension `-o` and
/// the dashboard's export. The variants' docs are the command line's help.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// The snapshot file format (bindscope.snapshot v1)
    Json,
    /// Aligned columns for people
    Table,
    /// A row per socket and holder, for spreadsheets (cells that would start a formula are quoted)
    Csv,
    /// A report for a ticket: host, time, findings with explanations, the listeners
    Markdown,
    /// Prometheus text format for node_exporter's textfile collector
    Prom,
}

impl Format {
    pub const ALL: [Format; 5] = [
        Format::Json,
        Format::Table,
        Format::Csv,
        Format::Markdown,
        Format::Prom,
    ];

    /// The file name extension written for the format.
    pub fn extension(self) -> &'static str {
        match self {
            Format::Json => "json",
            Format::Table => "txt",
            Format::Csv => "csv",
            Format::Markdown => "md",
            Format::Prom => "prom",
        }
    }

    /// The format a file name asks for, by its extension (`.json`, `.csv`, `.md`, ...).
    pub fn from_path(path: &Path) -> Option<Format> {
        let ext = path.extension()?.to_str()?.to_ascii_lowercase();
        match ext.as_str() {
            "json" | "jsonl" => Some(Format::Json),
            "txt" => Some(Format::Table),
            "csv" => Some(Format::Csv),
            "md" | "markdown" => Some(Format::Markdown),
            "prom" => Some(Format::Prom),
            _ => None,
        }
    }

    /// The mode a file of this format gets: the Prometheus export carries no cmdline and is
    /// read by node_exporter as its own user (0644); the others can carry secrets in cmdlines
    /// (0600).
    pub fn file_mode(self) -> u32 {
        match self {
            Format::Prom => output::write::SHARED,
            Format::Json | Format::Table | Format::Csv | Format::Markdown => output::write::PRIVATE,
        }
    }
}

/// Writes `snap` in `format`; `pretty` indents JSON.
pub fn write(w: &mut dyn Write, snap: &Snapshot, format: Format, pretty: bool) -> io::Result<()> {
    match format {
        Format::Json => output::write_json(w, snap, pretty),
        Format::Table => w.write_all(output::table::render(snap).as_bytes()),
        Format::Csv => csv::write(w, snap),
        Format::Markdown => markdown::write(w, snap),
        Format::Prom => prom::write(w, snap),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_by_extension() {
        for f in Format::ALL {
            let name = format!("x.{}", f.extension());
            assert_eq!(Format::from_path(Path::new(&name)), Some(f));
        }
        assert_eq!(Format::from_path(Path::new("a.JSONL")), Some(Format::Json));
        assert_eq!(Format::from_path(Path::new("a.xlsx")), None);
        assert_eq!(Format::from_path(Path::new("noext")), None);
    }
}
