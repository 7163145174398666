//! Elastic Common Schema documents for events, in the shape Auditbeat's
//! auditd module publishes, with its categorization.
//!
//! Categorization (`event.category`, `event.type`, `event.action`, the
//! `user`/`group` mappings) follows go-libaudit `aucoalesce/coalesce.go`
//! `applyNormalization` over the rules of its `normalizations.yaml`
//! (rebuilt in [`super::ecs_tables`]): the record type's rule (the last one
//! whose `has_fields` are all present), plus the syscall's rule (or the `*`
//! default) when they differ. The summary (`auditd.summary`) is libauparse's
//! normalizer's, not aucoalesce's (see docs/normalize.md).

use serde_json::{json, Map, Value};

use super::{summarize, OwnedField, Summary};
use crate::audit::records::{interpret, Event, Record};
use crate::audit::tables::msg;

/// One categorization rule (one entry of normalizations.yaml).
#[derive(Debug)]
pub(crate) struct Rule {
    pub action: &'static str,
    pub category: &'static [&'static str],
    pub kind: &'static [&'static str],
    pub has_fields: &'static [&'static str],
    pub mappings: &'static [(&'static str, &'static str)],
}

fn syscall_rule(name: &str) -> &'static Rule {
    let t = super::ecs_tables::SYSCALLS;
    let i = t
        .binary_search_by(|(n, _)| (*n).cmp(name))
        .or_else(|_| t.binary_search_by(|(n, _)| (*n).cmp("*")))
        .unwrap_or(0);
    &t[i].1
}

fn has_field(event: &Event, name: &str) -> bool {
    event
        .records
        .iter()
        .any(|r| r.get(name.as_bytes()).is_some())
}

fn record_rule(event: &Event, type_name: &str) -> Option<&'static Rule> {
    let mut chosen = None;
    for (_, r) in super::ecs_tables::RECORD_TYPES
        .iter()
        .filter(|(n, _)| *n == type_name)
    {
        if r.has_fields.iter().all(|f| has_field(event, f)) {
            chosen = Some(r);
        }
    }
    chosen
}

/// The categorization aucoalesce gives the event.
pub(crate) struct Categorization {
    pub category: Vec<&'static str>,
    pub kind: Vec<&'static str>,
    pub action: Option<&'static str>,
    pub rule: Option<&'static Rule>,
}

fn lossy(v: &[u8]) -> String {
    String::from_utf8_lossy(v).into_owned()
}

fn syscall_record(event: &Event) -> Option<&Record> {
    event.records.iter().find(|r| r.msg_type == msg::SYSCALL)
}

fn interp(rec: &Record, name: &str) -> Option<String> {
    interpret(rec, name.as_bytes()).map(|v| lossy(&v))
}

fn raw(rec: &Record, name: &str) -> Option<String> {
    rec.get(name.as_bytes()).map(lossy)
}

pub(crate) fn categorize(event: &Event) -> Categorization {
    let first = event.records.first().map_or(0, |r| r.msg_type);
    let syscall = syscall_record(event).and_then(|r| interp(r, "syscall"));
    let sys_rule = syscall.as_deref().map(syscall_rule);
    let rule = if first == msg::SYSCALL || first == 0 {
        sys_rule
    } else {
        let name = super::view::type_name(first);
        record_rule(event, &String::from_utf8_lossy(&name))
    };
    let Some(rule) = rule else {
        return Categorization {
            category: Vec::new(),
            kind: Vec::new(),
            action: None,
            rule: None,
        };
    };
    let mut category = rule.category.to_vec();
    let mut kind = rule.kind.to_vec();
    if let Some(s) = sys_rule.filter(|s| !std::ptr::eq(*s, rule)) {
        category.extend_from_slice(s.category);
        kind.extend_from_slice(s.kind);
    }
    Categorization {
        category,
        kind,
        action: (!rule.action.is_empty()).then_some(rule.action),
        rule: Some(rule),
    }
}

