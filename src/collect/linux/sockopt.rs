//! Reading socket options that no kernel interface but `getsockopt` exposes (SO_REUSEADDR,
//! SO_REUSEPORT, TCP_DEFER_ACCEPT, TCP_FASTOPEN), from a socket that another process
//! holds: `pidfd_getfd(2)` duplicates its fd, and we read it.
//!
//! The duplicate is the target's own socket (same open file description). Holding it keeps
//! the socket alive after the target closes it: a service that closes its listener and
//! binds the port again at that moment gets EADDRINUSE, and a dead service's port stays
//! bound with an orphan listener swallowing connections (linux-bind-semantics.md §9). So the
//! window between `pidfd_getfd` and `close` holds nothing but getsockopt calls, and the
//! socket duplicated is the one expected:
//! - before the duplicate, `/proc/PID/fd/FD` must still name the socket's inode: the fd walk
//!   may be many milliseconds old, and a service that closed the socket since may hold a
//!   brand-new one under the same number, which is the socket most likely to be closed again
//!   while we hold it (the link is read relative to the holder's fd directory, opened once
//!   per holder: the same check without walking `/proc/PID/fd` for each socket). A snapshot
//!   duplicates most sockets from inside the walk, right after the walk read that link
//!   ([`OptionProber::probe_seen`], `owners::walk_probe`): the check is then microseconds
//!   old and not made twice;
//! - the SO_COOKIE check comes first after it, so a fd number reused in between is closed
//!   after one call;
//! - only what inet_diag did not already give is read ([`Wanted`]): IPV6_V6ONLY,
//!   IP_FREEBIND and IP_TRANSPARENT come from INET_DIAG_SKV6ONLY and INET_DIAG_SOCKOPT when
//!   the kernel sends them, and the bound device always comes from `idiag_if`;
//! - a listener's O_NONBLOCK is read there too, with `fcntl(F_GETFL)`: the duplicate shares
//!   the open file description, whose flags these are (what `/proc/PID/fdinfo/FD` prints),
//!   so one read-only call replaces opening and parsing a file per listener;
//! - the answers are kept as plain numbers ([`Answers`]): no allocation, no formatting,
//!   no lookup until the duplicate is closed; they become [`ProbedOptions`] afterwards.
//!
//! Never accept, read, write, set an option or change flags on the duplicate (F_GETFL only
//! reads them).
//!
//! This is the library's only module with `unsafe` (Cargo.toml denies it elsewhere):
//! `getsockopt` through libc, whose buffers we size.
#![allow(unsafe_code)]

use super::procfs::{self, ProcRoot};
use super::sources::ProbeOptions;
use crate::collect::join::ProbedOptions;
use crate::collect::raw::RawSocket;
use crate::collect::reasons;
use crate::collect::threads;
use crate::model::Reason;
use crate::model::{Family, Proto};
use rustix::io::Errno;
use rustix::process::{Pid, PidfdFlags, PidfdGetfdFlags, pidfd_getfd, pidfd_open};
use std::collections::HashMap;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd};
use std::sync::atomic::{AtomicUsize, Ordering};

/// Why a socket could not be probed at all.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProbeError {
    #[error("needs root or CAP_SYS_PTRACE over the holder (pidfd_getfd: {0})")]
    Denied(String),
    #[error("the holder exited during the scan")]
    Vanished,
    #[error("the holder closed the fd during the scan")]
    FdClosed,
    #[error(
        "the holder's fd {fd} now refers to another socket (cookie {found:#x}, expected {expected:#x})"
    )]
    OtherSocket { fd: u32, found: u64, expected: u64 },
    #[error("the holder's fd {fd} now refers to another file (checked before duplicating it)")]
    Replaced { fd: u32 },
    #[error("pidfd_getfd is not available on this kernel (needs Linux 5.6)")]
    Unsupported,
    #[error(
        "the holder's main thread has exited, and this kernel cannot duplicate a fd through another thread (pidfd_open PIDFD_THREAD needs Linux 6.9)"
    )]
    ThreadUnsupported,
    #[error("{0}")]
    Other(String),
}

