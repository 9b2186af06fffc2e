//! The update function, message by message: selection, sort, pause, interval, export,
//! mouse, filter and the finding jump.

use super::keys::{INTERVALS, step_interval};
use super::{App, Effect, Mode, Msg};
use crate::model::FindingKind;
use crate::model::{Snapshot, SocketId};
use crate::ui::tests::{INGEST, app, code, fixture, fixture_with_queue, key, live, screen, typed};
use crate::ui::views::ViewId;
use ratatui::crossterm::event::{KeyCode, KeyModifiers, MouseButton, MouseEvent, MouseEventKind};
use std::path::PathBuf;
use std::time::Duration;

fn selected_id(a: &App) -> Option<String> {
    let i = a.current().selected_index()?;
    a.snapshot
        .as_deref()?
        .sockets
        .get(i)
        .map(|s| s.id.0.clone())
}

fn click(column: u16, row: u16) -> Msg {
    Msg::Mouse(MouseEvent {
        kind: MouseEventKind::Down(MouseButton::Left),
        column,
        row,
        modifiers: KeyModifiers::NONE,
    })
}

fn wheel(down: bool, column: u16, row: u16) -> Msg {
    Msg::Mouse(MouseEvent {
        kind: if down {
            MouseEventKind::ScrollDown
        } else {
            MouseEventKind::ScrollUp
        },
        column,
        row,
        modifiers: KeyModifiers::NONE,
    })
}

#[test]
fn selection_stays_within_the_rows() {
    let mut a = live(80, 24);
    assert_eq!(a.current().selected, 0);
    a.update(key('k'));
    assert_eq!(a.current().selected, 0, "up at the top stays");
    a.update(key('G'));
    assert_eq!(a.current().selected, 13);
    a.update(key('j'));
    a.update(code(KeyCode::PageDown));
    assert_eq!(a.current().selected, 13, "down at the bottom stays");
    a.update(code(KeyCode::PageUp));
    // A page is the table body: 11 rows at 80x24.
    assert_eq!(a.current().selected, 2);
    a.update(key('g'));
    assert_eq!(a.current().selected, 0);
    // Scrolled so the selection is visible.
    a.update(key('G'));
    let page = a.page();
    assert_eq!(a.current().offset, 14 - page);
}

#[test]
fn a_new_snapshot_keeps_the_selected_socket() {
    let mut a = live(80, 24);
    a.update(key('/'));
    typed(&mut a, "port:9000");
    a.update(code(KeyCode::Enter));
    assert_eq!(selected_id(&a).as_deref(), Some(INGEST));
    a.update(code(KeyCode::Esc));
    assert!(a.filter.parsed.is_empty(), "esc clears the filter");
    assert_eq!(
        selected_id(&a).as_deref(),
        Some(INGEST),
        "and the selection stays on the socket"
    );
    // A snapshot where the socket moved in order: a new one sorts before it.
    let mut snap = fixture();
    let mut extra = snap.sockets[0].clone();
    extra.id = SocketId("new".into());
    extra.local_port = 1;
    snap.sockets.push(extra);
    a.update(Msg::Snapshot {
        snap: Box::new(snap),
        at_ms: 5000,
    });
    assert_eq!(selected_id(&a).as_deref(), Some(INGEST));
}

#[test]
fn sort_cycles_columns_and_reverses() {
    let mut a = live(80, 24);
    let first = a.current().sort;
    a.update(key('s'));
    assert_eq!(a.current().sort.col, first.col + 1);
    assert!(!a.current().sort.desc);
    a.update(key('S'));
    assert!(a.current().sort.desc);
    for _ in 0..20 {
        a.update(key('s'));
    }
    assert!(a.current().sort.col < 10, "wraps around the columns");
    // Sort by queue, fullest first: the full ingest queue leads.
    a.update(code(KeyCode::Esc));
    let queue = crate::ui::views::sockets::QUEUE;
    a.set_sort(queue, true);
    a.update(key('g'));
    assert_eq!(selected_id(&a).as_deref(), Some(INGEST));
}

