//! Everything collection reads from the system, as one value: `/proc`, the namespaces and
//! entering them, netlink inside each, the options probe, user names, the clock and the
//! effective uid. The collector, the owner resolution and the per-namespace reads use only
//! these traits, so the same code runs on this host ([`LinuxSources`]), on a recording of
//! one (`replay::RecordedSources`), and while recording one (`recorder::Recorder`).

use super::netlink::{
    NETLINK_ROUTE, NETLINK_SOCK_DIAG, NetlinkDumps, NetlinkError, NetlinkSocket, OnMessage,
};
use super::netns::{self, Discovery, NetnsTarget};
use super::procfs::ProcRoot;
use super::sock_diag;
use super::sockopt::{Expected, Holder, OptionProber, ProbeError, Wanted};
use super::state_files::{StateFileError, read_state_file};
use crate::collect::join::ProbedOptions;
use crate::collect::threads;
use crate::collect::users::UserNames;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

/// The files of the host collection reads: `/proc`, and container runtimes' state (what
/// naming containers needs, apart so that it can be tested on a fixture tree alone).
pub trait HostFiles {
    /// Where `/proc` is, for the fd walk, the processes, the host's name and our own
    /// capabilities.
    fn proc_root(&self) -> &ProcRoot;
    /// A container runtime's state file (at most `max` bytes), read with the user's own
    /// rights (`state_files`).
    fn state_file(&self, path: &Path, max: u64) -> Result<Arc<[u8]>, StateFileError>;
}

/// The host-wide sources of one collector.
pub trait Sources: Send + HostFiles {
    /// Every network namespace in use, named.
    fn discover(&mut self) -> Discovery;
    /// Calls `read` once with the sources of namespace `t`, from inside it. `Err`: it could
    /// not be entered, and why (then `read` is not called).
    fn in_netns(
        &mut self,
        t: &NetnsTarget,
        read: &mut (dyn FnMut(&mut dyn NetnsSources) + Send),
    ) -> Result<(), String>;
    /// `read(i, …)` inside each `targets[i]`, as [`Sources::in_netns`] does one; the result
    /// of each, in order. These sources read one after the other; the host's read two at a
    /// time, on two threads.
    fn in_each_netns(
        &mut self,
        targets: &[NetnsTarget],
        read: &(dyn Fn(usize, &mut dyn NetnsSources) + Sync),
    ) -> Vec<Result<(), String>> {
        targets
            .iter()
            .enumerate()
            .map(|(i, t)| self.in_netns(t, &mut |ns| read(i, ns)))
            .collect()
    }
    /// A prober of socket options for one scan (it may keep pidfds until dropped).
    fn prober(&self) -> Box<dyn ProbeOptions + Send>;
    /// uid → user name, cached for one scan.
    fn user_names(&self) -> UserNames;
    /// The effective uid collection runs as (what it may read depends on it).
    fn euid(&self) -> u32;
    /// The wall clock, for `taken_at`.
    fn wall_clock(&self) -> SystemTime;
    /// A monotonic clock: time since a fixed start, never going back. For the caches'
    /// ages and the scan's duration.
    fn monotonic(&self) -> Duration;
}

/// The netlink protocols collection dumps.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Netlink {
    /// `NETLINK_SOCK_DIAG`: sockets.
    SockDiag,
    /// `NETLINK_ROUTE`: links and addresses.
    Route,
}

impl Netlink {
    pub fn protocol(self) -> u32 {
        match self {
            Netlink::SockDiag => NETLINK_SOCK_DIAG,
            Netlink::Route => NETLINK_ROUTE,
        }
    }

    /// As request file names and messages say it.
    pub fn name(self) -> &'static str {
        match self {
            Netlink::SockDiag => "sock_diag",
            Netlink::Route => "route",
        }
    }
}

