//! The record parser: one audit record's text (a netlink payload or an auditd
//! log line) split into header (type, timestamp, serial, node) and fields.
//!
//! A record keeps its bytes once; every field is a pair of byte ranges into
//! them (zero-copy). Values the parser has to build (AVC `seperms`) live in a
//! small side buffer. Nothing is decoded here: hex strings, names and numbers
//! are interpreted on demand by [`super::interpret`].
//!
//! Tokenizing follows auparse (audit-userspace 3.0.9 `auparse/ellist.c`,
//! `parse_up_record`) so the same fields come out: space separated `name=value`
//! pairs, `msg=audit(...)` skipped, the nested `msg='...'` of user records parsed
//! as fields, trailing `:` `,` `'` `)` stripped from unquoted values, empty
//! values dropped. One deliberate difference: a double-quoted value runs to its
//! closing quote even if it holds a space (auparse would cut it; the kernel never
//! writes such a value, user-space senders may).

use super::tokens::{next_space, BodyToken, BodyTokens};
use crate::audit::tables::{self, msg};
use std::fmt;

/// ASCII group separator between the raw record and auditd's ENRICHED part.
pub const ENRICHMENT_SEPARATOR: u8 = 0x1d;

/// A byte range `start..end` into a record's bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Span {
    pub start: u32,
    pub end: u32,
}

impl Span {
    fn new(start: usize, end: usize) -> Span {
        // Records are capped at MAX_RECORD_LEN (< u32::MAX) before spans are made.
        Span {
            start: start as u32,
            end: end as u32,
        }
    }
    pub fn range(self) -> std::ops::Range<usize> {
        self.start as usize..self.end as usize
    }
    pub fn is_empty(self) -> bool {
        self.start >= self.end
    }
}

/// Longest record we accept: netlink payloads are at most ~9 KiB (MAX_AUDIT_MESSAGE_LENGTH
/// 8970), auditd log lines up to a few KiB more with enrichment; 16 MiB leaves room for
/// anything legitimate while keeping spans in u32.
pub const MAX_RECORD_LEN: usize = 16 << 20;

/// One `name=value` pair. `value` excludes surrounding double quotes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Field {
    pub name: Span,
    pub value: Span,
    /// The value was written in double quotes (a plain string, never hex).
    pub quoted: bool,
    /// Name and value live in the record's side buffer, not in its text.
    pub synthetic: bool,
    /// The field was inside the nested `msg='...'` of a user record.
    pub nested: bool,
    /// Index of auditd's ENRICHED value for this field name, or [`NO_ENRICHMENT`].
    pub enrich: u8,
}

/// [`Field::enrich`] when auditd wrote no interpretation for the field.
pub const NO_ENRICHMENT: u8 = u8::MAX;

/// The last second `datetime` can show (9999-12-31T23:59:59Z); a later time
/// stamp is kept but marks its record with an error.
pub const MAX_DATETIME_SECONDS: u64 = 253_402_300_799;

/// The time stamp of a record exactly as the kernel wrote it: `audit(SEC.MSEC:SERIAL)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Timestamp {
    pub sec: u64,
    pub msec: u32,
}

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{:03}", self.sec, self.msec)
    }
}

/// Why a record could not be parsed completely. The record is still returned
/// by the stream paths, with this note and its raw text.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ParseError {
    #[error("empty record")]
    Empty,
    #[error("record longer than {MAX_RECORD_LEN} bytes")]
    TooLong,
    #[error("no 'audit(SECONDS.MILLISECONDS:SERIAL):' header")]
    MissingHeader,
    #[error("malformed header: {0}")]
    BadHeader(&'static str),
    /// The record is kept (and grouped) with the time stamp read as well as
    /// possible; see [`parse_header`].
    #[error("odd time stamp: {0}")]
    OddTimestamp(&'static str),
    #[error("no 'type=' in log line")]
    MissingType,
    #[error("unknown record type name {0:?}")]
    UnknownTypeName(String),
}

/// One parsed audit record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Record {
    text: Box<[u8]>,
    side: Box<[u8]>,
    pub msg_type: u16,
    pub timestamp: Timestamp,
    pub serial: u64,
    node: Option<Span>,
    body: Span,
    fields: Box<[Field]>,
    /// The body's fields, then the ENRICHED part's (one allocation).
    /// `n_fields` says where the body's end.
    n_fields: u32,
    /// Facts auparse gathers per record for interpretation.
    pub(crate) arch: Option<u32>,
    pub(crate) syscall: Option<u64>,
    pub(crate) a0: u64,
    pub(crate) a1: u64,
    /// The machine of `arch` and the name of `syscall` on it (looked up once).
    pub(crate) machine: Option<tables::Machine>,
    pub(crate) syscall_name: Option<&'static str>,
    error: Option<ParseError>,
    /// The daemon's log line for this record, kept for its sinks.
    line: Option<Box<[u8]>>,
}

