//! Unit tests for the parser, the interpreter and the JSON writer.

use super::json::{event_to_json, record_to_json};
use super::*;

fn line(s: &str) -> Record {
    parse_log_line(s.as_bytes()).unwrap()
}

fn interp(r: &Record, name: &str) -> String {
    String::from_utf8(interpret(r, name.as_bytes()).unwrap()).unwrap()
}

#[test]
fn parses_a_syscall_log_line() {
    let r = line("type=SYSCALL msg=audit(1700000000.123:456): arch=c000003e syscall=59 success=yes exit=0 a0=55d0 items=2 ppid=1 pid=2 auid=4294967295 uid=0 comm=\"ls\" exe=\"/usr/bin/ls\" key=(null)");
    assert_eq!(r.msg_type, 1300);
    assert_eq!(
        r.timestamp,
        Timestamp {
            sec: 1_700_000_000,
            msec: 123
        }
    );
    assert_eq!(r.serial, 456);
    assert_eq!(r.get(b"comm"), Some(&b"ls"[..]));
    assert_eq!(r.get(b"key"), Some(&b"(null)"[..]));
    assert_eq!(interp(&r, "arch"), "x86_64");
    assert_eq!(interp(&r, "syscall"), "execve");
    assert_eq!(interp(&r, "auid"), "unset");
    assert_eq!(interp(&r, "uid"), "root");
    assert_eq!(interp(&r, "exit"), "0");
    assert_eq!(interp(&r, "a0"), "0x55d0");
}

#[test]
fn parses_a_netlink_payload() {
    let r = parse_payload(1307, b"audit(1.002:3): cwd=\"/root\"\0").unwrap();
    assert_eq!(r.serial, 3);
    assert_eq!(r.timestamp.msec, 2);
    assert_eq!(r.get(b"cwd"), Some(&b"/root"[..]));
}

#[test]
fn node_and_enrichment() {
    let r = line("node=web1 type=SYSCALL msg=audit(1.000:2): arch=c000003e syscall=257 exit=-2 uid=1000\x1dARCH=x86_64 SYSCALL=openat UID=\"alice\"");
    assert_eq!(r.node(), Some(&b"web1"[..]));
    assert_eq!(interp(&r, "uid"), "alice");
    assert_eq!(r.enrichment(b"syscall"), Some(&b"openat"[..]));
    assert_eq!(r.fields().len(), 4);
}

#[test]
fn nested_user_message() {
    let r = line("type=USER_LOGIN msg=audit(1.000:2): pid=1 uid=0 auid=4294967295 ses=4294967295 msg='op=login acct=\"root\" exe=\"/usr/sbin/sshd\" hostname=? addr=10.0.0.1 terminal=sshd res=failed'");
    assert_eq!(r.get(b"op"), Some(&b"login"[..]));
    assert_eq!(r.get(b"res"), Some(&b"failed"[..]));
    assert_eq!(r.get(b"acct"), Some(&b"root"[..]));
    assert_eq!(interp(&r, "res"), "failed");
    assert_eq!(interp(&r, "ses"), "unset");
    assert!(r.fields().iter().filter(|f| f.nested).count() == 7);
}

#[test]
fn hex_strings_and_proctitle() {
    let r = line("type=PROCTITLE msg=audit(1.000:2): proctitle=6C73002D6C0061206200");
    assert_eq!(interp(&r, "proctitle"), "ls -l a b ");
    let r = line("type=PATH msg=audit(1.000:2): item=0 name=2F746D702F61206209 inode=5 mode=0100644 ouid=0 ogid=0");
    assert_eq!(interp(&r, "name"), "/tmp/a b\\011");
    assert_eq!(interp(&r, "mode"), "file,644");
    assert_eq!(interp(&r, "ogid"), "root");
    // A hex value cut at NUL, as auparse's C strings are.
    let r = line("type=CWD msg=audit(1.000:2): cwd=41004200");
    assert_eq!(interp(&r, "cwd"), "A");
}

