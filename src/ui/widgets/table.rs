//! The one table widget, used by every view. A view describes its columns and hands out
//! rows through [`Source`]; each row says, per column, its cell, its style and its sort
//! key ([`Row`]). The table keeps no data of its own: the order of the rows that pass the
//! filter is computed once per snapshot, filter or sort change ([`order`]) and cached in
//! [`TableState`]; drawing touches only the rows on screen, so a frame costs the same at
//! 50 rows and at 50,000.

use super::text::{draw_fitted, draw_right};
use crate::ui::theme::Theme;
use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use std::cmp::Ordering;

/// One column: its title and how it takes width.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Column {
    pub title: &'static str,
    /// Below this width the column is left out.
    pub min: u16,
    /// The width it gets when there is room.
    pub ideal: u16,
    /// Columns are kept by priority (0 first) when the screen is narrow.
    pub priority: u8,
    /// Takes the room left over once every column has its ideal width.
    pub grow: bool,
    /// Numbers: right-aligned.
    pub right: bool,
    /// Left out whatever the width: a column this snapshot has nothing for (CONTAINER on
    /// a host without containers). Its index stays, so rows keep one column numbering.
    pub hidden: bool,
}

impl Column {
    pub const fn new(title: &'static str, min: u16, ideal: u16, priority: u8) -> Column {
        Column {
            title,
            min,
            ideal,
            priority,
            grow: false,
            right: false,
            hidden: false,
        }
    }

    pub const fn hidden(self) -> Column {
        Column {
            hidden: true,
            ..self
        }
    }

    pub const fn grow(self) -> Column {
        Column { grow: true, ..self }
    }

    pub const fn right(self) -> Column {
        Column {
            right: true,
            ..self
        }
    }
}

/// What a column sorts by. Values of one column use one variant; `Missing` (no value)
/// sorts after every value.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum SortKey {
    Num(i64),
    /// Lowercase text.
    Text(String),
    /// Several numbers, most significant first (port, then address bytes, ...).
    Tuple(Vec<i64>),
    Missing,
}

impl SortKey {
    pub fn text(s: &str) -> SortKey {
        SortKey::Text(s.to_lowercase())
    }

    pub fn num(n: impl Into<i64>) -> SortKey {
        SortKey::Num(n.into())
    }
}

/// One row of a view.
pub trait Row {
    /// The cell of column `col` (an index into [`Source::columns`]), for `width` columns:
    /// a cell may choose a shorter form when narrow; the table cuts what still overflows.
    fn cell(&self, col: usize, width: u16, theme: &Theme) -> Line<'_>;
    fn sort_key(&self, col: usize) -> SortKey;
    /// A style under every cell of the row.
    fn style(&self, _theme: &Theme) -> Style {
        Style::new()
    }
}

/// The rows of a view, by index.
pub trait Source {
    type Row<'r>: Row
    where
        Self: 'r;
    fn columns(&self) -> &'static [Column];
    fn len(&self) -> usize;
    fn is_empty(&self) -> bool {
        self.len() == 0
    }
    fn row(&self, index: usize) -> Option<Self::Row<'_>>;
}

/// A sort: the column and the direction.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Sort {
    pub col: usize,
    pub desc: bool,
}

/// Per view: the visible order of the rows (indices into the source), the selection and
/// the first row on screen.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TableState {
    pub rows: Vec<u32>,
    /// Position in `rows`.
    pub selected: usize,
    /// Position in `rows` of the first row on screen.
    pub offset: usize,
    pub sort: Sort,
}

impl TableState {
    pub fn new(sort: Sort) -> TableState {
        TableState {
            sort,
            ..TableState::default()
        }
    }

    /// The source index of the selected row.
    pub fn selected_index(&self) -> Option<usize> {
        self.rows.get(self.selected).map(|&i| i as usize)
    }

    /// Selects position `pos`, clamped to the rows.
    pub fn select(&mut self, pos: usize) {
        self.selected = pos.min(self.rows.len().saturating_sub(1));
    }

    /// Moves the selection by `delta` rows, stopping at either end.
    pub fn move_by(&mut self, delta: isize) {
        let pos = self.selected.saturating_add_signed(delta);
        self.select(pos);
    }

    /// Keeps the selection on screen for a body of `height` rows.
    pub fn scroll_into_view(&mut self, height: usize) {
        self.offset = self.visible_offset(height);
    }

    /// The first row on screen for `height` rows: the stored offset, moved as little as
    /// needed to show the selection. Pure, so drawing never depends on an update having
    /// seen the current terminal size.
    pub fn visible_offset(&self, height: usize) -> usize {
        let height = height.max(1);
        let last_start = self.rows.len().saturating_sub(height);
        let mut off = self.offset.min(last_start);
        if self.selected < off {
            off = self.selected;
        } else if self.selected >= off + height {
            off = self.selected + 1 - height;
        }
        off
    }
}

