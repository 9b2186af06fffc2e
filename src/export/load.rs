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

mod budget;

use crate::model::{FORMAT, NetnsId, Snapshot, Socket, SocketId, VERSION};
use crate::text::clean;
use budget::{Budget, Overrun};
use serde::Deserialize;
use serde::de::value::{MapAccessDeserializer, SeqDeserializer};
use serde::de::{self, DeserializeSeed, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde_json::error::Category;
use std::cell::{Cell, RefCell};
use std::collections::HashSet;
use std::fmt;
use std::fs::File;
use std::io::{self, BufRead, BufReader, Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};
use std::rc::Rc;
use std::sync::Arc;
use std::time::SystemTime;

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
    fn at(line: usize, column: usize) -> Self {
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

// ---------------------------------------------------------------------------------------
// Parsing the stream of snapshots

/// The snapshots parsed before the first failure, and the failure.
struct Parsed {
    frames: Vec<Snapshot>,
    checks: Checks,
    failure: Option<Failure>,
}

/// A value that did not parse: the error, which value (from 0) and where it starts, and
/// where the memory budget ran out if that stopped it.
struct Failure {
    error: serde_json::Error,
    index: usize,
    start: usize,
    overrun: Option<Overrun>,
}

/// Parses one value after another, within `budget`. Each parsed snapshot is checked at
/// once, so a newer version in the middle of a recording stops the load there.
fn parse_frames<'de, R: serde_json::de::Read<'de>>(
    name: &Path,
    de: serde_json::Deserializer<R>,
    limits: &Limits,
    budget: Budget,
) -> Result<Parsed, LoadError> {
    let context = Rc::new(Context {
        budget,
        interner: RefCell::default(),
    });
    while_loading(Rc::clone(&context), || {
        parse_stream(name, de, limits, &context.budget)
    })
}

/// What the parse of one file shares: its memory budget, and the strings already seen,
/// so that each socket's holders share them as soon as the socket is parsed.
struct Context {
    budget: Budget,
    interner: RefCell<Interner>,
}

thread_local! {
    /// The load running on this thread. serde_json's stream deserializer builds each
    /// snapshot through `Deserialize`, which takes no context: [`Frame`] finds it here.
    /// Set only inside [`while_loading`].
    static LOADING: RefCell<Option<Rc<Context>>> = const { RefCell::new(None) };
}

/// Runs `f` with `context` as the load of this thread.
fn while_loading<T>(context: Rc<Context>, f: impl FnOnce() -> T) -> T {
    /// Restores the previous context however `f` ends.
    struct Restore(Option<Rc<Context>>);
    impl Drop for Restore {
        fn drop(&mut self) {
            let previous = self.0.take();
            LOADING.with(|c| *c.borrow_mut() = previous);
        }
    }
    let _restore = Restore(LOADING.with(|c| c.borrow_mut().replace(context)));
    f()
}

fn parse_stream<'de, R: serde_json::de::Read<'de>>(
    name: &Path,
    de: serde_json::Deserializer<R>,
    limits: &Limits,
    budget: &Budget,
) -> Result<Parsed, LoadError> {
    let mut stream = de.into_iter::<Frame>();
    let mut frames = Vec::new();
    let mut checks = Checks::default();
    while let Some(next) = stream.next() {
        let index = frames.len();
        let snap = match next {
            Ok(Frame(snap)) => snap,
            Err(error) => {
                // After an error, the offset is where the failed value starts.
                let failure = Failure {
                    error,
                    index,
                    start: stream.byte_offset(),
                    overrun: budget.overrun(),
                };
                return Ok(Parsed {
                    frames,
                    checks,
                    failure: Some(failure),
                });
            }
        };
        if index >= limits.max_frames {
            return Err(LoadError::TooManyFrames {
                path: name.to_path_buf(),
                limit: limits.max_frames,
            });
        }
        check_header(name, frame_no(index), &snap.format, snap.version)?;
        checks.frame(name, index, &snap)?;
        frames.push(snap);
    }
    Ok(Parsed {
        frames,
        checks,
        failure: None,
    })
}

/// Turns what was parsed into the result: a cut-off last line is a warning, any other
/// failure an error, judged by format and version first.
fn finish(
    name: &Path,
    parsed: Parsed,
    ends_with_newline: bool,
    source: &dyn Reread,
    limits: &Limits,
) -> Result<Loaded, LoadError> {
    let Parsed {
        frames,
        checks,
        failure,
    } = parsed;
    let mut cut_off = None;
    if let Some(f) = failure {
        if f.error.classify() == Category::Io {
            return Err(LoadError::Io {
                path: name.to_path_buf(),
                source: f.error.into(),
            });
        }
        // What a killed `record` leaves: complete lines, then part of one, no newline.
        if f.error.is_eof() && !frames.is_empty() && !ends_with_newline {
            cut_off = Some(f.error.line());
        } else {
            judge_header(name, frame_no(f.index), &source.header_at(f.start))?;
            return Err(parse_error(name, &f, source, limits));
        }
    }
    if frames.is_empty() {
        return Err(LoadError::Empty {
            path: name.to_path_buf(),
        });
    }
    let kind = if frames.len() > 1 || cut_off.is_some() {
        FileKind::Recording
    } else {
        FileKind::Snapshot
    };
    let mut warnings = checks.warnings(name, kind);
    if let Some(line) = cut_off {
        warnings.push(format!(
            "{}, line {line}: the last line is incomplete (the recording was cut off): ignored",
            quoted(name)
        ));
    }
    Ok(Loaded {
        path: name.to_path_buf(),
        kind,
        frames,
        warnings,
    })
}

/// The number to name a snapshot by in messages: only from the second on, when the file is
/// surely a recording (the first of a one-line file is the whole file).
fn frame_no(index: usize) -> Option<usize> {
    (index > 0).then_some(index + 1)
}

/// A serde_json error as a load error with its position and, in a recording, the line
/// the broken snapshot starts on (a line that does not close its object is noticed on the
/// next one).
fn parse_error(name: &Path, f: &Failure, source: &dyn Reread, limits: &Limits) -> LoadError {
    let frame = frame_no(f.index);
    let at = Location {
        frame,
        frame_line: frame.and_then(|_| source.line_at(f.start)),
        ..Location::at(f.error.line(), f.error.column())
    };
    let path = name.to_path_buf();
    if let Some(over) = &f.overrun {
        return LoadError::TooManyValues {
            path,
            at,
            place: over.place.clone(),
            allowed: over.allowed,
            per_byte: limits.memory_per_byte,
            floor: limits.memory_floor,
        };
    }
    let message = message_of(&f.error);
    match f.error.classify() {
        Category::Data => LoadError::Field { path, at, message },
        // serde_json says "expected value" (a syntax error) when an enum meets a number,
        // array or literal: in valid JSON it is the field's type that is wrong.
        Category::Syntax if message == "expected value" && source.valid_at(f.start) => {
            LoadError::Field {
                path,
                at,
                message: "invalid type: expected a string naming one of this field's values".into(),
            }
        }
        Category::Eof => LoadError::Truncated { path, at, message },
        _ => LoadError::Syntax { path, at, message },
    }
}

/// The values of a file that failed, read again: only on the error path.
trait Reread {
    /// `format` and `version` of the value that starts at byte `start`.
    fn header_at(&self, start: usize) -> Header;
    /// The line (from 1) byte `offset` is on.
    fn line_at(&self, offset: usize) -> Option<usize>;
    /// Whether the value at `start` is syntactically valid JSON.
    fn valid_at(&self, start: usize) -> bool;
}

fn valid_json<'de, R: serde_json::de::Read<'de>>(mut de: serde_json::Deserializer<R>) -> bool {
    IgnoredAny::deserialize(&mut de).is_ok()
}

struct SliceSource<'a>(&'a [u8]);

impl Reread for SliceSource<'_> {
    fn header_at(&self, start: usize) -> Header {
        header_in(serde_json::Deserializer::from_slice(
            self.0.get(start..).unwrap_or_default(),
        ))
    }

    fn valid_at(&self, start: usize) -> bool {
        let rest = self.0.get(start..).unwrap_or_default();
        valid_json(serde_json::Deserializer::from_slice(rest))
    }

    fn line_at(&self, offset: usize) -> Option<usize> {
        let before = self.0.get(..offset)?;
        Some(before.iter().filter(|&&b| b == b'\n').count() + 1)
    }
}

