//! Tests of the `remote` sink's send window against fake receivers: acknowledgements held back past a batch, a connection dropped mid-window, a reply for the wrong message.

use std::io::Write;
use std::net::TcpListener;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use super::remote;
use super::tests::{event, read_message, tempdir};
use super::{Sink, SinkConfig, SinkStats};

/// How the fake receiver misbehaves on its first connection.
#[derive(Clone, Copy, Default)]
struct Script {
    /// Acknowledgements are held back until this many messages came in
    /// (then sent at once, and the later ones as they come).
    hold: usize,
    /// Close the connection on receiving this message, unanswered (and
    /// every acknowledgement still held back unsent).
    cut_at: Option<usize>,
    /// Answer this message with another message's sequence number.
    wrong_sequence_at: Option<usize>,
}

type Received = Arc<Mutex<Vec<(usize, String)>>>;

/// A receiver speaking the server side; every record received is kept with
/// the number of the connection it came on.
fn receiver(script: Script) -> (u16, Received) {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = l.local_addr().unwrap().port();
    let got: Received = Arc::default();
    let g = got.clone();
    std::thread::spawn(move || {
        for (conn, s) in l.incoming().enumerate() {
            let Ok(mut s) = s else { return };
            let first = conn == 0;
            let mut held = Vec::new();
            let mut n = 0;
            while let Some((h, text)) = read_message(&mut s) {
                n += 1;
                if first && script.cut_at == Some(n) {
                    break;
                }
                if h.msg_type == remote::TYPE_MESSAGE {
                    g.lock()
                        .unwrap()
                        .push((conn, String::from_utf8(text).unwrap()));
                }
                let seq = if first && script.wrong_sequence_at == Some(n) {
                    h.sequence.wrapping_add(5)
                } else {
                    h.sequence
                };
                remote::push_message(&mut held, remote::TYPE_ACK, seq, b"");
                if n >= script.hold || !first {
                    if s.write_all(&held).is_err() {
                        break;
                    }
                    held.clear();
                }
            }
        }
    });
    (port, got)
}

fn run(script: Script, events: u64, window: usize) -> (SinkStats, Vec<(usize, u64)>) {
    let (port, got) = receiver(script);
    let dir = tempdir("window");
    let cfg = SinkConfig::from_toml(&format!(
        "type = \"remote\"\nremote_server = \"127.0.0.1\"\nport = {port}\n\
         batches_in_flight = {window}\nmax_time_per_record = 2\nspool_dir = {:?}\n",
        dir.display().to_string()
    ))
    .unwrap();
    let sink = cfg.start().unwrap();
    let batch: Vec<_> = (0..events).map(event).collect();
    assert_eq!(sink.submit_waiting(&batch), events as usize);
    assert!(sink.flush(Duration::from_secs(30)), "{:?}", sink.stats());
    let stats = sink.stats();
    drop(sink);
    let _ = std::fs::remove_dir_all(&dir);
    let serials = got
        .lock()
        .unwrap()
        .iter()
        .filter(|(_, l)| l.contains("type=SYSCALL"))
        .map(|(conn, l)| {
            let serial = l.split(':').nth(1).unwrap().split(')').next().unwrap();
            (*conn, serial.parse().unwrap())
        })
        .collect();
    (stats, serials)
}

/// Every event arrived, in order; the only repeats are where a connection
/// ended (the events it did not see acknowledged).
fn assert_all_in_order(serials: &[(usize, u64)], events: u64) {
    let mut last: Option<(usize, u64)> = None;
    for &(conn, s) in serials {
        let expected_next = last.map_or(0, |(_, l)| l + 1);
        match last {
            Some((c, l)) if c != conn => assert!(s <= l + 1, "{s} after {l}"),
            _ => assert_eq!(s, expected_next, "{s} after {last:?}"),
        }
        last = Some((conn, s));
    }
    assert_eq!(last.map(|(_, s)| s), Some(events - 1));
}

#[test]
fn acknowledgements_held_past_a_batch_need_the_window() {
    // Nothing is acknowledged before 700 messages (350 events, more than one
    // batch of 256) came in: only a sender with several batches in flight
    // gets there without waiting out its timeout.
    let script = Script {
        hold: 700,
        ..Script::default()
    };
    let (st, serials) = run(script, 2000, 4);
    assert_eq!(
        (st.acked, st.dropped, st.reconnects),
        (2000, 0, 0),
        "{st:?}"
    );
    assert_eq!(serials.len(), 2000);
    assert_all_in_order(&serials, 2000);
}

#[test]
fn a_connection_dropped_mid_window_is_resent_from_the_first_unacknowledged() {
    // Acks held back until message 600, then the connection ends on message
    // 1100, in the middle of the third batch: what the sender did not see
    // acknowledged goes again, in order, on the next connection.
    let script = Script {
        hold: 600,
        cut_at: Some(1100),
        ..Script::default()
    };
    let (st, serials) = run(script, 2000, 4);
    assert_eq!(
        (st.acked, st.dropped, st.reconnects),
        (2000, 0, 1),
        "{st:?}"
    );
    assert_all_in_order(&serials, 2000);
    let on_first = serials.iter().filter(|(c, _)| *c == 0).count();
    assert_eq!(on_first, 550, "{st:?}");
    // Event 549's two records were messages 1099 and 1100: it goes again,
    // with the events before it whose acknowledgements were still on
    // their way when the receiver closed (and were lost with the connection).
    let resent_from = serials.iter().find(|(c, _)| *c == 1).unwrap().1;
    assert!(resent_from <= 549, "{resent_from}");
    assert_eq!(serials.len() as u64, 2000 + 550 - resent_from);
}

#[test]
fn a_reply_for_the_wrong_message_ends_the_connection_and_resends() {
    let script = Script {
        wrong_sequence_at: Some(101),
        ..Script::default()
    };
    let (st, serials) = run(script, 1000, 4);
    assert_eq!(
        (st.acked, st.dropped, st.reconnects),
        (1000, 0, 1),
        "{st:?}"
    );
    assert!(st.last_error.contains("where"), "{st:?}");
    assert_all_in_order(&serials, 1000);
    // Event 50 (messages 101 and 102) is the first one sent again.
    let resent_from = serials.iter().find(|(c, _)| *c == 1).unwrap().1;
    assert_eq!(resent_from, 50);
}

#[test]
fn one_batch_in_flight_still_delivers_everything() {
    let (st, serials) = run(Script::default(), 600, 1);
    assert_eq!((st.acked, st.dropped, st.reconnects), (600, 0, 0), "{st:?}");
    assert_eq!(serials.len(), 600);
    assert_all_in_order(&serials, 600);
}

#[test]
fn batches_in_flight_is_checked() {
    for bad in [0, 65] {
        let cfg = SinkConfig::from_toml(&format!(
            "type = \"remote\"\nremote_server = \"h\"\nbatches_in_flight = {bad}\nspool_dir = \"/nonexistent\"\n"
        ))
        .unwrap();
        let err = cfg.start().unwrap_err().to_string();
        assert!(err.contains("batches_in_flight"), "{err}");
    }
}
