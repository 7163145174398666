//! What ausearch extracts from an event to match against (its
//! `search_items`): ids, names, keys and paths, read from each record's raw
//! text with the field rules of audit-userspace 3.0.9 `src/ausearch-parse.c`
//! (which record types carry which item, which later record overrides an
//! earlier one, how hex-encoded values are decoded). Written from that
//! description; the differences that remain are listed in docs/search.md.

use memchr::memmem;

use super::avc::{Avc, Verdict};
pub use super::fields::{after, unescape, Malformed};
use super::fields::{body, hex, id32, legacy_string, num, string, strtoll0, word};
use super::group::Group;
use crate::audit::tables::msg;

/// C's "unset" values, as ausearch initialises its items (ids are unsigned
/// 32-bit in C: -1 reads back as 4294967295).
const UNSET32: u64 = u32::MAX as u64;
const UNSET_LOGINUID: u64 = (u32::MAX - 1) as u64;

/// Which items the active filters need (ausearch only looks for those, and
/// only a missing *needed* field can reject an event).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Needs {
    pub pid: bool,
    pub ppid: bool,
    pub uid: bool,
    pub euid: bool,
    pub loginuid: bool,
    pub gid: bool,
    pub egid: bool,
    pub session: bool,
    pub success: bool,
    pub key: bool,
    pub filename: bool,
    pub hostname: bool,
    pub terminal: bool,
    pub exe: bool,
    pub comm: bool,
    /// `-e`: the syscall's exit value.
    pub exit: bool,
    /// `-su`/`-se`: subject labels; `-o`/`-se`: object labels.
    pub subject: bool,
    pub object: bool,
    /// `-vm`, `-uu`: the virtual machine's name and uuid.
    pub vmname: bool,
    pub uuid: bool,
}

/// The items of one event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Items {
    pub pid: i64,
    pub ppid: i64,
    pub uid: u64,
    pub euid: u64,
    pub loginuid: u64,
    pub gid: u64,
    pub egid: u64,
    pub session: u64,
    pub syscall: Option<u64>,
    pub arch: Option<u64>,
    /// ausearch's success value: 0 failed, 1 success, or a record's `res=` number.
    pub success: Option<u64>,
    pub keys: Option<Vec<Vec<u8>>>,
    pub filenames: Option<Vec<Vec<u8>>>,
    pub cwd: Option<Vec<u8>>,
    pub hostname: Option<Vec<u8>>,
    pub terminal: Option<Vec<u8>>,
    pub exe: Option<Vec<u8>>,
    pub comm: Option<Vec<u8>>,
    /// The account of user messages (`acct=`), always read (aureport uses it).
    pub acct: Option<Vec<u8>>,
    pub exit: Option<i64>,
    /// Subject and object labels (`subj=`, `scontext=`, `obj=`, `tcontext=`...).
    pub subjects: Vec<Vec<u8>>,
    pub objects: Vec<Vec<u8>>,
    pub vmname: Option<Vec<u8>>,
    pub uuid: Option<Vec<u8>>,
    /// The access decisions of AVC and USER_AVC records, in record order.
    pub avcs: Vec<Avc>,
}

impl Default for Items {
    fn default() -> Items {
        Items {
            pid: -1,
            ppid: -1,
            uid: UNSET32,
            euid: UNSET32,
            loginuid: UNSET_LOGINUID,
            gid: UNSET32,
            egid: UNSET32,
            session: UNSET_LOGINUID,
            syscall: None,
            arch: None,
            success: None,
            keys: None,
            filenames: None,
            cwd: None,
            hostname: None,
            terminal: None,
            exe: None,
            comm: None,
            acct: None,
            exit: None,
            subjects: Vec::new(),
            objects: Vec::new(),
            vmname: None,
            uuid: None,
            avcs: Vec::new(),
        }
    }
}

type R = Result<(), Malformed>;

impl Items {
    /// Extract the needed items from every record of `g`.
    pub fn extract(g: &Group, needs: &Needs) -> Result<Items, Malformed> {
        let mut s = Items::default();
        for line in &g.lines {
            let b = body(line.raw());
            s.record(line.rtype, b, needs)?;
        }
        Ok(s)
    }

