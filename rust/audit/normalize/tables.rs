//! The normalizer's word lists: actions by record type, object classes by
//! syscall, event kinds by record type, object kinds.
//!
//! Facts from audit-userspace 3.0.9: `auparse/normalize_record_map.h`,
//! `normalize_syscall_map.h`, `normalize_evtypetab.h`,
//! `normalize_obj_kind_map.h`, and the kind switch of `auparse/normalize.c`
//! (`normalize_determine_evkind`).

use crate::audit::tables::msg;

/// What a syscall does to its object (`NORM_*` in `normalize-internal.h`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum SyscallClass {
    File,
    FileChattr,
    FileChperm,
    FileChown,
    FileLdmod,
    FileUnldmod,
    FileDir,
    FileMount,
    FileRename,
    FileStat,
    FileLnk,
    FileUmnt,
    FileDel,
    FileTime,
    Exec,
    SocketAccept,
    SocketBind,
    SocketConn,
    SocketRecv,
    SocketSend,
    Pid,
    Mac,
    MacLoad,
    MacConfig,
    MacEnforce,
    MacErr,
    Iptables,
    Promiscuous,
    Uid,
    Gid,
    SystemTime,
    MakeDev,
    SystemName,
    FileSysStat,
    SystemMemory,
    Scheduler,
    Av,
    Bpf,
    EvListen,
}

/// `normalize_syscall_map.h`.
pub(crate) fn syscall_class(name: &[u8]) -> Option<SyscallClass> {
    use SyscallClass::*;
    Some(match name {
        b"access" | b"faccessat" | b"faccessat2" | b"newfstatat" | b"stat" | b"fstat"
        | b"lstat" | b"stat64" | b"statx" => FileStat,
        b"chmod" | b"fchmod" | b"fchmodat" => FileChperm,
        b"chown" | b"fchown" | b"fchownat" | b"lchown" => FileChown,
        b"finit_module" | b"init_module" => FileLdmod,
        b"delete_module" => FileUnldmod,
        b"setxattr" | b"fsetxattr" | b"lsetxattr" | b"removexattr" | b"fremovexattr"
        | b"lremovexattr" => FileChattr,
        b"mkdir" | b"mkdirat" => FileDir,
        b"mount" | b"move_mount" | b"fsmount" | b"fspick" => FileMount,
        b"statfs" | b"fstatfs" => FileSysStat,
        b"creat" | b"fallocate" | b"truncate" | b"ftruncate" | b"memfd_create" | b"open"
        | b"openat" | b"openat2" | b"readlink" | b"readlinkat" => File,
        b"rename" | b"renameat" | b"renameat2" => FileRename,
        b"rmdir" | b"unlink" | b"unlinkat" => FileDel,
        b"symlink" | b"symlinkat" => FileLnk,
        b"umount" | b"umount2" => FileUmnt,
        b"utime" | b"utimes" | b"futimesat" | b"utimensat" => FileTime,
        b"execve" | b"execveat" => Exec,
        b"accept" | b"accept4" => SocketAccept,
        b"bind" => SocketBind,
        b"connect" => SocketConn,
        b"recvfrom" | b"recvmsg" => SocketRecv,
        b"sendmsg" | b"sendto" => SocketSend,
        b"kill" | b"tkill" | b"tgkill" => Pid,
        b"setuid" | b"seteuid" | b"setfsuid" | b"setreuid" | b"setresuid" => Uid,
        b"setgid" | b"setegid" | b"setfsgid" | b"setregid" | b"setresgid" => Gid,
        b"settimeofday" | b"clock_settime" | b"stime" | b"adjtimex" => SystemTime,
        b"mknod" | b"mknodat" => MakeDev,
        b"sethostname" | b"setdomainname" => SystemName,
        b"mmap" | b"brk" => SystemMemory,
        b"sched_setparam" | b"sched_setscheduler" | b"sched_setattr" => Scheduler,
        _ => return None,
    })
}

