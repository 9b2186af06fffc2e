//! `bindscope rules [tcp|udp] [--verify]`: the first caller × second caller tables for this
//! kernel (analyze::rules), printed as text, Markdown or JSON; with `--verify`, every cell
//! also done for real in a throwaway network namespace, and the differences marked.

mod measure;
mod scratch;

use super::{text_to_stdout, to_stdout};
use crate::analyze::rules::Table;
use crate::cli::{BindProto, RulesArgs, RulesFormat};
use crate::collect::linux::collector::{self, CollectConfig, NetnsSelect};
use crate::model::{NetnsId, Proto, Snapshot, View};
use crate::output::rules::{Layout, document, render};
use crate::signals::Ending;
use anyhow::{Context as _, bail};

pub fn run(args: &RulesArgs) -> anyhow::Result<u8> {
    let protos: Vec<Proto> = match args.proto {
        Some(BindProto::Tcp) => vec![Proto::Tcp],
        Some(BindProto::Udp) => vec![Proto::Udp],
        None => vec![Proto::Tcp, Proto::Udp],
    };
    let (tables, ended) = if args.verify {
        verify(&protos)?
    } else {
        let (snap, netns) = namespace("current")?;
        let tables = protos
            .iter()
            .map(|&p| Table::predict(&snap, netns, p))
            .collect();
        (tables, None)
    };
    if let Some(status) = ended {
        eprintln!("bindscope: interrupted; the throwaway namespace was deleted");
        return Ok(status);
    }
    let format = args.format();
    match format {
        RulesFormat::Text | RulesFormat::Markdown => {
            let layout = if format == RulesFormat::Text {
                Layout::Text
            } else {
                Layout::Markdown
            };
            let text: Vec<String> = tables.iter().map(|t| render(t, layout)).collect();
            text_to_stdout(&text.join("\n"))?;
        }
        RulesFormat::Json => to_stdout(|w| {
            crate::output::json::to_writer(&mut *w, &document(&tables))?;
            w.write_all(b"\n")
        })?,
    }
    let differing: usize = tables.iter().map(Table::differing).sum();
    Ok(u8::from(differing > 0))
}

/// A snapshot of one namespace (its interfaces and sysctls are what the what-if reads) and
/// its id.
fn namespace(name: &str) -> anyhow::Result<(Snapshot, NetnsId)> {
    let cfg = CollectConfig {
        view: View::All,
        netns: NetnsSelect::Only(vec![name.to_string()]),
        ..CollectConfig::default()
    };
    let snap = collector::collect(&cfg)?;
    let ns = match snap.netns.as_slice() {
        [one] => one,
        other => bail!(
            "expected one network namespace named '{name}', found {}",
            other.len()
        ),
    };
    if let Some(e) = &ns.error {
        bail!("cannot read network namespace {}: {e}", ns.id);
    }
    let id = ns.id;
    Ok((snap, id))
}

/// Predicts for a fresh namespace and measures there. Returns the exit status instead of
/// tables when an ending signal came (the namespace is deleted first either way).
fn verify(protos: &[Proto]) -> anyhow::Result<(Vec<Table>, Option<u8>)> {
    let euid = rustix::process::geteuid().as_raw();
    if euid != 0 {
        bail!(
            "--verify needs root (euid is {euid}): it creates a network namespace and sockets \
             of two uids; run it with sudo, or leave out --verify for the prediction alone"
        );
    }
    // From here a Ctrl-C only sets the flag: the loop stops between cells and the
    // namespace is deleted on the way out.
    let ending = Ending::register().context("cannot install the signal handlers")?;
    let ns = scratch::Scratch::create()?;
    // Said before anything can fail, so a leftover (after SIGKILL) can be found by name.
    eprintln!(
        "bindscope: measuring in the throwaway network namespace '{}'",
        ns.name()
    );
    let (snap, netns) = namespace(ns.name())?;
    let mut tables: Vec<Table> = protos
        .iter()
        .map(|&p| Table::predict(&snap, netns, p))
        .collect();
    let measured = crate::collect::linux::netns::run_in(ns.path(), || {
        let mut out = Vec::new();
        for t in &tables {
            for c in &t.cells {
                if ending.received().is_some() {
                    return Ok(out);
                }
                let m = measure::cell(t.proto, c.first, c.second, c.port)
                    .with_context(|| format!("measuring {} port {}", t.proto.name(), c.port))?;
                out.push((t.proto, c.port, m));
            }
        }
        Ok::<_, anyhow::Error>(out)
    })
    .context("cannot enter the throwaway namespace")??;
    drop(ns);
    if let Some(status) = ending.exit_status() {
        return Ok((tables, Some(status)));
    }
    for (proto, port, m) in measured {
        if let Some(t) = tables.iter_mut().find(|t| t.proto == proto) {
            t.record(port, m);
        }
    }
    Ok((tables, None))
}
