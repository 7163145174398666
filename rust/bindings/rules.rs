//! Python classes and functions for rules and the rest of the control plane:
//! `AuditRule`, `RuleField`, and the functions `auditlink.AuditClient`'s rule,
//! feature, signal-info, tty and user-message methods call.

use std::collections::hash_map::DefaultHasher;
use std::ffi::OsStr;
use std::hash::{Hash, Hasher};
use std::os::unix::ffi::OsStrExt;

use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::{PyBytes, PyDict, PyString, PyTuple};

use crate::audit::client::AuditClient;
use crate::audit::rules::consts::{field_name, operator_symbol};
use crate::audit::rules::load;
use crate::audit::rules::lookup::{self, Resolver, SystemResolver};
use crate::audit::rules::ops::{self, KeyFilter};
use crate::audit::rules::report::{LineReport, LineStatus, LoadReport};
use crate::audit::rules::{control, format, parse_rule, AuditRule, Command, FieldValue, RuleError};
use crate::bindings::client::{wait_mode, PyAuditClient};

/// Run one control-plane request on `client` with the GIL released.
fn call<T: Send>(
    py: Python<'_>,
    client: &Bound<'_, PyAuditClient>,
    f: impl FnOnce(&AuditClient) -> crate::Result<T> + Send,
) -> PyResult<T> {
    client.get().call(py, f)
}

/// A Python `str` for bytes from the kernel: UTF-8, with undecodable bytes
/// kept as surrogate escapes (like `os.fsdecode`), so nothing is lost.
fn fs_str(py: Python<'_>, bytes: &[u8]) -> PyResult<Py<PyAny>> {
    Ok(OsStr::from_bytes(bytes)
        .into_pyobject(py)?
        .into_any()
        .unbind())
}

/// A class of `auditlink.enums` / `auditlink.errors`: pure-Python modules
/// that do not import `_native`, so no import cycle.
fn import_attr(
    py: Python<'_>,
    cell: &'static PyOnceLock<Py<PyAny>>,
    module: &str,
    name: &str,
) -> PyResult<Py<PyAny>> {
    Ok(cell.import(py, module, name)?.clone().unbind())
}

/// An int as a member of one of auditlink.enums' IntEnums (or the plain int).
fn enum_member(
    py: Python<'_>,
    cell: &'static PyOnceLock<Py<PyAny>>,
    name: &str,
    value: u32,
) -> PyResult<Py<PyAny>> {
    let cls = import_attr(py, cell, "auditlink.enums", name)?;
    match cls.call1(py, (value,)) {
        Ok(m) => Ok(m),
        Err(_) => Ok(value.into_pyobject(py)?.into_any().unbind()),
    }
}

/// `auditlink.errors.RuleSyntaxError(message, position=, token=, text=)`,
/// with the byte offset turned into a character offset into `text`.
fn syntax_error(py: Python<'_>, e: RuleError, text: &str) -> PyErr {
    static FACTORY: PyOnceLock<Py<PyAny>> = PyOnceLock::new();
    let position = e
        .position
        .map(|p| text.get(..p).map_or(p, |head| head.chars().count()));
    let made = import_attr(py, &FACTORY, "auditlink.errors", "RuleSyntaxError").and_then(|cls| {
        let kwargs = PyDict::new(py);
        kwargs.set_item("position", position)?;
        kwargs.set_item("token", e.token.clone())?;
        kwargs.set_item("text", text)?;
        cls.call(py, (e.message.clone(),), Some(&kwargs))
    });
    match made {
        Ok(err) => PyErr::from_value(err.into_bound(py)),
        Err(import_failed) => import_failed,
    }
}

/// The text of a rule. A `str` holding a lone surrogate (how `os.fsdecode`
/// keeps bytes that are not UTF-8, e.g. `'\udcff'`) is refused with a
/// RuleSyntaxError pointing at it: rule text is Unicode, and a rule with
/// such bytes in a path or key is built with `from_bytes`.
fn rule_text(py: Python<'_>, text: &Bound<'_, PyString>) -> PyResult<String> {
    if let Ok(s) = text.to_cow() {
        return Ok(s.into_owned());
    }
    let lossy = text.to_string_lossy().into_owned();
    let position = lossy.find('\u{FFFD}').unwrap_or(0);
    let word_start = lossy[..position]
        .rfind(char::is_whitespace)
        .map_or(0, |i| i + 1);
    let token = lossy[word_start..]
        .split_whitespace()
        .next()
        .unwrap_or("")
        .to_string();
    let e = RuleError::at(
        "the rule text holds a lone surrogate (bytes that are not UTF-8, as os.fsdecode keeps them): rules are Unicode text; build such a rule with AuditRule.from_bytes",
        position,
        &token,
    );
    Err(syntax_error(py, e, &lossy))
}

