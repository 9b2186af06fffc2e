//! One socket as the snapshot file describes it: addresses, state, owners and options.

use super::container::Container;
use super::ids::{NetnsId, SocketId};
use super::options::Options;
use serde::{Deserialize, Serialize};
use std::net::IpAddr;
use std::sync::Arc;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Proto {
    Tcp,
    Udp,
}

impl Proto {
    /// `tcp` or `udp`: files, tables, labels and filters all spell it so.
    pub fn name(self) -> &'static str {
        match self {
            Proto::Tcp => "tcp",
            Proto::Udp => "udp",
        }
    }

    /// What becomes of traffic no socket receives: a TCP connection is refused (a reset),
    /// a UDP datagram dropped (with an ICMP port unreachable). Routes say this rather than
    /// "nobody", which is also a user's name.
    pub fn unreceived(self) -> &'static str {
        match self {
            Proto::Tcp => "refused",
            Proto::Udp => "dropped",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Family {
    Ipv4,
    Ipv6,
}

/// Kernel socket states (`include/net/tcp_states.h`), named as the kernel names them, lowercase.
/// `Close` on a TCP socket in a snapshot is a bound-only socket (dumped through the
/// `TCP_BOUND_INACTIVE` pseudo-state 13); on UDP it is an unconnected bound socket.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum State {
    Established,
    SynSent,
    SynRecv,
    FinWait1,
    FinWait2,
    TimeWait,
    Close,
    CloseWait,
    LastAck,
    Listen,
    Closing,
    NewSynRecv,
    BoundInactive,
    /// A state number this build does not know (a newer kernel).
    #[serde(other)]
    Unknown,
}

impl State {
    pub fn from_kernel(n: u8) -> State {
        match n {
            1 => State::Established,
            2 => State::SynSent,
            3 => State::SynRecv,
            4 => State::FinWait1,
            5 => State::FinWait2,
            6 => State::TimeWait,
            7 => State::Close,
            8 => State::CloseWait,
            9 => State::LastAck,
            10 => State::Listen,
            11 => State::Closing,
            12 => State::NewSynRecv,
            13 => State::BoundInactive,
            _ => State::Unknown,
        }
    }

    /// The name used in files and tables (the serde name).
    pub fn name(self) -> &'static str {
        match self {
            State::Established => "established",
            State::SynSent => "syn_sent",
            State::SynRecv => "syn_recv",
            State::FinWait1 => "fin_wait1",
            State::FinWait2 => "fin_wait2",
            State::TimeWait => "time_wait",
            State::Close => "close",
            State::CloseWait => "close_wait",
            State::LastAck => "last_ack",
            State::Listen => "listen",
            State::Closing => "closing",
            State::NewSynRecv => "new_syn_recv",
            State::BoundInactive => "bound_inactive",
            State::Unknown => "unknown",
        }
    }
}

/// What part of the address space a bind covers (linux-bind-semantics.md §2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Scope {
    /// `0.0.0.0`, `[::]` with V6ONLY, or `::ffff:0.0.0.0`: every address of one family.
    Wildcard,
    /// `[::]` without V6ONLY: every IPv6 address and, through mapping, every IPv4 one.
    DualStackWildcard,
    Loopback,
    LinkLocal,
    Specific,
}

/// Whether the bound address is usable on this host right now.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AddressState {
    Any,
    Local,
    Nonlocal,
    Tentative,
    Optimistic,
    Dadfailed,
    Deprecated,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct AcceptQueue {
    /// Connections established and waiting for accept() (`sk_ack_backlog`).
    pub len: u32,
    /// `sk_max_ack_backlog` = min(listen backlog, net.core.somaxconn). Full when len > backlog.
    pub backlog: u32,
}

