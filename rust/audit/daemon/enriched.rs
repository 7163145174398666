//! auditd's ENRICHED suffix: a scanner that interprets only the fields ENRICHED prints, with the full auparse-style interpreter as its reference and fallback.
//!
//! auditd (`format_enrich`, audit-userspace v3.0.9 src/auditd-event.c)
//! re-parses each record with auparse and appends ` NAME=value` for its uid,
//! gid, syscall, arch and sockaddr fields. [`enrich_full`] does the same with
//! the records module's parser and interpreter. [`enrich`] gets the same bytes
//! faster: it tokenizes the line as that parser does (without building a
//! `Record`), and takes each interpretation from a per-thread cache keyed by
//! exactly what the interpretation depends on; a miss interprets a small
//! synthetic record holding only those fields. Lines the scanner does not
//! model (AVC words, nested `msg='...'`, an ENRICHED part already present, a
//! header it cannot read) take the full path.

use std::cell::RefCell;
use std::collections::HashMap;

use crate::audit::records::interpret::{field_kind, interpret_field, resolve_ids};
use crate::audit::records::parse::{find_byte, type_from_name};
use crate::audit::records::tokens::{BodyToken, BodyTokens};
use crate::audit::records::{parse_log_line_lenient, FieldKind};
use crate::audit::tables::msg;

/// MAX_AUDIT_MESSAGE_LENGTH (libaudit.h).
pub(super) const MAX_AUDIT_MESSAGE_LENGTH: usize = 8970;
/// _POSIX_HOST_NAME_MAX.
const HOST_NAME_MAX: usize = 255;
/// auditd's FORMAT_BUF_LEN.
pub(super) const FORMAT_BUF_LEN: usize = MAX_AUDIT_MESSAGE_LENGTH + HOST_NAME_MAX;
/// auditd stops enriching with this little room left (MIN_SPACE_LEFT).
const MIN_SPACE_LEFT: usize = 24;
/// AUDIT_INTERP_SEPARATOR: between the raw record and its enrichment.
pub const INTERP_SEPARATOR: u8 = 0x1d;
/// Cached interpretations kept per thread before the cache starts over.
const CACHE_LIMIT: usize = 4096;

/// Whether ENRICHED prints a field of this kind, and if so whether its value
/// is encoded as `audit_encode_nv_string` does (uid/gid names).
fn enriched_kind(kind: FieldKind) -> Option<bool> {
    match kind {
        FieldKind::Uid | FieldKind::Gid => Some(true),
        FieldKind::Syscall | FieldKind::Arch | FieldKind::Sockaddr => Some(false),
        _ => None,
    }
}

/// Appends the ` NAME=value` items with auditd's separator and room rules.
struct Emitter {
    room: usize,
    sep_done: u32,
    /// Every item was written (none left out for want of room).
    complete: bool,
}

impl Emitter {
    fn new(line_len: usize) -> Option<Emitter> {
        let room = FORMAT_BUF_LEN.saturating_sub(line_len);
        (room > MIN_SPACE_LEFT).then_some(Emitter {
            room,
            sep_done: 0,
            complete: true,
        })
    }

    /// No room for more; the items not yet pushed are left out.
    fn full(&mut self) -> bool {
        let full = self.room <= MIN_SPACE_LEFT;
        self.complete &= !full;
        full
    }

    fn push(&mut self, out: &mut Vec<u8>, name: &[u8], encode: bool, value: &[u8]) {
        let value: &[u8] = if value.is_empty() { b"?" } else { value };
        let name = &name[..name.len().min(63)];
        let hex = encode && needs_encoding(value);
        let value_len = match (encode, hex) {
            (true, true) => 2 * value.len(),
            (true, false) => value.len() + 2,
            _ => value.len(),
        };
        let item_len = name.len() + 1 + value_len;
        // `add_separator`: the first field writes 0x1d (even if the field
        // then does not fit); later ones start with a space.
        self.sep_done += 1;
        if self.sep_done == 1 {
            out.push(INTERP_SEPARATOR);
            self.room -= 1;
        }
        // A field that does not fit is left out, not cut.
        if item_len + 2 >= self.room {
            self.complete = false;
            return;
        }
        if self.sep_done > 1 {
            out.push(b' ');
            self.room -= 1;
        }
        out.extend(name.iter().map(u8::to_ascii_uppercase));
        out.push(b'=');
        if hex {
            const HEX: &[u8; 16] = b"0123456789ABCDEF";
            for &b in value {
                out.push(HEX[usize::from(b >> 4)]);
                out.push(HEX[usize::from(b & 15)]);
            }
        } else if encode {
            out.push(b'"');
            out.extend_from_slice(value);
            out.push(b'"');
        } else {
            out.extend_from_slice(value);
        }
        self.room -= item_len;
    }
}

