//! The fd walk: every process's fd table, and the fds that are sockets.

use super::parse::{parse_dec_u32, parse_fdinfo_flags, parse_socket_link, parse_stat_state};
use super::{
    DIRENT_BUF, LINK_BUF, ProcError, ProcRoot, is_denied, is_vanished, open_dir, read_file,
};
use crate::collect::raw::RawFd;
use crate::collect::threads;
use rustix::fd::{AsFd, BorrowedFd, OwnedFd};
use rustix::fs::{CWD, Mode, OFlags, RawDir, openat, readlinkat_raw};
use rustix::io::Errno;
use std::collections::HashMap;
use std::ffi::CStr;
use std::io;
use std::mem::MaybeUninit;
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};

/// Result of one walk over every `/proc/PID/fd`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FdScan {
    /// Every fd that is a socket, in walk order.
    pub fds: Vec<RawFd>,
    /// Numeric `/proc/PID` entries visited (whatever became of them: read, vanished,
    /// unreadable or errored).
    pub processes_scanned: u32,
    /// ENOENT/ESRCH on the pid's `fd` directory (opening or listing it): the process exited.
    pub processes_vanished: u32,
    /// ENOENT on `readlink(fd/N)`: the fd was closed between listing and reading.
    pub fds_vanished: u32,
    /// EACCES/EPERM on the `fd` directory (or its links): another user's process and we are
    /// not privileged, so its holders are missing. Each pid at most once.
    pub unreadable: Vec<u32>,
    /// Anything else, with the pid and path.
    pub other_errors: Vec<String>,
    /// Processes taken from the previous walk because their fd count did not change.
    pub processes_reused: u32,
}

/// Walks every process's fd table (`/proc/PID/fd`, proc(5)) and keeps the fds whose link
/// reads `socket:[INODE]`. Threads share the leader's table (pthreads clone with
/// CLONE_FILES), so `/proc/PID/task/*` is walked only when the leader has none left: its main
/// thread called `pthread_exit` while others live, which makes it a zombie whose files the
/// kernel released (`exit_files()`), so `/proc/PID/fd` lists nothing. The table is then
/// read through a live thread and its sockets are still the process's (PID), with
/// [`PidFds::tid`] naming the thread. Threads made without CLONE_FILES are not walked: they
/// are rare, and walking every thread of every process would multiply the hot path.
///
/// The hot path: one `openat` and a few `getdents64` per process, one `readlinkat` per fd
/// relative to the fd directory, with reused buffers and no allocation per fd other than the
/// push of a socket [`RawFd`]. An empty table costs one `fstatat` more (kernel threads have
/// none). Never panics; processes and fds vanishing mid-walk are counted.
pub fn scan_socket_fds(root: &ProcRoot) -> FdScan {
    scan_socket_fds_reusing(root, &HashMap::new(), &mut HashMap::new())
}

/// What one process's fd table held at the last walk: its fd count and its socket fds.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PidFds {
    /// `st_size` of the fd directory walked: the number of open fds (Linux 6.2+; 0 on older
    /// kernels, which disables reuse).
    pub nfds: u64,
    /// (fd, socket inode).
    pub sockets: Vec<(u32, u64)>,
    /// The thread whose table this is (`/proc/PID/task/TID/fd`) when the main thread has
    /// exited; `None` for the process's own `/proc/PID/fd`. The fdinfo and the options of
    /// these sockets are read through that thread too.
    pub tid: Option<u32>,
}

/// The fd walk for a refresh: a process whose fd count is unchanged since `prev` is taken
/// from `prev` without listing its fds (one `fstat` instead of a `readlink` per fd); every
/// other process is walked. `next` receives this walk's table for the following refresh.
/// The caller drops from `prev` the pids whose cached sockets no longer exist, so a closed
/// and reopened fd (same count, new socket) is walked again.
///
/// On a host with many processes and two or more CPUs, two threads share the processes
/// (the walk is kernel time: `/proc` lookups and readlinks); the result is the same as one
/// thread's, in the order of the `/proc` listing.
pub fn scan_socket_fds_reusing(
    root: &ProcRoot,
    prev: &HashMap<u32, PidFds>,
    next: &mut HashMap<u32, PidFds>,
) -> FdScan {
    scan_socket_fds_seeing(root, prev, next, [None, None])
}

/// Told of each socket fd the walk lists, right after its link was read: for a reader that
/// must act on the fd while that read is fresh (the options probe duplicates it, and that
/// read is the check it needs before, see `sockopt`'s module docs). Not told of the
/// sockets of a table taken from the previous walk.
pub trait SocketFdSeen: Send {
    fn seen(&mut self, pid: u32, tid: Option<u32>, fd: u32, inode: u64);
}

