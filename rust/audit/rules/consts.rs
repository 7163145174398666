//! Numbers and names of the rule ABI.
//!
//! Numbers: include/uapi/linux/audit.h (kernel 6.18, /usr/include/linux/audit.h).
//! Names: the spellings libaudit 3.0.9 accepts and `auditctl -l` prints
//! (lib/fieldtab.h, lib/flagtab.h, lib/actiontab.h, lib/ftypetab.h,
//! lib/fstypetab.h of audit-userspace), checked against the installed
//! auditctl 3.0.9.

/// `AUDIT_MAX_FIELDS`: fields per rule.
pub const MAX_FIELDS: usize = 64;
/// `AUDIT_BITMASK_SIZE`: 32-bit words in the syscall mask.
pub const BITMASK_SIZE: usize = 64;
/// `AUDIT_MAX_KEY_LEN`.
pub const MAX_KEY_LEN: usize = 256;
/// `PATH_MAX` from <linux/limits.h>; libaudit refuses longer strings.
pub const PATH_MAX: usize = 4096;
/// `NAME_MAX` from <linux/limits.h>.
pub const NAME_MAX: usize = 255;
/// `AUDIT_KEY_SEPARATOR` (libaudit.h): joins several `-k` keys in one field.
pub const KEY_SEPARATOR: u8 = 0x01;
/// `AF_MAX` of glibc 2.36 (bits/socket.h `PF_MAX`); libaudit refuses
/// `saddr_fam` values at or above it.
pub const AF_MAX: u32 = 46;
/// The header of `struct audit_rule_data` up to `buf[]`.
pub const RULE_DATA_HEADER_LEN: usize = 4 * (3 + BITMASK_SIZE + 3 * MAX_FIELDS + 1);
/// The first syscall-class bit: the kernel reads the top 16 bits of the mask
/// (`AUDIT_SYSCALL_CLASSES`) as classes, expands them and clears them, so a
/// rule read back never has them set (kernel/auditfilter.c
/// `audit_to_entry_common`).
pub const FIRST_CLASS_BIT: u32 = (BITMASK_SIZE as u32) * 32 - 16;

// Filter lists (`AUDIT_FILTER_*`).
pub const FILTER_USER: u32 = 0x00;
pub const FILTER_TASK: u32 = 0x01;
pub const FILTER_ENTRY: u32 = 0x02;
pub const FILTER_WATCH: u32 = 0x03;
pub const FILTER_EXIT: u32 = 0x04;
pub const FILTER_EXCLUDE: u32 = 0x05;
pub const FILTER_FS: u32 = 0x06;
pub const FILTER_URING_EXIT: u32 = 0x07;
/// `AUDIT_FILTER_PREPEND`: `-A` (insert at the head of the list).
pub const FILTER_PREPEND: u32 = 0x10;
/// libaudit's `AUDIT_FILTER_MASK`.
pub const FILTER_MASK: u32 = 0x07;

// Actions.
pub const ACTION_NEVER: u32 = 0;
pub const ACTION_POSSIBLE: u32 = 1;
pub const ACTION_ALWAYS: u32 = 2;

// Operators (the `fieldflags` values).
pub const OP_BIT_MASK: u32 = 0x0800_0000;
pub const OP_LESS_THAN: u32 = 0x1000_0000;
pub const OP_GREATER_THAN: u32 = 0x2000_0000;
pub const OP_NOT_EQUAL: u32 = 0x3000_0000;
pub const OP_EQUAL: u32 = 0x4000_0000;
pub const OP_BIT_TEST: u32 = OP_BIT_MASK | OP_EQUAL;
pub const OP_LESS_THAN_OR_EQUAL: u32 = OP_LESS_THAN | OP_EQUAL;
pub const OP_GREATER_THAN_OR_EQUAL: u32 = OP_GREATER_THAN | OP_EQUAL;
/// `AUDIT_OPERATORS`: the bits an operator may use.
pub const OPERATORS: u32 = OP_EQUAL | OP_NOT_EQUAL | OP_BIT_MASK;