/// `audit_value_needs_encoding` (with C's signed char: bytes >= 0x80 count as < 0x21).
fn needs_encoding(v: &[u8]) -> bool {
    v.iter().any(|&c| c == b'"' || !(0x21..0x7f).contains(&c))
}

/// Append the ENRICHED part to the RAW line at `out[start..]`.
pub(super) fn enrich(out: &mut Vec<u8>, start: usize) {
    let done = SCRATCH.with(|s| enrich_fast(out, start, &mut s.borrow_mut()));
    if !done {
        enrich_full(out, start);
    }
}

/// The reference: the line re-parsed as auparse does, every field's kind
/// looked up, the five kinds interpreted.
pub(super) fn enrich_full(out: &mut Vec<u8>, start: usize) {
    let rec = parse_log_line_lenient(&out[start..]);
    let Some(mut em) = Emitter::new(out.len() - start) else {
        return;
    };
    let mut value = Vec::with_capacity(32);
    for f in rec.fields() {
        if em.full() {
            break;
        }
        let name = rec.field_name(f);
        let Some(encode) =
            enriched_kind(field_kind(rec.msg_type, name, rec.field_value(f), f.quoted))
        else {
            continue;
        };
        value.clear();
        interpret_field(&rec, f, &mut value);
        em.push(out, name, encode, &value);
    }
}

/// One field as the records parser's tokenizer finds it (offsets into the line).
#[derive(Clone, Copy)]
struct Tok {
    /// The whole token as written (`name=value` up to the next space).
    raw: (usize, usize),
    name: (usize, usize),
    value: (usize, usize),
    quoted: bool,
}

/// A field to print: its name and interpretation as ranges of `Scratch::buf`.
#[derive(Clone, Copy)]
struct Item {
    name: (usize, usize),
    value: (usize, usize),
    encode: bool,
}

#[derive(Default)]
struct Scratch {
    toks: Vec<Tok>,
    /// The fields to print, in field order.
    items: Vec<Item>,
    buf: Vec<u8>,
    key: Vec<u8>,
    synthetic: Vec<u8>,
    /// One field's interpretation, by what it depends on.
    cache: Cache,
    line_key: Vec<u8>,
    /// A whole line's ENRICHED part, by everything it depends on.
    lines: Cache,
}

type Cache = HashMap<Box<[u8]>, Box<[u8]>, foldhash::fast::RandomState>;

thread_local! {
    static SCRATCH: RefCell<Scratch> = RefCell::new(Scratch::default());
}

/// `parse_log_line`'s line-end trim.
fn trim_line_end(mut b: &[u8]) -> &[u8] {
    while let [rest @ .., b'\n' | b'\r' | 0] = b {
        b = rest;
    }
    b
}

/// The record type and where the body starts, if the header is one the full
/// parser reads without complaint (anything else takes the full path).
fn header(line: &[u8]) -> Option<(u16, usize)> {
    let mut pos = 0;
    if let Some(rest) = line.strip_prefix(b"node=") {
        pos = 5 + find_byte(rest, b' ')? + 1;
    }
    let rest = line[pos..].strip_prefix(b"type=")?;
    let name_end = find_byte(rest, b' ')?;
    let t = type_from_name(&rest[..name_end]).ok()?;
    pos += 5 + name_end + 1;
    let inner = line[pos..].strip_prefix(b"msg=audit(")?;
    let close = find_byte(inner, b')')?;
    let stamp = &inner[..close];
    let dot = find_byte(stamp, b'.')?;
    let colon = find_byte(stamp, b':')?;
    let digits =
        |s: &[u8], max: usize| !s.is_empty() && s.len() <= max && s.iter().all(u8::is_ascii_digit);
    let ok = colon > dot
        && digits(&stamp[..dot], 19)
        && digits(&stamp[dot + 1..colon], 9)
        && digits(&stamp[colon + 1..], 19);
    if !ok {
        return None;
    }
    let mut end = pos + 10 + close + 1;
    if line.get(end) == Some(&b':') {
        end += 1;
    }
    Some((t, end))
}

