//! `bindscope findings [QUERY]`: sample, judge, report; exit 1 when something is at or above
//! `--min-severity`. A QUERY keeps the findings that name a socket it matches; the exit
//! status keeps its meaning (1: something shown is that severe), so a query that matches
//! no socket shows nothing and exits 0.

use super::query::{matching, parse_arg};
use super::{explain_privileges, severity, text_to_stdout, to_stdout};
use crate::analyze::history::History;
use crate::analyze::ports;
use crate::cli::{FindingsArgs, FindingsFormat};
use crate::collect::linux::collector::Collector;
use crate::output::findings::{Report, counts, render_text};
use crate::session::Session;

pub fn run(args: &FindingsArgs) -> anyhow::Result<u8> {
    let filter = args.query.as_deref().map(parse_arg).transpose()?;
    let cfg = args.collect.config();
    let history = History::new(args.samples.max(2) as usize);
    let mut session = Session::new(Collector::new(cfg), history);
    let mut snap = session.sample()?.snap;
    for _ in 1..args.samples {
        std::thread::sleep(args.interval);
        snap = session.sample()?.snap;
    }
    let mut all = session.judge(&snap);
    explain_privileges(&snap, args.quiet);
    // Judged on every socket (an overlap needs both binds), then cut to the findings that
    // name a socket the query matches.
    if let Some(f) = &filter {
        let keep = matching(&snap, f);
        all.retain(|finding| finding.sockets.iter().any(|id| keep.contains(id)));
    }
    let min = severity(args.min_severity);
    let hit = all.iter().any(|f| f.severity >= min);
    match args.format() {
        FindingsFormat::Text => {
            let text = render_text(&snap, &all, min, args.samples);
            text_to_stdout(&text)?;
        }
        FindingsFormat::Json => {
            let report = Report {
                findings: all.iter().filter(|f| f.severity >= min).collect(),
                min_severity: min,
                counts: counts(&all),
                host: &snap.host,
                taken_at: &snap.taken_at,
                samples: args.samples,
                port_groups: ports::port_groups(&snap.sockets),
            };
            to_stdout(|w| {
                crate::output::json::to_writer(&mut *w, &report)?;
                w.write_all(b"\n")
            })?;
        }
    }
    Ok(u8::from(hit))
}
