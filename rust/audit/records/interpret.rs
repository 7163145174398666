//! Field interpretation: the text auparse's `auparse_interpret_field()` gives
//! for a field, with its default (TTY) escaping.
//!
//! Behaviour (which field is which kind, how each kind prints, which C library
//! quirks show through) follows audit-userspace 3.0.9 `auparse/interpret.c` and
//! `auparse/typetab.h`, the version Debian ships; the code is written from that
//! description, not copied. Known, deliberate differences are listed in
//! docs/records.md.

use crate::audit::tables::msg;
use std::cell::RefCell;
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};

use super::auparse_tables as tables;
use super::names;
use super::parse::{Field, Record};

/// How a field is interpreted (auparse's `AUPARSE_TYPE_*`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FieldKind {
    Uid,
    Gid,
    Syscall,
    Arch,
    Exit,
    Escaped,
    EscapedFile,
    EscapedKey,
    Perm,
    Mode,
    ModeShort,
    Sockaddr,
    Flags,
    Promisc,
    Capability,
    Success,
    A0,
    A1,
    A2,
    A3,
    Signal,
    List,
    TtyData,
    Session,
    CapBitmap,
    Protocol,
    Addr,
    Seccomp,
    Proctitle,
    Macproto,
    Nlmcgrp,
    Oflag,
    Mmap,
    Nfproto,
    MacLabel,
    Icmptype,
    Personality,
    Hook,
    Netaction,
    IoctlReq,
    Fanotify,
    Resolve,
    Unclassified,
}

/// auparse's `typetab.h` (3.0.9, built with AppArmor support as Debian does).
fn kind_by_name(name: &[u8]) -> FieldKind {
    use FieldKind::*;
    match name {
        b"auid" | b"uid" | b"euid" | b"suid" | b"fsuid" | b"ouid" | b"oauid" | b"old-auid"
        | b"iuid" | b"id" | b"inode_uid" | b"sauid" | b"obj_uid" => Uid,
        b"obj_gid" | b"gid" | b"egid" | b"sgid" | b"fsgid" | b"ogid" | b"igid" | b"inode_gid"
        | b"new_gid" => Gid,
        b"syscall" => Syscall,
        b"arch" => Arch,
        b"exit" => Exit,
        b"path" | b"comm" | b"exe" | b"file" | b"watch" | b"cwd" | b"cmd" | b"acct" | b"dir"
        | b"vm" | b"old-chardev" | b"new-chardev" | b"old-disk" | b"new-disk" | b"old-fs"
        | b"new-fs" | b"old-net" | b"new-net" | b"device" | b"cgroup" | b"apparmor"
        | b"operation" | b"denied_mask" | b"info" | b"profile" | b"requested_mask" | b"old-rng"
        | b"new-rng" | b"ocomm" | b"grp" | b"new_group" | b"invalid_context" | b"sw"
        | b"root_dir" => Escaped,
        b"name" => EscapedFile,
        b"key" => EscapedKey,
        b"perm" | b"perm_mask" => Perm,
        b"mode" => Mode,
        b"saddr" => Sockaddr,
        b"prom" | b"old_prom" => Promisc,
        b"capability" => Capability,
        b"res" | b"result" => Success,
        b"a0" => A0,
        b"a1" => A1,
        b"a2" => A2,
        b"a3" => A3,
        b"sig" | b"sigev_signo" => Signal,
        b"list" => List,
        b"data" => TtyData,
        b"ses" => Session,
        b"cap_pi" | b"cap_pe" | b"cap_pp" | b"cap_pa" | b"cap_fi" | b"cap_fp" | b"fp" | b"fi"
        | b"old_pp" | b"old_pi" | b"old_pe" | b"old_pa" | b"new_pp" | b"new_pi" | b"new_pe"
        | b"pp" | b"pi" | b"pe" | b"pa" => CapBitmap,
        b"proto" => Protocol,
        b"addr" => Addr,
        b"code" => Seccomp,
        b"proctitle" => Proctitle,
        b"macproto" => Macproto,
        b"nl-mcgrp" => Nlmcgrp,
        b"subj" | b"obj" | b"scontext" | b"tcontext" | b"vm-ctx" | b"img-ctx" => MacLabel,
        b"oflag" => Oflag,
        b"flags" => Mmap,
        b"family" => Nfproto,
        b"icmptype" => Icmptype,
        b"per" => Personality,
        b"hook" => Hook,
        b"action" => Netaction,
        b"ioctlcmd" => IoctlReq,
        b"resp" => Fanotify,
        b"resolve" => Resolve,
        _ => Unclassified,
    }
}

fn is_hex_string(v: &[u8]) -> bool {
    v.iter().all(u8::is_ascii_hexdigit)
}

/// auparse's `auparse_interp_adjust_type`: the record type can change a field's kind.
pub fn field_kind(rtype: u16, name: &[u8], value: &[u8], quoted: bool) -> FieldKind {
    use FieldKind::*;
    if rtype == msg::EXECVE
        && name.first() == Some(&b'a')
        && name != b"argc"
        && !name.windows(4).any(|w| w == b"_len")
    {
        return Escaped;
    }
    match (rtype, name) {
        (msg::AVC, b"saddr") => Unclassified,
        (msg::USER_TTY, b"msg") => Escaped,
        (msg::NETFILTER_PKT, b"saddr") => Addr,
        (_, b"acct") => {
            if quoted || is_hex_string(value) {
                Escaped
            } else {
                Unclassified
            }
        }
        (msg::PATH, b"flags") => Flags,
        (msg::MQ_OPEN, b"mode") => ModeShort,
        (msg::CRYPTO_KEY_USER, b"fp") => Unclassified,
        (msg::ADD_GROUP | msg::GRP_MGMT | msg::DEL_GROUP, b"id") => Gid,
        (msg::TRUSTED_APP, _) => {
            if quoted {
                Escaped
            } else if value.iter().all(u8::is_ascii_digit) {
                Unclassified
            } else if is_hex_string(value) {
                Escaped
            } else {
                Unclassified
            }
        }
        (msg::KERN_MODULE, b"name") => Escaped,
        _ => kind_by_name(name),
    }
}

static RESOLVE_IDS: AtomicBool = AtomicBool::new(true);

/// Turn uid/gid to name lookups (getpwuid/getgrgid, cached) on or off. Off,
/// ids print as numbers (but `unset` and `root` as auparse prints them).
pub fn set_resolve_ids(on: bool) {
    RESOLVE_IDS.store(on, Ordering::Relaxed);
}

