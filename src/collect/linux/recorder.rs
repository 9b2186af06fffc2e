//! Recording this host while collecting from it: [`Recorder`] is a [`Sources`] that passes
//! every read to [`LinuxSources`] and notes what came back (netlink dumps, the namespace's
//! `/proc` files, probe results, user names, clock readings); [`RecorderHandle::save`] then
//! writes it all, with the host's `/proc` files, as a recording (layout in
//! [`super::recording`]). For developers: `scripts/record-host` records fixtures with it.

use super::netlink::{NLM_F_MULTI, NetlinkError, OnMessage, build_request};
use super::netns::{self, Discovery, NetnsTarget};
use super::procfs::{self, ProcRoot};
use super::recording::{
    self, DUMP_EXT, MANIFEST, Manifest, NETLINK, NetnsRecord, PROC, ProbeFailure, ProbeRecord,
    RecordingError, SNAPSHOT,
};
use super::sockopt::{Expected, Holder, ProbeError, Wanted};
use super::sources::{HostFiles, LinuxSources, Netlink, NetnsSources, ProbeOptions, Sources};
use super::state_files::StateFileError;
use crate::collect::join::ProbedOptions;
use crate::collect::users::{self, UserNames};
use crate::model::{Snapshot, View};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, SystemTime};

/// What has been read so far.
struct Log {
    manifest: Manifest,
    /// Per namespace: its dumps (protocol, request then replies) and its own `/proc` files
    /// (path under the root, bytes).
    netns: BTreeMap<u64, NetnsLog>,
    /// Runtime state files read, by host path.
    state: BTreeMap<PathBuf, Arc<[u8]>>,
}

#[derive(Default)]
struct NetnsLog {
    record: NetnsRecord,
    dumps: Vec<(Netlink, Vec<u8>)>,
    files: Vec<(PathBuf, Vec<u8>)>,
}

/// Sources of this host that note what they read.
pub struct Recorder {
    live: LinuxSources,
    log: Arc<Mutex<Log>>,
}

/// Saves what a [`Recorder`] noted (it is moved into a collector; this stays with the caller).
pub struct RecorderHandle {
    live_root: ProcRoot,
    log: Arc<Mutex<Log>>,
}

impl Recorder {
    /// A recorder of `live`, for collection of `view` with or without the options probe.
    pub fn new(live: LinuxSources, view: View, probe_options: bool) -> (Recorder, RecorderHandle) {
        let log = Arc::new(Mutex::new(Log {
            manifest: Manifest {
                version: recording::VERSION,
                view,
                probe_options,
                euid: live.euid(),
                wall_clock: Vec::new(),
                monotonic: Vec::new(),
                run_netns: live.run_netns.clone(),
                named: Vec::new(),
                named_warnings: Vec::new(),
                namespaces: BTreeMap::new(),
                not_entered: BTreeMap::new(),
                probes: Vec::new(),
                user_names: BTreeMap::new(),
                state_errors: BTreeMap::new(),
            },
            state: BTreeMap::new(),
            netns: BTreeMap::new(),
        }));
        let handle = RecorderHandle {
            live_root: live.proc_root.clone(),
            log: Arc::clone(&log),
        };
        (Recorder { live, log }, handle)
    }

    fn log(&self) -> Option<MutexGuard<'_, Log>> {
        self.log.lock().ok()
    }
}

impl HostFiles for Recorder {
    fn proc_root(&self) -> &ProcRoot {
        self.live.proc_root()
    }

    fn state_file(&self, path: &Path, max: u64) -> Result<Arc<[u8]>, StateFileError> {
        let result = self.live.state_file(path, max);
        if let Some(mut log) = self.log() {
            match &result {
                Ok(bytes) => {
                    log.state.insert(path.to_path_buf(), Arc::clone(bytes));
                }
                Err(e) => {
                    log.manifest
                        .state_errors
                        .insert(path.to_path_buf(), e.clone());
                }
            }
        }
        result
    }
}

