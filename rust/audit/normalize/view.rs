//! An event seen the way libauparse's cursor sees it: numbered records, each
//! a numbered list of fields, and a cursor with auparse's exact moves.
//!
//! auparse (audit-userspace 3.0.9 `auparse/ellist.c` `parse_up_record`) makes
//! `type` (after `node`, when the line has one) the first field of every
//! record, keeps double quotes in a field's raw value, and splits a
//! multi-key `key=` (hex, keys joined by 0x01) into one `key` field per key.
//! The normalizer addresses fields by (record number, field number) and walks
//! them with `auparse_find_field`, which scans forward across records
//! (`auparse/auparse.c`), so this view numbers fields the same way and the
//! cursor below reproduces every move, including where it ends up when a
//! search falls off the end of the event.

use std::borrow::Cow;

use crate::audit::records::interpret::{field_kind, interpret_field, FieldKind};
use crate::audit::records::{names, parse_log_line, Event, Field, Record};

/// Where one field of a view came from.
#[derive(Debug, Clone)]
enum Origin<'a> {
    /// A field the record parser found.
    Parsed(&'a Field),
    /// `node` or `type`: auparse makes them fields; their value is plain text.
    Header,
    /// One key of a multi-key `key=` field, as a one-field record of its
    /// own (so it is interpreted as any key is).
    KeyPart(Box<Record>),
}

#[derive(Debug, Clone)]
pub(crate) struct ViewField<'a> {
    pub name: &'a [u8],
    /// The value as auparse stores it (`auparse_get_field_str`): quotes kept.
    pub raw: Cow<'a, [u8]>,
    origin: Origin<'a>,
}

#[derive(Debug)]
pub(crate) struct ViewRecord<'a> {
    pub record: &'a Record,
    pub fields: Vec<ViewField<'a>>,
}

/// An event's records in auparse's numbering.
#[derive(Debug)]
pub(crate) struct View<'a> {
    pub records: Vec<ViewRecord<'a>>,
}

/// The separator auparse splits multi-key values at (`AUDIT_KEY_SEPARATOR`).
const KEY_SEPARATOR: u8 = 0x01;

fn unhex(v: &[u8]) -> Option<Vec<u8>> {
    if v.len() % 2 != 0 {
        return None;
    }
    v.chunks_exact(2)
        .map(|p| {
            let s = std::str::from_utf8(p).ok()?;
            u8::from_str_radix(s, 16).ok()
        })
        .collect()
}

/// ellist.c `escape()`: a key auparse re-encodes after splitting: quoted if
/// it is plain printable ASCII without '"', else upper-case hex.
fn escape_key(k: &[u8]) -> Vec<u8> {
    if k.iter().any(|&c| c == b'"' || !(0x21..=0x7e).contains(&c)) {
        k.iter()
            .flat_map(|c| format!("{c:02X}").into_bytes())
            .collect()
    } else {
        let mut v = Vec::with_capacity(k.len() + 2);
        v.push(b'"');
        v.extend_from_slice(k);
        v.push(b'"');
        v
    }
}

impl<'a> View<'a> {
    pub fn new(event: &'a Event) -> View<'a> {
        View {
            records: event.records.iter().map(view_record).collect(),
        }
    }

    pub fn count(&self) -> usize {
        self.records.len()
    }

    pub fn field(&self, record: usize, field: usize) -> Option<&ViewField<'a>> {
        self.records.get(record)?.fields.get(field)
    }

    pub fn record_type(&self, record: usize) -> u16 {
        self.records.get(record).map_or(0, |r| r.record.msg_type)
    }

    /// auparse's field type (`auparse_get_field_type`).
    pub fn kind(&self, record: usize, field: usize) -> FieldKind {
        let Some(r) = self.records.get(record) else {
            return FieldKind::Unclassified;
        };
        match r.fields.get(field) {
            Some(ViewField {
                origin: Origin::Parsed(f),
                ..
            }) => field_kind(
                r.record.msg_type,
                r.record.field_name(f),
                r.record.field_value(f),
                f.quoted,
            ),
            Some(ViewField {
                origin: Origin::KeyPart(_),
                ..
            }) => FieldKind::EscapedKey,
            _ => FieldKind::Unclassified,
        }
    }

    /// `auparse_interpret_field` for one field.
    pub fn interpret(&self, record: usize, field: usize) -> Vec<u8> {
        let mut out = Vec::new();
        let Some(r) = self.records.get(record) else {
            return out;
        };
        if let Some(vf) = r.fields.get(field) {
            match &vf.origin {
                Origin::Parsed(f) => interpret_field(r.record, f, &mut out),
                // Type and node names are plain printable text.
                Origin::Header => out.extend_from_slice(&vf.raw),
                Origin::KeyPart(k) => {
                    if let Some(f) = k.fields().first() {
                        interpret_field(k, f, &mut out);
                    }
                }
            }
        }
        out
    }

