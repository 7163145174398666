//! The enrichment members of one event, written straight into any records
//! [`Sink`] (the JSON writer, the value tree of [`super::Enrichment`]): what
//! needs the enricher's mutable state (lookups that may read /proc, caches) is
//! gathered first into a reusable [`Plan`], then [`Members`] writes from the
//! table without building anything per event.

use std::borrow::Cow;

use super::config::{ArgvForm, Config};
use super::facts::Facts;
use super::matchers::EnvMatcher;
use super::output::limit_argv;
use super::table::{Origin, ProcId, Process, ProcessTable};
use super::track::Seen;
use super::users::UserDb;
use crate::audit::records::json::{Extra, Sink, Translation};
use crate::audit::records::{Event, Record};
use crate::audit::tables::msg;

/// Write the key `$k` (a literal that needs no JSON escaping) with its JSON
/// text made at compile time.
macro_rules! key {
    ($sink:expr, $k:literal) => {
        $sink.key_json($k.as_bytes(), concat!("\"", $k, "\":").as_bytes())
    };
}

/// Keys that carry `[enrich] prefix` (laurel: prefix + lower-case name).
#[derive(Debug, Clone)]
pub(crate) struct PidKeys {
    prefix: Option<Vec<u8>>,
    pid: Vec<u8>,
    ppid: Vec<u8>,
}

impl PidKeys {
    pub(crate) fn new(prefix: Option<&str>) -> PidKeys {
        let with = |upper: &str| match prefix {
            Some(p) => format!("{p}{}", upper.to_ascii_lowercase()).into_bytes(),
            None => upper.as_bytes().to_vec(),
        };
        PidKeys {
            prefix: prefix.map(|p| p.as_bytes().to_vec()),
            pid: with("PID"),
            ppid: with("PPID"),
        }
    }

    /// The key for a `*pid` field of another record: its upper-case name.
    fn field(&self, name: &[u8]) -> Vec<u8> {
        let name = String::from_utf8_lossy(name);
        match &self.prefix {
            Some(p) => [p.as_slice(), name.to_ascii_lowercase().as_bytes()].concat(),
            None => name.to_ascii_uppercase().into_bytes(),
        }
    }
}

/// What one event's members refer to, gathered before they are written.
/// Kept by the enricher between events so its buffers are reused.
#[derive(Debug, Default)]
pub(crate) struct Plan {
    syscall_index: Option<usize>,
    execve_index: Option<usize>,
    /// The event's process (members of SYSCALL are written only with it).
    proc: Option<ProcId>,
    ppid: Option<ProcId>,
    script: Option<Vec<u8>>,
    /// The uid whose groups are written (known to the user database).
    uid: Option<u32>,
    exe_hash: Option<String>,
    ancestors: Vec<ProcId>,
    args: Option<Vec<Vec<u8>>>,
    /// /proc/PID/environ of an exec, when read.
    environ: Option<Vec<u8>>,
    /// `*pid` fields of other records: (record index, field index, entry).
    pids: Vec<(usize, usize, ProcId)>,
}

impl Plan {
    pub(crate) fn clear(&mut self) {
        self.syscall_index = None;
        self.execve_index = None;
        self.proc = None;
        self.ppid = None;
        self.script = None;
        self.uid = None;
        self.exe_hash = None;
        self.ancestors.clear();
        self.args = None;
        self.environ = None;
        self.pids.clear();
    }

    /// Record indices that get members, in the order they are added.
    pub(crate) fn indices(&self) -> impl Iterator<Item = usize> + '_ {
        let syscall = self.syscall_index.filter(|_| self.proc.is_some());
        let execve = self.execve_index.filter(|_| self.args.is_some());
        let mut last = None;
        syscall.into_iter().chain(execve).chain(
            self.pids
                .iter()
                .map(|p| p.0)
                .filter(move |&i| last.replace(i) != Some(i)),
        )
    }
}

