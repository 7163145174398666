//! Sinks that read the events back from the daemon's own log (`read_log = true`).
//!
//! For such a sink the writer does nothing per event: no grouping, no
//! encoding, no hand-over to another thread. A reader thread at the sink's
//! `nice` reads what the writer appended (from the page cache), groups the
//! lines into events as the writer would ([`LineGroups`]; no EOE is logged,
//! so an event without a PROCTITLE record completes when it is older than
//! the end-of-event timeout in stream time, or when the log is idle that
//! long) and hands them to the sink, waiting for room rather than dropping:
//! the log is the queue in front of the sink's spool, so under load the
//! work waits for idle CPU time instead of taking it from the audited
//! programs.
//!
//! Rotation: the writer hands every file it opens to the readers
//! ([`LogFeed::opened`]), which keep the file open, so a file renamed or
//! even deleted by rotation is still read to its end before the next one.
//!
//! Restarts: once everything handed to the sink is in its spool, the reader
//! notes in `spool_dir/log.cursor` the file (device, inode) and offset from
//! which nothing is missed (the first line of the oldest event still
//! open). The next start looks for that file among the log's generations
//! (`audit.log`, `audit.log.1`, ...) and reads on from there, so a daemon
//! killed with SIGKILL loses nothing that reached the log; events between
//! the cursor and the kill are sent again (same ids). Without a cursor the
//! reader starts at the end of the current log; when the cursor's file has
//! been rotated away it starts at the oldest generation left (and says so).

use std::collections::VecDeque;
use std::fs::File;
use std::os::fd::AsRawFd;
use std::os::unix::fs::{FileExt, MetadataExt};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, Weak};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use super::linegroups::LineGroups;
use super::syslog;
use super::writer::numbered;
use crate::audit::records::parse::{find_byte, log_line_head, type_from_name};
use crate::audit::sinks::{SinkHandle, SpoolConfig};
use crate::error::{Error, Result};

/// How often the reader looks for more when it has read everything.
const POLL: Duration = Duration::from_millis(100);
/// Bytes read at once.
const CHUNK: usize = 1 << 20;
/// A line longer than this without a line end is taken as it is.
const MAX_CARRY: usize = 1 << 20;
/// How long the reader waits for the sink to spool what it handed over.
const SPOOL_WAIT: Duration = Duration::from_secs(5);
/// Log generations looked at for the cursor's file at most.
const MAX_GENERATIONS: u32 = 100_000;

/// A file's device and inode.
type FileId = (u64, u64);

