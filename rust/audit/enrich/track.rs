//! Process tracking: turns each event's facts into process table updates
//! (execs, forks, exits, first sightings, pid reuse), seeds the table from
//! /proc, and applies process labels (by key, exe, argv, script; propagation).

use std::cell::RefCell;
use std::collections::{BTreeSet, HashMap};
use std::num::NonZeroUsize;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use lru::LruCache;

use super::cgroup::{self, CgroupInfo};
use super::config::LabelProcess;
use super::facts::{normalize, Facts};
use super::matchers::LabelMatcher;
use super::procfs;
use super::table::{Kind, Origin, ProcId, Process, ProcessTable};
use crate::audit::records::Event;

/// Compiled `[label-process]`.
#[derive(Debug, Clone, Default)]
pub struct Labeler {
    pub keys: BTreeSet<String>,
    pub exe: Option<LabelMatcher>,
    pub unexe: Option<LabelMatcher>,
    pub argv: Option<LabelMatcher>,
    pub unargv: Option<LabelMatcher>,
    pub script: Option<LabelMatcher>,
    pub unscript: Option<LabelMatcher>,
    pub argv_count: usize,
    pub argv_bytes: usize,
    pub propagate: BTreeSet<String>,
}

fn apply(
    add: &Option<LabelMatcher>,
    remove: &Option<LabelMatcher>,
    text: &[u8],
    labels: &mut BTreeSet<String>,
) {
    if let Some(m) = add {
        labels.extend(m.matches(text).map(str::to_string));
    }
    if let Some(m) = remove {
        for l in m.matches(text) {
            labels.remove(l);
        }
    }
}

impl Labeler {
    pub fn new(c: &LabelProcess) -> Result<Labeler, String> {
        Ok(Labeler {
            keys: c.label_keys.clone(),
            exe: LabelMatcher::new(&c.label_exe)?,
            unexe: LabelMatcher::new(&c.unlabel_exe)?,
            argv: LabelMatcher::new(&c.label_argv)?,
            unargv: LabelMatcher::new(&c.unlabel_argv)?,
            script: LabelMatcher::new(&c.label_script)?,
            unscript: LabelMatcher::new(&c.unlabel_script)?,
            argv_count: c.label_argv_count,
            argv_bytes: c.label_argv_bytes,
            propagate: c.propagate_labels.clone(),
        })
    }

    /// `label-keys`: the event's keys that are labels.
    fn label_keys(&self, f: &Facts, labels: &mut BTreeSet<String>) {
        if self.keys.is_empty() {
            return;
        }
        for k in f.keys() {
            if let Ok(k) = std::str::from_utf8(k) {
                if self.keys.contains(k) && !labels.contains(k) {
                    labels.insert(k.to_string());
                }
            }
        }
    }

    fn inherit(&self, from: Option<&Process>, labels: &mut BTreeSet<String>) {
        if let Some(p) = from {
            labels.extend(p.labels.intersection(&self.propagate).cloned());
        }
    }

    /// The command line as label-argv sees it: arguments joined by spaces,
    /// at most `argv_count` of them and fewer than `argv_bytes` bytes.
    fn argv_text(&self, args: &[Vec<u8>]) -> Vec<u8> {
        let mut buf = Vec::new();
        for a in args.iter().take(self.argv_count) {
            let sep = usize::from(!buf.is_empty());
            if buf.len() + sep + a.len() >= self.argv_bytes {
                break;
            }
            if sep == 1 {
                buf.push(b' ');
            }
            buf.extend_from_slice(a);
        }
        buf
    }
}

/// What tracking found for one event.
#[derive(Debug, Default, Clone)]
pub struct Seen {
    /// The process the event belongs to.
    pub proc: Option<ProcId>,
    /// The event made a new table entry (an exec or a first sighting).
    pub first: bool,
    /// The script an exec runs.
    pub script: Option<Vec<u8>>,
}

#[derive(Debug)]
pub struct Tracker {
    pub table: ProcessTable,
    pub labeler: Labeler,
    pub procfs: bool,
    pub track_forks: bool,
    pub want_script: bool,
    pub want_cgroup: bool,
    /// Pids whose /proc/PID/stat was found missing (see [`Gone`]).
    pub(crate) gone: RefCell<Gone>,
    /// This machine's (device, inode) of recent executables.
    pub(crate) exe_ids: RefCell<ExeIds>,
}

