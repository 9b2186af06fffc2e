//! Which container a process runs in, named from its runtime's own state, and who owns a
//! network namespace that containers share.
//!
//! For one process: its cgroup (`runtime::cgroup`, world-readable) gives the runtime and
//! full id for most runtimes; its supervisor, the nearest ancestor that is a containerd
//! shim, conmon or LXC monitor (`runtime::supervisor`, command lines are world-readable),
//! confirms or supplies it (rootless Podman on cgroup v1 has no container cgroup at all) and
//! says where the state is. Then the state files (`runtime::state`), read through
//! [`HostFiles::state_file`] with the user's own rights: names, images, pods, and how the
//! container got its network namespace. Where they cannot be read, the world-readable
//! sources' answer stands and the container is counted in [`ContainerCache::denied`].
//!
//! Everything is cached across refreshes of a live view: a process's answer for
//! [`PID_TTL`], a container's state for [`STATE_TTL`], the daemons' state directories for
//! [`DAEMON_TTL`], so a 1 s refresh does not re-read Docker's state.

use super::netns::{NET_NS_INIT_INO, NetnsTarget};
use super::procfs::{
    self, parse_cmdline, parse_stat_starttime, parse_status_u32, parse_status_uids,
};
use super::sources::HostFiles;
use super::state_files::{MAX_DB, MAX_JSON, StateFileError};
use crate::collect::runtime::cgroup::{self, CgroupContainer, CgroupOwner, PodRef};
use crate::collect::runtime::ownership::{self, Candidate, NetnsRole};
use crate::collect::runtime::state::{
    self, BundleNetns, NetworkMode, PodmanPods, StorageContainer,
};
use crate::collect::runtime::supervisor::{self, Supervisor};
use crate::model::{Container, NetnsKind, Pod, Runtime};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

/// How long a process's container is trusted (as the process's other details, owners.rs).
pub const PID_TTL: Duration = Duration::from_secs(15);
/// How long what a container's state files said is trusted: names and images change only
/// by `docker rename` or a restart.
pub const STATE_TTL: Duration = Duration::from_secs(30);
/// How long the daemons' state directories (from their command lines) are trusted.
pub const DAEMON_TTL: Duration = Duration::from_secs(30);
/// How far up the parent chain a supervisor is looked for: a container's init is the
/// supervisor's child, its workers some levels below (a shell script's children, a process
/// manager's workers). Reads are memoized per refresh, so a deep chain costs once.
const MAX_ANCESTORS: usize = 32;

/// A process's container and what its state says of its network namespace.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Resolved {
    pub container: Arc<Container>,
    pub role: NetnsRole,
}

/// Where the daemons running now keep their state.
#[derive(Debug, Clone, Default)]
struct Daemons {
    docker_roots: Vec<PathBuf>,
    containerd_states: Vec<PathBuf>,
}

/// A container's description is cached per runtime, id and the user whose word it rests
/// on (`None` for root's): a user's claim never stands for root's container.
type DescribedKey = (Runtime, String, Option<u32>);

/// One ancestor, read once per refresh.
#[derive(Debug, Clone)]
struct Ancestor {
    ppid: Option<u32>,
    supervisor: Option<Supervisor>,
    /// Its real uid; `None` when unreadable (then it is not trusted as a supervisor).
    uid: Option<u32>,
}

/// What container naming keeps from one refresh to the next. Ages are readings of the
/// sources' monotonic clock.
#[derive(Default)]
pub struct ContainerCache {
    by_pid: HashMap<u32, (Option<Resolved>, Duration)>,
    /// Per container: what its state said, whether reading it was refused, and when.
    described: HashMap<DescribedKey, (Resolved, bool, Duration)>,
    daemons: Option<(Arc<Daemons>, Duration)>,
    pods: HashMap<PathBuf, (Arc<PodmanPods>, Duration)>,
    storage: HashMap<PathBuf, (Arc<Vec<StorageContainer>>, Duration)>,
    /// When processes started (`/proc/PID/stat` field 22), for namespace ownership.
    started: HashMap<u32, (Option<u64>, Duration)>,
    /// This refresh's parent-chain reads.
    ancestors: HashMap<u32, Ancestor>,
    now: Duration,
}

impl ContainerCache {
    /// Containers seen lately whose state files could not be read for lack of permission:
    /// their names are what the cgroup and supervisor say.
    pub fn denied(&self) -> usize {
        self.described.values().filter(|(_, d, _)| *d).count()
    }

    /// Starts a refresh: forgets what is too old.
    pub fn begin(&mut self, now: Duration) {
        self.now = now;
        self.ancestors.clear();
        let fresh = |at: &Duration, ttl: Duration| now.saturating_sub(*at) < ttl;
        self.by_pid.retain(|_, (_, at)| fresh(at, PID_TTL));
        self.started.retain(|_, (_, at)| fresh(at, PID_TTL));
        self.described.retain(|_, (_, _, at)| fresh(at, STATE_TTL));
        // Podman's database (up to 64 MiB, parsed whole) and containers.json are kept as
        // long as the descriptions made from them: a pod is renamed no more often.
        self.pods.retain(|_, (_, at)| fresh(at, STATE_TTL));
        self.storage.retain(|_, (_, at)| fresh(at, STATE_TTL));
        if self
            .daemons
            .as_ref()
            .is_some_and(|(_, at)| !fresh(at, DAEMON_TTL))
        {
            self.daemons = None;
        }
    }

