//! HTTPS in a run (facts §6.4; DMRD-6.1.1.5-1, DMRD-6.3.1.2-4, DMRD-6.3.4-14; docs/tls.md).
//!
//! [`RunTls`] is the run's test PKI. It is made afresh in the run's scratch folder, and no
//! key is kept after the run:
//! - the **trusted CA** (every peer of the run trusts it) with a server certificate for
//!   `127.0.0.1` and `localhost`, and one for another host name;
//! - an **untrusted CA** with a server certificate for `127.0.0.1` and `localhost`.
//!
//! [`TesterTls`] is the tester server's TLS front. It presents one of the three certificates
//! (a scenario switches them) and does the handshake itself, so it can record how each
//! connection ended: completed, refused by the client with a certificate alert, not TLS at
//! all (cleartext), or failed otherwise. A scenario can then tell "the client refused our
//! certificate" from "the client never tried" and from "the client sent cleartext".

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::{Arc, Mutex};

use rcgen::{
    BasicConstraints, CertificateParams, CertifiedIssuer, DnType, ExtendedKeyUsagePurpose, IsCa,
    KeyPair, KeyUsagePurpose,
};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::sign::CertifiedKey;

use super::world::Why;

/// The names the harness's servers listen under.
const LOOPBACK: [&str; 2] = ["127.0.0.1", "localhost"];

/// The name of the certificate no client may accept at `127.0.0.1`.
pub const WRONG_NAME: &str = "wrong-name.dmconf.invalid";

/// A certificate and its key, PEM files.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Issued {
    /// The certificate.
    pub cert: PathBuf,
    /// Its private key.
    pub key: PathBuf,
}

/// The test PKI of one run.
#[derive(Debug, Clone)]
pub struct RunTls {
    /// The trusted CA's certificate: what clients are told to trust (`server_ca`).
    pub ca: PathBuf,
    /// Issued by the trusted CA for the loopback names.
    pub server: Issued,
    /// Issued by the trusted CA for [`WRONG_NAME`] only.
    pub wrong_name: Issued,
    /// Issued for the loopback names by a CA nobody is told to trust.
    pub untrusted: Issued,
}

fn generate_err(e: impl std::fmt::Display) -> String {
    format!("cannot make the run's test PKI: {e}")
}

fn write(path: PathBuf, text: &str) -> Result<PathBuf, String> {
    std::fs::write(&path, text)
        .map_err(|e| generate_err(format!("cannot write {}: {e}", path.display())))?;
    Ok(path)
}

/// A self-signed CA called `cn`.
fn ca(cn: &str) -> Result<CertifiedIssuer<'static, KeyPair>, String> {
    let mut params = CertificateParams::new(Vec::<String>::new()).map_err(generate_err)?;
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    params.distinguished_name.push(DnType::CommonName, cn);
    params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    let key = KeyPair::generate().map_err(generate_err)?;
    CertifiedIssuer::self_signed(params, key).map_err(generate_err)
}

/// A server certificate for `names` issued by `ca`, written as `<stem>.pem` and `<stem>.key`.
fn issue(
    ca: &CertifiedIssuer<'static, KeyPair>,
    names: &[&str],
    cn: &str,
    dir: &Path,
    stem: &str,
) -> Result<Issued, String> {
    let mut params =
        CertificateParams::new(names.iter().map(|n| (*n).to_owned()).collect::<Vec<_>>())
            .map_err(generate_err)?;
    params.distinguished_name.push(DnType::CommonName, cn);
    params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
    let key = KeyPair::generate().map_err(generate_err)?;
    let cert = params.signed_by(&key, ca).map_err(generate_err)?;
    Ok(Issued {
        cert: write(dir.join(format!("{stem}.pem")), &cert.pem())?,
        key: write(dir.join(format!("{stem}.key")), &key.serialize_pem())?,
    })
}

impl RunTls {
    /// Make the PKI under `dir`.
    pub fn generate(dir: &Path) -> Result<Self, String> {
        std::fs::create_dir_all(dir)
            .map_err(|e| generate_err(format!("cannot create {}: {e}", dir.display())))?;
        let trusted = ca("dmconf run test CA (trusted)")?;
        let untrusted = ca("dmconf run test CA (NOT trusted)")?;
        Ok(RunTls {
            ca: write(dir.join("ca.pem"), &trusted.pem())?,
            server: issue(&trusted, &LOOPBACK, "dmconf tester", dir, "server")?,
            wrong_name: issue(
                &trusted,
                &[WRONG_NAME],
                "dmconf tester (wrong host name)",
                dir,
                "wrong-name",
            )?,
            untrusted: issue(
                &untrusted,
                &LOOPBACK,
                "dmconf tester (untrusted CA)",
                dir,
                "untrusted",
            )?,
        })
    }
}

