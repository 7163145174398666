//! Rules on the kernel: list, add, delete, delete all, and loading a rules
//! file the way `auditctl -R` does (src/auditctl.c `fileopt`,
//! `handle_request`; src/delete_all.c).

use crate::audit::affinity;
use crate::audit::client::{AuditClient, WaitMode};
use crate::audit::packed::Packed;
use crate::audit::tables::msg;
use crate::error::{Error, Result};

use super::control;
use super::file::{for_each_line, split_after_lines, FileLine};
use super::lookup::{CachingResolver, Resolver};
use super::parse::Command;
use super::rule::AuditRule;
use super::RuleError;

/// Every rule in the kernel, in the kernel's order (lists in number order,
/// each in rule order).
pub fn list_rules(client: &AuditClient) -> Result<Vec<AuditRule>> {
    let replies = client.request_dump("get_rules", msg::LIST_RULES, &[])?;
    replies
        .iter()
        .filter(|m| m.msg_type == msg::LIST_RULES)
        .map(|m| {
            AuditRule::from_bytes(&m.payload).map_err(|e| {
                Error::Malformed(format!("get_rules: bad AUDIT_LIST_RULES reply: {e}"))
            })
        })
        .collect()
}

pub fn add_rule(client: &AuditClient, rule: &AuditRule, wait: WaitMode) -> Result<()> {
    let bytes = rule.to_bytes()?;
    client
        .request_ack("add_rule", msg::ADD_RULE, &bytes, wait)
        .map(drop)
}

pub fn delete_rule(client: &AuditClient, rule: &AuditRule, wait: WaitMode) -> Result<()> {
    let bytes = rule.to_bytes()?;
    client
        .request_ack("delete_rule", msg::DEL_RULE, &bytes, wait)
        .map(drop)
}

/// Which rules a bulk delete removes.
#[derive(Debug, Clone, Copy)]
pub enum KeyFilter<'a> {
    /// Every rule (`auditctl -D`).
    All,
    /// Rules with exactly this key among their keys (`delete_rules_by_key`).
    Exact(&'a [u8]),
    /// auditctl's `-D -k key`: rules whose key field contains `key` anywhere
    /// (src/auditctl-listing.c `key_match` uses `strstr`).
    Substring(&'a [u8]),
}

impl KeyFilter<'_> {
    fn matches(&self, rule: &AuditRule) -> bool {
        match self {
            KeyFilter::All => true,
            KeyFilter::Exact(k) => rule.keys().iter().any(|have| have.as_slice() == *k),
            KeyFilter::Substring(k) => rule
                .fields
                .iter()
                .filter(|f| f.field == super::consts::F_FILTERKEY)
                .any(|f| match &f.value {
                    super::FieldValue::Text(t) => {
                        k.is_empty() || t.windows(k.len()).any(|w| w == *k)
                    }
                    super::FieldValue::Number(_) => false,
                }),
        }
    }
}

/// Delete the rules `filter` selects; returns how many were deleted.
pub fn delete_rules(client: &AuditClient, filter: KeyFilter<'_>) -> Result<u32> {
    let rules = list_rules(client)?;
    let mut deleted = 0;
    for rule in rules.iter().filter(|r| filter.matches(r)) {
        delete_rule(client, rule, WaitMode::WaitForReply)?;
        deleted += 1;
    }
    Ok(deleted)
}

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

#[derive(Debug, Clone)]
pub struct LineReport {
    pub lineno: usize,
    pub text: String,
    pub commands: Vec<Command>,
    pub warnings: Vec<String>,
    pub status: LineStatus,
    /// The line's commands reached the kernel (false in a dry run).
    pub executed: bool,
}

#[derive(Debug, Clone, Default)]
pub struct LoadReport {
    pub lines: Vec<LineReport>,
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

impl LoadReport {
    pub fn failed_lines(&self) -> impl Iterator<Item = &LineReport> {
        self.lines
            .iter()
            .filter(|l| matches!(l.status, LineStatus::Failed { .. }))
    }

