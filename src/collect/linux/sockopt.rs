//! Reading socket options that no kernel interface but `getsockopt` exposes (SO_REUSEADDR,
//! SO_REUSEPORT, TCP_DEFER_ACCEPT, TCP_FASTOPEN, SO_BINDTODEVICE's name), from a socket that
//! another process holds: `pidfd_getfd(2)` duplicates its fd, and we read it.
//!
//! The duplicate is the target's own socket (same open file description). Holding it keeps
//! the socket alive after the target exits: a dead service's port stays bound and an orphan
//! listener swallows connections (linux-bind-semantics.md §9). So the rules here are:
//! duplicate, check it is the socket we expect (SO_COOKIE), read, close at once; never
//! accept, read, write, set an option or change flags on it. The `OwnedFd` is dropped at the
//! end of [`OptionProber::probe`], before anything else runs.
//!
//! This is the only module with `unsafe`: `getsockopt` through libc, whose buffers we size.

use crate::collect::join::ProbedOptions;
use crate::collect::reasons;
use crate::model::Reason;
use crate::model::{Family, Proto};
use rustix::io::Errno;
use rustix::process::{Pid, PidfdFlags, PidfdGetfdFlags, pidfd_getfd, pidfd_open};
use std::collections::HashMap;
use std::os::fd::{AsRawFd, BorrowedFd, OwnedFd};

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
    #[error("pidfd_getfd is not available on this kernel (needs Linux 5.6)")]
    Unsupported,
    #[error("{0}")]
    Other(String),
}

impl ProbeError {
    /// A permission problem, as opposed to a race.
    pub fn is_denied(&self) -> bool {
        matches!(self, ProbeError::Denied(_) | ProbeError::Unsupported)
    }
}

/// Probes sockets, one pidfd per process for the whole scan (a pidfd holds no socket,
/// only the process's identity, so keeping it is harmless).
#[derive(Default)]
pub struct OptionProber {
    pidfds: HashMap<u32, Result<OwnedFd, ProbeError>>,
}

/// What to read: connections only need the two options that decide bind conflicts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Depth {
    Full,
    ReuseOnly,
}

impl OptionProber {
    pub fn new() -> Self {
        Self::default()
    }

    /// Reads the options of the socket that `pid` holds as `fd`, if it is still the socket
    /// with `cookie`.
    pub fn probe(
        &mut self,
        pid: u32,
        fd: u32,
        cookie: u64,
        family: Family,
        proto: Proto,
        depth: Depth,
    ) -> Result<ProbedOptions, ProbeError> {
        let pidfd = match self.pidfds.entry(pid).or_insert_with(|| open_pidfd(pid)) {
            Ok(fd) => fd,
            Err(e) => return Err(e.clone()),
        };
        let dup =
            pidfd_getfd(&*pidfd, fd as i32, PidfdGetfdFlags::empty()).map_err(|e| match e {
                Errno::PERM | Errno::ACCESS => ProbeError::Denied(e.to_string()),
                Errno::SRCH => ProbeError::Vanished,
                Errno::BADF => ProbeError::FdClosed,
                Errno::NOSYS => ProbeError::Unsupported,
                other => ProbeError::Other(format!("pidfd_getfd: {other}")),
            })?;
        let result = read_all(dup_borrow(&dup), fd, cookie, family, proto, depth);
        // Close the duplicate now, before anything else can happen (§9).
        drop(dup);
        result
    }
}

fn dup_borrow(fd: &OwnedFd) -> BorrowedFd<'_> {
    use std::os::fd::AsFd;
    fd.as_fd()
}

fn open_pidfd(pid: u32) -> Result<OwnedFd, ProbeError> {
    let pid = Pid::from_raw(pid as i32).ok_or(ProbeError::Vanished)?;
    pidfd_open(pid, PidfdFlags::empty()).map_err(|e| match e {
        Errno::SRCH => ProbeError::Vanished,
        Errno::NOSYS => ProbeError::Unsupported,
        Errno::PERM | Errno::ACCESS => ProbeError::Denied(e.to_string()),
        other => ProbeError::Other(format!("pidfd_open: {other}")),
    })
}

