//! `audit.rules` files as `auditctl -R` reads them: one auditctl command
//! line per line, blank lines and lines whose first word starts with `#`
//! skipped, arguments split at blanks (`\ ` and `\\` escapes).

use super::lookup::Resolver;
use super::parse::{parse_line, ParsedLine};
use super::tokens::file_split_into;
use super::RuleError;

/// One non-blank, non-comment line of a rules file.
#[derive(Debug, Clone)]
pub struct FileLine {
    /// 1-based line number.
    pub lineno: usize,
    /// The line as written (without the newline).
    pub text: String,
    /// Where `text` is in the content given to [`for_each_line`] (without
    /// the newline or a final `\r`).
    pub span: std::ops::Range<usize>,
    pub parsed: Result<ParsedLine, RuleError>,
}

/// Parse every command line of a rules file.
pub fn parse_rules_file(content: &[u8], env: &dyn Resolver) -> Vec<FileLine> {
    let mut out = Vec::new();
    for_each_line(content, 1, env, |line| {
        out.push(line);
        true
    });
    out
}

/// Parse the command lines of a rules file one by one, handing each to `f`
/// until it returns false. `content`'s first line is line `first_lineno`.
pub fn for_each_line(
    content: &[u8],
    first_lineno: usize,
    env: &dyn Resolver,
    mut f: impl FnMut(FileLine) -> bool,
) {
    let mut tokens = Vec::with_capacity(16);
    let mut next_start = 0;
    for (index, raw) in content.split(|&b| b == b'\n').enumerate() {
        let lineno = first_lineno + index;
        let start = next_start;
        next_start += raw.len() + 1;
        let raw = raw.strip_suffix(b"\r").unwrap_or(raw);
        let span = start..start + raw.len();
        let text = match std::str::from_utf8(raw) {
            Ok(t) => t,
            Err(e) => {
                let line = FileLine {
                    lineno,
                    text: String::from_utf8_lossy(raw).into_owned(),
                    span,
                    parsed: Err(RuleError::at(
                        "the line is not valid UTF-8",
                        e.valid_up_to(),
                        "",
                    )),
                };
                if !f(line) {
                    return;
                }
                continue;
            }
        };
        file_split_into(text, &mut tokens);
        match tokens.first() {
            None => continue,
            Some(t) if t.text.starts_with('#') => continue,
            Some(_) => {}
        }
        let line = FileLine {
            lineno,
            text: text.to_string(),
            span,
            parsed: parse_line(&tokens, env, Some(lineno)),
        };
        if !f(line) {
            return;
        }
    }
}

/// Split `content` after its first `n` lines: (those lines, the rest).
pub fn split_after_lines(content: &[u8], n: usize) -> (&[u8], &[u8]) {
    if n == 0 {
        return content.split_at(0);
    }
    let at = memchr::memchr_iter(b'\n', content)
        .nth(n - 1)
        .map_or(content.len(), |i| i + 1);
    content.split_at(at)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::audit::rules::parse::tests::TestResolver;
    use crate::audit::rules::Command;

    #[test]
    fn lines_comments_and_errors() {
        let text = b"# header\n\n-D\n-b 8192\n   \n-w /etc/shadow -p wa -k identity\n-a always,exit -F bogus=1\n  # indented comment\n-e 2\n";
        let lines = parse_rules_file(text, &TestResolver);
        let numbers: Vec<_> = lines.iter().map(|l| l.lineno).collect();
        assert_eq!(numbers, [3, 4, 6, 7, 9]);
        assert_eq!(
            lines[0].parsed.as_ref().unwrap().commands,
            vec![Command::DeleteAll { key: None }]
        );
        assert!(matches!(
            lines[2].parsed.as_ref().unwrap().commands[0],
            Command::AddRule(_)
        ));
        assert_eq!(
            lines[3].parsed.as_ref().unwrap_err().message,
            "-F unknown field: bogus"
        );
        assert_eq!(
            lines[4].parsed.as_ref().unwrap().commands,
            vec![Command::SetEnabled(2)]
        );
    }

    #[test]
    fn split_lines_keeps_numbers() {
        let text = b"-D\n\n-b 1\n-e 1\n-f 1";
        for n in 0..7 {
            let (head, tail) = split_after_lines(text, n);
            assert_eq!([head, tail].concat(), text);
            let mut numbers = Vec::new();
            let lines_in_head = head.iter().filter(|&&b| b == b'\n').count();
            for_each_line(head, 1, &TestResolver, |l| {
                numbers.push(l.lineno);
                true
            });
            for_each_line(tail, lines_in_head + 1, &TestResolver, |l| {
                numbers.push(l.lineno);
                true
            });
            assert_eq!(numbers, [1, 3, 4, 5], "split after {n} lines");
        }
    }

    #[test]
    fn escaped_spaces_and_bad_utf8() {
        let lines = parse_rules_file(b"-w /tmp/a\\ b -k k\n-k \xff\n", &TestResolver);
        match &lines[0].parsed.as_ref().unwrap().commands[0] {
            Command::AddRule(r) => assert_eq!(
                r.fields[0].value,
                crate::audit::rules::FieldValue::Text(b"/tmp/a b".to_vec())
            ),
            other => panic!("{other:?}"),
        }
        assert!(lines[1].parsed.is_err());
    }
}
