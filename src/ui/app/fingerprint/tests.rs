//! The decision against the analysis itself: snapshots changed field by field at random
//! (volatile fields too), and data kept only where making it again gives the same.

use super::*;
use crate::model::{
    AcceptQueue, AddrFlag, Finding, Mark, Missing, OptionName, Severity, State, View,
};
use crate::ui::tests::fixture;
use crate::ui::views::data::Data;
use proptest::prelude::*;

/// A field of the demo snapshot that a [`Change`] sets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Field {
    TakenAt,
    Scan,
    Warnings,
    Findings,
    RecvQ,
    SendQ,
    Processes,
    Pids,
    UnprivilegedPortStart,
    NonlocalBind,
    ListenOverflows,
    NetnsName,
    AddressFlags,
    LocalPort,
    State,
    Uid,
    Reuseaddr,
    Nonblocking,
    OptionReason,
    Device,
    AcceptQueue,
    SynRecv,
    HolderUid,
    HolderCmdline,
    HolderName,
    HoldersUnknown,
    Marks,
    Hostname,
    Missing,
    View,
}

impl Field {
    const ALL: [Field; 30] = [
        Field::TakenAt,
        Field::Scan,
        Field::Warnings,
        Field::Findings,
        Field::RecvQ,
        Field::SendQ,
        Field::Processes,
        Field::Pids,
        Field::UnprivilegedPortStart,
        Field::NonlocalBind,
        Field::ListenOverflows,
        Field::NetnsName,
        Field::AddressFlags,
        Field::LocalPort,
        Field::State,
        Field::Uid,
        Field::Reuseaddr,
        Field::Nonblocking,
        Field::OptionReason,
        Field::Device,
        Field::AcceptQueue,
        Field::SynRecv,
        Field::HolderUid,
        Field::HolderCmdline,
        Field::HolderName,
        Field::HoldersUnknown,
        Field::Marks,
        Field::Hostname,
        Field::Missing,
        Field::View,
    ];

    /// The model field it sets, as [`VOLATILE`] names them.
    fn name(self) -> &'static str {
        match self {
            Field::TakenAt => "Snapshot::taken_at",
            Field::Scan => "Snapshot::scan",
            Field::Warnings => "Snapshot::warnings",
            Field::Findings => "Snapshot::findings",
            Field::RecvQ => "Socket::recv_q",
            Field::SendQ => "Socket::send_q",
            Field::Processes => "Netns::processes",
            Field::Pids => "Netns::pids",
            Field::UnprivilegedPortStart | Field::NonlocalBind => "Netns::sysctls",
            Field::ListenOverflows => "Netns::counters",
            Field::NetnsName => "Netns::name",
            Field::AddressFlags => "Netns::interfaces",
            Field::LocalPort => "Socket::local_port",
            Field::State => "Socket::state",
            Field::Uid => "Socket::uid",
            Field::Reuseaddr | Field::Nonblocking | Field::OptionReason => "Socket::options",
            Field::Device => "Socket::device",
            Field::AcceptQueue => "Socket::accept_queue",
            Field::SynRecv => "Socket::syn_recv",
            Field::HolderUid | Field::HolderCmdline | Field::HolderName => "Socket::holders",
            Field::HoldersUnknown => "Socket::holders_unknown",
            Field::Marks => "Snapshot::marks",
            Field::Hostname => "Snapshot::host",
            Field::Missing => "Snapshot::privileges",
            Field::View => "Snapshot::view",
        }
    }

    fn volatile(self) -> bool {
        VOLATILE.contains(&self.name())
    }
}

/// Sets `field` of the `at`-th socket or namespace (wrapping) to a value picked by `v`,
/// from a few, so that a change is often to the value already there.
#[derive(Debug, Clone, Copy)]
struct Change {
    field: Field,
    at: usize,
    v: u32,
}

