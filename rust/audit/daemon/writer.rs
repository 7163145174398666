//! The log file: open with auditd's modes, write, flush as configured, rotate, watch disk space.
//!
//! Mirrors audit-userspace v3.0.9 src/auditd-event.c (`open_audit_log`,
//! `write_to_log`, `check_log_file_size`, `check_space_left`,
//! `rotate_logs`, `shift_logs`, the `do_*_action` functions), except that
//! lines are written a batch at a time with write(2) instead of through stdio.

use std::fs::{File, OpenOptions};
use std::io::{self, Write};
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex};

use super::config::{Action, DaemonConfig, Flush, SizeAction, MEGABYTE};
use super::logtail::LogFeed;
use super::syslog;

/// What the writer counted; shared with `stats`.
#[derive(Debug, Default)]
pub struct WriterCounters {
    pub lines_written: AtomicU64,
    pub bytes_written: AtomicU64,
    /// Lines not written while logging was suspended (by an action or a full disk).
    pub lines_suspended: AtomicU64,
    /// Lines whose write failed (ENOSPC or an I/O error).
    pub lines_failed: AtomicU64,
    pub rotations: AtomicU64,
    pub disk_full_events: AtomicU64,
    pub disk_errors: AtomicU64,
    pub space_left_events: AtomicU64,
    pub admin_space_left_events: AtomicU64,
}

/// The fsync thread of `flush = incremental_async`.
struct AsyncFlush {
    state: Mutex<(Option<Arc<File>>, bool, bool)>,
    cond: Condvar,
}

pub struct LogWriter {
    cfg: DaemonConfig,
    file: Option<Arc<File>>,
    size: u64,
    pub suspended: bool,
    space_ok: bool,
    space_warned: bool,
    admin_space_warned: bool,
    disk_error_warnings: u32,
    last_log: u32,
    since_flush: u32,
    counters: Arc<WriterCounters>,
    async_flush: Option<(Arc<AsyncFlush>, std::thread::JoinHandle<()>)>,
    /// Sinks reading the log back get every file it opens.
    feed: Option<Arc<LogFeed>>,
}

fn mode(cfg: &DaemonConfig, current: bool) -> u32 {
    match (cfg.log_group != 0, current) {
        (true, true) => 0o640,
        (false, true) => 0o600,
        (true, false) => 0o440,
        (false, false) => 0o400,
    }
}

pub(super) fn numbered(path: &Path, n: u32) -> PathBuf {
    let mut s = path.as_os_str().to_owned();
    s.push(format!(".{n}"));
    PathBuf::from(s)
}

impl LogWriter {
    pub fn new(cfg: DaemonConfig, counters: Arc<WriterCounters>) -> io::Result<LogWriter> {
        let mut w = LogWriter {
            cfg,
            file: None,
            size: 0,
            suspended: false,
            space_ok: true,
            space_warned: false,
            admin_space_warned: false,
            disk_error_warnings: 0,
            last_log: 1,
            since_flush: 0,
            counters,
            async_flush: None,
            feed: None,
        };
        if w.cfg.write_logs {
            w.open()?;
            w.check_excess_logs();
        }
        if w.cfg.flush == Flush::IncrementalAsync {
            let shared = Arc::new(AsyncFlush {
                state: Mutex::new((None, false, false)),
                cond: Condvar::new(),
            });
            let s2 = shared.clone();
            let t = std::thread::Builder::new()
                .name("auditlink-fsync".into())
                .spawn(move || async_flush_main(&s2))?;
            w.async_flush = Some((shared, t));
        }
        Ok(w)
    }

    pub fn config(&self) -> &DaemonConfig {
        &self.cfg
    }

    pub fn log_size(&self) -> u64 {
        self.size
    }

