//! Collection: kernel sources → raw facts → the model.

pub mod raw;
#[cfg(target_os = "linux")]
pub mod linux;
