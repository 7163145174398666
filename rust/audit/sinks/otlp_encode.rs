//! The `otlp` sink's export request, protobuf-encoded straight from the events it borrows: no message values, no copies of their strings.
//!
//! Field numbers are those of the messages declared in [`super::otlp`]
//! (opentelemetry-proto collector/logs/v1, logs/v1, common/v1,
//! resource/v1); keys, varints and lengths are written with prost's own
//! wire primitives. Every length is computed before its message is
//! written, so the request is built with one pass over the bytes.

use std::borrow::Cow;

use prost::encoding::{encode_key, encode_varint, encoded_len_varint, key_len, WireType};

use super::fields::{EventFields, FIELD_NAMES};
use super::ForwardEvent;

/// SeverityNumber INFO (logs/v1).
pub const SEVERITY_INFO: i32 = 9;
const SEVERITY_TEXT: &str = "INFO";
const SCOPE_NAME: &str = "auditlink";
const SCOPE_VERSION: &str = env!("CARGO_PKG_VERSION");

/// The attribute key of each [`EventFields`] entry (0: the record type,
/// `i + 1`: `FIELD_NAMES[i]` as `audit.NAME`).
const FIELD_KEYS: [&str; FIELD_NAMES.len() + 1] = [
    "audit.record_type",
    "audit.syscall",
    "audit.success",
    "audit.exit",
    "audit.pid",
    "audit.ppid",
    "audit.auid",
    "audit.uid",
    "audit.comm",
    "audit.exe",
    "audit.key",
];

enum Value<'a> {
    Str(Cow<'a, str>),
    Int(i64),
}

/// Bytes of a length-delimited field holding `len` bytes.
fn field_len(tag: u32, len: usize) -> usize {
    key_len(tag) + encoded_len_varint(len as u64) + len
}

fn put_len(tag: u32, len: usize, out: &mut Vec<u8>) {
    encode_key(tag, WireType::LengthDelimited, out);
    encode_varint(len as u64, out);
}

fn put_str(tag: u32, s: &str, out: &mut Vec<u8>) {
    put_len(tag, s.len(), out);
    out.extend_from_slice(s.as_bytes());
}

/// AnyValue: string_value = 1, int_value = 3.
fn any_len(v: &Value) -> usize {
    match v {
        Value::Str(s) => field_len(1, s.len()),
        Value::Int(i) => key_len(3) + encoded_len_varint(*i as u64),
    }
}

/// KeyValue: key = 1, value = 2.
fn key_value_len(key: &str, v: &Value) -> usize {
    field_len(1, key.len()) + field_len(2, any_len(v))
}

fn put_key_value(tag: u32, key: &str, v: &Value, out: &mut Vec<u8>) {
    put_len(tag, key_value_len(key, v), out);
    put_str(1, key, out);
    put_len(2, any_len(v), out);
    match v {
        Value::Str(s) => put_str(1, s, out),
        Value::Int(i) => {
            encode_key(3, WireType::Varint, out);
            encode_varint(*i as u64, out);
        }
    }
}

/// One event with what its log record needs besides the event itself.
struct Prepared<'a> {
    ev: &'a ForwardEvent,
    id: String,
    /// The event's fields; parsed from its text when it came without them.
    fields: Cow<'a, EventFields>,
    /// Bytes of its LogRecord message.
    len: usize,
}

impl<'a> Prepared<'a> {
    fn new(ev: &'a ForwardEvent) -> Prepared<'a> {
        let fields = match &ev.fields {
            Some(f) => Cow::Borrowed(f),
            None => Cow::Owned(EventFields::from_text(&ev.text)),
        };
        let mut p = Prepared {
            ev,
            id: ev.id(),
            fields,
            len: 0,
        };
        let mut len = key_len(1) + 8 + key_len(11) + 8;
        len += key_len(2) + encoded_len_varint(SEVERITY_INFO as u64);
        len += field_len(3, SEVERITY_TEXT.len());
        len += field_len(5, field_len(1, p.body().len()));
        p.attributes(|k, v| len += field_len(6, key_value_len(k, &v)));
        p.len = len;
        p
    }

    /// The body: the event's JSON, or its records' text.
    fn body(&self) -> &'a str {
        self.ev.json.as_deref().unwrap_or(&self.ev.text)
    }

