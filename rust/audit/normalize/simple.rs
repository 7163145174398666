//! Normalizing one-record events (user-space messages, logins, daemon,
//! config and anomaly records): every part comes from the one record.
//!
//! Follows `normalize_simple`, `find_simple_object`,
//! `find_simple_obj_secondary`, `find_simple_obj_primary2` and the attribute
//! collectors of audit-userspace 3.0.9 `auparse/normalize.c`, step by step.

use std::borrow::Cow;

use super::engine::Normalizer;
use super::tables::{event_kind, record_action, ObjectKind};
use super::Loc;
use crate::audit::tables::msg;

impl Normalizer<'_, '_> {
    /// `find_simple_object`: the object field of a one-record event, and
    /// the object kind. The location is always in record 0, whatever record
    /// the search ended in (as the C records it).
    pub(crate) fn find_simple_object(&mut self, t: u16) -> Option<Loc> {
        use msg::*;
        use ObjectKind as K;
        self.c.first_field();
        let found = match t {
            SERVICE_START | SERVICE_STOP => self.find_kind(b"unit", K::Service),
            SYSTEM_RUNLEVEL => self.find_kind(b"new-level", K::System),
            USER_ROLE_CHANGE => self.find_kind(b"selected-context", K::UserSession),
            ROLE_ASSIGN | ROLE_REMOVE | USER_MGMT | ACCT_LOCK | ACCT_UNLOCK | ADD_USER
            | DEL_USER | ADD_GROUP | DEL_GROUP | GRP_MGMT => {
                let mut f = self.c.find(b"id");
                if !f {
                    self.c.first_record();
                    f = self.c.find(b"acct");
                }
                self.d.object_kind = K::Account;
                f
            }
            USER_START | USER_END | USER_ERR | USER_LOGIN | USER_LOGOUT => {
                self.find_kind(b"terminal", K::UserSession)
            }
            USER_AUTH | USER_ACCT | CRED_ACQ | CRED_REFR | CRED_DISP | USER_CHAUTHTOK
            | GRP_CHAUTHTOK | ANOM_LOGIN_FAILURES | ANOM_LOGIN_TIME | ANOM_LOGIN_SESSIONS
            | ANOM_LOGIN_LOCATION => self.find_kind(b"acct", K::UserSession),
            ANOM_EXEC | USER_CMD => self.find_kind(b"cmd", K::Process),
            USER_TTY | TTY => {
                self.c.first_record();
                self.find_kind(b"data", K::Keystrokes)
            }
            USER_DEVICE => {
                self.c.first_record();
                self.find_kind(b"device", K::Keystrokes)
            }
            SOFTWARE_UPDATE => {
                self.c.first_record();
                self.find_kind(b"sw", K::Software)
            }
            VIRT_MACHINE_ID => self.find_kind(b"vm", K::Vm),
            VIRT_RESOURCE => self.find_kind(b"resrc", K::Vm),
            VIRT_CONTROL => self.find_kind(b"op", K::Vm),
            LABEL_LEVEL_CHANGE => self.find_kind(b"printer", K::Printer),
            CONFIG_CHANGE => {
                let f = self.find_config_change_object();
                self.d.object_kind = K::AuditConfig;
                f
            }
            MAC_CONFIG_CHANGE => self.find_kind(b"bool", K::MacConfig),
            MAC_STATUS => self.find_kind(b"enforcing", K::MacConfig),
            // Policy records: no object yet.
            MAC_POLICY_LOAD | LABEL_OVERRIDE | DEV_ALLOC..=USER_MAC_CONFIG_CHANGE => {
                self.d.object_kind = K::MacConfig;
                false
            }
            USER => self.c.find(b"addr"),
            USYS_CONFIG => {
                if self.c.find(b"op") {
                    let op = self.c.interpret().unwrap_or_default();
                    self.set_action_owned(op);
                }
                self.d.object_kind = K::System;
                false
            }
            CRYPTO_KEY_USER => self.find_kind(b"fp", K::UserSession),
            CRYPTO_SESSION => self.find_kind(b"addr", K::UserSession),
            ANOM_RBAC_INTEGRITY_FAIL => self.find_kind(b"hostname", K::Filesystem),
            _ => false,
        };
        found.then(|| self.here_in_record0())
    }

