//! Findings about listeners falling behind (§7): accept queues growing or full, SYN_RECV
//! piling up (and why TCP_DEFER_ACCEPT makes some of that normal), and blocking listeners
//! exposed to the select/accept race.

use super::finding;
use crate::analyze::describe::{self, endpoint};
use crate::analyze::history::{self, History};
use crate::model::FindingKind;
use crate::model::{Finding, Severity, Snapshot, Socket};

pub fn findings(snap: &Snapshot, history: &History) -> Vec<Finding> {
    let mut out = Vec::new();
    let mut full_ids = std::collections::HashSet::new();
    for s in snap.sockets.iter().filter(|s| s.is_listener()) {
        if let Some(f) = accept_queue_full(snap, history, s) {
            full_ids.insert(s.id.clone());
            out.push(f);
        } else if let Some(f) = accept_queue_growing(snap, history, s) {
            out.push(f);
        }
        out.extend(syn_backlog(snap, s));
        out.extend(blocking_listener(snap, s));
    }
    out.extend(overflows_without_a_full_listener(snap, history, &full_ids));
    out.extend(syn_queue_counters(snap, history));
    out
}

/// The SYN queue overflowed somewhere in a namespace: the kernel sent SYN cookies
/// (TCPReqQFullDoCookies) or dropped SYNs (TCPReqQFullDrop) between the first and last sample.
fn syn_queue_counters(snap: &Snapshot, history: &History) -> Vec<Finding> {
    snap.netns
        .iter()
        .filter_map(|ns| {
            let drops = history.counter_rise(ns.id, |c| c.req_q_full_drop).unwrap_or(0);
            let cookies = history
                .counter_rise(ns.id, |c| c.req_q_full_do_cookies)
                .unwrap_or(0);
            if drops == 0 && cookies == 0 {
                return None;
            }
            let name = ns
                .name
                .as_deref()
                .map(|n| crate::text::clean(n).into_owned())
                .unwrap_or_else(|| format!("net:[{}]", ns.id));
            // The listeners whose SYN queue was at its limit when sampled, if any.
            let full: Vec<&Socket> = snap
                .sockets
                .iter()
                .filter(|s| s.netns == ns.id && s.is_listener())
                .filter(|s| {
                    let backlog = s.accept_queue.map(|q| q.backlog).unwrap_or(0);
                    s.syn_recv.is_some_and(|n| backlog > 0 && n >= backlog)
                })
                .collect();
            let who = if full.is_empty() {
                "No listener was at its SYN queue limit when sampled: the burst came and went between refreshes.".to_string()
            } else {
                format!(
                    "At their limit when sampled: {}.",
                    full.iter().map(|s| describe::socket(s)).collect::<Vec<_>>().join("; ")
                )
            };
            let (severity, what) = if drops > 0 {
                (
                    Severity::Critical,
                    format!("dropped {drops} SYNs because a listener's SYN queue was full (TCPReqQFullDrop)"),
                )
            } else {
                (
                    Severity::Warning,
                    format!("answered {cookies} SYNs with SYN cookies because a listener's SYN queue was full (TCPReqQFullDoCookies)"),
                )
            };
            Some(finding(
                FindingKind::SynBacklog,
                severity,
                &full,
                format!("namespace '{name}': the kernel {what}"),
                format!(
                    "Over the samples, the kernel in namespace '{name}' {what}. {who} A SYN flood, or clients arriving faster \
                     than handshakes complete. SYN cookies keep connections working but lose TCP options (window scaling, SACK) \
                     on those connections; drops mean clients retry after a second or more. Raise the listen() backlog and \
                     net.ipv4.tcp_max_syn_backlog for bursts; for a flood, filter upstream."
                ),
            ))
        })
        .collect()
}

fn accept_queue_growing(snap: &Snapshot, history: &History, s: &Socket) -> Option<Finding> {
    let samples = history.queue(&s.id);
    if !history::is_growing(&samples) {
        return None;
    }
    let (first, last) = (samples.first()?, samples.last()?);
    let secs = last.at_ms.saturating_sub(first.at_ms) as f64 / 1000.0;
    Some(finding(
        FindingKind::AcceptQueueGrowing,
        Severity::Warning,
        &[s],
        format!(
            "{}{}: accept queue grew from {} to {} of {} in {secs:.0}s ({})",
            endpoint(s),
            describe::netns_of(snap, s),
            first.len,
            last.len,
            last.backlog,
            describe::process_names(s)
        ),
        format!(
            "{}: connections completed the handshake and wait in the accept queue faster than the service accepts them \
             ({} → {} over the last {} samples, {secs:.0}s). Clients are connected but not served. When the queue passes \
             its limit of {} (min of the listen() backlog and net.core.somaxconn) new connections are dropped. \
             Check whether the process is stuck or overloaded (its accept loop, worker pool, or a blocking call), \
             and raise the backlog only if bursts are the cause.",
            describe::socket(s),
            first.len,
            last.len,
            samples.len(),
            last.backlog
        ),
    ))
}

