//! Who holds each socket, and its options: one `/proc` fd walk for the whole host (socket
//! inodes are unique across namespaces, and a process may hold sockets of a namespace it does
//! not live in), the details of each holder process once, and one options probe per socket.

use super::containers::ContainerCache;
use super::procfs::{self, FdScan, PidFds, ProcError, ProcRoot, SocketFdSeen};
use super::sockopt::{self, Expected, Holder, ProbeDone, ProbeError, ProbeJob, Wanted};
use super::sources::{ProbeOptions, Sources};
use crate::collect::holders::{FastMap, FastSet, Holders};
use crate::collect::join::{ProbeOutcome, ProbedOptions, ProcessInfo};
use crate::collect::raw::{RawProcess, RawSocket};
use crate::collect::reasons;
use crate::collect::users::UserNames;
use crate::model::{NetnsId, Proto, ScanStats};
use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::Duration;

mod recheck;
mod walk_probe;
pub use recheck::still_holds;
use walk_probe::{Candidates, Settled, WalkProber};

/// How long a socket's options are trusted before they are read again. Options are set
/// before bind() in practice; a live view re-reads them now and then, not every refresh
/// (each read holds a duplicate of the socket for a moment, linux-bind-semantics.md §9).
/// A quiet refresh reads again those due ([`recheck`]), spread over the second half of
/// this time: at 50,000 sockets, some 170 probes per second.
const PROBE_TTL: Duration = Duration::from_secs(300);
/// How long a listener's O_NONBLOCK is trusted: like its options, servers set it right
/// after listen() (read again as [`PROBE_TTL`] says, one `fdinfo` read each).
const NONBLOCK_TTL: Duration = Duration::from_secs(300);
/// How long a process's name, cmdline, uids and unit are trusted. They change on exec or
/// setuid, rarely; a live view shows such a change within this time (a pid reused by a
/// new process shows at once: the fd tables' check sees the process go).
const PROCESS_TTL: Duration = Duration::from_secs(30);

/// When a socket's options are first read.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum ProbeWhen {
    /// In the sample that first sees the socket: one-shot snapshots, which have no next.
    #[default]
    FirstSeen,
    /// Only once the previous sample saw it too, so only sockets at least one interval old
    /// are duplicated: a service that closes its socket and binds the port again within an
    /// interval of opening it never meets a duplicate that keeps the old one bound
    /// (EADDRINUSE). For repeated sampling: `record`, the dashboard.
    SeenTwice,
}

/// What one refresh keeps for the next, so a live view does not walk every fd, read every
/// process and probe every socket each second (the dashboard's budget is 5% of a core).
/// Ages are readings of the sources' monotonic clock.
#[derive(Default)]
pub struct OwnerCache {
    fds: HashMap<u32, PidFds>,
    /// Socket inodes shown last time.
    shown: FastSet<u64>,
    probes: FastMap<u64, (ProbeOutcome, Duration)>,
    /// Cookies of the sockets the last refresh showed (cookies are never reused), for
    /// [`ProbeWhen::SeenTwice`].
    seen: FastSet<u64>,
    nonblocking: FastMap<u64, (bool, Duration)>,
    processes: HashMap<u32, (ProcessInfo, Duration)>,
    /// Containers of processes and what their runtimes' state said.
    pub containers: ContainerCache,
    /// The pids `/proc` listed just before the last walk, sorted ([`recheck`]).
    listed: Vec<u32>,
    /// Fd directories kept open by the quiet checks, by pid ([`recheck`]).
    fd_dirs: HashMap<u32, rustix::fd::OwnedFd>,
    /// inode → (pid, fd) of every holder, as the last resolve found them.
    holders: Arc<Holders>,
    /// The prober of the quiet checks' due options, kept between refreshes (with its
    /// pidfds and fd directories); a resolve drops it.
    recheck_prober: Option<(Box<dyn ProbeOptions + Send>, FastSet<u32>)>,
    /// The last resolve left sockets to be probed at the next sample
    /// ([`ProbeWhen::SeenTwice`]): the next refresh must resolve again.
    pending_probes: bool,
    /// When the first of `nonblocking` and `probes` is due again, as the last quiet check
    /// that went through them found it: until then a quiet check skips both maps (tens of
    /// thousands of entries at 50,000 sockets). `None`: not known (a resolve changed them).
    next_due: Option<Duration>,
}

