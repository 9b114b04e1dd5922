#![allow(clippy::unwrap_used)]

use super::*;
use rstest::rstest;

const EXAMPLE: &str = "Add=srvA&Delete=srvA&Replace=srvA+srvB&Get=*"; // facts §4.4

// facts §4.4: the example ACL from the sheet.
#[test]
fn example_acl_from_facts_4_4() {
    let acl = Acl::parse(EXAMPLE).unwrap();
    assert_eq!(
        acl.to_string(),
        "Add=srvA&Delete=srvA&Get=*&Replace=srvA+srvB"
    );
    assert!(acl.allows(AclCommand::Add, "srvA"));
    assert!(!acl.allows(AclCommand::Add, "srvB"));
    assert!(acl.allows(AclCommand::Replace, "srvB"));
    assert!(acl.allows(AclCommand::Get, "anyone"));
    assert!(!acl.allows(AclCommand::Exec, "srvA"));
    assert!(!acl.allows(AclCommand::Add, "srva")); // ServerID is case-sensitive (facts §5.4)
}

// facts §4.4 grammar: valid strings and their canonical form.
#[rstest]
#[case("", "")]
#[case("Get=*", "Get=*")]
#[case("Replace=b&Add=a", "Add=a&Replace=b")]
#[case("Get=x+y+x", "Get=x+y")]
#[case("Exec=srv.example:443/dm~1", "Exec=srv.example:443/dm~1")]
#[case("Get=a+*", "Get=a+*")]
fn parse_valid(#[case] input: &str, #[case] canonical: &str) {
    let acl = Acl::parse(input).unwrap();
    assert_eq!(acl.to_string(), canonical);
    assert_eq!(Acl::parse(canonical).unwrap(), acl);
    assert_eq!(acl.is_empty(), input.is_empty());
}

// facts §4.4 grammar: invalid strings.
#[rstest]
#[case("Copy=a", "unknown_command", 0)]
#[case("get=a", "unknown_command", 0)]
#[case("=a", "unknown_command", 0)]
#[case("Get=", "no_server_ids", 0)]
#[case("Add=a&Get", "no_server_ids", 6)]
#[case("Get=a++b", "empty_server_id", 6)]
#[case("Get=a+", "empty_server_id", 6)]
#[case("Get=a b", "bad_server_id_char", 5)]
#[case("Get=a*", "bad_server_id_char", 5)]
#[case("Get=**", "bad_server_id_char", 4)]
#[case("Get=a=b", "bad_server_id_char", 5)]
#[case("Get=é", "bad_server_id_char", 4)]
#[case("Get=a&&Add=b", "empty_entry", 6)]
#[case("&Get=a", "empty_entry", 0)]
#[case("Get=a&", "empty_entry", 6)]
#[case("Get=a&Get=b", "duplicate_command", 6)]
fn parse_invalid(#[case] input: &str, #[case] kind: &str, #[case] offset: usize) {
    let e = Acl::parse(input).unwrap_err();
    assert_eq!(e.kind(), kind, "{e}");
    assert!(e.to_string().contains(&format!("byte {offset}")), "{e}");
}

// facts §4.4: `*` wins.
#[test]
fn wildcard_wins() {
    let acl = Acl::parse("Get=a+*").unwrap();
    assert!(acl.allows(AclCommand::Get, "zzz"));
}

// facts §4.4: removing a ServerID.
#[rstest]
#[case(EXAMPLE, "srvA", true, "Get=*&Replace=srvB")]
#[case(EXAMPLE, "srvB", true, "Add=srvA&Delete=srvA&Get=*&Replace=srvA")]
#[case(EXAMPLE, "srvC", false, "Add=srvA&Delete=srvA&Get=*&Replace=srvA+srvB")]
#[case("Get=*", "*", false, "Get=*")]
#[case("Get=a", "a", true, "")]
fn scrub(#[case] input: &str, #[case] id: &str, #[case] changed: bool, #[case] out: &str) {
    let mut acl = Acl::parse(input).unwrap();
    assert_eq!(acl.scrub(id), changed);
    assert_eq!(acl.to_string(), out);
}

// facts §4.4: root command left empty becomes `*`.
#[test]
fn scrub_root_keeps_commands_as_wildcard() {
    let mut acl = Acl::parse("Add=a&Get=a+b").unwrap();
    assert!(acl.scrub_root("a"));
    assert_eq!(acl.to_string(), "Add=*&Get=b");
}

// facts §4.4: inheritance takes the nearest non-empty ACL, whole.
#[test]
fn effective_is_nearest_non_empty() {
    let node = Acl::new();
    let parent = Acl::parse("Get=p").unwrap();
    let root = Acl::parse("Add=*&Get=*").unwrap();
    assert_eq!(effective([&node, &parent, &root]), Some(&parent));
    assert_eq!(effective([&root]), Some(&root));
    assert_eq!(effective([&node, &node]), None);
    // No per-command merge: the parent has no Add, so Add is denied.
    assert!(!effective([&node, &parent, &root])
        .unwrap()
        .allows(AclCommand::Add, "p"));
}

#[test]
fn grant_checks_ids() {
    let mut acl = Acl::new();
    acl.grant(AclCommand::Get, AclPrincipal::Server("s1".into()))
        .unwrap();
    acl.grant(AclCommand::Get, AclPrincipal::Any).unwrap();
    acl.grant(AclCommand::Get, AclPrincipal::Server("s1".into()))
        .unwrap();
    assert_eq!(acl.to_string(), "Get=s1+*");
    assert!(acl
        .grant(AclCommand::Add, AclPrincipal::Server("a b".into()))
        .is_err());
    assert!(acl
        .grant(AclCommand::Add, AclPrincipal::Server(String::new()))
        .is_err());
}
