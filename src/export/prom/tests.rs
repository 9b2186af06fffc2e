use super::encode::escape;
use super::*;
use crate::model::{AcceptQueue, Finding, SocketId, State};
use crate::testing::{netns, snapshot_of, socket};
use proptest::prelude::*;

/// One parsed sample: name, labels (unescaped), value.
#[derive(Debug, PartialEq)]
struct Sample {
    name: String,
    labels: BTreeMap<String, String>,
    value: f64,
}

/// A small parser of the text format, strict enough to catch broken escaping: it fails
/// on anything it does not understand.
fn parse(text: &str) -> Vec<Sample> {
    text.lines()
        .filter(|l| !l.starts_with('#'))
        .map(|l| parse_line(l).unwrap_or_else(|| panic!("unparsable line {l:?}")))
        .collect()
}

fn parse_line(line: &str) -> Option<Sample> {
    let name_end = line.find(['{', ' '])?;
    let name = line[..name_end].to_string();
    let mut labels = BTreeMap::new();
    let mut rest = &line[name_end..];
    if let Some(body) = rest.strip_prefix('{') {
        let mut chars = body.char_indices();
        let mut key = String::new();
        loop {
            let (_, c) = chars.next()?;
            match c {
                '}' => break,
                ',' => {}
                '=' => {
                    if chars.next()?.1 != '"' {
                        return None;
                    }
                    let mut value = String::new();
                    loop {
                        match chars.next()?.1 {
                            '"' => break,
                            '\\' => match chars.next()?.1 {
                                '\\' => value.push('\\'),
                                '"' => value.push('"'),
                                'n' => value.push('\n'),
                                _ => return None,
                            },
                            c => value.push(c),
                        }
                    }
                    labels.insert(std::mem::take(&mut key), value);
                }
                c => key.push(c),
            }
        }
        let consumed = chars.next().map(|(i, _)| i).unwrap_or(body.len());
        rest = &body[consumed..];
        rest = rest.strip_prefix('}').unwrap_or(rest);
    }
    let value = rest.strip_prefix(' ')?.parse().ok()?;
    Some(Sample {
        name,
        labels,
        value,
    })
}

fn export(snap: &Snapshot) -> String {
    let mut out = Vec::new();
    write(&mut out, snap).expect("write to a Vec");
    String::from_utf8(out).expect("utf-8")
}

fn find<'a>(samples: &'a [Sample], name: &str) -> Vec<&'a Sample> {
    samples.iter().filter(|s| s.name == name).collect()
}

fn one_host() -> Snapshot {
    snapshot_of(vec![socket()], vec![netns(1, Some("host"), None)])
}

