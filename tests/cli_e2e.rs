//! The command line's questions against real sockets (issue 15): `snapshot QUERY`,
//! `findings QUERY`, `ports QUERY`, `who PORT` (a port held in two namespaces, a port
//! nobody holds, UDP, ADDR:PORT), `-t`, a malformed query's caret, `-q` and `--json`.
//!
//! Real binary, real sockets made by sockmaker in throwaway namespaces (deleted also when a
//! test fails: the `Netns` guards). Needs root, `ip` and python3; otherwise each test says
//! why and passes as skipped, unless `BINDSCOPE_REQUIRE_PRIVILEGED=1`.
//! Run: `cargo test --test cli_e2e`.

// A test may unwrap, expect and panic: that is the test failing (Cargo.toml denies them
// in the program).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::*;
use serde_json::{Value, json};
use std::collections::BTreeSet;
use std::process::Command;

fn tcp(name: &str, addr: &str, port: u16, uid: u32) -> Value {
    json!({"name": name, "proto": "tcp", "family": 4, "addr": addr, "port": port,
           "options": {}, "listen": 16, "uid": uid})
}

fn udp(name: &str, addr: &str, port: u16, uid: u32) -> Value {
    json!({"name": name, "proto": "udp", "family": 4, "addr": addr, "port": port,
           "options": {}, "uid": uid})
}

/// The ports of one test run: distinct per test so that parallel tests never meet (each
/// has its own namespaces anyway; distinct ports make a failure's output unambiguous).
struct Ports {
    web: u16,
    dns: u16,
    local: u16,
    nobody: u16,
}

/// In `ns`: tcp 0.0.0.0:web (root's, also held by a child of uid 1002), udp 0.0.0.0:dns
/// (uid 1002), tcp 127.0.0.1:local (uid 1001).
fn make(ns: &Netns, p: &Ports) -> Sockmaker {
    let mut web = tcp("web", "0.0.0.0", p.web, 0);
    web["extra_holder_uid"] = json!(1002);
    Sockmaker::start(
        ns,
        &json!({"sockets": [
            web,
            udp("dns", "0.0.0.0", p.dns, 1002),
            tcp("local", "127.0.0.1", p.local, 1001),
        ]}),
    )
}

/// `bindscope args…` as root inside `ns`.
fn inside(ns: &Netns, args: &[&str]) -> Run {
    bindscope(ns, args, RunAs::Root)
}

/// `bindscope args…` as root in the host's namespace (to look at several namespaces by
/// name with -n).
fn on_host(args: &[&str]) -> Run {
    run_timeout(Command::new(BINDSCOPE).args(args), RUN_TIMEOUT)
}

fn code(r: &Run) -> i32 {
    r.status.code().unwrap_or(-1)
}

fn ports_of(snap: &Value) -> BTreeSet<(String, u64)> {
    sockets(snap)
        .iter()
        .map(|s| {
            (
                s["proto"].as_str().unwrap().to_string(),
                s["local_port"].as_u64().unwrap(),
            )
        })
        .collect()
}

/// The pids sockmaker says hold socket `name`.
fn made_holders(sm: &Sockmaker, name: &str) -> BTreeSet<u32> {
    sm.sock(name)["holders"]
        .as_array()
        .expect("holders")
        .iter()
        .map(|h| h["pid"].as_u64().unwrap() as u32)
        .collect()
}

fn pid_lines(r: &Run) -> Vec<u32> {
    r.stdout
        .lines()
        .map(|l| {
            l.parse()
                .unwrap_or_else(|_| panic!("-t printed a line that is not a pid: {l:?}"))
        })
        .collect()
}

