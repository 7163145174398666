//! JSON text out: a [`Sink`] that writes into one byte buffer, with string
//! escaping done on byte slices (a fast path for the bytes that need none).

use super::json::Sink;

/// Writes JSON text. Strings are UTF-8; bytes that are not valid UTF-8 are
/// written as `\udcXX` (lone surrogates, the same as Python's "surrogateescape"),
/// so `json.loads(...)` followed by `.encode("utf-8", "surrogateescape")` gives
/// the original bytes back.
pub struct JsonWriter<'a> {
    pub out: &'a mut Vec<u8>,
    /// Open objects and lists.
    depth: u32,
    after_key: bool,
}

impl<'a> JsonWriter<'a> {
    pub fn new(out: &'a mut Vec<u8>) -> JsonWriter<'a> {
        JsonWriter {
            out,
            depth: 0,
            after_key: false,
        }
    }

    /// The comma before a value in a container: not after its key, and not
    /// as the first one (the last byte out is then the container's `{`/`[`;
    /// otherwise it is the end of a value, never one of those).
    fn value_prefix(&mut self) {
        if self.after_key {
            self.after_key = false;
            return;
        }
        if self.depth > 0 && !matches!(self.out.last(), Some(b'{' | b'[')) {
            self.out.push(b',');
        }
    }
}

const HEX: &[u8; 16] = b"0123456789abcdef";

/// Append the decimal digits of `v` (no allocation).
pub(crate) fn push_decimal(out: &mut Vec<u8>, v: u64) {
    let mut buf = [0u8; 20];
    put(out, decimal_digits(v, &mut buf));
}

/// The decimal digits of `v`, at the end of `buf`.
pub(crate) fn decimal_digits(mut v: u64, buf: &mut [u8; 20]) -> &[u8] {
    let mut i = buf.len();
    loop {
        i -= 1;
        buf[i] = b'0' + (v % 10) as u8;
        v /= 10;
        if v == 0 {
            break;
        }
    }
    &buf[i..]
}

/// Append `s`; one of up to 16 bytes (most keys and values) with a few
/// word moves instead of a call to `memcpy`.
#[inline]
pub(crate) fn put(out: &mut Vec<u8>, s: &[u8]) {
    let n = s.len();
    if n > 16 {
        return out.extend_from_slice(s);
    }
    out.reserve(16);
    let len = out.len();
    let src = s.as_ptr();
    // SAFETY: `reserve(16)` leaves at least 16 bytes of capacity after
    // `len`; every copy below reads within `s` (its offsets are at most
    // n - 8, n - 4 or n - 1 for a read of 8, 4 or 1 bytes) and writes within
    // those 16 bytes, together covering exactly `dst[..n]`, which are
    // therefore initialized when the length grows by `n`.
    unsafe {
        let dst = out.as_mut_ptr().add(len);
        match n {
            8..=16 => {
                std::ptr::copy_nonoverlapping(src, dst, 8);
                std::ptr::copy_nonoverlapping(src.add(n - 8), dst.add(n - 8), 8);
            }
            4..=7 => {
                std::ptr::copy_nonoverlapping(src, dst, 4);
                std::ptr::copy_nonoverlapping(src.add(n - 4), dst.add(n - 4), 4);
            }
            1..=3 => {
                *dst = *src;
                *dst.add(n / 2) = *src.add(n / 2);
                *dst.add(n - 1) = *src.add(n - 1);
            }
            _ => {}
        }
        out.set_len(len + n);
    }
}

/// Append `s` as a JSON string literal.
pub fn write_json_string(out: &mut Vec<u8>, s: &[u8]) {
    // Fast path: printable ASCII without quote or backslash goes out as is.
    if is_plain_ascii(s) {
        out.reserve(s.len() + 2);
        out.push(b'"');
        put(out, s);
        out.push(b'"');
        return;
    }
    out.push(b'"');
    let mut rest = s;
    loop {
        match std::str::from_utf8(rest) {
            Ok(valid) => {
                escape_str(out, valid.as_bytes());
                break;
            }
            Err(e) => {
                let (good, bad) = rest.split_at(e.valid_up_to());
                escape_str(out, good);
                let n = e.error_len().unwrap_or(bad.len());
                for &c in &bad[..n] {
                    out.extend_from_slice(b"\\udc");
                    out.push(HEX[usize::from(c >> 4)]);
                    out.push(HEX[usize::from(c & 0xf)]);
                }
                rest = &bad[n..];
            }
        }
    }
    out.push(b'"');
}

/// Printable ASCII without `"` or `\\` (nothing to escape), eight bytes at a
/// time; the tail is read as one more word overlapping the last one (or, in a
/// string under eight bytes, two overlapping halves), never copied.
fn is_plain_ascii(s: &[u8]) -> bool {
    let n = s.len();
    let half = |i: usize| u64::from(u32::from_le_bytes([s[i], s[i + 1], s[i + 2], s[i + 3]]));
    let word = |i: usize| {
        let mut a = [0u8; 8];
        a.copy_from_slice(&s[i..i + 8]);
        u64::from_le_bytes(a)
    };
    match n {
        // A byte repeated in every lane.
        0..=3 => s.iter().all(|&c| !needs_escape(u64::from(c) * LO)),
        4..=7 => !needs_escape(half(0) | half(n - 4) << 32),
        _ => {
            let mut i = 0;
            while i + 8 <= n {
                if needs_escape(word(i)) {
                    return false;
                }
                i += 8;
            }
            i == n || !needs_escape(word(n - 8))
        }
    }
}

const LO: u64 = 0x0101_0101_0101_0101;

/// Whether any of eight bytes is below 0x20, from 0x7f up, or equal to `"`
/// or `\\`: each such byte sets the high bit of its lane (SWAR; a carry out
/// of an 0xff lane can only add a flag where one is set already).
#[inline]
fn needs_escape(x: u64) -> bool {
    const HI: u64 = 0x8080_8080_8080_8080;
    let zero_in = |x: u64| x.wrapping_sub(LO) & !x & HI;
    let flag = x.wrapping_sub(LO * 0x20) & !x & HI // < 0x20
        | (x | x.wrapping_add(LO)) & HI // >= 0x7f
        | zero_in(x ^ (LO * u64::from(b'"')))
        | zero_in(x ^ (LO * u64::from(b'\\')));
    flag != 0
}

fn escape_str(out: &mut Vec<u8>, s: &[u8]) {
    let mut last = 0;
    for (i, &c) in s.iter().enumerate() {
        let esc: &[u8] = match c {
            b'"' => b"\\\"",
            b'\\' => b"\\\\",
            b'\n' => b"\\n",
            b'\r' => b"\\r",
            b'\t' => b"\\t",
            0..=0x1f | 0x7f => b"",
            _ => continue,
        };
        out.extend_from_slice(&s[last..i]);
        if esc.is_empty() {
            out.extend_from_slice(b"\\u00");
            out.push(HEX[usize::from(c >> 4)]);
            out.push(HEX[usize::from(c & 0xf)]);
        } else {
            out.extend_from_slice(esc);
        }
        last = i + 1;
    }
    out.extend_from_slice(&s[last..]);
}

impl Sink for JsonWriter<'_> {
    fn begin_map(&mut self) {
        self.value_prefix();
        self.out.push(b'{');
        self.depth += 1;
    }
    fn end_map(&mut self) {
        self.depth = self.depth.saturating_sub(1);
        self.out.push(b'}');
    }
    fn begin_list(&mut self) {
        self.value_prefix();
        self.out.push(b'[');
        self.depth += 1;
    }
    fn end_list(&mut self) {
        self.depth = self.depth.saturating_sub(1);
        self.out.push(b']');
    }
    fn key(&mut self, k: &[u8]) {
        self.value_prefix();
        write_json_string(self.out, k);
        self.out.push(b':');
        self.after_key = true;
    }
    fn key_json(&mut self, _: &[u8], json: &[u8]) {
        self.value_prefix();
        put(self.out, json);
        self.after_key = true;
    }
    fn string(&mut self, s: &[u8]) {
        self.value_prefix();
        write_json_string(self.out, s);
    }
    fn int(&mut self, v: i64) {
        self.value_prefix();
        if v < 0 {
            self.out.push(b'-');
        }
        push_decimal(self.out, v.unsigned_abs());
    }
    fn uint(&mut self, v: u64) {
        self.value_prefix();
        push_decimal(self.out, v);
    }
    fn int_text(&mut self, _: i64, text: &[u8]) {
        self.value_prefix();
        put(self.out, text);
    }
    fn uint_text(&mut self, _: u64, text: &[u8]) {
        self.value_prefix();
        put(self.out, text);
    }
    fn boolean(&mut self, b: bool) {
        self.value_prefix();
        self.out
            .extend_from_slice(if b { b"true" } else { b"false" });
    }
    fn null(&mut self) {
        self.value_prefix();
        self.out.extend_from_slice(b"null");
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn plain_naive(s: &[u8]) -> bool {
        s.iter()
            .all(|&c| (0x20..0x7f).contains(&c) && c != b'"' && c != b'\\')
    }

    #[test]
    fn plain_ascii_edges() {
        for c in 0..=255u8 {
            for pos in 0..17 {
                let mut s = vec![b'a'; 17];
                s[pos] = c;
                assert_eq!(is_plain_ascii(&s), plain_naive(&s), "byte {c:#x} at {pos}");
            }
        }
    }

    /// The bytes a JSON string literal written by `write_json_string` stands
    /// for (`\udcXX` is the byte XX), or None if it is not such a literal.
    fn unescape(lit: &[u8]) -> Option<Vec<u8>> {
        let body = lit.strip_prefix(b"\"")?.strip_suffix(b"\"")?;
        std::str::from_utf8(body).ok()?;
        let mut out = Vec::new();
        let mut i = 0;
        while i < body.len() {
            let c = body[i];
            if c == b'"' || c < 0x20 {
                return None;
            }
            if c != b'\\' {
                out.push(c);
                i += 1;
                continue;
            }
            let e = *body.get(i + 1)?;
            i += 2;
            match e {
                b'"' | b'\\' => out.push(e),
                b'n' => out.push(b'\n'),
                b'r' => out.push(b'\r'),
                b't' => out.push(b'\t'),
                b'u' => {
                    let hex = std::str::from_utf8(body.get(i..i + 4)?).ok()?;
                    let u = u16::from_str_radix(hex, 16).ok()?;
                    i += 4;
                    match u {
                        0..=0x1f | 0x7f => out.push(u as u8),
                        0xdc80..=0xdcff => out.push((u & 0xff) as u8),
                        _ => return None,
                    }
                }
                _ => return None,
            }
        }
        Some(out)
    }

    proptest! {
        #[test]
        fn strings_round_trip(s in proptest::collection::vec(any::<u8>(), 0..80)) {
            let mut out = b"x".to_vec();
            write_json_string(&mut out, &s);
            prop_assert_eq!(unescape(&out[1..]), Some(s));
        }
        #[test]
        fn text_is_valid_json(s in "\\PC{0,40}", t in "[ -~]{0,40}") {
            for v in [s, t] {
                let mut out = Vec::new();
                write_json_string(&mut out, v.as_bytes());
                let back: String = serde_json::from_slice(&out).map_err(|e| TestCaseError::fail(e.to_string()))?;
                prop_assert_eq!(back, v);
            }
        }
        #[test]
        fn put_appends_exactly(prefix in 0usize..40, s in proptest::collection::vec(any::<u8>(), 0..40)) {
            let mut a = vec![7u8; prefix];
            a.shrink_to_fit();
            let mut b = a.clone();
            put(&mut a, &s);
            b.extend_from_slice(&s);
            prop_assert_eq!(a, b);
        }
        #[test]
        fn plain_ascii_agrees_with_the_byte_loop(s in proptest::collection::vec(any::<u8>(), 0..64)) {
            prop_assert_eq!(is_plain_ascii(&s), plain_naive(&s));
        }
        #[test]
        fn plain_ascii_agrees_on_mostly_printable(s in "[ -~]{0,40}", c in any::<u8>(), at in 0usize..40) {
            let mut b = s.into_bytes();
            if !b.is_empty() {
                let i = at % b.len();
                b[i] = c;
            }
            prop_assert_eq!(is_plain_ascii(&b), plain_naive(&b));
        }
    }
}
