//! Python entry points of the forwarding sinks: validate a `[[sink]]` table and replay a log through a sink.

use std::time::Duration;

use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::types::PyDict;

use crate::audit::sinks::{self, SinkConfig, SinkStats};
use crate::error::Error;

pub(crate) fn stats_dict<'py>(py: Python<'py>, s: &SinkStats) -> PyResult<Bound<'py, PyDict>> {
    let d = PyDict::new(py);
    d.set_item("name", &s.name)?;
    d.set_item("submitted", s.submitted)?;
    d.set_item("sent", s.sent)?;
    d.set_item("acked", s.acked)?;
    d.set_item("spooled", s.spooled)?;
    d.set_item("spool_bytes", s.spool_bytes)?;
    d.set_item("queued", s.queued)?;
    d.set_item("dropped", s.dropped)?;
    d.set_item("reconnects", s.reconnects)?;
    d.set_item("connected", s.connected)?;
    d.set_item("last_error", &s.last_error)?;
    d.set_item("last_warning", &s.last_warning)?;
    Ok(d)
}

/// Parse a sink table; returns the sink's name.
#[pyfunction]
fn sink_check_config(config: &str) -> PyResult<String> {
    Ok(SinkConfig::from_toml(config)?.name())
}

#[pyfunction]
#[pyo3(signature = (config, *, path=None, data=None, node=None, json=false, timeout=30.0))]
fn sink_forward_log<'py>(
    py: Python<'py>,
    config: &str,
    path: Option<std::path::PathBuf>,
    data: Option<Vec<u8>>,
    node: Option<String>,
    json: bool,
    timeout: f64,
) -> PyResult<Bound<'py, PyDict>> {
    let cfg = SinkConfig::from_toml(config)?;
    if !(timeout.is_finite() && timeout >= 0.0) {
        return Err(PyValueError::new_err(
            "timeout must be a non-negative number",
        ));
    }
    let timeout = Duration::from_secs_f64(timeout);
    let node = node.unwrap_or_else(sinks::local_hostname);
    let stats = py.detach(|| -> Result<SinkStats, Error> {
        match (path, data) {
            (Some(p), None) => {
                let f = std::fs::File::open(&p).map_err(|e| Error::io("open events file", e))?;
                sinks::forward_log(f, &cfg, &node, json, timeout)
            }
            (None, Some(d)) => sinks::forward_log(&d[..], &cfg, &node, json, timeout),
            _ => Err(Error::InvalidArgument(
                "give exactly one of path= or data=".into(),
            )),
        }
    })?;
    stats_dict(py, &stats)
}

pub(crate) fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(sink_check_config, m)?)?;
    m.add_function(wrap_pyfunction!(sink_forward_log, m)?)?;
    Ok(())
}