// -------------------------------------------------------------------- fields

/// `RuleField` (documented in `_native/rules.pyi`).
#[pyclass(module = "auditlink", name = "RuleField", frozen)]
pub struct PyRuleField {
    field: u32,
    op: u32,
    value: FieldValue,
}

#[pymethods]
impl PyRuleField {
    #[getter]
    fn field(&self) -> u32 {
        self.field
    }

    #[getter]
    fn name(&self) -> String {
        field_name(self.field).map_or_else(|| format!("f{}", self.field), str::to_string)
    }

    #[getter]
    fn op(&self) -> String {
        operator_symbol(self.op).map_or_else(|| format!("{:#x}", self.op), str::to_string)
    }

    #[getter]
    fn value(&self, py: Python<'_>) -> PyResult<Py<PyAny>> {
        match &self.value {
            FieldValue::Number(n) => Ok(n.into_pyobject(py)?.into_any().unbind()),
            FieldValue::Text(t) => fs_str(py, t),
        }
    }

    fn __eq__(&self, other: &Bound<'_, PyAny>) -> bool {
        match other.cast::<PyRuleField>() {
            Ok(o) => {
                let o = o.get();
                self.field == o.field && self.op == o.op && self.value == o.value
            }
            Err(_) => false,
        }
    }

    fn __hash__(&self) -> u64 {
        let mut h = DefaultHasher::new();
        (self.field, self.op, &self.value).hash(&mut h);
        h.finish()
    }

    fn __repr__(&self, py: Python<'_>) -> PyResult<String> {
        let value = self.value(py)?.bind(py).repr()?.to_string();
        let name = PyString::new(py, &self.name()).repr()?.to_string();
        let op = PyString::new(py, &self.op()).repr()?.to_string();
        Ok(format!("RuleField(name={name}, op={op}, value={value})"))
    }
}

// --------------------------------------------------------------------- rules

/// `AuditRule` (documented in `_native/rules.pyi`).
#[pyclass(module = "auditlink", name = "AuditRule", frozen)]
pub struct PyAuditRule {
    pub(crate) rule: AuditRule,
}

impl PyAuditRule {
    fn wrap(rule: AuditRule) -> Self {
        PyAuditRule { rule }
    }
}

static RULE_LIST: PyOnceLock<Py<PyAny>> = PyOnceLock::new();
static RULE_ACTION: PyOnceLock<Py<PyAny>> = PyOnceLock::new();

#[pymethods]
impl PyAuditRule {
    #[new]
    fn new(py: Python<'_>, text: &Bound<'_, PyString>) -> PyResult<Self> {
        Self::parse(py, text)
    }

    #[staticmethod]
    fn parse(py: Python<'_>, text: &Bound<'_, PyString>) -> PyResult<Self> {
        let text = rule_text(py, text)?;
        match parse_rule(&text, &SystemResolver) {
            Ok(p) => Ok(Self::wrap(p.rule)),
            Err(e) => Err(syntax_error(py, e, &text)),
        }
    }

    #[staticmethod]
    fn from_bytes(data: &[u8]) -> PyResult<Self> {
        AuditRule::from_bytes(data)
            .map(Self::wrap)
            .map_err(|e| PyValueError::new_err(e.message))
    }

    fn to_bytes<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyBytes>> {
        let bytes = self
            .rule
            .to_bytes()
            .map_err(|e| PyValueError::new_err(e.message))?;
        Ok(PyBytes::new(py, &bytes))
    }

    fn to_command_line(&self, py: Python<'_>) -> PyResult<Py<PyAny>> {
        fs_str(
            py,
            &format::to_command_line_bytes(&self.rule, &SystemResolver),
        )
    }

    fn __str__(&self, py: Python<'_>) -> PyResult<Py<PyAny>> {
        self.to_command_line(py)
    }

    fn __repr__(&self, py: Python<'_>) -> PyResult<String> {
        let text = self.to_command_line(py)?.bind(py).repr()?.to_string();
        Ok(format!("AuditRule({text})"))
    }

    fn __eq__(&self, other: &Bound<'_, PyAny>) -> bool {
        match other.cast::<PyAuditRule>() {
            Ok(o) => self.rule == o.get().rule,
            Err(_) => false,
        }
    }

    fn __hash__(&self) -> u64 {
        let mut h = DefaultHasher::new();
        self.rule.hash(&mut h);
        h.finish()
    }

