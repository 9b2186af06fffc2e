//! Routes of one (netns, proto, port) group: per family, per destination (each exact local
//! address a specific bind covers, and any other local address), per arrival device where a
//! device-bound socket changes the answer. Every way the unknowns can be is tried.

use super::chain::{MAX_ORDERS, orders};
use super::entry::{Entry, Known};
use super::unknowns::{variants, with_connected_groups};
use super::walk::{Outcome, Packet, Pass, lookup};
use super::words::{Facts, Unknown, how};
use crate::model::{Family, Proto, Socket, SocketId};
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// One route: traffic of a family, to an address (or any other), arriving on a device (or
/// any other), goes to these sockets.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Route {
    pub family: Family,
    /// The destination address; `None` for "any other local address".
    pub to: Option<IpAddr>,
    /// Only traffic arriving on this device; `None` for any other device.
    pub device: Option<String>,
    /// The receiving sockets: one, a SO_REUSEPORT group, none (refused), or when not
    /// `certain` every candidate.
    pub sockets: Vec<SocketId>,
    pub how: String,
    /// False when what bindscope cannot see (§4.5) decides between the candidates.
    pub certain: bool,
}

/// The routes of the sockets bound to one port of one namespace and protocol.
pub fn routes(proto: Proto, members: &[&Socket]) -> Vec<Route> {
    let entries: Vec<Entry> = members.iter().filter_map(|s| Entry::of(s)).collect();
    if entries.is_empty() {
        return Vec::new();
    }
    let variants = variants(&entries);
    // Connected UDP sockets that may be in a SO_REUSEPORT group: such a group is rescored
    // rather than returned at once (`reuseport_has_conns`), which was not measured (§4.5b).
    let connected: Vec<&Socket> = members
        .iter()
        .copied()
        .filter(|s| {
            s.proto == Proto::Udp && s.remote_port.is_some() && s.options.reuseport != Some(false)
        })
        .collect();
    let mut out = Vec::new();
    for family in [Family::Ipv4, Family::Ipv6] {
        for to in destinations(family, &entries) {
            let mut rs = routes_to(proto, family, to, &entries, variants.as_deref());
            for r in &mut rs {
                with_connected_groups(r, &entries, &connected);
            }
            out.extend(rs);
        }
    }
    out
}

/// The exact addresses specific binds cover for `family`, then `None` (any other).
fn destinations(family: Family, entries: &[Entry]) -> Vec<Option<IpAddr>> {
    let mut set = BTreeSet::new();
    for e in entries {
        // The widest reading: a v4-mapped bind is an IPv4 address whatever its options.
        let k = Known {
            e,
            rp: false,
            v6only: false,
        };
        match family {
            Family::Ipv4 => {
                if let Some(a) = k.v4_view().filter(|a| !a.is_unspecified()) {
                    set.insert(IpAddr::V4(a));
                }
            }
            Family::Ipv6 => {
                if let Some(a) = k
                    .v6_view()
                    .filter(|a| !a.is_unspecified() && a.to_ipv4_mapped().is_none())
                {
                    set.insert(IpAddr::V6(a));
                }
            }
        }
    }
    set.into_iter().map(Some).chain([None]).collect()
}

/// Which address a socket is matched under for `family` traffic.
fn view(family: Family, k: &Known) -> Option<IpAddr> {
    match family {
        Family::Ipv4 => k.v4_view().map(IpAddr::V4),
        Family::Ipv6 => k.v6_view().map(IpAddr::V6),
    }
}

fn wildcard(family: Family) -> IpAddr {
    match family {
        Family::Ipv4 => IpAddr::V4(Ipv4Addr::UNSPECIFIED),
        Family::Ipv6 => IpAddr::V6(Ipv6Addr::UNSPECIFIED),
    }
}

/// What every tried way gave for one (destination, device).
struct Answer {
    outcomes: BTreeSet<Outcome>,
    /// Some order or option set was too large to try.
    overflow: bool,
    /// Sockets whose `sk_incoming_cpu` bonus would change the answer (UDP).
    cpu: BTreeSet<SocketId>,
    facts: Option<Facts>,
}

