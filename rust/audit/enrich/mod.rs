//! Enrichment of audit events with the context a raw record lacks: process
//! ancestry, containers and systemd units, scripts, user groups, environment,
//! executable hashes, labels and filters — laurel's enrichments (same
//! configuration format, same JSON places) and ancestry chains.
//!
//! Data path: [`Event`] → [`facts::Facts`] → [`track::Tracker`] (process table
//! update, labels) → filters → [`output::Enrichment`] → the records JSON writer,
//! which merges the members into the records' objects ([`Enricher::write_json`]).

pub mod cgroup;
pub mod config;
pub mod exehash;
pub mod facts;
pub mod matchers;
mod members;
pub mod output;
pub mod procfs;
pub mod state;
pub mod table;
pub mod track;
pub mod users;

#[cfg(test)]
mod bench;
#[cfg(test)]
mod tests;

use std::path::PathBuf;
use std::time::{Duration, Instant};

use regex::bytes::RegexSet;

use crate::audit::records::json::{emit_event_with, type_key, Extra, JsonWriter};
use crate::audit::records::{Event, Record};
use crate::audit::tables::msg;
pub use config::{Config, FilterAction};
use facts::{execve_args, Facts};
use matchers::{decode_saddr, EnvMatcher, SockaddrMatcher};
pub use output::{Enrichment, Value, Verdict};
pub use table::{Process, ProcessTable};
pub use track::Tracker;

/// Counters of what the enricher did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Stats {
    pub events: u64,
    pub dropped: u64,
    pub diverted: u64,
}

pub struct Enricher {
    config: Config,
    tracker: Tracker,
    users: users::UserDb,
    hasher: Option<exehash::ExeHasher>,
    env: EnvMatcher,
    raw_lines: Option<RegexSet>,
    sockaddr: Vec<SockaddrMatcher>,
    state_path: Option<PathBuf>,
    last_save: Instant,
    pid_keys: members::PidKeys,
    /// The current event's members, reused between events.
    plan: members::Plan,
    pub stats: Stats,
}

impl std::fmt::Debug for Enricher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Enricher")
            .field("processes", &self.tracker.table.len())
            .field("stats", &self.stats)
            .finish()
    }
}

fn bad(e: impl std::fmt::Display) -> crate::Error {
    crate::Error::InvalidArgument(format!("enrich configuration: {e}"))
}

impl Enricher {
    /// An enricher for live events; the table is loaded from a fresh state
    /// file (if configured) and, with `procfs` on, completed from /proc.
    pub fn new(config: Config) -> crate::Result<Enricher> {
        Enricher::with_procfs_default(config, true)
    }

    /// An enricher for a log: /proc is not consulted unless the configuration
    /// says `procfs = true`.
    pub fn for_logs(config: Config) -> crate::Result<Enricher> {
        Enricher::with_procfs_default(config, false)
    }

    fn with_procfs_default(config: Config, procfs: bool) -> crate::Result<Enricher> {
        config.check().map_err(bad)?;
        let procfs = config.auditlink.procfs.unwrap_or(procfs);
        let labeler = track::Labeler::new(&config.label_process).map_err(bad)?;
        let raw = &config.filter.filter_raw_lines;
        let raw_lines = if raw.is_empty() {
            None
        } else {
            Some(RegexSet::new(raw).map_err(bad)?)
        };
        let sockaddr = config
            .filter
            .filter_sockaddr
            .iter()
            .map(|s| SockaddrMatcher::parse(s))
            .collect::<Result<Vec<_>, _>>()
            .map_err(bad)?;
        let a = &config.auditlink;
        let state_path = config.state_path();
        let mut table = state_path
            .as_ref()
            .zip(config.state.as_ref())
            .and_then(|(p, s)| state::load(p, s.max_age))
            .unwrap_or_default();
        table.set_limit(a.max_processes);
        let mut tracker = Tracker {
            table,
            labeler,
            procfs,
            track_forks: a.track_forks,
            want_script: config.enrich.script,
            want_cgroup: config.enrich.container || config.enrich.systemd,
            gone: Default::default(),
            exe_ids: Default::default(),
        };
        if procfs {
            tracker.seed();
        }
        let e = &config.enrich;
        let hasher = (e.exe_hash && procfs)
            .then(|| exehash::ExeHasher::new(e.exe_hash_size_limit, e.exe_hash_cache_entries));
        Ok(Enricher {
            env: EnvMatcher::new(&e.execve_env),
            hasher,
            users: users::UserDb::new(),
            raw_lines,
            sockaddr,
            state_path,
            last_save: Instant::now(),
            pid_keys: members::PidKeys::new(e.prefix.as_deref()),
            plan: members::Plan::default(),
            tracker,
            config,
            stats: Stats::default(),
        })
    }

    pub fn from_toml(text: &str) -> crate::Result<Enricher> {
        Enricher::new(Config::from_toml(text).map_err(bad)?)
    }

    pub fn config(&self) -> &Config {
        &self.config
    }

    pub fn tracker(&self) -> &Tracker {
        &self.tracker
    }

    /// The entry now holding `pid` (from /proc if unknown and live).
    pub fn process(&mut self, pid: u32) -> Option<&Process> {
        self.tracker.new_event(0);
        let id = self.tracker.lookup(pid)?;
        self.tracker.table.get(id)
    }

    /// Ancestors of the process now holding `pid`, nearest first.
    pub fn ancestors(&mut self, pid: u32) -> Vec<&Process> {
        self.tracker.new_event(0);
        let Some(id) = self.tracker.lookup(pid) else {
            return Vec::new();
        };
        let t = &self.tracker.table;
        t.ancestors(id, self.config.auditlink.ancestors_max)
            .into_iter()
            .filter_map(|a| t.get(a))
            .collect()
    }

