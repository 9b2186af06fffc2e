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

/// An opened file or stream, for the banner.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourceInfo {
    pub path: PathBuf,
    pub kind: FileKind,
    pub frames: usize,
    pub host: String,
    /// For a stream (`open -`, `--follow`): whether it is still delivering. `None` for a
    /// file read once.
    pub live: Option<Live>,
}

/// Where a stream is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Live {
    /// New samples are read as they come.
    Following,
    /// No more will come: why (end of the stream, a read error).
    Ended(String),
}

/// One host's frames, oldest first, with their times.
#[derive(Debug, Clone)]
struct Track {
    host: String,
    frames: Vec<(i64, Arc<Snapshot>)>,
    /// Per frame: its accept queue lengths summed over its listeners.
    sums: Vec<u64>,
    /// Per frame: the bytes it took in a stream (0 for a file's frames, which the loader
    /// bounded already): what [`Timeline::trim`] counts.
    bytes: Vec<u64>,
    /// Per listener (by its id in this track): (frame index, accept queue length).
    queues: HashMap<SocketId, Vec<(u32, u32)>>,
    /// `bytes` summed: what this host's streamed frames take.
    streamed_bytes: u64,
}

impl Track {
    fn new(host: String) -> Track {
        Track {
            host,
            frames: Vec::new(),
            sums: Vec::new(),
            bytes: Vec::new(),
            queues: HashMap::new(),
            streamed_bytes: 0,
        }
    }

    /// How many of its frames came from a stream.
    fn streamed(&self) -> usize {
        self.bytes.iter().filter(|&&b| b > 0).count()
    }

    /// Drops the oldest tenth (at least one) of its streamed frames, never its newest
    /// frame; returns how many.
    fn drop_oldest_streamed(&mut self) -> usize {
        let last = self.frames.len().saturating_sub(1);
        let streamed: Vec<usize> = (0..last).filter(|&i| self.bytes[i] > 0).collect();
        let n = (streamed.len() / 10).max(1).min(streamed.len());
        let gone: std::collections::HashSet<usize> = streamed.into_iter().take(n).collect();
        if gone.is_empty() {
            return 0;
        }
        let mut i = 0;
        self.frames.retain(|_| {
            i += 1;
            !gone.contains(&(i - 1))
        });
        let mut i = 0;
        self.bytes.retain(|_| {
            i += 1;
            !gone.contains(&(i - 1))
        });
        self.streamed_bytes = self.bytes.iter().sum();
        self.reindex();
        gone.len()
    }

    /// Orders the frames by time (stably: frames of equal time keep their arrival order)
    /// and indexes them again.
    fn reindex(&mut self) {
        let mut order: Vec<usize> = (0..self.frames.len()).collect();
        order.sort_by_key(|&i| self.frames[i].0);
        if order.iter().enumerate().any(|(k, &i)| k != i) {
            let frames = order.iter().map(|&i| self.frames[i].clone()).collect();
            let bytes = order
                .iter()
                .map(|&i| self.bytes.get(i).copied().unwrap_or(0))
                .collect();
            self.frames = frames;
            self.bytes = bytes;
        }
        self.queues = queue_index(&self.frames);
        self.sums = self.frames.iter().map(|(_, f)| queue_sum(f)).collect();
    }

    /// Appends a frame no older than the last: indexed without going over the others.
    fn append(&mut self, at: i64, snap: Arc<Snapshot>, bytes: u64) {
        let k = u32::try_from(self.frames.len()).unwrap_or(u32::MAX);
        for s in &snap.sockets {
            if let Some(q) = s.accept_queue {
                self.queues
                    .entry(s.id.clone())
                    .or_default()
                    .push((k, q.len));
            }
        }
        self.sums.push(queue_sum(&snap));
        self.bytes.push(bytes);
        self.streamed_bytes += bytes;
        self.frames.push((at, snap));
    }

    fn last_at(&self) -> Option<i64> {
        self.frames.last().map(|(t, _)| *t)
    }
}

/// A frame's accept queue lengths, summed over its listeners.
fn queue_sum(snap: &Snapshot) -> u64 {
    snap.sockets
        .iter()
        .filter_map(|s| s.accept_queue)
        .map(|q| u64::from(q.len))
        .sum()
}