#[test]
fn execve_json() {
    let mut rs = Reassembler::new(10, 2000);
    let mut out = Vec::new();
    for l in [
        "type=SYSCALL msg=audit(1.000:7): arch=c000003e syscall=59 success=yes exit=0 uid=0",
        "type=EXECVE msg=audit(1.000:7): argc=3 a0=\"ls\" a1_len=4 a1[0]=2D6C a1[1]=2061 a2=\"x\"",
        "type=CWD msg=audit(1.000:7): cwd=\"/\"",
        "type=PATH msg=audit(1.000:7): item=0 name=\"/bin/ls\" mode=0100755",
        "type=PROCTITLE msg=audit(1.000:7): proctitle=6C73002D6C2061",
        "type=EOE msg=audit(1.000:7): ",
    ] {
        rs.push(line(l), &mut out);
    }
    assert_eq!(out.len(), 1);
    let mut j = Vec::new();
    event_to_json(&out[0], &mut j);
    let j = String::from_utf8(j).unwrap();
    assert!(j.starts_with("{\"timestamp\":\"1.000\",\"serial\":7,\"complete\":true,\"SYSCALL\":{\"arch\":\"c000003e\",\"ARCH\":\"x86_64\",\"syscall\":59,\"SYSCALL\":\"execve\""), "{j}");
    assert!(
        j.contains("\"EXECVE\":{\"argc\":3,\"argv\":[\"ls\",\"-l a\",\"x\"]}"),
        "{j}"
    );
    assert!(j.contains("\"PATH\":[{\"item\":0,\"name\":\"/bin/ls\",\"mode\":\"0100755\",\"MODE\":\"file,755\"}]"), "{j}");
    assert!(
        j.contains("\"PROCTITLE\":{\"proctitle\":[\"ls\",\"-l a\"]}"),
        "{j}"
    );
}

#[test]
fn json_escapes_invalid_utf8_losslessly() {
    let r = line("type=CWD msg=audit(1.000:2): cwd=2FFF0A");
    let mut j = Vec::new();
    record_to_json(&r, &mut j);
    assert_eq!(String::from_utf8(j).unwrap(), "{\"cwd\":\"/\\udcff\\n\"}");
}

#[test]
fn sockaddr_families() {
    let r = line("type=SOCKADDR msg=audit(1.000:2): saddr=0200005001020304000000000000000000");
    assert_eq!(
        interp(&r, "saddr"),
        "{ saddr_fam=inet laddr=1.2.3.4 lport=80 }"
    );
    let r = line("type=SOCKADDR msg=audit(1.000:2): saddr=01002F746D702F736F636B00");
    assert_eq!(interp(&r, "saddr"), "{ saddr_fam=local path=/tmp/sock }");
    let r = line("type=SOCKADDR msg=audit(1.000:2): saddr=0100006162");
    assert_eq!(interp(&r, "saddr"), "{ saddr_fam=local path=ab }");
    let r = line("type=SOCKADDR msg=audit(1.000:2): saddr=0A000016000000000000000000000000000000000000000100000000");
    assert_eq!(
        interp(&r, "saddr"),
        "{ saddr_fam=inet6 laddr=::1 lport=22 }"
    );
    let r = line("type=SOCKADDR msg=audit(1.000:2): saddr=100000000000000000000000");
    assert_eq!(
        interp(&r, "saddr"),
        "{ saddr_fam=netlink nlnk-fam=16 nlnk-pid=0 }"
    );
    let r = line("type=SOCKADDR msg=audit(1.000:2): saddr=0000");
    assert_eq!(interp(&r, "saddr"), "unknown-family(0)");
}

#[test]
fn misc_kinds() {
    let r = line("type=OBJ_PID msg=audit(1.000:2): opid=5 sig=9 ocomm=\"x\" res=1 cap_fp=3 capability=21 perm=0");
    assert_eq!(interp(&r, "sig"), "SIGKILL");
    assert_eq!(interp(&r, "res"), "yes");
    assert_eq!(interp(&r, "cap_fp"), "chown,dac_override");
    assert_eq!(interp(&r, "capability"), "sys_admin");
    assert_eq!(interp(&r, "perm"), "read,write,exec,attr");
    let r = line("type=SYSCALL msg=audit(1.000:2): arch=c000003e syscall=2 exit=-13 key=6B310166");
    assert_eq!(interp(&r, "exit"), "EACCES(Permission denied)");
    assert_eq!(interp(&r, "key"), "k1\u{1}f");
}

