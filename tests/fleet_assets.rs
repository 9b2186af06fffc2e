//! The fleet assets, checked by the tools that will run them:
//!
//! - `assets/prometheus/`: `promtool check rules` and `promtool test rules` (the unit tests
//!   show every alert firing and not firing), and the same rules loaded into a real
//!   Prometheus scraping `bindscope serve`, where they evaluate without error and the
//!   queue-full and takeover alerts go pending for the listener and port made for them.
//! - `assets/grafana/bindscope.json`: its structure (every panel has the datasource variable
//!   and targets), then every panel query and template variable evaluated by that real
//!   Prometheus, with the variables set to "All" and to one real value each.
//! - `assets/systemd/`: `systemd-analyze verify` of the three units (with ExecStart pointed at
//!   the built binary, since verify checks it exists), the privileges and sandbox settings
//!   the exporter depends on, and the textfile unit's command run for real.
//!
//! promtool, prometheus (Debian package `prometheus`) and systemd-analyze (package `systemd`)
//! missing is a failure, never a skip. The Prometheus test needs root, `ip`, python3 (like
//! tests/serve_e2e.rs): without them it prints why and passes as skipped, unless
//! `BINDSCOPE_REQUIRE_PRIVILEGED=1`. Run: `cargo test --test fleet_assets`.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::prometheus::*;
use common::*;
use serde_json::{Value, json};
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

const ASSETS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/assets");
/// What the unit's capability sets must hold, no more and no less (README "Privileges").
const CAPABILITIES: [&str; 3] = ["CAP_SYS_PTRACE", "CAP_DAC_READ_SEARCH", "CAP_SYS_ADMIN"];
const UNITS: [&str; 3] = [
    "bindscope-exporter.service",
    "bindscope-textfile.service",
    "bindscope-textfile.timer",
];

/// The tool's path, or a panic naming the Debian package that has it.
fn tool(name: &str, package: &str) -> PathBuf {
    which(name)
        .unwrap_or_else(|| panic!("no '{name}' on PATH: install the Debian package '{package}'"))
}

fn run(argv: &[&str]) -> Run {
    let mut cmd = Command::new(argv[0]);
    cmd.args(&argv[1..]);
    run_timeout(&mut cmd, Duration::from_secs(120))
}

fn asset(rel: &str) -> PathBuf {
    Path::new(ASSETS).join(rel)
}

// ---------------------------------------------------------------------------------------
// Alert rules

#[test]
fn promtool_checks_and_unit_tests_the_rules() {
    let promtool = tool("promtool", "prometheus");
    let promtool = promtool.to_str().expect("utf-8 path");
    let rules = asset("prometheus/bindscope-alerts.yml");
    let check = run(&[promtool, "check", "rules", rules.to_str().expect("utf-8")])
        .expect_ok("promtool check rules");
    let found = format!("SUCCESS: {} rules found", alert_names().len());
    assert!(check.stdout.contains(&found), "{}", check.stdout);
    // promtool resolves rule_files relative to the test file, so run it in place.
    let tests = asset("prometheus/bindscope-alerts.test.yml");
    let test = run(&[promtool, "test", "rules", tests.to_str().expect("utf-8")])
        .expect_ok("promtool test rules");
    assert!(test.stdout.contains("SUCCESS"), "{}", test.stdout);
    // Every alert has a test where it fires (an exp_alerts list with labels) and one where it
    // must not (an empty list).
    let text = std::fs::read_to_string(&tests).expect("read the rule tests");
    for name in alert_names() {
        let cases: Vec<&str> = text
            .split("- eval_time:")
            .skip(1)
            .filter(|case| {
                case.lines()
                    .any(|l| l.trim() == format!("alertname: {name}"))
            })
            .collect();
        assert!(
            cases.iter().any(|c| c.contains("exp_alerts: []")),
            "{name}: no test where it does not fire"
        );
        assert!(
            cases.iter().any(|c| c.contains("- exp_labels:")),
            "{name}: no test where it fires"
        );
    }
}

/// The alert names the rule file defines (`- alert: NAME` lines).
fn alert_names() -> Vec<String> {
    let text = std::fs::read_to_string(asset("prometheus/bindscope-alerts.yml")).expect("rules");
    let names: Vec<String> = text
        .lines()
        .filter_map(|l| l.trim().strip_prefix("- alert: "))
        .map(|n| n.trim().to_string())
        .collect();
    assert!(names.len() >= 6, "{names:?}");
    names
}

