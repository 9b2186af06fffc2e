//! The frames of opened files on one time line, for `bindscope open`: snapshot files and
//! recordings, of one host or several.
//!
//! Files of the same host are one track (two snapshots of `web1` taken an hour apart are a
//! before and an after); each track's frames are ordered by `taken_at`. The time line is every
//! instant at which any track has a frame; at an instant each host shows its newest frame
//! taken by then (or its first, before it has one), merged into one snapshot
//! ([`super::merge`]). The queue history at an instant is replayed from the recorded frames,
//! so growth findings of a recording are judged as they were live.

use super::load::{FileKind, Loaded};
use super::merge::merge;
use crate::analyze::history::History;
use crate::model::{Snapshot, SocketId};
use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;

/// How many instants of history are replayed: what the live dashboard keeps.
const HISTORY: usize = 60;

/// An opened file, for the banner.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourceInfo {
    pub path: PathBuf,
    pub kind: FileKind,
    pub frames: usize,
    pub host: String,
}

/// One host's frames, oldest first, with their times.
#[derive(Debug, Clone)]
struct Track {
    host: String,
    frames: Vec<(i64, Arc<Snapshot>)>,
    /// Per listener (by its id in this track): (frame index, accept queue length).
    queues: HashMap<SocketId, Vec<(u32, u32)>>,
}

#[derive(Debug, Clone)]
pub struct Timeline {
    sources: Vec<SourceInfo>,
    tracks: Vec<Track>,
    /// Milliseconds since the epoch of each instant, ascending and distinct.
    instants: Vec<i64>,
    /// Per instant, per track: the frame shown.
    shown: Vec<Vec<usize>>,
    /// Per instant, the accept queue lengths of all listeners summed.
    totals: Vec<u64>,
}

/// The instants of several tracks (every time any has a frame) and, at each, the newest
/// frame of each track taken by then (its first, before it has one).
fn merged_instants(tracks: &[Track]) -> (Vec<i64>, Vec<Vec<usize>>) {
    let mut instants: Vec<i64> = tracks
        .iter()
        .flat_map(|t| t.frames.iter().map(|(ms, _)| *ms))
        .collect();
    instants.sort_unstable();
    instants.dedup();
    let shown = instants
        .iter()
        .map(|&at| {
            tracks
                .iter()
                .map(|t| {
                    t.frames
                        .partition_point(|(ms, _)| *ms <= at)
                        .saturating_sub(1)
                })
                .collect()
        })
        .collect();
    (instants, shown)
}

impl Timeline {
    /// The time line of `files`; `None` when they hold no frame at all.
    pub fn new(files: Vec<Loaded>) -> Option<Timeline> {
        let mut sources = Vec::new();
        let mut by_host: Vec<Track> = Vec::new();
        for l in files {
            let host = l
                .frames
                .first()
                .map(|f| f.host.hostname.clone())
                .unwrap_or_default();
            sources.push(SourceInfo {
                path: l.path.clone(),
                kind: l.kind,
                frames: l.frames.len(),
                host: host.clone(),
            });
            for f in l.frames {
                let name = f.host.hostname.clone();
                let i = match by_host.iter().position(|t| t.host == name) {
                    Some(i) => i,
                    None => {
                        by_host.push(Track {
                            host: name,
                            frames: Vec::new(),
                            queues: HashMap::new(),
                        });
                        by_host.len() - 1
                    }
                };
                let last = by_host[i].frames.last().map_or(0, |(t, _)| *t);
                // A frame without a readable time keeps its place in the file.
                let t = f.taken_at.time().map_or(last + 1, |t| t.unix_millis());
                by_host[i].frames.push((t, Arc::new(f)));
            }
        }
        if by_host.iter().all(|t| t.frames.is_empty()) {
            return None;
        }
        for t in &mut by_host {
            // Stable: frames of equal time keep their file order.
            t.frames.sort_by_key(|(ms, _)| *ms);
            t.queues = queue_index(&t.frames);
        }
        let (instants, shown) = match by_host.as_slice() {
            // One host shows every frame, even two taken in the same millisecond.
            [only] => (
                only.frames.iter().map(|(ms, _)| *ms).collect(),
                (0..only.frames.len()).map(|i| vec![i]).collect(),
            ),
            tracks => merged_instants(tracks),
        };
        let mut t = Timeline {
            sources,
            tracks: by_host,
            instants,
            shown,
            totals: Vec::new(),
        };
        // Drawn on every frame of the screen: summed once here.
        let mut totals = vec![0u64; t.len()];
        for ti in 0..t.tracks.len() {
            for samples in t.tracks[ti].queues.values() {
                t.add_series(ti, samples, &mut totals);
            }
        }
        t.totals = totals;
        Some(t)
    }

