//! The `syslog` sink: RFC 5424 messages, one per event, over UDP, TCP (RFC 6587 octet counting), TLS (RFC 5425) or a local datagram socket such as /dev/log.
//!
//! HOSTNAME is the event's node and MSGID its `sec.msec:serial`, so
//! (HOSTNAME, MSGID) is the event's stable id at the receiver. The text body
//! is the event's records in auditd log format, one per line, as audisp-syslog
//! would log them (it logs each record as its own message).
//!
//! TLS carries exactly the bytes plain TCP does: RFC 5425 uses the same
//! `MSG-LEN SP SYSLOG-MSG` octet-counted frames, inside a TLS session whose
//! server certificate is verified against `ca_file` (port 6514 by convention).

use std::io::Write;
use std::net::{TcpStream, ToSocketAddrs, UdpSocket};
use std::os::unix::net::UnixDatagram;
use std::sync::Arc;
use std::time::Duration;

use rustls::pki_types::ServerName;
use rustls::{ClientConfig, ClientConnection, StreamOwned};

use serde::Deserialize;

use super::tls::{self, TlsFiles};
use super::worker::{Delivery, Retry, Transport};
use super::{ForwardEvent, SpoolConfig};
use crate::error::{Error, Result};

#[derive(Debug, Clone, Copy, Default, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum SyslogTransport {
    #[default]
    Udp,
    Tcp,
    /// TCP inside TLS (RFC 5425), the server verified against `ca_file`.
    Tls,
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
    /// 0: the transport's usual port (514, or 6514 for `tls`).
    #[serde(default)]
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
    /// `ca_file`, `cert_file`, `key_file` (transport `tls` only).
    #[serde(flatten)]
    pub tls: TlsFiles,
    /// The name the server's certificate must carry (default: `server`).
    #[serde(default)]
    pub tls_server_name: Option<String>,
    #[serde(flatten)]
    pub spool: SpoolConfig,
}

fn default_server() -> String {
    "127.0.0.1".into()
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

    /// The port connected to: `port`, or the transport's usual one.
    pub fn effective_port(&self) -> u16 {
        match (self.port, self.transport) {
            (0, SyslogTransport::Tls) => 6514,
            (0, _) => 514,
            (p, _) => p,
        }
    }

    pub(crate) fn transport(&self) -> Result<SyslogLink> {
        let app_name: String = self
            .app_name
            .chars()
            .filter(|c| c.is_ascii_graphic())
            .take(48)
            .collect();
        let tls = match self.transport {
            SyslogTransport::Tls => {
                let name = self.tls_server_name.as_deref().unwrap_or(&self.server);
                Some((
                    self.tls.load("syslog")?.client_config("syslog")?,
                    tls::server_name("syslog", name)?,
                ))
            }
            _ if self.tls.is_set() || self.tls_server_name.is_some() => {
                return Err(Error::InvalidArgument(
                    "syslog sink: ca_file, cert_file, key_file and tls_server_name need \
                     transport = \"tls\""
                        .into(),
                ))
            }
            _ => None,
        };
        Ok(SyslogLink {
            cfg: self.clone(),
            pri: self.priority()?,
            app_name: if app_name.is_empty() {
                "-".into()
            } else {
                app_name
            },
            procid: std::process::id().to_string(),
            tls,
            conn: None,
            buf: Vec::new(),
        })
    }
}

enum Conn {
    Udp(UdpSocket),
    Tcp(TcpStream),
    Tls(Box<StreamOwned<ClientConnection, TcpStream>>),
    Unix(UnixDatagram),
}

pub(crate) struct SyslogLink {
    cfg: SyslogConfig,
    pri: u8,
    app_name: String,
    procid: String,
    /// For `tls`: the client config and the name the certificate must carry.
    tls: Option<(Arc<ClientConfig>, ServerName<'static>)>,
    conn: Option<Conn>,
    buf: Vec<u8>,
}

/// `YYYY-MM-DDThh:mm:ss.mmmZ` for a Unix time (days-from-civil inverse, Gregorian).
pub fn rfc3339(sec: u64, msec: u32) -> String {
    let mut out = Vec::with_capacity(24);
    write_rfc3339(&mut out, sec, msec);
    String::from_utf8_lossy(&out).into_owned()
}

fn write_rfc3339(out: &mut Vec<u8>, sec: u64, msec: u32) {
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
    let _ = write!(
        out,
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}.{:03}Z",
        rem / 3600,
        rem / 60 % 60,
        rem % 60,
        msec.min(999)
    );
}

