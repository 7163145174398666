//! ausearch's `--format csv` and `--format text` lines: one line per event,
//! built on the normalizer, byte for byte as ausearch 3.0.9 prints them
//! (`csv_event` and `text_event` in audit-userspace `src/ausearch-report.c`).
//!
//! Dates use the local time zone (`localtime`, as ausearch) and the C
//! locale's `%x` (MM/DD/YY); ausearch follows `LC_TIME`, which gives the same
//! text under C and C.UTF-8.

use super::{Attributes, Loc, Resolved};
use crate::audit::records::interpret::FieldKind;
use crate::audit::records::Event;
use crate::audit::tables::msg;

/// ausearch's `--extra-*` options for the csv format.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CsvOptions {
    pub extra_keys: bool,
    pub extra_labels: bool,
    pub extra_obj2: bool,
    pub extra_time: bool,
}

/// The header line ausearch prints before the first csv line (with `\n`).
pub fn csv_header(opts: &CsvOptions) -> String {
    format!(
        "NODE,EVENT,DATE,TIME,{}SERIAL_NUM,EVENT_KIND,SESSION,SUBJ_PRIME,SUBJ_SEC,SUBJ_KIND,{}ACTION,RESULT,OBJ_PRIME,OBJ_SEC,{}{}OBJ_KIND,HOW{}\n",
        if opts.extra_time { "YEAR,MONTH,DAY,WEEKDAY,HOUR,MILLI,GMT_OFFSET," } else { "" },
        if opts.extra_labels { "SUBJ_LABEL," } else { "" },
        if opts.extra_obj2 { "OBJ2," } else { "" },
        if opts.extra_labels { "OBJ_LABEL," } else { "" },
        if opts.extra_keys { ",KEY" } else { "" },
    )
}

/// Broken-down local time.
struct LocalTime {
    tm: libc::tm,
}

impl LocalTime {
    fn new(sec: u64) -> Option<LocalTime> {
        let t = libc::time_t::try_from(sec).ok()?;
        // SAFETY: tm is plain old data that localtime_r fills in.
        let mut tm: libc::tm = unsafe { std::mem::zeroed() };
        // SAFETY: both pointers are valid for the call.
        let r = unsafe { libc::localtime_r(&t, &mut tm) };
        if r.is_null() {
            None
        } else {
            Some(LocalTime { tm })
        }
    }
    /// `%x` in the C locale.
    fn date(&self) -> String {
        format!(
            "{:02}/{:02}/{:02}",
            self.tm.tm_mon + 1,
            self.tm.tm_mday,
            (self.tm.tm_year + 1900).rem_euclid(100)
        )
    }
    /// `%T`.
    fn time(&self) -> String {
        format!(
            "{:02}:{:02}:{:02}",
            self.tm.tm_hour, self.tm.tm_min, self.tm.tm_sec
        )
    }
}

/// The first field of the event (`node`, when there is one), interpreted:
/// what ausearch prints as the node.
fn node_text(r: &Resolved<'_>) -> Option<Vec<u8>> {
    r.event.node()?;
    r.interpret(Loc {
        record: 0,
        field: 0,
    })
}

fn push(out: &mut Vec<u8>, v: &[u8]) {
    out.extend_from_slice(v);
}

/// The subject as ausearch prints it ("unset" reads "system").
fn subject_text(r: &Resolved<'_>) -> Option<Vec<u8>> {
    let v = r.interpret(r.norm.subject_primary?)?;
    Some(if v == b"unset" { b"system".to_vec() } else { v })
}

/// An object field: file names made absolute, config settings by name.
fn object_text(
    r: &Resolved<'_>,
    loc: Loc,
    action: Option<&[u8]>,
    config_change: bool,
    sockets: bool,
) -> Option<Vec<u8>> {
    let kind = r.kind(loc);
    if kind == FieldKind::EscapedFile {
        return r.realpath(loc);
    }
    if sockets && kind == FieldKind::Sockaddr {
        let text = r.interpret(loc)?;
        if let Some(v) = sock_part(&text, b"laddr=").or_else(|| sock_part(&text, b"fam=")) {
            return Some(v);
        }
        return Some(text);
    }
    if config_change && matches!(action, Some(b"set") | Some(b"seccomp-logging")) {
        return r.name(loc).map(<[u8]>::to_vec);
    }
    r.interpret(loc)
}

