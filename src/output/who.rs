//! `bindscope who PORT` for people: the sockets of a port grouped by network namespace, a
//! line each with its holders (pid and command), its user, address and scope, state and
//! container. Like `lsof -i :80`, but every namespace, and the socket's own user beside
//! the processes' (they differ when a socket is passed on or inherited).

use super::containers;
use crate::analyze::describe::netns_labels;
use crate::model::{Holder, Snapshot, Socket, addr::endpoint};
use crate::text::clean;
use std::fmt::Write as _;

const HEADERS: [&str; 7] = [
    "PROTO",
    "ADDRESS",
    "SCOPE",
    "STATE",
    "USER",
    "CONTAINER",
    "HOLDERS (PID COMMAND)",
];

/// The sockets of `snap` (already only those of the port), by namespace in the snapshot's
/// order, and a line for each namespace that was not entered (a socket there is unknown).
pub fn render(snap: &Snapshot) -> String {
    let labels = netns_labels(snap);
    let owners = containers::owners(snap);
    let with_containers = snap
        .sockets
        .iter()
        .any(|s| !containers::socket_cell(s, owners.get(&s.netns).copied()).is_empty());
    let mut out = String::new();
    for ns in &snap.netns {
        let mut sockets: Vec<&Socket> = snap.sockets.iter().filter(|s| s.netns == ns.id).collect();
        if sockets.is_empty() {
            continue;
        }
        sockets.sort_by_key(|s| (s.proto, s.local_addr, s.state, s.remote_addr, s.remote_port));
        let label = labels
            .get(&ns.id)
            .cloned()
            .unwrap_or_else(|| format!("net:[{}]", ns.id));
        if !out.is_empty() {
            out.push('\n');
        }
        if label.starts_with("net:[") {
            let _ = writeln!(out, "{label}");
        } else {
            let _ = writeln!(out, "{label}  net:[{}]", ns.id);
        }
        let rows: Vec<Vec<String>> = sockets
            .iter()
            .map(|s| row(s, owners.get(&s.netns).copied(), with_containers))
            .collect();
        let headers: Vec<String> = HEADERS
            .iter()
            .filter(|h| with_containers || **h != "CONTAINER")
            .map(|h| (*h).to_string())
            .collect();
        columns(&mut out, &headers, &rows);
    }
    if snap
        .sockets
        .iter()
        .any(|s| !s.holders.is_empty() && s.holders_unknown.is_some())
    {
        out.push_str("\n+? more holders may exist among the processes that could not be read\n");
    }
    for n in not_entered(snap) {
        let _ = writeln!(out, "\nnot entered: {n}: a socket there would not show");
    }
    out
}

/// The namespaces that could not be entered, as `LABEL (why)`: where a socket of the port
/// would not show, in the table and when nothing was found.
pub fn not_entered(snap: &Snapshot) -> Vec<String> {
    let labels = netns_labels(snap);
    snap.netns
        .iter()
        .filter_map(|n| {
            let why = n.error.as_deref()?;
            Some(format!(
                "{} ({})",
                labels.get(&n.id).map(String::as_str).unwrap_or("?"),
                clean(why)
            ))
        })
        .collect()
}

fn row(s: &Socket, owner: Option<&crate::model::Container>, with_containers: bool) -> Vec<String> {
    let mut address = endpoint(s.local_addr, s.local_port, s.device.as_deref());
    if let (Some(a), Some(p)) = (s.remote_addr, s.remote_port) {
        let _ = write!(address, " -> {}", endpoint(a, p, None));
    }
    let user = match &s.user {
        Some(n) => clean(n).into_owned(),
        None => format!("uid {}", s.uid),
    };
    let mut r = vec![
        s.proto.name().to_string(),
        address,
        s.scope.name().to_string(),
        s.state_label().to_string(),
        user,
    ];
    if with_containers {
        let c = containers::socket_cell(s, owner);
        r.push(if c.is_empty() { "-".into() } else { c });
    }
    r.push(holders(s));
    r
}

/// `812 nginx, 813 nginx (www-data)`: each process once, with its user when it is not the
/// socket's; or why there is none.
fn holders(s: &Socket) -> String {
    if s.holders.is_empty() {
        return match (&s.holders_unknown, s.inode) {
            (_, 0) => "(no process: kernel-held)".into(),
            (Some(_), _) => "? (not visible without privileges)".into(),
            (None, _) => "(none found)".into(),
        };
    }
    let mut seen: Vec<u32> = Vec::new();
    let mut parts: Vec<String> = Vec::new();
    for h in &s.holders {
        if seen.contains(&h.pid) {
            continue;
        }
        seen.push(h.pid);
        parts.push(holder(s, h));
    }
    let mut cell = parts.join(", ");
    if s.holders_unknown.is_some() {
        cell.push_str(", +?");
    }
    cell
}

fn holder(s: &Socket, h: &Holder) -> String {
    let mut text = format!("{} {}", h.pid, clean(&h.name));
    if h.uid != s.uid {
        let user = match &h.user {
            Some(u) => clean(u).into_owned(),
            None => format!("uid {}", h.uid),
        };
        let _ = write!(text, " ({user})");
    }
    text
}

/// Aligned columns, indented by two spaces; the last column is not padded.
fn columns(out: &mut String, headers: &[String], rows: &[Vec<String>]) {
    let mut widths: Vec<usize> = headers.iter().map(|h| h.chars().count()).collect();
    for r in rows {
        for (w, cell) in widths.iter_mut().zip(r) {
            *w = (*w).max(cell.chars().count());
        }
    }
    for cells in std::iter::once(headers).chain(rows.iter().map(Vec::as_slice)) {
        let mut line = String::from("  ");
        for (i, (cell, w)) in cells.iter().zip(&widths).enumerate() {
            line.push_str(cell);
            if i + 1 < cells.len() {
                line.extend(std::iter::repeat_n(
                    ' ',
                    w.saturating_sub(cell.chars().count()) + 2,
                ));
            }
        }
        out.push_str(line.trim_end());
        out.push('\n');
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::NetnsId;
    use crate::testing::{netns, snapshot_of, socket};

    #[test]
    fn grouped_by_namespace_with_holders_and_users() {
        let mut a = socket();
        a.local_port = 80;
        a.holders_unknown = Some("1 process unreadable".into());
        let mut b = socket();
        b.id = crate::model::SocketId("2-1".into());
        b.netns = NetnsId(2);
        b.local_port = 80;
        b.holders.clear();
        b.holders_unknown = Some("not root".into());
        let snap = snapshot_of(
            vec![a.clone(), b],
            vec![netns(1, Some("host"), None), netns(2, Some("web"), None)],
        );
        let text = render(&snap);
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines[0], "host  net:[1]");
        assert!(lines[1].starts_with("  PROTO  ADDRESS"), "{text}");
        // The holder's user differs from the socket's (alice), so it is named; its name is
        // cleaned.
        assert!(
            lines[2].ends_with("42 web\\x1b[31m (www-data), +?"),
            "{text}"
        );
        assert!(lines[2].contains("alice"), "{text}");
        assert_eq!(lines[3], "");
        assert_eq!(lines[4], "web  net:[2]");
        assert!(
            lines[6].ends_with("? (not visible without privileges)"),
            "{text}"
        );
    }
}
