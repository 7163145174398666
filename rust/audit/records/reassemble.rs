//! Grouping records into events.
//!
//! Records of one event share `(node, timestamp, serial)`. An event completes
//! on its EOE record, on its PROCTITLE record (the kernel writes it last, just
//! before the EOE, and auditd does not log EOEs; auparse does the same), at
//! once for types that are always alone (auparse's list, `auparse.c`
//! `au_check_events`), or — incomplete — when it is older than the timeout in
//! its node's stream time, when too many events are in flight, or on `flush()`.
//! The kernel drops records under load, so missing EOEs and gaps are normal;
//! lost serials are counted modulo 2^32.
//!
//! Stream time is kept per node: the time stamp of that node's latest record
//! in input order (not the newest ever seen), plus how long the input has been
//! idle. So a node whose clock is 10 s behind another's, a second log read
//! after a first, or a record the kernel delivers late (a syscall stamped when
//! it began) does not cut the events around it; auparse (`au_check_events`)
//! times events out against the record being added in the same way.
//!
//! A LOGIN record is written inside the syscall that changes the login uid and
//! shares its serial: by default it joins that syscall's event (as
//! audit-userspace 4.x and laurel do). [`Reassembler::set_split_login`] brings
//! back auparse 3.0.9's grouping, where LOGIN is an event of its own.

use crate::audit::tables::msg;
use std::collections::VecDeque;
use std::time::Instant;

use super::parse::{Record, Timestamp};

/// One audit event: the records that share a time stamp and serial.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Event {
    pub records: Vec<Record>,
    pub timestamp: Timestamp,
    pub serial: u64,
    /// EOE or PROCTITLE seen, or a type that is always a one-record event.
    pub complete: bool,
}

impl Event {
    pub fn node(&self) -> Option<&[u8]> {
        self.records.first().and_then(Record::node)
    }
}

/// Types that are events of their own (no EOE follows), after auparse 3.0.9
/// `au_check_events`: control and user-space messages (< 1300), user-space
/// ranges >= 2100, AUDIT_KERNEL, the NetLabel config records.
pub fn is_single_record_type(t: u16) -> bool {
    is_single(t, true)
}

fn is_single(t: u16, split_login: bool) -> bool {
    if t == msg::LOGIN {
        return split_login;
    }
    !(msg::FIRST_EVENT..msg::FIRST_ANOM_MSG).contains(&t)
        || t == msg::KERNEL
        || (msg::MAC_UNLBL_ALLOW..=msg::MAC_CALIPSO_DEL).contains(&t)
}

/// Most records one event may collect before it is cut (memory bound; a huge
/// execve makes a few hundred EXECVE records at most).
pub const MAX_RECORDS_PER_EVENT: usize = 16_384;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Key {
    node: u64,
    timestamp: Timestamp,
    serial: u64,
}

fn node_hash(node: Option<&[u8]>) -> u64 {
    // FNV-1a: only needs to separate node names within one stream.
    match node {
        None => 0,
        Some(n) => {
            n.iter().fold(0xcbf2_9ce4_8422_2325u64, |h, &c| {
                (h ^ u64::from(c)).wrapping_mul(0x0000_0100_0000_01b3)
            }) | 1
        }
    }
}

#[derive(Debug)]
struct Pending {
    key: Key,
    event: Event,
}

/// Counts serials that never showed up, per node, modulo 2^32. Recent missing
/// serials are remembered so a late arrival is taken off the count again.
#[derive(Debug, Default)]
struct LossTracker {
    last: Vec<(u64, u32)>,
    missing: std::collections::HashSet<(u64, u32)>,
    lost: u64,
}

/// Gaps up to this size are remembered serial by serial (late arrivals then
/// reduce the count); larger gaps are only counted.
const REMEMBERED_GAP: u32 = 1024;
const MAX_REMEMBERED: usize = 65_536;

impl LossTracker {
    fn see(&mut self, node: u64, serial: u64) {
        let s = serial as u32;
        let Some(slot) = self.last.iter_mut().find(|(n, _)| *n == node) else {
            if self.last.len() < 1024 {
                self.last.push((node, s));
            }
            return;
        };
        let delta = s.wrapping_sub(slot.1);
        if delta == 0 {
            return;
        }
        if delta < 0x8000_0000 {
            // Forward (across 2^32 too): everything in between is missing.
            let gap = delta - 1;
            self.lost += u64::from(gap);
            if gap <= REMEMBERED_GAP {
                if self.missing.len() + gap as usize > MAX_REMEMBERED {
                    self.missing.clear();
                }
                for k in 1..delta {
                    self.missing.insert((node, slot.1.wrapping_add(k)));
                }
            }
            slot.1 = s;
        } else if self.missing.remove(&(node, s)) {
            // A late serial we had counted as lost.
            self.lost -= 1;
        } else if delta < 0xffff_0000 {
            // Far behind: a restart (auditd or kernel) began a new sequence.
            slot.1 = s;
        }
    }
}

