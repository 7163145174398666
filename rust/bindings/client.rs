//! Python classes for the clients and their values: `AuditClient` (native
//! half; the public class in python/auditlink/client.py wraps it),
//! `NetlinkClient`, `RawAuditMessage`, `NetlinkMessage`, and the status codec.

use crate::audit::tables::msg;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyDict, PyList, PyTuple};

use crate::audit::client::{self as core, AuditClient, Batch, ClientOptions, WaitMode};
use crate::audit::errno::NetlinkAck;
use crate::audit::status::AuditStatus;
use crate::bindings::common::{self, dup_fd, sliced, DEFAULT_LINGER};
use crate::bindings::types::message_type_object;
use crate::error::Error;
use crate::netlink::client::NetlinkClient;
use crate::netlink::message::NetlinkMessage;
use crate::netlink::{FramedSocket, Transport};

pub(crate) fn wait_mode(wait: bool) -> WaitMode {
    WaitMode::from(wait)
}

/// A Python file-like `tee` as a core hook: every datagram read is written to it.
fn tee_hook(tee: Option<Py<PyAny>>) -> Option<core::Tee> {
    let tee = tee?;
    Some(Box::new(move |bytes: &[u8]| {
        Python::attach(|py| {
            if let Err(e) = tee.call_method1(py, "write", (PyBytes::new(py, bytes),)) {
                e.write_unraisable(py, Some(tee.bind(py)));
            }
        })
    }))
}

// ------------------------------------------------------------------ messages

/// `__reduce__` result: (class, constructor args).
type Reduced = (Py<PyAny>, (u16, Py<PyBytes>));

/// A raw audit message: `type` (a MessageType member where known, else int)
/// and `data` (bytes, an owned copy of the payload).
#[pyclass(module = "auditlink", name = "RawAuditMessage", frozen)]
pub struct RawAuditMessage {
    number: u16,
    type_obj: Py<PyAny>,
    data: Py<PyBytes>,
}

impl RawAuditMessage {
    pub(crate) fn build(py: Python<'_>, number: u16, payload: &[u8]) -> PyResult<Self> {
        Ok(RawAuditMessage {
            number,
            type_obj: message_type_object(py, number)?,
            data: PyBytes::new(py, payload).unbind(),
        })
    }

    /// A new message object for the batch path, not tracked by the cyclic GC:
    /// it refers only to a bytes object and a `MessageType` member, so it can
    /// never be part of a reference cycle, and leaving it untracked spares
    /// the collector a scan of every record of a busy stream.
    pub(crate) fn new_untracked<'py>(
        py: Python<'py>,
        number: u16,
        payload: &[u8],
    ) -> PyResult<Bound<'py, RawAuditMessage>> {
        let obj = Bound::new(py, Self::build(py, number, payload)?)?;
        // SAFETY: `obj` is a live, GC-tracked instance we own (pyclass types
        // have Py_TPFLAGS_HAVE_GC); untracking it is allowed at any time and
        // tp_dealloc's own untrack tolerates an untracked object.
        unsafe { pyo3::ffi::PyObject_GC_UnTrack(obj.as_ptr().cast()) };
        Ok(obj)
    }
}

#[pymethods]
impl RawAuditMessage {
    #[new]
    fn new(py: Python<'_>, r#type: u16, data: &[u8]) -> PyResult<Self> {
        Self::build(py, r#type, data)
    }

    #[getter]
    fn r#type(&self, py: Python<'_>) -> Py<PyAny> {
        self.type_obj.clone_ref(py)
    }

    #[getter]
    fn data(&self, py: Python<'_>) -> Py<PyBytes> {
        self.data.clone_ref(py)
    }

    fn __repr__(&self, py: Python<'_>) -> PyResult<String> {
        Ok(format!(
            "RawAuditMessage(type={}, data={})",
            self.type_obj.bind(py).repr()?,
            self.data.bind(py).repr()?
        ))
    }

