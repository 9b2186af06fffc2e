//! When a snapshot was taken: a UTC time in the form the file format writes
//! (`2026-11-22T07:44:23.120Z`), parsed once, where the file is read, and used as a time
//! everywhere after (the Prometheus timestamp, the time line, export file names, the screen).
//!
//! The form is RFC 3339's `date-time` restricted as the format's schema restricts it
//! (`assets/snapshot.schema.json`: `"format": "date-time"`, `"pattern": "Z$"`): UTC written
//! `Z`, so no other offset (not even `+00:00`, which the schema refuses). The collector has
//! always written milliseconds (`.120Z`); files made by hand or by other tools may have no
//! fraction or another number of digits (up to nanoseconds), and a time is written back with
//! as many digits as it was read with, so a loaded file saves byte for byte as it was.
//!
//! A file whose `taken_at` is not such a time still loads, as it always has, with a warning
//! (`export::load`): its text is kept as [`TakenAt::Unreadable`], shown and written back as
//! it is, and given no place in time.

use serde::de::{self, Visitor};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::fmt;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// A UTC time as a snapshot file writes it, from 1970 to 9999 (the range the Prometheus
/// timestamp and the time line can place, and what a four-digit year holds).
///
/// Ordered by time, then by the form it was written in (a leap second after the second it
/// repeats, fewer fraction digits first), so that the order agrees with equality.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Timestamp {
    /// Seconds since the Unix epoch. A leap second (`23:59:60`) counts as the second
    /// before it, as POSIX time counts it (and as the loader always has).
    secs: u64,
    /// Nanoseconds into the second: what the fraction says, zero without one.
    nanos: u32,
    /// Written as second 60.
    leap: bool,
    /// How many fraction digits it was written with: 0 (none) to 9.
    digits: u8,
}

/// Why a text is not a time of the file format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum TimeError {
    #[error("not of the form YYYY-MM-DDTHH:MM:SS[.fraction]Z")]
    Form,
    /// Each part has the right digits, but one is out of its range (month 13, 30 February,
    /// hour 24, a leap second not at 23:59, a year before 1970).
    #[error("a part of the date or time is out of range")]
    Range,
}

/// `9999-12-31T23:59:59Z`, the last second with a four-digit year.
const MAX_SECS: u64 = 253_402_300_799;
const NANOS_PER_SEC: u32 = 1_000_000_000;

impl Timestamp {
    /// Parses the file format's form, and nothing else: `YYYY-MM-DDTHH:MM:SS`, then
    /// optionally `.` and 1 to 9 digits, then `Z`. Strict: no space for `T`, no lowercase,
    /// no offset, no missing seconds; a leap second only at 23:59 (RFC 3339 section 5.7).
    pub fn parse(text: &str) -> Result<Timestamp, TimeError> {
        let b = text.as_bytes();
        let Some((head, tail)) = b.split_at_checked(19) else {
            return Err(TimeError::Form);
        };
        let Some((&b'Z', rest)) = tail.split_last() else {
            return Err(TimeError::Form);
        };
        let separators = [(4, b'-'), (7, b'-'), (10, b'T'), (13, b':'), (16, b':')];
        if separators.iter().any(|&(i, c)| head.get(i) != Some(&c)) {
            return Err(TimeError::Form);
        }
        let number = |from: usize, to: usize| -> Result<u64, TimeError> {
            let digits = head.get(from..to).ok_or(TimeError::Form)?;
            digits.iter().try_fold(0, |n, &d| {
                d.is_ascii_digit()
                    .then(|| n * 10 + u64::from(d - b'0'))
                    .ok_or(TimeError::Form)
            })
        };
        let (year, month, day) = (number(0, 4)?, number(5, 7)?, number(8, 10)?);
        let (hour, minute, second) = (number(11, 13)?, number(14, 16)?, number(17, 19)?);
        let (nanos, digits) = fraction(rest)?;

        let leap = second == 60;
        if year < 1970
            || !(1..=12).contains(&month)
            || day == 0
            || day > days_in_month(year, month)
            || hour > 23
            || minute > 59
            || second > 60
            || (leap && (hour, minute) != (23, 59))
        {
            return Err(TimeError::Range);
        }
        let days = days_from_civil(year, month, day);
        let secs = days * 86_400 + hour * 3600 + minute * 60 + second.min(59);
        Ok(Timestamp {
            secs,
            nanos,
            leap,
            digits,
        })
    }

