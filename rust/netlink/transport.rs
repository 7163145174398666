//! The transport seam: "send one datagram", "receive the queued datagrams with
//! their senders' port ids". The real transport is a netlink socket, the test
//! transport a framed socketpair; everything above uses the same code for
//! both. Also the [`Waker`] that ends a blocked wait from another thread.

use std::io;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd, RawFd};
use std::time::Instant;

use rustix::event::{EventfdFlags, PollFd, PollFlags, Timespec};

use crate::error::{Error, Result};
use crate::netlink::framed::FramedSocket;
use crate::netlink::socket::{recv_buffer_size, Datagrams, NetlinkSocket};

/// Either transport; a connection holds one of these.
#[derive(Debug)]
pub enum Transport {
    Netlink(NetlinkSocket),
    Framed(FramedSocket),
}

impl Transport {
    pub fn port_id(&self) -> u32 {
        match self {
            Transport::Netlink(s) => s.port_id(),
            Transport::Framed(s) => s.port_id(),
        }
    }

    pub fn send(&self, datagram: &[u8]) -> io::Result<usize> {
        match self {
            Transport::Netlink(s) => s.send(datagram),
            Transport::Framed(s) => s.send(datagram),
        }
    }

    /// Nonblocking: read what is queued, up to one datagram per slot of
    /// `into`; EAGAIN if nothing is.
    pub fn recv_many(&self, into: &mut Datagrams) -> io::Result<()> {
        match self {
            Transport::Netlink(s) => s.recv_many(into),
            Transport::Framed(s) => s.recv_many(into),
        }
    }

    /// Ask for a receive buffer of `size` bytes; returns the size granted.
    pub fn set_recv_buffer_size(&self, size: usize) -> Result<usize> {
        match self {
            Transport::Netlink(s) => s.set_recv_buffer_size(size),
            Transport::Framed(s) => s.set_recv_buffer_size(size),
        }
    }

    /// The current SO_RCVBUF (what the kernel granted).
    pub fn recv_buffer_size(&self) -> Result<usize> {
        recv_buffer_size(self)
    }

    pub fn raw_fd(&self) -> RawFd {
        self.as_fd().as_raw_fd()
    }
}

impl AsFd for Transport {
    fn as_fd(&self) -> BorrowedFd<'_> {
        match self {
            Transport::Netlink(s) => s.as_fd(),
            Transport::Framed(s) => s.as_fd(),
        }
    }
}

/// Wakes threads blocked in [`Waker::wait_until`] from any other thread (an
/// eventfd polled beside the socket): how `close()` ends a blocked read.
#[derive(Debug)]
pub struct Waker {
    fd: OwnedFd,
}

impl Waker {
    pub fn new() -> Result<Self> {
        let fd = rustix::event::eventfd(0, EventfdFlags::CLOEXEC | EventfdFlags::NONBLOCK)
            .map_err(|e| Error::io("eventfd", e))?;
        Ok(Waker { fd })
    }

    /// Wake every current and future waiter (the eventfd stays readable).
    pub fn wake(&self) {
        // Only fails if the counter would overflow, i.e. it is already set.
        let _ = rustix::io::write(&self.fd, &1u64.to_ne_bytes());
    }

    /// Wait until `socket` is readable, `deadline` passes (None = no limit), or
    /// [`Waker::wake`] was called.
    pub fn wait_until(&self, socket: &impl AsFd, deadline: Option<Instant>) -> Result<Wait> {
        let ts = match deadline {
            None => None,
            Some(d) => {
                let left = d.saturating_duration_since(Instant::now());
                if left.is_zero() {
                    return Ok(Wait::Expired);
                }
                Some(Timespec {
                    tv_sec: left.as_secs().min(i64::MAX as u64) as i64,
                    tv_nsec: left.subsec_nanos().into(),
                })
            }
        };
        let mut fds = [
            PollFd::new(socket, PollFlags::IN),
            PollFd::new(&self.fd, PollFlags::IN),
        ];
        match rustix::event::poll(&mut fds, ts.as_ref()) {
            Ok(_) | Err(rustix::io::Errno::INTR) => {}
            Err(e) => return Err(Error::io("poll", e)),
        }
        Ok(if !fds[1].revents().is_empty() {
            Wait::Woken
        } else {
            Wait::Ready
        })
    }
}

/// How [`Waker::wait_until`] ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Wait {
    /// The socket may have data (or the poll was interrupted: look again).
    Ready,
    /// The deadline had passed.
    Expired,
    /// [`Waker::wake`] was called.
    Woken,
}
