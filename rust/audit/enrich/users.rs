//! The groups of a user (`UID_GROUPS`), from /etc/passwd and /etc/group, cached
//! and re-read when either file's modification time or size changes (checked
//! at most once a second).

use std::collections::HashMap;
use std::fs;
use std::os::unix::fs::MetadataExt;
use std::path::PathBuf;
use std::time::{Duration, Instant};

type Stamp = Option<(i64, i64, u64)>;

fn stamp(path: &PathBuf) -> Stamp {
    fs::metadata(path)
        .ok()
        .map(|m| (m.mtime(), m.mtime_nsec(), m.size()))
}

#[derive(Debug)]
pub struct UserDb {
    passwd: PathBuf,
    group: PathBuf,
    stamps: (Stamp, Stamp),
    checked: Option<Instant>,
    /// uid -> group names (primary first, then the others by gid).
    groups: HashMap<u32, Vec<String>>,
    /// Times the files were (re)read.
    pub loads: u64,
}

impl UserDb {
    pub fn new() -> UserDb {
        UserDb::with_files("/etc/passwd".into(), "/etc/group".into())
    }

    pub fn with_files(passwd: PathBuf, group: PathBuf) -> UserDb {
        UserDb {
            passwd,
            group,
            stamps: (None, None),
            checked: None,
            groups: HashMap::new(),
            loads: 0,
        }
    }

    fn refresh(&mut self) {
        let now = Instant::now();
        if self
            .checked
            .is_some_and(|t| now.duration_since(t) < Duration::from_secs(1))
        {
            return;
        }
        self.checked = Some(now);
        let stamps = (stamp(&self.passwd), stamp(&self.group));
        if stamps == self.stamps && self.loads > 0 {
            return;
        }
        self.stamps = stamps;
        self.load();
    }

    /// Forget the last check time (tests change the files faster than 1/s).
    pub fn recheck(&mut self) {
        self.checked = None;
    }

    fn load(&mut self) {
        self.loads += 1;
        self.groups.clear();
        let passwd = fs::read_to_string(&self.passwd).unwrap_or_default();
        let group = fs::read_to_string(&self.group).unwrap_or_default();
        let mut by_gid: Vec<(u32, &str, Vec<&str>)> = Vec::new();
        for line in group.lines() {
            let f: Vec<&str> = line.split(':').collect();
            if let (Some(name), Some(gid), Some(members)) = (f.first(), f.get(2), f.get(3)) {
                if let Ok(gid) = gid.parse() {
                    let members = members.split(',').filter(|m| !m.is_empty()).collect();
                    by_gid.push((gid, name, members));
                }
            }
        }
        by_gid.sort_by_key(|g| g.0);
        for line in passwd.lines() {
            let f: Vec<&str> = line.split(':').collect();
            let (Some(user), Some(uid), Some(gid)) = (f.first(), f.get(2), f.get(3)) else {
                continue;
            };
            let (Ok(uid), Ok(gid)) = (uid.parse::<u32>(), gid.parse::<u32>()) else {
                continue;
            };
            if self.groups.contains_key(&uid) {
                continue;
            }
            let mut names: Vec<String> = Vec::new();
            if let Some(g) = by_gid.iter().find(|g| g.0 == gid) {
                names.push(g.1.to_string());
            }
            for g in &by_gid {
                if g.0 != gid && g.2.contains(user) && !names.iter().any(|n| n == g.1) {
                    names.push(g.1.to_string());
                }
            }
            self.groups.insert(uid, names);
        }
    }

    pub fn groups(&mut self, uid: u32) -> Option<&[String]> {
        self.refresh();
        self.cached(uid)
    }

    /// The groups as last read (no check of the files).
    pub fn cached(&self, uid: u32) -> Option<&[String]> {
        self.groups.get(&uid).map(Vec::as_slice)
    }
}

impl Default for UserDb {
    fn default() -> UserDb {
        UserDb::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn groups_and_invalidation() {
        let dir = std::env::temp_dir().join(format!("auditlink-users-{}", std::process::id()));
        fs::create_dir_all(&dir).unwrap();
        let (p, g) = (dir.join("passwd"), dir.join("group"));
        fs::write(
            &p,
            "root:x:0:0::/root:/bin/sh\nann:x:1000:1000::/home/ann:/bin/sh\nbad line\n",
        )
        .unwrap();
        fs::write(
            &g,
            "root:x:0:\nann:x:1000:\nwheel:x:10:ann,bob\naudio:x:29:bob\n",
        )
        .unwrap();
        let mut db = UserDb::with_files(p.clone(), g.clone());
        assert_eq!(db.groups(1000).unwrap(), ["ann", "wheel"]);
        assert_eq!(db.groups(0).unwrap(), ["root"]);
        assert_eq!(db.groups(5), None);
        fs::write(
            &g,
            "root:x:0:\nann:x:1000:\nwheel:x:10:ann,bob\naudio:x:29:bob,ann\n",
        )
        .unwrap();
        db.recheck();
        assert_eq!(db.groups(1000).unwrap(), ["ann", "wheel", "audio"]);
        assert_eq!(db.loads, 2);
        fs::remove_dir_all(&dir).unwrap();
    }
}
