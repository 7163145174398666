//! Normalizing events built around a SYSCALL record: subject from the
//! SYSCALL record, action and object from the syscall's class and the PATH,
//! SOCKADDR and special records that come with it.
//!
//! Follows `normalize_compound`, `normalize_syscall` and their helpers in
//! audit-userspace 3.0.9 `auparse/normalize.c`, step by step.

use super::engine::{is_interpreter, Normalizer};
use super::tables::{record_action, syscall_class, ObjectKind, SyscallClass};
use crate::audit::tables::msg;

impl Normalizer<'_, '_> {
    /// `syscall_subj_attr`: ids, tty, session and label of the SYSCALL record.
    fn syscall_subj_attr(&mut self) {
        self.c.first_record();
        loop {
            let rnum = self.c.record_num();
            if self.c.record_type() == msg::SYSCALL {
                if !self.all {
                    self.add_session(rnum);
                    return;
                }
                for name in [
                    &b"ppid"[..],
                    b"pid",
                    b"gid",
                    b"euid",
                    b"suid",
                    b"fsuid",
                    b"egid",
                    b"sgid",
                    b"fsgid",
                    b"tty",
                ] {
                    self.add_subj_attr(name, rnum);
                }
                self.add_session(rnum);
                self.add_subj_attr(b"subj", rnum);
                return;
            }
            if !self.c.next_record() {
                return;
            }
        }
    }

    fn collect_perm_obj2(&mut self, syscall: &[u8]) {
        let arg = if syscall == b"fchmodat" { b"a2" } else { b"a1" };
        self.c.first_record();
        if self.c.find(arg) {
            self.d.object_primary2 = Some(self.here_in_record0());
        }
    }

    fn collect_own_obj2(&mut self, syscall: &[u8]) {
        let arg = if syscall == b"fchownat" { b"a2" } else { b"a1" };
        self.c.first_record();
        if self.c.find(arg) {
            // An owner of -1 is not being changed: the group is the object.
            let v = self.c.field_int();
            if v.value == -1 && v.ok {
                self.c.next_field();
            }
            self.d.object_primary2 = Some(self.here_in_record0());
        }
    }

    fn collect_id_obj2(&mut self, syscall: &[u8]) {
        let limit = match syscall {
            b"setuid" | b"setgid" => 1,
            b"setreuid" | b"setregid" => 2,
            b"setresuid" | b"setresgid" => 3,
            _ => return,
        };
        self.c.first_record();
        if !self.c.find(b"a0") {
            return;
        }
        // The first id argument that is not "unset" (-1) is the new id.
        let mut n = 1;
        while n <= limit {
            if self.c.interpret().as_deref() != Some(b"unset") {
                break;
            }
            if n < limit {
                if !self.c.next_field() {
                    return;
                }
                n += 1;
            } else {
                return;
            }
        }
        self.d.object_primary2 = Some(self.here_in_record0());
    }

    fn collect_path_attrs(&mut self) {
        let rnum = self.c.record_num();
        self.c.first_field();
        if self.add_obj_attr(b"mode", rnum) {
            // A failed open has nothing else.
            return;
        }
        while self.c.next_field() {
            let l = self.loc(rnum);
            self.d.object_attrs.push(l);
        }
    }

    /// `simple_file_attr`: attributes of the first non-PARENT PATH record
    /// (or of the first PARENT one), plus cwd and saddr on the way.
    fn simple_file_attr(&mut self) {
        if !self.all {
            return;
        }
        let mut parent = 0;
        self.c.first_record();
        loop {
            match self.c.record_type() {
                msg::PATH => {
                    let is_parent = self.c.find_str(b"nametype") == Some(b"PARENT");
                    if is_parent {
                        if parent == 0 {
                            parent = self.c.record_num();
                        }
                    } else {
                        self.collect_path_attrs();
                        return;
                    }
                }
                msg::CWD => {
                    let r = self.c.record_num();
                    self.add_obj_attr(b"cwd", r);
                }
                msg::SOCKADDR => {
                    let r = self.c.record_num();
                    self.add_obj_attr(b"saddr", r);
                }
                _ => {}
            }
            if !self.c.next_record() {
                break;
            }
        }
        if parent != 0 {
            self.c.goto_record(parent);
            self.collect_path_attrs();
        }
    }

