#![allow(clippy::unwrap_used, clippy::expect_used)]
//! Implementation profiles (docs/profiles.md) and verdict rules (shared/docs/
//! conformance-model.md "Verdicts"): the documented examples parse, bad profiles are refused
//! with the reason, scenario tags decide applicability, and a run's exit code follows the
//! documented rule.

use std::path::Path;

use dmconf::profile::{Adapter, Feature, Profile, Role};
use dmconf::verdict::{exit_code, Level, ScenarioTags, TagError, Verdict};

/// The TOML blocks of docs/profiles.md, in order.
fn doc_examples() -> Vec<String> {
    let doc =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/profiles.md"))
            .unwrap();
    doc.split("```toml\n")
        .skip(1)
        .map(|b| b.split("```").next().unwrap().to_owned())
        .collect()
}

#[test]
fn the_documented_examples_parse() {
    let examples = doc_examples();
    assert!(examples.len() >= 2, "a client and a server example");
    let client = Profile::from_toml(&examples[0], Path::new("client.toml")).unwrap();
    assert_eq!(client.implementation.role, Role::Client);
    assert!(client.claims(Feature::Wbxml));
    assert!(matches!(client.adapter, Adapter::Exec { .. }));
    let server = Profile::from_toml(&examples[1], Path::new("server.toml")).unwrap();
    assert_eq!(server.implementation.role, Role::Server);
    assert!(matches!(server.adapter, Adapter::Http { .. }));
}

const MIN_SERVER: &str = r#"
[implementation]
name = "X"
version = "1"
vendor = "V"
role = "dm-server"

[ixit]
dev_id = "IMEI:1"
server_id = "srv"
server_url = "http://127.0.0.1:1/dm"

[adapter]
kind = "http"
admin_url = "http://127.0.0.1:2"
"#;

#[test]
fn bad_profiles_name_the_problem() {
    let cases = [
        (MIN_SERVER.replace("role = \"dm-server\"", "role = \"dm-proxy\""), "dm-proxy"),
        (format!("{MIN_SERVER}\n[ics]\nclaims = [\"tnds\", \"teleport\"]\n"), "teleport"),
        (MIN_SERVER.replace("server_url = \"http://127.0.0.1:1/dm\"\n", ""), "server_url"),
        (
            MIN_SERVER.replace("server_id = \"srv\"", "server_id = \"srv\"\nclient_auth = { type = \"x509\", name = \"a\", secret = \"b\" }"),
            "x509",
        ),
        (
            MIN_SERVER.replace(
                "kind = \"http\"\nadmin_url = \"http://127.0.0.1:2\"",
                "kind = \"exec\"\nactions = { start_session = \"x\" }",
            ),
            "start_session",
        ),
        (
            MIN_SERVER.replace("role = \"dm-server\"", "role = \"dm-client\""),
            "admin API",
        ),
        (format!("{MIN_SERVER}\ncolour = 1\n"), "colour"),
        // docs/tls.md: an https server needs the CA of its certificate, a server claiming
        // tls an https URL.
        (MIN_SERVER.replace("http://127.0.0.1:1/dm", "https://127.0.0.1:1/dm"), "trust_anchors"),
        (format!("{MIN_SERVER}\n[ics]\nclaims = [\"tls\"]\n"), "https:// URL"),
        (
            MIN_SERVER
                .replace("server_url = \"http://127.0.0.1:1/dm\"", "trust_anchors = [\"ca.pem\"]")
                .replace("kind = \"http\"\nadmin_url = \"http://127.0.0.1:2\"", "kind = \"reference\""),
            "run's own test CA",
        ),
        (
            MIN_SERVER
                .replace("role = \"dm-server\"", "role = \"dm-client\"")
                .replace(
                    "kind = \"http\"\nadmin_url = \"http://127.0.0.1:2\"",
                    "kind = \"exec\"\nactions = { bootstrap = \"agent --url {server_url}\" }",
                )
                .replace("[adapter]", "[ics]\nclaims = [\"tls\"]\n\n[adapter]"),
            "{server_ca}",
        ),
    ];
    for (text, needle) in cases {
        let err = Profile::from_toml(&text, Path::new("p.toml")).unwrap_err();
        assert!(
            err.to_string().contains(needle),
            "{err} should mention {needle}"
        );
        assert!(err.to_string().contains("p.toml"), "{err}");
    }
}