    /// Track one event and compute its enrichment and filter verdict.
    pub fn enrich(&mut self, ev: &Event) -> Enrichment {
        let verdict = self.track(ev);
        let mut out = Enrichment {
            verdict,
            ..Enrichment::default()
        };
        if verdict != Verdict::Drop {
            let plan = std::mem::take(&mut self.plan);
            let members = self.members_of(&plan);
            for index in plan.indices() {
                let mut sink = output::ValueSink::new();
                members.members(index, &ev.records[index], &mut sink);
                out.members.push((index, sink.into_members()));
            }
            out.replaces_argv = !members.execve_argv();
            out.translation = members.translation();
            self.plan = plan;
        }
        out
    }

    /// Track one event and append its enriched JSON object (no line end) to
    /// `out`, unless the filters drop it. Diverted events are written too.
    pub fn write_json(&mut self, ev: &Event, out: &mut Vec<u8>) -> Verdict {
        let verdict = self.track(ev);
        if verdict != Verdict::Drop {
            let mut w = JsonWriter::new(out);
            emit_event_with(&mut w, ev, &self.members_of(&self.plan));
        }
        verdict
    }

    /// `events` as JSON lines: the kept ones appended to `kept`, the diverted
    /// ones to `diverted`.
    pub fn write_lines(&mut self, events: &[Event], kept: &mut Vec<u8>, diverted: &mut Vec<u8>) {
        for ev in events {
            let start = kept.len();
            match self.write_json(ev, kept) {
                Verdict::Keep => kept.push(b'\n'),
                Verdict::Divert => {
                    diverted.extend_from_slice(&kept[start..]);
                    diverted.push(b'\n');
                    kept.truncate(start);
                }
                Verdict::Drop => {}
            }
        }
    }

    /// Update the process table from `ev`, decide its verdict and (unless it
    /// is dropped) plan its members in `self.plan`.
    fn track(&mut self, ev: &Event) -> Verdict {
        self.stats.events += 1;
        let t = ev.timestamp;
        self.tracker
            .new_event(t.sec.saturating_mul(1000) + u64::from(t.msec));
        let f = Facts::of(ev);
        let args = f.execve_index.map(|_| execve_args(ev));
        let seen = self.tracker.observe(ev, &f, args.as_deref());
        let verdict = self.verdict(ev, &f, &seen);
        match verdict {
            Verdict::Drop => self.stats.dropped += 1,
            Verdict::Divert => self.stats.diverted += 1,
            Verdict::Keep => {}
        }
        if verdict != Verdict::Drop {
            let mut plan = std::mem::take(&mut self.plan);
            self.plan(ev, &f, seen, args, &mut plan);
            self.plan = plan;
        }
        if f.is_exit() {
            self.tracker.table.exited(f.pid);
        }
        if self.stats.events % 1024 == 0 {
            self.maybe_save();
        }
        verdict
    }

    fn verdict(&self, ev: &Event, f: &Facts, seen: &track::Seen) -> Verdict {
        let c = &self.config.filter;
        let mut filtered = false;
        if f.syscall_index.is_some() {
            filtered = if f.key.is_none() {
                c.filter_null_keys
            } else {
                f.keys()
                    .any(|k| std::str::from_utf8(k).is_ok_and(|k| c.filter_keys.contains(k)))
            };
            if !c.filter_labels.is_empty() {
                let labels = seen
                    .proc
                    .and_then(|id| self.tracker.table.get(id))
                    .map(|p| &p.labels);
                filtered |= labels.is_some_and(|l| l.iter().any(|l| c.filter_labels.contains(l)));
            }
            if seen.first && c.keep_first_per_process {
                filtered = false;
            }
        }
        if let Some(set) = &self.raw_lines {
            filtered |= ev.records.iter().any(|r| set.is_match(&raw_line(r)));
        }
        if !self.sockaddr.is_empty() {
            filtered |= ev
                .records
                .iter()
                .filter(|r| r.msg_type == msg::SOCKADDR)
                .any(|r| {
                    r.get(b"saddr")
                        .and_then(decode_saddr)
                        .is_some_and(|(ip, port)| self.sockaddr.iter().any(|m| m.matches(ip, port)))
                });
        }
        match (filtered, c.filter_action) {
            (false, _) => Verdict::Keep,
            (true, FilterAction::Drop) => Verdict::Drop,
            (true, FilterAction::Log) => Verdict::Divert,
        }
    }

    fn maybe_save(&mut self) {
        let period = self
            .config
            .state
            .as_ref()
            .and_then(|s| s.write_state_period);
        if let Some(p) = period {
            if self.last_save.elapsed() >= Duration::from_secs(p) {
                let _ = self.save_state();
            }
        }
    }

    /// Write the state file now (if one is configured).
    pub fn save_state(&mut self) -> std::io::Result<()> {
        self.last_save = Instant::now();
        let (Some(path), Some(s)) = (&self.state_path, &self.config.state) else {
            return Ok(());
        };
        state::save(path, &self.tracker.table, s.generations)
    }
}

impl Drop for Enricher {
    fn drop(&mut self) {
        let _ = self.save_state();
    }
}

/// A record as auditd writes it in its log (`type=NAME msg=audit(...): ...`),
/// for `filter-raw-lines`: log input has it already, netlink input gets the prefix.
fn raw_line(r: &Record) -> std::borrow::Cow<'_, [u8]> {
    let t = r.text();
    if t.starts_with(b"type=") {
        return t.into();
    }
    let mut line = format!("type={} msg=", type_key(r.msg_type)).into_bytes();
    line.extend_from_slice(t);
    line.into()
}
