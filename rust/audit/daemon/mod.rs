//! auditlink as the audit daemon: start (register, rules, status), the reader/writer pipeline, signals' actions, stop.
//!
//! Uses the client only through `AuditClient`'s public methods: `get_status`,
//! `set_pid`, `set_enabled`, `set_backlog_limit`, `set_backlog_wait_time`,
//! `set_rate_limit`, `set_failure`, `set_receive_buffer_size`, `overruns`,
//! `receive_batch`, `unregister`, and the
//! rules module's `load_rules` / `get_signal_info` on top of it.

pub mod config;
pub mod enriched;
pub mod extras;
pub mod fanout;
pub mod format;
mod linegroups;
pub mod logtail;
pub mod pipeline;
pub mod plugins;
pub mod syslog;
pub mod writer;

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{sync_channel, SyncSender};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

use crate::audit::client::{AuditClient, WaitMode};
use crate::audit::rules::control::get_signal_info;
use crate::audit::rules::load::load_rules;
use crate::audit::rules::lookup::SystemResolver;
use crate::audit::sinks::SinkStats;
use crate::audit::tables::msg;
use crate::error::{Error, Result};

pub use config::{DaemonConfig, LogFormat, NameFormat};
pub use extras::Extras;
use fanout::{Fanout, Stage};
pub use format::{LineFormat, Origin};
use logtail::LogFeed;
pub use pipeline::{EventQueue, PipelineCounters};
use pipeline::{Item, Outputs, Writer};
use plugins::{Plugin, PluginConfig, PluginCounters};
use writer::{LogWriter, WriterCounters};

/// Everything a daemon is started with.
#[derive(Debug, Clone, Default)]
pub struct DaemonSettings {
    pub config: DaemonConfig,
    pub extras: Extras,
    /// The auditd.conf it came from (re-read on reload).
    pub config_path: Option<PathBuf>,
    /// A rules file, or a rules.d directory loaded in augenrules order.
    pub rules: Option<PathBuf>,
    /// Register even if another live process is registered.
    pub take_over: bool,
    /// Hand events to Python: record types to keep (None = all).
    pub python_events: Option<Option<HashSet<u16>>>,
}

/// The node name for `name_format` (auditd's `set_node_name`-like choices).
pub fn node_name(cfg: &DaemonConfig) -> Result<Option<String>> {
    let host = || {
        rustix::system::uname()
            .nodename()
            .to_string_lossy()
            .into_owned()
    };
    Ok(match cfg.name_format {
        NameFormat::None => None,
        NameFormat::Hostname | NameFormat::Fqd => Some(host()),
        NameFormat::Numeric => {
            use std::net::ToSocketAddrs;
            let ip = (host().as_str(), 0)
                .to_socket_addrs()
                .ok()
                .and_then(|mut a| a.next())
                .map(|a| a.ip().to_string());
            Some(ip.unwrap_or_else(host))
        }
        NameFormat::User => Some(cfg.name.clone().ok_or_else(|| {
            Error::InvalidArgument("auditd.conf: name_format = user needs a name".into())
        })?),
    })
}

/// Rules text: a file, or every `*.rules` of a directory in augenrules'
/// order (`ls -v`: names compared with digit runs as numbers).
pub fn read_rules(path: &Path) -> Result<Vec<u8>> {
    let io = |source| Error::Io {
        op: "read rules",
        source,
    };
    if !path.is_dir() {
        return std::fs::read(path).map_err(io);
    }
    let mut files: Vec<PathBuf> = std::fs::read_dir(path)
        .map_err(io)?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "rules") && p.is_file())
        .collect();
    files.sort_by(|a, b| version_cmp(&a.to_string_lossy(), &b.to_string_lossy()));
    let mut out = Vec::new();
    for f in files {
        out.extend_from_slice(&std::fs::read(&f).map_err(io)?);
        if !out.ends_with(b"\n") {
            out.push(b'\n');
        }
    }
    Ok(out)
}

/// `ls -v` order, enough for rules.d names: digit runs compare as numbers.
fn version_cmp(a: &str, b: &str) -> std::cmp::Ordering {
    fn parts(s: &str) -> Vec<(bool, &str)> {
        let mut v = Vec::new();
        let mut start = 0;
        let bytes = s.as_bytes();
        for i in 1..=bytes.len() {
            if i == bytes.len() || bytes[i].is_ascii_digit() != bytes[start].is_ascii_digit() {
                v.push((bytes[start].is_ascii_digit(), &s[start..i]));
                start = i;
            }
        }
        v
    }
    let (pa, pb) = (parts(a), parts(b));
    for (x, y) in pa.iter().zip(pb.iter()) {
        let o = match (x.0, y.0) {
            (true, true) => x.1.len().cmp(&y.1.len()).then_with(|| x.1.cmp(y.1)),
            _ => x.1.cmp(y.1),
        };
        if o.is_ne() {
            return o;
        }
    }
    pa.len().cmp(&pb.len())
}

