//! The `syslog` sink: RFC 5424 messages, one per event, over UDP, TCP (RFC 6587 octet counting) or a local datagram socket such as /dev/log.
//!
//! HOSTNAME is the event's node and MSGID its `sec.msec:serial`, so
//! (HOSTNAME, MSGID) is the event's stable id at the receiver. The text body
//! is the event's records in auditd log format, one per line, as audisp-syslog
//! would log them (it logs each record as its own message).

use std::io::Write;
use std::net::{TcpStream, ToSocketAddrs, UdpSocket};
use std::os::unix::net::UnixDatagram;
use std::time::Duration;

use serde::Deserialize;

use super::worker::{Delivery, Retry, Transport};
use super::{ForwardEvent, SpoolConfig};
use crate::error::{Error, Result};

#[derive(Debug, Clone, Copy, Default, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum SyslogTransport {
    #[default]
    Udp,
    Tcp,
    /// A local datagram socket (`socket_path`, default /dev/log).
    Unix,
}

#[derive(Debug, Clone, Copy, Default, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum SyslogFormat {
    /// The records in auditd log format.
    #[default]
    Text,
    /// The event's JSON (falls back to the text when the event has none).
    Json,
}

/// A `[[sink]]` table with `type = "syslog"`.
#[derive(Debug, Clone, Deserialize, PartialEq)]
pub struct SyslogConfig {
    pub name: Option<String>,
    #[serde(default)]
    pub transport: SyslogTransport,
    #[serde(default = "default_server")]
    pub server: String,
    #[serde(default = "default_port")]
    pub port: u16,
    #[serde(default = "default_socket")]
    pub socket_path: String,
    /// Name (`authpriv`, `local0`, ...) or number 0-23.
    #[serde(default = "default_facility")]
    pub facility: String,
    /// Name (`info`, `notice`, ...) or number 0-7.
    #[serde(default = "default_severity")]
    pub severity: String,
    #[serde(default = "default_app_name")]
    pub app_name: String,
    #[serde(default)]
    pub format: SyslogFormat,
    #[serde(flatten)]
    pub spool: SpoolConfig,
}

fn default_server() -> String {
    "127.0.0.1".into()
}
fn default_port() -> u16 {
    514
}
fn default_socket() -> String {
    "/dev/log".into()
}
fn default_facility() -> String {
    "authpriv".into()
}
fn default_severity() -> String {
    "info".into()
}
fn default_app_name() -> String {
    "auditlink".into()
}

const FACILITIES: [&str; 24] = [
    "kern",
    "user",
    "mail",
    "daemon",
    "auth",
    "syslog",
    "lpr",
    "news",
    "uucp",
    "cron",
    "authpriv",
    "ftp",
    "ntp",
    "security",
    "console",
    "solaris-cron",
    "local0",
    "local1",
    "local2",
    "local3",
    "local4",
    "local5",
    "local6",
    "local7",
];
const SEVERITIES: [&str; 8] = [
    "emerg", "alert", "crit", "err", "warning", "notice", "info", "debug",
];

fn code(value: &str, names: &[&str], what: &str) -> Result<u8> {
    if let Some(i) = names.iter().position(|n| n.eq_ignore_ascii_case(value)) {
        return Ok(i as u8);
    }
    match value.parse::<u8>() {
        Ok(n) if (n as usize) < names.len() => Ok(n),
        _ => Err(Error::InvalidArgument(format!(
            "syslog sink: unknown {what} {value:?} (one of {} or 0-{})",
            names.join(", "),
            names.len() - 1
        ))),
    }
}

impl SyslogConfig {
    pub(crate) fn retry(&self) -> Retry {
        Retry::from_secs(self.spool.network_retry_time, 0)
    }

    /// PRI = facility * 8 + severity.
    pub fn priority(&self) -> Result<u8> {
        let f = code(&self.facility, &FACILITIES, "facility")?;
        let s = code(&self.severity, &SEVERITIES, "severity")?;
        Ok(f * 8 + s)
    }

    pub(crate) fn transport(&self) -> Result<SyslogLink> {
        let app_name: String = self
            .app_name
            .chars()
            .filter(|c| c.is_ascii_graphic())
            .take(48)
            .collect();
        Ok(SyslogLink {
            cfg: self.clone(),
            pri: self.priority()?,
            app_name: if app_name.is_empty() {
                "-".into()
            } else {
                app_name
            },
            procid: std::process::id().to_string(),
            conn: None,
            buf: Vec::new(),
        })
    }
}

enum Conn {
    Udp(UdpSocket),
    Tcp(TcpStream),
    Unix(UnixDatagram),
}

