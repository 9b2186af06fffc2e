//! One snapshot of the host: every network namespace that can be seen (or those selected),
//! entered one at a time from a helper thread to read its sockets, interfaces, sysctls and
//! counters; one `/proc` walk for the holders of all of them; one options probe per socket;
//! then the pure [`crate::collect::join`] per namespace. Everything is read through
//! [`Sources`]: this host's by default, or a recording's.

use super::in_netns::{self, NetnsData, Reading};
use super::last::{Entered, LastRefresh};
use super::netlink::NetlinkError;
use super::netns::{Discovery, NetnsTarget};
pub use super::owners::ProbeWhen;
use super::owners::{self, OwnerCache};
use super::privileges::{self, CAP_SYS_PTRACE, PrivilegeFacts};
use super::procfs;
pub use super::select::select;
use super::sources::{LinuxSources, Sources};
use crate::collect::changes::QuietChanges;
use crate::collect::holders::{FastMap, FastSet};
use crate::collect::join::{self, JoinContext};
use crate::model::{
    FORMAT, Netns, NetnsId, NetnsKind, Privileges, Snapshot, Socket, VERSION, View,
};
use std::sync::Arc;
use std::time::Duration;

/// Which namespaces a snapshot covers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NetnsSelect {
    /// Every namespace that can be seen (the default).
    All,
    /// Namespaces by what names them (see `model::names`): `ip netns` name, container, pod,
    /// image, alias, glob, `host`, `current`, or inode.
    Only(Vec<String>),
}

#[derive(Debug, Clone)]
pub struct CollectConfig {
    pub view: View,
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

/// What a refresh of a [`Collector`] gives.
#[derive(Debug)]
pub enum Refreshed {
    /// A snapshot made from nothing: the first, or something beyond the numbers changed.
    Whole(Box<Snapshot>),
    /// The host as the last snapshot showed it, but for these numbers (to be applied to
    /// that snapshot, with every quiet change since).
    Quiet(QuietChanges),
}

/// A collector for repeated snapshots (the dashboard, `findings --samples`): it keeps fd
/// tables, options and O_NONBLOCK from one refresh to the next (see `owners::OwnerCache`).
pub struct Collector {
    cfg: CollectConfig,
    sources: Box<dyn Sources>,
    cache: OwnerCache,
    /// Namespaces found last time, and when (on the sources' monotonic clock): found again
    /// every DISCOVERY_TTL.
    discovery: Option<(Discovery, Duration)>,
    /// What [`Collector::refresh`] keeps of its last whole refresh.
    last: Option<LastRefresh>,
}

/// How long the list of namespaces is reused by a live view: a new namespace (a container
/// starting) shows within this time; finding them reads every process's `ns/net`.
const DISCOVERY_TTL: Duration = Duration::from_secs(5);
/// How long a quiet refresh trusts what it does not dump (bound-only TCP sockets, SYN_RECV
/// requests, UDP sockets and their queues): then it reads the namespaces whole again. A
/// socket opened or closed by a process shows at once (its fd count changes); this bounds
/// what no count shows (a bind() on a socket opened earlier, a request arriving, a datagram
/// waiting). While the last whole read saw requests waiting (SYN_RECV), every refresh is
/// whole: those counts are what a SYN flood or a stuck accept moves.
const WHOLE_EVERY: Duration = Duration::from_secs(10);

impl Collector {
    /// A collector of this host.
    pub fn new(cfg: CollectConfig) -> Self {
        Self::with_sources(cfg, Box::new(LinuxSources::default()))
    }

    /// A collector reading `sources` (a recording, or a recorder around this host).
    pub fn with_sources(cfg: CollectConfig, sources: Box<dyn Sources>) -> Self {
        Collector {
            cfg,
            sources,
            cache: OwnerCache::default(),
            discovery: None,
            last: None,
        }
    }

    /// The sources' monotonic clock (for a caller that times its samples as collection
    /// does).
    pub fn monotonic(&self) -> Duration {
        self.sources.monotonic()
    }

