//! The bytes of a file that failed, read again to explain the failure: the header of the
//! value that broke, the line it starts on, whether it is valid JSON. Only on the error
//! path; from memory or by seeking in the file.

use super::Limits;
use super::header::{Header, header_in};
use serde::Deserialize;
use serde::de::IgnoredAny;
use std::fs::File;
use std::io::{self, BufRead, BufReader, Read, Seek, SeekFrom};

/// The values of a file that failed, read again: only on the error path.
pub(super) trait Reread {
    /// `format` and `version` of the value that starts at byte `start`.
    fn header_at(&self, start: usize) -> Header;
    /// The line (from 1) byte `offset` is on.
    fn line_at(&self, offset: usize) -> Option<usize>;
    /// Whether the value at `start` is syntactically valid JSON.
    fn valid_at(&self, start: usize) -> bool;
}

pub(super) fn valid_json<'de, R: serde_json::de::Read<'de>>(
    mut de: serde_json::Deserializer<R>,
) -> bool {
    IgnoredAny::deserialize(&mut de).is_ok()
}

pub(super) struct SliceSource<'a>(pub(super) &'a [u8]);

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

pub(super) struct FileSource<'a> {
    pub(super) file: &'a File,
    pub(super) limits: &'a Limits,
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
