//! Property tests: the auth, pkg0, uri and acl parsers never panic, and canonical forms
//! round-trip.
#![allow(clippy::unwrap_used)]

use dm_protocol::acl::Acl;
use dm_protocol::auth::{self, HmacHeader};
use dm_protocol::pkg0::{self, DecodeOptions, Initiator, Notification, UiMode};
use dm_protocol::uri::{NodeUri, ParseOptions, UriLimits, UriRef};
use proptest::prelude::*;

fn config() -> ProptestConfig {
    ProptestConfig::with_cases(256)
}

/// Strings biased towards the characters the parsers care about.
fn uri_like() -> impl Strategy<Value = String> {
    proptest::string::string_regex("[./a-zA-Z0-9%?=+&*~ é-]{0,24}").unwrap()
}

fn acl_like() -> impl Strategy<Value = String> {
    proptest::string::string_regex("((Add|Delete|Exec|Get|Replace|Copy)?=?[a-z*+ .&=]{0,6}&?){0,5}")
        .unwrap()
}

fn ui_mode() -> impl Strategy<Value = UiMode> {
    (0u8..4).prop_map(UiMode::from_bits)
}

proptest! {
    #![proptest_config(config())]

    // facts §7.1: decoding arbitrary bytes never panics.
    #[test]
    fn pkg0_decode_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..64)) {
        let _ = pkg0::decode(&bytes);
        let _ = pkg0::decode_with(&bytes, &DecodeOptions::tolerant());
        let _ = pkg0::verify(&bytes, "s", "p", b"n");
    }

    // Same, with a plausible header so the later checks are reached.
    #[test]
    fn pkg0_decode_never_panics_near_valid(
        tail in proptest::collection::vec(any::<u8>(), 0..40),
        len in any::<u8>(),
    ) {
        let mut bytes = vec![0u8; 16];
        bytes.extend_from_slice(&[0x02, 0xE8, 0, 0, 0, 0x12, 0x34, len]);
        bytes.extend_from_slice(&tail);
        let _ = pkg0::decode(&bytes);
    }

    // facts §7.1: encode → decode is the identity for valid notifications.
    #[test]
    fn pkg0_round_trip(
        digest in any::<[u8; 16]>(),
        ui in ui_mode(),
        server in any::<bool>(),
        session_id in 1u16..,
        server_id in "[ -~]{1,40}",
        vendor in proptest::collection::vec(any::<u8>(), 0..16),
    ) {
        let n = Notification {
            digest,
            version: 11,
            ui_mode: ui,
            initiator: if server { Initiator::Server } else { Initiator::Client },
            session_id,
            server_id,
            vendor,
        };
        let bytes = n.encode().unwrap();
        prop_assert_eq!(pkg0::decode(&bytes).unwrap(), n.clone());
        let built = n.build("pw", b"nonce").unwrap();
        prop_assert!(pkg0::verify(&built, &n.server_id, "pw", b"nonce").unwrap());
        prop_assert_eq!(
            pkg0::session_id_from_hex(&pkg0::session_id_to_hex(session_id)).unwrap(),
            session_id
        );
    }

    // facts §4.1: URI parsing never panics, and display → parse is stable.
    #[test]
    fn uri_parse_never_panics_and_round_trips(s in uri_like(), any_s in any::<String>()) {
        for text in [&s, &any_s] {
            let _ = UriRef::parse(text);
            let lenient = ParseOptions { allow_unescaped: true };
            if let Ok(u) = NodeUri::parse_with(text, lenient) {
                let shown = u.to_string();
                let again = NodeUri::parse(&shown).unwrap();
                prop_assert_eq!(&again, &u);
                prop_assert_eq!(again.to_string(), shown);
                let lim = UriLimits { max_depth: 2, max_tot_len: 8, max_seg_len: 3 };
                let _ = lim.check(&u);
            }
            if let Ok(r) = UriRef::parse(text) {
                prop_assert_eq!(UriRef::parse(&r.to_string()).unwrap(), r);
            }
        }
    }

    // facts §4.4: ACL parsing never panics; canonical parse → display → parse is stable.
    #[test]
    fn acl_parse_never_panics_and_round_trips(s in acl_like(), any_s in any::<String>()) {
        for text in [&s, &any_s] {
            if let Ok(a) = Acl::parse(text) {
                let shown = a.to_string();
                let again = Acl::parse(&shown).unwrap();
                prop_assert_eq!(&again, &a);
                prop_assert_eq!(again.to_string(), shown);
                let mut scrubbed = a.clone();
                scrubbed.scrub("a");
                prop_assert!(Acl::parse(&scrubbed.to_string()).is_ok());
            }
        }
    }

    // facts §6.3: header parsing never panics; Display re-parses to the same value.
    #[test]
    fn hmac_header_never_panics(
        s in "[ a-zA-Z=,\"\\\\]{0,40}",
        any_s in any::<String>(),
        user in any::<String>(),
        mac in "[A-Za-z0-9+/=]{1,24}",
    ) {
        let _ = HmacHeader::parse(&s);
        let _ = HmacHeader::parse(&any_s);
        if !user.is_empty() {
            let h = HmacHeader::new(user, mac);
            prop_assert_eq!(HmacHeader::parse(&h.to_string()).unwrap(), h);
        }
    }

    // facts §6.1: basic credential decoding never panics; encode → decode round-trips.
    #[test]
    fn basic_credential_never_panics(
        s in any::<String>(),
        user in "[^:]{0,12}",
        pass in any::<String>(),
    ) {
        let _ = auth::parse_basic_credential(&s);
        let _ = auth::verify_md5(&s, "u", "p", b"n");
        let c = auth::basic_credential(&user, &pass);
        prop_assert_eq!(auth::parse_basic_credential(&c).unwrap(), (user, pass));
    }
}
