//! Keys as data. One table says, for every [`Action`], its config name, its help category,
//! its default keys, a short word for the status bar and a description for the help screen.
//! The handler ([`Keymap::lookup`]), the help screen ([`Keymap::bindings`]) and the status bar
//! ([`Keymap::hints`]) all read the same [`Keymap`], so help can never drift from behaviour.
//! The user's config patches the defaults per action ([`Keymap::apply_overrides`]).
//!
//! Key specs are the text form used in the config file and shown in help: `q`, `G`, `ctrl-c`,
//! `alt-x`, `shift-tab`, `pgup`, `pgdn`, `space`, `enter`, `esc`, `f1`, `/`, `+`, `-`. Named
//! keys and modifiers are case-insensitive; a character key is exactly that character, so `G`
//! is shift-g.

use crate::text::clean;
use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyEventKind, KeyModifiers};
use std::collections::{BTreeMap, HashMap};
use std::fmt;

/// Something the dashboard can be asked to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Action {
    Quit,
    Up,
    Down,
    PageUp,
    PageDown,
    Top,
    Bottom,
    /// Open the selected row's detail.
    Enter,
    /// Close a detail, the help or a prompt; clear the filter prompt.
    Back,
    NextView,
    PrevView,
    /// Jump to a view by number, 1..=7 (Sockets, Ports, Processes, Users, Findings, Host,
    /// Changes).
    View(u8),
    Filter,
    SortNext,
    SortReverse,
    Pause,
    Faster,
    Slower,
    Refresh,
    /// Step one sample back in a recording.
    StepBack,
    /// Step one sample forward in a recording.
    StepForward,
    /// Go to the first sample of a recording.
    StepFirst,
    /// Go to the last sample of a recording.
    StepLast,
    /// Compare with the snapshot on screen from now on (the Changes view's "before").
    Baseline,
    WhatIf,
    Export,
    /// Start or stop recording every new sample to a file.
    Record,
    Mark,
    Note,
    Help,
}

/// The groups of the help screen, in the order it shows them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Category {
    Move,
    Views,
    FilterSort,
    Live,
    Actions,
}

impl Category {
    pub const ALL: [Category; 5] = [
        Category::Move,
        Category::Views,
        Category::FilterSort,
        Category::Live,
        Category::Actions,
    ];

    /// The heading shown in help.
    pub fn title(self) -> &'static str {
        match self {
            Category::Move => "Move",
            Category::Views => "Views",
            Category::FilterSort => "Filter & sort",
            Category::Live => "Live",
            Category::Actions => "Actions",
        }
    }
}

/// Everything the table says about one action.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ActionInfo {
    /// Stable snake_case name: the key of the `[keys]` table in the config file.
    pub name: &'static str,
    pub category: Category,
    /// Default keys, as key specs.
    pub keys: &'static [&'static str],
    /// One or two words for the status bar.
    pub short: &'static str,
    /// One line for the help screen.
    pub description: &'static str,
}

const fn info(
    name: &'static str,
    category: Category,
    keys: &'static [&'static str],
    short: &'static str,
    description: &'static str,
) -> ActionInfo {
    ActionInfo {
        name,
        category,
        keys,
        short,
        description,
    }
}

/// The names of the six views, for the descriptions of `View(n)`; the views themselves
/// belong to the app.
#[rustfmt::skip] // a table: one row per view
const VIEW_INFO: [ActionInfo; 7] = [
    info("view_1", Category::Views, &["1"], "sockets",   "Show the Sockets view"),
    info("view_2", Category::Views, &["2"], "ports",     "Show the Ports view"),
    info("view_3", Category::Views, &["3"], "processes", "Show the Processes view"),
    info("view_4", Category::Views, &["4"], "users",     "Show the Users view"),
    info("view_5", Category::Views, &["5"], "findings",  "Show the Findings view"),
    info("view_6", Category::Views, &["6"], "host",      "Show the Host view"),
    info("view_7", Category::Views, &["7"], "changes",   "Show the Changes view: what changed since the baseline"),
];

impl Action {
    /// Every action in help order. `View(n)` only exists for 1..=7.
    pub const ALL: [Action; 36] = [
        Action::Up,
        Action::Down,
        Action::PageUp,
        Action::PageDown,
        Action::Top,
        Action::Bottom,
        Action::Enter,
        Action::Back,
        Action::NextView,
        Action::PrevView,
        Action::View(1),
        Action::View(2),
        Action::View(3),
        Action::View(4),
        Action::View(5),
        Action::View(6),
        Action::View(7),
        Action::Filter,
        Action::SortNext,
        Action::SortReverse,
        Action::Pause,
        Action::Faster,
        Action::Slower,
        Action::Refresh,
        Action::StepBack,
        Action::StepForward,
        Action::StepFirst,
        Action::StepLast,
        Action::Baseline,
        Action::WhatIf,
        Action::Export,
        Action::Record,
        Action::Mark,
        Action::Note,
        Action::Help,
        Action::Quit,
    ];

