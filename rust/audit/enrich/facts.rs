//! The facts of one event the enricher works from: its SYSCALL record's pid,
//! ppid, syscall, result, comm, exe, keys and uid; its EXECVE arguments; the
//! first PATH item and the CWD of an exec; its socket addresses.

use std::borrow::Cow;

use crate::audit::records::interpret::decode_string;
use crate::audit::records::{Event, Field, Record};
use crate::audit::tables::msg;

/// A PATH record's name and, when given, its (device, inode).
pub type PathItem<'a> = (Cow<'a, [u8]>, Option<(u64, u64)>);

/// Borrowed from the event where the log's text is the value (quoted strings),
/// decoded where it is hex.
#[derive(Debug, Default)]
pub struct Facts<'a> {
    /// Index of the SYSCALL record in the event.
    pub syscall_index: Option<usize>,
    pub execve_index: Option<usize>,
    pub pid: u32,
    pub ppid: u32,
    pub uid: Option<u32>,
    pub syscall: Option<&'static str>,
    pub success: Option<bool>,
    pub exit: Option<i64>,
    pub a0: u64,
    pub comm: Option<Cow<'a, [u8]>>,
    pub exe: Option<Cow<'a, [u8]>>,
    /// The `key` field, keys separated by 0x01; None for `(null)`.
    pub key: Option<Cow<'a, [u8]>>,
    pub cwd: Option<Cow<'a, [u8]>>,
    /// PATH item 0.
    pub path0: Option<PathItem<'a>>,
}

fn number<T: std::str::FromStr>(v: &[u8]) -> Option<T> {
    std::str::from_utf8(v).ok()?.parse().ok()
}

/// A string field's value: as written when quoted, decoded when hex; None for
/// an unquoted `(null)`.
fn text<'a>(rec: &'a Record, f: &Field) -> Option<Cow<'a, [u8]>> {
    let v = rec.field_value(f);
    if f.quoted {
        return Some(Cow::Borrowed(v));
    }
    if v == b"(null)" {
        return None;
    }
    let mut out = Vec::with_capacity(v.len());
    decode_string(v, false, &mut out);
    Some(if out == v {
        Cow::Borrowed(v)
    } else {
        Cow::Owned(out)
    })
}

fn named<'a>(rec: &'a Record, name: &[u8]) -> Option<Cow<'a, [u8]>> {
    let (_, f) = rec.find(name)?;
    text(rec, f)
}

/// `dev=fd:01` (hex major:minor) as the kernel's dev_t.
fn dev(v: &[u8]) -> Option<u64> {
    let s = std::str::from_utf8(v).ok()?;
    let (maj, min) = s.split_once(':')?;
    let (maj, min) = (
        u64::from_str_radix(maj, 16).ok()?,
        u64::from_str_radix(min, 16).ok()?,
    );
    Some(libc::makedev(maj as u32, min as u32))
}