    /// `open_audit_log`: O_APPEND|O_NOFOLLOW, O_DSYNC/O_SYNC per `flush`,
    /// created 0600 (0640 with log_group), owned by root:log_group.
    fn open(&mut self) -> io::Result<()> {
        let mut flags = libc::O_NOFOLLOW | libc::O_CLOEXEC;
        match self.cfg.flush {
            Flush::Data => flags |= libc::O_DSYNC,
            Flush::Sync => flags |= libc::O_SYNC,
            _ => {}
        }
        if let Some(dir) = self.cfg.log_file.parent() {
            if !dir.exists() {
                std::fs::DirBuilder::new()
                    .recursive(true)
                    .mode(if self.cfg.log_group != 0 {
                        0o750
                    } else {
                        0o700
                    })
                    .create(dir)?;
            }
        }
        let file = OpenOptions::new()
            .append(true)
            .create(true)
            .mode(mode(&self.cfg, true))
            .custom_flags(flags)
            .open(&self.cfg.log_file)?;
        file.set_permissions(std::fs::Permissions::from_mode(mode(&self.cfg, true)))?;
        // Not fatal when not root (tests as a user): the mode still holds.
        let _ = rustix::fs::fchown(
            &file,
            Some(rustix::fs::Uid::ROOT),
            Some(rustix::fs::Gid::from_raw(self.cfg.log_group)),
        );
        self.size = file.metadata()?.len();
        let file = Arc::new(file);
        if let Some(feed) = &self.feed {
            feed.opened(&file);
        }
        self.file = Some(file);
        Ok(())
    }

    /// Hand this file, and every file opened from now on, to the sinks
    /// that read the log back.
    pub fn feed_to(&mut self, feed: Arc<LogFeed>) {
        if let Some(f) = &self.file {
            feed.opened(f);
        }
        self.feed = Some(feed);
    }

    fn close(&mut self) {
        self.file = None;
        // Nor do the readers' hands keep it (a full disk gets its space back
        // once the file is deleted).
        if let Some(feed) = &self.feed {
            feed.closed();
        }
    }

    /// Write one batch of lines (`lines` holds `count` of them).
    pub fn write(&mut self, lines: &[u8], count: u64) {
        if lines.is_empty() {
            return;
        }
        if !self.cfg.write_logs {
            return;
        }
        if self.suspended || self.file.is_none() {
            self.counters
                .lines_suspended
                .fetch_add(count, Ordering::Relaxed);
            return;
        }
        let res = self
            .file
            .as_ref()
            .map_or(Ok(()), |f| (&**f).write_all(lines));
        match res {
            Ok(()) => {
                self.counters
                    .lines_written
                    .fetch_add(count, Ordering::Relaxed);
                self.counters
                    .bytes_written
                    .fetch_add(lines.len() as u64, Ordering::Relaxed);
                self.size += lines.len() as u64;
                self.disk_error_warnings = 0;
                self.flush_if_due(count);
                self.check_log_file_size();
                self.check_space_left();
            }
            Err(e) => {
                self.counters
                    .lines_failed
                    .fetch_add(count, Ordering::Relaxed);
                // What did get written before the error is at the end of the
                // file; keep the size honest for rotation.
                if let Some(f) = &self.file {
                    if let Ok(m) = f.metadata() {
                        self.size = m.len();
                    }
                }
                if e.raw_os_error() == Some(libc::ENOSPC) {
                    if self.space_ok {
                        self.space_ok = false;
                        self.disk_full_action();
                    }
                } else {
                    self.disk_error_action("write", &e);
                }
            }
        }
    }

    /// `incremental`: fsync every `freq` lines; `incremental_async`: hand the
    /// fsync to the flush thread.
    fn flush_if_due(&mut self, count: u64) {
        if !matches!(self.cfg.flush, Flush::Incremental | Flush::IncrementalAsync) {
            return;
        }
        self.since_flush = self.since_flush.saturating_add(count as u32);
        if self.since_flush < self.cfg.freq.max(1) {
            return;
        }
        self.since_flush = 0;
        let Some(file) = self.file.clone() else {
            return;
        };
        match &self.async_flush {
            Some((shared, _)) => {
                let mut st = shared.state.lock().unwrap_or_else(|p| p.into_inner());
                st.0 = Some(file);
                st.1 = true;
                shared.cond.notify_one();
            }
            None => {
                if let Err(e) = file.sync_all() {
                    self.disk_error_action("fsync", &e);
                }
            }
        }
    }

    /// Make everything written durable (on stop).
    pub fn sync(&self) {
        if let Some(f) = &self.file {
            let _ = f.sync_all();
        }
    }

    fn check_log_file_size(&mut self) {
        if self.cfg.max_log_file == 0 || self.size / MEGABYTE < self.cfg.max_log_file {
            return;
        }
        match self.cfg.max_log_file_action {
            SizeAction::Ignore => {}
            SizeAction::Syslog => syslog::err("Audit daemon log file is larger than max size"),
            SizeAction::Suspend => {
                syslog::err("Audit daemon is suspending logging due to logfile size.");
                self.suspend();
            }
            SizeAction::Rotate => {
                if self.cfg.num_logs > 1 {
                    syslog::notice("Audit daemon rotating log files");
                    self.rotate_logs(0, false);
                }
            }
            SizeAction::KeepLogs => {
                syslog::notice("Audit daemon rotating log files with keep option");
                self.shift_logs();
            }
        }
    }

