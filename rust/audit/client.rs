//! The audit request/reply client.
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

use crate::audit::tables::msg;
use std::collections::{HashMap, VecDeque};
use std::io;
use std::os::fd::{AsFd, RawFd};
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering};
use std::sync::{Condvar, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use crate::audit::errno::NetlinkAck;
use crate::audit::status::{self, AuditStatus};
use crate::error::{Error, Result};
use crate::netlink::message::{
    self, MessageRef, NetlinkMessage, NLMSG_DONE, NLMSG_ERROR, NLMSG_NOOP, NLM_F_ACK, NLM_F_REQUEST,
};
use crate::netlink::socket::{
    Datagrams, NetlinkSocket, Received, Transport, Wait, Waker, MAX_SLOTS,
};

// Command message types from include/uapi/linux/audit.h.
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

/// Whether a control call waits for the kernel's ack.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum WaitMode {
    WaitForReply,
    NoWait,
}

/// Counters, readable at any time without locking.
#[derive(Debug, Default)]
pub struct Stats {
    pub messages: AtomicU64,
    pub bytes: AtomicU64,
    pub datagrams: AtomicU64,
    pub overruns: AtomicU64,
    pub foreign_dropped: AtomicU64,
    pub truncated: AtomicU64,
    pub malformed: AtomicU64,
    pub stale_replies: AtomicU64,
    pub queue_dropped: AtomicU64,
}

/// A plain copy of [`Stats`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct StatsSnapshot {
    /// Event records delivered or queued (not replies).
    pub messages: u64,
    /// Payload bytes of those records.
    pub bytes: u64,
    /// Datagrams read from the socket (all kinds).
    pub datagrams: u64,
    /// ENOBUFS: the socket's receive buffer overflowed and the kernel dropped data.
    pub overruns: u64,
    /// Datagrams dropped because they did not come from the kernel (port id != 0).
    pub foreign_dropped: u64,
    /// Datagrams larger than the read buffer (the tail was lost).
    pub truncated: u64,
    /// Datagrams that did not split into valid netlink messages.
    pub malformed: u64,
    /// Replies to requests nobody waits for any more.
    pub stale_replies: u64,
    /// Records dropped because the internal queue was over its limit.
    pub queue_dropped: u64,
}

impl Stats {
    pub fn snapshot(&self) -> StatsSnapshot {
        let g = |a: &AtomicU64| a.load(Ordering::Relaxed);
        StatsSnapshot {
            messages: g(&self.messages),
            bytes: g(&self.bytes),
            datagrams: g(&self.datagrams),
            overruns: g(&self.overruns),
            foreign_dropped: g(&self.foreign_dropped),
            truncated: g(&self.truncated),
            malformed: g(&self.malformed),
            stale_replies: g(&self.stale_replies),
            queue_dropped: g(&self.queue_dropped),
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

/// A hook that sees a copy of every datagram read (the seed API's `resp`).
pub type Tee = Box<dyn Fn(&[u8]) + Send + Sync>;

/// What a request waits for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Want {
    /// Just the ack.
    Ack,
    /// The ack and one reply of this type (AUDIT_GET-style).
    Reply(u16),
    /// The ack and replies up to NLMSG_DONE (AUDIT_LIST_RULES-style).
    Dump,
}

#[derive(Debug)]
struct Pending {
    op: String,
    want: Want,
    ack: Option<i32>,
    replies: Vec<NetlinkMessage>,
    done: bool,
    /// Sent with WaitMode::NoWait: collected by `wait_for_pending_acks`.
    no_wait: bool,
    /// The socket overran while this request was in flight: its ack may be gone.
    overrun: bool,
}

impl Pending {
    fn complete(&self) -> bool {
        match (self.want, self.ack) {
            (_, Some(e)) if e < 0 => true,
            (Want::Ack, Some(_)) => true,
            (Want::Reply(_), Some(_)) => !self.replies.is_empty(),
            (Want::Dump, Some(_)) => self.done,
            (_, None) => false,
        }
    }
}

/// One event record as read from the socket.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EventRecord {
    pub msg_type: u16,
    pub payload: Vec<u8>,
}

/// Records packed into one buffer: the fast path's output, so a batch costs
/// no allocation per record. `entries[i]` = (type, start, end) into `data`.
#[derive(Debug, Default)]
pub struct Batch {
    pub data: Vec<u8>,
    pub entries: Vec<(u16, u32, u32)>,
}

impl Batch {
    pub fn clear(&mut self) {
        self.data.clear();
        self.entries.clear();
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    fn push(&mut self, msg_type: u16, payload: &[u8]) {
        let start = self.data.len();
        self.data.extend_from_slice(payload);
        // A batch holds at most a few MiB; u32 offsets are ample.
        self.entries
            .push((msg_type, start as u32, self.data.len() as u32));
    }

    /// The i-th record's type and payload.
    pub fn get(&self, i: usize) -> Option<(u16, &[u8])> {
        let &(t, s, e) = self.entries.get(i)?;
        Some((t, self.data.get(s as usize..e as usize)?))
    }
}

struct State {
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
    transport: Transport,
    wake: Waker,
    seq: AtomicU32,
    state: Mutex<State>,
    cond: Condvar,
    closed: AtomicBool,
    registered: AtomicBool,
    opts: ClientOptions,
    tee: Option<Tee>,
    stats: Stats,
}

impl std::fmt::Debug for AuditClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AuditClient")
            .field("port_id", &self.transport.port_id())
            .field("closed", &self.closed.load(Ordering::Relaxed))
            .finish()
    }
}

