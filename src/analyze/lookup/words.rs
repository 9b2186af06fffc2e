//! Why a route is what it is, in words an admin reads. The facts are gathered from the walk
//! in types; the sentence is made here, once.

use super::entry::{Entry, Known};
use super::score::score;
use super::walk::{Outcome, Packet, Pass, walk};
use crate::model::{Family, Proto, SocketId};
use std::collections::BTreeSet;

/// What the decisive walk showed, in the first order tried.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Facts {
    pass: Option<Pass>,
    group: usize,
    /// Sockets of the decisive chain that match the packet.
    matching: usize,
    /// Another matching socket scores as much as the receiver: the chain order decided.
    tie: bool,
    /// A later socket scores more, but the receiver's SO_REUSEPORT group answered first.
    early_return: bool,
    /// The receiver won on the device score.
    by_device: bool,
    /// IPv4 traffic: the receiver is an IPv4 socket and a dual-stack one scored less.
    by_family: bool,
    device: Option<String>,
}

impl Facts {
    pub(super) fn of(p: &Packet<'_>, exact: &[Known], wild: &[Known], base: &Outcome) -> Facts {
        let pass = base.as_ref().map(|(pass, _)| *pass);
        let chain = if pass == Some(Pass::Exact) {
            exact
        } else {
            wild
        };
        let scored: Vec<(&Known, i32)> = chain
            .iter()
            .filter_map(|k| score(p.proto, p.family, k, p.dev, false).map(|s| (k, s)))
            .collect();
        let group = base.as_ref().map_or(0, |(_, r)| r.ids().len());
        // The socket the walk stopped on: for a group, its first member in the chain.
        let winner = walk(p, chain).and_then(|r| {
            let ids = r.ids();
            scored.iter().find(|(k, _)| ids.contains(k.e.id)).copied()
        });
        let (tie, early_return, by_device, by_family, device) = match winner {
            Some((w, ws)) => {
                let others: Vec<&(&Known, i32)> =
                    scored.iter().filter(|(k, _)| k.e.id != w.e.id).collect();
                (
                    group <= 1 && others.iter().any(|(_, s)| *s == ws),
                    w.rp && others.iter().any(|(_, s)| *s > ws),
                    w.e.device.is_some()
                        && others.iter().any(|(k, s)| k.e.device.is_none() && *s < ws),
                    p.family == Family::Ipv4
                        && w.e.family == Family::Ipv4
                        && others
                            .iter()
                            .any(|(k, s)| k.e.family == Family::Ipv6 && *s < ws),
                    w.e.device.map(str::to_owned),
                )
            }
            None => (false, false, false, false, None),
        };
        Facts {
            pass,
            group,
            matching: scored.len(),
            tie,
            early_return,
            by_device,
            by_family,
            device,
        }
    }
}

/// What bindscope could not see for a port group, the causes of an uncertain route.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Unknown {
    options: bool,
    positions: bool,
    too_many: bool,
    /// No receiving socket of the port can take this family.
    pub(super) family_empty: bool,
}

impl Unknown {
    pub(super) fn of(entries: &[Entry], too_many: bool, family_empty: bool) -> Unknown {
        Unknown {
            options: entries
                .iter()
                .any(|e| e.reuseport.is_none() || (e.v6only.is_none() && e.v6only_matters())),
            positions: entries.iter().any(|e| e.pos.is_none()),
            too_many,
            family_empty,
        }
    }
}

#[allow(clippy::too_many_arguments)]
pub(super) fn how(
    proto: Proto,
    family: Family,
    dev: Option<&str>,
    certain: bool,
    facts: Option<&Facts>,
    unknown: &Unknown,
    cpu: &BTreeSet<SocketId>,
) -> String {
    let mut w: Vec<String> = Vec::new();
    if !certain {
        let mut causes = Vec::new();
        if unknown.too_many {
            causes.push("too many unknowns to try every way".to_string());
        }
        if unknown.options {
            causes.push("SO_REUSEPORT or IPV6_V6ONLY of a socket was not read".to_string());
        }
        if unknown.positions {
            causes.push(
                "the snapshot has no dump positions, so the kernel's chain order is unknown"
                    .to_string(),
            );
        }
        if causes.is_empty() {
            causes.push(
                "the kernel's chain order between the IPv4 and the IPv6 sockets decides, and no \
                 UDP dump shows it"
                    .to_string(),
            );
        }
        // The candidates are the route's sockets; each renderer names them its own way.
        return format!("cannot tell which: {}", causes.join("; "));
    }
    let Some(f) = facts else {
        return format!("nothing could be tried: {}", proto.unreceived());
    };
    match f.pass {
        None => {
            let what = match proto {
                Proto::Tcp => "connections are refused",
                Proto::Udp => "datagrams are dropped",
            };
            let on = dev.map(|d| format!(" arriving on {d}")).unwrap_or_default();
            // With no socket of this family at all, a bind of it would not conflict here.
            let free = if unknown.family_empty {
                " (and the port is free to bind for that family)"
            } else {
                ""
            };
            return format!(
                "no socket takes {}{on} on this port: {what}{free}",
                family.name()
            );
        }
        Some(Pass::Exact) => {
            w.push("an exact-address bind is found before any wildcard (first lookup pass)".into())
        }
        Some(Pass::Wildcard) => {
            w.push("the wildcard bind takes every other local address (second lookup pass)".into())
        }
    }
    if f.group > 1 {
        let unit = match proto {
            Proto::Tcp => "connection",
            Proto::Udp => "datagram",
        };
        w.push(format!(
            "a SO_REUSEPORT group of {}: each {unit} goes to one member by a hash of its addresses and ports",
            f.group
        ));
    }
    if let Some(d) = &f.device {
        w.push(format!(
            "bound to {d}, it only sees traffic arriving on {d}"
        ));
    }
    if f.early_return {
        w.push(
            "it is first in the kernel's chain, and a SO_REUSEPORT socket returns its group at \
             once, before a later socket that would score higher"
                .into(),
        );
    } else if f.tie {
        let when = match proto {
            Proto::Tcp => "listen()",
            Proto::Udp => "bind()",
        };
        w.push(format!(
            "{} sockets match with the same score and the first in the kernel's chain wins: the \
             newest {when}, IPv6 SO_REUSEPORT sockets after all the others (from the dump order)",
            f.matching
        ));
    } else if f.by_device {
        w.push("a socket bound to the arrival device scores above an unbound one".into());
    } else if f.by_family {
        w.push("an IPv4 socket scores above a dual-stack IPv6 one for IPv4".into());
    }
    if f.matching == 1 && f.group <= 1 {
        w.push("this socket receives it".into());
    }
    // KERNEL: connect() and then connect(AF_UNSPEC) rehash a UDP socket to the head of the
    // address-and-port chain udp4_lib_lookup2 walks (udp_lib_rehash), and take it out of its
    // SO_REUSEPORT group, while the dump keeps its old place: no dump shows it (measured on
    // 6.18 by review: an older socket, disconnected, then took all the datagrams).
    if proto == Proto::Udp && (f.tie || f.early_return || f.group > 1) {
        w.push(
            "unless one of them once connect()ed and disconnected: that moves it ahead in the              kernel's chain (and out of a SO_REUSEPORT group), which no dump shows"
                .into(),
        );
    }
    if !cpu.is_empty() {
        let ids: Vec<&str> = cpu.iter().map(|s| s.0.as_str()).collect();
        w.push(format!(
            "unless {} set SO_INCOMING_CPU: datagrams processed on that CPU then go to it (not visible to sock_diag)",
            ids.join(" or ")
        ));
    }
    w.join("; ")
}