    /// auditctl -R's exit status: failure when stopped by an error, or when
    /// `-c` was given and some line failed.
    pub fn succeeded(&self) -> bool {
        self.stopped_at.is_none()
            && !(self.continue_on_errors && self.failed_lines().next().is_some())
    }
}

/// The message auditctl prints for a kernel error on a rule request.
fn kernel_message(command: &Command, errno: i32) -> String {
    let text = crate::audit::errno::strerror(errno);
    match command {
        Command::AddRule(_) if errno == libc::EEXIST => {
            "Error sending add rule data request (Rule exists)".into()
        }
        Command::AddRule(_) => format!("Error sending add rule data request ({text})"),
        Command::DeleteRule(_) if errno == libc::ENOENT => {
            "Error sending delete rule request (No rule matches)".into()
        }
        Command::DeleteRule(_) => format!("Error sending delete rule data request ({text})"),
        _ => text,
    }
}

/// Parse a rules file and, unless `dry_run`, execute it line by line like
/// `auditctl -R`: an error stops the load unless `-i`/`-c` came before it.
/// `client` may be None only for a dry run.
pub fn load_rules(
    client: Option<&AuditClient>,
    content: &[u8],
    env: &'static (dyn Resolver + Sync),
    dry_run: bool,
) -> Result<LoadReport> {
    if !dry_run && client.is_none() {
        return Err(Error::InvalidArgument(
            "load_rules needs a client unless dry_run".into(),
        ));
    }
    let mut report = LoadReport {
        dry_run,
        ..Default::default()
    };
    let Some(client) = client.filter(|_| !dry_run) else {
        let cached = CachingResolver::new(env);
        for_each_line(content, 1, &cached, |line| {
            step(None, line, &mut report);
            true
        });
        return Ok(report);
    };
    // Parsing overlaps the kernel's work, which happens inside each send on
    // this thread. This thread parses the first lines itself and sends them,
    // so the first datagram leaves at once; a second thread parses the rest.
    // Neither ever sleeps waiting for the other: the parser hands batches
    // over a channel that never blocks, and this thread yields its CPU while
    // the next batch is not ready. A sleeping thread's wake-up can be queued
    // on the CPU of the other's send, which this kernel finishes without
    // preemption (stalls of 1-2 ms were measured that way); and the parser
    // is kept off the sender's CPU from its start (see `affinity`).
    let (head, tail) = split_after_lines(content, BATCH_LINES);
    let tail_lineno = BATCH_LINES + 1;
    let mut loader = Loader {
        client,
        batch: Batch::default(),
        report,
        spent: Vec::with_capacity(content.len() / 2048 + 1),
    };
    let sender_cpu = affinity::current_cpu();
    let (chunks, parsed) = std::sync::mpsc::channel::<Parsed>();
    // A thread of its own (not scoped, so it has a pthread handle for
    // `keep_off`), with its own copy of the text.
    let owned_tail = tail.to_vec();
    let parser = std::thread::Builder::new()
        .name("auditlink-rules".into())
        .spawn(move || parse_batches(&owned_tail, tail_lineno, env, &chunks));
    if let Ok(handle) = &parser {
        affinity::keep_off(handle, sender_cpu);
    }
    let cached = CachingResolver::new(env);
    loader.parse_here(head, 1, &cached);
    // Those lines go now, not with the parser's first batch.
    loader.batch.flush(client, &mut loader.report);
    match parser {
        Ok(handle) => {
            loop {
                match parsed.try_recv() {
                    Ok(Parsed::Rules(batch)) => loader.rules(batch),
                    Ok(Parsed::Other(line)) => loader.line(line),
                    Err(std::sync::mpsc::TryRecvError::Empty) => std::thread::yield_now(),
                    Err(std::sync::mpsc::TryRecvError::Disconnected) => break,
                }
            }
            if let Err(panic) = handle.join() {
                std::panic::resume_unwind(panic);
            }
        }
        // No thread to be had: parse the rest here.
        Err(_) => loader.parse_here(tail, tail_lineno, &cached),
    }
    loader.batch.flush(client, &mut loader.report);
    Ok(loader.report)
}

/// The parsing thread: parse and encode `text` (whose first line is
/// `lineno`), handing rule lines over in batches, other lines one by one,
/// in file order; stop early when nobody receives any more.
fn parse_batches(
    text: &[u8],
    lineno: usize,
    env: &(dyn Resolver + Sync),
    chunks: &std::sync::mpsc::Sender<Parsed>,
) {
    let cached = CachingResolver::new(env);
    let mut batch = Batch::default();
    let hand_over = |batch: &mut Batch| {
        batch.lines.is_empty() || chunks.send(Parsed::Rules(std::mem::take(batch))).is_ok()
    };
    for_each_line(text, lineno, &cached, |line| match batch.push(line) {
        Ok(()) if batch.lines.len() < BATCH_LINES => true,
        Ok(()) => hand_over(&mut batch),
        Err(line) => hand_over(&mut batch) && chunks.send(Parsed::Other(line)).is_ok(),
    });
    hand_over(&mut batch);
}

/// What the parsing thread hands over, in file order: rule lines already
/// encoded into a batch (encoding is off the sending thread too), or one line
/// of any other kind.
enum Parsed {
    Rules(Batch),
    Other(FileLine),
}

/// A load in progress: the kernel connection, the rules waiting to be sent
/// together, and the report so far.
struct Loader<'a> {
    client: &'a AuditClient,
    batch: Batch,
    report: LoadReport,
    /// The parsing thread's batches, sent (see [`Loader::rules`]).
    spent: Vec<Batch>,
}