// ---------------------------------------------------------------------------------------
// The Grafana dashboard

fn dashboard() -> Value {
    let text = std::fs::read_to_string(asset("grafana/bindscope.json")).expect("dashboard");
    serde_json::from_str(&text).expect("the dashboard is JSON")
}

/// `(panel title, target)` for every query of every panel, rows' nested panels included.
fn targets(d: &Value) -> Vec<(String, Value)> {
    fn walk(panels: &[Value], out: &mut Vec<(String, Value)>) {
        for p in panels {
            for t in p["targets"].as_array().into_iter().flatten() {
                out.push((p["title"].as_str().unwrap_or("").to_string(), t.clone()));
            }
            walk(p["panels"].as_array().map_or(&[], |v| v), out);
        }
    }
    let mut out = Vec::new();
    walk(d["panels"].as_array().expect("panels"), &mut out);
    out
}

#[test]
fn dashboard_structure() {
    let d = dashboard();
    assert!(
        d["schemaVersion"].as_u64().is_some_and(|v| v >= 36),
        "schemaVersion"
    );
    assert!(
        d["uid"]
            .as_str()
            .is_some_and(|u| !u.is_empty() && u.len() <= 40)
    );
    let vars: BTreeMap<&str, &Value> = d["templating"]["list"]
        .as_array()
        .expect("templating.list")
        .iter()
        .map(|v| (v["name"].as_str().expect("variable name"), v))
        .collect();
    assert_eq!(vars["DS_PROMETHEUS"]["type"], "datasource");
    assert_eq!(vars["DS_PROMETHEUS"]["query"], "prometheus");
    for name in ["job", "instance", "netns", "port"] {
        let v = vars
            .get(name)
            .unwrap_or_else(|| panic!("no variable '{name}'"));
        assert_eq!(v["type"], "query", "{name}");
        assert_eq!(v["datasource"]["uid"], "${DS_PROMETHEUS}", "{name}");
        // "All" must be a regex every value matches, empty ones included (port="" of a
        // namespace-wide finding): Grafana's default All is a list of the values seen.
        assert_eq!(v["allValue"], ".*", "{name}");
    }
    let ds = json!({"type": "prometheus", "uid": "${DS_PROMETHEUS}"});
    let mut ids = BTreeSet::new();
    let mut titles = BTreeSet::new();
    let mut rows = 0;
    for p in d["panels"].as_array().expect("panels") {
        assert!(
            ids.insert(p["id"].as_u64().expect("panel id")),
            "duplicate id: {p}"
        );
        let g = &p["gridPos"];
        for k in ["h", "w", "x", "y"] {
            assert!(g[k].is_u64(), "gridPos.{k} of {}", p["title"]);
        }
        assert!(
            g["x"].as_u64().unwrap() + g["w"].as_u64().unwrap() <= 24,
            "{}",
            p["title"]
        );
        if p["type"] == "row" {
            rows += 1;
            continue;
        }
        let title = p["title"].as_str().expect("title");
        assert!(titles.insert(title.to_string()), "duplicate title {title}");
        assert!(
            p["description"].as_str().is_some_and(|s| !s.is_empty()),
            "{title}"
        );
        assert_eq!(p["datasource"], ds, "{title}: panel datasource");
        let ts = p["targets"].as_array().expect("targets");
        assert!(!ts.is_empty(), "{title}: no targets");
        let mut refs = BTreeSet::new();
        for t in ts {
            assert_eq!(t["datasource"], ds, "{title}: target datasource");
            assert!(t["expr"].as_str().is_some_and(|e| !e.trim().is_empty()));
            assert!(refs.insert(t["refId"].as_str().expect("refId")), "{title}");
        }
    }
    assert!(rows >= 4, "rows: {rows}");
    for want in [
        "Exporters up",
        "Sockets by state and scope",
        "Current findings by severity",
        "Listeners",
        "Accept queue length vs backlog",
        "SYN_RECV",
        "Findings over time",
        "Current findings",
        "TcpExt listen overflows and drops",
        "Collection errors",
        "Scan and scrape duration",
    ] {
        assert!(titles.contains(want), "no panel '{want}': {titles:?}");
    }
}

/// The panels that must show data on any host the exporter scrapes (a listener with a
/// queue, findings): empty there means a wrong metric or label name.
const CORE_PANELS: [&str; 7] = [
    "Exporters up",
    "Sockets by state and scope",
    "Current findings by severity",
    "Listeners",
    "Accept queue length vs backlog",
    "Findings over time",
    "Current findings",
];

