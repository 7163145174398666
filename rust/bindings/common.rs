//! What every bindings file needs alike: GIL-released time slicing, the one timeout parser, `dup_fd`, the linger default.

use std::os::fd::OwnedFd;
use std::time::{Duration, Instant};

use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;

use crate::error::Error;

/// Default `linger` of `receive_batch`, in seconds: the core's value.
pub(crate) const DEFAULT_LINGER: f64 = crate::audit::client::DEFAULT_LINGER.as_secs_f64();

/// Longest stretch spent in Rust without checking for signals (Ctrl-C).
pub(crate) const SLICE: Duration = Duration::from_millis(100);

/// The one reading of a `timeout: float | None` argument, in seconds:
/// None (or +inf) waits forever, 0 does not block; negative or NaN is a ValueError.
pub(crate) fn timeout(seconds: Option<f64>) -> PyResult<Option<Duration>> {
    match seconds {
        None => Ok(None),
        Some(t) if t == f64::INFINITY => Ok(None),
        Some(t) => duration(t, "timeout").map(Some),
    }
}

/// A finite, non-negative number of seconds (`what` names the argument in
/// the error) as a Duration.
pub(crate) fn duration(seconds: f64, what: &str) -> PyResult<Duration> {
    if seconds.is_finite() && seconds >= 0.0 {
        Duration::try_from_secs_f64(seconds)
            .map_err(|_| PyValueError::new_err(format!("{what} is too large: {seconds}")))
    } else {
        Err(PyValueError::new_err(format!(
            "{what} must be >= 0 seconds, got {seconds}"
        )))
    }
}

/// [`duration`] in whole milliseconds (rounded), the unit of the records core.
pub(crate) fn millis(seconds: f64, what: &str) -> PyResult<u64> {
    let d = duration(seconds, what)?;
    Ok(u64::try_from((d.as_secs_f64() * 1000.0).round() as u128).unwrap_or(u64::MAX))
}

/// Run `f` with the GIL released in slices of at most [`SLICE`], checking for
/// signals between slices, until it yields Some, fails, or `timeout` passes
/// (then None). `f` gets the length of its slice; a zero timeout runs it once
/// with a zero slice (do not block).
pub(crate) fn sliced<T: Send, E: Into<PyErr> + Send>(
    py: Python<'_>,
    timeout: Option<Duration>,
    mut f: impl FnMut(Duration) -> Result<Option<T>, E> + Send,
) -> PyResult<Option<T>> {
    let deadline = timeout.map(|t| Instant::now() + t);
    loop {
        let slice = match deadline {
            None => SLICE,
            Some(d) => SLICE.min(d.saturating_duration_since(Instant::now())),
        };
        if let Some(v) = py.detach(|| f(slice)).map_err(Into::into)? {
            return Ok(Some(v));
        }
        py.check_signals()?;
        if deadline.is_some_and(|d| Instant::now() >= d) {
            return Ok(None);
        }
    }
}

/// Take ownership of a duplicate of `fd` (close-on-exec; the caller keeps its own).
pub(crate) fn dup_fd(fd: i32) -> PyResult<OwnedFd> {
    if fd < 0 {
        return Err(PyValueError::new_err("fd must be >= 0"));
    }
    // SAFETY: `fd` is only borrowed for the duration of the dup call; the
    // caller promised it is open. fcntl(F_DUPFD_CLOEXEC) reports EBADF if not.
    let borrowed = unsafe { std::os::fd::BorrowedFd::borrow_raw(fd) };
    rustix::io::fcntl_dupfd_cloexec(borrowed, 3).map_err(|e| Error::io("dup", e).into())
}