// Field numbers.
pub const F_PID: u32 = 0;
pub const F_UID: u32 = 1;
pub const F_EUID: u32 = 2;
pub const F_SUID: u32 = 3;
pub const F_FSUID: u32 = 4;
pub const F_GID: u32 = 5;
pub const F_EGID: u32 = 6;
pub const F_SGID: u32 = 7;
pub const F_FSGID: u32 = 8;
pub const F_LOGINUID: u32 = 9;
pub const F_PERS: u32 = 10;
pub const F_ARCH: u32 = 11;
pub const F_MSGTYPE: u32 = 12;
pub const F_SUBJ_USER: u32 = 13;
pub const F_SUBJ_ROLE: u32 = 14;
pub const F_SUBJ_TYPE: u32 = 15;
pub const F_SUBJ_SEN: u32 = 16;
pub const F_SUBJ_CLR: u32 = 17;
pub const F_PPID: u32 = 18;
pub const F_OBJ_USER: u32 = 19;
pub const F_OBJ_ROLE: u32 = 20;
pub const F_OBJ_TYPE: u32 = 21;
pub const F_OBJ_LEV_LOW: u32 = 22;
pub const F_OBJ_LEV_HIGH: u32 = 23;
pub const F_LOGINUID_SET: u32 = 24;
pub const F_SESSIONID: u32 = 25;
pub const F_FSTYPE: u32 = 26;
pub const F_DEVMAJOR: u32 = 100;
pub const F_DEVMINOR: u32 = 101;
pub const F_INODE: u32 = 102;
pub const F_EXIT: u32 = 103;
pub const F_SUCCESS: u32 = 104;
pub const F_WATCH: u32 = 105;
pub const F_PERM: u32 = 106;
pub const F_DIR: u32 = 107;
pub const F_FILETYPE: u32 = 108;
pub const F_OBJ_UID: u32 = 109;
pub const F_OBJ_GID: u32 = 110;
pub const F_FIELD_COMPARE: u32 = 111;
pub const F_EXE: u32 = 112;
pub const F_SADDR_FAM: u32 = 113;
pub const F_ARG0: u32 = 200;
pub const F_ARG1: u32 = 201;
pub const F_ARG2: u32 = 202;
pub const F_ARG3: u32 = 203;
pub const F_FILTERKEY: u32 = 210;

// Watch permissions (`AUDIT_PERM_*`).
pub const PERM_EXEC: u32 = 1;
pub const PERM_WRITE: u32 = 2;
pub const PERM_READ: u32 = 4;
pub const PERM_ATTR: u32 = 8;
pub const PERM_ALL: u32 = PERM_READ | PERM_WRITE | PERM_EXEC | PERM_ATTR;

/// The letters of `-p` / `-F perm=`, in the order auditctl prints them.
pub const PERM_LETTERS: [(u32, char); 4] = [
    (PERM_READ, 'r'),
    (PERM_WRITE, 'w'),
    (PERM_EXEC, 'x'),
    (PERM_ATTR, 'a'),
];

/// The permission bits of letters like `wa` (any case); the first letter
/// that is not one of `rwxa` is the error.
pub fn perm_from_letters(letters: &str) -> Result<u32, char> {
    letters.chars().try_fold(0, |bits, c| {
        PERM_LETTERS
            .iter()
            .find(|(_, l)| *l == c.to_ascii_lowercase())
            .map(|(bit, _)| bits | bit)
            .ok_or(c)
    })
}

/// The letters of permission bits, `rwxa` order.
pub fn perm_letters(bits: u32) -> String {
    PERM_LETTERS
        .iter()
        .filter(|(bit, _)| bits & bit != 0)
        .map(|(_, c)| *c)
        .collect()
}

/// `AUDIT_UID_UNSET`: what `unset` means for auid/loginuid and sessionid.
pub const UNSET: u32 = u32::MAX;

