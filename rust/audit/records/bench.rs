//! Throughput measurement for bench/records/bench.py (not a test: `#[ignore]`d,
//! and a no-op without AUDITLINK_BENCH_LOG). Run:
//! `AUDITLINK_BENCH_LOG=big.log cargo test --release --lib records::bench -- --ignored --nocapture`
//!
//! Every measurement starts from the file: it is opened and read in 1 MiB
//! chunks inside the timed part, as libauparse's walker reads it (from the page
//! cache either way). `AUDITLINK_BENCH_ONLY=parsed|interpreted|json` runs one
//! of them (for profiling); the `-2t` variants read and parse on a second
//! thread (records::pipeline) while this one interprets or writes JSON.

use std::io::Read;
use std::time::Instant;

use super::json::event_to_json;
use super::pipeline::EventReader;
use super::{interpret_field, Event, LogStream};

const CHUNK: usize = 1 << 20;

/// Feed the file through a fresh LogStream, handing completed events to `consume`.
fn stream_file(path: &str, buf: &mut [u8], mut consume: impl FnMut(&Vec<Event>)) {
    let Ok(mut file) = std::fs::File::open(path) else {
        panic!("cannot open {path}");
    };
    let mut stream = LogStream::new(1024, 2000);
    let mut out = Vec::new();
    loop {
        let n = match file.read(buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => panic!("read {path}: {e}"),
        };
        stream.feed(&buf[..n], &mut out);
        consume(&out);
        out.clear();
    }
    stream.finish(&mut out);
    consume(&out);
}

/// Like [`stream_file`], with reading and parsing on a second thread.
fn stream_file_threaded(path: &str, mut consume: impl FnMut(&Vec<Event>)) {
    let Ok(file) = std::fs::File::open(path) else {
        panic!("cannot open {path}");
    };
    let Ok(reader) = EventReader::spawn(file, 1024, 2000, CHUNK) else {
        panic!("cannot start the reader thread");
    };
    let mut reader = reader;
    while let Some(batch) = reader.next() {
        let Ok(events) = batch else {
            panic!("read {path} failed");
        };
        consume(&events);
        reader.recycler().recycle_all(events);
    }
}

fn best_of<T>(rounds: usize, mut run: impl FnMut() -> T) -> (T, f64) {
    let mut best = f64::MAX;
    let mut result = None;
    for _ in 0..rounds.max(1) {
        let t = Instant::now();
        let r = run();
        best = best.min(t.elapsed().as_secs_f64());
        result = Some(r);
    }
    match result {
        Some(r) => (r, best),
        None => unreachable!("at least one round"),
    }
}

#[test]
#[ignore]
fn bench_log_file() {
    let Ok(path) = std::env::var("AUDITLINK_BENCH_LOG") else {
        return;
    };
    let rounds: usize = std::env::var("AUDITLINK_BENCH_ROUNDS")
        .ok()
        .and_then(|r| r.parse().ok())
        .unwrap_or(3);
    let only = std::env::var("AUDITLINK_BENCH_ONLY").unwrap_or_default();
    let wanted = |what: &str| only.is_empty() || only == what;
    let mut buf = vec![0u8; CHUNK];

    // Output digests (AUDITLINK_BENCH_ONLY=digest): an FNV-1a hash of every
    // field's name, raw value and interpretation, and of the JSON lines, to
    // check that an optimization changed no output byte.
    if only == "digest" {
        let fnv = |h: u64, b: &[u8]| {
            b.iter().fold(h, |h, &c| {
                (h ^ u64::from(c)).wrapping_mul(0x0000_0100_0000_01b3)
            })
        };
        let (mut hi, mut hj) = (0xcbf2_9ce4_8422_2325u64, 0xcbf2_9ce4_8422_2325u64);
        let mut text = Vec::new();
        let mut json = Vec::new();
        stream_file(&path, &mut buf, |out| {
            for ev in out.iter() {
                for r in &ev.records {
                    for f in r.fields() {
                        text.clear();
                        interpret_field(r, f, &mut text);
                        hi = fnv(hi, r.field_name(f));
                        hi = fnv(hi, b"\x00");
                        hi = fnv(hi, r.field_value(f));
                        hi = fnv(hi, b"\x00");
                        hi = fnv(hi, &text);
                        hi = fnv(hi, b"\n");
                    }
                }
                json.clear();
                event_to_json(ev, &mut json);
                hj = fnv(hj, &json);
            }
        });
        println!("BENCH digest interpreted={hi:016x} json={hj:016x}");
        return;
    }

    // File -> events, records parsed (fields split, nothing interpreted).
    if wanted("parsed") {
        let (records, secs) = best_of(rounds, || {
            let mut records = 0u64;
            stream_file(&path, &mut buf, |out| {
                records += out.iter().map(|e| e.records.len() as u64).sum::<u64>();
            });
            records
        });
        println!("BENCH parsed records={records} seconds={secs:.4}");
    }

    // File -> events with every field parsed and interpreted.
    for threaded in [false, true] {
        let label = if threaded {
            "interpreted-2t"
        } else {
            "interpreted"
        };
        if !wanted(label) {
            continue;
        }
        let mut text = Vec::with_capacity(256);
        let ((records, fields, bytes), secs) = best_of(rounds, || {
            let (mut records, mut fields, mut bytes) = (0u64, 0u64, 0u64);
            let consume = |out: &Vec<Event>| {
                for ev in out.iter() {
                    for r in &ev.records {
                        records += 1;
                        for f in r.fields() {
                            text.clear();
                            interpret_field(r, f, &mut text);
                            bytes += text.len() as u64;
                            fields += 1;
                        }
                    }
                }
            };
            if threaded {
                stream_file_threaded(&path, consume);
            } else {
                stream_file(&path, &mut buf, consume);
            }
            (records, fields, bytes)
        });
        println!("BENCH {label} records={records} fields={fields} bytes={bytes} seconds={secs:.4}");
    }

    // File -> JSON lines (written to memory, one chunk's worth at a time).
    for threaded in [false, true] {
        let label = if threaded { "json-2t" } else { "json" };
        if !wanted(label) {
            continue;
        }
        let mut json = Vec::with_capacity(CHUNK * 4);
        let ((records, json_bytes), secs) = best_of(rounds, || {
            let (mut records, mut json_bytes) = (0u64, 0u64);
            let consume = |out: &Vec<Event>| {
                for ev in out.iter() {
                    records += ev.records.len() as u64;
                    event_to_json(ev, &mut json);
                    json.push(b'\n');
                }
                json_bytes += json.len() as u64;
                json.clear();
            };
            if threaded {
                stream_file_threaded(&path, consume);
            } else {
                stream_file(&path, &mut buf, consume);
            }
            (records, json_bytes)
        });
        println!("BENCH {label} records={records} json_bytes={json_bytes} seconds={secs:.4}");
    }
}
