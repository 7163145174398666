//! The enricher's configuration: laurel's config.toml format (same sections, keys,
//! defaults; see laurel(8)) plus auditlink's own `[auditlink]` section.
//!
//! laurel's top-level keys (`directory`, `user`, `input`, ...) and its log
//! sections are accepted so that a laurel configuration file loads unchanged;
//! only `directory` (the base of a relative state file path) means something here.

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;

use serde::Deserialize;

use crate::audit::records::json::Translation;

#[derive(Debug, Clone, Deserialize, Default)]
#[serde(default)]
pub struct Config {
    pub directory: Option<PathBuf>,
    // Accepted for laurel compatibility; they configure laurel's own process.
    pub user: Option<String>,
    pub input: Option<String>,
    #[serde(rename = "statusreport-period")]
    pub statusreport_period: Option<u64>,
    pub marker: Option<String>,
    pub auditlog: Option<toml::Value>,
    pub filterlog: Option<toml::Value>,
    pub debug: Option<toml::Value>,
    /// Present only when the configuration has a `[state]` section: an
    /// enricher made without one keeps no state file.
    pub state: Option<State>,
    pub transform: Transform,
    pub translate: Translate,
    pub enrich: Enrich,
    #[serde(rename = "label-process")]
    pub label_process: LabelProcess,
    pub filter: Filter,
    pub auditlink: Auditlink,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(default)]
pub struct State {
    /// Empty = no state file.
    pub file: PathBuf,
    pub generations: u64,
    #[serde(rename = "max-age")]
    pub max_age: u64,
    #[serde(rename = "write-state-period")]
    pub write_state_period: Option<u64>,
}

