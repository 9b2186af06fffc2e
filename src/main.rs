//! The `bindscope` binary: parse the command line, run the command, turn errors into a
//! message and exit status 2. Everything else lives in the library.

use bindscope::cli::{Cli, Command};
use bindscope::commands;
use clap::Parser;
use std::io;
use std::process::ExitCode;

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match &cli.command {
        None => commands::dashboard::run(&cli.dashboard),
        Some(Command::Snapshot(args)) => commands::snapshot::run(args),
        Some(Command::Findings(args)) => commands::findings::run(args),
        Some(Command::CanBind(args)) => commands::can_bind::run(args),
        Some(Command::Record(args)) => commands::record::run(args),
        Some(Command::Open(args)) => commands::open::run(args),
        Some(Command::Diff(args)) => commands::diff::run(args),
    };
    match result {
        Ok(code) => ExitCode::from(code),
        // A closed pipe (`bindscope snapshot | head`) is the reader's choice, not an error.
        Err(e) if is_broken_pipe(&e) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("bindscope: {}", message(&e));
            ExitCode::from(2)
        }
    }
}

/// The error and its causes, `: `-joined, leaving out a cause whose text the message
/// already carries (errors that name their source in their own text).
fn message(e: &anyhow::Error) -> String {
    let mut out = String::new();
    for cause in e.chain() {
        let text = cause.to_string();
        if out.contains(&text) {
            continue;
        }
        if !out.is_empty() {
            out.push_str(": ");
        }
        out.push_str(&text);
    }
    out
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