    fn __reduce__<'py>(slf: &Bound<'py, Self>) -> PyResult<Bound<'py, PyTuple>> {
        let py = slf.py();
        let from_bytes = slf.get_type().getattr("from_bytes")?;
        let data = slf.get().to_bytes(py)?;
        PyTuple::new(py, [from_bytes, PyTuple::new(py, [data])?.into_any()])
    }

    #[getter]
    fn list(&self, py: Python<'_>) -> PyResult<Py<PyAny>> {
        enum_member(py, &RULE_LIST, "RuleList", self.rule.list)
    }

    #[getter]
    fn action(&self, py: Python<'_>) -> PyResult<Py<PyAny>> {
        enum_member(py, &RULE_ACTION, "RuleAction", self.rule.action)
    }

    #[getter]
    fn prepend(&self) -> bool {
        self.rule.prepend
    }

    #[getter]
    fn all_syscalls(&self) -> bool {
        self.rule.all_syscalls()
    }

    #[getter]
    fn syscalls<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyTuple>> {
        if self.rule.all_syscalls() {
            return PyTuple::new(py, Vec::<u32>::new());
        }
        PyTuple::new(py, self.rule.syscalls())
    }

    #[getter]
    fn syscall_names<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyTuple>> {
        if self.rule.all_syscalls() {
            return PyTuple::new(py, Vec::<String>::new());
        }
        let uring = self.rule.list == crate::audit::rules::consts::FILTER_URING_EXIT;
        let arch = self
            .rule
            .arch()
            .filter(|&a| lookup::arch_is_known(a))
            .or_else(|| SystemResolver.host_arch());
        let names: Vec<String> = self
            .rule
            .syscalls()
            .into_iter()
            .map(|nr| {
                let name = if uring {
                    crate::audit::rules::consts::uring_op_name(nr)
                } else {
                    arch.and_then(|a| lookup::syscall_name(a, nr))
                };
                name.map_or_else(|| nr.to_string(), str::to_string)
            })
            .collect();
        PyTuple::new(py, names)
    }

    #[getter]
    fn arch(&self) -> Option<u32> {
        self.rule.arch()
    }

    #[getter]
    fn fields<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyTuple>> {
        let items: Vec<PyRuleField> = self
            .rule
            .fields
            .iter()
            .map(|f| PyRuleField {
                field: f.field,
                op: f.op,
                value: f.value.clone(),
            })
            .collect();
        PyTuple::new(py, items)
    }

    #[getter]
    fn keys<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyTuple>> {
        let keys: Vec<Py<PyAny>> = self
            .rule
            .keys()
            .iter()
            .map(|k| fs_str(py, k))
            .collect::<PyResult<_>>()?;
        PyTuple::new(py, keys)
    }

    #[getter]
    fn is_watch(&self) -> bool {
        format::is_watch(&self.rule, &SystemResolver)
    }
}

fn rule_ref(rule: &Bound<'_, PyAny>) -> PyResult<AuditRule> {
    match rule.cast::<PyAuditRule>() {
        Ok(r) => Ok(r.get().rule.clone()),
        Err(_) => Err(pyo3::exceptions::PyTypeError::new_err(format!(
            "expected an AuditRule, got {}",
            rule.get_type().name()?
        ))),
    }
}

// ------------------------------------------------------------ client calls

#[pyfunction]
fn rules_get(py: Python<'_>, client: &Bound<'_, PyAuditClient>) -> PyResult<Vec<PyAuditRule>> {
    let rules = call(py, client, ops::list_rules)?;
    Ok(rules.into_iter().map(PyAuditRule::wrap).collect())
}

/// AUDIT_ADD_RULE, or AUDIT_DEL_RULE when `delete`.
#[pyfunction]
fn rules_change(
    py: Python<'_>,
    client: &Bound<'_, PyAuditClient>,
    rule: &Bound<'_, PyAny>,
    delete: bool,
    wait: bool,
) -> PyResult<()> {
    let rule = rule_ref(rule)?;
    let op = if delete {
        ops::delete_rule
    } else {
        ops::add_rule
    };
    call(py, client, |c| op(c, &rule, wait_mode(wait)))
}

#[pyfunction]
fn rules_delete_all(py: Python<'_>, client: &Bound<'_, PyAuditClient>) -> PyResult<u32> {
    call(py, client, |c| ops::delete_rules(c, KeyFilter::All))
}

