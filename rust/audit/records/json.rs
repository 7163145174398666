//! The event shape (one JSON object per event) and a streaming JSON writer.
//!
//! The shape is produced once, through the [`Sink`] trait: the JSON writer
//! here is one sink, the Python dict builder in the bindings another, so
//! `to_json()` and `to_dict()` cannot disagree. The shape is documented in
//! docs/records.md; in short:
//!
//! ```text
//! {"timestamp":"1700000000.123","serial":42,"node":"web1","complete":true,
//!  "SYSCALL":{"arch":"c000003e","ARCH":"x86_64","syscall":59,"SYSCALL":"execve",...},
//!  "EXECVE":{"argc":2,"argv":["ls","-l"]},
//!  "CWD":{"cwd":"/root"},
//!  "PATH":[{"item":0,"name":"/usr/bin/ls",...}],
//!  "PROCTITLE":{"proctitle":["ls","-l"]}}
//! ```
//! Lower-case keys are the fields as written with their transport encoding
//! (quotes, hex) removed; decimal numbers become integers. An UPPER-case key
//! next to a field carries auparse's interpretation when it says more than the
//! field (names for ids, syscalls, errnos, modes, socket addresses, ...).

use super::interpret::{decode_string, field_kind, interpretation, FieldKind};
use super::jsonkeys::{FieldKeys, Keys, Layout, Layouts};
pub(crate) use super::jsonwrite::{decimal_digits, push_decimal};
pub use super::jsonwrite::{write_json_string, JsonWriter};
use super::parse::{Field, Record};
use super::reassemble::Event;
use crate::audit::tables::{self, msg};

/// Receives the shape of an event or record.
pub trait Sink {
    fn begin_map(&mut self);
    fn end_map(&mut self);
    fn begin_list(&mut self);
    fn end_list(&mut self);
    fn key(&mut self, k: &[u8]);
    /// The key `k`, whose JSON text (`"k":`, escaped) is `json` already (a
    /// sink writing text copies it).
    fn key_json(&mut self, k: &[u8], _json: &[u8]) {
        self.key(k)
    }
    fn string(&mut self, s: &[u8]);
    fn int(&mut self, v: i64);
    fn uint(&mut self, v: u64);
    /// `v`, whose decimal text is `text` already (a sink writing text copies it).
    fn int_text(&mut self, v: i64, _text: &[u8]) {
        self.int(v)
    }
    /// `v`, whose decimal text is `text` already.
    fn uint_text(&mut self, v: u64, _text: &[u8]) {
        self.uint(v)
    }
    fn boolean(&mut self, b: bool);
    fn null(&mut self);
}

/// Record types that always appear as a list of objects.
fn is_list_type(t: u16) -> bool {
    matches!(
        t,
        msg::PATH | msg::SOCKADDR | msg::OBJ_PID | msg::AVC | msg::NETFILTER_CFG | msg::BPF
    )
}

/// The key a record type has in the event object.
pub fn type_key(t: u16) -> std::borrow::Cow<'static, str> {
    match tables::message_type_name(t) {
        Some(n) => n.into(),
        None => format!("UNKNOWN[{t}]").into(),
    }
}

/// Kinds whose interpretation goes next to the field in an UPPER-case key.
pub(super) fn has_interpretation(kind: FieldKind) -> bool {
    use FieldKind::*;
    matches!(
        kind,
        Uid | Gid
            | Syscall
            | Arch
            | Exit
            | Perm
            | Mode
            | ModeShort
            | Sockaddr
            | Flags
            | Promisc
            | Capability
            | Success
            | A0
            | A1
            | A2
            | A3
            | Signal
            | List
            | TtyData
            | Session
            | CapBitmap
            | Protocol
            | Seccomp
            | Macproto
            | Nlmcgrp
            | Oflag
            | Mmap
            | Nfproto
            | Icmptype
            | Personality
            | Hook
            | Netaction
            | IoctlReq
            | Fanotify
            | Resolve
    )
}

/// Kinds whose decimal values are numbers in the typed view.
fn numeric_kind(kind: FieldKind) -> bool {
    use FieldKind::*;
    matches!(
        kind,
        Uid | Gid
            | Session
            | Exit
            | Syscall
            | Signal
            | Capability
            | List
            | Protocol
            | Perm
            | Success
            | Unclassified
    )
}

fn emit_typed_scalar<S: Sink>(sink: &mut S, v: &[u8]) {
    let (neg, digits) = match v.strip_prefix(b"-") {
        Some(d) => (true, d),
        None => (false, v),
    };
    // Canonical digits (no leading zero, no "-0"): `v` is the number's text.
    let canonical = digits.len() <= 20 && (digits.first() != Some(&b'0') || digits.len() == 1);
    if let Some(n) = parse_decimal(digits).filter(|_| canonical) {
        if !neg {
            return sink.uint_text(n, v);
        }
        if n <= i64::MAX as u64 + 1 && n != 0 {
            return sink.int_text((n as i64).wrapping_neg(), v);
        }
    }
    sink.string(v)
}

