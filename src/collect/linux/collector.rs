//! One snapshot of the host: every network namespace that can be seen (or those selected),
//! entered one at a time from a helper thread to read its sockets, interfaces, sysctls and
//! counters; one `/proc` walk for the holders of all of them; one options probe per socket;
//! then the pure [`crate::collect::join`] per namespace.

use super::in_netns::{self, NetnsData};
use super::netlink::NetlinkError;
use super::netns::{self, Discovery, NetnsTarget};
pub use super::owners::ProbeWhen;
use super::owners::{self, OwnerCache};
use super::privileges::{self, CAP_SYS_PTRACE, PrivilegeFacts};
use super::procfs::{self, ProcRoot};
use crate::collect::join::{self, JoinContext};
use crate::collect::users::UserNames;
use crate::model::{
    FORMAT, Netns, NetnsId, NetnsKind, Privileges, Snapshot, Socket, VERSION, View,
};
use std::path::PathBuf;
use std::time::Instant;

/// Which namespaces a snapshot covers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NetnsSelect {
    /// Every namespace that can be seen (the default).
    All,
    /// Namespaces by `ip netns` name, container or unit name, `host`, `current`, or inode.
    Only(Vec<String>),
}

#[derive(Debug, Clone)]
pub struct CollectConfig {
    pub view: View,
    pub proc_root: ProcRoot,
    /// Where `ip netns` keeps its bind mounts.
    pub run_netns: PathBuf,
    pub netns: NetnsSelect,
    /// Read socket options through pidfd_getfd. Off: options are unknown, by request.
    pub probe_options: bool,
    /// When a [`Collector`] first reads a socket's options: `SeenTwice` for repeated
    /// sampling (record, dashboard), so no socket younger than one interval is duplicated.
    /// A one-shot [`collect`] has no next sample and reads them at once whatever this says.
    pub probe_when: ProbeWhen,
}