    /// `set_file_object`: name, inode and kind from the PATH record `adjust`
    /// after the second record, skipping PARENT entries (falling back to the
    /// first PARENT when that is all there is).
    fn set_file_object(&mut self, adjust: i64) {
        if let Ok(r) = usize::try_from(2 + adjust) {
            self.c.goto_record(r);
        }
        self.c.first_field();
        let mut parent = 0;
        // None: no nametype found; Some(true): the last one was PARENT.
        let mut last: Option<bool>;
        loop {
            last = if self.c.find(b"nametype") {
                Some(self.c.field_str() == Some(b"PARENT"))
            } else {
                None
            };
            match last {
                Some(false) | None => break,
                Some(true) => {
                    if parent == 0 {
                        parent = self.c.record_num();
                    }
                }
            }
            if !self.c.next_record() {
                break;
            }
        }
        let rnum = if last.is_none() {
            // Sometimes only the parent is there (a failed open at a directory).
            if parent == 0 {
                return;
            }
            self.c.goto_record(parent);
            self.c.first_field();
            parent
        } else {
            self.c.record_num()
        };
        if self.c.record_type() != msg::PATH {
            return;
        }
        self.c.first_field();
        self.set_prime_object(b"name", rnum);
        if self.c.find(b"inode") {
            self.d.object_secondary = Some(self.loc(rnum));
        }
        if let Some(mode) = self.c.find_str(b"mode") {
            if let Some(k) = std::str::from_utf8(mode)
                .ok()
                .and_then(parse_octal)
                .and_then(ObjectKind::from_mode)
            {
                self.d.object_kind = k;
            }
        }
    }

    fn set_socket_object(&mut self) {
        self.c.goto_record(1);
        self.c.first_field();
        self.set_prime_object(b"saddr", 1);
    }

    fn primary_at_cursor(&mut self) {
        self.d.object_primary = Some(self.c.here());
    }

    /// `set_program_obj`: the program (or BPF program, or netlink group) acted on.
    pub(crate) fn set_program_obj(&mut self) {
        self.c.first_record();
        match self.c.record_type() {
            msg::BPF => {
                if self.c.find(b"prog-id") {
                    self.primary_at_cursor();
                }
            }
            msg::EVENT_LISTENER => {
                if self.c.find(b"nl-mcgrp") {
                    self.primary_at_cursor();
                }
            }
            _ => {
                if self.c.find(b"exe") {
                    let exe = self.c.interpret().unwrap_or_default();
                    if is_interpreter(&exe) {
                        let fnum = self.c.field_num();
                        if fnum > 0 {
                            self.c.goto_field(fnum - 1);
                        } else {
                            self.c.first_record();
                        }
                        self.c.find(b"comm");
                    }
                    self.primary_at_cursor();
                }
            }
        }
    }

    /// The object of the first record's field `name`, wherever the search lands.
    fn primary_from_first_record(&mut self, name: &[u8]) {
        self.c.first_record();
        if self.c.find(name) {
            self.primary_at_cursor();
        }
    }

    /// `op=LOAD|UNLOAD` of a BPF record, or `op=connect|disconnect` of an
    /// EVENT_LISTENER one, as an action.
    pub(crate) fn op_action(
        &mut self,
        when_match: &'static str,
        yes: &'static str,
        no: &'static str,
        missing: &'static str,
    ) {
        self.c.first_record();
        let act = match self.c.find_str(b"op") {
            Some(op) if op == when_match.as_bytes() => yes,
            Some(_) => no,
            None => missing,
        };
        self.set_action(act);
    }

    /// A BPF record: the program loaded or unloaded is the object.
    pub(crate) fn bpf_program(&mut self) {
        self.op_action(
            "LOAD",
            "loaded-bpf-program",
            "unloaded-bpf-program",
            "bpf-program",
        );
        self.d.object_kind = ObjectKind::Process;
        self.set_program_obj();
    }