impl<'a> Facts<'a> {
    pub fn of(ev: &'a Event) -> Facts<'a> {
        let mut f = Facts::default();
        for (i, rec) in ev.records.iter().enumerate() {
            match rec.msg_type {
                msg::SYSCALL if f.syscall_index.is_none() => {
                    f.syscall_index = Some(i);
                    f.syscall = rec.syscall_name;
                    f.a0 = rec.a0;
                    f.syscall_fields(rec);
                }
                msg::EXECVE if f.execve_index.is_none() => f.execve_index = Some(i),
                msg::CWD => f.cwd = named(rec, b"cwd"),
                msg::PATH if f.path0.is_none() && rec.get(b"item") == Some(b"0") => {
                    if let Some(name) = named(rec, b"name") {
                        let id = rec
                            .get(b"dev")
                            .and_then(dev)
                            .zip(rec.get(b"inode").and_then(number));
                        f.path0 = Some((name, id));
                    }
                }
                _ => {}
            }
        }
        f
    }

    /// One pass over the SYSCALL record's fields (the first of each name
    /// counts, as with `Record::get`).
    fn syscall_fields(&mut self, rec: &'a Record) {
        let mut first: [Option<&Field>; 8] = [None; 8];
        for fld in rec.fields() {
            let slot = match rec.field_name(fld) {
                b"pid" => 0,
                b"ppid" => 1,
                b"uid" => 2,
                b"success" => 3,
                b"exit" => 4,
                b"comm" => 5,
                b"exe" => 6,
                b"key" => 7,
                _ => continue,
            };
            first[slot].get_or_insert(fld);
        }
        let value = |i: usize| first[i].map(|f| rec.field_value(f));
        self.pid = value(0).and_then(number).unwrap_or(0);
        self.ppid = value(1).and_then(number).unwrap_or(0);
        self.uid = value(2).and_then(number);
        self.success = value(3).map(|v| v == b"yes");
        self.exit = value(4).and_then(number);
        self.comm = first[5].and_then(|f| text(rec, f));
        self.exe = first[6].and_then(|f| text(rec, f));
        self.key = first[7].and_then(|f| text(rec, f));
    }

    /// The event's keys (none for `key=(null)`).
    pub fn keys(&self) -> impl Iterator<Item = &[u8]> {
        self.key
            .as_deref()
            .into_iter()
            .flat_map(|k| k.split(|&c| c == 1))
    }

    pub fn is_exec(&self) -> bool {
        self.syscall.is_some_and(|s| s.starts_with("execve")) && self.success != Some(false)
    }

    /// The child pid of a successful clone/fork.
    pub fn forked_child(&self) -> Option<u32> {
        const CLONE_THREAD: u64 = 0x10000;
        let s = self.syscall?;
        let is_fork = matches!(s, "fork" | "vfork" | "clone3")
            || (s == "clone" && self.a0 & CLONE_THREAD == 0);
        if !is_fork || self.success == Some(false) {
            return None;
        }
        self.exit
            .filter(|&e| e > 0)
            .and_then(|e| u32::try_from(e).ok())
    }

    pub fn is_exit(&self) -> bool {
        self.syscall == Some("exit_group")
    }
}

/// An exec's arguments, from all its EXECVE records (`aN`, `aN[i]` chunks;
/// `aN_len` skipped).
pub fn execve_args(ev: &Event) -> Vec<Vec<u8>> {
    let mut args: Vec<Vec<u8>> = Vec::new();
    for rec in ev.records.iter().filter(|r| r.msg_type == msg::EXECVE) {
        for f in rec.fields() {
            let name = rec.field_name(f);
            let Some(rest) = name.strip_prefix(b"a") else {
                continue;
            };
            let digits = rest.iter().take_while(|c| c.is_ascii_digit()).count();
            let tail = &rest[digits..];
            if digits == 0 || !(tail.is_empty() || tail.starts_with(b"[")) {
                continue;
            }
            let Some(idx) = number::<usize>(&rest[..digits]).filter(|&i| i < 1 << 20) else {
                continue;
            };
            if args.len() <= idx {
                args.resize(idx + 1, Vec::new());
            }
            decode_string(rec.field_value(f), f.quoted, &mut args[idx]);
        }
    }
    args
}

/// Join `dir` and `path` and drop `.`/`..` components without resolving
/// symlinks (what the process asked for, not where it leads).
pub fn normalize(cwd: &[u8], path: &[u8]) -> Vec<u8> {
    let mut parts: Vec<&[u8]> = Vec::new();
    let full: Vec<u8>;
    let src = if path.first() == Some(&b'/') {
        path
    } else {
        full = [cwd, b"/", path].concat();
        &full
    };
    for c in src.split(|&c| c == b'/') {
        match c {
            b"" | b"." => {}
            b".." => {
                parts.pop();
            }
            c => parts.push(c),
        }
    }
    let mut out = Vec::with_capacity(src.len());
    for p in parts {
        out.push(b'/');
        out.extend_from_slice(p);
    }
    if out.is_empty() {
        out.push(b'/');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalize_paths() {
        assert_eq!(normalize(b"/root", b"./x.sh"), b"/root/x.sh");
        assert_eq!(normalize(b"/a/b", b"../c/./d"), b"/a/c/d");
        assert_eq!(normalize(b"/", b"/../.."), b"/");
        assert_eq!(normalize(b"/x", b"/usr//bin/sh"), b"/usr/bin/sh");
    }
}
