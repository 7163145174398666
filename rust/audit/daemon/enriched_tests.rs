//! Tests of the ENRICHED scanner against the full interpreter.
use super::*;
use proptest::prelude::*;

fn both(line: &[u8]) -> (Vec<u8>, Vec<u8>, bool) {
    let mut full = line.to_vec();
    enrich_full(&mut full, 0);
    let mut fast = line.to_vec();
    let took_fast = SCRATCH.with(|s| enrich_fast(&mut fast, 0, &mut s.borrow_mut()));
    if !took_fast {
        enrich_full(&mut fast, 0);
    }
    (full, fast, took_fast)
}

#[test]
fn uid_values_that_need_it_are_hex_encoded() {
    assert!(needs_encoding(b"a b"));
    assert!(needs_encoding("é".as_bytes()));
    assert!(needs_encoding(b"a\"b"));
    assert!(!needs_encoding(b"root"));
}

#[test]
fn syscall_records_take_the_fast_path_and_match() {
    let line = b"type=SYSCALL msg=audit(1700000000.123:42): arch=c000003e syscall=110 success=yes exit=1 a0=0 a1=0 a2=0 a3=0 items=0 ppid=1 pid=2 auid=1000 uid=0 gid=0 euid=0 suid=0 fsuid=0 egid=0 sgid=0 fsgid=0 tty=(none) ses=3 comm=\"x\" exe=\"/x\" key=(null)";
    for _ in 0..2 {
        let (full, fast, took) = both(line);
        assert!(took);
        assert_eq!(
            String::from_utf8_lossy(&fast),
            String::from_utf8_lossy(&full)
        );
    }
}

#[test]
fn socketcall_names_follow_a0_through_the_cache() {
    for a0 in ["1", "3", "1", "5", "3"] {
        let line = format!(
            "type=SYSCALL msg=audit(1.000:1): arch=40000003 syscall=102 success=yes exit=0 a0={a0} a1=0 a2=0 a3=0 items=0 ppid=1"
        );
        let (full, fast, took) = both(line.as_bytes());
        assert!(took);
        assert_eq!(
            String::from_utf8_lossy(&fast),
            String::from_utf8_lossy(&full)
        );
    }
}

#[test]
fn lines_the_scanner_does_not_model_take_the_full_path() {
    for line in [
        &b"type=USER_LOGIN msg=audit(1.000:1): pid=1 uid=0 msg='op=login id=1000 res=success'"[..],
        b"type=AVC msg=audit(1.000:1): avc:  denied  { read } for pid=1 saddr=0200 scontext=a",
        b"type=SYSCALL msg=audit(1.000:1): arch=c000003e uid=0\x1dUID=\"root\"",
        b"type=SYSCALL msg=audit(1.x:1): uid=0",
    ] {
        let (full, fast, took) = both(line);
        assert!(!took, "{}", String::from_utf8_lossy(line));
        assert_eq!(full, fast);
    }
}

fn type_name() -> impl Strategy<Value = &'static str> {
    prop::sample::select(vec![
        "SYSCALL",
        "PATH",
        "SOCKADDR",
        "SECCOMP",
        "EXECVE",
        "ADD_GROUP",
        "NETFILTER_PKT",
        "AVC",
        "USER_LOGIN",
        "TRUSTED_APP",
        "CWD",
        "UNKNOWN[1399]",
        "LOGIN",
    ])
}

