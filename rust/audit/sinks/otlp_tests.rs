//! Tests of the `otlp` sink's request encoding: decoded with the declared messages it is the expected request; the fields spooled with an event and those parsed from its text give the same bytes.

use prost::Message;

use super::otlp::{
    any_value, AnyValue, ExportLogsServiceRequest, InstrumentationScope, KeyValue, LogRecord,
    Resource, ResourceLogs, ScopeLogs,
};
use super::otlp_encode::{encode_request, SEVERITY_INFO};
use super::tests::event;
use super::{EventFields, ForwardEvent, FIELD_NAMES};

fn text(key: &str, v: &str) -> KeyValue {
    KeyValue {
        key: key.into(),
        value: Some(AnyValue {
            value: Some(any_value::Value::StringValue(v.into())),
        }),
    }
}

fn int(key: &str, v: i64) -> KeyValue {
    KeyValue {
        key: key.into(),
        value: Some(AnyValue {
            value: Some(any_value::Value::IntValue(v)),
        }),
    }
}

/// The log record expected for `tests::event(serial)`.
fn expected_record(serial: u64, observed: u64) -> LogRecord {
    let ev = event(serial);
    LogRecord {
        time_unix_nano: 1_700_000_000_123_000_000,
        observed_time_unix_nano: observed,
        severity_number: SEVERITY_INFO,
        severity_text: "INFO".into(),
        body: Some(AnyValue {
            value: Some(any_value::Value::StringValue(
                ev.json.clone().unwrap_or(ev.text.clone()),
            )),
        }),
        attributes: vec![
            text("audit.node", &ev.node),
            text("audit.id", &format!("1700000000.123:{serial}")),
            int("audit.serial", serial as i64),
            text("audit.record_type", "SYSCALL"),
            text("audit.syscall", "110"),
            text("audit.success", "yes"),
        ],
    }
}

fn resource_logs(host: &str, log_records: Vec<LogRecord>) -> ResourceLogs {
    ResourceLogs {
        resource: Some(Resource {
            attributes: vec![
                text("host.name", host),
                text("service.name", "svc"),
                text("os.type", "linux"),
            ],
        }),
        scope_logs: vec![ScopeLogs {
            scope: Some(InstrumentationScope {
                name: "auditlink".into(),
                version: env!("CARGO_PKG_VERSION").into(),
            }),
            log_records,
        }],
    }
}

#[test]
fn request_decodes_to_one_resource_per_node_with_every_attribute() {
    let mut events: Vec<ForwardEvent> = (0..6).map(event).collect();
    events[2].node = "other".into();
    events[4].node = String::new();
    let mut body = Vec::new();
    encode_request(&events, "thishost", "svc", 42, &mut body);
    let got = ExportLogsServiceRequest::decode(&body[..]).unwrap();
    let rec = |s: u64, node: &str| {
        let mut r = expected_record(s, 42);
        r.attributes[0] = text("audit.node", node);
        r
    };
    let expected = ExportLogsServiceRequest {
        resource_logs: vec![
            resource_logs(
                "host1",
                vec![
                    rec(0, "host1"),
                    rec(1, "host1"),
                    rec(3, "host1"),
                    rec(5, "host1"),
                ],
            ),
            resource_logs("other", vec![rec(2, "other")]),
            resource_logs("thishost", vec![rec(4, "")]),
        ],
    };
    assert_eq!(got, expected);
}

#[test]
fn fields_spooled_or_parsed_give_the_same_request() {
    let with: Vec<ForwardEvent> = (0..4)
        .map(|s| {
            let mut e = event(s);
            e.text = format!(
                "type=SYSCALL msg=audit(1700000000.123:{s}): arch=c000003e syscall=59 success=yes exit=0 ppid=1 pid=77 auid=1000 uid=0 comm=\"ls\" exe=\"/usr/bin/ls\" key=\"k é\"\ntype=EXECVE msg=audit(1700000000.123:{s}): argc=1 a0=\"ls\"\ntype=PROCTITLE msg=audit(1700000000.123:{s}): proctitle=6C73"
            );
            e.fields = Some(EventFields::from_text(&e.text));
            e
        })
        .collect();
    let without: Vec<ForwardEvent> = with
        .iter()
        .cloned()
        .map(|mut e| {
            e.fields = None;
            e
        })
        .collect();
    let (mut a, mut b) = (Vec::new(), Vec::new());
    encode_request(&with, "h", "svc", 7, &mut a);
    encode_request(&without, "h", "svc", 7, &mut b);
    assert_eq!(a, b);
    let req = ExportLogsServiceRequest::decode(&a[..]).unwrap();
    let attrs = &req.resource_logs[0].scope_logs[0].log_records[3].attributes;
    let keys: Vec<&str> = attrs.iter().map(|kv| kv.key.as_str()).collect();
    let mut want = vec![
        "audit.node",
        "audit.id",
        "audit.serial",
        "audit.record_type",
    ];
    let named: Vec<String> = FIELD_NAMES.iter().map(|n| format!("audit.{n}")).collect();
    want.extend(named.iter().map(String::as_str));
    assert_eq!(keys, want);
    assert_eq!(attrs[13], text("audit.key", "k é"));
    assert_eq!(attrs[11], text("audit.comm", "ls"));
}

#[test]
fn event_fields_round_trip_and_reject_garbage() {
    let f = EventFields::from_text(&event(3).text);
    assert_eq!(EventFields::from_bytes(f.as_bytes()), Some(f.clone()));
    let b = f.as_bytes();
    assert_eq!(EventFields::from_bytes(&b[..b.len() - 1]), None);
    assert_eq!(EventFields::from_bytes(&[200, 0, 0]), None);
    let mut p = Vec::new();
    event(3).encode(&mut p);
    assert_eq!(ForwardEvent::decode(&p), Some(event(3)));
    // A frame spooled without fields still decodes.
    let mut e = event(3);
    e.fields = None;
    p.clear();
    e.encode(&mut p);
    assert_eq!(ForwardEvent::decode(&p), Some(e));
}