/// Grafana's substitutions: the dashboard's variables, then the built-in ones Prometheus
/// panels use. Anything left starting with `$` is a variable this test does not know.
fn substitute(expr: &str, vars: &[(&str, &str)]) -> String {
    let mut out = expr.to_string();
    let builtins = [
        ("$__rate_interval", "1m"),
        ("$__interval", "15s"),
        ("$__range", "1h"),
    ];
    for (name, value) in builtins.iter().chain(vars) {
        out = out.replace(&format!("${{{}}}", name.trim_start_matches('$')), value);
        out = out.replace(name, value);
    }
    assert!(!out.contains('$'), "unknown variable left in {out}");
    out
}

/// `value` as a regex that matches only itself (Grafana escapes a selected value so).
fn regex_quote(value: &str) -> String {
    value
        .chars()
        .flat_map(|c| {
            let special = "\\.+*?()|[]{}^$".contains(c);
            special.then_some('\\').into_iter().chain([c])
        })
        .collect::<String>()
        .replace('\\', "\\\\")
}

/// A range query over the last minute, as a time series panel asks.
fn query_range(ns: &Netns, expr: &str) -> Vec<Value> {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("clock")
        .as_secs();
    let path = format!(
        "/api/v1/query_range?query={}&start={}&end={now}&step=2",
        encode(expr),
        now - 60
    );
    api(ns, &path, expr)["result"]
        .as_array()
        .cloned()
        .unwrap_or_default()
}

/// `label_values(SELECTOR, LABEL)` (Grafana's variable query) through Prometheus's label
/// values API, which is what Grafana sends for it.
fn label_values(ns: &Netns, definition: &str) -> Vec<String> {
    let inner = definition
        .strip_prefix("label_values(")
        .and_then(|s| s.strip_suffix(')'))
        .unwrap_or_else(|| panic!("not a label_values query: {definition}"));
    let (selector, label) = inner
        .rsplit_once(',')
        .expect("label_values(selector, label)");
    let path = format!(
        "/api/v1/label/{}/values?match[]={}",
        label.trim(),
        encode(selector.trim())
    );
    api(ns, &path, definition)
        .as_array()
        .expect("label values")
        .iter()
        .filter_map(|v| v.as_str().map(str::to_string))
        .collect()
}

