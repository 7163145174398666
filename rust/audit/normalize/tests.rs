//! Unit tests of the normalizer, the csv/text formats and the ECS documents.

use super::format::{csv_header, csv_line, text_line, CsvOptions};
use crate::audit::records::{Event, LogStream};

pub(crate) fn events_of(log: &[u8]) -> Vec<Event> {
    let mut s = LogStream::new(1024, 2000);
    let mut out = Vec::new();
    s.feed(log, &mut out);
    s.finish(&mut out);
    out
}

/// Writes csv and text for the log named by AUDITLINK_NORMALIZE_DUMP (a
/// debugging aid for comparing with ausearch by hand).
#[test]
fn dump_formats_for_a_log() {
    let Ok(path) = std::env::var("AUDITLINK_NORMALIZE_DUMP") else {
        return;
    };
    let log = std::fs::read(&path).unwrap();
    let opts = CsvOptions {
        extra_keys: true,
        extra_labels: true,
        extra_obj2: true,
        extra_time: true,
    };
    let mut csv = csv_header(&CsvOptions::default()).into_bytes();
    let mut csv_x = csv_header(&opts).into_bytes();
    let mut text = Vec::new();
    for e in events_of(&log) {
        csv.extend(csv_line(&e, &CsvOptions::default()));
        csv_x.extend(csv_line(&e, &opts));
        text.extend(text_line(&e));
    }
    std::fs::write(format!("{path}.csv"), csv).unwrap();
    std::fs::write(format!("{path}.xcsv"), csv_x).unwrap();
    std::fs::write(format!("{path}.text"), text).unwrap();
}

use super::view::{strtol_int, Cursor, View};
use super::{normalize, path_norm, Attributes, Resolved};
use crate::audit::records::parse_log_line;
use proptest::prelude::*;

fn event(lines: &[&str]) -> Event {
    let mut ev = events_of(lines.join("\n").as_bytes());
    assert_eq!(ev.len(), 1, "one event expected");
    ev.remove(0)
}

const OPEN: &[&str] = &[
    "type=SYSCALL msg=audit(1700000000.123:7): arch=c000003e syscall=257 success=no exit=-2 a0=ffffff9c a1=7ffd a2=0 a3=0 items=1 ppid=1 pid=2 auid=1000 uid=0 gid=0 euid=0 suid=0 fsuid=0 egid=0 sgid=0 fsgid=0 tty=pts0 ses=3 comm=\"cat\" exe=\"/usr/bin/cat\" key=\"files\"",
    "type=CWD msg=audit(1700000000.123:7): cwd=\"/home/u\"",
    "type=PATH msg=audit(1700000000.123:7): item=0 name=\"../u/x.txt\" nametype=UNKNOWN cap_fp=0 cap_fi=0 cap_fe=0 cap_fver=0 cap_frootid=0",
    "type=PROCTITLE msg=audit(1700000000.123:7): proctitle=636174",
];

#[test]
fn auparse_numbering_counts_type_as_a_field() {
    let ev = event(OPEN);
    let view = View::new(&ev);
    assert_eq!(view.field(0, 0).unwrap().name, b"type");
    assert_eq!(&*view.field(0, 0).unwrap().raw, b"SYSCALL");
    // Quotes are part of the raw value, as auparse_get_field_str returns it.
    let exe = view.records[0]
        .fields
        .iter()
        .find(|f| f.name == b"exe")
        .unwrap();
    assert_eq!(&*exe.raw, b"\"/usr/bin/cat\"");
}

#[test]
fn find_scans_forward_across_records_and_can_fall_off() {
    let ev = event(OPEN);
    let view = View::new(&ev);
    let mut c = Cursor::new(&view);
    assert!(c.find(b"cwd"));
    assert_eq!(c.record_num(), 1);
    // At a record's last field a search gives up at once, cursor unmoved.
    assert!(!c.find(b"nosuchfield"));
    assert_eq!(c.record_num(), 1);
    // From the start it runs off the end: no current record (auparse's NULL).
    c.first_record();
    assert!(!c.find(b"nosuchfield"));
    assert_eq!(c.record_type(), 0);
    assert!(c.first_record());
    assert_eq!(c.record_type(), crate::audit::tables::msg::SYSCALL);
}

