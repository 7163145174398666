//! auditlink.toml, auditlink's additions beside auditd.conf: JSON lines output, enrichment (laurel's sections), `[[sink]]` forwarding, Python hand-off, kernel and pipeline settings.
//!
//! Errors name the file and the line (and column) the `toml` crate points at,
//! as auditd.conf's errors name their line.

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use serde::de::IgnoredAny;
use serde::Deserialize;

use crate::audit::enrich;
use crate::audit::sinks::SinkConfig;
use crate::error::{Error, Result};

/// auditlink.toml: auditlink's additions, next to auditd.conf.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Extras {
    /// JSON lines output of whole events (enriched when laurel's sections are present).
    #[serde(default)]
    pub json: Option<JsonOutput>,
    #[serde(default)]
    pub python: PythonHandOff,
    #[serde(default)]
    pub pipeline: PipelineSettings,
    #[serde(default)]
    pub kernel: KernelSettings,
    /// `[[sink]]` tables: forwarding to a central auditd, syslog, OTLP.
    #[serde(default, rename = "sink")]
    pub sinks: Vec<SinkConfig>,
    // laurel's sections (docs/enrich.md): only their presence is read here; the
    // whole text is read again as the enricher's configuration (`enrichment`).
    #[serde(default)]
    enrich: Option<IgnoredAny>,
    #[serde(default, rename = "label-process")]
    label_process: Option<IgnoredAny>,
    #[serde(default)]
    filter: Option<IgnoredAny>,
    #[serde(default)]
    transform: Option<IgnoredAny>,
    #[serde(default)]
    translate: Option<IgnoredAny>,
    #[serde(default)]
    state: Option<IgnoredAny>,
    #[serde(default)]
    auditlink: Option<IgnoredAny>,
    /// The enricher's configuration, when any of laurel's sections is present.
    #[serde(skip)]
    pub enrichment: Option<enrich::Config>,
}

/// `[json]`: one JSON object per event (the records module's event shape,
/// plus the enrichment when configured), appended to `path`. `size`,
/// `generations` and `line-prefix` are laurel's `[auditlog]` keys.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct JsonOutput {
    #[serde(alias = "file")]
    pub path: PathBuf,
    /// Rotate when the file reaches this many bytes. Unset: auditd.conf's
    /// `max_log_file` when `max_log_file_action = rotate`, else never by size.
    #[serde(default)]
    pub size: Option<u64>,
    /// Rotated files kept (`path.1` ... `path.N`). Unset: auditd.conf's
    /// `num_logs` - 1 (auditd counts the current log in `num_logs`).
    #[serde(default)]
    pub generations: Option<u32>,
    /// Written before every line (e.g. `@cee: `).
    #[serde(default, rename = "line-prefix", alias = "line_prefix")]
    pub line_prefix: Option<String>,
    /// Events the filters divert (`[filter] filter-action = "log"`) go here
    /// (laurel's `[filterlog]`), rotated as `path`. Unset: they are counted only.
    #[serde(default)]
    pub filter_log: Option<PathBuf>,
}

/// `[kernel]`: status settings applied at start (a rules file's -b/-r/-f
/// lines do the same).
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KernelSettings {
    pub backlog_limit: Option<u32>,
    pub backlog_wait_time: Option<u32>,
    pub rate_limit: Option<u32>,
    pub failure: Option<u32>,
}

/// `[python]`: the queue between the pipeline and `Daemon(on_event=...)`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PythonHandOff {
    /// Events held for the callback; beyond this they are dropped and counted.
    #[serde(default = "default_python_queue")]
    pub queue_events: usize,
}

fn default_python_queue() -> usize {
    10_000
}

impl Default for PythonHandOff {
    fn default() -> Self {
        PythonHandOff {
            queue_events: default_python_queue(),
        }
    }
}

/// `[pipeline]`: sizes of the reader-to-writer queue and the fan-out queue.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PipelineSettings {
    /// Records the reader hands over per batch at most.
    #[serde(default = "default_batch_records")]
    pub batch_records: usize,
    /// Batches queued between the reader and the writer.
    #[serde(default = "default_queue_batches")]
    pub queue_batches: usize,
    /// After the socket runs dry, wait this long once and read again (fewer,
    /// larger batches; see `AuditClient::receive_batch`).
    #[serde(default = "default_linger_us")]
    pub linger_us: u64,
    /// The socket's receive buffer (SO_RCVBUFFORCE): room for bursts while
    /// the reader is between reads, so kauditd's backlog does not fill.
    #[serde(default = "default_receive_buffer")]
    pub receive_buffer_bytes: usize,
    /// Events queued between the writer and the fan-out thread (JSON lines,
    /// enrichment, sinks); beyond it they are dropped and counted
    /// (`fanout_dropped`), never waited for.
    #[serde(default = "default_fanout_events")]
    pub fanout_events: usize,
}

