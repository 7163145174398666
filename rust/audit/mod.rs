//! The audit protocol on top of netlink.

pub mod affinity;
pub mod client;
pub mod daemon;
pub mod enrich;
pub mod errno;
pub mod normalize;
pub mod packed;
pub mod records;
pub mod rules;
pub mod search;
pub mod sinks;
pub mod status;
pub mod tables;