#[test]
fn the_container_column_sorts_and_is_skipped_when_hidden() {
    use crate::ui::views::sockets::{CONTAINER, HOLDERS, OPTIONS};
    // The demo has no containers: `s` from HOLDERS goes past the hidden column.
    let mut a = live(160, 48);
    a.set_sort(HOLDERS, false);
    a.update(key('s'));
    assert_eq!(a.current().sort.col, OPTIONS);
    // On a container host it is a column like the others: by label, none last.
    let mut a = app();
    a.update(Msg::Resize {
        width: 160,
        height: 48,
    });
    a.update(Msg::Snapshot {
        snap: Box::new(crate::testing::container_host()),
        at_ms: 0,
    });
    a.set_sort(HOLDERS, false);
    a.update(key('s'));
    assert_eq!(a.current().sort.col, CONTAINER);
    let order: Vec<String> = (0..6)
        .map(|k| {
            a.update(key(if k == 0 { 'g' } else { 'j' }));
            selected_id(&a).unwrap_or_default()
        })
        .collect();
    // podman:686f…, side, web (8080, then 8081 whose namespace web owns), then none.
    assert_eq!(
        order[..4],
        ["1-4694", "2-2382", "2-1f90", "2-1f91"],
        "{order:?}"
    );
    assert!(order[4..].contains(&"1-16".to_string()) && order[4..].contains(&"3-1b58".to_string()));
}

#[test]
fn pause_keeps_snapshots_pending_until_resume() {
    let mut a = live(80, 24);
    assert!(matches!(
        a.update(key(' ')).as_slice(),
        [Effect::SetPaused(true)]
    ));
    assert!(a.paused());
    let mut changed = fixture_with_queue(1);
    changed.taken_at = "2026-11-22T08:00:00Z".into();
    a.update(Msg::Snapshot {
        snap: Box::new(changed),
        at_ms: 9000,
    });
    assert!(a.pending.is_some());
    let shown = a.snapshot.as_deref().map(|s| s.taken_at.to_string());
    assert_eq!(shown.as_deref(), Some("2026-11-22T07:44:23Z"), "frozen");
    assert!(matches!(
        a.update(key(' ')).as_slice(),
        [Effect::SetPaused(false)]
    ));
    assert!(a.pending.is_none());
    let shown = a.snapshot.as_deref().map(|s| s.taken_at.to_string());
    assert_eq!(
        shown.as_deref(),
        Some("2026-11-22T08:00:00Z"),
        "applied on resume"
    );
}

#[test]
fn interval_steps() {
    assert_eq!(
        step_interval(Duration::from_secs(1), -1),
        Some(INTERVALS[1])
    );
    assert_eq!(step_interval(Duration::from_secs(1), 1), Some(INTERVALS[3]));
    assert_eq!(step_interval(Duration::from_millis(250), -1), None);
    assert_eq!(step_interval(Duration::from_secs(10), 1), None);
    assert_eq!(
        step_interval(Duration::from_secs(3), -1),
        Some(Duration::from_secs(2)),
        "between steps: the nearest one that way"
    );
    let mut a = live(80, 24);
    let effects = a.update(key('+'));
    assert!(
        matches!(effects.as_slice(), [Effect::SetInterval(d)] if *d == Duration::from_millis(500))
    );
    a.update(key('+'));
    assert!(a.update(key('+')).is_empty(), "already the fastest");
    assert_eq!(a.interval(), Duration::from_millis(250));
    for _ in 0..10 {
        a.update(key('-'));
    }
    assert_eq!(a.interval(), Duration::from_secs(10));
    // `r` restarts the interval: the runtime collects at once.
    assert!(matches!(
        a.update(key('r')).as_slice(),
        [Effect::SetInterval(d)] if *d == Duration::from_secs(10)
    ));
}