    fn find_kind(&mut self, name: &[u8], kind: ObjectKind) -> bool {
        let f = self.c.find(name);
        self.d.object_kind = kind;
        f
    }

    /// `find_config_change_object`: the rule key, else the setting changed.
    fn find_config_change_object(&mut self) -> bool {
        self.c.first_record();
        if self.c.find_str(b"key").is_some_and(|k| k != b"(null)") {
            return true;
        }
        for name in [
            &b"audit_enabled"[..],
            b"audit_pid",
            b"audit_backlog_limit",
            b"audit_failure",
            b"actions",
        ] {
            self.c.first_record();
            if self.c.find(name) {
                return true;
            }
        }
        false
    }

    fn find_in_record0(&mut self, name: Option<&[u8]>) -> Option<Loc> {
        self.c.first_field();
        let name = name?;
        self.c.find(name).then(|| self.here_in_record0())
    }

    fn collect_simple_subj_attr(&mut self) {
        if !self.all {
            return;
        }
        self.c.first_record();
        self.add_subj_attr(b"pid", 0);
        self.add_subj_attr(b"subj", 0);
    }

    fn collect_userspace_subj_attr(&mut self, t: u16) {
        if !self.all {
            return;
        }
        self.add_subj_attr(b"hostname", 0);
        self.add_subj_attr(b"addr", 0);
        // Some events have the terminal as their object.
        if !matches!(t, msg::USER_START | msg::USER_END | msg::USER_ERR) {
            self.add_subj_attr(b"terminal", 0);
        }
    }

    fn action_from_type(&mut self, t: u16) {
        if let Some(a) = record_action(t) {
            self.set_action(a);
        }
    }

    /// `normalize_simple`. Returns false when libauparse reports an error.
    pub(crate) fn normalize_simple(&mut self) -> bool {
        let t = self.c.record_type();
        // Some older kernels write no PROCTITLE: a lone SYSCALL.
        if t == msg::SYSCALL {
            return self.normalize_compound();
        }
        self.d.kind = Some(event_kind(t));
        match t {
            msg::CONFIG_CHANGE
            | msg::FEATURE_CHANGE
            | msg::SECCOMP
            | msg::ANOM_ABEND
            | msg::ANOM_PROMISCUOUS => self.simple_auid_first(t),
            msg::LOGIN => self.simple_login(),
            msg::NETFILTER_CFG => {
                self.collect_simple_subj_attr();
                self.how_from(b"comm");
                self.set_action("loaded-firewall-rule-to");
                self.c.first_record();
                if self.c.find(b"table") {
                    self.d.object_primary = Some(self.c.here());
                }
                self.d.subject_kind = Some("system");
                self.d.object_kind = ObjectKind::Firewall;
            }
            msg::AVC => self.simple_avc(),
            // Daemon records never transit the kernel.
            msg::FIRST_DAEMON..msg::LAST_DAEMON => self.simple_daemon(t),
            msg::BPF => {
                self.d.subject_kind = Some("system");
                self.bpf_program();
            }
            msg::EVENT_LISTENER => self.simple_listener(),
            msg::MAC_UNLBL_ALLOW..=msg::LAST_SELINUX => self.simple_labeled_net(t),
            _ => self.simple_user(t),
        }
        true
    }