#[test]
fn snapshot_query_keeps_only_matching_sockets_and_stays_a_snapshot_file() {
    let Some(ns) = privileged("snapshot_query") else {
        return;
    };
    let p = Ports {
        web: 22101,
        dns: 22102,
        local: 22103,
        nobody: 22104,
    };
    let sm = make(&ns, &p);
    let web = p.web.to_string();
    let q = format!("port:{web}");
    let run = inside(&ns, &["snapshot", "-n", "current", "--json", &q]).expect_ok("snapshot");
    let snap = run.json();
    assert_eq!(
        ports_of(&snap),
        BTreeSet::from([("tcp".into(), u64::from(p.web))]),
        "{}",
        list(&snap)
    );
    assert_eq!(sockets(&snap)[0]["inode"], sm.inode("web"));
    assert_schema_valid(&schema_validator(), &snap, "snapshot QUERY --json");
    // Its namespace only, and findings that name its socket only.
    let netns: Vec<u64> = snap["netns"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["id"].as_u64().unwrap())
        .collect();
    assert_eq!(netns, vec![ns.id()]);
    let id = sockets(&snap)[0]["id"].clone();
    for f in snap["findings"].as_array().unwrap() {
        assert!(
            f["sockets"].as_array().unwrap().iter().all(|s| *s == id),
            "a finding names a socket the file lacks: {f}"
        );
    }
    // The loaders take it without a warning: `diff` of the file with itself.
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("web.json");
    std::fs::write(&file, &run.stdout).unwrap();
    let f = file.to_str().unwrap();
    let d = on_host(&["diff", f, f]);
    assert_eq!(code(&d), 0, "diff of the narrowed file: {}", d.stderr);
    assert_eq!(d.stderr, "", "loading warned");

    // Two terms AND together; a negation; the table says the same.
    let q = format!("proto:udp -port:{web}");
    let snap = inside(&ns, &["snapshot", "-n", "current", "-f", "json", &q])
        .expect_ok("snapshot")
        .json();
    assert_eq!(
        ports_of(&snap),
        BTreeSet::from([("udp".into(), u64::from(p.dns))])
    );
    // user: is the socket's user or any holder's: web (a holder) and dns (its own).
    let table = inside(
        &ns,
        &["snapshot", "-n", "current", "-f", "table", "user:1002"],
    )
    .expect_ok("snapshot -f table");
    let rows: Vec<&str> = table
        .stdout
        .lines()
        .filter(|l| l.starts_with("tcp") || l.starts_with("udp"))
        .collect();
    assert_eq!(rows.len(), 2, "{}", table.stdout);
    assert!(rows.iter().any(|r| r.contains(&format!("0.0.0.0:{web}"))));
    assert!(
        rows.iter()
            .any(|r| r.contains(&format!("0.0.0.0:{}", p.dns)))
    );
    for format in ["csv", "markdown"] {
        let r = inside(
            &ns,
            &["snapshot", "-n", "current", "-f", format, "proto:udp"],
        );
        assert_eq!(code(&r), 0, "{format}: {}", r.stderr);
        assert!(
            r.stdout.contains(&p.dns.to_string()),
            "{format}: {}",
            r.stdout
        );
        assert!(!r.stdout.contains(&web), "{format}: {}", r.stdout);
    }
    // Prometheus counts sockets by namespace, protocol and state: UDP ones only.
    let r = inside(
        &ns,
        &["snapshot", "-n", "current", "-f", "prom", "proto:udp"],
    );
    assert_eq!(code(&r), 0, "prom: {}", r.stderr);
    let counted: Vec<&str> = r
        .stdout
        .lines()
        .filter(|l| l.starts_with("bindscope_sockets{"))
        .collect();
    assert!(!counted.is_empty(), "{}", r.stdout);
    assert!(
        counted.iter().all(|l| l.contains("proto=\"udp\"")),
        "{counted:?}"
    );

    // Negation: `!term` as it is, `-term` after `--` (before it, it would be an option).
    let not_web = format!("!port:{web}");
    let dash_web = format!("-port:{web}");
    for args in [
        vec!["snapshot", "-n", "current", "--json", not_web.as_str()],
        vec![
            "snapshot",
            "-n",
            "current",
            "--json",
            "--",
            dash_web.as_str(),
        ],
    ] {
        let snap = inside(&ns, &args).expect_ok("snapshot").json();
        let ports = ports_of(&snap);
        assert!(
            !ports.contains(&("tcp".into(), u64::from(p.web))),
            "{args:?}"
        );
        assert!(
            ports.contains(&("udp".into(), u64::from(p.dns))),
            "{args:?}"
        );
    }

    // A query that matches nothing: exit 1, nothing on stdout, no error.
    let none = format!("port:{}", p.nobody);
    for format in ["json", "table", "csv"] {
        let r = inside(
            &ns,
            &["snapshot", "-n", "current", "-q", "-f", format, &none],
        );
        assert_eq!(code(&r), 1, "{format}: {}", r.stderr);
        assert_eq!(r.stdout, "", "{format}");
        assert_eq!(r.stderr, "", "{format}");
    }

    // -t: the pids that hold what matched, sorted, each once.
    let r = inside(&ns, &["snapshot", "-n", "current", "-t", "user:1002"]).expect_ok("-t");
    let want: BTreeSet<u32> = made_holders(&sm, "web")
        .union(&made_holders(&sm, "dns"))
        .copied()
        .collect();
    assert_eq!(pid_lines(&r), want.into_iter().collect::<Vec<_>>());
}

