//! Tests of the daemon's fan-out (enrichment, filters, JSON files, rotation, sinks) and of auditlink.toml.
use std::net::UdpSocket;
use std::path::{Path, PathBuf};
use std::sync::mpsc::sync_channel;
use std::time::Duration;

use super::*;
use crate::audit::client::Batch;
use crate::audit::daemon::config::DaemonConfig;
use crate::audit::daemon::pipeline::{Item, Outputs, Writer};
use crate::audit::daemon::writer::{LogWriter, WriterCounters};
use crate::audit::records::{parse_payload_lenient, Reassembler};
use crate::audit::tables::msg;

/// (type, payload) of `n` SYSCALL + EOE events, serials from 1; the key of
/// event `s` is `key(s)`.
fn records(n: u64, key: impl Fn(u64) -> &'static str) -> Vec<(u16, String)> {
    let mut v = Vec::new();
    for s in 1..=n {
        let head = format!("audit(1700000000.{:03}:{s}): ", s % 1000);
        v.push((
            msg::SYSCALL,
            format!(
                "{head}arch=c000003e syscall=39 success=yes exit=1 a0=0 a1=0 a2=0 a3=0 items=0 \
                 ppid=1 pid={} auid=0 uid=0 gid=0 euid=0 suid=0 fsuid=0 egid=0 sgid=0 fsgid=0 \
                 tty=(none) ses=1 comm=\"x\" exe=\"/usr/bin/x\" key=\"{}\"",
                1000 + s,
                key(s)
            ),
        ));
        v.push((msg::EOE, head));
    }
    v
}

fn events(n: u64, key: impl Fn(u64) -> &'static str) -> Vec<Event> {
    let mut r = Reassembler::new(4096, 2000);
    let mut out = Vec::new();
    for (t, p) in records(n, key) {
        r.push(parse_payload_lenient(t, p.as_bytes()), &mut out);
    }
    r.flush(&mut out);
    out
}

fn lines(p: &Path) -> Vec<String> {
    std::fs::read_to_string(p)
        .unwrap_or_default()
        .lines()
        .map(str::to_owned)
        .collect()
}

fn barrier(f: &FanoutSender) {
    let (tx, rx) = std::sync::mpsc::channel();
    f.control(Msg::Barrier(tx));
    rx.recv_timeout(Duration::from_secs(30)).unwrap();
}

fn start(extras: &Extras, limit: usize) -> (Fanout, Arc<PipelineCounters>) {
    let format = LineFormat {
        node: None,
        enriched: false,
    };
    let mut stage = Stage::prepare(extras, &DaemonConfig::default(), &format).unwrap();
    stage.start_sinks().unwrap();
    let counters = Arc::new(PipelineCounters::default());
    (
        Fanout::start(stage, limit, counters.clone()).unwrap(),
        counters,
    )
}

#[test]
fn json_lines_rotate_by_size_and_on_request() {
    let d = crate::audit::daemon::test_dir("fanout-rotate");
    let out = d.path().join("out.jsonl");
    let x = Extras::parse(&format!(
        "[json]\npath = {:?}\nsize = 3000\ngenerations = 2\n",
        out.display()
    ))
    .unwrap();
    let (f, c) = start(&x, 1000);
    let s = f.sender();
    s.offer(events(40, |_| "k"));
    barrier(&s);
    assert_eq!(c.json_events.load(Ordering::Relaxed), 40);
    let rotations = c.json_rotations.load(Ordering::Relaxed);
    assert!(rotations >= 2, "{rotations}");
    assert!(numbered(&out, 2).exists() && !numbered(&out, 3).exists());
    // The newest lines are in order across the files.
    let mut all = lines(&numbered(&out, 1));
    all.extend(lines(&out));
    let serials: Vec<u64> = all
        .iter()
        .map(|l| {
            serde_json::from_str::<serde_json::Value>(l).unwrap()["serial"]
                .as_u64()
                .unwrap()
        })
        .collect();
    assert!(serials.windows(2).all(|w| w[1] == w[0] + 1), "{serials:?}");
    assert_eq!(serials.last(), Some(&40));
    s.control(Msg::Rotate);
    barrier(&s);
    assert_eq!(c.json_rotations.load(Ordering::Relaxed), rotations + 1);
    assert!(lines(&out).is_empty());
    f.stop();
}