#[test]
fn export_names_the_file_from_the_snapshot_and_fills_findings() {
    let mut a = app();
    assert!(a.update(key('e')).is_empty(), "nothing to export yet");
    let mut a = live(80, 24);
    a.update(key('m'));
    // `e` offers the file name; Enter writes it.
    assert!(a.update(key('e')).is_empty());
    assert!(matches!(a.mode, Mode::Export(_)));
    let effects = a.update(code(KeyCode::Enter));
    let [Effect::Export(path, snap)] = effects.as_slice() else {
        panic!("{effects:?}");
    };
    assert_eq!(
        path,
        &PathBuf::from("/var/tmp/exports/bindscope-vm-20261122T074423Z.json")
    );
    assert_eq!(snap.findings.len(), a.data.findings.len());
    assert!(!snap.findings.is_empty());
    assert_eq!(snap.marks.len(), 1, "the mark travels with the file");
    a.update(Msg::Exported {
        path: path.clone(),
        result: Err("disk full".into()),
    });
    assert!(
        a.status
            .as_ref()
            .is_some_and(|s| s.text.contains("disk full"))
    );
}

#[test]
fn mouse_selects_rows_switches_tabs_sorts_and_scrolls() {
    let mut a = live(80, 24);
    // Rows start under the column titles at y=3: the fourth row is at y=7.
    a.update(click(10, 7));
    assert_eq!(a.current().selected, 3);
    a.update(wheel(true, 10, 7));
    assert_eq!(a.current().selected, 6);
    a.update(wheel(false, 10, 7));
    assert_eq!(a.current().selected, 3);
    // The wheel over the detail scrolls it.
    a.update(wheel(true, 10, 20));
    assert_eq!(a.detail_scroll, 3);
    // A click on the STATE title sorts by it; again reverses.
    let state = crate::ui::views::sockets::STATE;
    a.update(click(31, 3));
    assert_eq!(
        (a.current().sort.col, a.current().sort.desc),
        (state, false)
    );
    a.update(click(31, 3));
    assert!(a.current().sort.desc);
    // The tabs: " 1 Sockets  2 Ports ..." — "Ports" is near x=14.
    a.update(click(14, 2));
    assert_eq!(a.view, ViewId::Ports);
    // Without a known size, clicks are ignored rather than guessed.
    let mut b = app();
    b.update(Msg::Snapshot {
        snap: Box::new(fixture()),
        at_ms: 0,
    });
    b.update(click(14, 2));
    assert_eq!(b.view, ViewId::Sockets);
}

#[test]
fn filter_prompt_keeps_errors_and_esc_restores() {
    let mut a = live(80, 24);
    a.update(key('/'));
    typed(&mut a, "proto:udp");
    assert_eq!(a.mask.iter().filter(|&&m| m).count(), 2, "live preview");
    typed(&mut a, " !");
    assert!(matches!(&a.mode, Mode::Filter(p) if p.error.is_some()));
    assert_eq!(
        a.mask.iter().filter(|&&m| m).count(),
        2,
        "the last good preview stays"
    );
    a.update(code(KeyCode::Enter));
    assert!(
        matches!(a.mode, Mode::Filter(_)),
        "enter on an error keeps the prompt"
    );
    a.update(code(KeyCode::Esc));
    assert_eq!(a.mode, Mode::Normal);
    assert!(a.filter.parsed.is_empty(), "esc restores the filter before");
    assert_eq!(a.current().rows.len(), 14);
}

#[test]
fn finding_jump_filters_sockets_and_esc_restores_the_typed_filter() {
    let mut a = live(80, 24);
    a.update(key('/'));
    typed(&mut a, "port:5353 user:1001");
    a.update(code(KeyCode::Enter));
    assert_eq!(a.current().rows.len(), 1, "dnsmasq's socket");
    a.update(key('5'));
    // The findings about that socket, worst first: shared_uid leads (a notice: in
    // bsdemo-web uid 1001 runs dnsmasq beside api-server, whose 8080 has SO_REUSEPORT).
    a.update(code(KeyCode::Enter));
    assert_eq!(a.view, ViewId::Sockets);
    // The three sockets of uid 1001's programs there, though the typed filter said 5353.
    assert_eq!(a.current().rows.len(), 3);
    a.update(code(KeyCode::Esc));
    assert_eq!(a.filter.text, "port:5353 user:1001");
    assert_eq!(a.current().rows.len(), 1);
}