    /// The container of process `pid`, whose cgroup file said `cgroup` and whose parent is
    /// `ppid`.
    pub fn of_process(
        &mut self,
        src: &dyn HostFiles,
        pid: u32,
        cgroup: &CgroupOwner,
        ppid: Option<u32>,
    ) -> Option<Resolved> {
        if let Some((r, _)) = self.by_pid.get(&pid) {
            return r.clone();
        }
        let found = self
            .identify(src, cgroup, ppid)
            .map(|id| self.describe(src, id));
        self.by_pid.insert(pid, (found.clone(), self.now));
        found
    }

    /// The labels of the containers `pids` run in, sorted, without repeats: whose
    /// namespaces a user who cannot read the processes' `ns/net` may be missing.
    pub fn labels_of(&mut self, src: &dyn HostFiles, pids: &[u32]) -> Vec<String> {
        let mut labels: Vec<String> = pids
            .iter()
            .filter_map(|&pid| self.of_pid(src, pid))
            .map(|r| r.container.label())
            .collect();
        labels.sort_unstable();
        labels.dedup();
        labels
    }

    /// A process read from `/proc` by pid alone (a namespace's member).
    fn of_pid(&mut self, src: &dyn HostFiles, pid: u32) -> Option<Resolved> {
        if let Some((r, _)) = self.by_pid.get(&pid) {
            return r.clone();
        }
        let dir = src.proc_root().path().join(pid.to_string());
        let cg = procfs::read_path(dir.join("cgroup"))
            .map(|b| cgroup::parse(&String::from_utf8_lossy(&b)))
            .unwrap_or_default();
        let ppid = procfs::read_path(dir.join("status"))
            .ok()
            .and_then(|b| parse_status_u32(&String::from_utf8_lossy(&b), "PPid:"));
        self.of_process(src, pid, &cg, ppid)
    }

    fn started_at(&mut self, src: &dyn HostFiles, pid: u32) -> Option<u64> {
        if let Some((s, _)) = self.started.get(&pid) {
            return *s;
        }
        let s = procfs::read_path(src.proc_root().path().join(format!("{pid}/stat")))
            .ok()
            .and_then(|b| parse_stat_starttime(&String::from_utf8_lossy(&b)));
        self.started.insert(pid, (s, self.now));
        s
    }

    /// The nearest supervisor among the ancestors from `ppid` up, and who vouches for it:
    /// `None` for root's, `Some(uid)` for a user's. Anyone can run a program called `conmon`
    /// or `containerd-shim` with any arguments, so only root's are taken at their word; a
    /// user's conmon is accepted as that user's rootless Podman (its name is theirs to
    /// choose), and a user's shim or LXC monitor not at all.
    fn supervisor_above(
        &mut self,
        src: &dyn HostFiles,
        ppid: Option<u32>,
    ) -> Option<(Supervisor, Option<u32>)> {
        let mut next = ppid;
        for _ in 0..MAX_ANCESTORS {
            let pid = next.filter(|&p| p > 1)?;
            let a = match self.ancestors.get(&pid) {
                Some(a) => a.clone(),
                None => {
                    let dir = src.proc_root().path().join(pid.to_string());
                    let argv = procfs::read_path(dir.join("cmdline"))
                        .map(|b| parse_cmdline(&b))
                        .unwrap_or_default();
                    let status = procfs::read_path(dir.join("status"))
                        .map(|b| String::from_utf8_lossy(&b).into_owned())
                        .unwrap_or_default();
                    let a = Ancestor {
                        ppid: parse_status_u32(&status, "PPid:"),
                        supervisor: supervisor::supervisor(&argv),
                        uid: parse_status_uids(&status).map(|(ruid, _)| ruid),
                    };
                    self.ancestors.insert(pid, a.clone());
                    a
                }
            };
            if let Some(sup) = a.supervisor {
                return match (a.uid?, &sup) {
                    (0, _) => Some((sup, None)),
                    (uid, Supervisor::Conmon { .. }) => Some((sup, Some(uid))),
                    _ => None,
                };
            }
            next = a.ppid;
        }
        None
    }

