//! The user's config file: key and colour overrides that patch the defaults, and the
//! refresh interval. Read once at start; anything wrong in it stops bindscope with an error
//! that names the file, line and column, rather than a dashboard that behaves differently
//! from what the file says.
//!
//! Where: `$XDG_CONFIG_HOME/bindscope/config.toml`, else `$HOME/.config/bindscope/config.toml`
//! ([`config_path`]). No file is fine: the defaults apply.
//!
//! ```toml
//! # How often to take a snapshot: "1s", "500ms", "2m", or a number of seconds (at least 10ms).
//! refresh = "1s"
//!
//! # Draw with ASCII only (`+-|` borders, `#` bars), as for TERM=dumb or a non-UTF-8 locale;
//! # false draws UTF-8 glyphs whatever the locale says. Unset: decided by TERM and the locale.
//! ascii = false
//!
//! # Action name = key spec or list of key specs. Replaces that action's default keys;
//! # [] unbinds it. A key may do one thing only. Names: see `bindscope`'s help (`?`) or
//! # keymap::Action::valid_names(); specs: `q`, `G`, `ctrl-c`, `alt-x`, `shift-tab`,
//! # `pgup`, `pgdn`, `space`, `enter`, `esc`, `f1`, `/`, `+`.
//! [keys]
//! quit = ["q", "ctrl-c"]
//! help = ["?", "f1"]
//! mark = "x"
//!
//! # Style name = colour and modifiers. Colours: black, red, green, yellow, blue, magenta,
//! # cyan, gray, dark_gray, light_red ... white, default, "#rrggbb", or an index 0-255.
//! # `on COLOUR` sets the background; modifiers: bold, dim, italic, underlined, reversed.
//! [colors]
//! warning = "yellow"
//! critical = "white on red bold"
//! selected = "black on cyan"
//! ```

use super::keymap::{Keymap, KeymapError};
use super::theme::{Theme, ThemeError};
use crate::user_files::TooLarge;
use serde::Deserialize;
use serde::de::{self, Deserializer, SeqAccess, Visitor};
use std::collections::BTreeMap;
use std::fmt;
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::time::Duration;
use toml::Spanned;

/// The config file's content, checked: every action, key spec and colour is valid and no
/// key does two things (see the module docs for the file's shape).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Config {
    /// Action name → key specs, replacing that action's default keys.
    pub keys: BTreeMap<String, Vec<String>>,
    /// Theme style name → style spec, patching that style.
    pub colors: BTreeMap<String, String>,
    /// The refresh interval, when the file sets one (the command line wins over it).
    pub refresh: Option<Duration>,
    /// `ascii = true` or `false`, when the file says (`--ascii` wins over `false`).
    pub ascii: Option<bool>,
}

impl Config {
    /// The default keymap patched by `[keys]`.
    pub fn keymap(&self) -> Result<Keymap, KeymapError> {
        let mut keymap = Keymap::default();
        keymap.apply_overrides(&self.keys)?;
        Ok(keymap)
    }

    /// The default (or, with `no_color`, monochrome) theme patched by `[colors]`.
    pub fn theme(&self, no_color: bool) -> Result<Theme, ThemeError> {
        Theme::from_config(&self.colors, no_color)
    }

