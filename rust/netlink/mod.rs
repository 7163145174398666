//! Netlink plumbing: the socket (fd owner) and the message framing.

pub mod client;
pub mod message;
pub mod socket;
