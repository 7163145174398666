//! Python classes for search, report and top: `SearchFilter`, the matching
//! event iterator, the CLI's writer (ausearch's output formats), and the
//! live filter for events already received.

use std::io::{Read, Write};
use std::path::PathBuf;
use std::sync::Mutex;

use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;

use crate::audit::normalize::format::CsvOptions;
use crate::audit::search::group::Stamp;
use crate::audit::search::report::{Kind, Options};
use crate::audit::search::resume::Resume;
use crate::audit::search::run::RunOptions;
use crate::audit::search::run::{self, event_from_group, group_from_event, Search};
use crate::audit::search::top::Top;
use crate::audit::search::{Filter, Format};
use crate::bindings::records::{receive_grouped, PyEvent};

fn bytes_opt(s: Option<String>) -> Option<Vec<u8>> {
    s.map(String::into_bytes)
}

/// ausearch's search options, checked and ready for Rust.
#[pyclass(module = "auditlink._native", name = "SearchFilter", frozen)]
#[derive(Clone)]
pub struct PySearchFilter {
    pub(crate) inner: Filter,
}

#[pymethods]
impl PySearchFilter {
    #[new]
    #[pyo3(signature = (*, start=None, end=None, event_id=None, nodes=Vec::new(), types=Vec::new(),
        uid=None, euid=None, loginuid=None, any_uid=None, gid=None, egid=None, any_gid=false, pid=None,
        ppid=None, syscall=None, arch=None, session=None, success=None, exit=None, key=None,
        filename=None, hostname=None, terminal=None, exe=None, comm=None, subject=None, object=None,
        any_context=false, vmname=None, uuid=None, exact=false))]
    #[allow(clippy::too_many_arguments)]
    fn new(
        start: Option<u64>,
        end: Option<u64>,
        event_id: Option<u64>,
        nodes: Vec<String>,
        types: Vec<u16>,
        uid: Option<u64>,
        euid: Option<u64>,
        loginuid: Option<u64>,
        any_uid: Option<u64>,
        gid: Option<u64>,
        egid: Option<u64>,
        any_gid: bool,
        pid: Option<i64>,
        ppid: Option<i64>,
        syscall: Option<u64>,
        arch: Option<u64>,
        session: Option<u64>,
        success: Option<bool>,
        exit: Option<i64>,
        key: Option<String>,
        filename: Option<String>,
        hostname: Option<String>,
        terminal: Option<String>,
        exe: Option<String>,
        comm: Option<String>,
        subject: Option<String>,
        object: Option<String>,
        any_context: bool,
        vmname: Option<String>,
        uuid: Option<String>,
        exact: bool,
    ) -> PySearchFilter {
        PySearchFilter {
            inner: Filter {
                start,
                end,
                event_id,
                nodes: nodes.into_iter().map(String::into_bytes).collect(),
                types,
                uid,
                euid,
                loginuid,
                any_uid,
                gid,
                egid,
                any_gid,
                pid,
                ppid,
                syscall,
                arch,
                session,
                success,
                exit,
                key: bytes_opt(key),
                filename: bytes_opt(filename),
                hostname: bytes_opt(hostname),
                terminal: bytes_opt(terminal),
                exe: bytes_opt(exe),
                comm: bytes_opt(comm),
                subject: bytes_opt(subject),
                object: bytes_opt(object),
                any_context,
                vmname: bytes_opt(vmname),
                uuid: bytes_opt(uuid),
                exact,
            },
        }
    }
    /// Does an event already received (e.g. from a live client) match?
    fn matches(&self, event: &Bound<'_, PyEvent>) -> bool {
        let g = group_from_event(event.get().inner());
        self.inner.matches(&g, &self.inner.needs())
    }
    fn __repr__(&self) -> String {
        format!("<SearchFilter {:?}>", self.inner)
    }
}

fn open_inputs(paths: Option<Vec<PathBuf>>) -> PyResult<Vec<Box<dyn Read + Send>>> {
    match paths {
        Some(p) => Ok(run::open_all(&p)?),
        None => Ok(vec![Box::new(std::io::stdin())]),
    }
}