#[pyfunction]
fn rules_delete_by_key(
    py: Python<'_>,
    client: &Bound<'_, PyAuditClient>,
    key: &[u8],
) -> PyResult<u32> {
    call(py, client, |c| ops::delete_rules(c, KeyFilter::Exact(key)))
}

fn command_tuple<'py>(py: Python<'py>, c: &Command) -> PyResult<Bound<'py, PyTuple>> {
    let none = || py.None();
    let (kind, value): (&str, Py<PyAny>) = match c {
        Command::AddRule(r) => (
            "add_rule",
            Py::new(py, PyAuditRule::wrap(r.clone()))?.into_any(),
        ),
        Command::DeleteRule(r) => (
            "delete_rule",
            Py::new(py, PyAuditRule::wrap(r.clone()))?.into_any(),
        ),
        Command::DeleteAll { key } => (
            "delete_all",
            key.clone().into_pyobject(py)?.into_any().unbind(),
        ),
        Command::SetEnabled(v) => ("set_enabled", v.into_pyobject(py)?.into_any().unbind()),
        Command::SetFailure(v) => ("set_failure", v.into_pyobject(py)?.into_any().unbind()),
        Command::SetRateLimit(v) => ("set_rate_limit", v.into_pyobject(py)?.into_any().unbind()),
        Command::SetBacklogLimit(v) => (
            "set_backlog_limit",
            v.into_pyobject(py)?.into_any().unbind(),
        ),
        Command::SetBacklogWaitTime(v) => (
            "set_backlog_wait_time",
            v.into_pyobject(py)?.into_any().unbind(),
        ),
        Command::LoginuidImmutable => ("loginuid_immutable", none()),
        Command::ResetLost => ("reset_lost", none()),
        Command::ResetBacklogWaitTimeActual => ("reset_backlog_wait_time_actual", none()),
        Command::IgnoreErrors => ("ignore_errors", none()),
        Command::ContinueOnErrors => ("continue_on_errors", none()),
        Command::List { key } => ("list", key.clone().into_pyobject(py)?.into_any().unbind()),
        Command::Status => ("status", none()),
        Command::Trim => ("trim", none()),
        Command::MakeEquivalent { mount, subtree } => (
            "make_equivalent",
            PyTuple::new(py, [mount.as_str(), subtree.as_str()])?
                .into_any()
                .unbind(),
        ),
        Command::UserMessage(t) => ("user_message", t.into_pyobject(py)?.into_any().unbind()),
        Command::Signal(s) => ("signal", s.into_pyobject(py)?.into_any().unbind()),
        Command::Version => ("version", none()),
        Command::Help => ("help", none()),
        Command::ReadFile(f) => ("read_file", f.into_pyobject(py)?.into_any().unbind()),
    };
    PyTuple::new(py, [kind.into_pyobject(py)?.into_any().unbind(), value])
}

type LineTuple = (
    usize,
    String,
    Vec<Py<PyTuple>>,
    Vec<String>,
    &'static str,
    Option<String>,
    Option<i32>,
    Option<usize>,
    bool,
);

fn line_tuple(py: Python<'_>, l: &LineReport) -> PyResult<LineTuple> {
    let commands = l
        .commands
        .iter()
        .map(|c| command_tuple(py, c).map(Bound::unbind))
        .collect::<PyResult<_>>()?;
    let (status, message, errno, position) = match &l.status {
        LineStatus::Ok => ("ok", None, None, None),
        LineStatus::NotRun => ("not_run", None, None, None),
        LineStatus::Failed {
            message,
            errno,
            position,
        } => {
            let position = position.map(|p| l.text.get(..p).map_or(p, |h| h.chars().count()));
            ("failed", Some(message.clone()), *errno, position)
        }
    };
    Ok((
        l.lineno,
        l.text.clone(),
        commands,
        l.warnings.clone(),
        status,
        message,
        errno,
        position,
        l.executed,
    ))
}

/// What `rules_load` did; the per-line details are built on demand.
#[pyclass(module = "auditlink._native", name = "LoadReport", frozen)]
pub struct PyLoadReport {
    report: LoadReport,
}

#[pymethods]
impl PyLoadReport {
    #[getter]
    fn rules_added(&self) -> u32 {
        self.report.rules_added
    }

    #[getter]
    fn rules_deleted(&self) -> u32 {
        self.report.rules_deleted
    }

    #[getter]
    fn ignore_errors(&self) -> bool {
        self.report.ignore_errors
    }

    #[getter]
    fn continue_on_errors(&self) -> bool {
        self.report.continue_on_errors
    }

    #[getter]
    fn stopped_at(&self) -> Option<usize> {
        self.report.stopped_at
    }

