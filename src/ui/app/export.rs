//! `e`: export the snapshot on screen, with its findings and marks, to a file. A prompt
//! offers `bindscope-HOST-YYYYmmddTHHMMSSZ.json` (from the snapshot itself, never the clock,
//! so the same snapshot always gets the same name); the extension picks the format and Tab
//! cycles through them.

use super::input::LineInput;
use super::{App, Effect, Mode, TextPrompt, Tone};
use crate::export::Format;
use crate::model::{Snapshot, TakenAt};
use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use std::path::{Path, PathBuf};

/// The host name as a file name part: letters, digits, `.`, `-` and `_`; anything else (a
/// `/`, a control character from a hostile file) becomes `_`.
fn host_part(host: &str) -> String {
    let s: String = host
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_') {
                c
            } else {
                '_'
            }
        })
        .collect();
    // No hidden files or `..`; and a bounded length.
    let s = s.trim_start_matches('.');
    let s: String = s.chars().take(64).collect();
    if s.is_empty() { "host".into() } else { s }
}

/// `20261122T074423Z`, or `unknown-time` when the snapshot's time is not one (the loader
/// has warned about it).
fn time_part(taken_at: &TakenAt) -> String {
    taken_at
        .time()
        .map_or_else(|| "unknown-time".into(), |t| t.file_stamp())
}

pub fn export_path(dir: &Path, snap: &Snapshot) -> PathBuf {
    let when = time_part(&snap.taken_at);
    dir.join(format!(
        "bindscope-{}-{when}.json",
        host_part(&snap.host.hostname)
    ))
}

/// The path with the next format's extension (json → csv → md → prom → txt → json).
fn next_format(path: &str) -> String {
    const CYCLE: [Format; 5] = [
        Format::Json,
        Format::Csv,
        Format::Markdown,
        Format::Prom,
        Format::Table,
    ];
    let p = Path::new(path);
    let current = Format::from_path(p);
    let next = match current.and_then(|f| CYCLE.iter().position(|&c| c == f)) {
        Some(i) => CYCLE[(i + 1) % CYCLE.len()],
        None => Format::Json,
    };
    let stem = if current.is_some() {
        p.with_extension("")
    } else {
        p.to_path_buf()
    };
    format!("{}.{}", stem.display(), next.extension())
}

impl App {
    /// `e`: the prompt, with the default file name.
    pub(super) fn export(&mut self) -> Vec<Effect> {
        let Some(snap) = self.snapshot.as_deref() else {
            self.say("nothing to export yet", Tone::Info);
            return Vec::new();
        };
        let path = export_path(&self.export_dir, snap);
        self.mode = Mode::Export(TextPrompt {
            input: LineInput::new(&path.display().to_string()),
            error: None,
        });
        Vec::new()
    }

    pub(super) fn export_key(&mut self, k: &KeyEvent) -> Vec<Effect> {
        let Mode::Export(p) = &mut self.mode else {
            return Vec::new();
        };
        match p.file_key(k) {
            FileKey::Cancel => self.mode = Mode::Normal,
            FileKey::Other if k.code == KeyCode::Tab => {
                p.input = LineInput::new(&next_format(&p.input.text()));
                p.error = None;
            }
            FileKey::Other | FileKey::Handled => {}
            FileKey::Path(path) => {
                if Format::from_path(&path).is_none() {
                    p.error = Some(
                        "the extension picks the format: .json .csv .md .prom .txt (tab cycles)"
                            .into(),
                    );
                } else if let Some(snap) = self.snapshot.as_deref() {
                    // The snapshot on screen, with its findings and marks filled in, and
                    // the view it is seen in.
                    let mut copy = Box::new(snap.clone());
                    copy.dashboard = Some(self.dashboard_state());
                    self.mode = Mode::Normal;
                    self.say(format!("exporting {}…", path.display()), Tone::Info);
                    return vec![Effect::Export(path, copy)];
                }
            }
        }
        Vec::new()
    }
}

/// What a key did in a prompt for a file name (`e`, `R`).
pub(super) enum FileKey {
    Cancel,
    /// Enter, with a name typed.
    Path(PathBuf),
    /// Taken by the prompt: an edit, or Enter on nothing (which asks for a name).
    Handled,
    /// Not a key of the prompt's: the caller's (Tab, for the export).
    Other,
}

impl TextPrompt {
    /// The keys the file prompts share: Esc and Ctrl-C cancel; Enter gives the name typed,
    /// or asks for one; a key that edits the line clears the error.
    pub(super) fn file_key(&mut self, k: &KeyEvent) -> FileKey {
        match k.code {
            KeyCode::Esc => FileKey::Cancel,
            KeyCode::Char('c') if k.modifiers.contains(KeyModifiers::CONTROL) => FileKey::Cancel,
            KeyCode::Enter => {
                let text = self.input.text().trim().to_string();
                if text.is_empty() {
                    self.error = Some("a file name, please".into());
                    FileKey::Handled
                } else {
                    FileKey::Path(PathBuf::from(text))
                }
            }
            _ if self.input.handle(k) => {
                self.error = None;
                FileKey::Handled
            }
            _ => FileKey::Other,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        let part = |text: &str| time_part(&TakenAt::parse(text));
        assert_eq!(part("2026-11-22T07:44:23Z"), "20261122T074423Z");
        assert_eq!(part("2026-11-22T07:44:23.123456Z"), "20261122T074423Z");
        // Only a time of the file format names the file: not a lenient reading of another.
        assert_eq!(part("2026-11-22 07:44:23"), "unknown-time");
        assert_eq!(part("yesterday"), "unknown-time");
        assert_eq!(host_part("vm"), "vm");
        assert_eq!(host_part("../etc/passwd"), "_etc_passwd");
        assert_eq!(host_part("a\x1b[2Jb"), "a__2Jb");
        assert_eq!(host_part(""), "host");
    }

    #[test]
    fn tab_cycles_formats() {
        assert_eq!(next_format("/t/a.json"), "/t/a.csv");
        assert_eq!(next_format("/t/a.csv"), "/t/a.md");
        assert_eq!(next_format("/t/a.md"), "/t/a.prom");
        assert_eq!(next_format("/t/a.prom"), "/t/a.txt");
        assert_eq!(next_format("/t/a.txt"), "/t/a.json");
        assert_eq!(next_format("/t/a"), "/t/a.json");
    }
}