/// Which certificate the tester server presents.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Presented {
    /// The trusted CA's certificate for the loopback names: a client must accept it.
    Trusted,
    /// A certificate from the CA nobody was told to trust.
    UntrustedCa,
    /// The trusted CA's certificate for another host name.
    WrongName,
}

impl Presented {
    fn index(self) -> u8 {
        match self {
            Presented::Trusted => 0,
            Presented::UntrustedCa => 1,
            Presented::WrongName => 2,
        }
    }

    fn from_index(i: u8) -> Self {
        match i {
            1 => Presented::UntrustedCa,
            2 => Presented::WrongName,
            _ => Presented::Trusted,
        }
    }

    /// In words, for reasons.
    pub fn describe(self) -> &'static str {
        match self {
            Presented::Trusted => "the trusted CA's certificate for 127.0.0.1",
            Presented::UntrustedCa => {
                "a certificate for 127.0.0.1 from a CA the client was not told to trust"
            }
            Presented::WrongName => "a certificate from the trusted CA for another host name",
        }
    }
}

/// How one connection to the tester's TLS endpoint began.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Handshake {
    /// The handshake completed while the tester presented this certificate.
    Completed(Presented),
    /// The client ended the handshake with a certificate alert (it refused the certificate).
    Refused(Presented, String),
    /// The first bytes were not TLS: the client spoke cleartext to the TLS port.
    NotTls(String),
    /// The handshake failed otherwise (no common protocol, the connection closed, time-out).
    Failed(Presented, String),
}

/// Picks the certificate the scenario chose.
#[derive(Debug)]
struct SwitchingResolver {
    keys: [Arc<CertifiedKey>; 3],
    presented: Arc<AtomicU8>,
}

impl rustls::server::ResolvesServerCert for SwitchingResolver {
    fn resolve(&self, _hello: rustls::server::ClientHello<'_>) -> Option<Arc<CertifiedKey>> {
        let i = usize::from(self.presented.load(Ordering::Relaxed)).min(2);
        Some(self.keys[i].clone())
    }
}

fn certified_key(issued: &Issued) -> Result<Arc<CertifiedKey>, Why> {
    let err = |what: &Path, e: &dyn std::fmt::Display| {
        Why::Error(format!(
            "cannot load the tester's TLS material {}: {e}",
            what.display()
        ))
    };
    let pem = std::fs::read(&issued.cert).map_err(|e| err(&issued.cert, &e))?;
    let chain = CertificateDer::pem_slice_iter(&pem)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| err(&issued.cert, &e))?;
    let key = PrivateKeyDer::from_pem_file(&issued.key).map_err(|e| err(&issued.key, &e))?;
    let signer =
        rustls::crypto::ring::sign::any_supported_type(&key).map_err(|e| err(&issued.key, &e))?;
    Ok(Arc::new(CertifiedKey::new(chain, signer)))
}

/// The tester server's TLS endpoint: see the module documentation.
pub struct TesterTls {
    acceptor: tokio_rustls::TlsAcceptor,
    presented: Arc<AtomicU8>,
    log: Mutex<Vec<Handshake>>,
}

impl std::fmt::Debug for TesterTls {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TesterTls")
            .field("presented", &self.presented())
            .finish_non_exhaustive()
    }
}

/// rustls alerts by which a client says it does not accept the certificate.
fn is_certificate_alert(a: rustls::AlertDescription) -> bool {
    use rustls::AlertDescription as A;
    matches!(
        a,
        A::BadCertificate
            | A::UnsupportedCertificate
            | A::CertificateRevoked
            | A::CertificateExpired
            | A::CertificateUnknown
            | A::UnknownCA
            | A::AccessDenied
            | A::DecryptError
    )
}

/// How a failed handshake ended, from the error tokio-rustls gives.
fn classify(e: &std::io::Error, presented: Presented) -> Handshake {
    match e
        .get_ref()
        .and_then(|inner| inner.downcast_ref::<rustls::Error>())
    {
        Some(rustls::Error::AlertReceived(a)) if is_certificate_alert(*a) => {
            Handshake::Refused(presented, format!("alert {a:?}"))
        }
        Some(rustls::Error::InvalidMessage(m)) => {
            Handshake::NotTls(format!("the first bytes were not a TLS record ({m:?})"))
        }
        Some(other) => Handshake::Failed(presented, other.to_string()),
        None => Handshake::Failed(presented, e.to_string()),
    }
}