#[test]
fn failed_open_is_normalized_like_libauparse() {
    let ev = event(OPEN);
    let r = Resolved::new(&ev, Attributes::All);
    let s = r.summary();
    assert_eq!(s.kind, Some("audit-rule"));
    assert_eq!(s.action.as_deref(), Some(&b"opened-file"[..]));
    assert_eq!(s.success, Some(false));
    assert_eq!(s.object_primary.unwrap().interpreted, b"../u/x.txt");
    assert_eq!(s.key.unwrap().interpreted, b"files");
    assert_eq!(s.subject_kind, Some("privileged-acct"));
    // csv/text print the name made absolute against the cwd.
    let loc = r.norm.object_primary.unwrap();
    assert_eq!(r.realpath(loc).unwrap(), b"/home/u/x.txt");
    let text = String::from_utf8(text_line(&ev)).unwrap();
    assert!(
        text.ends_with("unsuccessfully opened-file /home/u/x.txt using /usr/bin/cat\n"),
        "{text}"
    );
}

#[test]
fn without_attributes_nothing_is_collected() {
    let ev = event(OPEN);
    let n = normalize(&ev, Attributes::None);
    assert!(n.subject_attrs.is_empty() && n.object_attrs.is_empty());
    assert!(n.session.is_some());
}

#[test]
fn csv_header_columns() {
    assert_eq!(
        csv_header(&CsvOptions::default()),
        "NODE,EVENT,DATE,TIME,SERIAL_NUM,EVENT_KIND,SESSION,SUBJ_PRIME,SUBJ_SEC,SUBJ_KIND,ACTION,RESULT,OBJ_PRIME,OBJ_SEC,OBJ_KIND,HOW\n"
    );
    let all = CsvOptions {
        extra_keys: true,
        extra_labels: true,
        extra_obj2: true,
        extra_time: true,
    };
    assert!(csv_header(&all).ends_with("OBJ2,OBJ_LABEL,OBJ_KIND,HOW,KEY\n"));
}

#[test]
fn path_norm_keeps_libauparse_quirks() {
    assert_eq!(path_norm(b"/a/./b//c").unwrap(), b"/a/b/c");
    assert_eq!(path_norm(b"/a/b/../c").unwrap(), b"/a/c");
    // A trailing ".." only moves the write position in the C.
    assert_eq!(path_norm(b"/a/b/..").unwrap(), b"/a/b");
    assert_eq!(path_norm(b"./x").unwrap(), b"./x");
    assert!(path_norm(b"").is_none());
}

#[test]
fn strtol_then_int_cast() {
    assert_eq!(strtol_int(b"4294967295").value, -1);
    assert_eq!(strtol_int(b"1000").value, 1000);
    assert_eq!(strtol_int(b"\"x\"").value, 0);
    assert!(!strtol_int(b"99999999999999999999").ok);
}

#[test]
fn a_one_record_user_login_failure() {
    let ev = event(&["type=USER_LOGIN msg=audit(1700000000.5:9): pid=5 uid=0 auid=4294967295 ses=4294967295 msg='op=login acct=\"nosuchuser\" exe=\"/usr/sbin/sshd\" hostname=? addr=10.0.0.1 terminal=ssh res=failed'"]);
    let s = super::summarize(&ev);
    assert_eq!(s.kind, Some("user-login"));
    assert_eq!(s.subject_primary.unwrap().name, b"acct");
    assert_eq!(s.subject_kind, Some("unknown-acct"));
    assert_eq!(s.object_primary.unwrap().interpreted, b"ssh");
    assert_eq!(s.how.as_deref(), Some(&b"/usr/sbin/sshd"[..]));
    assert_eq!(s.success, Some(false));
}

