//! inet_diag over `NETLINK_SOCK_DIAG`: the request, the decoder of `struct inet_diag_msg`
//! (include/uapi/linux/inet_diag.h) and a dump that appends [`RawSocket`]s.
//!
//! The decoder is pure; [`dump_sockets`] is the only function that talks to the kernel.

use super::netlink::{
    DUMP_ATTEMPTS, NLM_F_DUMP, NLM_F_REQUEST, NetlinkDumps, NetlinkError, ParseProblem,
    build_request, read_array, read_u32, split_attrs,
};
use crate::collect::raw::{RawSocket, SockoptBits};
use crate::model::{Family, Proto};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddrV4};
use std::sync::OnceLock;

pub use super::netlink::ParseError;

/// `SOCK_DIAG_BY_FAMILY` (include/uapi/linux/sock_diag.h): request and reply type.
pub const SOCK_DIAG_BY_FAMILY: u16 = 20;

/// Kernel socket states (include/net/tcp_states.h) as `idiag_state` values.
pub const TCP_ESTABLISHED: u8 = 1;
pub const TCP_SYN_SENT: u8 = 2;
pub const TCP_SYN_RECV: u8 = 3;
pub const TCP_FIN_WAIT1: u8 = 4;
pub const TCP_FIN_WAIT2: u8 = 5;
pub const TCP_TIME_WAIT: u8 = 6;
pub const TCP_CLOSE: u8 = 7;
pub const TCP_CLOSE_WAIT: u8 = 8;
pub const TCP_LAST_ACK: u8 = 9;
pub const TCP_LISTEN: u8 = 10;
pub const TCP_CLOSING: u8 = 11;
pub const TCP_NEW_SYN_RECV: u8 = 12;
/// Pseudo-state for the request mask only (Linux 6.7+, commit 91051f003948): dump sockets
/// that are bound but neither listening nor connected. They come back as `TCP_CLOSE`.
pub const TCP_BOUND_INACTIVE: u8 = 13;

/// `idiag_states` bits (`TCPF_*`): bit n selects state n.
pub const TCPF_ESTABLISHED: u32 = 1 << TCP_ESTABLISHED;
pub const TCPF_SYN_SENT: u32 = 1 << TCP_SYN_SENT;
pub const TCPF_SYN_RECV: u32 = 1 << TCP_SYN_RECV;
pub const TCPF_FIN_WAIT1: u32 = 1 << TCP_FIN_WAIT1;
pub const TCPF_FIN_WAIT2: u32 = 1 << TCP_FIN_WAIT2;
pub const TCPF_TIME_WAIT: u32 = 1 << TCP_TIME_WAIT;
pub const TCPF_CLOSE: u32 = 1 << TCP_CLOSE;
pub const TCPF_CLOSE_WAIT: u32 = 1 << TCP_CLOSE_WAIT;
pub const TCPF_LAST_ACK: u32 = 1 << TCP_LAST_ACK;
pub const TCPF_LISTEN: u32 = 1 << TCP_LISTEN;
pub const TCPF_CLOSING: u32 = 1 << TCP_CLOSING;
pub const TCPF_NEW_SYN_RECV: u32 = 1 << TCP_NEW_SYN_RECV;
/// Kernels before 6.7 ignore this bit: inet_diag_dump_icsk() tests only the bits it knows and
/// never validates the mask, so the request is not rejected, the sockets are just absent.
pub const TCPF_BOUND_INACTIVE: u32 = 1 << TCP_BOUND_INACTIVE;

/// What holds or waits on a TCP port: listeners, bound-only sockets, and the SYN_RECV
/// request sockets (counted per listener for the SYN queue; inet_diag_dump_icsk() adds
/// `TCPF_NEW_SYN_RECV` itself when `TCPF_SYN_RECV` is asked for).
pub const LISTENING_TCP_STATES: u32 = TCPF_LISTEN | TCPF_BOUND_INACTIVE | TCPF_SYN_RECV;
/// Every state, bits 1..=13 (`0x3ffe`).
pub const ALL_STATES: u32 = 0x3ffe;
/// UDP uses two states: `TCP_CLOSE` for unconnected bound sockets and `TCP_ESTABLISHED`
/// for connected ones (udp_dump() filters on `1 << sk_state`).
pub const UDP_STATES: u32 = TCPF_CLOSE | TCPF_ESTABLISHED;
/// Unconnected UDP sockets only: the ones that receive datagrams for any sender.
pub const UDP_UNCONNECTED_STATES: u32 = TCPF_CLOSE;

/// Attribute types (`enum` after `INET_DIAG_NONE` in inet_diag.h) that arrive without asking.
pub const INET_DIAG_SHUTDOWN: u16 = 8;
pub const INET_DIAG_SKV6ONLY: u16 = 11;
pub const INET_DIAG_MARK: u16 = 15;
pub const INET_DIAG_CGROUP_ID: u16 = 21;
pub const INET_DIAG_SOCKOPT: u16 = 22;

const AF_INET: u8 = 2;
const AF_INET6: u8 = 10;
const IPPROTO_TCP: u8 = 6;
const IPPROTO_UDP: u8 = 17;

/// `sizeof(struct inet_diag_msg)`.
pub const INET_DIAG_MSG_LEN: usize = 72;
/// `sizeof(struct inet_diag_sockid)`.
const INET_DIAG_SOCKID_LEN: usize = 48;

fn family_name(family: Family) -> &'static str {
    match family {
        Family::Ipv4 => "ipv4",
        Family::Ipv6 => "ipv6",
    }
}