/// Fail if another live process is the registered audit daemon, or with
/// `take_over`, ask it to stop (SIGTERM, as `service auditd stop` does) and
/// wait for it to unregister: the kernel lets only the registered daemon
/// unregister itself, and refuses a second registration while it lives.
fn check_registration(client: &AuditClient, take_over: bool) -> Result<()> {
    let pid = client.get_status()?.pid;
    let me = std::process::id();
    if pid == 0 || pid == me {
        return Ok(());
    }
    let Ok(comm) = std::fs::read_to_string(format!("/proc/{pid}/comm")) else {
        // A stale registration (the process is gone): the kernel lets us take it.
        return Ok(());
    };
    let comm = comm.trim().to_string();
    let refuse = |why: &str| Error::Kernel {
        errno: libc::EEXIST,
        op: format!("register as the audit daemon: process {pid} ({comm}) is registered; {why}"),
        seq: 0,
    };
    if !take_over {
        return Err(refuse("stop it first or take over"));
    }
    let target = rustix::process::Pid::from_raw(pid as i32).filter(|_| pid != 1);
    let Some(target) = target else {
        return Err(refuse("init is never signalled"));
    };
    syslog::notice(&format!(
        "taking over from audit daemon {pid} ({comm}): sending SIGTERM"
    ));
    rustix::process::kill_process(target, rustix::process::Signal::TERM).map_err(|e| {
        Error::Io {
            op: "signal the registered audit daemon",
            source: e.into(),
        }
    })?;
    for _ in 0..200 {
        std::thread::sleep(Duration::from_millis(50));
        let gone = !Path::new(&format!("/proc/{pid}")).exists();
        if gone || client.get_status()?.pid != pid {
            return Ok(());
        }
    }
    Err(refuse("it did not stop within 10 s of SIGTERM"))
}

fn build_outputs(
    settings: &DaemonSettings,
    counters: &Arc<WriterCounters>,
    feed: &Arc<LogFeed>,
) -> Result<(Outputs, Vec<Arc<PluginCounters>>)> {
    let cfg = &settings.config;
    let mut log = LogWriter::new(cfg.clone(), counters.clone()).map_err(|source| Error::Io {
        op: "open the audit log",
        source,
    })?;
    let format = LineFormat {
        node: node_name(cfg)?,
        enriched: cfg.log_format == LogFormat::Enriched,
    };
    let mut stage = Stage::prepare(&settings.extras, cfg, &format)?;
    stage.follow_log(feed, cfg)?;
    // Only then does the feed hold the log's files open.
    if stage.follows_log() {
        log.feed_to(feed.clone());
    }
    let mut plugins = Vec::new();
    let mut plugin_counters = Vec::new();
    for p in PluginConfig::load_dir(&cfg.plugin_dir)? {
        if !p.runnable() {
            if p.active && !p.always {
                syslog::warning(&format!(
                    "{}: builtin plugins ({}) are not implemented",
                    p.file.display(),
                    p.path.display()
                ));
            }
            continue;
        }
        let started = Plugin::start(
            p,
            cfg.q_depth as usize,
            cfg.max_restarts,
            cfg.overflow_action,
        )?;
        plugin_counters.push(started.counters.clone());
        plugins.push(started);
    }
    Ok((
        Outputs {
            log,
            format,
            fans_out: stage.is_active(),
            sinks_take_lines: stage.has_sinks(),
            lines_only: stage.takes_only_lines(),
            stage: Some(Box::new(stage)),
            plugins,
            end_of_event_timeout_ms: u64::from(cfg.end_of_event_timeout) * 1000,
        },
        plugin_counters,
    ))
}

/// A running daemon. Control calls may come from any thread.
pub struct Daemon {
    client: Arc<AuditClient>,
    tx: SyncSender<Item>,
    stop_flag: Arc<AtomicBool>,
    reader: Mutex<Option<JoinHandle<()>>>,
    writer: Mutex<Option<JoinHandle<()>>>,
    settings: Mutex<DaemonSettings>,
    pub counters: Arc<PipelineCounters>,
    pub writer_counters: Arc<WriterCounters>,
    plugin_counters: Mutex<Vec<(String, Arc<PluginCounters>)>>,
    fanout: Fanout,
    /// The log files the writer opens, for sinks that read the log back.
    feed: Arc<LogFeed>,
    pub events: Option<Arc<EventQueue>>,
    stopped: AtomicBool,
}