/// Field names. Several names may map to one number (`auid`/`loginuid`);
/// the first one is the name `auditctl -l` prints (libaudit's
/// `audit_field_to_name`). `loginuid_set` is not in libaudit 3.0.9 (its
/// auditctl rejects the name and lists the field as `f24`); auditlink
/// accepts and prints it by its kernel name.
pub static FIELD_NAMES: &[(&str, u32)] = &[
    ("pid", F_PID),
    ("uid", F_UID),
    ("euid", F_EUID),
    ("suid", F_SUID),
    ("fsuid", F_FSUID),
    ("gid", F_GID),
    ("egid", F_EGID),
    ("sgid", F_SGID),
    ("fsgid", F_FSGID),
    ("auid", F_LOGINUID),
    ("loginuid", F_LOGINUID),
    ("pers", F_PERS),
    ("arch", F_ARCH),
    ("msgtype", F_MSGTYPE),
    ("subj_user", F_SUBJ_USER),
    ("subj_role", F_SUBJ_ROLE),
    ("subj_type", F_SUBJ_TYPE),
    ("subj_sen", F_SUBJ_SEN),
    ("subj_clr", F_SUBJ_CLR),
    ("ppid", F_PPID),
    ("obj_user", F_OBJ_USER),
    ("obj_role", F_OBJ_ROLE),
    ("obj_type", F_OBJ_TYPE),
    ("obj_lev_low", F_OBJ_LEV_LOW),
    ("obj_lev_high", F_OBJ_LEV_HIGH),
    ("loginuid_set", F_LOGINUID_SET),
    ("sessionid", F_SESSIONID),
    ("fstype", F_FSTYPE),
    ("devmajor", F_DEVMAJOR),
    ("devminor", F_DEVMINOR),
    ("inode", F_INODE),
    ("exit", F_EXIT),
    ("success", F_SUCCESS),
    ("path", F_WATCH),
    ("perm", F_PERM),
    ("dir", F_DIR),
    ("filetype", F_FILETYPE),
    ("obj_uid", F_OBJ_UID),
    ("obj_gid", F_OBJ_GID),
    ("field_compare", F_FIELD_COMPARE),
    ("exe", F_EXE),
    ("saddr_fam", F_SADDR_FAM),
    ("a0", F_ARG0),
    ("a1", F_ARG1),
    ("a2", F_ARG2),
    ("a3", F_ARG3),
    ("key", F_FILTERKEY),
];

/// Field number for a name; libaudit compares names case-insensitively.
pub fn field_by_name(name: &str) -> Option<u32> {
    FIELD_NAMES
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case(name))
        .map(|&(_, v)| v)
}

/// The name `auditctl -l` prints for a field number.
pub fn field_name(field: u32) -> Option<&'static str> {
    FIELD_NAMES
        .iter()
        .find(|&&(_, v)| v == field)
        .map(|&(n, _)| n)
}

/// Fields whose value lives in `buf` (the value slot holds the length).
/// Same set as the kernel's `audit_data_to_entry` string cases.
pub fn is_string_field(field: u32) -> bool {
    is_object_string_field(field)
        || matches!(
            field,
            F_SUBJ_USER | F_SUBJ_ROLE | F_SUBJ_TYPE | F_SUBJ_SEN | F_SUBJ_CLR | F_FILTERKEY | F_EXE
        )
}

/// The string fields about the object of a syscall (its labels, a watched path
/// or directory): auditctl takes them on the exit list only.
pub fn is_object_string_field(field: u32) -> bool {
    matches!(
        field,
        F_OBJ_USER | F_OBJ_ROLE | F_OBJ_TYPE | F_OBJ_LEV_LOW | F_OBJ_LEV_HIGH | F_WATCH | F_DIR
    )
}

/// Filter list names: (name, number). `io_uring` is not known to auditctl
/// 3.0.9 (it lists such rules as `(null)`); `uring` is the spelling of the
/// audit-userspace patches that added it, accepted as an alias.
pub static LIST_NAMES: &[(&str, u32)] = &[
    ("task", FILTER_TASK),
    ("exit", FILTER_EXIT),
    ("user", FILTER_USER),
    ("exclude", FILTER_EXCLUDE),
    ("filesystem", FILTER_FS),
    ("io_uring", FILTER_URING_EXIT),
    ("uring", FILTER_URING_EXIT),
];

