//! Pure: raw sockets + fd links + processes + probe results → model sockets.
//! No I/O here, so every rule of the join is tested on built inputs.

use crate::collect::classify::{self, ListenerKey, RequestKey};
use crate::collect::holders::{FastMap, FastSet, Holders};
use crate::collect::raw::{RawAddr, RawLink, RawSocket};
use crate::collect::reasons;
use crate::collect::threads;
use crate::model::{
    AcceptQueue, Container, Family, Holder, Missing, NetnsId, OptionName, Options, Proto, Reason,
    Socket, SocketId, State, View,
};
use std::collections::{BTreeMap, HashMap, HashSet};
use std::net::IpAddr;
use std::sync::Arc;

/// A process's fields, shared by all of its holders.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProcessInfo {
    pub name: Arc<str>,
    pub cmdline: Arc<[String]>,
    pub uid: u32,
    pub ruid: u32,
    pub user: Option<Arc<str>>,
    /// The systemd unit (never a container: that is `container`).
    pub unit: Option<Arc<str>>,
    /// The container the process runs in, shared by all its holders.
    pub container: Option<Arc<Container>>,
    pub netns: Option<NetnsId>,
    pub ppid: Option<u32>,
    pub threads: Option<u32>,
    pub exe: Option<Arc<str>>,
}

/// What the options probe gave for one socket.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ProbeOutcome {
    /// Shared: most sockets of a host have the same options, so the owners' maps and their
    /// cache hold one copy of each set (interned by the probe's caller), not one per socket.
    Read(Arc<ProbedOptions>),
    /// Not read, and why (permission, race, no holder, not asked for).
    Unknown(Reason),
}

/// Options read with getsockopt; each `Err` carries why it could not be read. Serialized
/// only in recordings of a host (`collect::linux::recording`).
#[derive(Debug, Clone, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub struct ProbedOptions {
    pub reuseaddr: Result<bool, Reason>,
    pub reuseport: Result<bool, Reason>,
    pub v6only: Option<Result<bool, Reason>>,
    pub freebind: Result<bool, Reason>,
    pub transparent: Result<bool, Reason>,
    pub defer_accept: Option<Result<u32, Reason>>,
    pub fastopen: Option<Result<u32, Reason>>,
    /// A listener's O_NONBLOCK (F_GETFL on the duplicate), when the probe was asked for it
    /// (`Wanted::nonblocking`); the owners take it out into their own map, so outcomes never
    /// hold it. `None`: not read (then it comes from fdinfo). Older recordings have none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nonblocking: Option<bool>,
}

pub struct JoinContext<'a> {
    pub netns: NetnsId,
    pub view: View,
    /// inode → every (pid, fd) holding it.
    pub holders: &'a Holders,
    pub processes: &'a HashMap<u32, ProcessInfo>,
    /// cookie → probe outcome. A socket missing here was not probed.
    pub probes: &'a FastMap<u64, ProbeOutcome>,
    /// O_NONBLOCK per socket inode, from the fdinfo of one holder.
    pub nonblocking: &'a FastMap<u64, bool>,
    pub links: &'a [RawLink],
    pub addrs: &'a [RawAddr],
    pub user_name: &'a (dyn Fn(u32) -> Option<Arc<str>> + Sync),
    /// Set when some processes' fd tables could not be read: holder lists may be partial.
    pub holders_incomplete: Option<Arc<str>>,
}

/// Whether a raw socket belongs in a snapshot of `view`.
pub fn in_view(raw: &RawSocket, view: View) -> bool {
    match view {
        View::All => true,
        View::Listening => match raw.proto {
            // LISTEN, and bound-only sockets (dumped through state bit 13, reported as CLOSE).
            Proto::Tcp => raw.state == 10 || raw.state == 7,
            // Unconnected UDP sockets are reported as CLOSE; connected ones as ESTABLISHED.
            Proto::Udp => raw.state == 7,
        },
    }
}

/// Appends the sockets of one namespace to `out`, unsorted: the collector joins every
/// namespace into one vector sized in advance, so 50,000 sockets are never held twice.
/// A large namespace is joined by two threads, each making half of its sockets (each
/// socket is a few allocations: its holders, its options' reasons).
pub fn append_sockets(raw: &[RawSocket], ctx: &JoinContext<'_>, out: &mut Vec<Socket>) {
    let two = raw.len() >= PARALLEL_JOIN_FROM && threads::two_cores();
    append_sockets_with(raw, ctx, out, two);
}

