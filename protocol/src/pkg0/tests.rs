#![allow(clippy::unwrap_used)]

use super::*;
use rstest::rstest;

/// facts §7.3 COMPUTED example trigger (version 11, ui-mode 2, initiator 1, session 0x1A2B,
/// ServerID `dms.example.com`).
const EXAMPLE_TRIGGER: [u8; 23] = [
    0x02, 0xE8, 0x00, 0x00, 0x00, 0x1A, 0x2B, 0x0F, 0x64, 0x6D, 0x73, 0x2E, 0x65, 0x78, 0x61, 0x6D,
    0x70, 0x6C, 0x65, 0x2E, 0x63, 0x6F, 0x6D,
];

/// Digest of the example trigger with password `srvsecret`, nonce `Nonce`, computed
/// independently with Python hashlib (facts §7.2).
const EXAMPLE_DIGEST_HEX: &str = "bc70d26c3b2552f459846de35526e69f";

fn hex(s: &str) -> Vec<u8> {
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
        .collect()
}

fn message(digest: &[u8], trigger: &[u8]) -> Vec<u8> {
    [digest, trigger].concat()
}

fn example() -> Notification {
    Notification {
        digest: [0; 16],
        version: 11,
        ui_mode: UiMode::Informative,
        initiator: Initiator::Server,
        session_id: 0x1A2B,
        server_id: "dms.example.com".into(),
        vendor: vec![],
    }
}

// facts §7.3: the COMPUTED example decodes to exactly its fields.
#[test]
fn example_from_facts_7_3_decodes() {
    let n = decode(&message(&[0; 16], &EXAMPLE_TRIGGER)).unwrap();
    assert_eq!(n, example());
    assert_eq!(session_id_to_hex(n.session_id), "1A2B");
    assert_eq!(example().trigger().unwrap(), EXAMPLE_TRIGGER);
}

// facts §7.2: digest of the example, and build/verify agree with it.
#[test]
fn example_digest_build_and_verify() {
    let d = compute_digest("dms.example.com", "srvsecret", b"Nonce", &EXAMPLE_TRIGGER);
    assert_eq!(d.to_vec(), hex(EXAMPLE_DIGEST_HEX));
    let built = example().build("srvsecret", b"Nonce").unwrap();
    assert_eq!(built, message(&d, &EXAMPLE_TRIGGER));
    assert!(verify(&built, "dms.example.com", "srvsecret", b"Nonce").unwrap());
    assert!(!verify(&built, "dms.example.com", "srvsecreT", b"Nonce").unwrap());
    assert!(!verify(&built, "dms.example.com", "srvsecret", b"nonce").unwrap());
    assert_eq!(
        verify(&[0; 15], "a", "b", b"c").unwrap_err().kind(),
        "too_short"
    );
}

// facts §7.2: nonce-resync fallback, both readings of `0x00000000`.
#[rstest]
#[case("5606f221eea89a853e5c59290a096a10", ResyncNonce::AsciiText)]
#[case("76da09c633feb2eca4f43509dc921930", ResyncNonce::ZeroBytes)]
fn resync_nonce_readings(#[case] digest_hex: &str, #[case] which: ResyncNonce) {
    let msg = message(&hex(digest_hex), &EXAMPLE_TRIGGER);
    let both = [ResyncNonce::AsciiText, ResyncNonce::ZeroBytes];
    assert_eq!(
        verify_with_resync(&msg, "dms.example.com", "srvsecret", b"Nonce", &both).unwrap(),
        DigestCheck::ValidWithResync(which)
    );
    assert_eq!(
        verify_with_resync(&msg, "dms.example.com", "srvsecret", b"Nonce", &[]).unwrap(),
        DigestCheck::Invalid
    );
    let good = message(&hex(EXAMPLE_DIGEST_HEX), &EXAMPLE_TRIGGER);
    assert_eq!(
        verify_with_resync(&good, "dms.example.com", "srvsecret", b"Nonce", &both).unwrap(),
        DigestCheck::Valid
    );
}

