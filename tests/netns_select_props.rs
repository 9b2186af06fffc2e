//! `--netns` selection (`collector::select`, pure over a list of namespaces): no value makes
//! it panic; it picks what the values name (`all`, a namespace's name such as `host` or
//! `docker:…`, `current`, an inode, `net:[inode]`, a bind mount's file name, a container's
//! name or id prefix, `pod:…`, `image:…`, a glob), every namespace a value matches; or it
//! says which value named nothing and lists what is known.
//!
//! The patterns themselves are tested beside `model::names`; here, what `select` makes of
//! them. No privileges or kernel needed; well under a second.

// A test may unwrap, expect and panic: that is the test failing (Cargo.toml denies them
// in the program).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
#![cfg(target_os = "linux")]

use bindscope::collect::linux::collector::{CollectError, NetnsSelect, select};
use bindscope::collect::linux::netns::{NET_NS_INIT_INO, NetnsTarget};
use bindscope::model::{Container, NetnsKind, Pod, Runtime};
use proptest::prelude::*;
use proptest::test_runner::Config;
use std::path::PathBuf;

const WEB_ID: &str = "02175b2a1941f7f7b1a4301c29df7bd0cbfb075bd2aa98a733d75725acb36a5f";
const SIDE_ID: &str = "9c1d4e0a77b2a9f0c3e5d6b7a8f9e0d1c2b3a4f5e6d7c8b9a0f1e2d3c4b5a697";
const INFRA_ID: &str = "5e0f7a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7";
const PODMAN_ALIAS: &str = "netns-1f0c2a3b-0000-4000-8000-000000000001";

fn target(id: u64, name: Option<&str>, kind: NetnsKind, is_own: bool) -> NetnsTarget {
    NetnsTarget {
        id,
        name: name.map(String::from),
        kind,
        open_path: None,
        pids: Vec::new(),
        paths: Vec::new(),
        container: None,
        containers: Vec::new(),
        unit: None,
        is_own,
    }
}

fn container(runtime: Runtime, id: &str, name: &str, image: &str, pod: Option<Pod>) -> Container {
    Container {
        runtime,
        id: id.into(),
        name: Some(name.into()),
        image: Some(image.into()),
        pod,
    }
}

/// A host, an `ip netns` name, a namespace named by an old label, an unnamed one, one named
/// by the test (any text a bind mount's file name or a unit could bring), a Docker one that
/// `web` made and `side` joined, and a Podman pod's with the runtime's bind mount.
fn targets(odd_name: &str) -> Vec<NetnsTarget> {
    let web = container(Runtime::Docker, WEB_ID, "web", "nginx:1.25", None);
    let side = container(Runtime::Docker, SIDE_ID, "side", "bs:1", None);
    let shop = Some(Pod {
        namespace: None,
        name: "shop".into(),
    });
    let infra = container(
        Runtime::Podman,
        INFRA_ID,
        "shop-infra",
        "localhost/podman-pause:4.3.1",
        shop.clone(),
    );
    let api = container(Runtime::Podman, SIDE_ID, "api", "localhost/api:2", shop);
    let mut docker = target(4026532600, Some("web"), NetnsKind::Container, false);
    docker.container = Some(web.clone());
    docker.containers = vec![web, side];
    let mut podman = target(4026532700, Some("shop"), NetnsKind::Container, false);
    podman.paths = vec![PathBuf::from(format!("/run/netns/{PODMAN_ALIAS}"))];
    podman.container = Some(infra.clone());
    podman.containers = vec![infra, api];
    vec![
        target(NET_NS_INIT_INO, Some("host"), NetnsKind::Host, false),
        target(4026532245, Some("bsdemo-web"), NetnsKind::Named, true),
        target(
            4026532300,
            Some("docker:0123456789ab"),
            NetnsKind::Container,
            false,
        ),
        target(4026532400, None, NetnsKind::Process, false),
        target(4026532500, Some(odd_name), NetnsKind::Mount, false),
        docker,
        podman,
    ]
}

fn ids(chosen: &[NetnsTarget]) -> Vec<u64> {
    chosen.iter().map(|t| t.id).collect()
}