impl Change {
    fn apply(self, snap: &mut Snapshot) {
        let Change { field, at, v } = self;
        let pick = |n: usize| usize::try_from(v).unwrap_or(0) % n;
        let flag = v % 2 == 1;
        let n_sockets = snap.sockets.len();
        let n_netns = snap.netns.len();
        let Some(s) = snap.sockets.get_mut(at % n_sockets.max(1)) else {
            return;
        };
        let id = s.id.clone();
        let h = s.holders.first_mut();
        match field {
            Field::TakenAt => snap.taken_at = format!("2026-11-22T08:00:{:02}Z", v % 60).into(),
            Field::Scan => {
                snap.scan.duration_ms = u64::from(v);
                snap.scan.processes_vanished = v % 3;
            }
            Field::Warnings => {
                snap.warnings = (0..v % 3).map(|i| format!("pid {i} vanished")).collect();
            }
            Field::Findings => {
                snap.findings = (0..v % 2)
                    .map(|_| Finding {
                        kind: "listen_race".into(),
                        severity: Severity::Notice,
                        sockets: vec![id.clone()],
                        summary: "from a file".into(),
                        explanation: String::new(),
                        problem: None,
                    })
                    .collect();
            }
            Field::RecvQ => s.recv_q = Some(v % 3),
            Field::SendQ => s.send_q = flag.then_some(v),
            Field::LocalPort => s.local_port = [53, 80, 5353, 7000, 9000][pick(5)],
            Field::State => s.state = if flag { State::Listen } else { State::Close },
            Field::Uid => s.uid = [0, 33, 1001][pick(3)],
            Field::Reuseaddr => s.options.reuseaddr = [None, Some(false), Some(true)][pick(3)],
            Field::Nonblocking => s.options.nonblocking = [None, Some(false), Some(true)][pick(3)],
            Field::OptionReason => {
                s.options.reasons.insert(
                    OptionName::Reuseport,
                    Missing::Unknown(format!("reason {}", v % 2).into()),
                );
            }
            Field::Device => s.device = [None, Some("lo"), Some("eth0")][pick(3)].map(Into::into),
            Field::AcceptQueue => {
                if let Some(q) = &mut s.accept_queue {
                    *q = AcceptQueue {
                        len: v % 6,
                        backlog: q.backlog,
                    };
                }
            }
            Field::SynRecv => s.syn_recv = Some(v % 10),
            Field::HoldersUnknown => s.holders_unknown = flag.then(|| "unreadable fds".into()),
            Field::HolderUid => {
                if let Some(h) = h {
                    h.uid = [0, 33, 1001][pick(3)];
                }
            }
            Field::HolderCmdline => {
                if let Some(h) = h {
                    h.cmdline = vec![format!("/usr/sbin/daemon{}", v % 3)].into();
                }
            }
            Field::HolderName => {
                if let Some(h) = h {
                    h.name = format!("daemon{}", v % 3).into();
                }
            }
            Field::Marks => {
                snap.marks = (0..v % 2)
                    .map(|_| Mark {
                        socket: id.clone(),
                        note: format!("note {}", v % 3),
                    })
                    .collect();
            }
            Field::Hostname => snap.host.hostname = format!("host{}", v % 2),
            Field::Missing => snap.privileges.missing = (0..v % 2).map(|_| "root".into()).collect(),
            Field::View => snap.view = if flag { View::All } else { View::Listening },
            Field::Processes
            | Field::Pids
            | Field::UnprivilegedPortStart
            | Field::NonlocalBind
            | Field::ListenOverflows
            | Field::NetnsName
            | Field::AddressFlags => {
                let Some(n) = snap.netns.get_mut(at % n_netns.max(1)) else {
                    return;
                };
                match field {
                    Field::Processes => n.processes = v % 5,
                    Field::Pids => n.pids = (0..v % 3).map(|i| 100 + i).collect(),
                    Field::UnprivilegedPortStart => {
                        n.sysctls.ip_unprivileged_port_start =
                            Some([0, 80, 1024, 6000, 8000][pick(5)]);
                    }
                    Field::NonlocalBind => n.sysctls.ipv4_ip_nonlocal_bind = Some(i64::from(flag)),
                    Field::ListenOverflows => n.counters.listen_overflows = Some(u64::from(v % 3)),
                    Field::NetnsName => n.name = Some(format!("ns{}", v % 3)),
                    _ => {
                        if let Some(a) = n
                            .interfaces
                            .first_mut()
                            .and_then(|i| i.addresses.first_mut())
                        {
                            a.flags.retain(|f| *f != AddrFlag::Tentative);
                            if flag {
                                a.flags.push(AddrFlag::Tentative);
                            }
                        }
                    }
                }
            }
        }
    }
}

fn change() -> impl Strategy<Value = Change> {
    (0..Field::ALL.len(), 0usize..64, 0u32..8).prop_map(|(f, at, v)| Change {
        field: Field::ALL[f],
        at,
        v,
    })
}

/// Mostly volatile changes, so that pairs of equal fingerprints are common.
fn mostly_volatile() -> impl Strategy<Value = Change> {
    prop_oneof![
        3 => change().prop_filter("volatile", |c| c.field.volatile()),
        1 => change(),
    ]
}

