//! What the Linux sources hand to the pure join: kernel facts, decoded but not yet judged.
//! Everything here is plain data so that fixtures can stand in for the kernel in tests.

use crate::model::{Family, Proto};
use std::net::IpAddr;

/// Bits of `INET_DIAG_SOCKOPT` (struct inet_diag_sockopt, Linux 5.10+).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SockoptBits {
    pub recverr: bool,
    pub is_icsk: bool,
    pub freebind: bool,
    pub hdrincl: bool,
    pub mc_loop: bool,
    pub transparent: bool,
    pub mc_all: bool,
    pub nodefrag: bool,
    pub bind_address_no_port: bool,
    pub recverr_rfc4884: bool,
    pub defer_connect: bool,
}

/// One `inet_diag_msg` with the attributes bindscope uses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RawSocket {
    pub proto: Proto,
    pub family: Family,
    /// Kernel state number (`idiag_state`); 7 for bound-only TCP sockets.
    pub state: u8,
    pub local_addr: IpAddr,
    pub local_port: u16,
    pub remote_addr: IpAddr,
    pub remote_port: u16,
    /// `idiag_if`: bound device index, 0 for none.
    pub ifindex: u32,
    pub cookie: u64,
    /// For listeners: accept queue length; otherwise receive queue bytes.
    pub rqueue: u32,
    /// For listeners: accept queue maximum; otherwise send queue bytes.
    pub wqueue: u32,
    pub uid: u32,
    pub inode: u64,
    /// `INET_DIAG_SKV6ONLY` (IPv6 sockets in LISTEN or CLOSE only).
    pub v6only: Option<bool>,
    /// `INET_DIAG_SOCKOPT`.
    pub sockopt: Option<SockoptBits>,
    /// `INET_DIAG_CGROUP_ID`.
    pub cgroup_id: Option<u64>,
    /// Position in the reply stream of its dump request (one netns, protocol and family),
    /// counted from 0. The dump walks the lookup's hash chains, so within one chain this is
    /// the order the kernel's lookup tries the sockets (docs/lookup §0). `None` when the
    /// socket did not come from a dump.
    pub dump_pos: Option<u32>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RawLink {
    pub index: u32,
    pub name: String,
    /// `ifi_flags` (IFF_UP = 0x1, IFF_LOOPBACK = 0x8, IFF_LOWER_UP = 0x10000).
    pub flags: u32,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RawAddr {
    pub index: u32,
    pub addr: IpAddr,
    pub prefix_len: u8,
    /// `ifa_scope` (RT_SCOPE_UNIVERSE 0, SITE 200, LINK 253, HOST 254).
    pub scope: u8,
    /// `IFA_FLAGS` when present (32 bits), else `ifa_flags` (8 bits).
    pub flags: u32,
}

/// One process as read from `/proc/PID`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RawProcess {
    pub pid: u32,
    /// `comm` (may carry any bytes the process chose; sanitized on output).
    pub name: String,
    pub cmdline: Vec<String>,
    pub ruid: u32,
    pub euid: u32,
    /// The container or systemd unit `/proc/PID/cgroup` names.
    pub cgroup: crate::collect::runtime::cgroup::CgroupOwner,
    /// Inode of `/proc/PID/ns/net`.
    pub netns: Option<u64>,
    /// `PPid:` and `Threads:` of `status`.
    pub ppid: Option<u32>,
    pub threads: Option<u32>,
    /// Where `/proc/PID/exe` points (needs ptrace access).
    pub exe: Option<String>,
}

/// One fd that is a socket: `/proc/PID/fd/FD -> socket:[INODE]`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RawFd {
    pub pid: u32,
    pub fd: u32,
    pub inode: u64,
}
