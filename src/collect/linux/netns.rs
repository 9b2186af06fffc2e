//! Every network namespace in use on the host, what owns it, and running code inside one.
//!
//! [`discover`] finds namespaces from three sources:
//! - every numeric `/proc/PID`: the `ns/net` link (proc(5), namespaces(7)) names the
//!   namespace the thread-group leader lives in;
//! - the `ip netns` directory (normally `/run/netns`, ip-netns(8)): `ip netns add NAME`
//!   bind-mounts a namespace file on `/run/netns/NAME`, and `stat` of that mount point gives
//!   the namespace inode;
//! - other nsfs bind mounts (docker's `/run/docker/netns/…`, CNI's `/var/run/netns/cni-…`
//!   when not under `/run/netns`, systemd's `PrivateNetwork=` helpers, …) from
//!   `/proc/self/mountinfo` (proc(5)), which keep a namespace alive without any process.
//!
//! It then names each one (see [`discover`] for the rules). [`run_in`] and [`run_in_netns`]
//! run a closure on a helper thread that has entered a namespace with setns(2), so the caller
//! never changes namespace.

use super::procfs::{ProcRoot, parse_cgroup_unit, parse_netns_link};
use crate::model::NetnsKind;
use rustix::fd::{AsFd, BorrowedFd, OwnedFd};
use rustix::fs::{CWD, Mode, OFlags, RawDir, openat, readlinkat_raw};
use rustix::io::Errno;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::ffi::OsString;
use std::fmt::Write as _;
use std::io;
use std::os::unix::ffi::OsStringExt;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

/// The fixed inode of the initial network namespace (`init_net`), `NET_NS_INIT_INO` in
/// `include/uapi/linux/nsfs.h`, since Linux 6.18. Older kernels allocate `init_net`'s inode
/// dynamically; dynamic namespace inodes start at `0xF0000000` (`PROC_DYNAMIC_FIRST`), so on
/// any kernel this number can only ever be `init_net`.
pub const NET_NS_INIT_INO: u64 = 0xEFFF_FFF9;

/// `NSFS_MAGIC` (`include/uapi/linux/magic.h`): `statfs` of a namespace bind mount. `i128`
/// so every architecture's `f_type` (i64, u32, u64) converts losslessly.
const NSFS_MAGIC: i128 = 0x6e73_6673;

/// `PF_KTHREAD` in the `flags` field of `/proc/PID/stat` (proc(5), `include/linux/sched.h`).
const PF_KTHREAD: u64 = 0x0020_0000;

/// At most this many processes' `cgroup` files are read to name one namespace.
const MAX_CGROUP_READS: usize = 20;

/// Size of the `getdents64` buffer for listing `/proc`.
const DIRENT_BUF: usize = 64 * 1024;

/// `net:[18446744073709551615]` is 26 bytes; a longer (truncated) target is malformed anyway.
const LINK_BUF: usize = 64;

// What named a namespace is `crate::model::NetnsKind`; see [`discover`] for the order in
// which the kinds are tried.

/// One network namespace in use.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NetnsTarget {
    /// Inode of the namespace: the `N` of `net:[N]`.
    pub id: u64,
    /// `ip netns` name, `host`, the container or unit, or the bind mount's file name; `None`
    /// for [`NetnsKind::Process`].
    pub name: Option<String>,
    pub kind: NetnsKind,
    /// A path to open for setns(2): the `ip netns` bind mount, another bind mount, or
    /// `/proc/PID/ns/net` of a process living in it (`/proc/self/ns/net` for our own). A
    /// `/proc/PID` path can go stale when the process exits and its pid is reused: prefer
    /// [`run_in_netns`], which checks the inode.
    pub open_path: Option<PathBuf>,
    /// Thread-group leaders living in it (sorted). Includes kernel threads for the host.
    pub pids: Vec<u32>,
    /// Bind mounts naming it, sorted (`/run/netns/x`, `/run/docker/netns/y`, …).
    pub paths: Vec<PathBuf>,
    /// The most common container among its processes' cgroups (only looked up for
    /// namespaces that are neither named by `ip netns` nor the host's).
    pub container: Option<String>,
    /// The best systemd unit among its processes' cgroups (same condition as `container`).
    pub unit: Option<String>,
    /// The namespace this process runs in (`/proc/self/ns/net`, i.e. the thread-group
    /// leader's).
    pub is_own: bool,
}

/// Result of [`discover`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Discovery {
    /// Sorted by `id`.
    pub namespaces: Vec<NetnsTarget>,
    /// Anything unexpected, with the path involved. Vanished and unreadable processes are
    /// counted, not reported here.
    pub warnings: Vec<String>,
    /// Processes whose `ns/net` we may not read (EACCES/EPERM: ptrace access mode checks,
    /// proc(5)); their namespace may be missing from `namespaces`.
    pub unreadable_pids: u32,
    /// Processes that exited while being scanned (ENOENT/ESRCH; zombies also answer ENOENT,
    /// having released their namespaces).
    pub vanished_pids: u32,
}

