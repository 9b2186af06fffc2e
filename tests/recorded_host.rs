//! A real host, recorded by `scripts/record-host` into `tests/fixtures/small-host` (this
//! machine's kernel in private namespaces, with Python listeners as three users and Debian's
//! dnsmasq), replayed through `RecordedSources`: collection, the join, analysis and the
//! dashboard run on it without root and without the host.

// A test may unwrap, expect and panic: that is the test failing (Cargo.toml denies them
// in the program).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use bindscope::analyze::history::History;
use bindscope::collect::linux::collector::{CollectConfig, Collector};
use bindscope::collect::linux::recording;
use bindscope::collect::linux::replay::RecordedSources;
use bindscope::model::{FindingKind, NetnsKind, Proto, Severity, Snapshot, Socket, State};
use bindscope::session::Session;
use bindscope::ui::app::{App, AppInit, Msg};
use bindscope::ui::keymap::Keymap;
use bindscope::ui::theme::Theme;
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use std::net::IpAddr;
use std::path::PathBuf;
use std::time::Duration;

fn fixture() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/small-host")
}

/// The recording collected as the recorder did it (the same session calls, so the recorded
/// clock readings line up), and judged when `judged`.
fn replay_judged(judged: bool) -> Snapshot {
    let sources = RecordedSources::load(&fixture()).expect("load the recording");
    let m = sources.manifest();
    let cfg = CollectConfig {
        view: m.view,
        probe_options: m.probe_options,
        ..CollectConfig::default()
    };
    let mut session = Session::new(
        Collector::with_sources(cfg, Box::new(sources)),
        History::default(),
    );
    let sample = if judged {
        session.judged_sample()
    } else {
        session.sample()
    };
    sample.expect("collect the recording").snap
}

/// The recording collected, with its findings.
fn replay() -> Snapshot {
    replay_judged(true)
}

/// The one socket of `proto` on `addr:port` owned by `uid`.
fn socket<'a>(snap: &'a Snapshot, proto: Proto, addr: &str, port: u16, uid: u32) -> &'a Socket {
    let addr: IpAddr = addr.parse().expect("address");
    let found: Vec<&Socket> = snap
        .sockets
        .iter()
        .filter(|s| s.proto == proto && s.local_addr == addr && s.local_port == port)
        .filter(|s| s.uid == uid)
        .collect();
    assert_eq!(
        found.len(),
        1,
        "{proto:?} {addr}:{port} uid {uid}: {found:#?}"
    );
    found[0]
}

/// Who holds a socket: (process name, user).
fn holders(s: &Socket) -> Vec<(String, Option<String>)> {
    s.holders
        .iter()
        .map(|h| (h.name.to_string(), h.user.as_deref().map(str::to_owned)))
        .collect()
}

#[test]
fn the_replay_is_the_snapshot_collected_live_while_recording() {
    let bytes = std::fs::read(fixture().join(recording::SNAPSHOT)).expect("read");
    let live: Snapshot = serde_json::from_slice(&bytes).expect("the recorded snapshot");
    // What collection made; the findings are judged by today's analysis (tests below).
    let mut replayed = replay_judged(false);
    // The live snapshot was written before sockets kept their dump position (issue 14); the
    // replay serves the same dumps, so it has them (checked below) and the rest must agree.
    for s in &mut replayed.sockets {
        s.dump_pos = None;
    }
    // Field by field first, for a readable failure; then all of it.
    assert_eq!(replayed.sockets, live.sockets);
    assert_eq!(replayed.netns, live.netns);
    assert_eq!(replayed.taken_at, live.taken_at, "the recorded wall clock");
    assert_eq!(replayed.scan, live.scan, "the recorded monotonic clock");
    assert_eq!(
        (&replayed.host, &replayed.privileges, &replayed.warnings),
        (&live.host, &live.privileges, &live.warnings)
    );
    assert_eq!(replayed, live);
}

