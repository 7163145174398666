//! Requests: send one (or a batch packed into datagrams), register it as
//! pending, and wait until the reader has matched its ack and replies by
//! sequence number.

use std::sync::Arc;
use std::time::Instant;

use super::{AuditClient, WaitMode, BATCH_DATAGRAM_BYTES};
use crate::error::{Error, Result};
use crate::netlink::message::{self, NetlinkMessage, NLM_F_ACK, NLM_F_REQUEST};

/// What a request waits for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Want {
    /// Just the ack.
    Ack,
    /// The ack and one reply of this type (AUDIT_GET-style).
    Reply(u16),
    /// The ack and replies up to NLMSG_DONE (AUDIT_LIST_RULES-style).
    Dump,
}

#[derive(Debug)]
pub(super) struct Pending {
    /// What the request was, for errors (shared by a batch's requests).
    op: Arc<str>,
    want: Want,
    pub(super) ack: Option<i32>,
    pub(super) replies: Vec<NetlinkMessage>,
    pub(super) done: bool,
    /// Sent with WaitMode::NoWait: collected by `wait_for_pending_acks`.
    no_wait: bool,
    /// The socket overran while this request was in flight: its ack may be gone.
    pub(super) overrun: bool,
}

impl Pending {
    fn new(op: Arc<str>, want: Want, no_wait: bool) -> Self {
        Pending {
            op,
            want,
            ack: None,
            replies: Vec::new(),
            done: false,
            no_wait,
            overrun: false,
        }
    }

    fn complete(&self) -> bool {
        match (self.want, self.ack) {
            (_, Some(e)) if e < 0 => true,
            (Want::Ack, Some(_)) => true,
            (Want::Reply(_), Some(_)) => !self.replies.is_empty(),
            (Want::Dump, Some(_)) => self.done,
            (_, None) => false,
        }
    }
}

impl AuditClient {
    /// Send a request and register it as pending. Returns its sequence number.
    pub(super) fn start(
        &self,
        op: &str,
        msg_type: u16,
        payload: &[u8],
        want: Want,
        no_wait: bool,
    ) -> Result<u32> {
        if self.is_closed() {
            return Err(Error::Closed);
        }
        let (seq, datagram) = self
            .conn
            .encode(msg_type, NLM_F_REQUEST | NLM_F_ACK, payload)?;
        self.lock()
            .pending
            .insert(seq, Pending::new(op.into(), want, no_wait));
        if let Err(e) = self.conn.send(&datagram) {
            self.lock().pending.remove(&seq);
            return Err(e);
        }
        Ok(seq)
    }

    /// Wait until request `seq` is complete; remove and return it.
    pub(super) fn finish(&self, seq: u32) -> Result<Pending> {
        let deadline = Instant::now() + self.opts.reply_timeout;
        let res = self.pump(Some(deadline), |st| {
            if st.pending.get(&seq).is_some_and(Pending::complete) {
                st.pending.remove(&seq)
            } else {
                None
            }
        });
        match res {
            Ok(Some(p)) => {
                if let Some(errno) = p.ack.and_then(|e| (e < 0).then(|| e.saturating_neg())) {
                    return Err(Error::Kernel {
                        errno,
                        op: p.op.to_string(),
                        seq,
                    });
                }
                Ok(p)
            }
            Ok(None) => {
                let p = self.lock().pending.remove(&seq);
                let (op, overrun) = p.map(|p| (p.op.to_string(), p.overrun)).unwrap_or_default();
                let op = if overrun {
                    format!("{op} (the socket overran: the reply may have been dropped)")
                } else {
                    op
                };
                Err(Error::Timeout {
                    op,
                    seq,
                    timeout_ms: self.opts.reply_timeout.as_millis() as u64,
                })
            }
            Err(e) => {
                self.lock().pending.remove(&seq);
                Err(e)
            }
        }
    }

    /// Send `msg_type` + `payload` and wait for the ack (unless NoWait).
    /// Returns the ack's value: 0, or what some commands return (the old
    /// counter for AUDIT_STATUS_LOST resets).
    pub fn request_ack(
        &self,
        op: &str,
        msg_type: u16,
        payload: &[u8],
        wait: WaitMode,
    ) -> Result<u32> {
        let no_wait = wait == WaitMode::NoWait;
        let seq = self.start(op, msg_type, payload, Want::Ack, no_wait)?;
        if no_wait {
            return Ok(0);
        }
        let p = self.finish(seq)?;
        Ok(p.ack.unwrap_or(0).max(0) as u32)
    }

