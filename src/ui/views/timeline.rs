//! The files' row under the header (`bindscope open`): which file or files, which host, and
//! for a recording where on its time line the screen is, with the accept queue over the
//! whole recording as a sparkline (the selected listener's, or all listeners' summed) and
//! the current sample marked in it. A click on the sparkline jumps there.

use crate::export::load::FileKind;
use crate::export::timeline::{Live, SourceInfo};
use crate::model::TakenAt;
use crate::text::clean;
use crate::ui::theme::Theme;
use crate::ui::widgets::bar::sparkline;
use crate::ui::widgets::text::{draw_fitted, width};
use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};

/// What the row shows.
pub struct TimelineInfo<'a> {
    pub sources: &'a [SourceInfo],
    pub hosts: usize,
    pub pos: usize,
    pub len: usize,
    /// `taken_at` of the snapshot on screen, if there is one.
    pub taken_at: Option<&'a TakenAt>,
    /// Per instant, the accept queue length drawn.
    pub series: &'a [u64],
    pub series_label: &'a str,
}

/// The least width the sparkline is drawn at; below it, it is left out.
const SPARK_MIN: usize = 8;

/// The files, briefly: `recording rec.jsonl · host web1`, `stream standard input · host
/// web1 · following`, or `3 files · 2 hosts`; a stream that ended says so.
fn files_text(info: &TimelineInfo<'_>) -> String {
    match info.sources {
        [one] => {
            let name = one.path.file_name().map_or_else(
                || one.path.display().to_string(),
                |n| n.to_string_lossy().into_owned(),
            );
            let kind = match (&one.live, one.kind) {
                (Some(_), _) => "stream",
                (None, FileKind::Snapshot) => "snapshot",
                (None, FileKind::Recording) => "recording",
            };
            let live = match &one.live {
                None => String::new(),
                Some(Live::Following) => " · following".into(),
                Some(Live::Ended(why)) => format!(" · STREAM ENDED: {}", clean(why)),
            };
            format!("{kind} {} · host {}{live}", clean(&name), clean(&one.host))
        }
        many => {
            let streams = many.iter().filter(|s| s.live.is_some()).count();
            let ended = many
                .iter()
                .filter(|s| matches!(s.live, Some(Live::Ended(_))))
                .count();
            let what = if streams == many.len() {
                "streams"
            } else if streams == 0 {
                "files"
            } else {
                "sources"
            };
            let mut text = format!(
                "{} {what} · {} {}",
                many.len(),
                info.hosts,
                if info.hosts == 1 { "host" } else { "hosts" }
            );
            if streams > ended {
                text.push_str(&format!(" · {} following", streams - ended));
            }
            if ended > 0 {
                text.push_str(&format!(" · {ended} STREAM ENDED"));
            }
            text
        }
    }
}

/// `[3/40] 2026-11-22 07:44:23.120Z`.
fn position_text(info: &TimelineInfo<'_>) -> String {
    let time = info
        .taken_at
        .map(|t| clean(&t.screen_text()).into_owned())
        .unwrap_or_default();
    if info.len > 1 {
        format!("[{}/{}] {time}", info.pos + 1, info.len)
    } else {
        format!("taken {time}")
    }
}

/// Where the sparkline goes in a row of `total` columns: `(x, cells)`, or `None` when there
/// is no room or nothing to step through.
pub fn spark_area(info: &TimelineInfo<'_>, total: u16) -> Option<(u16, usize)> {
    if info.len < 2 {
        return None;
    }
    let left = width(&position_text(info)) + 1;
    let right = width(info.series_label) + 3 + width(&files_text(info)) + 3;
    let room = usize::from(total).checked_sub(left + right)?;
    (room >= SPARK_MIN).then(|| (u16::try_from(left).unwrap_or(0), room.min(info.len)))
}

/// The instant under column `x` of the sparkline.
pub fn instant_at(info: &TimelineInfo<'_>, total: u16, x: u16) -> Option<usize> {
    let (sx, cells) = spark_area(info, total)?;
    let k = usize::from(x.checked_sub(sx)?);
    (k < cells).then(|| cell_to_instant(k, cells, info.len))
}

/// The first and last cells are the first and last instants, whatever the widths.
fn cell_to_instant(k: usize, cells: usize, len: usize) -> usize {
    if cells < 2 {
        return len.saturating_sub(1);
    }
    (k * (len - 1) + (cells - 1) / 2) / (cells - 1)
}

