//! Text that fits: a line cut to its cell with an ellipsis, and lines wrapped to a pane
//! with a hanging indent. Widths are terminal columns (wide characters count two).

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::style::Style;
use ratatui::text::{Line, Span};

const ELLIPSIS: &str = "…";

/// A label longer than this is not a label: no hanging indent after it.
const LABEL_MAX: usize = 16;

/// Draws `line` at (x, y) within `width` columns; a line that does not fit is cut and ends
/// in `…`, so a cut value never passes for a whole one.
pub fn draw_fitted(buf: &mut Buffer, x: u16, y: u16, line: &Line<'_>, width: u16) {
    if width == 0 {
        return;
    }
    if line.width() <= usize::from(width) {
        buf.set_line(x, y, line, width);
        return;
    }
    let (end, _) = buf.set_line(x, y, line, width - 1);
    let style = line
        .spans
        .last()
        .map(|s| line.style.patch(s.style))
        .unwrap_or(line.style);
    buf.set_stringn(end, y, ELLIPSIS, 1, style);
}

/// Draws `line` right-aligned within `width` columns (numbers), cut like [`draw_fitted`].
pub fn draw_right(buf: &mut Buffer, x: u16, y: u16, line: &Line<'_>, width: u16) {
    let w = u16::try_from(line.width()).unwrap_or(u16::MAX);
    if w >= width {
        draw_fitted(buf, x, y, line, width);
    } else {
        buf.set_line(x + (width - w), y, line, w);
    }
}

