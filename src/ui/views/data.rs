//! What the views show, derived once per snapshot: the findings (judged with the queue
//! history), per socket its findings, port group, overlap marker and highlights, and the
//! processes, users and port groups as rows. Drawing and key presses only read this.

use crate::analyze::findings;
use crate::analyze::history::History;
use crate::analyze::overlap::{Endpoint, addr_overlap, dev_overlap};
use crate::analyze::ports::{PortGroup, port_groups};
use crate::model::{
    Container, Finding, FindingKind, NetnsId, PortKey, Proto, Runtime, Severity, Snapshot,
    SocketId, State,
};
use crate::output::containers;
use crate::query::FilterContext;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Arc;

/// How a listener's accept queue is doing, from the queue findings.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Default)]
pub enum QueueMark {
    #[default]
    Normal,
    Growing,
    Full,
}

/// What the views know about one socket beyond the snapshot.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SockInfo {
    /// Indices into [`Data::findings`].
    pub findings: Vec<u32>,
    pub worst: Option<Severity>,
    /// Index into [`Data::groups`].
    pub group: Option<u32>,
    /// The marker shared by the overlapping binds of its port group.
    pub marker: Option<char>,
    /// Held by, or sharing its port with, another user.
    pub cross_user: bool,
    pub queue: QueueMark,
}

/// A row of the Findings view: one finding, or the facets of one problem on one port
/// (findings sharing `problem`), at the worst facet's severity.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FindingEntry {
    /// Indices into [`Data::findings`], most severe first.
    pub facets: Vec<u32>,
    pub severity: Severity,
    /// Socket indices of every facet, each once.
    pub sockets: Vec<u32>,
    /// The problem's port, for a problem.
    pub problem: Option<PortKey>,
}

/// The rows of the Findings view, by severity, then port, then as analysed.
fn finding_entries(
    snap: &Snapshot,
    found: &[Finding],
    finding_sockets: &[Vec<u32>],
) -> Vec<FindingEntry> {
    let mut out: Vec<FindingEntry> = Vec::new();
    for (fi, f) in found.iter().enumerate() {
        let fi = u32::try_from(fi).unwrap_or(u32::MAX);
        let idx = finding_sockets
            .get(fi as usize)
            .cloned()
            .unwrap_or_default();
        if let Some(key) = f.problem
            && let Some(e) = out.iter_mut().find(|e| e.problem == Some(key))
        {
            e.facets.push(fi);
            e.severity = e.severity.max(f.severity);
            for i in idx {
                if !e.sockets.contains(&i) {
                    e.sockets.push(i);
                }
            }
            continue;
        }
        out.push(FindingEntry {
            facets: vec![fi],
            severity: f.severity,
            sockets: idx,
            problem: f.problem,
        });
    }
    // The port an entry is about: its problem's, or the one port all its sockets share;
    // entries about several ports (a user's programs) or none come after, by kind.
    let port = |e: &FindingEntry| {
        e.problem.map(|k| k.port).or_else(|| {
            let mut ports = e
                .sockets
                .iter()
                .filter_map(|&i| snap.sockets.get(i as usize))
                .map(|s| s.local_port);
            let first = ports.next()?;
            ports.all(|p| p == first).then_some(first)
        })
    };
    for e in &mut out {
        e.facets
            .sort_by_key(|&fi| std::cmp::Reverse(found.get(fi as usize).map(|f| f.severity)));
    }
    // Stable: within a severity and port, the analysis's order (kind, sockets) stays.
    out.sort_by_key(|e| (std::cmp::Reverse(e.severity), port(e).is_none(), port(e)));
    out
}

/// A port group with its members as socket indices.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Group {
    pub group: PortGroup,
    pub members: Vec<u32>,
    pub marker: Option<char>,
    pub worst: Option<Severity>,
    /// Distinct socket uids of the members.
    pub uids: Vec<u32>,
}

/// One process holding sockets.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Process {
    pub pid: u32,
    pub name: Arc<str>,
    pub uid: u32,
    pub user: Option<Arc<str>>,
    pub cmdline: Arc<[String]>,
    pub unit: Option<Arc<str>>,
    pub container: Option<Arc<Container>>,
    pub netns: Option<NetnsId>,
    /// Socket indices, each once.
    pub sockets: Vec<u32>,
    pub listening: u32,
    pub ports: Vec<u16>,
    pub worst: Option<Severity>,
    /// Holds a socket whose uid is not its own.
    pub cross_user: bool,
}

