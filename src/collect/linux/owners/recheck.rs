//! The owners check of a quiet refresh: whether the holders, processes and options the last
//! [`super::resolve`] found still hold, at the cost of one `fstat` per process, instead of a
//! new resolve and join of every socket.
//!
//! What it looks at, and why that is enough:
//! - the processes: `/proc` lists the same pids as before the last fd walk, so none started
//!   or exited (a pid listed then and gone now, or new now, makes it fail);
//! - their fd tables: each has as many fds as the walk counted (`st_size` of the fd
//!   directory, Linux 6.2+). A socket opened, closed, passed or inherited changes a count;
//!   a close and an open between two refreshes that keep the count are caught by the
//!   namespace's dump (a cookie gone or new) or, for sockets the quiet dump does not cover,
//!   by the next whole read;
//! - what the caches trust for a while (a process's details, a listener's O_NONBLOCK, a
//!   socket's options) is read again when it is due, a few entries per refresh (each entry's
//!   age limit is spread over half its TTL, so entries made together do not expire
//!   together), and compared.
//!
//! Anything different, unreadable or racing answers `false`: the caller then resolves and
//! joins everything as a first refresh would.

use super::{NONBLOCK_TTL, OwnerCache, PROBE_TTL, PROCESS_TTL, ProbeWhen, table_tid};
use crate::collect::holders::FastSet;
use crate::collect::join::{ProbeOutcome, ProcessInfo};
use crate::collect::linux::procfs::{self, ProcRoot, parse_dec_u32};
use crate::collect::linux::sockopt::{Expected, Holder, Wanted};
use crate::collect::linux::sources::{ProbeOptions, Sources};
use crate::collect::raw::RawSocket;
use crate::collect::users::UserNames;
use rustix::fs::{CWD, Mode, OFlags, RawDir, openat};
use std::mem::MaybeUninit;
use std::time::Duration;

/// Whether an entry made at `at` is due at `now`: its age limit is between `ttl / 2` and
/// `ttl`, fixed for each `key` by a hash of it, so a thousand entries made in one refresh
/// are read again over the following half TTL rather than in one burst.
pub fn due(at: Duration, now: Duration, ttl: Duration, key: u64) -> bool {
    now >= due_at(at, ttl, key)
}

/// When an entry made at `at` becomes [`due`].
fn due_at(at: Duration, ttl: Duration, key: u64) -> Duration {
    let spread = (key.wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 54) as u32; // 0..1024
    at + ttl / 2 + ttl / 2 * spread / 1024
}

/// The earliest of the times given, with `None` for none.
#[derive(Default)]
struct Earliest(Option<Duration>);

impl Earliest {
    fn see(&mut self, t: Duration) {
        self.0 = Some(self.0.map_or(t, |e| e.min(t)));
    }

    /// Whether the entry made at `at` is [`due`] at `now`; sees when it is due next
    /// (a due one is read again now, so at its next turn from now).
    fn due(&mut self, at: Duration, now: Duration, ttl: Duration, key: u64) -> bool {
        let when = due_at(at, ttl, key);
        let is_due = now >= when;
        self.see(if is_due { due_at(now, ttl, key) } else { when });
        is_due
    }
}

/// The pids `/proc` lists now, sorted; `None` when it cannot be listed.
pub fn list_pids(root: &ProcRoot) -> Option<Vec<u32>> {
    let dir = openat(
        CWD,
        root.path(),
        OFlags::RDONLY | OFlags::DIRECTORY | OFlags::CLOEXEC,
        Mode::empty(),
    )
    .ok()?;
    let mut buf = [MaybeUninit::<u8>::uninit(); 8192];
    let mut entries = RawDir::new(&dir, &mut buf);
    let mut pids = Vec::new();
    while let Some(entry) = entries.next() {
        let entry = entry.ok()?;
        if let Some(pid) = parse_dec_u32(entry.file_name().to_bytes()) {
            pids.push(pid);
        }
    }
    pids.sort_unstable();
    Some(pids)
}

/// Whether this kernel gives an fd directory's size as its number of fds (Linux 6.2+;
/// before, 0): this process has fds open, so its own directory answers. Asked once.
fn counts_fds(root: &ProcRoot) -> bool {
    static COUNTS: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    *COUNTS.get_or_init(|| {
        open_fd_dir(root, std::process::id(), None)
            .and_then(|d| count_of(&d))
            .is_some_and(|n| n > 0)
    })
}

/// How many fd directories are kept open between checks (each saves a path walk per
/// refresh); the rest are opened each time, well inside the usual limit of 1024 fds.
const MAX_KEPT_DIRS: usize = 512;