/// The cell that shows instant `pos`.
fn instant_to_cell(pos: usize, cells: usize, len: usize) -> usize {
    if len < 2 {
        return 0;
    }
    ((pos * (cells - 1) + (len - 1) / 2) / (len - 1)).min(cells.saturating_sub(1))
}

/// `series` squeezed into `cells` buckets, each the largest value in it (a peak never
/// disappears between two cells).
fn buckets(series: &[u64], cells: usize) -> Vec<u32> {
    let n = series.len();
    (0..cells)
        .map(|i| {
            let (a, b) = (i * n / cells, ((i + 1) * n / cells).max(i * n / cells + 1));
            let top = series
                .get(a..b.min(n))
                .and_then(|s| s.iter().max())
                .copied();
            u32::try_from(top.unwrap_or(0)).unwrap_or(u32::MAX)
        })
        .collect()
}

pub fn render(buf: &mut Buffer, area: Rect, info: &TimelineInfo<'_>, theme: &Theme) {
    if area.height == 0 {
        return;
    }
    let mut spans = vec![Span::styled(position_text(info), theme.title_focused)];
    if let Some((_, cells)) = spark_area(info, area.width) {
        spans.push(Span::raw(" "));
        let values = buckets(info.series, cells);
        let cursor = instant_to_cell(info.pos, cells, info.len);
        for (k, c) in sparkline(&values, 0, cells).chars().enumerate() {
            let style = if k == cursor {
                theme.selected
            } else {
                theme.warning
            };
            spans.push(Span::styled(c.to_string(), style));
        }
        spans.push(Span::styled(format!(" {}", info.series_label), theme.muted));
    }
    spans.push(Span::styled(" · ", theme.muted));
    spans.push(Span::raw(files_text(info)));
    spans.push(Span::styled(" · read-only", theme.muted));
    draw_fitted(buf, area.x, area.y, &Line::from(spans), area.width);
}

#[cfg(test)]
mod tests {
    use super::*;

    static TIME: std::sync::LazyLock<TakenAt> =
        std::sync::LazyLock::new(|| TakenAt::parse("2026-11-22T07:44:23.120Z"));

    fn info<'a>(sources: &'a [SourceInfo], series: &'a [u64], pos: usize) -> TimelineInfo<'a> {
        TimelineInfo {
            sources,
            hosts: 1,
            pos,
            len: series.len(),
            taken_at: Some(&*TIME),
            series,
            series_label: "queue",
        }
    }

    fn rec() -> Vec<SourceInfo> {
        vec![SourceInfo {
            path: "/tmp/rec.jsonl".into(),
            kind: FileKind::Recording,
            frames: 100,
            host: "web1".into(),
            live: None,
        }]
    }

    #[test]
    fn peaks_survive_squeezing() {
        let mut s = vec![0u64; 100];
        s[57] = 9;
        let b = buckets(&s, 10);
        assert_eq!(b.len(), 10);
        assert_eq!(b[5], 9);
        assert_eq!(b.iter().filter(|&&v| v > 0).count(), 1);
        assert_eq!(buckets(&[1, 2, 3], 3), vec![1, 2, 3]);
    }

    #[test]
    fn clicks_map_to_instants() {
        let sources = rec();
        let series: Vec<u64> = (0..100).collect();
        let i = info(&sources, &series, 0);
        let (x, cells) = spark_area(&i, 120).expect("room");
        assert_eq!(instant_at(&i, 120, x), Some(0));
        assert_eq!(
            instant_at(&i, 120, x + u16::try_from(cells).expect("cells") - 1),
            Some(99)
        );
        assert_eq!(instant_at(&i, 120, x.saturating_sub(1)), None);
        assert_eq!(spark_area(&i, 30), None, "no room, no sparkline");
        for pos in [0, 1, 50, 98, 99] {
            let c = instant_to_cell(pos, cells, 100);
            assert!(c < cells);
            let back = cell_to_instant(c, cells, 100);
            assert!(
                back.abs_diff(pos) <= 100 / cells + 1,
                "{pos} → {c} → {back}"
            );
        }
    }

    #[test]
    fn one_snapshot_has_no_sparkline() {
        let sources = rec();
        let series = [3u64];
        assert_eq!(spark_area(&info(&sources, &series, 0), 200), None);
    }
}
