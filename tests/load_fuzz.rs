//! Property tests of the snapshot loader: no input makes it panic, and whatever it accepts
//! the rest of the program can take: findings, the table, JSON out, and that JSON loads back
//! as the same snapshot; redacted, it still loads.
//!
//! Inputs: arbitrary bytes; a soup of JSON tokens that reaches the format and version
//! checks; the real demo snapshot (pretty, compact, as a recording) truncated and with bytes
//! flipped, inserted and deleted; and structural mutations of its parsed form (numbers made
//! huge, negative or fractional, strings made hostile or long, arrays emptied or doubled,
//! fields removed or added, the version changed), which mostly still load and so stress
//! the analysis and rendering with odd but valid files.
//!
//! Case counts keep the file under ~30 s in a debug build; a failure is not persisted
//! (`proptest-regressions/`): the shrunk input is in the failure message.

// A test may unwrap, expect and panic: that is the test failing (Cargo.toml denies them
// in the program).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use bindscope::analyze::findings::analyze;
use bindscope::analyze::history::History;
use bindscope::export::load::{FileKind, Limits, LoadError, load_bytes};
use bindscope::export::redact::Redactor;
use bindscope::model::Snapshot;
use bindscope::output::{table, write_json};
use proptest::prelude::*;
use proptest::sample::Index;
use proptest::test_runner::Config;
use serde_json::Value;
use std::path::Path;
use std::sync::OnceLock;

const FIXTURE: &[u8] = include_bytes!("fixtures/demo-snapshot.json");

fn name() -> &'static Path {
    Path::new("fuzz.json")
}

fn config(cases: u32) -> Config {
    Config {
        cases,
        failure_persistence: None,
        ..Config::default()
    }
}

/// [`exercise`], with a panic turned into a failure that says what the input was: the
/// shrunk mutations read as "/sockets/3/syn_recv = 4294967295", not as sample indexes.
fn exercise_described(bytes: &[u8], what: &[String]) -> Result<(), TestCaseError> {
    match std::panic::catch_unwind(|| exercise(bytes)) {
        Ok(result) => result,
        Err(panic) => {
            let msg = panic
                .downcast_ref::<String>()
                .map(String::as_str)
                .or_else(|| panic.downcast_ref::<&str>().copied())
                .unwrap_or("?");
            Err(TestCaseError::fail(format!(
                "panic '{msg}' on the fixture with {what:?}"
            )))
        }
    }
}

/// Loads `bytes`. When they load, every frame must survive the analysis, the table and JSON
/// output, and its JSON must load back equal. When they do not, the error must display.
fn exercise(bytes: &[u8]) -> Result<(), TestCaseError> {
    let loaded = match load_bytes(name(), bytes, &Limits::default()) {
        Ok(l) => l,
        Err(e) => {
            let msg = e.to_string();
            prop_assert!(
                msg.contains("'fuzz.json'"),
                "error does not name the file: {msg}"
            );
            return Ok(());
        }
    };
    prop_assert!(!loaded.frames.is_empty());
    for (i, snap) in loaded.frames.iter().enumerate() {
        let _ = analyze(snap, &History::default());
        let _ = table::render(snap);
        let mut out = Vec::new();
        write_json(&mut out, snap, i % 2 == 1).map_err(|e| TestCaseError::fail(e.to_string()))?;
        let again = load_bytes(name(), &out, &Limits::default())
            .map_err(|e| TestCaseError::fail(format!("own output does not load: {e}")))?;
        prop_assert_eq!(again.frames.len(), 1);
        prop_assert!(&again.frames[0] == snap, "round trip changed the snapshot");
        redacted_still_loads(snap)?;
    }
    Ok(())
}

/// `--redact` keeps a file a valid snapshot, whatever was in it.
fn redacted_still_loads(snap: &Snapshot) -> Result<(), TestCaseError> {
    let mut redacted = snap.clone();
    Redactor::default().redact(&mut redacted);
    let mut out = Vec::new();
    write_json(&mut out, &redacted, false).map_err(|e| TestCaseError::fail(e.to_string()))?;
    let again = load_bytes(name(), &out, &Limits::default())
        .map_err(|e| TestCaseError::fail(format!("redacted output does not load: {e}")))?;
    prop_assert_eq!(again.frames.len(), 1);
    prop_assert_eq!(again.frames[0].sockets.len(), snap.sockets.len());
    Ok(())
}

fn fixture_value() -> &'static Value {
    static V: OnceLock<Value> = OnceLock::new();
    V.get_or_init(|| serde_json::from_slice(FIXTURE).expect("the fixture is JSON"))
}

