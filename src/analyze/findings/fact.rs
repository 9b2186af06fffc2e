//! What a finding is about, as data: the sockets, users, ports, addresses, options and
//! queue figures that make it, and the rule of linux-bind-semantics.md that applies. The
//! detection files find facts; `judge.rs` gives each its severity; `words/` writes its
//! summary and explanation. A fact borrows the snapshot it was found in, so a later rule
//! (noise on real hosts, known services) can look at everything about its sockets — holders,
//! units, options — without the detection having guessed what that rule will need.

use crate::analyze::history::QueueSample;
use crate::model::{
    AcceptQueue, Family, FindingKind, Interface, InterfaceAddr, Netns, PortKey, Proto, Socket,
};
use std::net::IpAddr;

/// One user as the snapshot names it: a socket's or a holder's uid and, when NSS knew it,
/// the name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct User<'s> {
    pub uid: u32,
    pub name: Option<&'s str>,
}

impl<'s> User<'s> {
    /// The user that created a socket (its `sk_uid`, what SO_REUSEPORT compares, §3.6).
    pub fn of_socket(s: &'s Socket) -> Self {
        User {
            uid: s.uid,
            name: s.user.as_deref(),
        }
    }
}

/// One line of a port's routing table (§4) with its receivers found in the snapshot.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Delivery<'s> {
    pub family: Family,
    /// The destination address; `None` for "any other local address".
    pub to: Option<IpAddr>,
    /// Only traffic arriving on this device.
    pub device: Option<String>,
    /// Who receives it: one socket, a SO_REUSEPORT group, or nobody.
    pub receivers: Vec<&'s Socket>,
    /// Why, in the words of `analyze::ports`.
    pub how: String,
    /// False when what bindscope cannot see decides: `receivers` are then the candidates,
    /// one of which receives, not a group that shares the traffic.
    pub certain: bool,
}

/// What let a socket bind an address that is on no interface (§2, `inet_can_nonlocal()`),
/// in the order the kernel's checks are tried.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NonlocalAllowance {
    /// IP_FREEBIND on the socket.
    Freebind,
    /// IP_TRANSPARENT on the socket (a transparent proxy).
    Transparent,
    /// `net.ipv4.ip_nonlocal_bind` / `net.ipv6.ip_nonlocal_bind` is 1 in the namespace.
    Sysctl,
    /// The namespace has no IPv4 address at all: without a local routing table the kernel
    /// accepts any IPv4 address.
    NoIpv4InNamespace,
    /// None of the above is seen: the address was removed after the bind, or an option
    /// bindscope could not read allowed it.
    Unseen,
}

/// A protocol whose responders share one UDP port on purpose: each binds the port with
/// SO_REUSEADDR and joins the protocol's multicast group, and every one receives all of the
/// group's datagrams. Several responders on one host, of different users, are normal.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MulticastService {
    /// Multicast DNS, UDP 5353 (RFC 6762 §15.1: "multiple responders on the same host").
    Mdns,
    /// Link-Local Multicast Name Resolution, UDP 5355 (RFC 4795).
    Llmnr,
    /// SSDP of UPnP, UDP 1900.
    Ssdp,
    /// WS-Discovery, UDP 3702.
    WsDiscovery,
}

impl MulticastService {
    pub fn of(proto: Proto, port: u16) -> Option<MulticastService> {
        match (proto, port) {
            (Proto::Udp, 5353) => Some(MulticastService::Mdns),
            (Proto::Udp, 5355) => Some(MulticastService::Llmnr),
            (Proto::Udp, 1900) => Some(MulticastService::Ssdp),
            (Proto::Udp, 3702) => Some(MulticastService::WsDiscovery),
            _ => None,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            MulticastService::Mdns => "mDNS",
            MulticastService::Llmnr => "LLMNR",
            MulticastService::Ssdp => "SSDP",
            MulticastService::WsDiscovery => "WS-Discovery",
        }
    }

