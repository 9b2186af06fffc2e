//! Recordings read as they are written: `bindscope open -` (standard input, such as
//! `ssh -n host bindscope record -o - | bindscope open -`) and `open --follow FILE` (a
//! recording that `record` is still writing, as `tail -F` follows a log).
//!
//! A recording is JSON Lines, one whole snapshot a line (`record` writes each line in one
//! go). A reader thread per stream splits what arrives into lines ([`LineParser`]) and
//! parses each complete line with the strict loader, so a streamed snapshot is held to the
//! same checks as a file's. What a stream can do that a file cannot is reported as it
//! happens, never silently: a line that does not parse is skipped with a note naming it
//! (the samples before and after it stay); a last line cut off by the end (ssh dropped) is
//! a note; the end itself is an [`FeedEvent::Ended`] with its reason, and the dashboard
//! keeps the last good sample on screen. A followed file that shrinks was truncated (read
//! again from its start); a path that names another file now was rotated (the old file is
//! read to its end, then the new one from its start).

use super::load::{Limits, load_bytes};
use crate::model::Snapshot;
use crate::user_files::Stream;
use std::fs::File;
use std::io::{self, Read, Seek, SeekFrom};
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::sync::mpsc::{Receiver, Sender};
use std::thread::{self, JoinHandle};
use std::time::Duration;

/// How often a followed file is looked at again once its end is reached.
const FOLLOW_POLL: Duration = Duration::from_millis(200);

/// What a stream's reader tells the dashboard.
#[derive(Debug)]
pub enum FeedEvent {
    /// A complete snapshot, `bytes` long on the wire.
    Frame {
        source: usize,
        snap: Box<Snapshot>,
        bytes: u64,
    },
    /// Something the user should know that does not stop the stream (a skipped line, a
    /// truncated or rotated file): a sentence naming the stream.
    Note { source: usize, text: String },
    /// Nothing more will come, and why.
    Ended { source: usize, reason: String },
}

impl FeedEvent {
    /// The stream it came from.
    pub fn source(&self) -> usize {
        match self {
            FeedEvent::Frame { source, .. }
            | FeedEvent::Note { source, .. }
            | FeedEvent::Ended { source, .. } => *source,
        }
    }
}

/// The streams' events for the dashboard: those that came before it started (after each
/// stream's first sample), then the channel.
pub struct Feed {
    pub early: Vec<FeedEvent>,
    pub rx: Receiver<FeedEvent>,
}

/// Where a stream comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FeedSource {
    /// Standard input (`open -`).
    Stdin,
    /// A file followed as it grows (`open --follow FILE`).
    Follow(PathBuf),
}

impl FeedSource {
    /// How messages and the time line name it.
    pub fn name(&self) -> String {
        match self {
            FeedSource::Stdin => "standard input".into(),
            FeedSource::Follow(p) => format!("'{}'", crate::text::clean(&p.display().to_string())),
        }
    }

    /// The path the time line shows.
    pub fn path(&self) -> PathBuf {
        match self {
            FeedSource::Stdin => PathBuf::from("standard input"),
            FeedSource::Follow(p) => p.clone(),
        }
    }
}

/// What one line of a stream turned out to be.
#[derive(Debug)]
pub enum Parsed {
    Frame(Box<Snapshot>, u64),
    Note(String),
}

/// Splits a stream into snapshots and parses each complete one. A snapshot is one line
/// (JSON Lines, as `record` writes), or an object written over several lines, from a line
/// that is `{` alone to one that is `}` alone (as `snapshot --pretty`, the dashboard's
/// export and `jq .` write them). Pure: the readers feed it what they read.
pub struct LineParser {
    name: String,
    limits: Limits,
    /// The snapshot being read: its complete lines, then the current line's bytes.
    buf: Vec<u8>,
    /// Where the current line starts in `buf`.
    line_start: usize,
    /// Lines completed so far: the current line's number is this plus one.
    lines: u64,
    /// The line the snapshot in `buf` starts on, when it spans lines.
    block_from: Option<u64>,
    /// The snapshot being read went over the size limit: its bytes are dropped up to the
    /// end of its line (or of its block).
    skipping: bool,
}

