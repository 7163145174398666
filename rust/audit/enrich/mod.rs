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
pub mod output;
pub mod procfs;
pub mod state;
pub mod table;
pub mod track;
pub mod users;

#[cfg(test)]
mod tests;

use std::collections::BTreeSet;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use regex::bytes::RegexSet;

use crate::audit::records::json::{emit_event_with, type_key, JsonWriter};
use crate::audit::records::{Event, Record};
use crate::audit::tables::msg;
pub use config::{Config, FilterAction};
use facts::{execve_args, Facts};
use matchers::{decode_saddr, EnvMatcher, SockaddrMatcher};
pub use output::{Enrichment, Value, Verdict};
use table::ProcId;
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
        let id = self.tracker.lookup(pid)?;
        self.tracker.table.get(id)
    }

    /// Ancestors of the process now holding `pid`, nearest first.
    pub fn ancestors(&mut self, pid: u32) -> Vec<&Process> {
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
        self.stats.events += 1;
        let f = Facts::of(ev);
        let args = f.execve_index.map(|_| execve_args(ev));
        let seen = self.tracker.observe(ev, &f, args.as_deref());
        let mut out = Enrichment {
            verdict: self.verdict(ev, &f, &seen),
            ..Enrichment::default()
        };
        match out.verdict {
            Verdict::Drop => self.stats.dropped += 1,
            Verdict::Divert => self.stats.diverted += 1,
            Verdict::Keep => {}
        }
        if out.verdict != Verdict::Drop {
            self.members(ev, &f, &seen, args.as_deref(), &mut out);
        }
        if f.is_exit() {
            self.tracker.table.exited(f.pid);
        }
        if self.stats.events % 1024 == 0 {
            self.maybe_save();
        }
        out
    }

    /// Track one event and append its enriched JSON object (no line end) to
    /// `out`, unless the filters drop it. Diverted events are written too.
    pub fn write_json(&mut self, ev: &Event, out: &mut Vec<u8>) -> Verdict {
        let e = self.enrich(ev);
        if e.verdict != Verdict::Drop {
            let mut w = JsonWriter::new(out);
            emit_event_with(&mut w, ev, &e);
        }
        e.verdict
    }

    fn verdict(&self, ev: &Event, f: &Facts, seen: &track::Seen) -> Verdict {
        let c = &self.config.filter;
        let mut filtered = false;
        if f.syscall_index.is_some() {
            filtered = if f.keys.is_empty() {
                c.filter_null_keys
            } else {
                f.keys
                    .iter()
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

    fn key(&self, upper: &str) -> String {
        match &self.config.enrich.prefix {
            Some(p) => format!("{p}{}", upper.to_ascii_lowercase()),
            None => upper.to_string(),
        }
    }

    /// laurel's process context map: origin, then (verbose) comm, exe, ppid,
    /// then (for the event's own process) container and systemd units.
    fn proc_map(&self, id: ProcId, verbose: bool, own: bool) -> Value {
        let Some(p) = self.tracker.table.get(id) else {
            return Value::Map(Vec::new());
        };
        let (k, v) = p.origin.key_value();
        let mut m = vec![(k.to_string(), Value::from(v))];
        if verbose {
            if let Some(c) = &p.comm {
                m.push(("comm".into(), Value::from(c.as_slice())));
            }
            if let Some(e) = &p.exe {
                m.push(("exe".into(), Value::from(e.as_slice())));
            }
            if p.ppid != 0 {
                m.push(("ppid".into(), Value::Int(p.ppid.into())));
            }
        }
        if own {
            let e = &self.config.enrich;
            if let (true, Some(c)) = (
                e.container,
                p.cgroup.as_ref().and_then(|c| c.container.as_ref()),
            ) {
                let mut cm = vec![("id".to_string(), Value::from(c.id.as_str()))];
                if !c.runtime.is_empty() {
                    cm.push(("runtime".into(), Value::from(c.runtime.as_str())));
                }
                if let Some(pod) = &c.pod_uid {
                    cm.push(("pod_uid".into(), Value::from(pod.as_str())));
                }
                m.push(("container".into(), Value::Map(cm)));
            }
            if let (true, Some(cg)) = (e.systemd, p.cgroup.as_ref()) {
                if !cg.services.is_empty() {
                    let l = cg
                        .services
                        .iter()
                        .map(|s| Value::from(s.as_str()))
                        .collect();
                    m.push(("systemd_service".into(), Value::List(l)));
                }
            }
        }
        Value::Map(m)
    }

    fn labels(labels: &BTreeSet<String>) -> Value {
        Value::List(labels.iter().map(|l| Value::from(l.as_str())).collect())
    }

    fn members(
        &mut self,
        ev: &Event,
        f: &Facts,
        seen: &track::Seen,
        args: Option<&[Vec<u8>]>,
        out: &mut Enrichment,
    ) {
        let e = &self.config.enrich;
        let (script, pid, ppid_verbose, spawned_by, uid_groups) =
            (e.script, e.pid, e.ppid_verbose, e.spawned_by, e.uid_groups);
        let a = &self.config.auditlink;
        let (ancestors, ancestors_max, pid_verbose) = (a.ancestors, a.ancestors_max, a.pid_verbose);
        if let (Some(si), Some(id)) = (f.syscall_index, seen.proc) {
            if let (true, Some(s)) = (script, &seen.script) {
                out.add(si, "SCRIPT", Value::from(s.as_slice()));
            }
            if pid {
                out.add(si, self.key("PID"), self.proc_map(id, pid_verbose, true));
                if let Some(pp) = self.tracker.lookup(f.ppid) {
                    out.add(si, self.key("PPID"), self.proc_map(pp, ppid_verbose, false));
                }
            }
            let t = &self.tracker.table;
            if let (true, Some(sp)) = (spawned_by, t.spawner(id)) {
                let mut m = match self.proc_map(sp, false, false) {
                    Value::Map(m) => m,
                    _ => Vec::new(),
                };
                m.extend(t.get(sp).map(identity).unwrap_or_default());
                out.add(si, "SPAWNED_BY", Value::Map(m));
            }
            if ancestors {
                let chain: Vec<Value> = t
                    .ancestors(id, ancestors_max)
                    .into_iter()
                    .filter_map(|anc| {
                        let p = t.get(anc)?;
                        let (k, v) = p.origin.key_value();
                        let mut m = identity(p);
                        m.push((k.to_string(), Value::from(v)));
                        if !p.labels.is_empty() {
                            m.push(("LABELS".into(), Self::labels(&p.labels)));
                        }
                        Some(Value::Map(m))
                    })
                    .collect();
                if !chain.is_empty() {
                    out.add(si, "ANCESTORS", Value::List(chain));
                }
            }
            if let Some(p) = t.get(id).filter(|p| !p.labels.is_empty()) {
                out.add(si, "LABELS", Self::labels(&p.labels));
            }
            if let (true, Some(uid)) = (uid_groups, f.uid) {
                if let Some(g) = self.users.groups(uid) {
                    out.add(
                        si,
                        "UID_GROUPS",
                        Value::List(g.iter().map(|n| Value::from(n.as_str())).collect()),
                    );
                }
            }
            if let (Some(h), Some(exe)) = (self.hasher.as_mut(), &f.exe) {
                if let Some(hash) = h.hash_pid(f.pid, exe) {
                    out.add(si, "EXE_HASH", Value::from(hash));
                }
            }
        }
        if let (Some(xi), Some(args)) = (f.execve_index, args) {
            self.execve_members(xi, f, args, out);
        }
        if pid {
            self.other_pids(ev, f, out);
        }
    }

    fn execve_members(&mut self, xi: usize, f: &Facts, args: &[Vec<u8>], out: &mut Enrichment) {
        use config::ArgvForm;
        let t = &self.config.transform;
        let forms = &t.execve_argv;
        out.replaces_argv = !forms.is_empty();
        let limited;
        let argv = match t.execve_argv_limit_bytes {
            Some(limit) => {
                limited = output::limit_argv(args, limit);
                &limited[..]
            }
            None => args,
        };
        if forms.contains(&ArgvForm::Array) {
            out.add(
                xi,
                "ARGV",
                Value::List(argv.iter().map(|a| Value::from(a.as_slice())).collect()),
            );
        }
        if forms.contains(&ArgvForm::String) {
            out.add(xi, "ARGV_STR", Value::Str(argv.join(&b' ')));
        }
        if self.tracker.procfs && f.is_exec() && !self.env.is_empty() {
            if let Some(block) = procfs::environ(f.pid) {
                let vars = self
                    .env
                    .select(&block)
                    .into_iter()
                    .map(|(k, v)| (String::from_utf8_lossy(k).into_owned(), Value::from(v)))
                    .collect();
                out.add(xi, "ENV", Value::Map(vars));
            }
        }
    }

    /// `pid`-like fields of the other records (user messages' `pid`, OBJ_PID's
    /// `opid`, ...): the process context under the upper-case name.
    fn other_pids(&mut self, ev: &Event, f: &Facts, out: &mut Enrichment) {
        for (i, rec) in ev.records.iter().enumerate() {
            if Some(i) == f.syscall_index || rec.msg_type == msg::EXECVE {
                continue;
            }
            for fld in rec.fields() {
                let name = rec.field_name(fld);
                if !name.ends_with(b"pid") || fld.quoted {
                    continue;
                }
                let Some(pid) = std::str::from_utf8(rec.field_value(fld))
                    .ok()
                    .and_then(|v| v.parse::<u32>().ok())
                else {
                    continue;
                };
                let Some(id) = self.tracker.lookup(pid) else {
                    continue;
                };
                let upper = String::from_utf8_lossy(name).to_ascii_uppercase();
                let verbose = name != b"ppid" || self.config.enrich.ppid_verbose;
                let key = self.key(&upper);
                out.add(i, key, self.proc_map(id, verbose, false));
            }
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

/// `pid`, `comm`, `exe` of a process (SPAWNED_BY, ANCESTORS entries).
fn identity(p: &Process) -> Vec<(String, Value)> {
    let mut m = vec![("pid".to_string(), Value::Int(p.pid.into()))];
    m.extend(
        p.comm
            .as_ref()
            .map(|c| ("comm".to_string(), Value::from(c.as_slice()))),
    );
    m.extend(
        p.exe
            .as_ref()
            .map(|x| ("exe".to_string(), Value::from(x.as_slice()))),
    );
    m
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
