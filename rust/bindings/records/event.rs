//! `AuditEvent`, `EventBatch`, and the builder that turns the JSON shape into Python objects (`to_dict`).

use super::*;

// ------------------------------------------------------------------- events

/// An event and, when a `LogReader` thread made it, the way back to that
/// thread: the event is dropped there (see `pipeline::Recycler`).
pub(super) struct HomedEvent {
    pub(super) event: Event,
    pub(super) home: Option<Recycler>,
    /// Id lookups for this event and its records (None: the process default).
    pub(super) ids: Option<bool>,
}

impl std::ops::Deref for HomedEvent {
    type Target = Event;
    fn deref(&self) -> &Event {
        &self.event
    }
}

impl Drop for HomedEvent {
    fn drop(&mut self) {
        if let Some(home) = self.home.take() {
            home.recycle(std::mem::take(&mut self.event));
        }
    }
}

/// One audit event: the records that share a time stamp and serial.
#[pyclass(module = "auditlink", name = "AuditEvent", frozen)]
pub struct PyEvent {
    pub(super) event: Arc<HomedEvent>,
    pub(super) records: Lazy<Py<PyTuple>>,
}

impl PyEvent {
    /// The core event (for other areas' bindings, e.g. the enricher).
    pub(crate) fn inner(&self) -> &Event {
        &self.event.event
    }
    pub(crate) fn new(event: Event, ids: Option<bool>) -> PyEvent {
        PyEvent::homed(event, None, ids)
    }
    pub(super) fn homed(event: Event, home: Option<Recycler>, ids: Option<bool>) -> PyEvent {
        PyEvent {
            event: Arc::new(HomedEvent { event, home, ids }),
            records: Lazy::new(),
        }
    }
}

/// The events one call completed, made into `AuditEvent`s as iterated (docs: the stubs, python/auditlink/_native/).
#[pyclass(module = "auditlink._native", name = "EventBatch", frozen)]
pub struct PyEventBatch {
    pub(super) events: Mutex<std::vec::IntoIter<Event>>,
    pub(super) ids: Option<bool>,
}

impl PyEventBatch {
    pub(crate) fn new(events: Vec<Event>, ids: Option<bool>) -> PyEventBatch {
        PyEventBatch {
            events: Mutex::new(events.into_iter()),
            ids,
        }
    }
}

#[pymethods]
impl PyEventBatch {
    fn __iter__(slf: PyRef<'_, Self>) -> PyRef<'_, Self> {
        slf
    }
    fn __next__(&self, py: Python<'_>) -> PyResult<Option<Py<PyEvent>>> {
        let next = self.events.lock().unwrap_or_else(|p| p.into_inner()).next();
        next.map(|e| Py::new(py, PyEvent::new(e, self.ids)))
            .transpose()
    }
    /// Events not taken yet.
    fn __len__(&self) -> usize {
        self.events.lock().unwrap_or_else(|p| p.into_inner()).len()
    }
}

pub(super) fn events_to_list(
    py: Python<'_>,
    events: Vec<Event>,
    ids: Option<bool>,
) -> PyResult<Bound<'_, PyList>> {
    let list = PyList::empty(py);
    for e in events {
        list.append(Py::new(py, PyEvent::new(e, ids))?)?;
    }
    Ok(list)
}

#[pymethods]
impl PyEvent {
    /// The records in arrival order (EOE is not kept: `complete` says it was seen).
    #[getter]
    fn records(&self, py: Python<'_>) -> PyResult<Py<PyTuple>> {
        let t = self.records.get_or_try_make(|| -> PyResult<_> {
            let items: Vec<Py<PyRecord>> = (0..self.event.records.len())
                .map(|i| {
                    Py::new(
                        py,
                        PyRecord::new(Src::InEvent(self.event.clone(), i), self.event.ids),
                    )
                })
                .collect::<PyResult<_>>()?;
            Ok(PyTuple::new(py, items)?.unbind())
        })?;
        Ok(t.clone_ref(py))
    }
    #[getter]
    fn serial(&self) -> u64 {
        self.event.serial
    }
    #[getter]
    fn timestamp(&self) -> PyTimestamp {
        self.event.timestamp.into()
    }
    #[getter]
    fn node<'py>(&self, py: Python<'py>) -> PyResult<Option<Bound<'py, PyAny>>> {
        self.event.node().map(|n| py_str(py, n)).transpose()
    }
    /// Whether the event's end was seen.
    #[getter]
    fn complete(&self) -> bool {
        self.event.complete
    }
    /// The event in the documented shape, as Python objects.
    fn to_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let mut b = PyBuilder::new(py);
        core::interpret::with_resolve_ids(self.event.ids, || json::emit_event(&mut b, &self.event));
        b.finish()
    }
    /// The event as one JSON object (one line, no line end).
    fn to_json(&self) -> String {
        let mut out = Vec::with_capacity(1024);
        core::interpret::with_resolve_ids(self.event.ids, || {
            json::event_to_json(&self.event, &mut out)
        });
        String::from_utf8(out).unwrap_or_default()
    }
    /// Who did what to what: libauparse's normalizer (see bindings/normalize.rs).
    fn normalize(&self) -> super::super::normalize::PyNormalized {
        core::interpret::with_resolve_ids(self.event.ids, || {
            super::super::normalize::normalize_event(self.event.clone())
        })
    }
    fn __len__(&self) -> usize {
        self.event.records.len()
    }
    fn __iter__<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        Ok(self.records(py)?.into_bound(py).try_iter()?.into_any())
    }
    fn __repr__(&self) -> String {
        format!(
            "<AuditEvent timestamp={} serial={} records={} complete={}>",
            self.event.timestamp,
            self.event.serial,
            self.event.records.len(),
            if self.event.complete { "True" } else { "False" }
        )
    }
    fn __eq__(&self, other: &Bound<'_, PyAny>) -> bool {
        match other.cast::<PyEvent>() {
            Ok(o) => self.event.event == o.get().event.event,
            Err(_) => false,
        }
    }
    fn __hash__(&self) -> u64 {
        use std::hash::{Hash, Hasher};
        let mut h = std::collections::hash_map::DefaultHasher::new();
        self.event.timestamp.hash(&mut h);
        self.event.serial.hash(&mut h);
        for r in &self.event.records {
            r.text().hash(&mut h);
        }
        h.finish()
    }
}