/// As [`scan_socket_fds_reusing`], telling `seers` of every socket fd listed: each thread of
/// the walk tells its own (a walk with one thread, the first there is).
pub fn scan_socket_fds_seeing(
    root: &ProcRoot,
    prev: &HashMap<u32, PidFds>,
    next: &mut HashMap<u32, PidFds>,
    seers: [Option<&mut (dyn SocketFdSeen + '_)>; 2],
) -> FdScan {
    let threads = if threads::two_cores() { 2 } else { 1 };
    scan_with(root, prev, next, threads, seers)
}

/// The walk with one thread, or two when asked and there are enough processes.
fn scan_with(
    root: &ProcRoot,
    prev: &HashMap<u32, PidFds>,
    next: &mut HashMap<u32, PidFds>,
    threads: usize,
    seers: [Option<&mut (dyn SocketFdSeen + '_)>; 2],
) -> FdScan {
    let mut scan = FdScan::default();
    let root_fd = match open_dir(CWD, root.path()) {
        Ok(fd) => fd,
        Err(e) => {
            scan.other_errors
                .push(format!("{}: cannot open: {e}", root.path().display()));
            return scan;
        }
    };
    let pids = list_pids(root, root_fd.as_fd(), &mut scan);
    let [first_seer, second_seer] = seers;
    let walk = Walk {
        root,
        root_fd: root_fd.as_fd(),
        prev,
    };
    // Our own table is walked first, before any seer runs: a seer (the options probe)
    // duplicates the fd it is told of into this process for a moment, and a walk of our
    // table after that (or beside it, on the other thread) would list the duplicate as
    // one of our sockets. Its result keeps its place in the listing's order.
    let mut fd_buf: Vec<u8> = Vec::with_capacity(DIRENT_BUF);
    let mut own: Option<(usize, FdScan)> = None;
    let me = own_pid(root_fd.as_fd());
    if let Some(i) = me.and_then(|me| pids.iter().position(|p| p.pid == me)) {
        let mut part = FdScan::default();
        if let Some(p) = pids.get(i) {
            walk.one(p, next, None, &mut fd_buf, &mut part);
        }
        own = Some((i, part));
    }
    if threads < 2 || pids.len() < PARALLEL_FROM {
        let mut seer = first_seer.or(second_seer);
        for (i, p) in pids.iter().enumerate() {
            if own.as_ref().is_some_and(|&(at, _)| at == i) {
                if let Some((_, part)) = own.take() {
                    scan.absorb(part);
                }
                continue;
            }
            walk.one(p, next, seer.as_deref_mut(), &mut fd_buf, &mut scan);
        }
        return scan;
    }
    let own_index = own.as_ref().map(|&(i, _)| i);
    let at = AtomicUsize::new(0);
    let work = |mut seer: Option<&mut (dyn SocketFdSeen + '_)>| {
        let mut fd_buf: Vec<u8> = Vec::with_capacity(DIRENT_BUF);
        let mut parts: Vec<(usize, FdScan)> = Vec::new();
        let mut tables = HashMap::new();
        loop {
            let i = at.fetch_add(1, Ordering::Relaxed);
            if Some(i) == own_index {
                continue;
            }
            let Some(p) = pids.get(i) else { break };
            let mut part = FdScan::default();
            walk.one(p, &mut tables, seer.as_deref_mut(), &mut fd_buf, &mut part);
            parts.push((i, part));
        }
        (parts, tables)
    };
    // If no thread could be made, this one takes every process.
    let ((more, more_tables), (mut parts, mut tables)) = threads::beside(
        "bindscope-fds",
        || work(second_seer),
        || work(first_seer),
        Default::default,
    );
    parts.extend(more);
    parts.extend(own);
    tables.extend(more_tables);
    next.extend(tables);
    parts.sort_unstable_by_key(|&(i, _)| i);
    for (_, part) in parts {
        scan.absorb(part);
    }
    scan
}

/// What every process's walk shares: the `/proc` walked and the previous walk's tables.
#[derive(Clone, Copy)]
struct Walk<'a> {
    root: &'a ProcRoot,
    root_fd: BorrowedFd<'a>,
    prev: &'a HashMap<u32, PidFds>,
}

impl Walk<'_> {
    /// Walks `p`'s fd table into `scan`, its table into `next`, telling `seer` of its
    /// socket fds; `fd_buf` is the reused listing buffer.
    fn one(
        &self,
        p: &PidEntry,
        next: &mut HashMap<u32, PidFds>,
        seer: Option<&mut (dyn SocketFdSeen + '_)>,
        fd_buf: &mut Vec<u8>,
        scan: &mut FdScan,
    ) {
        let reuse = Reuse {
            prev: self.prev.get(&p.pid),
            next,
            seer,
        };
        let buf = fd_buf.spare_capacity_mut();
        scan_pid(self.root, self.root_fd, p.pid, p.name(), buf, scan, reuse);
    }
}

/// This process's pid as the walked `/proc` knows it (its `self` link), so a `/proc` of
/// another pid namespace or a fixture tree, where `self` names no one or someone else,
/// is handled alike; `None` when it cannot be read.
fn own_pid(root_fd: BorrowedFd<'_>) -> Option<u32> {
    let mut buf = [MaybeUninit::<u8>::uninit(); 16];
    let (link, _) = readlinkat_raw(root_fd, c"self", &mut buf).ok()?;
    parse_dec_u32(link)
}

/// From how many processes the walk is shared by two threads: below, a thread costs more
/// than it saves.
const PARALLEL_FROM: usize = 64;

impl FdScan {
    /// Appends the walk of later processes.
    fn absorb(&mut self, part: FdScan) {
        self.fds.extend(part.fds);
        self.processes_scanned += part.processes_scanned;
        self.processes_vanished += part.processes_vanished;
        self.fds_vanished += part.fds_vanished;
        self.unreadable.extend(part.unreadable);
        self.other_errors.extend(part.other_errors);
        self.processes_reused += part.processes_reused;
    }
}

/// A `/proc/PID` entry as listed: the pid and its name (at most 10 decimal digits).
#[derive(Debug, Clone, Copy)]
struct PidEntry {
    pid: u32,
    len: u8,
    name: [u8; 10],
}

impl PidEntry {
    fn name(&self) -> &[u8] {
        self.name.get(..usize::from(self.len)).unwrap_or_default()
    }
}

/// Every numeric entry of `/proc`, counted in `scan.processes_scanned`.
fn list_pids(root: &ProcRoot, root_fd: BorrowedFd<'_>, scan: &mut FdScan) -> Vec<PidEntry> {
    let mut root_buf: Vec<u8> = Vec::with_capacity(DIRENT_BUF);
    let mut pids = Vec::new();
    let mut entries = RawDir::new(root_fd, root_buf.spare_capacity_mut());
    while let Some(entry) = entries.next() {
        let entry = match entry {
            Ok(entry) => entry,
            Err(e) => {
                // RawDir would retry the failing getdents forever; stop here.
                scan.other_errors
                    .push(format!("{}: listing failed: {e}", root.path().display()));
                break;
            }
        };
        let name = entry.file_name().to_bytes();
        let Some(pid) = parse_dec_u32(name) else {
            continue; // self, net, sys, …
        };
        let mut p = PidEntry {
            pid,
            len: 0,
            name: [0; 10],
        };
        let Some(dst) = p.name.get_mut(..name.len()) else {
            continue; // no pid is longer than 10 digits
        };
        dst.copy_from_slice(name);
        p.len = name.len() as u8;
        scan.processes_scanned += 1;
        pids.push(p);
    }
    pids
}

/// `a/b/c\0` in `buf`, for `*at` calls without a PathBuf per process; `None` when it does
/// not fit (no pid or tid name /proc produces is that long).
fn path_in<'a>(buf: &'a mut [u8; 48], parts: &[&[u8]]) -> Option<&'a CStr> {
    let mut len = 0;
    for (i, part) in parts.iter().enumerate() {
        let sep = usize::from(i > 0);
        let end = len + sep + part.len();
        if end >= buf.len() {
            return None;
        }
        if sep == 1 {
            buf[len] = b'/';
        }
        buf[len + sep..end].copy_from_slice(part);
        len = end;
    }
    buf[len] = 0;
    CStr::from_bytes_with_nul(&buf[..=len]).ok()
}

/// One process's entry of the last walk, the table this walk fills, and who is told of
/// the sockets listed.
struct Reuse<'a, 's> {
    prev: Option<&'a PidFds>,
    next: &'a mut HashMap<u32, PidFds>,
    seer: Option<&'a mut (dyn SocketFdSeen + 's)>,
}

