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
//!
//! - `discover`: the three sources and the naming rules;
//! - `mountinfo`: the nsfs mounts of `/proc/self/mountinfo`;
//! - `naming`: the systemd unit of a namespace's processes (containers are named by
//!   `collect::linux::containers`, from their runtimes' state, before `--netns` selects);
//! - [`run_in`], [`run_in_netns`]: entering one.

mod discover;
mod enter;
mod mountinfo;
mod naming;

pub use discover::{ListNamed, discover, discover_with, list_run_netns};
pub use enter::{EnterError, run_in, run_in_netns};
pub use mountinfo::parse_mountinfo_nsfs;
pub use mountinfo::{NsfsMount, nsfs_lines};

use crate::model::{Container, NetnsKind};
use serde::{Deserialize, Serialize};
use std::path::PathBuf;

/// The fixed inode of the initial network namespace (`init_net`), `NET_NS_INIT_INO` in
/// `include/uapi/linux/nsfs.h`, since Linux 6.18. Older kernels allocate `init_net`'s inode
/// dynamically; dynamic namespace inodes start at `0xF0000000` (`PROC_DYNAMIC_FIRST`), so on
/// any kernel this number can only ever be `init_net`.
pub const NET_NS_INIT_INO: u64 = 0xEFFF_FFF9;

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
    /// The container that made it (see `model::Netns::container`); set by
    /// `collect::linux::containers`, never by discovery.
    pub container: Option<Container>,
    /// Every container whose processes live in it, the owner first.
    pub containers: Vec<Container>,
    /// The best systemd unit among its processes' cgroups, when no container lives in it.
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::collect::linux::procfs::{ProcRoot, parse_cgroup_unit, parse_netns_link};
    use std::os::unix::fs::MetadataExt;
    use std::path::Path;
    use std::process::{Child, Command, Stdio};

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