/// Nodes whose stream time is kept apart; more share the last slot (their
/// events then time out against each other's records, as in auparse).
const MAX_NODES: usize = 1024;

/// One node's stream time: the time stamp of its latest record, in ms.
#[derive(Debug, Clone, Copy)]
struct Clock {
    node: u64,
    ms: u64,
}

/// Groups records into events. Not thread-safe by itself (the Python class
/// wraps it in a lock).
#[derive(Debug)]
pub struct Reassembler {
    pending: VecDeque<Pending>,
    /// Keys of recently completed events, so a late EOE is not a new event.
    done: VecDeque<Key>,
    max_in_flight: usize,
    timeout_ms: u64,
    clocks: Vec<Clock>,
    /// How long the input has been idle (added to every node's stream time).
    idle_ms: u64,
    /// When the last record arrived (for [`Reassembler::expire_idle_now`]).
    last_arrival: Instant,
    split_login: bool,
    loss: LossTracker,
}

fn stamp_ms(ts: Timestamp) -> u64 {
    ts.sec
        .saturating_mul(1000)
        .saturating_add(u64::from(ts.msec))
}

impl Reassembler {
    pub fn new(max_in_flight: usize, timeout_ms: u64) -> Reassembler {
        Reassembler {
            pending: VecDeque::new(),
            done: VecDeque::with_capacity(64),
            max_in_flight: max_in_flight.max(1),
            timeout_ms,
            clocks: Vec::new(),
            idle_ms: 0,
            last_arrival: Instant::now(),
            split_login: false,
            loss: LossTracker::default(),
        }
    }

    /// True: a LOGIN record is an event of its own (auparse 3.0.9's grouping);
    /// false (the default): it joins the syscall event it was written in.
    pub fn set_split_login(&mut self, split: bool) {
        self.split_login = split;
    }

    pub fn split_login(&self) -> bool {
        self.split_login
    }

    /// The stream-time slot of a node (made on first sight).
    fn clock_index(&mut self, node: u64) -> usize {
        if let Some(i) = self.clocks.iter().position(|c| c.node == node) {
            return i;
        }
        if self.clocks.len() < MAX_NODES {
            self.clocks.push(Clock { node, ms: 0 });
        }
        self.clocks.len() - 1
    }

    /// The stream time of a node: its latest record's time stamp plus the idle time.
    fn now_of(&self, node: u64) -> u64 {
        let c = self.clocks.iter().find(|c| c.node == node);
        let c = c.or(self.clocks.last()).map_or(0, |c| c.ms);
        c.saturating_add(self.idle_ms)
    }

    /// Serials that never arrived (gaps in the sequence, modulo 2^32).
    pub fn lost(&self) -> u64 {
        self.loss.lost
    }

    /// The newest stream time of any node, in milliseconds.
    pub fn newest_ms(&self) -> u64 {
        self.clocks
            .iter()
            .map(|c| c.ms)
            .max()
            .unwrap_or(0)
            .saturating_add(self.idle_ms)
    }

    pub fn in_flight(&self) -> usize {
        self.pending.len()
    }

    fn remember_done(&mut self, key: Key) {
        if self.done.len() >= 64 {
            self.done.pop_front();
        }
        self.done.push_back(key);
    }

