//! A recorded host as [`Sources`]: `/proc` is the recording's tree, netlink answers with the
//! recorded dumps, and the probe, user names, euid and clocks say what they said when it was
//! recorded (layout in [`super::recording`]). Collection, analysis and the dashboard run on
//! it unchanged, without root and without the host.

use super::netlink::{NetlinkError, OnMessage, split_messages};
use super::netns::{self, Discovery, NetnsTarget};
use super::procfs::ProcRoot;
use super::recording::{
    self, DUMP_EXT, MANIFEST, Manifest, NETLINK, NetnsRecord, PROC, ProbeRecord, RecordingError,
};
use super::sockopt::{Expected, Holder, ProbeError, Wanted};
use super::sources::{HostFiles, Netlink, NetnsSources, ProbeOptions, Sources};
use super::state_files::{StateFileError, read_state_file};
use crate::collect::join::ProbedOptions;
use crate::collect::users::UserNames;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, SystemTime};

/// A recording, served as sources.
pub struct RecordedSources {
    /// The recording's directory (its state files are below it).
    dir: PathBuf,
    proc_root: ProcRoot,
    manifest: Arc<Manifest>,
    namespaces: BTreeMap<u64, RecordedNetns>,
    /// How many readings of each clock were served: the next one is the next recorded.
    wall_read: AtomicUsize,
    monotonic_read: AtomicUsize,
}

/// One namespace as recorded; each entry serves its dumps afresh.
#[derive(Clone)]
struct RecordedNetns {
    root: ProcRoot,
    record: NetnsRecord,
    dumps: Arc<Vec<(Netlink, Vec<u8>)>>,
}

impl RecordedSources {
    /// Reads the recording in `dir`.
    pub fn load(dir: &Path) -> Result<RecordedSources, RecordingError> {
        let path = dir.join(MANIFEST);
        let text = std::fs::read(&path).map_err(RecordingError::io(&path))?;
        let manifest: Manifest =
            serde_json::from_slice(&text).map_err(|source| RecordingError::Json {
                path: path.clone(),
                source,
            })?;
        if manifest.version != recording::VERSION {
            return Err(RecordingError::Version {
                path,
                found: manifest.version,
            });
        }
        let mut namespaces = BTreeMap::new();
        for (&id, record) in &manifest.namespaces {
            let ns_dir = recording::netns_dir(dir, id);
            namespaces.insert(
                id,
                RecordedNetns {
                    root: ProcRoot::new(ns_dir.join(PROC)),
                    record: record.clone(),
                    dumps: Arc::new(read_dumps(&ns_dir.join(NETLINK))?),
                },
            );
        }
        Ok(RecordedSources {
            dir: dir.to_path_buf(),
            proc_root: ProcRoot::new(dir.join(PROC)),
            manifest: Arc::new(manifest),
            namespaces,
            wall_read: AtomicUsize::new(0),
            monotonic_read: AtomicUsize::new(0),
        })
    }

    /// What the recording says about how collection ran.
    pub fn manifest(&self) -> &Manifest {
        &self.manifest
    }
}

/// The dumps of one namespace, in the order they were made (their file names sort so).
fn read_dumps(dir: &Path) -> Result<Vec<(Netlink, Vec<u8>)>, RecordingError> {
    let entries = match std::fs::read_dir(dir) {
        Ok(e) => e,
        // A namespace whose dumps all failed has none.
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(RecordingError::io(dir)(e)),
    };
    let mut paths: Vec<PathBuf> = entries
        .map(|e| e.map(|e| e.path()))
        .collect::<Result<_, _>>()
        .map_err(RecordingError::io(dir))?;
    paths.retain(|p| p.extension().is_some_and(|e| e == DUMP_EXT));
    paths.sort();
    let mut out = Vec::with_capacity(paths.len());
    for path in paths {
        let stem = path.file_stem().and_then(|s| s.to_str()).unwrap_or("");
        let protocol = match stem.split_once('-').map(|(_, p)| p) {
            Some(p) if p == Netlink::SockDiag.name() => Netlink::SockDiag,
            Some(p) if p == Netlink::Route.name() => Netlink::Route,
            _ => {
                return Err(RecordingError::Malformed {
                    path,
                    what: "not NNN-sock_diag.nl or NNN-route.nl".to_string(),
                });
            }
        };
        let bytes = std::fs::read(&path).map_err(RecordingError::io(&path))?;
        out.push((protocol, bytes));
    }
    Ok(out)
}

/// The `n`th reading of a recorded clock; the last one again once they run out (a replay
/// that reads the clock more often than the recording did sees time stand still).
fn reading<T: Copy>(readings: &[T], served: &AtomicUsize, none: T) -> T {
    let n = served.fetch_add(1, Ordering::Relaxed);
    readings.get(n).or(readings.last()).copied().unwrap_or(none)
}

