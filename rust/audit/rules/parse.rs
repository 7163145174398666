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
use super::lookup::{self, AuditArch, Resolver, ARCH_64BIT};
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

const UNSET_LIST: u32 = 0x80;

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
struct Opt<'a> {
    name: &'static str,
    arg: Option<&'a str>,
    pos: usize,
}

impl Opt<'_> {
    /// The option as written, for messages.
    fn spelled(&self) -> String {
        if self.name.len() == 1 {
            format!("-{}", self.name)
        } else {
            format!("--{}", self.name)
        }
    }

    /// What an error about this option points at: its argument, else itself.
    fn token(&self) -> String {
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
fn getopt(tokens: &[Token]) -> (Vec<Opt<'_>>, Option<RuleError>) {
    let mut out = Vec::with_capacity(tokens.len());
    match getopt_into(tokens, &mut out) {
        Ok(()) => (out, None),
        Err(e) => (out, Some(e)),
    }
}

fn getopt_into<'a>(tokens: &'a [Token], out: &mut Vec<Opt<'a>>) -> Result<(), RuleError> {
    let mut i = 0;
    while i < tokens.len() {
        let tok = &tokens[i];
        let text = tok.text.as_str();
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
                        (Some(next.text.as_str()), next.start)
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
                        arg: Some(next.text.as_str()),
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

/// A number as C's `strtoul(s, NULL, 0)` reads it (`0x` hex, leading `0`
/// octal, else decimal), but the whole string must be the number.
fn parse_c_unsigned(s: &str) -> Option<u64> {
    let (digits, radix) = if let Some(hex) = s.strip_prefix("0x").or_else(|| s.strip_prefix("0X")) {
        (hex, 16)
    } else if s.len() > 1 && s.starts_with('0') {
        (&s[1..], 8)
    } else {
        (s, 10)
    };
    if digits.is_empty() || !digits.chars().all(|c| c.is_digit(radix)) {
        return None;
    }
    u64::from_str_radix(digits, radix).ok()
}

enum NumError {
    NotANumber,
    TooLarge,
}

/// `strtoul` when the value starts with a digit, `strtol` when it is `-`
/// followed by a digit (libaudit's "positive & negative separate for 32 bit
/// systems"), stored as the 32-bit two's complement like libaudit does.
fn parse_signed_or_unsigned(s: &str) -> Result<u32, NumError> {
    if s.starts_with(|c: char| c.is_ascii_digit()) {
        let v = parse_c_unsigned(s).ok_or(NumError::NotANumber)?;
        u32::try_from(v).map_err(|_| NumError::TooLarge)
    } else if let Some(rest) = s
        .strip_prefix('-')
        .filter(|r| r.starts_with(|c: char| c.is_ascii_digit()))
    {
        let v = parse_c_unsigned(rest).ok_or(NumError::NotANumber)?;
        if v > 1 << 31 {
            return Err(NumError::TooLarge);
        }
        // v <= 2^31: the negation fits in i32's range as an i64.
        Ok((-(v as i64)) as i32 as u32)
    } else {
        Err(NumError::NotANumber)
    }
}

fn starts_with_digit(s: &str) -> bool {
    s.starts_with(|c: char| c.is_ascii_digit())
}

/// libaudit's `err_msgtab` forms: position 1 puts the option text before
/// the message, position 2 after it.
fn before(opt: &str, msg: &str) -> String {
    format!("{opt} {msg}")
}
fn after(msg: &str, opt: &str) -> String {
    format!("{msg} {opt}")
}

struct LineParser<'r> {
    env: &'r dyn Resolver,
    lineno: Option<usize>,
    count: usize,
    add: u32,
    del: u32,
    action: Option<u32>,
    multiple: u32,
    exclude: bool,
    syscall_added: bool,
    uringop_added: bool,
    perm_added: bool,
    exe_added: bool,
    filterfs_added: bool,
    elf: Option<AuditArch>,
    rule: AuditRule,
    key: String,
    /// Where the first key argument starts, and that argument as written.
    key_pos: Option<(usize, String)>,
    out: ParsedLine,
    /// A rule operation (-a/-A/-d/-w/-W) was given.
    rule_op: bool,
}

/// Parse one auditctl command line (the arguments after `auditctl`).
pub fn parse_line(
    tokens: &[Token],
    env: &dyn Resolver,
    lineno: Option<usize>,
) -> Result<ParsedLine, RuleError> {
    let (opts, getopt_error) = getopt(tokens);
    if opts.is_empty() {
        if let Some(e) = getopt_error {
            return Err(e);
        }
        let (pos, text) = tokens
            .first()
            .map_or((0, ""), |t| (t.start, t.text.as_str()));
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
        out: ParsedLine::default(),
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
    fn list_flags(&self) -> u32 {
        if self.add != UNSET_LIST {
            self.add & FILTER_MASK
        } else if self.del != UNSET_LIST {
            self.del & FILTER_MASK
        } else {
            UNSET_LIST
        }
    }

    fn warn(&mut self, msg: &str) {
        self.out.warnings.push(msg.to_string());
    }

    /// Handle one option; true when it consumed the rest of the line.
    fn option(
        &mut self,
        opts: &[Opt<'_>],
        index: usize,
        tokens: &[Token],
    ) -> Result<bool, RuleError> {
        let opt = &opts[index];
        let arg: &str = opt.arg.unwrap_or("");
        let err = |msg: String| RuleError::at(msg, opt.pos, &opt.token());
        // The arguments that follow this option, for auditctl's count checks.
        let rest = || -> Vec<&Token> { tokens.iter().filter(|t| t.start > opt.pos).collect() };
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
                    [k, v] if k.text == "-k" => key = Some(v.text.clone()),
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
                    key = Some(v.text.clone());
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

    fn syscall_option(&mut self, opt: &Opt, arg: &str) -> Result<(), RuleError> {
        let err = |msg: String| RuleError::at(msg, opt.pos, arg);
        let unknown_arch = self.elf.is_none();
        if self.list_is(FILTER_TASK) {
            return Err(err(
                "Error: syscall auditing being added to task list".into()
            ));
        } else if self.list_is(FILTER_USER) {
            return Err(err(
                "Error: syscall auditing being added to user list".into()
            ));
        } else if self.list_is(FILTER_FS) {
            return Err(err(
                "Error: syscall auditing being added to filesystem list".into(),
            ));
        } else if self.exclude {
            return Err(err(
                "Error: syscall auditing cannot be put on exclude list".into()
            ));
        } else if ((self.add | self.del) & FILTER_MASK) == FILTER_URING_EXIT {
            return Err(err(
                "Error: syscall auditing cannot be put on uringop list".into()
            ));
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
        let names: Vec<&str> = if arg.contains(',') {
            arg.split(',').filter(|s| !s.is_empty()).collect()
        } else {
            vec![arg]
        };
        for name in &names {
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
                for name in &names {
                    syscall_into(&mut other, arch32, name);
                }
                let mut mine = [0u32; BITMASK_SIZE];
                for name in &names {
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
        if self.list_is(FILTER_TASK) {
            return Err(err(
                "Error: uring op auditing being added to task list".into()
            ));
        } else if self.list_is(FILTER_USER) {
            return Err(err(
                "Error: uring op auditing being added to user list".into()
            ));
        } else if self.list_is(FILTER_FS) {
            return Err(err(
                "Error: uring op auditing being added to filesystem list".into(),
            ));
        } else if self.exclude {
            return Err(err(
                "Error: uring op auditing cannot be put on exclude list".into(),
            ));
        } else if ((self.add | self.del) & FILTER_MASK) == FILTER_EXIT {
            return Err(err(
                "Error: uringop auditing cannot be put on syscall list".into()
            ));
        }
        let names: Vec<&str> = if arg.contains(',') {
            arg.split(',').filter(|s| !s.is_empty()).collect()
        } else {
            vec![arg]
        };
        for name in names {
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
        let mut val = 0;
        for c in opt.chars() {
            val |= match c.to_ascii_lowercase() {
                'r' => PERM_READ,
                'w' => PERM_WRITE,
                'x' => PERM_EXEC,
                'a' => PERM_ATTR,
                _ => return Err(format!("Permission {c} isn't supported")),
            };
        }
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

    /// `audit_rule_interfield_comp_data` (`-C`).
    fn compare(&mut self, pair: &str, flags: u32) -> Result<(), String> {
        if self.rule.fields.len() >= MAX_FIELDS - 1 {
            return Err(after("Too many fields in rule:", pair));
        }
        let (left, op, right) = if let Some((l, r)) = pair.split_once("!=") {
            (l, OP_NOT_EQUAL, r)
        } else if let Some((l, r)) = pair.split_once('=') {
            (l, OP_EQUAL, r)
        } else {
            return Err(before(pair, "only takes = or != operators"));
        };
        if left.is_empty() {
            return Err(after("-C missing field name before operator for", left));
        }
        if right.is_empty() {
            return Err(after("-C missing value after operation for", left));
        }
        let f1 = field_by_name(left).ok_or_else(|| after("-C unknown field:", left))?;
        let f2 = field_by_name(right)
            .ok_or_else(|| after("-C unknown right hand value for comparison with:", left))?;
        if flags != FILTER_EXIT && flags != FILTER_URING_EXIT {
            return Err(before(left, "can only be used with exit filter list"));
        }
        let value =
            comparison_for(f1, f2).ok_or_else(|| after("-C incompatible comparison", left))?;
        self.rule
            .fields
            .push(RuleField::number(F_FIELD_COMPARE, op, value));
        Ok(())
    }

    /// `audit_rule_fieldpair_data` (`-F`).
    fn fieldpair(&mut self, pair: &str, flags: u32) -> Result<(), String> {
        if self.rule.fields.len() >= MAX_FIELDS - 1 {
            return Err(after("Too many fields in rule:", pair));
        }
        let found = OPERATOR_SEARCH_ORDER.iter().find_map(|&(sym, op)| {
            let sym = sym.as_bytes();
            pair.as_bytes()
                .windows(sym.len())
                .position(|w| w == sym)
                .map(|at| (at, sym.len(), op))
        });
        let Some((at, oplen, op)) = found else {
            return Err(after("-F missing operation for", pair));
        };
        let name = &pair[..at];
        let v = &pair[at + oplen..];
        if name.is_empty() {
            return Err(after("-F missing field name before operator for", name));
        }
        if v.is_empty() {
            return Err(after("-F missing value after operation for", name));
        }
        let field = field_by_name(name).ok_or_else(|| after("-F unknown field:", name))?;
        let exit_like = flags == FILTER_EXIT || flags == FILTER_URING_EXIT;
        let exit_only = || -> Result<(), String> {
            if exit_like {
                Ok(())
            } else {
                Err(before(name, "can only be used with exit filter list"))
            }
        };
        let eq_ne = || -> Result<(), String> {
            if op == OP_EQUAL || op == OP_NOT_EQUAL {
                Ok(())
            } else {
                Err(before(name, "only takes = or != operators"))
            }
        };
        let number = |v: &str| -> Result<u32, String> {
            parse_signed_or_unsigned(v).map_err(|e| match e {
                NumError::NotANumber => after("-F value should be number for", name),
                NumError::TooLarge => after("value is too large for field:", name),
            })
        };
        if flags == FILTER_EXCLUDE
            && !matches!(
                field,
                F_PID
                    | F_UID
                    | F_GID
                    | F_LOGINUID
                    | F_MSGTYPE
                    | F_SUBJ_USER
                    | F_SUBJ_ROLE
                    | F_SUBJ_TYPE
                    | F_SUBJ_SEN
                    | F_SUBJ_CLR
                    | F_EXE
            )
        {
            return Err(
                "Only msgtype, *uid, *gid, pid, and subj* fields can be used with exclude filter"
                    .into(),
            );
        }
        let value = match field {
            F_UID | F_EUID | F_SUID | F_FSUID | F_LOGINUID | F_OBJ_UID => {
                if starts_with_digit(v)
                    || (v.starts_with('-') && v[1..].starts_with(|c: char| c.is_ascii_digit()))
                {
                    FieldValue::Number(number(v)?)
                } else if v == "unset" {
                    FieldValue::Number(UNSET)
                } else {
                    FieldValue::Number(
                        self.env
                            .user_id(v)
                            .ok_or_else(|| format!("Unknown user: {v}"))?,
                    )
                }
            }
            F_GID | F_EGID | F_SGID | F_FSGID | F_OBJ_GID => {
                if starts_with_digit(v) {
                    FieldValue::Number(number(v)?)
                } else {
                    FieldValue::Number(
                        self.env
                            .group_id(v)
                            .ok_or_else(|| format!("Unknown group: {v}"))?,
                    )
                }
            }
            F_EXIT => {
                exit_only()?;
                if starts_with_digit(v)
                    || (v.starts_with('-') && v[1..].starts_with(|c: char| c.is_ascii_digit()))
                {
                    FieldValue::Number(number(v)?)
                } else {
                    let (sign, errname) = match v.strip_prefix('-') {
                        Some(rest) => (-1i64, rest),
                        None => (1, v),
                    };
                    let e = lookup::errno_number(errname)
                        .ok_or_else(|| after("-F unknown errno -", name))?;
                    FieldValue::Number((sign * i64::from(e)) as i32 as u32)
                }
            }
            F_MSGTYPE => {
                if flags != FILTER_EXCLUDE && flags != FILTER_USER {
                    return Err(
                        "msgtype field can only be used with exclude or user filter list".into(),
                    );
                }
                if starts_with_digit(v) {
                    FieldValue::Number(number(v)?)
                } else {
                    FieldValue::Number(
                        lookup::msgtype_number(v)
                            .ok_or_else(|| after("-F unknown message type -", name))?,
                    )
                }
            }
            _ if is_string_field(field) => {
                if matches!(
                    field,
                    F_OBJ_USER
                        | F_OBJ_ROLE
                        | F_OBJ_TYPE
                        | F_OBJ_LEV_LOW
                        | F_OBJ_LEV_HIGH
                        | F_WATCH
                        | F_DIR
                ) {
                    exit_only()?;
                    if field == F_WATCH || field == F_DIR {
                        self.perm_added = true;
                    }
                }
                if field == F_EXE {
                    eq_ne()?;
                    self.exe_added = true;
                }
                if field == F_FILTERKEY
                    && !(self.syscall_added
                        || self.uringop_added
                        || self.perm_added
                        || self.exe_added
                        || self.filterfs_added)
                {
                    return Err(
                        "Key field needs a watch, syscall or exe path given prior to it".into(),
                    );
                }
                if (field == F_FILTERKEY && v.len() > MAX_KEY_LEN) || v.len() > PATH_MAX {
                    return Err("String value too long".into());
                }
                FieldValue::Text(v.as_bytes().to_vec())
            }
            F_ARCH => {
                if self.syscall_added || self.uringop_added {
                    return Err(before(name, "must be before -S"));
                }
                eq_ne()?;
                let arch = self.determine_arch(v).map_err(|m| before(name, m))?;
                self.elf = Some(arch);
                FieldValue::Number(arch)
            }
            F_PERM => {
                if flags != FILTER_EXIT {
                    return Err(before(name, "can only be used with exit filter list"));
                }
                if op != OP_EQUAL {
                    return Err(before(name, "only takes = operator"));
                }
                if v.len() > 4 {
                    return Err("String value too long".into());
                }
                let mut val = 0;
                for c in v.chars() {
                    val |= match c.to_ascii_lowercase() {
                        'r' => PERM_READ,
                        'w' => PERM_WRITE,
                        'x' => PERM_EXEC,
                        'a' => PERM_ATTR,
                        _ => return Err("Permission can only contain  'rwxa'".into()),
                    };
                }
                FieldValue::Number(val)
            }
            F_FILETYPE => {
                exit_only()?;
                // auditctl -l prints file types as numbers; accept them back.
                let t = lookup_ci(FILE_TYPES, v)
                    .or_else(|| {
                        if starts_with_digit(v) {
                            parse_c_unsigned(v).and_then(|n| u32::try_from(n).ok())
                        } else {
                            None
                        }
                    })
                    .ok_or_else(|| after("-F unknown file type - ", name))?;
                FieldValue::Number(t)
            }
            F_FSTYPE => {
                if flags != FILTER_FS {
                    return Err(before(name, "field is not valid for the filter"));
                }
                eq_ne()?;
                let t = if starts_with_digit(v) {
                    number(v)?
                } else {
                    lookup_ci(FS_TYPES, v)
                        .ok_or_else(|| after("file system type is unknown for field:", name))?
                };
                self.filterfs_added = true;
                FieldValue::Number(t)
            }
            F_ARG0..=F_ARG3 => FieldValue::Number(number(v)?),
            F_SESSIONID => {
                if flags != FILTER_EXCLUDE && flags != FILTER_USER && !exit_like {
                    return Err(before(
                        name,
                        "must be used with exclude, user, or exit filter",
                    ));
                }
                if v == "unset" {
                    FieldValue::Number(UNSET)
                } else {
                    FieldValue::Number(number(v)?)
                }
            }
            F_SADDR_FAM => {
                if !starts_with_digit(v) {
                    return Err(after("-F value should be number for", name));
                }
                let fam = number(v)?;
                if fam >= AF_MAX {
                    return Err(after("value is too large for field:", name));
                }
                FieldValue::Number(fam)
            }
            F_LOGINUID_SET => {
                eq_ne()?;
                if !starts_with_digit(v) {
                    return Err(after("-F value should be number for", name));
                }
                FieldValue::Number(number(v)?)
            }
            _ => {
                if matches!(field, F_DEVMAJOR | F_DEVMINOR | F_INODE | F_SUCCESS) {
                    exit_only()?;
                }
                if field == F_INODE {
                    eq_ne()?;
                }
                if field == F_PPID && !exit_like {
                    return Err(before(name, "can only be used with exit filter list"));
                }
                if !starts_with_digit(v) {
                    return Err(after("-F value should be number for", name));
                }
                FieldValue::Number(number(v)?)
            }
        };
        self.rule.fields.push(RuleField { field, op, value });
        Ok(())
    }

    /// `audit_determine_machine` + the elf checks of the `AUDIT_ARCH` case.
    fn determine_arch(&self, v: &str) -> Result<AuditArch, &'static str> {
        if starts_with_digit(v) {
            let arch = parse_c_unsigned(v)
                .and_then(|n| u32::try_from(n).ok())
                .ok_or("elf mapping not found")?;
            return if lookup::arch_is_known(arch) {
                Ok(arch)
            } else {
                Err("elf mapping not found")
            };
        }
        let host = || self.env.host_arch().ok_or("machine type not found");
        if v.eq_ignore_ascii_case("b64") {
            let h = host()?;
            return if h & ARCH_64BIT != 0 {
                Ok(h)
            } else {
                Err("requested bit level not supported by machine")
            };
        }
        if v.eq_ignore_ascii_case("b32") {
            let h = host()?;
            return if h & ARCH_64BIT == 0 {
                Ok(h)
            } else {
                lookup::arch_32bit_of(h).ok_or("requested bit level not supported by machine")
            };
        }
        if let Some(a) = lookup::machine_arch(v) {
            return Ok(a);
        }
        // libaudit's last resort: the value as a hex AUDIT_ARCH number.
        u32::from_str_radix(v.trim_start_matches("0x").trim_start_matches("0X"), 16)
            .ok()
            .filter(|&a| lookup::arch_is_known(a))
            .ok_or("elf mapping not found")
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
            let key = std::mem::take(&mut self.key);
            let (pos, token) = self.key_pos.clone().unwrap_or((0, key.clone()));
            self.fieldpair(&format!("key={key}"), flags)
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
pub(crate) mod tests {
    use super::*;
    use crate::audit::rules::tokens::shell_split;

    /// A resolver that does not depend on the machine running the tests.
    pub struct TestResolver;

    impl Resolver for TestResolver {
        fn host_arch(&self) -> Option<AuditArch> {
            Some(0xC000_003E)
        }
        fn user_id(&self, name: &str) -> Option<u32> {
            match name {
                "root" => Some(0),
                "nobody" => Some(65534),
                _ => None,
            }
        }
        fn group_id(&self, name: &str) -> Option<u32> {
            match name {
                "root" => Some(0),
                "adm" => Some(4),
                _ => None,
            }
        }
        fn is_dir(&self, path: &str) -> bool {
            path == "/etc" || path == "/tmp"
        }
    }

    pub fn parse(text: &str) -> Result<ParsedLine, RuleError> {
        parse_line(&shell_split(text)?, &TestResolver, None)
    }

    pub fn rule(text: &str) -> AuditRule {
        match parse(text).unwrap().commands.pop() {
            Some(Command::AddRule(r)) | Some(Command::DeleteRule(r)) => r,
            other => panic!("not a rule: {other:?}"),
        }
    }

    fn error(text: &str) -> String {
        parse(text).unwrap_err().message
    }

    #[test]
    fn issue_example() {
        let r = rule("-a always,exit -F arch=b64 -S openat,open -F exit=-EACCES -F auid>=1000 -F auid!=unset -k access");
        assert_eq!(r.list, FILTER_EXIT);
        assert_eq!(r.action, ACTION_ALWAYS);
        assert_eq!(r.mask[0], 0x4);
        assert_eq!(r.mask[8], 0x2);
        assert_eq!(
            r.fields,
            vec![
                RuleField::number(F_ARCH, OP_EQUAL, 0xC000_003E),
                RuleField::number(F_EXIT, OP_EQUAL, (-13i32) as u32),
                RuleField::number(F_LOGINUID, OP_GREATER_THAN_OR_EQUAL, 1000),
                RuleField::number(F_LOGINUID, OP_NOT_EQUAL, u32::MAX),
                RuleField::text(F_FILTERKEY, OP_EQUAL, "access"),
            ]
        );
    }

    #[test]
    fn watches() {
        let r = rule("-w /etc/shadow -p wa -k identity");
        assert!(r.all_syscalls());
        assert_eq!(
            r.fields[0],
            RuleField::text(F_WATCH, OP_EQUAL, "/etc/shadow")
        );
        assert_eq!(r.fields[1], RuleField::number(F_PERM, OP_EQUAL, 10));
        let r = rule("-w /etc/ -k x");
        assert_eq!(r.fields[0], RuleField::text(F_DIR, OP_EQUAL, "/etc"));
        assert_eq!(r.fields[1], RuleField::number(F_PERM, OP_EQUAL, 15));
        match parse("-W /etc/shadow").unwrap().commands.pop() {
            Some(Command::DeleteRule(_)) => {}
            other => panic!("{other:?}"),
        }
        assert_eq!(error("-w etc/shadow"), "The path must start with '/'");
        assert_eq!(
            error("-w /etc/shadow -p wz"),
            "Permission z isn't supported"
        );
        assert_eq!(
            error("-a always,exit -w /etc"),
            "watch option can't be given with a syscall"
        );
    }

    #[test]
    fn prepend_and_defaults() {
        let r = rule("-A always,exit -F arch=b64 -S open");
        assert!(r.prepend);
        let r = rule("-a always,exit -F uid=0");
        assert!(r.all_syscalls());
        let r = rule("-a always,task -F uid=0");
        assert_eq!(r.mask, [0; BITMASK_SIZE]);
        let r = rule("-a exit,always -S open");
        assert_eq!((r.list, r.mask[0]), (FILTER_EXIT, 4));
        assert!(r.arch().is_none());
    }

    #[test]
    fn keys_are_joined_and_last() {
        let r = rule("-a always,exit -F arch=b64 -S open -k a -F key=b -F uid=0");
        assert_eq!(
            r.fields.last().unwrap(),
            &RuleField::text(F_FILTERKEY, OP_EQUAL, "a\x01b")
        );
        assert_eq!(r.keys(), vec![b"a".to_vec(), b"b".to_vec()]);
        assert_eq!(
            error("-a always,exit -F uid=0 -k foo"),
            "key option needs a watch or syscall given prior to it"
        );
        assert_eq!(
            error("-a always,exit -F key=foo"),
            "Key field needs a watch, syscall or exe path given prior to it"
        );
        assert_eq!(
            error(&format!("-a always,exit -S open -k {}", "k".repeat(257))),
            "key option exceeds size limit"
        );
    }

    #[test]
    fn auditctl_error_texts() {
        for (text, msg) in [
            (
                "-a always,exit -S open -F arch=b64",
                "arch must be before -S",
            ),
            (
                "-a always,exit -F arch=bogus -S open",
                "arch elf mapping not found",
            ),
            (
                "-a always,task -S open",
                "Error: syscall auditing being added to task list",
            ),
            (
                "-a always,user -S open",
                "Error: syscall auditing being added to user list",
            ),
            (
                "-a always,exclude -S open",
                "Error: syscall auditing cannot be put on exclude list",
            ),
            (
                "-a always,filesystem -S open",
                "Error: syscall auditing being added to filesystem list",
            ),
            (
                "-a always,exclude -F exit=1",
                "Only msgtype, *uid, *gid, pid, and subj* fields can be used with exclude filter",
            ),
            (
                "-a always,task -F exit=1",
                "exit can only be used with exit filter list",
            ),
            (
                "-a always,exit -F msgtype=CWD",
                "msgtype field can only be used with exclude or user filter list",
            ),
            (
                "-a always,exit -S open -F perm=z",
                "Permission can only contain  'rwxa'",
            ),
            (
                "-a always,exit -S open -F perm!=r",
                "perm only takes = operator",
            ),
            (
                "-a always,exit -S open -F filetype=bogus",
                "-F unknown file type -  filetype",
            ),
            (
                "-a always,exit -S open -F inode>5",
                "inode only takes = or != operators",
            ),
            (
                "-a always,exit -S open -F exe>/bin/x",
                "exe only takes = or != operators",
            ),
            (
                "-a always,exit -S open -F fstype=tracefs",
                "fstype field is not valid for the filter",
            ),
            (
                "-a always,filesystem -F fstype=ext4",
                "file system type is unknown for field: fstype",
            ),
            (
                "-a always,exit -S open -F saddr_fam=99",
                "value is too large for field: saddr_fam",
            ),
            (
                "-a always,task -F sessionid=1",
                "sessionid must be used with exclude, user, or exit filter",
            ),
            (
                "-a always,exit -S open -F pid=abc",
                "-F value should be number for pid",
            ),
            (
                "-a always,task -F ppid=1",
                "ppid can only be used with exit filter list",
            ),
            (
                "-a always,exit -S open -F uid",
                "-F missing operation for uid",
            ),
            (
                "-a always,exit -S open -F uid=",
                "-F missing value after operation for uid",
            ),
            (
                "-a always,exit -S open -F nosuch=1",
                "-F unknown field: nosuch",
            ),
            (
                "-a always,exit -S open -C uid=gid",
                "-C incompatible comparison uid",
            ),
            (
                "-a always,exit -S open -C uid<euid",
                "uid<euid only takes = or != operators",
            ),
            (
                "-a always,exit -S open -C uid=nosuch",
                "-C unknown right hand value for comparison with: uid",
            ),
            (
                "-a always,exit -S open -C nosuch=uid",
                "-C unknown field: nosuch",
            ),
            (
                "-a always,task -C uid=euid",
                "uid can only be used with exit filter list",
            ),
            (
                "-a always,exit -S open -F auid=nosuchuser",
                "Unknown user: nosuchuser",
            ),
            (
                "-a always,exit -S open -F gid=nosuchgroup",
                "Unknown group: nosuchgroup",
            ),
            (
                "-a always,exit -S open -F exit=-ENOSUCH",
                "-F unknown errno - exit",
            ),
            (
                "-a always,exit -F arch=b64 -S nosuchcall",
                "Syscall name unknown: nosuchcall",
            ),
            (
                "-a always,exit -F arch=b64 -S 2048",
                "Syscall name unknown: 2048",
            ),
            (
                "-a possible,exit -S open",
                "Append rule - bad keyword possible,exit",
            ),
            (
                "-a always,bogus -S open",
                "Append rule - bad keyword always,bogus",
            ),
            ("-a exit -S open", "Append rule - bad keyword exit"),
            (
                "-a always,exit,x -S open",
                "Append rule - bad keyword always,exit,x",
            ),
            (
                "-S open -a always,task",
                "Syscall auditing requested for task list",
            ),
            ("-F uid=0 -a always,exit", "List must be given before field"),
            (
                "-a always,exit -S open -F uid=0 extra",
                "parameter passed without an option given",
            ),
            ("-a always,exit -S open -k", "Option -k is invalid"),
            (
                "-a always,exit -S open -p rw",
                "Permissions should be preceeded by other fields",
            ),
            ("-e 3", "Enable must be 0, 1, or 2 was 3"),
            ("-f x", "Failure must be 0, 1, or 2 was x"),
            ("-b x", "Backlog must be a numeric value was x"),
            ("-r x", "Rate must be a numeric value was x"),
            ("-D -b", "Wrong number of options for Delete all request"),
            ("-D -b 10", "Only the -k option is allowed"),
            (
                "-a always,exit -a always,exit",
                "Multiple rule insert/delete operations are not allowed",
            ),
        ] {
            assert_eq!(error(text), msg, "{text}");
        }
    }

    #[test]
    fn refuses_what_auditctl_silently_truncates() {
        assert_eq!(
            error("-a always,exit -S open -F uid=12abc"),
            "-F value should be number for uid"
        );
        assert_eq!(
            error("-a always,exit -S open -F uid=99999999999"),
            "value is too large for field: uid"
        );
        assert_eq!(
            error("-a always,exit -S open -F sessionid=abc"),
            "-F value should be number for sessionid"
        );
        assert_eq!(
            error("-a always,exit -S open -F saddr_fam=x"),
            "-F value should be number for saddr_fam"
        );
    }

    #[test]
    fn value_forms() {
        let r = rule("-a always,exit -F arch=b64 -S open -F uid=010 -F a0=-1 -F exit=EPERM -F uid=root -F gid=adm");
        let values: Vec<_> = r.fields.iter().map(|f| f.value.clone()).collect();
        assert_eq!(
            values[1..],
            [
                FieldValue::Number(8),
                FieldValue::Number(u32::MAX),
                FieldValue::Number(1),
                FieldValue::Number(0),
                FieldValue::Number(4)
            ]
        );
        let r = rule("-a always,exit -F arch=b32 -F arch!=i386 -S open -F exit=-eacces");
        assert_eq!(
            r.fields[0],
            RuleField::number(F_ARCH, OP_EQUAL, 0x4000_0003)
        );
        assert_eq!(
            r.fields[1],
            RuleField::number(F_ARCH, OP_NOT_EQUAL, 0x4000_0003)
        );
        assert_eq!(r.mask[0], 1 << 5);
        let r = rule("-a always,user -F msgtype=user_login");
        assert_eq!(r.fields[0], RuleField::number(F_MSGTYPE, OP_EQUAL, 1112));
        let r = rule("-a always,filesystem -F fstype=TRACEFS -k t");
        assert_eq!(
            r.fields[0],
            RuleField::number(F_FSTYPE, OP_EQUAL, 0x7472_6163)
        );
        let r = rule("-a always,exit -F arch=b64 -S all -C UID!=EUID -F loginuid_set=1");
        assert_eq!(
            r.fields[1],
            RuleField::number(F_FIELD_COMPARE, OP_NOT_EQUAL, 11)
        );
        assert_eq!(r.fields[2], RuleField::number(F_LOGINUID_SET, OP_EQUAL, 1));
        let r = rule("-a always,exit -F arch=b64 -Sopen -Fuid=0");
        assert_eq!(r.fields[1], RuleField::number(F_UID, OP_EQUAL, 0));
    }

    #[test]
    fn io_uring_list() {
        let r = rule("-a always,io_uring -U openat,connect -F key=io");
        assert_eq!(r.list, FILTER_URING_EXIT);
        assert_eq!(r.mask[0], (1 << 18) | (1 << 16));
        let r = rule("-a always,uring -F uid=0");
        assert!(r.all_syscalls());
        assert_eq!(
            error("-a always,io_uring -S open"),
            "Error: syscall auditing cannot be put on uringop list"
        );
        assert_eq!(
            error("-a always,exit -U openat"),
            "Error: uringop auditing cannot be put on syscall list"
        );
        assert_eq!(
            error("-a always,io_uring -F perm=r"),
            "perm can only be used with exit filter list"
        );
    }

    #[test]
    fn control_lines() {
        assert_eq!(
            parse("-D").unwrap().commands,
            vec![Command::DeleteAll { key: None }]
        );
        assert_eq!(
            parse("-D -k foo").unwrap().commands,
            vec![Command::DeleteAll {
                key: Some("foo".into())
            }]
        );
        assert_eq!(
            parse("-b 8192").unwrap().commands,
            vec![Command::SetBacklogLimit(8192)]
        );
        assert_eq!(
            parse("-e 2").unwrap().commands,
            vec![Command::SetEnabled(2)]
        );
        assert_eq!(
            parse("-f 0x1").unwrap_err().message,
            "Failure must be 0, 1, or 2 was 0x1"
        );
        assert_eq!(
            parse("--backlog_wait_time 60000").unwrap().commands,
            vec![Command::SetBacklogWaitTime(60000)]
        );
        assert_eq!(
            parse("--backlog_wait_time=1").unwrap().commands,
            vec![Command::SetBacklogWaitTime(1)]
        );
        assert_eq!(
            parse("--loginuid-immutable").unwrap().commands,
            vec![Command::LoginuidImmutable]
        );
        assert_eq!(
            parse("--loginuid").unwrap().commands,
            vec![Command::LoginuidImmutable]
        );
        assert_eq!(parse("-i").unwrap().commands, vec![Command::IgnoreErrors]);
        assert_eq!(
            parse("-c").unwrap().commands,
            vec![Command::ContinueOnErrors]
        );
        assert_eq!(
            parse("-r 0 -b 10").unwrap().commands,
            vec![Command::SetRateLimit(0), Command::SetBacklogLimit(10)]
        );
        assert!(parse("--bogus").is_err());
        assert!(parse("").is_err());
    }

    #[test]
    fn error_positions_point_at_the_argument() {
        let text = "-a always,exit -F arch=b64 -S open -F nosuch=1";
        let e = parse(text).unwrap_err();
        assert_eq!(e.position, Some(text.find("nosuch").unwrap()));
        assert_eq!(e.token.as_deref(), Some("nosuch=1"));
    }
}