#[test]
fn enrichment_filters_divert_and_sinks_get_kept_events() {
    let d = crate::audit::daemon::test_dir("fanout-enrich");
    let udp = UdpSocket::bind("127.0.0.1:0").unwrap();
    udp.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let port = udp.local_addr().unwrap().port();
    let (out, filtered) = (d.path().join("out.jsonl"), d.path().join("filtered.jsonl"));
    let x = Extras::parse(&format!(
        "[json]\npath = {:?}\nfilter_log = {:?}\nline-prefix = \"@cee: \"\n\
         [filter]\nfilter-keys = [\"noise\"]\nfilter-action = \"log\"\nkeep-first-per-process = false\n\
         [auditlink]\nprocfs = false\n\
         [[sink]]\ntype = \"syslog\"\ntransport = \"udp\"\nport = {port}\nspool_dir = {:?}\n",
        out.display(),
        filtered.display(),
        d.path().join("spool").display()
    ))
    .unwrap();
    assert!(x.enrichment.is_some());
    let (f, c) = start(&x, 1000);
    let s = f.sender();
    s.offer(events(20, |s| if s % 2 == 0 { "noise" } else { "keep" }));
    barrier(&s);
    let kept = lines(&out);
    assert_eq!(kept.len(), 10);
    for l in &kept {
        let j: serde_json::Value = serde_json::from_str(l.strip_prefix("@cee: ").unwrap()).unwrap();
        assert_eq!(j["SYSCALL"]["key"], serde_json::json!(["keep"]));
        assert!(j["SYSCALL"]["PID"].is_object(), "{l}");
    }
    assert_eq!(lines(&filtered).len(), 10);
    assert_eq!(c.events_diverted.load(Ordering::Relaxed), 10);
    assert_eq!(c.events_forwarded.load(Ordering::Relaxed), 10);
    let mut buf = [0u8; 9000];
    for _ in 0..10 {
        let n = udp.recv(&mut buf).unwrap();
        let m = String::from_utf8_lossy(&buf[..n]);
        assert!(m.contains("type=SYSCALL msg=audit(1700000000."), "{m}");
        assert!(m.contains("key=\"keep\""), "{m}");
    }
    f.stop();
    let st = &f.sink_stats()[0];
    assert_eq!((st.submitted, st.dropped), (10, 0));
}

#[test]
fn a_full_queue_drops_and_counts() {
    let d = crate::audit::daemon::test_dir("fanout-full");
    let x = Extras::parse(&format!(
        "[json]\npath = {:?}\n",
        d.path().join("o").display()
    ))
    .unwrap();
    let (f, c) = start(&x, 5);
    f.sender().offer(events(10, |_| "k"));
    barrier(&f.sender());
    assert_eq!(c.fanout_dropped.load(Ordering::Relaxed), 10);
    assert_eq!(c.json_events.load(Ordering::Relaxed), 0);
    f.stop();
}

/// Run the writer over `n` records' events (with `format`) into a fan-out
/// started from `x`; returns the log's lines once the writer ended.
fn write_through_fanout(
    d: &tempfile::TempDir,
    x: &Extras,
    format: LineFormat,
    n: u64,
) -> (Vec<String>, Fanout) {
    let cfg = DaemonConfig::parse(&format!(
        "log_file = {}\nspace_left = 2\nadmin_space_left = 1\n",
        d.path().join("audit.log").display()
    ))
    .unwrap();
    let (f, c) = start(x, 1000);
    let out = Outputs {
        log: LogWriter::new(cfg, Arc::new(WriterCounters::default())).unwrap(),
        format,
        stage: None,
        fans_out: true,
        sinks_take_lines: !x.sinks.is_empty(),
        lines_only: x.json.is_none() && x.enrichment.is_none(),
        plugins: Vec::new(),
        end_of_event_timeout_ms: 2000,
    };
    let (tx, rx) = sync_channel::<Item>(8);
    let (free_tx, _free_rx) = sync_channel(8);
    let s = f.sender();
    let w = std::thread::spawn(move || Writer::new(out, c, None, free_tx, Some(s)).run(&rx));
    let mut b = Batch::default();
    for (t, p) in records(n, |_| "k") {
        let start = b.data.len() as u32;
        b.data.extend_from_slice(p.as_bytes());
        b.entries.push((t, start, b.data.len() as u32));
    }
    tx.send(Item::Records(b)).unwrap();
    tx.send(Item::End(
        msg::DAEMON_END,
        "op=terminate res=success".into(),
    ))
    .unwrap();
    w.join().unwrap();
    f.stop();
    (lines(&d.path().join("audit.log")), f)
}