impl ProbeError {
    /// A permission problem, as opposed to a race.
    pub fn is_denied(&self) -> bool {
        matches!(self, ProbeError::Denied(_) | ProbeError::Unsupported)
    }
}

/// Probes sockets, one pidfd per process (or thread) for the whole scan (a pidfd holds no
/// socket, only the process's identity, so keeping it is harmless).
pub struct OptionProber {
    root: ProcRoot,
    pidfds: HashMap<u32, Result<OwnedFd, ProbeError>>,
    /// Each holder's `/proc/PID/fd` (or its thread's), opened once, for the check before
    /// each duplicate.
    fd_tables: HashMap<u32, Result<OwnedFd, Errno>>,
}

/// The socket a probe expects behind a holder's fd: the inode the fd walk saw and the
/// cookie inet_diag gave.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Expected {
    pub inode: u64,
    pub cookie: u64,
}

/// Which options one probe reads. Each getsockopt runs while the duplicate keeps the
/// target's socket alive, so a probe reads only what inet_diag did not give.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Wanted {
    /// Listeners and unconnected sockets: every option. Connections: only the two that
    /// decide bind conflicts (SO_REUSEADDR, SO_REUSEPORT).
    pub full: bool,
    pub ipv6: bool,
    pub tcp: bool,
    /// inet_diag sent INET_DIAG_SKV6ONLY (IPv6 LISTEN and CLOSE sockets).
    pub diag_v6only: bool,
    /// inet_diag sent INET_DIAG_SOCKOPT with IP_FREEBIND and IP_TRANSPARENT (Linux 5.10+).
    pub diag_sockopt: bool,
    /// Read O_NONBLOCK too (F_GETFL). Never set by [`Wanted::for_socket`]: the caller that
    /// needs a listener's flags asks, and takes them out of the answer
    /// ([`ProbedOptions::nonblocking`]), so a socket's options compare equal however they
    /// were read.
    pub nonblocking: bool,
}

impl Wanted {
    /// What `r` needs from a probe, given what its inet_diag message carried.
    pub fn for_socket(r: &RawSocket) -> Wanted {
        Wanted {
            // LISTEN, and bound-only TCP or unconnected UDP (both reported as CLOSE).
            full: matches!(r.state, 10 | 7),
            ipv6: r.family == Family::Ipv6,
            tcp: r.proto == Proto::Tcp,
            diag_v6only: r.v6only.is_some(),
            diag_sockopt: r.sockopt.is_some(),
            nonblocking: false,
        }
    }

    fn v6only(&self) -> bool {
        self.full && self.ipv6 && !self.diag_v6only
    }

    fn freebind_transparent(&self) -> bool {
        self.full && !self.diag_sockopt
    }

    fn tcp_options(&self) -> bool {
        self.full && self.tcp
    }

    /// Why an option this probe did not read has no value here: a connection needs only
    /// the reuse pair; otherwise inet_diag gave it, and the join takes that instead.
    fn skipped(&self) -> Reason {
        if self.full {
            reasons::NOT_READ.clone()
        } else {
            reasons::NOT_READ_FOR_CONNECTIONS.clone()
        }
    }
}

/// Which pid a fd is taken from: the process, or one of its threads when the main thread
/// has exited (its fd table then lives only in the other threads, see
/// `procfs::PidFds::tid`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Holder {
    pub pid: u32,
    pub tid: Option<u32>,
    pub fd: u32,
}

impl OptionProber {
    /// `root`: where the holders' fd links are checked before a duplicate is taken.
    pub fn new(root: ProcRoot) -> Self {
        OptionProber {
            root,
            pidfds: HashMap::new(),
            fd_tables: HashMap::new(),
        }
    }

