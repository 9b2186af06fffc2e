//! Options read during the fd walk. The probe must check a holder's fd link before it
//! duplicates the fd (`sockopt`'s module docs); the walk reads every link anyway, so the
//! socket is duplicated by the walk thread that lists its first holder, right after that
//! read. One `readlink` per socket instead of two, the probe spread over the walk's two
//! threads, and a check microseconds old rather than one made a walk later.
//!
//! What the walk could not settle (a holder that raced: fd closed or reused, process gone;
//! or a socket whose tables were taken from the previous walk, whose links were not read)
//! is probed afterwards as before, through every holder, with the check.

use crate::collect::holders::FastMap;
use crate::collect::join::ProbedOptions;
use crate::collect::linux::procfs::SocketFdSeen;
use crate::collect::linux::sockopt::{Expected, Holder, ProbeError, Wanted};
use crate::collect::linux::sources::ProbeOptions;
use std::sync::atomic::{AtomicBool, Ordering};

/// The sockets this sample reads the options of, by inode, before the walk.
#[derive(Default)]
pub struct Candidates {
    index: FastMap<u64, usize>,
    jobs: Vec<(Expected, Wanted)>,
    /// Set by the walk thread that probes the socket: one probe per socket, whichever
    /// thread lists a holder first.
    claimed: Vec<AtomicBool>,
}

impl Candidates {
    /// Room for `n` candidates at once (at 50,000 sockets, growing the index took 5 ms).
    pub fn with_capacity(n: usize) -> Self {
        let mut index = FastMap::default();
        index.reserve(n);
        Candidates {
            index,
            jobs: Vec::with_capacity(n),
            claimed: Vec::with_capacity(n),
        }
    }

    pub fn push(&mut self, expected: Expected, want: Wanted) {
        let next = self.jobs.len();
        if let std::collections::hash_map::Entry::Vacant(e) = self.index.entry(expected.inode) {
            e.insert(next);
            self.jobs.push((expected, want));
            self.claimed.push(AtomicBool::new(false));
        }
    }

    pub fn is_empty(&self) -> bool {
        self.jobs.is_empty()
    }
}

/// One walk thread's prober.
pub struct WalkProber<'a> {
    candidates: &'a Candidates,
    prober: Box<dyn ProbeOptions + Send + 'a>,
    done: Vec<Probed>,
}

/// A candidate's index and what its probe gave (`None` once taken out).
type Probed = (usize, Option<Result<ProbedOptions, ProbeError>>);

impl<'a> WalkProber<'a> {
    pub fn new(candidates: &'a Candidates, prober: Box<dyn ProbeOptions + Send + 'a>) -> Self {
        WalkProber {
            candidates,
            prober,
            done: Vec::new(),
        }
    }
}

impl SocketFdSeen for WalkProber<'_> {
    fn seen(&mut self, pid: u32, tid: Option<u32>, fd: u32, inode: u64) {
        let Some(&i) = self.candidates.index.get(&inode) else {
            return;
        };
        let (Some(&(expected, want)), Some(claim)) =
            (self.candidates.jobs.get(i), self.candidates.claimed.get(i))
        else {
            return;
        };
        if claim.swap(true, Ordering::Relaxed) {
            return;
        }
        let result = self
            .prober
            .probe_seen(Holder { pid, tid, fd }, expected, want);
        self.done.push((i, Some(result)));
    }
}

/// What the walk settled: a socket's options read, or a denial (which the probe
/// afterwards would meet again: the first denial stops the tries). Each is taken out
/// once, where its walk thread left it: moving 50,000 results into one vector took 10 ms.
#[derive(Default)]
pub struct Settled {
    /// Each walk thread's results.
    done: Vec<Vec<Probed>>,
    /// Per candidate: which thread's result, and where in its list; `NONE` if unsettled.
    by_candidate: Vec<(u32, u32)>,
}

/// No result for this candidate in [`Settled::by_candidate`].
const NONE: (u32, u32) = (u32::MAX, u32::MAX);

impl Settled {
    pub fn from_walk(candidates: &Candidates, probers: Vec<WalkProber<'_>>) -> Settled {
        let mut by_candidate = vec![NONE; candidates.jobs.len()];
        let done: Vec<_> = probers.into_iter().map(|p| p.done).collect();
        for (t, results) in done.iter().enumerate() {
            for (at, (i, result)) in results.iter().enumerate() {
                let final_ = match result {
                    Some(Ok(_)) => true,
                    Some(Err(e)) => e.is_denied(),
                    None => false,
                };
                if let (true, Some(slot)) = (final_, by_candidate.get_mut(*i)) {
                    *slot = (t as u32, at as u32);
                }
            }
        }
        Settled { done, by_candidate }
    }