struct FileSource<'a> {
    file: &'a File,
    limits: &'a Limits,
}

impl FileSource<'_> {
    /// The file from byte `start` on, within the limit; `None` when it cannot seek (a pipe).
    fn reader_at(&self, start: usize) -> Option<BufReader<io::Take<&File>>> {
        let start = u64::try_from(start).ok()?;
        let mut reader = self.file;
        reader.seek(SeekFrom::Start(start)).ok()?;
        let left = self.limits.max_bytes.saturating_sub(start);
        Some(BufReader::new(reader.take(left)))
    }
}

impl Reread for FileSource<'_> {
    fn header_at(&self, start: usize) -> Header {
        self.reader_at(start)
            .map(|r| header_in(serde_json::Deserializer::from_reader(r)))
            .unwrap_or_default()
    }

    fn valid_at(&self, start: usize) -> bool {
        self.reader_at(start)
            .is_some_and(|r| valid_json(serde_json::Deserializer::from_reader(r)))
    }

    fn line_at(&self, offset: usize) -> Option<usize> {
        let mut reader = self.file;
        reader.seek(SeekFrom::Start(0)).ok()?;
        let len = u64::try_from(offset).unwrap_or(u64::MAX);
        let mut before = BufReader::new(reader.take(len));
        let mut line = 1;
        while let Ok(buf) = before.fill_buf() {
            if buf.is_empty() {
                break;
            }
            line += buf.iter().filter(|&&b| b == b'\n').count();
            let n = buf.len();
            before.consume(n);
        }
        Some(line)
    }
}

/// serde_json's message without the " at line L column C" it appends (we say it our way),
/// cleaned and shortened: it can quote the file (`unknown variant `...``).
fn message_of(err: &serde_json::Error) -> String {
    let full = err.to_string();
    let suffix = format!(" at line {} column {}", err.line(), err.column());
    let bare = full.strip_suffix(&suffix).unwrap_or(&full);
    shorten(&clean(bare), 300)
}

/// A snapshot, refused unless it is a JSON object: serde's derived structs also accept an
/// array of the fields in order, which no writer of this format produces. Parsed within
/// the budget of the load running on this thread (see [`LOADING`]), and its sockets one by
/// one (see [`FrameMap`]).
struct Frame(Snapshot);

impl<'de> Deserialize<'de> for Frame {
    fn deserialize<D: de::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let Some(context) = LOADING.with(|c| c.borrow().clone()) else {
            return Err(de::Error::custom("a snapshot is parsed only by the loader"));
        };
        let visitor = FrameVisitor { context: &context };
        budget::deserialize_map(d, &context.budget, visitor)
    }
}

struct FrameVisitor<'c> {
    context: &'c Context,
}

impl<'de> Visitor<'de> for FrameVisitor<'_> {
    type Value = Frame;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a bindscope snapshot (a JSON object)")
    }

    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Frame, A::Error> {
        self.context
            .budget
            .charge(std::mem::size_of::<Snapshot>())?;
        let mut sockets = Vec::new();
        let frame_map = FrameMap {
            map,
            context: self.context,
            sockets: &mut sockets,
        };
        let mut snap = Snapshot::deserialize(MapAccessDeserializer::new(frame_map))?;
        snap.sockets = sockets;
        Ok(Frame(snap))
    }
}

/// The fields of a snapshot, passed to its derived `Deserialize`, except the value of
/// `sockets`: that is parsed here, one socket at a time, and each socket's holders share
/// the process strings seen before at once ([`Interner`]). Otherwise every holder's copy
/// of its cmdline would stay in memory until the whole snapshot is parsed: a process
/// holding 10,000 sockets would be 10,000 cmdlines at the peak. The derived code is given
/// an empty list, and [`FrameVisitor`] puts the sockets in.
struct FrameMap<'c, 's, A> {
    map: A,
    context: &'c Context,
    sockets: &'s mut Vec<Socket>,
}

/// The snapshot field [`FrameMap`] parses itself (`Snapshot::sockets`).
const SOCKETS: &str = "sockets";

impl<'de, A: MapAccess<'de>> MapAccess<'de> for FrameMap<'_, '_, A> {
    type Error = A::Error;

    fn next_key_seed<K: DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, A::Error> {
        self.map.next_key_seed(seed)
    }

    fn next_value_seed<V: DeserializeSeed<'de>>(&mut self, seed: V) -> Result<V::Value, A::Error> {
        // The key was named in the budget's path as it was read. A repeated `sockets` is
        // refused by the derived code before its value is asked for.
        if !self.context.budget.at_key(SOCKETS) {
            return self.map.next_value_seed(seed);
        }
        self.map.next_value_seed(SocketsSeed {
            context: self.context,
            out: &mut *self.sockets,
        })?;
        seed.deserialize(SeqDeserializer::new(std::iter::empty::<()>()))
    }

    fn size_hint(&self) -> Option<usize> {
        self.map.size_hint()
    }
}

/// The list of sockets, each sharing its strings as soon as it is parsed.
struct SocketsSeed<'c, 's> {
    context: &'c Context,
    out: &'s mut Vec<Socket>,
}

impl<'de> DeserializeSeed<'de> for SocketsSeed<'_, '_> {
    type Value = ();

    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_seq(self)
    }
}

impl<'de> Visitor<'de> for SocketsSeed<'_, '_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a list of sockets")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        while let Some(mut socket) = seq.next_element::<Socket>()? {
            let freed = self.context.interner.borrow_mut().share(&mut socket);
            self.context.budget.refund(freed);
            self.out.push(socket);
        }
        Ok(())
    }
}

// ---------------------------------------------------------------------------------------
// Format and version, judged apart from the rest

/// `format` and `version` as found, whatever their type.
#[derive(Debug, Default)]
struct Header {
    format: Option<Scalar>,
    version: Option<Scalar>,
    /// The value was not an object: what it was.
    not_object: Option<&'static str>,
    /// The object was read to its end: a field not found is absent.
    complete: bool,
}

/// A JSON value reduced to what a message needs.
#[derive(Debug, Clone, PartialEq)]
enum Scalar {
    Str(String),
    UInt(u64),
    Int(i64),
    Float(f64),
    /// Anything else: its kind ("an array", "null", ...).
    Other(&'static str),
}

/// Reads `format` and `version` from the start of a value. The scan records them as it
/// meets them and stops once it has both, so a file broken further on still tells its
/// version; every error is ignored (the full parse already has the one to report).
fn header_in<'de, R: serde_json::de::Read<'de>>(mut de: serde_json::Deserializer<R>) -> Header {
    let mut header = Header::default();
    let _ = HeaderSeed(&mut header).deserialize(&mut de);
    header
}

struct HeaderSeed<'a>(&'a mut Header);

impl<'de> DeserializeSeed<'de> for HeaderSeed<'_> {
    type Value = ();

    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(self)
    }
}

/// The error that ends a header scan early; never shown.
const HEADER_DONE: &str = "header read";

