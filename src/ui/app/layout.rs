//! Where each part of the screen goes, for a terminal size: one function used both to draw
//! and to map mouse clicks, so the two can never disagree.

use ratatui::layout::Rect;

/// The screen's parts. Heights may be zero on a tiny terminal.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Areas {
    /// Host, time, interval or PAUSED, privileges, counts: two rows.
    pub header: Rect,
    /// Files only: the banner and time line (file, host, sample, queue sparkline).
    pub timeline: Rect,
    /// The view tabs, and the active filter at the right.
    pub tabs: Rect,
    /// The table: its header row, then the rows.
    pub table: Rect,
    /// Under the table: the legend, the position and the sort.
    pub footer: Rect,
    /// The detail pane (or the what-if panel): a title row, then the text.
    pub detail: Rect,
    /// Key hints, messages, and the prompts.
    pub status: Rect,
}

const HEADER: u16 = 2;

/// Lays out `area`. `rows` is the number of table rows the view has (the table shrinks to
/// them and gives the rest to the detail); `expanded` gives the detail the whole body;
/// `timeline` adds the files' row under the header.
pub fn layout(area: Rect, rows: usize, expanded: bool, timeline: bool) -> Areas {
    let mut a = Areas::default();
    let mut y = area.y;
    let bottom = area.bottom();
    let take = |y: &mut u16, h: u16| -> Rect {
        let h = h.min(bottom.saturating_sub(*y));
        let r = Rect::new(area.x, *y, area.width, h);
        *y += h;
        r
    };
    a.header = take(&mut y, HEADER);
    if timeline {
        a.timeline = take(&mut y, 1);
    }
    a.tabs = take(&mut y, 1);
    // The status bar is the last row, whatever is left above it.
    if bottom > y {
        a.status = Rect::new(area.x, bottom - 1, area.width, 1);
    }
    let body_h = a.status.y.saturating_sub(y).min(bottom.saturating_sub(y));
    if body_h == 0 {
        return a;
    }
    if expanded {
        a.detail = Rect::new(area.x, y, area.width, body_h);
        return a;
    }
    // The table gets its rows (plus its header) up to three fifths of the body; the
    // footer one row; the detail the rest, and nothing at all when the body is tiny.
    let wanted = u16::try_from(rows.max(1))
        .unwrap_or(u16::MAX)
        .saturating_add(1);
    let table_h = if body_h < 8 {
        body_h.saturating_sub(1)
    } else {
        wanted.min(body_h * 3 / 5).max(3)
    };
    a.table = take(&mut y, table_h);
    a.footer = take(&mut y, 1);
    let rest = a.status.y.saturating_sub(y);
    a.detail = Rect::new(area.x, y, area.width, rest);
    a
}

impl Areas {
    /// Table rows on screen (without the header row).
    pub fn body_rows(&self) -> usize {
        usize::from(self.table.height.saturating_sub(1))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parts_fit_at_80x24() {
        let a = layout(Rect::new(0, 0, 80, 24), 14, false, false);
        assert_eq!(a.header, Rect::new(0, 0, 80, 2));
        assert_eq!(a.tabs, Rect::new(0, 2, 80, 1));
        assert_eq!(a.table, Rect::new(0, 3, 80, 12));
        assert_eq!(a.footer, Rect::new(0, 15, 80, 1));
        assert_eq!(a.detail, Rect::new(0, 16, 80, 7));
        assert_eq!(a.status, Rect::new(0, 23, 80, 1));
        assert_eq!(a.body_rows(), 11);
        let few = layout(Rect::new(0, 0, 80, 24), 2, false, false);
        assert_eq!(few.table.height, 3, "two rows and the header");
        let e = layout(Rect::new(0, 0, 80, 24), 14, true, false);
        assert_eq!((e.table.height, e.detail), (0, Rect::new(0, 3, 80, 20)));
        let files = layout(Rect::new(0, 0, 80, 24), 14, false, true);
        assert_eq!(files.timeline, Rect::new(0, 2, 80, 1));
        assert_eq!(files.tabs, Rect::new(0, 3, 80, 1));
        assert_eq!(files.body_rows(), 10);
    }

    #[test]
    fn tiny_terminals_do_not_underflow() {
        for h in 0..8 {
            let a = layout(Rect::new(0, 0, 10, h), 100, false, true);
            assert!(a.status.bottom() <= h);
            assert!(a.detail.bottom() <= h);
        }
    }
}
