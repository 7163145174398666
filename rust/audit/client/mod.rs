//! The audit request/reply client: options, construction and lifecycle.
//!
//! One socket is shared by every thread using the client. Whoever needs
//! something from the socket — a reply to its request, or the next event
//! record — becomes the *reader* if nobody else is: it receives datagrams and
//! dispatches every message it reads to where it belongs:
//!
//! - a message whose sequence number belongs to a pending request goes to
//!   that request (acks, replies, NLMSG_DONE);
//! - a nonzero sequence number nobody waits for is a stale reply to an
//!   abandoned request: counted and dropped;
//! - sequence number 0 is a kernel event record: queued for `receive()`.
//!
//! Threads that are not the reader wait on a condition variable until the
//! reader has dispatched what they want, or until they can take over reading.
//! So one thread may block in `receive()` while another calls `get_status()`,
//! and neither steals the other's messages.
//!
//! Every wait has a deadline; `shutdown()` (from any thread) wakes all waiters
//! through an eventfd that readers poll beside the socket.
//!
//! Files: `requests` (send, match, batch), `status_calls` (AUDIT_GET/SET and
//! daemon registration), `queue` (event records: `receive`,
//! `receive_batch`), `reader` (the reader hand-over and dispatch), `stats`.

use std::collections::{HashMap, VecDeque};
use std::os::fd::{AsFd, RawFd};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Condvar, Mutex};
use std::time::Duration;

use crate::error::{Error, Result};
use crate::netlink::connection::Connection;
use crate::netlink::message;
use crate::netlink::socket::{Datagrams, NetlinkSocket, MAX_SLOTS};
use crate::netlink::transport::Transport;

mod queue;
mod reader;
mod requests;
mod stats;
mod status_calls;
#[cfg(test)]
mod tests;

pub use crate::netlink::connection::Tee;
pub use queue::{Batch, EventRecord};
pub use stats::{Stats, StatsSnapshot};

use requests::Pending;

/// NETLINK_AUDIT protocol number (include/uapi/linux/netlink.h).
pub const NETLINK_AUDIT: u32 = 9;
/// AUDIT_NLGRP_READLOG: the read-only multicast group (include/uapi/linux/audit.h).
pub const AUDIT_NLGRP_READLOG: u32 = 1;
/// MAX_AUDIT_MESSAGE_LENGTH from libaudit.h: the largest record payload.
pub const AUDIT_MESSAGE_MAX_LENGTH: usize = 8970;

/// Default receive buffer: any audit datagram fits with room to spare
/// (a record is at most AUDIT_MESSAGE_MAX_LENGTH + header; rule lists and
/// multi-message datagrams are larger).
pub const DEFAULT_READ_BUFFER: usize = 64 * 1024;
/// Default `linger` of [`AuditClient::receive_batch`].
pub const DEFAULT_LINGER: Duration = Duration::from_micros(500);
/// Default time to wait for a reply.
pub const DEFAULT_REPLY_TIMEOUT: Duration = Duration::from_secs(5);
/// Event records kept for `receive()` while nobody reads them (e.g. during a
/// long request wait under load); beyond this they are counted and dropped.
pub const DEFAULT_QUEUE_LIMIT_BYTES: usize = 64 * 1024 * 1024;
/// Largest datagram `request_batch` packs (well below the default netlink
/// send buffer, net.core.wmem_default).
pub const BATCH_DATAGRAM_BYTES: usize = 64 * 1024;

/// Receive slots per client: up to MAX_SLOTS datagrams per syscall, within
/// about 1 MiB of buffers.
const RECV_ARENA_BYTES: usize = 1 << 20;

/// Whether a control call waits for the kernel's ack.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum WaitMode {
    WaitForReply,
    NoWait,
}

impl From<bool> for WaitMode {
    /// `true` = wait for the ack.
    fn from(wait: bool) -> Self {
        if wait {
            WaitMode::WaitForReply
        } else {
            WaitMode::NoWait
        }
    }
}

/// Options for [`AuditClient::open`].
#[derive(Debug, Clone)]
pub struct ClientOptions {
    /// Multicast groups to bind (0 = unicast client; 1 << (AUDIT_NLGRP_READLOG-1) = listener).
    pub groups: u32,
    pub read_buffer_size: usize,
    /// SO_RCVBUF(FORCE) to request, if any.
    pub receive_buffer_size: Option<usize>,
    pub reply_timeout: Duration,
    pub queue_limit_bytes: usize,
}

impl Default for ClientOptions {
    fn default() -> Self {
        ClientOptions {
            groups: 0,
            read_buffer_size: DEFAULT_READ_BUFFER,
            receive_buffer_size: None,
            reply_timeout: DEFAULT_REPLY_TIMEOUT,
            queue_limit_bytes: DEFAULT_QUEUE_LIMIT_BYTES,
        }
    }
}