/// One `SOCK_DIAG_BY_FAMILY` dump request: `struct nlmsghdr` + `struct inet_diag_req_v2`
/// { sdiag_family, sdiag_protocol, idiag_ext = 0, pad, idiag_states, id = zero }.
/// No extensions are requested: SHUTDOWN, SKV6ONLY, CGROUP_ID and SOCKOPT are always sent
/// (inet_diag_msg_attrs_fill()), and asking for INFO would make each message ~4x larger.
pub fn dump_request(family: Family, proto: Proto, states: u32, seq: u32) -> Vec<u8> {
    let mut req = Vec::with_capacity(8 + INET_DIAG_SOCKID_LEN);
    req.push(match family {
        Family::Ipv4 => AF_INET,
        Family::Ipv6 => AF_INET6,
    });
    req.push(match proto {
        Proto::Tcp => IPPROTO_TCP,
        Proto::Udp => IPPROTO_UDP,
    });
    req.push(0); // idiag_ext
    req.push(0); // pad
    req.extend_from_slice(&states.to_ne_bytes());
    req.extend_from_slice(&[0; INET_DIAG_SOCKID_LEN]);
    build_request(SOCK_DIAG_BY_FAMILY, NLM_F_REQUEST | NLM_F_DUMP, seq, &req)
}

/// Decode one `SOCK_DIAG_BY_FAMILY` reply payload. `proto` is the protocol of the request:
/// `struct inet_diag_msg` does not carry it.
pub fn parse_inet_diag_msg(proto: Proto, payload: &[u8]) -> Result<RawSocket, ParseError> {
    const WHAT: &str = "inet_diag_msg";
    if payload.len() < INET_DIAG_MSG_LEN {
        return Err(ParseError::truncated(
            WHAT,
            0,
            INET_DIAG_MSG_LEN,
            payload.len(),
        ));
    }
    let [family_raw, state, _timer, _retrans] = read_array::<4>(payload, 0, WHAT)?;
    let family = match family_raw {
        AF_INET => Family::Ipv4,
        AF_INET6 => Family::Ipv6,
        other => {
            return Err(ParseError {
                what: WHAT,
                offset: 0,
                problem: ParseProblem::Family(other),
            });
        }
    };
    // struct inet_diag_sockid at offset 4: ports in network order, addresses as 4 be32 words
    // (IPv4 uses the first), interface and cookie halves in host order.
    let sport = u16::from_be_bytes(read_array::<2>(payload, 4, WHAT)?);
    let dport = u16::from_be_bytes(read_array::<2>(payload, 6, WHAT)?);
    let src = read_array::<16>(payload, 8, WHAT)?;
    let dst = read_array::<16>(payload, 24, WHAT)?;
    let ifindex = read_u32(payload, 40, WHAT)?;
    let cookie_lo = read_u32(payload, 44, WHAT)?;
    let cookie_hi = read_u32(payload, 48, WHAT)?;
    // idiag_expires at 52 is not used.
    let rqueue = read_u32(payload, 56, WHAT)?;
    let wqueue = read_u32(payload, 60, WHAT)?;
    let uid = read_u32(payload, 64, WHAT)?;
    let inode = read_u32(payload, 68, WHAT)?;

    let mut sock = RawSocket {
        proto,
        family,
        state,
        local_addr: ip_from(family, src),
        local_port: sport,
        remote_addr: ip_from(family, dst),
        remote_port: dport,
        ifindex,
        // As ss does: idiag_cookie[0] | (u64)idiag_cookie[1] << 32 (sock_diag_save_cookie()).
        cookie: u64::from(cookie_lo) | (u64::from(cookie_hi) << 32),
        rqueue,
        wqueue,
        uid,
        inode: u64::from(inode),
        v6only: None,
        sockopt: None,
        cgroup_id: None,
        dump_pos: None,
    };

    // Attributes start at NLMSG_ALIGN(sizeof(struct inet_diag_msg)) = 72.
    let attrs = payload.get(INET_DIAG_MSG_LEN..).unwrap_or_default();
    for attr in split_attrs(attrs, INET_DIAG_MSG_LEN) {
        let (ty, data) = attr?;
        match ty {
            INET_DIAG_SKV6ONLY => {
                let [b] = attr_bytes::<1>(data, "INET_DIAG_SKV6ONLY")?;
                sock.v6only = Some(b != 0);
            }
            INET_DIAG_SOCKOPT => {
                let bytes = attr_bytes::<2>(data, "INET_DIAG_SOCKOPT")?;
                sock.sockopt = Some(decode_sockopt(bytes));
            }
            INET_DIAG_CGROUP_ID => {
                let bytes = attr_bytes::<8>(data, "INET_DIAG_CGROUP_ID")?;
                sock.cgroup_id = Some(u64::from_ne_bytes(bytes));
            }
            // SHUTDOWN, MARK, and anything a newer kernel adds: not needed here.
            _ => {}
        }
    }
    Ok(sock)
}

/// The first `N` bytes of an attribute payload. Longer payloads are accepted (a newer kernel
/// may grow a struct at its end); shorter ones are an error.
fn attr_bytes<const N: usize>(data: &[u8], what: &'static str) -> Result<[u8; N], ParseError> {
    read_array::<N>(data, 0, what)
}

fn ip_from(family: Family, words: [u8; 16]) -> IpAddr {
    match family {
        Family::Ipv4 => {
            let [a, b, c, d, ..] = words;
            IpAddr::V4(Ipv4Addr::new(a, b, c, d))
        }
        // v4-mapped addresses stay IPv6 here: the socket is an AF_INET6 one and the join
        // decides what a mapped bind means.
        Family::Ipv6 => IpAddr::V6(Ipv6Addr::from(words)),
    }
}

/// Decode `struct inet_diag_sockopt`: two `__u8` bitfield units. GCC allocates bitfields from
/// the least significant bit on little-endian ABIs and from the most significant on
/// big-endian ones, so bit 0 of byte 0 is `recverr` on x86_64.
fn decode_sockopt([b0, b1]: [u8; 2]) -> SockoptBits {
    let bit = |byte: u8, n: u32| {
        let shift = if cfg!(target_endian = "big") {
            7 - n
        } else {
            n
        };
        (byte >> shift) & 1 == 1
    };
    SockoptBits {
        recverr: bit(b0, 0),
        is_icsk: bit(b0, 1),
        freebind: bit(b0, 2),
        hdrincl: bit(b0, 3),
        mc_loop: bit(b0, 4),
        transparent: bit(b0, 5),
        mc_all: bit(b0, 6),
        nodefrag: bit(b0, 7),
        bind_address_no_port: bit(b1, 0),
        recverr_rfc4884: bit(b1, 1),
        defer_connect: bit(b1, 2),
    }
}