/// An ECS user/group entity from an id or a name (aucoalesce
/// `ECSEntityData.set`), with the name the id resolves to.
fn entity(value: Option<&OwnedField>) -> Option<Value> {
    let f = value?;
    let raw = lossy(
        f.raw
            .strip_prefix(b"\"")
            .and_then(|v| v.strip_suffix(b"\""))
            .unwrap_or(&f.raw),
    );
    let mut m = Map::new();
    if raw.is_empty() || raw == "unset" || raw == "4294967295" || raw == "-1" {
        m.insert("id".into(), json!("unset"));
    } else if raw.bytes().all(|c| c.is_ascii_digit()) {
        m.insert("id".into(), json!(raw));
        let name = lossy(&f.interpreted);
        if name != raw && !name.starts_with("unknown(") {
            m.insert("name".into(), json!(name));
        }
    } else {
        m.insert("name".into(), json!(lossy(&f.interpreted)));
    }
    Some(Value::Object(m))
}

fn id_entity(rec: &Record, name: &str) -> Option<Value> {
    let (_, f) = rec.find(name.as_bytes())?;
    let mut out = Vec::new();
    interpret::interpret_field(rec, f, &mut out);
    entity(Some(&OwnedField {
        loc: super::Loc {
            record: 0,
            field: 0,
        },
        name: name.as_bytes().to_vec(),
        raw: rec.field_value(f).to_vec(),
        interpreted: out,
    }))
}

fn put(m: &mut Map<String, Value>, path: &str, v: Value) {
    let mut cur = m;
    let mut parts = path.split('.').peekable();
    while let Some(p) = parts.next() {
        if parts.peek().is_none() {
            cur.insert(p.to_owned(), v);
            return;
        }
        let next = cur
            .entry(p.to_owned())
            .or_insert_with(|| Value::Object(Map::new()));
        if !next.is_object() {
            *next = Value::Object(Map::new());
        }
        cur = next.as_object_mut().expect("made an object above");
    }
}

fn field_json(f: &Option<OwnedField>) -> Value {
    f.as_ref()
        .map_or(Value::Null, |f| json!(lossy(&f.interpreted)))
}

fn timestamp(event: &Event) -> String {
    let secs = event.timestamp.sec as i64;
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    // Civil date from days since 1970-01-01 (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}.{:03}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60,
        event.timestamp.msec
    )
}

/// Fields that become ECS fields of their own rather than `auditd.data`.
const PROMOTED: &[&str] = &[
    "pid",
    "ppid",
    "comm",
    "exe",
    "proctitle",
    "cwd",
    "auid",
    "uid",
    "euid",
    "suid",
    "fsuid",
    "gid",
    "egid",
    "sgid",
    "fsgid",
    "ses",
    "key",
    "success",
    "res",
    "argc",
    "items",
];

fn process(event: &Event, sys: Option<&Record>) -> Map<String, Value> {
    let mut p = Map::new();
    let first = event.records.first();
    let src = sys.or(first);
    if let Some(r) = src {
        if let Some(v) = raw(r, "pid") {
            p.insert(
                "pid".into(),
                v.parse::<u64>().map_or(json!(v), |n| json!(n)),
            );
        }
        if let Some(v) = raw(r, "ppid") {
            put(
                &mut p,
                "parent.pid",
                v.parse::<u64>().map_or(json!(v), |n| json!(n)),
            );
        }
        if let Some(v) = interp(r, "comm") {
            p.insert("name".into(), json!(v));
        }
        if let Some(v) = interp(r, "exe") {
            p.insert("executable".into(), json!(v));
        }
    }
    for r in &event.records {
        match r.msg_type {
            msg::PROCTITLE => {
                if let Some(v) = interp(r, "proctitle") {
                    p.insert("title".into(), json!(v));
                }
            }
            msg::CWD => {
                if let Some(v) = interp(r, "cwd") {
                    p.insert("working_directory".into(), json!(v));
                }
            }
            msg::EXECVE => {
                let argc = raw(r, "argc")
                    .and_then(|v| v.parse::<usize>().ok())
                    .unwrap_or(0);
                let args: Vec<Value> = (0..argc)
                    .map_while(|i| interp(r, &format!("a{i}")).map(Value::from))
                    .collect();
                if !args.is_empty() {
                    p.insert("args_count".into(), json!(args.len()));
                    p.insert("args".into(), Value::Array(args));
                }
            }
            _ => {}
        }
    }
    p
}

