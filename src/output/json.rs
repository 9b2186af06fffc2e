//! JSON as bindscope writes it, to files and to stdout: serde_json's output, with every
//! character that could rewrite or reorder what a terminal shows written as a `\uXXXX`
//! escape. serde_json escapes only `"`, `\` and C0 controls; a cmdline holding U+202E
//! (right-to-left override), a C1 control such as U+009B (CSI, which some terminals obey)
//! or a zero-width space would reach the terminal of whoever runs `cat snap.json` or
//! `bindscope findings -f json`, hiding or reordering text. The characters are those
//! [`is_unsafe`] names for the text outputs.
//!
//! The escapes are standard JSON (RFC 8259 §7): every parser reads back the same strings,
//! so files are escaped always, not only on a terminal, and stay safe to print later.

use crate::text::is_unsafe;
use serde::Serialize;
use serde_json::ser::{CharEscape, CompactFormatter, Formatter, PrettyFormatter};
use std::io::{self, Write};

/// `value` as compact JSON, unsafe characters escaped. A drop-in for `serde_json::to_writer`.
pub fn to_writer<W: io::Write, T: ?Sized + Serialize>(
    writer: W,
    value: &T,
) -> serde_json::Result<()> {
    let mut buf = io::BufWriter::with_capacity(BUFFER, writer);
    let mut ser = serde_json::Serializer::with_formatter(&mut buf, Safe(CompactFormatter));
    value.serialize(&mut ser)?;
    buf.flush().map_err(serde_json::Error::io)
}

/// `value` as indented JSON, unsafe characters escaped. A drop-in for
/// `serde_json::to_writer_pretty`.
pub fn to_writer_pretty<W: io::Write, T: ?Sized + Serialize>(
    writer: W,
    value: &T,
) -> serde_json::Result<()> {
    let formatter = Safe(PrettyFormatter::new());
    let mut buf = io::BufWriter::with_capacity(BUFFER, writer);
    let mut ser = serde_json::Serializer::with_formatter(&mut buf, formatter);
    value.serialize(&mut ser)?;
    buf.flush().map_err(serde_json::Error::io)
}

/// `value` as compact JSON, unsafe characters escaped, straight into `writer` (which a
/// caller writing many values buffers itself): a piece of a larger document.
pub fn write_compact<W: io::Write, T: ?Sized + Serialize>(writer: W, value: &T) -> io::Result<()> {
    let mut ser = serde_json::Serializer::with_formatter(writer, Safe(CompactFormatter));
    value.serialize(&mut ser).map_err(io::Error::from)
}

/// The serializer writes a few bytes at a time (a quote, a key, a comma): into a buffer of
/// a concrete type those writes are inlined copies, where through the caller's writer (often
/// a `&mut dyn Write`) each one is a call. A 50,000-socket snapshot is ~60 MB of such
/// writes: the buffer halves the time JSON takes.
const BUFFER: usize = 256 * 1024;

/// A formatter that writes as `F` does, but escapes unsafe characters in strings (values
/// and keys alike: both are written through `write_string_fragment`).
struct Safe<F>(F);

/// Forwards formatter methods to the wrapped formatter, so that `Safe` keeps every choice
/// it makes (the indentation of `PrettyFormatter` lives in the array and object methods).
macro_rules! forward {
    ($($method:ident($($arg:ident: $t:ty),*);)*) => {$(
        #[inline]
        fn $method<W: ?Sized + io::Write>(&mut self, w: &mut W $(, $arg: $t)*) -> io::Result<()> {
            self.0.$method(w $(, $arg)*)
        }
    )*};
}

impl<F: Formatter> Formatter for Safe<F> {
    forward! {
        write_null();
        write_bool(v: bool);
        write_i8(v: i8);
        write_i16(v: i16);
        write_i32(v: i32);
        write_i64(v: i64);
        write_i128(v: i128);
        write_u8(v: u8);
        write_u16(v: u16);
        write_u32(v: u32);
        write_u64(v: u64);
        write_u128(v: u128);
        write_f32(v: f32);
        write_f64(v: f64);
        write_number_str(v: &str);
        begin_string();
        end_string();
        write_char_escape(v: CharEscape);
        write_byte_array(v: &[u8]);
        begin_array();
        end_array();
        begin_array_value(first: bool);
        end_array_value();
        begin_object();
        end_object();
        begin_object_key(first: bool);
        end_object_key();
        begin_object_value();
        end_object_value();
        write_raw_fragment(v: &str);
    }

