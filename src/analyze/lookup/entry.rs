//! A receiving socket as the lookup sees it, and the options the lookup needs, possibly
//! unknown (not read from the socket): unknown options are tried both ways, never guessed.

use crate::model::addr::mapped_v4;
use crate::model::{Family, Proto, Socket, SocketId, State};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry<'a> {
    pub id: &'a SocketId,
    pub family: Family,
    pub addr: IpAddr,
    pub device: Option<&'a str>,
    pub uid: u32,
    /// SO_REUSEPORT; `None` when it was not read.
    pub reuseport: Option<bool>,
    /// IPV6_V6ONLY, for IPv6 sockets; `None` when it was not read.
    pub v6only: Option<bool>,
    /// Position in its dump (docs/lookup §0), `None` in older files.
    pub pos: Option<u32>,
}

impl<'a> Entry<'a> {
    /// The sockets the lookup for new traffic walks: TCP listeners (a bound-only TCP socket
    /// is in no lhash2 chain and no reuseport group: both form at `listen()`), and
    /// unconnected UDP sockets. A connected UDP socket matches only its peer (+8, §4.3).
    pub fn of(s: &'a Socket) -> Option<Entry<'a>> {
        let walked = match s.proto {
            Proto::Tcp => s.state == State::Listen,
            Proto::Udp => s.remote_port.is_none(),
        };
        walked.then_some(Entry {
            id: &s.id,
            family: s.family,
            addr: s.local_addr,
            device: s.device.as_deref(),
            uid: s.uid,
            reuseport: s.options.reuseport,
            v6only: match s.family {
                Family::Ipv4 => Some(false),
                Family::Ipv6 => s.options.v6only,
            },
            pos: s.dump_pos,
        })
    }

    /// Whether IPV6_V6ONLY can change what this socket receives: only on `[::]`.
    pub(super) fn v6only_matters(&self) -> bool {
        self.addr == IpAddr::V6(Ipv6Addr::UNSPECIFIED)
    }
}

/// An entry with every option the lookup reads decided (one of the ways to try).
#[derive(Debug, Clone, Copy)]
pub(super) struct Known<'e, 'a> {
    pub e: &'e Entry<'a>,
    pub rp: bool,
    pub v6only: bool,
}

impl Known<'_, '_> {
    /// The IPv4 address the socket is matched under for IPv4 traffic (`sk_rcv_saddr`), or
    /// `None` if it never receives IPv4: `[::]` only without V6ONLY, a v4-mapped bind as its
    /// IPv4 address (`::ffff:0.0.0.0` is an IPv4 wildcard), a native IPv6 address never
    /// (`LOOPBACK4_IPV6`).
    pub fn v4_view(&self) -> Option<Ipv4Addr> {
        match self.e.addr {
            IpAddr::V4(a) => Some(a),
            IpAddr::V6(a) if a.is_unspecified() => (!self.v6only).then_some(Ipv4Addr::UNSPECIFIED),
            IpAddr::V6(a) => mapped_v4(&a),
        }
    }

    /// The IPv6 address it is matched under for IPv6 traffic: an IPv6 socket's own address
    /// (`::ffff:0.0.0.0` is never `::`, so it never receives IPv6).
    pub fn v6_view(&self) -> Option<Ipv6Addr> {
        match self.e.addr {
            IpAddr::V6(a) if self.e.family == Family::Ipv6 => Some(a),
            _ => None,
        }
    }

    /// The key of the reuseport group it would be in (§4.3: family, V6ONLY, device,
    /// address, uid; the port is the group's).
    #[allow(clippy::type_complexity)]
    pub fn group_key(&self) -> (Family, bool, Option<&str>, IpAddr, u32) {
        (
            self.e.family,
            self.v6only,
            self.e.device,
            self.e.addr,
            self.e.uid,
        )
    }
}
