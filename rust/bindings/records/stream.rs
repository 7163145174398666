//! Grouping records as they arrive: `Reassembler`, and `receive_events` (the live stream, received and grouped in Rust).

use super::*;

/// A `#[pymethods]` block whose constructor takes the grouping arguments
/// `LogParser` and `Reassembler` share (one signature, one set of defaults):
/// `new(names of the four arguments) { body returning PyResult<Self> }`
/// followed by the other methods.
macro_rules! grouping_pymethods {
    (impl $ty:ident {
        new($max:ident, $timeout:ident, $split:ident, $ids:ident) $body:block
        $($rest:tt)*
    }) => {
        #[pymethods]
        impl $ty {
            #[new]
            #[pyo3(signature = (max_in_flight=1024, timeout=2.0, *, split_login=false, id_resolution=None))]
            fn new($max: usize, $timeout: f64, $split: bool, $ids: Option<bool>) -> PyResult<Self>
            $body
            $($rest)*
        }
    };
}
pub(super) use grouping_pymethods;

// -------------------------------------------------------------- reassembler

/// Groups records into events (docs: the stubs, python/auditlink/_native/).
#[pyclass(module = "auditlink", name = "Reassembler", frozen)]
pub struct PyReassembler {
    pub(super) inner: Mutex<core::Reassembler>,
    pub(super) ids: Option<bool>,
}

impl PyReassembler {
    pub(super) fn lock(&self) -> std::sync::MutexGuard<'_, core::Reassembler> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }
}

grouping_pymethods! {
impl PyReassembler {
    new(max_in_flight, timeout, split_login, id_resolution) {
        if max_in_flight == 0 {
            return Err(PyValueError::new_err("max_in_flight must be >= 1"));
        }
        let mut r = core::Reassembler::new(max_in_flight, timeout_ms(timeout)?);
        r.set_split_login(split_login);
        Ok(PyReassembler {
            inner: Mutex::new(r),
            ids: id_resolution,
        })
    }
    #[getter]
    fn split_login(&self) -> bool {
        self.lock().split_login()
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
        events_to_list(py, out, self.ids)
    }
    /// Parse netlink messages (`.type`, `.data`) and add them.
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
        events_to_list(py, out, self.ids)
    }
    /// Emit the events older than the timeout before `now`.
    #[pyo3(signature = (now=None))]
    fn expire<'py>(&self, py: Python<'py>, now: Option<f64>) -> PyResult<Bound<'py, PyList>> {
        let now_ms = match now {
            Some(n) if n.is_finite() && n >= 0.0 => (n * 1000.0) as u64,
            Some(n) => return Err(PyValueError::new_err(format!("bad time {n}"))),
            None => millis_now(),
        };
        let mut out = Vec::new();
        self.lock().expire_at(now_ms, &mut out);
        events_to_list(py, out, self.ids)
    }
    /// Emit every event still in flight (incomplete), oldest first.
    fn flush<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyList>> {
        let mut out = Vec::new();
        self.lock().flush(&mut out);
        events_to_list(py, out, self.ids)
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
}

// ------------------------------------------------------------ live stream

/// The live stream received, parsed and grouped in Rust (docs: the stubs, python/auditlink/_native/).
#[pyfunction]
#[pyo3(
    signature = (client, reassembler, max_messages=1024, timeout=None, *, linger=common::DEFAULT_LINGER),
    text_signature = "(client, reassembler, max_messages=1024, timeout=None, *, linger=0.0005)"
)]
pub(super) fn receive_events<'py>(
    py: Python<'py>,
    client: &Bound<'py, PyAuditClient>,
    reassembler: &Bound<'py, PyReassembler>,
    max_messages: usize,
    timeout: Option<f64>,
    linger: f64,
) -> PyResult<Bound<'py, PyList>> {
    let reasm = reassembler.get();
    let out = receive_grouped(
        py,
        client,
        &reasm.inner,
        max_messages,
        timeout,
        linger,
        |_| {},
    )?;
    events_to_list(py, out, reasm.ids)
}

/// The one receive loop of the live stream (`receive_events`,
/// `LiveSearch.receive`): receive batches in GIL-released slices, group them
/// with `reassembler` and keep the events `keep` leaves in place, until at
/// least one is left or `timeout` seconds pass (None: wait; then no events).
/// `linger` is `receive_batch`'s, in seconds.
pub(crate) fn receive_grouped(
    py: Python<'_>,
    client: &Bound<'_, PyAuditClient>,
    reassembler: &Mutex<core::Reassembler>,
    max_messages: usize,
    timeout: Option<f64>,
    linger: f64,
    keep: impl Fn(&mut Vec<Event>) + Sync,
) -> PyResult<Vec<Event>> {
    let c = client.get().client()?;
    let timeout = common::timeout(timeout)?;
    let linger = common::duration(linger, "linger")?;
    let mut batch = Batch::default();
    let out = common::sliced(py, timeout, |slice| -> crate::Result<_> {
        c.receive_batch(&mut batch, max_messages.max(1), Some(slice), linger)?;
        let mut out = Vec::new();
        reassembler
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push_batch(&batch, &mut out);
        keep(&mut out);
        Ok((!out.is_empty()).then_some(out))
    })?;
    Ok(out.unwrap_or_default())
}
