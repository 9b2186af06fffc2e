//! The language end to end: text → filter → sockets kept, the canonical text and its round
//! trip, errors and their columns, and properties over any input (never a panic).

use super::*;
use crate::model::{Container, Finding, Holder, Pod, Runtime, Severity};
use crate::model::{Family, FindingKind, NetnsId, Proto, Scope, Socket, SocketId, State};
use crate::testing;
use crate::text::clean;
use proptest::prelude::*;
use std::sync::Arc;

fn p(input: &str) -> Filter {
    parse(input).unwrap_or_else(|e| panic!("{input}: {e}"))
}

fn perr(input: &str) -> FilterError {
    match parse(input) {
        Ok(f) => panic!("{input} parsed as {f:?}"),
        Err(e) => e,
    }
}

/// Both fixtures' sockets, each with its own context, for the properties.
fn all_fixtures() -> Vec<(Vec<Socket>, FilterContext)> {
    vec![fixture(), containers_fixture()]
}

/// testing::socket() is tcp [::]%lo:8080 listen, uid 1001 alice, netns 1, held by
/// pid 42 `web\x1b[31m` as uid 33 www-data. Here: a second, udp 127.0.0.1:53 socket
/// held by systemd-resolved, a named netns and a finding.
fn fixture() -> (Vec<Socket>, FilterContext) {
    let web = testing::socket();
    let mut dns = testing::socket();
    dns.id = SocketId("2-1".into());
    dns.netns = NetnsId(2);
    dns.proto = Proto::Udp;
    dns.family = Family::Ipv4;
    dns.local_addr = "127.0.0.53".parse().expect("addr");
    dns.local_port = 53;
    dns.state = State::Close;
    dns.scope = Scope::Loopback;
    dns.uid = 991;
    dns.user = Some("systemd-resolve".into());
    dns.device = None;
    dns.holders = vec![Holder {
        container: None,
        pid: 700,
        fd: 12,
        name: "systemd-resolve".into(),
        uid: 991,
        ruid: 991,
        user: Some(Arc::from("systemd-resolve")),
        cmdline: vec![
            "/usr/lib/systemd/systemd-resolved".into(),
            "--Verbose".into(),
        ]
        .into(),
        unit: Some("systemd-resolved.service".into()),
        netns: Some(NetnsId(2)),
        ppid: None,
        threads: None,
        exe: None,
    }];
    let mut bound = testing::socket();
    bound.id = SocketId("1-3".into());
    bound.state = State::Close;
    bound.scope = Scope::DualStackWildcard;
    bound.local_port = 9000;
    bound.holders = vec![];
    bound.remote_addr = None;
    let mut conn = testing::socket();
    conn.id = SocketId("1-4".into());
    conn.state = State::Established;
    conn.scope = Scope::Specific;
    conn.local_addr = "2001:db8::1".parse().expect("addr");
    conn.remote_addr = Some("2001:db8::99".parse().expect("addr"));
    conn.remote_port = Some(51000);
    conn.device = None;
    let mut snap = testing::snapshot_of(
        vec![web, dns, bound, conn],
        vec![
            testing::netns(1, Some("host"), None),
            testing::netns(2, Some("Resolver NS"), None),
        ],
    );
    snap.findings.push(Finding {
        kind: FindingKind::WildcardOverlap,
        severity: Severity::Warning,
        sockets: vec![SocketId("1-2a".into()), SocketId("1-3".into())],
        summary: String::new(),
        explanation: String::new(),
        problem: None,
    });
    snap.findings.push(Finding {
        kind: "cross_user_socket".into(),
        severity: Severity::Notice,
        sockets: vec![SocketId("1-2a".into())],
        summary: String::new(),
        explanation: String::new(),
        problem: None,
    });
    let cx = FilterContext::new(&snap);
    (snap.sockets, cx)
}

/// The ids of the matching sockets, for readable asserts.
fn hits(input: &str) -> Vec<String> {
    let (sockets, cx) = fixture();
    let f = p(input);
    sockets
        .iter()
        .filter(|s| f.matches(s, &cx))
        .map(|s| s.id.0.clone())
        .collect()
}

