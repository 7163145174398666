//! The daemon's fan-out thread: enrichment and its filters, the JSON lines files (rotated), and the forwarding sinks.
//!
//! The writer hands each batch of completed events over a queue bounded in
//! events (`[pipeline] fanout_events`); when it is full the batch is dropped
//! and counted, never waited for, so neither /proc lookups of the enricher nor
//! a JSON disk nor a sink can slow the auditd-format log or the kernel reader.
//! Each sink then has its own bounded queue and spool (`crate::audit::sinks`).
//!
//! Per event: with an enricher, `Enricher::write_json` gives the verdict —
//! kept events go to the JSON file and to every sink (their JSON is the
//! enriched one), diverted events only to the filter log, dropped events
//! nowhere (all three counted). Without an enricher every event goes to the
//! JSON file and the sinks.

use std::fs::{File, OpenOptions};
use std::io::{self, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::mpsc::{channel, Receiver, Sender};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;

use super::config::LogFormat;
use super::extras::{json_rotation, Extras};
use super::format::LineFormat;
use super::logtail::{LogFeed, LogTail, TailSettings};
use super::pipeline::PipelineCounters;
use super::syslog;
use super::writer::numbered;
use super::DaemonConfig;
use crate::audit::enrich::{Enricher, Verdict};
use crate::audit::packed::Packed;
use crate::audit::records::json::event_to_json;
use crate::audit::records::parse::find_byte;
use crate::audit::records::Event;
use crate::audit::sinks::{EventFields, ForwardEvent, Sink, SinkConfig, SinkHandle, SinkStats};
use crate::error::{Error, Result};

/// A JSON lines file, rotated by size and on request as the log is
/// (`path` -> `path.1` ... `path.N`).
pub struct JsonFile {
    path: PathBuf,
    file: File,
    size: u64,
    max_size: u64,
    generations: u32,
}

fn open_append(path: &PathBuf) -> io::Result<File> {
    OpenOptions::new()
        .append(true)
        .create(true)
        .mode(0o600)
        .custom_flags(libc::O_CLOEXEC | libc::O_NOFOLLOW)
        .open(path)
}

impl JsonFile {
    pub fn open(path: PathBuf, max_size: u64, generations: u32) -> Result<JsonFile> {
        let file = open_append(&path).map_err(|e| Error::io("open the JSON lines output", e))?;
        let size = file.metadata().map(|m| m.len()).unwrap_or(0);
        Ok(JsonFile {
            path,
            file,
            size,
            max_size,
            generations,
        })
    }

    /// Append whole lines; rotate after the line that reaches the size limit.
    pub fn write(&mut self, mut lines: &[u8], rotations: &AtomicU64) -> io::Result<()> {
        while !lines.is_empty() {
            let room = match self.max_size {
                0 => lines.len(),
                max => max.saturating_sub(self.size).max(1) as usize,
            };
            let cut = match lines.get(room.saturating_sub(1)..) {
                Some(rest) => room - 1 + find_byte(rest, b'\n').map_or(rest.len(), |p| p + 1),
                None => lines.len(),
            };
            let (now, rest) = lines.split_at(cut);
            self.file.write_all(now)?;
            self.size += now.len() as u64;
            if self.max_size > 0 && self.size >= self.max_size {
                self.rotate(rotations);
            }
            lines = rest;
        }
        Ok(())
    }

    /// `path.N-1` -> `path.N` ... `path` -> `path.1`, then a new `path`. With
    /// no generations to keep, nothing is rotated (as auditd with num_logs < 2).
    pub fn rotate(&mut self, rotations: &AtomicU64) {
        if self.generations == 0 {
            return;
        }
        let _ = self.file.sync_data();
        for i in (2..=self.generations).rev() {
            let _ = std::fs::rename(numbered(&self.path, i - 1), numbered(&self.path, i));
        }
        if let Err(e) = std::fs::rename(&self.path, numbered(&self.path, 1)) {
            syslog::err(&format!("rotating {}: {e}", self.path.display()));
            return;
        }
        match open_append(&self.path) {
            Ok(f) => {
                self.file = f;
                self.size = 0;
                rotations.fetch_add(1, Ordering::Relaxed);
            }
            Err(e) => syslog::err(&format!("reopening {}: {e}", self.path.display())),
        }
    }

    pub fn sync(&self) {
        let _ = self.file.sync_data();
    }
}

/// Everything the fan-out thread writes to; replaced whole on reload.
pub struct Stage {
    json: Option<JsonFile>,
    diverted: Option<JsonFile>,
    line_prefix: Vec<u8>,
    enricher: Option<Enricher>,
    /// Sinks to start when this stage is installed (after the previous
    /// stage's sinks closed, since a sink owns its spool directory).
    sink_configs: Vec<SinkConfig>,
    /// The running sinks in their configured order (for the stats).
    sinks: Vec<Arc<SinkHandle>>,
    /// The running sinks this thread feeds (all but those reading the log).
    fed: Vec<Arc<SinkHandle>>,
    /// With sinks that read the log back (`read_log`): what they need.
    tail: Option<TailSettings>,
    /// Their readers, stopped before the sinks close.
    tails: Vec<LogTail>,
    sink_json: bool,
    /// Whether a sink labels events with their main fields.
    sink_fields: bool,
    /// The node name sinks report (name_format's, else the host name).
    node: String,
    /// The log's line format: sinks carry the records as the log has them.
    format: LineFormat,
}

impl Stage {
    /// Open the JSON files and build the enricher (errors here fail a start
    /// or a reload); sinks start later, with [`Stage::start_sinks`].
    pub fn prepare(extras: &Extras, cfg: &DaemonConfig, format: &LineFormat) -> Result<Stage> {
        let (json, diverted, line_prefix) = match &extras.json {
            Some(j) => {
                let (size, generations) = json_rotation(j, cfg);
                let div = match &j.filter_log {
                    Some(p) => Some(JsonFile::open(p.clone(), size, generations)?),
                    None => None,
                };
                (
                    Some(JsonFile::open(j.path.clone(), size, generations)?),
                    div,
                    j.line_prefix.clone().unwrap_or_default().into_bytes(),
                )
            }
            None => (None, None, Vec::new()),
        };
        let enricher = match &extras.enrichment {
            Some(c) => Some(Enricher::new(c.clone())?),
            None => None,
        };
        Ok(Stage {
            json,
            diverted,
            line_prefix,
            enricher,
            sink_json: extras.sinks.iter().any(SinkConfig::wants_json),
            sink_fields: extras.sinks.iter().any(SinkConfig::wants_fields),
            sink_configs: extras.sinks.clone(),
            sinks: Vec::new(),
            fed: Vec::new(),
            tail: None,
            tails: Vec::new(),
            node: format.sink_node(),
            format: LineFormat {
                node: format.node.clone(),
                enriched: format.enriched,
            },
        })
    }

    /// Let the sinks with `read_log = true` read `cfg`'s log as the writer
    /// hands its files to `feed` (else this thread feeds them as the others).
    pub fn follow_log(&mut self, feed: &Arc<LogFeed>, cfg: &DaemonConfig) -> Result<()> {
        if !self.sink_configs.iter().any(|c| c.spool().read_log) {
            return Ok(());
        }
        if !cfg.write_logs || cfg.log_format == LogFormat::Nolog {
            return Err(Error::InvalidArgument(
                "a sink with read_log = true needs the log: write_logs = yes and \
                 log_format = RAW or ENRICHED"
                    .into(),
            ));
        }
        self.tail = Some(TailSettings {
            feed: feed.clone(),
            log_file: cfg.log_file.clone(),
            timeout_ms: u64::from(cfg.end_of_event_timeout) * 1000,
            node: self.node.clone(),
        });
        Ok(())
    }

    /// Whether a sink of this stage reads the log (see [`follow_log`](Self::follow_log)).
    pub fn follows_log(&self) -> bool {
        self.tail.is_some()
    }

    fn reads_log(&self, c: &SinkConfig) -> bool {
        self.tail.is_some() && c.spool().read_log
    }

    /// Start the configured sinks (opening or recovering their spools), and
    /// the readers of those that read the log.
    pub fn start_sinks(&mut self) -> Result<()> {
        for c in std::mem::take(&mut self.sink_configs) {
            let sink = Arc::new(c.start()?);
            match self.tail.as_ref().filter(|_| c.spool().read_log) {
                Some(t) => {
                    let tail = LogTail::start(sink.clone(), &c.name(), c.spool(), t)?;
                    self.tails.push(tail);
                }
                None => self.fed.push(sink.clone()),
            }
            self.sinks.push(sink);
        }
        Ok(())
    }

    /// Whether this stage forwards events the writer hands it to sinks
    /// (which send each record's log line).
    pub fn has_sinks(&self) -> bool {
        !self.fed.is_empty() || self.sink_configs.iter().any(|c| !self.reads_log(c))
    }

    /// Whether a record's log line is all this stage reads of it: sinks that
    /// send text only, no JSON file, no enrichment.
    pub fn takes_only_lines(&self) -> bool {
        self.has_sinks()
            && self.json.is_none()
            && self.enricher.is_none()
            && !self.sink_json
            && !self.sink_fields
    }

    /// Whether events must be reassembled for this stage.
    pub fn is_active(&self) -> bool {
        self.json.is_some() || self.enricher.is_some() || self.has_sinks()
    }

    /// Add `ev` to `batch`, the events the sinks get together.
    fn forward(
        &self,
        ev: &Event,
        json: Option<&[u8]>,
        text: &mut Vec<u8>,
        batch: &mut Vec<ForwardEvent>,
    ) {
        text.clear();
        for r in &ev.records {
            match r.line() {
                // The line the writer logged (the usual case).
                Some(line) => {
                    text.extend_from_slice(line);
                    text.push(b'\n');
                }
                None => self.format.write(r.msg_type, r.text(), text),
            }
        }
        text.pop();
        let json = match (self.sink_json, json) {
            (false, _) => None,
            (true, Some(j)) => Some(String::from_utf8_lossy(j).into_owned()),
            (true, None) => {
                let mut out = Vec::with_capacity(2048);
                event_to_json(ev, &mut out);
                // Valid UTF-8 (the usual case) is taken as is, without a copy.
                Some(
                    String::from_utf8(out)
                        .unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned()),
                )
            }
        };
        batch.push(ForwardEvent {
            node: self.node.clone(),
            sec: ev.timestamp.sec,
            msec: ev.timestamp.msec,
            serial: ev.serial,
            text: String::from_utf8_lossy(text).into_owned(),
            json,
            fields: self
                .sink_fields
                .then(|| EventFields::from_records(&ev.records)),
        });
    }

    /// Flush the files, save the enricher's state, close the sinks (each
    /// delivers what it can for a few seconds; the rest stays spooled).
    fn close(&mut self) {
        for f in [&self.json, &self.diverted].into_iter().flatten() {
            f.sync();
        }
        if let Some(e) = self.enricher.as_mut() {
            let _ = e.save_state();
        }
        // The readers first: they read to the end of the log.
        for t in &mut self.tails {
            t.stop();
        }
        for s in &self.sinks {
            s.close();
        }
    }
}

