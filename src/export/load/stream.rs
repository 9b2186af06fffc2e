//! Parsing the stream of snapshots: one JSON value after another, each checked as it
//! arrives, and the first failure turned into the error to report (format and version
//! first, then serde_json's own diagnosis with our positions).

use super::budget::{Budget, Overrun};
use super::checks::Checks;
use super::error::{LoadError, Location, quoted, shorten};
use super::frame::Frame;
use super::header::{check_header, judge_header};
use super::reread::Reread;
use super::share::Interner;
use super::{FileKind, Limits, Loaded};
use crate::model::Snapshot;
use crate::text::clean;
use serde_json::error::Category;
use std::cell::RefCell;
use std::path::Path;
use std::rc::Rc;

/// The snapshots parsed before the first failure, and the failure.
pub(super) struct Parsed {
    frames: Vec<Snapshot>,
    checks: Checks,
    failure: Option<Failure>,
}

/// A value that did not parse: the error, which value (from 0) and where it starts, and
/// where the memory budget ran out if that stopped it.
pub(super) struct Failure {
    error: serde_json::Error,
    index: usize,
    start: usize,
    overrun: Option<Overrun>,
}

/// Parses one value after another, within `budget`. Each parsed snapshot is checked at
/// once, so a newer version in the middle of a recording stops the load there.
pub(super) fn parse_frames<'de, R: serde_json::de::Read<'de>>(
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
pub(super) struct Context {
    pub(super) budget: Budget,
    pub(super) interner: RefCell<Interner>,
}

thread_local! {
    /// The load running on this thread. serde_json's stream deserializer builds each
    /// snapshot through `Deserialize`, which takes no context: [`Frame`] finds it here.
    /// Set only inside [`while_loading`].
    pub(super) static LOADING: RefCell<Option<Rc<Context>>> = const { RefCell::new(None) };
}

/// Runs `f` with `context` as the load of this thread.
pub(super) fn while_loading<T>(context: Rc<Context>, f: impl FnOnce() -> T) -> T {
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

pub(super) fn parse_stream<'de, R: serde_json::de::Read<'de>>(
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
pub(super) fn finish(
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
pub(super) fn frame_no(index: usize) -> Option<usize> {
    (index > 0).then_some(index + 1)
}

/// A serde_json error as a load error with its position and, in a recording, the line
/// the broken snapshot starts on (a line that does not close its object is noticed on the
/// next one).
pub(super) fn parse_error(
    name: &Path,
    f: &Failure,
    source: &dyn Reread,
    limits: &Limits,
) -> LoadError {
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

/// serde_json's message without the " at line L column C" it appends (we say it our way),
/// cleaned and shortened: it can quote the file (`unknown variant `...``).
pub(super) fn message_of(err: &serde_json::Error) -> String {
    let full = err.to_string();
    let suffix = format!(" at line {} column {}", err.line(), err.column());
    let bare = full.strip_suffix(&suffix).unwrap_or(&full);
    shorten(&clean(bare), 300)
}
