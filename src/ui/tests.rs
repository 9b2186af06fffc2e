//! Screens of every view at 80×24 and 160×48, from the demo fixture, driven through
//! `App::update` exactly as the runtime drives it; no sleeps, no clock.

use super::app::{App, AppInit, Effect, Msg};
use super::keymap::Keymap;
use super::theme::Theme;
use crate::model::{AcceptQueue, Snapshot, SocketId, State};
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use std::time::Duration;

/// The demo snapshot: two namespaces, 14 sockets.
pub fn fixture() -> Snapshot {
    let text = include_str!("../../tests/fixtures/demo-snapshot.json");
    serde_json::from_str(text).expect("the fixture parses")
}

/// The ingest listener on port 9000, whose queue is full in the fixture.
pub const INGEST: &str = "4026532245-87381";

pub fn app() -> App {
    App::new(AppInit {
        keymap: Keymap::default(),
        theme: Theme::default(),
        interval: Duration::from_secs(1),
        export_dir: "/var/tmp/exports".into(),
        replay: None,
        notice: None,
    })
}

/// The fixture with the ingest listener's accept queue at `len`.
pub fn fixture_with_queue(len: u32) -> Snapshot {
    let mut snap = fixture();
    if let Some(s) = snap
        .sockets
        .iter_mut()
        .find(|s| s.id == SocketId(INGEST.into()))
    {
        s.accept_queue = Some(AcceptQueue { len, backlog: 4 });
    }
    snap
}

/// An app of this size that has seen three refreshes, the ingest queue growing 2, 4, 5
/// (the fixture's own), so queue history, sparklines and the growing finding show.
pub fn live(width: u16, height: u16) -> App {
    let mut a = app();
    a.update(Msg::Resize { width, height });
    for (i, len) in [2, 4, 5].into_iter().enumerate() {
        a.update(Msg::Snapshot {
            snap: Box::new(fixture_with_queue(len)),
            at_ms: i as u64 * 1000,
        });
    }
    a
}

pub fn key(c: char) -> Msg {
    Msg::Key(KeyEvent::new(KeyCode::Char(c), KeyModifiers::NONE))
}

pub fn code(c: KeyCode) -> Msg {
    Msg::Key(KeyEvent::new(c, KeyModifiers::NONE))
}

pub fn typed(a: &mut App, text: &str) {
    for c in text.chars() {
        a.update(key(c));
    }
}

/// The screen as text.
pub fn screen(a: &App, width: u16, height: u16) -> String {
    let mut t = Terminal::new(TestBackend::new(width, height)).expect("test terminal");
    t.draw(|f| a.render(f)).expect("draw");
    t.backend().to_string()
}

const SIZES: [(u16, u16); 2] = [(80, 24), (160, 48)];

/// Every view by its number key, at both sizes.
#[test]
fn every_view() {
    for (w, h) in SIZES {
        let mut a = live(w, h);
        for (n, name) in ["sockets", "ports", "processes", "users", "findings", "host"]
            .iter()
            .enumerate()
        {
            let digit = char::from(b'1' + u8::try_from(n).expect("six views"));
            a.update(key(digit));
            insta::assert_snapshot!(format!("{name}_{w}x{h}"), screen(&a, w, h));
        }
    }
}

#[test]
fn tab_cycles_views_and_shift_tab_goes_back() {
    let mut a = live(80, 24);
    let first = screen(&a, 80, 24);
    a.update(code(KeyCode::Tab));
    assert!(screen(&a, 80, 24).contains("ROUTES"), "Ports after Tab");
    for _ in 0..6 {
        a.update(code(KeyCode::Tab));
    }
    assert_eq!(screen(&a, 80, 24), first, "seven tabs come back to Sockets");
    a.update(code(KeyCode::BackTab));
    assert!(
        screen(&a, 80, 24).contains("WHAT"),
        "Changes before Sockets"
    );
    a.update(code(KeyCode::BackTab));
    assert!(
        screen(&a, 80, 24).contains("FLAGGED"),
        "Host before Sockets"
    );
}

#[test]
fn filter_prompt_previews_errors_and_applies() {
    for (w, h) in SIZES {
        let mut a = live(w, h);
        a.update(key('/'));
        typed(&mut a, "port:8080 colour:red");
        insta::assert_snapshot!(format!("filter_error_{w}x{h}"), screen(&a, w, h));
        for _ in 0.."colour:red".len() {
            a.update(code(KeyCode::Backspace));
        }
        typed(&mut a, "!user:root");
        insta::assert_snapshot!(format!("filter_typing_{w}x{h}"), screen(&a, w, h));
        a.update(code(KeyCode::Enter));
        insta::assert_snapshot!(format!("filter_applied_{w}x{h}"), screen(&a, w, h));
    }
}

#[test]
fn help_overlay() {
    for (w, h) in SIZES {
        let mut a = live(w, h);
        a.update(key('?'));
        insta::assert_snapshot!(format!("help_{w}x{h}"), screen(&a, w, h));
    }
}

