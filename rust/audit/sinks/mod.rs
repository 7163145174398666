//! Forwarding sinks: the event type they carry, their config (`[[sink]]` tables), stats, and start-up.
//!
//! Each sink runs on its own thread behind a bounded in-memory queue and a
//! bounded on-disk [`spool`]: [`Sink::submit`] never blocks the caller, the
//! worker writes every event to the spool first and removes it only once the
//! far end has taken it (at least once, in order).

mod fields;
mod intake;
pub mod otlp;
mod otlp_encode;
pub mod remote;
mod remote_acks;
pub mod spool;
pub mod syslog;
pub mod tls;
mod worker;

use std::path::PathBuf;
use std::time::Duration;

use serde::Deserialize;

use crate::audit::records::{json, Event};
use crate::error::{Error, Result};

pub use fields::{EventFields, FIELD_NAMES};
pub use otlp::OtlpConfig;
pub use remote::RemoteConfig;
pub use spool::FullAction;
pub use syslog::SyslogConfig;
pub use tls::TlsFiles;
pub use worker::SinkHandle;

/// One audit event as it is forwarded. `(node, sec, msec, serial)` is its
/// stable id: a receiver that sees it twice (only possible at a reconnect)
/// can drop the copy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ForwardEvent {
    /// This host's name as receivers should see it (auditd's `node=`).
    pub node: String,
    pub sec: u64,
    pub msec: u32,
    pub serial: u64,
    /// The records in auditd log format, one line each, `\n`-separated, with
    /// or without a leading `node=` (the remote sink adds one when missing).
    pub text: String,
    /// The event as JSON, when the pipeline made it.
    pub json: Option<String>,
    /// The fields sinks label it with, when the pipeline took them from
    /// the parsed records (otherwise a sink that needs them parses `text`).
    pub fields: Option<EventFields>,
}

impl ForwardEvent {
    /// Build from a reassembled event; `node` is used when the records carry none.
    pub fn from_event(ev: &Event, node: &str, with_json: bool, with_fields: bool) -> ForwardEvent {
        let mut text = String::new();
        for (i, r) in ev.records.iter().enumerate() {
            if i > 0 {
                text.push('\n');
            }
            text.push_str(&String::from_utf8_lossy(r.text()));
        }
        let json = with_json.then(|| {
            let mut out = Vec::new();
            json::event_to_json(ev, &mut out);
            // Valid UTF-8 (the usual case) is taken as is, without a copy.
            String::from_utf8(out)
                .unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned())
        });
        let node = ev
            .node()
            .map(|n| String::from_utf8_lossy(n).into_owned())
            .unwrap_or_else(|| node.to_owned());
        ForwardEvent {
            node,
            sec: ev.timestamp.sec,
            msec: ev.timestamp.msec,
            serial: ev.serial,
            text,
            json,
            fields: with_fields.then(|| EventFields::from_records(&ev.records)),
        }
    }

    /// `sec.msec:serial`, as in `msg=audit(...)`.
    pub fn id(&self) -> String {
        format!("{}.{:03}:{}", self.sec, self.msec, self.serial)
    }

    /// The spool's frame payload.
    pub fn encode(&self, out: &mut Vec<u8>) {
        encode_head(
            out,
            &self.node,
            (self.sec, self.msec, self.serial),
            &self.text,
        );
        // Bit 0: JSON follows; bit 1: the fields follow it.
        let flags = u8::from(self.json.is_some()) | (u8::from(self.fields.is_some()) << 1);
        out.push(flags);
        if let Some(j) = &self.json {
            put_str(out, j);
        }
        if let Some(f) = &self.fields {
            put_bytes(out, f.as_bytes());
        }
    }

    /// Inverse of [`encode`](Self::encode); `None` on a truncated or corrupt payload.
    pub fn decode(b: &[u8]) -> Option<ForwardEvent> {
        let mut ev = ForwardEvent {
            node: String::new(),
            sec: 0,
            msec: 0,
            serial: 0,
            text: String::new(),
            json: None,
            fields: None,
        };
        ev.decode_into(b).then_some(ev)
    }

    /// [`decode`](Self::decode) into this event, reusing its strings'
    /// room; `false` (and the event half overwritten) when `b` is not a
    /// whole, valid payload.
    pub fn decode_into(&mut self, mut b: &[u8]) -> bool {
        let mut read = || -> Option<()> {
            let node_len = u16::from_le_bytes(take(&mut b, 2)?.try_into().ok()?) as usize;
            set_str(&mut self.node, take(&mut b, node_len)?)?;
            self.sec = u64::from_le_bytes(take(&mut b, 8)?.try_into().ok()?);
            self.msec = u32::from_le_bytes(take(&mut b, 4)?.try_into().ok()?);
            self.serial = u64::from_le_bytes(take(&mut b, 8)?.try_into().ok()?);
            set_str(&mut self.text, get_bytes(&mut b)?)?;
            let flags = take(&mut b, 1)?[0];
            if flags > 3 {
                return None;
            }
            match flags & 1 {
                0 => self.json = None,
                _ => set_str(
                    self.json.get_or_insert_with(String::new),
                    get_bytes(&mut b)?,
                )?,
            }
            self.fields = match flags & 2 {
                0 => None,
                _ => Some(EventFields::from_bytes(get_bytes(&mut b)?)?),
            };
            b.is_empty().then_some(())
        };
        read().is_some()
    }
}

