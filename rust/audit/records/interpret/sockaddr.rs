//! `saddr=`: a hex-encoded struct sockaddr as auparse prints it, per address family.

use super::*;

/// glibc `inet_ntop(AF_INET6)`: the longest run (>= 2) of zero groups becomes
/// "::"; `::a.b.c.d` and `::ffff:a.b.c.d` keep the IPv4 dotted tail.
pub(super) fn inet6_text(a: &[u8; 16], out: &mut String) {
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

pub(super) fn if_name(index: u32) -> Option<String> {
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
pub(super) fn c_str_n(b: &[u8], n: usize) -> &[u8] {
    let b = &b[..b.len().min(n)];
    match b.iter().position(|&c| c == 0) {
        Some(p) => &b[..p],
        None => b,
    }
}

pub(super) fn print_sockaddr(v: &[u8], out: &mut Vec<u8>) {
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