fn file_id(f: &File) -> Option<FileId> {
    f.metadata().ok().map(|m| (m.dev(), m.ino()))
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// One log file for a reader, to read from `start`.
#[derive(Debug, Clone)]
struct LogFile {
    file: Arc<File>,
    id: FileId,
    start: u64,
}

/// The log files the writer opens, handed to every reader.
#[derive(Debug, Default)]
pub struct LogFeed {
    state: Mutex<FeedState>,
}

#[derive(Debug, Default)]
struct FeedState {
    /// The writer's file (`start` unused).
    current: Option<LogFile>,
    readers: Vec<Weak<Subscription>>,
}

/// A reader's files still to read, oldest first.
#[derive(Debug, Default)]
struct Subscription {
    files: Mutex<Files>,
}

#[derive(Debug, Default)]
struct Files {
    queue: VecDeque<LogFile>,
    /// The newest file queued so far: the writer reopening it is no new file.
    newest: Option<FileId>,
}

impl Files {
    fn push(&mut self, f: LogFile) {
        if self.newest != Some(f.id) {
            self.newest = Some(f.id);
            self.queue.push_back(f);
        }
    }
}

impl LogFeed {
    /// The writer opened (or reopened) its log file: every reader reads it
    /// after the ones before.
    pub fn opened(&self, file: &File) {
        // The writer's file is open for appending only: the readers get
        // their own description of it, readable even once it is renamed
        // or deleted.
        let file = match File::open(format!("/proc/self/fd/{}", file.as_raw_fd())) {
            Ok(f) => Arc::new(f),
            Err(e) => {
                syslog::err(&format!("sinks reading the log cannot read it: {e}"));
                return;
            }
        };
        let Some(id) = file_id(&file) else {
            return;
        };
        let opened = LogFile { file, id, start: 0 };
        let mut st = lock(&self.state);
        st.readers.retain(|w| match w.upgrade() {
            Some(s) => {
                lock(&s.files).push(opened.clone());
                true
            }
            None => false,
        });
        st.current = Some(opened);
    }

    /// The writer closed its log (suspended): a reader that starts now
    /// starts with the next file it opens.
    pub fn closed(&self) {
        lock(&self.state).current = None;
    }

    /// A new reader of `history` (older files, oldest first), then of the
    /// current log: from its start after a history, else from its end.
    fn subscribe(&self, history: Vec<LogFile>) -> Arc<Subscription> {
        let sub = Arc::new(Subscription::default());
        let mut st = lock(&self.state);
        {
            let mut files = lock(&sub.files);
            let fresh = history.is_empty();
            for f in history {
                files.push(f);
            }
            if let Some(cur) = &st.current {
                let start = match fresh {
                    true => cur.file.metadata().map(|m| m.len()).unwrap_or(0),
                    false => 0,
                };
                files.push(LogFile {
                    start,
                    ..cur.clone()
                });
            }
        }
        st.readers.push(Arc::downgrade(&sub));
        sub
    }
}

/// What a sink reading the log needs from the daemon.
#[derive(Debug, Clone)]
pub struct TailSettings {
    pub feed: Arc<LogFeed>,
    pub log_file: PathBuf,
    pub timeout_ms: u64,
    /// The node name events carry when their lines have none.
    pub node: String,
}

/// A running reader; [`stop`](LogTail::stop) (or dropping it) reads to the
/// end of what the writer wrote, hands it over, notes the cursor, and ends.
#[derive(Debug)]
pub struct LogTail {
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl LogTail {
    /// Start reading for `sink` (`spool`: its settings; the cursor goes in
    /// its spool directory; the reader runs at its `nice`).
    pub fn start(
        sink: Arc<SinkHandle>,
        name: &str,
        spool: &SpoolConfig,
        s: &TailSettings,
    ) -> Result<LogTail> {
        let cursor = spool.spool_dir.join("log.cursor");
        let nice = spool.nice;
        let history = history(&s.log_file, &cursor, name);
        let sub = s.feed.subscribe(history);
        let stop = Arc::new(AtomicBool::new(false));
        let mut reader = Reader {
            sub,
            sink,
            cursor,
            groups: LineGroups::new(s.timeout_ms, s.node.clone()),
            timeout: Duration::from_millis(s.timeout_ms),
            hold: Duration::from_secs(spool.read_log_hold),
            seen_size: 0,
            unread_since: None,
            buf: Vec::new(),
            carry: Vec::new(),
            carry_at: 0,
            cur: None,
            base: 0,
            saved: None,
            last_data: Instant::now(),
        };
        let flag = stop.clone();
        let thread = std::thread::Builder::new()
            .name(format!("sinklog-{name}"))
            .spawn(move || {
                crate::audit::affinity::set_this_thread_nice(nice);
                reader.run(&flag);
            })
            .map_err(|e| Error::io("start a sink's log reader", e))?;
        Ok(LogTail {
            stop,
            thread: Some(thread),
        })
    }

    pub fn stop(&mut self) {
        self.stop.store(true, Ordering::Release);
        if let Some(t) = self.thread.take() {
            t.thread().unpark();
            let _ = t.join();
        }
    }
}

impl Drop for LogTail {
    fn drop(&mut self) {
        self.stop();
    }
}

/// `dev ino offset` from a cursor file.
fn read_cursor(path: &Path) -> Option<(FileId, u64)> {
    let text = std::fs::read_to_string(path).ok()?;
    let mut it = text.split_ascii_whitespace().map(|w| w.parse::<u64>().ok());
    Some(((it.next()??, it.next()??), it.next()??))
}

/// The files to read before the current log, from the cursor's.
fn history(log: &Path, cursor: &Path, name: &str) -> Vec<LogFile> {
    let Some((id, offset)) = read_cursor(cursor) else {
        return Vec::new();
    };
    // Newest first: the log, then log.1, log.2, ...
    let mut gens = Vec::new();
    for i in 0..MAX_GENERATIONS {
        let path = match i {
            0 => log.to_path_buf(),
            n => numbered(log, n),
        };
        match File::open(&path) {
            Ok(f) => {
                if let Some(fid) = file_id(&f) {
                    gens.push((Arc::new(f), fid));
                    if fid == id {
                        break;
                    }
                }
            }
            Err(_) if i == 0 => {}
            Err(_) => break,
        }
    }
    let found = gens.iter().position(|g| g.1 == id);
    if found.is_none() {
        syslog::warning(&format!(
            "sink {name}: the log file of {} is gone (rotated away?); reading from the oldest log left",
            cursor.display()
        ));
    }
    let upto = found.unwrap_or(gens.len().saturating_sub(1));
    gens.truncate(upto + 1);
    gens.into_iter()
        .rev()
        .map(|(file, fid)| {
            let len = file.metadata().map(|m| m.len()).unwrap_or(0);
            let start = match fid == id && offset <= len {
                true => offset,
                false => 0,
            };
            LogFile {
                file,
                id: fid,
                start,
            }
        })
        .collect()
}

/// `[node=N ]type=T msg=...`: the type (0 when unknown) and the payload
/// from `msg=` on.
fn split_line(line: &[u8]) -> Option<(u16, &[u8])> {
    let (_, name, payload) = log_line_head(line).ok()?;
    Some((type_from_name(name).unwrap_or(0), &line[payload..]))
}

fn push_line(groups: &mut LineGroups, at: u64, line: &[u8]) {
    if line.is_empty() {
        return;
    }
    let (t, payload) = split_line(line).unwrap_or((0, line));
    groups.push_at(at, t, payload, Some(line));
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Look {
    Read,
    Hold,
    CaughtUp,
}

struct Reader {
    sub: Arc<Subscription>,
    sink: Arc<SinkHandle>,
    cursor: PathBuf,
    groups: LineGroups,
    timeout: Duration,
    /// `read_log_hold`: how long to wait while the log grows.
    hold: Duration,
    /// The current file's size at the last look, and since when some of
    /// it waits unread.
    seen_size: u64,
    unread_since: Option<Instant>,
    buf: Vec<u8>,
    /// The start of a line not ended yet, and where it starts.
    carry: Vec<u8>,
    carry_at: u64,
    /// The file being read, and the offset read up to.
    cur: Option<(Arc<File>, FileId, u64)>,
    /// Where the current file starts in the stream of everything read
    /// (positions only grow, from file to file).
    base: u64,
    saved: Option<(FileId, u64)>,
    last_data: Instant,
}

impl Reader {
    fn run(&mut self, stop: &AtomicBool) {
        loop {
            // Read before looking: what the writer wrote before the stop is on file.
            let stopping = stop.load(Ordering::Acquire);
            self.save();
            let look = match stopping {
                true => Look::Read,
                false => self.look(),
            };
            if look == Look::Hold {
                std::thread::park_timeout(POLL);
                continue;
            }
            if look == Look::Read && self.read_chunk() > 0 {
                self.last_data = Instant::now();
                continue;
            }
            if self.next_file() {
                continue;
            }
            if stopping || self.last_data.elapsed() >= self.timeout {
                self.groups.flush();
                self.submit();
            }
            if stopping {
                break;
            }
            std::thread::park_timeout(POLL);
        }
        self.save();
    }

    /// Whether to read now. It waits while the log grew since the last
    /// look and what waits unread has waited less than the hold; once the
    /// hold is over it reads until it has caught up.
    fn look(&mut self) -> Look {
        let Some((file, _, off)) = &self.cur else {
            return Look::Read;
        };
        if self.hold.is_zero() {
            return Look::Read;
        }
        let size = file.metadata().map(|m| m.len()).unwrap_or(0);
        let grew = size != self.seen_size;
        self.seen_size = size;
        if size <= *off {
            // What the writer appends from now on waits for the next look.
            self.unread_since = None;
            return Look::CaughtUp;
        }
        let since = *self.unread_since.get_or_insert_with(Instant::now);
        match grew && since.elapsed() < self.hold {
            true => Look::Hold,
            false => Look::Read,
        }
    }

    /// Read and group what follows in the current file; bytes read.
    fn read_chunk(&mut self) -> usize {
        let Some((file, _, off)) = self.cur.as_mut() else {
            return 0;
        };
        self.buf.resize(CHUNK, 0);
        let n = match file.read_at(&mut self.buf, *off) {
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => return 0,
            Err(e) => {
                syslog::err(&format!("a sink reading the log: {e}"));
                return 0;
            }
        };
        if n == 0 {
            // Cut shorter behind the writer's back (a copytruncate rotation):
            // what it appends now starts at 0.
            if !file.metadata().is_ok_and(|m| m.len() < *off) {
                return 0;
            }
            syslog::warning(
                "a sink reading the log: the log was truncated; reading it from its start",
            );
            self.base += *off;
            *off = 0;
            self.carry.clear();
            self.seen_size = 0;
            return self.read_chunk();
        }
        let start = self.base + *off;
        *off += n as u64;
        let data = &self.buf[..n];
        let mut i = 0;
        if !self.carry.is_empty() {
            match find_byte(data, b'\n') {
                Some(e) => {
                    self.carry.extend_from_slice(&data[..e]);
                    push_line(&mut self.groups, self.carry_at, &self.carry);
                    self.carry.clear();
                    i = e + 1;
                }
                None => {
                    self.carry.extend_from_slice(data);
                    i = n;
                }
            }
        }
        while let Some(e) = find_byte(&data[i..], b'\n') {
            push_line(&mut self.groups, start + i as u64, &data[i..i + e]);
            i += e + 1;
        }
        if i < n {
            self.carry_at = start + i as u64;
            self.carry.extend_from_slice(&data[i..]);
        }
        if self.carry.len() > MAX_CARRY {
            self.end_carry();
        }
        self.submit();
        n
    }

    fn end_carry(&mut self) {
        if !self.carry.is_empty() {
            push_line(&mut self.groups, self.carry_at, &self.carry);
            self.carry.clear();
        }
    }

    /// Hand the completed events to the sink and wait until its intake
    /// has spooled them (moments: it takes everything queued at once), so
    /// the cursor can pass them right away; a kill in between sends them
    /// again.
    fn submit(&mut self) {
        let done = self.groups.take();
        if done.is_empty() {
            return;
        }
        self.sink.submit_encoded_waiting(&done);
        self.sink.wait_spooled(SPOOL_WAIT);
    }

    /// At the end of the current file: when a newer one follows, the
    /// writer is done with this one; read what is left and go on.
    fn next_file(&mut self) -> bool {
        let Some(next) = lock(&self.sub.files).queue.pop_front() else {
            return false;
        };
        while self.read_chunk() > 0 {}
        self.end_carry();
        if let Some((_, _, off)) = &self.cur {
            self.base += off;
        }
        self.cur = Some((next.file, next.id, next.start));
        true
    }

    /// Where to start again to miss nothing, when it is in the current file.
    fn resume_point(&self) -> Option<(FileId, u64)> {
        let (_, id, off) = self.cur.as_ref()?;
        let mut at = self.base + off;
        if !self.carry.is_empty() {
            at = at.min(self.carry_at);
        }
        if let Some(open) = self.groups.oldest_open() {
            at = at.min(open);
        }
        (at >= self.base).then(|| (*id, at - self.base))
    }

    /// Note the resume point once the sink has spooled everything before it.
    fn save(&mut self) {
        let Some(point) = self.resume_point() else {
            return;
        };
        if self.saved == Some(point) || !self.sink.all_spooled() {
            return;
        }
        let ((dev, ino), off) = point;
        let tmp = self.cursor.with_extension("cursor.new");
        let written = std::fs::write(&tmp, format!("{dev} {ino} {off}\n"))
            .and_then(|()| std::fs::rename(&tmp, &self.cursor));
        // Tried once per point: a failing disk is reported, not at every look.
        self.saved = Some(point);
        if let Err(e) = written {
            syslog::err(&format!("{}: {e}", self.cursor.display()));
        }
    }
}

#[cfg(test)]
#[path = "logtail_tests.rs"]
mod tests;
