//! Python classes of the normalizer: NormalizedEvent and its parts, the
//! csv/text/ECS line reader, the csv header.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyDict, PyTuple};

use super::records::py_str;
use crate::audit::normalize::{ecs, format, summarize, OwnedField, Summary};
use crate::audit::records::pipeline::{EventReader, Next};
use crate::audit::records::{Event, LogStream};

use super::common;

/// Anything that holds an event (the records bindings' shared event).
pub(crate) trait EventSource: Send + Sync {
    fn event(&self) -> &Event;
}

impl<T: std::ops::Deref<Target = Event> + Send + Sync> EventSource for T {
    fn event(&self) -> &Event {
        self
    }
}

fn opt_str<'py>(py: Python<'py>, v: Option<&[u8]>) -> PyResult<Option<Bound<'py, PyAny>>> {
    v.map(|b| py_str(py, b)).transpose()
}

#[pyclass(module = "auditlink", name = "NormalizedField", frozen, eq, hash)]
#[derive(PartialEq, Eq, Hash)]
pub struct PyField(OwnedField);

#[pymethods]
impl PyField {
    #[getter]
    fn name<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        py_str(py, &self.0.name)
    }
    #[getter]
    fn value<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        py_str(py, &self.0.raw)
    }
    #[getter]
    fn interpreted<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        py_str(py, &self.0.interpreted)
    }
    #[getter]
    fn record(&self) -> u32 {
        self.0.loc.record
    }
    #[getter]
    fn field(&self) -> u32 {
        self.0.loc.field
    }
    fn to_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        field_dict(py, &self.0)
    }
    fn __repr__(&self) -> String {
        format!(
            "NormalizedField(name={:?}, interpreted={:?}, record={}, field={})",
            String::from_utf8_lossy(&self.0.name),
            String::from_utf8_lossy(&self.0.interpreted),
            self.0.loc.record,
            self.0.loc.field
        )
    }
}

fn field_dict<'py>(py: Python<'py>, f: &OwnedField) -> PyResult<Bound<'py, PyDict>> {
    let d = PyDict::new(py);
    d.set_item("name", py_str(py, &f.name)?)?;
    d.set_item("value", py_str(py, &f.raw)?)?;
    d.set_item("interpreted", py_str(py, &f.interpreted)?)?;
    d.set_item("record", f.loc.record)?;
    d.set_item("field", f.loc.field)?;
    Ok(d)
}

fn opt_field(py: Python<'_>, f: &Option<OwnedField>) -> PyResult<Option<Py<PyField>>> {
    f.as_ref()
        .map(|f| Py::new(py, PyField(f.clone())))
        .transpose()
}

fn opt_field_dict<'py>(
    py: Python<'py>,
    f: &Option<OwnedField>,
) -> PyResult<Option<Bound<'py, PyDict>>> {
    f.as_ref().map(|f| field_dict(py, f)).transpose()
}

fn fields_tuple<'py>(py: Python<'py>, v: &[OwnedField]) -> PyResult<Bound<'py, PyTuple>> {
    let items: Vec<Py<PyField>> = v
        .iter()
        .map(|f| Py::new(py, PyField(f.clone())))
        .collect::<PyResult<_>>()?;
    PyTuple::new(py, items)
}

fn dicts_list<'py>(py: Python<'py>, v: &[OwnedField]) -> PyResult<Vec<Bound<'py, PyDict>>> {
    v.iter().map(|f| field_dict(py, f)).collect()
}

/// The subject or object part of a normalized event.
#[pyclass(module = "auditlink", name = "NormalizedSubject", frozen)]
pub struct PySubject(Arc<Summary>);

// Getters read the subject's part of the shared summary.
#[allow(clippy::misnamed_getters)]
#[pymethods]
impl PySubject {
    #[getter]
    fn primary(&self, py: Python<'_>) -> PyResult<Option<Py<PyField>>> {
        opt_field(py, &self.0.subject_primary)
    }
    #[getter]
    fn secondary(&self, py: Python<'_>) -> PyResult<Option<Py<PyField>>> {
        opt_field(py, &self.0.subject_secondary)
    }
    #[getter]
    fn kind(&self) -> Option<&'static str> {
        self.0.subject_kind
    }
    #[getter]
    fn label<'py>(&self, py: Python<'py>) -> PyResult<Option<Bound<'py, PyAny>>> {
        opt_str(py, Summary::label(&self.0.subject_attrs, b"subj"))
    }
    #[getter]
    fn attributes<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyTuple>> {
        fields_tuple(py, &self.0.subject_attrs)
    }
}

