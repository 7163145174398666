//! The daemon's reader (socket -> bounded queue) and writer (format, log, plugins, Python queue, hand-off to the fan-out) threads.
//!
//! The reader only calls `AuditClient::receive_batch` and hands the batch on:
//! no parsing, no formatting, no allocation per record. Everything else runs
//! on the writer thread, in order, so the log's lines keep the kernel's order.

use std::collections::{HashSet, VecDeque};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::mpsc::{Receiver, RecvTimeoutError, SyncSender, TrySendError};
use std::sync::{Arc, Condvar, Mutex};
use std::time::Duration;

use super::fanout::{FanoutSender, Msg, Stage};
use super::format::{DaemonSerial, LineFormat};
use super::linegroups::LineGroups;
use super::plugins::{Plugin, PluginChunk};
use super::writer::LogWriter;
use crate::audit::client::{AuditClient, Batch};
use crate::audit::records::{parse_payload_lenient, Event, Reassembler};
use crate::audit::tables::msg;
use crate::error::Error;

/// What travels from the reader (and the control calls) to the writer.
pub enum Item {
    Records(Batch),
    /// Rotate, then log DAEMON_ROTATE with this text.
    Rotate(String),
    /// Resume logging, then log DAEMON_RESUME with this text.
    Resume(String),
    /// Replace the writer (new settings), then log DAEMON_CONFIG with this text.
    Reconfigure(Box<Outputs>, String),
    /// Log DAEMON_END (or DAEMON_ABORT) with this text, make it durable, end.
    End(u16, String),
    /// Answer once everything before it has been written (tests, `flush()`).
    Barrier(std::sync::mpsc::Sender<()>),
}

/// Counters of the pipeline, readable at any time.
#[derive(Debug, Default)]
pub struct PipelineCounters {
    pub records_received: AtomicU64,
    pub batches: AtomicU64,
    /// Times the reader found the queue to the writer full and had to wait.
    pub reader_waits: AtomicU64,
    pub receive_errors: AtomicU64,
    pub events_to_python: AtomicU64,
    /// Events the Python queue had no room for.
    pub python_dropped: AtomicU64,
    /// Lines written to the JSON files (events kept, and diverted ones to the filter log).
    pub json_events: AtomicU64,
    /// Lines whose write to a JSON file failed.
    pub json_errors: AtomicU64,
    pub json_rotations: AtomicU64,
    /// Events the fan-out queue had no room for (not in JSON, not forwarded).
    pub fanout_dropped: AtomicU64,
    /// Events the enricher's filters dropped / diverted to the filter log.
    pub events_filtered: AtomicU64,
    pub events_diverted: AtomicU64,
    /// Events handed to the sinks (each sink counts its own fate).
    pub events_forwarded: AtomicU64,
    /// Sinks a reload could not start (the reason went to syslog).
    pub sink_start_errors: AtomicU64,
}

/// Events waiting for the Python callback: bounded, never blocks the writer.
pub struct EventQueue {
    events: Mutex<VecDeque<Event>>,
    cond: Condvar,
    limit: usize,
    /// Record types an event must contain one of (None = every event).
    filter: Option<HashSet<u16>>,
    closed: AtomicBool,
}

impl EventQueue {
    pub fn new(limit: usize, filter: Option<HashSet<u16>>) -> EventQueue {
        EventQueue {
            events: Mutex::new(VecDeque::new()),
            cond: Condvar::new(),
            limit: limit.max(1),
            filter,
            closed: AtomicBool::new(false),
        }
    }

    fn offer(&self, events: &mut Vec<Event>, counters: &PipelineCounters) {
        let mut q = self.events.lock().unwrap_or_else(|p| p.into_inner());
        for ev in events.drain(..) {
            if let Some(f) = &self.filter {
                if !ev.records.iter().any(|r| f.contains(&r.msg_type)) {
                    continue;
                }
            }
            if q.len() >= self.limit {
                counters.python_dropped.fetch_add(1, Ordering::Relaxed);
                continue;
            }
            counters.events_to_python.fetch_add(1, Ordering::Relaxed);
            q.push_back(ev);
        }
        drop(q);
        self.cond.notify_all();
    }