    /// The event's working directory: auparse keeps the last CWD record's
    /// `cwd` for `auparse_interpret_realpath`.
    pub fn cwd(&self) -> Option<(usize, usize)> {
        self.records.iter().enumerate().rev().find_map(|(i, r)| {
            if r.record.msg_type != crate::audit::tables::msg::CWD {
                return None;
            }
            r.fields
                .iter()
                .position(|f| f.name == b"cwd")
                .map(|j| (i, j))
        })
    }
}

pub(crate) fn type_name(t: u16) -> Cow<'static, [u8]> {
    match names::message_type_name(t) {
        Some(n) => Cow::Borrowed(n.as_bytes()),
        None => Cow::Owned(format!("UNKNOWN[{t}]").into_bytes()),
    }
}

fn view_record(rec: &Record) -> ViewRecord<'_> {
    let mut fields = Vec::with_capacity(rec.fields().len() + 2);
    if let Some(node) = rec.node() {
        fields.push(ViewField {
            name: b"node",
            raw: Cow::Borrowed(node),
            origin: Origin::Header,
        });
    }
    fields.push(ViewField {
        name: b"type",
        raw: type_name(rec.msg_type),
        origin: Origin::Header,
    });
    let text = rec.text();
    for f in rec.fields() {
        let name = rec.field_name(f);
        let value = rec.field_value(f);
        let raw: Cow<'_, [u8]> = if f.quoted && !f.synthetic {
            // The quotes sit right around the value span in the record text.
            let r = f.value.range();
            match text.get(r.start.wrapping_sub(1)..r.end + 1) {
                Some(q) if r.start > 0 => Cow::Borrowed(q),
                _ => Cow::Owned([&b"\""[..], value, b"\""].concat()),
            }
        } else {
            Cow::Borrowed(value)
        };
        if name == b"key" && !f.quoted && !value.starts_with(b"(") {
            if let Some(keys) = unhex(value) {
                for k in keys
                    .split(|&c| c == KEY_SEPARATOR)
                    .filter(|k| !k.is_empty())
                {
                    let hex: String = k.iter().map(|c| format!("{c:02X}")).collect();
                    let line = format!("type=SYSCALL msg=audit(0.000:0): key={hex}");
                    if let Ok(part) = parse_log_line(line.as_bytes()) {
                        fields.push(ViewField {
                            name: b"key",
                            raw: Cow::Owned(escape_key(k)),
                            origin: Origin::KeyPart(Box::new(part)),
                        });
                    }
                }
                continue;
            }
        }
        fields.push(ViewField {
            name,
            raw,
            origin: Origin::Parsed(f),
        });
    }
    ViewRecord {
        record: rec,
        fields,
    }
}

/// auparse's cursor: a current record (or none, after a search ran off the
/// end) and, per record, a current field that persists while other records
/// are visited.
pub(crate) struct Cursor<'v, 'a> {
    pub view: &'v View<'a>,
    cur: Option<usize>,
    field_cur: Vec<usize>,
    find_name: Vec<u8>,
}

/// What `auparse_get_field_int` returns and whether errno stayed 0.
pub(crate) struct FieldInt {
    pub value: i32,
    pub ok: bool,
}

/// `strtol(v, NULL, 10)` on a 64-bit long, then the cast to int.
pub(crate) fn strtol_int(v: &[u8]) -> FieldInt {
    let s = v
        .iter()
        .position(|c| !c.is_ascii_whitespace())
        .map_or(&[][..], |p| &v[p..]);
    let (neg, digits) = match s.first() {
        Some(b'-') => (true, &s[1..]),
        Some(b'+') => (false, &s[1..]),
        _ => (false, s),
    };
    let mut acc: i128 = 0;
    for &c in digits.iter().take_while(|c| c.is_ascii_digit()) {
        acc = acc * 10 + i128::from(c - b'0');
        if acc > i128::from(i64::MAX) + 1 {
            return FieldInt {
                value: -1,
                ok: false,
            };
        }
    }
    let signed = if neg { -acc } else { acc };
    match i64::try_from(signed) {
        Ok(l) => FieldInt {
            value: l as i32,
            ok: true,
        },
        Err(_) => FieldInt {
            value: -1,
            ok: false,
        },
    }
}

impl<'v, 'a> Cursor<'v, 'a> {
    pub fn new(view: &'v View<'a>) -> Cursor<'v, 'a> {
        Cursor {
            view,
            cur: if view.count() > 0 { Some(0) } else { None },
            field_cur: vec![0; view.count()],
            find_name: Vec::new(),
        }
    }