impl Loader<'_> {
    /// Parse `text` (whose first line is `lineno`) on this thread and
    /// execute it line by line.
    fn parse_here(&mut self, text: &[u8], lineno: usize, env: &dyn Resolver) {
        for_each_line(text, lineno, env, |line| {
            self.line(line);
            true
        });
    }

    /// Execute (or, after the line that stopped the load, report as not
    /// run) one line: rule lines go into the batch, which is sent when full
    /// or before any other line runs.
    fn line(&mut self, line: FileLine) {
        let (client, report) = (self.client, &mut self.report);
        if report.stopped_at.is_some() {
            step(Some(client), line, report);
            return;
        }
        match self.batch.push(line) {
            Ok(()) if self.batch.lines.len() >= BATCH_LINES => self.batch.flush(client, report),
            Ok(()) => {}
            Err(line) => {
                self.batch.flush(client, report);
                step(Some(client), line, report);
            }
        }
    }

    /// Send a batch the parsing thread made (after what this thread batched),
    /// or report its lines as not run once the load has stopped.
    fn rules(&mut self, mut batch: Batch) {
        let (client, report) = (self.client, &mut self.report);
        self.batch.flush(client, report);
        if report.stopped_at.is_none() {
            batch.flush(client, report);
        }
        for mut line in batch.lines.drain(..) {
            line.status = LineStatus::NotRun;
            line.warnings.clear();
            report.lines.push(line);
        }
        // Its buffers come from the parsing thread's malloc arena: freeing
        // them now would wait on that arena's lock while the parser
        // allocates (futex waits were traced). They go when the load ends.
        self.spent.push(batch);
    }
}

/// Rule lines sent together (see `AuditClient::request_batch`): about one
/// datagram of typical rules.
const BATCH_LINES: usize = 48;

/// Rule lines waiting to be sent together, their rules already encoded.
#[derive(Default)]
struct Batch {
    /// Each line's report, to be completed when the kernel has answered.
    lines: Vec<LineReport>,
    /// The lines' rules, encoded.
    rules: Packed,
}

impl Batch {
    /// Take a line that only adds a rule; any other line comes back.
    fn push(&mut self, line: FileLine) -> std::result::Result<(), FileLine> {
        let rule = match &line.parsed {
            Ok(p) if p.commands.len() == 1 => match &p.commands[0] {
                Command::AddRule(rule) => rule,
                _ => return Err(line),
            },
            _ => return Err(line),
        };
        if self.rules.try_push(|out| rule.encode_into(out)).is_err() {
            // `step` reports the encoding error.
            return Err(line);
        }
        let FileLine {
            lineno,
            text,
            parsed,
        } = line;
        let (commands, warnings) = parsed.map(|p| (p.commands, p.warnings)).unwrap_or_default();
        self.lines.push(LineReport {
            lineno,
            text,
            commands,
            warnings,
            status: LineStatus::Ok,
            executed: false,
        });
        Ok(())
    }