impl LineParser {
    pub fn new(name: String, limits: Limits) -> LineParser {
        LineParser {
            name,
            limits,
            buf: Vec::new(),
            line_start: 0,
            lines: 0,
            block_from: None,
            skipping: false,
        }
    }

    /// Takes `chunk` in; every snapshot it completes is parsed into `out`.
    pub fn feed(&mut self, mut chunk: &[u8], out: &mut Vec<Parsed>) {
        while !chunk.is_empty() {
            let (part, rest, ended) = match chunk.iter().position(|&b| b == b'\n') {
                Some(i) => (&chunk[..i], &chunk[i + 1..], true),
                None => (chunk, &[][..], false),
            };
            chunk = rest;
            if !self.skipping {
                self.buf.extend_from_slice(part);
                if self.buf.len() as u64 > self.limits.max_bytes {
                    out.push(Parsed::Note(format!(
                        "{}, line {}: a snapshot longer than the limit of {} bytes (--max-size): skipped",
                        self.name,
                        self.block_from.unwrap_or(self.lines + 1),
                        self.limits.max_bytes
                    )));
                    self.buf = Vec::new();
                    self.line_start = 0;
                    self.skipping = true;
                }
            }
            if ended {
                self.line_ended(out);
            }
        }
    }

    /// A line is complete: a snapshot ends with it, or one spanning lines goes on.
    fn line_ended(&mut self, out: &mut Vec<Parsed>) {
        self.lines += 1;
        let line = self.buf.get(self.line_start..).unwrap_or_default();
        let alone = |c: &[u8]| line.strip_suffix(b"\r").unwrap_or(line) == c;
        if self.skipping {
            // A block over the limit is dropped to its closing line.
            if self.block_from.is_none() || alone(b"}") {
                self.skipping = false;
                self.block_from = None;
            }
            return;
        }
        match self.block_from {
            None if alone(b"{") => {
                self.block_from = Some(self.lines);
                self.buf.push(b'\n');
                self.line_start = self.buf.len();
            }
            Some(from) if alone(b"}") => {
                let block = std::mem::take(&mut self.buf);
                self.line_start = 0;
                self.block_from = None;
                self.parse(&block, from, out);
            }
            // A line that starts an object at the margin inside a block: the block never
            // closed (a pretty writer indents what is inside). It is dropped, and the line
            // read on its own, so a stray `{` cannot swallow a recording.
            Some(from) if line.first() == Some(&b'{') => {
                out.push(Parsed::Note(format!(
                    "{}, line {from}: an object that never closes: skipped",
                    self.name
                )));
                let one = self.buf.split_off(self.line_start);
                self.restart_keeping_count();
                if one == b"{" || one == b"{\r" {
                    self.block_from = Some(self.lines);
                    self.buf = one;
                    self.buf.push(b'\n');
                    self.line_start = self.buf.len();
                } else {
                    self.parse(&one, self.lines, out);
                }
            }
            Some(_) => {
                self.buf.push(b'\n');
                self.line_start = self.buf.len();
            }
            None => {
                let one = std::mem::take(&mut self.buf);
                self.line_start = 0;
                self.parse(&one, self.lines, out);
            }
        }
    }

    /// The stream ended: a snapshot left incomplete was cut off. Returns the note that
    /// says so, if any.
    pub fn finish(&mut self) -> Option<String> {
        let cut = !self.buf.iter().all(u8::is_ascii_whitespace) || self.skipping;
        let from = self.block_from.unwrap_or(self.lines + 1);
        self.restart_keeping_count();
        cut.then(|| {
            format!(
                "{}, line {from}: incomplete at the end (the stream was cut off): ignored",
                self.name,
            )
        })
    }

    /// Starts again at line 1 (a truncated file is read again from its start); a partial
    /// snapshot is dropped.
    pub fn restart(&mut self) {
        self.restart_keeping_count();
        self.lines = 0;
    }

    fn restart_keeping_count(&mut self) {
        self.buf.clear();
        self.line_start = 0;
        self.block_from = None;
        self.skipping = false;
    }