    fn __eq__(&self, py: Python<'_>, other: &Bound<'_, PyAny>) -> bool {
        match other.cast::<RawAuditMessage>() {
            Ok(o) => {
                let o = o.get();
                self.number == o.number
                    && self.data.bind(py).as_bytes() == o.data.bind(py).as_bytes()
            }
            Err(_) => false,
        }
    }

    fn __hash__(&self, py: Python<'_>) -> PyResult<isize> {
        (self.number, self.data.bind(py)).into_pyobject(py)?.hash()
    }

    fn __reduce__(&self, py: Python<'_>) -> PyResult<Reduced> {
        let cls = py.get_type::<RawAuditMessage>().into_any().unbind();
        Ok((cls, (self.number, self.data.clone_ref(py))))
    }
}

/// One netlink message: `NetlinkMessage(type, flags, seq, pid, data)`.
#[pyclass(
    module = "auditlink",
    name = "NetlinkMessage",
    frozen,
    eq,
    hash,
    get_all
)]
#[derive(PartialEq, Eq, Hash)]
pub struct PyNetlinkMessage {
    r#type: u16,
    flags: u16,
    seq: u32,
    pid: u32,
    data: Vec<u8>,
}

impl From<NetlinkMessage> for PyNetlinkMessage {
    fn from(m: NetlinkMessage) -> Self {
        PyNetlinkMessage {
            r#type: m.msg_type,
            flags: m.flags,
            seq: m.seq,
            pid: m.pid,
            data: m.payload,
        }
    }
}

#[pymethods]
impl PyNetlinkMessage {
    #[new]
    #[pyo3(signature = (r#type, flags, seq, pid, data))]
    fn new(r#type: u16, flags: u16, seq: u32, pid: u32, data: Vec<u8>) -> Self {
        PyNetlinkMessage {
            r#type,
            flags,
            seq,
            pid,
            data,
        }
    }

    #[getter(data)]
    fn data_bytes<'py>(&self, py: Python<'py>) -> Bound<'py, PyBytes> {
        PyBytes::new(py, &self.data)
    }

    fn __repr__(&self, py: Python<'_>) -> String {
        format!(
            "NetlinkMessage(type={}, flags={:#x}, seq={}, pid={}, data={})",
            self.r#type,
            self.flags,
            self.seq,
            self.pid,
            PyBytes::new(py, &self.data)
                .repr()
                .map(|r| r.to_string())
                .unwrap_or_default()
        )
    }
}

// ------------------------------------------------------------ status codec

/// Decode a `struct audit_status` into its 11 fields (see the core decoder).
#[pyfunction]
fn status_from_bytes<'py>(py: Python<'py>, data: &[u8]) -> PyResult<Bound<'py, PyTuple>> {
    let s = AuditStatus::from_bytes(data).map_err(|e| PyValueError::new_err(e.to_string()))?;
    PyTuple::new(py, s.to_words())
}

/// Encode 11 fields as the 44-byte layout.
#[pyfunction]
fn status_to_bytes<'py>(py: Python<'py>, fields: [u32; 11]) -> Bound<'py, PyBytes> {
    PyBytes::new(py, &AuditStatus::from_words(fields).to_bytes())
}

/// The errno carried by an NLMSG_ERROR payload (None for an ack or a
/// non-negative value) and the request sequence number it answers.
#[pyfunction]
fn netlink_error_errno(data: &[u8]) -> PyResult<(Option<i32>, Option<u32>)> {
    let ack = NetlinkAck::parse(data).map_err(|e| PyValueError::new_err(e.to_string()))?;
    Ok((ack.errno(), ack.request.map(|h| h.seq)))
}

// ------------------------------------------------------------ audit client

/// Native half of `auditlink.AuditClient`. Frozen: every method takes
/// `&self`, so threads can use one client at once (see the core's contract).
#[pyclass(module = "auditlink._native", name = "AuditClient", frozen)]
pub struct PyAuditClient {
    pub(crate) inner: Mutex<Option<Arc<AuditClient>>>,
    /// Overruns already reported through `logging`.
    logged_overruns: AtomicU64,
}

