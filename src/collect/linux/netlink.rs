//! Thin netlink I/O shared by sock_diag and rtnetlink: one socket, one dump at a time.
//!
//! The wire format is `struct nlmsghdr` (include/uapi/linux/netlink.h) followed by a payload,
//! each message padded to 4 bytes (`NLMSG_ALIGN`), all integers in host byte order.
//! Splitting a buffer into messages and walking `struct rtattr`/`struct nlattr` lists are pure
//! functions here so that every decoder can be tested on hand-built bytes.

use rustix::fd::OwnedFd;
use rustix::io::Errno;
use rustix::net::netlink::SocketAddrNetlink;
use rustix::net::sockopt::Timeout;
use rustix::net::{
    AddressFamily, Protocol, RecvFlags, SendFlags, SocketFlags, SocketType, bind, getsockname,
    recvfrom, send, sockopt,
};
use std::fmt;
use std::io;
use std::num::NonZeroU32;
use std::time::Duration;

/// `NETLINK_ROUTE` (include/uapi/linux/netlink.h): links, addresses, routes.
pub const NETLINK_ROUTE: u32 = 0;
/// `NETLINK_SOCK_DIAG` (also known as `NETLINK_INET_DIAG`): socket dumps.
pub const NETLINK_SOCK_DIAG: u32 = 4;

/// `sizeof(struct nlmsghdr)`: len u32, type u16, flags u16, seq u32, pid u32.
pub const NLMSG_HDRLEN: usize = 16;

/// Control message types (include/uapi/linux/netlink.h).
pub const NLMSG_NOOP: u16 = 1;
pub const NLMSG_ERROR: u16 = 2;
pub const NLMSG_DONE: u16 = 3;
pub const NLMSG_OVERRUN: u16 = 4;

/// Request flags.
pub const NLM_F_REQUEST: u16 = 0x1;
pub const NLM_F_MULTI: u16 = 0x2;
/// Set by the kernel on dump messages when the dumped table changed under the dump
/// (`nl_dump_check_consistent()`): the result may have missed or doubled entries.
pub const NLM_F_DUMP_INTR: u16 = 0x10;
/// `NLM_F_ROOT | NLM_F_MATCH`.
pub const NLM_F_DUMP: u16 = 0x300;

/// How many times a caller should run a dump that came back interrupted or overrun
/// before giving up ([`NetlinkError::is_retriable`]).
pub const DUMP_ATTEMPTS: usize = 3;

/// Receive buffer size. The kernel builds each dump datagram up to the size of the largest
/// recvmsg() buffer it has seen, capped at 32 KiB (`max_recvmsg_len` in
/// net/netlink/af_netlink.c), so 64 KiB never truncates and one recv carries ~250 sockets.
const RECV_BUF_LEN: usize = 64 * 1024;

/// A dump is generated synchronously inside sendmsg()/recvmsg() (`netlink_dump()`), so while
/// one is running data is always queued. Waiting this long means the kernel is done and
/// the final message was lost; without a timeout we would block forever.
const RECV_TIMEOUT: Duration = Duration::from_secs(10);