/// As [`append_sockets`], on two threads when `two`.
fn append_sockets_with(raw: &[RawSocket], ctx: &JoinContext<'_>, out: &mut Vec<Socket>, two: bool) {
    let (syn_recv, shared) = count_syn_recv(raw);
    // Walk the dump in the snapshot's order (an index sort moves 4 bytes, not a socket), so
    // the collector's final sort of large sockets finds them already in order.
    let mut order: Vec<u32> = (0..raw.len() as u32)
        .filter(|&i| raw.get(i as usize).is_some_and(|r| in_view(r, ctx.view)))
        .collect();
    // The dump position last: a socket dumped twice keeps its first position (docs/lookup §4.1).
    // Each key made once (a comparison would make two, reading two raw sockets).
    order.sort_by_cached_key(|&i| raw.get(i as usize).map(|r| (raw_order(r), r.dump_pos)));
    // A dump is not atomic: a socket that moved between hash chains can come twice.
    let mut seen: FastSet<(Proto, u64)> =
        FastSet::with_capacity_and_hasher(order.len(), Default::default());
    order.retain(|&i| {
        raw.get(i as usize)
            .is_some_and(|r| seen.insert((r.proto, r.cookie)))
    });
    drop(seen);
    let make = |&i: &u32| {
        let i = i as usize;
        raw.get(i)
            .map(|r| make_socket(r, i, ctx, &syn_recv, &shared))
    };
    if !two {
        out.extend(order.iter().filter_map(make));
        return;
    }
    let (first, second) = order.split_at(order.len() / 2);
    let rest = || second.iter().filter_map(make).collect::<Vec<Socket>>();
    // No second thread: this one makes the rest.
    let (rest, ()) = threads::beside(
        "bindscope-join",
        rest,
        || out.extend(first.iter().filter_map(make)),
        rest,
    );
    out.extend(rest);
}

/// From how many sockets a namespace is joined by two threads.
const PARALLEL_JOIN_FROM: usize = 4096;

/// One socket of the snapshot from its dump entry (`i`, its index in the dump).
fn make_socket(
    r: &RawSocket,
    i: usize,
    ctx: &JoinContext<'_>,
    syn_recv: &HashMap<usize, u32>,
    shared: &HashSet<usize>,
) -> Socket {
    let state = State::from_kernel(r.state);
    let listening = r.proto == Proto::Tcp && state == State::Listen;
    let unconnected = matches!(state, State::Listen | State::Close) && r.remote_port == 0;
    let device = link_name(r.ifindex, ctx.links);
    let options = build_options(r, device.clone(), ctx);
    let holders = build_holders(r.inode, ctx);
    let holders_unknown = if r.inode == 0 {
        None
    } else {
        ctx.holders_incomplete.clone()
    };
    Socket {
        id: SocketId::new(ctx.netns, r.cookie),
        netns: ctx.netns,
        proto: r.proto,
        family: r.family,
        local_addr: r.local_addr,
        local_port: r.local_port,
        remote_addr: (!unconnected).then_some(r.remote_addr),
        remote_port: (!unconnected).then_some(r.remote_port),
        state,
        uid: r.uid,
        user: (ctx.user_name)(r.uid),
        inode: r.inode,
        device,
        scope: crate::model::addr::scope_of(r.local_addr, options.v6only),
        address_state: classify::address_state(r.local_addr, r.ifindex, ctx.addrs),
        accept_queue: listening.then_some(AcceptQueue {
            len: r.rqueue,
            backlog: r.wqueue,
        }),
        syn_recv: listening.then(|| syn_recv.get(&i).copied().unwrap_or(0)),
        options,
        holders,
        cookie: r.cookie,
        recv_q: (!listening).then_some(r.rqueue),
        send_q: (!listening).then_some(r.wqueue),
        holders_unknown,
        syn_recv_shared: listening && shared.contains(&i),
        host: None,
        cgroup_id: r.cgroup_id,
        dump_pos: r.dump_pos,
    }
}

/// The name of interface `index` (`if<N>` when the namespace did not list it).
fn link_name(index: u32, links: &[RawLink]) -> Option<String> {
    if index == 0 {
        return None;
    }
    Some(
        links
            .iter()
            .find(|l| l.index == index)
            .map(|l| l.name.clone())
            .unwrap_or_else(|| format!("if{index}")),
    )
}