#[test]
fn dashboard_and_rules_against_a_real_prometheus() {
    let Some(ns) = privileged("dashboard_and_rules_against_a_real_prometheus") else {
        return;
    };
    let sm = Sockmaker::start(
        &ns,
        &json!({"sockets": [
            // Three clients connected, none accepted: a queue of 3 under a backlog of 8.
            {"name": "busy", "proto": "tcp", "family": 4, "addr": "0.0.0.0", "port": 0,
             "listen": 8, "uid": 1001, "clients": 3},
            // A backlog of 2 holds 3 (the kernel refuses only above the backlog): full.
            {"name": "full", "proto": "tcp", "family": 4, "addr": "127.0.0.1", "port": 0,
             "listen": 2, "uid": 1001, "clients": 3},
            // Two users on one UDP port with SO_REUSEADDR: takeover and cross-user findings.
            {"name": "wild", "proto": "udp", "family": 4, "addr": "0.0.0.0", "port": 0,
             "options": {"reuseaddr": true}, "uid": 1001},
            {"name": "spy", "proto": "udp", "family": 4, "addr": "127.0.0.1", "port_of": "wild",
             "options": {"reuseaddr": true}, "uid": 1002},
        ]}),
    );
    let (busy, full, shared) = (sm.port("busy"), sm.port("full"), sm.port("wild"));
    let _exporter = start_exporter(&ns, &["-n", "current"]);

    let dir = tempfile::tempdir().expect("temp dir");
    // The rules as shipped, loaded by path: what a user's rule_files line does.
    let _prom = start_prometheus(
        &ns,
        &format!(
            "global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\n\
             rule_files:\n  - {}\n\
             scrape_configs:\n  - job_name: bindscope\n    static_configs:\n      - targets: ['{EXPORTER}']\n",
            asset("prometheus/bindscope-alerts.yml").display()
        ),
        dir.path(),
    );

    // Enough scrapes that a rate over 1m has two samples and the previous scrape's duration
    // is exported, all of them up.
    assert!(
        wait_for(Duration::from_secs(90), || {
            !query(&ns, "count_over_time(up{job=\"bindscope\"}[1m]) >= 3").is_empty()
        }),
        "Prometheus did not scrape the exporter three times"
    );
    assert_eq!(
        query(&ns, "min_over_time(up{job=\"bindscope\"}[1m])")
            .first()
            .map(|s| s["value"][1].clone()),
        Some(json!("1"))
    );
    let busy_series = query(
        &ns,
        &format!("bindscope_listener_accept_queue_length{{port=\"{busy}\"}}"),
    );
    assert_eq!(busy_series.len(), 1, "{busy_series:?}");
    let netns = busy_series[0]["metric"]["netns"]
        .as_str()
        .expect("netns label")
        .to_string();

    // The template variables: each query answers, and lists the values this host has.
    let d = dashboard();
    let vars_all: Vec<(&str, &str)> = vec![
        ("$job", ".*"),
        ("$instance", ".*"),
        ("$netns", ".*"),
        ("$port", ".*"),
    ];
    let (netns_re, instance_re, busy_s) =
        (regex_quote(&netns), regex_quote(EXPORTER), busy.to_string());
    let vars_one: Vec<(&str, &str)> = vec![
        ("$job", "bindscope"),
        ("$instance", &instance_re),
        ("$netns", &netns_re),
        ("$port", &busy_s),
    ];
    let want: BTreeMap<&str, &str> = [
        ("job", "bindscope"),
        ("instance", EXPORTER),
        ("netns", netns.as_str()),
        ("port", busy_s.as_str()),
    ]
    .into();
    for v in d["templating"]["list"].as_array().expect("variables") {
        let Some(definition) = v["definition"].as_str() else {
            continue;
        };
        let name = v["name"].as_str().expect("name");
        for vars in [&vars_all, &vars_one] {
            let values = label_values(&ns, &substitute(definition, vars));
            assert!(
                values.iter().any(|x| x == want[name]),
                "variable {name} ({definition}) lists {values:?}, not {}",
                want[name]
            );
        }
    }

    // Every panel query, with the variables at "All" and at this host's values: no error,
    // and data for the core panels (with "All": for every panel, since this host has all).
    let all = targets(&d);
    assert!(all.len() >= 15, "{} targets", all.len());
    for (title, t) in &all {
        let expr = t["expr"].as_str().expect("expr");
        let instant = t["instant"].as_bool().unwrap_or(false);
        for (which, vars) in [("All", &vars_all), ("one", &vars_one)] {
            let q = substitute(expr, vars);
            let result = if instant {
                query(&ns, &q)
            } else {
                query_range(&ns, &q)
            };
            let core = CORE_PANELS.contains(&title.as_str());
            if which == "All" || core {
                assert!(
                    !result.is_empty(),
                    "panel '{title}' ({which}): no data for {q}"
                );
            }
            // A port picked in the variable narrows the per-port panels to it.
            if which == "one" && q.contains("port=~") {
                for s in &result {
                    let port = s["metric"]["port"].as_str();
                    assert!(
                        port.is_none_or(|p| p == busy_s),
                        "panel '{title}': port {port:?} with $port={busy}: {q}"
                    );
                }
            }
        }
    }

    // The rules as Prometheus evaluates them on real series: every one healthy, and the
    // full queue and the shared UDP port pending (their `for` has not run out).
    let names: BTreeSet<String> = alert_names().into_iter().collect();
    let mut seen = BTreeSet::new();
    let mut pending: Vec<Value> = Vec::new();
    assert!(
        wait_for(Duration::from_secs(30), || {
            let groups = api(&ns, "/api/v1/rules", "rules");
            seen.clear();
            for g in groups["groups"].as_array().into_iter().flatten() {
                for r in g["rules"].as_array().into_iter().flatten() {
                    assert_ne!(r["health"], "err", "rule {r}");
                    if r["health"] == "ok" {
                        seen.insert(r["name"].as_str().unwrap_or("").to_string());
                    }
                }
            }
            pending = api(&ns, "/api/v1/alerts", "alerts")["alerts"]
                .as_array()
                .cloned()
                .unwrap_or_default();
            let has = |name: &str, port: u16| {
                let port = port.to_string();
                pending.iter().any(|a| {
                    a["labels"]["alertname"] == name
                        && a["labels"]["port"].as_str() == Some(port.as_str())
                        && (a["state"] == "pending" || a["state"] == "firing")
                })
            };
            seen == names
                && has("BindscopeAcceptQueueFull", full)
                && has("BindscopePortTakeoverFinding", shared)
        }),
        "rules evaluated: {seen:?} of {names:?}; alerts: {pending:?}"
    );
    // The busy listener is below its backlog and not growing: neither queue alert.
    assert!(
        !pending
            .iter()
            .any(|a| a["labels"]["port"].as_str() == Some(busy_s.as_str())
                && a["labels"]["alertname"]
                    .as_str()
                    .unwrap_or("")
                    .contains("Queue")),
        "{pending:?}"
    );
}

