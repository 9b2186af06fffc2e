//! `bindscope open FILE…`: the dashboard over snapshot and recording files, read-only.
//! Every file is loaded (strictly: a bad file is an error that names it and where) before
//! the terminal is touched. Streams (`-` for standard input, every file with `--follow`)
//! are read by threads of their own ([`crate::export::feed`]); the dashboard starts once
//! each has delivered its first sample, so a password prompt of the `ssh` feeding it has
//! the terminal until then, and follows them from there.

use super::dashboard::looks;
use super::{limits, load};
use crate::cli::OpenArgs;
use crate::export::feed::{self, Feed, FeedEvent, FeedSource};
use crate::export::load::{FileKind, Loaded};
use crate::export::timeline::{Live, Timeline};
use crate::model::Snapshot;
use crate::text::clean;
use crate::ui::app::AppInit;
use crate::ui::run;
use anyhow::bail;
use std::collections::BTreeMap;
use std::io::IsTerminal as _;
use std::path::PathBuf;
use std::sync::mpsc::{self, Receiver, RecvTimeoutError};
use std::time::{Duration, Instant};

/// How long the first sample of a stream may take before a line says what is awaited.
const SAY_WAITING_AFTER: Duration = Duration::from_secs(2);

/// One argument: a file read once, or a stream.
enum Source {
    File(PathBuf),
    Stream(FeedSource),
}

pub fn run(args: &OpenArgs) -> anyhow::Result<u8> {
    let looks = looks(args.config.as_deref(), args.no_color, args.ascii)?;
    let sources = sources(args)?;
    let reads_stdin = sources
        .iter()
        .any(|s| matches!(s, Source::Stream(FeedSource::Stdin)));
    let limits = limits(args.max_size);
    // What is wrong with a file is said first, whatever the terminal.
    let mut files = Vec::with_capacity(sources.len());
    for s in &sources {
        files.push(match s {
            Source::File(p) => Some(load(p, &limits)?),
            Source::Stream(_) => None,
        });
    }
    check_terminal(reads_stdin)?;
    let (tx, rx) = mpsc::channel();
    let mut streams = Vec::new();
    for (i, s) in sources.iter().enumerate() {
        if let Source::Stream(from) = s {
            feed::spawn(i, from.clone(), limits, tx.clone())?;
            streams.push((i, from.clone()));
        }
    }
    drop(tx);
    let (mut firsts, early) = first_samples(&streams, &rx)?;
    for (i, from) in &streams {
        if let Some(snap) = firsts.remove(i) {
            files[*i] = Some(Loaded {
                path: from.path(),
                kind: FileKind::Snapshot,
                frames: vec![*snap],
                warnings: Vec::new(),
            });
        }
    }
    let Some(mut timeline) = Timeline::new(files.into_iter().flatten().collect()) else {
        bail!("the files hold no snapshot");
    };
    for (i, _) in &streams {
        timeline.set_live(*i, Live::Following);
    }
    timeline.keep(args.keep.saturating_mul(1024 * 1024), limits.max_frames);
    let init = AppInit {
        keymap: looks.keymap,
        theme: looks.theme,
        notice: looks.warning,
        interval: Duration::from_secs(1),
        export_dir: std::env::current_dir().unwrap_or_else(|_| ".".into()),
        replay: Some(timeline),
    };
    let feed = (!streams.is_empty()).then_some(Feed { early, rx });
    run::run_files(init, looks.charset, feed)
}

/// The arguments as sources: `-` once at most, and with `--follow` every file a stream.
fn sources(args: &OpenArgs) -> anyhow::Result<Vec<Source>> {
    let mut out = Vec::new();
    for p in &args.files {
        out.push(if p.as_os_str() == "-" {
            if out
                .iter()
                .any(|s| matches!(s, Source::Stream(FeedSource::Stdin)))
            {
                bail!("'-' is given twice: standard input is one stream");
            }
            Source::Stream(FeedSource::Stdin)
        } else if args.follow {
            Source::Stream(FeedSource::Follow(p.clone()))
        } else {
            Source::File(p.clone())
        });
    }
    Ok(out)
}

/// The dashboard draws on standard output and reads keys from the terminal: standard
/// input, or `/dev/tty` when standard input is the stream.
fn check_terminal(reads_stdin: bool) -> anyhow::Result<()> {
    if !std::io::stdout().is_terminal() {
        bail!(
            "the dashboard needs a terminal; for pipes use 'bindscope diff' or 'bindscope snapshot'"
        );
    }
    if !reads_stdin {
        if !std::io::stdin().is_terminal() {
            bail!(
                "the dashboard needs a terminal; for pipes use 'bindscope diff' or 'bindscope snapshot'"
            );
        }
        return Ok(());
    }
    if std::io::stdin().is_terminal() {
        bail!(
            "'open -' reads a recording from standard input, which is this terminal: pipe one in, \
             as in 'ssh -n HOST sudo -n bindscope record -o - | bindscope open -'"
        );
    }
    if let Err(e) = std::fs::File::open("/dev/tty") {
        bail!("'open -' reads its keys from /dev/tty, which cannot be opened: {e}");
    }
    Ok(())
}

/// Each stream's first sample, by its source index.
type Firsts = BTreeMap<usize, Box<Snapshot>>;

/// The first sample of every stream (by its source index): what the dashboard starts
/// with. A stream's notes before then go to stderr (the terminal is not taken yet); one
/// that ends before its first sample is an error that says why. What comes after a first
/// sample is kept for the dashboard.
fn first_samples(
    streams: &[(usize, FeedSource)],
    rx: &Receiver<FeedEvent>,
) -> anyhow::Result<(Firsts, Vec<FeedEvent>)> {
    let mut firsts = BTreeMap::new();
    let mut early = Vec::new();
    let started = Instant::now();
    let mut said = false;
    while firsts.len() < streams.len() {
        match rx.recv_timeout(Duration::from_millis(200)) {
            Ok(event) if firsts.contains_key(&event.source()) => early.push(event),
            Ok(FeedEvent::Frame { source, snap, .. }) => {
                firsts.insert(source, snap);
            }
            Ok(FeedEvent::Note { text, .. }) => eprintln!("bindscope: {}", clean(&text)),
            Ok(FeedEvent::Ended { source, reason }) => {
                let name = streams
                    .iter()
                    .find(|(k, _)| *k == source)
                    .map_or_else(String::new, |(_, f)| f.name());
                bail!("{name} ended before its first sample: {}", clean(&reason));
            }
            Err(RecvTimeoutError::Timeout) => {
                if !said && started.elapsed() >= SAY_WAITING_AFTER {
                    said = true;
                    let waiting: Vec<String> = streams
                        .iter()
                        .filter(|(i, _)| !firsts.contains_key(i))
                        .map(|(_, f)| f.name())
                        .collect();
                    eprintln!(
                        "bindscope: waiting for the first sample from {} (Ctrl-C stops)",
                        waiting.join(", ")
                    );
                }
            }
            Err(RecvTimeoutError::Disconnected) => bail!("the streams' readers stopped"),
        }
    }
    Ok((firsts, early))
}