impl<'de> Visitor<'de> for HeaderSeed<'_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        while let Some(key) = map.next_key::<HeaderKey>()? {
            match key {
                HeaderKey::Format if self.0.format.is_none() => {
                    self.0.format = Some(map.next_value()?);
                }
                HeaderKey::Version if self.0.version.is_none() => {
                    self.0.version = Some(map.next_value()?);
                }
                _ => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
            if self.0.format.is_some() && self.0.version.is_some() {
                return Err(de::Error::custom(HEADER_DONE));
            }
        }
        self.0.complete = true;
        Ok(())
    }

    fn visit_seq<A: SeqAccess<'de>>(self, _: A) -> Result<(), A::Error> {
        self.0.not_object = Some("a JSON array");
        Ok(())
    }

    fn visit_str<E: de::Error>(self, _: &str) -> Result<(), E> {
        self.0.not_object = Some("a JSON string");
        Ok(())
    }

    fn visit_bool<E: de::Error>(self, _: bool) -> Result<(), E> {
        self.0.not_object = Some("a JSON boolean");
        Ok(())
    }

    fn visit_u64<E: de::Error>(self, _: u64) -> Result<(), E> {
        self.0.not_object = Some("a JSON number");
        Ok(())
    }

    fn visit_i64<E: de::Error>(self, _: i64) -> Result<(), E> {
        self.0.not_object = Some("a JSON number");
        Ok(())
    }

    fn visit_f64<E: de::Error>(self, _: f64) -> Result<(), E> {
        self.0.not_object = Some("a JSON number");
        Ok(())
    }

    fn visit_unit<E: de::Error>(self) -> Result<(), E> {
        self.0.not_object = Some("null");
        Ok(())
    }
}

enum HeaderKey {
    Format,
    Version,
    Other,
}

impl<'de> Deserialize<'de> for HeaderKey {
    fn deserialize<D: de::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_str(HeaderKeyVisitor)
    }
}

struct HeaderKeyVisitor;

impl Visitor<'_> for HeaderKeyVisitor {
    type Value = HeaderKey;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a field name")
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<HeaderKey, E> {
        Ok(match v {
            "format" => HeaderKey::Format,
            "version" => HeaderKey::Version,
            _ => HeaderKey::Other,
        })
    }
}

impl<'de> Deserialize<'de> for Scalar {
    fn deserialize<D: de::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(ScalarVisitor)
    }
}

struct ScalarVisitor;