// ---------------------------------------------------------------------------------------
// systemd units

/// `key -> values` of one unit file (a key may repeat), comments and sections dropped.
fn unit_settings(text: &str) -> BTreeMap<String, Vec<String>> {
    let mut out: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for line in text.lines().map(str::trim) {
        if line.is_empty() || line.starts_with('#') || line.starts_with('[') {
            continue;
        }
        let (k, v) = line.split_once('=').expect("key=value");
        out.entry(k.trim().to_string())
            .or_default()
            .push(v.trim().to_string());
    }
    out
}

fn unit_text(name: &str) -> String {
    std::fs::read_to_string(asset(&format!("systemd/{name}"))).expect("unit file")
}

#[test]
fn systemd_analyze_verifies_the_units() {
    let analyze = tool("systemd-analyze", "systemd");
    let dir = tempfile::tempdir().expect("temp dir");
    // verify checks that ExecStart's program exists and is executable: point it at the
    // binary this test built (the units name /usr/bin/bindscope, where the package puts it).
    let mut paths = Vec::new();
    for name in UNITS {
        let text = unit_text(name);
        let rewritten = text.replace("/usr/bin/bindscope", BINDSCOPE);
        if name.ends_with(".service") {
            assert_ne!(
                text, rewritten,
                "{name}: ExecStart is not /usr/bin/bindscope"
            );
        }
        let path = dir.path().join(name);
        std::fs::write(&path, rewritten).expect("write unit");
        paths.push(path.to_str().expect("utf-8").to_string());
    }
    // --man=no: the man page comes with the package, not with a build tree.
    let mut argv = vec![analyze.to_str().expect("utf-8"), "verify", "--man=no"];
    argv.extend(paths.iter().map(String::as_str));
    let r = run(&argv);
    // verify exits 0 on unknown keys and unparsable values, which it only prints: any
    // output is a failure.
    assert!(
        r.ok() && r.stdout.trim().is_empty() && r.stderr.trim().is_empty(),
        "systemd-analyze verify: {}\n{}\n{}",
        r.status,
        r.stdout,
        r.stderr
    );

    // And it does notice a broken unit (so the silence above means something).
    let broken = dir.path().join("broken.service");
    std::fs::write(
        &broken,
        unit_text("bindscope-exporter.service")
            .replace("/usr/bin/bindscope", BINDSCOPE)
            .replace("ProtectProc=default", "ProtectProc=defualt"),
    )
    .expect("write");
    let r = run(&[
        analyze.to_str().expect("utf-8"),
        "verify",
        "--man=no",
        broken.to_str().expect("utf-8"),
    ]);
    assert!(r.stderr.contains("defualt"), "{}", r.stderr);
}

