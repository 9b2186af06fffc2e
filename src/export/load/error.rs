//! What can go wrong in a load, where, and how it is said: the error type, the location in
//! the file, and the helpers every message uses (paths and file text quoted, cleaned and
//! shortened).

use crate::model::SocketId;
use crate::text::clean;
use std::fmt;
use std::io;
use std::path::{Path, PathBuf};

/// Where in a file something went wrong. Line and column count from 1, the column in bytes
/// (as serde_json counts); column 0 is the newline ending the line before. `frame` (from 1)
/// is given when the file is known to be a recording (from its second snapshot on), with
/// the line that snapshot starts on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Location {
    pub line: usize,
    pub column: usize,
    pub frame: Option<usize>,
    pub frame_line: Option<usize>,
}

impl Location {
    pub(super) fn at(line: usize, column: usize) -> Self {
        Location {
            line,
            column,
            frame: None,
            frame_line: None,
        }
    }
}

impl Location {
    /// "line 3, column 7", without the snapshot.
    pub fn position(&self) -> String {
        if self.column == 0 && self.line > 1 {
            format!("the end of line {}", self.line - 1)
        } else {
            format!("line {}, column {}", self.line, self.column)
        }
    }
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.position())?;
        match (self.frame, self.frame_line) {
            (Some(n), Some(start)) if start != self.line => write!(
                f,
                " (in snapshot {n} of the recording, which starts on line {start})"
            ),
            (Some(n), _) => write!(f, " (snapshot {n} of the recording)"),
            (None, _) => Ok(()),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    #[error("cannot read {}: {source}", quoted(.path))]
    Io {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    /// `size` is `None` when the file grew past the limit while being read, or is a pipe.
    #[error("{}", too_large_text(.path, *.size, *.limit))]
    TooLarge {
        path: PathBuf,
        size: Option<u64>,
        limit: u64,
    },
    #[error("{} is empty: it holds no snapshot", quoted(.path))]
    Empty { path: PathBuf },
    #[error("{} is not valid UTF-8 at {at}", quoted(.path))]
    Utf8 { path: PathBuf, at: Location },
    /// Broken JSON; `message` is serde_json's, without its position.
    #[error("{} is not valid JSON at {at}: {message}", quoted(.path))]
    Syntax {
        path: PathBuf,
        at: Location,
        message: String,
    },
    /// The file ends inside a snapshot (and is not a recording cut off after complete
    /// ones); `at` is where it ends.
    #[error("{} is truncated: it ends at {}, inside {}: {message}", quoted(.path), .at.position(), which_snapshot(.at))]
    Truncated {
        path: PathBuf,
        at: Location,
        message: String,
    },
    #[error("{}{} is not a bindscope snapshot file: {why}", quoted(.path), frame_text(*.frame))]
    NotSnapshot {
        path: PathBuf,
        frame: Option<usize>,
        why: String,
    },
    #[error(
        "{}{} was written by a newer bindscope (file format version {version}, this one reads version {supported}): update bindscope to open it",
        quoted(.path), frame_text(*.frame)
    )]
    NewerVersion {
        path: PathBuf,
        frame: Option<usize>,
        version: u64,
        supported: u32,
    },
    #[error("{}{} has no valid version: {why}", quoted(.path), frame_text(*.frame))]
    BadVersion {
        path: PathBuf,
        frame: Option<usize>,
        why: String,
    },
    /// A field is missing or has the wrong type; `message` is serde_json's.
    #[error("{} has an invalid field at {at}: {message}", quoted(.path))]
    Field {
        path: PathBuf,
        at: Location,
        message: String,
    },
    #[error("{} holds more than {limit} snapshots, the most one file may hold", quoted(.path))]
    TooManyFrames { path: PathBuf, limit: usize },
    /// The values parsed so far would take more memory than the limits allow a file of
    /// this size: a file packed with tiny values (millions of `""` in a cmdline). `place`
    /// is the value where the budget ran out (`sockets[0].holders[0].cmdline[2000000]`),
    /// `allowed` the budget in bytes.
    #[error(
        "{} would take more than {} of memory to load, the most allowed for its size ({} bytes for each byte, plus {}): refused at {at}, in {}; snapshots written by bindscope take less than their size",
        quoted(.path), bytes_text(*.allowed), .per_byte, crate::output::size_text(*.floor),
        if .place.is_empty() { "the snapshot" } else { .place.as_str() }
    )]
    TooManyValues {
        path: PathBuf,
        at: Location,
        place: String,
        allowed: u64,
        per_byte: u64,
        floor: u64,
    },
    /// Ids are unique in a snapshot by the file format; the dashboard keys rows, marks,
    /// findings and queue history by them, so a file that repeats one would show one
    /// socket's history, marks and findings on another. Refused rather than guessed.
    #[error(
        "{}{}: socket id {} appears more than once, but ids must be unique in a snapshot",
        quoted(.path), frame_text(*.frame), quoted_text(&.id.0)
    )]
    DuplicateSocketId {
        path: PathBuf,
        frame: Option<usize>,
        id: SocketId,
    },
}

/// A path as messages quote it: cleaned of control and bidi characters.
pub(super) fn quoted(path: &Path) -> String {
    quoted_text(&path.display().to_string())
}

pub(super) fn quoted_text(s: &str) -> String {
    format!("'{}'", clean(s))
}

/// "snapshot 3 of the recording (from line 3)" or "a snapshot".
pub(super) fn which_snapshot(at: &Location) -> String {
    match (at.frame, at.frame_line) {
        (Some(n), Some(line)) => format!("snapshot {n} of the recording (from line {line})"),
        (Some(n), None) => format!("snapshot {n} of the recording"),
        (None, _) => "a snapshot".to_string(),
    }
}

pub(super) fn frame_text(frame: Option<usize>) -> String {
    frame.map_or(String::new(), |n| {
        format!(" (snapshot {n} of the recording)")
    })
}

pub(super) fn too_large_text(path: &Path, size: Option<u64>, limit: u64) -> String {
    match size {
        Some(n) => format!(
            "{} is {}, over the limit of {}",
            quoted(path),
            bytes_text(n),
            bytes_text(limit)
        ),
        None => format!(
            "{} holds more than the limit of {} (it grew while being read, or is a pipe or a device)",
            quoted(path),
            bytes_text(limit)
        ),
    }
}

/// "1.5 GiB (1610612736 bytes)".
pub(super) fn bytes_text(n: u64) -> String {
    match n {
        1 => "1 byte".to_string(),
        0..1024 => format!("{n} bytes"),
        _ => format!("{} ({n} bytes)", crate::output::size_text(n)),
    }
}

/// At most `max` characters, with "…" when cut.
pub(super) fn shorten(s: &str, max: usize) -> String {
    match s.char_indices().nth(max) {
        Some((i, _)) => format!("{}…", s.get(..i).unwrap_or_default()),
        None => s.to_string(),
    }
}