/// The fixture as files of each kind: pretty, compact, and a recording of 3 lines.
fn bases() -> &'static [Vec<u8>; 3] {
    static B: OnceLock<[Vec<u8>; 3]> = OnceLock::new();
    B.get_or_init(|| {
        let line = serde_json::to_string(fixture_value()).expect("json");
        [
            FIXTURE.to_vec(),
            format!("{line}\n").into_bytes(),
            format!("{line}\n{line}\n{line}\n").into_bytes(),
        ]
    })
}

/// Every JSON pointer into the fixture: where structural mutations strike.
fn pointers() -> &'static [String] {
    static P: OnceLock<Vec<String>> = OnceLock::new();
    P.get_or_init(|| {
        let mut out = Vec::new();
        collect_pointers(fixture_value(), String::new(), &mut out);
        out
    })
}

fn collect_pointers(v: &Value, here: String, out: &mut Vec<String>) {
    match v {
        Value::Object(map) => {
            for (k, child) in map {
                let escaped = k.replace('~', "~0").replace('/', "~1");
                collect_pointers(child, format!("{here}/{escaped}"), out);
            }
        }
        Value::Array(items) => {
            for (i, child) in items.iter().enumerate() {
                collect_pointers(child, format!("{here}/{i}"), out);
            }
        }
        _ => {}
    }
    out.push(here);
}

// ---------------------------------------------------------------------------------------
// Byte-level mutations

#[derive(Debug, Clone)]
enum ByteOp {
    Truncate(Index),
    Flip(Index, u8),
    Insert(Index, Vec<u8>),
    Delete(Index, usize),
}

fn byte_op() -> impl Strategy<Value = ByteOp> {
    prop_oneof![
        any::<Index>().prop_map(ByteOp::Truncate),
        (any::<Index>(), any::<u8>()).prop_map(|(i, b)| ByteOp::Flip(i, b)),
        (
            any::<Index>(),
            prop_oneof![
                prop::collection::vec(any::<u8>(), 1..8),
                // Bytes that keep JSON almost valid: quotes, brackets, separators, newlines.
                prop::collection::vec(prop::sample::select(b"{}[]\",:\n\\0-1e".to_vec()), 1..4),
            ]
        )
            .prop_map(|(i, b)| ByteOp::Insert(i, b)),
        (any::<Index>(), 1usize..64).prop_map(|(i, n)| ByteOp::Delete(i, n)),
    ]
}

fn apply_bytes(mut bytes: Vec<u8>, ops: &[ByteOp]) -> Vec<u8> {
    for op in ops {
        let len = bytes.len();
        match op {
            ByteOp::Truncate(i) => bytes.truncate(i.index(len + 1)),
            ByteOp::Flip(i, b) if len > 0 => bytes[i.index(len)] ^= b | 1,
            ByteOp::Flip(..) => {}
            ByteOp::Insert(i, ins) => {
                let at = i.index(len + 1);
                bytes.splice(at..at, ins.iter().copied());
            }
            ByteOp::Delete(i, n) => {
                let at = i.index(len + 1);
                bytes.drain(at..(at + n).min(len));
            }
        }
    }
    bytes
}

// ---------------------------------------------------------------------------------------
// Structural mutations

#[derive(Debug, Clone, Copy)]
enum Op {
    /// A hostile value of the node's own type (so the file often still loads).
    Nasty,
    /// Empty the array, object or string.
    Empty,
    /// Double the array (or string).
    Duplicate,
    /// Remove the node from its parent.
    Remove,
    /// Add an unknown field to an object.
    AddUnknown,
    /// Replace the node by a value of any type.
    Retype,
    /// Change the top-level version.
    Version,
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        4 => Just(Op::Nasty),
        1 => Just(Op::Empty),
        1 => Just(Op::Duplicate),
        1 => Just(Op::Remove),
        1 => Just(Op::AddUnknown),
        1 => Just(Op::Retype),
        1 => Just(Op::Version),
    ]
}

fn nasty_numbers() -> Vec<Value> {
    serde_json::from_str(
        "[0, 1, 65535, 65536, 4294967295, 4294967296, 18446744073709551615, -1, \
         -9223372036854775808, 0.5, 1e300, -0.0]",
    )
    .expect("numbers")
}

