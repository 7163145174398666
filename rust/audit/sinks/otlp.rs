//! The `otlp` sink: OpenTelemetry logs over OTLP/HTTP with protobuf bodies, one log record per event, batched, retried as the OTLP spec says.
//!
//! Messages are the subset of opentelemetry-proto (collector/logs/v1,
//! logs/v1, common/v1, resource/v1) this sink sends, declared with prost's
//! derive using the upstream field numbers: the reply is decoded with them,
//! the request is written straight from the events by
//! [`super::otlp_encode`] with the same numbers. Retry rules from the OTLP/HTTP
//! spec: 429, 502, 503 and 504 are retryable (honouring `Retry-After`
//! seconds); any other non-2xx refuses the batch for good; a 2xx with
//! `partial_success.rejected_log_records` refuses that many.
//!
//! Up to `exports_in_flight` exports await their answers at once, each sent
//! by one of as many export threads (ureq is blocking; its agent pools the
//! connections); the worker settles the answers in order (see
//! [`super::worker`]), so the spool only moves past an export once it and
//! every earlier one were answered.

use std::collections::BTreeMap;
use std::sync::mpsc::{channel, Receiver, Sender};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use prost::Message;
use serde::Deserialize;

use super::otlp_encode::encode_request;
use super::tls::TlsFiles;
use super::worker::{Delivery, Retry, Transport};
use super::{ForwardEvent, SpoolConfig};
use crate::error::{Error, Result};

#[derive(Clone, PartialEq, Message)]
pub struct ExportLogsServiceRequest {
    #[prost(message, repeated, tag = "1")]
    pub resource_logs: Vec<ResourceLogs>,
}

#[derive(Clone, PartialEq, Message)]
pub struct ExportLogsServiceResponse {
    #[prost(message, optional, tag = "1")]
    pub partial_success: Option<ExportLogsPartialSuccess>,
}

#[derive(Clone, PartialEq, Message)]
pub struct ExportLogsPartialSuccess {
    #[prost(int64, tag = "1")]
    pub rejected_log_records: i64,
    #[prost(string, tag = "2")]
    pub error_message: String,
}

#[derive(Clone, PartialEq, Message)]
pub struct ResourceLogs {
    #[prost(message, optional, tag = "1")]
    pub resource: Option<Resource>,
    #[prost(message, repeated, tag = "2")]
    pub scope_logs: Vec<ScopeLogs>,
}

#[derive(Clone, PartialEq, Message)]
pub struct Resource {
    #[prost(message, repeated, tag = "1")]
    pub attributes: Vec<KeyValue>,
}

#[derive(Clone, PartialEq, Message)]
pub struct ScopeLogs {
    #[prost(message, optional, tag = "1")]
    pub scope: Option<InstrumentationScope>,
    #[prost(message, repeated, tag = "2")]
    pub log_records: Vec<LogRecord>,
}

#[derive(Clone, PartialEq, Message)]
pub struct InstrumentationScope {
    #[prost(string, tag = "1")]
    pub name: String,
    #[prost(string, tag = "2")]
    pub version: String,
}

#[derive(Clone, PartialEq, Message)]
pub struct LogRecord {
    #[prost(fixed64, tag = "1")]
    pub time_unix_nano: u64,
    #[prost(fixed64, tag = "11")]
    pub observed_time_unix_nano: u64,
    #[prost(int32, tag = "2")]
    pub severity_number: i32,
    #[prost(string, tag = "3")]
    pub severity_text: String,
    #[prost(message, optional, tag = "5")]
    pub body: Option<AnyValue>,
    #[prost(message, repeated, tag = "6")]
    pub attributes: Vec<KeyValue>,
}

#[derive(Clone, PartialEq, Message)]
pub struct KeyValue {
    #[prost(string, tag = "1")]
    pub key: String,
    #[prost(message, optional, tag = "2")]
    pub value: Option<AnyValue>,
}

