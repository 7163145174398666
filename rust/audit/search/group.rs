//! ausearch's grouping of log lines into events: lines that share node, time
//! stamp and serial form one event, events come out oldest first once
//! complete.
//!
//! Behaviour follows audit-userspace 3.0.9 `src/ausearch-lol.c` (written
//! from its description): an event is complete when its first record is of a
//! type that is always alone (or PROCTITLE), or when a new event starts
//! `eoe_timeout` seconds after it; a complete event stops taking records (a
//! late record with the same stamp starts a new event); a lone EOE whose
//! event is gone is dropped; the oldest pending event must be complete before
//! anything is emitted. At the end of input everything pending is emitted.
//! Unlike `records::Reassembler` (which completes on EOE/PROCTITLE and emits
//! in arrival order), this reproduces ausearch/aureport's order and cuts.

use std::collections::{BTreeMap, HashMap, VecDeque};

use crate::audit::records::parse::type_from_name;
use crate::audit::tables::msg;

/// ausearch's default end-of-event timeout (auditd.conf `end_of_event_timeout`).
pub const EOE_TIMEOUT: u64 = 2;

/// Bytes of pending lines past which the oldest pending event is taken as
/// complete. Events complete by time, so input whose time stamps stop
/// advancing (a log replaying the same events, a clock stuck) would otherwise
/// pend without bound; a real log's 2-second window holds far less.
pub const MAX_PENDING_BYTES: usize = 256 << 20;

/// One log line of an event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Line {
    /// The line without its line end.
    pub text: Box<[u8]>,
    pub rtype: u16,
    /// Length of the raw part (up to auditd's ENRICHED separator).
    pub raw_len: u32,
}

impl Line {
    /// The record as the kernel wrote it (no ENRICHED part).
    pub fn raw(&self) -> &[u8] {
        &self.text[..self.raw_len as usize]
    }
    /// The ENRICHED part after the separator, if any.
    pub fn enrichment(&self) -> Option<&[u8]> {
        self.text.get(self.raw_len as usize + 1..)
    }
}

/// The time stamp and node that group lines, as ausearch reads them.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct Stamp {
    pub sec: u64,
    pub milli: u32,
    pub serial: u64,
}

/// One event as ausearch sees it.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Group {
    pub stamp: Stamp,
    pub node: Option<Box<[u8]>>,
    /// Type of the first line (decides completion).
    pub first_type: u16,
    pub lines: Vec<Line>,
    /// One of the lines carried an ENRICHED part (raw output then adds the
    /// separator to every line, as ausearch does).
    pub enriched: bool,
}

/// The header of a log line: node, type, time stamp.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Header<'a> {
    pub node: Option<&'a [u8]>,
    pub rtype: u16,
    pub stamp: Stamp,
}

/// C `strtoul(s, NULL, 10)` on a prefix: leading digits, 0 when none.
pub(crate) fn leading_u64(b: &[u8]) -> u64 {
    let mut v: u64 = 0;
    for &c in b.iter().take_while(|c| c.is_ascii_digit()) {
        v = v.wrapping_mul(10).wrapping_add(u64::from(c - b'0'));
    }
    v
}

/// Read the header the way ausearch's `extract_timestamp` does: `node=` and
/// `type=` tokens, then the `(sec.milli:serial)` of the third token. `None`
/// for a line ausearch skips.
pub fn parse_header(line: &[u8]) -> Option<Header<'_>> {
    let head = &line[..line
        .len()
        .min(if line.first() == Some(&b'n') { 340 } else { 80 })];
    let mut tokens = head.split(|&c| c == b' ').filter(|t| !t.is_empty());
    let mut tok = tokens.next()?;
    let mut node = None;
    if tok.first() == Some(&b'n') {
        node = Some(tok.get(5..).unwrap_or_default());
        tok = tokens.next()?;
    }
    let type_name = tok.get(5..)?;
    let msg_tok = tokens.next()?;
    if msg_tok.len() <= 18 {
        return None;
    }
    let open = msg_tok.iter().position(|&c| c == b'(')?;
    let stamp = &msg_tok[open + 1..];
    let stamp = &stamp[..stamp.iter().position(|&c| c == b')').unwrap_or(stamp.len())];
    let sec = leading_u64(stamp);
    let (milli, rest) = match stamp.iter().position(|&c| c == b'.') {
        Some(d) => (leading_u64(&stamp[d + 1..]), &stamp[d + 1..]),
        None => (0, stamp),
    };
    if milli > 999 {
        return None;
    }
    let serial = match rest.iter().position(|&c| c == b':') {
        Some(c) => leading_u64(&rest[c + 1..]),
        None => 0,
    };
    // ausearch keeps lines whose type name libaudit does not know as type 0.
    let rtype = type_from_name(type_name).unwrap_or(0);
    Some(Header {
        node,
        rtype,
        stamp: Stamp {
            sec,
            milli: milli as u32,
            serial,
        },
    })
}