    /// Send the batched rules; record each line's outcome. When a rule fails
    /// and errors are not ignored, the load stops there like auditctl's: the
    /// rules after it in the batch, which the kernel has already added, are
    /// deleted again and reported as not run.
    fn flush(&mut self, client: &AuditClient, report: &mut LoadReport) {
        if self.lines.is_empty() {
            return;
        }
        let msgs: Vec<(u16, &[u8])> = self.rules.iter().map(|r| (msg::ADD_RULE, r)).collect();
        let stop_on_error = !report.ignore_errors;
        let outcomes = client.request_batch("add_rule", &msgs, stop_on_error);
        drop(msgs);
        self.rules.clear();
        let mut stopped = false;
        for (i, mut line) in self.lines.drain(..).enumerate() {
            let outcome = match &outcomes {
                Ok(o) => o.get(i).copied().flatten(),
                Err(e) => Some(Err(errno_of(e).unwrap_or(0))),
            };
            if stopped {
                if let (Some(Ok(())), Some(Command::AddRule(rule))) =
                    (outcome, line.commands.first())
                {
                    // Best effort: the rule must not stay when auditctl would
                    // never have added it.
                    let _ = delete_rule(client, rule, WaitMode::WaitForReply);
                }
                line.status = LineStatus::NotRun;
                report.lines.push(line);
                continue;
            }
            line.executed = outcome.is_some();
            match outcome {
                Some(Ok(())) => report.rules_added += 1,
                Some(Err(errno)) => {
                    let message = match &outcomes {
                        Err(e) if errno == 0 => e.to_string(),
                        _ => kernel_message(&line.commands[0], errno),
                    };
                    line.status = LineStatus::Failed {
                        message,
                        errno: (errno != 0).then_some(errno),
                        position: None,
                    };
                    if !report.ignore_errors {
                        report.stopped_at = Some(line.lineno);
                        stopped = true;
                    }
                }
                None => line.status = LineStatus::NotRun,
            }
            report.lines.push(line);
        }
    }
}

/// Account for (and unless `client` is None, execute) one line.
fn step(client: Option<&AuditClient>, line: FileLine, report: &mut LoadReport) {
    let FileLine {
        lineno,
        text,
        parsed,
    } = line;
    if report.stopped_at.is_some() {
        let commands = parsed.map(|p| p.commands).unwrap_or_default();
        report.lines.push(LineReport {
            lineno,
            text,
            commands,
            warnings: Vec::new(),
            status: LineStatus::NotRun,
            executed: false,
        });
        return;
    }
    let (commands, warnings, mut status) = match parsed {
        Ok(p) => (p.commands, p.warnings, LineStatus::Ok),
        Err(RuleError {
            message, position, ..
        }) => (
            Vec::new(),
            Vec::new(),
            LineStatus::Failed {
                message,
                errno: None,
                position,
            },
        ),
    };
    for c in &commands {
        match c {
            Command::IgnoreErrors => report.ignore_errors = true,
            Command::ContinueOnErrors => {
                report.ignore_errors = true;
                report.continue_on_errors = true;
            }
            Command::ReadFile(_) if status == LineStatus::Ok => {
                status = LineStatus::Failed {
                    message: "Error - nested rule files not supported".into(),
                    errno: None,
                    position: None,
                };
            }
            Command::Signal(_) if status == LineStatus::Ok => {
                status = LineStatus::Failed {
                    message: "--signal is not supported by auditlink (it signals the audit daemon, not the kernel)".into(),
                    errno: None,
                    position: None,
                };
            }
            _ => {}
        }
    }
    let mut executed = false;
    if let (LineStatus::Ok, Some(client)) = (&status, client) {
        executed = true;
        for c in &commands {
            if let Err((message, errno)) = execute(client, c, report) {
                status = LineStatus::Failed {
                    message,
                    errno,
                    position: None,
                };
                break;
            }
        }
    }
    if matches!(status, LineStatus::Failed { .. }) && !report.ignore_errors {
        report.stopped_at = Some(lineno);
    }
    report.lines.push(LineReport {
        lineno,
        text,
        commands,
        warnings,
        status,
        executed,
    });
}

fn errno_of(e: &Error) -> Option<i32> {
    match e {
        Error::Kernel { errno, .. } => Some(*errno),
        Error::Io { source, .. } => source.raw_os_error(),
        _ => None,
    }
}