    fn write_string_fragment<W: ?Sized + io::Write>(
        &mut self,
        w: &mut W,
        fragment: &str,
    ) -> io::Result<()> {
        // Every unsafe character is at or above U+007F: ASCII text without DEL passes at
        // once. Two passes the standard library makes a word or a vector at a time, not
        // one byte at a time (this check is on every string of a 60 MB snapshot).
        if fragment.is_ascii() && !fragment.as_bytes().contains(&0x7f) {
            return self.0.write_string_fragment(w, fragment);
        }
        let mut start = 0;
        for (i, c) in fragment.char_indices() {
            if !is_unsafe(c) {
                continue;
            }
            self.0
                .write_string_fragment(w, fragment.get(start..i).unwrap_or_default())?;
            let mut units = [0u16; 2];
            for unit in c.encode_utf16(&mut units) {
                write!(w, "\\u{unit:04x}")?;
            }
            start = i + c.len_utf8();
        }
        self.0
            .write_string_fragment(w, fragment.get(start..).unwrap_or_default())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::collections::BTreeMap;

    fn compact<T: Serialize>(v: &T) -> String {
        let mut out = Vec::new();
        to_writer(&mut out, v).expect("write to a Vec");
        String::from_utf8(out).expect("UTF-8")
    }

    fn pretty<T: Serialize>(v: &T) -> String {
        let mut out = Vec::new();
        to_writer_pretty(&mut out, v).expect("write to a Vec");
        String::from_utf8(out).expect("UTF-8")
    }

    #[test]
    fn unsafe_characters_are_escaped_in_values_and_keys() {
        let s = "evil\u{202e}gpj.exe \u{9b}31m \u{200b}\u{2060}\u{feff}\u{2028}\u{2066}x\u{7f}\x1b";
        assert_eq!(
            compact(&s),
            r#""evil\u202egpj.exe \u009b31m \u200b\u2060\ufeff\u2028\u2066x\u007f\u001b""#
        );
        let map = BTreeMap::from([("k\u{202d}", "v")]);
        assert_eq!(compact(&map), r#"{"k\u202d":"v"}"#);
        assert_eq!(pretty(&map), "{\n  \"k\\u202d\": \"v\"\n}");
    }

    #[test]
    fn other_text_is_as_serde_json_writes_it() {
        let v = serde_json::json!({
            "name": "ünïcode 🙂 نص", "n": [1, -2, 3.5, null, true], "q": "a\"b\\c\nd"
        });
        assert_eq!(compact(&v), serde_json::to_string(&v).expect("json"));
        assert_eq!(pretty(&v), serde_json::to_string_pretty(&v).expect("json"));
    }

    /// Strings rich in the characters that matter: unsafe ones, C0 controls, quotes,
    /// astral characters, and anything else.
    fn text() -> impl Strategy<Value = String> {
        let chars = prop_oneof![
            any::<char>(),
            prop::sample::select(vec![
                '\u{202a}', '\u{202e}', '\u{2066}', '\u{2069}', '\u{200b}', '\u{200f}', '\u{2060}',
                '\u{feff}', '\u{80}', '\u{9f}', '\u{2028}', '\u{2029}', '\u{7f}', '\u{1b}', '\n',
                '"', '\\', '🙂', 'a',
            ]),
        ];
        prop::collection::vec(chars, 0..24).prop_map(String::from_iter)
    }

    proptest! {
        #[test]
        fn escaped_json_reads_back_the_same_and_holds_nothing_unsafe(
            strings in prop::collection::vec(text(), 0..6),
            key in text(),
        ) {
            let value = (strings, BTreeMap::from([(key, 7)]));
            for (out, indent) in [(compact(&value), false), (pretty(&value), true)] {
                let back: (Vec<String>, BTreeMap<String, u8>) =
                    serde_json::from_str(&out).expect("parses");
                prop_assert_eq!(&back, &value);
                // Pretty output breaks lines between values; nothing else is raw.
                let raw = out.chars().find(|&c| is_unsafe(c) && !(indent && c == '\n'));
                prop_assert!(raw.is_none(), "{:?} raw in {}", raw, out);
            }
        }
    }
}
