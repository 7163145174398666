//! auditctl's command-line grammar: options in, commands (and rules) out.
//!
//! This follows auditctl 3.0.9 (src/auditctl.c `setopt`, `handle_request`;
//! lib/libaudit.c `audit_rule_fieldpair_data`,
//! `audit_rule_interfield_comp_data`, `audit_determine_machine`) option by
//! option, with its checks and its error texts, so a rule that auditctl
//! accepts gives the same `audit_rule_data` bytes, and a rule it refuses is
//! refused with the same message. Where auditctl silently produces a wrong
//! value (trailing garbage after a number, numbers wider than 32 bits,
//! `sessionid=abc` becoming 0, ...) auditlink refuses instead; docs/rules.md
//! lists these differences.

use super::consts::*;
use super::fieldpair::{parse_c_unsigned, starts_with_digit};
use super::lookup::{self, AuditArch, Resolver};
use super::options::{getopt, Opt};
use super::rule::{AuditRule, FieldValue, RuleField};
use super::tokens::Token;
use super::RuleError;

/// What one auditctl command line asks for, in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    /// `-a`/`-A`/`-w`: add a rule (`rule.prepend` for `-A`).
    AddRule(AuditRule),
    /// `-d`/`-W`: delete a rule.
    DeleteRule(AuditRule),
    /// `-D [-k key]`.
    DeleteAll { key: Option<String> },
    /// `-e 0|1|2`.
    SetEnabled(u32),
    /// `-f 0|1|2`.
    SetFailure(u32),
    /// `-r N`.
    SetRateLimit(u32),
    /// `-b N`.
    SetBacklogLimit(u32),
    /// `--backlog_wait_time N`.
    SetBacklogWaitTime(u32),
    /// `--loginuid-immutable`.
    LoginuidImmutable,
    /// `--reset-lost`.
    ResetLost,
    /// `--reset_backlog_wait_time_actual`.
    ResetBacklogWaitTimeActual,
    /// `-i`: ignore errors in the rest of a rules file.
    IgnoreErrors,
    /// `-c`: continue after errors, but report failure at the end.
    ContinueOnErrors,
    /// `-l [-k key]` (read-only).
    List { key: Option<String> },
    /// `-s` (read-only).
    Status,
    /// `-t`: AUDIT_TRIM.
    Trim,
    /// `-q mount,subtree`: AUDIT_MAKE_EQUIV.
    MakeEquivalent { mount: String, subtree: String },
    /// `-m text`: an AUDIT_USER message.
    UserMessage(String),
    /// `--signal`: signal the audit daemon (not supported by auditlink).
    Signal(String),
    /// `-v`.
    Version,
    /// `-h`.
    Help,
    /// `-R file` (not allowed inside a rules file).
    ReadFile(String),
}

/// The result of one command line.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ParsedLine {
    pub commands: Vec<Command>,
    /// auditctl's warnings (`32/64 bit syscall mismatch`, wildcard paths).
    pub warnings: Vec<String>,
}

pub(super) const UNSET_LIST: u32 = 0x80;

/// The names of a `-S`/`-U` argument: split at commas with the empty ones
/// left out, unless there is no comma (then the argument itself, even empty).
fn comma_list(arg: &str) -> impl Iterator<Item = &str> {
    let listed = arg.contains(',');
    arg.split(',').filter(move |s| !listed || !s.is_empty())
}

pub(super) struct LineParser<'r> {
    pub(super) env: &'r dyn Resolver,
    pub(super) lineno: Option<usize>,
    pub(super) count: usize,
    pub(super) add: u32,
    pub(super) del: u32,
    pub(super) action: Option<u32>,
    pub(super) multiple: u32,
    pub(super) exclude: bool,
    pub(super) syscall_added: bool,
    pub(super) uringop_added: bool,
    pub(super) perm_added: bool,
    pub(super) exe_added: bool,
    pub(super) filterfs_added: bool,
    pub(super) elf: Option<AuditArch>,
    pub(super) rule: AuditRule,
    pub(super) key: String,
    /// Where the first key argument starts, and that argument as written.
    pub(super) key_pos: Option<(usize, String)>,
    pub(super) out: ParsedLine,
    /// A rule operation (-a/-A/-d/-w/-W) was given.
    pub(super) rule_op: bool,
}

