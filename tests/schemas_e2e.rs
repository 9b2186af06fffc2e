//! Every JSON output against its schema in assets/, from real runs: findings of a namespace
//! with real overlapping sockets, can-bind answering ok, an errno and uncertain about real
//! sockets, a diff of two real snapshots taken before and after a change (and of the
//! committed snapshot fixtures), and the rules tables of TCP and UDP, predicted and
//! measured. Each schema is also shown to refuse what the program never writes, so a
//! schema that accepted anything would fail here.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::*;
use serde_json::{Value, json};
use std::process::Command;
use std::time::Duration;

const ASSETS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/assets");

fn read_schema(name: &str) -> Value {
    let path = format!("{ASSETS}/{name}.schema.json");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{path} is not JSON: {e}"))
}

/// A validator for `assets/NAME.schema.json`, formats checked, with the snapshot and ports
/// schemas registered under their `$id`s for the references into them, and nothing
/// fetched.
fn validator(name: &str) -> jsonschema::Validator {
    let schema = read_schema(name);
    let mut registry = jsonschema::Registry::new();
    for other in ["snapshot", "ports"] {
        let doc = read_schema(other);
        let id = doc["$id"].as_str().expect("$id").to_string();
        registry = registry
            .add(id, doc)
            .unwrap_or_else(|e| panic!("register {other}: {e}"));
    }
    let registry = registry.prepare().expect("prepare the registry");
    jsonschema::options()
        .with_registry(&registry)
        .should_validate_formats(true)
        .build(&schema)
        .unwrap_or_else(|e| panic!("assets/{name}.schema.json is not a valid JSON Schema: {e}"))
}

fn errors(v: &jsonschema::Validator, doc: &Value) -> Vec<String> {
    v.iter_errors(doc)
        .map(|e| format!("at '{}': {e}", e.instance_path()))
        .take(20)
        .collect()
}

fn assert_valid(v: &jsonschema::Validator, doc: &Value, what: &str) {
    let errors = errors(v, doc);
    assert!(
        errors.is_empty(),
        "{what} does not match its schema:\n  {}\n{doc}",
        errors.join("\n  ")
    );
}

/// `doc` changed by `edit` must be refused.
fn assert_refused(v: &jsonschema::Validator, doc: &Value, what: &str, edit: impl Fn(&mut Value)) {
    let mut bad = doc.clone();
    edit(&mut bad);
    assert!(
        !v.is_valid(&bad),
        "the schema accepts {what}, which bindscope never writes"
    );
}

fn run(argv: &[&str]) -> Run {
    run_timeout(Command::new(BINDSCOPE).args(argv), RUN_TIMEOUT)
}

// ---------------------------------------------------------------------------------------
// findings

