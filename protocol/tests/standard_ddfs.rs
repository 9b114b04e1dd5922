//! The DDF documents of the standard management objects in `docs/mo/` (facts §5.2–§5.5):
//! each parses as a DDF without violations (facts §9.1), has exactly the nodes of its fact
//! sheet table, and carries the key properties the fact sheet states.
#![allow(clippy::unwrap_used)]

use dm_protocol::tnds::{
    AccessRight, AccessType, DfProperties, DfType, DocumentKind, Format, Occurrence, Scope,
    TndsDocument,
};
use rstest::rstest;

const DEVINFO: &str = include_str!("../../docs/mo/devinfo.ddf.xml");
const DEVDETAIL: &str = include_str!("../../docs/mo/devdetail.ddf.xml");
const DMACC: &str = include_str!("../../docs/mo/dmacc.ddf.xml");
const INBOX: &str = include_str!("../../docs/mo/inbox.ddf.xml");

use AccessRight::{Add, Delete, Get, Replace};

fn parse(xml: &str) -> TndsDocument {
    let doc = TndsDocument::parse_xml(xml.as_bytes()).unwrap();
    assert_eq!(doc.kind(), DocumentKind::Ddf);
    assert!(doc.violations.is_empty(), "{:#?}", doc.violations);
    doc
}

fn uris(doc: &TndsDocument) -> Vec<String> {
    doc.tree.flatten().into_iter().map(|f| f.uri).collect()
}

/// The DFProperties of the node at `uri` (which must exist and have them).
fn df<'a>(doc: &'a TndsDocument, uri: &str) -> &'a DfProperties {
    let flat = doc.tree.flatten();
    let found = flat
        .into_iter()
        .find(|f| f.uri == uri)
        .unwrap_or_else(|| panic!("no node {uri}"));
    found.node.df.as_ref().unwrap()
}

fn text_plain() -> DfType {
    DfType::Mime(vec!["text/plain".into()])
}

// facts §9.1: every file is a DDF with no DTD breach; every node has DFProperties with a
// Description, an explicit Occurrence and Scope; the top node sits under the root (no Path)
// and carries its MO identifier (facts §5.1); interior nodes have no MIME type and leaves
// no DDFName.
#[rstest]
#[case::devinfo(DEVINFO, "./DevInfo", "urn:oma:mo:oma-dm-devinfo:1.0")]
#[case::devdetail(DEVDETAIL, "./DevDetail", "urn:oma:mo:oma-dm-devdetail:1.0")]
#[case::dmacc(DMACC, "./DMAcc", "urn:oma:mo:oma-dm-dmacc:1.0")]
#[case::inbox(INBOX, "./Inbox", "urn:oma:mo:oma-dm-inbox:1.0")]
fn each_file_is_a_clean_ddf(#[case] xml: &str, #[case] root: &str, #[case] mo_id: &str) {
    let doc = parse(xml);
    assert_eq!(doc.tree.ver_dtd, "1.2");
    assert_eq!(doc.tree.nodes.len(), 1);
    assert_eq!(doc.tree.nodes[0].path, None);
    let top = df(&doc, root);
    assert_eq!(top.df_type, DfType::DdfName(mo_id.into()));
    assert_eq!(top.df_format, Format::Node);
    assert_eq!(top.occurrence, Some(Occurrence::One));
    assert_eq!(top.scope, Some(Scope::Permanent));
    for f in doc.tree.flatten() {
        assert!(f.node.rt.is_none(), "{}: RTProperties in a DDF", f.uri);
        let d = f.node.df.as_ref().unwrap();
        assert!(
            d.description.as_deref().is_some_and(|s| !s.is_empty()),
            "{}: no Description",
            f.uri
        );
        assert!(d.occurrence.is_some(), "{}: no Occurrence", f.uri);
        assert!(d.scope.is_some(), "{}: no Scope", f.uri);
        assert!(!d.access_type.0.is_empty(), "{}: empty AccessType", f.uri);
        match d.df_format {
            Format::Node => assert!(
                matches!(d.df_type, DfType::DdfName(_)),
                "{}: interior node with a MIME type",
                f.uri
            ),
            Format::Bin => assert_eq!(
                d.df_type,
                DfType::Mime(vec!["application/octet-stream".into()]),
                "{}",
                f.uri
            ),
            _ => assert_eq!(d.df_type, text_plain(), "{}", f.uri),
        }
    }
}

// facts §5.2.
#[test]
fn devinfo_nodes() {
    let doc = parse(DEVINFO);
    assert_eq!(
        uris(&doc),
        [
            "./DevInfo",
            "./DevInfo/DevId",
            "./DevInfo/Man",
            "./DevInfo/Mod",
            "./DevInfo/DmV",
            "./DevInfo/Lang",
            "./DevInfo/Bearer",
            "./DevInfo/Ext",
        ]
    );
}