/// What became of one fd directory.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Walked {
    /// Taken from the last walk (same count).
    Reused,
    /// Listed: this many fds (sockets or not).
    Listed(usize),
    /// Stopped on an error, which is counted in the scan.
    Failed,
}

/// Walk one process. `name` is the pid's directory name as listed (decimal digits).
fn scan_pid(
    root: &ProcRoot,
    root_fd: BorrowedFd<'_>,
    pid: u32,
    name: &[u8],
    dirent_buf: &mut [MaybeUninit<u8>],
    scan: &mut FdScan,
    reuse: Reuse<'_, '_>,
) {
    let Reuse {
        prev,
        next,
        mut seer,
    } = reuse;
    let mut path = [0u8; 48];
    let Some(fd_dir_name) = path_in(&mut path, &[name, b"fd"]) else {
        return;
    };
    let table = Table { pid, tid: None };
    let fd_dir = match open_fd_dir(root, root_fd, fd_dir_name, table, scan) {
        Ok(fd) => fd,
        Err(NotOpened::Vanished) => {
            scan.processes_vanished += 1;
            return;
        }
        Err(NotOpened::Recorded) => return,
    };
    let walked = walk_table(
        root,
        fd_dir,
        table,
        dirent_buf,
        scan,
        Reuse {
            prev,
            next,
            seer: seer.as_deref_mut(),
        },
    );
    // Only an empty table is looked at twice: every process that holds a socket has fds.
    if walked == Walked::Listed(0) && leader_is_zombie(root_fd, name) {
        scan_threads(
            root,
            root_fd,
            pid,
            name,
            dirent_buf,
            scan,
            Reuse { prev, next, seer },
        );
    }
}

/// Why an fd directory was not opened.
enum NotOpened {
    /// The process or thread is gone: the caller decides what that means.
    Vanished,
    /// Refused or failed, and counted in the scan already.
    Recorded,
}

/// Opens `table`'s fd directory (`name` relative to `at`). A denial counts the process as
/// unreadable and another error is recorded with its path; a vanished one is the caller's
/// (a process counts as vanished, a thread is skipped for the next).
fn open_fd_dir(
    root: &ProcRoot,
    at: BorrowedFd<'_>,
    name: &CStr,
    table: Table,
    scan: &mut FdScan,
) -> Result<OwnedFd, NotOpened> {
    match open_dir(at, name) {
        Ok(fd) => Ok(fd),
        Err(e) if is_vanished(e) => Err(NotOpened::Vanished),
        Err(e) if is_denied(e) => {
            scan.unreadable.push(table.pid);
            Err(NotOpened::Recorded)
        }
        Err(e) => {
            scan.other_errors.push(format!(
                "pid {}: {}: open: {}",
                table.pid,
                table.path(root).display(),
                io::Error::from(e)
            ));
            Err(NotOpened::Recorded)
        }
    }
}

/// Whose fd table a directory is: the process's, or one of its threads'.
#[derive(Debug, Clone, Copy)]
struct Table {
    pid: u32,
    tid: Option<u32>,
}

impl Table {
    fn path(&self, root: &ProcRoot) -> PathBuf {
        root.task_path(self.pid, self.tid, "fd")
    }
}

/// Reads one open fd directory into `scan` (sockets credited to `table.pid`) and records
/// it in `next`, or takes it from `prev` when its fd count is unchanged.
fn walk_table(
    root: &ProcRoot,
    fd_dir: OwnedFd,
    table: Table,
    dirent_buf: &mut [MaybeUninit<u8>],
    scan: &mut FdScan,
    reuse: Reuse<'_, '_>,
) -> Walked {
    let Reuse {
        prev,
        next,
        mut seer,
    } = reuse;
    let Table { pid, tid } = table;
    let other = |what: &str, e: Errno| {
        format!(
            "pid {pid}: {}: {what}: {}",
            table.path(root).display(),
            io::Error::from(e)
        )
    };

    // Since Linux 6.2 the size of /proc/PID/fd is the number of open fds: unchanged means
    // the table is very likely unchanged, and the caller checks the sockets still exist.
    // A count is only compared with one taken from the same directory (process or thread).
    let nfds = rustix::fs::fstat(&fd_dir)
        .map(|st| st.st_size.max(0) as u64)
        .unwrap_or(0);
    if let Some(p) = prev.filter(|p| nfds > 0 && p.nfds == nfds && p.tid == tid) {
        scan.fds.extend(
            p.sockets
                .iter()
                .map(|&(fd, inode)| RawFd { pid, fd, inode }),
        );
        scan.processes_reused += 1;
        next.insert(pid, p.clone());
        return Walked::Reused;
    }
    let first = scan.fds.len();
    let mut listed = 0usize;
    let mut link = [0u8; LINK_BUF];
    let mut readlink_error_reported = false;
    let mut entries = RawDir::new(fd_dir.as_fd(), dirent_buf);
    while let Some(entry) = entries.next() {
        let entry = match entry {
            Ok(entry) => entry,
            // The task exited after we opened the directory (proc_readfd_common: ENOENT).
            Err(e) if is_vanished(e) => {
                scan.processes_vanished += 1;
                return Walked::Failed;
            }
            Err(e) if is_denied(e) => {
                scan.unreadable.push(pid);
                return Walked::Failed;
            }
            Err(e) => {
                scan.other_errors.push(other("list", e));
                return Walked::Failed;
            }
        };
        let Some(fd) = parse_dec_u32(entry.file_name().to_bytes()) else {
            continue; // "." and ".."
        };
        listed += 1;
        match readlinkat_raw(fd_dir.as_fd(), entry.file_name(), &mut link) {
            Ok(len) => {
                if let Some(inode) = link.get(..len).and_then(parse_socket_link) {
                    scan.fds.push(RawFd { pid, fd, inode });
                    if let Some(seer) = seer.as_deref_mut() {
                        seer.seen(pid, tid, fd, inode);
                    }
                }
            }
            Err(e) if is_vanished(e) => scan.fds_vanished += 1,
            Err(e) if is_denied(e) => {
                // proc_fd_access_allowed() failed per link: same meaning as a closed dir.
                scan.unreadable.push(pid);
                return Walked::Failed;
            }
            Err(e) => {
                // Keep going (other fds may still be sockets) but report once per process so
                // a systematic failure cannot produce one string per fd.
                if !readlink_error_reported {
                    readlink_error_reported = true;
                    scan.other_errors.push(other(&format!("readlink {fd}"), e));
                }
            }
        }
    }
    let sockets = scan
        .fds
        .get(first..)
        .unwrap_or(&[])
        .iter()
        .map(|f| (f.fd, f.inode))
        .collect();
    next.insert(pid, PidFds { nfds, sockets, tid });
    Walked::Listed(listed)
}