    /// Up to `max` events, waiting up to `timeout` for the first. Empty once
    /// closed and drained.
    pub fn take(&self, max: usize, timeout: Duration) -> Vec<Event> {
        let mut q = self.events.lock().unwrap_or_else(|p| p.into_inner());
        if q.is_empty() && !self.closed.load(Ordering::Acquire) {
            q = self
                .cond
                .wait_timeout(q, timeout)
                .unwrap_or_else(|p| p.into_inner())
                .0;
        }
        let n = q.len().min(max);
        q.drain(..n).collect()
    }

    pub fn close(&self) {
        self.closed.store(true, Ordering::Release);
        self.cond.notify_all();
    }

    pub fn is_closed_and_empty(&self) -> bool {
        self.closed.load(Ordering::Acquire)
            && self
                .events
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .is_empty()
    }

    pub fn len(&self) -> usize {
        self.events.lock().unwrap_or_else(|p| p.into_inner()).len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// Everything the writer thread writes to; replaced whole on reconfigure.
pub struct Outputs {
    pub log: LogWriter,
    pub format: LineFormat,
    /// A new fan-out stage to install (on reload), handed to the fan-out thread.
    pub stage: Option<Box<Stage>>,
    /// Whether the fan-out thread's stage needs events.
    pub fans_out: bool,
    /// Whether its sinks take each record's log line (kept on the record, so
    /// the fan-out does not format it again).
    pub sinks_take_lines: bool,
    /// Whether that line is all the stage reads of a record (no JSON, no
    /// enrichment): unless Python wants events, the writer then groups the
    /// lines into events itself ([`LineGroups`]) instead of reassembling.
    pub lines_only: bool,
    pub plugins: Vec<Plugin>,
    pub end_of_event_timeout_ms: u64,
}

/// How the reader reads (from `[pipeline]` and `priority_boost`).
#[derive(Debug, Clone, Copy)]
pub struct ReaderSettings {
    pub batch_records: usize,
    pub linger: Duration,
    pub priority_boost: u32,
}

/// The reader thread: drain the socket into batches until `stop`, then
/// drain once more, unregister, drain what was left, and hand over `end`.
pub fn reader_main(
    client: &AuditClient,
    tx: &SyncSender<Item>,
    free: &Receiver<Batch>,
    stop: &AtomicBool,
    counters: &PipelineCounters,
    settings: ReaderSettings,
) {
    let ReaderSettings {
        batch_records,
        linger,
        priority_boost,
    } = settings;
    boost_this_thread(priority_boost);
    let mut batch = Batch::default();
    let pass = |batch: &mut Batch, wait: Option<Duration>, linger: Duration| -> bool {
        match client.receive_batch(batch, batch_records, wait, linger) {
            Ok(()) if batch.is_empty() => false,
            Ok(()) => {
                counters
                    .records_received
                    .fetch_add(batch.len() as u64, Ordering::Relaxed);
                counters.batches.fetch_add(1, Ordering::Relaxed);
                let full = std::mem::replace(batch, free.try_recv().unwrap_or_default());
                match tx.try_send(Item::Records(full)) {
                    Ok(()) => {}
                    Err(TrySendError::Full(item)) => {
                        counters.reader_waits.fetch_add(1, Ordering::Relaxed);
                        let _ = tx.send(item);
                    }
                    Err(TrySendError::Disconnected(_)) => {}
                }
                true
            }
            Err(Error::Closed) => false,
            Err(_) => {
                counters.receive_errors.fetch_add(1, Ordering::Relaxed);
                std::thread::sleep(Duration::from_millis(10));
                false
            }
        }
    };
    while !stop.load(Ordering::Acquire) {
        pass(&mut batch, Some(Duration::from_millis(100)), linger);
    }
    while pass(&mut batch, Some(Duration::ZERO), Duration::ZERO) {}
}

/// auditd's `priority_boost`, for the reader thread only: under CPU
/// contention the thread that empties the kernel's backlog runs first, and
/// the writer (formatting, plugins) yields to it. Best effort (needs
/// CAP_SYS_NICE to go below 0).
fn boost_this_thread(boost: u32) {
    if boost == 0 {
        return;
    }
    crate::audit::affinity::set_this_thread_nice(-(boost.min(20) as i32));
}

/// After the reader stopped: unregister, then take what the socket still holds.
pub fn drain_after_unregister(
    client: &AuditClient,
    tx: &SyncSender<Item>,
    counters: &PipelineCounters,
    batch_records: usize,
) {
    loop {
        let mut batch = Batch::default();
        match client.receive_batch(
            &mut batch,
            batch_records,
            Some(Duration::ZERO),
            Duration::ZERO,
        ) {
            Ok(()) if !batch.is_empty() => {
                counters
                    .records_received
                    .fetch_add(batch.len() as u64, Ordering::Relaxed);
                let _ = tx.send(Item::Records(batch));
            }
            _ => break,
        }
    }
}

/// The writer thread's state.
pub struct Writer {
    pub out: Outputs,
    pub serial: DaemonSerial,
    pub counters: Arc<PipelineCounters>,
    pub events: Option<Arc<EventQueue>>,
    pub free: SyncSender<Batch>,
    fanout: Option<FanoutSender>,
    lines: Vec<u8>,
    reassembler: Option<Reassembler>,
    completed: Vec<Event>,
    /// Instead of the reassembler, when the sinks take only log lines and
    /// nothing else wants events.
    groups: Option<LineGroups>,
}

impl Writer {
    pub fn new(
        out: Outputs,
        counters: Arc<PipelineCounters>,
        events: Option<Arc<EventQueue>>,
        free: SyncSender<Batch>,
        fanout: Option<FanoutSender>,
    ) -> Writer {
        let mut w = Writer {
            out,
            serial: DaemonSerial::new(),
            counters,
            events,
            free,
            fanout,
            lines: Vec::with_capacity(1 << 20),
            reassembler: None,
            completed: Vec::new(),
            groups: None,
        };
        w.reset_reassembler();
        w
    }

    fn wants_events(&self) -> bool {
        self.events.is_some() || (self.out.fans_out && self.fanout.is_some())
    }

    fn reset_reassembler(&mut self) {
        let lines = self.events.is_none() && self.out.lines_only;
        let timeout = self.out.end_of_event_timeout_ms;
        // The node the fan-out gives events (see `Stage`).
        self.groups = (lines && self.wants_events())
            .then(|| LineGroups::new(timeout, self.out.format.sink_node()));
        self.reassembler = (!lines && self.wants_events())
            .then(|| Reassembler::new(4096, self.out.end_of_event_timeout_ms));
    }

    /// Format, log and hand out one run of records.
    fn records<'a>(&mut self, recs: impl Iterator<Item = (u16, &'a [u8])>) {
        self.lines.clear();
        let mut chunk = (!self.out.plugins.is_empty()).then(|| PluginChunk {
            formatted: self.out.format.enriched || self.out.format.node.is_some(),
            ..Default::default()
        });
        let mut count = 0u64;
        for (t, payload) in recs {
            if t == msg::EOE {
                self.group(t, payload, None);
                // Not logged (auditd: "End of Event is for realtime interface"),
                // but plugins get it.
                if let Some(c) = chunk.as_mut() {
                    let s = c.data.len();
                    self.out.format.write(t, payload, &mut c.data);
                    c.records.push((t, s as u32, (c.data.len() - 1) as u32));
                }
                continue;
            }
            let s = self.lines.len();
            self.out.format.write(t, payload, &mut self.lines);
            count += 1;
            // The sinks send this very line (without its line end).
            self.group(t, payload, Some(s..self.lines.len() - 1));
            if let Some(c) = chunk.as_mut() {
                let cs = c.data.len();
                c.data.extend_from_slice(&self.lines[s..]);
                c.records.push((t, cs as u32, (c.data.len() - 1) as u32));
            }
        }
        self.out.log.write(&self.lines, count);
        if let Some(c) = chunk {
            let c = Arc::new(c);
            for p in &self.out.plugins {
                p.offer(&c);
            }
        }
        self.hand_out_events();
    }

