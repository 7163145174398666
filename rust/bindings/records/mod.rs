//! Python classes for records and events: `AuditRecord`, `AuditEvent`,
//! `AuditTimestamp`, the `fields` mapping, `Reassembler`, the log parser behind
//! `read_events`, and the live-stream fast path behind `AuditClient.events()`.
//!
//! Everything is parsed once in Rust; Python objects are thin views over the
//! parsed record (built lazily where that saves work).

use std::sync::{Arc, Mutex};
use std::time::{SystemTime, UNIX_EPOCH};

use pyo3::exceptions::{PyKeyError, PyValueError};

use crate::bindings::common;
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::{PyBytes, PyDict, PyList, PyString, PyTuple};

use crate::audit::client::Batch;
use crate::audit::records::json::{self, Sink};
use crate::audit::records::pipeline::{EventReader, Next, Recycler};
use crate::audit::records::{self as core, Event, LogStream, Record, Timestamp};
use crate::bindings::client::PyAuditClient;
use crate::bindings::types::message_type_object;

pyo3::create_exception!(
    auditlink,
    RecordParseError,
    PyValueError,
    "A record's text could not be parsed (raised by parse_record/parse_log_line only)."
);

mod event;
mod reader;
mod record;
mod stream;
mod strings;
pub(crate) use event::{PyEvent, PyEventBatch};
pub(crate) use stream::receive_grouped;
pub(crate) use strings::py_str;

use event::*;
use reader::*;
use record::*;
use stream::*;
use strings::*;

// --------------------------------------------------------------- functions

fn millis_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64)
}

fn timeout_ms(timeout: f64) -> PyResult<u64> {
    common::millis(timeout, "timeout")
}

fn bytes_arg(data: &Bound<'_, PyAny>) -> PyResult<Vec<u8>> {
    if let Ok(s) = data.cast::<PyString>() {
        return Ok(str_bytes(s)?.into_owned());
    }
    if let Ok(b) = data.extract::<Vec<u8>>() {
        if data.cast::<PyList>().is_err() {
            return Ok(b);
        }
    }
    Err(pyo3::exceptions::PyTypeError::new_err(
        "expected str or bytes",
    ))
}

/// Parse one netlink record payload (`audit(SEC.MS:SERIAL): fields`).
#[pyfunction]
#[pyo3(signature = (r#type, data, *, id_resolution=None))]
fn parse_record(r#type: u16, data: &[u8], id_resolution: Option<bool>) -> PyResult<PyRecord> {
    let rec =
        core::parse_payload(r#type, data).map_err(|e| RecordParseError::new_err(e.to_string()))?;
    Ok(PyRecord::new(Src::Own(Arc::new(rec)), id_resolution))
}

/// Parse one auditd log line (RAW or ENRICHED format, optional `node=`).
#[pyfunction]
#[pyo3(signature = (line, *, id_resolution=None))]
fn parse_log_line(line: &Bound<'_, PyAny>, id_resolution: Option<bool>) -> PyResult<PyRecord> {
    let bytes = bytes_arg(line)?;
    let rec = core::parse_log_line(&bytes).map_err(|e| RecordParseError::new_err(e.to_string()))?;
    Ok(PyRecord::new(Src::Own(Arc::new(rec)), id_resolution))
}

/// The process-wide default of id lookups in interpretations.
#[pyfunction]
fn set_id_resolution(enabled: bool) {
    core::interpret::set_resolve_ids(enabled);
}

pub(crate) fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<PyTimestamp>()?;
    m.add_class::<PyRecord>()?;
    m.add_class::<PyFields>()?;
    m.add_class::<PyEvent>()?;
    m.add_class::<PyReassembler>()?;
    m.add_class::<PyLogParser>()?;
    m.add_class::<PyEventBatch>()?;
    m.add_class::<PyLogReader>()?;
    m.add("RecordParseError", m.py().get_type::<RecordParseError>())?;
    m.add_function(wrap_pyfunction!(parse_record, m)?)?;
    m.add_function(wrap_pyfunction!(parse_log_line, m)?)?;
    m.add_function(wrap_pyfunction!(set_id_resolution, m)?)?;
    m.add_function(wrap_pyfunction!(receive_events, m)?)?;
    Ok(())
}