#[test]
fn findings_and_ports_take_the_query() {
    let Some(ns) = privileged("findings_and_ports_query") else {
        return;
    };
    let p = Ports {
        web: 22201,
        dns: 22202,
        local: 22203,
        nobody: 22204,
    };
    let _sm = make(&ns, &p);
    let all = inside(
        &ns,
        &[
            "findings",
            "-n",
            "current",
            "--json",
            "--min-severity",
            "info",
        ],
    );
    let all = all.json();
    let snap = inside(&ns, &["snapshot", "-n", "current", "--json"])
        .expect_ok("snapshot")
        .json();
    let id_of = |port: u16| {
        sockets(&snap)
            .iter()
            .find(|s| s["local_port"] == port)
            .map(|s| s["id"].clone())
            .unwrap()
    };
    let web_id = id_of(p.web);
    // IPv4 only on a TCP wildcard: the family split finding names the web socket.
    let names_web = |f: &Value| f["sockets"].as_array().unwrap().contains(&web_id);
    assert!(
        all["findings"].as_array().unwrap().iter().any(names_web),
        "no finding names the web socket: {all}"
    );
    let q = format!("port:{}", p.web);
    let only = inside(
        &ns,
        &[
            "findings",
            "-n",
            "current",
            "--json",
            "--min-severity",
            "info",
            &q,
        ],
    )
    .json();
    let found = only["findings"].as_array().unwrap();
    assert!(!found.is_empty());
    assert!(found.iter().all(names_web), "{only}");
    let q = format!("port:{}", p.dns);
    let udp = inside(
        &ns,
        &[
            "findings",
            "-n",
            "current",
            "--json",
            "--min-severity",
            "info",
            &q,
        ],
    )
    .json();
    assert!(
        !udp["findings"].as_array().unwrap().iter().any(names_web),
        "{udp}"
    );
    // The text report too.
    let text = inside(
        &ns,
        &[
            "findings",
            "-n",
            "current",
            "--min-severity",
            "info",
            &format!("port:{}", p.nobody),
        ],
    );
    assert_eq!(
        code(&text),
        0,
        "nothing shown is not a finding: {}",
        text.stderr
    );
    assert!(!text.stdout.contains(&p.web.to_string()), "{}", text.stdout);

    // ports: only UDP ports; nothing matched: exit 1 and no output.
    let ports = inside(&ns, &["ports", "-n", "current", "--json", "proto:udp"])
        .expect_ok("ports")
        .json();
    let list = ports["ports"].as_array().unwrap();
    assert!(!list.is_empty());
    assert!(list.iter().all(|g| g["proto"] == "udp"), "{ports}");
    assert!(list.iter().any(|g| g["port"] == p.dns));
    let none = inside(
        &ns,
        &["ports", "-n", "current", &format!("port:{}", p.nobody)],
    );
    assert_eq!(code(&none), 1, "{}", none.stderr);
    assert_eq!(none.stdout, "");
}

