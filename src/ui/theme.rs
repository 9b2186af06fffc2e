//! Semantic styles: views ask for `theme.warning` or `theme.title(focused)`, never for a
//! colour, so the default, the monochrome theme and the user's `[colors]` all work on every
//! view.
//!
//! The default uses the 16 ANSI colours only (no RGB, no 256-colour index), so it looks
//! the same on a Linux console, over serial, and in any terminal emulator's palette. The
//! monochrome theme, for `NO_COLOR` and `--no-color`, uses modifiers only (bold, reversed,
//! underlined, dim); so does `TERM=dumb`.

use crate::model::Severity;
use crate::text::clean;
use crate::text::glyphs::Charset;
use ratatui::style::{Color, Modifier, Style};
use std::collections::BTreeMap;

/// One style per meaning. Field names are the keys of the config file's `[colors]` table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Theme {
    /// Ordinary text.
    pub text: Style,
    /// Less important text: zero counts, absent values, hints.
    pub muted: Style,
    /// Table header row.
    pub header: Style,
    /// The selected row.
    pub selected: Style,
    pub border: Style,
    pub border_focused: Style,
    pub title: Style,
    pub title_focused: Style,
    /// View tabs, and the active one.
    pub tab: Style,
    pub tab_active: Style,
    /// The status line.
    pub status_bar: Style,
    /// A key in the status bar's hints (`q`, `/`).
    pub key_hint: Style,
    /// The active filter, always shown.
    pub filter: Style,
    /// The "paused" badge.
    pub paused: Style,
    /// Errors in place: a filter that does not parse, a failed export.
    pub error: Style,
    /// Good news in place: the what-if says the bind would succeed.
    pub ok: Style,
    pub critical: Style,
    pub warning: Style,
    pub notice: Style,
    pub info: Style,
    /// The marker of a socket whose bind overlaps another's.
    pub overlap_marker: Style,
    /// A holder whose user differs from the socket's.
    pub cross_user: Style,
    /// A badge for an unknown value (option not readable, holder not visible).
    pub badge_unknown: Style,
    /// A marked socket.
    pub mark: Style,
}

/// Every slot name, as in `[colors]`, in field order.
pub const SLOTS: [&str; 24] = [
    "text",
    "muted",
    "header",
    "selected",
    "border",
    "border_focused",
    "title",
    "title_focused",
    "tab",
    "tab_active",
    "status_bar",
    "key_hint",
    "filter",
    "paused",
    "error",
    "ok",
    "critical",
    "warning",
    "notice",
    "info",
    "overlap_marker",
    "cross_user",
    "badge_unknown",
    "mark",
];

impl Default for Theme {
    /// The 16-colour theme.
    fn default() -> Self {
        let plain = Style::new();
        Theme {
            text: plain,
            muted: plain.fg(Color::DarkGray),
            header: plain.fg(Color::Cyan).add_modifier(Modifier::BOLD),
            selected: plain.fg(Color::White).bg(Color::Blue),
            border: plain.fg(Color::DarkGray),
            border_focused: plain.fg(Color::Cyan),
            title: plain,
            title_focused: plain.fg(Color::Cyan).add_modifier(Modifier::BOLD),
            tab: plain,
            tab_active: plain.add_modifier(Modifier::REVERSED | Modifier::BOLD),
            status_bar: plain,
            key_hint: plain.fg(Color::Cyan).add_modifier(Modifier::BOLD),
            filter: plain.fg(Color::Yellow),
            paused: plain
                .fg(Color::Yellow)
                .add_modifier(Modifier::REVERSED | Modifier::BOLD),
            error: plain.fg(Color::Red).add_modifier(Modifier::BOLD),
            ok: plain.fg(Color::Green),
            critical: plain.fg(Color::Red).add_modifier(Modifier::BOLD),
            warning: plain.fg(Color::Yellow),
            notice: plain.fg(Color::Cyan),
            // Light blue: plain blue is hard to read on the dark backgrounds most
            // terminals use.
            info: plain.fg(Color::LightBlue),
            overlap_marker: plain.fg(Color::Yellow).add_modifier(Modifier::BOLD),
            cross_user: plain.fg(Color::LightMagenta),
            badge_unknown: plain.fg(Color::DarkGray).add_modifier(Modifier::ITALIC),
            mark: plain.fg(Color::Green).add_modifier(Modifier::BOLD),
        }
    }
}