pub(crate) struct SyslogLink {
    cfg: SyslogConfig,
    pri: u8,
    app_name: String,
    procid: String,
    conn: Option<Conn>,
    buf: Vec<u8>,
}

/// `YYYY-MM-DDThh:mm:ss.mmmZ` for a Unix time (days-from-civil inverse, Gregorian).
pub fn rfc3339(sec: u64, msec: u32) -> String {
    let days = (sec / 86_400) as i64;
    let rem = sec % 86_400;
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}.{:03}Z",
        rem / 3600,
        rem / 60 % 60,
        rem % 60,
        msec.min(999)
    )
}

/// RFC 5424 header field: printable ASCII, at most `max` chars, `-` when empty.
fn header_field(s: &str, max: usize) -> String {
    let v: String = s
        .chars()
        .filter(|c| c.is_ascii_graphic())
        .take(max)
        .collect();
    if v.is_empty() {
        "-".into()
    } else {
        v
    }
}

impl SyslogLink {
    /// One RFC 5424 message for `ev` (no framing).
    pub fn format(&self, ev: &ForwardEvent, out: &mut Vec<u8>) {
        let body = match (&self.cfg.format, &ev.json) {
            (SyslogFormat::Json, Some(j)) => j.as_str(),
            _ => ev.text.as_str(),
        };
        let _ = write!(
            out,
            "<{}>1 {} {} {} {} {} - ",
            self.pri,
            rfc3339(ev.sec, ev.msec),
            header_field(&ev.node, 255),
            self.app_name,
            self.procid,
            header_field(&ev.id(), 32),
        );
        out.extend_from_slice(body.trim_end_matches('\n').as_bytes());
    }
}

impl Transport for SyslogLink {
    fn connect(&mut self) -> std::result::Result<(), String> {
        let target = format!("{}:{}", self.cfg.server, self.cfg.port);
        let timeout = Duration::from_secs(5);
        let conn = match self.cfg.transport {
            SyslogTransport::Unix => {
                let s = UnixDatagram::unbound().map_err(|e| e.to_string())?;
                s.connect(&self.cfg.socket_path)
                    .map_err(|e| format!("connect {}: {e}", self.cfg.socket_path))?;
                Conn::Unix(s)
            }
            SyslogTransport::Udp | SyslogTransport::Tcp => {
                let addr = (self.cfg.server.as_str(), self.cfg.port)
                    .to_socket_addrs()
                    .map_err(|e| format!("resolve {target}: {e}"))?
                    .next()
                    .ok_or_else(|| format!("resolve {target}: no address"))?;
                if self.cfg.transport == SyslogTransport::Tcp {
                    let s = TcpStream::connect_timeout(&addr, timeout)
                        .map_err(|e| format!("connect {target}: {e}"))?;
                    let _ = s.set_write_timeout(Some(timeout));
                    Conn::Tcp(s)
                } else {
                    let local = if addr.is_ipv4() {
                        "0.0.0.0:0"
                    } else {
                        "[::]:0"
                    };
                    let s = UdpSocket::bind(local).map_err(|e| e.to_string())?;
                    s.connect(addr)
                        .map_err(|e| format!("connect {target}: {e}"))?;
                    Conn::Udp(s)
                }
            }
        };
        self.conn = Some(conn);
        Ok(())
    }

    fn deliver(&mut self, events: &[ForwardEvent]) -> Delivery {
        let mut d = Delivery::default();
        let mut buf = std::mem::take(&mut self.buf);
        let mut msg = Vec::new();
        let result = (|| -> std::io::Result<()> {
            match &self.conn {
                Some(Conn::Tcp(s)) => {
                    let mut s = s;
                    buf.clear();
                    for ev in events {
                        msg.clear();
                        self.format(ev, &mut msg);
                        let _ = write!(buf, "{} ", msg.len());
                        buf.extend_from_slice(&msg);
                    }
                    s.write_all(&buf)?;
                    d.sent = events.len();
                    d.acked = events.len();
                }
                Some(Conn::Udp(_) | Conn::Unix(_)) => {
                    for ev in events {
                        msg.clear();
                        self.format(ev, &mut msg);
                        match &self.conn {
                            Some(Conn::Udp(s)) => s.send(&msg)?,
                            Some(Conn::Unix(s)) => s.send(&msg)?,
                            _ => 0,
                        };
                        d.sent += 1;
                        d.acked += 1;
                    }
                }
                None => return Err(std::io::Error::other("not connected")),
            }
            Ok(())
        })();
        self.buf = buf;
        if let Err(e) = result {
            d.error = Some(format!("syslog send: {e}"));
        }
        d
    }

    fn disconnect(&mut self) {
        if let Some(Conn::Tcp(s)) = self.conn.take() {
            let _ = s.shutdown(std::net::Shutdown::Both);
        }
    }
}