impl Default for State {
    fn default() -> State {
        State {
            file: "state".into(),
            generations: 0,
            max_age: 60,
            write_state_period: None,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ArgvForm {
    Array,
    String,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(default)]
pub struct Transform {
    #[serde(rename = "execve-argv")]
    pub execve_argv: BTreeSet<ArgvForm>,
    #[serde(rename = "execve-argv-limit-bytes")]
    pub execve_argv_limit_bytes: Option<usize>,
}

impl Default for Transform {
    fn default() -> Transform {
        Transform {
            execve_argv: [ArgvForm::Array].into(),
            execve_argv_limit_bytes: None,
        }
    }
}

/// laurel's `[translate]`: which of auparse's interpretations the records'
/// objects carry. Unset, `universal` and `user-db` are on (auditlink's records
/// shape); `false` leaves those UPPER-case keys out, as laurel does.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct Translate {
    /// Everything but uid/gid names: ARCH, SYSCALL, SADDR, EXIT, ...
    pub universal: Option<bool>,
    /// Names for uids and gids (UID, AUID, OGID, ...).
    #[serde(rename = "user-db", alias = "userdb")]
    pub userdb: Option<bool>,
    /// A field whose interpretation is written loses its raw value.
    #[serde(rename = "drop-raw")]
    pub drop_raw: bool,
}

impl Translate {
    pub fn translation(&self) -> Translation {
        Translation {
            ids: self.userdb.unwrap_or(true),
            universal: self.universal.unwrap_or(true),
            drop_raw: self.drop_raw,
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(default)]
pub struct Enrich {
    #[serde(rename = "execve-env")]
    pub execve_env: Vec<String>,
    pub container: bool,
    pub container_info: bool,
    pub systemd: bool,
    pub pid: bool,
    #[serde(rename = "spawned-by")]
    pub spawned_by: bool,
    #[serde(rename = "ppid-verbose")]
    pub ppid_verbose: bool,
    pub script: bool,
    /// laurel's code reads `uid-groups`, its manual says `user-groups`.
    #[serde(rename = "uid-groups", alias = "user-groups")]
    pub uid_groups: bool,
    pub prefix: Option<String>,
    #[serde(rename = "exe-hash")]
    pub exe_hash: bool,
    #[serde(rename = "exe-hash-size-limit")]
    pub exe_hash_size_limit: u64,
    #[serde(rename = "exe-hash-cache-entries")]
    pub exe_hash_cache_entries: usize,
}

impl Default for Enrich {
    fn default() -> Enrich {
        Enrich {
            execve_env: vec!["LD_PRELOAD".into(), "LD_LIBRARY_PATH".into()],
            container: true,
            container_info: false,
            systemd: true,
            pid: true,
            spawned_by: true,
            ppid_verbose: false,
            script: true,
            uid_groups: true,
            prefix: None,
            exe_hash: false,
            exe_hash_size_limit: 10_000_000,
            exe_hash_cache_entries: 1024,
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(default)]
pub struct LabelProcess {
    #[serde(rename = "label-keys")]
    pub label_keys: BTreeSet<String>,
    #[serde(rename = "label-exe")]
    pub label_exe: BTreeMap<String, String>,
    #[serde(rename = "unlabel-exe")]
    pub unlabel_exe: BTreeMap<String, String>,
    #[serde(rename = "label-argv")]
    pub label_argv: BTreeMap<String, String>,
    #[serde(rename = "unlabel-argv")]
    pub unlabel_argv: BTreeMap<String, String>,
    #[serde(rename = "label-argv-bytes")]
    pub label_argv_bytes: usize,
    #[serde(rename = "label-argv-count")]
    pub label_argv_count: usize,
    #[serde(rename = "label-script")]
    pub label_script: BTreeMap<String, String>,
    #[serde(rename = "unlabel-script")]
    pub unlabel_script: BTreeMap<String, String>,
    #[serde(rename = "propagate-labels")]
    pub propagate_labels: BTreeSet<String>,
}

impl Default for LabelProcess {
    fn default() -> LabelProcess {
        LabelProcess {
            label_keys: BTreeSet::new(),
            label_exe: BTreeMap::new(),
            unlabel_exe: BTreeMap::new(),
            label_argv: BTreeMap::new(),
            unlabel_argv: BTreeMap::new(),
            label_argv_bytes: 4096,
            label_argv_count: 32,
            label_script: BTreeMap::new(),
            unlabel_script: BTreeMap::new(),
            propagate_labels: BTreeSet::new(),
        }
    }
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum FilterAction {
    #[default]
    #[serde(alias = "Drop")]
    Drop,
    /// laurel writes these to its filter log; auditlink hands them out marked
    /// as diverted, for a second output.
    #[serde(alias = "Log")]
    Log,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(default)]
pub struct Filter {
    #[serde(rename = "filter-keys")]
    pub filter_keys: BTreeSet<String>,
    #[serde(rename = "filter-labels")]
    pub filter_labels: BTreeSet<String>,
    #[serde(rename = "filter-raw-lines")]
    pub filter_raw_lines: Vec<String>,
    #[serde(rename = "filter-null-keys")]
    pub filter_null_keys: bool,
    #[serde(rename = "filter-sockaddr")]
    pub filter_sockaddr: Vec<String>,
    #[serde(rename = "filter-action")]
    pub filter_action: FilterAction,
    #[serde(rename = "keep-first-per-process")]
    pub keep_first_per_process: bool,
}

impl Default for Filter {
    fn default() -> Filter {
        Filter {
            filter_keys: BTreeSet::new(),
            filter_labels: BTreeSet::new(),
            filter_raw_lines: Vec::new(),
            filter_null_keys: false,
            filter_sockaddr: Vec::new(),
            filter_action: FilterAction::Drop,
            keep_first_per_process: true,
        }
    }
}

/// auditlink's additions.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Auditlink {
    /// Add `SYSCALL.ANCESTORS`.
    pub ancestors: bool,
    /// Longest ancestor chain written (nearest first).
    #[serde(rename = "ancestors-max")]
    pub ancestors_max: usize,
    /// Processes kept in the table; beyond it the least recently used exited
    /// processes go first.
    #[serde(rename = "max-processes")]
    pub max_processes: usize,
    /// Consult /proc (seed the table at start, look up unknown pids, read
    /// cgroups, environments, exe hashes). Unset: on for live events, off for
    /// logs (whose pids belong to processes of the past or of another machine).
    pub procfs: Option<bool>,
    /// Also write comm, exe and ppid in `SYSCALL.PID` (laurel writes them only
    /// for pids of other records).
    #[serde(rename = "pid-verbose")]
    pub pid_verbose: bool,
    /// Use the kernel's clone/fork records (when audited) to learn of new
    /// processes and their spawner before they exec.
    #[serde(rename = "track-forks")]
    pub track_forks: bool,
}

impl Default for Auditlink {
    fn default() -> Auditlink {
        Auditlink {
            ancestors: true,
            ancestors_max: 32,
            max_processes: 32_768,
            procfs: None,
            pid_verbose: true,
            track_forks: true,
        }
    }
}

impl Config {
    /// Parse TOML text in laurel's format.
    pub fn from_toml(text: &str) -> Result<Config, String> {
        let c: Config = toml::from_str(text).map_err(|e| e.to_string())?;
        c.check()?;
        Ok(c)
    }

    /// Range checks serde cannot express.
    pub fn check(&self) -> Result<(), String> {
        if self.auditlink.max_processes < 16 {
            return Err("auditlink.max-processes must be >= 16".into());
        }
        if self.auditlink.ancestors_max > 4096 {
            return Err("auditlink.ancestors-max must be <= 4096".into());
        }
        Ok(())
    }

    /// The state file's path (relative paths are under `directory`), if any.
    pub fn state_path(&self) -> Option<PathBuf> {
        let s = self.state.as_ref()?;
        if s.file.as_os_str().is_empty() {
            return None;
        }
        Some(match &self.directory {
            Some(d) if s.file.is_relative() => d.join(&s.file),
            _ => s.file.clone(),
        })
    }
}
