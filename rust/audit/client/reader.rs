//! The reader hand-over: at most one thread reads the socket at a time; it
//! dispatches what it reads (replies to their requests, records to the queue)
//! and wakes the others, any of whom may take the next turn.

use std::sync::atomic::Ordering;
use std::sync::MutexGuard;
use std::time::{Duration, Instant};

use super::{AuditClient, EventRecord, State};
use crate::audit::errno::NetlinkAck;
use crate::error::{Error, Result};
use crate::netlink::connection::Read;
use crate::netlink::message::{self, MessageRef, NLMSG_DONE, NLMSG_ERROR, NLMSG_NOOP};
use crate::netlink::socket::Datagrams;

/// Longest a waiting thread sleeps before it looks again at `closed` and at
/// whether it may take over reading.
const WAIT_SLICE: Duration = Duration::from_millis(50);

impl AuditClient {
    pub(super) fn lock(&self) -> MutexGuard<'_, State> {
        // A panic while holding the lock can only come from a bug here; the
        // state is still consistent enough to keep going.
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Wait for the reader to dispatch something (or `deadline`, or a slice).
    pub(super) fn wait<'a>(
        &self,
        st: MutexGuard<'a, State>,
        deadline: Option<Instant>,
    ) -> MutexGuard<'a, State> {
        let mut slice = WAIT_SLICE;
        if let Some(d) = deadline {
            slice = slice.min(d.saturating_duration_since(Instant::now()));
        }
        match self.cond.wait_timeout(st, slice) {
            Ok((g, _)) => g,
            Err(p) => p.into_inner().0,
        }
    }

    /// Take a turn as the reader (the caller saw that nobody reads): with the
    /// state unlocked, `read` fills the receive slots; then, locked again,
    /// `settle` dispatches what it read, the slots go back and every waiting
    /// thread is woken to look for its message or take the next turn.
    pub(super) fn take_turn<'a, R>(
        &'a self,
        mut st: MutexGuard<'a, State>,
        read: impl FnOnce(&mut Datagrams) -> R,
        settle: impl FnOnce(&mut State, &Datagrams, &R),
    ) -> (MutexGuard<'a, State>, R) {
        st.reader_active = true;
        let mut dg = st
            .dg
            .take()
            .expect("receive slots are present when nobody reads");
        drop(st);
        let res = read(&mut dg);
        let mut st = self.lock();
        settle(&mut st, &dg, &res);
        st.dg = Some(dg);
        st.reader_active = false;
        self.cond.notify_all();
        (st, res)
    }

    /// Run until `want` yields something, reading the socket when nobody else
    /// is. Ok(None) when the deadline passes first.
    pub(super) fn pump<R>(
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
            let (guard, res) = self.take_turn(
                st,
                |dg| self.read_datagrams(dg, deadline),
                |st, dg, res| {
                    if matches!(res, Ok(Read::Datagrams)) {
                        for i in 0..dg.len() {
                            if let Some((_, datagram)) = dg.get(i) {
                                self.dispatch_datagram(st, datagram);
                            }
                        }
                    }
                },
            );
            st = guard;
            match res? {
                Read::Datagrams => {}
                // Nothing more in the socket before the deadline.
                Read::Nothing => return Ok(want(&mut st)),
                // Closed: what the last turn dispatched is still handed out.
                Read::Woken => return want(&mut st).map(Some).ok_or(Error::Closed),
            }
        }
    }

    /// Read the socket (see [`crate::netlink::connection::Connection::read`]);
    /// an overrun marks the requests in flight, whose acks may be lost.
    pub(super) fn read_datagrams(
        &self,
        dg: &mut Datagrams,
        deadline: Option<Instant>,
    ) -> Result<Read> {
        self.conn.read(dg, deadline, || {
            for p in self.lock().pending.values_mut() {
                p.overrun = true;
            }
        })
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

    /// Hand one message to where it belongs: a record to the queue, an ack,
    /// reply or NLMSG_DONE to its pending request.
    pub(super) fn dispatch(&self, st: &mut State, m: MessageRef<'_>) {
        let h = m.header;
        if h.seq == 0 {
            if h.msg_type == NLMSG_NOOP {
                return;
            }
            self.stats.count_records(1, m.payload.len() as u64);
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
}