    /// The namespaces, found again when the last finding is older than DISCOVERY_TTL.
    fn discovery(&mut self) -> Discovery {
        let now = self.sources.monotonic();
        let fresh = self
            .discovery
            .as_ref()
            .filter(|(_, at)| now.saturating_sub(*at) < DISCOVERY_TTL)
            .map(|(d, _)| d.clone());
        match fresh {
            Some(d) => d,
            None => {
                let d = self.sources.discover();
                self.discovery = Some((d.clone(), self.sources.monotonic()));
                d
            }
        }
    }

    /// A whole snapshot (every refresh reads everything).
    pub fn collect(&mut self) -> Result<Snapshot, CollectError> {
        self.last = None;
        let discovery = self.discovery();
        let result = read_namespaces(
            &self.cfg,
            &mut *self.sources,
            discovery,
            &mut self.cache,
            Reading::Whole,
            None,
        )
        .map(|read| {
            assemble(
                &self.cfg,
                &mut *self.sources,
                &read,
                self.cfg.probe_when,
                &mut self.cache,
            )
        });
        self.after(&result);
        result
    }

    /// A refresh of a live view: a whole snapshot the first time and whenever something
    /// beyond the moving numbers changed, else only those numbers ([`Refreshed::Quiet`]).
    /// A quiet refresh dumps only the listeners (see [`Reading::Listeners`]), and every
    /// WHOLE_EVERY the whole namespaces, and checks the owners at the cost of one `fstat`
    /// per process ([`owners::still_holds`]). Its changes apply to the snapshot this
    /// collector gave last: a caller takes every refresh in, in order.
    pub fn refresh(&mut self) -> Result<Refreshed, CollectError> {
        let started = self.sources.monotonic();
        let discovery = self.discovery();
        let reading = match &self.last {
            Some(last)
                if self.cfg.view == View::Listening
                    && !last.requests_waiting()
                    && started.saturating_sub(last.whole_at) < WHOLE_EVERY =>
            {
                Reading::Listeners
            }
            _ => Reading::Whole,
        };
        let read = read_namespaces(
            &self.cfg,
            &mut *self.sources,
            discovery.clone(),
            &mut self.cache,
            reading,
            self.last.as_ref(),
        )?;
        if let Some(changes) = self.quiet(&read, reading, started) {
            return Ok(Refreshed::Quiet(changes));
        }
        let read = match reading {
            Reading::Whole => read,
            Reading::Listeners => read_namespaces(
                &self.cfg,
                &mut *self.sources,
                discovery,
                &mut self.cache,
                Reading::Whole,
                self.last.as_ref(),
            )?,
        };
        let snap = assemble(
            &self.cfg,
            &mut *self.sources,
            &read,
            self.cfg.probe_when,
            &mut self.cache,
        );
        self.last = LastRefresh::new(&snap, &read.entered, self.cfg.view, started);
        let result = Ok(snap);
        self.after(&result);
        result.map(|s| Refreshed::Whole(Box::new(s)))
    }

    /// Makes the next [`Collector::refresh`] whole (its caller lost the snapshot).
    pub fn forget_last(&mut self) {
        self.last = None;
    }

    /// The changes of a quiet refresh, when `read` found the host as it was.
    fn quiet(&mut self, read: &Read, reading: Reading, started: Duration) -> Option<QuietChanges> {
        let last = self.last.as_mut()?;
        let q = last.quiet(&read.entered, reading)?;
        let names = self.sources.user_names();
        let probe = self.cfg.probe_options.then_some(self.cfg.probe_when);
        if !owners::still_holds(
            &|| last.shown(),
            &*self.sources,
            probe,
            &names,
            &mut self.cache,
        ) {
            return None;
        }
        let now = self.sources.monotonic();
        let changes = QuietChanges::new(
            crate::model::TakenAt::from_clock(self.sources.wall_clock()),
            now.saturating_sub(started).as_millis() as u64,
            q.netns.clone(),
            last.counters(),
            q.sockets.clone(),
        );
        last.commit(&q, &read.entered, reading, started);
        Some(changes)
    }

