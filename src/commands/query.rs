//! A QUERY on the command line (`snapshot`, `findings`, `ports`): parsed with the
//! dashboard's parser, and when it does not parse, an error that shows the query with a
//! caret under the column the parser names.

use crate::model::{Snapshot, SocketId};
use crate::query::{Filter, FilterContext, FilterError, parse};
use crate::text::clean;
use std::collections::{BTreeSet, HashSet};
use std::fmt;

/// A query that did not parse, with the query itself for the caret line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueryError {
    pub query: String,
    pub error: FilterError,
}

impl std::error::Error for QueryError {}

impl fmt::Display for QueryError {
    /// `bad query: column 9: ...`, then the query and a caret under that column, both
    /// indented by two spaces. The query is shown cleaned (an escape becomes `\x1b`), so the
    /// caret is placed by the cleaned width of what comes before the column.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let before: String = self
            .query
            .chars()
            .take(self.error.column.saturating_sub(1))
            .collect();
        let pad = ratatui::text::Line::raw(clean(&before).into_owned()).width();
        write!(
            f,
            "bad query: {}\n  {}\n  {}^",
            self.error,
            clean(&self.query),
            " ".repeat(pad)
        )
    }
}

/// The query's filter, or the error with its caret.
pub fn parse_arg(query: &str) -> Result<Filter, QueryError> {
    parse(query).map_err(|error| QueryError {
        query: query.to_string(),
        error,
    })
}

/// The ids of the sockets that pass `filter`.
pub fn matching(snap: &Snapshot, filter: &Filter) -> HashSet<SocketId> {
    let cx = FilterContext::new(snap);
    snap.sockets
        .iter()
        .filter(|s| filter.matches(s, &cx))
        .map(|s| s.id.clone())
        .collect()
}

/// `-t`: the pids holding the snapshot's sockets, one a line, sorted, each once. A note on
/// stderr (unless quiet) when some holders could not be read: their pids are missing, and
/// an empty list would otherwise read as "nobody".
pub fn print_pids(snap: &Snapshot, quiet: bool) -> std::io::Result<()> {
    let pids: BTreeSet<u32> = snap
        .sockets
        .iter()
        .flat_map(|s| s.holders.iter().map(|h| h.pid))
        .collect();
    let unknown = snap
        .sockets
        .iter()
        .filter(|s| s.holders_unknown.is_some())
        .count();
    if unknown > 0 && !quiet {
        eprintln!(
            "bindscope: {} may have holders that could not be read: their pids are not listed",
            crate::text::count(unknown, "socket", "sockets")
        );
    }
    super::to_stdout(|w| {
        for p in &pids {
            writeln!(w, "{p}")?;
        }
        Ok(())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shown(query: &str) -> String {
        parse_arg(query).expect_err(query).to_string()
    }

    #[test]
    fn the_caret_is_under_the_column() {
        assert_eq!(
            shown("port:80 colour:red"),
            format!(
                "bad query: column 9: unknown filter key 'colour': valid keys are {} (quote \
                 text that contains ':')\n  port:80 colour:red\n          ^",
                crate::query::valid_keys()
            )
        );
        let msg = shown("port:99999");
        assert!(msg.ends_with("\n  port:99999\n       ^"), "{msg}");
    }

    #[test]
    fn the_caret_counts_what_the_terminal_shows() {
        // An escape is shown as `\x1b` (4 columns), a CJK character takes 2: the value
        // `x` starts at column 9 of the input and at 14 on the screen.
        let msg = shown("\u{1b}x 漢 port:x");
        let lines: Vec<&str> = msg.lines().collect();
        assert_eq!(lines[1], "  \\x1bx 漢 port:x");
        assert_eq!(lines[2], format!("  {}^", " ".repeat(14)));
    }

    #[test]
    fn a_quote_left_open_points_past_the_end() {
        let msg = shown("user:\"odd");
        assert!(msg.contains("quote is not closed"), "{msg}");
        assert!(msg.lines().last().is_some_and(|l| l.trim_start() == "^"));
    }
}