impl PyAuditClient {
    /// The live core client, or the "closed" error.
    pub(crate) fn client(&self) -> PyResult<Arc<AuditClient>> {
        self.inner
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .as_ref()
            .filter(|c| !c.is_closed())
            .cloned()
            .ok_or_else(|| Error::Closed.into())
    }

    fn wrap(client: AuditClient) -> Self {
        PyAuditClient {
            inner: Mutex::new(Some(Arc::new(client))),
            logged_overruns: AtomicU64::new(0),
        }
    }

    /// Report new ENOBUFS overruns through the `auditlink` logger. The stream
    /// goes on: an overrun means the kernel dropped records for this socket.
    fn log_overruns(&self, py: Python<'_>, c: &AuditClient) -> PyResult<()> {
        let now = c.overruns();
        let before = self.logged_overruns.swap(now, Ordering::Relaxed);
        if now > before {
            let logger = py
                .import("logging")?
                .call_method1("getLogger", ("auditlink",))?;
            logger.call_method1(
                "warning",
                (
                    "netlink receive buffer overran (ENOBUFS, %d new, %d total): the kernel dropped \
                     records for this socket; raise receive_buffer_size or read faster",
                    now - before,
                    now,
                ),
            )?;
        }
        Ok(())
    }

    /// Run a short request with the GIL released.
    pub(crate) fn call<T: Send>(
        &self,
        py: Python<'_>,
        f: impl FnOnce(&AuditClient) -> crate::Result<T> + Send,
    ) -> PyResult<T> {
        let c = self.client()?;
        Ok(py.detach(|| f(&c))?)
    }
}

fn options(
    groups: u32,
    receive_buffer_size: Option<usize>,
    read_buffer_size: Option<usize>,
    timeout: f64,
) -> PyResult<ClientOptions> {
    let reply_timeout = common::duration(timeout, "timeout")?;
    if reply_timeout.is_zero() {
        return Err(PyValueError::new_err("timeout must be > 0"));
    }
    Ok(ClientOptions {
        groups,
        receive_buffer_size,
        read_buffer_size: read_buffer_size.unwrap_or(core::DEFAULT_READ_BUFFER),
        reply_timeout,
        ..ClientOptions::default()
    })
}

#[pymethods]
impl PyAuditClient {
    #[new]
    #[pyo3(signature = (tee=None, *, groups=0, receive_buffer_size=None, read_buffer_size=None, timeout=5.0))]
    fn new(
        py: Python<'_>,
        tee: Option<Py<PyAny>>,
        groups: u32,
        receive_buffer_size: Option<usize>,
        read_buffer_size: Option<usize>,
        timeout: f64,
    ) -> PyResult<Self> {
        let opts = options(groups, receive_buffer_size, read_buffer_size, timeout)?;
        let tee = tee_hook(tee);
        let client = py.detach(|| AuditClient::open(opts, tee))?;
        Ok(Self::wrap(client))
    }

    /// A client on one end of a socketpair driven by `auditlink.testing.FakeKernel`.
    #[staticmethod]
    #[pyo3(signature = (fd, port_id, tee=None, *, receive_buffer_size=None, read_buffer_size=None, timeout=5.0))]
    fn _over_socketpair(
        fd: i32,
        port_id: u32,
        tee: Option<Py<PyAny>>,
        receive_buffer_size: Option<usize>,
        read_buffer_size: Option<usize>,
        timeout: f64,
    ) -> PyResult<Self> {
        let opts = options(0, receive_buffer_size, read_buffer_size, timeout)?;
        let transport = Transport::Framed(FramedSocket::new(dup_fd(fd)?, port_id));
        let client = AuditClient::with_transport(transport, opts, tee_hook(tee))?;
        Ok(Self::wrap(client))
    }

    fn get_status<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyTuple>> {
        let s = self.call(py, |c| c.get_status())?;
        PyTuple::new(py, s.to_words())
    }

