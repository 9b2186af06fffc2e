//! One snapshot of the network namespace this process runs in: sockets from sock_diag,
//! holders from the `/proc` fd walk, options from the probe, host context from rtnetlink
//! and `/proc`, joined by the pure [`crate::collect::join`].

use super::netlink::{NETLINK_ROUTE, NETLINK_SOCK_DIAG, NetlinkError, NetlinkSocket};
use super::procfs::{self, ProcError, ProcRoot};
use super::sockopt::{Depth, OptionProber, ProbeError};
use super::{rtnl, sock_diag};
use crate::collect::classify;
use crate::collect::join::{self, JoinContext, ProbeOutcome, ProcessInfo};
use crate::collect::raw::{RawAddr, RawLink, RawSocket};
use crate::collect::reasons;
use crate::collect::users::UserNames;
use crate::model::host::AddrFlag;
use crate::model::{
    FORMAT, Family, Interface, InterfaceAddr, Netns, NetnsId, Privileges, Proto, ScanStats,
    Snapshot, VERSION, View,
};
use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::Instant;

#[derive(Debug, Clone)]
pub struct CollectConfig {
    pub view: View,
    pub proc_root: ProcRoot,
    /// Read socket options through pidfd_getfd. Off: options are unknown, by request.
    pub probe_options: bool,
}

