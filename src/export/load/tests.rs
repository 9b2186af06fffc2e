use super::error::bytes_text;
use super::*;
use crate::model::{Holder, Mark, Socket, SocketId};
use crate::testing::{netns, snapshot_of, socket};
use std::sync::Arc;

fn snap() -> Snapshot {
    snapshot_of(vec![socket()], vec![netns(1, Some("n"), None)])
}

fn compact(s: &Snapshot) -> String {
    serde_json::to_string(s).expect("json")
}

fn load(text: &str) -> Result<Loaded, LoadError> {
    load_bytes(Path::new("f.json"), text.as_bytes(), &Limits::default())
}

fn err(text: &str) -> LoadError {
    match load(text) {
        Ok(l) => panic!("loaded {} frames", l.frames.len()),
        Err(e) => e,
    }
}

/// A snapshot's JSON with `field` replaced by `value` (or removed when `None`).
fn with_field(field: &str, value: Option<serde_json::Value>) -> String {
    let mut v = serde_json::to_value(snap()).expect("value");
    let obj = v.as_object_mut().expect("object");
    match value {
        Some(x) => obj.insert(field.into(), x),
        None => obj.remove(field),
    };
    serde_json::to_string(&v).expect("json")
}

#[test]
fn compact_pretty_and_json_lines_are_told_apart() {
    let s = snap();
    let one = load(&compact(&s)).expect("compact");
    assert_eq!(
        (one.kind, one.frames.clone()),
        (FileKind::Snapshot, vec![s.clone()])
    );
    assert!(one.warnings.is_empty(), "{:?}", one.warnings);

    let pretty = serde_json::to_string_pretty(&s).expect("json") + "\n";
    let p = load(&pretty).expect("pretty");
    assert_eq!((p.kind, p.frames), (FileKind::Snapshot, vec![s.clone()]));

    let mut later = s.clone();
    later.taken_at = "2026-11-22T07:00:01Z".into();
    let lines = format!(
        "{}\n{}\n{}\n",
        compact(&s),
        compact(&later),
        compact(&later)
    );
    let r = load(&lines).expect("recording");
    assert_eq!(r.kind, FileKind::Recording);
    assert_eq!(r.frames, vec![s, later.clone(), later]);
    assert!(r.warnings.is_empty(), "{:?}", r.warnings);
}

#[test]
fn empty_and_blank_files_are_empty() {
    for text in ["", " \n\t\r\n"] {
        let e = err(text);
        assert!(matches!(e, LoadError::Empty { .. }), "{e:?}");
        assert_eq!(e.to_string(), "'f.json' is empty: it holds no snapshot");
    }
}

#[test]
fn broken_json_says_line_and_column() {
    let pretty = serde_json::to_string_pretty(&snap()).expect("json");
    // Line 3 is `"version": 1,`: break it.
    let broken = pretty.replacen("\"version\": 1,", "\"version\": 1,,", 1);
    let e = err(&broken);
    assert!(
        matches!(
            e,
            LoadError::Syntax {
                at: Location { line: 3, .. },
                ..
            }
        ),
        "{e:?}"
    );
    let msg = e.to_string();
    assert!(
        msg.starts_with("'f.json' is not valid JSON at line 3, column 16: "),
        "{msg}"
    );
    assert!(
        !msg.contains(" at line 3 column"),
        "position said twice: {msg}"
    );

    let e = err("{\"format\": tru");
    assert_eq!(
        e.to_string(),
        "'f.json' is truncated: it ends at line 1, column 14, inside a snapshot: EOF while parsing a value"
    );
    let e = err("{\"format\": \"a\nb\"}");
    assert_eq!(
        e.to_string(),
        "'f.json' is not valid JSON at the end of line 1: control character (\\u0000-\\u001F) found while parsing a string"
    );
    let e = err("@nonsense");
    assert!(
        e.to_string().contains("line 1, column 1: expected value"),
        "{e}"
    );
}