/// An fd directory, opened.
fn open_fd_dir(root: &ProcRoot, pid: u32, tid: Option<u32>) -> Option<rustix::fd::OwnedFd> {
    openat(
        CWD,
        root.task_path(pid, tid, "fd"),
        OFlags::RDONLY | OFlags::DIRECTORY | OFlags::CLOEXEC,
        Mode::empty(),
    )
    .ok()
}

/// The number of open fds of an fd directory (its `st_size`, Linux 6.2+).
fn count_of(dir: &rustix::fd::OwnedFd) -> Option<u64> {
    u64::try_from(rustix::fs::fstat(dir).ok()?.st_size).ok()
}

/// The number of open fds of one table; `None` when it cannot be read (the process exited,
/// or is not ours to read).
#[cfg(test)]
fn fd_count(root: &ProcRoot, pid: u32, tid: Option<u32>) -> Option<u64> {
    count_of(&open_fd_dir(root, pid, tid)?)
}

/// One table's socket fds as (fd, inode), sorted by fd; `None` when it cannot be read.
fn socket_fds(dir: &rustix::fd::OwnedFd) -> Option<Vec<(u32, u64)>> {
    let mut buf = vec![MaybeUninit::<u8>::uninit(); 16 * 1024];
    let mut entries = RawDir::new(dir, &mut buf);
    let mut link = [0u8; 64];
    let mut out = Vec::new();
    while let Some(entry) = entries.next() {
        let entry = entry.ok()?;
        let Some(fd) = parse_dec_u32(entry.file_name().to_bytes()) else {
            continue;
        };
        // A fd closed since the listing is simply not there.
        if let Ok(len) = rustix::fs::readlinkat_raw(dir, entry.file_name(), &mut link)
            && let Some(inode) = link.get(..len).and_then(procfs::parse_socket_link)
        {
            out.push((fd, inode));
        }
    }
    out.sort_unstable();
    Some(out)
}

/// Whether the last walk's fd tables still give every shown socket the same holders.
/// Tables whose count changed are listed again, and new processes walked: what they hold of
/// other sockets (a client connection, a file) does not matter, and their entries are
/// brought up to date. A process gone that held a shown socket, or a shown socket gained
/// or lost by a table, answers `false`.
fn tables_hold(root: &ProcRoot, cache: &mut OwnerCache) -> bool {
    if !counts_fds(root) {
        return false;
    }
    let Some(pids) = list_pids(root) else {
        return false;
    };
    let OwnerCache {
        fds,
        fd_dirs,
        shown,
        listed,
        ..
    } = cache;
    let holds_shown = |sockets: &[(u32, u64)]| -> Vec<(u32, u64)> {
        sockets
            .iter()
            .copied()
            .filter(|(_, inode)| shown.contains(inode))
            .collect()
    };
    // Gone: only those that held nothing shown may go quietly.
    for (pid, table) in fds.iter() {
        if pids.binary_search(pid).is_err() && !holds_shown(&table.sockets).is_empty() {
            return false;
        }
    }
    fd_dirs.retain(|pid, _| pids.binary_search(pid).is_ok());
    let mut updated: Vec<(u32, super::PidFds)> = Vec::new();
    for &pid in &pids {
        let (tid, before) = match fds.get(&pid) {
            Some(t) => (t.tid, Some(t)),
            // Listed last time but not walked: not ours to read, or a kernel thread's
            // empty table; either way it held nothing then, and its count says nothing.
            None if listed.binary_search(&pid).is_ok() => continue,
            None => (None, None),
        };
        // The directory kept open since the last check, when it still answers (a pid
        // reused by a new process answers for the old one no more): one fstat.
        let kept = fd_dirs.get(&pid).and_then(count_of);
        let nfds = match kept {
            Some(n) => n,
            None => {
                let Some(d) = open_fd_dir(root, pid, tid) else {
                    // Exited since the listing (a new one) or unreadable: what it held is
                    // unknown only if it held something shown before.
                    fd_dirs.remove(&pid);
                    match before {
                        Some(t) if !holds_shown(&t.sockets).is_empty() => return false,
                        _ => continue,
                    }
                };
                let Some(n) = count_of(&d) else {
                    return false;
                };
                if fd_dirs.len() < MAX_KEPT_DIRS || fd_dirs.contains_key(&pid) {
                    fd_dirs.insert(pid, d);
                }
                n
            }
        };
        if before.is_some_and(|t| t.nfds == nfds) {
            continue;
        }
        // Listed through a fresh handle: a kept one's directory offset is past its end (and
        // it may stand for a process gone, whose pid was reused): it is opened again next time.
        fd_dirs.remove(&pid);
        let Some(dir) = open_fd_dir(root, pid, tid) else {
            return false;
        };
        let Some(sockets) = socket_fds(&dir) else {
            return false;
        };
        let was = before.map(|t| holds_shown(&t.sockets)).unwrap_or_default();
        if holds_shown(&sockets) != was {
            return false;
        }
        updated.push((pid, super::PidFds { nfds, sockets, tid }));
    }
    fds.retain(|pid, _| pids.binary_search(pid).is_ok());
    fds.extend(updated);
    *listed = pids;
    true
}