pub fn resolve_ids() -> bool {
    RESOLVE_IDS.load(Ordering::Relaxed)
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

pub(crate) fn lookup_passwd(uid: u32) -> Option<Box<[u8]>> {
    let mut buf = vec![0u8; 1024];
    loop {
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
        if rc == libc::ERANGE && buf.len() < (1 << 20) {
            buf.resize(buf.len() * 4, 0);
            continue;
        }
        if rc != 0 || result.is_null() || pwd.pw_name.is_null() {
            return None;
        }
        // SAFETY: on success pw_name points to a NUL-terminated string inside `buf`.
        let name = unsafe { std::ffi::CStr::from_ptr(pwd.pw_name) };
        return Some(name.to_bytes().into());
    }
}

fn lookup_group(gid: u32) -> Option<Box<[u8]>> {
    let mut buf = vec![0u8; 1024];
    loop {
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
        if rc == libc::ERANGE && buf.len() < (1 << 20) {
            buf.resize(buf.len() * 4, 0);
            continue;
        }
        if rc != 0 || result.is_null() || grp.gr_name.is_null() {
            return None;
        }
        // SAFETY: on success gr_name points to a NUL-terminated string inside `buf`.
        let name = unsafe { std::ffi::CStr::from_ptr(grp.gr_name) };
        return Some(name.to_bytes().into());
    }
}

/// glibc's strerror text for an errno (cached).
fn strerror(errno: i64, out: &mut Vec<u8>) {
    use std::sync::OnceLock;
    static TEXTS: OnceLock<Vec<Box<[u8]>>> = OnceLock::new();
    let texts = TEXTS.get_or_init(|| (0..=200).map(|e| strerror_uncached(e).into()).collect());
    match usize::try_from(errno).ok().and_then(|i| texts.get(i)) {
        Some(t) => out.extend_from_slice(t),
        None => out.extend_from_slice(&strerror_uncached(errno)),
    }
}

fn strerror_uncached(errno: i64) -> Vec<u8> {
    let Ok(e) = i32::try_from(errno) else {
        return format!("Unknown error {errno}").into_bytes();
    };
    let mut buf = [0u8; 256];
    // SAFETY: buf is writable for its length; the XSI strerror_r NUL-terminates on success.
    let rc = unsafe { libc::strerror_r(e, buf.as_mut_ptr().cast(), buf.len()) };
    if rc != 0 {
        return format!("Unknown error {e}").into_bytes();
    }
    let len = buf.iter().position(|&c| c == 0).unwrap_or(buf.len());
    buf[..len].to_vec()
}

/// C `strtoul`/`strtoull` as auparse uses it: leading blanks, an optional sign,
/// digits of `base` up to the first other byte; no digits gives 0; overflow is
/// an error (ERANGE, auparse prints "conversion error(...)"); a minus negates.
fn c_strtoul(v: &[u8], base: u32) -> Result<u64, ()> {
    let mut i = 0;
    while i < v.len() && (v[i] == b' ' || (9..=13).contains(&v[i])) {
        i += 1;
    }
    let mut neg = false;
    if i < v.len() && (v[i] == b'+' || v[i] == b'-') {
        neg = v[i] == b'-';
        i += 1;
    }
    if base == 16
        && v.len() >= i + 2
        && v[i] == b'0'
        && (v[i + 1] | 0x20) == b'x'
        && v.get(i + 2).is_some_and(u8::is_ascii_hexdigit)
    {
        i += 2;
    }
    let mut acc: u64 = 0;
    let mut overflow = false;
    while i < v.len() {
        let Some(d) = (v[i] as char).to_digit(base) else {
            break;
        };
        match acc
            .checked_mul(u64::from(base))
            .and_then(|a| a.checked_add(u64::from(d)))
        {
            Some(a) => acc = a,
            None => overflow = true,
        }
        i += 1;
    }
    if overflow {
        return Err(());
    }
    Ok(if neg { acc.wrapping_neg() } else { acc })
}

/// C `strtoll` base 10.
fn c_strtoll(v: &[u8]) -> Result<i64, ()> {
    let mut i = 0;
    while i < v.len() && (v[i] == b' ' || (9..=13).contains(&v[i])) {
        i += 1;
    }
    let mut neg = false;
    if i < v.len() && (v[i] == b'+' || v[i] == b'-') {
        neg = v[i] == b'-';
        i += 1;
    }
    let mut acc: i128 = 0;
    while i < v.len() && v[i].is_ascii_digit() {
        acc = acc * 10 + i128::from(v[i] - b'0');
        if acc > i128::from(i64::MAX) + 1 {
            return Err(());
        }
        i += 1;
    }
    let acc = if neg { -acc } else { acc };
    i64::try_from(acc).map_err(|_| ())
}

fn hexval(c: u8) -> u8 {
    match c {
        b'0'..=b'9' => c - b'0',
        b'a'..=b'f' => c - b'a' + 10,
        b'A'..=b'F' => c - b'A' + 10,
        _ => 0,
    }
}

/// auparse's `au_unescape`: `(...)` up to the `)` is returned as is; otherwise the
/// leading hex digits are decoded (an odd last digit is the high nibble of a
/// byte). `None` when there are fewer than two hex digits. The result is NOT cut
/// at NUL bytes here.
fn unhex_into(v: &[u8], out: &mut Vec<u8>) -> bool {
    if v.first() == Some(&b'(') {
        return match v.iter().position(|&c| c == b')') {
            Some(p) => {
                out.extend_from_slice(&v[..=p]);
                true
            }
            None => false,
        };
    }
    let n = v.iter().take_while(|c| c.is_ascii_hexdigit()).count();
    if n < 2 {
        return false;
    }
    let digits = &v[..n];
    out.reserve(n / 2 + 1);
    let mut pairs = digits.chunks_exact(2);
    for p in &mut pairs {
        out.push((hexval(p[0]) << 4) | hexval(p[1]));
    }
    if let [last] = pairs.remainder() {
        out.push(hexval(*last) << 4);
    }
    true
}

/// Truncate what was appended after `start` at its first NUL (C string semantics).
fn cut_at_nul(out: &mut Vec<u8>, start: usize) {
    if let Some(p) = out[start..].iter().position(|&c| c == 0) {
        out.truncate(start + p);
    }
}

/// auparse's `print_escaped`: a quoted value is the string itself, a hex value
/// decoded (a leading "00" — abstract unix socket names — skipped), anything
/// else as written.
fn print_escaped(v: &[u8], quoted: bool, out: &mut Vec<u8>) {
    if quoted {
        out.extend_from_slice(v);
        return;
    }
    let start = out.len();
    let src = if v.len() >= 2 && v[0] == b'0' && v[1] == b'0' {
        &v[2..]
    } else {
        v
    };
    if unhex_into(src, out) {
        cut_at_nul(out, start);
    } else {
        out.truncate(start);
        out.extend_from_slice(v);
    }
}

/// Decode a hex-or-quoted string WITHOUT auparse's C-string cut (for the JSON/dict view).
pub(crate) fn decode_string(v: &[u8], quoted: bool, out: &mut Vec<u8>) {
    if quoted || !is_hex_string(v) || v.len() < 2 || v.len() % 2 != 0 {
        out.extend_from_slice(v);
        return;
    }
    unhex_into(v, out);
}

fn print_proctitle(v: &[u8], quoted: bool, out: &mut Vec<u8>) {
    if quoted {
        out.extend_from_slice(v);
        return;
    }
    let start = out.len();
    let src = if v.len() >= 2 && v[0] == b'0' && v[1] == b'0' {
        &v[2..]
    } else {
        v
    };
    if !unhex_into(src, out) {
        out.truncate(start);
        out.extend_from_slice(v);
        return;
    }
    // Arguments are NUL separated: auparse turns every NUL within strlen(val)/2
    // bytes into a space (the decoded buffer is zero padded), then cuts at the next NUL.
    let span = v.len() / 2;
    if out.len() < start + span {
        out.resize(start + span, 0);
    }
    for b in &mut out[start..start + span] {
        if *b == 0 {
            *b = b' ';
        }
    }
    cut_at_nul(out, start);
}

fn uid_text(id: i32, group: bool, out: &mut Vec<u8>) {
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

fn conversion_error(v: &[u8], out: &mut Vec<u8>) {
    out.extend_from_slice(b"conversion error(");
    out.extend_from_slice(v);
    out.push(b')');
}

fn print_uid(v: &[u8], base: u32, group: bool, out: &mut Vec<u8>) {
    match c_strtoul(v, base) {
        Ok(n) => uid_text(n as i32, group, out),
        Err(()) => conversion_error(v, out),
    }
}

fn record_machine(rec: &Record) -> Option<names::Machine> {
    rec.machine
}

fn socketcall_name(n: u64) -> Option<&'static str> {
    const NAMES: [&str; 20] = [
        "socket",
        "bind",
        "connect",
        "listen",
        "accept",
        "getsockname",
        "getpeername",
        "socketpair",
        "send",
        "recv",
        "sendto",
        "recvfrom",
        "shutdown",
        "setsockopt",
        "getsockopt",
        "sendmsg",
        "recvmsg",
        "accept4",
        "recvmmsg",
        "sendmmsg",
    ];
    n.checked_sub(1)
        .and_then(|i| NAMES.get(usize::try_from(i).ok()?))
        .copied()
}

fn ipc_call_name(n: u64) -> Option<&'static str> {
    Some(match n {
        1 => "semop",
        2 => "semget",
        3 => "semctl",
        4 => "semtimedop",
        11 => "msgsnd",
        12 => "msgrcv",
        13 => "msgget",
        14 => "msgctl",
        21 => "shmat",
        22 => "shmdt",
        23 => "shmget",
        24 => "shmctl",
        _ => return None,
    })
}

