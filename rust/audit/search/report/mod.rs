//! aureport's reports: the default summary, the detailed reports (`-x`,
//! `-k`, `-f`, `-u`, `-l`, `-au`, `-m`, `-c`, `-s`, `-e`, `-p`, `-tm`, `-h`,
//! `-n`, `--comm`, `-ma`, `--integrity`, `--virt`, `-cr`, `-r`) and their
//! `--summary` counts, aggregated over the events
//! as audit-userspace 3.0.9 `src/aureport-scan.c` and `aureport-output.c`
//! count and print them (written from their description).

use super::avc::{Avc, Verdict};
use super::group::Group;
use super::items::{Items, Needs};
use super::output::{date, date_time, time_of_day, tty_escaped};
use crate::audit::tables::{self, msg};

/// Which report.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Kind {
    Summary,
    Executable,
    Key,
    File,
    User,
    Login,
    Auth,
    Mods,
    Config,
    Syscall,
    Event,
    Pid,
    Terminal,
    Host,
    Anomaly,
    Comm,
    /// `-ma`: MAC policy and labelled-security user messages.
    Mac,
    /// `--integrity`, `--virt`, `-cr` (crypto), `-r` (responses to anomalies).
    Integrity,
    Virt,
    Crypto,
    Response,
    /// `-a`: one line per AVC decision; `--summary` counts the objects.
    Avc,
    /// `--tty`: the keystrokes of TTY and USER_TTY records.
    Tty,
    /// `-t`: the time range of each log file.
    Time,
}

impl Kind {
    /// aureport has no `--summary` form of the log time and TTY reports
    /// (it prints an empty line and "Unimplemented option").
    pub fn has_summary(self) -> bool {
        !matches!(self, Kind::Tty | Kind::Time)
    }
}

/// How the report is asked for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Options {
    pub kind: Kind,
    /// `--summary` (counts per value instead of one line per event).
    pub summary: bool,
    /// `--failed` (Some(false)) / `--success` (Some(true)).
    pub success: Option<bool>,
    /// `-i`: names instead of numbers.
    pub interpret: bool,
    pub start: Option<u64>,
    pub end: Option<u64>,
    pub nodes: Vec<Vec<u8>>,
}

/// One output line: the columns after the line number (detailed) or the
/// count and value (summary).
pub type Row = Vec<Vec<u8>>;

/// Counts kept in first-seen order (aureport's `slist`), or sorted by value
/// (its `ilist` of numbers).
#[derive(Debug, Default)]
struct Tally {
    order: Vec<(Vec<u8>, u64)>,
    index: std::collections::HashMap<Vec<u8>, usize>,
}

impl Tally {
    fn add(&mut self, v: &[u8]) {
        match self.index.get(v) {
            Some(&i) => self.order[i].1 += 1,
            None => {
                self.index.insert(v.to_vec(), self.order.len());
                self.order.push((v.to_vec(), 1));
            }
        }
    }
    fn len(&self) -> usize {
        self.order.len()
    }
    /// By count, most first; ties keep their order (aureport's stable sort).
    fn sorted(&self) -> Vec<(Vec<u8>, u64)> {
        let mut v = self.order.clone();
        v.sort_by_key(|e| std::cmp::Reverse(e.1));
        v
    }
}

#[derive(Debug, Default)]
struct IntTally(std::collections::BTreeMap<i64, u64>);

impl IntTally {
    fn add(&mut self, n: i64) {
        *self.0.entry(n).or_default() += 1;
    }
    fn sorted(&self) -> Vec<(i64, u64)> {
        let mut v: Vec<_> = self.0.iter().map(|(&k, &c)| (k, c)).collect();
        v.sort_by_key(|e| std::cmp::Reverse(e.1));
        v
    }
}

#[derive(Debug, Default)]
struct Totals {
    changes: u64,
    acct_changes: u64,
    crypto: u64,
    good_logins: u64,
    bad_logins: u64,
    good_auth: u64,
    bad_auth: u64,
    avcs: u64,
    mac: u64,
    virt: u64,
    integ: u64,
    failed_syscalls: u64,
    anomalies: u64,
    responses: u64,
    events: u64,
    users: Tally,
    terms: Tally,
    hosts: Tally,
    exes: Tally,
    comms: Tally,
    files: Tally,
    keys: Tally,
    pids: IntTally,
}