fn format_arg(name: &str, extra: (bool, bool, bool, bool)) -> PyResult<Format> {
    let (extra_keys, extra_labels, extra_obj2, extra_time) = extra;
    match name {
        "raw" => Ok(Format::Raw),
        "default" => Ok(Format::Default),
        "interpret" => Ok(Format::Interpret),
        "csv" => Ok(Format::Csv(CsvOptions {
            extra_keys,
            extra_labels,
            extra_obj2,
            extra_time,
        })),
        "text" => Ok(Format::Text),
        "ecs" => Ok(Format::Ecs),
        other => Err(PyValueError::new_err(format!("unknown format {other:?}"))),
    }
}

/// The last event of a previous run: (node, sec, milli, serial, first
/// record type, time only).
type ResumeArg = (Option<String>, u64, u32, u64, u32, bool);
/// What a run did: events written, the last event looked at (node, sec,
/// milli, serial, first record type), and the event (sec, milli, serial)
/// that showed the checkpoint does not belong to the input.
type OutcomeTuple = (
    u64,
    Option<(Option<Vec<u8>>, u64, u32, u64, u16)>,
    Option<(u64, u32, u64)>,
);

/// Search `paths` (None: stdin) and write the matches to `fd` in `format`
/// (`raw`, `default`, `interpret`, `csv`, `text`, `ecs`).
#[pyfunction]
#[pyo3(signature = (paths, filter, format, fd=1, *, extra_keys=false, extra_labels=false,
    extra_obj2=false, extra_time=false, just_one=false, line_buffered=false,
    eoe_timeout=crate::audit::search::group::EOE_TIMEOUT, checkpoint=false, resume=None))]
#[allow(clippy::too_many_arguments)]
fn search_write(
    py: Python<'_>,
    paths: Option<Vec<PathBuf>>,
    filter: &PySearchFilter,
    format: &str,
    fd: i32,
    extra_keys: bool,
    extra_labels: bool,
    extra_obj2: bool,
    extra_time: bool,
    just_one: bool,
    line_buffered: bool,
    eoe_timeout: u64,
    checkpoint: bool,
    resume: Option<ResumeArg>,
) -> PyResult<OutcomeTuple> {
    let format = format_arg(format, (extra_keys, extra_labels, extra_obj2, extra_time))?;
    if eoe_timeout == 0 {
        return Err(PyValueError::new_err("eoe_timeout must be >= 1 second"));
    }
    let opts = RunOptions {
        just_one,
        line_buffered,
        eoe_timeout,
        checkpoint,
        resume: resume.map(|(node, sec, milli, serial, first_type, time_only)| Resume {
            node: node.map(String::into_bytes),
            stamp: Stamp { sec, milli, serial },
            first_type,
            time_only,
        }),
    };
    let mut inputs = open_inputs(paths)?;
    let filter = filter.inner.clone();
    let found = py.detach(move || -> std::io::Result<crate::audit::search::Outcome> {
        // SAFETY: the fd is borrowed for this call only; ManuallyDrop keeps
        // the File from closing the caller's descriptor.
        let mut out = std::mem::ManuallyDrop::new(unsafe {
            <std::fs::File as std::os::fd::FromRawFd>::from_raw_fd(fd)
        });
        let w: &mut dyn Write = &mut *out;
        run::search_to_writer(&mut inputs, filter, format, opts, w)
    })?;
    Ok((
        found.found,
        found
            .last
            .map(|(n, s, t)| (n.map(Vec::from), s.sec, s.milli, s.serial, t)),
        found.corrupted.map(|s| (s.sec, s.milli, s.serial)),
    ))
}

/// The logs of a directory, oldest first (`audit.log.N` ... `audit.log`).
#[pyfunction]
fn rotated_logs(dir: PathBuf) -> Vec<PathBuf> {
    run::rotated_logs(&dir)
}

struct IterState {
    inputs: Vec<Box<dyn Read + Send>>,
    index: usize,
    search: Search,
    buf: Vec<u8>,
    done: bool,
}

