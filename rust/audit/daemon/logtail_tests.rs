//! Tests of the sinks that read the daemon's log back: rotation, the cursor across restarts, events without an end record.

use std::fs::OpenOptions;
use std::io::Write;
use std::net::UdpSocket;

use super::*;
use crate::audit::sinks::SinkConfig;

/// A stand-in for the daemon's writer: appends lines, rotates as it does.
struct Log {
    path: PathBuf,
    file: Arc<File>,
    feed: Arc<LogFeed>,
}

impl Log {
    fn open(path: PathBuf, feed: Arc<LogFeed>) -> Log {
        let file = Arc::new(open_append(&path));
        feed.opened(&file);
        Log { path, file, feed }
    }

    /// Event `s`: a SYSCALL line, then (unless `open_ended`) its PROCTITLE.
    fn event(&self, s: u64, open_ended: bool) {
        let head = format!("msg=audit(1700000000.{:03}:{s}):", s % 1000);
        let mut text = format!("type=SYSCALL {head} arch=c000003e syscall=39 pid={s}\n");
        if !open_ended {
            text.push_str(&format!("type=PROCTITLE {head} proctitle=78\n"));
        }
        (&*self.file).write_all(text.as_bytes()).unwrap();
    }

    /// `log.1` -> `log.2`, `log` -> `log.1`, a new `log`.
    fn rotate(&mut self) {
        for i in (1..4).rev() {
            let _ = std::fs::rename(numbered(&self.path, i), numbered(&self.path, i + 1));
        }
        std::fs::rename(&self.path, numbered(&self.path, 1)).unwrap();
        self.file = Arc::new(open_append(&self.path));
        self.feed.opened(&self.file);
    }
}

fn open_append(path: &Path) -> File {
    OpenOptions::new()
        .append(true)
        .create(true)
        .open(path)
        .unwrap()
}

/// A syslog sink (UDP, text) to `port`, spooled in `spool`, and its reader.
fn tail(feed: &Arc<LogFeed>, log: &Path, spool: &Path, port: u16, timeout_ms: u64) -> LogTail {
    tail_holding(feed, log, spool, port, timeout_ms, 0)
}

fn tail_holding(
    feed: &Arc<LogFeed>,
    log: &Path,
    spool: &Path,
    port: u16,
    timeout_ms: u64,
    hold: u64,
) -> LogTail {
    let cfg = SinkConfig::from_toml(&format!(
        "type = \"syslog\"\ntransport = \"udp\"\nport = {port}\nspool_dir = {:?}\nnice = 0\n\
         read_log = true\nread_log_hold = {hold}\n",
        spool.display()
    ))
    .unwrap();
    let sink = Arc::new(cfg.start().unwrap());
    let settings = TailSettings {
        feed: feed.clone(),
        log_file: log.to_path_buf(),
        timeout_ms,
        node: node_of(spool),
    };
    LogTail::start(sink, "t", cfg.spool(), &settings).unwrap()
}

/// The node name a test's sink reports: its temporary directory's, so a
/// test takes no other test's messages for its own (a port can be reused).
fn node_of(spool: &Path) -> String {
    spool
        .parent()
        .unwrap()
        .file_name()
        .unwrap()
        .to_string_lossy()
        .into_owned()
}

/// A receiver of one test's sink.
struct Receiver {
    udp: UdpSocket,
    port: u16,
    node: String,
}

fn receiver(d: &tempfile::TempDir) -> Receiver {
    let udp = UdpSocket::bind("127.0.0.1:0").unwrap();
    udp.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    let port = udp.local_addr().unwrap().port();
    let node = node_of(&d.path().join("spool"));
    Receiver { udp, port, node }
}

impl Receiver {
    /// The next event of this test (serial, records), `None` once `wait` passed.
    fn next(&self, wait: Duration) -> Option<(u64, usize)> {
        self.udp.set_read_timeout(Some(wait)).unwrap();
        let mut buf = [0u8; 65536];
        loop {
            let n = self.udp.recv(&mut buf).ok()?;
            let text = String::from_utf8_lossy(&buf[..n]);
            if !text.contains(&format!(" {} auditlink ", self.node)) {
                continue;
            }
            let serial = text
                .split("msg=audit(")
                .nth(1)
                .and_then(|r| r.split([':', ')']).nth(1))
                .and_then(|s| s.parse().ok())
                .unwrap_or(u64::MAX);
            return Some((serial, text.matches("type=").count()));
        }
    }

    /// Up to `want` events (serial, records), each within 5 s of the last.
    fn events(&self, want: usize) -> Vec<(u64, usize)> {
        std::iter::from_fn(|| self.next(Duration::from_secs(5)))
            .take(want)
            .collect()
    }

    fn nothing_more(&self) -> bool {
        self.next(Duration::from_millis(300)).is_none()
    }
}