    fn record(&mut self, t: u16, b: &[u8], n: &Needs) -> R {
        match t {
            msg::SYSCALL => self.syscall(b, n),
            msg::CWD => {
                if n.filename && self.cwd.is_none() {
                    if let Some(r) = after(b, b"cwd") {
                        self.cwd = string(r)?;
                    }
                }
                Ok(())
            }
            msg::PATH => {
                self.path(b, b"name", n, false)?;
                self.label(b, b"obj", n.object, false)
            }
            msg::IPC | msg::OBJ_PID => self.label(b, b"obj", n.object, false),
            msg::AVC_PATH => self.path(b, b"path", n, true),
            msg::USER
            | msg::FIRST_USER_MSG..=msg::USER_END
            | msg::USER_CHAUTHTOK..=msg::LAST_USER_MSG
            | msg::FIRST_USER_MSG2..=msg::LAST_USER_MSG2 => self.user(t, b, n),
            msg::LOGIN => {
                self.login(b, n)?;
                self.label(b, b"subj", n.subject, true)
            }
            msg::DAEMON_START
            | msg::DAEMON_END
            | msg::DAEMON_ABORT
            | msg::DAEMON_CONFIG
            | msg::DAEMON_ROTATE
            | msg::DAEMON_RESUME => {
                self.daemon(b, n)?;
                self.label(b, b"subj", n.subject, true)
            }
            msg::DAEMON_ACCEPT | msg::DAEMON_CLOSE => {
                if n.hostname {
                    if let Some(r) = after(b, b"addr") {
                        self.hostname = Some(word(r).to_vec());
                    }
                }
                self.res_text(b, n);
                Ok(())
            }
            msg::CONFIG_CHANGE => {
                self.simple(b, n)?;
                // Older CONFIG_CHANGE records have no path: not an error here.
                let _ = self.path(b, b"path", n, true);
                Ok(())
            }
            msg::AVC | msg::USER_AVC => self.avc(t, b, n),
            msg::FEATURE_CHANGE | msg::ANOM_LINK => self.task(b, n),
            msg::ANOM_PROMISCUOUS => self.anom(b, n),
            msg::SECCOMP | msg::ANOM_ABEND => {
                self.anom(b, n)?;
                self.label(b, b"subj", n.subject, true)
            }
            msg::MAC_POLICY_LOAD..=msg::MAC_UNLBL_STCDEL => self.simple(b, n),
            msg::INTEGRITY_DATA..=msg::INTEGRITY_RULE => {
                self.integrity(b, n)?;
                self.label(b, b"subj", n.subject, true)
            }
            msg::NETFILTER_CFG | msg::EVENT_LISTENER => {
                self.kernel(b, n)?;
                // Only when no earlier record gave a label.
                if self.subjects.is_empty() && self.objects.is_empty() {
                    self.label(b, b"subj", n.subject, true)?;
                }
                Ok(())
            }
            msg::TTY => self.tty(b, n),
            msg::SOCKADDR => {
                self.sockaddr(b, n);
                Ok(())
            }
            msg::NETFILTER_PKT => {
                if n.hostname {
                    if let Some(r) = after(b, b"saddr") {
                        self.hostname = Some(word(r).to_vec());
                    }
                }
                self.label(b, b"obj", n.object, false)
            }
            _ => Ok(()),
        }
    }

    fn set_ids(&mut self, b: &[u8], n: &Needs, need_all: bool) -> R {
        if n.pid {
            match after(b, b"pid") {
                Some(r) => self.pid = num(r) as i64,
                None if need_all => return Err(Malformed),
                None => {}
            }
        }
        if n.loginuid {
            match after(b, b"auid").or_else(|| after(b, b"loginuid")) {
                Some(r) => self.loginuid = id32(r),
                None if need_all => return Err(Malformed),
                None => {}
            }
        }
        if n.uid {
            match after(b, b"uid") {
                Some(r) => self.uid = id32(r),
                None if need_all => return Err(Malformed),
                None => {}
            }
        }
        if n.session {
            if let Some(r) = after(b, b"ses") {
                self.session = id32(r);
            }
        }
        Ok(())
    }

    /// ausearch `parse_task_info`: the process fields of kernel records.
    fn task(&mut self, b: &[u8], n: &Needs) -> R {
        if n.ppid {
            if let Some(r) = after(b, b"ppid") {
                self.ppid = num(r) as i64;
            }
        }
        self.set_ids(b, n, true)?;
        if n.gid {
            self.gid = id32(after(b, b"gid").ok_or(Malformed)?);
        }
        if n.euid {
            self.euid = id32(after(b, b"euid").ok_or(Malformed)?);
        }
        if n.egid {
            self.egid = id32(after(b, b"egid").ok_or(Malformed)?);
        }
        if n.terminal {
            if let Some(r) = after(b, b"tty") {
                self.terminal = Some(word(r).to_vec());
            }
        }
        if n.comm {
            self.comm = string(after(b, b"comm").ok_or(Malformed)?)?;
        }
        if n.exe {
            self.exe = string(after(b, b"exe").ok_or(Malformed)?)?;
        }
        self.label(b, b"subj", n.subject, true)
    }

