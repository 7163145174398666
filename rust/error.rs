//! The core's one error type.

use std::io;

/// Everything that can go wrong in the core.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The kernel answered a request with a negative errno in NLMSG_ERROR.
    #[error("{op} (seq {seq}): kernel returned errno {errno}")]
    Kernel { errno: i32, op: String, seq: u32 },
    /// A syscall on the socket failed.
    #[error("{op}: {source}")]
    Io {
        op: &'static str,
        #[source]
        source: io::Error,
    },
    /// Bytes that do not form what they should: a short or garbled reply,
    /// an unexpected message type, a bad length.
    #[error("{0}")]
    Malformed(String),
    /// No reply within the deadline.
    #[error("{op} (seq {seq}): no reply from the kernel within {timeout_ms} ms")]
    Timeout {
        op: String,
        seq: u32,
        timeout_ms: u64,
    },
    /// The client was closed (possibly by another thread) while waiting.
    #[error("the client is closed")]
    Closed,
    /// A value the caller passed is out of range or inconsistent.
    #[error("{0}")]
    InvalidArgument(String),
}

pub type Result<T> = std::result::Result<T, Error>;

impl Error {
    pub(crate) fn io(op: &'static str, source: impl Into<io::Error>) -> Self {
        Error::Io {
            op,
            source: source.into(),
        }
    }
}
