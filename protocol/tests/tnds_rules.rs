//! Rule tables for the TNDS/DDF model, each citing the fact sheet section it checks.
#![allow(clippy::unwrap_used)]

use dm_protocol::dom::{Element, Node as DomNode, Pos, NS_DMDDF12};
use dm_protocol::tnds::{
    from_dom, to_dom, ApplyTndsFilter, BuildError, DocumentKind, Entry, Format, MgmtTree, Node,
    NodeContent, NodeType, Occurrence, RtProperties, TndsDocument, TndsError,
};
use dm_protocol::uri::{Property, TndsField, TndsFilter, UriError};
use rstest::rstest;

fn wrap_node(node_body: &str) -> String {
    format!(
        "<MgmtTree xmlns='syncml:dmddf1.2'><VerDTD>1.2</VerDTD><Node>{node_body}</Node></MgmtTree>"
    )
}

fn kinds(doc: &TndsDocument) -> Vec<&'static str> {
    doc.violations.iter().map(|v| v.kind.name()).collect()
}

fn rt(format: Format, mime: &str) -> RtProperties {
    RtProperties {
        format: Some(format),
        type_: Some(NodeType::Mime(mime.into())),
        ..RtProperties::default()
    }
}

// facts §9.1: Format / DFFormat tokens.
#[rstest]
#[case("b64", Format::B64)]
#[case("bin", Format::Bin)]
#[case("bool", Format::Bool)]
#[case("chr", Format::Chr)]
#[case("int", Format::Int)]
#[case("node", Format::Node)]
#[case("null", Format::Null)]
#[case("xml", Format::Xml)]
#[case("date", Format::Date)]
#[case("time", Format::Time)]
#[case("float", Format::Float)]
fn format_tokens_round_trip(#[case] token: &str, #[case] format: Format) {
    assert_eq!(token.parse::<Format>().unwrap(), format);
    assert_eq!(format.as_str(), token);
    assert_eq!(serde_json::to_value(format).unwrap(), token);
}

#[rstest]
#[case("CHR")]
#[case("string")]
#[case("")]
fn unknown_format_tokens_are_errors(#[case] token: &str) {
    let err = token.parse::<Format>().unwrap_err();
    assert!(err.to_string().contains("facts §9.1"), "{err}");
}

// facts §9.1: RTProperties (ACL?, Format?, Name?, Size?, Title?, TStamp?, Type, VerNo?).
#[rstest]
#[case::dtd_order("<ACL>Get=*</ACL><Format><chr/></Format><Type><MIME>t</MIME></Type>", &[])]
#[case::type_first("<Type><MIME>t</MIME></Type><Format><chr/></Format>", &["wrong_order"])]
#[case::verno_before_type("<VerNo>1</VerNo><Type><MIME>t</MIME></Type>", &["wrong_order"])]
#[case::type_missing("<Format><chr/></Format>", &["missing_element"])]
#[case::type_repeated("<Type><MIME>t</MIME></Type><Type><MIME>u</MIME></Type>", &["repeated"])]
#[case::unknown_child("<Type><MIME>t</MIME></Type><Color/>", &["unexpected_element"])]
#[case::size_not_number("<Size>1k</Size><Type><MIME>t</MIME></Type>", &["bad_number"])]
#[case::size_too_big("<Size>4294967296</Size><Type><MIME>t</MIME></Type>", &["bad_value"])]
#[case::verno_too_big("<Type><MIME>t</MIME></Type><VerNo>65536</VerNo>", &["bad_value"])]
#[case::format_empty("<Format/><Type><MIME>t</MIME></Type>", &["missing_element"])]
#[case::format_two("<Format><chr/><int/></Format><Type><MIME>t</MIME></Type>", &["unexpected_element"])]
#[case::type_both("<Type><MIME>t</MIME><DDFName>d</DDFName></Type>", &["unexpected_element"])]
fn rt_properties_content_model(#[case] body: &str, #[case] expected: &[&str]) {
    let xml = wrap_node(&format!(
        "<NodeName>n</NodeName><RTProperties>{body}</RTProperties>"
    ));
    let doc = TndsDocument::parse_xml(xml.as_bytes()).unwrap();
    assert_eq!(kinds(&doc), expected);
}

// facts §4.3: Title at most 255 bytes.
#[test]
fn long_title_is_bad_value_but_kept() {
    let title = "x".repeat(256);
    let xml = wrap_node(&format!(
        "<NodeName>n</NodeName><RTProperties><Title>{title}</Title><Type><MIME>t</MIME></Type></RTProperties>"
    ));
    let doc = TndsDocument::parse_xml(xml.as_bytes()).unwrap();
    assert_eq!(kinds(&doc), ["bad_value"]);
    assert_eq!(
        doc.tree.nodes[0].rt.as_ref().unwrap().title.as_deref(),
        Some(&*title)
    );
}

