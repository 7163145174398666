//! auditlink's Rust core: NETLINK_AUDIT sockets, netlink framing, the audit
//! message codecs and the request/reply client. Nothing in the core uses pyo3;
//! the `bindings` module (feature `python`) is the only place that does.

pub mod audit;
pub mod error;
pub mod netlink;

#[cfg(feature = "python")]
mod bindings;

pub use error::{Error, Result};