/// What the joins of every namespace need about owners.
#[derive(Default)]
pub struct Owners {
    /// inode → every (pid, fd) holding it.
    pub holders: Arc<Holders>,
    pub processes: HashMap<u32, ProcessInfo>,
    /// cookie → options.
    pub probes: FastMap<u64, ProbeOutcome>,
    /// inode → O_NONBLOCK, for listeners.
    pub nonblocking: FastMap<u64, bool>,
    /// Sockets whose options are unknown for lack of permission.
    pub options_denied: u32,
    /// Processes whose fd tables could not be read.
    pub unreadable: usize,
    pub warnings: Vec<String>,
    pub stats: ScanStats,
}

/// Resolves holders and options of `sockets` (those a snapshot shows, all namespaces),
/// reusing what `cache` kept from the last refresh and updating it.
pub fn resolve(
    sockets: &[&RawSocket],
    src: &dyn Sources,
    probe: Option<ProbeWhen>,
    names: &UserNames,
    cache: &mut OwnerCache,
) -> Owners {
    let mut o = Owners::default();
    let root = src.proc_root();
    let wanted: FastSet<u64> = sockets
        .iter()
        .filter(|r| r.inode != 0)
        .map(|r| r.inode)
        .collect();
    let now = src.monotonic();
    cache.recheck_prober = None;
    cache.next_due = None;
    let mut plan = plan_options(sockets, probe, now, cache);
    // Listed before the walk: a process that starts in between is walked but not listed,
    // so the next quiet check sees it as new (the safe way round).
    cache.listed = recheck::list_pids(root).unwrap_or_default();
    // The walk reads the options of the sockets to probe as it lists their holders.
    let mut probers: Vec<WalkProber<'_>> = if plan.candidates.is_empty() {
        Vec::new()
    } else {
        (0..2)
            .map(|_| WalkProber::new(&plan.candidates, src.prober()))
            .collect()
    };
    let scan = walk_fds(root, &wanted, cache, &mut probers);
    plan.settled = Settled::from_walk(&plan.candidates, probers);
    record_scan(&mut o, &scan);
    o.holders = Arc::new(Holders::from_walk(
        scan.fds
            .iter()
            .filter(|f| wanted.contains(&f.inode))
            .map(|f| (f.inode, f.pid, f.fd)),
    ));
    drop(scan);
    read_processes(&mut o, src, names, src.monotonic(), cache);
    read_options(&mut o, sockets, src, plan, now, cache);
    cache.shown = wanted;
    cache.holders = Arc::clone(&o.holders);
    cache.pending_probes = o
        .probes
        .values()
        .any(|p| matches!(p, ProbeOutcome::Unknown(r) if *r == *reasons::NEW_SOCKET));
    o
}