// facts §5.3.
#[test]
fn devdetail_nodes() {
    let doc = parse(DEVDETAIL);
    assert_eq!(
        uris(&doc),
        [
            "./DevDetail",
            "./DevDetail/URI",
            "./DevDetail/URI/MaxDepth",
            "./DevDetail/URI/MaxTotLen",
            "./DevDetail/URI/MaxSegLen",
            "./DevDetail/DevTyp",
            "./DevDetail/OEM",
            "./DevDetail/FwV",
            "./DevDetail/SwV",
            "./DevDetail/HwV",
            "./DevDetail/LrgObj",
            "./DevDetail/Bearer",
            "./DevDetail/Ext",
        ]
    );
}

// facts §5.4: unnamed (empty NodeName) nodes give empty URI segments.
#[test]
fn dmacc_nodes() {
    let doc = parse(DMACC);
    assert_eq!(
        uris(&doc),
        [
            "./DMAcc",
            "./DMAcc/",
            "./DMAcc//AppID",
            "./DMAcc//ServerID",
            "./DMAcc//Name",
            "./DMAcc//PrefConRef",
            "./DMAcc//ToConRef",
            "./DMAcc//ToConRef/",
            "./DMAcc//ToConRef//ConRef",
            "./DMAcc//AppAddr",
            "./DMAcc//AppAddr/",
            "./DMAcc//AppAddr//Addr",
            "./DMAcc//AppAddr//AddrType",
            "./DMAcc//AppAddr//Port",
            "./DMAcc//AppAddr//Port/",
            "./DMAcc//AppAddr//Port//PortNbr",
            "./DMAcc//AAuthPref",
            "./DMAcc//AppAuth",
            "./DMAcc//AppAuth/",
            "./DMAcc//AppAuth//AAuthLevel",
            "./DMAcc//AppAuth//AAuthType",
            "./DMAcc//AppAuth//AAuthName",
            "./DMAcc//AppAuth//AAuthSecret",
            "./DMAcc//AppAuth//AAuthData",
            "./DMAcc//Ext",
        ]
    );
}

// facts §5.5.
#[test]
fn inbox_nodes() {
    let doc = parse(INBOX);
    assert_eq!(uris(&doc), ["./Inbox"]);
}

// facts §5.2: DevInfo nodes are Get-only and device-made (Permanent); mandatory leaves
// occur once, Bearer and Ext at most once.
#[rstest]
#[case("./DevInfo", Format::Node, Occurrence::One)]
#[case("./DevInfo/DevId", Format::Chr, Occurrence::One)]
#[case("./DevInfo/Man", Format::Chr, Occurrence::One)]
#[case("./DevInfo/Mod", Format::Chr, Occurrence::One)]
#[case("./DevInfo/DmV", Format::Chr, Occurrence::One)]
#[case("./DevInfo/Lang", Format::Chr, Occurrence::One)]
#[case("./DevInfo/Bearer", Format::Node, Occurrence::ZeroOrOne)]
#[case("./DevInfo/Ext", Format::Node, Occurrence::ZeroOrOne)]
fn devinfo_properties(#[case] uri: &str, #[case] format: Format, #[case] occ: Occurrence) {
    let doc = parse(DEVINFO);
    let d = df(&doc, uri);
    assert_eq!(d.access_type, AccessType::of(&[Get]));
    assert_eq!(d.scope, Some(Scope::Permanent));
    assert_eq!(d.df_format, format);
    assert_eq!(d.occurrence, Some(occ));
}

// facts §5.3: DevDetail formats (LrgObj is bool); everything Get-only and Permanent.
#[rstest]
#[case("./DevDetail/URI", Format::Node)]
#[case("./DevDetail/URI/MaxDepth", Format::Chr)]
#[case("./DevDetail/URI/MaxTotLen", Format::Chr)]
#[case("./DevDetail/URI/MaxSegLen", Format::Chr)]
#[case("./DevDetail/DevTyp", Format::Chr)]
#[case("./DevDetail/OEM", Format::Chr)]
#[case("./DevDetail/FwV", Format::Chr)]
#[case("./DevDetail/SwV", Format::Chr)]
#[case("./DevDetail/HwV", Format::Chr)]
#[case("./DevDetail/LrgObj", Format::Bool)]
#[case("./DevDetail/Bearer", Format::Node)]
#[case("./DevDetail/Ext", Format::Node)]
fn devdetail_properties(#[case] uri: &str, #[case] format: Format) {
    let doc = parse(DEVDETAIL);
    let d = df(&doc, uri);
    assert_eq!(d.df_format, format);
    assert_eq!(d.access_type, AccessType::of(&[Get]));
    assert_eq!(d.scope, Some(Scope::Permanent));
}

