//! Tests of the daemon's writer module.
use super::*;
use std::os::unix::fs::MetadataExt;

fn config(dir: &Path, extra: &str) -> DaemonConfig {
    DaemonConfig::parse(&format!(
        "log_file = {}/audit.log\nspace_left = 2\nadmin_space_left = 1\n{extra}",
        dir.display()
    ))
    .unwrap()
}

fn lines(from: usize, n: usize) -> Vec<u8> {
    (from..from + n)
        .flat_map(|i| {
            format!("type=SYSCALL msg=audit(1.000:{i}): {}\n", "x".repeat(200)).into_bytes()
        })
        .collect()
}

fn count_lines(dir: &Path) -> usize {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|e| {
            std::fs::read(e.unwrap().path())
                .unwrap()
                .iter()
                .filter(|&&b| b == b'\n')
                .count()
        })
        .sum()
}

#[test]
fn new_log_is_0600_and_rotated_logs_are_read_only() {
    let dir = crate::audit::daemon::test_dir("writer-mode");
    let d = dir.path();
    let counters = Arc::new(WriterCounters::default());
    let mut w = LogWriter::new(config(d, "num_logs = 3\n"), counters.clone()).unwrap();
    w.write(&lines(0, 1), 1);
    assert_eq!(
        std::fs::metadata(d.join("audit.log")).unwrap().mode() & 0o777,
        0o600
    );
    w.rotate_now();
    assert_eq!(
        std::fs::metadata(d.join("audit.log.1")).unwrap().mode() & 0o777,
        0o400
    );
    assert_eq!(
        std::fs::metadata(d.join("audit.log")).unwrap().mode() & 0o777,
        0o600
    );
    assert_eq!(counters.rotations.load(Ordering::Relaxed), 1);
}

#[test]
fn rotation_by_size_keeps_num_logs_and_loses_no_line() {
    let dir = crate::audit::daemon::test_dir("writer-size");
    let d = dir.path();
    let counters = Arc::new(WriterCounters::default());
    let mut w = LogWriter::new(
        config(
            d,
            "num_logs = 4\nmax_log_file = 1\nmax_log_file_action = ROTATE\n",
        ),
        counters.clone(),
    )
    .unwrap();
    // 1 MiB is ~5000 lines of 210 bytes; write 10 MiB in batches of 100.
    for b in 0..500 {
        w.write(&lines(b * 100, 100), 100);
    }
    drop(w);
    let mut names: Vec<String> = std::fs::read_dir(d)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert_eq!(
        names,
        ["audit.log", "audit.log.1", "audit.log.2", "audit.log.3"]
    );
    // The kept files hold the newest lines, each exactly once, in order.
    let mut all = Vec::new();
    for n in ["audit.log.3", "audit.log.2", "audit.log.1", "audit.log"] {
        all.extend(
            std::fs::read_to_string(d.join(n))
                .unwrap()
                .lines()
                .map(String::from),
        );
    }
    let serials: Vec<usize> = all
        .iter()
        .map(|l| crate::audit::daemon::format::serial_of(l).unwrap() as usize)
        .collect();
    assert!(serials.windows(2).all(|w| w[1] == w[0] + 1));
    assert_eq!(*serials.last().unwrap(), 49_999);
    assert!(counters.rotations.load(Ordering::Relaxed) >= 9);
}

#[test]
fn keep_logs_never_removes_a_log() {
    let dir = crate::audit::daemon::test_dir("writer-keep");
    let d = dir.path();
    let mut w = LogWriter::new(
        config(
            d,
            "num_logs = 2\nmax_log_file = 1\nmax_log_file_action = keep_logs\n",
        ),
        Arc::new(WriterCounters::default()),
    )
    .unwrap();
    for b in 0..150 {
        w.write(&lines(b * 100, 100), 100);
    }
    drop(w);
    assert_eq!(count_lines(d), 15_000);
    assert!(d.join("audit.log.2").exists());
}

#[test]
fn suspend_counts_what_was_not_written_and_resume_reopens() {
    let dir = crate::audit::daemon::test_dir("writer-suspend");
    let d = dir.path();
    let counters = Arc::new(WriterCounters::default());
    let mut w = LogWriter::new(
        config(d, "max_log_file = 1\nmax_log_file_action = suspend\n"),
        counters.clone(),
    )
    .unwrap();
    for b in 0..60 {
        w.write(&lines(b * 100, 100), 100);
    }
    assert!(w.suspended);
    let written = counters.lines_written.load(Ordering::Relaxed);
    assert_eq!(
        written + counters.lines_suspended.load(Ordering::Relaxed),
        6000
    );
    std::fs::rename(d.join("audit.log"), d.join("moved")).unwrap();
    w.resume();
    assert!(!w.suspended);
    w.write(&lines(0, 1), 1);
    assert_eq!(
        std::fs::read(d.join("audit.log")).unwrap().len(),
        lines(0, 1).len()
    );
}

#[test]
fn excess_logs_are_removed_at_start() {
    let dir = crate::audit::daemon::test_dir("writer-excess");
    let d = dir.path();
    for n in 1..=6 {
        std::fs::write(d.join(format!("audit.log.{n}")), b"x\n").unwrap();
    }
    let _w = LogWriter::new(
        config(d, "num_logs = 3\nmax_log_file_action = rotate\n"),
        Arc::new(WriterCounters::default()),
    )
    .unwrap();
    assert!(d.join("audit.log.2").exists());
    assert!(!d.join("audit.log.3").exists());
    assert!(!d.join("audit.log.6").exists());
}

#[test]
fn incremental_async_flushes_on_its_thread() {
    let dir = crate::audit::daemon::test_dir("writer-async");
    let d = dir.path();
    let mut w = LogWriter::new(
        config(d, "flush = incremental_async\nfreq = 10\n"),
        Arc::new(WriterCounters::default()),
    )
    .unwrap();
    for b in 0..10 {
        w.write(&lines(b * 10, 10), 10);
    }
    drop(w);
    assert_eq!(count_lines(d), 100);
}
