//! What one field of a changed socket or namespace was and is, as typed values: a state is a
//! [`State`], an option an [`OptionRead`] under its [`OptionName`], holders a set of
//! [`HolderKey`]. No words here: `output::diff` writes them, once, for the report, the JSON
//! document and the dashboard's Changes view.

use crate::model::{
    AcceptQueue, AddrFlag, AddressState, OptionName, OptionValue, Scope, Socket, SocketId, State,
};
use serde::Serialize;
use std::cmp::Ordering;
use std::collections::BTreeSet;
use std::net::IpAddr;
use std::sync::Arc;

/// A value in `before` and in `after`; only made when the two differ.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Change<T> {
    pub before: T,
    pub after: T,
}

impl<T: PartialEq> Change<T> {
    /// `Some` when the two differ.
    pub(super) fn of(before: T, after: T) -> Option<Change<T>> {
        (before != after).then_some(Change { before, after })
    }
}

/// What sort of change a field change is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum FieldKind {
    /// A value changed.
    Value,
    /// A queue number changed (`accept_queue`, `syn_recv`): expected on a busy host.
    Queue,
    /// Was unknown, is known now: what was read changed, maybe not the socket.
    BecameKnown,
    /// Was known, is unknown now.
    BecameUnknown,
}

/// One field of a matched pair of sockets that differs. Queue fields come last in a
/// [`super::SocketChange`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SocketField {
    /// Recreated on the same endpoint of the same host: its old and new id.
    Socket(Change<SocketId>),
    /// Compared as `Socket::state_label` names them (a TCP socket in `close` and in
    /// `bound_inactive` is `bound` either way); both sockets have one protocol.
    State(Change<State>),
    /// The local address and port (a socket matched by id can `connect()`).
    Local(Change<(IpAddr, u16)>),
    Remote(Change<Remote>),
    Uid(Change<u32>),
    User(Change<Option<Arc<str>>>),
    Device(Change<Option<String>>),
    Scope(Change<Scope>),
    AddressState(Change<AddressState>),
    Option {
        name: OptionName,
        change: Change<OptionRead>,
    },
    /// Compared as sets of [`HolderKey`]: fd numbers are ignored (a process may dup a socket).
    Holders(Change<Holders>),
    AcceptQueue(Change<Option<AcceptQueue>>),
    SynRecv(Change<Option<u32>>),
}

impl SocketField {
    pub fn kind(&self) -> FieldKind {
        match self {
            SocketField::Option { change, .. } => option_kind(change),
            SocketField::AcceptQueue(_) | SocketField::SynRecv(_) => FieldKind::Queue,
            _ => FieldKind::Value,
        }
    }
}

fn option_kind(c: &Change<OptionRead>) -> FieldKind {
    match (&c.before, &c.after) {
        (OptionRead::Unknown, OptionRead::Known(_)) => FieldKind::BecameKnown,
        (OptionRead::Known(_), OptionRead::Unknown) => FieldKind::BecameUnknown,
        _ => FieldKind::Value,
    }
}

/// The remote end of a connection; a port without an address says nothing and is dropped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Remote {
    pub addr: Option<IpAddr>,
    pub port: Option<u16>,
}

impl Remote {
    pub(super) fn of(s: &Socket) -> Remote {
        Remote {
            addr: s.remote_addr,
            port: s.remote_addr.and(s.remote_port),
        }
    }
}

/// An option as read in one snapshot: `model::OptionState` without its reason (a reason
/// that changed is not a changed option), owned, since a diff outlives its snapshots.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OptionRead {
    Known(OptionSetting),
    Unknown,
    NotApplicable,
}

/// A known option's value: `model::OptionValue`, owned.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OptionSetting {
    /// SO_REUSEADDR, SO_REUSEPORT, IPV6_V6ONLY, IP_FREEBIND, IP_TRANSPARENT, O_NONBLOCK.
    Flag(bool),
    /// TCP_DEFER_ACCEPT in seconds; 0 is off.
    Seconds(u32),
    /// TCP_FASTOPEN's queue length; 0 is off.
    Count(u32),
    /// SO_BINDTODEVICE: the device, or none.
    Device(Option<String>),
}

impl From<OptionValue<'_>> for OptionSetting {
    fn from(v: OptionValue<'_>) -> OptionSetting {
        match v {
            OptionValue::Flag(b) => OptionSetting::Flag(b),
            OptionValue::Seconds(n) => OptionSetting::Seconds(n),
            OptionValue::Count(n) => OptionSetting::Count(n),
            OptionValue::Device(d) => OptionSetting::Device(d.map(String::from)),
        }
    }
}