    /// Parses one snapshot, which starts on line `from`.
    fn parse(&self, line: &[u8], from: u64, out: &mut Vec<Parsed>) {
        if line.iter().all(u8::is_ascii_whitespace) {
            return;
        }
        let label = format!("line {from} of {}", self.name);
        match load_bytes(Path::new(&label), line, &self.limits) {
            Ok(loaded) => {
                out.extend(loaded.warnings.into_iter().map(Parsed::Note));
                let bytes = line.len() as u64 + 1;
                out.extend(
                    loaded
                        .frames
                        .into_iter()
                        .map(|f| Parsed::Frame(Box::new(f), bytes)),
                );
            }
            Err(e) => out.push(Parsed::Note(format!("{e}: skipped"))),
        }
    }
}

/// Starts the reader of stream `source`: its events go to `tx` until the stream ends or
/// nobody listens.
pub fn spawn(
    source: usize,
    from: FeedSource,
    limits: Limits,
    tx: Sender<FeedEvent>,
) -> io::Result<JoinHandle<()>> {
    let name = from.name();
    thread::Builder::new()
        .name(format!("feed-{source}"))
        .spawn(move || {
            let mut parser = LineParser::new(name, limits);
            let reason = match &from {
                FeedSource::Stdin => read_to_end(&mut io::stdin().lock(), source, &mut parser, &tx),
                FeedSource::Follow(path) => follow(path, source, &mut parser, &tx),
            };
            if let Some(reason) = reason {
                let _ = tx.send(FeedEvent::Ended { source, reason });
            }
        })
}

/// Sends what `parsed` holds; false when nobody listens any more.
fn send(source: usize, parsed: &mut Vec<Parsed>, tx: &Sender<FeedEvent>) -> bool {
    parsed.drain(..).all(|p| {
        let event = match p {
            Parsed::Frame(snap, bytes) => FeedEvent::Frame {
                source,
                snap,
                bytes,
            },
            Parsed::Note(text) => FeedEvent::Note { source, text },
        };
        tx.send(event).is_ok()
    })
}

/// Reads `r` to its end: the reason it ended, or `None` when nobody listens.
fn read_to_end(
    r: &mut dyn Read,
    source: usize,
    parser: &mut LineParser,
    tx: &Sender<FeedEvent>,
) -> Option<String> {
    let mut chunk = vec![0u8; 1 << 16];
    let mut parsed = Vec::new();
    loop {
        match r.read(&mut chunk) {
            Ok(0) => {
                parsed.extend(parser.finish().map(Parsed::Note));
                send(source, &mut parsed, tx).then_some(())?;
                return Some("end of input: the writer closed it".into());
            }
            Ok(n) => {
                parser.feed(&chunk[..n], &mut parsed);
                send(source, &mut parsed, tx).then_some(())?;
            }
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => {
                parsed.extend(parser.finish().map(Parsed::Note));
                send(source, &mut parsed, tx).then_some(())?;
                return Some(format!("reading it failed: {e}"));
            }
        }
    }
}

/// Which file a path names: device and inode.
fn identity(meta: &std::fs::Metadata) -> (u64, u64) {
    (meta.dev(), meta.ino())
}

