//! The rest of auditctl's control plane: features (AUDIT_GET_FEATURE /
//! AUDIT_SET_FEATURE), the signal info of the audit daemon
//! (AUDIT_SIGNAL_INFO), TTY auditing (AUDIT_TTY_GET / AUDIT_TTY_SET), user
//! messages (AUDIT_USER_*), directory-watch maintenance (AUDIT_TRIM,
//! AUDIT_MAKE_EQUIV). Structs from include/uapi/linux/audit.h.

use crate::audit::client::{AuditClient, WaitMode};
use crate::audit::tables::{is_user_message, msg};
use crate::error::{Error, Result};

/// `AUDIT_FEATURE_ONLY_UNSET_LOGINUID`.
pub const FEATURE_ONLY_UNSET_LOGINUID: u32 = 0;
/// `AUDIT_FEATURE_LOGINUID_IMMUTABLE`.
pub const FEATURE_LOGINUID_IMMUTABLE: u32 = 1;
/// `AUDIT_LAST_FEATURE`.
pub const LAST_FEATURE: u32 = FEATURE_LOGINUID_IMMUTABLE;

fn u32_at(buf: &[u8], index: usize) -> Option<u32> {
    let start = index.checked_mul(4)?;
    buf.get(start..start + 4)
        .and_then(|b| <[u8; 4]>::try_from(b).ok())
        .map(u32::from_ne_bytes)
}

/// `struct audit_features`: `vers`, `mask`, `features`, `lock`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct AuditFeatures {
    pub vers: u32,
    pub mask: u32,
    pub features: u32,
    pub lock: u32,
}

impl AuditFeatures {
    pub fn from_bytes(buf: &[u8]) -> Result<Self> {
        let get = |i| {
            u32_at(buf, i).ok_or_else(|| {
                Error::Malformed(format!(
                    "audit_features must be 16 bytes, got {}",
                    buf.len()
                ))
            })
        };
        Ok(AuditFeatures {
            vers: get(0)?,
            mask: get(1)?,
            features: get(2)?,
            lock: get(3)?,
        })
    }

    pub fn to_bytes(&self) -> [u8; 16] {
        let mut out = [0u8; 16];
        for (i, v) in [self.vers, self.mask, self.features, self.lock]
            .iter()
            .enumerate()
        {
            out[i * 4..i * 4 + 4].copy_from_slice(&v.to_ne_bytes());
        }
        out
    }

    /// What libaudit's `audit_set_feature(fd, feature, value, lock)` sends
    /// (`vers` left 0, as libaudit does).
    pub fn set(feature: u32, value: bool, lock: bool) -> Result<Self> {
        if feature > LAST_FEATURE {
            return Err(Error::InvalidArgument(format!(
                "unknown audit feature {feature} (0..={LAST_FEATURE})"
            )));
        }
        let bit = 1u32 << feature;
        Ok(AuditFeatures {
            vers: 0,
            mask: bit,
            features: if value { bit } else { 0 },
            lock: if lock { bit } else { 0 },
        })
    }
}

pub fn get_features(client: &AuditClient) -> Result<AuditFeatures> {
    let payload = AuditFeatures::default().to_bytes();
    let reply =
        client.request_reply("get_features", msg::GET_FEATURE, &payload, msg::GET_FEATURE)?;
    AuditFeatures::from_bytes(&reply)
}

pub fn set_feature(
    client: &AuditClient,
    feature: u32,
    value: bool,
    lock: bool,
    wait: WaitMode,
) -> Result<()> {
    let f = AuditFeatures::set(feature, value, lock)?;
    client
        .request_ack("set_feature", msg::SET_FEATURE, &f.to_bytes(), wait)
        .map(drop)
}

/// `struct audit_sig_info`: who last signalled the audit daemon.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct SignalInfo {
    pub uid: u32,
    pub pid: u32,
    /// The sender's security context (without the trailing NUL), if any.
    pub context: Vec<u8>,
}

impl SignalInfo {
    pub fn from_bytes(buf: &[u8]) -> Result<Self> {
        let uid = u32_at(buf, 0);
        let pid = u32_at(buf, 1);
        let (Some(uid), Some(pid)) = (uid, pid) else {
            return Err(Error::Malformed(format!(
                "audit_sig_info must be at least 8 bytes, got {}",
                buf.len()
            )));
        };
        let ctx = &buf[8..];
        let end = ctx.iter().position(|&b| b == 0).unwrap_or(ctx.len());
        Ok(SignalInfo {
            uid,
            pid,
            context: ctx[..end].to_vec(),
        })
    }
}