impl IterState {
    /// Read until a match is ready or the input ends.
    fn next_group(&mut self) -> std::io::Result<Option<crate::audit::search::Group>> {
        loop {
            if let Some(g) = self.search.next_match() {
                return Ok(Some(g));
            }
            if self.done {
                return Ok(None);
            }
            match self.inputs.get_mut(self.index) {
                Some(input) => {
                    let n = input.read(&mut self.buf)?;
                    if n == 0 {
                        self.index += 1;
                    } else {
                        let chunk = &self.buf[..n];
                        self.search.feed(chunk);
                    }
                }
                None => {
                    self.search.finish();
                    self.done = true;
                }
            }
        }
    }
}

/// Matching events of log files (or stdin), as `AuditEvent` objects.
#[pyclass(module = "auditlink._native", name = "SearchIter", frozen)]
pub struct PySearchIter {
    state: Mutex<IterState>,
}

#[pymethods]
impl PySearchIter {
    #[new]
    #[pyo3(signature = (paths, filter))]
    fn new(paths: Option<Vec<PathBuf>>, filter: &PySearchFilter) -> PyResult<Self> {
        Ok(PySearchIter {
            state: Mutex::new(IterState {
                inputs: open_inputs(paths)?,
                index: 0,
                search: Search::new(filter.inner.clone()),
                buf: vec![0u8; 1 << 20],
                done: false,
            }),
        })
    }
    fn __iter__(slf: PyRef<'_, Self>) -> PyRef<'_, Self> {
        slf
    }
    fn __next__(&self, py: Python<'_>) -> PyResult<Option<Py<PyEvent>>> {
        let next = py.detach(|| {
            let mut st = self.state.lock().unwrap_or_else(|p| p.into_inner());
            st.next_group().map(|g| g.map(|g| event_from_group(&g)))
        })?;
        next.map(|e| Py::new(py, PyEvent::new(e, None))).transpose()
    }
}

/// The machine `--arch` names (`b32`, `b64` or a machine name), this
/// machine when None.
fn search_machine(arch: Option<&str>) -> PyResult<crate::audit::tables::Machine> {
    use crate::audit::tables;
    let host = tables::machine_by_name(std::env::consts::ARCH)
        .ok_or_else(|| PyValueError::new_err("Error detecting machine type"))?;
    let Some(a) = arch else {
        return Ok(host);
    };
    let bits = match a.to_ascii_lowercase().as_str() {
        "b64" => Some(64),
        "b32" => Some(32),
        _ => None,
    };
    bits.map_or_else(
        || tables::machine_by_name(a),
        |b| tables::machine_for_bits(host, b),
    )
    .ok_or_else(|| PyValueError::new_err(format!("Unknown arch {a}")))
}

/// The number of an errno name (`EPERM` -> 1), None when unknown.
#[pyfunction]
fn errno_number(name: &str) -> Option<i32> {
    crate::audit::tables::errno_number(name)
}

/// The audit arch number (AUDIT_ARCH_*) of `--arch NAME`.
#[pyfunction]
fn audit_arch(name: &str) -> PyResult<u32> {
    Ok(crate::audit::tables::audit_arch_for_machine(
        search_machine(Some(name))?,
    ))
}

/// The number of a syscall name on a machine (`arch`, default this one)
/// and that machine's audit arch (what `-sc NAME` means to ausearch).
#[pyfunction]
#[pyo3(signature = (name, arch=None))]
fn syscall_number(name: &str, arch: Option<&str>) -> PyResult<(u32, u32)> {
    use crate::audit::tables;
    let machine = search_machine(arch)?;
    let nr = tables::syscall_number(machine, name)
        .ok_or_else(|| PyValueError::new_err(format!("Syscall {name} not found")))?;
    Ok((nr, tables::audit_arch_for_machine(machine)))
}

fn report_kind(name: &str) -> PyResult<Kind> {
    use Kind::*;
    Ok(match name {
        "summary" => Summary,
        "executable" => Executable,
        "key" => Key,
        "file" => File,
        "user" => User,
        "login" => Login,
        "auth" => Auth,
        "mods" => Mods,
        "config" => Config,
        "syscall" => Syscall,
        "event" => Event,
        "pid" => Pid,
        "terminal" => Terminal,
        "host" => Host,
        "anomaly" => Anomaly,
        "comm" => Comm,
        "mac" => Mac,
        "integrity" => Integrity,
        "virt" => Virt,
        "crypto" => Crypto,
        "response" => Response,
        "avc" => Avc,
        "tty" => Tty,
        "time" => Time,
        other => return Err(PyValueError::new_err(format!("unknown report {other:?}"))),
    })
}

/// Run an aureport report over `paths` (None: stdin). Returns the text as
/// aureport prints it, whether anything was found, the column names and
/// the rows (see `auditlink.report`).
#[pyfunction]
#[pyo3(signature = (paths, kind, *, summary=false, success=None, interpret=false, start=None, end=None, nodes=Vec::new()))]
#[allow(clippy::too_many_arguments, clippy::type_complexity)]
fn run_report(
    py: Python<'_>,
    paths: Option<Vec<PathBuf>>,
    kind: &str,
    summary: bool,
    success: Option<bool>,
    interpret: bool,
    start: Option<u64>,
    end: Option<u64>,
    nodes: Vec<String>,
) -> PyResult<(Vec<u8>, bool, Vec<&'static str>, Vec<Vec<Vec<u8>>>)> {
    let opts = Options {
        kind: report_kind(kind)?,
        summary,
        success,
        interpret,
        start,
        end,
        nodes: nodes.into_iter().map(String::into_bytes).collect(),
    };
    let names: Vec<Vec<u8>> = paths
        .iter()
        .flatten()
        .map(|p| p.as_os_str().as_encoded_bytes().to_vec())
        .collect();
    let mut inputs = open_inputs(paths)?;
    let report = py.detach(move || {
        let names: Vec<&[u8]> = names.iter().map(Vec::as_slice).collect();
        run::report_inputs(&mut inputs, &names, opts)
    })?;
    let rows = report.rows();
    Ok((report.text(), report.found(), rows.columns, rows.rows))
}

/// The live stream grouped and filtered in Rust: only matching events
/// become `AuditEvent` objects (see `auditlink.search`).
#[pyclass(module = "auditlink._native", name = "LiveSearch", frozen)]
pub struct PyLiveSearch {
    filter: Filter,
    needs: crate::audit::search::items::Needs,
    reasm: Mutex<crate::audit::records::Reassembler>,
}

impl PyLiveSearch {
    fn keep(&self, events: &mut Vec<crate::audit::records::Event>) {
        if !self.filter.is_empty() {
            events.retain(|e| self.filter.matches(&group_from_event(e), &self.needs));
        }
    }
    fn to_list(
        py: Python<'_>,
        events: Vec<crate::audit::records::Event>,
    ) -> PyResult<Vec<Py<PyEvent>>> {
        events
            .into_iter()
            .map(|e| Py::new(py, PyEvent::new(e, None)))
            .collect()
    }
}

#[pymethods]
impl PyLiveSearch {
    #[new]
    #[pyo3(signature = (filter, max_in_flight=1024, timeout=2.0))]
    fn new(filter: &PySearchFilter, max_in_flight: usize, timeout: f64) -> PyResult<Self> {
        if max_in_flight == 0 {
            return Err(PyValueError::new_err("max_in_flight must be >= 1"));
        }
        let timeout_ms = crate::bindings::common::millis(timeout, "timeout")?;
        Ok(PyLiveSearch {
            needs: filter.inner.needs(),
            filter: filter.inner.clone(),
            reasm: Mutex::new(crate::audit::records::Reassembler::new(
                max_in_flight,
                timeout_ms,
            )),
        })
    }
    /// Receive, parse, group and filter until a matching event completes
    /// or `timeout` seconds pass (None: wait); returns the matches.
    #[pyo3(signature = (client, max_messages=1024, timeout=None))]
    fn receive(
        &self,
        py: Python<'_>,
        client: &Bound<'_, crate::bindings::client::PyAuditClient>,
        max_messages: usize,
        timeout: Option<f64>,
    ) -> PyResult<Vec<Py<PyEvent>>> {
        let out = receive_grouped(
            py,
            client,
            &self.reasm,
            max_messages,
            timeout,
            crate::bindings::common::DEFAULT_LINGER,
            |events| self.keep(events),
        )?;
        Self::to_list(py, out)
    }
    /// The matching events still being grouped (at the end of the stream).
    fn flush(&self, py: Python<'_>) -> PyResult<Vec<Py<PyEvent>>> {
        let mut out = Vec::new();
        self.reasm
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .flush(&mut out);
        self.keep(&mut out);
        Self::to_list(py, out)
    }
}

struct TopState {
    top: Top,
    grouper: crate::audit::search::Grouper,
    lines: run::Lines,
}

impl TopState {
    fn drain(&mut self) {
        while let Some(g) = self.grouper.pop() {
            self.top.add(&g);
        }
    }
}

/// The counters of `auditlink top` (see `auditlink.top`).
#[pyclass(module = "auditlink._native", name = "TopCounter", frozen)]
pub struct PyTopCounter {
    state: Mutex<TopState>,
}

type TopRow = (String, f64, u64);

#[pymethods]
impl PyTopCounter {
    #[new]
    fn new() -> Self {
        PyTopCounter {
            state: Mutex::new(TopState {
                top: Top::new(),
                grouper: crate::audit::search::Grouper::new(
                    crate::audit::search::group::EOE_TIMEOUT,
                ),
                lines: run::Lines::default(),
            }),
        }
    }
    /// Count the events of a chunk of auditd log bytes.
    fn feed_log(&self, py: Python<'_>, data: &[u8]) {
        py.detach(|| {
            let mut st = self.state.lock().unwrap_or_else(|p| p.into_inner());
            let TopState { grouper, lines, .. } = &mut *st;
            lines.feed(data, |l| grouper.push(l));
            st.drain();
        });
    }
    /// The log has been quiet: count the events still waiting for records.
    fn idle(&self) {
        let mut st = self.state.lock().unwrap_or_else(|p| p.into_inner());
        st.grouper.finish();
        st.drain();
    }
    /// Count events already received (a `receive_events` batch).
    fn add_batch(&self, events: Vec<PyRef<'_, PyEvent>>) {
        let mut st = self.state.lock().unwrap_or_else(|p| p.into_inner());
        for e in &events {
            st.top.add(&group_from_event(e.inner()));
        }
    }
    /// Events and records counted so far.
    fn totals(&self) -> (u64, u64) {
        self.state
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .top
            .totals()
    }
    /// Rates over the interval of `seconds` that just ended: events/s,
    /// records/s and, per table (`TABLES`), rows (value, per second,
    /// total), busiest first, at most `limit` each. Starts a new interval.
    fn snapshot(&self, seconds: f64, limit: usize) -> (f64, f64, Vec<Vec<TopRow>>) {
        let (ev, rec, tables) = self
            .state
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .top
            .snapshot(seconds, limit);
        let tables = tables
            .into_iter()
            .map(|t| {
                t.into_iter()
                    .map(|r| {
                        (
                            String::from_utf8_lossy(&r.value).into_owned(),
                            r.rate,
                            r.total,
                        )
                    })
                    .collect()
            })
            .collect();
        (ev, rec, tables)
    }
}

pub(crate) fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<PySearchFilter>()?;
    m.add_class::<PySearchIter>()?;
    m.add_class::<PyLiveSearch>()?;
    m.add_function(wrap_pyfunction!(search_write, m)?)?;
    m.add_function(wrap_pyfunction!(rotated_logs, m)?)?;
    m.add_function(wrap_pyfunction!(syscall_number, m)?)?;
    m.add_function(wrap_pyfunction!(audit_arch, m)?)?;
    m.add_function(wrap_pyfunction!(errno_number, m)?)?;
    m.add_function(wrap_pyfunction!(run_report, m)?)?;
    m.add_class::<PyTopCounter>()?;
    m.add("TOP_TABLES", crate::audit::search::top::TABLES.to_vec())?;
    Ok(())
}