/// What the threads sharing a client share, under one mutex.
struct State {
    /// A thread is reading the socket (and holds `dg`).
    reader_active: bool,
    /// Receive slots; taken by whichever thread is the reader.
    dg: Option<Datagrams>,
    events: VecDeque<EventRecord>,
    queued_bytes: usize,
    pending: HashMap<u32, Pending>,
    /// Closing a registered client: drop records instead of queueing them.
    discard_events: bool,
}

/// The audit client. Share it between threads by reference or `Arc`.
pub struct AuditClient {
    conn: Connection,
    state: Mutex<State>,
    cond: Condvar,
    registered: AtomicBool,
    opts: ClientOptions,
    stats: Stats,
}

impl std::fmt::Debug for AuditClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AuditClient")
            .field("port_id", &self.port_id())
            .field("closed", &self.is_closed())
            .finish()
    }
}

impl AuditClient {
    /// Open a NETLINK_AUDIT socket.
    pub fn open(opts: ClientOptions, tee: Option<Tee>) -> Result<Self> {
        let mut sock = NetlinkSocket::open(NETLINK_AUDIT, opts.groups).map_err(|e| match e {
            // Binding the multicast group needs CAP_AUDIT_READ; say so.
            Error::Io { op, source } if opts.groups != 0 => Error::Io {
                op: if source.raw_os_error() == Some(libc::EPERM) {
                    "bind(AUDIT_NLGRP_READLOG) needs CAP_AUDIT_READ"
                } else {
                    op
                },
                source,
            },
            e => e,
        })?;
        // A unicast client hears only the kernel; a multicast listener keeps
        // checking each datagram's sender.
        if opts.groups == 0 {
            sock.connect_to_kernel()?;
        }
        Self::with_transport(Transport::Netlink(sock), opts, tee)
    }

    /// Build a client on any transport (the fake kernel's socketpair in tests).
    pub fn with_transport(
        transport: Transport,
        opts: ClientOptions,
        tee: Option<Tee>,
    ) -> Result<Self> {
        if opts.read_buffer_size < message::NLMSG_HDRLEN {
            return Err(Error::InvalidArgument(format!(
                "read_buffer_size must be at least {} bytes",
                message::NLMSG_HDRLEN
            )));
        }
        if let Some(size) = opts.receive_buffer_size {
            transport.set_recv_buffer_size(size)?;
        }
        let slots = (RECV_ARENA_BYTES / opts.read_buffer_size).clamp(1, MAX_SLOTS);
        let state = State {
            reader_active: false,
            dg: Some(Datagrams::new(opts.read_buffer_size, slots)),
            events: VecDeque::new(),
            queued_bytes: 0,
            pending: HashMap::new(),
            discard_events: false,
        };
        Ok(AuditClient {
            conn: Connection::new(transport, tee)?,
            state: Mutex::new(state),
            cond: Condvar::new(),
            registered: AtomicBool::new(false),
            opts,
            stats: Stats::default(),
        })
    }

    pub fn port_id(&self) -> u32 {
        self.conn.port_id()
    }

    pub fn fileno(&self) -> RawFd {
        self.conn.fileno()
    }

    pub fn stats(&self) -> StatsSnapshot {
        self.stats.snapshot(self.conn.stats())
    }

    pub fn is_closed(&self) -> bool {
        self.conn.is_closed()
    }

    /// True while this client is registered as the audit daemon (set_pid).
    pub fn is_registered(&self) -> bool {
        self.registered.load(Ordering::Acquire)
    }

    pub fn reply_timeout(&self) -> Duration {
        self.opts.reply_timeout
    }

    /// The socket receive buffer size the kernel granted (SO_RCVBUF).
    pub fn receive_buffer_size(&self) -> Result<usize> {
        self.conn.transport().recv_buffer_size()
    }

    /// ENOBUFS overruns seen so far (cheap: one atomic load).
    pub fn overruns(&self) -> u64 {
        self.conn.stats().overruns.load(Ordering::Relaxed)
    }

    /// Set SO_RCVBUF(FORCE); returns the size granted.
    pub fn set_receive_buffer_size(&self, size: usize) -> Result<usize> {
        self.conn.transport().set_recv_buffer_size(size)
    }

    /// Mark closed and wake every thread waiting in this client. Safe to call
    /// from any thread, any number of times.
    pub fn shutdown(&self) {
        self.conn.shutdown();
        self.cond.notify_all();
    }

    /// Unregister if registered, then shut down.
    pub fn close(&self) -> Result<()> {
        let res = if self.is_registered() && !self.is_closed() {
            self.unregister()
        } else {
            Ok(())
        };
        self.shutdown();
        res
    }
}

impl AsFd for AuditClient {
    fn as_fd(&self) -> std::os::fd::BorrowedFd<'_> {
        self.conn.as_fd()
    }
}

impl Drop for AuditClient {
    fn drop(&mut self) {
        if self.is_registered() && !self.is_closed() {
            let _ = self.unregister();
        }
    }
}