    pub fn len(&self) -> usize {
        self.instants.len()
    }

    pub fn is_empty(&self) -> bool {
        self.instants.is_empty()
    }

    pub fn sources(&self) -> &[SourceInfo] {
        &self.sources
    }

    pub fn hosts(&self) -> usize {
        self.tracks.len()
    }

    /// Whether any file is a recording (stepping makes sense).
    pub fn is_recording(&self) -> bool {
        self.len() > 1
    }

    /// The frames shown at instant `i`.
    fn frames_at(&self, i: usize) -> Vec<&Snapshot> {
        let Some(shown) = self.shown.get(i) else {
            return Vec::new();
        };
        self.tracks
            .iter()
            .zip(shown)
            .filter_map(|(t, &k)| t.frames.get(k).map(|(_, f)| f.as_ref()))
            .collect()
    }

    /// The snapshot at instant `i` (merged when there are several hosts).
    pub fn snapshot(&self, i: usize) -> Snapshot {
        merge(&self.frames_at(i))
    }

    /// Runs `f` on the snapshot at instant `i`: one host's frame as it is, without the
    /// copy [`Timeline::snapshot`] makes.
    fn with_snapshot<T>(&self, i: usize, f: impl FnOnce(&Snapshot) -> T) -> T {
        match self.frames_at(i).as_slice() {
            [one] => f(one),
            many => f(&merge(many)),
        }
    }

    /// Milliseconds from the first instant to instant `i`.
    pub fn offset_ms(&self, i: usize) -> u64 {
        match (self.instants.first(), self.instants.get(i)) {
            (Some(first), Some(at)) => u64::try_from(at - first).unwrap_or(0),
            _ => 0,
        }
    }

    /// The queue history as it was at instant `i`: the instants before it replayed.
    pub fn history(&self, i: usize) -> History {
        let mut h = History::default();
        let start = i.saturating_sub(HISTORY - 1);
        for k in start..i.min(self.len()) {
            self.with_snapshot(k, |s| h.record(s, self.offset_ms(k)));
        }
        h
    }

    /// The accept queue length at every instant: of listener `id` (as the merged view names
    /// it; 0 where it did not exist), or with `None` the sum over all listeners.
    pub fn queue_series(&self, id: Option<&SocketId>) -> Vec<u64> {
        let Some(id) = id else {
            return self.totals.clone();
        };
        let mut series = vec![0u64; self.len()];
        // A merged id is `host/own id` (merge::merged_id); own ids hold no `/`.
        let found = match (self.tracks.as_slice(), id.0.rsplit_once('/')) {
            ([one], _) => one.queues.get(id).map(|q| (0, q)),
            (_, Some((host, own))) => self
                .tracks
                .iter()
                .position(|t| t.host == host)
                .and_then(|ti| Some((ti, self.tracks[ti].queues.get(&SocketId(own.into()))?))),
            _ => None,
        };
        if let Some((ti, samples)) = found {
            self.add_series(ti, samples, &mut series);
        }
        series
    }

