//! Who holds each socket, and its options: one `/proc` fd walk for the whole host (socket
//! inodes are unique across namespaces, and a process may hold sockets of a namespace it does
//! not live in), the details of each holder process once, and one options probe per socket.

use super::procfs::{self, FdScan, ProcError, ProcRoot};
use super::sockopt::{Depth, OptionProber, ProbeError};
use crate::collect::join::{ProbeOutcome, ProcessInfo};
use crate::collect::raw::RawSocket;
use crate::collect::reasons;
use crate::collect::users::UserNames;
use crate::model::{NetnsId, Proto, ScanStats};
use std::collections::{HashMap, HashSet};
use std::sync::Arc;

/// What the joins of every namespace need about owners.
#[derive(Default)]
pub struct Owners {
    /// inode → every (pid, fd) holding it.
    pub holders: HashMap<u64, Vec<(u32, u32)>>,
    pub processes: HashMap<u32, ProcessInfo>,
    /// cookie → options.
    pub probes: HashMap<u64, ProbeOutcome>,
    /// inode → O_NONBLOCK, for listeners.
    pub nonblocking: HashMap<u64, bool>,
    /// Sockets whose options are unknown for lack of permission.
    pub options_denied: u32,
    /// Processes whose fd tables could not be read.
    pub unreadable: usize,
    pub warnings: Vec<String>,
    pub stats: ScanStats,
}

/// Resolves holders and options of `sockets` (those a snapshot shows, all namespaces).
pub fn resolve(
    sockets: &[&RawSocket],
    root: &ProcRoot,
    probe_options: bool,
    names: &UserNames,
) -> Owners {
    let mut o = Owners::default();
    let wanted: HashSet<u64> = sockets
        .iter()
        .filter(|r| r.inode != 0)
        .map(|r| r.inode)
        .collect();
    let scan = procfs::scan_socket_fds(root);
    record_scan(&mut o, &scan);
    for fd in scan.fds.iter().filter(|f| wanted.contains(&f.inode)) {
        o.holders.entry(fd.inode).or_default().push((fd.pid, fd.fd));
    }
    drop(scan);
    read_processes(&mut o, root, names);
    read_options(&mut o, sockets, root, probe_options);
    o
}

fn record_scan(o: &mut Owners, scan: &FdScan) {
    o.stats.processes_scanned = scan.processes_scanned;
    o.stats.processes_vanished = scan.processes_vanished;
    o.stats.fds_vanished = scan.fds_vanished;
    o.stats.processes_unreadable = scan.unreadable.len() as u32;
    o.unreadable = scan.unreadable.len();
    for e in &scan.other_errors {
        o.warnings.push(format!("reading /proc: {e}"));
    }
}

/// Process details, once per holder process.
fn read_processes(o: &mut Owners, root: &ProcRoot, names: &UserNames) {
    let mut pids: Vec<u32> = o.holders.values().flatten().map(|&(pid, _)| pid).collect();
    pids.sort_unstable();
    pids.dedup();
    o.processes.reserve(pids.len());
    for pid in pids {
        match procfs::read_process(root, pid) {
            Ok(p) => {
                o.processes.insert(
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
            Err(ProcError::Vanished { .. }) => o.stats.processes_vanished += 1,
            Err(e) => o.warnings.push(format!("reading process {pid}: {e}")),
        }
    }
}

/// Options and O_NONBLOCK, from one holder per socket.
fn read_options(o: &mut Owners, sockets: &[&RawSocket], root: &ProcRoot, probe_options: bool) {
    let mut prober = OptionProber::new();
    let mut interner = reasons::Interner::default();
    let mut other_errors: Vec<String> = Vec::new();
    for r in sockets.iter().filter(|r| r.inode != 0) {
        let hs: Vec<(u32, u32)> = o
            .holders
            .get(&r.inode)
            .map(|v| {
                v.iter()
                    .copied()
                    .filter(|(pid, _)| o.processes.contains_key(pid))
                    .collect()
            })
            .unwrap_or_default();
        if r.proto == Proto::Tcp && r.state == 10 {
            for &(pid, fd) in &hs {
                if let Ok(nb) = procfs::read_fd_nonblocking(root, pid, fd) {
                    o.nonblocking.insert(r.inode, nb);
                    break;
                }
            }
        }
        let outcome = if !probe_options {
            ProbeOutcome::Unknown(reasons::NO_PROBE_FLAG.clone())
        } else if hs.is_empty() {
            let why = if o.unreadable == 0 {
                "no holder left to read it from (it exited during the scan)".to_string()
            } else {
                o.options_denied += 1;
                "no visible holder: the processes that may hold it could not be read".to_string()
            };
            ProbeOutcome::Unknown(interner.get(why))
        } else {
            // Connections need only the two options that decide bind conflicts.
            let depth = if matches!(r.state, 10 | 7) {
                Depth::Full
            } else {
                Depth::ReuseOnly
            };
            o.stats.options_probed += 1;
            let mut last = ProbeOutcome::Unknown(reasons::NOT_PROBED.clone());
            for &(pid, fd) in &hs {
                match prober.probe(pid, fd, r.cookie, r.family, r.proto, depth) {
                    Ok(p) => {
                        last = ProbeOutcome::Read(p);
                        break;
                    }
                    Err(e) => {
                        last = ProbeOutcome::Unknown(interner.get(e.to_string()));
                        if e.is_denied() {
                            o.options_denied += 1;
                            break;
                        }
                        if let ProbeError::Other(msg) = &e {
                            other_errors.push(msg.clone());
                        }
                        // A race (exited, closed, fd reused): try the next holder.
                    }
                }
            }
            if matches!(last, ProbeOutcome::Unknown(_)) {
                o.stats.options_failed += 1;
            }
            last
        };
        o.probes.insert(r.cookie, outcome);
    }
    if let Some(first) = other_errors.first() {
        o.warnings.push(format!(
            "reading options failed for {} sockets, first: {first}",
            other_errors.len()
        ));
    }
}