fn print_syscall(rec: &Record, v: &[u8], out: &mut Vec<u8>) {
    let Some(machine) = record_machine(rec).or_else(names::host_machine) else {
        out.extend_from_slice(v);
        return;
    };
    // auparse keeps the record's syscall number as an int (-1 when absent).
    let nr = rec.syscall.map_or(-1i32, |n| n as i32);
    match u64::try_from(nr)
        .ok()
        .and_then(|n| names::syscall_name(machine, n))
    {
        Some(sys) => {
            out.extend_from_slice(sys.as_bytes());
            let a0 = rec.a0;
            let sub = if a0 <= i32::MAX as u64 {
                match sys {
                    "socketcall" => socketcall_name(a0),
                    "ipc" => ipc_call_name(a0),
                    _ => None,
                }
            } else {
                None
            };
            if let Some(sub) = sub {
                out.push(b'(');
                out.extend_from_slice(sub.as_bytes());
                out.push(b')');
            }
        }
        None => out.extend_from_slice(format!("unknown-syscall({nr})").as_bytes()),
    }
}

fn print_arch(v: &[u8], out: &mut Vec<u8>) {
    let Ok(arch) = c_strtoul(v, 16) else {
        out.extend_from_slice(b"conversion error(");
        out.extend_from_slice(v);
        out.extend_from_slice(b") ");
        return;
    };
    match u32::try_from(arch)
        .ok()
        .and_then(names::machine_for_audit_arch)
    {
        Some(m) => out.extend_from_slice(names::machine_name(m).as_bytes()),
        None => {
            out.extend_from_slice(b"unknown-elf-type(");
            out.extend_from_slice(v);
            out.push(b')');
        }
    }
}

fn print_exit(v: &[u8], out: &mut Vec<u8>) {
    match c_strtoll(v) {
        Err(()) => conversion_error(v, out),
        Ok(n) if n < 0 => {
            let e = n.unsigned_abs();
            match names::errno_name(e) {
                Some(name) => out.extend_from_slice(name.as_bytes()),
                None => out.extend_from_slice(b"(null)"),
            }
            out.push(b'(');
            match names::errno_description(e) {
                Some(d) => out.extend_from_slice(d.as_bytes()),
                None => strerror(i64::try_from(e).unwrap_or(i64::MAX), out),
            }
            out.push(b')');
        }
        Ok(_) => out.extend_from_slice(v),
    }
}

fn print_perm(v: &[u8], out: &mut Vec<u8>) {
    let Ok(n) = c_strtoll(v) else {
        return conversion_error(v, out);
    };
    let mut n = n as i32;
    if n == 0 {
        n = 0x0f;
    }
    let mut first = true;
    for (bit, name) in [(4, "read"), (2, "write"), (1, "exec"), (8, "attr")] {
        if n & bit != 0 {
            if !first {
                out.push(b',');
            }
            out.extend_from_slice(name.as_bytes());
            first = false;
        }
    }
}

fn print_mode(v: &[u8], base: u32, out: &mut Vec<u8>) {
    let Ok(n) = c_strtoul(v, base) else {
        return conversion_error(v, out);
    };
    let m = n as u32;
    match names::file_type_name(m & 0o170000) {
        Some(t) => out.extend_from_slice(t.as_bytes()),
        None => push_octal3(out, (m & 0o170000) / 0o010000),
    }
    if m & 0o4000 != 0 {
        out.extend_from_slice(b",suid");
    }
    if m & 0o2000 != 0 {
        out.extend_from_slice(b",sgid");
    }
    if m & 0o1000 != 0 {
        out.extend_from_slice(b",sticky");
    }
    out.push(b',');
    push_octal3(out, m & 0o777);
}

/// `%03o` of a value below 0o1000.
fn push_octal3(out: &mut Vec<u8>, v: u32) {
    out.extend_from_slice(&[
        b'0' + ((v >> 6) & 7) as u8,
        b'0' + ((v >> 3) & 7) as u8,
        b'0' + (v & 7) as u8,
    ]);
}

fn print_mode_short(v: &[u8], base: u32, out: &mut Vec<u8>) {
    let Ok(n) = c_strtoul(v, base) else {
        return conversion_error(v, out);
    };
    let m = n as u32;
    let mut parts: Vec<&str> = Vec::new();
    if m & 0o4000 != 0 {
        parts.push("suid");
    }
    if m & 0o2000 != 0 {
        parts.push("sgid");
    }
    if m & 0o1000 != 0 {
        parts.push("sticky");
    }
    if parts.is_empty() {
        out.extend_from_slice(format!("0{:03o}", m & 0o777).as_bytes());
    } else {
        out.extend_from_slice(format!("{},0{:03o}", parts.join(","), m & 0o777).as_bytes());
    }
}

/// glibc `inet_ntop(AF_INET6)`: the longest run (>= 2) of zero groups becomes
/// "::"; `::a.b.c.d` and `::ffff:a.b.c.d` keep the IPv4 dotted tail.
fn inet6_text(a: &[u8; 16], out: &mut String) {
    use std::fmt::Write;
    let words: [u16; 8] = std::array::from_fn(|i| u16::from_be_bytes([a[2 * i], a[2 * i + 1]]));
    let (mut best_base, mut best_len) = (usize::MAX, 0usize);
    let (mut cur_base, mut cur_len) = (usize::MAX, 0usize);
    for (i, &w) in words.iter().enumerate() {
        if w == 0 {
            if cur_base == usize::MAX {
                cur_base = i;
                cur_len = 1;
            } else {
                cur_len += 1;
            }
        } else if cur_base != usize::MAX {
            if best_base == usize::MAX || cur_len > best_len {
                best_base = cur_base;
                best_len = cur_len;
            }
            cur_base = usize::MAX;
        }
    }
    if cur_base != usize::MAX && (best_base == usize::MAX || cur_len > best_len) {
        best_base = cur_base;
        best_len = cur_len;
    }
    if best_base != usize::MAX && best_len < 2 {
        best_base = usize::MAX;
    }
    let mut i = 0;
    while i < 8 {
        if best_base != usize::MAX && i >= best_base && i < best_base + best_len {
            if i == best_base {
                out.push(':');
            }
            i += 1;
            continue;
        }
        if i != 0 {
            out.push(':');
        }
        if i == 6 && best_base == 0 && (best_len == 6 || (best_len == 5 && words[5] == 0xffff)) {
            let _ = write!(out, "{}.{}.{}.{}", a[12], a[13], a[14], a[15]);
            return;
        }
        let _ = write!(out, "{:x}", words[i]);
        i += 1;
    }
    if best_base != usize::MAX && best_base + best_len == 8 {
        out.push(':');
    }
}

fn if_name(index: u32) -> Option<String> {
    let mut buf = [0u8; libc::IF_NAMESIZE + 1];
    // SAFETY: buf has room for IF_NAMESIZE bytes plus NUL as if_indextoname requires.
    let p = unsafe { libc::if_indextoname(index, buf.as_mut_ptr().cast()) };
    if p.is_null() {
        return None;
    }
    let len = buf.iter().position(|&c| c == 0).unwrap_or(buf.len());
    Some(String::from_utf8_lossy(&buf[..len]).into_owned())
}

/// C `%.Ns` of a byte string: up to N bytes, stopping at NUL.
fn c_str_n(b: &[u8], n: usize) -> &[u8] {
    let b = &b[..b.len().min(n)];
    match b.iter().position(|&c| c == 0) {
        Some(p) => &b[..p],
        None => b,
    }
}