/// Whether the process's main thread has exited while other threads live, for a process
/// whose `/proc/PID/fd` listed nothing. `/proc/PID/task` counts the threads in its link
/// count (2 + threads, `proc_task_getattr`), so the usual empty tables (kernel threads,
/// single-threaded processes) cost one `fstatat` and no read. A link count below 2 is a
/// filesystem that does not count (a fixture tree on btrfs): then the state decides alone.
fn leader_is_zombie(root_fd: BorrowedFd<'_>, name: &[u8]) -> bool {
    let mut path = [0u8; 48];
    let Some(task) = path_in(&mut path, &[name, b"task"]) else {
        return false;
    };
    match rustix::fs::statat(root_fd, task, rustix::fs::AtFlags::empty()) {
        Ok(st) if st.st_nlink == 2 || st.st_nlink == 3 => return false,
        Ok(_) => {}
        Err(_) => return false,
    }
    let Some(stat) = path_in(&mut path, &[name, b"stat"]) else {
        return false;
    };
    let Ok(fd) = openat(
        root_fd,
        stat,
        OFlags::RDONLY | OFlags::CLOEXEC,
        Mode::empty(),
    ) else {
        return false;
    };
    // The state follows the command name, which is at most 64 bytes even for kernel
    // threads (proc_task_name): the start of the file is enough.
    let mut buf = [0u8; 256];
    let Ok(len) = rustix::io::read(&fd, &mut buf) else {
        return false;
    };
    buf.get(..len).and_then(parse_stat_state) == Some(b'Z')
}

/// The fd table of a process whose main thread has exited, read through the first other
/// thread that still has one (the one used last time first, so its count can be compared).
/// A thread that is exiting too has an empty table: the next one is tried.
fn scan_threads(
    root: &ProcRoot,
    root_fd: BorrowedFd<'_>,
    pid: u32,
    name: &[u8],
    dirent_buf: &mut [MaybeUninit<u8>],
    scan: &mut FdScan,
    reuse: Reuse<'_, '_>,
) {
    let Reuse {
        prev,
        next,
        mut seer,
    } = reuse;
    let mut path = [0u8; 48];
    let Some(task_name) = path_in(&mut path, &[name, b"task"]) else {
        return;
    };
    // The process may exit meanwhile: its empty table, recorded already, stands.
    let Ok(task_dir) = open_dir(root_fd, task_name) else {
        return;
    };
    // Rare (a zombie leader), so a small vector is fine here. Listed first, so the buffer
    // is free again for the threads' fd directories.
    let mut tids: Vec<u32> = Vec::new();
    {
        let mut entries = RawDir::new(task_dir.as_fd(), &mut *dirent_buf);
        while let Some(Ok(entry)) = entries.next() {
            if let Some(tid) = parse_dec_u32(entry.file_name().to_bytes()).filter(|&t| t != pid) {
                tids.push(tid);
            }
        }
    }
    if let Some(i) = prev
        .and_then(|p| p.tid)
        .and_then(|last| tids.iter().position(|&t| t == last))
    {
        tids.swap(0, i);
    }
    for tid in tids {
        let tid_name = tid.to_string();
        let Some(fd_name) = path_in(&mut path, &[tid_name.as_bytes(), b"fd"]) else {
            continue;
        };
        let table = Table {
            pid,
            tid: Some(tid),
        };
        let fd_dir = match open_fd_dir(root, task_dir.as_fd(), fd_name, table, scan) {
            Ok(fd) => fd,
            Err(NotOpened::Vanished) => continue, // that thread exited
            Err(NotOpened::Recorded) => return,
        };
        let walked = walk_table(
            root,
            fd_dir,
            table,
            dirent_buf,
            scan,
            Reuse {
                prev,
                next,
                seer: seer.as_deref_mut(),
            },
        );
        match walked {
            Walked::Listed(0) => continue,
            Walked::Reused | Walked::Listed(_) | Walked::Failed => return,
        }
    }
}

/// `O_NONBLOCK` as it appears in the octal `flags:` of `/proc/PID/fdinfo/FD`: the
/// architecture's open-flag value (0o4000 on x86, arm, riscv; different on alpha, mips,
/// parisc, sparc, which is why it comes from libc).
pub const O_NONBLOCK: u32 = libc::O_NONBLOCK as u32;

/// The socket inode `PID`'s fd `FD` refers to now (`/proc/PID/fd/FD`, or
/// `/proc/PID/task/TID/fd/FD` when the table is that thread's), `None` when it is not a
/// socket. One readlink, for the options probe to check the fd before it duplicates it.
pub fn fd_socket_inode(
    root: &ProcRoot,
    pid: u32,
    tid: Option<u32>,
    fd: u32,
) -> Result<Option<u64>, Errno> {
    let dir = open_fd_table(root, pid, tid)?;
    fd_socket_inode_at(dir.as_fd(), fd)
}

/// `/proc/PID/fd` (or `/proc/PID/task/TID/fd`) opened, for [`fd_socket_inode_at`]. The
/// handle names the task it was opened for: once that task has exited, lookups through it
/// fail with ENOENT, even if its pid is reused.
pub fn open_fd_table(root: &ProcRoot, pid: u32, tid: Option<u32>) -> Result<OwnedFd, Errno> {
    open_dir(CWD, root.task_path(pid, tid, "fd").as_path())
}

/// As [`fd_socket_inode`], through a table opened by [`open_fd_table`]: a readlink of one
/// path component (the kernel walks `/proc/PID/fd` once per table, not once per fd) and
/// nothing allocated.
pub fn fd_socket_inode_at(table: BorrowedFd<'_>, fd: u32) -> Result<Option<u64>, Errno> {
    let mut digits = [0u8; 11];
    let name = decimal_cstr(&mut digits, fd);
    let mut link = [0u8; LINK_BUF];
    let len = readlinkat_raw(table, name, &mut link)?;
    Ok(link.get(..len).and_then(parse_socket_link))
}