    /// Runtime, id and supervisor of a process, from its cgroup and its ancestors.
    fn identify(
        &mut self,
        src: &dyn HostFiles,
        cg: &CgroupOwner,
        ppid: Option<u32>,
    ) -> Option<Identity> {
        match cg {
            // A subtree delegated to user N is named by N: only rootless Podman puts
            // containers there, and it is N's, whatever the cgroup's name claims.
            CgroupOwner::Container(c) if c.delegated_to.is_some() => {
                if c.runtime != Runtime::Podman {
                    return None;
                }
                let sup = self
                    .supervisor_above(src, ppid)
                    .filter(|(s, _)| matches!(s, Supervisor::Conmon { id, .. } if *id == c.id))
                    .map(|(s, _)| s);
                let mut ident = Identity::from_cgroup(c.clone(), sup);
                ident.owner = c.delegated_to;
                Some(ident)
            }
            // machined registers virtual machines too (libvirt's qemu in machine-qemu….scope):
            // their processes are not in a container.
            CgroupOwner::Container(c) if c.runtime == Runtime::Nspawn && is_vm(src, &c.id) => None,
            // Docker, LXC and nspawn need nothing more than the cgroup.
            CgroupOwner::Container(c)
                if matches!(c.runtime, Runtime::Docker | Runtime::Lxc | Runtime::Nspawn) =>
            {
                Some(Identity::from_cgroup(c.clone(), None))
            }
            CgroupOwner::Container(c) => {
                let found = self.supervisor_above(src, ppid).filter(|(s, _)| match s {
                    Supervisor::Conmon { id, .. } => *id == c.id,
                    // A Kubernetes pod's containers share the sandbox's shim.
                    Supervisor::Shim { id, namespace, .. } => *id == c.id || namespace == "k8s.io",
                    Supervisor::LxcMonitor { .. } => false,
                });
                let owner = found.as_ref().and_then(|(_, o)| *o);
                let mut ident = Identity::from_cgroup(c.clone(), found.map(|(s, _)| s));
                ident.owner = owner;
                Some(ident)
            }
            CgroupOwner::MaybeContainerd { namespace, id } => {
                match self.supervisor_above(src, ppid) {
                    Some((
                        Supervisor::Shim {
                            namespace: ns,
                            id: sid,
                            address,
                        },
                        None,
                    )) if ns == *namespace && sid == *id => Some(Identity {
                        runtime: Runtime::Containerd,
                        id: id.clone(),
                        pod: None,
                        supervisor: Some(Supervisor::Shim {
                            namespace: ns,
                            id: sid,
                            address,
                        }),
                        owner: None,
                    }),
                    _ => None,
                }
            }
            // No container cgroup: rootless Podman on cgroup v1, or a runtime whose cgroup
            // this build does not know. The supervisor alone tells.
            CgroupOwner::None | CgroupOwner::Unit(_) => {
                let (sup, owner) = self.supervisor_above(src, ppid)?;
                let (runtime, id) = match &sup {
                    Supervisor::Conmon {
                        id, podman_root, ..
                    } => (
                        if podman_root.is_some() {
                            Runtime::Podman
                        } else {
                            Runtime::Crio
                        },
                        id.clone(),
                    ),
                    // A Kubernetes shim's id is the sandbox's, not this container's.
                    Supervisor::Shim { namespace, .. } if namespace == "k8s.io" => return None,
                    Supervisor::Shim { namespace, id, .. } => (
                        if namespace == "moby" {
                            Runtime::Docker
                        } else {
                            Runtime::Containerd
                        },
                        id.clone(),
                    ),
                    Supervisor::LxcMonitor { name, .. } => (Runtime::Lxc, name.clone()),
                };
                Some(Identity {
                    runtime,
                    id,
                    pod: None,
                    supervisor: Some(sup),
                    owner,
                })
            }
        }
    }

    /// The container named from its state, cached per runtime and id.
    fn describe(&mut self, src: &dyn HostFiles, ident: Identity) -> Resolved {
        let key = (ident.runtime, ident.id.clone(), ident.owner);
        if let Some((r, _, _)) = self.described.get(&key) {
            return r.clone();
        }
        let mut d = Described::new(&ident);
        let denied = match ident.runtime {
            // A user's own container: its conmon's arguments name it, and they point at
            // files the user chose. They are not read, so a user cannot make bindscope (run
            // by root) read another container's state under a borrowed id.
            _ if ident.owner.is_some() => {
                if let Some(Supervisor::Conmon { name, .. }) = &ident.supervisor {
                    d.container.name.clone_from(name);
                }
                false
            }
            Runtime::Docker => self.docker(src, &ident, &mut d),
            Runtime::Podman => self.podman(src, &ident, &mut d),
            Runtime::Crio => crio(src, &ident, &mut d),
            Runtime::Containerd => self.containerd(src, &ident, &mut d),
            Runtime::Lxc => {
                // LXC's name is its id; its config adds nothing an admin asks by.
                d.container.name = Some(ident.id.clone());
                d.role = NetnsRole::Creator;
                false
            }
            Runtime::Nspawn => nspawn(src, &ident, &mut d),
            Runtime::Other => false,
        };
        let r = Resolved {
            container: Arc::new(d.container),
            role: d.role,
        };
        // Podman's name comes from conmon: an identity made without it (a process whose
        // conmon was not found) must not stand for the container until STATE_TTL.
        if ident.runtime != Runtime::Podman || ident.supervisor.is_some() {
            self.described.insert(key, (r.clone(), denied, self.now));
        }
        r
    }

    fn daemons(&mut self, src: &dyn HostFiles) -> Arc<Daemons> {
        if let Some((d, _)) = &self.daemons {
            return Arc::clone(d);
        }
        let d = Arc::new(find_daemons(src));
        self.daemons = Some((Arc::clone(&d), self.now));
        d
    }

    /// Docker: `<data-root>/containers/<id>/config.v2.json` and `hostconfig.json`.
    fn docker(&mut self, src: &dyn HostFiles, ident: &Identity, d: &mut Described) -> bool {
        let daemons = self.daemons(src);
        for root in &daemons.docker_roots {
            let dir = root.join("containers").join(&ident.id);
            let config = match src.state_file(&dir.join("config.v2.json"), MAX_JSON) {
                Ok(b) => b,
                Err(StateFileError::Missing) => continue,
                Err(StateFileError::Denied) => return true,
                Err(_) => return false,
            };
            let host = src.state_file(&dir.join("hostconfig.json"), MAX_JSON).ok();
            let host = host.as_deref().map(String::from_utf8_lossy);
            let Ok(c) = state::docker(&String::from_utf8_lossy(&config), host.as_deref()) else {
                return false;
            };
            d.container.name = c.name;
            d.container.image = c.image;
            d.role = match c.network {
                Some(NetworkMode::Container(_)) => NetnsRole::Joiner,
                Some(_) => NetnsRole::Creator,
                None => NetnsRole::Unknown,
            };
            return false;
        }
        false
    }