impl Record {
    /// The record as received: the netlink payload, or the whole log line
    /// (without its line end).
    pub fn text(&self) -> &[u8] {
        &self.text
    }
    /// The part after the header, up to the enrichment separator.
    pub fn body(&self) -> &[u8] {
        &self.text[self.body.range()]
    }
    pub fn node(&self) -> Option<&[u8]> {
        self.node.map(|s| &self.text[s.range()])
    }
    pub fn error(&self) -> Option<&ParseError> {
        self.error.as_ref()
    }
    pub fn fields(&self) -> &[Field] {
        self.fields
            .get(..self.n_fields as usize)
            .unwrap_or_default()
    }
    pub fn enriched_fields(&self) -> &[Field] {
        self.fields
            .get(self.n_fields as usize..)
            .unwrap_or_default()
    }
    pub fn field_name(&self, f: &Field) -> &[u8] {
        if f.synthetic {
            &self.side[f.name.range()]
        } else {
            &self.text[f.name.range()]
        }
    }
    pub fn field_value(&self, f: &Field) -> &[u8] {
        if f.synthetic {
            &self.side[f.value.range()]
        } else {
            &self.text[f.value.range()]
        }
    }
    /// The first field of that name.
    pub fn find(&self, name: &[u8]) -> Option<(usize, &Field)> {
        self.fields()
            .iter()
            .enumerate()
            .find(|(_, f)| self.field_name(f) == name)
    }
    /// The raw value of the first field of that name (quotes removed).
    pub fn get(&self, name: &[u8]) -> Option<&[u8]> {
        self.find(name).map(|(_, f)| self.field_value(f))
    }
    /// The ENRICHED value auditd wrote for field `f`, if any.
    pub fn field_enrichment(&self, f: &Field) -> Option<&[u8]> {
        if f.enrich == NO_ENRICHMENT {
            return None;
        }
        self.enriched_fields()
            .get(usize::from(f.enrich))
            .map(|e| &self.text[e.value.range()])
    }
    /// The ENRICHED value auditd wrote for a field (matched case-insensitively,
    /// as auparse lowercases the enrichment names).
    pub fn enrichment(&self, name: &[u8]) -> Option<&[u8]> {
        self.enriched_fields()
            .iter()
            .find(|f| self.field_name(f).eq_ignore_ascii_case(name))
            .map(|f| self.field_value(f))
    }
    /// Records built by the stream paths when even the header is unreadable.
    pub(crate) fn unparsable(msg_type: u16, text: &[u8], error: ParseError) -> Record {
        let mut text = text.to_vec();
        text.truncate(MAX_RECORD_LEN);
        let len = text.len();
        let mut rec = Record::new(
            text.into_boxed_slice(),
            Box::default(),
            msg_type,
            (Timestamp::default(), 0),
            None,
            Span::new(0, len),
            (Box::default(), 0),
        );
        rec.error = Some(error);
        rec
    }
    /// A record without the per-record facts (see [`gather_facts`]) or an error.
    fn new(
        text: Box<[u8]>,
        side: Box<[u8]>,
        msg_type: u16,
        (timestamp, serial): (Timestamp, u64),
        node: Option<Span>,
        body: Span,
        (fields, n_fields): (Box<[Field]>, u32),
    ) -> Record {
        Record {
            text,
            side,
            msg_type,
            timestamp,
            serial,
            node,
            body,
            fields,
            n_fields,
            arch: None,
            syscall: None,
            a0: 0,
            a1: 0,
            machine: None,
            syscall_name: None,
            error: None,
            line: None,
        }
    }
    /// The log line the daemon wrote for this record (without its line end),
    /// when it kept it for its sinks: they send the very text it logged.
    pub fn line(&self) -> Option<&[u8]> {
        self.line.as_deref()
    }
    pub(crate) fn set_line(&mut self, line: &[u8]) {
        self.line = Some(line.into());
    }
}