/// Where and why a byte buffer from the kernel could not be decoded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("malformed {what} at byte {offset}: {problem}")]
pub struct ParseError {
    /// The structure being decoded, e.g. "nlmsghdr", "inet_diag_msg", "rtattr 22".
    pub what: &'static str,
    /// Offset of that structure inside the buffer handed to the parser.
    pub offset: usize,
    pub problem: ParseProblem,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ParseProblem {
    #[error("needs {need} bytes but only {have} remain")]
    Truncated { need: usize, have: usize },
    #[error("length field {len} is smaller than the {min}-byte header")]
    LengthTooSmall { len: usize, min: usize },
    #[error("length field {len} exceeds the {have} bytes that remain")]
    LengthTooLarge { len: usize, have: usize },
    #[error("unknown address family {0}")]
    Family(u8),
    #[error("{0}")]
    Invalid(&'static str),
}

impl ParseError {
    pub fn truncated(what: &'static str, offset: usize, need: usize, have: usize) -> Self {
        ParseError {
            what,
            offset,
            problem: ParseProblem::Truncated { need, have },
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum NetlinkError {
    #[error(
        "cannot open a netlink socket (protocol {protocol}): {source}; \
         is this a Linux kernel with netlink, and does seccomp or a sandbox allow AF_NETLINK?"
    )]
    Open { protocol: u32, source: io::Error },
    #[error("netlink {op} failed: {source}")]
    Io { op: &'static str, source: io::Error },
    #[error("the kernel rejected the request: {}", io::Error::from_raw_os_error(*errno))]
    Kernel { errno: i32 },
    #[error(
        "the dump was interrupted because the kernel's table changed during it (NLM_F_DUMP_INTR)"
    )]
    Interrupted,
    #[error("the netlink receive buffer overflowed (ENOBUFS) and messages were lost")]
    Overrun,
    #[error("a {len}-byte netlink datagram did not fit the {cap}-byte receive buffer")]
    Truncated { len: usize, cap: usize },
    #[error("no reply from the kernel within {0:?}")]
    Timeout(Duration),
    #[error("the request is not a netlink message: {0}")]
    BadRequest(&'static str),
    #[error(transparent)]
    Parse(#[from] ParseError),
    /// Replaying a recording: this request was not made when it was recorded.
    #[error("the recording holds no reply to this {0} request")]
    NotRecorded(&'static str),
    /// The error of one named dump, with a hint when there is one. The inner error is part of
    /// the message rather than a `source`, so `{:#}` chains do not print it twice.
    #[error("netlink {what} failed: {cause}{}", hint_suffix(hint))]
    Dump {
        what: String,
        cause: Box<NetlinkError>,
        hint: Option<String>,
    },
}

fn hint_suffix(hint: &Option<String>) -> String {
    match hint {
        Some(h) => format!(" ({h})"),
        None => String::new(),
    }
}

impl NetlinkError {
    /// True when running the same dump again may succeed: the kernel table changed under it,
    /// or messages were lost to a full or too-small buffer.
    pub fn is_retriable(&self) -> bool {
        match self {
            NetlinkError::Interrupted | NetlinkError::Overrun | NetlinkError::Truncated { .. } => {
                true
            }
            NetlinkError::Dump { cause, .. } => cause.is_retriable(),
            _ => false,
        }
    }

    /// The errno the kernel answered with, if it refused the request.
    pub fn kernel_errno(&self) -> Option<i32> {
        match self {
            NetlinkError::Kernel { errno } => Some(*errno),
            NetlinkError::Dump { cause, .. } => cause.kernel_errno(),
            _ => None,
        }
    }

    /// Name a failed dump for the user: "netlink {what} failed: ...".
    pub fn in_dump(self, what: impl Into<String>, hint: Option<String>) -> NetlinkError {
        NetlinkError::Dump {
            what: what.into(),
            cause: Box::new(self),
            hint,
        }
    }
}

/// `struct nlmsghdr`, decoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NlMsgHdr {
    pub len: u32,
    pub ty: u16,
    pub flags: u16,
    pub seq: u32,
    pub pid: u32,
}

impl NlMsgHdr {
    /// Append the 16 header bytes in host byte order.
    pub fn encode(self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.len.to_ne_bytes());
        out.extend_from_slice(&self.ty.to_ne_bytes());
        out.extend_from_slice(&self.flags.to_ne_bytes());
        out.extend_from_slice(&self.seq.to_ne_bytes());
        out.extend_from_slice(&self.pid.to_ne_bytes());
    }

    /// Constant indexes into a fixed-size array: checked at compile time, cannot panic.
    fn decode(b: &[u8; NLMSG_HDRLEN]) -> NlMsgHdr {
        NlMsgHdr {
            len: u32::from_ne_bytes([b[0], b[1], b[2], b[3]]),
            ty: u16::from_ne_bytes([b[4], b[5]]),
            flags: u16::from_ne_bytes([b[6], b[7]]),
            seq: u32::from_ne_bytes([b[8], b[9], b[10], b[11]]),
            pid: u32::from_ne_bytes([b[12], b[13], b[14], b[15]]),
        }
    }
}

/// `NLMSG_ALIGN` / `RTA_ALIGN` / `NLA_ALIGN`: round up to 4 bytes, saturating so that a
/// length near `usize::MAX` cannot wrap (the caller then finds it exceeds the buffer).
pub fn align4(len: usize) -> usize {
    len.saturating_add(3) & !3
}

/// Build one netlink request: header + fixed payload (already encoded).
pub fn build_request(ty: u16, flags: u16, seq: u32, payload: &[u8]) -> Vec<u8> {
    let total = NLMSG_HDRLEN + payload.len();
    let mut out = Vec::with_capacity(align4(total));
    NlMsgHdr {
        // Requests are a few dozen bytes; saturate rather than panic on absurd input.
        len: u32::try_from(total).unwrap_or(u32::MAX),
        ty,
        flags,
        seq,
        pid: 0,
    }
    .encode(&mut out);
    out.extend_from_slice(payload);
    out.resize(align4(total), 0);
    out
}

/// Split a received datagram into `(header, payload)` messages. Stops after the first
/// malformed header: the rest of the buffer cannot be located once one length is wrong.
pub fn split_messages(buf: &[u8]) -> NlMessages<'_> {
    NlMessages {
        buf,
        offset: 0,
        failed: false,
    }
}

/// Iterator returned by [`split_messages`].
pub struct NlMessages<'a> {
    buf: &'a [u8],
    offset: usize,
    failed: bool,
}

impl<'a> Iterator for NlMessages<'a> {
    type Item = Result<(NlMsgHdr, &'a [u8]), ParseError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.failed {
            return None;
        }
        let rest = self.buf.get(self.offset..)?;
        if rest.is_empty() {
            return None;
        }
        let result = split_one(rest, self.offset);
        match &result {
            Ok((hdr, _)) => {
                // The last message of a datagram may lack its padding; never step past the end.
                let step = align4(hdr.len as usize).min(rest.len());
                self.offset = self.offset.saturating_add(step);
            }
            Err(_) => self.failed = true,
        }
        Some(result)
    }
}