    /// Parse and check a config file's text; `path` is only for error messages.
    pub fn parse(text: &str, path: &Path) -> Result<Config, ConfigError> {
        let at = |span: Option<Range<usize>>, message: String| {
            let (line, column) = match span {
                Some(s) => {
                    let (l, c) = line_column(text, s.start);
                    (Some(l), Some(c))
                }
                None => (None, None),
            };
            ConfigError::Invalid {
                path: path.to_path_buf(),
                line,
                column,
                message,
            }
        };
        let raw: Raw =
            toml::from_str(text).map_err(|e| at(e.span(), without_values(e.message())))?;

        let refresh = match raw.refresh {
            Some(r) => Some(
                crate::units::parse_interval(&r.get_ref().0)
                    .map_err(|_| at(Some(r.span()), REFRESH_HINT.to_string()))?,
            ),
            None => None,
        };

        // Where each action's name and each of its specs are, to point errors at them.
        let mut key_spans: BTreeMap<String, ActionSpans> = BTreeMap::new();
        let mut keys = BTreeMap::new();
        for (name, list) in raw.keys {
            let list_span = list.span();
            let specs: Vec<(String, Range<usize>)> = list
                .into_inner()
                .0
                .into_iter()
                .map(|(spec, span)| (spec, span.unwrap_or_else(|| list_span.clone())))
                .collect();
            keys.insert(
                name.get_ref().clone(),
                specs.iter().map(|(s, _)| s.clone()).collect(),
            );
            key_spans.insert(name.get_ref().clone(), (name.span(), specs));
        }
        let mut colors = BTreeMap::new();
        let mut color_spans = BTreeMap::new();
        for (name, value) in raw.colors {
            color_spans.insert(name.get_ref().clone(), (name.span(), value.span()));
            colors.insert(name.into_inner(), value.into_inner());
        }
        let config = Config {
            keys,
            colors,
            refresh,
            ascii: raw.ascii,
        };

        if let Err(e) = config.keymap() {
            let span = e.actions().into_iter().find_map(|action| {
                let (name_span, specs) = key_spans.get(action)?;
                if let KeymapError::BadKey { source, .. } = &e {
                    let at_spec = specs.iter().find(|(s, _)| *s == source.spec);
                    return Some(at_spec.map_or(name_span.clone(), |(_, r)| r.clone()));
                }
                Some(name_span.clone())
            });
            return Err(at(span, keymap_message(&e)));
        }
        if let Err(e) = config.theme(false) {
            let span = color_spans.get(e.slot()).map(|(name, value)| match e {
                ThemeError::UnknownSlot { .. } => name.clone(),
                ThemeError::BadStyle { .. } => value.clone(),
            });
            return Err(at(span, theme_message(&e)));
        }
        Ok(config)
    }
}

// Messages about the file never quote a value from it (a key spec, a colour, a duration):
// a config file can be someone else's, with a password beside bindscope's keys. Table and key
// names and the line and column are enough to find the mistake.

const REFRESH_HINT: &str =
    "refresh: not a duration of at least 10ms (write one such as \"1s\", \"500ms\" or \"2m\")";

/// The keymap's error in words that name actions, never the key specs.
fn keymap_message(e: &KeymapError) -> String {
    match e {
        KeymapError::BadKey { action, .. } => format!(
            "[keys] {action}: not a key; keys are written q, G, ctrl-c, alt-x, shift-tab, up, \
             pgup, pgdn, home, space, enter, esc, tab, f1 to f12, /, +"
        ),
        KeymapError::Conflict { first, second, .. } => format!(
            "[keys] '{first}' and '{second}' are given the same key: give one of them other keys"
        ),
        KeymapError::UnknownAction { .. } | KeymapError::NoQuit => e.to_string(),
    }
}

/// The theme's error in words that name the style, never its value.
fn theme_message(e: &ThemeError) -> String {
    match e {
        ThemeError::BadStyle { slot, .. } => format!(
            "[colors] {slot}: not a style; write a colour (black, red, green, yellow, blue, \
             magenta, cyan, gray, their light_ forms, white, default, #rrggbb, or 0 to 255), \
             'on' and a colour for the background, and modifiers (bold, dim, italic, \
             underlined, reversed)"
        ),
        ThemeError::UnknownSlot { .. } => e.to_string(),
    }
}

/// toml's message without the values serde quotes in it: `invalid type: string "x",
/// expected ...` keeps only `string`. toml's own syntax messages name no values; key names,
/// which `unknown field` quotes, are kept. Backticks become bindscope's quotes.
fn without_values(message: &str) -> String {
    let message = ["invalid type: ", "invalid value: "]
        .iter()
        .find_map(|prefix| {
            let rest = message.strip_prefix(prefix)?;
            let (got, expected) = rest.split_once(", expected ").unwrap_or((rest, ""));
            // `string "x"`, `integer `5``, `floating point `1.5``, `sequence`: the kind is
            // what comes before the value.
            let kind = got.split(['"', '`', '\'']).next().unwrap_or("").trim();
            let expected = if expected.is_empty() {
                String::new()
            } else {
                format!(", expected {expected}")
            };
            Some(format!("{prefix}{kind}{expected}"))
        })
        .unwrap_or_else(|| message.to_string());
    message.replace('`', "'")
}