#[test]
fn listener_series_and_labels() {
    let text = export(&one_host());
    let samples = parse(&text);
    let len = find(&samples, "bindscope_listener_accept_queue_length");
    assert_eq!(len.len(), 1, "{text}");
    let want: BTreeMap<String, String> = [
        ("netns", "host"),
        ("proto", "tcp"),
        ("family", "ipv6"),
        ("address", "::"),
        ("port", "8080"),
        ("device", "lo"),
        ("user", "alice"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect();
    assert_eq!(len[0].labels, want);
    assert_eq!(len[0].value, 3.0);
    let backlog = find(&samples, "bindscope_listener_accept_queue_backlog");
    assert_eq!(backlog[0].value, 128.0);
    assert_eq!(find(&samples, "bindscope_listener_syn_recv")[0].value, 2.0);
    assert_eq!(find(&samples, "bindscope_listener_sockets")[0].value, 1.0);
    assert!(text.contains("# TYPE bindscope_listener_syn_recv gauge\n"));
    assert!(!text.contains("1-2a"), "no socket ids in labels: {text}");
}

#[test]
fn reuseport_members_are_one_series() {
    let mut a = socket();
    a.options.reuseport = Some(true);
    let mut b = a.clone();
    b.id = SocketId("1-2b".into());
    b.accept_queue = Some(AcceptQueue {
        len: 10,
        backlog: 128,
    });
    b.syn_recv = Some(5);
    let mut other_port = a.clone();
    other_port.id = SocketId("1-2c".into());
    other_port.local_port = 8081;
    let snap = snapshot_of(vec![a, b, other_port], vec![netns(1, Some("host"), None)]);
    let samples = parse(&export(&snap));
    let on_8080 = |name: &str| -> f64 {
        let found: Vec<&Sample> = find(&samples, name)
            .into_iter()
            .filter(|s| s.labels["port"] == "8080")
            .collect();
        assert_eq!(found.len(), 1, "{name}: one series");
        found[0].value
    };
    assert_eq!(on_8080("bindscope_listener_sockets"), 2.0);
    assert_eq!(on_8080("bindscope_listener_accept_queue_length"), 13.0);
    assert_eq!(on_8080("bindscope_listener_accept_queue_backlog"), 256.0);
    assert_eq!(on_8080("bindscope_listener_syn_recv"), 7.0);
    assert_eq!(find(&samples, "bindscope_listener_sockets").len(), 2);
}

#[test]
fn shared_syn_recv_is_counted_once_and_unknown_is_left_out() {
    let mut a = socket();
    a.syn_recv = Some(9);
    a.syn_recv_shared = true;
    let mut b = a.clone();
    b.id = SocketId("1-2b".into());
    let mut unknown = socket();
    unknown.id = SocketId("1-2c".into());
    unknown.local_port = 9000;
    unknown.syn_recv = None;
    unknown.accept_queue = None;
    let snap = snapshot_of(vec![a, b, unknown], vec![netns(1, Some("host"), None)]);
    let samples = parse(&export(&snap));
    let syn = find(&samples, "bindscope_listener_syn_recv");
    assert_eq!(syn.len(), 1, "no series for the unknown one");
    assert_eq!(syn[0].value, 9.0, "group total taken once");
    assert_eq!(
        find(&samples, "bindscope_listener_accept_queue_length").len(),
        1
    );
    assert_eq!(find(&samples, "bindscope_listener_sockets").len(), 2);
}

#[test]
fn label_values_are_cleaned_then_escaped() {
    let mut s = socket();
    s.user = Some("a\"b\\c\nd\x1b[31m\u{202e}".into());
    let snap = snapshot_of(vec![s], vec![netns(1, Some("ns\"\\"), None)]);
    let text = export(&snap);
    assert!(
        text.contains(r#"user="a\"b\\c\\x0ad\\x1b[31m\\u{202e}""#),
        "{text}"
    );
    assert!(text.contains(r#"netns="ns\"\\""#), "{text}");
    let samples = parse(&text);
    let len = find(&samples, "bindscope_listener_accept_queue_length");
    assert_eq!(len[0].labels["user"], "a\"b\\c\\x0ad\\x1b[31m\\u{202e}");
    assert_eq!(len[0].labels["netns"], "ns\"\\");
    assert_eq!(escape("x\ny"), "x\\ny", "newline escape kept for safety");
}

#[test]
fn every_known_finding_kind_has_a_series() {
    let mut snap = one_host();
    let finding = |kind: &str, severity| Finding {
        kind: kind.into(),
        severity,
        sockets: vec![],
        summary: String::new(),
        explanation: String::new(),
        problem: None,
    };
    snap.findings = vec![
        finding("accept_queue_full", Severity::Critical),
        finding("accept_queue_full", Severity::Critical),
        finding("from_the_future\"", Severity::Info),
    ];
    let samples = parse(&export(&snap));
    let f = find(&samples, "bindscope_findings");
    assert_eq!(f.len(), FindingKind::ALL.len() * 4 + 1);
    let value = |kind: &str, sev: &str| {
        f.iter()
            .find(|s| s.labels["kind"] == kind && s.labels["severity"] == sev)
            .map(|s| s.value)
    };
    assert_eq!(value("accept_queue_full", "critical"), Some(2.0));
    assert_eq!(value("accept_queue_full", "warning"), Some(0.0));
    assert_eq!(value("holder_unknown", "info"), Some(0.0));
    assert_eq!(value("from_the_future\"", "info"), Some(1.0));
}

/// The zero series are only as good as `FindingKind::ALL`: it must list every kind the README's
/// findings table (product.md's table, as shipped) documents, in that order.
#[test]
fn known_kinds_match_the_readme_table() {
    let readme = include_str!("../../../README.md");
    let table: Vec<&str> = readme
        .lines()
        .skip_while(|l| !l.starts_with("| kind | when |"))
        .skip(2)
        .take_while(|l| l.starts_with("| `"))
        .filter_map(|l| l.split('`').nth(1))
        .collect();
    let names: Vec<&str> = FindingKind::ALL.iter().map(FindingKind::name).collect();
    assert_eq!(table, names);
}

#[test]
fn tcpext_counters_per_namespace_and_unknown_left_out() {
    let mut snap = one_host();
    snap.netns[0].counters.listen_overflows = Some(7);
    snap.netns[0].counters.defer_accept_drop = Some(0);
    snap.netns.push(netns(2, None, Some("not entered")));
    let text = export(&snap);
    assert!(text.contains(
        "# TYPE bindscope_tcpext_listen_overflows_total counter\n\
         bindscope_tcpext_listen_overflows_total{netns=\"host\"} 7\n"
    ));
    assert!(text.contains("bindscope_tcpext_defer_accept_drop_total{netns=\"host\"} 0\n"));
    assert!(
        !text.contains("listen_drops"),
        "unknown counters are not emitted"
    );
    assert!(text.contains("bindscope_network_namespaces_not_entered 1\n"));
}

#[test]
fn namespaces_sharing_a_name_stay_apart() {
    let mut other = socket();
    other.id = SocketId("2-2a".into());
    other.netns = NetnsId(2);
    let snap = snapshot_of(
        vec![socket(), other],
        vec![netns(1, Some("web"), None), netns(2, Some("web"), None)],
    );
    let samples = parse(&export(&snap));
    let sockets = find(&samples, "bindscope_listener_sockets");
    let names: Vec<&str> = sockets.iter().map(|s| s.labels["netns"].as_str()).collect();
    assert_eq!(names, ["web net:[1]", "web net:[2]"]);
}

#[test]
fn merged_views_label_the_host() {
    let mut a = socket();
    a.host = Some("db-1".into());
    let mut b = socket();
    b.host = Some("db-2".into());
    let snap = snapshot_of(vec![a, b], vec![netns(1, Some("host"), None)]);
    let samples = parse(&export(&snap));
    let hosts: Vec<&str> = find(&samples, "bindscope_sockets")
        .iter()
        .map(|s| s.labels["host"].as_str())
        .collect();
    assert_eq!(hosts, ["db-1", "db-2"]);
}

#[test]
fn socket_counts_and_snapshot_metrics() {
    let mut bound = socket();
    bound.id = SocketId("1-2b".into());
    bound.state = State::Close;
    let mut snap = snapshot_of(vec![socket(), bound], vec![netns(1, Some("host"), None)]);
    snap.scan.duration_ms = 1500;
    let text = export(&snap);
    assert!(
        text.contains(
            "bindscope_sockets{netns=\"host\",proto=\"tcp\",state=\"close\",scope=\"wildcard\"} 1\n\
         bindscope_sockets{netns=\"host\",proto=\"tcp\",state=\"listen\",scope=\"wildcard\"} 1\n"
        ),
        "{text}"
    );
    assert!(
        text.contains("bindscope_snapshot_timestamp_seconds 1795330800\n"),
        "{text}"
    );
    assert!(
        text.contains("bindscope_scan_duration_seconds 1.5\n"),
        "{text}"
    );
    snap.taken_at = "2026-11-22T07:00:00.250Z".into();
    assert!(
        export(&snap).contains("bindscope_snapshot_timestamp_seconds 1795330800.25\n"),
        "the fraction is kept"
    );
    // Not a time of the file format (the loader warned): no timestamp is made up, even
    // from a text a lenient reading would take.
    for text in ["yesterday", "2026-11-22 07:00:00", ""] {
        snap.taken_at = text.into();
        assert!(!export(&snap).contains("timestamp"), "{text:?} is left out");
    }
}

#[test]
fn every_sample_has_help_and_type_and_is_unique() {
    let snap: Snapshot =
        serde_json::from_str(include_str!("../../../tests/fixtures/demo-snapshot.json"))
            .expect("fixture parses");
    let text = export(&snap);
    let samples = parse(&text);
    let mut seen = std::collections::BTreeSet::new();
    for s in &samples {
        assert!(text.contains(&format!("# HELP {} ", s.name)), "{}", s.name);
        assert!(text.contains(&format!("# TYPE {} ", s.name)), "{}", s.name);
        assert!(seen.insert((&s.name, &s.labels)), "duplicate {s:?}");
    }
}

#[test]
fn demo_fixture_queues_round_trip() {
    let snap: Snapshot =
        serde_json::from_str(include_str!("../../../tests/fixtures/demo-snapshot.json"))
            .expect("fixture parses");
    let ns = netns_labels(&snap);
    let samples = parse(&export(&snap));
    let listeners: Vec<&Socket> = snap.sockets.iter().filter(|s| s.is_listener()).collect();
    assert!(!listeners.is_empty());
    for s in listeners {
        let want = |name: &str| -> Vec<&Sample> {
            find(&samples, name)
                .into_iter()
                .filter(|x| {
                    x.labels["netns"] == ns[&s.netns]
                        && x.labels["address"] == s.local_addr.to_string()
                        && x.labels["port"] == s.local_port.to_string()
                        && x.labels["device"] == s.device.clone().unwrap_or_default()
                })
                .collect()
        };
        let q = s.accept_queue.expect("listeners have queues");
        let len = want("bindscope_listener_accept_queue_length");
        assert_eq!(len.len(), 1, "{:?}", s.id);
        assert_eq!(len[0].value, f64::from(q.len), "{:?}", s.id);
        let backlog = want("bindscope_listener_accept_queue_backlog");
        assert_eq!(backlog[0].value, f64::from(q.backlog), "{:?}", s.id);
        let syn = want("bindscope_listener_syn_recv");
        assert_eq!(syn[0].value, f64::from(s.syn_recv.expect("known")));
    }
}

/// The listener series of `port` on the container host, as label maps.
fn listener_labels(text: &str, port: u16) -> BTreeMap<String, String> {
    let samples = parse(text);
    let len = find(&samples, "bindscope_listener_sockets");
    let hits: Vec<_> = len
        .iter()
        .filter(|s| s.labels.get("port") == Some(&port.to_string()))
        .collect();
    assert_eq!(hits.len(), 1, "one series for {port}: {text}");
    hits[0].labels.clone()
}

#[test]
fn listeners_are_labelled_with_their_container_and_pod() {
    let text = export(&crate::testing::container_host());
    let l = |port| listener_labels(&text, port);
    assert_eq!(l(8080)["container"], "web");
    assert_eq!(l(8080)["pod"], "");
    assert_eq!(l(9090)["container"], "side");
    assert_eq!(l(9090)["pod"], "default/api");
    assert_eq!(l(8081)["container"], "web", "no holder: the owner");
    assert_eq!(l(18080)["container"], "podman:686f73746300");
    assert_eq!(l(18080)["netns"], "host");
    assert_eq!(l(22)["container"], "");
    // Metric labels stay stable: no holder hint on an unnamed namespace.
    assert_eq!(l(7000)["netns"], "net:[3]");
    // Without containers the series keep their labels as they were.
    let plain = export(&one_host());
    assert!(!plain.contains("container="), "{plain}");
    assert!(!plain.contains("pod="), "{plain}");
}

#[test]
fn container_labels_are_escaped_and_bounded() {
    let mut snap = crate::testing::container_host();
    let hostile = format!("a\"b\\c\nd{}", "x".repeat(500));
    for s in &mut snap.sockets {
        for h in &mut s.holders {
            if let Some(c) = &h.container {
                let mut c = (**c).clone();
                c.name = Some(hostile.clone());
                h.container = Some(std::sync::Arc::new(c));
            }
        }
    }
    let text = export(&snap);
    let v = &listener_labels(&text, 9090)["container"];
    assert_eq!(v.chars().count(), CONTAINER_LABEL_MAX);
    // Cleaned (the newline made visible), then escaped in the text, read back whole.
    assert!(v.starts_with(r#"a"b\c\x0ad"#), "{v}");
    assert!(text.contains(r#"container="a\"b\\c\\x0ad"#), "{text}");
    assert!(v.ends_with('…'));
}

/// `promtool check metrics` accepts the container host's text (the golden test checks
/// the demo's; this one has the `container` and `pod` labels).
#[test]
fn promtool_accepts_container_labels() {
    use std::io::Write as _;
    use std::process::{Command, Stdio};
    let text = export(&crate::testing::container_host());
    let mut child = Command::new("promtool")
        .args(["check", "metrics"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| {
            panic!("running promtool ({e}): install the Debian package 'prometheus'")
        });
    child
        .stdin
        .take()
        .expect("piped stdin")
        .write_all(text.as_bytes())
        .expect("write to promtool");
    let out = child.wait_with_output().expect("wait for promtool");
    assert!(
        out.status.success(),
        "{}{}\n{text}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

fn exposition(snap: &Snapshot, how: &Exposition) -> String {
    let mut out = render(snap, how);
    how.format.end(&mut out);
    out
}

/// OpenMetrics names a counter family without `_total` (its samples keep it) and ends with
/// `# EOF`; the Prometheus text has neither difference.
#[test]
fn openmetrics_counters_and_end() {
    let mut snap = one_host();
    snap.netns[0].counters.listen_overflows = Some(7);
    let how = Exposition {
        format: TextFormat::OpenMetrics,
        series_limit: None,
    };
    let mut text = render(&snap, &how);
    ExporterStatus {
        version: "1.2.3".into(),
        revision: "abc1234".into(),
        collections: 3,
        collection_errors: 1,
        last_success_unix: Some(1795330800.0),
        previous_scrape_seconds: Some(0.002),
    }
    .render(&mut text, how.format);
    how.format.end(&mut text);
    assert!(
        text.contains("# TYPE bindscope_tcpext_listen_overflows counter\n"),
        "{text}"
    );
    assert!(
        text.contains("bindscope_tcpext_listen_overflows_total{netns=\"host\"} 7\n"),
        "{text}"
    );
    assert!(
        text.contains(
            "# TYPE bindscope_collection_errors counter\nbindscope_collection_errors_total 1\n"
        ),
        "{text}"
    );
    assert!(
        text.contains("bindscope_build_info{version=\"1.2.3\",revision=\"abc1234\"} 1\n"),
        "{text}"
    );
    assert!(text.ends_with("\n# EOF\n"), "{text}");
    assert_eq!(text.matches("# EOF").count(), 1);
    let plain = exposition(&snap, &Exposition::default());
    assert!(
        plain.contains("# TYPE bindscope_tcpext_listen_overflows_total counter\n"),
        "{plain}"
    );
    assert!(!plain.contains("# EOF"), "{plain}");
}

/// Past the series limit the listeners with the longest accept queues stay, and
/// `bindscope_series_omitted` counts the rest; without a limit there is no such series.
#[test]
fn the_series_limit_keeps_the_longest_queues() {
    let sockets: Vec<Socket> = (0..5u16)
        .map(|k| {
            let mut s = socket();
            s.id = SocketId(format!("s{k}"));
            s.local_port = 9000 + k;
            s.accept_queue = Some(AcceptQueue {
                len: u32::from(k) * 10,
                backlog: 128,
            });
            s
        })
        .collect();
    let snap = snapshot_of(sockets, vec![netns(1, Some("host"), None)]);
    let how = Exposition {
        format: TextFormat::Prometheus,
        series_limit: Some(2),
    };
    let samples = parse(&exposition(&snap, &how));
    let mut ports: Vec<&str> = find(&samples, "bindscope_listener_accept_queue_length")
        .iter()
        .map(|s| s.labels["port"].as_str())
        .collect();
    ports.sort();
    assert_eq!(ports, ["9003", "9004"]);
    let omitted = find(&samples, "bindscope_series_omitted");
    let of = |family: &str| {
        omitted
            .iter()
            .find(|s| s.labels["family"] == family)
            .map(|s| s.value)
    };
    assert_eq!(of("bindscope_listener"), Some(3.0));
    assert_eq!(of("bindscope_finding"), Some(0.0));
    let all = parse(&export(&snap));
    assert_eq!(
        find(&all, "bindscope_listener_accept_queue_length").len(),
        5
    );
    assert!(find(&all, "bindscope_series_omitted").is_empty());
}

/// One series per current finding, named by its port; facets of one problem share it.
#[test]
fn each_finding_has_a_series_with_its_port() {
    let mut snap = one_host();
    let key = crate::model::PortKey {
        netns: NetnsId(1),
        proto: crate::model::Proto::Udp,
        port: 5353,
    };
    let finding = |kind: &str, severity, problem| Finding {
        kind: kind.into(),
        severity,
        sockets: vec![SocketId("1-2a".into())],
        summary: String::new(),
        explanation: String::new(),
        problem,
    };
    snap.findings = vec![
        finding("cross_user_port", Severity::Warning, Some(key)),
        finding("cross_user_port", Severity::Warning, Some(key)),
        finding("accept_queue_full", Severity::Critical, None),
    ];
    let samples = parse(&export(&snap));
    let mut got: Vec<(String, String, String, String)> = find(&samples, "bindscope_finding")
        .iter()
        .map(|s| {
            assert_eq!(s.value, 1.0);
            assert_eq!(s.labels["netns"], "host");
            (
                s.labels["kind"].clone(),
                s.labels["severity"].clone(),
                s.labels["proto"].clone(),
                s.labels["port"].clone(),
            )
        })
        .collect();
    got.sort();
    let want = |k: &str, sev: &str, p: &str, port: &str| {
        (
            k.to_string(),
            sev.to_string(),
            p.to_string(),
            port.to_string(),
        )
    };
    assert_eq!(
        got,
        [
            want("accept_queue_full", "critical", "tcp", "8080"),
            want("cross_user_port", "warning", "udp", "5353"),
        ]
    );
}

proptest! {
    /// Whatever a user or namespace is called, the text parses back to the cleaned name.
    #[test]
    fn any_label_value_round_trips(user in any::<String>(), ns in any::<String>()) {
        let mut s = socket();
        s.user = Some(user.as_str().into());
        let snap = snapshot_of(vec![s], vec![netns(1, Some(&ns), None)]);
        let samples = parse(&export(&snap));
        let len = find(&samples, "bindscope_listener_accept_queue_length");
        prop_assert_eq!(len.len(), 1);
        prop_assert_eq!(&len[0].labels["user"], &clean(&user).into_owned());
        prop_assert_eq!(&len[0].labels["netns"], &clean(&ns).into_owned());
    }

    /// A hostile or mangled time never panics: it parses or the timestamp is left out.
    #[test]
    fn any_taken_at_is_safe(taken_at in any::<String>()) {
        let mut snap = one_host();
        snap.taken_at = taken_at.into();
        let samples = parse(&export(&snap));
        prop_assert!(find(&samples, "bindscope_snapshot_timestamp_seconds").len() <= 1);
    }
}
