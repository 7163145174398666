//! A rule as text: `auditctl -l`'s listing (src/auditctl-listing.c
//! `print_rule` of audit-userspace 3.0.9, without `-i`) wherever that
//! listing names the rule exactly, and otherwise text that
//! `AuditRule.parse` reads back as the same rule.
//!
//! auditctl's listing loses information; here each such case prints
//! differently (docs/rules.md lists them with examples):
//! - operators: `exe`, `path`, `dir`, `perm` and `key` fields keep theirs
//!   (auditctl prints `=` or `-k`), and a `field_compare` that `-C` cannot
//!   name prints as `-F field_compare<op>N` (auditctl prints nothing);
//! - a watch is printed as `-w` only when `-w` gives back the same rule: the
//!   path as `-w` stores it (no trailing `/`), `dir`/`path` as this
//!   machine's file system decides, fields in `-w`'s order; otherwise it is
//!   an `-a always,exit` rule (auditctl prints `-w` for any rule with only
//!   path/dir/perm/key fields, even one without a path);
//! - field order: `-S` follows the last `arch` field, so fields before it
//!   stay before it (auditctl moves every `arch` to the front);
//! - a foreign machine's `arch` is printed by name (auditctl: `b64`/`b32`,
//!   which mean this machine); numbers that only parse unsigned (`gid`,
//!   `pid`, ...) are not printed negative; values with blanks, quotes or
//!   backslashes are shell-quoted; a permission set that `-F perm=` cannot
//!   give (none, or off the exit list) is printed as `-p`.
//!
//! Also: `loginuid_set` is printed by name (auditctl: ` f24=1`), the io_uring
//! list as `io_uring` with `-U` operation names (auditctl: `(null)` and
//! syscall names), and a rule that still carries the prepend flag (one
//! parsed from `-A`, never one read back from the kernel) starts with `-A`.
//! auditctl's listing also carries the arch of one rule over to the next
//! arch-less one; each rule here is printed on its own.

use std::io::Write;

use crate::audit::tables;

use super::consts::*;
use super::lookup::{self, AuditArch, Resolver, ARCH_64BIT};
use super::rule::{AuditRule, FieldValue, RuleField};

/// Whether the rule is printed as a watch (`-w path -p perms [-k key]`):
/// exactly what `-w` makes, so that the text gives back the same rule.
pub fn is_watch(rule: &AuditRule, env: &dyn Resolver) -> bool {
    if rule.list != FILTER_EXIT || rule.action != ACTION_ALWAYS || rule.prepend {
        return false;
    }
    if !rule.all_syscalls() {
        return false;
    }
    let (path, perm, key) = match rule.fields.as_slice() {
        [path, perm] => (path, perm, None),
        [path, perm, key] => (path, perm, Some(key)),
        _ => return false,
    };
    let equal = |f: &RuleField, field: u32| f.field == field && f.op == OP_EQUAL;
    if !(equal(perm, F_PERM) && key.is_none_or(|k| equal(k, F_FILTERKEY))) {
        return false;
    }
    let is_dir = match path.field {
        F_DIR => true,
        F_WATCH => false,
        _ => return false,
    };
    let FieldValue::Text(bytes) = &path.value else {
        return false;
    };
    let Ok(text) = std::str::from_utf8(bytes) else {
        return false;
    };
    path.op == OP_EQUAL && is_watch_path(text) && env.is_dir(text) == is_dir
}

/// A path `-w` keeps as it is (`audit_setup_watch_name`'s checks and its
/// trimming of trailing slashes).
fn is_watch_path(path: &str) -> bool {
    let base = path.rsplit('/').next().unwrap_or("");
    path.starts_with('/')
        && path.len() < PATH_MAX
        && base.len() <= NAME_MAX
        && !(path.len() > 2 && path.ends_with('/'))
}

fn number(v: &FieldValue) -> u32 {
    match v {
        FieldValue::Number(n) => *n,
        FieldValue::Text(t) => u32::try_from(t.len()).unwrap_or(u32::MAX),
    }
}