/// The writer thread reassembles the log's records into events and hands
/// them to the fan-out; the log itself is written as before.
#[test]
fn the_writer_feeds_the_fanout() {
    let d = crate::audit::daemon::test_dir("fanout-writer");
    let x = Extras::parse(&format!(
        "[json]\npath = {:?}\n",
        d.path().join("o.jsonl").display()
    ))
    .unwrap();
    let plain = LineFormat {
        node: None,
        enriched: false,
    };
    let (log, _) = write_through_fanout(&d, &x, plain, 25);
    assert_eq!(
        log.iter().filter(|l| l.starts_with("type=SYSCALL")).count(),
        25
    );
    let json = lines(&d.path().join("o.jsonl"));
    // The 25 events, then DAEMON_END (a one-record event).
    assert_eq!(json.len(), 26);
    assert!(json[0].contains("\"serial\":1,"), "{}", json[0]);
}

/// A sink that sends text gets the very lines the writer logged (here
/// ENRICHED with a node name, where the stage alone would format them plain),
/// grouped into events by the writer itself (`LineGroups`): one per
/// SYSCALL + EOE, and DAEMON_END.
#[test]
fn sinks_send_the_lines_the_writer_logged() {
    let d = crate::audit::daemon::test_dir("fanout-lines");
    let udp = UdpSocket::bind("127.0.0.1:0").unwrap();
    udp.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let port = udp.local_addr().unwrap().port();
    let x = Extras::parse(&format!(
        "[[sink]]\ntype = \"syslog\"\ntransport = \"udp\"\nport = {port}\nspool_dir = {:?}\n",
        d.path().join("spool").display()
    ))
    .unwrap();
    let enriched = LineFormat {
        node: Some("n1".into()),
        enriched: true,
    };
    let (log, f) = write_through_fanout(&d, &x, enriched, 5);
    let logged: Vec<&String> = log.iter().filter(|l| l.contains("type=SYSCALL")).collect();
    assert_eq!(logged.len(), 5);
    assert!(logged[0].starts_with("node=n1 ") && logged[0].contains('\x1d'));
    let mut buf = [0u8; 9000];
    for want in logged {
        let n = udp.recv(&mut buf).unwrap();
        let m = String::from_utf8_lossy(&buf[..n]);
        assert!(m.ends_with(want.as_str()), "{m:?}\n{want:?}");
    }
    let stats = &f.sink_stats()[0];
    assert_eq!((stats.submitted, stats.dropped), (6, 0));
}

#[test]
fn auditlink_toml() {
    let e = Extras::parse(
        "[json]\npath = \"/tmp/x.jsonl\"\n[python]\nqueue_events = 5\n[kernel]\nbacklog_limit = 8192\n",
    )
    .unwrap();
    assert_eq!(e.json.unwrap().path, PathBuf::from("/tmp/x.jsonl"));
    assert_eq!(e.python.queue_events, 5);
    assert_eq!(e.kernel.backlog_limit, Some(8192));
    assert!(e.enrichment.is_none() && e.sinks.is_empty());
    assert!(Extras::parse("[kernel]\nfailure = 3\n").is_err());
    assert!(!Extras::parse("").unwrap().fans_out());
}

