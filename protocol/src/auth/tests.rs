#![allow(clippy::unwrap_used)]

use super::*;
use rstest::rstest;

// facts §6.1: spec example, basic.
#[test]
fn basic_example_from_facts_6_1() {
    assert_eq!(
        basic_credential("Bruce2", "OhBehave"),
        "QnJ1Y2UyOk9oQmVoYXZl"
    );
    assert_eq!(
        parse_basic_credential("QnJ1Y2UyOk9oQmVoYXZl").unwrap(),
        ("Bruce2".to_owned(), "OhBehave".to_owned())
    );
    assert!(verify_basic("QnJ1Y2UyOk9oQmVoYXZl", "Bruce2", "OhBehave"));
    assert!(!verify_basic("QnJ1Y2UyOk9oQmVoYXZl", "Bruce2", "OhBehavE"));
}

// facts §6.1: spec example, md5 with nonce bytes "Nonce".
#[test]
fn md5_example_from_facts_6_1() {
    assert_eq!(
        md5_credential("Bruce2", "OhBehave", b"Nonce"),
        "Zz6EivR3yeaaENcRN6lpAQ=="
    );
    assert!(verify_md5(
        "Zz6EivR3yeaaENcRN6lpAQ==",
        "Bruce2",
        "OhBehave",
        b"Nonce"
    ));
    assert!(!verify_md5(
        "Zz6EivR3yeaaENcRN6lpAQ==",
        "Bruce2",
        "OhBehave",
        b"nonce"
    ));
    assert!(!verify_md5("not base64!", "Bruce2", "OhBehave", b"Nonce"));
}

// facts §6.3: COMPUTED vector.
#[test]
fn hmac_example_from_facts_6_3() {
    let body = br#"<SyncML xmlns="SYNCML:SYNCML1.2"></SyncML>"#;
    let mac = hmac_mac("Bruce2", "OhBehave", b"Nonce", body);
    assert_eq!(mac, "aSBvnDHzBa7JhdjeEEUR2g==");
    let h = HmacHeader::new("Bruce2", mac);
    assert!(verify_hmac(&h, "Bruce2", "OhBehave", b"Nonce", body));
    assert!(!verify_hmac(&h, "Bruce3", "OhBehave", b"Nonce", body));
    assert!(!verify_hmac(
        &h,
        "Bruce2",
        "OhBehave",
        b"Nonce",
        b"<SyncML/>"
    ));
    let sha = HmacHeader {
        algorithm: "SHA1".into(),
        ..h
    };
    assert!(!verify_hmac(&sha, "Bruce2", "OhBehave", b"Nonce", body));
}

// facts §6.1: exact wire strings round-trip.
#[rstest]
#[case("syncml:auth-basic", AuthType::Basic)]
#[case("syncml:auth-md5", AuthType::Md5)]
#[case("syncml:auth-MAC", AuthType::Mac)]
#[case("syncml:auth-X509", AuthType::X509)]
#[case("syncml:auth-securid", AuthType::SecurId)]
#[case("syncml:auth-safeword", AuthType::SafeWord)]
#[case("syncml:auth-digipass", AuthType::DigiPass)]
#[case("syncml:auth-mac", AuthType::Other("syncml:auth-mac".into()))]
#[case("x-vendor", AuthType::Other("x-vendor".into()))]
fn auth_type_round_trip(#[case] s: &str, #[case] t: AuthType) {
    assert_eq!(s.parse::<AuthType>().unwrap(), t);
    assert_eq!(t.to_string(), s);
}

// facts §5.4 / §6.1: AAuthType names and their Meta Type mapping.
#[rstest]
#[case("BASIC", Some(AuthType::Basic))]
#[case("DIGEST", Some(AuthType::Md5))]
#[case("HMAC", Some(AuthType::Mac))]
#[case("X509", Some(AuthType::X509))]
#[case("HTTP-BASIC", None)]
#[case("HTTP-DIGEST", None)]
#[case("TRANSPORT", None)]
fn aauth_type_mapping(#[case] s: &str, #[case] t: Option<AuthType>) {
    let a: AAuthType = s.parse().unwrap();
    assert_eq!(a.to_string(), s);
    assert_eq!(a.auth_type(), t.clone());
    if let Some(t) = t {
        assert_eq!(t.aauth_type(), Some(a));
    }
}