#[pyclass(module = "auditlink", name = "NormalizedObject", frozen)]
pub struct PyObjectPart(Arc<Summary>);

#[allow(clippy::misnamed_getters)]
#[pymethods]
impl PyObjectPart {
    #[getter]
    fn primary(&self, py: Python<'_>) -> PyResult<Option<Py<PyField>>> {
        opt_field(py, &self.0.object_primary)
    }
    #[getter]
    fn secondary(&self, py: Python<'_>) -> PyResult<Option<Py<PyField>>> {
        opt_field(py, &self.0.object_secondary)
    }
    #[getter]
    fn primary2(&self, py: Python<'_>) -> PyResult<Option<Py<PyField>>> {
        opt_field(py, &self.0.object_primary2)
    }
    #[getter]
    fn kind(&self) -> &'static str {
        self.0.object_kind
    }
    #[getter]
    fn label<'py>(&self, py: Python<'py>) -> PyResult<Option<Bound<'py, PyAny>>> {
        opt_str(py, Summary::label(&self.0.object_attrs, b"obj"))
    }
    #[getter]
    fn attributes<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyTuple>> {
        fields_tuple(py, &self.0.object_attrs)
    }
}

#[pyclass(module = "auditlink", name = "NormalizedEvent", frozen)]
pub struct PyNormalized {
    summary: Arc<Summary>,
    event: Arc<dyn EventSource>,
}

/// `AuditEvent.normalize()`.
pub(crate) fn normalize_event(event: Arc<dyn EventSource>) -> PyNormalized {
    let summary = Arc::new(summarize(event.event()));
    PyNormalized { summary, event }
}

#[pymethods]
impl PyNormalized {
    #[getter]
    fn kind(&self) -> Option<&'static str> {
        self.summary.kind
    }
    #[getter]
    fn session(&self, py: Python<'_>) -> PyResult<Option<Py<PyField>>> {
        opt_field(py, &self.summary.session)
    }
    #[getter]
    fn subject(&self) -> PySubject {
        PySubject(self.summary.clone())
    }
    #[getter]
    fn action<'py>(&self, py: Python<'py>) -> PyResult<Option<Bound<'py, PyAny>>> {
        opt_str(py, self.summary.action.as_deref())
    }
    #[getter]
    fn result(&self, py: Python<'_>) -> PyResult<Option<Py<PyField>>> {
        opt_field(py, &self.summary.result)
    }
    #[getter]
    fn success(&self) -> Option<bool> {
        self.summary.success
    }
    #[getter]
    fn object(&self) -> PyObjectPart {
        PyObjectPart(self.summary.clone())
    }
    #[getter]
    fn how<'py>(&self, py: Python<'py>) -> PyResult<Option<Bound<'py, PyAny>>> {
        opt_str(py, self.summary.how.as_deref())
    }
    #[getter]
    fn key(&self, py: Python<'_>) -> PyResult<Option<Py<PyField>>> {
        opt_field(py, &self.summary.key)
    }
    fn to_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let s = &*self.summary;
        let d = PyDict::new(py);
        d.set_item("kind", s.kind)?;
        d.set_item("session", opt_field_dict(py, &s.session)?)?;
        let subj = PyDict::new(py);
        subj.set_item("primary", opt_field_dict(py, &s.subject_primary)?)?;
        subj.set_item("secondary", opt_field_dict(py, &s.subject_secondary)?)?;
        subj.set_item("kind", s.subject_kind)?;
        subj.set_item(
            "label",
            opt_str(py, Summary::label(&s.subject_attrs, b"subj"))?,
        )?;
        subj.set_item("attributes", dicts_list(py, &s.subject_attrs)?)?;
        d.set_item("subject", subj)?;
        d.set_item("action", opt_str(py, s.action.as_deref())?)?;
        d.set_item("result", opt_field_dict(py, &s.result)?)?;
        d.set_item("success", s.success)?;
        let obj = PyDict::new(py);
        obj.set_item("primary", opt_field_dict(py, &s.object_primary)?)?;
        obj.set_item("secondary", opt_field_dict(py, &s.object_secondary)?)?;
        obj.set_item("primary2", opt_field_dict(py, &s.object_primary2)?)?;
        obj.set_item("kind", s.object_kind)?;
        obj.set_item(
            "label",
            opt_str(py, Summary::label(&s.object_attrs, b"obj"))?,
        )?;
        obj.set_item("attributes", dicts_list(py, &s.object_attrs)?)?;
        d.set_item("object", obj)?;
        d.set_item("how", opt_str(py, s.how.as_deref())?)?;
        d.set_item("key", opt_field_dict(py, &s.key)?)?;
        Ok(d)
    }
    fn to_ecs_json(&self) -> String {
        ecs::ecs_json_with(self.event.event(), &self.summary)
    }
    fn to_ecs<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let text = self.to_ecs_json();
        py.import("json")?.call_method1("loads", (text,))
    }
    fn __repr__(&self) -> String {
        format!(
            "<NormalizedEvent kind={:?} action={:?}>",
            self.summary.kind.unwrap_or("None"),
            self.summary
                .action
                .as_deref()
                .map(String::from_utf8_lossy)
                .unwrap_or_default()
        )
    }
}