impl TesterTls {
    /// The endpoint for `run`'s certificates, presenting the trusted one.
    pub fn new(run: &RunTls) -> Result<Self, Why> {
        let presented = Arc::new(AtomicU8::new(0));
        let resolver = SwitchingResolver {
            keys: [
                certified_key(&run.server)?,
                certified_key(&run.untrusted)?,
                certified_key(&run.wrong_name)?,
            ],
            presented: presented.clone(),
        };
        let mut config = rustls::ServerConfig::builder_with_provider(Arc::new(
            rustls::crypto::ring::default_provider(),
        ))
        .with_safe_default_protocol_versions()
        .map_err(|e| Why::Error(format!("the tester's TLS configuration: {e}")))?
        .with_no_client_auth()
        .with_cert_resolver(Arc::new(resolver));
        config.alpn_protocols = vec![b"http/1.1".to_vec()];
        Ok(TesterTls {
            acceptor: tokio_rustls::TlsAcceptor::from(Arc::new(config)),
            presented,
            log: Mutex::new(Vec::new()),
        })
    }

    /// Present `p` from the next handshake on.
    pub fn present(&self, p: Presented) {
        self.presented.store(p.index(), Ordering::Relaxed);
    }

    /// The certificate presented now.
    pub fn presented(&self) -> Presented {
        Presented::from_index(self.presented.load(Ordering::Relaxed))
    }

    /// Every handshake so far, in the order they ended.
    pub fn handshakes(&self) -> Vec<Handshake> {
        match self.log.lock() {
            Ok(l) => l.clone(),
            Err(p) => p.into_inner().clone(),
        }
    }

    fn record(&self, h: Handshake) {
        match self.log.lock() {
            Ok(mut l) => l.push(h),
            Err(p) => p.into_inner().push(h),
        }
    }

    /// Accept connections on `listener` until the task is dropped: the handshake here (its
    /// outcome recorded), then HTTP on the TLS stream as `dm-server`'s endpoint serves it.
    pub async fn serve(
        self: Arc<Self>,
        listener: tokio::net::TcpListener,
        config: dm_server::endpoint::EndpointConfig,
        backend: Arc<dyn dm_server::endpoint::Backend>,
    ) {
        let config = Arc::new(config);
        loop {
            let Ok((tcp, peer)) = listener.accept().await else {
                tokio::time::sleep(std::time::Duration::from_millis(20)).await;
                continue;
            };
            // No Nagle: the handshake's small writes must not wait for delayed ACKs.
            let _ = tcp.set_nodelay(true);
            let (me, config, backend) = (self.clone(), config.clone(), backend.clone());
            tokio::spawn(async move { me.connection(tcp, peer, config, backend).await });
        }
    }

    async fn connection(
        &self,
        tcp: tokio::net::TcpStream,
        peer: SocketAddr,
        config: Arc<dm_server::endpoint::EndpointConfig>,
        backend: Arc<dyn dm_server::endpoint::Backend>,
    ) {
        let presented = self.presented();
        match tokio::time::timeout(config.read_timeout, self.acceptor.accept(tcp)).await {
            Ok(Ok(stream)) => {
                self.record(Handshake::Completed(presented));
                dm_server::endpoint::serve_connection(stream, peer, config, backend).await;
            }
            Ok(Err(e)) => self.record(classify(&e, presented)),
            Err(_) => self.record(Handshake::Failed(
                presented,
                "the handshake did not finish in time".into(),
            )),
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn the_pki_has_two_cas_and_three_server_certificates() {
        let dir = tempfile::tempdir().unwrap();
        let tls = RunTls::generate(dir.path()).unwrap();
        let read = |p: &Path| std::fs::read_to_string(p).unwrap();
        assert!(read(&tls.ca).contains("BEGIN CERTIFICATE"));
        let certs = [&tls.server, &tls.wrong_name, &tls.untrusted];
        for (i, a) in certs.iter().enumerate() {
            assert!(read(&a.key).contains("PRIVATE KEY"));
            for b in &certs[i + 1..] {
                assert_ne!(read(&a.cert), read(&b.cert));
            }
        }
        let front = TesterTls::new(&tls).unwrap();
        assert_eq!(front.presented(), Presented::Trusted);
        front.present(Presented::WrongName);
        assert_eq!(front.presented(), Presented::WrongName);
        assert!(front.handshakes().is_empty());
    }

    #[test]
    fn certificate_alerts_are_refusals_and_bad_records_are_cleartext() {
        let io = |e: rustls::Error| std::io::Error::new(std::io::ErrorKind::InvalidData, e);
        let p = Presented::UntrustedCa;
        assert!(matches!(
            classify(
                &io(rustls::Error::AlertReceived(
                    rustls::AlertDescription::UnknownCA
                )),
                p
            ),
            Handshake::Refused(Presented::UntrustedCa, _)
        ));
        assert!(matches!(
            classify(
                &io(rustls::Error::InvalidMessage(
                    rustls::InvalidMessage::InvalidContentType
                )),
                p
            ),
            Handshake::NotTls(_)
        ));
        assert!(matches!(
            classify(&io(rustls::Error::NoApplicationProtocol), p),
            Handshake::Failed(..)
        ));
        assert!(matches!(
            classify(&std::io::Error::from(std::io::ErrorKind::UnexpectedEof), p),
            Handshake::Failed(..)
        ));
    }
}
