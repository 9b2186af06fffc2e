//! `R`: a recording made from the dashboard. Every new sample it takes in (a live refresh,
//! or each sample a stream delivers) goes to a JSON Lines file as `record` writes one, with
//! the view it was seen in and the marks and notes: so a colleague who opens (or follows)
//! the file sees what was looked at, sample by sample. `R` again stops. The file is opened
//! and written by the runtime ([`Effect::StartRecording`], [`Effect::RecordSample`]); a
//! paused view takes no samples, so it records none.

use super::export::FileKey;
use super::input::LineInput;
use super::{App, Effect, Mode, TextPrompt, Tone};
use crate::model::{Mark, Snapshot, TakenAt};
use ratatui::crossterm::event::KeyEvent;
use std::path::PathBuf;

/// The recording in progress.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Recording {
    pub path: PathBuf,
    pub samples: u64,
    /// The time of the last sample written: a message that brought none writes none.
    last: Option<TakenAt>,
}

impl App {
    /// `R`: the prompt for the file, or, while recording, the end of it.
    pub(super) fn record(&mut self) -> Vec<Effect> {
        if let Some(r) = self.recording.take() {
            self.say(
                format!(
                    "recording stopped: {} samples in {}",
                    r.samples,
                    r.path.display()
                ),
                Tone::Ok,
            );
            return vec![Effect::StopRecording];
        }
        if self
            .replay
            .as_ref()
            .is_some_and(|r| !r.timeline.is_following())
        {
            let key = self.key_for(crate::ui::keymap::Action::Export);
            self.say(
                format!("a recording takes samples as they come, and files bring none: {key} exports the one on screen"),
                Tone::Info,
            );
            return Vec::new();
        }
        let Some(snap) = self.snapshot.as_deref() else {
            self.say("nothing to record yet", Tone::Info);
            return Vec::new();
        };
        let path = super::export::export_path(&self.export_dir, snap).with_extension("jsonl");
        self.mode = Mode::Record(TextPrompt {
            input: LineInput::new(&path.display().to_string()),
            error: None,
        });
        Vec::new()
    }

    pub(super) fn record_key(&mut self, k: &KeyEvent) -> Vec<Effect> {
        let Mode::Record(p) = &mut self.mode else {
            return Vec::new();
        };
        match p.file_key(k) {
            FileKey::Cancel => self.mode = Mode::Normal,
            FileKey::Path(path) => {
                self.mode = Mode::Normal;
                return vec![Effect::StartRecording(path)];
            }
            FileKey::Handled | FileKey::Other => {}
        }
        Vec::new()
    }

    /// How [`Effect::StartRecording`] went: recording from the sample on screen, or why
    /// not (the prompt opens again with the reason).
    pub(super) fn recording_started(
        &mut self,
        path: PathBuf,
        result: Result<(), String>,
    ) -> Vec<Effect> {
        match result {
            Ok(()) => {
                let key = self.key_for(crate::ui::keymap::Action::Record);
                self.say(
                    format!("recording to {} · {key} stops", path.display()),
                    Tone::Ok,
                );
                self.recording = Some(Recording {
                    path,
                    samples: 0,
                    last: None,
                });
                self.record_on_screen()
            }
            Err(e) => {
                self.mode = Mode::Record(TextPrompt {
                    input: LineInput::new(&path.display().to_string()),
                    error: Some(e),
                });
                Vec::new()
            }
        }
    }

    /// The writing failed: the recording ends, and says why.
    pub(super) fn recording_failed(&mut self, e: String) {
        if let Some(r) = self.recording.take() {
            self.say(
                format!(
                    "recording to {} stopped after {} samples: {e}",
                    r.path.display(),
                    r.samples
                ),
                Tone::Error,
            );
        }
    }

    /// While recording, the snapshot on screen when it is a new one (a live refresh).
    pub(super) fn record_on_screen(&mut self) -> Vec<Effect> {
        let Some(snap) = self.snapshot.as_deref() else {
            return Vec::new();
        };
        let is_new = self
            .recording
            .as_ref()
            .is_some_and(|r| r.last.as_ref() != Some(&snap.taken_at));
        if !is_new {
            return Vec::new();
        }
        let mut copy = Box::new(snap.clone());
        copy.dashboard = Some(self.dashboard_state());
        self.recorded(copy)
    }

    /// While recording, the samples a stream just delivered, each as it came, with the
    /// view and the marks on its sockets.
    pub(super) fn record_streamed(&mut self, frames: Vec<Snapshot>) -> Vec<Effect> {
        if self.recording.is_none() {
            return Vec::new();
        }
        let view = self.dashboard_state();
        // With several hosts on screen the app's marks name sockets `host/id` (as the
        // merged view does); a frame is one host's and names them `id`.
        let merged = self.replay.as_ref().is_some_and(|r| r.timeline.hosts() > 1);
        let mut out = Vec::new();
        for mut f in frames {
            f.dashboard = Some(view.clone());
            let host = f.host.hostname.clone();
            f.marks = f
                .sockets
                .iter()
                .filter_map(|s| {
                    let key = if merged {
                        crate::export::merge::merged_id(&host, &s.id)
                    } else {
                        s.id.clone()
                    };
                    self.marks.get(&key).map(|note| Mark {
                        socket: s.id.clone(),
                        note: note.clone(),
                    })
                })
                .collect();
            out.extend(self.recorded(Box::new(f)));
        }
        out
    }

    fn recorded(&mut self, snap: Box<Snapshot>) -> Vec<Effect> {
        let Some(r) = self.recording.as_mut() else {
            return Vec::new();
        };
        r.samples += 1;
        r.last = Some(snap.taken_at.clone());
        vec![Effect::RecordSample(snap)]
    }

    /// The recording in progress, for the header.
    pub fn recording(&self) -> Option<&Recording> {
        self.recording.as_ref()
    }
}