/// Whether the last resolve still holds for `shown` (the sockets the refresh shows, which
/// the caller found unchanged), reading again what is due. `false` when anything differs.
pub fn still_holds<'a>(
    shown: &dyn Fn() -> Vec<&'a RawSocket>,
    src: &dyn Sources,
    probe: Option<ProbeWhen>,
    names: &UserNames,
    cache: &mut OwnerCache,
) -> bool {
    if cache.pending_probes || cache.listed.is_empty() {
        return false;
    }
    let root = src.proc_root();
    if !tables_hold(root, cache) {
        return false;
    }
    let now = src.monotonic();
    if !processes_hold(src, names, now, cache) {
        return false;
    }
    // Nothing in the two large maps is due before `next_due`.
    if cache.next_due.is_some_and(|t| now < t) {
        return true;
    }
    let mut next = Earliest::default();
    let held = nonblocking_holds(root, now, cache, &mut next)
        && (probe.is_none() || options_hold(shown, src, now, cache, &mut next));
    // An empty pair of maps has nothing to be due: checked again in a TTL at the latest.
    cache.next_due = held.then(|| next.0.unwrap_or(now + NONBLOCK_TTL.min(PROBE_TTL) / 2));
    held
}

/// The due processes' details, read again: unchanged, or `false`.
fn processes_hold(
    src: &dyn Sources,
    names: &UserNames,
    now: Duration,
    cache: &mut OwnerCache,
) -> bool {
    let due_pids: Vec<u32> = cache
        .processes
        .iter()
        .filter(|(pid, (_, at))| due(*at, now, PROCESS_TTL, u64::from(**pid)))
        .map(|(pid, _)| *pid)
        .collect();
    for pid in due_pids {
        let Ok(info) = super::read_process_info(src, names, pid, cache) else {
            return false;
        };
        match cache.processes.get_mut(&pid) {
            // The thread count moves with a server's pool: it is shown as of the last whole
            // refresh rather than making every refresh of a busy host whole.
            Some((old, at))
                if *old
                    == ProcessInfo {
                        threads: old.threads,
                        ..info
                    } =>
            {
                *at = now
            }
            _ => return false,
        }
    }
    true
}

/// The due listeners' O_NONBLOCK, read again through the holder it was read from.
/// `next` sees when each entry is due next.
fn nonblocking_holds(
    root: &ProcRoot,
    now: Duration,
    cache: &mut OwnerCache,
    next: &mut Earliest,
) -> bool {
    let holders = &*cache.holders;
    let fds = &cache.fds;
    for (inode, (nb, at)) in cache.nonblocking.iter_mut() {
        if !next.due(*at, now, NONBLOCK_TTL, *inode) {
            continue;
        }
        let read = holders.of(*inode).iter().find_map(|&(pid, fd)| {
            let tid = fds.get(&pid).and_then(|p| p.tid);
            procfs::read_fd_nonblocking(root, pid, tid, fd).ok()
        });
        match read {
            Some(v) if v == *nb => *at = now,
            _ => return false,
        }
    }
    true
}

/// The due sockets' options, probed again through their holders.
/// `next` sees when each entry is due next.
fn options_hold<'a>(
    shown: &dyn Fn() -> Vec<&'a RawSocket>,
    src: &dyn Sources,
    now: Duration,
    cache: &mut OwnerCache,
    next: &mut Earliest,
) -> bool {
    let due_cookies: FastSet<u64> = cache
        .probes
        .iter()
        .filter(|(cookie, (_, at))| next.due(*at, now, PROBE_TTL, **cookie))
        .map(|(cookie, _)| *cookie)
        .collect();
    if due_cookies.is_empty() {
        return true;
    }
    // Kept from one refresh to the next: its pidfds and fd directories, opened once per
    // process rather than once per refresh for the few sockets due each time; at most
    // KEPT_PROBER_PROCESSES processes' worth (two fds each), then made anew.
    let (mut prober, mut pids) = cache
        .recheck_prober
        .take()
        .unwrap_or_else(|| (src.prober(), FastSet::default()));
    let held = options_of_due_hold(shown, &due_cookies, &mut *prober, &mut pids, now, cache);
    if pids.len() <= KEPT_PROBER_PROCESSES {
        cache.recheck_prober = Some((prober, pids));
    }
    held
}

/// How many processes the kept prober may hold a pidfd and an fd directory of.
const KEPT_PROBER_PROCESSES: usize = 256;

