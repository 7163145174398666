//! The thread behind each sink: takes events from its bounded queue into the spool, delivers them in order through a transport, reconnects with backoff.
//!
//! Each sink has two threads: the intake ([`super::intake`]) moves what the
//! callers queue into the spool, and this one delivers from the spool, so a
//! far end that is slow to acknowledge never stops events from reaching the
//! disk. Everything on the way is batched, because each system call is also
//! seen (and possibly audited) by the kernel: the queue hands over all waiting
//! events at once, the spool appends them with one write, and a transport
//! sends up to [`BATCH_EVENTS`] at once.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering::Relaxed};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use super::intake::{publish, Intake, Payload, Queue, SpoolLock};
use super::spool::Spool;
use super::{ForwardEvent, Sink, SinkStats, SpoolConfig};
use crate::audit::packed::Packed;
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
///
/// A transport either answers each batch in [`deliver`](Transport::deliver)
/// (window 1), or pipelines: [`begin`](Transport::begin) hands a batch over
/// and returns at once, and [`answer`](Transport::answer) gives the answers
/// in hand-over order, with up to [`window`](Transport::window) batches
/// awaiting theirs.
pub(crate) trait Transport: Send + 'static {
    fn connect(&mut self) -> std::result::Result<(), String>;
    fn deliver(&mut self, events: &[ForwardEvent]) -> Delivery;
    /// Batches that may await their answers at once.
    fn window(&self) -> usize {
        1
    }
    /// Hand `events` over: `Some` answer when delivered already, `None` when
    /// it comes from [`answer`](Transport::answer). A pipelined transport
    /// takes the events (leaving `events` empty).
    fn begin(&mut self, events: &mut Vec<ForwardEvent>) -> Option<Delivery> {
        Some(self.deliver(events))
    }
    /// The answer for the oldest batch `begin` took without answering (waits for it).
    fn answer(&mut self) -> Delivery {
        Delivery {
            error: Some("no batch awaits an answer".into()),
            ..Delivery::default()
        }
    }
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
pub(super) struct Shared {
    pub(super) submitted: AtomicU64,
    pub(super) sent: AtomicU64,
    pub(super) acked: AtomicU64,
    pub(super) spooled: AtomicU64,
    pub(super) spool_bytes: AtomicU64,
    pub(super) queued: AtomicU64,
    pub(super) dropped: AtomicU64,
    pub(super) reconnects: AtomicU64,
    pub(super) connected: AtomicBool,
    pub(super) last_error: Mutex<String>,
    pub(super) last_warning: Mutex<String>,
}

pub(super) fn set(m: &Mutex<String>, s: &str) {
    if let Ok(mut g) = m.lock() {
        s.clone_into(&mut g);
    }
}

/// A running sink. Dropping it closes it (see [`SinkHandle::close`]).
#[derive(Debug)]
pub struct SinkHandle {
    name: String,
    queue: Arc<Queue>,
    shared: Arc<Shared>,
    spool: Arc<SpoolLock>,
    /// The intake thread, then the delivering one (joined in that order).
    threads: Mutex<Vec<JoinHandle<()>>>,
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
    let queue = Arc::new(Queue::new(spool_cfg.queue_depth));
    let spool = Arc::new(SpoolLock::new(spool));
    let intake = Intake::new(
        queue.clone(),
        spool.clone(),
        shared.clone(),
        spool_cfg.spool_full_action,
    );
    let mut worker = Worker {
        events: Vec::new(),
        pending: VecDeque::new(),
        spool: spool.clone(),
        transport,
        retry,
        shared: shared.clone(),
        connected: false,
        ever_connected: false,
        next_attempt: Instant::now(),
        backoff: retry.base,
        last_activity: Instant::now(),
    };
    let spawn = |tag: &str, f: Box<dyn FnOnce() + Send>| {
        std::thread::Builder::new()
            .name(format!("{tag}{name}"))
            .spawn(f)
            .map_err(|e| Error::io("start sink thread", e))
    };
    let first = spawn("sinkin-", Box::new(move || intake.run()))?;
    let nice = spool_cfg.nice;
    let deliver = move || {
        // Before anything it starts (the remote sink's ack reader) inherits it.
        crate::audit::affinity::set_this_thread_nice(nice);
        worker.run();
    };
    let threads = match spawn("sink-", Box::new(deliver)) {
        Ok(second) => vec![first, second],
        Err(e) => {
            queue.close();
            let _ = first.join();
            return Err(e);
        }
    };
    Ok(SinkHandle {
        name,
        queue,
        shared,
        spool,
        threads: Mutex::new(threads),
    })
}