/// Pids whose /proc/PID/stat was found missing, with the wall-clock time of
/// the look-up. The process that held the pid then had exited; any later
/// holder started after that time. So /proc has nothing about the pid's
/// process for the rest of the event that looked, nor for any event stamped
/// before that time ([`Gone::MARGIN_MS`] earlier: the kernel stamps records
/// with a coarse clock): a log's events of processes of the past, and an
/// exited process's events, ask once, not once per event. The same holds for
/// a pid missing from a listing of /proc (audit's pid fields are process ids,
/// which /proc lists): events stamped well before the listing (a log's) take
/// a listing, read again each second, instead of a look-up per new pid.
#[derive(Debug, Default)]
pub(crate) struct Gone {
    /// pid -> (ms since the epoch of the look-up, the event that looked).
    seen: HashMap<u32, (u64, u64)>,
    event: u64,
    /// The current event's time stamp (ms since the epoch); 0 for questions
    /// about now.
    event_ms: u64,
    /// The pids /proc listed (sorted), and when (ms since the epoch).
    listed: Option<(u64, Vec<u32>)>,
}

fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64)
}

impl Gone {
    const MARGIN_MS: u64 = 1_000;
    /// Entries kept before all are forgotten (each is only a saved look-up).
    const LIMIT: usize = 1 << 16;

    fn start(&mut self, event_ms: u64, procfs: bool) {
        self.event += 1;
        self.event_ms = event_ms;
        if !procfs || event_ms == 0 {
            return;
        }
        let now = now_ms();
        if self.before(now)
            && self
                .listed
                .as_ref()
                .is_none_or(|&(at, _)| now.saturating_sub(at) >= Gone::MARGIN_MS)
        {
            let mut pids = procfs::pids();
            pids.sort_unstable();
            self.listed = Some((now, pids));
        }
    }

    /// The current event was stamped well before `at`.
    fn before(&self, at: u64) -> bool {
        self.event_ms > 0 && self.event_ms.saturating_add(Gone::MARGIN_MS) < at
    }

    fn contains(&self, pid: u32) -> bool {
        self.seen
            .get(&pid)
            .is_some_and(|&(at, event)| event == self.event || self.before(at))
            || self
                .listed
                .as_ref()
                .is_some_and(|(at, pids)| self.before(*at) && pids.binary_search(&pid).is_err())
    }

    fn insert(&mut self, pid: u32) {
        if self.seen.len() >= Gone::LIMIT {
            self.seen.clear();
        }
        self.seen.insert(pid, (now_ms(), self.event));
    }
}

/// The (device, inode) of executables on this machine by path, each for
/// [`ExeIds::FRESH`] (`None`: no such file): telling a script from its
/// interpreter compares the exec's file with the exe, and execs run the same
/// few interpreters over and over.
#[derive(Debug)]
pub(crate) struct ExeIds(LruCache<Vec<u8>, (Option<FileId>, Instant)>);

/// A file's (device, inode).
type FileId = (u64, u64);

impl Default for ExeIds {
    fn default() -> ExeIds {
        ExeIds(LruCache::new(
            NonZeroUsize::new(256).unwrap_or(NonZeroUsize::MIN),
        ))
    }
}

impl ExeIds {
    /// How long an answer is used.
    const FRESH: Duration = Duration::from_secs(1);

    fn get(&mut self, exe: &[u8]) -> Option<FileId> {
        use std::os::unix::ffi::OsStrExt;
        use std::os::unix::fs::MetadataExt;
        let now = Instant::now();
        if let Some(&(id, at)) = self.0.get(exe) {
            if now.duration_since(at) < ExeIds::FRESH {
                return id;
            }
        }
        let id = std::fs::metadata(std::ffi::OsStr::from_bytes(exe))
            .ok()
            .map(|m| (m.dev(), m.ino()));
        self.0.put(exe.to_vec(), (id, now));
        id
    }
}

impl Tracker {
    /// A new event stamped `event_ms` (ms since the epoch), or a question
    /// about now (0): /proc may have changed.
    pub(crate) fn new_event(&mut self, event_ms: u64) {
        self.gone.get_mut().start(event_ms, self.procfs);
    }