/// The records parser's tokens, for lines without AVC words or a nested
/// message (`false`: the line has one; take the full path).
fn tokenize(b: &[u8], start: usize, toks: &mut Vec<Tok>) -> bool {
    for token in BodyTokens::new(b, start, b.len()) {
        match token {
            BodyToken::Word { .. } => {}
            BodyToken::NestedMessage => return false,
            BodyToken::Field {
                raw,
                name,
                value,
                quoted,
            } => toks.push(Tok {
                raw,
                name,
                value,
                quoted,
            }),
        }
    }
    true
}

/// Whether the field at `p` is one auparse takes a fact from (arch, syscall;
/// see the records parser's `gather_facts`). a0 also counts, but only for
/// socketcall and ipc, which are never cached.
fn syscall_fact(b: &[u8], t: &Tok, p: usize) -> bool {
    match &b[t.name.0..t.name.1] {
        b"arch" => p == 0 || p == 9,
        b"syscall" => p == 1 || p == 10,
        b"a0" => p == 4,
        _ => false,
    }
}

/// The fast path; `false` (having written nothing) if the line needs the full one.
fn enrich_fast(out: &mut Vec<u8>, start: usize, s: &mut Scratch) -> bool {
    let line_len = out.len() - start;
    let b = trim_line_end(&out[start..]);
    let Some((rtype, body)) = header(b) else {
        return false;
    };
    if rtype == msg::AVC
        || rtype == msg::USER_AVC
        || find_byte(&b[body..], INTERP_SEPARATOR).is_some()
    {
        return false;
    }
    s.toks.clear();
    if !tokenize(b, body, &mut s.toks) {
        return false;
    }
    let resolve = resolve_ids();
    line_key(b, rtype, resolve, &s.toks, &mut s.line_key);
    if let Some(suffix) = s.lines.get(s.line_key.as_slice()) {
        // With this much room every item fits, so the line's ENRICHED part
        // is the cached one whatever the line's length.
        if line_len + suffix.len() + MIN_SPACE_LEFT + 2 < FORMAT_BUF_LEN {
            out.extend_from_slice(suffix);
            return true;
        }
    }
    let cacheable = interpret_fields(b, rtype, body, resolve, s);
    let Some(mut em) = Emitter::new(line_len) else {
        return true;
    };
    let suffix_start = out.len();
    for it in &s.items {
        if em.full() {
            break;
        }
        let (n, v) = (it.name, it.value);
        em.push(out, &s.buf[n.0..n.1], it.encode, &s.buf[v.0..v.1]);
    }
    if cacheable && em.complete {
        if s.lines.len() >= CACHE_LIMIT {
            s.lines.clear();
        }
        s.lines
            .insert(s.line_key.as_slice().into(), out[suffix_start..].into());
    }
    true
}

/// The key of a line's ENRICHED part: the record type, whether ids are
/// resolved, and, with its position (the syscall interpretation reads arch
/// and syscall by position), every field that is printed or that a syscall
/// interpretation reads. A field's raw token determines its name, value and
/// quoting, hence its kind and interpretation. Fields like pid or a1 are
/// left out, so one key serves every call of a process.
fn line_key(b: &[u8], rtype: u16, resolve: bool, toks: &[Tok], key: &mut Vec<u8>) {
    key.clear();
    key.push(u8::from(resolve));
    key.extend_from_slice(&rtype.to_le_bytes());
    for (i, t) in toks.iter().enumerate() {
        let name = &b[t.name.0..t.name.1];
        if !may_be_enriched(name) {
            continue;
        }
        let fact = i < 11 && name != b"a0" && syscall_fact(b, t, i);
        if !fact {
            let value = &b[t.value.0..t.value.1];
            if enriched_kind(field_kind(rtype, name, value, t.quoted)).is_none() {
                continue;
            }
        }
        let raw = &b[t.raw.0..t.raw.1];
        key.push(i.min(11) as u8);
        key.extend_from_slice(&(raw.len() as u32).to_le_bytes());
        key.extend_from_slice(raw);
    }
}

