//! The value rules ausearch uses when it reads a field out of a record's
//! raw text (audit-userspace 3.0.9 `src/ausearch-parse.c`): whole field
//! names, C `strtoul`, hex-encoded strings and quoted ones.

use memchr::memmem;

use super::group::leading_u64;

/// The record was malformed for a needed item: ausearch then skips the event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Malformed;

/// The first `name=` in `hay` whose name is whole (preceded by the start, a
/// space or a quote); returns what follows the `=`.
pub fn after<'a>(hay: &'a [u8], name: &[u8]) -> Option<&'a [u8]> {
    let mut from = 0;
    let finder = memmem::Finder::new(name);
    while let Some(p) = finder.find(&hay[from..]) {
        let at = from + p;
        let end = at + name.len();
        let whole = at == 0 || matches!(hay[at - 1], b' ' | b'\'' | b'(');
        if whole && hay.get(end) == Some(&b'=') {
            return Some(&hay[end + 1..]);
        }
        from = at + 1;
    }
    None
}

/// The value up to the next space.
pub(crate) fn word(rest: &[u8]) -> &[u8] {
    &rest[..memchr::memchr(b' ', rest).unwrap_or(rest.len())]
}

/// C `unescape()`: a `(...)` value as is, else the leading hex digits
/// decoded (cut at a decoded NUL, as a C string is); `None` when there is
/// nothing to decode.
pub fn unescape(rest: &[u8]) -> Option<Vec<u8>> {
    if rest.first() == Some(&b'(') {
        let close = memchr::memchr(b')', rest)?;
        return Some(rest[..=close].to_vec());
    }
    let n = rest.iter().take_while(|c| c.is_ascii_hexdigit()).count();
    if n < 2 {
        return None;
    }
    let mut out = Vec::with_capacity(n / 2);
    for pair in rest[..n].chunks(2) {
        let hi = hex(pair[0]);
        let lo = pair.get(1).map_or(0, |&c| hex(c));
        out.push((hi << 4) | lo);
    }
    if let Some(z) = out.iter().position(|&c| c == 0) {
        out.truncate(z);
    }
    Some(out)
}

pub(crate) fn hex(c: u8) -> u8 {
    match c {
        b'0'..=b'9' => c - b'0',
        b'a'..=b'f' => c - b'a' + 10,
        b'A'..=b'F' => c - b'A' + 10,
        _ => 0,
    }
}

/// A string value: quoted text, else hex decoded.
pub(crate) fn string(rest: &[u8]) -> Result<Option<Vec<u8>>, Malformed> {
    if let Some(inner) = rest.strip_prefix(b"\"") {
        let end = memchr::memchr(b'"', inner).ok_or(Malformed)?;
        return Ok(Some(inner[..end].to_vec()));
    }
    Ok(unescape(rest))
}

/// A string value where an unquoted non-hex value is kept as text (user
/// messages' "legacy" values).
pub(crate) fn legacy_string(rest: &[u8]) -> Result<Option<Vec<u8>>, Malformed> {
    if rest.first() == Some(&b'"') {
        return string(rest);
    }
    let w = word(rest);
    if w.iter().all(u8::is_ascii_hexdigit) {
        Ok(unescape(w))
    } else {
        Ok(Some(w.to_vec()))
    }
}

/// The body of a record: what follows `audit(...):`.
pub(crate) fn body(raw: &[u8]) -> &[u8] {
    match memchr::memchr(b')', raw) {
        Some(p) => raw[p + 1..].strip_prefix(b":").unwrap_or(&raw[p + 1..]),
        None => raw,
    }
}

/// C `strtoul(s, NULL, 10)`: optional sign (a minus negates, wrapping).
pub(crate) fn num(rest: &[u8]) -> u64 {
    match rest.first() {
        Some(b'-') => leading_u64(&rest[1..]).wrapping_neg(),
        Some(b'+') => leading_u64(&rest[1..]),
        _ => leading_u64(rest),
    }
}

/// `uid_t` view of a C `strtoul` result.
pub(crate) fn id32(rest: &[u8]) -> u64 {
    num(rest) & 0xffff_ffff
}

/// C `strtoll(s, NULL, 0)`: optional sign, then `0x` hex, `0` octal or
/// decimal digits; 0 when there are none.
pub(crate) fn strtoll0(s: &[u8]) -> i64 {
    let (neg, s) = match s.first() {
        Some(b'-') => (true, &s[1..]),
        Some(b'+') => (false, &s[1..]),
        _ => (false, s),
    };
    let (radix, digits) = if s.len() > 2 && (s.starts_with(b"0x") || s.starts_with(b"0X")) {
        (16, &s[2..])
    } else if s.len() > 1 && s[0] == b'0' {
        (8, &s[1..])
    } else {
        (10, s)
    };
    let mut v: i64 = 0;
    for &c in digits {
        let Some(d) = (c as char).to_digit(radix) else {
            break;
        };
        v = v
            .saturating_mul(i64::from(radix))
            .saturating_add(i64::from(d));
    }
    if neg {
        v.saturating_neg()
    } else {
        v
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn whole_names_only() {
        let b = b" pid=1 auid=1000 uid=0 euid=5 msg='op=x uid=7 res=failed'";
        assert_eq!(word(after(b, b"uid").unwrap()), b"0");
        assert_eq!(word(after(b, b"euid").unwrap()), b"5");
        assert!(after(b, b"id").is_none());
        let inner = after(b, b"msg").unwrap();
        assert_eq!(word(after(inner, b"op").unwrap()), b"x");
    }

    #[test]
    fn strtoll_like_c() {
        assert_eq!(strtoll0(b"-2"), -2);
        assert_eq!(strtoll0(b"0x10"), 16);
        assert_eq!(strtoll0(b"010"), 8);
        assert_eq!(strtoll0(b"12ab"), 12);
        assert_eq!(strtoll0(b""), 0);
    }

    #[test]
    fn unescape_like_c() {
        assert_eq!(unescape(b"2F746D70 x"), Some(b"/tmp".to_vec()));
        assert_eq!(unescape(b"(null) x"), Some(b"(null)".to_vec()));
        assert_eq!(unescape(b"6100620063"), Some(b"a".to_vec()));
        assert_eq!(unescape(b"zz"), None);
    }
}
