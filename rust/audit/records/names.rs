//! Small name tables the interpreter needs that are not shared with the rest of
//! the crate, plus the one seam to the shared `crate::audit::tables`.
//!
//! Facts (numbers and the names auparse prints for them) are taken from
//! audit-userspace 3.0.9 (`auparse/signaltab.h`, `captab.h`, `famtab.h`,
//! `seccomptab.h`, `flagtab.h`, `lib/ftypetab.h`, `lib/flagtab.h`) and from
//! include/uapi/linux/{capability,socket,audit}.h. The code is our own.

use crate::audit::tables;

/// Signal names for 0..=31, as auparse's `signaltab.h` prints them.
/// auparse 3.0.9 misspells 30 as "IGPWR"; we print the real name (see docs/records.md).
pub static SIGNALS: [&str; 32] = [
    "SIG0",
    "SIGHUP",
    "SIGINT",
    "SIGQUIT",
    "SIGILL",
    "SIGTRAP",
    "SIGABRT",
    "SIGBUS",
    "SIGFPE",
    "SIGKILL",
    "SIGUSR1",
    "SIGSEGV",
    "SIGUSR2",
    "SIGPIPE",
    "SIGALRM",
    "SIGTERM",
    "SIGSTKFLT",
    "SIGCHLD",
    "SIGCONT",
    "SIGSTOP",
    "SIGTSTP",
    "SIGTTIN",
    "SIGTTOU",
    "SIGURG",
    "SIGXCPU",
    "SIGXFSZ",
    "SIGVTALRM",
    "SIGPROF",
    "SIGWINCH",
    "SIGIO",
    "SIGPWR",
    "SIGSYS",
];

/// Capability names 0..=CAP_LAST_CAP (40, CAP_CHECKPOINT_RESTORE), lowercase
/// without the `CAP_` prefix as auparse prints them.
pub static CAPABILITIES: [&str; 41] = [
    "chown",
    "dac_override",
    "dac_read_search",
    "fowner",
    "fsetid",
    "kill",
    "setgid",
    "setuid",
    "setpcap",
    "linux_immutable",
    "net_bind_service",
    "net_broadcast",
    "net_admin",
    "net_raw",
    "ipc_lock",
    "ipc_owner",
    "sys_module",
    "sys_rawio",
    "sys_chroot",
    "sys_ptrace",
    "sys_pacct",
    "sys_admin",
    "sys_boot",
    "sys_nice",
    "sys_resource",
    "sys_time",
    "sys_tty_config",
    "mknod",
    "lease",
    "audit_write",
    "audit_control",
    "setfcap",
    "mac_override",
    "mac_admin",
    "syslog",
    "wake_alarm",
    "block_suspend",
    "audit_read",
    "perfmon",
    "bpf",
    "checkpoint_restore",
];

pub fn capability_name(cap: u64) -> Option<&'static str> {
    usize::try_from(cap)
        .ok()
        .and_then(|i| CAPABILITIES.get(i))
        .copied()
}

/// Address family names (auparse `famtab.h`; numbers from linux/socket.h).
/// 0 (AF_UNSPEC), 27 (AF_IB) and 28 (AF_MPLS) have no name there.
pub fn family_name(family: u32) -> Option<&'static str> {
    Some(match family {
        1 => "local",
        2 => "inet",
        3 => "ax25",
        4 => "ipx",
        5 => "appletalk",
        6 => "netrom",
        7 => "bridge",
        8 => "atmpvc",
        9 => "x25",
        10 => "inet6",
        11 => "rose",
        12 => "decnet",
        13 => "netbeui",
        14 => "security",
        15 => "key",
        16 => "netlink",
        17 => "packet",
        18 => "ash",
        19 => "econet",
        20 => "atmsvc",
        21 => "rds",
        22 => "sna",
        23 => "irda",
        24 => "pppox",
        25 => "wanpipe",
        26 => "llc",
        29 => "can",
        30 => "tipc",
        31 => "bluetooth",
        32 => "iucv",
        33 => "rxrpc",
        34 => "isdn",
        35 => "phonet",
        36 => "ieee802154",
        37 => "caif",
        38 => "alg",
        39 => "nfc",
        40 => "vsock",
        41 => "kcm",
        42 => "qipcrtr",
        43 => "smc",
        44 => "xdp",
        _ => return None,
    })
}