/// Interpret the printed fields of the line `b` into `s.items` (each from
/// the per-field cache, or from a small synthetic record). `false` if one of
/// them depends on more than the line key holds (socketcall, ipc: a0).
fn interpret_fields(b: &[u8], rtype: u16, body: usize, resolve: bool, s: &mut Scratch) -> bool {
    let mut cacheable = true;
    s.items.clear();
    s.buf.clear();
    for (i, t) in s.toks.iter().enumerate() {
        let name = &b[t.name.0..t.name.1];
        if !may_be_enriched(name) {
            continue;
        }
        let value = &b[t.value.0..t.value.1];
        let kind = field_kind(rtype, name, value, t.quoted);
        let Some(encode) = enriched_kind(kind) else {
            continue;
        };
        // The key: what the interpretation depends on.
        s.key.clear();
        s.key.push(u8::from(resolve));
        s.key.push(u8::from(t.quoted));
        if kind == FieldKind::Syscall {
            s.key.extend_from_slice(b"S");
            s.key.extend_from_slice(&(i.min(11) as u32).to_le_bytes());
            for (p, f) in s.toks.iter().enumerate().take(11) {
                if p != 4 && syscall_fact(b, f, p) {
                    s.key.push(p as u8);
                    s.key.extend_from_slice(&b[f.raw.0..f.raw.1]);
                    s.key.push(0);
                }
            }
            s.key.extend_from_slice(&b[t.raw.0..t.raw.1]);
        } else {
            s.key.push(kind_tag(kind));
            s.key.extend_from_slice(value);
        }
        let n0 = s.buf.len();
        s.buf.extend_from_slice(name);
        let v0 = s.buf.len();
        match s.cache.get(s.key.as_slice()) {
            Some(hit) => s.buf.extend_from_slice(hit),
            None => {
                // A record holding only what the interpretation reads.
                s.synthetic.clear();
                s.synthetic.extend_from_slice(&b[..body]);
                let index = if kind == FieldKind::Syscall {
                    for (p, f) in s.toks.iter().enumerate().take(11) {
                        s.synthetic.push(b' ');
                        if p == i || syscall_fact(b, f, p) {
                            s.synthetic.extend_from_slice(&b[f.raw.0..f.raw.1]);
                        } else {
                            s.synthetic.extend_from_slice(b"x=0");
                        }
                    }
                    if i >= 11 {
                        s.synthetic.push(b' ');
                        s.synthetic.extend_from_slice(&b[t.raw.0..t.raw.1]);
                    }
                    i.min(11)
                } else {
                    s.synthetic.push(b' ');
                    s.synthetic.extend_from_slice(&b[t.raw.0..t.raw.1]);
                    0
                };
                let rec = parse_log_line_lenient(&s.synthetic);
                if let Some(f) = rec.fields().get(index) {
                    interpret_field(&rec, f, &mut s.buf);
                }
                let got = &s.buf[v0..];
                // socketcall and ipc sub-calls depend on a0, which the key leaves out.
                let a0_bound = kind == FieldKind::Syscall
                    && (got.starts_with(b"socketcall") || got.starts_with(b"ipc"));
                cacheable &= !a0_bound;
                if !a0_bound {
                    if s.cache.len() >= CACHE_LIMIT {
                        s.cache.clear();
                    }
                    s.cache.insert(s.key.as_slice().into(), got.into());
                }
            }
        }
        s.items.push(Item {
            name: (n0, v0),
            value: (v0, s.buf.len()),
            encode,
        });
    }
    cacheable
}

/// A cheap necessary condition for [`enriched_kind`]: every uid and gid
/// field name auparse knows ends in "id" (`field_kind`'s name table), the
/// others are arch, syscall and saddr.
fn may_be_enriched(name: &[u8]) -> bool {
    name.ends_with(b"id") || matches!(name, b"arch" | b"syscall" | b"saddr")
}

fn kind_tag(kind: FieldKind) -> u8 {
    match kind {
        FieldKind::Uid => b'u',
        FieldKind::Gid => b'g',
        FieldKind::Arch => b'a',
        _ => b'o',
    }
}

/// Forget cached interpretations (with the records module's id cache, e.g.
/// after /etc/passwd changed).
pub fn flush_cache() {
    SCRATCH.with(|s| {
        let mut s = s.borrow_mut();
        s.cache.clear();
        s.lines.clear();
    });
}

#[cfg(test)]
#[path = "enriched_tests.rs"]
mod tests;

#[cfg(test)]
#[path = "enriched_cache_tests.rs"]
mod cache_tests;