#[test]
fn bad_input_is_an_error_not_a_panic() {
    for bad in [
        "",
        "type=SYSCALL",
        "type=SYSCALL msg=audit(1.000:): x=1",
        "type=NOPE msg=audit(1.000:2): x=1",
        "type=SYSCALL msg=audit(x.000:2): x=1",
        "node=",
        "garbage \u{7f}\u{1}",
    ] {
        assert!(parse_log_line(bad.as_bytes()).is_err(), "{bad:?}");
        let r = parse_log_line_lenient(bad.as_bytes());
        assert!(r.error().is_some());
    }
}

#[test]
fn log_stream_in_odd_chunks() {
    let text = b"type=SYSCALL msg=audit(1.000:7): arch=c000003e syscall=59\ntype=EOE msg=audit(1.000:7): \ntype=USER_END msg=audit(1.000:8): pid=1 msg='op=x res=success'\ngarbage\ntype=SYSCALL msg=audit(2.000:9): x=1";
    for size in [1, 2, 3, 7, 1000] {
        let mut s = LogStream::new(100, 2000);
        let mut out = Vec::new();
        for c in text.chunks(size) {
            s.feed(c, &mut out);
        }
        s.finish(&mut out);
        let serials: Vec<u64> = out.iter().map(|e| e.serial).collect();
        assert_eq!(serials, vec![7, 8, 0, 9], "chunk {size}");
        assert_eq!(
            out.iter().map(|e| e.complete).collect::<Vec<_>>(),
            vec![true, true, false, false]
        );
    }
}

#[test]
fn odd_time_stamps_are_read_and_flagged() {
    for (digits, msec) in [("5", 500), ("1234", 123), ("05", 50), ("000", 0)] {
        let line = format!("type=CWD msg=audit(1700000000.{digits}:1): cwd=/");
        let rec = parse_log_line_lenient(line.as_bytes());
        assert_eq!(
            rec.timestamp,
            Timestamp {
                sec: 1_700_000_000,
                msec
            },
            "{digits}"
        );
        assert_eq!(rec.get(b"cwd"), Some(&b"/"[..]));
        assert_eq!(rec.error().is_some(), digits.len() != 3, "{digits}");
        assert_eq!(parse_log_line(line.as_bytes()).is_err(), digits.len() != 3);
    }
    let late = parse_payload_lenient(1307, b"audit(253402300800.000:1): cwd=/");
    assert!(late.error().is_some_and(|e| e.to_string().contains("9999")));
    assert!(parse_payload(1307, b"audit(253402300799.999:1): cwd=/").is_ok());
    assert!(parse_payload(1307, b"audit(1.:1): cwd=/").is_err());
    assert!(parse_payload(1307, b"audit(1.x:1): cwd=/").is_err());
}

mod props {
    use super::super::*;
    use proptest::prelude::*;

    fn field_value() -> impl Strategy<Value = String> {
        prop_oneof![
            "[a-z0-9/._-]{1,12}",
            "[0-9A-F]{2,16}".prop_filter("even", |s| s.len() % 2 == 0),
            "\"[a-z /]{0,10}\"",
        ]
    }