#[test]
fn multi_record_event_without_syscall_fails_as_in_libauparse() {
    let ev = Event {
        records: vec![
            parse_log_line(b"type=PATH msg=audit(1.000:1): item=0 name=\"/x\"").unwrap(),
            parse_log_line(b"type=CWD msg=audit(1.000:1): cwd=\"/\"").unwrap(),
        ],
        ..Event::default()
    };
    assert!(normalize(&ev, Attributes::All).failed);
    let line = csv_line(&ev, &CsvOptions::default());
    assert!(
        line.ends_with(b"00:00:00,0,,,,,,,,,,\n"),
        "{}",
        String::from_utf8_lossy(&line)
    );
}

#[test]
fn ecs_categorizes_by_syscall_table() {
    let ev = event(OPEN);
    let doc: serde_json::Value = serde_json::from_str(&super::ecs::ecs_json(&ev)).unwrap();
    assert_eq!(doc["event"]["category"], serde_json::json!(["file"]));
    assert_eq!(doc["event"]["action"], "opened-file");
    assert_eq!(doc["event"]["outcome"], "failure");
    assert_eq!(doc["tags"], serde_json::json!(["files"]));
    assert_eq!(doc["@timestamp"], "2023-11-14T22:13:20.123Z");
}

#[test]
fn ecs_syscall_table_is_sorted_for_binary_search() {
    let t = super::ecs_tables::SYSCALLS;
    assert!(t.windows(2).all(|w| w[0].0 < w[1].0));
    assert!(t.iter().any(|(n, _)| *n == "*"));
}

proptest! {
    /// Any event of parseable records normalizes and formats without panicking.
    #[test]
    fn never_panics(types in proptest::collection::vec(prop::sample::select(vec![
            "SYSCALL", "PATH", "CWD", "SOCKADDR", "EXECVE", "USER_LOGIN", "CONFIG_CHANGE",
            "AVC", "LOGIN", "ANOM_ABEND", "DAEMON_START", "BPF", "USER_AVC", "SECCOMP"]), 1..5),
        fields in proptest::collection::vec(("[a-z_]{1,8}", "[ -~]{0,12}"), 0..12)) {
        let mut records = Vec::new();
        for t in types {
            let body: Vec<String> = fields.iter().map(|(n, v)| format!("{n}={v}")).collect();
            let line = format!("type={t} msg=audit(1.000:1): {}", body.join(" "));
            if let Ok(r) = parse_log_line(line.as_bytes()) {
                records.push(r);
            }
        }
        let ev = Event { records, ..Event::default() };
        let _ = normalize(&ev, Attributes::All);
        let _ = csv_line(&ev, &CsvOptions { extra_keys: true, extra_labels: true, extra_obj2: true, extra_time: true });
        let _ = text_line(&ev);
        let _ = super::ecs::ecs_json(&ev);
    }
}

#[test]
fn multi_key_is_split_like_auparse() {
    let ev = event(&[
        "type=SYSCALL msg=audit(1700000000.123:7): arch=c000003e syscall=257 success=yes exit=3 a0=ffffff9c a1=7ffd a2=0 a3=0 items=0 ppid=1 pid=2 auid=1000 uid=0 gid=0 euid=0 suid=0 fsuid=0 egid=0 sgid=0 fsgid=0 tty=pts0 ses=3 comm=\"cat\" exe=\"/usr/bin/cat\" key=6B31016B32",
        "type=PROCTITLE msg=audit(1700000000.123:7): proctitle=636174",
    ]);
    let key = super::summarize(&ev).key.unwrap();
    // python3-audit: {"name": "key", "value": "\"k1\"", "interpreted": "k1", "record": 0, "field": 25}
    assert_eq!(key.raw, b"\"k1\"");
    assert_eq!(key.interpreted, b"k1");
    assert_eq!((key.loc.record, key.loc.field), (0, 25));
}