#[test]
fn invalid_utf8_is_located_even_in_unknown_fields() {
    let mut bytes = b"{\n  \"format\": \"bindscope.snapshot\",\n  \"x\": \"ab".to_vec();
    bytes.extend_from_slice(&[0xff, b'"', b'}']);
    let e = load_bytes(Path::new("f.json"), &bytes, &Limits::default()).expect_err("utf8");
    assert_eq!(
        e.to_string(),
        "'f.json' is not valid UTF-8 at line 3, column 11"
    );
    // An escaped lone surrogate cannot become UTF-8 either: serde_json says why.
    let e = err("{\"format\":\"bindscope.snapshot\",\"version\":1,\"taken_at\":\"\\udc00\"}");
    assert_eq!(
        e.to_string(),
        "'f.json' is not valid JSON at line 1, column 61: lone leading surrogate in hex escape"
    );
}

#[test]
fn not_a_snapshot() {
    let e = err("[1, 2]");
    assert_eq!(
        e.to_string(),
        "'f.json' is not a bindscope snapshot file: it is a JSON array, not an object"
    );
    let e = err("{\"version\": 1, \"hello\": \"world\"}");
    assert_eq!(
        e.to_string(),
        "'f.json' is not a bindscope snapshot file: it has no \"format\": \"bindscope.snapshot\""
    );
    let e = err(&with_field("format", Some("other\u{1b}[2J".into())));
    assert_eq!(
        e.to_string(),
        "'f.json' is not a bindscope snapshot file: its \"format\" is 'other\\x1b[2J', not \"bindscope.snapshot\""
    );
    let e = err(&with_field("format", Some(7.into())));
    assert!(e.to_string().ends_with("its \"format\" is 7"), "{e}");
}

#[test]
fn newer_version_wins_over_field_errors() {
    // A version-2 file whose fields changed: the version is the news, not the fields.
    let mut v = serde_json::to_value(snap()).expect("value");
    let obj = v.as_object_mut().expect("object");
    obj.insert("version".into(), 2.into());
    obj.insert("sockets".into(), "moved to sockets_v2".into());
    obj.remove("taken_at");
    let text = serde_json::to_string(&v).expect("json");
    let e = err(&text);
    assert_eq!(
        e.to_string(),
        "'f.json' was written by a newer bindscope (file format version 2, this one reads version 1): update bindscope to open it"
    );
    // Also when `version` comes after the broken field, and when the file is cut short
    // after it.
    let late = r#"{"format":"bindscope.snapshot","sockets":5,"version":2}"#;
    assert!(matches!(
        err(late),
        LoadError::NewerVersion { version: 2, .. }
    ));
    let cut = "{\"format\":\"bindscope.snapshot\",\"version\":9,\"taken_at\":";
    assert!(matches!(
        err(cut),
        LoadError::NewerVersion { version: 9, .. }
    ));
    // A version too large for the model is newer too.
    let huge = with_field("version", Some(u64::MAX.into()));
    assert!(matches!(
        err(&huge),
        LoadError::NewerVersion {
            version: u64::MAX,
            ..
        }
    ));
    // A newer version that happens to parse.
    let parses = with_field("version", Some(3.into()));
    assert!(matches!(
        err(&parses),
        LoadError::NewerVersion { version: 3, .. }
    ));
}

#[test]
fn version_zero_missing_or_not_a_number() {
    let cases = [
        (
            Some(0.into()),
            "'f.json' has no valid version: \"version\" is 0, and versions start at 1",
        ),
        (None, "'f.json' has no valid version: it has no \"version\""),
        (
            Some("1".into()),
            "'f.json' has no valid version: \"version\" is the string '1', not a whole number",
        ),
        (
            Some((-1).into()),
            "'f.json' has no valid version: \"version\" is -1, not a whole number",
        ),
        (
            Some(1.5.into()),
            "'f.json' has no valid version: \"version\" is 1.5, not a whole number",
        ),
    ];
    for (value, msg) in cases {
        assert_eq!(err(&with_field("version", value)).to_string(), msg);
    }
}

