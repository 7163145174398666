//! `syscall=` and the syscall arguments `a0`..`a3`, decoded per syscall as auparse does.

use super::*;

pub(super) fn record_machine(rec: &Record) -> Option<Machine> {
    rec.machine
}

pub(super) fn socketcall_name(n: u64) -> Option<&'static str> {
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

pub(super) fn ipc_call_name(n: u64) -> Option<&'static str> {
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

pub(super) fn print_syscall(rec: &Record, v: &[u8], out: &mut Vec<u8>) {
    let Some(machine) = record_machine(rec).or_else(names::host_machine) else {
        out.extend_from_slice(v);
        return;
    };
    // auparse keeps the record's syscall number as an int (-1 when absent).
    let nr = rec.syscall.map_or(-1i32, |n| n as i32);
    match u32::try_from(nr)
        .ok()
        .and_then(|n| audit_tables::syscall_name(machine, n))
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

/// The syscall arguments auparse decodes (`print_a0`..`print_a3` of
/// interpret.c), following its dispatch — which in places goes by the first
/// letter of the syscall name, so a name in the "wrong" branch falls back.
/// Anything else prints as `0x<hex>`, auparse's own fallback.
pub(super) fn print_arg(rec: &Record, which: u8, v: &[u8], out: &mut Vec<u8>) {
    let Some(sys) = rec.syscall_name else {
        return hex_fallback(v, out);
    };
    let call = Call {
        rec,
        sys,
        first: sys.as_bytes().first().copied().unwrap_or(0),
        rest: sys.get(1..).unwrap_or(""),
    };
    match which {
        0 => print_a0(&call, v, out),
        1 => print_a1(&call, v, out),
        2 => print_a2(&call, v, out),
        _ => print_a3(&call, v, out),
    }
}

/// The syscall whose argument is printed, split as auparse's dispatch reads it.
struct Call<'a> {
    rec: &'a Record,
    sys: &'a str,
    /// The name's first letter (0 for an empty name).
    first: u8,
    /// The name after its first letter.
    rest: &'a str,
}

fn print_a0(call: &Call, v: &[u8], out: &mut Vec<u8>) {
    let (sys, first, rest) = (call.sys, call.first, call.rest);
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

fn print_a1(call: &Call, v: &[u8], out: &mut Vec<u8>) {
    let (rec, sys, first, rest) = (call.rec, call.sys, call.first, call.rest);
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

fn print_a2(call: &Call, v: &[u8], out: &mut Vec<u8>) {
    let (rec, sys, first, rest) = (call.rec, call.sys, call.first, call.rest);
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
            0 => print_tables16(
                v,
                &[tables::IP_OPTION_NAMES, tables::MCAST_OPTION_NAMES],
                "unknown-ipopt-name(",
                "0x",
                out,
            ),
            1 => print_sock_opt_name(rec, v, out),
            6 => print_table16(
                v,
                tables::TCP_OPTION_NAMES,
                "unknown-tcpopt-name(",
                "0x",
                out,
            ),
            17 => print_udp_opt_name(v, out),
            41 => print_tables16(
                v,
                &[tables::IP6_OPTION_NAMES, tables::MCAST_OPTION_NAMES],
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

fn print_a3(call: &Call, v: &[u8], out: &mut Vec<u8>) {
    let (sys, first) = (call.sys, call.first);
    match (first, sys) {
        (b'm', "mmap") => print_mmap_flags(v, out),
        (b'm', "mount") => print_flags(v, tables::MOUNT_FLAGS, None, out),
        (b'r', "recv" | "recvfrom" | "recvmmsg") | (b's', "send" | "sendto" | "sendmmsg") => {
            print_flags(v, tables::RECV_FLAGS, None, out)
        }
        _ => hex_fallback(v, out),
    }
}
