//! The `remote` sink: the audit suite's remote logging protocol as audisp-remote speaks it to a central auditd's `tcp_listen_port`.
//!
//! Wire facts from linux-audit/audit-userspace (lib/private.h, src/auditd-listen.c,
//! src/auditd-event.c): each record is one message with a 16-byte header
//! (magic 0xff0000fe, header version 0, message version, type, length, sequence,
//! all little-endian) followed by the record text with its `node=` prefix; the
//! receiver answers every message with a header carrying the same sequence:
//! ACK, DISKLOW (written, with a warning), DISKFULL / DISKERROR (not written),
//! or ENDING when it shuts down. Messages here are pipelined instead of one
//! round trip each: a batch is written at once, and up to
//! `batches_in_flight` batches await their replies, which a thread of the
//! connection reads as they come ([`super::remote_acks`]).

use std::io::Write;
use std::net::{TcpStream, ToSocketAddrs};
use std::time::Duration;

use serde::Deserialize;

use super::remote_acks::{AckReader, Expect};
use super::worker::{Delivery, Retry, Transport};
use super::{ForwardEvent, SpoolConfig};
use crate::error::{Error, Result};

pub const HEADER_SIZE: usize = 16;
pub const MAGIC: u32 = 0xff00_00fe;
pub const TYPE_MESSAGE: u32 = 0x0000_0000;
pub const TYPE_HEARTBEAT: u32 = 0x0000_0001;
pub const TYPE_ACK: u32 = 0x4000_0000;
pub const TYPE_ENDING: u32 = 0x4000_0001;
pub const TYPE_DISKLOW: u32 = 0x5000_0001;
pub const TYPE_DISKFULL: u32 = 0x6000_0001;
pub const TYPE_DISKERROR: u32 = 0x6000_0002;
const FATAL_MASK: u32 = 0x2000_0000;
const WARN_MASK: u32 = 0x1000_0000;
/// The receiver cuts messages at MAX_AUDIT_MESSAGE_LENGTH (8970) minus its NUL.
pub const MAX_MESSAGE: usize = 8969;

/// One message header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Header {
    pub msg_version: u8,
    pub msg_type: u32,
    pub length: u16,
    pub sequence: u32,
}

impl Header {
    pub fn encode(&self) -> [u8; HEADER_SIZE] {
        let mut h = [0u8; HEADER_SIZE];
        h[0..4].copy_from_slice(&MAGIC.to_le_bytes());
        h[4] = 0; // header version
        h[5] = self.msg_version;
        h[6..10].copy_from_slice(&self.msg_type.to_le_bytes());
        h[10..12].copy_from_slice(&self.length.to_le_bytes());
        h[12..16].copy_from_slice(&self.sequence.to_le_bytes());
        h
    }

    /// Parse 16 bytes; an error names what is wrong (bad magic, header version).
    pub fn decode(b: &[u8]) -> std::result::Result<Header, String> {
        let b: &[u8; HEADER_SIZE] = b
            .get(..HEADER_SIZE)
            .and_then(|s| s.try_into().ok())
            .ok_or_else(|| format!("short header: {} bytes", b.len()))?;
        let magic = u32::from_le_bytes([b[0], b[1], b[2], b[3]]);
        if magic != MAGIC {
            return Err(format!("bad magic {magic:#010x}"));
        }
        if b[4] != 0 {
            return Err(format!("unknown header version {}", b[4]));
        }
        Ok(Header {
            msg_version: b[5],
            msg_type: u32::from_le_bytes([b[6], b[7], b[8], b[9]]),
            length: u16::from_le_bytes([b[10], b[11]]),
            sequence: u32::from_le_bytes([b[12], b[13], b[14], b[15]]),
        })
    }
}

#[derive(Debug, Clone, Copy, Default, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum RemoteTransportKind {
    #[default]
    Tcp,
}

/// audisp-remote's `mode`. Both spool here (the spool is what makes delivery
/// at least once); the key is accepted so an audisp-remote.conf carries over.
#[derive(Debug, Clone, Copy, Default, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum RemoteMode {
    #[default]
    Immediate,
    Forward,
}

/// A `[[sink]]` table with `type = "remote"`: audisp-remote.conf's keys plus the spool's.
#[derive(Debug, Clone, Deserialize, PartialEq)]
pub struct RemoteConfig {
    pub name: Option<String>,
    pub remote_server: String,
    #[serde(default = "default_port")]
    pub port: u16,
    #[serde(default)]
    pub transport: RemoteTransportKind,
    #[serde(default)]
    pub mode: RemoteMode,
    /// Seconds to wait for acknowledgements before the link counts as dead.
    #[serde(default = "default_max_time")]
    pub max_time_per_record: u64,
    /// Seconds of idleness after which a heartbeat is sent (0: never).
    #[serde(default)]
    pub heartbeat_timeout: u64,
    /// Batches (of up to 256 events) written before the oldest one's
    /// replies are in (1: each waits for the previous one's).
    #[serde(default = "default_batches_in_flight")]
    pub batches_in_flight: usize,
    /// audisp-remote's action keys (network_failure_action, disk_low_action,
    /// disk_full_action, disk_error_action, remote_ending_action, ...): accepted
    /// for compatibility; this sink always keeps the events spooled and retries,
    /// and reports the condition in `last_error` / `last_warning`.
    #[serde(default)]
    pub network_failure_action: Option<String>,
    #[serde(default)]
    pub disk_low_action: Option<String>,
    #[serde(default)]
    pub disk_full_action: Option<String>,
    #[serde(default)]
    pub disk_error_action: Option<String>,
    #[serde(default)]
    pub remote_ending_action: Option<String>,
    #[serde(flatten)]
    pub spool: SpoolConfig,
}