/// A string value as one shell word (what `AuditRule.parse` splits):
/// as it is when nothing in it is special, else in single quotes.
fn write_word(out: &mut Vec<u8>, value: &[u8]) {
    // shell_split splits at any Unicode blank, not only ASCII ones.
    let special = String::from_utf8_lossy(value)
        .chars()
        .any(|c| c.is_whitespace() || matches!(c, '\\' | '\'' | '"'));
    if !value.is_empty() && !special {
        out.extend_from_slice(value);
        return;
    }
    out.push(b'\'');
    for &b in value {
        if b == b'\'' {
            out.extend_from_slice(b"'\\''");
        } else {
            out.push(b);
        }
    }
    out.push(b'\'');
}

fn text_of(v: &FieldValue) -> &[u8] {
    match v {
        FieldValue::Text(t) => t,
        FieldValue::Number(_) => &[],
    }
}

/// Fields whose parser takes a leading `-` (uids, `exit`, `sessionid`, the
/// syscall arguments): their numbers are printed signed like auditctl
/// does. The others only parse unsigned.
fn prints_signed(field: u32) -> bool {
    matches!(
        field,
        F_UID | F_EUID | F_SUID | F_FSUID | F_LOGINUID | F_OBJ_UID | F_EXIT | F_SESSIONID
    )
}

/// The rule's text, without a trailing newline, as UTF-8 where its string
/// values are (bytes that are not UTF-8 are kept as they are).
pub fn to_command_line_bytes(rule: &AuditRule, env: &dyn Resolver) -> Vec<u8> {
    let mut out = Vec::new();
    let host = env.host_arch();
    if is_watch(rule, env) {
        write_watch(&mut out, rule);
        return out;
    }
    let verb = if rule.prepend { "-A" } else { "-a" };
    let action = action_name(rule.action).unwrap_or("(null)");
    let list = list_name(rule.list).unwrap_or("(null)");
    let _ = write!(out, "{verb} {action},{list}");
    let last_arch = rule.fields.iter().rposition(|f| f.field == F_ARCH);
    let mut arch_for_names = host;
    if last_arch.is_none() {
        print_syscalls(&mut out, rule, arch_for_names);
    }
    let last_equal_key = rule.fields.len().checked_sub(1).filter(|&i| {
        let f = &rule.fields[i];
        f.field == F_FILTERKEY && f.op == OP_EQUAL
    });
    for (i, f) in rule.fields.iter().enumerate() {
        if f.field == F_ARCH {
            arch_for_names = write_arch(&mut out, f, host);
        } else if Some(i) == last_equal_key {
            // How -k and -F key= store keys: all of them, joined, last.
            for k in text_of(&f.value).split(|&b| b == KEY_SEPARATOR) {
                out.extend_from_slice(b" -F key=");
                write_word(&mut out, k);
            }
        } else {
            write_field(&mut out, f, rule.list);
        }
        if Some(i) == last_arch {
            print_syscalls(&mut out, rule, arch_for_names);
        }
    }
    out
}

/// [`to_command_line_bytes`] as a `String` (bytes that are not UTF-8
/// replaced).
pub fn to_command_line(rule: &AuditRule, env: &dyn Resolver) -> String {
    String::from_utf8_lossy(&to_command_line_bytes(rule, env)).into_owned()
}

/// `-w path -p perms [-k key ...]`; [`is_watch`] has checked the shape.
fn write_watch(out: &mut Vec<u8>, rule: &AuditRule) {
    out.extend_from_slice(b"-w ");
    write_word(out, text_of(&rule.fields[0].value));
    let perms = perm_letters(number(&rule.fields[1].value));
    out.extend_from_slice(b" -p ");
    write_word(out, perms.as_bytes());
    if let Some(key) = rule.fields.get(2) {
        for k in text_of(&key.value).split(|&b| b == KEY_SEPARATOR) {
            out.extend_from_slice(b" -k ");
            write_word(out, k);
        }
    }
}

