//! Python bindings of the enricher: `Enricher` (live events and logs to
//! enriched JSON) and `TrackedProcess` (a process table entry).

use std::fs::File;
use std::io::{Read, Write};
use std::mem::ManuallyDrop;
use std::os::fd::FromRawFd;
use std::sync::Mutex;

use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyTuple};

use crate::audit::enrich::{Config, Enricher, Process, Verdict};
use crate::audit::records::{Event, LogStream};
use crate::bindings::records::{py_str, PyEvent};

fn verdict_name(v: Verdict) -> &'static str {
    match v {
        Verdict::Keep => "keep",
        Verdict::Drop => "drop",
        Verdict::Divert => "divert",
    }
}

/// One process of the enricher's table.
#[pyclass(module = "auditlink", name = "TrackedProcess", frozen, get_all)]
pub struct PyTrackedProcess {
    pid: u32,
    ppid: u32,
    comm: Option<Py<PyAny>>,
    exe: Option<Py<PyAny>>,
    event_id: Option<String>,
    start_time: Option<String>,
    labels: Py<PyTuple>,
    container_id: Option<String>,
    container_runtime: Option<String>,
    pod_uid: Option<String>,
    systemd_service: Py<PyTuple>,
    systemd_unit: Option<String>,
    running: bool,
}

impl PyTrackedProcess {
    fn new(py: Python<'_>, p: &Process) -> PyResult<PyTrackedProcess> {
        let (k, v) = p.origin.key_value();
        let text = |b: &Option<Vec<u8>>| -> PyResult<Option<Py<PyAny>>> {
            b.as_deref()
                .map(|b| py_str(py, b).map(Bound::unbind))
                .transpose()
        };
        let cg = p.cgroup.as_deref();
        let container = cg.and_then(|c| c.container.as_ref());
        Ok(PyTrackedProcess {
            pid: p.pid,
            ppid: p.ppid,
            comm: text(&p.comm)?,
            exe: text(&p.exe)?,
            event_id: (k == "EVENT_ID").then(|| v.clone()),
            start_time: (k == "START_TIME").then_some(v),
            labels: PyTuple::new(py, &p.labels)?.unbind(),
            container_id: container.map(|c| c.id.clone()),
            container_runtime: container
                .map(|c| c.runtime.clone())
                .filter(|r| !r.is_empty()),
            pod_uid: container.and_then(|c| c.pod_uid.clone()),
            systemd_service: PyTuple::new(
                py,
                cg.map(|c| c.services.as_slice()).unwrap_or_default(),
            )?
            .unbind(),
            systemd_unit: cg.and_then(|c| c.unit.clone()),
            running: !p.gone,
        })
    }
}

#[pymethods]
impl PyTrackedProcess {
    fn __repr__(&self) -> String {
        let id = self
            .event_id
            .as_deref()
            .or(self.start_time.as_deref())
            .unwrap_or("?");
        format!(
            "<TrackedProcess pid={} ppid={} id={id}>",
            self.pid, self.ppid
        )
    }
}

/// Output buffers larger than this are not kept for the next log chunk.
const RETAINED_OUTPUT: usize = 16 << 20;

/// The enricher, shared by threads through a lock.
#[pyclass(module = "auditlink._native", name = "Enricher", frozen)]
pub struct PyEnricher {
    inner: Mutex<Enricher>,
    log: Mutex<LogStream>,
    /// Kept and diverted JSON lines of a log chunk and the chunk read (by
    /// `pump_fd`), reused between chunks (a fresh multi-megabyte buffer per
    /// chunk costs page faults and copies as it grows).
    out: Mutex<(Vec<u8>, Vec<u8>, Vec<u8>)>,
}