    /// Where the sharing is specified, for the explanation.
    pub fn reference(self) -> &'static str {
        match self {
            MulticastService::Mdns => "RFC 6762 section 15.1",
            MulticastService::Llmnr => "RFC 4795",
            MulticastService::Ssdp => "the UPnP Device Architecture",
            MulticastService::WsDiscovery => "the WS-Discovery 1.1 specification",
        }
    }
}

/// One program among the processes of a user: its executable (or process name when the
/// executable cannot be read) and the pids running it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Program<'s> {
    pub name: &'s str,
    pub pids: Vec<u32>,
}

/// Who may wait on one listener at once: what makes a blocking listener hang.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Acceptors {
    /// Several processes hold the listening fd.
    Processes(usize),
    /// One process of several threads holds it.
    Threads { pid: u32, threads: u32 },
}

/// What a port held for one family leaves to any other user.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unbound {
    /// `[::]` with IPV6_V6ONLY only: every IPv4 address of the port is free.
    AllIpv4,
    /// `0.0.0.0` only: every IPv6 address, `::1` included, is free.
    AllIpv6,
    /// Only IPv4 loopback addresses: `[::1]` is free, and clients of `localhost` try ::1
    /// first (RFC 6724's order, what getaddrinfo(3) returns).
    LoopbackIpv6,
    /// Only `[::1]`: `127.0.0.1` is free for clients that connect to it by number or fall
    /// back to IPv4.
    LoopbackIpv4,
}

/// Why an IPv6 address cannot be used (§2, duplicate address detection).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DadProblem {
    /// Tentative: DAD has not finished (on a host address: and the link has no carrier, so
    /// it cannot).
    Tentative,
    /// Dadfailed: another host on the link uses the address.
    Dadfailed,
}

/// Why a bound socket has no holder.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HolderUnseen<'s> {
    /// Inode 0: no file refers to it (in-kernel server, or an orphan).
    KernelHeld,
    /// Some fd tables could not be read, for this reason.
    Unreadable(&'s str),
    /// Every fd table was read: another PID namespace, or the kernel.
    NotVisible,
}

