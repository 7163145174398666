//! Unit tests of the sinks: spool (order, restart, full actions), config tables, the remote wire codec against a fake receiver, syslog formatting.

use std::io::{Read, Write};
use std::net::TcpListener;
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use super::remote::{self, Header};
use super::spool::{Appended, FullAction, Spool};
use super::*;

pub(super) fn tempdir(tag: &str) -> PathBuf {
    static N: AtomicUsize = AtomicUsize::new(0);
    let d = std::env::temp_dir().join(format!(
        "auditlink-sinks-{tag}-{}-{}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    ));
    let _ = std::fs::remove_dir_all(&d);
    d
}

pub(super) fn event(serial: u64) -> ForwardEvent {
    let text = format!(
        "type=SYSCALL msg=audit(1700000000.123:{serial}): arch=c000003e syscall=110 success=yes\ntype=EOE msg=audit(1700000000.123:{serial}): "
    );
    ForwardEvent {
        node: "host1".into(),
        sec: 1_700_000_000,
        msec: 123,
        serial,
        fields: Some(super::EventFields::from_text(&text)),
        text,
        json: (serial % 2 == 0).then(|| format!("{{\"serial\":{serial}}}")),
    }
}

pub(super) fn payload(serial: u64) -> Vec<u8> {
    let mut p = Vec::new();
    event(serial).encode(&mut p);
    p
}

pub(super) fn serials(batch: &[Vec<u8>]) -> Vec<u64> {
    batch
        .iter()
        .map(|p| {
            ForwardEvent::decode(p)
                .map(|e| e.serial)
                .unwrap_or(u64::MAX)
        })
        .collect()
}

#[test]
fn event_encoding_round_trips_and_rejects_garbage() {
    for s in 0..4 {
        assert_eq!(ForwardEvent::decode(&payload(s)), Some(event(s)));
    }
    let p = payload(2);
    for cut in 0..p.len() {
        assert_eq!(ForwardEvent::decode(&p[..cut]), None);
    }
    // Decoding into an event that held another (longer, with JSON and
    // fields) leaves nothing of it behind.
    let mut reused = event(12);
    reused.text.push_str(&"x".repeat(500));
    let mut short = event(3);
    short.fields = None;
    short.node = "h".into();
    let mut b = Vec::new();
    short.encode(&mut b);
    assert!(reused.decode_into(&b));
    assert_eq!(reused, short);
    assert!(!reused.decode_into(&b[..b.len() - 1]));
    // An event with only its text encodes the same either way.
    let mut c = Vec::new();
    encode_text_only(&mut c, &short.node, (3, short.msec, 3), &short.text);
    short.sec = 3;
    short.json = None;
    b.clear();
    short.encode(&mut b);
    assert_eq!(c, b);
}

#[test]
fn spool_keeps_order_across_acks_rewinds_and_segments() {
    let dir = tempdir("order");
    // 64 KiB segments: 2000 events span many of them.
    let mut sp = Spool::open(&dir, 512 << 10).unwrap();
    for s in 0..2000 {
        assert!(matches!(
            sp.append(&payload(s), FullAction::DropNewest).unwrap(),
            Appended::Stored { .. }
        ));
    }
    assert_eq!(sp.events(), 2000);
    let mut got = Vec::new();
    while sp.events() > 0 {
        let b = sp.peek(100, u64::MAX).unwrap();
        // Only part of a batch is acknowledged; the rest comes again.
        let take = b.len().div_ceil(2);
        got.extend(serials(&b[..take]));
        sp.ack(take).unwrap();
        sp.rewind();
    }
    assert_eq!(got, (0..2000).collect::<Vec<_>>());
    assert_eq!(sp.bytes(), 0);
    let segments = std::fs::read_dir(&dir).unwrap().count();
    assert!(
        segments <= 3,
        "acknowledged segments are removed ({segments} files left)"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn spool_survives_restart_and_a_torn_tail() {
    let dir = tempdir("restart");
    {
        let mut sp = Spool::open(&dir, 1 << 20).unwrap();
        for s in 0..50 {
            sp.append(&payload(s), FullAction::DropNewest).unwrap();
        }
        let b = sp.peek(10, u64::MAX).unwrap();
        assert_eq!(serials(&b), (0..10).collect::<Vec<_>>());
        sp.ack(10).unwrap();
        // Handed out but not acknowledged when the process dies.
        sp.peek(5, u64::MAX).unwrap();
    }
    // A crash in the middle of a write leaves half a frame.
    let seg = std::fs::read_dir(&dir)
        .unwrap()
        .filter_map(|e| e.ok())
        .map(|e| e.path())
        .find(|p| p.extension().is_some_and(|x| x == "spool"))
        .unwrap();
    let mut f = std::fs::OpenOptions::new().append(true).open(&seg).unwrap();
    f.write_all(&[200, 0, 0, 0, 1, 2]).unwrap();
    drop(f);
    let mut sp = Spool::open(&dir, 1 << 20).unwrap();
    assert_eq!(sp.events(), 40);
    sp.append(&payload(50), FullAction::DropNewest).unwrap();
    let b = sp.peek(1000, u64::MAX).unwrap();
    assert_eq!(serials(&b), (10..51).collect::<Vec<_>>());
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn full_spool_applies_its_action() {
    let one = 8 + payload(0).len() as u64;
    for action in [
        FullAction::DropOldest,
        FullAction::DropNewest,
        FullAction::Suspend,
    ] {
        let dir = tempdir("full");
        let mut sp = Spool::open(&dir, one * 10).unwrap();
        let mut dropped = 0;
        for s in 0..15 {
            match sp.append(&payload(s), action).unwrap() {
                Appended::Stored { dropped_oldest } => dropped += dropped_oldest,
                Appended::Full => dropped += 1,
            }
        }
        assert_eq!(dropped, 5, "{action:?}");
        assert_eq!(sp.events(), 10);
        let got = serials(&sp.peek(100, u64::MAX).unwrap());
        let want: Vec<u64> = match action {
            FullAction::DropOldest => (5..15).collect(),
            _ => (0..10).collect(),
        };
        assert_eq!(got, want, "{action:?}");
        // An event bigger than the whole spool is refused, not a crash.
        assert_eq!(sp.append(&vec![0u8; 4096], action).unwrap(), Appended::Full);
        let _ = std::fs::remove_dir_all(&dir);
    }
}

#[test]
fn sink_tables_deserialize() {
    let c = SinkConfig::from_toml(
        r#"
        type = "remote"
        remote_server = "central.example"
        port = 6000
        mode = "forward"
        heartbeat_timeout = 30
        network_failure_action = "syslog"
        spool_dir = "/var/spool/auditlink/remote"
        spool_max_bytes = 1048576
        spool_full_action = "suspend"
        "#,
    )
    .unwrap();
    match &c {
        SinkConfig::Remote(r) => {
            assert_eq!(r.port, 6000);
            assert_eq!(r.mode, remote::RemoteMode::Forward);
            assert_eq!(r.spool.spool_full_action, FullAction::Suspend);
            assert_eq!(r.spool.queue_depth, 2048);
            assert_eq!(r.spool.nice, 19);
        }
        other => panic!("{other:?}"),
    }
    let c = SinkConfig::from_toml(
        "type = \"syslog\"\ntransport = \"tcp\"\nport = 6514\nfacility = \"local3\"\nseverity = \"notice\"\nspool_dir = \"/tmp/x\"\n",
    )
    .unwrap();
    match &c {
        SinkConfig::Syslog(s) => assert_eq!(s.priority().unwrap(), 19 * 8 + 5),
        other => panic!("{other:?}"),
    }
    for bad in [
        "type = \"kafka\"\nspool_dir = \"/x\"",
        "type = \"remote\"\nspool_dir = \"/x\"",
        "type = \"remote\"\nremote_server = \"h\"",
        "type = \"syslog\"\nspool_dir = \"/x\"\ntransport = \"carrier-pigeon\"",
        "type = \"syslog\"\nspool_dir = \"/x\"\nnice = 20",
        "type = \"syslog\"\nspool_dir = \"/x\"\nnice = -21",
    ] {
        assert!(SinkConfig::from_toml(bad).is_err(), "{bad}");
    }
    let e = SinkConfig::from_toml("type = \"syslog\"\nspool_dir = \"/x\"\nnice = 20")
        .unwrap_err()
        .to_string();
    assert!(e.contains("nice = 20: must be -20..19"), "{e}");
    match SinkConfig::from_toml("type = \"syslog\"\nspool_dir = \"/x\"\nnice = -5").unwrap() {
        SinkConfig::Syslog(s) => assert_eq!(s.spool.nice, -5),
        other => panic!("{other:?}"),
    }
}

#[test]
fn remote_header_golden_bytes() {
    let h = Header {
        msg_version: 0,
        msg_type: remote::TYPE_DISKLOW,
        length: 0x0102,
        sequence: 0x0a0b0c0d,
    };
    let b = h.encode();
    assert_eq!(
        b,
        [
            0xfe, 0x00, 0x00, 0xff, // magic 0xff0000fe, little-endian
            0x00, // header version
            0x00, // message version
            0x01, 0x00, 0x00, 0x50, // type DISKLOW
            0x02, 0x01, // length
            0x0d, 0x0c, 0x0b, 0x0a, // sequence
        ]
    );
    assert_eq!(Header::decode(&b), Ok(h));
    assert!(Header::decode(&b[..15]).is_err());
    let mut wrong = b;
    wrong[0] = 0;
    assert!(Header::decode(&wrong).unwrap_err().contains("magic"));
}

proptest::proptest! {
    #[test]
    fn header_decode_never_panics(b in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..20)) {
        let _ = Header::decode(&b);
    }

    #[test]
    fn event_decode_never_panics(b in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..64)) {
        let _ = ForwardEvent::decode(&b);
    }
}

/// The next message a fake receiver gets; `None` once the sender hung up.
pub(super) fn read_message(s: &mut impl Read) -> Option<(Header, Vec<u8>)> {
    let mut h = [0u8; 16];
    s.read_exact(&mut h).ok()?;
    let h = Header::decode(&h).unwrap();
    let mut text = vec![0u8; h.length as usize];
    s.read_exact(&mut text).ok()?;
    Some((h, text))
}

/// A receiver that speaks the server side: acks each message, answers
/// DISKFULL to the `fail_at`-th message of the first connection, then hangs up.
fn fake_receiver(fail_at: usize) -> (u16, Arc<std::sync::Mutex<Vec<String>>>) {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = l.local_addr().unwrap().port();
    let got = Arc::new(std::sync::Mutex::new(Vec::new()));
    let g = got.clone();
    std::thread::spawn(move || {
        let mut conn_no = 0;
        for s in l.incoming() {
            let Ok(mut s) = s else { return };
            conn_no += 1;
            let mut n = 0;
            while let Some((h, text)) = read_message(&mut s) {
                n += 1;
                if conn_no == 1 && n == fail_at {
                    let msg = b"disk full";
                    let mut r = Vec::new();
                    remote::push_message(&mut r, remote::TYPE_DISKFULL, h.sequence, msg);
                    let _ = s.write_all(&r);
                    // Drain (closing with unread data would reset the
                    // connection and lose the reply) until the sender hangs up.
                    let _ = s.shutdown(std::net::Shutdown::Write);
                    let _ = std::io::copy(&mut s, &mut std::io::sink());
                    break;
                }
                if h.msg_type == remote::TYPE_MESSAGE {
                    g.lock().unwrap().push(String::from_utf8(text).unwrap());
                }
                let reply_type = if n % 7 == 0 {
                    remote::TYPE_DISKLOW
                } else {
                    remote::TYPE_ACK
                };
                let mut r = Vec::new();
                remote::push_message(&mut r, reply_type, h.sequence, b"");
                s.write_all(&r).unwrap();
            }
        }
    });
    (port, got)
}

#[test]
fn remote_sink_delivers_everything_in_order_through_a_refusal() {
    let (port, got) = fake_receiver(52);
    let dir = tempdir("remote");
    let cfg = SinkConfig::from_toml(&format!(
        "type = \"remote\"\nremote_server = \"127.0.0.1\"\nport = {port}\nspool_dir = {:?}\n",
        dir.display().to_string()
    ))
    .unwrap();
    let sink = cfg.start().unwrap();
    for s in 0..300 {
        assert!(sink.submit(&event(s)));
    }
    assert!(sink.flush(Duration::from_secs(20)), "{:?}", sink.stats());
    let st = sink.stats();
    assert_eq!(st.acked, 300);
    assert_eq!(st.dropped, 0);
    assert_eq!(st.reconnects, 1);
    assert!(st.last_error.contains("disk full"), "{st:?}");
    assert!(st.last_warning.contains("disk low"), "{st:?}");
    let got = got.lock().unwrap();
    // Message 52 (event 25's second record) was refused: the event was resent
    // whole, so its first record arrived twice; the rest once, in order.
    let mut ids: Vec<u64> = got
        .iter()
        .filter(|l| l.contains("type=SYSCALL"))
        .map(|l| {
            assert!(l.starts_with("node=host1 type="), "{l}");
            l.split(':')
                .nth(1)
                .unwrap()
                .split(')')
                .next()
                .unwrap()
                .parse()
                .unwrap()
        })
        .collect();
    assert_eq!(ids.len(), 301);
    ids.dedup();
    assert_eq!(ids, (0..300).collect::<Vec<_>>());
    drop(sink);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn sink_spools_while_the_far_end_is_down_and_resumes_after_restart() {
    // Reserve a port with nothing listening on it.
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let dir = tempdir("down");
    let cfg = SinkConfig::from_toml(&format!(
        "type = \"remote\"\nremote_server = \"127.0.0.1\"\nport = {port}\nspool_dir = {:?}\n",
        dir.display().to_string()
    ))
    .unwrap();
    let sink = cfg.start().unwrap();
    for s in 0..100 {
        sink.submit(&event(s));
    }
    assert!(!sink.flush(Duration::from_millis(300)));
    let st = sink.stats();
    assert_eq!(st.spooled, 100, "{st:?}");
    assert!(st.last_error.contains("connect"), "{st:?}");
    drop(sink);
    // Started again, now with a receiver on that port.
    let l = TcpListener::bind(("127.0.0.1", port)).unwrap();
    let got = Arc::new(AtomicUsize::new(0));
    let g = got.clone();
    std::thread::spawn(move || {
        if let Some(Ok(mut s)) = l.incoming().next() {
            let mut h = [0u8; 16];
            while s.read_exact(&mut h).is_ok() {
                let hd = Header::decode(&h).unwrap();
                let mut t = vec![0u8; hd.length as usize];
                s.read_exact(&mut t).unwrap();
                g.fetch_add(1, Ordering::Relaxed);
                let mut r = Vec::new();
                remote::push_message(&mut r, remote::TYPE_ACK, hd.sequence, b"");
                s.write_all(&r).unwrap();
            }
        }
    });
    let sink = cfg.start().unwrap();
    assert_eq!(sink.stats().spooled, 100);
    assert!(sink.flush(Duration::from_secs(10)), "{:?}", sink.stats());
    assert_eq!(got.load(Ordering::Relaxed), 200);
    drop(sink);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn syslog_message_is_rfc5424() {
    assert_eq!(syslog::rfc3339(0, 0), "1970-01-01T00:00:00.000Z");
    assert_eq!(
        syslog::rfc3339(1_700_000_000, 123),
        "2023-11-14T22:13:20.123Z"
    );
    assert_eq!(syslog::rfc3339(951_782_400, 5), "2000-02-29T00:00:00.005Z");
    let cfg = SinkConfig::from_toml("type = \"syslog\"\nspool_dir = \"/nonexistent\"\n").unwrap();
    let SinkConfig::Syslog(c) = cfg else { panic!() };
    let link = c.transport().unwrap();
    let mut out = Vec::new();
    link.format(&event(7), &mut out);
    let text = String::from_utf8(out).unwrap();
    let want = format!(
        "<86>1 2023-11-14T22:13:20.123Z host1 auditlink {} 1700000000.123:7 - type=SYSCALL",
        std::process::id()
    );
    assert!(text.starts_with(&want), "{text}");
}

#[test]
fn tls_keys_are_parsed_and_checked_at_start() {
    let cfg = SinkConfig::from_toml(
        "type = \"syslog\"\ntransport = \"tls\"\nserver = \"logs.example.net\"\nca_file = \"/etc/ca.pem\"\ncert_file = \"/etc/c.pem\"\nkey_file = \"/etc/c.key\"\ntls_server_name = \"syslog.example.net\"\nspool_dir = \"/x\"\n",
    )
    .unwrap();
    let SinkConfig::Syslog(c) = &cfg else {
        panic!()
    };
    assert_eq!(c.effective_port(), 6514);
    assert_eq!(
        c.tls.ca_file.as_deref(),
        Some(std::path::Path::new("/etc/ca.pem"))
    );
    assert_eq!(
        c.tls.key_file.as_deref(),
        Some(std::path::Path::new("/etc/c.key"))
    );
    assert_eq!(c.tls_server_name.as_deref(), Some("syslog.example.net"));
    let err = c.transport().err().unwrap().to_string();
    assert!(err.contains("ca_file /etc/ca.pem"), "{err}");
    let cfg = SinkConfig::from_toml(
        "type = \"otlp\"\nendpoint = \"https://c:4318/v1/logs\"\ncert_file = \"/c.pem\"\nspool_dir = \"/x\"\n",
    )
    .unwrap();
    let SinkConfig::Otlp(o) = &cfg else { panic!() };
    assert_eq!(
        o.tls.cert_file.as_deref(),
        Some(std::path::Path::new("/c.pem"))
    );
    let err = o.transport().err().unwrap().to_string();
    assert!(err.contains("cert_file and key_file go together"), "{err}");
    let plain =
        SinkConfig::from_toml("type = \"syslog\"\ntransport = \"tcp\"\nspool_dir = \"/x\"\n")
            .unwrap();
    let SinkConfig::Syslog(p) = &plain else {
        panic!()
    };
    assert_eq!(p.effective_port(), 514);
}

#[test]
fn syslog_tcp_notices_a_closed_receiver_before_writing() {
    use super::worker::Transport;
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = l.local_addr().unwrap().port();
    let cfg = SinkConfig::from_toml(&format!(
        "type = \"syslog\"\ntransport = \"tcp\"\nport = {port}\nspool_dir = \"/x\"\n"
    ))
    .unwrap();
    let SinkConfig::Syslog(c) = cfg else { panic!() };
    let mut link = c.transport().unwrap();
    link.connect().unwrap();
    let (mut peer, _) = l.accept().unwrap();
    let d = link.deliver(&[event(1)]);
    assert_eq!((d.acked, d.error), (1, None));
    // Read all of it, so closing sends a FIN (unread data would make it a reset).
    peer.set_read_timeout(Some(Duration::from_millis(200)))
        .unwrap();
    let mut got = Vec::new();
    let _ = peer.read_to_end(&mut got);
    assert!(got.starts_with(b"1"));
    drop(peer);
    std::thread::sleep(Duration::from_millis(50));
    // The kernel would take these bytes for a peer that is gone; the
    // delivery must say so instead of counting them delivered.
    let d = link.deliver(&[event(2)]);
    assert_eq!(d.acked, 0);
    assert!(d.error.unwrap().contains("closed"));
}

#[test]
fn a_full_queue_waits_for_room_then_gives_up() {
    use super::intake::Queue;
    let q = std::sync::Arc::new(Queue::new(1));
    let wait = Some(Duration::from_millis(300));
    assert_eq!(q.put(std::iter::once(&event(1)), wait), 1);
    // Nobody takes: the second event is refused once the wait is over.
    let t0 = std::time::Instant::now();
    assert_eq!(q.put(std::iter::once(&event(2)), wait), 0);
    assert!(t0.elapsed() >= Duration::from_millis(300));
    // Room made during the wait: taken, not dropped.
    let taker = {
        let q = q.clone();
        std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(50));
            let mut got = crate::audit::packed::Packed::default();
            q.take(&mut got);
            got.len()
        })
    };
    assert_eq!(
        q.put(std::iter::once(&event(3)), Some(Duration::from_secs(10))),
        1
    );
    assert_eq!(taker.join().unwrap(), 1);
}

#[test]
fn queue_overflow_is_counted() {
    let dir = tempdir("queue");
    let cfg = SinkConfig::from_toml(&format!(
        "type = \"syslog\"\ntransport = \"tcp\"\nport = 1\nqueue_depth = 1\nspool_dir = {:?}\n",
        dir.display().to_string()
    ))
    .unwrap();
    let sink = cfg.start().unwrap();
    let refused = (0..5000).filter(|s| !sink.submit(&event(*s))).count() as u64;
    sink.close();
    assert!(!sink.submit(&event(9)), "a closed sink takes nothing");
    let st = sink.stats();
    assert_eq!(st.submitted, 5001);
    assert_eq!(st.dropped, refused + 1, "{st:?}");
    assert_eq!(st.spooled + st.dropped, 5001, "{st:?}");
    assert_eq!(st.queued, 0);
    let _ = std::fs::remove_dir_all(&dir);
}

/// Fields `first..` of the /proc `stat` line of this process's thread named
/// `name` (field 3 is the state), if there is one.
fn thread_stat(name: &str, first: usize) -> Option<Vec<i64>> {
    for t in std::fs::read_dir("/proc/self/task").ok()?.flatten() {
        let comm = std::fs::read_to_string(t.path().join("comm")).unwrap_or_default();
        if comm.trim_end() != name {
            continue;
        }
        let stat = std::fs::read_to_string(t.path().join("stat")).ok()?;
        let rest = &stat[stat.rfind(')')? + 2..];
        return Some(
            rest.split(' ')
                .skip(first - 3)
                .map_while(|f| f.parse().ok())
                .collect(),
        );
    }
    None
}

/// The nice value of the thread named `name` (field 19).
fn thread_nice(name: &str) -> Option<i32> {
    i32::try_from(*thread_stat(name, 19)?.first()?).ok()
}

/// The CPU time of the thread named `name` in clock ticks (utime + stime).
fn thread_ticks(name: &str) -> Option<i64> {
    let f = thread_stat(name, 14)?;
    Some(f.first()? + f.get(1)?)
}

#[test]
fn an_idle_sink_that_is_not_connected_sleeps() {
    // Nothing spooled, never connected (the far end is not even tried): the
    // delivering thread waits for events instead of polling. It spun here
    // once: its wait was the time left to the next attempt, which is zero.
    let dir = tempdir("idle");
    let cfg = SinkConfig::from_toml(&format!(
        "type = \"syslog\"\nname = \"idletest\"\ntransport = \"tcp\"\nport = 1\nspool_dir = {:?}\n",
        dir.display().to_string()
    ))
    .unwrap();
    let sink = cfg.start().unwrap();
    let deadline = std::time::Instant::now() + Duration::from_secs(5);
    let mut before = None;
    while before.is_none() && std::time::Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(10));
        before = thread_ticks("sink-idletest");
    }
    std::thread::sleep(Duration::from_secs(1));
    let after = thread_ticks("sink-idletest");
    sink.close();
    let _ = std::fs::remove_dir_all(&dir);
    // A second of polling is about 100 ticks; sleeping, none.
    let used = after.unwrap() - before.expect("the sink's thread is seen");
    assert!(
        used < 20,
        "the idle delivering thread used {used} ticks in 1 s"
    );
}

#[test]
fn the_delivering_thread_runs_at_the_sinks_nice_value() {
    let dir = tempdir("nice");
    let cfg = SinkConfig::from_toml(&format!(
        "type = \"syslog\"\nname = \"nicetest\"\ntransport = \"tcp\"\nport = 1\nnice = 7\nspool_dir = {:?}\n",
        dir.display().to_string()
    ))
    .unwrap();
    let here = crate::audit::affinity::this_thread_nice();
    let sink = cfg.start().unwrap();
    // The delivering thread sets its own value first thing; the intake that
    // spools keeps the caller's priority. Looked up until both are seen (the
    // thread must have run; and a listing of /proc/self/task can end early
    // while other tests' threads exit).
    let want = (Some(7), Some(here));
    let deadline = std::time::Instant::now() + Duration::from_secs(5);
    let mut got = (None, None);
    while got != want && std::time::Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(10));
        got = (thread_nice("sink-nicetest"), thread_nice("sinkin-nicetest"));
    }
    assert_eq!(got, want);
    sink.close();
    let _ = std::fs::remove_dir_all(&dir);
}