impl Sources for Recorder {
    fn discover(&mut self) -> Discovery {
        // As LinuxSources does it, noting the `ip netns` mounts and what listing them
        // warned about: only this host can tell what is an nsfs mount of which namespace.
        let run_netns = &self.live.run_netns;
        let mut listed = (Vec::new(), Vec::new());
        let d = netns::discover_with(&self.live.proc_root, run_netns, &mut |mounts, warnings| {
            let before = warnings.len();
            let named = netns::list_run_netns(run_netns, mounts, warnings);
            listed = (
                named.clone(),
                warnings.get(before..).unwrap_or_default().to_vec(),
            );
            named
        });
        if let Some(mut log) = self.log() {
            (log.manifest.named, log.manifest.named_warnings) = listed;
        }
        d
    }

    fn in_netns(
        &mut self,
        t: &NetnsTarget,
        read: &mut (dyn FnMut(&mut dyn NetnsSources) + Send),
    ) -> Result<(), String> {
        let mut noted = NetnsLog::default();
        let live_root = self.live.proc_root.clone();
        let result = self.live.in_netns(t, &mut |ns| {
            read(&mut RecordingNetns {
                inner: ns,
                log: &mut noted,
            });
            // The namespace's own files, from inside it, as the read saw them.
            noted.files = namespace_files(&live_root);
        });
        if let Some(mut log) = self.log() {
            match &result {
                Ok(()) => {
                    log.manifest.namespaces.insert(t.id, noted.record.clone());
                    log.netns.insert(t.id, noted);
                }
                Err(why) => {
                    log.manifest.not_entered.insert(t.id, why.clone());
                }
            }
        }
        result
    }

    fn prober(&self) -> Box<dyn ProbeOptions + Send> {
        Box::new(RecordingProber {
            inner: self.live.prober(),
            log: Arc::clone(&self.log),
        })
    }

    fn user_names(&self) -> UserNames {
        let log = Arc::clone(&self.log);
        UserNames::with_lookup(Arc::new(move |uid| {
            let name = users::nss_name(uid);
            if let Ok(mut log) = log.lock() {
                log.manifest
                    .user_names
                    .insert(uid, name.as_deref().map(str::to_owned));
            }
            name
        }))
    }

    fn euid(&self) -> u32 {
        self.live.euid()
    }

    fn wall_clock(&self) -> SystemTime {
        let now = self.live.wall_clock();
        if let Some(mut log) = self.log() {
            log.manifest.wall_clock.push(now);
        }
        now
    }

    fn monotonic(&self) -> Duration {
        let now = self.live.monotonic();
        if let Some(mut log) = self.log() {
            log.manifest.monotonic.push(now);
        }
        now
    }
}

/// A namespace's sources that note every successful dump.
struct RecordingNetns<'a> {
    inner: &'a mut dyn NetnsSources,
    log: &'a mut NetnsLog,
}

impl NetnsSources for RecordingNetns<'_> {
    fn open(&mut self, protocol: Netlink) -> Result<(), NetlinkError> {
        self.inner.open(protocol)
    }

    fn next_seq(&mut self, protocol: Netlink) -> u32 {
        self.inner.next_seq(protocol)
    }

    fn dump(
        &mut self,
        protocol: Netlink,
        request: &[u8],
        on_message: &mut OnMessage<'_>,
    ) -> Result<(), NetlinkError> {
        let mut conversation = request.to_vec();
        let result = self.inner.dump(protocol, request, &mut |ty, payload| {
            // Re-framed with the type and payload the kernel sent: the replay reads the
            // messages, not the kernel's sequence numbers and port ids.
            conversation.extend(build_request(ty, NLM_F_MULTI, 0, payload));
            on_message(ty, payload)
        });
        // A failed or interrupted dump is retried or reported by the caller; only what a
        // finished dump gave is part of the recording.
        if result.is_ok() {
            self.log.dumps.push((protocol, conversation));
        }
        result
    }

    fn dumps_bound_inactive(&mut self) -> bool {
        let answer = self.inner.dumps_bound_inactive();
        self.log.record.dumps_bound_inactive = Some(answer);
        answer
    }

    fn proc_root(&self) -> &ProcRoot {
        self.inner.proc_root()
    }
}