#[derive(Clone, PartialEq, Message)]
pub struct AnyValue {
    #[prost(oneof = "any_value::Value", tags = "1, 3")]
    pub value: Option<any_value::Value>,
}

pub mod any_value {
    #[derive(Clone, PartialEq, prost::Oneof)]
    pub enum Value {
        #[prost(string, tag = "1")]
        StringValue(String),
        #[prost(int64, tag = "3")]
        IntValue(i64),
    }
}

/// A `[[sink]]` table with `type = "otlp"`.
#[derive(Debug, Clone, Deserialize, PartialEq)]
pub struct OtlpConfig {
    pub name: Option<String>,
    /// The full logs URL.
    #[serde(default = "default_endpoint")]
    pub endpoint: String,
    /// Extra HTTP headers (authentication tokens, tenant ids).
    #[serde(default)]
    pub headers: BTreeMap<String, String>,
    #[serde(default = "default_service_name")]
    pub service_name: String,
    /// `ca_file`, `cert_file`, `key_file` for `https://` endpoints.
    #[serde(flatten)]
    pub tls: TlsFiles,
    /// Seconds one export may take.
    #[serde(default = "default_timeout")]
    pub timeout: u64,
    /// Exports awaiting the collector's answer at once (1: each waits for
    /// the previous one's).
    #[serde(default = "default_exports_in_flight")]
    pub exports_in_flight: usize,
    #[serde(flatten)]
    pub spool: SpoolConfig,
}

fn default_endpoint() -> String {
    "http://127.0.0.1:4318/v1/logs".into()
}
fn default_service_name() -> String {
    "auditlink".into()
}
fn default_timeout() -> u64 {
    10
}
/// Enough to keep the collector and the sink busy at once on loopback
/// without flooding a remote collector.
fn default_exports_in_flight() -> usize {
    4
}
/// More in flight than this buys nothing but duplicates after a failure.
const MAX_EXPORTS_IN_FLIGHT: usize = 64;

impl OtlpConfig {
    pub(crate) fn retry(&self) -> Retry {
        Retry::from_secs(self.spool.network_retry_time, 0)
    }

    pub(crate) fn transport(&self) -> Result<OtlpLink> {
        if !(self.endpoint.starts_with("http://") || self.endpoint.starts_with("https://")) {
            return Err(Error::InvalidArgument(format!(
                "otlp sink: endpoint must be an http:// or https:// URL, not {:?}",
                self.endpoint
            )));
        }
        if !(1..=MAX_EXPORTS_IN_FLIGHT).contains(&self.exports_in_flight) {
            return Err(Error::InvalidArgument(format!(
                "otlp sink: exports_in_flight must be 1 to {MAX_EXPORTS_IN_FLIGHT}, not {}",
                self.exports_in_flight
            )));
        }
        let tls = ureq_tls(&self.tls)?;
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .timeout_global(Some(Duration::from_secs(self.timeout.max(1))))
            .http_status_as_error(false)
            .tls_config(tls)
            .build()
            .into();
        let exporter = Arc::new(Exporter {
            cfg: self.clone(),
            agent,
            host: super::local_hostname(),
        });
        let lanes = if self.exports_in_flight > 1 {
            // Named like the sink's own thread: its CPU is the sink's.
            let thread = format!("sink-{}", self.name.as_deref().unwrap_or("otlp"));
            Some(Lanes::start(
                &exporter,
                self.exports_in_flight,
                &thread,
                self.spool.nice,
            )?)
        } else {
            None
        };
        Ok(OtlpLink { exporter, lanes })
    }
}

