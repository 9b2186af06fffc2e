//! The characters beyond ASCII that bindscope draws (`·` `•` `…` `→` `×`, box lines, block
//! bars and sparklines, sort arrows) and their ASCII stand-ins, for terminals that cannot
//! show them: `TERM=dumb`, or a locale whose charset is not UTF-8 (`LANG=C`, `LC_ALL=POSIX`,
//! `LANG=en_US.ISO-8859-1`). The program writes its glyphs in UTF-8 everywhere; the one
//! place they become ASCII is [`ascii_for`], applied to a whole text output ([`Charset::text`])
//! or to a whole dashboard frame, so no glyph can be forgotten on one screen.
//!
//! Every stand-in is one column wide, like the glyph it replaces, so a table or a dashboard
//! frame keeps its layout. Anything else outside ASCII (a process name in another script,
//! say) becomes `?`, one per character, as `ls` shows it in the C locale.

use std::borrow::Cow;

/// What the output can show.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Charset {
    /// UTF-8: every glyph as written.
    #[default]
    Utf8,
    /// ASCII only: every glyph through [`ascii_for`].
    Ascii,
}

impl Charset {
    /// The charset of the locale, as setlocale(3) picks the category LC_CTYPE: the first of
    /// `LC_ALL`, `LC_CTYPE`, `LANG` that is set and not empty decides. Its codeset (the part
    /// after `.`, before any `@modifier`) must name UTF-8 (`C.UTF-8`, `en_US.utf8`); `C`,
    /// `POSIX`, `en_US` (glibc's default codeset for it is ISO-8859-1) and
    /// `en_US.ISO-8859-1` are not.
    ///
    /// When none of the three is set the locale says nothing, and UTF-8 is assumed: it is
    /// what terminals use today, and minimal containers and CI runners often leave all three
    /// unset while their terminal, and every reader of the text outputs, takes UTF-8. (glibc
    /// would run such a program in the C locale; a user who wants ASCII says so with
    /// `LANG=C`, `TERM=dumb` or `--ascii`.) Whether the named locale is installed is not
    /// checked: the name is what the user asked for.
    pub fn of_locale(env: &dyn Fn(&str) -> Option<String>) -> Charset {
        let chosen = ["LC_ALL", "LC_CTYPE", "LANG"]
            .iter()
            .find_map(|k| env(k).filter(|v| !v.is_empty()));
        match chosen {
            Some(name) if !names_utf8(&name) => Charset::Ascii,
            _ => Charset::Utf8,
        }
    }

    /// The charset of a terminal: ASCII for `TERM=dumb` (a terminal that promises nothing
    /// beyond printing characters), else that of the locale.
    pub fn of_terminal(env: &dyn Fn(&str) -> Option<String>) -> Charset {
        if env("TERM").as_deref() == Some("dumb") {
            return Charset::Ascii;
        }
        Charset::of_locale(env)
    }

    /// `s` as this charset can show it.
    pub fn text(self, s: &str) -> Cow<'_, str> {
        match self {
            Charset::Utf8 => Cow::Borrowed(s),
            Charset::Ascii => to_ascii(s),
        }
    }
}

/// Whether a locale name's codeset is UTF-8 (glibc normalizes `UTF-8`, `utf8`, `Utf-8`
/// alike).
fn names_utf8(locale: &str) -> bool {
    let Some((_, codeset)) = locale.split_once('.') else {
        return false;
    };
    let codeset = codeset.split('@').next().unwrap_or_default();
    let squashed: String = codeset
        .chars()
        .filter(|c| *c != '-' && *c != '_')
        .map(|c| c.to_ascii_lowercase())
        .collect();
    squashed == "utf8"
}

/// `s` with every character outside ASCII replaced by [`ascii_for`].
pub fn to_ascii(s: &str) -> Cow<'_, str> {
    if s.is_ascii() {
        return Cow::Borrowed(s);
    }
    Cow::Owned(s.chars().map(ascii_for).collect())
}