/// What [`ForwardEvent::encode`] writes for an event of `node`, with id
/// `(sec, msec, serial)`, that has only its `text` (no JSON, no fields):
/// the writer's events grouped from log lines, encoded where they are made.
pub fn encode_text_only(out: &mut Vec<u8>, node: &str, id: (u64, u32, u64), text: &str) {
    encode_head(out, node, id, text);
    out.push(0);
}

/// The payload up to its flags: node, id, text.
fn encode_head(out: &mut Vec<u8>, node: &str, id: (u64, u32, u64), text: &str) {
    let node = &node.as_bytes()[..node.len().min(u16::MAX as usize)];
    out.extend_from_slice(&(node.len() as u16).to_le_bytes());
    out.extend_from_slice(node);
    out.extend_from_slice(&id.0.to_le_bytes());
    out.extend_from_slice(&id.1.to_le_bytes());
    out.extend_from_slice(&id.2.to_le_bytes());
    put_str(out, text);
}

fn put_str(out: &mut Vec<u8>, s: &str) {
    put_bytes(out, s.as_bytes());
}

fn put_bytes(out: &mut Vec<u8>, b: &[u8]) {
    out.extend_from_slice(&(b.len() as u32).to_le_bytes());
    out.extend_from_slice(b);
}

fn take<'a>(b: &mut &'a [u8], n: usize) -> Option<&'a [u8]> {
    if b.len() < n {
        return None;
    }
    let (head, rest) = b.split_at(n);
    *b = rest;
    Some(head)
}

fn get_bytes<'a>(b: &mut &'a [u8]) -> Option<&'a [u8]> {
    let n = u32::from_le_bytes(take(b, 4)?.try_into().ok()?) as usize;
    take(b, n)
}

/// `s` becomes `b` when that is UTF-8 (keeping `s`'s room).
fn set_str(s: &mut String, b: &[u8]) -> Option<()> {
    s.clear();
    s.push_str(std::str::from_utf8(b).ok()?);
    Some(())
}

/// Counters of one sink. `sent` counts transmissions (a resend after a
/// reconnect counts again); `acked` counts events the far end took (an
/// application ack for `remote`, a completed write for `syslog`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SinkStats {
    pub name: String,
    pub submitted: u64,
    pub sent: u64,
    pub acked: u64,
    /// Events waiting in the spool now.
    pub spooled: u64,
    pub spool_bytes: u64,
    /// Events in the in-memory queue, not yet in the spool.
    pub queued: u64,
    /// Events lost: in-memory queue full, or spool full (per `spool_full_action`).
    pub dropped: u64,
    pub reconnects: u64,
    pub connected: bool,
    pub last_error: String,
    /// The receiver's last warning (for `remote`: disk low / disk full / error replies).
    pub last_warning: String,
}

