//! Flag and option tables of syscall arguments (open, mmap, prot, clone, socket options, ...) and their printers.

use super::*;

/// `open(2)` flags (auparse `open-flagtab.h`; O_RDONLY is written when the
/// access mode bits are 0).
pub(super) static OPEN_FLAGS: [(u64, &str); 18] = [
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
pub(super) static MMAP_FLAGS: [(u64, &str); 19] = [
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

pub(super) static PROT_FLAGS: [(u64, &str); 4] = [
    (1, "PROT_READ"),
    (2, "PROT_WRITE"),
    (4, "PROT_EXEC"),
    (8, "PROT_SEM"),
];

pub(super) static ACCESS_FLAGS: [(u64, &str); 3] = [(1, "X_OK"), (2, "W_OK"), (4, "R_OK")];

/// Flags joined by `|` (the value is read as a C unsigned int); `first` is
/// written before them when given; nothing at all gives `0x<value>`.
pub(super) fn print_flags(v: &[u8], table: &[(u64, &str)], first: Option<&str>, out: &mut Vec<u8>) {
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

pub(super) fn print_open_flags(v: &[u8], out: &mut Vec<u8>) {
    let rdonly = c_strtoul(v, 16).is_ok_and(|n| n & 3 == 0);
    print_flags(v, &OPEN_FLAGS, rdonly.then_some("O_RDONLY"), out)
}

pub(super) fn print_mmap_flags(v: &[u8], out: &mut Vec<u8>) {
    let file = c_strtoul(v, 16).is_ok_and(|n| n & 0xf == 0);
    print_flags(v, &MMAP_FLAGS, file.then_some("MAP_FILE"), out)
}

pub(super) fn print_prot(v: &[u8], is_mmap: bool, out: &mut Vec<u8>) {
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

pub(super) fn print_access(v: &[u8], out: &mut Vec<u8>) {
    let Ok(n) = c_strtoul(v, 16) else {
        return conversion_error(v, out);
    };
    if n & 0xf == 0 {
        return out.extend_from_slice(b"F_OK");
    }
    print_flags(v, &ACCESS_FLAGS, None, out)
}

pub(super) fn print_dirfd(v: &[u8], out: &mut Vec<u8>) {
    match c_strtoul(v, 16) {
        Ok(n) if n as u32 == 0xffff_ff9c => out.extend_from_slice(b"AT_FDCWD"),
        Ok(_) => hex_fallback(v, out),
        Err(()) => conversion_error(v, out),
    }
}

pub(super) fn print_socketcall(v: &[u8], out: &mut Vec<u8>) {
    let Ok(n) = c_strtoul(v, 16) else {
        return conversion_error(v, out);
    };
    match socketcall_name(u64::from(n as u32)).filter(|_| n as i32 >= 0) {
        Some(s) => out.extend_from_slice(s.as_bytes()),
        None => {
            unknown(out, "unknown-socketcall(", "", v);
        }
    }
}

pub(super) fn print_socket_proto(v: &[u8], out: &mut Vec<u8>) {
    let Ok(n) = c_strtoul(v, 16) else {
        return conversion_error(v, out);
    };
    match names::protocol_name(u64::from(n as u32)) {
        Some(s) => out.extend_from_slice(s.as_bytes()),
        None => {
            unknown(out, "unknown-proto(", "", v);
        }
    }
}

/// clone(2)/unshare(2) flags (auparse `clone-flagtab.h`; read as a C unsigned
/// int, so CLONE_CLEAR_SIGHAND (bit 32) never shows).
pub(super) static CLONE_FLAGS: [(u64, &str); 23] = [
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

pub(super) fn print_clone_flags(v: &[u8], out: &mut Vec<u8>) {
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

pub(super) const O_CREAT: u64 = 0o100;

pub(super) fn print_seek(v: &[u8], out: &mut Vec<u8>) {
    let Ok(n) = c_strtoul(v, 16) else {
        return conversion_error(v, out);
    };
    match lookup(tables::SEEK_WHENCE, n & 0xff) {
        Some(s) => out.extend_from_slice(s.as_bytes()),
        None => unknown(out, "unknown-whence(", "", v),
    }
}

pub(super) fn print_sched(v: &[u8], out: &mut Vec<u8>) {
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

pub(super) fn print_sock_opt_level(v: &[u8], out: &mut Vec<u8>) {
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

pub(super) fn print_sock_opt_name(rec: &Record, v: &[u8], out: &mut Vec<u8>) {
    let Ok(n) = c_strtoul(v, 16) else {
        return conversion_error(v, out);
    };
    let mut opt = n as i32;
    // PPC numbers some SOL_SOCKET options differently; auparse shifts them.
    if matches!(rec.machine, Some(Machine::Ppc64 | Machine::Ppc)) && (16..=21).contains(&opt) {
        opt += 100;
    }
    match lookup(tables::SOCKET_OPTION_NAMES, opt as u32 as u64) {
        Some(s) => out.extend_from_slice(s.as_bytes()),
        None => unknown(out, "unknown-sockopt-name(", "0x", v),
    }
}

pub(super) fn print_udp_opt_name(v: &[u8], out: &mut Vec<u8>) {
    let Ok(n) = c_strtoul(v, 16) else {
        return conversion_error(v, out);
    };
    match n as i32 {
        1 => out.extend_from_slice(b"UDP_CORK"),
        100 => out.extend_from_slice(b"UDP_ENCAP"),
        _ => unknown(out, "unknown-udpopt-name(", "0x", v),
    }
}

pub(super) fn print_ioctl_req(v: &[u8], out: &mut Vec<u8>) {
    let Ok(n) = c_strtoul(v, 16) else {
        return conversion_error(v, out);
    };
    match lookup(tables::IOCTL_REQUESTS, n) {
        Some(s) => out.extend_from_slice(s.as_bytes()),
        None => out.extend_from_slice(format!("0x{:x}", n as u32).as_bytes()),
    }
}

pub(super) fn print_shm_flags(v: &[u8], out: &mut Vec<u8>) {
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