/// One finding's facts. Variants are per finding kind, and split where one kind has two
/// shapes (a socket's queue versus a namespace's counters).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Fact<'s> {
    /// A wildcard and a more specific bind, or an IPv4 and a dual-stack wildcard, take
    /// traffic of one family on one port (§4: the exact address first, then the wildcard).
    WildcardOverlap {
        proto: Proto,
        port: u16,
        /// The binds involved, by socket id.
        sockets: Vec<&'s Socket>,
        /// Their socket users, by uid, each once.
        users: Vec<User<'s>>,
        routes: Vec<Delivery<'s>>,
        /// Responders of a multicast protocol on wildcard or multicast addresses.
        multicast: Option<MulticastService>,
    },
    /// Several sockets share one address and port through SO_REUSEPORT; only sockets of
    /// the same socket uid can join (§3.6).
    ReuseportGroup {
        proto: Proto,
        members: Vec<&'s Socket>,
        uid: u32,
    },
    /// A port held for one family only, so any user can bind the other family (§5).
    FamilySplit {
        proto: Proto,
        port: u16,
        /// The one family that is bound.
        bound: Family,
        /// What is left to others.
        open: Unbound,
        receivers: Vec<&'s Socket>,
    },
    /// Sockets of different users share one port (§5).
    CrossUserPort {
        proto: Proto,
        port: u16,
        members: Vec<&'s Socket>,
        /// The socket users, by uid, each once.
        users: Vec<User<'s>>,
        /// UDP binds of different users that take the same traffic: for unicast the more
        /// specific or the newest one receives everything (§4.2).
        udp_overlap: bool,
        /// Responders of a multicast protocol, all on wildcard or multicast addresses: they
        /// share the port by design and all receive its multicast.
        multicast: Option<MulticastService>,
        /// A process that holds every member: one service whose sockets have different
        /// users because it made some before dropping privileges and some after (dnsmasq
        /// adding an address it binds once DAD is done), so the traffic reaches it either way.
        held_by_one: Option<u32>,
    },
    /// UDP with SO_REUSEADDR on an unprivileged port: any user can bind it too and take its
    /// unicast (§5).
    UdpReuseaddrTakeover {
        socket: &'s Socket,
        /// `net.ipv4.ip_unprivileged_port_start` of its namespace.
        unprivileged_from: u16,
        /// The port of a multicast protocol whose responders share it by design.
        multicast: Option<MulticastService>,
    },
    /// TCP bound with SO_REUSEADDR but not listening: whoever listens first owns the
    /// port (§3.5).
    ListenRace { socket: &'s Socket },
    /// A receiver bound to one device: the port on other devices is free for anyone (§3.7).
    DeviceGap { socket: &'s Socket, device: &'s str },
    /// The accept queue only grew over the samples (§7).
    AcceptQueueGrowing {
        socket: &'s Socket,
        first: QueueSample,
        last: QueueSample,
        samples: usize,
    },
    /// The accept queue is at or over its limit (§7); `overflows` is the rise of
    /// ListenOverflows in the namespace over the samples.
    AcceptQueueFull {
        socket: &'s Socket,
        queue: AcceptQueue,
        overflows: u64,
    },
    /// ListenOverflows rose in a namespace where no listener was seen full.
    OverflowsUnseen { netns: &'s Netns, rise: u64 },
    /// SYN_RECV requests pile up on a listener (§7).
    SynBacklog {
        socket: &'s Socket,
        syn_recv: u32,
        backlog: u32,
        /// TCP_DEFER_ACCEPT in seconds, when on: waiting requests are then expected.
        defer_accept: Option<u32>,
        /// The count is the whole SO_REUSEPORT group's.
        shared: bool,
    },
    /// The kernel sent SYN cookies or dropped SYNs in a namespace over the samples.
    SynQueueOverflow {
        netns: &'s Netns,
        drops: u64,
        cookies: u64,
        /// Listeners whose SYN queue was at its limit when sampled.
        at_limit: Vec<&'s Socket>,
    },
    /// A listening fd without O_NONBLOCK: exposed to the select/accept race when the
    /// listener is multiplexed (§4.2b says when that race bites).
    BlockingListener {
        socket: &'s Socket,
        acceptors: Acceptors,
    },
    /// Bound to an address on no interface of its namespace (§2).
    NonlocalBind {
        socket: &'s Socket,
        allowed_by: NonlocalAllowance,
    },
    /// Bound to an IPv6 address that is tentative or dadfailed.
    TentativeBind {
        socket: &'s Socket,
        problem: DadProblem,
    },
    /// A host address stuck in DAD (tentative on a link without carrier) or failed.
    StuckAddress {
        netns: &'s Netns,
        interface: &'s Interface,
        address: &'s InterfaceAddr,
        problem: DadProblem,
    },
    /// One socket held by processes of different users, or only by users other than the
    /// one who created it (§3.6).
    CrossUserSocket {
        socket: &'s Socket,
        /// Who created the socket: the uid SO_REUSEPORT compares.
        owner: User<'s>,
        /// The holders' users, by uid, each once.
        holders: Vec<User<'s>>,
        /// No holder has the socket's uid: the fd was passed or the creator dropped
        /// privileges.
        foreign_owner: bool,
    },
    /// Unrelated programs (different executables, neither the parent of the other) run as
    /// one user and hold its receiving sockets: each can signal the others, ptrace them and
    /// join their SO_REUSEPORT groups.
    SharedUid {
        user: User<'s>,
        /// One per unrelated program: its executable (or name) and its processes.
        programs: Vec<Program<'s>>,
        sockets: Vec<&'s Socket>,
        /// Those of `sockets` with SO_REUSEPORT, of this user: another program of the user
        /// can join their group and take a share of their traffic.
        reuseport: Vec<&'s Socket>,
    },
    /// A bound socket with no visible holder.
    HolderUnknown {
        socket: &'s Socket,
        why: HolderUnseen<'s>,
    },
}

impl<'s> Fact<'s> {
    /// The stable kind the finding is filed under.
    pub fn kind(&self) -> FindingKind {
        match self {
            Fact::WildcardOverlap { .. } => FindingKind::WildcardOverlap,
            Fact::ReuseportGroup { .. } => FindingKind::ReuseportGroup,
            Fact::FamilySplit { .. } => FindingKind::FamilySplit,
            Fact::CrossUserPort { .. } => FindingKind::CrossUserPort,
            Fact::UdpReuseaddrTakeover { .. } => FindingKind::UdpReuseaddrTakeover,
            Fact::ListenRace { .. } => FindingKind::ListenRace,
            Fact::DeviceGap { .. } => FindingKind::DeviceGap,
            Fact::AcceptQueueGrowing { .. } => FindingKind::AcceptQueueGrowing,
            Fact::AcceptQueueFull { .. } | Fact::OverflowsUnseen { .. } => {
                FindingKind::AcceptQueueFull
            }
            Fact::SynBacklog { .. } | Fact::SynQueueOverflow { .. } => FindingKind::SynBacklog,
            Fact::BlockingListener { .. } => FindingKind::BlockingListener,
            Fact::NonlocalBind { .. } => FindingKind::NonlocalBind,
            Fact::TentativeBind { .. } | Fact::StuckAddress { .. } => FindingKind::TentativeBind,
            Fact::CrossUserSocket { .. } => FindingKind::CrossUserSocket,
            Fact::HolderUnknown { .. } => FindingKind::HolderUnknown,
            Fact::SharedUid { .. } => FindingKind::SharedUid,
        }
    }

    /// The sockets the finding is about, in the order the words list them (the finding
    /// itself files their ids sorted). Empty for facts about a namespace or an address.
    pub fn sockets(&self) -> Vec<&'s Socket> {
        match self {
            Fact::WildcardOverlap { sockets, .. } => sockets.clone(),
            Fact::ReuseportGroup { members, .. } | Fact::CrossUserPort { members, .. } => {
                members.clone()
            }
            Fact::FamilySplit { receivers, .. } => receivers.clone(),
            Fact::SharedUid { sockets, .. } => sockets.clone(),
            Fact::SynQueueOverflow { at_limit, .. } => at_limit.clone(),
            Fact::OverflowsUnseen { .. } | Fact::StuckAddress { .. } => Vec::new(),
            Fact::UdpReuseaddrTakeover { socket, .. }
            | Fact::ListenRace { socket }
            | Fact::DeviceGap { socket, .. }
            | Fact::AcceptQueueGrowing { socket, .. }
            | Fact::AcceptQueueFull { socket, .. }
            | Fact::SynBacklog { socket, .. }
            | Fact::BlockingListener { socket, .. }
            | Fact::NonlocalBind { socket, .. }
            | Fact::TentativeBind { socket, .. }
            | Fact::CrossUserSocket { socket, .. }
            | Fact::HolderUnknown { socket, .. } => vec![*socket],
        }
    }

    /// The port whose situation this fact is one facet of: the kinds that describe who
    /// gets a port's traffic (overlaps, users, takeovers, families).
    pub fn port_key(&self) -> Option<PortKey> {
        let (proto, port, first) = match self {
            Fact::WildcardOverlap {
                proto,
                port,
                sockets,
                ..
            } => (*proto, *port, sockets.first()?),
            Fact::FamilySplit {
                proto,
                port,
                receivers,
                ..
            } => (*proto, *port, receivers.first()?),
            Fact::CrossUserPort {
                proto,
                port,
                members,
                ..
            } => (*proto, *port, members.first()?),
            Fact::UdpReuseaddrTakeover { socket, .. } => (socket.proto, socket.local_port, socket),
            _ => return None,
        };
        Some(PortKey {
            netns: first.netns,
            proto,
            port,
        })
    }

    /// The sockets as the finding files them: by id, each once.
    pub fn filed_sockets(&self) -> Vec<&'s Socket> {
        let mut sockets = self.sockets();
        sockets.sort_by(|a, b| a.id.cmp(&b.id));
        sockets.dedup_by(|a, b| a.id == b.id);
        sockets
    }
}