#[test]
fn findings_of_real_overlapping_sockets_match_the_schema() {
    let Some(ns) = privileged("findings_of_real_overlapping_sockets_match_the_schema") else {
        return;
    };
    // Two users' UDP sockets on one port with SO_REUSEADDR (a problem with several facets,
    // each carrying `problem`), and an IPv6-only TCP listener (family_split).
    let _sm = Sockmaker::start(
        &ns,
        &json!({"sockets": [
            {"name": "any", "proto": "udp", "family": 4, "addr": "0.0.0.0", "port": 24400,
             "options": {"reuseaddr": true}, "uid": 1001},
            {"name": "lo", "proto": "udp", "family": 4, "addr": "127.0.0.1", "port": 24400,
             "options": {"reuseaddr": true}, "uid": 1002},
            {"name": "six", "proto": "tcp", "family": 6, "addr": "::", "port": 24401,
             "options": {"v6only": true}, "listen": 8, "uid": 1001}
        ]}),
    );
    let v = validator("findings");
    let args = |min: &'static str| {
        vec![
            "findings",
            "--netns",
            "current",
            "-f",
            "json",
            "--min-severity",
            min,
        ]
    };
    let r = bindscope(&ns, &args("info"), RunAs::Root);
    assert_eq!(r.status.code(), Some(1), "{}", r.stderr);
    let doc = r.json();
    assert_valid(&v, &doc, "findings --min-severity info");
    let findings = doc["findings"].as_array().unwrap();
    let kinds: Vec<&str> = findings.iter().filter_map(|f| f["kind"].as_str()).collect();
    for kind in ["udp_reuseaddr_takeover", "family_split"] {
        assert!(kinds.contains(&kind), "no {kind} in {kinds:?}");
    }
    assert!(
        findings.iter().any(|f| f["problem"]["port"] == 24400),
        "no finding with problem: {doc}"
    );
    assert!(
        doc["port_groups"]
            .as_array()
            .unwrap()
            .iter()
            .any(|g| g["port"] == 24400 && g["members"].as_array().unwrap().len() == 2),
        "{doc}"
    );
    // Several samples, and a threshold that hides everything: still the schema's shape.
    let mut quiet = args("critical");
    quiet.extend(["--samples", "2", "--interval", "100ms"]);
    let r = bindscope(&ns, &quiet, RunAs::Root);
    assert_eq!(r.status.code(), Some(0), "{}", r.stderr);
    let empty = r.json();
    assert_valid(&v, &empty, "findings --min-severity critical --samples 2");
    assert_eq!(empty["findings"], json!([]));
    assert_eq!(empty["samples"], 2);

    assert_refused(&v, &doc, "an unknown kind", |d| {
        d["findings"][0]["kind"] = json!("made_up")
    });
    assert_refused(&v, &doc, "a severity that is not one", |d| {
        d["min_severity"] = json!("fatal")
    });
    assert_refused(&v, &doc, "a key it does not write", |d| {
        d["extra"] = json!(1)
    });
    assert_refused(&v, &doc, "a port group without routes", |d| {
        d["port_groups"][0]
            .as_object_mut()
            .unwrap()
            .remove("routes");
    });
}

/// The schema lists exactly the kinds this version makes.
#[test]
fn the_findings_schema_names_every_kind_and_only_those() {
    let schema = read_schema("findings");
    let listed: Vec<&str> = schema["$defs"]["kind"]["enum"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k.as_str().unwrap())
        .collect();
    let made: Vec<&str> = bindscope::model::FindingKind::ALL
        .iter()
        .map(|k| k.name())
        .collect();
    assert_eq!(listed, made);
}

// ---------------------------------------------------------------------------------------
// can-bind

#[test]
fn can_bind_answers_of_every_verdict_match_the_schema() {
    let Some(ns) = privileged("can_bind_answers_of_every_verdict_match_the_schema") else {
        return;
    };
    // Root's sockets: nobody cannot read their options, so whether the UDP one set
    // SO_REUSEADDR is unknown to a run as nobody.
    let _sm = Sockmaker::start(
        &ns,
        &json!({"sockets": [
            {"name": "web", "proto": "tcp", "family": 4, "addr": "0.0.0.0", "port": 24500,
             "listen": 8, "uid": 0},
            {"name": "dns", "proto": "udp", "family": 4, "addr": "127.0.0.1", "port": 24501,
             "options": {"reuseaddr": true}, "uid": 0}
        ]}),
    );
    let v = validator("can-bind");
    let bin = world_readable_binary();
    let ask = |who: RunAs, argv: &[&str]| {
        let mut args = vec!["can-bind", "--netns", "current", "-f", "json"];
        args.extend_from_slice(argv);
        match who {
            RunAs::Root => bindscope(&ns, &args, RunAs::Root),
            RunAs::Nobody => as_nobody(&ns, &bin.path, &args),
        }
    };
    let cases: [(RunAs, &[&str], i32, &str); 5] = [
        (RunAs::Root, &["tcp", "127.0.0.1:24599"], 0, "ok"),
        (
            RunAs::Root,
            &["tcp", "127.0.0.1:24500", "--listen"],
            1,
            "EADDRINUSE",
        ),
        (RunAs::Nobody, &["tcp", "127.0.0.1:80"], 1, "EACCES"),
        (
            RunAs::Nobody,
            &["udp", "127.0.0.1:24501", "--reuseaddr"],
            3,
            "uncertain",
        ),
        (RunAs::Root, &["udp", "[::1]:24502"], 0, "ok"),
    ];
    let mut docs = Vec::new();
    for (who, argv, code, result) in cases {
        let r = ask(who, argv);
        assert_eq!(
            r.status.code(),
            Some(code),
            "{argv:?}: {}{}",
            r.stdout,
            r.stderr
        );
        let doc = r.json();
        assert_valid(&v, &doc, &format!("can-bind {argv:?}"));
        assert_eq!(doc["result"], result, "{argv:?}: {doc}");
        docs.push(doc);
    }
    let uncertain = &docs[3];
    assert_eq!(uncertain["possible"], json!(["EADDRINUSE", "ok"]));
    assert_refused(&v, uncertain, "uncertain with nothing unknown", |d| {
        d["uncertain_because"] = json!([])
    });
    assert_refused(&v, &docs[0], "ok with possible results", |d| {
        d["possible"] = json!(["ok"])
    });
    assert_refused(&v, &docs[1], "an errno it never gives", |d| {
        d["result"] = json!("EBADF")
    });
    assert_refused(&v, &docs[1], "a call it does not make", |d| {
        d["at"] = json!("connect")
    });
}