    /// The table row of this action. An exhaustive match, so a new action cannot be added
    /// without its name, keys and description.
    #[rustfmt::skip] // a table: one row per action
    pub fn info(self) -> ActionInfo {
        use Category::*;
        match self {
            Action::Up =>          info("up",           Move,       &["up", "k"],       "up",        "Move up one row"),
            Action::Down =>        info("down",         Move,       &["down", "j"],     "down",      "Move down one row"),
            Action::PageUp =>      info("page_up",      Move,       &["pgup", "ctrl-b"], "page up",  "Move up one page"),
            Action::PageDown =>    info("page_down",    Move,       &["pgdn", "ctrl-f"], "page down", "Move down one page"),
            Action::Top =>         info("top",          Move,       &["g", "home"],     "top",       "Go to the first row"),
            Action::Bottom =>      info("bottom",       Move,       &["G", "end"],      "bottom",    "Go to the last row"),
            Action::Enter =>       info("enter",        Move,       &["enter"],         "open",      "Open the selected row's detail"),
            Action::Back =>        info("back",         Move,       &["esc"],           "back",      "Close the detail, help or prompt"),
            Action::NextView =>    info("next_view",    Views,      &["tab"],           "next view", "Next view"),
            Action::PrevView =>    info("prev_view",    Views,      &["shift-tab"],     "prev view", "Previous view"),
            Action::View(n) => match usize::from(n).checked_sub(1).and_then(|i| VIEW_INFO.get(i)) {
                Some(i) => *i,
                // Out of range: never in a keymap (ALL has 1..=7); no keys, and a name
                // `from_name` never returns, so it cannot be bound.
                None =>            info("view",         Views,      &[],                "view",      "Show a view by number"),
            },
            Action::Filter =>      info("filter",       FilterSort, &["/"],             "filter",    "Filter rows (port:80 user:www-data proto:udp ...)"),
            Action::SortNext =>    info("sort_next",    FilterSort, &["s"],             "sort",      "Sort by the next column"),
            Action::SortReverse => info("sort_reverse", FilterSort, &["S"],             "reverse",   "Reverse the sort order"),
            Action::Pause =>       info("pause",        Live,       &["space"],         "pause",     "Pause or resume live updates"),
            Action::Faster =>      info("faster",       Live,       &["+", "="],        "faster",    "Refresh more often"),
            Action::Slower =>      info("slower",       Live,       &["-"],             "slower",    "Refresh less often"),
            Action::Refresh =>     info("refresh",      Live,       &["r"],             "refresh",   "Take a snapshot now"),
            Action::StepBack =>    info("step_back",    Live,       &["["],             "back",      "Step back one sample in a recording"),
            Action::StepForward => info("step_forward", Live,       &["]"],             "forward",   "Step forward one sample in a recording"),
            Action::StepFirst =>   info("step_first",   Live,       &["{"],             "first",     "Go to the first sample of a recording"),
            Action::StepLast =>    info("step_last",    Live,       &["}"],             "last",      "Go to the last sample of a recording"),
            Action::Baseline =>    info("baseline",     Live,       &["b"],             "baseline",  "Compare with the snapshot on screen from now on (Changes view)"),
            Action::WhatIf =>      info("what_if",      Actions,    &["w"],             "what-if",   "Ask whether an address and port can be bound"),
            Action::Export =>      info("export",       Actions,    &["e"],             "export",    "Export a snapshot file"),
            Action::Record =>      info("record",       Actions,    &["R"],             "record",    "Record each new sample, with the view, to a file (again: stop)"),
            Action::Mark =>        info("mark",         Actions,    &["m"],             "mark",      "Mark the selected socket"),
            Action::Note =>        info("note",         Actions,    &["n"],             "note",      "Write a note on the selected socket"),
            Action::Help =>        info("help",         Actions,    &["?"],             "help",      "Show this help"),
            Action::Quit =>        info("quit",         Actions,    &["q", "ctrl-c"],   "quit",      "Quit"),
        }
    }

    /// Stable snake_case name, as in the config file.
    pub fn name(self) -> &'static str {
        self.info().name
    }

    pub fn description(self) -> &'static str {
        self.info().description
    }

    pub fn short(self) -> &'static str {
        self.info().short
    }

    pub fn category(self) -> Category {
        self.info().category
    }

    /// The action of a config name.
    pub fn from_name(name: &str) -> Option<Action> {
        Action::ALL.into_iter().find(|a| a.name() == name)
    }

    /// Every config name, comma-separated, for error messages.
    pub fn valid_names() -> String {
        Action::ALL.map(Action::name).join(", ")
    }
}

impl fmt::Display for Action {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// One key with its modifiers, normalized so that what a terminal sends and what a spec
/// says compare equal: a character key carries no SHIFT (the character already says it,
/// and terminals disagree on whether they report SHIFT with `G` or `+`), and shift-tab is
/// `BackTab` without SHIFT.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Key {
    pub code: KeyCode,
    pub modifiers: KeyModifiers,
}

/// The modifiers a key spec can name; others (super, hyper, meta) never match a binding.
const SPEC_MODIFIERS: KeyModifiers = KeyModifiers::CONTROL
    .union(KeyModifiers::ALT)
    .union(KeyModifiers::SHIFT);

impl Key {
    pub fn new(code: KeyCode, modifiers: KeyModifiers) -> Key {
        let mut modifiers = modifiers;
        let mut code = code;
        match code {
            KeyCode::Char(_) | KeyCode::BackTab => modifiers.remove(KeyModifiers::SHIFT),
            KeyCode::Tab if modifiers.contains(KeyModifiers::SHIFT) => {
                code = KeyCode::BackTab;
                modifiers.remove(KeyModifiers::SHIFT);
            }
            _ => {}
        }
        // Ctrl with a letter: terminals send the control byte, which carries no case, and
        // crossterm reports it lowercase; a spec of `ctrl-C` means the same key.
        if modifiers.contains(KeyModifiers::CONTROL)
            && let KeyCode::Char(c) = code
            && c.is_ascii_uppercase()
        {
            code = KeyCode::Char(c.to_ascii_lowercase());
        }
        Key { code, modifiers }
    }