/// `auparse_interpret_sock_parts`: the word after `key` in a socket
/// address interpretation, if a space follows it.
fn sock_part(text: &[u8], key: &[u8]) -> Option<Vec<u8>> {
    let at = text.windows(key.len()).position(|w| w == key)? + key.len();
    let rest = &text[at..];
    let end = rest.iter().position(|&c| c == b' ')?;
    Some(rest[..end].to_vec())
}

/// One csv line for the event (with `\n`), as ausearch `--format csv`.
pub fn csv_line(event: &Event, opts: &CsvOptions) -> Vec<u8> {
    let attrs = if opts.extra_labels {
        Attributes::All
    } else {
        Attributes::None
    };
    let r = Resolved::new(event, attrs);
    let mut out = Vec::with_capacity(256);
    if let Some(n) = node_text(&r) {
        push(&mut out, &n);
    }
    out.push(b',');
    if let Some(first) = event.records.first() {
        push(&mut out, super::view::type_name(first.msg_type).as_ref());
    }
    out.push(b',');
    let tm = LocalTime::new(event.timestamp.sec);
    if let Some(tm) = &tm {
        push(&mut out, tm.date().as_bytes());
    }
    out.push(b',');
    if let Some(tm) = &tm {
        push(&mut out, tm.time().as_bytes());
    }
    out.push(b',');
    if opts.extra_time {
        if let Some(tm) = &tm {
            let t = &tm.tm;
            let wday = if t.tm_wday == 0 { 7 } else { t.tm_wday };
            let off = t.tm_gmtoff;
            let total = off.unsigned_abs();
            let hour = total / 3600;
            // As ausearch computes it: seconds past the hour, modulo 60.
            let min = (total - hour * 3600) % 60;
            out.extend_from_slice(
                format!(
                    "{},{:02},{:02},{},{:2},{},{}{:02}:{:02},",
                    t.tm_year + 1900,
                    t.tm_mon + 1,
                    t.tm_mday,
                    wday,
                    t.tm_hour,
                    event.timestamp.msec,
                    if off >= 0 { '+' } else { '-' },
                    hour,
                    min
                )
                .as_bytes(),
            );
        } else {
            out.extend_from_slice(format!(",,,,,{},,", event.timestamp.msec).as_bytes());
        }
    }
    out.extend_from_slice(format!("{},", event.serial).as_bytes());
    if r.norm.failed {
        out.extend_from_slice(b",,,,,,,,,");
        if opts.extra_labels {
            out.extend_from_slice(b",,");
        }
        if opts.extra_keys {
            out.push(b',');
        }
        out.push(b'\n');
        return out;
    }
    push(&mut out, r.norm.kind.unwrap_or("unknown").as_bytes());
    out.push(b',');
    if let Some(v) = r.norm.session.and_then(|l| r.interpret(l)) {
        push(&mut out, &v);
    }
    out.push(b',');
    if let Some(v) = subject_text(&r) {
        push(&mut out, &v);
    }
    out.push(b',');
    if let Some(v) = r.norm.subject_secondary.and_then(|l| r.interpret(l)) {
        push(&mut out, &v);
    }
    out.push(b',');
    if let Some(k) = r.norm.subject_kind {
        push(&mut out, k.as_bytes());
    }
    out.push(b',');
    if opts.extra_labels {
        if let Some(v) = r.label(&r.norm.subject_attrs, b"subj") {
            push(&mut out, &v);
        }
        out.push(b',');
    }
    let action = r.norm.action.as_deref();
    push(&mut out, action.unwrap_or(b"did-unknown"));
    out.push(b',');
    if let Some(ok) = r.success() {
        push(&mut out, if ok { b"success" } else { b"failed" });
    }
    out.push(b',');
    if let Some(loc) = r.norm.object_primary.filter(|l| r.raw(*l).is_some()) {
        let config = r.record_type(loc) == msg::CONFIG_CHANGE;
        if let Some(v) = object_text(&r, loc, action, config, false) {
            push(&mut out, &v);
        }
    }
    out.push(b',');
    if let Some(v) = r.norm.object_secondary.and_then(|l| r.interpret(l)) {
        push(&mut out, &v);
    }
    out.push(b',');
    if opts.extra_obj2 {
        if let Some(loc) = r.norm.object_primary2.filter(|l| r.raw(*l).is_some()) {
            if let Some(v) = object_text(&r, loc, None, false, false) {
                push(&mut out, &v);
            }
        }
        out.push(b',');
    }
    if opts.extra_labels {
        if let Some(v) = r.label(&r.norm.object_attrs, b"obj") {
            push(&mut out, &v);
        }
        out.push(b',');
    }
    push(&mut out, r.norm.object_kind.name().as_bytes());
    out.push(b',');
    if let Some(h) = &r.norm.how {
        push(&mut out, h);
    }
    if opts.extra_keys {
        out.push(b',');
        if let Some(v) = r.norm.key.and_then(|l| r.interpret(l)) {
            push(&mut out, &v);
        }
    }
    out.push(b'\n');
    out
}

