//! `bindscope snapshot`: one snapshot, with its findings, to stdout or a file.

use super::{explain_privileges, netns_select, to_stdout};
use crate::analyze::findings;
use crate::analyze::history::History;
use crate::cli::{Format, SnapshotArgs};
use crate::collect::linux::collector::{self, CollectConfig};
use crate::export::{self, redact::Redactor};
use crate::model::View;
use crate::output::write::write_atomic;
use std::io::{self, IsTerminal, Write};

pub fn run(args: &SnapshotArgs) -> anyhow::Result<u8> {
    let cfg = CollectConfig {
        view: if args.all { View::All } else { View::Listening },
        probe_options: !args.no_probe,
        netns: netns_select(&args.netns),
        ..CollectConfig::default()
    };
    let mut snap = collector::collect(&cfg)?;
    // One snapshot has no history: queue growth cannot show, everything else can.
    snap.findings = findings::analyze(&snap, &History::default());
    explain_privileges(&snap);
    if args.redact {
        Redactor::default().redact(&mut snap);
    }
    let format = args
        .format
        .unwrap_or(if args.output.is_none() && io::stdout().is_terminal() {
            Format::Table
        } else {
            Format::Json
        });
    let format = match format {
        Format::Json => export::Format::Json,
        Format::Table => export::Format::Table,
        Format::Csv => export::Format::Csv,
        Format::Markdown => export::Format::Markdown,
        Format::Prom => export::Format::Prom,
    };
    let render =
        |w: &mut dyn Write| -> io::Result<()> { export::write(w, &snap, format, args.pretty) };
    match &args.output {
        Some(path) => write_atomic(path, render)?,
        None => to_stdout(render)?,
    }
    Ok(0)
}