impl SinkHandle {
    /// Stop taking events, deliver what is spooled for a few seconds, stop
    /// the thread; what is left stays in the spool for the next start.
    pub fn close(&self) {
        self.queue.close();
        let threads = self
            .threads
            .lock()
            .map(|mut t| std::mem::take(&mut *t))
            .unwrap_or_default();
        for t in threads {
            let _ = t.join();
        }
    }
}

/// How long a live submit waits for room in a full queue before it drops
/// what does not fit. The queue is full only while the intake thread is held
/// up (it moves everything queued into the spool at once); the wait turns
/// such a hold-up into back-pressure on the caller (the daemon's fan-out
/// thread, which has its own queue, never the reader) instead of a loss.
pub const ROOM_WAIT: Duration = Duration::from_secs(1);

impl SinkHandle {
    /// Like [`Sink::submit_batch`] but waits for room in the queue as long
    /// as it takes: for replaying files, never for the live event path.
    pub fn submit_waiting(&self, events: &[ForwardEvent]) -> usize {
        self.put(events.iter(), None)
    }

    /// [`Sink::submit_batch`] for events encoded already (spool payloads,
    /// as [`ForwardEvent::encode`] writes them).
    pub fn submit_encoded(&self, payloads: &Packed) -> usize {
        self.put(payloads.iter(), Some(ROOM_WAIT))
    }

    /// [`submit_encoded`](Self::submit_encoded) waiting for room as long as
    /// it takes: for a reader that can wait (a sink reading the daemon's
    /// log back), never for the live event path.
    pub fn submit_encoded_waiting(&self, payloads: &Packed) -> usize {
        self.put(payloads.iter(), None)
    }

    /// Whether everything submitted so far is in the spool (or counted as
    /// dropped): nothing of it waits in memory any more.
    pub fn all_spooled(&self) -> bool {
        self.shared.queued.load(Relaxed) == 0
    }

    /// Wait up to `timeout` for [`all_spooled`](Self::all_spooled), woken
    /// by the intake's append rather than polling; `false` if time ran out
    /// (or the sink is closing).
    pub fn wait_spooled(&self, timeout: Duration) -> bool {
        self.spool.wait_taken(&self.shared.queued, timeout)
    }

    fn put(
        &self,
        events: impl ExactSizeIterator<Item = impl Payload>,
        wait: Option<Duration>,
    ) -> usize {
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
            self.spool.signal();
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
        self.put(std::iter::once(event), Some(ROOM_WAIT)) == 1
    }