/// What is read from inside one network namespace.
pub trait NetnsSources {
    /// Readies `protocol` for dumps; an error here means none of its dumps can run.
    fn open(&mut self, protocol: Netlink) -> Result<(), NetlinkError>;
    /// A fresh sequence number for the next request over `protocol`.
    fn next_seq(&mut self, protocol: Netlink) -> u32;
    /// One dump over `protocol` (see [`NetlinkDumps::dump`]).
    fn dump(
        &mut self,
        protocol: Netlink,
        request: &[u8],
        on_message: &mut OnMessage<'_>,
    ) -> Result<(), NetlinkError>;
    /// Whether the kernel dumps bound-only TCP sockets, when a dump cannot tell
    /// ([`sock_diag::DumpOutcome::bound_inactive_supported`]).
    fn dumps_bound_inactive(&mut self) -> bool;
    /// `/proc` as a reader in this namespace sees it: `sys/net/…` and `thread-self/net/…`
    /// are the namespace's.
    fn proc_root(&self) -> &ProcRoot;
}

/// One protocol of a namespace's sources, as the dump functions of `sock_diag` and `rtnl`
/// take it.
pub struct Dumps<'a> {
    pub ns: &'a mut dyn NetnsSources,
    pub protocol: Netlink,
}

impl NetlinkDumps for Dumps<'_> {
    fn next_seq(&mut self) -> u32 {
        self.ns.next_seq(self.protocol)
    }

    fn dump(&mut self, request: &[u8], on_message: &mut OnMessage<'_>) -> Result<(), NetlinkError> {
        self.ns.dump(self.protocol, request, on_message)
    }
}

/// Reads the options of one socket through one of its holders.
pub trait ProbeOptions {
    fn probe(
        &mut self,
        holder: Holder,
        expected: Expected,
        want: Wanted,
    ) -> Result<ProbedOptions, ProbeError>;

    /// As `probe`, right after the caller read the holder's fd link and found
    /// `expected.inode` (see [`OptionProber::probe_seen`]).
    fn probe_seen(
        &mut self,
        holder: Holder,
        expected: Expected,
        want: Wanted,
    ) -> Result<ProbedOptions, ProbeError> {
        self.probe(holder, expected, want)
    }
}

impl ProbeOptions for OptionProber {
    fn probe(
        &mut self,
        holder: Holder,
        expected: Expected,
        want: Wanted,
    ) -> Result<ProbedOptions, ProbeError> {
        OptionProber::probe(self, holder, expected, want)
    }

    fn probe_seen(
        &mut self,
        holder: Holder,
        expected: Expected,
        want: Wanted,
    ) -> Result<ProbedOptions, ProbeError> {
        OptionProber::probe_seen(self, holder, expected, want)
    }
}

/// This host: `/proc` at `proc_root`, `ip netns` names in `run_netns`, namespaces entered
/// with setns(2), netlink sockets, pidfd_getfd, NSS, the system clocks, `geteuid`.
#[derive(Debug, Clone)]
pub struct LinuxSources {
    pub proc_root: ProcRoot,
    /// Where `ip netns` keeps its bind mounts.
    pub run_netns: PathBuf,
    /// The start of [`Sources::monotonic`].
    started: Instant,
}

impl Default for LinuxSources {
    fn default() -> Self {
        LinuxSources {
            proc_root: ProcRoot::default(),
            run_netns: PathBuf::from("/run/netns"),
            started: Instant::now(),
        }
    }
}

impl HostFiles for LinuxSources {
    fn proc_root(&self) -> &ProcRoot {
        &self.proc_root
    }

    fn state_file(&self, path: &Path, max: u64) -> Result<Arc<[u8]>, StateFileError> {
        read_state_file(path, max)
    }
}

impl Sources for LinuxSources {
    fn discover(&mut self) -> Discovery {
        netns::discover(&self.proc_root, &self.run_netns)
    }

    fn in_netns(
        &mut self,
        t: &NetnsTarget,
        read: &mut (dyn FnMut(&mut dyn NetnsSources) + Send),
    ) -> Result<(), String> {
        read_live(&self.proc_root, t, read)
    }

