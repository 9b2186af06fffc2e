//! The parts of the lookup no dump settles, tried every way: options that were not read
//! (SO_REUSEPORT; IPV6_V6ONLY on `[::]`), and SO_REUSEPORT groups that may have connected
//! members (the kernel rescores those, `reuseport_has_conns`; not measured, docs/lookup §5).

use super::entry::{Entry, Known};
use super::routes::Route;
use crate::model::Socket;

/// More unknown options than this are not tried every way: the routes are uncertain.
const MAX_UNKNOWN_OPTIONS: usize = 6;

/// Every way the unread options may be (SO_REUSEPORT; V6ONLY on `[::]`), or `None` when
/// there are too many to try.
pub(super) fn variants<'e, 'a>(entries: &'e [Entry<'a>]) -> Option<Vec<Vec<Known<'e, 'a>>>> {
    let knobs: Vec<(usize, bool)> = entries
        .iter()
        .enumerate()
        .flat_map(|(i, e)| {
            let rp = e.reuseport.is_none().then_some((i, true));
            let v6 = (e.v6only.is_none() && e.v6only_matters()).then_some((i, false));
            rp.into_iter().chain(v6)
        })
        .collect();
    if knobs.len() > MAX_UNKNOWN_OPTIONS {
        return None;
    }
    let mut out = Vec::new();
    for bits in 0u32..(1 << knobs.len()) {
        let mut ks: Vec<Known> = entries
            .iter()
            .map(|e| Known {
                e,
                rp: e.reuseport.unwrap_or(false),
                v6only: e.v6only.unwrap_or(false),
            })
            .collect();
        for (n, &(i, is_rp)) in knobs.iter().enumerate() {
            let on = bits & (1 << n) != 0;
            if let Some(k) = ks.get_mut(i) {
                if is_rp {
                    k.rp = on;
                } else {
                    k.v6only = on;
                }
            }
        }
        out.push(ks);
    }
    Some(out)
}

/// A route answered by a SO_REUSEPORT socket whose group may have connected members (same
/// family and uid, SO_REUSEPORT set or unread) is uncertain: the kernel rescores such a
/// group (`reuseport_has_conns`), not measured here. The connected sockets are candidates.
pub(super) fn with_connected_groups(r: &mut Route, entries: &[Entry], connected: &[&Socket]) {
    let rp_receivers: Vec<&Entry> = entries
        .iter()
        .filter(|e| r.sockets.contains(e.id) && e.reuseport != Some(false))
        .collect();
    let peers: Vec<&Socket> = connected
        .iter()
        .copied()
        .filter(|c| {
            rp_receivers
                .iter()
                .any(|e| e.family == c.family && e.uid == c.uid)
        })
        .collect();
    if peers.is_empty() || rp_receivers.is_empty() {
        return;
    }
    r.certain = false;
    r.sockets.extend(peers.iter().map(|c| c.id.clone()));
    r.sockets.sort();
    r.sockets.dedup();
    let ids: Vec<&str> = r.sockets.iter().map(|s| s.0.as_str()).collect();
    r.how = format!(
        "one of {}: a SO_REUSEPORT group with connected members is rescored by the kernel \
         (reuseport_has_conns), which was not measured",
        ids.join(", ")
    );
}