    /// A label (`subj=`, `obj=`, `scontext=`...) up to the next space into
    /// the subject or object list; ausearch rejects some records whose
    /// label is not followed by a space (`spaced`).
    fn label(&mut self, b: &[u8], name: &[u8], wanted: bool, spaced: bool) -> R {
        if !wanted {
            return Ok(());
        }
        let Some(r) = after(b, name) else {
            return Ok(());
        };
        if spaced && memchr::memchr(b' ', r).is_none() {
            return Err(Malformed);
        }
        let list = if name == b"obj" || name == b"tcontext" || name == b"img-ctx" {
            &mut self.objects
        } else {
            &mut self.subjects
        };
        list.push(word(r).to_vec());
        Ok(())
    }

    fn syscall(&mut self, b: &[u8], n: &Needs) -> R {
        if let Some(r) = after(b, b"arch") {
            let w = word(r);
            self.arch = u64::from_str_radix(std::str::from_utf8(w).unwrap_or(""), 16).ok();
        }
        // ausearch requires syscall, a0 and a1, each followed by a space.
        let spaced = |name: &[u8]| -> Result<u64, Malformed> {
            let r = after(b, name).ok_or(Malformed)?;
            memchr::memchr(b' ', r).ok_or(Malformed)?;
            Ok(num(r))
        };
        self.syscall = Some(spaced(b"syscall")?);
        spaced(b"a0")?;
        spaced(b"a1")?;
        if n.success {
            if let Some(r) = after(b, b"success") {
                self.success = Some(u64::from(word(r) == b"yes"));
            }
        }
        if n.exit {
            // C strtoll(s, NULL, 0): decimal, 0x hex or 0 octal, signed.
            let r = after(b, b"exit").ok_or(Malformed)?;
            memchr::memchr(b' ', r).ok_or(Malformed)?;
            self.exit = Some(strtoll0(word(r)));
        }
        self.task(b, n)?;
        if n.key {
            if let Some(r) = after(b, b"key") {
                self.push_keys(r)?;
            }
        }
        Ok(())
    }

    /// A PATH `name=` (or AVC `path=`) into the file name list; relative
    /// names starting `./` or `../` are joined to the CWD.
    fn path(&mut self, b: &[u8], field: &[u8], n: &Needs, required: bool) -> R {
        if !n.filename {
            return Ok(());
        }
        let Some(r) = after(b, field) else {
            return if required { Err(Malformed) } else { Ok(()) };
        };
        let list = self.filenames.get_or_insert_with(Vec::new);
        let mut name = if r.first() == Some(&b'"') {
            string(r)?.unwrap_or_default()
        } else if r.starts_with(b"(null)") {
            b"(null)".to_vec()
        } else {
            if !r.first().is_some_and(u8::is_ascii_hexdigit) {
                return Err(Malformed);
            }
            let hexpart = if r.starts_with(b"00") { &r[2..] } else { r };
            unescape(hexpart).ok_or(Malformed)?
        };
        if name.starts_with(b"./") || name.starts_with(b"..") {
            if let Some(cwd) = &self.cwd {
                let mut joined = cwd.clone();
                joined.push(b'/');
                joined.extend_from_slice(&name);
                name = joined;
            }
        }
        list.push(name);
        Ok(())
    }

    /// `res=failed` (or anything else: success), then `result=`.
    fn res_text(&mut self, b: &[u8], n: &Needs) {
        if !n.success {
            return;
        }
        if let Some(r) = after(b, b"res") {
            self.success = Some(u64::from(!r.starts_with(b"failed")));
        } else if let Some(r) = after(b, b"result") {
            self.success = Some(u64::from(
                r.starts_with(b"Success") || r.starts_with(b"success"),
            ));
        }
    }

    /// `res=1` / `res=0` (numeric, as kernel records write it).
    fn res_num(&mut self, b: &[u8], n: &Needs) {
        if n.success {
            if let Some(r) = after(b, b"res") {
                self.success = Some(num(r));
            }
        }
    }