/// The order of [`socket_order`] on a raw socket (unconnected sockets have a remote of
/// `0.0.0.0:0`, which sorts as the model's `None` does: first).
#[allow(clippy::type_complexity)]
fn raw_order(r: &RawSocket) -> (Proto, u16, Family, IpAddr, u8, IpAddr, u16, u64) {
    (
        r.proto,
        r.local_port,
        r.family,
        r.local_addr,
        r.state,
        r.remote_addr,
        r.remote_port,
        r.cookie,
    )
}

/// A stable order for people and for diffs: by protocol, port, address, namespace, state.
#[allow(clippy::type_complexity)]
pub fn socket_order(
    s: &Socket,
) -> (
    Proto,
    u16,
    Family,
    IpAddr,
    NetnsId,
    State,
    Option<IpAddr>,
    Option<u16>,
    u64,
) {
    (
        s.proto,
        s.local_port,
        s.family,
        s.local_addr,
        s.netns,
        s.state,
        s.remote_addr,
        s.remote_port,
        s.cookie,
    )
}

/// Counts SYN_RECV request sockets per listener (index into `raw`), assigning each to the
/// listener the kernel lookup would pick; the second value holds listeners whose count is
/// shared with the rest of their SO_REUSEPORT group.
pub fn count_syn_recv(raw: &[RawSocket]) -> (HashMap<usize, u32>, HashSet<usize>) {
    let listener_idx: Vec<usize> = raw
        .iter()
        .enumerate()
        .filter(|(_, r)| r.proto == Proto::Tcp && r.state == 10)
        .map(|(i, _)| i)
        .collect();
    let keys: Vec<ListenerKey> = listener_idx
        .iter()
        .map(|&i| {
            let r = &raw[i];
            ListenerKey {
                family: r.family,
                addr: r.local_addr,
                port: r.local_port,
                ifindex: r.ifindex,
                v6only: r.v6only,
            }
        })
        .collect();
    let mut counts = HashMap::new();
    let mut shared = HashSet::new();
    for r in raw.iter().filter(|r| r.proto == Proto::Tcp && r.state == 3) {
        let picked = classify::pick_listeners(
            &keys,
            RequestKey {
                addr: r.local_addr,
                port: r.local_port,
                ifindex: r.ifindex,
            },
        );
        for &k in &picked {
            let idx = listener_idx[k];
            *counts.entry(idx).or_insert(0) += 1;
            if picked.len() > 1 {
                shared.insert(idx);
            }
        }
    }
    (counts, shared)
}

fn build_holders(inode: u64, ctx: &JoinContext<'_>) -> Vec<Holder> {
    if inode == 0 {
        return Vec::new();
    }
    let Some(list) = ctx.holders.get(inode) else {
        return Vec::new();
    };
    // Sized to the list: collected from a filter, a vector of these 150-byte holders would
    // start at room for four, and most sockets have one (20 MB at 50,000 sockets).
    let mut holders: Vec<Holder> = Vec::with_capacity(list.len());
    holders.extend(
        list.iter()
            // A process that vanished before its details were read is not a holder any more.
            .filter_map(|&(pid, fd)| {
                let p = ctx.processes.get(&pid)?;
                Some(Holder {
                    container: p.container.clone(),
                    pid,
                    fd,
                    name: p.name.clone(),
                    uid: p.uid,
                    ruid: p.ruid,
                    user: p.user.clone(),
                    cmdline: p.cmdline.clone(),
                    unit: p.unit.clone(),
                    netns: p.netns,
                    ppid: p.ppid,
                    threads: p.threads,
                    exe: p.exe.clone(),
                })
            }),
    );
    holders.sort_by_key(|h| (h.pid, h.fd));
    holders
}

/// Filled in place: a vector collected into the map afterwards cost an allocation and a
/// sort per socket.
type Reasons = BTreeMap<OptionName, Missing>;

fn unknown<T>(reasons: &mut Reasons, name: OptionName, why: &Reason) -> Option<T> {
    reasons.insert(name, Missing::Unknown(why.clone()));
    None
}

fn not_applicable<T>(reasons: &mut Reasons, name: OptionName, why: &Missing) -> Option<T> {
    reasons.insert(name, why.clone());
    None
}

