//! Unit tests of the worker's pipelined delivery: several batches awaiting answers, a failure or refusal in the middle, the spool's cursor and the order of resends.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use super::tests::{event, tempdir};
use super::worker::{start, Delivery, Retry, Transport};
use super::{ForwardEvent, Sink, SpoolConfig};

/// What the scripted far end saw: each batch handed over (its serials, in
/// hand-over order) and the serials it took (answered with success).
#[derive(Default)]
struct Seen {
    handed: Vec<Vec<u64>>,
    taken: Vec<u64>,
}

/// A pipelined transport whose answer for the n-th batch handed over (from
/// 0) is `script(n, events)`; `connect` fails until `open` is set.
struct Scripted {
    window: usize,
    open: Arc<AtomicBool>,
    /// Answers wait until this is set.
    answering: Arc<AtomicBool>,
    seen: Arc<Mutex<Seen>>,
    waiting: VecDeque<(usize, Vec<ForwardEvent>)>,
    count: usize,
    script: fn(usize, usize) -> Delivery,
}

impl Transport for Scripted {
    fn connect(&mut self) -> Result<(), String> {
        if self.open.load(Ordering::Relaxed) {
            Ok(())
        } else {
            Err("connect: not yet".into())
        }
    }
    fn deliver(&mut self, _: &[ForwardEvent]) -> Delivery {
        unreachable!("pipelined transports are driven through begin/answer")
    }
    fn window(&self) -> usize {
        self.window
    }
    fn begin(&mut self, events: &mut Vec<ForwardEvent>) -> Option<Delivery> {
        let batch = std::mem::take(events);
        let serials = batch.iter().map(|e| e.serial).collect();
        self.seen.lock().unwrap().handed.push(serials);
        self.waiting.push_back((self.count, batch));
        self.count += 1;
        None
    }
    fn answer(&mut self) -> Delivery {
        while !self.answering.load(Ordering::Relaxed) {
            std::thread::sleep(Duration::from_millis(2));
        }
        let (n, batch) = self.waiting.pop_front().expect("an answer was due");
        let d = (self.script)(n, batch.len());
        if d.error.is_none() {
            let mut seen = self.seen.lock().unwrap();
            seen.taken.extend(batch[..d.acked].iter().map(|e| e.serial));
        }
        d
    }
    fn disconnect(&mut self) {
        assert!(self.waiting.is_empty(), "disconnected with answers due");
    }
}

fn ok(n: usize) -> Delivery {
    Delivery {
        acked: n,
        sent: n,
        ..Delivery::default()
    }
}

fn scripted(script: fn(usize, usize) -> Delivery) -> (Scripted, Arc<Mutex<Seen>>) {
    let seen = Arc::new(Mutex::new(Seen::default()));
    let transport = Scripted {
        window: 3,
        open: Arc::new(AtomicBool::new(false)),
        answering: Arc::new(AtomicBool::new(true)),
        seen: seen.clone(),
        waiting: VecDeque::new(),
        count: 0,
        script,
    };
    (transport, seen)
}

const FAST: Retry = Retry {
    base: Duration::from_millis(10),
    max: Duration::from_millis(20),
    idle: None,
};

/// Runs `events` events through a window-3 scripted sink whose far end is
/// reachable only once they are all spooled (so the first batches are full).
fn run(events: u64, script: fn(usize, usize) -> Delivery) -> (super::SinkStats, Seen) {
    let dir = tempdir("pipeline");
    let spool: SpoolConfig =
        toml::from_str(&format!("spool_dir = {:?}", dir.display().to_string())).unwrap();
    let (transport, seen) = scripted(script);
    let open = transport.open.clone();
    let sink = start("scripted".into(), &spool, FAST, transport).unwrap();
    let all: Vec<_> = (0..events).map(event).collect();
    assert_eq!(sink.submit_waiting(&all), events as usize);
    while sink.stats().spooled < events {
        std::thread::sleep(Duration::from_millis(5));
    }
    open.store(true, Ordering::Relaxed);
    assert!(sink.flush(Duration::from_secs(20)), "{:?}", sink.stats());
    sink.close();
    let stats = sink.stats();
    let _ = std::fs::remove_dir_all(&dir);
    let seen = std::mem::take(&mut *seen.lock().unwrap());
    (stats, seen)
}

