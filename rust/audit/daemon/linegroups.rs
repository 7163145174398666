//! Events for sinks that take only log lines, grouped by the writer as the lines are written.
//!
//! When every sink sends records as the log has them (the remote sink, the
//! syslog sink in text format) and nothing else reads the records' fields
//! (no JSON file, no enrichment, no Python queue), the writer does not
//! reassemble events. It puts each record's log line straight into the text
//! of the event being grouped: consecutive records with the same
//! `(time stamp, serial)` form one event. An event with a SYSCALL record
//! stays open until its EOE (which the kernel sends last, after every
//! record of the event; it is not logged), also across the reader's batches;
//! any other event closes at the next record of another event or at the end
//! of the batch. Records of one event interleaved with another's (possible,
//! rare) are then sent as two events with the same id, which a receiver
//! that drops duplicates by id must not do: each holds other records.
//!
//! The cost per record is a header parse (no copy) and one copy of its line.

use crate::audit::records::payload_id;
use crate::audit::sinks::ForwardEvent;
use crate::audit::tables::msg;

/// The event being grouped.
#[derive(Debug)]
struct Open {
    id: (u64, u32, u64),
    text: Vec<u8>,
    /// It has a SYSCALL record: it ends with its EOE.
    awaits_eoe: bool,
}

/// Groups records into [`ForwardEvent`]s (with no `node`: the fan-out sets it).
#[derive(Debug, Default)]
pub struct LineGroups {
    open: Option<Open>,
    done: Vec<ForwardEvent>,
}

impl LineGroups {
    /// One record in log order: its payload (for the id) and its log line
    /// without the line end (`None` for a record that is not logged: EOE).
    pub fn push(&mut self, msg_type: u16, payload: &[u8], line: Option<&[u8]>) {
        let id = payload_id(payload).map_or((0, 0, 0), |(t, serial)| (t.sec, t.msec, serial));
        if self.open.as_ref().is_some_and(|o| o.id != id) {
            self.close();
        }
        if msg_type == msg::EOE {
            // The event it ends (if open) is complete; a stray EOE is dropped.
            if self.open.is_some() {
                self.close();
            }
            return;
        }
        let Some(line) = line else {
            return;
        };
        let open = self.open.get_or_insert_with(|| Open {
            id,
            text: Vec::with_capacity(1024),
            awaits_eoe: false,
        });
        if !open.text.is_empty() {
            open.text.push(b'\n');
        }
        open.text.extend_from_slice(line);
        open.awaits_eoe |= msg_type == msg::SYSCALL;
    }

    /// The reader's batch ended: an event that waits for its EOE stays open,
    /// any other is complete.
    pub fn end_batch(&mut self) {
        if self.open.as_ref().is_some_and(|o| !o.awaits_eoe) {
            self.close();
        }
    }

    /// Close whatever is open (no more records for a while, or the end).
    pub fn flush(&mut self) {
        if self.open.is_some() {
            self.close();
        }
    }

    /// The completed events, in order.
    pub fn take(&mut self) -> Vec<ForwardEvent> {
        std::mem::take(&mut self.done)
    }

    fn close(&mut self) {
        let Some(o) = self.open.take() else {
            return;
        };
        if o.text.is_empty() {
            return;
        }
        // Valid UTF-8 (the usual case) is taken as is, without a copy.
        let text = String::from_utf8(o.text)
            .unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned());
        self.done.push(ForwardEvent {
            node: String::new(),
            sec: o.id.0,
            msec: o.id.1,
            serial: o.id.2,
            text,
            json: None,
            fields: None,
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn push(g: &mut LineGroups, t: u16, serial: u64, body: &str) {
        let payload = format!("audit(1700000000.123:{serial}): {body}");
        let line = format!("type={t} msg={payload}");
        let logged = (t != msg::EOE).then_some(line.as_bytes());
        g.push(t, payload.as_bytes(), logged);
    }

    fn texts(g: &mut LineGroups) -> Vec<(u64, String)> {
        g.take().into_iter().map(|e| (e.serial, e.text)).collect()
    }

    #[test]
    fn a_syscall_event_spans_batches_until_its_eoe() {
        let mut g = LineGroups::default();
        push(&mut g, msg::SYSCALL, 7, "a");
        g.end_batch();
        assert!(g.take().is_empty());
        push(&mut g, msg::PROCTITLE, 7, "b");
        push(&mut g, msg::EOE, 7, "");
        let got = texts(&mut g);
        assert_eq!(got.len(), 1);
        assert_eq!(got[0].0, 7);
        assert_eq!(
            got[0].1,
            "type=1300 msg=audit(1700000000.123:7): a\ntype=1327 msg=audit(1700000000.123:7): b"
        );
    }

    #[test]
    fn other_events_close_at_the_next_id_or_the_batch_end() {
        let mut g = LineGroups::default();
        push(&mut g, 1100, 1, "user");
        push(&mut g, 1305, 2, "config");
        assert_eq!(texts(&mut g).len(), 1);
        g.end_batch();
        let got = texts(&mut g);
        assert_eq!(
            got,
            vec![(2, "type=1305 msg=audit(1700000000.123:2): config".into())]
        );
        // An unreadable header is an event of its own (id 0), and a stray EOE
        // adds nothing.
        g.push(1100, b"garbage", Some(b"type=1100 msg=garbage"));
        g.push(msg::EOE, b"audit(1.000:9): ", None);
        g.flush();
        assert_eq!(texts(&mut g), vec![(0, "type=1100 msg=garbage".into())]);
    }

    #[test]
    fn interleaved_events_come_out_in_pieces_with_their_ids() {
        let mut g = LineGroups::default();
        push(&mut g, msg::SYSCALL, 1, "a");
        push(&mut g, msg::SYSCALL, 2, "b");
        push(&mut g, msg::PROCTITLE, 1, "c");
        g.flush();
        let ids: Vec<u64> = g.take().iter().map(|e| e.serial).collect();
        assert_eq!(ids, [1, 2, 1]);
    }
}
