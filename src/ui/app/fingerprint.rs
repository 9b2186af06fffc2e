//! Whether the findings and the views' data made from one snapshot still hold for the next,
//! decided here and only here ([`Basis::holds`]), for the collector thread and the app
//! alike. A refresh of a quiet host then costs the collection and a hash: the analysis is
//! skipped.
//!
//! The decision rests on a [`Fingerprint`] of the whole snapshot minus the fields in
//! [`VOLATILE`], taken with exhaustive patterns: a field added to the model does not compile
//! here until it is either hashed or listed as volatile. And on whether the queue history
//! the data was judged with had settled ([`History::settled`]).

use crate::analyze::history::History;
use crate::model::{Netns, Snapshot, Socket};
use std::hash::{Hash, Hasher};

/// The fields left out of the fingerprint. Each changes on a quiet host from one refresh to
/// the next, and nothing made once per snapshot reads it: not the findings, not the views'
/// data, the filter's mask, a view's row order, the what-if verdict or the Changes view's
/// comparison. The views draw these from the snapshot on screen, which every refresh
/// replaces, quiet or not.
/// - `taken_at`, `scan`: the time and the cost of the scan.
/// - `warnings`: races the scan met (a process gone between listing and reading it).
/// - `Socket::recv_q`, `Socket::send_q`: bytes in flight on connections.
/// - `Netns::processes`, `Netns::pids`: processes come and go in a namespace. The Host view
///   can sort by the count, so the app orders its few rows again on every snapshot.
/// - `findings`: not volatile but derived: the analysis's output, which the app replaces
///   with its own on every path (the views' data never reads a snapshot's findings).
///
/// Everything else counts, even what only the views draw (privileges, a namespace's paths):
/// it seldom changes, and leaving a field out takes a reason.
pub const VOLATILE: [&str; 8] = [
    "Snapshot::taken_at",
    "Snapshot::scan",
    "Snapshot::warnings",
    "Snapshot::findings",
    "Socket::recv_q",
    "Socket::send_q",
    "Netns::processes",
    "Netns::pids",
];

/// A hash of what the findings and the views' data are made of.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Fingerprint(u64);

/// The fingerprint of a snapshot: every field but the [`VOLATILE`] ones, sockets and
/// namespaces in their order.
pub fn of(snap: &Snapshot) -> Fingerprint {
    let Snapshot {
        format,
        version,
        taken_at: _,
        host,
        privileges,
        warnings: _,
        netns,
        sockets,
        findings: _,
        marks,
        view,
        scan: _,
        dashboard: _,
    } = snap;
    let mut h = Fold::default();
    (format, version, host, privileges, marks, view).hash(&mut h);
    netns.len().hash(&mut h);
    for n in netns {
        hash_netns(n, &mut h);
    }
    sockets.len().hash(&mut h);
    for s in sockets {
        hash_socket(s, &mut h);
    }
    Fingerprint(h.finish())
}

/// The hasher of fingerprints: FxHash's step (rotate, xor a word in, multiply by an odd
/// constant), from a non-zero start. A snapshot of 50,000 sockets is some 5 million small
/// writes (each option, flag and number is one), where the standard SipHash costs twice the
/// time of the whole rest of a quiet refresh. Every step is a bijection of the state, so
/// two inputs of the same shape that differ in one word never collide. It is no defence
/// against crafted input, which would need every other byte of the snapshot (other users'
/// fd tables included), and would only delay findings to the next change.
struct Fold(u64);

impl Fold {
    const K: u64 = 0x517c_c1b7_2722_0a95;

    fn word(&mut self, w: u64) {
        self.0 = (self.0.rotate_left(5) ^ w).wrapping_mul(Self::K);
    }
}

impl Default for Fold {
    fn default() -> Self {
        // Not zero: from zero, leading zero words would leave the state as it was.
        Fold(Self::K)
    }
}

