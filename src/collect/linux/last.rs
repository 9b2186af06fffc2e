//! What a [`super::collector::Collector`] keeps of its last whole refresh, to tell whether the
//! next one found the host as it was: the same namespaces with the same interfaces, addresses
//! and sysctls, and the same sockets (by everything the kernel says of them but their queue
//! numbers). Then only the numbers are new ([`QuietChanges`]).

use super::in_netns::{Hint, ListenerBytes, NetnsData, Reading};
use super::netns::NetnsTarget;
use crate::collect::changes::{NetnsChange, SocketNumbers};
use crate::collect::join;
use crate::collect::raw::{RawLink, RawSocket};
use crate::model::{AcceptQueue, Proto, Snapshot, Sysctls, TcpExtCounters, View};
use std::collections::HashMap;
use std::time::Duration;

const TCP_SYN_RECV: u8 = 3;
const TCP_LISTEN: u8 = 10;

/// One namespace as the last whole read found it.
struct LastNetns {
    /// The target without its pids (they come and go; see [`NetnsChange`]).
    target: NetnsTarget,
    raw: Vec<RawSocket>,
    /// For each of `raw`, its index in the snapshot's sockets (`None`: not shown, or a
    /// duplicate the join dropped).
    slots: Vec<Option<usize>>,
    /// The indexes in `raw` of the TCP listeners, which a listeners-only read is compared
    /// with (without walking the other sockets of `raw`, most of them at 50,000).
    listeners: Vec<usize>,
    links: Vec<RawLink>,
    addrs: Vec<crate::collect::raw::RawAddr>,
    sysctls: Sysctls,
    /// The listeners' bytes of the last listeners-only read taken in since the last whole
    /// one: the same bytes again mean the same listeners with the same numbers.
    listener_bytes: Option<ListenerBytes>,
}

/// One namespace as a refresh read it: the target, what was read, or why not.
pub type Entered = (NetnsTarget, Option<NetnsData>, Option<String>);

pub struct LastRefresh {
    namespaces: Vec<LastNetns>,
    view: View,
    /// The numbers of every socket of the snapshot, with the quiet changes since applied.
    numbers: Vec<SocketNumbers>,
    /// Namespace id → index in the snapshot's namespaces.
    netns_index: HashMap<u64, usize>,
    /// The counters of each of the snapshot's namespaces, as last given.
    counters: Vec<TcpExtCounters>,
    /// When the last whole read was (the sources' monotonic clock).
    pub whole_at: Duration,
    /// The last whole read saw SYN_RECV requests.
    requests_waiting: bool,
}

/// What a quiet refresh would give, before the owners are checked.
pub struct Quiet {
    pub netns: Vec<NetnsChange>,
    /// (index, old numbers, new numbers) of each socket whose numbers moved.
    pub sockets: Vec<(usize, SocketNumbers, SocketNumbers)>,
}

fn without_pids(t: &NetnsTarget) -> NetnsTarget {
    NetnsTarget {
        pids: Vec::new(),
        ..t.clone()
    }
}

/// Everything but the queue numbers (`rqueue`, `wqueue`), which move on a quiet host.
/// Exhaustive: a field added to `RawSocket` does not compile here until it is compared.
fn same_but_queues(a: &RawSocket, b: &RawSocket) -> bool {
    let RawSocket {
        proto,
        family,
        state,
        local_addr,
        local_port,
        remote_addr,
        remote_port,
        ifindex,
        cookie,
        rqueue: _,
        wqueue: _,
        uid,
        inode,
        v6only,
        sockopt,
        cgroup_id,
        dump_pos,
    } = a;
    *cookie == b.cookie
        && *inode == b.inode
        && *dump_pos == b.dump_pos
        && (*proto, *family, *state, *local_port, *remote_port)
            == (b.proto, b.family, b.state, b.local_port, b.remote_port)
        && (*local_addr, *remote_addr, *ifindex, *uid)
            == (b.local_addr, b.remote_addr, b.ifindex, b.uid)
        && (*v6only, *sockopt, *cgroup_id) == (b.v6only, b.sockopt, b.cgroup_id)
}

fn is_listener(r: &RawSocket) -> bool {
    r.proto == Proto::Tcp && r.state == TCP_LISTEN
}