fn user_fields(doc: &mut Map<String, Value>, sys: Option<&Record>, event: &Event) {
    let Some(r) = sys.or(event.records.first()) else {
        return;
    };
    for (name, path) in [
        ("uid", "user"),
        ("euid", "user.effective"),
        ("suid", "user.saved"),
        ("fsuid", "user.filesystem"),
        ("auid", "user.audit"),
        ("gid", "group"),
        ("egid", "user.effective.group"),
        ("sgid", "user.saved.group"),
        ("fsgid", "user.filesystem.group"),
    ] {
        if let Some(Value::Object(e)) = id_entity(r, name) {
            for (k, v) in e {
                put(doc, &format!("{path}.{k}"), v);
            }
        }
    }
}

fn file_fields(doc: &mut Map<String, Value>, event: &Event, s: &Summary) {
    let Some(obj) = &s.object_primary else { return };
    let Some(rec) = event.records.get(obj.loc.record as usize) else {
        return;
    };
    if rec.msg_type != msg::PATH || obj.name != b"name" {
        return;
    }
    put(doc, "file.path", json!(lossy(&obj.interpreted)));
    for (name, path) in [
        ("inode", "file.inode"),
        ("dev", "file.device"),
        ("mode", "file.mode"),
    ] {
        if let Some(v) = raw(rec, name) {
            put(doc, path, json!(v));
        }
    }
    for (name, id, label) in [
        ("ouid", "file.uid", "file.owner"),
        ("ogid", "file.gid", "file.group"),
    ] {
        if let Some(v) = raw(rec, name) {
            put(doc, id, json!(v));
            if let Some(n) = interp(rec, name).filter(|n| *n != v) {
                put(doc, label, json!(n));
            }
        }
    }
}

/// Source or destination from the SOCKADDR record, as aucoalesce decides
/// by syscall; `network.direction` with ECS's words.
fn network_fields(doc: &mut Map<String, Value>, event: &Event, syscall: Option<&str>) {
    let Some(sa) = event.records.iter().find(|r| r.msg_type == msg::SOCKADDR) else {
        return;
    };
    let (side, direction) = match syscall {
        Some("recvfrom" | "recvmsg" | "accept" | "accept4") => ("source", "ingress"),
        Some("connect" | "sendto" | "sendmsg") => ("destination", "egress"),
        _ => return,
    };
    let Some(text) = interp(sa, "saddr") else {
        return;
    };
    let mut addr = Map::new();
    for part in text
        .trim_matches(|c| c == '{' || c == '}' || c == ' ')
        .split(' ')
    {
        if let Some((k, v)) = part.split_once('=') {
            match k {
                "laddr" => addr.insert("ip".into(), json!(v)),
                "lport" => addr.insert(
                    "port".into(),
                    v.parse::<u16>().map_or(json!(v), |n| json!(n)),
                ),
                "path" => addr.insert("path".into(), json!(v)),
                _ => None,
            };
        }
    }
    if !addr.is_empty() {
        doc.insert(side.into(), Value::Object(addr));
    }
    put(doc, "network.direction", json!(direction));
}

/// Every other field, interpreted, first one of a name wins (`auditd.data`).
fn data_fields(event: &Event) -> Map<String, Value> {
    let mut data = Map::new();
    for r in &event.records {
        if matches!(
            r.msg_type,
            msg::PATH | msg::EXECVE | msg::PROCTITLE | msg::CWD
        ) {
            continue;
        }
        for f in r.fields() {
            let name = lossy(r.field_name(f));
            if PROMOTED.contains(&name.as_str()) || data.contains_key(&name) {
                continue;
            }
            let mut out = Vec::new();
            interpret::interpret_field(r, f, &mut out);
            data.insert(name, json!(lossy(&out)));
        }
    }
    data
}