/// RFC 5424 header field: printable ASCII, at most `max` chars, `-` when empty.
fn push_header_field(out: &mut Vec<u8>, s: &[u8], max: usize) {
    let start = out.len();
    out.extend(s.iter().filter(|c| c.is_ascii_graphic()).take(max));
    if out.len() == start {
        out.push(b'-');
    }
}

impl SyslogLink {
    /// One RFC 5424 message for `ev` (no framing).
    pub fn format(&self, ev: &ForwardEvent, out: &mut Vec<u8>) {
        let body = match (&self.cfg.format, &ev.json) {
            (SyslogFormat::Json, Some(j)) => j.as_str(),
            _ => ev.text.as_str(),
        };
        let _ = write!(out, "<{}>1 ", self.pri);
        write_rfc3339(out, ev.sec, ev.msec);
        out.push(b' ');
        push_header_field(out, ev.node.as_bytes(), 255);
        out.push(b' ');
        out.extend_from_slice(self.app_name.as_bytes());
        out.push(b' ');
        out.extend_from_slice(self.procid.as_bytes());
        out.push(b' ');
        // MSGID (at most 32 characters): the id is printable ASCII already.
        let id = out.len();
        let _ = write!(out, "{}.{:03}:{}", ev.sec, ev.msec, ev.serial);
        out.truncate(id + 32);
        out.extend_from_slice(b" - ");
        out.extend_from_slice(body.trim_end_matches('\n').as_bytes());
    }
}

/// Whether a stream connection is still open, without blocking: a receiver
/// that closed it (stopped, restarted) is noticed before the next batch is
/// written into a socket whose peer is gone, where the kernel would take the
/// bytes and the receiver never see them. rsyslog's omfwd checks the same way
/// (`CheckConnection` in runtime/nsd_ptcp.c: a non-blocking `MSG_PEEK`).
/// Syslog receivers never send application data, so bytes waiting on a TLS
/// connection are TLS records (session tickets, or the close_notify alert).
fn check_open(conn: &mut Conn) -> std::result::Result<(), String> {
    use rustix::net::{recv, RecvFlags};
    let sock = match conn {
        Conn::Tcp(s) => &*s,
        Conn::Tls(t) => &t.sock,
        Conn::Udp(_) | Conn::Unix(_) => return Ok(()),
    };
    let mut probe = [0u8; 1];
    match recv(sock, &mut probe, RecvFlags::PEEK | RecvFlags::DONTWAIT) {
        Ok((_, 0)) => return Err("the receiver closed the connection".into()),
        Ok(_) => {}
        Err(rustix::io::Errno::AGAIN) => return Ok(()),
        Err(e) => return Err(format!("connection lost: {e}")),
    }
    if let Conn::Tls(t) = conn {
        // The bytes are there, so this read returns at once.
        t.conn
            .read_tls(&mut t.sock)
            .map_err(|e| format!("connection lost: {}", tls::describe_io(&e)))?;
        let state = t
            .conn
            .process_new_packets()
            .map_err(|e| format!("TLS: {}", tls::describe(&e)))?;
        if state.peer_has_closed() {
            return Err("the receiver closed the TLS session".into());
        }
    }
    Ok(())
}

/// How long a TLS 1.3 connect waits for the server's verdict on the client
/// certificate (an alert, or nothing when it is accepted).
const TLS13_VERDICT_WAIT_NS: i64 = 250_000_000;

impl SyslogLink {
    fn connect_stream(
        &self,
        addr: std::net::SocketAddr,
        target: &str,
    ) -> std::result::Result<Conn, String> {
        let timeout = Duration::from_secs(5);
        let mut sock = TcpStream::connect_timeout(&addr, timeout)
            .map_err(|e| format!("connect {target}: {e}"))?;
        let _ = sock.set_write_timeout(Some(timeout));
        let Some((config, name)) = &self.tls else {
            return Ok(Conn::Tcp(sock));
        };
        let _ = sock.set_read_timeout(Some(timeout));
        let mut conn = ClientConnection::new(config.clone(), name.clone())
            .map_err(|e| format!("TLS with {target}: {}", tls::describe(&e)))?;
        // The handshake is completed here so a refused certificate is this
        // connect's error, not a write failing later.
        let handshake_error = |e: String| format!("TLS handshake with {target}: {e}");
        while conn.is_handshaking() {
            conn.complete_io(&mut sock)
                .map_err(|e| handshake_error(tls::reason_io(&e)))?;
        }
        let mut conn = Conn::Tls(Box::new(StreamOwned::new(conn, sock)));
        // In TLS 1.3 the client's handshake ends before the server has checked
        // the client certificate; a server that refuses it says so with an
        // alert right after. Waiting briefly for it keeps the first batch from
        // going into a session the server is about to drop.
        if let Conn::Tls(t) = &conn {
            if t.conn.protocol_version() == Some(rustls::ProtocolVersion::TLSv1_3) {
                let mut fds = [rustix::event::PollFd::new(
                    &t.sock,
                    rustix::event::PollFlags::IN,
                )];
                let wait = rustix::event::Timespec {
                    tv_sec: 0,
                    tv_nsec: TLS13_VERDICT_WAIT_NS,
                };
                let _ = rustix::event::poll(&mut fds, Some(&wait));
            }
        }
        check_open(&mut conn).map_err(|e| {
            handshake_error(format!(
                "{e} right after the handshake (a server that requires a client certificate \
                 does so when cert_file/key_file are missing or not signed by a CA it trusts)"
            ))
        })?;
        Ok(conn)
    }
}