    #[getter]
    fn succeeded(&self) -> bool {
        self.report.succeeded()
    }

    /// Every line: `(lineno, text, [(kind, value)], warnings, status, message,
    /// errno, position, executed)`.
    fn lines(&self, py: Python<'_>) -> PyResult<Vec<LineTuple>> {
        self.report.lines().map(|l| line_tuple(py, &l)).collect()
    }

    /// The first failed line, if any.
    fn first_failure(&self, py: Python<'_>) -> PyResult<Option<LineTuple>> {
        self.report
            .failed_lines()
            .next()
            .map(|l| line_tuple(py, &l))
            .transpose()
    }
}

/// Load (or, with `dry_run`, only parse and check) the contents of a rules file.
#[pyfunction]
#[pyo3(signature = (client, content, dry_run))]
fn rules_load(
    py: Python<'_>,
    client: Option<&Bound<'_, PyAuditClient>>,
    content: &[u8],
    dry_run: bool,
) -> PyResult<PyLoadReport> {
    let c = match client {
        Some(c) => Some(c.get().client()?),
        None => None,
    };
    let report = py.detach(|| load::load_rules(c.as_deref(), content, &SystemResolver, dry_run))?;
    Ok(PyLoadReport { report })
}

#[pyfunction]
fn features_get(
    py: Python<'_>,
    client: &Bound<'_, PyAuditClient>,
) -> PyResult<(u32, u32, u32, u32)> {
    let f = call(py, client, control::get_features)?;
    Ok((f.vers, f.mask, f.features, f.lock))
}

#[pyfunction]
fn feature_set(
    py: Python<'_>,
    client: &Bound<'_, PyAuditClient>,
    feature: u32,
    value: bool,
    lock: bool,
    wait: bool,
) -> PyResult<()> {
    call(py, client, |c| {
        control::set_feature(c, feature, value, lock, wait_mode(wait))
    })
}

#[pyfunction]
fn signal_info_get(
    py: Python<'_>,
    client: &Bound<'_, PyAuditClient>,
) -> PyResult<(u32, u32, Py<PyAny>)> {
    let s = call(py, client, control::get_signal_info)?;
    let context = if s.context.is_empty() {
        py.None()
    } else {
        fs_str(py, &s.context)?
    };
    Ok((s.uid, s.pid, context))
}

#[pyfunction]
fn tty_get(py: Python<'_>, client: &Bound<'_, PyAuditClient>) -> PyResult<(u32, u32)> {
    let t = call(py, client, control::get_tty_status)?;
    Ok((t.enabled, t.log_passwd))
}

#[pyfunction]
fn tty_set(
    py: Python<'_>,
    client: &Bound<'_, PyAuditClient>,
    enabled: u32,
    log_passwd: u32,
    wait: bool,
) -> PyResult<()> {
    let status = control::TtyStatus {
        enabled,
        log_passwd,
    };
    call(py, client, |c| {
        control::set_tty_status(c, status, wait_mode(wait))
    })
}

#[pyfunction]
fn user_message_send(
    py: Python<'_>,
    client: &Bound<'_, PyAuditClient>,
    msg_type: u16,
    text: &[u8],
) -> PyResult<()> {
    call(py, client, |c| {
        control::send_user_message(c, msg_type, text)
    })
}

#[pyfunction]
fn is_user_message(msg_type: u64) -> bool {
    u16::try_from(msg_type).is_ok_and(crate::audit::tables::is_user_message)
}

pub(crate) fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<PyAuditRule>()?;
    m.add_class::<PyRuleField>()?;
    m.add_class::<PyLoadReport>()?;
    m.add_function(wrap_pyfunction!(rules_get, m)?)?;
    m.add_function(wrap_pyfunction!(rules_change, m)?)?;
    m.add_function(wrap_pyfunction!(rules_delete_all, m)?)?;
    m.add_function(wrap_pyfunction!(rules_delete_by_key, m)?)?;
    m.add_function(wrap_pyfunction!(rules_load, m)?)?;
    m.add_function(wrap_pyfunction!(features_get, m)?)?;
    m.add_function(wrap_pyfunction!(feature_set, m)?)?;
    m.add_function(wrap_pyfunction!(signal_info_get, m)?)?;
    m.add_function(wrap_pyfunction!(tty_get, m)?)?;
    m.add_function(wrap_pyfunction!(tty_set, m)?)?;
    m.add_function(wrap_pyfunction!(user_message_send, m)?)?;
    m.add_function(wrap_pyfunction!(is_user_message, m)?)?;
    Ok(())
}