/// Parse one auditctl command line (the arguments after `auditctl`).
pub fn parse_line(
    tokens: &[Token<'_>],
    env: &dyn Resolver,
    lineno: Option<usize>,
) -> Result<ParsedLine, RuleError> {
    let (opts, getopt_error) = getopt(tokens);
    if opts.is_empty() {
        if let Some(e) = getopt_error {
            return Err(e);
        }
        let (pos, text) = tokens.first().map_or((0, ""), |t| (t.start, &*t.text));
        return Err(RuleError::at("no option given", pos, text));
    }
    let mut p = LineParser {
        env,
        lineno,
        count: tokens.len() + 1,
        add: UNSET_LIST,
        del: UNSET_LIST,
        action: None,
        multiple: 0,
        exclude: false,
        syscall_added: false,
        uringop_added: false,
        perm_added: false,
        exe_added: false,
        filterfs_added: false,
        elf: None,
        rule: AuditRule::new(0, 0),
        key: String::new(),
        key_pos: None,
        // A line is almost always one command, and a Command is about 300
        // bytes: Vec's first growth would reserve four, 1.2 KB a line that a
        // rules file's report keeps (page faults, measured in docs/rules.md).
        out: ParsedLine {
            commands: Vec::with_capacity(1),
            warnings: Vec::new(),
        },
        rule_op: false,
    };
    let mut index = 0;
    let mut consumed_rest = false;
    while index < opts.len() {
        consumed_rest = p.option(&opts, index, tokens)?;
        if consumed_rest {
            break;
        }
        index += 1;
    }
    if let (false, Some(e)) = (consumed_rest, getopt_error) {
        return Err(e);
    }
    p.finish()?;
    Ok(p.out)
}

impl LineParser<'_> {
    pub(super) fn list_flags(&self) -> u32 {
        if self.add != UNSET_LIST {
            self.add & FILTER_MASK
        } else if self.del != UNSET_LIST {
            self.del & FILTER_MASK
        } else {
            UNSET_LIST
        }
    }

    pub(super) fn warn(&mut self, msg: &str) {
        self.out.warnings.push(msg.to_string());
    }

    /// Handle one option; true when it consumed the rest of the line.
    fn option(
        &mut self,
        opts: &[Opt<'_>],
        index: usize,
        tokens: &[Token<'_>],
    ) -> Result<bool, RuleError> {
        let opt = &opts[index];
        let arg: &str = opt.arg.unwrap_or("");
        let err = |msg: String| RuleError::at(msg, opt.pos, &opt.token());
        // The arguments that follow this option, for auditctl's count checks.
        let rest = || -> Vec<&Token<'_>> { tokens.iter().filter(|t| t.start > opt.pos).collect() };
        match opt.name {
            "h" => self.out.commands.push(Command::Help),
            "v" => self.out.commands.push(Command::Version),
            "i" => self.out.commands.push(Command::IgnoreErrors),
            "c" => self.out.commands.push(Command::ContinueOnErrors),
            "s" => {
                if self.count > 3 {
                    return Err(err("Too many options for status command".into()));
                }
                if let Some(next) = rest().first() {
                    if next.text != "-i" {
                        return Err(err("Only -i option is allowed".into()));
                    }
                }
                self.out.commands.push(Command::Status);
                return Ok(true);
            }
            "l" => {
                if self.count > 4 {
                    return Err(err("Wrong number of options for list request".into()));
                }
                let mut key = None;
                match rest().as_slice() {
                    [] => {}
                    [i] if i.text == "-i" => {}
                    [k, v] if k.text == "-k" => key = Some(v.text.to_string()),
                    _ => return Err(err("Only -k or -i options are allowed".into())),
                }
                self.out.commands.push(Command::List { key });
                return Ok(true);
            }
            "D" => {
                if self.count > 4 || self.count == 3 {
                    return Err(err("Wrong number of options for Delete all request".into()));
                }
                let mut key = None;
                if let [k, v] = rest().as_slice() {
                    if k.text != "-k" {
                        return Err(err("Only the -k option is allowed".into()));
                    }
                    key = Some(v.text.to_string());
                }
                self.out.commands.push(Command::DeleteAll { key });
                return Ok(true);
            }
            "e" => match arg {
                "0" | "1" | "2" => self
                    .out
                    .commands
                    .push(Command::SetEnabled(arg.parse().unwrap_or(0))),
                _ => return Err(err(format!("Enable must be 0, 1, or 2 was {arg}"))),
            },
            "f" => match arg {
                "0" | "1" | "2" => self
                    .out
                    .commands
                    .push(Command::SetFailure(arg.parse().unwrap_or(0))),
                _ => return Err(err(format!("Failure must be 0, 1, or 2 was {arg}"))),
            },
            "r" | "b" | "backlog_wait_time" => {
                let what = match opt.name {
                    "r" => "Rate",
                    "b" => "Backlog",
                    _ => "Backlog_wait_time",
                };
                if !starts_with_digit(arg) {
                    return Err(err(format!("{what} must be a numeric value was {arg}")));
                }
                let value = parse_c_unsigned(arg)
                    .and_then(|v| u32::try_from(v).ok())
                    .ok_or_else(|| err(format!("{what} must be a numeric value was {arg}")))?;
                self.out.commands.push(match opt.name {
                    "r" => Command::SetRateLimit(value),
                    "b" => Command::SetBacklogLimit(value),
                    _ => Command::SetBacklogWaitTime(value),
                });
            }
            "loginuid-immutable" => self.out.commands.push(Command::LoginuidImmutable),
            "reset-lost" => self.out.commands.push(Command::ResetLost),
            "reset_backlog_wait_time_actual" => {
                self.out.commands.push(Command::ResetBacklogWaitTimeActual)
            }
            "signal" => self.out.commands.push(Command::Signal(arg.to_string())),
            "t" => self.out.commands.push(Command::Trim),
            "R" => self.out.commands.push(Command::ReadFile(arg.to_string())),
            "m" => {
                if self.count > 3 {
                    return Err(err(
                        "The -m option must be only the only option and takes 1 parameter".into(),
                    ));
                }
                if arg.chars().any(|c| (c as u32) < 32) {
                    return Err(err("Illegal character in audit event".into()));
                }
                self.out
                    .commands
                    .push(Command::UserMessage(arg.to_string()));
            }
            "q" => {
                if self.syscall_added {
                    return Err(err("Syscall auditing requested for make equivalent".into()));
                }
                let parts: Vec<&str> = arg.split(',').collect();
                match parts.as_slice() {
                    [mount, subtree] if !subtree.is_empty() => {
                        self.out.commands.push(Command::MakeEquivalent {
                            mount: mount.to_string(),
                            subtree: subtree.to_string(),
                        })
                    }
                    _ => return Err(err("Error parsing equivalent parts".into())),
                }
            }
            "a" | "A" | "d" => self.rule_setup(opt, arg)?,
            "S" => self.syscall_option(opt, arg)?,
            "U" => self.uringop_option(opt, arg)?,
            "F" => {
                let flags = self.list_flags();
                if flags == UNSET_LIST {
                    return Err(err("List must be given before field".into()));
                }
                if let Some(k) = arg.strip_prefix("key=") {
                    self.add_key(k, opt)?;
                } else {
                    self.fieldpair(arg, flags).map_err(err)?;
                    match self.rule.fields.last().map(|f| f.field) {
                        Some(F_PERM) => self.perm_added = true,
                        Some(F_EXE) => self.exe_added = true,
                        _ => {}
                    }
                }
            }
            "C" => {
                let flags = self.list_flags();
                self.compare(arg, flags).map_err(err)?;
            }
            "w" | "W" => {
                if opt.name == "w" && (self.add != UNSET_LIST || self.del != UNSET_LIST) {
                    return Err(err("watch option can't be given with a syscall".into()));
                }
                if opt.name == "w" {
                    self.add = FILTER_EXIT;
                } else {
                    self.del = FILTER_EXIT;
                }
                self.action = Some(ACTION_ALWAYS);
                self.syscall_added = true;
                self.rule_op = true;
                self.setup_watch(arg).map_err(err)?;
            }
            "k" => {
                if !(self.syscall_added
                    || self.uringop_added
                    || self.perm_added
                    || self.exe_added
                    || self.filterfs_added)
                    || (self.add == UNSET_LIST && self.del == UNSET_LIST)
                {
                    return Err(err(
                        "key option needs a watch or syscall given prior to it".into()
                    ));
                }
                self.add_key(arg, opt)?;
            }
            "p" => self.setup_perms(arg).map_err(err)?,
            other => return Err(err(format!("Option -{other} is invalid"))),
        }
        Ok(false)
    }

    /// `audit_rule_setup`: `-a`/`-A`/`-d` with `list,action` in either order.
    fn rule_setup(&mut self, opt: &Opt, arg: &str) -> Result<(), RuleError> {
        let err = |msg: String| RuleError::at(msg, opt.pos, arg);
        let verb = match opt.name {
            "a" => "Append rule",
            "A" => "Add rule",
            _ => "Delete rule",
        };
        if opt.name != "d" && arg.contains("task") && (self.syscall_added || self.uringop_added) {
            return Err(err("Syscall auditing requested for task list".into()));
        }
        self.multiple += 1;
        if self.multiple != 1 {
            return Err(err(
                "Multiple rule insert/delete operations are not allowed".into(),
            ));
        }
        let bad = || RuleError::at(format!("{verb} - bad keyword {arg}"), opt.pos, arg);
        let (first, second) = arg.split_once(',').ok_or_else(bad)?;
        if second.contains(',') {
            return Err(bad());
        }
        let mut list = if opt.name == "d" { self.del } else { self.add };
        let mut action = self.action;
        match list_by_name(first) {
            Some(l) => list = l,
            None => action = Some(action_by_name(first).ok_or_else(bad)?),
        }
        if list == UNSET_LIST {
            list = list_by_name(second).unwrap_or(UNSET_LIST);
        } else {
            action = Some(action_by_name(second).ok_or_else(bad)?);
        }
        if list == UNSET_LIST || action.is_none() {
            return Err(bad());
        }
        if first == "exclude" || second == "exclude" {
            self.exclude = true;
        }
        self.action = action;
        if opt.name == "d" {
            self.del = list;
        } else if opt.name == "A" {
            self.add = list | FILTER_PREPEND;
        } else {
            self.add = list;
        }
        self.rule_op = true;
        Ok(())
    }

    fn list_is(&self, list: u32) -> bool {
        (self.add & (FILTER_MASK | UNSET_LIST)) == list
            || (self.del & (FILTER_MASK | UNSET_LIST)) == list
    }

    /// auditctl's refusal of `-S` / `-U` (`what`: "syscall", "uring op") on a
    /// list that has no syscalls: task, user, filesystem, exclude, or
    /// `other_list` (the exit list of the other kind, refused with `other_msg`).
    fn misplaced(&self, what: &str, other_list: u32, other_msg: &str) -> Option<String> {
        let named = [
            (FILTER_TASK, "task"),
            (FILTER_USER, "user"),
            (FILTER_FS, "filesystem"),
        ];
        if let Some((_, name)) = named.iter().find(|(list, _)| self.list_is(*list)) {
            Some(format!("Error: {what} auditing being added to {name} list"))
        } else if self.exclude {
            Some(format!(
                "Error: {what} auditing cannot be put on exclude list"
            ))
        } else if ((self.add | self.del) & FILTER_MASK) == other_list {
            Some(other_msg.into())
        } else {
            None
        }
    }

    fn syscall_option(&mut self, opt: &Opt, arg: &str) -> Result<(), RuleError> {
        let err = |msg: String| RuleError::at(msg, opt.pos, arg);
        let unknown_arch = self.elf.is_none();
        if let Some(msg) = self.misplaced(
            "syscall",
            FILTER_URING_EXIT,
            "Error: syscall auditing cannot be put on uringop list",
        ) {
            return Err(err(msg));
        }
        let arch = match self.elf {
            Some(a) => a,
            None => {
                let host = self
                    .env
                    .host_arch()
                    .ok_or_else(|| err("Error detecting machine type".into()))?;
                self.elf = Some(host);
                host
            }
        };
        let mut mask = self.rule.mask;
        for name in comma_list(arg) {
            if !syscall_into(&mut mask, arch, name) {
                let shown = if arg.contains(',') { name } else { arg };
                return Err(err(format!("Syscall name unknown: {shown}")));
            }
        }
        self.rule.mask = mask;
        self.syscall_added = true;
        if unknown_arch && self.add != UNSET_LIST {
            // check_rule_mismatch: would the 32-bit table give other bits?
            if let Some(arch32) = lookup::arch_32bit_of(arch) {
                let mut other = [0u32; BITMASK_SIZE];
                let mut same = true;
                for name in comma_list(arg) {
                    syscall_into(&mut other, arch32, name);
                }
                let mut mine = [0u32; BITMASK_SIZE];
                for name in comma_list(arg) {
                    syscall_into(&mut mine, arch, name);
                }
                // libaudit compares the first AUDIT_BITMASK_SIZE bytes only.
                for i in 0..BITMASK_SIZE / 4 {
                    if other[i] != mine[i] {
                        same = false;
                    }
                }
                if !same {
                    // check_rule_mismatch's two texts.
                    let msg = match self.lineno {
                        Some(n) => format!(
                            "WARNING - 32/64 bit syscall mismatch in line {n}, you should specify an arch"
                        ),
                        None => {
                            "WARNING - 32/64 bit syscall mismatch, you should specify an arch".into()
                        }
                    };
                    self.warn(&msg);
                }
            }
        }
        Ok(())
    }

    fn uringop_option(&mut self, opt: &Opt, arg: &str) -> Result<(), RuleError> {
        let err = |msg: String| RuleError::at(msg, opt.pos, arg);
        if let Some(msg) = self.misplaced(
            "uring op",
            FILTER_EXIT,
            "Error: uringop auditing cannot be put on syscall list",
        ) {
            return Err(err(msg));
        }
        for name in comma_list(arg) {
            if name == "all" {
                self.rule.set_all_syscalls();
                continue;
            }
            let nr = uring_op_by_name(name).or_else(|| {
                if starts_with_digit(name) {
                    parse_c_unsigned(name).and_then(|v| u32::try_from(v).ok())
                } else {
                    None
                }
            });
            if !nr.is_some_and(|nr| self.rule.set_syscall(nr)) {
                return Err(err(format!("Uring op name unknown: {name}")));
            }
        }
        self.uringop_added = true;
        Ok(())
    }

    fn add_key(&mut self, k: &str, opt: &Opt) -> Result<(), RuleError> {
        let err = |msg: String| RuleError::at(msg, opt.pos, opt.arg.unwrap_or(""));
        let extra = usize::from(!self.key.is_empty());
        if k.len() + self.key.len() + extra > MAX_KEY_LEN {
            return Err(err("key option exceeds size limit".into()));
        }
        if k.as_bytes().contains(&KEY_SEPARATOR) {
            return Err(err(format!("key {k} has illegal character")));
        }
        if k.is_empty() {
            return Ok(());
        }
        if !self.key.is_empty() {
            self.key.push(KEY_SEPARATOR as char);
        }
        self.key.push_str(k);
        self.key_pos
            .get_or_insert_with(|| (opt.pos, opt.arg.unwrap_or("").to_string()));
        Ok(())
    }

    /// `audit_setup_watch_name` + `audit_add_watch_dir`.
    fn setup_watch(&mut self, path: &str) -> Result<(), String> {
        if path.len() >= PATH_MAX {
            return Err("The path passed for the watch is too big".into());
        }
        if !path.starts_with('/') {
            return Err("The path must start with '/'".into());
        }
        let base = path.trim_end_matches('/').rsplit('/').next().unwrap_or("");
        if base.len() > NAME_MAX {
            return Err("The base name of the path is too big".into());
        }
        if path.contains("..") {
            self.warn("Warning - relative path notation is not supported");
        }
        if path.contains('*') || path.contains('?') {
            self.warn("Warning - wildcard notation is not supported");
        }
        let mut path = path;
        if path.len() > 2 {
            while path.len() > 1 && path.ends_with('/') {
                path = &path[..path.len() - 1];
            }
        }
        let field = if self.env.is_dir(path) {
            F_DIR
        } else {
            F_WATCH
        };
        if !self.rule.fields.is_empty() {
            return Err("Rule is not empty".into());
        }
        self.rule = AuditRule::new(FILTER_EXIT, ACTION_ALWAYS);
        self.rule.set_all_syscalls();
        self.rule
            .fields
            .push(RuleField::text(field, OP_EQUAL, path));
        self.rule
            .fields
            .push(RuleField::number(F_PERM, OP_EQUAL, PERM_ALL));
        self.perm_added = true;
        Ok(())
    }

    /// `-p`: `audit_setup_perms` + `audit_update_watch_perms`.
    fn setup_perms(&mut self, opt: &str) -> Result<(), String> {
        if opt.len() > 4 {
            return Err("Permissions can only contain rwxa and be at most 4 letters".into());
        }
        let val = perm_from_letters(opt).map_err(|c| format!("Permission {c} isn't supported"))?;
        if self.rule.fields.is_empty() {
            return Err("Permissions should be preceeded by other fields".into());
        }
        let mut done = false;
        for f in self.rule.fields.iter_mut().filter(|f| f.field == F_PERM) {
            f.value = FieldValue::Number(val);
            done = true;
        }
        if !done {
            if self.rule.fields.len() >= MAX_FIELDS - 1 {
                return Err("Too many fields when adding permissions".into());
            }
            self.rule
                .fields
                .push(RuleField::number(F_PERM, OP_EQUAL, val));
        }
        self.perm_added = true;
        Ok(())
    }

    fn finish(&mut self) -> Result<(), RuleError> {
        let list_requested = self
            .out
            .commands
            .iter()
            .any(|c| matches!(c, Command::List { .. }));
        if !self.key.is_empty() && !list_requested {
            let flags = if self.add != UNSET_LIST {
                self.add & FILTER_MASK
            } else if self.del != UNSET_LIST {
                self.del & FILTER_MASK
            } else {
                0
            };
            let mut pair = std::mem::take(&mut self.key);
            let (pos, token) = self.key_pos.take().unwrap_or_else(|| (0, pair.clone()));
            pair.insert_str(0, "key=");
            self.fieldpair(&pair, flags)
                .map_err(|m| RuleError::at(m, pos, &token))?;
        }
        if !self.rule_op {
            if self.syscall_added || self.uringop_added || !self.rule.fields.is_empty() {
                return Err(RuleError::new(
                    "rule options given without -a, -A, -d, -w or -W",
                ));
            }
            return Ok(());
        }
        let Some(action) = self.action else {
            return Err(RuleError::new("no action given for the rule"));
        };
        let (list_flags, delete) = if self.add != UNSET_LIST {
            (self.add, false)
        } else {
            (self.del, true)
        };
        let list = list_flags & FILTER_MASK;
        // handle_request: every list but task defaults to all syscalls.
        if list != FILTER_TASK && !self.syscall_added && !self.uringop_added {
            self.rule.set_all_syscalls();
        }
        let mut rule = std::mem::replace(&mut self.rule, AuditRule::new(0, 0));
        rule.list = list;
        rule.prepend = list_flags & FILTER_PREPEND != 0;
        rule.action = action;
        self.out.commands.push(if delete {
            Command::DeleteRule(rule)
        } else {
            Command::AddRule(rule)
        });
        Ok(())
    }
}

/// Set the mask bit of one `-S` name or number (`audit_rule_syscallbyname_data`).
fn syscall_into(mask: &mut [u32; BITMASK_SIZE], arch: AuditArch, name: &str) -> bool {
    if name == "all" {
        *mask = [u32::MAX; BITMASK_SIZE];
        return true;
    }
    let nr = lookup::syscall_number(arch, name).or_else(|| {
        if starts_with_digit(name) {
            parse_c_unsigned(name).and_then(|v| u32::try_from(v).ok())
        } else {
            None
        }
    });
    match nr {
        Some(nr) if (nr as usize) < BITMASK_SIZE * 32 => {
            mask[(nr / 32) as usize] |= 1 << (nr % 32);
            true
        }
        _ => false,
    }
}

#[cfg(test)]
#[path = "parse_tests.rs"]
pub(crate) mod tests;