// facts §7.1: each ui-mode and the initiator bit.
#[rstest]
#[case(UiMode::NotSpecified, Initiator::Client, 0xC0)]
#[case(UiMode::Background, Initiator::Server, 0xD8)]
#[case(UiMode::Informative, Initiator::Client, 0xE0)]
#[case(UiMode::UserInteraction, Initiator::Server, 0xF8)]
fn ui_modes_and_initiator(#[case] ui: UiMode, #[case] init: Initiator, #[case] byte17: u8) {
    let n = Notification {
        ui_mode: ui,
        initiator: init,
        ..example()
    };
    let bytes = n.encode().unwrap();
    assert_eq!(bytes[17], byte17);
    assert_eq!(decode(&bytes).unwrap(), n);
}

// facts §7.1: version 11 by default; 12 only when configured (UNCONFIRMED).
#[test]
fn version_acceptance_is_configurable() {
    let v12 = Notification {
        version: 12,
        ..example()
    }
    .encode()
    .unwrap();
    assert_eq!(decode(&v12).unwrap_err().kind(), "unsupported_version");
    assert_eq!(
        decode_with(&v12, &DecodeOptions::tolerant())
            .unwrap()
            .version,
        12
    );
}

fn patched(f: impl FnOnce(&mut Vec<u8>)) -> Vec<u8> {
    let mut m = message(&[0; 16], &EXAMPLE_TRIGGER);
    f(&mut m);
    m
}

// facts §7.1: every structural error.
#[rstest]
#[case(vec![], "too_short")]
#[case(vec![0; 23], "too_short")]
#[case(patched(|m| m[16] = 0x03), "unsupported_version")]
#[case(patched(|m| m[17] |= 0x01), "future_use_not_zero")]
#[case(patched(|m| m[18] = 0x80), "future_use_not_zero")]
#[case(patched(|m| m[20] = 0x01), "future_use_not_zero")]
#[case(patched(|m| { m[21] = 0; m[22] = 0 }), "session_id_zero")]
#[case(patched(|m| m.truncate(24)), "server_id_past_end")]
#[case(patched(|m| m[23] = 0), "server_id_empty")]
#[case(patched(|m| m[23] = 16), "server_id_past_end")]
#[case(patched(|m| m[30] = 0xC3), "server_id_not_ascii")]
fn structural_errors(#[case] bytes: Vec<u8>, #[case] kind: &str) {
    assert_eq!(decode(&bytes).unwrap_err().kind(), kind, "{bytes:02X?}");
}

#[test]
fn error_messages_name_positions() {
    let e = decode(&[0; 10]).unwrap_err();
    assert_eq!(
        e.to_string(),
        "package #0 too short: need at least 24 bytes, got 10"
    );
    let e = decode(&patched(|m| m[30] = 0xC3)).unwrap_err();
    assert!(e.to_string().contains("byte 30"), "{e}");
}

// facts §7.1: vendor-specific bytes follow the server identifier.
#[test]
fn vendor_bytes_round_trip() {
    let n = Notification {
        vendor: vec![0xDE, 0xAD, 0x00, 0xFF],
        ..example()
    };
    let bytes = n.encode().unwrap();
    assert_eq!(&bytes[bytes.len() - 4..], &[0xDE, 0xAD, 0x00, 0xFF]);
    assert_eq!(decode(&bytes).unwrap(), n);
}

#[test]
fn encode_rejects_unrepresentable_values() {
    let n = Notification {
        version: 1024,
        ..example()
    };
    assert_eq!(n.encode().unwrap_err().kind(), "version_out_of_range");
    let n = Notification {
        server_id: "x".repeat(256),
        ..example()
    };
    assert_eq!(n.encode().unwrap_err().kind(), "server_id_too_long");
}

// facts §7.3: SessionID mapping.
#[rstest]
#[case(0x00AB, "AB")]
#[case(0x1A2B, "1A2B")]
#[case(0x0001, "1")]
#[case(0xFFFF, "FFFF")]
#[case(0x0100, "100")]
fn session_id_hex(#[case] id: u16, #[case] text: &str) {
    assert_eq!(session_id_to_hex(id), text);
    assert_eq!(session_id_from_hex(text).unwrap(), id);
}

#[rstest]
#[case("", "empty")]
#[case("ab", "lowercase")]
#[case("00AB", "leading_zero")]
#[case("0", "zero")]
#[case("12345", "too_long")]
#[case("1G", "not_hex")]
#[case("+1", "not_hex")]
fn session_id_hex_errors(#[case] text: &str, #[case] kind: &str) {
    assert_eq!(session_id_from_hex(text).unwrap_err().kind(), kind);
}
