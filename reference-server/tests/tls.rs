#![allow(clippy::unwrap_used, clippy::expect_used)]
//! TLS material for the endpoint: the generated test CA is usable, and bad files are named
//! in the error.

use dm_server::tls::{generate_test_ca, server_config, TlsError, TlsFiles};

#[test]
fn generated_test_ca_builds_a_server_config_with_and_without_client_auth() {
    let dir = tempfile::tempdir().unwrap();
    let ca = generate_test_ca(dir.path(), &["localhost".into(), "127.0.0.1".into()]).unwrap();
    for client_ca in [None, Some(ca.ca_cert.clone())] {
        let cfg = server_config(&TlsFiles {
            cert: ca.server_cert.clone(),
            key: ca.server_key.clone(),
            client_ca,
        })
        .unwrap();
        assert_eq!(cfg.alpn_protocols, vec![b"http/1.1".to_vec()]);
    }
    let pem = std::fs::read_to_string(&ca.client_cert).unwrap();
    assert!(pem.starts_with("-----BEGIN CERTIFICATE-----"));
}

#[test]
fn bad_files_are_named() {
    let dir = tempfile::tempdir().unwrap();
    let ca = generate_test_ca(dir.path(), &["localhost".into()]).unwrap();
    let garbage = dir.path().join("garbage.pem");
    std::fs::write(&garbage, "not pem").unwrap();
    let cases = [
        (
            dir.path().join("missing.pem"),
            ca.server_key.clone(),
            "missing.pem",
        ),
        (garbage.clone(), ca.server_key.clone(), "garbage.pem"),
        (ca.server_cert.clone(), garbage.clone(), "garbage.pem"),
    ];
    for (cert, key, needle) in cases {
        let err = server_config(&TlsFiles {
            cert,
            key,
            client_ca: None,
        })
        .unwrap_err();
        assert!(matches!(err, TlsError::File { .. }), "{err}");
        assert!(err.to_string().contains(needle), "{err}");
    }
    // A key that does not belong to the certificate.
    let err = server_config(&TlsFiles {
        cert: ca.server_cert.clone(),
        key: ca.client_key.clone(),
        client_ca: None,
    })
    .unwrap_err();
    assert!(matches!(err, TlsError::Config(_)), "{err}");
}
