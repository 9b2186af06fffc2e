//! The words of findings about listener queues.

use super::Words;
use crate::analyze::describe::{self, endpoint};
use crate::analyze::findings::fact::Acceptors;
use crate::analyze::history::QueueSample;
use crate::model::{AcceptQueue, Netns, Snapshot, Socket};

pub(super) fn accept_queue_growing(
    snap: &Snapshot,
    s: &Socket,
    first: &QueueSample,
    last: &QueueSample,
    samples: usize,
) -> Words {
    let secs = last.at_ms.saturating_sub(first.at_ms) as f64 / 1000.0;
    Words {
        summary: format!(
            "{}{}: accept queue grew from {} to {} of {} in {secs:.0}s ({})",
            endpoint(s),
            describe::netns_of(snap, s),
            first.len,
            last.len,
            last.backlog,
            describe::process_names(s)
        ),
        explanation: format!(
            "{}: connections completed the handshake and wait in the accept queue faster than the service accepts them \
             ({} → {} over the last {samples} samples, {secs:.0}s). Clients are connected but not served. When the queue passes \
             its limit of {} (min of the listen() backlog and net.core.somaxconn) new connections are dropped. \
             Check whether the process is stuck or overloaded (its accept loop, worker pool, or a blocking call), \
             and raise the backlog only if bursts are the cause.",
            describe::socket(s),
            first.len,
            last.len,
            last.backlog
        ),
    }
}

pub(super) fn accept_queue_full(
    snap: &Snapshot,
    s: &Socket,
    q: &AcceptQueue,
    overflows: u64,
) -> Words {
    let state = if q.len > q.backlog {
        "full"
    } else {
        "at its limit"
    };
    let rising = if overflows > 0 {
        format!(
            " ListenOverflows rose by {overflows} in this namespace over the samples: connections are being dropped."
        )
    } else {
        String::new()
    };
    Words {
        summary: format!(
            "{}{}: accept queue {state} ({}/{}) ({})",
            endpoint(s),
            describe::netns_of(snap, s),
            q.len,
            q.backlog,
            describe::process_names(s)
        ),
        explanation: format!(
            "{}: {} connections wait to be accepted and the limit is {} (the kernel admits one more than the limit). \
             Once it is over, new handshakes are dropped (ListenOverflows, ListenDrops) and clients retry or time out; \
             clients whose handshake completed stay connected without being served.{rising} The service is not calling accept() \
             fast enough: check that it is alive and not blocked; raise the listen() backlog (and net.core.somaxconn) only for bursts.",
            describe::socket(s),
            q.len,
            q.backlog
        ),
    }
}

pub(super) fn overflows_unseen(netns: &Netns, rise: u64) -> Words {
    // Not sanitized here, unlike `syn_queue_overflow`'s: kept as it always was (issue 11
    // changes no output); the text report and the JSON writers escape it on output.
    let name = netns
        .name
        .clone()
        .unwrap_or_else(|| format!("net:[{}]", netns.id));
    Words {
        summary: format!(
            "ListenOverflows rose by {rise} in namespace '{name}' but no listener was seen full"
        ),
        explanation: format!(
            "The kernel counted {rise} connections dropped because a listener's accept queue was full, in namespace '{name}', \
             between the first and last samples. No listener was at its limit when sampled: the queue filled and drained \
             between refreshes. Sample more often (--interval) to catch it, and look at listeners with short backlogs."
        ),
    }
}

pub(super) fn syn_backlog(
    snap: &Snapshot,
    s: &Socket,
    syn: u32,
    backlog: u32,
    defer: Option<u32>,
    shared: bool,
) -> Words {
    let full = syn >= backlog;
    let shared = if shared {
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
    Words {
        summary: format!(
            "{}{}: {syn} SYN_RECV requests waiting (backlog {backlog}){}",
            endpoint(s),
            describe::netns_of(snap, s),
            if defer.is_some() {
                ", TCP_DEFER_ACCEPT on"
            } else {
                ""
            }
        ),
        explanation: format!(
            "{}: {syn} half-open requests wait in the SYN queue{shared}.{defer_text}{full_text}",
            describe::socket(s)
        ),
    }
}

pub(super) fn syn_queue_overflow(
    netns: &Netns,
    drops: u64,
    cookies: u64,
    at_limit: &[&Socket],
) -> Words {
    let name = netns
        .name
        .as_deref()
        .map(|n| crate::text::clean(n).into_owned())
        .unwrap_or_else(|| format!("net:[{}]", netns.id));
    let who = if at_limit.is_empty() {
        "No listener was at its SYN queue limit when sampled: the burst came and went between refreshes.".to_string()
    } else {
        format!(
            "At their limit when sampled: {}.",
            at_limit
                .iter()
                .map(|s| describe::socket(s))
                .collect::<Vec<_>>()
                .join("; ")
        )
    };
    let what = if drops > 0 {
        format!("dropped {drops} SYNs because a listener's SYN queue was full (TCPReqQFullDrop)")
    } else {
        format!(
            "answered {cookies} SYNs with SYN cookies because a listener's SYN queue was full (TCPReqQFullDoCookies)"
        )
    };
    Words {
        summary: format!("namespace '{name}': the kernel {what}"),
        explanation: format!(
            "Over the samples, the kernel in namespace '{name}' {what}. {who} A SYN flood, or clients arriving faster \
             than handshakes complete. SYN cookies keep connections working but lose TCP options (window scaling, SACK) \
             on those connections; drops mean clients retry after a second or more. Raise the listen() backlog and \
             net.ipv4.tcp_max_syn_backlog for bursts; for a flood, filter upstream."
        ),
    }
}

pub(super) fn blocking_listener(snap: &Snapshot, s: &Socket, acceptors: Acceptors) -> Words {
    let who = match acceptors {
        Acceptors::Processes(n) => format!("{n} processes hold it"),
        Acceptors::Threads { pid, threads } => format!("process {pid} has {threads} threads"),
    };
    let waiters = match acceptors {
        Acceptors::Processes(n) => format!("{n} processes"),
        Acceptors::Threads { threads, .. } => format!("{threads} threads"),
    };
    Words {
        summary: format!(
            "{}{}: the listening fd is blocking and {waiters} may wait on it ({})",
            endpoint(s),
            describe::netns_of(snap, s),
            describe::process_names(s)
        ),
        explanation: format!(
            "{} is in blocking mode (no O_NONBLOCK) and {who}. If they multiplex the listener (select(), poll(), or epoll \
             without EPOLLEXCLUSIVE), one connection wakes all of them: one accept() takes it and the others then block in \
             accept() until the next client arrives, while any other work they do waits. Waiters that sleep in accept() itself \
             are woken one at a time and are not affected, nor is a lone accepter: on Linux a connection reset after the wakeup \
             stays queued, accept() returns it and the first recv() reports ECONNRESET. Set O_NONBLOCK on the listening socket and \
             treat EAGAIN from accept() as 'nothing yet', or let one process or thread accept.",
            describe::socket(s)
        ),
    }
}
