//! `bindscope snapshot [QUERY]`: one snapshot, with its findings, to stdout or a file; with
//! a QUERY only the sockets it matches (still a snapshot file), exit status 1 when none.

use super::query::{matching, parse_arg, print_pids};
use super::{explain_privileges, text_to_stdout, to_stdout};
use crate::analyze::findings;
use crate::analyze::history::History;
use crate::cli::SnapshotArgs;
use crate::collect::linux::collector::Collector;
use crate::export::{self, redact::Redactor};
use crate::output::write::write_atomic;
use crate::query::narrow;
use crate::session::Session;
use std::io::{self, IsTerminal, Write};

pub fn run(args: &SnapshotArgs) -> anyhow::Result<u8> {
    // `-o -` is stdout, as in most tools.
    let file = args.output.as_deref().filter(|p| p.as_os_str() != "-");
    if file.is_none() && args.mode.is_some() {
        anyhow::bail!("--mode is for a file: give -o FILE");
    }
    // Before collecting: a typo is reported at once, not after a scan of the host.
    let filter = args.query.as_deref().map(parse_arg).transpose()?;
    let cfg = args.collect.config();
    // One snapshot has no history to speak of: queue growth cannot show, everything else can.
    let mut session = Session::new(Collector::new(cfg), History::default());
    let format = args.format();
    let whole_json_to_stdout = filter.is_none()
        && !args.pids
        && !args.redact
        && file.is_none()
        && match format {
            Some(f) => f == export::Format::Json,
            None => !io::stdout().is_terminal(),
        };
    if whole_json_to_stdout {
        return json_while_judging(session, args);
    }
    let mut snap = session.judged_sample()?.snap;
    explain_privileges(&snap, args.quiet);
    if let Some(f) = &filter {
        let keep = matching(&snap, f);
        // Like grep: nothing matched is a status, not an error, and nothing is written.
        if keep.is_empty() {
            return Ok(1);
        }
        narrow(&mut snap, &keep);
    }
    if args.pids {
        print_pids(&snap, args.quiet.quiet)?;
        return Ok(0);
    }
    if args.redact {
        Redactor::default().redact(&mut snap);
    }
    let format = match (format, file) {
        (Some(f), _) => f,
        // `-o x.prom` asks for Prometheus text, as the dashboard's export does.
        (None, Some(path)) => export::Format::from_path(path).unwrap_or(export::Format::Json),
        (None, None) if io::stdout().is_terminal() => export::Format::Table,
        (None, None) => export::Format::Json,
    };
    let render =
        |w: &mut dyn Write| -> io::Result<()> { export::write(w, &snap, format, args.pretty) };
    match file {
        Some(path) => write_atomic(path, args.mode.unwrap_or(format.file_mode()), render)?,
        None if format == export::Format::Table => {
            let mut table = Vec::new();
            render(&mut table)?;
            text_to_stdout(&String::from_utf8_lossy(&table))?
        }
        None => to_stdout(render)?,
    }
    Ok(0)
}

/// The whole snapshot as JSON on stdout, judged on a second thread while its sockets are
/// written (see `export::streamed`): the same bytes as judging first, in about the time of
/// the longer of the two instead of their sum.
fn json_while_judging(mut session: Session, args: &SnapshotArgs) -> anyhow::Result<u8> {
    let sample = session.sample_unrecorded()?;
    explain_privileges(&sample.snap, args.quiet);
    // Judged as the first sample of a session: with nothing before it to compare.
    let history = History::default();
    let snap = &sample.snap;
    let judge = || findings::analyze(snap, &history);
    std::thread::scope(|scope| {
        let judging = std::thread::Builder::new()
            .name("bindscope-judge".to_string())
            .spawn_scoped(scope, judge);
        let findings = move || match judging {
            Ok(judging) => judging
                .join()
                .unwrap_or_else(|p| std::panic::resume_unwind(p)),
            // No second thread (a process limit): judged here when the writer gets there.
            Err(_) => judge(),
        };
        to_stdout(|w| export::streamed::write_json_judging(w, &sample.snap, args.pretty, findings))
    })?;
    // Freeing 50,000 sockets one by one, and the session's caches of as many, costs tens
    // of milliseconds the process is about to spend exiting anyway: the memory goes back
    // with the process (nothing here holds anything that must be closed or flushed).
    std::mem::forget(sample);
    std::mem::forget(session);
    Ok(0)
}
