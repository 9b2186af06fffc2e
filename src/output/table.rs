//! The table for people: aligned columns like `ss`, plus what `ss` cannot say: the socket's
//! user, every holder with its user, scope, options and queues. Pure: snapshot → text.

use super::containers;
use crate::model::addr::endpoint;
use crate::model::{Holder, OptionName, Options, Proto, Snapshot, Socket, State};
use crate::text::clean;
use std::fmt::Write as _;

const HEADERS: [&str; 10] = [
    "PROTO", "STATE", "LOCAL", "SCOPE", "ADDRESS", "QUEUE", "SYNQ", "USER", "OPTIONS", "HOLDERS",
];

/// Option badges: a set option by name, an unknown one with `?`, an unset one not at all.
/// Applicable-but-unknown is shown; not-applicable (v6only on IPv4, TCP options on UDP) is not.
pub fn option_badges(o: &Options, proto: Proto, state: State) -> String {
    // Connections, requests and TIME_WAIT: only the options that decide bind conflicts.
    let bound = matches!(state, State::Listen | State::Close);
    let mut out: Vec<String> = Vec::new();
    let mut flag = |name: &str, key: OptionName, v: Option<bool>| match v {
        Some(true) => out.push(name.to_string()),
        Some(false) => {}
        None => {
            if !o.not_applicable(key) {
                out.push(format!("{name}?"));
            }
        }
    };
    flag("reuseaddr", OptionName::Reuseaddr, o.reuseaddr);
    flag("reuseport", OptionName::Reuseport, o.reuseport);
    if !bound {
        return if out.is_empty() {
            "-".into()
        } else {
            out.join(",")
        };
    }
    flag("v6only", OptionName::V6only, o.v6only);
    flag("freebind", OptionName::Freebind, o.freebind);
    flag("transparent", OptionName::Transparent, o.transparent);
    flag("nonblock", OptionName::Nonblocking, o.nonblocking);
    if proto == Proto::Tcp {
        match o.defer_accept {
            Some(0) => {}
            Some(n) => out.push(format!("defer={n}s")),
            None => out.push("defer?".into()),
        }
        match o.fastopen {
            Some(0) => {}
            Some(n) => out.push(format!("fastopen={n}")),
            None => out.push("fastopen?".into()),
        }
    }
    if let Some(d) = &o.bind_device {
        out.push(format!("dev={}", clean(d)));
    }
    if out.is_empty() {
        "-".into()
    } else {
        out.join(",")
    }
}

fn user_label(name: Option<&str>, uid: u32) -> String {
    match name {
        Some(n) => format!("{}({uid})", clean(n)),
        None => uid.to_string(),
    }
}

fn holder_label(h: &Holder) -> String {
    format!(
        "{}[{}/fd{}] {}",
        clean(&h.name),
        h.pid,
        h.fd,
        user_label(h.user.as_deref(), h.uid)
    )
}

fn holders_cell(s: &Socket) -> String {
    if s.holders.is_empty() {
        return match (&s.holders_unknown, s.inode) {
            (_, 0) => "(no owner: kernel-held)".into(),
            (Some(_), _) => "? (not visible without privileges)".into(),
            (None, _) => "(none found)".into(),
        };
    }
    let mut cell = s
        .holders
        .iter()
        .map(holder_label)
        .collect::<Vec<_>>()
        .join(", ");
    if s.holders_unknown.is_some() {
        cell.push_str(", +?");
    }
    cell
}

fn queue_cell(s: &Socket) -> String {
    match (&s.accept_queue, s.recv_q, s.send_q) {
        (Some(q), _, _) => format!("{}/{}", q.len, q.backlog),
        (None, Some(r), Some(w)) => format!("r{r} w{w}"),
        _ => "-".into(),
    }
}

fn row(s: &Socket) -> [String; 10] {
    let mut local = endpoint(s.local_addr, s.local_port, s.device.as_deref());
    if let (Some(a), Some(p)) = (s.remote_addr, s.remote_port) {
        let _ = write!(local, " -> {}", endpoint(a, p, None));
    }
    let synq = match (s.syn_recv, s.syn_recv_shared) {
        (Some(n), true) => format!("{n}*"),
        (Some(n), false) => n.to_string(),
        (None, _) => "-".into(),
    };
    [
        s.proto.name().into(),
        s.state_label().into(),
        local,
        s.scope.name().into(),
        s.address_state.name().into(),
        queue_cell(s),
        synq,
        user_label(s.user.as_deref(), s.uid),
        option_badges(&s.options, s.proto, s.state),
        holders_cell(s),
    ]
}