fn trim_line_end(mut b: &[u8]) -> &[u8] {
    while let [rest @ .., b'\n' | b'\r' | 0] = b {
        b = rest;
    }
    b
}

fn parse_u64(b: &[u8]) -> Option<u64> {
    if b.is_empty() || b.len() > 20 {
        return None;
    }
    let mut v: u64 = 0;
    for &c in b {
        if !c.is_ascii_digit() {
            return None;
        }
        v = v.checked_mul(10)?.checked_add(u64::from(c - b'0'))?;
    }
    Some(v)
}

fn parse_hex_u64(b: &[u8]) -> Option<u64> {
    if b.is_empty() || b.len() > 16 {
        return None;
    }
    let mut v: u64 = 0;
    for &c in b {
        let d = match c {
            b'0'..=b'9' => c - b'0',
            b'a'..=b'f' => c - b'a' + 10,
            b'A'..=b'F' => c - b'A' + 10,
            _ => return None,
        };
        v = (v << 4) | u64::from(d);
    }
    Some(v)
}

/// A parsed `audit(...)` header: time stamp, serial, the offset just after
/// it, and a fault that does not stop the record from being used.
type Header = (Timestamp, u64, usize, Option<ParseError>);

/// Parse `audit(SEC.MSEC:SERIAL):` starting at `pos` (which points at "audit(").
///
/// The kernel always writes three digits of milliseconds (`audit_log_start`,
/// "%llu.%03lu"). Other digit counts are read as the decimal fraction they
/// say (`.5` is 500 ms, `.1234` is 123 ms) and noted as an odd time stamp, as
/// is a time past year 9999 (beyond what `datetime` can show).
fn parse_header(b: &[u8], pos: usize) -> Result<Header, ParseError> {
    let rest = b.get(pos..).ok_or(ParseError::MissingHeader)?;
    let inner = rest
        .strip_prefix(b"audit(")
        .ok_or(ParseError::MissingHeader)?;
    let close = memchr(b')', inner).ok_or(ParseError::BadHeader("no ')'"))?;
    let stamp = &inner[..close];
    let dot = memchr(b'.', stamp).ok_or(ParseError::BadHeader("no '.' in time stamp"))?;
    let colon = memchr(b':', stamp).ok_or(ParseError::BadHeader("no ':' before the serial"))?;
    if colon < dot {
        return Err(ParseError::BadHeader("':' before '.'"));
    }
    let sec = parse_u64(&stamp[..dot]).ok_or(ParseError::BadHeader("bad seconds"))?;
    let digits = &stamp[dot + 1..colon];
    if digits.is_empty() || !digits.iter().all(u8::is_ascii_digit) {
        return Err(ParseError::BadHeader("bad milliseconds"));
    }
    let msec = digits
        .iter()
        .chain(std::iter::repeat(&b'0'))
        .take(3)
        .fold(0u32, |v, &c| v * 10 + u32::from(c - b'0'));
    let serial = parse_u64(&stamp[colon + 1..]).ok_or(ParseError::BadHeader("bad serial"))?;
    let odd = if digits.len() != 3 {
        Some(ParseError::OddTimestamp(
            "milliseconds not written with three digits",
        ))
    } else if sec > MAX_DATETIME_SECONDS {
        Some(ParseError::OddTimestamp("past the year 9999"))
    } else {
        None
    };
    let mut end = pos + 6 + close + 1;
    if b.get(end) == Some(&b':') {
        end += 1;
    }
    Ok((Timestamp { sec, msec }, serial, end, odd))
}