/// Decimal digits (at least one) as a number, if they are all digits and it fits.
fn parse_decimal(digits: &[u8]) -> Option<u64> {
    if digits.is_empty() {
        return None;
    }
    let mut n: u64 = 0;
    for &c in digits {
        let d = c.wrapping_sub(b'0');
        if d > 9 {
            return None;
        }
        n = n.checked_mul(10)?.checked_add(u64::from(d))?;
    }
    Some(n)
}

/// Which interpretations the UPPER-case keys carry (laurel's `[translate]`):
/// names for uids and gids (`user-db`), everything else (`universal`: arch,
/// syscall, socket addresses, errnos, modes, ...), and whether an `arch`,
/// `syscall`, uid or gid field whose interpretation is written loses its raw
/// value (`drop-raw`, the fields laurel drops).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Translation {
    pub ids: bool,
    pub universal: bool,
    pub drop_raw: bool,
}

impl Translation {
    /// Every interpretation, next to its raw field (the records shape).
    pub const ALL: Translation = Translation {
        ids: true,
        universal: true,
        drop_raw: false,
    };

    fn wants(self, kind: FieldKind) -> bool {
        has_interpretation(kind)
            && if matches!(kind, FieldKind::Uid | FieldKind::Gid) {
                self.ids
            } else {
                self.universal
            }
    }
}

/// One field: its kind is `kind` when known already (a layout's), else
/// decided here.
fn emit_field<S: Sink>(
    sink: &mut S,
    mut keys: FieldKeys<'_>,
    (rec, f): (&Record, &Field),
    kind: Option<FieldKind>,
    buf: &mut Vec<u8>,
    tr: Translation,
) {
    let name = rec.field_name(f);
    let value = rec.field_value(f);
    let kind = kind.unwrap_or_else(|| field_kind(rec.msg_type, name, value, f.quoted));
    if !matches!(
        kind,
        FieldKind::Escaped | FieldKind::EscapedFile | FieldKind::EscapedKey | FieldKind::Proctitle
    ) {
        return emit_scalar_field(sink, keys, (rec, f), (name, value, kind), buf, tr);
    }
    keys.name(sink, name);
    match kind {
        FieldKind::Escaped | FieldKind::EscapedFile => {
            buf.clear();
            decode_string(value, f.quoted, buf);
            sink.string(buf);
        }
        FieldKind::EscapedKey => {
            if !f.quoted && value == b"(null)" {
                sink.null();
            } else {
                buf.clear();
                decode_string(value, f.quoted, buf);
                sink.begin_list();
                for k in buf.split(|&c| c == 1) {
                    sink.string(k);
                }
                sink.end_list();
            }
        }
        FieldKind::Proctitle => {
            buf.clear();
            let hex = decode_string(value, f.quoted, buf);
            sink.begin_list();
            // Hex: NUL-separated arguments.
            if hex {
                for a in buf.split(|&c| c == 0) {
                    sink.string(a);
                }
            } else {
                sink.string(buf);
            }
            sink.end_list();
        }
        _ => {}
    }
}

/// A field written as its raw value (a number where it is one), then its
/// interpretation in an UPPER-case key when that says more and is wanted.
fn emit_scalar_field<S: Sink>(
    sink: &mut S,
    mut keys: FieldKeys<'_>,
    (rec, f): (&Record, &Field),
    (name, value, kind): (&[u8], &[u8], FieldKind),
    buf: &mut Vec<u8>,
    tr: Translation,
) {
    let mut translated = false;
    let mut text: &[u8] = &[];
    if tr.wants(kind) {
        text = interpretation(rec, f, kind, buf);
        translated = text != value
            && !(matches!(
                kind,
                FieldKind::A0 | FieldKind::A1 | FieldKind::A2 | FieldKind::A3
            ) && text.strip_prefix(b"0x") == Some(value));
    }
    let dropped = translated
        && tr.drop_raw
        && matches!(
            kind,
            FieldKind::Arch | FieldKind::Syscall | FieldKind::Uid | FieldKind::Gid
        );
    if !dropped {
        keys.name(sink, name);
        if !f.quoted && numeric_kind(kind) {
            emit_typed_scalar(sink, value);
        } else {
            sink.string(value);
        }
    }
    if translated {
        keys.upper(sink, name);
        sink.string(text);
    }
}