/// `n` in decimal, NUL-terminated, in `buf` (10 digits and the NUL fit any u32).
fn decimal_cstr(buf: &mut [u8; 11], mut n: u32) -> &CStr {
    let mut at = buf.len() - 1;
    buf[at] = 0;
    loop {
        at -= 1;
        buf[at] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 || at == 0 {
            break;
        }
    }
    CStr::from_bytes_with_nul(&buf[at..]).unwrap_or_default()
}

/// Whether `PID`'s fd `FD` is in non-blocking mode, from `/proc/PID/fdinfo/FD` (proc(5)),
/// or `/proc/PID/task/TID/fdinfo/FD` when the table is that thread's ([`PidFds::tid`]).
pub fn read_fd_nonblocking(
    root: &ProcRoot,
    pid: u32,
    tid: Option<u32>,
    fd: u32,
) -> Result<bool, ProcError> {
    let path = root.task_path(pid, tid, &format!("fdinfo/{fd}"));
    let text = read_file(path.clone())?;
    let flags =
        parse_fdinfo_flags(&text).ok_or_else(|| ProcError::malformed(path, "no flags: line"))?;
    Ok(flags & O_NONBLOCK != 0)
}

#[cfg(test)]
mod reuse_tests {
    use super::*;
    use std::os::fd::AsRawFd;

    /// Two threads find what one finds, in the same order, with the same counts: on a
    /// fake `/proc` of 150 processes (sockets, other files, empty tables, an exited
    /// process), and on this host's.
    #[test]
    fn two_threads_walk_as_one() {
        let dir = tempfile::tempdir().expect("tempdir");
        for pid in 100..250u32 {
            let fd = dir.path().join(pid.to_string()).join("fd");
            std::fs::create_dir_all(&fd).expect("mkdir");
            if pid % 50 == 0 {
                continue; // an empty table
            }
            for n in 0..(pid % 7) {
                let target = if n % 3 == 0 {
                    "pipe:[1]".to_string()
                } else {
                    format!("socket:[{}]", pid * 10 + n)
                };
                std::os::unix::fs::symlink(target, fd.join(n.to_string())).expect("symlink");
            }
        }
        std::fs::create_dir_all(dir.path().join("300")).expect("no fd dir: exited");
        std::fs::create_dir_all(dir.path().join("self")).expect("not a pid");
        let walk_both = |root: &ProcRoot| {
            let (mut one, mut two) = (HashMap::new(), HashMap::new());
            let a = scan_with(root, &HashMap::new(), &mut one, 1, [None, None]);
            let b = scan_with(root, &HashMap::new(), &mut two, 2, [None, None]);
            (a, b, one, two)
        };
        let (a, b, one, two) = walk_both(&ProcRoot::new(dir.path()));
        assert_eq!(a, b);
        assert_eq!(one, two);
        assert_eq!(a.processes_scanned, 151);
        assert_eq!(a.processes_vanished, 1);
        let sockets = (100..250u32)
            .filter(|p| p % 50 != 0)
            .map(|p| (0..p % 7).filter(|n| n % 3 != 0).count())
            .sum::<usize>();
        assert_eq!(a.fds.len(), sockets);

        // A live host changes between two walks, and other tests of this binary start and
        // reap dozens of processes at once: about the same processes, in one of a few tries.
        let differences: Vec<u32> = (0..5)
            .map(|_| {
                let (a, b, ..) = walk_both(&ProcRoot::default());
                a.processes_scanned.abs_diff(b.processes_scanned)
            })
            .take_while(|&d| d >= 20)
            .collect();
        assert!(differences.len() < 5, "{differences:?}");
    }

    /// A seer that opens a socket in "our" table each time it is told of one, as the
    /// options probe's duplicate does for a moment.
    struct Duplicating {
        fake_fd_dir: Option<PathBuf>,
        /// The first fd number it makes in the fake table.
        base: usize,
        made: Vec<u64>,
        kept: Vec<std::net::UdpSocket>,
    }

    impl SocketFdSeen for Duplicating {
        fn seen(&mut self, _pid: u32, _tid: Option<u32>, _fd: u32, _inode: u64) {
            if let Some(dir) = &self.fake_fd_dir {
                let n = self.base + self.made.len();
                let inode = 770_000 + n as u64;
                let name = dir.join(n.to_string());
                std::os::unix::fs::symlink(format!("socket:[{inode}]"), name).expect("symlink");
                self.made.push(inode);
            } else if self.kept.len() < MAX_LIVE_DUPLICATES
                && let Ok(sock) = std::net::UdpSocket::bind("127.0.0.1:0")
            {
                let link = std::fs::read_link(format!("/proc/self/fd/{}", sock.as_raw_fd()));
                let inode = link
                    .ok()
                    .and_then(|l| parse_socket_link(l.as_os_str().as_encoded_bytes()));
                self.made.extend(inode);
                self.kept.push(sock);
            }
        }
    }

    /// On the live `/proc` a seer is told of every socket of the host: one of a machine
    /// with 50,000 would fill this test process's fd table, and the other tests' with it.
    const MAX_LIVE_DUPLICATES: usize = 64;