/// One user, as a socket owner (`sk_uid`) or as a holder's uid.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    pub uid: u32,
    pub name: Option<Arc<str>>,
    /// Sockets whose uid this is.
    pub owned: Vec<u32>,
    /// Sockets held by a process of this uid.
    pub held: Vec<u32>,
    pub pids: Vec<u32>,
    pub ports: Vec<u16>,
    /// Owned or held sockets that are cross-user.
    pub cross: u32,
    pub worst: Option<Severity>,
}

/// One container of the snapshot, for the Host view's Containers grouping.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContainerEntry {
    pub container: Container,
    /// The namespace it lives in: the one that lists it, else its processes'.
    pub netns: Option<NetnsId>,
    /// It made that namespace (the others joined it).
    pub owner: bool,
    /// Sockets it holds, or that sit in its namespace with no holder in a container.
    pub sockets: u32,
    pub listening: u32,
}

/// Counts for the header.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counts {
    pub sockets: usize,
    pub listening: usize,
    pub tcp: usize,
    pub udp: usize,
    pub critical: usize,
    pub warning: usize,
    pub notice: usize,
    pub info: usize,
}

/// Everything derived from one snapshot.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Data {
    pub findings: Vec<Finding>,
    /// Socket indices of each finding.
    pub finding_sockets: Vec<Vec<u32>>,
    /// The Findings view's rows: a problem's facets are one.
    pub finding_entries: Vec<FindingEntry>,
    pub filter_cx: FilterContext,
    /// Sanitized display names of the namespaces ([`crate::analyze::describe::netns_label`]).
    pub ns_names: HashMap<NetnsId, String>,
    /// The owner container of each namespace that has one.
    pub ns_owners: HashMap<NetnsId, Container>,
    /// Every container the snapshot knows, by label.
    pub containers: Vec<ContainerEntry>,
    pub by_id: HashMap<SocketId, u32>,
    pub sockets: Vec<SockInfo>,
    pub groups: Vec<Group>,
    pub processes: Vec<Process>,
    pub users: Vec<User>,
    /// Sockets per namespace.
    pub ns_sockets: HashMap<NetnsId, usize>,
    /// Some socket has a remote end (the snapshot holds connections).
    pub has_remote: bool,
    /// Sockets of several hosts (files merged by `bindscope open`).
    pub multi_host: bool,
    pub counts: Counts,
}

/// Markers for overlapping groups: letters, then digits; past those, `*`.
const MARKERS: &str = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

/// Above this many members, a group is marked whole rather than checked pair by pair.
const PAIRWISE_MAX: usize = 64;

impl Data {
    /// Derives everything for `snap`; `history` already holds it.
    pub fn new(snap: &Snapshot, history: &History) -> Data {
        // The findings and the port groups' routes are the two halves of the work, and
        // independent: on a second core when one can be had (a first screen of 50,000
        // sockets waits for both).
        let (found, ports) = std::thread::scope(|scope| {
            let ports = std::thread::Builder::new()
                .name("port-groups".into())
                .spawn_scoped(scope, || port_groups(&snap.sockets));
            let found = findings::analyze(snap, history);
            let ports = match ports {
                Ok(h) => h.join().ok(),
                Err(_) => None,
            };
            (found, ports)
        });
        let ports = ports.unwrap_or_else(|| port_groups(&snap.sockets));
        Data::made(snap, found, ports)
    }

    /// As [`Data::new`], with the findings given (a snapshot file's own, or tests').
    pub fn with_findings(snap: &Snapshot, found: Vec<Finding>) -> Data {
        Data::made(snap, found, port_groups(&snap.sockets))
    }