    /// CONFIG_CHANGE, FEATURE_CHANGE, SECCOMP, ANOM_ABEND, ANOM_PROMISCUOUS:
    /// auid, (op), (uid), the rest.
    fn simple_auid_first(&mut self, t: u16) {
        self.set_prime_subject(b"auid", 0);
        self.add_session(0);
        self.collect_simple_subj_attr();
        let mut mapped = true;
        if t == msg::CONFIG_CHANGE {
            self.c.first_field();
            if self.c.find(b"op") {
                let op = self.c.interpret().unwrap_or_default();
                let op = op.strip_prefix(b"\"").unwrap_or(&op);
                if op.starts_with(b"add_rule") {
                    self.set_action("added-audit-rule");
                    self.d.object_primary = self.find_simple_object(t);
                    mapped = false;
                } else if op.starts_with(b"remove_rule") {
                    self.set_action("deleted-audit-rule");
                    self.d.object_primary = self.find_simple_object(t);
                    mapped = false;
                }
            }
        }
        if mapped {
            self.action_from_type(t);
            if t == msg::CONFIG_CHANGE {
                self.d.object_primary = self.find_simple_object(t);
            }
            self.c.first_record();
        }
        match t {
            msg::FEATURE_CHANGE => {
                self.secondary_uid_or_restart();
                self.how_from(b"exe");
                self.set_prime_object(b"feature", 0);
                self.d.object_kind = ObjectKind::System;
            }
            msg::SECCOMP => {
                self.secondary_uid_or_restart();
                self.how_from(b"exe");
                if self.set_prime_object(b"syscall", 0) {
                    self.c.first_record();
                }
                self.d.object_kind = ObjectKind::Process;
                if self.c.find(b"code") {
                    self.d.result = Some(self.loc(0));
                }
                return;
            }
            msg::ANOM_ABEND => {
                self.secondary_uid_or_restart();
                if self.set_prime_object(b"exe", 0) {
                    self.c.first_record();
                }
                self.d.object_kind = ObjectKind::Process;
                self.how_from(b"sig");
            }
            msg::ANOM_PROMISCUOUS => {
                self.c.first_field();
                self.set_prime_object(b"dev", 0);
                self.set_secondary_subject(b"uid", 0);
                self.d.object_kind = ObjectKind::Socket;
            }
            _ => {}
        }
        self.set_results(0);
    }

    fn secondary_uid_or_restart(&mut self) {
        self.c.first_field();
        if self.set_secondary_subject(b"uid", 0) {
            self.c.first_record();
        }
    }

    /// LOGIN: the kernel's loginuid change; the new auid is the object.
    fn simple_login(&mut self) {
        if self.set_secondary_subject(b"uid", 0) {
            self.c.first_record();
        }
        self.collect_simple_subj_attr();
        if self.set_prime_subject(b"old-auid", 0) {
            self.c.first_record();
        }
        if self.set_prime_object(b"auid", 0) {
            self.c.first_record();
        }
        self.d.object_kind = ObjectKind::UserSession;
        self.add_session(0);
        self.set_results(0);
        self.action_from_type(msg::LOGIN);
    }

    fn simple_avc(&mut self) {
        if !self.how_from(b"comm") {
            self.c.first_record();
        }
        self.set_prime_subject(b"scontext", 0);
        self.set_subject_kind_unknown();
        self.c.first_record();
        if self.all {
            // Only with attributes: it would disturb the text format.
            self.set_prime_object(b"tcontext", 0);
            self.c.first_record();
        }
        self.d.object_kind = ObjectKind::Unknown;
        self.action_from_type(msg::AVC);
        self.c.first_record();
        if self.c.find(b"seresult") {
            self.d.result = Some(self.loc(0));
        }
    }

    fn simple_daemon(&mut self, t: u16) {
        self.set_prime_subject(b"auid", 0);
        if self.set_secondary_subject(b"uid", 0) {
            self.c.first_record();
        }
        if self.add_session(0) {
            self.c.first_record();
        }
        self.collect_simple_subj_attr();
        self.d.subject_kind = Some("auditd");
        self.action_from_type(t);
        self.d.object_kind = ObjectKind::Service;
        if t == msg::DAEMON_START {
            self.d.how = Some(Cow::Borrowed(b"init"));
        } else if t < msg::DAEMON_ACCEPT && t != msg::DAEMON_ABORT {
            self.d.how = Some(Cow::Borrowed(b"signal"));
        }
        self.set_results(0);
    }

    fn simple_listener(&mut self) {
        self.set_prime_subject(b"auid", 0);
        self.c.first_record();
        self.set_secondary_subject(b"uid", 0);
        self.c.first_record();
        self.add_session(0);
        self.collect_simple_subj_attr();
        self.op_action("connect", "connected-to", "disconnected-from", "connected");
        self.set_program_obj();
        self.d.object_kind = ObjectKind::Socket;
        self.c.first_record();
        self.how_from(b"exe");
        self.c.first_record();
        self.set_results(0);
    }