/// What a dump learned besides the sockets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DumpOutcome {
    /// Sockets appended to `out`.
    pub sockets: usize,
    /// Whether bound-only sockets, which hold ports, can be in the result: `Some(true)` when
    /// [`TCPF_BOUND_INACTIVE`] was not asked for on TCP or a bound-only socket came back;
    /// `None` when the dump alone cannot tell (none came back: there may be none, or this
    /// kernel, before Linux 6.7, ignores the bit). Then the kernel is asked
    /// ([`kernel_dumps_bound_inactive`], or what a recording says it answered).
    pub bound_inactive_supported: Option<bool>,
}

/// Dump the sockets of one family and protocol whose state is in `states` (bit n for state n;
/// see [`LISTENING_TCP_STATES`], [`ALL_STATES`], [`UDP_STATES`]) and append them to `out`.
///
/// An interrupted or overrun dump is retried up to [`DUMP_ATTEMPTS`] times. On error `out` is
/// left as it was: a partial dump would show ports as free that are not.
pub fn dump_sockets(
    sock: &mut dyn NetlinkDumps,
    family: Family,
    proto: Proto,
    states: u32,
    out: &mut Vec<RawSocket>,
) -> Result<DumpOutcome, NetlinkError> {
    let start = out.len();
    dump_raw(sock, family, proto, states, out)?;
    let got = out.get(start..).unwrap_or_default();
    let asked = proto == Proto::Tcp && states & TCPF_BOUND_INACTIVE != 0;
    // Old kernels never report a TCP socket in CLOSE (it is in no table they walk), so one
    // in the result settles the question without a probe.
    let bound_inactive_supported =
        (!asked || got.iter().any(|s| s.state == TCP_CLOSE)).then_some(true);
    Ok(DumpOutcome {
        sockets: got.len(),
        bound_inactive_supported,
    })
}

fn dump_raw(
    sock: &mut dyn NetlinkDumps,
    family: Family,
    proto: Proto,
    states: u32,
    out: &mut Vec<RawSocket>,
) -> Result<(), NetlinkError> {
    // The position in this request's reply stream is the lookup's chain order within each
    // chain (docs/lookup §1.4); it is kept before anything sorts or dedupes.
    dump_payloads(sock, family, proto, states, out, |out, start, payload| {
        let mut s = parse_inet_diag_msg(proto, payload)?;
        s.dump_pos = Some(u32::try_from(out.len() - start).unwrap_or(u32::MAX));
        out.push(s);
        Ok(())
    })
}

/// One dump request, tried again when the kernel interrupts it: `add` puts each socket's
/// message payload (`struct inet_diag_msg` and its attributes) into `out`, told the length
/// `out` had before this request; an interrupted try's additions are dropped.
fn dump_payloads<T>(
    sock: &mut dyn NetlinkDumps,
    family: Family,
    proto: Proto,
    states: u32,
    out: &mut Vec<T>,
    mut add: impl FnMut(&mut Vec<T>, usize, &[u8]) -> Result<(), NetlinkError>,
) -> Result<(), NetlinkError> {
    let start = out.len();
    let mut attempt = 1;
    loop {
        let request = dump_request(family, proto, states, sock.next_seq());
        let result = sock.dump(&request, &mut |ty, payload| {
            if ty == SOCK_DIAG_BY_FAMILY {
                add(out, start, payload)?;
            }
            Ok(())
        });
        match result {
            Ok(()) => return Ok(()),
            Err(e) => {
                out.truncate(start);
                if e.is_retriable() && attempt < DUMP_ATTEMPTS {
                    attempt += 1;
                    continue;
                }
                return Err(named(e, family, proto));
            }
        }
    }
}

/// A dump's error, named after the dump, with a hint when there is one.
fn named(e: NetlinkError, family: Family, proto: Proto) -> NetlinkError {
    let what = format!("sock_diag dump of {}/{}", proto.name(), family_name(family));
    let hint = dump_hint(&e, proto);
    e.in_dump(what, hint)
}

/// A dump's socket messages as the kernel sent them, unparsed: each payload after its
/// length (4 bytes, native order). Two dumps of sockets that did not change are the same
/// bytes, which a quiet refresh compares before it parses anything.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DumpBytes {
    family: Family,
    proto: Proto,
    bytes: Vec<u8>,
}

impl DumpBytes {
    /// The sockets, parsed as [`dump_sockets`] would have parsed them (positions from 0);
    /// an error names the dump as its failure during the dump would have.
    pub fn parse(&self, out: &mut Vec<RawSocket>) -> Result<(), NetlinkError> {
        let start = out.len();
        self.parse_into(out).map_err(|e| {
            out.truncate(start);
            named(e.into(), self.family, self.proto)
        })
    }

    #[cfg(test)]
    pub fn for_test(tag: u8) -> Self {
        DumpBytes {
            family: Family::Ipv4,
            proto: Proto::Tcp,
            bytes: vec![tag],
        }
    }

    fn parse_into(&self, out: &mut Vec<RawSocket>) -> Result<(), ParseError> {
        const WHAT: &str = "a kept sock_diag dump";
        let mut rest = self.bytes.as_slice();
        let mut pos: u32 = 0;
        while !rest.is_empty() {
            let at = self.bytes.len() - rest.len();
            let (len, after) = rest
                .split_first_chunk::<4>()
                .ok_or_else(|| ParseError::truncated(WHAT, at, 4, rest.len()))?;
            let len = u32::from_ne_bytes(*len) as usize;
            let (payload, next) = after
                .split_at_checked(len)
                .ok_or_else(|| ParseError::truncated(WHAT, at + 4, len, after.len()))?;
            let mut s = parse_inet_diag_msg(self.proto, payload)?;
            s.dump_pos = Some(pos);
            pos = pos.saturating_add(1);
            out.push(s);
            rest = next;
        }
        Ok(())
    }
}

