//! Tests of the daemon's pipeline module.
use super::*;
use crate::audit::daemon::config::DaemonConfig;
use crate::audit::daemon::writer::WriterCounters;

fn rss_kb() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .unwrap()
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches(" kB").trim().parse().ok())
        .unwrap()
}

/// One batch of SYSCALL + PROCTITLE + EOE events with changing pids, uids and
/// arguments (so the id and interpretation caches fill and start over).
fn batch(first: u64, events: u64) -> Batch {
    let mut b = Batch::default();
    for s in first..first + events {
        let uid = s % 9000;
        for (t, text) in [
            (msg::SYSCALL, format!(
                "audit(1700000000.{:03}:{s}): arch=c000003e syscall={} success=yes exit=0 a0={s:x} a1=0 a2=0 a3=0 items=0 ppid=1 pid={} auid={uid} uid={uid} gid={uid} euid=0 suid=0 fsuid=0 egid=0 sgid=0 fsgid=0 tty=(none) ses=1 comm=\"x\" exe=\"/usr/bin/x\" key=(null)",
                s % 1000, s % 300, s % 4_000_000
            )),
            (msg::PROCTITLE, format!("audit(1700000000.{:03}:{s}): proctitle=2F7573722F62696E2F78", s % 1000)),
            (msg::EOE, format!("audit(1700000000.{:03}:{s}): ", s % 1000)),
        ] {
            let start = b.data.len() as u32;
            b.data.extend_from_slice(text.as_bytes());
            b.entries.push((t, start, b.data.len() as u32));
        }
    }
    b
}

/// `cargo test --release rss_over_ten_million -- --ignored --nocapture`:
/// the writer thread's pipeline (ENRICHED log, rotation keeping two 100 MB
/// files) fed 10 million records (`AUDITLINK_RSS_RECORDS` for another
/// count); RSS after 100k and at the end.
#[test]
#[ignore]
fn rss_over_ten_million_records() {
    let dir = std::env::temp_dir().join(format!("auditlink-rss-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let cfg = DaemonConfig::parse(&format!(
        "log_file = {}/audit.log\nlog_format = ENRICHED\nflush = INCREMENTAL_ASYNC\nfreq = 50\n\
         max_log_file = 100\nmax_log_file_action = ROTATE\nnum_logs = 2\n\
         space_left = 2\nadmin_space_left = 1\n",
        dir.display()
    ))
    .unwrap();
    let log = LogWriter::new(cfg, Arc::new(WriterCounters::default())).unwrap();
    let out = Outputs {
        log,
        format: LineFormat {
            node: None,
            enriched: true,
        },
        stage: None,
        fans_out: false,
        plugins: Vec::new(),
        end_of_event_timeout_ms: 2000,
    };
    let counters = Arc::new(PipelineCounters::default());
    let (tx, rx) = std::sync::mpsc::sync_channel::<Item>(64);
    let (free_tx, free_rx) = std::sync::mpsc::sync_channel(64);
    let writer =
        std::thread::spawn(move || Writer::new(out, counters, None, free_tx, None).run(&rx));
    let per_batch = 1000u64; // events, 3 records each
    let barrier = |tx: &SyncSender<Item>| {
        let (done_tx, done_rx) = std::sync::mpsc::channel();
        tx.send(Item::Barrier(done_tx)).unwrap();
        done_rx.recv().unwrap();
    };
    let total: u64 = std::env::var("AUDITLINK_RSS_RECORDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(10_000_000);
    const POOL: usize = 8;
    let mut made = 0;
    let mut records = 0u64;
    let mut early = 0;
    let mut peak = 0;
    let mut next = 0;
    while records < total {
        // Recycle batches as the reader does, with a pool of at most POOL
        // (the queue's depth is memory in use, not growth; see docs).
        let mut b = if made < POOL {
            made += 1;
            free_rx.try_recv().unwrap_or_default()
        } else {
            free_rx.recv().unwrap()
        };
        let fresh = batch(next, per_batch);
        b.clear();
        b.data.extend_from_slice(&fresh.data);
        b.entries.extend_from_slice(&fresh.entries);
        next += per_batch;
        records += b.len() as u64;
        tx.send(Item::Records(b)).unwrap();
        if early == 0 && records >= 100_000 {
            barrier(&tx);
            early = rss_kb();
        }
        if records % 500_000 < per_batch * 3 {
            barrier(&tx);
            let now = rss_kb();
            println!("RSS after {records} records: {now} kB");
            peak = peak.max(now);
        }
    }
    barrier(&tx);
    let late = rss_kb();
    tx.send(Item::End(
        msg::DAEMON_END,
        "op=terminate res=success".into(),
    ))
    .unwrap();
    writer.join().unwrap();
    let _ = std::fs::remove_dir_all(&dir);
    println!(
        "RSS after 100k records {early} kB, after {records} {late} kB, at most {peak} kB: +{} kB",
        peak.max(late).saturating_sub(early)
    );
    assert!(peak.max(late) <= early + 10 * 1024);
}