#[test]
fn the_exporter_unit_grants_what_bindscope_needs_and_nothing_more() {
    let analyze = tool("systemd-analyze", "systemd");
    let exporter = unit_settings(&unit_text("bindscope-exporter.service"));
    let textfile = unit_settings(&unit_text("bindscope-textfile.service"));
    let one = |u: &BTreeMap<String, Vec<String>>, k: &str| -> String {
        let v = u.get(k).unwrap_or_else(|| panic!("no {k}="));
        assert_eq!(v.len(), 1, "{k}= set {} times", v.len());
        v[0].clone()
    };
    assert_eq!(
        one(&exporter, "ExecStart"),
        format!("/usr/bin/bindscope serve --listen {EXPORTER}")
    );
    let caps: BTreeSet<&str> = CAPABILITIES.into();
    for (name, u) in [("exporter", &exporter), ("textfile", &textfile)] {
        for k in ["CapabilityBoundingSet", "AmbientCapabilities"] {
            let got: BTreeSet<String> = one(u, k).split_whitespace().map(String::from).collect();
            let got: BTreeSet<&str> = got.iter().map(String::as_str).collect();
            assert_eq!(got, caps, "{name}: {k}");
        }
        for (k, v) in [
            ("NoNewPrivileges", "yes"),
            ("ProtectSystem", "strict"),
            ("ProtectHome", "read-only"),
            ("PrivateTmp", "yes"),
            ("ProtectKernelTunables", "yes"),
            // Other users' processes must stay visible (their fds are the holders), and so
            // must /proc/net/netstat (the TcpExt counters).
            ("ProtectProc", "default"),
            ("ProcSubset", "all"),
            ("SystemCallArchitectures", "native"),
        ] {
            assert_eq!(one(u, k), v, "{name}: {k}");
        }
        // Own namespaces would hide the host's sockets; RestrictNamespaces forbids setns.
        for k in [
            "PrivateNetwork",
            "PrivateUsers",
            "RestrictNamespaces",
            "IPAddressDeny",
        ] {
            assert!(!u.contains_key(k), "{name}: {k}= must not be set");
        }
        let families: BTreeSet<String> = one(u, "RestrictAddressFamilies")
            .split_whitespace()
            .map(String::from)
            .collect();
        assert!(
            ["AF_UNIX", "AF_INET", "AF_INET6", "AF_NETLINK"]
                .iter()
                .all(|f| families.contains(*f)),
            "{name}: {families:?}"
        );
        let filter: Vec<String> = u["SystemCallFilter"].clone();
        assert_eq!(filter, ["@system-service pidfd_getfd"], "{name}");
    }
    // What the filter allows, as this systemd expands it: setns and pidfd_open are in
    // @system-service, pidfd_getfd is not (so it must be named), and the calls that drop
    // privileges around a user's file (capset, setresuid) are in.
    let allowed = expand_syscalls(&analyze, "@system-service");
    for call in [
        "setns",
        "pidfd_open",
        "capget",
        "capset",
        "setresuid",
        "socket",
        "bind",
    ] {
        assert!(allowed.contains(call), "@system-service lacks {call}");
    }
    assert!(
        !allowed.contains("pidfd_getfd"),
        "pidfd_getfd joined @system-service: the explicit entry can go"
    );
    let timer = unit_settings(&unit_text("bindscope-textfile.timer"));
    assert_eq!(one(&timer, "OnCalendar"), "minutely");
}

/// The system calls of a `systemd-analyze syscall-filter` group, groups inside it expanded.
fn expand_syscalls(analyze: &Path, group: &str) -> BTreeSet<String> {
    let r = run(&[analyze.to_str().expect("utf-8"), "syscall-filter", group]).expect_ok(group);
    let mut out = BTreeSet::new();
    for word in r
        .stdout
        .lines()
        .filter(|l| !l.trim_start().starts_with('#'))
        .flat_map(str::split_whitespace)
    {
        if word == group {
            continue;
        }
        if word.starts_with('@') {
            out.extend(expand_syscalls(analyze, word));
        } else {
            out.insert(word.to_string());
        }
    }
    out
}

/// The textfile unit's command, run as written (with the output in a temp directory): it
/// writes a file node_exporter accepts (`promtool check metrics` is its parser and linter).
#[test]
fn the_textfile_unit_writes_valid_metrics() {
    let promtool = tool("promtool", "prometheus");
    let textfile = unit_settings(&unit_text("bindscope-textfile.service"));
    let exec = &textfile["ExecStart"][0];
    let target = "/var/lib/prometheus/node-exporter/bindscope.prom";
    assert_eq!(exec, &format!("/usr/bin/bindscope snapshot -o {target}"));
    assert_eq!(
        textfile["ReadWritePaths"],
        ["/var/lib/prometheus/node-exporter"]
    );
    let dir = tempfile::tempdir().expect("temp dir");
    let out = dir.path().join("bindscope.prom");
    let argv: Vec<String> = exec
        .replace("/usr/bin/bindscope", BINDSCOPE)
        .replace(target, out.to_str().expect("utf-8"))
        .split_whitespace()
        .map(String::from)
        .collect();
    let argv: Vec<&str> = argv.iter().map(String::as_str).collect();
    let r = run(&argv);
    assert!(r.ok(), "{argv:?}: {}\n{}", r.status, r.stderr);
    let text = std::fs::read_to_string(&out).expect("the textfile");
    assert!(text.contains("# TYPE bindscope_sockets gauge"), "{text}");
    let mode = std::os::unix::fs::PermissionsExt::mode(
        &std::fs::metadata(&out).expect("stat").permissions(),
    );
    assert_eq!(mode & 0o777, 0o644, "node_exporter runs as another user");
    let mut check = Command::new(&promtool);
    check.args(["check", "metrics"]);
    let r = {
        let mut child = check
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("promtool");
        use std::io::Write;
        child
            .stdin
            .take()
            .expect("stdin")
            .write_all(text.as_bytes())
            .expect("write");
        child.wait_with_output().expect("promtool check metrics")
    };
    assert!(
        r.status.success(),
        "promtool check metrics: {}{}",
        String::from_utf8_lossy(&r.stdout),
        String::from_utf8_lossy(&r.stderr)
    );
}