impl Hasher for Fold {
    fn write(&mut self, bytes: &[u8]) {
        let mut words = bytes.chunks_exact(8);
        for w in &mut words {
            let mut b = [0u8; 8];
            b.copy_from_slice(w);
            self.word(u64::from_le_bytes(b));
        }
        let rest = words.remainder();
        if !rest.is_empty() {
            let mut b = [0u8; 8];
            b[..rest.len()].copy_from_slice(rest);
            // The length too, so `[1]` and `[1, 0]` differ.
            self.word(u64::from_le_bytes(b) ^ ((rest.len() as u64) << 59));
        }
    }

    fn write_u8(&mut self, n: u8) {
        self.word(u64::from(n));
    }

    fn write_u16(&mut self, n: u16) {
        self.word(u64::from(n));
    }

    fn write_u32(&mut self, n: u32) {
        self.word(u64::from(n));
    }

    fn write_u64(&mut self, n: u64) {
        self.word(n);
    }

    fn write_usize(&mut self, n: usize) {
        self.word(n as u64);
    }

    fn finish(&self) -> u64 {
        self.0
    }
}

fn hash_netns(n: &Netns, h: &mut impl Hasher) {
    let Netns {
        id,
        name,
        kind,
        processes: _,
        pids: _,
        paths,
        container,
        containers,
        unit,
        current,
        error,
        interfaces,
        sysctls,
        counters,
    } = n;
    (
        id, name, kind, paths, container, containers, unit, current, error, interfaces, sysctls,
        counters,
    )
        .hash(h);
}

fn hash_socket(s: &Socket, h: &mut impl Hasher) {
    let Socket {
        id,
        netns,
        proto,
        family,
        local_addr,
        local_port,
        remote_addr,
        remote_port,
        state,
        uid,
        user,
        inode,
        device,
        scope,
        address_state,
        accept_queue,
        syn_recv,
        options,
        holders,
        cookie,
        recv_q: _,
        send_q: _,
        holders_unknown,
        syn_recv_shared,
        cgroup_id,
        host,
        dump_pos,
    } = s;
    (
        id,
        netns,
        proto,
        family,
        local_addr,
        local_port,
        remote_addr,
        remote_port,
        state,
        uid,
        user,
        inode,
    )
        .hash(h);
    (
        device,
        scope,
        address_state,
        accept_queue,
        syn_recv,
        options,
        holders,
        cookie,
        holders_unknown,
        syn_recv_shared,
        cgroup_id,
        host,
    )
        .hash(h);
    dump_pos.hash(h);
}

/// What the findings and the views' data in hand were made from. The collector thread keeps
/// one for the data it sends, the app one for the data it holds; both ask [`Basis::holds`]
/// of every new snapshot, after recording it in their history.
#[derive(Debug, Clone, Copy, Default)]
pub struct Basis {
    /// The fingerprint of the snapshot they were made from; `None` before any, or forgotten.
    made_from: Option<Fingerprint>,
    /// The history they were judged with had settled: more samples of that snapshot change
    /// no verdict (see [`History::settled`]).
    settled: bool,
}

impl Basis {
    /// Whether what was made still holds for a snapshot of fingerprint `fp`: the same data
    /// the findings and views read, judged with a history where nothing was moving.
    pub fn holds(&self, fp: Fingerprint) -> bool {
        self.made_from == Some(fp) && self.settled
    }

    /// Whether what was made was made from a snapshot of fingerprint `fp`: the data the
    /// collector thread's verdict is about, when its basis held.
    pub fn is_from(&self, fp: Fingerprint) -> bool {
        self.made_from == Some(fp)
    }

    /// The data was just made from `snap`, of fingerprint `fp`, with `history` (which has
    /// recorded it).
    pub fn made(&mut self, fp: Fingerprint, snap: &Snapshot, history: &History) {
        self.made_from = Some(fp);
        self.settled = history.settled(snap);
    }

    /// The history was replaced (a file's other instant): what was made must be made again.
    pub fn forget(&mut self) {
        *self = Basis::default();
    }
}

#[cfg(test)]
mod tests;
