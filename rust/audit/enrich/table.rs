//! The process table: every process the enricher knows, keyed by an internal id;
//! a pid maps to the process now holding it, so a reused pid starts a new entry
//! (told apart by start time, clone records, or a changed parent).
//!
//! Bounded: past `limit` entries, the least recently used tenth goes, exited
//! processes before running ones.

use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use super::cgroup::CgroupInfo;
use crate::audit::records::json::decimal_digits;
use crate::audit::records::Timestamp;

pub type ProcId = u64;

/// How the enricher learned of a process: the event of its exec (or of its
/// first sighting), or /proc (its start time).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Origin {
    Event { sec: u64, msec: u32, serial: u64 },
    Observed { start_ms: u64 },
}

impl Origin {
    pub fn event(ts: Timestamp, serial: u64) -> Origin {
        Origin::Event {
            sec: ts.sec,
            msec: ts.msec,
            serial,
        }
    }
    /// laurel's `EVENT_ID` / `START_TIME` key and value.
    pub fn key_value(&self) -> (&'static str, String) {
        (
            self.key(),
            String::from_utf8_lossy(self.text().as_bytes()).into_owned(),
        )
    }

    /// `EVENT_ID` (the event named the process) or `START_TIME` (/proc did).
    pub fn key(&self) -> &'static str {
        self.keys().0
    }

    /// [`Origin::key`] and its JSON text (`"EVENT_ID":`).
    pub fn keys(&self) -> (&'static str, &'static str) {
        match self {
            Origin::Event { .. } => ("EVENT_ID", "\"EVENT_ID\":"),
            Origin::Observed { .. } => ("START_TIME", "\"START_TIME\":"),
        }
    }

    /// The value of [`Origin::key`]: `sec.msec:serial` or `sec.msec`,
    /// formatted without allocating (it is written for every process named in
    /// every event).
    pub fn text(&self) -> OriginText {
        let mut t = OriginText {
            buf: [0; 64],
            len: 0,
        };
        match *self {
            Origin::Event { sec, msec, serial } => {
                t.decimal(sec, 1);
                t.byte(b'.');
                t.decimal(msec.into(), 3);
                t.byte(b':');
                t.decimal(serial, 1);
            }
            Origin::Observed { start_ms } => {
                t.decimal(start_ms / 1000, 1);
                t.byte(b'.');
                t.decimal(start_ms % 1000, 3);
            }
        }
        t
    }
}

/// [`Origin::text`]: at most three 20-digit numbers and two separators.
pub struct OriginText {
    buf: [u8; 64],
    len: usize,
}

impl OriginText {
    fn byte(&mut self, c: u8) {
        self.buf[self.len] = c;
        self.len += 1;
    }

    /// `n` in decimal, zero-padded to `width` digits.
    fn decimal(&mut self, n: u64, width: usize) {
        let mut buf = [0u8; 20];
        let digits = decimal_digits(n, &mut buf);
        for _ in digits.len()..width {
            self.byte(b'0');
        }
        for &c in digits {
            self.byte(c);
        }
    }

    pub fn as_bytes(&self) -> &[u8] {
        &self.buf[..self.len]
    }
}

/// How an entry came to be.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Kind {
    /// An exec (a new program image).
    Exec,
    /// A clone/fork: still the parent's program.
    Fork,
    /// Seen first in some other event, or in /proc.
    Seen,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Process {
    pub pid: u32,
    pub ppid: u32,
    pub origin: Origin,
    pub kind: Kind,
    /// ms since the epoch, when /proc told us.
    pub start_ms: Option<u64>,
    pub comm: Option<Vec<u8>>,
    pub exe: Option<Vec<u8>>,
    /// The process that spawned this one (its parent's entry at the time).
    pub parent: Option<ProcId>,
    /// The same process before its exec.
    pub previous_self: Option<ProcId>,
    pub labels: BTreeSet<String>,
    pub cgroup: Option<Arc<CgroupInfo>>,
    /// The pid no longer belongs to this entry (it exited or the pid was reused).
    pub gone: bool,
    #[serde(skip)]
    pub(crate) used: u64,
}

impl Process {
    pub fn new(pid: u32, ppid: u32, origin: Origin, kind: Kind) -> Process {
        Process {
            pid,
            ppid,
            origin,
            kind,
            start_ms: None,
            comm: None,
            exe: None,
            parent: None,
            previous_self: None,
            labels: BTreeSet::new(),
            cgroup: None,
            gone: false,
            used: 0,
        }
    }
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct ProcessTable {
    procs: HashMap<ProcId, Process>,
    current: HashMap<u32, ProcId>,
    next_id: ProcId,
    limit: usize,
    clock: u64,
    /// Entries removed to stay within the limit.
    pub evicted: u64,
}

impl ProcessTable {
    pub fn new(limit: usize) -> ProcessTable {
        ProcessTable {
            limit: limit.max(16),
            next_id: 1,
            ..ProcessTable::default()
        }
    }

    pub fn set_limit(&mut self, limit: usize) {
        self.limit = limit.max(16);
    }

    pub fn len(&self) -> usize {
        self.procs.len()
    }

    pub fn is_empty(&self) -> bool {
        self.procs.is_empty()
    }

    pub fn get(&self, id: ProcId) -> Option<&Process> {
        self.procs.get(&id)
    }

    pub fn get_mut(&mut self, id: ProcId) -> Option<&mut Process> {
        self.procs.get_mut(&id)
    }

    /// The entry now holding `pid`.
    pub fn current(&self, pid: u32) -> Option<ProcId> {
        self.current.get(&pid).copied()
    }

