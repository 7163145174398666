//! `AuditTimestamp`, `AuditRecord` and its `fields` mapping (`RecordFields`).

use super::*;

// ---------------------------------------------------------------- timestamp

/// A record's time stamp as the kernel wrote it (docs: the stubs, python/auditlink/_native/).
#[pyclass(module = "auditlink", name = "AuditTimestamp", frozen, eq, ord, hash)]
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct PyTimestamp {
    pub(super) sec: u64,
    pub(super) msec: u32,
}

impl From<Timestamp> for PyTimestamp {
    fn from(t: Timestamp) -> Self {
        PyTimestamp {
            sec: t.sec,
            msec: t.msec,
        }
    }
}

#[pymethods]
impl PyTimestamp {
    #[new]
    fn new(seconds: u64, milliseconds: u32) -> PyResult<Self> {
        if milliseconds > 999 {
            return Err(PyValueError::new_err("milliseconds must be 0..999"));
        }
        Ok(PyTimestamp {
            sec: seconds,
            msec: milliseconds,
        })
    }
    #[getter]
    fn seconds(&self) -> u64 {
        self.sec
    }
    #[getter]
    fn milliseconds(&self) -> u32 {
        self.msec
    }
    /// The time as an aware `datetime` in UTC (exact: no float rounding).
    #[getter]
    fn datetime<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        if self.sec > core::parse::MAX_DATETIME_SECONDS {
            return Err(PyValueError::new_err(format!(
                "time stamp {} is past the year 9999, beyond what datetime can show",
                self.sec
            )));
        }
        static EPOCH: PyOnceLock<(Py<PyAny>, Py<PyAny>)> = PyOnceLock::new();
        let (epoch, timedelta) = EPOCH.get_or_try_init(py, || -> PyResult<_> {
            let dt = py.import("datetime")?;
            let utc = dt.getattr("timezone")?.getattr("utc")?;
            let epoch = dt
                .getattr("datetime")?
                .call1((1970, 1, 1, 0, 0, 0, 0, utc))?;
            Ok((epoch.unbind(), dt.getattr("timedelta")?.unbind()))
        })?;
        let kwargs = PyDict::new(py);
        kwargs.set_item("seconds", self.sec)?;
        kwargs.set_item("milliseconds", self.msec)?;
        let delta = timedelta.bind(py).call((), Some(&kwargs))?;
        epoch.bind(py).add(delta)
    }
    /// Seconds since the epoch as a float (convenient, not exact).
    fn __float__(&self) -> f64 {
        self.sec as f64 + f64::from(self.msec) / 1000.0
    }
    fn __str__(&self) -> String {
        Timestamp {
            sec: self.sec,
            msec: self.msec,
        }
        .to_string()
    }
    fn __repr__(&self) -> String {
        format!(
            "AuditTimestamp(seconds={}, milliseconds={})",
            self.sec, self.msec
        )
    }
}

// ------------------------------------------------------------------ records

/// Where a record lives: alone, or inside an event (no copy either way).
#[derive(Clone)]
pub(super) enum Src {
    Own(Arc<Record>),
    InEvent(Arc<HomedEvent>, usize),
}

impl Src {
    pub(super) fn rec(&self) -> &Record {
        match self {
            Src::Own(r) => r,
            // The index was checked when the view was made; events are immutable.
            Src::InEvent(e, i) => &e.records[*i],
        }
    }
}

/// One audit record: its type, time stamp, serial, fields and text.
#[pyclass(module = "auditlink", name = "AuditRecord", frozen)]
pub struct PyRecord {
    pub(super) src: Src,
    pub(super) fields: Lazy<Py<PyFields>>,
    /// Id lookups in interpretations (None: the process default).
    pub(super) ids: Option<bool>,
}

impl PyRecord {
    pub(super) fn new(src: Src, ids: Option<bool>) -> PyRecord {
        PyRecord {
            src,
            fields: Lazy::new(),
            ids,
        }
    }
    pub(super) fn rec(&self) -> &Record {
        self.src.rec()
    }
}