impl Theme {
    /// For NO_COLOR and `--no-color`: no colour at all, meaning carried by modifiers.
    pub fn monochrome() -> Self {
        let plain = Style::new();
        let bold = plain.add_modifier(Modifier::BOLD);
        let underlined = plain.add_modifier(Modifier::UNDERLINED);
        let reversed = plain.add_modifier(Modifier::REVERSED);
        Theme {
            text: plain,
            muted: plain.add_modifier(Modifier::DIM),
            header: bold.add_modifier(Modifier::UNDERLINED),
            selected: reversed,
            border: plain,
            border_focused: bold,
            title: plain,
            title_focused: bold.add_modifier(Modifier::UNDERLINED),
            tab: plain,
            tab_active: reversed.add_modifier(Modifier::BOLD),
            status_bar: plain,
            key_hint: bold,
            filter: underlined,
            paused: reversed.add_modifier(Modifier::BOLD),
            error: bold,
            ok: plain,
            critical: bold.add_modifier(Modifier::REVERSED),
            warning: bold,
            notice: underlined,
            info: plain,
            overlap_marker: bold,
            cross_user: underlined,
            badge_unknown: plain.add_modifier(Modifier::DIM),
            mark: bold,
        }
    }

    /// The default or monochrome theme patched by the config's `[colors]` (slot → style
    /// spec, see [`parse_style`]). With `no_color`, overrides keep their modifiers and lose
    /// their colours: whoever set NO_COLOR or passed `--no-color` for this run asked for no
    /// colour, whatever the config file says.
    pub fn from_config(
        colors: &BTreeMap<String, String>,
        no_color: bool,
    ) -> Result<Theme, ThemeError> {
        let mut theme = if no_color {
            Theme::monochrome()
        } else {
            Theme::default()
        };
        for (slot, spec) in colors {
            let style = parse_style(spec).map_err(|reason| ThemeError::BadStyle {
                slot: slot.clone(),
                value: spec.clone(),
                reason,
            })?;
            let style = if no_color {
                Style {
                    fg: None,
                    bg: None,
                    underline_color: None,
                    ..style
                }
            } else {
                style
            };
            let target = theme
                .slot_mut(slot)
                .ok_or_else(|| ThemeError::UnknownSlot {
                    name: slot.clone(),
                    valid: SLOTS.join(", "),
                })?;
            *target = target.patch(style);
        }
        Ok(theme)
    }

    /// The style of a slot by its config name.
    pub fn slot(&self, name: &str) -> Option<Style> {
        let mut copy = *self;
        copy.slot_mut(name).map(|s| *s)
    }

    fn slot_mut(&mut self, name: &str) -> Option<&mut Style> {
        Some(match name {
            "text" => &mut self.text,
            "muted" => &mut self.muted,
            "header" => &mut self.header,
            "selected" => &mut self.selected,
            "border" => &mut self.border,
            "border_focused" => &mut self.border_focused,
            "title" => &mut self.title,
            "title_focused" => &mut self.title_focused,
            "tab" => &mut self.tab,
            "tab_active" => &mut self.tab_active,
            "status_bar" => &mut self.status_bar,
            "key_hint" => &mut self.key_hint,
            "filter" => &mut self.filter,
            "paused" => &mut self.paused,
            "error" => &mut self.error,
            "ok" => &mut self.ok,
            "critical" => &mut self.critical,
            "warning" => &mut self.warning,
            "notice" => &mut self.notice,
            "info" => &mut self.info,
            "overlap_marker" => &mut self.overlap_marker,
            "cross_user" => &mut self.cross_user,
            "badge_unknown" => &mut self.badge_unknown,
            "mark" => &mut self.mark,
            _ => return None,
        })
    }

    /// A pane's title.
    pub fn title(&self, focused: bool) -> Style {
        if focused {
            self.title_focused
        } else {
            self.title
        }
    }

    /// A pane's border.
    pub fn border(&self, focused: bool) -> Style {
        if focused {
            self.border_focused
        } else {
            self.border
        }
    }

    /// A view tab.
    pub fn tab(&self, active: bool) -> Style {
        if active { self.tab_active } else { self.tab }
    }