    /// /proc/PID/stat told us, during this event or after the event's time,
    /// that `pid`'s process has gone.
    pub(crate) fn is_gone(&self, pid: u32) -> bool {
        self.gone.borrow().contains(pid)
    }

    fn note_gone<T>(&self, pid: u32, found: Option<T>) -> Option<T> {
        if found.is_none() {
            self.gone.borrow_mut().insert(pid);
        }
        found
    }

    fn proc_info(&self, pid: u32) -> Option<procfs::ProcInfo> {
        if self.is_gone(pid) {
            return None;
        }
        self.note_gone(pid, procfs::info(pid))
    }

    fn proc_start_ms(&self, pid: u32) -> Option<u64> {
        if self.is_gone(pid) {
            return None;
        }
        self.note_gone(pid, procfs::start_ms(pid))
    }

    fn cgroup_of(&self, pid: u32) -> Option<Arc<CgroupInfo>> {
        if !(self.procfs && self.want_cgroup) || self.is_gone(pid) {
            return None;
        }
        let info = cgroup::parse_file(&procfs::cgroup(pid)?);
        (info.container.is_some() || !info.services.is_empty() || info.unit.is_some())
            .then(|| Arc::new(info))
    }

    fn entry_from_proc(&self, info: procfs::ProcInfo) -> Process {
        let mut p = Process::new(
            info.pid,
            info.ppid,
            Origin::Observed {
                start_ms: info.start_ms,
            },
            Kind::Seen,
        );
        p.start_ms = Some(info.start_ms);
        p.comm = Some(info.comm);
        p.cgroup = self.cgroup_of(info.pid);
        if let Some(exe) = &info.exe {
            apply(&self.labeler.exe, &self.labeler.unexe, exe, &mut p.labels);
        }
        p.exe = info.exe;
        p
    }

    /// Fill the table with every running process (keeping entries that still
    /// match a running process by start time, e.g. from a state file).
    pub fn seed(&mut self) {
        let mut pids = procfs::pids();
        pids.sort_unstable();
        for pid in pids {
            let Some(info) = procfs::info(pid) else {
                continue;
            };
            if let Some(id) = self.table.current(pid) {
                let p = self.table.get(id);
                if p.is_some_and(|p| p.start_ms.is_none_or(|s| s == info.start_ms)) {
                    continue;
                }
            }
            let p = self.entry_from_proc(info);
            self.table.insert(p);
        }
        self.table.link_parents();
        // Parents before children, for label propagation.
        let mut order: Vec<(u64, ProcId)> = self
            .table
            .running()
            .filter_map(|(_, id)| Some((self.table.get(id)?.start_ms.unwrap_or(0), id)))
            .collect();
        order.sort_unstable();
        for (_, id) in order {
            let inherited = {
                let parent = self
                    .table
                    .get(id)
                    .and_then(|p| p.parent)
                    .and_then(|pid| self.table.get(pid));
                let mut l = BTreeSet::new();
                if parent.is_some_and(|p| p.pid != 1) {
                    self.labeler.inherit(parent, &mut l);
                }
                l
            };
            if let Some(p) = self.table.get_mut(id) {
                p.labels.extend(inherited);
            }
        }
    }

    /// The process now holding `pid`: from the table, else (live) from /proc,
    /// with its not yet known ancestors (bounded).
    pub fn lookup(&mut self, pid: u32) -> Option<ProcId> {
        if pid == 0 {
            return None;
        }
        if let Some(id) = self.table.current(pid) {
            return Some(id);
        }
        if !self.procfs {
            return None;
        }
        let mut chain = Vec::new();
        let mut at = pid;
        let mut parent = None;
        while chain.len() < 64 {
            let Some(info) = self.proc_info(at) else {
                break;
            };
            let ppid = info.ppid;
            chain.push(info);
            if ppid == 0 {
                break;
            }
            if let Some(id) = self.table.current(ppid) {
                parent = Some(id);
                break;
            }
            at = ppid;
        }
        let mut last = None;
        for info in chain.into_iter().rev() {
            let mut p = self.entry_from_proc(info);
            let parent_proc = parent.and_then(|id| self.table.get(id));
            p.parent = parent;
            if parent_proc.is_some_and(|pp| pp.pid != 1) {
                self.labeler.inherit(parent_proc, &mut p.labels);
            }
            let id = self.table.insert(p);
            parent = Some(id);
            last = Some(id);
        }
        last
    }