/// Find every network namespace in use and name it.
///
/// Sources: the `ns/net` link of every numeric `ROOT/PID` (thread-group leaders only: a
/// thread that entered another namespace by itself, as [`run_in`] does, is not seen);
/// every entry of `run_netns` (normally `/run/netns`), checked to be an nsfs bind mount with
/// `statfs`; and the nsfs mounts of `ROOT/self/mountinfo`.
///
/// Naming, first match wins:
/// 1. [`NetnsKind::Named`]: a bind mount directly in `run_netns`; the name is its file
///    name (the first in sort order if there are several).
/// 2. [`NetnsKind::Host`], name `host`. The host namespace is, in order: the one whose inode
///    is [`NET_NS_INIT_INO`] (exact, Linux 6.18+); else pid 1's (the init system of our pid
///    namespace, which on a host runs in `init_net`); else pid 2's if `ROOT/2/stat` shows it
///    is a kernel thread (kthreadd: kernel threads share `init_nsproxy`, so they always live
///    in `init_net`); else no namespace is marked as the host rather than guessing.
///    This comes before containers and units, unlike the order one might expect, because the
///    host namespace holds every service: naming it after its most common unit would be
///    wrong.
/// 3. [`NetnsKind::Container`]: the most common container (`docker:…`, `containerd:…`,
///    `podman:…`, `k8s-pod:UID`) among the `cgroup` files (parsed by [`parse_cgroup_unit`])
///    of its first 20 processes (lowest pids). A kubernetes pod's containers share one
///    namespace, so `k8s-pod:UID/CONTAINER` is shortened to `k8s-pod:UID`.
/// 4. [`NetnsKind::Unit`]: the most common systemd unit among the same processes, where
///    `init.scope`, `user@N.service` and `session-N.scope` only count if nothing better is
///    found. Ties go to the unit of the lowest pid.
/// 5. [`NetnsKind::Mount`]: another bind mount; the name is its file name.
/// 6. [`NetnsKind::Process`], no name.
///
/// Never panics. A process exiting mid-scan is counted in `vanished_pids`, a denied one in
/// `unreadable_pids`, anything else becomes a warning.
pub fn discover(root: &ProcRoot, run_netns: &Path) -> Discovery {
    let mut out = Discovery::default();

    let own = read_own_netns(root, &mut out.warnings);
    let members = scan_processes(root, &mut out);
    let mounts = read_mountinfo(root, &mut out.warnings);
    let named = list_run_netns(run_netns, &mounts, &mut out.warnings);

    #[derive(Default)]
    struct Acc {
        pids: Vec<u32>,
        paths: BTreeSet<PathBuf>,
    }
    let mut acc: BTreeMap<u64, Acc> = BTreeMap::new();
    for &(pid, ns) in &members {
        acc.entry(ns).or_default().pids.push(pid);
    }
    for (ns, path) in named.into_iter().chain(
        mounts
            .into_iter()
            .filter(|m| m.ns_type == "net")
            .map(|m| (m.inode, m.mount_point)),
    ) {
        acc.entry(ns).or_default().paths.insert(path);
    }
    if let Some(own) = own {
        // Normally already present through our own pid; keep it even if that read failed.
        acc.entry(own).or_default();
    }

    let pid_ns = |pid: u32| members.iter().find(|m| m.0 == pid).map(|m| m.1);
    let host = choose_host(
        |ns| acc.contains_key(&ns),
        pid_ns(1),
        || pid_ns(2).filter(|_| is_kernel_thread(root, 2)),
    );

    for (id, Acc { mut pids, paths }) in acc {
        pids.sort_unstable();
        pids.dedup();
        let paths: Vec<PathBuf> = paths.into_iter().collect();
        let is_own = own == Some(id);
        let ip_name = paths
            .iter()
            .find(|p| p.parent() == Some(run_netns))
            .and_then(|p| file_name(p));
        let other_mount = paths.iter().find(|p| p.parent() != Some(run_netns));

        let open_path = paths
            .iter()
            .find(|p| p.parent() == Some(run_netns))
            .or(other_mount)
            .cloned()
            .or_else(|| is_own.then(|| root.path().join("self/ns/net")))
            .or_else(|| {
                pids.first()
                    .map(|pid| root.path().join(format!("{pid}/ns/net")))
            });

        let (mut name, mut kind, mut container, mut unit) = (None, NetnsKind::Process, None, None);
        if let Some(n) = ip_name {
            (name, kind) = (Some(n), NetnsKind::Named);
        } else if host == Some(id) {
            (name, kind) = (Some("host".to_owned()), NetnsKind::Host);
        } else {
            let owners = read_owners(root, &pids, &mut out.warnings);
            container = owners.container;
            unit = owners.unit;
            if let Some(c) = &container {
                (name, kind) = (Some(c.clone()), NetnsKind::Container);
            } else if let Some(u) = &unit {
                (name, kind) = (Some(u.clone()), NetnsKind::Unit);
            } else if let Some(n) = other_mount.and_then(|p| file_name(p)) {
                (name, kind) = (Some(n), NetnsKind::Mount);
            }
        }

        out.namespaces.push(NetnsTarget {
            id,
            name,
            kind,
            open_path,
            pids,
            paths,
            container,
            unit,
            is_own,
        });
    }
    out
}

fn file_name(p: &Path) -> Option<String> {
    p.file_name().map(|n| n.to_string_lossy().into_owned())
}

/// The host rule of [`discover`], pure so it can be tested: `exists` says whether a namespace
/// was found at all, `kthreadd` is only evaluated when needed (it reads a file).
fn choose_host(
    exists: impl Fn(u64) -> bool,
    pid1: Option<u64>,
    kthreadd: impl FnOnce() -> Option<u64>,
) -> Option<u64> {
    if exists(NET_NS_INIT_INO) {
        return Some(NET_NS_INIT_INO);
    }
    pid1.or_else(kthreadd)
}

/// Whether `ROOT/PID/stat` has `PF_KTHREAD` in its flags.
fn is_kernel_thread(root: &ProcRoot, pid: u32) -> bool {
    std::fs::read(root.path().join(format!("{pid}/stat")))
        .ok()
        .and_then(|b| parse_stat_flags(&String::from_utf8_lossy(&b)))
        .is_some_and(|flags| flags & PF_KTHREAD != 0)
}

/// The `flags` field (9th) of `/proc/PID/stat` (proc(5)). `comm` (2nd, in parentheses) may
/// hold spaces and parentheses, so fields are counted after the last `)`.
fn parse_stat_flags(stat: &str) -> Option<u64> {
    let (_, rest) = stat.rsplit_once(')')?;
    // state ppid pgrp session tty_nr tpgid flags
    rest.split_ascii_whitespace().nth(6)?.parse().ok()
}

// ---------------------------------------------------------------------------------------------
// Sources
// ---------------------------------------------------------------------------------------------

fn read_own_netns(root: &ProcRoot, warnings: &mut Vec<String>) -> Option<u64> {
    let path = root.path().join("self/ns/net");
    match std::fs::read_link(&path) {
        Ok(link) => {
            let ns = link.to_str().and_then(parse_netns_link);
            if ns.is_none() {
                warnings.push(format!("{}: unexpected link {link:?}", path.display()));
            }
            ns
        }
        Err(e) => {
            warnings.push(format!("{}: {e}", path.display()));
            None
        }
    }
}