    /// A clock reading as the collector writes it: to the millisecond (cut, not rounded),
    /// three digits. `None` before 1970 or after 9999.
    pub fn from_clock_millis(t: SystemTime) -> Option<Timestamp> {
        let d = t.duration_since(UNIX_EPOCH).ok()?;
        (d.as_secs() <= MAX_SECS).then(|| Timestamp {
            secs: d.as_secs(),
            nanos: d.subsec_millis() * 1_000_000,
            leap: false,
            digits: 3,
        })
    }

    /// Time since the Unix epoch: what times are compared by (a leap second equals the
    /// second before it).
    pub fn since_epoch(&self) -> Duration {
        Duration::new(self.secs, self.nanos)
    }

    /// Seconds since the Unix epoch with the fraction: Prometheus's timestamp.
    pub fn unix_seconds(&self) -> f64 {
        self.since_epoch().as_secs_f64()
    }

    /// Whole milliseconds since the Unix epoch (the fraction beyond them cut): the time line.
    pub fn unix_millis(&self) -> i64 {
        // At most 253,402,300,799,999: far inside i64.
        i64::try_from(self.since_epoch().as_millis()).unwrap_or(i64::MAX)
    }

    /// `20261122T074423Z`: to the second, for file names (RFC 3339's basic form, with no
    /// character a file name could mind).
    pub fn file_stamp(&self) -> String {
        let p = self.parts();
        format!(
            "{:04}{:02}{:02}T{:02}{:02}{:02}Z",
            p.year, p.month, p.day, p.hour, p.minute, p.second
        )
    }

    /// `2026-11-22 07:44:23.120Z`: the file's form with a space for the `T`, for the screen.
    pub fn screen_text(&self) -> String {
        self.write_with(' ')
    }

    fn write_with(&self, separator: char) -> String {
        let p = self.parts();
        let mut out = format!(
            "{:04}-{:02}-{:02}{separator}{:02}:{:02}:{:02}",
            p.year, p.month, p.day, p.hour, p.minute, p.second
        );
        if self.digits > 0 {
            let digits = usize::from(self.digits);
            let scaled = self.nanos / 10u32.pow(9 - u32::from(self.digits));
            out.push_str(&format!(".{scaled:0digits$}"));
        }
        out.push('Z');
        out
    }

    fn parts(&self) -> Parts {
        let (year, month, day) = civil_from_days(self.secs / 86_400);
        let in_day = self.secs % 86_400;
        Parts {
            year,
            month,
            day,
            hour: in_day / 3600,
            minute: in_day % 3600 / 60,
            second: in_day % 60 + u64::from(self.leap),
        }
    }
}

/// The file's form, exactly as it was read.
impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.write_with('T'))
    }
}

/// A time broken into what is written.
struct Parts {
    year: u64,
    month: u64,
    day: u64,
    hour: u64,
    minute: u64,
    second: u64,
}

/// The fraction between the seconds and the `Z`: nothing, or `.` and 1 to 9 digits.
fn fraction(rest: &[u8]) -> Result<(u32, u8), TimeError> {
    let Some((&b'.', digits)) = rest.split_first() else {
        return if rest.is_empty() {
            Ok((0, 0))
        } else {
            Err(TimeError::Form)
        };
    };
    if digits.is_empty() || digits.len() > 9 || !digits.iter().all(u8::is_ascii_digit) {
        return Err(TimeError::Form);
    }
    let value = digits
        .iter()
        .fold(0u32, |n, &d| n * 10 + u32::from(d - b'0'));
    let scale = 10u32.pow(9 - digits.len() as u32);
    debug_assert!(value * scale < NANOS_PER_SEC);
    Ok((value * scale, digits.len() as u8))
}

fn is_leap_year(y: u64) -> bool {
    y.is_multiple_of(4) && (!y.is_multiple_of(100) || y.is_multiple_of(400))
}

