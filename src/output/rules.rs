//! The words of `bindscope rules`: the tables as text for a terminal, as Markdown for docs,
//! and as JSON. One table per protocol and per owner of the second socket, like tables 2
//! and 3 of the Windows article (seed 004): rows the first socket, columns the second.

use crate::analyze::rules::{
    Agreement, Cell, CellAnswer, Dest, FIRST_UID, First, Held, OTHER, OTHER_UID, Place, Receivers,
    SPECIFIC, Second, Sharing, Table, Which, Who, columns, rows,
};
use crate::analyze::whatif::{BindResult, Phase};
use serde::Serialize;

/// The text layouts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Layout {
    Text,
    Markdown,
}

fn sharing(s: Sharing) -> &'static str {
    match s {
        Sharing::Default => "default",
        Sharing::Reuseaddr => "SO_REUSEADDR",
        Sharing::Reuseport => "SO_REUSEPORT",
    }
}

fn place(p: Place) -> &'static str {
    match p {
        Place::Wildcard => "wildcard",
        Place::Specific => "specific",
    }
}

fn row_label(f: &First) -> String {
    let mut s = format!("{} {}", sharing(f.sharing), place(f.place));
    match f.held {
        Some(Held::Listening) => s.push_str(" listening"),
        Some(Held::Bound) => s.push_str(" bound"),
        None => {}
    }
    s
}

fn column_label(c: &Second) -> String {
    format!("{} {}", sharing(c.sharing), place(c.place))
}

fn which(w: Which) -> &'static str {
    match w {
        Which::First => "1st",
        Which::Second => "2nd",
    }
}

fn receivers(r: &Receivers) -> String {
    match r {
        Receivers::Nobody => "none".into(),
        Receivers::One(w) => which(*w).into(),
        Receivers::Split => "1st+2nd".into(),
        Receivers::OneOf(ws) => {
            let names: Vec<&str> = ws.iter().map(|w| which(*w)).collect();
            format!("{}?", names.join("|"))
        }
        Receivers::Depends(cases) => {
            let each: Vec<String> = cases
                .iter()
                .map(|c| receivers(c).trim_end_matches('?').to_string())
                .collect();
            format!("{}?", each.join("|"))
        }
    }
}

fn result(a: &CellAnswer) -> String {
    match (a.result, a.at) {
        (BindResult::Ok, _) => "ok".into(),
        (BindResult::Eaddrinuse, Phase::Bind) => "INUSE bind".into(),
        (BindResult::Eaddrinuse, Phase::Listen) => "INUSE listen".into(),
        (BindResult::Uncertain, _) => {
            let names: Vec<&str> = a
                .possible
                .iter()
                .map(|r| match r {
                    BindResult::Eaddrinuse => "INUSE",
                    r => r.name(),
                })
                .collect();
            format!("{}?", names.join("|"))
        }
        (r, at) => format!("{} {}", r.name(), at.call()),
    }
}

/// `ok → 2nd`, or `ok → S:2nd O:1st` when the two destinations differ.
pub fn answer(a: &CellAnswer) -> String {
    let s = a.receivers.get(&Dest::Specific);
    let o = a.receivers.get(&Dest::Other);
    let to = match (s, o) {
        (Some(s), Some(o)) if s == o => receivers(s),
        (s, o) => format!(
            "S:{} O:{}",
            s.map(receivers).unwrap_or_default(),
            o.map(receivers).unwrap_or_default()
        ),
    };
    format!("{} → {to}", result(a))
}

fn cell_text(c: &Cell) -> String {
    let mut s = answer(&c.predicted);
    match (&c.measured, c.agreement) {
        (Some(m), Some(Agreement::Differs)) => s.push_str(&format!(" ≠ kernel: {}", answer(m))),
        (Some(m), Some(Agreement::WithinUncertain)) => {
            s.push_str(&format!(" (kernel: {})", answer(m)))
        }
        _ => {}
    }
    s
}

