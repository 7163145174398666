//! auditd.conf (auditd 3.0.9's keys, syntax and checks) and auditlink.toml (auditlink's additions).
//!
//! The syntax is auditd's (src/auditd-config.c `nv_split`): blank-separated
//! `name = value [option]`, `#` comments, one setting per line. Every key
//! auditd 3.0.9 knows is accepted; a key whose feature auditlink does not do
//! gives one warning naming its line; an unknown key, a bad value or a missing
//! `=` is an error naming its line, as auditd refuses to start on them.

use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::error::{Error, Result};

/// `log_format`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    Raw,
    Enriched,
    /// Deprecated in auditd (same as write_logs = no).
    Nolog,
}

/// `flush`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Flush {
    None,
    Incremental,
    IncrementalAsync,
    Data,
    Sync,
}

/// `name_format`: what goes into the `node=` prefix.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NameFormat {
    None,
    Hostname,
    Fqd,
    Numeric,
    User,
}

/// `max_log_file_action`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SizeAction {
    Ignore,
    Syslog,
    Suspend,
    Rotate,
    KeepLogs,
}

/// `space_left_action`, `admin_space_left_action`, `disk_full_action`,
/// `disk_error_action`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    Ignore,
    Syslog,
    Rotate,
    /// Not implemented (no mail): logged to syslog instead.
    Email,
    Exec(PathBuf),
    Suspend,
    /// Not done by auditlink (it would change the runlevel): logged to syslog
    /// and logging is suspended instead.
    Single,
    /// As `Single`.
    Halt,
}

/// `overflow_action`: what happens when a plugin's queue is full.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OverflowAction {
    Ignore,
    Syslog,
    Suspend,
    Single,
    Halt,
}

/// `space_left` / `admin_space_left`: megabytes or a percentage of the disk.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Space {
    Megabytes(u64),
    Percent(u32),
}

impl Space {
    /// The threshold in bytes for a file system of `total` bytes.
    pub fn bytes(self, total: u64) -> u64 {
        match self {
            Space::Megabytes(mb) => mb.saturating_mul(MEGABYTE),
            Space::Percent(p) => total / 100 * u64::from(p),
        }
    }
}

pub const MEGABYTE: u64 = 1024 * 1024;

/// Every setting of auditd.conf, with auditd's defaults (`clear_config`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DaemonConfig {
    pub local_events: bool,
    pub write_logs: bool,
    pub log_file: PathBuf,
    pub log_format: LogFormat,
    /// Group owning the logs (`log_group`), 0 = root.
    pub log_group: u32,
    pub priority_boost: u32,
    pub flush: Flush,
    pub freq: u32,
    pub num_logs: u32,
    pub name_format: NameFormat,
    pub name: Option<String>,
    /// Megabytes; 0 = no limit.
    pub max_log_file: u64,
    pub max_log_file_action: SizeAction,
    pub space_left: Space,
    pub space_left_action: Action,
    pub action_mail_acct: String,
    pub verify_email: bool,
    pub admin_space_left: Space,
    pub admin_space_left_action: Action,
    pub disk_full_action: Action,
    pub disk_error_action: Action,
    pub tcp_listen_port: u16,
    pub tcp_listen_queue: u32,
    pub tcp_max_per_addr: u32,
    pub use_libwrap: bool,
    pub tcp_client_ports: (u16, u16),
    pub tcp_client_max_idle: u32,
    pub enable_krb5: bool,
    pub krb5_principal: Option<String>,
    pub krb5_key_file: Option<PathBuf>,
    pub distribute_network: bool,
    pub q_depth: u32,
    pub overflow_action: OverflowAction,
    pub max_restarts: u32,
    pub plugin_dir: PathBuf,
    /// Seconds.
    pub end_of_event_timeout: u32,
    /// One line per setting auditlink accepts but does not act on.
    pub warnings: Vec<String>,
}

