//! Tests of the daemon's format module.
use super::*;
use crate::audit::daemon::enriched::INTERP_SEPARATOR;
use crate::audit::tables::message_type_by_name;

/// (type, payload) of a RAW log line as auditd wrote it (node= optional).
fn split_raw(line: &str) -> (u16, &str) {
    let rest = line.split_once("type=").expect("type=").1;
    let (name, payload) = rest.split_once(" msg=").expect("msg=");
    let t = message_type_by_name(name)
        .or_else(|| {
            name.strip_prefix("UNKNOWN[")?
                .strip_suffix(']')?
                .parse()
                .ok()
        })
        .expect("known type");
    (t, payload)
}

fn corpus(name: &str) -> String {
    std::fs::read_to_string(format!("{}/tests/data/{name}", env!("CARGO_MANIFEST_DIR"))).unwrap()
}

fn line(fmt: &LineFormat, t: u16, payload: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    fmt.write(t, payload, &mut out);
    out
}

#[test]
fn raw_lines_match_auditd() {
    let fmt = LineFormat {
        node: Some("corpus-node".into()),
        enriched: false,
    };
    for raw in corpus("corpus_raw.log").lines() {
        let (t, payload) = split_raw(raw);
        assert_eq!(
            String::from_utf8_lossy(&line(&fmt, t, payload.as_bytes())),
            format!("{raw}\n")
        );
    }
}

/// auditd 3.0.9 wrote corpus_enriched.log on this machine; the same records
/// (corpus_raw.log) formatted ENRICHED must give the same bytes.
#[test]
fn enriched_lines_match_auditd() {
    let fmt = LineFormat {
        node: Some("corpus-node".into()),
        enriched: true,
    };
    let raw = corpus("corpus_raw.log");
    let enriched = corpus("corpus_enriched.log");
    let mut differ = Vec::new();
    for (r, e) in raw.lines().zip(enriched.lines()) {
        let (t, payload) = split_raw(r);
        let got = line(&fmt, t, payload.as_bytes());
        if got != format!("{e}\n").as_bytes() {
            differ.push(format!(
                "want {e:?}\n got {:?}",
                String::from_utf8_lossy(&got)
            ));
        }
    }
    assert!(
        differ.is_empty(),
        "{} lines differ:\n{}",
        differ.len(),
        differ.join("\n")
    );
}

#[test]
fn without_node_newlines_become_spaces_and_one_trailing_space_goes() {
    let fmt = LineFormat {
        node: None,
        enriched: false,
    };
    assert_eq!(
        line(&fmt, 1107, b"audit(1.000:1): msg='a\nb' \n"),
        b"type=USER_AVC msg=audit(1.000:1): msg='a b' \n".to_vec()
    );
    assert_eq!(
        line(&fmt, 1300, b"audit(1.000:1): x=1\0junk"),
        b"type=SYSCALL msg=audit(1.000:1): x=1\n".to_vec()
    );
    assert_eq!(
        line(&fmt, 65000, b"audit(1.000:1): x=1"),
        b"type=UNKNOWN[65000] msg=audit(1.000:1): x=1\n".to_vec()
    );
}

#[test]
fn huge_records_are_cut_where_auditd_cuts_them() {
    let fmt = LineFormat {
        node: None,
        enriched: true,
    };
    let payload = format!("audit(1.000:1): uid=0 x={}", "a".repeat(20_000));
    let got = line(&fmt, 1300, payload.as_bytes());
    // snprintf(buf, MAX_AUDIT_MESSAGE_LENGTH - 32, ...) keeps 8937 bytes; the
    // enrichment still fits in FORMAT_BUF_LEN after them.
    let raw_len = MAX_AUDIT_MESSAGE_LENGTH - 33;
    assert_eq!(got[raw_len], INTERP_SEPARATOR);
    assert_eq!(&got[raw_len + 1..], b"UID=\"root\"\n");
}

#[test]
fn daemon_serials_count_up_from_below_10000() {
    let mut s = DaemonSerial::new();
    let a = String::from_utf8(s.payload("op=x")).unwrap();
    let b = String::from_utf8(s.payload("op=y")).unwrap();
    let serial = |p: &str| serial_of(p).unwrap();
    assert!(serial(&a) < 10_000);
    assert_eq!(serial(&b), serial(&a) + 1);
    assert!(b.ends_with("): op=y"));
}

proptest::proptest! {
    #[test]
    fn any_payload_gives_one_line(t in 1000u16..2999, payload in proptest::collection::vec(proptest::num::u8::ANY, 0..400), node in proptest::bool::ANY, enriched in proptest::bool::ANY) {
        let fmt = LineFormat { node: node.then(|| "n".to_string()), enriched };
        let out = line(&fmt, t, &payload);
        proptest::prop_assert_eq!(out.iter().filter(|&&b| b == b'\n').count(), 1);
        proptest::prop_assert!(out.ends_with(b"\n"));
    }
}

/// `cargo test --release format_cost -- --ignored --nocapture`: ns per record.
#[test]
#[ignore]
fn format_cost() {
    let raw = corpus("corpus_raw.log");
    let recs: Vec<(u16, Vec<u8>)> = raw
        .lines()
        .map(|l| {
            let (t, p) = split_raw(l);
            (t, p.as_bytes().to_vec())
        })
        .collect();
    for enriched in [false, true] {
        let fmt = LineFormat {
            node: None,
            enriched,
        };
        let mut out = Vec::with_capacity(1 << 20);
        let t = std::time::Instant::now();
        let rounds = 200;
        for _ in 0..rounds {
            out.clear();
            for (ty, p) in &recs {
                fmt.write(*ty, p, &mut out);
            }
        }
        let ns = t.elapsed().as_nanos() as f64 / (rounds * recs.len()) as f64;
        println!("enriched={enriched}: {ns:.0} ns/record");
    }
}