    /// Is entry `id` (holding `pid`) the process of an event with `ppid`?
    fn same_process(&self, id: ProcId, ppid: u32, parent_is_init: bool, is_exec: bool) -> bool {
        let Some(p) = self.table.get(id) else {
            return false;
        };
        let ppid_ok = p.ppid == ppid || parent_is_init;
        match (self.procfs, p.start_ms) {
            // A reused pid whose new holder has the same parent (a shell's
            // children) looks the same by ppid: compare start times on execs and
            // when the parent changed.
            (true, Some(start)) if is_exec || !ppid_ok => {
                self.proc_start_ms(p.pid).is_none_or(|now| now == start)
            }
            _ => ppid_ok,
        }
    }

    /// Update the table from one event.
    pub fn observe(&mut self, ev: &Event, f: &Facts, args: Option<&[Vec<u8>]>) -> Seen {
        let mut seen = Seen::default();
        if f.syscall_index.is_none() || f.pid == 0 {
            return seen;
        }
        let (pid, ppid, is_exec) = (f.pid, f.ppid, f.is_exec());
        let parent_now = self.lookup(ppid);
        // Orphans are re-parented to init (pid 1 of their namespace).
        let parent_is_init = ppid == 1
            || parent_now
                .and_then(|id| self.table.get(id))
                .is_some_and(|p| p.pid == 1);
        let same = self
            .table
            .current(pid)
            .filter(|&id| self.same_process(id, ppid, parent_is_init, is_exec));
        let exe_changed = same.and_then(|id| self.table.get(id)).is_some_and(|p| {
            p.exe.is_some() && f.exe.is_some() && p.exe.as_deref() != f.exe.as_deref()
        });
        let id = if is_exec || same.is_none() || exe_changed {
            seen.first = true;
            self.new_process(ev, f, same, parent_now, args, &mut seen)
        } else {
            let id = same.unwrap_or_default();
            if let Some(p) = self.table.get_mut(id) {
                self.labeler.label_keys(f, &mut p.labels);
            }
            id
        };
        self.table.touch(id);
        seen.proc = Some(id);
        if let (true, Some(child)) = (self.track_forks, f.forked_child()) {
            self.fork(ev, id, child);
        }
        seen
    }

    fn new_process(
        &mut self,
        ev: &Event,
        f: &Facts,
        previous: Option<ProcId>,
        parent_now: Option<ProcId>,
        args: Option<&[Vec<u8>]>,
        seen: &mut Seen,
    ) -> ProcId {
        let is_exec = f.is_exec();
        let prev = previous.and_then(|id| self.table.get(id));
        // Who spawned it does not change when it execs or is re-parented.
        let parent = prev.and_then(|p| p.parent).or(parent_now);
        let parent_proc = parent.and_then(|id| self.table.get(id));
        let mut p = Process::new(
            f.pid,
            f.ppid,
            Origin::event(ev.timestamp, ev.serial),
            if is_exec { Kind::Exec } else { Kind::Seen },
        );
        p.parent = parent;
        p.previous_self = previous;
        p.comm = f.comm.as_deref().map(<[u8]>::to_vec);
        p.exe = f.exe.as_deref().map(<[u8]>::to_vec);
        if parent_proc.is_some_and(|pp| pp.pid != 1) {
            self.labeler.inherit(parent_proc, &mut p.labels);
        }
        if is_exec {
            self.labeler.inherit(prev, &mut p.labels);
        }
        self.labeler.label_keys(f, &mut p.labels);
        if is_exec {
            if let Some(exe) = &f.exe {
                apply(&self.labeler.exe, &self.labeler.unexe, exe, &mut p.labels);
            }
            if let (Some(args), true) = (
                args,
                self.labeler.argv.is_some() || self.labeler.unargv.is_some(),
            ) {
                let text = self.labeler.argv_text(args);
                apply(
                    &self.labeler.argv,
                    &self.labeler.unargv,
                    &text,
                    &mut p.labels,
                );
            }
            if self.want_script || self.labeler.script.is_some() {
                seen.script = self.script(f);
                if let Some(s) = &seen.script {
                    apply(
                        &self.labeler.script,
                        &self.labeler.unscript,
                        s,
                        &mut p.labels,
                    );
                }
            }
        }
        p.start_ms = prev.and_then(|p| p.start_ms).or_else(|| {
            if self.procfs {
                self.proc_start_ms(f.pid)
            } else {
                None
            }
        });
        p.cgroup = self
            .cgroup_of(f.pid)
            .or_else(|| prev.and_then(|p| p.cgroup.clone()))
            .or_else(|| parent_proc.and_then(|p| p.cgroup.clone()));
        self.table.insert(p)
    }

