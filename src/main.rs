//! The `bindscope` binary: parse the command line, run it, turn errors into messages and
//! exit codes (0 ok, 2 error). Everything else lives in the library.

use bindscope::cli::{Cli, Command, Format, SnapshotArgs};
use bindscope::collect::linux::collector::{self, CollectConfig, NetnsSelect};
use bindscope::model::{Snapshot, View};
use bindscope::output::{self, table, write::write_atomic};
use clap::Parser;
use std::io::{self, IsTerminal, Write};
use std::process::ExitCode;

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Snapshot(args) => snapshot(args),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        // A closed pipe (`bindscope snapshot | head`) is the reader's choice, not an error.
        Err(e) if is_broken_pipe(&e) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("bindscope: {e:#}");
            ExitCode::from(2)
        }
    }
}

fn is_broken_pipe(e: &anyhow::Error) -> bool {
    e.chain().any(|c| {
        c.downcast_ref::<io::Error>()
            .is_some_and(|io| io.kind() == io::ErrorKind::BrokenPipe)
            || c.downcast_ref::<serde_json::Error>()
                .and_then(|j| j.io_error_kind())
                .is_some_and(|k| k == io::ErrorKind::BrokenPipe)
    })
}

fn snapshot(args: SnapshotArgs) -> anyhow::Result<()> {
    let cfg = CollectConfig {
        view: if args.all { View::All } else { View::Listening },
        probe_options: !args.no_probe,
        netns: if args.netns.is_empty() {
            NetnsSelect::All
        } else {
            NetnsSelect::Only(args.netns.clone())
        },
        ..CollectConfig::default()
    };
    let snap = collector::collect(&cfg)?;
    explain_privileges(&snap);
    let format = args
        .format
        .unwrap_or(if args.output.is_none() && io::stdout().is_terminal() {
            Format::Table
        } else {
            Format::Json
        });
    let render = |w: &mut dyn Write| -> io::Result<()> {
        match format {
            Format::Json => output::write_json(w, &snap, args.pretty),
            Format::Table => w.write_all(table::render(&snap).as_bytes()),
        }
    };
    match &args.output {
        Some(path) => write_atomic(path, render)?,
        None => {
            let stdout = io::stdout();
            let mut w = io::BufWriter::with_capacity(1 << 16, stdout.lock());
            render(&mut w)?;
            w.flush()?;
        }
    }
    Ok(())
}

/// Two lines on stderr when privileges hide something: what is missing, and how to get it.
fn explain_privileges(snap: &Snapshot) {
    for line in &snap.privileges.missing {
        eprintln!("bindscope: {line}");
    }
}