    /// The data of `snap` with its findings and port groups.
    fn made(snap: &Snapshot, found: Vec<Finding>, ports: Vec<PortGroup>) -> Data {
        let by_id: HashMap<SocketId, u32> = snap
            .sockets
            .iter()
            .enumerate()
            .filter_map(|(i, s)| Some((s.id.clone(), u32::try_from(i).ok()?)))
            .collect();
        let mut sockets: Vec<SockInfo> = vec![SockInfo::default(); snap.sockets.len()];
        let mut finding_sockets = Vec::with_capacity(found.len());
        let mut counts = Counts::default();
        for (fi, f) in found.iter().enumerate() {
            let idx: Vec<u32> = f
                .sockets
                .iter()
                .filter_map(|id| by_id.get(id).copied())
                .collect();
            for &i in &idx {
                let Some(info) = sockets.get_mut(i as usize) else {
                    continue;
                };
                info.findings.push(u32::try_from(fi).unwrap_or(u32::MAX));
                info.worst = info.worst.max(Some(f.severity));
                if f.kind.is_cross_user() {
                    info.cross_user = true;
                }
                match f.kind {
                    FindingKind::AcceptQueueFull => info.queue = QueueMark::Full,
                    FindingKind::AcceptQueueGrowing => {
                        info.queue = info.queue.max(QueueMark::Growing)
                    }
                    _ => {}
                }
            }
            finding_sockets.push(idx);
        }
        let finding_entries = finding_entries(snap, &found, &finding_sockets);
        // The header counts what the Findings view lists: a problem once.
        for e in &finding_entries {
            match e.severity {
                Severity::Critical => counts.critical += 1,
                Severity::Warning => counts.warning += 1,
                Severity::Notice => counts.notice += 1,
                Severity::Info => counts.info += 1,
            }
        }
        let mut ns_sockets: HashMap<NetnsId, usize> = HashMap::new();
        let mut has_remote = false;
        let mut multi_host = false;
        for (s, info) in snap.sockets.iter().zip(sockets.iter_mut()) {
            *ns_sockets.entry(s.netns).or_default() += 1;
            has_remote |= s.remote_addr.is_some();
            multi_host |= s.host.is_some();
            if s.holders.iter().any(|h| h.uid != s.uid) {
                info.cross_user = true;
            }
            counts.sockets += 1;
            if s.state == State::Listen {
                counts.listening += 1;
            }
            match s.proto {
                Proto::Tcp => counts.tcp += 1,
                Proto::Udp => counts.udp += 1,
            }
        }

        let groups = groups(snap, ports, &by_id, &mut sockets);
        let processes = processes(snap, &sockets);
        let users = users(snap, &sockets);
        let ns_names = crate::analyze::describe::netns_labels(snap);
        let ns_owners: HashMap<NetnsId, Container> = containers::owners(snap)
            .into_iter()
            .map(|(id, c)| (id, c.clone()))
            .collect();
        let containers = container_entries(snap, &ns_owners);
        // The filter's `finding:` terms read the findings from the snapshot.
        let filter_cx = {
            let mut cx = FilterContext::new(snap);
            cx.findings_by_socket.clear();
            for f in &found {
                for id in &f.sockets {
                    let kinds = cx.findings_by_socket.entry(id.clone()).or_default();
                    if !kinds.contains(&f.kind) {
                        kinds.push(f.kind.clone());
                    }
                }
            }
            cx
        };
        Data {
            findings: found,
            finding_sockets,
            finding_entries,
            filter_cx,
            ns_names,
            ns_owners,
            containers,
            by_id,
            sockets,
            groups,
            processes,
            users,
            ns_sockets,
            has_remote,
            multi_host,
            counts,
        }
    }

    /// A namespace's display name.
    pub fn ns_name(&self, id: NetnsId) -> String {
        self.ns_names
            .get(&id)
            .cloned()
            .unwrap_or_else(|| format!("net:[{id}]"))
    }

    pub fn sock(&self, i: usize) -> Option<&SockInfo> {
        self.sockets.get(i)
    }

    /// A socket's containers ([`containers::of_socket`]).
    pub fn socket_containers<'a>(&'a self, s: &'a crate::model::Socket) -> Vec<&'a Container> {
        containers::of_socket(s, self.ns_owners.get(&s.netns))
    }
}

/// The containers of the namespaces (owner first), then those only holders name (host
/// network), each once, with the sockets [`containers::of_socket`] gives them.
fn container_entries(snap: &Snapshot, owners: &HashMap<NetnsId, Container>) -> Vec<ContainerEntry> {
    let mut out: Vec<ContainerEntry> = Vec::new();
    // By runtime and namespace, then id: a lookup per socket without making a key. The
    // namespace keeps apart the containers of several hosts' files (`bindscope open`) that
    // share an id: LXC and machined use the name as the id.
    let mut index: HashMap<(Runtime, Option<NetnsId>), HashMap<String, usize>> = HashMap::new();
    let mut add = |out: &mut Vec<ContainerEntry>, c: &Container, netns: Option<NetnsId>, owner| {
        let ids = index.entry((c.runtime, netns)).or_default();
        if let Some(&i) = ids.get(c.id.as_str()) {
            return i;
        }
        out.push(ContainerEntry {
            container: c.clone(),
            netns,
            owner,
            sockets: 0,
            listening: 0,
        });
        ids.insert(c.id.clone(), out.len() - 1);
        out.len() - 1
    };
    for n in &snap.netns {
        for c in n.container.iter().chain(&n.containers) {
            let owner = n.container.as_ref().is_some_and(|o| containers::same(o, c));
            add(&mut out, c, Some(n.id), owner);
        }
    }
    for s in &snap.sockets {
        for c in containers::of_socket(s, owners.get(&s.netns)) {
            let netns = s
                .holders
                .iter()
                .find(|h| {
                    h.container
                        .as_deref()
                        .is_some_and(|hc| containers::same(hc, c))
                })
                .and_then(|h| h.netns)
                .or(Some(s.netns));
            let i = add(&mut out, c, netns, false);
            if let Some(e) = out.get_mut(i) {
                e.sockets += 1;
                if s.state == State::Listen {
                    e.listening += 1;
                }
            }
        }
    }
    out.sort_by_cached_key(|e| (e.container.label(), e.container.id.clone()));
    out
}