#[test]
fn context_indexes_names_and_findings() {
    let (_, cx) = fixture();
    assert_eq!(
        cx.netns.get(&NetnsId(2)).and_then(|n| n.name.as_deref()),
        Some("Resolver NS")
    );
    assert_eq!(
        cx.findings_by_socket.get(&SocketId("1-2a".into())),
        Some(&vec![
            FindingKind::WildcardOverlap,
            FindingKind::CrossUserSocket
        ])
    );
}

#[test]
fn matching() {
    let all = ["1-2a", "2-1", "1-3", "1-4"];
    let cases: &[(&str, &[&str])] = &[
        ("", &all),
        ("port:53", &["2-1"]),
        ("port:8000-9000", &["1-2a", "1-3", "1-4"]),
        ("port:53,9000", &["2-1", "1-3"]),
        ("!port:8080", &["2-1", "1-3"]),
        ("-port:8080", &["2-1", "1-3"]),
        ("proto:udp", &["2-1"]),
        ("proto:TCP port:8080", &["1-2a", "1-4"]),
        // The socket's user, or any holder's user or uid.
        ("user:alice", &["1-2a", "1-3", "1-4"]),
        ("user:www-data", &["1-2a", "1-4"]),
        ("user:33", &["1-2a", "1-4"]),
        ("user:991", &["2-1"]),
        ("user:Systemd-Resolve", &["2-1"]),
        ("user:www", &[]),
        ("scope:wildcard", &["1-2a", "1-3"]),
        ("scope:dual", &["1-3"]),
        ("scope:dual_stack_wildcard", &["1-3"]),
        ("scope:loopback", &["2-1"]),
        ("scope:specific", &["1-4"]),
        ("state:listen", &["1-2a"]),
        ("state:bound", &["1-3"]),
        ("state:close", &["2-1", "1-3"]),
        ("state:established", &["1-4"]),
        ("state:time-wait", &[]),
        ("finding:overlap", &["1-2a", "1-3"]),
        ("finding:cross_user", &["1-2a"]),
        ("finding:any", &["1-2a", "1-3"]),
        ("!finding:any", &["2-1", "1-4"]),
        ("pid:42", &["1-2a", "1-4"]),
        ("pid:700", &["2-1"]),
        ("netns:host", &["1-2a", "1-3", "1-4"]),
        ("netns:\"resolver ns\"", &["2-1"]),
        ("netns:2", &["2-1"]),
        ("family:4", &["2-1"]),
        ("family:ipv6", &["1-2a", "1-3", "1-4"]),
        ("addr:127.", &["2-1"]),
        ("addr:[2001:DB8", &["1-4"]),
        ("addr:::", &["1-2a", "1-3"]),
        ("unit:resolved", &["2-1"]),
        // Free text: endpoint, remote end, names, cmdline, users, unit, netns name.
        ("8080", &["1-2a", "1-4"]),
        ("udp", &["2-1"]),
        ("%lo", &["1-2a", "1-3"]),
        ("[2001:db8::99]:51000", &["1-4"]),
        ("WEB", &["1-2a", "1-4"]),
        // Unquoted, a leading `-` negates: not `-verbose`.
        ("--verbose", &["1-2a", "1-3", "1-4"]),
        ("\"--verbose\"", &["2-1"]),
        ("\"resolved --verbose\"", &["2-1"]),
        ("resolver", &["2-1"]),
        ("alice", &["1-2a", "1-3", "1-4"]),
        ("resolved.service", &["2-1"]),
        ("tcp alice !state:listen", &["1-3", "1-4"]),
        ("nothing-like-this", &[]),
    ];
    for (input, want) in cases {
        assert_eq!(hits(input), want.to_vec(), "{input}");
    }
}

const API_ID: &str = "02175b2a1941f7f7b1a4301c29df7bd0cbfb075bd2aa98a733d75725acb36a5f";
const SIDE_ID: &str = "9c1d4e0a77b2a9f0c3e5d6b7a8f9e0d1c2b3a4f5e6d7c8b9a0f1e2d3c4b5a697";
const PAUSE_ID: &str = "5e0f7a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7";
const HOSTC_ID: &str = "c0ffee00112233445566778899aabbccddeeff00112233445566778899aabbcc";

