//! What loading a rules file did, line by line (see `load`).

use std::sync::Arc;

use crate::audit::packed::Packed;

use super::parse::Command;
use super::rule::AuditRule;

/// How one line of a rules file went.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LineStatus {
    /// Parsed (and, unless dry-run, executed) without error.
    Ok,
    /// Failed: auditctl's message, and the kernel's errno when it was the
    /// kernel that refused.
    Failed {
        message: String,
        errno: Option<i32>,
        position: Option<usize>,
    },
    /// Not reached: an earlier error stopped the load.
    NotRun,
}

/// One line of a load, as [`LoadReport::lines`] gives it.
#[derive(Debug, Clone, PartialEq)]
pub struct LineReport {
    pub lineno: usize,
    pub text: String,
    pub commands: Vec<Command>,
    pub warnings: Vec<String>,
    pub status: LineStatus,
    /// The line's commands reached the kernel (false in a dry run).
    pub executed: bool,
}

/// What a load did, line by line. A rule line sent in a batch is kept as its
/// place in the file and its encoded rule, and becomes a [`LineReport`] only
/// when asked for: dropping the report of a 1,000-rule file then frees a few
/// dozen buffers, not four per line (0.1-0.2 ms with cold caches, measured
/// right after the kernel's own work).
#[derive(Debug, Clone)]
pub struct LoadReport {
    pub(super) entries: Vec<Entry>,
    /// The file's text, which batched lines point into.
    pub(super) content: Arc<[u8]>,
    /// Each batch's encoded rules, in batch order.
    pub(super) encoded: Vec<Packed>,
    pub dry_run: bool,
    pub rules_added: u32,
    pub rules_deleted: u32,
    /// `-i` or `-c` was seen: errors did not stop the load.
    pub ignore_errors: bool,
    /// `-c` was seen: the load counts as failed if any line failed.
    pub continue_on_errors: bool,
    /// The line whose error stopped the load.
    pub stopped_at: Option<usize>,
}

/// One line as the report keeps it.
#[derive(Debug, Clone)]
pub(super) struct Entry {
    pub(super) lineno: usize,
    pub(super) status: LineStatus,
    pub(super) executed: bool,
    pub(super) detail: Detail,
}

impl Entry {
    fn failed(&self) -> bool {
        matches!(self.status, LineStatus::Failed { .. })
    }
}

#[derive(Debug, Clone)]
pub(super) enum Detail {
    /// Kept as parsed.
    Parsed {
        text: String,
        commands: Vec<Command>,
        warnings: Vec<String>,
    },
    /// A rule line without warnings, sent (or not run) in a batch: its text
    /// is `span` of the content, its one command the rule encoded at `index`
    /// in batch `batch` (numbered when the batch joins the report).
    Batched {
        span: std::ops::Range<usize>,
        batch: usize,
        index: usize,
    },
}

impl LoadReport {
    pub(super) fn new(content: &[u8], dry_run: bool) -> Self {
        LoadReport {
            entries: Vec::new(),
            content: Arc::from(content),
            encoded: Vec::new(),
            dry_run,
            rules_added: 0,
            rules_deleted: 0,
            ignore_errors: false,
            continue_on_errors: false,
            stopped_at: None,
        }
    }

    /// Every command line of the file, in order.
    pub fn lines(&self) -> impl Iterator<Item = LineReport> + '_ {
        self.entries.iter().map(|e| self.view(e))
    }

    pub fn failed_lines(&self) -> impl Iterator<Item = LineReport> + '_ {
        self.entries
            .iter()
            .filter(|e| e.failed())
            .map(|e| self.view(e))
    }

    /// auditctl -R's exit status: failure when stopped by an error, or when
    /// `-c` was given and some line failed.
    pub fn succeeded(&self) -> bool {
        self.stopped_at.is_none()
            && !(self.continue_on_errors && self.entries.iter().any(Entry::failed))
    }

    fn view(&self, e: &Entry) -> LineReport {
        let (text, commands, warnings) = match &e.detail {
            Detail::Parsed {
                text,
                commands,
                warnings,
            } => (text.clone(), commands.clone(), warnings.clone()),
            Detail::Batched { span, batch, index } => {
                let text = self.content.get(span.clone()).unwrap_or_default();
                let bytes = self.encoded.get(*batch).and_then(|p| p.get(*index));
                let rule = bytes.map(AuditRule::from_bytes);
                let rule = rule.and_then(|r| r.ok());
                let rule = rule.expect("a rule this load encoded decodes again");
                let text = String::from_utf8_lossy(text).into_owned();
                (text, vec![Command::AddRule(rule)], Vec::new())
            }
        };
        LineReport {
            lineno: e.lineno,
            text,
            commands,
            warnings,
            status: e.status.clone(),
            executed: e.executed,
        }
    }
}