// ---------------------------------------------------------------------------------------
// diff

fn write_json(dir: &std::path::Path, name: &str, doc: &Value) -> String {
    let path = dir.join(name);
    std::fs::write(&path, doc.to_string()).unwrap();
    path.to_str().unwrap().to_string()
}

#[test]
fn a_diff_of_real_snapshots_before_and_after_a_change_matches_the_schema() {
    let Some(ns) = privileged("a_diff_of_real_snapshots_matches_the_schema") else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let mut first = Sockmaker::start(
        &ns,
        &json!({"sockets": [
            {"name": "stays", "proto": "tcp", "family": 4, "addr": "127.0.0.1", "port": 24600,
             "listen": 8, "uid": 1001},
            {"name": "goes", "proto": "udp", "family": 4, "addr": "0.0.0.0", "port": 24601,
             "uid": 1001}
        ]}),
    );
    let before = write_json(dir.path(), "before.json", &snapshot(&ns, false));
    // The change: one socket closed, one new (another user's, on the wildcard: findings
    // come and go), and a connection waiting in the listener's queue (a queue change).
    first.close("goes");
    let _second = Sockmaker::start(
        &ns,
        &json!({"sockets": [
            {"name": "new", "proto": "udp", "family": 4, "addr": "0.0.0.0", "port": 24602,
             "uid": 1002}
        ]}),
    );
    ns.python("import socket; socket.create_connection(('127.0.0.1', 24600)).close()")
        .expect_ok("connect to the listener");
    let after = write_json(dir.path(), "after.json", &snapshot(&ns, false));

    let v = validator("diff");
    let r = run(&["diff", &before, &after, "-f", "json"]);
    assert_eq!(r.status.code(), Some(1), "{}", r.stderr);
    let doc = r.json();
    assert_valid(&v, &doc, "diff before after");
    let kinds: Vec<&str> = doc["sockets"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|s| s["kind"].as_str())
        .collect();
    for kind in ["appeared", "disappeared", "changed"] {
        assert!(kinds.contains(&kind), "no {kind} socket: {doc}");
    }
    assert!(
        doc["sockets"]
            .as_array()
            .unwrap()
            .iter()
            .any(|s| s["fields"]
                .as_array()
                .unwrap()
                .iter()
                .any(|f| f["field"] == "accept_queue" && f["kind"] == "queue")),
        "{doc}"
    );
    // Nothing changed: an empty diff, exit 0, the same shape.
    let r = run(&["diff", &after, &after, "-f", "json"]);
    assert_eq!(r.status.code(), Some(0), "{}", r.stderr);
    assert_valid(&v, &r.json(), "diff after after");

    assert_refused(&v, &doc, "a socket that is not one", |d| {
        d["sockets"][0]["socket"] = json!({"id": "x"})
    });
    assert_refused(&v, &doc, "another format", |d| {
        d["format"] = json!("bindscope.snapshot")
    });
    assert_refused(&v, &doc, "a field change of an unknown kind", |d| {
        let s = d["sockets"]
            .as_array_mut()
            .unwrap()
            .iter_mut()
            .find(|s| s["kind"] == "changed")
            .unwrap();
        s["fields"][0]["kind"] = json!("moved");
    });
    assert_refused(&v, &doc, "an appeared socket with field changes", |d| {
        let changed = d["sockets"]
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["kind"] == "changed")
            .unwrap()["fields"]
            .clone();
        let s = d["sockets"]
            .as_array_mut()
            .unwrap()
            .iter_mut()
            .find(|s| s["kind"] == "appeared")
            .unwrap();
        s["fields"] = changed;
    });
}