#[pymethods]
impl PyRecord {
    /// The record type: a `MessageType` member where known, else the int.
    #[getter]
    fn r#type(&self, py: Python<'_>) -> PyResult<Py<PyAny>> {
        message_type_object(py, self.rec().msg_type)
    }
    #[getter]
    fn timestamp(&self) -> PyTimestamp {
        self.rec().timestamp.into()
    }
    #[getter]
    fn serial(&self) -> u64 {
        self.rec().serial
    }
    /// The `node=` name of an aggregated log line, else None.
    #[getter]
    fn node<'py>(&self, py: Python<'py>) -> PyResult<Option<Bound<'py, PyAny>>> {
        self.rec().node().map(|n| py_str(py, n)).transpose()
    }
    /// Ordered, read-only mapping field name -> value as written (quotes removed).
    #[getter]
    fn fields(&self, py: Python<'_>) -> PyResult<Py<PyFields>> {
        let f = self
            .fields
            .get_or_try_make(|| Py::new(py, PyFields::new(self.src.clone())))?;
        Ok(f.clone_ref(py))
    }
    /// The record as received (log line or netlink payload).
    #[getter]
    fn text<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        py_str(py, self.rec().text())
    }
    /// Why the record could not be parsed completely, else None.
    #[getter]
    fn error(&self) -> Option<String> {
        self.rec().error().map(ToString::to_string)
    }
    /// auparse's interpretation of the first field called `name`.
    fn interpret<'py>(
        &self,
        py: Python<'py>,
        name: &Bound<'py, PyString>,
    ) -> PyResult<Option<Bound<'py, PyAny>>> {
        let name = str_bytes(name)?;
        core::interpret::with_resolve_ids(self.ids, || core::interpret(self.rec(), &name))
            .map(|v| py_str(py, &v))
            .transpose()
    }
    /// Every field in order: `(name, value, interpretation)`.
    fn interpreted_fields<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyList>> {
        let r = self.rec();
        let list = PyList::empty(py);
        let mut buf = Vec::with_capacity(64);
        let mut names = name_cache(py);
        for f in r.fields() {
            buf.clear();
            core::interpret::with_resolve_ids(self.ids, || core::interpret_field(r, f, &mut buf));
            list.append(PyTuple::new(
                py,
                [
                    py_name_in(py, names.as_deref_mut(), r.field_name(f))?,
                    py_str(py, r.field_value(f))?,
                    py_str(py, &buf)?,
                ],
            )?)?;
        }
        Ok(list)
    }
    /// The record as the typed dict it has inside `AuditEvent.to_dict()`.
    fn to_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let mut b = PyBuilder::new(py);
        core::interpret::with_resolve_ids(self.ids, || json::emit_record(&mut b, self.rec()));
        b.finish()
    }
    /// The record as one JSON object (see `to_dict`).
    fn to_json(&self) -> String {
        let mut out = Vec::with_capacity(256);
        core::interpret::with_resolve_ids(self.ids, || json::record_to_json(self.rec(), &mut out));
        String::from_utf8(out).unwrap_or_default()
    }
    fn __repr__(&self) -> PyResult<String> {
        let r = self.rec();
        Ok(format!(
            "<AuditRecord type={} timestamp={} serial={} fields={}>",
            json::type_key(r.msg_type),
            r.timestamp,
            r.serial,
            r.fields().len()
        ))
    }
    fn __eq__(&self, other: &Bound<'_, PyAny>) -> bool {
        match other.cast::<PyRecord>() {
            Ok(o) => {
                let (a, b) = (self.rec(), o.get().rec());
                a.msg_type == b.msg_type && a.text() == b.text()
            }
            Err(_) => false,
        }
    }
    fn __hash__(&self) -> u64 {
        use std::hash::{Hash, Hasher};
        let mut h = std::collections::hash_map::DefaultHasher::new();
        self.rec().msg_type.hash(&mut h);
        self.rec().text().hash(&mut h);
        h.finish()
    }
}

/// The fields of a record as a read-only mapping (docs: the stubs, python/auditlink/_native/).
#[pyclass(module = "auditlink", name = "RecordFields", frozen, mapping)]
pub struct PyFields {
    pub(super) src: Src,
    pub(super) dict: Lazy<Py<PyDict>>,
}

impl PyFields {
    pub(super) fn new(src: Src) -> PyFields {
        PyFields {
            src,
            dict: Lazy::new(),
        }
    }