impl Default for DaemonConfig {
    fn default() -> Self {
        DaemonConfig {
            local_events: true,
            write_logs: true,
            log_file: PathBuf::from("/var/log/audit/audit.log"),
            log_format: LogFormat::Enriched,
            log_group: 0,
            priority_boost: 4,
            flush: Flush::None,
            freq: 0,
            num_logs: 0,
            name_format: NameFormat::None,
            name: None,
            max_log_file: 0,
            max_log_file_action: SizeAction::Ignore,
            space_left: Space::Megabytes(0),
            space_left_action: Action::Ignore,
            action_mail_acct: "root".into(),
            verify_email: true,
            admin_space_left: Space::Megabytes(0),
            admin_space_left_action: Action::Ignore,
            disk_full_action: Action::Ignore,
            disk_error_action: Action::Syslog,
            tcp_listen_port: 0,
            tcp_listen_queue: 5,
            tcp_max_per_addr: 1,
            use_libwrap: true,
            tcp_client_ports: (0, 65535),
            tcp_client_max_idle: 0,
            enable_krb5: false,
            krb5_principal: None,
            krb5_key_file: None,
            distribute_network: false,
            q_depth: 2000,
            overflow_action: OverflowAction::Syslog,
            max_restarts: 10,
            plugin_dir: PathBuf::from("/etc/audit/plugins.d"),
            end_of_event_timeout: 2,
            warnings: Vec::new(),
        }
    }
}

/// The settings of an auditd-style file (auditd.conf, plugins.d/*.conf):
/// `(line number, name, the words after "=")`, the words None when the
/// second word is not "="; blank and `#` lines skipped.
pub(crate) fn setting_lines(text: &str) -> impl Iterator<Item = (usize, &str, Option<Vec<&str>>)> {
    text.lines().enumerate().filter_map(|(i, raw)| {
        let mut words = raw.split_ascii_whitespace();
        let name = words.next().filter(|n| !n.starts_with('#'))?;
        let rest = (words.next() == Some("=")).then(|| words.collect());
        Some((i + 1, name, rest))
    })
}

fn bad(line: usize, msg: impl std::fmt::Display) -> Error {
    Error::InvalidArgument(format!("auditd.conf line {line}: {msg}"))
}

fn one_of<T: Copy>(line: usize, key: &str, value: &str, table: &[(&str, T)]) -> Result<T> {
    table
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case(value))
        .map(|&(_, v)| v)
        .ok_or_else(|| {
            let names: Vec<&str> = table.iter().map(|(n, _)| *n).collect();
            bad(
                line,
                format!("{key}: {value:?} is not one of {}", names.join(", ")),
            )
        })
}

/// auditd's number check: digits only, within `max`.
fn number(line: usize, key: &str, value: &str, max: u64) -> Result<u64> {
    if value.is_empty() || !value.bytes().all(|b| b.is_ascii_digit()) {
        return Err(bad(
            line,
            format!("{key}: {value:?} should only be numbers"),
        ));
    }
    match value.parse::<u64>() {
        Ok(n) if n <= max => Ok(n),
        _ => Err(bad(
            line,
            format!("{key}: {value} is too large (at most {max})"),
        )),
    }
}

fn yes_no(line: usize, key: &str, value: &str) -> Result<bool> {
    one_of(line, key, value, &[("yes", true), ("no", false)])
}

fn space(line: usize, key: &str, value: &str) -> Result<Space> {
    match value.strip_suffix('%') {
        Some(p) => {
            let p = number(line, key, p, u64::from(u32::MAX))?;
            if p > 99 {
                return Err(bad(
                    line,
                    format!("{key}: percentages should be less than 100"),
                ));
            }
            Ok(Space::Percent(p as u32))
        }
        None => Ok(Space::Megabytes(number(line, key, value, u64::MAX)?)),
    }
}

fn action(line: usize, key: &str, value: &str, option: Option<&str>) -> Result<Action> {
    let a = match value.to_ascii_lowercase().as_str() {
        "ignore" => Action::Ignore,
        "syslog" => Action::Syslog,
        "rotate" => Action::Rotate,
        "email" => Action::Email,
        "suspend" => Action::Suspend,
        "single" => Action::Single,
        "halt" => Action::Halt,
        "exec" => {
            let exe = option.ok_or_else(|| bad(line, format!("{key}: exec needs a program")))?;
            if !exe.starts_with('/') {
                return Err(bad(line, format!("{key}: {exe} must be an absolute path")));
            }
            Action::Exec(PathBuf::from(exe))
        }
        _ => {
            return Err(bad(
                line,
                format!(
                    "{key}: {value:?} is not one of ignore, syslog, rotate, email, exec, suspend, \
                     single, halt"
                ),
            ))
        }
    };
    Ok(a)
}

fn absolute(line: usize, key: &str, value: &str) -> Result<PathBuf> {
    if !value.starts_with('/') {
        return Err(bad(line, format!("{key}: {value} is not an absolute path")));
    }
    Ok(PathBuf::from(value))
}