    fn simple_labeled_net(&mut self, t: u16) {
        self.set_prime_subject(b"auid", 0);
        // No secondary subject: the kind comes from auid.
        self.set_subject_what();
        self.add_session(0);
        self.add_subj_attr(b"subj", 0);
        let mut act = None;
        if t == msg::MAC_UNLBL_ALLOW {
            if self.c.find(b"unlbl_accept") {
                act = Some(if self.c.field_int().value == 1 {
                    "is-allowing-unlabeled-network-traffic"
                } else {
                    "is-disallowing-unlabeled-network-traffic"
                });
            } else {
                self.c.first_record();
            }
        } else {
            act = record_action(t);
        }
        if let Some(a) = act {
            self.set_action(a);
        }
        if matches!(t, msg::MAC_MAP_ADD | msg::MAC_MAP_DEL)
            && self.set_prime_object(b"nlbl_domain", 0)
        {
            self.c.first_record();
        }
        self.d.object_kind = ObjectKind::MacConfig;
        self.set_results(0);
    }

    /// Everything else: uid, auid, ses, res, then the object by type.
    fn simple_user(&mut self, t: u16) {
        if t == msg::USER_LOGIN {
            // A failed login has no auid yet: the account is the subject.
            if self.set_prime_subject(b"id", 0) {
                self.c.first_record();
                if !self.set_prime_subject(b"acct", 0) {
                    self.set_subject_what();
                }
            } else {
                self.set_subject_what();
            }
            self.c.first_record();
        } else {
            if self.set_secondary_subject(b"uid", 0) {
                self.c.first_record();
            }
            self.set_prime_subject(b"auid", 0);
        }
        self.add_session(0);
        self.collect_simple_subj_attr();
        if (msg::FIRST_USER_MSG..msg::LAST_USER_MSG).contains(&t)
            || (msg::FIRST_USER_MSG2..msg::LAST_USER_MSG2).contains(&t)
        {
            self.collect_userspace_subj_attr(t);
        }
        if t != msg::USER_AVC {
            self.set_results(0);
        } else {
            self.c.first_record();
            if self.c.find(b"seresult") {
                self.d.result = Some(self.loc(0));
            }
            self.c.first_record();
            self.set_prime_subject(b"scontext", 0);
            if self.all {
                self.c.first_record();
                self.set_prime_object(b"tcontext", 0);
            }
        }
        let mut act: Option<Cow<'static, [u8]>> = None;
        if t == msg::USER_DEVICE {
            self.c.first_record();
            if let Some(op) = self.c.find_str(b"op") {
                act = Some(Cow::Owned(op.to_vec()));
            }
        }
        if act.is_none() {
            act = record_action(t).map(|a| Cow::Borrowed(a.as_bytes()));
        }
        if act.is_some() {
            self.d.action = act;
        }
        if t != msg::USER_AVC {
            self.c.first_record();
            self.d.object_primary = self.find_simple_object(t);
            let sec = match t {
                msg::CRYPTO_SESSION => Some(&b"rport"[..]),
                msg::SOFTWARE_UPDATE => Some(&b"sw_type"[..]),
                _ => None,
            };
            self.d.object_secondary = self.find_in_record0(sec);
            let two = match t {
                msg::VIRT_CONTROL | msg::VIRT_RESOURCE => Some(&b"vm"[..]),
                msg::SOFTWARE_UPDATE => Some(&b"root_dir"[..]),
                _ => None,
            };
            self.d.object_primary2 = self.find_in_record0(two);
            if self.all {
                if t == msg::USER_DEVICE {
                    self.add_obj_attr(b"uuid", 0);
                } else if t == msg::SOFTWARE_UPDATE {
                    self.c.first_record();
                    self.add_obj_attr(b"key_enforce", 0);
                    self.add_obj_attr(b"gpg_res", 0);
                }
            }
        }
        match t {
            msg::SYSTEM_BOOT | msg::SYSTEM_SHUTDOWN => {
                self.d.object_kind = if t == msg::SYSTEM_BOOT {
                    ObjectKind::System
                } else {
                    ObjectKind::Service
                };
                self.how_from(b"exe");
                return;
            }
            _ => {}
        }
        self.c.first_record();
        match t {
            msg::ANOM_EXEC => {
                self.how_from(b"terminal");
            }
            msg::TTY => {
                self.how_from(b"comm");
            }
            _ => {
                self.how_from_exe(false);
            }
        }
    }
}