    fn fork(&mut self, ev: &Event, parent: ProcId, child: u32) {
        let Some(pp) = self.table.get(parent) else {
            return;
        };
        // The parent's clone record is written when clone returns in the parent;
        // the child may have exec'd (and been recorded) before that. An entry for
        // the child that started at or after this clone is that child.
        let clone_ms = ev.timestamp.sec * 1000 + u64::from(ev.timestamp.msec);
        let known = self.table.current(child).filter(|&id| {
            self.table.get(id).is_some_and(|c| {
                let since = match c.origin {
                    Origin::Event { sec, msec, .. } => sec * 1000 + u64::from(msec),
                    Origin::Observed { start_ms } => start_ms,
                };
                !c.gone && c.ppid == pp.pid && since >= clone_ms
            })
        });
        if let Some(id) = known {
            if let Some(c) = self.table.get_mut(id) {
                c.parent.get_or_insert(parent);
            }
            return;
        }
        let mut p = Process::new(
            child,
            pp.pid,
            Origin::event(ev.timestamp, ev.serial),
            Kind::Fork,
        );
        p.parent = Some(parent);
        p.comm = pp.comm.clone();
        p.exe = pp.exe.clone();
        p.cgroup = pp.cgroup.clone();
        if pp.pid != 1 {
            self.labeler.inherit(Some(pp), &mut p.labels);
        }
        p.start_ms = if self.procfs {
            self.proc_start_ms(child)
        } else {
            None
        };
        self.table.insert(p);
    }

    /// The script an exec runs: its first PATH item, when that is not the
    /// executable itself (same device and inode, or same normalized name).
    /// Like laurel, the executable's identity comes from the process's view of
    /// the file system (its /proc/PID/root, or its parent's); when both have
    /// exited or without /proc, from this machine's.
    fn script(&self, f: &Facts) -> Option<Vec<u8>> {
        let (name, id) = f.path0.as_ref()?;
        let exe = f.exe.as_ref()?;
        let name = normalize(f.cwd.as_deref().unwrap_or(b"/"), name);
        if name == **exe {
            return None;
        }
        use std::os::unix::fs::MetadataExt;
        let here = || self.exe_ids.borrow_mut().get(exe);
        let (exe_dev, exe_ino) = if self.procfs {
            // Both may have exited by now: then this machine's view.
            let within = |pid: u32| {
                (!self.is_gone(pid))
                    .then(|| procfs::metadata_in(pid, exe))
                    .flatten()
                    .map(|m| (m.dev(), m.ino()))
            };
            within(f.pid).or_else(|| within(f.ppid)).or_else(here)
        } else {
            here()
        }?;
        let (dev, ino) = (*id)?;
        // Unnamed devices (overlay mounts of containers) give no usable dev.
        if libc::major(dev) == 0 && libc::major(exe_dev) != 0 {
            return None;
        }
        ((dev, ino) != (exe_dev, exe_ino)).then_some(name)
    }
}

#[cfg(test)]
mod gone_tests {
    use super::*;

    #[test]
    fn gone_for_the_event_and_for_events_stamped_before() {
        // Above the kernel's largest pid_max: never in /proc.
        let missing = 1 << 23;
        let me = std::process::id();
        let mut g = Gone::default();
        let old = now_ms() - 60_000;
        g.start(old, true);
        assert!(g.contains(missing), "not listed, event long past");
        assert!(!g.contains(me));
        g.start(now_ms(), true);
        assert!(!g.contains(missing), "an event of now asks /proc");
        g.insert(missing);
        assert!(g.contains(missing), "for the rest of the event");
        g.start(0, true);
        assert!(!g.contains(missing), "a question about now asks again");
        g.start(old, false);
        g.listed = None;
        assert!(g.contains(missing), "the look-up came after the event");
        g.seen.clear();
        assert!(!g.contains(missing), "without /proc: no listing");
    }
}