/// Who holds a socket: the processes, or why there are none to show.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Holders {
    Held(BTreeSet<HolderKey>),
    /// No inode: TIME_WAIT, request sockets, children not yet accepted.
    KernelHeld,
    /// The holder list may be incomplete (other users' fds unreadable) and is empty.
    NotVisible,
    None,
}

impl Holders {
    pub(super) fn of(s: &Socket) -> Holders {
        let set: BTreeSet<HolderKey> = s.holders.iter().map(HolderKey::of).collect();
        if !set.is_empty() {
            Holders::Held(set)
        } else if s.inode == 0 {
            Holders::KernelHeld
        } else if s.holders_unknown.is_some() {
            Holders::NotVisible
        } else {
            Holders::None
        }
    }

    /// The processes, none when there are none (whatever the reason).
    pub fn members(&self) -> impl Iterator<Item = &HolderKey> {
        match self {
            Holders::Held(set) => Some(set.iter()),
            _ => None,
        }
        .into_iter()
        .flatten()
    }

    /// Whether the two name the same processes: why a list is empty is not a change.
    pub(super) fn same_members(&self, other: &Holders) -> bool {
        self.members().eq(other.members())
    }
}

impl Change<Holders> {
    /// The holders only in `after`.
    pub fn added(&self) -> Vec<&HolderKey> {
        let before: BTreeSet<&HolderKey> = self.before.members().collect();
        self.after
            .members()
            .filter(|h| !before.contains(h))
            .collect()
    }

    /// The holders only in `before`.
    pub fn removed(&self) -> Vec<&HolderKey> {
        let after: BTreeSet<&HolderKey> = self.after.members().collect();
        self.before
            .members()
            .filter(|h| !after.contains(h))
            .collect()
    }
}

/// A process holding a socket, as the diff compares it (not its fd). Ordered by pid.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct HolderKey {
    pub pid: u32,
    pub name: Arc<str>,
    pub user: HolderUser,
}

impl HolderKey {
    fn of(h: &crate::model::Holder) -> HolderKey {
        HolderKey {
            pid: h.pid,
            name: h.name.clone(),
            user: match &h.user {
                Some(u) => HolderUser::Name(u.clone()),
                None => HolderUser::Uid(h.uid),
            },
        }
    }
}

/// A holder's user by name, or its uid when the name is unknown.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum HolderUser {
    Name(Arc<str>),
    Uid(u32),
}

/// One field of a namespace that differs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NetnsField {
    Name(Change<Option<String>>),
    /// Whether bindscope could enter the namespace: `None` it did, else why not.
    Entered(Change<Option<String>>),
    /// A sysctl by its file name (`net.core.somaxconn`); `None` unknown. Values are as in
    /// the snapshot file, so a knob added to the model is compared without a change here.
    Sysctl {
        name: String,
        change: Change<Option<serde_json::Value>>,
    },
    /// The interface names.
    Interfaces(Change<BTreeSet<String>>),
    /// An interface of both sides whose link changed.
    Link {
        interface: String,
        change: Change<LinkState>,
    },
    /// Every address of every interface.
    Addresses(Change<BTreeSet<IfAddr>>),
    /// An address of both sides whose flags changed (a set: the kernel's order says nothing).
    AddressFlags {
        address: IfAddr,
        change: Change<BTreeSet<AddrFlag>>,
    },
    /// A TcpExt counter (by its file name, `ListenOverflows`) that rose; one that fell was
    /// reset and is not reported.
    CounterRose {
        name: String,
        change: Change<u64>,
    },
}

impl NetnsField {
    pub fn kind(&self) -> FieldKind {
        match self {
            NetnsField::Sysctl { change, .. } => match (&change.before, &change.after) {
                (None, Some(_)) => FieldKind::BecameKnown,
                (Some(_), None) => FieldKind::BecameUnknown,
                _ => FieldKind::Value,
            },
            _ => FieldKind::Value,
        }
    }
}

/// An interface's link: administratively up, and with carrier.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LinkState {
    pub up: bool,
    pub carrier: bool,
}

/// An address on an interface, with its prefix length.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct IfAddr {
    pub interface: String,
    pub addr: IpAddr,
    pub prefix_len: u8,
}

impl IfAddr {
    /// The address and prefix as they read (`10.0.0.1`, `8`): the order key.
    fn read_order(&self) -> (&str, String, String) {
        (
            &self.interface,
            self.addr.to_string(),
            self.prefix_len.to_string(),
        )
    }
}

/// In the order the addresses read (`eth0 10.0.0.1/8` before `eth0 9.0.0.1/8`), the order
/// reports have always listed them in; numeric order would reorder existing reports.
impl Ord for IfAddr {
    fn cmp(&self, other: &Self) -> Ordering {
        self.read_order().cmp(&other.read_order())
    }
}

impl PartialOrd for IfAddr {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