    /// Two at a time: a namespace's dump is mostly the kernel walking its socket tables,
    /// which are shared by every namespace (dumping a near-empty one walks the sockets of
    /// all the others), so the namespaces' reads are independent and each keeps a core
    /// busy. Each worker takes the next namespace as it finishes one.
    fn in_each_netns(
        &mut self,
        targets: &[NetnsTarget],
        read: &(dyn Fn(usize, &mut dyn NetnsSources) + Sync),
    ) -> Vec<Result<(), String>> {
        let two = targets.len() >= 2 && threads::two_cores();
        let root = &self.proc_root;
        let next = std::sync::atomic::AtomicUsize::new(0);
        let work = || {
            let mut done = Vec::new();
            loop {
                let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                let Some(t) = targets.get(i) else { break };
                done.push((i, read_live(root, t, &mut |ns| read(i, ns))));
            }
            done
        };
        let mut done = if two {
            // No second thread: this one has read every namespace already.
            let (more, mut done) = threads::beside("bindscope-netns-reader", work, work, Vec::new);
            done.extend(more);
            done
        } else {
            work()
        };
        done.sort_unstable_by_key(|&(i, _)| i);
        done.into_iter().map(|(_, r)| r).collect()
    }

    fn prober(&self) -> Box<dyn ProbeOptions + Send> {
        Box::new(OptionProber::new(self.proc_root.clone()))
    }

    fn user_names(&self) -> UserNames {
        UserNames::new()
    }

    fn euid(&self) -> u32 {
        rustix::process::geteuid().as_raw()
    }

    fn wall_clock(&self) -> SystemTime {
        SystemTime::now()
    }

    fn monotonic(&self) -> Duration {
        self.started.elapsed()
    }
}

/// `read` inside namespace `t` of this host: on the calling thread when it is the one
/// bindscope runs in, else on a thread that entered it.
fn read_live(
    root: &ProcRoot,
    t: &NetnsTarget,
    read: &mut (dyn FnMut(&mut dyn NetnsSources) + Send),
) -> Result<(), String> {
    // Netlink sockets belong to the namespace they are opened in, so they are opened
    // (by `open`) on the thread that entered it.
    let mut here = || read(&mut LiveNetns::new(root.clone()));
    if t.is_own {
        here();
        return Ok(());
    }
    if t.open_path.is_none() {
        return Err("no path to enter it (its processes are not readable)".to_string());
    }
    // run_in_netns checks that the path still leads to this namespace (a pid can be
    // reused).
    netns::run_in_netns(t, here).map_err(|e| e.to_string())
}

/// The namespace the calling thread is in, through real netlink sockets.
pub struct LiveNetns {
    root: ProcRoot,
    sock_diag: Option<NetlinkSocket>,
    route: Option<NetlinkSocket>,
}

impl LiveNetns {
    pub fn new(root: ProcRoot) -> Self {
        LiveNetns {
            root,
            sock_diag: None,
            route: None,
        }
    }

    /// The socket of `protocol`, opened on first use.
    fn opened(&mut self, protocol: Netlink) -> Result<&mut NetlinkSocket, NetlinkError> {
        let slot = self.socket(protocol);
        let sock = match slot.take() {
            Some(sock) => sock,
            None => NetlinkSocket::open(protocol.protocol())?,
        };
        Ok(slot.insert(sock))
    }

    fn socket(&mut self, protocol: Netlink) -> &mut Option<NetlinkSocket> {
        match protocol {
            Netlink::SockDiag => &mut self.sock_diag,
            Netlink::Route => &mut self.route,
        }
    }
}

impl NetnsSources for LiveNetns {
    fn open(&mut self, protocol: Netlink) -> Result<(), NetlinkError> {
        self.opened(protocol).map(|_| ())
    }

    fn next_seq(&mut self, protocol: Netlink) -> u32 {
        self.socket(protocol)
            .as_mut()
            .map_or(1, NetlinkSocket::next_seq)
    }

    fn dump(
        &mut self,
        protocol: Netlink,
        request: &[u8],
        on_message: &mut OnMessage<'_>,
    ) -> Result<(), NetlinkError> {
        self.opened(protocol)?.dump(request, on_message)
    }

    fn dumps_bound_inactive(&mut self) -> bool {
        sock_diag::kernel_dumps_bound_inactive()
    }

    fn proc_root(&self) -> &ProcRoot {
        &self.root
    }
}
