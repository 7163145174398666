//! Loading a rules file the way `auditctl -R` does (src/auditctl.c
//! `fileopt`, `handle_request`): rule lines go to the kernel in batches,
//! parsed and encoded on a second thread while the kernel adds the ones before.

use std::sync::Arc;

use crate::audit::affinity;
use crate::audit::client::{AuditClient, WaitMode};
use crate::audit::packed::Packed;
use crate::audit::tables::msg;
use crate::error::{Error, Result};

use super::control;
use super::file::{for_each_line, split_after_lines, FileLine};
use super::lookup::{CachingResolver, Resolver};
use super::ops::{add_rule, delete_encoded, delete_rule, delete_rules, KeyFilter};
use super::parse::Command;
use super::report::{Detail, Entry, LineStatus, LoadReport};
use super::RuleError;

/// The message auditctl prints for a kernel error on a rule request.
fn kernel_message(command: &Command, errno: i32) -> String {
    let text = crate::audit::errno::strerror(errno);
    match command {
        Command::AddRule(_) => add_rule_message(errno),
        Command::DeleteRule(_) if errno == libc::ENOENT => {
            "Error sending delete rule request (No rule matches)".into()
        }
        Command::DeleteRule(_) => format!("Error sending delete rule data request ({text})"),
        _ => text,
    }
}

/// [`kernel_message`] for an add-rule request.
fn add_rule_message(errno: i32) -> String {
    if errno == libc::EEXIST {
        return "Error sending add rule data request (Rule exists)".into();
    }
    let text = crate::audit::errno::strerror(errno);
    format!("Error sending add rule data request ({text})")
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
    let Some(client) = client.filter(|_| !dry_run) else {
        // Nothing is batched, so no line points into a copy of the text.
        let mut report = LoadReport::new(&[], dry_run);
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
    let report = LoadReport::new(content, dry_run);
    let head = split_after_lines(content, BATCH_LINES).0.len();
    let tail_lineno = BATCH_LINES + 1;
    let text = Arc::clone(&report.content);
    let mut loader = Loader {
        client,
        batch: Batch::default(),
        report,
        spent: Vec::with_capacity(content.len() / 2048 + 1),
    };
    let sender_cpu = affinity::current_cpu();
    let (chunks, parsed) = std::sync::mpsc::channel::<Parsed>();
    // A thread of its own (not scoped, so it has a pthread handle for
    // `keep_off`), sharing the report's copy of the text.
    let parser_text = Arc::clone(&text);
    let parser = std::thread::Builder::new()
        .name("auditlink-rules".into())
        .spawn(move || parse_batches(&parser_text, head, tail_lineno, env, &chunks));
    if let Ok(handle) = &parser {
        affinity::keep_off(handle, sender_cpu);
    }
    let cached = CachingResolver::new(env);
    loader.parse_here(&text[..head], 0, 1, &cached);
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
        Err(_) => loader.parse_here(&text, head, tail_lineno, &cached),
    }
    loader.batch.flush(client, &mut loader.report);
    Ok(loader.report)
}

/// [`for_each_line`] over `content[start..]` (whose first line is `lineno`),
/// with each line's span into the whole of `content`.
fn lines_from(
    content: &[u8],
    start: usize,
    lineno: usize,
    env: &dyn Resolver,
    mut f: impl FnMut(FileLine) -> bool,
) {
    let rest = content.get(start..).unwrap_or_default();
    for_each_line(rest, lineno, env, |mut line| {
        line.span = line.span.start + start..line.span.end + start;
        f(line)
    });
}

