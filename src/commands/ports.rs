//! `bindscope ports`: one snapshot, its port groups and their routes (analyze::ports, the
//! same the Ports view and the overlap findings read), as a table or JSON.

use super::query::{matching, parse_arg};
use super::{explain_privileges, text_to_stdout, to_stdout};
use crate::analyze::history::History;
use crate::analyze::ports::port_groups;
use crate::cli::{PortsArgs, PortsFormat};
use crate::collect::linux::collector::Collector;
use crate::output::ports::{PortsReport, render_table};
use crate::session::Session;

pub fn run(args: &PortsArgs) -> anyhow::Result<u8> {
    let filter = args.query.as_deref().map(parse_arg).transpose()?;
    let mut session = Session::new(Collector::new(args.collect.config()), History::new(2));
    let snap = session.sample()?.snap;
    explain_privileges(&snap, args.quiet);
    let mut groups = port_groups(&snap.sockets);
    if let Some(f) = &filter {
        // A port is shown when one of its binds passes the filter: its routes need them all.
        let keep = matching(&snap, f);
        groups.retain(|g| g.members.iter().any(|id| keep.contains(id)));
        // Like grep: nothing matched is a status, not an error, and nothing is printed.
        if groups.is_empty() {
            return Ok(1);
        }
    }
    match args.format() {
        PortsFormat::Table => {
            let text = render_table(&snap, &groups);
            text_to_stdout(&text)?;
        }
        PortsFormat::Json => to_stdout(|w| {
            crate::output::json::to_writer(&mut *w, &PortsReport { ports: &groups })?;
            w.write_all(b"\n")
        })?,
    }
    Ok(0)
}