fn container(runtime: Runtime, id: &str, name: &str, image: &str) -> Container {
    Container {
        runtime,
        id: id.into(),
        name: Some(name.into()),
        image: Some(image.into()),
        pod: None,
    }
}

/// A socket in `netns` on `port`, held by one process (`pid`, `name`) in `container`.
fn held(id: &str, netns: u64, port: u16, pid: u32, name: &str, c: Option<Container>) -> Socket {
    let mut s = testing::socket();
    s.id = SocketId(id.into());
    s.netns = NetnsId(netns);
    s.local_port = port;
    s.device = None;
    s.holders[0].pid = pid;
    s.holders[0].name = name.into();
    s.holders[0].cmdline = vec![name.to_string()].into();
    s.holders[0].netns = Some(NetnsId(netns));
    s.holders[0].container = c.map(Arc::new);
    s
}

/// A container host: Docker's `api` made namespace 3 and `side` joined it
/// (`--network container:api`); a Kubernetes pod `default/shop-7d9f` whose pause container
/// made namespace 4, where `shop` listens; `hostc` with `--network host`; and a plain
/// process on the host.
fn containers_fixture() -> (Vec<Socket>, FilterContext) {
    let api = container(
        Runtime::Docker,
        API_ID,
        "api",
        "docker.io/library/nginx:1.25",
    );
    let side = container(Runtime::Docker, SIDE_ID, "side", "bs:1");
    let pod = Some(Pod {
        namespace: Some("default".into()),
        name: "shop-7d9f".into(),
    });
    let pause = Container {
        pod: pod.clone(),
        ..container(
            Runtime::Containerd,
            PAUSE_ID,
            "pause",
            "registry.k8s.io/pause:3.9",
        )
    };
    let shop = Container {
        pod,
        ..container(Runtime::Containerd, SIDE_ID, "shop", "ghcr.io/acme/shop:2")
    };
    let hostc = container(Runtime::Docker, HOSTC_ID, "hostc", "bs:1");
    let sockets = vec![
        held("3-1", 3, 8081, 900, "httpd", Some(api.clone())),
        held("3-2", 3, 9090, 901, "httpd", Some(side.clone())),
        held("4-1", 4, 8443, 950, "envoy", Some(shop.clone())),
        held("1-5", 1, 18080, 960, "httpd", Some(hostc.clone())),
        held("1-6", 1, 22, 1, "sshd", None),
    ];
    let mut docker = testing::netns(3, Some("api"), None);
    docker.container = Some(api.clone());
    docker.containers = vec![api, side];
    let mut k8s = testing::netns(4, Some("default/shop-7d9f"), None);
    k8s.paths = vec!["/run/netns/cni-5b1e2c3d-0000-4000-8000-000000000004".into()];
    k8s.container = Some(pause.clone());
    k8s.containers = vec![pause, shop];
    let mut host = testing::netns(1, Some("host"), None);
    host.current = true;
    host.containers = vec![hostc];
    let snap = testing::snapshot_of(sockets, vec![host, docker, k8s]);
    let cx = FilterContext::new(&snap);
    (snap.sockets, cx)
}

fn container_hits(input: &str) -> Vec<String> {
    let (sockets, cx) = containers_fixture();
    let f = p(input);
    sockets
        .iter()
        .filter(|s| f.matches(s, &cx))
        .map(|s| s.id.0.clone())
        .collect()
}