impl Daemon {
    /// Open the log, write DAEMON_START, load rules and status settings,
    /// register, and start the threads.
    pub fn start(client: Arc<AuditClient>, settings: DaemonSettings) -> Result<Daemon> {
        check_registration(&client, settings.take_over)?;
        for w in &settings.config.warnings {
            syslog::warning(w);
        }
        let writer_counters = Arc::new(WriterCounters::default());
        let counters = Arc::new(PipelineCounters::default());
        let feed = Arc::new(LogFeed::default());
        let (mut outputs, pcs) = build_outputs(&settings, &writer_counters, &feed)?;
        let mut stage = outputs.stage.take().map_or_else(
            || Stage::prepare(&Extras::default(), &settings.config, &outputs.format),
            |s| Ok(*s),
        )?;
        stage.start_sinks()?;
        let fanout = Fanout::start(
            stage,
            settings.extras.pipeline.fanout_events,
            counters.clone(),
        )?;
        let plugin_counters = pcs
            .into_iter()
            .zip(outputs.plugins.iter())
            .map(|(c, p)| (p.config.path.display().to_string(), c))
            .collect();
        let events = settings
            .python_events
            .clone()
            .map(|filter| Arc::new(EventQueue::new(settings.extras.python.queue_events, filter)));
        let pipe = &settings.extras.pipeline;
        let (tx, rx) = sync_channel::<Item>(pipe.queue_batches);
        let (free_tx, free_rx) = sync_channel(pipe.queue_batches);
        let mut writer = Writer::new(
            outputs,
            counters.clone(),
            events.clone(),
            free_tx,
            Some(fanout.sender()),
        );
        let fmt = match settings.config.log_format {
            LogFormat::Raw => "raw",
            LogFormat::Enriched => "enriched",
            LogFormat::Nolog => "nolog",
        };
        writer.daemon_record(msg::DAEMON_START, &format::start_text(fmt));

        let abort = |writer: &mut Writer, op: &str, e: Error| -> Error {
            let me = Origin::this_process();
            writer.daemon_record(
                msg::DAEMON_ABORT,
                &format!(
                    "op={op} auid={} pid={} uid={} ses={} res=failed",
                    me.auid,
                    me.pid,
                    rustix::process::getuid().as_raw(),
                    std::fs::read_to_string("/proc/self/sessionid")
                        .unwrap_or_else(|_| "4294967295".into())
                        .trim()
                ),
            );
            writer.out.log.sync();
            e
        };
        if let Some(rules) = &settings.rules {
            let text = read_rules(rules).map_err(|e| abort(&mut writer, "load-rules", e))?;
            let report = load_rules(Some(&client), &text, &SystemResolver, false)
                .map_err(|e| abort(&mut writer, "load-rules", e))?;
            for line in report.failed_lines() {
                syslog::err(&format!(
                    "rules line {}: {:?}: {:?}",
                    line.lineno, line.text, line.status
                ));
            }
            if !report.succeeded() {
                return Err(abort(
                    &mut writer,
                    "load-rules",
                    Error::InvalidArgument(format!(
                        "rules {}: the load stopped at an error",
                        rules.display()
                    )),
                ));
            }
        }
        let k = &settings.extras.kernel;
        let w = WaitMode::WaitForReply;
        let status = (|| -> Result<()> {
            if let Some(v) = k.backlog_limit {
                client.set_backlog_limit(v, w)?;
            }
            if let Some(v) = k.backlog_wait_time {
                client.set_backlog_wait_time(v, w)?;
            }
            if let Some(v) = k.rate_limit {
                client.set_rate_limit(v, w)?;
            }
            if let Some(v) = k.failure {
                client.set_failure(v, w)?;
            }
            if client.get_status()?.enabled == 0 {
                client.set_enabled(1, w)?;
            }
            Ok(())
        })();
        status.map_err(|e| abort(&mut writer, "set-status", e))?;
        // Best effort: a buffer the kernel will not grant only costs headroom.
        let _ = client.set_receive_buffer_size(pipe.receive_buffer_bytes);
        client
            .set_pid(w)
            .map_err(|e| abort(&mut writer, "set-pid", e))?;

        let stop_flag = Arc::new(AtomicBool::new(false));
        let writer_thread = std::thread::Builder::new()
            .name("auditlink-writer".into())
            .spawn(move || writer.run(&rx))
            .map_err(|source| Error::Io {
                op: "start the writer thread",
                source,
            })?;
        let (c2, tx2, s2, k2) = (
            client.clone(),
            tx.clone(),
            stop_flag.clone(),
            counters.clone(),
        );
        let reading = pipeline::ReaderSettings {
            batch_records: pipe.batch_records,
            linger: Duration::from_micros(pipe.linger_us),
            priority_boost: settings.config.priority_boost,
        };
        let reader_thread = std::thread::Builder::new()
            .name("auditlink-reader".into())
            .spawn(move || pipeline::reader_main(&c2, &tx2, &free_rx, &s2, &k2, reading))
            .map_err(|source| Error::Io {
                op: "start the reader thread",
                source,
            })?;
        Ok(Daemon {
            client,
            tx,
            stop_flag,
            reader: Mutex::new(Some(reader_thread)),
            writer: Mutex::new(Some(writer_thread)),
            settings: Mutex::new(settings),
            counters,
            writer_counters,
            plugin_counters: Mutex::new(plugin_counters),
            fanout,
            feed,
            events,
            stopped: AtomicBool::new(false),
        })
    }

