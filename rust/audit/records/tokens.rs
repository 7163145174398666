//! The splitter of a record body into `name=value` tokens, as auparse splits it.
//!
//! Zero-copy: tokens are byte offsets into the caller's line. The records parser
//! ([`super::parse`]) builds its fields from them; the daemon's ENRICHED writer
//! re-reads lines with the same splitter, so both see the same fields.

use super::parse::{find_byte, find_either};

/// One token of a record body; every position is a byte offset into the line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BodyToken {
    /// A word without `=` (`start..end`). SELinux AVC records have some
    /// (`denied { read }`); everything else ignores them.
    Word { start: usize, end: usize },
    /// `msg='`: the nested message of a user record starts; the tokens that
    /// follow are its fields.
    NestedMessage,
    /// A `name=value` field. `raw` is the whole token up to the next space;
    /// `name` drops a leading `(`; `value` drops the quotes of a quoted value,
    /// else a trailing `:`, `,`, `'` and `)` (but keeps `(none)`/`(null)`).
    /// Fields with an empty name or value are not produced.
    Field {
        raw: (usize, usize),
        name: (usize, usize),
        value: (usize, usize),
        quoted: bool,
    },
}

/// The tokens of `line[start..end]`, in order. `msg=audit(...)` is skipped.
#[derive(Debug, Clone)]
pub struct BodyTokens<'a> {
    b: &'a [u8],
    pos: usize,
}

impl<'a> BodyTokens<'a> {
    pub fn new(line: &'a [u8], start: usize, end: usize) -> Self {
        let end = end.min(line.len());
        BodyTokens {
            b: &line[..end],
            pos: start.min(end),
        }
    }

    /// Go on from `pos`: for a caller that read past a [`BodyToken::Word`]
    /// itself (AVC's `{ perms }` group).
    pub fn resume_at(&mut self, pos: usize) {
        self.pos = pos.min(self.b.len());
    }
}

/// The first space at or after `from`, or the end.
#[inline]
pub(crate) fn next_space(b: &[u8], from: usize) -> usize {
    let from = from.min(b.len());
    find_byte(&b[from..], b' ').map_or(b.len(), |p| from + p)
}

impl Iterator for BodyTokens<'_> {
    type Item = BodyToken;

    // Always inlined: called out of line, each token comes back through
    // memory, which costs the daemon's ENRICHED writer (it tokenizes every
    // record) a stall per token.
    #[inline(always)]
    fn next(&mut self) -> Option<BodyToken> {
        let b = self.b;
        let end = b.len();
        loop {
            let mut i = self.pos;
            i += b[i..].iter().take_while(|&&c| c == b' ').count();
            if i >= end {
                self.pos = end;
                return None;
            }
            let tok = i;
            // Name: up to '=' or a space.
            let j = tok + find_either(&b[tok..], b' ', b'=').unwrap_or(end - tok);
            if j >= end || b[j] == b' ' {
                self.pos = j;
                return Some(BodyToken::Word { start: tok, end: j });
            }
            let mut name_start = tok;
            let v = j + 1;
            if &b[tok..j] == b"msg" {
                if b.get(v) == Some(&b'\'') {
                    self.pos = v + 1;
                    return Some(BodyToken::NestedMessage);
                }
                if b[v..].starts_with(b"audit(") {
                    self.pos = next_space(b, v);
                    continue;
                }
            }
            if b[name_start] == b'(' {
                name_start += 1;
            }
            if b.get(v) == Some(&b'"') {
                if let Some(q) = find_byte(&b[v + 1..], b'"') {
                    let close = v + 1 + q;
                    let vend = next_space(b, close + 1);
                    self.pos = vend;
                    return Some(BodyToken::Field {
                        raw: (tok, vend),
                        name: (name_start, j),
                        value: (v + 1, close),
                        quoted: true,
                    });
                }
            }
            let vend = next_space(b, v);
            self.pos = vend;
            let mut e = vend;
            for strip in [b':', b',', b'\''] {
                if e > v && b[e - 1] == strip {
                    e -= 1;
                }
            }
            if e > v && b[e - 1] == b')' && &b[v..e] != b"(none)" && &b[v..e] != b"(null)" {
                e -= 1;
            }
            if e > v && j > name_start {
                return Some(BodyToken::Field {
                    raw: (tok, vend),
                    name: (name_start, j),
                    value: (v, e),
                    quoted: false,
                });
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fields(line: &[u8]) -> Vec<(String, String, bool)> {
        let s = |r: (usize, usize)| String::from_utf8_lossy(&line[r.0..r.1]).into_owned();
        BodyTokens::new(line, 0, line.len())
            .filter_map(|t| match t {
                BodyToken::Field {
                    name,
                    value,
                    quoted,
                    ..
                } => Some((s(name), s(value), quoted)),
                _ => None,
            })
            .collect()
    }

    proptest::proptest! {
        #[test]
        fn find_byte_and_find_either_find_the_first(
            hay in proptest::collection::vec(proptest::sample::select(b" =ab\x20\x3d\xa0\xbd".to_vec()), 0..40),
            skip in 0usize..8,
        ) {
            let hay = &hay[skip.min(hay.len())..];
            let want = hay.iter().position(|&c| c == b' ' || c == b'=');
            proptest::prop_assert_eq!(find_either(hay, b' ', b'='), want);
            let want = hay.iter().position(|&c| c == b'=');
            proptest::prop_assert_eq!(find_byte(hay, b'='), want);
        }
    }

    #[test]
    fn splits_as_auparse_does() {
        let got = fields(b"msg=audit(1.000:1): a=1, (b=\"x y\" c= d=(none) e=2) f=g:");
        let want = [
            ("a", "1", false),
            ("b", "x y", true),
            ("d", "(none)", false),
        ];
        let want: Vec<_> = want
            .iter()
            .map(|(n, v, q)| (n.to_string(), v.to_string(), *q))
            .chain([
                ("e".to_string(), "2".to_string(), false),
                ("f".to_string(), "g".to_string(), false),
            ])
            .collect();
        assert_eq!(got, want);
    }

    #[test]
    fn words_nested_messages_and_resuming() {
        let line = b"denied { read } msg='op=x' z";
        let mut t = BodyTokens::new(line, 0, line.len());
        assert_eq!(t.next(), Some(BodyToken::Word { start: 0, end: 6 }));
        t.resume_at(15);
        assert_eq!(t.next(), Some(BodyToken::NestedMessage));
        assert!(matches!(
            t.next(),
            Some(BodyToken::Field { quoted: false, .. })
        ));
        assert_eq!(t.next(), Some(BodyToken::Word { start: 27, end: 28 }));
        assert_eq!(t.next(), None);
        assert_eq!(BodyTokens::new(line, 40, 3).next(), None);
    }
}
