//! Finding every network namespace in use, and naming it.

use super::mountinfo::{NsfsMount, read_mountinfo};
use super::naming::read_unit;
use super::{Discovery, NET_NS_INIT_INO, NetnsTarget};
use crate::collect::linux::procfs::{
    DIRENT_BUF, LINK_BUF, PF_KTHREAD, ProcRoot, open_dir, parse_dec_u32, parse_netns_link,
    parse_stat_flags,
};
use crate::model::NetnsKind;
use rustix::fd::AsFd;
use rustix::fs::{CWD, RawDir, readlinkat_raw};
use rustix::io::Errno;
use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::io;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

/// `NSFS_MAGIC` (`include/uapi/linux/magic.h`): `statfs` of a namespace bind mount. `i128`
/// so every architecture's `f_type` (i64, u32, u64) converts losslessly.
const NSFS_MAGIC: i128 = 0x6e73_6673;

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
/// 3. (Containers are not named here but by the collector, from their runtimes' state:
///    `collect::linux::containers`, which overrides all but the host's name.)
/// 4. [`NetnsKind::Unit`]: the most common systemd unit among the same processes, where
///    `init.scope`, `user@N.service` and `session-N.scope` only count if nothing better is
///    found. Ties go to the unit of the lowest pid.
/// 5. [`NetnsKind::Mount`]: another bind mount; the name is its file name.
/// 6. [`NetnsKind::Process`], no name.
///
/// Never panics. A process exiting mid-scan is counted in `vanished_pids`, a denied one in
/// `unreadable_pids`, anything else becomes a warning.
pub fn discover(root: &ProcRoot, run_netns: &Path) -> Discovery {
    discover_with(root, run_netns, &mut |mounts, warnings| {
        list_run_netns(run_netns, mounts, warnings)
    })
}

/// Lists the `ip netns` bind mounts (inode, path), given the nsfs mounts of mountinfo, and
/// adds warnings about entries that are not.
pub type ListNamed<'a> = dyn FnMut(&[NsfsMount], &mut Vec<String>) -> Vec<(u64, PathBuf)> + 'a;

/// As [`discover`], with the `ip netns` bind mounts listed by `list_named`: [`list_run_netns`]
/// on this host; a recording's list on a replay (whether a path is an nsfs mount, and of
/// which namespace, is only known on the host that had it).
pub fn discover_with(
    root: &ProcRoot,
    run_netns: &Path,
    list_named: &mut ListNamed<'_>,
) -> Discovery {
    let mut out = Discovery::default();

    let own = read_own_netns(root, &mut out.warnings);
    let members = scan_processes(root, &mut out);
    let mounts = read_mountinfo(root, &mut out.warnings);
    let named = list_named(&mounts, &mut out.warnings);

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

        let (mut name, mut kind, mut unit) = (None, NetnsKind::Process, None);
        if let Some(n) = ip_name {
            (name, kind) = (Some(n), NetnsKind::Named);
        } else if host == Some(id) {
            (name, kind) = (Some("host".to_owned()), NetnsKind::Host);
        } else {
            unit = read_unit(root, &pids, &mut out.warnings);
            if let Some(u) = &unit {
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
            // Named by `collect::linux::containers` when containers live in it.
            container: None,
            containers: Vec::new(),
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

/// vanished and unreadable ones into `out`.
fn scan_processes(root: &ProcRoot, out: &mut Discovery) -> Vec<(u32, u64)> {
    let mut members = Vec::new();
    let root_fd = match open_dir(CWD, root.path()) {
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
        let Some(pid) = parse_dec_u32(entry.file_name().to_bytes()) else {
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

/// `(netns inode, path)` for every nsfs bind mount directly in `dir` (ip-netns(8): `ip netns
/// add NAME` creates `/run/netns/NAME` and bind-mounts the namespace on it). An entry that
/// is not on nsfs (an `ip netns add` in progress, or a stale file left after a failed
/// mount) or is a namespace of another type (known from `mounts`) is skipped with a warning.
pub fn list_run_netns(
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

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::symlink;

    const D64: &str = "3f2a1b4c5d6e7f8091a2b3c4d5e6f708192a3b4c5d6e7f8091a2b3c4d5e6f708";

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

        // A container's namespace: no unit; the collector names it.
        let own = by_id(200);
        assert_eq!(own.kind, NetnsKind::Process);
        assert_eq!(own.name, None);
        assert_eq!(own.container, None);
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
}