#[test]
fn whatif_errors_stay_in_the_prompt() {
    let mut a = live(80, 24);
    a.update(key('w'));
    a.update(Msg::Key(ratatui::crossterm::event::KeyEvent::new(
        KeyCode::Char('u'),
        KeyModifiers::CONTROL,
    )));
    typed(&mut a, "tcp nowhere");
    a.update(code(KeyCode::Enter));
    assert!(
        matches!(&a.mode, Mode::WhatIf(p) if p.error.as_deref().is_some_and(|e| e.contains("ADDRESS:PORT")))
    );
    a.update(code(KeyCode::Esc));
    assert_eq!(a.mode, Mode::Normal);
    assert!(a.whatif.is_none());
}

#[test]
fn help_scrolls_and_closes() {
    let mut a = live(80, 24);
    a.update(key('?'));
    assert_eq!(a.mode, Mode::Help);
    a.update(key('j'));
    a.update(code(KeyCode::PageDown));
    assert!(a.help_scroll > 1);
    a.update(key('G'));
    let bottom = a.help_scroll;
    a.update(key('j'));
    assert_eq!(a.help_scroll, bottom, "clamped at the end");
    a.update(code(KeyCode::Esc));
    assert_eq!(a.mode, Mode::Normal);
    assert!(matches!(a.update(key('q')).as_slice(), [Effect::Quit]));
}

#[test]
fn key_releases_are_ignored() {
    let mut a = live(80, 24);
    let mut k = ratatui::crossterm::event::KeyEvent::new(KeyCode::Char('q'), KeyModifiers::NONE);
    k.kind = ratatui::crossterm::event::KeyEventKind::Release;
    assert!(a.update(Msg::Key(k)).is_empty());
}

#[test]
fn prepared_data_from_the_collector_thread_is_used_and_kept_when_unchanged() {
    use crate::analyze::history::History;
    use crate::ui::views::data::Data;
    let mut a = app();
    a.update(Msg::Resize {
        width: 160,
        height: 48,
    });
    let snap = fixture();
    let mut history = History::default();
    history.record(&snap, 0);
    let mut data = Data::new(&snap, &history);
    let findings = data.findings.len();
    assert!(findings > 0, "the fixture has findings");
    // A mark only the collector thread's data carries: the app's own analysis would not
    // write it, so seeing it proves the prepared data is what the app shows.
    data.findings[0].summary = "made on the collector thread".into();
    let marked = |a: &App| a.data.findings[0].summary == "made on the collector thread";
    let fp = super::fingerprint::of(&snap);
    a.update(Msg::Prepared {
        snap: Box::new(snap.clone()),
        at_ms: 0,
        fingerprint: fp,
        data: Some(Box::new(data)),
    });
    assert_eq!(a.data.findings.len(), findings);
    assert!(marked(&a), "the prepared data is installed");
    // Nothing changed: the collector thread sends no data and the app keeps what it has.
    a.update(Msg::Prepared {
        snap: Box::new(snap),
        at_ms: 1000,
        fingerprint: fp,
        data: None,
    });
    assert_eq!(a.data.findings.len(), findings);
    assert!(marked(&a), "the data is kept, not made again");
    assert!(a.snapshot.is_some());
}

/// The demo host taken in once: its history is at rest, so a refresh that finds the same
/// data is a quiet one.
fn at_rest() -> App {
    let mut a = app();
    a.update(Msg::Resize {
        width: 80,
        height: 24,
    });
    a.update(refresh(fixture(), 0));
    a
}

fn refresh(snap: Snapshot, at_ms: u64) -> Msg {
    Msg::Snapshot {
        snap: Box::new(snap),
        at_ms,
    }
}

/// `snap` taken `secs` later: only volatile fields moved (time, scan, races met).
fn later(mut snap: Snapshot, secs: u64) -> Snapshot {
    snap.taken_at = format!("2026-11-22T07:45:{:02}Z", secs % 60).into();
    snap.scan.duration_ms += secs;
    snap.warnings = vec![format!("pid {secs} exited during the scan")];
    snap
}

