//! Netlink plumbing: the transports (netlink socket, test socketpair), the
//! message framing, and the connection core both clients share.

pub mod client;
pub mod connection;
pub mod framed;
pub mod message;
pub mod socket;
pub mod transport;

pub use framed::FramedSocket;
pub use transport::Transport;
