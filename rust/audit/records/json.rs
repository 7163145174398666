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

use super::interpret::{decode_string, field_kind, interpret_field_as, FieldKind};
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
    fn string(&mut self, s: &[u8]);
    fn int(&mut self, v: i64);
    fn uint(&mut self, v: u64);
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
fn has_interpretation(kind: FieldKind) -> bool {
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
    let plain = !digits.is_empty()
        && digits.len() <= 20
        && digits.iter().all(u8::is_ascii_digit)
        && (digits[0] != b'0' || digits.len() == 1);
    if plain {
        let mut n: u64 = 0;
        let mut ok = true;
        for &c in digits {
            match n
                .checked_mul(10)
                .and_then(|n| n.checked_add(u64::from(c - b'0')))
            {
                Some(m) => n = m,
                None => {
                    ok = false;
                    break;
                }
            }
        }
        if ok {
            if !neg {
                return sink.uint(n);
            }
            if n <= i64::MAX as u64 + 1 && n != 0 {
                return sink.int((n as i64).wrapping_neg());
            }
        }
    }
    sink.string(v)
}

/// Key names of one object, to keep them unique (`name_2`, `name_3`, ...).
/// Remembers 64-bit hashes only: a collision would at worst add a suffix.
struct Keys {
    inline: [u64; 48],
    len: usize,
    more: Vec<u64>,
    bloom: u64,
}

impl Default for Keys {
    fn default() -> Keys {
        Keys {
            inline: [0; 48],
            len: 0,
            more: Vec::new(),
            bloom: 0,
        }
    }
}

/// FNV-1a over 8-byte words (then the tail bytes), with a final mix so the
/// top six bits (the bloom filter's index) depend on every byte.
fn key_hash(k: &[u8]) -> u64 {
    const PRIME: u64 = 0x0000_0100_0000_01b3;
    let mut words = k.chunks_exact(8);
    let mut h = 0xcbf2_9ce4_8422_2325u64;
    for w in &mut words {
        let mut a = [0u8; 8];
        a.copy_from_slice(w);
        h = (h ^ u64::from_le_bytes(a)).wrapping_mul(PRIME);
    }
    for &c in words.remainder() {
        h = (h ^ u64::from(c)).wrapping_mul(PRIME);
    }
    h ^= h >> 29;
    h = h.wrapping_mul(0xbf58_476d_1ce4_e5b9);
    h ^ (h >> 32)
}

impl Keys {
    fn contains(&self, h: u64) -> bool {
        self.bloom & (1u64 << (h >> 58)) != 0
            && (self.inline[..self.len].contains(&h) || self.more.contains(&h))
    }
    fn insert(&mut self, h: u64) {
        self.bloom |= 1u64 << (h >> 58);
        if self.len < self.inline.len() {
            self.inline[self.len] = h;
            self.len += 1;
        } else {
            self.more.push(h);
        }
    }
    fn emit<S: Sink>(&mut self, sink: &mut S, k: &[u8]) {
        let h = key_hash(k);
        if !self.contains(h) {
            self.insert(h);
            return sink.key(k);
        }
        let mut n = 2;
        loop {
            let mut cand = k.to_vec();
            cand.extend_from_slice(format!("_{n}").as_bytes());
            let h = key_hash(&cand);
            if !self.contains(h) {
                sink.key(&cand);
                self.insert(h);
                return;
            }
            n += 1;
        }
    }
}

