//! The strict loader for snapshot files (`bindscope snapshot -o`: one JSON object, compact
//! or pretty) and recordings (`bindscope record -o`: JSON Lines, one snapshot a line).
//!
//! A file from a colleague, a ticket or another tool is untrusted: it may be truncated,
//! hostile, huge, or written by a newer bindscope. Loading never panics and every error
//! names the file and says what is wrong and where (line, column, which snapshot).
//!
//! How a file is read, and why:
//! - It is opened with the user's own rights, and only if it is a regular file (a FIFO
//!   would block, a device never ends). Its size is checked (fstat) before a byte is read,
//!   and the count is checked again while reading, so a file that grows cannot exhaust memory.
//! - Snapshots are parsed straight from the file, one after another (serde_json's stream
//!   deserializer), never through a `serde_json::Value` of the whole file: peak memory stays
//!   near the size of the result. Strings that repeat across holders and frames (process
//!   names, cmdlines, users) are shared as each socket is parsed, as the collector shares
//!   them.
//! - Memory is bounded as well as bytes: every value kept is charged what it costs while it
//!   is parsed (module `budget`), and a file whose values would take more than
//!   [`Limits::memory_per_byte`] times its size (plus a floor) is refused where that
//!   happens, by line, column and path (`sockets[0].holders[0].cmdline[2000000]`): a file
//!   of tiny values (`["a","a",...]`) would otherwise take 19 times its size.
//! - A file holding one JSON value is a snapshot; more than one (whitespace-separated, which
//!   covers JSON Lines and what `jq .` prints over a recording) is a recording.
//! - `format` and `version` are judged before field errors: a version-2 file whose fields
//!   changed gets "written by a newer bindscope", not "missing field".
//! - A recording whose last line is cut off (no trailing newline, does not parse: what a
//!   killed `record` leaves) loads its complete snapshots with a warning.
//! - After parsing, each snapshot is checked for what would break the program (duplicate
//!   socket ids: an error, see [`LoadError::DuplicateSocketId`]) and for what is only odd
//!   (references to namespaces or sockets that are not in the file, frames out of time
//!   order): warnings, counted once per file rather than once per socket.
//!
//! Text quoted from the file in errors and warnings is passed through
//! [`clean`](crate::text::clean) and shortened: messages go to a terminal.
//!
//! The parts, in the order a load goes through them:
//! - `read`: the file read within its size limit, UTF-8 checked as it arrives;
//! - `stream`: one snapshot after another parsed from it, and a failure turned into the
//!   error to report;
//! - `budget`: the memory every parsed value costs, charged as it is parsed;
//! - `frame`, `share`: one snapshot, its sockets parsed one at a time, their strings shared;
//! - `header`: `format` and `version`, judged before field errors;
//! - `checks`: the checks across a snapshot and across frames, and their warnings;
//! - `reread`: a failed file read again to explain the failure;
//! - `error`: the error type, locations, and the wording every message shares.

mod budget;
mod checks;
mod error;
mod frame;
mod header;
mod read;
mod reread;
mod share;
mod stream;
#[cfg(test)]
mod tests;

pub use error::{LoadError, Location};

use crate::model::Snapshot;
use budget::Budget;
use read::{Guard, GuardState, first_bad_utf8};
use reread::{FileSource, SliceSource};
use std::io::BufReader;
use std::path::{Path, PathBuf};
use std::rc::Rc;
use stream::{finish, parse_frames};

/// How much a file may hold before it is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Largest file, in bytes.
    pub max_bytes: u64,
    /// Most snapshots in one recording.
    pub max_frames: usize,
    /// Memory the loaded snapshots may take, estimated while parsing (see
    /// [`LoadError::TooManyValues`]): this many bytes for each byte of the file...
    pub memory_per_byte: u64,
    /// ...plus this many bytes.
    pub memory_floor: u64,
}