#[test]
fn containers_pods_and_images_by_name() {
    let cases: &[(&str, &[&str])] = &[
        // A container's own sockets, and those of a sidecar in its namespace.
        ("container:api", &["3-1", "3-2"]),
        ("container:side", &["3-1", "3-2"]),
        ("container:API", &["3-1", "3-2"]),
        ("container:02175b2a1941", &["3-1", "3-2"]),
        ("container:0217", &["3-1", "3-2"]),
        ("container:021", &[]),
        (&full_id_term(), &["3-1", "3-2"]),
        ("container:docker:02175b2a1941", &["3-1", "3-2"]),
        ("container:podman:02175b2a1941", &[]),
        // `side` and `shop` have ids that begin alike: a prefix finds both.
        ("container:9c1d4e0a", &["3-1", "3-2", "4-1"]),
        ("container:containerd:9c1d4e0a", &["4-1"]),
        // A host-network container: its sockets sit in the host's namespace.
        ("container:hostc", &["1-5"]),
        ("container:h*", &["1-5"]),
        ("container:*", &["3-1", "3-2", "4-1", "1-5"]),
        ("!container:*", &["1-6"]),
        ("container:pause", &["4-1"]),
        ("container:pod:default/shop-*", &["4-1"]),
        ("container:image:bs:1", &["3-1", "3-2", "1-5"]),
        ("container:api,hostc", &["3-1", "3-2", "1-5"]),
        // Images with and without registry and tag.
        ("image:nginx", &["3-1", "3-2"]),
        ("image:nginx:1.25", &["3-1", "3-2"]),
        ("image:nginx:1.26", &[]),
        ("image:docker.io/library/nginx:1.25", &["3-1", "3-2"]),
        ("image:bs", &["3-1", "3-2", "1-5"]),
        ("image:*pause*", &["4-1"]),
        ("image:shop", &["4-1"]),
        // Pods: NAMESPACE/NAME, NAME in any namespace, globs on each side.
        ("pod:default/shop-7d9f", &["4-1"]),
        ("pod:shop-7d9f", &["4-1"]),
        ("pod:*/shop-*", &["4-1"]),
        ("pod:kube-system/shop-7d9f", &[]),
        ("pod:shop", &[]),
        // Namespaces by any of their names.
        ("netns:api", &["3-1", "3-2"]),
        ("netns:side", &["3-1", "3-2"]),
        ("netns:a*", &["3-1", "3-2"]),
        ("netns:pod:default/shop-7d9f", &["4-1"]),
        ("netns:default/shop-7d9f", &["4-1"]),
        ("netns:shop", &["4-1"]),
        ("netns:cni-*", &["4-1"]),
        ("netns:image:nginx", &["3-1", "3-2"]),
        ("netns:current", &["1-5", "1-6"]),
        ("netns:host", &["1-5", "1-6"]),
        ("netns:4", &["4-1"]),
        ("netns:net:[4]", &["4-1"]),
        ("netns:*", &["3-1", "3-2", "4-1", "1-5", "1-6"]),
        // hostc lives in the host's namespace: it names the namespace (as `--netns hostc`
        // picks it), but the host's other sockets are not hostc's.
        ("netns:hostc", &["1-5", "1-6"]),
        // Free text finds holders' containers by name, image, pod and the start of the id.
        ("hostc", &["1-5"]),
        ("nginx", &["3-1"]),
        ("shop-7d9f", &["4-1"]),
        ("c0ffee", &["1-5"]),
        ("ffee00", &[]),
        ("container:api port:9090", &["3-2"]),
        ("container:api !container:side", &[]),
    ];
    for (input, want) in cases {
        assert_eq!(container_hits(input), want.to_vec(), "{input}");
    }
}

fn full_id_term() -> String {
    format!("container:{API_ID}")
}

/// Every spelling of a holder's container finds its socket, and prints back to itself.
#[test]
fn every_name_of_a_container_finds_its_sockets() {
    let (sockets, cx) = containers_fixture();
    for s in &sockets {
        let Some(c) = s.holders[0].container.as_deref() else {
            assert!(!p("container:*").matches(s, &cx), "{}", s.id.0);
            continue;
        };
        let name = c.name.as_deref().unwrap_or_default();
        let mut terms = vec![
            format!("container:{name}"),
            format!("container:{}", c.id),
            format!("container:{}", c.short_id()),
            format!("container:{}:{}", c.runtime.name(), c.short_id()),
            format!("container:{}", c.label()),
            format!("netns:{name}"),
            format!("\"{name}\""),
        ];
        terms.extend(c.image.as_ref().map(|i| format!("image:{i}")));
        terms.extend(c.pod.as_ref().map(|p| format!("pod:{}", p.label())));
        for term in terms {
            let f = p(&term);
            assert!(f.matches(s, &cx), "{term}");
            assert_eq!(p(&f.describe()), f, "{term}");
        }
    }
}