    /// `audit.node`, `audit.id`, `audit.serial`, then the event's fields.
    fn attributes<'s>(&'s self, mut f: impl FnMut(&'static str, Value<'s>)) {
        f("audit.node", Value::Str(Cow::Borrowed(&self.ev.node)));
        f("audit.id", Value::Str(Cow::Borrowed(&self.id)));
        f("audit.serial", Value::Int(self.ev.serial as i64));
        for (index, value) in self.fields.iter() {
            if let Some(key) = FIELD_KEYS.get(index) {
                f(key, Value::Str(String::from_utf8_lossy(value)));
            }
        }
    }

    /// LogRecord: time_unix_nano = 1, severity_number = 2, severity_text =
    /// 3, body = 5, attributes = 6, observed_time_unix_nano = 11.
    fn put(&self, observed: u64, out: &mut Vec<u8>) {
        let ev = self.ev;
        let time = ev.sec * 1_000_000_000 + u64::from(ev.msec) * 1_000_000;
        encode_key(1, WireType::SixtyFourBit, out);
        out.extend_from_slice(&time.to_le_bytes());
        encode_key(2, WireType::Varint, out);
        encode_varint(SEVERITY_INFO as u64, out);
        put_str(3, SEVERITY_TEXT, out);
        let body = self.body();
        put_len(5, field_len(1, body.len()), out);
        put_str(1, body, out);
        self.attributes(|k, v| put_key_value(6, k, &v, out));
        encode_key(11, WireType::SixtyFourBit, out);
        out.extend_from_slice(&observed.to_le_bytes());
    }
}

/// ExportLogsServiceRequest for `events` into `out`: one ResourceLogs per
/// node (in order of first appearance) whose `host.name` is that node (or
/// `host` when the events have none), with `service.name` and `os.type`.
pub fn encode_request(
    events: &[ForwardEvent],
    host: &str,
    service: &str,
    observed: u64,
    out: &mut Vec<u8>,
) {
    let prepared: Vec<Prepared> = events.iter().map(Prepared::new).collect();
    let mut groups: Vec<(&str, Vec<&Prepared>)> = Vec::new();
    for p in &prepared {
        match groups.iter_mut().find(|(node, _)| *node == p.ev.node) {
            Some((_, list)) => list.push(p),
            None => groups.push((&p.ev.node, vec![p])),
        }
    }
    let bytes: usize = prepared.iter().map(|p| p.len + 8).sum();
    out.reserve(bytes + groups.len() * 256);
    for (node, records) in groups {
        let resource = [
            (
                "host.name",
                Value::Str(Cow::Borrowed(if node.is_empty() { host } else { node })),
            ),
            ("service.name", Value::Str(Cow::Borrowed(service))),
            ("os.type", Value::Str(Cow::Borrowed("linux"))),
        ];
        // Resource: attributes = 1.
        let resource_len: usize = resource
            .iter()
            .map(|(k, v)| field_len(1, key_value_len(k, v)))
            .sum();
        // InstrumentationScope: name = 1, version = 2.
        let scope_len = field_len(1, SCOPE_NAME.len()) + field_len(2, SCOPE_VERSION.len());
        // ScopeLogs: scope = 1, log_records = 2.
        let scope_logs_len =
            field_len(1, scope_len) + records.iter().map(|p| field_len(2, p.len)).sum::<usize>();
        // ResourceLogs: resource = 1, scope_logs = 2.
        let resource_logs_len = field_len(1, resource_len) + field_len(2, scope_logs_len);
        // ExportLogsServiceRequest: resource_logs = 1.
        put_len(1, resource_logs_len, out);
        put_len(1, resource_len, out);
        for (k, v) in &resource {
            put_key_value(1, k, v, out);
        }
        put_len(2, scope_logs_len, out);
        put_len(1, scope_len, out);
        put_str(1, SCOPE_NAME, out);
        put_str(2, SCOPE_VERSION, out);
        for p in records {
            put_len(2, p.len, out);
            let at = out.len();
            p.put(observed, out);
            debug_assert_eq!(out.len() - at, p.len);
        }
    }
}