#[test]
fn aauth_type_unknown() {
    let e = "basic".parse::<AAuthType>().unwrap_err();
    assert_eq!(e.kind(), "unknown_aauth_type");
}

// facts §6.1: basic credential decoding errors.
#[rstest]
#[case("QnJ1Y2Uy", "missing_colon")] // "Bruce2"
#[case("@@@", "invalid_base64")]
#[case("/w==", "not_utf8")] // 0xFF
fn basic_parse_errors(#[case] cred: &str, #[case] kind: &str) {
    assert_eq!(parse_basic_credential(cred).unwrap_err().kind(), kind);
}

#[test]
fn basic_password_may_hold_colons_and_be_empty() {
    let c = basic_credential("u", "a:b");
    assert_eq!(
        parse_basic_credential(&c).unwrap(),
        ("u".into(), "a:b".into())
    );
    let c = basic_credential("u", "");
    assert_eq!(parse_basic_credential(&c).unwrap(), ("u".into(), "".into()));
}

// facts §6.3: header parsing.
#[rstest]
#[case(
    r#"algorithm=MD5, username="Bruce2", mac=aSBvnDHzBa7JhdjeEEUR2g=="#,
    "MD5",
    "Bruce2",
    "aSBvnDHzBa7JhdjeEEUR2g=="
)]
#[case(r#"username="Bruce2",mac=abc"#, "MD5", "Bruce2", "abc")]
#[case("  mac = \"abc\" ,  username = Bruce2  ", "MD5", "Bruce2", "abc")]
#[case(
    r#"MAC=abc, UserName="a\"b", x-extra="1,2", algorithm=md5"#,
    "md5",
    "a\"b",
    "abc"
)]
fn hmac_header_parse_ok(#[case] v: &str, #[case] alg: &str, #[case] u: &str, #[case] m: &str) {
    let h = HmacHeader::parse(v).unwrap();
    assert_eq!(
        (h.algorithm.as_str(), h.username.as_str(), h.mac.as_str()),
        (alg, u, m)
    );
    // Display re-parses to the same value.
    assert_eq!(HmacHeader::parse(&h.to_string()).unwrap(), h);
}

#[rstest]
#[case("", "missing_field")]
#[case("username=a", "missing_field")]
#[case("mac=a", "missing_field")]
#[case("username=a, mac=b, mac=c", "duplicate_field")]
#[case("username=a, username=a, mac=c", "duplicate_field")]
#[case("username=, mac=b", "empty_value")]
#[case("username=a,, mac=b", "empty_parameter")]
#[case("username=a, mac", "missing_equals")]
#[case("username=\"a, mac=b", "unterminated_quote")]
#[case("username=\"a\" x, mac=b", "unexpected_character")]
fn hmac_header_parse_errors(#[case] v: &str, #[case] kind: &str) {
    assert_eq!(HmacHeader::parse(v).unwrap_err().kind(), kind);
}

#[test]
fn hmac_header_display_form() {
    let h = HmacHeader::new("Bruce2", "aSBvnDHzBa7JhdjeEEUR2g==");
    assert_eq!(
        h.to_string(),
        r#"algorithm=MD5, username="Bruce2", mac=aSBvnDHzBa7JhdjeEEUR2g=="#
    );
}

// facts §6.2: ≥128-bit nonces; deterministic from a seed.
#[test]
fn nonce_generator_is_deterministic_and_128_bit() {
    let mut a = NonceGenerator::from_seed(7);
    let mut b = NonceGenerator::from_seed(7);
    let mut c = NonceGenerator::from_seed(8);
    let (a1, a2) = (a.next_nonce(), a.next_nonce());
    assert_eq!(a1.len() * 8, 128);
    assert_eq!(a1, b.next_nonce());
    assert_eq!(a2, b.next_nonce());
    assert_ne!(a1, a2);
    assert_ne!(a1, c.next_nonce());
    assert_eq!(b64_decode(&a.next_nonce_b64()).unwrap().len(), NONCE_LEN);
    let mut e = NonceGenerator::from_entropy();
    assert_ne!(e.next_nonce(), e.next_nonce());
}

#[test]
fn ct_eq_basics() {
    assert!(ct_eq(b"", b""));
    assert!(ct_eq(b"abc", b"abc"));
    assert!(!ct_eq(b"abc", b"abd"));
    assert!(!ct_eq(b"abc", b"ab"));
}