#[test]
fn container_terms_print_canonically() {
    for (input, want) in [
        ("Container:Web*", "container:web*"),
        ("IMAGE:Nginx:1.25", "image:nginx:1.25"),
        ("pod:Default/Shop-*", "pod:default/shop-*"),
        ("netns:Pod:x", "netns:pod:x"),
        ("netns:net:[4]", "netns:net:[4]"),
        ("container:k8s-pod:abc,api", "container:k8s-pod:abc,api"),
        ("!container:\"a b\"", "!container:\"a b\""),
    ] {
        let f = p(input);
        assert_eq!(f.describe(), want, "{input}");
        assert_eq!(p(&f.describe()), f, "{input} round trip");
    }
}

#[test]
fn a_pod_that_cannot_be_is_an_error_at_its_value() {
    for (input, column) in [
        ("pod:a/b/c", 5),
        ("port:80 pod:/x", 13),
        ("pod:x/", 5),
        ("pod:ok,a//b", 8),
    ] {
        let e = perr(input);
        assert_eq!(e.column, column, "{input}");
        assert!(
            matches!(e.kind, FilterErrorKind::BadValue { key: Key::Pod, .. }),
            "{input}: {e}"
        );
        assert!(e.to_string().contains("NAMESPACE/NAME"), "{e}");
    }
    assert_eq!(
        perr("image:").kind,
        FilterErrorKind::EmptyValue { key: Key::Image }
    );
}

#[test]
fn non_ascii_text() {
    let (mut sockets, cx) = fixture();
    sockets[0].holders[0].cmdline = vec!["/srv/ÜBER/app".to_string()].into();
    let f = p("über");
    assert!(f.matches(&sockets[0], &cx));
    assert!(!f.matches(&sockets[1], &cx));
    assert!(p("ber/app").matches(&sockets[0], &cx));
}

#[test]
fn describe_is_canonical_and_round_trips() {
    let cases = [
        ("", ""),
        ("  port:80   ", "port:80"),
        ("Port:80-90 -proto:UDP", "port:80-90 !proto:udp"),
        ("family:4 family:6", "family:ipv4 family:ipv6"),
        (
            "scope:dual_stack_wildcard scope:link-local",
            "scope:dual scope:link_local",
        ),
        ("state:time-wait state:bound", "state:time_wait state:bound"),
        ("user:WWW-Data,0", "user:www-data,0"),
        ("finding:Overlap", "finding:overlap"),
        ("netns:\"my ns\"", "netns:\"my ns\""),
        ("\"nginx -g\"", "\"nginx -g\""),
        ("\"-D\" \"!x\"", "\"-d\" \"!x\""),
        ("\"http://x\"", "\"http://x\""),
        ("::1 127.0.0.1:80", "::1 127.0.0.1:80"),
        ("a,b", "a,b"),
        ("unit:\"a,b\"", "unit:\"a,b\""),
        ("\"say \\\"hi\\\"\"", "\"say \\\"hi\\\"\""),
        ("addr:[::1]", "addr:::1"),
        ("\"\" x", "x"),
        ("foo\"bar baz\"", "\"foobar baz\""),
    ];
    for (input, want) in cases {
        let f = p(input);
        assert_eq!(f.describe(), want, "{input}");
        assert_eq!(p(&f.describe()), f, "{input} round trip");
        assert_eq!(f.is_empty(), want.is_empty());
    }
}