#[derive(Debug, Clone)]
pub struct Timeline {
    sources: Vec<SourceInfo>,
    tracks: Vec<Track>,
    /// Milliseconds since the epoch of each instant, ascending (distinct when there are
    /// several hosts; one host shows every frame, even two of the same millisecond).
    instants: Vec<i64>,
    /// Per instant, per track: the frame shown.
    shown: Vec<Vec<usize>>,
    /// Per instant, the accept queue lengths of all listeners summed.
    totals: Vec<u64>,
    /// What [`Timeline::offset_ms`] counts from: the first instant there was, kept when
    /// older frames are dropped so that offsets (the queue history's clock) never move.
    origin: i64,
    /// What streamed frames may take before the oldest are dropped: bytes, and frames of
    /// one host ([`Timeline::keep`]).
    keep: (u64, usize),
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

/// A frame's time: its `taken_at`, or just after `last` when it has none readable (it
/// keeps its place in the file).
fn frame_time(snap: &Snapshot, last: Option<i64>) -> i64 {
    snap.taken_at
        .time()
        .map_or(last.unwrap_or(0) + 1, |t| t.unix_millis())
}

impl Timeline {
    /// The time line of `files`; `None` when they hold no frame at all.
    pub fn new(files: Vec<Loaded>) -> Option<Timeline> {
        let mut t = Timeline {
            sources: Vec::new(),
            tracks: Vec::new(),
            instants: Vec::new(),
            shown: Vec::new(),
            totals: Vec::new(),
            origin: 0,
            keep: (u64::MAX, usize::MAX),
        };
        for l in files {
            let host = l
                .frames
                .first()
                .map(|f| f.host.hostname.clone())
                .unwrap_or_default();
            t.sources.push(SourceInfo {
                path: l.path.clone(),
                kind: l.kind,
                frames: l.frames.len(),
                host,
                live: None,
            });
            for f in l.frames {
                let i = t.track_of(&f.host.hostname);
                let at = frame_time(&f, t.tracks[i].last_at());
                let track = &mut t.tracks[i];
                track.frames.push((at, Arc::new(f)));
                track.bytes.push(0);
            }
        }
        if t.tracks.iter().all(|t| t.frames.is_empty()) {
            return None;
        }
        for track in &mut t.tracks {
            track.reindex();
        }
        t.rebuild();
        t.origin = t.instants.first().copied().unwrap_or(0);
        Some(t)
    }

    /// The track of `host`, made when it has none yet.
    fn track_of(&mut self, host: &str) -> usize {
        match self.tracks.iter().position(|t| t.host == host) {
            Some(i) => i,
            None => {
                self.tracks.push(Track::new(host.to_string()));
                self.tracks.len() - 1
            }
        }
    }

    /// The instants, what each shows, and the totals, from the tracks.
    fn rebuild(&mut self) {
        let (instants, shown) = match self.tracks.as_slice() {
            // One host shows every frame, even two taken in the same millisecond.
            [only] => (
                only.frames.iter().map(|(ms, _)| *ms).collect(),
                (0..only.frames.len()).map(|i| vec![i]).collect(),
            ),
            tracks => merged_instants(tracks),
        };
        self.instants = instants;
        self.shown = shown;
        self.totals = self.shown.iter().map(|s| self.total_of(s)).collect();
    }

    /// The queue total of one instant: each track's frame shown there.
    fn total_of(&self, shown: &[usize]) -> u64 {
        self.tracks
            .iter()
            .zip(shown)
            .filter_map(|(t, &k)| t.sums.get(k))
            .sum()
    }

    /// Marks source `source` as a stream, and where it is.
    pub fn set_live(&mut self, source: usize, live: Live) {
        if let Some(s) = self.sources.get_mut(source) {
            s.live = Some(live);
        }
    }

    /// Streamed frames beyond `max_bytes` in all, or `max_frames` of one host, are
    /// dropped from the oldest on (see [`Timeline::trim`]): a stream that runs for days
    /// keeps its newest samples within the memory a file of that size could take.
    pub fn keep(&mut self, max_bytes: u64, max_frames: usize) {
        self.keep = (max_bytes, max_frames.max(1));
    }