    proptest! {
        #[test]
        fn random_bytes_never_panic(data in proptest::collection::vec(any::<u8>(), 0..300), t in any::<u16>()) {
            let _ = parse_log_line(&data);
            let r = parse_payload_lenient(t, &data);
            for f in r.fields() {
                let mut out = Vec::new();
                interpret_field(&r, f, &mut out);
            }
            let mut j = Vec::new();
            json::record_to_json(&r, &mut j);
            prop_assert!(std::str::from_utf8(&j).is_ok());
        }

        #[test]
        fn log_stream_of_garbage_never_panics(
            data in proptest::collection::vec(any::<u8>(), 0..2000),
            split in 1usize..64,
            lines in proptest::collection::vec("(node=[a-z]{1,3} )?type=(SYSCALL|PATH|EOE|PROCTITLE|USER_END|UNKNOWN\\[1300\\]) msg=audit\\([0-9]{1,3}\\.[0-9]{3}:[0-9]{1,3}\\): [ -~]{0,40}", 0..20),
        ) {
            let mut text = lines.join("\n").into_bytes();
            text.extend_from_slice(&data);
            let mut stream = LogStream::new(4, 1000);
            let mut out = Vec::new();
            for chunk in text.chunks(split) {
                stream.feed(chunk, &mut out);
            }
            stream.finish(&mut out);
            prop_assert!(stream.reassembler().in_flight() == 0);
            for ev in &out {
                let mut j = Vec::new();
                json::event_to_json(ev, &mut j);
                prop_assert!(std::str::from_utf8(&j).is_ok());
                for r in &ev.records {
                    for f in r.fields() {
                        let mut o = Vec::new();
                        interpret_field(r, f, &mut o);
                    }
                }
            }
        }

        #[test]
        fn output_grows_at_most_linearly_with_the_input(
            types in proptest::collection::vec(any::<u16>(), 1..6),
            fields in proptest::collection::vec((
                prop_oneof![
                    Just("argc"), Just("a0"), Just("a1"), Just("a3"), Just("a77"),
                    Just("a999999"), Just("a18446744073709551616"), Just("a1[0]"),
                    Just("a2_len"), Just("saddr"), Just("proctitle"), Just("cap_pi"),
                    Just("perm"), Just("mode"), Just("uid"), Just("exit"), Just("data"),
                    Just("key"), Just("x"),
                ],
                prop_oneof![
                    "[0-9a-fA-F]{1,40}", "[0-9]{1,20}", Just("ffffffffffffffff".to_string()),
                ],
            ), 0..12),
        ) {
            let body: Vec<String> = fields.iter().map(|(n, v)| format!("{n}={v}")).collect();
            let mut text = Vec::new();
            for t in &types {
                text.extend_from_slice(format!(
                    "type=UNKNOWN[{t}] msg=audit(1700000000.000:7): arch=c000003e syscall=59 {}\n",
                    body.join(" ")
                ).as_bytes());
            }
            let mut stream = LogStream::new(16, 2000);
            let mut out = Vec::new();
            stream.feed(&text, &mut out);
            stream.finish(&mut out);
            let bound = 64 * text.len() + 4096;
            for ev in &out {
                let mut j = Vec::new();
                json::event_to_json(ev, &mut j);
                prop_assert!(j.len() <= bound, "{} bytes of JSON from {}", j.len(), text.len());
                for r in &ev.records {
                    let mut o = Vec::new();
                    for f in r.fields() {
                        interpret_field(r, f, &mut o);
                    }
                    prop_assert!(o.len() <= bound);
                }
            }
        }

        #[test]
        fn random_text_records_never_panic(body in "[ -~\\x1d]{0,200}", t in 1000u16..2999) {
            let line = format!("type=UNKNOWN[{t}] msg=audit(1.001:2): {body}");
            let r = parse_log_line(line.as_bytes()).unwrap();
            for f in r.fields() {
                let mut out = Vec::new();
                interpret_field(&r, f, &mut out);
            }
        }

        #[test]
        fn format_then_parse_round_trips(
            sec in 0u64..=u64::from(u32::MAX), msec in 0u32..1000, serial in any::<u32>(),
            fields in proptest::collection::vec(("[a-z][a-z0-9_]{0,8}", field_value()), 0..12),
        ) {
            let body: Vec<String> = fields.iter().map(|(n, v)| format!("{n}={v}")).collect();
            let payload = format!("audit({sec}.{msec:03}:{serial}): {}", body.join(" "));
            let r = parse_payload(1300, payload.as_bytes()).unwrap();
            prop_assert_eq!(r.timestamp, Timestamp { sec, msec });
            prop_assert_eq!(r.serial, u64::from(serial));
            let got: Vec<(String, String)> = r.fields().iter().map(|f| (
                String::from_utf8(r.field_name(f).to_vec()).unwrap(),
                String::from_utf8(r.field_value(f).to_vec()).unwrap(),
            )).collect();
            let want: Vec<(String, String)> = fields.iter()
                .filter(|(n, _)| n != "msg")
                .map(|(n, v)| (n.clone(), v.trim_matches('"').to_string()))
                .collect();
            prop_assert_eq!(got, want);
            // And the log-line form gives the same record.
            let l = format!("type=SYSCALL msg={payload}");
            let r2 = parse_log_line(l.as_bytes()).unwrap();
            prop_assert_eq!(r2.fields().len(), r.fields().len());
        }
    }
}