pub enum Msg {
    Events(Vec<Event>),
    /// Events the writer grouped from log lines, encoded as the sinks'
    /// payloads (with the node), for the sinks only.
    Lines(Packed),
    /// SIGUSR1: rotate the JSON files too.
    Rotate,
    /// Reload: close the current stage, install this one.
    Replace(Box<Stage>),
    /// Answer once everything before it is written.
    Barrier(Sender<()>),
    End,
}

/// The writer's end of the fan-out queue.
#[derive(Clone)]
pub struct FanoutSender {
    tx: Sender<Msg>,
    queued: Arc<AtomicUsize>,
    limit: usize,
    counters: Arc<PipelineCounters>,
}

impl FanoutSender {
    /// Queue a batch of events, or drop it (counted) when the queue is full.
    pub fn offer(&self, events: Vec<Event>) {
        self.offer_n(events.len(), Msg::Events(events));
    }

    /// [`offer`](Self::offer) for events grouped from log lines.
    pub fn offer_lines(&self, payloads: Packed) {
        self.offer_n(payloads.len(), Msg::Lines(payloads));
    }

    fn offer_n(&self, n: usize, m: Msg) {
        if n == 0 {
            return;
        }
        if self.queued.load(Ordering::Acquire) + n > self.limit {
            self.counters
                .fanout_dropped
                .fetch_add(n as u64, Ordering::Relaxed);
            return;
        }
        self.queued.fetch_add(n, Ordering::AcqRel);
        if self.tx.send(m).is_err() {
            self.queued.fetch_sub(n, Ordering::AcqRel);
        }
    }