#[inline]
fn memchr(needle: u8, hay: &[u8]) -> Option<usize> {
    find_byte(hay, needle)
}

/// The first `needle` in `hay`, eight bytes at a time (SWAR: a zero byte in
/// `word ^ needle*8` is a match).
#[inline]
pub(crate) fn find_byte(hay: &[u8], needle: u8) -> Option<usize> {
    let rep = LO.wrapping_mul(u64::from(needle));
    find_words(hay, |w| zero_bytes(w ^ rep), |c| c == needle)
}

/// The first `a` or `b` in `hay`, eight bytes at a time.
#[inline]
pub(crate) fn find_either(hay: &[u8], a: u8, b: u8) -> Option<usize> {
    let (ra, rb) = (LO.wrapping_mul(u64::from(a)), LO.wrapping_mul(u64::from(b)));
    find_words(
        hay,
        |w| zero_bytes(w ^ ra) | zero_bytes(w ^ rb),
        |c| c == a || c == b,
    )
}

const LO: u64 = 0x0101_0101_0101_0101;

/// The high bit of each zero byte of `x`; bytes above the lowest zero byte
/// may be flagged falsely (borrows), so only the lowest flag is used.
#[inline(always)]
fn zero_bytes(x: u64) -> u64 {
    x.wrapping_sub(LO) & !x & 0x8080_8080_8080_8080
}

/// The first byte where `flags` (of a little-endian word) flags one, then
/// the tail byte by byte with `is`.
#[inline(always)]
fn find_words(hay: &[u8], flags: impl Fn(u64) -> u64, is: impl Fn(u8) -> bool) -> Option<usize> {
    let mut chunks = hay.chunks_exact(8);
    let mut base = 0;
    for c in &mut chunks {
        let mut a = [0u8; 8];
        a.copy_from_slice(c);
        let t = flags(u64::from_le_bytes(a));
        if t != 0 {
            return Some(base + (t.trailing_zeros() / 8) as usize);
        }
        base += 8;
    }
    chunks
        .remainder()
        .iter()
        .position(|&c| is(c))
        .map(|p| base + p)
}

/// Parse a netlink payload (what the kernel sends: `audit(...): fields`).
pub fn parse_payload(msg_type: u16, data: &[u8]) -> Result<Record, ParseError> {
    let rec = parse_payload_soft(msg_type, data)?;
    match rec.error {
        Some(e) => Err(e),
        None => Ok(rec),
    }
}

/// Like [`parse_payload`], but a record whose only fault is an odd time stamp
/// is still parsed, with the fault noted.
pub(crate) fn parse_payload_soft(msg_type: u16, data: &[u8]) -> Result<Record, ParseError> {
    let (data, (timestamp, serial, hdr_end, odd)) = payload_header(data)?;
    let mut rec = build(data, msg_type, timestamp, serial, None, hdr_end);
    rec.error = odd;
    Ok(rec)
}

/// The `(time stamp, serial)` of a record's payload, from its header alone
/// (no copy); `None` when it has no readable header.
pub(crate) fn payload_id(data: &[u8]) -> Option<(Timestamp, u64)> {
    payload_header(data)
        .ok()
        .map(|(_, (t, serial, _, _))| (t, serial))
}

/// The payload without its line end, and its header.
fn payload_header(data: &[u8]) -> Result<(&[u8], Header), ParseError> {
    let data = trim_line_end(data);
    if data.is_empty() {
        return Err(ParseError::Empty);
    }
    if data.len() > MAX_RECORD_LEN {
        return Err(ParseError::TooLong);
    }
    let start = data.iter().position(|&c| c != b' ').unwrap_or(0);
    Ok((data, parse_header(data, start)?))
}

/// Parse one auditd log line (`[node=N ]type=T msg=audit(...): fields[\x1dENRICHED]`).
pub fn parse_log_line(line: &[u8]) -> Result<Record, ParseError> {
    let rec = parse_log_line_soft(line)?;
    match rec.error {
        Some(e) => Err(e),
        None => Ok(rec),
    }
}