/// Result of one attempt at reading.
enum Read {
    /// Datagrams from the kernel are in the slots.
    Datagrams,
    /// None before the deadline.
    Nothing,
    /// shutdown() was called.
    Woken,
}

/// Receive slots per client: up to MAX_SLOTS datagrams per syscall, within
/// about 1 MiB of buffers.
const RECV_ARENA_BYTES: usize = 1 << 20;

impl AuditClient {
    /// Open a NETLINK_AUDIT socket.
    pub fn open(opts: ClientOptions, tee: Option<Tee>) -> Result<Self> {
        let sock = NetlinkSocket::open(NETLINK_AUDIT, opts.groups).map_err(|e| match e {
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
        let wake = Waker::new()?;
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
            transport,
            wake,
            // Sequence numbers start at 1: 0 marks kernel-originated records.
            seq: AtomicU32::new(1),
            state: Mutex::new(state),
            cond: Condvar::new(),
            closed: AtomicBool::new(false),
            registered: AtomicBool::new(false),
            opts,
            tee,
            stats: Stats::default(),
        })
    }

    pub fn port_id(&self) -> u32 {
        self.transport.port_id()
    }

    pub fn fileno(&self) -> RawFd {
        self.transport.raw_fd()
    }

    pub fn stats(&self) -> StatsSnapshot {
        self.stats.snapshot()
    }

    pub fn is_closed(&self) -> bool {
        self.closed.load(Ordering::Acquire)
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
        self.transport.recv_buffer_size()
    }

    /// ENOBUFS overruns seen so far (cheap: one atomic load).
    pub fn overruns(&self) -> u64 {
        self.stats.overruns.load(Ordering::Relaxed)
    }

    /// Set SO_RCVBUF(FORCE); returns the size granted.
    pub fn set_receive_buffer_size(&self, size: usize) -> Result<usize> {
        self.transport.set_recv_buffer_size(size)
    }

