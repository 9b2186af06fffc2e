//! `bindscope record`: snapshots at an interval into a JSON Lines file, one snapshot a line,
//! each judged with the queue history so far (so growth findings are in the file).
//!
//! The file is valid after every sample: a line is written whole and synced before the next
//! sample starts, so Ctrl-C, SIGTERM or a full disk leave every complete sample readable
//! (`open` ignores a cut-off last line, with a warning). An existing file is never
//! overwritten without `--force`: a recording is evidence.
//!
//! `-o -` streams to stdout instead, one line flushed per sample, for `bindscope open -` at
//! the other end (`ssh -n HOST sudo -n bindscope record -o - | bindscope open -`). Over ssh this
//! command's stderr lands on the terminal the dashboard draws on, so once streaming it
//! says nothing there: no progress line, no summary; a skipped sample is simply not in
//! the stream. The reader going away (a closed pipe) ends the recording quietly, as it
//! ends `yes | head`.

use super::explain_privileges;
use crate::analyze::history::History;
use crate::cli::RecordArgs;
use crate::collect::linux::collector::{CollectConfig, Collector, ProbeWhen};
use crate::export::redact::Redactor;
use crate::output::size_text;
use crate::output::write::create_recording;
use crate::session::{Sample, Session};
use crate::signals::Ending;
use crate::text::clean;
use std::fs::File;
use std::io::{self, IsTerminal, Write};
use std::path::Path;
use std::time::{Duration, Instant};

/// How often the wait between samples looks for a signal.
const TICK: Duration = Duration::from_millis(50);

/// When to stop, besides a signal.
#[derive(Debug, Clone, Copy)]
pub struct Stop {
    pub duration: Option<Duration>,
    pub samples: Option<u64>,
}

impl Stop {
    /// Whether the recording is done after `samples` samples at `elapsed`.
    pub fn reached(&self, samples: u64, elapsed: Duration) -> bool {
        self.samples.is_some_and(|n| samples >= n) || self.duration.is_some_and(|d| elapsed >= d)
    }
}

pub fn run(args: &RecordArgs) -> anyhow::Result<u8> {
    let signalled = Ending::register()?;
    let to_stdout = args.output.as_os_str() == "-";
    let mut out = if to_stdout {
        if args.force {
            anyhow::bail!("--force replaces a file: '-o -' writes to stdout");
        }
        Output::Stdout(io::stdout())
    } else {
        Output::File(create_recording(&args.output, args.force)?)
    };
    let cfg = CollectConfig {
        // No socket younger than one interval is duplicated (see ProbeWhen), unless there is
        // no second sample to wait for.
        probe_when: if one_sample(args) {
            ProbeWhen::FirstSeen
        } else {
            ProbeWhen::SeenTwice
        },
        ..args.collect.config()
    };
    let stop = Stop {
        duration: args.duration,
        samples: args.samples,
    };
    let mut session = Session::new(Collector::new(cfg), History::default());
    let mut redactor = args.redact.then(Redactor::default);
    let mut progress = Progress::new(&args.output, to_stdout);
    let started = Instant::now();
    let mut failures = 0u64;
    let mut line = Vec::with_capacity(1 << 16);
    loop {
        let sample_started = Instant::now();
        match session.judged_sample() {
            Ok(Sample { mut snap, .. }) => {
                if progress.samples == 0 {
                    explain_privileges(&snap, args.quiet);
                }
                if let Some(r) = redactor.as_mut() {
                    r.redact(&mut snap);
                }
                line.clear();
                crate::output::json::to_writer(&mut line, &snap)?;
                line.push(b'\n');
                match out.append(&line) {
                    Ok(()) => {}
                    // The reader has gone (`open -` quit, ssh closed): nothing to say.
                    Err(e) if to_stdout && e.kind() == io::ErrorKind::BrokenPipe => return Ok(0),
                    Err(e) => {
                        return Err(anyhow::Error::new(e).context(format!(
                            "cannot write '{}' after {} samples (those are in the file)",
                            args.output.display(),
                            progress.samples
                        )));
                    }
                }
                progress.sample(line.len() as u64, started.elapsed());
            }
            // The first sample failing is an error; later ones are skipped and counted, so
            // a long recording survives a passing hiccup.
            Err(e) if progress.samples == 0 => return Err(e.into()),
            Err(e) => {
                failures += 1;
                progress.clear_line();
                if !to_stdout {
                    eprintln!("bindscope: sample skipped: {e}");
                }
            }
        }
        if stop.reached(progress.samples, started.elapsed()) {
            break;
        }
        let next = sample_started + args.interval;
        if !wait_until(next, &signalled, stop.duration.map(|d| started + d)) {
            break;
        }
    }
    progress.finish(started.elapsed(), failures);
    // Stopped by a signal: the file is complete, and the status says how it ended (130 for
    // Ctrl-C), as for any command a signal stops.
    Ok(signalled.exit_status().unwrap_or(0))
}

