//! `rules --verify`: each cell done for real, inside the throwaway namespace (the caller's
//! thread has entered it): the two sockets made by two uids, bind() and listen() as the
//! cell says, then connections or datagrams to the specific address and to another local
//! address, from distinct source ports, counting which socket got them.

use crate::analyze::rules::{
    CellAnswer, Dest, FIRST_UID, First, Held, Receivers, Second, Sharing, Which,
};
use crate::analyze::whatif::{BindResult, Phase};
use crate::model::Proto;
use rustix::fd::OwnedFd;
use rustix::io::Errno;
use rustix::net::{self as rnet, AddressFamily, RecvFlags, SocketFlags, SocketType};
use std::collections::BTreeMap;
use std::io;
use std::net::{SocketAddrV4, TcpStream, UdpSocket};
use std::time::{Duration, Instant};

/// Probes per destination: with a SO_REUSEPORT split of two, all 16 reach one member with
/// probability 2⁻¹⁵, so a split is seen as one.
const PROBES: usize = 16;
/// How long to wait for probes to be delivered once sent (loopback delivers at once; this
/// only bounds a slow machine).
const SETTLE: Duration = Duration::from_millis(100);

/// Runs `f` with the thread's effective uid (and so its fsuid, which becomes a new socket's
/// `sk_uid`) set to `uid`, then back to root. setresuid(2) through the raw syscall changes
/// only this thread; real and saved uids stay 0, so root's capabilities come back.
fn as_uid<T>(uid: u32, f: impl FnOnce() -> T) -> io::Result<T> {
    use rustix::process::Uid;
    rustix::thread::set_thread_res_uid(None, Some(Uid::from_raw(uid)), None)?;
    let out = f();
    rustix::thread::set_thread_res_uid(None, Some(Uid::ROOT), None)?;
    Ok(out)
}

/// A non-blocking IPv4 socket of `proto` with `sharing` set, bound to `addr:port`. The
/// error says which call failed.
fn bound(proto: Proto, sharing: Sharing, addr: SocketAddrV4) -> Result<OwnedFd, (Errno, Phase)> {
    let kind = match proto {
        Proto::Tcp => SocketType::STREAM,
        Proto::Udp => SocketType::DGRAM,
    };
    let fd = rnet::socket_with(
        AddressFamily::INET,
        kind,
        SocketFlags::NONBLOCK | SocketFlags::CLOEXEC,
        None,
    )
    .map_err(|e| (e, Phase::Setsockopt))?;
    match sharing {
        Sharing::Default => {}
        Sharing::Reuseaddr => {
            rnet::sockopt::set_socket_reuseaddr(&fd, true).map_err(|e| (e, Phase::Setsockopt))?
        }
        Sharing::Reuseport => {
            rnet::sockopt::set_socket_reuseport(&fd, true).map_err(|e| (e, Phase::Setsockopt))?
        }
    }
    rnet::bind(&fd, &addr).map_err(|e| (e, Phase::Bind))?;
    Ok(fd)
}

fn listen(fd: &OwnedFd) -> Result<(), (Errno, Phase)> {
    rnet::listen(fd, 128).map_err(|e| (e, Phase::Listen))
}

/// The what-if's name for an errno the cells can meet.
fn result_of(e: Errno) -> io::Result<BindResult> {
    Ok(match e {
        Errno::ADDRINUSE => BindResult::Eaddrinuse,
        Errno::ADDRNOTAVAIL => BindResult::Eaddrnotavail,
        Errno::ACCESS => BindResult::Eacces,
        Errno::INVAL => BindResult::Einval,
        Errno::PERM => BindResult::Eperm,
        Errno::NODEV => BindResult::Enodev,
        other => return Err(other.into()),
    })
}