    /// Adds one listener's queue lengths (of track `ti`) to `series`, instant by instant.
    fn add_series(&self, ti: usize, samples: &[(u32, u32)], series: &mut [u64]) {
        for (shown, slot) in self.shown.iter().zip(series.iter_mut()) {
            let Some(k) = shown.get(ti).and_then(|&k| u32::try_from(k).ok()) else {
                continue;
            };
            if let Ok(p) = samples.binary_search_by_key(&k, |(f, _)| *f) {
                *slot += u64::from(samples[p].1);
            }
        }
    }
}

/// Per listener of a track, its accept queue length in each frame it is in.
fn queue_index(frames: &[(i64, Arc<Snapshot>)]) -> HashMap<SocketId, Vec<(u32, u32)>> {
    let mut out: HashMap<SocketId, Vec<(u32, u32)>> = HashMap::new();
    for (k, (_, f)) in frames.iter().enumerate() {
        let Ok(k) = u32::try_from(k) else { break };
        for s in &f.sockets {
            if let Some(q) = s.accept_queue {
                out.entry(s.id.clone()).or_default().push((k, q.len));
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::AcceptQueue;
    use crate::testing::{loaded, netns, snapshot_of, socket};

    fn frame(host: &str, at: &str, queue: u32) -> Snapshot {
        let mut so = socket();
        so.accept_queue = Some(AcceptQueue {
            len: queue,
            backlog: 8,
        });
        let mut s = snapshot_of(vec![so], vec![netns(1, Some("host"), None)]);
        s.host.hostname = host.into();
        s.taken_at = at.into();
        s
    }

    #[test]
    fn a_recording_is_its_frames() {
        let t = Timeline::new(vec![loaded(
            "f.jsonl",
            vec![
                frame("a", "2026-11-22T07:00:00.000Z", 1),
                frame("a", "2026-11-22T07:00:01.000Z", 3),
                frame("a", "2026-11-22T07:00:02.000Z", 6),
            ],
        )])
        .expect("frames");
        assert_eq!(t.len(), 3);
        assert_eq!(t.queue_series(None), vec![1, 3, 6]);
        assert_eq!(t.offset_ms(2), 2000);
        assert_eq!(
            t.snapshot(1).sockets[0].accept_queue.map(|q| q.len),
            Some(3)
        );
        // The history at the last frame holds the two before it: growth can be judged.
        let mut h = t.history(2);
        h.record(&t.snapshot(2), t.offset_ms(2));
        assert_eq!(h.samples(), 3);
    }

    #[test]
    fn files_of_one_host_are_one_track_in_time_order() {
        let t = Timeline::new(vec![
            loaded("f.jsonl", vec![frame("a", "2026-11-22T08:00:00Z", 9)]),
            loaded("f.jsonl", vec![frame("a", "2026-11-22T07:00:00Z", 1)]),
        ])
        .expect("frames");
        assert_eq!(t.hosts(), 1);
        assert_eq!(t.queue_series(None), vec![1, 9]);
    }

    #[test]
    fn hosts_are_merged_at_each_instant() {
        let t = Timeline::new(vec![
            loaded(
                "f.jsonl",
                vec![
                    frame("a", "2026-11-22T07:00:00Z", 1),
                    frame("a", "2026-11-22T07:00:02Z", 2),
                ],
            ),
            loaded("f.jsonl", vec![frame("b", "2026-11-22T07:00:01Z", 5)]),
        ])
        .expect("frames");
        assert_eq!(t.hosts(), 2);
        assert_eq!(t.len(), 3);
        // At the first instant b has no frame yet and shows its first.
        assert_eq!(t.queue_series(None), vec![6, 6, 7]);
        assert_eq!(t.snapshot(0).sockets.len(), 2);
        let id = t.snapshot(0).sockets[1].id.clone();
        assert_eq!(t.queue_series(Some(&id)), vec![5, 5, 5]);
    }

    #[test]
    fn nothing_to_show() {
        assert!(Timeline::new(vec![loaded("f.jsonl", vec![])]).is_none());
        assert!(Timeline::new(vec![]).is_none());
    }
}
