//! Tests of the ENRICHED line cache: a cached line part is what the full interpreter prints, whatever the line's length.
use super::*;
use proptest::prelude::*;

/// The fast path's output (the full path where it declines) and whether
/// the line's part was then in the line cache.
fn fast(line: &[u8]) -> (Vec<u8>, bool) {
    let mut out = line.to_vec();
    let took = SCRATCH.with(|s| enrich_fast(&mut out, 0, &mut s.borrow_mut()));
    if !took {
        enrich_full(&mut out, 0);
    }
    let cached = SCRATCH.with(|s| {
        let s = s.borrow();
        s.lines.contains_key(s.line_key.as_slice())
    });
    (out, took && cached)
}

fn full(line: &[u8]) -> Vec<u8> {
    let mut out = line.to_vec();
    enrich_full(&mut out, 0);
    out
}

fn syscall_line(pid: u32, pad: usize) -> Vec<u8> {
    format!(
        "type=SYSCALL msg=audit(1700000000.123:42): arch=c000003e syscall=110 success=yes exit=1 a0=0 a1=0 a2=0 a3=0 items=0 ppid=1 pid={pid} auid=1000 uid=0 gid=0 euid=0 suid=0 fsuid=0 egid=0 sgid=0 fsgid=0 tty=(none) ses=3 comm=\"x\" exe=\"/x\" pad={} key=(null)",
        "p".repeat(pad)
    )
    .into_bytes()
}

#[test]
fn calls_of_other_processes_share_a_cached_part() {
    flush_cache();
    let (first, cached) = fast(&syscall_line(2, 0));
    assert!(cached);
    assert_eq!(first, full(&syscall_line(2, 0)));
    for pid in [3, 4, 70000] {
        let line = syscall_line(pid, 0);
        let (out, cached) = fast(&line);
        assert!(cached);
        assert_eq!(
            String::from_utf8_lossy(&out),
            String::from_utf8_lossy(&full(&line))
        );
    }
}

#[test]
fn a_cached_part_is_not_used_where_auditd_runs_out_of_room() {
    flush_cache();
    let _ = fast(&syscall_line(2, 0));
    // From lines that leave room for everything to lines where auditd's
    // buffer ends inside the ENRICHED part or before it.
    for pad in (8400..FORMAT_BUF_LEN).step_by(7) {
        let line = syscall_line(2, pad);
        let (out, _) = fast(&line);
        assert_eq!(
            String::from_utf8_lossy(&out),
            String::from_utf8_lossy(&full(&line)),
            "pad {pad}"
        );
    }
}

#[test]
fn socketcall_lines_are_not_cached_whole() {
    flush_cache();
    for a0 in ["1", "3", "1", "5"] {
        let line = format!(
            "type=SYSCALL msg=audit(1.000:1): arch=40000003 syscall=102 success=yes exit=0 a0={a0} a1=0 a2=0 a3=0 items=0 ppid=1 uid=0"
        );
        let (out, cached) = fast(line.as_bytes());
        assert!(!cached);
        assert_eq!(out, full(line.as_bytes()));
    }
}

fn field() -> impl Strategy<Value = String> {
    let name = prop::sample::select(vec![
        "arch", "syscall", "a0", "uid", "gid", "auid", "id", "saddr", "pid", "exit", "(uid", "x",
    ]);
    let value = prop::sample::select(vec![
        "0",
        "1",
        "102",
        "59",
        "4294967295",
        "c000003e",
        "40000003",
        "0200",
        "01002F746D70",
        "\"root\"",
        "\"a b\"",
        "\"x",
        "(none)",
        "1)",
        "1:",
    ]);
    (name, value).prop_map(|(n, v)| format!("{n}={v} "))
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(500))]

    /// The same fields at any line length, twice each (the second time from
    /// the line cache where it applies): always the full interpreter's bytes.
    #[test]
    fn cached_parts_match_the_full_interpreter_at_any_length(
        t in prop::sample::select(vec!["SYSCALL", "PATH", "SOCKADDR", "ADD_GROUP", "LOGIN"]),
        fields in prop::collection::vec(field(), 0..14),
        pads in prop::collection::vec(0usize..FORMAT_BUF_LEN, 1..4),
    ) {
        flush_cache();
        for pad in pads {
            let mut line = format!("type={t} msg=audit(1700000000.5:7): ");
            for f in &fields {
                line.push_str(f);
            }
            line.push_str(&format!("pad={}", "p".repeat(pad)));
            for _ in 0..2 {
                let (out, _) = fast(line.as_bytes());
                let want = full(line.as_bytes());
                prop_assert_eq!(String::from_utf8_lossy(&out), String::from_utf8_lossy(&want));
            }
        }
    }
}