    /// Podman: the bundle's `config.json` (how it got its namespace), `containers.json`
    /// (name, image) and the database (the pod's name).
    fn podman(&mut self, src: &dyn HostFiles, ident: &Identity, d: &mut Described) -> bool {
        let (bundle, root) = match &ident.supervisor {
            Some(Supervisor::Conmon {
                name,
                bundle,
                podman_root,
                ..
            }) => {
                d.container.name.clone_from(name);
                (bundle.as_ref().map(PathBuf::from), podman_root.clone())
            }
            _ => (None, None),
        };
        let mut denied = false;
        let mut pod_id = match &ident.pod {
            Some(PodRef::Podman(id)) => Some(id.clone()),
            _ => None,
        };
        if let Some(bundle) = &bundle {
            match read_bundle(src, bundle) {
                Ok(b) => {
                    d.role = bundle_role(&b);
                    if b.pod_info().is_some_and(|p| p.sandbox) {
                        d.role = NetnsRole::Sandbox;
                    }
                }
                Err(StateFileError::Denied) => denied = true,
                Err(_) => {}
            }
            // <graphroot>/<driver>-containers/<id>/userdata: containers.json is two up.
            if let Some(list) = bundle.parent().and_then(Path::parent) {
                match self.storage(src, &list.join("containers.json")) {
                    Ok(all) => {
                        if let Some(c) = all.iter().find(|c| c.id == ident.id) {
                            if d.container.name.is_none() {
                                d.container.name.clone_from(&c.name);
                            }
                            d.container.image.clone_from(&c.image);
                        }
                    }
                    Err(StateFileError::Denied) => denied = true,
                    Err(_) => {}
                }
            }
        }
        let graphroot = root.map(PathBuf::from).or_else(|| {
            bundle
                .as_deref()
                .and_then(|b| b.parent()?.parent()?.parent().map(Path::to_path_buf))
        });
        if let Some(graphroot) = graphroot {
            match self.podman_pods(src, &graphroot.join("libpod/bolt_state.db")) {
                Ok(pods) => {
                    if let Some(p) = pods.pod_of.get(&ident.id) {
                        pod_id = Some(p.clone());
                    }
                    if let Some(name) = pod_id.as_ref().and_then(|p| pods.pod_names.get(p)) {
                        d.container.pod = Some(Pod {
                            namespace: None,
                            name: name.clone(),
                        });
                    }
                }
                Err(StateFileError::Denied) => denied = true,
                Err(_) => {}
            }
        }
        // Podman names a pod's infra container `<first 12 of the pod id>-infra`: that tells
        // the owner of a pod's namespace without the state files.
        if d.role == NetnsRole::Unknown
            && let (Some(pod), Some(name)) = (&pod_id, &d.container.name)
            && pod.get(..12).is_some_and(|p| *name == format!("{p}-infra"))
        {
            d.role = NetnsRole::Sandbox;
        }
        denied
    }

    /// containerd: the task directory's `config.json` (CRI annotations for a Kubernetes
    /// pod) under one of the running containerds' state directories.
    fn containerd(&mut self, src: &dyn HostFiles, ident: &Identity, d: &mut Described) -> bool {
        let namespace = match &ident.supervisor {
            Some(Supervisor::Shim { namespace, .. }) => namespace.clone(),
            _ if matches!(ident.pod, Some(PodRef::Kubernetes(_))) => "k8s.io".to_string(),
            _ => return false,
        };
        let daemons = self.daemons(src);
        for state_dir in &daemons.containerd_states {
            let bundle = state_dir
                .join("io.containerd.runtime.v2.task")
                .join(&namespace)
                .join(&ident.id);
            match read_bundle(src, &bundle) {
                Ok(b) => {
                    d.role = bundle_role(&b);
                    if let Some(p) = b.pod_info() {
                        if p.sandbox {
                            d.role = NetnsRole::Sandbox;
                        }
                        d.container.pod = p.pod;
                        d.container.name = p.container_name;
                        d.container.image = p.image;
                    }
                    return false;
                }
                Err(StateFileError::Missing) => continue,
                Err(StateFileError::Denied) => return true,
                Err(_) => return false,
            }
        }
        false
    }

    fn storage(
        &mut self,
        src: &dyn HostFiles,
        path: &Path,
    ) -> Result<Arc<Vec<StorageContainer>>, StateFileError> {
        if let Some((s, _)) = self.storage.get(path) {
            return Ok(Arc::clone(s));
        }
        let bytes = src.state_file(path, MAX_JSON)?;
        let list = state::storage_containers(&String::from_utf8_lossy(&bytes))
            .map_err(StateFileError::Other)?;
        let list = Arc::new(list);
        self.storage
            .insert(path.to_path_buf(), (Arc::clone(&list), self.now));
        Ok(list)
    }

    fn podman_pods(
        &mut self,
        src: &dyn HostFiles,
        path: &Path,
    ) -> Result<Arc<PodmanPods>, StateFileError> {
        if let Some((p, _)) = self.pods.get(path) {
            return Ok(Arc::clone(p));
        }
        let bytes = src.state_file(path, MAX_DB)?;
        let pods =
            Arc::new(state::podman_pods(&bytes).map_err(|e| StateFileError::Other(e.to_string()))?);
        self.pods
            .insert(path.to_path_buf(), (Arc::clone(&pods), self.now));
        Ok(pods)
    }

