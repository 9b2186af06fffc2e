//! `/proc`: who holds which socket (the fd walk), what each process is, and the per-namespace
//! sysctls and counters.
//!
//! Everything is read relative to a [`ProcRoot`] so that tests can point the readers at a
//! fixture tree. Formats follow proc(5) (and cgroups(7) for `/proc/PID/cgroup`); the parsers
//! are pure functions that never panic and answer `None` for anything malformed or truncated,
//! because procfs files are read while processes come and go.

use crate::collect::raw::{RawFd, RawProcess};
use crate::model::host::{Host, Sysctls, TcpExtCounters};
use rustix::fd::{AsFd, BorrowedFd, OwnedFd};
use rustix::fs::{CWD, Mode, OFlags, RawDir, openat, readlinkat_raw};
use rustix::io::Errno;
use std::collections::HashMap;
use std::ffi::CStr;
use std::io::{self, Read};
use std::mem::MaybeUninit;
use std::path::{Path, PathBuf};

/// Where procfs is mounted. A value rather than a constant so tests can use a fake tree.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProcRoot {
    path: PathBuf,
}

impl ProcRoot {
    pub fn new(path: impl Into<PathBuf>) -> Self {
        Self { path: path.into() }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// `ROOT/PID/rest`, for error messages and the non-hot readers.
    fn pid_path(&self, pid: u32, rest: &str) -> PathBuf {
        let mut p = self.path.join(pid.to_string());
        if !rest.is_empty() {
            p.push(rest);
        }
        p
    }

    /// `/proc/PID/REST`, or `/proc/PID/task/TID/REST` when the table was read through a
    /// live thread because the main thread has exited ([`PidFds::tid`]).
    fn task_path(&self, pid: u32, tid: Option<u32>, rest: &str) -> PathBuf {
        self.pid_path(pid, &task_relative(tid, rest))
    }
}

/// `REST`, or `task/TID/REST`: where a thread's view of a process file is.
fn task_relative(tid: Option<u32>, rest: &str) -> String {
    match tid {
        Some(tid) => format!("task/{tid}/{rest}"),
        None => rest.to_string(),
    }
}

impl Default for ProcRoot {
    fn default() -> Self {
        Self::new("/proc")
    }
}

/// Why reading something under `/proc/PID` failed. Vanishing is normal (the process exited
/// between listing and reading); being denied means the holder list may be incomplete.
#[derive(Debug, thiserror::Error)]
pub enum ProcError {
    /// ENOENT/ESRCH: the process (or fd) no longer exists.
    #[error("{}: vanished (process exited)", path.display())]
    Vanished { path: PathBuf },
    /// EACCES/EPERM: another user's process and we lack the privileges (ptrace access mode
    /// checks guard `fd/`, `ns/` and `fdinfo/`, see proc(5)).
    #[error("{}: permission denied", path.display())]
    Denied { path: PathBuf },
    /// Anything else, including malformed content (`io::ErrorKind::InvalidData`).
    #[error("{}: {source}", path.display())]
    Other { path: PathBuf, source: io::Error },
}

impl ProcError {
    fn from_io(path: PathBuf, err: io::Error) -> Self {
        match err.raw_os_error() {
            Some(libc::ENOENT | libc::ESRCH) => Self::Vanished { path },
            Some(libc::EACCES | libc::EPERM) => Self::Denied { path },
            _ => Self::Other { path, source: err },
        }
    }

    fn from_errno(path: PathBuf, err: Errno) -> Self {
        Self::from_io(path, err.into())
    }