/// First and last event time stamps (seconds, milliseconds).
type TimeRange = ((u64, u32), (u64, u32));

/// An aureport run in progress: feed events, then take the text or rows.
#[derive(Debug)]
pub struct Report {
    opts: Options,
    needs: Needs,
    rows: Vec<(u64, Row)>,
    values: Tally,
    types: IntTally,
    sum: Totals,
    first_line: Option<(u64, u32)>,
    last_event: Option<(u64, u32)>,
    /// First and last event of the file being read, and the ranges of the
    /// files read (the log time report).
    file_range: Option<TimeRange>,
    files: Vec<(Vec<u8>, Option<TimeRange>)>,
}

const FIRST_USER_LSPP_MSG: u16 = 2300;
const LAST_USER_LSPP_MSG: u16 = 2399;
const FIRST_VIRT_MSG: u16 = 2500;
const LAST_VIRT_MSG: u16 = 2599;
const FIRST_KERN_CRYPTO_MSG: u16 = 1600;
const LAST_KERN_CRYPTO_MSG: u16 = 1699;
const FIRST_CRYPTO_MSG: u16 = 2400;
const LAST_CRYPTO_MSG: u16 = 2499;
const LAST_KERN_ANOM_MSG: u16 = 1799;
const LAST_ANOM_MSG: u16 = 2199;
const LAST_ANOM_RESP: u16 = 2299;
const INTEGRITY_LAST_MSG: u16 = 1899;

fn has(g: &Group, t: u16) -> bool {
    g.lines.iter().any(|l| l.rtype == t)
}

fn has_range(g: &Group, lo: u16, hi: u16) -> bool {
    g.lines.iter().any(|l| (lo..=hi).contains(&l.rtype))
}

fn is_config(g: &Group) -> bool {
    has(g, msg::CONFIG_CHANGE)
        || has(g, msg::DAEMON_CONFIG)
        || has(g, msg::USYS_CONFIG)
        || has(g, msg::NETFILTER_CFG)
        || has(g, msg::FEATURE_CHANGE)
        || has(g, msg::USER_MAC_CONFIG_CHANGE)
        || has_range(g, msg::MAC_POLICY_LOAD, msg::MAC_UNLBL_STCDEL)
}

fn is_acct_mod(g: &Group) -> bool {
    has(g, msg::USER_CHAUTHTOK)
        || has_range(g, msg::ADD_USER, msg::DEL_GROUP)
        || has(g, msg::USER_MGMT)
        || has(g, msg::GRP_MGMT)
        || has_range(g, msg::ROLE_ASSIGN, msg::ROLE_REMOVE)
}

fn is_anomaly(g: &Group) -> bool {
    has_range(g, msg::FIRST_ANOM_MSG, LAST_ANOM_MSG)
        || has_range(g, msg::FIRST_KERN_ANOM_MSG, LAST_KERN_ANOM_MSG)
        || has(g, msg::SECCOMP)
}

const FAILED: u64 = 0;
const SUCCEEDED: u64 = 1;

fn success_word(s: Option<u64>) -> &'static [u8] {
    match s {
        Some(FAILED) => b"no",
        Some(SUCCEEDED) => b"yes",
        _ => b"unset",
    }
}

/// The AVC decisions that say denied or granted.
fn decided(s: &Items) -> impl Iterator<Item = &Avc> {
    s.avcs.iter().filter(|a| a.verdict != Verdict::Unset)
}