#[test]
fn what_if_in_place() {
    for (w, h) in SIZES {
        let mut a = live(w, h);
        // The api-server's 0.0.0.0:8080 in bsdemo-web: sorted by port, the 8th row.
        a.update(key('/'));
        typed(&mut a, "port:8080 netns:bsdemo-web");
        a.update(code(KeyCode::Enter));
        a.update(key('w'));
        // The prompt offers the selected socket's endpoint; ask as another user.
        typed(&mut a, "--reuseport --user 1002 --listen");
        insta::assert_snapshot!(format!("whatif_prompt_{w}x{h}"), screen(&a, w, h));
        a.update(code(KeyCode::Enter));
        insta::assert_snapshot!(format!("whatif_result_{w}x{h}"), screen(&a, w, h));
    }
}

#[test]
fn enter_on_a_finding_shows_its_sockets() {
    for (w, h) in SIZES {
        let mut a = live(w, h);
        a.update(key('5'));
        // The second finding: cross_user_port on udp 5353 (two sockets).
        a.update(key('j'));
        a.update(code(KeyCode::Enter));
        insta::assert_snapshot!(format!("finding_jump_{w}x{h}"), screen(&a, w, h));
        a.update(code(KeyCode::Esc));
        let back = screen(&a, w, h);
        assert!(
            !back.contains("cross_user_port (2"),
            "Esc drops the finding's filter"
        );
    }
}

#[test]
fn paused_header_and_expanded_detail() {
    for (w, h) in SIZES {
        let mut a = live(w, h);
        let effects = a.update(key(' '));
        assert!(matches!(effects.as_slice(), [Effect::SetPaused(true)]));
        // Select the full queue (9000), and open its detail over the whole body.
        a.update(key('/'));
        typed(&mut a, "port:9000");
        a.update(code(KeyCode::Enter));
        a.update(code(KeyCode::Enter));
        insta::assert_snapshot!(format!("paused_detail_{w}x{h}"), screen(&a, w, h));
    }
}

#[test]
fn before_the_first_snapshot_and_after_a_failure() {
    let mut a = app();
    a.update(Msg::Resize {
        width: 80,
        height: 24,
    });
    insta::assert_snapshot!("waiting_80x24", screen(&a, 80, 24));
    a.update(Msg::Snapshot {
        snap: Box::new(fixture()),
        at_ms: 0,
    });
    a.update(Msg::CollectFailed(
        "netlink: permission denied\x1b[2J".into(),
    ));
    let s = screen(&a, 80, 24);
    assert!(
        s.contains(
            "collecting failed, showing the last snapshot: netlink: permission denied\\x1b[2J"
        ),
        "{s}"
    );
}

/// Hostile text from a snapshot file never reaches the terminal raw.
#[test]
fn untrusted_strings_are_sanitized_everywhere() {
    let mut snap = fixture();
    let evil = "ev\x1b]0;pwned\x07il\u{202e}txt";
    snap.host.hostname = evil.into();
    for s in &mut snap.sockets {
        s.user = Some(evil.into());
        for h in &mut s.holders {
            h.name = evil.into();
            h.cmdline = vec![evil.to_string()].into();
            h.unit = Some(evil.into());
        }
    }
    for n in &mut snap.netns {
        n.name = Some(evil.into());
        for i in &mut n.interfaces {
            i.name = evil.into();
        }
    }
    let mut a = app();
    a.update(Msg::Resize {
        width: 160,
        height: 48,
    });
    a.update(Msg::Snapshot {
        snap: Box::new(snap),
        at_ms: 0,
    });
    for k in ['1', '2', '3', '4', '5', '6'] {
        a.update(key(k));
        for expanded in [false, true] {
            if expanded {
                a.update(code(KeyCode::Enter));
            }
            let s = screen(&a, 160, 48);
            assert!(!s.contains('\x1b') && !s.contains('\x07') && !s.contains('\u{202e}'));
            if expanded {
                a.update(code(KeyCode::Esc));
            }
        }
    }
    let mut t = Terminal::new(TestBackend::new(160, 48)).expect("terminal");
    t.draw(|f| a.render(f)).expect("draw");
    for cell in t.backend().buffer().content() {
        assert!(
            !cell.symbol().chars().any(char::is_control),
            "{:?}",
            cell.symbol()
        );
    }
}

/// The monochrome theme draws the same text (meaning is not in colour alone).
#[test]
fn monochrome_draws_the_same_text() {
    let mut a = App::new(AppInit {
        keymap: Keymap::default(),
        theme: Theme::monochrome(),
        interval: Duration::from_secs(1),
        export_dir: "/var/tmp/exports".into(),
        replay: None,
        notice: None,
    });
    a.update(Msg::Resize {
        width: 80,
        height: 24,
    });
    for (i, len) in [2, 4, 5].into_iter().enumerate() {
        a.update(Msg::Snapshot {
            snap: Box::new(fixture_with_queue(len)),
            at_ms: i as u64 * 1000,
        });
    }
    assert_eq!(screen(&a, 80, 24), screen(&live(80, 24), 80, 24));
}

include!("../../bench/busy_host.rs");

