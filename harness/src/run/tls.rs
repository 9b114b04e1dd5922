//! HTTPS in a run (facts §6.4; DMRD-6.1.1.5-1, DMRD-6.3.1.2-4, DMRD-6.3.4-14): two test
//! CAs made afresh in the run's scratch folder (no key is ever kept), and the tester
//! server's TLS acceptor, which counts the ClientHellos it receives so a scenario can tell
//! "the client refused our certificate" from "the client never tried".
//!
//! - `trusted`: its server certificate (for `127.0.0.1` and `localhost`) is what the tester
//!   server and a spawned reference server present; its CA certificate is what the client
//!   under test (`bootstrap` value `server_ca`) and the tester's device trust.
//! - `other`: an unrelated CA; the tester server presents its server certificate when a
//!   scenario needs a certificate the client must not trust.

use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use dm_server::tls::{generate_test_ca, TestCa, TlsFiles};

use super::world::Why;

/// The names in the servers' certificates: the loopback address the harness listens on.
const NAMES: [&str; 2] = ["127.0.0.1", "localhost"];

/// The test CAs of one run.
#[derive(Debug, Clone)]
pub struct RunTls {
    /// The CA every peer of the run trusts, and its server certificate.
    pub trusted: TestCa,
    /// A CA nobody trusts, and its server certificate.
    pub other: TestCa,
}

impl RunTls {
    /// Make both CAs under `dir`.
    pub fn generate(dir: &Path) -> Result<Self, String> {
        let names: Vec<String> = NAMES.iter().map(|n| (*n).to_owned()).collect();
        let make = |sub: &str| {
            generate_test_ca(&dir.join(sub), &names)
                .map_err(|e| format!("cannot make the run's test CA: {e}"))
        };
        Ok(RunTls {
            trusted: make("trusted")?,
            other: make("other")?,
        })
    }
}

/// A TLS acceptor presenting `ca`'s server certificate, and the number of ClientHellos it
/// has seen (each is a TLS handshake a client started, whether or not it finished).
pub fn counting_acceptor(
    ca: &TestCa,
) -> Result<(tokio_rustls::TlsAcceptor, Arc<AtomicUsize>), Why> {
    let config = dm_server::tls::server_config(&TlsFiles {
        cert: ca.server_cert.clone(),
        key: ca.server_key.clone(),
        client_ca: None,
    })
    .map_err(|e| Why::Error(format!("cannot set up the tester's TLS: {e}")))?;
    let hellos = Arc::new(AtomicUsize::new(0));
    let mut config = (*config).clone();
    config.cert_resolver = Arc::new(CountingResolver {
        inner: config.cert_resolver.clone(),
        hellos: hellos.clone(),
    });
    Ok((tokio_rustls::TlsAcceptor::from(Arc::new(config)), hellos))
}

/// Picks the certificate as before, counting each ClientHello.
#[derive(Debug)]
struct CountingResolver {
    inner: Arc<dyn rustls::server::ResolvesServerCert>,
    hellos: Arc<AtomicUsize>,
}

impl rustls::server::ResolvesServerCert for CountingResolver {
    fn resolve(
        &self,
        hello: rustls::server::ClientHello<'_>,
    ) -> Option<Arc<rustls::sign::CertifiedKey>> {
        self.hellos.fetch_add(1, Ordering::Relaxed);
        self.inner.resolve(hello)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn the_two_cas_differ_and_hold_every_file() {
        let dir = tempfile::tempdir().unwrap();
        let tls = RunTls::generate(dir.path()).unwrap();
        let read = |p: &std::path::Path| std::fs::read_to_string(p).unwrap();
        assert_ne!(read(&tls.trusted.ca_cert), read(&tls.other.ca_cert));
        assert!(read(&tls.trusted.server_cert).contains("BEGIN CERTIFICATE"));
        assert!(read(&tls.other.server_key).contains("PRIVATE KEY"));
        let (_, hellos) = counting_acceptor(&tls.trusted).unwrap();
        assert_eq!(hellos.load(Ordering::Relaxed), 0);
    }
}
