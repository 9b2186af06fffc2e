//! The what-if panel: the verdict of "could this bind succeed now", shown in place of the
//! detail pane, in the words of `output::whatif::render_text`.

use super::Ctx;
use super::cells::holder_short;
use super::lines::{local_text, socket_by_id};
use crate::analyze::whatif::{BindResult, Verdict};
use crate::output::whatif::render_text;
use crate::text::clean;
use ratatui::text::{Line, Span};

/// A what-if that was asked: the input, where and as whom, and the answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WhatIfPanel {
    pub input: String,
    pub netns: crate::model::NetnsId,
    pub uid: u32,
    pub verdict: Verdict,
}

/// The panel's title and lines.
pub fn lines(cx: Ctx<'_>, p: &WhatIfPanel) -> (String, Vec<Line<'static>>) {
    let theme = cx.theme;
    let title = format!(
        "what-if in {} as uid {}: {}",
        cx.data.ns_name(p.netns),
        p.uid,
        clean(&p.input)
    );
    let head = match p.verdict.result {
        BindResult::Ok => theme.ok,
        BindResult::Uncertain => theme.warning,
        _ => theme.error,
    };
    let text = render_text(&p.verdict);
    let mut out: Vec<Line<'static>> = Vec::new();
    for (k, l) in text.lines().enumerate() {
        let style = if k == 0 { head } else { theme.text };
        out.push(Line::styled(clean(l).into_owned(), style));
    }
    // The blocking sockets by address and holder, not only by id.
    for id in &p.verdict.blockers {
        let Some(s) = socket_by_id(cx, id) else {
            continue;
        };
        let holders: Vec<String> = s.holders.iter().map(holder_short).collect();
        out.push(Line::from(vec![
            Span::styled("  blocked by ", theme.muted),
            Span::raw(format!(
                "{} {} {} ({})",
                s.proto.name(),
                local_text(s),
                if holders.is_empty() {
                    "-".to_string()
                } else {
                    holders.join(", ")
                },
                clean(&id.0)
            )),
        ]));
    }
    (title, out)
}