    /// The mapping as a dict (built once; names interned, first value wins).
    pub(super) fn dict<'py>(&self, py: Python<'py>) -> PyResult<&Bound<'py, PyDict>> {
        let d = self.dict.get_or_try_make(|| -> PyResult<_> {
            let r = self.src.rec();
            let d = PyDict::new(py);
            let mut cache = name_cache(py);
            let mut bloom = 0u64;
            for f in r.fields() {
                let n = r.field_name(f);
                let bit =
                    1u64 << ((n.len() * 7 + usize::from(n.first().copied().unwrap_or(0))) & 63);
                let name = py_name_in(py, cache.as_deref_mut(), n)?;
                if bloom & bit != 0 && d.contains(&name)? {
                    continue;
                }
                bloom |= bit;
                d.set_item(name, py_str(py, r.field_value(f))?)?;
            }
            Ok(d.unbind())
        })?;
        Ok(d.bind(py))
    }

    pub(super) fn built<'py>(&self, py: Python<'py>) -> Option<&Bound<'py, PyDict>> {
        self.dict.get().map(|d| d.bind(py))
    }
}

#[pymethods]
impl PyFields {
    fn __len__(&self, py: Python<'_>) -> PyResult<usize> {
        Ok(self.dict(py)?.len())
    }
    fn __getitem__<'py>(
        &self,
        py: Python<'py>,
        name: &Bound<'py, PyAny>,
    ) -> PyResult<Bound<'py, PyAny>> {
        if let Some(d) = self.built(py) {
            return match d.get_item(name)? {
                Some(v) => Ok(v),
                None => Err(PyKeyError::new_err(name.clone().unbind())),
            };
        }
        let value = match name.cast::<PyString>() {
            Ok(n) => self.src.rec().get(&str_bytes(n)?),
            Err(_) => {
                name.hash()?; // an unhashable key is a TypeError, as with dict
                None
            }
        };
        match value {
            Some(v) => py_str(py, v),
            None => Err(PyKeyError::new_err(name.clone().unbind())),
        }
    }
    fn __contains__(&self, py: Python<'_>, name: &Bound<'_, PyAny>) -> PyResult<bool> {
        if let Some(d) = self.built(py) {
            return d.contains(name);
        }
        Ok(match name.cast::<PyString>() {
            Ok(n) => self.src.rec().get(&str_bytes(n)?).is_some(),
            Err(_) => {
                name.hash()?;
                false
            }
        })
    }
    fn __iter__<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        Ok(self.dict(py)?.as_any().try_iter()?.into_any())
    }
    #[pyo3(signature = (name, default=None))]
    fn get<'py>(
        &self,
        py: Python<'py>,
        name: &Bound<'py, PyAny>,
        default: Option<Bound<'py, PyAny>>,
    ) -> PyResult<Option<Bound<'py, PyAny>>> {
        match self.__getitem__(py, name) {
            Ok(v) => Ok(Some(v)),
            Err(e) if e.is_instance_of::<PyKeyError>(py) => Ok(default),
            Err(e) => Err(e),
        }
    }
    /// The names, in order (a dict keys view).
    fn keys<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        self.dict(py)?.call_method0(pyo3::intern!(py, "keys"))
    }
    /// The values, in order (a dict values view).
    fn values<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        self.dict(py)?.call_method0(pyo3::intern!(py, "values"))
    }
    /// `(name, value)` pairs, in order (a dict items view).
    fn items<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        self.dict(py)?.call_method0(pyo3::intern!(py, "items"))
    }
    fn __eq__(&self, py: Python<'_>, other: &Bound<'_, PyAny>) -> PyResult<bool> {
        let mine = self.dict(py)?;
        if let Ok(o) = other.cast::<PyFields>() {
            return mine.eq(o.get().dict(py)?);
        }
        mine.eq(other)
    }
    fn __hash__(&self, py: Python<'_>) -> PyResult<isize> {
        PyTuple::new(py, self.dict(py)?.items())?.hash()
    }
    fn __repr__(&self, py: Python<'_>) -> PyResult<String> {
        Ok(format!("RecordFields({})", self.dict(py)?.repr()?))
    }
}