/// `normalize_record_map.h`: the action a record type stands for.
pub(crate) fn record_action(t: u16) -> Option<&'static str> {
    Some(match t {
        msg::USER => "sent-message",
        msg::LOGIN => "changed-login-id-to",
        msg::USER_AUTH => "authenticated",
        msg::USER_ACCT => "was-authorized",
        msg::USER_MGMT => "modified-user-account",
        msg::CRED_ACQ => "acquired-credentials",
        msg::CRED_DISP => "disposed-credentials",
        msg::USER_START => "started-session",
        msg::USER_END => "ended-session",
        msg::USER_AVC => "accessed-mac-policy-controlled-object",
        msg::USER_CHAUTHTOK => "changed-password",
        msg::USER_ERR => "caused-account-error",
        msg::CRED_REFR => "refreshed-credentials",
        msg::USYS_CONFIG => "changed-configuration",
        msg::USER_LOGIN => "logged-in",
        msg::USER_LOGOUT => "logged-out",
        msg::ADD_USER => "added-user-account",
        msg::DEL_USER => "deleted-user-account",
        msg::ADD_GROUP => "added-group-account-to",
        msg::DEL_GROUP => "deleted-group-account-from",
        msg::DAC_CHECK => "access-result",
        msg::CHGRP_ID => "changed-group",
        msg::TEST => "sent-test",
        msg::TRUSTED_APP => "unknown",
        msg::USER_SELINUX_ERR => "access-error",
        msg::USER_CMD => "ran-command",
        msg::USER_TTY => "typed",
        msg::CHUSER_ID => "changed-user-id",
        msg::GRP_AUTH => "authenticated-to-group",
        msg::SYSTEM_BOOT => "booted-system",
        msg::SYSTEM_SHUTDOWN => "shutdown-system",
        msg::SYSTEM_RUNLEVEL => "changed-to-runlevel",
        msg::SERVICE_START => "started-service",
        msg::SERVICE_STOP => "stopped-service",
        msg::GRP_MGMT => "modified-group-account",
        msg::GRP_CHAUTHTOK => "changed-group-password",
        msg::MAC_CHECK => "mac-permission",
        msg::ACCT_LOCK => "locked-account",
        msg::ACCT_UNLOCK => "unlocked-account",
        msg::USER_DEVICE => "configured-device",
        msg::SOFTWARE_UPDATE => "installed-software",
        msg::DAEMON_START => "started-audit",
        msg::DAEMON_END => "shutdown-audit",
        msg::DAEMON_ABORT => "aborted-auditd-startup",
        msg::DAEMON_CONFIG => "changed-auditd-configuration",
        msg::DAEMON_RECONFIG => "reconfigured-auditd",
        msg::DAEMON_ROTATE => "rotated-audit-logs",
        msg::DAEMON_RESUME => "resumed-audit-logging",
        msg::DAEMON_ACCEPT => "remote-audit-connected",
        msg::DAEMON_CLOSE => "remote-audit-disconnected",
        msg::DAEMON_ERR => "audit-error",
        msg::CONFIG_CHANGE => "changed-audit-configuration",
        msg::TTY => "typed",
        msg::SECCOMP => "called-seccomp-controlled-syscall",
        msg::FEATURE_CHANGE => "changed-audit-feature",
        msg::KERN_MODULE => "loaded-kernel-module",
        msg::FANOTIFY => "accessed-policy-controlled-file",
        msg::AVC => "accessed-mac-policy-controlled-object",
        msg::MAC_POLICY_LOAD => "loaded-selinux-policy",
        msg::MAC_STATUS => "changed-selinux-enforcement-to",
        msg::MAC_CONFIG_CHANGE => "changed-selinux-boolean",
        msg::MAC_MAP_ADD => "added-mac-network-domain-mapping-to",
        msg::MAC_MAP_DEL => "deleted-mac-network-domain-mapping-from",
        msg::ANOM_PROMISCUOUS => "changed-socket-promiscuous-mode",
        msg::ANOM_ABEND => "crashed-program",
        // Spelled as libauparse spells it.
        msg::ANOM_LINK => "used-suspcious-link",
        msg::ANOM_CREAT => "created-suspicious-file",
        msg::KERNEL => "initialized-audit-subsystem",
        msg::ANOM_LOGIN_FAILURES => "failed-log-in-too-many-times-to",
        msg::ANOM_LOGIN_TIME => "attempted-log-in-during-unusual-hour-to",
        msg::ANOM_LOGIN_SESSIONS => "opened-too-many-sessions-to",
        msg::ANOM_LOGIN_LOCATION => "attempted-log-in-from-unusual-place-to",
        msg::ANOM_RBAC_INTEGRITY_FAIL => "tested-file-system-integrity-of",
        msg::ANOM_EXEC => "attempted-execution-of-forbidden-program",
        msg::USER_ROLE_CHANGE => "changed-role-to",
        msg::ROLE_ASSIGN => "assigned-user-role-to",
        msg::ROLE_REMOVE => "removed-use-role-from",
        msg::LABEL_OVERRIDE => "overrode-label-of",
        msg::LABEL_LEVEL_CHANGE => "modified-level-of",
        msg::FS_RELABEL => "relabeled-filesystem",
        msg::USER_MAC_POLICY_LOAD => "loaded-mac-policy",
        msg::ROLE_MODIFY => "modified-role",
        msg::USER_MAC_CONFIG_CHANGE => "changed-mac-configuration",
        msg::USER_MAC_STATUS => "changed-selinux-enforcement-to",
        msg::CRYPTO_LOGIN => "crypto-officer-logged-in",
        msg::CRYPTO_LOGOUT => "crypto-officer-logged-out",
        msg::CRYPTO_KEY_USER => "negotiated-crypto-key",
        msg::CRYPTO_SESSION => "started-crypto-session",
        msg::VIRT_CONTROL => "issued-vm-control",
        msg::VIRT_RESOURCE => "assigned-vm-resource",
        msg::VIRT_MACHINE_ID => "assigned-vm-id",
        msg::VIRT_INTEGRITY_CHECK => "checked-integrity-of",
        msg::VIRT_CREATE => "created-vm-image",
        msg::VIRT_DESTROY => "deleted-vm-image",
        msg::VIRT_MIGRATE_IN => "migrated-vm-from",
        msg::VIRT_MIGRATE_OUT => "migrated-vm-to",
        _ => return None,
    })
}

