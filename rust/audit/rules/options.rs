//! getopt_long over auditctl's options: which options exist, which take an
//! argument, and where each argument starts in the line.

use super::tokens::Token;
use super::RuleError;

/// Short options: the name and whether it takes an argument (auditctl's
/// optstring `hicslDvtC:e:f:r:b:a:A:d:S:F:m:R:w:W:k:p:q:`, plus `U:` for
/// io_uring operations from later audit-userspace).
fn short_option(c: char) -> Option<(&'static str, bool)> {
    Some(match c {
        'h' => ("h", false),
        'i' => ("i", false),
        'c' => ("c", false),
        's' => ("s", false),
        'l' => ("l", false),
        'D' => ("D", false),
        'v' => ("v", false),
        't' => ("t", false),
        'C' => ("C", true),
        'e' => ("e", true),
        'f' => ("f", true),
        'r' => ("r", true),
        'b' => ("b", true),
        'a' => ("a", true),
        'A' => ("A", true),
        'd' => ("d", true),
        'S' => ("S", true),
        'U' => ("U", true),
        'F' => ("F", true),
        'm' => ("m", true),
        'R' => ("R", true),
        'w' => ("w", true),
        'W' => ("W", true),
        'k' => ("k", true),
        'p' => ("p", true),
        'q' => ("q", true),
        _ => return None,
    })
}

static LONG_OPTIONS: &[(&str, bool)] = &[
    ("loginuid-immutable", false),
    ("backlog_wait_time", true),
    ("reset-lost", false),
    ("reset_backlog_wait_time_actual", false),
    ("signal", true),
];

/// One option occurrence: its name (a short letter or a long name), its
/// argument, and where it (its argument, if any) starts in the text.
#[derive(Debug)]
pub(super) struct Opt<'a> {
    pub(super) name: &'static str,
    pub(super) arg: Option<&'a str>,
    pub(super) pos: usize,
}

impl Opt<'_> {
    /// The option as written, for messages.
    pub(super) fn spelled(&self) -> String {
        if self.name.len() == 1 {
            format!("-{}", self.name)
        } else {
            format!("--{}", self.name)
        }
    }

    /// What an error about this option points at: its argument, else itself.
    pub(super) fn token(&self) -> String {
        self.arg.map_or_else(|| self.spelled(), str::to_string)
    }
}

fn invalid(text: &str, start: usize, spelled: &str) -> RuleError {
    RuleError::at(format!("Option {spelled} is invalid"), start, text)
}

/// getopt_long over the tokens (no permutation: an argument without an
/// option is an error, as auditctl reports it after getopt has moved such
/// arguments to the end). An error ends the list; it only counts if the
/// options before it do not end the line first (like `-D` does).
pub(super) fn getopt<'a>(tokens: &'a [Token<'_>]) -> (Vec<Opt<'a>>, Option<RuleError>) {
    let mut out = Vec::with_capacity(tokens.len());
    match getopt_into(tokens, &mut out) {
        Ok(()) => (out, None),
        Err(e) => (out, Some(e)),
    }
}

fn getopt_into<'a>(tokens: &'a [Token<'_>], out: &mut Vec<Opt<'a>>) -> Result<(), RuleError> {
    let mut i = 0;
    while i < tokens.len() {
        let tok = &tokens[i];
        let text = &*tok.text;
        if let Some(long) = text.strip_prefix("--") {
            if long.is_empty() {
                // "--" ends the options; anything after is a stray argument.
                if let Some(next) = tokens.get(i + 1) {
                    return Err(RuleError::at(
                        "parameter passed without an option given",
                        next.start,
                        &next.text,
                    ));
                }
                break;
            }
            let (name, inline) = match long.split_once('=') {
                Some((n, v)) => (n, Some(v)),
                None => (long, None),
            };
            let exact = LONG_OPTIONS.iter().find(|(n, _)| *n == name);
            let mut prefixed = LONG_OPTIONS.iter().filter(|(n, _)| n.starts_with(name));
            let unique = match (prefixed.next(), prefixed.next()) {
                (Some(only), None) => Some(only),
                _ => None,
            };
            let Some(&(full, takes_arg)) = exact.or(unique) else {
                return Err(invalid(text, tok.start, text));
            };
            let (arg, pos) = match (takes_arg, inline) {
                (true, Some(v)) => (Some(v), tok.start),
                (true, None) => match tokens.get(i + 1) {
                    Some(next) => {
                        i += 1;
                        (Some(&*next.text), next.start)
                    }
                    None => return Err(invalid(text, tok.start, text)),
                },
                (false, Some(_)) => return Err(invalid(text, tok.start, text)),
                (false, None) => (None, tok.start),
            };
            out.push(Opt {
                name: full,
                arg,
                pos,
            });
            i += 1;
            continue;
        }
        if text.len() < 2 || !text.starts_with('-') {
            return Err(RuleError::at(
                "parameter passed without an option given",
                tok.start,
                text,
            ));
        }
        // A cluster of short options: "-il", "-Sopen", "-F" "uid=0".
        let mut offset = 1;
        while offset < text.len() {
            let Some(c) = text[offset..].chars().next() else {
                break;
            };
            let Some((name, takes_arg)) = short_option(c) else {
                return Err(invalid(text, tok.start, &format!("-{c}")));
            };
            offset += c.len_utf8();
            if takes_arg {
                if offset < text.len() {
                    out.push(Opt {
                        name,
                        arg: Some(&text[offset..]),
                        pos: tok.start + offset,
                    });
                } else if let Some(next) = tokens.get(i + 1) {
                    i += 1;
                    out.push(Opt {
                        name,
                        arg: Some(&*next.text),
                        pos: next.start,
                    });
                } else {
                    return Err(invalid(text, tok.start, &format!("-{c}")));
                }
                break;
            }
            out.push(Opt {
                name,
                arg: None,
                pos: tok.start,
            });
        }
        i += 1;
    }
    Ok(())
}