fn split_one(rest: &[u8], offset: usize) -> Result<(NlMsgHdr, &[u8]), ParseError> {
    let hdr_bytes: &[u8; NLMSG_HDRLEN] =
        rest.get(..NLMSG_HDRLEN)
            .and_then(|b| b.try_into().ok())
            .ok_or_else(|| ParseError::truncated("nlmsghdr", offset, NLMSG_HDRLEN, rest.len()))?;
    let hdr = NlMsgHdr::decode(hdr_bytes);
    let len = hdr.len as usize;
    if len < NLMSG_HDRLEN {
        return Err(ParseError {
            what: "nlmsghdr",
            offset,
            problem: ParseProblem::LengthTooSmall {
                len,
                min: NLMSG_HDRLEN,
            },
        });
    }
    let payload = rest.get(NLMSG_HDRLEN..len).ok_or(ParseError {
        what: "nlmsghdr",
        offset,
        problem: ParseProblem::LengthTooLarge {
            len,
            have: rest.len(),
        },
    })?;
    Ok((hdr, payload))
}

/// Walk a list of `struct rtattr` (rtnetlink) or `struct nlattr` (sock_diag): both are
/// `{ u16 len; u16 type; }` followed by `len - 4` bytes, padded to 4. `base` is the offset
/// of `buf` inside the enclosing message, for error positions.
pub fn split_attrs(buf: &[u8], base: usize) -> Attrs<'_> {
    Attrs {
        buf,
        offset: 0,
        base,
        failed: false,
    }
}

/// `NLA_TYPE_MASK`: strips `NLA_F_NESTED` and `NLA_F_NET_BYTEORDER`.
const NLA_TYPE_MASK: u16 = 0x3fff;
const RTA_HDRLEN: usize = 4;

/// Iterator returned by [`split_attrs`]: `(type, payload)`.
pub struct Attrs<'a> {
    buf: &'a [u8],
    offset: usize,
    base: usize,
    failed: bool,
}

impl<'a> Iterator for Attrs<'a> {
    type Item = Result<(u16, &'a [u8]), ParseError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.failed {
            return None;
        }
        let rest = self.buf.get(self.offset..)?;
        if rest.is_empty() {
            return None;
        }
        let at = self.base.saturating_add(self.offset);
        let result = match rest.get(..RTA_HDRLEN) {
            Some(&[l0, l1, t0, t1]) => {
                let len = usize::from(u16::from_ne_bytes([l0, l1]));
                let ty = u16::from_ne_bytes([t0, t1]) & NLA_TYPE_MASK;
                if len < RTA_HDRLEN {
                    Err(ParseError {
                        what: "rtattr",
                        offset: at,
                        problem: ParseProblem::LengthTooSmall {
                            len,
                            min: RTA_HDRLEN,
                        },
                    })
                } else {
                    match rest.get(RTA_HDRLEN..len) {
                        Some(payload) => {
                            self.offset = self.offset.saturating_add(align4(len).min(rest.len()));
                            Ok((ty, payload))
                        }
                        None => Err(ParseError {
                            what: "rtattr",
                            offset: at,
                            problem: ParseProblem::LengthTooLarge {
                                len,
                                have: rest.len(),
                            },
                        }),
                    }
                }
            }
            _ => Err(ParseError::truncated("rtattr", at, RTA_HDRLEN, rest.len())),
        };
        if result.is_err() {
            self.failed = true;
        }
        Some(result)
    }
}

/// Read a native-endian u32 at `at` in `buf`, or say what was cut short.
pub fn read_u32(buf: &[u8], at: usize, what: &'static str) -> Result<u32, ParseError> {
    read_array::<4>(buf, at, what).map(u32::from_ne_bytes)
}

