//! The PyO3 layer: every #[pyclass]/#[pyfunction] lives under this module.
//! Each area has its own file with a `register(m)`; this file owns module
//! initialisation and the one conversion from the core's `Error` to Python.

use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;

use crate::audit::errno::strerror;
use crate::error::Error;

pub(crate) mod client;
pub(crate) mod common;
pub(crate) mod daemon;
pub(crate) mod enrich;
pub(crate) mod normalize;
pub(crate) mod records;
pub(crate) mod rules;
pub(crate) mod search;
pub(crate) mod sinks;
pub(crate) mod types;

/// `auditlink.errors._from_errno`, looked up once. The exception classes are
/// Python classes (an error that is both `AuditError` and `PermissionError`
/// needs multiple inheritance), so the bindings import them lazily; the
/// package is always imported before `_native` is used.
fn error_factory(py: Python<'_>) -> PyResult<&Bound<'_, PyAny>> {
    static FACTORY: PyOnceLock<Py<PyAny>> = PyOnceLock::new();
    FACTORY.import(py, "auditlink.errors", "_from_errno")
}

fn audit_error_class(py: Python<'_>) -> PyResult<&Bound<'_, PyAny>> {
    static CLASS: PyOnceLock<Py<PyAny>> = PyOnceLock::new();
    CLASS.import(py, "auditlink.errors", "AuditError")
}

/// errno + operation (+ seq) -> the matching `AuditError` subclass instance.
fn errno_error(py: Python<'_>, errno: i32, operation: &str, seq: Option<u32>) -> PyErr {
    let made = error_factory(py).and_then(|f| f.call1((errno, strerror(errno), operation, seq)));
    match made {
        Ok(e) => PyErr::from_value(e),
        Err(e) => e,
    }
}

/// An `AuditError` without errno: a malformed reply, a closed client.
fn plain_audit_error(py: Python<'_>, message: String) -> PyErr {
    match audit_error_class(py).and_then(|c| c.call1((message,))) {
        Ok(e) => PyErr::from_value(e),
        Err(e) => e,
    }
}

impl From<Error> for PyErr {
    fn from(err: Error) -> PyErr {
        Python::attach(|py| match err {
            Error::Kernel { errno, op, seq } => errno_error(py, errno, &op, Some(seq)),
            Error::Io { op, source } => match source.raw_os_error() {
                Some(errno) => errno_error(py, errno, op, None),
                None => plain_audit_error(py, format!("{op}: {source}")),
            },
            Error::Timeout {
                op,
                seq,
                timeout_ms,
            } => {
                let e = errno_error(py, libc::ETIMEDOUT, &op, Some(seq));
                // Keep the errno-based class (TimeoutError) but say how long we waited.
                let _ = e
                    .value(py)
                    .setattr("detail", format!("no reply within {timeout_ms} ms"));
                e
            }
            Error::Closed => errno_error(py, libc::EBADF, "the client is closed", None),
            Error::InvalidArgument(msg) => PyValueError::new_err(msg),
            Error::Malformed(msg) => plain_audit_error(py, msg),
        })
    }
}

#[pymodule]
fn _native(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    types::register(m)?;
    client::register(m)?;
    daemon::register(m)?;
    records::register(m)?;
    rules::register(m)?;
    search::register(m)?;
    normalize::register(m)?;
    enrich::register(m)?;
    sinks::register(m)?;
    Ok(())
}
