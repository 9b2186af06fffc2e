//! Which namespaces `--netns` names: the user's words matched against what names each
//! namespace.

use super::collector::{CollectError, NetnsSelect};
use super::netns::NetnsTarget;

/// Whether `t` is what the user named: its name, `current`, or its inode.
fn matches(t: &NetnsTarget, wanted: &str) -> bool {
    t.name.as_deref() == Some(wanted)
        || (wanted == "current" && t.is_own)
        || wanted.parse::<u64>().is_ok_and(|id| id == t.id)
        || wanted
            .strip_prefix("net:[")
            .and_then(|w| w.strip_suffix(']'))
            .and_then(|w| w.parse::<u64>().ok())
            == Some(t.id)
}

/// Picks the selected namespaces; a name that matches nothing is an error that lists the
/// known ones.
pub fn select(
    targets: Vec<NetnsTarget>,
    sel: &NetnsSelect,
) -> Result<Vec<NetnsTarget>, CollectError> {
    let NetnsSelect::Only(wanted) = sel else {
        return Ok(targets);
    };
    for w in wanted {
        if w != "all" && !targets.iter().any(|t| matches(t, w)) {
            let known = targets
                .iter()
                .map(|t| t.name.clone().unwrap_or_else(|| t.id.to_string()))
                .collect::<Vec<_>>()
                .join(", ");
            return Err(CollectError::NoSuchNetns {
                wanted: w.clone(),
                known,
            });
        }
    }
    if wanted.iter().any(|w| w == "all") {
        return Ok(targets);
    }
    Ok(targets
        .into_iter()
        .filter(|t| wanted.iter().any(|w| matches(t, w)))
        .collect())
}