    /// `normalize_syscall`: action and object from the syscall's class.
    fn normalize_syscall(&mut self, syscall: Option<&[u8]>) {
        use SyscallClass::*;
        let mut special = None;
        let mut class = None;
        let mut rtype = 0;
        let mut more = self.c.first_record();
        while more {
            rtype = self.c.record_type();
            let found = match rtype {
                msg::AVC => {
                    // Go on with the syscall to find the objects.
                    special = Some(Mac);
                    true
                }
                msg::FANOTIFY => {
                    special = Some(Av);
                    true
                }
                msg::SELINUX_ERR => {
                    class = Some(MacErr);
                    true
                }
                msg::NETFILTER_CFG => {
                    class = Some(Iptables);
                    true
                }
                msg::ANOM_PROMISCUOUS => {
                    class = Some(Promiscuous);
                    true
                }
                msg::KERN_MODULE => {
                    class = Some(FileLdmod);
                    true
                }
                msg::MAC_POLICY_LOAD => {
                    class = Some(MacLoad);
                    true
                }
                msg::MAC_STATUS => {
                    class = Some(MacEnforce);
                    true
                }
                msg::MAC_CONFIG_CHANGE => {
                    class = Some(MacConfig);
                    true
                }
                msg::TIME_INJOFFSET | msg::TIME_ADJNTPVAL => {
                    class = Some(SystemTime);
                    true
                }
                msg::BPF => {
                    class = Some(Bpf);
                    true
                }
                msg::EVENT_LISTENER => {
                    class = Some(EvListen);
                    true
                }
                _ => false,
            };
            if found {
                break;
            }
            more = self.c.next_record();
        }
        if class.is_none() {
            class = syscall.and_then(syscall_class);
        }
        let sc = syscall.unwrap_or_default();
        let success = self.syscall_success;
        let mut act: Option<&'static str> = None;
        match class {
            Some(File) => {
                act = Some("opened-file");
                self.set_file_object(0);
                self.file_attrs_default(ObjectKind::File);
            }
            Some(FileChattr) => {
                act = Some("changed-file-attributes-of");
                self.d.object_kind = ObjectKind::File;
                self.set_file_object(if sc == b"fsetxattr" { -1 } else { 0 });
                self.simple_file_attr();
            }
            Some(FileChperm) => {
                act = Some("changed-file-permissions-of");
                self.d.object_kind = ObjectKind::File;
                self.collect_perm_obj2(sc);
                self.set_file_object(if sc == b"fchmod" { -1 } else { 0 });
                self.simple_file_attr();
            }
            Some(FileChown) => {
                act = Some("changed-file-ownership-of");
                self.d.object_kind = ObjectKind::File;
                self.collect_own_obj2(sc);
                self.set_file_object(if sc == b"fchown" { -1 } else { 0 });
                self.simple_file_attr();
            }
            Some(FileLdmod) => {
                act = Some("loaded-kernel-module");
                self.d.object_kind = ObjectKind::File;
                self.c.goto_record(1);
                self.set_prime_object(b"name", 1);
            }
            Some(FileUnldmod) => {
                act = Some("unloaded-kernel-module");
                self.d.object_kind = ObjectKind::File;
            }
            Some(FileDir) => {
                act = Some("created-directory");
                self.d.object_kind = ObjectKind::File;
                // The new directory is one record further.
                self.set_file_object(1);
                self.simple_file_attr();
            }
            Some(FileMount) => {
                act = Some("mounted");
                self.d.object_kind = ObjectKind::Filesystem;
                if success == 1 {
                    self.set_prime_object2(b"name", 0);
                }
                // The device is one record further on success.
                self.set_file_object(i64::from(success));
                // Straight to this record's attributes: there can be 4 PATHs.
                self.collect_path_attrs();
            }
            Some(FileRename) => {
                act = Some("renamed");
                self.d.object_kind = ObjectKind::File;
                self.set_prime_object2(b"name", 4);
                self.set_file_object(2);
                self.simple_file_attr();
            }
            Some(FileStat) => {
                act = Some("checked-metadata-of");
                self.file_at(0, ObjectKind::File);
            }
            Some(FileSysStat) => {
                act = Some("checked-filesystem-metadata-of");
                self.file_at(0, ObjectKind::Filesystem);
            }
            Some(FileLnk) => {
                act = Some("symlinked");
                self.d.object_kind = ObjectKind::File;
                self.set_prime_object2(b"name", 0);
                self.set_file_object(2);
                self.simple_file_attr();
            }
            Some(FileUmnt) => {
                act = Some("unmounted");
                self.file_at(0, ObjectKind::Filesystem);
            }
            Some(FileDel) => {
                act = Some("deleted");
                self.file_at(0, ObjectKind::File);
            }
            Some(FileTime) => {
                act = Some("changed-timestamp-of");
                self.file_at(0, ObjectKind::File);
            }
            Some(Exec) => {
                act = Some("executed");
                self.file_at(1, ObjectKind::File);
            }
            Some(c @ (SocketAccept | SocketBind | SocketConn | SocketRecv | SocketSend)) => {
                act = Some(match c {
                    SocketAccept => "accepted-connection-from",
                    SocketBind => "bound-socket",
                    SocketConn => "connected-to",
                    SocketRecv => "received-from",
                    _ => "sent-to",
                });
                self.d.object_kind = ObjectKind::Socket;
                self.set_socket_object();
            }
            Some(Pid) => {
                act = Some(if self.c.num_records() > 2 {
                    "killed-list-of-pids"
                } else {
                    "killed-pid"
                });
                self.c.goto_record(1);
                self.c.first_field();
                if self.c.find(b"saddr") {
                    self.primary_at_cursor();
                }
                self.d.object_kind = ObjectKind::Process;
            }
            Some(MacLoad) => {
                act = record_action(rtype);
                self.d.object_kind = ObjectKind::MacConfig;
            }
            Some(MacConfig) => {
                act = record_action(rtype);
                if self.c.find(b"bool") {
                    self.primary_at_cursor();
                }
                self.d.object_kind = ObjectKind::MacConfig;
            }
            Some(MacEnforce) => {
                act = record_action(rtype);
                if self.c.find(b"enforcing") {
                    self.primary_at_cursor();
                }
                self.d.object_kind = ObjectKind::MacConfig;
            }
            Some(MacErr) => {
                act = Some("caused-mac-policy-error");
                self.d.object_kind = ObjectKind::System;
            }
            Some(Iptables) => {
                act = Some("loaded-firewall-rule-to");
                self.primary_from_first_record(b"table");
                self.d.object_kind = ObjectKind::Firewall;
            }
            Some(Promiscuous) => {
                self.primary_from_first_record(b"dev");
                if self.c.find(b"prom") {
                    act = Some(if self.c.field_int().value == 0 {
                        "left-promiscuous-mode-on-device"
                    } else {
                        "entered-promiscuous-mode-on-device"
                    });
                }
                self.d.object_kind = ObjectKind::Socket;
            }
            Some(Uid | Gid) => {
                act = Some("changed-identity-of");
                self.d.object_kind = ObjectKind::Process;
                self.set_program_obj();
                if self.d.how.is_some() {
                    self.d.how = Some(sc.to_vec().into());
                }
                self.collect_id_obj2(sc);
            }
            Some(SystemTime) => {
                act = Some("changed-system-time");
                self.d.object_kind = ObjectKind::System;
            }
            Some(MakeDev) => {
                self.set_file_object(0);
                self.simple_file_attr();
                act = Some(match self.d.object_kind {
                    ObjectKind::CharDev => "made-character-device",
                    ObjectKind::BlockDev => "made-block-device",
                    _ => "make-device",
                });
            }
            Some(SystemName) => {
                act = Some("changed-system-name");
                self.d.object_kind = ObjectKind::System;
            }
            Some(SystemMemory) => {
                act = Some("allocated-memory");
                if success == 1 {
                    act = Some("allocated-memory-in");
                    self.primary_from_first_record(b"comm");
                }
                self.d.object_kind = ObjectKind::Memory;
            }
            Some(Scheduler) => {
                act = Some("adjusted-scheduling-policy-of");
                self.d.object_kind = ObjectKind::Process;
                self.set_program_obj();
                if self.d.how.is_some() {
                    self.d.how = Some(sc.to_vec().into());
                }
            }
            Some(Bpf) => self.bpf_program(),
            Some(EvListen) => {
                self.op_action("connect", "connected-to", "disconnected-from", "connected");
                self.d.object_kind = ObjectKind::Socket;
                self.set_program_obj();
            }
            Some(Mac | Av) | None => {
                self.c.first_record();
                let real_key = self.c.find_str(b"key").is_some_and(|k| k != b"(null)");
                if real_key {
                    act = Some("triggered-audit-rule");
                    self.primary_at_cursor();
                } else {
                    act = Some("triggered-unknown-audit-rule");
                }
                self.d.object_kind = ObjectKind::AuditRule;
            }
        }
        // An AVC or FANOTIFY record decides the action, after the objects were found.
        match special {
            Some(Mac) => act = Some("accessed-mac-policy-controlled-object"),
            Some(Av) => act = Some("accessed-policy-controlled-file"),
            _ => {}
        }
        if let Some(a) = act {
            self.set_action(a);
        }
    }

