//! `EXE_HASH`: SHA-256 of a process's executable, read through /proc/PID/exe
//! (the file the process runs, even if its path was replaced since), skipped
//! above a size limit, LRU-cached by (device, inode, mtime).

use std::fs::File;
use std::io::Read;
use std::num::NonZeroUsize;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::MetadataExt;

use lru::LruCache;
use sha2::{Digest, Sha256};

type Key = (u64, u64, i64, i64);

pub struct ExeHasher {
    cache: Option<LruCache<Key, [u8; 32]>>,
    size_limit: u64,
    /// Files hashed (cache misses).
    pub hashed: u64,
}

impl std::fmt::Debug for ExeHasher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ExeHasher")
            .field("size_limit", &self.size_limit)
            .field("hashed", &self.hashed)
            .finish()
    }
}

pub fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write;
    bytes
        .iter()
        .fold(String::with_capacity(bytes.len() * 2), |mut s, b| {
            let _ = write!(s, "{b:02x}");
            s
        })
}

impl ExeHasher {
    pub fn new(size_limit: u64, cache_entries: usize) -> ExeHasher {
        ExeHasher {
            cache: NonZeroUsize::new(cache_entries).map(LruCache::new),
            size_limit,
            hashed: 0,
        }
    }

    /// The hash of what `pid` runs, if its exe link still names `exe` (so a
    /// process that exec'd again since the event is not mistaken).
    pub fn hash_pid(&mut self, pid: u32, exe: &[u8]) -> Option<String> {
        let link = std::fs::read_link(format!("/proc/{pid}/exe")).ok()?;
        if link.as_os_str().as_bytes() != exe {
            return None;
        }
        self.hash_file(File::open(format!("/proc/{pid}/exe")).ok()?)
    }

    pub fn hash_file(&mut self, file: File) -> Option<String> {
        let meta = file.metadata().ok()?;
        if meta.len() > self.size_limit {
            return None;
        }
        let key = (meta.dev(), meta.ino(), meta.mtime(), meta.mtime_nsec());
        if let Some(h) = self.cache.as_mut().and_then(|c| c.get(&key)) {
            return Some(hex(h));
        }
        let mut hasher = Sha256::new();
        let mut buf = vec![0u8; 64 * 1024];
        let mut limited = file.take(meta.len());
        loop {
            match limited.read(&mut buf) {
                Ok(0) => break,
                Ok(n) => hasher.update(&buf[..n]),
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(_) => return None,
            }
        }
        self.hashed += 1;
        let h: [u8; 32] = hasher.finalize().into();
        if let Some(c) = self.cache.as_mut() {
            c.put(key, h);
        }
        Some(hex(&h))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hash_cache_and_limit() {
        let path = std::env::temp_dir().join(format!("auditlink-exehash-{}", std::process::id()));
        std::fs::write(&path, b"abc").unwrap();
        let mut h = ExeHasher::new(10, 4);
        let want = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";
        assert_eq!(
            h.hash_file(File::open(&path).unwrap()).as_deref(),
            Some(want)
        );
        assert_eq!(
            h.hash_file(File::open(&path).unwrap()).as_deref(),
            Some(want)
        );
        assert_eq!(h.hashed, 1);
        std::fs::write(&path, b"0123456789ab").unwrap();
        assert_eq!(h.hash_file(File::open(&path).unwrap()), None);
        let me = std::process::id();
        let exe = std::fs::read_link("/proc/self/exe").unwrap();
        let mut big = ExeHasher::new(u64::MAX, 0);
        assert!(big.hash_pid(me, exe.as_os_str().as_bytes()).is_some());
        assert!(big.hash_pid(me, b"/not/it").is_none());
        std::fs::remove_file(&path).unwrap();
    }
}
