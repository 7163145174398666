//! Normalized events: who did what to what, how, with what result — the
//! answer libauparse's normalizer (`auparse_normalize`, audit-userspace 3.0.9
//! `auparse/normalize.c`) gives for an event; ausearch's csv/text lines built
//! on it ([`format`]); and the Elastic Common Schema document Auditbeat's
//! auditd module makes of an event ([`ecs`]).
//!
//! [`normalize`] returns field locations (record and field number in
//! auparse's numbering, see [`view`]); [`Resolved`] turns them into names,
//! raw values and interpretations.

use std::borrow::Cow;

pub mod ecs;
#[rustfmt::skip]
mod ecs_tables;
mod engine;
pub mod format;
mod simple;
mod syscall;
pub mod tables;
mod view;

pub use engine::Attributes;
pub use tables::ObjectKind;

use crate::audit::records::interpret::FieldKind;
use crate::audit::records::Event;
use view::{Cursor, View};

/// A field in auparse's numbering: record number in the event, field number
/// in the record (`type`, and `node` before it when present, count as fields).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Loc {
    pub record: u32,
    pub field: u32,
}

/// What the normalizer found, as field locations and fixed words.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Normalized {
    pub kind: Option<&'static str>,
    pub session: Option<Loc>,
    pub subject_primary: Option<Loc>,
    pub subject_secondary: Option<Loc>,
    pub subject_kind: Option<&'static str>,
    pub subject_attrs: Vec<Loc>,
    pub action: Option<Cow<'static, [u8]>>,
    pub result: Option<Loc>,
    pub object_primary: Option<Loc>,
    pub object_secondary: Option<Loc>,
    pub object_primary2: Option<Loc>,
    pub object_attrs: Vec<Loc>,
    pub object_kind: ObjectKind,
    pub how: Option<Cow<'static, [u8]>>,
    pub key: Option<Loc>,
    /// libauparse reported an error (a multi-record event without SYSCALL).
    pub failed: bool,
}

/// Normalize one event as `auparse_normalize(au, opt)` does.
pub fn normalize(event: &Event, attrs: Attributes) -> Normalized {
    let view = View::new(event);
    normalize_view(&view, attrs)
}

fn normalize_view(view: &View<'_>, attrs: Attributes) -> Normalized {
    let mut n = engine::Normalizer {
        c: Cursor::new(view),
        d: Normalized::default(),
        all: attrs == Attributes::All,
        syscall_success: -1,
    };
    if view.count() == 0 {
        n.d.failed = true;
        return n.d;
    }
    n.c.first_record();
    let ok = if view.count() > 1 {
        n.normalize_compound()
    } else {
        n.normalize_simple()
    };
    n.d.failed = !ok;
    n.d
}

/// One located field, resolved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldValue<'a> {
    pub loc: Loc,
    pub name: &'a [u8],
    /// As `auparse_get_field_str` returns it (double quotes kept).
    pub raw: &'a [u8],
    /// As `auparse_interpret_field` returns it.
    pub interpreted: Vec<u8>,
}

/// A normalized event together with its records, to read the located fields.
pub struct Resolved<'a> {
    view: View<'a>,
    pub event: &'a Event,
    pub norm: Normalized,
}

impl<'a> Resolved<'a> {
    pub fn new(event: &'a Event, attrs: Attributes) -> Resolved<'a> {
        let view = View::new(event);
        let norm = normalize_view(&view, attrs);
        Resolved { view, event, norm }
    }

    /// The field at `loc`, if the location exists (libauparse's seek fails
    /// otherwise, and its getters report nothing).
    pub fn field(&self, loc: Option<Loc>) -> Option<FieldValue<'_>> {
        let loc = loc?;
        let (r, f) = (loc.record as usize, loc.field as usize);
        let vf = self.view.field(r, f)?;
        Some(FieldValue {
            loc,
            name: vf.name,
            raw: &vf.raw,
            interpreted: self.view.interpret(r, f),
        })
    }

    pub(crate) fn raw(&self, loc: Loc) -> Option<&[u8]> {
        self.view
            .field(loc.record as usize, loc.field as usize)
            .map(|f| &*f.raw)
    }

    pub(crate) fn name(&self, loc: Loc) -> Option<&[u8]> {
        self.view
            .field(loc.record as usize, loc.field as usize)
            .map(|f| f.name)
    }

    pub(crate) fn interpret(&self, loc: Loc) -> Option<Vec<u8>> {
        self.view.field(loc.record as usize, loc.field as usize)?;
        Some(self.view.interpret(loc.record as usize, loc.field as usize))
    }

    pub(crate) fn kind(&self, loc: Loc) -> FieldKind {
        self.view.kind(loc.record as usize, loc.field as usize)
    }

    pub(crate) fn record_type(&self, loc: Loc) -> u16 {
        self.view.record_type(loc.record as usize)
    }

    /// `auparse_interpret_realpath`: a file name made absolute against the
    /// event's cwd and normalized (`print_escaped_ext` in interpret.c).
    pub(crate) fn realpath(&self, loc: Loc) -> Option<Vec<u8>> {
        let name = self.interpret(loc)?;
        let Some((cr, cf)) = self.view.cwd() else {
            return Some(name);
        };
        if name.first() == Some(&b'/') {
            if !name.windows(2).any(|w| w == b"..") {
                return Some(name);
            }
            return Some(path_norm(&name).unwrap_or(name));
        }
        let mut joined = self.view.interpret(cr, cf);
        joined.push(b'/');
        joined.extend_from_slice(&name);
        Some(path_norm(&joined).unwrap_or(joined))
    }