/// Types whose first record makes an event complete at once (ausearch-lol.c
/// `check_events`).
fn completes_alone(t: u16) -> bool {
    t == msg::PROCTITLE
        || !(msg::FIRST_EVENT..msg::FIRST_ANOM_MSG).contains(&t)
        || t == msg::KERNEL
        || (msg::MAC_UNLBL_ALLOW..=msg::MAC_CALIPSO_DEL).contains(&t)
}

type Key = (Stamp, u64);

/// Hashes a time stamp cheaply: its serial is already nearly unique, and
/// the grouper looks one up for every line (SipHash showed in profiles).
#[derive(Debug, Default, Clone, Copy)]
struct StampHasher(u64);

impl std::hash::Hasher for StampHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.write_u64(u64::from(b));
        }
    }
    fn write_u64(&mut self, n: u64) {
        self.0 = (self.0.rotate_left(5) ^ n).wrapping_mul(0x51_7c_c1_b7_27_22_0a_95);
    }
    fn write_u32(&mut self, n: u32) {
        self.write_u64(u64::from(n));
    }
}

type StampMap<V> = HashMap<Stamp, V, std::hash::BuildHasherDefault<StampHasher>>;
/// An event still taking records: its node and pending key.
type Building = (Option<Box<[u8]>>, Key);

/// Groups lines into events as ausearch does; see the module documentation.
#[derive(Debug)]
pub struct Grouper {
    /// Pending events by (stamp, arrival number): the first is the oldest.
    pending: BTreeMap<Key, (Group, bool)>,
    /// stamp -> (node, key) of the events still taking records (looked up
    /// by stamp, then node, so a line's node needs no copy).
    building: StampMap<Vec<Building>>,
    /// Building events not yet complete, in stamp order, for the timeout check.
    arrivals: u64,
    eoe_timeout: u64,
    /// Time range: lines outside are skipped (`-ts`/`-te`).
    pub start: Option<u64>,
    pub end: Option<u64>,
    ready: VecDeque<Group>,
    /// Bytes of the lines in `pending`, held under `max_pending_bytes`.
    pending_bytes: usize,
    max_pending_bytes: usize,
}

/// Forget that `g` takes records: a later line with its stamp starts anew.
fn stop_building(building: &mut StampMap<Vec<Building>>, g: &Group) {
    if let Some(v) = building.get_mut(&g.stamp) {
        v.retain(|(n, _)| *n != g.node);
        if v.is_empty() {
            building.remove(&g.stamp);
        }
    }
}

impl Grouper {
    pub fn new(eoe_timeout: u64) -> Grouper {
        Grouper {
            pending: BTreeMap::new(),
            building: StampMap::default(),
            arrivals: 0,
            eoe_timeout,
            start: None,
            end: None,
            ready: VecDeque::new(),
            pending_bytes: 0,
            max_pending_bytes: MAX_PENDING_BYTES,
        }
    }

    /// The same, with another bound on pending bytes (see [`MAX_PENDING_BYTES`]).
    pub fn with_max_pending_bytes(eoe_timeout: u64, max: usize) -> Grouper {
        Grouper {
            max_pending_bytes: max,
            ..Grouper::new(eoe_timeout)
        }
    }

    /// Events pending (bounded by the time window of the input).
    pub fn pending(&self) -> usize {
        self.pending.len()
    }

    /// Add one line (without its line end).
    pub fn push(&mut self, line: &[u8]) {
        let Some(h) = parse_header(line) else {
            return;
        };
        if self.start.is_some_and(|s| h.stamp.sec < s) || self.end.is_some_and(|e| h.stamp.sec > e)
        {
            return;
        }
        let raw_len = line
            .iter()
            .position(|&c| c == crate::audit::records::parse::ENRICHMENT_SEPARATOR)
            .unwrap_or(line.len());
        let rec = Line {
            text: line.into(),
            rtype: h.rtype,
            raw_len: raw_len as u32,
        };
        let enriched = raw_len < line.len();
        let building = self.building.get(&h.stamp).and_then(|v| {
            v.iter()
                .find(|(n, _)| n.as_deref() == h.node)
                .map(|(_, k)| k)
        });
        if let Some(key) = building {
            if let Some((g, _)) = self.pending.get_mut(key) {
                g.lines.push(rec);
                g.enriched |= enriched;
                self.pending_bytes += line.len();
                self.shed();
                return;
            }
        }
        if h.rtype == msg::EOE {
            return;
        }
        let node = h.node.map(Box::<[u8]>::from);
        let key = (h.stamp.clone(), self.arrivals);
        self.arrivals += 1;
        let complete = completes_alone(h.rtype);
        let group = Group {
            stamp: h.stamp.clone(),
            node: node.clone(),
            first_type: h.rtype,
            lines: vec![rec],
            enriched,
        };
        if !complete {
            self.building
                .entry(h.stamp.clone())
                .or_default()
                .push((node, key.clone()));
        }
        self.pending.insert(key, (group, complete));
        self.pending_bytes += line.len();
        self.expire(h.stamp.sec);
        self.release();
        self.shed();
    }

