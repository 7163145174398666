//! What the enricher reads from /proc: a process's stat line (ppid, comm, start
//! time), exe link, cgroup file and environment.

use std::fs;
use std::os::unix::ffi::OsStrExt;
use std::path::PathBuf;
use std::sync::OnceLock;

/// One process as /proc shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProcInfo {
    pub pid: u32,
    pub ppid: u32,
    pub comm: Vec<u8>,
    /// Milliseconds since the epoch.
    pub start_ms: u64,
    pub exe: Option<Vec<u8>>,
}

/// Where a stat line's `comm` ends: its LAST ')'.
fn comm_end(text: &[u8]) -> Option<usize> {
    text.iter().rposition(|&c| c == b')')
}

/// Fields of /proc/PID/stat we use. `comm` is in parentheses and may itself
/// contain spaces and parentheses, so the rest starts after the LAST ')'.
pub fn parse_stat(text: &[u8]) -> Option<(u32, Vec<u8>, u32, u64)> {
    let open = text.iter().position(|&c| c == b'(')?;
    let close = comm_end(text)?;
    if close < open {
        return None;
    }
    let pid = std::str::from_utf8(&text[..open])
        .ok()?
        .trim()
        .parse()
        .ok()?;
    let comm = text[open + 1..close].to_vec();
    let rest = std::str::from_utf8(text.get(close + 1..)?).ok()?;
    let fields: Vec<&str> = rest.split_ascii_whitespace().collect();
    // rest[0] is field 3 (state): ppid is field 4, starttime field 22.
    let ppid = fields.get(1)?.parse().ok()?;
    let start_ticks = fields.get(19)?.parse().ok()?;
    Some((pid, comm, ppid, start_ticks))
}

fn clock_ns(clock: libc::clockid_t) -> u128 {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: ts is a valid, writable timespec.
    unsafe { libc::clock_gettime(clock, &mut ts) };
    (ts.tv_sec as u128) * 1_000_000_000 + ts.tv_nsec as u128
}

/// The real-time clock minus the boot-time clock, in ns. The real-time read is
/// bracketed by two boot-time reads and the narrowest of a few brackets is kept,
/// so a preemption between the reads (tens of ms on a loaded machine) does not
/// shift every start time for the rest of the process's life.
fn boot_offset_ns() -> u128 {
    let mut best: Option<(u128, u128)> = None;
    for _ in 0..8 {
        let before = clock_ns(libc::CLOCK_BOOTTIME);
        let real = clock_ns(libc::CLOCK_REALTIME);
        let after = clock_ns(libc::CLOCK_BOOTTIME);
        let width = after.saturating_sub(before);
        if best.is_none_or(|(w, _)| width < w) {
            best = Some((width, real.saturating_sub(before + width / 2)));
        }
        if width < 20_000 {
            break;
        }
    }
    best.map_or(0, |(_, offset)| offset)
}

/// Boot time in ns since the epoch (the real-time clock minus the time since
/// boot, as laurel computes it: /proc/stat's btime has whole seconds only) and
/// clock ticks per second, read once so that a process's start time stays the
/// same value (it is part of its identity) while the daemon runs.
fn boot_clock() -> (u128, u128) {
    static CLOCK: OnceLock<(u128, u128)> = OnceLock::new();
    *CLOCK.get_or_init(|| {
        let boot = boot_offset_ns();
        // SAFETY: sysconf has no preconditions.
        let hz = unsafe { libc::sysconf(libc::_SC_CLK_TCK) };
        (boot, if hz > 0 { hz as u128 } else { 100 })
    })
}

/// A start time in clock ticks since boot as ms since the epoch.
pub fn ticks_to_epoch_ms(ticks: u64) -> u64 {
    let (boot_ns, hz) = boot_clock();
    ((boot_ns + u128::from(ticks) * 1_000_000_000 / hz) / 1_000_000) as u64
}

fn pid_path(pid: u32, what: &str) -> PathBuf {
    PathBuf::from(format!("/proc/{pid}/{what}"))
}

/// Start time (ms since the epoch) of the process now holding `pid`.
pub fn start_ms(pid: u32) -> Option<u64> {
    let text = fs::read(pid_path(pid, "stat")).ok()?;
    parse_stat(&text).map(|(_, _, _, t)| ticks_to_epoch_ms(t))
}

