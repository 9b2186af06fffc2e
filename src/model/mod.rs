//! Plain data with serde and no I/O: what a snapshot says about a host.
//!
//! Every type is `Eq` and `Hash` (there are no floats), so a cache can fingerprint the data
//! it was made from: the dashboard hashes whole snapshots to know when to analyse again.

pub mod addr;
pub mod container;
pub mod dashboard;
pub mod finding_kind;
pub mod host;
pub mod ids;
pub mod names;
pub mod options;
pub mod snapshot;
pub mod socket;
pub mod time;

pub use container::{Container, Pod, Runtime};
pub use finding_kind::FindingKind;
pub use host::{
    AddrFlag, AddrScope, Host, Interface, InterfaceAddr, Netns, NetnsKind, Privileges, Sysctls,
    TcpExtCounters,
};
pub use ids::{NetnsId, SocketId};
pub use options::{Missing, OptionName, OptionState, OptionValue, Options, Reason};
pub use snapshot::{FORMAT, Finding, Mark, PortKey, ScanStats, Severity, Snapshot, VERSION, View};
pub use socket::{AcceptQueue, AddressState, Family, Holder, Proto, Scope, Socket, State};
pub use time::{TakenAt, TimeError, Timestamp};