pub fn list_by_name(name: &str) -> Option<u32> {
    LIST_NAMES.iter().find(|(n, _)| *n == name).map(|&(_, v)| v)
}

/// The name auditctl prints for a list (`audit_flag_to_name`); `entry` and
/// `watch` are the deprecated lists a foreign tool may still have loaded.
pub fn list_name(list: u32) -> Option<&'static str> {
    match list {
        FILTER_ENTRY => Some("entry"),
        FILTER_WATCH => Some("watch"),
        _ => LIST_NAMES
            .iter()
            .find(|&&(_, v)| v == list)
            .map(|&(n, _)| n),
    }
}

pub fn action_by_name(name: &str) -> Option<u32> {
    match name {
        "never" => Some(ACTION_NEVER),
        "always" => Some(ACTION_ALWAYS),
        _ => None,
    }
}

pub fn action_name(action: u32) -> Option<&'static str> {
    match action {
        ACTION_NEVER => Some("never"),
        ACTION_POSSIBLE => Some("possible"),
        ACTION_ALWAYS => Some("always"),
        _ => None,
    }
}

/// Operator symbols, in the order libaudit searches a `-F` pair for them
/// (two-character operators first; `strstr` on the whole pair).
pub static OPERATOR_SEARCH_ORDER: &[(&str, u32)] = &[
    ("!=", OP_NOT_EQUAL),
    (">=", OP_GREATER_THAN_OR_EQUAL),
    ("<=", OP_LESS_THAN_OR_EQUAL),
    ("&=", OP_BIT_TEST),
    ("=", OP_EQUAL),
    (">", OP_GREATER_THAN),
    ("<", OP_LESS_THAN),
    ("&", OP_BIT_MASK),
];

/// `audit_operator_to_symbol`.
pub fn operator_symbol(op: u32) -> Option<&'static str> {
    OPERATOR_SEARCH_ORDER
        .iter()
        .find(|&&(_, v)| v == op)
        .map(|&(s, _)| s)
}

/// `-F filetype=` names (lib/ftypetab.h) and the `S_IF*` values they stand for.
pub static FILE_TYPES: &[(&str, u32)] = &[
    ("block", 0o060000),
    ("character", 0o020000),
    ("dir", 0o040000),
    ("fifo", 0o010000),
    ("file", 0o100000),
    ("link", 0o120000),
    ("socket", 0o140000),
];

/// `-F fstype=` names (lib/fstypetab.h): the superblock magic numbers of
/// include/uapi/linux/magic.h.
pub static FS_TYPES: &[(&str, u32)] = &[("debugfs", 0x6462_6720), ("tracefs", 0x7472_6163)];

pub fn lookup_ci(table: &'static [(&'static str, u32)], name: &str) -> Option<u32> {
    table
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case(name))
        .map(|&(_, v)| v)
}

pub fn reverse_lookup(table: &'static [(&'static str, u32)], value: u32) -> Option<&'static str> {
    table.iter().find(|&&(_, v)| v == value).map(|&(n, _)| n)
}

/// io_uring operations: `IORING_OP_*` of include/uapi/linux/io_uring.h
/// (kernel 6.18) in enum order, lower-cased without the prefix (the
/// spelling of audit-userspace's lib/uringop_table.h).
pub static URING_OPS: &[&str] = &[
    "nop",
    "readv",
    "writev",
    "fsync",
    "read_fixed",
    "write_fixed",
    "poll_add",
    "poll_remove",
    "sync_file_range",
    "sendmsg",
    "recvmsg",
    "timeout",
    "timeout_remove",
    "accept",
    "async_cancel",
    "link_timeout",
    "connect",
    "fallocate",
    "openat",
    "close",
    "files_update",
    "statx",
    "read",
    "write",
    "fadvise",
    "madvise",
    "send",
    "recv",
    "openat2",
    "epoll_ctl",
    "splice",
    "provide_buffers",
    "remove_buffers",
    "tee",
    "shutdown",
    "renameat",
    "unlinkat",
    "mkdirat",
    "symlinkat",
    "linkat",
    "msg_ring",
    "fsetxattr",
    "setxattr",
    "fgetxattr",
    "getxattr",
    "socket",
    "uring_cmd",
    "send_zc",
    "sendmsg_zc",
];