    #[pyo3(signature = (enabled, wait=true))]
    fn set_enabled(&self, py: Python<'_>, enabled: u32, wait: bool) -> PyResult<()> {
        self.call(py, |c| c.set_enabled(enabled, wait_mode(wait)))
    }

    #[pyo3(signature = (mode, wait=true))]
    fn set_failure(&self, py: Python<'_>, mode: u32, wait: bool) -> PyResult<()> {
        self.call(py, |c| c.set_failure(mode, wait_mode(wait)))
    }

    #[pyo3(signature = (wait=true))]
    fn set_pid(&self, py: Python<'_>, wait: bool) -> PyResult<()> {
        self.call(py, |c| c.set_pid(wait_mode(wait)))
    }

    #[pyo3(signature = (limit, wait=true))]
    fn set_rate_limit(&self, py: Python<'_>, limit: u32, wait: bool) -> PyResult<()> {
        self.call(py, |c| c.set_rate_limit(limit, wait_mode(wait)))
    }

    #[pyo3(signature = (limit, wait=true))]
    fn set_backlog_limit(&self, py: Python<'_>, limit: u32, wait: bool) -> PyResult<()> {
        self.call(py, |c| c.set_backlog_limit(limit, wait_mode(wait)))
    }

    #[pyo3(signature = (wait_time, wait=true))]
    fn set_backlog_wait_time(&self, py: Python<'_>, wait_time: u32, wait: bool) -> PyResult<()> {
        self.call(py, |c| c.set_backlog_wait_time(wait_time, wait_mode(wait)))
    }

    fn reset_lost(&self, py: Python<'_>) -> PyResult<u32> {
        self.call(py, |c| c.reset_lost())
    }

    fn reset_backlog_wait_time_actual(&self, py: Python<'_>) -> PyResult<u32> {
        self.call(py, |c| c.reset_backlog_wait_time_actual())
    }

    fn wait_for_pending_acks(&self, py: Python<'_>) -> PyResult<()> {
        self.call(py, |c| c.wait_for_pending_acks())
    }

    fn unregister(&self, py: Python<'_>) -> PyResult<()> {
        self.call(py, |c| c.unregister())
    }

    /// Raw AUDIT_SET: `status` is an encoded `struct audit_status`; only its
    /// `mask` bits count.
    #[pyo3(signature = (operation, status, wait=true))]
    fn set_status(
        &self,
        py: Python<'_>,
        operation: &str,
        status: &[u8],
        wait: bool,
    ) -> PyResult<u32> {
        let s =
            AuditStatus::from_bytes(status).map_err(|e| PyValueError::new_err(e.to_string()))?;
        let op = operation.to_string();
        self.call(py, move |c| c.set_status(&op, &s, wait_mode(wait)))
    }

    /// Low-level: send `msg_type` + `data`, wait for the ack; returns its value.
    #[pyo3(signature = (operation, msg_type, data, wait=true))]
    fn request_ack(
        &self,
        py: Python<'_>,
        operation: &str,
        msg_type: u16,
        data: &[u8],
        wait: bool,
    ) -> PyResult<u32> {
        let op = operation.to_string();
        self.call(py, move |c| {
            c.request_ack(&op, msg_type, data, wait_mode(wait))
        })
    }

