//! A sink's intake: the bounded queue callers hand events to, and the thread that moves them into the spool in batches, whatever the far end is doing.

use std::sync::atomic::Ordering::Relaxed;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use super::spool::{FullAction, Spool};
use super::worker::{set, Shared};
use super::ForwardEvent;
use crate::audit::packed::Packed;

/// A small batch waits this long for more before it is stored: fewer and
/// larger spool writes, and fewer wake-ups of the delivering thread (each
/// costs the audited host CPU time), for at most this much more latency.
const LINGER: Duration = Duration::from_millis(5);
/// Batches of this many events are stored at once.
const LINGER_BELOW: usize = 512;
/// Events keep coming when the previous batch was taken less than this ago.
const BUSY: Duration = Duration::from_millis(50);

/// An event as the queue takes it: encoded (by the caller, under the
/// queue's lock) into the spool's payload format.
pub(super) trait Payload {
    fn encode_to(&self, out: &mut Vec<u8>);
}

impl Payload for &ForwardEvent {
    fn encode_to(&self, out: &mut Vec<u8>) {
        self.encode(out);
    }
}

/// A payload encoded already (the daemon's writer encodes the events it
/// groups from log lines).
impl Payload for &[u8] {
    fn encode_to(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(self);
    }
}

/// The bounded queue between the callers and the intake thread, in events,
/// held as the spool's payloads: the intake stores them as they are. The
/// thread takes everything waiting at once.
#[derive(Debug)]
pub(super) struct Queue {
    state: Mutex<QueueState>,
    /// Signalled when events arrive or the queue closes.
    ready: Condvar,
    /// Signalled when the thread has taken events (room for waiting callers).
    room: Condvar,
    capacity: usize,
}

#[derive(Debug, Default)]
struct QueueState {
    events: Packed,
    open: bool,
    /// While the intake lingers: how many waiting events end the linger.
    enough: usize,
}

impl Queue {
    pub(super) fn new(capacity: usize) -> Queue {
        Queue {
            state: Mutex::new(QueueState {
                events: Packed::default(),
                open: true,
                enough: usize::MAX,
            }),
            ready: Condvar::new(),
            room: Condvar::new(),
            capacity: capacity.max(1),
        }
    }

    fn lock(&self) -> MutexGuard<'_, QueueState> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Queue `events` in order while there is room, waiting up to `wait` in
    /// all for room (`None`: as long as it takes); returns how many were
    /// queued.
    pub(super) fn put(
        &self,
        mut events: impl ExactSizeIterator<Item = impl Payload>,
        wait: Option<Duration>,
    ) -> usize {
        let deadline = wait.map(|w| Instant::now() + w);
        let mut done = 0;
        let mut q = self.lock();
        while events.len() > 0 && q.open {
            let room = self.capacity.saturating_sub(q.events.len());
            if room == 0 {
                q = match deadline {
                    None => self.room.wait(q).unwrap_or_else(|p| p.into_inner()),
                    Some(d) => {
                        let left = d.saturating_duration_since(Instant::now());
                        if left.is_zero() {
                            break;
                        }
                        self.room
                            .wait_timeout(q, left)
                            .map(|(q, _)| q)
                            .unwrap_or_else(|p| p.into_inner().0)
                    }
                };
                continue;
            }
            let take = room.min(events.len());
            let before = q.events.len();
            for ev in events.by_ref().take(take) {
                q.events.push(|out| ev.encode_to(out));
            }
            done += take;
            // The intake waits for the first event, or lingers for `enough`.
            let enough = q.enough;
            if before == 0 || (before < enough && q.events.len() >= enough) {
                self.ready.notify_one();
            }
        }
        done
    }

    /// Wait up to `wait` for the first event; how many wait, and `false`
    /// once the queue is closed and empty.
    fn wait_ready(&self, wait: Duration) -> (usize, bool) {
        let q = self.lock();
        let q = self
            .ready
            .wait_timeout_while(q, wait, |q| q.events.is_empty() && q.open)
            .map(|(q, _)| q)
            .unwrap_or_else(|p| p.into_inner().0);
        (q.events.len(), q.open || !q.events.is_empty())
    }

    /// Move everything queued into `into` (emptied first); `false` once the
    /// queue is closed and empty.
    pub(super) fn take(&self, into: &mut Packed) -> bool {
        into.clear();
        let mut q = self.lock();
        std::mem::swap(into, &mut q.events);
        if !into.is_empty() {
            self.room.notify_all();
        }
        q.open || !into.is_empty()
    }

    /// Wait up to `linger` until `enough` events wait (or the queue is
    /// full, or closes).
    fn linger(&self, enough: usize, linger: Duration) {
        let mut q = self.lock();
        q.enough = enough.min(self.capacity);
        let mut q = self
            .ready
            .wait_timeout_while(q, linger, |q| q.open && q.events.len() < q.enough)
            .map(|(q, _)| q)
            .unwrap_or_else(|p| p.into_inner().0);
        q.enough = usize::MAX;
    }

    pub(super) fn close(&self) {
        self.lock().open = false;
        self.ready.notify_all();
        self.room.notify_all();
    }
}