// facts §9.1: Occurrence ZeroOrN / OneOrN carry N in 2..65536.
#[rstest]
#[case("<ZeroOrN>2</ZeroOrN>", Some(Occurrence::ZeroOrN(2)), &[])]
#[case("<ZeroOrN>65536</ZeroOrN>", Some(Occurrence::ZeroOrN(65536)), &[])]
#[case("<OneOrN>10</OneOrN>", Some(Occurrence::OneOrN(10)), &[])]
#[case("<ZeroOrN>1</ZeroOrN>", None, &["bad_value"])]
#[case("<OneOrN>65537</OneOrN>", None, &["bad_value"])]
#[case("<OneOrN>many</OneOrN>", None, &["bad_number"])]
#[case("<One/>", Some(Occurrence::One), &[])]
#[case("<ZeroOrMore/>", Some(Occurrence::ZeroOrMore), &[])]
#[case("<Few/>", None, &["bad_value"])]
fn occurrence_values(
    #[case] inner: &str,
    #[case] want: Option<Occurrence>,
    #[case] violations: &[&str],
) {
    let xml = wrap_node(&format!(
        "<NodeName>n</NodeName><DFProperties><AccessType><Get/></AccessType><DFFormat><chr/></DFFormat><Occurrence>{inner}</Occurrence><DFType><MIME>t</MIME></DFType></DFProperties>"
    ));
    let doc = TndsDocument::parse_xml(xml.as_bytes()).unwrap();
    assert_eq!(doc.tree.nodes[0].df.as_ref().unwrap().occurrence, want);
    assert_eq!(kinds(&doc), violations);
}

// facts §9.1: the root must be MgmtTree; DFFormat / DFType are mandatory in DFProperties.
#[rstest]
#[case("<SyncML xmlns='SYNCML:SYNCML1.2'/>", "not_mgmt_tree")]
#[case("<Node/>", "not_mgmt_tree")]
#[case("<MgmtTree", "xml")]
#[case(&wrap_node("<NodeName>n</NodeName><DFProperties><AccessType/><DFType><MIME>t</MIME></DFType></DFProperties>"), "unusable")]
#[case(&wrap_node("<NodeName>n</NodeName><DFProperties><AccessType/><DFFormat><chr/></DFFormat><DFType/></DFProperties>"), "unusable")]
fn hard_errors(#[case] xml: &str, #[case] kind: &str) {
    let err = TndsDocument::parse_xml(xml.as_bytes()).unwrap_err();
    assert_eq!(err.kind(), kind, "{err}");
}

#[test]
fn hard_errors_say_where() {
    let err = TndsDocument::parse_xml(b"\n  <Foo/>").unwrap_err();
    assert_eq!(
        err,
        TndsError::NotMgmtTree {
            found: "Foo".into(),
            pos: Pos::Xml { line: 2, column: 3 }
        }
    );
    assert!(
        err.to_string().starts_with("2:3: root element is <Foo>"),
        "{err}"
    );
}

// facts §9.1: MgmtTree (VerDTD, Man?, Mod?, Node+).
#[rstest]
#[case("<VerDTD>1.2</VerDTD><Node><NodeName>a</NodeName></Node>", &[])]
#[case("<Node><NodeName>a</NodeName></Node>", &["missing_element"])]
#[case("<VerDTD>1.2</VerDTD>", &["missing_element"])]
#[case("<VerDTD>1.2</VerDTD><Mod>m</Mod><Man>x</Man><Node><NodeName>a</NodeName></Node>", &["wrong_order"])]
#[case("<VerDTD>2.0</VerDTD><Node><NodeName>a</NodeName></Node>", &["bad_value"])]
#[case("<VerDTD>1.2</VerDTD>text<Node><NodeName>a</NodeName></Node>", &["unexpected_text"])]
#[case("<VerDTD>1.2</VerDTD><Node><Path>p</Path></Node>", &["missing_element"])]
#[case("<VerDTD>1.2</VerDTD><Node><Path>p</Path><NodeName>a</NodeName></Node>", &["wrong_order"])]
fn mgmt_tree_and_node_content_model(#[case] body: &str, #[case] expected: &[&str]) {
    let xml = format!("<MgmtTree xmlns='syncml:dmddf1.2'>{body}</MgmtTree>");
    let doc = TndsDocument::parse_xml(xml.as_bytes()).unwrap();
    assert_eq!(kinds(&doc), expected);
}