/// ureq's TLS config from the sink's TLS files: the configured CAs (or
/// ureq's default, the Mozilla roots) and the client certificate, if any.
fn ureq_tls(files: &TlsFiles) -> Result<ureq::tls::TlsConfig> {
    use ureq::tls::{Certificate, ClientCert, PrivateKey, RootCerts};
    let mut tls = ureq::tls::TlsConfig::builder();
    if !files.is_set() {
        return Ok(tls.build());
    }
    let material = files.load("otlp")?;
    if !material.roots.is_empty() {
        let roots: Vec<_> = material
            .roots
            .iter()
            .map(|c| Certificate::from_der(c.as_ref()).to_owned())
            .collect();
        tls = tls.root_certs(RootCerts::new_with_certs(&roots));
    }
    if let (Some((chain, _)), Some(key_file)) = (&material.client, &files.key_file) {
        // ureq does not export its key-kind type, so the key is handed over
        // as PEM (already checked against the certificate by `load`).
        let pem = std::fs::read(key_file).map_err(|e| Error::io("read otlp key_file", e))?;
        let key = PrivateKey::from_pem(&pem).map_err(|e| {
            Error::InvalidArgument(format!("otlp sink: key_file {}: {e}", key_file.display()))
        })?;
        let chain: Vec<_> = chain
            .iter()
            .map(|c| Certificate::from_der(c.as_ref()).to_owned())
            .collect();
        tls = tls.client_cert(Some(ClientCert::new_with_certs(&chain, key)));
    }
    Ok(tls.build())
}

/// What one export needs: shared by the worker and the export threads.
pub(crate) struct Exporter {
    cfg: OtlpConfig,
    agent: ureq::Agent,
    host: String,
}

pub(crate) struct OtlpLink {
    exporter: Arc<Exporter>,
    /// The export threads, when more than one export may be in flight.
    lanes: Option<Lanes>,
}

/// Export threads taking numbered batches from one queue; answers come back
/// numbered and are handed out in number order.
struct Lanes {
    jobs: Option<Sender<(u64, Vec<ForwardEvent>)>>,
    answers: Receiver<(u64, Delivery)>,
    threads: Vec<JoinHandle<()>>,
    /// Number of the next batch handed over, and of the next answer due.
    next: u64,
    due: u64,
    /// Answers that came before an older one's.
    early: BTreeMap<u64, Delivery>,
}

impl Lanes {
    /// `n` export threads named `thread`, at the sink's `nice` value.
    fn start(exporter: &Arc<Exporter>, n: usize, thread: &str, nice: i32) -> Result<Lanes> {
        let (jobs, queue) = channel::<(u64, Vec<ForwardEvent>)>();
        let (answer, answers) = channel();
        let queue = Arc::new(Mutex::new(queue));
        let mut threads = Vec::with_capacity(n);
        for _ in 0..n {
            let (queue, answer, exporter) = (queue.clone(), answer.clone(), exporter.clone());
            let t = std::thread::Builder::new()
                .name(thread.to_owned())
                .spawn(move || {
                    crate::audit::affinity::set_this_thread_nice(nice);
                    loop {
                        let job = queue.lock().map(|q| q.recv());
                        let Ok(Ok((seq, events))) = job else { break };
                        // Encoded here, so the next batch is built while this
                        // one is on its way.
                        if answer.send((seq, exporter.export(events))).is_err() {
                            break;
                        }
                    }
                })
                .map_err(|e| Error::io("start otlp export thread", e))?;
            threads.push(t);
        }
        Ok(Lanes {
            jobs: Some(jobs),
            answers,
            threads,
            next: 0,
            due: 0,
            early: BTreeMap::new(),
        })
    }

    fn answer(&mut self) -> Delivery {
        let lost = || Delivery {
            error: Some("otlp export thread stopped".into()),
            ..Delivery::default()
        };
        if self.due == self.next {
            return lost();
        }
        let due = self.due;
        self.due += 1;
        loop {
            if let Some(d) = self.early.remove(&due) {
                return d;
            }
            match self.answers.recv() {
                Ok((seq, d)) if seq == due => return d,
                Ok((seq, d)) => {
                    self.early.insert(seq, d);
                }
                Err(_) => return lost(),
            }
        }
    }
}

impl Drop for Lanes {
    fn drop(&mut self) {
        // Closing the queue ends each thread after its current export.
        self.jobs = None;
        for t in self.threads.drain(..) {
            let _ = t.join();
        }
    }
}