/// The whole table, with a header and a legend of the markers.
pub fn render(snap: &Snapshot) -> String {
    // A NETNS column first when the snapshot covers more than one namespace; a CONTAINER
    // column before HOLDERS when any socket is in a container (a host without containers
    // gets no empty column).
    let multi = snap.netns.len() > 1;
    let ns_names = crate::analyze::describe::netns_labels(snap);
    let owners = containers::owners(snap);
    let container_cells: Vec<String> = snap
        .sockets
        .iter()
        .map(|s| containers::socket_cell(s, owners.get(&s.netns).copied()))
        .collect();
    let with_containers = container_cells.iter().any(|c| !c.is_empty());
    let holders_at = HEADERS.len() - 1 + usize::from(multi);
    let mut headers: Vec<String> = multi
        .then_some("NETNS")
        .into_iter()
        .chain(HEADERS)
        .map(String::from)
        .collect();
    if with_containers {
        headers.insert(holders_at, "CONTAINER".into());
    }
    let rows: Vec<Vec<String>> = snap
        .sockets
        .iter()
        .zip(container_cells)
        .map(|(s, container)| {
            let ns = multi.then(|| {
                ns_names
                    .get(&s.netns)
                    .cloned()
                    .unwrap_or_else(|| format!("net:[{}]", s.netns))
            });
            let mut r: Vec<String> = ns.into_iter().chain(row(s)).collect();
            if with_containers {
                r.insert(
                    holders_at,
                    if container.is_empty() {
                        "-".into()
                    } else {
                        container
                    },
                );
            }
            r
        })
        .collect();
    let mut widths: Vec<usize> = headers.iter().map(|h| h.chars().count()).collect();
    for r in &rows {
        for (w, cell) in widths.iter_mut().zip(r.iter()) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let mut out = String::new();
    let mut line = |cells: &[String]| {
        let mut l = String::new();
        for (i, (cell, w)) in cells.iter().zip(widths.iter()).enumerate() {
            if i + 1 == cells.len() {
                l.push_str(cell);
            } else {
                let pad = w.saturating_sub(cell.chars().count());
                l.push_str(cell);
                l.extend(std::iter::repeat_n(' ', pad + 2));
            }
        }
        out.push_str(l.trim_end());
        out.push('\n');
    };
    line(&headers);
    for r in &rows {
        line(r);
    }
    let _ = write!(
        out,
        "\n{} in {}.\n\
         QUEUE    accept queue len/backlog for listeners (full when len > backlog); bytes r(eceived)/w(ritten) otherwise\n\
         SYNQ     SYN_RECV requests for the listener (* counted for its whole SO_REUSEPORT group)\n\
         OPTIONS  name: set, name?: unknown (see privileges); HOLDERS +?: more may exist among unreadable processes\n{}",
        crate::text::count(snap.sockets.len(), "socket", "sockets"),
        namespaces_summary(snap),
        if with_containers {
            "CONTAINER the holders' container (+N: more containers hold it), else the one that owns the namespace\n"
        } else {
            ""
        }
    );
    if !snap.findings.is_empty() {
        // As the findings report counts them: a problem's facets once.
        let c = super::findings::entry_counts(&super::findings::entries(&snap.findings));
        let _ = writeln!(
            out,
            "findings: {} (bindscope findings explains them)",
            c.tally()
        );
    }
    for n in snap.netns.iter().filter(|n| n.error.is_some()) {
        let _ = writeln!(
            out,
            "not entered: {} ({})",
            ns_names.get(&n.id).map(String::as_str).unwrap_or("?"),
            clean(n.error.as_deref().unwrap_or(""))
        );
    }
    out
}

/// "1 network namespace" or "3 network namespaces (1 not entered)".
fn namespaces_summary(snap: &Snapshot) -> String {
    let n = snap.netns.len();
    let missing = snap.netns.iter().filter(|n| n.error.is_some()).count();
    let mut s = format!("{n} network namespace{}", if n == 1 { "" } else { "s" });
    if missing > 0 {
        let _ = write!(s, " ({missing} not entered)");
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::*;
    use crate::testing::{netns, snapshot_of, socket};

    #[test]
    fn row_cells() {
        let r = row(&socket());
        assert_eq!(r[0], "tcp");
        assert_eq!(r[1], "listen");
        assert_eq!(r[2], "[::]%lo:8080");
        assert_eq!(r[3], "wildcard");
        assert_eq!(r[5], "3/128");
        assert_eq!(r[6], "2");
        assert_eq!(r[7], "alice(1001)");
        assert_eq!(r[8], "reuseaddr,reuseport?,v6only,nonblock,defer=7s,dev=lo");
        assert_eq!(r[9], "web\\x1b[31m[42/fd5] www-data(33)");
    }

    #[test]
    fn holders_unknown_and_kernel_held() {
        let mut s = socket();
        s.holders.clear();
        s.holders_unknown = Some("needs root".into());
        assert_eq!(holders_cell(&s), "? (not visible without privileges)");
        s.inode = 0;
        assert_eq!(holders_cell(&s), "(no owner: kernel-held)");
    }

    #[test]
    fn one_namespace_has_no_netns_column() {
        let t = render(&snapshot_of(
            vec![socket()],
            vec![netns(1, Some("host"), None)],
        ));
        let header = t.lines().next().expect("header");
        assert!(header.starts_with("PROTO"), "{header}");
        assert!(t.contains("1 socket in 1 network namespace.\n"), "{t}");
    }

    #[test]
    fn several_namespaces_get_a_netns_column_and_list_those_not_entered() {
        let mut other = socket();
        other.netns = NetnsId(2);
        let t = render(&snapshot_of(
            vec![socket(), other],
            vec![
                netns(1, Some("host"), None),
                netns(2, None, None),
                netns(3, Some("web\x1b]0;x"), Some("needs CAP_SYS_ADMIN")),
            ],
        ));
        let lines: Vec<&str> = t.lines().collect();
        assert!(lines[0].starts_with("NETNS"), "{}", lines[0]);
        assert!(lines[1].starts_with("host "), "{}", lines[1]);
        assert!(lines[2].starts_with("net:[2] "), "{}", lines[2]);
        assert!(t.contains("in 3 network namespaces (1 not entered)"), "{t}");
        assert!(
            t.contains("not entered: web\\x1b]0;x (needs CAP_SYS_ADMIN)"),
            "names are sanitized: {t}"
        );
    }

    #[test]
    fn containers_get_a_column_from_holders_or_the_namespace_owner() {
        let t = render(&crate::testing::container_host());
        let lines: Vec<&str> = t.lines().collect();
        let header = lines[0];
        let at = header.find("  CONTAINER ").expect("column") + 2;
        assert!(
            header[at..].split_whitespace().nth(1) == Some("HOLDERS"),
            "{header}"
        );
        let cell = |port: &str| {
            let l = lines
                .iter()
                .find(|l| l.contains(&format!(":{port} ")))
                .unwrap_or_else(|| panic!("no row for {port}:\n{t}"));
            l[at..].split_whitespace().next().unwrap_or("").to_string()
        };
        assert_eq!(cell("22"), "-", "a host process");
        assert_eq!(
            cell("18080"),
            "podman:686f73746300",
            "host network: the holder's"
        );
        assert_eq!(cell("8080"), "web");
        assert_eq!(
            cell("9090"),
            "side",
            "the sidecar, not the namespace's owner"
        );
        assert_eq!(cell("8081"), "web", "no visible holder: the owner");
        assert_eq!(cell("7000"), "-");
        // The unnamed namespace is named by its holder, in the NETNS column too.
        let socat = lines.iter().find(|l| l.contains(":7000 ")).expect("row");
        assert!(socat.starts_with("net:[3] · socat (uid 1001) "), "{socat}");
        assert!(t.contains("\nCONTAINER the holders' container"), "{t}");
    }

    #[test]
    fn no_containers_no_column() {
        let t = render(&snapshot_of(
            vec![socket()],
            vec![netns(1, Some("host"), None)],
        ));
        assert!(!t.contains("CONTAINER"), "{t}");
    }
}