fn field() -> impl Strategy<Value = String> {
    let name = prop::sample::select(vec![
        "arch", "syscall", "a0", "a1", "uid", "gid", "auid", "ouid", "ogid", "id", "saddr", "msg",
        "exit", "key", "acct", "(uid", "x", "items", "",
    ]);
    let value = prop::sample::select(vec![
        "0",
        "1",
        "102",
        "117",
        "59",
        "4294967295",
        "-1",
        "65534",
        "1000",
        "c000003e",
        "40000003",
        "c00000b7",
        "zz",
        "0200",
        "02000050C0A80001",
        "0A00",
        "01002F746D70",
        "\"root\"",
        "\"a b\"",
        "\"x",
        "(none)",
        "(null)",
        "1)",
        "1:",
        "1,",
        "1'",
        "'op=x",
        "audit(1.0:1)",
        "",
        "99999999999999999999",
        "1=2",
    ]);
    let sep = prop::sample::select(vec![" ", "  ", " junk ", " "]);
    (name, value, sep).prop_map(|(n, v, s)| format!("{n}={v}{s}"))
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn fast_path_matches_full_interpreter(
        t in type_name(),
        node in prop::option::of("[a-z]{1,8}"),
        fields in prop::collection::vec(field(), 0..16),
        tail in prop::sample::select(vec!["", " ", "\r", "\0"]),
    ) {
        let mut line = String::new();
        if let Some(n) = node {
            line.push_str(&format!("node={n} "));
        }
        line.push_str(&format!("type={t} msg=audit(1700000000.5:7): "));
        for f in &fields {
            line.push_str(f);
        }
        line.push_str(tail);
        let (full, fast, _) = both(line.as_bytes());
        prop_assert_eq!(String::from_utf8_lossy(&fast), String::from_utf8_lossy(&full));
    }

    #[test]
    fn fast_path_matches_on_any_bytes(body in prop::collection::vec(
        prop::sample::select(b"a=0 \"'()x:,uidsyscalarch1c000003e".to_vec()), 0..120)) {
        let mut line = b"type=SYSCALL msg=audit(1.000:1): ".to_vec();
        line.extend_from_slice(&body);
        let (full, fast, _) = both(&line);
        prop_assert_eq!(full, fast);
    }
}

/// `cargo test --release enriched_cost -- --ignored --nocapture`: ns per
/// record of both paths over the corpus, and how many lines take the fast one.
#[test]
#[ignore]
fn enriched_cost() {
    let raw = std::fs::read_to_string(format!(
        "{}/tests/data/corpus_raw.log",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap();
    let lines: Vec<&[u8]> = raw.lines().map(str::as_bytes).collect();
    let fast_lines = lines.iter().filter(|l| both(l).2).count();
    println!("{fast_lines} of {} lines take the fast path", lines.len());
    for (name, f) in [
        ("full", enrich_full as fn(&mut Vec<u8>, usize)),
        ("fast", enrich),
    ] {
        let mut out = Vec::with_capacity(1 << 16);
        let t = std::time::Instant::now();
        let rounds = 200;
        for _ in 0..rounds {
            for l in &lines {
                out.clear();
                out.extend_from_slice(l);
                f(&mut out, 0);
            }
        }
        let ns = t.elapsed().as_nanos() as f64 / (rounds * lines.len()) as f64;
        println!("{name}: {ns:.0} ns/record");
    }
}

proptest! {
    #[test]
    fn the_name_filter_keeps_every_enriched_kind(
        t in 0u16..3000,
        name in "[a-z_(-]{0,12}",
        quoted in proptest::bool::ANY,
    ) {
        for value in [&b"0"[..], b"c000003e", b"\"x\"", b""] {
            if enriched_kind(field_kind(t, name.as_bytes(), value, quoted)).is_some() {
                prop_assert!(may_be_enriched(name.as_bytes()), "{}", name);
            }
        }
    }
}

#[test]
fn the_name_filter_keeps_every_known_enriched_name() {
    // The id fields the Python golden test knows too, and the other enriched names.
    let id_fields = include_str!("../../../tests/data/id_fields.txt")
        .lines()
        .filter(|line| !line.is_empty() && !line.starts_with('#'));
    for name in id_fields.chain(["syscall", "arch", "saddr"]) {
        assert!(may_be_enriched(name.as_bytes()), "{name}");
        assert!(
            (0..3000).any(|t| enriched_kind(field_kind(t, name.as_bytes(), b"0", false)).is_some()),
            "{name}"
        );
    }
}
