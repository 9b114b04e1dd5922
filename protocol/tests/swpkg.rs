#![allow(clippy::unwrap_used, clippy::expect_used)]
//! The project-defined software package format (docs/scomo-package.md): a signed package
//! verifies; each check fails on its own fault and maps to its SCOMO result code
//! (facts §10.3). Keys are generated at run time.

use dm_protocol::swpkg::{
    result_code, DeviceIdentity, Originator, Package, PackageError, PackageSpec, Target, TrustStore,
};

fn device() -> DeviceIdentity {
    DeviceIdentity {
        dev_id: "IMEI:1".into(),
        manufacturer: "Acme".into(),
        model: "Phone-1".into(),
    }
}

fn spec(targets: Vec<Target>) -> PackageSpec {
    PackageSpec {
        pkg_id: "pkg-7".into(),
        name: "Antivirus".into(),
        version: "2.0".into(),
        pkg_type: Some("application/vnd.example.app".into()),
        targets,
        payload: b"\x00binary\npayload\n\nwith blank lines".to_vec(),
    }
}

fn model() -> Vec<Target> {
    vec![Target::Model {
        manufacturer: "Acme".into(),
        model: "Phone-1".into(),
    }]
}

fn signed(targets: Vec<Target>) -> (Vec<u8>, TrustStore) {
    let (o, _pkcs8) = Originator::generate("acme-apps").unwrap();
    let mut trust = TrustStore::new();
    trust.add(o.id(), &o.public_key());
    (o.sign(&spec(targets)), trust)
}

#[test]
fn a_signed_package_for_the_model_verifies_and_keeps_every_field() {
    let (bytes, trust) = signed(model());
    let p = Package::parse(&bytes).unwrap();
    assert_eq!(p.pkg_id, "pkg-7");
    assert_eq!(p.version, "2.0");
    assert_eq!(p.pkg_type.as_deref(), Some("application/vnd.example.app"));
    assert_eq!(
        p.payload,
        spec(model()).payload,
        "blank lines in the payload are payload"
    );
    p.verify(&trust, &device()).unwrap();
}

#[test]
fn a_package_naming_the_devid_verifies() {
    let (bytes, trust) = signed(vec![Target::DevId("IMEI:1".into())]);
    Package::parse(&bytes)
        .unwrap()
        .verify(&trust, &device())
        .unwrap();
}

#[test]
fn a_changed_payload_fails_integrity_with_1402() {
    let (mut bytes, trust) = signed(model());
    let last = bytes.len() - 1;
    bytes[last] ^= 1;
    let e = Package::parse(&bytes)
        .unwrap()
        .verify(&trust, &device())
        .unwrap_err();
    assert_eq!(e, PackageError::DigestMismatch);
    assert_eq!(e.result_code(), result_code::DOWNLOAD_FAILED);
}

#[test]
fn a_truncated_download_is_a_size_mismatch_with_1402() {
    let (bytes, _) = signed(model());
    let e = Package::parse(&bytes[..bytes.len() - 3]).unwrap_err();
    assert!(matches!(e, PackageError::SizeMismatch { .. }), "{e}");
    assert_eq!(e.result_code(), result_code::DOWNLOAD_FAILED);
}

#[test]
fn an_unknown_originator_fails_validation_with_1407() {
    let (bytes, _) = signed(model());
    let e = Package::parse(&bytes)
        .unwrap()
        .verify(&TrustStore::new(), &device())
        .unwrap_err();
    assert_eq!(e, PackageError::UntrustedOriginator("acme-apps".into()));
    assert_eq!(e.result_code(), result_code::VALIDATION_FAILED);
}

#[test]
fn a_package_signed_by_another_key_under_a_trusted_name_fails_with_1407() {
    let (bytes, _) = signed(model());
    let (other, _) = Originator::generate("acme-apps").unwrap();
    let mut trust = TrustStore::new();
    trust.add("acme-apps", &other.public_key());
    let e = Package::parse(&bytes)
        .unwrap()
        .verify(&trust, &device())
        .unwrap_err();
    assert_eq!(e, PackageError::BadSignature("acme-apps".into()));
    assert_eq!(e.result_code(), result_code::VALIDATION_FAILED);
}

#[test]
fn a_changed_header_breaks_the_signature() {
    let (bytes, trust) = signed(model());
    let text = String::from_utf8_lossy(&bytes).replace("Version: 2.0", "Version: 9.0");
    let e = Package::parse(text.as_bytes())
        .unwrap()
        .verify(&trust, &device())
        .unwrap_err();
    assert_eq!(e.kind(), "bad_signature");
}

#[test]
fn a_package_for_another_model_fails_targeting_with_1413() {
    let (bytes, trust) = signed(vec![Target::Model {
        manufacturer: "Acme".into(),
        model: "Tablet-9".into(),
    }]);
    let e = Package::parse(&bytes)
        .unwrap()
        .verify(&trust, &device())
        .unwrap_err();
    assert_eq!(e.kind(), "not_for_this_device");
    assert_eq!(e.result_code(), result_code::UNSUPPORTED_ENVIRONMENT);
    assert!(e.to_string().contains("Acme/Tablet-9"), "{e}");
}

#[test]
fn malformed_packages_are_typed_errors_never_panics() {
    for bytes in [
        &b""[..],
        b"hello",
        b"DMPKG 2\nPkgID: x\n\n",
        b"DMPKG 1\nPkgID x\n\n",
        b"DMPKG 1\nPkgID: x\nSignature: !!\n\n",
        b"DMPKG 1\nPkgID: x\nName: n\nVersion: 1\nSize: 0\nSHA-256: 00\nOriginator: o\nSignature: AAAA\n\n",
        b"\xff\xfe\n\n",
    ] {
        let e = Package::parse(bytes).unwrap_err();
        assert_eq!(e.result_code(), result_code::DOWNLOAD_FAILED, "{e}");
    }
}

#[test]
fn a_stored_key_signs_like_the_generated_one() {
    let (o, pkcs8) = Originator::generate("k").unwrap();
    let again = Originator::from_pkcs8("k", &pkcs8).unwrap();
    assert_eq!(o.public_key(), again.public_key());
    assert!(Originator::from_pkcs8("k", b"not a key").is_err());
}

#[test]
fn fields_added_after_the_signature_cannot_replace_signed_ones() {
    // An attacker appends a new Size, SHA-256 and target after the Signature line and swaps
    // the payload: refused as malformed (1402) before any check could be fooled.
    let (bytes, trust) = signed(model());
    let text = String::from_utf8_lossy(&bytes).into_owned();
    let (header, _) = text.split_once("\n\n").unwrap();
    let evil = b"evil payload";
    let forged = format!(
        "{header}\nSize: {}\nSHA-256: {}\nTarget-DevId: IMEI:1\n\n",
        evil.len(),
        dm_protocol::swpkg::sha256(evil)
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect::<String>()
    );
    let mut forged = forged.into_bytes();
    forged.extend_from_slice(evil);
    let e = Package::parse(&forged).unwrap_err();
    assert_eq!(e.kind(), "malformed", "{e}");
    // A field repeated before the signature is refused too.
    let twice = String::from_utf8_lossy(&bytes).replacen(
        "Name: Antivirus\n",
        "Name: Antivirus\nName: Other\n",
        1,
    );
    assert_eq!(
        Package::parse(twice.as_bytes()).unwrap_err().kind(),
        "malformed"
    );
    let _ = trust;
}
