//! Checks across a snapshot's parts and across frames: an error for what the program cannot
//! show truthfully (a repeated socket id), warnings counted once per file for what is only
//! odd (dangling references, an unreadable time, frames out of time order).

use super::FileKind;
use super::error::{LoadError, quoted, quoted_text, shorten};
use super::stream::frame_no;
use crate::model::{NetnsId, Snapshot, SocketId, TakenAt, Timestamp};
use std::collections::HashSet;
use std::path::Path;

/// Odd things counted over the whole file: one warning per kind, with the first example.
#[derive(Default)]
pub(super) struct Checks {
    socket_netns: Tally,
    holder_netns: Tally,
    marks: Tally,
    findings: Tally,
    bad_time: Tally,
    out_of_order: Tally,
    /// The previous frame's time, when it had one.
    last_time: Option<Timestamp>,
}

/// How often something happened, and where first: (frame index, description).
#[derive(Default)]
pub(super) struct Tally {
    count: usize,
    first: Option<(usize, String)>,
}

impl Tally {
    fn add(&mut self, index: usize, example: impl FnOnce() -> String) {
        self.count += 1;
        if self.first.is_none() {
            self.first = Some((index, example()));
        }
    }
}

impl Checks {
    /// Checks one snapshot: an error for what the program cannot show truthfully,
    /// tallies for the rest.
    pub(super) fn frame(
        &mut self,
        name: &Path,
        index: usize,
        snap: &Snapshot,
    ) -> Result<(), LoadError> {
        let mut ids: HashSet<&SocketId> = HashSet::with_capacity(snap.sockets.len());
        for s in &snap.sockets {
            if !ids.insert(&s.id) {
                return Err(LoadError::DuplicateSocketId {
                    path: name.to_path_buf(),
                    frame: frame_no(index),
                    id: s.id.clone(),
                });
            }
        }
        self.references(index, snap, &ids);
        self.time(index, &snap.taken_at);
        Ok(())
    }

    /// Namespaces and sockets named by parts of the snapshot that are not in it.
    fn references(&mut self, index: usize, snap: &Snapshot, ids: &HashSet<&SocketId>) {
        let listed: HashSet<NetnsId> = snap.netns.iter().map(|n| n.id).collect();
        for s in &snap.sockets {
            if !listed.contains(&s.netns) {
                self.socket_netns.add(index, || {
                    format!("socket {} names {}", quoted_text(&s.id.0), s.netns)
                });
            }
            for h in &s.holders {
                match h.netns {
                    Some(ns) if !listed.contains(&ns) => self.holder_netns.add(index, || {
                        format!("pid {} holding {} names {ns}", h.pid, quoted_text(&s.id.0))
                    }),
                    _ => {}
                }
            }
        }
        for m in &snap.marks {
            if !ids.contains(&m.socket) {
                self.marks.add(index, || quoted_text(&m.socket.0));
            }
        }
        for f in &snap.findings {
            if let Some(id) = f.sockets.iter().find(|id| !ids.contains(id)) {
                self.findings.add(index, || {
                    format!(
                        "{} names {}",
                        quoted_text(f.kind.name()),
                        quoted_text(&id.0)
                    )
                });
            }
        }
    }

    /// `taken_at` a time, and not earlier than the frame before. A frame that has no time
    /// (parsed as [`TakenAt::Unreadable`]) is counted here and left out of the time order.
    fn time(&mut self, index: usize, taken_at: &TakenAt) {
        let t = match taken_at {
            TakenAt::At(t) => *t,
            TakenAt::Unreadable(text) => {
                self.bad_time.add(index, || quoted_text(&shorten(text, 60)));
                return;
            }
        };
        // By the instant: `07:00:00Z` is not earlier than `07:00:00.000Z`.
        if let Some(prev) = self.last_time
            && t.since_epoch() < prev.since_epoch()
        {
            self.out_of_order.add(index, || {
                format!(
                    "taken at {}, after one taken at {}",
                    quoted_text(&t.to_string()),
                    quoted_text(&prev.to_string())
                )
            });
        }
        self.last_time = Some(t);
    }

    /// The warnings, one sentence per kind of oddity that happened.
    pub(super) fn warnings(&self, name: &Path, kind: FileKind) -> Vec<String> {
        let items: [(&Tally, &str, &str); 6] = [
            (
                &self.socket_netns,
                "socket",
                "name a network namespace that is not in the file's namespace list",
            ),
            (
                &self.holder_netns,
                "holder",
                "name a network namespace that is not in the file's namespace list",
            ),
            (
                &self.marks,
                "mark",
                "name a socket that is not in the snapshot: they are kept but show nowhere",
            ),
            (
                &self.findings,
                "finding",
                "name a socket that is not in the snapshot",
            ),
            (
                &self.bad_time,
                "snapshot",
                "have a taken_at that is not an RFC 3339 UTC time",
            ),
            (
                &self.out_of_order,
                "snapshot",
                "are earlier than the snapshot before them: the recording is not in time order",
            ),
        ];
        items
            .into_iter()
            .filter_map(|(tally, noun, what)| {
                let (index, example) = tally.first.as_ref()?;
                let place = match kind {
                    FileKind::Recording => format!(", in snapshot {}", index + 1),
                    FileKind::Snapshot => String::new(),
                };
                Some(format!(
                    "{}: {} {what} (first: {example}{place})",
                    quoted(name),
                    counted(tally.count, noun),
                ))
            })
            .collect()
    }
}

/// "1 socket", "3 sockets".
pub(super) fn counted(n: usize, noun: &str) -> String {
    if n == 1 {
        format!("1 {noun}")
    } else {
        format!("{n} {noun}s")
    }
}