#[test]
fn errors_name_the_file_and_line() {
    let err = |text: &str| {
        Extras::parse_named(text, "/etc/audit/auditlink.toml", None)
            .unwrap_err()
            .to_string()
    };
    let e = err("[json]\npath = \"/x\"\n\n[pipeline]\nbogus = 1\n");
    assert!(
        e.contains("/etc/audit/auditlink.toml line 5, column 1") && e.contains("bogus"),
        "{e}"
    );
    let e = err("[json]\npaht = \"x\"\n");
    assert!(e.contains("line 2") && e.contains("paht"), "{e}");
    let e = err("[python]\nqueue_events = \"many\"\n");
    assert!(e.contains("line 2, column 16"), "{e}");
    let e = err("[enrich]\npid = 3\n");
    assert!(e.contains("line 2") && e.contains("bool"), "{e}");
    let e = err("[[sink]]\ntype = \"syslog\"\nspool_dir = \"/s\"\n[[sink]]\ntype = \"otlp\"\nspool_dir = \"/s\"\n");
    assert!(e.contains("spool_dir /s is another sink's"), "{e}");
    let e = err("[[sink]]\ntype = \"carrier-pigeon\"\nspool_dir = \"/s\"\n");
    assert!(e.contains("line 2") && e.contains("carrier-pigeon"), "{e}");
}

#[test]
fn read_log_is_for_sinks_of_log_lines_and_needs_the_log() {
    let err = |sink: &str| {
        Extras::parse(&format!(
            "[[sink]]\n{sink}spool_dir = \"/s\"\nread_log = true\n"
        ))
        .unwrap_err()
        .to_string()
    };
    assert!(err("type = \"otlp\"\n").contains("read_log = true is for sinks"));
    assert!(err("type = \"syslog\"\nformat = \"json\"\n").contains("read_log"));
    let x = Extras::parse(
        "[[sink]]\ntype = \"remote\"\nremote_server = \"127.0.0.1\"\nspool_dir = \"/s\"\nread_log = true\n\
         [[sink]]\ntype = \"syslog\"\nspool_dir = \"/t\"\n",
    )
    .unwrap();
    assert_eq!(x.sinks[0].spool().read_log_hold, 5);
    let format = LineFormat {
        node: None,
        enriched: false,
    };
    let feed = Arc::new(LogFeed::default());
    let mut stage = Stage::prepare(&x, &DaemonConfig::default(), &format).unwrap();
    stage.follow_log(&feed, &DaemonConfig::default()).unwrap();
    // The syslog sink is still fed by the fan-out; the remote one reads the log.
    assert!(stage.has_sinks());
    let mut only_remote = x.clone();
    only_remote.sinks.truncate(1);
    let mut stage = Stage::prepare(&only_remote, &DaemonConfig::default(), &format).unwrap();
    stage.follow_log(&feed, &DaemonConfig::default()).unwrap();
    assert!(!stage.has_sinks() && !stage.is_active());
    let no_log = DaemonConfig {
        write_logs: false,
        ..DaemonConfig::default()
    };
    let mut stage = Stage::prepare(&only_remote, &no_log, &format).unwrap();
    let e = stage.follow_log(&feed, &no_log).unwrap_err().to_string();
    assert!(e.contains("needs the log"), "{e}");
}

#[test]
fn laurel_sections_turn_enrichment_on() {
    let dir = Path::new("/etc/audit");
    let e = Extras::parse_named(
        "[enrich]\nexecve-env = [\"PATH\"]\n[state]\nfile = \"enrich.state\"\n[[sink]]\ntype = \"otlp\"\nspool_dir = \"/s\"\n",
        "auditlink.toml",
        Some(dir),
    )
    .unwrap();
    let c = e.enrichment.unwrap();
    assert_eq!(c.enrich.execve_env, vec!["PATH".to_string()]);
    assert_eq!(c.state_path(), Some(dir.join("enrich.state")));
    assert_eq!(e.sinks.len(), 1);
}

/// contrib/auditlink.toml with every commented-out setting turned on parses.
#[test]
fn the_contrib_example_parses_with_everything_on() {
    let text: String = include_str!("../../../contrib/auditlink.toml")
        .lines()
        .map(|l| match l.strip_prefix('#') {
            Some(rest) if !rest.starts_with(' ') => rest,
            _ => l,
        })
        .collect::<Vec<_>>()
        .join("\n");
    let e = Extras::parse(&text).unwrap();
    assert_eq!(e.sinks.len(), 3);
    assert!(e.enrichment.is_some() && e.json.unwrap().filter_log.is_some());
}