fn open_dir(path: &Path) -> Result<OwnedFd, Errno> {
    openat(
        CWD,
        path,
        OFlags::RDONLY | OFlags::DIRECTORY | OFlags::CLOEXEC,
        Mode::empty(),
    )
}

/// Decimal digits only, as `/proc` names pids.
fn parse_pid(name: &[u8]) -> Option<u32> {
    if name.is_empty() || !name.iter().all(u8::is_ascii_digit) {
        return None;
    }
    std::str::from_utf8(name).ok()?.parse().ok()
}

/// `(pid, netns inode)` for every readable thread-group leader under `root`; counts the
/// vanished and unreadable ones into `out`.
fn scan_processes(root: &ProcRoot, out: &mut Discovery) -> Vec<(u32, u64)> {
    let mut members = Vec::new();
    let root_fd = match open_dir(root.path()) {
        Ok(fd) => fd,
        Err(e) => {
            out.warnings.push(format!(
                "{}: cannot open: {}",
                root.path().display(),
                io::Error::from(e)
            ));
            return members;
        }
    };
    let mut buf: Vec<u8> = Vec::with_capacity(DIRENT_BUF);
    let mut entries = RawDir::new(root_fd.as_fd(), buf.spare_capacity_mut());
    let mut rel = String::with_capacity(32);
    let mut link = [0u8; LINK_BUF];
    // Unexpected errors are summarised so a systematic failure gives one warning, not one
    // per process.
    let mut other_errors = 0u32;
    let mut first_other: Option<String> = None;
    while let Some(entry) = entries.next() {
        let entry = match entry {
            Ok(entry) => entry,
            Err(e) => {
                // RawDir would retry a failing getdents forever; stop here.
                out.warnings.push(format!(
                    "{}: listing failed: {}",
                    root.path().display(),
                    io::Error::from(e)
                ));
                break;
            }
        };
        let Some(pid) = parse_pid(entry.file_name().to_bytes()) else {
            continue; // self, net, sys, …
        };
        rel.clear();
        let _ = write!(rel, "{pid}/ns/net");
        match readlinkat_raw(root_fd.as_fd(), rel.as_str(), &mut link) {
            Ok(len) => {
                match link
                    .get(..len)
                    .and_then(|l| std::str::from_utf8(l).ok())
                    .and_then(parse_netns_link)
                {
                    Some(ns) => members.push((pid, ns)),
                    None => {
                        other_errors += 1;
                        first_other.get_or_insert_with(|| {
                            format!(
                                "{}: unexpected link {:?}",
                                root.path().join(&rel).display(),
                                String::from_utf8_lossy(link.get(..len).unwrap_or_default())
                            )
                        });
                    }
                }
            }
            Err(e) if e == Errno::NOENT || e == Errno::SRCH => out.vanished_pids += 1,
            Err(e) if e == Errno::ACCESS || e == Errno::PERM => out.unreadable_pids += 1,
            Err(e) => {
                other_errors += 1;
                first_other.get_or_insert_with(|| {
                    format!(
                        "{}: {}",
                        root.path().join(&rel).display(),
                        io::Error::from(e)
                    )
                });
            }
        }
    }
    if let Some(first) = first_other {
        if other_errors > 1 {
            out.warnings
                .push(format!("{first} (and {} more processes)", other_errors - 1));
        } else {
            out.warnings.push(first);
        }
    }
    members
}

/// One nsfs mount from mountinfo.
#[derive(Debug, Clone, PartialEq, Eq)]
struct NsfsMount {
    /// `net`, `mnt`, `uts`, … (the part before `:[` of the root field).
    ns_type: String,
    inode: u64,
    mount_point: PathBuf,
}

fn read_mountinfo(root: &ProcRoot, warnings: &mut Vec<String>) -> Vec<NsfsMount> {
    let path = root.path().join("self/mountinfo");
    match std::fs::read(&path) {
        Ok(bytes) => parse_mountinfo_nsfs_any(&bytes),
        Err(e) => {
            warnings.push(format!(
                "{}: {e} (bind-mounted namespaces outside {} not found)",
                path.display(),
                "the ip netns directory"
            ));
            Vec::new()
        }
    }
}

/// The network namespaces bind-mounted somewhere, from the text of `/proc/PID/mountinfo`
/// (proc(5)): `(namespace inode, mount point)` for each line whose filesystem type is `nsfs`
/// and whose root is `net:[INODE]`, in file order.
///
/// A line reads `ID PARENT MAJ:MIN ROOT MOUNT_POINT OPTIONS [OPTIONAL...] - FSTYPE SOURCE
/// SUPER_OPTIONS`; the optional fields (`shared:3`, `master:1`, …) end at the `-` separator.
/// Paths escape space, tab, newline and backslash as octal (`\040`, `\011`, `\012`, `\134`),
/// decoded here; mount points need not be UTF-8. Malformed or truncated lines are skipped.
pub fn parse_mountinfo_nsfs(text: impl AsRef<[u8]>) -> Vec<(u64, PathBuf)> {
    parse_mountinfo_nsfs_any(text.as_ref())
        .into_iter()
        .filter(|m| m.ns_type == "net")
        .map(|m| (m.inode, m.mount_point))
        .collect()
}

/// Every nsfs mount, of any namespace type.
fn parse_mountinfo_nsfs_any(text: &[u8]) -> Vec<NsfsMount> {
    text.split(|&b| b == b'\n')
        .filter_map(parse_mountinfo_line)
        .collect()
}

fn parse_mountinfo_line(line: &[u8]) -> Option<NsfsMount> {
    let fields: Vec<&[u8]> = line.split(|&b| b == b' ').collect();
    // Fields 1-6 are mandatory; the separator can only come after them.
    let sep = fields.iter().skip(6).position(|f| *f == b"-")? + 6;
    // FSTYPE SOURCE SUPER_OPTIONS must all be there, so that a line cut short (a read racing
    // with mount changes) is not taken for a complete one.
    let [fstype, _source, _super_options] = fields.get(sep + 1..)? else {
        return None;
    };
    if *fstype != b"nsfs" {
        return None;
    }
    let root = std::str::from_utf8(fields.get(3)?).ok()?;
    let (ns_type, rest) = root.split_once(":[")?;
    let inode = rest.strip_suffix(']')?;
    if ns_type.is_empty() || inode.is_empty() || !inode.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let inode = inode.parse().ok()?;
    let mount_point = fields.get(4).filter(|f| !f.is_empty())?;
    Some(NsfsMount {
        ns_type: ns_type.to_owned(),
        inode,
        mount_point: PathBuf::from(OsString::from_vec(unescape_octal(mount_point))),
    })
}