/// One text line for the event (with `\n`), as ausearch `--format text`.
pub fn text_line(event: &Event) -> Vec<u8> {
    let r = Resolved::new(event, Attributes::None);
    let mut out = Vec::with_capacity(160);
    let when = match LocalTime::new(event.timestamp.sec) {
        Some(tm) => format!("{} {}", tm.time(), tm.date()),
        None => "?".to_owned(),
    };
    match node_text(&r) {
        Some(n) => {
            push(&mut out, b"On ");
            push(&mut out, &n);
            out.extend_from_slice(format!(" at {when} ").as_bytes());
        }
        None => out.extend_from_slice(format!("At {when} ").as_bytes()),
    }
    let mut id = -2;
    if let Some(loc) = r.norm.subject_primary.filter(|l| r.raw(*l).is_some()) {
        if let Some(v) = subject_text(&r) {
            push(&mut out, &v);
        }
        id = r.raw(loc).map_or(-1, |v| super::view::strtol_int(v).value);
    }
    if let Some(loc) = r.norm.subject_secondary.filter(|l| r.raw(*l).is_some()) {
        let uid = r.raw(loc).map_or(-1, |v| super::view::strtol_int(v).value);
        if uid != id && id != -2 && uid != -1 {
            push(&mut out, b", acting as ");
            push(&mut out, &r.interpret(loc).unwrap_or_default());
            out.push(b',');
        }
    }
    match r.success() {
        Some(ok) => {
            out.push(b' ');
            push(
                &mut out,
                if ok {
                    b"successfully"
                } else {
                    b"unsuccessfully"
                },
            );
            out.push(b' ');
        }
        None => out.push(b' '),
    }
    let action = r.norm.action.as_deref();
    push(&mut out, action.unwrap_or(b"did-unknown"));
    out.push(b' ');
    let event_type = event.records.first().map_or(0, |r| r.msg_type);
    if let Some(loc) = r.norm.object_primary.filter(|l| r.raw(*l).is_some()) {
        let kind = r.kind(loc);
        let special = kind == FieldKind::EscapedFile
            || kind == FieldKind::Sockaddr
            || event_type == msg::CONFIG_CHANGE;
        let v = if !special && action.is_some_and(|a| contains(a, b"violated")) {
            Some(b"accessing ".to_vec())
        } else {
            object_text(&r, loc, action, event_type == msg::CONFIG_CHANGE, true)
        };
        if let Some(v) = v {
            push(&mut out, &v);
        }
        out.push(b' ');
    }
    if let Some(loc) = r.norm.object_primary2.filter(|l| r.raw(*l).is_some()) {
        push(&mut out, b"to ");
        if let Some(v) = object_text(&r, loc, None, false, false) {
            push(&mut out, &v);
        }
        out.push(b' ');
    }
    if let (Some(h), Some(a)) = (&r.norm.how, action) {
        // Not for "ended-session".
        if a.first() != Some(&b'e') {
            push(&mut out, b"using ");
            push(&mut out, h);
        }
    }
    out.push(b'\n');
    out
}

fn contains(hay: &[u8], needle: &[u8]) -> bool {
    hay.windows(needle.len()).any(|w| w == needle)
}
