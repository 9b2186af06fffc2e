//! `/proc`: who holds which socket (the fd walk), what each process is, and the per-namespace
//! sysctls and counters.
//!
//! Everything is read relative to a [`ProcRoot`] so that tests can point the readers at a
//! fixture tree. Formats follow proc(5) (and cgroups(7) for `/proc/PID/cgroup`); the parsers
//! are pure functions that never panic and answer `None` for anything malformed or truncated,
//! because procfs files are read while processes come and go.
//!
//! - `fds`: the fd walk (who holds which socket), one fd's inode and `O_NONBLOCK`;
//! - `process`: what one process is (name, cmdline, uids, unit, namespace);
//! - `namespaced`: the sysctls and counters of the reader's namespace, the host's name;
//! - `parse`: the pure parsers of proc(5) files; `cgroup`: units and containers from
//!   `/proc/PID/cgroup`.

mod cgroup;
mod fds;
mod namespaced;
mod parse;
mod process;

pub use cgroup::parse_cgroup_unit;
pub use fds::{
    FdScan, O_NONBLOCK, PidFds, SocketFdSeen, fd_socket_inode, fd_socket_inode_at, open_fd_table,
    read_fd_nonblocking, scan_socket_fds, scan_socket_fds_reusing, scan_socket_fds_seeing,
};
pub use namespaced::{
    HOST_FILES, NETSTAT_FILE, SYSCTL_FILES, read_host, read_sysctls, read_tcpext, read_tcpext_of,
};
pub use parse::{
    PF_KTHREAD, parse_cap_eff, parse_cmdline, parse_dec_u32, parse_fdinfo_flags, parse_netns_link,
    parse_netstat_tcpext, parse_port_range, parse_socket_link, parse_stat_flags,
    parse_stat_starttime, parse_stat_state, parse_status_u32, parse_status_uids,
    parse_sysctl_value,
};
pub use process::read_process;

use rustix::fd::{AsFd, BorrowedFd, OwnedFd};
use rustix::fs::{Mode, OFlags, openat};
use rustix::io::Errno;
use std::io::{self, Read};
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
    pub(crate) fn pid_path(&self, pid: u32, rest: &str) -> PathBuf {
        let mut p = self.path.join(pid.to_string());
        if !rest.is_empty() {
            p.push(rest);
        }
        p
    }

    /// `/proc/PID/REST`, or `/proc/PID/task/TID/REST` when the table was read through a
    /// live thread because the main thread has exited ([`PidFds::tid`]).
    pub(crate) fn task_path(&self, pid: u32, tid: Option<u32>, rest: &str) -> PathBuf {
        self.pid_path(pid, &task_relative(tid, rest))
    }
}

/// `REST`, or `task/TID/REST`: where a thread's view of a process file is.
pub(crate) fn task_relative(tid: Option<u32>, rest: &str) -> String {
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
    pub(crate) fn from_io(path: PathBuf, err: io::Error) -> Self {
        match err.raw_os_error() {
            Some(libc::ENOENT | libc::ESRCH) => Self::Vanished { path },
            Some(libc::EACCES | libc::EPERM) => Self::Denied { path },
            _ => Self::Other { path, source: err },
        }
    }

    pub(crate) fn from_errno(path: PathBuf, err: Errno) -> Self {
        Self::from_io(path, err.into())
    }

    pub(crate) fn malformed(path: PathBuf, what: &str) -> Self {
        Self::Other {
            path,
            source: io::Error::new(io::ErrorKind::InvalidData, what.to_owned()),
        }
    }
}

// Shared by the readers here and by `netns` (which lists /proc too).

/// Size of the `getdents64` buffers. 64 KiB lists ~2,000 fds per syscall; a `linux_dirent64`
/// for a short numeric name is 24 bytes.
pub(crate) const DIRENT_BUF: usize = 64 * 1024;

/// `socket:[18446744073709551615]` is 29 bytes and `net:[18446744073709551615]` 26; anything
/// longer is neither, so a longer (truncated) link target is harmless.
pub(crate) const LINK_BUF: usize = 64;

pub(crate) fn is_vanished(e: Errno) -> bool {
    e == Errno::NOENT || e == Errno::SRCH
}

pub(crate) fn is_denied(e: Errno) -> bool {
    e == Errno::ACCESS || e == Errno::PERM
}

/// Open a directory for listing and `*at` calls.
pub(crate) fn open_dir<Fd: AsFd, P: rustix::path::Arg>(
    dirfd: Fd,
    path: P,
) -> Result<OwnedFd, Errno> {
    openat(
        dirfd,
        path,
        OFlags::RDONLY | OFlags::DIRECTORY | OFlags::CLOEXEC,
        Mode::empty(),
    )
}

/// Read a whole (small) file relative to a directory fd.
pub(crate) fn read_at(dir: BorrowedFd<'_>, file: &str) -> io::Result<Vec<u8>> {
    let fd = openat(dir, file, OFlags::RDONLY | OFlags::CLOEXEC, Mode::empty())?;
    read_all(std::fs::File::from(fd))
}

pub(crate) fn read_file(path: PathBuf) -> Result<String, ProcError> {
    match std::fs::File::open(&path).and_then(read_all) {
        Ok(bytes) => Ok(String::from_utf8_lossy(&bytes).into_owned()),
        Err(e) => Err(ProcError::from_io(path, e)),
    }
}

/// A `/proc` file whole, by path (see [`read_all`]).
pub(crate) fn read_path(path: impl AsRef<std::path::Path>) -> io::Result<Vec<u8>> {
    read_all(std::fs::File::open(path)?)
}

/// A `/proc` file whole. Its size says 0, so a read into an empty vector starts at 32
/// bytes and grows: ten reads for a long cmdline, 10,000 for a snapshot's 370 processes.
/// Room for the usual file (`status` is about 1.5 KiB) makes it one read and the one that
/// finds the end.
fn read_all(mut file: std::fs::File) -> io::Result<Vec<u8>> {
    let mut out = Vec::with_capacity(4096);
    file.read_to_end(&mut out)?;
    Ok(out)
}