    /// Mark an entry recently used (it and, through lookups, its ancestors
    /// stay while it is active).
    pub fn touch(&mut self, id: ProcId) {
        self.clock += 1;
        if let Some(p) = self.procs.get_mut(&id) {
            p.used = self.clock;
        }
    }

    /// Add a process; it now holds its pid (the previous holder is gone).
    pub fn insert(&mut self, mut p: Process) -> ProcId {
        let id = self.next_id;
        self.next_id += 1;
        self.clock += 1;
        p.used = self.clock;
        if let Some(old) = self.current.insert(p.pid, id) {
            if let Some(o) = self.procs.get_mut(&old) {
                o.gone = true;
            }
        }
        self.procs.insert(id, p);
        if self.procs.len() > self.limit {
            self.evict();
        }
        id
    }

    /// The process holding `pid` exited.
    pub fn exited(&mut self, pid: u32) {
        if let Some(id) = self.current.remove(&pid) {
            if let Some(p) = self.procs.get_mut(&id) {
                p.gone = true;
            }
        }
    }

    fn evict(&mut self) {
        let target = self.limit - self.limit / 10;
        let mut order: Vec<(bool, u64, ProcId)> = self
            .procs
            .iter()
            .map(|(&id, p)| (!p.gone, p.used, id))
            .collect();
        order.sort_unstable();
        let excess = self.procs.len().saturating_sub(target);
        for &(_, _, id) in order.iter().take(excess) {
            if let Some(p) = self.procs.remove(&id) {
                if self.current.get(&p.pid) == Some(&id) {
                    self.current.remove(&p.pid);
                }
                self.evicted += 1;
            }
        }
    }

    /// The process that spawned `id`: the program it was before its exec,
    /// unless that was only a fork of its parent, else its parent.
    pub fn spawner(&self, id: ProcId) -> Option<ProcId> {
        let p = self.procs.get(&id)?;
        match p
            .previous_self
            .and_then(|s| self.procs.get(&s).map(|sp| (s, sp)))
        {
            Some((s, sp)) if sp.kind != Kind::Fork => Some(s),
            Some((_, sp)) => sp.parent,
            None => p.parent,
        }
    }

    /// Ancestors of `id`, nearest first, at most `max`, stopping at a cycle
    /// (possible only through reused ids in a loaded state file).
    pub fn ancestors(&self, id: ProcId, max: usize) -> Vec<ProcId> {
        let mut out = Vec::new();
        self.ancestors_into(id, max, &mut out);
        out
    }

    /// [`ProcessTable::ancestors`] into a reused buffer (cleared first).
    pub fn ancestors_into(&self, id: ProcId, max: usize, out: &mut Vec<ProcId>) {
        out.clear();
        let mut at = self.procs.get(&id).and_then(|p| p.parent);
        while let Some(a) = at {
            if out.len() >= max || a == id || out.contains(&a) {
                break;
            }
            let Some(p) = self.procs.get(&a) else { break };
            out.push(a);
            if p.pid <= 1 {
                break;
            }
            at = p.parent;
        }
    }

    /// Re-link parents by pid after a bulk load (seeding from /proc).
    pub fn link_parents(&mut self) {
        let links: Vec<(ProcId, ProcId)> = self
            .procs
            .iter()
            .filter(|(_, p)| p.parent.is_none() && !p.gone && p.pid != p.ppid)
            .filter_map(|(&id, p)| Some((id, *self.current.get(&p.ppid)?)))
            .collect();
        for (id, parent) in links {
            if let Some(p) = self.procs.get_mut(&id) {
                p.parent = Some(parent);
            }
        }
    }

    /// Every entry now holding a pid.
    pub fn running(&self) -> impl Iterator<Item = (u32, ProcId)> + '_ {
        self.current.iter().map(|(&pid, &id)| (pid, id))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ev(serial: u64) -> Origin {
        Origin::Event {
            sec: 1,
            msec: 2,
            serial,
        }
    }

    #[test]
    fn reuse_and_ancestry() {
        let mut t = ProcessTable::new(100);
        let init = t.insert(Process::new(
            1,
            0,
            Origin::Observed { start_ms: 5 },
            Kind::Seen,
        ));
        let mut sh = Process::new(10, 1, ev(1), Kind::Exec);
        sh.parent = Some(init);
        let sh = t.insert(sh);
        let mut fork = Process::new(11, 10, ev(2), Kind::Fork);
        fork.parent = Some(sh);
        let fork = t.insert(fork);
        let mut exec = Process::new(11, 10, ev(3), Kind::Exec);
        exec.parent = Some(sh);
        exec.previous_self = Some(fork);
        let exec = t.insert(exec);
        assert!(t.get(fork).unwrap().gone);
        assert_eq!(t.current(11), Some(exec));
        assert_eq!(t.spawner(exec), Some(sh));
        assert_eq!(t.ancestors(exec, 10), vec![sh, init]);
        assert_eq!(t.ancestors(exec, 1), vec![sh]);
        assert_eq!(ev(3).key_value(), ("EVENT_ID", "1.002:3".to_string()));
        let o = Origin::Observed {
            start_ms: 1_700_000_000_042,
        };
        assert_eq!(o.key_value().1, "1700000000.042");
    }

    #[test]
    fn bounded() {
        let mut t = ProcessTable::new(1000);
        for i in 0..100_000u32 {
            t.insert(Process::new(i % 5000 + 2, 1, ev(i.into()), Kind::Exec));
            if i % 3 == 0 {
                t.exited(i % 5000 + 2);
            }
        }
        assert!(t.len() <= 1000);
        assert!(t.evicted > 0);
        assert!(t.current.len() <= t.len());
    }
}