/// The demo fixture as a busy host of `n` sockets ([`busy_host`]).
pub fn synthetic(n: usize) -> Snapshot {
    busy_host(fixture(), n)
}

/// With connections (`--all`), the Sockets view gains a REMOTE column, and 50,000 rows draw
/// like 14.
#[test]
fn connections_get_a_remote_column() {
    let mut a = app();
    a.update(Msg::Resize {
        width: 160,
        height: 48,
    });
    a.update(Msg::Snapshot {
        snap: Box::new(synthetic(2_000)),
        at_ms: 0,
    });
    a.update(key('G'));
    let s = screen(&a, 160, 48);
    assert!(s.contains("REMOTE"), "{s}");
    assert!(s.contains("established"), "{s}");
    assert!(s.contains("2000/2000"), "{s}");
}

/// The highlights carry their theme styles: overlap markers, cross-user users, a full
/// queue, and a collector failure in the critical style.
#[test]
fn highlights_use_the_theme() {
    let theme = Theme::default();
    let mut a = live(160, 48);
    a.update(Msg::CollectFailed("netlink: EPERM".into()));
    let mut t = Terminal::new(TestBackend::new(160, 48)).expect("terminal");
    t.draw(|f| a.render(f)).expect("draw");
    let buf = t.backend().buffer().clone();
    let line = |y: u16| -> String { (0..160).map(|x| buf[(x, y)].symbol().to_string()).collect() };
    let find = |needle: &str| -> (u16, u16) {
        (0..48)
            .find_map(|y| {
                let l = line(y);
                l.find(needle).map(|byte| {
                    let x = l[..byte].chars().count();
                    (u16::try_from(x).expect("x"), y)
                })
            })
            .unwrap_or_else(|| panic!("{needle} not on screen"))
    };
    let fg = |(x, y): (u16, u16)| buf[(x, y)].style().fg;
    let (_, y) = find("udp   0.0.0.0:5353");
    assert_eq!(line(y).chars().next(), Some('B'));
    assert_eq!(fg((0, y)), theme.overlap_marker.fg, "overlap marker");
    let (_, y) = find("0.0.0.0:9000");
    let (qx, _) = find("5/4");
    assert_eq!(fg((qx, y)), theme.critical.fg, "full queue");
    // The USER cell of dnsmasq's socket: its port is shared with another user's.
    let (ux, _) = find("USER");
    let (_, uy) = find("dnsmasq[22283]");
    assert_eq!(
        fg((ux, uy)),
        theme.cross_user.fg,
        "a port shared by two users"
    );
    let (_, ry) = find("postgres[22430]");
    assert_ne!(fg((ux, ry)), theme.cross_user.fg, "not cross-user");
    let (cx, cy) = find("collecting failed");
    assert_eq!(buf[(cx, cy)].style().fg, theme.critical.fg);
}

/// `R` records each new sample with the view it is seen in, from the one on screen; a
/// refresh that brings the same sample writes nothing; `R` again stops.
#[test]
fn record_from_the_dashboard() {
    use super::app::Effect;
    let mut a = live(160, 48);
    a.update(key('5'));
    a.update(key('R'));
    assert!(screen(&a, 160, 48).contains("record to: /var/tmp/exports/bindscope-"));
    let effects = a.update(code(KeyCode::Enter));
    let Some(Effect::StartRecording(path)) = effects.into_iter().next() else {
        panic!("no start");
    };
    assert_eq!(path.extension().and_then(|e| e.to_str()), Some("jsonl"));
    let sample = |effects: Vec<Effect>| -> Vec<Box<crate::model::Snapshot>> {
        effects
            .into_iter()
            .filter_map(|e| match e {
                Effect::RecordSample(s) => Some(s),
                _ => None,
            })
            .collect()
    };
    let first = sample(a.update(Msg::RecordingStarted {
        path: path.clone(),
        result: Ok(()),
    }));
    assert_eq!(first.len(), 1);
    let view = first[0].dashboard.as_ref().expect("the view");
    assert_eq!(view.tab, crate::model::dashboard::Tab::Findings);
    assert!(screen(&a, 160, 48).contains("● REC 1"));
    let mut next = fixture_with_queue(6);
    next.taken_at = "2026-11-22T07:44:30.000Z".into();
    let got = sample(a.update(Msg::Snapshot {
        snap: Box::new(next.clone()),
        at_ms: 4000,
    }));
    assert_eq!(got.len(), 1);
    let kinds: Vec<_> = got[0]
        .findings
        .iter()
        .map(|f| f.kind.name().to_string())
        .collect();
    assert!(kinds.iter().any(|k| k == "accept_queue_full"), "{kinds:?}");
    // The same sample again (a paused collector's resend): nothing new to write.
    assert!(
        sample(a.update(Msg::Snapshot {
            snap: Box::new(next),
            at_ms: 4000,
        }))
        .is_empty()
    );
    let stop = a.update(key('R'));
    assert!(matches!(stop.as_slice(), [Effect::StopRecording]));
    assert!(screen(&a, 160, 48).contains("recording stopped: 2 samples"));
}
