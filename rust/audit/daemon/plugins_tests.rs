//! Tests of the daemon's plugins module.
use super::*;

fn chunk(from: usize, n: usize) -> Arc<PluginChunk> {
    let mut c = PluginChunk::default();
    for i in from..from + n {
        let s = c.data.len();
        c.data
            .extend_from_slice(format!("type=SYSCALL msg=audit(1.000:{i}): x=1\n").as_bytes());
        c.records.push((1300, s as u32, (c.data.len() - 1) as u32));
    }
    Arc::new(c)
}

fn shell_plugin(script: &str) -> PluginConfig {
    PluginConfig {
        file: PathBuf::from("test.conf"),
        active: true,
        direction_out: true,
        path: PathBuf::from("/bin/sh"),
        always: true,
        args: vec!["-c".into(), script.into()],
        format: PluginFormat::String,
    }
}

/// A plugin's output file, removed when dropped (also when the test fails).
fn tmp(tag: &str) -> tempfile::TempPath {
    tempfile::Builder::new()
        .prefix(&format!("auditlink-plugin-{tag}-"))
        .tempfile()
        .unwrap()
        .into_temp_path()
}

#[test]
fn debian_plugin_files_parse() {
    let syslog = "active = no\ndirection = out\npath = /sbin/audisp-syslog\ntype = always \nargs = LOG_INFO\nformat = string\n";
    let p = PluginConfig::parse(Path::new("syslog.conf"), syslog).unwrap();
    assert!(!p.active && p.always && p.format == PluginFormat::String);
    assert_eq!(p.args, ["LOG_INFO"]);
    let af = "active = no\ndirection = out\npath = builtin_af_unix\ntype = builtin \nargs = 0640 /var/run/audispd_events\nformat = string\n";
    let p = PluginConfig::parse(Path::new("af_unix.conf"), af).unwrap();
    assert!(!p.always);
    assert_eq!(p.args.len(), 2);
    assert!(PluginConfig::parse(Path::new("x.conf"), "active = maybe\n")
        .unwrap_err()
        .to_string()
        .contains("x.conf line 1"));
    assert!(PluginConfig::parse(Path::new("x.conf"), "colour = blue\n").is_err());
}

#[test]
fn a_plugin_gets_every_record_on_stdin() {
    let out = tmp("all");
    let mut p = Plugin::start(
        shell_plugin(&format!("cat > {}", out.display())),
        1000,
        3,
        OverflowAction::Syslog,
    )
    .unwrap();
    for b in 0..5 {
        p.offer(&chunk(b * 10, 10));
    }
    p.stop();
    let text = std::fs::read_to_string(&out).unwrap();
    assert_eq!(text.lines().count(), 50);
    assert!(text.starts_with("type=SYSCALL msg=audit(1.000:0): x=1\n"));
    assert_eq!(p.counters.sent.load(Ordering::Relaxed), 50);
}

#[test]
fn a_dying_plugin_is_restarted_up_to_max_restarts() {
    let out = tmp("restart");
    // Takes one line per run, then exits.
    let mut p = Plugin::start(
        shell_plugin(&format!("head -n 1 >> {}", out.display())),
        1000,
        2,
        OverflowAction::Syslog,
    )
    .unwrap();
    for b in 0..6 {
        p.offer(&chunk(b, 1));
        std::thread::sleep(Duration::from_millis(100));
    }
    p.stop();
    let restarts = p.counters.restarts.load(Ordering::Relaxed);
    assert_eq!(restarts, 2);
    assert!(p.counters.dead_dropped.load(Ordering::Relaxed) >= 1);
}

#[test]
fn a_slow_plugin_overflows_its_own_queue_only() {
    let mut p = Plugin::start(shell_plugin("sleep 2"), 10, 0, OverflowAction::Syslog).unwrap();
    let t = std::time::Instant::now();
    for b in 0..2000 {
        p.offer(&chunk(b * 100, 100));
    }
    // Offering never waits for the plugin.
    assert!(t.elapsed() < Duration::from_secs(1));
    assert!(p.counters.overflowed.load(Ordering::Relaxed) > 0);
    p.stop();
}

#[test]
fn binary_format_frames_each_record() {
    let out = tmp("binary");
    let mut cfg = shell_plugin(&format!("cat > {}", out.display()));
    cfg.format = PluginFormat::Binary;
    let mut p = Plugin::start(cfg, 100, 0, OverflowAction::Syslog).unwrap();
    p.offer(&chunk(0, 2));
    p.stop();
    let data = std::fs::read(&out).unwrap();
    assert_eq!(data.len(), 2 * (16 + MAX_AUDIT_MESSAGE_LENGTH));
    assert_eq!(&data[0..4], &0u32.to_ne_bytes());
    assert_eq!(&data[4..8], &16u32.to_ne_bytes());
    assert_eq!(&data[8..12], &1300u32.to_ne_bytes());
    let len = u32::from_ne_bytes(data[12..16].try_into().unwrap()) as usize;
    assert_eq!(&data[16..16 + len], b"type=SYSCALL msg=audit(1.000:0): x=1");
}