/// Seconds of a `Retry-After` header (the HTTP-date form is not used by collectors).
fn retry_after(v: Option<&str>) -> Option<Duration> {
    v?.trim().parse::<u64>().ok().map(Duration::from_secs)
}

impl Transport for OtlpLink {
    fn connect(&mut self) -> std::result::Result<(), String> {
        // HTTP connections are made (and pooled) per request by the agent.
        Ok(())
    }

    fn deliver(&mut self, events: &[ForwardEvent]) -> Delivery {
        self.exporter.export(events.to_vec())
    }

    fn window(&self) -> usize {
        self.lanes.as_ref().map_or(1, |l| l.threads.len())
    }

    fn begin(&mut self, events: &mut Vec<ForwardEvent>) -> Option<Delivery> {
        let Some(lanes) = &mut self.lanes else {
            return Some(self.exporter.export(std::mem::take(events)));
        };
        let batch = std::mem::take(events);
        let sent = lanes.jobs.as_ref().map(|j| j.send((lanes.next, batch)));
        if !matches!(sent, Some(Ok(()))) {
            return Some(Delivery {
                error: Some("otlp export thread stopped".into()),
                ..Delivery::default()
            });
        }
        lanes.next += 1;
        None
    }

    fn answer(&mut self) -> Delivery {
        match &mut self.lanes {
            Some(lanes) => lanes.answer(),
            None => Delivery {
                error: Some("no export awaits an answer".into()),
                ..Delivery::default()
            },
        }
    }

    fn disconnect(&mut self) {}
}

impl Exporter {
    /// One export request for `events`, answered.
    fn export(&self, events: Vec<ForwardEvent>) -> Delivery {
        let mut d = Delivery::default();
        let n = events.len();
        let observed = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_nanos() as u64)
            .unwrap_or(0);
        let mut body = Vec::new();
        encode_request(
            &events,
            &self.host,
            &self.cfg.service_name,
            observed,
            &mut body,
        );
        drop(events);
        let mut req = self
            .agent
            .post(&self.cfg.endpoint)
            .header("Content-Type", "application/x-protobuf");
        for (k, v) in &self.cfg.headers {
            req = req.header(k, v);
        }
        let mut resp = match req.send(&body[..]) {
            Ok(r) => r,
            Err(e) => {
                let why = match &e {
                    ureq::Error::Rustls(r) => format!("TLS: {}", super::tls::describe(r)),
                    ureq::Error::Io(io) => super::tls::describe_io(io),
                    _ => e.to_string(),
                };
                d.error = Some(format!("POST {}: {why}", self.cfg.endpoint));
                return d;
            }
        };
        d.sent = n;
        let status = resp.status().as_u16();
        let wait = retry_after(
            resp.headers()
                .get("retry-after")
                .and_then(|v| v.to_str().ok()),
        );
        let reply = resp.body_mut().read_to_vec().unwrap_or_default();
        match status {
            200..=299 => {
                let rejected = ExportLogsServiceResponse::decode(&reply[..])
                    .ok()
                    .and_then(|r| r.partial_success)
                    .map(|p| {
                        if !p.error_message.is_empty() {
                            d.warning = Some(format!("collector: {}", p.error_message));
                        }
                        (p.rejected_log_records.max(0) as usize).min(n)
                    })
                    .unwrap_or(0);
                d.rejected = rejected;
                d.acked = n - rejected;
            }
            429 | 502 | 503 | 504 => {
                d.error = Some(format!("collector answered HTTP {status} (will retry)"));
                d.retry_after = wait;
            }
            _ => {
                // Not retryable: the collector will never take this batch.
                d.rejected = n;
                d.warning = Some(format!(
                    "collector refused a batch of {} with HTTP {status}: {}",
                    n,
                    String::from_utf8_lossy(&reply[..reply.len().min(200)])
                ));
            }
        }
        d
    }
}