/// Marks the data in hand, so a test can tell whether a refresh kept it or made it again.
fn tag_data(a: &mut App) {
    tag_data_of(&mut a.data);
}

fn tag_data_of(data: &mut crate::ui::views::data::Data) {
    data.counts.info += 1000;
}

fn data_kept(a: &App) -> bool {
    a.data.counts.info >= 1000
}

/// The kinds of the findings on one socket.
fn kinds_on(a: &App, id: &str) -> Vec<FindingKind> {
    a.data
        .findings
        .iter()
        .filter(|f| f.sockets.iter().any(|s| s.0 == id))
        .map(|f| f.kind.clone())
        .collect()
}

#[test]
fn findings_follow_a_sysctl_that_alone_changed() {
    // In bsdemo-web: tcp 0.0.0.0:7000 bound with SO_REUSEADDR but not listening, and udp
    // 0.0.0.0:5353 with SO_REUSEADDR. Both are findings because any user may bind their
    // ports: they are at or above net.ipv4.ip_unprivileged_port_start (1024).
    const RACE: &str = "4026532245-8738e";
    const MDNS: &str = "4026532245-87384";
    let web = 1;
    let mut a = at_rest();
    assert!(kinds_on(&a, RACE).contains(&FindingKind::ListenRace));
    assert!(kinds_on(&a, MDNS).contains(&FindingKind::UdpReuseaddrTakeover));
    tag_data(&mut a);
    a.update(refresh(later(fixture(), 1), 1000));
    assert!(data_kept(&a), "a quiet refresh keeps the data in hand");
    // Only the sysctl changes: ports below 8000 now need CAP_NET_BIND_SERVICE.
    let mut raised = later(fixture(), 2);
    raised.netns[web].sysctls.ip_unprivileged_port_start = Some(8000);
    a.update(refresh(raised.clone(), 2000));
    assert!(!data_kept(&a), "a sysctl is data the findings read");
    assert!(!kinds_on(&a, RACE).contains(&FindingKind::ListenRace));
    assert!(!kinds_on(&a, MDNS).contains(&FindingKind::UdpReuseaddrTakeover));
    let shown = a.snapshot.as_deref().map(|s| &s.findings);
    assert_eq!(shown, Some(&a.data.findings), "and what an export carries");
    // Quiet again at the new value; then back to 1024, and the findings come back.
    tag_data(&mut a);
    a.update(refresh(later(raised, 3), 3000));
    assert!(data_kept(&a));
    a.update(refresh(later(fixture(), 4), 4000));
    assert!(kinds_on(&a, RACE).contains(&FindingKind::ListenRace));
    assert!(kinds_on(&a, MDNS).contains(&FindingKind::UdpReuseaddrTakeover));
}

#[test]
fn marks_and_notes_go_with_the_export_whichever_way_a_refresh_came() {
    use crate::model::Mark;
    let mut a = at_rest();
    a.update(key('m'));
    a.update(key('n'));
    typed(&mut a, "ask ops");
    a.update(code(KeyCode::Enter));
    let id = SocketId(selected_id(&a).expect("a selected socket"));
    let marks = vec![Mark {
        socket: id,
        note: "ask ops".into(),
    }];
    let exported = |a: &mut App| {
        a.update(key('e'));
        match a.update(code(KeyCode::Enter)).as_slice() {
            [Effect::Export(_, snap)] => snap.marks.clone(),
            other => panic!("{other:?}"),
        }
    };
    assert_eq!(exported(&mut a), marks);
    // A quiet refresh made here.
    tag_data(&mut a);
    a.update(refresh(later(fixture(), 1), 1000));
    assert!(data_kept(&a), "the quiet path ran");
    assert_eq!(exported(&mut a), marks);
    assert!(screen(&a, 160, 48).contains("* 1 marked"));
    // A quiet refresh judged on the collector thread: no data comes with it.
    let snap = later(fixture(), 2);
    a.update(Msg::Prepared {
        fingerprint: super::fingerprint::of(&snap),
        snap: Box::new(snap),
        at_ms: 2000,
        data: None,
    });
    assert!(data_kept(&a), "the quiet path ran");
    assert_eq!(exported(&mut a), marks);
    // A refresh where something changed.
    a.update(refresh(fixture_with_queue(1), 3000));
    assert!(!data_kept(&a));
    assert_eq!(exported(&mut a), marks);
}

