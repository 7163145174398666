//! Status calls: AUDIT_GET, AUDIT_SET field by field, daemon registration
//! and its reliable undoing.

use std::sync::atomic::Ordering;

use super::requests::Want;
use super::{AuditClient, WaitMode};
use crate::audit::status::{self, AuditStatus};
use crate::audit::tables::msg;
use crate::error::{Error, Result};

impl AuditClient {
    pub fn get_status(&self) -> Result<AuditStatus> {
        let payload = self.request_reply("get_status", msg::GET, &[], msg::GET)?;
        AuditStatus::from_bytes(&payload)
            .map_err(|e| Error::Malformed(format!("get_status: bad AUDIT_GET reply: {e}")))
    }

    /// AUDIT_SET with only `mask` meaningful.
    pub fn set_status(&self, op: &str, status: &AuditStatus, wait: WaitMode) -> Result<u32> {
        self.request_ack(op, msg::SET, &status.to_bytes(), wait)
    }

    fn set_one(
        &self,
        op: &str,
        mask: u32,
        fill: impl FnOnce(&mut AuditStatus),
        wait: WaitMode,
    ) -> Result<u32> {
        let mut s = AuditStatus {
            mask,
            ..Default::default()
        };
        fill(&mut s);
        self.set_status(op, &s, wait)
    }

    pub fn set_enabled(&self, enabled: u32, wait: WaitMode) -> Result<()> {
        self.set_one(
            "set_enabled",
            status::STATUS_ENABLED,
            |s| s.enabled = enabled,
            wait,
        )
        .map(drop)
    }

    pub fn set_failure(&self, mode: u32, wait: WaitMode) -> Result<()> {
        self.set_one(
            "set_failure",
            status::STATUS_FAILURE,
            |s| s.failure = mode,
            wait,
        )
        .map(drop)
    }

    pub fn set_rate_limit(&self, limit: u32, wait: WaitMode) -> Result<()> {
        self.set_one(
            "set_rate_limit",
            status::STATUS_RATE_LIMIT,
            |s| s.rate_limit = limit,
            wait,
        )
        .map(drop)
    }

    pub fn set_backlog_limit(&self, limit: u32, wait: WaitMode) -> Result<()> {
        self.set_one(
            "set_backlog_limit",
            status::STATUS_BACKLOG_LIMIT,
            |s| s.backlog_limit = limit,
            wait,
        )
        .map(drop)
    }

    pub fn set_backlog_wait_time(&self, wait_time: u32, wait: WaitMode) -> Result<()> {
        self.set_one(
            "set_backlog_wait_time",
            status::STATUS_BACKLOG_WAIT_TIME,
            |s| s.backlog_wait_time = wait_time,
            wait,
        )
        .map(drop)
    }

    /// Register the calling process as the audit daemon: the kernel then
    /// sends every record to this socket.
    pub fn set_pid(&self, wait: WaitMode) -> Result<()> {
        let pid = rustix::process::getpid().as_raw_nonzero().get() as u32;
        self.set_one("set_pid", status::STATUS_PID, |s| s.pid = pid, wait)?;
        // With NoWait the registration is assumed; close() unregisters anyway,
        // which is harmless if it did not take.
        self.registered.store(true, Ordering::Release);
        Ok(())
    }

    /// Reset the kernel's lost counter; returns its old value.
    pub fn reset_lost(&self) -> Result<u32> {
        self.set_one(
            "reset_lost",
            status::STATUS_LOST,
            |_| {},
            WaitMode::WaitForReply,
        )
    }

    /// Reset backlog_wait_time_actual; returns its old value.
    pub fn reset_backlog_wait_time_actual(&self) -> Result<u32> {
        self.set_one(
            "reset_backlog_wait_time_actual",
            status::STATUS_BACKLOG_WAIT_TIME_ACTUAL,
            |_| {},
            WaitMode::WaitForReply,
        )
    }

    /// Unregister as the audit daemon (AUDIT_SET mask PID, pid 0).
    ///
    /// Reliable under load: the kernel applies the change while processing
    /// our sendto(), but its ack can be dropped when our receive buffer is
    /// full of records (netlink acks are sent non-blocking). So records read
    /// meanwhile are discarded, and when the ack does not come, the status is
    /// read back (the reply is sent blocking, and no new records arrive once
    /// we are unregistered) to confirm the pid is gone.
    pub fn unregister(&self) -> Result<()> {
        self.lock().discard_events = true;
        let res = self.unregister_inner();
        let mut st = self.lock();
        st.discard_events = false;
        drop(st);
        if res.is_ok() {
            self.registered.store(false, Ordering::Release);
        }
        res
    }

    fn unregister_inner(&self) -> Result<()> {
        let mine = rustix::process::getpid().as_raw_nonzero().get() as u32;
        let seq = self.start(
            "unregister",
            msg::SET,
            &AuditStatus {
                mask: status::STATUS_PID,
                ..Default::default()
            }
            .to_bytes(),
            Want::Ack,
            false,
        )?;
        match self.finish(seq) {
            Ok(_) => Ok(()),
            Err(Error::Timeout { .. }) => {
                let st = self.get_status()?;
                if st.pid == mine {
                    Err(Error::Malformed(
                        "unregister: the kernel still lists this process as the audit daemon"
                            .into(),
                    ))
                } else {
                    Ok(())
                }
            }
            Err(e) => Err(e),
        }
    }
}