    /// Add one record; completed events are appended to `out` in stream order.
    pub fn push(&mut self, rec: Record, out: &mut Vec<Event>) {
        let ts = rec.timestamp;
        let key = Key {
            node: node_hash(rec.node()),
            timestamp: ts,
            serial: rec.serial,
        };
        let t = rec.msg_type;
        // Records that could not even be parsed have no key: each is an event.
        if rec.error().is_some() && ts == Timestamp::default() && rec.serial == 0 {
            out.push(Event {
                records: vec![rec],
                timestamp: ts,
                serial: 0,
                complete: false,
            });
            return;
        }
        self.idle_ms = 0;
        let slot = self.clock_index(key.node);
        if let Some(c) = self.clocks.get_mut(slot) {
            c.ms = stamp_ms(ts);
        }
        // Newest events sit at the back: search from there.
        let found = self.pending.iter().rposition(|p| p.key == key);
        match found {
            Some(i) => {
                if t == msg::EOE || t == msg::PROCTITLE {
                    let eoe = t == msg::EOE;
                    if let Some(mut p) = self.pending.remove(i) {
                        if !eoe {
                            p.event.records.push(rec);
                        }
                        p.event.complete = true;
                        self.remember_done(p.key);
                        out.push(p.event);
                    }
                } else if let Some(p) = self.pending.get_mut(i) {
                    p.event.records.push(rec);
                    if p.event.records.len() >= MAX_RECORDS_PER_EVENT {
                        if let Some(p) = self.pending.remove(i) {
                            out.push(p.event);
                        }
                    }
                }
            }
            None => {
                if t == msg::EOE && self.done.contains(&key) {
                    return;
                }
                self.loss.see(key.node, key.serial);
                if t == msg::EOE {
                    // An EOE whose records we never saw: an empty, complete event
                    // would say nothing; keep it as a one-record event so the
                    // serial stays visible.
                    out.push(Event {
                        records: vec![rec],
                        timestamp: ts,
                        serial: key.serial,
                        complete: true,
                    });
                    return;
                }
                let single = is_single(t, self.split_login) || t == msg::PROCTITLE;
                let event = Event {
                    records: vec![rec],
                    timestamp: ts,
                    serial: key.serial,
                    complete: single,
                };
                if single {
                    self.remember_done(key);
                    self.expire_node(key.node, out);
                    out.push(event);
                    return;
                }
                self.pending.push_back(Pending { key, event });
                while self.pending.len() > self.max_in_flight {
                    if let Some(p) = self.pending.pop_front() {
                        out.push(p.event);
                    }
                }
            }
        }
        self.expire_node(key.node, out);
    }

    /// Note that records arrived just now (the live path calls this once per
    /// batch it receives; [`Reassembler::expire_idle_now`] measures from it).
    pub fn arrived(&mut self) {
        self.last_arrival = Instant::now();
    }

    /// Nothing has arrived since [`Reassembler::arrived`]: let stream time run
    /// on by the time since, and emit (incomplete) the events now past the
    /// timeout. Stream time runs on rather than following the wall clock:
    /// records delayed in the kernel's backlog carry old time stamps and must
    /// not expire on arrival.
    pub fn expire_idle_now(&mut self, out: &mut Vec<Event>) {
        let idle = u64::try_from(self.last_arrival.elapsed().as_millis()).unwrap_or(u64::MAX);
        self.expire_idle(idle, out);
    }

    /// One batch received from the kernel (netlink payloads, parsed
    /// leniently); an empty batch means the stream was idle, so the events
    /// past the timeout are emitted.
    pub fn push_batch(&mut self, batch: &crate::audit::client::Batch, out: &mut Vec<Event>) {
        if batch.is_empty() {
            return self.expire_idle_now(out);
        }
        self.arrived();
        for i in 0..batch.len() {
            if let Some((t, data)) = batch.get(i) {
                self.push(super::parse_payload_lenient(t, data), out);
            }
        }
    }

    /// The input has been idle for `idle_ms` since its last record: every
    /// node's stream time runs on by that much (not cumulative: a second call
    /// with a longer idle time replaces the first), and the events now past
    /// the timeout are emitted (incomplete).
    pub fn expire_idle(&mut self, idle_ms: u64, out: &mut Vec<Event>) {
        self.idle_ms = idle_ms;
        self.expire_all(out);
    }

    /// Emit (incomplete) every event older than the timeout relative to
    /// `now_ms` (a wall-clock time: every node's stream time moves up to it).
    pub fn expire_at(&mut self, now_ms: u64, out: &mut Vec<Event>) {
        for c in &mut self.clocks {
            c.ms = c.ms.max(now_ms);
        }
        self.expire_all(out);
    }

    fn expired(&self, event_ms: u64, now: u64) -> bool {
        let limit = now.saturating_sub(self.timeout_ms);
        event_ms < limit || (self.timeout_ms == 0 && event_ms <= limit)
    }

    /// Time out the events of one node (the one whose record just came).
    fn expire_node(&mut self, node: u64, out: &mut Vec<Event>) {
        if self.pending.is_empty() {
            return;
        }
        let now = self.now_of(node);
        let shared = self.clocks.len() >= MAX_NODES;
        let mut i = 0;
        while i < self.pending.len() {
            let p = &self.pending[i];
            if (p.key.node == node || shared) && self.expired(stamp_ms(p.key.timestamp), now) {
                if let Some(p) = self.pending.remove(i) {
                    out.push(p.event);
                }
            } else {
                i += 1;
            }
        }
    }

