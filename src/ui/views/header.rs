//! The header (host, kernel, namespaces, time, interval or PAUSED, privileges and what
//! they hide, counts) and the view tabs with the active filter.

use super::ViewId;
use super::data::Data;
use crate::model::{Snapshot, TakenAt};
use crate::text::{clean, count};
use crate::ui::keymap::{Action, Keymap};
use crate::ui::theme::Theme;
use crate::ui::widgets::text::{draw_fitted, width};
use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use std::time::Duration;

/// What the header shows.
pub struct HeaderInfo<'a> {
    pub snap: Option<&'a Snapshot>,
    pub data: &'a Data,
    pub interval: Duration,
    pub paused: bool,
    /// A snapshot arrived while paused and waits.
    pub pending: bool,
    /// Files, not a live host: the position on their time line and its length.
    pub replay: Option<(usize, usize)>,
    /// Recording (`R`): the samples written so far.
    pub recording: Option<u64>,
}

/// A part of a header line; parts of higher `drop` are left out first when narrow.
struct Part {
    drop: u8,
    spans: Vec<Span<'static>>,
}

fn part(drop: u8, spans: Vec<Span<'static>>) -> Part {
    Part { drop, spans }
}

/// Joins parts with ` · `, leaving out the least important until the line fits.
fn fit(mut parts: Vec<Part>, max: usize, theme: &Theme) -> Line<'static> {
    let len = |parts: &[Part]| -> usize {
        parts
            .iter()
            .map(|p| p.spans.iter().map(Span::width).sum::<usize>())
            .sum::<usize>()
            + parts.len().saturating_sub(1) * 3
    };
    while len(&parts) > max {
        let Some((i, _)) = parts
            .iter()
            .enumerate()
            .filter(|(_, p)| p.drop > 0)
            .max_by_key(|(i, p)| (p.drop, *i))
        else {
            break;
        };
        parts.remove(i);
    }
    let mut spans = Vec::new();
    for (k, p) in parts.into_iter().enumerate() {
        if k > 0 {
            spans.push(Span::styled(" · ", theme.muted));
        }
        spans.extend(p.spans);
    }
    Line::from(spans)
}

/// `1s`, `250ms`, `2.5s`.
pub fn interval_text(d: Duration) -> String {
    let ms = d.as_millis();
    if ms < 1000 {
        format!("{ms}ms")
    } else if ms.is_multiple_of(1000) {
        format!("{}s", ms / 1000)
    } else {
        format!("{:.1}s", d.as_secs_f64())
    }
}

/// `2026-11-22 07:44:23Z`, or the file's text when it is not a time.
pub fn time_text(taken_at: &TakenAt) -> String {
    clean(&taken_at.screen_text()).into_owned()
}

pub fn render(buf: &mut Buffer, area: Rect, info: &HeaderInfo<'_>, theme: &Theme) {
    if area.height == 0 {
        return;
    }
    let max = usize::from(area.width);
    let live = if let Some((pos, len)) = info.replay {
        let text = if len > 1 {
            format!("sample {}/{len}", pos + 1)
        } else {
            "from a file".to_string()
        };
        vec![Span::styled(text, theme.paused)]
    } else if info.paused {
        let mut spans = vec![Span::styled(" PAUSED ", theme.paused)];
        if info.pending {
            spans.push(Span::styled(" new data waiting", theme.muted));
        }
        spans
    } else {
        vec![Span::raw(format!("every {}", interval_text(info.interval)))]
    };
    let mut live = live;
    if let Some(n) = info.recording {
        live.push(Span::styled(format!(" ● REC {n}"), theme.error));
    }
    let Some(snap) = info.snap else {
        let line = fit(
            vec![
                part(0, vec![Span::styled("bindscope", theme.title_focused)]),
                part(
                    0,
                    vec![Span::styled("collecting the first snapshot…", theme.muted)],
                ),
                part(0, live),
            ],
            max,
            theme,
        );
        draw_fitted(buf, area.x, area.y, &line, area.width);
        return;
    };
    let nnet = snap.netns.len();
    let not_entered = snap.netns.iter().filter(|n| n.error.is_some()).count();
    let mut netns = format!("{nnet} netns");
    if not_entered > 0 {
        netns.push_str(&format!(" ({not_entered} not entered)"));
    }
    let line1 = fit(
        vec![
            part(4, vec![Span::styled("bindscope", theme.title_focused)]),
            part(
                0,
                vec![Span::styled(
                    clean(&snap.host.hostname).into_owned(),
                    theme.title_focused,
                )],
            ),
            part(
                3,
                vec![Span::raw(format!("kernel {}", clean(&snap.host.kernel)))],
            ),
            part(2, vec![Span::raw(netns)]),
            part(1, vec![Span::raw(time_text(&snap.taken_at))]),
            part(0, live),
        ],
        max,
        theme,
    );
    draw_fitted(buf, area.x, area.y, &line1, area.width);
    if area.height < 2 {
        return;
    }
    let line2 = privileges_and_counts(snap, info.data, max, theme);
    draw_fitted(buf, area.x, area.y + 1, &line2, area.width);
}

