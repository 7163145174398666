//! The thread behind each sink: takes events from its bounded queue into the spool, delivers them in order through a transport, reconnects with backoff.
//!
//! Everything on the way is batched, because each system call is also seen
//! (and possibly audited) by the kernel: the queue hands over all waiting
//! events at once, the spool appends them with one write, and a transport
//! sends up to [`BATCH_EVENTS`] at once.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering::Relaxed};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use super::spool::{FullAction, Spool};
use super::{ForwardEvent, Sink, SinkStats, SpoolConfig};
use crate::error::{Error, Result};

/// Events handed to the transport at once.
const BATCH_EVENTS: usize = 256;
const BATCH_BYTES: u64 = 1 << 20;
/// How long `close` keeps delivering what is spooled before leaving it for
/// the next start (unless the far end is down).
const CLOSE_DRAIN: Duration = Duration::from_secs(5);

/// Outcome of one [`Transport::deliver`].
#[derive(Debug, Default)]
pub(crate) struct Delivery {
    /// Leading events the far end took.
    pub acked: usize,
    /// Events written to the wire.
    pub sent: usize,
    /// Leading events (after the acked ones) the far end refused for good:
    /// removed from the spool and counted as dropped.
    pub rejected: usize,
    /// Set when the connection is unusable; the rest is retried after a reconnect.
    pub error: Option<String>,
    /// A warning from the far end (delivery still succeeded).
    pub warning: Option<String>,
    /// The far end asked to wait this long before retrying.
    pub retry_after: Option<Duration>,
}

/// One protocol: connect, deliver a batch in order, keep an idle link alive.
pub(crate) trait Transport: Send + 'static {
    fn connect(&mut self) -> std::result::Result<(), String>;
    fn deliver(&mut self, events: &[ForwardEvent]) -> Delivery;
    /// Called when the link has been idle for a while (heartbeats).
    fn idle(&mut self) -> std::result::Result<(), String> {
        Ok(())
    }
    fn disconnect(&mut self);
}

/// Reconnect backoff: `base`, doubling up to `max`.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Retry {
    pub base: Duration,
    pub max: Duration,
    /// Idle time after which `Transport::idle` runs (`None`: never).
    pub idle: Option<Duration>,
}

impl Retry {
    /// From a `network_retry_time` in seconds (at least 1, doubling up to 8x)
    /// and an idle time in seconds (0: never idle).
    pub fn from_secs(network_retry_time: u64, idle: u64) -> Retry {
        let base = Duration::from_secs(network_retry_time.max(1));
        Retry {
            base,
            max: base * 8,
            idle: (idle > 0).then(|| Duration::from_secs(idle)),
        }
    }
}

#[derive(Debug, Default)]
struct Shared {
    submitted: AtomicU64,
    sent: AtomicU64,
    acked: AtomicU64,
    spooled: AtomicU64,
    spool_bytes: AtomicU64,
    queued: AtomicU64,
    dropped: AtomicU64,
    reconnects: AtomicU64,
    connected: AtomicBool,
    last_error: Mutex<String>,
    last_warning: Mutex<String>,
}

fn set(m: &Mutex<String>, s: &str) {
    if let Ok(mut g) = m.lock() {
        s.clone_into(&mut g);
    }
}

/// The bounded queue between the callers and the sink's thread, in events.
/// The thread takes everything waiting at once.
#[derive(Debug)]
struct Queue {
    state: Mutex<QueueState>,
    /// Signalled when events arrive or the queue closes.
    ready: Condvar,
    /// Signalled when the thread has taken events (room for waiting callers).
    room: Condvar,
    capacity: usize,
}

#[derive(Debug, Default)]
struct QueueState {
    events: Vec<ForwardEvent>,
    open: bool,
}

impl Queue {
    fn lock(&self) -> MutexGuard<'_, QueueState> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Queue `events` in order while there is room (waiting for room when
    /// `wait`); returns how many were queued.
    fn put(&self, mut events: impl ExactSizeIterator<Item = ForwardEvent>, wait: bool) -> usize {
        let mut done = 0;
        let mut q = self.lock();
        while events.len() > 0 && q.open {
            let room = self.capacity.saturating_sub(q.events.len());
            if room == 0 {
                if !wait {
                    break;
                }
                q = self.room.wait(q).unwrap_or_else(|p| p.into_inner());
                continue;
            }
            let take = room.min(events.len());
            let was_empty = q.events.is_empty();
            q.events.extend(events.by_ref().take(take));
            done += take;
            if was_empty {
                self.ready.notify_one();
            }
        }
        done
    }