/// ` -F arch<op>...`; returns the machine `-S` names are for afterwards.
fn write_arch(out: &mut Vec<u8>, f: &RuleField, host: Option<AuditArch>) -> Option<AuditArch> {
    let op = operator_symbol(f.op).unwrap_or("(null)");
    let value = number(&f.value);
    if !lookup::arch_is_known(value) {
        let _ = write!(out, " -F arch{op}0x{value:X}");
        return None;
    }
    // b64/b32 as this machine reads them back, else the machine's name.
    let bits = if value & ARCH_64BIT != 0 {
        "b64"
    } else {
        "b32"
    };
    let same_on_host = match host {
        Some(h) if bits == "b64" => h == value,
        Some(h) if h & ARCH_64BIT == 0 => h == value,
        Some(h) => lookup::arch_32bit_of(h) == Some(value),
        None => false,
    };
    if same_on_host {
        let _ = write!(out, " -F arch{op}{bits}");
    } else {
        match tables::machine_for_audit_arch(value)
            .map(|m| m.name())
            .filter(|name| lookup::machine_arch(name) == Some(value))
        {
            Some(name) => {
                let _ = write!(out, " -F arch{op}{name}");
            }
            None => {
                let _ = write!(out, " -F arch{op}0x{value:X}");
            }
        }
    }
    Some(value)
}

/// One field other than `arch` and the trailing `=` key.
fn write_field(out: &mut Vec<u8>, f: &RuleField, list: u32) {
    let op = operator_symbol(f.op).unwrap_or("(null)");
    let field = f.field;
    let v = &f.value;
    let Some(name) = field_name(field) else {
        let _ = write!(out, " f{field}{op}{}", number(v) as i32);
        return;
    };
    let n = number(v);
    match field {
        _ if is_string_field(field) => {
            // path/dir print under these names whatever list they are on.
            let name = match field {
                F_WATCH => "path",
                F_DIR => "dir",
                _ => name,
            };
            let _ = write!(out, " -F {name}{op}");
            write_word(out, text_of(v));
        }
        F_MSGTYPE => match u16::try_from(n)
            .ok()
            .and_then(tables::libaudit_message_type_name)
        {
            Some(t) => {
                let _ = write!(out, " -F {name}{op}{t}");
            }
            None => {
                let _ = write!(out, " -F {name}{op}{n}");
            }
        },
        F_PERM if f.op == OP_EQUAL && n != 0 && list == FILTER_EXIT => {
            let _ = write!(out, " -F perm={}", perm_letters(n));
        }
        // -F perm= cannot say "none", nor be used off the exit list; -p can.
        F_PERM if f.op == OP_EQUAL => {
            out.extend_from_slice(b" -p ");
            write_word(out, perm_letters(n).as_bytes());
        }
        F_FIELD_COMPARE => match comparison_names(n) {
            // -C only says = and !=, and only on the exit lists.
            Some((left, right))
                if (f.op == OP_EQUAL || f.op == OP_NOT_EQUAL)
                    && (list == FILTER_EXIT || list == FILTER_URING_EXIT) =>
            {
                let _ = write!(out, " -C {left}{op}{right}");
            }
            _ => {
                let _ = write!(out, " -F {name}{op}{n}");
            }
        },
        F_ARG0..=F_ARG3 => {
            let _ = write!(out, " -F {name}{op}0x{n:X}");
        }
        F_EXIT => {
            let value = n as i32;
            match value.checked_neg().and_then(tables::errno_name) {
                Some(e) if value < 0 => {
                    let _ = write!(out, " -F {name}{op}-{e}");
                }
                _ => {
                    let _ = write!(out, " -F {name}{op}{value}");
                }
            }
        }
        F_FSTYPE => match reverse_lookup(FS_TYPES, n) {
            Some(t) => {
                let _ = write!(out, " -F {name}{op}{t}");
            }
            None => {
                let _ = write!(out, " -F {name}{op}{n}");
            }
        },
        _ if prints_signed(field) => {
            let _ = write!(out, " -F {name}{op}{}", n as i32);
        }
        _ => {
            let _ = write!(out, " -F {name}{op}{n}");
        }
    }
}