/// docs/tls.md: trust anchors are read relative to the profile's folder (absolute paths stay),
/// and only a server under test has them.
#[test]
fn trust_anchors_belong_to_servers_and_resolve_beside_the_profile() {
    let https = MIN_SERVER.replace(
        "server_url = \"http://127.0.0.1:1/dm\"",
        "server_url = \"HTTPS://127.0.0.1:1/dm\"\ntrust_anchors = [\"ca/acme.pem\", \"/etc/dm/root.pem\"]",
    );
    let p = Profile::from_toml(&https, Path::new("/vendor/profiles/acme.toml")).unwrap();
    assert_eq!(
        p.ixit.trust_anchors,
        [
            Path::new("/vendor/profiles/ca/acme.pem"),
            Path::new("/etc/dm/root.pem")
        ]
    );
    // A profile named without a folder reads its anchors from the working directory.
    let here = Profile::from_toml(&https, Path::new("acme.toml")).unwrap();
    assert_eq!(
        here.ixit.trust_anchors[0],
        std::env::current_dir().unwrap().join("ca/acme.pem")
    );
    let client = https
        .replace("role = \"dm-server\"", "role = \"dm-client\"")
        .replace(
            "kind = \"http\"\nadmin_url = \"http://127.0.0.1:2\"",
            "kind = \"reference\"",
        );
    let err = Profile::from_toml(&client, Path::new("c.toml")).unwrap_err();
    assert!(err.to_string().contains("server_ca"), "{err}");
}

#[test]
fn tags_decide_applicability() {
    let server = Profile::from_toml(
        &format!("{MIN_SERVER}\n[ics]\nclaims = [\"encoding.wbxml\"]\n"),
        Path::new("p.toml"),
    )
    .unwrap();
    let t = ScenarioTags::parse(["@id:AUTH-001", "@req:DMRD-6.1-1", "@server", "@must"]).unwrap();
    assert_eq!(t.applies_to(&server), Ok(()));
    let wbxml = ScenarioTags::parse([
        "@id:ENC-002",
        "@req:X",
        "@server",
        "@should",
        "@ics:encoding.wbxml",
    ])
    .unwrap();
    assert_eq!(wbxml.applies_to(&server), Ok(()));
    let lo = ScenarioTags::parse([
        "@id:LO-001",
        "@req:X",
        "@server",
        "@must",
        "@ics:large-objects",
    ])
    .unwrap();
    assert!(lo
        .applies_to(&server)
        .unwrap_err()
        .contains("large-objects"));
    let client = ScenarioTags::parse(["@id:PKG-001", "@req:X", "@client", "@must"]).unwrap();
    assert!(client
        .applies_to(&server)
        .unwrap_err()
        .contains("tests a client"));
}

#[test]
fn bad_tags_are_refused() {
    assert_eq!(
        ScenarioTags::parse(["@req:X", "@client", "@must"]),
        Err(TagError::Missing("@id:"))
    );
    assert_eq!(
        ScenarioTags::parse(["@id:A-1", "@client", "@must"]),
        Err(TagError::Missing("@req:"))
    );
    assert_eq!(
        ScenarioTags::parse(["@id:A-1", "@req:X", "@client", "@server", "@must"]),
        Err(TagError::Repeated("role"))
    );
    assert_eq!(
        ScenarioTags::parse(["@id:A-1", "@req:X", "@client", "@must", "@may"]),
        Err(TagError::Repeated("level"))
    );
    assert!(matches!(
        ScenarioTags::parse(["@id:A-1", "@req:X", "@client", "@must", "@ics:nope"]),
        Err(TagError::UnknownFeature(_))
    ));
}

#[test]
fn exit_codes_follow_the_documented_rule() {
    use Level::*;
    use Verdict::*;
    assert_eq!(
        exit_code([
            (Must, Pass),
            (Should, Fail),
            (May, Inconclusive),
            (Must, NotApplicable)
        ]),
        0
    );
    assert_eq!(exit_code([(Must, Pass), (Must, Fail)]), 1);
    assert_eq!(
        exit_code([(Must, Inconclusive)]),
        1,
        "not shown right is not a pass"
    );
    assert_eq!(
        exit_code([(Must, Fail), (Should, Error)]),
        2,
        "a harness error wins"
    );
    assert_eq!(exit_code([]), 0);
}

#[test]
fn every_feature_name_round_trips() {
    for f in Feature::ALL {
        assert_eq!(f.name().parse::<Feature>(), Ok(f));
        let toml = format!("claims = [\"{}\"]", f.name());
        let ics: dmconf::profile::Ics = toml::from_str(&toml).unwrap();
        assert!(ics.claims.contains(&f));
    }
}