    /// The interpretation of the first attribute called `name` (the label:
    /// `subj` of the subject, `obj` of the object).
    pub fn label(&self, attrs: &[Loc], name: &[u8]) -> Option<Vec<u8>> {
        attrs
            .iter()
            .find(|l| self.name(**l) == Some(name))
            .and_then(|l| self.interpret(*l))
    }

    /// ausearch's reading of the result field: success or not.
    pub fn success(&self) -> Option<bool> {
        let loc = self.norm.result?;
        let v = self.interpret(loc)?;
        Some(
            v == b"yes"
                || v.starts_with(b"suc")
                || (self.kind(loc) == FieldKind::Seccomp && v == b"allow"),
        )
    }
}

/// A located field with its texts, owned (for the Python objects and ECS).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct OwnedField {
    pub loc: Loc,
    pub name: Vec<u8>,
    pub raw: Vec<u8>,
    pub interpreted: Vec<u8>,
}

/// The normalizer's answer with every location resolved.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Summary {
    pub kind: Option<&'static str>,
    pub session: Option<OwnedField>,
    pub subject_primary: Option<OwnedField>,
    pub subject_secondary: Option<OwnedField>,
    pub subject_kind: Option<&'static str>,
    pub subject_attrs: Vec<OwnedField>,
    pub action: Option<Vec<u8>>,
    pub result: Option<OwnedField>,
    pub object_primary: Option<OwnedField>,
    pub object_secondary: Option<OwnedField>,
    pub object_primary2: Option<OwnedField>,
    pub object_attrs: Vec<OwnedField>,
    /// libauparse's object kind ("unknown" when it has none).
    pub object_kind: &'static str,
    pub how: Option<Vec<u8>>,
    pub key: Option<OwnedField>,
    /// ausearch's reading of the result: true success, false failure.
    pub success: Option<bool>,
}

impl Summary {
    /// The interpretation of the first attribute called `name`.
    pub fn label<'s>(attrs: &'s [OwnedField], name: &[u8]) -> Option<&'s [u8]> {
        attrs
            .iter()
            .find(|f| f.name == name)
            .map(|f| &f.interpreted[..])
    }
}

impl Resolved<'_> {
    fn owned(&self, loc: Option<Loc>) -> Option<OwnedField> {
        self.field(loc).map(|f| OwnedField {
            loc: f.loc,
            name: f.name.to_vec(),
            raw: f.raw.to_vec(),
            interpreted: f.interpreted,
        })
    }

    fn owned_all(&self, locs: &[Loc]) -> Vec<OwnedField> {
        locs.iter().filter_map(|l| self.owned(Some(*l))).collect()
    }

    /// Every location resolved to its texts.
    pub fn summary(&self) -> Summary {
        let n = &self.norm;
        Summary {
            kind: n.kind,
            session: self.owned(n.session),
            subject_primary: self.owned(n.subject_primary),
            subject_secondary: self.owned(n.subject_secondary),
            subject_kind: n.subject_kind,
            subject_attrs: self.owned_all(&n.subject_attrs),
            action: n.action.as_ref().map(|a| a.to_vec()),
            result: self.owned(n.result),
            object_primary: self.owned(n.object_primary),
            object_secondary: self.owned(n.object_secondary),
            object_primary2: self.owned(n.object_primary2),
            object_attrs: self.owned_all(&n.object_attrs),
            object_kind: n.object_kind.name(),
            how: n.how.as_ref().map(|h| h.to_vec()),
            key: self.owned(n.key),
            success: self.success(),
        }
    }
}

/// Normalize an event (attributes collected) and resolve every part.
pub fn summarize(event: &Event) -> Summary {
    Resolved::new(event, Attributes::All).summary()
}

/// interpret.c `path_norm` (after glibc realpath, without touching the
/// file system): drop empty and `.` components, back up on `..`. As in the
/// C, a trailing `..` only moves the write position, so it leaves the
/// previous component in place; a path starting with '.' is kept as is.
fn path_norm(name: &[u8]) -> Option<Vec<u8>> {
    if name.is_empty() {
        return None;
    }
    if name[0] == b'.' {
        return Some(name.to_vec());
    }
    let mut buf: Vec<u8> = Vec::with_capacity(name.len() + 1);
    let mut dest = 0usize;
    for comp in name.split(|&c| c == b'/').filter(|c| !c.is_empty()) {
        match comp {
            b"." => {}
            b".." => {
                if dest > 1 {
                    dest -= 1;
                    while dest > 0 && buf[dest - 1] != b'/' {
                        dest -= 1;
                    }
                }
            }
            _ => {
                if dest == 0 || buf[dest - 1] != b'/' {
                    put(&mut buf, dest, b'/');
                    dest += 1;
                }
                buf.truncate(dest);
                buf.extend_from_slice(comp);
                dest = buf.len();
            }
        }
    }
    Some(buf)
}

fn put(buf: &mut Vec<u8>, at: usize, c: u8) {
    if at < buf.len() {
        buf[at] = c;
    } else {
        buf.push(c);
    }
}

#[cfg(test)]
mod tests;