/// Whether the recording can hold only one sample: `--samples 1`, or a duration that ends
/// before the second sample would be taken.
fn one_sample(args: &RecordArgs) -> bool {
    args.samples == Some(1) || args.duration.is_some_and(|d| d <= args.interval)
}

/// Where the samples go.
enum Output {
    File(File),
    Stdout(io::Stdout),
}

impl Output {
    /// Appends one whole line: to a file synced, so it survives whatever stops the
    /// recording next; to stdout flushed, so the reader has it now.
    fn append(&mut self, line: &[u8]) -> io::Result<()> {
        match self {
            Output::File(file) => {
                file.write_all(line)?;
                file.sync_data()
            }
            Output::Stdout(stdout) => {
                let mut w = stdout.lock();
                w.write_all(line)?;
                w.flush()
            }
        }
    }
}

/// Sleeps until `next`, or `deadline` if sooner; false when a signal came or the deadline
/// passed (stop recording), true to take the next sample.
fn wait_until(next: Instant, signalled: &Ending, deadline: Option<Instant>) -> bool {
    loop {
        if signalled.received().is_some() {
            return false;
        }
        let now = Instant::now();
        if deadline.is_some_and(|d| now >= d) {
            return false;
        }
        if now >= next {
            return true;
        }
        std::thread::sleep(TICK.min(next - now));
    }
}

/// The progress line on stderr: rewritten in place on a terminal, every tenth sample
/// otherwise (a log should not get a line a second).
struct Progress {
    path: String,
    tty: bool,
    /// Nothing is said (streaming to stdout: stderr may be the reader's screen).
    silent: bool,
    samples: u64,
    bytes: u64,
}

impl Progress {
    fn new(path: &Path, silent: bool) -> Self {
        Progress {
            path: clean(&path.display().to_string()).into_owned(),
            tty: io::stderr().is_terminal(),
            silent,
            samples: 0,
            bytes: 0,
        }
    }

    fn text(&self, elapsed: Duration) -> String {
        format!(
            "recording to '{}': {} {} · {} · {} elapsed",
            self.path,
            self.samples,
            if self.samples == 1 {
                "sample"
            } else {
                "samples"
            },
            size_text(self.bytes),
            elapsed_text(elapsed)
        )
    }

    fn sample(&mut self, bytes: u64, elapsed: Duration) {
        self.samples += 1;
        self.bytes += bytes;
        if self.silent {
            return;
        }
        if self.tty {
            eprint!("\r\x1b[K{} (Ctrl-C stops)", self.text(elapsed));
        } else if self.samples % 10 == 1 {
            eprintln!("bindscope: {}", self.text(elapsed));
        }
    }

    fn clear_line(&self) {
        if self.tty && !self.silent {
            eprint!("\r\x1b[K");
        }
    }

    fn finish(&self, elapsed: Duration, failures: u64) {
        if self.silent {
            return;
        }
        self.clear_line();
        let skipped = if failures > 0 {
            format!(", {failures} skipped")
        } else {
            String::new()
        };
        eprintln!(
            "bindscope: recorded {} samples ({}{skipped}) to '{}' in {}",
            self.samples,
            size_text(self.bytes),
            self.path,
            elapsed_text(elapsed)
        );
    }
}

/// `0:00:12`, `1:02:03`.
pub fn elapsed_text(d: Duration) -> String {
    let s = d.as_secs();
    format!("{}:{:02}:{:02}", s / 3600, s / 60 % 60, s % 60)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stops() {
        let s = Stop {
            duration: Some(Duration::from_secs(10)),
            samples: None,
        };
        assert!(!s.reached(100, Duration::from_secs(9)));
        assert!(s.reached(1, Duration::from_secs(10)));
        let n = Stop {
            duration: None,
            samples: Some(3),
        };
        assert!(!n.reached(2, Duration::from_secs(1000)));
        assert!(n.reached(3, Duration::ZERO));
        let forever = Stop {
            duration: None,
            samples: None,
        };
        assert!(!forever.reached(u64::MAX, Duration::MAX));
    }

    #[test]
    fn texts() {
        assert_eq!(elapsed_text(Duration::from_secs(12)), "0:00:12");
        assert_eq!(elapsed_text(Duration::from_secs(3723)), "1:02:03");
    }

    #[test]
    fn never_overwrites_without_force() {
        let dir = tempfile::tempdir().expect("tempdir");
        let p = dir.path().join("rec.jsonl");
        std::fs::write(&p, "evidence\n").expect("write");
        let e = create_recording(&p, false).expect_err("must refuse");
        assert!(e.to_string().contains("--force"), "{e}");
        assert_eq!(std::fs::read_to_string(&p).expect("read"), "evidence\n");
        create_recording(&p, true).expect("force");
        assert_eq!(std::fs::read_to_string(&p).expect("read"), "");
    }
}
