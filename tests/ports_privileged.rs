//! `bindscope ports` against the real kernel: real binds and real traffic, compared with the
//! routes bindscope gives (issue 14).
//!
//! `tests/helpers/lookup/ports_check.py` makes two throwaway namespaces joined by a veth
//! pair (deleted also on failure), and for each scenario binds the sockets (every named
//! scenario of docs/lookup in two bind orders, and random sets of 3–5 binds on one port:
//! 0.0.0.0, `[::]` with and without V6ONLY, specific, loopback and v4-mapped addresses,
//! SO_BINDTODEVICE on the veth and on lo, SO_REUSEPORT groups, UDP SO_REUSEADDR sets, random
//! bind and listen orders, sometimes a close and rebind), runs `bindscope ports --format
//! json` inside, then sends connections or datagrams from distinct source ports to every
//! local address, locally and through the veth, and records which socket took each.
//!
//! Pass: no wrong definite route; an uncertain route names the receiver; at most 2 %
//! uncertain; every output validates against `assets/ports.schema.json`. The random seed is
//! printed; `BINDSCOPE_PORTS_SEED=N` replays a run, `BINDSCOPE_PORTS_RANDOM=N` sets how many
//! random scenarios (default 50).
//!
//! Needs root, `ip` and python3; otherwise it prints why and passes as skipped, unless
//! `BINDSCOPE_REQUIRE_PRIVILEGED=1`. Run: `cargo test --test ports_privileged`.

// A test may unwrap, expect and panic: that is the test failing (Cargo.toml denies them
// in the program).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::*;
use serde_json::Value;
use std::process::Command;
use std::time::Duration;

const SCRIPT: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/helpers/lookup/ports_check.py"
);

fn ports_validator() -> jsonschema::Validator {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/assets/ports.schema.json");
    let schema: Value = serde_json::from_str(&std::fs::read_to_string(path).expect("read schema"))
        .expect("schema is JSON");
    jsonschema::options()
        .build(&schema)
        .unwrap_or_else(|e| panic!("{path} is not a valid JSON Schema: {e}"))
}

#[test]
fn ports_routes_agree_with_real_traffic() {
    // The gate (root, tools); its namespace is not used: the script makes its own pair.
    let Some(_ns) = privileged("ports_routes_agree_with_real_traffic") else {
        return;
    };
    let seed: u64 = std::env::var("BINDSCOPE_PORTS_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_secs() % 100_000)
                .unwrap_or(14)
        });
    let random: u32 = std::env::var("BINDSCOPE_PORTS_RANDOM")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(50);
    eprintln!(
        "ports_privileged: seed {seed} (BINDSCOPE_PORTS_SEED={seed} replays), {random} random scenarios"
    );
    let run = run_timeout(
        Command::new(python()).args([
            SCRIPT,
            env!("CARGO_BIN_EXE_bindscope"),
            "--seed",
            &seed.to_string(),
            "--random",
            &random.to_string(),
            "--named",
            "--k",
            "8",
        ]),
        Duration::from_secs(900),
    );
    assert!(
        run.ok(),
        "ports_check.py failed (seed {seed}): {}",
        run.stderr
    );
    let out: Value = serde_json::from_str(run.stdout.trim()).expect("one JSON object");
    let v = ports_validator();
    for doc in out["outputs"].as_array().expect("outputs") {
        let errors: Vec<String> = v
            .iter_errors(doc)
            .map(|e| format!("at '{}': {e}", e.instance_path()))
            .take(10)
            .collect();
        assert!(
            errors.is_empty(),
            "ports JSON does not match assets/ports.schema.json: {errors:?}\n{doc}"
        );
    }
    let (scenarios, routes, uncertain) = (
        out["scenarios"].as_u64().expect("scenarios"),
        out["routes"].as_u64().expect("routes"),
        out["uncertain"].as_u64().expect("uncertain"),
    );
    eprintln!(
        "ports_privileged: seed {seed}: {scenarios} scenarios, {routes} routes measured, {uncertain} uncertain"
    );
    let wrong = out["wrong"].as_array().expect("wrong");
    assert!(
        wrong.is_empty(),
        "seed {seed}: {} wrong routes: {:#}",
        wrong.len(),
        Value::Array(wrong.clone())
    );
    assert!(
        scenarios >= u64::from(random),
        "seed {seed}: only {scenarios} scenarios"
    );
    assert!(
        uncertain * 100 <= routes * 2,
        "seed {seed}: {uncertain} of {routes} routes uncertain"
    );
}
