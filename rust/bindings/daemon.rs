//! Python bindings of the audit daemon (`auditlink.Daemon`'s native half).

use std::collections::HashSet;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use pyo3::prelude::*;
use pyo3::types::PyDict;

use crate::audit::daemon::{self as core, DaemonConfig, DaemonSettings, Extras, Origin};
use crate::bindings::client::PyAuditClient;
use crate::bindings::records::PyEventBatch;
use crate::error::Error;

/// Native half of `auditlink.Daemon`: a started daemon.
#[pyclass(module = "auditlink._native", name = "Daemon", frozen)]
pub struct PyDaemon {
    inner: Mutex<Option<Arc<core::Daemon>>>,
}

impl PyDaemon {
    fn daemon(&self) -> PyResult<Arc<core::Daemon>> {
        self.inner
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
            .ok_or_else(|| Error::Closed.into())
    }

    /// Run a control call with the GIL released; `from_signal` takes the
    /// requester from the kernel's signal info, else it is this process.
    fn control(
        &self,
        py: Python<'_>,
        from_signal: bool,
        f: impl FnOnce(&core::Daemon, &Origin) -> crate::Result<()> + Send,
    ) -> PyResult<()> {
        let d = self.daemon()?;
        py.detach(|| {
            let origin = if from_signal {
                d.signal_origin()
            } else {
                Origin::this_process()
            };
            f(&d, &origin)
        })?;
        Ok(())
    }
}

fn settings(
    config_path: Option<PathBuf>,
    config_text: Option<&str>,
    extras_text: Option<&str>,
) -> crate::Result<DaemonSettings> {
    let config = match (&config_path, config_text) {
        (_, Some(text)) => DaemonConfig::parse(text)?,
        (Some(path), None) => DaemonConfig::load(path)?,
        (None, None) => DaemonConfig::default(),
    };
    let extras = match (extras_text, &config_path) {
        (Some(text), _) => Extras::parse(text)?,
        (None, Some(path)) => Extras::load_beside(path)?,
        (None, None) => Extras::default(),
    };
    Ok(DaemonSettings {
        config,
        extras,
        config_path,
        ..Default::default()
    })
}

#[pymethods]
impl PyDaemon {
    #[new]
    #[pyo3(signature = (client, config_path=None, config_text=None, extras_text=None, rules=None, take_over=false, python_events=false, event_types=None))]
    #[allow(clippy::too_many_arguments)]
    fn new(
        py: Python<'_>,
        client: &PyAuditClient,
        config_path: Option<PathBuf>,
        config_text: Option<&str>,
        extras_text: Option<&str>,
        rules: Option<PathBuf>,
        take_over: bool,
        python_events: bool,
        event_types: Option<Vec<u16>>,
    ) -> PyResult<Self> {
        let c = client.client()?;
        let mut s = settings(config_path, config_text, extras_text)?;
        s.rules = rules;
        s.take_over = take_over;
        s.python_events =
            python_events.then(|| event_types.map(|t| t.into_iter().collect::<HashSet<u16>>()));
        let d = py.detach(|| core::Daemon::start(c, s))?;
        Ok(PyDaemon {
            inner: Mutex::new(Some(Arc::new(d))),
        })
    }

    #[pyo3(signature = (from_signal=false))]
    fn rotate(&self, py: Python<'_>, from_signal: bool) -> PyResult<()> {
        self.control(py, from_signal, |d, o| d.rotate(o))
    }

    #[pyo3(signature = (from_signal=false))]
    fn resume(&self, py: Python<'_>, from_signal: bool) -> PyResult<()> {
        self.control(py, from_signal, |d, o| d.resume(o))
    }

    #[pyo3(signature = (from_signal=false))]
    fn reload(&self, py: Python<'_>, from_signal: bool) -> PyResult<()> {
        self.control(py, from_signal, |d, o| d.reload(o))
    }

    fn flush(&self, py: Python<'_>) -> PyResult<()> {
        let d = self.daemon()?;
        py.detach(|| d.flush())?;
        Ok(())
    }

    #[pyo3(signature = (from_signal=false))]
    fn stop(&self, py: Python<'_>, from_signal: bool) -> PyResult<()> {
        let d = self.inner.lock().unwrap_or_else(|p| p.into_inner()).clone();
        let Some(d) = d else { return Ok(()) };
        py.detach(|| {
            let origin = if from_signal {
                d.signal_origin()
            } else {
                Origin::this_process()
            };
            d.stop(&origin)
        })?;
        Ok(())
    }

    #[getter]
    fn stopped(&self) -> bool {
        self.inner
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .as_ref()
            .is_none_or(|d| d.is_stopped())
    }

    fn stats<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let d = self.daemon()?;
        let dict = PyDict::new(py);
        for (k, v) in d.stats() {
            dict.set_item(k, v)?;
        }
        Ok(dict)
    }

    fn sink_stats<'py>(&self, py: Python<'py>) -> PyResult<Vec<Bound<'py, PyDict>>> {
        self.daemon()?
            .sink_stats()
            .iter()
            .map(|s| crate::bindings::sinks::stats_dict(py, s))
            .collect()
    }

    fn plugin_paths(&self) -> PyResult<Vec<String>> {
        Ok(self.daemon()?.plugin_paths())
    }

    /// Up to `max` events for the callback, waiting up to `timeout` seconds;
    /// None once the daemon has stopped and every event was taken.
    fn next_events(
        &self,
        py: Python<'_>,
        max: usize,
        timeout: f64,
    ) -> PyResult<Option<PyEventBatch>> {
        let d = self.daemon()?;
        let Some(q) = d.events.clone() else {
            return Ok(None);
        };
        if q.is_closed_and_empty() {
            return Ok(None);
        }
        let wait = Duration::from_secs_f64(timeout.clamp(0.0, 1.0));
        let events = py.detach(|| q.take(max, wait));
        Ok(Some(PyEventBatch::new(events, None)))
    }
}

/// Parse auditd.conf text; returns the warnings (settings accepted but not acted on).
#[pyfunction]
fn check_auditd_conf(text: &str) -> PyResult<Vec<String>> {
    Ok(DaemonConfig::parse(text)?.warnings)
}

/// Parse auditlink.toml text (raises ValueError when it is not valid).
#[pyfunction]
fn check_auditlink_toml(text: &str) -> PyResult<()> {
    Extras::parse(text)?;
    Ok(())
}

/// Also print the daemon's syslog messages on stderr (`daemon -f`).
#[pyfunction]
fn daemon_messages_to_stderr(on: bool) {
    core::syslog::set_stderr(on);
}

pub(crate) fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<PyDaemon>()?;
    m.add_function(wrap_pyfunction!(daemon_messages_to_stderr, m)?)?;
    m.add_function(wrap_pyfunction!(check_auditd_conf, m)?)?;
    m.add_function(wrap_pyfunction!(check_auditlink_toml, m)?)?;
    Ok(())
}