#[test]
fn socket_option_names_include_the_shared_mcast_rows() {
    let opt = |level: &str, name: &str| {
        let r = line(&format!("type=SYSCALL msg=audit(1.000:1): arch=c000003e syscall=54 success=yes exit=0 a0=3 a1={level} a2={name} a3=0 items=0 pid=1"));
        interp(&r, "a2")
    };
    assert_eq!(opt("0", "2a"), "MCAST_JOIN_GROUP");
    assert_eq!(opt("29", "30"), "MCAST_MSFILTER");
    assert_eq!(opt("0", "31"), "IP_MULTICAST_ALL");
    assert_eq!(opt("29", "31"), "IPV6_RECVPKTINFO");
    assert_eq!(opt("0", "ff"), "unknown-ipopt-name(0xff)");
}

#[test]
fn kinds_the_value_decides() {
    use crate::audit::records::interpret::{field_kind, FieldKind::*};
    use crate::audit::tables::msg;
    let cases: &[(u16, &str, &str, bool, interpret::FieldKind)] = &[
        // acct: a string when quoted or hex (an empty value is hex), in any record.
        (msg::TRUSTED_APP, "acct", "123", false, Escaped),
        (msg::TRUSTED_APP, "acct", "", false, Escaped),
        (msg::USER_CMD, "acct", "zz", false, Unclassified),
        (msg::USER_CMD, "acct", "zz", true, Escaped),
        // Other TRUSTED_APP fields: decimal digits are a number first.
        (msg::TRUSTED_APP, "x", "123", false, Unclassified),
        (msg::TRUSTED_APP, "x", "", false, Unclassified),
        (msg::TRUSTED_APP, "x", "6a", false, Escaped),
        (msg::TRUSTED_APP, "x", "zz", false, Unclassified),
        (msg::TRUSTED_APP, "uid", "0", true, Escaped),
        // The name decides the rest.
        (msg::SYSCALL, "uid", "zz", true, Uid),
        (msg::EXECVE, "a1", "61", false, Escaped),
        (msg::EXECVE, "a1_len", "61", false, Unclassified),
    ];
    for &(t, name, v, quoted, want) in cases {
        let got = field_kind(t, name.as_bytes(), v.as_bytes(), quoted);
        assert_eq!(got, want, "{t} {name}={v} quoted={quoted}");
    }
}

/// The header-only read (the daemon's, when its sinks take log lines only)
/// groups like the full parse: same time stamp and serial (none for a
/// record the full parse keeps unparsed).
#[test]
fn a_header_only_read_keeps_what_grouping_needs() {
    for p in [
        "audit(1700000000.123:456): arch=c000003e syscall=110 pid=2 comm=\"x\"",
        "audit(1700000000.5:7): op=odd",
        "  audit(1700000001.001:8): proctitle=6C73\n",
        "no header at all",
        "",
    ] {
        let full = parse_payload_lenient(1300, p.as_bytes());
        let head = crate::audit::records::payload_id(p.as_bytes());
        let unparsed = matches!(
            full.error(),
            Some(ParseError::MissingHeader | ParseError::Empty)
        );
        assert_eq!(head.is_none(), unparsed, "{p:?}");
        if let Some(id) = head {
            assert_eq!(id, (full.timestamp, full.serial), "{p:?}");
        }
    }
}