fn nasty_strings() -> Vec<String> {
    vec![
        String::new(),
        "\u{1b}[2J\u{1b}]0;pwned\u{7}".into(),
        "evil\u{202e}txt.exe\u{2066}".into(),
        "\u{0}\r\n\t\u{85}\u{2028}".into(),
        "x".repeat(20_000),
        "é\u{301}🙂\u{feff}\u{200b}".into(),
        "0.0.0.0".into(),
        "::".into(),
        "not an address".into(),
        "=cmd|' /C calc'!A0".into(),
        "1970-01-01T00:00:00Z".into(),
        "9999-12-31T23:59:60.999999999Z".into(),
    ]
}

fn any_values() -> Vec<Value> {
    let mut out = nasty_numbers();
    out.extend(nasty_strings().into_iter().take(4).map(Value::from));
    out.extend([
        Value::Null,
        Value::Bool(true),
        Value::Array(vec![]),
        serde_json::json!({}),
        serde_json::json!([[[[[[[[1]]]]]]]]),
    ]);
    out
}

fn versions() -> Vec<Value> {
    serde_json::from_str(r#"[0, 1, 2, -1, "1", 1.0, 18446744073709551615, null]"#)
        .expect("versions")
}

fn pick<T: Clone>(pool: &[T], i: Index) -> T {
    pool[i.index(pool.len())].clone()
}

/// Applies one mutation; says what it did ("/sockets/3/syn_recv = 4294967295").
fn mutate(root: &mut Value, at: Index, op: Op, choice: Index) -> String {
    let pointers = pointers();
    let ptr = &pointers[at.index(pointers.len())];
    match op {
        Op::Version => {
            let v = pick(&versions(), choice);
            if let Some(obj) = root.as_object_mut() {
                obj.insert("version".into(), v.clone());
            }
            format!("/version = {v}")
        }
        Op::Remove => {
            remove(root, ptr);
            format!("{ptr} removed")
        }
        _ => match root.pointer_mut(ptr) {
            Some(node) => {
                change(node, op, choice);
                format!("{ptr} {op:?} = {}", shorten(&node.to_string()))
            }
            None => format!("{ptr} (gone)"),
        },
    }
}

fn shorten(s: &str) -> String {
    match s.char_indices().nth(80) {
        Some((i, _)) => format!("{}…", &s[..i]),
        None => s.to_string(),
    }
}

fn remove(root: &mut Value, ptr: &str) {
    let Some((parent, last)) = ptr.rsplit_once('/') else {
        return;
    };
    let key = last.replace("~1", "/").replace("~0", "~");
    match root.pointer_mut(parent) {
        Some(Value::Object(map)) => {
            map.remove(&key);
        }
        Some(Value::Array(items)) => {
            if let Ok(i) = key.parse::<usize>()
                && i < items.len()
            {
                items.remove(i);
            }
        }
        _ => {}
    }
}

fn change(node: &mut Value, op: Op, choice: Index) {
    match (op, &mut *node) {
        (Op::Nasty, Value::Number(_)) => *node = pick(&nasty_numbers(), choice),
        (Op::Nasty, Value::String(_)) => *node = pick(&nasty_strings(), choice).into(),
        (Op::Nasty, Value::Bool(b)) => *b = !*b,
        (Op::Nasty | Op::Retype, _) => *node = pick(&any_values(), choice),
        (Op::Empty, Value::Array(a)) => a.clear(),
        (Op::Empty, Value::Object(o)) => o.clear(),
        (Op::Empty, Value::String(s)) => s.clear(),
        (Op::Duplicate, Value::Array(a)) => {
            let copy = a.clone();
            a.extend(copy);
        }
        (Op::Duplicate, Value::String(s)) => *s = s.repeat(2),
        (Op::AddUnknown, Value::Object(o)) => {
            o.insert("x-unknown".into(), pick(&any_values(), choice));
        }
        _ => {}
    }
}

fn structural() -> impl Strategy<Value = (Vec<(Index, Op, Index)>, bool, usize)> {
    (
        prop::collection::vec((any::<Index>(), op(), any::<Index>()), 1..5),
        any::<bool>(),
        1usize..=3,
    )
}

/// The mutated fixture, pretty or compact; with more than one frame, a recording whose
/// first frames are the fixture as it is and the last the mutated one.
fn render_mutated(
    ops: &[(Index, Op, Index)],
    pretty: bool,
    frames: usize,
) -> (Vec<u8>, Vec<String>) {
    let mut v = fixture_value().clone();
    let what = ops
        .iter()
        .map(|&(at, op, choice)| mutate(&mut v, at, op, choice))
        .collect();
    if frames == 1 {
        let text = if pretty {
            serde_json::to_vec_pretty(&v)
        } else {
            serde_json::to_vec(&v)
        };
        return (text.expect("json"), what);
    }
    let mut out = Vec::new();
    for _ in 1..frames {
        out.extend(bases()[1].iter());
    }
    out.extend(serde_json::to_vec(&v).expect("json"));
    out.push(b'\n');
    (out, what)
}

/// JSON-ish tokens: random sequences of them reach the header checks and the stream.
fn token_soup() -> impl Strategy<Value = Vec<u8>> {
    const TOKENS: &[&str] = &[
        "{",
        "}",
        "[",
        "]",
        ":",
        ",",
        "\n",
        " ",
        "\"format\"",
        "\"bindscope.snapshot\"",
        "\"version\"",
        "1",
        "2",
        "0",
        "-1",
        "1.5",
        "null",
        "true",
        "\"sockets\"",
        "\"x\"",
        "\"\\ud800\"",
        "\"\\u001b\"",
        "1e999",
        "\u{feff}",
        "\u{ff}",
    ];
    prop::collection::vec(prop::sample::select(TOKENS), 0..40).prop_map(|t| t.concat().into_bytes())
}

proptest! {
    #![proptest_config(config(5000))]
    #[test]
    fn arbitrary_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..512)) {
        exercise(&bytes)?;
    }
}

