//! Queue bars and sparklines in block characters. Both are drawn next to their numbers,
//! so a terminal without the glyphs still shows the value.

/// Eighths of a cell, from one eighth to a full block.
const EIGHTHS: [char; 8] = ['▏', '▎', '▍', '▌', '▋', '▊', '▉', '█'];
/// Sparkline levels, lowest first.
const LEVELS: [char; 8] = ['▁', '▂', '▃', '▄', '▅', '▆', '▇', '█'];

/// `len` of `max` as a bar of `cells` cells, in eighths; the empty part is `·`. A non-zero
/// value always shows at least an eighth, and a value at or over `max` fills the bar.
pub fn bar(len: u32, max: u32, cells: usize) -> String {
    let total = cells * 8;
    let filled = if max == 0 {
        if len > 0 { total } else { 0 }
    } else {
        let f = (u64::from(len) * total as u64).div_ceil(u64::from(max));
        usize::try_from(f).unwrap_or(total).min(total)
    };
    let mut out = String::with_capacity(cells * 3);
    for i in 0..cells {
        let in_cell = filled.saturating_sub(i * 8).min(8);
        match in_cell.checked_sub(1).and_then(|k| EIGHTHS.get(k)) {
            Some(c) => out.push(*c),
            None => out.push('·'),
        }
    }
    out
}

/// The last `cells` values as a sparkline scaled to `max` (at least the largest value):
/// zero is the lowest level and any non-zero value at least the second, so "some" never
/// looks like "none".
pub fn sparkline(values: &[u32], max: u32, cells: usize) -> String {
    let start = values.len().saturating_sub(cells);
    let shown = values.get(start..).unwrap_or_default();
    let top = shown.iter().copied().max().unwrap_or(0).max(max).max(1);
    shown
        .iter()
        .map(|&v| {
            if v == 0 {
                LEVELS[0]
            } else {
                let k = (u64::from(v) * 7).div_ceil(u64::from(top));
                let k = usize::try_from(k).unwrap_or(7).clamp(1, 7);
                LEVELS.get(k).copied().unwrap_or('█')
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bars() {
        assert_eq!(bar(0, 128, 4), "····");
        assert_eq!(bar(1, 128, 4), "▏···", "non-zero shows");
        assert_eq!(bar(64, 128, 4), "██··");
        assert_eq!(bar(5, 4, 4), "████", "over full is full");
        assert_eq!(bar(3, 0, 2), "██");
    }

    #[test]
    fn sparklines() {
        assert_eq!(sparkline(&[0, 1, 3, 5], 5, 8), "▁▃▆█");
        assert_eq!(sparkline(&[0, 0], 0, 8), "▁▁");
        assert_eq!(sparkline(&[9, 1, 2, 3], 0, 2), "▆█");
        assert_eq!(sparkline(&[], 4, 3), "");
    }
}