/// Decode the kernel's `\NNN` octal escapes (`seq_path`/`mangle_path` in `fs/seq_file.c`);
/// a backslash not followed by three octal digits of a byte value is kept as is.
fn unescape_octal(s: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(s.len());
    let mut i = 0;
    while i < s.len() {
        if s[i] == b'\\'
            && let Some(&[a, b, c]) = s.get(i + 1..i + 4)
            && [a, b, c].iter().all(|d| (b'0'..=b'7').contains(d))
        {
            let v = u32::from(a - b'0') * 64 + u32::from(b - b'0') * 8 + u32::from(c - b'0');
            if let Ok(byte) = u8::try_from(v) {
                out.push(byte);
                i += 4;
                continue;
            }
        }
        out.push(s[i]);
        i += 1;
    }
    out
}

/// `(netns inode, path)` for every nsfs bind mount directly in `dir` (ip-netns(8): `ip netns
/// add NAME` creates `/run/netns/NAME` and bind-mounts the namespace on it). An entry that
/// is not on nsfs (an `ip netns add` in progress, or a stale file left after a failed
/// mount) or is a namespace of another type (known from `mounts`) is skipped with a warning.
fn list_run_netns(
    dir: &Path,
    mounts: &[NsfsMount],
    warnings: &mut Vec<String>,
) -> Vec<(u64, PathBuf)> {
    let mut out = Vec::new();
    let entries = match std::fs::read_dir(dir) {
        Ok(entries) => entries,
        // No `ip netns add` since boot: the directory does not exist.
        Err(e) if e.kind() == io::ErrorKind::NotFound => return out,
        Err(e) => {
            warnings.push(format!("{}: {e}", dir.display()));
            return out;
        }
    };
    for entry in entries {
        let entry = match entry {
            Ok(entry) => entry,
            Err(e) => {
                warnings.push(format!("{}: listing failed: {e}", dir.display()));
                break;
            }
        };
        let path = dir.join(entry.file_name());
        let meta = match std::fs::metadata(&path) {
            Ok(meta) => meta,
            Err(e) if e.kind() == io::ErrorKind::NotFound => continue, // `ip netns del`
            Err(e) => {
                warnings.push(format!("{}: {e}", path.display()));
                continue;
            }
        };
        match rustix::fs::statfs(&path) {
            Ok(fs) if i128::from(fs.f_type) == NSFS_MAGIC => {}
            Ok(_) => {
                warnings.push(format!(
                    "{}: not a bind-mounted namespace (stale `ip netns` entry?)",
                    path.display()
                ));
                continue;
            }
            Err(e) if e == Errno::NOENT => continue,
            Err(e) => {
                warnings.push(format!(
                    "{}: statfs: {}",
                    path.display(),
                    io::Error::from(e)
                ));
                continue;
            }
        }
        // The visible mount on a path is the last one mountinfo lists for it.
        if let Some(m) = mounts.iter().rev().find(|m| m.mount_point == path)
            && m.ns_type != "net"
        {
            warnings.push(format!(
                "{}: a {} namespace, not a network namespace",
                path.display(),
                m.ns_type
            ));
            continue;
        }
        out.push((meta.ino(), path));
    }
    out
}

// ---------------------------------------------------------------------------------------------
// Owners from cgroups
// ---------------------------------------------------------------------------------------------

#[derive(Debug, Default, PartialEq, Eq)]
struct Owners {
    container: Option<String>,
    unit: Option<String>,
}

/// Read the `cgroup` file of the first `MAX_CGROUP_READS` of `pids` and pick the owners.
/// A process that exited meanwhile is skipped silently (it was already counted as living in
/// the namespace); other failures are warnings.
fn read_owners(root: &ProcRoot, pids: &[u32], warnings: &mut Vec<String>) -> Owners {
    let mut found = Vec::new();
    for &pid in pids.iter().take(MAX_CGROUP_READS) {
        let path = root.path().join(format!("{pid}/cgroup"));
        match std::fs::read(&path) {
            Ok(bytes) => found.extend(parse_cgroup_unit(&String::from_utf8_lossy(&bytes))),
            Err(e) if matches!(e.raw_os_error(), Some(libc::ENOENT | libc::ESRCH)) => {}
            Err(e) => warnings.push(format!("{}: {e}", path.display())),
        }
    }
    choose_owners(&found)
}

/// The pure part of [`read_owners`]: `found` holds [`parse_cgroup_unit`] results in pid
/// order.
fn choose_owners(found: &[String]) -> Owners {
    let containers: Vec<&str> = found
        .iter()
        .filter(|s| is_container(s))
        .map(|s| pod_of(s))
        .collect();
    let units: Vec<&str> = found
        .iter()
        .filter(|s| !is_container(s))
        .map(String::as_str)
        .collect();
    let strong: Vec<&str> = units.iter().copied().filter(|u| !is_weak_unit(u)).collect();
    let unit = most_common(&strong).or_else(|| most_common(&units));
    Owners {
        container: most_common(&containers).map(str::to_owned),
        unit: unit.map(str::to_owned),
    }
}

/// A [`parse_cgroup_unit`] result naming a container rather than a systemd unit.
fn is_container(s: &str) -> bool {
    let unit_suffix = [".service", ".scope", ".socket"]
        .iter()
        .any(|suffix| s.ends_with(suffix));
    !unit_suffix
        && ["docker:", "containerd:", "podman:", "k8s-pod:"]
            .iter()
            .any(|p| s.starts_with(p))
}

