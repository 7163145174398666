//! The state file: the process table saved (periodically and on close) as JSON
//! and loaded at start when younger than `max-age`, so a restart does not
//! orphan the processes already running.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};

use super::table::ProcessTable;

const VERSION: u32 = 1;

#[derive(Serialize, Deserialize)]
struct Saved {
    version: u32,
    saved_ms: u64,
    table: ProcessTable,
}

fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

fn generation(path: &Path, n: u64) -> PathBuf {
    let mut s = path.as_os_str().to_owned();
    s.push(format!(".{n}"));
    PathBuf::from(s)
}

/// Write atomically (temporary file, then rename), keeping `generations` old copies.
pub fn save(path: &Path, table: &ProcessTable, generations: u64) -> std::io::Result<()> {
    let saved = Saved {
        version: VERSION,
        saved_ms: now_ms(),
        table: table.clone(),
    };
    let data = serde_json::to_vec(&saved).map_err(std::io::Error::other)?;
    let tmp = generation(path, 0).with_extension("tmp");
    {
        let mut f = fs::File::create(&tmp)?;
        f.write_all(&data)?;
        f.sync_data()?;
    }
    if generations > 0 && path.exists() {
        for n in (1..generations).rev() {
            let _ = fs::rename(generation(path, n), generation(path, n + 1));
        }
        let _ = fs::rename(path, generation(path, 1));
    }
    fs::rename(&tmp, path)
}

/// The saved table, if the file exists, is readable and is at most `max_age_s` old.
pub fn load(path: &Path, max_age_s: u64) -> Option<ProcessTable> {
    let data = fs::read(path).ok()?;
    let saved: Saved = serde_json::from_slice(&data).ok()?;
    if saved.version != VERSION || now_ms().saturating_sub(saved.saved_ms) > max_age_s * 1000 {
        return None;
    }
    Some(saved.table)
}

#[cfg(test)]
mod tests {
    use super::super::table::{Kind, Origin, Process};
    use super::*;

    #[test]
    fn round_trip_and_staleness() {
        let dir = std::env::temp_dir().join(format!("auditlink-state-{}", std::process::id()));
        fs::create_dir_all(&dir).unwrap();
        let path = dir.join("state");
        let mut t = ProcessTable::new(100);
        let mut p = Process::new(42, 1, Origin::Observed { start_ms: 7 }, Kind::Seen);
        p.labels.insert("x".into());
        let id = t.insert(p);
        save(&path, &t, 2).unwrap();
        save(&path, &t, 2).unwrap();
        assert!(generation(&path, 1).exists());
        let back = load(&path, 60).unwrap();
        assert_eq!(back.current(42), Some(id));
        assert!(back.get(id).unwrap().labels.contains("x"));
        fs::write(&path, b"{not json").unwrap();
        assert!(load(&path, 60).is_none());
        let mut old = serde_json::to_value(Saved {
            version: VERSION,
            saved_ms: 0,
            table: t,
        })
        .unwrap();
        old["saved_ms"] = 1.into();
        fs::write(&path, serde_json::to_vec(&old).unwrap()).unwrap();
        assert!(load(&path, 60).is_none());
        fs::remove_dir_all(&dir).unwrap();
    }
}
