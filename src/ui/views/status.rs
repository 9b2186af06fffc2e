//! The status bar: key hints taken from the keymap, or a message, or a prompt with its
//! cursor; and the line above it for a prompt's error or help.

use crate::ui::theme::Theme;
use crate::ui::widgets::text::{draw_fitted, width};
use ratatui::buffer::Buffer;
use ratatui::layout::{Position, Rect};
use ratatui::style::Style;
use ratatui::text::{Line, Span};

/// `? help  / filter  q quit`: each key in the key style, its word after it; as many
/// whole hints as fit in `max` columns.
pub fn hints_line(hints: &[(String, &str)], max: usize, theme: &Theme) -> Line<'static> {
    let mut spans = Vec::new();
    let mut used = 0;
    for (key, word) in hints {
        let gap = if spans.is_empty() { 0 } else { 2 };
        let w = width(key) + 1 + width(word);
        if used + gap + w > max {
            break;
        }
        if gap > 0 {
            spans.push(Span::raw("  "));
        }
        spans.push(Span::styled(key.clone(), theme.key_hint));
        spans.push(Span::styled(format!(" {word}"), theme.status_bar));
        used += gap + w;
    }
    Line::from(spans)
}

/// Draws the status bar: `left` (a message or hints), and `right` at the right edge when
/// there is room.
pub fn render(buf: &mut Buffer, area: Rect, left: &Line<'_>, right: &Line<'_>, theme: &Theme) {
    if area.height == 0 {
        return;
    }
    buf.set_style(area, theme.status_bar);
    draw_fitted(buf, area.x, area.y, left, area.width);
    let lw = left.width();
    let rw = right.width();
    if rw > 0 && lw + rw + 2 <= usize::from(area.width) {
        let x = area.width - u16::try_from(rw).unwrap_or(0);
        draw_fitted(buf, area.x + x, area.y, right, area.width - x);
    }
}

/// Draws a prompt (`/ port:80█`) and returns where the terminal cursor goes. A long input
/// scrolls so the cursor stays visible.
pub fn render_prompt(
    buf: &mut Buffer,
    area: Rect,
    prefix: &str,
    text: &str,
    cursor_col: usize,
    theme: &Theme,
) -> Option<Position> {
    if area.height == 0 || area.width == 0 {
        return None;
    }
    buf.set_style(area, theme.status_bar);
    let pw = width(prefix);
    let room = usize::from(area.width).saturating_sub(pw + 1);
    // Skip whole characters from the left until the cursor fits.
    let mut skip_cols = cursor_col.saturating_sub(room);
    let mut shown = String::new();
    let mut col = 0;
    for c in text.chars() {
        let mut tmp = [0u8; 4];
        let w = width(c.encode_utf8(&mut tmp));
        if col < skip_cols {
            col += w;
            if col > skip_cols {
                skip_cols = col;
            }
            continue;
        }
        shown.push(c);
        col += w;
    }
    let line = Line::from(vec![
        Span::styled(prefix.to_string(), theme.key_hint),
        Span::styled(shown, theme.filter),
    ]);
    draw_fitted(buf, area.x, area.y, &line, area.width);
    let x = pw + cursor_col.saturating_sub(skip_cols);
    let x = u16::try_from(x).unwrap_or(u16::MAX).min(area.width - 1);
    Some(Position::new(area.x + x, area.y))
}

/// One line of help or error above the prompt, drawn over whatever is there.
pub fn render_note(buf: &mut Buffer, area: Rect, line: &Line<'_>, style: Style) {
    if area.height == 0 {
        return;
    }
    buf.set_style(area, style);
    for x in area.x..area.right() {
        if let Some(cell) = buf.cell_mut((x, area.y)) {
            cell.set_symbol(" ");
        }
    }
    draw_fitted(buf, area.x, area.y, line, area.width);
}
