//! Splitting text into auditctl arguments.
//!
//! Two dialects: a command line as a POSIX shell would split it (quotes and
//! backslashes, for `AuditRule.parse`), and a line of an `audit.rules` file
//! as `auditctl -R` splits it (blanks only; `\ ` is a space and `\\` a
//! backslash, nothing else is special; src/auditctl.c `preprocess` and
//! lib/strsplit.c).

use std::borrow::Cow;

use super::RuleError;

/// One argument and the byte offset in the source text where it starts.
/// The text borrows from the source unless quoting or escapes changed it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Token<'a> {
    pub text: Cow<'a, str>,
    pub start: usize,
}

/// Split like `sh` does (no expansion): blanks separate words; `'...'` is
/// literal; inside `"..."` a backslash escapes `"`, `\`, `$` and `` ` ``;
/// elsewhere a backslash escapes the next character.
pub fn shell_split(text: &str) -> Result<Vec<Token<'static>>, RuleError> {
    let mut tokens = Vec::new();
    let mut chars = text.char_indices().peekable();
    while let Some(&(start, c)) = chars.peek() {
        if c.is_whitespace() {
            chars.next();
            continue;
        }
        let mut word = String::new();
        while let Some(&(i, c)) = chars.peek() {
            if c.is_whitespace() {
                break;
            }
            chars.next();
            match c {
                '\'' => loop {
                    match chars.next() {
                        Some((_, '\'')) => break,
                        Some((_, ch)) => word.push(ch),
                        None => {
                            return Err(RuleError::at("unterminated single quote", i, "'"));
                        }
                    }
                },
                '"' => loop {
                    match chars.next() {
                        Some((_, '"')) => break,
                        Some((_, '\\')) => match chars.next() {
                            Some((_, ch @ ('"' | '\\' | '$' | '`'))) => word.push(ch),
                            Some((_, '\n')) => {}
                            Some((_, ch)) => {
                                word.push('\\');
                                word.push(ch);
                            }
                            None => {
                                return Err(RuleError::at("unterminated double quote", i, "\""));
                            }
                        },
                        Some((_, ch)) => word.push(ch),
                        None => {
                            return Err(RuleError::at("unterminated double quote", i, "\""));
                        }
                    }
                },
                '\\' => match chars.next() {
                    Some((_, '\n')) => {}
                    Some((_, ch)) => word.push(ch),
                    None => return Err(RuleError::at("trailing backslash", i, "\\")),
                },
                ch => word.push(ch),
            }
        }
        tokens.push(Token {
            text: Cow::Owned(word),
            start,
        });
    }
    Ok(tokens)
}

/// Split one line of a rules file like `auditctl -R`.
pub fn file_split(line: &str) -> Vec<Token<'_>> {
    let mut tokens = Vec::with_capacity(16);
    file_split_into(line, &mut tokens);
    tokens
}

/// [`file_split`] into `tokens` (cleared first), so that one vector serves
/// every line of a file. A token borrows from `line` unless it holds an
/// escape.
pub fn file_split_into<'a>(line: &'a str, tokens: &mut Vec<Token<'a>>) {
    let blank = |b: u8| matches!(b, b' ' | b'\t' | b'\r');
    let escape = |b: Option<&u8>| matches!(b, Some(b' ' | b'\\'));
    let bytes = line.as_bytes();
    tokens.clear();
    let mut i = 0;
    while i < bytes.len() {
        if blank(bytes[i]) {
            i += 1;
            continue;
        }
        let start = i;
        let mut owned: Option<String> = None;
        // Copy runs between escapes; every cut is at an ASCII byte, so each
        // slice is valid UTF-8.
        let mut run = i;
        while i < bytes.len() && !blank(bytes[i]) {
            if bytes[i] == b'\\' && escape(bytes.get(i + 1)) {
                owned
                    .get_or_insert_with(String::new)
                    .push_str(&line[run..i]);
                run = i + 1;
                i += 2;
            } else {
                i += 1;
            }
        }
        let text = match owned {
            Some(mut s) => {
                s.push_str(&line[run..i]);
                Cow::Owned(s)
            }
            None => Cow::Borrowed(&line[start..i]),
        };
        tokens.push(Token { text, start });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(v: Vec<Token<'_>>) -> Vec<String> {
        v.into_iter().map(|t| t.text.into_owned()).collect()
    }

    #[test]
    fn shell_quoting() {
        let t = shell_split(r#"-a always,exit -F 'path=/a b' -k "x y" -k a\ b"#).unwrap();
        assert_eq!(
            words(t.clone()),
            [
                "-a",
                "always,exit",
                "-F",
                "path=/a b",
                "-k",
                "x y",
                "-k",
                "a b"
            ]
        );
        assert_eq!(t[3].start, 18);
        assert!(shell_split("-k 'abc").is_err());
        assert!(shell_split("-k \"abc").is_err());
        assert_eq!(
            words(shell_split(r#"-k "a\"b\\c\d""#).unwrap()),
            ["-k", r#"a"b\c\d"#]
        );
        assert_eq!(words(shell_split("  ").unwrap()), Vec::<String>::new());
    }

    #[test]
    fn file_dialect() {
        let t = file_split(r"-w /a\ b -k 'q' x\\y");
        assert_eq!(words(t), ["-w", "/a b", "-k", "'q'", r"x\y"]);
    }

    /// The rules-file dialect by its definition: words between blanks, then
    /// `\ ` and `\\` unescaped left to right.
    fn reference_split(line: &str) -> Vec<(String, usize)> {
        let mut out = Vec::new();
        let mut word: Option<(String, usize)> = None;
        let mut chars = line.char_indices().peekable();
        while let Some((i, c)) = chars.next() {
            if matches!(c, ' ' | '\t' | '\r') {
                out.extend(word.take());
                continue;
            }
            let (w, _) = word.get_or_insert_with(|| (String::new(), i));
            match (c, chars.peek()) {
                ('\\', Some(&(_, next @ (' ' | '\\')))) => {
                    w.push(next);
                    chars.next();
                }
                _ => w.push(c),
            }
        }
        out.extend(word);
        out
    }

    proptest::proptest! {
        #[test]
        fn file_split_matches_its_definition(line in "[-a-z=,/ \\t\\\\\r\u{e9}]{0,40}") {
            let got: Vec<(String, usize)> = file_split(&line)
                .into_iter()
                .map(|t| (t.text.into_owned(), t.start))
                .collect();
            proptest::prop_assert_eq!(got, reference_split(&line));
        }
    }
}