    /// A frame that arrived on stream `source` (`bytes` long), appended to its host's
    /// track: a stream's frames keep the order they came in, so one whose `taken_at` is
    /// older than its track's newest (the host's clock stepped back) is placed just after
    /// it, and the screen that follows the newest shows it. Older streamed frames are
    /// dropped beyond what [`Timeline::keep`] allows. Returns how many were dropped. The
    /// common case, a frame newer than every instant, costs that frame only; one older
    /// than the newest instant of another host (a host whose clock is behind) has the
    /// instants worked out again.
    pub fn push(&mut self, source: usize, snap: Snapshot, bytes: u64) -> usize {
        if let Some(s) = self.sources.get_mut(source) {
            s.frames += 1;
            if s.host.is_empty() {
                s.host = snap.host.hostname.clone();
            }
            if s.frames > 1 {
                s.kind = FileKind::Recording;
            }
        }
        let tracks_before = self.tracks.len();
        let ti = self.track_of(&snap.host.hostname);
        let track_last = self.tracks[ti].last_at();
        let at = match (frame_time(&snap, track_last), track_last) {
            (at, Some(last)) if at <= last => last + 1,
            (at, _) => at,
        };
        let newest = self.instants.last().copied();
        // A stream's frame counts at least a byte: what tells it from a file's.
        self.tracks[ti].append(at, Arc::new(snap), bytes.max(1));
        let k = self.tracks[ti].frames.len() - 1;
        match newest {
            // A new host, or a frame inside the time line: every instant again.
            _ if self.tracks.len() != tracks_before => self.rebuild(),
            Some(n) if at < n => self.rebuild(),
            Some(n) if at == n && self.tracks.len() > 1 => {
                // Another host's frame at the newest instant: that instant shows it.
                if let Some(last) = self.shown.last_mut() {
                    last[ti] = k;
                }
                let total = self.shown.last().map_or(0, |s| self.total_of(s));
                if let Some(t) = self.totals.last_mut() {
                    *t = total;
                }
            }
            _ => {
                let mut shown = self.shown.last().cloned().unwrap_or_default();
                shown.resize(self.tracks.len(), 0);
                shown[ti] = k;
                self.totals.push(self.total_of(&shown));
                self.shown.push(shown);
                self.instants.push(at);
            }
        }
        let (max_bytes, max_frames) = self.keep;
        self.trim(max_bytes, max_frames)
    }

    /// Drops the oldest streamed frames (never a file's) while the streams hold more
    /// than `max_bytes` in all, or one host more than `max_frames`: a tenth of that
    /// host's streamed frames at a time, so a stream that keeps coming does not work the
    /// time line out again on every frame. Returns how many frames were dropped. The
    /// instants are worked out again; offsets keep their origin.
    fn trim(&mut self, max_bytes: u64, max_frames: usize) -> usize {
        let mut dropped = 0;
        loop {
            let total: u64 = self.tracks.iter().map(|t| t.streamed_bytes).sum();
            let over_count = self.tracks.iter().position(|t| t.streamed() > max_frames);
            let ti = match over_count {
                Some(ti) => ti,
                None if total > max_bytes => {
                    match (0..self.tracks.len()).max_by_key(|&i| self.tracks[i].streamed_bytes) {
                        Some(ti) => ti,
                        None => break,
                    }
                }
                None => break,
            };
            let n = self.tracks[ti].drop_oldest_streamed();
            if n == 0 {
                break;
            }
            dropped += n;
        }
        if dropped > 0 {
            self.rebuild();
        }
        dropped
    }

    /// The time of instant `i`, in milliseconds since the epoch.
    pub fn instant_ms(&self, i: usize) -> Option<i64> {
        self.instants.get(i).copied()
    }

    /// The last instant at or before `ms` (the first when all are after it).
    pub fn instant_at_or_before(&self, ms: i64) -> usize {
        self.instants
            .partition_point(|&t| t <= ms)
            .saturating_sub(1)
    }

