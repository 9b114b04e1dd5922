//! The DDFs of the MOs the reference client implements beyond the standard four
//! (docs/mo/README.md): SCOMO (facts §10) and the project-defined backup and schedule MOs
//! (docs/migration.md, docs/scheduling.md). Each parses as a DDF without DTD violations
//! (facts §9.1); the schedule MO has exactly the nodes docs/scheduling.md lists, and the
//! device-set nodes are Get-only.
#![allow(clippy::unwrap_used)]

use dm_protocol::tnds::{AccessRight, DfType, DocumentKind, Format, TndsDocument};
use rstest::rstest;

const SCOMO: &str = include_str!("../../docs/mo/scomo.ddf.xml");
const BACKUP: &str = include_str!("../../docs/mo/backup.ddf.xml");
const SCHEDULE: &str = include_str!("../../docs/mo/schedule.ddf.xml");

fn parse(xml: &str) -> TndsDocument {
    let doc = TndsDocument::parse_xml(xml.as_bytes()).unwrap();
    assert_eq!(doc.kind(), DocumentKind::Ddf);
    assert!(doc.violations.is_empty(), "{:#?}", doc.violations);
    doc
}

#[rstest]
#[case::scomo(SCOMO, "./SCOMO", "urn:oma:mo:oma-scomo:1.0")]
#[case::backup(BACKUP, "./Backup", "urn:dmconf:mo:backup:1.0")]
#[case::schedule(SCHEDULE, "./Schedule", "urn:dmconf:mo:schedule:1.0")]
fn each_file_is_a_clean_ddf_with_its_mo_identifier(
    #[case] xml: &str,
    #[case] root: &str,
    #[case] mo_id: &str,
) {
    let doc = parse(xml);
    let flat = doc.tree.flatten();
    let top = flat.iter().find(|f| f.uri == root).unwrap();
    let df = top.node.df.as_ref().unwrap();
    assert_eq!(df.df_format, Format::Node);
    assert_eq!(df.df_type, DfType::DdfName(mo_id.into()));
    // facts §9.1: every node carries DFProperties with a Description.
    for f in &flat {
        let df = f
            .node
            .df
            .as_ref()
            .unwrap_or_else(|| panic!("{} has no DFProperties", f.uri));
        assert!(df.description.is_some(), "{} has no Description", f.uri);
    }
}

// docs/scheduling.md "The MO": the exact node list.
#[test]
fn the_schedule_mo_has_the_documented_nodes() {
    let doc = parse(SCHEDULE);
    let uris: Vec<String> = doc.tree.flatten().into_iter().map(|f| f.uri).collect();
    let expected = [
        "./Schedule",
        "./Schedule/",
        "./Schedule//Task",
        "./Schedule//Task/Commands",
        "./Schedule//Task/Groups",
        "./Schedule//Task/Groups/",
        "./Schedule//Task/Groups//Condition",
        "./Schedule//Task/Groups//Commands",
        "./Schedule//Trigger",
        "./Schedule//Trigger/At",
        "./Schedule//Trigger/Every",
        "./Schedule//Trigger/When",
        "./Schedule//Trigger/OnChange",
        "./Schedule//End",
        "./Schedule//End/Count",
        "./Schedule//End/Until",
        "./Schedule//Report",
        "./Schedule//Report/Mode",
        "./Schedule//Prompt",
        "./Schedule//State",
        "./Schedule//Verification",
        "./Schedule//Owner",
        "./Schedule//Next",
        "./Schedule//Last",
        "./Schedule//Last/Time",
        "./Schedule//Last/Result",
        "./Schedule//Last/Count",
        "./Schedule//Last/Observed",
    ];
    assert_eq!(uris, expected);
}

// docs/scheduling.md: device-set nodes are Get only (a server's Add or Replace is 405,
// facts §9.1); server-written leaves have Add, Delete, Get and Replace; counts are int.
#[rstest]
#[case("./Schedule//Verification", Format::Int, false)]
#[case("./Schedule//Next", Format::Chr, false)]
#[case("./Schedule//Owner", Format::Chr, false)]
#[case("./Schedule//Last/Count", Format::Int, false)]
#[case("./Schedule//Last/Observed", Format::Chr, false)]
#[case("./Schedule//Trigger/Every", Format::Int, true)]
#[case("./Schedule//End/Count", Format::Int, true)]
#[case("./Schedule//Task/Commands", Format::Chr, true)]
#[case("./Schedule//State", Format::Chr, true)]
fn leaf_formats_and_rights(#[case] uri: &str, #[case] format: Format, #[case] writable: bool) {
    let doc = parse(SCHEDULE);
    let flat = doc.tree.flatten();
    let df = flat
        .iter()
        .find(|f| f.uri == uri)
        .unwrap()
        .node
        .df
        .clone()
        .unwrap();
    assert_eq!(df.df_format, format, "{uri}");
    let access = df.access_type;
    assert!(access.contains(AccessRight::Get), "{uri}");
    for right in [AccessRight::Add, AccessRight::Replace, AccessRight::Delete] {
        assert_eq!(access.contains(right), writable, "{uri} {right:?}");
    }
}