#[test]
fn a_failed_export_in_the_middle_is_resent_with_the_later_ones_in_order() {
    // The second batch fails while the third is in flight (and taken).
    let (stats, seen) = run(1000, |n, len| match n {
        1 => Delivery {
            sent: len,
            error: Some("HTTP 503".into()),
            retry_after: Some(Duration::from_millis(10)),
            ..Delivery::default()
        },
        _ => ok(len),
    });
    assert_eq!(
        (stats.acked, stats.dropped, stats.spooled),
        (1000, 0, 0),
        "{stats:?}"
    );
    assert!(stats.last_error.contains("503"), "{stats:?}");
    let h = &seen.handed;
    // Three full batches in flight at once; the first answer makes room for
    // the fourth before the second's failure is known.
    assert_eq!(h[0], (0..256).collect::<Vec<_>>());
    assert_eq!(h[1], (256..512).collect::<Vec<_>>());
    assert_eq!(h[2], (512..768).collect::<Vec<_>>());
    assert_eq!(h[3], (768..1000).collect::<Vec<_>>());
    // Then the resend starts at the first unacknowledged event, in order.
    assert_eq!(
        h[4][0], 256,
        "resend starts at the first unacknowledged event"
    );
    let resent: Vec<u64> = h[4..].concat();
    assert_eq!(resent, (256..1000).collect::<Vec<_>>());
    // Nothing lost; duplicates only of the batches in flight after the failed one.
    let mut taken = seen.taken.clone();
    taken.sort_unstable();
    let dups: Vec<u64> = taken
        .windows(2)
        .filter(|w| w[0] == w[1])
        .map(|w| w[0])
        .collect();
    taken.dedup();
    assert_eq!(taken, (0..1000).collect::<Vec<_>>());
    assert_eq!(dups, (512..1000).collect::<Vec<_>>());
}

#[test]
fn a_refused_export_in_the_middle_is_dropped_counted_and_the_rest_goes_on() {
    let (stats, seen) = run(1000, |n, len| match n {
        1 => Delivery {
            sent: len,
            rejected: len,
            warning: Some("HTTP 400".into()),
            ..Delivery::default()
        },
        _ => ok(len),
    });
    assert_eq!(
        (stats.acked, stats.dropped, stats.spooled),
        (744, 256, 0),
        "{stats:?}"
    );
    // No resend: every batch was handed over once, in order.
    assert_eq!(seen.handed.concat(), (0..1000).collect::<Vec<_>>());
    let mut taken = seen.taken;
    taken.sort_unstable();
    let expected: Vec<u64> = (0..256).chain(512..1000).collect();
    assert_eq!(taken, expected);
}

#[test]
fn window_one_transports_still_answer_in_deliver() {
    struct Sync(Arc<Mutex<Vec<u64>>>);
    impl Transport for Sync {
        fn connect(&mut self) -> Result<(), String> {
            Ok(())
        }
        fn deliver(&mut self, events: &[ForwardEvent]) -> Delivery {
            self.0
                .lock()
                .unwrap()
                .extend(events.iter().map(|e| e.serial));
            ok(events.len())
        }
        fn disconnect(&mut self) {}
    }
    let dir = tempdir("pipeline-sync");
    let spool: SpoolConfig =
        toml::from_str(&format!("spool_dir = {:?}", dir.display().to_string())).unwrap();
    let got = Arc::new(Mutex::new(Vec::new()));
    let sink = start(
        "sync".into(),
        &spool,
        Retry::from_secs(1, 0),
        Sync(got.clone()),
    )
    .unwrap();
    for s in 0..600 {
        sink.submit(&event(s));
    }
    assert!(sink.flush(Duration::from_secs(10)));
    assert_eq!(*got.lock().unwrap(), (0..600).collect::<Vec<_>>());
    drop(sink);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_full_spool_dropping_handed_out_events_does_not_move_the_cursor_wrongly() {
    // While a batch awaits its answer, a full spool (drop_oldest) discards
    // it: its answer must not acknowledge the events that took its place.
    let dir = tempdir("pipeline-full");
    let spool: SpoolConfig = toml::from_str(&format!(
        "spool_dir = {:?}\nspool_max_bytes = 20000\nspool_full_action = \"drop_oldest\"",
        dir.display().to_string()
    ))
    .unwrap();
    let (transport, seen) = scripted(|_, len| ok(len));
    let (open, answering) = (transport.open.clone(), transport.answering.clone());
    answering.store(false, Ordering::Relaxed);
    open.store(true, Ordering::Relaxed);
    let sink = start("scripted".into(), &spool, FAST, transport).unwrap();
    assert_eq!(
        sink.submit_waiting(&(0..20).map(event).collect::<Vec<_>>()),
        20
    );
    while seen.lock().unwrap().handed.is_empty() {
        std::thread::sleep(Duration::from_millis(2));
    }
    assert_eq!(
        sink.submit_waiting(&(20..400).map(event).collect::<Vec<_>>()),
        380
    );
    while sink.stats().queued > 0 {
        std::thread::sleep(Duration::from_millis(2));
    }
    answering.store(true, Ordering::Relaxed);
    assert!(sink.flush(Duration::from_secs(20)), "{:?}", sink.stats());
    sink.close();
    let st = sink.stats();
    assert!(st.dropped > 0, "{st:?}");
    assert_eq!(st.acked + st.dropped, 400, "{st:?}");
    // Every event the spool kept reached the far end.
    let mut taken = seen.lock().unwrap().taken.clone();
    taken.sort_unstable();
    taken.dedup();
    let kept: Vec<u64> = (st.dropped..400).collect();
    assert!(
        kept.iter().all(|s| taken.binary_search(s).is_ok()),
        "{st:?}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}