// ---------------------------------------------------------------------------------------
// The exporter's sandbox, run without systemd

/// Execs argv[3:] the way the unit's SystemCallFilter= and RestrictAddressFamilies= would
/// let it run: a seccomp allow-list of the given system calls (everything else fails with
/// EPERM, as SystemCallErrorNumber=EPERM says; SystemCallArchitectures=native: other
/// architectures are killed), socket() only for the given address families, and
/// no_new_privs (NoNewPrivileges=yes; libseccomp sets it when loading). Names this
/// architecture has no such call for (systemd's groups list every architecture's, such as
/// arm_fadvise64_64) are left out, as systemd leaves them out.
const SECCOMP_EXEC: &str = r#"
import errno, os, seccomp, socket, sys
calls, families, argv = sys.argv[1].split(","), sys.argv[2].split(","), sys.argv[3:]
f = seccomp.SyscallFilter(defaction=seccomp.ERRNO(errno.EPERM))
for name in calls:
    if name == "socket":
        continue
    try:
        nr = seccomp.resolve_syscall(seccomp.Arch.NATIVE, name)
    except ValueError:
        continue
    if nr < 0:  # libseccomp's pseudo-number: no such call on this architecture
        continue
    f.add_rule(seccomp.ALLOW, name)
for fam in families:
    f.add_rule(seccomp.ALLOW, "socket", seccomp.Arg(0, seccomp.EQ, int(getattr(socket, fam))))
f.load()
os.execv(argv[0], argv)
"#;

/// One run of `argv` (bindscope and its arguments) in `ns`, inside the exporter unit's
/// capability bounding set (root's uid, as the unit) and its seccomp filter, unless
/// `caps` or `calls` say otherwise.
fn sandboxed(ns: &Netns, caps: &[&str], calls: &BTreeSet<String>, argv: &[&str]) -> Command {
    let bounding = std::iter::once("-all".to_string())
        .chain(
            caps.iter()
                .map(|c| format!("+{}", c.trim_start_matches("CAP_").to_ascii_lowercase())),
        )
        .collect::<Vec<_>>()
        .join(",");
    let exporter = unit_settings(&unit_text("bindscope-exporter.service"));
    let families = exporter["RestrictAddressFamilies"][0].replace(' ', ",");
    let calls = calls.iter().cloned().collect::<Vec<_>>().join(",");
    let py = python();
    let mut full = vec![
        "setpriv",
        "--bounding-set",
        bounding.as_str(),
        py.as_str(),
        "-c",
        SECCOMP_EXEC,
        calls.as_str(),
        families.as_str(),
    ];
    full.extend_from_slice(argv);
    ns.cmd(&full)
}

/// The system calls the exporter unit's SystemCallFilter= allows, as this systemd expands it.
fn unit_syscalls(analyze: &Path) -> BTreeSet<String> {
    let exporter = unit_settings(&unit_text("bindscope-exporter.service"));
    let mut calls = BTreeSet::new();
    for entry in exporter["SystemCallFilter"][0].split_whitespace() {
        if entry.starts_with('@') {
            calls.extend(expand_syscalls(analyze, entry));
        } else {
            calls.insert(entry.to_string());
        }
    }
    calls
}