fn only(values: &[&str]) -> NetnsSelect {
    NetnsSelect::Only(values.iter().map(|v| v.to_string()).collect())
}

/// Never a panic. Selected namespaces come from the list, in its order; every value but
/// `all` selects at least one, and `all` selects every one. An error names one of the
/// values, and no namespace is called by that name.
fn check(values: &[String], odd_name: &str) -> Result<(), TestCaseError> {
    let all = targets(odd_name);
    match select(all.clone(), &NetnsSelect::Only(values.to_vec())) {
        Ok(chosen) => {
            let positions: Vec<usize> = chosen
                .iter()
                .map(|c| all.iter().position(|t| t == c))
                .collect::<Option<_>>()
                .ok_or_else(|| TestCaseError::fail("a namespace not in the list"))?;
            prop_assert!(positions.windows(2).all(|w| w[0] < w[1]), "{positions:?}");
            if values.iter().any(|v| v.eq_ignore_ascii_case("all")) {
                prop_assert_eq!(chosen.len(), all.len());
            }
            let mut union = Vec::new();
            for v in values {
                let alone = select(all.clone(), &NetnsSelect::Only(vec![v.clone()]));
                prop_assert!(alone.as_ref().is_ok_and(|a| !a.is_empty()), "{v:?}");
                union.extend(alone.map(|a| ids(&a)).unwrap_or_default());
            }
            // Several values select what each selects alone, and nothing else.
            for id in ids(&chosen) {
                prop_assert!(union.contains(&id), "{id} chosen by none of {values:?}");
            }
            for id in union {
                prop_assert!(ids(&chosen).contains(&id), "{id} dropped from {values:?}");
            }
        }
        Err(CollectError::NoSuchNetns { wanted, known }) => {
            prop_assert!(values.contains(&wanted), "{wanted:?} not among {values:?}");
            let lower = wanted.to_lowercase();
            prop_assert!(
                all.iter()
                    .all(|t| t.name.as_ref().is_none_or(|n| n.to_lowercase() != lower))
            );
            prop_assert!(!wanted.eq_ignore_ascii_case("all"));
            prop_assert!(known.contains("bsdemo-web") && known.contains("pod:shop"));
        }
        Err(e) => return Err(TestCaseError::fail(format!("unexpected error {e}"))),
    }
    Ok(())
}

/// Values people write, and near misses of each.
fn value() -> impl Strategy<Value = String> {
    prop_oneof![
        prop::sample::select(vec![
            "all",
            "ALL",
            "host",
            "current",
            "bsdemo-web",
            "docker:0123456789ab",
            "docker:",
            "4026532400",
            "net:[4026532300]",
            "net:[4026532300",
            "net:[]",
            "18446744073709551616",
            "+4026532400",
            "04026532400",
            "",
            "web",
            "WEB",
            "side",
            "02175b2a1941",
            "0217",
            "021",
            "docker:02175b2a",
            "podman:02175b2a",
            "pod:shop",
            "pod:default/shop",
            "pod:",
            "pod:/",
            "image:nginx",
            "image:",
            "*",
            "?",
            "netns-*",
            "s*",
            "**",
        ])
        .prop_map(String::from),
        any::<u64>().prop_map(|n| n.to_string()),
        any::<u64>().prop_map(|n| format!("net:[{n}]")),
        "(docker|containerd|podman|k8s-pod|lxc|net|pod|image):\\PC{0,12}",
        "[0-9a-f]{0,12}\\*?",
        "[a-z*?/-]{0,8}",
        "\\PC{0,12}",
        any::<String>(),
    ]
}

