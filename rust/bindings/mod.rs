//! The PyO3 layer: every #[pyclass]/#[pyfunction] lives under this module.
//! Each area has its own file with a `register(m)`; this file owns module
//! initialisation and the one conversion from the core's `Error` to Python.

use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::PyString;

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

/// Registers one area (one file of this folder) as `auditlink._native.<name>`,
/// importable through `sys.modules`, and every name it registers on
/// `auditlink._native` itself too. The stubs follow the same split
/// (`python/auditlink/_native/<name>.pyi`), so no stub file grows past what
/// a person can read.
fn add_area(
    parent: &Bound<'_, PyModule>,
    name: &str,
    register: fn(&Bound<'_, PyModule>) -> PyResult<()>,
) -> PyResult<()> {
    let py = parent.py();
    let full_name = format!("{}.{name}", parent.name()?);
    let area = PyModule::new(py, &full_name)?;
    register(&area)?;
    for item in area.index()?.iter() {
        let item = item.cast_into::<PyString>()?;
        parent.add(&item, area.getattr(&item)?)?;
    }
    // An attribute, not `add_submodule`: `__all__` lists the API, not the areas.
    parent.setattr(name, &area)?;
    py.import("sys")?
        .getattr("modules")?
        .set_item(full_name, area)
}

#[pymodule]
fn _native(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    types::register(m)?;
    add_area(m, "client", client::register)?;
    add_area(m, "daemon", daemon::register)?;
    add_area(m, "records", records::register)?;
    add_area(m, "rules", rules::register)?;
    add_area(m, "search", search::register)?;
    add_area(m, "normalize", normalize::register)?;
    add_area(m, "enrich", enrich::register)?;
    add_area(m, "sinks", sinks::register)?;
    Ok(())
}