fn answer<'e, 'a>(
    proto: Proto,
    family: Family,
    to: Option<IpAddr>,
    dev: Option<&str>,
    variants: &[Vec<Known<'e, 'a>>],
) -> Answer {
    let mut a = Answer {
        outcomes: BTreeSet::new(),
        overflow: false,
        cpu: BTreeSet::new(),
        facts: None,
    };
    let mut tried = 0usize;
    for ks in variants {
        let exact: Vec<Known> = match to {
            Some(d) => ks
                .iter()
                .copied()
                .filter(|k| view(family, k) == Some(d))
                .collect(),
            None => Vec::new(),
        };
        let wild: Vec<Known> = ks
            .iter()
            .copied()
            .filter(|k| view(family, k) == Some(wildcard(family)))
            .collect();
        let (Some(oe), Some(ow)) = (orders(&exact), orders(&wild)) else {
            a.overflow = true;
            continue;
        };
        // A budget over every way tried, so one odd port cannot stall a refresh.
        tried = tried.saturating_add(oe.len().saturating_mul(ow.len()));
        if tried > MAX_ORDERS {
            a.overflow = true;
            break;
        }
        for e in &oe {
            for w in &ow {
                let p = Packet {
                    proto,
                    family,
                    dev,
                    cpu_bonus: None,
                };
                let base = lookup(&p, e, w);
                if a.facts.is_none() {
                    a.facts = Some(Facts::of(&p, e, w, &base));
                }
                if proto == Proto::Udp {
                    for k in e.iter().chain(w) {
                        let bonus = Packet {
                            cpu_bonus: Some(k.e.id),
                            ..p
                        };
                        if lookup(&bonus, e, w) != base {
                            a.cpu.insert(k.e.id.clone());
                        }
                    }
                }
                // The wildcard order matters only when the exact chain found nothing.
                let exact_found = matches!(base, Some((Pass::Exact, _)));
                a.outcomes.insert(base);
                if exact_found {
                    break;
                }
            }
        }
    }
    a
}

fn routes_to(
    proto: Proto,
    family: Family,
    to: Option<IpAddr>,
    entries: &[Entry],
    variants: Option<&[Vec<Known>]>,
) -> Vec<Route> {
    // The devices of sockets that can take this family here split the route.
    let mut devices: Vec<&str> = entries
        .iter()
        .filter(|e| {
            let k = Known {
                e,
                rp: false,
                v6only: false,
            };
            view(family, &k).is_some_and(|a| Some(a) == to || a == wildcard(family))
        })
        .filter_map(|e| e.device)
        .collect();
    devices.sort();
    devices.dedup();
    let family_empty = !entries.iter().any(|e| {
        let k = Known {
            e,
            rp: false,
            v6only: e.v6only.unwrap_or(false),
        };
        view(family, &k).is_some()
    });
    let unknown = Unknown::of(entries, variants.is_none(), family_empty);
    let make = |dev: Option<&str>| -> Route {
        let a = match variants {
            Some(v) => answer(proto, family, to, dev, v),
            None => Answer {
                outcomes: BTreeSet::new(),
                overflow: true,
                cpu: BTreeSet::new(),
                facts: None,
            },
        };
        let certain = a.outcomes.len() == 1 && !a.overflow;
        let sockets: Vec<SocketId> = if a.overflow {
            // Not tried every way: every socket that could match is a candidate.
            let mut v: Vec<SocketId> = entries
                .iter()
                .filter(|e| e.device.is_none() || e.device == dev)
                .filter(|e| {
                    // Under the widest reading of an unread V6ONLY.
                    let k = Known {
                        e,
                        rp: false,
                        v6only: e.v6only.unwrap_or(false),
                    };
                    view(family, &k).is_some_and(|a| Some(a) == to || a == wildcard(family))
                })
                .map(|e| e.id.clone())
                .collect();
            v.sort();
            v
        } else {
            let set: BTreeSet<SocketId> = a
                .outcomes
                .iter()
                .flatten()
                .flat_map(|(_, r)| r.ids())
                .collect();
            set.into_iter().collect()
        };
        let how = how(
            proto,
            family,
            dev,
            certain,
            a.facts.as_ref(),
            &unknown,
            &a.cpu,
        );
        Route {
            family,
            to,
            device: dev.map(str::to_owned),
            sockets,
            how,
            certain,
        }
    };
    let default = make(None);
    let mut out: Vec<Route> = devices
        .into_iter()
        .map(|d| make(Some(d)))
        .filter(|r| (&r.sockets, r.certain) != (&default.sockets, default.certain))
        .collect();
    out.push(default);
    out
}