/// A group name or number, as auditd's `log_group_parser` takes it.
fn group(line: usize, value: &str) -> Result<u32> {
    if value.bytes().all(|b| b.is_ascii_digit()) {
        return Ok(number(line, "log_group", value, u64::from(u32::MAX))? as u32);
    }
    let name = std::ffi::CString::new(value).map_err(|_| bad(line, "log_group: bad name"))?;
    // SAFETY: getgrnam reads a NUL-terminated string and returns a pointer to
    // static storage or NULL; we read gr_gid at once, before any other call.
    let gid = unsafe {
        let gr = libc::getgrnam(name.as_ptr());
        if gr.is_null() {
            None
        } else {
            Some((*gr).gr_gid)
        }
    };
    gid.ok_or_else(|| bad(line, format!("log_group: unknown group {value:?}")))
}

impl DaemonConfig {
    /// Read an auditd.conf file.
    pub fn load(path: &Path) -> Result<DaemonConfig> {
        let text = std::fs::read(path).map_err(|source| Error::Io {
            op: "read auditd.conf",
            source,
        })?;
        let text = String::from_utf8_lossy(&text);
        DaemonConfig::parse(&text)
    }

    /// Parse auditd.conf text.
    pub fn parse(text: &str) -> Result<DaemonConfig> {
        let mut c = DaemonConfig::default();
        let mut settings = 0;
        for (line, name, words) in setting_lines(text) {
            let words =
                words.ok_or_else(|| bad(line, format!("missing equal sign after {name:?}")))?;
            let (value, option) = match words.as_slice() {
                [] => return Err(bad(line, format!("{name} has no value"))),
                [v] => (*v, None),
                [v, o] => (*v, Some(*o)),
                _ => return Err(bad(line, format!("wrong number of arguments for {name:?}"))),
            };
            let takes_option = matches!(
                name,
                "space_left_action"
                    | "admin_space_left_action"
                    | "disk_full_action"
                    | "disk_error_action"
            );
            if let (Some(o), false) = (option, takes_option) {
                return Err(bad(
                    line,
                    format!("keyword {name:?} has invalid option {o:?}"),
                ));
            }
            c.set(line, name, value, option)?;
            settings += 1;
        }
        if settings > 0 {
            c.sanity_check()?;
        }
        Ok(c)
    }

    fn warn(&mut self, line: usize, what: impl std::fmt::Display) {
        self.warnings
            .push(format!("auditd.conf line {line}: {what}"));
    }