    /// Complete the oldest pending events while their lines take more than
    /// `max_pending_bytes`.
    fn shed(&mut self) {
        while self.pending_bytes > self.max_pending_bytes {
            let Some(mut oldest) = self.pending.first_entry() else {
                break;
            };
            let (g, done) = oldest.get_mut();
            if !*done {
                *done = true;
                stop_building(&mut self.building, g);
            }
            self.release();
        }
    }

    /// Mark events `eoe_timeout` seconds older than `now` complete.
    fn expire(&mut self, now: u64) {
        for ((stamp, _), (g, done)) in self.pending.iter_mut() {
            if stamp.sec.saturating_add(self.eoe_timeout) > now {
                break;
            }
            if !*done {
                *done = true;
                stop_building(&mut self.building, g);
            }
        }
    }

    /// Move complete events at the front to the ready queue.
    fn release(&mut self) {
        while let Some(entry) = self.pending.first_entry() {
            if !entry.get().1 {
                break;
            }
            let (g, _) = entry.remove();
            self.pending_bytes -= g.lines.iter().map(|l| l.text.len()).sum::<usize>();
            self.ready.push_back(g);
        }
    }

    /// End of input: everything pending becomes ready.
    pub fn finish(&mut self) {
        self.building.clear();
        self.pending_bytes = 0;
        for (_, (g, _)) in std::mem::take(&mut self.pending) {
            self.ready.push_back(g);
        }
    }

    /// The next event ready to be looked at.
    pub fn pop(&mut self) -> Option<Group> {
        self.ready.pop_front()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lines(g: &Group) -> Vec<&[u8]> {
        g.lines.iter().map(|l| &*l.text).collect()
    }

    #[test]
    fn header_with_node_and_unknown_type() {
        let h =
            parse_header(b"node=h1 type=UNKNOWN[1334] msg=audit(1700000000.123:42): x=1").unwrap();
        assert_eq!(h.node, Some(&b"h1"[..]));
        assert_eq!(h.rtype, 1334);
        assert_eq!(
            h.stamp,
            Stamp {
                sec: 1700000000,
                milli: 123,
                serial: 42
            }
        );
        assert!(parse_header(b"garbage").is_none());
        assert!(parse_header(b"type=SYSCALL msg=audit(1.2:3)").is_none());
    }

    #[test]
    fn pending_bytes_stay_bounded_when_time_stops() {
        // The same two events replayed: their stamps never move on, so only
        // the byte bound completes them.
        let mut g = Grouper::with_max_pending_bytes(2, 4096);
        let mut out = 0;
        for _ in 0..10_000 {
            g.push(b"type=SYSCALL msg=audit(100.000:2): a=1");
            g.push(b"type=PATH msg=audit(100.000:2): item=0");
            g.push(b"type=SYSCALL msg=audit(100.000:3): a=2");
            while g.pop().is_some() {
                out += 1;
            }
            assert!(g.pending_bytes <= 4096, "{}", g.pending_bytes);
        }
        g.finish();
        while let Some(e) = g.pop() {
            assert!(e.lines.len() * 40 <= 4096 + 40);
            out += 1;
        }
        assert!(out > 10, "{out}");
        // A log that moves on never reaches the bound: the default is kept.
        assert_eq!(Grouper::new(2).max_pending_bytes, MAX_PENDING_BYTES);
    }

    #[test]
    fn groups_in_time_order_and_times_out() {
        let mut g = Grouper::new(2);
        g.push(b"type=SYSCALL msg=audit(100.000:2): a=1");
        g.push(b"type=USER_LOGIN msg=audit(99.000:1): b=1");
        g.push(b"type=PATH msg=audit(100.000:2): c=1");
        // the SYSCALL event is older than nothing complete yet: the user
        // message is older, so it goes out first... but only once it is first.
        assert_eq!(g.pop().unwrap().stamp.serial, 1);
        assert!(g.pop().is_none());
        g.push(b"type=LOGIN msg=audit(103.000:3): d=1");
        let e = g.pop().unwrap();
        assert_eq!(lines(&e).len(), 2);
        g.finish();
        assert_eq!(g.pop().unwrap().stamp.serial, 3);
    }

    #[test]
    fn late_records_and_lone_eoe() {
        let mut g = Grouper::new(2);
        g.push(b"type=PROCTITLE msg=audit(100.000:2): p=1");
        g.push(b"type=EOE msg=audit(100.000:7):");
        g.push(b"type=PATH msg=audit(100.000:2): late=1");
        g.finish();
        let a = g.pop().unwrap();
        let b = g.pop().unwrap();
        assert_eq!((a.lines.len(), b.lines.len()), (1, 1));
        assert!(g.pop().is_none());
    }
}