#[test]
fn who_finds_a_port_in_two_namespaces() {
    let Some(a) = privileged("who_two_namespaces") else {
        return;
    };
    let Some(b) = privileged("who_two_namespaces_b") else {
        return;
    };
    let p = Ports {
        web: 22301,
        dns: 22302,
        local: 22303,
        nobody: 22304,
    };
    let sa = make(&a, &p);
    let sb = Sockmaker::start(&b, &json!({"sockets": [tcp("web", "0.0.0.0", p.web, 0)]}));
    let netns = format!("{},{}", a.name(), b.name());
    let web = p.web.to_string();

    // The table: a group per namespace, each with its socket, user and holders.
    let r = on_host(&["who", "-n", &netns, &web]).expect_ok("who");
    let groups: Vec<&str> = r.stdout.lines().filter(|l| l.contains("  net:[")).collect();
    assert_eq!(groups.len(), 2, "{}", r.stdout);
    assert!(groups[0].starts_with(a.name()) || groups[0].starts_with(b.name()));
    for (ns, sm, uid) in [(&a, &sa, 0), (&b, &sb, 0)] {
        let user = user_name(uid)
            .as_str()
            .map(String::from)
            .unwrap_or(format!("uid {uid}"));
        let head = r
            .stdout
            .lines()
            .position(|l| l.starts_with(ns.name()))
            .unwrap_or_else(|| panic!("no group for {}:\n{}", ns.name(), r.stdout));
        let row = r.stdout.lines().nth(head + 2).unwrap();
        assert!(row.contains(&format!("0.0.0.0:{web}")), "{row}");
        assert!(row.contains("listen") && row.contains("wildcard"), "{row}");
        assert!(row.contains(&format!("  {user}  ")), "user {user}: {row}");
        for pid in made_holders(sm, "web") {
            assert!(
                row.contains(&pid.to_string()),
                "holder {pid} missing: {row}"
            );
        }
    }

    // JSON: a snapshot file of those two sockets.
    let snap = on_host(&["who", "-n", &netns, "--json", &web])
        .expect_ok("who --json")
        .json();
    assert_schema_valid(&schema_validator(), &snap, "who --json");
    let seen: BTreeSet<(u64, u64)> = sockets(&snap)
        .iter()
        .map(|s| (s["netns"].as_u64().unwrap(), s["inode"].as_u64().unwrap()))
        .collect();
    assert_eq!(
        seen,
        BTreeSet::from([(a.id(), sa.inode("web")), (b.id(), sb.inode("web"))])
    );

    // -t: every holder in both namespaces, sorted, once; with -q nothing else anywhere (a
    // process of the host that even root cannot read would add a note on stderr).
    let r = on_host(&["who", "-n", &netns, "-t", "-q", &web]).expect_ok("who -t");
    let want: BTreeSet<u32> = made_holders(&sa, "web")
        .union(&made_holders(&sb, "web"))
        .copied()
        .collect();
    assert_eq!(pid_lines(&r), want.into_iter().collect::<Vec<_>>());
    assert_eq!(r.stderr, "");
}

#[test]
fn who_by_protocol_address_and_nobody() {
    let Some(ns) = privileged("who_forms") else {
        return;
    };
    let p = Ports {
        web: 22401,
        dns: 22402,
        local: 22403,
        nobody: 22404,
    };
    let sm = make(&ns, &p);
    let who = |arg: &str| inside(&ns, &["who", "-n", "current", "--json", arg]);
    let inodes = |r: &Run| -> BTreeSet<u64> {
        sockets(&r.json())
            .iter()
            .map(|s| s["inode"].as_u64().unwrap())
            .collect()
    };
    let (web, dns, local) = (sm.inode("web"), sm.inode("dns"), sm.inode("local"));
    for (arg, want) in [
        (format!("{}", p.web), Some(web)),
        (format!(":{}", p.web), Some(web)),
        (format!("tcp/{}", p.web), Some(web)),
        (format!("udp/{}", p.dns), Some(dns)),
        (format!("{}", p.dns), Some(dns)),
        (format!("tcp/{}", p.dns), None),
        (format!("udp/{}", p.web), None),
        // A wildcard receives on every address of its family; a loopback bind only there.
        (format!("127.0.0.1:{}", p.web), Some(web)),
        (format!("10.9.9.9:{}", p.web), Some(web)),
        (format!("127.0.0.1:{}", p.local), Some(local)),
        (format!("10.9.9.9:{}", p.local), None),
        (format!("[::1]:{}", p.web), None),
        (format!("udp/127.0.0.1:{}", p.dns), Some(dns)),
        (format!("{}", p.nobody), None),
    ] {
        let r = who(&arg);
        match want {
            Some(inode) => {
                assert_eq!(code(&r), 0, "who {arg}: {}", r.stderr);
                assert_eq!(inodes(&r), BTreeSet::from([inode]), "who {arg}");
            }
            None => {
                assert_eq!(code(&r), 1, "who {arg}: {}", r.stdout);
                assert_eq!(r.stdout, "", "who {arg}");
            }
        }
    }
    // Nobody holds it, in the table and with -t: exit 1, nothing on stdout.
    for extra in [&[][..], &["-t"][..]] {
        let mut args = vec!["who", "-n", "current", "-q"];
        args.extend_from_slice(extra);
        let nobody = p.nobody.to_string();
        args.push(&nobody);
        let r = inside(&ns, &args);
        assert_eq!(code(&r), 1, "{args:?}: {}", r.stderr);
        assert_eq!(r.stdout, "", "{args:?}");
        assert_eq!(r.stderr, "", "{args:?}");
    }
    // A UDP socket in the table.
    let r = inside(&ns, &["who", "-n", "current", &format!("udp/{}", p.dns)]).expect_ok("who");
    let row = r.stdout.lines().nth(2).unwrap();
    assert!(row.trim_start().starts_with("udp"), "{}", r.stdout);
    assert!(row.contains(&format!("0.0.0.0:{}", p.dns)), "{row}");
    // A bad argument: exit 2, the argument quoted once.
    let r = inside(&ns, &["who", "127.0.0.1"]);
    assert_eq!(code(&r), 2);
    assert_eq!(r.stderr.matches("'127.0.0.1'").count(), 1, "{}", r.stderr);
}