    /// Control messages are never dropped (they are rare and small).
    pub fn control(&self, m: Msg) {
        let _ = self.tx.send(m);
    }
}

/// The running fan-out thread.
pub struct Fanout {
    sender: FanoutSender,
    sinks: Arc<Mutex<Vec<Arc<SinkHandle>>>>,
    thread: Mutex<Option<JoinHandle<()>>>,
}

impl Fanout {
    /// Start the thread with `stage` (its sinks already started).
    pub fn start(stage: Stage, limit: usize, counters: Arc<PipelineCounters>) -> Result<Fanout> {
        let (tx, rx) = channel();
        let sender = FanoutSender {
            tx,
            queued: Arc::new(AtomicUsize::new(0)),
            limit: limit.max(1),
            counters,
        };
        let sinks = Arc::new(Mutex::new(Vec::new()));
        let mut worker = Worker {
            stage: Box::new(stage),
            queued: sender.queued.clone(),
            counters: sender.counters.clone(),
            sinks: sinks.clone(),
            line: Vec::new(),
            kept: Vec::new(),
            diverted: Vec::new(),
            text: Vec::new(),
            forward: Vec::new(),
        };
        worker.publish_sinks();
        let thread = std::thread::Builder::new()
            .name("auditlink-fanout".into())
            .spawn(move || worker.run(&rx))
            .map_err(|e| Error::io("start the fan-out thread", e))?;
        Ok(Fanout {
            sender,
            sinks,
            thread: Mutex::new(Some(thread)),
        })
    }