    /// Names the namespaces that containers live in: owner, members, and the name (the
    /// owner's pod or the owner). One named with `ip netns add` is renamed when a container
    /// lives in it: the container wins and the mount stays in `paths` as an alias. The
    /// host's namespace keeps its name and gets no owner (no container made it); its
    /// `containers` lists the host-network containers, so `--netns hostc` finds it. The
    /// host is told by its inode too, in case someone gave it an `ip netns` name.
    ///
    /// Every process of a namespace is looked at (each once per PID_TTL), so a container
    /// is never missed for having high pids.
    pub fn name_namespaces(&mut self, src: &dyn HostFiles, targets: &mut [NetnsTarget]) {
        for t in targets.iter_mut() {
            let is_host = t.kind == NetnsKind::Host || t.id == NET_NS_INIT_INO;
            let mut found: Vec<Candidate> = Vec::new();
            for &pid in &t.pids {
                let Some(r) = self.of_pid(src, pid) else {
                    continue;
                };
                let started = self.started_at(src, pid);
                match found.iter_mut().find(|c| c.container == *r.container) {
                    Some(c) => {
                        c.started = match (c.started, started) {
                            (Some(a), Some(b)) => Some(a.min(b)),
                            (a, b) => a.or(b),
                        }
                    }
                    None => found.push(Candidate {
                        container: (*r.container).clone(),
                        role: r.role,
                        started,
                    }),
                }
            }
            if found.is_empty() {
                continue;
            }
            ownership::owner_first(&mut found);
            if is_host {
                t.containers = found.into_iter().map(|c| c.container).collect();
                continue;
            }
            let owner = found[0].container.clone();
            t.name = Some(ownership::netns_name(&owner));
            t.kind = NetnsKind::Container;
            t.container = Some(owner);
            t.containers = found.into_iter().map(|c| c.container).collect();
            t.unit = None;
        }
    }
}

/// What a process's cgroup and supervisor say, before the state files.
#[derive(Debug, Clone)]
struct Identity {
    runtime: Runtime,
    id: String,
    pod: Option<PodRef>,
    supervisor: Option<Supervisor>,
    /// The user whose word this identity rests on (a user's conmon, a cgroup delegated to
    /// them); `None` when root's (a root-owned supervisor, a cgroup only root can make).
    owner: Option<u32>,
}

impl Identity {
    fn from_cgroup(c: CgroupContainer, supervisor: Option<Supervisor>) -> Identity {
        Identity {
            runtime: c.runtime,
            id: c.id,
            pod: c.pod,
            supervisor,
            owner: None,
        }
    }
}

/// A container being named.
struct Described {
    container: Container,
    role: NetnsRole,
}

impl Described {
    fn new(ident: &Identity) -> Described {
        Described {
            container: Container {
                runtime: ident.runtime,
                id: ident.id.clone(),
                // conmon's -n is readable by everyone: the name without the state files.
                name: match &ident.supervisor {
                    Some(Supervisor::Conmon { name, .. }) => name.clone(),
                    _ => None,
                },
                image: None,
                pod: None,
            },
            role: NetnsRole::Unknown,
        }
    }
}

fn read_bundle(src: &dyn HostFiles, dir: &Path) -> Result<state::Bundle, StateFileError> {
    let bytes = src.state_file(&dir.join("config.json"), MAX_JSON)?;
    state::bundle(&String::from_utf8_lossy(&bytes)).map_err(StateFileError::Other)
}

/// A bundle's network namespace entry as a role: none or a runtime's bind mount means the
/// runtime made it for this container; `/proc/PID/ns/net` means it joined another's.
fn bundle_role(b: &state::Bundle) -> NetnsRole {
    match b.netns {
        BundleNetns::Process(_) => NetnsRole::Joiner,
        BundleNetns::Own | BundleNetns::File(_) | BundleNetns::Host => NetnsRole::Creator,
    }
}

/// CRI-O: the bundle's annotations (conmon's `-b`, else CRI-O's default run root).
fn crio(src: &dyn HostFiles, ident: &Identity, d: &mut Described) -> bool {
    let bundle = match &ident.supervisor {
        Some(Supervisor::Conmon {
            bundle: Some(b), ..
        }) => PathBuf::from(b),
        _ => Path::new("/run/containers/storage/overlay-containers")
            .join(&ident.id)
            .join("userdata"),
    };
    match read_bundle(src, &bundle) {
        Ok(b) => {
            d.role = bundle_role(&b);
            if let Some(p) = b.pod_info() {
                if p.sandbox {
                    d.role = NetnsRole::Sandbox;
                }
                d.container.pod = p.pod;
                if p.container_name.is_some() {
                    d.container.name = p.container_name;
                }
                d.container.image = p.image;
            }
            false
        }
        Err(StateFileError::Denied) => true,
        Err(_) => false,
    }
}

/// systemd-machined: `/run/systemd/machines/NAME` confirms the machine (its `SCOPE=`).
/// machined's file of machine `name` says `CLASS=vm`.
fn is_vm(src: &dyn HostFiles, name: &str) -> bool {
    src.state_file(&Path::new("/run/systemd/machines").join(name), MAX_JSON)
        .is_ok_and(|b| {
            state::machine(&String::from_utf8_lossy(&b))
                .class
                .as_deref()
                == Some("vm")
        })
}

fn nspawn(src: &dyn HostFiles, ident: &Identity, d: &mut Described) -> bool {
    d.role = NetnsRole::Creator;
    let path = Path::new("/run/systemd/machines").join(&ident.id);
    match src.state_file(&path, MAX_JSON) {
        Ok(bytes) => {
            let m = state::machine(&String::from_utf8_lossy(&bytes));
            d.container.name = m.name.or_else(|| Some(ident.id.clone()));
            false
        }
        Err(StateFileError::Denied) => true,
        // Not registered (or not machined): the scope's name is the machine's.
        Err(_) => {
            d.container.name = Some(ident.id.clone());
            false
        }
    }
}

