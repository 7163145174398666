//! Netlink message framing: the 16-byte `struct nlmsghdr`, datagram splitting,
//! and the audit subsystem's length quirk — all handled here, in one place.
//!
//! Layout (include/uapi/linux/netlink.h), host byte order:
//! ```text
//!  0..4   nlmsg_len    u32  length of header + payload
//!  4..6   nlmsg_type   u16
//!  6..8   nlmsg_flags  u16
//!  8..12  nlmsg_seq    u32
//! 12..16  nlmsg_pid    u32  sender port id (0 = kernel)
//! ```

use crate::error::{Error, Result};

/// Size of `struct nlmsghdr`.
pub const NLMSG_HDRLEN: usize = 16;

// Message types and flags from include/uapi/linux/netlink.h.
pub const NLMSG_NOOP: u16 = 1;
pub const NLMSG_ERROR: u16 = 2;
pub const NLMSG_DONE: u16 = 3;
pub const NLMSG_OVERRUN: u16 = 4;

pub const NLM_F_REQUEST: u16 = 0x01;
pub const NLM_F_MULTI: u16 = 0x02;
pub const NLM_F_ACK: u16 = 0x04;
pub const NLM_F_ECHO: u16 = 0x08;
pub const NLM_F_ROOT: u16 = 0x100;
pub const NLM_F_MATCH: u16 = 0x200;
pub const NLM_F_DUMP: u16 = NLM_F_ROOT | NLM_F_MATCH;

/// Round up to the 4-byte netlink alignment (NLMSG_ALIGN).
pub const fn align4(n: usize) -> usize {
    (n + 3) & !3
}

/// The fixed part of every netlink message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct NetlinkHeader {
    pub len: u32,
    pub msg_type: u16,
    pub flags: u16,
    pub seq: u32,
    pub pid: u32,
}

impl NetlinkHeader {
    /// Decode the header at the start of `buf`; `None` if fewer than 16 bytes.
    pub fn parse(buf: &[u8]) -> Option<Self> {
        let h: &[u8; NLMSG_HDRLEN] = buf.get(..NLMSG_HDRLEN)?.try_into().ok()?;
        Some(NetlinkHeader {
            len: u32::from_ne_bytes([h[0], h[1], h[2], h[3]]),
            msg_type: u16::from_ne_bytes([h[4], h[5]]),
            flags: u16::from_ne_bytes([h[6], h[7]]),
            seq: u32::from_ne_bytes([h[8], h[9], h[10], h[11]]),
            pid: u32::from_ne_bytes([h[12], h[13], h[14], h[15]]),
        })
    }

    /// The 16 wire bytes.
    pub fn to_bytes(&self) -> [u8; NLMSG_HDRLEN] {
        let mut out = [0u8; NLMSG_HDRLEN];
        out[0..4].copy_from_slice(&self.len.to_ne_bytes());
        out[4..6].copy_from_slice(&self.msg_type.to_ne_bytes());
        out[6..8].copy_from_slice(&self.flags.to_ne_bytes());
        out[8..12].copy_from_slice(&self.seq.to_ne_bytes());
        out[12..16].copy_from_slice(&self.pid.to_ne_bytes());
        out
    }
}

/// One netlink message with an owned payload.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct NetlinkMessage {
    pub msg_type: u16,
    pub flags: u16,
    pub seq: u32,
    pub pid: u32,
    pub payload: Vec<u8>,
}

/// One netlink message borrowing its payload from the receive buffer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MessageRef<'a> {
    pub header: NetlinkHeader,
    pub payload: &'a [u8],
}

impl MessageRef<'_> {
    pub fn to_owned(&self) -> NetlinkMessage {
        NetlinkMessage {
            msg_type: self.header.msg_type,
            flags: self.header.flags,
            seq: self.header.seq,
            pid: self.header.pid,
            payload: self.payload.to_vec(),
        }
    }
}

/// Serialize one request: header (with `nlmsg_len` filled in) + payload,
/// padded to 4 bytes.
pub fn encode(msg_type: u16, flags: u16, seq: u32, pid: u32, payload: &[u8]) -> Result<Vec<u8>> {
    let mut out = Vec::new();
    encode_into(&mut out, msg_type, flags, seq, pid, payload)?;
    Ok(out)
}

