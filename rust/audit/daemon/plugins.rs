//! Plugins as auditd 3.0.9 runs them: plugins.d/*.conf, one child per active plugin fed on stdin, restarted when it dies.
//!
//! Each plugin has its own thread and bounded queue (q_depth records), so a
//! slow or dead plugin loses only its own copies (counted), never the log's.
//! Formats from audit-userspace v3.0.9 audisp/audispd.c (`event_loop`,
//! `write_to_plugin`) and audisp/audispd-pconfig.c.

use std::collections::VecDeque;
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::time::Duration;

use super::config::{setting_lines, OverflowAction};
use super::syslog;
use crate::error::{Error, Result};

/// AUDISP_PROTOCOL_VER / VER2: raw `msg=` text, or an already formatted line.
const PROTOCOL_VER: u32 = 0;
const PROTOCOL_VER2: u32 = 2;
/// The binary format always sends MAX_AUDIT_MESSAGE_LENGTH data bytes.
const MAX_AUDIT_MESSAGE_LENGTH: usize = 8970;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PluginFormat {
    String,
    Binary,
}

/// One plugins.d/*.conf file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PluginConfig {
    pub file: PathBuf,
    pub active: bool,
    /// `out` (only `out` is supported by auditd).
    pub direction_out: bool,
    pub path: PathBuf,
    /// `always` (a child process) or `builtin` (auditd's af_unix, not done here).
    pub always: bool,
    pub args: Vec<String>,
    pub format: PluginFormat,
}

impl PluginConfig {
    pub fn parse(file: &Path, text: &str) -> Result<PluginConfig> {
        let bad = |line: usize, msg: String| {
            Error::InvalidArgument(format!("{} line {line}: {msg}", file.display()))
        };
        let mut p = PluginConfig {
            file: file.to_path_buf(),
            active: false,
            direction_out: true,
            path: PathBuf::new(),
            always: true,
            args: Vec::new(),
            format: PluginFormat::String,
        };
        for (line, name, rest) in setting_lines(text) {
            let rest =
                rest.ok_or_else(|| bad(line, format!("missing equal sign after {name:?}")))?;
            let Some(&value) = rest.first() else {
                return Err(bad(line, format!("{name} has no value")));
            };
            if name != "args" && rest.len() > 1 {
                return Err(bad(line, format!("wrong number of arguments for {name:?}")));
            }
            let pick = |table: &[&str]| {
                table
                    .iter()
                    .position(|t| t.eq_ignore_ascii_case(value))
                    .ok_or_else(|| {
                        bad(
                            line,
                            format!("{name}: {value:?} is not one of {}", table.join(", ")),
                        )
                    })
            };
            match name {
                "active" => p.active = pick(&["no", "yes"])? == 1,
                "direction" => p.direction_out = pick(&["in", "out"])? == 1,
                "path" => p.path = PathBuf::from(value),
                "type" => p.always = pick(&["builtin", "always"])? == 1,
                "args" => p.args = rest.iter().map(|s| s.to_string()).collect(),
                "format" => {
                    p.format = if pick(&["binary", "string"])? == 0 {
                        PluginFormat::Binary
                    } else {
                        PluginFormat::String
                    }
                }
                _ => return Err(bad(line, format!("unknown keyword {name:?}"))),
            }
        }
        if p.active && p.always && !p.path.is_absolute() {
            return Err(bad(0, format!("path {} is not absolute", p.path.display())));
        }
        Ok(p)
    }

    /// Every `*.conf` in `dir`, in name order; a missing directory has none.
    pub fn load_dir(dir: &Path) -> Result<Vec<PluginConfig>> {
        let entries = match std::fs::read_dir(dir) {
            Ok(e) => e,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(source) => {
                return Err(Error::Io {
                    op: "read plugin_dir",
                    source,
                })
            }
        };
        let mut files: Vec<PathBuf> = entries
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|x| x == "conf"))
            .collect();
        files.sort();
        files
            .iter()
            .map(|f| {
                let text = std::fs::read_to_string(f).map_err(|source| Error::Io {
                    op: "read plugin config",
                    source,
                })?;
                PluginConfig::parse(f, &text)
            })
            .collect()
    }

    /// Run by auditlink: active, `out`, `always`.
    pub fn runnable(&self) -> bool {
        self.active && self.direction_out && self.always
    }
}

