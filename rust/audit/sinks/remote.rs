//! The `remote` sink: the audit suite's remote logging protocol as audisp-remote speaks it to a central auditd's `tcp_listen_port`.
//!
//! Wire facts from linux-audit/audit-userspace (lib/private.h, src/auditd-listen.c,
//! src/auditd-event.c): each record is one message with a 16-byte header
//! (magic 0xff0000fe, header version 0, message version, type, length, sequence,
//! all little-endian) followed by the record text with its `node=` prefix; the
//! receiver answers every message with a header carrying the same sequence:
//! ACK, DISKLOW (written, with a warning), DISKFULL / DISKERROR (not written),
//! or ENDING when it shuts down. Messages here are pipelined (a batch written
//! at once, then its acknowledgements read) instead of one round trip each.

use std::io::{BufReader, Read, Write};
use std::net::{TcpStream, ToSocketAddrs};
use std::time::Duration;

use serde::Deserialize;

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
        Ok(RemoteLink {
            server: self.remote_server.clone(),
            port: self.port,
            timeout: Duration::from_secs(self.max_time_per_record.max(1)),
            link: None,
            seq: 0,
            buf: Vec::new(),
        })
    }
}

struct Link {
    writer: TcpStream,
    reader: BufReader<TcpStream>,
}

/// The connection to one central auditd.
pub(crate) struct RemoteLink {
    server: String,
    port: u16,
    timeout: Duration,
    link: Option<Link>,
    seq: u32,
    buf: Vec<u8>,
}

/// Append one message (header + text) to `out`.
pub fn push_message(out: &mut Vec<u8>, msg_type: u32, seq: u32, text: &[u8]) {
    let text = &text[..text.len().min(MAX_MESSAGE)];
    let h = Header {
        msg_version: 0,
        msg_type,
        length: text.len() as u16,
        sequence: seq,
    };
    out.extend_from_slice(&h.encode());
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
        // 0 is what the receiver uses for ENDING; skip it on wrap-around.
        self.seq = self.seq.wrapping_add(1).max(1);
        self.seq
    }

    fn read_reply(&mut self) -> std::result::Result<(Header, String), String> {
        let link = self.link.as_mut().ok_or("not connected")?;
        let mut h = [0u8; HEADER_SIZE];
        link.reader
            .read_exact(&mut h)
            .map_err(|e| format!("waiting for ack from {}:{}: {e}", self.server, self.port))?;
        let h = Header::decode(&h)?;
        let mut text = vec![0u8; h.length as usize];
        link.reader
            .read_exact(&mut text)
            .map_err(|e| format!("reading reply text: {e}"))?;
        Ok((h, String::from_utf8_lossy(&text).into_owned()))
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
                            reader: BufReader::with_capacity(64 << 10, s.try_clone()?),
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
        let mut buf = std::mem::take(&mut self.buf);
        buf.clear();
        // Messages sent up to and including each event.
        let mut ends = Vec::with_capacity(events.len());
        let mut total = 0usize;
        let mut line = Vec::new();
        for ev in events {
            for rec in ev.text.split('\n').filter(|l| !l.trim().is_empty()) {
                line.clear();
                if !rec.starts_with("node=") && !ev.node.is_empty() {
                    line.extend_from_slice(b"node=");
                    line.extend_from_slice(ev.node.as_bytes());
                    line.push(b' ');
                }
                line.extend_from_slice(rec.as_bytes());
                let seq = self.next_seq();
                push_message(&mut buf, TYPE_MESSAGE, seq, &line);
                total += 1;
            }
            ends.push(total);
        }
        let mut d = Delivery::default();
        let written = match self.link.as_mut() {
            Some(link) => link.writer.write_all(&buf),
            None => Err(std::io::Error::other("not connected")),
        };
        self.buf = buf;
        if let Err(e) = written {
            d.error = Some(format!("send to {}:{}: {e}", self.server, self.port));
            return d;
        }
        d.sent = events.len();
        // Replies come in order on the one connection: count them.
        let mut answered = 0usize;
        while answered < total {
            let (h, text) = match self.read_reply() {
                Ok(r) => r,
                Err(e) => {
                    d.error = Some(e);
                    break;
                }
            };
            match classify(&h, &text) {
                Reply::Written => {}
                Reply::WrittenWithWarning(w) => d.warning = Some(w),
                Reply::NotWritten(e) => {
                    d.error = Some(e);
                    break;
                }
                Reply::Ending => {
                    d.error = Some("remote end is shutting down".into());
                    break;
                }
            }
            answered += 1;
        }
        d.acked = ends.iter().take_while(|&&c| c <= answered).count();
        d
    }

    fn idle(&mut self) -> std::result::Result<(), String> {
        let seq = self.next_seq();
        let mut hb = Vec::with_capacity(HEADER_SIZE);
        push_message(&mut hb, TYPE_HEARTBEAT, seq, b"");
        let link = self.link.as_mut().ok_or("not connected")?;
        link.writer
            .write_all(&hb)
            .map_err(|e| format!("heartbeat: {e}"))?;
        let (h, text) = self.read_reply()?;
        match classify(&h, &text) {
            Reply::Written | Reply::WrittenWithWarning(_) => Ok(()),
            Reply::NotWritten(e) => Err(e),
            Reply::Ending => Err("remote end is shutting down".into()),
        }
    }

    fn disconnect(&mut self) {
        if let Some(link) = self.link.take() {
            let _ = link.writer.shutdown(std::net::Shutdown::Both);
        }
    }
}
