//! Events for sinks that take only log lines, grouped by the writer as the lines are written.
//!
//! When every sink sends records as the log has them (the remote sink, the
//! syslog sink in text format) and nothing else reads the records' fields
//! (no JSON file, no enrichment, no Python queue), the writer does not
//! reassemble parsed records into `Event`s. It puts each record's log line
//! straight into the text of its event, found by `(time stamp, serial)`,
//! with the reassembler's rules (`crate::audit::records::reassemble`): an
//! event completes on its EOE (not logged) or PROCTITLE record, at once for
//! a type that is always alone, or, incomplete, when it is older than the
//! end-of-event timeout in stream time, when too many are open, or on a
//! flush (the writer's idle tick and its end).
//!
//! The cost per record is a header parse (no copy) and one copy of its line;
//! per event, one more copy: the writer encodes it into the sinks' payload
//! format ([`encode_text_only`]), so neither the fan-out nor a sink's intake
//! touches it again before the spool.

use std::collections::VecDeque;

use crate::audit::packed::Packed;
use crate::audit::records::payload_id;
use crate::audit::records::reassemble::is_single_record_type;
use crate::audit::sinks::encode_text_only;
use crate::audit::tables::msg;

/// Events open at once before the oldest is handed out incomplete.
const MAX_OPEN: usize = 64;
/// Ids of completed events remembered so a late EOE is not an event.
const DONE_KEPT: usize = 64;

type Id = (u64, u32, u64);

/// An event being grouped.
#[derive(Debug)]
struct Open {
    id: Id,
    text: Vec<u8>,
    /// Where its first line starts in the caller's stream (see [`LineGroups::push_at`]).
    at: u64,
}

/// Groups records into events, encoded as the sinks' payloads.
#[derive(Debug)]
pub struct LineGroups {
    open: VecDeque<Open>,
    done_ids: VecDeque<Id>,
    done: Packed,
    timeout_ms: u64,
    /// The name the events carry (the fan-out's: `name_format`'s, else the host name).
    node: String,
    /// Texts of handed-out events, kept for the next ones.
    spare: Vec<Vec<u8>>,
}

fn stamp_ms(id: Id) -> u64 {
    id.0.saturating_mul(1000).saturating_add(u64::from(id.1))
}

impl LineGroups {
    pub fn new(timeout_ms: u64, node: String) -> LineGroups {
        LineGroups {
            open: VecDeque::new(),
            done_ids: VecDeque::new(),
            done: Packed::default(),
            timeout_ms,
            node,
            spare: Vec::new(),
        }
    }

    fn text(&mut self) -> Vec<u8> {
        self.spare.pop().unwrap_or_else(|| Vec::with_capacity(1024))
    }

    /// One record in log order: its payload (for the id) and its log line
    /// without the line end (`None` for a record that is not logged: EOE).
    pub fn push(&mut self, msg_type: u16, payload: &[u8], line: Option<&[u8]>) {
        self.push_at(0, msg_type, payload, line);
    }

    /// [`push`](Self::push) for a record whose line starts at `at` in the
    /// caller's stream (a log read back): [`oldest_open`](Self::oldest_open)
    /// then says from where a reader must start again to miss nothing.
    pub fn push_at(&mut self, at: u64, msg_type: u16, payload: &[u8], line: Option<&[u8]>) {
        let Some((t, serial)) = payload_id(payload) else {
            // No readable header: an event of its own.
            if let Some(line) = line {
                let mut text = self.text();
                text.extend_from_slice(line);
                self.emit(Open {
                    id: (0, 0, 0),
                    text,
                    at,
                });
            }
            return;
        };
        let id = (t.sec, t.msec, serial);
        // Events older than the timeout in stream time get no more records
        // (handed out before this record's event).
        let now = stamp_ms(id);
        while self
            .open
            .front()
            .is_some_and(|o| stamp_ms(o.id).saturating_add(self.timeout_ms) < now)
        {
            if let Some(o) = self.open.pop_front() {
                self.emit(o);
            }
        }
        let found = self.open.iter().rposition(|o| o.id == id);
        let ends = msg_type == msg::EOE || msg_type == msg::PROCTITLE;
        let mut open = match found {
            Some(i) => match self.open.remove(i) {
                Some(o) => o,
                None => return,
            },
            None if msg_type == msg::EOE && self.done_ids.contains(&id) => return,
            None => Open {
                id,
                text: self.text(),
                at,
            },
        };
        if let Some(line) = line {
            if !open.text.is_empty() {
                open.text.push(b'\n');
            }
            open.text.extend_from_slice(line);
        }
        // LOGIN joins the syscall that changed the login uid (the daemon's
        // reassembler does the same by default).
        let alone = msg_type != msg::LOGIN && is_single_record_type(msg_type);
        if ends || (found.is_none() && alone) {
            self.done_ids.push_back(id);
            if self.done_ids.len() > DONE_KEPT {
                self.done_ids.pop_front();
            }
            self.emit(open);
        } else {
            self.open.push_back(open);
            if self.open.len() > MAX_OPEN {
                if let Some(o) = self.open.pop_front() {
                    self.emit(o);
                }
            }
        }
    }

    /// Where the first line of the oldest event still open starts (`None`
    /// when none is).
    pub fn oldest_open(&self) -> Option<u64> {
        self.open.iter().map(|o| o.at).min()
    }