impl<'de> Visitor<'de> for ScalarVisitor {
    type Value = Scalar;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any JSON value")
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Scalar, E> {
        // Kept short: only a message quotes it.
        Ok(Scalar::Str(shorten(v, 100)))
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Scalar, E> {
        Ok(Scalar::UInt(v))
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Scalar, E> {
        Ok(Scalar::Int(v))
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Scalar, E> {
        Ok(Scalar::Float(v))
    }

    fn visit_bool<E: de::Error>(self, _: bool) -> Result<Scalar, E> {
        Ok(Scalar::Other("a boolean"))
    }

    fn visit_unit<E: de::Error>(self) -> Result<Scalar, E> {
        Ok(Scalar::Other("null"))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Scalar, A::Error> {
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok(Scalar::Other("an array"))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Scalar, A::Error> {
        while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
        Ok(Scalar::Other("an object"))
    }
}

impl fmt::Display for Scalar {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Scalar::Str(s) => write!(f, "the string {}", quoted_text(s)),
            Scalar::UInt(n) => write!(f, "{n}"),
            Scalar::Int(n) => write!(f, "{n}"),
            Scalar::Float(x) => write!(f, "{x}"),
            Scalar::Other(kind) => f.write_str(kind),
        }
    }
}

/// The header of a value that failed to parse: a wrong format or version is the error to
/// report, before any field error.
fn judge_header(name: &Path, frame: Option<usize>, h: &Header) -> Result<(), LoadError> {
    let not_snapshot = |why: String| LoadError::NotSnapshot {
        path: name.to_path_buf(),
        frame,
        why,
    };
    if let Some(kind) = h.not_object {
        return Err(not_snapshot(format!("it is {kind}, not an object")));
    }
    // A field not found before a syntax error may come after it: only a wrong value, or
    // a field absent from a complete object, is judged; otherwise the parse error speaks.
    match &h.format {
        Some(Scalar::Str(s)) => check_format(name, frame, s)?,
        Some(other) => return Err(not_snapshot(format!("its \"format\" is {other}"))),
        None if h.complete => {
            return Err(not_snapshot(format!("it has no \"format\": \"{FORMAT}\"")));
        }
        None => return Ok(()),
    }
    match &h.version {
        Some(Scalar::UInt(n)) => check_version(name, frame, *n),
        Some(other) => Err(LoadError::BadVersion {
            path: name.to_path_buf(),
            frame,
            why: format!("\"version\" is {other}, not a whole number"),
        }),
        None if h.complete => Err(LoadError::BadVersion {
            path: name.to_path_buf(),
            frame,
            why: "it has no \"version\"".into(),
        }),
        None => Ok(()),
    }
}

/// `format` and `version` of a snapshot that parsed.
fn check_header(
    name: &Path,
    frame: Option<usize>,
    format: &str,
    version: u32,
) -> Result<(), LoadError> {
    check_format(name, frame, format)?;
    check_version(name, frame, u64::from(version))
}

fn check_format(name: &Path, frame: Option<usize>, format: &str) -> Result<(), LoadError> {
    if format == FORMAT {
        return Ok(());
    }
    Err(LoadError::NotSnapshot {
        path: name.to_path_buf(),
        frame,
        why: format!(
            "its \"format\" is {}, not \"{FORMAT}\"",
            quoted_text(&shorten(format, 100))
        ),
    })
}

fn check_version(name: &Path, frame: Option<usize>, version: u64) -> Result<(), LoadError> {
    if version > u64::from(VERSION) {
        return Err(LoadError::NewerVersion {
            path: name.to_path_buf(),
            frame,
            version,
            supported: VERSION,
        });
    }
    if version == 0 {
        return Err(LoadError::BadVersion {
            path: name.to_path_buf(),
            frame,
            why: "\"version\" is 0, and versions start at 1".into(),
        });
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------
// Checks across a snapshot's parts and across frames

/// Odd things counted over the whole file: one warning per kind, with the first example.
#[derive(Default)]
struct Checks {
    socket_netns: Tally,
    holder_netns: Tally,
    marks: Tally,
    findings: Tally,
    bad_time: Tally,
    out_of_order: Tally,
    /// The previous frame's time, when it could be read.
    last_time: Option<(SystemTime, String)>,
}

/// How often something happened, and where first: (frame index, description).
#[derive(Default)]
struct Tally {
    count: usize,
    first: Option<(usize, String)>,
}

impl Tally {
    fn add(&mut self, index: usize, example: impl FnOnce() -> String) {
        self.count += 1;
        if self.first.is_none() {
            self.first = Some((index, example()));
        }
    }
}

impl Checks {
    /// Checks one snapshot: an error for what the program cannot show truthfully,
    /// tallies for the rest.
    fn frame(&mut self, name: &Path, index: usize, snap: &Snapshot) -> Result<(), LoadError> {
        let mut ids: HashSet<&SocketId> = HashSet::with_capacity(snap.sockets.len());
        for s in &snap.sockets {
            if !ids.insert(&s.id) {
                return Err(LoadError::DuplicateSocketId {
                    path: name.to_path_buf(),
                    frame: frame_no(index),
                    id: s.id.clone(),
                });
            }
        }
        self.references(index, snap, &ids);
        self.time(index, &snap.taken_at);
        Ok(())
    }

    /// Namespaces and sockets named by parts of the snapshot that are not in it.
    fn references(&mut self, index: usize, snap: &Snapshot, ids: &HashSet<&SocketId>) {
        let listed: HashSet<NetnsId> = snap.netns.iter().map(|n| n.id).collect();
        for s in &snap.sockets {
            if !listed.contains(&s.netns) {
                self.socket_netns.add(index, || {
                    format!("socket {} names {}", quoted_text(&s.id.0), s.netns)
                });
            }
            for h in &s.holders {
                match h.netns {
                    Some(ns) if !listed.contains(&ns) => self.holder_netns.add(index, || {
                        format!("pid {} holding {} names {ns}", h.pid, quoted_text(&s.id.0))
                    }),
                    _ => {}
                }
            }
        }
        for m in &snap.marks {
            if !ids.contains(&m.socket) {
                self.marks.add(index, || quoted_text(&m.socket.0));
            }
        }
        for f in &snap.findings {
            if let Some(id) = f.sockets.iter().find(|id| !ids.contains(id)) {
                self.findings.add(index, || {
                    format!(
                        "{} names {}",
                        quoted_text(f.kind.name()),
                        quoted_text(&id.0)
                    )
                });
            }
        }
    }

    /// `taken_at` readable, and not earlier than the frame before.
    fn time(&mut self, index: usize, taken_at: &str) {
        let Ok(t) = humantime::parse_rfc3339(taken_at) else {
            self.bad_time
                .add(index, || quoted_text(&shorten(taken_at, 60)));
            return;
        };
        if let Some((prev, prev_text)) = &self.last_time
            && t < *prev
        {
            self.out_of_order.add(index, || {
                format!(
                    "taken at {}, after one taken at {}",
                    quoted_text(taken_at),
                    quoted_text(prev_text)
                )
            });
        }
        self.last_time = Some((t, taken_at.to_string()));
    }

    /// The warnings, one sentence per kind of oddity that happened.
    fn warnings(&self, name: &Path, kind: FileKind) -> Vec<String> {
        let items: [(&Tally, &str, &str); 6] = [
            (
                &self.socket_netns,
                "socket",
                "name a network namespace that is not in the file's namespace list",
            ),
            (
                &self.holder_netns,
                "holder",
                "name a network namespace that is not in the file's namespace list",
            ),
            (
                &self.marks,
                "mark",
                "name a socket that is not in the snapshot: they are kept but show nowhere",
            ),
            (
                &self.findings,
                "finding",
                "name a socket that is not in the snapshot",
            ),
            (
                &self.bad_time,
                "snapshot",
                "have a taken_at that is not an RFC 3339 UTC time",
            ),
            (
                &self.out_of_order,
                "snapshot",
                "are earlier than the snapshot before them: the recording is not in time order",
            ),
        ];
        items
            .into_iter()
            .filter_map(|(tally, noun, what)| {
                let (index, example) = tally.first.as_ref()?;
                let place = match kind {
                    FileKind::Recording => format!(", in snapshot {}", index + 1),
                    FileKind::Snapshot => String::new(),
                };
                Some(format!(
                    "{}: {} {what} (first: {example}{place})",
                    quoted(name),
                    counted(tally.count, noun),
                ))
            })
            .collect()
    }
}

/// "1 socket", "3 sockets".
fn counted(n: usize, noun: &str) -> String {
    if n == 1 {
        format!("1 {noun}")
    } else {
        format!("{n} {noun}s")
    }
}

// ---------------------------------------------------------------------------------------
// Sharing repeated strings

/// Shares the strings that repeat across holders and frames: a process holding 10,000
/// sockets is one cmdline in memory, as when it was collected, not 10,000 copies.
#[derive(Default)]
struct Interner {
    strs: HashSet<Arc<str>>,
    cmdlines: HashSet<Arc<[String]>>,
}

impl Interner {
    /// Shares the strings of a socket just parsed; returns what the copies it dropped were
    /// charged to the memory budget.
    fn share(&mut self, s: &mut Socket) -> usize {
        let mut freed = self.share_opt(&mut s.user) + self.share_opt(&mut s.host);
        for reason in s.options.reasons.values_mut() {
            freed += self.share_str(reason.reason_mut());
        }
        for h in &mut s.holders {
            freed += self.share_str(&mut h.name)
                + self.share_opt(&mut h.user)
                + self.share_opt(&mut h.unit)
                + self.share_cmdline(&mut h.cmdline);
        }
        freed
    }

    fn share_opt(&mut self, s: &mut Option<Arc<str>>) -> usize {
        s.as_mut().map_or(0, |s| self.share_str(s))
    }

    fn share_str(&mut self, s: &mut Arc<str>) -> usize {
        match self.strs.get(&**s) {
            Some(shared) => {
                *s = Arc::clone(shared);
                budget::string_cost(s.len())
            }
            None => {
                self.strs.insert(Arc::clone(s));
                0
            }
        }
    }

    fn share_cmdline(&mut self, c: &mut Arc<[String]>) -> usize {
        match self.cmdlines.get(&**c) {
            Some(shared) => {
                *c = Arc::clone(shared);
                budget::strings_cost(c)
            }
            None => {
                self.cmdlines.insert(Arc::clone(c));
                0
            }
        }
    }
}

// ---------------------------------------------------------------------------------------
// Reading a file within limits

/// What the guard saw; shared with the caller, since the reader moves into serde_json.
#[derive(Default)]
struct GuardState {
    /// More bytes arrived than the limit allows.
    over: Cell<bool>,
    /// The last byte read: at the end of the file, whether it ends with a newline.
    last: Cell<Option<u8>>,
    /// Bytes read so far: shared with the memory budget, which grows with them when the
    /// size was not known in advance (a pipe).
    read: Rc<Cell<u64>>,
    utf8: Utf8State,
}

/// A reader that counts, stops at the limit and checks UTF-8 as bytes arrive.
struct Guard<'a> {
    inner: &'a File,
    left: u64,
    state: &'a GuardState,
}

impl<'a> Guard<'a> {
    fn new(inner: &'a File, limit: u64, state: &'a GuardState) -> Self {
        Guard {
            inner,
            left: limit,
            state,
        }
    }
}

impl Read for Guard<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        let chunk = buf.get(..n).unwrap_or_default();
        let len = u64::try_from(n).unwrap_or(u64::MAX);
        if len > self.left {
            self.state.over.set(true);
            return Err(io::Error::other("over the size limit"));
        }
        self.left -= len;
        self.state.read.set(self.state.read.get() + len);
        if let Some(&b) = chunk.last() {
            self.state.last.set(Some(b));
        }
        self.state.utf8.feed(chunk)
    }
}

/// Streaming UTF-8 validation. serde_json checks the strings it keeps, but not those it
/// skips (fields this build does not know): checked here, so no invalid file loads.
#[derive(Default)]
struct Utf8State {
    /// Up to 3 bytes of a character split across reads.
    carry: Cell<[u8; 4]>,
    carry_len: Cell<usize>,
    /// Line (from 1) and the offset where it starts, of the bytes checked so far.
    line: Cell<usize>,
    line_start: Cell<usize>,
    offset: Cell<usize>,
    bad: Cell<Option<Location>>,
}

impl Utf8State {
    /// Checks a chunk; an error stops serde_json (the location is in `bad`).
    fn feed(&self, chunk: &[u8]) -> io::Result<usize> {
        let rest = self.finish_carry(chunk)?;
        match std::str::from_utf8(rest) {
            Ok(_) => self.advance(rest),
            Err(e) => {
                let (good, tail) = rest.split_at(e.valid_up_to());
                self.advance(good);
                if e.error_len().is_some() || tail.len() > 3 {
                    return Err(self.fail());
                }
                // An incomplete character at the end: the next read completes it.
                let mut carry = [0u8; 4];
                carry[..tail.len()].copy_from_slice(tail);
                self.carry.set(carry);
                self.carry_len.set(tail.len());
            }
        }
        Ok(chunk.len())
    }

    /// Completes a character carried from the previous read with the first bytes of this
    /// one; returns the bytes after it.
    fn finish_carry<'c>(&self, mut chunk: &'c [u8]) -> io::Result<&'c [u8]> {
        let mut carry = self.carry.get();
        let mut len = self.carry_len.get();
        while len > 0 && len < 4 {
            let Some((&b, rest)) = chunk.split_first() else {
                break;
            };
            carry[len] = b;
            len += 1;
            chunk = rest;
            match std::str::from_utf8(&carry[..len]) {
                Ok(_) => {
                    self.advance(&carry[..len]);
                    len = 0;
                }
                Err(e) if e.error_len().is_some() => return Err(self.fail()),
                Err(_) => {}
            }
        }
        self.carry.set(carry);
        self.carry_len.set(len);
        Ok(chunk)
    }