/// The namespace's files under `root` that a read inside it uses (missing ones are left out,
/// as the read found them missing).
fn namespace_files(root: &ProcRoot) -> Vec<(PathBuf, Vec<u8>)> {
    let sys = procfs::SYSCTL_FILES
        .iter()
        .map(|rel| Path::new("sys").join(rel));
    sys.chain([PathBuf::from(procfs::NETSTAT_FILE)])
        .filter_map(|rel| Some((rel.clone(), std::fs::read(root.path().join(&rel)).ok()?)))
        .collect()
}

struct RecordingProber {
    inner: Box<dyn ProbeOptions + Send>,
    log: Arc<Mutex<Log>>,
}

impl ProbeOptions for RecordingProber {
    fn probe(
        &mut self,
        holder: Holder,
        expected: Expected,
        want: Wanted,
    ) -> Result<ProbedOptions, ProbeError> {
        let result = self.inner.probe(holder, expected, want);
        self.note(holder, expected, &result);
        result
    }

    fn probe_seen(
        &mut self,
        holder: Holder,
        expected: Expected,
        want: Wanted,
    ) -> Result<ProbedOptions, ProbeError> {
        let result = self.inner.probe_seen(holder, expected, want);
        self.note(holder, expected, &result);
        result
    }
}

impl RecordingProber {
    fn note(&self, holder: Holder, expected: Expected, result: &Result<ProbedOptions, ProbeError>) {
        if let Ok(mut log) = self.log.lock() {
            log.manifest.probes.push(ProbeRecord {
                pid: holder.pid,
                tid: holder.tid,
                fd: holder.fd,
                inode: expected.inode,
                cookie: expected.cookie,
                result: result.clone().map_err(|e| ProbeFailure::from(&e)),
            });
        }
    }
}

impl RecorderHandle {
    /// Writes the recording into `dir` (which must not exist yet): what was noted, the
    /// host's `/proc` files as they are now, and `snap`, the snapshot collected while
    /// recording (judge it or not: a replay is compared with what collection made). Call it right after collecting, so `/proc` is as the walk saw it.
    pub fn save(&self, dir: &Path, snap: &Snapshot) -> Result<(), RecordingError> {
        std::fs::create_dir(dir).map_err(RecordingError::io(dir))?;
        let log = self.log.lock().map_err(|_| RecordingError::Malformed {
            path: dir.to_path_buf(),
            what: "the recorder panicked while noting".to_string(),
        })?;
        copy_proc(self.live_root.path(), &dir.join(PROC))?;
        for (id, noted) in &log.netns {
            let ns_dir = recording::netns_dir(dir, *id);
            for (rel, bytes) in &noted.files {
                write(&ns_dir.join(PROC).join(rel), bytes)?;
            }
            for (i, (protocol, bytes)) in noted.dumps.iter().enumerate() {
                let name = format!("{i:03}-{}.{DUMP_EXT}", protocol.name());
                write(&ns_dir.join(NETLINK).join(name), bytes)?;
            }
        }
        for (path, bytes) in &log.state {
            if let Some(to) = recording::state_path(dir, path) {
                write(&to, bytes)?;
            }
        }
        write_json(&dir.join(MANIFEST), &log.manifest)?;
        write_json(&dir.join(SNAPSHOT), snap)
    }
}

fn write(path: &Path, bytes: &[u8]) -> Result<(), RecordingError> {
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).map_err(RecordingError::io(parent))?;
    }
    std::fs::write(path, bytes).map_err(RecordingError::io(path))
}

fn write_json<T: serde::Serialize>(path: &Path, value: &T) -> Result<(), RecordingError> {
    let mut bytes = serde_json::to_vec_pretty(value).map_err(|source| RecordingError::Json {
        path: path.to_path_buf(),
        source,
    })?;
    bytes.push(b'\n');
    write(path, &bytes)
}