#[test]
fn the_sockets_holders_and_options_are_what_ran() {
    let snap = replay();
    assert_eq!(snap.host.hostname, "fixture-host");
    assert_eq!(snap.sockets.len(), 11, "{:#?}", snap.sockets);
    assert!(snap.warnings.is_empty(), "{:?}", snap.warnings);
    assert!(snap.privileges.options_readable && snap.privileges.all_holders_visible);
    assert_eq!(snap.netns.len(), 1);
    assert_eq!(snap.netns[0].kind, NetnsKind::Host);
    let veth0 = snap.netns[0]
        .interfaces
        .iter()
        .find(|i| i.name == "veth0")
        .expect("veth0");
    let addrs: Vec<String> = veth0.addresses.iter().map(|a| a.addr.to_string()).collect();
    assert!(addrs.contains(&"192.0.2.10".to_string()), "{addrs:?}");
    assert!(addrs.contains(&"2001:db8::10".to_string()), "{addrs:?}");

    // 8080: IPv4 as nobody, IPv6-only as root.
    let v4 = socket(&snap, Proto::Tcp, "0.0.0.0", 8080, 65534);
    assert_eq!(v4.state, State::Listen);
    assert_eq!(holders(v4), [("python3".into(), Some("nobody".into()))]);
    assert_eq!(v4.options.nonblocking, Some(false));
    let v6 = socket(&snap, Proto::Tcp, "::", 8080, 0);
    assert_eq!(v6.options.v6only, Some(true));
    assert_eq!(holders(v6), [("python3".into(), Some("root".into()))]);

    // dnsmasq's sockets were made as root and are held by nobody after it dropped privileges.
    for proto in [Proto::Tcp, Proto::Udp] {
        let dns = socket(&snap, proto, "192.0.2.10", 53, 0);
        assert_eq!(holders(dns), [("dnsmasq".into(), Some("nobody".into()))]);
        assert_eq!(dns.options.reuseaddr, Some(true));
    }

    // Two root processes in one SO_REUSEPORT group on 9000.
    let group: Vec<&Socket> = snap
        .sockets
        .iter()
        .filter(|s| s.proto == Proto::Tcp && s.local_port == 9000)
        .collect();
    assert_eq!(group.len(), 2);
    assert!(group.iter().all(|s| s.options.reuseport == Some(true)));
    assert_ne!(group[0].holders[0].pid, group[1].holders[0].pid);

    // UDP 5353 shared by root and daemon through SO_REUSEADDR.
    for uid in [0, 1] {
        assert_eq!(
            socket(&snap, Proto::Udp, "0.0.0.0", 5353, uid)
                .options
                .reuseaddr,
            Some(true)
        );
    }
    assert_eq!(
        socket(&snap, Proto::Udp, "0.0.0.0", 5353, 1)
            .user
            .as_deref(),
        Some("daemon")
    );

    // A bound-only TCP socket, and the non-blocking IPv6 listener.
    let bound = socket(&snap, Proto::Tcp, "127.0.0.1", 7000, 0);
    assert_eq!(bound.state_label(), "bound");
    let v6only = socket(&snap, Proto::Tcp, "2001:db8::10", 8443, 0);
    assert_eq!(v6only.options.nonblocking, Some(true));
    assert!(socket(&snap, Proto::Udp, "::1", 5354, 0).options.v6only == Some(true));
}