/// `normalize_determine_evkind` with `normalize_evtypetab.h`'s names.
pub(crate) fn event_kind(t: u16) -> &'static str {
    use msg::*;
    match t {
        USER_AUTH..=USER_ACCT
        | CRED_ACQ..=USER_END
        | USER_CHAUTHTOK..=CRED_REFR
        | USER_LOGIN..=USER_LOGOUT
        | LOGIN => "user-login",
        GRP_AUTH | CHGRP_ID => "group-change",
        USER_MGMT | ADD_USER..=DEL_GROUP | GRP_MGMT..=GRP_CHAUTHTOK | ACCT_LOCK..=ACCT_UNLOCK => {
            "user-account"
        }
        KERNEL | SYSTEM_BOOT..=SERVICE_STOP => "system-services",
        USYS_CONFIG | CONFIG_CHANGE | NETFILTER_CFG | FEATURE_CHANGE | TIME_INJOFFSET
        | TIME_ADJNTPVAL | USER_DEVICE | SOFTWARE_UPDATE => "configuration",
        SECCOMP => "dac-decision",
        TEST..=TRUSTED_APP | USER_CMD | CHUSER_ID => "user-space",
        USER_TTY | TTY => "TTY",
        EVENT_LISTENER | FIRST_DAEMON..=LAST_DAEMON => "audit-daemon",
        USER_SELINUX_ERR
        | USER_AVC
        | APPARMOR_ALLOWED..=APPARMOR_DENIED
        | APPARMOR_ERROR
        | AVC..=AVC_PATH => "mac-decision",
        INTEGRITY_FIRST_MSG..=INTEGRITY_LAST_MSG | ANOM_RBAC_INTEGRITY_FAIL => "integrity",
        FIRST_KERN_ANOM_MSG..=LAST_KERN_ANOM_MSG
        | FIRST_ANOM_MSG..=ANOM_RBAC_FAIL
        | ANOM_CRYPTO_FAIL..=LAST_ANOM_MSG => "anomaly",
        FIRST_ANOM_RESP..=LAST_ANOM_RESP => "anomaly-response",
        MAC_POLICY_LOAD..=LAST_SELINUX
        | AA..=APPARMOR_AUDIT
        | APPARMOR_HINT..=APPARMOR_STATUS
        | FIRST_USER_LSPP_MSG..=LAST_USER_LSPP_MSG => "mac",
        FIRST_KERN_CRYPTO_MSG..=LAST_KERN_CRYPTO_MSG | FIRST_CRYPTO_MSG..=LAST_CRYPTO_MSG => {
            "crypto"
        }
        FIRST_VIRT_MSG..=LAST_VIRT_MSG => "virt",
        SYSCALL..=SOCKETCALL
        | SOCKADDR..=MQ_GETSETATTR
        | FD_PAIR..=OBJ_PID
        | BPRM_FCAPS..=NETFILTER_PKT => "audit-rule",
        FANOTIFY => "av-decision",
        BPF => "bpf-program",
        _ => "unknown",
    }
}

/// What the object is (`NORM_WHAT_*`, names from `normalize_obj_kind_map.h`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ObjectKind {
    #[default]
    Unknown,
    Fifo,
    CharDev,
    Directory,
    BlockDev,
    File,
    Link,
    Socket,
    Process,
    Firewall,
    Service,
    Account,
    UserSession,
    Vm,
    Printer,
    System,
    AuditRule,
    AuditConfig,
    MacConfig,
    Filesystem,
    Memory,
    Keystrokes,
    Device,
    Software,
}

impl ObjectKind {
    pub fn name(self) -> &'static str {
        use ObjectKind::*;
        match self {
            Unknown => "unknown",
            Fifo => "fifo",
            CharDev => "character-device",
            Directory => "directory",
            BlockDev => "block-device",
            File => "file",
            Filesystem => "file-system",
            Link => "symlink",
            Socket => "socket",
            Process => "process",
            Firewall => "firewall",
            Service => "service",
            Account => "account",
            UserSession => "user-session",
            Vm => "virtual-machine",
            Printer => "printer",
            System => "system",
            AuditRule => "admin-defined-rule",
            AuditConfig => "audit-config",
            MacConfig => "mac-config",
            Memory => "memory",
            Keystrokes => "keystrokes",
            Device => "device",
            Software => "software",
        }
    }

    /// From a PATH record's octal `mode` (`set_file_object`).
    pub(crate) fn from_mode(mode: u32) -> Option<ObjectKind> {
        Some(match mode & 0o170000 {
            0o100000 => ObjectKind::File,
            0o040000 => ObjectKind::Directory,
            0o020000 => ObjectKind::CharDev,
            0o060000 => ObjectKind::BlockDev,
            0o010000 => ObjectKind::Fifo,
            0o120000 => ObjectKind::Link,
            0o140000 => ObjectKind::Socket,
            _ => return None,
        })
    }
}
