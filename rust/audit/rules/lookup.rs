//! Everything the rule codec looks up outside itself: machines and their
//! syscall tables, errno and message-type names (the shared tables of
//! `crate::audit::tables`), user and group names (the system's NSS, like
//! libaudit's `getpwnam`), and whether a watched path is a directory.

use std::cell::{OnceCell, RefCell};
use std::collections::HashMap;
use std::ffi::CString;

use crate::audit::tables::{self, Machine};

/// A machine, identified by its `AUDIT_ARCH_*` value (the value of the
/// `arch` rule field).
pub type AuditArch = u32;

/// `__AUDIT_ARCH_64BIT`.
pub const ARCH_64BIT: u32 = 0x8000_0000;

/// The environment a rule is parsed in: the machine `b64`/`b32` and
/// arch-less `-S` refer to, and how names are resolved.
pub trait Resolver {
    /// `AUDIT_ARCH_*` of the host (auditctl: `uname -m`).
    fn host_arch(&self) -> Option<AuditArch>;
    fn user_id(&self, name: &str) -> Option<u32>;
    fn group_id(&self, name: &str) -> Option<u32>;
    /// Whether `path` names an existing directory (auditctl `stat()`s `-w` paths).
    fn is_dir(&self, path: &str) -> bool;
}

/// The real system: uname, NSS, the file system.
#[derive(Debug, Default, Clone, Copy)]
pub struct SystemResolver;

impl Resolver for SystemResolver {
    fn host_arch(&self) -> Option<AuditArch> {
        // SAFETY: zeroed `utsname` is a valid out-parameter; uname fills it
        // with NUL-terminated strings.
        let mut uts: libc::utsname = unsafe { std::mem::zeroed() };
        // SAFETY: `uts` is live, writable and of the type uname expects.
        if unsafe { libc::uname(&mut uts) } != 0 {
            return None;
        }
        let bytes: Vec<u8> = uts
            .machine
            .iter()
            .take_while(|&&c| c != 0)
            .map(|&c| c as u8)
            .collect();
        machine_arch(std::str::from_utf8(&bytes).ok()?)
    }

    fn user_id(&self, name: &str) -> Option<u32> {
        lookup_user(name)
    }

    fn group_id(&self, name: &str) -> Option<u32> {
        lookup_group(name)
    }

    fn is_dir(&self, path: &str) -> bool {
        std::fs::metadata(path).map(|m| m.is_dir()).unwrap_or(false)
    }
}

/// Remembers a resolver's answers about the host and about user and group
/// names for the length of one rules file (auditctl asks NSS again for every
/// rule; the answers do not change within a load).
pub struct CachingResolver<'a> {
    inner: &'a dyn Resolver,
    host: OnceCell<Option<AuditArch>>,
    users: RefCell<HashMap<String, Option<u32>>>,
    groups: RefCell<HashMap<String, Option<u32>>>,
}

impl<'a> CachingResolver<'a> {
    pub fn new(inner: &'a dyn Resolver) -> Self {
        CachingResolver {
            inner,
            host: OnceCell::new(),
            users: RefCell::new(HashMap::new()),
            groups: RefCell::new(HashMap::new()),
        }
    }
}

impl Resolver for CachingResolver<'_> {
    fn host_arch(&self) -> Option<AuditArch> {
        *self.host.get_or_init(|| self.inner.host_arch())
    }

    fn user_id(&self, name: &str) -> Option<u32> {
        if let Some(&v) = self.users.borrow().get(name) {
            return v;
        }
        let v = self.inner.user_id(name);
        self.users.borrow_mut().insert(name.to_string(), v);
        v
    }

    fn group_id(&self, name: &str) -> Option<u32> {
        if let Some(&v) = self.groups.borrow().get(name) {
            return v;
        }
        let v = self.inner.group_id(name);
        self.groups.borrow_mut().insert(name.to_string(), v);
        v
    }

    fn is_dir(&self, path: &str) -> bool {
        self.inner.is_dir(path)
    }
}