    pub fn sender(&self) -> FanoutSender {
        self.sender.clone()
    }

    /// Stats of the running sinks, in the order of their `sinkN_` counters.
    pub fn sink_stats(&self) -> Vec<SinkStats> {
        self.sinks
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .iter()
            .map(|s| s.stats())
            .collect()
    }

    /// After the writer ended: finish the queue, close everything, join.
    pub fn stop(&self) {
        self.sender.control(Msg::End);
        if let Some(t) = self.thread.lock().unwrap_or_else(|p| p.into_inner()).take() {
            let _ = t.join();
        }
    }
}

struct Worker {
    stage: Box<Stage>,
    queued: Arc<AtomicUsize>,
    counters: Arc<PipelineCounters>,
    sinks: Arc<Mutex<Vec<Arc<SinkHandle>>>>,
    line: Vec<u8>,
    kept: Vec<u8>,
    diverted: Vec<u8>,
    text: Vec<u8>,
    /// The kept events of one batch, as the sinks take them.
    forward: Vec<ForwardEvent>,
}

impl Worker {
    fn run(&mut self, rx: &Receiver<Msg>) {
        while let Ok(m) = rx.recv() {
            match m {
                Msg::Events(events) => {
                    self.events(&events);
                    self.queued.fetch_sub(events.len(), Ordering::AcqRel);
                }
                Msg::Lines(payloads) => {
                    self.count_forwarded(payloads.len());
                    for s in &self.stage.fed {
                        s.submit_encoded(&payloads);
                    }
                    self.queued.fetch_sub(payloads.len(), Ordering::AcqRel);
                }
                Msg::Rotate => {
                    let r = &self.counters.json_rotations;
                    if let Some(f) = self.stage.json.as_mut() {
                        f.rotate(r);
                    }
                    if let Some(f) = self.stage.diverted.as_mut() {
                        f.rotate(r);
                    }
                }
                Msg::Replace(mut next) => {
                    self.stage.close();
                    if let Err(e) = next.start_sinks() {
                        syslog::err(&format!("reload: a sink did not start: {e}"));
                        self.counters
                            .sink_start_errors
                            .fetch_add(1, Ordering::Relaxed);
                    }
                    self.stage = next;
                    self.publish_sinks();
                }
                Msg::Barrier(done) => {
                    for f in [&self.stage.json, &self.stage.diverted]
                        .into_iter()
                        .flatten()
                    {
                        f.sync();
                    }
                    let _ = done.send(());
                }
                Msg::End => break,
            }
        }
        self.stage.close();
    }

