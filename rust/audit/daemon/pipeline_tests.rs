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
        sinks_take_lines: false,
        lines_only: false,
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

/// The reader thread over a fake kernel: batches come back from the writer
/// still holding their records (as a writer may return them), and every
/// record still reaches the writer's side exactly once, in order.
#[test]
fn the_reader_hands_over_every_record_once() {
    use crate::audit::client::ClientOptions;
    use crate::netlink::framed::test_pair;
    use crate::netlink::transport::Transport;

    let (socket, fake) = test_pair(4242);
    let client = Arc::new(
        AuditClient::with_transport(Transport::Framed(socket), ClientOptions::default(), None)
            .unwrap(),
    );
    let (tx, rx) = std::sync::mpsc::sync_channel::<Item>(4);
    let (free_tx, free_rx) = std::sync::mpsc::sync_channel::<Batch>(4);
    let stop = Arc::new(AtomicBool::new(false));
    let counters = Arc::new(PipelineCounters::default());
    let reader = {
        let (client, stop, counters) = (client.clone(), stop.clone(), counters.clone());
        std::thread::spawn(move || {
            let settings = ReaderSettings {
                batch_records: 7,
                linger: Duration::from_millis(1),
                priority_boost: 0,
            };
            reader_main(&client, &tx, &free_rx, &stop, &counters, settings);
        })
    };
    let total = 200u32;
    for i in 0..total {
        let payload = format!("audit(1.000:{i}): n={i}");
        let mut d = 0u32.to_ne_bytes().to_vec();
        d.extend_from_slice(
            &crate::netlink::message::encode(msg::USER, 0, 0, 0, payload.as_bytes()).unwrap(),
        );
        rustix::net::send(&fake, &d, rustix::net::SendFlags::empty()).unwrap();
        if i % 50 == 0 {
            std::thread::sleep(Duration::from_millis(3));
        }
    }
    let mut got = Vec::new();
    while got.len() < total as usize {
        match rx.recv_timeout(Duration::from_secs(5)).unwrap() {
            Item::Records(b) => {
                assert!(b.len() <= 7);
                got.extend((0..b.len()).map(|i| b.get(i).unwrap().1.to_vec()));
                let _ = free_tx.try_send(b);
            }
            _ => panic!("only records are sent"),
        }
    }
    stop.store(true, Ordering::Release);
    reader.join().unwrap();
    let want: Vec<Vec<u8>> = (0..total)
        .map(|i| format!("audit(1.000:{i}): n={i}").into_bytes())
        .collect();
    assert_eq!(got, want);
    assert_eq!(
        counters.records_received.load(Ordering::Relaxed),
        u64::from(total)
    );
}
