//! Message type table export and fast number -> `MessageType` member lookup.

use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::PyTuple;

use crate::audit::tables::{self, MessageKind};

/// Numbers below this are looked up in a dense table (every audit type is < 3000).
const DENSE: usize = 4096;

fn kind_name(kind: MessageKind) -> &'static str {
    match kind {
        MessageKind::Control => "control",
        MessageKind::UserMessage => "user",
        MessageKind::KernelEvent => "kernel",
    }
}

/// `[(number, name, kind), ...]`: the one message type table, for the
/// generator of `auditlink._message_type` and for its consistency test.
#[pyfunction]
fn message_types(py: Python<'_>) -> PyResult<Vec<Bound<'_, PyTuple>>> {
    tables::MESSAGE_TYPES
        .iter()
        .map(|t| {
            PyTuple::new(
                py,
                [
                    t.number.into_pyobject(py)?.into_any(),
                    t.name.into_pyobject(py)?.into_any(),
                    kind_name(t.kind).into_pyobject(py)?.into_any(),
                ],
            )
        })
        .collect()
}

/// The `MessageType` member for `number`, or the plain int if unknown.
pub(crate) fn message_type_object(py: Python<'_>, number: u16) -> PyResult<Py<PyAny>> {
    static MEMBERS: PyOnceLock<Vec<Option<Py<PyAny>>>> = PyOnceLock::new();
    let members = MEMBERS.get_or_try_init(py, || -> PyResult<_> {
        let enum_cls = py
            .import("auditlink._message_type")?
            .getattr("MessageType")?;
        let mut v: Vec<Option<Py<PyAny>>> = (0..DENSE).map(|_| None).collect();
        for t in tables::MESSAGE_TYPES {
            if let Some(slot @ None) = v.get_mut(usize::from(t.number)) {
                *slot = Some(enum_cls.call1((t.number,))?.unbind());
            }
        }
        Ok(v)
    })?;
    match members.get(usize::from(number)) {
        Some(Some(m)) => Ok(m.clone_ref(py)),
        _ => Ok(number.into_pyobject(py)?.into_any().unbind()),
    }
}

pub(crate) fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(message_types, m)?)?;
    Ok(())
}