fn who_words(w: Who) -> &'static str {
    match w {
        Who::SameUser => "the same user",
        Who::OtherUser => "another user",
    }
}

/// The tables of one protocol, with a title and the legend.
pub fn render(table: &Table, layout: Layout) -> String {
    let proto = table.proto;
    let mut out = String::new();
    for who in Who::ALL {
        let cols: Vec<Second> = columns().into_iter().filter(|c| c.who == who).collect();
        let title = format!(
            "{}: first socket (rows, uid {FIRST_UID}) × second socket of {} (columns, uid {}){}",
            proto.name().to_uppercase(),
            who_words(who),
            who.uid(),
            match proto {
                crate::model::Proto::Tcp => ", which calls bind() then listen()",
                crate::model::Proto::Udp => "",
            }
        );
        let mut grid: Vec<Vec<String>> = Vec::new();
        let mut header = vec!["first \\ second".to_string()];
        header.extend(cols.iter().map(column_label));
        grid.push(header);
        for first in rows(proto) {
            let mut line = vec![row_label(&first)];
            for col in &cols {
                let text = table
                    .cells
                    .iter()
                    .find(|c| c.first == first && c.second == *col)
                    .map(cell_text)
                    .unwrap_or_default();
                line.push(text);
            }
            grid.push(line);
        }
        match layout {
            Layout::Text => {
                out.push_str(&title);
                out.push('\n');
                out.push_str(&text_grid(&grid));
            }
            Layout::Markdown => {
                out.push_str(&format!("### {title}\n\n"));
                out.push_str(&markdown_grid(&grid));
            }
        }
        out.push('\n');
    }
    out.push_str(&legend(table, layout));
    out
}

fn text_grid(grid: &[Vec<String>]) -> String {
    let ncols = grid.first().map(Vec::len).unwrap_or(0);
    let widths: Vec<usize> = (0..ncols)
        .map(|i| {
            grid.iter()
                .map(|r| r.get(i).map(|c| c.chars().count()).unwrap_or(0))
                .max()
                .unwrap_or(0)
        })
        .collect();
    let mut out = String::new();
    for row in grid {
        let cells: Vec<String> = row
            .iter()
            .zip(&widths)
            .map(|(c, w)| format!("{c}{}", " ".repeat(w.saturating_sub(c.chars().count()))))
            .collect();
        out.push_str(cells.join("  ").trim_end());
        out.push('\n');
    }
    out
}

fn markdown_grid(grid: &[Vec<String>]) -> String {
    let mut out = String::new();
    for (i, row) in grid.iter().enumerate() {
        let cells: Vec<String> = row.iter().map(|c| c.replace('|', "\\|")).collect();
        out.push_str(&format!("| {} |\n", cells.join(" | ")));
        if i == 0 {
            out.push_str(&format!("|{}\n", "---|".repeat(row.len())));
        }
    }
    out
}

fn legend(table: &Table, layout: Layout) -> String {
    let bullet = match layout {
        Layout::Text => "  ",
        Layout::Markdown => "- ",
    };
    let mut lines = vec![
        format!(
            "wildcard = 0.0.0.0, specific = {SPECIFIC}; S: traffic to {SPECIFIC}, O: to any other \
             local address (measured: {OTHER}); no S:/O: when both go to the same socket"
        ),
        "ok / INUSE bind / INUSE listen: what the second socket's bind() and listen() return \
         (EADDRINUSE); INUSE|ok?: the what-if cannot decide from a snapshot (a port's \
         SO_REUSEPORT fast path depends on earlier binds no snapshot shows), with the receivers \
         of each result"
            .to_string(),
        "→ 1st, 2nd: that socket receives all of it; 1st+2nd: a SO_REUSEPORT group, each \
         connection or datagram to one member by a hash of addresses and ports; 1st|2nd?: one \
         of them, the routes cannot say which; none: refused (TCP) or dropped (UDP)"
            .to_string(),
        format!(
            "computed by the can-bind what-if and the port routes for this namespace's sysctls; \
             users are uids {FIRST_UID} and {OTHER_UID}"
        ),
    ];
    if table.cells.iter().any(|c| c.measured.is_some()) {
        lines.push(format!(
            "verified in a throwaway network namespace with real sockets and traffic: {} cells \
             agree, {} uncertain with the kernel's answer among those named, {} differ \
             (≠ kernel: what the kernel did)",
            table.count(Agreement::Agrees),
            table.count(Agreement::WithinUncertain),
            table.differing()
        ));
    }
    let mut out = String::new();
    for l in lines {
        out.push_str(bullet);
        out.push_str(&l);
        out.push('\n');
    }
    out
}