/// Read `N` bytes at `at` in `buf`, or say what was cut short.
pub fn read_array<const N: usize>(
    buf: &[u8],
    at: usize,
    what: &'static str,
) -> Result<[u8; N], ParseError> {
    at.checked_add(N)
        .and_then(|end| buf.get(at..end))
        .and_then(|b| b.try_into().ok())
        .ok_or_else(|| ParseError::truncated(what, at, N, buf.len().saturating_sub(at)))
}

/// The errno of an `NLMSG_ERROR` payload (`struct nlmsgerr`: int error, then the request's
/// header): 0 is an acknowledgement, negative is `-errno`.
pub fn nlmsgerr_errno(payload: &[u8]) -> Result<i32, ParseError> {
    read_array::<4>(payload, 0, "nlmsgerr").map(|b| i32::from_ne_bytes(b).saturating_neg())
}

/// The status int of an `NLMSG_DONE` payload: 0 for a complete dump, or `-errno` when the
/// dump callback failed part way (netlink_dump_done()). Very old kernels sent no payload.
pub fn done_errno(payload: &[u8]) -> i32 {
    match payload.get(..4) {
        Some(&[a, b, c, d]) => i32::from_ne_bytes([a, b, c, d]).saturating_neg(),
        _ => 0,
    }
}

/// What a dump calls with each reply: `(nlmsg_type, payload)`; an error stops the work for
/// this dump (it is still read to its end).
pub type OnMessage<'a> = dyn FnMut(u16, &[u8]) -> Result<(), NetlinkError> + 'a;

/// Where dump requests go and their replies come from: the kernel ([`NetlinkSocket`]), or a
/// recording of it (`collect::linux::replay`). The dump functions of `sock_diag` and `rtnl`
/// take this, so the same request building, retrying and decoding runs on both.
pub trait NetlinkDumps {
    /// A fresh sequence number for the next request.
    fn next_seq(&mut self) -> u32;
    /// Sends one dump request and calls `on_message(nlmsg_type, payload)` for each reply
    /// until the dump ends (see [`NetlinkSocket::dump`]).
    fn dump(&mut self, request: &[u8], on_message: &mut OnMessage<'_>) -> Result<(), NetlinkError>;
}

impl NetlinkDumps for NetlinkSocket {
    fn next_seq(&mut self) -> u32 {
        NetlinkSocket::next_seq(self)
    }

    fn dump(&mut self, request: &[u8], on_message: &mut OnMessage<'_>) -> Result<(), NetlinkError> {
        NetlinkSocket::dump(self, request, on_message)
    }
}

/// A netlink socket bound to a kernel-assigned port id, with a reused receive buffer.
pub struct NetlinkSocket {
    fd: OwnedFd,
    protocol: u32,
    port_id: u32,
    seq: u32,
    buf: Vec<u8>,
}

impl fmt::Debug for NetlinkSocket {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("NetlinkSocket")
            .field("protocol", &self.protocol)
            .field("port_id", &self.port_id)
            .field("seq", &self.seq)
            .finish_non_exhaustive()
    }
}

fn io_err(op: &'static str, e: Errno) -> NetlinkError {
    NetlinkError::Io {
        op,
        source: e.into(),
    }
}

/// What the receive loop should do after one datagram.
enum Step {
    More,
    Finished,
}

impl NetlinkSocket {
    /// Open a netlink socket ([`NETLINK_SOCK_DIAG`], [`NETLINK_ROUTE`]) in the caller's
    /// current network namespace. The namespace is fixed at creation, so a collector that
    /// `setns()`es can open one socket per namespace and switch back.
    pub fn open(protocol: u32) -> Result<NetlinkSocket, NetlinkError> {
        let open_err = |e: Errno| NetlinkError::Open {
            protocol,
            source: e.into(),
        };
        // NETLINK_ROUTE is 0, which rustix's non-zero Protocol cannot hold: `None` is 0.
        let proto = NonZeroU32::new(protocol).map(Protocol::from_raw);
        let fd = rustix::net::socket_with(
            AddressFamily::NETLINK,
            SocketType::RAW,
            SocketFlags::CLOEXEC,
            proto,
        )
        .map_err(open_err)?;
        // Port id 0: the kernel picks a unique one. We read it back to check that replies
        // are addressed to us (nlmsg_pid) and not left over from another socket's traffic.
        bind(&fd, &SocketAddrNetlink::new(0, 0)).map_err(open_err)?;
        let local = getsockname(&fd).map_err(open_err)?;
        let port_id = SocketAddrNetlink::try_from(local).map_err(open_err)?.pid();
        sockopt::set_socket_timeout(&fd, Timeout::Recv, Some(RECV_TIMEOUT)).map_err(open_err)?;
        Ok(NetlinkSocket {
            fd,
            protocol,
            port_id,
            // next_seq() never hands out 0, so a zeroed stray message never matches.
            seq: 0,
            buf: vec![0; RECV_BUF_LEN],
        })
    }

