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

/// The export (`e`) carries the view: opened again, the file shows the same view, filter,
/// sort, row and marks, as a colleague would see it. Read back through the file format.
#[test]
fn an_export_hands_over_the_view() {
    use super::app::Effect;
    let mut a = open(vec![recording()], 160, 48);
    // A mark and its note, made in the Sockets view, travel too.
    a.update(key('m'));
    a.update(key('n'));
    typed(&mut a, "looked at this");
    a.update(code(KeyCode::Enter));
    a.update(key('2'));
    a.update(key('/'));
    typed(&mut a, "proto:tcp");
    a.update(code(KeyCode::Enter));
    a.update(key('S'));
    a.update(key('j'));
    a.update(code(KeyCode::Enter));
    let want = screen(&a, 160, 48);
    a.update(key('e'));
    let effects = a.update(code(KeyCode::Enter));
    let Some(Effect::Export(_, snap)) = effects.into_iter().next() else {
        panic!("no export");
    };
    let mut bytes = Vec::new();
    crate::export::write(&mut bytes, &snap, crate::export::Format::Json, true).expect("json");
    let text = String::from_utf8(bytes.clone()).expect("utf-8");
    assert!(text.contains(r#""tab": "ports""#), "{text}");
    let file = crate::export::load::load_bytes(
        std::path::Path::new("x.json"),
        &bytes,
        &crate::export::load::Limits::default(),
    )
    .expect("loads");
    assert_eq!(file.frames[0].marks.len(), 1);
    let b = open(vec![file], 160, 48);
    let got = screen(&b, 160, 48);
    // The same screen but for the banner's file name and the sample count.
    let body = |s: &str| s.lines().skip(3).collect::<Vec<_>>().join("\n");
    assert_eq!(body(&got), body(&want), "{got}");
    assert!(got.contains("proto:tcp"), "{got}");
}

/// A stream's samples: the screen follows the newest; one who steps back stays there
/// while the time line grows; `}` follows again; the end stays on the time line row.
#[test]
fn a_stream_is_followed_and_its_end_shown() {
    use crate::export::feed::FeedEvent;
    use crate::export::timeline::Live;
    let mut rec = recording();
    let later: Vec<_> = rec.frames.split_off(2);
    let mut files = vec![rec];
    files[0].path = "standard input".into();
    let mut a = open(files, 160, 48);
    // As `open -` does: the source is a stream.
    a.set_live_for_test(0, Live::Following);
    assert_eq!(a.replay_position(), Some((1, 2)));
    let frame = |s: &crate::model::Snapshot| FeedEvent::Frame {
        source: 0,
        snap: Box::new(s.clone()),
        bytes: 100,
    };
    a.update(Msg::Feed(vec![frame(&later[0])]));
    assert_eq!(a.replay_position(), Some((2, 3)));
    assert!(screen(&a, 160, 48).contains("following"));
    a.update(key('['));
    a.update(Msg::Feed(vec![frame(&later[1])]));
    assert_eq!(a.replay_position(), Some((1, 4)), "stepped back: stays");
    a.update(key('}'));
    assert_eq!(a.replay_position(), Some((3, 4)));
    // Pause has nothing to pause: the keys that hold and follow are named.
    a.update(key(' '));
    assert!(screen(&a, 160, 48).contains("[ steps back and holds the view there, } follows"));
    a.update(Msg::Feed(vec![FeedEvent::Ended {
        source: 0,
        reason: "end of input".into(),
    }]));
    let s = screen(&a, 160, 48);
    assert!(s.contains("STREAM ENDED: end of input"), "{s}");
    assert!(
        s.contains("standard input: end of input; its last sample stays"),
        "{s}"
    );
    // The growth the streamed samples show is judged as live.
    assert_eq!(a.replay_position(), Some((3, 4)));
}

/// A stream of samples each recorded with its view (`R`): the reader follows the author's
/// view from sample to sample until they change theirs; then theirs stays, said once.
#[test]
fn a_recorded_view_is_followed_until_the_reader_changes_it() {
    use crate::export::feed::FeedEvent;
    use crate::model::dashboard::{DashboardState, Tab};
    let with_view = |i: usize, tab: Tab| {
        let mut s = fixture_with_queue(1);
        s.taken_at = format!("2026-11-22T07:45:0{i}.000Z").into();
        s.dashboard = Some(DashboardState {
            tab,
            ..DashboardState::default()
        });
        s
    };
    let mut a = open(vec![loaded("-", vec![with_view(0, Tab::Ports)])], 160, 48);
    a.set_live_for_test(0, crate::export::timeline::Live::Following);
    assert!(
        screen(&a, 160, 48).contains("BINDS"),
        "opens in the author's view"
    );
    let feed = |s| {
        Msg::Feed(vec![FeedEvent::Frame {
            source: 0,
            snap: Box::new(s),
            bytes: 10,
        }])
    };
    a.update(feed(with_view(1, Tab::Host)));
    assert!(
        screen(&a, 160, 48).contains("IFACES"),
        "the author's next view"
    );
    // Stepping back shows that sample's view: the files' doing.
    a.update(key('['));
    assert!(screen(&a, 160, 48).contains("BINDS"));
    a.update(key('}'));
    // The reader picks a view: the author's next one is not taken.
    a.update(key('3'));
    a.update(feed(with_view(2, Tab::Findings)));
    let s = screen(&a, 160, 48);
    assert!(s.contains("you changed yours, so yours stays"), "{s}");
    a.update(key('j'));
    a.update(feed(with_view(3, Tab::Ports)));
    assert!(!screen(&a, 160, 48).contains("BINDS"));
}

/// Recording (`R`) two hosts' streams: each host's samples are written as they came, with
/// the marks made on the merged screen under the sockets' own ids.
#[test]
fn recording_streams_of_two_hosts_keeps_their_marks() {
    use super::app::Effect;
    use crate::export::feed::FeedEvent;
    let host = |name: &str, at: &str| {
        let mut s = fixture();
        s.host.hostname = name.into();
        s.taken_at = at.into();
        s
    };
    let mut a = open(
        vec![
            loaded("web1", vec![host("web1", "2026-11-22T07:45:00Z")]),
            loaded("db1", vec![host("db1", "2026-11-22T07:45:00.500Z")]),
        ],
        160,
        48,
    );
    a.set_live_for_test(0, crate::export::timeline::Live::Following);
    a.update(key('/'));
    typed(&mut a, "host:db1");
    a.update(code(KeyCode::Enter));
    a.update(key('m'));
    a.update(key('R'));
    let start = a.update(code(KeyCode::Enter));
    let Some(Effect::StartRecording(path)) = start.into_iter().next() else {
        panic!("no start");
    };
    a.update(Msg::RecordingStarted {
        path,
        result: Ok(()),
    });
    let effects = a.update(Msg::Feed(vec![FeedEvent::Frame {
        source: 1,
        snap: Box::new(host("db1", "2026-11-22T07:45:01Z")),
        bytes: 10,
    }]));
    let written: Vec<_> = effects
        .into_iter()
        .filter_map(|e| match e {
            Effect::RecordSample(s) => Some(s),
            _ => None,
        })
        .collect();
    assert_eq!(written.len(), 1);
    assert_eq!(written[0].host.hostname, "db1");
    assert_eq!(written[0].marks.len(), 1, "{:?}", written[0].marks);
    assert!(!written[0].marks[0].socket.0.contains('/'));
}
