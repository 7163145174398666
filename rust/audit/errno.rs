//! NLMSG_ERROR payloads (`struct nlmsgerr`, include/uapi/linux/netlink.h):
//!
//! ```text
//!  0..4   error   i32  0 = ack; negative = -errno; positive = a value some
//!                      audit commands return in the ack (kernel/audit.c
//!                      audit_receive_msg(): AUDIT_SET with AUDIT_STATUS_LOST
//!                      returns the old lost counter)
//!  4..20  msg     the header of the request this answers
//! 20..    the request's payload, unless NETLINK_CAP_ACK is set
//! ```

use crate::error::{Error, Result};
use crate::netlink::message::NetlinkHeader;

/// A decoded NLMSG_ERROR payload.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NetlinkAck {
    /// The raw `error` field.
    pub error: i32,
    /// The header of the request being answered, when present.
    pub request: Option<NetlinkHeader>,
}

impl NetlinkAck {
    /// Decode; fails only when fewer than 4 bytes are present.
    pub fn parse(payload: &[u8]) -> Result<Self> {
        let head: [u8; 4] = payload
            .get(..4)
            .and_then(|b| b.try_into().ok())
            .ok_or_else(|| {
                Error::Malformed(format!(
                    "NLMSG_ERROR payload is {} byte(s), need at least 4",
                    payload.len()
                ))
            })?;
        Ok(NetlinkAck {
            error: i32::from_ne_bytes(head),
            request: payload.get(4..).and_then(NetlinkHeader::parse),
        })
    }

    /// The errno the kernel reported, if this is an error (negative field).
    pub fn errno(&self) -> Option<i32> {
        (self.error < 0).then(|| self.error.saturating_neg())
    }
}

/// The C library's text for an errno, without Rust's " (os error N)" suffix.
pub fn strerror(errno: i32) -> String {
    let full = std::io::Error::from_raw_os_error(errno).to_string();
    match full.rfind(" (os error ") {
        Some(i) => full[..i].to_string(),
        None => full,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_ack_and_errors() {
        assert!(NetlinkAck::parse(&[0, 0, 0]).is_err());
        let ack = NetlinkAck::parse(&0i32.to_ne_bytes()).unwrap();
        assert_eq!((ack.errno(), ack.request), (None, None));
        let mut p = (-1i32).to_ne_bytes().to_vec();
        let req = NetlinkHeader {
            len: 60,
            msg_type: 1001,
            flags: 5,
            seq: 9,
            pid: 0,
        };
        p.extend_from_slice(&req.to_bytes());
        let e = NetlinkAck::parse(&p).unwrap();
        assert_eq!(e.errno(), Some(1));
        assert_eq!(e.request, Some(req));
        assert_eq!(
            NetlinkAck::parse(&7i32.to_ne_bytes()).unwrap().errno(),
            None
        );
        assert_eq!(
            NetlinkAck::parse(&i32::MIN.to_ne_bytes()).unwrap().errno(),
            Some(i32::MAX)
        );
    }

    #[test]
    fn strerror_text() {
        assert_eq!(strerror(1), "Operation not permitted");
        assert_eq!(strerror(22), "Invalid argument");
    }
}