/// As [`dump_sockets`], the messages kept as bytes rather than parsed.
pub fn dump_bytes(
    sock: &mut dyn NetlinkDumps,
    family: Family,
    proto: Proto,
    states: u32,
    capacity: usize,
) -> Result<DumpBytes, NetlinkError> {
    let mut bytes = Vec::with_capacity(capacity);
    dump_payloads(
        sock,
        family,
        proto,
        states,
        &mut bytes,
        |out, _, payload| {
            let len = u32::try_from(payload.len()).unwrap_or(u32::MAX);
            out.extend_from_slice(&len.to_ne_bytes());
            out.extend_from_slice(payload);
            Ok(())
        },
    )?;
    Ok(DumpBytes {
        family,
        proto,
        bytes,
    })
}

/// Whether this kernel dumps bound-only TCP sockets for [`TCPF_BOUND_INACTIVE`]. The kernel
/// does not reject the bit when it does not know it, so the only way to tell (backports
/// included) is to bind a socket on 127.0.0.1, port 0, without listening, and look for it.
/// The answer is a property of the kernel, not of a namespace: it is computed once.
/// If the probe cannot run (no loopback address here), the kernel release decides.
pub fn kernel_dumps_bound_inactive() -> bool {
    static CACHE: OnceLock<bool> = OnceLock::new();
    *CACHE.get_or_init(|| probe_bound_inactive().unwrap_or_else(release_has_bound_inactive))
}

fn probe_bound_inactive() -> Option<bool> {
    use rustix::net::{AddressFamily, SocketFlags, SocketType, bind, ipproto, socket_with};
    let probe = socket_with(
        AddressFamily::INET,
        SocketType::STREAM,
        SocketFlags::CLOEXEC,
        Some(ipproto::TCP),
    )
    .ok()?;
    bind(&probe, &SocketAddrV4::new(Ipv4Addr::LOCALHOST, 0)).ok()?;
    let cookie = rustix::net::sockopt::socket_cookie(&probe).ok()?;
    // A fresh netlink socket, so that it lives in the same namespace as the probe.
    let mut nl = super::netlink::NetlinkSocket::open(super::netlink::NETLINK_SOCK_DIAG).ok()?;
    let mut found = Vec::new();
    dump_raw(
        &mut nl,
        Family::Ipv4,
        Proto::Tcp,
        TCPF_BOUND_INACTIVE,
        &mut found,
    )
    .ok()?;
    Some(found.iter().any(|s| s.cookie == cookie))
}

/// Fallback: Linux 6.7 added the pseudo-state (commit 91051f003948).
fn release_has_bound_inactive() -> bool {
    let release = std::fs::read_to_string("/proc/sys/kernel/osrelease").unwrap_or_default();
    match parse_release(&release) {
        Some(v) => v >= (6, 7),
        // Unknown release: do not warn about sockets that are probably there.
        None => true,
    }
}

/// "6.18.44-fc-v657" → (6, 18).
fn parse_release(release: &str) -> Option<(u32, u32)> {
    let mut parts = release.trim().split(['.', '-']);
    let major = parts.next()?.parse().ok()?;
    let minor = parts.next()?.parse().ok()?;
    Some((major, minor))
}