/// The files of one process that collection reads (proc(5)); `fd/`, `fdinfo/`, `ns/net`
/// and `exe` are handled apart.
const PROCESS_FILES: [&str; 5] = ["comm", "cmdline", "status", "stat", "cgroup"];

/// Copies what collection reads of `live` (a `/proc`) into `out`: per process the
/// [`PROCESS_FILES`], `ns/net`, `exe` and every `fd/N` as symlinks (their targets are what is
/// read), `fdinfo/N` of sockets; `self` as a symlink to our pid, with the nsfs lines of its
/// `mountinfo`; the host's name and kernel. A process that exits meanwhile is left out or partial, as a walk
/// would have found it.
fn copy_proc(live: &Path, out: &Path) -> Result<(), RecordingError> {
    let me = std::process::id();
    let entries = std::fs::read_dir(live).map_err(RecordingError::io(live))?;
    // Also when no process could be copied: `self` goes in it.
    std::fs::create_dir_all(out).map_err(RecordingError::io(out))?;
    for entry in entries.flatten() {
        let name = entry.file_name();
        let Some(pid) = name.to_str().and_then(|n| n.parse::<u32>().ok()) else {
            continue;
        };
        let (from, to) = (live.join(pid.to_string()), out.join(pid.to_string()));
        for file in PROCESS_FILES {
            if let Ok(bytes) = std::fs::read(from.join(file)) {
                write(&to.join(file), &bytes)?;
            }
        }
        // Discovery reads only the nsfs mounts of our own mountinfo.
        if pid == me
            && let Ok(bytes) = std::fs::read(from.join("mountinfo"))
        {
            write(&to.join("mountinfo"), &netns::nsfs_lines(&bytes))?;
        }
        copy_link(&from.join("ns/net"), &to.join("ns/net"))?;
        copy_link(&from.join("exe"), &to.join("exe"))?;
        let Ok(fds) = std::fs::read_dir(from.join("fd")) else {
            continue;
        };
        std::fs::create_dir_all(to.join("fd")).map_err(RecordingError::io(&to))?;
        for fd in fds.flatten() {
            let fd_name = fd.file_name();
            let Ok(target) = std::fs::read_link(fd.path()) else {
                continue;
            };
            let is_socket = target
                .as_os_str()
                .as_encoded_bytes()
                .starts_with(b"socket:[");
            copy_link(&fd.path(), &to.join("fd").join(&fd_name))?;
            if is_socket && let Ok(bytes) = std::fs::read(from.join("fdinfo").join(&fd_name)) {
                write(&to.join("fdinfo").join(&fd_name), &bytes)?;
            }
        }
    }
    let self_link = out.join("self");
    std::os::unix::fs::symlink(me.to_string(), &self_link)
        .map_err(RecordingError::io(&self_link))?;
    for rel in procfs::HOST_FILES {
        if let Ok(bytes) = std::fs::read(live.join(rel)) {
            write(&out.join(rel), &bytes)?;
        }
    }
    Ok(())
}