    /// Time out the events of every node, each against its own stream time.
    fn expire_all(&mut self, out: &mut Vec<Event>) {
        let mut i = 0;
        while i < self.pending.len() {
            let p = &self.pending[i];
            if self.expired(stamp_ms(p.key.timestamp), self.now_of(p.key.node)) {
                if let Some(p) = self.pending.remove(i) {
                    out.push(p.event);
                }
            } else {
                i += 1;
            }
        }
    }

    /// Emit everything still in flight (incomplete), oldest first.
    pub fn flush(&mut self, out: &mut Vec<Event>) {
        let mut rest: Vec<Pending> = self.pending.drain(..).collect();
        rest.sort_by_key(|p| (p.key.timestamp, p.key.serial));
        out.extend(rest.into_iter().map(|p| p.event));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::audit::records::parse::parse_payload;

    fn rec(t: u16, sec: u64, serial: u64) -> Record {
        parse_payload(t, format!("audit({sec}.000:{serial}): x=1").as_bytes()).unwrap()
    }

    #[test]
    fn eoe_or_proctitle_completes_and_a_late_eoe_is_eaten() {
        // A live stream ends an event with EOE; auditd's log has no EOE, and
        // PROCTITLE, the last record of a syscall event, ends it there.
        for (second, end) in [(msg::PATH, Some(msg::EOE)), (msg::PROCTITLE, None)] {
            let mut r = Reassembler::new(100, 2000);
            let mut out = Vec::new();
            r.push(rec(msg::SYSCALL, 10, 1), &mut out);
            r.push(rec(second, 10, 1), &mut out);
            if let Some(end) = end {
                assert!(out.is_empty());
                r.push(rec(end, 10, 1), &mut out);
            }
            assert_eq!(out.len(), 1);
            assert!(out[0].complete);
            assert_eq!(out[0].records.len(), 2);
            // An EOE behind the end is not a new event.
            r.push(rec(msg::EOE, 10, 1), &mut out);
            assert_eq!(out.len(), 1);
        }
    }

    #[test]
    fn interleaved_events() {
        let mut r = Reassembler::new(100, 2000);
        let mut out = Vec::new();
        r.push(rec(msg::SYSCALL, 10, 1), &mut out);
        r.push(rec(msg::SYSCALL, 10, 2), &mut out);
        r.push(rec(msg::PATH, 10, 1), &mut out);
        r.push(rec(msg::EOE, 10, 2), &mut out);
        r.push(rec(msg::EOE, 10, 1), &mut out);
        assert_eq!(out.iter().map(|e| e.serial).collect::<Vec<_>>(), vec![2, 1]);
        assert_eq!(out[1].records.len(), 2);
        assert_eq!(r.lost(), 0);
    }

    #[test]
    fn missing_eoe_times_out_in_stream_time() {
        let mut r = Reassembler::new(100, 2000);
        let mut out = Vec::new();
        r.push(rec(msg::SYSCALL, 10, 1), &mut out);
        r.push(rec(msg::SYSCALL, 11, 2), &mut out);
        assert!(out.is_empty());
        r.push(rec(msg::SYSCALL, 13, 3), &mut out);
        assert_eq!(out.len(), 1);
        assert!(!out[0].complete);
        assert_eq!(out[0].serial, 1);
        r.flush(&mut out);
        assert_eq!(
            out.iter().map(|e| e.serial).collect::<Vec<_>>(),
            vec![1, 2, 3]
        );
    }

    #[test]
    fn single_record_types_complete_at_once() {
        let mut r = Reassembler::new(100, 2000);
        let mut out = Vec::new();
        r.push(rec(1105, 10, 7), &mut out);
        assert_eq!(out.len(), 1);
        assert!(out[0].complete);
    }

    #[test]
    fn bounded_in_flight() {
        let mut r = Reassembler::new(3, 2000);
        let mut out = Vec::new();
        for s in 1..=5 {
            r.push(rec(msg::SYSCALL, 10, s), &mut out);
        }
        assert_eq!(r.in_flight(), 3);
        assert_eq!(out.iter().map(|e| e.serial).collect::<Vec<_>>(), vec![1, 2]);
    }

    #[test]
    fn lost_counts_gaps_across_wrap() {
        let mut r = Reassembler::new(100, 2000);
        let mut out = Vec::new();
        r.push(rec(1105, 10, 4_294_967_294), &mut out);
        r.push(rec(1105, 10, 4_294_967_295), &mut out);
        r.push(rec(1105, 10, 0), &mut out);
        r.push(rec(1105, 10, 2), &mut out);
        assert_eq!(r.lost(), 1);
        // The late one arrives: not lost after all.
        r.push(rec(1105, 10, 1), &mut out);
        assert_eq!(r.lost(), 0);
        // A duplicate late serial is not counted twice.
        r.push(rec(1105, 10, 1), &mut out);
        assert_eq!(r.lost(), 0);
        // A restart (serial far back) is not a loss; the sequence goes on from there.
        r.push(rec(1105, 10, 3_000_000_000), &mut out);
        r.push(rec(1105, 10, 3_000_000_001), &mut out);
        assert_eq!(r.lost(), 0);
    }
}

#[cfg(test)]
mod stream_time_tests {
    use super::*;
    use crate::audit::records::parse::parse_log_line;

