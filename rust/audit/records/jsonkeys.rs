//! The keys of a record's JSON object: kept unique (`name_2`, `name_3`, ...),
//! and for record layouts seen before, escaped once per layout instead of
//! per field.

use std::collections::HashMap;

use super::interpret::{name_kind, FieldKind};
use super::json::{type_key, Sink};
use super::jsonwrite::write_json_string;
use super::parse::Record;

/// Key names of one object, to keep them unique (`name_2`, `name_3`, ...).
/// Remembers 64-bit hashes only: a collision would at worst add a suffix. A
/// 512-bit filter answers most lookups of a record's (mostly new) keys
/// without scanning the hashes.
pub(super) struct Keys {
    inline: [u64; 48],
    len: usize,
    more: Vec<u64>,
    bloom: [u64; 8],
}

impl Default for Keys {
    fn default() -> Keys {
        Keys {
            inline: [0; 48],
            len: 0,
            more: Vec::new(),
            bloom: [0; 8],
        }
    }
}

/// FNV-1a over 8-byte words (then the tail bytes), with a final mix so the
/// top nine bits (the bloom filter's index) depend on every byte.
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
    /// The filter's word and bit for `h` (its top nine bits).
    fn bit(h: u64) -> (usize, u64) {
        ((h >> 61) as usize, 1u64 << ((h >> 55) & 63))
    }
    fn contains(&self, h: u64) -> bool {
        let (w, b) = Keys::bit(h);
        self.bloom[w] & b != 0 && (self.inline[..self.len].contains(&h) || self.more.contains(&h))
    }
    fn insert(&mut self, h: u64) {
        let (w, b) = Keys::bit(h);
        self.bloom[w] |= b;
        if self.len < self.inline.len() {
            self.inline[self.len] = h;
            self.len += 1;
        } else {
            self.more.push(h);
        }
    }
    pub(super) fn emit<S: Sink>(&mut self, sink: &mut S, k: &[u8]) {
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

/// Where a field's keys come from: checked one by one for uniqueness, or a
/// layout's (unique by construction, escaped already).
pub(super) enum FieldKeys<'a> {
    Checked(&'a mut Keys),
    /// The JSON text of the key and of the UPPER-case key, and the latter's name.
    Known {
        key: &'a [u8],
        upper: &'a [u8],
        upper_name: &'a [u8],
    },
}

impl FieldKeys<'_> {
    /// The field's own key, `name`.
    pub(super) fn name<S: Sink>(&mut self, sink: &mut S, name: &[u8]) {
        match self {
            FieldKeys::Checked(keys) => keys.emit(sink, name),
            FieldKeys::Known { key, .. } => sink.key_json(name, key),
        }
    }

    /// The key of the field's interpretation: `name` in upper case.
    pub(super) fn upper<S: Sink>(&mut self, sink: &mut S, name: &[u8]) {
        let keys = match self {
            FieldKeys::Checked(keys) => keys,
            FieldKeys::Known {
                upper, upper_name, ..
            } => return sink.key_json(upper_name, upper),
        };
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
        keys.emit(sink, upper)
    }
}

/// One field of a [`Layout`].
struct LayoutField {
    /// Its kind when the name decides it.
    kind: Option<FieldKind>,
    /// Its name in `names` (and `upper_names`); its key, then its
    /// UPPER-case key, in `json` (`key_start..key_end..upper_end`).
    name_start: u32,
    name_end: u32,
    key_start: u32,
    key_end: u32,
    upper_end: u32,
}

/// The field names of a record type's records in one order, with their keys
/// as JSON text (`"name":`, `"NAME":`): the layout of records that repeat.
/// Only layouts whose keys cannot collide are used (a field name repeated, or
/// one equal to another's UPPER-case key, takes the checked path).
pub(super) struct Layout {
    msg_type: u16,
    names: Vec<u8>,
    /// The names in upper case (the same lengths).
    upper_names: Vec<u8>,
    json: Vec<u8>,
    fields: Vec<LayoutField>,
    /// Its keys are unique whatever the values (else it is never used).
    unique: bool,
}