/// [`encode`], appended to `out` (several messages make one datagram).
pub fn encode_into(
    out: &mut Vec<u8>,
    msg_type: u16,
    flags: u16,
    seq: u32,
    pid: u32,
    payload: &[u8],
) -> Result<()> {
    let len = NLMSG_HDRLEN
        .checked_add(payload.len())
        .filter(|&n| n <= u32::MAX as usize)
        .ok_or_else(|| {
            Error::InvalidArgument(format!("payload of {} bytes is too large", payload.len()))
        })?;
    let header = NetlinkHeader {
        len: len as u32,
        msg_type,
        flags,
        seq,
        pid,
    };
    let end = out.len() + align4(len);
    out.reserve(align4(len));
    out.extend_from_slice(&header.to_bytes());
    out.extend_from_slice(payload);
    out.resize(end, 0);
    Ok(())
}

/// Iterator over the netlink messages in one datagram. Yields an error (and
/// then stops) at the first malformed header.
pub struct Messages<'a> {
    buf: &'a [u8],
    failed: bool,
}

/// Split a received datagram into messages.
pub fn messages(datagram: &[u8]) -> Messages<'_> {
    Messages {
        buf: datagram,
        failed: false,
    }
}

impl<'a> Iterator for Messages<'a> {
    type Item = Result<MessageRef<'a>>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.failed || self.buf.is_empty() {
            return None;
        }
        match split_one(self.buf) {
            Ok((msg, rest)) => {
                self.buf = rest;
                Some(Ok(msg))
            }
            Err(e) => {
                self.failed = true;
                Some(Err(e))
            }
        }
    }
}

/// Take the first message off `buf`, returning it and the rest of the buffer.
///
/// The audit length quirk: records the kernel emits through `audit_log_end()`
/// carry `nlmsg_len` = payload length, *without* the 16-byte header
/// (kernel/audit.c: `nlh->nlmsg_len = skb->len - NLMSG_HDRLEN`; only the
/// multicast copy is fixed up, see `kauditd_send_multicast_skb()`). Such a
/// record is always alone in its datagram, so it shows as
/// `nlmsg_len + 16 == bytes left`. A well-formed message followed by a bare
/// 16-byte message (e.g. NLMSG_DONE) has the same arithmetic; it is told
/// apart by the follower's own `nlmsg_len` being exactly 16, which record
/// text (printable, never NUL) can never produce.
fn split_one(buf: &[u8]) -> Result<(MessageRef<'_>, &[u8])> {
    let header = NetlinkHeader::parse(buf).ok_or_else(|| {
        Error::Malformed(format!(
            "truncated netlink header: {} byte(s) left, need {NLMSG_HDRLEN}",
            buf.len()
        ))
    })?;
    let left = buf.len();
    let len = header.len as usize;

    let quirk = len.checked_add(NLMSG_HDRLEN) == Some(left) && !followed_by_bare_header(buf, len);
    if quirk {
        let payload = &buf[NLMSG_HDRLEN..];
        return Ok((MessageRef { header, payload }, &[]));
    }
    if len < NLMSG_HDRLEN || len > left {
        return Err(Error::Malformed(format!(
            "bad nlmsg_len {len} (type {}, seq {}) with {left} byte(s) in the datagram",
            header.msg_type, header.seq
        )));
    }
    let payload = &buf[NLMSG_HDRLEN..len];
    // The last message of a datagram need not be padded.
    let next = align4(len).min(left);
    Ok((MessageRef { header, payload }, &buf[next..]))
}