    /// What a seer puts into our own fd table is never listed as ours, whatever the
    /// listing's order and with one thread or two: our table is walked before any seer
    /// runs. On a fake `/proc` whose `self` is one of 150 processes, and on this host's
    /// (this process holds a socket so the seer is called).
    #[test]
    fn a_seers_duplicates_are_not_our_sockets() {
        let dir = tempfile::tempdir().expect("tempdir");
        for pid in 100..250u32 {
            let fd = dir.path().join(pid.to_string()).join("fd");
            std::fs::create_dir_all(&fd).expect("mkdir");
            std::os::unix::fs::symlink(format!("socket:[{}]", pid * 10), fd.join("3"))
                .expect("symlink");
        }
        std::os::unix::fs::symlink("170", dir.path().join("self")).expect("self");
        let _held = std::net::UdpSocket::bind("127.0.0.1:0").expect("bind");
        // Another process with a socket, so the seer is told of one on the live /proc.
        let mut child = std::process::Command::new("python3")
            .args([
                "-c",
                "import socket,sys\ns=socket.socket(socket.AF_INET,socket.SOCK_DGRAM)\ns.bind(('127.0.0.1',0))\nprint('ready',flush=True)\nsys.stdin.readline()",
            ])
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .spawn()
            .expect("python3");
        let mut ready = String::new();
        let out = child.stdout.take().expect("stdout");
        std::io::BufRead::read_line(&mut std::io::BufReader::new(out), &mut ready).expect("read");
        assert_eq!(ready.trim(), "ready");
        for threads in [1, 2] {
            for fake in [true, false] {
                let seer = |base: usize| Duplicating {
                    fake_fd_dir: fake.then(|| dir.path().join("170/fd")),
                    base,
                    made: Vec::new(),
                    kept: Vec::new(),
                };
                let (root, me) = if fake {
                    (ProcRoot::new(dir.path()), 170)
                } else {
                    (ProcRoot::default(), std::process::id())
                };
                // One seer a thread: either thread may walk the other process.
                let (mut first, mut second) = (seer(1000), seer(5000));
                let scan = scan_with(
                    &root,
                    &HashMap::new(),
                    &mut HashMap::new(),
                    threads,
                    [Some(&mut first), Some(&mut second)],
                );
                let made: Vec<u64> = first.made.iter().chain(&second.made).copied().collect();
                assert!(
                    !made.is_empty(),
                    "threads {threads}, fake {fake}: the seer was called"
                );
                let ours: Vec<u64> = scan
                    .fds
                    .iter()
                    .filter(|f| f.pid == me)
                    .map(|f| f.inode)
                    .collect();
                assert!(!ours.is_empty(), "our own socket is listed");
                assert!(
                    ours.iter().all(|i| !made.contains(i)),
                    "threads {threads}, fake {fake}: listed a seer's socket as ours: {ours:?}"
                );
                if fake {
                    assert_eq!(ours, [1700]);
                    for d in [&first, &second] {
                        for n in 0..d.made.len() {
                            let name = format!("170/fd/{}", d.base + n);
                            let _ = std::fs::remove_file(dir.path().join(name));
                        }
                    }
                }
            }
        }
        drop(child.stdin.take());
        let _ = child.wait();
    }

    #[test]
    fn fd_numbers_as_names() {
        let mut buf = [0u8; 11];
        for n in [0, 7, 10, 4_095, 1_048_575, u32::MAX] {
            assert_eq!(
                decimal_cstr(&mut buf, n).to_str(),
                Ok(n.to_string().as_str())
            );
        }
    }

    /// Through a table handle, the check reads what the absolute path reads; a closed fd
    /// is ENOENT, and a pipe is no socket.
    #[test]
    fn fd_check_through_the_table() {
        let root = ProcRoot::default();
        let me = std::process::id();
        let sock = std::net::UdpSocket::bind("127.0.0.1:0").expect("bind");
        let fd = sock.as_raw_fd() as u32;
        let table = open_fd_table(&root, me, None).expect("own fd table");
        let link = std::fs::read_link(format!("/proc/self/fd/{fd}")).expect("link");
        let inode = parse_socket_link(link.as_os_str().as_encoded_bytes());
        assert!(inode.is_some());
        assert_eq!(fd_socket_inode_at(table.as_fd(), fd), Ok(inode));
        assert_eq!(fd_socket_inode(&root, me, None, fd), Ok(inode));
        assert_eq!(
            fd_socket_inode_at(table.as_fd(), table.as_raw_fd() as u32),
            Ok(None)
        );
        drop(sock);
        // Another test thread may take the number at once: it is then another file.
        assert_ne!(fd_socket_inode_at(table.as_fd(), fd), Ok(inode));
    }

    fn mine(scan: &FdScan) -> Vec<(u32, u64)> {
        let me = std::process::id();
        let mut v: Vec<(u32, u64)> = scan
            .fds
            .iter()
            .filter(|f| f.pid == me)
            .map(|f| (f.fd, f.inode))
            .collect();
        v.sort_unstable();
        v
    }

    #[test]
    fn unchanged_fd_tables_are_reused_and_changed_ones_walked() {
        let root = ProcRoot::default();
        let _a = std::net::UdpSocket::bind("127.0.0.1:0").expect("bind");
        let mut first = HashMap::new();
        let full = scan_socket_fds_reusing(&root, &HashMap::new(), &mut first);
        assert_eq!(full.processes_reused, 0);
        let me = std::process::id();
        let Some(entry) = first.get(&me) else {
            panic!("this process was walked");
        };
        if entry.nfds == 0 {
            eprintln!("this kernel does not report fd counts (before 6.2): nothing is reused");
            return;
        }
        // Other test threads open and close fds: take a second walk at once and compare
        // only when this process's count did not move in between.
        let mut second = HashMap::new();
        let again = scan_socket_fds_reusing(&root, &first, &mut second);
        assert!(again.processes_reused > 0, "some process kept its fd count");
        if second.get(&me).map(|p| p.nfds) == Some(entry.nfds) {
            assert_eq!(
                mine(&again),
                mine(&full),
                "the reused table is the walked one"
            );
        }
        // A new socket changes the count: this process is walked again and the socket found.
        // Other test threads may close an fd at the same moment and leave the count as it
        // was (then the table is reused, by design): try until the count moved.
        let mut previous = second;
        let mut sockets = Vec::new();
        for _ in 0..50 {
            let b = std::net::UdpSocket::bind("127.0.0.1:0").expect("bind");
            let fd = b.as_raw_fd() as u32;
            sockets.push(b);
            let mut next = HashMap::new();
            let after = scan_socket_fds_reusing(&root, &previous, &mut next);
            let moved = next.get(&me).map(|p| p.nfds) != previous.get(&me).map(|p| p.nfds);
            if moved {
                assert!(
                    mine(&after).iter().any(|&(f, _)| f == fd),
                    "the new socket's fd {fd} is found"
                );
                return;
            }
            previous = next;
        }
        panic!("this process's fd count never moved in 50 tries");
    }
}
#[cfg(test)]
mod tests {
    use super::*;
    use crate::collect::linux::procfs::parse::NETSTAT_SAMPLE as NETSTAT;
    use crate::collect::linux::procfs::{
        read_host, read_process, read_sysctls, read_tcpext, read_tcpext_of,
    };
    use crate::collect::raw::RawProcess;
    use std::os::unix::fs::symlink;