// facts §9.2: which property blocks make a TNDS or a DDF.
#[rstest]
#[case(
    "<NodeName>a</NodeName><RTProperties><Type><MIME>t</MIME></Type></RTProperties>",
    DocumentKind::Tnds
)]
#[case("<NodeName>a</NodeName><DFProperties><AccessType/><DFFormat><chr/></DFFormat><DFType><MIME>t</MIME></DFType></DFProperties>", DocumentKind::Ddf)]
#[case("<NodeName>a</NodeName>", DocumentKind::Indeterminate)]
fn document_kind(#[case] body: &str, #[case] kind: DocumentKind) {
    let doc = TndsDocument::parse_xml(wrap_node(body).as_bytes()).unwrap();
    assert_eq!(doc.kind(), kind);
}

// facts §9.2: RTProperties mandatory, Type mandatory, Path mandatory when importing.
#[rstest]
#[case(
    "<NodeName>a</NodeName><RTProperties><Type><MIME>t</MIME></Type></RTProperties>",
    false,
    0
)]
#[case(
    "<NodeName>a</NodeName><RTProperties><Type><MIME>t</MIME></Type></RTProperties>",
    true,
    1
)]
#[case(
    "<NodeName>a</NodeName><Path>.</Path><RTProperties><Type><MIME>t</MIME></Type></RTProperties>",
    true,
    0
)]
#[case("<NodeName>a</NodeName><Path>.</Path>", true, 1)]
#[case("<NodeName>a</NodeName>", true, 2)]
fn tnds_rules(#[case] body: &str, #[case] importing: bool, #[case] count: usize) {
    let doc = TndsDocument::parse_xml(wrap_node(body).as_bytes()).unwrap();
    let v = doc.tnds_violations(importing);
    assert_eq!(v.len(), count, "{v:?}");
    assert!(v.iter().all(|v| v.kind.name() == "missing_element"));
    assert_eq!(doc.tree.tnds_violations(importing).len(), count);
}

// facts §9.1: the canonical form puts every element in syncml:dmddf1.2.
#[test]
fn canonical_dom_has_the_namespace_everywhere() {
    fn all_in_ns(e: &Element) -> bool {
        e.ns == NS_DMDDF12
            && e.children.iter().all(|c| match c {
                DomNode::Element(c) => all_in_ns(c),
                _ => true,
            })
    }
    let xml = std::fs::read("../vectors/tnds/06-ddf-dmacc/input.xml").unwrap();
    let doc = TndsDocument::parse_xml(&xml).unwrap();
    let dom = to_dom(&doc.tree);
    assert!(all_in_ns(&dom));
    let (again, v) = from_dom(&dom).unwrap();
    assert_eq!(again, doc.tree);
    assert!(v.is_empty());
}

// facts §4.1 / §9.1: node URIs from Path + NodeName.
#[rstest]
#[case(None, "./A")]
#[case(Some("."), "./A")]
#[case(Some("./"), "./A")]
#[case(Some(""), "./A")]
#[case(Some("./Vendor"), "./Vendor/A")]
#[case(Some("Vendor/X/"), "./Vendor/X/A")]
fn flatten_uses_path_then_names(#[case] path: Option<&str>, #[case] uri: &str) {
    let mut top = Node::interior(
        "A",
        Some(rt(Format::Node, "")),
        vec![Node::leaf("B", Some(rt(Format::Chr, "text/plain")), None)],
    );
    top.path = path.map(str::to_string);
    let tree = MgmtTree::new(vec![top]);
    let flat = tree.flatten();
    assert_eq!(flat.len(), 2);
    assert_eq!(flat[0].uri, uri);
    assert_eq!(flat[0].depth, 0);
    assert_eq!(flat[1].uri, format!("{uri}/B"));
    assert_eq!(flat[1].depth, 1);
}

fn entry(uri: &str, format: Format, value: Option<&str>) -> Entry {
    Entry {
        uri: uri.into(),
        rt: rt(format, "text/plain"),
        value: value.map(str::to_string),
    }
}