/// The options of the sockets `due`, read again through `prober` and compared.
fn options_of_due_hold<'a>(
    shown: &dyn Fn() -> Vec<&'a RawSocket>,
    due: &FastSet<u64>,
    prober: &mut dyn ProbeOptions,
    pids: &mut FastSet<u32>,
    now: Duration,
    cache: &mut OwnerCache,
) -> bool {
    for r in shown().into_iter().filter(|r| due.contains(&r.cookie)) {
        let holders = cache.holders.of(r.inode).to_vec();
        let mut read = None;
        for (pid, fd) in holders {
            let holder = Holder {
                pid,
                tid: table_tid(cache, pid),
                fd,
            };
            let expected = Expected {
                inode: r.inode,
                cookie: r.cookie,
            };
            pids.insert(pid);
            if let Ok(p) = prober.probe(holder, expected, Wanted::for_socket(r)) {
                read = Some(ProbeOutcome::Read(std::sync::Arc::new(p)));
                break;
            }
        }
        match (read, cache.probes.get_mut(&r.cookie)) {
            (Some(new), Some((old, at))) if *old == new => *at = now,
            _ => return false,
        }
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn due_spreads_over_the_second_half_of_the_ttl() {
        let ttl = Duration::from_secs(60);
        let at = Duration::from_secs(100);
        let mut first_due = Vec::new();
        for key in 0..2000u64 {
            assert!(!due(at, at + Duration::from_secs(29), ttl, key));
            assert!(due(at, at + ttl, ttl, key));
            let s = (30..=60)
                .find(|&s| due(at, at + Duration::from_secs(s), ttl, key))
                .unwrap_or(60);
            first_due.push(s);
        }
        first_due.sort_unstable();
        first_due.dedup();
        // Spread over the window, not all at once.
        assert!(first_due.len() > 20, "{first_due:?}");
    }

    /// A quiet check skips the large maps until the earliest `due_at` it saw: that is
    /// safe only if no entry is due before its `due_at`, and each is at it.
    #[test]
    fn an_entry_is_due_exactly_from_its_due_at_and_earliest_keeps_the_first() {
        let ttl = Duration::from_secs(300);
        let mut earliest = Earliest::default();
        let mut first = None::<Duration>;
        for key in 0..500u64 {
            let at = Duration::from_millis(1000 + key * 7);
            let when = due_at(at, ttl, key);
            assert!(!due(at, when - Duration::from_nanos(1), ttl, key));
            assert!(due(at, when, ttl, key));
            earliest.see(when);
            first = Some(first.map_or(when, |f| f.min(when)));
        }
        assert_eq!(earliest.0, first);
        assert_eq!(Earliest::default().0, None);
        // Through `Earliest::due`: a due entry counts from now, one not due from its time.
        let (at, key) = (Duration::from_secs(10), 3);
        let when = due_at(at, ttl, key);
        let mut next = Earliest::default();
        assert!(!next.due(at, when - Duration::from_secs(1), ttl, key));
        assert_eq!(next.0, Some(when));
        let mut next = Earliest::default();
        assert!(next.due(at, when, ttl, key));
        assert_eq!(next.0, Some(due_at(when, ttl, key)));
    }

    /// A child's fd count is its table's size, and follows a file it opens.
    #[test]
    fn a_child_is_listed_and_its_fds_counted() {
        use std::io::{BufRead as _, Write as _};
        let root = ProcRoot::new("/proc");
        let mut child = std::process::Command::new("python3")
            .args([
                "-c",
                "import sys\nprint('ready',flush=True)\nsys.stdin.readline()\nf=open('/dev/null')\nprint('ok',flush=True)\nsys.stdin.readline()",
            ])
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .spawn()
            .expect("python3");
        let pid = child.id();
        let mut out = std::io::BufReader::new(child.stdout.take().expect("stdout"));
        let mut line = String::new();
        // Past the interpreter's start, which opens and closes files of its own.
        out.read_line(&mut line).expect("read");
        assert_eq!(line.trim(), "ready");
        let pids = list_pids(&root).expect("/proc lists");
        assert!(pids.binary_search(&pid).is_ok());
        let listed = || {
            std::fs::read_dir(format!("/proc/{pid}/fd"))
                .expect("fd")
                .count() as u64
        };
        let before = fd_count(&root, pid, None).expect("count");
        assert_eq!(before, listed());
        let mut stdin = child.stdin.take().expect("stdin");
        stdin.write_all(b"go\n").expect("write");
        line.clear();
        out.read_line(&mut line).expect("read");
        assert_eq!(line.trim(), "ok");
        assert_eq!(fd_count(&root, pid, None), Some(before + 1));
        drop(stdin);
        child.wait().expect("wait");
        assert_eq!(fd_count(&root, pid, None), None, "gone");
    }
}