#[test]
fn errors_name_the_problem_and_the_column() {
    let e = perr("port:80 colour:red");
    assert_eq!(e.column, 9);
    assert!(
        matches!(&e.kind, FilterErrorKind::UnknownKey { key, .. } if key == "colour"),
        "{e}"
    );
    let msg = e.to_string();
    assert!(
        msg.contains("'colour'") && msg.contains(&valid_keys()),
        "{msg}"
    );

    let e = perr("proto:tcp port:8o");
    assert_eq!(e.column, 16);
    assert_eq!(
        e.to_string(),
        "column 16: '8o' is not a port number (0-65535) for 'port'"
    );
    let e = perr("port:80-9x");
    assert_eq!(e.column, 9, "the second number of the range");
    assert_eq!(perr("port:70000").column, 6);
    assert_eq!(perr("port:+80").column, 6);
    assert!(perr("port:90-80").to_string().contains("low to high"));
    assert_eq!(perr("x pid:-1").column, 7);

    let e = perr("port:");
    assert_eq!(e.kind, FilterErrorKind::EmptyValue { key: Key::Port });
    assert_eq!(
        perr("port:80,").kind,
        FilterErrorKind::EmptyValue { key: Key::Port }
    );
    assert_eq!(
        perr("addr:[]").kind,
        FilterErrorKind::EmptyValue { key: Key::Addr }
    );

    let e = perr("user:\"www data");
    assert_eq!((e.column, e.kind), (6, FilterErrorKind::UnclosedQuote));
    let e = perr("port:80 !");
    assert_eq!(
        (e.column, e.kind),
        (9, FilterErrorKind::DanglingNegation('!'))
    );
    assert_eq!(perr("- x").kind, FilterErrorKind::DanglingNegation('-'));

    for (input, listed) in [
        ("proto:sctp", "tcp or udp"),
        ("scope:global", "wildcard, dual"),
        ("state:lisen", "bound, established"),
        ("family:5", "ipv4"),
        ("finding:overlpa", "wildcard_overlap"),
    ] {
        let e = perr(input);
        assert!(
            matches!(e.kind, FilterErrorKind::BadValue { .. }),
            "{input}: {e}"
        );
        assert!(e.to_string().contains(listed), "{input}: {e}");
    }
}

#[test]
fn errors_name_the_key_as_a_key() {
    let key = |input: &str| match perr(input).kind {
        FilterErrorKind::BadNumber { key, .. }
        | FilterErrorKind::BadValue { key, .. }
        | FilterErrorKind::EmptyValue { key } => Some(key),
        _ => None,
    };
    assert_eq!(key("PID:x"), Some(Key::Pid));
    assert_eq!(key("x Scope:global"), Some(Key::Scope));
    assert_eq!(key("port:90-80"), Some(Key::Port));
    assert_eq!(key("unit:"), Some(Key::Unit));
    assert_eq!(key("\"open"), None);
}

#[test]
fn columns_are_characters_of_the_input() {
    // The second number of a range is found in the source, past quotes and escapes.
    let e = perr("port:\"80\"-9x");
    assert_eq!((e.column, e.to_string().contains("'9x'")), (11, true));
    assert_eq!(perr("port:\"80-\"9x").column, 11);
    assert_eq!(perr("ünïcode\u{301} colour:red").column, 10);
    assert_eq!(perr("日本 port:ab").column, 9);
    assert_eq!(perr("x \"日本").column, 3);
    assert_eq!(perr("日本 !").column, 4);
}

#[test]
fn errors_show_user_text_cleaned() {
    let e = perr("proto:\u{1b}[2J");
    assert_eq!(
        e.to_string(),
        "column 7: '\\x1b[2J' is not valid for 'proto': expected tcp or udp"
    );
    assert!(perr("pid:1\u{202e}").to_string().contains("'1\\u{202e}'"));
}

#[test]
fn a_needle_is_its_lowercase_text() {
    // The Kelvin sign lowercases to ASCII `k`: the same needle as `k`, so the canonical
    // text parses back to the same filter.
    let kelvin = p("\u{212a}");
    assert_eq!(kelvin.describe(), "k");
    assert_eq!(p("k"), kelvin);
    assert_eq!(p("user:\u{212a}"), p("user:k"));
}

/// Never a panic. A filter prints as canonical text that parses back to the same filter
/// and prints the same again, and it can be matched; an error points inside the input
/// (or just past its end) and shows nothing the sanitizer would escape.
fn check_filter(input: &str, sockets: &[Socket], cx: &FilterContext) -> Result<(), TestCaseError> {
    match parse(input) {
        Ok(f) => {
            let text = f.describe();
            let again = parse(&text);
            prop_assert_eq!(
                again.as_ref(),
                Ok(&f),
                "{:?} described as {:?}",
                input,
                text
            );
            prop_assert_eq!(again.map(|g| g.describe()), Ok(text.clone()));
            prop_assert_eq!(f.is_empty(), text.is_empty());
            for s in sockets {
                let _ = f.matches(s, cx);
            }
        }
        Err(e) => {
            let n = input.chars().count();
            prop_assert!((1..=n + 1).contains(&e.column), "{:?}: {}", input, e);
            let msg = e.to_string();
            prop_assert_eq!(clean(&msg), msg.as_str());
        }
    }
    Ok(())
}