/// Line two: who bindscope ran as and what that hides, then the counts; in the longest
/// wording that fits.
fn privileges_and_counts(snap: &Snapshot, data: &Data, max: usize, theme: &Theme) -> Line<'static> {
    let c = data.counts;
    let p = &snap.privileges;
    let who = if p.euid == 0 {
        "root".to_string()
    } else {
        format!("uid {}", p.euid)
    };
    let hidden = |short: bool| -> Vec<Span<'static>> {
        let mut h = Vec::new();
        if !p.options_readable {
            h.push(if short {
                "options ?"
            } else {
                "options unknown (?)"
            });
        }
        if !p.all_holders_visible {
            h.push(if short {
                "holders incomplete"
            } else {
                "holders may be incomplete"
            });
        }
        let prefix = if short {
            format!("{who}: ")
        } else {
            format!("as {who}: ")
        };
        let mut spans = vec![Span::raw(prefix)];
        if h.is_empty() {
            spans.push(Span::styled("sees everything", theme.ok));
        } else {
            spans.push(Span::styled(h.join(", "), theme.warning));
        }
        spans
    };
    let sev = |n: usize, word: &str, style| {
        Span::styled(
            format!("{n} {word}"),
            if n == 0 { theme.muted } else { style },
        )
    };
    let findings = |short: bool| -> Vec<Span<'static>> {
        let (cr, wa) = if short {
            ("crit", "warn")
        } else {
            ("critical", "warning")
        };
        vec![
            sev(c.critical, cr, theme.critical),
            Span::raw(" "),
            sev(c.warning, wa, theme.warning),
            Span::raw(" "),
            sev(c.notice, "notice", theme.notice),
            Span::raw(" "),
            sev(c.info, "info", theme.info),
        ]
    };
    let warnings = (!snap.warnings.is_empty()).then(|| {
        part(
            1,
            vec![Span::styled(
                format!(
                    "{} (Host view)",
                    count(snap.warnings.len(), "warning", "warnings")
                ),
                theme.warning,
            )],
        )
    });
    let variants = [
        vec![
            part(0, hidden(false)),
            part(
                0,
                vec![Span::raw(format!(
                    "{} sockets, {} listening",
                    c.sockets, c.listening
                ))],
            ),
            part(0, findings(false)),
        ],
        vec![
            part(0, hidden(true)),
            part(
                0,
                vec![Span::raw(format!(
                    "{} sockets ({} listen)",
                    c.sockets, c.listening
                ))],
            ),
            part(0, findings(true)),
        ],
        vec![
            part(0, hidden(true)),
            part(0, vec![Span::raw(format!("{} sockets", c.sockets))]),
            part(0, findings(true)),
        ],
    ];
    let fits = |parts: &[Part]| {
        parts
            .iter()
            .map(|p| p.spans.iter().map(Span::width).sum::<usize>() + 3)
            .sum::<usize>()
            <= max + 3
    };
    let mut chosen = None;
    for v in variants {
        let ok = fits(&v);
        chosen = Some(v);
        if ok {
            break;
        }
    }
    let mut parts = chosen.unwrap_or_default();
    if !snap.marks.is_empty() {
        parts.push(part(
            1,
            vec![Span::styled(
                format!("* {} marked (filter mark:any)", snap.marks.len()),
                theme.mark,
            )],
        ));
    }
    parts.extend(warnings);
    fit(parts, max, theme)
}

/// A tab: its view, label and columns on screen.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tab {
    pub view: ViewId,
    pub label: String,
    pub x: u16,
    pub width: u16,
}

fn short_title(v: ViewId) -> &'static str {
    match v {
        ViewId::Sockets => "Sock",
        ViewId::Ports => "Port",
        ViewId::Processes => "Proc",
        ViewId::Users => "User",
        ViewId::Findings => "Find",
        ViewId::Host => "Host",
        ViewId::Changes => "Chg",
    }
}

/// The tabs for a width: ` 1 Sockets `, with the first key of each view's action (from the
/// keymap), and short titles when the filter needs the room.
pub fn tabs(keymap: &Keymap, width_total: u16, filter_width: usize) -> Vec<Tab> {
    let label = |v: ViewId, short: bool| {
        let n = u8::try_from(v.index() + 1).unwrap_or(1);
        let key = keymap
            .keys(Action::View(n))
            .first()
            .map(|k| format!("{k} "))
            .unwrap_or_default();
        let title = if short { short_title(v) } else { v.title() };
        format!(" {key}{title} ")
    };
    let full: usize = ViewId::ALL.iter().map(|&v| width(&label(v, false))).sum();
    let room = usize::from(width_total).saturating_sub(filter_width.min(40));
    let short = full > room;
    let mut x = 0u16;
    ViewId::ALL
        .iter()
        .map(|&v| {
            let label = label(v, short);
            let w = u16::try_from(width(&label)).unwrap_or(0);
            let t = Tab {
                view: v,
                label,
                x,
                width: w,
            };
            x = x.saturating_add(w);
            t
        })
        .collect()
}

/// The tab line: the tabs, and the active filter at the right in its own style.
pub fn render_tabs(
    buf: &mut Buffer,
    area: Rect,
    tabs: &[Tab],
    active: ViewId,
    filter: Option<&str>,
    theme: &Theme,
) {
    if area.height == 0 {
        return;
    }
    let mut end = 0;
    for t in tabs {
        if t.x >= area.width {
            break;
        }
        let line = Line::styled(t.label.clone(), theme.tab(t.view == active));
        draw_fitted(buf, area.x + t.x, area.y, &line, area.width - t.x);
        end = t.x.saturating_add(t.width);
    }
    if let Some(f) = filter {
        let start = end.saturating_add(2);
        if start < area.width {
            let room = area.width - start;
            let line = Line::from(vec![
                Span::styled("filter ", theme.muted),
                Span::styled(f.to_string(), theme.filter),
            ]);
            let w = u16::try_from(line.width()).unwrap_or(u16::MAX);
            // Right-aligned when it fits, else cut at the right.
            let x = if w <= room { area.width - w } else { start };
            draw_fitted(buf, area.x + x, area.y, &line, area.width - x);
        }
    }
}
