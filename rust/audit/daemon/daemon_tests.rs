//! Tests of the daemon's daemon lifecycle module.
use super::*;

#[test]
fn rules_d_is_read_in_augenrules_order() {
    let dir = test_dir("rulesd");
    let d = dir.path();
    for (name, text) in [
        ("99-finalize.rules", "-e 1"),
        ("10-base.rules", "-D\n"),
        ("9-early.rules", "-b 8192\n"),
        ("30-x.rules.bak", "ignored\n"),
        ("30-x.rules", "-a always,exit -S getppid\n"),
    ] {
        std::fs::write(d.join(name), text).unwrap();
    }
    let text = String::from_utf8(read_rules(d).unwrap()).unwrap();
    assert_eq!(text, "-b 8192\n-D\n-a always,exit -S getppid\n-e 1\n");
}

#[test]
fn version_order_compares_numbers_as_numbers() {
    let mut v = vec!["a10", "a9", "a1", "b", "a"];
    v.sort_by(|a, b| version_cmp(a, b));
    assert_eq!(v, ["a", "a1", "a9", "a10", "b"]);
}

#[test]
fn node_names() {
    let mut c = DaemonConfig::default();
    assert_eq!(node_name(&c).unwrap(), None);
    c.name_format = NameFormat::User;
    assert!(node_name(&c).is_err());
    c.name = Some("box".into());
    assert_eq!(node_name(&c).unwrap().as_deref(), Some("box"));
    c.name_format = NameFormat::Hostname;
    assert!(!node_name(&c).unwrap().unwrap().is_empty());
}