fn execute(
    client: &AuditClient,
    c: &Command,
    report: &mut LoadReport,
) -> std::result::Result<(), (String, Option<i32>)> {
    let fail = |e: Error| match errno_of(&e) {
        Some(errno) => (kernel_message(c, errno), Some(errno)),
        None => (e.to_string(), None),
    };
    let wait = WaitMode::WaitForReply;
    match c {
        Command::AddRule(rule) => {
            add_rule(client, rule, wait).map_err(fail)?;
            report.rules_added += 1;
        }
        Command::DeleteRule(rule) => {
            delete_rule(client, rule, wait).map_err(fail)?;
            report.rules_deleted += 1;
        }
        Command::DeleteAll { key } => {
            let filter = match key {
                Some(k) => KeyFilter::Substring(k.as_bytes()),
                None => KeyFilter::All,
            };
            report.rules_deleted += delete_rules(client, filter).map_err(fail)?;
        }
        Command::SetEnabled(v) => client.set_enabled(*v, wait).map_err(fail)?,
        Command::SetFailure(v) => client.set_failure(*v, wait).map_err(fail)?,
        Command::SetRateLimit(v) => client.set_rate_limit(*v, wait).map_err(fail)?,
        Command::SetBacklogLimit(v) => client.set_backlog_limit(*v, wait).map_err(fail)?,
        Command::SetBacklogWaitTime(v) => client.set_backlog_wait_time(*v, wait).map_err(fail)?,
        Command::LoginuidImmutable => control::set_feature(
            client,
            control::FEATURE_LOGINUID_IMMUTABLE,
            true,
            true,
            WaitMode::WaitForReply,
        )
        .map_err(fail)?,
        Command::ResetLost => client.reset_lost().map(drop).map_err(fail)?,
        Command::ResetBacklogWaitTimeActual => client
            .reset_backlog_wait_time_actual()
            .map(drop)
            .map_err(fail)?,
        Command::Trim => control::trim(client).map_err(fail)?,
        Command::MakeEquivalent { mount, subtree } => {
            control::make_equivalent(client, mount.as_bytes(), subtree.as_bytes()).map_err(fail)?
        }
        Command::UserMessage(text) => {
            let text = control::auditctl_message_text(text);
            control::send_user_message(client, msg::USER, text.as_bytes()).map_err(fail)?
        }
        // Flags handled while parsing, read-only queries, and commands
        // refused before execution.
        Command::IgnoreErrors
        | Command::ContinueOnErrors
        | Command::List { .. }
        | Command::Status
        | Command::Version
        | Command::Help
        | Command::Signal(_)
        | Command::ReadFile(_) => {}
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::audit::rules::parse::tests::{rule, TestResolver};

    #[test]
    fn key_filters() {
        let r = rule("-a always,exit -F arch=b64 -S open -k alpha -k beta");
        assert!(KeyFilter::Exact(b"alpha").matches(&r));
        assert!(!KeyFilter::Exact(b"alp").matches(&r));
        assert!(KeyFilter::Substring(b"alp").matches(&r));
        assert!(KeyFilter::All.matches(&r));
        let nokey = rule("-a always,exit -F arch=b64 -S open");
        assert!(!KeyFilter::Substring(b"a").matches(&nokey));
    }

    #[test]
    fn dry_run_reports_every_line() {
        let text =
            b"-D\n-b 320\n-w /etc/shadow -p wa -k identity\n-a always,exit -F nosuch=1\n-e 2\n";
        let report = load_rules(None, text, &TestResolver, true).unwrap();
        assert_eq!(report.lines.len(), 5);
        assert_eq!(report.stopped_at, Some(4));
        assert!(matches!(report.lines[3].status, LineStatus::Failed { .. }));
        assert_eq!(report.lines[4].status, LineStatus::NotRun);
        assert!(!report.succeeded());
        let text = b"-i\n-a always,exit -F nosuch=1\n-e 2\n";
        let report = load_rules(None, text, &TestResolver, true).unwrap();
        assert_eq!(report.stopped_at, None);
        assert!(report.succeeded());
        assert_eq!(report.lines[2].commands, vec![Command::SetEnabled(2)]);
        let text = b"-c\n-a always,exit -F nosuch=1\n-R /x\n--signal TERM\n";
        let report = load_rules(None, text, &TestResolver, true).unwrap();
        assert_eq!(report.failed_lines().count(), 3);
        assert!(!report.succeeded());
        assert!(load_rules(None, b"-D\n", &TestResolver, false).is_err());
    }
}
