//! The help overlay, generated from the keymap (so it says what the keys really do, with
//! the user's overrides), plus the filter language, the what-if syntax and the legend.

use crate::query;
use crate::ui::keymap::Keymap;
use crate::ui::theme::Theme;
use crate::ui::widgets::text::{draw_lines, wrap};
use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Widget};

const PROMPT_HELP: &str = "in a prompt: enter apply · esc cancel · ←/→ home/end move · ctrl-u clear · ctrl-w delete a word";

const WHATIF_HELP: [&str; 2] = [
    "tcp|udp ADDR:PORT [--reuseaddr] [--reuseport] [--v6only] [--freebind] [--transparent]",
    "        [--device IF] [--user NAME|UID] [--listen] [--netns NAME|ID]",
];

/// The help text as lines.
pub fn lines(keymap: &Keymap, theme: &Theme) -> Vec<Line<'static>> {
    let mut out = Vec::new();
    let heading = |t: &str| Line::styled(t.to_string(), theme.title_focused);
    for g in keymap.bindings() {
        out.push(heading(g.category.title()));
        for b in &g.bindings {
            out.push(Line::from(vec![
                Span::styled(format!("  {:<16} ", b.keys_label()), theme.key_hint),
                Span::raw(b.description()),
            ]));
        }
        out.push(Line::default());
    }
    out.push(heading("Filter language"));
    for l in query::help::brief() {
        out.push(Line::raw(format!("  {l}")));
    }
    out.push(Line::styled(format!("  {PROMPT_HELP}"), theme.muted));
    out.push(Line::default());
    out.push(heading("What-if (can this bind succeed now?)"));
    for l in WHATIF_HELP {
        out.push(Line::raw(format!("  {l}")));
    }
    out.push(Line::styled(
        "  asked in the namespace of the selected row, as your uid unless --user says otherwise",
        theme.muted,
    ));
    out.push(Line::default());
    out.push(heading("Legend"));
    out.push(Line::from(vec![
        Span::styled("  A B C  ", theme.overlap_marker),
        Span::raw("binds of one port that overlap share a letter (see the Ports view)"),
    ]));
    out.push(Line::from(vec![
        Span::raw("  "),
        Span::styled("!", theme.critical),
        Span::raw(" critical  "),
        Span::styled("!", theme.warning),
        Span::raw(" warning  "),
        Span::styled("•", theme.notice),
        Span::raw(" notice  "),
        Span::styled("·", theme.info),
        Span::raw(" info: the worst finding of the row"),
    ]));
    out.push(Line::from(vec![
        Span::raw("  "),
        Span::styled("user", theme.cross_user),
        Span::raw(" cross-user: held by, or sharing its port with, another user"),
    ]));
    out.push(Line::from(vec![
        Span::raw("  queue: bar and len/backlog, then its history; "),
        Span::styled("growing", theme.warning),
        Span::raw(", "),
        Span::styled("full", theme.critical),
    ]));
    out.push(Line::raw(
        "  scope: any (wildcard), dual (IPv6 wildcard that takes IPv4 too), lo, link",
    ));
    out.push(Line::raw(
        "  options: ra reuseaddr, rp reuseport, v6 v6only, fb freebind, tp transparent,",
    ));
    out.push(Line::raw(
        "    blk blocking listener, dN defer accept N s, foN fastopen, @dev bound device",
    ));
    out.push(Line::from(vec![
        Span::raw("    "),
        Span::styled("name?", theme.badge_unknown),
        Span::raw(" unknown (not readable with these privileges)"),
    ]));
    out
}

/// The overlay's box inside the screen.
pub fn area(screen: Rect) -> Rect {
    let w = screen.width.saturating_sub(4).min(100);
    let h = screen.height.saturating_sub(2);
    Rect::new(
        screen.x + (screen.width - w) / 2,
        screen.y + (screen.height - h) / 2,
        w,
        h,
    )
}

/// Text rows inside the box.
pub fn text_rows(screen: Rect) -> usize {
    usize::from(area(screen).height.saturating_sub(2))
}

/// The largest useful scroll.
pub fn max_scroll(keymap: &Keymap, theme: &Theme, screen: Rect) -> usize {
    let inner = area(screen).width.saturating_sub(2);
    wrap(&lines(keymap, theme), inner)
        .len()
        .saturating_sub(text_rows(screen))
}

pub fn render(buf: &mut Buffer, screen: Rect, keymap: &Keymap, theme: &Theme, scroll: usize) {
    let a = area(screen);
    if a.width < 4 || a.height < 3 {
        return;
    }
    Clear.render(a, buf);
    let block = Block::default()
        .borders(Borders::ALL)
        .border_style(theme.border(true))
        .title(Span::styled(" help ", theme.title(true)))
        .title_bottom(Span::styled(" esc close · ↑/↓ scroll ", theme.muted));
    let inner = block.inner(a);
    block.render(a, buf);
    let all = wrap(&lines(keymap, theme), inner.width);
    let scroll = scroll.min(all.len().saturating_sub(usize::from(inner.height)));
    draw_lines(buf, inner, all.get(scroll..).unwrap_or_default());
}