#[test]
fn a_malformed_query_exits_2_with_a_caret() {
    // Parsed before anything is collected: no namespace needed, but the same gate so the
    // suite's privileged runs cover it with the others.
    let Some(_ns) = privileged("malformed_query") else {
        return;
    };
    for cmd in ["snapshot", "findings", "ports"] {
        let r = on_host(&[cmd, "-n", "current", "port:80 prot:udp"]);
        assert_eq!(code(&r), 2, "{cmd}: {}", r.stderr);
        assert_eq!(r.stdout, "", "{cmd}");
        let lines: Vec<&str> = r.stderr.lines().collect();
        assert!(
            lines[0].starts_with("bindscope: bad query: column 9: unknown filter key 'prot'"),
            "{cmd}: {}",
            r.stderr
        );
        assert_eq!(lines[1], "  port:80 prot:udp", "{cmd}");
        assert_eq!(lines[2], format!("  {}^", " ".repeat(8)), "{cmd}");
    }
    let r = on_host(&["snapshot", "port:99999"]);
    assert_eq!(code(&r), 2);
    assert!(
        r.stderr.ends_with("  port:99999\n       ^\n"),
        "{}",
        r.stderr
    );
}

#[test]
fn quiet_silences_the_privilege_lines() {
    let Some(ns) = privileged("quiet") else {
        return;
    };
    let p = Ports {
        web: 22501,
        dns: 22502,
        local: 22503,
        nobody: 22504,
    };
    let _sm = make(&ns, &p);
    let bin = world_readable_binary();
    let web = p.web.to_string();
    // As nobody, privileges hide the other users' holders and options: two lines on stderr.
    let loud = as_nobody(&ns, &bin.path, &["snapshot", "-n", "current", "--json"]);
    assert!(loud.ok(), "{}", loud.stderr);
    let missing: Vec<String> = loud.json()["privileges"]["missing"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l.as_str().unwrap().to_string())
        .collect();
    assert!(!missing.is_empty());
    for line in &missing {
        assert!(loud.stderr.contains(line.as_str()), "{}", loud.stderr);
    }
    for args in [
        vec!["snapshot", "-n", "current", "--json", "-q"],
        vec!["snapshot", "-n", "current", "--quiet", "-f", "table", &web],
        vec!["findings", "-n", "current", "-q", "--json"],
        vec!["ports", "-n", "current", "-q"],
        vec!["who", "-n", "current", "-q", &web],
        vec!["can-bind", "tcp", "0.0.0.0:1", "-q"],
    ] {
        let r = as_nobody(&ns, &bin.path, &args);
        assert!(
            matches!(code(&r), 0 | 1 | 3),
            "{args:?}: {} {}",
            r.status,
            r.stderr
        );
        assert_eq!(r.stderr, "", "{args:?}: stderr not empty");
        assert!(!r.stdout.is_empty(), "{args:?}: no output");
        let without_q: Vec<&str> = args
            .iter()
            .copied()
            .filter(|a| *a != "-q" && *a != "--quiet")
            .collect();
        let r = as_nobody(&ns, &bin.path, &without_q);
        assert!(
            missing.iter().any(|l| r.stderr.contains(l.as_str())),
            "{without_q:?}: the lines are not there without -q: {}",
            r.stderr
        );
    }
}

