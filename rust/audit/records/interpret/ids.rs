//! User and group ids as names (getpwuid/getgrgid, cached per thread), and whether to look them up.

use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};

use super::*;

pub(super) static RESOLVE_IDS: AtomicBool = AtomicBool::new(true);

/// Turn uid/gid to name lookups (getpwuid/getgrgid, cached) on or off. Off,
/// ids print as numbers (but `unset` and `root` as auparse prints them).
pub fn set_resolve_ids(on: bool) {
    RESOLVE_IDS.store(on, Ordering::Relaxed);
}

/// Whether ids are looked up on this thread now: the setting of the
/// innermost [`with_resolve_ids`], else the process-wide default.
pub fn resolve_ids() -> bool {
    RESOLVE_IDS_HERE
        .with(Cell::get)
        .unwrap_or_else(|| RESOLVE_IDS.load(Ordering::Relaxed))
}

thread_local! {
    static RESOLVE_IDS_HERE: Cell<Option<bool>> = const { Cell::new(None) };
}

/// Run `f` with id lookups turned on or off on this thread (`None`: the
/// process-wide default of [`set_resolve_ids`]), for objects that carry
/// their own setting.
pub fn with_resolve_ids<T>(on: Option<bool>, f: impl FnOnce() -> T) -> T {
    struct Restore(Option<bool>);
    impl Drop for Restore {
        fn drop(&mut self) {
            RESOLVE_IDS_HERE.with(|c| c.set(self.0));
        }
    }
    if on.is_none() {
        return f();
    }
    let _restore = Restore(RESOLVE_IDS_HERE.with(|c| c.replace(on)));
    f()
}

thread_local! {
    static UID_NAMES: RefCell<HashMap<u32, Option<Box<[u8]>>>> = RefCell::new(HashMap::new());
    static GID_NAMES: RefCell<HashMap<u32, Option<Box<[u8]>>>> = RefCell::new(HashMap::new());
}

/// Forget cached user and group names (e.g. after /etc/passwd changed).
pub fn flush_id_cache() {
    UID_NAMES.with(|c| c.borrow_mut().clear());
    GID_NAMES.with(|c| c.borrow_mut().clear());
}

/// Call a `get*id_r` function with a buffer that grows while it says ERANGE.
/// `call` gets the buffer and returns the C return code and the name it
/// found (a pointer into the buffer, or NULL).
fn lookup_name(
    mut call: impl FnMut(&mut [u8]) -> (libc::c_int, *const libc::c_char),
) -> Option<Box<[u8]>> {
    let mut buf = vec![0u8; 1024];
    loop {
        let (rc, name) = call(&mut buf);
        if rc == libc::ERANGE && buf.len() < (1 << 20) {
            buf.resize(buf.len() * 4, 0);
            continue;
        }
        if rc != 0 || name.is_null() {
            return None;
        }
        // SAFETY: on success the name is a NUL-terminated string inside `buf`,
        // which is alive and unchanged here.
        let name = unsafe { std::ffi::CStr::from_ptr(name) };
        return Some(name.to_bytes().into());
    }
}

pub fn lookup_passwd(uid: u32) -> Option<Box<[u8]>> {
    lookup_name(|buf| {
        // SAFETY: passwd is plain old data; getpwuid_r writes into `pwd` and `buf`
        // (whose length we pass) and sets `result` to &pwd or NULL.
        let mut pwd: libc::passwd = unsafe { std::mem::zeroed() };
        let mut result: *mut libc::passwd = std::ptr::null_mut();
        // SAFETY: all pointers are valid for the duration of the call.
        let rc = unsafe {
            libc::getpwuid_r(
                uid,
                &mut pwd,
                buf.as_mut_ptr().cast(),
                buf.len(),
                &mut result,
            )
        };
        let found = !result.is_null();
        (rc, if found { pwd.pw_name } else { std::ptr::null() })
    })
}

pub(super) fn lookup_group(gid: u32) -> Option<Box<[u8]>> {
    lookup_name(|buf| {
        // SAFETY: group is plain old data filled in by getgrgid_r.
        let mut grp: libc::group = unsafe { std::mem::zeroed() };
        let mut result: *mut libc::group = std::ptr::null_mut();
        // SAFETY: all pointers are valid for the duration of the call.
        let rc = unsafe {
            libc::getgrgid_r(
                gid,
                &mut grp,
                buf.as_mut_ptr().cast(),
                buf.len(),
                &mut result,
            )
        };
        let found = !result.is_null();
        (rc, if found { grp.gr_name } else { std::ptr::null() })
    })
}

pub(super) fn uid_text(id: i32, group: bool, out: &mut Vec<u8>) {
    if id == -1 {
        out.extend_from_slice(b"unset");
        return;
    }
    if id == 0 {
        out.extend_from_slice(b"root");
        return;
    }
    if !resolve_ids() {
        out.extend_from_slice(id.to_string().as_bytes());
        return;
    }
    let key = id as u32;
    let cache = if group { &GID_NAMES } else { &UID_NAMES };
    let found = cache.with(|c| {
        let mut c = c.borrow_mut();
        if c.len() > 4096 {
            c.clear();
        }
        let entry = c.entry(key).or_insert_with(|| {
            if group {
                lookup_group(key)
            } else {
                lookup_passwd(key)
            }
        });
        match entry {
            Some(name) => {
                out.extend_from_slice(name);
                true
            }
            None => false,
        }
    });
    if !found {
        out.extend_from_slice(format!("unknown({id})").as_bytes());
    }
}

pub(super) fn print_uid(v: &[u8], base: u32, group: bool, out: &mut Vec<u8>) {
    match c_strtoul(v, base) {
        Ok(n) => uid_text(n as i32, group, out),
        Err(()) => conversion_error(v, out),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_scoped_setting_wins_over_the_default_and_ends_with_its_scope() {
        let default = resolve_ids();
        assert!(!with_resolve_ids(Some(false), resolve_ids));
        assert!(with_resolve_ids(Some(true), resolve_ids));
        assert_eq!(with_resolve_ids(None, resolve_ids), default);
        assert_eq!(resolve_ids(), default);
    }
}
