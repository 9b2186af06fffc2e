//! Untrusted text (process names, cmdlines, user and interface names, anything from a file)
//! can carry escape sequences, control characters and bidi overrides that would rewrite a
//! terminal or reorder a line. Every text output passes strings through [`clean`].
//!
//! A leaf module: it depends on nothing else in the crate, so every layer may use it.
//! [`glyphs`]: the ASCII stand-ins of the glyphs, for terminals and locales without UTF-8.

pub mod digits;
pub mod glyphs;

use std::borrow::Cow;

/// Characters that must not reach a terminal or a text export as they are: C0 and C1
/// controls and DEL, and those that reorder or hide text. JSON output escapes the same
/// ones ([`super::json`]).
pub fn is_unsafe(c: char) -> bool {
    c.is_control()
        || matches!(c,
            // bidi embeddings, overrides and isolates; marks
            '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}' | '\u{200e}' | '\u{200f}' | '\u{061c}'
            // line and paragraph separators
            | '\u{2028}' | '\u{2029}'
            // zero-width characters that hide text (the word joiner and the invisible
            // operators after it too), and the BOM
            | '\u{200b}'..='\u{200d}' | '\u{2060}'..='\u{2064}' | '\u{feff}')
}

/// The string with every unsafe character replaced by a visible escape (`\x1b`, `\u{202e}`).
pub fn clean(s: &str) -> Cow<'_, str> {
    if !s.chars().any(is_unsafe) {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        if !is_unsafe(c) {
            out.push(c);
        } else if (c as u32) < 0x100 {
            out.push_str(&format!("\\x{:02x}", c as u32));
        } else {
            out.push_str(&format!("\\u{{{:x}}}", c as u32));
        }
    }
    Cow::Owned(out)
}

/// [`clean`] line by line: a message of several lines keeps its line breaks, and nothing
/// else of the kind.
pub fn clean_lines(s: &str) -> Cow<'_, str> {
    if !s.chars().any(|c| c != '\n' && is_unsafe(c)) {
        return Cow::Borrowed(s);
    }
    Cow::Owned(s.split('\n').map(clean).collect::<Vec<_>>().join("\n"))
}

/// `n` and the noun in the number it takes: `1 warning`, `4 warnings`, `0 processes`.
pub fn count(n: usize, one: &str, many: &str) -> String {
    if n == 1 {
        format!("1 {one}")
    } else {
        format!("{n} {many}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_take_the_number_of_their_noun() {
        assert_eq!(count(1, "warning", "warnings"), "1 warning");
        assert_eq!(count(0, "process", "processes"), "0 processes");
        assert_eq!(count(12, "notice", "notices"), "12 notices");
    }

    #[test]
    fn neutralizes_escapes_controls_and_bidi() {
        assert_eq!(clean("nginx"), "nginx");
        assert!(matches!(clean("nginx"), Cow::Borrowed(_)));
        assert_eq!(clean("a\x1b[2Jb"), "a\\x1b[2Jb");
        assert_eq!(clean("x\ny\tz\u{7f}"), "x\\x0ay\\x09z\\x7f");
        assert_eq!(clean("evil\u{202e}gpj.exe"), "evil\\u{202e}gpj.exe");
        assert_eq!(clean("\u{9b}31m"), "\\x9b31m");
        assert_eq!(clean("a\u{2060}b"), "a\\u{2060}b");
        assert_eq!(clean("ünïcode ok"), "ünïcode ok");
    }

    #[test]
    fn lines_keep_their_breaks() {
        assert_eq!(clean_lines("a\nb\n"), "a\nb\n");
        assert!(matches!(clean_lines("a\nb"), Cow::Borrowed(_)));
        assert_eq!(
            clean_lines("no match for '\x1b]52;c;aGk=\x07'\nknown: x\u{202e}"),
            "no match for '\\x1b]52;c;aGk=\\x07'\nknown: x\\u{202e}"
        );
    }
}