    pub fn from_event(ev: &KeyEvent) -> Key {
        Key::new(ev.code, ev.modifiers)
    }

    /// Parse a key spec (`q`, `ctrl-c`, `shift-tab`, `pgup`, `space`, `f1`, `+`).
    pub fn parse(spec: &str) -> Result<Key, KeySpecError> {
        let err = |reason: String| KeySpecError {
            spec: spec.to_string(),
            reason,
        };
        if spec.is_empty() {
            return Err(err("empty key".into()));
        }
        let mut modifiers = KeyModifiers::NONE;
        let mut rest = spec;
        // Strip `ctrl-`/`alt-`/`shift-` (or with `+`) while something follows, so `-`, `+`
        // and `ctrl--` are keys rather than separators.
        'strip: loop {
            for (names, m) in [
                (&["ctrl", "control"][..], KeyModifiers::CONTROL),
                (&["alt", "meta"][..], KeyModifiers::ALT),
                (&["shift"][..], KeyModifiers::SHIFT),
            ] {
                for name in names {
                    // `split_at_checked`: the spec is user text, and the cut after a
                    // modifier's length may fall inside a multi-byte character (`ctréx`).
                    let Some(tail) = rest
                        .split_at_checked(name.len())
                        .filter(|(head, _)| head.eq_ignore_ascii_case(name))
                        .and_then(|(_, tail)| tail.strip_prefix(['-', '+']))
                        .filter(|tail| !tail.is_empty())
                    else {
                        continue;
                    };
                    if modifiers.contains(m) {
                        return Err(err(format!("'{name}' given twice")));
                    }
                    modifiers.insert(m);
                    rest = tail;
                    continue 'strip;
                }
            }
            break;
        }
        let mut chars = rest.chars();
        let code = match (chars.next(), chars.next()) {
            (Some(c), None) if !is_visible(c) => {
                return Err(err(format!(
                    "'{}' is a control or invisible character, which a terminal never sends \
                     as a key: write it by name (tab, enter, esc) or as ctrl- and a letter",
                    c.escape_unicode()
                )));
            }
            (Some(c), None) => {
                if modifiers.contains(KeyModifiers::SHIFT) {
                    if c.is_ascii_lowercase() {
                        modifiers.remove(KeyModifiers::SHIFT);
                        KeyCode::Char(c.to_ascii_uppercase())
                    } else if c.is_ascii_uppercase() {
                        modifiers.remove(KeyModifiers::SHIFT);
                        KeyCode::Char(c)
                    } else {
                        // Which character shift-1 types depends on the keyboard layout.
                        return Err(err(format!(
                            "shift with '{c}' depends on the keyboard layout: write the character it types instead"
                        )));
                    }
                } else {
                    KeyCode::Char(c)
                }
            }
            _ => named_key(rest).ok_or_else(|| {
                let what = if rest == spec {
                    "not a key".to_string()
                } else {
                    format!("'{}' is not a key", clean(rest))
                };
                err(format!(
                    "{what}: use one character or one of {}, after ctrl-, alt- or shift- if needed",
                    NAMED_KEYS.join(", ")
                ))
            })?,
        };
        Ok(Key::new(code, modifiers))
    }
}

/// Whether a character can be a key: not one the sanitizer would escape (control, bidi,
/// zero-width). Control characters arrive from a terminal as named keys or ctrl-letters,
/// never as themselves, so such a binding could never fire; and help would have to show it
/// escaped, unlike what the user wrote.
fn is_visible(c: char) -> bool {
    let mut buf = [0u8; 4];
    let s: &str = c.encode_utf8(&mut buf);
    clean(s) == s
}

/// Canonical names of non-character keys, as written by [`Key`]'s `Display`.
const NAMED_KEYS: [&str; 17] = [
    "space",
    "enter",
    "esc",
    "tab",
    "shift-tab",
    "backspace",
    "up",
    "down",
    "left",
    "right",
    "pgup",
    "pgdn",
    "home",
    "end",
    "insert",
    "delete",
    "f1..f12",
];

fn named_key(name: &str) -> Option<KeyCode> {
    let lower = name.to_ascii_lowercase();
    let code = match lower.as_str() {
        "space" | "spc" => KeyCode::Char(' '),
        "enter" | "return" | "ret" | "cr" => KeyCode::Enter,
        "esc" | "escape" => KeyCode::Esc,
        "tab" => KeyCode::Tab,
        "backtab" => KeyCode::BackTab,
        "backspace" | "bs" => KeyCode::Backspace,
        "up" => KeyCode::Up,
        "down" => KeyCode::Down,
        "left" => KeyCode::Left,
        "right" => KeyCode::Right,
        "pgup" | "pageup" | "page_up" | "page-up" => KeyCode::PageUp,
        "pgdn" | "pgdown" | "pagedown" | "page_down" | "page-down" => KeyCode::PageDown,
        "home" => KeyCode::Home,
        "end" => KeyCode::End,
        "insert" | "ins" => KeyCode::Insert,
        "delete" | "del" => KeyCode::Delete,
        "minus" => KeyCode::Char('-'),
        "plus" => KeyCode::Char('+'),
        _ => {
            // Digits only: `u8::from_str` would also take `f+1`.
            let n: u8 = lower
                .strip_prefix('f')
                .filter(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))?
                .parse()
                .ok()?;
            // Terminals report F1..F12 (and some F13..F24 with modifiers folded in); accept
            // what a terminal can send.
            if !(1..=24).contains(&n) {
                return None;
            }
            KeyCode::F(n)
        }
    };
    Some(code)
}