/// `k8s-pod:UID/CONTAINER` → `k8s-pod:UID`: the network namespace is the pod's.
fn pod_of(s: &str) -> &str {
    if s.starts_with("k8s-pod:") {
        s.split_once('/').map_or(s, |(pod, _)| pod)
    } else {
        s
    }
}

/// Units every login or user manager has; only used when nothing more specific is found.
fn is_weak_unit(u: &str) -> bool {
    u == "init.scope"
        || (u.starts_with("user@") && u.ends_with(".service"))
        || (u.starts_with("session-") && u.ends_with(".scope"))
}

/// The most frequent item; ties go to the one seen first.
fn most_common<'a>(items: &[&'a str]) -> Option<&'a str> {
    let mut counts: HashMap<&str, (usize, usize)> = HashMap::new();
    for (i, item) in items.iter().enumerate() {
        counts.entry(item).or_insert((0, i)).0 += 1;
    }
    counts
        .into_iter()
        .max_by(|a, b| a.1.0.cmp(&b.1.0).then(b.1.1.cmp(&a.1.1)))
        .map(|(item, _)| item)
}

// ---------------------------------------------------------------------------------------------
// Entering a namespace
// ---------------------------------------------------------------------------------------------

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
    use std::os::unix::fs::symlink;
    use std::process::{Child, Command, Stdio};

    const D64: &str = "3f2a1b4c5d6e7f8091a2b3c4d5e6f708192a3b4c5d6e7f8091a2b3c4d5e6f708";

    #[test]
    fn mountinfo_lines() {
        let text = "\
22 1 0:21 / /proc rw,nosuid shared:12 - proc proc rw
49 42 0:4 net:[4026532247] /run/netns/bsman rw shared:3 - nsfs nsfs rw
50 42 0:4 net:[4026532316] /run/docker/netns/1a2b3c rw - nsfs nsfs rw
51 42 0:4 mnt:[4026532500] /run/mntns/x rw shared:4 - nsfs nsfs rw
52 42 0:4 net:[4026532317] /var/run/my\\040ns\\011tab\\134back rw shared:5 master:2 propagate_from:1 - nsfs nsfs rw
";
        assert_eq!(
            parse_mountinfo_nsfs(text),
            vec![
                (4026532247, PathBuf::from("/run/netns/bsman")),
                (4026532316, PathBuf::from("/run/docker/netns/1a2b3c")),
                (4026532317, PathBuf::from("/var/run/my ns\ttab\\back")),
            ]
        );
        // bytes, not UTF-8
        assert_eq!(
            parse_mountinfo_nsfs(b"1 2 0:4 net:[7] /x\xff\\040y rw - nsfs nsfs rw\n"),
            vec![(7, PathBuf::from(OsString::from_vec(b"/x\xff y".to_vec())))]
        );
        // the mount of another type keeps its type internally
        let any = parse_mountinfo_nsfs_any(text.as_bytes());
        assert_eq!(any.len(), 4);
        assert_eq!(any[2].ns_type, "mnt");
    }

    #[test]
    fn mountinfo_malformed() {
        for bad in [
            "",
            "\n\n",
            "49 42 0:4 net:[4026532247] /run/netns/x rw shared:3 - nsfs",
            "49 42 0:4 net:[4026532247] /run/netns/x rw shared:3 - nsfs nsfs",
            "49 42 0:4 net:[4026532247] /run/netns/x rw - nsfs nsfs rw extra",
            "49 42 0:4 net:[4026532247] /run/netns/x rw shared:3 -",
            "49 42 0:4 net:[4026532247] /run/netns/x rw shared:3",
            "49 42 0:4 net:[4026532247] /run/netns/x",
            "49 42 0:4 net:[4026532247]",
            "- nsfs",
            "1 2 3 - nsfs nsfs rw",
            "49 42 0:4 net:[] /x rw - nsfs nsfs rw",
            "49 42 0:4 net:[12 /x rw - nsfs nsfs rw",
            "49 42 0:4 net:[+12] /x rw - nsfs nsfs rw",
            "49 42 0:4 net:[99999999999999999999999] /x rw - nsfs nsfs rw",
            "49 42 0:4 :[12] /x rw - nsfs nsfs rw",
            "49 42 0:4 / /x rw - tmpfs tmpfs rw",
            "49 42 0:4 net:[12] /x rw - tmpfs nsfs rw",
            "49 42 0:4 net:[12]  rw - nsfs nsfs rw",
            "\u{0}\\\\\\0 - - - nsfs",
        ] {
            assert_eq!(parse_mountinfo_nsfs(bad), vec![], "{bad:?}");
        }
        // truncated in the middle of a line: the complete lines still count
        let text = "49 42 0:4 net:[5] /a rw - nsfs nsfs rw\n50 42 0:4 net:[6] /b rw - ns";
        assert_eq!(parse_mountinfo_nsfs(text), vec![(5, PathBuf::from("/a"))]);
        // a mount point that happens to be "-": the separator is searched from field 7 on
        assert_eq!(
            parse_mountinfo_nsfs("1 2 0:4 net:[9] - rw - nsfs nsfs rw"),
            vec![(9, PathBuf::from("-"))]
        );
    }

    #[test]
    fn octal_unescape() {
        assert_eq!(unescape_octal(b"a\\040b"), b"a b");
        assert_eq!(unescape_octal(b"\\134\\012"), b"\\\n");
        assert_eq!(unescape_octal(b"\\777"), b"\\777"); // not a byte
        assert_eq!(unescape_octal(b"\\04"), b"\\04"); // truncated
        assert_eq!(unescape_octal(b"\\089"), b"\\089");
        assert_eq!(unescape_octal(b"end\\"), b"end\\");
        assert_eq!(unescape_octal(b""), b"");
    }

    #[test]
    fn stat_flags() {
        let kthreadd = "2 (kthreadd) S 0 0 0 0 -1 2129984 0 0 0 0 0 0 0 0 20 0 1 0 4 0 0";
        assert_eq!(parse_stat_flags(kthreadd), Some(2129984));
        assert_ne!(2129984 & PF_KTHREAD, 0);
        let odd = "77 (a) b (c) S 1 77 77 0 -1 4194560 5 0";
        assert_eq!(parse_stat_flags(odd), Some(4194560));
        assert_eq!(parse_stat_flags(odd).unwrap_or(0) & PF_KTHREAD, 0);
        assert_eq!(parse_stat_flags("2 (x) S 0 0"), None);
        assert_eq!(parse_stat_flags(""), None);
        assert_eq!(parse_stat_flags("2 (x) S 0 0 0 0 -1 zz"), None);
    }

    #[test]
    fn host_rule() {
        let all = |_: u64| true;
        let none = |_: u64| false;
        let unused = || -> Option<u64> { panic!("kthreadd read although not needed") };
        assert_eq!(choose_host(all, Some(5), unused), Some(NET_NS_INIT_INO));
        assert_eq!(choose_host(none, Some(5), unused), Some(5));
        assert_eq!(choose_host(none, None, || Some(6)), Some(6));
        assert_eq!(choose_host(none, None, || None), None);
    }

    #[test]
    fn owners() {
        let s = |v: &[&str]| v.iter().map(|x| (*x).to_owned()).collect::<Vec<_>>();
        assert_eq!(choose_owners(&[]), Owners::default());
        // the most common unit, weak ones only as a fallback
        let o = choose_owners(&s(&[
            "session-3.scope",
            "session-3.scope",
            "session-3.scope",
            "b.service",
            "a.service",
            "a.service",
        ]));
        assert_eq!(o.unit.as_deref(), Some("a.service"));
        assert_eq!(o.container, None);
        let o = choose_owners(&s(&[
            "init.scope",
            "user@1000.service",
            "user@1000.service",
        ]));
        assert_eq!(o.unit.as_deref(), Some("user@1000.service"));
        // tie: first seen (lowest pid)
        let o = choose_owners(&s(&["y.service", "x.service"]));
        assert_eq!(o.unit.as_deref(), Some("y.service"));
        // containers win over units, pods are shortened
        let o = choose_owners(&s(&[
            "k8s-pod:0f1e/3f2a1b4c5d6e",
            "k8s-pod:0f1e/aaaaaaaaaaaa",
            "docker:bbbbbbbbbbbb",
            "libpod-conmon-x.scope",
        ]));
        assert_eq!(o.container.as_deref(), Some("k8s-pod:0f1e"));
        assert_eq!(o.unit.as_deref(), Some("libpod-conmon-x.scope"));
        // a unit whose name merely starts like a container
        assert!(!is_container("docker:x.service"));
        assert!(is_container("podman:3f2a1b4c5d6e"));
    }

    /// A fake `/proc` and `ip netns` directory:
    /// - pid 1 in net:[100] (init.scope): the host;
    /// - pids 10, 11 in net:[200] (docker; pid 10 is "self");
    /// - pids 20, 21, 22 in net:[300] (units, session scope);
    /// - pid 30 in net:[400], no cgroup file, also bind-mounted on /run/docker/netns/abc;
    /// - pid 40 in net:[500], no unit;
    /// - net:[600] only bind-mounted under the ip netns directory (mountinfo only);
    /// - pid 50 without ns/net (exited), pid 60 with a malformed link;
    /// - a stale regular file in the ip netns directory.
    fn fixture() -> (tempfile::TempDir, tempfile::TempDir) {
        let proc = tempfile::tempdir().unwrap();
        let run = tempfile::tempdir().unwrap();
        let root = proc.path();
        let pid = |pid: u32, ns: Option<&str>, cgroup: Option<&str>| {
            let p = root.join(pid.to_string());
            std::fs::create_dir_all(p.join("ns")).unwrap();
            if let Some(ns) = ns {
                symlink(ns, p.join("ns/net")).unwrap();
            }
            if let Some(cg) = cgroup {
                std::fs::write(p.join("cgroup"), cg).unwrap();
            }
        };
        pid(1, Some("net:[100]"), Some("0::/init.scope\n"));
        let docker = format!("0::/system.slice/docker-{D64}.scope\n");
        pid(10, Some("net:[200]"), Some(&docker));
        pid(11, Some("net:[200]"), Some(&docker));
        pid(
            20,
            Some("net:[300]"),
            Some("0::/system.slice/foo.service\n"),
        );
        pid(
            21,
            Some("net:[300]"),
            Some("0::/user.slice/user-0.slice/session-3.scope\n"),
        );
        pid(
            22,
            Some("net:[300]"),
            Some("0::/system.slice/foo.service\n"),
        );
        pid(30, Some("net:[400]"), None);
        pid(40, Some("net:[500]"), Some("0::/\n"));
        pid(50, None, None);
        pid(60, Some("mnt:[1]"), None);
        std::fs::create_dir_all(root.join("sys")).unwrap();
        symlink("10", root.join("self")).unwrap();
        let mountinfo = format!(
            "1 0 0:1 / / rw - ext4 /dev/root rw\n\
             50 42 0:4 net:[400] /run/docker/netns/abc rw - nsfs nsfs rw\n\
             51 42 0:4 net:[600] {}/named1 rw shared:3 - nsfs nsfs rw\n",
            run.path().display()
        );
        std::fs::write(root.join("10/mountinfo"), mountinfo).unwrap();
        std::fs::write(run.path().join("stale"), "").unwrap();
        (proc, run)
    }

    #[test]
    fn fixture_discover() {
        let (proc, run) = fixture();
        let d = discover(&ProcRoot::new(proc.path()), run.path());
        let by_id = |id: u64| {
            d.namespaces
                .iter()
                .find(|n| n.id == id)
                .unwrap_or_else(|| panic!("{id} not found in {:#?}", d.namespaces))
        };
        let ids: Vec<u64> = d.namespaces.iter().map(|n| n.id).collect();
        assert_eq!(ids, vec![100, 200, 300, 400, 500, 600]);

        let host = by_id(100);
        assert_eq!(host.kind, NetnsKind::Host);
        assert_eq!(host.name.as_deref(), Some("host"));
        assert_eq!(host.pids, vec![1]);
        assert_eq!(host.unit, None); // cgroups not read for the host
        assert!(!host.is_own);
        assert_eq!(host.open_path, Some(proc.path().join("1/ns/net")));

        let own = by_id(200);
        assert_eq!(own.kind, NetnsKind::Container);
        assert_eq!(own.name, Some(format!("docker:{}", &D64[..12])));
        assert_eq!(own.container, own.name);
        assert_eq!(own.pids, vec![10, 11]);
        assert!(own.is_own);
        assert_eq!(own.open_path, Some(proc.path().join("self/ns/net")));

        let unit = by_id(300);
        assert_eq!(unit.kind, NetnsKind::Unit);
        assert_eq!(unit.name.as_deref(), Some("foo.service"));
        assert_eq!(unit.pids, vec![20, 21, 22]);

        let mount = by_id(400);
        assert_eq!(mount.kind, NetnsKind::Mount);
        assert_eq!(mount.name.as_deref(), Some("abc"));
        assert_eq!(mount.paths, vec![PathBuf::from("/run/docker/netns/abc")]);
        assert_eq!(
            mount.open_path,
            Some(PathBuf::from("/run/docker/netns/abc"))
        );

        let process = by_id(500);
        assert_eq!(process.kind, NetnsKind::Process);
        assert_eq!(process.name, None);
        assert_eq!(process.open_path, Some(proc.path().join("40/ns/net")));

        let named = by_id(600);
        assert_eq!(named.kind, NetnsKind::Named);
        assert_eq!(named.name.as_deref(), Some("named1"));
        assert!(named.pids.is_empty());
        assert_eq!(named.open_path, Some(run.path().join("named1")));

        assert_eq!(d.namespaces.iter().filter(|n| n.is_own).count(), 1);
        assert_eq!(d.vanished_pids, 1); // pid 50
        assert_eq!(d.unreadable_pids, 0);
        assert_eq!(d.warnings.len(), 2, "{:?}", d.warnings);
        assert!(d.warnings.iter().any(|w| w.contains("stale")));
        assert!(d.warnings.iter().any(|w| w.contains("60/ns/net")));
    }

    #[test]
    fn fixture_host_fallbacks() {
        let proc = tempfile::tempdir().unwrap();
        let root = proc.path();
        // no pid 1; pid 2 is a kernel thread in net:[100]; pid 3 elsewhere
        for (pid, ns) in [(2, "net:[100]"), (3, "net:[200]")] {
            let p = root.join(pid.to_string());
            std::fs::create_dir_all(p.join("ns")).unwrap();
            symlink(ns, p.join("ns/net")).unwrap();
        }
        std::fs::write(
            root.join("2/stat"),
            "2 (kthreadd) S 0 0 0 0 -1 2129984 0 0\n",
        )
        .unwrap();
        let d = discover(&ProcRoot::new(root), Path::new("/nonexistent/netns"));
        let kinds: Vec<(u64, NetnsKind)> = d.namespaces.iter().map(|n| (n.id, n.kind)).collect();
        assert_eq!(
            kinds,
            vec![(100, NetnsKind::Host), (200, NetnsKind::Process)]
        );
        // no self, no mountinfo: warnings, not panics
        assert_eq!(d.warnings.len(), 2, "{:?}", d.warnings);

        // the fixed init_net inode wins over everything
        let p = root.join("4");
        std::fs::create_dir_all(p.join("ns")).unwrap();
        symlink(format!("net:[{NET_NS_INIT_INO}]"), p.join("ns/net")).unwrap();
        let d = discover(&ProcRoot::new(root), Path::new("/nonexistent/netns"));
        let hosts: Vec<u64> = d
            .namespaces
            .iter()
            .filter(|n| n.kind == NetnsKind::Host)
            .map(|n| n.id)
            .collect();
        assert_eq!(hosts, vec![NET_NS_INIT_INO]);

        // pid 2 not a kernel thread: no host at all
        std::fs::remove_file(p.join("ns/net")).unwrap();
        std::fs::write(root.join("2/stat"), "2 (sh) S 1 2 2 0 -1 4194560 0 0\n").unwrap();
        let d = discover(&ProcRoot::new(root), Path::new("/nonexistent/netns"));
        assert!(d.namespaces.iter().all(|n| n.kind != NetnsKind::Host));
    }

    #[test]
    fn missing_everything_is_not_a_panic() {
        let d = discover(
            &ProcRoot::new("/nonexistent/bindscope-proc"),
            Path::new("/nonexistent/netns"),
        );
        assert!(d.namespaces.is_empty());
        assert_eq!(d.warnings.len(), 3, "{:?}", d.warnings);
    }

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

    // -----------------------------------------------------------------------------------------
    // Live tests (root and iproute2)
    // -----------------------------------------------------------------------------------------

    /// Whether a privileged test can run; prints why not, or panics if
    /// `BINDSCOPE_REQUIRE_PRIVILEGED=1`.
    fn privileged(test: &str) -> bool {
        let why = if !rustix::process::geteuid().is_root() {
            Some("not root")
        } else if !Command::new("ip")
            .arg("-V")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success())
        {
            Some("`ip` (iproute2) not found")
        } else {
            None
        };
        crate::testing::can_run(test, why)
    }

    fn ip(args: &[&str]) {
        let status = Command::new("ip").args(args).status().unwrap();
        assert!(status.success(), "ip {args:?}: {status}");
    }

    /// Deletes the `ip netns` names and kills the children it holds, even on panic.
    #[derive(Default)]
    struct Cleanup {
        names: Vec<String>,
        children: Vec<Child>,
    }

    impl Drop for Cleanup {
        fn drop(&mut self) {
            for child in &mut self.children {
                let _ = child.kill();
                let _ = child.wait();
            }
            for name in &self.names {
                let _ = Command::new("ip")
                    .args(["netns", "del", name])
                    .stderr(Stdio::null())
                    .status();
            }
        }
    }

    fn netns_of(path: &str) -> u64 {
        let link = std::fs::read_link(path).unwrap();
        parse_netns_link(link.to_str().unwrap()).unwrap()
    }

    #[test]
    fn live_run_in_sees_thread_namespace() {
        if !privileged("live_run_in_sees_thread_namespace") {
            return;
        }
        let mut guard = Cleanup::default();
        let name = format!("bst-nsd-{}", std::process::id());
        ip(&["netns", "add", &name]);
        guard.names.push(name.clone());
        let path = PathBuf::from("/run/netns").join(&name);

        let caller = netns_of("/proc/thread-self/ns/net");
        let host_range = std::fs::read_to_string("/proc/sys/net/ipv4/ip_local_port_range").unwrap();
        let (thread_ns, self_ns, dev, range) = run_in(&path, || {
            let thread_ns = netns_of("/proc/thread-self/ns/net");
            let self_ns = netns_of("/proc/self/ns/net");
            let dev = std::fs::read_to_string("/proc/thread-self/net/dev").unwrap();
            std::fs::write("/proc/sys/net/ipv4/ip_local_port_range", "40000 40100").unwrap();
            let range = std::fs::read_to_string("/proc/sys/net/ipv4/ip_local_port_range").unwrap();
            (thread_ns, self_ns, dev, range)
        })
        .unwrap();

        let target = std::fs::metadata(&path).unwrap().ino();
        assert_eq!(thread_ns, target);
        assert_ne!(thread_ns, caller);
        // /proc/self is the thread-group leader: still the caller's namespace
        assert_eq!(self_ns, caller);
        // a fresh namespace has only the loopback device (header lines, then "lo:")
        let devices: Vec<&str> = dev
            .lines()
            .skip(2)
            .filter_map(|l| l.split(':').next())
            .map(str::trim)
            .collect();
        assert_eq!(devices, vec!["lo"], "{dev}");
        // /proc/sys/net is the thread's: the write landed in the target namespace only
        assert_eq!(
            range.split_ascii_whitespace().collect::<Vec<_>>(),
            ["40000", "40100"]
        );
        assert_eq!(
            std::fs::read_to_string("/proc/sys/net/ipv4/ip_local_port_range").unwrap(),
            host_range
        );
        let seen = Command::new("ip")
            .args([
                "netns",
                "exec",
                &name,
                "cat",
                "/proc/sys/net/ipv4/ip_local_port_range",
            ])
            .output()
            .unwrap();
        assert_eq!(
            String::from_utf8_lossy(&seen.stdout)
                .split_ascii_whitespace()
                .collect::<Vec<_>>(),
            ["40000", "40100"]
        );
        // the calling thread never moved
        assert_eq!(netns_of("/proc/thread-self/ns/net"), caller);
    }

    #[test]
    fn live_discover() {
        if !privileged("live_discover") {
            return;
        }
        if !Command::new("unshare")
            .arg("--version")
            .stdout(Stdio::null())
            .status()
            .is_ok_and(|s| s.success())
        {
            assert_ne!(
                std::env::var("BINDSCOPE_REQUIRE_PRIVILEGED").as_deref(),
                Ok("1"),
                "live_discover: unshare(1) not found"
            );
            println!("skipping live_discover: unshare(1) not found");
            return;
        }
        let mut guard = Cleanup::default();
        let name = format!("bst-nsa-{}", std::process::id());
        ip(&["netns", "add", &name]);
        guard.names.push(name.clone());
        let named_path = PathBuf::from("/run/netns").join(&name);
        let named_id = std::fs::metadata(&named_path).unwrap().ino();

        // A namespace that exists only through this process (unshare(1) without --fork
        // unshares, then execs sleep in the same process).
        let child = Command::new("unshare")
            .args(["--net", "sleep", "60"])
            .spawn()
            .unwrap();
        let child_pid = child.id();
        guard.children.push(child);
        let own_id = netns_of("/proc/self/ns/net");
        let child_link = format!("/proc/{child_pid}/ns/net");
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        let child_id = loop {
            let id = netns_of(&child_link);
            if id != own_id {
                break id;
            }
            assert!(std::time::Instant::now() < deadline, "unshare did not run");
            std::thread::sleep(std::time::Duration::from_millis(10));
        };

        let d = discover(&ProcRoot::default(), Path::new("/run/netns"));
        println!(
            "{} namespaces, {} unreadable, {} vanished, warnings {:?}",
            d.namespaces.len(),
            d.unreadable_pids,
            d.vanished_pids,
            d.warnings
        );
        for n in &d.namespaces {
            println!(
                "  {} {:?} {:?} pids={} paths={:?} own={}",
                n.id,
                n.kind,
                n.name,
                n.pids.len(),
                n.paths,
                n.is_own
            );
        }
        let find = |id: u64| {
            d.namespaces
                .iter()
                .find(|n| n.id == id)
                .unwrap_or_else(|| panic!("namespace {id} not found"))
        };

        let named = find(named_id);
        assert_eq!(named.kind, NetnsKind::Named);
        assert_eq!(named.name.as_deref(), Some(name.as_str()));
        assert_eq!(named.open_path.as_deref(), Some(named_path.as_path()));
        assert!(named.paths.contains(&named_path));
        assert!(named.pids.is_empty());
        assert!(!named.is_own);

        // Expected name for the process-held namespace: from the child's own cgroup.
        let cg = std::fs::read_to_string(format!("/proc/{child_pid}/cgroup")).unwrap();
        let (kind, expected) = match parse_cgroup_unit(&cg) {
            Some(c) if is_container(&c) => (NetnsKind::Container, Some(pod_of(&c).to_owned())),
            Some(u) => (NetnsKind::Unit, Some(u)),
            None => (NetnsKind::Process, None),
        };
        let held = find(child_id);
        assert_eq!(held.kind, kind);
        assert_eq!(held.name, expected);
        assert_eq!(held.pids, vec![child_pid]);
        assert!(held.paths.is_empty());
        assert!(!held.is_own);
        assert_eq!(held.open_path, Some(PathBuf::from(&child_link)));

        let own: Vec<&NetnsTarget> = d.namespaces.iter().filter(|n| n.is_own).collect();
        assert_eq!(own.len(), 1);
        assert_eq!(own[0].id, own_id);
        assert!(own[0].pids.contains(&std::process::id()));
        assert!(
            d.namespaces
                .iter()
                .filter(|n| n.kind == NetnsKind::Host)
                .count()
                <= 1
        );

        // and entering it through the checked path lands in the child's namespace
        let inside = run_in_netns(held, || netns_of("/proc/thread-self/ns/net")).unwrap();
        assert_eq!(inside, child_id);
    }
}