#[test]
fn reads_what_is_written_after_it_starts_across_rotations() {
    let d = crate::audit::daemon::test_dir("logtail-rotate");
    let r = receiver(&d);
    let feed = Arc::new(LogFeed::default());
    let path = d.path().join("audit.log");
    let mut log = Log::open(path.clone(), feed.clone());
    // Before the reader starts: not sent (no cursor, it starts at the end).
    log.event(1, false);
    let mut t = tail(&feed, &path, &d.path().join("spool"), r.port, 2000);
    for s in 2..=40 {
        log.event(s, false);
    }
    // Rotated twice before the reader reads on: still read in order.
    log.rotate();
    for s in 41..=60 {
        log.event(s, false);
    }
    log.rotate();
    for s in 61..=80 {
        log.event(s, false);
    }
    t.stop();
    let got = r.events(79);
    assert_eq!(got, (2..=80).map(|s| (s, 2)).collect::<Vec<_>>());
    assert!(r.nothing_more(), "an event too many");
}

#[test]
fn a_restart_resumes_at_the_cursor_in_a_rotated_file() {
    let d = crate::audit::daemon::test_dir("logtail-cursor");
    let r = receiver(&d);
    let path = d.path().join("audit.log");
    let spool = d.path().join("spool");
    let feed = Arc::new(LogFeed::default());
    let log = Log::open(path.clone(), feed.clone());
    let mut t = tail(&feed, &path, &spool, r.port, 2000);
    for s in 1..=10 {
        log.event(s, false);
    }
    t.stop();
    assert_eq!(r.events(10).len(), 10);
    // While no reader runs: more events, one rotation, one more event
    // still open at the end of the rotated file.
    for s in 11..=20 {
        log.event(s, false);
    }
    log.event(21, true);
    drop(log);
    let feed = Arc::new(LogFeed::default());
    let mut log = Log::open(path.clone(), feed.clone());
    log.rotate();
    for s in 22..=30 {
        log.event(s, false);
    }
    let mut t = tail(&feed, &path, &spool, r.port, 2000);
    t.stop();
    let got = r.events(20);
    let mut want: Vec<(u64, usize)> = (11..=20).map(|s| (s, 2)).collect();
    want.extend((22..=30).map(|s| (s, 2)));
    want.insert(10, (21, 1));
    let mut sorted = got.clone();
    sorted.sort_unstable();
    let mut want_sorted = want.clone();
    want_sorted.sort_unstable();
    assert_eq!(sorted, want_sorted, "{got:?}");
    assert!(r.nothing_more(), "an event too many");
}

#[test]
fn an_event_open_at_a_stop_is_sent_again_from_its_first_line() {
    let d = crate::audit::daemon::test_dir("logtail-open");
    let path = d.path().join("audit.log");
    let spool = d.path().join("spool");
    let feed = Arc::new(LogFeed::default());
    let log = Log::open(path.clone(), feed.clone());
    let r = receiver(&d);
    // A long end-of-event timeout: event 2 is still open when the reader looks.
    let t = tail(&feed, &path, &spool, r.port, 60_000);
    log.event(1, false);
    log.event(2, true);
    let start = Instant::now();
    while read_cursor(&spool.join("log.cursor")).is_none_or(|c| c.1 == 0) {
        assert!(start.elapsed() < Duration::from_secs(10), "no cursor");
        std::thread::sleep(Duration::from_millis(20));
    }
    // As if killed now: the cursor points at event 2's first line.
    std::mem::forget(t);
    let (_, off) = read_cursor(&spool.join("log.cursor")).unwrap();
    let text = std::fs::read_to_string(&path).unwrap();
    assert_eq!(&text[off as usize..off as usize + 12], "type=SYSCALL");
    assert!(text[off as usize..].contains(":2):"));
    assert_eq!(r.events(1), vec![(1, 2)]);
}

#[test]
fn events_without_an_end_record_go_out_when_the_log_is_idle() {
    let d = crate::audit::daemon::test_dir("logtail-idle");
    let r = receiver(&d);
    let path = d.path().join("audit.log");
    let feed = Arc::new(LogFeed::default());
    let log = Log::open(path.clone(), feed.clone());
    let _t = tail(&feed, &path, &d.path().join("spool"), r.port, 300);
    for s in 1..=3 {
        log.event(s, true);
    }
    // Received while the reader still runs.
    assert_eq!(r.events(3), vec![(1, 1), (2, 1), (3, 1)]);
}

#[test]
fn a_cursor_whose_file_is_gone_starts_at_the_oldest_log() {
    let d = crate::audit::daemon::test_dir("logtail-gone");
    let r = receiver(&d);
    let path = d.path().join("audit.log");
    let spool = d.path().join("spool");
    std::fs::create_dir_all(&spool).unwrap();
    std::fs::write(spool.join("log.cursor"), "1 2 3\n").unwrap();
    let feed = Arc::new(LogFeed::default());
    let mut log = Log::open(path.clone(), feed.clone());
    log.event(1, false);
    log.rotate();
    log.event(2, false);
    let mut t = tail(&feed, &path, &spool, r.port, 2000);
    t.stop();
    assert_eq!(r.events(2), vec![(1, 2), (2, 2)]);
}