/// The fields of one record as an object body (without begin/end), their
/// keys from `layout` when the record has one.
pub(super) fn emit_fields<S: Sink>(
    sink: &mut S,
    (rec, layout): (&Record, Option<&Layout>),
    buf: &mut Vec<u8>,
    tr: Translation,
) {
    if let Some(layout) = layout {
        for (i, f) in rec.fields().iter().enumerate() {
            let (kind, keys) = layout.field(i);
            emit_field(sink, keys, (rec, f), kind, buf, tr);
        }
        return;
    }
    let keys = &mut Keys::default();
    let mut in_msg = false;
    for f in rec.fields() {
        if f.nested && !in_msg {
            keys.emit(sink, b"msg");
            sink.begin_map();
            in_msg = true;
            // Nested names get their own namespace.
            let mut inner = Keys::default();
            for g in rec.fields().iter().filter(|g| g.nested) {
                emit_field(
                    sink,
                    FieldKeys::Checked(&mut inner),
                    (rec, g),
                    None,
                    buf,
                    tr,
                );
            }
            sink.end_map();
        }
        if !f.nested {
            emit_field(sink, FieldKeys::Checked(keys), (rec, f), None, buf, tr);
        }
    }
    if let Some(e) = rec.error() {
        keys.emit(sink, b"_error");
        sink.string(e.to_string().as_bytes());
        keys.emit(sink, b"_text");
        sink.string(rec.text());
    }
}

/// One record as an object.
pub fn emit_record<S: Sink>(sink: &mut S, rec: &Record) {
    let mut scratch = Scratch::default();
    emit_record_with(sink, rec, &mut scratch, &NoExtra, 0);
}

/// Members a later stage (the enricher) adds to the objects of an event's
/// records, after the record's own fields.
pub trait Extra {
    /// Append members to the object of `ev.records[index]` (for EXECVE: the
    /// object of all EXECVE records, `index` is the first one's).
    fn members<S: Sink>(&self, index: usize, rec: &Record, sink: &mut S);
    /// Whether EXECVE keeps its `argv` list (false when the extra writes its own).
    fn execve_argv(&self) -> bool {
        true
    }
    /// Which interpretations the records' objects carry.
    fn translation(&self) -> Translation {
        Translation::ALL
    }
}

/// No extra members.
pub struct NoExtra;

impl Extra for NoExtra {
    fn members<S: Sink>(&self, _: usize, _: &Record, _: &mut S) {}
}

fn emit_record_with<S: Sink, X: Extra>(
    sink: &mut S,
    rec: &Record,
    scratch: &mut Scratch,
    extra: &X,
    index: usize,
) {
    sink.begin_map();
    let layout = scratch.layouts.of(rec);
    emit_fields(sink, (rec, layout), &mut scratch.buf, extra.translation());
    extra.members(index, rec, sink);
    sink.end_map();
}

/// Is this field one of EXECVE's argument fields (`aN`, `aN_len`, `aN[i]`)?
/// Returns (index, Some(chunk) | None for whole, is_len).
fn execve_arg(name: &[u8]) -> Option<(usize, bool, bool)> {
    let rest = name.strip_prefix(b"a")?;
    let digits = rest.iter().take_while(|c| c.is_ascii_digit()).count();
    if digits == 0 {
        return None;
    }
    let idx: usize = std::str::from_utf8(&rest[..digits]).ok()?.parse().ok()?;
    let tail = &rest[digits..];
    match tail {
        b"" => Some((idx, false, false)),
        b"_len" => Some((idx, false, true)),
        t if t.starts_with(b"[") && t.ends_with(b"]") => Some((idx, true, false)),
        _ => None,
    }
}

