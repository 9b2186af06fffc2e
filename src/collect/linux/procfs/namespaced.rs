//! What `/proc` says of the reader's network namespace (sysctls, TcpExt counters) and of the
//! host (its name, the kernel).

use super::parse::{parse_netstat_tcpext, parse_port_range, parse_sysctl_value};
use super::{ProcError, ProcRoot, read_file};
use crate::model::host::{Host, Sysctls, TcpExtCounters};
use std::io;

/// The files under `ROOT/sys/` that [`read_sysctls`] reads (a recording copies these).
pub const SYSCTL_FILES: [&str; 11] = [
    "net/ipv4/ip_nonlocal_bind",
    "net/ipv6/ip_nonlocal_bind",
    "net/ipv6/bindv6only",
    "net/ipv4/ip_unprivileged_port_start",
    "net/ipv4/ip_local_port_range",
    "net/core/somaxconn",
    "net/ipv4/tcp_syncookies",
    "net/ipv4/tcp_max_syn_backlog",
    "net/ipv4/tcp_l3mdev_accept",
    "net/ipv4/udp_l3mdev_accept",
    "net/ipv4/ip_autobind_reuse",
];

/// Where [`read_tcpext`] reads, under `ROOT`.
pub const NETSTAT_FILE: &str = "thread-self/net/netstat";

/// The files under `ROOT` that [`read_host`] reads.
pub const HOST_FILES: [&str; 2] = ["sys/kernel/hostname", "sys/kernel/osrelease"];

/// TcpExt counters of the calling *thread's* network namespace, from
/// `ROOT/thread-self/net/netstat`. (`/proc/net` is `/proc/self/net`, which shows the thread
/// group leader's namespace: wrong for a collector thread that entered another one.)
pub fn read_tcpext(root: &ProcRoot) -> Result<TcpExtCounters, ProcError> {
    let text = read_file(root.path().join(NETSTAT_FILE))?;
    Ok(parse_netstat_tcpext(&text))
}

/// TcpExt counters of `pid`'s network namespace (`ROOT/PID/net/netstat`).
pub fn read_tcpext_of(root: &ProcRoot, pid: u32) -> Result<TcpExtCounters, ProcError> {
    let text = read_file(root.pid_path(pid, "net/netstat"))?;
    Ok(parse_netstat_tcpext(&text))
}

/// The bind- and queue-related sysctls of the reader's network namespace, from
/// `ROOT/sys/net/...` (proc(5), `/proc/sys/net`; the values are per namespace). A missing
/// file (IPv6 disabled, older kernel) gives `None` silently; anything else gives `None` and a
/// warning.
pub fn read_sysctls(root: &ProcRoot) -> (Sysctls, Vec<String>) {
    let mut warnings = Vec::new();
    let sys = root.path().join("sys");
    let mut read = |rel: &str| -> Option<String> {
        let path = sys.join(rel);
        match std::fs::read(&path) {
            Ok(bytes) => Some(String::from_utf8_lossy(&bytes).into_owned()),
            Err(e) if e.kind() == io::ErrorKind::NotFound => None,
            Err(e) => {
                warnings.push(format!("{}: {e}", path.display()));
                None
            }
        }
    };
    let mut malformed = Vec::new();
    let mut int = |rel: &str| -> Option<i64> {
        let text = read(rel)?;
        let v = parse_sysctl_value(&text);
        if v.is_none() {
            malformed.push(format!(
                "{}: malformed value {:?}",
                sys.join(rel).display(),
                text
            ));
        }
        v
    };
    let mut sysctls = Sysctls {
        ipv4_ip_nonlocal_bind: int("net/ipv4/ip_nonlocal_bind"),
        ipv6_ip_nonlocal_bind: int("net/ipv6/ip_nonlocal_bind"),
        bindv6only: int("net/ipv6/bindv6only"),
        ip_unprivileged_port_start: int("net/ipv4/ip_unprivileged_port_start"),
        ip_local_port_range: None,
        somaxconn: int("net/core/somaxconn"),
        tcp_syncookies: int("net/ipv4/tcp_syncookies"),
        tcp_max_syn_backlog: int("net/ipv4/tcp_max_syn_backlog"),
        tcp_l3mdev_accept: int("net/ipv4/tcp_l3mdev_accept"),
        udp_l3mdev_accept: int("net/ipv4/udp_l3mdev_accept"),
        ip_autobind_reuse: int("net/ipv4/ip_autobind_reuse"),
    };
    if let Some(text) = read("net/ipv4/ip_local_port_range") {
        sysctls.ip_local_port_range = parse_port_range(&text);
        if sysctls.ip_local_port_range.is_none() {
            malformed.push(format!(
                "{}: malformed value {:?}",
                sys.join("net/ipv4/ip_local_port_range").display(),
                text
            ));
        }
    }
    warnings.extend(malformed);
    (sysctls, warnings)
}

/// Hostname and kernel release from `ROOT/sys/kernel/{hostname,osrelease}` (proc(5)). The
/// hostname is that of the reader's UTS namespace. Unreadable values are empty, with a
/// warning.
pub fn read_host(root: &ProcRoot) -> (Host, Vec<String>) {
    let mut warnings = Vec::new();
    let mut read = |rel: &str| -> String {
        match read_file(root.path().join(rel)) {
            Ok(text) => text.trim_end_matches('\n').to_owned(),
            Err(e) => {
                warnings.push(e.to_string());
                String::new()
            }
        }
    };
    let host = Host {
        hostname: read(HOST_FILES[0]),
        kernel: read(HOST_FILES[1]),
    };
    (host, warnings)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// SYSCTL_FILES names every file read_sysctls reads: a tree holding only those gives
    /// every value (a recording made from the list misses none).
    #[test]
    fn sysctl_files_are_the_ones_read() {
        let dir = tempfile::tempdir().expect("tempdir");
        for rel in SYSCTL_FILES {
            let path = dir.path().join("sys").join(rel);
            std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
            let value = if rel.ends_with("port_range") {
                "32768\t60999\n"
            } else {
                "1\n"
            };
            std::fs::write(path, value).expect("write");
        }
        let (s, warnings) = read_sysctls(&ProcRoot::new(dir.path()));
        assert!(warnings.is_empty(), "{warnings:?}");
        let all = [
            s.ipv4_ip_nonlocal_bind,
            s.ipv6_ip_nonlocal_bind,
            s.bindv6only,
            s.ip_unprivileged_port_start,
            s.somaxconn,
            s.tcp_syncookies,
            s.tcp_max_syn_backlog,
            s.tcp_l3mdev_accept,
            s.udp_l3mdev_accept,
            s.ip_autobind_reuse,
        ];
        assert!(all.iter().all(|v| *v == Some(1)), "{s:?}");
        assert_eq!(s.ip_local_port_range, Some([32768, 60999]));
    }
}