    pub fn client(&self) -> &Arc<AuditClient> {
        &self.client
    }

    /// Who sent the last signal to the audit daemon (the kernel keeps it);
    /// this process when the kernel cannot say.
    pub fn signal_origin(&self) -> Origin {
        match get_signal_info(&self.client) {
            Ok(si) if si.pid != 0 => Origin {
                auid: si.uid,
                pid: si.pid as i32,
                context: (!si.context.is_empty())
                    .then(|| String::from_utf8_lossy(&si.context).into_owned()),
            },
            _ => Origin::this_process(),
        }
    }

    pub fn is_stopped(&self) -> bool {
        self.stopped.load(Ordering::Acquire)
    }

    fn send(&self, item: Item) -> Result<()> {
        if self.is_stopped() {
            return Err(Error::Closed);
        }
        self.tx.send(item).map_err(|_| Error::Closed)
    }

    /// SIGUSR1: rotate the logs now.
    pub fn rotate(&self, origin: &Origin) -> Result<()> {
        self.send(Item::Rotate(origin.describe("rotate-logs", "success")))
    }

    /// SIGUSR2: resume logging after a suspend.
    pub fn resume(&self, origin: &Origin) -> Result<()> {
        self.send(Item::Resume(origin.describe("resume-logging", "success")))
    }

    /// SIGHUP: re-read auditd.conf (and auditlink.toml) and the rules; the new
    /// log settings and plugins take effect at once.
    pub fn reload(&self, origin: &Origin) -> Result<()> {
        let mut settings = self
            .settings
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone();
        let text = |state: &str, res: &str| {
            let d = origin.describe("reconfigure", res);
            d.replacen(
                "op=reconfigure",
                &format!("op=reconfigure state={state}"),
                1,
            )
        };
        if let Some(path) = settings.config_path.clone() {
            match DaemonConfig::load(&path).and_then(|c| Ok((c, Extras::load_beside(&path)?))) {
                Ok((c, x)) => {
                    settings.config = c;
                    settings.extras.json = x.json;
                    settings.extras.sinks = x.sinks;
                    settings.extras.enrichment = x.enrichment;
                }
                Err(e) => {
                    syslog::err(&format!("reload: {e}; keeping the running configuration"));
                    return Err(e);
                }
            }
        }
        if let Some(rules) = &settings.rules {
            let text = read_rules(rules)?;
            load_rules(Some(&self.client), &text, &SystemResolver, false)?;
        }
        let (outputs, pcs) = build_outputs(&settings, &self.writer_counters, &self.feed)?;
        *self
            .plugin_counters
            .lock()
            .unwrap_or_else(|p| p.into_inner()) = pcs
            .into_iter()
            .zip(outputs.plugins.iter())
            .map(|(c, p)| (p.config.path.display().to_string(), c))
            .collect();
        *self.settings.lock().unwrap_or_else(|p| p.into_inner()) = settings;
        self.send(Item::Reconfigure(
            Box::new(outputs),
            text("changed", "success"),
        ))
    }

    /// Wait until everything received so far is written (and synced).
    pub fn flush(&self) -> Result<()> {
        let (done_tx, done_rx) = std::sync::mpsc::channel();
        self.send(Item::Barrier(done_tx))?;
        done_rx.recv().map_err(|_| Error::Closed)
    }