impl Default for CollectConfig {
    fn default() -> Self {
        CollectConfig {
            view: View::Listening,
            proc_root: ProcRoot::default(),
            run_netns: PathBuf::from("/run/netns"),
            netns: NetnsSelect::All,
            probe_options: true,
            probe_when: ProbeWhen::FirstSeen,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum CollectError {
    #[error("reading the sockets of this network namespace: {0}")]
    Netlink(#[from] NetlinkError),
    #[error("no network namespace matches '{wanted}' (known: {known})")]
    NoSuchNetns { wanted: String, known: String },
}

/// Whether `t` is what the user named: its name, `current`, or its inode.
fn matches(t: &NetnsTarget, wanted: &str) -> bool {
    t.name.as_deref() == Some(wanted)
        || (wanted == "current" && t.is_own)
        || wanted.parse::<u64>().is_ok_and(|id| id == t.id)
        || wanted
            .strip_prefix("net:[")
            .and_then(|w| w.strip_suffix(']'))
            .and_then(|w| w.parse::<u64>().ok())
            == Some(t.id)
}

/// Picks the selected namespaces; a name that matches nothing is an error that lists the
/// known ones.
pub fn select(
    targets: Vec<NetnsTarget>,
    sel: &NetnsSelect,
) -> Result<Vec<NetnsTarget>, CollectError> {
    let NetnsSelect::Only(wanted) = sel else {
        return Ok(targets);
    };
    for w in wanted {
        if w != "all" && !targets.iter().any(|t| matches(t, w)) {
            let known = targets
                .iter()
                .map(|t| t.name.clone().unwrap_or_else(|| t.id.to_string()))
                .collect::<Vec<_>>()
                .join(", ");
            return Err(CollectError::NoSuchNetns {
                wanted: w.clone(),
                known,
            });
        }
    }
    if wanted.iter().any(|w| w == "all") {
        return Ok(targets);
    }
    Ok(targets
        .into_iter()
        .filter(|t| wanted.iter().any(|w| matches(t, w)))
        .collect())
}

/// Reads one namespace: here when it is our own, else from a thread that entered it.
fn read_target(
    t: &NetnsTarget,
    view: View,
    root: &ProcRoot,
) -> Result<Result<NetnsData, NetlinkError>, String> {
    if t.is_own {
        return Ok(in_netns::read_here(view, root));
    }
    if t.open_path.is_none() {
        return Err("no path to enter it (its processes are not readable)".to_string());
    }
    // run_in_netns checks that the path still leads to this namespace (a pid can be reused).
    netns::run_in_netns(t, || in_netns::read_here(view, root)).map_err(|e| e.to_string())
}

/// A collector for repeated snapshots (the dashboard, `findings --samples`): it keeps fd
/// tables, options and O_NONBLOCK from one refresh to the next (see `owners::OwnerCache`).
pub struct Collector {
    cfg: CollectConfig,
    cache: OwnerCache,
    /// Namespaces found last time, and when: found again every DISCOVERY_TTL.
    discovery: Option<(Discovery, Instant)>,
}

/// How long the list of namespaces is reused by a live view: a new namespace (a container
/// starting) shows within this time; finding them reads every process's `ns/net`.
const DISCOVERY_TTL: std::time::Duration = std::time::Duration::from_secs(5);

impl Collector {
    pub fn new(cfg: CollectConfig) -> Self {
        Collector {
            cfg,
            cache: OwnerCache::default(),
            discovery: None,
        }
    }

    pub fn collect(&mut self) -> Result<Snapshot, CollectError> {
        let fresh = self
            .discovery
            .as_ref()
            .filter(|(_, at)| at.elapsed() < DISCOVERY_TTL)
            .map(|(d, _)| d.clone());
        let discovery = match fresh {
            Some(d) => d,
            None => {
                let d = netns::discover(&self.cfg.proc_root, &self.cfg.run_netns);
                self.discovery = Some((d.clone(), Instant::now()));
                d
            }
        };
        let result = collect_with(&self.cfg, discovery, self.cfg.probe_when, &mut self.cache);
        // A namespace that could not be read may be gone: look again next time.
        if result
            .as_ref()
            .map_or(true, |s| s.netns.iter().any(|n| n.error.is_some()))
        {
            self.discovery = None;
        }
        result
    }
}

/// One snapshot from nothing.
pub fn collect(cfg: &CollectConfig) -> Result<Snapshot, CollectError> {
    let discovery = netns::discover(&cfg.proc_root, &cfg.run_netns);
    // No next sample to wait for: options are read now or never.
    collect_with(
        cfg,
        discovery,
        ProbeWhen::FirstSeen,
        &mut OwnerCache::default(),
    )
}

fn collect_with(
    cfg: &CollectConfig,
    discovery: Discovery,
    probe_when: ProbeWhen,
    cache: &mut OwnerCache,
) -> Result<Snapshot, CollectError> {
    let started = Instant::now();
    let root = &cfg.proc_root;
    let mut warnings = discovery.warnings;
    let netns_unreadable_pids = discovery.unreadable_pids;
    let targets = select(discovery.namespaces, &cfg.netns)?;

    // Inside each namespace.
    let mut entered: Vec<(NetnsTarget, Option<NetnsData>, Option<String>)> = Vec::new();
    let mut not_entered = 0usize;
    for t in targets {
        match read_target(&t, cfg.view, root) {
            Ok(Ok(data)) => entered.push((t, Some(data), None)),
            // The namespace bindscope runs in must work: it is what a user sees first.
            Ok(Err(e)) if t.is_own => return Err(CollectError::Netlink(e)),
            Ok(Err(e)) => {
                warnings.push(format!("network namespace {}: {e}", label(&t)));
                entered.push((t, None, Some(e.to_string())));
            }
            Err(why) => {
                not_entered += 1;
                entered.push((t, None, Some(why)));
            }
        }
    }

    // Holders and options, host-wide.
    let names = UserNames::new();
    let shown: Vec<&crate::collect::raw::RawSocket> = entered
        .iter()
        .filter_map(|(_, d, _)| d.as_ref())
        .flat_map(|d| d.raw.iter())
        .filter(|r| join::in_view(r, cfg.view))
        .collect();
    let probe = cfg.probe_options.then_some(probe_when);
    let owners = owners::resolve(&shown, root, probe, &names, cache);
    drop(shown);
    warnings.extend(owners.warnings.iter().cloned());
    let mut stats = owners.stats.clone();

    let holders_incomplete = (owners.unreadable > 0).then(|| {
        format!(
            "the fds of {} processes could not be read, and any of them may hold this socket",
            owners.unreadable
        )
    });
    let lookup = |uid: u32| names.get(uid);
    let total: usize = entered
        .iter()
        .filter_map(|(_, d, _)| d.as_ref())
        .map(|d| d.raw.iter().filter(|r| join::in_view(r, cfg.view)).count())
        .sum();
    let mut sockets: Vec<Socket> = Vec::with_capacity(total);
    let mut namespaces: Vec<Netns> = Vec::new();
    for (t, data, error) in entered {
        let id = NetnsId(t.id);
        let mut ns = Netns {
            id,
            name: t.name.clone(),
            kind: t.kind,
            processes: t.pids.len() as u32,
            pids: t.pids.iter().copied().take(16).collect(),
            paths: t.paths.iter().map(|p| p.display().to_string()).collect(),
            container: t.container.clone(),
            unit: t.unit.clone(),
            current: t.is_own,
            error,
            interfaces: Vec::new(),
            sysctls: Default::default(),
            counters: Default::default(),
        };
        if let Some(d) = data {
            let ctx = JoinContext {
                netns: id,
                view: cfg.view,
                holders: &owners.holders,
                processes: &owners.processes,
                probes: &owners.probes,
                nonblocking: &owners.nonblocking,
                links: &d.links,
                addrs: &d.addrs,
                user_name: &lookup,
                holders_incomplete: holders_incomplete.clone(),
            };
            join::append_sockets(&d.raw, &ctx, &mut sockets);
            warnings.extend(
                d.warnings
                    .iter()
                    .map(|w| format!("network namespace {}: {w}", label(&t))),
            );
            ns.interfaces = in_netns::interfaces(&d.links, &d.addrs);
            ns.sysctls = d.sysctls;
            ns.counters = d.counters;
        }
        namespaces.push(ns);
    }
    // The host first, then by name and id: a stable order for people and diffs.
    namespaces.sort_by(|a, b| {
        (a.kind != NetnsKind::Host, a.name.is_none(), &a.name, a.id).cmp(&(
            b.kind != NetnsKind::Host,
            b.name.is_none(),
            &b.name,
            b.id,
        ))
    });
    sockets.sort_by_key(join::socket_order);

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
    let options_readable = cfg.probe_options && owners.options_denied == 0;
    let missing = privileges::privilege_notes(&PrivilegeFacts {
        euid,
        can_ptrace: privileges::own_caps(root).is_some_and(|c| c & CAP_SYS_PTRACE != 0),
        options_denied: if cfg.probe_options {
            owners.options_denied
        } else {
            0
        },
        processes_unreadable: owners.unreadable,
        netns_not_entered: not_entered,
        netns_unreadable_pids,
    });
    let (host, host_warnings) = procfs::read_host(root);
    warnings.extend(host_warnings);
    stats.duration_ms = started.elapsed().as_millis() as u64;
    Ok(Snapshot {
        format: FORMAT.to_string(),
        version: VERSION,
        taken_at: crate::model::TakenAt::from_clock(std::time::SystemTime::now()),
        host,
        privileges: Privileges {
            euid,
            options_readable,
            all_holders_visible: owners.unreadable == 0,
            missing,
        },
        warnings,
        netns: namespaces,
        sockets,
        findings: Vec::new(),
        marks: Vec::new(),
        view: cfg.view,
        scan: stats,
    })
}

/// A namespace as messages name it: its name, or `net:[ID]`.
fn label(t: &NetnsTarget) -> String {
    match &t.name {
        Some(n) => format!("'{n}'"),
        None => format!("net:[{}]", t.id),
    }
}