#[test]
fn field_errors_carry_serde_json_message_and_position() {
    let e = err(&with_field("taken_at", None));
    assert!(matches!(e, LoadError::Field { .. }), "{e:?}");
    let msg = e.to_string();
    assert!(
        msg.starts_with("'f.json' has an invalid field at line 1, column "),
        "{msg}"
    );
    assert!(msg.ends_with(": missing field `taken_at`"), "{msg}");

    let pretty = serde_json::to_string_pretty(&snap()).expect("json");
    let bad = pretty.replacen("\"local_port\": 8080", "\"local_port\": \"http\"", 1);
    let line = bad
        .lines()
        .position(|l| l.contains("\"http\""))
        .expect("line")
        + 1;
    let e = err(&bad);
    let LoadError::Field { at, message, .. } = &e else {
        panic!("{e:?}")
    };
    assert_eq!(at.line, line);
    assert!(
        message.starts_with("invalid type: string \"http\", expected u16"),
        "{message}"
    );
    // An enum given a number: serde_json calls it a syntax error; it is a type error.
    let bad = pretty.replacen("\"proto\": \"tcp\"", "\"proto\": 6", 1);
    let e = err(&bad);
    assert!(matches!(e, LoadError::Field { .. }), "{e:?}");
    assert!(
        e.to_string()
            .ends_with(": invalid type: expected a string naming one of this field's values"),
        "{e}"
    );
}

#[test]
fn hostile_text_in_messages_is_cleaned_and_short() {
    let long = format!("\u{202e}{}", "x".repeat(10_000));
    let e = err(&with_field("view", Some(long.into())));
    let msg = e.to_string();
    assert!(msg.contains("\\u{202e}"), "{msg}");
    assert!(msg.len() < 600, "{} bytes", msg.len());
    let e = load_bytes(Path::new("evil\x1b[2J.json"), b"", &Limits::default()).expect_err("empty");
    assert_eq!(
        e.to_string(),
        "'evil\\x1b[2J.json' is empty: it holds no snapshot"
    );
}

#[test]
fn a_cut_off_last_line_is_a_warning() {
    let line = compact(&snap());
    let cut = &line[..line.len() / 2];
    let text = format!("{line}\n{line}\n{cut}");
    let l = load(&text).expect("loads");
    assert_eq!((l.kind, l.frames.len()), (FileKind::Recording, 2));
    assert_eq!(
        l.warnings,
        vec!["'f.json', line 3: the last line is incomplete (the recording was cut off): ignored"]
    );
    // Cut inside a multi-byte character: still a cut, not bad UTF-8.
    let mut bytes = format!("{line}\n{{\"format\":\"é").into_bytes();
    bytes.pop();
    let l = load_bytes(Path::new("f.json"), &bytes, &Limits::default()).expect("loads");
    assert_eq!(l.frames.len(), 1);
    assert_eq!(l.warnings.len(), 1);
    // With a newline after it, the line was written whole and is broken: an error.
    let e = err(&format!("{line}\n{line}\n{cut}\n"));
    assert_eq!(
        e.to_string(),
        "'f.json' is truncated: it ends at the end of line 3, inside snapshot 3 of the recording (from line 3): EOF while parsing a list"
    );
    // Only a cut-off line: nothing complete, an error.
    assert!(matches!(err(cut), LoadError::Truncated { .. }));
}

#[test]
fn a_bad_line_inside_a_recording_is_an_error_with_its_number() {
    let line = compact(&snap());
    // A line that does not close its object is noticed on the next: both are said.
    let e = err(&format!("{line}\n{{\"oops\"\n{line}\n"));
    assert_eq!(
        e.to_string(),
        "'f.json' is not valid JSON at line 3, column 1 (in snapshot 2 of the recording, which starts on line 2): expected `:`"
    );
    assert!(
        matches!(
            e,
            LoadError::Syntax {
                at: Location {
                    line: 3,
                    frame: Some(2),
                    frame_line: Some(2),
                    ..
                },
                ..
            }
        ),
        "{e:?}"
    );
    let newer = with_field("version", Some(2.into()));
    let e = err(&format!("{line}\n{line}\n{newer}\n"));
    assert_eq!(
        e.to_string(),
        "'f.json' (snapshot 3 of the recording) was written by a newer bindscope (file format version 2, this one reads version 1): update bindscope to open it"
    );
    let e = err(&format!("{line}\n{}\n", with_field("netns", None)));
    assert!(
        matches!(
            e,
            LoadError::Field {
                at: Location {
                    line: 2,
                    frame: Some(2),
                    frame_line: Some(2),
                    ..
                },
                ..
            }
        ),
        "{e:?}"
    );
}