    /// A GET-style request: the ack and one reply of `reply_type`.
    pub fn request_reply(
        &self,
        op: &str,
        msg_type: u16,
        payload: &[u8],
        reply_type: u16,
    ) -> Result<Vec<u8>> {
        let seq = self.start(op, msg_type, payload, Want::Reply(reply_type), false)?;
        let mut p = self.finish(seq)?;
        let reply = p.replies.swap_remove(0);
        if reply.msg_type != reply_type {
            return Err(Error::Malformed(format!(
                "{op} (seq {seq}): expected a reply of type {reply_type}, got type {}",
                reply.msg_type
            )));
        }
        Ok(reply.payload)
    }

    /// A dump-style request: all replies up to NLMSG_DONE.
    pub fn request_dump(
        &self,
        op: &str,
        msg_type: u16,
        payload: &[u8],
    ) -> Result<Vec<NetlinkMessage>> {
        let seq = self.start(op, msg_type, payload, Want::Dump, false)?;
        Ok(self.finish(seq)?.replies)
    }

    /// Send many requests packed several to a datagram, and return each one's
    /// outcome in order: `Ok(())`, or `Err(errno)` when the kernel refused it.
    ///
    /// The kernel handles the messages of one datagram in order
    /// (kernel/audit.c `audit_receive`) and acks a message without NLM_F_ACK
    /// only when it fails. So only the last message of each datagram asks for
    /// an ack: when that ack arrives, the error acks of the others (if any)
    /// have arrived before it. One send and one ack per datagram instead of
    /// one each per message: what makes loading a rules file fast.
    ///
    /// `stop_on_error`: after a datagram in which a message failed, send no
    /// more (their outcomes are `None`). Messages after the failed one in the
    /// same datagram were still processed by the kernel.
    pub fn request_batch(
        &self,
        op: &str,
        msgs: &[(u16, &[u8])],
        stop_on_error: bool,
    ) -> Result<Vec<Option<std::result::Result<(), i32>>>> {
        let mut out: Vec<Option<std::result::Result<(), i32>>> = vec![None; msgs.len()];
        let op: Arc<str> = op.into();
        let mut start = 0;
        while start < msgs.len() {
            // As many messages as fit BATCH_DATAGRAM_BYTES (at least one).
            let mut end = start;
            let mut bytes = 0;
            while end < msgs.len() {
                let size = message::NLMSG_HDRLEN + msgs[end].1.len() + 3;
                if end > start && bytes + size > BATCH_DATAGRAM_BYTES {
                    break;
                }
                bytes += size;
                end += 1;
            }
            let mut datagram = Vec::with_capacity(bytes);
            let mut seqs = Vec::with_capacity(end - start);
            for (i, &(msg_type, payload)) in msgs[start..end].iter().enumerate() {
                let last = start + i + 1 == end;
                let flags = if last {
                    NLM_F_REQUEST | NLM_F_ACK
                } else {
                    NLM_F_REQUEST
                };
                seqs.push(
                    self.conn
                        .encode_into(&mut datagram, msg_type, flags, payload)?,
                );
            }
            {
                let mut st = self.lock();
                for &seq in &seqs {
                    st.pending
                        .insert(seq, Pending::new(op.clone(), Want::Ack, false));
                }
            }
            let forget = |seqs: &[u32]| {
                let mut st = self.lock();
                for seq in seqs {
                    st.pending.remove(seq);
                }
            };
            if let Err(e) = self.conn.send(&datagram) {
                forget(&seqs);
                return Err(e);
            }
            // finish() removes the last request; the others are collected below.
            let (&last_seq, earlier) = seqs.split_last().unwrap_or((&0, &[]));
            let last_outcome = match self.finish(last_seq) {
                Ok(_) => Ok(()),
                Err(Error::Kernel { errno, .. }) => Err(errno),
                Err(e) => {
                    forget(earlier);
                    return Err(e);
                }
            };
            let mut failed = last_outcome.is_err();
            {
                let mut st = self.lock();
                for (i, seq) in earlier.iter().enumerate() {
                    let ack = st.pending.remove(seq).and_then(|p| p.ack);
                    out[start + i] = Some(match ack {
                        Some(e) if e < 0 => {
                            failed = true;
                            Err(e.saturating_neg())
                        }
                        _ => Ok(()),
                    });
                }
            }
            out[end - 1] = Some(last_outcome);
            if failed && stop_on_error {
                break;
            }
            start = end;
        }
        Ok(out)
    }

    /// Wait for the acks of every request sent with `WaitMode::NoWait`. All
    /// are collected; the first failure (by sequence number) is returned.
    pub fn wait_for_pending_acks(&self) -> Result<()> {
        let seqs: Vec<u32> = {
            let st = self.lock();
            let mut v: Vec<u32> = st
                .pending
                .iter()
                .filter(|(_, p)| p.no_wait)
                .map(|(s, _)| *s)
                .collect();
            v.sort_unstable();
            v
        };
        let mut first_err = None;
        for seq in seqs {
            if let Err(e) = self.finish(seq) {
                first_err.get_or_insert(e);
            }
        }
        first_err.map_or(Ok(()), Err)
    }
}
