//! One process: what bindscope shows about a holder.

use super::parse::{parse_cmdline, parse_netns_link, parse_status_u32, parse_status_uids};
use super::{LINK_BUF, ProcError, ProcRoot, is_vanished, open_dir, read_at, task_relative};
use crate::collect::raw::RawProcess;
use crate::collect::runtime::cgroup::{self, CgroupOwner};
use rustix::fd::{AsFd, BorrowedFd};
use rustix::fs::{CWD, readlinkat_raw};

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
    let status = String::from_utf8_lossy(&status);
    let (ruid, euid) = parse_status_uids(&status)
        .ok_or_else(|| ProcError::malformed(root.pid_path(pid, "status"), "no valid Uid: line"))?;
    let ppid = parse_status_u32(&status, "PPid:");
    let threads = parse_status_u32(&status, "Threads:");

    // cgroup is world-readable; a kernel without cgroups has no such file.
    let cgroup = match read("cgroup") {
        Ok(bytes) => cgroup::parse(&String::from_utf8_lossy(&bytes)),
        Err(e @ ProcError::Vanished { .. }) if pid_gone(dir.as_fd()) => return Err(e),
        Err(_) => CgroupOwner::None,
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

    // exe, like ns/net, needs ptrace read access; a zombie leader's is its thread's. A path
    // may be as long as PATH_MAX: a full buffer means it was cut, and is not used. An
    // upgraded binary still running reads "PATH (deleted)": the program is PATH.
    let mut path = vec![0u8; 4096];
    let exe = match readlinkat_raw(dir.as_fd(), of_task("exe").as_str(), &mut path) {
        Ok(len) if len < path.len() => path.get(..len).map(|l| {
            let text = String::from_utf8_lossy(l);
            text.strip_suffix(" (deleted)").unwrap_or(&text).to_string()
        }),
        _ => None,
    };

    Ok(RawProcess {
        pid,
        name,
        cmdline,
        ruid,
        euid,
        cgroup,
        netns,
        ppid,
        threads,
        exe,
    })
}

/// Whether the process behind an open `/proc/PID` directory has exited, to tell a missing
/// optional file (no cgroup support, no network namespaces) from a vanished process.
fn pid_gone(dir: BorrowedFd<'_>) -> bool {
    read_at(dir, "stat").is_err()
}
