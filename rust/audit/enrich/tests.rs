//! Enricher tests on synthetic logs (no /proc): process trees, pid reuse,
//! labels, filters and the JSON shape.

use serde_json::Value as J;

use super::*;
use crate::audit::records::LogStream;

const TAIL: &str = "auid=0 uid=0 gid=0 euid=0 suid=0 fsuid=0 egid=0 sgid=0 fsgid=0 tty=pts0 ses=1";

fn cfg(extra: &str) -> Enricher {
    let text = format!("[auditlink]\nprocfs = false\n{extra}");
    Enricher::from_toml(&text).unwrap()
}

/// One syscall event's lines; `more` are the extra records' bodies.
#[allow(clippy::too_many_arguments)] // a log line has that many parts
fn syscall(
    serial: u64,
    nr: u32,
    exit: i64,
    pid: u32,
    ppid: u32,
    comm: &str,
    exe: &str,
    key: &str,
    more: &[&str],
) -> String {
    let ts = format!("audit(1700000000.{:03}:{serial})", serial % 1000);
    let key = if key.is_empty() {
        "(null)".to_string()
    } else {
        format!("\"{key}\"")
    };
    let mut s = format!(
        "type=SYSCALL msg={ts}: arch=c000003e syscall={nr} success=yes exit={exit} a0=0 a1=0 a2=0 a3=0 items=0 ppid={ppid} pid={pid} {TAIL} comm=\"{comm}\" exe=\"{exe}\" key={key}\n"
    );
    for m in more {
        s.push_str(&format!("type={m}\n").replacen(": ", &format!(" msg={ts}: "), 1));
    }
    s.push_str(&format!("type=EOE msg={ts}: \n"));
    s
}

fn exec(serial: u64, pid: u32, ppid: u32, comm: &str, exe: &str, args: &[&str]) -> String {
    let argv: Vec<String> = args
        .iter()
        .enumerate()
        .map(|(i, a)| format!("a{i}=\"{a}\""))
        .collect();
    let execve = format!("EXECVE: argc={} {}", args.len(), argv.join(" "));
    syscall(serial, 59, 0, pid, ppid, comm, exe, "", &[&execve])
}

fn clone(serial: u64, pid: u32, ppid: u32, child: u32, comm: &str, exe: &str) -> String {
    syscall(serial, 56, child.into(), pid, ppid, comm, exe, "", &[])
}

fn exit(serial: u64, pid: u32, ppid: u32, comm: &str, exe: &str) -> String {
    syscall(serial, 231, 0, pid, ppid, comm, exe, "", &[])
}

/// Run a log through the enricher: one JSON value per event kept.
fn run(e: &mut Enricher, log: &str) -> Vec<J> {
    let mut s = LogStream::new(64, 1000);
    let mut evs = Vec::new();
    s.feed(log.as_bytes(), &mut evs);
    s.finish(&mut evs);
    evs.sort_by_key(|e| e.serial);
    let mut out = Vec::new();
    for ev in &evs {
        let mut buf = Vec::new();
        if e.write_json(ev, &mut buf) != Verdict::Drop {
            out.push(serde_json::from_slice(&buf).unwrap());
        }
    }
    out
}

fn by_serial(evs: &[J], serial: u64) -> &J {
    evs.iter()
        .find(|e| e["serial"] == serial)
        .unwrap_or_else(|| panic!("no event {serial}"))
}

fn id(serial: u64) -> String {
    format!("1700000000.{:03}:{serial}", serial % 1000)
}

