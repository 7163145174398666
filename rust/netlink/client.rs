//! A generic netlink client for any protocol: send a message with an
//! automatic sequence number and port id, receive one datagram split into
//! messages. It runs on the same [`Connection`] as the audit client, without
//! the audit client's request/reply matching.

use std::os::fd::{AsFd, RawFd};
use std::sync::atomic::Ordering;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use crate::error::{Error, Result};
use crate::netlink::connection::{Connection, LinkStats, Read, Tee};
use crate::netlink::message::{self, NetlinkMessage};
use crate::netlink::socket::{Datagrams, NetlinkSocket};
use crate::netlink::transport::Transport;

/// Default read buffer: 64 KiB, so that no netlink datagram a kernel family
/// sends by default is cut short.
pub const DEFAULT_NETLINK_READ_BUFFER: usize = 64 * 1024;

#[derive(Debug)]
pub struct NetlinkClient {
    conn: Connection,
    /// One slot: `receive` returns one datagram at a time.
    slot: Mutex<Datagrams>,
}

impl NetlinkClient {
    pub fn open(
        protocol: u32,
        groups: u32,
        read_buffer_size: Option<usize>,
        tee: Option<Tee>,
    ) -> Result<Self> {
        let sock = NetlinkSocket::open(protocol, groups)?;
        Self::with_transport(Transport::Netlink(sock), read_buffer_size, tee)
    }

    pub fn with_transport(
        transport: Transport,
        read_buffer_size: Option<usize>,
        tee: Option<Tee>,
    ) -> Result<Self> {
        let size = read_buffer_size.unwrap_or(DEFAULT_NETLINK_READ_BUFFER);
        if size < message::NLMSG_HDRLEN {
            return Err(Error::InvalidArgument(format!(
                "read_buffer_size must be at least {} bytes, got {size}",
                message::NLMSG_HDRLEN
            )));
        }
        Ok(NetlinkClient {
            conn: Connection::new(transport, tee)?,
            slot: Mutex::new(Datagrams::new(size, 1)),
        })
    }

    pub fn port_id(&self) -> u32 {
        self.conn.port_id()
    }

    pub fn fileno(&self) -> RawFd {
        self.conn.fileno()
    }

    /// Transport counters (foreign senders, truncated datagrams, overruns).
    pub fn stats(&self) -> &LinkStats {
        self.conn.stats()
    }

    /// Datagrams dropped because they did not come from the kernel.
    pub fn foreign_dropped(&self) -> u64 {
        self.conn.stats().foreign_dropped.load(Ordering::Relaxed)
    }

    /// Datagrams dropped because they were longer than the read buffer.
    pub fn truncated(&self) -> u64 {
        self.conn.stats().truncated.load(Ordering::Relaxed)
    }

    /// Send one message; returns the sequence number used. The header's
    /// port id is this socket's.
    pub fn send(&self, msg_type: u16, flags: u16, payload: &[u8]) -> Result<u32> {
        let (seq, datagram) = self.conn.encode(msg_type, flags, payload)?;
        self.conn.send(&datagram)?;
        Ok(seq)
    }

    /// Receive one datagram from the kernel, split into messages. None when
    /// the timeout passes first (Some(ZERO) = only what is queued).
    pub fn receive(&self, timeout: Option<Duration>) -> Result<Option<Vec<NetlinkMessage>>> {
        let deadline = timeout.map(|t| Instant::now() + t);
        let mut slot = self.slot.lock().unwrap_or_else(|p| p.into_inner());
        match self.conn.read(&mut slot, deadline, || {})? {
            Read::Datagrams => {}
            Read::Nothing => return Ok(None),
            Read::Woken => return Err(Error::Closed),
        }
        let Some((_, datagram)) = slot.get(0) else {
            return Ok(None);
        };
        message::messages(datagram)
            .map(|m| m.map(|m| m.to_owned()))
            .collect::<Result<Vec<_>>>()
            .map(Some)
    }

    pub fn shutdown(&self) {
        self.conn.shutdown();
    }
}

impl AsFd for NetlinkClient {
    fn as_fd(&self) -> std::os::fd::BorrowedFd<'_> {
        self.conn.as_fd()
    }
}
