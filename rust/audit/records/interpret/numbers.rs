//! Numbers as auparse prints them: C-style conversions, errno, arch, exit, modes, permissions, signals, capabilities.

use super::*;

/// glibc's strerror text for an errno (cached).
pub(super) fn strerror(errno: i64, out: &mut Vec<u8>) {
    use std::sync::OnceLock;
    static TEXTS: OnceLock<Vec<Box<[u8]>>> = OnceLock::new();
    let texts = TEXTS.get_or_init(|| (0..=200).map(|e| strerror_uncached(e).into()).collect());
    match usize::try_from(errno).ok().and_then(|i| texts.get(i)) {
        Some(t) => out.extend_from_slice(t),
        None => out.extend_from_slice(&strerror_uncached(errno)),
    }
}

pub(super) fn strerror_uncached(errno: i64) -> Vec<u8> {
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
pub(super) fn c_strtoul(v: &[u8], base: u32) -> Result<u64, ()> {
    let (mut i, neg) = c_blanks_and_sign(v);
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

/// What the C string-to-number functions skip before the digits: blanks
/// (`isspace`), then one optional sign. Returns where the digits start and
/// whether the sign was a minus.
fn c_blanks_and_sign(v: &[u8]) -> (usize, bool) {
    let mut i = 0;
    while i < v.len() && (v[i] == b' ' || (9..=13).contains(&v[i])) {
        i += 1;
    }
    match v.get(i) {
        Some(b'-') => (i + 1, true),
        Some(b'+') => (i + 1, false),
        _ => (i, false),
    }
}

/// C `strtoll` base 10.
pub(super) fn c_strtoll(v: &[u8]) -> Result<i64, ()> {
    let (mut i, neg) = c_blanks_and_sign(v);
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

pub(super) fn conversion_error(v: &[u8], out: &mut Vec<u8>) {
    out.extend_from_slice(b"conversion error(");
    out.extend_from_slice(v);
    out.push(b')');
}

pub(super) fn print_arch(v: &[u8], out: &mut Vec<u8>) {
    let Ok(arch) = c_strtoul(v, 16) else {
        out.extend_from_slice(b"conversion error(");
        out.extend_from_slice(v);
        out.extend_from_slice(b") ");
        return;
    };
    match u32::try_from(arch)
        .ok()
        .and_then(audit_tables::machine_for_audit_arch)
    {
        Some(m) => out.extend_from_slice(m.name().as_bytes()),
        None => {
            unknown(out, "unknown-elf-type(", "", v);
        }
    }
}

pub(super) fn print_exit(v: &[u8], out: &mut Vec<u8>) {
    match c_strtoll(v) {
        Err(()) => conversion_error(v, out),
        Ok(n) if n < 0 => {
            let e = n.unsigned_abs();
            let errno = i32::try_from(e).ok();
            match errno.and_then(audit_tables::errno_name) {
                Some(name) => out.extend_from_slice(name.as_bytes()),
                None => out.extend_from_slice(b"(null)"),
            }
            out.push(b'(');
            match errno.and_then(audit_tables::errno_description) {
                Some(d) => out.extend_from_slice(d.as_bytes()),
                None => strerror(i64::try_from(e).unwrap_or(i64::MAX), out),
            }
            out.push(b')');
        }
        Ok(_) => out.extend_from_slice(v),
    }
}

pub(super) fn print_perm(v: &[u8], out: &mut Vec<u8>) {
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

pub(super) fn print_mode(v: &[u8], base: u32, out: &mut Vec<u8>) {
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
pub(super) fn push_octal3(out: &mut Vec<u8>, v: u32) {
    out.extend_from_slice(&[
        b'0' + ((v >> 6) & 7) as u8,
        b'0' + ((v >> 3) & 7) as u8,
        b'0' + (v & 7) as u8,
    ]);
}

pub(super) fn print_mode_short(v: &[u8], base: u32, out: &mut Vec<u8>) {
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

pub(super) fn print_cap_bitmap(v: &[u8], out: &mut Vec<u8>) {
    let Ok(bits) = c_strtoul(v, 16) else {
        return conversion_error(v, out);
    };
    let mut first = true;
    // The set bits, lowest first.
    let mut rest = bits;
    while rest != 0 {
        let Some(name) = names::CAPABILITIES.get(rest.trailing_zeros() as usize) else {
            break;
        };
        rest &= rest - 1;
        if !first {
            out.push(b',');
        }
        out.extend_from_slice(name.as_bytes());
        first = false;
    }
    if first {
        out.extend_from_slice(b"none");
    }
}

pub(super) fn print_signal(v: &[u8], base: u32, out: &mut Vec<u8>) {
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

pub(super) fn print_capability(v: &[u8], base: u32, out: &mut Vec<u8>) {
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

pub(super) fn print_socket_domain(v: &[u8], out: &mut Vec<u8>) {
    let Ok(n) = c_strtoul(v, 16) else {
        return conversion_error(v, out);
    };
    match names::family_name(n as i32 as u32) {
        Some(s) => out.extend_from_slice(s.as_bytes()),
        None => {
            unknown(out, "unknown-family(", "0x", v);
        }
    }
}

pub(super) fn print_socket_type(v: &[u8], out: &mut Vec<u8>) {
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
            unknown(out, "unknown-type(", "", v);
            return;
        }
    };
    out.extend_from_slice(name.as_bytes());
}

pub(super) fn hex_fallback(v: &[u8], out: &mut Vec<u8>) {
    out.extend_from_slice(b"0x");
    out.extend_from_slice(v);
}

/// auparse's `*_i2s()`: the first entry of the table with this value (the
/// tables are keyed by C ints, so compare 32 bits).
pub(super) fn lookup(table: &[(u64, &'static str)], key: u64) -> Option<&'static str> {
    let key = key as u32;
    table
        .iter()
        .find(|(v, _)| *v as u32 == key)
        .map(|(_, n)| *n)
}

pub(super) fn unknown(out: &mut Vec<u8>, prefix: &str, hex: &str, v: &[u8]) {
    out.extend_from_slice(prefix.as_bytes());
    out.extend_from_slice(hex.as_bytes());
    out.extend_from_slice(v);
    out.push(b')');
}

/// A hex value looked up in `table`, else `<prefix><hex><value>)`.
pub(super) fn print_table16(
    v: &[u8],
    table: &[(u64, &'static str)],
    prefix: &str,
    hex: &str,
    out: &mut Vec<u8>,
) {
    print_tables16(v, &[table], prefix, hex, out);
}

/// [`print_table16`] over tables searched in turn: one of auparse's tables
/// whose rows another table shares (see `tables::MCAST_OPTION_NAMES`).
pub(super) fn print_tables16(
    v: &[u8],
    tables: &[&[(u64, &'static str)]],
    prefix: &str,
    hex: &str,
    out: &mut Vec<u8>,
) {
    match c_strtoul(v, 16) {
        Ok(n) => match tables.iter().find_map(|t| lookup(t, n)) {
            Some(s) => out.extend_from_slice(s.as_bytes()),
            None => unknown(out, prefix, hex, v),
        },
        Err(()) => conversion_error(v, out),
    }
}

pub(super) fn print_personality(v: &[u8], out: &mut Vec<u8>) {
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
pub(super) fn print_limited(
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
pub(super) fn print_decimal_fallback(
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