// facts §5.4: occurrences and formats of the account nodes; everything below the
// Permanent DMAcc root is Dynamic (created with the account).
#[rstest]
#[case("./DMAcc/", Format::Node, Occurrence::OneOrMore)]
#[case("./DMAcc//AppID", Format::Chr, Occurrence::One)]
#[case("./DMAcc//ServerID", Format::Chr, Occurrence::One)]
#[case("./DMAcc//Name", Format::Chr, Occurrence::ZeroOrOne)]
#[case("./DMAcc//PrefConRef", Format::Chr, Occurrence::ZeroOrOne)]
#[case("./DMAcc//ToConRef", Format::Node, Occurrence::ZeroOrOne)]
#[case("./DMAcc//ToConRef/", Format::Node, Occurrence::OneOrMore)]
#[case("./DMAcc//ToConRef//ConRef", Format::Chr, Occurrence::One)]
#[case("./DMAcc//AppAddr", Format::Node, Occurrence::One)]
#[case("./DMAcc//AppAddr/", Format::Node, Occurrence::OneOrMore)]
#[case("./DMAcc//AppAddr//Addr", Format::Chr, Occurrence::One)]
#[case("./DMAcc//AppAddr//AddrType", Format::Chr, Occurrence::One)]
#[case("./DMAcc//AppAddr//Port", Format::Node, Occurrence::ZeroOrOne)]
#[case("./DMAcc//AppAddr//Port/", Format::Node, Occurrence::OneOrMore)]
#[case("./DMAcc//AppAddr//Port//PortNbr", Format::Chr, Occurrence::One)]
#[case("./DMAcc//AAuthPref", Format::Chr, Occurrence::ZeroOrOne)]
#[case("./DMAcc//AppAuth", Format::Node, Occurrence::ZeroOrOne)]
#[case("./DMAcc//AppAuth/", Format::Node, Occurrence::OneOrMore)]
#[case("./DMAcc//AppAuth//AAuthLevel", Format::Chr, Occurrence::One)]
#[case("./DMAcc//AppAuth//AAuthType", Format::Chr, Occurrence::One)]
#[case("./DMAcc//AppAuth//AAuthName", Format::Chr, Occurrence::ZeroOrOne)]
#[case("./DMAcc//AppAuth//AAuthSecret", Format::Chr, Occurrence::ZeroOrOne)]
#[case("./DMAcc//AppAuth//AAuthData", Format::Bin, Occurrence::ZeroOrOne)]
#[case("./DMAcc//Ext", Format::Node, Occurrence::ZeroOrOne)]
fn dmacc_properties(#[case] uri: &str, #[case] format: Format, #[case] occ: Occurrence) {
    let doc = parse(DMACC);
    let d = df(&doc, uri);
    assert_eq!(d.df_format, format);
    assert_eq!(d.occurrence, Some(occ));
    assert_eq!(d.scope, Some(Scope::Dynamic));
}

// facts §5.4, §4.2: the DMAcc root is Permanent and Get-only; each account is created and
// removed by the server.
#[test]
fn dmacc_root_and_account() {
    let doc = parse(DMACC);
    let root = df(&doc, "./DMAcc");
    assert_eq!(root.access_type, AccessType::of(&[Get]));
    assert_eq!(root.scope, Some(Scope::Permanent));
    let account = df(&doc, "./DMAcc/");
    assert_eq!(account.occurrence, Some(Occurrence::OneOrMore));
    assert_eq!(account.scope, Some(Scope::Dynamic));
    assert_eq!(
        account.access_type,
        AccessType::of(&[Add, Delete, Get, Replace])
    );
}

// facts §5.4: the secrets cannot be read back; §4.2: Delete only where the parent allows it.
#[rstest]
#[case("./DMAcc//AppAuth//AAuthSecret")]
#[case("./DMAcc//AppAuth//AAuthData")]
fn dmacc_secrets_have_no_get(#[case] uri: &str) {
    let doc = parse(DMACC);
    let d = df(&doc, uri);
    assert!(!d.access_type.contains(Get));
    assert_eq!(d.access_type, AccessType::of(&[Add, Delete, Replace]));
    assert!(df(&doc, "./DMAcc//AppAuth/").access_type.contains(Delete));
}

// facts §5.4: AddrType defaults to URI, AppID is w7.
#[rstest]
#[case("./DMAcc//AppID", "w7")]
#[case("./DMAcc//AppAddr//AddrType", "URI")]
fn dmacc_defaults(#[case] uri: &str, #[case] value: &str) {
    let doc = parse(DMACC);
    assert_eq!(df(&doc, uri).default_value.as_deref(), Some(value));
}

// facts §5.5, §4.5: the Inbox accepts Add and nothing else (Get → 405).
#[test]
fn inbox_is_add_only() {
    let doc = parse(INBOX);
    let d = df(&doc, "./Inbox");
    assert_eq!(d.access_type, AccessType::of(&[Add]));
    assert_eq!(d.scope, Some(Scope::Permanent));
}

// facts §9.1: the canonical form of each file parses back to the same tree.
#[rstest]
#[case::devinfo(DEVINFO)]
#[case::devdetail(DEVDETAIL)]
#[case::dmacc(DMACC)]
#[case::inbox(INBOX)]
fn canonical_round_trip(#[case] xml: &str) {
    let doc = parse(xml);
    let again = parse(&doc.to_xml(false).unwrap());
    assert_eq!(again.tree, doc.tree);
}