/// `--tty`: the head record's `data=` value (up to its last space), its
/// hex decoded and shown as libaudit shows keystrokes; `None` when the
/// record has no `data=` (aureport then prints only the line's number and
/// date).
fn tty_data(g: &Group) -> Option<Vec<u8>> {
    let raw = g.lines.first()?.raw();
    let p = memchr::memmem::find(raw, b"data=")?;
    let rest = &raw[p + 5..];
    let v = &rest[..memchr::memrchr(b' ', rest).unwrap_or(rest.len())];
    if !v.iter().all(u8::is_ascii_hexdigit) {
        return Some(v.to_vec());
    }
    if v.len() < 2 {
        let mut out = b"conversion error(".to_vec();
        out.extend_from_slice(v);
        out.push(b')');
        return Some(out);
    }
    // aureport shows len/2 bytes: an odd last digit is dropped.
    let even = &v[..v.len() & !1];
    let mut line = b"type=TTY msg=audit(1.000:1): data=".to_vec();
    line.extend_from_slice(even);
    let rec = crate::audit::records::parse_log_line(&line).ok();
    Some(
        rec.and_then(|r| crate::audit::records::interpret(&r, b"data"))
            .unwrap_or_default(),
    )
}

fn first(v: &Option<Vec<Vec<u8>>>) -> Vec<u8> {
    v.as_ref()
        .and_then(|l| l.first())
        .cloned()
        .unwrap_or_default()
}

/// A column of a detailed report's line.
#[derive(Debug, Clone, Copy)]
enum Col {
    Exe,
    Comm,
    Term,
    Host,
    Acct,
    /// The executable, else the command (anomaly report).
    ExeOrComm,
    Auid,
    Serial,
    Success,
    Sys,
    Pid,
    Type,
    Session,
    FirstKey,
    FirstFile,
    /// Login report: the account of a failed login, else the auid.
    LoginWho,
    /// Auth report: the account, else the uid.
    AuthWho,
    TtyData,
}

impl Report {
    pub fn new(opts: Options) -> Report {
        let mut n = Needs {
            pid: true,
            success: true,
            ..Needs::default()
        };
        use Kind::*;
        match opts.kind {
            Summary => {
                n.filename = true;
                n.hostname = true;
                n.terminal = true;
                n.exe = true;
                n.comm = true;
                n.key = true;
                n.loginuid = true;
            }
            Executable | Terminal => {
                (n.terminal, n.hostname, n.exe, n.loginuid) = (true, true, true, true);
            }
            Key => (n.exe, n.key, n.loginuid) = (true, true, true),
            File => (n.filename, n.exe, n.loginuid) = (true, true, true),
            User => {
                (n.terminal, n.hostname, n.exe, n.uid, n.loginuid) = (true, true, true, true, true);
            }
            Login | Mods => (n.exe, n.hostname, n.terminal, n.loginuid) = (true, true, true, true),
            Auth => (n.exe, n.hostname, n.terminal, n.uid) = (true, true, true, true),
            Config | Event | Mac | Crypto => n.loginuid = true,
            Integrity | Virt | Response | Time => {}
            Avc => (n.comm, n.subject, n.object) = (true, true, true),
            Tty => (n.session, n.loginuid, n.terminal, n.comm) = (true, true, true, true),
            Syscall => (n.comm, n.loginuid) = (true, true),
            Pid => (n.exe, n.loginuid) = (true, true),
            Host => (n.hostname, n.loginuid) = (true, true),
            Comm => (n.terminal, n.hostname, n.comm, n.loginuid) = (true, true, true, true),
            Anomaly => {
                (n.terminal, n.hostname, n.exe, n.comm, n.loginuid) =
                    (true, true, true, true, true);
            }
        }
        Report {
            opts,
            needs: n,
            rows: Vec::new(),
            values: Tally::default(),
            types: IntTally::default(),
            sum: Totals::default(),
            first_line: None,
            last_event: None,
            file_range: None,
            files: Vec::new(),
        }
    }

    /// The end of one input file: aureport's summary ends its time range
    /// at the last file's last event, and `-t` prints each file's range.
    pub fn file_done(&mut self, name: &[u8]) {
        let range = self.file_range.take();
        self.last_event = range.map(|r| r.1);
        self.files.push((name.to_vec(), range));
    }

    /// The time of the first line read (aureport's "range of time" start).
    pub fn saw_line(&mut self, sec: u64, milli: u32) {
        if self.first_line.is_none() {
            self.first_line = Some((sec, milli));
        }
    }

    fn uid_text(&self, uid: u64, g: &Group) -> Vec<u8> {
        let signed = uid as u32 as i32;
        if !self.opts.interpret {
            return signed.to_string().into_bytes();
        }
        if signed == -1 {
            return b"unset".to_vec();
        }
        if let Some(name) = head_enrichment(g, b"AUID") {
            return name;
        }
        crate::audit::records::interpret::lookup_passwd(uid as u32)
            .map_or_else(|| format!("unknown({signed})").into_bytes(), Vec::from)
    }