    fn file_at(&mut self, adjust: i64, kind: ObjectKind) {
        self.d.object_kind = kind;
        self.set_file_object(adjust);
        self.simple_file_attr();
    }

    fn file_attrs_default(&mut self, kind: ObjectKind) {
        // The PATH record's mode decides; without one the object is a file.
        self.d.object_kind = kind;
        self.simple_file_attr();
    }

    /// `normalize_compound`: events of several records. Returns false for an
    /// event without a SYSCALL record (libauparse reports an error for those).
    pub(crate) fn normalize_compound(&mut self) -> bool {
        let otype = self.c.record_type();
        let mut t = otype;
        if t != msg::SYSCALL {
            loop {
                self.c.next_record();
                t = self.c.record_type();
                if t == 0 || t == msg::SYSCALL {
                    break;
                }
            }
        }
        if t == 0 {
            return false;
        }
        self.d.kind = Some(super::tables::event_kind(otype));
        let recno = self.c.record_num();
        let syscall = if self.c.find(b"syscall") {
            self.c.interpret()
        } else {
            None
        };
        if let Some(s) = self.c.find_str(b"success") {
            self.syscall_success = i32::from(s != b"no");
            self.d.result = Some(self.loc(recno));
        } else if !self.back_to(recno) {
            return false;
        }
        if self.set_prime_subject(b"auid", recno) && !self.back_to(recno) {
            return false;
        }
        // uid comes before auid in the record.
        if self.set_secondary_subject(b"uid", recno) && !self.back_to(recno) {
            return false;
        }
        self.syscall_subj_attr();
        self.c.first_field();
        if !self.how_from_exe(true) && !self.back_to(recno) {
            return false;
        }
        if let Some(k) = self.c.find_str(b"key") {
            if k != b"(null)" {
                self.d.key = Some(self.loc(recno));
            }
        }
        match otype {
            msg::ANOM_LINK => {
                if let Some(a) = record_action(otype) {
                    self.set_action(a);
                }
            }
            msg::CONFIG_CHANGE => {
                self.c.first_record();
                if self.c.find(b"op") {
                    let op = self.c.interpret().unwrap_or_default();
                    self.set_action_owned(op);
                    self.d.object_primary = self.find_simple_object(msg::CONFIG_CHANGE);
                }
            }
            _ => self.normalize_syscall(syscall.as_deref()),
        }
        true
    }

    /// Back to the first field of record `recno`; false if it is gone.
    fn back_to(&mut self, recno: usize) -> bool {
        if !self.c.goto_record(recno) {
            return false;
        }
        self.c.first_field();
        true
    }
}

fn parse_octal(s: &str) -> Option<u32> {
    // strtoul(f, NULL, 8): leading octal digits; errno only on overflow.
    let digits: &str = &s[..s.bytes().take_while(|c| (b'0'..=b'7').contains(c)).count()];
    if digits.is_empty() {
        return Some(0);
    }
    u64::from_str_radix(digits, 8).ok().map(|v| v as u32)
}
