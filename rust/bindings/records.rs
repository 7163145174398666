//! Python classes for records and events: `AuditRecord`, `AuditEvent`,
//! `AuditTimestamp`, the `fields` mapping, `Reassembler`, the log parser behind
//! `read_events`, and the live-stream fast path behind `AuditClient.events()`.
//!
//! Everything is parsed once in Rust; Python objects are thin views over the
//! parsed record (built lazily where that saves work).

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use pyo3::exceptions::{PyKeyError, PyValueError};
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

/// bytes -> str in one pass: UTF-8, with bytes that are not valid UTF-8
/// decoded as lone surrogates ("surrogateescape"), so nothing is lost.
pub(crate) fn py_str<'py>(py: Python<'py>, b: &[u8]) -> PyResult<Bound<'py, PyAny>> {
    let len = isize::try_from(b.len()).map_err(|_| PyValueError::new_err("string too long"))?;
    // SAFETY: `b` is valid for reads of `len` bytes during the call, the error
    // handler name is a NUL-terminated static string, and the result is a new
    // reference or NULL with an exception set (both handled by from_owned_ptr_or_err).
    unsafe {
        let p =
            pyo3::ffi::PyUnicode_DecodeUTF8(b.as_ptr().cast(), len, c"surrogateescape".as_ptr());
        Bound::from_owned_ptr_or_err(py, p)
    }
}

/// FNV-1a: field names are short; SipHash's DoS resistance buys nothing here
/// (the cache is bounded and keyed by names the kernel writes).
#[derive(Default)]
struct Fnv(u64);

impl std::hash::Hasher for Fnv {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        let mut h = if self.0 == 0 {
            0xcbf2_9ce4_8422_2325
        } else {
            self.0
        };
        for &c in bytes {
            h = (h ^ u64::from(c)).wrapping_mul(0x0000_0100_0000_01b3);
        }
        self.0 = h;
    }
}

/// Field names repeat endlessly ("pid", "uid", ...): one shared, interned str
/// per name. Names of up to 16 ASCII bytes (nearly all) sit in a direct-mapped
/// table keyed by their bytes; longer ones in a bounded map.
struct NameCache {
    slots: Vec<Option<(u64, u64, Py<PyString>)>>,
    long: std::collections::HashMap<Box<[u8]>, Py<PyString>, std::hash::BuildHasherDefault<Fnv>>,
}

const NAME_SLOTS: usize = 1024;
const LONG_NAMES_MAX: usize = 4096;

impl NameCache {
    fn new() -> NameCache {
        NameCache {
            slots: (0..NAME_SLOTS).map(|_| None).collect(),
            long: Default::default(),
        }
    }
}

static NAMES: PyOnceLock<Mutex<NameCache>> = PyOnceLock::new();

/// The name cache, locked once for a whole record. `None` when another call
/// holds it (then names are made uncached: never wait, never deadlock).
fn name_cache(py: Python<'_>) -> Option<std::sync::MutexGuard<'static, NameCache>> {
    match NAMES
        .get_or_init(py, || Mutex::new(NameCache::new()))
        .try_lock()
    {
        Ok(g) => Some(g),
        Err(std::sync::TryLockError::Poisoned(p)) => Some(p.into_inner()),
        Err(std::sync::TryLockError::WouldBlock) => None,
    }
}

fn py_name_in<'py>(
    py: Python<'py>,
    cache: Option<&mut NameCache>,
    b: &[u8],
) -> PyResult<Bound<'py, PyAny>> {
    let Some(cache) = cache.filter(|_| b.len() <= 32 && b.is_ascii()) else {
        return py_str(py, b);
    };
    if b.len() <= 16 {
        // The key: the name's bytes, zero padded (names hold no NUL), and its length.
        let mut k = [0u8; 16];
        k[..b.len()].copy_from_slice(b);
        let (mut k0, mut k1) = ([0u8; 8], [0u8; 8]);
        k0.copy_from_slice(&k[..8]);
        k1.copy_from_slice(&k[8..]);
        let (k0, k1) = (
            u64::from_le_bytes(k0),
            u64::from_le_bytes(k1) ^ (b.len() as u64) << 59,
        );
        let h = (k0 ^ k1.rotate_left(29)).wrapping_mul(0x9e37_79b9_7f4a_7c15);
        let i = (h >> 54) as usize % NAME_SLOTS;
        if let Some(Some((a, c, s))) = cache.slots.get(i) {
            if *a == k0 && *c == k1 {
                return Ok(s.bind(py).clone().into_any());
            }
        }
        let s = PyString::intern(py, std::str::from_utf8(b).unwrap_or_default());
        if let Some(slot) = cache.slots.get_mut(i) {
            *slot = Some((k0, k1, s.clone().unbind()));
        }
        return Ok(s.into_any());
    }
    if let Some(s) = cache.long.get(b) {
        return Ok(s.bind(py).clone().into_any());
    }
    let s = PyString::intern(py, std::str::from_utf8(b).unwrap_or_default());
    if cache.long.len() < LONG_NAMES_MAX {
        cache.long.insert(b.into(), s.clone().unbind());
    }
    Ok(s.into_any())
}