impl Transport for SyslogLink {
    fn connect(&mut self) -> std::result::Result<(), String> {
        let port = self.cfg.effective_port();
        let target = format!("{}:{port}", self.cfg.server);
        let conn = match self.cfg.transport {
            SyslogTransport::Unix => {
                let s = UnixDatagram::unbound().map_err(|e| e.to_string())?;
                s.connect(&self.cfg.socket_path)
                    .map_err(|e| format!("connect {}: {e}", self.cfg.socket_path))?;
                Conn::Unix(s)
            }
            SyslogTransport::Udp | SyslogTransport::Tcp | SyslogTransport::Tls => {
                let addr = (self.cfg.server.as_str(), port)
                    .to_socket_addrs()
                    .map_err(|e| format!("resolve {target}: {e}"))?
                    .next()
                    .ok_or_else(|| format!("resolve {target}: no address"))?;
                if self.cfg.transport == SyslogTransport::Udp {
                    let local = if addr.is_ipv4() {
                        "0.0.0.0:0"
                    } else {
                        "[::]:0"
                    };
                    let s = UdpSocket::bind(local).map_err(|e| e.to_string())?;
                    s.connect(addr)
                        .map_err(|e| format!("connect {target}: {e}"))?;
                    Conn::Udp(s)
                } else {
                    self.connect_stream(addr, &target)?
                }
            }
        };
        self.conn = Some(conn);
        Ok(())
    }

    fn deliver(&mut self, events: &[ForwardEvent]) -> Delivery {
        let mut d = Delivery::default();
        let Some(conn) = self.conn.as_mut() else {
            d.error = Some("syslog send: not connected".into());
            return d;
        };
        if let Err(e) = check_open(conn) {
            d.error = Some(e);
            return d;
        }
        let mut buf = std::mem::take(&mut self.buf);
        let mut msg = Vec::new();
        buf.clear();
        let result = match &self.conn {
            Some(Conn::Tcp(_) | Conn::Tls(_)) => {
                // One write of octet-counted frames (RFC 6587 3.4.1, RFC 5425 4.3).
                for ev in events {
                    msg.clear();
                    self.format(ev, &mut msg);
                    let _ = write!(buf, "{} ", msg.len());
                    buf.extend_from_slice(&msg);
                }
                let written = match self.conn.as_mut() {
                    Some(Conn::Tcp(s)) => s.write_all(&buf),
                    Some(Conn::Tls(t)) => t.write_all(&buf).and_then(|()| t.flush()),
                    _ => Ok(()),
                };
                written.map(|()| events.len())
            }
            Some(Conn::Udp(_) | Conn::Unix(_)) => {
                // Datagrams: the ones sent before an error count as delivered.
                let mut sent = 0;
                for ev in events {
                    msg.clear();
                    self.format(ev, &mut msg);
                    let r = match &self.conn {
                        Some(Conn::Udp(s)) => s.send(&msg),
                        Some(Conn::Unix(s)) => s.send(&msg),
                        _ => Ok(0),
                    };
                    if let Err(e) = r {
                        d.error = Some(format!("syslog send: {e}"));
                        break;
                    }
                    sent += 1;
                }
                Ok(sent)
            }
            None => Ok(0),
        };
        self.buf = buf;
        match result {
            Ok(n) => {
                d.sent = n;
                d.acked = n;
            }
            Err(e) => d.error = Some(format!("syslog send: {}", tls::describe_io(&e))),
        }
        d
    }

    fn disconnect(&mut self) {
        match self.conn.take() {
            Some(Conn::Tcp(s)) => {
                let _ = s.shutdown(std::net::Shutdown::Both);
            }
            Some(Conn::Tls(mut t)) => {
                t.conn.send_close_notify();
                let _ = t.conn.complete_io(&mut t.sock);
                let _ = t.sock.shutdown(std::net::Shutdown::Both);
            }
            _ => {}
        }
    }
}
