//! Files instead of a live host (`bindscope open`): the app shows one instant of a
//! [`Timeline`] at a time, and `[` `]` `{` `}` step through it. Each step installs that
//! instant's snapshot with the queue history replayed from the frames before it, so the
//! findings are those the live dashboard would have shown then. Marks made on any frame stay.

use super::{App, Tone};
use crate::export::feed::FeedEvent;
use crate::export::timeline::{Live, Timeline};
use crate::model::SocketId;
use crate::ui::views::timeline::TimelineInfo;

/// The files and where in them the app is.
pub struct Replay {
    pub timeline: Timeline,
    pub pos: usize,
}

impl App {
    /// Whether the app shows files rather than a live host.
    pub fn is_replay(&self) -> bool {
        self.replay.is_some()
    }

    /// Moves to instant `pos` (clamped) and shows it.
    pub(super) fn show_instant(&mut self, pos: usize) {
        let Some(r) = self.replay.as_mut() else {
            return;
        };
        let pos = pos.min(r.timeline.len().saturating_sub(1));
        r.pos = pos;
        let snap = Box::new(r.timeline.snapshot(pos));
        self.history = r.timeline.history(pos);
        let at = r.timeline.offset_ms(pos);
        // The views' data depends on the history, which was just replaced: judge afresh.
        self.basis.forget();
        self.apply(super::Incoming {
            sample: super::Sample::Whole(snap),
            at_ms: at,
            prepared: None,
        });
        self.diff_stale = true;
        self.take_handed_view();
    }

    /// What streams delivered, in order. New samples are shown at once when the screen
    /// was on the newest (following, as live), only the newest of them; a user who
    /// stepped back stays where they are, and the time line grows to the right (`}`
    /// follows again). A note goes to the status bar; the end of a stream also stays on
    /// the time line row.
    pub(super) fn on_feed(&mut self, events: Vec<FeedEvent>) {
        let Some(r) = self.replay.as_mut() else {
            return;
        };
        let (pos, len) = (r.pos, r.timeline.len());
        let following = pos + 1 >= len;
        let at = r.timeline.instant_ms(pos);
        let (mut frames, mut dropped) = (0, 0);
        let mut said: Option<(String, Tone)> = None;
        let mut notes = 0;
        for event in events {
            match event {
                FeedEvent::Frame {
                    source,
                    snap,
                    bytes,
                } => {
                    dropped += r.timeline.push(source, *snap, bytes);
                    frames += 1;
                }
                FeedEvent::Note { text, .. } => {
                    notes += 1;
                    said = Some((text, Tone::Info));
                }
                FeedEvent::Ended { source, reason } => {
                    let name = r
                        .timeline
                        .sources()
                        .get(source)
                        .map(|s| s.path.display().to_string())
                        .unwrap_or_default();
                    r.timeline.set_live(source, Live::Ended(reason.clone()));
                    said = Some((
                        format!("{name}: {reason}; its last sample stays on screen"),
                        Tone::Error,
                    ));
                }
            }
        }
        if let Some((text, tone)) = said {
            // The status bar holds one message: the last, and how many came before it.
            let more = match notes {
                0 | 1 => String::new(),
                n => format!(" (and {} more notes before it)", n - 1),
            };
            self.say(format!("{}{more}", crate::text::clean(&text)), tone);
        }
        let Some(r) = self.replay.as_mut() else {
            return;
        };
        if frames == 0 {
            return;
        }
        let newest = r.timeline.len().saturating_sub(1);
        if !following {
            if let Some(at) = at {
                let pos = r.timeline.instant_at_or_before(at);
                r.pos = pos;
                // The sample on screen may be one that was dropped: show what is there.
                if dropped > 0 {
                    self.show_instant(pos);
                }
            }
            return;
        }
        // The new newest instant comes right after the one on screen: the history in hand
        // holds every sample before it (older frames dropped from the time line leave it
        // alone: offsets keep their origin), so only the new one is recorded.
        if newest > 0 && r.timeline.instant_ms(newest - 1) == at {
            r.pos = newest;
            let snap = Box::new(r.timeline.snapshot(newest));
            let at_ms = r.timeline.offset_ms(newest);
            self.apply(super::Incoming {
                sample: super::Sample::Whole(snap),
                at_ms,
                prepared: None,
            });
            self.diff_stale = true;
            self.take_handed_view();
        } else {
            self.show_instant(newest);
        }
    }

    /// Marks source `source` as a stream (the tests' stand-in for `open -`).
    #[cfg(test)]
    pub fn set_live_for_test(&mut self, source: usize, live: Live) {
        if let Some(r) = self.replay.as_mut() {
            r.timeline.set_live(source, live);
        }
    }

    /// `[` `]` (by one) and `{` `}` (to an end): a message when there is nowhere to go.
    pub(super) fn step(&mut self, target: Step) {
        let Some(r) = self.replay.as_ref() else {
            self.say(
                "stepping is for recordings: this is a live view",
                Tone::Info,
            );
            return;
        };
        let (pos, len) = (r.pos, r.timeline.len());
        if len < 2 {
            self.say("one snapshot: nothing to step through", Tone::Info);
            return;
        }
        let next = match target {
            Step::Back => pos.checked_sub(1),
            Step::Forward => (pos + 1 < len).then_some(pos + 1),
            Step::First => (pos > 0).then_some(0),
            Step::Last => (pos + 1 < len).then_some(len - 1),
        };
        match next {
            Some(p) => self.show_instant(p),
            None if matches!(target, Step::Back | Step::First) => {
                self.say("at the first sample", Tone::Info);
            }
            None => self.say("at the last sample", Tone::Info),
        }
    }

    /// Where the time line is and how long it is: `(position, length)`.
    pub fn replay_position(&self) -> Option<(usize, usize)> {
        self.replay.as_ref().map(|r| (r.pos, r.timeline.len()))
    }

    /// Runs `f` with what the time line row shows; `None` for a live view.
    pub(super) fn with_timeline<T>(&self, f: impl FnOnce(&TimelineInfo<'_>) -> T) -> Option<T> {
        let r = self.replay.as_ref()?;
        let (series, label) = self.timeline_series()?;
        let info = TimelineInfo {
            sources: r.timeline.sources(),
            hosts: r.timeline.hosts(),
            pos: r.pos,
            len: r.timeline.len(),
            taken_at: self.snapshot.as_deref().map(|s| &s.taken_at),
            series: &series,
            series_label: &label,
        };
        Some(f(&info))
    }

    /// The accept-queue series the time line draws: of the selected listener when one is
    /// selected in the Sockets view, else the sum over all listeners; with its label.
    fn timeline_series(&self) -> Option<(Vec<u64>, String)> {
        let r = self.replay.as_ref()?;
        let selected: Option<SocketId> = self.selected_socket().filter(|id| {
            self.data
                .by_id
                .get(id)
                .and_then(|&i| self.snapshot.as_deref()?.sockets.get(i as usize))
                .is_some_and(|s| s.accept_queue.is_some())
        });
        match selected {
            Some(id) => Some((
                r.timeline.queue_series(Some(&id)),
                "queue of the selected listener".into(),
            )),
            None => Some((r.timeline.queue_series(None), "queue, all listeners".into())),
        }
    }
}

/// Where a step goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    Back,
    Forward,
    First,
    Last,
}