proptest! {
    #![proptest_config(Config {
        cases: 512,
        failure_persistence: None,
        ..Config::default()
    })]

    #[test]
    fn any_values_select_or_name_the_unknown_one(
        values in prop::collection::vec(value(), 0..4),
        odd_name in "\\PC{0,8}",
    ) {
        check(&values, &odd_name)?;
    }

    /// Each of a namespace's spellings selects it, whatever the others are called.
    #[test]
    fn every_spelling_of_a_namespace_selects_it(i in 0usize..7, odd_name in any::<String>()) {
        let all = targets(&odd_name);
        let t = &all[i];
        let mut spellings = vec![t.id.to_string(), format!("net:[{}]", t.id)];
        spellings.extend(t.name.clone());
        spellings.extend(t.name.as_ref().map(|n| n.to_ascii_uppercase()));
        spellings.extend(t.paths.iter().filter_map(|p| Some(p.file_name()?.to_str()?.to_string())));
        for c in t.container.iter().chain(&t.containers) {
            spellings.extend(c.name.clone());
            spellings.push(c.id.clone());
            spellings.push(c.id[..12].to_string());
            spellings.push(format!("{}:{}", c.runtime.name(), &c.id[..12]));
            spellings.push(c.label());
            spellings.extend(c.pod.as_ref().map(|p| format!("pod:{}", p.label())));
            spellings.extend(c.image.as_ref().map(|i| format!("image:{i}")));
        }
        if t.is_own {
            spellings.push("current".into());
        }
        for s in spellings {
            let chosen = select(all.clone(), &NetnsSelect::Only(vec![s.clone()]));
            prop_assert!(chosen.is_ok_and(|c| c.contains(t)), "{s:?}");
        }
    }
}

#[test]
fn all_and_nothing() {
    let all = targets("x");
    assert_eq!(
        select(all.clone(), &NetnsSelect::All).ok(),
        Some(all.clone())
    );
    assert_eq!(select(all.clone(), &only(&["all"])).ok(), Some(all.clone()));
    assert_eq!(
        select(all.clone(), &only(&["web", "All"])).ok(),
        Some(all.clone())
    );
    // An empty list (not reachable from the command line, where no --netns means All)
    // selects nothing rather than failing.
    assert_eq!(select(all, &only(&[])).ok(), Some(Vec::new()));
}

#[test]
fn containers_pods_and_globs_select_their_namespaces() {
    let all = targets("x");
    let pick = |values: &[&str]| select(all.clone(), &only(values)).map(|c| ids(&c)).ok();
    // The owner, a sidecar that joined it, either's id: the one shared namespace.
    for v in [
        "web",
        "side",
        "02175b2a1941",
        "docker:02175b2a1941",
        WEB_ID,
        "image:nginx",
    ] {
        assert_eq!(pick(&[v]), Some(vec![4026532600]), "{v}");
    }
    // `side`'s id begins like `api`'s: an id prefix picks both namespaces, as a glob would.
    assert_eq!(pick(&["9c1d4e0a"]), Some(vec![4026532600, 4026532700]));
    assert_eq!(pick(&["docker:9c1d4e0a"]), Some(vec![4026532600]));
    for v in [
        "pod:shop",
        "shop",
        "api",
        "shop-infra",
        PODMAN_ALIAS,
        "netns-*",
    ] {
        assert_eq!(pick(&[v]), Some(vec![4026532700]), "{v}");
    }
    // Several values, a glob over several names.
    assert_eq!(
        pick(&["host", "pod:shop"]),
        Some(vec![NET_NS_INIT_INO, 4026532700])
    );
    assert_eq!(
        pick(&["s*"]),
        Some(vec![4026532600, 4026532700]),
        "side and shop"
    );
    assert_eq!(pick(&["current"]), Some(vec![4026532245]));
}

#[test]
fn an_unknown_value_lists_names_containers_and_pods() {
    let all = targets("odd");
    match select(all, &only(&["web", "nginx"])) {
        Err(CollectError::NoSuchNetns { wanted, known }) => {
            assert_eq!(wanted, "nginx");
            assert_eq!(
                known,
                "host, bsdemo-web, docker:0123456789ab, 4026532400, odd, web, side, shop, \
                 shop-infra, api, pod:shop"
            );
            let msg = CollectError::NoSuchNetns { wanted, known }.to_string();
            assert!(
                msg.starts_with("no network namespace matches 'nginx'"),
                "{msg}"
            );
        }
        other => panic!("{other:?}"),
    }
}