    /// Reads the options `want` names of the socket that `holder` holds, if it is still the
    /// `expected` one.
    pub fn probe(
        &mut self,
        holder: Holder,
        expected: Expected,
        want: Wanted,
    ) -> Result<ProbedOptions, ProbeError> {
        let task = holder.tid.unwrap_or(holder.pid);
        // The pidfd first, then the table: both name the same task.
        self.pidfd(holder)?;
        // Not a duplicate of whatever the number names now: see the module docs.
        let table = self
            .fd_tables
            .entry(task)
            .or_insert_with(|| procfs::open_fd_table(&self.root, holder.pid, holder.tid));
        let now = match table {
            Ok(dir) => procfs::fd_socket_inode_at(dir.as_fd(), holder.fd),
            Err(e) => Err(*e),
        };
        match now {
            Ok(Some(now)) if now == expected.inode => {}
            Ok(_) => return Err(ProbeError::Replaced { fd: holder.fd }),
            Err(Errno::NOENT | Errno::SRCH) => return Err(ProbeError::FdClosed),
            Err(e @ (Errno::PERM | Errno::ACCESS)) => {
                return Err(ProbeError::Denied(format!("readlink: {e}")));
            }
            Err(e) => return Err(ProbeError::Other(format!("readlink: {e}"))),
        }
        self.duplicate_and_read(holder, expected, want)
    }

    /// As [`OptionProber::probe`], for a caller that has just read `/proc/PID/fd/FD` and
    /// found `expected.inode` there (the fd walk, telling of each socket as it lists it):
    /// that read is the check, made microseconds before rather than again.
    pub fn probe_seen(
        &mut self,
        holder: Holder,
        expected: Expected,
        want: Wanted,
    ) -> Result<ProbedOptions, ProbeError> {
        self.duplicate_and_read(holder, expected, want)
    }

    /// The holder's task's pidfd, opened once.
    fn pidfd(&mut self, holder: Holder) -> Result<&OwnedFd, ProbeError> {
        let task = holder.tid.unwrap_or(holder.pid);
        self.pidfds
            .entry(task)
            .or_insert_with(|| open_pidfd(holder.pid, holder.tid))
            .as_ref()
            .map_err(Clone::clone)
    }

    /// The window (§9): duplicate, getsockopt calls only, close.
    fn duplicate_and_read(
        &mut self,
        holder: Holder,
        expected: Expected,
        want: Wanted,
    ) -> Result<ProbedOptions, ProbeError> {
        let cookie = expected.cookie;
        let pidfd = self.pidfd(holder)?;
        let dup = pidfd_getfd(pidfd, holder.fd as i32, PidfdGetfdFlags::empty());
        let answers = match &dup {
            Ok(d) => Ok(read_answers(d.as_fd(), cookie, want)),
            Err(e) => Err(*e),
        };
        drop(dup);
        let answers = answers.map_err(|e| match e {
            Errno::PERM | Errno::ACCESS => ProbeError::Denied(e.to_string()),
            Errno::SRCH => ProbeError::Vanished,
            Errno::BADF => ProbeError::FdClosed,
            Errno::NOSYS => ProbeError::Unsupported,
            other => ProbeError::Other(format!("pidfd_getfd: {other}")),
        })?;
        answers.into_options(holder.fd, cookie, want)
    }
}

/// One socket to probe: what to expect, what to read, and its holders to try in order
/// (`first..end` of the holder list given with the jobs).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ProbeJob {
    pub expected: Expected,
    pub want: Wanted,
    pub holders: (usize, usize),
}

/// What trying a socket's holders gave: the options from the first that could be read, or
/// the last error (the first denial stops the tries); and the unexpected errors met on
/// the way, for the scan's warning.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProbeDone {
    pub result: Result<ProbedOptions, ProbeError>,
    pub other_errors: Vec<String>,
}

