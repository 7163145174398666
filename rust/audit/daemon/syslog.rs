//! The daemon's own messages: to syslog (as auditd's `audit_msg`), and to stderr in the foreground.

use std::ffi::CString;
use std::sync::atomic::{AtomicBool, Ordering};

static TO_STDERR: AtomicBool = AtomicBool::new(false);
static OPENED: std::sync::Once = std::sync::Once::new();

/// Also print messages on stderr (`-f`/`-n`).
pub fn set_stderr(on: bool) {
    TO_STDERR.store(on, Ordering::Relaxed);
}

fn log(priority: libc::c_int, text: &str) {
    OPENED.call_once(|| {
        // SAFETY: the identity is a static NUL-terminated string, as openlog
        // keeps the pointer.
        unsafe { libc::openlog(c"auditlink".as_ptr(), libc::LOG_PID, libc::LOG_DAEMON) };
    });
    if let Ok(msg) = CString::new(text.replace('\0', " ")) {
        // SAFETY: a constant "%s" format and a NUL-terminated argument.
        unsafe { libc::syslog(priority, c"%s".as_ptr(), msg.as_ptr()) };
    }
    if TO_STDERR.load(Ordering::Relaxed) {
        eprintln!("auditlink daemon: {text}");
    }
}

pub fn crit(text: &str) {
    log(libc::LOG_CRIT, text);
}
pub fn alert(text: &str) {
    log(libc::LOG_ALERT, text);
}
pub fn err(text: &str) {
    log(libc::LOG_ERR, text);
}
pub fn warning(text: &str) {
    log(libc::LOG_WARNING, text);
}
pub fn notice(text: &str) {
    log(libc::LOG_NOTICE, text);
}