impl HostFiles for RecordedSources {
    fn proc_root(&self) -> &ProcRoot {
        &self.proc_root
    }

    fn state_file(&self, path: &Path, max: u64) -> Result<Arc<[u8]>, StateFileError> {
        if let Some(e) = self.manifest.state_errors.get(path) {
            return Err(e.clone());
        }
        // What the recording does not hold was not there to read (or not asked for).
        let at = recording::state_path(&self.dir, path).ok_or(StateFileError::Missing)?;
        read_state_file(&at, max)
    }
}

impl Sources for RecordedSources {
    fn discover(&mut self) -> Discovery {
        let m = &self.manifest;
        netns::discover_with(&self.proc_root, &m.run_netns, &mut |_, warnings| {
            warnings.extend(m.named_warnings.iter().cloned());
            m.named.clone()
        })
    }

    fn in_netns(
        &mut self,
        t: &NetnsTarget,
        read: &mut (dyn FnMut(&mut dyn NetnsSources) + Send),
    ) -> Result<(), String> {
        if let Some(why) = self.manifest.not_entered.get(&t.id) {
            return Err(why.clone());
        }
        let Some(ns) = self.namespaces.get(&t.id) else {
            return Err("it is not in the recording".to_string());
        };
        read(&mut Replaying {
            ns: ns.clone(),
            used: vec![false; ns.dumps.len()],
            seq: 0,
        });
        Ok(())
    }

    fn prober(&self) -> Box<dyn ProbeOptions + Send> {
        Box::new(RecordedProber {
            manifest: Arc::clone(&self.manifest),
        })
    }

    fn user_names(&self) -> UserNames {
        let manifest = Arc::clone(&self.manifest);
        UserNames::with_lookup(Arc::new(move |uid| {
            manifest
                .user_names
                .get(&uid)
                .and_then(|n| n.as_deref())
                .map(Arc::from)
        }))
    }

    fn euid(&self) -> u32 {
        self.manifest.euid
    }

    fn wall_clock(&self) -> SystemTime {
        reading(
            &self.manifest.wall_clock,
            &self.wall_read,
            SystemTime::UNIX_EPOCH,
        )
    }

    fn monotonic(&self) -> Duration {
        reading(
            &self.manifest.monotonic,
            &self.monotonic_read,
            Duration::ZERO,
        )
    }
}

/// Serves `dumps` (protocol, request then replies) as a namespace whose `/proc` is `root`
/// (for tests of what a recorder notes).
#[cfg(test)]
pub(crate) fn replaying(dumps: Vec<(Netlink, Vec<u8>)>, root: ProcRoot) -> impl NetnsSources {
    Replaying {
        used: vec![false; dumps.len()],
        ns: RecordedNetns {
            root,
            record: NetnsRecord::default(),
            dumps: Arc::new(dumps),
        },
        seq: 0,
    }
}

/// One namespace's recorded dumps, each served once per entry.
struct Replaying {
    ns: RecordedNetns,
    used: Vec<bool>,
    seq: u32,
}

/// `(type, flags, payload)` of a request: what the kernel answered, without the sequence
/// number and port id that differ from one run to the next.
fn request_key(bytes: &[u8]) -> Option<(u16, u16, &[u8])> {
    let (hdr, payload) = split_messages(bytes).next()?.ok()?;
    Some((hdr.ty, hdr.flags, payload))
}

impl NetnsSources for Replaying {
    fn open(&mut self, _protocol: Netlink) -> Result<(), NetlinkError> {
        Ok(())
    }

    fn next_seq(&mut self, _protocol: Netlink) -> u32 {
        self.seq = self.seq.wrapping_add(1).max(1);
        self.seq
    }

    fn dump(
        &mut self,
        protocol: Netlink,
        request: &[u8],
        on_message: &mut OnMessage<'_>,
    ) -> Result<(), NetlinkError> {
        let wanted = request_key(request);
        let found = self
            .ns
            .dumps
            .iter()
            .enumerate()
            .position(|(i, (p, bytes))| {
                !self.used.get(i).copied().unwrap_or(true)
                    && *p == protocol
                    && wanted.is_some()
                    && request_key(bytes) == wanted
            });
        let Some(i) = found else {
            return Err(NetlinkError::NotRecorded(protocol.name()));
        };
        if let Some(u) = self.used.get_mut(i) {
            *u = true;
        }
        let Some((_, bytes)) = self.ns.dumps.get(i) else {
            return Err(NetlinkError::NotRecorded(protocol.name()));
        };
        // The first message is the request; the replies follow.
        for msg in split_messages(bytes).skip(1) {
            let (hdr, payload) = msg?;
            on_message(hdr.ty, payload)?;
        }
        Ok(())
    }