pub fn exe(pid: u32) -> Option<Vec<u8>> {
    fs::read_link(pid_path(pid, "exe"))
        .ok()
        .map(|p| p.as_os_str().as_bytes().to_vec())
}

pub fn cgroup(pid: u32) -> Option<String> {
    fs::read_to_string(pid_path(pid, "cgroup")).ok()
}

/// Metadata of `path` as process `pid` sees it (through its root directory).
pub fn metadata_in(pid: u32, path: &[u8]) -> Option<fs::Metadata> {
    if path.first() != Some(&b'/') {
        return None;
    }
    let mut p = format!("/proc/{pid}/root").into_bytes();
    p.extend_from_slice(path);
    fs::metadata(std::ffi::OsStr::from_bytes(&p)).ok()
}

/// The environment block of a live process. An exited process not yet reaped
/// (a zombie) reads as empty, like one started with no environment; only the
/// latter yields `Some(empty)`, so a late read is "not read", never "no variables".
pub fn environ(pid: u32) -> Option<Vec<u8>> {
    let block = fs::read(pid_path(pid, "environ")).ok()?;
    if block.is_empty() && !alive(pid) {
        return None;
    }
    Some(block)
}

/// Whether the process exists and has not exited (state neither Z nor X).
fn alive(pid: u32) -> bool {
    let Ok(text) = fs::read(pid_path(pid, "stat")) else {
        return false;
    };
    let Some(close) = comm_end(&text) else {
        return false;
    };
    !matches!(text.get(close + 2), Some(b'Z' | b'X') | None)
}

pub fn info(pid: u32) -> Option<ProcInfo> {
    let text = fs::read(pid_path(pid, "stat")).ok()?;
    let (pid, comm, ppid, ticks) = parse_stat(&text)?;
    Some(ProcInfo {
        pid,
        ppid,
        comm,
        start_ms: ticks_to_epoch_ms(ticks),
        exe: exe(pid),
    })
}

/// The pids of every process now running.
pub fn pids() -> Vec<u32> {
    let Ok(dir) = fs::read_dir("/proc") else {
        return Vec::new();
    };
    dir.filter_map(|e| e.ok()?.file_name().to_str()?.parse().ok())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn environ_of_an_exited_process_is_not_read() {
        assert!(environ(std::process::id()).is_some_and(|b| !b.is_empty()));
        let mut child = std::process::Command::new("/bin/true")
            .env_clear()
            .spawn()
            .unwrap();
        let pid = child.id();
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        while alive(pid) && std::time::Instant::now() < deadline {
            std::thread::sleep(std::time::Duration::from_millis(2));
        }
        assert_eq!(environ(pid), None, "zombie reads as not read");
        child.wait().unwrap();
        assert_eq!(environ(pid), None);
    }

    #[test]
    fn stat_with_odd_comm() {
        let line = b"925028 (a) b) (c) R 3057 925028 925028 0 -1 4194304 1131624 1579849 3 604 183731 6453 20699 2693 20 0 5 0 22398221 3922935808 191059";
        let (pid, comm, ppid, start) = parse_stat(line).unwrap();
        assert_eq!((pid, ppid, start), (925028, 3057, 22398221));
        assert_eq!(comm, b"a) b) (c");
        assert_eq!(parse_stat(b""), None);
        assert_eq!(parse_stat(b"1 (x"), None);
        assert_eq!(parse_stat(b"1 x) ("), None);
    }

    #[test]
    fn boot_time_is_the_kernels_btime() {
        // /proc/stat's btime is the same difference of the two clocks, in whole
        // seconds (read after ours: the boundary may fall in between).
        let boot_s = (boot_offset_ns() / 1_000_000_000) as u64;
        let stat = fs::read_to_string("/proc/stat").unwrap();
        let btime: u64 = stat
            .lines()
            .find_map(|l| l.strip_prefix("btime "))
            .unwrap()
            .trim()
            .parse()
            .unwrap();
        assert!(
            btime == boot_s || btime == boot_s + 1,
            "{btime} vs {boot_s}"
        );
    }

    #[test]
    fn own_process() {
        let me = std::process::id();
        let i = info(me).unwrap();
        assert_eq!(i.pid, me);
        assert!(i.start_ms > 1_000_000_000_000);
        assert!(pids().contains(&me));
        assert_eq!(start_ms(me), Some(i.start_ms));
    }

    proptest::proptest! {
        #[test]
        fn stat_never_panics(b in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..300)) {
            let _ = parse_stat(&b);
        }
    }
}
