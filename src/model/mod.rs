//! Plain data with serde and no I/O: what a snapshot says about a host.

pub mod host;
pub mod ids;
pub mod snapshot;
pub mod socket;

pub use host::{
    AddrFlag, Host, Interface, InterfaceAddr, Netns, NetnsKind, Privileges, Sysctls, TcpExtCounters,
};
pub use ids::{NetnsId, SocketId};
pub use snapshot::{FORMAT, Finding, Mark, ScanStats, Severity, Snapshot, VERSION, View};
pub use socket::{
    AcceptQueue, AddressState, Family, Holder, OptionName, Options, Proto, Reason, Scope, Socket,
    State,
};