fn days_in_month(year: u64, month: u64) -> u64 {
    match month {
        2 if is_leap_year(year) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days from 1970-01-01 to a date of 1970 or later (Howard Hinnant's `days_from_civil`,
/// in unsigned arithmetic since no date here is earlier: years counted from March, so the
/// leap day ends a year).
fn days_from_civil(year: u64, month: u64, day: u64) -> u64 {
    let y = if month <= 2 { year - 1 } else { year };
    let (era, yoe) = (y / 400, y % 400);
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    // 719,468 days from 0000-03-01 to 1970-01-01.
    era * 146_097 + doe - 719_468
}

/// The date `days` after 1970-01-01 (Hinnant's `civil_from_days`).
fn civil_from_days(days: u64) -> (u64, u64, u64) {
    let z = days + 719_468;
    let (era, doe) = (z / 146_097, z % 146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + u64::from(month <= 2);
    (year, month, day)
}

/// `taken_at`: a time, or the text a file held where a time should be.
///
/// Ordered so that the newest is the largest: every time is newer than every unreadable
/// text (`export::merge` keeps the newest of several hosts' times).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum TakenAt {
    /// Not a time of the file format (hand-edited, or written by another tool): kept as
    /// the file had it, written back unchanged and shown as it is (cleaned, like any text
    /// from a file); the loader warns about it. The empty text stands for no time at all
    /// (a merged view of nothing). Holds only text that [`Timestamp::parse`] refuses: make
    /// a `TakenAt` from text with [`TakenAt::parse`] or `From`, as the loader does, so that
    /// one text is always one value.
    Unreadable(String),
    At(Timestamp),
}

impl TakenAt {
    /// `text` read as a file's `taken_at` is read: a time when it is one, else kept as text.
    pub fn parse(text: &str) -> TakenAt {
        Timestamp::parse(text).map_or_else(|_| TakenAt::Unreadable(text.to_string()), TakenAt::At)
    }

    /// The collector's reading of the clock. A clock set before 1970 or past 9999 gives the
    /// empty text (which the loader warns about) rather than a made-up time.
    pub fn from_clock(t: SystemTime) -> TakenAt {
        Timestamp::from_clock_millis(t).map_or(TakenAt::Unreadable(String::new()), TakenAt::At)
    }

    /// The time, when it is one.
    pub fn time(&self) -> Option<Timestamp> {
        match self {
            TakenAt::At(t) => Some(*t),
            TakenAt::Unreadable(_) => None,
        }
    }

    /// For the screen: `2026-11-22 07:44:23.120Z`, or the text as the file had it (not yet
    /// cleaned: callers clean what they show).
    pub fn screen_text(&self) -> String {
        match self {
            TakenAt::At(t) => t.screen_text(),
            TakenAt::Unreadable(text) => text.clone(),
        }
    }
}

impl From<&str> for TakenAt {
    fn from(text: &str) -> TakenAt {
        TakenAt::parse(text)
    }
}

impl From<String> for TakenAt {
    fn from(text: String) -> TakenAt {
        match Timestamp::parse(&text) {
            Ok(t) => TakenAt::At(t),
            Err(_) => TakenAt::Unreadable(text),
        }
    }
}

/// The file's text: the time as it was read, or the unreadable text unchanged.
impl fmt::Display for TakenAt {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TakenAt::At(t) => t.fmt(f),
            TakenAt::Unreadable(text) => f.write_str(text),
        }
    }
}

/// A JSON string, byte for byte what was read.
impl Serialize for TakenAt {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            TakenAt::At(t) => s.serialize_str(&t.to_string()),
            TakenAt::Unreadable(text) => s.serialize_str(text),
        }
    }
}

/// Any JSON string; anything else is refused with serde's own message for a `String`
/// ("invalid type: integer `5`, expected a string"), as when the field was one.
impl<'de> Deserialize<'de> for TakenAt {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<TakenAt, D::Error> {
        d.deserialize_string(TakenAtVisitor)
    }
}

struct TakenAtVisitor;

impl Visitor<'_> for TakenAtVisitor {
    type Value = TakenAt;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a string")
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<TakenAt, E> {
        Ok(TakenAt::parse(v))
    }

    fn visit_string<E: de::Error>(self, v: String) -> Result<TakenAt, E> {
        Ok(TakenAt::from(v))
    }
}

#[cfg(test)]
mod tests;
