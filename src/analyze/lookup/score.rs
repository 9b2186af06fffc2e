//! `compute_score` for one socket and one packet (docs/lookup §1.1, §1.2), without the
//! per-CPU bonus unless asked: sock_diag does not show `sk_incoming_cpu`.

use super::entry::Known;
use crate::model::{Family, Proto};

/// The score, or `None` when the socket does not match the arrival device (`dev` `None`:
/// a device no socket is bound to). Address and family were matched by the caller.
pub(super) fn score(
    proto: Proto,
    traffic: Family,
    k: &Known<'_, '_>,
    dev: Option<&str>,
    cpu_bonus: bool,
) -> Option<i32> {
    if k.e.device.is_some() && k.e.device != dev {
        return None;
    }
    let bound = k.e.device.is_some();
    let v4_sock = k.e.family == Family::Ipv4;
    let cpu = i32::from(cpu_bonus);
    Some(match (proto, traffic) {
        // inet_hashtables.c: (dev ? 2 : 1) + (PF_INET ? 1 : 0) + cpu
        (Proto::Tcp, Family::Ipv4) => (if bound { 2 } else { 1 }) + i32::from(v4_sock) + cpu,
        // inet6_hashtables.c: (dev ? 2 : 1) + cpu
        (Proto::Tcp, Family::Ipv6) => (if bound { 2 } else { 1 }) + cpu,
        // udp.c: (PF_INET ? 2 : 1) + (dev ? 4 : 0) + cpu (+4 +4 for a connected peer: not walked)
        (Proto::Udp, Family::Ipv4) => {
            (if v4_sock { 2 } else { 1 }) + (if bound { 4 } else { 0 }) + cpu
        }
        // ipv6/udp.c: 0 + (dev ? 1 : 0) + cpu; the walk starts at -1
        (Proto::Udp, Family::Ipv6) => i32::from(bound) + cpu,
    })
}

/// The best score the walk starts from: a socket must score strictly more.
pub(super) fn floor(proto: Proto, traffic: Family) -> i32 {
    match (proto, traffic) {
        (Proto::Udp, Family::Ipv6) => -1,
        _ => 0,
    }
}
