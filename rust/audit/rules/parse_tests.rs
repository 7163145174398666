//! Tests of the auditctl grammar, and the machine-independent resolver and
//! helpers the other rules tests share.

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
fn typical_syscall_rule() {
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
    // The key separator is refused in every key, whatever the operator.
    for text in [
        "-a always,exit -S open -F key&\x01",
        "-a always,exit -S open -F key!=a\x01b",
        "-a always,exit -S open -k a\x01b",
    ] {
        assert!(error(text).contains("has illegal character"), "{text}");
    }
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
    for (list, msg) in [
        ("task", "being added to task list"),
        ("user", "being added to user list"),
        ("filesystem", "being added to filesystem list"),
        ("exclude", "cannot be put on exclude list"),
    ] {
        assert_eq!(
            error(&format!("-a always,{list} -U openat")),
            format!("Error: uring op auditing {msg}")
        );
    }
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
