//! `bindscope diff A [B]`: what appeared, disappeared or changed between two snapshots.
//! Exit status as diff(1): 0 no differences, 1 differences, 2 error.

use super::{limits, load, text_to_stdout, to_stdout};
use crate::analyze::diff::diff;
use crate::cli::{DiffArgs, DiffFormat};
use crate::export::load::{FileKind, Loaded};
use crate::model::Snapshot;
use crate::output::diff::{render_text, write_json};
use crate::text::clean;

pub fn run(args: &DiffArgs) -> anyhow::Result<u8> {
    let limits = limits(args.max_size);
    let a = load(&args.before, &limits)?;
    let (before, after) = match &args.after {
        Some(path) => {
            let b = load(path, &limits)?;
            (last(a)?, last(b)?)
        }
        None => first_and_last(a)?,
    };
    let d = diff(&before, &after);
    match args.format() {
        DiffFormat::Text => {
            let text = render_text(&d);
            text_to_stdout(&text)?;
        }
        DiffFormat::Json => to_stdout(|w| write_json(w, &d))?,
    }
    Ok(u8::from(!d.is_empty()))
}

fn last(l: Loaded) -> anyhow::Result<Snapshot> {
    let name = l.path.display().to_string();
    l.frames
        .into_iter()
        .last()
        .ok_or_else(|| anyhow::anyhow!("'{}' holds no snapshot", clean(&name)))
}

/// One file alone: a recording's first and last snapshots.
fn first_and_last(l: Loaded) -> anyhow::Result<(Snapshot, Snapshot)> {
    let name = clean(&l.path.display().to_string()).into_owned();
    if !matches!(l.kind, FileKind::Recording) || l.frames.len() < 2 {
        anyhow::bail!(
            "'{name}' is a single snapshot: give two files (diff BEFORE AFTER), or one recording"
        );
    }
    let mut frames = l.frames.into_iter();
    match (frames.next(), frames.next_back()) {
        (Some(first), Some(last)) => Ok((first, last)),
        _ => anyhow::bail!("'{name}' holds fewer than two snapshots"),
    }
}
