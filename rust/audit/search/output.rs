//! ausearch's event output: `--raw`, the default (`----`, `time->`, records
//! newest first) and `-i` (interpreted), byte for byte as audit-userspace
//! 3.0.9 `src/ausearch-report.c` prints them (written from its description;
//! differences are listed in docs/search.md). Times are local time in the C
//! locale's formats.

use super::group::{Group, Line};
use super::run::event_from_group;
use crate::audit::normalize::ecs;
use crate::audit::normalize::format::{self, CsvOptions};
use crate::audit::records::interpret::{field_kind, interpret_field, FieldKind};
use crate::audit::records::parse::{Record, ENRICHMENT_SEPARATOR};
use crate::audit::records::parse_log_line_lenient;
use crate::audit::tables::{libaudit_message_type_name, msg};

/// Output formats: ausearch's raw, default and interpreted text (written
/// here), its csv and text lines and ECS JSON (the normalizer's).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Format {
    Raw,
    Default,
    Interpret,
    Csv(CsvOptions),
    Text,
    Ecs,
}

/// Append one event in `format`. `first` is true for the first matching
/// event (ausearch prints the csv header before it).
pub fn write_event(g: &Group, format: &Format, first: bool, out: &mut Vec<u8>) {
    match format {
        Format::Raw => raw(g, out),
        Format::Default => default(g, out),
        Format::Interpret => interpreted(g, out),
        Format::Csv(opts) => {
            if first {
                out.extend_from_slice(format::csv_header(opts).as_bytes());
            }
            out.extend_from_slice(&format::csv_line(&event_from_group(g), opts));
        }
        Format::Text => out.extend_from_slice(&format::text_line(&event_from_group(g))),
        Format::Ecs => {
            out.extend_from_slice(ecs::ecs_json(&event_from_group(g)).as_bytes());
            out.push(b'\n');
        }
    }
}

/// Lines as read; in an event with ENRICHED lines every line carries the
/// separator (ausearch restores it at the raw part's end, also where a line
/// had none).
fn raw(g: &Group, out: &mut Vec<u8>) {
    for l in &g.lines {
        out.extend_from_slice(l.raw());
        if g.enriched {
            out.push(ENRICHMENT_SEPARATOR);
            out.extend_from_slice(l.enrichment().unwrap_or_default());
        }
        out.push(b'\n');
    }
}

/// Local broken-down time of `sec`.
fn local(sec: u64) -> Option<libc::tm> {
    let t = libc::time_t::try_from(sec).ok()?;
    // SAFETY: tm is plain old data; localtime_r fills it from `t` and returns
    // NULL on failure, both pointers live for the call.
    let mut tm: libc::tm = unsafe { std::mem::zeroed() };
    // SAFETY: see above.
    let r = unsafe { libc::localtime_r(&t, &mut tm) };
    (!r.is_null()).then_some(tm)
}

const DAYS: [&str; 7] = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"];
const MONTHS: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];

/// C `ctime()`: `Thu Dec  3 09:30:00 2026\n`.
pub fn ctime(sec: u64, out: &mut Vec<u8>) {
    use std::io::Write;
    let Some(tm) = local(sec) else {
        out.extend_from_slice(b"(null)");
        return;
    };
    let _ = writeln!(
        out,
        "{} {}{:3} {:02}:{:02}:{:02} {}",
        DAYS.get(tm.tm_wday as usize).unwrap_or(&"???"),
        MONTHS.get(tm.tm_mon as usize).unwrap_or(&"???"),
        tm.tm_mday,
        tm.tm_hour,
        tm.tm_min,
        tm.tm_sec,
        1900 + i64::from(tm.tm_year)
    );
}

/// `strftime("%x %T")` in the C locale: `12/03/26 09:30:00`.
pub fn date_time(sec: u64, out: &mut Vec<u8>) {
    date(sec, out);
    out.push(b' ');
    time_of_day(sec, out);
}

/// `strftime("%x")` in the C locale.
pub fn date(sec: u64, out: &mut Vec<u8>) {
    use std::io::Write;
    match local(sec) {
        Some(tm) => {
            let _ = write!(
                out,
                "{:02}/{:02}/{:02}",
                tm.tm_mon + 1,
                tm.tm_mday,
                tm.tm_year % 100
            );
        }
        None => out.push(b'?'),
    }
}

