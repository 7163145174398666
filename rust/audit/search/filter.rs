//! ausearch's search options and its matching rule (audit-userspace 3.0.9
//! `src/ausearch-match.c`): every given option must hold (AND); `-ua` ORs
//! uid, euid and auid; strings match as substrings unless `exact` (`-w`).

use super::group::Group;
use super::items::{Items, Needs};

const UNSET: u64 = u32::MAX as u64;
const UNSET_LOGINUID: u64 = UNSET - 1;

/// The options of one search. `None`/empty means "not given".
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Filter {
    /// `-ts` / `-te` as Unix seconds (also applied per line while grouping).
    pub start: Option<u64>,
    pub end: Option<u64>,
    /// `-a`: event serial.
    pub event_id: Option<u64>,
    /// `--node` (any of).
    pub nodes: Vec<Vec<u8>>,
    /// `-m`: record types (any record of the event).
    pub types: Vec<u16>,
    pub uid: Option<u64>,
    pub euid: Option<u64>,
    pub loginuid: Option<u64>,
    /// `-ua`: uid, euid or loginuid.
    pub any_uid: Option<u64>,
    pub gid: Option<u64>,
    pub egid: Option<u64>,
    /// `-ga`: gid or egid (both set to the value).
    pub any_gid: bool,
    pub pid: Option<i64>,
    pub ppid: Option<i64>,
    pub syscall: Option<u64>,
    pub session: Option<u64>,
    /// `-sv yes|no`.
    pub success: Option<bool>,
    /// `-sc NAME`: the syscall must also be on this machine's arch (the
    /// audit arch number, e.g. 0xc000003e).
    pub arch: Option<u64>,
    pub key: Option<Vec<u8>>,
    pub filename: Option<Vec<u8>>,
    pub hostname: Option<Vec<u8>>,
    pub terminal: Option<Vec<u8>>,
    pub exe: Option<Vec<u8>>,
    pub comm: Option<Vec<u8>>,
    /// `-e`: the syscall's exit value.
    pub exit: Option<i64>,
    /// `-su` (subject label), `-o` (object label); `-se` sets both and
    /// `any_context`: either may match.
    pub subject: Option<Vec<u8>>,
    pub object: Option<Vec<u8>>,
    pub any_context: bool,
    /// `-vm`, `-uu`: virtual machine name and uuid.
    pub vmname: Option<Vec<u8>>,
    pub uuid: Option<Vec<u8>>,
    /// `-w`: strings must match whole.
    pub exact: bool,
}

impl Filter {
    /// The items the options need.
    pub fn needs(&self) -> Needs {
        // ausearch treats -1 (and -2 for the login uid) as "not given" when
        // deciding what to extract.
        let given = |v: Option<u64>, unset: u64| v.is_some_and(|v| v != unset);
        let any = given(self.any_uid, UNSET);
        Needs {
            pid: self.pid.is_some_and(|p| p != -1),
            ppid: self.ppid.is_some_and(|p| p != -1),
            uid: given(self.uid, UNSET) || any,
            euid: given(self.euid, UNSET) || any,
            loginuid: given(self.loginuid, UNSET_LOGINUID) || any,
            gid: self.gid.is_some(),
            egid: self.egid.is_some(),
            session: self.session.is_some(),
            success: self.success.is_some(),
            key: self.key.is_some(),
            filename: self.filename.is_some(),
            hostname: self.hostname.is_some(),
            terminal: self.terminal.is_some(),
            exe: self.exe.is_some(),
            comm: self.comm.is_some(),
            exit: self.exit.is_some(),
            subject: self.subject.is_some(),
            object: self.object.is_some(),
            vmname: self.vmname.is_some(),
            uuid: self.uuid.is_some(),
        }
    }

    /// No option given: every event matches.
    pub fn is_empty(&self) -> bool {
        *self == Filter::default()
    }

    fn strmatch(&self, needle: &[u8], hay: &[u8]) -> bool {
        if self.exact {
            needle == hay
        } else {
            needle.is_empty() || memchr::memmem::find(hay, needle).is_some()
        }
    }