/// File type names of `S_IFMT` values (libaudit `ftypetab.h`).
pub fn file_type_name(ifmt: u32) -> Option<&'static str> {
    Some(match ifmt {
        0o140000 => "socket",
        0o120000 => "link",
        0o100000 => "file",
        0o060000 => "block",
        0o040000 => "dir",
        0o020000 => "character",
        0o010000 => "fifo",
        _ => return None,
    })
}

/// seccomp return actions (auparse `seccomptab.h`), keyed by `code & SECCOMP_RET_ACTION`
/// (auparse masks with 0x7fff0000, so KILL_PROCESS (0x80000000) never matches there).
pub fn seccomp_action_name(action: u64) -> Option<&'static str> {
    Some(match action {
        0x8000_0000 => "kill-process",
        0x0000_0000 => "kill",
        0x0003_0000 => "trap",
        0x0005_0000 => "errno",
        0x7fc0_0000 => "user-notify",
        0x7ff0_0000 => "trace",
        0x7ffc_0000 => "log",
        0x7fff_0000 => "allow",
        _ => return None,
    })
}

/// PATH record `flags` bits (auparse `flagtab.h`, the old RHEL4 lookup flags).
pub static PATH_FLAGS: [(u32, &str); 9] = [
    (0x0001, "follow"),
    (0x0002, "directory"),
    (0x0004, "continue"),
    (0x0010, "parent"),
    (0x0020, "noalt"),
    (0x0040, "atomic"),
    (0x0100, "open"),
    (0x0200, "create"),
    (0x0400, "access"),
];

/// Rule list (filter) names (libaudit `flagtab.h`; numbers from linux/audit.h).
pub fn filter_list_name(list: u64) -> Option<&'static str> {
    Some(match list {
        0 => "user",
        1 => "task",
        4 => "exit",
        5 => "exclude",
        6 => "filesystem",
        _ => return None,
    })
}

/// IP protocol names as Debian's /etc/protocols (netbase) gives them for the
/// numbers the audit records carry in practice; auparse asks getprotobynumber().
pub fn protocol_name(proto: u64) -> Option<&'static str> {
    Some(match proto {
        0 => "ip",
        1 => "icmp",
        2 => "igmp",
        4 => "ipencap",
        6 => "tcp",
        17 => "udp",
        41 => "ipv6",
        47 => "gre",
        50 => "esp",
        51 => "ah",
        58 => "ipv6-icmp",
        112 => "vrrp",
        132 => "sctp",
        136 => "udplite",
        _ => return None,
    })
}

// ---- The seam to crate::audit::tables --------------------------------------

/// A CPU architecture as libaudit names it (`MACH_*`).
pub use tables::Machine;

/// The machine an AUDIT_ARCH_* value (the hex `arch=` field) stands for.
pub fn machine_for_audit_arch(arch: u32) -> Option<Machine> {
    tables::machine_for_audit_arch(arch)
}

/// The name auparse prints for a machine.
pub fn machine_name(machine: Machine) -> &'static str {
    machine.name()
}

/// The machine this library runs on: auparse falls back to it (audit_detect_machine)
/// when a record has a `syscall=` but no `arch=`.
pub fn host_machine() -> Option<Machine> {
    if cfg!(target_arch = "x86_64") {
        Some(Machine::X86_64)
    } else if cfg!(target_arch = "aarch64") {
        Some(Machine::Aarch64)
    } else if cfg!(target_arch = "x86") {
        Some(Machine::I386)
    } else {
        None
    }
}

pub fn syscall_name(machine: Machine, nr: u64) -> Option<&'static str> {
    tables::syscall_name(machine, u32::try_from(nr).ok()?)
}

pub fn errno_name(errno: u64) -> Option<&'static str> {
    tables::errno_name(i32::try_from(errno).ok()?)
}

/// glibc's strerror text, where the table has it.
pub fn errno_description(errno: u64) -> Option<&'static str> {
    tables::errno_description(i32::try_from(errno).ok()?)
}

/// The canonical name of a record type ("SYSCALL"), as auparse prints it.
pub fn message_type_name(number: u16) -> Option<&'static str> {
    tables::message_type_name(number)
}

/// A record type by name (canonical or alias, any case).
pub fn message_type_by_name(name: &str) -> Option<u16> {
    tables::message_type_by_name(name)
}