/// A value made on first use and kept: `OnceLock` filled with `set` only, so
/// making the value (which runs Python code) never happens under the cell's
/// lock — two threads may both make it, the first to store it wins. Cheaper
/// than `PyOnceLock` for the per-object caches made once per record.
struct Lazy<T>(std::sync::OnceLock<T>);

impl<T> Lazy<T> {
    const fn new() -> Lazy<T> {
        Lazy(std::sync::OnceLock::new())
    }
    fn get(&self) -> Option<&T> {
        self.0.get()
    }
    fn get_or_try_make(&self, make: impl FnOnce() -> PyResult<T>) -> PyResult<&T> {
        if let Some(v) = self.0.get() {
            return Ok(v);
        }
        let _ = self.0.set(make()?);
        self.0
            .get()
            .ok_or_else(|| pyo3::exceptions::PyRuntimeError::new_err("lazy value lost"))
    }
}

fn millis_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64)
}

fn timeout_ms(timeout: f64) -> PyResult<u64> {
    if !timeout.is_finite() || timeout < 0.0 {
        return Err(PyValueError::new_err(format!(
            "timeout must be >= 0 seconds, got {timeout}"
        )));
    }
    Ok((timeout * 1000.0).round() as u64)
}

// ---------------------------------------------------------------- timestamp