    fn user(&mut self, t: u16, b: &[u8], n: &Needs) -> R {
        self.set_ids(b, n, false)?;
        self.label(b, b"subj", n.subject, true)?;
        let inner = after(b, b"msg").unwrap_or(b);
        if t == msg::USER_AVC {
            self.label(inner, b"tcontext", n.object, false)?;
        }
        self.virt(t, inner, n)?;
        if n.gid && matches!(t, msg::ADD_GROUP | msg::DEL_GROUP | msg::GRP_MGMT) {
            if let Some(r) = after(inner, b"id").or_else(|| after(inner, b"gid")) {
                self.gid = id32(r);
            }
        }
        if n.uid {
            // Some user messages carry the account's uid inside msg='...'.
            if let Some(r) = after(inner, b"uid") {
                if r.first().is_some_and(u8::is_ascii_digit) {
                    self.uid = id32(r);
                }
            }
        }
        if n.comm {
            if let Some(r) = after(inner, b"comm") {
                self.comm = string(r)?;
            }
        }
        if let Some(r) = after(inner, b"acct") {
            self.acct = legacy_string(r)?;
        }
        if n.hostname {
            if let Some(r) = after(inner, b"hostname") {
                let end = r
                    .iter()
                    .position(|&c| c == b',' || c == b' ')
                    .unwrap_or(r.len());
                let mut h = r[..end].to_vec();
                if h == b"?" {
                    if let Some(a) = after(&r[end..], b"addr") {
                        let e = a
                            .iter()
                            .position(|&c| c == b',' || c == b' ')
                            .unwrap_or(a.len());
                        h = a[..e].to_vec();
                    }
                }
                self.hostname = Some(h);
            }
        }
        if n.filename {
            if let Some(r) = after(inner, b"cwd") {
                self.cwd = legacy_string(r)?;
            }
        }
        if n.terminal {
            if let Some(r) = after(inner, b"terminal") {
                let end = r
                    .iter()
                    .position(|&c| c == b' ' || c == b')')
                    .unwrap_or(r.len());
                self.terminal = Some(r[..end].to_vec());
            }
        }
        if n.exe {
            if let Some(r) = after(inner, b"exe") {
                self.exe = legacy_string(r)?;
            }
        }
        self.res_text(inner, n);
        Ok(())
    }

    /// Virtual machine messages: `vm=` (quoted or hex), `uuid=` (up to a
    /// space or colon) and, for VIRT_MACHINE_ID, the machine's and image's
    /// labels.
    fn virt(&mut self, t: u16, b: &[u8], n: &Needs) -> R {
        if n.vmname {
            if let Some(r) = after(b, b"vm") {
                self.vmname = string(r)?;
            }
        }
        if n.uuid {
            if let Some(r) = after(b, b"uuid") {
                let end = r
                    .iter()
                    .position(|&c| c == b' ' || c == b':')
                    .unwrap_or(r.len());
                if end == 0 {
                    return Err(Malformed);
                }
                self.uuid = Some(r[..end].to_vec());
            }
        }
        if t == msg::VIRT_MACHINE_ID {
            self.label(b, b"vm-ctx", n.subject, true)?;
            self.label(b, b"img-ctx", n.object, true)?;
        }
        Ok(())
    }

    fn login(&mut self, b: &[u8], n: &Needs) -> R {
        if n.pid {
            self.pid = num(after(b, b"pid").ok_or(Malformed)?) as i64;
        }
        if n.uid {
            self.uid = id32(after(b, b"uid").ok_or(Malformed)?);
        }
        if n.loginuid {
            let r = memmem::find(b, b"new auid=")
                .map(|p| &b[p + 9..])
                .or_else(|| after(b, b"auid"))
                .or_else(|| memmem::find(b, b"new loginuid=").map(|p| &b[p + 13..]))
                .ok_or(Malformed)?;
            self.loginuid = id32(r);
        }
        if n.success {
            self.success = Some(after(b, b"res").map_or(1, num));
        }
        if n.session {
            if let Some(r) = memmem::find(b, b"new ses=")
                .map(|p| &b[p + 8..])
                .or_else(|| after(b, b"ses"))
            {
                self.session = id32(r);
            }
        }
        Ok(())
    }

