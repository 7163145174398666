//! The audit protocol on top of netlink.

pub mod client;
pub mod errno;
pub mod records;
pub mod rules;
pub mod sinks;
pub mod status;
pub mod tables;