pub fn get_signal_info(client: &AuditClient) -> Result<SignalInfo> {
    let reply = client.request_reply("get_signal_info", msg::SIGNAL_INFO, &[], msg::SIGNAL_INFO)?;
    SignalInfo::from_bytes(&reply)
}

/// `struct audit_tty_status` (of the calling process).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct TtyStatus {
    pub enabled: u32,
    pub log_passwd: u32,
}

impl TtyStatus {
    pub fn from_bytes(buf: &[u8]) -> Result<Self> {
        // Kernels before 3.x sent only `enabled`.
        let enabled = u32_at(buf, 0).ok_or_else(|| {
            Error::Malformed(format!(
                "audit_tty_status must be 4 or 8 bytes, got {}",
                buf.len()
            ))
        })?;
        Ok(TtyStatus {
            enabled,
            log_passwd: u32_at(buf, 1).unwrap_or(0),
        })
    }

    pub fn to_bytes(&self) -> [u8; 8] {
        let mut out = [0u8; 8];
        out[..4].copy_from_slice(&self.enabled.to_ne_bytes());
        out[4..].copy_from_slice(&self.log_passwd.to_ne_bytes());
        out
    }
}

pub fn get_tty_status(client: &AuditClient) -> Result<TtyStatus> {
    let reply = client.request_reply("get_tty_status", msg::TTY_GET, &[], msg::TTY_GET)?;
    TtyStatus::from_bytes(&reply)
}

pub fn set_tty_status(client: &AuditClient, status: TtyStatus, wait: WaitMode) -> Result<()> {
    client
        .request_ack("set_tty_status", msg::TTY_SET, &status.to_bytes(), wait)
        .map(drop)
}

/// The payload libaudit's `audit_send_user_message` sends: the text and its
/// terminating NUL.
pub fn user_message_payload(text: &[u8]) -> Result<Vec<u8>> {
    if text.contains(&0) {
        return Err(Error::InvalidArgument(
            "a user message cannot contain NUL bytes".into(),
        ));
    }
    // MAX_AUDIT_MESSAGE_LENGTH (8970) of libaudit.h, NUL included.
    if text.len() >= 8970 {
        return Err(Error::InvalidArgument(format!(
            "a user message is at most 8969 bytes, got {}",
            text.len()
        )));
    }
    let mut payload = Vec::with_capacity(text.len() + 1);
    payload.extend_from_slice(text);
    payload.push(0);
    Ok(payload)
}

/// libaudit's `audit_value_needs_encoding`: quotes, blanks, control and
/// non-ASCII bytes make a value go out hex-encoded.
fn needs_encoding(value: &[u8]) -> bool {
    value
        .iter()
        .any(|&b| b == b'"' || !(0x21..=0x7e).contains(&b))
}

/// The controlling terminal like libaudit's `_get_tty` finds it: the first
/// of fds 0..2 that is a tty, without `/dev/`.
fn terminal() -> Option<String> {
    for fd in 0..=2 {
        // SAFETY: isatty only inspects the descriptor number.
        if unsafe { libc::isatty(fd) } != 1 {
            continue;
        }
        let mut buf = [0u8; 256];
        // SAFETY: buf is writable for its full length; ttyname_r writes a
        // NUL-terminated name within it or returns an error.
        let rc = unsafe { libc::ttyname_r(fd, buf.as_mut_ptr().cast(), buf.len()) };
        if rc == 0 {
            let end = buf.iter().position(|&b| b == 0).unwrap_or(buf.len());
            let name = String::from_utf8_lossy(&buf[..end]).into_owned();
            return Some(
                name.strip_prefix("/dev/")
                    .map(str::to_string)
                    .unwrap_or(name),
            );
        }
    }
    None
}

/// The text `auditctl -m message` sends (libaudit's `audit_log_user_message`
/// with no host, address or tty given): `text=... exe=... hostname=? addr=?
/// terminal=... res=success`, the executable quoted or hex-encoded.
pub fn auditctl_message_text(message: &str) -> String {
    let exe = std::fs::read_link("/proc/self/exe")
        .map(|p| std::os::unix::ffi::OsStrExt::as_bytes(p.as_os_str()).to_vec())
        .unwrap_or_default();
    let exe = if needs_encoding(&exe) {
        exe.iter().map(|b| format!("{b:02X}")).collect::<String>()
    } else {
        format!("\"{}\"", String::from_utf8_lossy(&exe))
    };
    let tty = terminal().unwrap_or_else(|| "?".to_string());
    format!("text={message} exe={exe} hostname=? addr=? terminal={tty} res=success")
}