    /// Daemon records, read in order the way ausearch does: each field is
    /// looked for after the previous one's value (so a `uid=` before the
    /// `pid=` is not seen when the pid is wanted).
    fn daemon(&mut self, b: &[u8], n: &Needs) -> R {
        let mut pos = 0;
        // After `value` at `at`: the position of the space that ends it.
        let ended = |at: usize| {
            memchr::memchr(b' ', &b[at..])
                .map(|p| at + p)
                .ok_or(Malformed)
        };
        if n.loginuid {
            let at = memmem::find(b, b"auid=").ok_or(Malformed)? + 5;
            self.loginuid = id32(&b[at..]);
            pos = ended(at)?;
        }
        if n.pid {
            let at = pos + memmem::find(&b[pos..], b"pid=").ok_or(Malformed)? + 4;
            self.pid = num(&b[at..]) as i64;
            pos = ended(at)?;
        }
        if n.uid {
            if let Some(p) = memmem::find(&b[pos..], b" uid=") {
                let at = pos + p + 5;
                self.uid = id32(&b[at..]);
                pos = ended(at)?;
            }
        }
        if n.session {
            if let Some(p) = memmem::find(&b[pos..], b"ses=") {
                self.session = id32(&b[pos + p + 4..]);
            }
        }
        self.res_text(b, n);
        Ok(())
    }

    /// Keys of a `key=` value: quoted text, or hex holding several keys
    /// separated by 0x01.
    fn push_keys(&mut self, r: &[u8]) -> R {
        let keys = self.keys.get_or_insert_with(Vec::new);
        if let Some(inner) = r.strip_prefix(b"\"") {
            let end = memchr::memchr(b'"', inner).ok_or(Malformed)?;
            keys.push(inner[..end].to_vec());
        } else {
            let all = unescape(r).ok_or(Malformed)?;
            keys.extend(
                all.split(|&c| c == 0x01)
                    .filter(|k| !k.is_empty())
                    .map(<[u8]>::to_vec),
            );
        }
        Ok(())
    }

    fn simple(&mut self, b: &[u8], n: &Needs) -> R {
        if n.loginuid {
            if let Some(r) = after(b, b"auid") {
                self.loginuid = id32(r);
            }
        }
        if n.session {
            if let Some(r) = after(b, b"ses") {
                self.session = id32(r);
            }
        }
        if n.key {
            if let Some(r) = after(b, b"key") {
                self.push_keys(r)?;
            }
        }
        self.res_num(b, n);
        self.label(b, b"subj", n.subject, false)
    }

    fn avc(&mut self, t: u16, b: &[u8], n: &Needs) -> R {
        if t == msg::USER_AVC {
            let a = super::avc::user(b)?;
            if n.success && a.verdict != Verdict::Unset {
                self.success = Some(u64::from(a.verdict == Verdict::Granted));
            }
            self.user(t, b, n)?;
            self.avcs.push(a);
            return Ok(());
        }
        let k = super::avc::kernel(b, n, n.comm && self.comm.is_none())?;
        if n.success && k.avc.verdict != Verdict::Unset {
            self.success = Some(u64::from(k.avc.verdict == Verdict::Granted));
        }
        if let Some(p) = k.pid {
            self.pid = p as i64;
        }
        if k.comm.is_some() {
            self.comm = k.comm;
        }
        if n.filename {
            if after(b, b"path").is_some() {
                self.path(b, b"path", n, true)?;
            } else if after(b, b"name").is_some() {
                self.path(b, b"name", n, true)?;
            }
        }
        if n.subject {
            self.subjects.extend(k.avc.scontext.clone());
        }
        if n.object {
            self.objects.extend(k.avc.tcontext.clone());
        }
        self.avcs.push(k.avc);
        Ok(())
    }

    fn anom(&mut self, b: &[u8], n: &Needs) -> R {
        // ausearch looks for "uid=" from after the auid value when it read
        // auid, else from the start, where "auid=" contains it.
        let mut from = 0;
        if n.loginuid {
            let p = memmem::find(b, b"auid=").ok_or(Malformed)?;
            self.loginuid = id32(&b[p + 5..]);
            from = p + 5 + word(&b[p + 5..]).len();
        }
        if n.uid {
            if let Some(p) = memmem::find(&b[from..], b"uid=") {
                self.uid = id32(&b[from + p + 4..]);
            }
        }
        if n.session {
            if let Some(r) = after(b, b"ses") {
                self.session = id32(r);
            }
        }
        if n.pid {
            if let Some(r) = after(b, b"pid") {
                self.pid = num(r) as i64;
            }
        }
        if n.gid {
            if let Some(r) = after(b, b"gid") {
                self.gid = id32(r);
            }
        }
        if n.comm {
            if let Some(r) = after(b, b"comm") {
                self.comm = string(r)?;
            }
        }
        if n.exe {
            if let Some(r) = after(b, b"exe") {
                self.exe = string(r)?;
            }
        }
        if let Some(r) = after(b, b"arch") {
            self.arch = u64::from_str_radix(std::str::from_utf8(word(r)).unwrap_or(""), 16).ok();
            if let Some(r) = after(b, b"syscall") {
                self.syscall = Some(num(r));
            }
        }
        self.res_num(b, n);
        Ok(())
    }