impl super::Enricher {
    /// Gather what the members of `ev` need (after tracking, for kept and
    /// diverted events), in the order the lookups always ran: the parent, the
    /// user's groups, the exe hash, the environment, the other records' pids.
    pub(crate) fn plan(
        &mut self,
        ev: &Event,
        f: &Facts,
        seen: Seen,
        args: Option<Vec<Vec<u8>>>,
        plan: &mut Plan,
    ) {
        plan.clear();
        let (e, a) = (&self.config.enrich, &self.config.auditlink);
        plan.syscall_index = f.syscall_index;
        plan.execve_index = f.execve_index;
        plan.proc = seen.proc.filter(|_| f.syscall_index.is_some());
        if let Some(id) = plan.proc {
            plan.script = seen.script.filter(|_| e.script);
            if e.pid {
                plan.ppid = self.tracker.lookup(f.ppid);
            }
            if let (true, Some(uid)) = (e.uid_groups, f.uid) {
                plan.uid = self.users.groups(uid).is_some().then_some(uid);
            }
            if let (Some(h), Some(exe), false) =
                (self.hasher.as_mut(), &f.exe, self.tracker.is_gone(f.pid))
            {
                plan.exe_hash = h.hash_pid(f.pid, exe);
            }
            if a.ancestors {
                self.tracker
                    .table
                    .ancestors_into(id, a.ancestors_max, &mut plan.ancestors);
            }
        }
        if f.execve_index.is_some() {
            if self.tracker.procfs
                && f.is_exec()
                && !self.env.is_empty()
                && !self.tracker.is_gone(f.pid)
            {
                plan.environ = super::procfs::environ(f.pid);
            }
            plan.args = args;
        }
        if self.config.enrich.pid {
            self.other_pids(ev, f, plan);
        }
    }

    /// `pid`-like fields of the other records (user messages' `pid`, OBJ_PID's
    /// `opid`, ...) whose process is known.
    fn other_pids(&mut self, ev: &Event, f: &Facts, plan: &mut Plan) {
        for (i, rec) in ev.records.iter().enumerate() {
            if Some(i) == f.syscall_index || rec.msg_type == msg::EXECVE {
                continue;
            }
            for (j, fld) in rec.fields().iter().enumerate() {
                if fld.quoted || !rec.field_name(fld).ends_with(b"pid") {
                    continue;
                }
                let Some(pid) = std::str::from_utf8(rec.field_value(fld))
                    .ok()
                    .and_then(|v| v.parse::<u32>().ok())
                else {
                    continue;
                };
                if let Some(id) = self.tracker.lookup(pid) {
                    plan.pids.push((i, j, id));
                }
            }
        }
    }

    pub(crate) fn members_of<'a>(&'a self, plan: &'a Plan) -> Members<'a> {
        Members {
            config: &self.config,
            table: &self.tracker.table,
            users: &self.users,
            env: &self.env,
            keys: &self.pid_keys,
            plan,
        }
    }
}

/// Writes the planned members into the records writer ([`Extra`]).
pub(crate) struct Members<'a> {
    config: &'a Config,
    table: &'a ProcessTable,
    users: &'a UserDb,
    env: &'a EnvMatcher,
    keys: &'a PidKeys,
    plan: &'a Plan,
}

fn origin<S: Sink>(sink: &mut S, o: &Origin) {
    let (k, json) = o.keys();
    sink.key_json(k.as_bytes(), json.as_bytes());
    sink.string(o.text().as_bytes());
}

/// `pid`, `comm`, `exe` of a process (SPAWNED_BY, ANCESTORS entries).
fn identity<S: Sink>(sink: &mut S, p: &Process) {
    key!(sink, "pid");
    sink.int(p.pid.into());
    if let Some(c) = &p.comm {
        key!(sink, "comm");
        sink.string(c);
    }
    if let Some(x) = &p.exe {
        key!(sink, "exe");
        sink.string(x);
    }
}

fn labels<S: Sink>(sink: &mut S, p: &Process) {
    key!(sink, "LABELS");
    sink.begin_list();
    for l in &p.labels {
        sink.string(l.as_bytes());
    }
    sink.end_list();
}

