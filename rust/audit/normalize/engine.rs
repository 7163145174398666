//! The normalizer's state and the small steps `auparse/normalize.c`
//! (audit-userspace 3.0.9) builds every event kind from: record a location
//! for the subject, object, session or result, or fall back to a cursor
//! position when a field is missing.
//!
//! The C code leans on where each failed search leaves auparse's cursor; the
//! steps below keep those moves (see [`super::view::Cursor`]) so the same
//! fields are found.

use std::borrow::Cow;

use super::view::Cursor;
use super::{Loc, Normalized};
use crate::audit::records::interpret::FieldKind;

/// `auparse_normalize`'s option: whether subject and object attributes are
/// collected (`NORM_OPT_ALL`) or not (`NORM_OPT_NO_ATTRS`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Attributes {
    All,
    None,
}

pub(crate) struct Normalizer<'v, 'a> {
    pub c: Cursor<'v, 'a>,
    pub d: Normalized,
    pub all: bool,
    /// 1 success, 0 failure, -1 unknown (`syscall_success` in normalize.c).
    pub syscall_success: i32,
}

/// Account classes by uid (`normalize-internal.h`).
const ACCT_UNSET: u32 = u32::MAX;
const ACCT_MAX_SYS: i32 = 1000;
const ACCT_MAX_USER: i32 = 60000;

fn uid_of_user(name: &[u8]) -> Option<u32> {
    let c = std::ffi::CString::new(name).ok()?;
    let mut buf = vec![0u8; 4096];
    // SAFETY: passwd is plain old data that getpwnam_r fills in.
    let mut pwd: libc::passwd = unsafe { std::mem::zeroed() };
    let mut result: *mut libc::passwd = std::ptr::null_mut();
    // SAFETY: every pointer is valid for the call; buf's length is passed.
    let rc = unsafe {
        libc::getpwnam_r(
            c.as_ptr(),
            &mut pwd,
            buf.as_mut_ptr().cast(),
            buf.len(),
            &mut result,
        )
    };
    if rc == 0 && !result.is_null() {
        Some(pwd.pw_uid)
    } else {
        None
    }
}

/// The script interpreters whose `comm` names the program better than `exe`.
pub(crate) fn is_interpreter(exe: &[u8]) -> bool {
    [
        &b"/usr/bin/python"[..],
        b"/usr/bin/sh",
        b"/usr/bin/bash",
        b"/usr/bin/perl",
    ]
    .iter()
    .any(|p| exe.starts_with(p))
}

impl<'v, 'a> Normalizer<'v, 'a> {
    pub fn loc(&self, record: usize) -> Loc {
        Loc {
            record: record as u32,
            field: self.c.field_num() as u32,
        }
    }

    pub fn set_subject_kind_unknown(&mut self) {
        self.d.subject_kind = Some("unknown-acct");
    }

    /// `set_subject_what`: the subject kind from the uid (or account name)
    /// under the cursor. Returns true when it could not tell.
    pub fn set_subject_what(&mut self) -> bool {
        let uid: i32 = if self.c.field_kind() == FieldKind::Uid {
            self.c.field_int().value
        } else {
            let by_name = if self.c.field_name() == Some(b"acct") {
                self.c
                    .interpret()
                    .and_then(|acct| uid_of_user(&acct))
                    .map(|u| u as i32)
            } else {
                None
            };
            match by_name {
                Some(u) => u,
                None => {
                    self.set_subject_kind_unknown();
                    return true;
                }
            }
        };
        self.d.subject_kind = Some(if uid == 0 {
            "privileged-acct"
        } else if uid as u32 == ACCT_UNSET {
            "unset-acct"
        } else if uid < ACCT_MAX_SYS {
            "service-acct"
        } else if uid < ACCT_MAX_USER {
            "user-acct"
        } else {
            "unknown-acct"
        });
        false
    }