/// The time stamp of a record exactly as the kernel wrote it: whole seconds
/// and milliseconds (`audit(1700000000.123:42)`), plus a UTC `datetime`.
#[pyclass(module = "auditlink", name = "AuditTimestamp", frozen, eq, ord, hash)]
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct PyTimestamp {
    sec: u64,
    msec: u32,
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
enum Src {
    Own(Arc<Record>),
    InEvent(Arc<HomedEvent>, usize),
}

impl Src {
    fn rec(&self) -> &Record {
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
    src: Src,
    fields: Lazy<Py<PyFields>>,
}

impl PyRecord {
    fn new(src: Src) -> PyRecord {
        PyRecord {
            src,
            fields: Lazy::new(),
        }
    }
    fn rec(&self) -> &Record {
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
    /// auparse's interpretation of the first field called `name`
    /// (`auparse_interpret_field`, default escaping); None if there is no such field.
    fn interpret<'py>(&self, py: Python<'py>, name: &str) -> PyResult<Option<Bound<'py, PyAny>>> {
        core::interpret(self.rec(), name.as_bytes())
            .map(|v| py_str(py, &v))
            .transpose()
    }
    /// Every field in order, duplicates included: `(name, value, interpretation)`
    /// (what `ausearch -i` shows, field by field).
    fn interpreted_fields<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyList>> {
        let r = self.rec();
        let list = PyList::empty(py);
        let mut buf = Vec::with_capacity(64);
        let mut names = name_cache(py);
        for f in r.fields() {
            buf.clear();
            core::interpret_field(r, f, &mut buf);
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
        json::emit_record(&mut b, self.rec());
        b.finish()
    }
    /// The record as one JSON object (see `to_dict`).
    fn to_json(&self) -> String {
        let mut out = Vec::with_capacity(256);
        json::record_to_json(self.rec(), &mut out);
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

/// The fields of a record: an ordered, read-only mapping name -> str. A name
/// that occurs twice maps to its first value.
///
/// Backed by a dict built on first use of a whole-mapping operation (iteration,
/// `keys`/`values`/`items`, equality), so walking every field runs at dict
/// speed; a single lookup before that reads the record directly.
#[pyclass(module = "auditlink", name = "RecordFields", frozen, mapping)]
pub struct PyFields {
    src: Src,
    dict: Lazy<Py<PyDict>>,
}

impl PyFields {
    fn new(src: Src) -> PyFields {
        PyFields {
            src,
            dict: Lazy::new(),
        }
    }

    /// The mapping as a dict (built once; names interned, first value wins).
    fn dict<'py>(&self, py: Python<'py>) -> PyResult<&Bound<'py, PyDict>> {
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

    fn built<'py>(&self, py: Python<'py>) -> Option<&Bound<'py, PyDict>> {
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
            Ok(n) => self.src.rec().get(n.to_cow()?.as_bytes()),
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
            Ok(n) => self.src.rec().get(n.to_cow()?.as_bytes()).is_some(),
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

// ------------------------------------------------------------------- events

/// An event and, when a `LogReader` thread made it, the way back to that
/// thread: the event is dropped there (see `pipeline::Recycler`).
struct HomedEvent {
    event: Event,
    home: Option<Recycler>,
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
    event: Arc<HomedEvent>,
    records: Lazy<Py<PyTuple>>,
}

impl PyEvent {
    pub(crate) fn new(event: Event) -> PyEvent {
        PyEvent::homed(event, None)
    }
    /// The core event behind the object.
    pub(crate) fn core(&self) -> &Event {
        &self.event
    }
    fn homed(event: Event, home: Option<Recycler>) -> PyEvent {
        PyEvent {
            event: Arc::new(HomedEvent { event, home }),
            records: Lazy::new(),
        }
    }
}

/// The events one call completed, made into `AuditEvent` objects one at a
/// time as they are iterated: a consumer that drops each event before taking
/// the next keeps the Python heap (and the cyclic GC's young generation) small.
#[pyclass(module = "auditlink._native", name = "EventBatch", frozen)]
pub struct PyEventBatch {
    events: Mutex<std::vec::IntoIter<Event>>,
}

impl PyEventBatch {
    fn new(events: Vec<Event>) -> PyEventBatch {
        PyEventBatch {
            events: Mutex::new(events.into_iter()),
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
        next.map(|e| Py::new(py, PyEvent::new(e))).transpose()
    }
    /// Events not taken yet.
    fn __len__(&self) -> usize {
        self.events.lock().unwrap_or_else(|p| p.into_inner()).len()
    }
}

fn events_to_list(py: Python<'_>, events: Vec<Event>) -> PyResult<Bound<'_, PyList>> {
    let list = PyList::empty(py);
    for e in events {
        list.append(Py::new(py, PyEvent::new(e))?)?;
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
                .map(|i| Py::new(py, PyRecord::new(Src::InEvent(self.event.clone(), i))))
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
    /// True when the event's end was seen (its EOE, or a one-record type);
    /// False when it was emitted on timeout, overflow or flush.
    #[getter]
    fn complete(&self) -> bool {
        self.event.complete
    }
    /// The event in the documented shape, as Python objects.
    fn to_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let mut b = PyBuilder::new(py);
        json::emit_event(&mut b, &self.event);
        b.finish()
    }
    /// The event as one JSON object (one line, no line end).
    fn to_json(&self) -> String {
        let mut out = Vec::with_capacity(1024);
        json::event_to_json(&self.event, &mut out);
        String::from_utf8(out).unwrap_or_default()
    }
    /// Who did what to what: libauparse's normalizer (see bindings/normalize.rs).
    fn normalize(&self) -> super::normalize::PyNormalized {
        super::normalize::normalize_event(self.event.clone())
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
struct PyBuilder<'py> {
    py: Python<'py>,
    stack: Vec<Bound<'py, PyAny>>,
    keys: Vec<Option<Bound<'py, PyAny>>>,
    result: Option<Bound<'py, PyAny>>,
    error: Option<PyErr>,
}

impl<'py> PyBuilder<'py> {
    fn new(py: Python<'py>) -> Self {
        PyBuilder {
            py,
            stack: Vec::new(),
            keys: Vec::new(),
            result: None,
            error: None,
        }
    }
    fn finish(self) -> PyResult<Bound<'py, PyAny>> {
        if let Some(e) = self.error {
            return Err(e);
        }
        Ok(self
            .result
            .unwrap_or_else(|| PyDict::new(self.py).into_any()))
    }
    fn put(&mut self, v: PyResult<Bound<'py, PyAny>>) {
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
    fn open(&mut self, c: Bound<'py, PyAny>) {
        self.put(Ok(c.clone()));
        self.stack.push(c);
        self.keys.push(None);
    }
    fn close(&mut self) {
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

// --------------------------------------------------------------- functions

fn bytes_arg(data: &Bound<'_, PyAny>) -> PyResult<Vec<u8>> {
    if let Ok(s) = data.cast::<PyString>() {
        return Ok(s
            .call_method1("encode", ("utf-8", "surrogateescape"))?
            .cast::<PyBytes>()?
            .as_bytes()
            .to_vec());
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
#[pyo3(signature = (r#type, data))]
fn parse_record(r#type: u16, data: &[u8]) -> PyResult<PyRecord> {
    let rec =
        core::parse_payload(r#type, data).map_err(|e| RecordParseError::new_err(e.to_string()))?;
    Ok(PyRecord::new(Src::Own(Arc::new(rec))))
}

/// Parse one auditd log line (RAW or ENRICHED format, optional `node=`).
#[pyfunction]
fn parse_log_line(line: &Bound<'_, PyAny>) -> PyResult<PyRecord> {
    let bytes = bytes_arg(line)?;
    let rec = core::parse_log_line(&bytes).map_err(|e| RecordParseError::new_err(e.to_string()))?;
    Ok(PyRecord::new(Src::Own(Arc::new(rec))))
}

/// Turn uid/gid name lookups on or off for interpretations (on by default;
/// names are cached). Off, ids print as numbers.
#[pyfunction]
fn set_id_resolution(enabled: bool) {
    core::interpret::set_resolve_ids(enabled);
}

// -------------------------------------------------------------- reassembler

/// Groups records into events by (node, timestamp, serial).
///
/// Thread safety: one instance may be shared; calls are serialized by a lock.
#[pyclass(module = "auditlink", name = "Reassembler", frozen)]
pub struct PyReassembler {
    inner: Mutex<core::Reassembler>,
    /// When the live stream last delivered a record (for `receive_events`).
    last_arrival: Mutex<Instant>,
}

impl PyReassembler {
    fn lock(&self) -> std::sync::MutexGuard<'_, core::Reassembler> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }
}

#[pymethods]
impl PyReassembler {
    #[new]
    #[pyo3(signature = (max_in_flight=1024, timeout=2.0))]
    fn new(max_in_flight: usize, timeout: f64) -> PyResult<Self> {
        if max_in_flight == 0 {
            return Err(PyValueError::new_err("max_in_flight must be >= 1"));
        }
        Ok(PyReassembler {
            inner: Mutex::new(core::Reassembler::new(max_in_flight, timeout_ms(timeout)?)),
            last_arrival: Mutex::new(Instant::now()),
        })
    }
    /// Add a record; returns the events it completed (or timed out).
    fn push<'py>(
        &self,
        py: Python<'py>,
        record: &Bound<'py, PyRecord>,
    ) -> PyResult<Bound<'py, PyList>> {
        let rec = record.get().rec().clone();
        let mut out = Vec::new();
        self.lock().push(rec, &mut out);
        events_to_list(py, out)
    }
    /// Parse netlink messages (objects with `.type` and `.data`, e.g.
    /// `RawAuditMessage`) and add them; malformed ones are kept with an error note.
    fn push_messages<'py>(
        &self,
        py: Python<'py>,
        messages: &Bound<'py, PyAny>,
    ) -> PyResult<Bound<'py, PyList>> {
        let mut recs = Vec::new();
        for m in messages.try_iter()? {
            let m = m?;
            let t: u16 = m.getattr("type")?.extract()?;
            let data = m.getattr("data")?;
            let data = data.cast::<PyBytes>()?;
            recs.push(core::parse_payload_lenient(t, data.as_bytes()));
        }
        let mut out = Vec::new();
        {
            let mut r = self.lock();
            for rec in recs {
                r.push(rec, &mut out);
            }
        }
        events_to_list(py, out)
    }
    /// Emit (incomplete) the events older than `timeout` before `now`
    /// (seconds since the epoch; default: the current time).
    #[pyo3(signature = (now=None))]
    fn expire<'py>(&self, py: Python<'py>, now: Option<f64>) -> PyResult<Bound<'py, PyList>> {
        let now_ms = match now {
            Some(n) if n.is_finite() && n >= 0.0 => (n * 1000.0) as u64,
            Some(n) => return Err(PyValueError::new_err(format!("bad time {n}"))),
            None => millis_now(),
        };
        let mut out = Vec::new();
        self.lock().expire_at(now_ms, &mut out);
        events_to_list(py, out)
    }
    /// Emit every event still in flight (incomplete), oldest first.
    fn flush<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyList>> {
        let mut out = Vec::new();
        self.lock().flush(&mut out);
        events_to_list(py, out)
    }
    /// Serials that never arrived (gaps in the serial sequence, counted modulo 2^32).
    #[getter]
    fn lost(&self) -> u64 {
        self.lock().lost()
    }
    /// Events currently being assembled.
    #[getter]
    fn in_flight(&self) -> usize {
        self.lock().in_flight()
    }
    fn __repr__(&self) -> String {
        let r = self.lock();
        format!(
            "<Reassembler in_flight={} lost={}>",
            r.in_flight(),
            r.lost()
        )
    }
}

// --------------------------------------------------------------- log parser

/// Incremental auditd log parser: bytes in, events (or JSON lines) out.
#[pyclass(module = "auditlink._native", name = "LogParser", frozen)]
pub struct PyLogParser {
    inner: Mutex<LogStream>,
}

impl PyLogParser {
    fn lock(&self) -> std::sync::MutexGuard<'_, LogStream> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }
}

fn json_lines(events: &[Event]) -> Vec<u8> {
    let mut out = Vec::with_capacity(events.len() * 1024);
    for e in events {
        json::event_to_json(e, &mut out);
        out.push(b'\n');
    }
    out
}

#[pymethods]
impl PyLogParser {
    #[new]
    #[pyo3(signature = (max_in_flight=1024, timeout=2.0))]
    fn new(max_in_flight: usize, timeout: f64) -> PyResult<Self> {
        Ok(PyLogParser {
            inner: Mutex::new(LogStream::new(max_in_flight.max(1), timeout_ms(timeout)?)),
        })
    }
    /// Parse a chunk (any split); returns the events it completed.
    fn feed(&self, py: Python<'_>, chunk: &[u8]) -> PyEventBatch {
        let out = py.detach(|| {
            let mut out = Vec::new();
            self.lock().feed(chunk, &mut out);
            out
        });
        PyEventBatch::new(out)
    }
    /// End of input: the last line without a line end, then every event in flight.
    fn finish(&self, py: Python<'_>) -> PyEventBatch {
        let out = py.detach(|| {
            let mut out = Vec::new();
            self.lock().finish(&mut out);
            out
        });
        PyEventBatch::new(out)
    }
    /// Like `feed`, but returns the completed events as JSON lines.
    fn feed_json<'py>(&self, py: Python<'py>, chunk: &[u8]) -> Bound<'py, PyBytes> {
        let out = py.detach(|| {
            let mut evs = Vec::new();
            self.lock().feed(chunk, &mut evs);
            json_lines(&evs)
        });
        PyBytes::new(py, &out)
    }
    /// Like `finish`, as JSON lines.
    fn finish_json<'py>(&self, py: Python<'py>) -> Bound<'py, PyBytes> {
        let out = py.detach(|| {
            let mut evs = Vec::new();
            self.lock().finish(&mut evs);
            json_lines(&evs)
        });
        PyBytes::new(py, &out)
    }
    /// The input has been idle for `seconds`: stream time runs on by that much,
    /// and the events now past the timeout are emitted (incomplete).
    fn expire_idle(&self, seconds: f64) -> PyResult<PyEventBatch> {
        let idle = timeout_ms(seconds)?;
        let mut out = Vec::new();
        self.lock().expire_idle(idle, &mut out);
        Ok(PyEventBatch::new(out))
    }
    #[getter]
    fn lost(&self) -> u64 {
        self.lock().reassembler().lost()
    }
    #[getter]
    fn records(&self) -> u64 {
        self.lock().records
    }
}

// -------------------------------------------------------- log file reader

/// Reads and parses a log file on a second thread (`records::pipeline`);
/// iterating gives the events, made into `AuditEvent` objects one at a time.
#[pyclass(module = "auditlink._native", name = "LogReader", frozen)]
pub struct PyLogReader {
    inner: Mutex<ReaderState>,
}

struct ReaderState {
    reader: EventReader,
    current: std::vec::IntoIter<Event>,
}

impl PyLogReader {
    fn event(&self, py: Python<'_>, e: Event, home: Recycler) -> PyResult<Option<Py<PyEvent>>> {
        Py::new(py, PyEvent::homed(e, Some(home))).map(Some)
    }
}

/// What one step of `LogReader.__next__` found without the GIL.
enum ReaderStep {
    Event(Event, Recycler),
    Wait,
    End,
}

impl PyLogReader {
    fn lock(&self) -> std::sync::MutexGuard<'_, ReaderState> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }
}

#[pymethods]
impl PyLogReader {
    /// Start reading the open file `fd` (duplicated: the caller may close its
    /// own) from its current offset to its end.
    #[new]
    #[pyo3(signature = (fd, max_in_flight=1024, timeout=2.0, chunk_size=1_048_576))]
    fn new(fd: i32, max_in_flight: usize, timeout: f64, chunk_size: usize) -> PyResult<Self> {
        if fd < 0 {
            return Err(PyValueError::new_err("fd must be >= 0"));
        }
        if chunk_size == 0 {
            return Err(PyValueError::new_err("chunk_size must be > 0"));
        }
        // SAFETY: `fd` is only borrowed for the duration of the dup call; the
        // caller promised it is open. fcntl(F_DUPFD_CLOEXEC) reports EBADF if not.
        let borrowed = unsafe { std::os::fd::BorrowedFd::borrow_raw(fd) };
        let owned = rustix::io::fcntl_dupfd_cloexec(borrowed, 3)
            .map_err(|e| PyErr::from(std::io::Error::from(e)))?;
        let reader = EventReader::spawn(
            std::fs::File::from(owned),
            max_in_flight.max(1),
            timeout_ms(timeout)?,
            chunk_size,
        )?;
        Ok(PyLogReader {
            inner: Mutex::new(ReaderState {
                reader,
                current: Vec::new().into_iter(),
            }),
        })
    }
    /// The next events as JSON lines (one per event), written with the GIL
    /// released; None at the end. Not to be mixed with iteration.
    fn next_json<'py>(&self, py: Python<'py>) -> PyResult<Option<Bound<'py, PyBytes>>> {
        const SLICE: Duration = Duration::from_millis(100);
        loop {
            let step = py.detach(|| -> std::io::Result<Option<Option<Vec<u8>>>> {
                let mut st = self.lock();
                let mut events: Vec<Event> = std::mem::take(&mut st.current).collect();
                if events.is_empty() {
                    match st.reader.next_batch(Some(SLICE))? {
                        Next::Batch(b) => events = b,
                        Next::Pending => return Ok(None),
                        Next::End => return Ok(Some(None)),
                    }
                }
                let out = json_lines(&events);
                st.reader.recycler().recycle_all(events);
                Ok(Some(Some(out)))
            })?;
            match step {
                Some(Some(out)) => return Ok(Some(PyBytes::new(py, &out))),
                Some(None) => return Ok(None),
                None => py.check_signals()?,
            }
        }
    }
    fn __iter__(slf: PyRef<'_, Self>) -> PyRef<'_, Self> {
        slf
    }
    fn __next__(&self, py: Python<'_>) -> PyResult<Option<Py<PyEvent>>> {
        // Fast path, GIL held: an event of the current batch. try_lock: the
        // lock may be held by a thread waiting for the next batch (GIL released).
        if let Ok(mut st) = self.inner.try_lock() {
            if let Some(e) = st.current.next() {
                let home = st.reader.recycler().clone();
                drop(st);
                return self.event(py, e, home);
            }
        }
        const SLICE: Duration = Duration::from_millis(100);
        loop {
            let step = py.detach(|| -> std::io::Result<ReaderStep> {
                let mut st = self.lock();
                loop {
                    if let Some(e) = st.current.next() {
                        return Ok(ReaderStep::Event(e, st.reader.recycler().clone()));
                    }
                    match st.reader.next_batch(Some(SLICE))? {
                        Next::Batch(b) => st.current = b.into_iter(),
                        Next::Pending => return Ok(ReaderStep::Wait),
                        Next::End => return Ok(ReaderStep::End),
                    }
                }
            })?;
            match step {
                ReaderStep::Event(e, home) => return self.event(py, e, home),
                ReaderStep::Wait => py.check_signals()?,
                ReaderStep::End => return Ok(None),
            }
        }
    }
}

