//! The connection core both clients share: one transport, atomic sequence
//! numbers, the EINTR-safe send, the closed flag and the waker that ends a
//! blocked wait, and the receive step (tee, sender and truncation checks,
//! ENOBUFS counting) that every datagram goes through.

use std::io;
use std::os::fd::{AsFd, BorrowedFd, RawFd};
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering};
use std::time::Instant;

use crate::error::{Error, Result};
use crate::netlink::message;
use crate::netlink::socket::{Datagrams, Received};
use crate::netlink::transport::{Transport, Wait, Waker};

/// A hook that sees a copy of every datagram read, before any check.
pub type Tee = Box<dyn Fn(&[u8]) + Send + Sync>;

/// What the receive step counts (atomics: readable at any time).
#[derive(Debug, Default)]
pub struct LinkStats {
    /// Datagrams read from the socket (all kinds).
    pub datagrams: AtomicU64,
    /// ENOBUFS: the socket's receive buffer overflowed and the kernel dropped data.
    pub overruns: AtomicU64,
    /// Datagrams dropped because they did not come from the kernel (port id != 0).
    pub foreign_dropped: AtomicU64,
    /// Datagrams dropped because they were longer than the read buffer.
    pub truncated: AtomicU64,
}

/// Result of one [`Connection::read`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Read {
    /// Datagrams from the kernel are in the slots.
    Datagrams,
    /// None before the deadline.
    Nothing,
    /// [`Connection::shutdown`] was called.
    Woken,
}

/// One transport plus what every client does with it.
pub struct Connection {
    transport: Transport,
    wake: Waker,
    seq: AtomicU32,
    closed: AtomicBool,
    tee: Option<Tee>,
    stats: LinkStats,
}

impl std::fmt::Debug for Connection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Connection")
            .field("port_id", &self.port_id())
            .field("closed", &self.is_closed())
            .finish()
    }
}

impl Connection {
    pub fn new(transport: Transport, tee: Option<Tee>) -> Result<Self> {
        Ok(Connection {
            transport,
            wake: Waker::new()?,
            // Sequence numbers start at 1: 0 marks kernel-originated records.
            seq: AtomicU32::new(1),
            closed: AtomicBool::new(false),
            tee,
            stats: LinkStats::default(),
        })
    }

    pub fn transport(&self) -> &Transport {
        &self.transport
    }

    pub fn port_id(&self) -> u32 {
        self.transport.port_id()
    }

    pub fn fileno(&self) -> RawFd {
        self.transport.raw_fd()
    }

    pub fn stats(&self) -> &LinkStats {
        &self.stats
    }

    pub fn is_closed(&self) -> bool {
        self.closed.load(Ordering::Acquire)
    }

    /// Mark closed and wake every thread waiting in [`Connection::read`].
    /// Safe from any thread, any number of times.
    pub fn shutdown(&self) {
        self.closed.store(true, Ordering::Release);
        self.wake.wake();
    }

    /// The next sequence number, never 0 (which marks kernel records).
    pub fn next_seq(&self) -> u32 {
        loop {
            let s = self.seq.fetch_add(1, Ordering::Relaxed);
            if s != 0 {
                return s;
            }
        }
    }

    /// One message with the next sequence number and this socket's port id:
    /// (sequence number, encoded bytes).
    pub fn encode(&self, msg_type: u16, flags: u16, payload: &[u8]) -> Result<(u32, Vec<u8>)> {
        let mut bytes = Vec::new();
        let seq = self.encode_into(&mut bytes, msg_type, flags, payload)?;
        Ok((seq, bytes))
    }

    /// [`Connection::encode`], appended to `out`; returns the sequence number.
    pub fn encode_into(
        &self,
        out: &mut Vec<u8>,
        msg_type: u16,
        flags: u16,
        payload: &[u8],
    ) -> Result<u32> {
        let seq = self.next_seq();
        message::encode_into(out, msg_type, flags, seq, self.port_id(), payload)?;
        Ok(seq)
    }

    /// Send one datagram to the kernel, retrying on EINTR.
    pub fn send(&self, datagram: &[u8]) -> Result<()> {
        if self.is_closed() {
            return Err(Error::Closed);
        }
        loop {
            match self.transport.send(datagram) {
                Ok(_) => return Ok(()),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(Error::io("send", e)),
            }
        }
    }

    /// Wait (up to `deadline`; None = no limit) for datagrams from the kernel
    /// and read what is queued into `dg`, several per syscall. Foreign and
    /// truncated datagrams are counted and dropped; ENOBUFS is counted,
    /// reported to `on_overrun`, and reading goes on.
    pub fn read(
        &self,
        dg: &mut Datagrams,
        deadline: Option<Instant>,
        on_overrun: impl Fn(),
    ) -> Result<Read> {
        loop {
            if self.is_closed() {
                return Ok(Read::Woken);
            }
            match self.transport.recv_many(dg) {
                Ok(()) => {
                    self.stats
                        .datagrams
                        .fetch_add(dg.len() as u64, Ordering::Relaxed);
                    dg.retain(|r, bytes| self.accept(r, bytes));
                    if !dg.is_empty() {
                        return Ok(Read::Datagrams);
                    }
                    continue;
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) if e.raw_os_error() == Some(libc::ENOBUFS) => {
                    self.stats.overruns.fetch_add(1, Ordering::Relaxed);
                    on_overrun();
                    continue;
                }
                Err(e) => return Err(Error::io("recv", e)),
            }
            // Nothing queued: poll the socket and the wake fd.
            match self.wake.wait_until(&self.transport, deadline)? {
                Wait::Ready => {}
                Wait::Expired => return Ok(Read::Nothing),
                Wait::Woken => return Ok(Read::Woken),
            }
        }
    }

    /// Show a received datagram to the tee, and say whether to use it: only
    /// what the kernel sent, and only whole.
    fn accept(&self, r: Received, bytes: &[u8]) -> bool {
        if let Some(tee) = &self.tee {
            tee(bytes);
        }
        if r.sender != 0 {
            self.stats.foreign_dropped.fetch_add(1, Ordering::Relaxed);
            return false;
        }
        if r.truncated {
            self.stats.truncated.fetch_add(1, Ordering::Relaxed);
            return false;
        }
        true
    }
}

impl AsFd for Connection {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.transport.as_fd()
    }
}
