//! Running code inside a network namespace, from a helper thread that entered it.

use super::NetnsTarget;
use rustix::fd::{AsFd, BorrowedFd, OwnedFd};
use rustix::fs::{Mode, OFlags};
use std::io;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

/// Why [`run_in`] could not enter a namespace.
#[derive(Debug, thiserror::Error)]
pub enum EnterError {
    /// EPERM/EACCES: setns(2) needs CAP_SYS_ADMIN in the namespace's owning user namespace
    /// (and in ours); opening another user's `/proc/PID/ns/net` needs ptrace access (proc(5)).
    #[error(
        "{}: {op}: permission denied (entering a network namespace needs CAP_SYS_ADMIN)",
        path.display()
    )]
    Denied { path: PathBuf, op: &'static str },
    /// ENOENT/ESRCH: the bind mount was removed or the process exited; or (from
    /// [`run_in_netns`]) the path now leads to a different namespace.
    #[error("{}: {op}: the namespace or its process is gone", path.display())]
    Gone { path: PathBuf, op: &'static str },
    /// EINVAL from setns(2): the file is not a network namespace.
    #[error("{}: not a network namespace", path.display())]
    NotNetns { path: PathBuf },
    #[error("{}: {op}: {source}", path.display())]
    Other {
        path: PathBuf,
        op: &'static str,
        source: io::Error,
    },
}

impl EnterError {
    fn classify(path: &Path, op: &'static str, err: io::Error) -> Self {
        let path = path.to_owned();
        match err.raw_os_error() {
            Some(libc::EPERM | libc::EACCES) => Self::Denied { path, op },
            Some(libc::ENOENT | libc::ESRCH) => Self::Gone { path, op },
            Some(libc::EINVAL) if op == "setns" => Self::NotNetns { path },
            _ => Self::Other {
                path,
                op,
                source: err,
            },
        }
    }
}

/// Run `f` inside the network namespace at `target_path` (`/run/netns/NAME`, another bind
/// mount, or `/proc/PID/ns/net`) and return its result.
///
/// The file is opened (`O_RDONLY|O_CLOEXEC`) on the calling thread, then a scoped helper
/// thread calls `setns(fd, CLONE_NEWNET)` (setns(2)) and runs `f`; the thread ends with `f`,
/// so neither the caller nor any other thread ever changes namespace. A panic in `f` is
/// resumed on the caller.
///
/// What the helper thread sees, after setns:
/// - sockets it creates (netlink included) belong to the target namespace, and keep it
///   after the thread ends, so `f` may return them;
/// - `/proc/thread-self/net/…` and `/proc/sys/net/…` are the thread's, i.e. the target's;
/// - `/proc/self/net/…` (and `/proc/net`, a link to it) is the thread-group leader's,
///   i.e. still the *caller's* namespace (proc(5): `/proc/self` is the process, and
///   `/proc/PID/net` shows the namespace of that task);
/// - thread-locals of the caller are not there, and the mount namespace (so `/etc`,
///   `/sys`) is unchanged: unlike `ip netns exec` (ip-netns(8)), nothing is remounted.
pub fn run_in<T: Send>(target_path: &Path, f: impl FnOnce() -> T + Send) -> Result<T, EnterError> {
    let fd = open_ns(target_path)?;
    run_in_fd(fd.as_fd(), target_path, f)
}

/// [`run_in`] on `target.open_path`, after checking that the opened file still is the
/// namespace `target.id` (a `/proc/PID/ns/net` path leads elsewhere once the process has
/// exited and its pid is reused; an `ip netns` name may have been deleted and re-added).
pub fn run_in_netns<T: Send>(
    target: &NetnsTarget,
    f: impl FnOnce() -> T + Send,
) -> Result<T, EnterError> {
    let Some(path) = target.open_path.as_deref() else {
        return Err(EnterError::Gone {
            path: PathBuf::new(),
            op: "open",
        });
    };
    let fd = open_ns(path)?;
    let file = std::fs::File::from(fd);
    let meta = file
        .metadata()
        .map_err(|e| EnterError::classify(path, "fstat", e))?;
    if meta.ino() != target.id {
        return Err(EnterError::Gone {
            path: path.to_owned(),
            op: "check inode",
        });
    }
    run_in_fd(file.as_fd(), path, f)
}

fn open_ns(path: &Path) -> Result<OwnedFd, EnterError> {
    rustix::fs::open(path, OFlags::RDONLY | OFlags::CLOEXEC, Mode::empty())
        .map_err(|e| EnterError::classify(path, "open", e.into()))
}

fn run_in_fd<T: Send>(
    fd: BorrowedFd<'_>,
    path: &Path,
    f: impl FnOnce() -> T + Send,
) -> Result<T, EnterError> {
    std::thread::scope(|scope| {
        let handle = std::thread::Builder::new()
            .name("bindscope-netns".to_owned())
            .spawn_scoped(scope, move || -> io::Result<T> {
                setns_net(fd)?;
                Ok(f())
            })
            .map_err(|e| EnterError::Other {
                path: path.to_owned(),
                op: "spawn thread",
                source: e,
            })?;
        match handle.join() {
            Ok(Ok(value)) => Ok(value),
            Ok(Err(e)) => Err(EnterError::classify(path, "setns", e)),
            Err(panic) => std::panic::resume_unwind(panic),
        }
    })
}

/// `setns(fd, CLONE_NEWNET)` on the calling thread (setns(2)): network namespaces are per
/// thread, so this is allowed in a multithreaded process (unlike user or mount namespaces).
///
/// Through libc because rustix's safe `thread::move_into_link_name_space` needs rustix's
/// `thread` feature, which this crate does not enable.
fn setns_net(fd: BorrowedFd<'_>) -> io::Result<()> {
    rustix::thread::move_into_link_name_space(fd, Some(rustix::thread::LinkNameSpaceType::Network))
        .map_err(io::Error::from)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::NetnsKind;

    #[test]
    fn run_in_errors() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("plain");
        std::fs::write(&file, "").unwrap();
        // EINVAL comes before any privilege check (setns(2)), so this holds for anyone.
        assert!(matches!(
            run_in(&file, || ()),
            Err(EnterError::NotNetns { .. })
        ));
        assert!(matches!(
            run_in(Path::new("/proc/self/ns/mnt"), || ()),
            Err(EnterError::NotNetns { .. }) | Err(EnterError::Denied { .. })
        ));
        assert!(matches!(
            run_in(&dir.path().join("missing"), || ()),
            Err(EnterError::Gone { .. })
        ));
        // our own namespace: root may enter it, others lack CAP_SYS_ADMIN
        let own = run_in(Path::new("/proc/self/ns/net"), || 7);
        if rustix::process::geteuid().is_root() {
            assert_eq!(own.ok(), Some(7));
        } else {
            assert!(matches!(own, Err(EnterError::Denied { .. })), "{own:?}");
        }
        // a stale target is refused by run_in_netns
        let stale = NetnsTarget {
            id: 1,
            name: None,
            kind: NetnsKind::Process,
            open_path: Some(PathBuf::from("/proc/self/ns/net")),
            pids: vec![],
            paths: vec![],
            container: None,
            containers: Vec::new(),
            unit: None,
            is_own: true,
        };
        assert!(matches!(
            run_in_netns(&stale, || ()),
            Err(EnterError::Gone { .. })
        ));
    }

    #[test]
    fn run_in_resumes_panics() {
        if !crate::testing::as_root("run_in_resumes_panics") {
            return;
        }
        let r = std::panic::catch_unwind(|| run_in(Path::new("/proc/self/ns/net"), || panic!("x")));
        assert!(r.is_err());
    }
}
