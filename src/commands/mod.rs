//! One module per subcommand: collect, judge, print. Each returns the exit status it wants
//! (0 ok, 1 "found something" where a command defines it, 2 error via `Err`).

pub mod can_bind;
pub mod dashboard;
pub mod diff;
pub mod findings;
pub mod open;
pub mod record;
pub mod snapshot;

use crate::cli::MinSeverity;
use crate::collect::linux::collector::NetnsSelect;
use crate::model::{Severity, Snapshot};
use std::io::{self, Write};

/// `--netns` values → the selection (none given: all).
pub fn netns_select(values: &[String]) -> NetnsSelect {
    if values.is_empty() {
        NetnsSelect::All
    } else {
        NetnsSelect::Only(values.to_vec())
    }
}

pub fn severity(m: MinSeverity) -> Severity {
    match m {
        MinSeverity::Info => Severity::Info,
        MinSeverity::Notice => Severity::Notice,
        MinSeverity::Warning => Severity::Warning,
        MinSeverity::Critical => Severity::Critical,
    }
}

/// Two lines on stderr when privileges hide something: what is missing, and how to get it.
pub fn explain_privileges(snap: &Snapshot) {
    for line in &snap.privileges.missing {
        eprintln!("bindscope: {line}");
    }
}

/// Writes to stdout through one buffer.
pub fn to_stdout(f: impl FnOnce(&mut dyn Write) -> io::Result<()>) -> io::Result<()> {
    let stdout = io::stdout();
    let mut w = io::BufWriter::with_capacity(1 << 16, stdout.lock());
    f(&mut w)?;
    w.flush()
}
