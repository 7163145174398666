//! Hex and escaped strings: decoding, proctitle, TTY data and auparse's TTY escaping of the result.

use super::*;

pub(super) const fn hexval(c: u8) -> u8 {
    match c {
        b'0'..=b'9' => c - b'0',
        b'a'..=b'f' => c - b'a' + 10,
        b'A'..=b'F' => c - b'A' + 10,
        _ => 0,
    }
}

/// auparse's `au_unescape`: `(...)` up to the `)` is returned as is; otherwise the
/// leading hex digits are decoded (an odd last digit is the high nibble of a
/// byte). `None` when there are fewer than two hex digits. The result is NOT cut
/// at NUL bytes here.
pub(super) fn unhex_into(v: &[u8], out: &mut Vec<u8>) -> bool {
    if v.first() == Some(&b'(') {
        return match v.iter().position(|&c| c == b')') {
            Some(p) => {
                out.extend_from_slice(&v[..=p]);
                true
            }
            None => false,
        };
    }
    let n = v.iter().take_while(|c| c.is_ascii_hexdigit()).count();
    if n < 2 {
        return false;
    }
    let digits = &v[..n];
    out.reserve(n / 2 + 1);
    let pairs = digits.chunks_exact(2);
    let rest = pairs.remainder();
    // One reservation, no capacity check per byte (proctitles are long).
    out.extend(pairs.map(|p| (hexval(p[0]) << 4) | hexval(p[1])));
    if let [last] = rest {
        out.push(hexval(*last) << 4);
    }
    true
}

/// Truncate what was appended after `start` at its first NUL (C string semantics).
pub(super) fn cut_at_nul(out: &mut Vec<u8>, start: usize) {
    if let Some(p) = out[start..].iter().position(|&c| c == 0) {
        out.truncate(start + p);
    }
}

/// auparse's `print_escaped`: a quoted value is the string itself, a hex value
/// decoded (a leading "00" — abstract unix socket names — skipped), anything
/// else as written.
pub(super) fn print_escaped(v: &[u8], quoted: bool, out: &mut Vec<u8>) {
    if let Some(start) = unhex_or_as_written(v, quoted, out) {
        cut_at_nul(out, start);
    }
}

/// A quoted value, or one that is not hex, appended as written (None); else
/// the decoded bytes, less a leading NUL (hex "00": an abstract unix socket
/// name, which auparse skips), appended and where they start returned.
fn unhex_or_as_written(v: &[u8], quoted: bool, out: &mut Vec<u8>) -> Option<usize> {
    if quoted {
        out.extend_from_slice(v);
        return None;
    }
    let start = out.len();
    if unhex_into(v.strip_prefix(b"00").unwrap_or(v), out) {
        Some(start)
    } else {
        out.truncate(start);
        out.extend_from_slice(v);
        None
    }
}

/// Decode a hex-or-quoted string WITHOUT auparse's C-string cut (for the
/// JSON/dict view): an unquoted value of hex digit pairs is decoded, anything
/// else appended as written. Returns whether it was decoded.
pub(crate) fn decode_string(v: &[u8], quoted: bool, out: &mut Vec<u8>) -> bool {
    if !quoted && v.len() >= 2 && v.len() % 2 == 0 {
        // One pass: decode while checking (proctitles are long), undone at the
        // first byte that is not a hex digit.
        let start = out.len();
        out.resize(start + v.len() / 2, 0);
        for (b, p) in out[start..].iter_mut().zip(v.chunks_exact(2)) {
            let (hi, lo) = (HEX_VALUE[usize::from(p[0])], HEX_VALUE[usize::from(p[1])]);
            if (hi | lo) & 0x80 != 0 {
                out.truncate(start);
                out.extend_from_slice(v);
                return false;
            }
            *b = hi << 4 | lo;
        }
        return true;
    }
    out.extend_from_slice(v);
    false
}

/// The value of each hex digit (either case), 0xff for other bytes.
static HEX_VALUE: [u8; 256] = {
    let mut t = [0xffu8; 256];
    let mut c = 0;
    while c < 256 {
        let b = c as u8;
        if b.is_ascii_hexdigit() {
            t[c] = hexval(b);
        }
        c += 1;
    }
    t
};

