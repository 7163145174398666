//! The thread behind each sink: takes events from its bounded queue into the spool, delivers them in order through a transport, reconnects with backoff.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering::Relaxed};
use std::sync::mpsc::{sync_channel, Receiver, RecvTimeoutError, SyncSender, TrySendError};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use super::spool::{Appended, FullAction, Spool};
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

/// A running sink. Dropping it closes it (see [`SinkHandle::close`]).
#[derive(Debug)]
pub struct SinkHandle {
    name: String,
    tx: Mutex<Option<SyncSender<ForwardEvent>>>,
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
    let (tx, rx) = sync_channel(spool_cfg.queue_depth.max(1));
    let mut worker = Worker {
        rx,
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
        tx: Mutex::new(Some(tx)),
        shared,
        thread: Mutex::new(Some(thread)),
    })
}

impl SinkHandle {
    /// Stop taking events, deliver what is spooled for a few seconds, stop
    /// the thread; what is left stays in the spool for the next start.
    pub fn close(&self) {
        if let Ok(mut tx) = self.tx.lock() {
            tx.take();
        }
        let thread = self.thread.lock().ok().and_then(|mut t| t.take());
        if let Some(t) = thread {
            let _ = t.join();
        }
    }
}

impl SinkHandle {
    /// Like [`Sink::submit`] but waits for room in the queue: for replaying
    /// files, never for the live event path.
    pub fn submit_waiting(&self, event: &ForwardEvent) -> bool {
        let s = &self.shared;
        s.submitted.fetch_add(1, Relaxed);
        let tx = self.tx.lock().ok().and_then(|tx| tx.clone());
        // Counted before the send so the worker's decrement never underflows.
        s.queued.fetch_add(1, Relaxed);
        let ok = tx.is_some_and(|tx| tx.send(event.clone()).is_ok());
        if !ok {
            s.queued.fetch_sub(1, Relaxed);
            s.dropped.fetch_add(1, Relaxed);
        }
        ok
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
        let s = &self.shared;
        s.submitted.fetch_add(1, Relaxed);
        // Counted before the send so the worker's decrement never underflows.
        s.queued.fetch_add(1, Relaxed);
        let sent = match self.tx.lock() {
            Ok(tx) => match tx.as_ref().map(|tx| tx.try_send(event.clone())) {
                Some(Ok(())) => true,
                Some(Err(TrySendError::Full(_) | TrySendError::Disconnected(_))) | None => false,
            },
            Err(_) => false,
        };
        if !sent {
            s.queued.fetch_sub(1, Relaxed);
            s.dropped.fetch_add(1, Relaxed);
        }
        sent
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
    rx: Receiver<ForwardEvent>,
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
            let open = self.intake();
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
                    match self.rx.recv_timeout(wait) {
                        Ok(ev) => self.store(&ev),
                        Err(RecvTimeoutError::Timeout | RecvTimeoutError::Disconnected) => {}
                    }
                }
            }
        }
        if self.connected {
            self.transport.disconnect();
        }
        self.shared.connected.store(false, Relaxed);
    }

    /// Move everything queued into the spool; `false` once the handle is closed.
    fn intake(&mut self) -> bool {
        loop {
            match self.rx.try_recv() {
                Ok(ev) => self.store(&ev),
                Err(std::sync::mpsc::TryRecvError::Empty) => return true,
                Err(std::sync::mpsc::TryRecvError::Disconnected) => return false,
            }
        }
    }

    fn store(&mut self, ev: &ForwardEvent) {
        let s = &self.shared;
        s.queued.fetch_sub(1, Relaxed);
        if self.suspended && self.spool.bytes() <= self.spool.max_bytes() / 2 {
            self.suspended = false;
        }
        if self.suspended {
            s.dropped.fetch_add(1, Relaxed);
            return;
        }
        self.payload.clear();
        ev.encode(&mut self.payload);
        match self.spool.append(&self.payload, self.action) {
            Ok(Appended::Stored { dropped_oldest }) => {
                s.dropped.fetch_add(dropped_oldest, Relaxed);
            }
            Ok(Appended::Full) => {
                s.dropped.fetch_add(1, Relaxed);
                if self.action == FullAction::Suspend {
                    self.suspended = true;
                }
            }
            Err(e) => {
                s.dropped.fetch_add(1, Relaxed);
                set(&s.last_error, &format!("spool write: {e}"));
            }
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
        let batch = match self.spool.peek(BATCH_EVENTS, BATCH_BYTES) {
            Ok(b) => b,
            Err(e) => {
                // A damaged frame cannot be delivered: skip it, counted.
                set(&self.shared.last_error, &format!("spool read: {e}"));
                let _ = self.spool.peek(1, 0);
                let _ = self.spool.ack(1);
                self.shared.dropped.fetch_add(1, Relaxed);
                self.publish_spool();
                return true;
            }
        };
        let events: Vec<ForwardEvent> = batch
            .iter()
            .map(|p| ForwardEvent::decode(p).unwrap_or_else(|| undecodable(p)))
            .collect();
        let d = self.transport.deliver(&events);
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