impl PyEnricher {
    fn lock(&self) -> std::sync::MutexGuard<'_, Enricher> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The log chunk's events (`feed`: completed by `chunk`, else the ones
    /// still in flight) as kept and diverted JSON lines.
    fn log_lines<'py>(
        &self,
        py: Python<'py>,
        chunk: Option<&[u8]>,
    ) -> (Bound<'py, PyBytes>, Bound<'py, PyBytes>) {
        // The buffers are taken out while in use (a lock held while waiting for
        // the GIL could deadlock with a thread holding the GIL); a concurrent
        // call meanwhile gets fresh ones.
        let (kept, diverted, input) = py.detach(|| {
            let mut bufs = std::mem::take(&mut *self.out.lock().unwrap_or_else(|p| p.into_inner()));
            self.lines(chunk, &mut bufs.0, &mut bufs.1);
            bufs
        });
        let lines = (PyBytes::new(py, &kept), PyBytes::new(py, &diverted));
        // Keep ordinary buffers for the next chunk, not a huge one.
        let keep = |b: Vec<u8>| {
            if b.capacity() > RETAINED_OUTPUT {
                Vec::new()
            } else {
                b
            }
        };
        *self.out.lock().unwrap_or_else(|p| p.into_inner()) = (keep(kept), keep(diverted), input);
        lines
    }

    /// The events `chunk` completes (None: the end of the log, the events
    /// still in flight) as kept and diverted JSON lines. The chunk goes
    /// through in pieces, each piece's events written and freed before the
    /// next is parsed: the records' memory is reused while still in cache
    /// (and in the allocator's per-thread cache) instead of a whole chunk's
    /// being allocated, then freed, at once.
    fn lines(&self, chunk: Option<&[u8]>, kept: &mut Vec<u8>, diverted: &mut Vec<u8>) {
        kept.clear();
        diverted.clear();
        let mut log = self.log.lock().unwrap_or_else(|p| p.into_inner());
        let mut e = self.lock();
        let mut evs: Vec<Event> = Vec::new();
        let Some(chunk) = chunk else {
            log.finish(&mut evs);
            return e.write_lines(&evs, kept, diverted);
        };
        for piece in chunk.chunks(PIECE) {
            log.feed(piece, &mut evs);
            e.write_lines(&evs, kept, diverted);
            evs.clear();
        }
    }

    /// One chunk of `src` through the log stream and the enricher, its lines
    /// written to `out` and `divert`; false at the end of the input.
    fn pump(
        &self,
        src: &mut impl Read,
        out: &mut impl Write,
        divert: Option<&mut File>,
    ) -> std::io::Result<bool> {
        let mut bufs = std::mem::take(&mut *self.out.lock().unwrap_or_else(|p| p.into_inner()));
        let (kept, diverted, input) = &mut bufs;
        input.resize(PUMP_CHUNK, 0);
        let n = loop {
            match src.read(input) {
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                r => break r?,
            }
        };
        self.lines((n > 0).then(|| &input[..n]), kept, diverted);
        out.write_all(kept)?;
        if let Some(d) = divert {
            d.write_all(diverted)?;
        }
        if kept.capacity() > RETAINED_OUTPUT || diverted.capacity() > RETAINED_OUTPUT {
            bufs = Default::default();
        }
        *self.out.lock().unwrap_or_else(|p| p.into_inner()) = bufs;
        Ok(n > 0)
    }
}

/// Bytes read from a log per [`PyEnricher::pump_fd`] call.
const PUMP_CHUNK: usize = 1 << 20;

/// Bytes of a chunk parsed before their events are written (see `lines`).
const PIECE: usize = 32 << 10;

/// The open file of a descriptor Python owns, never closed here.
fn borrowed_file(fd: i32) -> PyResult<ManuallyDrop<File>> {
    if fd < 0 {
        return Err(PyValueError::new_err(format!("bad file descriptor {fd}")));
    }
    // SAFETY: the caller keeps `fd` open for the duration of the call, and
    // ManuallyDrop keeps the File from closing it.
    Ok(ManuallyDrop::new(unsafe { File::from_raw_fd(fd) }))
}