// -------------------------------------------------------------- dict builder

/// Builds Python objects from the shape (the other `Sink` is the JSON writer).
pub(super) struct PyBuilder<'py> {
    pub(super) py: Python<'py>,
    pub(super) stack: Vec<Bound<'py, PyAny>>,
    pub(super) keys: Vec<Option<Bound<'py, PyAny>>>,
    pub(super) result: Option<Bound<'py, PyAny>>,
    pub(super) error: Option<PyErr>,
}

impl<'py> PyBuilder<'py> {
    pub(super) fn new(py: Python<'py>) -> Self {
        PyBuilder {
            py,
            stack: Vec::new(),
            keys: Vec::new(),
            result: None,
            error: None,
        }
    }
    pub(super) fn finish(self) -> PyResult<Bound<'py, PyAny>> {
        if let Some(e) = self.error {
            return Err(e);
        }
        Ok(self
            .result
            .unwrap_or_else(|| PyDict::new(self.py).into_any()))
    }
    pub(super) fn put(&mut self, v: PyResult<Bound<'py, PyAny>>) {
        if self.error.is_some() {
            return;
        }
        let v = match v {
            Ok(v) => v,
            Err(e) => return self.error = Some(e),
        };
        let Some(top) = self.stack.last() else {
            self.result = Some(v);
            return;
        };
        let r = if let Ok(d) = top.cast::<PyDict>() {
            match self.keys.last_mut().and_then(Option::take) {
                Some(k) => d.set_item(k, v),
                None => Ok(()),
            }
        } else if let Ok(l) = top.cast::<PyList>() {
            l.append(v)
        } else {
            Ok(())
        };
        if let Err(e) = r {
            self.error = Some(e);
        }
    }
    pub(super) fn open(&mut self, c: Bound<'py, PyAny>) {
        self.put(Ok(c.clone()));
        self.stack.push(c);
        self.keys.push(None);
    }
    pub(super) fn close(&mut self) {
        self.stack.pop();
        self.keys.pop();
    }
}

impl Sink for PyBuilder<'_> {
    fn begin_map(&mut self) {
        let d = PyDict::new(self.py).into_any();
        self.open(d);
    }
    fn end_map(&mut self) {
        self.close();
    }
    fn begin_list(&mut self) {
        let l = PyList::empty(self.py).into_any();
        self.open(l);
    }
    fn end_list(&mut self) {
        self.close();
    }
    fn key(&mut self, k: &[u8]) {
        match py_str(self.py, k) {
            Ok(k) => {
                if let Some(slot) = self.keys.last_mut() {
                    *slot = Some(k);
                }
            }
            Err(e) => self.error = Some(e),
        }
    }
    fn string(&mut self, s: &[u8]) {
        let v = py_str(self.py, s);
        self.put(v);
    }
    fn int(&mut self, v: i64) {
        let v = v.into_pyobject(self.py).map(|o| o.into_any());
        self.put(v.map_err(Into::into));
    }
    fn uint(&mut self, v: u64) {
        let v = v.into_pyobject(self.py).map(|o| o.into_any());
        self.put(v.map_err(Into::into));
    }
    fn boolean(&mut self, b: bool) {
        let v = b.into_pyobject(self.py).map(|o| o.to_owned().into_any());
        self.put(v.map_err(Into::into));
    }
    fn null(&mut self) {
        let v = self.py.None().into_bound(self.py);
        self.put(Ok(v));
    }
}