    /// A fake `/proc`: pid 100 (readable, with socket, pipe and file fds), pid 200 (no fd
    /// directory: exited), non-pid entries.
    fn fixture() -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        let p = root.join("100");
        std::fs::create_dir_all(p.join("fd")).unwrap();
        std::fs::create_dir_all(p.join("ns")).unwrap();
        std::fs::create_dir_all(p.join("fdinfo")).unwrap();
        symlink("socket:[123]", p.join("fd/3")).unwrap();
        symlink("pipe:[9]", p.join("fd/4")).unwrap();
        symlink("/dev/null", p.join("fd/0")).unwrap();
        symlink("socket:[456]", p.join("fd/7")).unwrap();
        symlink("net:[4026531840]", p.join("ns/net")).unwrap();
        std::fs::write(p.join("comm"), "my\u{e9}srv\n").unwrap();
        std::fs::write(p.join("cmdline"), b"/usr/bin/mysrv\0--port\x008080\0").unwrap();
        std::fs::write(
            p.join("status"),
            "Name:\tmysrv\nUid:\t1000\t1001\t1000\t1000\nGid:\t0\t0\t0\t0\n",
        )
        .unwrap();
        std::fs::write(p.join("stat"), "100 (mysrv) S 1\n").unwrap();
        std::fs::write(p.join("cgroup"), "0::/system.slice/mysrv.service\n").unwrap();
        std::fs::write(p.join("fdinfo/3"), "pos:\t0\nflags:\t02004002\n").unwrap();
        std::fs::write(p.join("fdinfo/7"), "pos:\t0\nflags:\t02000002\n").unwrap();

        let q = root.join("200");
        std::fs::create_dir_all(&q).unwrap();
        std::fs::write(q.join("comm"), "gone\n").unwrap();

