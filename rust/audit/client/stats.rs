//! The audit client's counters and their plain snapshot.

use std::sync::atomic::{AtomicU64, Ordering};

use crate::netlink::connection::LinkStats;

/// Counters kept above the transport, readable at any time without locking.
#[derive(Debug, Default)]
pub struct Stats {
    pub messages: AtomicU64,
    pub bytes: AtomicU64,
    pub malformed: AtomicU64,
    pub stale_replies: AtomicU64,
    pub queue_dropped: AtomicU64,
}

/// A plain copy of every counter of a client.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct StatsSnapshot {
    /// Event records delivered or queued (not replies).
    pub messages: u64,
    /// Payload bytes of those records.
    pub bytes: u64,
    /// Datagrams read from the socket (all kinds).
    pub datagrams: u64,
    /// ENOBUFS: the socket's receive buffer overflowed and the kernel dropped data.
    pub overruns: u64,
    /// Datagrams dropped because they did not come from the kernel (port id != 0).
    pub foreign_dropped: u64,
    /// Datagrams larger than the read buffer (the tail was lost).
    pub truncated: u64,
    /// Datagrams that did not split into valid netlink messages.
    pub malformed: u64,
    /// Replies to requests nobody waits for any more.
    pub stale_replies: u64,
    /// Records dropped because the internal queue was over its limit.
    pub queue_dropped: u64,
}

impl Stats {
    /// Both layers' counters at once.
    pub fn snapshot(&self, link: &LinkStats) -> StatsSnapshot {
        let g = |a: &AtomicU64| a.load(Ordering::Relaxed);
        StatsSnapshot {
            messages: g(&self.messages),
            bytes: g(&self.bytes),
            datagrams: g(&link.datagrams),
            overruns: g(&link.overruns),
            foreign_dropped: g(&link.foreign_dropped),
            truncated: g(&link.truncated),
            malformed: g(&self.malformed),
            stale_replies: g(&self.stale_replies),
            queue_dropped: g(&self.queue_dropped),
        }
    }

    /// Count event records delivered (to a batch or the queue).
    pub(super) fn count_records(&self, records: u64, bytes: u64) {
        self.messages.fetch_add(records, Ordering::Relaxed);
        self.bytes.fetch_add(bytes, Ordering::Relaxed);
    }
}