#[test]
fn from_entries_nests_by_uri_and_flattens_back() {
    let entries = vec![
        entry("./Vendor/Acme", Format::Node, None),
        entry("./Vendor/Acme/Host", Format::Chr, Some("h")),
        entry("Vendor/Acme/Empty", Format::Node, None),
        entry("./Other/Leaf", Format::Int, Some("1")),
    ];
    let tree = MgmtTree::from_entries(&entries).unwrap();
    assert_eq!(tree.nodes.len(), 2);
    assert_eq!(tree.nodes[0].path.as_deref(), Some("./Vendor"));
    assert_eq!(tree.nodes[1].path.as_deref(), Some("./Other"));
    assert_eq!(
        tree.nodes[0].children()[1].content,
        NodeContent::Children(vec![])
    );
    let uris: Vec<String> = tree.flatten().into_iter().map(|f| f.uri).collect();
    assert_eq!(
        uris,
        [
            "./Vendor/Acme",
            "./Vendor/Acme/Host",
            "./Vendor/Acme/Empty",
            "./Other/Leaf"
        ]
    );
    // And it is a valid TNDS for import (facts §9.2).
    assert!(tree.tnds_violations(true).is_empty());
}

#[rstest]
#[case(vec![], "no node entries")]
#[case(vec![entry(".", Format::Node, None)], "root itself")]
#[case(vec![entry("./A//B", Format::Chr, None)], "empty segment")]
#[case(vec![entry("./A/../B", Format::Chr, None)], "not valid segments")]
#[case(vec![entry("./A", Format::Chr, None), entry("A", Format::Chr, None)], "appears twice")]
#[case(vec![entry("./A", Format::Chr, Some("v")), entry("./A/B", Format::Chr, None)], "value and child")]
fn from_entries_errors(#[case] entries: Vec<Entry>, #[case] words: &str) {
    let err: BuildError = MgmtTree::from_entries(&entries).unwrap_err();
    assert!(err.to_string().contains(words), "{err}");
}

// facts §4.6: ?list=TNDS, +Prop includes, -Prop excludes, not mixed. The one parser of that
// syntax lives in `uri`; these cases pin what the TNDS side relies on.
#[rstest]
#[case("TNDS", TndsFilter::All)]
#[case("TNDS+Value+ACL", TndsFilter::Include(vec![TndsField::Value, TndsField::Prop(Property::Acl)]))]
#[case("TNDS-Format", TndsFilter::Exclude(vec![TndsField::Prop(Property::Format)]))]
#[case("TNDS-TStamp-VerNo-Size", TndsFilter::Exclude(vec![TndsField::Prop(Property::TStamp), TndsField::Prop(Property::VerNo), TndsField::Prop(Property::Size)]))]
fn property_filter_parses(#[case] text: &str, #[case] want: TndsFilter) {
    assert_eq!(text.parse::<TndsFilter>().unwrap(), want);
}

#[rstest]
#[case("Struct", "unknown_list_attribute")]
#[case("TNDSX", "unknown_list_attribute")]
#[case("TNDS+Value-ACL", "mixed_tnds_filter")]
#[case("TNDS+Colour", "unknown_tnds_field")]
#[case("TNDS+", "unknown_tnds_field")]
#[case("TNDS+acl", "unknown_tnds_field")]
fn property_filter_rejects(#[case] text: &str, #[case] kind: &str) {
    let err: UriError = text.parse::<TndsFilter>().unwrap_err();
    assert_eq!(err.kind(), kind, "{err}");
}

#[test]
fn property_filter_strips_properties_and_values() {
    let full = RtProperties {
        acl: Some("Get=*".into()),
        format: Some(Format::Chr),
        name: Some("H".into()),
        size: Some(1),
        title: Some("t".into()),
        tstamp: Some("20010711T163817Z".into()),
        type_: Some(NodeType::Mime("text/plain".into())),
        ver_no: Some(3),
    };
    let tree = MgmtTree::new(vec![Node::interior(
        "A",
        Some(rt(Format::Node, "")),
        vec![Node::leaf("H", Some(full.clone()), Some("v".into()))],
    )]);
    let inc: TndsFilter = "TNDS+Value+ACL".parse().unwrap();
    let out = inc.apply(&tree);
    let leaf = &out.nodes[0].children()[0];
    assert_eq!(
        leaf.rt,
        Some(RtProperties {
            acl: Some("Get=*".into()),
            // Type is mandatory in RTProperties (facts §9.1), so the filter keeps it.
            type_: full.type_.clone(),
            ..RtProperties::default()
        })
    );
    assert_eq!(leaf.value(), Some("v"));
    let exc: TndsFilter = "TNDS-Format-Value".parse().unwrap();
    let out = exc.apply(&tree);
    let leaf = &out.nodes[0].children()[0];
    assert_eq!(leaf.rt.as_ref().unwrap().format, None);
    assert_eq!(leaf.rt.as_ref().unwrap().acl, full.acl);
    assert_eq!(leaf.content, NodeContent::Value(None));
    assert_eq!(TndsFilter::All.apply(&tree), tree);
}