fn default_port() -> u16 {
    60
}
fn default_max_time() -> u64 {
    5
}
/// Enough to keep the receiver busy while replies travel back; their bytes
/// (16 per record) stay far below a socket's receive buffer.
fn default_batches_in_flight() -> usize {
    4
}
/// More in flight than this buys nothing but duplicates after a failure.
const MAX_BATCHES_IN_FLIGHT: usize = 64;

impl RemoteConfig {
    pub(crate) fn retry(&self) -> Retry {
        Retry::from_secs(self.spool.network_retry_time, self.heartbeat_timeout)
    }

    pub(crate) fn transport(&self) -> Result<RemoteLink> {
        if self.remote_server.is_empty() {
            return Err(Error::InvalidArgument(
                "remote sink: remote_server is empty".into(),
            ));
        }
        if !(1..=MAX_BATCHES_IN_FLIGHT).contains(&self.batches_in_flight) {
            return Err(Error::InvalidArgument(format!(
                "remote sink: batches_in_flight must be 1 to {MAX_BATCHES_IN_FLIGHT}, not {}",
                self.batches_in_flight
            )));
        }
        Ok(RemoteLink {
            server: self.remote_server.clone(),
            port: self.port,
            timeout: Duration::from_secs(self.max_time_per_record.max(1)),
            window: self.batches_in_flight,
            // Named like the sink's own thread: its CPU is the sink's.
            thread: format!("sink-{}", self.name.as_deref().unwrap_or("remote")),
            link: None,
            seq: 0,
            buf: Vec::new(),
        })
    }
}

struct Link {
    writer: TcpStream,
    acks: AckReader,
}

impl Drop for Link {
    fn drop(&mut self) {
        // Ends a read in progress on the reader thread before it is joined.
        let _ = self.writer.shutdown(std::net::Shutdown::Both);
        self.acks.stop();
    }
}

/// The connection to one central auditd.
pub(crate) struct RemoteLink {
    server: String,
    port: u16,
    timeout: Duration,
    window: usize,
    /// The name of the connection's acknowledgement reader thread.
    thread: String,
    link: Option<Link>,
    seq: u32,
    buf: Vec<u8>,
}

/// The sequence number after `seq`: 0 is what the receiver uses for ENDING,
/// so it is skipped on wrap-around.
pub(super) fn next_sequence(seq: u32) -> u32 {
    seq.wrapping_add(1).max(1)
}

/// Append one message (header + text) to `out`.
pub fn push_message(out: &mut Vec<u8>, msg_type: u32, seq: u32, text: &[u8]) {
    push_typed(out, msg_type, seq, b"", text);
}

/// Append one record as a message: `prefix` then `text`, cut to
/// [`MAX_MESSAGE`] bytes as the receiver would.
fn push_record(out: &mut Vec<u8>, seq: u32, prefix: &[u8], text: &[u8]) {
    push_typed(out, TYPE_MESSAGE, seq, prefix, text);
}

fn push_typed(out: &mut Vec<u8>, msg_type: u32, seq: u32, prefix: &[u8], text: &[u8]) {
    let prefix = &prefix[..prefix.len().min(MAX_MESSAGE)];
    let text = &text[..text.len().min(MAX_MESSAGE - prefix.len())];
    let h = Header {
        msg_version: 0,
        msg_type,
        length: (prefix.len() + text.len()) as u16,
        sequence: seq,
    };
    out.extend_from_slice(&h.encode());
    out.extend_from_slice(prefix);
    out.extend_from_slice(text);
}

/// What one reply means for the message it answers.
#[derive(Debug, PartialEq, Eq)]
pub enum Reply {
    Written,
    WrittenWithWarning(String),
    NotWritten(String),
    Ending,
}

pub fn classify(h: &Header, text: &str) -> Reply {
    let what = |default: &str| {
        if text.is_empty() {
            default.to_owned()
        } else {
            format!("{default}: {text}")
        }
    };
    match h.msg_type {
        TYPE_ACK => Reply::Written,
        TYPE_ENDING => Reply::Ending,
        TYPE_DISKLOW => Reply::WrittenWithWarning(what("remote disk low")),
        TYPE_DISKFULL => Reply::NotWritten(what("remote disk full")),
        TYPE_DISKERROR => Reply::NotWritten(what("remote disk error")),
        t if t & FATAL_MASK != 0 => Reply::NotWritten(what(&format!("remote error {t:#x}"))),
        t if t & WARN_MASK != 0 => {
            Reply::WrittenWithWarning(what(&format!("remote warning {t:#x}")))
        }
        t => Reply::NotWritten(format!("unexpected reply type {t:#x}")),
    }
}