/// The rows of `src` that `keep` accepts, sorted; ties keep the source order, so the order
/// is stable across refreshes.
pub fn order<S: Source>(src: &S, keep: impl Fn(usize) -> bool, sort: Sort) -> Vec<u32> {
    let mut keyed: Vec<(SortKey, u32)> = (0..src.len())
        .filter(|&i| keep(i))
        .filter_map(|i| {
            let row = src.row(i)?;
            Some((row.sort_key(sort.col), u32::try_from(i).ok()?))
        })
        .collect();
    keyed.sort_by(|a, b| {
        let by_key = match (&a.0, &b.0) {
            // Missing values last in either direction: they are not "small".
            (SortKey::Missing, SortKey::Missing) => Ordering::Equal,
            (SortKey::Missing, _) => return Ordering::Greater,
            (_, SortKey::Missing) => return Ordering::Less,
            (x, y) => x.cmp(y),
        };
        let by_key = if sort.desc { by_key.reverse() } else { by_key };
        by_key.then(a.1.cmp(&b.1))
    });
    keyed.into_iter().map(|(_, i)| i).collect()
}

/// A column as placed on screen.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Placed {
    pub col: usize,
    pub x: u16,
    pub width: u16,
}

/// One space between columns.
const GAP: u16 = 1;

/// Places the columns in `width`: the most important ones that fit at their minimum, then
/// widened to their ideal in priority order, then the rest to the growing columns. Widths
/// come from the column specs, not from the data, so columns do not jump while scrolling.
pub fn place(cols: &[Column], width: u16) -> Vec<Placed> {
    let mut by_priority: Vec<usize> = (0..cols.len()).collect();
    by_priority.sort_by_key(|&i| (cols.get(i).map(|c| c.priority), i));
    let mut widths: Vec<Option<u16>> = vec![None; cols.len()];
    let mut used: u16 = 0;
    for &i in &by_priority {
        let Some(c) = cols.get(i).filter(|c| !c.hidden) else {
            continue;
        };
        let need = c.min + if used == 0 { 0 } else { GAP };
        if used.saturating_add(need) <= width {
            used += need;
            if let Some(w) = widths.get_mut(i) {
                *w = Some(c.min);
            }
        }
    }
    let mut left = width.saturating_sub(used);
    for &i in &by_priority {
        let (Some(c), Some(Some(w))) = (cols.get(i), widths.get_mut(i)) else {
            continue;
        };
        let more = c.ideal.saturating_sub(*w).min(left);
        *w += more;
        left -= more;
    }
    let growers: Vec<usize> = (0..cols.len())
        .filter(|&i| {
            cols.get(i).is_some_and(|c| c.grow) && widths.get(i).is_some_and(|w| w.is_some())
        })
        .collect();
    let n = u16::try_from(growers.len()).unwrap_or(1);
    if let Some(share) = left.checked_div(n) {
        let mut extra = left % n;
        for &i in &growers {
            if let Some(Some(w)) = widths.get_mut(i) {
                *w += share + u16::from(extra > 0);
                extra = extra.saturating_sub(1);
            }
        }
    }
    let mut x = 0;
    let mut out = Vec::new();
    for (col, w) in widths.iter().enumerate() {
        if let Some(w) = w {
            out.push(Placed { col, x, width: *w });
            x += w + GAP;
        }
    }
    out
}

/// Draws the header row and the visible rows of `state` into `area`; with no rows, `empty`
/// in the first body row.
pub fn render<S: Source>(
    buf: &mut Buffer,
    area: Rect,
    src: &S,
    state: &TableState,
    theme: &Theme,
    empty: &str,
) {
    if area.height == 0 || area.width == 0 {
        return;
    }
    let cols = src.columns();
    let placed = place(cols, area.width);
    buf.set_style(Rect { height: 1, ..area }, theme.header);
    for p in &placed {
        let Some(c) = cols.get(p.col) else { continue };
        let mut title = c.title.to_string();
        if state.sort.col == p.col {
            title.push(if state.sort.desc { '▼' } else { '▲' });
        }
        let line = Line::from(Span::styled(title, theme.header));
        if c.right {
            draw_right(buf, area.x + p.x, area.y, &line, p.width);
        } else {
            draw_fitted(buf, area.x + p.x, area.y, &line, p.width);
        }
    }
    let body = Rect {
        y: area.y + 1,
        height: area.height - 1,
        ..area
    };
    if state.rows.is_empty() {
        if body.height > 0 {
            draw_fitted(
                buf,
                body.x,
                body.y,
                &Line::styled(empty.to_string(), theme.muted),
                body.width,
            );
        }
        return;
    }
    let height = usize::from(body.height);
    let offset = state.visible_offset(height);
    let visible = state.rows.get(offset..).unwrap_or_default();
    for (k, (&index, y)) in visible.iter().zip(body.y..body.bottom()).enumerate() {
        let Some(row) = src.row(index as usize) else {
            continue;
        };
        let line_area = Rect {
            y,
            height: 1,
            ..body
        };
        buf.set_style(line_area, row.style(theme));
        for p in &placed {
            let line = row.cell(p.col, p.width, theme);
            if cols.get(p.col).is_some_and(|c| c.right) {
                draw_right(buf, body.x + p.x, y, &line, p.width);
            } else {
                draw_fitted(buf, body.x + p.x, y, &line, p.width);
            }
        }
        if offset + k == state.selected {
            buf.set_style(line_area, theme.selected);
        }
    }
}