fn print_syscalls(out: &mut Vec<u8>, rule: &AuditRule, arch: Option<AuditArch>) {
    let uring = match rule.list {
        FILTER_USER | FILTER_TASK | FILTER_EXCLUDE | FILTER_FS => return,
        FILTER_URING_EXIT => true,
        _ => false,
    };
    let opt = if uring { "-U" } else { "-S" };
    if rule.all_syscalls() {
        let _ = write!(out, " {opt} all");
        return;
    }
    for (i, nr) in rule.syscalls().into_iter().enumerate() {
        let name = if uring {
            uring_op_name(nr)
        } else {
            arch.and_then(|a| lookup::syscall_name(a, nr))
        };
        if i == 0 {
            let _ = write!(out, " {opt} ");
        } else {
            out.push(b',');
        }
        match name {
            Some(n) => out.extend_from_slice(n.as_bytes()),
            None => {
                let _ = write!(out, "{nr}");
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::audit::rules::parse::tests::{rule, TestResolver};

    fn listed(text: &str) -> String {
        to_command_line(&rule(text), &TestResolver)
    }

    /// Expected texts are what `auditctl -l` 3.0.9 printed for the same
    /// rules on this kernel.
    #[test]
    fn auditctl_listing() {
        for (input, expected) in [
            ("-w /etc/shadow -p wa -k identity", "-w /etc/shadow -p wa -k identity"),
            (
                "-a always,exit -F arch=b64 -S openat,open -F exit=-EACCES -F auid>=1000 -F auid!=unset -k access",
                "-a always,exit -F arch=b64 -S open,openat -F exit=-EACCES -F auid>=1000 -F auid!=-1 -F key=access",
            ),
            ("-a always,exit -S open", "-a always,exit -S open"),
            ("-a exit,always -F arch=b32 -S open", "-a always,exit -F arch=b32 -S open"),
            ("-a always,exit -F uid=0", "-a always,exit -S all -F uid=0"),
            ("-a always,task -F uid=0", "-a always,task -F uid=0"),
            ("-a always,exclude -F msgtype=CWD", "-a always,exclude -F msgtype=CWD"),
            ("-a never,user -F msgtype=USER_LOGIN", "-a never,user -F msgtype=USER_LOGIN"),
            ("-a always,user -F msgtype=9999", "-a always,user -F msgtype=9999"),
            ("-a never,filesystem -F fstype=debugfs -k fs", "-a never,filesystem -F fstype=debugfs -F key=fs"),
            ("-a always,filesystem -F fstype=123", "-a always,filesystem -F fstype=123"),
            ("-a always,exit -F arch=b64 -S open -F filetype=file", "-a always,exit -F arch=b64 -S open -F filetype=32768"),
            ("-a always,exit -F path=/etc/passwd -F perm=wa -k pw", "-w /etc/passwd -p wa -k pw"),
            ("-w /etc/ -p rwxa", "-w /etc -p rwxa"),
            ("-w /etc -F uid=0", "-a always,exit -S all -F dir=/etc -F perm=rwxa -F uid=0"),
            ("-a always,exit -F arch=b64 -S all -C auid!=obj_uid", "-a always,exit -F arch=b64 -S all -C auid!=obj_uid"),
            ("-a always,exit -F arch=b64 -S all -F field_compare=11", "-a always,exit -F arch=b64 -S all -C uid=euid"),
            (
                "-a always,exit -F arch=b64 -S ioctl -F a1=0x5401 -F a0&=3",
                "-a always,exit -F arch=b64 -S ioctl -F a1=0x5401 -F a0&=0x3",
            ),
            (
                "-a always,exit -F arch=b64 -S all -F a2!=0xffffffff -F a3>-1",
                "-a always,exit -F arch=b64 -S all -F a2!=0xFFFFFFFF -F a3>0xFFFFFFFF",
            ),
            (
                "-a always,exit -F arch=b64 -S all -F exit=-EPERM -F exit!=-13 -F exit<0 -F exit=-4095",
                "-a always,exit -F arch=b64 -S all -F exit=-EPERM -F exit!=-EACCES -F exit<0 -F exit=-4095",
            ),
            ("-a always,exit -F arch=b64 -S open -F exit=EPERM", "-a always,exit -F arch=b64 -S open -F exit=1"),
            ("-a always,exit -F arch=b64 -S open -k a -k b", "-a always,exit -F arch=b64 -S open -F key=a -F key=b"),
            ("-a always,exit -F arch=b64 -S open -F inode=123", "-a always,exit -F arch=b64 -S open -F inode=123"),
            ("-a always,exit -F arch=b64 -S open -F uid=-5", "-a always,exit -F arch=b64 -S open -F uid=-5"),
            ("-a always,exit -F arch=b64 -S execve -F sessionid!=unset", "-a always,exit -F arch=b64 -S execve -F sessionid!=-1"),
            ("-a always,exit -F arch=b64 -S 500", "-a always,exit -F arch=b64 -S 500"),
            ("-a always,exit -F arch=x86_64 -S open", "-a always,exit -F arch=b64 -S open"),
            ("-a always,exit -F arch!=b64 -S open", "-a always,exit -F arch!=b64 -S open"),
            ("-a always,exit -F arch=b64 -S open -F pers=0x10 -F pers&0x10", "-a always,exit -F arch=b64 -S open -F pers=16 -F pers&16"),
            ("-a always,exit -F arch=b64 -S execve -F exe=/usr/bin/sudo", "-a always,exit -F arch=b64 -S execve -F exe=/usr/bin/sudo"),
        ] {
            assert_eq!(listed(input), expected, "{input}");
        }
    }

    /// Rules auditctl 3.0.9 lists lossily (its text, on the right of each
    /// comment, gives back another rule): printed so that they read back.
    #[test]
    fn lossless_where_auditctl_is_not() {
        for (input, expected) in [
            // auditctl: -w /etc/ -p r (-w would store /etc)
            (
                "-a always,exit -F dir=/etc/ -F perm=r",
                "-a always,exit -S all -F dir=/etc/ -F perm=r",
            ),
            // auditctl: " -p w"
            (
                "-a always,exit -F perm=w",
                "-a always,exit -S all -F perm=w",
            ),
            // auditctl: exe=
            (
                "-a always,exit -F arch=b64 -S execve -F exe!=/usr/bin/bash",
                "-a always,exit -F arch=b64 -S execve -F exe!=/usr/bin/bash",
            ),
            // auditctl: -F key=x
            (
                "-a always,exit -F arch=b64 -S open -F key!=x",
                "-a always,exit -F arch=b64 -S open -F key!=x",
            ),
            (
                "-a always,exit -F arch=b64 -S open -F key!=x -k y",
                "-a always,exit -F arch=b64 -S open -F key!=x -F key=y",
            ),
            // auditctl: path= / dir=
            (
                "-a always,exit -F path>/a -F perm=r",
                "-a always,exit -S all -F path>/a -F perm=r",
            ),
            (
                "-a always,exit -F dir&/etc -F perm=r",
                "-a always,exit -S all -F dir&/etc -F perm=r",
            ),
            // auditctl: nothing
            (
                "-a always,exit -F arch=b64 -S all -F field_compare<3",
                "-a always,exit -F arch=b64 -S all -F field_compare<3",
            ),
            (
                "-a always,exit -F arch=b64 -S all -F field_compare=999",
                "-a always,exit -F arch=b64 -S all -F field_compare=999",
            ),
            // auditctl: -F arch=b64 -S open -F uid=0
            (
                "-a always,exit -F uid=0 -F arch=b64 -S open",
                "-a always,exit -F uid=0 -F arch=b64 -S open",
            ),
            // auditctl: arch=b64 (this machine's)
            (
                "-a always,exit -F arch=aarch64 -S openat",
                "-a always,exit -F arch=aarch64 -S openat",
            ),
            // auditctl: gid=-1, pid=-1
            (
                "-a always,exit -F gid=4294967295 -F pid=0xffffffff",
                "-a always,exit -S all -F gid=4294967295 -F pid=4294967295",
            ),
            // auditctl: -w /a b -p wa -k a b
            (
                "-w '/a b' -p wa -k \"it's\"",
                "-w '/a b' -p wa -k 'it'\\''s'",
            ),
            // auditctl: -w /x -p  (nothing after it)
            ("-w /x -p ''", "-w /x -p ''"),
            (
                "-a always,exit -F path=/x -F uid=0 -p ''",
                "-a always,exit -S all -F path=/x -F uid=0 -p ''",
            ),
        ] {
            assert_eq!(listed(input), expected, "{input}");
        }
    }

    /// The text of a rule parses back to that rule.
    #[test]
    fn listing_reads_back() {
        for input in [
            "-w /etc/shadow -p wa -k identity",
            "-w /etc -p rwxa -k a -k b",
            "-w /etc/passwd -F uid=0",
            "-a never,exit -F arch=b32 -S open,openat -F exit=-EACCES -F auid>=1000 -F auid!=unset",
            "-a always,exit -F arch=b64 -S execve -F exe!=/usr/bin/bash -k x",
            "-a always,exit -F arch=b64 -S open -F key!=x -F key<y -k z",
            "-a always,exit -F path>/a -F perm=r",
            "-a always,exit -F arch=b64 -S all -C auid!=obj_uid -F field_compare<3",
            "-a always,exit -F uid=0 -F arch=b64 -F arch!=b32 -S open -F pid=5",
            "-a always,exit -F arch=aarch64 -F arch!=i386 -S openat",
            "-a always,exit -F gid=4294967295 -F pid=0xffffffff -F sessionid=unset",
            "-w '/a b' -p wa -k \"it's\"",
            "-w /x -p ''",
            "-A always,exit -F arch=b64 -S open",
            "-a always,exclude -F msgtype=CWD",
            "-a never,user -F msgtype=4294967295",
            "-a always,filesystem -F fstype=debugfs -k fs",
            "-a always,task -F uid=0",
            "-a always,io_uring -U openat -k io",
            "-a always,exit -F arch=b64 -S ioctl -F a1=0x5401 -F a0&=3 -F a2=-1",
            "-a always,exit -F arch=b64 -S 500,open -F filetype=file -F inode=4294967295",
        ] {
            let r = rule(input);
            let text = listed(input);
            assert_eq!(rule(&text), r, "{input} -> {text}");
        }
    }

    #[test]
    fn extensions() {
        assert_eq!(
            listed("-a always,exit -F loginuid_set=1"),
            "-a always,exit -S all -F loginuid_set=1"
        );
        assert_eq!(
            listed("-a always,io_uring -U openat -k io"),
            "-a always,io_uring -U openat -F key=io"
        );
        assert_eq!(
            listed("-a always,io_uring -F uid=0"),
            "-a always,io_uring -U all -F uid=0"
        );
        assert_eq!(
            listed("-A always,exit -F arch=b64 -S open"),
            "-A always,exit -F arch=b64 -S open"
        );
    }

    use proptest::prelude::*;

    fn option_piece() -> impl Strategy<Value = String> {
        let fields = prop::sample::select(vec![
            "uid",
            "gid",
            "pid",
            "auid",
            "exit",
            "exe",
            "path",
            "dir",
            "key",
            "perm",
            "a0",
            "msgtype",
            "sessionid",
            "field_compare",
            "inode",
            "filetype",
            "subj_user",
        ]);
        let ops = prop::sample::select(vec!["=", "!=", "<", ">", "<=", ">=", "&", "&="]);
        let values = prop::sample::select(vec![
            "0",
            "-1",
            "11",
            "0x10",
            "4294967295",
            "unset",
            "root",
            "-EPERM",
            "/etc",
            "/tmp/",
            "'/a b'",
            "wa",
            "CWD",
            "file",
            "x\\'y",
        ]);
        prop_oneof![
            (fields, ops, values).prop_map(|(f, o, v)| format!("-F {f}{o}{v}")),
            prop::sample::select(vec!["-k k1", "-k 'a b'", "-p r", "-p ''", "-C uid!=euid"])
                .prop_map(str::to_string),
            prop::sample::select(vec!["-F arch=b64", "-F arch!=b32", "-F arch=aarch64"])
                .prop_map(str::to_string),
            prop::sample::select(vec!["-S open,openat", "-S all", "-S 500"])
                .prop_map(str::to_string),
        ]
    }

    proptest! {
        /// Whatever parse accepts prints to text that parses back to it.
        #[test]
        fn text_round_trip(
            head in prop::sample::select(vec![
                "-a always,exit", "-A never,exit", "-a always,task", "-a never,user",
                "-a always,exclude", "-a always,filesystem", "-a always,io_uring",
                "-w /etc", "-w /tmp/x",
            ]),
            options in prop::collection::vec(option_piece(), 0..6),
        ) {
            let text = format!("{head} {}", options.join(" "));
            if let Ok(parsed) = crate::audit::rules::parse::tests::parse(&text) {
                if let Some(crate::audit::rules::Command::AddRule(r)) = parsed.commands.last() {
                    let printed = to_command_line(r, &TestResolver);
                    prop_assert_eq!(&rule(&printed), r, "{} -> {}", text, printed);
                }
            }
        }
    }
}