/// Follows `path` as `tail -F` does: reads what is there, then what is added; a file that
/// shrinks is read again from its start, a path that names a new file is followed there
/// once the old one is read to its end. Ends only on a read error (or when nobody
/// listens: `None`).
fn follow(
    path: &Path,
    source: usize,
    parser: &mut LineParser,
    tx: &Sender<FeedEvent>,
) -> Option<String> {
    let name = FeedSource::Follow(path.to_path_buf()).name();
    // A name that is not there yet is waited for, as `tail -F` does (the recording has
    // not started).
    let mut said_missing = false;
    let mut file = loop {
        match crate::user_files::open_stream(path) {
            Ok(Stream::File(f)) => break f,
            // `<(ssh -n host bindscope record -o -)`: read as standard input is.
            Ok(Stream::Pipe(mut p)) => return read_to_end(&mut p, source, parser, tx),
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                if !said_missing {
                    said_missing = true;
                    let note = format!("{name} does not exist yet: waiting for it");
                    tx.send(FeedEvent::Note { source, text: note }).ok()?;
                }
                thread::sleep(FOLLOW_POLL);
            }
            Err(e) => return Some(format!("cannot open it: {e}")),
        }
    };
    let mut chunk = vec![0u8; 1 << 16];
    let mut parsed = Vec::new();
    let mut pos: u64 = 0;
    let mut missing_said = false;
    loop {
        // Everything there is now.
        loop {
            match file.read(&mut chunk) {
                Ok(0) => break,
                Ok(n) => {
                    pos += n as u64;
                    parser.feed(&chunk[..n], &mut parsed);
                    send(source, &mut parsed, tx).then_some(())?;
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                // O_NONBLOCK from open_read: a regular file never blocks, but be safe.
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                Err(e) => return Some(format!("reading it failed: {e}")),
            }
        }
        thread::sleep(FOLLOW_POLL);
        let len = match file.metadata() {
            Ok(m) => m.len(),
            Err(e) => return Some(format!("reading it failed: {e}")),
        };
        if len < pos {
            parser.restart();
            pos = 0;
            if let Err(e) = file.seek(SeekFrom::Start(0)) {
                return Some(format!("reading it again failed: {e}"));
            }
            parsed.push(Parsed::Note(format!(
                "{name} was truncated: reading it again from the start"
            )));
            send(source, &mut parsed, tx).then_some(())?;
            continue;
        }
        if len > pos {
            continue;
        }
        // At the end of the file: does the path still name it?
        let now = crate::user_files::as_user(|| std::fs::metadata(path));
        let ours = file.metadata().map(|m| identity(&m)).ok();
        match now {
            Ok(m) if Some(identity(&m)) != ours => match reopen(path, &mut file) {
                Ok(()) => {
                    pos = 0;
                    missing_said = false;
                    parsed.extend(parser.finish().map(Parsed::Note));
                    parser.restart();
                    parsed.push(Parsed::Note(format!(
                        "{name} was replaced (rotated): following the new file"
                    )));
                    send(source, &mut parsed, tx).then_some(())?;
                }
                Err(e) if !missing_said => {
                    missing_said = true;
                    parsed.push(Parsed::Note(format!(
                        "{name} names another file now, which cannot be opened ({e}): still reading the one that was open"
                    )));
                    send(source, &mut parsed, tx).then_some(())?;
                }
                Err(_) => {}
            },
            Err(_) if !missing_said => {
                missing_said = true;
                parsed.push(Parsed::Note(format!(
                    "{name} was removed: still reading the file that was open"
                )));
                send(source, &mut parsed, tx).then_some(())?;
            }
            _ => {}
        }
    }
}