/// The canonical spec: `ctrl-alt-shift-` in that order, then the key; parses back to the
/// same key.
impl fmt::Display for Key {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.modifiers.contains(KeyModifiers::CONTROL) {
            f.write_str("ctrl-")?;
        }
        if self.modifiers.contains(KeyModifiers::ALT) {
            f.write_str("alt-")?;
        }
        if self.modifiers.contains(KeyModifiers::SHIFT) {
            f.write_str("shift-")?;
        }
        match self.code {
            KeyCode::Char(' ') => f.write_str("space"),
            KeyCode::Char(c) => write!(f, "{c}"),
            KeyCode::Enter => f.write_str("enter"),
            KeyCode::Esc => f.write_str("esc"),
            KeyCode::Tab => f.write_str("tab"),
            KeyCode::BackTab => f.write_str("shift-tab"),
            KeyCode::Backspace => f.write_str("backspace"),
            KeyCode::Up => f.write_str("up"),
            KeyCode::Down => f.write_str("down"),
            KeyCode::Left => f.write_str("left"),
            KeyCode::Right => f.write_str("right"),
            KeyCode::PageUp => f.write_str("pgup"),
            KeyCode::PageDown => f.write_str("pgdn"),
            KeyCode::Home => f.write_str("home"),
            KeyCode::End => f.write_str("end"),
            KeyCode::Insert => f.write_str("insert"),
            KeyCode::Delete => f.write_str("delete"),
            KeyCode::F(n) => write!(f, "f{n}"),
            // Keys no spec can name (media keys, lock keys): shown for debugging only.
            other => write!(f, "{other:?}"),
        }
    }
}

/// `spec` is as written (the config finds its place by it); the message shows it cleaned.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("bad key '{}': {reason}", clean(spec))]
pub struct KeySpecError {
    pub spec: String,
    pub reason: String,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KeymapError {
    #[error(
        "unknown action '{}' in [keys]: valid actions are {valid}",
        clean(name)
    )]
    UnknownAction { name: String, valid: String },
    #[error("[keys] {action}: {source}")]
    BadKey {
        action: String,
        #[source]
        source: KeySpecError,
    },
    #[error("key '{key}' is bound to both '{first}' and '{second}': give one of them other keys")]
    Conflict {
        key: String,
        first: String,
        second: String,
    },
    #[error("[keys] quit needs at least one key, or bindscope could not be left")]
    NoQuit,
}

impl KeymapError {
    /// The actions the error is about, to point at their lines in the config file.
    pub fn actions(&self) -> Vec<&str> {
        match self {
            KeymapError::UnknownAction { name, .. } => vec![name],
            KeymapError::BadKey { action, .. } => vec![action],
            KeymapError::Conflict { first, second, .. } => vec![first, second],
            KeymapError::NoQuit => vec!["quit"],
        }
    }
}

/// One action with its keys, as help shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Binding {
    pub action: Action,
    pub keys: Vec<Key>,
}

impl Binding {
    /// `j, down`: every key, for help.
    pub fn keys_label(&self) -> String {
        let keys: Vec<String> = self.keys.iter().map(Key::to_string).collect();
        keys.join(", ")
    }

    pub fn description(&self) -> &'static str {
        self.action.description()
    }
}

/// A help group: a heading and its bindings, in table order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BindingGroup {
    pub category: Category,
    pub bindings: Vec<Binding>,
}

/// Which key does what. Built from the table ([`Keymap::default`]), patched by the config.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Keymap {
    /// One entry per action in [`Action::ALL`] order; an action may have no keys.
    bindings: Vec<Binding>,
    /// Reverse index for [`Keymap::lookup`], rebuilt whenever bindings change.
    index: HashMap<Key, Action>,
}

impl Default for Keymap {
    fn default() -> Self {
        let bindings = Action::ALL
            .into_iter()
            .map(|action| Binding {
                action,
                // The table's specs are checked by a test; one that failed to parse would
                // leave its action without that key rather than stop the program.
                keys: action
                    .info()
                    .keys
                    .iter()
                    .filter_map(|s| Key::parse(s).ok())
                    .collect(),
            })
            .collect();
        let mut map = Keymap {
            bindings,
            index: HashMap::new(),
        };
        // The defaults are conflict-free (tested); were they not, the first action wins.
        let _ = map.reindex();
        map
    }
}

impl Keymap {
    /// The action of a key press; `None` for unbound keys and for release events (which
    /// terminals with the kitty protocol, and Windows, also report).
    pub fn lookup(&self, ev: &KeyEvent) -> Option<Action> {
        if ev.kind == KeyEventKind::Release {
            return None;
        }
        let key = Key::from_event(ev);
        if !SPEC_MODIFIERS.contains(key.modifiers) {
            return None;
        }
        self.index.get(&key).copied()
    }