/// What the dashboard makes of a snapshot taken on its own.
fn made(snap: &Snapshot) -> Data {
    let mut history = History::default();
    history.record(snap, 0);
    Data::new(snap, &history)
}

fn changed(base: &Snapshot, changes: &[Change]) -> Snapshot {
    let mut snap = base.clone();
    for c in changes {
        c.apply(&mut snap);
    }
    snap
}

#[test]
fn every_volatile_field_is_one_a_change_can_make() {
    for name in VOLATILE {
        assert!(
            Field::ALL.iter().any(|f| f.name() == name),
            "{name} is listed volatile but never changed by these tests"
        );
    }
}

proptest! {
    /// A change to a volatile field never moves the fingerprint; a change to any other
    /// field that changed the snapshot always does.
    #[test]
    fn the_fingerprint_moves_with_every_field_but_the_volatile_ones(
        changes in prop::collection::vec(change(), 1..12),
    ) {
        let mut snap = fixture();
        for c in changes {
            let before = snap.clone();
            c.apply(&mut snap);
            if c.field.volatile() {
                prop_assert_eq!(of(&before), of(&snap), "{:?}", c);
            } else if snap != before {
                prop_assert_ne!(of(&before), of(&snap), "{:?}", c);
            }
        }
    }

    /// Equal fingerprints, equal findings and view data: what a quiet refresh keeps is what
    /// analysing the new snapshot would make.
    #[test]
    fn equal_fingerprints_make_equal_findings_and_data(
        first in prop::collection::vec(change(), 0..6),
        then in prop::collection::vec(mostly_volatile(), 0..6),
    ) {
        let a = changed(&fixture(), &first);
        let b = changed(&a, &then);
        if of(&a) == of(&b) {
            let (da, db) = (made(&a), made(&b));
            prop_assert_eq!(&da.findings, &db.findings);
            prop_assert!(da == db, "the views' data differ after {:?}", then);
        }
    }

    /// Refreshes in a row, the ingest listener's queue and the overflow counter moving now
    /// and then: wherever the basis holds, the data kept is the data made again with the
    /// history as it is now (a growth that starts or ends, a rise that slides out).
    #[test]
    fn data_kept_while_the_basis_holds_is_the_data_made_again(
        steps in prop::collection::vec(
            prop::collection::vec(
                prop_oneof![
                    2 => (0u32..4).prop_map(|v| Change { field: Field::AcceptQueue, at: 9, v }),
                    1 => (0u32..3).prop_map(|v| Change { field: Field::ListenOverflows, at: 1, v }),
                    2 => mostly_volatile().prop_filter("volatile", |c| c.field.volatile()),
                ],
                0..3,
            ),
            1..16,
        ),
    ) {
        // A short window, so that histories settle within a few refreshes.
        let mut history = History::new(4);
        let mut basis = Basis::default();
        let mut kept: Option<Data> = None;
        let mut snap = fixture();
        for (i, step) in steps.iter().enumerate() {
            for c in step {
                c.apply(&mut snap);
            }
            history.record(&snap, i as u64 * 1000);
            let fp = of(&snap);
            let fresh = Data::new(&snap, &history);
            match &kept {
                Some(k) if basis.holds(fp) => {
                    prop_assert!(*k == fresh, "kept data is stale at refresh {}: {:?}", i, steps);
                }
                _ => {
                    basis.made(fp, &snap, &history);
                    kept = Some(fresh);
                }
            }
        }
    }
}

#[test]
fn the_basis_holds_for_the_same_data_with_a_history_at_rest() {
    let snap = fixture();
    let fp = of(&snap);
    let mut history = History::new(3);
    let mut basis = Basis::default();
    history.record(&snap, 0);
    assert!(!basis.holds(fp), "nothing made yet");
    basis.made(fp, &snap, &history);
    assert!(basis.holds(fp));
    let mut other = snap.clone();
    other.netns[0].sysctls.ip_unprivileged_port_start = Some(80);
    assert!(!basis.holds(of(&other)), "a sysctl changed");
    // The ingest queue moved: while that is in the window the data is made again.
    let mut moved = snap.clone();
    moved.sockets[9].accept_queue = Some(AcceptQueue { len: 1, backlog: 4 });
    history.record(&moved, 1000);
    basis.made(of(&moved), &moved, &history);
    assert!(!basis.holds(of(&moved)));
    basis.forget();
    assert!(!basis.holds(fp), "forgotten");
}