/// Probes every job, in two threads when `second` is given (each prober keeps its own
/// pidfds and fd tables; the jobs are taken in runs of [`PROBE_RUN`], so a holder's
/// sockets stay mostly with one). The answers come back in the jobs' order, as one thread
/// would give them. Each duplicate is still taken, read and closed at once, by whichever
/// thread: two threads change how many sockets are probed at a time, not how long any
/// one is held.
pub fn probe_all(
    jobs: &[ProbeJob],
    holders: &[Holder],
    first: &mut dyn ProbeOptions,
    second: Option<Box<dyn ProbeOptions + Send>>,
) -> Vec<ProbeDone> {
    let next = AtomicUsize::new(0);
    let run = |prober: &mut dyn ProbeOptions| {
        let mut done: Vec<(usize, ProbeDone)> = Vec::new();
        loop {
            let start = next.fetch_add(PROBE_RUN, Ordering::Relaxed);
            let Some(run) = jobs.get(start..jobs.len().min(start + PROBE_RUN)) else {
                break;
            };
            if run.is_empty() {
                break;
            }
            for (i, job) in run.iter().enumerate() {
                let tries = holders.get(job.holders.0..job.holders.1).unwrap_or(&[]);
                done.push((start + i, probe_one(prober, job, tries)));
            }
        }
        done
    };
    let mut done = match second {
        Some(mut second) if jobs.len() > PROBE_RUN => {
            // No thread could be made: this one has taken every job already.
            let (more, mut done) = threads::beside(
                "bindscope-probe",
                || run(&mut *second),
                || run(first),
                Vec::new,
            );
            done.extend(more);
            done
        }
        _ => run(first),
    };
    done.sort_unstable_by_key(|&(i, _)| i);
    done.into_iter().map(|(_, d)| d).collect()
}

/// How many jobs a thread takes at a time.
const PROBE_RUN: usize = 256;

/// One socket through its holders, in order, until one answers.
fn probe_one(prober: &mut dyn ProbeOptions, job: &ProbeJob, tries: &[Holder]) -> ProbeDone {
    let mut other_errors = Vec::new();
    let mut last = Err(ProbeError::Other("no holder to read it from".to_string()));
    for &holder in tries {
        match prober.probe(holder, job.expected, job.want) {
            Ok(p) => {
                last = Ok(p);
                break;
            }
            Err(e) => {
                let denied = e.is_denied();
                if let ProbeError::Other(msg) = &e {
                    other_errors.push(msg.clone());
                }
                last = Err(e);
                if denied {
                    break;
                }
                // A race (exited, closed, fd reused): try the next holder.
            }
        }
    }
    ProbeDone {
        result: last,
        other_errors,
    }
}

/// `PIDFD_THREAD` (linux/pidfd.h: `O_EXCL`, whose value depends on the architecture): a
/// pidfd for one thread, through which `pidfd_getfd` reaches that thread's fd table.
const PIDFD_THREAD: u32 = libc::O_EXCL as u32;

fn open_pidfd(pid: u32, tid: Option<u32>) -> Result<OwnedFd, ProbeError> {
    let (task, flags) = match tid {
        None => (pid, PidfdFlags::empty()),
        Some(tid) => (tid, PidfdFlags::from_bits_retain(PIDFD_THREAD)),
    };
    let task = Pid::from_raw(task as i32).ok_or(ProbeError::Vanished)?;
    pidfd_open(task, flags).map_err(|e| match e {
        Errno::SRCH => ProbeError::Vanished,
        Errno::NOSYS => ProbeError::Unsupported,
        // Before 6.9 the flag is unknown, and a thread that is not a leader has no pidfd.
        Errno::INVAL if tid.is_some() => ProbeError::ThreadUnsupported,
        Errno::PERM | Errno::ACCESS => ProbeError::Denied(e.to_string()),
        other => ProbeError::Other(format!("pidfd_open: {other}")),
    })
}

/// One getsockopt's answer: the value, or the errno.
type Answer = Result<libc::c_int, Errno>;