/// The committed snapshot files: two hosts compared both ways (namespaces, sockets and
/// findings that differ on every side).
#[test]
fn diffs_of_the_committed_fixtures_match_the_schema() {
    let v = validator("diff");
    let fixtures = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures");
    let demo = format!("{fixtures}/demo-snapshot.json");
    let small = format!("{fixtures}/small-host/snapshot.json");
    for argv in [
        vec!["diff", &demo, &small, "-f", "json"],
        vec!["diff", &small, &demo, "-f", "json"],
    ] {
        let r = run(&argv);
        assert_eq!(r.status.code(), Some(1), "{argv:?}: {}", r.stderr);
        let doc = r.json();
        assert_valid(&v, &doc, &format!("{argv:?}"));
        let counts = &doc["counts"];
        assert!(
            counts["appeared"].as_u64() > Some(0)
                && counts["disappeared"].as_u64() > Some(0)
                && counts["netns"].as_u64() > Some(0),
            "two hosts differ: {counts}"
        );
    }
}

// ---------------------------------------------------------------------------------------
// rules

#[test]
fn the_rules_tables_of_tcp_and_udp_match_the_schema() {
    let v = validator("rules");
    for argv in [
        vec!["rules", "tcp", "-f", "json"],
        vec!["rules", "udp", "-f", "json"],
        vec!["rules", "-f", "json"],
    ] {
        let r = run(&argv).expect_ok("rules");
        let doc = r.json();
        assert_valid(&v, &doc, &format!("{argv:?}"));
        assert_eq!(doc["verified"], false);
    }
    let doc = run(&["rules", "tcp", "-f", "json"]).json();
    assert_refused(&v, &doc, "a TCP row without listen or bound", |d| {
        d["tables"][0]["cells"][0]["first"]["held"] = Value::Null
    });
    assert_refused(&v, &doc, "a measurement without --verify", |d| {
        let p = d["tables"][0]["cells"][0]["predicted"].clone();
        d["tables"][0]["cells"][0]["measured"] = p;
        d["tables"][0]["cells"][0]["agreement"] = json!("agrees");
    });
    assert_refused(&v, &doc, "receivers of an unknown kind", |d| {
        d["tables"][0]["cells"][0]["predicted"]["receivers"]["other"] = json!({"kind": "all"})
    });
    assert_refused(
        &v,
        &doc,
        "an answer with possible results but certain",
        |d| d["tables"][0]["cells"][0]["predicted"]["possible"] = json!(["ok"]),
    );
}

/// `--verify` measures every cell in a throwaway namespace: the measured answers and the
/// agreement are in the document too.
#[test]
fn the_verified_rules_tables_match_the_schema() {
    if privileged("the_verified_rules_tables_match_the_schema").is_none() {
        return;
    }
    let v = validator("rules");
    let r = run_timeout(
        Command::new(BINDSCOPE).args(["rules", "--verify", "-f", "json"]),
        Duration::from_secs(300),
    )
    .expect_ok("rules --verify");
    let doc = r.json();
    assert_valid(&v, &doc, "rules --verify");
    assert_eq!(doc["verified"], true);
    assert_refused(&v, &doc, "a verified cell without its measurement", |d| {
        let cell = d["tables"][1]["cells"][0].as_object_mut().unwrap();
        cell.remove("measured");
        cell.remove("agreement");
    });
}
