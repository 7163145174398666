//! Audit records and events: parse (netlink payloads and auditd log lines),
//! interpret fields as auparse does, group records into events, write JSON.
//!
//! Data path: bytes → [`parse`] (once, zero-copy spans) → [`reassemble`] →
//! [`Event`] → JSON ([`json`]) or Python objects (bindings). Interpretation
//! ([`interpret`]) runs on demand over the parsed spans.

mod auparse_tables;
pub mod interpret;
pub mod json;
mod jsonkeys;
mod jsonwrite;
pub mod names;
pub mod parse;
pub mod pipeline;
pub mod reassemble;
pub mod tokens;

pub use interpret::{interpret, interpret_field, FieldKind};
pub use parse::{parse_log_line, parse_payload, Field, ParseError, Record, Timestamp};
pub use reassemble::{Event, Reassembler};

impl From<ParseError> for crate::Error {
    fn from(e: ParseError) -> crate::Error {
        crate::Error::Malformed(e.to_string())
    }
}

/// Parse a netlink payload; never fails: a record that cannot be parsed is
/// kept with its raw text and an error note.
pub fn parse_payload_lenient(msg_type: u16, data: &[u8]) -> Record {
    lenient(msg_type, data, parse::parse_payload_soft)
}

pub(crate) use parse::payload_id;

/// `parse`'s record, or the payload kept unparsed with the error noted.
fn lenient(
    msg_type: u16,
    data: &[u8],
    parse: fn(u16, &[u8]) -> Result<Record, ParseError>,
) -> Record {
    parse(msg_type, data).unwrap_or_else(|e| Record::unparsable(msg_type, data, e))
}

/// Parse a log line; never fails (see [`parse_payload_lenient`]).
pub fn parse_log_line_lenient(line: &[u8]) -> Record {
    match parse::parse_log_line_soft(line) {
        Ok(r) => r,
        Err(e) => {
            // Keep the type if the line has a readable one.
            let t = line
                .split(|&c| c == b' ')
                .find_map(|w| w.strip_prefix(b"type="))
                .and_then(|n| parse::type_from_name(n).ok())
                .unwrap_or(0);
            Record::unparsable(t, line, e)
        }
    }
}

/// Turns a byte stream of auditd log lines (in chunks of any size) into events.
#[derive(Debug)]
pub struct LogStream {
    partial: Vec<u8>,
    reassembler: Reassembler,
    /// Lines (records) parsed so far.
    pub records: u64,
}

/// Longest line kept while waiting for its end; longer ones are cut (and then
/// reported as malformed) so memory stays bounded on garbage input.
const MAX_PARTIAL: usize = parse::MAX_RECORD_LEN;

impl LogStream {
    pub fn new(max_in_flight: usize, timeout_ms: u64) -> LogStream {
        LogStream {
            partial: Vec::new(),
            reassembler: Reassembler::new(max_in_flight, timeout_ms),
            records: 0,
        }
    }

    pub fn reassembler(&self) -> &Reassembler {
        &self.reassembler
    }

    /// The grouping options (see [`Reassembler::set_split_login`]).
    pub fn reassembler_mut(&mut self) -> &mut Reassembler {
        &mut self.reassembler
    }

    fn line(&mut self, line: &[u8], out: &mut Vec<Event>) {
        if line.iter().all(|&c| c == b'\r' || c == b' ' || c == 0) {
            return;
        }
        self.records += 1;
        let rec = parse_log_line_lenient(line);
        self.reassembler.push(rec, out);
    }

    /// Feed the next chunk; completed events are appended to `out`.
    pub fn feed(&mut self, chunk: &[u8], out: &mut Vec<Event>) {
        if !chunk.is_empty() {
            self.reassembler.arrived();
        }
        let mut rest = chunk;
        if !self.partial.is_empty() {
            match memchr::memchr(b'\n', rest) {
                Some(p) => {
                    let mut line = std::mem::take(&mut self.partial);
                    line.extend_from_slice(&rest[..p]);
                    self.line(&line, out);
                    rest = &rest[p + 1..];
                }
                None => {
                    let room = MAX_PARTIAL.saturating_sub(self.partial.len());
                    self.partial
                        .extend_from_slice(&rest[..rest.len().min(room)]);
                    return;
                }
            }
        }
        while let Some(p) = memchr::memchr(b'\n', rest) {
            self.line(&rest[..p], out);
            rest = &rest[p + 1..];
        }
        let keep = rest.len().min(MAX_PARTIAL);
        self.partial.extend_from_slice(&rest[..keep]);
    }

    /// The input has been idle for `idle_ms` since its last line: see
    /// [`Reassembler::expire_idle`].
    pub fn expire_idle(&mut self, idle_ms: u64, out: &mut Vec<Event>) {
        self.reassembler.expire_idle(idle_ms, out);
    }

    /// Nothing was fed since the last chunk: see [`Reassembler::expire_idle_now`].
    pub fn expire_idle_now(&mut self, out: &mut Vec<Event>) {
        self.reassembler.expire_idle_now(out);
    }

    /// End of input: the last unterminated line, then every event in flight.
    pub fn finish(&mut self, out: &mut Vec<Event>) {
        if !self.partial.is_empty() {
            let line = std::mem::take(&mut self.partial);
            self.line(&line, out);
        }
        self.reassembler.flush(out);
    }
}

#[cfg(test)]
mod tests;

#[cfg(test)]
mod bench;