/// What the kernel answered while the duplicate was open: plain numbers, nothing
/// allocated. `None`: not asked (see [`Wanted`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Answers {
    cookie: Result<u64, Errno>,
    /// The rest is read only when the cookie matched.
    options: Option<OptionAnswers>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct OptionAnswers {
    reuseaddr: Answer,
    reuseport: Answer,
    v6only: Option<Answer>,
    freebind: Option<Answer>,
    transparent: Option<Answer>,
    defer_accept: Option<Answer>,
    fastopen: Option<Answer>,
    /// The file status flags (F_GETFL), for listeners.
    flags: Option<Result<rustix::fs::OFlags, Errno>>,
}

/// Every getsockopt `want` asks for, cookie first; nothing else.
fn read_answers(sock: BorrowedFd<'_>, cookie: u64, want: Wanted) -> Answers {
    // The fd number may have been closed and reused for another socket since the fd walk.
    let found = get_u64(sock, libc::SOL_SOCKET, libc::SO_COOKIE);
    if found != Ok(cookie) {
        return Answers {
            cookie: found,
            options: None,
        };
    }
    let ask = |wanted: bool, level, name| wanted.then(|| get_int(sock, level, name));
    let options = OptionAnswers {
        reuseaddr: get_int(sock, libc::SOL_SOCKET, libc::SO_REUSEADDR),
        reuseport: get_int(sock, libc::SOL_SOCKET, libc::SO_REUSEPORT),
        v6only: ask(want.v6only(), libc::IPPROTO_IPV6, libc::IPV6_V6ONLY),
        // IPV6_FREEBIND and IP_FREEBIND set the same inet flag; SOL_IP works on both families.
        freebind: ask(want.freebind_transparent(), libc::SOL_IP, libc::IP_FREEBIND),
        transparent: ask(
            want.freebind_transparent(),
            libc::SOL_IP,
            libc::IP_TRANSPARENT,
        ),
        defer_accept: ask(
            want.tcp_options(),
            libc::IPPROTO_TCP,
            libc::TCP_DEFER_ACCEPT,
        ),
        fastopen: ask(want.tcp_options(), libc::IPPROTO_TCP, libc::TCP_FASTOPEN),
        flags: want.nonblocking.then(|| rustix::fs::fcntl_getfl(sock)),
    };
    Answers {
        cookie: found,
        options: Some(options),
    }
}

impl Answers {
    /// The answers as options, after the duplicate is closed.
    fn into_options(self, fd: u32, cookie: u64, want: Wanted) -> Result<ProbedOptions, ProbeError> {
        let found = self
            .cookie
            .map_err(|e| ProbeError::Other(format!("SO_COOKIE: getsockopt: {e}")))?;
        let Some(a) = self.options.filter(|_| found == cookie) else {
            return Err(ProbeError::OtherSocket {
                fd,
                found,
                expected: cookie,
            });
        };
        let flag = |a: Answer| a.map(|v| v != 0).map_err(reason);
        let count = |a: Answer| a.map(|v| v.max(0) as u32).map_err(reason);
        Ok(ProbedOptions {
            reuseaddr: flag(a.reuseaddr),
            reuseport: flag(a.reuseport),
            v6only: want
                .ipv6
                .then(|| a.v6only.map_or_else(|| Err(want.skipped()), flag)),
            freebind: a.freebind.map_or_else(|| Err(want.skipped()), flag),
            transparent: a.transparent.map_or_else(|| Err(want.skipped()), flag),
            defer_accept: want
                .tcp
                .then(|| a.defer_accept.map_or_else(|| Err(want.skipped()), count)),
            fastopen: want
                .tcp
                .then(|| a.fastopen.map_or_else(|| Err(want.skipped()), count)),
            // A failed F_GETFL leaves it to the fdinfo, as when it was not asked.
            nonblocking: a
                .flags
                .and_then(Result::ok)
                .map(|f| f.contains(rustix::fs::OFlags::NONBLOCK)),
        })
    }
}

/// The reason for a getsockopt that failed.
fn reason(e: Errno) -> Reason {
    Reason::from(format!("getsockopt: {e}").as_str())
}