    fn advance(&self, valid: &[u8]) {
        let base = self.offset.get();
        let mut line = self.line.get().max(1);
        let mut line_start = self.line_start.get();
        for (i, _) in valid.iter().enumerate().filter(|(_, b)| **b == b'\n') {
            line += 1;
            line_start = base + i + 1;
        }
        self.line.set(line);
        self.line_start.set(line_start);
        self.offset.set(base + valid.len());
    }

    fn fail(&self) -> io::Error {
        self.bad.set(Some(Location::at(
            self.line.get().max(1),
            self.offset.get() - self.line_start.get() + 1,
        )));
        io::Error::other("not valid UTF-8")
    }
}

/// Where the first byte that is not UTF-8 is, if any. An incomplete character at the very
/// end is left to the parser: it is a truncation (a cut-off recording), not bad text.
fn first_bad_utf8(bytes: &[u8]) -> Option<Location> {
    let e = std::str::from_utf8(bytes).err()?;
    e.error_len()?;
    let pos = e.valid_up_to();
    let before = bytes.get(..pos).unwrap_or_default();
    let line_start = before
        .iter()
        .rposition(|&b| b == b'\n')
        .map_or(0, |i| i + 1);
    Some(Location::at(
        before.iter().filter(|&&b| b == b'\n').count() + 1,
        pos - line_start + 1,
    ))
}

// ---------------------------------------------------------------------------------------
// Message helpers

/// A path as messages quote it: cleaned of control and bidi characters.
fn quoted(path: &Path) -> String {
    quoted_text(&path.display().to_string())
}

fn quoted_text(s: &str) -> String {
    format!("'{}'", clean(s))
}

/// "snapshot 3 of the recording (from line 3)" or "a snapshot".
fn which_snapshot(at: &Location) -> String {
    match (at.frame, at.frame_line) {
        (Some(n), Some(line)) => format!("snapshot {n} of the recording (from line {line})"),
        (Some(n), None) => format!("snapshot {n} of the recording"),
        (None, _) => "a snapshot".to_string(),
    }
}

fn frame_text(frame: Option<usize>) -> String {
    frame.map_or(String::new(), |n| {
        format!(" (snapshot {n} of the recording)")
    })
}