/// Draws whole lines into `area`, one per row, each cut to the width; rows past the area
/// are dropped.
pub fn draw_lines(buf: &mut Buffer, area: Rect, lines: &[Line<'_>]) {
    for (line, y) in lines.iter().zip(area.y..area.bottom()) {
        draw_fitted(buf, area.x, y, line, area.width);
    }
}

/// Columns taken by a string.
pub fn width(s: &str) -> usize {
    Span::raw(s).width()
}

/// `s` cut to `max` columns with `…`.
pub fn truncate(s: &str, max: usize) -> String {
    if width(s) <= max {
        return s.to_string();
    }
    let mut out = String::new();
    let mut used = 0;
    for c in s.chars() {
        let mut tmp = [0u8; 4];
        let w = width(c.encode_utf8(&mut tmp));
        if used + w + 1 > max {
            break;
        }
        used += w;
        out.push(c);
    }
    if max > 0 {
        out.push_str(ELLIPSIS);
    }
    out
}

/// Wraps each line to `width` columns at spaces (mid-word only when a word is longer than
/// a row). Continuation rows keep the line's leading indent, so a list item or a labelled
/// value stays readable as a block.
pub fn wrap(lines: &[Line<'_>], width: u16) -> Vec<Line<'static>> {
    let width = usize::from(width);
    let mut out = Vec::new();
    if width == 0 {
        return out;
    }
    for line in lines {
        wrap_one(line, width, &mut out);
    }
    out
}

fn wrap_one(line: &Line<'_>, width: usize, out: &mut Vec<Line<'static>>) {
    // Most lines fit: measured and joined straight from the graphemes, without a string
    // per grapheme (a detail pane of 10,000 holders is as many lines, wrapped each time
    // the text moves).
    let fits = line
        .styled_graphemes(Style::new())
        .try_fold(0usize, |total, g| {
            let total = total + width_of(g.symbol);
            (total <= width).then_some(total)
        })
        .is_some();
    if fits {
        out.push(join_styled(
            line.styled_graphemes(Style::new())
                .map(|g| (g.symbol, g.style)),
        ));
        return;
    }
    let cells: Vec<(String, Style, usize)> = line
        .styled_graphemes(Style::new())
        .map(|g| {
            let w = width_of(g.symbol);
            (g.symbol.to_string(), g.style, w)
        })
        .collect();
    let total: usize = cells.iter().map(|c| c.2).sum();
    if total <= width {
        out.push(join(&cells));
        return;
    }
    // Hanging indent: the leading spaces, or a short label followed by two spaces
    // ("holders   ..."), bounded so that at least half the row is left for text.
    let lead = cells.iter().take_while(|c| c.0 == " ").count();
    let label = cells
        .windows(2)
        .position(|w| w[0].0 == " " && w[1].0 == " ")
        .filter(|&k| k > lead && k < LABEL_MAX)
        .map(|k| k + cells.iter().skip(k).take_while(|c| c.0 == " ").count())
        .filter(|&end| end < cells.len());
    let indent = label.unwrap_or(lead).min(width / 2);
    let mut row: Vec<(String, Style, usize)> = Vec::new();
    let mut row_w = 0;
    let mut first = true;
    let mut i = 0;
    while i < cells.len() {
        let Some(cell) = cells.get(i) else { break };
        // A row holding only its indent takes the cell anyway, so a cell wider than the
        // room left always makes progress.
        let floor = if first { 0 } else { indent };
        if row_w + cell.2 > width && row.len() > floor && cell.0 == " " {
            // The space that overflows is the break itself.
            trim_end(&mut row);
            out.push(join(&row));
            first = false;
            row = (0..indent)
                .map(|_| (" ".to_string(), Style::new(), 1))
                .collect();
            row_w = indent;
            i += 1;
            continue;
        }
        if row_w + cell.2 > width && row.len() > floor {
            // Break at the last space of the row that is not part of the indent.
            let min_break = if first { lead.max(indent) } else { indent };
            let brk = row
                .iter()
                .enumerate()
                .rev()
                .find(|(k, c)| *k > min_break && c.0 == " ")
                .map(|(k, _)| k);
            let carry: Vec<(String, Style, usize)> = match brk {
                Some(k) => {
                    let rest = row.split_off(k);
                    rest.into_iter().skip(1).collect()
                }
                None => Vec::new(),
            };
            trim_end(&mut row);
            out.push(join(&row));
            first = false;
            row = (0..indent)
                .map(|_| (" ".to_string(), Style::new(), 1))
                .collect();
            row.extend(carry);
            row_w = row.iter().map(|c| c.2).sum();
            continue;
        }
        // A space at the start of a continuation row is dropped.
        if !(cell.0 == " " && !first && row.len() == indent) {
            row.push(cell.clone());
            row_w += cell.2;
        }
        i += 1;
    }
    trim_end(&mut row);
    if row.len() > indent || first {
        out.push(join(&row));
    }
}

fn width_of(symbol: &str) -> usize {
    width(symbol)
}

fn trim_end(row: &mut Vec<(String, Style, usize)>) {
    while row.last().is_some_and(|c| c.0 == " ") {
        row.pop();
    }
}

/// Merges graphemes of one style into spans.
fn join(cells: &[(String, Style, usize)]) -> Line<'static> {
    join_styled(cells.iter().map(|(sym, st, _)| (sym.as_str(), *st)))
}

/// Merges graphemes of one style into spans.
fn join_styled<'a>(cells: impl Iterator<Item = (&'a str, Style)>) -> Line<'static> {
    let mut spans: Vec<Span<'static>> = Vec::new();
    let mut text = String::new();
    let mut style: Option<Style> = None;
    for (sym, st) in cells {
        if style.is_some_and(|s| s != st) {
            spans.push(Span::styled(
                std::mem::take(&mut text),
                style.unwrap_or_default(),
            ));
        }
        style = Some(st);
        text.push_str(sym);
    }
    if !text.is_empty() {
        spans.push(Span::styled(text, style.unwrap_or_default()));
    }
    Line::from(spans)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plain(lines: &[Line<'_>]) -> Vec<String> {
        lines.iter().map(|l| l.to_string()).collect()
    }

    #[test]
    fn wraps_at_spaces_with_a_hanging_indent() {
        let l = Line::from("  the quick brown fox jumps over the lazy dog");
        assert_eq!(
            plain(&wrap(&[l], 16)),
            vec![
                "  the quick",
                "  brown fox",
                "  jumps over the",
                "  lazy dog"
            ]
        );
    }

    #[test]
    fn hangs_continuation_rows_under_a_label() {
        let l = Line::from("holders   nginx[1] root, nginx[2] www-data");
        assert_eq!(
            plain(&wrap(&[l], 26)),
            vec![
                "holders   nginx[1] root,",
                "          nginx[2]",
                "          www-data"
            ]
        );
    }

    #[test]
    fn cuts_words_longer_than_a_row() {
        let l = Line::from("abcdefghij klm");
        assert_eq!(plain(&wrap(&[l], 4)), vec!["abcd", "efgh", "ij", "klm"]);
    }

    #[test]
    fn keeps_styles_and_short_lines() {
        let l = Line::from(vec![
            Span::styled("ab", Style::new().bold()),
            Span::raw(" cd"),
        ]);
        let w = wrap(std::slice::from_ref(&l), 10);
        assert_eq!(w, vec![l]);
        assert!(wrap(&[Line::from("x")], 0).is_empty());
    }

    #[test]
    fn truncation() {
        assert_eq!(truncate("abcdef", 4), "abc…");
        assert_eq!(truncate("abc", 4), "abc");
        assert_eq!(truncate("日本語", 4), "日…");
        let mut buf = Buffer::empty(Rect::new(0, 0, 6, 1));
        draw_fitted(&mut buf, 0, 0, &Line::from("abcdefgh"), 6);
        assert_eq!(buf, Buffer::with_lines(["abcde…"]));
        let mut buf = Buffer::empty(Rect::new(0, 0, 6, 1));
        draw_right(&mut buf, 0, 0, &Line::from("42"), 6);
        assert_eq!(buf, Buffer::with_lines(["    42"]));
    }
}