/// The running dockerds' data roots and containerds' state directories, from their command
/// lines and configuration files, then the defaults.
fn find_daemons(src: &dyn HostFiles) -> Daemons {
    let mut d = Daemons::default();
    let root = src.proc_root().path();
    if let Ok(entries) = std::fs::read_dir(root) {
        for e in entries.flatten() {
            let name = e.file_name();
            let Some(pid) = name
                .to_str()
                .filter(|n| n.bytes().all(|b| b.is_ascii_digit()))
            else {
                continue;
            };
            let dir = root.join(pid);
            let Ok(comm) = std::fs::read(dir.join("comm")) else {
                continue;
            };
            let comm = comm.strip_suffix(b"\n").unwrap_or(&comm);
            if comm != b"dockerd" && comm != b"containerd" {
                continue;
            }
            let argv = procfs::read_path(dir.join("cmdline"))
                .map(|b| parse_cmdline(&b))
                .unwrap_or_default();
            if let Some(dd) = supervisor::docker_daemon(&argv) {
                let data_root = dd.data_root.map(PathBuf::from).or_else(|| {
                    let config = dd
                        .config_file
                        .unwrap_or_else(|| "/etc/docker/daemon.json".to_string());
                    let bytes = src.state_file(Path::new(&config), MAX_JSON).ok()?;
                    state::docker_daemon_json_data_root(&String::from_utf8_lossy(&bytes))
                        .ok()
                        .flatten()
                        .map(PathBuf::from)
                });
                push_new(
                    &mut d.docker_roots,
                    data_root.unwrap_or_else(|| PathBuf::from("/var/lib/docker")),
                );
            } else if let Some(cd) = supervisor::containerd_daemon(&argv) {
                let state_dir = cd.state.map(PathBuf::from).or_else(|| {
                    let config = cd
                        .config
                        .unwrap_or_else(|| "/etc/containerd/config.toml".to_string());
                    let bytes = src.state_file(Path::new(&config), MAX_JSON).ok()?;
                    state::containerd_config_dirs(&String::from_utf8_lossy(&bytes))
                        .ok()?
                        .0
                        .map(PathBuf::from)
                });
                push_new(
                    &mut d.containerd_states,
                    state_dir.unwrap_or_else(|| PathBuf::from("/run/containerd")),
                );
            }
        }
    }
    push_new(&mut d.docker_roots, PathBuf::from("/var/lib/docker"));
    push_new(&mut d.containerd_states, PathBuf::from("/run/containerd"));
    d
}

