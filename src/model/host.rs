//! Host context: the machine, the privileges of the run, and per network namespace the
//! interfaces, sysctls and counters that decide and explain binds.

use super::container::Container;
use super::ids::NetnsId;
use serde::{Deserialize, Serialize};
use std::net::IpAddr;

#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Host {
    pub hostname: String,
    pub kernel: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Privileges {
    pub euid: u32,
    /// Every option probe that was tried could read the socket (pidfd_getfd worked).
    pub options_readable: bool,
    /// Every process's fd table could be read, so holder lists are complete.
    pub all_holders_visible: bool,
    /// What this run could not see, and how to get it; empty when nothing is missing.
    #[serde(default)]
    pub missing: Vec<String>,
}

/// IPv6 address flags (`IFA_F_*`) that change whether an address can be bound.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AddrFlag {
    Tentative,
    Optimistic,
    Dadfailed,
    Deprecated,
    Permanent,
    /// IPv6: a privacy (temporary) address. The same bit on IPv4 means secondary.
    Temporary,
    /// IPv4: a secondary address of its subnet.
    Secondary,
    Nodad,
    Noprefixroute,
}

impl AddrFlag {
    /// The name used in files (the serde name).
    pub fn name(self) -> &'static str {
        match self {
            AddrFlag::Tentative => "tentative",
            AddrFlag::Optimistic => "optimistic",
            AddrFlag::Dadfailed => "dadfailed",
            AddrFlag::Deprecated => "deprecated",
            AddrFlag::Permanent => "permanent",
            AddrFlag::Temporary => "temporary",
            AddrFlag::Secondary => "secondary",
            AddrFlag::Nodad => "nodad",
            AddrFlag::Noprefixroute => "noprefixroute",
        }
    }
}

/// An address's scope (`ifa_scope`, the `rtm_scope` values of include/uapi/linux/rtnetlink.h).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum AddrScope {
    /// RT_SCOPE_UNIVERSE (0).
    Global,
    /// RT_SCOPE_SITE (200).
    Site,
    /// RT_SCOPE_LINK (253).
    Link,
    /// RT_SCOPE_HOST (254).
    Host,
    /// Another value the kernel gave.
    Number(u8),
    /// A word this version does not know, from a file.
    Unknown(String),
}

impl AddrScope {
    /// The scope from the kernel's number.
    pub fn from_kernel(scope: u8) -> AddrScope {
        match scope {
            0 => AddrScope::Global,
            200 => AddrScope::Site,
            253 => AddrScope::Link,
            254 => AddrScope::Host,
            n => AddrScope::Number(n),
        }
    }

    /// The word files and screens use: `global`, `site`, `link`, `host`, or the number.
    pub fn name(&self) -> std::borrow::Cow<'_, str> {
        match self {
            AddrScope::Global => "global".into(),
            AddrScope::Site => "site".into(),
            AddrScope::Link => "link".into(),
            AddrScope::Host => "host".into(),
            AddrScope::Number(n) => n.to_string().into(),
            AddrScope::Unknown(text) => text.as_str().into(),
        }
    }
}

impl From<&str> for AddrScope {
    fn from(text: &str) -> Self {
        match text {
            "global" => AddrScope::Global,
            "site" => AddrScope::Site,
            "link" => AddrScope::Link,
            "host" => AddrScope::Host,
            _ => match text.parse::<u8>() {
                Ok(n) => AddrScope::from_kernel(n),
                Err(_) => AddrScope::Unknown(text.to_string()),
            },
        }
    }
}

impl Serialize for AddrScope {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.name())
    }
}

