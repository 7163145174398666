//! Log input: `LogParser` (bytes in, events out) and `LogReader` (a file read and grouped on a second thread).

use super::stream::grouping_pymethods;
use super::*;

// --------------------------------------------------------------- log parser

/// Incremental auditd log parser: bytes in, events (or JSON lines) out.
#[pyclass(module = "auditlink._native", name = "LogParser", frozen)]
pub struct PyLogParser {
    pub(super) inner: Mutex<LogStream>,
    pub(super) ids: Option<bool>,
}

impl PyLogParser {
    pub(super) fn lock(&self) -> std::sync::MutexGuard<'_, LogStream> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }
}

pub(super) fn log_stream(
    max_in_flight: usize,
    timeout: f64,
    split_login: bool,
) -> PyResult<LogStream> {
    let mut s = LogStream::new(max_in_flight.max(1), timeout_ms(timeout)?);
    s.reassembler_mut().set_split_login(split_login);
    Ok(s)
}

pub(super) fn json_lines(events: &[Event], ids: Option<bool>) -> Vec<u8> {
    let mut out = Vec::with_capacity(events.len() * 1024);
    core::interpret::with_resolve_ids(ids, || {
        for e in events {
            json::event_to_json(e, &mut out);
            out.push(b'\n');
        }
    });
    out
}

grouping_pymethods! {
impl PyLogParser {
    new(max_in_flight, timeout, split_login, id_resolution) {
        Ok(PyLogParser {
            inner: Mutex::new(log_stream(max_in_flight, timeout, split_login)?),
            ids: id_resolution,
        })
    }
    /// Parse a chunk (any split); returns the events it completed.
    fn feed(&self, py: Python<'_>, chunk: &[u8]) -> PyEventBatch {
        let out = py.detach(|| {
            let mut out = Vec::new();
            self.lock().feed(chunk, &mut out);
            out
        });
        PyEventBatch::new(out, self.ids)
    }
    /// End of input: the last line without a line end, then every event in flight.
    fn finish(&self, py: Python<'_>) -> PyEventBatch {
        let out = py.detach(|| {
            let mut out = Vec::new();
            self.lock().finish(&mut out);
            out
        });
        PyEventBatch::new(out, self.ids)
    }
    /// Like `feed`, but returns the completed events as JSON lines.
    fn feed_json<'py>(&self, py: Python<'py>, chunk: &[u8]) -> Bound<'py, PyBytes> {
        let out = py.detach(|| {
            let mut evs = Vec::new();
            self.lock().feed(chunk, &mut evs);
            json_lines(&evs, self.ids)
        });
        PyBytes::new(py, &out)
    }
    /// Like `finish`, as JSON lines.
    fn finish_json<'py>(&self, py: Python<'py>) -> Bound<'py, PyBytes> {
        let out = py.detach(|| {
            let mut evs = Vec::new();
            self.lock().finish(&mut evs);
            json_lines(&evs, self.ids)
        });
        PyBytes::new(py, &out)
    }
    /// Stream time runs on by the idle time; returns the events that timed out.
    fn expire_idle(&self, seconds: f64) -> PyResult<PyEventBatch> {
        let idle = timeout_ms(seconds)?;
        let mut out = Vec::new();
        self.lock().expire_idle(idle, &mut out);
        Ok(PyEventBatch::new(out, self.ids))
    }
    /// Stream time runs on by the time since the last chunk was fed.
    fn expire_idle_now(&self) -> PyEventBatch {
        let mut out = Vec::new();
        self.lock().expire_idle_now(&mut out);
        PyEventBatch::new(out, self.ids)
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
}

// -------------------------------------------------------- log file reader

/// A log file read and grouped on a second thread (docs: the stubs, python/auditlink/_native/).
#[pyclass(module = "auditlink._native", name = "LogReader", frozen)]
pub struct PyLogReader {
    pub(super) inner: Mutex<ReaderState>,
    pub(super) ids: Option<bool>,
}

pub(super) struct ReaderState {
    pub(super) reader: EventReader,
    pub(super) current: std::vec::IntoIter<Event>,
}

impl PyLogReader {
    pub(super) fn event(
        &self,
        py: Python<'_>,
        e: Event,
        home: Recycler,
    ) -> PyResult<Option<Py<PyEvent>>> {
        Py::new(py, PyEvent::homed(e, Some(home), self.ids)).map(Some)
    }
}

impl PyLogReader {
    pub(super) fn lock(&self) -> std::sync::MutexGuard<'_, ReaderState> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }
}

#[pymethods]
impl PyLogReader {
    /// Start reading the open file `fd` (duplicated) to its end.
    #[new]
    #[pyo3(signature = (fd, max_in_flight=1024, timeout=2.0, chunk_size=1_048_576, *, split_login=false, id_resolution=None))]
    fn new(
        fd: i32,
        max_in_flight: usize,
        timeout: f64,
        chunk_size: usize,
        split_login: bool,
        id_resolution: Option<bool>,
    ) -> PyResult<Self> {
        if chunk_size == 0 {
            return Err(PyValueError::new_err("chunk_size must be > 0"));
        }
        let owned = common::dup_fd(fd)?;
        let reader = EventReader::spawn_stream(
            std::fs::File::from(owned),
            log_stream(max_in_flight, timeout, split_login)?,
            chunk_size,
        )?;
        Ok(PyLogReader {
            inner: Mutex::new(ReaderState {
                reader,
                current: Vec::new().into_iter(),
            }),
            ids: id_resolution,
        })
    }
    /// The next events as JSON lines; None at the end.
    fn next_json<'py>(&self, py: Python<'py>) -> PyResult<Option<Bound<'py, PyBytes>>> {
        let step = common::sliced(py, None, |slice| -> std::io::Result<_> {
            let mut st = self.lock();
            let mut events: Vec<Event> = std::mem::take(&mut st.current).collect();
            if events.is_empty() {
                match st.reader.next_batch(Some(slice))? {
                    Next::Batch(b) => events = b,
                    Next::Pending => return Ok(None),
                    Next::End => return Ok(Some(None)),
                }
            }
            let out = json_lines(&events, self.ids);
            st.reader.recycler().recycle_all(events);
            Ok(Some(Some(out)))
        })?;
        Ok(step.flatten().map(|out| PyBytes::new(py, &out)))
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
        let step = common::sliced(py, None, |slice| -> std::io::Result<_> {
            let mut st = self.lock();
            loop {
                if let Some(e) = st.current.next() {
                    return Ok(Some(Some((e, st.reader.recycler().clone()))));
                }
                match st.reader.next_batch(Some(slice))? {
                    Next::Batch(b) => st.current = b.into_iter(),
                    Next::Pending => return Ok(None),
                    Next::End => return Ok(Some(None)),
                }
            }
        })?;
        match step.flatten() {
            Some((e, home)) => self.event(py, e, home),
            None => Ok(None),
        }
    }
}