fn push_new(v: &mut Vec<PathBuf>, p: PathBuf) {
    if !v.contains(&p) {
        v.push(p);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::collect::linux::procfs::ProcRoot;
    use crate::collect::linux::recording;
    use crate::collect::linux::state_files::read_state_file;

    const FIX: &str = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/runtimes/host-docker-podman"
    );

    /// A fixture tree as host files: `proc/` and `state/<absolute path>`; with `deny`,
    /// every state file answers EACCES, as for a user who may not read them.
    struct Fixture {
        proc: ProcRoot,
        dir: PathBuf,
        deny: bool,
    }

    impl HostFiles for Fixture {
        fn proc_root(&self) -> &ProcRoot {
            &self.proc
        }

        fn state_file(&self, path: &Path, max: u64) -> Result<Arc<[u8]>, StateFileError> {
            if self.deny {
                return Err(StateFileError::Denied);
            }
            let at = recording::state_path(&self.dir, path).ok_or(StateFileError::Missing)?;
            read_state_file(&at, max)
        }
    }

    fn fixture(deny: bool) -> Fixture {
        tree(FIX, deny)
    }

    fn tree(dir: &str, deny: bool) -> Fixture {
        Fixture {
            proc: ProcRoot::new(format!("{dir}/proc")),
            dir: PathBuf::from(dir),
            deny,
        }
    }

    const RUNTIMES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/runtimes");

    fn target(id: u64, pids: &[u32]) -> NetnsTarget {
        NetnsTarget {
            id,
            name: None,
            kind: NetnsKind::Process,
            open_path: None,
            pids: pids.to_vec(),
            paths: Vec::new(),
            container: None,
            containers: Vec::new(),
            unit: None,
            is_own: false,
        }
    }

    #[test]
    fn kubernetes_through_containerd_and_ctr() {
        let f = tree(&format!("{RUNTIMES}/containerd-1.6.20/tree"), false);
        let mut cache = ContainerCache::default();
        cache.begin(Duration::ZERO);
        // The container's shim is the sandbox's: its cgroup says which container it is.
        let web = cache.of_pid(&f, 2936).unwrap().container;
        assert_eq!(
            (
                web.runtime,
                web.id.as_str(),
                web.name.as_deref(),
                web.image.as_deref()
            ),
            (
                Runtime::Containerd,
                "ctr0456",
                Some("web"),
                Some("docker.io/library/bs:1")
            )
        );
        assert_eq!(
            web.pod.as_ref().map(Pod::label).as_deref(),
            Some("default/mypod")
        );
        let mut t = [target(1, &[2878, 2936])];
        cache.name_namespaces(&f, &mut t);
        assert_eq!(t[0].name.as_deref(), Some("default/mypod"));
        assert_eq!(
            t[0].container.as_ref().map(|c| c.id.as_str()),
            Some("sbx0123")
        );
        assert_eq!(t[0].containers.len(), 2);
        // `ctr run`: the cgroup /r13ns/plain1 counts because the parent shim agrees.
        let plain = cache.of_pid(&f, 2752).unwrap().container;
        assert_eq!(plain.label(), "containerd:plain1");
        // The shims and containerd are in no container.
        for pid in [2700, 2857, 2716] {
            assert_eq!(cache.of_pid(&f, pid), None, "{pid}");
        }
    }

    #[test]
    fn cri_o_pods_from_hand_written_bundles() {
        let f = tree(&format!("{RUNTIMES}/crio-handwritten"), false);
        let mut cache = ContainerCache::default();
        cache.begin(Duration::ZERO);
        let app = cache.of_pid(&f, 4201).unwrap().container;
        assert_eq!(
            (app.runtime, app.name.as_deref(), app.image.as_deref()),
            (
                Runtime::Crio,
                Some("app"),
                Some("docker.io/library/nginx:1.25")
            )
        );
        assert_eq!(
            app.pod.as_ref().map(Pod::label).as_deref(),
            Some("prod/api")
        );
        // Both bundles name the same netns file: the sandbox owns it, in either pid order.
        let mut t = [target(1, &[4201, 4101])];
        cache.name_namespaces(&f, &mut t);
        assert_eq!(t[0].name.as_deref(), Some("prod/api"));
        assert!(t[0].container.as_ref().unwrap().id.starts_with("a1a1"));
        // conmon is not the container.
        assert_eq!(cache.of_pid(&f, 4200), None);
        // Without the bundles: conmon's name and the cgroup's id.
        let mut denied = ContainerCache::default();
        denied.begin(Duration::ZERO);
        let bare = denied
            .of_pid(&tree(&format!("{RUNTIMES}/crio-handwritten"), true), 4201)
            .unwrap()
            .container;
        assert_eq!(
            bare.name.as_deref(),
            Some("k8s_app_api_prod_5c2a1f0e-8d3b-4a6c-9e7f-0a1b2c3d4e5f_0")
        );
        assert_eq!(bare.pod, None);
    }

    #[test]
    fn machined_machines_and_lxc() {
        let f = tree(&format!("{RUNTIMES}/machined-handwritten"), false);
        let mut cache = ContainerCache::default();
        cache.begin(Duration::ZERO);
        let m = cache.of_pid(&f, 5100).unwrap().container;
        assert_eq!(
            (m.runtime, m.id.as_str(), m.name.as_deref()),
            (Runtime::Nspawn, "my-box", Some("my-box"))
        );
        // A virtual machine machined registers (libvirt's qemu) is not a container.
        assert_eq!(cache.of_pid(&f, 5200), None);
        let lxc = std::fs::read_to_string(format!("{RUNTIMES}/lxc-5.0.2/attached-cgroup")).unwrap();
        let c = cache
            .of_process(&f, 1, &cgroup::parse(&lxc), None)
            .unwrap()
            .container;
        assert_eq!((c.runtime, c.label()), (Runtime::Lxc, "lx1".to_string()));
    }

    /// The namespaces of the captured inits, as discovery lists them (pids sorted).
    fn targets() -> Vec<NetnsTarget> {
        let text = std::fs::read_to_string(format!("{FIX}/pids")).unwrap();
        let mut by_ns: std::collections::BTreeMap<u64, Vec<u32>> = Default::default();
        for line in text.lines() {
            let (pid, ns) = line.split_once(' ').unwrap();
            by_ns
                .entry(ns.parse().unwrap())
                .or_default()
                .push(pid.parse().unwrap());
        }
        by_ns
            .into_iter()
            .map(|(id, mut pids)| {
                pids.sort_unstable();
                let host = id == 4026531833;
                NetnsTarget {
                    id,
                    name: host.then(|| "host".to_string()),
                    kind: if host {
                        NetnsKind::Host
                    } else {
                        NetnsKind::Process
                    },
                    open_path: None,
                    pids,
                    paths: Vec::new(),
                    container: None,
                    containers: Vec::new(),
                    unit: None,
                    is_own: false,
                }
            })
            .collect()
    }

    fn named(deny: bool) -> (Vec<NetnsTarget>, ContainerCache) {
        let mut t = targets();
        let mut cache = ContainerCache::default();
        cache.begin(Duration::ZERO);
        cache.name_namespaces(&fixture(deny), &mut t);
        (t, cache)
    }

    fn summary(t: &NetnsTarget) -> (Option<&str>, Vec<String>) {
        (
            t.name.as_deref(),
            t.containers.iter().map(Container::label).collect(),
        )
    }

    fn by_id(t: &[NetnsTarget], id: u64) -> &NetnsTarget {
        t.iter().find(|t| t.id == id).unwrap()
    }

    #[test]
    fn namespaces_are_named_after_their_owner_from_the_state() {
        let (t, cache) = named(false);
        assert_eq!(
            summary(by_id(&t, 4026532178)),
            (Some("web"), vec!["web".into(), "side".into()]),
            "the sidecar joined web"
        );
        assert_eq!(
            summary(by_id(&t, 4026532247)),
            (Some("nonet"), vec!["nonet".into()])
        );
        let pod = by_id(&t, 4026532389);
        assert_eq!(
            summary(pod),
            (
                Some("p1"),
                vec!["89d28ba12499-infra".into(), "p1web".into(), "p1side".into()]
            )
        );
        assert_eq!(pod.kind, NetnsKind::Container);
        let pnone = by_id(&t, 4026532324);
        assert_eq!(summary(pnone), (Some("pnone"), vec!["pnone".into()]));
        let c = pnone.container.as_ref().unwrap();
        assert_eq!(
            (c.runtime, c.image.as_deref()),
            (Runtime::Podman, Some("localhost/bs:1"))
        );
        // Rootless: no container cgroup; the user's conmon names it. Its arguments point at
        // files the user chose, so they are not read: the image stays unknown.
        let rl1 = by_id(&t, 4026532471).container.as_ref().unwrap();
        assert_eq!(
            (rl1.name.as_deref(), rl1.image.as_deref()),
            (Some("rl1"), None)
        );
        // The host's namespace has no owner, whatever runs in it.
        let host = by_id(&t, 4026531833);
        assert_eq!(
            (host.name.as_deref(), host.container.as_ref()),
            (Some("host"), None)
        );
        assert_eq!(cache.denied(), 0);
    }

    #[test]
    fn without_the_state_files_names_come_from_cgroups_and_supervisors() {
        let (t, cache) = named(true);
        // Docker: ids only; the owner is the one that started first.
        let web = by_id(&t, 4026532178);
        assert_eq!(
            web.name.as_deref(),
            Some("docker:f5e34731b27a"),
            "{:?}",
            web.containers
        );
        assert_eq!(web.containers.len(), 2);
        // Podman: conmon's names; the pod's infra owns its namespace by its name.
        assert_eq!(
            summary(by_id(&t, 4026532389)),
            (
                Some("89d28ba12499-infra"),
                vec!["89d28ba12499-infra".into(), "p1web".into(), "p1side".into()]
            )
        );
        assert_eq!(by_id(&t, 4026532471).name.as_deref(), Some("rl1"));
        assert_eq!(
            cache.denied(),
            8,
            "each container outside the host namespace"
        );
    }

    #[test]
    fn holders_in_the_host_namespace_show_their_container() {
        let mut cache = ContainerCache::default();
        cache.begin(Duration::ZERO);
        let f = fixture(false);
        let hostc = cache.of_pid(&f, 15659).unwrap();
        assert_eq!(hostc.container.label(), "hostc");
        assert_eq!(hostc.container.image.as_deref(), Some("bs:1"));
        // dockerd itself is in no container.
        let dockerd = std::fs::read_dir(format!("{FIX}/proc"))
            .unwrap()
            .flatten()
            .map(|e| e.file_name().to_string_lossy().parse::<u32>().unwrap())
            .find(|p| {
                std::fs::read_to_string(format!("{FIX}/proc/{p}/comm")).unwrap() == "dockerd\n"
            })
            .unwrap();
        assert_eq!(cache.of_pid(&f, dockerd), None);
        // A second refresh answers from the cache: the same shared container.
        let again = cache.of_pid(&f, 15659).unwrap();
        assert!(Arc::ptr_eq(&again.container, &hostc.container));
    }

    /// A user cannot borrow a container's identity: not with a `conmon` or shim of their own
    /// above their process, nor with a cgroup named after the container in the subtree
    /// systemd delegates to them.
    #[test]
    fn users_cannot_pose_as_root_s_containers() {
        const WEB: &str = "f5e34731b27a62d89ab2e881795abe6997d409cde7d85f5682198479305cc0d9";
        let tmp = tempfile::tempdir().unwrap();
        let put = |pid: u32, file: &str, body: &[u8]| {
            let dir = tmp.path().join(format!("proc/{pid}"));
            std::fs::create_dir_all(&dir).unwrap();
            std::fs::write(dir.join(file), body).unwrap();
        };
        let process = |pid: u32, ppid: u32, uid: u32, argv: &[u8], cgroup: &str| {
            put(pid, "cmdline", argv);
            put(
                pid,
                "status",
                format!("PPid:\t{ppid}\nUid:\t{uid}\t{uid}\t{uid}\t{uid}\n").as_bytes(),
            );
            put(pid, "cgroup", cgroup.as_bytes());
        };
        let session = "0::/user.slice/user-1001.slice/session-3.scope\n";
        // pnone's real conmon line (it points at pnone's real state), run by uid 1001.
        let conmon = std::fs::read(format!("{FIX}/proc/16935/cmdline")).unwrap();
        process(300, 1, 1001, &conmon, session);
        process(301, 300, 1001, b"nc\0-l\0", session);
        // A shim of the user's claiming web.
        let shim = format!("containerd-shim-runc-v2\0-namespace\0moby\0-id\0{WEB}\0");
        process(310, 1, 1001, shim.as_bytes(), session);
        process(311, 310, 1001, b"nc\0", session);
        // web's cgroup name, made in the user's delegated subtree.
        let scope = format!(
            "0::/user.slice/user-1001.slice/user@1001.service/app.slice/docker-{WEB}.scope\n"
        );
        process(320, 1, 1001, b"nc\0", &scope);
        // The state of the fixture host is there to be (wrongly) read.
        let f = Fixture {
            proc: ProcRoot::new(tmp.path().join("proc")),
            dir: PathBuf::from(FIX),
            deny: false,
        };
        let mut cache = ContainerCache::default();
        cache.begin(Duration::ZERO);
        // The user's conmon makes a rootless Podman container of theirs, named by them, and
        // nothing is read from the files it points at (pnone's image stays unknown).
        let own = cache.of_pid(&f, 301).expect("a user's rootless container");
        assert_eq!(own.container.runtime, Runtime::Podman);
        assert_eq!(own.container.image, None);
        assert_eq!(own.role, NetnsRole::Unknown);
        // The real pnone, described from root's conmon, is not the user's entry.
        let real = cache.of_pid(&fixture(false), 16946).unwrap();
        assert_eq!(real.container.image.as_deref(), Some("localhost/bs:1"));
        assert!(!Arc::ptr_eq(&real.container, &own.container));
        // A user's shim and a delegated docker-<id>.scope name no container.
        assert_eq!(cache.of_pid(&f, 311), None);
        assert_eq!(cache.of_pid(&f, 320), None);
    }
}
