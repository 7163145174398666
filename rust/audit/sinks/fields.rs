//! The fields a sink labels an event with (its first record's type, then the first `syscall`, `success`, ... among its records), taken once from records the pipeline has parsed already.
//!
//! Kept as one compact byte string (spooled with the event), so a sink reads
//! them without parsing the records again and without an allocation per field.

use crate::audit::records::json::type_key;
use crate::audit::records::{parse_log_line_lenient, Record};

/// The record fields looked up, in order; index `i` here is entry `i + 1`
/// of [`EventFields`] (entry 0 is the first record's type).
pub const FIELD_NAMES: [&str; 10] = [
    "syscall", "success", "exit", "pid", "ppid", "auid", "uid", "comm", "exe", "key",
];

/// Entries `[index: u8][length: u16 LE][value]`, in index order, each
/// present one once.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EventFields(Vec<u8>);

impl EventFields {
    /// From an event's parsed records.
    pub fn from_records(records: &[Record]) -> EventFields {
        let mut out = EventFields(Vec::with_capacity(128));
        if let Some(first) = records.first() {
            out.push(0, type_key(first.msg_type).as_bytes());
        }
        for (i, name) in FIELD_NAMES.iter().enumerate() {
            if let Some(v) = records.iter().find_map(|r| r.get(name.as_bytes())) {
                out.push(i + 1, v);
            }
        }
        out
    }

    /// From an event's records as log lines (`\n`-separated), parsing them:
    /// for events that came without their fields.
    pub fn from_text(text: &str) -> EventFields {
        let records: Vec<Record> = text
            .split('\n')
            .filter(|l| !l.trim().is_empty())
            .map(|l| parse_log_line_lenient(l.as_bytes()))
            .collect();
        EventFields::from_records(&records)
    }

    fn push(&mut self, index: usize, value: &[u8]) {
        let value = &value[..value.len().min(u16::MAX as usize)];
        self.0.push(index as u8);
        self.0
            .extend_from_slice(&(value.len() as u16).to_le_bytes());
        self.0.extend_from_slice(value);
    }

    /// The entries: `(index, value)`, index 0 the record type, `i + 1` the
    /// field `FIELD_NAMES[i]`.
    pub fn iter(&self) -> impl Iterator<Item = (usize, &[u8])> {
        let mut b = &self.0[..];
        std::iter::from_fn(move || {
            let (&index, rest) = b.split_first()?;
            let len = u16::from_le_bytes(rest.get(..2)?.try_into().ok()?) as usize;
            let value = rest.get(2..2 + len)?;
            b = &rest[2 + len..];
            Some((usize::from(index), value))
        })
    }

    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }

    /// Inverse of [`as_bytes`](Self::as_bytes); `None` unless every entry is whole and known.
    pub fn from_bytes(b: &[u8]) -> Option<EventFields> {
        let f = EventFields(b.to_vec());
        let mut seen = 0usize;
        for (index, value) in f.iter() {
            if index > FIELD_NAMES.len() {
                return None;
            }
            seen += 3 + value.len();
        }
        (seen == b.len()).then_some(f)
    }
}