    fn integrity(&mut self, b: &[u8], n: &Needs) -> R {
        self.set_ids(b, n, false)?;
        // ausearch takes the first "pid=", which may be the end of "ppid=".
        if n.pid {
            if let Some(p) = memmem::find(b, b"pid=") {
                self.pid = num(&b[p + 4..]) as i64;
            }
        }
        if n.comm {
            if let Some(r) = after(b, b"comm") {
                self.comm = string(r)?;
            }
        }
        if n.filename {
            let _ = self.path(b, b"name", n, false);
        }
        self.res_num(b, n);
        Ok(())
    }

    fn kernel(&mut self, b: &[u8], n: &Needs) -> R {
        // Missing ids mean uid 0, auid and session unset (-1) to ausearch.
        if n.pid {
            if let Some(r) = after(b, b"pid") {
                self.pid = num(r) as i64;
            }
        }
        if n.uid {
            self.uid = after(b, b"uid").map_or(0, id32);
        }
        if n.loginuid {
            self.loginuid = after(b, b"auid").map_or(UNSET32, id32);
        }
        if n.session {
            self.session = after(b, b"ses").map_or(UNSET32, id32);
        }
        if n.terminal {
            self.terminal = Some(after(b, b"tty").map_or(b"(none)".to_vec(), |r| word(r).to_vec()));
        }
        if n.comm {
            self.comm = match after(b, b"comm") {
                Some(r) => string(r)?,
                None => None,
            };
        }
        if n.exe {
            self.exe = Some(match after(b, b"exe") {
                Some(r) => string(r)?.unwrap_or_default(),
                None => b"(null)".to_vec(),
            });
        }
        self.res_num(b, n);
        Ok(())
    }

    /// SOCKADDR: an inet/inet6 address as the host name (numeric, as
    /// getnameinfo NI_NUMERICHOST gives it), a unix socket path as a file name.
    fn sockaddr(&mut self, b: &[u8], n: &Needs) {
        if !(n.hostname || n.filename) {
            return;
        }
        let Some(r) = after(b, b"saddr") else {
            return;
        };
        let Some(sa) = unescape(r).filter(|_| r.first() != Some(&b'(')) else {
            return;
        };
        let hexlen = r.iter().take_while(|c| c.is_ascii_hexdigit()).count() / 2;
        let family = u16::from_le_bytes([
            sa.first().copied().unwrap_or(0),
            sa.get(1).copied().unwrap_or(0),
        ]);
        let raw = &r[..hexlen * 2];
        let byte = |i: usize| -> u8 {
            raw.get(2 * i..2 * i + 2)
                .map_or(0, |h| (hex(h[0]) << 4) | hex(h[1]))
        };
        self.hostname = None;
        match i32::from(family) {
            libc::AF_INET if hexlen >= 16 && n.hostname => {
                let ip = std::net::Ipv4Addr::new(byte(4), byte(5), byte(6), byte(7));
                self.hostname = Some(ip.to_string().into_bytes());
            }
            libc::AF_INET6 if hexlen >= 28 && n.hostname => {
                let mut a = [0u8; 16];
                for (i, x) in a.iter_mut().enumerate() {
                    *x = byte(8 + i);
                }
                self.hostname = Some(std::net::Ipv6Addr::from(a).to_string().into_bytes());
            }
            libc::AF_UNIX if hexlen >= 4 && n.filename => {
                let path: Vec<u8> = (2..hexlen).map(byte).collect();
                let path = if path.first() == Some(&0) {
                    &path[1..]
                } else {
                    &path[..]
                };
                let end = path.iter().position(|&c| c == 0).unwrap_or(path.len());
                self.filenames
                    .get_or_insert_with(Vec::new)
                    .push(path[..end].to_vec());
            }
            _ => {}
        }
    }

    fn tty(&mut self, b: &[u8], n: &Needs) -> R {
        // A TTY record without the login uid is malformed when it is needed.
        if n.loginuid && memmem::find(b, b"auid=").is_none() {
            return Err(Malformed);
        }
        self.set_ids(b, n, false)?;
        if n.comm {
            if let Some(r) = after(b, b"comm") {
                self.comm = string(r)?;
            }
        }
        Ok(())
    }
}