/// Whether two JSON values have one shape: the same keys in objects, the same types, the
/// first elements of arrays alike when both have one (two runs a moment apart may differ
/// in what they found: a warning about a process that exited during one scan), and null
/// alike with anything (an unknown).
fn same_shape(a: &Value, b: &Value, at: &str) -> Result<(), String> {
    match (a, b) {
        (Value::Object(x), Value::Object(y)) => {
            let (kx, ky): (BTreeSet<&String>, BTreeSet<&String>) =
                (x.keys().collect(), y.keys().collect());
            if kx != ky {
                return Err(format!("{at}: keys {kx:?} vs {ky:?}"));
            }
            for (k, v) in x {
                same_shape(v, &y[k], &format!("{at}.{k}"))?;
            }
            Ok(())
        }
        (Value::Array(x), Value::Array(y)) => match (x.first(), y.first()) {
            (Some(p), Some(q)) => same_shape(p, q, &format!("{at}[0]")),
            _ => Ok(()),
        },
        (Value::Null, _) | (_, Value::Null) => Ok(()),
        (Value::Number(_), Value::Number(_))
        | (Value::String(_), Value::String(_))
        | (Value::Bool(_), Value::Bool(_)) => Ok(()),
        _ => Err(format!("{at}: {a} vs {b}")),
    }
}

#[test]
fn json_is_an_alias_of_format_json() {
    let Some(ns) = privileged("json_alias") else {
        return;
    };
    let p = Ports {
        web: 22601,
        dns: 22602,
        local: 22603,
        nobody: 22604,
    };
    let _sm = make(&ns, &p);
    let web = p.web.to_string();
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("s.json");
    let snap = inside(&ns, &["snapshot", "-n", "current", "-f", "json"]).expect_ok("snapshot");
    std::fs::write(&file, &snap.stdout).unwrap();
    let f = file.to_str().unwrap();
    let cases: Vec<Vec<&str>> = vec![
        vec!["snapshot", "-n", "current", &web],
        vec!["findings", "-n", "current", "--min-severity", "info"],
        vec!["ports", "-n", "current"],
        vec!["who", "-n", "current", &web],
        vec!["can-bind", "tcp", "0.0.0.0:1"],
        vec!["rules", "tcp"],
        vec!["diff", f, f],
    ];
    for args in cases {
        let mut long = args.clone();
        long.extend(["-f", "json"]);
        let mut alias = args.clone();
        alias.push("--json");
        let a = inside(&ns, &long);
        let b = inside(&ns, &alias);
        assert_eq!(code(&a), code(&b), "{args:?}: {} / {}", a.stderr, b.stderr);
        assert!(matches!(code(&a), 0 | 1 | 3), "{args:?}: {}", a.stderr);
        let (a, b) = (a.json(), b.json());
        if let Err(e) = same_shape(&a, &b, "") {
            panic!("{args:?}: --json and -f json differ in shape at {e}");
        }
        // What does not depend on the moment is the same output.
        if ["can-bind", "rules", "diff"].contains(&args[0]) {
            assert_eq!(a, b, "{args:?}");
        }
    }
    // Both at once is a usage error.
    let r = inside(&ns, &["ports", "--json", "-f", "table"]);
    assert_eq!(code(&r), 2);
}

/// Unknown is not "nobody": run as nobody, bindscope cannot enter another namespace, so a
/// port held only there is neither found nor denied: `who` exits 3 and names the
/// namespace it could not read; the same port asked of the namespace it runs in (which it
/// can read) is "nobody", status 1.
#[test]
fn who_cannot_say_nobody_for_a_namespace_it_did_not_enter() {
    let Some(here) = privileged("who_cannot_say_nobody (here)") else {
        return;
    };
    let Some(there) = privileged("who_cannot_say_nobody (there)") else {
        return;
    };
    let port = 24477;
    let _sm = Sockmaker::start(
        &there,
        &json!({"sockets": [tcp("hidden", "0.0.0.0", port, 1001)]}),
    );
    let bin = world_readable_binary();
    let target = port.to_string();
    let r = as_nobody(&here, &bin.path, &["who", "-q", &target]);
    assert_eq!(code(&r), 3, "{}{}", r.stdout, r.stderr);
    assert!(r.stdout.is_empty(), "{}", r.stdout);
    assert!(
        r.stderr.contains("not entered, so unknown") && r.stderr.contains(there.name()),
        "{}",
        r.stderr
    );
    let r = as_nobody(&here, &bin.path, &["who", "-q", "-n", "current", &target]);
    assert_eq!(code(&r), 1, "{}{}", r.stdout, r.stderr);
}