    fn next_seq(&self) -> u32 {
        loop {
            let s = self.seq.fetch_add(1, Ordering::Relaxed);
            if s != 0 {
                return s;
            }
        }
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        // A panic while holding the lock can only come from a bug here; the
        // state is still consistent enough to keep going.
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    // ---------------------------------------------------------------- requests

    /// Send a request and register it as pending. Returns its sequence number.
    fn start(
        &self,
        op: &str,
        msg_type: u16,
        payload: &[u8],
        want: Want,
        no_wait: bool,
    ) -> Result<u32> {
        if self.is_closed() {
            return Err(Error::Closed);
        }
        let seq = self.next_seq();
        let datagram = message::encode(
            msg_type,
            NLM_F_REQUEST | NLM_F_ACK,
            seq,
            self.port_id(),
            payload,
        )?;
        self.lock().pending.insert(
            seq,
            Pending {
                op: op.to_string(),
                want,
                ack: None,
                replies: Vec::new(),
                done: false,
                no_wait,
                overrun: false,
            },
        );
        loop {
            match self.transport.send(&datagram) {
                Ok(_) => return Ok(seq),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => {
                    self.lock().pending.remove(&seq);
                    return Err(Error::io("send", e));
                }
            }
        }
    }

    /// Wait until request `seq` is complete; remove and return it.
    fn finish(&self, seq: u32) -> Result<Pending> {
        let deadline = Instant::now() + self.opts.reply_timeout;
        let res = self.pump(Some(deadline), |st| {
            if st.pending.get(&seq).is_some_and(Pending::complete) {
                st.pending.remove(&seq)
            } else {
                None
            }
        });
        match res {
            Ok(Some(p)) => {
                if let Some(errno) = p.ack.and_then(|e| (e < 0).then(|| e.saturating_neg())) {
                    return Err(Error::Kernel {
                        errno,
                        op: p.op,
                        seq,
                    });
                }
                Ok(p)
            }
            Ok(None) => {
                let p = self.lock().pending.remove(&seq);
                let (op, overrun) = p.map(|p| (p.op, p.overrun)).unwrap_or_default();
                let op = if overrun {
                    format!("{op} (the socket overran: the reply may have been dropped)")
                } else {
                    op
                };
                Err(Error::Timeout {
                    op,
                    seq,
                    timeout_ms: self.opts.reply_timeout.as_millis() as u64,
                })
            }
            Err(e) => {
                self.lock().pending.remove(&seq);
                Err(e)
            }
        }
    }

    /// Send `msg_type` + `payload` and wait for the ack (unless NoWait).
    /// Returns the ack's value: 0, or what some commands return (the old
    /// counter for AUDIT_STATUS_LOST resets).
    pub fn request_ack(
        &self,
        op: &str,
        msg_type: u16,
        payload: &[u8],
        wait: WaitMode,
    ) -> Result<u32> {
        let no_wait = wait == WaitMode::NoWait;
        let seq = self.start(op, msg_type, payload, Want::Ack, no_wait)?;
        if no_wait {
            return Ok(0);
        }
        let p = self.finish(seq)?;
        Ok(p.ack.unwrap_or(0).max(0) as u32)
    }

    /// A GET-style request: the ack and one reply of `reply_type`.
    pub fn request_reply(
        &self,
        op: &str,
        msg_type: u16,
        payload: &[u8],
        reply_type: u16,
    ) -> Result<Vec<u8>> {
        let seq = self.start(op, msg_type, payload, Want::Reply(reply_type), false)?;
        let mut p = self.finish(seq)?;
        let reply = p.replies.swap_remove(0);
        if reply.msg_type != reply_type {
            return Err(Error::Malformed(format!(
                "{op} (seq {seq}): expected a reply of type {reply_type}, got type {}",
                reply.msg_type
            )));
        }
        Ok(reply.payload)
    }

    /// A dump-style request: all replies up to NLMSG_DONE.
    pub fn request_dump(
        &self,
        op: &str,
        msg_type: u16,
        payload: &[u8],
    ) -> Result<Vec<NetlinkMessage>> {
        let seq = self.start(op, msg_type, payload, Want::Dump, false)?;
        Ok(self.finish(seq)?.replies)
    }

    /// Send many requests packed several to a datagram, and return each one's
    /// outcome in order: `Ok(())`, or `Err(errno)` when the kernel refused it.
    ///
    /// The kernel handles the messages of one datagram in order
    /// (kernel/audit.c `audit_receive`) and acks a message without NLM_F_ACK
    /// only when it fails. So only the last message of each datagram asks for
    /// an ack: when that ack arrives, the error acks of the others (if any)
    /// have arrived before it. One send and one ack per datagram instead of
    /// one each per message: what makes loading a rules file fast.
    ///
    /// `stop_on_error`: after a datagram in which a message failed, send no
    /// more (their outcomes are `None`). Messages after the failed one in the
    /// same datagram were still processed by the kernel.
    pub fn request_batch(
        &self,
        op: &str,
        msgs: &[(u16, &[u8])],
        stop_on_error: bool,
    ) -> Result<Vec<Option<std::result::Result<(), i32>>>> {
        let mut out: Vec<Option<std::result::Result<(), i32>>> = vec![None; msgs.len()];
        let mut start = 0;
        while start < msgs.len() {
            // As many messages as fit BATCH_DATAGRAM_BYTES (at least one).
            let mut end = start;
            let mut bytes = 0;
            while end < msgs.len() {
                let size = message::NLMSG_HDRLEN + msgs[end].1.len() + 3;
                if end > start && bytes + size > BATCH_DATAGRAM_BYTES {
                    break;
                }
                bytes += size;
                end += 1;
            }
            let mut datagram = Vec::with_capacity(bytes);
            let mut seqs = Vec::with_capacity(end - start);
            for (i, &(msg_type, payload)) in msgs[start..end].iter().enumerate() {
                let seq = self.next_seq();
                let last = start + i + 1 == end;
                let flags = if last {
                    NLM_F_REQUEST | NLM_F_ACK
                } else {
                    NLM_F_REQUEST
                };
                datagram.extend_from_slice(&message::encode(
                    msg_type,
                    flags,
                    seq,
                    self.port_id(),
                    payload,
                )?);
                seqs.push(seq);
            }
            {
                let mut st = self.lock();
                for &seq in &seqs {
                    st.pending.insert(
                        seq,
                        Pending {
                            op: op.to_string(),
                            want: Want::Ack,
                            ack: None,
                            replies: Vec::new(),
                            done: false,
                            no_wait: false,
                            overrun: false,
                        },
                    );
                }
            }
            let forget = |seqs: &[u32]| {
                let mut st = self.lock();
                for seq in seqs {
                    st.pending.remove(seq);
                }
            };
            loop {
                match self.transport.send(&datagram) {
                    Ok(_) => break,
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                    Err(e) => {
                        forget(&seqs);
                        return Err(Error::io("send", e));
                    }
                }
            }
            // finish() removes the last request; the others are collected below.
            let (&last_seq, earlier) = seqs.split_last().unwrap_or((&0, &[]));
            let last_outcome = match self.finish(last_seq) {
                Ok(_) => Ok(()),
                Err(Error::Kernel { errno, .. }) => Err(errno),
                Err(e) => {
                    forget(earlier);
                    return Err(e);
                }
            };
            let mut failed = last_outcome.is_err();
            {
                let mut st = self.lock();
                for (i, seq) in earlier.iter().enumerate() {
                    let ack = st.pending.remove(seq).and_then(|p| p.ack);
                    out[start + i] = Some(match ack {
                        Some(e) if e < 0 => {
                            failed = true;
                            Err(e.saturating_neg())
                        }
                        _ => Ok(()),
                    });
                }
            }
            out[end - 1] = Some(last_outcome);
            if failed && stop_on_error {
                break;
            }
            start = end;
        }
        Ok(out)
    }

    /// Wait for the acks of every request sent with `WaitMode::NoWait`. All
    /// are collected; the first failure (by sequence number) is returned.
    pub fn wait_for_pending_acks(&self) -> Result<()> {
        let seqs: Vec<u32> = {
            let st = self.lock();
            let mut v: Vec<u32> = st
                .pending
                .iter()
                .filter(|(_, p)| p.no_wait)
                .map(|(s, _)| *s)
                .collect();
            v.sort_unstable();
            v
        };
        let mut first_err = None;
        for seq in seqs {
            if let Err(e) = self.finish(seq) {
                first_err.get_or_insert(e);
            }
        }
        first_err.map_or(Ok(()), Err)
    }

    // ------------------------------------------------------------ status calls

    pub fn get_status(&self) -> Result<AuditStatus> {
        let payload = self.request_reply("get_status", msg::GET, &[], msg::GET)?;
        AuditStatus::from_bytes(&payload)
            .map_err(|e| Error::Malformed(format!("get_status: bad AUDIT_GET reply: {e}")))
    }

    /// AUDIT_SET with only `mask` meaningful.
    pub fn set_status(&self, op: &str, status: &AuditStatus, wait: WaitMode) -> Result<u32> {
        self.request_ack(op, msg::SET, &status.to_bytes(), wait)
    }

    fn set_one(
        &self,
        op: &str,
        mask: u32,
        fill: impl FnOnce(&mut AuditStatus),
        wait: WaitMode,
    ) -> Result<u32> {
        let mut s = AuditStatus {
            mask,
            ..Default::default()
        };
        fill(&mut s);
        self.set_status(op, &s, wait)
    }

    pub fn set_enabled(&self, enabled: u32, wait: WaitMode) -> Result<()> {
        self.set_one(
            "set_enabled",
            status::STATUS_ENABLED,
            |s| s.enabled = enabled,
            wait,
        )
        .map(drop)
    }

    pub fn set_failure(&self, mode: u32, wait: WaitMode) -> Result<()> {
        self.set_one(
            "set_failure",
            status::STATUS_FAILURE,
            |s| s.failure = mode,
            wait,
        )
        .map(drop)
    }

    pub fn set_rate_limit(&self, limit: u32, wait: WaitMode) -> Result<()> {
        self.set_one(
            "set_rate_limit",
            status::STATUS_RATE_LIMIT,
            |s| s.rate_limit = limit,
            wait,
        )
        .map(drop)
    }

    pub fn set_backlog_limit(&self, limit: u32, wait: WaitMode) -> Result<()> {
        self.set_one(
            "set_backlog_limit",
            status::STATUS_BACKLOG_LIMIT,
            |s| s.backlog_limit = limit,
            wait,
        )
        .map(drop)
    }

    pub fn set_backlog_wait_time(&self, wait_time: u32, wait: WaitMode) -> Result<()> {
        self.set_one(
            "set_backlog_wait_time",
            status::STATUS_BACKLOG_WAIT_TIME,
            |s| s.backlog_wait_time = wait_time,
            wait,
        )
        .map(drop)
    }

    /// Register the calling process as the audit daemon: the kernel then
    /// sends every record to this socket.
    pub fn set_pid(&self, wait: WaitMode) -> Result<()> {
        let pid = rustix::process::getpid().as_raw_nonzero().get() as u32;
        self.set_one("set_pid", status::STATUS_PID, |s| s.pid = pid, wait)?;
        // With NoWait the registration is assumed; close() unregisters anyway,
        // which is harmless if it did not take.
        self.registered.store(true, Ordering::Release);
        Ok(())
    }

    /// Reset the kernel's lost counter; returns its old value.
    pub fn reset_lost(&self) -> Result<u32> {
        self.set_one(
            "reset_lost",
            status::STATUS_LOST,
            |_| {},
            WaitMode::WaitForReply,
        )
    }

    /// Reset backlog_wait_time_actual; returns its old value.
    pub fn reset_backlog_wait_time_actual(&self) -> Result<u32> {
        self.set_one(
            "reset_backlog_wait_time_actual",
            status::STATUS_BACKLOG_WAIT_TIME_ACTUAL,
            |_| {},
            WaitMode::WaitForReply,
        )
    }

    /// Unregister as the audit daemon (AUDIT_SET mask PID, pid 0).
    ///
    /// Reliable under load: the kernel applies the change while processing
    /// our sendto(), but its ack can be dropped when our receive buffer is
    /// full of records (netlink acks are sent non-blocking). So records read
    /// meanwhile are discarded, and when the ack does not come, the status is
    /// read back (the reply is sent blocking, and no new records arrive once
    /// we are unregistered) to confirm the pid is gone.
    pub fn unregister(&self) -> Result<()> {
        self.lock().discard_events = true;
        let res = self.unregister_inner();
        let mut st = self.lock();
        st.discard_events = false;
        drop(st);
        if res.is_ok() {
            self.registered.store(false, Ordering::Release);
        }
        res
    }

    fn unregister_inner(&self) -> Result<()> {
        let mine = rustix::process::getpid().as_raw_nonzero().get() as u32;
        let seq = self.start(
            "unregister",
            msg::SET,
            &AuditStatus {
                mask: status::STATUS_PID,
                ..Default::default()
            }
            .to_bytes(),
            Want::Ack,
            false,
        )?;
        match self.finish(seq) {
            Ok(_) => Ok(()),
            Err(Error::Timeout { .. }) => {
                let st = self.get_status()?;
                if st.pid == mine {
                    Err(Error::Malformed(
                        "unregister: the kernel still lists this process as the audit daemon"
                            .into(),
                    ))
                } else {
                    Ok(())
                }
            }
            Err(e) => Err(e),
        }
    }

    // ----------------------------------------------------------------- events

    /// The next event record. `timeout` None = wait as long as needed (the
    /// bindings call this in short slices to check for signals); Some(0) =
    /// only what is already there. Returns None on timeout.
    pub fn receive(&self, timeout: Option<Duration>) -> Result<Option<EventRecord>> {
        let deadline = timeout.map(|t| Instant::now() + t);
        let got = self.pump(deadline, |st| {
            let rec = st.events.pop_front()?;
            st.queued_bytes -= rec.payload.len();
            Some(rec)
        })?;
        Ok(got)
    }

    /// Fill `out` with up to `max` records: what is queued, then what the
    /// socket holds, waiting up to `timeout` for the first one only.
    ///
    /// `linger`: once records are flowing and the socket runs dry before `max`,
    /// sleep this long once and drain again. Records then arrive in batches
    /// instead of one wakeup each, which costs the whole pipeline (audited
    /// process, kauditd, receiver) far less CPU. Zero disables it.
    pub fn receive_batch(
        &self,
        out: &mut Batch,
        max: usize,
        timeout: Option<Duration>,
        linger: Duration,
    ) -> Result<()> {
        out.clear();
        if max == 0 {
            return Ok(());
        }
        let deadline = timeout.map(|t| Instant::now() + t);
        let mut st = self.lock();
        loop {
            while out.len() < max {
                let Some(rec) = st.events.pop_front() else {
                    break;
                };
                st.queued_bytes -= rec.payload.len();
                out.push(rec.msg_type, &rec.payload);
            }
            if out.len() >= max || self.is_closed() {
                break;
            }
            if st.reader_active {
                if !out.is_empty() || deadline.is_some_and(|d| Instant::now() >= d) {
                    break;
                }
                st = self.wait(st, deadline);
                continue;
            }
            // Become the reader: drain the socket straight into `out`.
            st.reader_active = true;
            let mut dg = st
                .dg
                .take()
                .expect("receive slots are present when nobody reads");
            drop(st);
            let first_deadline = if out.is_empty() {
                deadline
            } else {
                Some(Instant::now())
            };
            let res = self.read_into_batch(&mut dg, out, max, first_deadline, linger);
            st = self.lock();
            st.dg = Some(dg);
            st.reader_active = false;
            self.cond.notify_all();
            match res {
                Ok(true) => continue, // replies were dispatched; events may have been queued by others
                Ok(false) => break,
                Err(e) => {
                    if out.is_empty() {
                        return Err(e);
                    }
                    break;
                }
            }
        }
        drop(st);
        if out.is_empty() && self.is_closed() {
            return Err(Error::Closed);
        }
        Ok(())
    }

    /// Reader side of `receive_batch`. Returns Ok(true) if it should look at
    /// the queue again (it dispatched non-event messages), Ok(false) when done.
    fn read_into_batch(
        &self,
        dg: &mut Datagrams,
        out: &mut Batch,
        max: usize,
        deadline: Option<Instant>,
        mut linger: Duration,
    ) -> Result<bool> {
        let mut dispatched_other = false;
        let mut first = true;
        // After the first read, reads only take what is already there; any
        // instant in the past says so (read_datagrams consults the clock only
        // when the socket is empty).
        let already = Some(Instant::now());
        let (mut records, mut bytes) = (0u64, 0u64);
        while out.len() < max {
            match self.read_datagrams(dg, if first { deadline } else { already }) {
                Ok(Read::Datagrams) => {}
                Ok(Read::Nothing) if !first && !linger.is_zero() => {
                    std::thread::sleep(std::mem::take(&mut linger));
                    continue;
                }
                Ok(Read::Nothing | Read::Woken) => break,
                Err(e) => {
                    self.count_records(records, bytes);
                    return Err(e);
                }
            }
            first = false;
            // Messages that are not records for `out`: replies, and records
            // beyond `max` (they go to the queue, in order, for the next call).
            let mut others: Vec<MessageRef<'_>> = Vec::new();
            for i in 0..dg.len() {
                let Some((_, datagram)) = dg.get(i) else {
                    continue;
                };
                for m in message::messages(datagram) {
                    match m {
                        Ok(m)
                            if m.header.seq == 0
                                && m.header.msg_type != NLMSG_NOOP
                                && out.len() < max =>
                        {
                            records += 1;
                            bytes += m.payload.len() as u64;
                            out.push(m.header.msg_type, m.payload);
                        }
                        Ok(m) => others.push(m),
                        Err(_) => {
                            self.stats.malformed.fetch_add(1, Ordering::Relaxed);
                            break;
                        }
                    }
                }
            }
            if !others.is_empty() {
                let mut st = self.lock();
                for m in others {
                    dispatched_other |= m.header.seq != 0;
                    self.dispatch(&mut st, m);
                }
                self.cond.notify_all();
            }
        }
        self.count_records(records, bytes);
        Ok(dispatched_other)
    }

    fn count_records(&self, records: u64, bytes: u64) {
        self.stats.messages.fetch_add(records, Ordering::Relaxed);
        self.stats.bytes.fetch_add(bytes, Ordering::Relaxed);
    }

    // --------------------------------------------------------------- plumbing

    fn wait<'a>(
        &self,
        st: MutexGuard<'a, State>,
        deadline: Option<Instant>,
    ) -> MutexGuard<'a, State> {
        // Short slices: also re-check `closed` and reader hand-over.
        let mut slice = Duration::from_millis(50);
        if let Some(d) = deadline {
            slice = slice.min(d.saturating_duration_since(Instant::now()));
        }
        match self.cond.wait_timeout(st, slice) {
            Ok((g, _)) => g,
            Err(p) => p.into_inner().0,
        }
    }

    /// Run until `want` yields something, reading the socket when nobody else
    /// is. Ok(None) when the deadline passes first.
    fn pump<R>(
        &self,
        deadline: Option<Instant>,
        mut want: impl FnMut(&mut State) -> Option<R>,
    ) -> Result<Option<R>> {
        let mut st = self.lock();
        loop {
            if let Some(r) = want(&mut st) {
                return Ok(Some(r));
            }
            if self.is_closed() {
                return Err(Error::Closed);
            }
            if st.reader_active {
                if deadline.is_some_and(|d| Instant::now() >= d) {
                    return Ok(None);
                }
                st = self.wait(st, deadline);
                continue;
            }
            // Read even when the deadline has passed: a zero timeout means
            // "whatever is already queued", which may be in the socket.
            st.reader_active = true;
            let mut dg = st
                .dg
                .take()
                .expect("receive slots are present when nobody reads");
            drop(st);
            let res = self.read_datagrams(&mut dg, deadline);
            st = self.lock();
            st.reader_active = false;
            let got_datagram = matches!(res, Ok(Read::Datagrams));
            if got_datagram {
                for i in 0..dg.len() {
                    if let Some((_, datagram)) = dg.get(i) {
                        self.dispatch_datagram(&mut st, datagram);
                    }
                }
            }
            st.dg = Some(dg);
            self.cond.notify_all();
            res?;
            if !got_datagram {
                // Nothing more in the socket before the deadline (or woken).
                return Ok(want(&mut st));
            }
        }
    }

    /// Wait (up to the deadline) for datagrams from the kernel and read what
    /// is queued into `dg`, several per syscall. Foreign and truncated
    /// datagrams are counted and dropped; ENOBUFS is counted, marks in-flight
    /// requests, and reading goes on.
    fn read_datagrams(&self, dg: &mut Datagrams, deadline: Option<Instant>) -> Result<Read> {
        loop {
            if self.is_closed() {
                return Ok(Read::Woken);
            }
            match self.transport.recv_many(dg) {
                Ok(()) => {
                    dg.retain(|r, bytes| self.accept(r, bytes));
                    if !dg.is_empty() {
                        return Ok(Read::Datagrams);
                    }
                    continue;
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) if e.raw_os_error() == Some(libc::ENOBUFS) => {
                    self.note_overrun();
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

    /// Count a received datagram, show it to the tee, and say whether to use
    /// it: only what the kernel sent, and only whole.
    fn accept(&self, r: Received, bytes: &[u8]) -> bool {
        self.stats.datagrams.fetch_add(1, Ordering::Relaxed);
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

    fn note_overrun(&self) {
        self.stats.overruns.fetch_add(1, Ordering::Relaxed);
        for p in self.lock().pending.values_mut() {
            p.overrun = true;
        }
    }

    fn dispatch_datagram(&self, st: &mut State, datagram: &[u8]) {
        for m in message::messages(datagram) {
            match m {
                Ok(m) => self.dispatch(st, m),
                Err(_) => {
                    self.stats.malformed.fetch_add(1, Ordering::Relaxed);
                    break;
                }
            }
        }
    }

    fn dispatch(&self, st: &mut State, m: MessageRef<'_>) {
        let h = m.header;
        if h.seq == 0 {
            if h.msg_type == NLMSG_NOOP {
                return;
            }
            self.count_records(1, m.payload.len() as u64);
            if st.discard_events {
                return;
            }
            if st.queued_bytes + m.payload.len() > self.opts.queue_limit_bytes {
                self.stats.queue_dropped.fetch_add(1, Ordering::Relaxed);
                return;
            }
            st.queued_bytes += m.payload.len();
            st.events.push_back(EventRecord {
                msg_type: h.msg_type,
                payload: m.payload.to_vec(),
            });
            return;
        }
        let Some(p) = st.pending.get_mut(&h.seq) else {
            self.stats.stale_replies.fetch_add(1, Ordering::Relaxed);
            return;
        };
        match h.msg_type {
            NLMSG_ERROR => match NetlinkAck::parse(m.payload) {
                Ok(ack) => p.ack = Some(ack.error),
                Err(_) => {
                    self.stats.malformed.fetch_add(1, Ordering::Relaxed);
                    // A garbled ack still ends the request, as a protocol error.
                    p.ack = Some(-libc::EPROTO);
                }
            },
            NLMSG_DONE => p.done = true,
            _ => p.replies.push(m.to_owned()),
        }
    }

    /// Mark closed and wake every thread waiting in this client. Safe to call
    /// from any thread, any number of times.
    pub fn shutdown(&self) {
        self.closed.store(true, Ordering::Release);
        self.wake.wake();
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
        self.transport.as_fd()
    }
}

impl Drop for AuditClient {
    fn drop(&mut self) {
        if self.is_registered() && !self.is_closed() {
            let _ = self.unregister();
        }
    }
}
