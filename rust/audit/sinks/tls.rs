//! TLS settings shared by the network sinks (`ca_file`, `cert_file`, `key_file`): loading the PEM files with clear errors, the rustls client config, and the wording of handshake failures.
//!
//! The keys are the OpenTelemetry collector's `tls` keys, so a site's
//! collector config reads the same. Everything is checked when the sink
//! starts (unreadable file, no certificate in it, a key that does not belong
//! to the certificate): a broken TLS setup is a start-up error, never a silent
//! fallback to cleartext. Verification of the far end happens per connection
//! and its failure is reported in the sink's `last_error`.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName};
use serde::Deserialize;

use crate::error::{Error, Result};

/// The TLS keys of a `[[sink]]` table.
#[derive(Debug, Clone, Default, Deserialize, PartialEq, Eq)]
pub struct TlsFiles {
    /// PEM file of the CA(s) that may sign the server's certificate
    /// (default: the Mozilla root set).
    #[serde(default)]
    pub ca_file: Option<PathBuf>,
    /// PEM file of this host's client certificate (chain, leaf first), for
    /// servers that require one; needs `key_file`.
    #[serde(default)]
    pub cert_file: Option<PathBuf>,
    /// PEM file of the client certificate's private key (PKCS#8, PKCS#1 or SEC1).
    #[serde(default)]
    pub key_file: Option<PathBuf>,
}

/// What [`TlsFiles::load`] read: DER certificates and key.
pub struct TlsMaterial {
    /// The configured CAs; empty means "the Mozilla roots".
    pub roots: Vec<CertificateDer<'static>>,
    pub client: Option<(Vec<CertificateDer<'static>>, PrivateKeyDer<'static>)>,
}

fn invalid(sink: &str, msg: String) -> Error {
    Error::InvalidArgument(format!("{sink} sink: {msg}"))
}

fn read_certs(sink: &str, key: &str, path: &Path) -> Result<Vec<CertificateDer<'static>>> {
    let what = |e: &dyn std::fmt::Display| invalid(sink, format!("{key} {}: {e}", path.display()));
    let certs = CertificateDer::pem_file_iter(path)
        .map_err(|e| what(&e))?
        .collect::<std::result::Result<Vec<_>, _>>()
        .map_err(|e| what(&e))?;
    if certs.is_empty() {
        return Err(what(&"holds no certificate"));
    }
    Ok(certs)
}

impl TlsFiles {
    /// Whether any key is set.
    pub fn is_set(&self) -> bool {
        self.ca_file.is_some() || self.cert_file.is_some() || self.key_file.is_some()
    }

    /// Read and check the files; `sink` names the sink type in errors.
    pub fn load(&self, sink: &str) -> Result<TlsMaterial> {
        let roots = match &self.ca_file {
            Some(p) => read_certs(sink, "ca_file", p)?,
            None => Vec::new(),
        };
        let client = match (&self.cert_file, &self.key_file) {
            (None, None) => None,
            (Some(_), None) | (None, Some(_)) => {
                return Err(invalid(
                    sink,
                    "cert_file and key_file go together (a client certificate needs its key)"
                        .into(),
                ))
            }
            (Some(cert), Some(key)) => {
                let chain = read_certs(sink, "cert_file", cert)?;
                let der = PrivateKeyDer::from_pem_file(key).map_err(|e| {
                    invalid(
                        sink,
                        format!("key_file {}: no private key: {e}", key.display()),
                    )
                })?;
                Some((chain, der))
            }
        };
        let material = TlsMaterial { roots, client };
        // Builds the client config once so a key that does not belong to the
        // certificate is refused here rather than at the first handshake.
        material.client_config(sink)?;
        Ok(material)
    }
}

impl TlsMaterial {
    /// A rustls client config (ring provider, TLS 1.2 and 1.3) trusting the
    /// configured CAs (or the Mozilla roots), with the client certificate if any.
    pub fn client_config(&self, sink: &str) -> Result<Arc<rustls::ClientConfig>> {
        let mut roots = rustls::RootCertStore::empty();
        if self.roots.is_empty() {
            roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
        } else {
            for c in &self.roots {
                roots
                    .add(c.clone())
                    .map_err(|e| invalid(sink, format!("ca_file: unusable CA certificate: {e}")))?;
            }
        }
        let builder = rustls::ClientConfig::builder_with_provider(Arc::new(
            rustls::crypto::ring::default_provider(),
        ))
        .with_safe_default_protocol_versions()
        .map_err(|e| invalid(sink, format!("TLS setup: {e}")))?
        .with_root_certificates(roots);
        let config = match &self.client {
            None => builder.with_no_client_auth(),
            Some((chain, key)) => builder
                .with_client_auth_cert(chain.clone(), key.clone_key())
                .map_err(|e| invalid(sink, format!("cert_file/key_file: {}", describe(&e))))?,
        };
        Ok(Arc::new(config))
    }
}

/// The name the server's certificate must carry: an IP address or a DNS name.
pub fn server_name(sink: &str, host: &str) -> Result<ServerName<'static>> {
    ServerName::try_from(host.to_owned())
        .map_err(|e| invalid(sink, format!("{host:?} is not a host name for TLS: {e}")))
}

/// A rustls error in words a site administrator acts on.
pub fn describe(e: &rustls::Error) -> String {
    use rustls::{AlertDescription, CertificateError, Error as E};
    match e {
        E::InvalidCertificate(CertificateError::UnknownIssuer) => {
            "server certificate not signed by a trusted CA (check ca_file)".into()
        }
        E::InvalidCertificate(CertificateError::NotValidForName)
        | E::InvalidCertificate(CertificateError::NotValidForNameContext { .. }) => {
            format!("server certificate is not valid for this host name ({e})")
        }
        E::InvalidCertificate(CertificateError::Expired)
        | E::InvalidCertificate(CertificateError::ExpiredContext { .. }) => {
            format!("server certificate has expired ({e})")
        }
        E::InvalidCertificate(_) => format!("server certificate refused: {e}"),
        E::AlertReceived(
            alert @ (AlertDescription::CertificateRequired
            | AlertDescription::BadCertificate
            | AlertDescription::UnknownCA
            | AlertDescription::CertificateUnknown
            | AlertDescription::AccessDenied),
        ) => format!(
            "the server refused the handshake with alert {alert:?} \
             (a server that requires a client certificate answers so when cert_file/key_file \
             are missing or not signed by a CA it trusts)"
        ),
        E::AlertReceived(alert) => format!("the server refused the handshake with alert {alert:?}"),
        E::InconsistentKeys(_) => {
            format!("the private key does not belong to the certificate ({e})")
        }
        _ => e.to_string(),
    }
}

/// An I/O error, with the TLS reason spelled out when rustls is behind it
/// (rustls hands its errors through `std::io` as `InvalidData`).
pub fn describe_io(e: &std::io::Error) -> String {
    match rustls_error(e) {
        Some(r) => format!("TLS: {}", describe(r)),
        None => e.to_string(),
    }
}

/// Like [`describe_io`], without the `TLS:` prefix (for messages that already say TLS).
pub fn reason_io(e: &std::io::Error) -> String {
    rustls_error(e).map_or_else(|| e.to_string(), describe)
}

fn rustls_error(e: &std::io::Error) -> Option<&rustls::Error> {
    e.get_ref()?.downcast_ref::<rustls::Error>()
}