    /// The keys of an action, first the one to show.
    pub fn keys(&self, action: Action) -> &[Key] {
        self.bindings
            .iter()
            .find(|b| b.action == action)
            .map(|b| b.keys.as_slice())
            .unwrap_or(&[])
    }

    /// Every binding grouped for the help screen, groups in [`Category::ALL`] order, actions
    /// in table order. Actions without keys are left out.
    pub fn bindings(&self) -> Vec<BindingGroup> {
        Category::ALL
            .into_iter()
            .map(|category| BindingGroup {
                category,
                bindings: self
                    .bindings
                    .iter()
                    .filter(|b| b.action.category() == category && !b.keys.is_empty())
                    .cloned()
                    .collect(),
            })
            .filter(|g| !g.bindings.is_empty())
            .collect()
    }

    /// `(first key, short word)` for each action that has a key, for the status bar.
    pub fn hints(&self, actions: &[Action]) -> Vec<(String, &'static str)> {
        actions
            .iter()
            .filter_map(|&a| self.keys(a).first().map(|k| (k.to_string(), a.short())))
            .collect()
    }

    /// Replace the keys of each named action with the given specs (an empty list unbinds it).
    /// All or nothing: on error the keymap is unchanged.
    pub fn apply_overrides(
        &mut self,
        overrides: &BTreeMap<String, Vec<String>>,
    ) -> Result<(), KeymapError> {
        let mut next = self.clone();
        for (name, specs) in overrides {
            let action = Action::from_name(name).ok_or_else(|| KeymapError::UnknownAction {
                name: name.clone(),
                valid: Action::valid_names(),
            })?;
            let mut keys = Vec::with_capacity(specs.len());
            for spec in specs {
                let key = Key::parse(spec).map_err(|source| KeymapError::BadKey {
                    action: name.clone(),
                    source,
                })?;
                if !keys.contains(&key) {
                    keys.push(key);
                }
            }
            if action == Action::Quit && keys.is_empty() {
                return Err(KeymapError::NoQuit);
            }
            if let Some(b) = next.bindings.iter_mut().find(|b| b.action == action) {
                b.keys = keys;
            }
        }
        next.reindex()?;
        *self = next;
        Ok(())
    }