    /// The walk's answer for the socket `inode`, taken out.
    pub fn take(
        &mut self,
        candidates: &Candidates,
        inode: u64,
    ) -> Option<Result<ProbedOptions, ProbeError>> {
        let &i = candidates.index.get(&inode)?;
        let &(t, at) = self.by_candidate.get(i)?;
        self.done
            .get_mut(t as usize)?
            .get_mut(at as usize)?
            .1
            .take()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Answers every probe with the fd number as SO_REUSEADDR's value, and notes which
    /// entry point was used.
    type Calls = std::sync::Arc<std::sync::Mutex<Vec<(&'static str, Holder, u64)>>>;

    struct Noting {
        calls: Calls,
        answer: fn(Holder) -> Result<ProbedOptions, ProbeError>,
    }

    impl ProbeOptions for Noting {
        fn probe(
            &mut self,
            h: Holder,
            e: Expected,
            _: Wanted,
        ) -> Result<ProbedOptions, ProbeError> {
            self.calls.lock().unwrap().push(("probe", h, e.inode));
            (self.answer)(h)
        }
        fn probe_seen(
            &mut self,
            h: Holder,
            e: Expected,
            _: Wanted,
        ) -> Result<ProbedOptions, ProbeError> {
            self.calls.lock().unwrap().push(("probe_seen", h, e.inode));
            (self.answer)(h)
        }
    }

    fn options(reuseaddr: bool) -> ProbedOptions {
        ProbedOptions {
            reuseaddr: Ok(reuseaddr),
            reuseport: Ok(false),
            v6only: None,
            freebind: Ok(false),
            transparent: Ok(false),
            defer_accept: None,
            fastopen: None,
            nonblocking: None,
        }
    }

    const WANT: Wanted = Wanted {
        full: false,
        ipv6: false,
        tcp: true,
        diag_v6only: false,
        diag_sockopt: false,
        nonblocking: false,
    };

    fn candidates(inodes: &[u64]) -> Candidates {
        let mut c = Candidates::default();
        for &inode in inodes {
            c.push(
                Expected {
                    inode,
                    cookie: inode + 1000,
                },
                WANT,
            );
        }
        c
    }

    #[test]
    fn each_candidate_is_probed_once_through_the_first_holder_seen_and_others_ignored() {
        let c = candidates(&[10, 20, 20]);
        let calls = std::sync::Arc::default();
        let answer = |h: Holder| Ok(options(h.fd.is_multiple_of(2)));
        let mut a = WalkProber::new(
            &c,
            Box::new(Noting {
                calls: std::sync::Arc::clone(&calls),
                answer,
            }),
        );
        let mut b = WalkProber::new(
            &c,
            Box::new(Noting {
                calls: std::sync::Arc::clone(&calls),
                answer,
            }),
        );
        a.seen(1, None, 4, 10);
        b.seen(2, Some(3), 5, 10); // a second holder of 10: already claimed
        b.seen(2, Some(3), 6, 20);
        a.seen(1, None, 7, 99); // not a candidate
        let noted = calls.lock().unwrap().clone();
        assert_eq!(
            noted,
            vec![
                (
                    "probe_seen",
                    Holder {
                        pid: 1,
                        tid: None,
                        fd: 4
                    },
                    10
                ),
                (
                    "probe_seen",
                    Holder {
                        pid: 2,
                        tid: Some(3),
                        fd: 6
                    },
                    20
                ),
            ]
        );
        let mut settled = Settled::from_walk(&c, vec![a, b]);
        assert_eq!(settled.take(&c, 10), Some(Ok(options(true))));
        assert_eq!(settled.take(&c, 20), Some(Ok(options(true))));
        assert_eq!(settled.take(&c, 10), None, "taken out");
        assert_eq!(settled.take(&c, 99), None);
    }

    #[test]
    fn a_race_is_left_to_the_probe_after_the_walk_and_a_denial_settles() {
        let c = candidates(&[1, 2, 3, 4]);
        let calls = std::sync::Arc::default();
        let answer = |h: Holder| match h.fd {
            1 => Err(ProbeError::FdClosed),
            2 => Err(ProbeError::Replaced { fd: 2 }),
            3 => Err(ProbeError::Denied("EPERM".to_string())),
            _ => Err(ProbeError::OtherSocket {
                fd: 4,
                found: 1,
                expected: 2,
            }),
        };
        let mut a = WalkProber::new(&c, Box::new(Noting { calls, answer }));
        for inode in 1..=4 {
            a.seen(7, None, inode as u32, inode);
        }
        let mut settled = Settled::from_walk(&c, vec![a]);
        assert_eq!(settled.take(&c, 1), None);
        assert_eq!(settled.take(&c, 2), None);
        assert_eq!(
            settled.take(&c, 3),
            Some(Err(ProbeError::Denied("EPERM".to_string())))
        );
        assert_eq!(settled.take(&c, 4), None);
    }
}