fn print_sockaddr(v: &[u8], out: &mut Vec<u8>) {
    let slen = v.len() / 2;
    let mut host = Vec::with_capacity(slen + 32);
    if !unhex_into(v, &mut host) {
        out.extend_from_slice(b"malformed-host(");
        out.extend_from_slice(v);
        out.push(b')');
        return;
    }
    // auparse reads the C struct from a zero-padded buffer.
    let decoded_len = host.len();
    host.resize(decoded_len.max(slen) + 128, 0);
    let family = u16::from_le_bytes([host[0], host[1]]);
    let Some(fam) = names::family_name(u32::from(family)) else {
        out.extend_from_slice(format!("unknown-family({family})").as_bytes());
        return;
    };
    let fam = fam.as_bytes();
    let mut s = Vec::with_capacity(64);
    s.extend_from_slice(b"{ saddr_fam=");
    s.extend_from_slice(fam);
    match family {
        1 => {
            if slen < 4 {
                s.extend_from_slice(b" sockaddr len too short }");
            } else {
                let path = &host[2..];
                let p = if path[0] != 0 {
                    c_str_n(path, 108)
                } else {
                    c_str_n(&path[1..], 108)
                };
                s.extend_from_slice(b" path=");
                s.extend_from_slice(p);
                s.extend_from_slice(b" }");
            }
        }
        2 => {
            if slen < 16 {
                s.extend_from_slice(b" sockaddr len too short }");
            } else {
                let port = u16::from_be_bytes([host[2], host[3]]);
                s.extend_from_slice(
                    format!(
                        " laddr={}.{}.{}.{} lport={port} }}",
                        host[4], host[5], host[6], host[7]
                    )
                    .as_bytes(),
                );
            }
        }
        3 => {
            s.extend_from_slice(b" call=");
            s.extend_from_slice(&host[2..9]);
            s.extend_from_slice(b" }");
        }
        8 => {
            // struct sockaddr_atmpvc: sap_addr is __ATM_API_ALIGN'ed (8 bytes).
            let itf = i16::from_le_bytes([host[8], host[9]]);
            s.extend_from_slice(format!(" int={itf} }}").as_bytes());
        }
        9 => {
            s.extend_from_slice(b" laddr=");
            s.extend_from_slice(c_str_n(&host[2..], 15));
            s.extend_from_slice(b" }");
        }
        10 => {
            if slen < 28 {
                s.extend_from_slice(b" sockaddr6 len too short }");
            } else {
                let port = u16::from_be_bytes([host[2], host[3]]);
                let mut addr = [0u8; 16];
                addr.copy_from_slice(&host[8..24]);
                let scope = u32::from_le_bytes([host[24], host[25], host[26], host[27]]);
                let mut text = String::with_capacity(48);
                inet6_text(&addr, &mut text);
                if scope != 0 {
                    let link_local = (addr[0] == 0xfe && (addr[1] & 0xc0) == 0x80)
                        || (addr[0] == 0xff && (addr[1] & 0x0f) == 0x02);
                    text.push('%');
                    match if_name(scope).filter(|_| link_local) {
                        Some(n) => text.push_str(&n),
                        None => text.push_str(&scope.to_string()),
                    }
                }
                s.extend_from_slice(format!(" laddr={text} lport={port} }}").as_bytes());
            }
        }
        16 => {
            if slen < 12 {
                s.extend_from_slice(b" len too short }");
            } else {
                let pid = u32::from_le_bytes([host[4], host[5], host[6], host[7]]);
                s.extend_from_slice(format!(" nlnk-fam={family} nlnk-pid={pid} }}").as_bytes());
            }
        }
        _ => s.extend_from_slice(b" (unsupported) }"),
    }
    // The C code builds a C string: anything after a NUL is gone.
    let start = out.len();
    out.extend_from_slice(&s);
    cut_at_nul(out, start);
}

fn print_cap_bitmap(v: &[u8], out: &mut Vec<u8>) {
    let Ok(bits) = c_strtoul(v, 16) else {
        return conversion_error(v, out);
    };
    let mut first = true;
    for (i, name) in names::CAPABILITIES.iter().enumerate() {
        if bits & (1u64 << i) != 0 {
            if !first {
                out.push(b',');
            }
            out.extend_from_slice(name.as_bytes());
            first = false;
        }
    }
    if first {
        out.extend_from_slice(b"none");
    }
}

fn print_signal(v: &[u8], base: u32, out: &mut Vec<u8>) {
    let Ok(n) = c_strtoul(v, base) else {
        return conversion_error(v, out);
    };
    let i = n as i32;
    if (0..32).contains(&i) {
        out.extend_from_slice(names::SIGNALS[i as usize].as_bytes());
        return;
    }
    out.extend_from_slice(b"unknown-signal(");
    if base == 16 {
        out.extend_from_slice(b"0x");
    }
    out.extend_from_slice(v);
    out.push(b')');
}

fn print_capability(v: &[u8], base: u32, out: &mut Vec<u8>) {
    let Ok(n) = c_strtoul(v, base) else {
        return conversion_error(v, out);
    };
    match names::capability_name(u64::from(n as i32 as u32)).filter(|_| (n as i32) >= 0) {
        Some(s) => out.extend_from_slice(s.as_bytes()),
        None => {
            out.extend_from_slice(b"unknown-capability(");
            if base == 16 {
                out.extend_from_slice(b"0x");
            }
            out.extend_from_slice(v);
            out.push(b')');
        }
    }
}

fn print_socket_domain(v: &[u8], out: &mut Vec<u8>) {
    let Ok(n) = c_strtoul(v, 16) else {
        return conversion_error(v, out);
    };
    match names::family_name(n as i32 as u32) {
        Some(s) => out.extend_from_slice(s.as_bytes()),
        None => {
            out.extend_from_slice(b"unknown-family(0x");
            out.extend_from_slice(v);
            out.push(b')');
        }
    }
}

fn print_socket_type(v: &[u8], out: &mut Vec<u8>) {
    let Ok(n) = c_strtoul(v, 16) else {
        return conversion_error(v, out);
    };
    // auparse socktypetab.h (SOCK_* from linux/net.h); flags above 0xff are dropped.
    let name = match n & 0xff {
        1 => "SOCK_STREAM",
        2 => "SOCK_DGRAM",
        3 => "SOCK_RAW",
        4 => "SOCK_RDM",
        5 => "SOCK_SEQPACKET",
        6 => "SOCK_DCCP",
        10 => "SOCK_PACKET",
        _ => {
            out.extend_from_slice(b"unknown-type(");
            out.extend_from_slice(v);
            out.push(b')');
            return;
        }
    };
    out.extend_from_slice(name.as_bytes());
}

fn hex_fallback(v: &[u8], out: &mut Vec<u8>) {
    out.extend_from_slice(b"0x");
    out.extend_from_slice(v);
}

/// `open(2)` flags (auparse `open-flagtab.h`; O_RDONLY is written when the
/// access mode bits are 0).
static OPEN_FLAGS: [(u64, &str); 18] = [
    (0o1, "O_WRONLY"),
    (0o2, "O_RDWR"),
    (0o100, "O_CREAT"),
    (0o200, "O_EXCL"),
    (0o400, "O_NOCTTY"),
    (0o1000, "O_TRUNC"),
    (0o2000, "O_APPEND"),
    (0o4000, "O_NONBLOCK"),
    (0o10000, "O_DSYNC"),
    (0o20000, "O_ASYNC"),
    (0o40000, "O_DIRECT"),
    (0o200000, "O_DIRECTORY"),
    (0o400000, "O_NOFOLLOW"),
    (0o1000000, "O_NOATIME"),
    (0o2000000, "O_CLOEXEC"),
    (0o4000000, "__O_SYNC"),
    (0o10000000, "O_PATH"),
    (0o20000000, "__O_TMPFILE"),
];

/// `mmap(2)` flags (auparse `mmaptab.h`; MAP_FILE when the low nibble is 0).
static MMAP_FLAGS: [(u64, &str); 19] = [
    (0x1, "MAP_SHARED"),
    (0x2, "MAP_PRIVATE"),
    (0x10, "MAP_FIXED"),
    (0x20, "MAP_ANONYMOUS"),
    (0x40, "MAP_32BIT"),
    (0x100, "MAP_GROWSDOWN"),
    (0x800, "MAP_DENYWRITE"),
    (0x1000, "MAP_EXECUTABLE"),
    (0x2000, "MAP_LOCKED"),
    (0x4000, "MAP_NORESERVE"),
    (0x8000, "MAP_POPULATE"),
    (0x10000, "MAP_NONBLOCK"),
    (0x20000, "MAP_STACK"),
    (0x40000, "MAP_HUGETLB"),
    (0x80000, "MAP_SYNC"),
    (0x100000, "MAP_FIXED_NOREPLACE"),
    (0x4000000, "MAP_UNINITIALIZED"),
    (0, ""),
    (0, ""),
];

static PROT_FLAGS: [(u64, &str); 4] = [
    (1, "PROT_READ"),
    (2, "PROT_WRITE"),
    (4, "PROT_EXEC"),
    (8, "PROT_SEM"),
];

static ACCESS_FLAGS: [(u64, &str); 3] = [(1, "X_OK"), (2, "W_OK"), (4, "R_OK")];