    /// Rebuild the reverse index; a key on two actions is an error naming both.
    fn reindex(&mut self) -> Result<(), KeymapError> {
        let mut index = HashMap::new();
        let mut conflict = None;
        for b in &self.bindings {
            for &key in &b.keys {
                match index.get(&key) {
                    Some(&other) if other != b.action => {
                        conflict.get_or_insert(KeymapError::Conflict {
                            key: key.to_string(),
                            first: Action::name(other).to_string(),
                            second: b.action.name().to_string(),
                        });
                    }
                    _ => {
                        index.insert(key, b.action);
                    }
                }
            }
        }
        self.index = index;
        match conflict {
            Some(e) => Err(e),
            None => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use ratatui::crossterm::event::KeyEventState;

    fn press(code: KeyCode, modifiers: KeyModifiers) -> KeyEvent {
        KeyEvent::new(code, modifiers)
    }

    fn ch(c: char) -> KeyEvent {
        press(KeyCode::Char(c), KeyModifiers::NONE)
    }

    #[test]
    fn default_table_parses_and_has_no_conflicts() {
        let mut names = std::collections::HashSet::new();
        for a in Action::ALL {
            let i = a.info();
            assert!(names.insert(i.name), "duplicate name {}", i.name);
            assert_eq!(Action::from_name(i.name), Some(a));
            assert!(!i.keys.is_empty(), "{a} has no default key");
            assert!(!i.description.is_empty() && !i.short.is_empty());
            for k in i.keys {
                Key::parse(k).unwrap_or_else(|e| panic!("{a}: {e}"));
            }
        }
        let mut km = Keymap::default();
        assert_eq!(km.reindex(), Ok(()));
        let total: usize = Action::ALL.iter().map(|a| a.info().keys.len()).sum();
        assert_eq!(km.index.len(), total);
    }

    #[test]
    fn default_lookups() {
        let km = Keymap::default();
        let ctrl = KeyModifiers::CONTROL;
        let none = KeyModifiers::NONE;
        let cases = [
            (press(KeyCode::Up, none), Action::Up),
            (ch('k'), Action::Up),
            (press(KeyCode::Down, none), Action::Down),
            (ch('j'), Action::Down),
            (press(KeyCode::PageUp, none), Action::PageUp),
            (press(KeyCode::Char('b'), ctrl), Action::PageUp),
            (press(KeyCode::PageDown, none), Action::PageDown),
            (press(KeyCode::Char('f'), ctrl), Action::PageDown),
            (ch('g'), Action::Top),
            (press(KeyCode::Home, none), Action::Top),
            // Terminals report `G` with SHIFT set; the spec says `G`.
            (
                press(KeyCode::Char('G'), KeyModifiers::SHIFT),
                Action::Bottom,
            ),
            (ch('G'), Action::Bottom),
            (press(KeyCode::End, none), Action::Bottom),
            (press(KeyCode::Enter, none), Action::Enter),
            (press(KeyCode::Esc, none), Action::Back),
            (press(KeyCode::Tab, none), Action::NextView),
            (
                press(KeyCode::BackTab, KeyModifiers::SHIFT),
                Action::PrevView,
            ),
            (press(KeyCode::Tab, KeyModifiers::SHIFT), Action::PrevView),
            (ch('1'), Action::View(1)),
            (ch('6'), Action::View(6)),
            (ch('/'), Action::Filter),
            (ch('s'), Action::SortNext),
            (ch('S'), Action::SortReverse),
            (ch(' '), Action::Pause),
            (ch('+'), Action::Faster),
            (
                press(KeyCode::Char('+'), KeyModifiers::SHIFT),
                Action::Faster,
            ),
            (ch('='), Action::Faster),
            (ch('-'), Action::Slower),
            (ch('w'), Action::WhatIf),
            (ch('e'), Action::Export),
            (ch('?'), Action::Help),
            (ch('m'), Action::Mark),
            (ch('n'), Action::Note),
            (ch('['), Action::StepBack),
            (ch(']'), Action::StepForward),
            (ch('r'), Action::Refresh),
            (ch('q'), Action::Quit),
            (press(KeyCode::Char('c'), ctrl), Action::Quit),
        ];
        for (ev, want) in cases {
            assert_eq!(km.lookup(&ev), Some(want), "{ev:?}");
        }
        assert_eq!(km.lookup(&ch('8')), None);
        assert_eq!(km.lookup(&ch('Q')), None);
        assert_eq!(km.lookup(&press(KeyCode::Char('q'), ctrl)), None);
        assert_eq!(
            km.lookup(&press(KeyCode::Char('q'), KeyModifiers::SUPER)),
            None
        );
        let release = KeyEvent {
            code: KeyCode::Char('q'),
            modifiers: none,
            kind: KeyEventKind::Release,
            state: KeyEventState::NONE,
        };
        assert_eq!(km.lookup(&release), None);
        let repeat = KeyEvent {
            kind: KeyEventKind::Repeat,
            ..release
        };
        assert_eq!(km.lookup(&repeat), Some(Action::Quit));
    }

    #[test]
    fn spec_round_trip() {
        let canonical = [
            "q",
            "G",
            "ctrl-c",
            "shift-tab",
            "pgup",
            "pgdn",
            "space",
            "enter",
            "esc",
            "f1",
            "f12",
            "/",
            "+",
            "-",
            "=",
            "?",
            "[",
            "]",
            "tab",
            "home",
            "end",
            "up",
            "down",
            "left",
            "right",
            "backspace",
            "delete",
            "insert",
            "alt-x",
            "ctrl-alt-x",
            "ctrl--",
            "ctrl-+",
            "alt-enter",
            "shift-up",
            "ctrl-shift-left",
            "é",
            ":",
        ];
        for spec in canonical {
            let key = Key::parse(spec).unwrap_or_else(|e| panic!("{e}"));
            assert_eq!(key.to_string(), spec);
            assert_eq!(Key::parse(&key.to_string()), Ok(key));
        }
        let aliases = [
            ("PgUp", "pgup"),
            ("PageDown", "pgdn"),
            ("Ctrl-C", "ctrl-c"),
            ("ctrl+c", "ctrl-c"),
            ("shift-g", "G"),
            ("shift-G", "G"),
            ("Shift-Tab", "shift-tab"),
            ("backtab", "shift-tab"),
            ("F5", "f5"),
            ("Escape", "esc"),
            ("return", "enter"),
            ("alt-shift-a", "alt-A"),
            ("minus", "-"),
            ("plus", "+"),
            ("SPACE", "space"),
            ("control-x", "ctrl-x"),
            ("meta-x", "alt-x"),
        ];
        for (spec, want) in aliases {
            assert_eq!(
                Key::parse(spec).map(|k| k.to_string()),
                Ok(want.to_string()),
                "{spec}"
            );
        }
    }

    #[test]
    fn bad_specs() {
        for (spec, needle) in [
            ("", "empty"),
            ("ctrl-", "bad key 'ctrl-': not a key: use one character"),
            ("hyper-x", "bad key 'hyper-x': not a key"),
            ("ctrl-hyper-x", "'hyper-x' is not a key"),
            ("f0", "not a key"),
            ("f25", "not a key"),
            ("shift-1", "keyboard layout"),
            ("ctrl-ctrl-x", "twice"),
            ("pageupp", "not a key"),
        ] {
            let e = Key::parse(spec).expect_err(spec);
            assert!(e.to_string().contains(needle), "{spec}: {e}");
            assert_eq!(e.spec, spec);
        }
    }

    #[test]
    fn multibyte_text_after_a_modifier_name_is_an_error_not_a_panic() {
        // `ctréx` panicked: the cut after `ctrl`'s four bytes fell inside `é`.
        for spec in ["ctréx", "ctré", "alé-x", "shifé", "shiftéx", "ctrl-ctréx"] {
            let e = Key::parse(spec).expect_err(spec);
            assert_eq!(e.spec, spec);
            assert!(e.to_string().contains("not a key"), "{spec}: {e}");
        }
        assert_eq!(
            Key::parse("ctrl-é"),
            Ok(Key::new(KeyCode::Char('é'), KeyModifiers::CONTROL))
        );
        assert_eq!(
            Key::parse("alt+ñ").map(|k| k.to_string()),
            Ok("alt-ñ".to_string())
        );
    }

    #[test]
    fn invisible_characters_are_not_keys_and_errors_are_clean() {
        for spec in ["\t", "\u{1b}", "ctrl-\u{7f}", "\u{202e}", "alt-\u{200b}"] {
            let e = Key::parse(spec).expect_err(spec);
            let msg = e.to_string();
            assert!(msg.contains("control or invisible"), "{spec:?}: {msg}");
            assert_eq!(clean(&msg), msg, "{spec:?}");
        }
        let e = Key::parse("ctrl-x\u{1b}[2J").expect_err("escape");
        assert_eq!(
            e.to_string().lines().next(),
            Some(
                "bad key 'ctrl-x\\x1b[2J': 'x\\x1b[2J' is not a key: use one character or one of \
                 space, enter, esc, tab, shift-tab, backspace, up, down, left, right, pgup, pgdn, \
                 home, end, insert, delete, f1..f12, after ctrl-, alt- or shift- if needed"
            )
        );
        let e = Keymap::default()
            .apply_overrides(&BTreeMap::from([("qu\u{1b}it".to_string(), vec![])]))
            .expect_err("unknown action");
        assert!(
            e.to_string().starts_with("unknown action 'qu\\x1bit'"),
            "{e}"
        );
        // Function keys by digits only.
        assert!(Key::parse("f+1").is_err());
        assert!(Key::parse("f").is_ok(), "the letter f");
    }

    #[test]
    fn overrides_replace_an_actions_keys() {
        let mut km = Keymap::default();
        let o = BTreeMap::from([
            (
                "quit".to_string(),
                vec!["x".to_string(), "ctrl-q".to_string()],
            ),
            ("help".to_string(), vec!["f1".to_string(), "?".to_string()]),
        ]);
        km.apply_overrides(&o).expect("apply");
        assert_eq!(km.lookup(&ch('x')), Some(Action::Quit));
        assert_eq!(
            km.lookup(&press(KeyCode::Char('q'), KeyModifiers::CONTROL)),
            Some(Action::Quit)
        );
        assert_eq!(km.lookup(&ch('q')), None, "q no longer quits");
        assert_eq!(
            km.lookup(&press(KeyCode::F(1), KeyModifiers::NONE)),
            Some(Action::Help)
        );
        assert_eq!(
            km.hints(&[Action::Quit, Action::Help]),
            vec![("x".to_string(), "quit"), ("f1".to_string(), "help")]
        );
    }

    #[test]
    fn freeing_a_key_lets_another_action_take_it() {
        let mut km = Keymap::default();
        let o = BTreeMap::from([
            ("quit".to_string(), vec!["ctrl-c".to_string()]),
            ("filter".to_string(), vec!["q".to_string(), "/".to_string()]),
        ]);
        km.apply_overrides(&o).expect("apply");
        assert_eq!(km.lookup(&ch('q')), Some(Action::Filter));
    }

    #[test]
    fn override_errors() {
        let base = Keymap::default();
        let one = |name: &str, keys: &[&str]| {
            BTreeMap::from([(
                name.to_string(),
                keys.iter().map(|s| s.to_string()).collect::<Vec<_>>(),
            )])
        };
        let mut km = base.clone();
        let e = km
            .apply_overrides(&one("qiut", &["q"]))
            .expect_err("unknown");
        assert!(matches!(&e, KeymapError::UnknownAction { name, .. } if name == "qiut"));
        assert!(e.to_string().contains("quit") && e.to_string().contains("view_6"));

        let e = km
            .apply_overrides(&one("help", &["hyper-h"]))
            .expect_err("bad");
        assert!(
            matches!(&e, KeymapError::BadKey { action, .. } if action == "help"),
            "{e}"
        );

        let e = km
            .apply_overrides(&one("filter", &["q"]))
            .expect_err("conflict");
        assert_eq!(
            e,
            KeymapError::Conflict {
                key: "q".into(),
                first: "filter".into(),
                second: "quit".into()
            }
        );
        assert!(e.to_string().contains("'filter' and 'quit'"), "{e}");
        assert_eq!(e.actions(), vec!["filter", "quit"]);

        let e = km.apply_overrides(&one("quit", &[])).expect_err("no quit");
        assert_eq!(e, KeymapError::NoQuit);
        assert_eq!(km, base, "a failed override changes nothing");

        // Unbinding another action is fine, and it leaves help.
        km.apply_overrides(&one("mark", &[])).expect("unbind");
        assert_eq!(km.lookup(&ch('m')), None);
        assert!(
            km.bindings()
                .iter()
                .all(|g| g.bindings.iter().all(|b| b.action != Action::Mark))
        );
    }

    #[test]
    fn help_groups_follow_the_table() {
        let km = Keymap::default();
        let groups = km.bindings();
        let cats: Vec<Category> = groups.iter().map(|g| g.category).collect();
        assert_eq!(cats, Category::ALL.to_vec());
        let mut text = String::new();
        for g in &groups {
            text.push_str(&format!("{}\n", g.category.title()));
            for b in &g.bindings {
                text.push_str(&format!("  {:<16} {}\n", b.keys_label(), b.description()));
            }
        }
        insta::assert_snapshot!(text, @r"
        Move
          up, k            Move up one row
          down, j          Move down one row
          pgup, ctrl-b     Move up one page
          pgdn, ctrl-f     Move down one page
          g, home          Go to the first row
          G, end           Go to the last row
          enter            Open the selected row's detail
          esc              Close the detail, help or prompt
        Views
          tab              Next view
          shift-tab        Previous view
          1                Show the Sockets view
          2                Show the Ports view
          3                Show the Processes view
          4                Show the Users view
          5                Show the Findings view
          6                Show the Host view
          7                Show the Changes view: what changed since the baseline
        Filter & sort
          /                Filter rows (port:80 user:www-data proto:udp ...)
          s                Sort by the next column
          S                Reverse the sort order
        Live
          space            Pause or resume live updates
          +, =             Refresh more often
          -                Refresh less often
          r                Take a snapshot now
          [                Step back one sample in a recording
          ]                Step forward one sample in a recording
          {                Go to the first sample of a recording
          }                Go to the last sample of a recording
          b                Compare with the snapshot on screen from now on (Changes view)
        Actions
          w                Ask whether an address and port can be bound
          e                Export a snapshot file
          R                Record each new sample, with the view, to a file (again: stop)
          m                Mark the selected socket
          n                Write a note on the selected socket
          ?                Show this help
          q, ctrl-c        Quit
        ");
        // Every action with a key is in help exactly once.
        let n: usize = groups.iter().map(|g| g.bindings.len()).sum();
        assert_eq!(n, Action::ALL.len());
    }

    #[test]
    fn hints_skip_unbound_actions() {
        let mut km = Keymap::default();
        km.apply_overrides(&BTreeMap::from([("export".to_string(), vec![])]))
            .expect("apply");
        assert_eq!(
            km.hints(&[Action::Filter, Action::Export, Action::Help, Action::Quit]),
            vec![
                ("/".to_string(), "filter"),
                ("?".to_string(), "help"),
                ("q".to_string(), "quit")
            ]
        );
    }

    /// Never a panic; what parses prints as a spec that parses back to the same key and
    /// shows nothing the sanitizer would escape; an error keeps the spec as written and
    /// shows it cleaned.
    fn check_spec(spec: &str) -> Result<(), TestCaseError> {
        match Key::parse(spec) {
            Ok(key) => {
                let text = key.to_string();
                prop_assert_eq!(
                    Key::parse(&text),
                    Ok(key),
                    "{:?} printed as {:?}",
                    spec,
                    text
                );
                prop_assert_eq!(clean(&text), text.as_str());
            }
            Err(e) => {
                prop_assert_eq!(e.spec.as_str(), spec);
                let msg = e.to_string();
                prop_assert_eq!(clean(&msg), msg.as_str());
            }
        }
        Ok(())
    }

    /// Modifier names whole, cut short, in other cases and with either separator.
    fn near_spec() -> impl Strategy<Value = String> {
        let prefix = prop::sample::select(vec![
            "",
            "ctrl-",
            "ctrl+",
            "CTRL-",
            "control-",
            "alt-",
            "meta+",
            "shift-",
            "Shift+",
            "ctrl-alt-",
            "ctrl-shift-",
            "alt-shift-",
            "ctrl-ctrl-",
            "ctrl",
            "ctr",
            "c",
            "shif",
            "shift",
            "alt",
            "f",
            "page",
        ]);
        (prefix, "\\PC{0,3}", any::<char>())
            .prop_map(|(p, tail, c)| [format!("{p}{tail}"), format!("{p}{c}")].join("\0"))
    }

    proptest! {
        #![proptest_config(crate::testing::props(512))]

        #[test]
        fn any_spec_is_a_key_or_an_error(spec in any::<String>()) {
            check_spec(&spec)?;
        }

        #[test]
        fn near_valid_specs(specs in near_spec()) {
            for spec in specs.split('\0') {
                check_spec(spec)?;
            }
        }

    }

    proptest! {
        // Each case rebuilds a keymap: the default count keeps this near half a second.
        #![proptest_config(crate::testing::props(256))]

        /// Whatever the `[keys]` table says, the keymap is replaced whole or not at all, and
        /// every key it then holds looks up its action.
        #[test]
        fn any_overrides_apply_or_fail_whole(
            overrides in prop::collection::btree_map(
                prop_oneof![
                    prop::sample::select(Action::ALL.map(Action::name).to_vec())
                        .prop_map(String::from),
                    "\\PC{0,8}",
                ],
                prop::collection::vec(prop_oneof![near_spec().prop_map(|s| s.replace('\0', "")), "\\PC{0,2}"], 0..3),
                0..4,
            )
        ) {
            let before = Keymap::default();
            let mut km = before.clone();
            match km.apply_overrides(&overrides) {
                Ok(()) => {
                    prop_assert!(!km.keys(Action::Quit).is_empty());
                    for a in Action::ALL {
                        for k in km.keys(a) {
                            let ev = KeyEvent::new(k.code, k.modifiers);
                            prop_assert_eq!(km.lookup(&ev), Some(a), "{}", k);
                        }
                    }
                }
                Err(e) => {
                    prop_assert_eq!(&km, &before);
                    let msg = e.to_string();
                    prop_assert_eq!(clean(&msg), msg.as_str());
                }
            }
        }
    }

    #[test]
    fn out_of_range_view_has_no_keys() {
        assert_eq!(Action::View(0).name(), "view");
        assert_eq!(Action::View(8).info().keys.len(), 0);
        assert_eq!(Action::from_name("view"), None);
        assert_eq!(Keymap::default().keys(Action::View(9)), &[] as &[Key]);
    }
}
