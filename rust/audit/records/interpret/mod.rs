//! Field interpretation: the text auparse's `auparse_interpret_field()` gives
//! for a field, with its default (TTY) escaping.
//!
//! Behaviour (which field is which kind, how each kind prints, which C library
//! quirks show through) follows audit-userspace 3.0.9 `auparse/interpret.c` and
//! `auparse/typetab.h`, the version Debian ships; the code is written from that
//! description, not copied. Known, deliberate differences are listed in
//! docs/records.md.

use crate::audit::tables::{self as audit_tables, msg, Machine};

use super::auparse_tables as tables;
use super::names;
use super::parse::{Field, Record};

mod escape;
mod flags;
mod ids;
mod numbers;
mod sockaddr;
mod syscall;

pub(crate) use escape::decode_string;
use escape::*;
use flags::*;
use ids::*;
pub use ids::{flush_id_cache, lookup_passwd, resolve_ids, set_resolve_ids, with_resolve_ids};
use numbers::*;
use sockaddr::*;
use syscall::*;

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
    name_kind(rtype, name).unwrap_or_else(|| value_kind(rtype, name, value, quoted))
}

/// The kind of every field called `name` in records of type `rtype`, or
/// `None` when each field's value decides it ([`field_kind`]).
pub(crate) fn name_kind(rtype: u16, name: &[u8]) -> Option<FieldKind> {
    use FieldKind::*;
    if rtype == msg::EXECVE
        && name.first() == Some(&b'a')
        && name != b"argc"
        && !name.windows(4).any(|w| w == b"_len")
    {
        return Some(Escaped);
    }
    Some(match (rtype, name) {
        (msg::AVC, b"saddr") => Unclassified,
        (msg::USER_TTY, b"msg") => Escaped,
        (msg::NETFILTER_PKT, b"saddr") => Addr,
        (_, b"acct") | (msg::TRUSTED_APP, _) => return None,
        (msg::PATH, b"flags") => Flags,
        (msg::MQ_OPEN, b"mode") => ModeShort,
        (msg::CRYPTO_KEY_USER, b"fp") => Unclassified,
        (msg::ADD_GROUP | msg::GRP_MGMT | msg::DEL_GROUP, b"id") => Gid,
        (msg::KERN_MODULE, b"name") => Escaped,
        _ => kind_by_name(name),
    })
}

/// The kind of an `acct` field, or of any field of a TRUSTED_APP record
/// (the ones [`name_kind`] leaves to the value): a string when quoted or hex
/// (a TRUSTED_APP field other than `acct` in decimal digits is a number).
fn value_kind(rtype: u16, name: &[u8], value: &[u8], quoted: bool) -> FieldKind {
    let digits =
        rtype == msg::TRUSTED_APP && name != b"acct" && value.iter().all(u8::is_ascii_digit);
    if quoted || (!digits && is_hex_string(value)) {
        FieldKind::Escaped
    } else {
        FieldKind::Unclassified
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
                    unknown(out, "unknown-list(", "", v);
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
                    unknown(out, "unknown-seccomp-code(", "", v);
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
                    unknown(out, "unknown-netfilter-protocol(", "", v);
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

/// [`interpret_field_as`]'s text: auditd's ENRICHED value itself where that
/// is the answer as written (nothing to unquote or escape), else written into
/// `buf` (cleared first).
pub(crate) fn interpretation<'r>(
    rec: &'r Record,
    f: &Field,
    kind: FieldKind,
    buf: &'r mut Vec<u8>,
) -> &'r [u8] {
    if let Some(e) = rec
        .field_enrichment(f)
        .filter(|e| !e.starts_with(b"unknown-"))
    {
        let text = match kind {
            FieldKind::Uid | FieldKind::Gid => e.strip_prefix(b"\"").map(|inner| {
                let end = inner.iter().position(|&c| c == b'"').unwrap_or(inner.len());
                &inner[..end]
            }),
            _ => Some(e),
        };
        if let Some(t) = text.filter(|t| !has_control(t)) {
            return t;
        }
    }
    buf.clear();
    interpret_field_as(rec, f, kind, buf);
    buf
}

/// Interpret the first field called `name`; `None` if the record has none.
pub fn interpret(rec: &Record, name: &[u8]) -> Option<Vec<u8>> {
    let (_, f) = rec.find(name)?;
    let mut out = Vec::with_capacity(32);
    interpret_field(rec, f, &mut out);
    Some(out)
}
