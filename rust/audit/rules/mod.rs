//! Audit rules: auditctl's syntax, the kernel's `audit_rule_data`, and the
//! `auditctl -l` listing, byte for byte and letter for letter like
//! auditctl 3.0.9 does them.

pub mod consts;
pub mod control;
mod fieldpair;
pub mod file;
pub mod format;
pub mod load;
pub mod lookup;
pub mod ops;
mod options;
pub mod parse;
pub mod report;
pub mod rule;
pub mod tokens;

pub use parse::{Command, ParsedLine};
pub use rule::{AuditRule, FieldValue, RuleField};

use lookup::Resolver;

/// A rule that cannot be parsed or encoded: auditctl's message, and where
/// in the text the offending argument starts (a byte offset).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct RuleError {
    pub message: String,
    pub position: Option<usize>,
    pub token: Option<String>,
}

impl RuleError {
    pub fn new(message: impl Into<String>) -> Self {
        RuleError {
            message: message.into(),
            position: None,
            token: None,
        }
    }

    pub fn at(message: impl Into<String>, position: usize, token: &str) -> Self {
        RuleError {
            message: message.into(),
            position: Some(position),
            token: Some(token.to_string()),
        }
    }

    /// The message with the position, for places that only carry text.
    pub fn describe(&self) -> String {
        match (&self.position, &self.token) {
            (Some(p), Some(t)) => format!("{} (at position {p}: {t:?})", self.message),
            _ => self.message.clone(),
        }
    }
}

impl From<RuleError> for crate::Error {
    fn from(e: RuleError) -> Self {
        crate::Error::InvalidArgument(e.describe())
    }
}

/// What `AuditRule.parse` returns: the rule, whether the text asked for it
/// to be deleted (`-d`/`-W`), and auditctl's warnings.
#[derive(Debug, Clone)]
pub struct ParsedRule {
    pub rule: AuditRule,
    pub delete: bool,
    pub warnings: Vec<String>,
}

/// Parse one auditctl command line holding one rule (`-a`, `-A`, `-d`, `-w`
/// or `-W` with its options), shell quoting allowed, an optional leading
/// `auditctl` word ignored.
pub fn parse_rule(text: &str, env: &dyn Resolver) -> Result<ParsedRule, RuleError> {
    let mut tokens = tokens::shell_split(text)?;
    if tokens.first().is_some_and(|t| t.text == "auditctl") {
        tokens.remove(0);
    }
    let parsed = parse::parse_line(&tokens, env, None)?;
    let mut found = None;
    for c in parsed.commands {
        match c {
            Command::AddRule(rule) => found = Some((rule, false)),
            Command::DeleteRule(rule) => found = Some((rule, true)),
            _ => {
                let (pos, tok) = tokens
                    .first()
                    .map_or((0, String::new()), |t| (t.start, t.text.to_string()));
                return Err(RuleError::at(
                    "not a rule: expected -a, -A, -d, -w or -W with the rule's options",
                    pos,
                    &tok,
                ));
            }
        }
    }
    let (rule, delete) = found.ok_or_else(|| {
        RuleError::new("not a rule: expected -a, -A, -d, -w or -W with the rule's options")
    })?;
    Ok(ParsedRule {
        rule,
        delete,
        warnings: parsed.warnings,
    })
}

/// `rule.to_command_line()`: `env` gives the machine arch-less rules are
/// named for and tells directories from files for watches.
pub fn command_line(rule: &AuditRule, env: &dyn Resolver) -> String {
    format::to_command_line(rule, env)
}