/// The JSON document: the tables with their setting.
#[derive(Debug, Serialize)]
pub struct Document<'a> {
    pub specific: std::net::Ipv4Addr,
    pub other: std::net::Ipv4Addr,
    pub first_uid: u32,
    pub other_uid: u32,
    pub verified: bool,
    pub tables: &'a [Table],
}

pub fn document(tables: &[Table]) -> Document<'_> {
    Document {
        specific: SPECIFIC,
        other: OTHER,
        first_uid: FIRST_UID,
        other_uid: OTHER_UID,
        verified: tables
            .iter()
            .any(|t| t.cells.iter().any(|c| c.measured.is_some())),
        tables,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analyze::rules::Receivers;
    use std::collections::BTreeMap;

    fn ans(result: BindResult, at: Phase, s: Receivers, o: Receivers) -> CellAnswer {
        CellAnswer {
            result,
            possible: Vec::new(),
            at,
            receivers: BTreeMap::from([(Dest::Specific, s), (Dest::Other, o)]),
        }
    }

    #[test]
    fn cell_words() {
        use Receivers::*;
        let a = ans(
            BindResult::Ok,
            Phase::Listen,
            One(Which::Second),
            One(Which::First),
        );
        assert_eq!(answer(&a), "ok → S:2nd O:1st");
        let a = ans(BindResult::Eaddrinuse, Phase::Bind, Nobody, Nobody);
        assert_eq!(answer(&a), "INUSE bind → none");
        let a = ans(
            BindResult::Ok,
            Phase::Bind,
            OneOf(vec![Which::First, Which::Second]),
            Split,
        );
        assert_eq!(answer(&a), "ok → S:1st|2nd? O:1st+2nd");
        assert_eq!(
            markdown_grid(&[vec!["a".into()], vec!["1st|2nd?".into()]]),
            "| a |\n|---|\n| 1st\\|2nd? |\n"
        );
    }

    /// A measured cell that differs is marked with what the kernel did, counted in the
    /// legend, and makes the table's `differing()` (the exit status) non-zero.
    #[test]
    fn a_difference_is_marked() {
        use crate::analyze::rules::{Cell, FIRST_PORT, Second, columns, rows};
        use crate::model::Proto;
        use Receivers::*;
        let first = rows(Proto::Udp)[0];
        let second: Second = columns()[0];
        let predicted = ans(
            BindResult::Eaddrinuse,
            Phase::Bind,
            One(Which::First),
            One(Which::First),
        );
        let mut table = Table {
            proto: Proto::Udp,
            cells: vec![Cell {
                first,
                second,
                port: FIRST_PORT,
                predicted,
                measured: None,
                agreement: None,
            }],
        };
        assert_eq!(table.differing(), 0);
        let text = render(&table, Layout::Text);
        assert!(!text.contains("verified"), "{text}");
        table.record(
            FIRST_PORT,
            ans(
                BindResult::Ok,
                Phase::Bind,
                One(Which::Second),
                One(Which::Second),
            ),
        );
        assert_eq!(table.differing(), 1);
        let text = render(&table, Layout::Markdown);
        assert!(
            text.contains("| INUSE bind → 1st ≠ kernel: ok → 2nd |"),
            "{text}"
        );
        assert!(
            text.contains(
                "0 cells agree, 0 uncertain with the kernel's answer among those named, 1 differ"
            ),
            "{text}"
        );
    }
}
