//! A one-line text input for the prompts: insert, delete, move, and the shell's ctrl-u,
//! ctrl-w, ctrl-k, ctrl-a and ctrl-e.

use crate::text::clean;
use crate::ui::widgets::text::width;
use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LineInput {
    chars: Vec<char>,
    /// Position in `chars`.
    cursor: usize,
}

impl LineInput {
    /// An input holding `text`, the cursor at its end.
    pub fn new(text: &str) -> LineInput {
        let chars: Vec<char> = text.chars().filter(|&c| typeable(c)).collect();
        let cursor = chars.len();
        LineInput { chars, cursor }
    }

    pub fn text(&self) -> String {
        self.chars.iter().collect()
    }

    /// The cursor's screen column within the text.
    pub fn cursor_col(&self) -> usize {
        let before: String = self.chars.iter().take(self.cursor).collect();
        width(&before)
    }

    /// Applies an editing key; true when the text changed.
    pub fn handle(&mut self, k: &KeyEvent) -> bool {
        let ctrl = k.modifiers.contains(KeyModifiers::CONTROL);
        let alt = k.modifiers.contains(KeyModifiers::ALT);
        match k.code {
            KeyCode::Char(c) if ctrl => match c {
                'a' => self.cursor = 0,
                'e' => self.cursor = self.chars.len(),
                'u' => {
                    self.chars.drain(..self.cursor);
                    self.cursor = 0;
                    return true;
                }
                'k' => {
                    self.chars.truncate(self.cursor);
                    return true;
                }
                'w' => return self.delete_word(),
                _ => {}
            },
            KeyCode::Char(c) if !alt && typeable(c) => {
                self.chars.insert(self.cursor, c);
                self.cursor += 1;
                return true;
            }
            KeyCode::Backspace if self.cursor > 0 => {
                self.cursor -= 1;
                self.chars.remove(self.cursor);
                return true;
            }
            KeyCode::Delete if self.cursor < self.chars.len() => {
                self.chars.remove(self.cursor);
                return true;
            }
            KeyCode::Left => self.cursor = self.cursor.saturating_sub(1),
            KeyCode::Right => self.cursor = (self.cursor + 1).min(self.chars.len()),
            KeyCode::Home => self.cursor = 0,
            KeyCode::End => self.cursor = self.chars.len(),
            _ => {}
        }
        false
    }

    /// Deletes the word before the cursor, and the spaces after it.
    fn delete_word(&mut self) -> bool {
        let mut start = self.cursor;
        while start > 0 && self.chars.get(start - 1).is_some_and(|c| c.is_whitespace()) {
            start -= 1;
        }
        while start > 0
            && self
                .chars
                .get(start - 1)
                .is_some_and(|c| !c.is_whitespace())
        {
            start -= 1;
        }
        if start == self.cursor {
            return false;
        }
        self.chars.drain(start..self.cursor);
        self.cursor = start;
        true
    }
}

/// Characters a prompt accepts: none that the sanitizer would escape (control, bidi,
/// zero-width), so what is typed is what is shown and the cursor lines up.
fn typeable(c: char) -> bool {
    let mut tmp = [0u8; 4];
    let s: &str = c.encode_utf8(&mut tmp);
    clean(s) == s
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(code: KeyCode) -> KeyEvent {
        KeyEvent::new(code, KeyModifiers::NONE)
    }

    fn ctrl(c: char) -> KeyEvent {
        KeyEvent::new(KeyCode::Char(c), KeyModifiers::CONTROL)
    }

    #[test]
    fn edits() {
        let mut i = LineInput::new("port:80");
        assert!(i.handle(&key(KeyCode::Char(' '))));
        for c in "udp".chars() {
            i.handle(&key(KeyCode::Char(c)));
        }
        assert_eq!(i.text(), "port:80 udp");
        assert!(i.handle(&ctrl('w')));
        assert_eq!(i.text(), "port:80 ");
        i.handle(&key(KeyCode::Home));
        assert!(i.handle(&key(KeyCode::Delete)));
        assert_eq!((i.text().as_str(), i.cursor_col()), ("ort:80 ", 0));
        i.handle(&key(KeyCode::End));
        assert!(i.handle(&key(KeyCode::Backspace)));
        assert!(
            !i.handle(&key(KeyCode::Char('\u{1b}'))),
            "escapes are not typed"
        );
        assert!(
            !i.handle(&key(KeyCode::Char('\u{202e}'))),
            "nor bidi overrides"
        );
        assert_eq!(i.text(), "ort:80");
        i.handle(&key(KeyCode::Left));
        assert!(i.handle(&ctrl('u')));
        assert_eq!((i.text().as_str(), i.cursor_col()), ("0", 0));
        assert!(i.handle(&ctrl('k')));
        assert_eq!(i.text(), "");
    }
}