    /// Move everything queued into `into` (waiting up to `wait` for the first
    /// event); `false` once the queue is closed and empty.
    fn take(&self, into: &mut Vec<ForwardEvent>, wait: Duration) -> bool {
        let mut q = self.lock();
        if q.events.is_empty() && q.open && !wait.is_zero() {
            q = self
                .ready
                .wait_timeout_while(q, wait, |q| q.events.is_empty() && q.open)
                .map(|(q, _)| q)
                .unwrap_or_else(|p| p.into_inner().0);
        }
        std::mem::swap(into, &mut q.events);
        if !into.is_empty() {
            self.room.notify_all();
        }
        q.open || !into.is_empty()
    }

    fn close(&self) {
        self.lock().open = false;
        self.ready.notify_all();
        self.room.notify_all();
    }
}

/// A running sink. Dropping it closes it (see [`SinkHandle::close`]).
#[derive(Debug)]
pub struct SinkHandle {
    name: String,
    queue: Arc<Queue>,
    shared: Arc<Shared>,
    thread: Mutex<Option<JoinHandle<()>>>,
}

pub(crate) fn start<T: Transport>(
    name: String,
    spool_cfg: &SpoolConfig,
    retry: Retry,
    transport: T,
) -> Result<SinkHandle> {
    let spool = Spool::open(&spool_cfg.spool_dir, spool_cfg.spool_max_bytes)
        .map_err(|e| Error::io("open sink spool", e))?;
    let shared = Arc::new(Shared::default());
    shared.spooled.store(spool.events(), Relaxed);
    shared.spool_bytes.store(spool.bytes(), Relaxed);
    let queue = Arc::new(Queue {
        state: Mutex::new(QueueState {
            events: Vec::new(),
            open: true,
        }),
        ready: Condvar::new(),
        room: Condvar::new(),
        capacity: spool_cfg.queue_depth.max(1),
    });
    let mut worker = Worker {
        queue: queue.clone(),
        incoming: Vec::new(),
        events: Vec::new(),
        ends: Vec::new(),
        spool,
        action: spool_cfg.spool_full_action,
        suspended: false,
        transport,
        retry,
        shared: shared.clone(),
        connected: false,
        ever_connected: false,
        next_attempt: Instant::now(),
        backoff: retry.base,
        last_activity: Instant::now(),
        payload: Vec::new(),
    };
    let thread = std::thread::Builder::new()
        .name(format!("sink-{name}"))
        .spawn(move || worker.run())
        .map_err(|e| Error::io("start sink thread", e))?;
    Ok(SinkHandle {
        name,
        queue,
        shared,
        thread: Mutex::new(Some(thread)),
    })
}

impl SinkHandle {
    /// Stop taking events, deliver what is spooled for a few seconds, stop
    /// the thread; what is left stays in the spool for the next start.
    pub fn close(&self) {
        self.queue.close();
        let thread = self.thread.lock().ok().and_then(|mut t| t.take());
        if let Some(t) = thread {
            let _ = t.join();
        }
    }
}

impl SinkHandle {
    /// Like [`Sink::submit_batch`] but waits for room in the queue: for
    /// replaying files, never for the live event path.
    pub fn submit_waiting(&self, events: Vec<ForwardEvent>) -> usize {
        self.put(events.into_iter(), true)
    }

    /// [`Sink::submit_batch`] for events the caller gives up (no copies).
    pub fn submit_owned(&self, events: Vec<ForwardEvent>) -> usize {
        self.put(events.into_iter(), false)
    }

    fn put(&self, events: impl ExactSizeIterator<Item = ForwardEvent>, wait: bool) -> usize {
        let s = &self.shared;
        let n = events.len() as u64;
        s.submitted.fetch_add(n, Relaxed);
        // Counted before the hand-over so the worker's decrement never underflows.
        s.queued.fetch_add(n, Relaxed);
        let done = self.queue.put(events, wait);
        let lost = n - done as u64;
        if lost > 0 {
            s.queued.fetch_sub(lost, Relaxed);
            s.dropped.fetch_add(lost, Relaxed);
        }
        done
    }
}

impl Drop for SinkHandle {
    fn drop(&mut self) {
        self.close();
    }
}

impl Sink for SinkHandle {
    fn name(&self) -> &str {
        &self.name
    }

