//! Event records: the queue `receive()` pops, and `receive_batch`, the fast
//! path that drains the socket straight into a batch: packed into one buffer,
//! or left in the receive slots the kernel copied them into (a slot batch).

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

/// Records of the fast path, with no allocation per record: packed into
/// `data`, or (a slot batch, [`Batch::with_slots`]) where the kernel's copy
/// put them, in receive slots that travel with the batch. `entries[i]` =
/// (type, start, end) into `data`, or into the slots.
#[derive(Debug, Default)]
pub struct Batch {
    pub data: Vec<u8>,
    pub entries: Vec<(u16, u32, u32)>,
    slots: Option<Datagrams>,
}

/// A record's payload is at most MAX_AUDIT_MESSAGE_LENGTH after its 16-byte
/// header: libaudit reads the kernel with a buffer of that size too.
pub const SLOT_BYTES: usize = 9216;

impl Batch {
    /// A slot batch: up to `records` records received straight into slots of
    /// `slot_size` bytes (a longer datagram is dropped and counted as
    /// truncated), so the reader never copies a record. Reuse it: the
    /// slots' pages stay allocated.
    pub fn with_slots(records: usize, slot_size: usize) -> Batch {
        Batch {
            slots: Some(Datagrams::block(slot_size, records)),
            ..Batch::default()
        }
    }

    pub fn clear(&mut self) {
        self.data.clear();
        self.entries.clear();
        if let Some(dg) = self.slots.as_mut() {
            dg.reset();
        }
    }

    /// No room for another record.
    fn is_full(&self, max: usize) -> bool {
        match &self.slots {
            Some(dg) => dg.free_slots() == 0,
            None => self.len() >= max,
        }
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The slots of a slot batch.
    #[cfg(test)]
    pub(super) fn slot_bytes(&self) -> Option<&[u8]> {
        self.slots.as_ref().map(|dg| dg.arena())
    }

    /// Copy a record in; false if a slot batch has no room left for it.
    pub(super) fn push(&mut self, msg_type: u16, payload: &[u8]) -> bool {
        let start = match self.slots.as_mut() {
            Some(dg) => match dg.keep_copy(payload) {
                Some(start) => start,
                None => return false,
            },
            None => {
                let start = self.data.len();
                self.data.extend_from_slice(payload);
                start
            }
        };
        // A batch holds at most a few MiB; u32 offsets are ample.
        self.entries
            .push((msg_type, start as u32, (start + payload.len()) as u32));
        true
    }

    /// The i-th record's type and payload.
    pub fn get(&self, i: usize) -> Option<(u16, &[u8])> {
        let &(t, s, e) = self.entries.get(i)?;
        let bytes = match &self.slots {
            Some(dg) => dg.arena(),
            None => &self.data,
        };
        Some((t, bytes.get(s as usize..e as usize)?))
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
            while !out.is_full(max) {
                let Some(rec) = st.events.front() else {
                    break;
                };
                if !out.push(rec.msg_type, &rec.payload) {
                    break;
                }
                st.queued_bytes -= rec.payload.len();
                st.events.pop_front();
            }
            if out.is_full(max) || !st.events.is_empty() || self.is_closed() {
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
                |dg| match out.slots.as_mut() {
                    Some(slots) => {
                        let mut sink = InPlace {
                            entries: &mut out.entries,
                        };
                        self.drain_socket(slots, &mut sink, first_deadline, linger)
                    }
                    None => {
                        let mut sink = Packed { out, max };
                        self.drain_socket(dg, &mut sink, first_deadline, linger)
                    }
                },
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

    /// Reader side of `receive_batch`: read until `sink` is full or the
    /// socket is dry (after `linger`). Returns Ok(true) if it should look at
    /// the queue again (it dispatched non-event messages), Ok(false) when done.
    fn drain_socket<S: RecordSink>(
        &self,
        dg: &mut Datagrams,
        sink: &mut S,
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
        while sink.has_room(dg) {
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
            let arena = dg.arena().as_ptr() as usize;
            // Messages that are not records for `sink`: replies, and records
            // it has no room for (they go to the queue, in order, for the
            // next call).
            let mut others: Vec<MessageRef<'_>> = Vec::new();
            let mut full = false;
            for i in 0..dg.len() {
                let Some((_, datagram)) = dg.get(i) else {
                    continue;
                };
                for m in message::messages(datagram) {
                    match m {
                        Ok(m) if m.header.seq == 0 && m.header.msg_type != NLMSG_NOOP && !full => {
                            if sink.take(m.payload.as_ptr() as usize - arena, &m) {
                                records += 1;
                                bytes += m.payload.len() as u64;
                            } else {
                                full = true;
                                others.push(m);
                            }
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
            if S::KEEPS_SLOTS {
                dg.keep();
            }
        }
        self.stats.count_records(records, bytes);
        Ok(dispatched_other)
    }
}

/// Where [`AuditClient::drain_socket`] puts the records it reads.
trait RecordSink {
    /// Records stay in their slots: reads go on into the free slots after them.
    const KEEPS_SLOTS: bool;
    fn has_room(&self, dg: &Datagrams) -> bool;
    /// Take the record whose payload starts `offset` bytes into the slots;
    /// false if there is no room for it.
    fn take(&mut self, offset: usize, m: &MessageRef<'_>) -> bool;
}

/// Copies records into a packed batch, up to `max`.
struct Packed<'a> {
    out: &'a mut Batch,
    max: usize,
}

impl RecordSink for Packed<'_> {
    const KEEPS_SLOTS: bool = false;
    fn has_room(&self, _: &Datagrams) -> bool {
        self.out.len() < self.max
    }
    fn take(&mut self, _: usize, m: &MessageRef<'_>) -> bool {
        self.out.len() < self.max && self.out.push(m.header.msg_type, m.payload)
    }
}

/// Indexes records where they are, in a slot batch's slots.
struct InPlace<'a> {
    entries: &'a mut Vec<(u16, u32, u32)>,
}

impl RecordSink for InPlace<'_> {
    const KEEPS_SLOTS: bool = true;
    fn has_room(&self, dg: &Datagrams) -> bool {
        dg.free_slots() > 0
    }
    fn take(&mut self, offset: usize, m: &MessageRef<'_>) -> bool {
        let end = offset + m.payload.len();
        self.entries
            .push((m.header.msg_type, offset as u32, end as u32));
        true
    }
}
