//! A generic netlink client (the seed API's `NetlinkClient`): send a message
//! with an automatic sequence number and port id, receive one datagram split
//! into messages. Protocol-agnostic; the audit client builds on the same
//! socket and framing code but adds request/reply matching.

use std::io;
use std::os::fd::{AsFd, RawFd};
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use crate::error::{Error, Result};
use crate::netlink::message::{self, NetlinkMessage};
use crate::netlink::socket::{NetlinkSocket, Transport, Wait, Waker};

/// Default read buffer: the page size in the seed API; 64 KiB here so that no
/// netlink datagram a kernel family sends by default is cut short.
pub const DEFAULT_NETLINK_READ_BUFFER: usize = 64 * 1024;

pub type Tee = Box<dyn Fn(&[u8]) + Send + Sync>;

pub struct NetlinkClient {
    transport: Transport,
    wake: Waker,
    seq: AtomicU32,
    buf: Mutex<Vec<u8>>,
    closed: AtomicBool,
    tee: Option<Tee>,
    /// Datagrams dropped because they did not come from the kernel.
    pub foreign_dropped: AtomicU64,
}

impl std::fmt::Debug for NetlinkClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NetlinkClient")
            .field("port_id", &self.transport.port_id())
            .finish()
    }
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
        let wake = Waker::new()?;
        Ok(NetlinkClient {
            transport,
            wake,
            seq: AtomicU32::new(1),
            buf: Mutex::new(vec![0; size]),
            closed: AtomicBool::new(false),
            tee,
            foreign_dropped: AtomicU64::new(0),
        })
    }

    pub fn port_id(&self) -> u32 {
        self.transport.port_id()
    }

    pub fn fileno(&self) -> RawFd {
        self.transport.raw_fd()
    }

    /// Send one message; returns the sequence number used. The header's
    /// port id is this socket's.
    pub fn send(&self, msg_type: u16, flags: u16, payload: &[u8]) -> Result<u32> {
        if self.closed.load(Ordering::Acquire) {
            return Err(Error::Closed);
        }
        let seq = loop {
            let s = self.seq.fetch_add(1, Ordering::Relaxed);
            if s != 0 {
                break s;
            }
        };
        let datagram = message::encode(msg_type, flags, seq, self.port_id(), payload)?;
        loop {
            match self.transport.send(&datagram) {
                Ok(_) => return Ok(seq),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(Error::io("send", e)),
            }
        }
    }

    /// Receive one datagram from the kernel, split into messages. None when
    /// the timeout passes first (Some(ZERO) = nonblocking).
    pub fn receive(&self, timeout: Option<Duration>) -> Result<Option<Vec<NetlinkMessage>>> {
        let deadline = timeout.map(|t| Instant::now() + t);
        let mut buf = self.buf.lock().unwrap_or_else(|p| p.into_inner());
        loop {
            if self.closed.load(Ordering::Acquire) {
                return Err(Error::Closed);
            }
            match self.transport.recv(&mut buf, true) {
                Ok(r) => {
                    if let Some(tee) = &self.tee {
                        tee(&buf[..r.len]);
                    }
                    if r.sender != 0 {
                        self.foreign_dropped.fetch_add(1, Ordering::Relaxed);
                        continue;
                    }
                    if r.truncated {
                        return Err(Error::Malformed(format!(
                            "datagram truncated to the {}-byte read buffer",
                            buf.len()
                        )));
                    }
                    return message::messages(&buf[..r.len])
                        .map(|m| m.map(|m| m.to_owned()))
                        .collect::<Result<Vec<_>>>()
                        .map(Some);
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(Error::io("recv", e)),
            }
            if self.wake.wait_until(&self.transport, deadline)? == Wait::Expired {
                return Ok(None);
            }
        }
    }

    pub fn shutdown(&self) {
        self.closed.store(true, Ordering::Release);
        self.wake.wake();
    }
}

impl AsFd for NetlinkClient {
    fn as_fd(&self) -> std::os::fd::BorrowedFd<'_> {
        self.transport.as_fd()
    }
}