/// What the daemon calls. `submit` waits for room in a full queue at most
/// [`worker::ROOM_WAIT`], then drops (counted).
pub trait Sink: Send + Sync {
    fn name(&self) -> &str;
    /// Queue one event; `false` when it was dropped (queue still full after
    /// the wait, or closed).
    fn submit(&self, event: &ForwardEvent) -> bool;
    /// Queue events in order, taking the queue's lock once; returns how many
    /// were queued (the rest, at the end, were dropped and counted).
    fn submit_batch(&self, events: &[ForwardEvent]) -> usize {
        events.iter().take_while(|e| self.submit(e)).count()
    }
    fn stats(&self) -> SinkStats;
    /// Wait until everything submitted has been acknowledged, up to `timeout`;
    /// `true` when it was.
    fn flush(&self, timeout: Duration) -> bool;
}

/// Settings every sink type shares: spool, queue, retry (keys of the same `[[sink]]` table).
#[derive(Debug, Clone, Deserialize, PartialEq)]
pub struct SpoolConfig {
    /// Directory of this sink's spool; each sink needs its own.
    pub spool_dir: PathBuf,
    #[serde(default = "default_spool_max_bytes")]
    pub spool_max_bytes: u64,
    #[serde(default)]
    pub spool_full_action: FullAction,
    /// Events held in memory between the caller and the spool.
    #[serde(default = "default_queue_depth")]
    pub queue_depth: usize,
    /// Seconds before the first reconnect or retry (doubling up to 8x; an
    /// OTLP `Retry-After` overrides it).
    #[serde(default = "default_retry_time")]
    pub network_retry_time: u64,
    /// Nice value (-20..=19) of the thread that sends (and its helpers):
    /// under CPU contention delivery yields to the audited workload and
    /// lags, spooled; the intake that spools keeps the daemon's priority.
    #[serde(default = "default_nice", deserialize_with = "nice_value")]
    pub nice: i32,
    /// The daemon's sinks only: read the events back from the daemon's log,
    /// at `nice`, instead of taking them from its writer
    /// (`crate::audit::daemon::logtail`): the lowest cost for the audited
    /// host. For sinks that send the log's lines (`remote`, `syslog` in
    /// text format).
    #[serde(default)]
    pub read_log: bool,
    /// With `read_log`: while the log keeps growing (the host is busy
    /// auditing), hold back up to this many seconds before reading it, so
    /// that a burst's forwarding work comes after the burst (0: read as
    /// soon as it is written).
    #[serde(default = "default_read_log_hold")]
    pub read_log_hold: u64,
}

fn default_read_log_hold() -> u64 {
    5
}

/// A sink's delivering thread yields the CPU to the audited workload.
fn default_nice() -> i32 {
    19
}

fn nice_value<'de, D: serde::Deserializer<'de>>(d: D) -> std::result::Result<i32, D::Error> {
    let n = i32::deserialize(d)?;
    if (-20..=19).contains(&n) {
        Ok(n)
    } else {
        Err(serde::de::Error::custom(format!(
            "nice = {n}: must be -20..19 (as nice(1))"
        )))
    }
}

fn default_spool_max_bytes() -> u64 {
    256 << 20
}

/// Events held in memory between the caller and a sink's spool.
fn default_queue_depth() -> usize {
    2048
}

/// Seconds before a sink's first reconnect attempt.
fn default_retry_time() -> u64 {
    1
}

/// One `[[sink]]` table of auditlink.toml.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(tag = "type", rename_all = "lowercase")]
pub enum SinkConfig {
    Remote(RemoteConfig),
    Syslog(SyslogConfig),
    Otlp(OtlpConfig),
}

impl SinkConfig {
    /// Parse one `[[sink]]` table given as TOML text (the table's body).
    pub fn from_toml(text: &str) -> Result<SinkConfig> {
        toml::from_str(text).map_err(|e| Error::InvalidArgument(format!("sink config: {e}")))
    }

