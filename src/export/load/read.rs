//! Reading a file within limits: a reader that counts bytes, stops at the size limit and
//! checks UTF-8 as the bytes arrive (serde_json does not check the strings it skips).

use super::error::Location;
use std::cell::Cell;
use std::fs::File;
use std::io::{self, Read};
use std::rc::Rc;

/// What the guard saw; shared with the caller, since the reader moves into serde_json.
#[derive(Default)]
pub(super) struct GuardState {
    /// More bytes arrived than the limit allows.
    pub(super) over: Cell<bool>,
    /// The last byte read: at the end of the file, whether it ends with a newline.
    pub(super) last: Cell<Option<u8>>,
    /// Bytes read so far: shared with the memory budget, which grows with them when the
    /// size was not known in advance (a pipe).
    pub(super) read: Rc<Cell<u64>>,
    pub(super) utf8: Utf8State,
}

/// A reader that counts, stops at the limit and checks UTF-8 as bytes arrive.
pub(super) struct Guard<'a> {
    inner: &'a File,
    left: u64,
    state: &'a GuardState,
}

impl<'a> Guard<'a> {
    pub(super) fn new(inner: &'a File, limit: u64, state: &'a GuardState) -> Self {
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
pub(super) struct Utf8State {
    /// Up to 3 bytes of a character split across reads.
    carry: Cell<[u8; 4]>,
    carry_len: Cell<usize>,
    /// Line (from 1) and the offset where it starts, of the bytes checked so far.
    line: Cell<usize>,
    line_start: Cell<usize>,
    offset: Cell<usize>,
    pub(super) bad: Cell<Option<Location>>,
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
pub(super) fn first_bad_utf8(bytes: &[u8]) -> Option<Location> {
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::export::load::error::{quoted, too_large_text};

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