/// Flags joined by `|` (the value is read as a C unsigned int); `first` is
/// written before them when given; nothing at all gives `0x<value>`.
fn print_flags(v: &[u8], table: &[(u64, &str)], first: Option<&str>, out: &mut Vec<u8>) {
    let Ok(n) = c_strtoul(v, 16) else {
        return conversion_error(v, out);
    };
    let n = u64::from(n as u32);
    let start = out.len();
    if let Some(f) = first {
        out.extend_from_slice(f.as_bytes());
    }
    for (bit, name) in table {
        if *bit != 0 && n & bit != 0 {
            if out.len() != start {
                out.push(b'|');
            }
            out.extend_from_slice(name.as_bytes());
        }
    }
    if out.len() == start {
        hex_fallback(v, out);
    }
}

fn print_open_flags(v: &[u8], out: &mut Vec<u8>) {
    let rdonly = c_strtoul(v, 16).is_ok_and(|n| n & 3 == 0);
    print_flags(v, &OPEN_FLAGS, rdonly.then_some("O_RDONLY"), out)
}

fn print_mmap_flags(v: &[u8], out: &mut Vec<u8>) {
    let file = c_strtoul(v, 16).is_ok_and(|n| n & 0xf == 0);
    print_flags(v, &MMAP_FLAGS, file.then_some("MAP_FILE"), out)
}

fn print_prot(v: &[u8], is_mmap: bool, out: &mut Vec<u8>) {
    let Ok(n) = c_strtoul(v, 16) else {
        return conversion_error(v, out);
    };
    if n & 7 == 0 {
        return out.extend_from_slice(b"PROT_NONE");
    }
    let table = if is_mmap {
        &PROT_FLAGS[..]
    } else {
        &PROT_FLAGS[..3]
    };
    print_flags(v, table, None, out)
}

fn print_access(v: &[u8], out: &mut Vec<u8>) {
    let Ok(n) = c_strtoul(v, 16) else {
        return conversion_error(v, out);
    };
    if n & 0xf == 0 {
        return out.extend_from_slice(b"F_OK");
    }
    print_flags(v, &ACCESS_FLAGS, None, out)
}

fn print_dirfd(v: &[u8], out: &mut Vec<u8>) {
    match c_strtoul(v, 16) {
        Ok(n) if n as u32 == 0xffff_ff9c => out.extend_from_slice(b"AT_FDCWD"),
        Ok(_) => hex_fallback(v, out),
        Err(()) => conversion_error(v, out),
    }
}

fn print_socketcall(v: &[u8], out: &mut Vec<u8>) {
    let Ok(n) = c_strtoul(v, 16) else {
        return conversion_error(v, out);
    };
    match socketcall_name(u64::from(n as u32)).filter(|_| n as i32 >= 0) {
        Some(s) => out.extend_from_slice(s.as_bytes()),
        None => {
            out.extend_from_slice(b"unknown-socketcall(");
            out.extend_from_slice(v);
            out.push(b')');
        }
    }
}

fn print_socket_proto(v: &[u8], out: &mut Vec<u8>) {
    let Ok(n) = c_strtoul(v, 16) else {
        return conversion_error(v, out);
    };
    match names::protocol_name(u64::from(n as u32)) {
        Some(s) => out.extend_from_slice(s.as_bytes()),
        None => {
            out.extend_from_slice(b"unknown-proto(");
            out.extend_from_slice(v);
            out.push(b')');
        }
    }
}

/// clone(2)/unshare(2) flags (auparse `clone-flagtab.h`; read as a C unsigned
/// int, so CLONE_CLEAR_SIGHAND (bit 32) never shows).
static CLONE_FLAGS: [(u64, &str); 23] = [
    (0x100, "CLONE_VM"),
    (0x200, "CLONE_FS"),
    (0x400, "CLONE_FILES"),
    (0x800, "CLONE_SIGHAND"),
    (0x2000, "CLONE_PTRACE"),
    (0x4000, "CLONE_VFORK"),
    (0x8000, "CLONE_PARENT"),
    (0x10000, "CLONE_THREAD"),
    (0x20000, "CLONE_NEWNS"),
    (0x40000, "CLONE_SYSVSEM"),
    (0x80000, "CLONE_SETTLS"),
    (0x100000, "CLONE_PARENT_SETTID"),
    (0x200000, "CLONE_CHILD_CLEARTID"),
    (0x400000, "CLONE_DETACHED"),
    (0x800000, "CLONE_UNTRACED"),
    (0x1000000, "CLONE_CHILD_SETTID"),
    (0x2000000, "CLONE_STOPPED"),
    (0x4000000, "CLONE_NEWUTS"),
    (0x8000000, "CLONE_NEWIPC"),
    (0x10000000, "CLONE_NEWUSER"),
    (0x20000000, "CLONE_NEWPID"),
    (0x40000000, "CLONE_NEWNET"),
    (0x80000000, "CLONE_IO"),
];

fn print_clone_flags(v: &[u8], out: &mut Vec<u8>) {
    let Ok(n) = c_strtoul(v, 16) else {
        return conversion_error(v, out);
    };
    let flags = n as u32;
    let start = out.len();
    for (bit, name) in CLONE_FLAGS {
        if u64::from(flags) & bit != 0 {
            if out.len() != start {
                out.push(b'|');
            }
            out.extend_from_slice(name.as_bytes());
        }
    }
    let sig = flags & 0xff;
    if sig != 0 && sig < 32 {
        if out.len() != start {
            out.push(b'|');
        }
        out.extend_from_slice(names::SIGNALS[sig as usize].as_bytes());
    }
    if out.len() == start {
        out.extend_from_slice(format!("0x{flags:x}").as_bytes());
    }
}

const O_CREAT: u64 = 0o100;