fn default_receive_buffer() -> usize {
    16 << 20
}

fn default_linger_us() -> u64 {
    500
}

fn default_batch_records() -> usize {
    4096
}

fn default_queue_batches() -> usize {
    64
}

fn default_fanout_events() -> usize {
    100_000
}

impl Default for PipelineSettings {
    fn default() -> Self {
        PipelineSettings {
            batch_records: default_batch_records(),
            queue_batches: default_queue_batches(),
            linger_us: default_linger_us(),
            receive_buffer_bytes: default_receive_buffer(),
            fanout_events: default_fanout_events(),
        }
    }
}

/// `NAME line L, column C: message` from a `toml` error's span.
fn toml_error(name: &str, text: &str, e: &toml::de::Error) -> Error {
    let msg = e.message().trim_end();
    Error::InvalidArgument(match e.span() {
        Some(span) => {
            let before = &text.as_bytes()[..span.start.min(text.len())];
            let line = before.iter().filter(|&&b| b == b'\n').count() + 1;
            let column = before.iter().rev().take_while(|&&b| b != b'\n').count() + 1;
            format!("{name} line {line}, column {column}: {msg}")
        }
        None => format!("{name}: {msg}"),
    })
}

impl Extras {
    /// Parse auditlink.toml text (errors name it `auditlink.toml`).
    pub fn parse(text: &str) -> Result<Extras> {
        Extras::parse_named(text, "auditlink.toml", None)
    }

    /// Parse auditlink.toml text; errors start with `name`. A relative
    /// `[state] file` is taken in `dir` (the file's directory).
    pub fn parse_named(text: &str, name: &str, dir: Option<&Path>) -> Result<Extras> {
        let bad = |what: String| Error::InvalidArgument(format!("{name}: {what}"));
        let mut e: Extras = toml::from_str(text).map_err(|e| toml_error(name, text, &e))?;
        if let Some(f) = e.kernel.failure {
            if f > 2 {
                return Err(bad("kernel.failure must be 0, 1 or 2".into()));
            }
        }
        let p = &e.pipeline;
        if p.batch_records == 0 || p.queue_batches == 0 || p.fanout_events == 0 {
            return Err(bad("pipeline sizes must be at least 1".into()));
        }
        let mut dirs = HashSet::new();
        for s in &e.sinks {
            let spool = s.spool();
            if spool.read_log && (s.wants_json() || s.wants_fields()) {
                return Err(bad(format!(
                    "sink {:?}: read_log = true is for sinks that send the log's lines \
                     (remote, or syslog with format = \"text\")",
                    s.name()
                )));
            }
            if !dirs.insert(spool.spool_dir.clone()) {
                return Err(bad(format!(
                    "sink {:?}: spool_dir {} is another sink's; each sink needs its own",
                    s.name(),
                    spool.spool_dir.display()
                )));
            }
        }
        let laurel = [
            e.enrich.is_some(),
            e.label_process.is_some(),
            e.filter.is_some(),
            e.transform.is_some(),
            e.translate.is_some(),
            e.state.is_some(),
            e.auditlink.is_some(),
        ];
        if laurel.contains(&true) {
            let mut c: enrich::Config =
                toml::from_str(text).map_err(|e| toml_error(name, text, &e))?;
            c.check().map_err(bad)?;
            if c.directory.is_none() {
                c.directory = dir.map(Path::to_path_buf);
            }
            e.enrichment = Some(c);
        }
        Ok(e)
    }

    /// `auditlink.toml` beside `auditd_conf`, or the defaults when there is none.
    pub fn load_beside(auditd_conf: &Path) -> Result<Extras> {
        let path = auditd_conf.with_file_name("auditlink.toml");
        match std::fs::read_to_string(&path) {
            Ok(text) => Extras::parse_named(&text, &path.display().to_string(), path.parent()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Extras::default()),
            Err(source) => Err(Error::Io {
                op: "read auditlink.toml",
                source,
            }),
        }
    }

    /// Whether the fan-out thread has anything to do.
    pub fn fans_out(&self) -> bool {
        self.json.is_some() || !self.sinks.is_empty() || self.enrichment.is_some()
    }
}

/// `[json]` with the defaults taken from auditd.conf: (size limit in bytes,
/// 0 = none; rotated files kept).
pub fn json_rotation(json: &JsonOutput, cfg: &super::DaemonConfig) -> (u64, u32) {
    use super::config::{SizeAction, MEGABYTE};
    let size = json.size.unwrap_or(match cfg.max_log_file_action {
        SizeAction::Rotate => cfg.max_log_file.saturating_mul(MEGABYTE),
        _ => 0,
    });
    let generations = json.generations.unwrap_or(cfg.num_logs.saturating_sub(1));
    (size, generations)
}