fn emit_field<S: Sink>(sink: &mut S, keys: &mut Keys, rec: &Record, f: &Field, buf: &mut Vec<u8>) {
    let name = rec.field_name(f);
    let value = rec.field_value(f);
    let kind = field_kind(rec.msg_type, name, value, f.quoted);
    keys.emit(sink, name);
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
            decode_string(value, f.quoted, buf);
            sink.begin_list();
            if !f.quoted && value.len() % 2 == 0 && value.iter().all(u8::is_ascii_hexdigit) {
                for a in buf.split(|&c| c == 0) {
                    sink.string(a);
                }
            } else {
                sink.string(buf);
            }
            sink.end_list();
        }
        _ => {
            if !f.quoted && numeric_kind(kind) {
                emit_typed_scalar(sink, value);
            } else {
                sink.string(value);
            }
            if has_interpretation(kind) {
                buf.clear();
                interpret_field_as(rec, f, kind, buf);
                let same = buf.as_slice() == value
                    || (matches!(
                        kind,
                        FieldKind::A0 | FieldKind::A1 | FieldKind::A2 | FieldKind::A3
                    ) && buf.strip_prefix(b"0x") == Some(value));
                if !same {
                    // Field names are short: upper-cased on the stack.
                    let mut small = [0u8; 32];
                    let heap;
                    let upper: &[u8] = match small.get_mut(..name.len()) {
                        Some(u) => {
                            u.copy_from_slice(name);
                            u.make_ascii_uppercase();
                            u
                        }
                        None => {
                            heap = name.to_ascii_uppercase();
                            &heap
                        }
                    };
                    keys.emit(sink, upper);
                    sink.string(buf);
                }
            }
        }
    }
}

