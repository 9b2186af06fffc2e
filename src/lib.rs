//! bindscope: who owns every bound port.
//!
//! - [`model`]: plain data (the snapshot file format), no I/O.
//! - [`collect`]: the Linux collector over injectable sources, and the pure join.
pub mod collect;
pub mod model;