    fn opt_str(&self, needle: &Option<Vec<u8>>, hay: &Option<Vec<u8>>) -> bool {
        match (needle, hay) {
            (None, _) => true,
            (Some(_), None) => false,
            (Some(n), Some(h)) => self.strmatch(n, h),
        }
    }

    /// Does the event match? Like ausearch, an event whose needed fields are
    /// malformed never matches.
    pub fn matches(&self, g: &Group, needs: &Needs) -> bool {
        if self.start.is_some_and(|s| g.stamp.sec < s) || self.end.is_some_and(|e| g.stamp.sec > e)
        {
            return false;
        }
        if self.event_id.is_some_and(|id| id != g.stamp.serial) {
            return false;
        }
        let Ok(s) = Items::extract(g, needs) else {
            return false;
        };
        if !self.nodes.is_empty() {
            match &g.node {
                Some(n) if self.nodes.iter().any(|x| **x == **n) => {}
                _ => return false,
            }
        }
        if let Some(u) = self.any_uid {
            // -ua sets uid, euid and loginuid to the value and ORs them.
            if u != s.uid && u != s.euid && u != s.loginuid {
                return false;
            }
        } else if self.uid.is_some_and(|u| u != UNSET && u != s.uid)
            || self.euid.is_some_and(|u| u != UNSET && u != s.euid)
            || self
                .loginuid
                .is_some_and(|u| u != UNSET_LOGINUID && u != s.loginuid)
        {
            return false;
        }
        if self.any_gid {
            if self.gid != Some(s.gid) && self.egid != Some(s.egid) {
                return false;
            }
        } else if self.gid.is_some_and(|v| v != s.gid) || self.egid.is_some_and(|v| v != s.egid) {
            return false;
        }
        if self.ppid.is_some_and(|v| v != s.ppid) || self.pid.is_some_and(|v| v != s.pid) {
            return false;
        }
        if self.arch.is_some() && self.arch != s.arch {
            return false;
        }
        if self.syscall.is_some() && self.syscall != s.syscall {
            return false;
        }
        if self.session.is_some_and(|v| v != s.session) {
            return false;
        }
        if self.exit.is_some() && self.exit != s.exit {
            return false;
        }
        if self.success.is_some() && self.success.map(u64::from) != s.success {
            return false;
        }
        if !self.types.is_empty() && !g.lines.iter().any(|l| self.types.contains(&l.rtype)) {
            return false;
        }
        if let Some(f) = &self.filename {
            if s.filenames.is_none() && s.cwd.is_none() {
                return false;
            }
            let in_names = s
                .filenames
                .as_ref()
                .is_some_and(|l| l.iter().any(|n| self.strmatch(f, n)));
            if !in_names && !s.cwd.as_ref().is_some_and(|c| self.strmatch(f, c)) {
                return false;
            }
        }
        if !self.opt_str(&self.hostname, &s.hostname)
            || !self.opt_str(&self.terminal, &s.terminal)
            || !self.opt_str(&self.exe, &s.exe)
            || !self.opt_str(&self.comm, &s.comm)
        {
            return false;
        }
        if let Some(k) = &self.key {
            match &s.keys {
                Some(keys) if keys.iter().any(|x| self.strmatch(k, x)) => {}
                _ => return false,
            }
        }
        if !self.opt_str(&self.vmname, &s.vmname) || !self.opt_str(&self.uuid, &s.uuid) {
            return false;
        }
        self.context_matches(&s)
    }

    /// ausearch `context_match`: with `-se` a subject or an object label
    /// may match; else the subject label decides when `-su` is given (then
    /// `-o` is not looked at, as in ausearch), the object label otherwise.
    fn context_matches(&self, s: &Items) -> bool {
        let any = |needle: &Option<Vec<u8>>, labels: &[Vec<u8>]| {
            needle
                .as_ref()
                .is_some_and(|n| labels.iter().any(|l| self.strmatch(n, l)))
        };
        let subj = any(&self.subject, &s.subjects);
        let obj = any(&self.object, &s.objects);
        if self.any_context {
            return subj || obj;
        }
        if self.subject.is_some() {
            subj
        } else {
            self.object.is_none() || obj
        }
    }
}