    /// SIGTERM: take what the kernel has sent, unregister, log DAEMON_END,
    /// make the log durable, end the threads. Idempotent.
    pub fn stop(&self, origin: &Origin) -> Result<()> {
        if self.stopped.swap(true, Ordering::AcqRel) {
            return Ok(());
        }
        self.stop_flag.store(true, Ordering::Release);
        if let Some(t) = self.reader.lock().unwrap_or_else(|p| p.into_inner()).take() {
            let _ = t.join();
        }
        let unregistered = self.client.unregister();
        let batch_records = self
            .settings
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .extras
            .pipeline
            .batch_records;
        pipeline::drain_after_unregister(&self.client, &self.tx, &self.counters, batch_records);
        let _ = self.tx.send(Item::End(
            msg::DAEMON_END,
            origin.describe("terminate", "success"),
        ));
        if let Some(t) = self.writer.lock().unwrap_or_else(|p| p.into_inner()).take() {
            let _ = t.join();
        }
        // After the writer: it hands the last events to the fan-out.
        self.fanout.stop();
        unregistered
    }

    /// Counters by name.
    pub fn stats(&self) -> Vec<(String, u64)> {
        use std::sync::atomic::AtomicU64;
        let g = |a: &AtomicU64| a.load(Ordering::Relaxed);
        let (c, w) = (&self.counters, &self.writer_counters);
        let mut v: Vec<(String, u64)> = [
            ("records_received", g(&c.records_received)),
            ("batches", g(&c.batches)),
            ("reader_waits", g(&c.reader_waits)),
            ("receive_errors", g(&c.receive_errors)),
            ("lines_written", g(&w.lines_written)),
            ("bytes_written", g(&w.bytes_written)),
            ("lines_suspended", g(&w.lines_suspended)),
            ("lines_failed", g(&w.lines_failed)),
            ("rotations", g(&w.rotations)),
            ("disk_full_events", g(&w.disk_full_events)),
            ("disk_errors", g(&w.disk_errors)),
            ("space_left_events", g(&w.space_left_events)),
            ("admin_space_left_events", g(&w.admin_space_left_events)),
            ("events_to_python", g(&c.events_to_python)),
            ("python_dropped", g(&c.python_dropped)),
            ("json_events", g(&c.json_events)),
            ("json_errors", g(&c.json_errors)),
            ("json_rotations", g(&c.json_rotations)),
            ("fanout_dropped", g(&c.fanout_dropped)),
            ("events_filtered", g(&c.events_filtered)),
            ("events_diverted", g(&c.events_diverted)),
            ("events_forwarded", g(&c.events_forwarded)),
            ("sink_start_errors", g(&c.sink_start_errors)),
            ("socket_overruns", self.client.overruns()),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v))
        .collect();
        for (i, (path, pc)) in self
            .plugin_counters
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .iter()
            .enumerate()
        {
            let _ = path;
            v.push((format!("plugin{i}_sent"), g(&pc.sent)));
            v.push((format!("plugin{i}_overflowed"), g(&pc.overflowed)));
            v.push((format!("plugin{i}_dead_dropped"), g(&pc.dead_dropped)));
            v.push((format!("plugin{i}_restarts"), g(&pc.restarts)));
        }
        for (i, s) in self.sink_stats().into_iter().enumerate() {
            for (k, n) in [
                ("submitted", s.submitted),
                ("sent", s.sent),
                ("acked", s.acked),
                ("spooled", s.spooled),
                ("spool_bytes", s.spool_bytes),
                ("queued", s.queued),
                ("dropped", s.dropped),
                ("reconnects", s.reconnects),
                ("connected", u64::from(s.connected)),
            ] {
                v.push((format!("sink{i}_{k}"), n));
            }
        }
        v
    }

    /// Each running sink's stats (name, counters, last error), in the order
    /// of their `sinkN_` counters.
    pub fn sink_stats(&self) -> Vec<SinkStats> {
        self.fanout.sink_stats()
    }

    /// The paths of the running plugins, in the order of their `pluginN_` stats.
    pub fn plugin_paths(&self) -> Vec<String> {
        self.plugin_counters
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .iter()
            .map(|(p, _)| p.clone())
            .collect()
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        let _ = self.stop(&Origin::this_process());
    }
}

/// A directory for one test, `auditlink-TAG-*` in the temporary directory,
/// removed when dropped (also when the test fails).
#[cfg(test)]
pub(crate) fn test_dir(tag: &str) -> tempfile::TempDir {
    tempfile::Builder::new()
        .prefix(&format!("auditlink-{tag}-"))
        .tempdir()
        .unwrap()
}

#[cfg(test)]
#[path = "daemon_tests.rs"]
mod tests;