/// `to` becomes a symlink with `from`'s target, when `from` can be read.
fn copy_link(from: &Path, to: &Path) -> Result<(), RecordingError> {
    let Ok(target) = std::fs::read_link(from) else {
        return Ok(());
    };
    if let Some(parent) = to.parent() {
        std::fs::create_dir_all(parent).map_err(RecordingError::io(parent))?;
    }
    std::os::unix::fs::symlink(target, to).map_err(RecordingError::io(to))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::collect::linux::netlink::{NLM_F_DUMP, NLM_F_REQUEST};
    use crate::collect::linux::replay::replaying;

    /// A namespace that answers every dump with two messages, then fails the next one.
    struct Kernel {
        root: ProcRoot,
        dumps: u32,
    }

    impl NetnsSources for Kernel {
        fn open(&mut self, _: Netlink) -> Result<(), NetlinkError> {
            Ok(())
        }
        fn next_seq(&mut self, _: Netlink) -> u32 {
            self.dumps + 1
        }
        fn dump(
            &mut self,
            _: Netlink,
            _: &[u8],
            on_message: &mut OnMessage<'_>,
        ) -> Result<(), NetlinkError> {
            self.dumps += 1;
            if self.dumps > 1 {
                return Err(NetlinkError::Interrupted);
            }
            on_message(20, b"one")?;
            on_message(20, b"two!")
        }
        fn dumps_bound_inactive(&mut self) -> bool {
            false
        }
        fn proc_root(&self) -> &ProcRoot {
            &self.root
        }
    }

    /// What a recorder notes of a dump, a replay serves the same; a failed dump is not
    /// noted, and the kernel's answers are.
    #[test]
    fn a_recorded_dump_replays_the_same() {
        let root = ProcRoot::new("/nonexistent");
        let mut kernel = Kernel {
            root: root.clone(),
            dumps: 0,
        };
        let mut noted = NetnsLog::default();
        let request = build_request(20, NLM_F_REQUEST | NLM_F_DUMP, 9, b"ask");
        let mut live = Vec::new();
        let mut rec = RecordingNetns {
            inner: &mut kernel,
            log: &mut noted,
        };
        rec.dump(Netlink::SockDiag, &request, &mut |ty, p| {
            live.push((ty, p.to_vec()));
            Ok(())
        })
        .expect("dump");
        assert!(
            rec.dump(Netlink::SockDiag, &request, &mut |_, _| Ok(()))
                .is_err()
        );
        assert!(!rec.dumps_bound_inactive());
        assert_eq!(noted.dumps.len(), 1, "only the finished dump");
        assert_eq!(noted.record.dumps_bound_inactive, Some(false));

        let mut replay = replaying(noted.dumps, root);
        let mut again = Vec::new();
        let asked = build_request(20, NLM_F_REQUEST | NLM_F_DUMP, 1, b"ask");
        replay
            .dump(Netlink::SockDiag, &asked, &mut |ty, p| {
                again.push((ty, p.to_vec()));
                Ok(())
            })
            .expect("replayed");
        assert_eq!(again, live);
        assert_eq!(live, vec![(20, b"one".to_vec()), (20, b"two!".to_vec())]);
    }

    /// State files read while recording are served again by the replay, byte for byte, and
    /// so are the refusals; what was never read is missing there.
    #[test]
    fn runtime_state_files_replay_as_read() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let proc = tmp.path().join("proc");
        std::fs::create_dir(&proc).expect("proc");
        let file = tmp.path().join("data/containers/x/config.v2.json");
        std::fs::create_dir_all(file.parent().expect("parent")).expect("dirs");
        std::fs::write(&file, br#"{"ID":"x","Name":"/web"}"#).expect("write");
        let missing = tmp.path().join("data/containers/y/config.v2.json");
        let mut live = LinuxSources::default();
        live.proc_root = ProcRoot::new(&proc);
        let (rec, handle) = Recorder::new(live, View::Listening, false);
        let read = rec.state_file(&file, 1024).expect("read");
        assert_eq!(rec.state_file(&missing, 1024), Err(StateFileError::Missing));
        let out = tmp.path().join("rec");
        let snap = crate::testing::snapshot_of(Vec::new(), Vec::new());
        handle.save(&out, &snap).expect("save");
        std::fs::write(&file, b"changed since").expect("rewrite");

        let replay = crate::collect::linux::replay::RecordedSources::load(&out).expect("load");
        assert_eq!(replay.state_file(&file, 1024).expect("replayed"), read);
        assert_eq!(
            replay.state_file(&missing, 1024),
            Err(StateFileError::Missing)
        );
        assert_eq!(
            replay.state_file(Path::new("/etc/never-read"), 1024),
            Err(StateFileError::Missing)
        );
        assert_eq!(
            replay.state_file(&file, 3),
            Err(StateFileError::TooLarge { max: 3 })
        );
    }
}
