//! The dashboard over files (`bindscope open`): a recording stepped through, the Changes
//! view (diff mode), a file with marks and notes as a colleague sees it, and files of two
//! hosts side by side. Driven through `App::update` like the live tests.

use super::app::{App, AppInit, Msg};
use super::keymap::Keymap;
use super::tests::{INGEST, code, fixture, fixture_with_queue, key, screen, typed};
use super::theme::Theme;
use crate::export::load::Loaded;
use crate::export::timeline::Timeline;
use crate::model::{Mark, SocketId};
use crate::testing::loaded;
use ratatui::crossterm::event::KeyCode;
use std::time::Duration;

fn open(files: Vec<Loaded>, width: u16, height: u16) -> App {
    let mut a = App::new(AppInit {
        keymap: Keymap::default(),
        theme: Theme::default(),
        interval: Duration::from_secs(1),
        export_dir: "/var/tmp/exports".into(),
        replay: Timeline::new(files),
        notice: None,
    });
    a.update(Msg::Resize { width, height });
    a
}

/// A recording of the demo host: the ingest queue 0, 1, 2, 3 at one-second steps, and a
/// listener that appears in the last sample.
fn recording() -> Loaded {
    let frames = [0, 1, 2, 3]
        .into_iter()
        .enumerate()
        .map(|(i, len)| {
            let mut s = fixture_with_queue(len);
            s.taken_at = format!("2026-11-22T07:44:2{i}.000Z").into();
            s.findings.clear();
            if i < 3 {
                // The last sample has one socket more: the first fixture socket, born late.
                s.sockets.remove(0);
            }
            s
        })
        .collect();
    loaded("/srv/incident/rec.jsonl", frames)
}

#[test]
fn a_recording_opens_at_its_end_and_steps() {
    let mut a = open(vec![recording()], 160, 48);
    assert_eq!(a.replay_position(), Some((3, 4)));
    let s = screen(&a, 160, 48);
    assert!(s.contains("[4/4] 2026-11-22 07:44:23.000Z"), "{s}");
    assert!(s.contains("recording rec.jsonl · host vm"), "{s}");
    assert!(s.contains("sample 4/4"), "{s}");
    insta::assert_snapshot!("recording_last_160x48", s);
    // The recorded history makes the growth a finding, as it was live.
    a.update(key('/'));
    typed(&mut a, "finding:growing");
    a.update(code(KeyCode::Enter));
    let f = screen(&a, 160, 48);
    assert!(f.contains("0.0.0.0:9000") && f.contains("1/1"), "{f}");
    a.update(code(KeyCode::Esc));
    a.update(key('['));
    assert_eq!(a.replay_position(), Some((2, 4)));
    a.update(key('{'));
    assert_eq!(a.replay_position(), Some((0, 4)));
    a.update(key('['));
    assert!(screen(&a, 160, 48).contains("at the first sample"));
    a.update(key('}'));
    assert_eq!(a.replay_position(), Some((3, 4)));
    // Files do not refresh.
    assert!(a.update(key(' ')).is_empty());
    assert!(screen(&a, 160, 48).contains("files do not refresh"));
}

#[test]
fn the_changes_view_compares_with_the_first_sample() {
    for (w, h) in [(80, 24), (160, 48)] {
        let mut a = open(vec![recording()], w, h);
        a.update(key('7'));
        let s = screen(&a, w, h);
        assert!(s.contains("appeared"), "{s}");
        insta::assert_snapshot!(format!("changes_{w}x{h}"), s);
    }
    // `b` makes the sample on screen the baseline: nothing changed since.
    let mut a = open(vec![recording()], 160, 48);
    a.update(key('7'));
    a.update(key('b'));
    assert!(screen(&a, 160, 48).contains("no changes since the baseline"));
    // Stepping back from there shows the same change the other way round.
    a.update(key('['));
    assert!(screen(&a, 160, 48).contains("gone"));
}

#[test]
fn a_file_with_marks_shows_them_to_a_colleague() {
    let mut snap = fixture();
    snap.marks = vec![
        Mark {
            socket: SocketId(INGEST.into()),
            note: "queue full since 07:40, paged @alice".into(),
        },
        Mark {
            socket: snap.sockets[0].id.clone(),
            note: String::new(),
        },
    ];
    for (w, h) in [(80, 24), (160, 48)] {
        let mut a = open(vec![loaded("/tmp/marked.json", vec![snap.clone()])], w, h);
        let s = screen(&a, w, h);
        if w == 160 {
            assert!(s.contains("* 2 marked (filter mark:any)"), "{s}");
        }
        // The filter lists them; the detail shows the note.
        a.update(key('/'));
        typed(&mut a, "mark:any");
        a.update(code(KeyCode::Enter));
        insta::assert_snapshot!(format!("marks_listed_{w}x{h}"), screen(&a, w, h));
    }
    let mut a = open(vec![loaded("/tmp/marked.json", vec![snap])], 160, 48);
    a.update(key('/'));
    typed(&mut a, "mark:paged");
    a.update(code(KeyCode::Enter));
    let s = screen(&a, 160, 48);
    assert!(s.contains("queue full since 07:40, paged @alice"), "{s}");
    assert!(s.contains("1/1"), "one socket has that note: {s}");
}

#[test]
fn two_hosts_side_by_side() {
    let mut web = fixture();
    web.host.hostname = "web1".into();
    let mut db = fixture();
    db.host.hostname = "db1".into();
    db.sockets.truncate(3);
    let mut a = open(
        vec![
            loaded("/tmp/web1.json", vec![web]),
            loaded("/tmp/db1.json", vec![db]),
        ],
        160,
        48,
    );
    let s = screen(&a, 160, 48);
    assert!(s.contains("HOST:NETNS"), "{s}");
    assert!(s.contains("2 files · 2 hosts"), "{s}");
    insta::assert_snapshot!("two_hosts_160x48", s);
    a.update(key('/'));
    typed(&mut a, "host:db1");
    a.update(code(KeyCode::Enter));
    assert!(
        screen(&a, 160, 48).contains("1/3"),
        "{}",
        screen(&a, 160, 48)
    );
}