        std::fs::create_dir_all(root.join("sys/kernel")).unwrap();
        std::fs::create_dir_all(root.join("sys/net/ipv4")).unwrap();
        std::fs::create_dir_all(root.join("sys/net/core")).unwrap();
        std::fs::create_dir_all(root.join("net")).unwrap();
        std::fs::write(
            root.join("sys/net/ipv4/ip_local_port_range"),
            "32768\t60999\n",
        )
        .unwrap();
        std::fs::write(root.join("sys/net/core/somaxconn"), "4096\n").unwrap();
        std::fs::write(root.join("sys/net/ipv4/tcp_syncookies"), "oops\n").unwrap();
        std::fs::write(root.join("sys/kernel/hostname"), "fixture\n").unwrap();
        std::fs::write(root.join("sys/kernel/osrelease"), "6.18.0-test\n").unwrap();
        std::fs::create_dir_all(root.join("thread-self/net")).unwrap();
        std::fs::write(root.join("thread-self/net/netstat"), NETSTAT).unwrap();
        std::fs::write(root.join("uptime"), "1.0 1.0\n").unwrap();
        symlink("100", root.join("self")).unwrap();
        dir
    }

    #[test]
    fn fixture_scan_and_read() {
        let dir = fixture();
        let root = ProcRoot::new(dir.path());

        let mut scan = scan_socket_fds(&root);
        scan.fds.sort_by_key(|f| (f.pid, f.fd));
        assert_eq!(
            scan.fds,
            vec![
                RawFd {
                    pid: 100,
                    fd: 3,
                    inode: 123
                },
                RawFd {
                    pid: 100,
                    fd: 7,
                    inode: 456
                },
            ]
        );
        assert_eq!(scan.processes_scanned, 2);
        assert_eq!(scan.processes_vanished, 1);
        assert_eq!(scan.fds_vanished, 0);
        assert!(scan.unreadable.is_empty());
        assert!(scan.other_errors.is_empty(), "{:?}", scan.other_errors);

        let p = read_process(&root, 100, None).unwrap();
        assert_eq!(
            p,
            RawProcess {
                pid: 100,
                name: "my\u{e9}srv".into(),
                cmdline: vec!["/usr/bin/mysrv".into(), "--port".into(), "8080".into()],
                ruid: 1000,
                euid: 1001,
                cgroup: crate::collect::runtime::cgroup::CgroupOwner::Unit("mysrv.service".into()),
                netns: Some(4026531840),
                ppid: None,
                threads: None,
                exe: None,
            }
        );
        assert!(matches!(
            read_process(&root, 200, None),
            Err(ProcError::Vanished { .. })
        ));
        assert!(matches!(
            read_process(&root, 300, None),
            Err(ProcError::Vanished { .. })
        ));

        assert!(read_fd_nonblocking(&root, 100, None, 3).unwrap());
        assert!(!read_fd_nonblocking(&root, 100, None, 7).unwrap());
        assert!(matches!(
            read_fd_nonblocking(&root, 100, None, 4),
            Err(ProcError::Vanished { .. })
        ));

        assert_eq!(read_tcpext(&root).unwrap().listen_overflows, Some(20));
        assert!(matches!(
            read_tcpext_of(&root, 100),
            Err(ProcError::Vanished { .. })
        ));

        let (sysctls, warnings) = read_sysctls(&root);
        assert_eq!(sysctls.ip_local_port_range, Some([32768, 60999]));
        assert_eq!(sysctls.somaxconn, Some(4096));
        assert_eq!(sysctls.tcp_syncookies, None);
        assert_eq!(sysctls.bindv6only, None);
        assert_eq!(warnings.len(), 1, "{warnings:?}");
        assert!(warnings[0].contains("tcp_syncookies"));

        let (host, warnings) = read_host(&root);
        assert_eq!(host.hostname, "fixture");
        assert_eq!(host.kernel, "6.18.0-test");
        assert!(warnings.is_empty());
    }

    /// A fake `/proc` with the empty fd tables the walk must tell apart:
    /// - 300: main thread exited (state Z), threads 300 and 301; 301's table has the
    ///   process's socket; its comm holds `) Z (` to trip a naive parser;
    /// - 400: a kernel thread (state I, one thread, no fds);
    /// - 500: running (S) with two threads and an empty table; thread 501 has its own table
    ///   (clone without CLONE_FILES), which is not the process's and is not walked.
    fn zombie_fixture() -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        let proc_dir = |pid: u32, state: &str, comm: &str, threads: &[u32]| {
            let p = root.join(pid.to_string());
            std::fs::create_dir_all(p.join("fd")).unwrap();
            std::fs::write(
                p.join("stat"),
                format!("{pid} ({comm}) {state} 1 {pid} {pid} 0 -1 4194560 0\n"),
            )
            .unwrap();
            std::fs::write(p.join("comm"), format!("{comm}\n")).unwrap();
            std::fs::write(p.join("status"), "Name:\tx\nUid:\t1000\t1000\t1000\t1000\n").unwrap();
            std::fs::write(p.join("cmdline"), b"").unwrap();
            for t in threads {
                std::fs::create_dir_all(p.join(format!("task/{t}/fd"))).unwrap();
                std::fs::create_dir_all(p.join(format!("task/{t}/fdinfo"))).unwrap();
                std::fs::create_dir_all(p.join(format!("task/{t}/ns"))).unwrap();
            }
            p
        };
        let z = proc_dir(300, "Z", "py) Z (x", &[300, 301]);
        symlink("socket:[789]", z.join("task/301/fd/3")).unwrap();
        symlink("pipe:[1]", z.join("task/301/fd/4")).unwrap();
        std::fs::write(z.join("task/301/fdinfo/3"), "pos:\t0\nflags:\t04002\n").unwrap();
        std::fs::write(z.join("task/301/cmdline"), b"python3\0srv.py\0").unwrap();
        symlink("net:[4026532000]", z.join("task/301/ns/net")).unwrap();
        proc_dir(400, "I", "kworker/0:1", &[400]);
        let r = proc_dir(500, "S", "other", &[500, 501]);
        symlink("socket:[555]", r.join("task/501/fd/3")).unwrap();
        dir
    }

    #[test]
    fn zombie_leader_table_is_read_through_a_live_thread() {
        let dir = zombie_fixture();
        let root = ProcRoot::new(dir.path());
        let mut next = HashMap::new();
        let scan = scan_socket_fds_reusing(&root, &HashMap::new(), &mut next);
        assert_eq!(
            scan.fds,
            vec![RawFd {
                pid: 300,
                fd: 3,
                inode: 789
            }],
            "the zombie's socket, credited to the process; not thread 501's own table"
        );
        assert_eq!(scan.processes_scanned, 3);
        assert_eq!(scan.processes_vanished, 0);
        assert!(scan.other_errors.is_empty(), "{:?}", scan.other_errors);
        assert_eq!(next[&300].tid, Some(301));
        assert_eq!(next[&300].sockets, vec![(3, 789)]);
        assert_eq!(next[&400].tid, None);
        assert_eq!(next[&500].tid, None);
        assert!(next[&500].sockets.is_empty());

        // The next walk compares the count of the thread's table, not the leader's. (A
        // directory's size stands in for the fd count here; a filesystem that reports 0 for
        // it, like the kernels before 6.2, disables reuse.)
        let counted = next[&300].nfds > 0;
        let mut again = HashMap::new();
        let scan = scan_socket_fds_reusing(&root, &next, &mut again);
        assert_eq!(scan.fds.len(), 1);
        assert_eq!(again[&300], next[&300]);
        if counted {
            assert_eq!(scan.processes_reused, 3, "300 through 301, 400, 500");
        }
        let mut stale = next.clone();
        if let Some(p) = stale.get_mut(&300) {
            p.tid = Some(399); // a thread that is gone: 301 is walked instead
        }
        let mut fresh = HashMap::new();
        let scan = scan_socket_fds_reusing(&root, &stale, &mut fresh);
        assert_eq!(fresh[&300].tid, Some(301));
        assert_eq!(scan.fds.len(), 1);
        if counted {
            assert_eq!(scan.processes_reused, 2, "301's table is walked");
        }

        // Process details and fdinfo through the thread.
        let p = read_process(&root, 300, Some(301)).unwrap();
        assert_eq!(p.cmdline, vec!["python3", "srv.py"]);
        assert_eq!(p.netns, Some(4026532000));
        assert_eq!(p.euid, 1000);
        let leader = read_process(&root, 300, None).unwrap();
        assert!(leader.cmdline.is_empty(), "a zombie leader has no cmdline");
        assert_eq!(leader.netns, None);
        assert!(read_fd_nonblocking(&root, 300, Some(301), 3).unwrap());
        assert!(matches!(
            read_fd_nonblocking(&root, 300, None, 3),
            Err(ProcError::Vanished { .. })
        ));

        // Once the thread's table is empty too (it is exiting), the process holds nothing.
        std::fs::remove_file(dir.path().join("300/task/301/fd/3")).unwrap();
        std::fs::remove_file(dir.path().join("300/task/301/fd/4")).unwrap();
        let scan = scan_socket_fds(&root);
        assert!(scan.fds.is_empty(), "{:?}", scan.fds);
    }

    #[test]
    fn proc_paths() {
        let mut buf = [0u8; 48];
        assert_eq!(
            path_in(&mut buf, &[b"123", b"task", b"456", b"fd"]),
            Some(c"123/task/456/fd")
        );
        assert_eq!(path_in(&mut buf, &[b"1"]), Some(c"1"));
        let long = [b'9'; 48];
        assert_eq!(path_in(&mut buf, &[&long]), None, "no room for the NUL");
        assert_eq!(
            path_in(&mut buf, &[&long[..47]]).map(|c| c.count_bytes()),
            Some(47)
        );
        assert_eq!(path_in(&mut buf, &[&long[..40], &long[..7]]), None);
    }

    #[test]
    fn missing_root_is_an_error_not_a_panic() {
        let scan = scan_socket_fds(&ProcRoot::new("/nonexistent/bindscope-proc"));
        assert!(scan.fds.is_empty());
        assert_eq!(scan.other_errors.len(), 1);
    }

    #[test]
    fn live_scan_finds_own_listener() {
        use std::os::fd::AsRawFd;
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let fd = listener.as_raw_fd();
        let link = std::fs::read_link(format!("/proc/self/fd/{fd}")).unwrap();
        let inode = parse_socket_link(link.as_os_str().as_encoded_bytes()).unwrap();

        let root = ProcRoot::default();
        let scan = scan_socket_fds(&root);
        let me = std::process::id();
        assert!(
            scan.fds.contains(&RawFd {
                pid: me,
                fd: u32::try_from(fd).unwrap(),
                inode,
            }),
            "own listener not found among {} socket fds",
            scan.fds.len()
        );
        assert!(scan.processes_scanned >= 1);

        let p = read_process(&root, me, None).unwrap();
        assert_eq!(p.pid, me);
        assert!(!p.name.is_empty());
        assert!(p.netns.is_some());

        let fdu = u32::try_from(fd).unwrap();
        assert!(!read_fd_nonblocking(&root, me, None, fdu).unwrap());
        listener.set_nonblocking(true).unwrap();
        assert!(read_fd_nonblocking(&root, me, None, fdu).unwrap());

        let (sysctls, _) = read_sysctls(&root);
        assert!(sysctls.ip_local_port_range.is_some());
        assert!(read_tcpext(&root).unwrap().listen_overflows.is_some());
    }
}