impl<'de> Deserialize<'de> for AddrScope {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Ok(AddrScope::from(String::deserialize(d)?.as_str()))
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct InterfaceAddr {
    pub addr: IpAddr,
    pub prefix_len: u8,
    /// `host`, `link`, `global`, `site` or the number (in files: the same words).
    pub scope: AddrScope,
    pub flags: Vec<AddrFlag>,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Interface {
    pub index: u32,
    pub name: String,
    pub up: bool,
    pub loopback: bool,
    /// The link has carrier (IFF_LOWER_UP); without it IPv6 DAD cannot finish.
    pub carrier: bool,
    pub addresses: Vec<InterfaceAddr>,
}

/// The sysctls that decide binds and queues, per network namespace. `None`: not readable
/// (IPv6 disabled, or an older kernel without the knob).
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Sysctls {
    #[serde(rename = "net.ipv4.ip_nonlocal_bind")]
    pub ipv4_ip_nonlocal_bind: Option<i64>,
    #[serde(rename = "net.ipv6.ip_nonlocal_bind")]
    pub ipv6_ip_nonlocal_bind: Option<i64>,
    #[serde(rename = "net.ipv6.bindv6only")]
    pub bindv6only: Option<i64>,
    #[serde(rename = "net.ipv4.ip_unprivileged_port_start")]
    pub ip_unprivileged_port_start: Option<i64>,
    #[serde(rename = "net.ipv4.ip_local_port_range")]
    pub ip_local_port_range: Option<[u32; 2]>,
    #[serde(rename = "net.core.somaxconn")]
    pub somaxconn: Option<i64>,
    #[serde(rename = "net.ipv4.tcp_syncookies")]
    pub tcp_syncookies: Option<i64>,
    #[serde(rename = "net.ipv4.tcp_max_syn_backlog")]
    pub tcp_max_syn_backlog: Option<i64>,
    #[serde(rename = "net.ipv4.tcp_l3mdev_accept")]
    pub tcp_l3mdev_accept: Option<i64>,
    #[serde(rename = "net.ipv4.udp_l3mdev_accept")]
    pub udp_l3mdev_accept: Option<i64>,
    #[serde(rename = "net.ipv4.ip_autobind_reuse")]
    pub ip_autobind_reuse: Option<i64>,
}

/// TcpExt counters from `/proc/net/netstat` (per network namespace). `None`: not present.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct TcpExtCounters {
    #[serde(rename = "ListenOverflows")]
    pub listen_overflows: Option<u64>,
    #[serde(rename = "ListenDrops")]
    pub listen_drops: Option<u64>,
    #[serde(rename = "TCPReqQFullDrop")]
    pub req_q_full_drop: Option<u64>,
    #[serde(rename = "TCPReqQFullDoCookies")]
    pub req_q_full_do_cookies: Option<u64>,
    #[serde(rename = "TCPDeferAcceptDrop")]
    pub defer_accept_drop: Option<u64>,
}

/// What a network namespace belongs to, by the first rule that names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NetnsKind {
    /// The host's namespace (pid 1's).
    Host,
    /// Named with `ip netns add` (a bind mount in /run/netns).
    Named,
    /// Its processes are in a container's cgroup (docker, containerd, podman, kubernetes).
    Container,
    /// Its processes are in a systemd unit (PrivateNetwork=, a service's own namespace).
    Unit,
    /// Kept alive by a bind mount outside /run/netns (e.g. a runtime's /run/docker/netns).
    Mount,
    /// Only processes hold it, and nothing names it.
    Process,
    /// A kind this build does not know (a newer file).
    #[serde(other)]
    Other,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Netns {
    /// The namespace's inode (`net:[ID]`): what sockets and holders refer to.
    pub id: NetnsId,
    /// `ip netns` name, container, unit, mount name, or `host`; `None` when nothing names it.
    pub name: Option<String>,
    pub kind: NetnsKind,
    /// Processes living in this namespace.
    pub processes: u32,
    /// A few of those processes, lowest pid first.
    #[serde(default)]
    pub pids: Vec<u32>,
    /// Bind mounts that keep it alive (`/run/netns/NAME`, a runtime's path).
    #[serde(default)]
    pub paths: Vec<String>,
    /// The container that made it: a pod's infra or sandbox container, or the one the
    /// others joined. Its name (or the pod's) is the namespace's `name`.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "crate::model::container::deserialize_lenient"
    )]
    pub container: Option<Container>,
    /// Every container whose processes live in it, the owner first (a pod's members, a
    /// sidecar that joined with `--network container:X`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub containers: Vec<Container>,
    /// The systemd unit its processes run in, when no container owns it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unit: Option<String>,
    /// bindscope runs in this namespace.
    #[serde(default)]
    pub current: bool,
    /// Why its sockets, interfaces and counters are missing, when they are (not entered).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    pub interfaces: Vec<Interface>,
    pub sysctls: Sysctls,
    pub counters: TcpExtCounters,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scopes_read_and_write_the_same_words() {
        for (n, word) in [
            (0, "global"),
            (200, "site"),
            (253, "link"),
            (254, "host"),
            (7, "7"),
        ] {
            let scope = AddrScope::from_kernel(n);
            assert_eq!(scope.name(), word);
            assert_eq!(AddrScope::from(word), scope);
            let json = serde_json::to_string(&scope).expect("serialize");
            assert_eq!(
                serde_json::from_str::<AddrScope>(&json).expect("parse"),
                scope
            );
        }
        assert_eq!(
            AddrScope::from("nowhere"),
            AddrScope::Unknown("nowhere".into())
        );
        assert_eq!(AddrScope::from("nowhere").name(), "nowhere");
    }
}
