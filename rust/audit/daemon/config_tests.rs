//! Tests of the daemon's config module.
use super::*;

fn debian() -> String {
    std::fs::read_to_string(format!(
        "{}/tests/data/daemon/debian-auditd.conf",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap()
}

fn err(text: &str) -> String {
    DaemonConfig::parse(text).unwrap_err().to_string()
}

#[test]
fn debian_auditd_conf_loads() {
    let c = DaemonConfig::parse(&debian()).unwrap();
    assert_eq!(c.log_file, PathBuf::from("/var/log/audit/audit.log"));
    assert_eq!(c.log_format, LogFormat::Enriched);
    assert_eq!(c.flush, Flush::IncrementalAsync);
    assert_eq!(c.freq, 50);
    assert_eq!(c.max_log_file, 8);
    assert_eq!(c.num_logs, 5);
    assert_eq!(c.max_log_file_action, SizeAction::Rotate);
    assert_eq!(c.space_left, Space::Megabytes(75));
    assert_eq!(c.admin_space_left_action, Action::Suspend);
    assert_eq!(c.q_depth, 2000);
    assert_eq!(c.overflow_action, OverflowAction::Syslog);
    assert_eq!(c.end_of_event_timeout, 2);
    assert_ne!(c.log_group, 0, "log_group = adm");
    // Debian's file sets nothing auditlink ignores.
    assert!(c.warnings.is_empty(), "{:?}", c.warnings);
}

#[test]
fn errors_name_the_line() {
    assert!(err("write_logs = yes\nbogus = 1\n").contains("line 2: unknown keyword \"bogus\""));
    assert!(err("freq = 1x\n").contains("line 1: freq: \"1x\" should only be numbers"));
    assert!(err("\n\nflush = sometimes\n").contains("line 3: flush"));
    assert!(err("log_file /x\n").contains("line 1: missing equal sign"));
    assert!(err("log_file =\n").contains("line 1:"));
    assert!(err("num_logs = 1000\n").contains("999"));
    assert!(err("log_format = RAW extra\n").contains("invalid option"));
    assert!(err("space_left = 100%\n").contains("less than 100"));
    assert!(err("disk_full_action = exec\n").contains("needs a program"));
    assert!(err("log_file = relative.log\n").contains("absolute"));
}

#[test]
fn auditd_sanity_checks() {
    assert!(err("space_left = 5\nadmin_space_left = 5\n").contains("must be larger"));
    assert!(err("flush = incremental\nspace_left = 2\n").contains("freq"));
    assert!(
        err("log_group = 0\nlog_group = root\nlog_file = /var/log/audit.log\nspace_left=1\n")
            .contains("line 4")
    );
    // An empty file is auditd's defaults, without the checks.
    assert_eq!(
        DaemonConfig::parse("# nothing\n").unwrap(),
        DaemonConfig::default()
    );
}

#[test]
fn values_are_case_insensitive_and_actions_take_an_option() {
    let c = DaemonConfig::parse(
        "log_format = raw\nspace_left = 10%\nadmin_space_left = 5%\ndisk_error_action = EXEC /bin/true\n",
    )
    .unwrap();
    assert_eq!(c.log_format, LogFormat::Raw);
    assert_eq!(c.space_left, Space::Percent(10));
    assert_eq!(
        c.disk_error_action,
        Action::Exec(PathBuf::from("/bin/true"))
    );
    assert_eq!(Space::Percent(10).bytes(1000), 100);
}

#[test]
fn unimplemented_features_warn_once_naming_the_line() {
    let c = DaemonConfig::parse(
        "space_left = 2\ntcp_listen_port = 60\ndisk_full_action = email\nenable_krb5 = yes\ndispatcher = /sbin/x\n",
    )
    .unwrap();
    assert_eq!(c.warnings.len(), 4, "{:?}", c.warnings);
    assert!(c.warnings[0].starts_with("auditd.conf line 2: tcp_listen_port"));
}

#[test]
fn every_auditd_3_0_9_key_is_accepted() {
    let keys = [
        "local_events = yes",
        "write_logs = yes",
        "log_file = /tmp/a.log",
        "log_format = RAW",
        "log_group = root",
        "flush = data",
        "freq = 0",
        "num_logs = 4",
        "dispatcher = /x",
        "name_format = user",
        "name = box",
        "disp_qos = lossy",
        "max_log_file = 8",
        "max_log_file_action = keep_logs",
        "space_left = 75",
        "space_left_action = rotate",
        "action_mail_acct = root",
        "verify_email = no",
        "admin_space_left = 50",
        "admin_space_left_action = suspend",
        "disk_full_action = ignore",
        "disk_error_action = syslog",
        "priority_boost = 4",
        "tcp_listen_port = 60",
        "tcp_listen_queue = 5",
        "tcp_max_per_addr = 1",
        "use_libwrap = yes",
        "tcp_client_ports = 1024-65535",
        "tcp_client_max_idle = 0",
        "transport = TCP",
        "enable_krb5 = no",
        "krb5_principal = auditd",
        "krb5_key_file = /etc/audit/audit.key",
        "distribute_network = no",
        "q_depth = 2000",
        "overflow_action = syslog",
        "max_restarts = 10",
        "plugin_dir = /etc/audit/plugins.d",
        "end_of_event_timeout = 2",
    ];
    let c = DaemonConfig::parse(&keys.join("\n")).unwrap();
    assert_eq!(c.name.as_deref(), Some("box"));
    assert_eq!(c.tcp_client_ports, (1024, 65535));
}

proptest::proptest! {
    #[test]
    fn any_text_parses_or_errors(text in "[a-z_ =%0-9#\n/]{0,200}") {
        let _ = DaemonConfig::parse(&text);
    }
}