    fn dumps_bound_inactive(&mut self) -> bool {
        // Not asked while recording means every dump could tell; a replay of the same
        // dumps asks neither. Unknown is taken as yes, so no warning is invented.
        self.ns.record.dumps_bound_inactive.unwrap_or(true)
    }

    fn proc_root(&self) -> &ProcRoot {
        &self.ns.root
    }
}

/// The recorded probe results, found by holder and socket.
struct RecordedProber {
    manifest: Arc<Manifest>,
}

impl ProbeOptions for RecordedProber {
    fn probe(
        &mut self,
        holder: Holder,
        expected: Expected,
        _want: Wanted,
    ) -> Result<ProbedOptions, ProbeError> {
        let recorded = self.manifest.probes.iter().find(|p: &&ProbeRecord| {
            (p.pid, p.tid, p.fd, p.inode, p.cookie)
                == (
                    holder.pid,
                    holder.tid,
                    holder.fd,
                    expected.inode,
                    expected.cookie,
                )
        });
        match recorded {
            Some(p) => p.result.clone().map_err(ProbeError::from),
            None => Err(ProbeError::Other(
                "this probe is not in the recording".to_string(),
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::collect::linux::netlink::{NLM_F_DUMP, NLM_F_REQUEST, build_request};

    fn request(seq: u32, payload: &[u8]) -> Vec<u8> {
        build_request(20, NLM_F_REQUEST | NLM_F_DUMP, seq, payload)
    }

    fn served(
        ns: &mut dyn NetnsSources,
        protocol: Netlink,
        req: &[u8],
    ) -> Result<Vec<(u16, Vec<u8>)>, NetlinkError> {
        let mut got = Vec::new();
        ns.dump(protocol, req, &mut |ty, payload| {
            got.push((ty, payload.to_vec()));
            Ok(())
        })?;
        Ok(got)
    }

    /// A request is found whatever its sequence number, once per entry, and only for its
    /// own protocol and payload.
    #[test]
    fn dumps_are_served_by_request_once() {
        let mut conversation = request(7, b"wxyz");
        conversation.extend(build_request(20, 0, 0, b"first"));
        conversation.extend(build_request(20, 0, 0, b"second"));
        let mut ns = replaying(
            vec![(Netlink::SockDiag, conversation)],
            ProcRoot::new("/nonexistent"),
        );
        let replies = served(&mut ns, Netlink::SockDiag, &request(1, b"wxyz")).expect("served");
        assert_eq!(
            replies,
            vec![(20, b"first".to_vec()), (20, b"second".to_vec())]
        );
        for (protocol, req) in [
            (Netlink::SockDiag, request(2, b"wxyz")),
            (Netlink::Route, request(1, b"wxyz")),
            (Netlink::SockDiag, request(1, b"abcd")),
        ] {
            assert!(matches!(
                served(&mut ns, protocol, &req),
                Err(NetlinkError::NotRecorded(_))
            ));
        }
    }

    /// A recorded reply that cannot be split is a parse error, not a panic.
    #[test]
    fn a_damaged_recording_is_an_error() {
        let mut conversation = request(1, b"wxyz");
        conversation.extend([0xff, 0xff, 0xff, 0x7f, 1, 2]);
        let mut ns = replaying(
            vec![(Netlink::Route, conversation)],
            ProcRoot::new("/nonexistent"),
        );
        assert!(matches!(
            served(&mut ns, Netlink::Route, &request(1, b"wxyz")),
            Err(NetlinkError::Parse(_))
        ));
    }

    #[test]
    fn clocks_replay_their_readings_then_stand_still() {
        let served = AtomicUsize::new(0);
        let readings = [3, 5];
        let got: Vec<u32> = (0..4).map(|_| reading(&readings, &served, 0)).collect();
        assert_eq!(got, [3, 5, 5, 5]);
        assert_eq!(reading(&[], &AtomicUsize::new(0), 9), 9);
    }

    #[test]
    fn a_missing_or_foreign_recording_is_an_error() {
        assert!(matches!(
            RecordedSources::load(Path::new("/nonexistent/recording")),
            Err(RecordingError::Io { .. })
        ));
        let dir = tempfile::tempdir().expect("tempdir");
        std::fs::write(dir.path().join(MANIFEST), "{\"version\": 1}").expect("write");
        assert!(matches!(
            RecordedSources::load(dir.path()),
            Err(RecordingError::Json { .. })
        ));
    }
}
