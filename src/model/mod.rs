//! Plain data with serde and no I/O: what a snapshot says about a host.

pub mod host;
pub mod ids;
pub mod snapshot;
pub mod socket;

pub use host::{
    AddrFlag, Host, Interface, InterfaceAddr, Netns, Privileges, Sysctls, TcpExtCounters,
};
pub use ids::{NetnsId, SocketId};
pub use snapshot::{Finding, Mark, ScanStats, Severity, Snapshot, View, FORMAT, VERSION};
pub use socket::{AcceptQueue, AddressState, Family, Holder, Options, Proto, Scope, Socket, State};
