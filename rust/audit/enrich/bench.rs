//! Throughput of enriched JSON lines from a log, for profiling the enricher
//! and the records JSON writer without Python (not a test: `#[ignore]`d, and
//! a no-op without AUDITLINK_BENCH_LOG). Run:
//! `AUDITLINK_BENCH_LOG=big.log [AUDITLINK_BENCH_CONFIG=enrich.toml]
//! cargo test --release --lib enrich::bench -- --ignored --nocapture`
//!
//! The log goes through as `Enricher.pump_fd` sends it (1 MiB reads, parsed
//! in 32 KiB pieces, each piece's events written before the next is parsed);
//! `AUDITLINK_BENCH_OUT` names a file for the JSON lines of the last round.

use std::io::Read;
use std::time::Instant;

use super::{Config, Enricher};
use crate::audit::records::{Event, LogStream};

fn run(path: &str, config: &Config) -> (usize, Vec<u8>) {
    let mut e = Enricher::for_logs(config.clone()).expect("enricher");
    let mut log = LogStream::new(1024, 2000);
    let mut file = std::fs::File::open(path).expect("open the log");
    let mut input = vec![0u8; 1 << 20];
    let (mut kept, mut diverted, mut all) = (Vec::new(), Vec::new(), Vec::new());
    let mut evs: Vec<Event> = Vec::new();
    let mut bytes = 0;
    loop {
        let n = file.read(&mut input).expect("read the log");
        kept.clear();
        if n == 0 {
            log.finish(&mut evs);
            e.write_lines(&evs, &mut kept, &mut diverted);
            all.extend_from_slice(&kept);
            return (bytes + kept.len(), all);
        }
        for piece in input[..n].chunks(32 << 10) {
            log.feed(piece, &mut evs);
            e.write_lines(&evs, &mut kept, &mut diverted);
            evs.clear();
        }
        bytes += kept.len();
        if std::env::var_os("AUDITLINK_BENCH_OUT").is_some() {
            all.extend_from_slice(&kept);
        }
    }
}

#[test]
#[ignore]
fn bench_enriched_json() {
    let Ok(path) = std::env::var("AUDITLINK_BENCH_LOG") else {
        return;
    };
    let config = match std::env::var("AUDITLINK_BENCH_CONFIG") {
        Ok(c) => Config::from_toml(&std::fs::read_to_string(c).expect("config")).expect("toml"),
        Err(_) => Config::default(),
    };
    let rounds: usize = std::env::var("AUDITLINK_BENCH_ROUNDS")
        .ok()
        .and_then(|r| r.parse().ok())
        .unwrap_or(3);
    let mut best = f64::MAX;
    let mut out = Vec::new();
    for _ in 0..rounds.max(1) {
        let t = Instant::now();
        let (bytes, all) = run(&path, &config);
        let secs = t.elapsed().as_secs_f64();
        println!("BENCH enriched JSON: {bytes} bytes in {secs:.3} s");
        best = best.min(secs);
        out = all;
    }
    println!("BENCH best {best:.3} s");
    if let Some(p) = std::env::var_os("AUDITLINK_BENCH_OUT") {
        std::fs::write(p, out).expect("write the output");
    }
}