    fn malformed(path: PathBuf, what: &str) -> Self {
        Self::Other {
            path,
            source: io::Error::new(io::ErrorKind::InvalidData, what.to_owned()),
        }
    }
}

// ---------------------------------------------------------------------------------------------
// The fd walk
// ---------------------------------------------------------------------------------------------

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

/// Size of the `getdents64` buffers. 64 KiB lists ~2,000 fds per syscall; a `linux_dirent64`
/// for a short numeric name is 24 bytes.
const DIRENT_BUF: usize = 64 * 1024;

/// `socket:[18446744073709551615]` is 29 bytes; anything longer is not a socket, so a longer
/// (truncated) link target is harmless.
const LINK_BUF: usize = 64;

fn is_vanished(e: Errno) -> bool {
    e == Errno::NOENT || e == Errno::SRCH
}

fn is_denied(e: Errno) -> bool {
    e == Errno::ACCESS || e == Errno::PERM
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
pub fn scan_socket_fds_reusing(
    root: &ProcRoot,
    prev: &HashMap<u32, PidFds>,
    next: &mut HashMap<u32, PidFds>,
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
    let mut root_buf: Vec<u8> = Vec::with_capacity(DIRENT_BUF);
    let mut fd_buf: Vec<u8> = Vec::with_capacity(DIRENT_BUF);
    let mut entries = RawDir::new(root_fd.as_fd(), root_buf.spare_capacity_mut());
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
        scan.processes_scanned += 1;
        scan_pid(
            root,
            root_fd.as_fd(),
            pid,
            name,
            fd_buf.spare_capacity_mut(),
            &mut scan,
            Reuse {
                prev: prev.get(&pid),
                next,
            },
        );
    }
    scan
}

/// Open a directory for listing and `*at` calls.
fn open_dir<Fd: AsFd, P: rustix::path::Arg>(dirfd: Fd, path: P) -> Result<OwnedFd, Errno> {
    openat(
        dirfd,
        path,
        OFlags::RDONLY | OFlags::DIRECTORY | OFlags::CLOEXEC,
        Mode::empty(),
    )
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

/// One process's entry of the last walk, and the table this walk fills.
struct Reuse<'a> {
    prev: Option<&'a PidFds>,
    next: &'a mut HashMap<u32, PidFds>,
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
    reuse: Reuse<'_>,
) {
    let Reuse { prev, next } = reuse;
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
    let walked = walk_table(root, fd_dir, table, dirent_buf, scan, Reuse { prev, next });
    // Only an empty table is looked at twice: every process that holds a socket has fds.
    if walked == Walked::Listed(0) && leader_is_zombie(root_fd, name) {
        scan_threads(
            root,
            root_fd,
            pid,
            name,
            dirent_buf,
            scan,
            Reuse { prev, next },
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
    reuse: Reuse<'_>,
) -> Walked {
    let Reuse { prev, next } = reuse;
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
    reuse: Reuse<'_>,
) {
    let Reuse { prev, next } = reuse;
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
        match walk_table(root, fd_dir, table, dirent_buf, scan, Reuse { prev, next }) {
            Walked::Listed(0) => continue,
            Walked::Reused | Walked::Listed(_) | Walked::Failed => return,
        }
    }
}

/// Decimal digits only (no sign, no whitespace), checked for overflow.
fn parse_dec_u32(s: &[u8]) -> Option<u32> {
    if s.is_empty() {
        return None;
    }
    let mut n: u32 = 0;
    for &b in s {
        if !b.is_ascii_digit() {
            return None;
        }
        n = n.checked_mul(10)?.checked_add(u32::from(b - b'0'))?;
    }
    Some(n)
}

fn parse_dec_u64(s: &[u8]) -> Option<u64> {
    if s.is_empty() {
        return None;
    }
    let mut n: u64 = 0;
    for &b in s {
        if !b.is_ascii_digit() {
            return None;
        }
        n = n.checked_mul(10)?.checked_add(u64::from(b - b'0'))?;
    }
    Some(n)
}

/// `socket:[INODE]` (proc(5), `/proc/PID/fd`) → INODE.
pub fn parse_socket_link(link: &[u8]) -> Option<u64> {
    let inner = link.strip_prefix(b"socket:[")?.strip_suffix(b"]")?;
    parse_dec_u64(inner)
}

// ---------------------------------------------------------------------------------------------
// One process
// ---------------------------------------------------------------------------------------------

/// Read what bindscope shows about one process: `comm`, `cmdline`, the `Uid:` line of
/// `status`, the unit/container from `cgroup`, and the network namespace inode.
///
/// All files are opened relative to one `/proc/PID` directory fd, so they come from the same
/// process even if the pid is reused meanwhile (the old directory then answers ESRCH/ENOENT).
///
/// `tid`: the live thread the fd walk read the table from when the main thread has exited
/// ([`PidFds::tid`]). A zombie leader has released its memory and namespaces, so its
/// `cmdline` is empty and its `ns/net` unreadable: those two come from `task/TID/`.
pub fn read_process(root: &ProcRoot, pid: u32, tid: Option<u32>) -> Result<RawProcess, ProcError> {
    let dir = open_dir(CWD, root.pid_path(pid, ""))
        .map_err(|e| ProcError::from_errno(root.pid_path(pid, ""), e))?;
    let read = |file: &str| -> Result<Vec<u8>, ProcError> {
        read_at(dir.as_fd(), file).map_err(|e| ProcError::from_io(root.pid_path(pid, file), e))
    };

    // comm: the command name, newline-terminated, at most TASK_COMM_LEN bytes (proc(5)).
    // Processes may set any bytes via prctl(PR_SET_NAME), hence lossy.
    let comm = read("comm")?;
    let comm = comm.strip_suffix(b"\n").unwrap_or(&comm);
    let name = String::from_utf8_lossy(comm).into_owned();

    let of_task = |file: &str| task_relative(tid, file);
    let cmdline = parse_cmdline(&read(&of_task("cmdline"))?);

    let status = read("status")?;
    let (ruid, euid) = parse_status_uids(&String::from_utf8_lossy(&status))
        .ok_or_else(|| ProcError::malformed(root.pid_path(pid, "status"), "no valid Uid: line"))?;

    // cgroup is world-readable; a kernel without cgroups has no such file.
    let unit = match read("cgroup") {
        Ok(bytes) => parse_cgroup_unit(&String::from_utf8_lossy(&bytes)),
        Err(e @ ProcError::Vanished { .. }) if pid_gone(dir.as_fd()) => return Err(e),
        Err(_) => None,
    };

    // ns/net needs ptrace read access (proc(5), /proc/PID/ns): None when denied.
    let mut link = [0u8; LINK_BUF];
    let netns = match readlinkat_raw(dir.as_fd(), of_task("ns/net").as_str(), &mut link) {
        Ok(len) => link
            .get(..len)
            .and_then(|l| std::str::from_utf8(l).ok())
            .and_then(parse_netns_link),
        Err(e) if is_vanished(e) && pid_gone(dir.as_fd()) => {
            return Err(ProcError::from_errno(root.pid_path(pid, "ns/net"), e));
        }
        Err(_) => None,
    };

    Ok(RawProcess {
        pid,
        name,
        cmdline,
        ruid,
        euid,
        unit,
        netns,
    })
}

/// Whether the process behind an open `/proc/PID` directory has exited, to tell a missing
/// optional file (no cgroup support, no network namespaces) from a vanished process.
fn pid_gone(dir: BorrowedFd<'_>) -> bool {
    read_at(dir, "stat").is_err()
}

/// Read a whole (small) file relative to a directory fd.
fn read_at(dir: BorrowedFd<'_>, file: &str) -> io::Result<Vec<u8>> {
    let fd = openat(dir, file, OFlags::RDONLY | OFlags::CLOEXEC, Mode::empty())?;
    let mut out = Vec::new();
    std::fs::File::from(fd).read_to_end(&mut out)?;
    Ok(out)
}

fn read_file(path: PathBuf) -> Result<String, ProcError> {
    match std::fs::read(&path) {
        Ok(bytes) => Ok(String::from_utf8_lossy(&bytes).into_owned()),
        Err(e) => Err(ProcError::from_io(path, e)),
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
    let path = root.task_path(pid, tid, &format!("fd/{fd}"));
    let mut link = [0u8; LINK_BUF];
    let len = readlinkat_raw(CWD, path.as_path(), &mut link)?;
    Ok(link.get(..len).and_then(parse_socket_link))
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

// ---------------------------------------------------------------------------------------------
// Namespaced host state
// ---------------------------------------------------------------------------------------------

/// TcpExt counters of the calling *thread's* network namespace, from
/// `ROOT/thread-self/net/netstat`. (`/proc/net` is `/proc/self/net`, which shows the thread
/// group leader's namespace: wrong for a collector thread that entered another one.)
pub fn read_tcpext(root: &ProcRoot) -> Result<TcpExtCounters, ProcError> {
    let text = read_file(root.path().join("thread-self/net/netstat"))?;
    Ok(parse_netstat_tcpext(&text))
}

/// TcpExt counters of `pid`'s network namespace (`ROOT/PID/net/netstat`).
pub fn read_tcpext_of(root: &ProcRoot, pid: u32) -> Result<TcpExtCounters, ProcError> {
    let text = read_file(root.pid_path(pid, "net/netstat"))?;
    Ok(parse_netstat_tcpext(&text))
}

/// The bind- and queue-related sysctls of the reader's network namespace, from
/// `ROOT/sys/net/...` (proc(5), `/proc/sys/net`; the values are per namespace). A missing
/// file (IPv6 disabled, older kernel) gives `None` silently; anything else gives `None` and a
/// warning.
pub fn read_sysctls(root: &ProcRoot) -> (Sysctls, Vec<String>) {
    let mut warnings = Vec::new();
    let sys = root.path().join("sys");
    let mut read = |rel: &str| -> Option<String> {
        let path = sys.join(rel);
        match std::fs::read(&path) {
            Ok(bytes) => Some(String::from_utf8_lossy(&bytes).into_owned()),
            Err(e) if e.kind() == io::ErrorKind::NotFound => None,
            Err(e) => {
                warnings.push(format!("{}: {e}", path.display()));
                None
            }
        }
    };
    let mut malformed = Vec::new();
    let mut int = |rel: &str| -> Option<i64> {
        let text = read(rel)?;
        let v = parse_sysctl_value(&text);
        if v.is_none() {
            malformed.push(format!(
                "{}: malformed value {:?}",
                sys.join(rel).display(),
                text
            ));
        }
        v
    };
    let mut sysctls = Sysctls {
        ipv4_ip_nonlocal_bind: int("net/ipv4/ip_nonlocal_bind"),
        ipv6_ip_nonlocal_bind: int("net/ipv6/ip_nonlocal_bind"),
        bindv6only: int("net/ipv6/bindv6only"),
        ip_unprivileged_port_start: int("net/ipv4/ip_unprivileged_port_start"),
        ip_local_port_range: None,
        somaxconn: int("net/core/somaxconn"),
        tcp_syncookies: int("net/ipv4/tcp_syncookies"),
        tcp_max_syn_backlog: int("net/ipv4/tcp_max_syn_backlog"),
        tcp_l3mdev_accept: int("net/ipv4/tcp_l3mdev_accept"),
        udp_l3mdev_accept: int("net/ipv4/udp_l3mdev_accept"),
        ip_autobind_reuse: int("net/ipv4/ip_autobind_reuse"),
    };
    if let Some(text) = read("net/ipv4/ip_local_port_range") {
        sysctls.ip_local_port_range = parse_port_range(&text);
        if sysctls.ip_local_port_range.is_none() {
            malformed.push(format!(
                "{}: malformed value {:?}",
                sys.join("net/ipv4/ip_local_port_range").display(),
                text
            ));
        }
    }
    warnings.extend(malformed);
    (sysctls, warnings)
}

/// Hostname and kernel release from `ROOT/sys/kernel/{hostname,osrelease}` (proc(5)). The
/// hostname is that of the reader's UTS namespace. Unreadable values are empty, with a
/// warning.
pub fn read_host(root: &ProcRoot) -> (Host, Vec<String>) {
    let mut warnings = Vec::new();
    let mut read = |rel: &str| -> String {
        match read_file(root.path().join(rel)) {
            Ok(text) => text.trim_end_matches('\n').to_owned(),
            Err(e) => {
                warnings.push(e.to_string());
                String::new()
            }
        }
    };
    let host = Host {
        hostname: read("sys/kernel/hostname"),
        kernel: read("sys/kernel/osrelease"),
    };
    (host, warnings)
}

// ---------------------------------------------------------------------------------------------
// Pure parsers
// ---------------------------------------------------------------------------------------------

/// `/proc/PID/status` (proc(5)): the effective capability set, `CapEff:` in hex.
pub fn parse_cap_eff(status: &str) -> Option<u64> {
    let line = status.lines().find_map(|l| l.strip_prefix("CapEff:"))?;
    u64::from_str_radix(line.trim(), 16).ok()
}

/// `/proc/PID/status` (proc(5)): the `Uid:` line holds real, effective, saved set and
/// filesystem UIDs, tab-separated. Returns (real, effective). All four fields must be present
/// so that a truncated line is not mistaken for a valid one.
pub fn parse_status_uids(status: &str) -> Option<(u32, u32)> {
    let line = status.lines().find_map(|l| l.strip_prefix("Uid:"))?;
    let mut ids = [0u32; 4];
    let mut fields = line.split_ascii_whitespace();
    for id in &mut ids {
        *id = parse_dec_u32(fields.next()?.as_bytes())?;
    }
    if fields.next().is_some() {
        return None;
    }
    Some((ids[0], ids[1]))
}

/// `/proc/PID/stat` (proc(5)): the state letter (`R`, `S`, `Z`, …), the field after the
/// command name. The name is in parentheses and may itself hold `)` and spaces, so the last
/// `)` ends it (no later field holds one). Takes the start of the file, or all of it.
pub fn parse_stat_state(stat: &[u8]) -> Option<u8> {
    let close = stat.iter().rposition(|&b| b == b')')?;
    match stat.get(close + 1..close + 3)? {
        [b' ', state] if state.is_ascii_alphabetic() => Some(*state),
        _ => None,
    }
}

/// `/proc/PID/cmdline` (proc(5)): arguments separated by NUL, normally with a terminating
/// NUL; empty for kernel threads and zombies. Processes that rewrite their argv (nginx,
/// postgres) may leave one space-separated string padded with NULs, so every trailing NUL is
/// dropped (losing only genuinely empty trailing arguments).
pub fn parse_cmdline(bytes: &[u8]) -> Vec<String> {
    let end = bytes.iter().rposition(|&b| b != 0).map_or(0, |i| i + 1);
    let bytes = &bytes[..end];
    if bytes.is_empty() {
        return Vec::new();
    }
    bytes
        .split(|&b| b == 0)
        .map(|arg| String::from_utf8_lossy(arg).into_owned())
        .collect()
}

/// `/proc/PID/ns/net` link target (proc(5), namespaces(7)): `net:[4026531840]` → 4026531840.
pub fn parse_netns_link(link: &str) -> Option<u64> {
    let inner = link.strip_prefix("net:[")?.strip_suffix(']')?;
    parse_dec_u64(inner.as_bytes())
}

/// `/proc/PID/fdinfo/FD` (proc(5)): `flags:` is the file's open flags in OCTAL
/// (`flags:\t04002` = O_NONBLOCK|O_RDWR).
pub fn parse_fdinfo_flags(fdinfo: &str) -> Option<u32> {
    let value = fdinfo
        .lines()
        .find_map(|l| l.strip_prefix("flags:"))?
        .trim();
    if value.is_empty() || !value.bytes().all(|b| (b'0'..=b'7').contains(&b)) {
        return None;
    }
    u32::from_str_radix(value, 8).ok()
}

/// The unit or container a process belongs to, from the whole `/proc/PID/cgroup` file
/// (proc(5), cgroups(7): lines `hierarchy-ID:controller-list:cgroup-path`).
///
/// The path used is that of the v1 `name=systemd` hierarchy if present (systemd's tracking
/// hierarchy on legacy/hybrid hosts), else the v2 line `0::PATH`, else the first v1 line with
/// a path other than `/`. Then, in order:
/// - kubernetes: `…kubepods…/pod<uid>/<id>` (cgroupfs driver) or
///   `…kubepods-<qos>-pod<uid_with_underscores>.slice/<runtime>-<id>.scope` (systemd driver)
///   → `k8s-pod:<uid>`, plus `/<first 12 of the container id>` when a container level follows;
/// - docker `docker-<64hex>.scope` or `/docker/<64hex>` → `docker:<12>`;
/// - containerd CRI `cri-containerd-<id>.scope` → `containerd:<12>`;
/// - podman `libpod-<id>.scope` (not `libpod-conmon-`, which is the monitor) → `podman:<12>`;
/// - otherwise the deepest component ending in `.service`, `.scope` or `.socket` (so
///   `user@1000.service/app.slice/x.service` → `x.service`); a user manager's own
///   `user@N.service/init.scope` → `user@N.service`, while the host's `/init.scope` stays
///   `init.scope`;
/// - `/` or only slices → `None`.
pub fn parse_cgroup_unit(cgroup: &str) -> Option<String> {
    let path = select_cgroup_path(cgroup)?;
    // cgroup v2 marks a removed cgroup with " (deleted)" (kernel/cgroup/cgroup.c).
    let path = path.strip_suffix(" (deleted)").unwrap_or(path);
    let comps: Vec<&str> = path.split('/').filter(|c| !c.is_empty()).collect();
    if comps.is_empty() {
        return None;
    }
    if let Some(pod) = k8s_unit(&comps) {
        return Some(pod);
    }
    for (i, comp) in comps.iter().enumerate() {
        if let Some(id) = comp
            .strip_prefix("docker-")
            .and_then(|r| r.strip_suffix(".scope"))
            .filter(|id| is_docker_id(id))
        {
            return Some(format!("docker:{}", &id[..12]));
        }
        if *comp == "docker"
            && let Some(id) = comps.get(i + 1).filter(|id| is_docker_id(id))
        {
            return Some(format!("docker:{}", &id[..12]));
        }
        if let Some(id) = comp
            .strip_prefix("cri-containerd-")
            .and_then(|r| r.strip_suffix(".scope"))
            .and_then(short_id)
        {
            return Some(format!("containerd:{id}"));
        }
        if let Some(rest) = comp.strip_prefix("libpod-")
            && !rest.starts_with("conmon-")
        {
            // systemd cgroup manager: libpod-<id>.scope; cgroupfs: libpod_parent/libpod-<id>.
            let id = rest.strip_suffix(".scope").unwrap_or(rest);
            if let Some(id) = short_id(id) {
                return Some(format!("podman:{id}"));
            }
        }
    }
    systemd_unit(&comps)
}

fn select_cgroup_path(cgroup: &str) -> Option<&str> {
    let mut v2 = None;
    let mut v1_other = None;
    for line in cgroup.lines() {
        let mut parts = line.splitn(3, ':');
        let (Some(id), Some(controllers), Some(path)) = (parts.next(), parts.next(), parts.next())
        else {
            continue; // malformed or truncated line
        };
        if !path.starts_with('/') {
            continue;
        }
        if controllers.split(',').any(|c| c == "name=systemd") {
            return Some(path);
        }
        if id == "0" && controllers.is_empty() {
            v2.get_or_insert(path);
        } else if path != "/" {
            v1_other.get_or_insert(path);
        }
    }
    v2.or(v1_other)
}

fn k8s_unit(comps: &[&str]) -> Option<String> {
    let first = comps.iter().position(|c| c.contains("kubepods"))?;
    for (i, comp) in comps.iter().enumerate().skip(first) {
        let uid = match comp.strip_suffix(".slice") {
            // systemd driver: kubepods-besteffort-pod<uid_with_underscores>.slice
            Some(stem) => stem
                .rsplit_once("-pod")
                .map(|(_, uid)| uid.replace('_', "-")),
            // cgroupfs driver: pod<uid>
            None => comp.strip_prefix("pod").map(str::to_owned),
        };
        let Some(uid) = uid.filter(|u| is_pod_uid(u)) else {
            continue;
        };
        let container = comps.get(i + 1).and_then(|c| k8s_container_id(c));
        return Some(match container {
            Some(id) => format!("k8s-pod:{uid}/{id}"),
            None => format!("k8s-pod:{uid}"),
        });
    }
    None
}

/// A pod UID: a UUID, or a hash for static pods; hex digits and dashes.
fn is_pod_uid(uid: &str) -> bool {
    uid.bytes().any(|b| b.is_ascii_hexdigit())
        && uid.bytes().all(|b| b.is_ascii_hexdigit() || b == b'-')
}

/// The container level under a pod: `<64hex>` (cgroupfs) or `<runtime>-<id>.scope`
/// (`cri-containerd-`, `docker-`, `crio-`); a runtime's monitor (`crio-conmon-…`) is not a
/// container.
fn k8s_container_id(comp: &str) -> Option<String> {
    if comp.contains("conmon") {
        return None;
    }
    let stem = comp.strip_suffix(".scope").unwrap_or(comp);
    let id = stem.rsplit_once('-').map_or(stem, |(_, id)| id);
    short_id(id)
}

fn is_docker_id(id: &str) -> bool {
    id.len() == 64 && id.bytes().all(|b| b.is_ascii_hexdigit())
}

/// First 12 characters of a hex container id of at least 12 characters.
fn short_id(id: &str) -> Option<String> {
    (id.len() >= 12 && id.bytes().all(|b| b.is_ascii_hexdigit())).then(|| id[..12].to_owned())
}

fn systemd_unit(comps: &[&str]) -> Option<String> {
    let mut units = comps.iter().filter(|c| {
        [".service", ".scope", ".socket"]
            .iter()
            .any(|suffix| c.len() > suffix.len() && c.ends_with(suffix))
    });
    let deepest = units.next_back()?;
    if *deepest == "init.scope"
        && let Some(parent) = units.next_back()
    {
        // A delegated manager (systemd --user) runs in its own unit's init.scope.
        return Some((*parent).to_owned());
    }
    Some((*deepest).to_owned())
}

/// TcpExt counters from `/proc/net/netstat` (proc(5): pairs of lines, a header
/// `TcpExt: Name1 Name2 …` then `TcpExt: 1 2 …`; the same for `IpExt`, `MPTcpExt`). A pair
/// whose column counts differ is ignored; counters that are absent are `None`.
pub fn parse_netstat_tcpext(netstat: &str) -> TcpExtCounters {
    let mut out = TcpExtCounters::default();
    let lines: Vec<&str> = netstat.lines().collect();
    let mut i = 0;
    while i + 1 < lines.len() {
        let (Some((p1, names)), Some((p2, values))) =
            (lines[i].split_once(':'), lines[i + 1].split_once(':'))
        else {
            i += 1;
            continue;
        };
        if p1 != p2 {
            i += 1; // out of step (truncated pair): resynchronise on the next line
            continue;
        }
        i += 2;
        if p1 != "TcpExt" {
            continue;
        }
        let names: Vec<&str> = names.split_ascii_whitespace().collect();
        let values: Vec<&str> = values.split_ascii_whitespace().collect();
        if names.len() != values.len() {
            continue;
        }
        for (name, value) in names.iter().zip(values) {
            let slot = match *name {
                "ListenOverflows" => &mut out.listen_overflows,
                "ListenDrops" => &mut out.listen_drops,
                "TCPReqQFullDrop" => &mut out.req_q_full_drop,
                "TCPReqQFullDoCookies" => &mut out.req_q_full_do_cookies,
                "TCPDeferAcceptDrop" => &mut out.defer_accept_drop,
                _ => continue,
            };
            if slot.is_none() {
                *slot = parse_dec_u64(value.as_bytes());
            }
        }
    }
    out
}

/// A single-integer sysctl file (`/proc/sys/...`, proc(5)): the number and a newline.
pub fn parse_sysctl_value(text: &str) -> Option<i64> {
    text.trim().parse().ok()
}

/// `net.ipv4.ip_local_port_range`: two numbers, tab-separated (`32768\t60999\n`).
pub fn parse_port_range(text: &str) -> Option<[u32; 2]> {
    let mut it = text.split_ascii_whitespace();
    let lo = parse_dec_u32(it.next()?.as_bytes())?;
    let hi = parse_dec_u32(it.next()?.as_bytes())?;
    if it.next().is_some() {
        return None;
    }
    Some([lo, hi])
}

#[cfg(test)]
mod reuse_tests {
    use super::*;
    use std::os::fd::AsRawFd;

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
mod cap_tests {
    use super::parse_cap_eff;

    #[test]
    fn cap_eff() {
        assert_eq!(
            parse_cap_eff("Name:\tx\nCapEff:\t000001fffeffffff\n"),
            Some(0x1fffeffffff)
        );
        assert_eq!(parse_cap_eff("CapEff:\t\n"), None);
        assert_eq!(parse_cap_eff("CapEff:\tzz\n"), None);
        assert_eq!(parse_cap_eff(""), None);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::symlink;

    const D64: &str = "3f2a1b4c5d6e7f8091a2b3c4d5e6f708192a3b4c5d6e7f8091a2b3c4d5e6f708";

    #[test]
    fn d64_is_a_docker_id() {
        assert!(is_docker_id(D64));
    }

    #[test]
    fn status_uids() {
        let s = "Name:\tsshd\nUmask:\t0022\nState:\tS (sleeping)\nUid:\t1000\t0\t0\t0\nGid:\t0\t0\t0\t0\n";
        assert_eq!(parse_status_uids(s), Some((1000, 0)));
        assert_eq!(parse_status_uids("Uid:\t1\t2\t3\t4"), Some((1, 2)));
        // truncated, malformed, missing
        assert_eq!(parse_status_uids("Name:\tx\nUid:\t1000\t10"), None);
        assert_eq!(parse_status_uids("Uid:"), None);
        assert_eq!(parse_status_uids("Uid:\t-1\t0\t0\t0\n"), None);
        assert_eq!(parse_status_uids("Uid:\t1\t2\t3\t4\t5\n"), None);
        assert_eq!(parse_status_uids("Uid:\t99999999999\t0\t0\t0\n"), None);
        assert_eq!(parse_status_uids("Name:\tx\n"), None);
        assert_eq!(parse_status_uids(""), None);
    }

    #[test]
    fn cmdline() {
        assert_eq!(
            parse_cmdline(b"/usr/sbin/sshd\0-D\0"),
            vec!["/usr/sbin/sshd", "-D"]
        );
        assert_eq!(parse_cmdline(b"a\0\0b\0"), vec!["a", "", "b"]);
        assert_eq!(parse_cmdline(b""), Vec::<String>::new());
        assert_eq!(parse_cmdline(b"\0\0\0"), Vec::<String>::new());
        assert_eq!(
            parse_cmdline(b"nginx: worker process\0\0\0\0"),
            vec!["nginx: worker process"]
        );
        // truncated (no final NUL) and invalid UTF-8
        assert_eq!(
            parse_cmdline(b"python3\0-m\0htt"),
            vec!["python3", "-m", "htt"]
        );
        assert_eq!(parse_cmdline(b"\xff\xfe\0x"), vec!["\u{fffd}\u{fffd}", "x"]);
    }

    #[test]
    fn netns_link() {
        assert_eq!(parse_netns_link("net:[4026531840]"), Some(4026531840));
        assert_eq!(parse_netns_link("net:[4026531840"), None);
        assert_eq!(parse_netns_link("net:[]"), None);
        assert_eq!(parse_netns_link("mnt:[4026531840]"), None);
        assert_eq!(parse_netns_link("net:[40x]"), None);
        assert_eq!(parse_netns_link("net:[99999999999999999999999]"), None);
        assert_eq!(parse_netns_link(""), None);
    }

    #[test]
    fn socket_link() {
        assert_eq!(parse_socket_link(b"socket:[123]"), Some(123));
        assert_eq!(parse_socket_link(b"socket:[123"), None);
        assert_eq!(parse_socket_link(b"socket:[]"), None);
        assert_eq!(parse_socket_link(b"pipe:[9]"), None);
        assert_eq!(parse_socket_link(b"/dev/null"), None);
        assert_eq!(parse_socket_link(b"anon_inode:[eventpoll]"), None);
    }

    #[test]
    fn fdinfo_flags() {
        let f = "pos:\t0\nflags:\t04002\nmnt_id:\t15\nino:\t1234\n";
        assert_eq!(parse_fdinfo_flags(f), Some(0o4002));
        assert_ne!(parse_fdinfo_flags(f).unwrap_or(0) & O_NONBLOCK, 0);
        assert_eq!(parse_fdinfo_flags("flags:\t02000002\n"), Some(0o2000002));
        assert_eq!(parse_fdinfo_flags("pos:\t0\nflags:"), None);
        assert_eq!(parse_fdinfo_flags("flags:\t0489\n"), None);
        assert_eq!(parse_fdinfo_flags("flags:\t-1\n"), None);
        assert_eq!(parse_fdinfo_flags("flags:\t777777777777777\n"), None);
        assert_eq!(parse_fdinfo_flags("pos:\t0\n"), None);
        assert_eq!(parse_fdinfo_flags(""), None);
    }

    #[cfg(any(
        target_arch = "x86_64",
        target_arch = "x86",
        target_arch = "aarch64",
        target_arch = "arm",
        target_arch = "riscv64"
    ))]
    #[test]
    fn o_nonblock_value() {
        assert_eq!(O_NONBLOCK, 0o4000);
    }

    fn unit(s: &str) -> Option<String> {
        parse_cgroup_unit(s)
    }

    #[test]
    fn cgroup_systemd_units() {
        assert_eq!(
            unit("0::/system.slice/nginx.service\n"),
            Some("nginx.service".into())
        );
        assert_eq!(unit("0::/init.scope\n"), Some("init.scope".into()));
        assert_eq!(unit("0::/\n"), None);
        assert_eq!(unit("0::/system.slice\n"), None);
        assert_eq!(
            unit("0::/user.slice/user-1000.slice/user@1000.service/app.slice/x.service\n"),
            Some("x.service".into())
        );
        assert_eq!(
            unit("0::/user.slice/user-1000.slice/user@1000.service/init.scope\n"),
            Some("user@1000.service".into())
        );
        assert_eq!(
            unit("0::/user.slice/user-1000.slice/session-3.scope\n"),
            Some("session-3.scope".into())
        );
        assert_eq!(
            unit("0::/system.slice/systemd-resolved.socket\n"),
            Some("systemd-resolved.socket".into())
        );
        // a delegated subtree below a unit still belongs to the unit
        assert_eq!(
            unit("0::/system.slice/foo.service/workers/w1\n"),
            Some("foo.service".into())
        );
        assert_eq!(
            unit("0::/system.slice/bar.service (deleted)\n"),
            Some("bar.service".into())
        );
        // the podman monitor is an ordinary transient scope
        assert_eq!(
            unit(&format!("0::/machine.slice/libpod-conmon-{D64}.scope\n")),
            Some(format!("libpod-conmon-{D64}.scope"))
        );
    }

    #[test]
    fn cgroup_v1_prefers_name_systemd() {
        let v1 = "12:pids:/user.slice/user-1000.slice\n\
                  11:cpu,cpuacct:/\n\
                  1:name=systemd:/system.slice/sshd.service\n\
                  0::/system.slice/other.service\n";
        assert_eq!(unit(v1), Some("sshd.service".into()));
        // v1 without systemd (e.g. docker on a non-systemd host)
        let plain = format!("3:memory:/docker/{D64}\n2:cpu:/docker/{D64}\n1:cpuset:/\n");
        assert_eq!(unit(&plain), Some(format!("docker:{}", &D64[..12])));
    }

    #[test]
    fn cgroup_containers() {
        let short = &D64[..12];
        assert_eq!(
            unit(&format!("0::/system.slice/docker-{D64}.scope\n")),
            Some(format!("docker:{short}"))
        );
        assert_eq!(
            unit(&format!("0::/docker/{D64}\n")),
            Some(format!("docker:{short}"))
        );
        // systemd inside the container
        assert_eq!(
            unit(&format!("0::/system.slice/docker-{D64}.scope/init.scope\n")),
            Some(format!("docker:{short}"))
        );
        // docker id must be 64 hex
        assert_eq!(unit("0::/docker/abc\n"), None);
        assert_eq!(
            unit(&format!("0::/system.slice/cri-containerd-{D64}.scope\n")),
            Some(format!("containerd:{short}"))
        );
        assert_eq!(
            unit(&format!("0::/machine.slice/libpod-{D64}.scope\n")),
            Some(format!("podman:{short}"))
        );
        assert_eq!(
            unit(&format!("0::/machine.slice/libpod-{D64}.scope/container\n")),
            Some(format!("podman:{short}"))
        );
        assert_eq!(
            unit(&format!(
                "0::/user.slice/user-1000.slice/user@1000.service/user.slice/libpod-{D64}.scope\n"
            )),
            Some(format!("podman:{short}"))
        );
        assert_eq!(
            unit(&format!("0::/libpod_parent/libpod-{D64}\n")),
            Some(format!("podman:{short}"))
        );
    }

    #[test]
    fn cgroup_kubernetes() {
        let short = &D64[..12];
        let uid = "0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0";
        let uid_ = uid.replace('-', "_");
        assert_eq!(
            unit(&format!(
                "0::/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod{uid_}.slice/cri-containerd-{D64}.scope\n"
            )),
            Some(format!("k8s-pod:{uid}/{short}"))
        );
        assert_eq!(
            unit(&format!(
                "0::/kubepods.slice/kubepods-pod{uid_}.slice/crio-{D64}.scope\n"
            )),
            Some(format!("k8s-pod:{uid}/{short}"))
        );
        assert_eq!(
            unit(&format!(
                "0::/kubepods.slice/kubepods-pod{uid_}.slice/crio-conmon-{D64}.scope\n"
            )),
            Some(format!("k8s-pod:{uid}"))
        );
        assert_eq!(
            unit(&format!("0::/kubepods/burstable/pod{uid}/{D64}\n")),
            Some(format!("k8s-pod:{uid}/{short}"))
        );
        assert_eq!(
            unit(&format!("0::/kubepods/pod{uid}\n")),
            Some(format!("k8s-pod:{uid}"))
        );
        assert_eq!(
            unit(&format!(
                "0::/kubelet.slice/kubelet-kubepods.slice/kubelet-kubepods-besteffort.slice/kubelet-kubepods-besteffort-pod{uid_}.slice/docker-{D64}.scope\n"
            )),
            Some(format!("k8s-pod:{uid}/{short}"))
        );
        // kubepods QoS slices alone name no pod
        assert_eq!(unit("0::/kubepods.slice/kubepods-burstable.slice\n"), None);
    }

    #[test]
    fn cgroup_malformed() {
        assert_eq!(unit(""), None);
        assert_eq!(unit("garbage"), None);
        assert_eq!(unit("0:"), None);
        assert_eq!(unit("0::"), None);
        assert_eq!(unit("0::system.slice/x.service"), None);
        assert_eq!(unit("0::/system.slice/.service"), None);
        assert_eq!(unit("0::/system.slice/docker-abc"), None);
        assert_eq!(unit(&format!("0::/docker/{}", &D64[..30])), None);
        assert_eq!(unit("0::/kubepods/pod/"), None);
        assert_eq!(unit("0::/kubepods.slice/kubepods-pod.slice"), None);
        // not a container id: only the transient scope remains
        assert_eq!(
            unit("0::/machine.slice/libpod-zz.scope"),
            Some("libpod-zz.scope".into())
        );
        assert_eq!(unit("\u{0}\n::\n:::/\n"), None);
    }

    const NETSTAT: &str = "TcpExt: SyncookiesSent ListenOverflows ListenDrops TCPReqQFullDoCookies TCPReqQFullDrop TCPDeferAcceptDrop\n\
TcpExt: 1 20 21 3 4 5\n\
IpExt: InNoRoutes InTruncatedPkts\n\
IpExt: 0 0\n\
MPTcpExt: MPCapableSYNRX\n\
MPTcpExt: 0\n";

    #[test]
    fn netstat_tcpext() {
        let c = parse_netstat_tcpext(NETSTAT);
        assert_eq!(
            c,
            TcpExtCounters {
                listen_overflows: Some(20),
                listen_drops: Some(21),
                req_q_full_drop: Some(4),
                req_q_full_do_cookies: Some(3),
                defer_accept_drop: Some(5),
            }
        );
        // missing counter
        let c = parse_netstat_tcpext("TcpExt: ListenOverflows\nTcpExt: 7\n");
        assert_eq!(c.listen_overflows, Some(7));
        assert_eq!(c.listen_drops, None);
        // mismatched columns: pair ignored
        let c = parse_netstat_tcpext("TcpExt: ListenOverflows ListenDrops\nTcpExt: 7\n");
        assert_eq!(c, TcpExtCounters::default());
        // truncated: header only, or values cut mid-line
        assert_eq!(
            parse_netstat_tcpext("TcpExt: ListenOverflows ListenDrops\n"),
            TcpExtCounters::default()
        );
        let c = parse_netstat_tcpext("TcpExt: ListenOverflows ListenDrops\nTcpExt: 7 8x\n");
        assert_eq!(c.listen_overflows, Some(7));
        assert_eq!(c.listen_drops, None);
        // out of step: a stray line before the pair
        let c = parse_netstat_tcpext("IpExt: A\nTcpExt: ListenDrops\nTcpExt: 9\n");
        assert_eq!(c.listen_drops, Some(9));
        assert_eq!(parse_netstat_tcpext(""), TcpExtCounters::default());
        assert_eq!(parse_netstat_tcpext(":\n:\n"), TcpExtCounters::default());
    }

    #[test]
    fn sysctl_values() {
        assert_eq!(parse_sysctl_value("1\n"), Some(1));
        assert_eq!(parse_sysctl_value("-1\n"), Some(-1));
        assert_eq!(parse_sysctl_value("4096"), Some(4096));
        assert_eq!(parse_sysctl_value(""), None);
        assert_eq!(parse_sysctl_value("1 2\n"), None);
        assert_eq!(parse_sysctl_value("abc"), None);
        assert_eq!(parse_port_range("32768\t60999\n"), Some([32768, 60999]));
        assert_eq!(parse_port_range("1024 65535"), Some([1024, 65535]));
        assert_eq!(parse_port_range("32768\t"), None);
        assert_eq!(parse_port_range("32768\t60999\t1\n"), None);
        assert_eq!(parse_port_range("-1\t2\n"), None);
        assert_eq!(parse_port_range(""), None);
    }

    #[test]
    fn dec_parsers() {
        assert_eq!(parse_dec_u32(b"4294967295"), Some(u32::MAX));
        assert_eq!(parse_dec_u32(b"4294967296"), None);
        assert_eq!(parse_dec_u32(b""), None);
        assert_eq!(parse_dec_u32(b"."), None);
        assert_eq!(parse_dec_u32(b"+1"), None);
    }

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
                unit: Some("mysrv.service".into()),
                netns: Some(4026531840),
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
    fn stat_state() {
        assert_eq!(parse_stat_state(b"1 (systemd) S 0 1 1"), Some(b'S'));
        assert_eq!(parse_stat_state(b"300 (py) Z (x) Z 1"), Some(b'Z'));
        assert_eq!(parse_stat_state(b"300 (a) R (b) S 1"), Some(b'S'));
        assert_eq!(parse_stat_state(b"7 (kworker/0:1-events) I 2"), Some(b'I'));
        // truncated or malformed
        assert_eq!(parse_stat_state(b"300 (py"), None);
        assert_eq!(parse_stat_state(b"300 (py)"), None);
        assert_eq!(parse_stat_state(b"300 (py) "), None);
        assert_eq!(parse_stat_state(b"300 (py)Z"), None);
        assert_eq!(parse_stat_state(b"300 (py) 1 2"), None);
        assert_eq!(parse_stat_state(b""), None);
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