fn read_all(
    sock: BorrowedFd<'_>,
    fd: u32,
    cookie: u64,
    family: Family,
    proto: Proto,
    depth: Depth,
) -> Result<ProbedOptions, ProbeError> {
    // The fd number may have been closed and reused for another socket since the fd walk.
    let found = get_u64(sock, libc::SOL_SOCKET, libc::SO_COOKIE)
        .map_err(|e| ProbeError::Other(format!("SO_COOKIE: {e}")))?;
    if found != cookie {
        return Err(ProbeError::OtherSocket {
            fd,
            found,
            expected: cookie,
        });
    }
    let flag = |level, name| get_int(sock, level, name).map(|v| v != 0);
    let v6 = family == Family::Ipv6;
    let tcp = proto == Proto::Tcp;
    let full = depth == Depth::Full;
    Ok(ProbedOptions {
        reuseaddr: flag(libc::SOL_SOCKET, libc::SO_REUSEADDR),
        reuseport: flag(libc::SOL_SOCKET, libc::SO_REUSEPORT),
        v6only: v6.then(|| {
            if full {
                flag(libc::IPPROTO_IPV6, libc::IPV6_V6ONLY)
            } else {
                not_read()
            }
        }),
        // IPV6_FREEBIND and IP_FREEBIND set the same inet flag; SOL_IP works on both families.
        freebind: if full {
            flag(libc::SOL_IP, libc::IP_FREEBIND)
        } else {
            not_read()
        },
        transparent: if full {
            flag(libc::SOL_IP, libc::IP_TRANSPARENT)
        } else {
            not_read()
        },
        defer_accept: tcp.then(|| {
            if full {
                get_int(sock, libc::IPPROTO_TCP, libc::TCP_DEFER_ACCEPT).map(|v| v.max(0) as u32)
            } else {
                not_read()
            }
        }),
        fastopen: tcp.then(|| {
            if full {
                get_int(sock, libc::IPPROTO_TCP, libc::TCP_FASTOPEN).map(|v| v.max(0) as u32)
            } else {
                not_read()
            }
        }),
        bind_device: if full { get_device(sock) } else { not_read() },
    })
}

fn not_read<T>() -> Result<T, Reason> {
    Err(reasons::NOT_READ_FOR_CONNECTIONS.clone())
}

fn get_int(sock: BorrowedFd<'_>, level: i32, name: i32) -> Result<i32, Reason> {
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
        Err(Reason::from(getsockopt_error().as_str()))
    }
}

/// The text of the last getsockopt error, for a reason.
fn getsockopt_error() -> String {
    format!("getsockopt: {}", std::io::Error::last_os_error())
}

fn get_u64(sock: BorrowedFd<'_>, level: i32, name: i32) -> Result<u64, String> {
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
        Err(format!("getsockopt: {}", std::io::Error::last_os_error()))
    }
}

fn get_device(sock: BorrowedFd<'_>) -> Result<Option<String>, Reason> {
    // IFNAMSIZ is 16; the kernel returns the name without padding, and length 0 for none.
    let mut buf = [0u8; 32];
    let mut len = buf.len() as libc::socklen_t;
    // SAFETY: `buf` is a live array of `len` bytes; the kernel writes at most `len` bytes.
    let rc = unsafe {
        libc::getsockopt(
            sock.as_raw_fd(),
            libc::SOL_SOCKET,
            libc::SO_BINDTODEVICE,
            buf.as_mut_ptr().cast(),
            &mut len,
        )
    };
    if rc != 0 {
        return Err(Reason::from(getsockopt_error().as_str()));
    }
    let bytes = buf.get(..len as usize).unwrap_or(&[]);
    let name = bytes.split(|b| *b == 0).next().unwrap_or(&[]);
    Ok((!name.is_empty()).then(|| String::from_utf8_lossy(name).into_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::fd::AsRawFd;

    fn me() -> u32 {
        std::process::id()
    }

    fn cookie_of(fd: i32) -> u64 {
        // SAFETY: the test owns fd for the duration of the borrow.
        let b = unsafe { BorrowedFd::borrow_raw(fd) };
        get_u64(b, libc::SOL_SOCKET, libc::SO_COOKIE).expect("cookie")
    }

    #[test]
    fn probes_own_listener_and_checks_cookie() {
        let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        let fd = l.as_raw_fd();
        let cookie = cookie_of(fd);
        let mut p = OptionProber::new();
        let got = p
            .probe(
                me(),
                fd as u32,
                cookie,
                Family::Ipv4,
                Proto::Tcp,
                Depth::Full,
            )
            .expect("probe");
        // std sets SO_REUSEADDR on listeners (it does on Unix).
        assert_eq!(got.reuseaddr, Ok(true));
        assert_eq!(got.reuseport, Ok(false));
        assert_eq!(got.freebind, Ok(false));
        assert_eq!(got.defer_accept, Some(Ok(0)));
        assert_eq!(got.bind_device, Ok(None));
        assert!(got.v6only.is_none());

        let wrong = p.probe(
            me(),
            fd as u32,
            cookie ^ 1,
            Family::Ipv4,
            Proto::Tcp,
            Depth::Full,
        );
        assert!(matches!(wrong, Err(ProbeError::OtherSocket { .. })));
    }

    #[test]
    fn closed_fd_is_a_race_not_a_failure() {
        let mut p = OptionProber::new();
        let r = p.probe(me(), 987_654, 1, Family::Ipv4, Proto::Udp, Depth::Full);
        assert_eq!(r, Err(ProbeError::FdClosed));
    }

    #[test]
    fn vanished_process() {
        let mut child = std::process::Command::new("true").spawn().expect("spawn");
        let pid = child.id();
        child.wait().expect("wait");
        let mut p = OptionProber::new();
        let r = p.probe(pid, 3, 1, Family::Ipv4, Proto::Udp, Depth::Full);
        assert_eq!(r, Err(ProbeError::Vanished));
    }
}