    fn check_space_left(&mut self) {
        let Some(f) = &self.file else { return };
        let Ok(st) = rustix::fs::fstatfs(&**f) else {
            return;
        };
        let bsize = st.f_bsize as u64;
        let avail = st.f_bavail;
        if avail < 5 {
            // auditd never uses the last 5 blocks.
            if self.space_ok {
                self.space_ok = false;
                self.disk_full_action();
            }
            return;
        }
        let total = st.f_blocks.saturating_mul(bsize);
        let free = avail.saturating_mul(bsize);
        if free < self.cfg.space_left.bytes(total) {
            if !self.space_warned {
                self.counters
                    .space_left_events
                    .fetch_add(1, Ordering::Relaxed);
                let a = self.cfg.space_left_action.clone();
                self.space_action(&a, false);
                self.space_warned = a != Action::Rotate;
            }
        } else if self.space_warned && self.cfg.space_left_action == Action::Syslog {
            self.space_warned = false;
        }
        if free < self.cfg.admin_space_left.bytes(total) {
            if !self.admin_space_warned {
                self.counters
                    .admin_space_left_events
                    .fetch_add(1, Ordering::Relaxed);
                let a = self.cfg.admin_space_left_action.clone();
                self.space_action(&a, true);
                self.admin_space_warned = a != Action::Rotate;
            }
        } else if self.admin_space_warned && self.cfg.admin_space_left_action == Action::Syslog {
            self.admin_space_warned = false;
        }
    }

    fn space_action(&mut self, action: &Action, admin: bool) {
        let low = if admin {
            "Audit daemon is very low on disk space for logging"
        } else {
            "Audit daemon is low on disk space for logging"
        };
        self.run_action(action, low, "due to low disk space");
    }

    fn disk_full_action(&mut self) {
        self.counters
            .disk_full_events
            .fetch_add(1, Ordering::Relaxed);
        syslog::alert("Audit daemon has no space left on logging partition");
        let a = self.cfg.disk_full_action.clone();
        self.run_action(&a, "", "due to no space left on logging partition");
    }

    fn disk_error_action(&mut self, func: &str, err: &io::Error) {
        self.counters.disk_errors.fetch_add(1, Ordering::Relaxed);
        let a = self.cfg.disk_error_action.clone();
        if a == Action::Syslog {
            if self.disk_error_warnings < 5 {
                syslog::alert(&format!(
                    "{func}: Audit daemon detected an error writing an event to disk ({err})"
                ));
                self.disk_error_warnings += 1;
            }
            return;
        }
        self.run_action(&a, "", "due to previously mentioned write error");
    }

    /// The shared part of the space, disk-full and disk-error actions.
    fn run_action(&mut self, action: &Action, syslog_text: &str, why: &str) {
        match action {
            Action::Ignore => {}
            Action::Syslog | Action::Email => {
                if !syslog_text.is_empty() {
                    syslog::alert(syslog_text);
                }
            }
            Action::Rotate => {
                if self.cfg.num_logs > 1 {
                    syslog::notice("Audit daemon rotating log files");
                    self.rotate_logs(0, false);
                }
            }
            Action::Exec(exe) => {
                // Closed so the script can move or compress the log; SIGUSR2 reopens it.
                self.suspend();
                if let Err(e) = std::process::Command::new(exe).spawn() {
                    syslog::alert(&format!(
                        "Audit daemon could not run {}: {e}",
                        exe.display()
                    ));
                }
            }
            Action::Suspend | Action::Single | Action::Halt => {
                syslog::alert(&format!("Audit daemon is suspending logging {why}."));
                self.suspend();
            }
        }
    }

    fn suspend(&mut self) {
        self.close();
        self.suspended = true;
    }

    /// `resume_logging` (SIGUSR2): reopen and write again.
    pub fn resume(&mut self) {
        syslog::notice("Audit daemon is attempting to resume logging.");
        self.suspended = false;
        self.space_ok = true;
        if self.file.is_none() && self.cfg.write_logs {
            if let Err(e) = self.open() {
                syslog::warning("Could not reopen a log after resume logging");
                self.suspended = true;
                self.disk_error_action("resume", &e);
            } else {
                self.check_log_file_size();
            }
        }
        self.disk_error_warnings = 0;
        self.space_warned = false;
        self.admin_space_warned = false;
    }