#[test]
fn the_findings_are_the_ones_those_sockets_deserve() {
    let snap = replay();
    let of = |kind: FindingKind| -> Vec<String> {
        snap.findings
            .iter()
            .filter(|f| f.kind == kind)
            .map(|f| f.summary.clone())
            .collect()
    };
    let cross_port = of(FindingKind::CrossUserPort);
    assert_eq!(cross_port.len(), 2, "{cross_port:?}");
    assert!(cross_port.iter().any(|s| s.contains("udp port 5353")));
    assert!(cross_port.iter().any(|s| s.contains("tcp port 8080")));
    // Both 5353 sockets set SO_REUSEADDR (there, as mDNS requires).
    assert_eq!(of(FindingKind::UdpReuseaddrTakeover).len(), 2);
    assert_eq!(of(FindingKind::ReuseportGroup).len(), 1);
    assert!(of(FindingKind::ReuseportGroup)[0].contains("0.0.0.0:9000"));
    // Four Python listeners are blocking, but each is one single-threaded process, and a
    // lone accepter does not hang on Linux: no blocking_listener.
    assert!(of(FindingKind::BlockingListener).is_empty());
    let blocking = snap
        .sockets
        .iter()
        .filter(|s| s.options.nonblocking == Some(false))
        .count();
    assert_eq!(blocking, 4);
    assert_eq!(of(FindingKind::CrossUserSocket).len(), 2, "dnsmasq's two");
    // IPv4 only on 9000; ::1 only on UDP 5354.
    let split = of(FindingKind::FamilySplit);
    assert!(
        split.iter().any(|s| s.contains("tcp port 9000")),
        "{split:?}"
    );
    assert!(
        split.iter().any(|s| s.contains("udp port 5354")),
        "{split:?}"
    );
    assert!(
        snap.findings
            .iter()
            .all(|f| f.severity < Severity::Critical),
        "nothing here is critical"
    );
}

/// The dashboard, fed the replayed snapshot as the collector thread would, draws the
/// recorded host.
#[test]
fn the_dashboard_shows_the_recorded_host() {
    let mut app = App::new(AppInit {
        keymap: Keymap::default(),
        theme: Theme::default(),
        interval: Duration::from_secs(1),
        export_dir: std::env::temp_dir(),
        replay: None,
        notice: None,
    });
    let (width, height) = (160, 48);
    app.update(Msg::Resize { width, height });
    app.update(Msg::Snapshot {
        snap: Box::new(replay()),
        at_ms: 0,
    });
    let screen = |app: &App| {
        let mut t = Terminal::new(TestBackend::new(width, height)).expect("terminal");
        t.draw(|f| app.render(f)).expect("draw");
        t.backend().to_string()
    };
    let sockets = screen(&app);
    assert!(sockets.contains("fixture-host"), "{sockets}");
    let row =
        |screen: &str, words: &[&str]| screen.lines().any(|l| words.iter().all(|w| l.contains(w)));
    assert!(row(&sockets, &["8080", "python3", "nobody"]), "{sockets}");
    assert!(row(&sockets, &["192.0.2.10", "53", "dnsmasq"]), "{sockets}");
    assert!(row(&sockets, &["5353", "daemon"]), "{sockets}");
    assert!(row(&sockets, &["127.0.0.1", "7000", "bound"]), "{sockets}");

    app.update(Msg::Key(KeyEvent::new(
        KeyCode::Char('5'),
        KeyModifiers::NONE,
    )));
    let findings = screen(&app);
    assert!(
        row(&findings, &["cross_user_port", "udp port 5353"]),
        "{findings}"
    );
    assert!(row(&findings, &["SO_REUSEPORT", "9000"]), "{findings}");
}

/// The replay serves the recorded dumps, so every socket keeps its position in its dump: one
/// position per socket of each (namespace, protocol, family) dump, none shared.
#[test]
fn the_replay_keeps_the_dump_order() {
    let snap = replay_judged(false);
    let mut seen = std::collections::HashSet::new();
    for s in &snap.sockets {
        let pos = s
            .dump_pos
            .unwrap_or_else(|| panic!("no dump position: {s:?}"));
        assert!(
            seen.insert((s.netns, s.proto, s.family, pos)),
            "position {pos} twice in one dump: {s:?}"
        );
    }
    // The two UDP 0.0.0.0:5353 binds (SO_REUSEADDR) share one chain: distinct positions.
    let a = socket(&snap, Proto::Udp, "0.0.0.0", 5353, 0).dump_pos;
    let b = socket(&snap, Proto::Udp, "0.0.0.0", 5353, 1).dump_pos;
    assert_ne!(a, b);
}
