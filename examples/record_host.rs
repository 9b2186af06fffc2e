//! Records this host as a test fixture: one collection through a recorder, saved with the
//! snapshot it made (layout in `bindscope::collect::linux::recording`). A developer tool,
//! not part of bindscope: `scripts/record-host` runs it in a small private host of its own.
//!
//! Usage: `record_host DIR [--all] [--no-probe]` (DIR must not exist). Needs root to see
//! every holder and read every option, as `bindscope snapshot` does.

use bindscope::analyze::history::History;
use bindscope::collect::linux::collector::{CollectConfig, Collector};
use bindscope::collect::linux::recorder::Recorder;
use bindscope::collect::linux::sources::LinuxSources;
use bindscope::model::View;
use bindscope::session::Session;
use std::path::PathBuf;

fn main() -> anyhow::Result<()> {
    let mut dir: Option<PathBuf> = None;
    let mut cfg = CollectConfig::default();
    for arg in std::env::args_os().skip(1) {
        match arg.to_str() {
            Some("--all") => cfg.view = View::All,
            Some("--no-probe") => cfg.probe_options = false,
            Some(flag) if flag.starts_with('-') => anyhow::bail!("unknown flag '{flag}'"),
            _ if dir.is_none() => dir = Some(PathBuf::from(arg)),
            _ => anyhow::bail!("usage: record_host DIR [--all] [--no-probe]"),
        }
    }
    let Some(dir) = dir else {
        anyhow::bail!("usage: record_host DIR [--all] [--no-probe]");
    };
    let (recorder, handle) = Recorder::new(LinuxSources::default(), cfg.view, cfg.probe_options);
    // The same sequence a replay runs (tests/recorded_host.rs), so every clock reading the
    // replay asks for was recorded.
    let mut session = Session::new(
        Collector::with_sources(cfg, Box::new(recorder)),
        History::default(),
    );
    // Collected, not judged: the recording stays valid when the analysis changes.
    let sample = session.sample()?;
    handle.save(&dir, &sample.snap)?;
    eprintln!(
        "recorded {} sockets in {} namespaces into '{}'",
        sample.snap.sockets.len(),
        sample.snap.netns.len(),
        dir.display()
    );
    Ok(())
}