    /// Hand one record to the reassembler, if events are wanted: only its
    /// header parsed when nothing downstream reads its fields (the sinks take
    /// its log line, nobody its JSON), with that line (`line`, in
    /// `self.lines`) when the sinks take it.
    fn group(&mut self, t: u16, payload: &[u8], line: Option<std::ops::Range<usize>>) {
        if let Some(g) = self.groups.as_mut() {
            g.push(t, payload, line.map(|l| &self.lines[l]));
            return;
        }
        let Some(r) = self.reassembler.as_mut() else {
            return;
        };
        let mut rec = parse_payload_lenient(t, payload);
        if let Some(line) = line.filter(|_| self.out.sinks_take_lines) {
            rec.set_line(&self.lines[line]);
        }
        r.push(rec, &mut self.completed);
    }

    fn hand_out_events(&mut self) {
        if let (Some(g), Some(f)) = (self.groups.as_mut(), &self.fanout) {
            f.offer_lines(g.take());
        }
        if self.completed.is_empty() {
            return;
        }
        if let (true, Some(f)) = (self.out.fans_out, &self.fanout) {
            if self.events.is_some() {
                f.offer(self.completed.clone());
            } else {
                f.offer(std::mem::take(&mut self.completed));
            }
        }
        match &self.events {
            Some(q) => q.offer(&mut self.completed, &self.counters),
            None => self.completed.clear(),
        }
    }