/// Like [`parse_log_line`], but a line whose only fault is an unknown type name
/// (type 0, as auparse does) or an odd time stamp is still parsed, with the
/// fault noted.
pub(crate) fn parse_log_line_soft(line: &[u8]) -> Result<Record, ParseError> {
    let line = trim_line_end(line);
    if line.is_empty() {
        return Err(ParseError::Empty);
    }
    if line.len() > MAX_RECORD_LEN {
        return Err(ParseError::TooLong);
    }
    let (node, name, payload) = log_line_head(line)?;
    let (msg_type, soft_error) = match type_from_name(name) {
        Ok(t) => (t, None),
        Err(e) => (0, Some(e)),
    };
    let (timestamp, serial, hdr_end, odd) = parse_header(line, payload)?;
    let mut rec = build(line, msg_type, timestamp, serial, node, hdr_end);
    rec.error = soft_error.or(odd);
    Ok(rec)
}

/// The head of an auditd log line, `[node=N ]type=T msg=`: the node's span,
/// the type's name, and where the payload (`audit(...)...`) starts.
pub(crate) fn log_line_head(line: &[u8]) -> Result<(Option<Span>, &[u8], usize), ParseError> {
    let mut pos = 0;
    let mut node = None;
    if let Some(rest) = line.strip_prefix(b"node=") {
        let end = memchr(b' ', rest).ok_or(ParseError::MissingType)?;
        node = Some(Span::new(5, 5 + end));
        pos = 5 + end + 1;
    }
    let rest = line[pos..]
        .strip_prefix(b"type=")
        .ok_or(ParseError::MissingType)?;
    let name_end = memchr(b' ', rest).ok_or(ParseError::MissingHeader)?;
    pos += 5 + name_end + 1;
    if !line[pos..].starts_with(b"msg=") {
        return Err(ParseError::MissingHeader);
    }
    Ok((node, &rest[..name_end], pos + 4))
}

/// `SYSCALL` or `UNKNOWN[1234]` to a type number.
pub fn type_from_name(name: &[u8]) -> Result<u16, ParseError> {
    if let Some(num) = name
        .strip_prefix(b"UNKNOWN[")
        .and_then(|r| r.strip_suffix(b"]"))
    {
        if let Some(n) = parse_u64(num).and_then(|n| u16::try_from(n).ok()) {
            return Ok(n);
        }
    }
    if let Some(t) = TYPE_CACHE.with(|c| c.borrow().iter().find(|(n, _)| **n == *name).map(|e| e.1))
    {
        return Ok(t);
    }
    let s = std::str::from_utf8(name)
        .map_err(|_| ParseError::UnknownTypeName(String::from_utf8_lossy(name).into_owned()))?;
    let t =
        tables::message_type_by_name(s).ok_or_else(|| ParseError::UnknownTypeName(s.to_owned()))?;
    TYPE_CACHE.with(|c| {
        let mut c = c.borrow_mut();
        if c.len() < 64 {
            c.push((name.into(), t));
        }
    });
    Ok(t)
}

thread_local! {
    /// Type names seen in `type=` lately: a log repeats a handful of them.
    static TYPE_CACHE: std::cell::RefCell<Vec<(Box<[u8]>, u16)>> =
        const { std::cell::RefCell::new(Vec::new()) };
}

/// The field tokenizer and the per-record facts.
fn build(
    text: &[u8],
    msg_type: u16,
    timestamp: Timestamp,
    serial: u64,
    node: Option<Span>,
    body_start: usize,
) -> Record {
    // The whole body is scanned: SIMD (memchr) beats words here.
    let sep = memchr::memchr(ENRICHMENT_SEPARATOR, &text[body_start..]).map(|p| body_start + p);
    let body_end = sep.unwrap_or(text.len());
    let is_avc = msg_type == msg::AVC || msg_type == msg::USER_AVC;
    SCRATCH.with(|scratch| {
        let mut scratch = scratch.borrow_mut();
        let (fields, enriched, side) = &mut *scratch;
        fields.clear();
        enriched.clear();
        side.clear();
        tokenize(text, body_start, body_end, is_avc, fields, side);
        if let Some(sep) = sep {
            tokenize_enrichment(text, sep + 1, text.len(), enriched);
            link_enrichment(text, fields, enriched);
        }
        let n_fields = fields.len() as u32;
        fields.extend_from_slice(enriched);
        let mut rec = Record::new(
            text.into(),
            side.as_slice().into(),
            msg_type,
            (timestamp, serial),
            node,
            Span::new(body_start, body_end),
            (fields.as_slice().into(), n_fields),
        );
        gather_facts(&mut rec);
        rec
    })
}