    fn syscall_text(&self, s: &Items, g: &Group) -> Vec<u8> {
        let nr = s.syscall.unwrap_or(0) as i64 as i32;
        if !self.opts.interpret {
            return nr.to_string().into_bytes();
        }
        if let Some(name) = head_enrichment(g, b"SYSCALL") {
            return name;
        }
        let machine = s
            .arch
            .and_then(|a| tables::machine_for_audit_arch(a as u32));
        match machine.and_then(|m| tables::syscall_name(m, nr as u32)) {
            Some(n) => n.as_bytes().to_vec(),
            None if machine.is_none() => b"?".to_vec(),
            None => nr.to_string().into_bytes(),
        }
    }

    fn type_text(&self, t: u16) -> Vec<u8> {
        tables::libaudit_message_type_name(t)
            .map_or_else(|| b"(null)".to_vec(), |n| n.as_bytes().to_vec())
    }

    /// Account one event.
    pub fn add(&mut self, g: &Group) {
        let at = (g.stamp.sec, g.stamp.milli);
        self.file_range = Some(self.file_range.map_or((at, at), |r| (r.0, at)));
        if self.opts.start.is_some_and(|s| g.stamp.sec < s)
            || self.opts.end.is_some_and(|e| g.stamp.sec > e)
        {
            return;
        }
        let Ok(s) = Items::extract(g, &self.needs) else {
            return;
        };
        if !self.opts.nodes.is_empty()
            && !g
                .node
                .as_ref()
                .is_some_and(|n| self.opts.nodes.iter().any(|x| **x == **n))
        {
            return;
        }
        match self.opts.success {
            Some(true) if s.success != Some(SUCCEEDED) => return,
            Some(false) if s.success != Some(FAILED) => return,
            _ => {}
        }
        if self.opts.kind == Kind::Summary {
            self.summary_total(g, &s);
        } else if self.opts.summary {
            self.count(g, &s);
        } else {
            self.detail(g, &s);
        }
    }

    fn count(&mut self, g: &Group, s: &Items) {
        use Kind::*;
        let head = g.first_type;
        match self.opts.kind {
            Executable => s.exe.iter().for_each(|v| self.values.add(v)),
            Comm => s.comm.iter().for_each(|v| self.values.add(v)),
            Terminal => s.terminal.iter().for_each(|v| self.values.add(v)),
            Host => s.hostname.iter().for_each(|v| self.values.add(v)),
            File => s
                .filenames
                .iter()
                .flatten()
                .for_each(|v| self.values.add(v)),
            Key => s
                .keys
                .iter()
                .flatten()
                .filter(|k| k.as_slice() != b"(null)")
                .for_each(|v| self.values.add(v)),
            Pid if s.pid != -1 => self.types.add(s.pid),
            Syscall if s.syscall.unwrap_or(0) as i64 as i32 > 0 => {
                let t = self.syscall_text(s, g);
                self.values.add(&t);
            }
            User if s.loginuid != (u32::MAX - 1) as u64 => {
                let t = self.uid_text(s.loginuid, g);
                self.values.add(&t);
            }
            Login if has(g, msg::USER_LOGIN) => {
                let t = match &s.acct {
                    Some(a) if (s.loginuid as u32 as i32) < 0 => a.clone(),
                    _ => self.uid_text(s.loginuid, g),
                };
                self.values.add(&t);
            }
            Auth if has(g, msg::USER_AUTH)
                || (has(g, msg::USER_MGMT) && s.success == Some(FAILED)) =>
            {
                let t = match &s.acct {
                    Some(a) if s.loginuid == (u32::MAX - 1) as u64 => a.clone(),
                    _ => self.uid_text(s.loginuid, g),
                };
                self.values.add(&t);
            }
            Config if is_config(g) => self.types.add(i64::from(head)),
            Mods if is_acct_mod(g) => self.types.add(i64::from(head)),
            Anomaly if is_anomaly(g) => self.types.add(i64::from(head)),
            // aureport counts a narrower MAC range here than in the
            // detailed report (up to MAC_MAP_DEL).
            Mac if has_range(g, msg::MAC_POLICY_LOAD, msg::MAC_MAP_DEL)
                || has_range(g, FIRST_USER_LSPP_MSG, LAST_USER_LSPP_MSG) =>
            {
                self.types.add(i64::from(head))
            }
            Integrity | Virt | Crypto | Response if self.in_typed_report(g) => {
                self.types.add(i64::from(head))
            }
            Event => self.types.add(i64::from(head)),
            Avc => decided(s)
                .filter_map(|a| a.tcontext.as_ref())
                .for_each(|t| self.values.add(t)),
            _ => {}
        }
    }

