//! Log lines as auditd 3.0.9 writes them: RAW, ENRICHED, the `node=` prefix, and its own DAEMON_* records.
//!
//! Behaviour from audit-userspace v3.0.9 src/auditd-event.c (`format_raw`,
//! `format_enrich`, `add_simple_field`) and src/auditd.c (`send_audit_event`),
//! lib/libaudit.c (`audit_format_signal_info`, `audit_encode_nv_string`).

use std::sync::OnceLock;
use std::time::{SystemTime, UNIX_EPOCH};

use super::enriched::{enrich, FORMAT_BUF_LEN, MAX_AUDIT_MESSAGE_LENGTH};
use crate::audit::records::parse::find_byte;
use crate::audit::tables::libaudit_message_type_name;

/// Turns records into log lines.
#[derive(Debug, Clone)]
pub struct LineFormat {
    /// The `node=` value, when name_format is not `none`.
    pub node: Option<String>,
    pub enriched: bool,
}

impl LineFormat {
    /// The node name sinks report: `name_format`'s, else the host name.
    pub fn sink_node(&self) -> String {
        self.node
            .clone()
            .unwrap_or_else(crate::audit::sinks::local_hostname)
    }

    /// Append the log line for one record (with its line end) to `out`.
    pub fn write(&self, msg_type: u16, payload: &[u8], out: &mut Vec<u8>) {
        let start = out.len();
        self.raw(msg_type, payload, out);
        if self.enriched {
            enrich(out, start);
        }
        out.push(b'\n');
    }

    /// `format_raw`: `[node=N ]type=T msg=PAYLOAD`, newlines made spaces, one
    /// trailing space trimmed, the whole cut where auditd's buffer ends.
    fn raw(&self, msg_type: u16, payload: &[u8], out: &mut Vec<u8>) {
        let start = out.len();
        // `%.*s` stops at a NUL.
        let payload = match find_byte(payload, 0) {
            Some(p) => &payload[..p],
            None => payload,
        };
        // snprintf's limit counts the terminating NUL.
        let limit = match &self.node {
            Some(node) => {
                out.extend_from_slice(b"node=");
                out.extend_from_slice(node.as_bytes());
                out.push(b' ');
                FORMAT_BUF_LEN - 32 - 1
            }
            None => MAX_AUDIT_MESSAGE_LENGTH - 32 - 1,
        };
        out.extend_from_slice(b"type=");
        match type_name(msg_type) {
            Some(name) => out.extend_from_slice(name.as_bytes()),
            None => out.extend_from_slice(format!("UNKNOWN[{msg_type}]").as_bytes()),
        }
        out.extend_from_slice(b" msg=");
        out.extend_from_slice(payload);
        if self.node.is_some() {
            // With a node name auditd's format ends in "\n" (made a space below).
            out.push(b'\n');
        }
        let full_len = out.len() - start;
        out.truncate(start + full_len.min(limit));
        let mut from = start;
        while let Some(p) = find_byte(&out[from..], b'\n') {
            out[from + p] = b' ';
            from += p + 1;
        }
        // auditd trims the last character of the untruncated length only.
        if full_len <= limit && out.last() == Some(&b' ') {
            out.pop();
        }
    }
}

/// `libaudit_message_type_name`, from a table of the types below 3000 built
/// once: the writer names every record, and the lookup is binary searches.
fn type_name(t: u16) -> Option<&'static str> {
    const TABLED: u16 = 3000;
    static NAMES: OnceLock<Vec<Option<&'static str>>> = OnceLock::new();
    let names = NAMES.get_or_init(|| (0..TABLED).map(libaudit_message_type_name).collect());
    match names.get(usize::from(t)) {
        Some(name) => *name,
        None => libaudit_message_type_name(t),
    }
}

/// Who asked the daemon to do something (the kernel's AUDIT_SIGNAL_INFO for a
/// signal, or this process for an API call).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Origin {
    /// The sender's login uid (the kernel reports it as `uid`).
    pub auid: u32,
    pub pid: i32,
    /// The sender's security context, if any.
    pub context: Option<String>,
}

impl Origin {
    /// This process.
    pub fn this_process() -> Origin {
        let pid = std::process::id() as i32;
        let auid = std::fs::read_to_string("/proc/self/loginuid")
            .ok()
            .and_then(|s| s.trim().parse().ok())
            .unwrap_or(u32::MAX);
        Origin {
            auid,
            pid,
            context: None,
        }
    }

    /// `audit_format_signal_info`: `op=OP auid= uid= ses= pid= [subj=] res=RES`,
    /// uid being the owner of /proc/PID and ses its session (as libaudit reads them).
    pub fn describe(&self, op: &str, res: &str) -> String {
        use std::os::unix::fs::MetadataExt;
        let uid = std::fs::metadata(format!("/proc/{}", self.pid))
            .map(|m| m.uid())
            .unwrap_or(u32::MAX);
        let ses = std::fs::read_to_string(format!("/proc/{}/sessionid", self.pid))
            .ok()
            .filter(|s| s.len() < 16)
            .unwrap_or_else(|| "4294967295".into());
        match &self.context {
            Some(ctx) => format!(
                "op={op} auid={} uid={uid} ses={ses} pid={} subj={ctx} res={res}",
                self.auid, self.pid
            ),
            None => format!(
                "op={op} auid={} uid={uid} ses={ses} pid={} res={res}",
                self.auid, self.pid
            ),
        }
    }
}

/// The serial numbers of the daemon's own records (`send_audit_event`): a
/// random start below 10000, then one more each time.
#[derive(Debug)]
pub struct DaemonSerial(u32);

impl DaemonSerial {
    pub fn new() -> DaemonSerial {
        let nanos = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.subsec_nanos())
            .unwrap_or(0);
        DaemonSerial((nanos ^ std::process::id().wrapping_mul(2_654_435_761)) % 10_000)
    }

    /// The payload of a daemon record: `audit(SECS.MS:SERIAL): TEXT`.
    pub fn payload(&mut self, text: &str) -> Vec<u8> {
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default();
        let serial = self.0;
        self.0 = self.0.wrapping_add(1);
        format!(
            "audit({}.{:03}:{serial}): {text}",
            now.as_secs(),
            now.subsec_millis()
        )
        .into_bytes()
    }
}

impl Default for DaemonSerial {
    fn default() -> Self {
        DaemonSerial::new()
    }
}

/// The DAEMON_START text.
pub fn start_text(format: &str) -> String {
    let release = rustix::system::uname()
        .release()
        .to_string_lossy()
        .chars()
        .take(56)
        .collect::<String>();
    let me = Origin::this_process();
    let ses = std::fs::read_to_string("/proc/self/sessionid")
        .map(|s| s.trim().to_string())
        .unwrap_or_else(|_| "4294967295".into());
    format!(
        "op=start ver={} format={format} kernel={release} auid={} pid={} uid={} ses={ses} res=success",
        AUDITD_VERSION,
        me.auid,
        me.pid,
        rustix::process::getuid().as_raw(),
    )
}

/// The auditd version auditlink's records say they come from: the log is
/// auditd 3.0.9's format, and tools key on `ver=`.
pub const AUDITD_VERSION: &str = "3.0.9";

/// The serial number of a log line or payload (`audit(SECS.MS:SERIAL)`).
#[cfg(test)]
pub(crate) fn serial_of(text: &str) -> Option<u64> {
    text.split_once("audit(")?
        .1
        .split_once(':')?
        .1
        .split_once(')')?
        .0
        .parse()
        .ok()
}

#[cfg(test)]
#[path = "format_tests.rs"]
mod tests;