    /// The port id the kernel assigned (`nl_pid` of our address).
    pub fn port_id(&self) -> u32 {
        self.port_id
    }

    /// A fresh sequence number for the next request. Replies carry it back, which lets the
    /// receive loop drop anything left from an earlier, abandoned request.
    pub fn next_seq(&mut self) -> u32 {
        self.seq = self.seq.wrapping_add(1).max(1);
        self.seq
    }

    /// Send one dump request (`request`: a complete netlink message with `NLM_F_DUMP`) and
    /// call `on_message(nlmsg_type, payload)` for each reply until `NLMSG_DONE`.
    ///
    /// The dump is always read to its end, even after an error, because the kernel refuses
    /// a new dump on a socket whose previous dump is still running (`-EBUSY` from
    /// netlink_dump_start()). The first error wins. An interrupted dump
    /// (`NLM_F_DUMP_INTR`) returns [`NetlinkError::Interrupted`] after the closure has seen
    /// part of it; callers discard what they collected and retry ([`DUMP_ATTEMPTS`]).
    pub fn dump<F>(&mut self, request: &[u8], mut on_message: F) -> Result<(), NetlinkError>
    where
        F: FnMut(u16, &[u8]) -> Result<(), NetlinkError>,
    {
        let seq_bytes = read_array::<4>(request, 8, "nlmsghdr")
            .map_err(|_| NetlinkError::BadRequest("shorter than a netlink header"))?;
        let seq = u32::from_ne_bytes(seq_bytes);
        self.send_all(request)?;

        let mut failure: Option<NetlinkError> = None;
        let mut interrupted = false;
        loop {
            let len = match self.recv_datagram() {
                Ok(len) => len,
                Err(RecvIssue::Fatal(e)) => return Err(failure.unwrap_or(e)),
                Err(RecvIssue::Lost(e)) => {
                    // Data was lost but the dump may still be running: keep reading so the
                    // socket is left clean, then report it (retriable).
                    failure.get_or_insert(e);
                    continue;
                }
            };
            let datagram = self.buf.get(..len).unwrap_or_default();
            let step = handle_datagram(
                datagram,
                self.port_id,
                seq,
                &mut failure,
                &mut interrupted,
                &mut on_message,
            );
            if let Step::Finished = step {
                break;
            }
        }
        match failure {
            Some(e) => Err(e),
            None if interrupted => Err(NetlinkError::Interrupted),
            None => Ok(()),
        }
    }

    fn send_all(&mut self, request: &[u8]) -> Result<(), NetlinkError> {
        loop {
            match send(&self.fd, request, SendFlags::empty()) {
                // Netlink sends are atomic datagrams: all or nothing.
                Ok(_) => return Ok(()),
                Err(Errno::INTR) => continue,
                Err(e) => return Err(io_err("send", e)),
            }
        }
    }

    /// Receive one datagram from the kernel into `self.buf`; returns its length.
    fn recv_datagram(&mut self) -> Result<usize, RecvIssue> {
        loop {
            // MSG_TRUNC makes recv report the datagram's real length, so truncation is
            // detected instead of silently cutting the last message.
            match recvfrom(&self.fd, &mut self.buf[..], RecvFlags::TRUNC) {
                Ok((_, full_len, from)) => {
                    // Only the kernel (port id 0) answers requests; a privileged process
                    // could unicast to our port id, and its bytes are not kernel facts.
                    let from_kernel = from
                        .and_then(|a| SocketAddrNetlink::try_from(a).ok())
                        .is_none_or(|a| a.pid() == 0);
                    if !from_kernel {
                        continue;
                    }
                    let cap = self.buf.len();
                    if full_len > cap {
                        // Grow for the retry the caller will make; this datagram is lost.
                        self.buf.resize(align4(full_len), 0);
                        return Err(RecvIssue::Lost(NetlinkError::Truncated {
                            len: full_len,
                            cap,
                        }));
                    }
                    return Ok(full_len);
                }
                Err(Errno::INTR) => continue,
                Err(Errno::NOBUFS) => return Err(RecvIssue::Lost(NetlinkError::Overrun)),
                Err(Errno::AGAIN) => {
                    return Err(RecvIssue::Fatal(NetlinkError::Timeout(RECV_TIMEOUT)));
                }
                Err(e) => return Err(RecvIssue::Fatal(io_err("receive", e))),
            }
        }
    }
}

enum RecvIssue {
    /// Messages were lost; the dump may still be running.
    Lost(NetlinkError),
    /// Nothing more will arrive.
    Fatal(NetlinkError),
}