/// The fields of one record as an object body (without begin/end).
fn emit_fields<S: Sink>(sink: &mut S, keys: &mut Keys, rec: &Record, buf: &mut Vec<u8>) {
    let mut in_msg = false;
    for f in rec.fields() {
        if f.nested && !in_msg {
            keys.emit(sink, b"msg");
            sink.begin_map();
            in_msg = true;
            // Nested names get their own namespace.
            let mut inner = Keys::default();
            for g in rec.fields().iter().filter(|g| g.nested) {
                emit_field(sink, &mut inner, rec, g, buf);
            }
            sink.end_map();
        }
        if !f.nested {
            emit_field(sink, keys, rec, f, buf);
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
    let mut buf = Vec::with_capacity(128);
    emit_record_with(sink, rec, &mut buf, &NoExtra, 0);
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
}

/// No extra members.
pub struct NoExtra;

impl Extra for NoExtra {
    fn members<S: Sink>(&self, _: usize, _: &Record, _: &mut S) {}
}

fn emit_record_with<S: Sink, X: Extra>(
    sink: &mut S,
    rec: &Record,
    buf: &mut Vec<u8>,
    extra: &X,
    index: usize,
) {
    sink.begin_map();
    let mut keys = Keys::default();
    emit_fields(sink, &mut keys, rec, buf);
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
    let mut args: Vec<Vec<u8>> = vec![Vec::new(); len];
    for &(idx, rec, f) in &present {
        match args.get_mut(idx) {
            Some(a) => decode_string(rec.field_value(f), f.quoted, a),
            None => others.push((rec, f)),
        }
    }
    sink.begin_map();
    keys.emit(sink, b"argc");
    match argc {
        Some(v) => emit_typed_scalar(sink, v),
        None => sink.uint(args.len() as u64),
    }
    if extra.execve_argv() {
        keys.emit(sink, b"argv");
        sink.begin_list();
        for a in &args {
            sink.string(a);
        }
        sink.end_list();
    }
    for (rec, f) in others {
        emit_field(sink, &mut keys, rec, f, buf);
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
    let mut buf = Vec::with_capacity(256);
    sink.begin_map();
    sink.key(b"timestamp");
    buf.clear();
    push_decimal(&mut buf, ev.timestamp.sec);
    buf.push(b'.');
    let ms = ev.timestamp.msec;
    if ms < 1000 {
        buf.extend_from_slice(&[
            b'0' + (ms / 100) as u8,
            b'0' + (ms / 10 % 10) as u8,
            b'0' + (ms % 10) as u8,
        ]);
    } else {
        push_decimal(&mut buf, u64::from(ms));
    }
    sink.string(&buf);
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
        sink.key(type_key(t).as_bytes());
        if t == msg::EXECVE {
            let recs: Vec<&Record> = same().collect();
            emit_execve(sink, &recs, &mut buf, extra, i);
        } else if is_list_type(t) || same().nth(1).is_some() {
            sink.begin_list();
            for (j, r) in ev.records.iter().enumerate().skip(i) {
                if r.msg_type == t {
                    emit_record_with(sink, r, &mut buf, extra, j);
                }
            }
            sink.end_list();
        } else {
            emit_record_with(sink, first, &mut buf, extra, i);
        }
    }
    sink.end_map();
}

/// Writes JSON text. Strings are UTF-8; bytes that are not valid UTF-8 are
/// written as `\udcXX` (lone surrogates, the same as Python's "surrogateescape"),
/// so `json.loads(...)` followed by `.encode("utf-8", "surrogateescape")` gives
/// the original bytes back.
pub struct JsonWriter<'a> {
    pub out: &'a mut Vec<u8>,
    first: Vec<bool>,
    after_key: bool,
}

impl<'a> JsonWriter<'a> {
    pub fn new(out: &'a mut Vec<u8>) -> JsonWriter<'a> {
        JsonWriter {
            out,
            first: Vec::with_capacity(8),
            after_key: false,
        }
    }

    fn value_prefix(&mut self) {
        if self.after_key {
            self.after_key = false;
            return;
        }
        if let Some(first) = self.first.last_mut() {
            if !*first {
                self.out.push(b',');
            }
            *first = false;
        }
    }
}

const HEX: &[u8; 16] = b"0123456789abcdef";

/// Append the decimal digits of `v` (no allocation).
pub(crate) fn push_decimal(out: &mut Vec<u8>, v: u64) {
    let mut buf = [0u8; 20];
    out.extend_from_slice(decimal_digits(v, &mut buf));
}

/// The decimal digits of `v`, at the end of `buf`.
pub(crate) fn decimal_digits(mut v: u64, buf: &mut [u8; 20]) -> &[u8] {
    let mut i = buf.len();
    loop {
        i -= 1;
        buf[i] = b'0' + (v % 10) as u8;
        v /= 10;
        if v == 0 {
            break;
        }
    }
    &buf[i..]
}

/// Append `s` as a JSON string literal.
pub fn write_json_string(out: &mut Vec<u8>, s: &[u8]) {
    out.push(b'"');
    // Fast path: printable ASCII without quote or backslash goes out as is.
    if is_plain_ascii(s) {
        out.extend_from_slice(s);
        out.push(b'"');
        return;
    }
    let mut rest = s;
    loop {
        match std::str::from_utf8(rest) {
            Ok(valid) => {
                escape_str(out, valid.as_bytes());
                break;
            }
            Err(e) => {
                let (good, bad) = rest.split_at(e.valid_up_to());
                escape_str(out, good);
                let n = e.error_len().unwrap_or(bad.len());
                for &c in &bad[..n] {
                    out.extend_from_slice(b"\\udc");
                    out.push(HEX[usize::from(c >> 4)]);
                    out.push(HEX[usize::from(c & 0xf)]);
                }
                rest = &bad[n..];
            }
        }
    }
    out.push(b'"');
}

/// Printable ASCII without `"` or `\\` (nothing to escape), eight bytes at a
/// time: a byte below 0x20, from 0x7f up, or equal to `"` or `\\` sets the
/// high bit of its lane in `flag` (SWAR; a carry out of an 0xff lane can only
/// add a flag where one is set already).
fn is_plain_ascii(s: &[u8]) -> bool {
    const LO: u64 = 0x0101_0101_0101_0101;
    const HI: u64 = 0x8080_8080_8080_8080;
    let zero_in = |x: u64| x.wrapping_sub(LO) & !x & HI;
    let mut chunks = s.chunks_exact(8);
    for c in &mut chunks {
        let mut a = [0u8; 8];
        a.copy_from_slice(c);
        let x = u64::from_le_bytes(a);
        let flag = x.wrapping_sub(LO * 0x20) & !x & HI // < 0x20
            | (x | x.wrapping_add(LO)) & HI // >= 0x7f
            | zero_in(x ^ (LO * u64::from(b'"')))
            | zero_in(x ^ (LO * u64::from(b'\\')));
        if flag != 0 {
            return false;
        }
    }
    chunks
        .remainder()
        .iter()
        .all(|&c| (0x20..0x7f).contains(&c) && c != b'"' && c != b'\\')
}

fn escape_str(out: &mut Vec<u8>, s: &[u8]) {
    let mut last = 0;
    for (i, &c) in s.iter().enumerate() {
        let esc: &[u8] = match c {
            b'"' => b"\\\"",
            b'\\' => b"\\\\",
            b'\n' => b"\\n",
            b'\r' => b"\\r",
            b'\t' => b"\\t",
            0..=0x1f | 0x7f => b"",
            _ => continue,
        };
        out.extend_from_slice(&s[last..i]);
        if esc.is_empty() {
            out.extend_from_slice(b"\\u00");
            out.push(HEX[usize::from(c >> 4)]);
            out.push(HEX[usize::from(c & 0xf)]);
        } else {
            out.extend_from_slice(esc);
        }
        last = i + 1;
    }
    out.extend_from_slice(&s[last..]);
}

impl Sink for JsonWriter<'_> {
    fn begin_map(&mut self) {
        self.value_prefix();
        self.out.push(b'{');
        self.first.push(true);
    }
    fn end_map(&mut self) {
        self.first.pop();
        self.out.push(b'}');
    }
    fn begin_list(&mut self) {
        self.value_prefix();
        self.out.push(b'[');
        self.first.push(true);
    }
    fn end_list(&mut self) {
        self.first.pop();
        self.out.push(b']');
    }
    fn key(&mut self, k: &[u8]) {
        self.value_prefix();
        write_json_string(self.out, k);
        self.out.push(b':');
        self.after_key = true;
    }
    fn string(&mut self, s: &[u8]) {
        self.value_prefix();
        write_json_string(self.out, s);
    }
    fn int(&mut self, v: i64) {
        self.value_prefix();
        if v < 0 {
            self.out.push(b'-');
        }
        push_decimal(self.out, v.unsigned_abs());
    }
    fn uint(&mut self, v: u64) {
        self.value_prefix();
        push_decimal(self.out, v);
    }
    fn boolean(&mut self, b: bool) {
        self.value_prefix();
        self.out
            .extend_from_slice(if b { b"true" } else { b"false" });
    }
    fn null(&mut self) {
        self.value_prefix();
        self.out.extend_from_slice(b"null");
    }
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

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn plain_naive(s: &[u8]) -> bool {
        s.iter()
            .all(|&c| (0x20..0x7f).contains(&c) && c != b'"' && c != b'\\')
    }

    #[test]
    fn plain_ascii_edges() {
        for c in 0..=255u8 {
            for pos in 0..17 {
                let mut s = vec![b'a'; 17];
                s[pos] = c;
                assert_eq!(is_plain_ascii(&s), plain_naive(&s), "byte {c:#x} at {pos}");
            }
        }
    }

    proptest! {
        #[test]
        fn plain_ascii_agrees_with_the_byte_loop(s in proptest::collection::vec(any::<u8>(), 0..64)) {
            prop_assert_eq!(is_plain_ascii(&s), plain_naive(&s));
        }
        #[test]
        fn plain_ascii_agrees_on_mostly_printable(s in "[ -~]{0,40}", c in any::<u8>(), at in 0usize..40) {
            let mut b = s.into_bytes();
            if !b.is_empty() {
                let i = at % b.len();
                b[i] = c;
            }
            prop_assert_eq!(is_plain_ascii(&b), plain_naive(&b));
        }
    }
}