    fn publish_sinks(&self) {
        let list = self.stage.sinks.clone();
        *self.sinks.lock().unwrap_or_else(|p| p.into_inner()) = list;
    }

    fn events(&mut self, events: &[Event]) {
        let c = &self.counters;
        self.forward.clear();
        self.forward.reserve(events.len());
        let stage = &mut self.stage;
        self.kept.clear();
        self.diverted.clear();
        let mut lines = [0u64; 2];
        for ev in events {
            self.line.clear();
            let verdict = match stage.enricher.as_mut() {
                Some(e) => e.write_json(ev, &mut self.line),
                None => {
                    if stage.json.is_some() {
                        event_to_json(ev, &mut self.line);
                    }
                    Verdict::Keep
                }
            };
            let (out, n) = match verdict {
                Verdict::Keep => (&mut self.kept, &mut lines[0]),
                Verdict::Divert => {
                    c.events_diverted.fetch_add(1, Ordering::Relaxed);
                    (&mut self.diverted, &mut lines[1])
                }
                Verdict::Drop => {
                    c.events_filtered.fetch_add(1, Ordering::Relaxed);
                    continue;
                }
            };
            if !self.line.is_empty() {
                out.extend_from_slice(&stage.line_prefix);
                out.extend_from_slice(&self.line);
                out.push(b'\n');
                *n += 1;
            }
            if verdict == Verdict::Keep && !stage.fed.is_empty() {
                let json = (!self.line.is_empty()).then_some(self.line.as_slice());
                stage.forward(ev, json, &mut self.text, &mut self.forward);
            }
        }
        let batch = std::mem::take(&mut self.forward);
        self.forward(&batch);
        self.forward = batch;
        let (c, stage) = (&self.counters, &mut self.stage);
        let r = &c.json_rotations;
        for (file, buf, n) in [
            (stage.json.as_mut(), &self.kept, lines[0]),
            (stage.diverted.as_mut(), &self.diverted, lines[1]),
        ] {
            let (Some(f), false) = (file, buf.is_empty()) else {
                continue;
            };
            match f.write(buf, r) {
                Ok(()) => c.json_events.fetch_add(n, Ordering::Relaxed),
                Err(_) => c.json_errors.fetch_add(n, Ordering::Relaxed),
            };
        }
    }

    /// Hand `batch` to every sink: one hand-over per sink for the whole batch.
    fn forward(&mut self, batch: &[ForwardEvent]) {
        self.count_forwarded(batch.len());
        for s in &self.stage.fed {
            s.submit_batch(batch);
        }
    }

    fn count_forwarded(&self, n: usize) {
        if !self.stage.fed.is_empty() {
            self.counters
                .events_forwarded
                .fetch_add(n as u64, Ordering::Relaxed);
        }
    }
}

#[cfg(test)]
#[path = "fanout_tests.rs"]
mod tests;