proptest! {
    #![proptest_config(config(3000))]
    #[test]
    fn token_soup_never_panics(bytes in token_soup()) {
        exercise(&bytes)?;
    }
}

proptest! {
    #![proptest_config(config(1500))]
    #[test]
    fn damaged_fixture_bytes_never_panic(
        base in 0usize..3,
        ops in prop::collection::vec(byte_op(), 1..4),
    ) {
        let what = vec![format!("base {base}, {ops:?}")];
        exercise_described(&apply_bytes(bases()[base].clone(), &ops), &what)?;
    }
}

proptest! {
    #![proptest_config(config(2500))]
    #[test]
    fn structurally_mutated_fixture_never_panics((ops, pretty, frames) in structural()) {
        let (bytes, what) = render_mutated(&ops, pretty, frames);
        exercise_described(&bytes, &what)?;
    }
}

#[test]
fn the_fixture_loads_and_round_trips() {
    let loaded = load_bytes(name(), FIXTURE, &Limits::default()).expect("fixture loads");
    assert_eq!(loaded.kind, FileKind::Snapshot);
    assert!(loaded.warnings.is_empty(), "{:?}", loaded.warnings);
    exercise(FIXTURE).expect("exercise");
}

#[test]
fn the_fixture_as_a_recording_of_three_frames_loads_back_equal() {
    let snap: Snapshot = serde_json::from_slice(FIXTURE).expect("fixture");
    let mut file = Vec::new();
    let mut frames = Vec::new();
    for second in 23..26 {
        let mut frame = snap.clone();
        frame.taken_at = format!("2026-11-22T07:44:{second}Z").into();
        write_json(&mut file, &frame, false).expect("write");
        frames.push(frame);
    }
    let loaded = load_bytes(name(), &file, &Limits::default()).expect("recording loads");
    assert_eq!(loaded.kind, FileKind::Recording);
    assert!(loaded.warnings.is_empty(), "{:?}", loaded.warnings);
    assert_eq!(loaded.frames, frames);

    // Killed mid-write: the two complete frames and a warning.
    let cut = &file[..file.len() - 100];
    let loaded = load_bytes(name(), cut, &Limits::default()).expect("cut recording loads");
    assert_eq!(loaded.frames, frames[..2]);
    assert_eq!(loaded.warnings.len(), 1);
}

#[test]
fn a_truncated_pretty_fixture_is_an_error_not_a_recording() {
    for cut in [1, 100, FIXTURE.len() / 2, FIXTURE.len() - 3] {
        match load_bytes(name(), &FIXTURE[..cut], &Limits::default()) {
            Err(LoadError::Truncated { .. }) => {}
            other => panic!("cut at {cut}: {other:?}"),
        }
    }
}

/// Found by `structurally_mutated_fixture_never_panics`: a listener's `syn_recv` of 2^31
/// or more overflows `syn * 2` in `analyze::findings::queues::syn_backlog` (debug builds
/// panic, release builds wrap and judge wrongly).
#[test]
fn a_huge_syn_recv_count_survives_analysis() {
    let mut v = fixture_value().clone();
    v["sockets"][0]["syn_recv"] = Value::from(u32::MAX);
    let bytes = serde_json::to_vec(&v).expect("json");
    exercise(&bytes).expect("exercise");
}