/// True if a complete message of `len` bytes at the start of `buf` is
/// followed by exactly one header-only (16-byte) message.
fn followed_by_bare_header(buf: &[u8], len: usize) -> bool {
    if len < NLMSG_HDRLEN || align4(len) != len {
        return false;
    }
    match buf.get(len..).and_then(NetlinkHeader::parse) {
        Some(next) => next.len as usize == NLMSG_HDRLEN && buf.len() - len == NLMSG_HDRLEN,
        None => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn hdr(len: u32, t: u16, seq: u32) -> Vec<u8> {
        NetlinkHeader {
            len,
            msg_type: t,
            flags: 0,
            seq,
            pid: 0,
        }
        .to_bytes()
        .to_vec()
    }

    #[test]
    fn header_golden_bytes() {
        // AUDIT_GET request as libaudit sends it, on a little-endian host:
        // len=16, type=1000 (0x03e8), flags=REQUEST|ACK (0x0005), seq=1, pid=0.
        let h = NetlinkHeader {
            len: 16,
            msg_type: 1000,
            flags: 5,
            seq: 1,
            pid: 0,
        };
        if cfg!(target_endian = "little") {
            assert_eq!(
                h.to_bytes(),
                [16, 0, 0, 0, 0xe8, 0x03, 5, 0, 1, 0, 0, 0, 0, 0, 0, 0]
            );
        }
        assert_eq!(NetlinkHeader::parse(&h.to_bytes()), Some(h));
    }

    #[test]
    fn encode_pads_and_sets_len() {
        let b = encode(1001, 5, 7, 0, b"abcde").unwrap();
        assert_eq!(b.len(), 24);
        let h = NetlinkHeader::parse(&b).unwrap();
        assert_eq!(h.len, 21);
        assert_eq!(&b[16..21], b"abcde");
        assert_eq!(&b[21..], &[0, 0, 0]);
    }

    #[test]
    fn quirk_record_alone() {
        let text = b"audit(1.000:1): arch=c000003e syscall=110";
        let mut d = hdr(text.len() as u32, 1300, 0);
        d.extend_from_slice(text);
        let msgs: Vec<_> = messages(&d).collect::<Result<_>>().unwrap();
        assert_eq!(msgs.len(), 1);
        assert_eq!(msgs[0].payload, text);
    }

    #[test]
    fn quirk_record_of_16_aligned_length() {
        // A 32-byte payload: len + 16 == datagram size; payload looks nothing like a header.
        let text = b"audit(1.000:1): a=b c=d efgh=123";
        assert_eq!(text.len(), 32);
        let mut d = hdr(32, 1300, 0);
        d.extend_from_slice(text);
        let msgs: Vec<_> = messages(&d).collect::<Result<_>>().unwrap();
        assert_eq!(msgs.len(), 1);
        assert_eq!(msgs[0].payload, text);
    }

    #[test]
    fn correct_len_then_done() {
        // A reply of 32 bytes (16 payload) followed by a bare NLMSG_DONE: the
        // arithmetic matches the quirk, the bare header tells them apart.
        let mut d = hdr(32, 1013, 5);
        d.extend_from_slice(&[7u8; 16]);
        d.extend_from_slice(&hdr(16, NLMSG_DONE, 5));
        let msgs: Vec<_> = messages(&d).collect::<Result<_>>().unwrap();
        assert_eq!(msgs.len(), 2);
        assert_eq!(msgs[0].payload, &[7u8; 16]);
        assert_eq!(msgs[1].header.msg_type, NLMSG_DONE);
    }

    #[test]
    fn several_messages_with_padding() {
        let mut d = Vec::new();
        for (i, p) in [&b"abc"[..], b"defgh", b""].iter().enumerate() {
            d.extend_from_slice(&encode(1300 + i as u16, 0, 0, 0, p).unwrap());
        }
        let msgs: Vec<_> = messages(&d).collect::<Result<_>>().unwrap();
        let payloads: Vec<&[u8]> = msgs.iter().map(|m| m.payload).collect();
        assert_eq!(payloads, vec![&b"abc"[..], b"defgh", b""]);
    }

    #[test]
    fn last_message_unpadded() {
        let mut d = encode(1300, 0, 0, 0, b"ab").unwrap();
        let mut second = hdr(19, 1301, 0);
        second.extend_from_slice(b"xyz");
        d.extend_from_slice(&second);
        let msgs: Vec<_> = messages(&d).collect::<Result<_>>().unwrap();
        assert_eq!(msgs[1].payload, b"xyz");
    }

    #[test]
    fn malformed_lengths_are_errors() {
        assert!(messages(&[1, 2, 3]).next().unwrap().is_err());
        let d = hdr(100, 1300, 0); // claims more than there is
        assert!(messages(&d).next().unwrap().is_err());
        let d = hdr(8, 1300, 0); // shorter than a header, not the quirk
        assert!(messages(&d).next().unwrap().is_err());
        // Error stops the iteration.
        let mut it = messages(&d);
        assert!(it.next().unwrap().is_err());
        assert!(it.next().is_none());
    }

    proptest! {
        #[test]
        fn never_panics(data in proptest::collection::vec(any::<u8>(), 0..200)) {
            let mut total = 0usize;
            for m in messages(&data) {
                match m {
                    Ok(m) => { total += m.payload.len(); prop_assert!(total <= data.len()); }
                    Err(_) => break,
                }
            }
        }

        #[test]
        fn encode_split_round_trip(
            parts in proptest::collection::vec((1u16..5000, any::<u32>(), proptest::collection::vec(any::<u8>(), 0..64)), 1..6)
        ) {
            let mut d = Vec::new();
            for (t, seq, p) in &parts {
                d.extend_from_slice(&encode(*t, 0, *seq, 0, p).unwrap());
            }
            let got: Vec<_> = messages(&d).collect::<Result<Vec<_>>>().unwrap();
            prop_assert_eq!(got.len(), parts.len());
            for (m, (t, seq, p)) in got.iter().zip(&parts) {
                prop_assert_eq!(m.header.msg_type, *t);
                prop_assert_eq!(m.header.seq, *seq);
                prop_assert_eq!(m.payload, &p[..]);
            }
        }
    }
}