pub(super) fn print_proctitle(v: &[u8], quoted: bool, out: &mut Vec<u8>) {
    let Some(start) = unhex_or_as_written(v, quoted, out) else {
        return;
    };
    // Arguments are NUL separated: auparse turns every NUL within strlen(val)/2
    // bytes into a space (the decoded buffer is zero padded), then cuts at the next NUL.
    let span = v.len() / 2;
    if out.len() < start + span {
        out.resize(start + span, 0);
    }
    for b in &mut out[start..start + span] {
        if *b == 0 {
            *b = b' ';
        }
    }
    cut_at_nul(out, start);
}

pub(super) fn print_tty_data(v: &[u8], quoted: bool, out: &mut Vec<u8>) {
    if quoted || !is_hex_string(v) {
        return as_written(v, quoted, out);
    }
    let mut data = Vec::with_capacity(v.len() / 2);
    if !unhex_into(v, &mut data) {
        return;
    }
    let mut in_printable = false;
    let start = out.len();
    let mut i = 0;
    while i < data.len() {
        let c = data[i];
        // Named keys (auparse tty_find_named_key): first match in table order.
        let named = if c >= b' ' && !(0x7f..0xa0).contains(&c) {
            None
        } else {
            names::TTY_NAMED_KEYS
                .iter()
                .find(|(seq, _)| data[i..].starts_with(seq))
        };
        match named {
            Some((seq, name)) => {
                if in_printable {
                    out.push(b'"');
                    in_printable = false;
                }
                if out.len() != start {
                    out.push(b',');
                }
                out.push(b'<');
                out.extend_from_slice(name.as_bytes());
                out.push(b'>');
                i += seq.len();
            }
            None => {
                if !in_printable {
                    if out.len() != start {
                        out.push(b',');
                    }
                    out.push(b'"');
                    in_printable = true;
                }
                if !(0x20..=0x7e).contains(&c) {
                    push_octal_escape(out, c);
                } else {
                    if c == b'\\' || c == b'"' {
                        out.push(b'\\');
                    }
                    out.push(c);
                }
                i += 1;
            }
        }
    }
    if in_printable {
        out.push(b'"');
    }
}

pub(super) fn as_written(v: &[u8], quoted: bool, out: &mut Vec<u8>) {
    if quoted {
        out.push(b'"');
        out.extend_from_slice(v);
        out.push(b'"');
    } else {
        out.extend_from_slice(v);
    }
}

/// `\ooo`: a byte as auparse escapes it.
fn push_octal_escape(out: &mut Vec<u8>, c: u8) {
    out.push(b'\\');
    push_octal3(out, u32::from(c));
}

/// Whether any byte is below 0x20, eight at a time (SWAR: a lane below 0x20
/// sets its high bit; a borrow only adds flags above a lane that has one).
pub(super) fn has_control(s: &[u8]) -> bool {
    const LO: u64 = 0x0101_0101_0101_0101;
    const HI: u64 = 0x8080_8080_8080_8080;
    let below = |x: u64| x.wrapping_sub(LO * 0x20) & !x & HI != 0;
    let mut words = s.chunks_exact(8);
    for w in &mut words {
        let mut a = [0u8; 8];
        a.copy_from_slice(w);
        if below(u64::from_le_bytes(a)) {
            return true;
        }
    }
    words.remainder().iter().any(|&c| c < 0x20)
}

/// auparse's default TTY escaping: bytes below 0x20 become `\ooo`.
pub(super) fn tty_escape_tail(out: &mut Vec<u8>, start: usize, keep_key_separator: bool) {
    let needs = has_control(&out[start..])
        && out[start..]
            .iter()
            .any(|&c| c < 0x20 && !(keep_key_separator && c == 1));
    if !needs {
        return;
    }
    let tail: Vec<u8> = out.split_off(start);
    for c in tail {
        if c < 0x20 && !(keep_key_separator && c == 1) {
            push_octal_escape(out, c);
        } else {
            out.push(c);
        }
    }
}