#[test]
fn the_host_view_sorted_by_processes_follows_a_quiet_refresh() {
    let mut a = at_rest();
    a.update(key('6'));
    assert_eq!(a.view, ViewId::Host);
    a.set_sort(crate::ui::views::host::PROCS, true);
    let first = |a: &App| a.current().rows.first().copied();
    assert_eq!(first(&a), Some(1), "bsdemo-web: 14 processes to 3");
    // Process counts are volatile: no finding reads them, the data is kept; but this
    // view's order does read them.
    let mut busier = later(fixture(), 1);
    busier.netns[0].processes = 40;
    tag_data(&mut a);
    a.update(refresh(busier, 1000));
    assert!(data_kept(&a));
    assert_eq!(first(&a), Some(0), "bsdemo-db now has 40");
}

#[test]
fn data_the_collector_thread_made_while_paused_is_used_on_resume() {
    use crate::analyze::history::History;
    use crate::ui::views::data::Data;
    let mut a = at_rest();
    a.update(key(' '));
    assert!(a.paused());
    // The thread made data for a changed snapshot (tagged, to know it again), then judged
    // the next one the same and sent none; only the newest snapshot is kept.
    let snap = fixture_with_queue(1);
    let mut history = History::default();
    history.record(&snap, 1000);
    let mut data = Data::new(&snap, &history);
    tag_data_of(&mut data);
    let fingerprint = super::fingerprint::of(&snap);
    a.update(Msg::Prepared {
        snap: Box::new(snap.clone()),
        at_ms: 1000,
        fingerprint,
        data: Some(Box::new(data)),
    });
    a.update(Msg::Prepared {
        snap: Box::new(later(snap, 2)),
        at_ms: 2000,
        fingerprint,
        data: None,
    });
    assert!(!data_kept(&a), "paused: nothing applied");
    a.update(key(' '));
    assert!(data_kept(&a), "the thread's data");
    let shown = a.snapshot.as_deref().map(|s| s.taken_at.to_string());
    assert_eq!(shown.as_deref(), Some("2026-11-22T07:45:02Z"), "the newest");
}

/// The `/` prompt speaks `query`'s language and nothing else: what the parser refuses, Enter
/// refuses with the parser's own error (shown on the note row); what it accepts is applied,
/// and the rows kept are the sockets `query` keeps.
#[test]
fn the_prompt_refuses_what_the_query_parser_refuses() {
    use crate::query::{self, FilterContext};
    for input in [
        "port:8080 colour:red",
        "port:80-9x",
        "proto:sctp",
        "user:\"www data",
        "port:80 !",
        "addr:[]",
        "proto:udp",
        "!user:root port:1-60000",
        "finding:any",
        "\"nginx -g\"",
    ] {
        let mut a = live(200, 24);
        a.update(key('/'));
        typed(&mut a, input);
        a.update(code(KeyCode::Enter));
        match query::parse(input) {
            Err(e) => {
                assert!(
                    matches!(&a.mode, Mode::Filter(p) if p.error.as_ref() == Some(&e)),
                    "{input}"
                );
                assert!(screen(&a, 200, 24).contains(&e.to_string()), "{input}: {e}");
            }
            Ok(f) => {
                assert_eq!(a.mode, Mode::Normal, "{input}");
                assert_eq!(a.filter.parsed, f, "{input}");
                let snap = a.snapshot.as_deref().unwrap();
                let cx = FilterContext::new(snap);
                let want = snap.sockets.iter().filter(|s| f.matches(s, &cx)).count();
                assert_eq!(a.current().rows.len(), want, "{input}");
            }
        }
    }
}