#[derive(Clone, Copy)]
enum LineFormat {
    Csv(format::CsvOptions),
    Text,
    Ecs,
}

fn lines_of(events: &[Event], fmt: LineFormat) -> Vec<u8> {
    let mut out = Vec::with_capacity(events.len() * 200);
    for e in events {
        match fmt {
            LineFormat::Csv(o) => out.extend(format::csv_line(e, &o)),
            LineFormat::Text => out.extend(format::text_line(e)),
            LineFormat::Ecs => {
                out.extend(ecs::ecs_json(e).into_bytes());
                out.push(b'\n');
            }
        }
    }
    out
}

/// Reads a log on a second thread and formats each event in Rust.
#[pyclass(module = "auditlink._native", name = "FormatReader", frozen)]
pub struct PyFormatReader {
    reader: Mutex<EventReader>,
    format: LineFormat,
}

#[pymethods]
impl PyFormatReader {
    #[new]
    #[pyo3(signature = (fd, format, timeout=2.0, chunk_size=1048576, extra_keys=false, extra_labels=false, extra_obj2=false, extra_time=false, split_login=false))]
    #[allow(clippy::too_many_arguments)]
    fn new(
        fd: i32,
        format: &str,
        timeout: f64,
        chunk_size: usize,
        extra_keys: bool,
        extra_labels: bool,
        extra_obj2: bool,
        extra_time: bool,
        split_login: bool,
    ) -> PyResult<PyFormatReader> {
        let fmt = match format {
            "csv" => LineFormat::Csv(format::CsvOptions {
                extra_keys,
                extra_labels,
                extra_obj2,
                extra_time,
            }),
            "text" => LineFormat::Text,
            "ecs" => LineFormat::Ecs,
            other => {
                return Err(PyValueError::new_err(format!(
                    "unknown format {other:?} (csv, text or ecs)"
                )))
            }
        };
        let mut stream = LogStream::new(1024, common::millis(timeout, "timeout")?);
        stream.reassembler_mut().set_split_login(split_login);
        let reader = EventReader::spawn_stream(
            std::fs::File::from(common::dup_fd(fd)?),
            stream,
            chunk_size,
        )?;
        Ok(PyFormatReader {
            reader: Mutex::new(reader),
            format: fmt,
        })
    }

    /// The next formatted lines, made with the GIL released; None at the end.
    fn next_lines<'py>(&self, py: Python<'py>) -> PyResult<Option<Bound<'py, PyBytes>>> {
        const SLICE: Duration = Duration::from_millis(100);
        loop {
            let step = py.detach(|| -> std::io::Result<Option<Option<Vec<u8>>>> {
                let mut r = self.reader.lock().unwrap_or_else(|p| p.into_inner());
                match r.next_batch(Some(SLICE))? {
                    Next::Batch(events) => {
                        let out = lines_of(&events, self.format);
                        r.recycler().recycle_all(events);
                        Ok(Some(Some(out)))
                    }
                    Next::Pending => Ok(None),
                    Next::End => Ok(Some(None)),
                }
            })?;
            match step {
                Some(Some(out)) => return Ok(Some(PyBytes::new(py, &out))),
                Some(None) => return Ok(None),
                None => py.check_signals()?,
            }
        }
    }
}

#[pyfunction]
#[pyo3(signature = (*, extra_keys=false, extra_labels=false, extra_obj2=false, extra_time=false))]
fn csv_header(extra_keys: bool, extra_labels: bool, extra_obj2: bool, extra_time: bool) -> String {
    format::csv_header(&format::CsvOptions {
        extra_keys,
        extra_labels,
        extra_obj2,
        extra_time,
    })
}

pub(crate) fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<PyField>()?;
    m.add_class::<PySubject>()?;
    m.add_class::<PyObjectPart>()?;
    m.add_class::<PyNormalized>()?;
    m.add_class::<PyFormatReader>()?;
    m.add_function(wrap_pyfunction!(csv_header, m)?)?;
    Ok(())
}