/// The fd walk, reusing the fd tables of processes whose fd count did not change. A table
/// is not reused when one of its sockets shown last time is gone; and when a socket new
/// since last time finds no holder, everything is walked again.
fn walk_fds(
    root: &ProcRoot,
    wanted: &FastSet<u64>,
    cache: &mut OwnerCache,
    probers: &mut [WalkProber<'_>],
) -> FdScan {
    let gone = |inode: &u64| cache.shown.contains(inode) && !wanted.contains(inode);
    cache
        .fds
        .retain(|_, p| !p.sockets.iter().any(|(_, inode)| gone(inode)));
    let mut next = HashMap::new();
    let scan = procfs::scan_socket_fds_seeing(root, &cache.fds, &mut next, seers(probers));
    // Only a walk that reused tables can have missed a new socket's holder (a first walk
    // reuses none: no set of 50,000 inodes is built for it).
    let unplaced_new = || {
        let found: FastSet<u64> = scan.fds.iter().map(|f| f.inode).collect();
        wanted
            .iter()
            .any(|i| !cache.shown.contains(i) && !found.contains(i))
    };
    if scan.processes_reused > 0 && !cache.shown.is_empty() && unplaced_new() {
        next.clear();
        let full = procfs::scan_socket_fds_seeing(root, &HashMap::new(), &mut next, seers(probers));
        cache.fds = next;
        return full;
    }
    cache.fds = next;
    scan
}

/// The walk threads' probers, one each.
fn seers<'a, 'p>(
    probers: &'a mut [WalkProber<'p>],
) -> [Option<&'a mut (dyn SocketFdSeen + 'p)>; 2] {
    let mut each = probers.iter_mut();
    [
        each.next().map(|p| p as &mut (dyn SocketFdSeen + 'p)),
        each.next().map(|p| p as &mut (dyn SocketFdSeen + 'p)),
    ]
}

fn record_scan(o: &mut Owners, scan: &FdScan) {
    o.stats.processes_scanned = scan.processes_scanned;
    o.stats.processes_vanished = scan.processes_vanished;
    o.stats.fds_vanished = scan.fds_vanished;
    o.stats.processes_unreadable = scan.unreadable.len() as u32;
    o.unreadable = scan.unreadable.len();
    for e in &scan.other_errors {
        o.warnings.push(format!("reading /proc: {e}"));
    }
}

/// Process details, once per holder process.
fn read_processes(
    o: &mut Owners,
    src: &dyn Sources,
    names: &UserNames,
    now: Duration,
    cache: &mut OwnerCache,
) {
    // Forget processes that are gone, and every entry after PROCESS_TTL (exec, setuid, or a
    // pid reused by a new process show within that time).
    let alive: HashSet<u32> = cache.fds.keys().copied().collect();
    cache
        .processes
        .retain(|pid, (_, at)| alive.contains(pid) && now.saturating_sub(*at) < PROCESS_TTL);
    let mut pids: Vec<u32> = o.holders.all().iter().map(|&(pid, _)| pid).collect();
    pids.sort_unstable();
    pids.dedup();
    o.processes.reserve(pids.len());
    // What /proc says of each process not cached, read ahead on two threads; what it
    // means (containers, user names) is then worked out here, in order.
    let mut to_read: Vec<(u32, Option<u32>)> = Vec::new();
    for pid in pids {
        match cache.processes.get(&pid) {
            Some((info, _)) => {
                o.processes.insert(pid, info.clone());
            }
            None => to_read.push((pid, table_tid(cache, pid))),
        }
    }
    let read = read_raw_processes(src.proc_root(), &to_read);
    for (&(pid, _), raw) in to_read.iter().zip(read) {
        match raw.map(|p| process_info(src, names, pid, p, cache)) {
            Ok(info) => {
                cache.processes.insert(pid, (info.clone(), now));
                o.processes.insert(pid, info);
            }
            Err(ProcError::Vanished { .. }) => o.stats.processes_vanished += 1,
            Err(e) => o.warnings.push(format!("reading process {pid}: {e}")),
        }
    }
}

/// `procfs::read_process` of each `(pid, tid)`, in order: on two threads when there are
/// enough of them (300 processes took 21 ms on one thread, 13 ms on two; most of it is
/// system calls).
fn read_raw_processes(
    root: &ProcRoot,
    pids: &[(u32, Option<u32>)],
) -> Vec<Result<RawProcess, ProcError>> {
    let read = |part: &[(u32, Option<u32>)]| -> Vec<_> {
        part.iter()
            .map(|&(pid, tid)| procfs::read_process(root, pid, tid))
            .collect()
    };
    if pids.len() < PARALLEL_PROCESSES_FROM || !crate::collect::threads::two_cores() {
        return read(pids);
    }
    let (first, second) = pids.split_at(pids.len() / 2);
    let (rest, mut all) = crate::collect::threads::beside(
        "bindscope-procs",
        || read(second),
        || read(first),
        || read(second),
    );
    all.extend(rest);
    all
}

/// From how many processes their details are read on two threads.
const PARALLEL_PROCESSES_FROM: usize = 32;

/// What one process is, read from `/proc` (and its container from the cache).
fn read_process_info(
    src: &dyn Sources,
    names: &UserNames,
    pid: u32,
    cache: &mut OwnerCache,
) -> Result<ProcessInfo, ProcError> {
    let p = procfs::read_process(src.proc_root(), pid, table_tid(cache, pid))?;
    Ok(process_info(src, names, pid, p, cache))
}

/// What one process is, from what `/proc` said of it (and its container from the cache).
fn process_info(
    src: &dyn Sources,
    names: &UserNames,
    pid: u32,
    p: RawProcess,
    cache: &mut OwnerCache,
) -> ProcessInfo {
    let container = cache
        .containers
        .of_process(src, pid, &p.cgroup, p.ppid)
        .map(|r| r.container);
    ProcessInfo {
        container,
        name: Arc::from(p.name),
        cmdline: Arc::from(p.cmdline),
        uid: p.euid,
        ruid: p.ruid,
        user: names.get(p.euid),
        unit: p.cgroup.unit().map(Arc::from),
        netns: p.netns.map(NetnsId),
        ppid: p.ppid,
        threads: p.threads,
        exe: p.exe.map(Arc::from),
    }
}

/// The thread whose fd table the walk read for `pid`, when its main thread has exited.
fn table_tid(cache: &OwnerCache, pid: u32) -> Option<u32> {
    cache.fds.get(&pid).and_then(|p| p.tid)
}

/// What each shown socket's options will be, decided before the walk: known already
/// (cached, not to be read, or new and waiting for the next sample), or to be read.
struct OptionsPlan {
    /// Per socket with an inode, in order: `Some` when known, `None` when to be read.
    known: Vec<Option<ProbeOutcome>>,
    /// Those to be read, which the walk reads as it meets a holder ([`walk_probe`]).
    candidates: Candidates,
    /// What the walk settled of them.
    settled: Settled,
    /// The cookies of every shown socket.
    live: FastSet<u64>,
}

/// Drops what the caches no longer trust and decides which options to read. `probe`:
/// `None` when options are not to be read at all (`--no-probe`).
fn plan_options(
    sockets: &[&RawSocket],
    probe: Option<ProbeWhen>,
    now: Duration,
    cache: &mut OwnerCache,
) -> OptionsPlan {
    let seen_before = std::mem::take(&mut cache.seen);
    let live: FastSet<u64> = sockets.iter().map(|r| r.cookie).collect();
    cache
        .probes
        .retain(|cookie, (_, at)| live.contains(cookie) && now.saturating_sub(*at) < PROBE_TTL);
    cache
        .nonblocking
        .retain(|_, (_, at)| now.saturating_sub(*at) < NONBLOCK_TTL);
    let mut candidates = Candidates::with_capacity(sockets.len());
    let known = sockets
        .iter()
        .filter(|r| r.inode != 0)
        .map(|r| {
            let cached = cache.probes.get(&r.cookie).filter(|_| probe.is_some());
            if let Some((outcome, _)) = cached {
                // Options read within PROBE_TTL are trusted (only reads are cached).
                Some(outcome.clone())
            } else if probe.is_none() {
                Some(ProbeOutcome::Unknown(reasons::NO_PROBE_FLAG.clone()))
            } else if probe == Some(ProbeWhen::SeenTwice) && !seen_before.contains(&r.cookie) {
                Some(ProbeOutcome::Unknown(reasons::NEW_SOCKET.clone()))
            } else {
                let want = wanted(r, cache);
                let expected = Expected {
                    inode: r.inode,
                    cookie: r.cookie,
                };
                candidates.push(expected, want);
                None
            }
        })
        .collect();
    OptionsPlan {
        known,
        candidates,
        settled: Settled::default(),
        live,
    }
}

/// What a probe of `r` reads: its options, and a listener's flags unless the cache knows
/// them (F_GETFL on the duplicate).
fn wanted(r: &RawSocket, cache: &OwnerCache) -> Wanted {
    let mut want = Wanted::for_socket(r);
    want.nonblocking = is_listener(r) && !cache.nonblocking.contains_key(&r.inode);
    want
}

fn is_listener(r: &RawSocket) -> bool {
    r.proto == Proto::Tcp && r.state == 10
}

/// Options and O_NONBLOCK, from one holder per socket, as `plan` says: what the walk read,
/// and the probe of the rest.
fn read_options(
    o: &mut Owners,
    sockets: &[&RawSocket],
    src: &dyn Sources,
    plan: OptionsPlan,
    now: Duration,
    cache: &mut OwnerCache,
) {
    let root = src.proc_root();
    let OptionsPlan {
        known,
        candidates,
        mut settled,
        live,
    } = plan;
    let mut interner = reasons::Interner::default();
    // One shared copy of each distinct set of options (see `ProbeOutcome::Read`).
    let mut read_sets: FastSet<Arc<ProbedOptions>> = FastSet::default();
    let mut other_errors: Vec<String> = Vec::new();

    // What each socket gets, decided in order; the sockets still to probe become jobs,
    // probed together below (in two threads when a second prober is given).
    enum Plan {
        Known(ProbeOutcome),
        Done(ProbeDone),
        Probe,
    }
    let mut plans: Vec<(&RawSocket, Plan, Option<bool>)> = Vec::with_capacity(sockets.len());
    let mut jobs: Vec<ProbeJob> = Vec::new();
    let mut tries: Vec<Holder> = Vec::new();
    let with_inode = sockets.iter().copied().filter(|r| r.inode != 0);
    for (r, known) in with_inode.zip(known) {
        // The holders whose details were read, in walk order.
        let holders: &[(u32, u32)] = o.holders.of(r.inode);
        let mut hs = holders
            .iter()
            .copied()
            .filter(|(pid, _)| o.processes.contains_key(pid))
            .peekable();
        let listener = is_listener(r);
        let cached_nb = cache
            .nonblocking
            .get(&r.inode)
            .filter(|_| listener)
            .map(|(nb, _)| *nb);
        let plan = if let Some(outcome) = known {
            Plan::Known(outcome)
        } else if let Some(result) = settled.take(&candidates, r.inode) {
            Plan::Done(ProbeDone {
                result,
                other_errors: Vec::new(),
            })
        } else if hs.peek().is_none() {
            let why = if o.unreadable == 0 {
                "no holder left to read it from (it exited during the scan)".to_string()
            } else {
                o.options_denied += 1;
                "no visible holder: the processes that may hold it could not be read".to_string()
            };
            Plan::Known(ProbeOutcome::Unknown(interner.get(why)))
        } else {
            let want = wanted(r, cache);
            let first = tries.len();
            tries.extend(hs.map(|(pid, fd)| Holder {
                pid,
                tid: table_tid(cache, pid),
                fd,
            }));
            jobs.push(ProbeJob {
                expected: Expected {
                    inode: r.inode,
                    cookie: r.cookie,
                },
                want,
                holders: (first, tries.len()),
            });
            Plan::Probe
        };
        plans.push((r, plan, cached_nb));
    }

    let mut prober = src.prober();
    // A second prober for a second thread needs `Sources::prober` to give a `Send` one
    // (wiring: `Some(src.prober())` here then).
    let second: Option<Box<dyn ProbeOptions + Send>> = Some(src.prober());
    let mut done = sockopt::probe_all(&jobs, &tries, &mut *prober, second).into_iter();
    drop(prober);

    // Each socket lands in these maps: made large enough at once rather than rehashed
    // a dozen times on the way to 50,000.
    o.probes.reserve(plans.len());
    cache
        .probes
        .reserve(plans.len().saturating_sub(cache.probes.len()));
    for (r, plan, cached_nb) in plans {
        // O_NONBLOCK read by this sample's probe of the socket (F_GETFL on the duplicate).
        let mut probed_nb = None;
        let outcome = match plan {
            Plan::Known(outcome) => outcome,
            Plan::Done(_) | Plan::Probe => {
                o.stats.options_probed += 1;
                let probed = match plan {
                    Plan::Done(d) => Some(d),
                    _ => done.next(),
                };
                let ProbeDone {
                    result,
                    other_errors: others,
                } = probed.unwrap_or(ProbeDone {
                    result: Err(ProbeError::Other("not probed".to_string())),
                    other_errors: Vec::new(),
                });
                other_errors.extend(others);
                match result {
                    Ok(mut p) => {
                        // Taken out: the options kept and compared are the socket's alone.
                        probed_nb = p.nonblocking.take();
                        let shared = match read_sets.get(&p) {
                            Some(shared) => Arc::clone(shared),
                            None => {
                                let shared = Arc::new(p);
                                read_sets.insert(Arc::clone(&shared));
                                shared
                            }
                        };
                        // Only what was read is cached: an unknown (denied or raced) is
                        // tried again next time.
                        cache
                            .probes
                            .insert(r.cookie, (ProbeOutcome::Read(Arc::clone(&shared)), now));
                        ProbeOutcome::Read(shared)
                    }
                    Err(e) => {
                        if e.is_denied() {
                            o.options_denied += 1;
                        }
                        o.stats.options_failed += 1;
                        ProbeOutcome::Unknown(interner.get(e.to_string()))
                    }
                }
            }
        };
        if r.proto == Proto::Tcp && r.state == 10 {
            let nb = match (cached_nb, probed_nb) {
                (Some(nb), _) => Some(nb),
                (None, Some(nb)) => {
                    cache.nonblocking.insert(r.inode, (nb, now));
                    Some(nb)
                }
                // A socket first seen, whose options wait for the next sample: its flags too
                // (a live view's first screen reads no fdinfo of 15,000 listeners).
                (None, None) if matches!(&outcome, ProbeOutcome::Unknown(why) if *why == *reasons::NEW_SOCKET) => {
                    None
                }
                // Not probed now (cached options, no probe, no permission): the fdinfo.
                (None, None) => o
                    .holders
                    .of(r.inode)
                    .iter()
                    .filter(|(pid, _)| o.processes.contains_key(pid))
                    .find_map(|&(pid, fd)| {
                        let tid = table_tid(cache, pid);
                        let nb = procfs::read_fd_nonblocking(root, pid, tid, fd).ok()?;
                        cache.nonblocking.insert(r.inode, (nb, now));
                        Some(nb)
                    }),
            };
            if let Some(nb) = nb {
                o.nonblocking.insert(r.inode, nb);
            }
        }
        o.probes.insert(r.cookie, outcome);
    }
    cache.seen = live;
    if let Some(first) = other_errors.first() {
        o.warnings.push(format!(
            "reading options failed for {}, first: {first}",
            crate::text::count(other_errors.len(), "socket", "sockets")
        ));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Family;
    use std::os::fd::AsRawFd;

    /// Read ahead on two threads (40 processes, over PARALLEL_PROCESSES_FROM), each
    /// result stays with its pid, in order.
    #[test]
    fn processes_read_ahead_stay_with_their_pids() {
        /// The children, killed and reaped however the test ends.
        struct Children(Vec<std::process::Child>);
        impl Drop for Children {
            fn drop(&mut self) {
                for c in &mut self.0 {
                    let _ = c.kill();
                    let _ = c.wait();
                }
            }
        }
        let children = Children(
            (0..40)
                .map(|_| {
                    std::process::Command::new("sleep")
                        .arg("30")
                        .spawn()
                        .expect("sleep")
                })
                .collect(),
        );
        // spawn() returns once the child is inside execve, a little before the kernel
        // renames the task: wait until each child is named `sleep`.
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        for c in &children.0 {
            let comm = format!("/proc/{}/comm", c.id());
            while std::fs::read_to_string(&comm).map_or(true, |n| n.trim_end() != "sleep") {
                assert!(
                    std::time::Instant::now() < deadline,
                    "{comm} never became sleep"
                );
                std::thread::sleep(std::time::Duration::from_millis(1));
            }
        }
        let mut pids: Vec<(u32, Option<u32>)> = children.0.iter().map(|c| (c.id(), None)).collect();
        // Our own process among them: another name, so a swap would show.
        pids.insert(17, (std::process::id(), None));
        assert!(pids.len() >= PARALLEL_PROCESSES_FROM);
        let read = read_raw_processes(&ProcRoot::new("/proc"), &pids);
        drop(children);
        assert_eq!(read.len(), pids.len());
        for (i, (&(pid, _), r)) in pids.iter().zip(&read).enumerate() {
            let p = r.as_ref().expect("a live process");
            assert_eq!(p.pid, pid);
            assert_eq!(p.name == "sleep", i != 17, "{}", p.name);
        }
    }

    /// This process's listener as inet_diag would describe it.
    fn raw_listener(l: &std::net::TcpListener) -> RawSocket {
        let fd = l.as_raw_fd();
        let link = std::fs::read_link(format!("/proc/self/fd/{fd}")).expect("fd link");
        let inode = procfs::parse_socket_link(link.as_os_str().as_encoded_bytes()).expect("inode");
        let cookie = rustix::net::sockopt::socket_cookie(l).expect("SO_COOKIE");
        let addr = l.local_addr().expect("addr");
        RawSocket {
            proto: Proto::Tcp,
            family: Family::Ipv4,
            state: 10,
            local_addr: addr.ip(),
            local_port: addr.port(),
            remote_addr: "0.0.0.0".parse().expect("addr"),
            remote_port: 0,
            ifindex: 0,
            cookie,
            rqueue: 0,
            wqueue: 128,
            uid: rustix::process::geteuid().as_raw(),
            inode,
            v6only: None,
            sockopt: None,
            cgroup_id: None,
            dump_pos: None,
        }
    }

    fn read(o: &Owners, r: &RawSocket) -> Option<ProbedOptions> {
        match o.probes.get(&r.cookie) {
            Some(ProbeOutcome::Read(p)) => Some(ProbedOptions::clone(p)),
            _ => None,
        }
    }

    /// With `SeenTwice` a socket is not duplicated in the sample that first sees it, and is
    /// in the next one; with `FirstSeen` at once. Real sockets, real /proc, real pidfd_getfd.
    #[test]
    fn new_sockets_wait_one_sample_when_sampling() {
        let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        let r = raw_listener(&l);
        let root = crate::collect::linux::sources::LinuxSources::default();
        let names = UserNames::new();

        let mut cache = OwnerCache::default();
        let first = resolve(&[&r], &root, Some(ProbeWhen::SeenTwice), &names, &mut cache);
        let me = std::process::id();
        assert!(
            first.holders.of(r.inode).iter().any(|&(pid, _)| pid == me),
            "the holder is found at once"
        );
        assert_eq!(
            first.probes.get(&r.cookie),
            Some(&ProbeOutcome::Unknown(reasons::NEW_SOCKET.clone()))
        );
        assert_eq!(first.stats.options_probed, 0, "no duplicate was taken");
        let second = resolve(&[&r], &root, Some(ProbeWhen::SeenTwice), &names, &mut cache);
        assert_eq!(read(&second, &r).map(|p| p.reuseaddr), Some(Ok(true)));
        assert_eq!(second.stats.options_probed, 1);
        // O_NONBLOCK from the first sample's fdinfo, kept; the options do not carry it.
        assert_eq!(second.nonblocking.get(&r.inode), Some(&false));
        assert_eq!(read(&second, &r).map(|p| p.nonblocking), Some(None));

        // A socket that appears later waits its own sample, while the older one is cached.
        let l2 = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        let r2 = raw_listener(&l2);
        let third = resolve(
            &[&r, &r2],
            &root,
            Some(ProbeWhen::SeenTwice),
            &names,
            &mut cache,
        );
        assert!(read(&third, &r).is_some());
        assert_eq!(
            third.probes.get(&r2.cookie),
            Some(&ProbeOutcome::Unknown(reasons::NEW_SOCKET.clone()))
        );
        assert_eq!(
            third.stats.options_probed, 0,
            "the older one came from the cache"
        );

        // A socket that was gone for a sample is new again when it comes back (a cookie is
        // never reused, so this only happens to a socket that left the view).
        let _ = resolve(&[&r], &root, Some(ProbeWhen::SeenTwice), &names, &mut cache);
        let back = resolve(
            &[&r, &r2],
            &root,
            Some(ProbeWhen::SeenTwice),
            &names,
            &mut cache,
        );
        assert_eq!(
            back.probes.get(&r2.cookie),
            Some(&ProbeOutcome::Unknown(reasons::NEW_SOCKET.clone()))
        );

        let mut fresh = OwnerCache::default();
        let once = resolve(
            &[&r2],
            &root,
            Some(ProbeWhen::FirstSeen),
            &names,
            &mut fresh,
        );
        assert_eq!(read(&once, &r2).map(|p| p.reuseaddr), Some(Ok(true)));
        // Probed at once: O_NONBLOCK came with the probe (F_GETFL), into its own map; the
        // options kept (and compared by later checks) do not carry it.
        assert_eq!(once.nonblocking.get(&r2.inode), Some(&false));
        assert_eq!(read(&once, &r2).map(|p| p.nonblocking), Some(None));
        let off = resolve(&[&r2], &root, None, &names, &mut OwnerCache::default());
        assert_eq!(
            off.probes.get(&r2.cookie),
            Some(&ProbeOutcome::Unknown(reasons::NO_PROBE_FLAG.clone()))
        );
    }
}
