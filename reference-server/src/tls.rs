//! TLS for the DM endpoint (facts §6.4: DM 1.2 runs over HTTPS): rustls with the ring
//! provider, the certificate chain and key from PEM files, optional client-certificate
//! verification against a CA file, and a generated test CA for local runs (`dm-server
//! test-ca`), so no key is ever committed.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use rcgen::{
    BasicConstraints, CertificateParams, CertifiedIssuer, DnType, ExtendedKeyUsagePurpose, IsCa,
    KeyPair, KeyUsagePurpose,
};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};

/// Where the endpoint's TLS material is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TlsFiles {
    /// Certificate chain, leaf first (PEM).
    pub cert: PathBuf,
    /// The leaf's private key (PEM).
    pub key: PathBuf,
    /// When set, clients must present a certificate issued by this CA (PEM).
    pub client_ca: Option<PathBuf>,
}

/// Why TLS cannot be set up.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TlsError {
    /// A file is unreadable or holds no usable PEM block.
    #[error("{path}: {reason}")]
    File {
        /// The file.
        path: PathBuf,
        /// What is wrong and what to do.
        reason: String,
    },
    /// rustls refused the material (e.g. the key does not match the certificate).
    #[error("TLS configuration refused: {0}")]
    Config(String),
    /// Generating the test CA failed.
    #[error("cannot generate the test CA: {0}")]
    Generate(String),
}

fn read(path: &Path) -> Result<Vec<u8>, TlsError> {
    std::fs::read(path).map_err(|e| TlsError::File {
        path: path.to_owned(),
        reason: format!("cannot read it ({e}); check the path"),
    })
}

fn certs(path: &Path) -> Result<Vec<CertificateDer<'static>>, TlsError> {
    let list = CertificateDer::pem_slice_iter(&read(path)?)
        .collect::<Result<Vec<_>, _>>()
        .unwrap_or_default();
    if list.is_empty() {
        return Err(TlsError::File {
            path: path.to_owned(),
            reason: "no CERTIFICATE block found; give a PEM file".into(),
        });
    }
    Ok(list)
}

fn provider() -> Arc<rustls::crypto::CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

/// The rustls server configuration for `files` (HTTP/1.1 only).
pub fn server_config(files: &TlsFiles) -> Result<Arc<rustls::ServerConfig>, TlsError> {
    let chain = certs(&files.cert)?;
    let key = PrivateKeyDer::from_pem_slice(&read(&files.key)?).map_err(|e| TlsError::File {
        path: files.key.clone(),
        reason: format!("no usable PRIVATE KEY block ({e}); give the key as PEM"),
    })?;
    let builder = rustls::ServerConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()
        .map_err(|e| TlsError::Config(e.to_string()))?;
    let builder = match &files.client_ca {
        None => builder.with_no_client_auth(),
        Some(ca) => {
            let mut roots = rustls::RootCertStore::empty();
            for c in certs(ca)? {
                roots.add(c).map_err(|e| TlsError::File {
                    path: ca.clone(),
                    reason: format!("not a usable CA certificate ({e})"),
                })?;
            }
            let verifier = rustls::server::WebPkiClientVerifier::builder_with_provider(
                roots.into(),
                provider(),
            )
            .build()
            .map_err(|e| TlsError::Config(e.to_string()))?;
            builder.with_client_cert_verifier(verifier)
        }
    };
    let mut config = builder
        .with_single_cert(chain, key)
        .map_err(|e| TlsError::Config(e.to_string()))?;
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(Arc::new(config))
}

/// The files [`generate_test_ca`] wrote.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TestCa {
    /// The CA certificate: the trust anchor for devices (`[transport] trust_anchors`).
    pub ca_cert: PathBuf,
    /// The server certificate, for `--tls-cert`.
    pub server_cert: PathBuf,
    /// Its key, for `--tls-key`.
    pub server_key: PathBuf,
    /// A device (client) certificate for mutual TLS.
    pub client_cert: PathBuf,
    /// Its key.
    pub client_key: PathBuf,
}

/// Write a fresh test CA into `dir` with a server certificate for `names` (DNS names or IP
/// addresses) and a client certificate. For local runs and tests only: the keys are
/// unprotected files.
pub fn generate_test_ca(dir: &Path, names: &[String]) -> Result<TestCa, TlsError> {
    let gen = |e: rcgen::Error| TlsError::Generate(e.to_string());
    let write = |name: &str, text: String| -> Result<PathBuf, TlsError> {
        let path = dir.join(name);
        std::fs::write(&path, text).map_err(|e| TlsError::File {
            path: path.clone(),
            reason: format!("cannot write it ({e})"),
        })?;
        Ok(path)
    };
    std::fs::create_dir_all(dir).map_err(|e| TlsError::File {
        path: dir.to_owned(),
        reason: format!("cannot create it ({e})"),
    })?;
    let mut params = CertificateParams::new(Vec::<String>::new()).map_err(gen)?;
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    params
        .distinguished_name
        .push(DnType::CommonName, "dm-server test CA");
    params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    let ca =
        CertifiedIssuer::self_signed(params, KeyPair::generate().map_err(gen)?).map_err(gen)?;
    let issue = |names: Vec<String>, usage, cn: &str| -> Result<(String, String), TlsError> {
        let mut p = CertificateParams::new(names).map_err(gen)?;
        p.distinguished_name.push(DnType::CommonName, cn);
        p.extended_key_usages = vec![usage];
        let key = KeyPair::generate().map_err(gen)?;
        let cert = p.signed_by(&key, &*ca).map_err(gen)?;
        Ok((cert.pem(), key.serialize_pem()))
    };
    let (server_pem, server_key) = issue(
        names.to_vec(),
        ExtendedKeyUsagePurpose::ServerAuth,
        "dm-server",
    )?;
    let (client_pem, client_key) =
        issue(Vec::new(), ExtendedKeyUsagePurpose::ClientAuth, "dm-device")?;
    Ok(TestCa {
        ca_cert: write("ca.pem", ca.pem())?,
        server_cert: write("server.pem", server_pem)?,
        server_key: write("server.key", server_key)?,
        client_cert: write("client.pem", client_pem)?,
        client_key: write("client.key", client_key)?,
    })
}
