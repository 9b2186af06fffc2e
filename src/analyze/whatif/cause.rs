//! What a verdict rests on, as data: the rule that decided ([`Cause`]), the caveats that do
//! not change it ([`Note`]) and the inputs the snapshot lacks ([`Unknown`]). Each variant
//! carries the sockets, addresses, options and uids involved, so the CLI, the JSON and the
//! dashboard write the same words from it (`output::whatif`) and tests match on it.
//!
//! The `§` numbers are sections of linux-bind-semantics.md; kernel functions are named where
//! the rule comes from.

use crate::analyze::overlap::Endpoint;
use crate::model::{AddrScope, NetnsId, OptionName, Proto, Socket};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// The rule behind one outcome of the walk.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Cause {
    /// ok: no socket on the port refuses `new` (bind(), and listen() when `listens`).
    Fits {
        proto: Proto,
        port: u16,
        listens: bool,
        new: Endpoint,
    },
    /// ok: port 0, the kernel picks a free ephemeral port.
    KernelPicksPort,
    /// EPERM at setsockopt(): IP_TRANSPARENT needs CAP_NET_ADMIN or CAP_NET_RAW
    /// (do_ip_setsockopt), and only uid 0 is assumed to hold them.
    TransparentNeedsCapability { uid: u32 },
    /// ENODEV at setsockopt(): SO_BINDTODEVICE names no interface of the namespace.
    NoSuchDevice { device: String },
    /// EACCES: the port is below `net.ipv4.ip_unprivileged_port_start` (`start`, `None`:
    /// unknown) and `uid` is not root (inet_port_requires_bind_service).
    PrivilegedPort {
        port: u16,
        uid: u32,
        start: Option<i64>,
    },
    /// EADDRNOTAVAIL: `addr` (IPv4, or v4-mapped on an IPv6 socket) is not local and nothing
    /// allows a non-local bind (inet_addr_valid_or_nonlocal). `as_far_as_shown`: the
    /// snapshot cannot tell whether a loopback prefix route still exists.
    NotLocalV4 { addr: IpAddr, as_far_as_shown: bool },
    /// EINVAL: a TCP socket cannot bind IPv6 multicast (__inet6_bind).
    TcpMulticastV6 { addr: Ipv6Addr },
    /// EINVAL: a v4-mapped address on an IPV6_V6ONLY socket (__inet6_bind).
    MappedOnV6only { addr: Ipv6Addr },
    /// ENODEV: the `%scope` of a link-local address names no interface.
    NoSuchScope { scope: String },
    /// EINVAL: a link-local address needs an interface (scope or SO_BINDTODEVICE).
    LinkLocalNeedsDevice { addr: Ipv6Addr },
    /// EADDRNOTAVAIL: `addr` fails ipv6_chk_addr and nothing allows a non-local bind.
    V6NotUsable { addr: Ipv6Addr, why: V6Unusable },
    /// EADDRINUSE: sockets that overlap and refuse to share (§3.1 TCP, §3.3 UDP).
    InUse(InUse),
    /// EADDRINUSE, possibly: the snapshot holds listening sockets only, and a socket it did
    /// not collect may hold the port (a connection or TIME_WAIT for TCP, a connected socket
    /// for UDP).
    Uncollected { proto: Proto },
}

/// The sockets on the port that refuse the new one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InUse {
    pub proto: Proto,
    pub port: u16,
    /// The new socket as the conflict rules read it.
    pub new: Endpoint,
    pub refusals: Vec<Refusal>,
    /// TCP: how many more sockets may refuse too (their options are unknown).
    pub more_unknown: usize,
}

/// One socket that refuses the new one, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    pub socket: Socket,
    pub rule: RefusalRule,
}

/// Why an overlapping socket does not share its port with the new one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RefusalRule {
    /// TCP: both set SO_REUSEADDR, but the other is listening (inet_bind_conflict, §3.1).
    ReuseaddrNeverSharesWithListener,
    /// Both set SO_REUSEPORT, but the uids differ.
    ReuseportOtherUid { yours: u32, its: u32 },
    /// The new socket sets neither SO_REUSEADDR nor SO_REUSEPORT.
    NewSetsNeither,
    /// The other socket lacks what the new one sets (`None`: that option is not in question).
    Lacks {
        reuseaddr: Option<Lack>,
        reuseport: Option<Lack>,
    },
    /// No sharing rule applies.
    NoRule,
}

/// How the other socket lacks an option.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lack {
    NotSet,
    Unknown,
}

/// TCP: a socket that overlaps the new one and shares with it, and through which rule
/// (inet_bind_conflict, §3.1).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sharer {
    pub socket: Socket,
    pub rule: ShareRule,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ShareRule {
    /// Both set SO_REUSEADDR and the other is not listening.
    BothReuseaddrNotListening,
    /// Both set SO_REUSEPORT and the other is in TIME_WAIT (the uid does not matter).
    BothReuseportTimeWait,
    /// Both set SO_REUSEPORT with the same uid.
    BothReuseportSameUid,
}