fn too_large_text(path: &Path, size: Option<u64>, limit: u64) -> String {
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
fn bytes_text(n: u64) -> String {
    match n {
        1 => "1 byte".to_string(),
        0..1024 => format!("{n} bytes"),
        _ => format!("{} ({n} bytes)", crate::output::size_text(n)),
    }
}

/// At most `max` characters, with "…" when cut.
fn shorten(s: &str, max: usize) -> String {
    match s.char_indices().nth(max) {
        Some((i, _)) => format!("{}…", s.get(..i).unwrap_or_default()),
        None => s.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Holder, Mark};
    use crate::testing::{netns, snapshot_of, socket};

    fn snap() -> Snapshot {
        snapshot_of(vec![socket()], vec![netns(1, Some("n"), None)])
    }

    fn compact(s: &Snapshot) -> String {
        serde_json::to_string(s).expect("json")
    }

    fn load(text: &str) -> Result<Loaded, LoadError> {
        load_bytes(Path::new("f.json"), text.as_bytes(), &Limits::default())
    }

    fn err(text: &str) -> LoadError {
        match load(text) {
            Ok(l) => panic!("loaded {} frames", l.frames.len()),
            Err(e) => e,
        }
    }

    /// A snapshot's JSON with `field` replaced by `value` (or removed when `None`).
    fn with_field(field: &str, value: Option<serde_json::Value>) -> String {
        let mut v = serde_json::to_value(snap()).expect("value");
        let obj = v.as_object_mut().expect("object");
        match value {
            Some(x) => obj.insert(field.into(), x),
            None => obj.remove(field),
        };
        serde_json::to_string(&v).expect("json")
    }

    #[test]
    fn compact_pretty_and_json_lines_are_told_apart() {
        let s = snap();
        let one = load(&compact(&s)).expect("compact");
        assert_eq!(
            (one.kind, one.frames.clone()),
            (FileKind::Snapshot, vec![s.clone()])
        );
        assert!(one.warnings.is_empty(), "{:?}", one.warnings);

        let pretty = serde_json::to_string_pretty(&s).expect("json") + "\n";
        let p = load(&pretty).expect("pretty");
        assert_eq!((p.kind, p.frames), (FileKind::Snapshot, vec![s.clone()]));

        let mut later = s.clone();
        later.taken_at = "2026-11-22T07:00:01Z".into();
        let lines = format!(
            "{}\n{}\n{}\n",
            compact(&s),
            compact(&later),
            compact(&later)
        );
        let r = load(&lines).expect("recording");
        assert_eq!(r.kind, FileKind::Recording);
        assert_eq!(r.frames, vec![s, later.clone(), later]);
        assert!(r.warnings.is_empty(), "{:?}", r.warnings);
    }

    #[test]
    fn empty_and_blank_files_are_empty() {
        for text in ["", " \n\t\r\n"] {
            let e = err(text);
            assert!(matches!(e, LoadError::Empty { .. }), "{e:?}");
            assert_eq!(e.to_string(), "'f.json' is empty: it holds no snapshot");
        }
    }

    #[test]
    fn broken_json_says_line_and_column() {
        let pretty = serde_json::to_string_pretty(&snap()).expect("json");
        // Line 3 is `"version": 1,`: break it.
        let broken = pretty.replacen("\"version\": 1,", "\"version\": 1,,", 1);
        let e = err(&broken);
        assert!(
            matches!(
                e,
                LoadError::Syntax {
                    at: Location { line: 3, .. },
                    ..
                }
            ),
            "{e:?}"
        );
        let msg = e.to_string();
        assert!(
            msg.starts_with("'f.json' is not valid JSON at line 3, column 16: "),
            "{msg}"
        );
        assert!(
            !msg.contains(" at line 3 column"),
            "position said twice: {msg}"
        );

        let e = err("{\"format\": tru");
        assert_eq!(
            e.to_string(),
            "'f.json' is truncated: it ends at line 1, column 14, inside a snapshot: EOF while parsing a value"
        );
        let e = err("{\"format\": \"a\nb\"}");
        assert_eq!(
            e.to_string(),
            "'f.json' is not valid JSON at the end of line 1: control character (\\u0000-\\u001F) found while parsing a string"
        );
        let e = err("@nonsense");
        assert!(
            e.to_string().contains("line 1, column 1: expected value"),
            "{e}"
        );
    }

    #[test]
    fn invalid_utf8_is_located_even_in_unknown_fields() {
        let mut bytes = b"{\n  \"format\": \"bindscope.snapshot\",\n  \"x\": \"ab".to_vec();
        bytes.extend_from_slice(&[0xff, b'"', b'}']);
        let e = load_bytes(Path::new("f.json"), &bytes, &Limits::default()).expect_err("utf8");
        assert_eq!(
            e.to_string(),
            "'f.json' is not valid UTF-8 at line 3, column 11"
        );
        // An escaped lone surrogate cannot become UTF-8 either: serde_json says why.
        let e = err("{\"format\":\"bindscope.snapshot\",\"version\":1,\"taken_at\":\"\\udc00\"}");
        assert_eq!(
            e.to_string(),
            "'f.json' is not valid JSON at line 1, column 61: lone leading surrogate in hex escape"
        );
    }

    #[test]
    fn streaming_utf8_check_spans_reads() {
        let state = Utf8State::default();
        let text = "a\né€😀".as_bytes();
        // Every split point, including inside the multi-byte characters.
        for cut in 0..text.len() {
            let state2 = Utf8State::default();
            let (a, b) = text.split_at(cut);
            state2.feed(a).expect("first half");
            state2.feed(b).expect("second half");
            assert_eq!(state2.carry_len.get(), 0);
        }
        state.feed(b"ok\nx").expect("ok");
        state.feed(&[0xe2, 0x82]).expect("incomplete is carried");
        assert!(state.feed(b"z").is_err());
        assert_eq!(state.bad.get(), Some(Location::at(2, 2)));
    }

    #[test]
    fn not_a_snapshot() {
        let e = err("[1, 2]");
        assert_eq!(
            e.to_string(),
            "'f.json' is not a bindscope snapshot file: it is a JSON array, not an object"
        );
        let e = err("{\"version\": 1, \"hello\": \"world\"}");
        assert_eq!(
            e.to_string(),
            "'f.json' is not a bindscope snapshot file: it has no \"format\": \"bindscope.snapshot\""
        );
        let e = err(&with_field("format", Some("other\u{1b}[2J".into())));
        assert_eq!(
            e.to_string(),
            "'f.json' is not a bindscope snapshot file: its \"format\" is 'other\\x1b[2J', not \"bindscope.snapshot\""
        );
        let e = err(&with_field("format", Some(7.into())));
        assert!(e.to_string().ends_with("its \"format\" is 7"), "{e}");
    }

    #[test]
    fn newer_version_wins_over_field_errors() {
        // A version-2 file whose fields changed: the version is the news, not the fields.
        let mut v = serde_json::to_value(snap()).expect("value");
        let obj = v.as_object_mut().expect("object");
        obj.insert("version".into(), 2.into());
        obj.insert("sockets".into(), "moved to sockets_v2".into());
        obj.remove("taken_at");
        let text = serde_json::to_string(&v).expect("json");
        let e = err(&text);
        assert_eq!(
            e.to_string(),
            "'f.json' was written by a newer bindscope (file format version 2, this one reads version 1): update bindscope to open it"
        );
        // Also when `version` comes after the broken field, and when the file is cut short
        // after it.
        let late = r#"{"format":"bindscope.snapshot","sockets":5,"version":2}"#;
        assert!(matches!(
            err(late),
            LoadError::NewerVersion { version: 2, .. }
        ));
        let cut = "{\"format\":\"bindscope.snapshot\",\"version\":9,\"taken_at\":";
        assert!(matches!(
            err(cut),
            LoadError::NewerVersion { version: 9, .. }
        ));
        // A version too large for the model is newer too.
        let huge = with_field("version", Some(u64::MAX.into()));
        assert!(matches!(
            err(&huge),
            LoadError::NewerVersion {
                version: u64::MAX,
                ..
            }
        ));
        // A newer version that happens to parse.
        let parses = with_field("version", Some(3.into()));
        assert!(matches!(
            err(&parses),
            LoadError::NewerVersion { version: 3, .. }
        ));
    }

    #[test]
    fn version_zero_missing_or_not_a_number() {
        let cases = [
            (
                Some(0.into()),
                "'f.json' has no valid version: \"version\" is 0, and versions start at 1",
            ),
            (None, "'f.json' has no valid version: it has no \"version\""),
            (
                Some("1".into()),
                "'f.json' has no valid version: \"version\" is the string '1', not a whole number",
            ),
            (
                Some((-1).into()),
                "'f.json' has no valid version: \"version\" is -1, not a whole number",
            ),
            (
                Some(1.5.into()),
                "'f.json' has no valid version: \"version\" is 1.5, not a whole number",
            ),
        ];
        for (value, msg) in cases {
            assert_eq!(err(&with_field("version", value)).to_string(), msg);
        }
    }

    #[test]
    fn field_errors_carry_serde_json_message_and_position() {
        let e = err(&with_field("taken_at", None));
        assert!(matches!(e, LoadError::Field { .. }), "{e:?}");
        let msg = e.to_string();
        assert!(
            msg.starts_with("'f.json' has an invalid field at line 1, column "),
            "{msg}"
        );
        assert!(msg.ends_with(": missing field `taken_at`"), "{msg}");

        let pretty = serde_json::to_string_pretty(&snap()).expect("json");
        let bad = pretty.replacen("\"local_port\": 8080", "\"local_port\": \"http\"", 1);
        let line = bad
            .lines()
            .position(|l| l.contains("\"http\""))
            .expect("line")
            + 1;
        let e = err(&bad);
        let LoadError::Field { at, message, .. } = &e else {
            panic!("{e:?}")
        };
        assert_eq!(at.line, line);
        assert!(
            message.starts_with("invalid type: string \"http\", expected u16"),
            "{message}"
        );
        // An enum given a number: serde_json calls it a syntax error; it is a type error.
        let bad = pretty.replacen("\"proto\": \"tcp\"", "\"proto\": 6", 1);
        let e = err(&bad);
        assert!(matches!(e, LoadError::Field { .. }), "{e:?}");
        assert!(
            e.to_string()
                .ends_with(": invalid type: expected a string naming one of this field's values"),
            "{e}"
        );
    }

    #[test]
    fn hostile_text_in_messages_is_cleaned_and_short() {
        let long = format!("\u{202e}{}", "x".repeat(10_000));
        let e = err(&with_field("view", Some(long.into())));
        let msg = e.to_string();
        assert!(msg.contains("\\u{202e}"), "{msg}");
        assert!(msg.len() < 600, "{} bytes", msg.len());
        let e =
            load_bytes(Path::new("evil\x1b[2J.json"), b"", &Limits::default()).expect_err("empty");
        assert_eq!(
            e.to_string(),
            "'evil\\x1b[2J.json' is empty: it holds no snapshot"
        );
    }

    #[test]
    fn a_cut_off_last_line_is_a_warning() {
        let line = compact(&snap());
        let cut = &line[..line.len() / 2];
        let text = format!("{line}\n{line}\n{cut}");
        let l = load(&text).expect("loads");
        assert_eq!((l.kind, l.frames.len()), (FileKind::Recording, 2));
        assert_eq!(
            l.warnings,
            vec![
                "'f.json', line 3: the last line is incomplete (the recording was cut off): ignored"
            ]
        );
        // Cut inside a multi-byte character: still a cut, not bad UTF-8.
        let mut bytes = format!("{line}\n{{\"format\":\"é").into_bytes();
        bytes.pop();
        let l = load_bytes(Path::new("f.json"), &bytes, &Limits::default()).expect("loads");
        assert_eq!(l.frames.len(), 1);
        assert_eq!(l.warnings.len(), 1);
        // With a newline after it, the line was written whole and is broken: an error.
        let e = err(&format!("{line}\n{line}\n{cut}\n"));
        assert_eq!(
            e.to_string(),
            "'f.json' is truncated: it ends at the end of line 3, inside snapshot 3 of the recording (from line 3): EOF while parsing a list"
        );
        // Only a cut-off line: nothing complete, an error.
        assert!(matches!(err(cut), LoadError::Truncated { .. }));
    }

    #[test]
    fn a_bad_line_inside_a_recording_is_an_error_with_its_number() {
        let line = compact(&snap());
        // A line that does not close its object is noticed on the next: both are said.
        let e = err(&format!("{line}\n{{\"oops\"\n{line}\n"));
        assert_eq!(
            e.to_string(),
            "'f.json' is not valid JSON at line 3, column 1 (in snapshot 2 of the recording, which starts on line 2): expected `:`"
        );
        assert!(
            matches!(
                e,
                LoadError::Syntax {
                    at: Location {
                        line: 3,
                        frame: Some(2),
                        frame_line: Some(2),
                        ..
                    },
                    ..
                }
            ),
            "{e:?}"
        );
        let newer = with_field("version", Some(2.into()));
        let e = err(&format!("{line}\n{line}\n{newer}\n"));
        assert_eq!(
            e.to_string(),
            "'f.json' (snapshot 3 of the recording) was written by a newer bindscope (file format version 2, this one reads version 1): update bindscope to open it"
        );
        let e = err(&format!("{line}\n{}\n", with_field("netns", None)));
        assert!(
            matches!(
                e,
                LoadError::Field {
                    at: Location {
                        line: 2,
                        frame: Some(2),
                        frame_line: Some(2),
                        ..
                    },
                    ..
                }
            ),
            "{e:?}"
        );
    }

    #[test]
    fn limits() {
        let text = compact(&snap());
        let tiny = Limits {
            max_bytes: 1,
            max_frames: 10,
            ..Limits::default()
        };
        let e = load_bytes(Path::new("f.json"), text.as_bytes(), &tiny).expect_err("too large");
        let msg = e.to_string();
        assert!(msg.starts_with("'f.json' is "), "{msg}");
        assert!(
            msg.contains(&format!("({} bytes), over the limit of 1 byte", text.len())),
            "{msg}"
        );
        let two = Limits {
            max_bytes: 1 << 20,
            max_frames: 2,
            ..Limits::default()
        };
        let three = format!("{text}\n{text}\n{text}\n");
        let e = load_bytes(Path::new("f.json"), three.as_bytes(), &two).expect_err("frames");
        assert_eq!(
            e.to_string(),
            "'f.json' holds more than 2 snapshots, the most one file may hold"
        );
        assert!(
            load_bytes(
                Path::new("f.json"),
                three.as_bytes()[..text.len() * 2 + 2].as_ref(),
                &two
            )
            .is_ok()
        );
    }

    /// [`snap`]'s JSON with the holder's cmdline `["web"]` replaced by `n` copies of `arg`.
    fn with_cmdline(n: usize, arg: &str) -> String {
        let text = compact(&snap());
        let args = vec![format!("{arg:?}"); n].join(",");
        let out = text.replacen(r#""cmdline":["web"]"#, &format!(r#""cmdline":[{args}]"#), 1);
        assert_ne!(out, text, "the cmdline is in the JSON as expected");
        out
    }

    /// The budget error of `text` under `limits`: its place, and the allowance it names.
    fn refused(text: &str, limits: &Limits) -> (String, u64, LoadError) {
        match load_bytes(Path::new("f.json"), text.as_bytes(), limits) {
            Err(e @ LoadError::TooManyValues { .. }) => {
                let LoadError::TooManyValues { place, allowed, .. } = &e else {
                    unreachable!()
                };
                (place.clone(), *allowed, e)
            }
            Err(e) => panic!("another error: {e}"),
            Ok(l) => panic!("loaded {} frames", l.frames.len()),
        }
    }

    #[test]
    fn a_cmdline_of_tiny_strings_is_refused_where_the_budget_runs_out() {
        // 500,000 `""`: 1.5 MB of JSON for 28 MB of model by the charges, over
        // 2 x 1.5 MB + 16 MiB. The file is refused while still in the cmdline.
        let text = with_cmdline(500_000, "");
        let (place, allowed, e) = refused(&text, &Limits::default());
        assert_eq!(allowed, 2 * text.len() as u64 + (16 << 20));
        let index: usize = place
            .strip_prefix("sockets[0].holders[0].cmdline[")
            .and_then(|rest| rest.strip_suffix(']'))
            .and_then(|n| n.parse().ok())
            .unwrap_or_else(|| panic!("{place}"));
        assert!((300_000..500_000).contains(&index), "{index}");
        let msg = e.to_string();
        let head = format!(
            "'f.json' would take more than {} of memory to load, the most allowed for its size \
             (2 bytes for each byte, plus 16.0 MiB): refused at line 1, column ",
            bytes_text(allowed)
        );
        assert!(msg.starts_with(&head), "{msg}");
        assert!(
            msg.ends_with(&format!(
                ", in {place}; snapshots written by bindscope take less than their size"
            )),
            "{msg}"
        );
        // The column is on the element named (`"",` from byte `start`, columns from 1), or on
        // the comma just before it: the reader stands there or inside the element depending
        // on which of the element's charges (its slot, its text) crosses the budget, which
        // depends on everything charged before, so on the sizes of the model's types.
        let LoadError::TooManyValues { at, .. } = e else {
            unreachable!()
        };
        let start = text.find(r#""cmdline":["#).expect("cmdline") + 11 + 3 * index;
        assert!(
            (start..=start + 3).contains(&at.column),
            "{at}: element {index} at {start}"
        );
    }

    #[test]
    fn other_dense_lists_are_refused_by_name() {
        let tight = Limits {
            memory_floor: 0,
            ..Limits::default()
        };
        let text = with_field("warnings", Some(vec![""; 1000].into()));
        let (place, _, _) = refused(&text, &tight);
        assert!(place.starts_with("warnings["), "{place}");

        // Holders as small as the format allows, in a socket of their own.
        let holder = r#"{"pid":0,"fd":0,"name":"","uid":0,"ruid":0,"cmdline":[]}"#;
        let text = compact(&snap()).replacen(
            r#""holders":["#,
            &format!(r#""holders":[{}"#, format!("{holder},").repeat(20_000)),
            1,
        );
        let (place, _, _) = refused(&text, &tight);
        assert!(place.starts_with("sockets[0].holders["), "{place}");

        // In a recording, the snapshot is named too.
        let line = compact(&snap());
        let text = format!("{line}\n{}\n", with_cmdline(1000, ""));
        let (place, _, e) = refused(&text, &tight);
        assert!(
            place.starts_with("sockets[0].holders[0].cmdline["),
            "{place}"
        );
        assert!(
            e.to_string().contains("line 2, column ") && e.to_string().contains("snapshot 2"),
            "{e}"
        );
    }

    #[test]
    fn sockets_are_parsed_once_and_a_repeated_list_is_refused() {
        let text = compact(&snap());
        let twice = text.replacen(r#""sockets":["#, r#""sockets":[],"sockets":["#, 1);
        let e = err(&twice);
        assert!(e.to_string().contains("duplicate field `sockets`"), "{e}");
        let e = err(&text.replacen(r#""sockets":["#, r#""sockets":7,"x":["#, 1));
        assert!(e.to_string().contains("expected a list of sockets"), "{e}");
    }

    #[test]
    fn real_files_load_in_less_than_their_size() {
        // No floor and 1 byte per byte: files as bindscope writes them fit, with holders
        // sharing their process's strings as each socket is parsed.
        let snug = Limits {
            memory_per_byte: 1,
            memory_floor: 0,
            ..Limits::default()
        };
        let many = |holders: usize, args: usize| {
            let cmdline: Vec<String> = (0..args).map(|i| format!("-Dp{i}=v{i}")).collect();
            let sockets = (0..300)
                .map(|i| {
                    let mut s = socket();
                    s.id = SocketId(format!("1-{i:x}"));
                    let h = s.holders[0].clone();
                    s.holders = (0..holders)
                        .map(|pid| Holder {
                            pid: pid as u32,
                            cmdline: cmdline.clone().into(),
                            ..h.clone()
                        })
                        .collect();
                    s
                })
                .collect();
            snapshot_of(sockets, vec![netns(1, Some("n"), None)])
        };
        // One holder each; a worker pool of 16 sharing a 40-argument cmdline.
        for s in [many(1, 3), many(16, 40)] {
            let text = compact(&s);
            let l = load_bytes(Path::new("f.json"), text.as_bytes(), &snug).expect("loads");
            assert_eq!(l.frames, vec![s]);
            let three = format!("{text}\n{text}\n{text}\n");
            let l = load_bytes(Path::new("f.json"), three.as_bytes(), &snug).expect("loads");
            assert_eq!(l.frames.len(), 3);
        }
    }

    #[test]
    fn duplicate_socket_ids_are_refused() {
        let s = snapshot_of(vec![socket(), socket()], vec![netns(1, None, None)]);
        let e = err(&compact(&s));
        assert_eq!(
            e.to_string(),
            "'f.json': socket id '1-2a' appears more than once, but ids must be unique in a snapshot"
        );
    }

    #[test]
    fn dangling_references_and_time_order_are_warnings() {
        let mut s = snap();
        s.netns.clear();
        s.marks.push(Mark {
            socket: SocketId("9-9".into()),
            note: "gone".into(),
        });
        let mut earlier = s.clone();
        earlier.taken_at = "2026-11-22T06:59:59.5Z".into();
        let text = format!(
            "{}\n{}\n{}\n",
            compact(&s),
            compact(&earlier),
            compact(&earlier)
        );
        let l = load(&text).expect("loads");
        assert_eq!(l.frames.len(), 3);
        assert_eq!(
            l.warnings,
            vec![
                "'f.json': 3 sockets name a network namespace that is not in the file's namespace list (first: socket '1-2a' names 1, in snapshot 1)",
                "'f.json': 3 holders name a network namespace that is not in the file's namespace list (first: pid 42 holding '1-2a' names 1, in snapshot 1)",
                "'f.json': 3 marks name a socket that is not in the snapshot: they are kept but show nowhere (first: '9-9', in snapshot 1)",
                "'f.json': 1 snapshot are earlier than the snapshot before them: the recording is not in time order (first: taken at '2026-11-22T06:59:59.5Z', after one taken at '2026-11-22T07:00:00Z', in snapshot 2)",
            ]
        );
        let mut odd = snap();
        odd.taken_at = "yesterday".into();
        let l = load(&compact(&odd)).expect("loads");
        assert_eq!(
            l.warnings,
            vec![
                "'f.json': 1 snapshot have a taken_at that is not an RFC 3339 UTC time (first: 'yesterday')"
            ]
        );
    }

    #[test]
    fn holders_share_strings_after_loading() {
        let mut s = snap();
        let mut other = socket();
        other.id = SocketId("1-2b".into());
        s.sockets.push(other);
        let l = load(&compact(&s)).expect("loads");
        let [a, b] = &l.frames[0].sockets[..] else {
            panic!("two sockets")
        };
        assert!(Arc::ptr_eq(&a.holders[0].cmdline, &b.holders[0].cmdline));
        assert!(Arc::ptr_eq(&a.holders[0].name, &b.holders[0].name));
        assert_eq!(l.frames[0], s);
    }

    #[test]
    fn files_are_checked_before_reading() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("s.json");
        let text = compact(&snap()) + "\n";
        std::fs::write(&path, &text).expect("write");
        let l = load_path(&path, &Limits::default()).expect("loads");
        assert_eq!((l.kind, l.frames), (FileKind::Snapshot, vec![snap()]));
        assert_eq!(l.path, path);

        let tiny = Limits {
            max_bytes: 10,
            max_frames: 1,
            ..Limits::default()
        };
        let e = load_path(&path, &tiny).expect_err("too large");
        assert!(
            matches!(e, LoadError::TooLarge { size: Some(n), limit: 10, .. } if n == text.len() as u64),
            "{e:?}"
        );

        let e = load_path(dir.path(), &Limits::default()).expect_err("dir");
        assert!(
            e.to_string()
                .ends_with("is a directory, not a regular file"),
            "{e}"
        );
        let e = load_path(&dir.path().join("missing"), &Limits::default()).expect_err("missing");
        assert!(e.to_string().starts_with("cannot read '"), "{e}");
    }

    #[test]
    fn files_give_the_same_answers_as_bytes() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("r.jsonl");
        let line = compact(&snap());
        let newer = with_field("version", Some(2.into()));
        let mut bad_utf8 = format!("{line}\n{{\"x\":\"").into_bytes();
        bad_utf8.extend_from_slice(&[0xc3, 0x28, b'"', b'}']);
        let cases: Vec<Vec<u8>> = vec![
            format!("{line}\n{line}\n{}", &line[..40]).into_bytes(),
            format!("{line}\n{newer}\n").into_bytes(),
            format!("{line}\n{}\n", with_field("taken_at", None)).into_bytes(),
            format!("{line}\n{}\n", with_field("view", Some(5.into()))).into_bytes(),
            bad_utf8,
            b"  \n".to_vec(),
        ];
        for bytes in cases {
            std::fs::write(&path, &bytes).expect("write");
            let from_file = load_path(&path, &Limits::default());
            let from_bytes = load_bytes(&path, &bytes, &Limits::default());
            match (from_file, from_bytes) {
                (Ok(a), Ok(b)) => {
                    assert_eq!(
                        (a.kind, a.frames, a.warnings),
                        (b.kind, b.frames, b.warnings)
                    )
                }
                (Err(a), Err(b)) => assert_eq!(a.to_string(), b.to_string()),
                (a, b) => panic!("file {a:?}, bytes {b:?}"),
            }
        }
    }

    #[test]
    fn devices_and_fifos_are_refused_at_once() {
        // /dev/zero never ends and a FIFO without a writer would block the open forever:
        // only regular files are read.
        for dev in ["/dev/zero", "/dev/null"] {
            let e = load_path(Path::new(dev), &Limits::default()).expect_err(dev);
            assert_eq!(
                e.to_string(),
                format!("cannot read '{dev}': is a character device, not a regular file")
            );
        }
        let dir = tempfile::tempdir().expect("tempdir");
        let fifo = dir.path().join("fifo");
        crate::testing::mkfifo(&fifo);
        let e = load_path(&fifo, &Limits::default()).expect_err("fifo");
        assert!(
            e.to_string()
                .ends_with("is a FIFO (named pipe), not a regular file"),
            "{e}"
        );
    }

    /// Loads `text` written into a named pipe by another thread.
    /// Standard input (`diff -`) is read whole, then loaded from memory.
    fn through_stdin(text: String, limits: &Limits) -> Result<Loaded, LoadError> {
        load_bytes(Path::new("standard input"), text.as_bytes(), limits)
    }

    #[test]
    fn standard_input_is_held_to_the_budget_of_what_it_sent() {
        // The allowance follows the bytes sent, so a real file loads without a floor, and
        // a hostile stream is refused as soon as its values outgrow what it sent.
        let no_floor = Limits {
            memory_floor: 0,
            ..Limits::default()
        };
        let sockets = (0..300)
            .map(|i| Socket {
                id: SocketId(format!("1-{i:x}")),
                ..socket()
            })
            .collect();
        let real = snapshot_of(sockets, vec![netns(1, Some("n"), None)]);
        let l = through_stdin(compact(&real), &no_floor).expect("loads");
        assert_eq!(l.frames, vec![real]);
        let e = through_stdin(with_cmdline(300_000, ""), &no_floor).expect_err("refused");
        assert!(
            matches!(&e, LoadError::TooManyValues { place, .. }
                if place.starts_with("sockets[0].holders[0].cmdline[")),
            "{e}"
        );
    }

    #[test]
    fn a_file_that_outgrows_the_limit_while_read_is_stopped() {
        // A pipe or device says size 0: the limit holds while reading.
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("big.json");
        std::fs::write(&path, " ".repeat(5000)).expect("write");
        let file = File::open(&path).expect("open");
        let state = GuardState::default();
        let mut guard = Guard::new(&file, 100, &state);
        let mut sink = Vec::new();
        assert!(guard.read_to_end(&mut sink).is_err());
        assert!(state.over.get());
        assert_eq!(
            too_large_text(&path, None, 100),
            format!(
                "{} holds more than the limit of 100 bytes (it grew while being read, or is a pipe or a device)",
                quoted(&path)
            )
        );
    }
}