/// Where an action's name is, and each of its key specs.
type ActionSpans = (Range<usize>, Vec<(String, Range<usize>)>);

/// The file as TOML says it, with where each part is.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Raw {
    #[serde(default)]
    refresh: Option<Spanned<RefreshValue>>,
    #[serde(default)]
    ascii: Option<bool>,
    #[serde(default)]
    keys: BTreeMap<Spanned<String>, Spanned<KeyList>>,
    #[serde(default)]
    colors: BTreeMap<Spanned<String>, Spanned<String>>,
}

/// `"1s"` or a bare number of seconds, as `--interval` takes them.
struct RefreshValue(String);

impl<'de> Deserialize<'de> for RefreshValue {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = RefreshValue;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a duration such as \"1s\" or \"500ms\"")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<RefreshValue, E> {
                Ok(RefreshValue(v.to_string()))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<RefreshValue, E> {
                Ok(RefreshValue(v.to_string()))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<RefreshValue, E> {
                Ok(RefreshValue(v.to_string()))
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<RefreshValue, E> {
                Ok(RefreshValue(v.to_string()))
            }
        }
        d.deserialize_any(V)
    }
}

/// One key spec or a list of them, each with where it is (`None`: a single string, whose
/// place is the value's).
struct KeyList(Vec<(String, Option<Range<usize>>)>);

impl<'de> Deserialize<'de> for KeyList {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = KeyList;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a key spec such as \"q\" or a list such as [\"q\", \"ctrl-c\"]")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<KeyList, E> {
                Ok(KeyList(vec![(v.to_string(), None)]))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<KeyList, A::Error> {
                let mut out = Vec::new();
                while let Some(spec) = seq.next_element::<Spanned<String>>()? {
                    let span = spec.span();
                    out.push((spec.into_inner(), Some(span)));
                }
                Ok(KeyList(out))
            }
        }
        d.deserialize_any(V)
    }
}

/// 1-based line and column (in characters) of a byte offset.
fn line_column(text: &str, offset: usize) -> (usize, usize) {
    let mut end = offset.min(text.len());
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    let before = &text[..end];
    let line = before.matches('\n').count() + 1;
    let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    (line, column)
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("config file '{}' does not exist", path.display())]
    Missing { path: PathBuf },
    #[error("cannot read config file '{}': {source}", path.display())]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("config file '{}'{}: {message}", path.display(), location(*line, *column))]
    Invalid {
        path: PathBuf,
        line: Option<usize>,
        column: Option<usize>,
        message: String,
    },
}

fn location(line: Option<usize>, column: Option<usize>) -> String {
    match (line, column) {
        (Some(l), Some(c)) => format!(", line {l}, column {c}"),
        (Some(l), None) => format!(", line {l}"),
        _ => String::new(),
    }
}

/// Where the config file is: `$XDG_CONFIG_HOME/bindscope/config.toml`, else
/// `$HOME/.config/bindscope/config.toml`; `None` when neither is set. A relative or empty
/// `XDG_CONFIG_HOME` is ignored, as the XDG Base Directory spec says ("All paths set in
/// these environment variables must be absolute").
pub fn config_path(env: &dyn Fn(&str) -> Option<String>) -> Option<PathBuf> {
    let base = match env("XDG_CONFIG_HOME").filter(|d| Path::new(d).is_absolute()) {
        Some(dir) => PathBuf::from(dir),
        None => PathBuf::from(env("HOME").filter(|h| !h.is_empty())?).join(".config"),
    };
    Some(base.join("bindscope").join("config.toml"))
}

/// The most a config file may hold: a few hundred lines are plenty; `--config` naming a
/// log file must not read it all into memory.
const MAX_BYTES: u64 = 1 << 20;

