//! The detail pane: a title rule and the selected row's explanation, wrapped to the pane
//! and scrolled; also the frame of the what-if panel.

use crate::ui::theme::Theme;
use crate::ui::widgets::text::{draw_fitted, draw_lines, wrap};
use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use std::cell::RefCell;
use std::collections::HashMap;
use std::hash::{Hash, Hasher};
use std::rc::Rc;

/// The text rows of a pane of `area` (the title takes one).
pub fn text_rows(area: Rect) -> usize {
    usize::from(area.height.saturating_sub(1))
}

/// The lines as the pane shows them at this width. The last result is kept: a frame
/// drawn again with the same text (each key that does not move the selection) costs a
/// hash of the text instead of wrapping it, which for a process holding 10,000 sockets is
/// most of a frame; and when the text moved (a refresh changed a queue or an age), only the
/// lines that changed are wrapped again.
pub fn wrapped(lines: &[Line<'_>], area: Rect) -> Rc<Vec<Line<'static>>> {
    thread_local! {
        static LAST: RefCell<Option<Wrapped>> = const { RefCell::new(None) };
    }
    let keys: Vec<u64> = lines.iter().map(|l| line_key(l, area.width)).collect();
    let key = {
        let mut h = std::hash::DefaultHasher::new();
        keys.hash(&mut h);
        h.finish()
    };
    LAST.with(|last| {
        let mut last = last.borrow_mut();
        if let Some(w) = last.as_ref()
            && w.key == key
        {
            return Rc::clone(&w.lines);
        }
        let mut out: Vec<Line<'static>> = Vec::with_capacity(lines.len());
        let mut at: HashMap<u64, (usize, usize)> = HashMap::with_capacity(lines.len());
        for (line, k) in lines.iter().zip(&keys) {
            let start = out.len();
            let before = last
                .as_ref()
                .and_then(|w| w.at.get(k).and_then(|&(a, b)| w.lines.get(a..b)));
            match before {
                Some(same) => out.extend_from_slice(same),
                None => out.extend(wrap(std::slice::from_ref(line), area.width)),
            }
            at.insert(*k, (start, out.len()));
        }
        let lines = Rc::new(out);
        *last = Some(Wrapped {
            key,
            lines: Rc::clone(&lines),
            at,
        });
        lines
    })
}

/// The last wrap: the key of its text, its rows, and where each line's rows are.
struct Wrapped {
    key: u64,
    lines: Rc<Vec<Line<'static>>>,
    /// A line's key → its rows in `lines`.
    at: HashMap<u64, (usize, usize)>,
}

/// A hash of one line's text and styles at one width.
fn line_key(line: &Line<'_>, width: u16) -> u64 {
    let mut h = std::hash::DefaultHasher::new();
    width.hash(&mut h);
    (line.style, line.alignment).hash(&mut h);
    line.spans.len().hash(&mut h);
    for span in &line.spans {
        span.style.hash(&mut h);
        span.content.hash(&mut h);
    }
    h.finish()
}

/// The largest useful scroll for these lines in this pane.
pub fn max_scroll(lines: &[Line<'_>], area: Rect) -> usize {
    wrapped(lines, area).len().saturating_sub(text_rows(area))
}

/// Draws the pane: `── title ──── 1-7/30 ↓` and the text from row `scroll`.
pub fn render(
    buf: &mut Buffer,
    area: Rect,
    title: &str,
    lines: &[Line<'_>],
    scroll: usize,
    theme: &Theme,
    focused: bool,
) {
    if area.height == 0 || area.width == 0 {
        return;
    }
    let body = Rect {
        y: area.y + 1,
        height: area.height - 1,
        ..area
    };
    let all = wrapped(lines, area);
    let rows = text_rows(area);
    let all = all.as_slice();
    let scroll = scroll.min(all.len().saturating_sub(rows));
    let border = theme.border(focused);
    let rule: String = "─".repeat(usize::from(area.width));
    buf.set_stringn(area.x, area.y, &rule, usize::from(area.width), border);
    let mut spans = vec![
        Span::styled("─ ", border),
        Span::styled(title.to_string(), theme.title(focused)),
        Span::styled(" ", border),
    ];
    if all.len() > rows && rows > 0 {
        let last = (scroll + rows).min(all.len());
        let more = if last < all.len() { " ↓" } else { "" };
        let pos = format!(" {}-{}/{}{more} ", scroll + 1, last, all.len());
        let w = u16::try_from(pos.chars().count()).unwrap_or(0);
        if w + 4 < area.width {
            let x = area.x + area.width - w - 1;
            buf.set_stringn(x, area.y, &pos, usize::from(w), theme.muted);
            let title_line = Line::from(spans.clone());
            draw_fitted(buf, area.x, area.y, &title_line, area.width - w - 2);
            spans.clear();
        }
    }
    if !spans.is_empty() {
        draw_fitted(buf, area.x, area.y, &Line::from(spans), area.width);
    }
    let visible = all.get(scroll..).unwrap_or_default();
    draw_lines(buf, body, visible);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(lines: &[Line<'_>]) -> Vec<String> {
        lines.iter().map(|l| l.to_string()).collect()
    }

    #[test]
    fn a_wrap_reusing_the_last_ones_lines_is_the_wrap_of_the_new_text() {
        let area = Rect::new(0, 0, 20, 10);
        let long = "holders  nginx 1234 fd 6, nginx 1235 fd 6, nginx 1236 fd 6";
        let first = vec![
            Line::from("queue 0/511"),
            Line::from(long),
            Line::from(""),
            Line::from(long),
        ];
        assert_eq!(text(&wrapped(&first, area)), text(&wrap(&first, 20)));
        // One line changed, one added, the rest the same (and one twice).
        let second = vec![
            Line::from("queue 3/511"),
            Line::from(long),
            Line::from("new  a line long enough to wrap at twenty"),
            Line::from(long),
        ];
        assert_eq!(text(&wrapped(&second, area)), text(&wrap(&second, 20)));
        // Another width wraps again.
        let narrow = Rect::new(0, 0, 12, 10);
        assert_eq!(text(&wrapped(&second, narrow)), text(&wrap(&second, 12)));
        assert!(wrapped(&second, narrow).len() > second.len());
    }
}