/// Opens `path` again in place of `file`: the new file under the name, when it is one.
fn reopen(path: &Path, file: &mut File) -> io::Result<()> {
    *file = crate::user_files::open_read(path)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{netns, snapshot_of, socket};

    fn line(at: &str) -> Vec<u8> {
        let mut s = snapshot_of(vec![socket()], vec![netns(1, Some("host"), None)]);
        s.taken_at = at.into();
        let mut out = Vec::new();
        crate::output::json::to_writer(&mut out, &s).expect("json");
        out.push(b'\n');
        out
    }

    fn frames(parsed: &[Parsed]) -> Vec<String> {
        parsed
            .iter()
            .filter_map(|p| match p {
                Parsed::Frame(s, _) => Some(s.taken_at.screen_text()),
                Parsed::Note(_) => None,
            })
            .collect()
    }

    fn notes(parsed: &[Parsed]) -> Vec<String> {
        parsed
            .iter()
            .filter_map(|p| match p {
                Parsed::Note(n) => Some(n.clone()),
                Parsed::Frame(..) => None,
            })
            .collect()
    }

    /// Lines split anywhere across reads come out whole, in order; a bad line in the
    /// middle is a note that names it, and the lines around it stay.
    #[test]
    fn lines_across_reads_and_a_bad_one_between() {
        let mut all = line("2026-11-22T07:00:00Z");
        all.extend(b"{\"format\": \"bindscope.snapshot\", \"vers\n\n");
        all.extend(line("2026-11-22T07:00:01Z"));
        for cut in [1, 7, 100, all.len() - 1] {
            let mut p = LineParser::new("standard input".into(), Limits::default());
            let mut out = Vec::new();
            p.feed(&all[..cut], &mut out);
            p.feed(&all[cut..], &mut out);
            assert_eq!(frames(&out).len(), 2, "cut at {cut}");
            let n = notes(&out);
            assert_eq!(n.len(), 1, "{n:?}");
            assert!(n[0].contains("line 2 of standard input"), "{n:?}");
            assert!(n[0].ends_with("skipped"), "{n:?}");
            assert_eq!(p.finish(), None);
        }
    }

    /// Snapshots written over several lines (`snapshot --pretty`, the export, `jq .`)
    /// come out whole, between single-line ones; a block cut off at the end is said.
    #[test]
    fn pretty_snapshots_between_lines() {
        let mut s = snapshot_of(vec![socket()], vec![netns(1, Some("host"), None)]);
        s.taken_at = "2026-11-22T07:00:05Z".into();
        let mut pretty = Vec::new();
        crate::export::write(&mut pretty, &s, crate::export::Format::Json, true).expect("json");
        assert!(pretty.starts_with(b"{\n") && pretty.ends_with(b"}\n"));
        let mut all = line("2026-11-22T07:00:00Z");
        all.extend(&pretty);
        all.extend(line("2026-11-22T07:00:09Z"));
        all.extend(&pretty[..pretty.len() / 2]);
        for cut in [1, 50, all.len() / 2, all.len() - 3] {
            let mut p = LineParser::new("standard input".into(), Limits::default());
            let mut out = Vec::new();
            p.feed(&all[..cut], &mut out);
            p.feed(&all[cut..], &mut out);
            let got = frames(&out);
            assert_eq!(got.len(), 3, "cut at {cut}: {:?}", notes(&out));
            assert!(got[1].contains("07:00:05"), "{got:?}");
            assert!(notes(&out).is_empty(), "{:?}", notes(&out));
            let cut_note = p.finish().expect("the last block is cut");
            // After a line, the pretty block's lines and a line.
            let starts = 3 + pretty.iter().filter(|&&b| b == b'\n').count();
            assert!(cut_note.contains(&format!("line {starts}:")), "{cut_note}");
        }
    }

    /// A stray `{` line in a recording costs that line, not the samples after it.
    #[test]
    fn a_stray_brace_does_not_swallow_the_stream() {
        let mut all = b"{\n".to_vec();
        all.extend(line("2026-11-22T07:00:00Z"));
        all.extend(line("2026-11-22T07:00:01Z"));
        let mut p = LineParser::new("standard input".into(), Limits::default());
        let mut out = Vec::new();
        p.feed(&all, &mut out);
        assert_eq!(frames(&out).len(), 2, "{:?}", notes(&out));
        let n = notes(&out);
        assert!(
            n.len() == 1 && n[0].contains("line 1: an object that never closes"),
            "{n:?}"
        );
    }

    /// What the end leaves: a cut-off line is said, a complete stream says nothing.
    #[test]
    fn a_cut_line_at_the_end_is_said() {
        let mut p = LineParser::new("standard input".into(), Limits::default());
        let mut out = Vec::new();
        let l = line("2026-11-22T07:00:00Z");
        p.feed(&l, &mut out);
        p.feed(&l[..l.len() / 2], &mut out);
        assert_eq!(frames(&out).len(), 1);
        let note = p.finish().expect("cut");
        assert!(
            note.contains("line 2") && note.contains("cut off"),
            "{note}"
        );
    }

    /// A line over the limit is skipped to its end, and the next one is read.
    #[test]
    fn a_line_over_the_limit_is_skipped() {
        let limits = Limits {
            max_bytes: 4096,
            ..Limits::default()
        };
        let mut p = LineParser::new("standard input".into(), limits);
        let mut out = Vec::new();
        let l = line("2026-11-22T07:00:00Z");
        assert!(l.len() < 4096);
        p.feed(&vec![b' '; 3000], &mut out);
        p.feed(&vec![b'x'; 3000], &mut out);
        p.feed(&vec![b'x'; 3000], &mut out);
        p.feed(b"\n", &mut out);
        p.feed(&l, &mut out);
        assert_eq!(frames(&out).len(), 1);
        let n = notes(&out);
        assert_eq!(n.len(), 1, "{n:?}");
        assert!(n[0].contains("line 1") && n[0].contains("limit"), "{n:?}");
    }

    /// A followed file: appended to, truncated, then replaced by another (rotated): every
    /// sample arrives once, with a note for each event.
    #[test]
    fn a_followed_file_through_truncation_and_rotation() {
        use std::io::Write as _;
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("rec.jsonl");
        std::fs::write(&path, line("2026-11-22T07:00:00Z")).expect("write");
        let (tx, rx) = std::sync::mpsc::channel();
        let _reader =
            spawn(0, FeedSource::Follow(path.clone()), Limits::default(), tx).expect("spawn");
        let next = || rx.recv_timeout(Duration::from_secs(10)).expect("an event");
        let frame_time = |e: FeedEvent| match e {
            FeedEvent::Frame { snap, .. } => snap.taken_at.screen_text(),
            other => panic!("expected a frame, got {other:?}"),
        };
        let note = |e: FeedEvent| match e {
            FeedEvent::Note { text, .. } => text,
            other => panic!("expected a note, got {other:?}"),
        };
        assert!(frame_time(next()).contains("07:00:00"));
        let mut f = std::fs::OpenOptions::new()
            .append(true)
            .open(&path)
            .expect("append");
        let l = line("2026-11-22T07:00:01Z");
        // Half a line, then the rest: one frame.
        f.write_all(&l[..10]).expect("write");
        f.flush().expect("flush");
        thread::sleep(FOLLOW_POLL * 2);
        f.write_all(&l[10..]).expect("write");
        assert!(frame_time(next()).contains("07:00:01"));
        // Truncated and written again from the start.
        std::fs::write(&path, line("2026-11-22T07:00:02Z")).expect("truncate");
        let n = note(next());
        assert!(n.contains("truncated"), "{n}");
        assert!(frame_time(next()).contains("07:00:02"));
        // Rotated: a new file under the name.
        let old = dir.path().join("rec.jsonl.1");
        std::fs::rename(&path, &old).expect("rotate");
        std::fs::write(&path, line("2026-11-22T07:00:03Z")).expect("new file");
        // The follower may look between the rename and the new file: "removed" first.
        let mut said = Vec::new();
        let at = loop {
            match next() {
                FeedEvent::Note { text, .. } => said.push(text),
                e => break frame_time(e),
            }
        };
        assert!(at.contains("07:00:03"), "{at}");
        assert!(said.iter().any(|n| n.contains("rotated")), "{said:?}");
    }

    /// A followed name that does not exist yet is waited for, said once.
    #[test]
    fn a_followed_file_that_is_not_there_yet() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("later.jsonl");
        let (tx, rx) = std::sync::mpsc::channel();
        let _reader =
            spawn(0, FeedSource::Follow(path.clone()), Limits::default(), tx).expect("spawn");
        let next = || rx.recv_timeout(Duration::from_secs(10)).expect("an event");
        assert!(
            matches!(next(), FeedEvent::Note { text, .. } if text.contains("does not exist yet"))
        );
        std::fs::write(&path, line("2026-11-22T07:00:00Z")).expect("write");
        assert!(matches!(next(), FeedEvent::Frame { .. }));
    }

    /// Standard input's reader ends with the reason, after its last frame.
    #[test]
    fn a_stream_ends_with_its_reason() {
        let (tx, rx) = std::sync::mpsc::channel();
        let mut bytes = line("2026-11-22T07:00:00Z");
        bytes.extend(b"{\"cut");
        let mut parser = LineParser::new("standard input".into(), Limits::default());
        let reason = read_to_end(&mut bytes.as_slice(), 3, &mut parser, &tx);
        assert_eq!(
            reason.as_deref(),
            Some("end of input: the writer closed it")
        );
        let events: Vec<FeedEvent> = rx.try_iter().collect();
        assert!(matches!(events[0], FeedEvent::Frame { source: 3, .. }));
        assert!(
            matches!(&events[1], FeedEvent::Note { text, .. } if text.contains("cut off")),
            "{events:?}"
        );
    }
}
