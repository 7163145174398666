//! The counters behind `auditlink top`: events per second overall and by
//! record type, key, executable, user (auid), syscall and result, counted
//! in Rust per event; the caller takes a snapshot once a second.
//!
//! Memory is bounded: each table keeps at most [`MAX_KEYS`] distinct values
//! (further new values are counted under `(other)`).

use std::collections::HashMap;

use super::group::Group;
use super::items::{Items, Needs};
use crate::audit::tables;

/// Distinct values kept per table.
pub const MAX_KEYS: usize = 4096;
const OTHER: &[u8] = b"(other)";

/// The tables, in display order.
pub const TABLES: [&str; 6] = ["type", "key", "exe", "user", "syscall", "result"];

#[derive(Debug, Default, Clone)]
struct Table {
    /// value -> (count in the current interval, total).
    counts: HashMap<Vec<u8>, (u64, u64)>,
}

impl Table {
    fn add(&mut self, v: &[u8]) {
        let key = if self.counts.len() >= MAX_KEYS && !self.counts.contains_key(v) {
            OTHER
        } else {
            v
        };
        let e = self.counts.entry(key.to_vec()).or_default();
        e.0 += 1;
        e.1 += 1;
    }
}

/// One table row of a snapshot.
#[derive(Debug, Clone, PartialEq)]
pub struct Rate {
    pub value: Vec<u8>,
    /// Per second over the last interval.
    pub rate: f64,
    pub total: u64,
}

/// Counts per table; see the module documentation.
#[derive(Debug, Default)]
pub struct Top {
    tables: [Table; 6],
    events: (u64, u64),
    records: (u64, u64),
}

fn needs() -> Needs {
    Needs {
        success: true,
        key: true,
        exe: true,
        loginuid: true,
        ..Needs::default()
    }
}

impl Top {
    pub fn new() -> Top {
        Top::default()
    }

    /// Count one event.
    pub fn add(&mut self, g: &Group) {
        self.events.0 += 1;
        self.events.1 += 1;
        for l in &g.lines {
            self.records.0 += 1;
            self.records.1 += 1;
            let name = tables::libaudit_message_type_name(l.rtype)
                .map_or_else(|| format!("UNKNOWN[{}]", l.rtype), str::to_owned);
            self.tables[0].add(name.as_bytes());
        }
        let s = Items::extract(g, &needs()).unwrap_or_default();
        for k in s.keys.iter().flatten() {
            self.tables[1].add(k);
        }
        if let Some(e) = &s.exe {
            self.tables[2].add(e);
        }
        if s.loginuid != u64::from(u32::MAX - 1) {
            self.tables[3].add((s.loginuid as u32 as i32).to_string().as_bytes());
        }
        if let Some(nr) = s.syscall {
            let name = s
                .arch
                .and_then(|a| tables::machine_for_audit_arch(a as u32))
                .and_then(|m| tables::syscall_name(m, nr as u32))
                .map_or_else(|| nr.to_string(), str::to_owned);
            self.tables[4].add(name.as_bytes());
        }
        let result: &[u8] = match s.success {
            Some(0) => b"failed",
            Some(1) => b"success",
            _ => b"unset",
        };
        self.tables[5].add(result);
    }

    /// Events and records seen in total.
    pub fn totals(&self) -> (u64, u64) {
        (self.events.1, self.records.1)
    }

    /// Rates over the interval of `seconds` that just ended (events/s,
    /// records/s, and each table's rows, busiest first, at most `limit`);
    /// starts the next interval.
    pub fn snapshot(&mut self, seconds: f64, limit: usize) -> (f64, f64, Vec<Vec<Rate>>) {
        let secs = if seconds > 0.0 { seconds } else { 1.0 };
        let ev = self.events.0 as f64 / secs;
        let rec = self.records.0 as f64 / secs;
        self.events.0 = 0;
        self.records.0 = 0;
        let tables = self
            .tables
            .iter_mut()
            .map(|t| {
                let mut rows: Vec<Rate> = t
                    .counts
                    .iter()
                    .map(|(v, &(n, total))| Rate {
                        value: v.clone(),
                        rate: n as f64 / secs,
                        total,
                    })
                    .collect();
                rows.sort_by(|a, b| {
                    b.rate
                        .total_cmp(&a.rate)
                        .then(b.total.cmp(&a.total))
                        .then(a.value.cmp(&b.value))
                });
                rows.truncate(limit);
                for c in t.counts.values_mut() {
                    c.0 = 0;
                }
                rows
            })
            .collect();
        (ev, rec, tables)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::audit::search::group::Grouper;

    #[test]
    fn counts_and_rates() {
        let mut g = Grouper::new(2);
        g.push(b"type=SYSCALL msg=audit(1.000:1): arch=c000003e syscall=59 success=yes exit=0 a0=1 a1=2 a2=3 a3=4 items=0 ppid=1 pid=2 auid=1000 uid=0 gid=0 euid=0 suid=0 fsuid=0 egid=0 sgid=0 fsgid=0 tty=pts0 ses=1 comm=\"ls\" exe=\"/bin/ls\" key=\"exec\"");
        g.push(b"type=USER_LOGIN msg=audit(2.000:2): pid=1 uid=0 auid=0 ses=1 msg='op=login acct=\"x\" exe=\"/bin/login\" res=failed'");
        g.finish();
        let mut top = Top::new();
        while let Some(e) = g.pop() {
            top.add(&e);
        }
        let (ev, rec, tables) = top.snapshot(2.0, 10);
        assert_eq!((ev, rec), (1.0, 1.0));
        assert_eq!(tables[1][0].value, b"exec");
        assert_eq!(tables[4][0].value, b"execve");
        assert_eq!(tables[5].len(), 2);
        let (ev, _, tables) = top.snapshot(1.0, 10);
        assert_eq!(ev, 0.0);
        assert_eq!(tables[0][0].total, 1);
    }
}