fn take<T: Clone>(reasons: &mut Reasons, name: OptionName, v: &Result<T, Reason>) -> Option<T> {
    match v {
        Ok(v) => Some(v.clone()),
        Err(why) => unknown(reasons, name, why),
    }
}

fn build_options(r: &RawSocket, device: Option<String>, ctx: &JoinContext<'_>) -> Options {
    use OptionName as N;
    let mut reasons = Reasons::new();
    let probe: Result<&ProbedOptions, Reason> = match ctx.probes.get(&r.cookie) {
        Some(ProbeOutcome::Read(p)) => Ok(p.as_ref()),
        Some(ProbeOutcome::Unknown(why)) => Err(why.clone()),
        None if r.inode == 0 => Err(reasons::NO_OWNER.clone()),
        None => Err(reasons::NOT_PROBED.clone()),
    };
    let from_probe =
        |reasons: &mut Reasons, name, f: &dyn Fn(&ProbedOptions) -> &Result<bool, Reason>| {
            match &probe {
                Ok(p) => take(reasons, name, f(p)),
                Err(why) => unknown(reasons, name, why),
            }
        };
    let reuseaddr = from_probe(&mut reasons, N::Reuseaddr, &|p| &p.reuseaddr);
    let reuseport = from_probe(&mut reasons, N::Reuseport, &|p| &p.reuseport);

    // v6only: inet_diag reports it (explicit or implicit) for IPv6 LISTEN/CLOSE sockets.
    let v6only = match r.family {
        Family::Ipv4 => not_applicable(&mut reasons, N::V6only, &reasons::NOT_IPV4),
        Family::Ipv6 => match (r.v6only, &probe) {
            (Some(v), _) => Some(v),
            (None, Ok(p)) => match &p.v6only {
                Some(v) => take(&mut reasons, N::V6only, v),
                None => unknown(&mut reasons, N::V6only, &reasons::NOT_READ),
            },
            (None, Err(why)) => unknown(&mut reasons, N::V6only, why),
        },
    };
    // freebind/transparent: INET_DIAG_SOCKOPT carries both without privileges (5.10+).
    let (freebind, transparent) = match (r.sockopt, &probe) {
        (Some(bits), _) => (Some(bits.freebind), Some(bits.transparent)),
        (None, Ok(p)) => (
            take(&mut reasons, N::Freebind, &p.freebind),
            take(&mut reasons, N::Transparent, &p.transparent),
        ),
        (None, Err(why)) => (
            unknown(&mut reasons, N::Freebind, why),
            unknown(&mut reasons, N::Transparent, why),
        ),
    };
    let tcp_only = |reasons: &mut Reasons,
                    name,
                    f: &dyn Fn(&ProbedOptions) -> &Option<Result<u32, Reason>>| {
        if r.proto != Proto::Tcp {
            return not_applicable(reasons, name, &reasons::NOT_UDP);
        }
        match &probe {
            Ok(p) => match f(p) {
                Some(v) => take(reasons, name, v),
                None => unknown(reasons, name, &reasons::NOT_READ),
            },
            Err(why) => unknown(reasons, name, why),
        }
    };
    let defer_accept = tcp_only(&mut reasons, N::DeferAccept, &|p| &p.defer_accept);
    let fastopen = tcp_only(&mut reasons, N::Fastopen, &|p| &p.fastopen);
    // SO_BINDTODEVICE would return the name of sk_bound_dev_if, which inet_diag reports as
    // idiag_if: the probe does not read it (one getsockopt less while it holds the socket).
    let bind_device = device;
    let nonblocking = if r.proto == Proto::Tcp && r.state == 10 {
        match ctx.nonblocking.get(&r.inode) {
            Some(v) => Some(*v),
            // Read with its options, at the next sample (see owners::read_options).
            None if matches!(ctx.probes.get(&r.cookie),
                Some(ProbeOutcome::Unknown(why)) if *why == *reasons::NEW_SOCKET) =>
            {
                unknown(&mut reasons, N::Nonblocking, &reasons::NEW_SOCKET)
            }
            None => unknown(&mut reasons, N::Nonblocking, &reasons::FDINFO_UNREADABLE),
        }
    } else {
        not_applicable(&mut reasons, N::Nonblocking, &reasons::LISTENERS_ONLY)
    };
    Options {
        reuseaddr,
        reuseport,
        v6only,
        freebind,
        transparent,
        nonblocking,
        defer_accept,
        fastopen,
        bind_device,
        reasons,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::OptionState;

    #[test]
    fn two_threads_join_as_one_does() {
        let f = fixture();
        let names = |_| None;
        let c = ctx(&f, View::All, &names);
        // Shuffled, with sockets dumped twice (the same cookie) and out of the view.
        let raw: Vec<RawSocket> = (0..6000u64)
            .map(|i| {
                let n = (i * 7919) % 5000;
                let state = if n % 3 == 0 { 10 } else { 7 };
                raw(
                    Proto::Tcp,
                    state,
                    "127.0.0.1",
                    (n % 900) as u16 + 1,
                    100 + n % 2,
                    n + 1,
                )
            })
            .collect();
        let (mut one, mut two) = (Vec::new(), Vec::new());
        append_sockets_with(&raw, &c, &mut one, false);
        append_sockets_with(&raw, &c, &mut two, true);
        assert_eq!(one.len(), 5000, "each cookie once");
        assert_eq!(one, two);
        assert!(
            one.windows(2)
                .all(|w| socket_order(&w[0]) <= socket_order(&w[1]))
        );
    }

    /// One namespace's sockets, in the order `append_sockets` gives them.
    fn build_sockets(raw: &[RawSocket], ctx: &JoinContext<'_>) -> Vec<Socket> {
        let mut out = Vec::new();
        append_sockets(raw, ctx, &mut out);
        out
    }
    use crate::collect::raw::SockoptBits;
    use crate::model::{AddressState, Scope};

    fn raw(proto: Proto, state: u8, addr: &str, port: u16, inode: u64, cookie: u64) -> RawSocket {
        let local_addr: IpAddr = addr.parse().expect("addr");
        let family = if local_addr.is_ipv4() {
            Family::Ipv4
        } else {
            Family::Ipv6
        };
        RawSocket {
            proto,
            family,
            state,
            local_addr,
            local_port: port,
            remote_addr: if local_addr.is_ipv4() {
                "0.0.0.0".parse().expect("a")
            } else {
                "::".parse().expect("a")
            },
            remote_port: 0,
            ifindex: 0,
            cookie,
            rqueue: 2,
            wqueue: 128,
            uid: 1001,
            inode,
            v6only: None,
            sockopt: Some(SockoptBits::default()),
            cgroup_id: None,
            dump_pos: None,
        }
    }

    struct Fixture {
        holders: Holders,
        processes: HashMap<u32, ProcessInfo>,
        probes: FastMap<u64, ProbeOutcome>,
        nonblocking: FastMap<u64, bool>,
    }

    fn fixture() -> Fixture {
        let p = |name: &str, uid| ProcessInfo {
            name: name.into(),
            cmdline: vec![name.to_string(), "-d".to_string()].into(),
            uid,
            ruid: uid,
            user: None,
            unit: Some("web.service".into()),
            container: None,
            netns: Some(NetnsId(1)),
            ppid: None,
            threads: None,
            exe: None,
        };
        let mut processes = HashMap::new();
        processes.insert(10, p("nginx", 0));
        processes.insert(11, p("nginx", 33));
        let holders = Holders::from_walk([
            (100, 11, 6),
            (100, 10, 6),
            (101, 99, 3), // pid 99 vanished before it was read
        ]);
        let mut probes = FastMap::default();
        probes.insert(
            1,
            ProbeOutcome::Read(Arc::new(ProbedOptions {
                reuseaddr: Ok(true),
                reuseport: Ok(false),
                v6only: None,
                freebind: Ok(false),
                transparent: Ok(false),
                defer_accept: Some(Ok(7)),
                fastopen: Some(Err(Reason::from("getsockopt: EPERM"))),
                nonblocking: None,
            })),
        );
        probes.insert(2, ProbeOutcome::Unknown(Reason::from("needs root")));
        let mut nonblocking = FastMap::default();
        nonblocking.insert(100, true);
        Fixture {
            holders,
            processes,
            probes,
            nonblocking,
        }
    }

    fn ctx<'a>(
        f: &'a Fixture,
        view: View,
        names: &'a (dyn Fn(u32) -> Option<Arc<str>> + Sync),
    ) -> JoinContext<'a> {
        JoinContext {
            netns: NetnsId(1),
            view,
            holders: &f.holders,
            processes: &f.processes,
            probes: &f.probes,
            nonblocking: &f.nonblocking,
            links: &[],
            addrs: &[],
            user_name: names,
            holders_incomplete: None,
        }
    }

    #[test]
    fn listener_with_two_holders_and_options() {
        let f = fixture();
        let names = |uid: u32| (uid == 1001).then(|| Arc::from("alice"));
        let c = ctx(&f, View::Listening, &names);
        let raws = vec![
            raw(Proto::Tcp, 10, "0.0.0.0", 80, 100, 1),
            raw(Proto::Tcp, 3, "127.0.0.1", 80, 0, 50),
            raw(Proto::Tcp, 3, "10.1.1.1", 80, 0, 51),
            raw(Proto::Tcp, 1, "127.0.0.1", 80, 0, 52),
        ];
        let s = build_sockets(&raws, &c);
        assert_eq!(
            s.len(),
            1,
            "request and established sockets are not in the listening view"
        );
        let l = &s[0];
        assert_eq!(l.id.0, "1-1");
        assert_eq!(l.user.as_deref(), Some("alice"));
        assert_eq!(l.scope, Scope::Wildcard);
        assert_eq!(l.address_state, AddressState::Any);
        assert_eq!(
            l.accept_queue,
            Some(AcceptQueue {
                len: 2,
                backlog: 128
            })
        );
        assert_eq!(l.syn_recv, Some(2));
        assert_eq!(l.remote_addr, None);
        assert_eq!(
            l.holders.iter().map(|h| (h.pid, h.uid)).collect::<Vec<_>>(),
            vec![(10, 0), (11, 33)]
        );
        assert_eq!(l.options.reuseaddr, Some(true));
        assert_eq!(l.options.reuseport, Some(false));
        assert_eq!(l.options.defer_accept, Some(7));
        assert_eq!(l.options.fastopen, None);
        assert_eq!(
            l.options.state(OptionName::Fastopen),
            OptionState::Unknown(&Reason::from("getsockopt: EPERM"))
        );
        assert_eq!(l.options.nonblocking, Some(true));
        assert_eq!(l.options.v6only, None);
        assert!(l.options.not_applicable(OptionName::V6only), "IPv4");
    }

    #[test]
    fn unknown_options_carry_reasons_and_vanished_holders_drop() {
        let f = fixture();
        let names = |_| None;
        let c = ctx(&f, View::All, &names);
        let mut u = raw(Proto::Udp, 7, "::", 53, 101, 2);
        u.v6only = Some(false);
        let t = raw(Proto::Tcp, 6, "10.0.0.1", 80, 0, 3);
        let s = build_sockets(&[u.clone(), u, t], &c);
        assert_eq!(s.len(), 2, "duplicate cookie is dropped");
        assert_eq!(s[0].proto, Proto::Tcp, "sorted by protocol first");
        let (tw, u) = (&s[0], &s[1]);
        assert_eq!(u.scope, Scope::DualStackWildcard);
        assert_eq!(u.options.reuseaddr, None);
        assert_eq!(
            u.options.state(OptionName::Reuseaddr),
            OptionState::Unknown(&Reason::from("needs root"))
        );
        assert!(u.options.not_applicable(OptionName::DeferAccept), "UDP");
        assert!(
            u.options.not_applicable(OptionName::Nonblocking),
            "not a listener"
        );
        assert_eq!(u.options.v6only, Some(false));
        assert!(u.holders.is_empty());
        assert_eq!(u.options.defer_accept, None);
        assert_eq!(tw.state, State::TimeWait);
        assert!(
            tw.options.reasons[&OptionName::Reuseaddr]
                .reason()
                .contains("no process holds")
        );
        assert_eq!(tw.accept_queue, None);
        assert_eq!(tw.recv_q, Some(2));
    }

    #[test]
    fn reuseport_group_shares_syn_recv() {
        let f = fixture();
        let names = |_| None;
        let c = ctx(&f, View::Listening, &names);
        let raws = vec![
            raw(Proto::Tcp, 10, "0.0.0.0", 80, 0, 7),
            raw(Proto::Tcp, 10, "0.0.0.0", 80, 0, 8),
            raw(Proto::Tcp, 3, "127.0.0.1", 80, 0, 9),
        ];
        let s = build_sockets(&raws, &c);
        assert_eq!(s[0].syn_recv, Some(1));
        assert!(s[0].syn_recv_shared && s[1].syn_recv_shared);
    }
}