/// The one-column ASCII stand-in of a character: itself if it is ASCII, `?` if it is none
/// of bindscope's glyphs.
pub fn ascii_for(c: char) -> char {
    if c.is_ascii() {
        return c;
    }
    match c {
        // Separators and severity signs: `a · b`, the info and notice marks.
        '·' | '∙' => '.',
        '•' => '*',
        // A cut-off text.
        '…' => '~',
        // Routes and changes (`v4 → a`, `before → after`), and keys (`←/→`, `↑/↓`).
        '→' | '⇒' => '>',
        '←' => '<',
        // Sort order and "more below".
        '↑' | '▲' | '▴' => '^',
        '↓' | '▼' | '▾' => 'v',
        '×' => 'x',
        // "differs from the kernel" in the rules table (`!=` would widen its column).
        '≠' => '!',
        '—' | '–' => '-',
        'µ' => 'u',
        // Queue bars: full, a part of a cell, and (above, `·`) empty.
        '█' => '#',
        '▏' | '▎' | '▍' | '▌' | '▋' | '▊' | '▉' => '=',
        // Sparkline levels, lowest first; each level at least as high as the one before.
        '▁' => '_',
        '▂' => '.',
        '▃' => ':',
        '▄' => '-',
        '▅' => '=',
        '▆' => '+',
        '▇' => '*',
        // Box drawing (U+2500-U+257F): lines and corners, as `+-|` borders.
        '─' | '━' | '═' | '╌' | '╍' | '┄' | '┅' | '┈' | '┉' | '╴' | '╶' | '╸' | '╺' => {
            '-'
        }
        '│' | '┃' | '║' | '╎' | '╏' | '┆' | '┇' | '┊' | '┋' | '╵' | '╷' | '╹' | '╻' => {
            '|'
        }
        '\u{2500}'..='\u{257f}' => '+',
        _ => '?',
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn env(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let map: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        move |k: &str| map.get(k).cloned()
    }

    #[test]
    fn the_locale_decides_in_setlocale_order() {
        use Charset::*;
        for (vars, want) in [
            (&[][..], Utf8),
            (&[("LANG", "C.UTF-8")][..], Utf8),
            (&[("LANG", "en_US.utf8")][..], Utf8),
            (&[("LANG", "de_DE.UTF-8@euro")][..], Utf8),
            (&[("LANG", "C")][..], Ascii),
            (&[("LC_ALL", "POSIX")][..], Ascii),
            (&[("LANG", "en_US.ISO-8859-1")][..], Ascii),
            (&[("LANG", "en_US")][..], Ascii),
            (&[("LANG", "ja_JP.eucJP")][..], Ascii),
            // LC_ALL over LC_CTYPE over LANG; an empty value does not count.
            (&[("LC_ALL", "C"), ("LANG", "C.UTF-8")][..], Ascii),
            (&[("LC_ALL", "C.UTF-8"), ("LC_CTYPE", "C")][..], Utf8),
            (&[("LC_CTYPE", "C"), ("LANG", "C.UTF-8")][..], Ascii),
            (&[("LC_CTYPE", "en_US.UTF-8"), ("LANG", "C")][..], Utf8),
            (&[("LC_ALL", ""), ("LANG", "POSIX")][..], Ascii),
            (
                &[("LC_ALL", ""), ("LC_CTYPE", ""), ("LANG", "C.utf-8")][..],
                Utf8,
            ),
            // Other categories do not decide the charset.
            (&[("LC_MESSAGES", "C"), ("LANG", "C.UTF-8")][..], Utf8),
        ] {
            assert_eq!(Charset::of_locale(&env(vars)), want, "{vars:?}");
            assert_eq!(Charset::of_terminal(&env(vars)), want, "{vars:?}");
        }
    }

    #[test]
    fn a_dumb_terminal_gets_ascii_whatever_the_locale() {
        let e = env(&[("TERM", "dumb"), ("LANG", "C.UTF-8")]);
        assert_eq!(Charset::of_terminal(&e), Charset::Ascii);
        // The text outputs follow the locale only (they often go to a file or a pipe).
        assert_eq!(Charset::of_locale(&e), Charset::Utf8);
        let e = env(&[("TERM", "xterm-256color"), ("LANG", "C.UTF-8")]);
        assert_eq!(Charset::of_terminal(&e), Charset::Utf8);
    }

    /// Every glyph the program writes has a stand-in of its own (none falls to `?`), the
    /// stand-ins are ASCII, and bars and sparklines keep their order.
    #[test]
    fn every_glyph_has_a_one_column_ascii_stand_in() {
        let glyphs = "·•…→←↑↓▲▼×≠—µ█▏▎▍▌▋▊▉▁▂▃▄▅▆▇─│┌┐└┘├┤┬┴┼╭╮╰╯";
        for g in glyphs.chars() {
            let a = ascii_for(g);
            assert!(a.is_ascii_graphic(), "{g} -> {a:?}");
            assert_ne!(a, '?', "{g} has no stand-in");
        }
        let ramp: String = "▁▂▃▄▅▆▇█".chars().map(ascii_for).collect();
        assert_eq!(ramp, "_.:-=+*#");
        assert_eq!(
            to_ascii("╭─ a · b → c…─╮\n│ ▏▌█ 日本 │"),
            "+- a . b > c~-+\n| ==# ?? |"
        );
        assert_eq!(to_ascii("plain"), Cow::Borrowed("plain"));
    }

    #[test]
    fn utf8_leaves_text_as_it_is() {
        let s = "a · b → c…";
        assert_eq!(Charset::Utf8.text(s), s);
        assert_eq!(Charset::Ascii.text(s), "a . b > c~");
        let every: String = (0..0x3000u32).filter_map(char::from_u32).collect();
        assert!(Charset::Ascii.text(&every).is_ascii());
        assert_eq!(
            Charset::Ascii.text(&every).chars().count(),
            every.chars().count(),
            "one character for one"
        );
    }
}