// ------------------------------------------------------------ live stream

/// Receive records from `client` (GIL released), parse and reassemble them in
/// Rust, and return the events completed — waiting up to `timeout` seconds
/// (None: until at least one event completes). While nothing arrives, stream
/// time runs on by the idle time, so events whose end never comes are emitted
/// (incomplete).
#[pyfunction]
#[pyo3(signature = (client, reassembler, max_messages=1024, timeout=None))]
fn receive_events<'py>(
    py: Python<'py>,
    client: &Bound<'py, PyAuditClient>,
    reassembler: &Bound<'py, PyReassembler>,
    max_messages: usize,
    timeout: Option<f64>,
) -> PyResult<Bound<'py, PyList>> {
    const SLICE: Duration = Duration::from_millis(100);
    let c = client.get().client()?;
    let deadline = match timeout {
        None => None,
        Some(t) => Some(Instant::now() + Duration::from_millis(timeout_ms(t)?)),
    };
    let reasm = reassembler.get();
    let mut batch = Batch::default();
    loop {
        let slice = match deadline {
            None => SLICE,
            Some(d) => SLICE.min(d.saturating_duration_since(Instant::now())),
        };
        let out = py.detach(|| -> crate::Result<Vec<Event>> {
            c.receive_batch(
                &mut batch,
                max_messages.max(1),
                Some(slice),
                crate::audit::client::DEFAULT_LINGER,
            )?;
            let mut out = Vec::new();
            let mut r = reasm.lock();
            let mut last = reasm.last_arrival.lock().unwrap_or_else(|p| p.into_inner());
            if batch.is_empty() {
                // Stream time stands still while nothing arrives; let it run on
                // by the idle time, so an event whose end never comes is emitted.
                // (Not the wall clock: records delayed in the kernel's backlog
                // carry old time stamps and must not expire on arrival.)
                let idle = u64::try_from(last.elapsed().as_millis()).unwrap_or(u64::MAX);
                let now = r.newest_ms().saturating_add(idle);
                r.expire_at(now, &mut out);
            } else {
                *last = Instant::now();
                for i in 0..batch.len() {
                    if let Some((t, data)) = batch.get(i) {
                        r.push(core::parse_payload_lenient(t, data), &mut out);
                    }
                }
            }
            Ok(out)
        })?;
        if !out.is_empty() {
            return events_to_list(py, out);
        }
        py.check_signals()?;
        if deadline.is_some_and(|d| Instant::now() >= d) {
            return Ok(PyList::empty(py));
        }
    }
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