/// auparse's `*_i2s()`: the first entry of the table with this value (the
/// tables are keyed by C ints, so compare 32 bits).
fn lookup(table: &[(u64, &'static str)], key: u64) -> Option<&'static str> {
    let key = key as u32;
    table
        .iter()
        .find(|(v, _)| *v as u32 == key)
        .map(|(_, n)| *n)
}

fn unknown(out: &mut Vec<u8>, prefix: &str, hex: &str, v: &[u8]) {
    out.extend_from_slice(prefix.as_bytes());
    out.extend_from_slice(hex.as_bytes());
    out.extend_from_slice(v);
    out.push(b')');
}

/// A hex value looked up in `table`, else `<prefix><hex><value>)`.
fn print_table16(
    v: &[u8],
    table: &[(u64, &'static str)],
    prefix: &str,
    hex: &str,
    out: &mut Vec<u8>,
) {
    match c_strtoul(v, 16) {
        Ok(n) => match lookup(table, n) {
            Some(s) => out.extend_from_slice(s.as_bytes()),
            None => unknown(out, prefix, hex, v),
        },
        Err(()) => conversion_error(v, out),
    }
}

fn print_personality(v: &[u8], out: &mut Vec<u8>) {
    const PER_MASK: u64 = 0xff;
    const ADDR_NO_RANDOMIZE: u64 = 0x0040000;
    let Ok(n) = c_strtoul(v, 16) else {
        return conversion_error(v, out);
    };
    let pers = u64::from(n as u32);
    match lookup(tables::PERSONALITIES, pers & PER_MASK) {
        Some(s) => {
            out.extend_from_slice(s.as_bytes());
            if pers & ADDR_NO_RANDOMIZE != 0 {
                out.extend_from_slice(b"|~ADDR_NO_RANDOMIZE");
            }
        }
        None => unknown(out, "unknown-personality(", "0x", v),
    }
}

/// A small enumeration (auparse prints it only below `limit`).
fn print_limited(
    v: &[u8],
    table: &[(u64, &'static str)],
    limit: i32,
    prefix: &str,
    out: &mut Vec<u8>,
) {
    let Ok(n) = c_strtoul(v, 16) else {
        return conversion_error(v, out);
    };
    let i = n as i32;
    if i < limit {
        if let Some(s) = lookup(table, n) {
            return out.extend_from_slice(s.as_bytes());
        }
    }
    unknown(out, prefix, "0x", v)
}

/// A command printed as a decimal int when unknown (fcntl, epoll_ctl).
fn print_decimal_fallback(
    v: &[u8],
    table: &[(u64, &'static str)],
    prefix: &str,
    out: &mut Vec<u8>,
) {
    let Ok(n) = c_strtoul(v, 16) else {
        return conversion_error(v, out);
    };
    match lookup(table, n) {
        Some(s) => out.extend_from_slice(s.as_bytes()),
        None => {
            out.extend_from_slice(prefix.as_bytes());
            out.extend_from_slice((n as i32).to_string().as_bytes());
            out.push(b')');
        }
    }
}

fn print_seek(v: &[u8], out: &mut Vec<u8>) {
    let Ok(n) = c_strtoul(v, 16) else {
        return conversion_error(v, out);
    };
    match lookup(tables::SEEK_WHENCE, n & 0xff) {
        Some(s) => out.extend_from_slice(s.as_bytes()),
        None => unknown(out, "unknown-whence(", "", v),
    }
}

fn print_sched(v: &[u8], out: &mut Vec<u8>) {
    const SCHED_RESET_ON_FORK: u64 = 0x4000_0000;
    let Ok(n) = c_strtoul(v, 16) else {
        return conversion_error(v, out);
    };
    let pol = u64::from(n as u32);
    match lookup(tables::SCHED_POLICIES, pol & 0x0f) {
        Some(s) => {
            out.extend_from_slice(s.as_bytes());
            if pol & SCHED_RESET_ON_FORK != 0 {
                out.extend_from_slice(b"|SCHED_RESET_ON_FORK");
            }
        }
        None => unknown(out, "unknown-scheduler-policy(", "0x", v),
    }
}

fn print_sock_opt_level(v: &[u8], out: &mut Vec<u8>) {
    let Ok(n) = c_strtoul(v, 16) else {
        return conversion_error(v, out);
    };
    let lvl = n as i32;
    if lvl == 1 {
        return out.extend_from_slice(b"SOL_SOCKET");
    }
    // getprotobynumber() first, as auparse does.
    if let Some(p) = u64::try_from(lvl).ok().and_then(names::protocol_name) {
        return out.extend_from_slice(p.as_bytes());
    }
    match lookup(tables::SOCKET_LEVELS, n) {
        Some(s) => out.extend_from_slice(s.as_bytes()),
        None => unknown(out, "unknown-sockopt-level(", "0x", v),
    }
}

fn print_sock_opt_name(rec: &Record, v: &[u8], out: &mut Vec<u8>) {
    let Ok(n) = c_strtoul(v, 16) else {
        return conversion_error(v, out);
    };
    let mut opt = n as i32;
    // PPC numbers some SOL_SOCKET options differently; auparse shifts them.
    if matches!(
        rec.machine,
        Some(names::Machine::Ppc64 | names::Machine::Ppc)
    ) && (16..=21).contains(&opt)
    {
        opt += 100;
    }
    match lookup(tables::SOCKET_OPTION_NAMES, opt as u32 as u64) {
        Some(s) => out.extend_from_slice(s.as_bytes()),
        None => unknown(out, "unknown-sockopt-name(", "0x", v),
    }
}

fn print_udp_opt_name(v: &[u8], out: &mut Vec<u8>) {
    let Ok(n) = c_strtoul(v, 16) else {
        return conversion_error(v, out);
    };
    match n as i32 {
        1 => out.extend_from_slice(b"UDP_CORK"),
        100 => out.extend_from_slice(b"UDP_ENCAP"),
        _ => unknown(out, "unknown-udpopt-name(", "0x", v),
    }
}

fn print_ioctl_req(v: &[u8], out: &mut Vec<u8>) {
    let Ok(n) = c_strtoul(v, 16) else {
        return conversion_error(v, out);
    };
    match lookup(tables::IOCTL_REQUESTS, n) {
        Some(s) => out.extend_from_slice(s.as_bytes()),
        None => out.extend_from_slice(format!("0x{:x}", n as u32).as_bytes()),
    }
}

fn print_shm_flags(v: &[u8], out: &mut Vec<u8>) {
    let Ok(n) = c_strtoul(v, 16) else {
        return conversion_error(v, out);
    };
    let flags = u64::from(n as u32);
    let start = out.len();
    for table_mask in [
        (tables::IPC_COMMAND_FLAGS, 0o3000u64),
        (tables::SHM_MODE_FLAGS, 0o14000),
    ] {
        let (table, mask) = table_mask;
        for (bit, name) in table {
            if flags & mask & bit != 0 {
                if out.len() != start {
                    out.push(b'|');
                }
                out.extend_from_slice(name.as_bytes());
            }
        }
    }
    if out.len() != start {
        out.push(b'|');
    }
    // auparse's print_mode_short_int() of the permission bits: "0ooo".
    out.push(b'0');
    push_octal3(out, (flags & 0o777) as u32);
}

/// The syscall arguments auparse decodes (`print_a0`..`print_a3` of
/// interpret.c), following its dispatch — which in places goes by the first
/// letter of the syscall name, so a name in the "wrong" branch falls back.
/// Anything else prints as `0x<hex>`, auparse's own fallback.
fn print_arg(rec: &Record, which: u8, v: &[u8], out: &mut Vec<u8>) {
    let Some(sys) = rec.syscall_name else {
        return hex_fallback(v, out);
    };
    let first = sys.as_bytes().first().copied().unwrap_or(0);
    let rest = sys.get(1..).unwrap_or("");
    match which {
        0 => print_a0(rec, sys, first, rest, v, out),
        1 => print_a1(rec, sys, first, rest, v, out),
        2 => print_a2(rec, sys, first, rest, v, out),
        _ => print_a3(sys, first, v, out),
    }
}

fn print_a0(rec: &Record, sys: &str, first: u8, rest: &str, v: &[u8], out: &mut Vec<u8>) {
    let _ = rec;
    match first {
        b'r' => match sys {
            "rt_sigaction" => print_signal(v, 16, out),
            "readlinkat" => print_dirfd(v, out),
            s if s.starts_with("renameat") => print_dirfd(v, out),
            _ => hex_fallback(v, out),
        },
        b'c' => match sys {
            "clock_settime" => print_limited(v, tables::CLOCK_IDS, 7, "unknown-clk_id(", out),
            _ => hex_fallback(v, out),
        },
        b'p' => match sys {
            "personality" => print_personality(v, out),
            "ptrace" => print_table16(v, tables::PTRACE_REQUESTS, "unknown-ptrace(", "0x", out),
            "prctl" => print_table16(v, tables::PRCTL_OPTIONS, "unknown-prctl-option(", "0x", out),
            _ => hex_fallback(v, out),
        },
        b'm' => match sys {
            "mkdirat" | "mknodat" => print_dirfd(v, out),
            _ => hex_fallback(v, out),
        },
        b'f' => match sys {
            "fchownat" | "futimesat" | "fchmodat" | "futimensat" => print_dirfd(v, out),
            s if s.starts_with("faccessat") => print_dirfd(v, out),
            _ => hex_fallback(v, out),
        },
        b'u' => match sys {
            "unshare" => print_clone_flags(v, out),
            "unlinkat" | "utimensat" => print_dirfd(v, out),
            _ => hex_fallback(v, out),
        },
        _ if rest == "etrlimit" => print_limited(v, tables::RLIMITS, 17, "unknown-rlimit(", out),
        b's' => match sys {
            "setuid" | "setreuid" | "setresuid" | "setfsuid" => print_uid(v, 16, false, out),
            "setgid" | "setregid" | "setresgid" | "setfsgid" => print_uid(v, 16, true, out),
            "socket" => print_socket_domain(v, out),
            "socketcall" => print_socketcall(v, out),
            _ => hex_fallback(v, out),
        },
        _ => match sys {
            "linkat" | "newfstatat" | "name_to_handle_at" => print_dirfd(v, out),
            s if s.starts_with("openat") => print_dirfd(v, out),
            s if s.starts_with("exit") => out.extend_from_slice(match v {
                b"0" => b"EXIT_SUCCESS".as_slice(),
                b"1" => b"EXIT_FAILURE",
                _ => b"UNKNOWN",
            }),
            "bpf" => print_table16(v, tables::BPF_COMMANDS, "unknown-bpf-cmd(", "", out),
            _ => hex_fallback(v, out),
        },
    }
}

fn print_a1(rec: &Record, sys: &str, first: u8, rest: &str, v: &[u8], out: &mut Vec<u8>) {
    match (first, sys) {
        (b'f', "fchmod") => return print_mode_short(v, 16, out),
        (b'f', s) if s.starts_with("fcntl") => {
            return print_decimal_fallback(v, tables::FCNTL_COMMANDS, "unknown-fcntl-command(", out)
        }
        (b'c', "chmod" | "creat") => return print_mode_short(v, 16, out),
        (b'c', s) if s.contains("chown") => return print_uid(v, 16, false, out),
        _ => {}
    }
    if rest == "etsockopt" {
        return print_sock_opt_level(v, out);
    }
    match first {
        b's' => match sys {
            "setreuid" | "setresuid" => print_uid(v, 16, false, out),
            "setregid" | "setresgid" => print_uid(v, 16, true, out),
            "socket" => print_socket_type(v, out),
            "setns" => print_clone_flags(v, out),
            "sched_setscheduler" => print_sched(v, out),
            _ => hex_fallback(v, out),
        },
        b'm' => match sys {
            "mkdir" => print_mode_short(v, 16, out),
            "mknod" => print_mode(v, 16, out),
            "mq_open" => print_open_flags(v, out),
            _ => hex_fallback(v, out),
        },
        _ => match sys {
            "open" => print_open_flags(v, out),
            "access" => print_access(v, out),
            "epoll_ctl" => print_decimal_fallback(
                v,
                tables::EPOLL_CTL_OPS,
                "unknown-epoll_ctl-operation(",
                out,
            ),
            "kill" | "tkill" => print_signal(v, 16, out),
            "prctl" => match rec.a0 {
                // PR_CAPBSET_READ, PR_CAPBSET_DROP
                23 | 24 => print_capability(v, 16, out),
                // PR_SET_PDEATHSIG
                1 => print_signal(v, 16, out),
                _ => hex_fallback(v, out),
            },
            "umount2" => print_flags(v, tables::UMOUNT_FLAGS, None, out),
            "ioctl" => print_ioctl_req(v, out),
            _ => hex_fallback(v, out),
        },
    }
}

fn print_a2(rec: &Record, sys: &str, first: u8, rest: &str, v: &[u8], out: &mut Vec<u8>) {
    if sys.starts_with("fcntl") {
        // F_SETOWN takes a uid-like owner; F_SETFD's FD_CLOEXEC is named.
        return match (rec.a1, c_strtoul(v, 16)) {
            (_, Err(())) => conversion_error(v, out),
            (8, Ok(_)) => print_uid(v, 16, false, out),
            (2, Ok(1)) => out.extend_from_slice(b"FD_CLOEXEC"),
            _ => hex_fallback(v, out),
        };
    }
    if rest == "etsockopt" {
        return match rec.a1 {
            0 => print_table16(v, tables::IP_OPTION_NAMES, "unknown-ipopt-name(", "0x", out),
            1 => print_sock_opt_name(rec, v, out),
            6 => print_table16(
                v,
                tables::TCP_OPTION_NAMES,
                "unknown-tcpopt-name(",
                "0x",
                out,
            ),
            17 => print_udp_opt_name(v, out),
            41 => print_table16(
                v,
                tables::IP6_OPTION_NAMES,
                "unknown-ip6opt-name(",
                "0x",
                out,
            ),
            263 => print_table16(
                v,
                tables::PACKET_OPTION_NAMES,
                "unknown-pktopt-name(",
                "0x",
                out,
            ),
            _ => hex_fallback(v, out),
        };
    }
    match first {
        b'o' => match sys {
            "openat" | "open_by_handle_at" => print_open_flags(v, out),
            "open" if rec.a1 & O_CREAT != 0 => print_mode_short(v, 16, out),
            _ => hex_fallback(v, out),
        },
        b'f' => match sys {
            "fchmodat" => print_mode_short(v, 16, out),
            s if s.starts_with("faccessat") => print_access(v, out),
            _ => hex_fallback(v, out),
        },
        b's' => match sys {
            "setresuid" => print_uid(v, 16, false, out),
            "setresgid" => print_uid(v, 16, true, out),
            "socket" => print_socket_proto(v, out),
            "sendmsg" => print_flags(v, tables::RECV_FLAGS, None, out),
            "shmget" => print_shm_flags(v, out),
            _ => hex_fallback(v, out),
        },
        b'm' => match sys {
            "mmap" => print_prot(v, true, out),
            "mkdirat" | "mknodat" => print_mode_short(v, 16, out),
            "mprotect" => print_prot(v, false, out),
            "mq_open" if rec.a1 & O_CREAT != 0 => print_mode_short(v, 16, out),
            _ => hex_fallback(v, out),
        },
        b'r' => match sys {
            "recvmsg" => print_flags(v, tables::RECV_FLAGS, None, out),
            "readlinkat" => print_dirfd(v, out),
            s if s.starts_with("renameat") => print_dirfd(v, out),
            _ => hex_fallback(v, out),
        },
        b'l' => match sys {
            "linkat" => print_dirfd(v, out),
            "lseek" => print_seek(v, out),
            _ => hex_fallback(v, out),
        },
        b'c' => match sys {
            "clone" | "clone2" => print_clone_flags(v, out),
            _ => hex_fallback(v, out),
        },
        _ => match sys {
            s if s.contains("chown") => print_uid(v, 16, true, out),
            "tgkill" => print_signal(v, 16, out),
            _ => hex_fallback(v, out),
        },
    }
}

fn print_a3(sys: &str, first: u8, v: &[u8], out: &mut Vec<u8>) {
    match (first, sys) {
        (b'm', "mmap") => print_mmap_flags(v, out),
        (b'm', "mount") => print_flags(v, tables::MOUNT_FLAGS, None, out),
        (b'r', "recv" | "recvfrom" | "recvmmsg") | (b's', "send" | "sendto" | "sendmmsg") => {
            print_flags(v, tables::RECV_FLAGS, None, out)
        }
        _ => hex_fallback(v, out),
    }
}

fn print_tty_data(v: &[u8], quoted: bool, out: &mut Vec<u8>) {
    if quoted || !is_hex_string(v) {
        return as_written(v, quoted, out);
    }
    let mut data = Vec::with_capacity(v.len() / 2);
    if !unhex_into(v, &mut data) {
        return;
    }
    let mut in_printable = false;
    let start = out.len();
    let mut i = 0;
    while i < data.len() {
        let c = data[i];
        // Named keys (auparse tty_find_named_key): first match in table order.
        let named = if c >= b' ' && !(0x7f..0xa0).contains(&c) {
            None
        } else {
            names::TTY_NAMED_KEYS
                .iter()
                .find(|(seq, _)| data[i..].starts_with(seq))
        };
        match named {
            Some((seq, name)) => {
                if in_printable {
                    out.push(b'"');
                    in_printable = false;
                }
                if out.len() != start {
                    out.push(b',');
                }
                out.push(b'<');
                out.extend_from_slice(name.as_bytes());
                out.push(b'>');
                i += seq.len();
            }
            None => {
                if !in_printable {
                    if out.len() != start {
                        out.push(b',');
                    }
                    out.push(b'"');
                    in_printable = true;
                }
                if !(0x20..=0x7e).contains(&c) {
                    out.extend_from_slice(&[
                        b'\\',
                        b'0' + ((c >> 6) & 7),
                        b'0' + ((c >> 3) & 7),
                        b'0' + (c & 7),
                    ]);
                } else {
                    if c == b'\\' || c == b'"' {
                        out.push(b'\\');
                    }
                    out.push(c);
                }
                i += 1;
            }
        }
    }
    if in_printable {
        out.push(b'"');
    }
}

fn as_written(v: &[u8], quoted: bool, out: &mut Vec<u8>) {
    if quoted {
        out.push(b'"');
        out.extend_from_slice(v);
        out.push(b'"');
    } else {
        out.extend_from_slice(v);
    }
}

/// Interpret `v` (quotes removed; `quoted` says whether it had them) as `kind`,
/// appending the unescaped text to `out`.
fn interpret_kind(rec: &Record, kind: FieldKind, v: &[u8], quoted: bool, out: &mut Vec<u8>) {
    use FieldKind::*;
    // auparse hands the value as written (with its quotes) to numeric decoders;
    // strtoul of `"123"` reads no digit and gives 0.
    let num: &[u8] = if quoted { b"\"" } else { v };
    match kind {
        Uid => print_uid(num, 10, false, out),
        Gid => print_uid(num, 10, true, out),
        Syscall => print_syscall(rec, v, out),
        Arch => print_arch(num, out),
        Exit => print_exit(num, out),
        Escaped | EscapedFile | EscapedKey => print_escaped(v, quoted, out),
        Perm => print_perm(num, out),
        Mode => print_mode(num, 8, out),
        ModeShort => print_mode_short(num, 8, out),
        Sockaddr => {
            if quoted {
                // au_unescape of `"...` finds no hex digit.
                out.extend_from_slice(b"malformed-host(\"");
                out.extend_from_slice(v);
                out.extend_from_slice(b"\")");
            } else {
                print_sockaddr(v, out)
            }
        }
        Flags => {
            let Ok(n) = c_strtoul(num, 16) else {
                return conversion_error(v, out);
            };
            let n = n as u32;
            if n == 0 {
                out.extend_from_slice(b"none");
                return;
            }
            let mut first = true;
            for (bit, name) in names::PATH_FLAGS {
                if n & bit != 0 {
                    if !first {
                        out.push(b',');
                    }
                    out.extend_from_slice(name.as_bytes());
                    first = false;
                }
            }
            if first {
                hex_fallback(v, out);
            }
        }
        Promisc => match c_strtoll(num) {
            Ok(0) => out.extend_from_slice(b"no"),
            Ok(_) => out.extend_from_slice(b"yes"),
            Err(()) => conversion_error(v, out),
        },
        Capability => print_capability(num, 10, out),
        Success => {
            if !quoted && v.first().is_some_and(u8::is_ascii_digit) {
                match c_strtoul(v, 10) {
                    Ok(n) => out.extend_from_slice(match n as i32 {
                        0 => b"no".as_slice(),
                        1 => b"yes",
                        _ => b"unset",
                    }),
                    Err(()) => conversion_error(v, out),
                }
            } else {
                as_written(v, quoted, out)
            }
        }
        A0 => print_arg(rec, 0, v, out),
        A1 => print_arg(rec, 1, v, out),
        A2 => print_arg(rec, 2, v, out),
        A3 => print_arg(rec, 3, v, out),
        Signal => print_signal(num, 10, out),
        List => match c_strtoul(num, 10) {
            Ok(n) => match names::filter_list_name(u64::from(n as i32 as u32)) {
                Some(s) => out.extend_from_slice(s.as_bytes()),
                None => {
                    out.extend_from_slice(b"unknown-list(");
                    out.extend_from_slice(v);
                    out.push(b')');
                }
            },
            Err(()) => conversion_error(v, out),
        },
        TtyData => print_tty_data(v, quoted, out),
        Session => {
            if !quoted && v == b"4294967295" {
                out.extend_from_slice(b"unset");
            } else {
                as_written(v, quoted, out)
            }
        }
        CapBitmap => print_cap_bitmap(num, out),
        Protocol => match c_strtoul(num, 10) {
            Ok(n) => match names::protocol_name(u64::from(n as i32 as u32)) {
                Some(s) => out.extend_from_slice(s.as_bytes()),
                None => out.extend_from_slice(b"undefined protocol"),
            },
            Err(()) => conversion_error(v, out),
        },
        Seccomp => match c_strtoul(num, 16) {
            Ok(n) => match names::seccomp_action_name(n & 0x7fff_0000) {
                Some(s) => out.extend_from_slice(s.as_bytes()),
                None => {
                    out.extend_from_slice(b"unknown-seccomp-code(");
                    out.extend_from_slice(v);
                    out.push(b')');
                }
            },
            Err(()) => conversion_error(v, out),
        },
        Proctitle => print_proctitle(v, quoted, out),
        Macproto => match c_strtoul(num, 16) {
            Ok(0x0800) => out.extend_from_slice(b"IP"),
            Ok(0x0806) => out.extend_from_slice(b"ARP"),
            Ok(_) => out.extend_from_slice(b"UNKNOWN"),
            Err(()) => conversion_error(v, out),
        },
        Nlmcgrp => match c_strtoul(num, 16) {
            Ok(1) => out.extend_from_slice(b"audit-netlink-multicast"),
            Ok(_) => out.extend_from_slice(b"audit-none"),
            Err(()) => conversion_error(v, out),
        },
        Oflag => print_open_flags(num, out),
        Nfproto => match c_strtoul(num, 10) {
            Ok(n) => match names::nfproto_name(u64::from(n as u32)) {
                Some(s) => out.extend_from_slice(s.as_bytes()),
                None => {
                    out.extend_from_slice(b"unknown-netfilter-protocol(");
                    out.extend_from_slice(v);
                    out.push(b')');
                }
            },
            Err(()) => conversion_error(v, out),
        },
        Mmap => print_mmap_flags(num, out),
        Icmptype => match c_strtoul(num, 10) {
            Ok(n) => match lookup(tables::ICMP_TYPES, n) {
                Some(s) => out.extend_from_slice(s.as_bytes()),
                None => unknown(out, "unknown-icmp-type(", "", v),
            },
            Err(()) => conversion_error(v, out),
        },
        Personality => print_personality(num, out),
        Hook => print_table16(num, tables::INET_HOOKS, "unknown-hook(", "", out),
        Netaction => print_table16(num, tables::NET_ACTIONS, "unknown-action(", "", out),
        IoctlReq => print_ioctl_req(num, out),
        Fanotify => {
            if !quoted && v.first().is_some_and(u8::is_ascii_digit) {
                match c_strtoul(v, 10) {
                    Ok(n) => out.extend_from_slice(match n as u32 {
                        1 => b"allow".as_slice(),
                        2 => b"deny",
                        _ => b"unknown",
                    }),
                    Err(()) => conversion_error(v, out),
                }
            } else {
                as_written(v, quoted, out)
            }
        }
        Resolve => print_flags(num, tables::OPENAT2_RESOLVE, None, out),
        Addr | MacLabel | Unclassified => as_written(v, quoted, out),
    }
}

/// auparse's default TTY escaping: bytes below 0x20 become `\ooo`.
fn tty_escape_tail(out: &mut Vec<u8>, start: usize, keep_key_separator: bool) {
    let needs = out[start..]
        .iter()
        .any(|&c| c < 0x20 && !(keep_key_separator && c == 1));
    if !needs {
        return;
    }
    let tail: Vec<u8> = out.split_off(start);
    for c in tail {
        if c < 0x20 && !(keep_key_separator && c == 1) {
            out.extend_from_slice(&[
                b'\\',
                b'0' + ((c >> 6) & 7),
                b'0' + ((c >> 3) & 7),
                b'0' + (c & 7),
            ]);
        } else {
            out.push(c);
        }
    }
}

/// Append the interpretation of field `f` of `rec` to `out` (auparse's
/// `auparse_interpret_field` text, TTY-escaped).
pub fn interpret_field(rec: &Record, f: &Field, out: &mut Vec<u8>) {
    let kind = field_kind(
        rec.msg_type,
        rec.field_name(f),
        rec.field_value(f),
        f.quoted,
    );
    interpret_field_as(rec, f, kind, out)
}

/// [`interpret_field`] when the caller already knows the field's kind.
pub(crate) fn interpret_field_as(rec: &Record, f: &Field, kind: FieldKind, out: &mut Vec<u8>) {
    let value = rec.field_value(f);
    let start = out.len();
    // auditd's ENRICHED part wins, as in auparse (except "unknown-..." answers).
    match rec
        .field_enrichment(f)
        .filter(|e| !e.starts_with(b"unknown-"))
    {
        Some(e) => {
            if matches!(kind, FieldKind::Uid | FieldKind::Gid) {
                match e.strip_prefix(b"\"") {
                    Some(inner) => {
                        let end = inner.iter().position(|&c| c == b'"').unwrap_or(inner.len());
                        out.extend_from_slice(&inner[..end]);
                    }
                    None => print_escaped(e, false, out),
                }
            } else {
                out.extend_from_slice(e);
            }
        }
        None => interpret_kind(rec, kind, value, f.quoted, out),
    }
    let keep_sep = kind == FieldKind::EscapedKey && out[start..].contains(&1);
    tty_escape_tail(out, start, keep_sep);
}

/// Interpret the first field called `name`; `None` if the record has none.
pub fn interpret(rec: &Record, name: &[u8]) -> Option<Vec<u8>> {
    let (_, f) = rec.find(name)?;
    let mut out = Vec::with_capacity(32);
    interpret_field(rec, f, &mut out);
    Some(out)
}