/// Process one datagram of a dump reply. Pure apart from the closure, so the control-message
/// handling is testable without a kernel.
fn handle_datagram<F>(
    datagram: &[u8],
    port_id: u32,
    seq: u32,
    failure: &mut Option<NetlinkError>,
    interrupted: &mut bool,
    on_message: &mut F,
) -> Step
where
    F: FnMut(u16, &[u8]) -> Result<(), NetlinkError>,
{
    for msg in split_messages(datagram) {
        let (hdr, payload) = match msg {
            Ok(m) => m,
            Err(e) => {
                failure.get_or_insert(e.into());
                // The rest of this datagram cannot be located; the next one may hold DONE.
                return Step::More;
            }
        };
        // Replies carry our port id and the request's seq; anything else is left over from
        // an abandoned request and is not part of this dump.
        if hdr.pid != port_id || hdr.seq != seq {
            continue;
        }
        if hdr.flags & NLM_F_DUMP_INTR != 0 {
            *interrupted = true;
        }
        match hdr.ty {
            NLMSG_NOOP => {}
            NLMSG_DONE => {
                let errno = done_errno(payload);
                if errno != 0 {
                    failure.get_or_insert(NetlinkError::Kernel { errno });
                }
                return Step::Finished;
            }
            NLMSG_ERROR => {
                match nlmsgerr_errno(payload) {
                    // An acknowledgement: the kernel is done with the request.
                    Ok(0) => {}
                    Ok(errno) => {
                        failure.get_or_insert(NetlinkError::Kernel { errno });
                    }
                    Err(e) => {
                        failure.get_or_insert(e.into());
                    }
                }
                // An error message ends the request: no DONE follows it.
                return Step::Finished;
            }
            NLMSG_OVERRUN => {
                failure.get_or_insert(NetlinkError::Overrun);
            }
            ty => {
                // Once the result is known to be thrown away, stop doing work for it.
                if failure.is_none()
                    && !*interrupted
                    && let Err(e) = on_message(ty, payload)
                {
                    *failure = Some(e);
                }
            }
        }
    }
    Step::More
}