/// EXECVE's `argv`: the `aN` values at their index, holes (arguments whose
/// record was lost) as empty strings. Its length comes from what is present
/// and from `argc`, with `argc` bounded by the size of the records, so the
/// output grows at most linearly with the input; an `aN` beyond that length
/// (`argc=1 a999999=x`) is kept as an ordinary field rather than padding
/// `argv` with a million empty strings.
fn emit_execve<S: Sink, X: Extra>(
    sink: &mut S,
    recs: &[&Record],
    buf: &mut Vec<u8>,
    extra: &X,
    index: usize,
) {
    let mut argc: Option<&[u8]> = None;
    let mut keys = Keys::default();
    let mut others: Vec<(&Record, &Field)> = Vec::new();
    let mut present: Vec<(usize, &Record, &Field)> = Vec::new();
    let mut input_len = 0usize;
    for rec in recs {
        input_len += rec.text().len();
        for f in rec.fields() {
            let name = rec.field_name(f);
            if name == b"argc" {
                argc = Some(rec.field_value(f));
                continue;
            }
            match execve_arg(name) {
                Some((_, _, true)) => {}
                Some((idx, _, false)) => present.push((idx, rec, f)),
                None => others.push((rec, f)),
            }
        }
    }
    let argc_n = argc
        .and_then(|v| std::str::from_utf8(v).ok()?.parse::<usize>().ok())
        .unwrap_or(0)
        .min(input_len);
    let limit = argc_n.max(present.len());
    let len = present
        .iter()
        .filter(|(i, ..)| *i < limit)
        .map(|(i, ..)| i + 1)
        .max()
        .unwrap_or(0);
    // Decoded only when written (the enricher writes its own ARGV).
    let write_argv = extra.execve_argv();
    let mut args: Vec<Vec<u8>> = vec![Vec::new(); if write_argv { len } else { 0 }];
    for &(idx, rec, f) in &present {
        if idx >= len {
            others.push((rec, f));
        } else if let Some(a) = args.get_mut(idx) {
            decode_string(rec.field_value(f), f.quoted, a);
        }
    }
    sink.begin_map();
    keys.emit(sink, b"argc");
    match argc {
        Some(v) => emit_typed_scalar(sink, v),
        None => sink.uint(len as u64),
    }
    if write_argv {
        keys.emit(sink, b"argv");
        sink.begin_list();
        for a in &args {
            sink.string(a);
        }
        sink.end_list();
    }
    let tr = extra.translation();
    for field in others {
        emit_field(sink, FieldKeys::Checked(&mut keys), field, None, buf, tr);
    }
    for rec in recs {
        if let Some(e) = rec.error() {
            keys.emit(sink, b"_error");
            sink.string(e.to_string().as_bytes());
            keys.emit(sink, b"_text");
            sink.string(rec.text());
        }
    }
    if let Some(first) = recs.first() {
        extra.members(index, first, sink);
    }
    sink.end_map();
}

/// One event as an object.
pub fn emit_event<S: Sink>(sink: &mut S, ev: &Event) {
    emit_event_with(sink, ev, &NoExtra);
}

/// One event as an object, with `extra`'s members in its records' objects.
pub fn emit_event_with<S: Sink, X: Extra>(sink: &mut S, ev: &Event, extra: &X) {
    let mut scratch = SCRATCH.with(std::cell::Cell::take);
    emit_event_in(sink, ev, extra, &mut scratch);
    SCRATCH.with(|s| s.set(scratch));
}

/// What writing an event reuses: a buffer for decoded values and
/// interpretations, and the layouts of the records written so far.
#[derive(Default)]
struct Scratch {
    buf: Vec<u8>,
    layouts: Layouts,
}

thread_local! {
    /// The scratch of [`emit_event_with`], kept between events.
    static SCRATCH: std::cell::Cell<Scratch> = std::cell::Cell::new(Scratch::default());
}

fn emit_event_in<S: Sink, X: Extra>(sink: &mut S, ev: &Event, extra: &X, scratch: &mut Scratch) {
    let buf = &mut scratch.buf;
    sink.begin_map();
    sink.key(b"timestamp");
    buf.clear();
    push_decimal(buf, ev.timestamp.sec);
    buf.push(b'.');
    let ms = ev.timestamp.msec;
    if ms < 1000 {
        buf.extend_from_slice(&[
            b'0' + (ms / 100) as u8,
            b'0' + (ms / 10 % 10) as u8,
            b'0' + (ms % 10) as u8,
        ]);
    } else {
        push_decimal(buf, u64::from(ms));
    }
    sink.string(buf);
    sink.key(b"serial");
    sink.uint(ev.serial);
    if let Some(node) = ev.node() {
        sink.key(b"node");
        sink.string(node);
    }
    sink.key(b"complete");
    sink.boolean(ev.complete);
    // Group records by type, in order of first appearance.
    for (i, first) in ev.records.iter().enumerate() {
        let t = first.msg_type;
        if ev.records[..i].iter().any(|r| r.msg_type == t) {
            continue;
        }
        let same = || ev.records[i..].iter().filter(move |r| r.msg_type == t);
        let (key, key_json) = scratch.layouts.type_key(t);
        sink.key_json(key, key_json);
        if t == msg::EXECVE {
            let recs: Vec<&Record> = same().collect();
            emit_execve(sink, &recs, &mut scratch.buf, extra, i);
        } else if is_list_type(t) || same().nth(1).is_some() {
            sink.begin_list();
            for (j, r) in ev.records.iter().enumerate().skip(i) {
                if r.msg_type == t {
                    emit_record_with(sink, r, scratch, extra, j);
                }
            }
            sink.end_list();
        } else {
            emit_record_with(sink, first, scratch, extra, i);
        }
    }
    sink.end_map();
}

/// Append one event as a JSON object (no line end).
pub fn event_to_json(ev: &Event, out: &mut Vec<u8>) {
    let mut w = JsonWriter::new(out);
    emit_event(&mut w, ev);
}

/// Append one record as a JSON object (no line end).
pub fn record_to_json(rec: &Record, out: &mut Vec<u8>) {
    let mut w = JsonWriter::new(out);
    emit_record(&mut w, rec);
}