/// `strftime("%T")`.
pub fn time_of_day(sec: u64, out: &mut Vec<u8>) {
    use std::io::Write;
    if let Some(tm) = local(sec) {
        let _ = write!(out, "{:02}:{:02}:{:02}", tm.tm_hour, tm.tm_min, tm.tm_sec);
    }
}

/// ausearch `safe_print_string_n` in TTY mode: control characters as `\ooo`.
pub fn tty_escaped(s: &[u8], out: &mut Vec<u8>) {
    for &c in s {
        if c < 32 {
            out.extend_from_slice(&[
                b'\\',
                b'0' + (c >> 6),
                b'0' + ((c >> 3) & 7),
                b'0' + (c & 7),
            ]);
        } else {
            out.push(c);
        }
    }
}

/// Daemon records print only the last record (ausearch: no injection possible).
fn daemon_only(g: &Group) -> Option<&Line> {
    g.lines
        .last()
        .filter(|l| (msg::DAEMON_START..msg::SYSCALL).contains(&l.rtype))
}

fn default(g: &Group, out: &mut Vec<u8>) {
    out.extend_from_slice(b"----\ntime->");
    ctime(g.stamp.sec, out);
    if let Some(l) = daemon_only(g) {
        out.extend_from_slice(l.raw());
        out.push(b'\n');
        return;
    }
    for l in g.lines.iter().rev() {
        tty_escaped(l.raw(), out);
        out.push(b'\n');
    }
}

fn interpreted(g: &Group, out: &mut Vec<u8>) {
    out.extend_from_slice(b"----\n");
    if let Some(l) = daemon_only(g) {
        interpreted_record(g, l, out);
        return;
    }
    for l in g.lines.iter().rev() {
        interpreted_record(g, l, out);
    }
}

fn find(s: &[u8], c: u8) -> Option<usize> {
    memchr::memchr(c, s)
}

/// One record the way `output_interpreted_record` walks it: split at `=`,
/// names back to the previous space, values to a space, a closing quote or a
/// comma; each value interpreted.
fn interpreted_record(g: &Group, l: &Line, out: &mut Vec<u8>) {
    let text = l.raw();
    let mut s = text;
    if g.node.is_some() {
        if let Some(p) = find(s, b' ') {
            s = &s[p + 1..];
        }
    }
    let Some(open) = find(s, b'(') else {
        return;
    };
    let node = |out: &mut Vec<u8>| {
        if let Some(n) = &g.node {
            out.extend_from_slice(b"node=");
            out.extend_from_slice(n);
            out.push(b' ');
        }
    };
    node(out);
    match libaudit_message_type_name(l.rtype) {
        Some(name) => {
            out.extend_from_slice(b"type=");
            out.extend_from_slice(name.as_bytes());
            out.extend_from_slice(b" msg=audit(");
        }
        None => {
            out.extend_from_slice(&s[..open]);
            out.push(b'(');
        }
    }
    let after_open = &s[open + 1..];
    let Some(close) = find(after_open, b')') else {
        return;
    };
    let mut rest: Option<&[u8]> = Some(&after_open[close + 1..]);
    date_time(g.stamp.sec, out);
    {
        use std::io::Write;
        let _ = write!(out, ".{:03}:{}) ", g.stamp.milli, g.stamp.serial);
    }
    let rec = Some(parse_log_line_lenient(&l.text));
    let mut cursor = 0usize;
    let mut found = false;
    let mut comma = false;
    while let Some(str_) = rest.filter(|r| !r.is_empty()) {
        let Some(eq) = find(str_, b'=') else {
            break;
        };
        comma = false;
        found = true;
        let mut name_start = eq;
        while name_start > 0 && str_[name_start] != b' ' {
            name_start -= 1;
        }
        let mut name = &str_[name_start..eq];
        out.extend_from_slice(&str_[..=eq]);
        let after = &str_[eq + 1..];
        if name == b"msg" {
            rest = Some(after);
            continue;
        }
        if name.first() == Some(&b'\'') {
            name = &name[1..];
        }
        let (val, next): (&[u8], Option<&[u8]>) = match after.first() {
            Some(&q @ (b'\'' | b'"')) => match find(&after[1..], q) {
                Some(p) => {
                    let end = p + 2;
                    let next = if end < after.len() {
                        Some(&after[end + 1..])
                    } else {
                        Some(&after[end..])
                    };
                    (&after[..end], next)
                }
                None => (after, None),
            },
            _ => {
                let c = find(after, b',');
                let sp = find(after, b' ');
                match (c, sp) {
                    (Some(c), Some(sp)) if c < sp => {
                        if kind_of(l.rtype, trim_name(name), &after[sp..]) == FieldKind::MacLabel {
                            (&after[..sp], Some(&after[sp + 1..]))
                        } else {
                            comma = true;
                            (&after[..c], Some(&after[c + 1..]))
                        }
                    }
                    (Some(c), None) => {
                        if kind_of(l.rtype, trim_name(name), after) == FieldKind::MacLabel {
                            (after, None)
                        } else {
                            comma = true;
                            (&after[..c], Some(&after[c + 1..]))
                        }
                    }
                    (_, Some(sp)) => (&after[..sp], Some(&after[sp + 1..])),
                    (None, None) => (after, None),
                }
            }
        };
        interpret_value(
            l.rtype,
            rec.as_ref(),
            &mut cursor,
            trim_name(name),
            val,
            comma,
            out,
        );
        rest = next;
    }
    if comma {
        match rest {
            Some(r) => {
                tty_escaped(r, out);
                out.push(b'\n');
            }
            None => out.extend_from_slice(b"(null)"),
        }
    } else if !found {
        if let Some(r) = rest {
            tty_escaped(r, out);
            out.push(b'\n');
        }
    }
    out.push(b'\n');
}