/// The column under screen column `x` (relative to the table's left edge), for clicks on
/// the header.
pub fn column_at(cols: &[Column], width: u16, x: u16) -> Option<usize> {
    place(cols, width)
        .into_iter()
        .find(|p| x >= p.x && x < p.x + p.width + GAP)
        .map(|p| p.col)
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Nums(Vec<(i64, &'static str)>);
    struct NumRow(i64, &'static str);

    impl Row for NumRow {
        fn cell(&self, col: usize, _w: u16, _t: &Theme) -> Line<'_> {
            match col {
                0 => Line::from(self.0.to_string()),
                _ => Line::from(self.1),
            }
        }
        fn sort_key(&self, col: usize) -> SortKey {
            match col {
                0 if self.0 < 0 => SortKey::Missing,
                0 => SortKey::num(self.0),
                _ => SortKey::text(self.1),
            }
        }
    }

    const COLS: [Column; 2] = [
        Column::new("N", 3, 5, 1).right(),
        Column::new("NAME", 4, 10, 0).grow(),
    ];

    impl Source for Nums {
        type Row<'r> = NumRow;
        fn columns(&self) -> &'static [Column] {
            &COLS
        }
        fn len(&self) -> usize {
            self.0.len()
        }
        fn row(&self, i: usize) -> Option<NumRow> {
            self.0.get(i).map(|&(n, s)| NumRow(n, s))
        }
    }

    #[test]
    fn order_filters_sorts_and_keeps_missing_last() {
        let src = Nums(vec![(3, "c"), (-1, "z"), (1, "B"), (2, "a"), (1, "d")]);
        let asc = order(
            &src,
            |_| true,
            Sort {
                col: 0,
                desc: false,
            },
        );
        assert_eq!(asc, vec![2, 4, 3, 0, 1]);
        let desc = order(&src, |_| true, Sort { col: 0, desc: true });
        assert_eq!(
            desc,
            vec![0, 3, 2, 4, 1],
            "ties stay in source order, missing last"
        );
        let names = order(
            &src,
            |i| i != 3,
            Sort {
                col: 1,
                desc: false,
            },
        );
        assert_eq!(names, vec![2, 0, 4, 1]);
    }

    #[test]
    fn place_drops_low_priority_columns_and_grows() {
        assert_eq!(
            place(&COLS, 30),
            vec![
                Placed {
                    col: 0,
                    x: 0,
                    width: 5
                },
                Placed {
                    col: 1,
                    x: 6,
                    width: 24
                }
            ]
        );
        assert_eq!(
            place(&COLS, 6),
            vec![Placed {
                col: 1,
                x: 0,
                width: 6
            }]
        );
        assert_eq!(column_at(&COLS, 30, 2), Some(0));
        assert_eq!(column_at(&COLS, 30, 7), Some(1));
    }

    #[test]
    fn hidden_columns_take_no_room_and_keep_their_index() {
        let cols = [COLS[0].hidden(), COLS[1]];
        assert_eq!(
            place(&cols, 300),
            vec![Placed {
                col: 1,
                x: 0,
                width: 300
            }]
        );
    }

    #[test]
    fn offset_follows_the_selection() {
        let mut st = TableState {
            rows: (0..100).collect(),
            ..TableState::default()
        };
        st.select(50);
        assert_eq!(st.visible_offset(10), 41);
        st.scroll_into_view(10);
        st.move_by(-5);
        assert_eq!(st.visible_offset(10), 41, "still on screen: no jump");
        st.move_by(-100);
        assert_eq!((st.selected, st.visible_offset(10)), (0, 0));
        st.move_by(1000);
        assert_eq!(st.selected, 99);
    }

    #[test]
    fn renders_only_what_fits() {
        let src = Nums((0..1000).map(|i| (i, "x")).collect());
        let mut st = TableState {
            rows: order(&src, |_| true, Sort::default()),
            ..TableState::default()
        };
        st.select(500);
        let area = Rect::new(0, 0, 12, 4);
        let mut buf = Buffer::empty(area);
        render(&mut buf, area, &src, &st, &Theme::default(), "none");
        let text: Vec<String> = (0..4)
            .map(|y| (0..12).map(|x| buf[(x, y)].symbol().to_string()).collect())
            .collect();
        // 12 columns: NAME (priority 0) widens first, N stays at its minimum.
        assert_eq!(
            text,
            vec![
                " N▲ NAME    ",
                "498 x       ",
                "499 x       ",
                "500 x       "
            ]
        );
    }
}