    /// Hand out whatever is open, incomplete (no more records for a while,
    /// or the end).
    pub fn flush(&mut self) {
        while let Some(o) = self.open.pop_front() {
            self.emit(o);
        }
    }

    /// The completed events' payloads, in the order they completed.
    pub fn take(&mut self) -> Packed {
        // The next batch gets the room this one needed: one allocation, no
        // regrowing copies (the batch is freed by the thread it goes to).
        let next = Packed::with_capacity(self.done.byte_len(), self.done.len());
        std::mem::replace(&mut self.done, next)
    }

    fn emit(&mut self, mut o: Open) {
        if !o.text.is_empty() {
            let node = &self.node;
            match std::str::from_utf8(&o.text) {
                Ok(text) => self
                    .done
                    .push(|out| encode_text_only(out, node, o.id, text)),
                Err(_) => {
                    let text = String::from_utf8_lossy(&o.text);
                    self.done
                        .push(|out| encode_text_only(out, node, o.id, &text));
                }
            }
        }
        if self.spare.len() < MAX_OPEN {
            o.text.clear();
            self.spare.push(o.text);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::audit::sinks::ForwardEvent;

    fn taken(g: &mut LineGroups) -> Vec<ForwardEvent> {
        let p = g.take();
        let got: Vec<_> = p.iter().filter_map(ForwardEvent::decode).collect();
        assert_eq!(got.len(), p.len(), "every payload decodes");
        assert!(got.iter().all(|e| e.node == "h1"));
        got
    }

    fn push(g: &mut LineGroups, t: u16, serial: u64, body: &str) {
        push_at(g, t, 1_700_000_000, serial, body);
    }

    fn push_at(g: &mut LineGroups, t: u16, sec: u64, serial: u64, body: &str) {
        let payload = format!("audit({sec}.123:{serial}): {body}");
        let line = format!("type={t} msg={payload}");
        let logged = (t != msg::EOE).then_some(line.as_bytes());
        g.push(t, payload.as_bytes(), logged);
    }

    fn serials(g: &mut LineGroups) -> Vec<u64> {
        taken(g).iter().map(|e| e.serial).collect()
    }

    #[test]
    fn an_event_completes_on_its_eoe_or_proctitle() {
        let mut g = LineGroups::new(2000, "h1".into());
        push(&mut g, msg::SYSCALL, 7, "a");
        push(&mut g, msg::CWD, 7, "b");
        assert!(g.take().is_empty());
        push(&mut g, msg::PROCTITLE, 7, "c");
        let got = taken(&mut g);
        assert_eq!(got.len(), 1);
        assert_eq!(
            (got[0].serial, got[0].text.as_str()),
            (
                7,
                "type=1300 msg=audit(1700000000.123:7): a\n\
                 type=1307 msg=audit(1700000000.123:7): b\n\
                 type=1327 msg=audit(1700000000.123:7): c"
            )
        );
        // Its late EOE is not an event; another's EOE completes that one.
        push(&mut g, msg::EOE, 7, "");
        push(&mut g, msg::SYSCALL, 8, "d");
        push(&mut g, msg::EOE, 8, "");
        assert_eq!(serials(&mut g), [8]);
    }

    #[test]
    fn interleaved_events_keep_their_own_records() {
        let mut g = LineGroups::new(2000, "h1".into());
        push(&mut g, msg::SYSCALL, 1, "a");
        push(&mut g, msg::SYSCALL, 2, "b");
        push(&mut g, msg::PATH, 1, "c");
        push(&mut g, msg::EOE, 2, "");
        push(&mut g, msg::EOE, 1, "");
        let got = taken(&mut g);
        assert_eq!(got.iter().map(|e| e.serial).collect::<Vec<_>>(), [2, 1]);
        assert_eq!(got[1].text.lines().count(), 2);
    }

    #[test]
    fn lone_types_at_once_the_rest_by_timeout_flush_or_bound() {
        let mut g = LineGroups::new(2000, "h1".into());
        // A user-space message is alone; an unreadable header is too.
        push(&mut g, 1100, 1, "user");
        g.push(1100, b"garbage", Some(b"type=1100 msg=garbage\xff"));
        let got = taken(&mut g);
        assert_eq!(got.iter().map(|e| e.serial).collect::<Vec<_>>(), [1, 0]);
        // A line that is not UTF-8 goes out with U+FFFD for its bad bytes.
        assert_eq!(got[1].text, "type=1100 msg=garbage\u{fffd}");
        // An AVC with no syscall gets no EOE: it waits until the stream is
        // past the timeout, or a flush.
        push(&mut g, msg::AVC, 2, "avc");
        push_at(&mut g, 1100, 1_700_000_001, 3, "later");
        assert_eq!(serials(&mut g), [3]);
        push_at(&mut g, 1100, 1_700_000_003, 4, "much later");
        assert_eq!(serials(&mut g), [2, 4]);
        push(&mut g, msg::AVC, 5, "avc");
        g.flush();
        assert_eq!(serials(&mut g), [5]);
        for s in 10..10 + MAX_OPEN as u64 + 1 {
            push(&mut g, msg::SYSCALL, s, "x");
        }
        assert_eq!(serials(&mut g), [10]);
    }
}