/// ausearch names a SECCOMP record's syscall for the record's arch (else
/// this machine's), which auparse's per-record interpretation does not.
fn seccomp_syscall(r: &Record, nr: &[u8], out: &mut Vec<u8>) {
    use crate::audit::tables;
    let machine = r
        .get(b"arch")
        .and_then(|a| u32::from_str_radix(std::str::from_utf8(a).ok()?, 16).ok())
        .and_then(tables::machine_for_audit_arch)
        .or_else(|| tables::machine_by_name(std::env::consts::ARCH));
    let n = std::str::from_utf8(nr)
        .ok()
        .and_then(|s| s.parse::<u32>().ok());
    match (machine, n) {
        (Some(m), Some(n)) => match tables::syscall_name(m, n) {
            Some(name) => out.extend_from_slice(name.as_bytes()),
            None => out.extend_from_slice(format!("unknown-syscall({n})").as_bytes()),
        },
        _ => out.extend_from_slice(nr),
    }
}

fn trim_name(mut name: &[u8]) -> &[u8] {
    while let [b' ' | b'(', tail @ ..] = name {
        name = tail;
    }
    name
}

fn kind_of(rtype: u16, name: &[u8], val: &[u8]) -> FieldKind {
    let quoted = val.first() == Some(&b'"');
    field_kind(rtype, name, val, quoted)
}

/// ausearch `report_interpret`: the field's interpretation (found among the
/// parsed record's fields in order, so auditd's ENRICHED values and the
/// record's arch/syscall apply), then a space, or the value as is for
/// unclassified fields.
fn interpret_value(
    rtype: u16,
    rec: Option<&Record>,
    cursor: &mut usize,
    name: &[u8],
    val: &[u8],
    comma: bool,
    out: &mut Vec<u8>,
) {
    let mut val = val;
    if name == b"acct" {
        if let Some(v) = val.strip_suffix(b":") {
            val = v;
        }
    }
    let kind = kind_of(rtype, name, val);
    if kind == FieldKind::Unclassified {
        out.extend_from_slice(val);
        out.push(if comma { b',' } else { b' ' });
        return;
    }
    let bare = val
        .strip_prefix(b"\"")
        .and_then(|v| v.strip_suffix(b"\""))
        .unwrap_or(val);
    let field = rec.and_then(|r| {
        let fields = r.fields();
        let i = (*cursor..fields.len())
            .find(|&i| r.field_name(&fields[i]) == name && r.field_value(&fields[i]) == bare)?;
        *cursor = i + 1;
        Some((r, &fields[i]))
    });
    let start = out.len();
    match field {
        Some((r, _)) if kind == FieldKind::Syscall && rtype == msg::SECCOMP => {
            seccomp_syscall(r, bare, out)
        }
        Some((r, f)) => interpret_field(r, f, out),
        None => out.extend_from_slice(val),
    }
    if name == b"key" && out[start..].contains(&0x01) {
        let text: Vec<u8> = out.split_off(start);
        for (i, k) in text.split(|&c| c == 0x01).enumerate() {
            if i > 0 {
                out.extend_from_slice(b" key=");
            }
            out.extend_from_slice(k);
        }
        out.push(b' ');
    } else if kind != FieldKind::TtyData {
        out.push(b' ');
    }
}