/// The spool, shared by the intake (appends) and the delivering thread
/// (peeks and acks, not holding the lock while the far end answers).
#[derive(Debug)]
pub(super) struct SpoolLock {
    spool: Mutex<Spool>,
    /// Signalled after each append, and when the intake ends.
    appended: Condvar,
    /// The intake has ended: nothing more will be appended.
    done: AtomicBool,
}

impl SpoolLock {
    pub(super) fn new(spool: Spool) -> SpoolLock {
        SpoolLock {
            spool: Mutex::new(spool),
            appended: Condvar::new(),
            done: AtomicBool::new(false),
        }
    }

    pub(super) fn lock(&self) -> MutexGuard<'_, Spool> {
        self.spool.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub(super) fn intake_done(&self) -> bool {
        self.done.load(Ordering::Acquire)
    }

    /// Wait up to `wait` for the spool to hold other than `seen` events (or
    /// for the intake to end).
    pub(super) fn wait_for_more(&self, seen: u64, wait: Duration) {
        let sp = self.lock();
        let _ = self.appended.wait_timeout_while(sp, wait, |sp| {
            sp.events() == seen && !self.done.load(Ordering::Acquire)
        });
    }

    /// Wait up to `wait` until nothing submitted waits in memory any more
    /// (`queued` is 0: spooled, or counted as dropped); `false` if it still
    /// does. Every decrement of `queued` is followed by a signal on
    /// `appended` (the intake's under this lock), so no wake-up is missed.
    pub(super) fn wait_taken(&self, queued: &AtomicU64, wait: Duration) -> bool {
        let sp = self.lock();
        let _ = self.appended.wait_timeout_while(sp, wait, |_| {
            queued.load(Relaxed) != 0 && !self.done.load(Ordering::Acquire)
        });
        queued.load(Relaxed) == 0
    }

    /// Wake the waiters after a change made without the lock (`queued`
    /// lowered by a submit that gave up, the intake's end): taking the lock
    /// first means no waiter is between its check and its wait.
    pub(super) fn signal(&self) {
        drop(self.lock());
        self.appended.notify_all();
    }
}

/// The spool's size in the stats.
pub(super) fn publish(shared: &Shared, spool: &Spool) {
    shared.spooled.store(spool.events(), Relaxed);
    shared.spool_bytes.store(spool.bytes(), Relaxed);
}

/// The intake thread's state.
pub(super) struct Intake {
    queue: Arc<Queue>,
    spool: Arc<SpoolLock>,
    shared: Arc<Shared>,
    action: FullAction,
    suspended: bool,
    /// Events just taken from the queue (kept for its allocation, which
    /// goes back to the queue on the next take).
    incoming: Packed,
    /// When events were last taken.
    last_take: Instant,
}

impl Intake {
    pub(super) fn new(
        queue: Arc<Queue>,
        spool: Arc<SpoolLock>,
        shared: Arc<Shared>,
        action: FullAction,
    ) -> Intake {
        Intake {
            queue,
            spool,
            shared,
            action,
            suspended: false,
            incoming: Packed::default(),
            last_take: Instant::now(),
        }
    }

    /// Until the queue is closed and empty: take everything queued, append it.
    pub(super) fn run(mut self) {
        loop {
            let (waiting, open) = self.queue.wait_ready(Duration::from_millis(200));
            // Only while events keep coming: a lone one is stored at once.
            let flowing = self.last_take.elapsed() < BUSY;
            if waiting > 0 {
                self.last_take = Instant::now();
                if open && flowing && waiting < LINGER_BELOW {
                    self.queue.linger(LINGER_BELOW, LINGER);
                }
            }
            let mut incoming = std::mem::take(&mut self.incoming);
            let open = self.queue.take(&mut incoming);
            if !incoming.is_empty() {
                self.store(&incoming);
            }
            self.incoming = incoming;
            if !open {
                break;
            }
        }
        self.spool.done.store(true, Ordering::Release);
        self.spool.signal();
    }

    /// Append a batch to the spool with one write, applying the full action.
    fn store(&mut self, events: &Packed) {
        let s = &self.shared;
        let n = events.len() as u64;
        if self.suspended {
            let sp = self.spool.lock();
            if sp.bytes() <= sp.max_bytes() / 2 {
                self.suspended = false;
            } else {
                s.dropped.fetch_add(n, Relaxed);
                s.queued.fetch_sub(n, Relaxed);
                drop(sp);
                self.spool.appended.notify_all();
                return;
            }
        }
        // Encoded by the callers: the delivering thread only waits for the write.
        let payloads: Vec<&[u8]> = events.iter().collect();
        let mut sp = self.spool.lock();
        let r = sp.append_batch(&payloads, self.action);
        publish(s, &sp);
        // Only now, so `flush` never sees the events neither queued nor spooled.
        s.queued.fetch_sub(n, Relaxed);
        drop(sp);
        self.spool.appended.notify_all();
        s.dropped
            .fetch_add(r.dropped_oldest + r.full + r.failed, Relaxed);
        if r.full > 0 && self.action == FullAction::Suspend {
            self.suspended = true;
        }
        if let Some(e) = r.error {
            set(&s.last_error, &format!("spool write: {e}"));
        }
    }
}
