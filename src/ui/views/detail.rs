//! The detail pane: a title rule and the selected row's explanation, wrapped to the pane
//! and scrolled; also the frame of the what-if panel.

use crate::ui::theme::Theme;
use crate::ui::widgets::text::{draw_fitted, draw_lines, wrap};
use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use std::cell::RefCell;
use std::hash::{Hash, Hasher};
use std::rc::Rc;

/// The text rows of a pane of `area` (the title takes one).
pub fn text_rows(area: Rect) -> usize {
    usize::from(area.height.saturating_sub(1))
}

/// The lines as the pane shows them at this width. The last result is kept: a frame
/// drawn again with the same text (each refresh of a quiet host, each key that does not
/// move the selection) costs a hash of the text instead of wrapping it, which for a
/// process holding 10,000 sockets is most of a frame.
pub fn wrapped(lines: &[Line<'_>], area: Rect) -> Rc<Vec<Line<'static>>> {
    thread_local! {
        static LAST: RefCell<Option<(u64, Rc<Vec<Line<'static>>>)>> = const { RefCell::new(None) };
    }
    let key = text_key(lines, area.width);
    LAST.with(|last| {
        let mut last = last.borrow_mut();
        if let Some((k, w)) = last.as_ref()
            && *k == key
        {
            return Rc::clone(w);
        }
        let w = Rc::new(wrap(lines, area.width));
        *last = Some((key, Rc::clone(&w)));
        w
    })
}

/// A hash of the lines' text and styles at one width.
fn text_key(lines: &[Line<'_>], width: u16) -> u64 {
    let mut h = std::hash::DefaultHasher::new();
    width.hash(&mut h);
    lines.len().hash(&mut h);
    for line in lines {
        (line.style, line.alignment).hash(&mut h);
        line.spans.len().hash(&mut h);
        for span in &line.spans {
            span.style.hash(&mut h);
            span.content.hash(&mut h);
        }
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
