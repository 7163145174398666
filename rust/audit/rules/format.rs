//! A rule as `auditctl -l` prints it (src/auditctl-listing.c `print_rule`
//! of audit-userspace 3.0.9, without `-i`).
//!
//! Differences, all for rules auditctl 3.0.9 cannot express itself:
//! `loginuid_set` is printed by name (auditctl: ` f24=1`), the io_uring list
//! as `io_uring` with `-U` operation names (auditctl: `(null)` and syscall
//! names), and a rule that still carries the prepend flag (one that was
//! parsed from `-A`, never one read back from the kernel) starts with `-A`.
//! auditctl's listing also carries the arch of one rule over to the next
//! arch-less one; each rule here is printed on its own.

use std::fmt::Write;

use crate::audit::tables;

use super::consts::*;
use super::lookup::{self, AuditArch, ARCH_64BIT};
use super::rule::{AuditRule, FieldValue};

/// Whether auditctl lists the rule as a watch (`-w path -p perms -k key`):
/// all syscalls, a perm field, and only path/dir/perm/key fields.
pub fn is_watch(rule: &AuditRule) -> bool {
    let mut perm = false;
    for f in &rule.fields {
        match f.field {
            F_PERM => perm = true,
            F_FILTERKEY | F_DIR | F_WATCH => {}
            _ => return false,
        }
    }
    let all = match rule.list {
        FILTER_USER | FILTER_TASK | FILTER_EXCLUDE | FILTER_FS => true,
        _ => rule.all_syscalls(),
    };
    perm && all
}

fn text(v: &FieldValue) -> String {
    match v {
        FieldValue::Text(t) => String::from_utf8_lossy(t).into_owned(),
        FieldValue::Number(n) => n.to_string(),
    }
}

fn number(v: &FieldValue) -> u32 {
    match v {
        FieldValue::Number(n) => *n,
        FieldValue::Text(t) => u32::try_from(t.len()).unwrap_or(u32::MAX),
    }
}

