//! `bindscope ports`: each (namespace, protocol, port) with its binds and who receives what,
//! as a table for people or as JSON (`assets/ports.schema.json`).

use crate::analyze::ports::{PortGroup, Route};
use crate::model::addr::endpoint;
use crate::model::{Snapshot, Socket, SocketId};
use crate::text::clean;
use serde::Serialize;
use std::collections::HashMap;
use std::fmt::Write as _;

/// The JSON document: `{"ports": [...]}`.
#[derive(Debug, Serialize)]
pub struct PortsReport<'a> {
    pub ports: &'a [PortGroup],
}

/// One socket as a route names it: its endpoint, then who holds it.
fn who(id: &SocketId, by_id: &HashMap<&SocketId, &Socket>) -> String {
    let Some(s) = by_id.get(id) else {
        return clean(&id.0).into_owned();
    };
    let mut out = format!(
        "{} {}",
        s.proto.name(),
        endpoint(s.local_addr, s.local_port, s.device.as_deref())
    );
    match s.holders.first() {
        Some(h) => {
            let _ = write!(out, " {}[{}] (uid {})", clean(&h.name), h.pid, s.uid);
            if s.holders.len() > 1 {
                let _ = write!(out, " +{}", s.holders.len() - 1);
            }
        }
        None => {
            let _ = write!(out, " (uid {}, no holder seen)", s.uid);
        }
    }
    out
}

fn route_line(
    proto: crate::model::Proto,
    r: &Route,
    by_id: &HashMap<&SocketId, &Socket>,
) -> String {
    let to =
        r.to.map(|a| format!("to {a}"))
            .unwrap_or_else(|| "to any other address".into());
    let on = r
        .device
        .as_deref()
        .map(|d| format!(" arriving on {}", clean(d)))
        .unwrap_or_default();
    let receivers = if r.sockets.is_empty() {
        proto.unreceived().to_string()
    } else {
        let names: Vec<String> = r.sockets.iter().map(|id| who(id, by_id)).collect();
        // Certain receivers share the traffic (a SO_REUSEPORT group); uncertain ones are
        // the candidates, one of which receives it.
        if r.certain {
            names.join(", ")
        } else {
            format!("one of {}", names.join(" or "))
        }
    };
    format!(
        "  {} {to}{on} → {receivers}: {}",
        r.family.name(),
        clean(&r.how)
    )
}

/// The table: a header line per port, a line per route.
pub fn render_table(snap: &Snapshot, groups: &[PortGroup]) -> String {
    let by_id: HashMap<&SocketId, &Socket> = snap.sockets.iter().map(|s| (&s.id, s)).collect();
    let names: HashMap<_, &str> = snap
        .netns
        .iter()
        .filter_map(|n| n.name.as_deref().map(|name| (n.id, name)))
        .collect();
    let mut out = String::new();
    for g in groups {
        let ns = names
            .get(&g.netns)
            .map(|n| clean(n))
            .unwrap_or_else(|| g.netns.0.to_string().into());
        let _ = writeln!(
            out,
            "{} port {} (netns {ns}): {} bind{}",
            g.proto.name(),
            g.port,
            g.members.len(),
            if g.members.len() == 1 { "" } else { "s" }
        );
        for r in &g.routes {
            let _ = writeln!(out, "{}", route_line(g.proto, r, &by_id));
        }
    }
    if groups.is_empty() {
        out.push_str("no bound ports\n");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analyze::ports::port_groups;
    use crate::model::{Family, Proto, State};

    fn udp(id: &str, addr: &str, pos: u32) -> Socket {
        let mut s = crate::testing::socket();
        s.id = SocketId(id.into());
        s.proto = Proto::Udp;
        s.state = State::Close;
        s.local_addr = addr.parse().expect("addr");
        s.family = if s.local_addr.is_ipv4() {
            Family::Ipv4
        } else {
            Family::Ipv6
        };
        s.local_port = 5353;
        (s.remote_addr, s.remote_port, s.device) = (None, None, None);
        s.options.reuseport = Some(false);
        s.options.v6only = (s.family == Family::Ipv6).then_some(false);
        s.dump_pos = Some(pos);
        s
    }

    /// A line per port and per route; the receivers by endpoint and holder; an uncertain
    /// route says so (docs/lookup U16: IPv4 RP against a dual-stack socket on vA).
    #[test]
    fn table_lines() {
        let mut a = udp("a", "0.0.0.0", 0);
        let mut b = udp("b", "::", 0);
        a.options.reuseport = Some(true);
        b.device = Some("vA".into());
        let ns = crate::testing::netns(a.netns.0, Some("web"), None);
        let snap = crate::testing::snapshot_of(vec![a, b], vec![ns]);
        let groups = port_groups(&snap.sockets);
        let text = render_table(&snap, &groups);
        let lines: Vec<&str> = text.lines().collect();
        assert!(lines[0].starts_with("udp port 5353 (netns web)"), "{text}");
        assert!(lines[0].ends_with(": 2 binds"), "{text}");
        let on_va = lines
            .iter()
            .find(|l| l.starts_with("  IPv4 to any other address arriving on vA → one of "))
            .unwrap_or_else(|| panic!("{text}"));
        assert!(
            on_va.contains("udp 0.0.0.0:5353")
                && on_va.contains(" or ")
                && on_va.contains("udp [::]%vA:5353")
                && on_va.contains("cannot tell which: "),
            "{on_va}"
        );
        assert!(render_table(&snap, &[]).contains("no bound ports"));
    }
}
