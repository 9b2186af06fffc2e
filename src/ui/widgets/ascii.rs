//! A drawn frame in ASCII, for `TERM=dumb`, a locale without UTF-8, `--ascii` or the
//! config's `ascii = true`. The views draw their glyphs (`·`, `…`, `→`, bars, sparklines,
//! the help's border, sort arrows) as they always do; this pass over the finished frame
//! gives every cell its one-column stand-in ([`ascii_for`]), so no view has a path of its own
//! to forget and a process name in another script cannot slip through either.

use super::text::width;
use crate::text::glyphs::ascii_for;
use ratatui::buffer::Buffer;

/// Every cell of `buf` in ASCII. A character two columns wide becomes `??` over its two
/// cells (the second one is blank under it), so the columns after it stay where they were.
pub fn downgrade(buf: &mut Buffer) {
    let area = buf.area;
    for y in area.top()..area.bottom() {
        let mut x = area.left();
        while x < area.right() {
            let cell = &mut buf[(x, y)];
            let symbol = cell.symbol();
            if symbol.is_ascii() {
                x += 1;
                continue;
            }
            let cols = u16::try_from(width(symbol)).unwrap_or(1).max(1);
            let mut chars = symbol.chars();
            let stand_in = match (chars.next(), chars.next()) {
                (Some(c), None) => ascii_for(c),
                // A grapheme of several characters (a letter and its accents, an emoji
                // sequence): none of them is a glyph of ours.
                _ => '?',
            };
            cell.set_char(stand_in);
            for dx in 1..cols {
                if x + dx < area.right() {
                    buf[(x + dx, y)].set_char('?');
                }
            }
            x += cols;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::text::glyphs::Charset;
    use crate::ui::tests::{code, key, live};
    use ratatui::Terminal;
    use ratatui::backend::TestBackend;
    use ratatui::crossterm::event::KeyCode;
    use ratatui::layout::Rect;

    fn ascii_screen(a: &crate::ui::app::App, w: u16, h: u16) -> (String, String) {
        let mut t = Terminal::new(TestBackend::new(w, h)).expect("test terminal");
        t.draw(|f| a.render(f)).expect("draw");
        let utf8 = t.backend().to_string();
        t.draw(|f| crate::ui::run::draw(a, f, Charset::Ascii))
            .expect("draw");
        (utf8, t.backend().to_string())
    }

    /// Every view, the help overlay and a queue bar with its sparkline: the UTF-8 frame has
    /// glyphs (so the test is not vacuous), the ASCII one has no byte over 0x7f and keeps
    /// every line's width.
    #[test]
    fn every_view_in_ascii_has_no_byte_over_0x7f() {
        let mut a = live(160, 48);
        let mut seen_glyphs = 0;
        for v in ['1', '2', '3', '4', '5', '6', '?'] {
            a.update(key(v));
            let (utf8, ascii) = ascii_screen(&a, 160, 48);
            if !utf8.is_ascii() {
                seen_glyphs += 1;
            }
            let bad: Vec<char> = ascii.chars().filter(|c| !c.is_ascii()).collect();
            assert!(bad.is_empty(), "view {v}: {bad:?}\n{ascii}");
            for (u, s) in utf8.lines().zip(ascii.lines()) {
                assert_eq!(width(u), s.len(), "view {v}: {u:?} / {s:?}");
            }
            if v == '?' {
                assert!(
                    ascii.contains("+ help -") && ascii.contains("-+"),
                    "the help's border:\n{ascii}"
                );
                a.update(code(KeyCode::Esc));
            }
        }
        assert!(seen_glyphs >= 4, "the UTF-8 frames have glyphs to replace");
    }

    #[test]
    fn glyphs_and_wide_characters_keep_their_columns() {
        let mut buf = Buffer::empty(Rect::new(0, 0, 12, 1));
        buf.set_string(0, 0, "a·日b…█▁→é", ratatui::style::Style::new());
        downgrade(&mut buf);
        assert_eq!(buf, Buffer::with_lines(["a.??b~#_>?  "]));
    }
}