/// `-l` text of one rule, without the trailing newline. `host_arch` is the
/// machine arch-less syscall rules are named for (auditctl:
/// `audit_detect_machine`).
pub fn to_command_line(rule: &AuditRule, host_arch: Option<AuditArch>) -> String {
    let mut out = String::new();
    let watch = is_watch(rule);
    let mut arch_for_names = host_arch;
    if !watch {
        let verb = if rule.prepend { "-A" } else { "-a" };
        let action = action_name(rule.action).unwrap_or("(null)");
        let list = list_name(rule.list).unwrap_or("(null)");
        let _ = write!(out, "{verb} {action},{list}");
        for f in rule.fields.iter().filter(|f| f.field == F_ARCH) {
            let op = operator_symbol(f.op).unwrap_or("(null)");
            let value = number(&f.value);
            if lookup::arch_is_known(value) {
                let bits = if value & ARCH_64BIT != 0 {
                    "b64"
                } else {
                    "b32"
                };
                let _ = write!(out, " -F arch{op}{bits}");
                arch_for_names = Some(value);
            } else {
                let _ = write!(out, " -F arch{op}0x{value:X}");
                arch_for_names = None;
            }
        }
        print_syscalls(&mut out, rule, arch_for_names);
    }
    for f in &rule.fields {
        let op = operator_symbol(f.op).unwrap_or("(null)");
        let field = f.field;
        if field == F_ARCH {
            continue;
        }
        let Some(name) = field_name(field) else {
            let _ = write!(out, " f{field}{op}{}", number(&f.value) as i32);
            continue;
        };
        let v = &f.value;
        match field {
            F_MSGTYPE => match u16::try_from(number(v))
                .ok()
                .and_then(tables::libaudit_message_type_name)
            {
                Some(t) => {
                    let _ = write!(out, " -F {name}{op}{t}");
                }
                None => {
                    let _ = write!(out, " -F {name}{op}{}", number(v) as i32);
                }
            },
            F_SUBJ_USER..=F_OBJ_LEV_HIGH if field != F_PPID => {
                let _ = write!(out, " -F {name}{op}{}", text(v));
            }
            F_WATCH => {
                if watch {
                    let _ = write!(out, "-w {}", text(v));
                } else {
                    let _ = write!(out, " -F path={}", text(v));
                }
            }
            F_DIR => {
                if watch {
                    let _ = write!(out, "-w {}", text(v));
                } else {
                    let _ = write!(out, " -F dir={}", text(v));
                }
            }
            F_EXE => {
                let _ = write!(out, " -F exe={}", text(v));
            }
            F_FILTERKEY => {
                let keys = match v {
                    FieldValue::Text(t) => t.clone(),
                    FieldValue::Number(_) => Vec::new(),
                };
                for k in keys
                    .split(|&b| b == KEY_SEPARATOR)
                    .filter(|k| !k.is_empty())
                {
                    let k = String::from_utf8_lossy(k);
                    if watch {
                        let _ = write!(out, " -k {k}");
                    } else {
                        let _ = write!(out, " -F key={k}");
                    }
                }
            }
            F_PERM => {
                let val = number(v);
                let mut perms = String::new();
                for (bit, c) in [
                    (PERM_READ, 'r'),
                    (PERM_WRITE, 'w'),
                    (PERM_EXEC, 'x'),
                    (PERM_ATTR, 'a'),
                ] {
                    if val & bit != 0 {
                        perms.push(c);
                    }
                }
                if watch {
                    let _ = write!(out, " -p {perms}");
                } else {
                    let _ = write!(out, " -F perm={perms}");
                }
            }
            F_INODE => {
                let _ = write!(out, " -F {name}{op}{}", number(v));
            }
            F_FIELD_COMPARE => {
                if let Some((left, right)) = comparison_names(number(v)) {
                    let _ = write!(out, " -C {left}{op}{right}");
                }
            }
            F_ARG0..=F_ARG3 => {
                let _ = write!(out, " -F {name}{op}0x{:X}", number(v));
            }
            F_EXIT => {
                let value = number(v) as i32;
                match value.checked_neg().and_then(tables::errno_name) {
                    Some(e) if value < 0 => {
                        let _ = write!(out, " -F {name}{op}-{e}");
                    }
                    _ => {
                        let _ = write!(out, " -F {name}{op}{value}");
                    }
                }
            }
            F_FSTYPE => match reverse_lookup(FS_TYPES, number(v)) {
                Some(t) => {
                    let _ = write!(out, " -F {name}{op}{t}");
                }
                None => {
                    let _ = write!(out, " -F {name}{op}{}", number(v) as i32);
                }
            },
            _ => {
                let _ = write!(out, " -F {name}{op}{}", number(v) as i32);
            }
        }
    }
    out
}

fn print_syscalls(out: &mut String, rule: &AuditRule, arch: Option<AuditArch>) {
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
    let mut first = true;
    for nr in rule.syscalls() {
        let name = if uring {
            uring_op_name(nr)
        } else {
            arch.and_then(|a| lookup::syscall_name(a, nr))
        };
        let sep = if first {
            format!(" {opt} ")
        } else {
            ",".to_string()
        };
        first = false;
        match name {
            Some(n) => {
                let _ = write!(out, "{sep}{n}");
            }
            None => {
                let _ = write!(out, "{sep}{nr}");
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::audit::rules::parse::tests::rule;

    const HOST: Option<AuditArch> = Some(0xC000_003E);

    fn listed(text: &str) -> String {
        to_command_line(&rule(text), HOST)
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
            ("-a always,exit -F dir=/etc/ -F perm=r", "-w /etc/ -p r"),
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
            ("-a always,exit -F perm=w", " -p w"),
            ("-a always,exit -F arch=b64 -S open -F pers=0x10 -F pers&0x10", "-a always,exit -F arch=b64 -S open -F pers=16 -F pers&16"),
            ("-a always,exit -F arch=b64 -S execve -F exe=/usr/bin/sudo", "-a always,exit -F arch=b64 -S execve -F exe=/usr/bin/sudo"),
        ] {
            assert_eq!(listed(input), expected, "{input}");
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
}