pub fn uring_op_by_name(name: &str) -> Option<u32> {
    URING_OPS
        .iter()
        .position(|n| n.eq_ignore_ascii_case(name))
        .and_then(|i| u32::try_from(i).ok())
}

pub fn uring_op_name(op: u32) -> Option<&'static str> {
    usize::try_from(op)
        .ok()
        .and_then(|i| URING_OPS.get(i))
        .copied()
}

/// `-C` comparisons: (left field, right field, `AUDIT_COMPARE_*`), as
/// libaudit's `audit_rule_interfield_comp_data` pairs them (both orders).
pub static COMPARISONS: &[(u32, u32, u32)] = &[
    (F_UID, F_OBJ_UID, 1),
    (F_GID, F_OBJ_GID, 2),
    (F_EUID, F_OBJ_UID, 3),
    (F_EGID, F_OBJ_GID, 4),
    (F_LOGINUID, F_OBJ_UID, 5),
    (F_SUID, F_OBJ_UID, 6),
    (F_SGID, F_OBJ_GID, 7),
    (F_FSUID, F_OBJ_UID, 8),
    (F_FSGID, F_OBJ_GID, 9),
    (F_UID, F_LOGINUID, 10),
    (F_UID, F_EUID, 11),
    (F_UID, F_FSUID, 12),
    (F_UID, F_SUID, 13),
    (F_LOGINUID, F_FSUID, 14),
    (F_LOGINUID, F_SUID, 15),
    (F_LOGINUID, F_EUID, 16),
    (F_EUID, F_SUID, 17),
    (F_EUID, F_FSUID, 18),
    (F_SUID, F_FSUID, 19),
    (F_GID, F_EGID, 20),
    (F_GID, F_FSGID, 21),
    (F_GID, F_SGID, 22),
    (F_EGID, F_FSGID, 23),
    (F_EGID, F_SGID, 24),
    (F_SGID, F_FSGID, 25),
];

/// The `-C` text auditctl prints for a comparison value (`print_field_cmp`
/// of src/auditctl-listing.c): left and right names.
pub fn comparison_names(value: u32) -> Option<(&'static str, &'static str)> {
    let &(left, right, _) = COMPARISONS.iter().find(|&&(_, _, v)| v == value)?;
    let name = |f: u32| {
        if f == F_LOGINUID {
            Some("auid")
        } else {
            field_name(f)
        }
    };
    Some((name(left)?, name(right)?))
}

/// `AUDIT_COMPARE_*` for a pair of fields in either order.
pub fn comparison_for(left: u32, right: u32) -> Option<u32> {
    COMPARISONS
        .iter()
        .find(|&&(a, b, _)| (a == left && b == right) || (a == right && b == left))
        .map(|&(_, _, v)| v)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_is_1040_bytes() {
        assert_eq!(RULE_DATA_HEADER_LEN, 1040);
    }

    #[test]
    fn names_round_trip() {
        assert_eq!(field_by_name("AUID"), Some(F_LOGINUID));
        assert_eq!(field_by_name("loginuid"), Some(F_LOGINUID));
        assert_eq!(field_name(F_LOGINUID), Some("auid"));
        assert_eq!(field_name(F_WATCH), Some("path"));
        assert_eq!(uring_op_by_name("openat"), Some(18));
        assert_eq!(uring_op_by_name("sendmsg_zc"), Some(48));
        assert_eq!(comparison_names(11), Some(("uid", "euid")));
        assert_eq!(comparison_names(5), Some(("auid", "obj_uid")));
        assert_eq!(comparison_for(F_EUID, F_UID), Some(11));
        assert_eq!(comparison_for(F_UID, F_GID), None);
    }
}