    /// SIGUSR1 (`rotate_logs_now`).
    pub fn rotate_now(&mut self) {
        if self.cfg.max_log_file_action == SizeAction::KeepLogs {
            self.shift_logs();
        } else {
            self.rotate_logs(0, false);
        }
    }

    /// `check_excess_logs`: with rotate and a limit, remove logs past num_logs.
    fn check_excess_logs(&self) {
        if self.cfg.max_log_file_action != SizeAction::Rotate || self.cfg.num_logs < 2 {
            return;
        }
        let mut i = self.cfg.num_logs;
        while std::fs::remove_file(numbered(&self.cfg.log_file, i)).is_ok() {
            syslog::notice(&format!(
                "Log {} removed as it exceeds num_logs parameter",
                numbered(&self.cfg.log_file, i).display()
            ));
            i += 1;
        }
    }

    /// `rotate_logs`: log.N-2 -> log.N-1 ... log -> log.1, then a new log.
    fn rotate_logs(&mut self, num_logs: u32, keep_logs: bool) {
        if self.cfg.num_logs < 2 && !keep_logs {
            syslog::notice("Log rotation disabled (num_logs < 2), skipping");
            return;
        }
        if let Some(f) = &self.file {
            let _ = f.set_permissions(std::fs::Permissions::from_mode(mode(&self.cfg, false)));
        }
        self.close();
        let num_logs = if num_logs == 0 {
            self.cfg.num_logs
        } else {
            num_logs
        };
        let log = self.cfg.log_file.clone();
        for i in (2..num_logs).rev() {
            if let Err(e) = std::fs::rename(numbered(&log, i - 1), numbered(&log, i)) {
                if e.kind() != io::ErrorKind::NotFound {
                    self.rename_failed(&e, "rotate");
                }
            }
        }
        if let Err(e) = std::fs::rename(&log, numbered(&log, 1)) {
            if e.kind() != io::ErrorKind::NotFound {
                self.rename_failed(&e, "rotate2");
                let _ = std::fs::set_permissions(
                    &log,
                    std::fs::Permissions::from_mode(mode(&self.cfg, true)),
                );
            }
        }
        self.counters.rotations.fetch_add(1, Ordering::Relaxed);
        if let Err(e) = self.open() {
            syslog::crit("Could not reopen a log after rotating.");
            self.suspended = true;
            self.disk_error_action("reopen", &e);
        }
    }

    fn rename_failed(&mut self, e: &io::Error, func: &str) {
        syslog::err(&format!("Error rotating logs ({e})"));
        if e.raw_os_error() == Some(libc::ENOSPC) && self.space_ok {
            self.space_ok = false;
            self.disk_full_action();
        } else {
            self.disk_error_action(func, e);
        }
    }

    /// `shift_logs` (keep_logs): rotate into the first unused number, keeping all.
    fn shift_logs(&mut self) {
        let exists = |n: u32| numbered(&self.cfg.log_file, n).exists();
        let mut n = self.last_log;
        while exists(n) {
            n += 1;
        }
        if n <= self.last_log && self.last_log > 1 {
            n = 1;
            while exists(n) {
                n += 1;
            }
        }
        self.last_log = n;
        self.rotate_logs(n + 1, true);
    }
}

impl Drop for LogWriter {
    fn drop(&mut self) {
        if let Some((shared, t)) = self.async_flush.take() {
            {
                let mut st = shared.state.lock().unwrap_or_else(|p| p.into_inner());
                st.2 = true;
                shared.cond.notify_one();
            }
            let _ = t.join();
        }
        self.sync();
    }
}

fn async_flush_main(shared: &AsyncFlush) {
    let mut st = shared.state.lock().unwrap_or_else(|p| p.into_inner());
    loop {
        while !st.1 && !st.2 {
            st = shared.cond.wait(st).unwrap_or_else(|p| p.into_inner());
        }
        if st.2 && !st.1 {
            return;
        }
        st.1 = false;
        let file = st.0.take();
        drop(st);
        if let Some(f) = file {
            let _ = f.sync_data();
        }
        st = shared.state.lock().unwrap_or_else(|p| p.into_inner());
    }
}

#[cfg(test)]
#[path = "writer_tests.rs"]
mod tests;