/// What the user can do about a refused dump.
fn dump_hint(e: &NetlinkError, proto: Proto) -> Option<String> {
    let module = match proto {
        Proto::Tcp => "tcp_diag",
        Proto::Udp => "udp_diag",
    };
    match e.kernel_errno() {
        // __sock_diag_cmd() / inet_diag_lock_handler(): no handler even after request_module().
        Some(libc::ENOENT) => Some(format!(
            "the kernel has no '{module}' support; load it with 'modprobe {module}' \
             or build a kernel with CONFIG_INET_{}_DIAG",
            proto.name().to_uppercase()
        )),
        _ if e.is_retriable() => Some(format!(
            "gave up after {DUMP_ATTEMPTS} attempts; the socket table is changing quickly, try again"
        )),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::collect::linux::netlink::{NLM_F_MULTI, NLMSG_DONE, split_messages, test_msg};
    use std::os::fd::AsRawFd;

    struct Msg {
        family: u8,
        state: u8,
        sport: u16,
        dport: u16,
        src: [u8; 16],
        dst: [u8; 16],
        ifindex: u32,
        cookie: [u32; 2],
        rqueue: u32,
        wqueue: u32,
        uid: u32,
        inode: u32,
        attrs: Vec<(u16, Vec<u8>)>,
    }

    impl Msg {
        fn v4_listener() -> Msg {
            let mut src = [0; 16];
            src[..4].copy_from_slice(&[127, 0, 0, 1]);
            Msg {
                family: AF_INET,
                state: TCP_LISTEN,
                sport: 8080,
                dport: 0,
                src,
                dst: [0; 16],
                ifindex: 0,
                cookie: [0x1122_3344, 0x55],
                rqueue: 3,
                wqueue: 128,
                uid: 1000,
                inode: 424_242,
                attrs: vec![
                    (INET_DIAG_SHUTDOWN, vec![0]),
                    (
                        INET_DIAG_CGROUP_ID,
                        0x0000_1234_5678_9abc_u64.to_ne_bytes().to_vec(),
                    ),
                    (INET_DIAG_SOCKOPT, vec![0b0000_0010, 0]),
                ],
            }
        }

        fn encode(&self) -> Vec<u8> {
            let mut b = vec![self.family, self.state, 0, 0];
            b.extend_from_slice(&self.sport.to_be_bytes());
            b.extend_from_slice(&self.dport.to_be_bytes());
            b.extend_from_slice(&self.src);
            b.extend_from_slice(&self.dst);
            b.extend_from_slice(&self.ifindex.to_ne_bytes());
            b.extend_from_slice(&self.cookie[0].to_ne_bytes());
            b.extend_from_slice(&self.cookie[1].to_ne_bytes());
            b.extend_from_slice(&0u32.to_ne_bytes()); // expires
            b.extend_from_slice(&self.rqueue.to_ne_bytes());
            b.extend_from_slice(&self.wqueue.to_ne_bytes());
            b.extend_from_slice(&self.uid.to_ne_bytes());
            b.extend_from_slice(&self.inode.to_ne_bytes());
            assert_eq!(b.len(), INET_DIAG_MSG_LEN);
            for (ty, data) in &self.attrs {
                let len = 4 + data.len();
                b.extend_from_slice(&(len as u16).to_ne_bytes());
                b.extend_from_slice(&ty.to_ne_bytes());
                b.extend_from_slice(data);
                b.resize(b.len() + (4 - len % 4) % 4, 0);
            }
            b
        }

        /// Offsets at which a cut leaves a complete message with fewer attributes.
        fn attr_boundaries(&self) -> Vec<usize> {
            let mut at = INET_DIAG_MSG_LEN;
            let mut out = vec![at];
            for (_, data) in &self.attrs {
                let len = 4 + data.len();
                // The last attribute's padding may be missing, in whole or in part.
                let padded = at + ((len + 3) & !3);
                out.extend(at + len..=padded);
                at = padded;
            }
            out
        }
    }

    #[test]
    fn request_layout() {
        let r = dump_request(Family::Ipv6, Proto::Tcp, LISTENING_TCP_STATES, 42);
        assert_eq!(r.len(), 16 + 56);
        assert_eq!(&r[0..4], &72u32.to_ne_bytes());
        assert_eq!(&r[4..6], &SOCK_DIAG_BY_FAMILY.to_ne_bytes());
        assert_eq!(&r[6..8], &0x301u16.to_ne_bytes());
        assert_eq!(&r[8..12], &42u32.to_ne_bytes());
        assert_eq!(&r[12..16], &0u32.to_ne_bytes());
        assert_eq!(&r[16..20], &[AF_INET6, IPPROTO_TCP, 0, 0]);
        assert_eq!(&r[20..24], &(0x2408u32).to_ne_bytes());
        assert!(r[24..].iter().all(|&b| b == 0));
        let r = dump_request(Family::Ipv4, Proto::Udp, UDP_STATES, 1);
        assert_eq!(&r[16..20], &[AF_INET, IPPROTO_UDP, 0, 0]);
        assert_eq!(&r[20..24], &0x82u32.to_ne_bytes());
    }

    #[test]
    fn state_masks() {
        assert_eq!(ALL_STATES, (1..=13).fold(0, |m, s| m | 1u32 << s));
        assert_eq!(TCPF_BOUND_INACTIVE, 0x2000);
        assert_eq!(LISTENING_TCP_STATES, 0x2408);
    }

    #[test]
    fn parses_v4_listener() {
        let s = parse_inet_diag_msg(Proto::Tcp, &Msg::v4_listener().encode()).unwrap();
        assert_eq!(
            s,
            RawSocket {
                proto: Proto::Tcp,
                family: Family::Ipv4,
                state: TCP_LISTEN,
                local_addr: "127.0.0.1".parse().unwrap(),
                local_port: 8080,
                remote_addr: "0.0.0.0".parse().unwrap(),
                remote_port: 0,
                ifindex: 0,
                cookie: 0x55_1122_3344,
                rqueue: 3,
                wqueue: 128,
                uid: 1000,
                inode: 424_242,
                v6only: None,
                sockopt: Some(SockoptBits {
                    is_icsk: true,
                    ..SockoptBits::default()
                }),
                cgroup_id: Some(0x1234_5678_9abc),
                dump_pos: None,
            }
        );
    }

    fn v6_listener() -> Msg {
        let mut m = Msg::v4_listener();
        m.family = AF_INET6;
        m.src = "2001:db8::77".parse::<Ipv6Addr>().unwrap().octets();
        m.dst = "::ffff:10.0.0.1".parse::<Ipv6Addr>().unwrap().octets();
        m.dport = 443;
        m.ifindex = 3;
        m.attrs = vec![
            (INET_DIAG_SHUTDOWN, vec![0]),
            (INET_DIAG_SKV6ONLY, vec![1]),
            // is_icsk | freebind | transparent; then bind_address_no_port | defer_connect.
            (INET_DIAG_SOCKOPT, vec![0b0010_0110, 0b0000_0101]),
            (99, vec![7; 13]), // unknown: ignored
        ];
        m
    }

    #[test]
    fn parses_v6_with_v6only_and_sockopt() {
        let s = parse_inet_diag_msg(Proto::Tcp, &v6_listener().encode()).unwrap();
        assert_eq!(s.family, Family::Ipv6);
        assert_eq!(s.local_addr, "2001:db8::77".parse::<IpAddr>().unwrap());
        // Mapped addresses are not converted.
        assert_eq!(s.remote_addr, "::ffff:10.0.0.1".parse::<IpAddr>().unwrap());
        assert_eq!(s.remote_port, 443);
        assert_eq!(s.ifindex, 3);
        assert_eq!(s.v6only, Some(true));
        assert_eq!(s.cgroup_id, None);
        assert_eq!(
            s.sockopt,
            Some(SockoptBits {
                is_icsk: true,
                freebind: true,
                transparent: true,
                bind_address_no_port: true,
                defer_connect: true,
                ..SockoptBits::default()
            })
        );
    }

    #[test]
    fn every_sockopt_bit_lands_in_its_field() {
        let all = decode_sockopt([0xff, 0x07]);
        assert!(all.recverr && all.is_icsk && all.freebind && all.hdrincl && all.mc_loop);
        assert!(all.transparent && all.mc_all && all.nodefrag);
        assert!(all.bind_address_no_port && all.recverr_rfc4884 && all.defer_connect);
        assert_eq!(
            decode_sockopt([1, 0]),
            SockoptBits {
                recverr: true,
                ..Default::default()
            }
        );
        assert_eq!(
            decode_sockopt([0x80, 0]),
            SockoptBits {
                nodefrag: true,
                ..Default::default()
            }
        );
        assert_eq!(
            decode_sockopt([0, 2]),
            SockoptBits {
                recverr_rfc4884: true,
                ..Default::default()
            }
        );
        // The 5 unused bits are ignored.
        assert_eq!(decode_sockopt([0, 0xf8]), SockoptBits::default());
    }

    #[test]
    fn truncation_at_every_length_is_an_error_or_a_shorter_valid_message() {
        for m in [Msg::v4_listener(), v6_listener()] {
            let full = m.encode();
            let ok_cuts = m.attr_boundaries();
            for cut in 0..full.len() {
                let r = parse_inet_diag_msg(Proto::Tcp, &full[..cut]);
                if ok_cuts.contains(&cut) {
                    // A cut exactly between attributes is itself a well-formed message:
                    // nothing inside inet_diag_msg counts its attributes. The enclosing
                    // nlmsg_len is what catches such a cut (see the netlink tests).
                    assert!(r.is_ok(), "cut {cut}: {r:?}");
                } else {
                    assert!(r.is_err(), "cut {cut} parsed as {r:?}");
                }
            }
        }
        let e = parse_inet_diag_msg(Proto::Tcp, &[0; 40]).unwrap_err();
        assert_eq!(
            e.to_string(),
            "malformed inet_diag_msg at byte 0: needs 72 bytes but only 40 remain"
        );
    }

    #[test]
    fn bogus_attribute_length() {
        let mut b = Msg::v4_listener().encode();
        // First attribute (SHUTDOWN) at 72 claims 300 bytes.
        b[72..74].copy_from_slice(&300u16.to_ne_bytes());
        let e = parse_inet_diag_msg(Proto::Tcp, &b).unwrap_err();
        assert_eq!(e.offset, 72);
        assert!(matches!(
            e.problem,
            ParseProblem::LengthTooLarge { len: 300, .. }
        ));
        b[72..74].copy_from_slice(&1u16.to_ne_bytes());
        assert!(parse_inet_diag_msg(Proto::Tcp, &b).is_err());
    }

    #[test]
    fn known_attribute_too_short() {
        let mut m = Msg::v4_listener();
        m.attrs = vec![(INET_DIAG_CGROUP_ID, vec![1, 2, 3, 4])];
        let e = parse_inet_diag_msg(Proto::Tcp, &m.encode()).unwrap_err();
        assert_eq!(e.what, "INET_DIAG_CGROUP_ID");
        m.attrs = vec![(INET_DIAG_SOCKOPT, vec![1])];
        assert!(parse_inet_diag_msg(Proto::Tcp, &m.encode()).is_err());
        m.attrs = vec![(INET_DIAG_SKV6ONLY, vec![])];
        assert!(parse_inet_diag_msg(Proto::Tcp, &m.encode()).is_err());
    }

    #[test]
    fn unknown_family_is_an_error() {
        let mut m = Msg::v4_listener();
        m.family = 1;
        let e = parse_inet_diag_msg(Proto::Tcp, &m.encode()).unwrap_err();
        assert_eq!(e.problem, ParseProblem::Family(1));
    }

    #[test]
    fn multi_message_buffer() {
        let mut udp = Msg::v4_listener();
        udp.state = TCP_CLOSE;
        udp.attrs.clear();
        let mut buf = test_msg(SOCK_DIAG_BY_FAMILY, NLM_F_MULTI, 9, 1, &udp.encode());
        buf.extend(test_msg(
            SOCK_DIAG_BY_FAMILY,
            NLM_F_MULTI,
            9,
            1,
            &v6_listener().encode(),
        ));
        buf.extend(test_msg(NLMSG_DONE, NLM_F_MULTI, 9, 1, &0i32.to_ne_bytes()));
        let mut socks = Vec::new();
        let mut done = false;
        for m in split_messages(&buf) {
            let (hdr, payload) = m.unwrap();
            match hdr.ty {
                SOCK_DIAG_BY_FAMILY => {
                    socks.push(parse_inet_diag_msg(Proto::Udp, payload).unwrap())
                }
                NLMSG_DONE => done = true,
                _ => panic!("unexpected type {}", hdr.ty),
            }
        }
        assert!(done);
        assert_eq!(socks.len(), 2);
        assert_eq!(socks[0].state, TCP_CLOSE);
        assert_eq!(socks[0].proto, Proto::Udp);
        assert_eq!(socks[1].family, Family::Ipv6);
        // A message cut inside the second payload is caught by the header length.
        assert!(split_messages(&buf[..150]).any(|m| m.is_err()));
    }

    fn socket_inode(fd: &impl AsRawFd) -> u64 {
        let link = std::fs::read_link(format!("/proc/self/fd/{}", fd.as_raw_fd())).unwrap();
        let link = link.to_str().unwrap();
        link.strip_prefix("socket:[")
            .and_then(|s| s.strip_suffix(']'))
            .unwrap()
            .parse()
            .unwrap()
    }

    use crate::collect::linux::netlink::NetlinkSocket;

    fn live_dump(family: Family, proto: Proto, states: u32) -> Vec<RawSocket> {
        let mut nl = NetlinkSocket::open(super::super::netlink::NETLINK_SOCK_DIAG).unwrap();
        let mut out = Vec::new();
        dump_sockets(&mut nl, family, proto, states, &mut out).unwrap();
        out
    }

    /// The kept bytes of a dump parse to what the parsing dump gives (positions included),
    /// and two dumps of listeners that did not change are the same bytes; a queued
    /// connection changes them.
    #[test]
    fn live_kept_bytes_parse_as_the_dump_and_stay_the_same_while_nothing_moves() {
        let listeners: Vec<_> = (0..3)
            .map(|_| std::net::TcpListener::bind("127.0.0.1:0").unwrap())
            .collect();
        let mut nl = NetlinkSocket::open(super::super::netlink::NETLINK_SOCK_DIAG).unwrap();
        let mut kept = || dump_bytes(&mut nl, Family::Ipv4, Proto::Tcp, TCPF_LISTEN, 0).unwrap();
        let ours: Vec<u16> = listeners
            .iter()
            .map(|l| l.local_addr().unwrap().port())
            .collect();
        // This test's own listeners, which nothing else moves, as a dump describes them
        // (their positions depend on the other listeners of the host).
        let own = |dump: &[RawSocket]| -> Vec<RawSocket> {
            let mut own: Vec<RawSocket> = dump
                .iter()
                .filter(|s| ours.contains(&s.local_port))
                .map(|s| RawSocket {
                    dump_pos: None,
                    ..s.clone()
                })
                .collect();
            own.sort_by_key(|s| s.local_port);
            own
        };
        // Listeners of other tests come and go meanwhile (and may come and go back between
        // two reads): tried until the kept bytes read twice agree and parse as the parsing
        // dump read between them. Our own listeners must parse the same in every try.
        let (mut moved, mut last) = (0, None);
        let (first, parsed) = (0..20)
            .find_map(|_| {
                let before = kept();
                let direct = live_dump(Family::Ipv4, Proto::Tcp, TCPF_LISTEN);
                if kept() != before {
                    moved += 1;
                    return None;
                }
                let mut parsed = Vec::new();
                before.parse(&mut parsed).unwrap();
                assert_eq!(own(&parsed), own(&direct), "this test's listeners");
                if parsed == direct {
                    return Some((before, parsed));
                }
                last = Some((parsed, direct));
                None
            })
            .unwrap_or_else(|| {
                panic!(
                    "in 20 tries the listeners moved between two reads {moved} times, and \
                     the rest parsed otherwise than the dump; the last: {last:?}"
                )
            });
        for l in &listeners {
            let port = l.local_addr().unwrap().port();
            assert!(parsed.iter().any(|s| s.local_port == port), "{port}");
        }
        // A connection waiting in the first listener's accept queue: its idiag_rqueue.
        let _client = std::net::TcpStream::connect(listeners[0].local_addr().unwrap()).unwrap();
        assert_ne!(kept(), first);
        // A cut-off copy is an error that names the dump, not a panic, and leaves nothing:
        // cut inside a payload, and inside the next length.
        let first_record = 4 + u32::from_ne_bytes(first.bytes[..4].try_into().unwrap()) as usize;
        for cut_at in [first.bytes.len() - 1, first_record + 2] {
            let mut cut = first.clone();
            cut.bytes.truncate(cut_at);
            let mut out = Vec::new();
            let e = cut.parse(&mut out).unwrap_err().to_string();
            assert!(e.contains("sock_diag dump of tcp/ipv4"), "{e}");
            assert!(out.is_empty());
        }
    }

    #[test]
    fn release_parsing() {
        assert_eq!(parse_release("6.18.44-fc-v657\n"), Some((6, 18)));
        assert_eq!(parse_release("5.14.0-427.el9.x86_64"), Some((5, 14)));
        assert_eq!(parse_release("6.7-rc1"), Some((6, 7)));
        assert_eq!(parse_release(""), None);
        assert_eq!(parse_release("garbage"), None);
    }

    #[test]
    fn live_kernel_dumps_bound_inactive() {
        // This host runs Linux 6.18: both the probe and the release say yes.
        assert_eq!(probe_bound_inactive(), Some(true));
        assert!(release_has_bound_inactive());
        assert!(kernel_dumps_bound_inactive());
        let mut nl = NetlinkSocket::open(super::super::netlink::NETLINK_SOCK_DIAG).unwrap();
        let mut out = vec![];
        let o = dump_sockets(
            &mut nl,
            Family::Ipv4,
            Proto::Tcp,
            LISTENING_TCP_STATES,
            &mut out,
        )
        .unwrap();
        assert_ne!(o.bound_inactive_supported, Some(false));
        assert_eq!(o.sockets, out.len());
    }

    #[test]
    fn live_finds_own_tcp4_listener() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let inode = socket_inode(&listener);
        let euid = rustix::process::geteuid().as_raw();
        let found: Vec<_> = live_dump(Family::Ipv4, Proto::Tcp, LISTENING_TCP_STATES)
            .into_iter()
            .filter(|s| s.local_port == port && s.inode == inode)
            .collect();
        assert_eq!(found.len(), 1, "{found:?}");
        let s = &found[0];
        assert_eq!(s.state, TCP_LISTEN);
        assert_eq!(s.local_addr, IpAddr::V4(Ipv4Addr::LOCALHOST));
        assert_eq!(s.uid, euid);
        assert_eq!(s.rqueue, 0);
        assert!(s.wqueue > 0, "backlog is idiag_wqueue for listeners");
        assert_ne!(s.cookie, 0);
        assert_eq!(s.v6only, None);
        assert!(s.sockopt.is_some_and(|o| o.is_icsk && !o.freebind));
        assert!(s.cgroup_id.is_some());
    }

    #[test]
    fn live_finds_v6_listener_with_implicit_v6only() {
        // A specific IPv6 bind sets v6only implicitly; inet_diag reports it (doc §8).
        let Ok(listener) = std::net::TcpListener::bind("[::1]:0") else {
            crate::testing::can_run("live_finds_v6_listener", Some("no IPv6 loopback"));
            return;
        };
        let port = listener.local_addr().unwrap().port();
        let inode = socket_inode(&listener);
        let all = live_dump(Family::Ipv6, Proto::Tcp, LISTENING_TCP_STATES);
        let s = all
            .iter()
            .find(|s| s.local_port == port && s.inode == inode)
            .expect("listener in dump");
        assert_eq!(s.family, Family::Ipv6);
        assert_eq!(s.local_addr, IpAddr::V6(Ipv6Addr::LOCALHOST));
        assert_eq!(s.v6only, Some(true));
    }

    #[test]
    fn live_bound_only_tcp_socket_needs_bit_13() {
        use rustix::net::{AddressFamily, SocketType, bind, getsockname, ipproto, socket};
        let fd = socket(AddressFamily::INET, SocketType::STREAM, Some(ipproto::TCP)).unwrap();
        bind(&fd, &std::net::SocketAddrV4::new(Ipv4Addr::LOCALHOST, 0)).unwrap();
        let port = std::net::SocketAddr::try_from(getsockname(&fd).unwrap())
            .unwrap()
            .port();
        let inode = socket_inode(&fd);
        let matches = |v: &[RawSocket]| v.iter().any(|s| s.local_port == port && s.inode == inode);
        let bound = live_dump(Family::Ipv4, Proto::Tcp, TCPF_BOUND_INACTIVE);
        let found = bound
            .iter()
            .find(|s| s.local_port == port && s.inode == inode)
            .expect("bound-only socket dumped with TCPF_BOUND_INACTIVE (Linux 6.7+)");
        assert_eq!(found.state, TCP_CLOSE);
        // TCPF_CLOSE alone does not reach it: it is in no lookup table but bhash.
        assert!(!matches(&live_dump(Family::Ipv4, Proto::Tcp, TCPF_CLOSE)));
        // The full mask is accepted and includes it.
        assert!(matches(&live_dump(Family::Ipv4, Proto::Tcp, ALL_STATES)));
    }

    #[test]
    fn live_freebind_bit_matches_the_kernel_layout() {
        // Checks the bitfield order against the real kernel, not only against our bytes:
        // a nonlocal IPv6 bind that only IPV6_FREEBIND allows, left bound-only.
        use rustix::net::{AddressFamily, SocketType, bind, ipproto, socket, sockopt};
        let Ok(fd) = socket(AddressFamily::INET6, SocketType::STREAM, Some(ipproto::TCP)) else {
            crate::testing::can_run("live IPv6 freebind", Some("no IPv6"));
            return;
        };
        sockopt::set_ipv6_freebind(&fd, true).unwrap();
        let addr: Ipv6Addr = "2001:db8::77".parse().unwrap();
        bind(&fd, &std::net::SocketAddrV6::new(addr, 0, 0, 0)).unwrap();
        let cookie = sockopt::socket_cookie(&fd).unwrap();
        let all = live_dump(Family::Ipv6, Proto::Tcp, TCPF_BOUND_INACTIVE);
        let s = all
            .iter()
            .find(|s| s.cookie == cookie)
            .expect("bound socket in dump");
        assert_eq!(s.local_addr, IpAddr::V6(addr));
        assert_eq!(s.state, TCP_CLOSE);
        assert_eq!(
            s.sockopt,
            Some(SockoptBits {
                is_icsk: true,
                freebind: true,
                // IP_MULTICAST_LOOP defaults to on (inet_create(): inet->mc_loop = 1).
                mc_loop: true,
                ..SockoptBits::default()
            })
        );
        // A specific IPv6 bind is implicitly v6only, and SKV6ONLY says so in CLOSE state too.
        assert_eq!(s.v6only, Some(true));
    }

    #[test]
    fn live_finds_udp_sockets() {
        let sock = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
        let port = sock.local_addr().unwrap().port();
        let inode = socket_inode(&sock);
        let all = live_dump(Family::Ipv4, Proto::Udp, UDP_STATES);
        let s = all
            .iter()
            .find(|s| s.local_port == port && s.inode == inode)
            .expect("udp socket in dump");
        assert_eq!(s.state, TCP_CLOSE);
        assert_eq!(s.proto, Proto::Udp);
        assert!(s.sockopt.is_some_and(|o| !o.is_icsk));
    }

    /// Three UDP sockets with SO_REUSEADDR on one address and port: the dump gives them
    /// newest bind first, the order the kernel's lookup walks (head insertion, docs/lookup
    /// U5), and that position reaches `dump_pos`.
    #[test]
    fn live_dump_pos_is_the_chain_order() {
        use rustix::net::{AddressFamily, SocketType, bind, sockopt};
        let make = |port: u16| {
            let fd = rustix::net::socket(AddressFamily::INET, SocketType::DGRAM, None).unwrap();
            sockopt::set_socket_reuseaddr(&fd, true).unwrap();
            let addr = std::net::SocketAddr::from(([127, 0, 0, 1], port));
            bind(&fd, &addr).unwrap();
            fd
        };
        let a = make(0);
        let local = rustix::net::getsockname(&a).unwrap();
        let port = std::net::SocketAddr::try_from(local).unwrap().port();
        let b = make(port);
        let c = make(port);
        let inodes = [socket_inode(&a), socket_inode(&b), socket_inode(&c)];
        let dump = live_dump(Family::Ipv4, Proto::Udp, UDP_STATES);
        let mut ours: Vec<&RawSocket> = dump
            .iter()
            .filter(|s| s.local_port == port && inodes.contains(&s.inode))
            .collect();
        assert_eq!(ours.len(), 3, "{dump:?}");
        ours.sort_by_key(|s| s.dump_pos);
        let order: Vec<u64> = ours.iter().map(|s| s.inode).collect();
        assert_eq!(
            order,
            vec![inodes[2], inodes[1], inodes[0]],
            "newest bind first"
        );
        let positions: Vec<Option<u32>> = dump.iter().map(|s| s.dump_pos).collect();
        let expected: Vec<Option<u32>> = (0..dump.len() as u32).map(Some).collect();
        assert_eq!(
            positions, expected,
            "one position per message, in arrival order"
        );
    }
}
