//! Property tests of `--netns` selection (`collector::select`, pure over a list of
//! namespaces): no value makes it panic, and it picks what the values name (`all`, a name
//! such as `host` or `docker:…`, `current`, an inode, `net:[inode]`) or says which value
//! named nothing.
//!
//! Here rather than beside `select`: the function is public, and its file is being changed
//! on another branch. No privileges or kernel needed; well under a second.

// A test may unwrap, expect and panic: that is the test failing (Cargo.toml denies them
// in the program).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
#![cfg(target_os = "linux")]

use bindscope::collect::linux::collector::{CollectError, NetnsSelect, select};
use bindscope::collect::linux::netns::{NET_NS_INIT_INO, NetnsTarget};
use bindscope::model::NetnsKind;
use proptest::prelude::*;
use proptest::test_runner::Config;

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

/// A host, an `ip netns` name, a container, an unnamed one, and one named by the test
/// (any text a bind mount's file name or a unit could bring).
fn targets(odd_name: &str) -> Vec<NetnsTarget> {
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
    ]
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
            if values.iter().any(|v| v == "all") {
                prop_assert_eq!(chosen.len(), all.len());
            }
            for v in values.iter().filter(|v| *v != "all") {
                let alone = select(all.clone(), &NetnsSelect::Only(vec![v.clone()]));
                prop_assert!(alone.is_ok_and(|a| !a.is_empty()), "{v:?}");
            }
        }
        Err(CollectError::NoSuchNetns { wanted, .. }) => {
            prop_assert!(values.contains(&wanted), "{wanted:?} not among {values:?}");
            prop_assert!(all.iter().all(|t| t.name.as_deref() != Some(&wanted)));
            prop_assert_ne!(wanted.as_str(), "all");
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
        ])
        .prop_map(String::from),
        any::<u64>().prop_map(|n| n.to_string()),
        any::<u64>().prop_map(|n| format!("net:[{n}]")),
        "(docker|containerd|podman|k8s-pod|net):\\PC{0,12}",
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
    fn every_spelling_of_a_namespace_selects_it(i in 0usize..5, odd_name in any::<String>()) {
        let all = targets(&odd_name);
        let t = &all[i];
        let mut spellings = vec![t.id.to_string(), format!("net:[{}]", t.id)];
        spellings.extend(t.name.clone());
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
    assert_eq!(
        select(all.clone(), &NetnsSelect::Only(vec!["all".into()])).ok(),
        Some(all.clone())
    );
    // An empty list (not reachable from the command line, where no --netns means All)
    // selects nothing rather than failing.
    assert_eq!(
        select(all, &NetnsSelect::Only(Vec::new())).ok(),
        Some(Vec::new())
    );
}