fn get_int(sock: BorrowedFd<'_>, level: i32, name: i32) -> Answer {
    let mut value: libc::c_int = 0;
    let mut len = std::mem::size_of::<libc::c_int>() as libc::socklen_t;
    // SAFETY: `value` is a live c_int and `len` is its size; the kernel writes at most `len`
    // bytes and updates `len`. `sock` is a valid open fd for the duration of the call.
    let rc = unsafe {
        libc::getsockopt(
            sock.as_raw_fd(),
            level,
            name,
            (&mut value as *mut libc::c_int).cast(),
            &mut len,
        )
    };
    if rc == 0 {
        Ok(value)
    } else {
        Err(Errno::from_raw_os_error(errno()))
    }
}

fn get_u64(sock: BorrowedFd<'_>, level: i32, name: i32) -> Result<u64, Errno> {
    let mut value: u64 = 0;
    let mut len = std::mem::size_of::<u64>() as libc::socklen_t;
    // SAFETY: as in `get_int`, with a u64 buffer of `len` bytes.
    let rc = unsafe {
        libc::getsockopt(
            sock.as_raw_fd(),
            level,
            name,
            (&mut value as *mut u64).cast(),
            &mut len,
        )
    };
    if rc == 0 {
        Ok(value)
    } else {
        Err(Errno::from_raw_os_error(errno()))
    }
}