impl Default for CollectConfig {
    fn default() -> Self {
        CollectConfig {
            view: View::Listening,
            proc_root: ProcRoot::default(),
            probe_options: true,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum CollectError {
    #[error("{0}")]
    Netlink(#[from] NetlinkError),
}

/// Dumps every socket of `view` in this namespace, TCP and UDP, IPv4 and IPv6.
pub fn dump_all(view: View) -> Result<(Vec<RawSocket>, Vec<String>), NetlinkError> {
    let mut diag = NetlinkSocket::open(NETLINK_SOCK_DIAG)?;
    let (tcp, udp) = match view {
        // Request sockets (SYN_RECV) are dumped too: they are counted per listener.
        View::Listening => (
            sock_diag::LISTENING_TCP_STATES,
            sock_diag::UDP_UNCONNECTED_STATES,
        ),
        View::All => (sock_diag::ALL_STATES, sock_diag::ALL_STATES),
    };
    let mut raw = Vec::new();
    let mut warnings = Vec::new();
    for family in [Family::Ipv4, Family::Ipv6] {
        let outcome = sock_diag::dump_sockets(&mut diag, family, Proto::Tcp, tcp, &mut raw)?;
        if !outcome.bound_inactive_supported {
            warnings.push(
                "this kernel cannot dump bound-only TCP sockets (needs Linux 6.7): they are missing"
                    .to_string(),
            );
        }
        sock_diag::dump_sockets(&mut diag, family, Proto::Udp, udp, &mut raw)?;
    }
    warnings.dedup();
    Ok((raw, warnings))
}

fn own_netns(root: &ProcRoot) -> NetnsId {
    std::fs::read_link(root.path().join("self/ns/net"))
        .ok()
        .and_then(|p| procfs::parse_netns_link(&p.to_string_lossy()))
        .map(NetnsId)
        .unwrap_or(NetnsId(0))
}

pub fn collect(cfg: &CollectConfig) -> Result<Snapshot, CollectError> {
    let started = Instant::now();
    let root = &cfg.proc_root;
    let netns = own_netns(root);
    let (raw, mut warnings) = dump_all(cfg.view)?;
    let mut stats = ScanStats::default();

    // Holders: the fd walk, kept to the sockets this snapshot shows.
    let wanted: HashSet<u64> = raw
        .iter()
        .filter(|r| r.inode != 0 && join::in_view(r, cfg.view))
        .map(|r| r.inode)
        .collect();
    let scan = procfs::scan_socket_fds(root);
    stats.processes_scanned = scan.processes_scanned;
    stats.processes_vanished = scan.processes_vanished;
    stats.fds_vanished = scan.fds_vanished;
    stats.processes_unreadable = scan.unreadable.len() as u32;
    let mut holders: HashMap<u64, Vec<(u32, u32)>> = HashMap::with_capacity(wanted.len());
    for fd in scan.fds.iter().filter(|f| wanted.contains(&f.inode)) {
        holders.entry(fd.inode).or_default().push((fd.pid, fd.fd));
    }
    for e in &scan.other_errors {
        warnings.push(format!("reading /proc: {e}"));
    }

    // Process details, once per holder process.
    let names = UserNames::new();
    let mut pids: Vec<u32> = holders.values().flatten().map(|&(pid, _)| pid).collect();
    pids.sort_unstable();
    pids.dedup();
    let mut processes = HashMap::with_capacity(pids.len());
    let mut vanished_late = 0u32;
    for pid in pids {
        match procfs::read_process(root, pid) {
            Ok(p) => {
                processes.insert(
                    pid,
                    ProcessInfo {
                        name: Arc::from(p.name),
                        cmdline: Arc::from(p.cmdline),
                        uid: p.euid,
                        ruid: p.ruid,
                        user: names.get(p.euid),
                        unit: p.unit.map(Arc::from),
                        netns: p.netns.map(NetnsId),
                    },
                );
            }
            Err(ProcError::Vanished { .. }) => vanished_late += 1,
            Err(e) => warnings.push(format!("reading process {pid}: {e}")),
        }
    }
    stats.processes_vanished += vanished_late;

    // Options and O_NONBLOCK, from one holder per socket.
    let mut probes: HashMap<u64, ProbeOutcome> = HashMap::new();
    let mut nonblocking: HashMap<u64, bool> = HashMap::new();
    let mut denied = 0u32;
    let mut prober = OptionProber::new();
    let mut interner = reasons::Interner::default();
    let mut other_probe_errors: Vec<String> = Vec::new();
    for r in raw
        .iter()
        .filter(|r| r.inode != 0 && join::in_view(r, cfg.view))
    {
        let hs: Vec<(u32, u32)> = holders
            .get(&r.inode)
            .map(|v| {
                v.iter()
                    .copied()
                    .filter(|(pid, _)| processes.contains_key(pid))
                    .collect()
            })
            .unwrap_or_default();
        if r.proto == Proto::Tcp && r.state == 10 {
            for &(pid, fd) in &hs {
                if let Ok(nb) = procfs::read_fd_nonblocking(root, pid, fd) {
                    nonblocking.insert(r.inode, nb);
                    break;
                }
            }
        }
        let outcome = if !cfg.probe_options {
            ProbeOutcome::Unknown(reasons::NO_PROBE_FLAG.clone())
        } else if hs.is_empty() {
            let why = if scan.unreadable.is_empty() {
                "no holder left to read it from (it exited during the scan)".to_string()
            } else {
                denied += 1;
                "no visible holder: the processes that may hold it could not be read".to_string()
            };
            ProbeOutcome::Unknown(interner.get(why))
        } else {
            let depth = if matches!(r.state, 10 | 7) {
                Depth::Full
            } else {
                Depth::ReuseOnly
            };
            stats.options_probed += 1;
            let mut last = ProbeOutcome::Unknown(reasons::NOT_PROBED.clone());
            for &(pid, fd) in &hs {
                match prober.probe(pid, fd, r.cookie, r.family, r.proto, depth) {
                    Ok(p) => {
                        last = ProbeOutcome::Read(p);
                        break;
                    }
                    Err(e) => {
                        if e.is_denied() {
                            denied += 1;
                            last = ProbeOutcome::Unknown(interner.get(e.to_string()));
                            break;
                        }
                        if let ProbeError::Other(msg) = &e {
                            other_probe_errors.push(msg.clone());
                        }
                        // A race: try the next holder.
                        last = ProbeOutcome::Unknown(interner.get(e.to_string()));
                    }
                }
            }
            if matches!(last, ProbeOutcome::Unknown(_)) {
                stats.options_failed += 1;
            }
            last
        };
        probes.insert(r.cookie, outcome);
    }
    drop(prober);
    if let Some(first) = other_probe_errors.first() {
        warnings.push(format!(
            "reading options failed for {} sockets, first: {first}",
            other_probe_errors.len()
        ));
    }

    // Host context.
    let (links, addrs) = match read_links_addrs() {
        Ok(v) => v,
        Err(e) => {
            warnings.push(format!("interfaces unknown: {e}"));
            (Vec::new(), Vec::new())
        }
    };
    let (sysctls, sysctl_warnings) = procfs::read_sysctls(root);
    warnings.extend(sysctl_warnings);
    let counters = match procfs::read_tcpext(root) {
        Ok(c) => c,
        Err(e) => {
            warnings.push(format!("TcpExt counters unknown: {e}"));
            Default::default()
        }
    };
    let (host, host_warnings) = procfs::read_host(root);
    warnings.extend(host_warnings);

    let holders_incomplete = (!scan.unreadable.is_empty()).then(|| {
        format!(
            "the fds of {} processes could not be read, and any of them may hold this socket",
            scan.unreadable.len()
        )
    });
    let lookup = |uid: u32| names.get(uid);
    let ctx = JoinContext {
        netns,
        view: cfg.view,
        holders: &holders,
        processes: &processes,
        probes: &probes,
        nonblocking: &nonblocking,
        links: &links,
        addrs: &addrs,
        user_name: &lookup,
        holders_incomplete: holders_incomplete.clone(),
    };
    let sockets = join::build_sockets(&raw, &ctx);

    if stats.processes_vanished > 0 {
        warnings.push(format!(
            "{} processes exited during the scan and were skipped",
            stats.processes_vanished
        ));
    }
    if stats.fds_vanished > 0 {
        warnings.push(format!(
            "{} fds were closed during the scan and were skipped",
            stats.fds_vanished
        ));
    }

    let euid = rustix::process::geteuid().as_raw();
    let options_readable = cfg.probe_options && denied == 0;
    let all_holders_visible = scan.unreadable.is_empty();
    let missing = privilege_notes(&PrivilegeFacts {
        euid,
        can_ptrace: own_caps(root).is_some_and(|c| c & CAP_SYS_PTRACE != 0),
        options_denied: if cfg.probe_options { denied } else { 0 },
        processes_unreadable: scan.unreadable.len(),
    });

    let holder_procs_here = processes
        .values()
        .filter(|p| p.netns == Some(netns))
        .count() as u32;
    stats.duration_ms = started.elapsed().as_millis() as u64;
    Ok(Snapshot {
        format: FORMAT.to_string(),
        version: VERSION,
        taken_at: humantime::format_rfc3339_seconds(std::time::SystemTime::now()).to_string(),
        host,
        privileges: Privileges {
            euid,
            options_readable,
            all_holders_visible,
            missing,
        },
        warnings,
        netns: vec![Netns {
            id: netns,
            name: None,
            kind: "current".to_string(),
            processes: holder_procs_here,
            interfaces: interfaces(&links, &addrs),
            sysctls,
            counters,
        }],
        sockets,
        findings: Vec::new(),
        marks: Vec::new(),
        view: cfg.view,
        scan: stats,
    })
}

fn read_links_addrs() -> Result<(Vec<RawLink>, Vec<RawAddr>), NetlinkError> {
    let mut route = NetlinkSocket::open(NETLINK_ROUTE)?;
    let links = rtnl::dump_links(&mut route)?;
    let addrs = rtnl::dump_addrs(&mut route)?;
    Ok((links, addrs))
}

fn scope_name(scope: u8) -> String {
    match scope {
        0 => "global".into(),
        200 => "site".into(),
        253 => "link".into(),
        254 => "host".into(),
        n => n.to_string(),
    }
}

fn addr_flags(flags: u32) -> Vec<AddrFlag> {
    [
        (classify::IFA_F_TENTATIVE, AddrFlag::Tentative),
        (classify::IFA_F_OPTIMISTIC, AddrFlag::Optimistic),
        (classify::IFA_F_DADFAILED, AddrFlag::Dadfailed),
        (classify::IFA_F_DEPRECATED, AddrFlag::Deprecated),
        (classify::IFA_F_PERMANENT, AddrFlag::Permanent),
        (classify::IFA_F_TEMPORARY, AddrFlag::Temporary),
        (classify::IFA_F_NODAD, AddrFlag::Nodad),
        (classify::IFA_F_NOPREFIXROUTE, AddrFlag::Noprefixroute),
    ]
    .into_iter()
    .filter(|(bit, _)| flags & bit != 0)
    .map(|(_, f)| f)
    .collect()
}

/// Interfaces with their addresses, for the snapshot's host context.
pub fn interfaces(links: &[RawLink], addrs: &[RawAddr]) -> Vec<Interface> {
    const IFF_UP: u32 = 0x1;
    const IFF_LOOPBACK: u32 = 0x8;
    const IFF_LOWER_UP: u32 = 0x1_0000;
    let mut out: Vec<Interface> = links
        .iter()
        .map(|l| Interface {
            index: l.index,
            name: l.name.clone(),
            up: l.flags & IFF_UP != 0,
            loopback: l.flags & IFF_LOOPBACK != 0,
            carrier: l.flags & IFF_LOWER_UP != 0,
            addresses: addrs
                .iter()
                .filter(|a| a.index == l.index)
                .map(|a| InterfaceAddr {
                    addr: a.addr,
                    prefix_len: a.prefix_len,
                    scope: scope_name(a.scope),
                    flags: addr_flags(a.flags),
                })
                .collect(),
        })
        .collect();
    out.sort_by_key(|i| i.index);
    out
}

/// Bit of CAP_SYS_PTRACE in the capability sets (include/uapi/linux/capability.h).
const CAP_SYS_PTRACE: u64 = 1 << 19;

fn own_caps(root: &ProcRoot) -> Option<u64> {
    let status = std::fs::read_to_string(root.path().join("self/status")).ok()?;
    procfs::parse_cap_eff(&status)
}

/// What limited this run, as the inputs of [`privilege_notes`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PrivilegeFacts {
    pub euid: u32,
    /// CAP_SYS_PTRACE is effective (root has it unless a container dropped it).
    pub can_ptrace: bool,
    /// Sockets whose options could not be read for lack of permission.
    pub options_denied: u32,
    /// Processes whose fd tables could not be read.
    pub processes_unreadable: usize,
}

/// "1 socket", "3 sockets".
fn plural(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

/// Two lines for people (empty when nothing is missing): what this run could not see, and
/// how to get it. The same lines go to stderr and into `privileges.missing`.
pub fn privilege_notes(f: &PrivilegeFacts) -> Vec<String> {
    let mut what = Vec::new();
    if f.options_denied > 0 {
        what.push(format!(
            "the options (SO_REUSEADDR, SO_REUSEPORT, TCP_DEFER_ACCEPT, TCP_FASTOPEN) of {} are unknown",
            plural(f.options_denied as usize, "socket", "sockets")
        ));
    }
    if f.processes_unreadable > 0 {
        what.push(format!(
            "the fds of {} are unreadable, so holder lists may be incomplete",
            plural(f.processes_unreadable, "process", "processes")
        ));
    }
    if what.is_empty() {
        return Vec::new();
    }
    let how = if f.can_ptrace {
        // Root with CAP_SYS_PTRACE is still refused for processes of a parent user
        // namespace or under a security module's ptrace policy.
        "even with CAP_SYS_PTRACE these processes refuse access (another user namespace or a \
         security module's ptrace policy): run bindscope in the host's namespaces to see them"
            .to_string()
    } else {
        "to see everything run it with sudo, or grant it: \
         sudo setcap cap_sys_ptrace,cap_dac_read_search+ep \"$(command -v bindscope)\""
            .to_string()
    };
    let who = if f.euid == 0 {
        "root".to_string()
    } else {
        format!("uid {}", f.euid)
    };
    vec![format!("as {who}, {}.", what.join("; ")), how]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn notes_say_what_is_missing_and_how_to_get_it() {
        let mut f = PrivilegeFacts {
            euid: 65534,
            can_ptrace: false,
            options_denied: 3,
            processes_unreadable: 12,
        };
        let n = privilege_notes(&f);
        assert_eq!(n.len(), 2);
        assert!(n[0].starts_with("as uid 65534, the options"), "{}", n[0]);
        assert!(n[0].contains("of 3 sockets are") && n[0].contains("fds of 12 processes are"));
        assert!(n[1].contains("sudo setcap cap_sys_ptrace"));
        f.can_ptrace = true;
        f.euid = 0;
        assert!(privilege_notes(&f)[1].contains("another user namespace"));
        f.options_denied = 0;
        f.processes_unreadable = 0;
        assert!(privilege_notes(&f).is_empty());
    }
}