type Scratch = (Vec<Field>, Vec<Field>, Vec<u8>);

thread_local! {
    /// Reused per thread so parsing a record allocates only what it keeps.
    static SCRATCH: std::cell::RefCell<Scratch> =
        std::cell::RefCell::new((Vec::with_capacity(64), Vec::with_capacity(16), Vec::new()));
}

/// A 6-bit hash of a field name, case-insensitive (for the enrichment filter).
#[inline]
fn name_bit(name: &[u8]) -> u64 {
    let first = name.first().map_or(0, u8::to_ascii_lowercase);
    let last = name.last().map_or(0, u8::to_ascii_lowercase);
    1u64 << ((usize::from(first) * 7 + usize::from(last) * 3 + name.len()) & 63)
}

/// Point every field at auditd's ENRICHED value of the same name (auparse looks
/// them up by name, case-insensitively, first one wins).
fn link_enrichment(text: &[u8], fields: &mut [Field], enriched: &[Field]) {
    let mut mask = 0u64;
    for e in enriched.iter().take(usize::from(NO_ENRICHMENT)) {
        mask |= name_bit(&text[e.name.range()]);
    }
    for f in fields.iter_mut().filter(|f| !f.synthetic) {
        let name = &text[f.name.range()];
        if mask & name_bit(name) == 0 {
            continue;
        }
        if let Some(i) = enriched
            .iter()
            .take(usize::from(NO_ENRICHMENT))
            .position(|e| text[e.name.range()].eq_ignore_ascii_case(name))
        {
            f.enrich = i as u8;
        }
    }
}

/// auparse remembers `arch`, `syscall`, `a0` and `a1` of a record to interpret
/// other fields (syscall names need the arch; socketcall/ipc need a0). It
/// takes them by position, where the kernel writes them in SYSCALL records
/// (arch, syscall first; a0, a1 fifth and sixth) and SECCOMP records (arch,
/// syscall tenth and eleventh) — `auparse/ellist.c` — and so do we, so that
/// both read the same record the same way.
fn gather_facts(rec: &mut Record) {
    let (mut arch, mut syscall, mut a0, mut a1) = (None, None, 0, 0);
    for (i, f) in rec.fields().iter().enumerate().take(11) {
        if f.synthetic {
            continue;
        }
        let name = &rec.text[f.name.range()];
        let v = &rec.text[f.value.range()];
        match (i, name) {
            (0 | 9, b"arch") => {
                arch = Some(
                    parse_hex_u64(v)
                        .and_then(|a| u32::try_from(a).ok())
                        .unwrap_or(u32::MAX),
                )
            }
            (1 | 10, b"syscall") => syscall = parse_u64(v),
            (4, b"a0") => a0 = parse_hex_u64(v).unwrap_or(u64::MAX),
            (5, b"a1") => a1 = parse_hex_u64(v).unwrap_or(u64::MAX),
            _ => {}
        }
    }
    rec.arch = arch;
    rec.syscall = syscall;
    rec.a0 = a0;
    rec.a1 = a1;
    rec.machine = arch.and_then(tables::machine_for_audit_arch);
    rec.syscall_name = match (rec.machine, syscall) {
        (Some(m), Some(nr)) => u32::try_from(nr)
            .ok()
            .and_then(|nr| tables::syscall_name(m, nr)),
        _ => None,
    };
}