    /// The `set_prime_subject` family: remember the found field, tagged
    /// with the record number the caller passes (as the C does). Returns
    /// true when the field is missing.
    pub fn set_prime_subject(&mut self, name: &[u8], rnum: usize) -> bool {
        if self.c.find(name) {
            self.d.subject_primary = Some(self.loc(rnum));
            return false;
        }
        true
    }

    pub fn set_secondary_subject(&mut self, name: &[u8], rnum: usize) -> bool {
        if self.c.find(name) {
            self.d.subject_secondary = Some(self.loc(rnum));
            return self.set_subject_what();
        }
        true
    }

    pub fn add_subj_attr(&mut self, name: &[u8], rnum: usize) -> bool {
        if self.c.find(name) {
            let l = self.loc(rnum);
            self.d.subject_attrs.push(l);
            return false;
        }
        self.c.goto_record(rnum);
        true
    }

    pub fn set_prime_object(&mut self, name: &[u8], rnum: usize) -> bool {
        if self.c.find(name) {
            self.d.object_primary = Some(self.loc(rnum));
            return false;
        }
        true
    }

    pub fn set_prime_object2(&mut self, name: &[u8], adjust: i64) -> bool {
        let rnum = 2 + adjust;
        if let Ok(r) = usize::try_from(rnum) {
            self.c.goto_record(r);
        }
        self.c.first_field();
        if self.c.find(name) {
            self.d.object_primary2 = Some(self.loc(rnum.max(0) as usize));
            return false;
        }
        true
    }

    pub fn add_obj_attr(&mut self, name: &[u8], rnum: usize) -> bool {
        if self.c.find(name) {
            let l = self.loc(rnum);
            self.d.object_attrs.push(l);
            return false;
        }
        self.c.goto_record(rnum);
        true
    }

    pub fn add_session(&mut self, rnum: usize) -> bool {
        if self.c.find(b"ses") {
            self.d.session = Some(self.loc(rnum));
            return false;
        }
        self.c.first_record();
        true
    }

    pub fn set_results(&mut self, rnum: usize) -> bool {
        if self.c.find(b"res") {
            self.d.result = Some(self.loc(rnum));
            return false;
        }
        true
    }

    /// The field under the cursor as a location in record 0, as
    /// `find_simple_object` and friends record it (always record 0).
    pub fn here_in_record0(&self) -> Loc {
        Loc {
            record: 0,
            field: self.c.field_num() as u32,
        }
    }

    pub fn set_action(&mut self, act: &'static str) {
        self.d.action = Some(Cow::Borrowed(act.as_bytes()));
    }

    pub fn set_action_owned(&mut self, act: Vec<u8>) {
        self.d.action = Some(Cow::Owned(act));
    }

    /// `how` from the next field called `name`, if there is one.
    pub fn how_from(&mut self, name: &[u8]) -> bool {
        let found = self.c.find(name);
        if found {
            self.set_how_interpreted();
        }
        found
    }

    pub fn set_how_interpreted(&mut self) {
        if let Some(v) = self.c.interpret() {
            self.d.how = Some(Cow::Owned(v));
        }
    }

    /// `how` is the exe, or the comm when the exe is a script interpreter:
    /// comm is looked for from the field before exe (where the kernel puts
    /// it) onwards. Returns false when there is no exe.
    pub fn how_from_exe(&mut self, restart_on_first_field: bool) -> bool {
        if !self.c.find(b"exe") {
            return false;
        }
        let exe = self.c.interpret().unwrap_or_default();
        let interp = is_interpreter(&exe);
        self.d.how = Some(Cow::Owned(exe));
        if interp {
            let fnum = self.c.field_num();
            let moved = fnum > 0 && self.c.goto_field(fnum - 1);
            if !moved && (restart_on_first_field || fnum == 0) {
                self.c.first_record();
            }
            if self.c.find(b"comm") {
                self.set_how_interpreted();
            }
        }
        true
    }
}