    fn fields(&self, r: usize) -> &[ViewField<'a>] {
        &self.view.records[r].fields
    }

    pub fn num_records(&self) -> usize {
        self.view.count()
    }

    pub fn first_record(&mut self) -> bool {
        if self.view.count() == 0 {
            return false;
        }
        self.cur = Some(0);
        self.field_cur[0] = 0;
        true
    }

    /// Moves to the next record without resetting its field cursor.
    pub fn next_record(&mut self) -> bool {
        match self.cur {
            Some(r) if r + 1 < self.view.count() => {
                self.cur = Some(r + 1);
                true
            }
            Some(_) => {
                self.cur = None;
                false
            }
            None => false,
        }
    }

    pub fn goto_record(&mut self, n: usize) -> bool {
        if n >= self.view.count() {
            return false;
        }
        self.cur = Some(n);
        self.field_cur[n] = 0;
        true
    }

    pub fn record_num(&self) -> usize {
        self.cur.unwrap_or(0)
    }

    pub fn record_type(&self) -> u16 {
        self.cur.map_or(0, |r| self.view.record_type(r))
    }

    pub fn first_field(&mut self) -> bool {
        match self.cur {
            Some(r) => {
                self.field_cur[r] = 0;
                true
            }
            None => false,
        }
    }

    pub fn next_field(&mut self) -> bool {
        let Some(r) = self.cur else { return false };
        let n = self.fields(r).len();
        if n > 0 && self.field_cur[r] < n - 1 {
            self.field_cur[r] += 1;
            true
        } else {
            false
        }
    }

    pub fn field_num(&self) -> usize {
        self.cur.map_or(0, |r| self.field_cur[r])
    }

    pub fn goto_field(&mut self, n: usize) -> bool {
        let Some(r) = self.cur else { return false };
        if n >= self.fields(r).len() {
            return false;
        }
        self.field_cur[r] = n;
        true
    }

    fn current(&self) -> Option<&ViewField<'a>> {
        let r = self.cur?;
        self.fields(r).get(self.field_cur[r])
    }

    pub fn field_name(&self) -> Option<&'a [u8]> {
        self.current().map(|f| f.name)
    }

    pub fn field_str(&self) -> Option<&[u8]> {
        self.current().map(|f| &*f.raw)
    }

    pub fn field_kind(&self) -> FieldKind {
        match self.cur {
            Some(r) => self.view.kind(r, self.field_cur[r]),
            None => FieldKind::Unclassified,
        }
    }

    pub fn field_int(&self) -> FieldInt {
        match self.field_str() {
            Some(v) => strtol_int(v),
            None => FieldInt {
                value: -1,
                ok: false,
            },
        }
    }

    pub fn interpret(&self) -> Option<Vec<u8>> {
        let r = self.cur?;
        self.fields(r).get(self.field_cur[r])?;
        Some(self.view.interpret(r, self.field_cur[r]))
    }

    /// The current position as a location, if there is a current record.
    pub fn here(&self) -> super::Loc {
        super::Loc {
            record: self.record_num() as u32,
            field: self.field_num() as u32,
        }
    }

    /// `auparse_find_field`: the current field if it has that name, else the
    /// next one of that name from here to the end of the event.
    pub fn find(&mut self, name: &[u8]) -> bool {
        self.find_name.clear();
        self.find_name.extend_from_slice(name);
        let Some(r) = self.cur else { return false };
        if self.fields(r).get(self.field_cur[r]).map(|f| f.name) == Some(name) {
            return true;
        }
        self.find_next()
    }

    /// `auparse_find_field_next`: step one field, then scan forward; it gives
    /// up at once when the current record has no further field.
    pub fn find_next(&mut self) -> bool {
        let mut moved = false;
        while let Some(r) = self.cur {
            if !moved {
                if !self.next_field() {
                    return false;
                }
                moved = true;
            }
            let start = self.field_cur[r];
            let name = &self.find_name;
            if let Some(p) = self.view.records[r].fields[start..]
                .iter()
                .position(|f| f.name == &name[..])
            {
                self.field_cur[r] = start + p;
                return true;
            }
            if r + 1 < self.view.count() {
                self.cur = Some(r + 1);
                self.field_cur[r + 1] = 0;
            } else {
                self.cur = None;
            }
        }
        false
    }

    /// `auparse_find_field` that also yields the raw value, as the C returns it.
    pub fn find_str(&mut self, name: &[u8]) -> Option<&[u8]> {
        if self.find(name) {
            self.field_str()
        } else {
            None
        }
    }
}