impl Layout {
    fn new(rec: &Record) -> Layout {
        let mut l = Layout {
            msg_type: rec.msg_type,
            names: Vec::new(),
            upper_names: Vec::new(),
            json: Vec::new(),
            fields: Vec::with_capacity(rec.fields().len()),
            unique: true,
        };
        let mut all: Vec<Vec<u8>> = Vec::with_capacity(2 * rec.fields().len());
        for f in rec.fields() {
            let name = rec.field_name(f);
            l.unique &= !f.nested;
            let kind = name_kind(rec.msg_type, name);
            let (name_start, key_start) = (l.names.len() as u32, l.json.len() as u32);
            l.names.extend_from_slice(name);
            write_json_string(&mut l.json, name);
            l.json.push(b':');
            let key_end = l.json.len() as u32;
            let upper = name.to_ascii_uppercase();
            l.upper_names.extend_from_slice(&upper);
            write_json_string(&mut l.json, &upper);
            l.json.push(b':');
            l.fields.push(LayoutField {
                kind,
                name_start,
                key_start,
                name_end: l.names.len() as u32,
                key_end,
                upper_end: l.json.len() as u32,
            });
            all.push(name.to_vec());
            // A kind without interpretation never writes its UPPER key.
            if kind.is_none_or(super::json::has_interpretation) {
                all.push(upper);
            }
        }
        all.sort_unstable();
        l.unique &= all.windows(2).all(|w| w[0] != w[1]);
        l
    }

    /// Whether `rec` has this layout.
    fn fits(&self, rec: &Record) -> bool {
        if rec.msg_type != self.msg_type || rec.fields().len() != self.fields.len() {
            return false;
        }
        rec.fields().iter().zip(&self.fields).all(|(f, lf)| {
            let name = &self.names[lf.name_start as usize..lf.name_end as usize];
            same_name(rec.field_name(f), name)
        })
    }

    /// Field `i`'s kind (when its name decides it) and keys.
    pub(super) fn field(&self, i: usize) -> (Option<FieldKind>, FieldKeys<'_>) {
        let f = &self.fields[i];
        let (key, upper) = (f.key_end as usize, f.upper_end as usize);
        let keys = FieldKeys::Known {
            key: &self.json[f.key_start as usize..key],
            upper: &self.json[key..upper],
            upper_name: &self.upper_names[f.name_start as usize..f.name_end as usize],
        };
        (f.kind, keys)
    }
}

/// `a == b` for short field names without a call to `memcmp`: two
/// overlapping words compared (of eight bytes, or four under eight; under
/// four, the first, middle and last bytes).
fn same_name(a: &[u8], b: &[u8]) -> bool {
    let n = a.len();
    if n != b.len() {
        return false;
    }
    let w4 = |s: &[u8], i: usize| u32::from_le_bytes([s[i], s[i + 1], s[i + 2], s[i + 3]]);
    let w8 = |s: &[u8], i: usize| {
        let mut w = [0u8; 8];
        w.copy_from_slice(&s[i..i + 8]);
        u64::from_le_bytes(w)
    };
    match n {
        0 => true,
        1..=3 => a[0] == b[0] && a[n / 2] == b[n / 2] && a[n - 1] == b[n - 1],
        4..=7 => w4(a, 0) == w4(b, 0) && w4(a, n - 4) == w4(b, n - 4),
        8..=16 => w8(a, 0) == w8(b, 0) && w8(a, n - 8) == w8(b, n - 8),
        _ => a == b,
    }
}

/// Layouts per record type kept (the most recent ones).
const LAYOUTS_PER_TYPE: usize = 8;
/// Record types with layouts kept; more types start the cache afresh.
const LAYOUT_TYPES: usize = 256;

/// The layouts of the records written recently, and the event object's key
/// for their type, per record type.
#[derive(Default)]
pub(super) struct Layouts {
    by_type: HashMap<u16, TypeLayouts, foldhash::fast::RandomState>,
}

#[derive(Default)]
struct TypeLayouts {
    layouts: Vec<Layout>,
    /// The one replaced next when all places are taken.
    next: usize,
    /// The type's key (its name) and that key's JSON text; empty until asked.
    key: Box<[u8]>,
    key_json: Box<[u8]>,
}

impl Layouts {
    fn entry(&mut self, t: u16) -> &mut TypeLayouts {
        if self.by_type.len() >= LAYOUT_TYPES && !self.by_type.contains_key(&t) {
            self.by_type.clear();
        }
        self.by_type.entry(t).or_default()
    }

    /// The key of record type `t` in the event object, and its JSON text.
    pub(super) fn type_key(&mut self, t: u16) -> (&[u8], &[u8]) {
        let e = self.entry(t);
        if e.key.is_empty() {
            let key = type_key(t);
            let mut json = Vec::with_capacity(key.len() + 3);
            write_json_string(&mut json, key.as_bytes());
            json.push(b':');
            e.key = key.as_bytes().into();
            e.key_json = json.into();
        }
        (&e.key, &e.key_json)
    }