/// The calling thread's errno, read without allocating (io::Error's OS variant holds the
/// number only).
fn errno() -> i32 {
    std::io::Error::last_os_error().raw_os_error().unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::fd::AsRawFd;

    fn me(fd: i32) -> Holder {
        Holder {
            pid: std::process::id(),
            tid: None,
            fd: fd as u32,
        }
    }

    fn cookie_of(fd: i32) -> u64 {
        // SAFETY: the test owns fd for the duration of the borrow.
        let b = unsafe { BorrowedFd::borrow_raw(fd) };
        get_u64(b, libc::SOL_SOCKET, libc::SO_COOKIE).expect("cookie")
    }

    /// What the fd walk and inet_diag would say about this process's socket `fd`.
    fn expected(fd: i32) -> Expected {
        let root = ProcRoot::default();
        let inode = procfs::fd_socket_inode(&root, std::process::id(), None, fd as u32)
            .expect("readlink")
            .expect("a socket");
        Expected {
            inode,
            cookie: cookie_of(fd),
        }
    }

    fn prober() -> OptionProber {
        OptionProber::new(ProcRoot::default())
    }

    /// A TCP listener that inet_diag told nothing about.
    const LISTENER: Wanted = Wanted {
        full: true,
        ipv6: false,
        tcp: true,
        diag_v6only: false,
        diag_sockopt: false,
        nonblocking: true,
    };

    #[test]
    fn probes_own_listener_and_checks_cookie() {
        let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        let fd = l.as_raw_fd();
        let cookie = cookie_of(fd);
        let mut p = prober();
        let got = p.probe(me(fd), expected(fd), LISTENER).expect("probe");
        // std sets SO_REUSEADDR on listeners (it does on Unix).
        assert_eq!(got.reuseaddr, Ok(true));
        assert_eq!(got.reuseport, Ok(false));
        assert_eq!(got.freebind, Ok(false));
        assert_eq!(got.transparent, Ok(false));
        assert_eq!(got.defer_accept, Some(Ok(0)));
        assert_eq!(got.fastopen, Some(Ok(0)));
        assert!(got.v6only.is_none());
        // O_NONBLOCK is the open file description's, which the duplicate shares.
        assert_eq!(got.nonblocking, Some(false));
        l.set_nonblocking(true).expect("O_NONBLOCK");
        let got = p.probe(me(fd), expected(fd), LISTENER).expect("probe");
        assert_eq!(got.nonblocking, Some(true));
        let not_asked = Wanted {
            nonblocking: false,
            ..LISTENER
        };
        let got = p.probe(me(fd), expected(fd), not_asked).expect("probe");
        assert_eq!(got.nonblocking, None);

        let other_cookie = Expected {
            cookie: cookie ^ 1,
            ..expected(fd)
        };
        let wrong = p.probe(me(fd), other_cookie, LISTENER);
        assert!(matches!(wrong, Err(ProbeError::OtherSocket { .. })));
        // The fd walk saw another socket under this number: no duplicate is taken at all.
        let other_inode = Expected {
            inode: expected(fd).inode + 1,
            cookie,
        };
        let r = p.probe(me(fd), other_inode, LISTENER);
        assert_eq!(r, Err(ProbeError::Replaced { fd: fd as u32 }));
    }

    #[test]
    fn reads_only_what_inet_diag_did_not_give() {
        let l = std::net::TcpListener::bind("[::1]:0").expect("bind");
        let fd = l.as_raw_fd();
        // SAFETY: the listener lives until the end of the test.
        let sock = unsafe { BorrowedFd::borrow_raw(fd) };
        let cookie = cookie_of(fd);
        let all = Wanted {
            ipv6: true,
            ..LISTENER
        };
        let a = read_answers(sock, cookie, all)
            .options
            .expect("cookie matched");
        assert!(matches!(a.v6only, Some(Ok(0 | 1))), "{:?}", a.v6only);
        assert_eq!(a.freebind, Some(Ok(0)));
        assert_eq!(a.defer_accept, Some(Ok(0)));
        // With INET_DIAG_SKV6ONLY and INET_DIAG_SOCKOPT, neither is asked for; the join
        // takes inet_diag's values, so the probe's say only that they were not read.
        let diag = Wanted {
            diag_v6only: true,
            diag_sockopt: true,
            ..all
        };
        let a = read_answers(sock, cookie, diag)
            .options
            .expect("cookie matched");
        assert_eq!((a.v6only, a.freebind, a.transparent), (None, None, None));
        let o = read_answers(sock, cookie, diag)
            .into_options(fd as u32, cookie, diag)
            .expect("options");
        assert_eq!(o.v6only, Some(Err(reasons::NOT_READ.clone())));
        assert_eq!(o.freebind, Err(reasons::NOT_READ.clone()));
        assert_eq!(o.defer_accept, Some(Ok(0)));
        // A connection: the reuse pair only.
        let conn = Wanted { full: false, ..all };
        let a = read_answers(sock, cookie, conn)
            .options
            .expect("cookie matched");
        assert_eq!(a.defer_accept, None);
        assert_eq!(a.v6only, None);
        let o = read_answers(sock, cookie, conn)
            .into_options(fd as u32, cookie, conn)
            .expect("options");
        assert_eq!(o.reuseaddr, Ok(true));
        assert_eq!(
            o.defer_accept,
            Some(Err(reasons::NOT_READ_FOR_CONNECTIONS.clone()))
        );
        assert_eq!(
            o.v6only,
            Some(Err(reasons::NOT_READ_FOR_CONNECTIONS.clone()))
        );
    }

    #[test]
    fn another_socket_is_closed_after_the_cookie() {
        let l = std::net::UdpSocket::bind("127.0.0.1:0").expect("bind");
        let fd = l.as_raw_fd();
        // SAFETY: the socket lives until the end of the test.
        let sock = unsafe { BorrowedFd::borrow_raw(fd) };
        let cookie = cookie_of(fd);
        let a = read_answers(sock, cookie + 1, LISTENER);
        assert_eq!(a.cookie, Ok(cookie));
        assert_eq!(a.options, None, "nothing but SO_COOKIE was read");
        assert_eq!(
            a.into_options(fd as u32, cookie + 1, LISTENER),
            Err(ProbeError::OtherSocket {
                fd: fd as u32,
                found: cookie,
                expected: cookie + 1
            })
        );
    }

    /// The fd table of a process whose main thread has exited is reached through another
    /// thread's pidfd (PIDFD_THREAD, Linux 6.9+). Threads of this test process share its
    /// table, so a probe through one of them finds the listener.
    #[test]
    fn probes_through_a_thread() {
        let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        let fd = l.as_raw_fd();
        let (tid_tx, tid_rx) = std::sync::mpsc::channel();
        let (done_tx, done_rx) = std::sync::mpsc::channel::<()>();
        let thread = std::thread::spawn(move || {
            tid_tx
                .send(rustix::thread::gettid().as_raw_nonzero().get() as u32)
                .expect("send tid");
            let _ = done_rx.recv();
        });
        let tid = tid_rx.recv().expect("tid");
        let holder = Holder {
            tid: Some(tid),
            ..me(fd)
        };
        let got = prober().probe(holder, expected(fd), LISTENER);
        let _ = done_tx.send(());
        thread.join().expect("thread");
        let release = std::fs::read_to_string("/proc/sys/kernel/osrelease").expect("release");
        let mut v = release.split(|c: char| !c.is_ascii_digit());
        let version: (u32, u32) = (
            v.next().and_then(|n| n.parse().ok()).expect("major"),
            v.next().and_then(|n| n.parse().ok()).expect("minor"),
        );
        match got {
            Ok(o) => assert_eq!(o.reuseaddr, Ok(true)),
            // Only a kernel without PIDFD_THREAD may refuse, and then it must say so.
            Err(ProbeError::ThreadUnsupported) if version < (6, 9) => {}
            Err(e) => panic!("probe through thread {tid} on {release}: {e}"),
        }
    }

    /// Two threads give what one gives, in the jobs' order: 400 sockets of this process,
    /// one job each, a few with a stale first holder (a closed fd) before the real one.
    #[test]
    fn two_probers_answer_as_one() {
        let socks: Vec<std::net::UdpSocket> = (0..400)
            .map(|_| std::net::UdpSocket::bind("127.0.0.1:0").expect("bind"))
            .collect();
        let mut holders = Vec::new();
        let mut jobs = Vec::new();
        for (i, s) in socks.iter().enumerate() {
            let fd = s.as_raw_fd();
            let first = holders.len();
            if i % 50 == 0 {
                holders.push(me(987_654));
            }
            holders.push(me(fd));
            jobs.push(ProbeJob {
                expected: expected(fd),
                want: Wanted {
                    tcp: false,
                    nonblocking: false,
                    ..LISTENER
                },
                holders: (first, holders.len()),
            });
        }
        let one = probe_all(&jobs, &holders, &mut prober(), None);
        let two = probe_all(&jobs, &holders, &mut prober(), Some(Box::new(prober())));
        assert_eq!(one.len(), jobs.len());
        assert_eq!(one, two);
        assert!(
            one.iter()
                .all(|d| d.result.is_ok() && d.other_errors.is_empty())
        );
        // A job whose only holder is gone ends on the race, not on an answer.
        let gone = [ProbeJob {
            holders: (0, 1),
            ..jobs[0]
        }];
        let d = probe_all(&gone, &holders, &mut prober(), None);
        assert_eq!(d[0].result, Err(ProbeError::FdClosed));
    }

    #[test]
    fn closed_fd_is_a_race_not_a_failure() {
        let gone = Expected {
            inode: 1,
            cookie: 1,
        };
        let r = prober().probe(me(987_654), gone, LISTENER);
        assert_eq!(r, Err(ProbeError::FdClosed));
    }

    #[test]
    fn vanished_process() {
        let mut child = std::process::Command::new("true").spawn().expect("spawn");
        let pid = child.id();
        child.wait().expect("wait");
        let holder = Holder {
            pid,
            tid: None,
            fd: 3,
        };
        let gone = Expected {
            inode: 1,
            cookie: 1,
        };
        let r = prober().probe(holder, gone, LISTENER);
        assert_eq!(r, Err(ProbeError::Vanished));
    }
}