fn groups(
    snap: &Snapshot,
    ports: Vec<PortGroup>,
    by_id: &HashMap<SocketId, u32>,
    sockets: &mut [SockInfo],
) -> Vec<Group> {
    let mut markers = MARKERS.chars();
    let mut out = Vec::new();
    for g in ports {
        let members: Vec<u32> = g
            .members
            .iter()
            .filter_map(|id| by_id.get(id).copied())
            .collect();
        let gi = u32::try_from(out.len()).unwrap_or(u32::MAX);
        let overlapping = overlapping(snap, &members);
        let marker = if overlapping.iter().any(|&o| o) {
            Some(markers.next().unwrap_or('*'))
        } else {
            None
        };
        let mut worst = None;
        let mut uids = BTreeSet::new();
        for (&m, &over) in members.iter().zip(&overlapping) {
            if let Some(info) = sockets.get_mut(m as usize) {
                info.group = Some(gi);
                if over {
                    info.marker = marker;
                }
                worst = worst.max(info.worst);
            }
            if let Some(s) = snap.sockets.get(m as usize) {
                uids.insert(s.uid);
            }
        }
        out.push(Group {
            group: g,
            members,
            marker,
            worst,
            uids: uids.into_iter().collect(),
        });
    }
    out
}

/// Per member: whether its bind overlaps another member's (the kernel's address and
/// device overlap; an overlap that depends on an unknown V6ONLY counts, as it may be one).
fn overlapping(snap: &Snapshot, members: &[u32]) -> Vec<bool> {
    if members.len() < 2 {
        return vec![false; members.len()];
    }
    if members.len() > PAIRWISE_MAX {
        return vec![true; members.len()];
    }
    let eps: Vec<Option<Endpoint>> = members
        .iter()
        .map(|&m| snap.sockets.get(m as usize).map(Endpoint::from_socket))
        .collect();
    let mut out = vec![false; members.len()];
    for i in 0..eps.len() {
        for j in (i + 1)..eps.len() {
            let (Some(Some(a)), Some(Some(b))) = (eps.get(i), eps.get(j)) else {
                continue;
            };
            if dev_overlap(a.device.as_deref(), b.device.as_deref())
                && addr_overlap(a, b) != Some(false)
            {
                if let Some(x) = out.get_mut(i) {
                    *x = true;
                }
                if let Some(x) = out.get_mut(j) {
                    *x = true;
                }
            }
        }
    }
    out
}

fn processes(snap: &Snapshot, sockets: &[SockInfo]) -> Vec<Process> {
    let mut by_pid: BTreeMap<u32, Process> = BTreeMap::new();
    for (i, (s, info)) in snap.sockets.iter().zip(sockets).enumerate() {
        let idx = u32::try_from(i).unwrap_or(u32::MAX);
        for h in &s.holders {
            let p = by_pid.entry(h.pid).or_insert_with(|| Process {
                pid: h.pid,
                name: h.name.clone(),
                uid: h.uid,
                user: h.user.clone(),
                cmdline: h.cmdline.clone(),
                unit: h.unit.clone(),
                container: h.container.clone(),
                netns: h.netns,
                sockets: Vec::new(),
                listening: 0,
                ports: Vec::new(),
                worst: None,
                cross_user: false,
            });
            // A process holding one socket through several fds counts it once.
            if p.sockets.last() == Some(&idx) {
                continue;
            }
            p.sockets.push(idx);
            if s.state == State::Listen {
                p.listening += 1;
            }
            p.ports.push(s.local_port);
            p.worst = p.worst.max(info.worst);
            if s.uid != h.uid {
                p.cross_user = true;
            }
        }
    }
    by_pid
        .into_values()
        .map(|mut p| {
            p.ports.sort_unstable();
            p.ports.dedup();
            p
        })
        .collect()
}