/// Why `ipv6_chk_addr` does not find an IPv6 address usable.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum V6Unusable {
    /// No interface of the namespace has it.
    NotHere,
    /// Duplicate address detection has not finished on `device` (`carrier`: whether the
    /// link has one; without, DAD waits).
    Tentative { device: String, carrier: bool },
    /// Duplicate address detection failed on `device`.
    DadFailed { device: String },
    /// A link- or host-scope address of `on`, and the socket is bound to `wanted`.
    OtherDevice {
        scope: AddrScope,
        on: String,
        wanted: String,
    },
}

/// Why an IPv4 address that is not an address of the namespace is accepted anyway
/// (`__inet_dev_addr_type` answers RTN_BROADCAST or RTN_MULTICAST, §2).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum V4Accepted {
    LimitedBroadcast,
    Multicast,
    /// KERNEL: no IPv4 address in the namespace (lo down), so no local routing table.
    NoLocalTable,
    /// The subnet broadcast address of `own/prefix_len` on `device` (up).
    SubnetBroadcast {
        addr: Ipv4Addr,
        own: Ipv4Addr,
        prefix_len: u8,
        device: String,
    },
}

/// A caveat that does not change the result.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Note {
    V6onlyIgnoredOnIpv4,
    ScopeIgnoredOnIpv4,
    ScopeIgnoredOnMapped,
    ScopeIgnoredOnWildcard,
    /// Only link-local addresses use `sin6_scope_id`.
    ScopeIgnoredNotLinkLocal {
        addr: Ipv6Addr,
    },
    /// A privileged port asked by uid 0, assumed to hold CAP_NET_BIND_SERVICE.
    RootAssumedPrivileged {
        port: u16,
    },
    /// Port 0: the conflict rules are not checked.
    EphemeralPort,
    /// UDP has no listen(); only bind() was judged.
    UdpHasNoListen,
    /// `addr` is not an address of the namespace but is accepted as `kind`.
    AddressAccepted {
        addr: IpAddr,
        kind: V4Accepted,
    },
    /// `addr` is not local; IP_FREEBIND, IP_TRANSPARENT or the sysctl lets it bind.
    NonLocalAllowed {
        addr: IpAddr,
    },
    /// TCP: `socket` is bound with SO_REUSEADDR but not listening: whichever listens first
    /// keeps the port (§3.5).
    ListenRace {
        socket: Box<Socket>,
    },
    /// TCP: the sockets the new one shares the port with.
    SharesPort(Vec<Sharer>),
    /// UDP: the sockets the new one shares the port with through SO_REUSEADDR (§4.2).
    SharesThroughReuseaddr(Vec<Socket>),
    /// UDP: the SO_REUSEPORT group the new socket joins.
    JoinsReuseportGroup(Vec<Socket>),
}

/// An input the decision needs that the snapshot does not have.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Unknown {
    Namespace(NamespaceProblem),
    /// sysctl net.ipv4.ip_unprivileged_port_start.
    UnprivilegedPortStart,
    /// sysctl net.ipv4.ip_nonlocal_bind, for `addr` that is not local.
    Ipv4NonlocalBind {
        addr: IpAddr,
    },
    /// sysctl net.ipv6.ip_nonlocal_bind, for `addr` that is not usable.
    Ipv6NonlocalBind {
        addr: Ipv6Addr,
    },
    /// `addr` is inside the loopback prefix `own/prefix_len` on `device`, which is down: the
    /// local prefix route exists only if the device was up since the address was added.
    LoopbackPrefixDown {
        addr: Ipv4Addr,
        own: Ipv4Addr,
        prefix_len: u8,
        device: String,
    },
    /// The new socket's IPV6_V6ONLY (not given, bindv6only unknown), which decides whether
    /// it may bind a v4-mapped address.
    MappedV6only,
    /// The new socket's IPV6_V6ONLY (not given, bindv6only unknown), which decides whether
    /// it overlaps another socket.
    NewSocketV6only,
    /// An option of an overlapping socket; the socket's `options.reasons` says why.
    SocketOption {
        socket: Box<Socket>,
        option: OptionName,
    },
    /// The snapshot holds listening sockets only.
    ListeningView,
    /// KERNEL: bind order. An earlier SO_REUSEPORT socket of `uid` on `covering` (present or
    /// closed) may have left the port's fast path open (sk_reuseport_match in
    /// inet_csk_get_port).
    TcpFastPath {
        uid: u32,
        covering: Endpoint,
    },
    /// KERNEL: bind order. udp_lib_lport_inuse stops at the newest overlapping socket:
    /// one of `partners` (ok) or one of `refusers` (EADDRINUSE).
    UdpBindOrder {
        partners: Vec<Socket>,
        refusers: Vec<Socket>,
    },
}

/// Why a namespace cannot be judged at all.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NamespaceProblem {
    Missing(NetnsId),
    /// bindscope could not enter it (`error` as the snapshot says).
    NotEntered {
        netns: NetnsId,
        error: String,
    },
}