    fn set(&mut self, line: usize, name: &str, value: &str, option: Option<&str>) -> Result<()> {
        const U31: u64 = i32::MAX as u64;
        match name {
            "local_events" => {
                self.local_events = yes_no(line, name, value)?;
                if !self.local_events {
                    self.warn(
                        line,
                        "local_events = no is not supported (auditlink reads the local kernel)",
                    );
                }
            }
            "write_logs" => self.write_logs = yes_no(line, name, value)?,
            "log_file" => self.log_file = absolute(line, name, value)?,
            "log_format" => {
                self.log_format = one_of(
                    line,
                    name,
                    value,
                    &[
                        ("raw", LogFormat::Raw),
                        ("nolog", LogFormat::Nolog),
                        ("enriched", LogFormat::Enriched),
                    ],
                )?;
                if self.log_format == LogFormat::Nolog {
                    self.write_logs = false;
                }
            }
            "log_group" => self.log_group = group(line, value)?,
            "flush" => {
                self.flush = one_of(
                    line,
                    name,
                    value,
                    &[
                        ("none", Flush::None),
                        ("incremental", Flush::Incremental),
                        ("incremental_async", Flush::IncrementalAsync),
                        ("data", Flush::Data),
                        ("sync", Flush::Sync),
                    ],
                )?
            }
            "freq" => self.freq = number(line, name, value, U31)? as u32,
            "num_logs" => {
                let n = number(line, name, value, U31)?;
                if n > 999 {
                    return Err(bad(line, "num_logs must be 999 or less"));
                }
                self.num_logs = n as u32;
            }
            "dispatcher" | "disp_qos" => self.warn(
                line,
                format!("{name} is deprecated and ignored (plugins are configured in plugin_dir)"),
            ),
            "name_format" => {
                self.name_format = one_of(
                    line,
                    name,
                    value,
                    &[
                        ("none", NameFormat::None),
                        ("hostname", NameFormat::Hostname),
                        ("fqd", NameFormat::Fqd),
                        ("numeric", NameFormat::Numeric),
                        ("user", NameFormat::User),
                    ],
                )?
            }
            "name" => self.name = Some(value.to_string()),
            "max_log_file" => self.max_log_file = number(line, name, value, u64::from(u32::MAX))?,
            "max_log_file_action" => {
                self.max_log_file_action = one_of(
                    line,
                    name,
                    value,
                    &[
                        ("ignore", SizeAction::Ignore),
                        ("syslog", SizeAction::Syslog),
                        ("suspend", SizeAction::Suspend),
                        ("rotate", SizeAction::Rotate),
                        ("keep_logs", SizeAction::KeepLogs),
                    ],
                )?
            }
            "space_left" => self.space_left = space(line, name, value)?,
            "admin_space_left" => self.admin_space_left = space(line, name, value)?,
            "space_left_action" => {
                self.space_left_action = self.checked_action(line, name, value, option)?
            }
            "admin_space_left_action" => {
                self.admin_space_left_action = self.checked_action(line, name, value, option)?
            }
            "disk_full_action" => {
                self.disk_full_action = self.checked_action(line, name, value, option)?
            }
            "disk_error_action" => {
                self.disk_error_action = self.checked_action(line, name, value, option)?
            }
            "action_mail_acct" => self.action_mail_acct = value.to_string(),
            "verify_email" => self.verify_email = yes_no(line, name, value)?,
            "priority_boost" => self.priority_boost = number(line, name, value, U31)? as u32,
            "tcp_listen_port" => {
                let p = number(line, name, value, 65535)?;
                if p == 0 {
                    return Err(bad(line, "tcp_listen_port must be 1 to 65535"));
                }
                self.tcp_listen_port = p as u16;
                self.warn(
                    line,
                    "tcp_listen_port: the network listener is not implemented; no port is opened",
                );
            }
            "tcp_listen_queue" => self.tcp_listen_queue = number(line, name, value, U31)? as u32,
            "tcp_max_per_addr" => {
                let n = number(line, name, value, 1024)?;
                if n == 0 {
                    return Err(bad(line, "tcp_max_per_addr must be 1 to 1024"));
                }
                self.tcp_max_per_addr = n as u32;
            }
            "use_libwrap" => self.use_libwrap = yes_no(line, name, value)?,
            "tcp_client_ports" => {
                let (lo, hi) = value.split_once('-').unwrap_or((value, value));
                let lo = number(line, name, lo, 65535)? as u16;
                let hi = number(line, name, hi, 65535)? as u16;
                if lo > hi {
                    return Err(bad(
                        line,
                        "tcp_client_ports: the low port is above the high port",
                    ));
                }
                self.tcp_client_ports = (lo, hi);
            }
            "tcp_client_max_idle" => {
                self.tcp_client_max_idle = number(line, name, value, U31)? as u32
            }
            "transport" => {
                one_of(line, name, value, &[("tcp", ())])?;
            }
            "enable_krb5" => {
                self.enable_krb5 = yes_no(line, name, value)?;
                if self.enable_krb5 {
                    self.warn(line, "enable_krb5: Kerberos is not implemented");
                }
            }
            "krb5_principal" => self.krb5_principal = Some(value.to_string()),
            "krb5_key_file" => self.krb5_key_file = Some(absolute(line, name, value)?),
            "distribute_network" => {
                self.distribute_network = yes_no(line, name, value)?;
                if self.distribute_network {
                    self.warn(
                        line,
                        "distribute_network: there is no network listener to distribute from",
                    );
                }
            }
            "q_depth" => self.q_depth = number(line, name, value, 99_999)? as u32,
            "overflow_action" => {
                self.overflow_action = one_of(
                    line,
                    name,
                    value,
                    &[
                        ("ignore", OverflowAction::Ignore),
                        ("syslog", OverflowAction::Syslog),
                        ("suspend", OverflowAction::Suspend),
                        ("single", OverflowAction::Single),
                        ("halt", OverflowAction::Halt),
                    ],
                )?;
                if matches!(
                    self.overflow_action,
                    OverflowAction::Single | OverflowAction::Halt
                ) {
                    self.warn(line, "overflow_action: single/halt are not done; the overflow is logged and the plugin's copy dropped");
                }
            }
            "max_restarts" => self.max_restarts = number(line, name, value, U31)? as u32,
            "plugin_dir" => self.plugin_dir = absolute(line, name, value)?,
            "end_of_event_timeout" => {
                self.end_of_event_timeout = number(line, name, value, U31)? as u32
            }
            _ => return Err(bad(line, format!("unknown keyword {name:?}"))),
        }
        Ok(())
    }