/// One (pid, fd) holding a socket. Process fields are shared between the holders of one
/// process, so a process holding 10,000 sockets costs its cmdline once.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Holder {
    pub pid: u32,
    pub fd: u32,
    pub name: Arc<str>,
    /// Effective uid: what the kernel checks for the process's own actions.
    pub uid: u32,
    /// Real uid.
    pub ruid: u32,
    pub user: Option<Arc<str>>,
    pub cmdline: Arc<[String]>,
    /// The systemd unit of the process's cgroup (a service, a scope).
    pub unit: Option<Arc<str>>,
    /// The container the process runs in, named from its runtime's state. Shared by the
    /// holders of one process.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub container: Option<Arc<Container>>,
    /// Network namespace the process lives in (may differ from the socket's).
    pub netns: Option<NetnsId>,
    /// The parent process (`PPid:` of `/proc/PID/status`): tells a service's own workers
    /// from unrelated programs of the same user.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ppid: Option<u32>,
    /// Threads of the process (`Threads:`): several may wait in accept() on one listener.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub threads: Option<u32>,
    /// The executable (`/proc/PID/exe`, readable with ptrace access only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exe: Option<Arc<str>>,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Socket {
    pub id: SocketId,
    pub netns: NetnsId,
    pub proto: Proto,
    pub family: Family,
    pub local_addr: IpAddr,
    pub local_port: u16,
    pub remote_addr: Option<IpAddr>,
    pub remote_port: Option<u16>,
    pub state: State,
    /// The socket's uid (`sk_uid`): its creator's fsuid, what SO_REUSEPORT compares.
    pub uid: u32,
    pub user: Option<Arc<str>>,
    /// 0 for TIME_WAIT, request sockets and children not yet accepted: no process owns them.
    pub inode: u64,
    /// Bound device (`sk_bound_dev_if`, from SO_BINDTODEVICE or a link-local scope).
    pub device: Option<String>,
    pub scope: Scope,
    pub address_state: AddressState,
    pub accept_queue: Option<AcceptQueue>,
    /// SYN_RECV request sockets the kernel lookup would hand to this listener.
    pub syn_recv: Option<u32>,
    pub options: Options,
    pub holders: Vec<Holder>,
    /// The kernel's socket cookie (SO_COOKIE).
    pub cookie: u64,
    /// Bytes queued: for non-listeners, receive and send queues; absent for listeners.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recv_q: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub send_q: Option<u32>,
    /// Why the holder list may be incomplete (other users' fds unreadable), if it may be.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub holders_unknown: Option<Arc<str>>,
    /// True when `syn_recv` counts the requests of a whole SO_REUSEPORT group: the kernel
    /// hashes each request to one member and inet_diag does not say which.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub syn_recv_shared: bool,
    /// cgroup v2 id of the socket (INET_DIAG_CGROUP_ID).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cgroup_id: Option<u64>,
    /// The host the socket was seen on, set only in a view merged from several hosts' files
    /// (`bindscope open` of several hosts), where `snapshot.host` cannot say it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub host: Option<Arc<str>>,
    /// Position of the socket in its sock_diag dump (one request per netns, protocol and
    /// family, counted from 0). Within one hash chain (same port and address class) it is
    /// the order the kernel's lookup walks (docs/lookup §0), which decides ties; across
    /// chains it means nothing. `None` in files written before it was kept.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dump_pos: Option<u32>,
}

impl Socket {
    /// The state as tables and views show it: a TCP socket bound but not listening is
    /// `bound`, an unconnected UDP socket `unconn`, a connected one `connected`; otherwise
    /// the kernel's name. (Files keep the kernel's name in `state`.)
    pub fn state_label(&self) -> &'static str {
        match (self.proto, self.state) {
            (Proto::Tcp, State::Close | State::BoundInactive) => "bound",
            (Proto::Udp, State::Close) => "unconn",
            (Proto::Udp, State::Established) => "connected",
            (_, st) => st.name(),
        }
    }
}

impl Socket {
    pub fn is_listener(&self) -> bool {
        self.proto == Proto::Tcp && self.state == State::Listen
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// One name per state, which every table, view and export uses.
    #[test]
    fn state_labels() {
        let mut s = crate::testing::socket();
        for (proto, state, label) in [
            (Proto::Tcp, State::Close, "bound"),
            (Proto::Tcp, State::BoundInactive, "bound"),
            (Proto::Tcp, State::Listen, "listen"),
            (Proto::Tcp, State::Established, "established"),
            (Proto::Udp, State::Close, "unconn"),
            (Proto::Udp, State::Established, "connected"),
        ] {
            (s.proto, s.state) = (proto, state);
            assert_eq!(s.state_label(), label, "{proto:?} {state:?}");
        }
        assert_eq!((Proto::Tcp.name(), Proto::Udp.name()), ("tcp", "udp"));
    }
}
