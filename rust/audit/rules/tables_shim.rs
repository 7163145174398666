//! STAND-IN for `crate::audit::tables` until the shared tables land on main:
//! a few entries so the codec can be built and tested. Replaced by thin calls
//! into the shared tables when they are merged.

const I386: u32 = 0x4000_0003;
const X86_64: u32 = 0xC000_003E;

static MACHINES: &[(&str, u32)] = &[
    ("i386", I386),
    ("i486", I386),
    ("i586", I386),
    ("i686", I386),
    ("x86_64", X86_64),
    ("ia64", 0xC000_0032),
    ("ppc64", 0x8000_0015),
    ("ppc64le", 0xC000_0015),
    ("ppc", 0x14),
    ("s390x", 0x8000_0016),
    ("s390", 0x16),
    ("armeb", 0x4000_0028),
    ("armv5tejl", 0x4000_0028),
    ("armv5tel", 0x4000_0028),
    ("armv6l", 0x4000_0028),
    ("armv7l", 0x4000_0028),
    ("aarch64", 0xC000_00B7),
];

pub fn machine_arch(name: &str) -> Option<u32> {
    MACHINES
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case(name))
        .map(|&(_, a)| a)
}

pub fn arch_is_known(arch: u32) -> bool {
    MACHINES.iter().any(|&(_, a)| a == arch)
}

pub fn arch_32bit_of(arch: u32) -> Option<u32> {
    match arch {
        X86_64 => Some(I386),
        0x8000_0015 => Some(0x14),
        0x8000_0016 => Some(0x16),
        0xC000_00B7 => Some(0x4000_0028),
        _ => None,
    }
}

static X86_64_SYSCALLS: &[(&str, u32)] = &[
    ("read", 0),
    ("write", 1),
    ("open", 2),
    ("close", 3),
    ("ioctl", 16),
    ("pwrite", 18),
    ("connect", 42),
    ("execve", 59),
    ("kill", 62),
    ("rename", 82),
    ("unlink", 87),
    ("chmod", 90),
    ("openat", 257),
];

static I386_SYSCALLS: &[(&str, u32)] = &[
    ("fork", 2),
    ("read", 3),
    ("write", 4),
    ("open", 5),
    ("execve", 11),
    ("socketcall", 102),
    ("openat", 295),
    ("msgsnd", 400),
    ("msgrcv", 401),
];

fn syscalls(arch: u32) -> &'static [(&'static str, u32)] {
    match arch {
        X86_64 => X86_64_SYSCALLS,
        I386 => I386_SYSCALLS,
        _ => &[],
    }
}

pub fn syscall_number(arch: u32, name: &str) -> Option<u32> {
    syscalls(arch)
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case(name))
        .map(|&(_, v)| v)
}

pub fn syscall_name(arch: u32, nr: u32) -> Option<&'static str> {
    syscalls(arch)
        .iter()
        .find(|&&(_, v)| v == nr)
        .map(|&(n, _)| n)
}

static ERRNOS: &[(&str, u32)] = &[
    ("EPERM", 1),
    ("ENOENT", 2),
    ("EINTR", 4),
    ("EACCES", 13),
    ("EEXIST", 17),
    ("EINVAL", 22),
];

pub fn errno_number(name: &str) -> Option<u32> {
    ERRNOS
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case(name))
        .map(|&(_, v)| v)
}

pub fn errno_name(nr: u32) -> Option<&'static str> {
    ERRNOS.iter().find(|&&(_, v)| v == nr).map(|&(n, _)| n)
}

static MSGTYPES: &[(&str, u32)] = &[
    ("USER", 1005),
    ("LOGIN", 1006),
    ("USER_AUTH", 1100),
    ("USER_LOGIN", 1112),
    ("SYSCALL", 1300),
    ("PATH", 1302),
    ("CWD", 1307),
    ("EXECVE", 1309),
    ("EOE", 1320),
    ("PROCTITLE", 1327),
    ("AVC", 1400),
];

pub fn msgtype_number(name: &str) -> Option<u32> {
    MSGTYPES
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case(name))
        .map(|&(_, v)| v)
}

pub fn msgtype_name(nr: u32) -> Option<&'static str> {
    MSGTYPES.iter().find(|&&(_, v)| v == nr).map(|&(n, _)| n)
}