/// Records for the plugins, formatted once per batch: the log's lines plus
/// the EOE records the log leaves out.
#[derive(Debug, Default)]
pub struct PluginChunk {
    pub data: Vec<u8>,
    /// (type, start, end) of each line in `data`, the end excluding its `\n`.
    pub records: Vec<(u16, u32, u32)>,
    /// The lines are formatted (ENRICHED or with node=): protocol VER2.
    pub formatted: bool,
}

/// Counters of one plugin.
#[derive(Debug, Default)]
pub struct PluginCounters {
    pub sent: AtomicU64,
    /// Records dropped because the plugin's queue was full.
    pub overflowed: AtomicU64,
    /// Records dropped because the plugin could not be (re)started.
    pub dead_dropped: AtomicU64,
    pub restarts: AtomicU64,
}

struct Queue {
    chunks: VecDeque<Arc<PluginChunk>>,
    records: usize,
    stop: bool,
}

/// A running plugin: its queue and its feeding thread.
pub struct Plugin {
    pub config: PluginConfig,
    pub counters: Arc<PluginCounters>,
    queue: Arc<(Mutex<Queue>, Condvar)>,
    limit: usize,
    overflow_action: OverflowAction,
    overflow_reported: AtomicBool,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Plugin {
    pub fn start(
        config: PluginConfig,
        q_depth: usize,
        max_restarts: u32,
        overflow_action: OverflowAction,
    ) -> Result<Plugin> {
        let queue = Arc::new((
            Mutex::new(Queue {
                chunks: VecDeque::new(),
                records: 0,
                stop: false,
            }),
            Condvar::new(),
        ));
        let counters = Arc::new(PluginCounters::default());
        let (q, c, cfg) = (queue.clone(), counters.clone(), config.clone());
        let thread = std::thread::Builder::new()
            .name("auditlink-plugin".into())
            .spawn(move || feed(&cfg, &q, &c, max_restarts))
            .map_err(|source| Error::Io {
                op: "start plugin thread",
                source,
            })?;
        Ok(Plugin {
            config,
            counters,
            queue,
            limit: q_depth.max(1),
            overflow_action,
            overflow_reported: AtomicBool::new(false),
            thread: Some(thread),
        })
    }

    /// Queue a chunk; never blocks. A chunk that does not fit is dropped whole.
    pub fn offer(&self, chunk: &Arc<PluginChunk>) {
        let n = chunk.records.len();
        let mut q = self.queue.0.lock().unwrap_or_else(|p| p.into_inner());
        if q.records + n > self.limit && q.records > 0 {
            drop(q);
            self.counters
                .overflowed
                .fetch_add(n as u64, Ordering::Relaxed);
            if self.overflow_action != OverflowAction::Ignore
                && !self.overflow_reported.swap(true, Ordering::Relaxed)
            {
                syslog::err(&format!(
                    "queue to plugin {} is full; its events are being dropped (counted)",
                    self.config.path.display()
                ));
            }
            return;
        }
        q.records += n;
        q.chunks.push_back(chunk.clone());
        self.queue.1.notify_one();
    }

    /// Let the plugin take what is queued, then end it.
    pub fn stop(&mut self) {
        {
            let mut q = self.queue.0.lock().unwrap_or_else(|p| p.into_inner());
            q.stop = true;
            self.queue.1.notify_all();
        }
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

impl Drop for Plugin {
    fn drop(&mut self) {
        self.stop();
    }
}

fn spawn(cfg: &PluginConfig) -> io::Result<(Child, ChildStdin)> {
    let mut child = Command::new(&cfg.path)
        .args(&cfg.args)
        .stdin(Stdio::piped())
        .spawn()?;
    let stdin = child
        .stdin
        .take()
        .ok_or_else(|| io::Error::other("no stdin pipe"))?;
    Ok((child, stdin))
}

fn write_chunk(cfg: &PluginConfig, chunk: &PluginChunk, out: &mut ChildStdin) -> io::Result<()> {
    match cfg.format {
        PluginFormat::String => {
            for &(_, s, e) in &chunk.records {
                // Each line with its `\n`.
                out.write_all(&chunk.data[s as usize..e as usize + 1])?;
            }
            Ok(())
        }
        PluginFormat::Binary => {
            let ver = if chunk.formatted {
                PROTOCOL_VER2
            } else {
                PROTOCOL_VER
            };
            let mut frame = Vec::with_capacity(16 + MAX_AUDIT_MESSAGE_LENGTH);
            for &(t, s, e) in &chunk.records {
                let data = &chunk.data[s as usize..e as usize];
                let data = &data[..data.len().min(MAX_AUDIT_MESSAGE_LENGTH)];
                frame.clear();
                for v in [ver, 16, u32::from(t), data.len() as u32] {
                    frame.extend_from_slice(&v.to_ne_bytes());
                }
                frame.extend_from_slice(data);
                frame.resize(16 + MAX_AUDIT_MESSAGE_LENGTH, 0);
                out.write_all(&frame)?;
            }
            Ok(())
        }
    }
}

/// The plugin's thread: start the child, feed it, restart it when it dies
/// (at most `max_restarts` times), end it when stopping.
fn feed(
    cfg: &PluginConfig,
    queue: &(Mutex<Queue>, Condvar),
    counters: &PluginCounters,
    max_restarts: u32,
) {
    let mut running: Option<(Child, ChildStdin)> = match spawn(cfg) {
        Ok(c) => Some(c),
        Err(e) => {
            syslog::err(&format!(
                "plugin {} could not be started: {e}",
                cfg.path.display()
            ));
            None
        }
    };
    let mut restarts = 0u32;
    loop {
        let chunk = {
            let mut q = queue.0.lock().unwrap_or_else(|p| p.into_inner());
            loop {
                if let Some(c) = q.chunks.pop_front() {
                    q.records -= c.records.len();
                    break Some(c);
                }
                if q.stop {
                    break None;
                }
                q = queue
                    .1
                    .wait_timeout(q, Duration::from_millis(200))
                    .unwrap_or_else(|p| p.into_inner())
                    .0;
            }
        };
        let Some(chunk) = chunk else { break };
        let n = chunk.records.len() as u64;
        let mut delivered = false;
        for _attempt in 0..2 {
            if running.is_none() {
                if restarts >= max_restarts {
                    break;
                }
                restarts += 1;
                counters.restarts.fetch_add(1, Ordering::Relaxed);
                match spawn(cfg) {
                    Ok(c) => {
                        syslog::notice(&format!("plugin {} was restarted", cfg.path.display()));
                        running = Some(c);
                    }
                    Err(e) => {
                        syslog::err(&format!(
                            "plugin {} could not be restarted: {e}",
                            cfg.path.display()
                        ));
                        continue;
                    }
                }
            }
            let Some((child, stdin)) = running.as_mut() else {
                continue;
            };
            match write_chunk(cfg, &chunk, stdin) {
                Ok(()) => {
                    delivered = true;
                    break;
                }
                Err(_) => {
                    syslog::err(&format!(
                        "plugin {} terminated unexpectedly",
                        cfg.path.display()
                    ));
                    let _ = child.kill();
                    let _ = child.wait();
                    running = None;
                    if restarts >= max_restarts {
                        syslog::err(&format!(
                            "plugin {} has exceeded max_restarts",
                            cfg.path.display()
                        ));
                    }
                }
            }
        }
        if delivered {
            counters.sent.fetch_add(n, Ordering::Relaxed);
        } else {
            counters.dead_dropped.fetch_add(n, Ordering::Relaxed);
        }
    }
    if let Some((mut child, stdin)) = running {
        // End of input; a plugin that does not exit on it gets SIGTERM.
        drop(stdin);
        for _ in 0..40 {
            if matches!(child.try_wait(), Ok(Some(_))) {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        if let Some(pid) = rustix::process::Pid::from_raw(child.id() as i32) {
            let _ = rustix::process::kill_process(pid, rustix::process::Signal::TERM);
        }
        let _ = child.wait();
    }
}

#[cfg(test)]
#[path = "plugins_tests.rs"]
mod tests;
