//! One module per subcommand: collect, judge, print. Each returns the exit status it wants
//! (0 ok, 1 "found something" where a command defines it, 2 error via `Err`).

pub mod can_bind;
pub mod completions;
pub mod dashboard;
pub mod diff;
pub mod findings;
pub mod man;
pub mod open;
pub mod ports;
pub mod query;
pub mod record;
pub mod rules;
pub mod serve;
pub mod snapshot;
pub mod who;

use crate::cli::{MinSeverity, QuietArgs};
use crate::export::load::{Limits, LoadError, Loaded, load_bytes, load_path};
use crate::model::{Severity, Snapshot};
use crate::text::clean;
use crate::text::glyphs::Charset;
use std::io::{self, Write};

pub fn severity(m: MinSeverity) -> Severity {
    match m {
        MinSeverity::Info => Severity::Info,
        MinSeverity::Notice => Severity::Notice,
        MinSeverity::Warning => Severity::Warning,
        MinSeverity::Critical => Severity::Critical,
    }
}

/// Two lines on stderr when privileges hide something: what is missing, and how to get it;
/// none with `-q`.
pub fn explain_privileges(snap: &Snapshot, quiet: QuietArgs) {
    if quiet.quiet {
        return;
    }
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

/// Text for people (a table, findings, routes, a diff) to stdout, with the ASCII stand-ins
/// of its glyphs when the locale's charset is not UTF-8 (`LANG=C`; see
/// [`Charset::of_locale`]). JSON and CSV are not text for a terminal: they stay UTF-8, as
/// their specifications say.
pub fn text_to_stdout(text: &str) -> io::Result<()> {
    let env = |k: &str| std::env::var_os(k).map(|v| v.to_string_lossy().into_owned());
    let charset = Charset::of_locale(&env);
    to_stdout(|w| w.write_all(charset.text(text).as_bytes()))
}

/// `--max-size` in MiB as load limits.
pub fn limits(max_mib: u64) -> Limits {
    Limits {
        max_bytes: max_mib.saturating_mul(1024 * 1024),
        ..Limits::default()
    }
}

/// Loads a file, or standard input for `-`, printing its warnings (a cut-off last line, ...)
/// on stderr.
pub fn load(path: &std::path::Path, limits: &Limits) -> anyhow::Result<Loaded> {
    let loaded = if path.as_os_str() == "-" {
        let name = std::path::Path::new("standard input");
        load_bytes(name, &read_stdin(name, limits.max_bytes)?, limits)?
    } else {
        load_path(path, limits)?
    };
    for w in &loaded.warnings {
        eprintln!("bindscope: {}", clean(w));
    }
    Ok(loaded)
}

/// Standard input, whole, refused once it passes `max` bytes (it has no size to check
/// first), with the loader's own words for a stream over the limit.
fn read_stdin(name: &std::path::Path, max: u64) -> anyhow::Result<Vec<u8>> {
    use std::io::Read;
    let mut bytes = Vec::new();
    io::stdin()
        .lock()
        .take(max.saturating_add(1))
        .read_to_end(&mut bytes)
        .map_err(|e| anyhow::anyhow!("cannot read standard input: {e}"))?;
    if bytes.len() as u64 > max {
        return Err(LoadError::TooLarge {
            path: name.to_path_buf(),
            size: None,
            limit: max,
        }
        .into());
    }
    Ok(bytes)
}
