//! Which namespaces `--netns` names: each value is a [`NamePattern`] (a namespace's name,
//! `current`, an inode, a container's name or id prefix, `pod:…`, `image:…`, a glob), matched
//! as the filter's `netns:` matches it, or `all`.

use super::collector::{CollectError, NetnsSelect};
use super::netns::NetnsTarget;
use crate::model::names::{NamePattern, NetnsNames};

fn names_of(t: &NetnsTarget) -> NetnsNames {
    let paths: Vec<String> = t
        .paths
        .iter()
        .map(|p| p.to_string_lossy().into_owned())
        .collect();
    NetnsNames::new(
        t.id,
        t.name.as_deref(),
        t.is_own,
        paths.iter().map(String::as_str),
        t.container.as_ref(),
        &t.containers,
    )
}

/// `all`, in any case, as names are matched.
fn is_all(value: &str) -> bool {
    value.eq_ignore_ascii_case("all")
}

/// Picks the selected namespaces, in their order: every one that any value matches (a glob
/// or a shared id prefix may match several). A value that matches nothing is an error that
/// lists how the known ones can be asked for.
pub fn select(
    targets: Vec<NetnsTarget>,
    sel: &NetnsSelect,
) -> Result<Vec<NetnsTarget>, CollectError> {
    let NetnsSelect::Only(wanted) = sel else {
        return Ok(targets);
    };
    let names: Vec<NetnsNames> = targets.iter().map(names_of).collect();
    let mut patterns = Vec::new();
    for w in wanted.iter().filter(|w| !is_all(w)) {
        let pattern = NamePattern::parse(w);
        if !names.iter().any(|n| pattern.matches_netns(n)) {
            return Err(CollectError::NoSuchNetns {
                wanted: w.clone(),
                known: known(&names),
            });
        }
        patterns.push(pattern);
    }
    if wanted.iter().any(|w| is_all(w)) {
        return Ok(targets);
    }
    Ok(targets
        .into_iter()
        .zip(&names)
        .filter(|(_, n)| patterns.iter().any(|p| p.matches_netns(n)))
        .map(|(t, _)| t)
        .collect())
}

/// Every namespace's spellings (name or inode, container names, pods), each once.
fn known(names: &[NetnsNames]) -> String {
    let mut out: Vec<String> = Vec::new();
    for s in names.iter().flat_map(NetnsNames::spellings) {
        if !out.contains(&s) {
            out.push(s);
        }
    }
    out.join(", ")
}