#[test]
fn holds_back_while_the_log_grows_then_reads_at_once() {
    let d = crate::audit::daemon::test_dir("logtail-hold");
    let r = receiver(&d);
    let path = d.path().join("audit.log");
    let feed = Arc::new(LogFeed::default());
    let log = Log::open(path.clone(), feed.clone());
    let _t = tail_holding(&feed, &path, &d.path().join("spool"), r.port, 2000, 30);
    // Growing at every look (the reader looks every 100 ms): nothing is read.
    for s in 1..=20 {
        log.event(s, false);
        std::thread::sleep(Duration::from_millis(40));
    }
    assert_eq!(
        r.next(Duration::from_millis(50)),
        None,
        "read while the log grew"
    );
    // Quiet: read at the next look.
    assert_eq!(r.events(20), (1..=20).map(|s| (s, 2)).collect::<Vec<_>>());
}

#[test]
fn the_hold_ends_after_read_log_hold_seconds_of_growth() {
    let d = crate::audit::daemon::test_dir("logtail-hold-ends");
    let r = receiver(&d);
    let path = d.path().join("audit.log");
    let feed = Arc::new(LogFeed::default());
    let log = Log::open(path.clone(), feed.clone());
    let _t = tail_holding(&feed, &path, &d.path().join("spool"), r.port, 2000, 1);
    let start = Instant::now();
    let mut s = 0;
    // The log never stops growing; events still go out once the hold is over.
    let first = loop {
        s += 1;
        log.event(s, false);
        if r.next(Duration::from_millis(10)).is_some() {
            break start.elapsed();
        }
        assert!(start.elapsed() < Duration::from_secs(10), "held for good");
        std::thread::sleep(Duration::from_millis(20));
    };
    assert!(first >= Duration::from_millis(900), "{first:?}");
}

#[test]
fn a_log_truncated_behind_the_writer_is_read_from_its_start() {
    let d = crate::audit::daemon::test_dir("logtail-truncated");
    let r = receiver(&d);
    let path = d.path().join("audit.log");
    let feed = Arc::new(LogFeed::default());
    let log = Log::open(path.clone(), feed.clone());
    let mut t = tail(&feed, &path, &d.path().join("spool"), r.port, 2000);
    for s in 1..=5 {
        log.event(s, false);
    }
    assert_eq!(r.events(5).len(), 5);
    log.file.set_len(0).unwrap();
    log.event(6, false);
    t.stop();
    assert_eq!(r.events(1), vec![(6, 2)]);
}

#[test]
fn log_lines_split_into_type_and_payload() {
    let (t, p) = split_line(b"node=h1 type=PROCTITLE msg=audit(1.002:3): proctitle=78").unwrap();
    assert_eq!((t, p), (1327, &b"audit(1.002:3): proctitle=78"[..]));
    let (t, _) = split_line(b"type=UNKNOWN[1999] msg=audit(1.002:3): x").unwrap();
    assert_eq!(t, 1999);
    assert_eq!(split_line(b"garbage"), None);
    assert_eq!(split_line(b"node=h1"), None);
}

mod props {
    use proptest::prelude::*;

    use super::super::{push_line, split_line};
    use crate::audit::daemon::linegroups::LineGroups;

    proptest! {
        /// Any bytes as log lines: no panic, and every line is in an event
        /// once the groups are flushed (none lost, none made up).
        #[test]
        fn any_lines_group_into_events(lines in proptest::collection::vec(
            proptest::collection::vec(any::<u8>().prop_filter("no line end", |b| *b != b'\n'), 0..120),
            0..40,
        )) {
            let mut g = LineGroups::new(2000, "n".into());
            for (i, l) in lines.iter().enumerate() {
                let _ = split_line(l);
                push_line(&mut g, i as u64, l);
            }
            prop_assert!(g.oldest_open().is_none_or(|at| (at as usize) < lines.len()));
            g.flush();
            prop_assert!(g.oldest_open().is_none());
            let done = g.take();
            let texts: usize = done.iter().map(|p| {
                crate::audit::sinks::ForwardEvent::decode(p).unwrap().text.split('\n').count()
            }).sum();
            prop_assert_eq!(texts, lines.iter().filter(|l| !l.is_empty()).count());
        }

        /// A well-formed line splits into its type and the payload from `msg=` on.
        #[test]
        fn well_formed_lines_split(node in "[a-z]{0,8}", sec in 0u64..2_000_000_000, serial in any::<u64>()) {
            let prefix = if node.is_empty() { String::new() } else { format!("node={node} ") };
            let line = format!("{prefix}type=SYSCALL msg=audit({sec}.001:{serial}): a=1");
            let (t, payload) = split_line(line.as_bytes()).unwrap();
            prop_assert_eq!(t, 1300);
            let want = format!("audit({sec}.001:{serial}): a=1");
            prop_assert_eq!(payload, want.as_bytes());
        }
    }
}