fn users(snap: &Snapshot, sockets: &[SockInfo]) -> Vec<User> {
    let mut by_uid: BTreeMap<u32, User> = BTreeMap::new();
    let mut pids: BTreeMap<u32, BTreeSet<u32>> = BTreeMap::new();
    let blank = |uid: u32| User {
        uid,
        name: None,
        owned: Vec::new(),
        held: Vec::new(),
        pids: Vec::new(),
        ports: Vec::new(),
        cross: 0,
        worst: None,
    };
    for (i, (s, info)) in snap.sockets.iter().zip(sockets).enumerate() {
        let idx = u32::try_from(i).unwrap_or(u32::MAX);
        let owner = by_uid.entry(s.uid).or_insert_with(|| blank(s.uid));
        if owner.name.is_none() {
            owner.name = s.user.clone();
        }
        owner.owned.push(idx);
        owner.ports.push(s.local_port);
        owner.worst = owner.worst.max(info.worst);
        if info.cross_user {
            owner.cross += 1;
        }
        for h in &s.holders {
            pids.entry(h.uid).or_default().insert(h.pid);
            let u = by_uid.entry(h.uid).or_insert_with(|| blank(h.uid));
            if u.name.is_none() {
                u.name = h.user.clone();
            }
            if u.held.last() == Some(&idx) {
                continue;
            }
            u.held.push(idx);
            if u.uid != s.uid {
                // Counted for the holder too, unless already counted as its owner.
                u.ports.push(s.local_port);
                u.worst = u.worst.max(info.worst);
                if info.cross_user {
                    u.cross += 1;
                }
            }
        }
    }
    by_uid
        .into_values()
        .map(|mut u| {
            u.pids = pids
                .get(&u.uid)
                .map(|p| p.iter().copied().collect())
                .unwrap_or_default();
            u.ports.sort_unstable();
            u.ports.dedup();
            u
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ui::tests::fixture;

    #[test]
    fn fixture_markers_groups_and_highlights() {
        let snap = fixture();
        let d = Data::new(&snap, &History::default());
        // The two UDP 5353 binds of two users are mDNS responders: shared by design, info.
        // ingest's blocking listener is no finding: one process, threads unknown (the file
        // predates the thread count), and a lone accepter does not hang on Linux.
        // Three users run unrelated programs (shared_uid): 1001 (api-server's SO_REUSEPORT
        // makes it a notice), 1002 and nobody.
        assert_eq!(d.findings.len(), 18);
        assert_eq!(
            (
                d.counts.critical,
                d.counts.warning,
                d.counts.notice,
                d.counts.info
            ),
            (1, 1, 8, 5),
            "the header counts rows: each problem once"
        );
        // Two problems: tcp 8080 (family_split + wildcard_overlap), udp 5353 (the two
        // responders' cross_user_port and takeovers).
        assert_eq!(d.finding_entries.len(), 15);
        let problems: Vec<(u16, usize)> = d
            .finding_entries
            .iter()
            .filter_map(|e| Some((e.problem?.port, e.facets.len())))
            .collect();
        assert_eq!(problems, [(8080, 2), (5353, 3)]);
        let info = |id: &str| {
            let i = *d.by_id.get(&SocketId(id.into())).expect("id");
            d.sockets[i as usize].clone()
        };
        // 0.0.0.0:8080 and 127.0.0.1:8080 overlap; so do the two UDP 5353 binds.
        let a = info("4026532245-8737f").marker;
        assert!(a.is_some());
        assert_eq!(info("4026532245-87380").marker, a);
        let b = info("4026532245-87384").marker;
        assert!(b.is_some() && b != a);
        assert_eq!(info("4026532245-8738c").marker, b);
        // 0.0.0.0:5432 and [::]:5432 with V6ONLY do not overlap.
        assert_eq!(info("4026532177-8739a").marker, None);
        assert_eq!(info("4026532177-8739b").marker, None);
        assert_eq!(info("4026532245-87381").queue, QueueMark::Full);
        assert_eq!(info("4026532245-87381").worst, Some(Severity::Critical));
        assert!(
            info("4026532245-8737e").cross_user,
            "root socket held by www-data"
        );
        assert!(
            info("4026532245-87384").cross_user,
            "udp 5353 shared by two users"
        );
        assert!(!info("4026532245-87381").cross_user);
        let nginx = d
            .processes
            .iter()
            .find(|p| p.pid == 22267)
            .expect("nginx worker");
        assert!(nginx.cross_user);
        let www = d.users.iter().find(|u| u.uid == 33).expect("www-data");
        assert_eq!((www.owned.len(), www.held.len()), (0, 1));
    }
}