fn accept_queue_full(snap: &Snapshot, history: &History, s: &Socket) -> Option<Finding> {
    let q = s.accept_queue?;
    let overflows = history
        .counter_rise(s.netns, |c| c.listen_overflows)
        .unwrap_or(0);
    // Full in the kernel's sense is len > backlog (backlog+1 fit); at len == backlog the next
    // completed handshake is the last one that fits.
    if q.len < q.backlog || q.backlog == 0 && q.len == 0 {
        return None;
    }
    let over = q.len > q.backlog;
    let severity = if over || overflows > 0 {
        Severity::Critical
    } else {
        Severity::Warning
    };
    let state = if over { "full" } else { "at its limit" };
    let rising = if overflows > 0 {
        format!(
            " ListenOverflows rose by {overflows} in this namespace over the samples: connections are being dropped."
        )
    } else {
        String::new()
    };
    Some(finding(
        FindingKind::AcceptQueueFull,
        severity,
        &[s],
        format!(
            "{}{}: accept queue {state} ({}/{}) ({})",
            endpoint(s),
            describe::netns_of(snap, s),
            q.len,
            q.backlog,
            describe::process_names(s)
        ),
        format!(
            "{}: {} connections wait to be accepted and the limit is {} (the kernel admits one more than the limit). \
             Once it is over, new handshakes are dropped (ListenOverflows, ListenDrops) and clients retry or time out; \
             clients whose handshake completed stay connected without being served.{rising} The service is not calling accept() \
             fast enough: check that it is alive and not blocked; raise the listen() backlog (and net.core.somaxconn) only for bursts.",
            describe::socket(s),
            q.len,
            q.backlog
        ),
    ))
}

/// ListenOverflows rose but no listener was seen at its limit: name the namespace.
fn overflows_without_a_full_listener(
    snap: &Snapshot,
    history: &History,
    full: &std::collections::HashSet<crate::model::SocketId>,
) -> Vec<Finding> {
    snap.netns
        .iter()
        .filter_map(|ns| {
            let rise = history.counter_rise(ns.id, |c| c.listen_overflows)?;
            let listeners_here: Vec<&Socket> = snap
                .sockets
                .iter()
                .filter(|s| s.netns == ns.id && s.is_listener())
                .collect();
            if rise == 0 || listeners_here.iter().any(|s| full.contains(&s.id)) {
                return None;
            }
            let name = ns.name.clone().unwrap_or_else(|| format!("net:[{}]", ns.id));
            Some(finding(
                FindingKind::AcceptQueueFull,
                Severity::Critical,
                &[],
                format!("ListenOverflows rose by {rise} in namespace '{name}' but no listener was seen full"),
                format!(
                    "The kernel counted {rise} connections dropped because a listener's accept queue was full, in namespace '{name}', \
                     between the first and last samples. No listener was at its limit when sampled: the queue filled and drained \
                     between refreshes. Sample more often (--interval) to catch it, and look at listeners with short backlogs."
                ),
            ))
        })
        .collect()
}

fn syn_backlog(snap: &Snapshot, s: &Socket) -> Option<Finding> {
    let syn = s.syn_recv?;
    let backlog = s.accept_queue?.backlog;
    // Saturating: a file can say anything (a fuzzed syn_recv of 2^32-1 overflowed here).
    if syn == 0 || syn < 8.min(backlog.max(1)) || syn.saturating_mul(2) < backlog {
        return None;
    }
    let defer = s.options.defer_accept.filter(|d| *d > 0);
    let full = syn >= backlog;
    let severity = match (full, defer) {
        (true, _) => Severity::Critical,
        (false, Some(_)) => Severity::Notice,
        (false, None) => Severity::Warning,
    };
    let shared = if s.syn_recv_shared {
        " (counted for its whole SO_REUSEPORT group: the kernel does not say which member each request belongs to)"
    } else {
        ""
    };
    let defer_text = match defer {
        Some(d) => format!(
            " This listener has TCP_DEFER_ACCEPT ({d}s): a client's bare ACK is dropped and the connection waits in the SYN queue \
             until the client sends data, while the client already believes it is connected. Requests piling up here are then \
             normal for protocols where the client speaks first; for protocols where the server speaks first (SMTP, SSH, MySQL) \
             the clients hang until the period ends. TCPDeferAcceptDrop counts the dropped ACKs."
        ),
        None => " Without TCP_DEFER_ACCEPT this means handshakes are not completing: a SYN flood, lost ACKs, or a peer that never finishes.".to_string(),
    };
    let full_text = if full {
        format!(
            " The SYN queue is at its limit ({backlog}): further SYNs get SYN cookies (net.ipv4.tcp_syncookies=1, TCPReqQFullDoCookies) or are dropped (TCPReqQFullDrop)."
        )
    } else {
        String::new()
    };
    Some(finding(
        FindingKind::SynBacklog,
        severity,
        &[s],
        format!(
            "{}{}: {syn} SYN_RECV requests waiting (backlog {backlog}){}",
            endpoint(s),
            describe::netns_of(snap, s),
            if defer.is_some() {
                ", TCP_DEFER_ACCEPT on"
            } else {
                ""
            }
        ),
        format!(
            "{}: {syn} half-open requests wait in the SYN queue{shared}.{defer_text}{full_text}",
            describe::socket(s)
        ),
    ))
}

fn blocking_listener(snap: &Snapshot, s: &Socket) -> Option<Finding> {
    if s.options.nonblocking != Some(false) {
        return None;
    }
    Some(finding(
        FindingKind::BlockingListener,
        Severity::Notice,
        &[s],
        format!(
            "{}{}: the listening fd is blocking ({})",
            endpoint(s),
            describe::netns_of(snap, s),
            describe::process_names(s)
        ),
        format!(
            "{} is in blocking mode (no O_NONBLOCK). A server that waits in select()/poll()/epoll for the listener and then calls \
             accept() can hang there: if the client resets the connection between the wakeup and accept(), the queue is empty \
             again and accept() blocks until the next client, while other work waits (the select/accept race). \
             Servers that only block in accept() itself (one thread per listener) are not affected. \
             Set O_NONBLOCK on the listening socket when it is multiplexed.",
            describe::socket(s)
        ),
    ))
}