    /// Low-level: a GET-style request; returns the payload of the one reply.
    fn request_reply<'py>(
        &self,
        py: Python<'py>,
        operation: &str,
        msg_type: u16,
        data: &[u8],
        reply_type: u16,
    ) -> PyResult<Bound<'py, PyBytes>> {
        let op = operation.to_string();
        let payload = self.call(py, move |c| {
            c.request_reply(&op, msg_type, data, reply_type)
        })?;
        Ok(PyBytes::new(py, &payload))
    }

    /// Low-level: a dump-style request; every reply up to NLMSG_DONE.
    fn request_dump(
        &self,
        py: Python<'_>,
        operation: &str,
        msg_type: u16,
        data: &[u8],
    ) -> PyResult<Vec<PyNetlinkMessage>> {
        let op = operation.to_string();
        let msgs = self.call(py, move |c| c.request_dump(&op, msg_type, data))?;
        Ok(msgs.into_iter().map(PyNetlinkMessage::from).collect())
    }

    #[pyo3(signature = (timeout=None))]
    fn receive(&self, py: Python<'_>, timeout: Option<f64>) -> PyResult<Option<RawAuditMessage>> {
        let c = self.client()?;
        let rec = sliced(py, common::timeout(timeout)?, |slice| {
            c.receive(Some(slice))
        })?;
        rec.map(|r| RawAuditMessage::build(py, r.msg_type, &r.payload))
            .transpose()
    }

    #[pyo3(signature = (max_messages=1024, timeout=None, *, linger=DEFAULT_LINGER), text_signature = "(self, max_messages=1024, timeout=None, *, linger=0.0005)")]
    fn receive_batch<'py>(
        &self,
        py: Python<'py>,
        max_messages: usize,
        timeout: Option<f64>,
        linger: f64,
    ) -> PyResult<Bound<'py, PyList>> {
        let c = self.client()?;
        let timeout = common::timeout(timeout)?;
        let linger = common::duration(linger, "linger")?;
        let mut batch = Batch::default();
        let batch_ref = &mut batch;
        sliced(py, timeout, |slice| {
            c.receive_batch(batch_ref, max_messages, Some(slice), linger)?;
            Ok::<_, Error>((!batch_ref.is_empty()).then_some(()))
        })?;
        self.log_overruns(py, &c)?;
        let messages = (0..batch.len())
            .filter_map(|i| batch.get(i))
            .map(|(t, data)| RawAuditMessage::new_untracked(py, t, data))
            .collect::<PyResult<Vec<_>>>()?;
        PyList::new(py, messages)
    }

    /// Counters since the client was opened.
    #[getter]
    fn stats<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let c = self.client()?;
        let s = c.stats();
        let d = PyDict::new(py);
        for (k, v) in [
            ("messages", s.messages),
            ("bytes", s.bytes),
            ("datagrams", s.datagrams),
            ("overruns", s.overruns),
            ("foreign_dropped", s.foreign_dropped),
            ("truncated", s.truncated),
            ("malformed", s.malformed),
            ("stale_replies", s.stale_replies),
            ("queue_dropped", s.queue_dropped),
        ] {
            d.set_item(k, v)?;
        }
        Ok(d)
    }

    fn fileno(&self) -> PyResult<i32> {
        Ok(self.client()?.fileno())
    }

    #[getter]
    fn port_id(&self) -> PyResult<u32> {
        Ok(self.client()?.port_id())
    }

    #[getter]
    fn closed(&self) -> bool {
        self.inner
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .as_ref()
            .is_none_or(|c| c.is_closed())
    }

    #[getter]
    fn registered(&self) -> bool {
        self.inner
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .as_ref()
            .is_some_and(|c| c.is_registered())
    }

    #[getter]
    fn receive_buffer_size(&self) -> PyResult<usize> {
        Ok(self.client()?.receive_buffer_size()?)
    }

    fn set_receive_buffer_size(&self, py: Python<'_>, size: usize) -> PyResult<usize> {
        self.call(py, |c| c.set_receive_buffer_size(size))
    }

    /// Unregister if this client registered itself, wake every waiting
    /// thread, and release the socket (once no thread uses it). Idempotent.
    fn close(&self, py: Python<'_>) -> PyResult<()> {
        let taken = self.inner.lock().unwrap_or_else(|p| p.into_inner()).take();
        match taken {
            Some(c) => Ok(py.detach(|| c.close())?),
            None => Ok(()),
        }
    }
}

// ----------------------------------------------------------- netlink client

#[pyclass(module = "auditlink._native", name = "NetlinkClient", frozen)]
pub struct PyNetlinkClient {
    inner: Mutex<Option<Arc<NetlinkClient>>>,
}