/// One term: a key (valid, odd case, unknown, or none), perhaps negated, with values that
/// are near valid: numbers and ranges, quotes closed or not, escapes, lists.
fn term() -> impl Strategy<Value = String> {
    let neg = prop::sample::select(vec!["", "", "!", "-"]);
    let key = prop::sample::select(vec![
        "",
        "",
        "port:",
        "PORT:",
        "user:",
        "proto:",
        "scope:",
        "state:",
        "finding:",
        "pid:",
        "netns:",
        "family:",
        "addr:",
        "unit:",
        "host:",
        "mark:",
        "colour:",
        "é:",
        "_:",
        "container:",
        "image:",
        "pod:",
        "CONTAINER:",
        "netns:pod:",
        "container:docker:",
    ]);
    let value = prop_oneof![
        "[0-9]{0,6}(-[0-9]{0,6})?",
        "\"[^\"]{0,4}\"?",
        "[a-z_\\-]{0,8}",
        "\\[?[0-9a-f:]{0,6}(%[a-z]{0,3})?\\]?",
        "\\PC{0,4}",
        "[a-f0-9*?/:]{0,8}",
        "(pod|image|docker|k8s-pod|net):[a-z*?/\\[\\]0-9]{0,6}",
        prop::sample::select(vec!["any", "\\\"", "\"\\\\\"", "\u{212a}", "İ", "ß"])
            .prop_map(String::from),
    ];
    let values = prop::collection::vec(value, 1..3).prop_map(|v| v.join(","));
    (neg, key, values).prop_map(|(n, k, v)| format!("{n}{k}{v}"))
}

proptest! {
    #![proptest_config(crate::testing::props(512))]

    #[test]
    fn any_text_is_a_filter_or_an_error(input in any::<String>()) {
        for (sockets, cx) in all_fixtures() {
            check_filter(&input, &sockets, &cx)?;
        }
    }

    #[test]
    fn printable_text(input in "\\PC{0,24}") {
        for (sockets, cx) in all_fixtures() {
            check_filter(&input, &sockets, &cx)?;
        }
    }

    #[test]
    fn near_valid_filters(terms in prop::collection::vec(term(), 0..4), sep in "[ \t]{1,2}") {
        for (sockets, cx) in all_fixtures() {
            check_filter(&terms.join(&sep), &sockets, &cx)?;
        }
    }
}

#[test]
fn many_sockets() {
    // 50,000 sockets per keystroke: matching must not allocate per socket. This checks
    // the whole set runs; `cargo test --release -- --nocapture` prints the time.
    let runs: [(_, &[&str]); 2] = [
        (
            fixture(),
            &[
                "resolved",
                "8080",
                "port:1000-2000 user:alice !state:listen",
                "addr:2001 finding:overlap",
                "\"tcp [::]%lo:80\"",
            ],
        ),
        (
            containers_fixture(),
            &[
                "container:api",
                "container:9c1d4e0a",
                "image:nginx*",
                "pod:default/shop-*",
                "netns:a* !netns:current",
                "shop",
            ],
        ),
    ];
    for ((base, cx), inputs) in runs {
        let sockets: Vec<Socket> = (0..50_000)
            .map(|i| {
                let mut s = base[i % base.len()].clone();
                s.local_port = u16::try_from(i % 60_000).expect("port");
                s
            })
            .collect();
        for input in inputs {
            let f = p(input);
            let t = std::time::Instant::now();
            let n = sockets.iter().filter(|s| f.matches(s, &cx)).count();
            println!("{input}: {n} of {} in {:?}", sockets.len(), t.elapsed());
            assert!(n < sockets.len(), "{input}: {n}");
            // The container terms each name some of the container host's sockets.
            assert!(n > 0 || input.starts_with("addr:"), "{input}: {n}");
        }
    }
}