/// Whether any namespace read holds SYN_RECV requests.
fn any_requests(entered: &[Entered]) -> bool {
    entered.iter().filter_map(|(_, d, _)| d.as_ref()).any(|d| {
        d.raw
            .iter()
            .any(|r| r.proto == Proto::Tcp && r.state == TCP_SYN_RECV)
    })
}

impl LastRefresh {
    /// What to keep of a whole refresh: `entered` is what made `snap`. `None` when a
    /// namespace could not be read: its next refresh must try it again whole.
    pub fn new(snap: &Snapshot, entered: &[Entered], view: View, now: Duration) -> Option<Self> {
        let index: HashMap<(u64, u64), usize> = snap
            .sockets
            .iter()
            .enumerate()
            .map(|(i, s)| ((s.netns.0, s.cookie), i))
            .collect();
        let mut namespaces = Vec::with_capacity(entered.len());
        for (t, data, error) in entered {
            let (Some(d), None) = (data, error) else {
                return None;
            };
            let mut taken = std::collections::HashSet::new();
            let slots = d
                .raw
                .iter()
                .map(|r| {
                    let at = index.get(&(t.id, r.cookie)).copied()?;
                    // The first of a socket dumped twice stands for it (as in the join).
                    (join::in_view(r, view) && taken.insert(r.cookie)).then_some(at)
                })
                .collect();
            let listeners = d
                .raw
                .iter()
                .enumerate()
                .filter(|(_, r)| is_listener(r))
                .map(|(i, _)| i)
                .collect();
            namespaces.push(LastNetns {
                target: without_pids(t),
                slots,
                listeners,
                raw: d.raw.clone(),
                links: d.links.clone(),
                addrs: d.addrs.clone(),
                sysctls: d.sysctls.clone(),
                listener_bytes: None,
            });
        }
        Some(LastRefresh {
            namespaces,
            view,
            numbers: snap.sockets.iter().map(SocketNumbers::of).collect(),
            netns_index: snap
                .netns
                .iter()
                .enumerate()
                .map(|(i, n)| (n.id.0, i))
                .collect(),
            counters: snap.netns.iter().map(|n| n.counters.clone()).collect(),
            whole_at: now,
            requests_waiting: any_requests(entered),
        })
    }

    /// The sockets of the last whole read that the snapshot shows.
    pub fn shown(&self) -> Vec<&RawSocket> {
        self.namespaces
            .iter()
            .flat_map(|n| n.raw.iter())
            .filter(|r| join::in_view(r, self.view))
            .collect()
    }