/// Read and check the config file named with `--config`: it must exist and be readable,
/// with the user's own rights (see `user_files`).
pub fn load(path: &Path) -> Result<Config, ConfigError> {
    match crate::user_files::read_to_string(path, MAX_BYTES) {
        Ok(text) => Config::parse(&text, path),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Err(ConfigError::Missing {
            path: path.to_path_buf(),
        }),
        // Read, but not a config file: wrong, so an error like any other mistake in it.
        Err(e) if e.kind() == std::io::ErrorKind::InvalidData => Err(ConfigError::Invalid {
            path: path.to_path_buf(),
            line: None,
            column: None,
            message: match e.get_ref().and_then(|i| i.downcast_ref::<TooLarge>()) {
                Some(too_large) => too_large.to_string(),
                None => "is not UTF-8 text".to_string(),
            },
        }),
        Err(source) => Err(ConfigError::Read {
            path: path.to_path_buf(),
            source,
        }),
    }
}

/// The default config file ([`config_path`]) with a warning when it could not be used. No
/// file is the defaults. A file that exists but cannot be read (`HOME` of another user kept
/// under `setpriv` or `su`) is the defaults with a warning: the user did not name it. A file
/// that was read and is wrong is an error, as for `--config`.
pub fn load_from_env(
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<(Config, Option<String>), ConfigError> {
    let Some(path) = config_path(env) else {
        return Ok((Config::default(), None));
    };
    match load(&path) {
        Ok(config) => Ok((config, None)),
        Err(ConfigError::Missing { .. }) => Ok((Config::default(), None)),
        Err(e @ ConfigError::Read { .. }) => {
            Ok((Config::default(), Some(format!("{e}; using the defaults"))))
        }
        Err(e) => Err(e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ui::keymap::Action;
    use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
    use ratatui::style::Color;

    fn parse(text: &str) -> Result<Config, ConfigError> {
        Config::parse(text, Path::new("/home/a/.config/bindscope/config.toml"))
    }

    /// (line, column, message) of an Invalid error.
    fn invalid(text: &str) -> (Option<usize>, Option<usize>, String) {
        match parse(text) {
            Err(ConfigError::Invalid {
                line,
                column,
                message,
                ..
            }) => (line, column, message),
            other => panic!("{text:?}: {other:?}"),
        }
    }

    #[test]
    fn good_file() {
        let text = r##"
refresh = "500ms"

[keys]
quit = ["x", "ctrl-c"]
help = "f1"
mark = []

[colors]
warning = "light_yellow"
selected = "black on cyan"
critical = "#ff0000 bold"
info = "12"
"##;
        let config = parse(text).expect("good");
        assert_eq!(config.refresh, Some(Duration::from_millis(500)));
        assert_eq!(config.ascii, None, "unset: TERM and the locale decide");
        assert_eq!(config.keys["help"], vec!["f1".to_string()]);
        assert_eq!(config.keys["mark"], Vec::<String>::new());
        let keymap = config.keymap().expect("keymap");
        let ev = |c| KeyEvent::new(KeyCode::Char(c), KeyModifiers::NONE);
        assert_eq!(keymap.lookup(&ev('x')), Some(Action::Quit));
        assert_eq!(keymap.lookup(&ev('q')), None);
        assert_eq!(keymap.lookup(&ev('m')), None);
        assert_eq!(
            keymap.lookup(&KeyEvent::new(KeyCode::F(1), KeyModifiers::NONE)),
            Some(Action::Help)
        );
        let theme = config.theme(false).expect("theme");
        assert_eq!(theme.warning.fg, Some(Color::LightYellow));
        assert_eq!(theme.selected.bg, Some(Color::Cyan));
        assert_eq!(theme.critical.fg, Some(Color::Rgb(255, 0, 0)));
        assert_eq!(theme.info.fg, Some(Color::LightBlue));
        assert_eq!(config.theme(true).expect("mono").warning.fg, None);
    }

    #[test]
    fn the_documented_example_is_valid() {
        let example: Vec<&str> = include_str!("config.rs")
            .lines()
            .skip_while(|l| *l != "//! ```toml")
            .skip(1)
            .take_while(|l| *l != "//! ```")
            .map(|l| {
                l.strip_prefix("//! ")
                    .unwrap_or(l.trim_start_matches("//!"))
            })
            .collect();
        assert!(example.len() > 10, "example not found");
        let config = parse(&example.join("\n")).expect("example");
        assert_eq!(config.refresh, Some(Duration::from_secs(1)));
        assert_eq!(config.keys["mark"], vec!["x".to_string()]);
        assert_eq!(config.colors["warning"], "yellow");
    }

    #[test]
    fn empty_and_missing_files_are_the_defaults() {
        assert_eq!(parse("").expect("empty"), Config::default());
        assert_eq!(parse("# nothing\n").expect("comment"), Config::default());
        let dir = tempfile::tempdir().expect("tempdir");
        let home = dir.path().to_str().expect("utf-8").to_string();
        let env = |k: &str| (k == "HOME").then(|| home.clone());
        let (config, warning) = load_from_env(&env).expect("no default file");
        assert_eq!((&config, warning), (&Config::default(), None));
        assert_eq!(config.keymap().expect("keymap"), Keymap::default());
        assert_eq!(config.theme(false).expect("theme"), Theme::default());
    }

    #[test]
    fn load_reads_the_file_and_names_it_in_errors() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("config.toml");
        std::fs::write(&path, "refresh = \"2s\"\n").expect("write");
        assert_eq!(
            load(&path).expect("load").refresh,
            Some(Duration::from_secs(2))
        );
        std::fs::write(&path, "[keys]\nquit = [\"q\"\n").expect("write");
        let e = load(&path).expect_err("bad");
        assert!(
            e.to_string()
                .starts_with(&format!("config file '{}', line ", path.display())),
            "{e}"
        );
        // A directory where the file should be: a read error, not the defaults.
        let e = load(dir.path()).expect_err("dir");
        assert!(matches!(e, ConfigError::Read { .. }), "{e}");
    }

    #[test]
    fn bad_toml() {
        let (line, column, message) = invalid("[keys]\nquit = [q]\n");
        assert_eq!((line, column), (Some(2), Some(9)), "{message}");
        let (line, _, message) = invalid("refresh = \"1s\"\n[colors\nwarning = \"red\"\n");
        assert_eq!(line, Some(2), "{message}");
        let e = parse("[keys]\nquit = [q]\n").expect_err("bad");
        assert_eq!(
            e.to_string().lines().next().map(|l| l.starts_with(
                "config file '/home/a/.config/bindscope/config.toml', line 2, column 9: "
            )),
            Some(true),
            "{e}"
        );
    }

    #[test]
    fn unknown_tables_and_keys_name_the_valid_ones() {
        let (line, column, message) = invalid("refresh = \"1s\"\n[colours]\nwarning = \"red\"\n");
        assert_eq!((line, column), (Some(2), Some(2)), "{message}");
        assert!(
            message.contains("'colours'")
                && message.contains("'keys'")
                && message.contains("'colors'")
                && message.contains("'refresh'"),
            "{message}"
        );

        let (line, column, message) = invalid("[colors]\nwarning = \"red\"\nwarnign = \"red\"\n");
        assert_eq!((line, column), (Some(3), Some(1)), "{message}");
        assert!(
            message.contains("'warnign'") && message.contains("overlap_marker"),
            "{message}"
        );
    }

    #[test]
    fn unknown_action() {
        let (line, column, message) = invalid("[keys]\nquit = \"q\"\nqiut = \"x\"\n");
        assert_eq!((line, column), (Some(3), Some(1)));
        assert!(
            message.contains("unknown action 'qiut'") && message.contains("step_forward"),
            "{message}"
        );
    }

    #[test]
    fn bad_key_spec() {
        let (line, column, message) = invalid("[keys]\nhelp = [\"?\", \"hyper-h\"]\n");
        assert_eq!(
            (line, column),
            (Some(2), Some(14)),
            "points at the spec: {message}"
        );
        assert!(message.starts_with("[keys] help: not a key"), "{message}");
        assert!(!message.contains("hyper"), "no value quoted: {message}");
        let (line, column, message) = invalid("[keys]\nhelp = \"ctrl-\"\n");
        assert_eq!((line, column), (Some(2), Some(8)), "{message}");
        let (line, _, message) = invalid("[keys]\nhelp = 5\n");
        assert_eq!(line, Some(2));
        assert!(message.contains("a key spec"), "{message}");
    }

    #[test]
    fn bad_colour() {
        let (line, column, message) = invalid("[colors]\nwarning = \"yelow\"\n");
        assert_eq!((line, column), (Some(2), Some(11)));
        assert!(
            message.starts_with("[colors] warning: not a style") && message.contains("#rrggbb"),
            "{message}"
        );
        assert!(!message.contains("yelow"), "no value quoted: {message}");
        let (_, _, message) = invalid("[colors]\nwarning = \"300\"\n");
        assert!(message.contains("0 to 255"), "{message}");
        let (line, _, _) = invalid("[colors]\nwarning = 3\n");
        assert_eq!(line, Some(2));
    }

    #[test]
    fn conflicting_keys() {
        // `q` is quit's by default: taking it for filter without moving quit is an error.
        let (line, column, message) = invalid("[keys]\nfilter = [\"/\", \"q\"]\n");
        assert_eq!((line, column), (Some(2), Some(1)));
        assert!(message.contains("'filter' and 'quit'"), "{message}");
        // Two overrides that collide.
        let (_, _, message) = invalid("[keys]\nmark = \"x\"\nnote = \"x\"\n");
        assert!(message.contains("'mark' and 'note'"), "{message}");
        // Moving quit first frees the key.
        parse("[keys]\nfilter = \"q\"\nquit = \"ctrl-c\"\n").expect("freed");
        let (_, _, message) = invalid("[keys]\nquit = []\n");
        assert!(message.contains("quit needs at least one key"), "{message}");
    }

    #[test]
    fn ascii() {
        assert_eq!(parse("ascii = true").expect("true").ascii, Some(true));
        assert_eq!(parse("ascii = false").expect("false").ascii, Some(false));
        let (line, column, message) = invalid("\nascii = \"yes\"\n");
        assert_eq!((line, column), (Some(2), Some(9)), "{message}");
    }

    #[test]
    fn refresh() {
        assert_eq!(
            parse("refresh = 2").expect("int").refresh,
            Some(Duration::from_secs(2))
        );
        assert_eq!(
            parse("refresh = 0.5").expect("float").refresh,
            Some(Duration::from_millis(500))
        );
        let (line, column, message) = invalid("\nrefresh = \"soon\"\n");
        assert_eq!((line, column), (Some(2), Some(11)));
        assert!(message.starts_with("refresh: not a duration"), "{message}");
        assert!(!message.contains("soon"), "no value quoted: {message}");
        let (_, _, message) = invalid("refresh = \"1ms\"");
        assert!(message.contains("at least 10ms"), "{message}");
        let (_, _, message) = invalid("refresh = true");
        assert!(message.contains("a duration"), "{message}");
    }

    #[test]
    fn path_follows_xdg() {
        let env = |vars: &'static [(&'static str, &'static str)]| {
            move |k: &str| {
                vars.iter()
                    .find(|(n, _)| *n == k)
                    .map(|(_, v)| v.to_string())
            }
        };
        assert_eq!(
            config_path(&env(&[("XDG_CONFIG_HOME", "/x/cfg"), ("HOME", "/home/a")])),
            Some(PathBuf::from("/x/cfg/bindscope/config.toml"))
        );
        assert_eq!(
            config_path(&env(&[("HOME", "/home/a")])),
            Some(PathBuf::from("/home/a/.config/bindscope/config.toml"))
        );
        assert_eq!(
            config_path(&env(&[("XDG_CONFIG_HOME", ""), ("HOME", "/home/a")])),
            Some(PathBuf::from("/home/a/.config/bindscope/config.toml"))
        );
        assert_eq!(
            config_path(&env(&[("XDG_CONFIG_HOME", "rel"), ("HOME", "/home/a")])),
            Some(PathBuf::from("/home/a/.config/bindscope/config.toml"))
        );
        assert_eq!(config_path(&env(&[])), None);
        assert_eq!(config_path(&env(&[("HOME", "")])), None);
        assert_eq!(
            load_from_env(&env(&[])).expect("none"),
            (Config::default(), None)
        );
    }

    /// Whatever is wrong in a file, its values never reach the message: the file may hold
    /// a secret beside bindscope's keys (`bindscope --config` on someone else's file).
    #[test]
    fn errors_never_quote_values() {
        for text in [
            "db_password = \"SECRET\"\n",
            "refresh = \"SECRET\"\n",
            "refresh = [\"SECRET\"]\n",
            "refresh = true\nx = \"SECRET\"\n",
            "[keys]\nquit = 5\npw = \"SECRET\"\n",
            "[keys]\nquit = [\"SECRET\", 7]\n",
            "[keys]\nquit = \"SECRET\"\n",
            "[keys]\nquit = \"ctrl-SECRET\"\n",
            "[keys]\nmark = \"x\"\nnote = [\"SECRET\", \"x\"]\n",
            "[keys]\nquit = {a = \"SECRET\"}\n",
            "[colors]\nwarning = \"SECRET\"\n",
            "[colors]\nwarning = \"on SECRET\"\n",
            "[colors]\nwarning = \"#SECRET\"\n",
            "[colors]\nwarning = [\"SECRET\"]\n",
            "keys = \"SECRET\"\n",
            "colors = \"SECRET\"\n",
            "password = SECRET\n",
            "password = \"SECRET\n",
            "password = 'SECRET' x\n",
            "\"SECRET\"\n",
            "x = 1979-05-27T07:32:00SECRET\n",
            "x = 0xSECRET\n",
            "x = \"\\qSECRET\"\n",
            "[keys]\nquit = \"SECRET\"\nquit = \"x\"\n",
        ] {
            let e = parse(text).expect_err(text);
            let message = e.to_string();
            assert!(!message.contains("SECRET"), "{text:?} gave {message}");
            assert!(message.contains("line "), "{text:?} gave {message}");
        }
    }

    #[test]
    fn a_named_file_must_exist_and_a_default_one_may_be_unreadable() {
        let dir = tempfile::tempdir().expect("tempdir");
        let named = dir.path().join("nope.toml");
        let e = load(&named).expect_err("--config of a missing file");
        assert!(matches!(e, ConfigError::Missing { .. }), "{e}");
        assert!(e.to_string().contains("does not exist"), "{e}");

        // A default path that exists but cannot be read (here a directory; as another
        // user, a file they may not read): the defaults, with a warning that says why.
        let home = dir.path().to_str().expect("utf-8").to_string();
        std::fs::create_dir_all(dir.path().join(".config/bindscope/config.toml")).expect("mkdir");
        let env = |k: &str| (k == "HOME").then(|| home.clone());
        let (config, warning) = load_from_env(&env).expect("starts");
        assert_eq!(config, Config::default());
        let warning = warning.expect("a warning");
        assert!(
            warning.contains("cannot read config file") && warning.ends_with("using the defaults"),
            "{warning}"
        );
        // Read but not text, or too large to be a config file: errors, not warnings.
        std::fs::remove_dir(dir.path().join(".config/bindscope/config.toml")).expect("rmdir");
        let file = dir.path().join(".config/bindscope/config.toml");
        std::fs::write(&file, b"refresh = \"1s\"\n\xff\n").expect("write");
        let e = load_from_env(&env).expect_err("not UTF-8");
        assert!(e.to_string().ends_with("is not UTF-8 text"), "{e}");
        std::fs::write(&file, " ".repeat(MAX_BYTES as usize + 1)).expect("write");
        let e = load_from_env(&env).expect_err("too large");
        assert!(
            e.to_string().contains("is larger than 1048576 bytes"),
            "{e}"
        );
        // The same file, wrong, is an error: it was read.
        std::fs::write(&file, "[keys]\nquit = []\n").expect("write");
        assert!(load_from_env(&env).is_err());
    }

    #[test]
    fn line_columns() {
        assert_eq!(line_column("abc", 0), (1, 1));
        assert_eq!(line_column("a\nbc", 3), (2, 2));
        assert_eq!(line_column("é\nü=1", 5), (2, 2));
        assert_eq!(line_column("ab", 99), (1, 3));
    }
}