    /// Log one of the daemon's own records.
    pub fn daemon_record(&mut self, msg_type: u16, text: &str) {
        let payload = self.serial.payload(text);
        self.records(std::iter::once((msg_type, payload.as_slice())));
    }

    /// Handle items until End. Returns when the End record is durable.
    pub fn run(&mut self, rx: &Receiver<Item>) {
        let tick = Duration::from_millis(self.out.end_of_event_timeout_ms.clamp(100, 1000));
        let mut last_item = std::time::Instant::now();
        loop {
            let item = match rx.recv_timeout(tick) {
                Ok(item) => {
                    last_item = std::time::Instant::now();
                    item
                }
                Err(RecvTimeoutError::Timeout) => {
                    // Events still open after end_of_event_timeout of silence
                    // will get no more records: hand them out incomplete.
                    let eoe = Duration::from_millis(self.out.end_of_event_timeout_ms);
                    if last_item.elapsed() >= eoe {
                        self.expire_idle();
                    }
                    continue;
                }
                Err(RecvTimeoutError::Disconnected) => break,
            };
            match item {
                Item::Records(mut batch) => {
                    self.records((0..batch.len()).filter_map(|i| batch.get(i)));
                    batch.clear();
                    let _ = self.free.try_send(batch);
                }
                Item::Rotate(text) => {
                    self.out.log.rotate_now();
                    if let Some(f) = &self.fanout {
                        f.control(Msg::Rotate);
                    }
                    self.daemon_record(msg::DAEMON_ROTATE, &text);
                }
                Item::Resume(text) => {
                    self.out.log.resume();
                    self.daemon_record(msg::DAEMON_RESUME, &text);
                }
                Item::Reconfigure(outputs, text) => {
                    self.flush_events();
                    self.out = *outputs;
                    if let (Some(stage), Some(f)) = (self.out.stage.take(), &self.fanout) {
                        f.control(Msg::Replace(stage));
                    }
                    self.reset_reassembler();
                    self.daemon_record(msg::DAEMON_CONFIG, &text);
                }
                Item::End(t, text) => {
                    self.flush_events();
                    self.daemon_record(t, &text);
                    break;
                }
                Item::Barrier(done) => {
                    self.out.log.sync();
                    // The fan-out answers once it has written what came before.
                    match &self.fanout {
                        Some(f) => f.control(Msg::Barrier(done)),
                        None => {
                            let _ = done.send(());
                        }
                    }
                }
            }
        }
        self.out.log.sync();
        for p in &mut self.out.plugins {
            p.stop();
        }
        if let Some(q) = &self.events {
            q.close();
        }
    }

    fn expire_idle(&mut self) {
        if let Some(g) = self.groups.as_mut() {
            g.flush();
        }
        if let Some(r) = self.reassembler.as_mut() {
            let now = r
                .newest_ms()
                .saturating_add(self.out.end_of_event_timeout_ms);
            r.expire_at(now, &mut self.completed);
        }
        self.hand_out_events();
    }

    fn flush_events(&mut self) {
        if let Some(g) = self.groups.as_mut() {
            g.flush();
        }
        if let Some(r) = self.reassembler.as_mut() {
            r.flush(&mut self.completed);
        }
        self.hand_out_events();
    }
}

#[cfg(test)]
#[path = "pipeline_tests.rs"]
mod tests;