#[pymethods]
impl PyEnricher {
    /// `toml`: configuration text in laurel's format; `json`: the same as a
    /// JSON object (from a Python mapping). Neither: the defaults. `logs`: the
    /// events come from logs (/proc is off unless configured on).
    #[new]
    #[pyo3(signature = (toml=None, json=None, logs=false))]
    fn new(py: Python<'_>, toml: Option<&str>, json: Option<&str>, logs: bool) -> PyResult<Self> {
        let config = match (toml, json) {
            (Some(_), Some(_)) => return Err(PyValueError::new_err("give toml or json, not both")),
            (Some(t), None) => Config::from_toml(t)
                .map_err(|e| PyValueError::new_err(format!("enrich configuration: {e}")))?,
            (None, Some(j)) => serde_json::from_str(j)
                .map_err(|e| PyValueError::new_err(format!("enrich configuration: {e}")))?,
            (None, None) => Config::default(),
        };
        let enricher = py.detach(|| {
            if logs {
                Enricher::for_logs(config)
            } else {
                Enricher::new(config)
            }
        })?;
        Ok(PyEnricher {
            inner: Mutex::new(enricher),
            log: Mutex::new(LogStream::new(1024, 2000)),
            out: Mutex::new((Vec::new(), Vec::new(), Vec::new())),
        })
    }

    /// Track `event`; returns ("keep" | "drop" | "divert", its enriched JSON or
    /// None when dropped).
    fn enrich(&self, py: Python<'_>, event: &Bound<'_, PyEvent>) -> (&'static str, Option<String>) {
        let ev = event.get().inner();
        py.detach(|| {
            let mut out = Vec::with_capacity(1024);
            let v = self.lock().write_json(ev, &mut out);
            let json = (v != Verdict::Drop).then(|| String::from_utf8_lossy(&out).into_owned());
            (verdict_name(v), json)
        })
    }

    /// Parse a chunk of an auditd log; returns (kept, diverted) JSON lines of the
    /// events it completed.
    fn feed_log<'py>(
        &self,
        py: Python<'py>,
        chunk: &[u8],
    ) -> (Bound<'py, PyBytes>, Bound<'py, PyBytes>) {
        self.log_lines(py, Some(chunk))
    }

    /// Read one chunk of the log open at `src`, write the JSON lines of the
    /// events it completes to `out` (diverted ones to `divert`, else dropped);
    /// at the end of the log, the events still in flight. False at the end.
    #[pyo3(signature = (src, out, divert=None))]
    fn pump_fd(&self, py: Python<'_>, src: i32, out: i32, divert: Option<i32>) -> PyResult<bool> {
        let (mut src, mut out) = (borrowed_file(src)?, borrowed_file(out)?);
        let mut divert = divert.map(borrowed_file).transpose()?;
        py.detach(|| self.pump(&mut *src, &mut *out, divert.as_deref_mut()))
            .map_err(PyErr::from)
    }

    /// End of the log: the events still in flight, as `feed_log`.
    fn finish_log<'py>(&self, py: Python<'py>) -> (Bound<'py, PyBytes>, Bound<'py, PyBytes>) {
        self.log_lines(py, None)
    }

    fn process(&self, py: Python<'_>, pid: u32) -> PyResult<Option<PyTrackedProcess>> {
        let mut e = self.lock();
        e.process(pid)
            .map(|p| PyTrackedProcess::new(py, p))
            .transpose()
    }

    fn ancestors(&self, py: Python<'_>, pid: u32) -> PyResult<Vec<PyTrackedProcess>> {
        let mut e = self.lock();
        e.ancestors(pid)
            .into_iter()
            .map(|p| PyTrackedProcess::new(py, p))
            .collect()
    }

    /// (events, dropped, diverted, processes in the table, processes evicted)
    fn stats(&self) -> (u64, u64, u64, usize, u64) {
        let e = self.lock();
        let t = &e.tracker().table;
        (
            e.stats.events,
            e.stats.dropped,
            e.stats.diverted,
            t.len(),
            t.evicted,
        )
    }

    fn save_state(&self, py: Python<'_>) -> PyResult<()> {
        py.detach(|| self.lock().save_state()).map_err(PyErr::from)
    }
}

pub(crate) fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<PyEnricher>()?;
    m.add_class::<PyTrackedProcess>()?;
    Ok(())
}