    fn submit_batch(&self, events: &[ForwardEvent]) -> usize {
        self.put(events.iter(), Some(ROOM_WAIT))
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

/// A batch handed to the transport whose answer is not settled yet.
struct InFlight {
    events: usize,
    /// The spool's [`rewinds`](Spool::rewinds) when it was handed out: if it
    /// changed since, the spool took the frames back and the answer cannot
    /// move its cursor.
    rewinds: u64,
    /// The answer, when the transport gave it in `begin`.
    answer: Option<Delivery>,
}

struct Worker<T> {
    /// The batch decoded from the spool for the transport.
    events: Vec<ForwardEvent>,
    /// Batches awaiting their answers, oldest first (at most `window`).
    pending: VecDeque<InFlight>,
    spool: Arc<SpoolLock>,
    transport: T,
    retry: Retry,
    shared: Arc<Shared>,
    connected: bool,
    ever_connected: bool,
    next_attempt: Instant,
    backoff: Duration,
    last_activity: Instant,
}

impl<T: Transport> Worker<T> {
    fn run(&mut self) {
        let mut closing: Option<Instant> = None;
        loop {
            if closing.is_none() && self.spool.intake_done() {
                closing = Some(Instant::now() + CLOSE_DRAIN);
            }
            let waiting = self.spool.lock().events();
            if let Some(deadline) = closing {
                // A far end that is down (waiting out a backoff) is not waited
                // for: what is spooled goes first on the next start.
                let down = !self.connected && Instant::now() < self.next_attempt;
                if waiting == 0 || Instant::now() >= deadline || down {
                    break;
                }
            }
            let progressed = self.step();
            if !progressed {
                // Not connected with nothing spooled: no attempt is due, so
                // wait for events (the time to the next attempt is then
                // often zero, and waiting that long polled).
                let wait = if self.connected || waiting == 0 {
                    Duration::from_millis(200)
                } else {
                    self.next_attempt
                        .saturating_duration_since(Instant::now())
                        .min(Duration::from_millis(200))
                };
                if closing.is_some() {
                    std::thread::sleep(wait.min(Duration::from_millis(50)));
                } else {
                    self.spool.wait_for_more(waiting, wait);
                }
            }
        }
        // Answers still due are awaited (bounded by the transport's own
        // timeout) so what the far end took leaves the spool.
        while !self.pending.is_empty() {
            self.settle_oldest();
        }
        if self.connected {
            self.transport.disconnect();
        }
        self.shared.connected.store(false, Relaxed);
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

    /// Connect, hand batches over until the window is full, settle the
    /// oldest answer; `true` when something moved.
    fn step(&mut self) -> bool {
        if !self.connected {
            if Instant::now() < self.next_attempt || self.spool.lock().events() == 0 {
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
        if self.pending.is_empty() && self.spool.lock().events() == 0 {
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
        if self.fill() {
            return true;
        }
        if self.pending.is_empty() {
            return false;
        }
        self.settle_oldest()
    }

    /// Hand batches from the spool to the transport until its window is
    /// full or nothing more is spooled. `true` when a damaged spool segment
    /// was given up (nothing handed over then).
    fn fill(&mut self) -> bool {
        let window = self.transport.window().max(1);
        while self.pending.len() < window {
            // Decoded into the events of the last batch, reusing their room.
            let mut events = std::mem::take(&mut self.events);
            let mut used = 0usize;
            let rewinds;
            {
                let mut sp = self.spool.lock();
                if self.pending.is_empty() {
                    // Nothing awaits an answer: start again from the cursor
                    // (after a failure, the first unacknowledged event).
                    sp.rewind();
                }
                rewinds = sp.rewinds();
                let peeked = sp.peek_each(BATCH_EVENTS, BATCH_BYTES, |p| {
                    match events.get_mut(used) {
                        Some(ev) => {
                            if !ev.decode_into(p) {
                                *ev = undecodable(p);
                            }
                        }
                        None => {
                            events.push(ForwardEvent::decode(p).unwrap_or_else(|| undecodable(p)))
                        }
                    }
                    used += 1;
                });
                events.truncate(used);
                if let Err(e) = peeked {
                    set(&self.shared.last_error, &format!("spool read: {e}"));
                    if events.is_empty() {
                        self.events = events;
                        if !self.pending.is_empty() {
                            // Settled first: the damage is dealt with from the cursor.
                            return false;
                        }
                        // A damaged frame first in line cannot be delivered: give
                        // up the rest of its segment, counted. (Frames before it
                        // were handed out and go first.)
                        match sp.skip_damaged() {
                            Ok(lost) => self.shared.dropped.fetch_add(lost, Relaxed),
                            Err(e) => {
                                set(&self.shared.last_error, &format!("spool skip: {e}"));
                                0
                            }
                        };
                        publish(&self.shared, &sp);
                        return true;
                    }
                }
            }
            if events.is_empty() {
                self.events = events;
                return false;
            }
            // The spool is not locked while the far end takes its time: the
            // intake keeps appending.
            let n = events.len();
            let answer = self.transport.begin(&mut events);
            self.events = events;
            self.pending.push_back(InFlight {
                events: n,
                rewinds,
                answer,
            });
        }
        false
    }

    /// Wait for the oldest batch's answer and apply it: the spool's cursor
    /// moves past it (every earlier batch being settled already). When it
    /// was not taken whole, the later batches' answers are awaited and
    /// ignored, and everything from the cursor is handed out again, in order.
    fn settle_oldest(&mut self) -> bool {
        let Some(batch) = self.pending.pop_front() else {
            return false;
        };
        let d = match batch.answer {
            Some(d) => d,
            None => self.transport.answer(),
        };
        self.last_activity = Instant::now();
        self.shared.sent.fetch_add(d.sent as u64, Relaxed);
        let done = d.acked + d.rejected;
        let mut whole = d.error.is_none() && done >= batch.events;
        {
            let mut sp = self.spool.lock();
            if sp.rewinds() == batch.rewinds {
                self.shared.acked.fetch_add(d.acked as u64, Relaxed);
                self.shared.dropped.fetch_add(d.rejected as u64, Relaxed);
                if let Err(e) = sp.ack(done) {
                    set(&self.shared.last_error, &format!("spool cursor: {e}"));
                }
            } else {
                whole = false;
            }
            publish(&self.shared, &sp);
        }
        if !whole {
            // Later batches may have been taken: they are sent again (the
            // duplicates a receiver drops by id).
            for later in std::mem::take(&mut self.pending) {
                let d = match later.answer {
                    Some(d) => d,
                    None => self.transport.answer(),
                };
                self.shared.sent.fetch_add(d.sent as u64, Relaxed);
            }
            let mut sp = self.spool.lock();
            sp.rewind();
            publish(&self.shared, &sp);
        }
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
        fields: None,
    }
}