fn mapping_value(s: &Summary, sys: Option<&Record>, from: &str) -> Option<Value> {
    match from {
        "subject.primary" => entity(s.subject_primary.as_ref()),
        "subject.secondary" => entity(s.subject_secondary.as_ref()),
        "object.primary" => entity(s.object_primary.as_ref()),
        "object.secondary" => entity(s.object_secondary.as_ref()),
        "uid.uid" => sys.and_then(|r| id_entity(r, "uid")),
        _ => None,
    }
}

/// The event as an ECS document.
pub fn ecs_value(event: &Event, s: &Summary) -> Value {
    let sys = syscall_record(event);
    let syscall = sys.and_then(|r| interp(r, "syscall"));
    let cat = categorize(event);
    let mut doc = Map::new();
    doc.insert("@timestamp".into(), json!(timestamp(event)));
    let outcome = match s.success {
        Some(true) => "success",
        Some(false) => "failure",
        None => "unknown",
    };
    let action = cat
        .action
        .map(str::to_owned)
        .or_else(|| s.action.as_deref().map(lossy));
    put(&mut doc, "event.module", json!("auditd"));
    put(&mut doc, "event.kind", json!("event"));
    put(&mut doc, "event.category", json!(cat.category));
    put(&mut doc, "event.type", json!(cat.kind));
    put(&mut doc, "event.action", json!(action));
    put(&mut doc, "event.outcome", json!(outcome));
    put(&mut doc, "event.sequence", json!(event.serial));
    user_fields(&mut doc, sys, event);
    if let Some(rule) = cat.rule {
        for (from, to) in rule.mappings {
            if let Some(Value::Object(e)) = mapping_value(s, sys, from) {
                for (k, v) in e {
                    put(&mut doc, &format!("{to}.{k}"), v);
                }
            }
        }
    }
    if s.object_kind == "account" {
        if let Some(Value::Object(e)) = entity(s.object_primary.as_ref()) {
            for (k, v) in e {
                put(&mut doc, &format!("user.changes.{k}"), v);
            }
        }
    }
    let proc = process(event, sys);
    if !proc.is_empty() {
        doc.insert("process".into(), Value::Object(proc));
    }
    file_fields(&mut doc, event, s);
    network_fields(&mut doc, event, syscall.as_deref());
    let first = event.records.first().map_or(0, |r| r.msg_type);
    let type_name = lossy(&super::view::type_name(first)).to_ascii_lowercase();
    let auditd = json!({
        "message_type": type_name,
        "sequence": event.serial,
        "result": match s.success { Some(true) => "success", Some(false) => "fail", None => "unknown" },
        "session": field_json(&s.session),
        "summary": {
            "actor": {"primary": field_json(&s.subject_primary), "secondary": field_json(&s.subject_secondary)},
            "action": s.action.as_deref().map(lossy),
            "object": {
                "type": s.object_kind,
                "primary": field_json(&s.object_primary),
                "secondary": field_json(&s.object_secondary),
            },
            "how": s.how.as_deref().map(lossy),
        },
        "data": data_fields(event),
    });
    doc.insert("auditd".into(), auditd);
    let tags: Vec<Value> = event
        .records
        .iter()
        .flat_map(|r| r.fields().iter().map(move |f| (r, f)))
        .filter(|(r, f)| r.field_name(f) == b"key")
        .filter_map(|(r, f)| {
            let mut out = Vec::new();
            interpret::interpret_field(r, f, &mut out);
            (out != b"(null)").then_some(out)
        })
        .flat_map(|k| k.split(|&c| c == 1).map(lossy).collect::<Vec<_>>())
        .map(Value::from)
        .collect();
    if !tags.is_empty() {
        doc.insert("tags".into(), Value::Array(tags));
    }
    Value::Object(doc)
}

/// The event as one ECS JSON document (one line, no line end).
pub fn ecs_json(event: &Event) -> String {
    ecs_json_with(event, &summarize(event))
}

/// [`ecs_json`] when the event is already normalized.
pub fn ecs_json_with(event: &Event, summary: &Summary) -> String {
    ecs_value(event, summary).to_string()
}