/// The parsing thread: parse and encode `content[start..]` (whose first line
/// is `lineno`), handing rule lines over in batches, other lines one by one,
/// in file order; stop early when nobody receives any more.
fn parse_batches(
    content: &[u8],
    start: usize,
    lineno: usize,
    env: &(dyn Resolver + Sync),
    chunks: &std::sync::mpsc::Sender<Parsed>,
) {
    let cached = CachingResolver::new(env);
    let mut batch = Batch::default();
    let hand_over = |batch: &mut Batch| {
        batch.lines.is_empty() || chunks.send(Parsed::Rules(std::mem::take(batch))).is_ok()
    };
    lines_from(content, start, lineno, &cached, |line| {
        match batch.push(line) {
            Ok(()) if batch.lines.len() < BATCH_LINES => true,
            Ok(()) => hand_over(&mut batch),
            Err(line) => hand_over(&mut batch) && chunks.send(Parsed::Other(line)).is_ok(),
        }
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
    /// Parse `content[start..]` (whose first line is `lineno`) on this
    /// thread and execute it line by line.
    fn parse_here(&mut self, content: &[u8], start: usize, lineno: usize, env: &dyn Resolver) {
        lines_from(content, start, lineno, env, |line| {
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
        if !batch.lines.is_empty() {
            batch.not_run(report);
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
    /// Each line, to be completed when the kernel has answered.
    lines: Vec<Entry>,
    /// The lines' rules, encoded (`Detail::Batched::index` is the place).
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
            span,
            parsed,
        } = line;
        let (commands, warnings) = parsed.map(|p| (p.commands, p.warnings)).unwrap_or_default();
        let detail = if warnings.is_empty() {
            Detail::Batched {
                span,
                batch: usize::MAX,
                index: self.lines.len(),
            }
        } else {
            Detail::Parsed {
                text,
                commands,
                warnings,
            }
        };
        self.lines.push(Entry {
            lineno,
            status: LineStatus::Ok,
            executed: false,
            detail,
        });
        Ok(())
    }

    /// Give the lines the number the batch's encoded rules will have in the
    /// report (they move there once the lines have been accounted for).
    fn number_lines(&mut self, report: &LoadReport) {
        let number = report.encoded.len();
        for e in &mut self.lines {
            if let Detail::Batched { batch, .. } = &mut e.detail {
                *batch = number;
            }
        }
    }

    /// Report the lines as not run (the load stopped before them); warnings
    /// are not repeated for lines that did not run.
    fn not_run(&mut self, report: &mut LoadReport) {
        self.number_lines(report);
        report.encoded.push(std::mem::take(&mut self.rules));
        for mut e in self.lines.drain(..) {
            e.status = LineStatus::NotRun;
            if let Detail::Parsed { warnings, .. } = &mut e.detail {
                warnings.clear();
            }
            report.entries.push(e);
        }
    }

    /// Send the batched rules; record each line's outcome. When a rule fails
    /// and errors are not ignored, the load stops there like auditctl's: the
    /// rules after it in the batch, which the kernel has already added, are
    /// deleted again and reported as not run.
    fn flush(&mut self, client: &AuditClient, report: &mut LoadReport) {
        if self.lines.is_empty() {
            return;
        }
        self.number_lines(report);
        let msgs: Vec<(u16, &[u8])> = self.rules.iter().map(|r| (msg::ADD_RULE, r)).collect();
        let stop_on_error = !report.ignore_errors;
        let outcomes = client.request_batch("add_rule", &msgs, stop_on_error);
        let mut stopped = false;
        for (i, (mut line, bytes)) in self.lines.drain(..).zip(&msgs).enumerate() {
            let outcome = match &outcomes {
                Ok(o) => o.get(i).copied().flatten(),
                Err(e) => Some(Err(errno_of(e).unwrap_or(0))),
            };
            if stopped {
                if let Some(Ok(())) = outcome {
                    // Best effort: the rule must not stay when auditctl would
                    // never have added it.
                    let _ = delete_encoded(client, bytes.1, WaitMode::WaitForReply);
                }
                line.status = LineStatus::NotRun;
                report.entries.push(line);
                continue;
            }
            line.executed = outcome.is_some();
            match outcome {
                Some(Ok(())) => report.rules_added += 1,
                Some(Err(errno)) => {
                    let message = match &outcomes {
                        Err(e) if errno == 0 => e.to_string(),
                        _ => add_rule_message(errno),
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
            report.entries.push(line);
        }
        drop(msgs);
        report.encoded.push(std::mem::take(&mut self.rules));
    }
}

/// Account for (and unless `client` is None, execute) one line.
fn step(client: Option<&AuditClient>, line: FileLine, report: &mut LoadReport) {
    let FileLine {
        lineno,
        text,
        parsed,
        ..
    } = line;
    if report.stopped_at.is_some() {
        let commands = parsed.map(|p| p.commands).unwrap_or_default();
        report.entries.push(Entry {
            lineno,
            status: LineStatus::NotRun,
            executed: false,
            detail: Detail::Parsed {
                text,
                commands,
                warnings: Vec::new(),
            },
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
    report.entries.push(Entry {
        lineno,
        status,
        executed,
        detail: Detail::Parsed {
            text,
            commands,
            warnings,
        },
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
    use crate::audit::rules::parse::tests::TestResolver;

    #[test]
    fn dry_run_reports_every_line() {
        let text =
            b"-D\n-b 320\n-w /etc/shadow -p wa -k identity\n-a always,exit -F nosuch=1\n-e 2\n";
        let report = load_rules(None, text, &TestResolver, true).unwrap();
        let lines: Vec<_> = report.lines().collect();
        assert_eq!(lines.len(), 5);
        assert_eq!(report.stopped_at, Some(4));
        assert!(matches!(lines[3].status, LineStatus::Failed { .. }));
        assert_eq!(lines[4].status, LineStatus::NotRun);
        assert!(!report.succeeded());
        let text = b"-i\n-a always,exit -F nosuch=1\n-e 2\n";
        let report = load_rules(None, text, &TestResolver, true).unwrap();
        assert_eq!(report.stopped_at, None);
        assert!(report.succeeded());
        let lines: Vec<_> = report.lines().collect();
        assert_eq!(lines[2].commands, vec![Command::SetEnabled(2)]);
        let text = b"-c\n-a always,exit -F nosuch=1\n-R /x\n--signal TERM\n";
        let report = load_rules(None, text, &TestResolver, true).unwrap();
        assert_eq!(report.failed_lines().count(), 3);
        assert!(!report.succeeded());
        assert!(load_rules(None, b"-D\n", &TestResolver, false).is_err());
    }
}