/// systemd-run needs systemd as PID 1, so the unit cannot be started here. Its privileges
/// and system call filter can: bindscope runs with exactly the unit's capability bounding
/// set and a seccomp filter built from its SystemCallFilter= and RestrictAddressFamilies=,
/// from another namespace than the sockets' (as the exporter on a host with containers),
/// and still enters that namespace, lists another user's process as the holder and reads
/// the socket's options; `serve` answers /metrics with the listener. Taking CAP_SYS_ADMIN,
/// CAP_SYS_PTRACE with CAP_DAC_READ_SEARCH, or pidfd_getfd away loses the namespace, the
/// holder or the options: each is needed. (Not emulated:
/// ProtectSystem= and the other mount settings, which only make files read-only.)
#[test]
fn the_exporter_sandbox_still_sees_other_users_and_namespaces() {
    let Some(ns) = privileged("the_exporter_sandbox_still_sees_other_users_and_namespaces") else {
        return;
    };
    let Some(watched) = privileged("the_exporter_sandbox (watched)") else {
        return;
    };
    let analyze = tool("systemd-analyze", "systemd");
    let py = python();
    let probe = run(&[&py, "-c", "import seccomp"]);
    assert!(
        probe.ok(),
        "{py} cannot import seccomp: install the Debian package 'python3-seccomp' ({})",
        probe.stderr
    );
    let sm = Sockmaker::start(
        &watched,
        &json!({"sockets": [
            {"name": "l", "proto": "tcp", "family": 4, "addr": "0.0.0.0", "port": 0,
             "listen": 16, "uid": 1001, "options": {"reuseaddr": true}},
        ]}),
    );
    let port = sm.port("l");
    let calls = unit_syscalls(&analyze);
    let snapshot = |caps: &[&str], calls: &BTreeSet<String>| -> Value {
        let mut cmd = sandboxed(
            &ns,
            caps,
            calls,
            &[BINDSCOPE, "snapshot", "-n", watched.name(), "-f", "json"],
        );
        run_timeout(&mut cmd, RUN_TIMEOUT).json()
    };
    let find = |snap: &Value| -> Option<Value> {
        snap["sockets"]
            .as_array()
            .into_iter()
            .flatten()
            .find(|s| s["local_port"] == port && s["state"] == "listen")
            .cloned()
    };

    let snap = snapshot(&CAPABILITIES, &calls);
    let s = find(&snap).unwrap_or_else(|| panic!("the sandboxed run lost the listener: {snap}"));
    assert_eq!(s["uid"], 1001, "{s}");
    assert_eq!(s["options"]["reuseaddr"], true, "options: {}", s["options"]);
    let held = holders(&s);
    assert!(
        held.iter().any(|&(_, _, uid)| uid == 1001),
        "no holder of uid 1001: {held:?}"
    );

    // Without CAP_SYS_ADMIN the namespace is not entered: no listener.
    let snap = snapshot(&CAPABILITIES[..2], &calls);
    assert!(
        find(&snap).is_none(),
        "entered another namespace without CAP_SYS_ADMIN: {snap}"
    );
    // Without CAP_SYS_PTRACE and CAP_DAC_READ_SEARCH the other user's process is no
    // holder and the options are unknown.
    let snap = snapshot(&CAPABILITIES[2..], &calls);
    let s = find(&snap).expect("the listener");
    assert!(
        !holders(&s).iter().any(|&(_, _, uid)| uid == 1001),
        "read uid 1001's fds without CAP_SYS_PTRACE: {s}"
    );
    assert!(s["options"]["reuseaddr"].is_null(), "{}", s["options"]);
    // Without pidfd_getfd the options are unknown (null with the reason).
    let mut fewer = calls.clone();
    fewer.remove("pidfd_getfd");
    let snap = snapshot(&CAPABILITIES, &fewer);
    let s = find(&snap).expect("the listener");
    assert!(s["options"]["reuseaddr"].is_null(), "{}", s["options"]);

    // serve itself (HTTP, the sampler thread) inside the same sandbox.
    let child = sandboxed(
        &ns,
        &CAPABILITIES,
        &calls,
        &[
            BINDSCOPE,
            "serve",
            "--listen",
            EXPORTER,
            "--interval",
            "1s",
            "-n",
            watched.name(),
        ],
    )
    .stdout(Stdio::null())
    .stderr(Stdio::inherit())
    .spawn()
    .expect("start the sandboxed exporter");
    let _serve = Guard(child);
    let want = format!("port=\"{port}\"");
    let mut body = String::new();
    assert!(
        wait_for(Duration::from_secs(30), || {
            let (status, b) = get(&ns, &format!("http://{EXPORTER}/metrics"), None);
            body = b;
            status == 200
                && body
                    .lines()
                    .any(|l| l.starts_with("bindscope_listener_sockets{") && l.contains(&want))
        }),
        "the sandboxed exporter does not serve the listener: {body}"
    );
    assert!(
        body.lines()
            .any(|l| l == "bindscope_collection_errors_total 0"),
        "{body}"
    );
}