/// One cell, measured. The sockets are closed when it returns.
pub fn cell(proto: Proto, first: First, second: Second, port: u16) -> io::Result<CellAnswer> {
    let tcp = proto == Proto::Tcp;
    let a_listens = first.held == Some(Held::Listening);
    let a = as_uid(FIRST_UID, || {
        let fd = bound(
            proto,
            first.sharing,
            SocketAddrV4::new(first.place.addr(), port),
        )?;
        if a_listens {
            listen(&fd)?;
        }
        Ok::<_, (Errno, Phase)>(fd)
    })?
    .map_err(|(e, at)| {
        io::Error::other(format!(
            "the first socket of port {port} failed at {}: {e}",
            at.call()
        ))
    })?;
    let b = as_uid(second.who.uid(), || {
        let fd = bound(
            proto,
            second.sharing,
            SocketAddrV4::new(second.place.addr(), port),
        )?;
        if tcp {
            listen(&fd)?;
        }
        Ok::<_, (Errno, Phase)>(fd)
    })?;
    let (result, at, b) = match b {
        Ok(fd) => (
            BindResult::Ok,
            if tcp { Phase::Listen } else { Phase::Bind },
            Some(fd),
        ),
        Err((e, at)) => (result_of(e)?, at, None),
    };
    let mut receivers = BTreeMap::new();
    for dest in Dest::ALL {
        let target = SocketAddrV4::new(dest.addr(), port);
        let got = if tcp {
            let mut listeners = Vec::new();
            if a_listens {
                listeners.push((Which::First, &a));
            }
            if let Some(b) = &b {
                listeners.push((Which::Second, b));
            }
            connections(target, &listeners)?
        } else {
            let mut socks = vec![(Which::First, &a)];
            if let Some(b) = &b {
                socks.push((Which::Second, b));
            }
            datagrams(target, &socks)?
        };
        receivers.insert(dest, got);
    }
    Ok(CellAnswer {
        result,
        possible: Vec::new(),
        at,
        receivers,
    })
}

/// Who got probes, from the counts per socket.
fn who_got(counts: &[(Which, usize)]) -> Receivers {
    let got: Vec<Which> = counts
        .iter()
        .filter(|(_, n)| *n > 0)
        .map(|(w, _)| *w)
        .collect();
    match got.as_slice() {
        [] => Receivers::Nobody,
        [one] => Receivers::One(*one),
        _ => Receivers::Split,
    }
}

/// [`PROBES`] connections to `target`, each from its own source port; counts what each
/// listener accepts.
fn connections(target: SocketAddrV4, listeners: &[(Which, &OwnedFd)]) -> io::Result<Receivers> {
    let mut clients = Vec::new();
    for _ in 0..PROBES {
        match TcpStream::connect_timeout(&target.into(), Duration::from_secs(2)) {
            Ok(c) => clients.push(c),
            Err(e) if e.kind() == io::ErrorKind::ConnectionRefused => {}
            Err(e) => return Err(e),
        }
    }
    let mut counts: Vec<(Which, usize)> = listeners.iter().map(|(w, _)| (*w, 0)).collect();
    let deadline = Instant::now() + SETTLE;
    loop {
        for (i, (_, fd)) in listeners.iter().enumerate() {
            loop {
                match rnet::accept_with(fd, SocketFlags::CLOEXEC) {
                    Ok(_conn) => counts[i].1 += 1,
                    Err(Errno::AGAIN) => break,
                    Err(e) => return Err(e.into()),
                }
            }
        }
        let total: usize = counts.iter().map(|(_, n)| n).sum();
        if total >= clients.len() || Instant::now() >= deadline {
            break;
        }
        std::thread::sleep(Duration::from_millis(2));
    }
    Ok(who_got(&counts))
}

/// [`PROBES`] datagrams to `target`, each from its own socket and port; counts what each
/// socket receives.
fn datagrams(target: SocketAddrV4, socks: &[(Which, &OwnedFd)]) -> io::Result<Receivers> {
    let mut senders = Vec::new();
    for _ in 0..PROBES {
        let s = UdpSocket::bind("0.0.0.0:0")?;
        s.send_to(b"probe", target)?;
        // Kept open until the count is done: a closed sender's port could be reused by the
        // next one, and the probes must come from distinct ports.
        senders.push(s);
    }
    let mut counts: Vec<(Which, usize)> = socks.iter().map(|(w, _)| (*w, 0)).collect();
    let deadline = Instant::now() + SETTLE;
    let mut buf = [0u8; 16];
    loop {
        for (i, (_, fd)) in socks.iter().enumerate() {
            loop {
                match rnet::recv(fd, &mut buf, RecvFlags::DONTWAIT) {
                    Ok(_) => counts[i].1 += 1,
                    Err(Errno::AGAIN) => break,
                    Err(e) => return Err(e.into()),
                }
            }
        }
        let total: usize = counts.iter().map(|(_, n)| n).sum();
        if total >= PROBES || Instant::now() >= deadline {
            break;
        }
        std::thread::sleep(Duration::from_millis(2));
    }
    Ok(who_got(&counts))
}
