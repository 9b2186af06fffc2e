//! Facts about listeners falling behind (§7): accept queues growing or full, SYN_RECV
//! piling up (and whether TCP_DEFER_ACCEPT makes some of that normal), and blocking
//! listeners exposed to the select/accept race.

use super::fact::{Acceptors, Fact};
use crate::analyze::history::{self, History};
use crate::model::{Snapshot, Socket, SocketId};
use std::collections::HashSet;

pub fn facts<'s>(snap: &'s Snapshot, history: &History) -> Vec<Fact<'s>> {
    let mut out = Vec::new();
    let mut full_ids = HashSet::new();
    for s in snap.sockets.iter().filter(|s| s.is_listener()) {
        if let Some(f) = accept_queue_full(history, s) {
            full_ids.insert(s.id.clone());
            out.push(f);
        } else if let Some(f) = accept_queue_growing(history, s) {
            out.push(f);
        }
        out.extend(syn_backlog(s));
        out.extend(blocking_listener(s));
    }
    out.extend(overflows_without_a_full_listener(snap, history, &full_ids));
    out.extend(syn_queue_counters(snap, history));
    out
}

/// The SYN queue overflowed somewhere in a namespace: the kernel sent SYN cookies
/// (TCPReqQFullDoCookies) or dropped SYNs (TCPReqQFullDrop) between the first and last sample.
fn syn_queue_counters<'s>(snap: &'s Snapshot, history: &History) -> Vec<Fact<'s>> {
    snap.netns
        .iter()
        .filter_map(|netns| {
            let drops = history
                .counter_rise(netns.id, |c| c.req_q_full_drop)
                .unwrap_or(0);
            let cookies = history
                .counter_rise(netns.id, |c| c.req_q_full_do_cookies)
                .unwrap_or(0);
            if drops == 0 && cookies == 0 {
                return None;
            }
            // The listeners whose SYN queue was at its limit when sampled, if any.
            let at_limit = snap
                .sockets
                .iter()
                .filter(|s| s.netns == netns.id && s.is_listener())
                .filter(|s| {
                    let backlog = s.accept_queue.map(|q| q.backlog).unwrap_or(0);
                    s.syn_recv.is_some_and(|n| backlog > 0 && n >= backlog)
                })
                .collect();
            Some(Fact::SynQueueOverflow {
                netns,
                drops,
                cookies,
                at_limit,
            })
        })
        .collect()
}

fn accept_queue_growing<'s>(history: &History, s: &'s Socket) -> Option<Fact<'s>> {
    let samples = history.queue(&s.id);
    if !history::is_growing(&samples) {
        return None;
    }
    Some(Fact::AcceptQueueGrowing {
        socket: s,
        first: *samples.first()?,
        last: *samples.last()?,
        samples: samples.len(),
    })
}

fn accept_queue_full<'s>(history: &History, s: &'s Socket) -> Option<Fact<'s>> {
    let queue = s.accept_queue?;
    let overflows = history
        .counter_rise(s.netns, |c| c.listen_overflows)
        .unwrap_or(0);
    // Full in the kernel's sense is len > backlog (backlog+1 fit); at len == backlog the next
    // completed handshake is the last one that fits.
    if queue.len < queue.backlog || queue.backlog == 0 && queue.len == 0 {
        return None;
    }
    Some(Fact::AcceptQueueFull {
        socket: s,
        queue,
        overflows,
    })
}

/// ListenOverflows rose but no listener was seen at its limit: name the namespace.
fn overflows_without_a_full_listener<'s>(
    snap: &'s Snapshot,
    history: &History,
    full: &HashSet<SocketId>,
) -> Vec<Fact<'s>> {
    snap.netns
        .iter()
        .filter_map(|netns| {
            let rise = history.counter_rise(netns.id, |c| c.listen_overflows)?;
            let seen_full = snap
                .sockets
                .iter()
                .filter(|s| s.netns == netns.id && s.is_listener())
                .any(|s| full.contains(&s.id));
            if rise == 0 || seen_full {
                return None;
            }
            Some(Fact::OverflowsUnseen { netns, rise })
        })
        .collect()
}

fn syn_backlog(s: &Socket) -> Option<Fact<'_>> {
    let syn_recv = s.syn_recv?;
    let backlog = s.accept_queue?.backlog;
    // Saturating: a file can say anything (a fuzzed syn_recv of 2^32-1 overflowed here).
    if syn_recv == 0 || syn_recv < 8.min(backlog.max(1)) || syn_recv.saturating_mul(2) < backlog {
        return None;
    }
    Some(Fact::SynBacklog {
        socket: s,
        syn_recv,
        backlog,
        defer_accept: s.options.defer_accept.filter(|d| *d > 0),
        shared: s.syn_recv_shared,
    })
}

/// A blocking listener that several processes or threads may wait on. A lone accepter
/// does not hang on Linux: a connection reset after the wakeup stays queued, accept()
/// returns it and the first recv() reports ECONNRESET (measured on 6.18). With several
/// waiters all wake, one accept() takes the connection and the others block in accept().
/// An unknown thread count is not taken as several.
fn blocking_listener(s: &Socket) -> Option<Fact<'_>> {
    if s.options.nonblocking != Some(false) {
        return None;
    }
    let mut pids: Vec<u32> = s.holders.iter().map(|h| h.pid).collect();
    pids.sort_unstable();
    pids.dedup();
    let acceptors = if pids.len() > 1 {
        Acceptors::Processes(pids.len())
    } else {
        let h = s.holders.first()?;
        match h.threads {
            Some(threads) if threads > 1 => Acceptors::Threads {
                pid: h.pid,
                threads,
            },
            _ => return None,
        }
    };
    Some(Fact::BlockingListener {
        socket: s,
        acceptors,
    })
}