    /// A finding or a row by its severity.
    pub fn severity(&self, severity: Severity) -> Style {
        match severity {
            Severity::Critical => self.critical,
            Severity::Warning => self.warning,
            Severity::Notice => self.notice,
            Severity::Info => self.info,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ThemeError {
    #[error("unknown style '{}' in [colors]: valid names are {valid}", clean(name))]
    UnknownSlot { name: String, valid: String },
    #[error("[colors] {} = '{}': {reason}", clean(slot), clean(value))]
    BadStyle {
        slot: String,
        value: String,
        reason: String,
    },
}

impl ThemeError {
    /// The `[colors]` key the error is about, to point at its line in the config file.
    pub fn slot(&self) -> &str {
        match self {
            ThemeError::UnknownSlot { name, .. } => name,
            ThemeError::BadStyle { slot, .. } => slot,
        }
    }
}

/// The 16 colour names, with the ANSI index each stands for. ratatui's names: `gray` is
/// ANSI 7 and `white` is ANSI 15; the `bright_*` spellings are accepted for 8..15.
const COLOR_NAMES: [(&str, Color); 16] = [
    ("black", Color::Black),
    ("red", Color::Red),
    ("green", Color::Green),
    ("yellow", Color::Yellow),
    ("blue", Color::Blue),
    ("magenta", Color::Magenta),
    ("cyan", Color::Cyan),
    ("gray", Color::Gray),
    ("dark_gray", Color::DarkGray),
    ("light_red", Color::LightRed),
    ("light_green", Color::LightGreen),
    ("light_yellow", Color::LightYellow),
    ("light_blue", Color::LightBlue),
    ("light_magenta", Color::LightMagenta),
    ("light_cyan", Color::LightCyan),
    ("white", Color::White),
];

/// Parse one colour: a 16-colour name (`yellow`, `light_red`, `dark_gray`), `default`
/// (the terminal's own), `#rrggbb`, or an index 0-255. Indexes 0-15 become the named
/// colours, which a 16-colour terminal can show; 16-255 need a 256-colour terminal and
/// `#rrggbb` a true-colour one.
pub fn parse_color(text: &str) -> Result<Color, String> {
    let lower = text.trim().to_ascii_lowercase().replace('-', "_");
    if let Some(hex) = lower.strip_prefix('#') {
        let bytes = hex.as_bytes();
        if bytes.len() != 6 || !bytes.iter().all(u8::is_ascii_hexdigit) {
            return Err(format!(
                "'{}' is not a colour: '#' takes six hex digits, as in #ff8800",
                clean(text)
            ));
        }
        let channel = |i: usize| u8::from_str_radix(&hex[i..i + 2], 16).unwrap_or(0);
        return Ok(Color::Rgb(channel(0), channel(2), channel(4)));
    }
    if !lower.is_empty() && lower.bytes().all(|b| b.is_ascii_digit()) {
        return match lower.parse::<u8>() {
            Ok(n) => Ok(COLOR_NAMES
                .get(usize::from(n))
                .map(|&(_, c)| c)
                .unwrap_or(Color::Indexed(n))),
            Err(_) => Err(format!(
                "'{}' is not a colour: indexes go from 0 to 255",
                clean(text)
            )),
        };
    }
    let alias = match lower.as_str() {
        "default" | "reset" => return Ok(Color::Reset),
        "grey" | "light_gray" | "light_grey" => "gray",
        "dark_grey" | "bright_black" => "dark_gray",
        "bright_red" | "lightred" => "light_red",
        "bright_green" | "lightgreen" => "light_green",
        "bright_yellow" | "lightyellow" => "light_yellow",
        "bright_blue" | "lightblue" => "light_blue",
        "bright_magenta" | "lightmagenta" => "light_magenta",
        "bright_cyan" | "lightcyan" => "light_cyan",
        "bright_white" => "white",
        "darkgray" | "darkgrey" => "dark_gray",
        other => other,
    };
    COLOR_NAMES
        .iter()
        .find(|(name, _)| *name == alias)
        .map(|&(_, c)| c)
        .ok_or_else(|| {
            let names: Vec<&str> = COLOR_NAMES.iter().map(|(n, _)| *n).collect();
            format!(
                "'{}' is not a colour: use one of {}, default, #rrggbb, or an index 0-255",
                clean(text),
                names.join(", ")
            )
        })
}

const MODIFIERS: [(&str, Modifier); 7] = [
    ("bold", Modifier::BOLD),
    ("dim", Modifier::DIM),
    ("italic", Modifier::ITALIC),
    ("underlined", Modifier::UNDERLINED),
    ("reversed", Modifier::REVERSED),
    ("crossed_out", Modifier::CROSSED_OUT),
    ("slow_blink", Modifier::SLOW_BLINK),
];

/// Parse a style spec, the value of a `[colors]` key: words in any order, a colour for the
/// text, `on COLOUR` for the background, and modifiers (`bold`, `dim`, `italic`,
/// `underlined`, `reversed`, `crossed_out`, `slow_blink`; `not_bold` etc. removes one the
/// default has). `yellow`, `black on yellow`, `bold #ff8800`, `on blue`, `reversed`.
pub fn parse_style(spec: &str) -> Result<Style, String> {
    let mut style = Style::new();
    let mut fg_seen = false;
    let mut words = spec.split_whitespace();
    let mut any = false;
    while let Some(word) = words.next() {
        any = true;
        let lower = word.to_ascii_lowercase().replace('-', "_");
        if lower == "on" {
            let Some(bg) = words.next() else {
                return Err("'on' needs a colour after it".to_string());
            };
            if style.bg.is_some() {
                return Err("two background colours".to_string());
            }
            style = style.bg(parse_color(bg)?);
            continue;
        }
        let (negate, name) = match lower.strip_prefix("not_") {
            Some(rest) => (true, rest),
            None => (false, lower.as_str()),
        };
        let name = if name == "underline" {
            "underlined"
        } else {
            name
        };
        if let Some(&(_, m)) = MODIFIERS.iter().find(|(n, _)| *n == name) {
            style = if negate {
                style.remove_modifier(m)
            } else {
                style.add_modifier(m)
            };
            continue;
        }
        let color = parse_color(word).map_err(|e| {
            let mods: Vec<&str> = MODIFIERS.iter().map(|(n, _)| *n).collect();
            format!("{e}; or a modifier: {}", mods.join(", "))
        })?;
        if fg_seen {
            return Err(format!(
                "two text colours; write 'on {}' for a background",
                clean(word)
            ));
        }
        fg_seen = true;
        style = style.fg(color);
    }
    if !any {
        return Err("empty style: give a colour, 'on COLOUR' or a modifier".to_string());
    }
    Ok(style)
}

/// Whether colour is off for this run: `--no-color`, or `NO_COLOR` present and not empty
/// (<https://no-color.org>: "when present and not an empty string (regardless of its
/// value)"), or `TERM=dumb` (terminfo's dumb terminal has no colours: `tput -T dumb colors`
/// says -1). `env` is injected for tests; pass `|k| std::env::var_os(k).map(|v|
/// v.to_string_lossy().into_owned())` so a non-UTF-8 value still counts.
pub fn no_color_requested(env: &dyn Fn(&str) -> Option<String>, flag: bool) -> bool {
    flag || env("NO_COLOR").is_some_and(|v| !v.is_empty()) || env("TERM").as_deref() == Some("dumb")
}

/// What the dashboard draws with: ASCII for `--ascii` (`flag`); else as the config's
/// `ascii` says when it says; else ASCII for `TERM=dumb` or a locale whose charset is not
/// UTF-8 ([`Charset::of_terminal`]).
pub fn charset_requested(
    env: &dyn Fn(&str) -> Option<String>,
    flag: bool,
    config: Option<bool>,
) -> Charset {
    match (flag, config) {
        (true, _) | (false, Some(true)) => Charset::Ascii,
        (false, Some(false)) => Charset::Utf8,
        (false, None) => Charset::of_terminal(env),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn all(theme: &Theme) -> Vec<(&'static str, Style)> {
        SLOTS
            .iter()
            .map(|&n| (n, theme.slot(n).unwrap_or_else(|| panic!("slot {n}"))))
            .collect()
    }

    #[test]
    fn every_slot_has_a_name() {
        let mut t = Theme::default();
        for (i, name) in SLOTS.iter().enumerate() {
            // Mark each slot distinctly; if two names reached one field, one mark would
            // overwrite the other.
            let idx = u8::try_from(i + 100).expect("small");
            *t.slot_mut(name).expect("slot") = Style::new().fg(Color::Indexed(idx));
        }
        for (i, name) in SLOTS.iter().enumerate() {
            let idx = u8::try_from(i + 100).expect("small");
            assert_eq!(t.slot(name).and_then(|s| s.fg), Some(Color::Indexed(idx)));
        }
        assert_eq!(t.slot("nope"), None);
        // The struct has exactly as many fields as SLOTS: 24 Styles.
        assert_eq!(
            std::mem::size_of::<Theme>(),
            SLOTS.len() * std::mem::size_of::<Style>()
        );
    }

    #[test]
    fn a_dumb_terminal_gets_no_colour_and_ascii() {
        let env = |pairs: &'static [(&'static str, &'static str)]| {
            move |k: &str| {
                pairs
                    .iter()
                    .find(|(n, _)| *n == k)
                    .map(|(_, v)| v.to_string())
            }
        };
        let dumb = env(&[("TERM", "dumb"), ("LANG", "C.UTF-8")]);
        let xterm = env(&[("TERM", "xterm"), ("LANG", "C.UTF-8")]);
        assert!(no_color_requested(&dumb, false));
        assert!(!no_color_requested(&xterm, false));
        assert!(no_color_requested(&env(&[("NO_COLOR", "1")]), false));
        assert!(!no_color_requested(&env(&[("NO_COLOR", "")]), false));
        assert_eq!(charset_requested(&dumb, false, None), Charset::Ascii);
        assert_eq!(charset_requested(&xterm, false, None), Charset::Utf8);
        assert_eq!(charset_requested(&xterm, true, None), Charset::Ascii);
        assert_eq!(charset_requested(&xterm, false, Some(true)), Charset::Ascii);
        assert_eq!(charset_requested(&dumb, false, Some(false)), Charset::Utf8);
        assert_eq!(charset_requested(&dumb, true, Some(false)), Charset::Ascii);
        let c = env(&[("TERM", "xterm"), ("LC_ALL", "C"), ("LANG", "C.UTF-8")]);
        assert_eq!(charset_requested(&c, false, None), Charset::Ascii);
    }

    /// The 16-colour theme: no colour is a 256-colour index, not even 0-15 (which a
    /// 16-colour terminal reads as an escape it may not know, `ESC[38;5;Nm`), and none is
    /// RGB; every slot the config can name parses the same way.
    #[test]
    fn default_uses_the_16_colours_only() {
        for n in 0..16u8 {
            assert!(
                !matches!(parse_color(&n.to_string()), Ok(Color::Indexed(_))),
                "{n} is a named colour"
            );
        }
        let ok = |c: Option<Color>| !matches!(c, Some(Color::Rgb(..) | Color::Indexed(_)));
        for (name, s) in all(&Theme::default()) {
            assert!(
                ok(s.fg) && ok(s.bg) && ok(s.underline_color),
                "{name}: {s:?}"
            );
        }
    }

    #[test]
    fn monochrome_has_no_colour_and_keeps_meanings_apart() {
        let t = Theme::monochrome();
        for (name, s) in all(&t) {
            assert_eq!(
                (s.fg, s.bg, s.underline_color),
                (None, None, None),
                "{name}"
            );
        }
        // The meanings that must stay distinguishable without colour.
        assert_ne!(t.critical, t.warning);
        assert_ne!(t.warning, t.notice);
        assert_ne!(t.notice, t.info);
        assert_ne!(t.selected, t.text);
        assert_ne!(t.title(true), t.title(false));
        assert_ne!(t.header, t.text);
    }

    #[test]
    fn accessors() {
        let t = Theme::default();
        assert_eq!(t.title(true), t.title_focused);
        assert_eq!(t.border(false), t.border);
        assert_eq!(t.tab(true), t.tab_active);
        assert_eq!(t.severity(Severity::Critical), t.critical);
        assert_eq!(t.severity(Severity::Info), t.info);
    }

    #[test]
    fn colours() {
        for (text, want) in [
            ("yellow", Color::Yellow),
            ("Yellow", Color::Yellow),
            ("light-red", Color::LightRed),
            ("bright_red", Color::LightRed),
            ("dark_grey", Color::DarkGray),
            ("white", Color::White),
            ("default", Color::Reset),
            ("#FF8800", Color::Rgb(255, 136, 0)),
            ("3", Color::Yellow),
            ("15", Color::White),
            ("208", Color::Indexed(208)),
            ("0", Color::Black),
        ] {
            assert_eq!(parse_color(text), Ok(want), "{text}");
        }
        for (text, needle) in [
            ("yelow", "use one of black, red"),
            ("256", "0 to 255"),
            ("#ff88", "six hex digits"),
            ("#gg8800", "six hex digits"),
            ("", "not a colour"),
        ] {
            let e = parse_color(text).expect_err(text);
            assert!(e.contains(needle), "{text}: {e}");
        }
    }

    #[test]
    fn styles() {
        assert_eq!(parse_style("yellow"), Ok(Style::new().fg(Color::Yellow)));
        assert_eq!(
            parse_style("black on yellow bold"),
            Ok(Style::new()
                .fg(Color::Black)
                .bg(Color::Yellow)
                .add_modifier(Modifier::BOLD))
        );
        assert_eq!(parse_style("on blue"), Ok(Style::new().bg(Color::Blue)));
        assert_eq!(
            parse_style("not-bold"),
            Ok(Style::new().remove_modifier(Modifier::BOLD))
        );
        for (spec, needle) in [
            ("", "empty"),
            ("on", "needs a colour"),
            ("red blue", "two text colours"),
            ("on red on blue", "two background"),
            ("blod", "or a modifier: bold"),
        ] {
            let e = parse_style(spec).expect_err(spec);
            assert!(e.contains(needle), "{spec}: {e}");
        }
    }

    #[test]
    fn overrides_patch_the_defaults() {
        let colors = BTreeMap::from([
            ("warning".to_string(), "light_yellow".to_string()),
            ("selected".to_string(), "black on cyan".to_string()),
            ("critical".to_string(), "not-bold".to_string()),
        ]);
        let t = Theme::from_config(&colors, false).expect("theme");
        let d = Theme::default();
        assert_eq!(t.warning, d.warning.fg(Color::LightYellow));
        assert_eq!(t.selected, Style::new().fg(Color::Black).bg(Color::Cyan));
        assert!(!t.critical.add_modifier.contains(Modifier::BOLD));
        assert_eq!(t.critical.fg, Some(Color::Red));
        assert_eq!(t.info, d.info, "untouched slots keep the default");
    }

    #[test]
    fn no_color_drops_override_colours_but_keeps_modifiers() {
        let colors = BTreeMap::from([("warning".to_string(), "red underlined".to_string())]);
        let t = Theme::from_config(&colors, true).expect("theme");
        assert_eq!(t.warning.fg, None);
        assert!(t.warning.add_modifier.contains(Modifier::UNDERLINED));
        assert_eq!(
            Theme::from_config(&BTreeMap::new(), true),
            Ok(Theme::monochrome())
        );
    }

    #[test]
    fn override_errors() {
        let bad = BTreeMap::from([("warnign".to_string(), "red".to_string())]);
        let e = Theme::from_config(&bad, false).expect_err("unknown slot");
        assert_eq!(e.slot(), "warnign");
        assert!(e.to_string().contains("valid names are text, muted"), "{e}");
        let bad = BTreeMap::from([("warning".to_string(), "redd".to_string())]);
        let e = Theme::from_config(&bad, false).expect_err("bad colour");
        assert!(
            e.to_string().starts_with("[colors] warning = 'redd'"),
            "{e}"
        );
    }

    #[test]
    fn errors_show_user_text_cleaned() {
        let e = parse_color("red\u{1b}[2J").expect_err("escape");
        assert!(e.starts_with("'red\\x1b[2J' is not a colour"), "{e}");
        let e = parse_style("red \u{202e}blue").expect_err("bidi");
        assert!(e.starts_with("'\\u{202e}blue' is not a colour"), "{e}");
        let bad = BTreeMap::from([("warn\u{1b}".to_string(), "red".to_string())]);
        let e = Theme::from_config(&bad, false).expect_err("slot");
        assert_eq!(
            e.slot(),
            "warn\u{1b}",
            "kept as written, to find it in the file"
        );
        assert!(
            e.to_string().starts_with("unknown style 'warn\\x1b'"),
            "{e}"
        );
        let bad = BTreeMap::from([("warning".to_string(), "\u{7}".to_string())]);
        let e = Theme::from_config(&bad, false).expect_err("bell");
        assert!(
            e.to_string().starts_with("[colors] warning = '\\x07'"),
            "{e}"
        );
    }

    /// Never a panic; a colour prints back (`#rrggbb`, an index) to itself; an error is clean.
    fn check_color(text: &str) -> Result<(), TestCaseError> {
        match parse_color(text) {
            Ok(Color::Rgb(r, g, b)) => {
                prop_assert_eq!(
                    parse_color(&format!("#{r:02x}{g:02x}{b:02x}")),
                    Ok(Color::Rgb(r, g, b))
                );
            }
            Ok(Color::Indexed(n)) => {
                prop_assert!(n >= 16, "0-15 are the named colours");
                prop_assert_eq!(parse_color(&n.to_string()), Ok(Color::Indexed(n)));
            }
            Ok(_) => {}
            Err(e) => prop_assert_eq!(clean(&e), e.as_str()),
        }
        Ok(())
    }

    /// Words a style is made of, and near misses.
    fn style_word() -> impl Strategy<Value = String> {
        prop_oneof![
            prop::sample::select(vec![
                "on",
                "red",
                "light-red",
                "Bright_Blue",
                "default",
                "bold",
                "not_bold",
                "not-italic",
                "underline",
                "not_",
                "#",
                "#ff8800",
                "#FF880",
                "255",
                "256",
                "0",
            ])
            .prop_map(String::from),
            "#[0-9a-fA-Fé]{0,7}",
            "[0-9]{1,4}",
            "\\PC{0,6}",
        ]
    }

    proptest! {
        #![proptest_config(crate::testing::props(512))]

        #[test]
        fn any_colour_text(text in any::<String>(), near in style_word()) {
            check_color(&text)?;
            check_color(&near)?;
        }

        #[test]
        fn every_rgb_and_index_parses(r: u8, g: u8, b: u8, n: u8) {
            prop_assert_eq!(
                parse_color(&format!("#{r:02X}{g:02x}{b:02X}")),
                Ok(Color::Rgb(r, g, b))
            );
            let want = COLOR_NAMES.get(usize::from(n)).map_or(Color::Indexed(n), |&(_, c)| c);
            prop_assert_eq!(parse_color(&format!(" {n} ")), Ok(want));
        }

        /// A style either parses or says why, cleanly; a parsed style sets at most the
        /// colours it names.
        #[test]
        fn any_style_text(
            text in any::<String>(),
            words in prop::collection::vec(style_word(), 0..5),
            sep in "[ \t]{1,2}",
        ) {
            for spec in [text, words.join(&sep)] {
                match parse_style(&spec) {
                    Ok(style) => {
                        prop_assert!(!spec.trim().is_empty());
                        prop_assert!(style.underline_color.is_none());
                    }
                    Err(e) => prop_assert_eq!(clean(&e), e.as_str()),
                }
            }
        }

        #[test]
        fn any_colors_table_patches_or_fails_clean(
            colors in prop::collection::btree_map(
                prop_oneof![prop::sample::select(SLOTS.to_vec()).prop_map(String::from), "\\PC{0,6}"],
                prop::collection::vec(style_word(), 0..3).prop_map(|w| w.join(" ")),
                0..4,
            ),
            no_color: bool,
        ) {
            match Theme::from_config(&colors, no_color) {
                Ok(t) => {
                    if no_color {
                        for (name, s) in all(&t) {
                            prop_assert_eq!((s.fg, s.bg), (None, None), "{}", name);
                        }
                    }
                }
                Err(e) => {
                    prop_assert!(colors.contains_key(e.slot()));
                    let msg = e.to_string();
                    prop_assert_eq!(clean(&msg), msg.as_str());
                }
            }
        }
    }

    #[test]
    fn no_color_per_no_color_org() {
        let env = |v: Option<&'static str>| {
            move |k: &str| (k == "NO_COLOR").then_some(v).flatten().map(String::from)
        };
        assert!(!no_color_requested(&env(None), false));
        assert!(
            !no_color_requested(&env(Some("")), false),
            "empty means unset"
        );
        assert!(no_color_requested(&env(Some("1")), false));
        assert!(
            no_color_requested(&env(Some("0")), false),
            "any value counts"
        );
        assert!(no_color_requested(&env(None), true));
    }
}