impl PyNetlinkClient {
    fn client(&self) -> PyResult<Arc<NetlinkClient>> {
        self.inner
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
            .ok_or_else(|| Error::Closed.into())
    }
}

#[pymethods]
impl PyNetlinkClient {
    #[new]
    #[pyo3(signature = (protocol, groups=0, read_buffer_size=None, tee=None))]
    fn new(
        py: Python<'_>,
        protocol: u32,
        groups: u32,
        read_buffer_size: Option<usize>,
        tee: Option<Py<PyAny>>,
    ) -> PyResult<Self> {
        let tee = tee_hook(tee);
        let c = py.detach(|| NetlinkClient::open(protocol, groups, read_buffer_size, tee))?;
        Ok(PyNetlinkClient {
            inner: Mutex::new(Some(Arc::new(c))),
        })
    }

    #[staticmethod]
    #[pyo3(signature = (fd, port_id, read_buffer_size=None, tee=None))]
    fn _over_socketpair(
        fd: i32,
        port_id: u32,
        read_buffer_size: Option<usize>,
        tee: Option<Py<PyAny>>,
    ) -> PyResult<Self> {
        let transport = Transport::Framed(FramedSocket::new(dup_fd(fd)?, port_id));
        let c = NetlinkClient::with_transport(transport, read_buffer_size, tee_hook(tee))?;
        Ok(PyNetlinkClient {
            inner: Mutex::new(Some(Arc::new(c))),
        })
    }

    #[pyo3(signature = (msg_type, data=b"".as_slice(), flags=0x05), text_signature = "(self, msg_type, data=b'', flags=5)")]
    fn send(&self, py: Python<'_>, msg_type: u16, data: &[u8], flags: u16) -> PyResult<u32> {
        let c = self.client()?;
        Ok(py.detach(|| c.send(msg_type, flags, data))?)
    }

    #[pyo3(signature = (timeout=None))]
    fn receive(&self, py: Python<'_>, timeout: Option<f64>) -> PyResult<Vec<PyNetlinkMessage>> {
        let c = self.client()?;
        let msgs = sliced(py, common::timeout(timeout)?, |slice| {
            c.receive(Some(slice))
        })?;
        Ok(msgs
            .unwrap_or_default()
            .into_iter()
            .map(PyNetlinkMessage::from)
            .collect())
    }

    #[getter]
    fn port_id(&self) -> PyResult<u32> {
        Ok(self.client()?.port_id())
    }

    #[getter]
    fn foreign_dropped(&self) -> PyResult<u64> {
        Ok(self.client()?.foreign_dropped())
    }

    #[getter]
    fn truncated(&self) -> PyResult<u64> {
        Ok(self.client()?.truncated())
    }

    fn fileno(&self) -> PyResult<i32> {
        Ok(self.client()?.fileno())
    }

    #[getter]
    fn closed(&self) -> bool {
        self.inner
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .is_none()
    }

    fn close(&self) {
        if let Some(c) = self.inner.lock().unwrap_or_else(|p| p.into_inner()).take() {
            c.shutdown();
        }
    }
}

pub(crate) fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<PyAuditClient>()?;
    m.add_class::<PyNetlinkClient>()?;
    m.add_class::<RawAuditMessage>()?;
    m.add_class::<PyNetlinkMessage>()?;
    m.add_function(wrap_pyfunction!(status_from_bytes, m)?)?;
    m.add_function(wrap_pyfunction!(status_to_bytes, m)?)?;
    m.add_function(wrap_pyfunction!(netlink_error_errno, m)?)?;
    m.add("AUDIT_GET", msg::GET)?;
    m.add("AUDIT_SET", msg::SET)?;
    m.add("NETLINK_AUDIT", core::NETLINK_AUDIT)?;
    m.add("AUDIT_MESSAGE_MAX_LENGTH", core::AUDIT_MESSAGE_MAX_LENGTH)?;
    m.add("AUDIT_NLGRP_READLOG", core::AUDIT_NLGRP_READLOG)?;
    Ok(())
}