    /// `-a`: a line per decided AVC of the event (or its last AVC when none
    /// says denied or granted, as aureport's list cursor then rests there).
    fn avc_lines(&mut self, g: &Group, s: &Items) {
        if !has(g, msg::AVC) && !has(g, msg::USER_AVC) {
            return;
        }
        let mut avcs: Vec<&Avc> = decided(s).collect();
        if avcs.is_empty() {
            avcs.extend(s.avcs.last());
        }
        let null = |v: &Option<Vec<u8>>| v.clone().unwrap_or_else(|| b"(null)".to_vec());
        for a in avcs {
            let row = vec![
                s.comm.clone().unwrap_or_else(|| b"?".to_vec()),
                null(&a.scontext),
                self.syscall_text(s, g),
                null(&a.class),
                null(&a.perm),
                null(&a.tcontext),
                a.verdict.word().to_vec(),
                g.stamp.serial.to_string().into_bytes(),
            ];
            self.rows.push((g.stamp.sec, row));
        }
    }

    /// The columns of the event's line in the detailed report, if it has one.
    fn columns(&self, g: &Group, s: &Items) -> Option<&'static [Col]> {
        use Col as C;
        use Kind::*;
        let first_key = s.keys.as_ref().and_then(|k| k.first());
        Some(match self.opts.kind {
            Executable if s.exe.is_some() => &[C::Exe, C::Term, C::Host, C::Auid, C::Serial],
            Comm if s.comm.is_some() => &[C::Comm, C::Term, C::Host, C::Auid, C::Serial],
            Key if first_key.is_some_and(|k| k.as_slice() != b"(null)") => {
                &[C::FirstKey, C::Success, C::Exe, C::Auid, C::Serial]
            }
            File if s.filenames.is_some() => {
                &[C::FirstFile, C::Sys, C::Success, C::Exe, C::Auid, C::Serial]
            }
            User if s.uid != u32::MAX as u64 => &[C::Auid, C::Term, C::Host, C::Exe, C::Serial],
            Login if has(g, msg::USER_LOGIN) => {
                &[C::LoginWho, C::Host, C::Term, C::Exe, C::Success, C::Serial]
            }
            Auth if has(g, msg::USER_AUTH)
                || (has(g, msg::USER_MGMT) && s.success == Some(FAILED)) =>
            {
                &[C::AuthWho, C::Host, C::Term, C::Exe, C::Success, C::Serial]
            }
            Mods if is_acct_mod(g) => &[
                C::Auid,
                C::Host,
                C::Term,
                C::Exe,
                C::Acct,
                C::Success,
                C::Serial,
            ],
            Config if is_config(g) => &[C::Type, C::Auid, C::Success, C::Serial],
            Mac | Crypto if self.in_typed_report(g) => &[C::Auid, C::Type, C::Success, C::Serial],
            Integrity | Virt | Response if self.in_typed_report(g) => {
                &[C::Type, C::Success, C::Serial]
            }
            Syscall if s.syscall.unwrap_or(0) != 0 => {
                &[C::Sys, C::Pid, C::Comm, C::Auid, C::Serial]
            }
            Event => &[C::Serial, C::Type, C::Auid, C::Success],
            Pid if s.pid >= 0 => &[C::Pid, C::Exe, C::Sys, C::Auid, C::Serial],
            Terminal if s.terminal.is_some() => &[C::Term, C::Host, C::Exe, C::Auid, C::Serial],
            Host if s.hostname.is_some() => &[C::Host, C::Sys, C::Auid, C::Serial],
            Anomaly if is_anomaly(g) => {
                &[C::Type, C::ExeOrComm, C::Term, C::Host, C::Auid, C::Serial]
            }
            Tty if matches!(g.first_type, msg::TTY | msg::USER_TTY) => {
                &[C::Serial, C::Auid, C::Term, C::Session, C::Comm, C::TtyData]
            }
            _ => return None,
        })
    }

    /// One column's text; a missing value is `?` or, in the login, auth,
    /// terminal and host reports, `(null)` (aureport prints a NULL there).
    fn cell(&self, c: Col, g: &Group, s: &Items) -> Vec<u8> {
        let missing: &[u8] = match self.opts.kind {
            Kind::Login | Kind::Auth | Kind::Terminal | Kind::Host => b"(null)",
            _ => b"?",
        };
        let text = |v: &Option<Vec<u8>>| v.clone().unwrap_or_else(|| missing.to_vec());
        match c {
            Col::Exe => text(&s.exe),
            Col::Comm => text(&s.comm),
            Col::Term => text(&s.terminal),
            Col::Host => text(&s.hostname),
            Col::Acct => text(&s.acct),
            Col::ExeOrComm => text(&s.exe.clone().or_else(|| s.comm.clone())),
            Col::Auid => self.uid_text(s.loginuid, g),
            Col::Serial => g.stamp.serial.to_string().into_bytes(),
            Col::Success => success_word(s.success).to_vec(),
            Col::Sys => self.syscall_text(s, g),
            Col::Pid => (s.pid as u32).to_string().into_bytes(),
            Col::Type => self.type_text(g.first_type),
            Col::Session => (s.session as u32).to_string().into_bytes(),
            Col::FirstKey => first(&s.keys),
            Col::FirstFile => first(&s.filenames),
            Col::LoginWho => match &s.acct {
                Some(a) if s.success == Some(FAILED) => a.clone(),
                _ => self.uid_text(s.loginuid, g),
            },
            Col::AuthWho => s.acct.clone().unwrap_or_else(|| self.uid_text(s.uid, g)),
            Col::TtyData => tty_data(g).unwrap_or_default(),
        }
    }

    fn detail(&mut self, g: &Group, s: &Items) {
        if self.opts.kind == Kind::Avc {
            return self.avc_lines(g, s);
        }
        if self.opts.kind == Kind::Tty && self.columns(g, s).is_some() && tty_data(g).is_none() {
            // An empty row: the line's number and date only.
            return self.rows.push((g.stamp.sec, Vec::new()));
        }
        if let Some(cols) = self.columns(g, s) {
            let row = cols.iter().map(|&c| self.cell(c, g, s)).collect();
            self.rows.push((g.stamp.sec, row));
        }
    }

    /// Does the event belong in the MAC (detailed), integrity, virt,
    /// crypto or response report?
    fn in_typed_report(&self, g: &Group) -> bool {
        match self.opts.kind {
            Kind::Mac => {
                has_range(g, msg::MAC_POLICY_LOAD, msg::MAC_UNLBL_STCDEL)
                    || has_range(g, FIRST_USER_LSPP_MSG, LAST_USER_LSPP_MSG)
            }
            Kind::Integrity => has_range(g, msg::INTEGRITY_DATA, INTEGRITY_LAST_MSG),
            Kind::Virt => has_range(g, FIRST_VIRT_MSG, LAST_VIRT_MSG),
            Kind::Crypto => {
                has_range(g, FIRST_KERN_CRYPTO_MSG, LAST_KERN_CRYPTO_MSG)
                    || has_range(g, FIRST_CRYPTO_MSG, LAST_CRYPTO_MSG)
            }
            Kind::Response => has_range(g, msg::FIRST_ANOM_RESP, LAST_ANOM_RESP),
            _ => false,
        }
    }

    fn summary_total(&mut self, g: &Group, s: &Items) {
        let d = &mut self.sum;
        d.events += 1;
        for t in [
            msg::CONFIG_CHANGE,
            msg::DAEMON_CONFIG,
            msg::USYS_CONFIG,
            msg::NETFILTER_CFG,
            msg::FEATURE_CHANGE,
            msg::USER_MAC_CONFIG_CHANGE,
        ] {
            d.changes += u64::from(has(g, t));
        }
        d.changes += u64::from(has_range(g, msg::MAC_POLICY_LOAD, msg::MAC_UNLBL_STCDEL));
        d.acct_changes += u64::from(has(g, msg::USER_CHAUTHTOK))
            + u64::from(has_range(g, msg::ADD_USER, msg::DEL_GROUP))
            + u64::from(has(g, msg::USER_MGMT))
            + u64::from(has(g, msg::GRP_MGMT))
            + u64::from(has_range(g, msg::ROLE_ASSIGN, msg::ROLE_REMOVE));
        d.crypto += u64::from(has_range(g, FIRST_KERN_CRYPTO_MSG, LAST_KERN_CRYPTO_MSG))
            + u64::from(has_range(g, FIRST_CRYPTO_MSG, LAST_CRYPTO_MSG));
        if has(g, msg::USER_LOGIN) {
            match s.success {
                Some(SUCCEEDED) => d.good_logins += 1,
                Some(FAILED) => d.bad_logins += 1,
                _ => {}
            }
        }
        if has(g, msg::USER_AUTH) || has(g, msg::GRP_AUTH) && !has(g, msg::USER_MGMT) {
            match s.success {
                Some(SUCCEEDED) => d.good_auth += 1,
                Some(FAILED) => d.bad_auth += 1,
                _ => {}
            }
        } else if has(g, msg::USER_MGMT) && s.success == Some(FAILED) {
            d.bad_auth += 1;
        }
        if s.loginuid != (u32::MAX - 1) as u64 {
            d.users
                .add((s.loginuid as u32 as i32).to_string().as_bytes());
        }
        s.terminal.iter().for_each(|v| d.terms.add(v));
        s.hostname.iter().for_each(|v| d.hosts.add(v));
        s.exe.iter().for_each(|v| d.exes.add(v));
        s.comm.iter().for_each(|v| d.comms.add(v));
        s.filenames.iter().flatten().for_each(|v| d.files.add(v));
        d.avcs += u64::from(has(g, msg::AVC) || has(g, msg::USER_AVC));
        d.mac += u64::from(has_range(g, msg::MAC_POLICY_LOAD, msg::MAC_UNLBL_STCDEL))
            + u64::from(has_range(g, FIRST_USER_LSPP_MSG, LAST_USER_LSPP_MSG));
        d.virt += u64::from(has_range(g, FIRST_VIRT_MSG, LAST_VIRT_MSG));
        d.integ += u64::from(has_range(g, msg::INTEGRITY_DATA, INTEGRITY_LAST_MSG));
        if s.success == Some(FAILED) && s.syscall.unwrap_or(0) as i64 as i32 > 0 {
            d.failed_syscalls += 1;
        }
        if s.pid != -1 {
            d.pids.add(s.pid);
        }
        d.anomalies += u64::from(has_range(g, msg::FIRST_ANOM_MSG, LAST_ANOM_MSG))
            + u64::from(has_range(g, msg::FIRST_KERN_ANOM_MSG, LAST_KERN_ANOM_MSG));
        d.responses += u64::from(has_range(g, msg::FIRST_ANOM_RESP, LAST_ANOM_RESP));
        s.keys
            .iter()
            .flatten()
            .filter(|k| k.as_slice() != b"(null)")
            .for_each(|v| d.keys.add(v));
    }
}

/// auditd's ENRICHED value of `name` on the event's first record, which
/// aureport loads for one-record events and SYSCALL events.
fn head_enrichment(g: &Group, name: &[u8]) -> Option<Vec<u8>> {
    if g.lines.len() != 1 && g.first_type != msg::SYSCALL {
        return None;
    }
    let e = g.lines.first()?.enrichment()?;
    e.split(|&c| c == b' ').find_map(|kv| {
        let v = kv.strip_prefix(name)?.strip_prefix(b"=")?;
        Some(
            v.strip_prefix(b"\"")
                .and_then(|v| v.strip_suffix(b"\""))
                .unwrap_or(v)
                .to_vec(),
        )
    })
}

mod text;
pub use text::Rows;