    pub fn name(&self) -> String {
        match self {
            SinkConfig::Remote(c) => c.name.clone().unwrap_or_else(|| "remote".into()),
            SinkConfig::Syslog(c) => c.name.clone().unwrap_or_else(|| "syslog".into()),
            SinkConfig::Otlp(c) => c.name.clone().unwrap_or_else(|| "otlp".into()),
        }
    }

    /// Whether this sink sends the events' JSON (the pipeline must make it).
    pub fn wants_json(&self) -> bool {
        match self {
            SinkConfig::Syslog(c) => c.format == syslog::SyslogFormat::Json,
            SinkConfig::Otlp(_) => true,
            SinkConfig::Remote(_) => false,
        }
    }

    /// Whether this sink labels events with their main fields
    /// ([`EventFields`], which the pipeline takes from the parsed records).
    pub fn wants_fields(&self) -> bool {
        matches!(self, SinkConfig::Otlp(_))
    }

    /// The settings every sink type shares.
    pub fn spool(&self) -> &SpoolConfig {
        match self {
            SinkConfig::Remote(c) => &c.spool,
            SinkConfig::Syslog(c) => &c.spool,
            SinkConfig::Otlp(c) => &c.spool,
        }
    }

    /// Start the sink's worker thread (opening or recovering its spool).
    pub fn start(&self) -> Result<SinkHandle> {
        let name = self.name();
        match self {
            SinkConfig::Remote(c) => worker::start(name, &c.spool, c.retry(), c.transport()?),
            SinkConfig::Syslog(c) => worker::start(name, &c.spool, c.retry(), c.transport()?),
            SinkConfig::Otlp(c) => worker::start(name, &c.spool, c.retry(), c.transport()?),
        }
    }
}

/// Replay an auditd log (any `Read`) through a freshly started sink: every
/// event is queued (waiting for room, unlike [`Sink::submit_batch`]), then delivery
/// is awaited up to `timeout`. What is not delivered by then stays spooled.
/// The stats are those of the stopped sink (`queued` is 0, `connected` false).
pub fn forward_log(
    mut input: impl std::io::Read,
    config: &SinkConfig,
    node: &str,
    with_json: bool,
    timeout: Duration,
) -> Result<SinkStats> {
    if config.spool().read_log {
        return Err(Error::InvalidArgument(
            "read_log = true is for the daemon's sinks (auditlink.toml): forwarding a \
             file reads that file"
                .into(),
        ));
    }
    let sink = config.start()?;
    let with_json = with_json || config.wants_json();
    let with_fields = config.wants_fields();
    let mut stream = crate::audit::records::LogStream::new(1024, 2000);
    let mut events = Vec::new();
    let mut chunk = vec![0u8; 256 << 10];
    let submit = |events: &mut Vec<Event>| {
        let batch = events
            .drain(..)
            .map(|ev| ForwardEvent::from_event(&ev, node, with_json, with_fields))
            .collect::<Vec<_>>();
        sink.submit_waiting(&batch);
    };
    loop {
        let n = input
            .read(&mut chunk)
            .map_err(|e| Error::io("read events to forward", e))?;
        if n == 0 {
            break;
        }
        stream.feed(&chunk[..n], &mut events);
        submit(&mut events);
    }
    stream.finish(&mut events);
    submit(&mut events);
    sink.flush(timeout);
    // Counted once the worker has stopped, so every queued event is either
    // spooled or counted as dropped.
    sink.close();
    Ok(sink.stats())
}

/// This machine's host name, the default `node`.
pub fn local_hostname() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|s| s.trim().to_owned())
        .unwrap_or_else(|_| "localhost".into())
}

#[cfg(test)]
mod otlp_tests;
#[cfg(test)]
mod pipeline_tests;
#[cfg(test)]
mod remote_tests;
#[cfg(test)]
mod spool_tests;
#[cfg(test)]
mod tests;