impl Default for Limits {
    /// 1 GiB: a snapshot of 50,000 sockets is tens of MB, so this leaves room for long
    /// recordings, while a wrong file (a disk image, a core dump) is refused before it is
    /// read. 100,000 frames: more than a day of `record` at one sample a second; beyond
    /// that a timeline is no longer something to scroll through, and every frame costs
    /// memory even when it is small.
    ///
    /// Memory: twice the file's size plus 16 MiB. Files that bindscope writes are charged
    /// less than their size, since field names take no memory and repeated cmdlines are
    /// shared (the tests load them at 1 byte per byte with no floor). Peak RSS measured
    /// for one load: a compact snapshot of 150,000 sockets (138 MB) 163 MB, the same
    /// pretty (219 MB) 163 MB, a recording of 3,000 frames (80 MB) 105 MB, 20,000 sockets
    /// each held by 8 workers sharing a 40-argument cmdline (105 MB) 26 MB. Only values
    /// far smaller than their slot in memory go past 2 (`""` is 3 bytes of JSON for a
    /// 24-byte `String`): millions of them, which no host produces, or a few in a small
    /// file, which the 16 MiB absorbs (a cmdline of 200,000 one-letter arguments). With
    /// the copies the charges leave out (a cmdline's `Vec` turned into an `Arc<[String]>`),
    /// a 100 MB file that just passes peaks at 288 MB; a refused one stops near 2 times
    /// its size. Without the budget, 100 MB of `"a"` in a cmdline took 1.9 GB.
    fn default() -> Self {
        Limits {
            max_bytes: 1 << 30,
            max_frames: 100_000,
            memory_per_byte: 2,
            memory_floor: 16 << 20,
        }
    }
}

/// What a file turned out to be.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileKind {
    /// One snapshot. A recording of a single line is indistinguishable from a compact
    /// snapshot file and is reported as this.
    Snapshot,
    /// Several snapshots (or one followed by a cut-off line), oldest first.
    Recording,
}

/// A loaded file: its snapshots and what was odd about it.
#[derive(Debug, Clone)]
pub struct Loaded {
    pub path: PathBuf,
    pub kind: FileKind,
    /// At least one; a snapshot file has exactly one.
    pub frames: Vec<Snapshot>,
    /// Self-contained sentences that name the file: show them as they are.
    pub warnings: Vec<String>,
}

/// Loads a snapshot or recording file. The size is checked before reading, and the file is
/// parsed as it is read.
pub fn load_path(path: &Path, limits: &Limits) -> Result<Loaded, LoadError> {
    let io_err = |source| LoadError::Io {
        path: path.to_path_buf(),
        source,
    };
    // With the user's own rights, and only a regular file: a FIFO would block forever.
    let file = crate::user_files::open_read(path).map_err(io_err)?;
    let meta = file.metadata().map_err(io_err)?;
    // A file that grows while it is read is stopped by the guard below.
    if meta.len() > limits.max_bytes {
        return Err(too_large(path, Some(meta.len()), limits));
    }
    let state = GuardState::default();
    let budget = Budget::new(
        limits.memory_per_byte,
        limits.memory_floor,
        meta.len(),
        Rc::clone(&state.read),
    );
    let guard = Guard::new(&file, limits.max_bytes, &state);
    let de = serde_json::Deserializer::from_reader(BufReader::with_capacity(1 << 16, guard));
    let parsed = parse_frames(path, de, limits, budget);
    // The guard refuses to read on when the file is over the limit or not UTF-8: its own
    // diagnosis is the one to report, not serde_json's wrapping of it.
    if state.over.get() {
        return Err(too_large(path, None, limits));
    }
    if let Some(at) = state.utf8.bad.get() {
        return Err(LoadError::Utf8 {
            path: path.to_path_buf(),
            at,
        });
    }
    let ends_with_newline = state.last.get() == Some(b'\n');
    let source = FileSource {
        file: &file,
        limits,
    };
    finish(path, parsed?, ends_with_newline, &source, limits)
}

/// Loads a snapshot or recording from memory, by the same rules as [`load_path`]; `name` is
/// only used in messages. Pure: standard input (`diff -`, read whole first), tests and fuzzing.
pub fn load_bytes(name: &Path, bytes: &[u8], limits: &Limits) -> Result<Loaded, LoadError> {
    let len = u64::try_from(bytes.len()).unwrap_or(u64::MAX);
    if len > limits.max_bytes {
        return Err(too_large(name, Some(len), limits));
    }
    if let Some(at) = first_bad_utf8(bytes) {
        return Err(LoadError::Utf8 {
            path: name.to_path_buf(),
            at,
        });
    }
    let budget = Budget::new(
        limits.memory_per_byte,
        limits.memory_floor,
        len,
        Rc::default(),
    );
    let de = serde_json::Deserializer::from_slice(bytes);
    let parsed = parse_frames(name, de, limits, budget)?;
    let ends_with_newline = bytes.last() == Some(&b'\n');
    finish(name, parsed, ends_with_newline, &SliceSource(bytes), limits)
}

fn too_large(path: &Path, size: Option<u64>, limits: &Limits) -> LoadError {
    LoadError::TooLarge {
        path: path.to_path_buf(),
        size,
        limit: limits.max_bytes,
    }
}