    fn group(log: &str, split_login: bool) -> Vec<Vec<(u16, u64)>> {
        let mut r = Reassembler::new(1024, 2000);
        r.set_split_login(split_login);
        let mut out = Vec::new();
        for line in log.lines().filter(|l| !l.is_empty()) {
            r.push(parse_log_line(line.as_bytes()).unwrap(), &mut out);
        }
        r.flush(&mut out);
        out.iter()
            .map(|e| e.records.iter().map(|r| (r.msg_type, r.serial)).collect())
            .collect()
    }

    #[test]
    fn nodes_with_clocks_10_s_apart_keep_their_events_whole() {
        let log = "\
node=a type=SYSCALL msg=audit(100.100:10): x=1
node=a type=PATH msg=audit(100.100:10): x=1
node=a type=PROCTITLE msg=audit(100.100:10): proctitle=6C73
node=b type=SYSCALL msg=audit(110.100:20): x=1
node=b type=PROCTITLE msg=audit(110.100:20): proctitle=6C73
node=a type=SYSCALL msg=audit(100.200:11): x=1
node=a type=PATH msg=audit(100.200:11): x=1
node=a type=PROCTITLE msg=audit(100.200:11): proctitle=6C73
";
        let g = group(log, false);
        assert_eq!(g.len(), 3, "{g:?}");
        assert!(g.iter().all(|e| e.len() >= 2));
    }

    #[test]
    fn a_second_log_earlier_than_the_first_is_grouped() {
        let first = "type=SYSCALL msg=audit(500.000:7): x=1\ntype=PROCTITLE msg=audit(500.000:7): proctitle=6C73\n";
        let second = "type=SYSCALL msg=audit(100.000:1): x=1\ntype=CWD msg=audit(100.000:1): x=1\ntype=PROCTITLE msg=audit(100.000:1): proctitle=6C73\n";
        let g = group(&format!("{first}{second}"), false);
        assert_eq!(g.iter().map(Vec::len).collect::<Vec<_>>(), vec![2, 3]);
    }

    #[test]
    fn a_late_record_does_not_cut_events_around_it() {
        let log = "\
type=SYSCALL msg=audit(100.000:1): x=1
type=PATH msg=audit(100.000:1): x=1
type=SYSCALL msg=audit(90.000:2): x=1
type=SOCKADDR msg=audit(90.000:2): x=1
type=PROCTITLE msg=audit(90.000:2): proctitle=6C73
type=PROCTITLE msg=audit(100.000:1): proctitle=6C73
";
        let g = group(log, false);
        assert_eq!(g.iter().map(Vec::len).collect::<Vec<_>>(), vec![3, 3]);
    }

    #[test]
    fn login_joins_its_syscall_unless_split() {
        let log = "\
type=LOGIN msg=audit(100.000:5): pid=1 uid=0 old-auid=4294967295 auid=0
type=SYSCALL msg=audit(100.000:5): x=1
type=PROCTITLE msg=audit(100.000:5): proctitle=6C73
";
        assert_eq!(group(log, false).len(), 1);
        let split = group(log, true);
        assert_eq!(split.len(), 2);
        assert_eq!(split[0], vec![(msg::LOGIN, 5)]);
    }

    #[test]
    fn idle_time_is_not_added_up() {
        let mut r = Reassembler::new(16, 2000);
        let mut out = Vec::new();
        r.push(
            parse_log_line(b"type=SYSCALL msg=audit(100.000:1): x=1").unwrap(),
            &mut out,
        );
        for idle in [500, 1000, 1500, 1900] {
            r.expire_idle(idle, &mut out);
        }
        assert!(out.is_empty());
        r.expire_idle(2100, &mut out);
        assert_eq!(out.len(), 1);
    }
}