    /// After a whole collection: a namespace that could not be read may be gone, so the
    /// namespaces are looked for again next time.
    fn after(&mut self, result: &Result<Snapshot, CollectError>) {
        if result
            .as_ref()
            .map_or(true, |s| s.netns.iter().any(|n| n.error.is_some()))
        {
            self.discovery = None;
            self.last = None;
        }
    }
}

/// One snapshot of this host from nothing.
pub fn collect(cfg: &CollectConfig) -> Result<Snapshot, CollectError> {
    collect_from(cfg, &mut LinuxSources::default())
}

/// One snapshot from nothing, read from `sources`.
pub fn collect_from(
    cfg: &CollectConfig,
    sources: &mut dyn Sources,
) -> Result<Snapshot, CollectError> {
    let discovery = sources.discover();
    let mut cache = OwnerCache::default();
    let read = read_namespaces(cfg, sources, discovery, &mut cache, Reading::Whole, None)?;
    // No next sample to wait for: options are read now or never.
    Ok(assemble(
        cfg,
        sources,
        &read,
        ProbeWhen::FirstSeen,
        &mut cache,
    ))
}

/// What was read of the namespaces, before the owners and the join.
struct Read {
    started: Duration,
    warnings: Vec<String>,
    netns_unreadable_pids: u32,
    netns_unreadable_containers: Vec<String>,
    entered: Vec<Entered>,
    not_entered: Vec<String>,
}

/// Names the namespaces, picks those `cfg` selects and reads each from inside.
/// `last`: the last refresh, whose reads tell these ones what to expect ([`in_netns::Hint`]).
fn read_namespaces(
    cfg: &CollectConfig,
    sources: &mut dyn Sources,
    discovery: Discovery,
    cache: &mut OwnerCache,
    reading: Reading,
    last: Option<&LastRefresh>,
) -> Result<Read, CollectError> {
    let started = sources.monotonic();
    let warnings = discovery.warnings;
    let netns_unreadable_pids = discovery.unreadable_pids;
    // Containers name their namespaces before `--netns` picks among them.
    let mut namespaces = discovery.namespaces;
    cache.containers.begin(started);
    cache.containers.name_namespaces(sources, &mut namespaces);
    let netns_unreadable_containers = cache.containers.labels_of(sources, &discovery.unreadable);
    let targets = select(namespaces, &cfg.netns)?;

    // Inside each namespace.
    let read_each: Vec<std::sync::Mutex<Option<Result<NetnsData, NetlinkError>>>> = targets
        .iter()
        .map(|_| std::sync::Mutex::new(None))
        .collect();
    let entering = sources.in_each_netns(&targets, &|i, ns| {
        let hint = targets
            .get(i)
            .zip(last)
            .map(|(t, l)| l.hint(t.id, reading))
            .unwrap_or_default();
        let data = in_netns::read(cfg.view, reading, hint, ns);
        if let Some(Ok(mut slot)) = read_each.get(i).map(|m| m.lock()) {
            *slot = Some(data);
        }
    });
    let mut entered: Vec<Entered> = Vec::new();
    let mut not_entered: Vec<String> = Vec::new();
    let mut warnings = warnings;
    for ((t, entering), data) in targets.into_iter().zip(entering).zip(read_each) {
        let data = data.into_inner().ok().flatten();
        match entering.and_then(|()| data.ok_or_else(|| "it was not read".to_string())) {
            Ok(Ok(data)) => entered.push((t, Some(data), None)),
            // The namespace bindscope runs in must work: it is what a user sees first.
            Ok(Err(e)) if t.is_own => return Err(CollectError::Netlink(e)),
            Ok(Err(e)) => {
                warnings.push(format!("network namespace {}: {e}", label(&t)));
                entered.push((t, None, Some(e.to_string())));
            }
            Err(why) => {
                not_entered.push(label(&t));
                entered.push((t, None, Some(why)));
            }
        }
    }
    Ok(Read {
        started,
        warnings,
        netns_unreadable_pids,
        netns_unreadable_containers,
        entered,
        not_entered,
    })
}

/// The snapshot of what `read` found: holders and options host-wide, then the join of
/// each namespace.
fn assemble(
    cfg: &CollectConfig,
    sources: &mut dyn Sources,
    read: &Read,
    probe_when: ProbeWhen,
    cache: &mut OwnerCache,
) -> Snapshot {
    let Read {
        started,
        warnings,
        netns_unreadable_pids,
        netns_unreadable_containers,
        entered,
        not_entered,
    } = read;
    let started = *started;
    let mut warnings = warnings.clone();

    // Holders and options, host-wide.
    let names = sources.user_names();
    let shown: Vec<&crate::collect::raw::RawSocket> = entered
        .iter()
        .filter_map(|(_, d, _)| d.as_ref())
        .flat_map(|d| d.raw.iter())
        .filter(|r| join::in_view(r, cfg.view))
        .collect();
    let probe = cfg.probe_options.then_some(probe_when);
    let owners = owners::resolve(&shown, sources, probe, &names, cache);
    drop(shown);
    warnings.extend(owners.warnings.iter().cloned());
    if cache.containers.denied() > 0 {
        // Normal without root: one line, not one per file.
        warnings.push(format!(
            "the state files of {} could not be read with your rights: they are named from their cgroups and supervisors only (ids, and Podman's names)",
            crate::text::count(cache.containers.denied(), "container", "containers")
        ));
    }
    let mut stats = owners.stats.clone();

    // One text shared by every socket (50,000 copies of it were 50,000 allocations).
    let holders_incomplete: Option<Arc<str>> = (owners.unreadable > 0).then(|| {
        let text = if owners.unreadable == 1 {
            "the fds of 1 process could not be read, and it may hold this socket".to_string()
        } else {
            format!(
                "the fds of {} processes could not be read, and any of them may hold this socket",
                owners.unreadable
            )
        };
        text.into()
    });
    // Named once per uid before the join, which may run on two threads (`UserNames`
    // caches in a RefCell).
    let user_names: FastMap<u32, Option<Arc<str>>> = entered
        .iter()
        .filter_map(|(_, d, _)| d.as_ref())
        .flat_map(|d| d.raw.iter())
        .map(|r| r.uid)
        .collect::<FastSet<u32>>()
        .into_iter()
        .map(|uid| (uid, names.get(uid)))
        .collect();
    let lookup = |uid: u32| user_names.get(&uid).cloned().flatten();
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
            containers: t.containers.clone(),
            unit: t.unit.clone(),
            current: t.is_own,
            error: error.clone(),
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
                    .map(|w| format!("network namespace {}: {w}", label(t))),
            );
            ns.interfaces = in_netns::interfaces(&d.links, &d.addrs);
            ns.sysctls = d.sysctls.clone();
            ns.counters = d.counters.clone();
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
        warnings.push(match stats.processes_vanished {
            1 => "1 process exited during the scan and was skipped".to_string(),
            n => format!("{n} processes exited during the scan and were skipped"),
        });
    }
    if stats.fds_vanished > 0 {
        warnings.push(match stats.fds_vanished {
            1 => "1 fd was closed during the scan and was skipped".to_string(),
            n => format!("{n} fds were closed during the scan and were skipped"),
        });
    }

    let euid = sources.euid();
    let root = sources.proc_root();
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
        netns_not_entered: not_entered.len(),
        netns_unreadable_pids: *netns_unreadable_pids,
        netns_unreadable_containers: netns_unreadable_containers.clone(),
        netns_not_entered_names: not_entered.clone(),
    });
    let (host, host_warnings) = procfs::read_host(root);
    warnings.extend(host_warnings);
    stats.duration_ms = sources.monotonic().saturating_sub(started).as_millis() as u64;
    Snapshot {
        format: FORMAT.to_string(),
        version: VERSION,
        taken_at: crate::model::TakenAt::from_clock(sources.wall_clock()),
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
        dashboard: None,
        view: cfg.view,
        scan: stats,
    }
}

/// A namespace as messages name it: its name, or `net:[ID]`.
fn label(t: &NetnsTarget) -> String {
    match &t.name {
        Some(n) => format!("'{n}'"),
        None => format!("net:[{}]", t.id),
    }
}