impl RemoteLink {
    fn next_seq(&mut self) -> u32 {
        self.seq = next_sequence(self.seq);
        self.seq
    }

    /// Write what `self.buf` holds and have the reader await its replies;
    /// `Some` failure when that could not be done.
    fn write_expecting(&mut self, expect: Expect) -> Option<Delivery> {
        let failure = |error: String| Delivery {
            error: Some(error),
            ..Delivery::default()
        };
        let Some(link) = self.link.as_mut() else {
            return Some(failure("not connected".into()));
        };
        if let Err(e) = link.writer.write_all(&self.buf) {
            return Some(failure(format!(
                "send to {}:{}: {e}",
                self.server, self.port
            )));
        }
        // Handed over only once written: a batch that failed half-way is
        // answered here, and the reader's answers stay in batch order.
        if !link.acks.expect(expect) {
            return Some(failure(format!(
                "the connection to {}:{} failed",
                self.server, self.port
            )));
        }
        None
    }

    fn answer_of(&mut self) -> Delivery {
        match self.link.as_mut() {
            Some(link) => link.acks.answer(),
            None => Delivery {
                error: Some("not connected".into()),
                ..Delivery::default()
            },
        }
    }
}

impl Transport for RemoteLink {
    fn connect(&mut self) -> std::result::Result<(), String> {
        let target = format!("{}:{}", self.server, self.port);
        let addrs = (self.server.as_str(), self.port)
            .to_socket_addrs()
            .map_err(|e| format!("resolve {target}: {e}"))?;
        let mut last = format!("{target}: no address");
        for addr in addrs {
            match TcpStream::connect_timeout(&addr, self.timeout) {
                Ok(s) => {
                    let setup = || -> std::io::Result<Link> {
                        s.set_nodelay(true)?;
                        s.set_read_timeout(Some(self.timeout))?;
                        s.set_write_timeout(Some(self.timeout))?;
                        Ok(Link {
                            acks: AckReader::start(s.try_clone()?, target.clone(), &self.thread)?,
                            writer: s,
                        })
                    };
                    let link = setup().map_err(|e| format!("connect {target}: {e}"))?;
                    self.link = Some(link);
                    return Ok(());
                }
                Err(e) => last = format!("connect {target}: {e}"),
            }
        }
        Err(last)
    }

    fn deliver(&mut self, events: &[ForwardEvent]) -> Delivery {
        let expect = self.encode(events);
        match self.write_expecting(expect) {
            Some(failed) => failed,
            None => self.answer_of(),
        }
    }

    fn window(&self) -> usize {
        self.window
    }

    fn begin(&mut self, events: &mut Vec<ForwardEvent>) -> Option<Delivery> {
        let expect = self.encode(events);
        self.write_expecting(expect)
    }

    fn answer(&mut self) -> Delivery {
        self.answer_of()
    }

    fn idle(&mut self) -> std::result::Result<(), String> {
        self.buf.clear();
        let seq = self.next_seq();
        push_message(&mut self.buf, TYPE_HEARTBEAT, seq, b"");
        let expect = Expect {
            first_seq: seq,
            messages: 1,
            ends: Vec::new(),
        };
        let d = match self.write_expecting(expect) {
            Some(failed) => failed,
            None => self.answer_of(),
        };
        d.error.map_or(Ok(()), Err)
    }

    fn disconnect(&mut self) {
        // Dropping the link shuts the connection down and stops its reader.
        self.link = None;
    }
}

impl RemoteLink {
    /// Put the batch's messages (one per record, with `node=` when the
    /// record has none) in `self.buf`; what their replies must be.
    fn encode(&mut self, events: &[ForwardEvent]) -> Expect {
        let mut buf = std::mem::take(&mut self.buf);
        buf.clear();
        let mut ends = Vec::with_capacity(events.len());
        let first_seq = next_sequence(self.seq);
        let mut total = 0usize;
        let mut prefix = Vec::new();
        for ev in events {
            prefix.clear();
            if !ev.node.is_empty() {
                prefix.extend_from_slice(b"node=");
                prefix.extend_from_slice(ev.node.as_bytes());
                prefix.push(b' ');
            }
            for rec in ev.text.split('\n').filter(|l| !l.trim().is_empty()) {
                let prefix = if rec.starts_with("node=") {
                    &[][..]
                } else {
                    &prefix[..]
                };
                let seq = self.next_seq();
                push_record(&mut buf, seq, prefix, rec.as_bytes());
                total += 1;
            }
            ends.push(total);
        }
        self.buf = buf;
        Expect {
            first_seq,
            messages: total,
            ends,
        }
    }
}