    fn submit(&self, event: &ForwardEvent) -> bool {
        self.put(std::iter::once(event.clone()), false) == 1
    }

    fn submit_batch(&self, events: &[ForwardEvent]) -> usize {
        self.put(events.iter().cloned(), false)
    }

    fn stats(&self) -> SinkStats {
        let s = &self.shared;
        let text = |m: &Mutex<String>| m.lock().map(|g| g.clone()).unwrap_or_default();
        SinkStats {
            name: self.name.clone(),
            submitted: s.submitted.load(Relaxed),
            sent: s.sent.load(Relaxed),
            acked: s.acked.load(Relaxed),
            spooled: s.spooled.load(Relaxed),
            spool_bytes: s.spool_bytes.load(Relaxed),
            queued: s.queued.load(Relaxed),
            dropped: s.dropped.load(Relaxed),
            reconnects: s.reconnects.load(Relaxed),
            connected: s.connected.load(Relaxed),
            last_error: text(&s.last_error),
            last_warning: text(&s.last_warning),
        }
    }

    fn flush(&self, timeout: Duration) -> bool {
        let deadline = Instant::now() + timeout;
        loop {
            let s = &self.shared;
            if s.queued.load(Relaxed) == 0 && s.spooled.load(Relaxed) == 0 {
                return true;
            }
            if Instant::now() >= deadline {
                return false;
            }
            std::thread::sleep(Duration::from_millis(5));
        }
    }
}

struct Worker<T> {
    queue: Arc<Queue>,
    /// Events just taken from the queue (kept for their allocation).
    incoming: Vec<ForwardEvent>,
    /// The batch decoded from the spool for the transport.
    events: Vec<ForwardEvent>,
    /// End offset in `payload` of each encoded event of a batch.
    ends: Vec<usize>,
    spool: Spool,
    action: FullAction,
    suspended: bool,
    transport: T,
    retry: Retry,
    shared: Arc<Shared>,
    connected: bool,
    ever_connected: bool,
    next_attempt: Instant,
    backoff: Duration,
    last_activity: Instant,
    payload: Vec<u8>,
}

impl<T: Transport> Worker<T> {
    fn run(&mut self) {
        let mut closing: Option<Instant> = None;
        loop {
            let open = closing.is_none() && self.intake(Duration::ZERO);
            if !open && closing.is_none() {
                closing = Some(Instant::now() + CLOSE_DRAIN);
            }
            if let Some(deadline) = closing {
                // A far end that is down (waiting out a backoff) is not waited
                // for: what is spooled goes first on the next start.
                let down = !self.connected && Instant::now() < self.next_attempt;
                if self.spool.events() == 0 || Instant::now() >= deadline || down {
                    break;
                }
            }
            let progressed = self.step();
            if !progressed {
                let wait = if self.connected {
                    Duration::from_millis(200)
                } else {
                    self.next_attempt
                        .saturating_duration_since(Instant::now())
                        .min(Duration::from_millis(200))
                };
                if closing.is_some() {
                    std::thread::sleep(wait.min(Duration::from_millis(50)));
                } else {
                    self.intake(wait.max(Duration::from_millis(1)));
                }
            }
        }
        if self.connected {
            self.transport.disconnect();
        }
        self.shared.connected.store(false, Relaxed);
    }

    /// Move everything queued into the spool, waiting up to `wait` for the
    /// first event; `false` once the handle is closed and the queue empty.
    fn intake(&mut self, wait: Duration) -> bool {
        let mut incoming = std::mem::take(&mut self.incoming);
        let open = self.queue.take(&mut incoming, wait);
        if !incoming.is_empty() {
            self.store(&incoming);
        }
        incoming.clear();
        self.incoming = incoming;
        open
    }

    /// Append a batch to the spool with one write, applying the full action.
    fn store(&mut self, events: &[ForwardEvent]) {
        let s = &self.shared;
        let n = events.len() as u64;
        s.queued.fetch_sub(n, Relaxed);
        // The spool only grows during a batch, so checking once is enough.
        if self.suspended && self.spool.bytes() <= self.spool.max_bytes() / 2 {
            self.suspended = false;
        }
        if self.suspended {
            s.dropped.fetch_add(n, Relaxed);
            return;
        }
        self.payload.clear();
        self.ends.clear();
        for ev in events {
            ev.encode(&mut self.payload);
            self.ends.push(self.payload.len());
        }
        let mut start = 0;
        let payloads: Vec<&[u8]> = self
            .ends
            .iter()
            .map(|&end| {
                let p = &self.payload[start..end];
                start = end;
                p
            })
            .collect();
        let r = self.spool.append_batch(&payloads, self.action);
        s.dropped
            .fetch_add(r.dropped_oldest + r.full + r.failed, Relaxed);
        if r.full > 0 && self.action == FullAction::Suspend {
            self.suspended = true;
        }
        if let Some(e) = r.error {
            set(&s.last_error, &format!("spool write: {e}"));
        }
        self.publish_spool();
    }