    /// Whether any source is a stream still delivering.
    pub fn is_following(&self) -> bool {
        self.sources.iter().any(|s| s.live == Some(Live::Following))
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

    /// Milliseconds from the first instant there was to instant `i` (0 for one older).
    pub fn offset_ms(&self, i: usize) -> u64 {
        self.instants
            .get(i)
            .map_or(0, |at| u64::try_from(at - self.origin).unwrap_or(0))
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

    /// What a time line shows, instant by instant: time, each host's frame, and totals.
    fn shape(t: &Timeline) -> Vec<(i64, Vec<String>, u64)> {
        (0..t.len())
            .map(|i| {
                let frames = t
                    .frames_at(i)
                    .iter()
                    .map(|f| format!("{}@{}", f.host.hostname, f.taken_at))
                    .collect();
                (t.instants[i], frames, t.queue_series(None)[i])
            })
            .collect()
    }

    /// Frames pushed one at a time, in any order and of several hosts, make the time
    /// line that all of them loaded at once make; and the per-listener series agree.
    #[test]
    fn pushed_frames_make_the_loaded_time_line() {
        let all = [
            frame("a", "2026-11-22T07:00:00Z", 1),
            frame("b", "2026-11-22T07:00:01Z", 5),
            frame("a", "2026-11-22T07:00:02Z", 2),
            frame("a", "2026-11-22T07:00:02.500Z", 4),
            // b's clock is behind: older than the newest instant.
            frame("b", "2026-11-22T07:00:01.500Z", 7),
            frame("b", "2026-11-22T07:00:03Z", 3),
            frame("a", "2026-11-22T07:00:03Z", 9),
        ];
        for split in 1..all.len() {
            let mut pushed =
                Timeline::new(vec![loaded("f.jsonl", all[..split].to_vec())]).expect("frames");
            for f in &all[split..] {
                pushed.push(0, f.clone(), 100);
            }
            let whole = Timeline::new(vec![loaded("f.jsonl", all.to_vec())]).expect("frames");
            assert_eq!(shape(&pushed), shape(&whole), "split at {split}");
            let id = whole.snapshot(0).sockets[1].id.clone();
            assert_eq!(
                pushed.queue_series(Some(&id)),
                whole.queue_series(Some(&id))
            );
            assert_eq!(pushed.sources()[0].frames, all.len());
        }
        // One host: every frame is an instant.
        let one: Vec<Snapshot> = all
            .iter()
            .filter(|f| f.host.hostname == "a")
            .cloned()
            .collect();
        let mut t = Timeline::new(vec![loaded("f.jsonl", one[..1].to_vec())]).expect("frames");
        for f in &one[1..] {
            t.push(0, f.clone(), 10);
        }
        assert_eq!(t.queue_series(None), vec![1, 2, 4, 9]);
        assert_eq!(t.offset_ms(3), 3000);
    }

    /// A stream's frames keep their order of arrival: one whose clock stepped back comes
    /// after the newest, so the screen that follows the newest shows it.
    #[test]
    fn a_clock_stepped_back_keeps_the_order_of_arrival() {
        let mut t = Timeline::new(vec![loaded(
            "-",
            vec![frame("a", "2026-11-22T07:00:30Z", 1)],
        )])
        .expect("one");
        t.push(0, frame("a", "2026-11-22T07:00:00Z", 2), 10);
        t.push(0, frame("a", "2026-11-22T07:00:01Z", 3), 10);
        assert_eq!(t.queue_series(None), vec![1, 2, 3]);
        let last = t.snapshot(t.len() - 1);
        assert_eq!(last.taken_at.to_string(), "2026-11-22T07:00:01Z");
    }

    /// Only streamed frames are dropped, and by the limit that was passed: a long file of
    /// one host does not cost another host's stream its history.
    #[test]
    fn only_streamed_frames_are_dropped() {
        let at = |s: u32| format!("2026-11-22T07:{:02}:{:02}Z", s / 60, s % 60);
        let file: Vec<Snapshot> = (0..100).map(|s| frame("a", &at(s), s)).collect();
        let mut t = Timeline::new(vec![loaded("a.jsonl", file)]).expect("file");
        t.keep(u64::MAX, 50);
        for s in 0..60 {
            t.push(0, frame("b", &at(s), s), 10);
        }
        let frames = |t: &Timeline, host: &str| {
            t.tracks
                .iter()
                .find(|k| k.host == host)
                .map_or(0, |k| k.frames.len())
        };
        assert_eq!(frames(&t, "a"), 100, "the file's frames all stay");
        let b = frames(&t, "b");
        assert!((45..=50).contains(&b), "{b}");
    }

    /// Beyond what is kept, the oldest streamed frames go, a tenth at a time; the newest
    /// stays, and offsets keep their origin (the queue history's clock does not jump).
    #[test]
    fn a_long_stream_keeps_its_newest_frames() {
        let at = |s: u32| format!("2026-11-22T07:{:02}:{:02}Z", s / 60, s % 60);
        let mut t = Timeline::new(vec![loaded("-", vec![frame("a", &at(0), 0)])]).expect("one");
        t.keep(1000, 100_000);
        let mut dropped = 0;
        for s in 1..200 {
            dropped += t.push(0, frame("a", &at(s), s), 100);
        }
        assert!(t.len() <= 11, "{}", t.len());
        assert_eq!(dropped + t.len(), 200);
        assert_eq!(t.queue_series(None).last(), Some(&199));
        assert_eq!(t.offset_ms(t.len() - 1), 199_000);
        // By count as well.
        let mut t = Timeline::new(vec![loaded("-", vec![frame("a", &at(0), 0)])]).expect("one");
        t.keep(u64::MAX, 50);
        for s in 1..120 {
            t.push(0, frame("a", &at(s), s), 1);
        }
        assert!(t.len() <= 50 && t.len() > 40, "{}", t.len());
    }

    #[test]
    fn nothing_to_show() {
        assert!(Timeline::new(vec![loaded("f.jsonl", vec![])]).is_none());
        assert!(Timeline::new(vec![]).is_none());
    }
}