    /// What the last read of namespace `id` tells the next read as `reading`.
    pub fn hint(&self, id: u64, reading: Reading) -> Hint<'_> {
        let Some(n) = self.namespaces.iter().find(|n| n.target.id == id) else {
            return Hint::default();
        };
        match reading {
            Reading::Whole => Hint {
                expect: n.raw.len(),
                listeners_before: None,
            },
            Reading::Listeners => Hint {
                expect: n.listeners.len(),
                listeners_before: n.listener_bytes.as_ref(),
            },
        }
    }

    /// Whether the last whole read saw SYN_RECV requests (in any namespace).
    pub fn requests_waiting(&self) -> bool {
        self.requests_waiting
    }

    /// The counters of the snapshot's namespaces, as last given.
    pub fn counters(&self) -> &[TcpExtCounters] {
        &self.counters
    }

    /// The changes, when `entered` (read as `reading` says) found the host as it was but
    /// for numbers; `None` when anything else differs.
    pub fn quiet(&self, entered: &[Entered], reading: Reading) -> Option<Quiet> {
        if entered.len() != self.namespaces.len() {
            return None;
        }
        let mut netns = Vec::with_capacity(entered.len());
        let mut sockets = Vec::new();
        for ((t, data, error), last) in entered.iter().zip(&self.namespaces) {
            let d = data.as_ref().filter(|_| error.is_none())?;
            if without_pids(t) != last.target
                || d.links != last.links
                || d.addrs != last.addrs
                || d.sysctls != last.sysctls
            {
                return None;
            }
            let whole = reading == Reading::Whole || self.view != View::Listening;
            // The listeners as the last listeners-only read taken in found them, byte for
            // byte: nothing of theirs moved since (the read was given those bytes to compare).
            let as_before = !whole && d.listeners_as_before && last.listener_bytes.is_some();
            if !as_before && !self.moved(last, &d.raw, whole, &mut sockets) {
                return None;
            }
            netns.push(NetnsChange {
                index: *self.netns_index.get(&t.id)?,
                processes: t.pids.len() as u32,
                pids: t.pids.iter().copied().take(16).collect(),
                counters: d.counters.clone(),
            });
        }
        netns.sort_by_key(|n| n.index);
        Some(Quiet { netns, sockets })
    }

    /// Whether `raw` holds the sockets `last` did, but for queue numbers, in the same
    /// order: all of them after a whole read (SYN_RECV requests aside, which come and go
    /// and are only counted), the listeners after a listeners-only one. Adds to `out` those
    /// whose numbers moved, as `join` would set them: a listener's accept queue always;
    /// after a whole read, its SYN_RECV count and the byte queues of the other sockets too
    /// (a listeners-only read keeps those).
    fn moved(
        &self,
        last: &LastNetns,
        raw: &[RawSocket],
        whole: bool,
        out: &mut Vec<(usize, SocketNumbers, SocketNumbers)>,
    ) -> bool {
        let compared = |r: &RawSocket| {
            if whole {
                r.state != TCP_SYN_RECV
            } else {
                is_listener(r)
            }
        };
        let (syn, shared) = if whole {
            join::count_syn_recv(raw)
        } else {
            Default::default()
        };
        let all = || last.raw.iter().zip(&last.slots);
        let listeners = || {
            last.listeners
                .iter()
                .filter_map(|&i| Some((last.raw.get(i)?, last.slots.get(i)?)))
        };
        let mut before: Box<dyn Iterator<Item = (&RawSocket, &Option<usize>)>> = if whole {
            Box::new(all().filter(|(r, _)| compared(r)))
        } else {
            Box::new(listeners())
        };
        for (i, r) in raw.iter().enumerate().filter(|(_, r)| compared(r)) {
            let Some((was, slot)) = before.next() else {
                return false;
            };
            if !same_but_queues(r, was) {
                return false;
            }
            let Some(old) = slot.and_then(|at| self.numbers.get(at).map(|n| (at, *n))) else {
                continue;
            };
            let (at, old) = old;
            let mut new = old;
            if is_listener(r) {
                new.accept_queue = Some(AcceptQueue {
                    len: r.rqueue,
                    backlog: r.wqueue,
                });
                if whole {
                    new.syn_recv = Some(syn.get(&i).copied().unwrap_or(0));
                    new.syn_recv_shared = shared.contains(&i);
                }
            } else if whole {
                new.recv_q = Some(r.rqueue);
                new.send_q = Some(r.wqueue);
            }
            if new != old {
                out.push((at, old, new));
            }
        }
        before.next().is_none()
    }

    /// Takes a quiet refresh's changes in (they were given out); `entered` is what it read.
    pub fn commit(&mut self, q: &Quiet, entered: &[Entered], reading: Reading, now: Duration) {
        for (i, _, new) in &q.sockets {
            if let Some(n) = self.numbers.get_mut(*i) {
                *n = *new;
            }
        }
        for n in &q.netns {
            if let Some(c) = self.counters.get_mut(n.index) {
                c.clone_from(&n.counters);
            }
        }
        if reading == Reading::Whole {
            self.whole_at = now;
            self.requests_waiting = any_requests(entered);
        }
        // The listeners' bytes of a listeners-only read now stand for what was taken in; a
        // whole read has none (its dump mixes the listeners with other sockets).
        for ((_, data, _), last) in entered.iter().zip(&mut self.namespaces) {
            match data.as_ref().filter(|_| reading == Reading::Listeners) {
                Some(d) if d.listeners_as_before => {}
                Some(d) => last.listener_bytes.clone_from(&d.listener_bytes),
                None => last.listener_bytes = None,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::collect::linux::in_netns::ListenerBytes;
    use crate::model::{Family, NetnsId, NetnsKind, SocketId};

    const NS: u64 = 7;

    fn target() -> NetnsTarget {
        NetnsTarget {
            id: NS,
            name: Some("t".into()),
            kind: NetnsKind::Named,
            open_path: None,
            pids: vec![1],
            paths: vec![],
            container: None,
            containers: vec![],
            unit: None,
            is_own: true,
        }
    }

    /// The listener on 127.0.0.1:80 with `queued` connections waiting.
    fn listener(queued: u32) -> RawSocket {
        RawSocket {
            proto: Proto::Tcp,
            family: Family::Ipv4,
            state: TCP_LISTEN,
            local_addr: "127.0.0.1".parse().expect("addr"),
            local_port: 80,
            remote_addr: "0.0.0.0".parse().expect("addr"),
            remote_port: 0,
            ifindex: 0,
            cookie: 11,
            rqueue: queued,
            wqueue: 128,
            uid: 0,
            inode: 5,
            v6only: None,
            sockopt: None,
            cgroup_id: None,
            dump_pos: Some(0),
        }
    }

    /// A read of the namespace: the listener parsed, or `as_before` with its bytes only.
    fn read(queued: Option<u32>, bytes: Option<u8>, as_before: bool) -> Vec<Entered> {
        let data = NetnsData {
            raw: queued.map(listener).into_iter().collect(),
            listener_bytes: bytes.map(ListenerBytes::for_test),
            listeners_as_before: as_before,
            ..Default::default()
        };
        vec![(target(), Some(data), None)]
    }

    fn last() -> LastRefresh {
        let mut s = crate::testing::socket();
        s.id = SocketId(format!("{NS}-b"));
        s.netns = NetnsId(NS);
        s.cookie = 11;
        s.accept_queue = Some(AcceptQueue {
            len: 0,
            backlog: 128,
        });
        s.syn_recv = Some(0);
        s.syn_recv_shared = false;
        let snap =
            crate::testing::snapshot_of(vec![s], vec![crate::testing::netns(NS, Some("t"), None)]);
        LastRefresh::new(
            &snap,
            &read(Some(0), None, false),
            View::Listening,
            Duration::ZERO,
        )
        .expect("read whole")
    }

    fn queue(q: &Quiet) -> Vec<Option<u32>> {
        q.sockets
            .iter()
            .map(|(_, _, n)| n.accept_queue.map(|a| a.len))
            .collect()
    }

    /// Bytes are kept only from a listeners-only read taken in; the same bytes again say
    /// nothing moved; a whole read taken in (which may move the numbers) drops them, so
    /// older bytes seen again are parsed and compared, not trusted.
    #[test]
    fn kept_listener_bytes_stand_only_for_what_was_taken_in() {
        let mut l = last();
        assert!(l.hint(NS, Reading::Listeners).listeners_before.is_none());
        // A listeners-only read, not taken in (its owners check failed): nothing kept.
        let first = read(Some(2), Some(1), false);
        let q = l.quiet(&first, Reading::Listeners).expect("quiet");
        assert_eq!(queue(&q), [Some(2)]);
        assert!(l.hint(NS, Reading::Listeners).listeners_before.is_none());
        // Taken in: its bytes are what the next read compares with.
        l.commit(&q, &first, Reading::Listeners, Duration::from_secs(1));
        assert_eq!(
            l.hint(NS, Reading::Listeners).listeners_before,
            Some(&ListenerBytes::for_test(1))
        );
        // The same bytes again: no change, without a parse.
        let same = read(None, Some(1), true);
        let q = l.quiet(&same, Reading::Listeners).expect("quiet");
        assert!(q.sockets.is_empty());
        l.commit(&q, &same, Reading::Listeners, Duration::from_secs(2));
        assert!(l.hint(NS, Reading::Listeners).listeners_before.is_some());
        // A whole read moves the queue back to 0 and is taken in: the bytes are dropped.
        let whole = read(Some(0), None, false);
        let q = l.quiet(&whole, Reading::Whole).expect("quiet");
        assert_eq!(queue(&q), [Some(0)]);
        l.commit(&q, &whole, Reading::Whole, Duration::from_secs(3));
        assert!(l.hint(NS, Reading::Listeners).listeners_before.is_none());
        // Bytes equal to the old ones (the queue at 2 again) are parsed and compared.
        let again = read(Some(2), Some(1), false);
        let q = l.quiet(&again, Reading::Listeners).expect("quiet");
        assert_eq!(queue(&q), [Some(2)]);
        // A read that claims "as before" with nothing kept is not taken as unchanged.
        assert!(
            l.quiet(&read(None, Some(1), true), Reading::Listeners)
                .is_none()
        );
    }
}