    fn publish_spool(&self) {
        self.shared.spooled.store(self.spool.events(), Relaxed);
        self.shared.spool_bytes.store(self.spool.bytes(), Relaxed);
    }

    fn fail(&mut self, error: &str, retry_after: Option<Duration>) {
        set(&self.shared.last_error, error);
        if self.connected {
            self.transport.disconnect();
        }
        self.connected = false;
        self.shared.connected.store(false, Relaxed);
        let wait = retry_after.unwrap_or(self.backoff);
        self.next_attempt = Instant::now() + wait;
        self.backoff = (self.backoff * 2).min(self.retry.max);
    }

    /// Connect or deliver one batch; `true` when something moved.
    fn step(&mut self) -> bool {
        if !self.connected {
            if Instant::now() < self.next_attempt || self.spool.events() == 0 {
                return false;
            }
            match self.transport.connect() {
                Ok(()) => {
                    self.connected = true;
                    self.shared.connected.store(true, Relaxed);
                    if self.ever_connected {
                        self.shared.reconnects.fetch_add(1, Relaxed);
                    }
                    self.ever_connected = true;
                    self.last_activity = Instant::now();
                }
                Err(e) => {
                    self.fail(&e, None);
                    return false;
                }
            }
        }
        if self.spool.events() == 0 {
            if let Some(idle) = self.retry.idle {
                if self.last_activity.elapsed() >= idle {
                    self.last_activity = Instant::now();
                    if let Err(e) = self.transport.idle() {
                        self.fail(&e, None);
                    }
                }
            }
            return false;
        }
        self.spool.rewind();
        let mut events = std::mem::take(&mut self.events);
        events.clear();
        let peeked = self.spool.peek_each(BATCH_EVENTS, BATCH_BYTES, |p| {
            events.push(ForwardEvent::decode(p).unwrap_or_else(|| undecodable(p)));
        });
        if let Err(e) = peeked {
            set(&self.shared.last_error, &format!("spool read: {e}"));
            if events.is_empty() {
                // A damaged frame first in line cannot be delivered: give up
                // the rest of its segment, counted. (Frames before it were
                // handed out and go first.)
                match self.spool.skip_damaged() {
                    Ok(lost) => self.shared.dropped.fetch_add(lost, Relaxed),
                    Err(e) => {
                        set(&self.shared.last_error, &format!("spool skip: {e}"));
                        0
                    }
                };
                self.publish_spool();
                self.events = events;
                return true;
            }
        }
        let d = self.transport.deliver(&events);
        self.events = events;
        self.last_activity = Instant::now();
        self.shared.sent.fetch_add(d.sent as u64, Relaxed);
        self.shared.acked.fetch_add(d.acked as u64, Relaxed);
        self.shared.dropped.fetch_add(d.rejected as u64, Relaxed);
        if let Err(e) = self.spool.ack(d.acked + d.rejected) {
            set(&self.shared.last_error, &format!("spool cursor: {e}"));
        }
        self.spool.rewind();
        self.publish_spool();
        if let Some(w) = &d.warning {
            set(&self.shared.last_warning, w);
        }
        match d.error {
            Some(e) => {
                self.fail(&e, d.retry_after);
                d.acked > 0
            }
            None => {
                self.backoff = self.retry.base;
                if d.rejected > 0 {
                    if let Some(w) = &d.warning {
                        set(&self.shared.last_error, w);
                    }
                }
                true
            }
        }
    }
}

/// A frame whose checksum held but whose payload does not decode (written by
/// another version): forwarded as text so it is not silently lost.
fn undecodable(p: &[u8]) -> ForwardEvent {
    ForwardEvent {
        node: String::new(),
        sec: 0,
        msec: 0,
        serial: 0,
        text: String::from_utf8_lossy(p).into_owned(),
        json: None,
    }
}
