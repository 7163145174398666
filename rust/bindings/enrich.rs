//! Python bindings of the enricher: `Enricher` (live events and logs to
//! enriched JSON) and `TrackedProcess` (a process table entry).

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

/// The enricher, shared by threads through a lock.
#[pyclass(module = "auditlink._native", name = "Enricher", frozen)]
pub struct PyEnricher {
    inner: Mutex<Enricher>,
    log: Mutex<LogStream>,
}

impl PyEnricher {
    fn lock(&self) -> std::sync::MutexGuard<'_, Enricher> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Kept and diverted events as JSON lines.
    fn lines(&self, events: &[Event]) -> (Vec<u8>, Vec<u8>) {
        let mut e = self.lock();
        let (mut kept, mut diverted) = (Vec::with_capacity(events.len() * 1024), Vec::new());
        for ev in events {
            let start = kept.len();
            match e.write_json(ev, &mut kept) {
                Verdict::Keep => kept.push(b'\n'),
                Verdict::Divert => {
                    diverted.extend_from_slice(&kept[start..]);
                    diverted.push(b'\n');
                    kept.truncate(start);
                }
                Verdict::Drop => {}
            }
        }
        (kept, diverted)
    }
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
        let (k, d) = py.detach(|| {
            let mut evs = Vec::new();
            self.log
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .feed(chunk, &mut evs);
            self.lines(&evs)
        });
        (PyBytes::new(py, &k), PyBytes::new(py, &d))
    }

    /// End of the log: the events still in flight, as `feed_log`.
    fn finish_log<'py>(&self, py: Python<'py>) -> (Bound<'py, PyBytes>, Bound<'py, PyBytes>) {
        let (k, d) = py.detach(|| {
            let mut evs = Vec::new();
            self.log
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .finish(&mut evs);
            self.lines(&evs)
        });
        (PyBytes::new(py, &k), PyBytes::new(py, &d))
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