pub fn send_user_message(client: &AuditClient, msg_type: u16, text: &[u8]) -> Result<()> {
    if !is_user_message(msg_type) {
        return Err(Error::InvalidArgument(format!(
            "message type {msg_type} is not a user message type (1005, 1100-1199, 2100-2999)"
        )));
    }
    let payload = user_message_payload(text)?;
    client
        .request_ack(
            "send_user_message",
            msg_type,
            &payload,
            WaitMode::WaitForReply,
        )
        .map(drop)
}

pub fn trim(client: &AuditClient) -> Result<()> {
    client
        .request_ack("trim", msg::TRIM, &[], WaitMode::WaitForReply)
        .map(drop)
}

/// AUDIT_MAKE_EQUIV: `u32 sizes[2]` then both paths, no NULs.
pub fn make_equivalent_payload(mount: &[u8], subtree: &[u8]) -> Result<Vec<u8>> {
    let len = |s: &[u8]| {
        u32::try_from(s.len()).map_err(|_| Error::InvalidArgument("path too long".into()))
    };
    let mut out = Vec::with_capacity(8 + mount.len() + subtree.len());
    out.extend_from_slice(&len(mount)?.to_ne_bytes());
    out.extend_from_slice(&len(subtree)?.to_ne_bytes());
    out.extend_from_slice(mount);
    out.extend_from_slice(subtree);
    Ok(out)
}

pub fn make_equivalent(client: &AuditClient, mount: &[u8], subtree: &[u8]) -> Result<()> {
    let payload = make_equivalent_payload(mount, subtree)?;
    client
        .request_ack(
            "make_equivalent",
            msg::MAKE_EQUIV,
            &payload,
            WaitMode::WaitForReply,
        )
        .map(drop)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn feature_payloads() {
        let f = AuditFeatures::set(FEATURE_LOGINUID_IMMUTABLE, true, true).unwrap();
        assert_eq!(
            f,
            AuditFeatures {
                vers: 0,
                mask: 2,
                features: 2,
                lock: 2
            }
        );
        assert_eq!(AuditFeatures::from_bytes(&f.to_bytes()).unwrap(), f);
        let f = AuditFeatures::set(FEATURE_ONLY_UNSET_LOGINUID, false, false).unwrap();
        assert_eq!(
            f.to_bytes(),
            [0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]
        );
        assert!(AuditFeatures::set(2, true, false).is_err());
        assert!(AuditFeatures::from_bytes(&[0; 15]).is_err());
    }

    #[test]
    fn signal_info_and_tty() {
        let mut b = Vec::new();
        b.extend_from_slice(&0u32.to_ne_bytes());
        b.extend_from_slice(&1234u32.to_ne_bytes());
        b.extend_from_slice(b"system_u:system_r:init_t:s0\0");
        let s = SignalInfo::from_bytes(&b).unwrap();
        assert_eq!((s.uid, s.pid), (0, 1234));
        assert_eq!(s.context, b"system_u:system_r:init_t:s0");
        assert!(SignalInfo::from_bytes(&b[..7]).is_err());
        assert_eq!(SignalInfo::from_bytes(&b[..8]).unwrap().context, b"");
        let t = TtyStatus {
            enabled: 1,
            log_passwd: 0,
        };
        assert_eq!(TtyStatus::from_bytes(&t.to_bytes()).unwrap(), t);
        assert_eq!(TtyStatus::from_bytes(&1u32.to_ne_bytes()).unwrap(), t);
        assert!(TtyStatus::from_bytes(&[1, 0]).is_err());
    }

    #[test]
    fn user_messages() {
        assert_eq!(user_message_payload(b"hello").unwrap(), b"hello\0");
        assert!(user_message_payload(b"a\0b").is_err());
        assert!(is_user_message(1005) && is_user_message(1100) && is_user_message(2999));
        assert!(!is_user_message(1300) && !is_user_message(1000));
        assert_eq!(make_equivalent_payload(b"/a", b"/bc").unwrap().len(), 8 + 5);
        let t = auditctl_message_text("hello world");
        assert!(t.starts_with("text=hello world exe="), "{t}");
        assert!(t.ends_with(" hostname=? addr=? res=success") || t.contains(" res=success"));
        assert!(
            needs_encoding(b"/a b") && needs_encoding(b"/a\"") && !needs_encoding(b"/usr/bin/x")
        );
    }
}