    /// The layout of `rec` when its keys are unique whatever its values; a
    /// record with a parse error (extra keys) has none.
    pub(super) fn of(&mut self, rec: &Record) -> Option<&Layout> {
        if rec.error().is_some() {
            return None;
        }
        let TypeLayouts { layouts, next, .. } = self.entry(rec.msg_type);
        let i = match layouts.iter().position(|l| l.fits(rec)) {
            Some(i) => i,
            None if layouts.len() < LAYOUTS_PER_TYPE => {
                layouts.push(Layout::new(rec));
                layouts.len() - 1
            }
            None => {
                // Replaced in turn: a type with many layouts costs a build per
                // record, never unbounded memory.
                let i = *next % LAYOUTS_PER_TYPE;
                *next = i + 1;
                layouts[i] = Layout::new(rec);
                i
            }
        };
        layouts.get(i).filter(|l| l.unique)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::audit::records::json::{emit_fields, JsonWriter, Translation};
    use crate::audit::records::parse_log_line_lenient;
    use proptest::prelude::*;

    /// The record's fields as written with its layout (if it has one) and
    /// with every key checked, under each translation.
    fn both_ways(line: &str) -> Vec<(Vec<u8>, Vec<u8>)> {
        let rec = parse_log_line_lenient(line.as_bytes());
        let mut layouts = Layouts::default();
        let mut buf = Vec::new();
        let mut out = Vec::new();
        for (ids, universal, drop_raw) in [
            (true, true, false),
            (false, true, true),
            (true, false, true),
        ] {
            let tr = Translation {
                ids,
                universal,
                drop_raw,
            };
            let mut with = Vec::new();
            let mut checked = Vec::new();
            // Twice with the cache: the layout built, then found.
            for _ in 0..2 {
                with.clear();
                let layout = layouts.of(&rec);
                emit_fields(
                    &mut JsonWriter::new(&mut with),
                    (&rec, layout),
                    &mut buf,
                    tr,
                );
            }
            emit_fields(
                &mut JsonWriter::new(&mut checked),
                (&rec, None),
                &mut buf,
                tr,
            );
            out.push((with, checked));
        }
        out
    }

    #[test]
    fn layouts_write_what_checked_keys_write() {
        for line in [
            "type=SYSCALL msg=audit(1.000:1): arch=c000003e syscall=59 success=yes exit=0 uid=0 comm=\"id\" key=(null)",
            // A repeated name and an UPPER-case key that collides: no layout.
            "type=SYSCALL msg=audit(1.000:1): uid=0 uid=1 UID=7 gid=0",
            "type=PATH msg=audit(1.000:1): item=0 name=\"/x\" mode=0100644 ouid=0 OUID=\"root\"",
            "type=USER_CMD msg=audit(1.000:1): pid=1 uid=0 msg='cwd=\"/\" cmd=6C73 res=success'",
            "type=TRUSTED_APP msg=audit(1.000:1): acct=123 x=61 y=zz",
        ] {
            for (with, checked) in both_ways(line) {
                assert_eq!(String::from_utf8_lossy(&with), String::from_utf8_lossy(&checked), "{line}");
            }
        }
    }

    proptest! {
        #[test]
        fn layouts_agree_on_any_names(
            names in proptest::collection::vec("(uid|UID|gid|a0|A0|arch|ARCH|key|comm|acct|[a-z_]{1,20})", 1..12),
            values in proptest::collection::vec("[0-9a-f]{1,8}|\"[ -~&&[^\"]]{0,10}\"|\\(null\\)", 12),
        ) {
            let body: Vec<String> = names.iter().zip(&values).map(|(n, v)| format!("{n}={v}")).collect();
            let line = format!("type=SYSCALL msg=audit(1.000:1): {}", body.join(" "));
            for (with, checked) in both_ways(&line) {
                prop_assert_eq!(&with, &checked, "{}", line);
            }
        }

        #[test]
        fn same_name_is_equality(a in proptest::collection::vec(any::<u8>(), 0..24), b in proptest::collection::vec(any::<u8>(), 0..24), eq in any::<bool>()) {
            let b = if eq { a.clone() } else { b };
            prop_assert_eq!(same_name(&a, &b), a == b);
            let mut c = a.clone();
            if let Some(x) = c.last_mut() {
                *x ^= 1;
                prop_assert!(!same_name(&a, &c));
            }
        }
    }
}