/// The machine of an `AUDIT_ARCH_*` value, if libaudit knows it.
fn machine(arch: AuditArch) -> Option<Machine> {
    tables::machine_for_audit_arch(arch)
}

/// `AUDIT_ARCH_*` for a machine name as libaudit's `audit_name_to_machine`
/// knows it (`uname -m` spellings, case-insensitive).
pub fn machine_arch(name: &str) -> Option<AuditArch> {
    tables::machine_by_name(name).map(tables::audit_arch_for_machine)
}

/// Whether libaudit has a machine for this `AUDIT_ARCH_*` value
/// (`audit_elf_to_machine`).
pub fn arch_is_known(arch: AuditArch) -> bool {
    machine(arch).is_some()
}

/// The 32-bit personality of a 64-bit machine (`-F arch=b32` on it), as
/// `audit_determine_machine` maps it: x86_64 -> i386, ppc64 -> ppc,
/// s390x -> s390, aarch64 -> arm.
pub fn arch_32bit_of(arch: AuditArch) -> Option<AuditArch> {
    let m = machine(arch)?;
    if !m.is_64bit() {
        return None;
    }
    tables::machine_for_bits(m, 32)
        .filter(|b32| *b32 != m)
        .map(tables::audit_arch_for_machine)
}

pub fn syscall_number(arch: AuditArch, name: &str) -> Option<u32> {
    tables::syscall_number(machine(arch)?, name)
}

pub fn syscall_name(arch: AuditArch, nr: u32) -> Option<&'static str> {
    tables::syscall_name(machine(arch)?, nr)
}

const NSS_BUFFER_START: usize = 1024;
const NSS_BUFFER_MAX: usize = 1 << 20;

/// The shape `getpwnam_r` and `getgrnam_r` share: name, entry to fill,
/// scratch buffer and its size, result pointer; returns an error number.
type NssByName<T> = unsafe extern "C" fn(
    *const libc::c_char,
    *mut T,
    *mut libc::c_char,
    libc::size_t,
    *mut *mut T,
) -> libc::c_int;

/// One reentrant NSS lookup by name, growing the scratch buffer while the
/// answer is ERANGE. `entry` is the zeroed entry to fill; `read` takes what is
/// needed out of it while the buffer its strings point into is still alive.
fn nss_lookup<T, R>(
    name: &str,
    mut entry: T,
    lookup: NssByName<T>,
    read: impl FnOnce(&T) -> R,
) -> Option<R> {
    let cname = CString::new(name).ok()?;
    let mut size = NSS_BUFFER_START;
    loop {
        let mut buf = vec![0u8; size];
        let mut result: *mut T = std::ptr::null_mut();
        // SAFETY: `lookup` is getpwnam_r or getgrnam_r; every pointer refers
        // to live, correctly sized storage owned by this frame, and the
        // function writes only within `entry`, `buf[..size]` and `result`.
        let rc = unsafe {
            lookup(
                cname.as_ptr(),
                &mut entry,
                buf.as_mut_ptr().cast(),
                size,
                &mut result,
            )
        };
        if rc == libc::ERANGE && size < NSS_BUFFER_MAX {
            size *= 4;
            continue;
        }
        if rc != 0 || result.is_null() {
            return None;
        }
        return Some(read(&entry));
    }
}

fn lookup_user(name: &str) -> Option<u32> {
    // SAFETY: zeroed `passwd` is a valid out-parameter (pointers null).
    let pwd: libc::passwd = unsafe { std::mem::zeroed() };
    nss_lookup(name, pwd, libc::getpwnam_r, |pwd| pwd.pw_uid)
}

fn lookup_group(name: &str) -> Option<u32> {
    // SAFETY: zeroed `group` is a valid out-parameter (pointers null).
    let grp: libc::group = unsafe { std::mem::zeroed() };
    nss_lookup(name, grp, libc::getgrnam_r, |grp| grp.gr_gid)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn root_resolves() {
        assert_eq!(lookup_user("root"), Some(0));
        assert_eq!(lookup_group("root"), Some(0));
        assert_eq!(lookup_user("no-such-user-auditlink"), None);
        assert_eq!(lookup_user("nul\0byte"), None);
    }
}