    fn checked_action(
        &mut self,
        line: usize,
        key: &str,
        value: &str,
        option: Option<&str>,
    ) -> Result<Action> {
        let a = action(line, key, value, option)?;
        match a {
            Action::Email => self.warn(line, format!("{key}: email is not implemented; the alert goes to syslog")),
            Action::Single | Action::Halt => self.warn(
                line,
                format!("{key}: single/halt are not done by auditlink; it alerts syslog and suspends logging"),
            ),
            _ => {}
        }
        Ok(a)
    }

    /// auditd's `sanity_check`.
    fn sanity_check(&self) -> Result<()> {
        if let (Space::Megabytes(s), Space::Megabytes(a)) = (self.space_left, self.admin_space_left)
        {
            if s <= a {
                return Err(Error::InvalidArgument(format!(
                    "auditd.conf: space_left ({s}) must be larger than admin_space_left ({a})"
                )));
            }
        }
        if matches!(self.flush, Flush::Incremental | Flush::IncrementalAsync) && self.freq == 0 {
            return Err(Error::InvalidArgument(
                "auditd.conf: incremental flushing chosen, but 0 selected for freq".into(),
            ));
        }
        if self.log_group != 0 && self.log_file.parent() == Some(Path::new("/var/log")) {
            return Err(Error::InvalidArgument(
                "auditd.conf: log_file is directly in /var/log and chgrp would alter a system \
                 directory's permissions; use another directory"
                    .into(),
            ));
        }
        Ok(())
    }
}

/// auditlink.toml: auditlink's additions, next to auditd.conf.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Extras {
    /// JSON lines output of whole events.
    #[serde(default)]
    pub json: Option<JsonOutput>,
    #[serde(default)]
    pub python: PythonHandOff,
    #[serde(default)]
    pub pipeline: PipelineSettings,
    #[serde(default)]
    pub kernel: KernelSettings,
}

/// `[json]`: one JSON object per event (the records module's event shape),
/// appended to `path`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct JsonOutput {
    pub path: PathBuf,
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

/// `[pipeline]`: sizes of the reader-to-writer queue.
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
}

fn default_receive_buffer() -> usize {
    16 << 20
}

fn default_linger_us() -> u64 {
    500
}

/// A batch is a block of receive slots (`SLOT_BYTES` = 9 KiB each): 224 of
/// them fill one 2 MiB huge page. With a pool of 6 + 2 batches, at most 1,792
/// records (16 MiB of slots) are between the kernel and the log.
fn default_batch_records() -> usize {
    224
}

fn default_queue_batches() -> usize {
    6
}

impl Default for PipelineSettings {
    fn default() -> Self {
        PipelineSettings {
            batch_records: default_batch_records(),
            queue_batches: default_queue_batches(),
            linger_us: default_linger_us(),
            receive_buffer_bytes: default_receive_buffer(),
        }
    }
}

impl Extras {
    pub fn parse(text: &str) -> Result<Extras> {
        let e: Extras = toml::from_str(text)
            .map_err(|e| Error::InvalidArgument(format!("auditlink.toml: {e}")))?;
        if let Some(f) = e.kernel.failure {
            if f > 2 {
                return Err(Error::InvalidArgument(
                    "auditlink.toml: kernel.failure must be 0, 1 or 2".into(),
                ));
            }
        }
        if e.pipeline.batch_records == 0 || e.pipeline.queue_batches == 0 {
            return Err(Error::InvalidArgument(
                "auditlink.toml: pipeline sizes must be at least 1".into(),
            ));
        }
        Ok(e)
    }

    /// `auditlink.toml` beside `auditd_conf`, or the defaults when there is none.
    pub fn load_beside(auditd_conf: &Path) -> Result<Extras> {
        let path = auditd_conf.with_file_name("auditlink.toml");
        match std::fs::read_to_string(&path) {
            Ok(text) => Extras::parse(&text),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Extras::default()),
            Err(source) => Err(Error::Io {
                op: "read auditlink.toml",
                source,
            }),
        }
    }
}

#[cfg(test)]
#[path = "config_tests.rs"]
mod tests;