impl Members<'_> {
    /// laurel's process context map: origin, then (verbose) comm, exe, ppid,
    /// then (for the event's own process) container and systemd units.
    fn proc_map<S: Sink>(&self, sink: &mut S, id: ProcId, verbose: bool, own: bool) {
        sink.begin_map();
        if let Some(p) = self.table.get(id) {
            origin(sink, &p.origin);
            if verbose {
                if let Some(c) = &p.comm {
                    key!(sink, "comm");
                    sink.string(c);
                }
                if let Some(e) = &p.exe {
                    key!(sink, "exe");
                    sink.string(e);
                }
                if p.ppid != 0 {
                    key!(sink, "ppid");
                    sink.int(p.ppid.into());
                }
            }
            if own {
                self.cgroup(sink, p);
            }
        }
        sink.end_map();
    }

    fn cgroup<S: Sink>(&self, sink: &mut S, p: &Process) {
        let e = &self.config.enrich;
        let Some(cg) = p.cgroup.as_ref() else {
            return;
        };
        if let (true, Some(c)) = (e.container, cg.container.as_ref()) {
            key!(sink, "container");
            sink.begin_map();
            key!(sink, "id");
            sink.string(c.id.as_bytes());
            if !c.runtime.is_empty() {
                key!(sink, "runtime");
                sink.string(c.runtime.as_bytes());
            }
            if let Some(pod) = &c.pod_uid {
                key!(sink, "pod_uid");
                sink.string(pod.as_bytes());
            }
            sink.end_map();
        }
        if e.systemd && !cg.services.is_empty() {
            key!(sink, "systemd_service");
            sink.begin_list();
            for s in &cg.services {
                sink.string(s.as_bytes());
            }
            sink.end_list();
        }
    }

    fn syscall<S: Sink>(&self, sink: &mut S, id: ProcId) {
        let (e, a, plan, t) = (
            &self.config.enrich,
            &self.config.auditlink,
            self.plan,
            self.table,
        );
        if let Some(s) = &plan.script {
            key!(sink, "SCRIPT");
            sink.string(s);
        }
        if e.pid {
            sink.key(&self.keys.pid);
            self.proc_map(sink, id, a.pid_verbose, true);
            if let Some(pp) = plan.ppid {
                sink.key(&self.keys.ppid);
                self.proc_map(sink, pp, e.ppid_verbose, false);
            }
        }
        if let (true, Some(sp)) = (e.spawned_by, t.spawner(id)) {
            key!(sink, "SPAWNED_BY");
            sink.begin_map();
            if let Some(p) = t.get(sp) {
                origin(sink, &p.origin);
                identity(sink, p);
            }
            sink.end_map();
        }
        if !plan.ancestors.is_empty() {
            key!(sink, "ANCESTORS");
            sink.begin_list();
            for p in plan.ancestors.iter().filter_map(|&anc| t.get(anc)) {
                sink.begin_map();
                identity(sink, p);
                origin(sink, &p.origin);
                if !p.labels.is_empty() {
                    labels(sink, p);
                }
                sink.end_map();
            }
            sink.end_list();
        }
        if let Some(p) = t.get(id).filter(|p| !p.labels.is_empty()) {
            labels(sink, p);
        }
        if let Some(groups) = plan.uid.and_then(|uid| self.users.cached(uid)) {
            key!(sink, "UID_GROUPS");
            sink.begin_list();
            for g in groups {
                sink.string(g.as_bytes());
            }
            sink.end_list();
        }
        if let Some(h) = &plan.exe_hash {
            key!(sink, "EXE_HASH");
            sink.string(h.as_bytes());
        }
    }

    fn execve<S: Sink>(&self, sink: &mut S, args: &[Vec<u8>]) {
        let t = &self.config.transform;
        let argv: Cow<'_, [Vec<u8>]> = match t.execve_argv_limit_bytes {
            Some(limit) => limit_argv(args, limit),
            None => Cow::Borrowed(args),
        };
        if t.execve_argv.contains(&ArgvForm::Array) {
            key!(sink, "ARGV");
            sink.begin_list();
            for a in argv.iter() {
                sink.string(a);
            }
            sink.end_list();
        }
        if t.execve_argv.contains(&ArgvForm::String) {
            key!(sink, "ARGV_STR");
            sink.string(&argv.join(&b' '));
        }
        if let Some(block) = &self.plan.environ {
            key!(sink, "ENV");
            sink.begin_map();
            for (k, v) in self.env.select(block) {
                sink.key(String::from_utf8_lossy(k).as_bytes());
                sink.string(v);
            }
            sink.end_map();
        }
    }
}

impl Extra for Members<'_> {
    fn members<S: Sink>(&self, index: usize, rec: &Record, sink: &mut S) {
        let plan = self.plan;
        if let (Some(id), true) = (plan.proc, plan.syscall_index == Some(index)) {
            self.syscall(sink, id);
        }
        if let (Some(args), true) = (&plan.args, plan.execve_index == Some(index)) {
            self.execve(sink, args);
        }
        for &(_, j, id) in plan.pids.iter().filter(|p| p.0 == index) {
            let Some(fld) = rec.fields().get(j) else {
                continue;
            };
            let name = rec.field_name(fld);
            let verbose = name != b"ppid" || self.config.enrich.ppid_verbose;
            sink.key(&self.keys.field(name));
            self.proc_map(sink, id, verbose, false);
        }
    }

    fn execve_argv(&self) -> bool {
        self.plan.args.is_none() || self.config.transform.execve_argv.is_empty()
    }
    fn translation(&self) -> Translation {
        self.config.translate.translation()
    }
}
