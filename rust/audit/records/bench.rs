//! Throughput measurement for bench/records/bench.py (not a test: `#[ignore]`d,
//! and a no-op without AUDITLINK_BENCH_LOG). Run:
//! `AUDITLINK_BENCH_LOG=big.log cargo test --release --lib records::bench -- --ignored --nocapture`

use std::time::Instant;

use super::json::event_to_json;
use super::{interpret_field, LogStream};

const CHUNK: usize = 1 << 20;

#[test]
#[ignore]
fn bench_log_file() {
    let Ok(path) = std::env::var("AUDITLINK_BENCH_LOG") else {
        return;
    };
    let Ok(data) = std::fs::read(&path) else {
        panic!("cannot read {path}");
    };
    let rounds: usize = std::env::var("AUDITLINK_BENCH_ROUNDS")
        .ok()
        .and_then(|r| r.parse().ok())
        .unwrap_or(3);

    // File bytes -> events, parsed only (for the profile).
    let mut best = f64::MAX;
    let mut parsed = 0u64;
    for _ in 0..rounds {
        let t = Instant::now();
        parsed = 0;
        let mut stream = LogStream::new(1024, 2000);
        let mut out = Vec::new();
        for chunk in data.chunks(CHUNK) {
            stream.feed(chunk, &mut out);
            parsed += out.drain(..).map(|e| e.records.len() as u64).sum::<u64>();
        }
        stream.finish(&mut out);
        parsed += out.drain(..).map(|e| e.records.len() as u64).sum::<u64>();
        best = best.min(t.elapsed().as_secs_f64());
    }
    println!("BENCH parsed records={parsed} seconds={best:.4}");
    if std::env::var("AUDITLINK_BENCH_ONLY").is_ok_and(|v| v == "parsed") {
        return;
    }

    // File bytes -> events with every field parsed and interpreted.
    let skip_interpreted = std::env::var("AUDITLINK_BENCH_ONLY").is_ok_and(|v| v == "json");
    let rounds_i = if skip_interpreted { 0 } else { rounds };
    let mut best = f64::MAX;
    let (mut records, mut fields, mut bytes) = (0u64, 0u64, 0u64);
    for _ in 0..rounds_i {
        let t = Instant::now();
        (records, fields, bytes) = (0, 0, 0);
        let mut stream = LogStream::new(1024, 2000);
        let mut out = Vec::new();
        let mut buf = Vec::with_capacity(256);
        let mut consume = |out: &mut Vec<super::Event>| {
            for ev in out.drain(..) {
                for r in &ev.records {
                    records += 1;
                    for f in r.fields() {
                        buf.clear();
                        interpret_field(r, f, &mut buf);
                        bytes += buf.len() as u64;
                        fields += 1;
                    }
                }
            }
        };
        for chunk in data.chunks(CHUNK) {
            stream.feed(chunk, &mut out);
            consume(&mut out);
        }
        stream.finish(&mut out);
        consume(&mut out);
        best = best.min(t.elapsed().as_secs_f64());
    }
    if !skip_interpreted {
        println!(
            "BENCH interpreted records={records} fields={fields} bytes={bytes} seconds={best:.4}"
        );
    }
    if std::env::var("AUDITLINK_BENCH_ONLY").is_ok_and(|v| v == "interpreted") {
        return;
    }

    // File bytes -> JSON lines.
    let mut best = f64::MAX;
    let mut json_bytes = 0usize;
    for _ in 0..rounds {
        let t = Instant::now();
        let mut stream = LogStream::new(1024, 2000);
        let mut out = Vec::new();
        let mut json = Vec::with_capacity(CHUNK * 3);
        json_bytes = 0;
        for chunk in data.chunks(CHUNK) {
            stream.feed(chunk, &mut out);
            for ev in out.drain(..) {
                event_to_json(&ev, &mut json);
                json.push(b'\n');
            }
            json_bytes += json.len();
            json.clear();
        }
        stream.finish(&mut out);
        for ev in out.drain(..) {
            event_to_json(&ev, &mut json);
            json.push(b'\n');
        }
        json_bytes += json.len();
        best = best.min(t.elapsed().as_secs_f64());
    }
    println!("BENCH json records={parsed} json_bytes={json_bytes} seconds={best:.4}");
}