#[test]
fn limits() {
    let text = compact(&snap());
    let tiny = Limits {
        max_bytes: 1,
        max_frames: 10,
        ..Limits::default()
    };
    let e = load_bytes(Path::new("f.json"), text.as_bytes(), &tiny).expect_err("too large");
    let msg = e.to_string();
    assert!(msg.starts_with("'f.json' is "), "{msg}");
    assert!(
        msg.contains(&format!("({} bytes), over the limit of 1 byte", text.len())),
        "{msg}"
    );
    let two = Limits {
        max_bytes: 1 << 20,
        max_frames: 2,
        ..Limits::default()
    };
    let three = format!("{text}\n{text}\n{text}\n");
    let e = load_bytes(Path::new("f.json"), three.as_bytes(), &two).expect_err("frames");
    assert_eq!(
        e.to_string(),
        "'f.json' holds more than 2 snapshots, the most one file may hold"
    );
    assert!(
        load_bytes(
            Path::new("f.json"),
            three.as_bytes()[..text.len() * 2 + 2].as_ref(),
            &two
        )
        .is_ok()
    );
}

/// [`snap`]'s JSON with the holder's cmdline `["web"]` replaced by `n` copies of `arg`.
fn with_cmdline(n: usize, arg: &str) -> String {
    let text = compact(&snap());
    let args = vec![format!("{arg:?}"); n].join(",");
    let out = text.replacen(r#""cmdline":["web"]"#, &format!(r#""cmdline":[{args}]"#), 1);
    assert_ne!(out, text, "the cmdline is in the JSON as expected");
    out
}

/// The budget error of `text` under `limits`: its place, and the allowance it names.
fn refused(text: &str, limits: &Limits) -> (String, u64, LoadError) {
    match load_bytes(Path::new("f.json"), text.as_bytes(), limits) {
        Err(e @ LoadError::TooManyValues { .. }) => {
            let LoadError::TooManyValues { place, allowed, .. } = &e else {
                unreachable!()
            };
            (place.clone(), *allowed, e)
        }
        Err(e) => panic!("another error: {e}"),
        Ok(l) => panic!("loaded {} frames", l.frames.len()),
    }
}

#[test]
fn a_cmdline_of_tiny_strings_is_refused_where_the_budget_runs_out() {
    // 500,000 `""`: 1.5 MB of JSON for 28 MB of model by the charges, over
    // 2 x 1.5 MB + 16 MiB. The file is refused while still in the cmdline.
    let text = with_cmdline(500_000, "");
    let (place, allowed, e) = refused(&text, &Limits::default());
    assert_eq!(allowed, 2 * text.len() as u64 + (16 << 20));
    let index: usize = place
        .strip_prefix("sockets[0].holders[0].cmdline[")
        .and_then(|rest| rest.strip_suffix(']'))
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("{place}"));
    assert!((300_000..500_000).contains(&index), "{index}");
    let msg = e.to_string();
    let head = format!(
        "'f.json' would take more than {} of memory to load, the most allowed for its size \
         (2 bytes for each byte, plus 16.0 MiB): refused at line 1, column ",
        bytes_text(allowed)
    );
    assert!(msg.starts_with(&head), "{msg}");
    assert!(
        msg.ends_with(&format!(
            ", in {place}; snapshots written by bindscope take less than their size"
        )),
        "{msg}"
    );
    // The column is on the element named (`"",` from byte `start`, columns from 1), or on
    // the comma just before it: the reader stands there or inside the element depending
    // on which of the element's charges (its slot, its text) crosses the budget, which
    // depends on everything charged before, so on the sizes of the model's types.
    let LoadError::TooManyValues { at, .. } = e else {
        unreachable!()
    };
    let start = text.find(r#""cmdline":["#).expect("cmdline") + 11 + 3 * index;
    assert!(
        (start..=start + 3).contains(&at.column),
        "{at}: element {index} at {start}"
    );
}

#[test]
fn other_dense_lists_are_refused_by_name() {
    let tight = Limits {
        memory_floor: 0,
        ..Limits::default()
    };
    let text = with_field("warnings", Some(vec![""; 1000].into()));
    let (place, _, _) = refused(&text, &tight);
    assert!(place.starts_with("warnings["), "{place}");

    // Holders as small as the format allows, in a socket of their own.
    let holder = r#"{"pid":0,"fd":0,"name":"","uid":0,"ruid":0,"cmdline":[]}"#;
    let text = compact(&snap()).replacen(
        r#""holders":["#,
        &format!(r#""holders":[{}"#, format!("{holder},").repeat(20_000)),
        1,
    );
    let (place, _, _) = refused(&text, &tight);
    assert!(place.starts_with("sockets[0].holders["), "{place}");

    // In a recording, the snapshot is named too.
    let line = compact(&snap());
    let text = format!("{line}\n{}\n", with_cmdline(1000, ""));
    let (place, _, e) = refused(&text, &tight);
    assert!(
        place.starts_with("sockets[0].holders[0].cmdline["),
        "{place}"
    );
    assert!(
        e.to_string().contains("line 2, column ") && e.to_string().contains("snapshot 2"),
        "{e}"
    );
}

#[test]
fn sockets_are_parsed_once_and_a_repeated_list_is_refused() {
    let text = compact(&snap());
    let twice = text.replacen(r#""sockets":["#, r#""sockets":[],"sockets":["#, 1);
    let e = err(&twice);
    assert!(e.to_string().contains("duplicate field `sockets`"), "{e}");
    let e = err(&text.replacen(r#""sockets":["#, r#""sockets":7,"x":["#, 1));
    assert!(e.to_string().contains("expected a list of sockets"), "{e}");
}

#[test]
fn real_files_load_in_less_than_their_size() {
    // No floor and 1 byte per byte: files as bindscope writes them fit, with holders
    // sharing their process's strings as each socket is parsed.
    let snug = Limits {
        memory_per_byte: 1,
        memory_floor: 0,
        ..Limits::default()
    };
    let many = |holders: usize, args: usize| {
        let cmdline: Vec<String> = (0..args).map(|i| format!("-Dp{i}=v{i}")).collect();
        let sockets = (0..300)
            .map(|i| {
                let mut s = socket();
                s.id = SocketId(format!("1-{i:x}"));
                let h = s.holders[0].clone();
                s.holders = (0..holders)
                    .map(|pid| Holder {
                        pid: pid as u32,
                        cmdline: cmdline.clone().into(),
                        ..h.clone()
                    })
                    .collect();
                s
            })
            .collect();
        snapshot_of(sockets, vec![netns(1, Some("n"), None)])
    };
    // One holder each; a worker pool of 16 sharing a 40-argument cmdline.
    for s in [many(1, 3), many(16, 40)] {
        let text = compact(&s);
        let l = load_bytes(Path::new("f.json"), text.as_bytes(), &snug).expect("loads");
        assert_eq!(l.frames, vec![s]);
        let three = format!("{text}\n{text}\n{text}\n");
        let l = load_bytes(Path::new("f.json"), three.as_bytes(), &snug).expect("loads");
        assert_eq!(l.frames.len(), 3);
    }
}

#[test]
fn duplicate_socket_ids_are_refused() {
    let s = snapshot_of(vec![socket(), socket()], vec![netns(1, None, None)]);
    let e = err(&compact(&s));
    assert_eq!(
        e.to_string(),
        "'f.json': socket id '1-2a' appears more than once, but ids must be unique in a snapshot"
    );
}

#[test]
fn dangling_references_and_time_order_are_warnings() {
    let mut s = snap();
    s.netns.clear();
    s.marks.push(Mark {
        socket: SocketId("9-9".into()),
        note: "gone".into(),
    });
    let mut earlier = s.clone();
    earlier.taken_at = "2026-11-22T06:59:59.5Z".into();
    let text = format!(
        "{}\n{}\n{}\n",
        compact(&s),
        compact(&earlier),
        compact(&earlier)
    );
    let l = load(&text).expect("loads");
    assert_eq!(l.frames.len(), 3);
    assert_eq!(
        l.warnings,
        vec![
            "'f.json': 3 sockets name a network namespace that is not in the file's namespace list (first: socket '1-2a' names 1, in snapshot 1)",
            "'f.json': 3 holders name a network namespace that is not in the file's namespace list (first: pid 42 holding '1-2a' names 1, in snapshot 1)",
            "'f.json': 3 marks name a socket that is not in the snapshot: they are kept but show nowhere (first: '9-9', in snapshot 1)",
            "'f.json': 1 snapshot are earlier than the snapshot before them: the recording is not in time order (first: taken at '2026-11-22T06:59:59.5Z', after one taken at '2026-11-22T07:00:00Z', in snapshot 2)",
        ]
    );
    let mut odd = snap();
    odd.taken_at = "yesterday".into();
    let l = load(&compact(&odd)).expect("loads");
    assert_eq!(
        l.warnings,
        vec![
            "'f.json': 1 snapshot have a taken_at that is not an RFC 3339 UTC time (first: 'yesterday')"
        ]
    );
}

#[test]
fn holders_share_strings_after_loading() {
    let mut s = snap();
    let mut other = socket();
    other.id = SocketId("1-2b".into());
    s.sockets.push(other);
    let l = load(&compact(&s)).expect("loads");
    let [a, b] = &l.frames[0].sockets[..] else {
        panic!("two sockets")
    };
    assert!(Arc::ptr_eq(&a.holders[0].cmdline, &b.holders[0].cmdline));
    assert!(Arc::ptr_eq(&a.holders[0].name, &b.holders[0].name));
    assert_eq!(l.frames[0], s);
}

#[test]
fn a_container_host_loads_whole_and_shares_each_container() {
    let mut s = crate::testing::container_host();
    // A second socket of web's process: its container is the same value, once in memory.
    let mut again = s.sockets[2].clone();
    again.id = SocketId("2-1f92".into());
    again.local_port = 8082;
    s.sockets.push(again);
    let l = load(&compact(&s)).expect("loads");
    assert_eq!(
        l.frames[0], s,
        "holders' and namespaces' containers round-trip"
    );
    let sockets = &l.frames[0].sockets;
    let web = |i: usize| sockets[i].holders[0].container.as_ref().expect("web");
    assert!(Arc::ptr_eq(web(2), web(6)));
    assert!(!Arc::ptr_eq(web(2), web(3)), "side is another container");
    assert!(l.warnings.is_empty(), "{:?}", l.warnings);
}

#[test]
fn files_are_checked_before_reading() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("s.json");
    let text = compact(&snap()) + "\n";
    std::fs::write(&path, &text).expect("write");
    let l = load_path(&path, &Limits::default()).expect("loads");
    assert_eq!((l.kind, l.frames), (FileKind::Snapshot, vec![snap()]));
    assert_eq!(l.path, path);

    let tiny = Limits {
        max_bytes: 10,
        max_frames: 1,
        ..Limits::default()
    };
    let e = load_path(&path, &tiny).expect_err("too large");
    assert!(
        matches!(e, LoadError::TooLarge { size: Some(n), limit: 10, .. } if n == text.len() as u64),
        "{e:?}"
    );

    let e = load_path(dir.path(), &Limits::default()).expect_err("dir");
    assert!(
        e.to_string()
            .ends_with("is a directory, not a regular file"),
        "{e}"
    );
    let e = load_path(&dir.path().join("missing"), &Limits::default()).expect_err("missing");
    assert!(e.to_string().starts_with("cannot read '"), "{e}");
}

#[test]
fn files_give_the_same_answers_as_bytes() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("r.jsonl");
    let line = compact(&snap());
    let newer = with_field("version", Some(2.into()));
    let mut bad_utf8 = format!("{line}\n{{\"x\":\"").into_bytes();
    bad_utf8.extend_from_slice(&[0xc3, 0x28, b'"', b'}']);
    let cases: Vec<Vec<u8>> = vec![
        format!("{line}\n{line}\n{}", &line[..40]).into_bytes(),
        format!("{line}\n{newer}\n").into_bytes(),
        format!("{line}\n{}\n", with_field("taken_at", None)).into_bytes(),
        format!("{line}\n{}\n", with_field("view", Some(5.into()))).into_bytes(),
        bad_utf8,
        b"  \n".to_vec(),
    ];
    for bytes in cases {
        std::fs::write(&path, &bytes).expect("write");
        let from_file = load_path(&path, &Limits::default());
        let from_bytes = load_bytes(&path, &bytes, &Limits::default());
        match (from_file, from_bytes) {
            (Ok(a), Ok(b)) => {
                assert_eq!(
                    (a.kind, a.frames, a.warnings),
                    (b.kind, b.frames, b.warnings)
                )
            }
            (Err(a), Err(b)) => assert_eq!(a.to_string(), b.to_string()),
            (a, b) => panic!("file {a:?}, bytes {b:?}"),
        }
    }
}

#[test]
fn devices_and_fifos_are_refused_at_once() {
    // /dev/zero never ends and a FIFO without a writer would block the open forever:
    // only regular files are read.
    for dev in ["/dev/zero", "/dev/null"] {
        let e = load_path(Path::new(dev), &Limits::default()).expect_err(dev);
        assert_eq!(
            e.to_string(),
            format!("cannot read '{dev}': is a character device, not a regular file")
        );
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let fifo = dir.path().join("fifo");
    crate::testing::mkfifo(&fifo);
    let e = load_path(&fifo, &Limits::default()).expect_err("fifo");
    assert!(
        e.to_string()
            .ends_with("is a FIFO (named pipe), not a regular file"),
        "{e}"
    );
}

/// Loads `text` written into a named pipe by another thread.
/// Standard input (`diff -`) is read whole, then loaded from memory.
fn through_stdin(text: String, limits: &Limits) -> Result<Loaded, LoadError> {
    load_bytes(Path::new("standard input"), text.as_bytes(), limits)
}

#[test]
fn standard_input_is_held_to_the_budget_of_what_it_sent() {
    // The allowance follows the bytes sent, so a real file loads without a floor, and
    // a hostile stream is refused as soon as its values outgrow what it sent.
    let no_floor = Limits {
        memory_floor: 0,
        ..Limits::default()
    };
    let sockets = (0..300)
        .map(|i| Socket {
            id: SocketId(format!("1-{i:x}")),
            ..socket()
        })
        .collect();
    let real = snapshot_of(sockets, vec![netns(1, Some("n"), None)]);
    let l = through_stdin(compact(&real), &no_floor).expect("loads");
    assert_eq!(l.frames, vec![real]);
    let e = through_stdin(with_cmdline(300_000, ""), &no_floor).expect_err("refused");
    assert!(
        matches!(&e, LoadError::TooManyValues { place, .. }
            if place.starts_with("sockets[0].holders[0].cmdline[")),
        "{e}"
    );
}

#[test]
fn the_demo_fixture_saves_byte_for_byte_as_it_was_read() {
    // The file every golden export is made from, loaded as the dashboard loads it and saved
    // as `snapshot -o` and the dashboard's export save: the time is parsed, not kept as text,
    // and written back exactly.
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/demo-snapshot.json");
    let original = std::fs::read(&path).expect("read the demo fixture");
    let l = load_path(&path, &Limits::default()).expect("loads");
    assert!(l.warnings.is_empty(), "{:?}", l.warnings);
    let [frame] = &l.frames[..] else {
        panic!("one snapshot")
    };
    assert_eq!(
        frame.taken_at.time().map(|t| t.to_string()).as_deref(),
        Some("2026-11-22T07:44:23Z")
    );
    let mut saved = Vec::new();
    crate::export::write(&mut saved, frame, crate::export::Format::Json, true).expect("write");
    assert_eq!(
        String::from_utf8_lossy(&saved),
        String::from_utf8_lossy(&original)
    );
}

#[test]
fn a_recording_of_every_form_of_time_saves_as_it_was_read() {
    // The collector's milliseconds, no fraction, other lengths, a leap second, and texts that
    // are not times (kept, with one warning): each line written back byte for byte.
    let times = [
        "2026-11-22T07:44:23.120Z",
        "2026-11-22T07:44:24Z",
        "2026-11-22T07:44:24.5Z",
        "2026-11-22T07:44:25.123456789Z",
        "yesterday",
        "2026-11-22 07:44:26Z",
        "2026-12-31T23:59:60.000Z",
        "",
    ];
    let line = compact(&snap());
    let written = r#""taken_at":"2026-11-22T07:00:00Z""#;
    assert!(line.contains(written), "{line}");
    let lines: Vec<String> = times
        .iter()
        .map(|t| line.replacen(written, &format!(r#""taken_at":{t:?}"#), 1))
        .collect();
    let l = load(&(lines.join("\n") + "\n")).expect("loads");
    assert_eq!(l.frames.len(), times.len());
    for ((frame, line), time) in l.frames.iter().zip(&lines).zip(times) {
        let mut saved = Vec::new();
        crate::export::write(&mut saved, frame, crate::export::Format::Json, false).expect("write");
        assert!(
            saved == format!("{line}\n").into_bytes(),
            "{time:?} saved otherwise"
        );
    }
    let readable: Vec<bool> = l
        .frames
        .iter()
        .map(|f| f.taken_at.time().is_some())
        .collect();
    assert_eq!(
        readable,
        [true, true, true, true, false, false, true, false]
    );
    assert_eq!(
        l.warnings,
        [
            "'f.json': 3 snapshots have a taken_at that is not an RFC 3339 UTC time (first: 'yesterday', in snapshot 5)"
        ]
    );
}

#[test]
fn time_order_is_by_instant_and_skips_frames_without_a_time() {
    let frames = |times: &[&str]| {
        let lines: Vec<String> = times
            .iter()
            .map(|t| with_field("taken_at", Some((*t).into())))
            .collect();
        load(&(lines.join("\n") + "\n")).expect("loads").warnings
    };
    // One instant written two ways is not out of order, either way round.
    assert!(frames(&["2026-11-22T07:00:00.000Z", "2026-11-22T07:00:00Z"]).is_empty());
    assert!(frames(&["2026-11-22T07:00:00Z", "2026-11-22T07:00:00.000Z"]).is_empty());
    // `.5Z` is after `Z`, though it sorts before it as text.
    assert!(frames(&["2026-11-22T07:00:00Z", "2026-11-22T07:00:00.5Z"]).is_empty());
    // A frame without a time is compared with neither neighbour.
    assert_eq!(
        frames(&["2026-11-22T07:00:02Z", "soon", "2026-11-22T07:00:01Z"]),
        [
            "'f.json': 1 snapshot have a taken_at that is not an RFC 3339 UTC time (first: 'soon', in snapshot 2)",
            "'f.json': 1 snapshot are earlier than the snapshot before them: the recording is not in time order (first: taken at '2026-11-22T07:00:01Z', after one taken at '2026-11-22T07:00:02Z', in snapshot 3)",
        ]
    );
}

#[test]
fn a_taken_at_that_is_not_a_string_is_a_field_error_as_before() {
    let e = err(&with_field("taken_at", Some(5.into())));
    assert!(matches!(e, LoadError::Field { .. }), "{e:?}");
    assert!(
        e.to_string()
            .ends_with(": invalid type: integer `5`, expected a string"),
        "{e}"
    );
}
