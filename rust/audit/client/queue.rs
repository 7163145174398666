//! Event records: the queue `receive()` pops, and `receive_batch`, the fast
//! path that drains the socket straight into one packed buffer.

use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use super::AuditClient;
use crate::error::{Error, Result};
use crate::netlink::connection::Read;
use crate::netlink::message::{self, MessageRef, NLMSG_NOOP};
use crate::netlink::socket::Datagrams;

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

impl AuditClient {
    /// The next event record. `timeout` None = wait as long as needed (the
    /// bindings call this in short slices to check for signals); Some(0) =
    /// only what is already there. Returns None on timeout.
    pub fn receive(&self, timeout: Option<Duration>) -> Result<Option<EventRecord>> {
        let deadline = timeout.map(|t| Instant::now() + t);
        self.pump(deadline, |st| {
            let rec = st.events.pop_front()?;
            st.queued_bytes -= rec.payload.len();
            Some(rec)
        })
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
            // Take a turn as the reader: drain the socket straight into `out`.
            let first_deadline = if out.is_empty() {
                deadline
            } else {
                Some(Instant::now())
            };
            let (guard, res) = self.take_turn(
                st,
                |dg| self.read_into_batch(dg, out, max, first_deadline, linger),
                |_, _, _| {},
            );
            st = guard;
            match res {
                // Replies were dispatched; records may have been queued meanwhile.
                Ok(true) => continue,
                Ok(false) => break,
                Err(e) if out.is_empty() => return Err(e),
                Err(_) => break,
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
        // instant in the past says so (the connection consults the clock only
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
                    self.stats.count_records(records, bytes);
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
        self.stats.count_records(records, bytes);
        Ok(dispatched_other)
    }
}