#[test]
fn shell_script_binary_tree() {
    let mut e = cfg("");
    let log = [
        exec(10, 100, 1, "bash", "/usr/bin/bash", &["bash"]),
        clone(11, 100, 1, 101, "bash", "/usr/bin/bash"),
        exec(
            12,
            101,
            100,
            "x.sh",
            "/usr/bin/dash",
            &["/bin/sh", "/tmp/x.sh"],
        ),
        clone(13, 101, 100, 102, "x.sh", "/usr/bin/dash"),
        exec(14, 102, 101, "id", "/usr/bin/id", &["id", "-u"]),
    ]
    .concat();
    let evs = run(&mut e, &log);
    let last = &by_serial(&evs, 14)["SYSCALL"];
    assert_eq!(last["PID"]["EVENT_ID"], id(14));
    assert_eq!(last["PID"]["exe"], "/usr/bin/id");
    assert_eq!(last["PPID"]["EVENT_ID"], id(12));
    assert_eq!(last["SPAWNED_BY"]["EVENT_ID"], id(12));
    assert_eq!(last["SPAWNED_BY"]["pid"], 101);
    assert_eq!(last["SPAWNED_BY"]["exe"], "/usr/bin/dash");
    let anc: Vec<(i64, String)> = last["ANCESTORS"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| {
            (
                a["pid"].as_i64().unwrap(),
                a["EVENT_ID"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    assert_eq!(anc, vec![(101, id(12)), (100, id(10))]);
    let x = &by_serial(&evs, 14)["EXECVE"];
    assert_eq!(x["ARGV"], serde_json::json!(["id", "-u"]));
    assert!(x.get("argv").is_none());
    // The clone is bash's own event; its spawner is bash's spawner (unknown here).
    assert_eq!(by_serial(&evs, 11)["SYSCALL"]["PID"]["EVENT_ID"], id(10));
}

#[test]
fn double_fork_keeps_the_real_spawner() {
    let mut e = cfg("");
    let log = [
        exec(20, 200, 100, "a", "/usr/bin/a", &["a"]),
        clone(21, 200, 100, 201, "a", "/usr/bin/a"),
        clone(22, 201, 200, 202, "a", "/usr/bin/a"),
        exit(23, 201, 200, "a", "/usr/bin/a"),
        exec(24, 202, 1, "c", "/usr/bin/c", &["c"]),
    ]
    .concat();
    let evs = run(&mut e, &log);
    let s = &by_serial(&evs, 24)["SYSCALL"];
    assert_eq!(s["SPAWNED_BY"]["pid"], 201);
    assert_eq!(s["SPAWNED_BY"]["EVENT_ID"], id(21));
    let pids: Vec<i64> = s["ANCESTORS"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["pid"].as_i64().unwrap())
        .collect();
    assert_eq!(pids, vec![201, 200]);
}

#[test]
fn reused_pid_is_a_new_process() {
    let mut e = cfg("");
    let log = [
        exec(30, 100, 1, "bash", "/usr/bin/bash", &["bash"]),
        clone(31, 100, 1, 300, "bash", "/usr/bin/bash"),
        exec(32, 300, 100, "old", "/usr/bin/old", &["old"]),
        exit(33, 300, 100, "old", "/usr/bin/old"),
        clone(34, 100, 1, 300, "bash", "/usr/bin/bash"),
        exec(35, 300, 100, "new", "/usr/bin/new", &["new"]),
        syscall(36, 2, 3, 300, 100, "new", "/usr/bin/new", "", &[]),
    ]
    .concat();
    let evs = run(&mut e, &log);
    let s = &by_serial(&evs, 35)["SYSCALL"];
    assert_eq!(s["SPAWNED_BY"]["EVENT_ID"], id(30));
    assert_eq!(s["SPAWNED_BY"]["exe"], "/usr/bin/bash");
    assert_eq!(by_serial(&evs, 36)["SYSCALL"]["PID"]["EVENT_ID"], id(35));
}

#[test]
fn labels_by_exe_key_argv_and_propagation() {
    let mut e = cfg(
        "[label-process]\nlabel-exe.'/dash$' = 'shell'\nlabel-argv.'^id -u' = 'whoami'\nlabel-keys = ['watched']\n\
         propagate-labels = ['shell']\nunlabel-exe.'/usr/bin/clean' = 'shell'\n",
    );
    let log = [
        exec(40, 400, 1, "sh", "/usr/bin/dash", &["sh"]),
        clone(41, 400, 1, 401, "sh", "/usr/bin/dash"),
        exec(42, 401, 400, "id", "/usr/bin/id", &["id", "-u"]),
        clone(43, 400, 1, 402, "sh", "/usr/bin/dash"),
        exec(44, 402, 400, "clean", "/usr/bin/clean", &["clean"]),
        syscall(
            45,
            2,
            3,
            402,
            400,
            "clean",
            "/usr/bin/clean",
            "watched",
            &[],
        ),
    ]
    .concat();
    let evs = run(&mut e, &log);
    assert_eq!(
        by_serial(&evs, 40)["SYSCALL"]["LABELS"],
        serde_json::json!(["shell"])
    );
    assert_eq!(
        by_serial(&evs, 42)["SYSCALL"]["LABELS"],
        serde_json::json!(["shell", "whoami"])
    );
    assert!(by_serial(&evs, 44)["SYSCALL"].get("LABELS").is_none());
    assert_eq!(
        by_serial(&evs, 45)["SYSCALL"]["LABELS"],
        serde_json::json!(["watched"])
    );
    let anc = &by_serial(&evs, 42)["SYSCALL"]["ANCESTORS"][0];
    assert_eq!(anc["LABELS"], serde_json::json!(["shell"]));
}

#[test]
fn filters() {
    let mut e = cfg("[filter]\nfilter-keys = ['noisy']\nfilter-raw-lines = ['^type=PATH .* name=\"/secret\"']\n\
                     filter-sockaddr = ['127.0.0.0/8']\n");
    let log = [
        syscall(50, 2, 3, 500, 1, "p", "/usr/bin/p", "noisy", &[]),
        syscall(51, 2, 3, 500, 1, "p", "/usr/bin/p", "noisy", &[]),
        syscall(
            52,
            2,
            3,
            500,
            1,
            "p",
            "/usr/bin/p",
            "",
            &["PATH: item=0 name=\"/secret\" nametype=NORMAL"],
        ),
        syscall(
            53,
            42,
            0,
            500,
            1,
            "p",
            "/usr/bin/p",
            "",
            &["SOCKADDR: saddr=0200AB147F0000010000000000000000"],
        ),
        syscall(
            54,
            42,
            0,
            500,
            1,
            "p",
            "/usr/bin/p",
            "",
            &["SOCKADDR: saddr=0200AB140A0000010000000000000000"],
        ),
    ]
    .concat();
    let evs = run(&mut e, &log);
    let kept: Vec<u64> = evs.iter().map(|e| e["serial"].as_u64().unwrap()).collect();
    // The first event of a process is kept even though its key is filtered.
    assert_eq!(kept, vec![50, 54]);
    assert_eq!(e.stats.dropped, 3);

    let mut d = cfg("[filter]\nfilter-keys = ['noisy']\nkeep-first-per-process = false\nfilter-action = 'log'\n");
    let mut s = LogStream::new(64, 1000);
    let mut evs = Vec::new();
    s.feed(
        syscall(60, 2, 3, 600, 1, "p", "/usr/bin/p", "noisy", &[]).as_bytes(),
        &mut evs,
    );
    assert_eq!(d.enrich(&evs[0]).verdict, Verdict::Divert);
    let mut nul = cfg("[filter]\nfilter-null-keys = true\n");
    let mut evs = Vec::new();
    s.feed(
        syscall(61, 2, 3, 600, 1, "p", "/usr/bin/p", "", &[]).as_bytes(),
        &mut evs,
    );
    s.feed(
        syscall(62, 2, 3, 600, 1, "p", "/usr/bin/p", "", &[]).as_bytes(),
        &mut evs,
    );
    assert_eq!(nul.enrich(&evs[0]).verdict, Verdict::Keep);
    assert_eq!(nul.enrich(&evs[1]).verdict, Verdict::Drop);
}

#[test]
fn argv_forms_limit_and_prefix() {
    let mut e = cfg("[transform]\nexecve-argv = ['array', 'string']\nexecve-argv-limit-bytes = 20\n[enrich]\nprefix = 'x_'\n");
    let log = exec(
        70,
        700,
        1,
        "cmd",
        "/usr/bin/cmd",
        &["cmd", "aaaaaaaaaa", "bbbbbbbbbb", "cccccccccc", "end"],
    );
    let evs = run(&mut e, &log);
    let x = &evs[0]["EXECVE"];
    let argv: Vec<&str> = x["ARGV"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a.as_str().unwrap())
        .collect();
    assert_eq!(argv.first(), Some(&"cmd"));
    assert_eq!(argv.last(), Some(&"end"));
    assert!(argv.iter().any(|a| a.starts_with("<<< Skipped")));
    assert_eq!(x["ARGV_STR"], argv.join(" "));
    assert!(evs[0]["SYSCALL"]["x_pid"]["EVENT_ID"].is_string());
}

#[test]
fn laurel_config_loads_unchanged() {
    let text = include_str!("testdata/laurel-config.toml");
    let c = Config::from_toml(text).unwrap();
    assert_eq!(c.state.as_ref().unwrap().max_age, 60);
    assert_eq!(
        c.directory.as_deref(),
        Some(std::path::Path::new("/var/log/laurel"))
    );
    assert_eq!(
        c.state_path().unwrap(),
        std::path::Path::new("/var/log/laurel/state")
    );
    assert!(c.label_process.label_exe.contains_key("^/opt/.*/bin/java$"));
    assert!(c.label_process.propagate_labels.contains("software_mgmt"));
    assert_eq!(c.filter.filter_action, FilterAction::Drop);
    assert!(Config::from_toml("[auditlink]\nbogus = 1\n").is_err());
    assert!(
        Enricher::from_toml("[filter]\nfilter-sockaddr = ['x']\n[auditlink]\nprocfs=false")
            .is_err()
    );
    assert!(
        Enricher::from_toml("[label-process]\nlabel-exe.'(' = 'x'\n[auditlink]\nprocfs=false")
            .is_err()
    );
}

#[test]
fn user_records_get_pid_context() {
    let mut e = cfg("");
    let log = [
        exec(80, 800, 1, "sshd", "/usr/sbin/sshd", &["sshd"]),
        "type=USER_LOGIN msg=audit(1700000000.081:81): pid=800 uid=0 auid=0 ses=1 msg='op=login acct=\"root\" exe=\"/usr/sbin/sshd\" hostname=? addr=? terminal=ssh res=success'\n".to_string(),
    ]
    .concat();
    let evs = run(&mut e, &log);
    assert_eq!(by_serial(&evs, 81)["USER_LOGIN"]["PID"]["EVENT_ID"], id(80));
    assert_eq!(
        by_serial(&evs, 81)["USER_LOGIN"]["PID"]["exe"],
        "/usr/sbin/sshd"
    );
}

#[test]
fn bounded_table_with_many_processes() {
    let mut e = cfg("[auditlink]\nmax-processes = 1000\n"
        .replace("[auditlink]\n", "")
        .as_str());
    e.tracker.table.set_limit(1000);
    let mut s = LogStream::new(64, 1000);
    let mut out = Vec::new();
    for i in 0..20_000u64 {
        let pid = 1000 + i as u32;
        let mut evs = Vec::new();
        s.feed(
            exec(i + 1, pid, 1, "p", "/usr/bin/p", &["p"]).as_bytes(),
            &mut evs,
        );
        for ev in &evs {
            out.clear();
            e.write_json(ev, &mut out);
        }
    }
    assert!(e.tracker.table.len() <= 1000);
}

#[test]
fn child_exec_recorded_before_the_parents_clone() {
    let mut e = cfg("");
    let log = [
        exec(90, 900, 1, "sh", "/usr/bin/dash", &["sh"]),
        exec(91, 901, 900, "id", "/usr/bin/id", &["id"]),
        // The clone started (its time stamp) before the child's exec.
        clone(92, 900, 1, 901, "sh", "/usr/bin/dash").replace(".092:92", ".090:92"),
        exit(93, 901, 900, "id", "/usr/bin/id"),
    ]
    .concat();
    let evs = run(&mut e, &log);
    assert_eq!(
        by_serial(&evs, 91)["SYSCALL"]["SPAWNED_BY"]["EVENT_ID"],
        id(90)
    );
    let last = &by_serial(&evs, 93)["SYSCALL"];
    assert_eq!(last["PID"]["EVENT_ID"], id(91));
    assert_eq!(last["SPAWNED_BY"]["EVENT_ID"], id(90));
}

/// `enrich()` (the members as values, for any sink) and `write_json` (written
/// straight into the JSON) give the same event, through two enrichers fed
/// the same log.
#[test]
fn value_tree_and_json_agree() {
    let conf = "[transform]\nexecve-argv = ['array', 'string']\nexecve-argv-limit-bytes = 12\n\
                [enrich]\nppid-verbose = true\n[label-process]\nlabel-exe.'dash$' = 'sh'\n\
                propagate-labels = ['sh']\n[translate]\nuser-db = false\ndrop-raw = true\n";
    let log = [
        exec(10, 100, 1, "bash", "/usr/bin/bash", &["bash"]),
        clone(11, 100, 1, 101, "bash", "/usr/bin/bash"),
        exec(12, 101, 100, "x.sh", "/usr/bin/dash", &["/bin/sh", "/tmp/x.sh", "more args"]),
        exec(13, 102, 101, "id", "/usr/bin/id", &["id", "-u"]),
        "type=USER_LOGIN msg=audit(1700000000.014:14): pid=102 uid=0 auid=0 ses=1 msg='op=login acct=\"root\" exe=\"/usr/sbin/sshd\" hostname=? addr=? terminal=ssh res=success'\n".to_string(),
        exit(15, 102, 101, "id", "/usr/bin/id"),
    ]
    .concat();
    let mut s = LogStream::new(64, 1000);
    let mut evs = Vec::new();
    s.feed(log.as_bytes(), &mut evs);
    s.finish(&mut evs);
    evs.sort_by_key(|e| e.serial);
    let (mut direct, mut tree) = (cfg(conf), cfg(conf));
    let mut members = 0;
    for ev in &evs {
        let mut a = Vec::new();
        direct.write_json(ev, &mut a);
        let en = tree.enrich(ev);
        members += en.members.iter().map(|(_, m)| m.len()).sum::<usize>();
        let mut b = Vec::new();
        emit_event_with(&mut JsonWriter::new(&mut b), ev, &en);
        assert_eq!(
            String::from_utf8_lossy(&a),
            String::from_utf8_lossy(&b),
            "event {}",
            ev.serial
        );
    }
    assert!(members > 20, "{members}");
}

/// `[translate]`: `user-db` / `universal` = false leave out the names of ids /
/// every other interpretation; `drop-raw` leaves out a raw arch, syscall, uid
/// or gid whose interpretation is written (and only those). Unset: everything.
#[test]
fn translate_section() {
    let log = syscall(20, 2, -2, 100, 1, "cat", "/usr/bin/cat", "", &[]);
    let syscall_of = |conf: &str| run(&mut cfg(conf), &log)[0]["SYSCALL"].clone();
    let all = syscall_of("");
    for k in [
        "arch", "ARCH", "syscall", "SYSCALL", "uid", "UID", "auid", "AUID", "exit", "EXIT",
    ] {
        assert!(all.get(k).is_some(), "{k} in {all}");
    }
    assert_eq!(
        all,
        syscall_of("[translate]\nuniversal = true\nuser-db = true\n")
    );
    let ids = syscall_of("[translate]\nuniversal = false\n");
    assert!(ids.get("ARCH").is_none() && ids.get("SYSCALL").is_none() && ids.get("EXIT").is_none());
    assert_eq!(ids["AUID"], all["AUID"]);
    let universal = syscall_of("[translate]\nuser-db = false\n");
    assert!(universal.get("UID").is_none() && universal.get("FSGID").is_none());
    assert_eq!(universal["SYSCALL"], "open");
    let dropped = syscall_of("[translate]\ndrop-raw = true\n");
    for k in ["arch", "syscall", "uid", "auid", "gid"] {
        assert!(dropped.get(k).is_none(), "{k} in {dropped}");
    }
    for k in [
        "ARCH", "SYSCALL", "UID", "AUID", "GID", "exit", "EXIT", "pid", "PID", "comm",
    ] {
        assert_eq!(dropped[k], all[k], "{k}");
    }
    let raw_kept = syscall_of("[translate]\nuniversal = false\ndrop-raw = true\n");
    assert_eq!(raw_kept["arch"], all["arch"]);
    assert!(raw_kept.get("uid").is_none() && raw_kept.get("ARCH").is_none());
}