fn tokenize(
    b: &[u8],
    start: usize,
    end: usize,
    is_avc: bool,
    fields: &mut Vec<Field>,
    side: &mut Vec<u8>,
) {
    let b = &b[..end];
    let mut tokens = BodyTokens::new(b, start, end);
    let mut avc_words = 0u8;
    let mut nested = false;
    while let Some(token) = tokens.next() {
        match token {
            // SELinux AVC records label two bare words (auparse: seresult, seperms).
            BodyToken::Word { start, end: j } if is_avc => {
                tokens.resume_at(avc_word(b, start, j, end, fields, side, &mut avc_words));
            }
            BodyToken::Word { .. } => {}
            // The nested message of a user record: what is inside is fields.
            BodyToken::NestedMessage => nested = true,
            BodyToken::Field {
                name,
                value,
                quoted,
                ..
            } => fields.push(Field {
                name: Span::new(name.0, name.1),
                value: Span::new(value.0, value.1),
                quoted,
                synthetic: false,
                nested,
                enrich: NO_ENRICHMENT,
            }),
        }
    }
}

fn avc_word(
    b: &[u8],
    tok: usize,
    j: usize,
    end: usize,
    fields: &mut Vec<Field>,
    side: &mut Vec<u8>,
    seen: &mut u8,
) -> usize {
    let word = &b[tok..j];
    if word.starts_with(b"avc") {
        return j;
    }
    // auparse labels them only where the kernel's AVC puts them: before any field.
    if *seen == 0 && word != b"{" && fields.is_empty() {
        *seen = 1;
        fields.push(side_field(side, b"seresult", |side| {
            side.extend_from_slice(word)
        }));
        return j;
    }
    if word == b"{" && *seen == 1 && fields.len() == 1 {
        *seen = 2;
        let mut k = j;
        fields.push(side_field(side, b"seperms", |side| {
            let mut first = true;
            loop {
                while k < end && b[k] == b' ' {
                    k += 1;
                }
                if k >= end {
                    break;
                }
                let w_end = next_space(&b[..end], k);
                let w = &b[k..w_end];
                k = w_end;
                if w == b"}" {
                    break;
                }
                if !first {
                    side.push(b',');
                }
                first = false;
                side.extend_from_slice(w);
            }
        }));
        return k;
    }
    j
}

/// A field the parser makes (AVC's `seresult`, `seperms`): its name, and the
/// value `write_value` appends, live in the side buffer.
fn side_field(side: &mut Vec<u8>, name: &[u8], write_value: impl FnOnce(&mut Vec<u8>)) -> Field {
    let s = side.len();
    side.extend_from_slice(name);
    let n = side.len();
    write_value(side);
    Field {
        name: Span::new(s, n),
        value: Span::new(n, side.len()),
        quoted: false,
        synthetic: true,
        nested: false,
        enrich: NO_ENRICHMENT,
    }
}

/// The ENRICHED part: `NAME=value` pairs; values may be quoted or, for SADDR,
/// a brace group with spaces. Values are kept as written (auparse keeps the
/// quotes and strips them only for uid/gid names).
fn tokenize_enrichment(b: &[u8], start: usize, end: usize, out: &mut Vec<Field>) {
    let mut i = start;
    while i < end {
        while i < end && b[i] == b' ' {
            i += 1;
        }
        if i >= end {
            break;
        }
        let tok = i;
        let j = i + find_either(&b[i..end], b' ', b'=').unwrap_or(end - i);
        if j >= end || b[j] == b' ' {
            i = j;
            continue;
        }
        let v = j + 1;
        let vend = if b.get(v) == Some(&b'{') {
            b[v..end]
                .iter()
                .position(|&c| c == b'}')
                .map_or(end, |p| v + p + 1)
        } else if b.get(v) == Some(&b'"') {
            find_byte(&b[v + 1..end], b'"').map_or(end, |p| v + 1 + p + 1)
        } else {
            next_space(&b[..end], v)
        };
        if vend > v {
            out.push(Field {
                name: Span::new(tok, j),
                value: Span::new(v, vend),
                quoted: false,
                synthetic: false,
                nested: false,
                enrich: NO_ENRICHMENT,
            });
        }
        i = vend;
    }
}