/// Encode one message exactly as the kernel would, for the parser tests of all three modules.
#[cfg(test)]
pub(crate) fn test_msg(ty: u16, flags: u16, seq: u32, pid: u32, payload: &[u8]) -> Vec<u8> {
    let len = NLMSG_HDRLEN + payload.len();
    let mut out = Vec::new();
    NlMsgHdr {
        len: len as u32,
        ty,
        flags,
        seq,
        pid,
    }
    .encode(&mut out);
    out.extend_from_slice(payload);
    out.resize(align4(len), 0);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use test_msg as msg;

    #[test]
    fn build_request_pads_and_sets_length() {
        let r = build_request(20, NLM_F_REQUEST | NLM_F_DUMP, 7, &[1, 2, 3]);
        assert_eq!(r.len(), 20);
        let (hdr, payload) = split_messages(&r).next().unwrap().unwrap();
        assert_eq!(hdr.len, 19);
        assert_eq!(hdr.ty, 20);
        assert_eq!(hdr.flags, 0x301);
        assert_eq!(hdr.seq, 7);
        assert_eq!(payload, &[1, 2, 3]);
    }

    #[test]
    fn splits_several_messages() {
        let mut buf = msg(20, NLM_F_MULTI, 1, 9, &[0xaa; 5]);
        buf.extend(msg(20, NLM_F_MULTI, 1, 9, &[0xbb; 8]));
        buf.extend(msg(NLMSG_DONE, NLM_F_MULTI, 1, 9, &0i32.to_ne_bytes()));
        let msgs: Vec<_> = split_messages(&buf).collect::<Result<_, _>>().unwrap();
        assert_eq!(msgs.len(), 3);
        assert_eq!(msgs[0].1, &[0xaa; 5]);
        assert_eq!(msgs[1].1, &[0xbb; 8]);
        assert_eq!(msgs[2].0.ty, NLMSG_DONE);
    }

    #[test]
    fn last_message_without_padding_is_accepted() {
        let mut buf = msg(20, 0, 1, 9, &[1, 2, 3]);
        buf.truncate(19);
        let msgs: Vec<_> = split_messages(&buf).collect::<Result<_, _>>().unwrap();
        assert_eq!(msgs.len(), 1);
        assert_eq!(msgs[0].1, &[1, 2, 3]);
    }

    #[test]
    fn truncated_headers_are_errors_never_panics() {
        let mut buf = msg(20, 0, 1, 9, &[0xaa; 8]);
        buf.extend(msg(20, 0, 1, 9, &[0xbb; 8]));
        for cut in 0..buf.len() {
            let r: Result<Vec<_>, _> = split_messages(&buf[..cut]).collect();
            if cut == 0 || cut == 24 {
                // Message boundaries: a whole number of messages is a valid buffer.
                assert!(r.is_ok(), "cut {cut}");
            } else {
                assert!(r.is_err(), "cut {cut} should fail");
            }
        }
    }

    #[test]
    fn bad_lengths_are_reported() {
        let mut buf = msg(20, 0, 1, 9, &[0; 8]);
        buf[0..4].copy_from_slice(&8u32.to_ne_bytes());
        let e = split_messages(&buf).next().unwrap().unwrap_err();
        assert_eq!(e.problem, ParseProblem::LengthTooSmall { len: 8, min: 16 });
        buf[0..4].copy_from_slice(&u32::MAX.to_ne_bytes());
        let e = split_messages(&buf).next().unwrap().unwrap_err();
        assert!(matches!(e.problem, ParseProblem::LengthTooLarge { .. }));
        assert!(e.to_string().contains("nlmsghdr at byte 0"), "{e}");
        // The iterator stops after an error instead of guessing where the next message is.
        assert_eq!(split_messages(&buf).count(), 1);
    }

    #[test]
    fn attrs_walk_and_reject_bogus_lengths() {
        let mut buf = Vec::new();
        buf.extend_from_slice(&5u16.to_ne_bytes());
        buf.extend_from_slice(&11u16.to_ne_bytes());
        buf.extend_from_slice(&[1, 0, 0, 0]);
        buf.extend_from_slice(&8u16.to_ne_bytes());
        buf.extend_from_slice(&(21u16 | 0x8000).to_ne_bytes());
        buf.extend_from_slice(&[9, 9, 9, 9]);
        let attrs: Vec<_> = split_attrs(&buf, 72).collect::<Result<_, _>>().unwrap();
        assert_eq!(attrs, vec![(11, &[1u8][..]), (21, &[9u8, 9, 9, 9][..])]);

        let mut bogus = buf.clone();
        bogus[8..10].copy_from_slice(&200u16.to_ne_bytes());
        let r: Result<Vec<_>, _> = split_attrs(&bogus, 72).collect();
        let e = r.unwrap_err();
        assert_eq!(e.offset, 80);
        assert!(matches!(
            e.problem,
            ParseProblem::LengthTooLarge { len: 200, .. }
        ));

        let mut tiny = buf.clone();
        tiny[0..2].copy_from_slice(&2u16.to_ne_bytes());
        assert!(
            split_attrs(&tiny, 0)
                .collect::<Result<Vec<_>, _>>()
                .is_err()
        );

        for cut in 0..buf.len() {
            let r: Result<Vec<_>, _> = split_attrs(&buf[..cut], 0).collect();
            // Between attributes, or inside the last one's padding, the list is complete.
            if cut == 0 || (5..=8).contains(&cut) {
                assert!(r.is_ok(), "cut {cut}");
            } else {
                assert!(r.is_err(), "cut {cut}");
            }
        }
    }

    fn run(datagrams: &[Vec<u8>], port: u32, seq: u32) -> (Result<(), NetlinkError>, Vec<u16>) {
        let mut seen = Vec::new();
        let mut failure = None;
        let mut interrupted = false;
        let mut finished = false;
        for d in datagrams {
            let step = handle_datagram(
                d,
                port,
                seq,
                &mut failure,
                &mut interrupted,
                &mut |ty, _p: &[u8]| {
                    seen.push(ty);
                    Ok(())
                },
            );
            if let Step::Finished = step {
                finished = true;
                break;
            }
        }
        assert!(finished, "dump never finished");
        let r = match failure {
            Some(e) => Err(e),
            None if interrupted => Err(NetlinkError::Interrupted),
            None => Ok(()),
        };
        (r, seen)
    }

    #[test]
    fn dump_loop_skips_stale_messages_and_stops_at_done() {
        let mut d1 = msg(20, NLM_F_MULTI, 4, 77, &[0; 4]); // stale seq
        d1.extend(msg(20, NLM_F_MULTI, 5, 78, &[0; 4])); // someone else's port
        d1.extend(msg(20, NLM_F_MULTI, 5, 77, &[0; 4]));
        let d2 = msg(NLMSG_DONE, NLM_F_MULTI, 5, 77, &0i32.to_ne_bytes());
        let (r, seen) = run(&[d1, d2], 77, 5);
        r.unwrap();
        assert_eq!(seen, vec![20]);
    }

    #[test]
    fn nlmsg_error_becomes_errno() {
        let mut payload = (-22i32).to_ne_bytes().to_vec();
        payload.extend(msg(20, 0x301, 5, 0, &[]));
        let d = msg(NLMSG_ERROR, 0, 5, 77, &payload);
        let (r, _) = run(&[d], 77, 5);
        let e = r.unwrap_err();
        assert_eq!(e.kernel_errno(), Some(22));
        assert!(e.to_string().contains("Invalid argument"), "{e}");
        assert!(!e.is_retriable());
    }

    #[test]
    fn truncated_nlmsg_error_is_a_parse_error() {
        let d = msg(NLMSG_ERROR, 0, 5, 77, &[1, 2]);
        let (r, _) = run(&[d], 77, 5);
        assert!(matches!(r.unwrap_err(), NetlinkError::Parse(_)));
    }

    #[test]
    fn done_with_error_status() {
        let d = msg(NLMSG_DONE, NLM_F_MULTI, 5, 77, &(-16i32).to_ne_bytes());
        let (r, _) = run(&[d], 77, 5);
        assert_eq!(r.unwrap_err().kernel_errno(), Some(16));
        // A DONE without payload (ancient kernels) means success.
        let d = msg(NLMSG_DONE, NLM_F_MULTI, 5, 77, &[]);
        run(&[d], 77, 5).0.unwrap();
    }

    #[test]
    fn dump_intr_is_retriable() {
        let mut d = msg(20, NLM_F_MULTI | NLM_F_DUMP_INTR, 5, 77, &[0; 4]);
        d.extend(msg(20, NLM_F_MULTI, 5, 77, &[0; 4]));
        d.extend(msg(NLMSG_DONE, NLM_F_MULTI, 5, 77, &0i32.to_ne_bytes()));
        let (r, seen) = run(&[d], 77, 5);
        let e = r.unwrap_err();
        assert!(e.is_retriable());
        assert!(matches!(e, NetlinkError::Interrupted));
        // Nothing is handed on once the dump is known to be inconsistent.
        assert!(seen.is_empty());
    }

    #[test]
    fn closure_error_is_kept_and_dump_drained() {
        let mut d = msg(20, NLM_F_MULTI, 5, 77, &[0; 4]);
        d.extend(msg(20, NLM_F_MULTI, 5, 77, &[0; 4]));
        let done = msg(NLMSG_DONE, NLM_F_MULTI, 5, 77, &0i32.to_ne_bytes());
        let mut calls = 0;
        let mut failure = None;
        let mut interrupted = false;
        let mut f = |_ty: u16, _p: &[u8]| {
            calls += 1;
            Err(NetlinkError::BadRequest("test"))
        };
        assert!(matches!(
            handle_datagram(&d, 77, 5, &mut failure, &mut interrupted, &mut f),
            Step::More
        ));
        assert!(matches!(
            handle_datagram(&done, 77, 5, &mut failure, &mut interrupted, &mut f),
            Step::Finished
        ));
        assert_eq!(calls, 1);
        assert!(matches!(failure, Some(NetlinkError::BadRequest(_))));
    }

    #[test]
    fn dump_error_message_names_the_dump() {
        let e = NetlinkError::Kernel { errno: 2 }.in_dump(
            "sock_diag dump of udp/ipv6",
            Some("is the 'udp_diag' module available?".into()),
        );
        let s = e.to_string();
        assert!(
            s.starts_with("netlink sock_diag dump of udp/ipv6 failed: the kernel rejected"),
            "{s}"
        );
        assert!(s.contains("udp_diag"), "{s}");
        assert_eq!(e.kernel_errno(), Some(2));
    }

    #[test]
    fn read_helpers_do_not_panic() {
        assert!(read_u32(&[1, 2, 3], 0, "x").is_err());
        assert!(read_u32(&[1, 2, 3, 4], usize::MAX, "x").is_err());
        assert_eq!(read_u32(&1u32.to_ne_bytes(), 0, "x").unwrap(), 1);
        assert!(nlmsgerr_errno(&[]).is_err());
        assert_eq!(nlmsgerr_errno(&i32::MIN.to_ne_bytes()).unwrap(), i32::MAX);
    }

    #[test]
    fn live_open_both_protocols() {
        let a = NetlinkSocket::open(NETLINK_SOCK_DIAG).unwrap();
        let b = NetlinkSocket::open(NETLINK_ROUTE).unwrap();
        // Port ids are unique per protocol only: the first socket of each protocol in a
        // process usually gets the process id, so both may well be equal.
        assert_ne!(a.port_id(), 0);
        assert_ne!(b.port_id(), 0);
        let c = NetlinkSocket::open(NETLINK_SOCK_DIAG).unwrap();
        assert_ne!(a.port_id(), c.port_id());
    }

    #[test]
    fn live_short_request_is_refused_locally() {
        let mut s = NetlinkSocket::open(NETLINK_ROUTE).unwrap();
        let e = s.dump(&[0; 8], |_, _| Ok(())).unwrap_err();
        assert!(matches!(e, NetlinkError::BadRequest(_)));
    }
}
