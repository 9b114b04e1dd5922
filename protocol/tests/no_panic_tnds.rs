//! Property tests: TNDS parsing never panics on hostile input, and any model tree round-trips
//! through its canonical dom, XML and WBXML unchanged and without violations. Facts §9.1.
#![allow(clippy::unwrap_used)]

use dm_protocol::tnds::{
    from_dom, to_dom, AccessRight, AccessType, CaseSense, DfProperties, DfType, Format, MgmtTree,
    Node, NodeContent, NodeType, Occurrence, RtProperties, Scope, TndsDocument,
};
use proptest::prelude::*;

fn text() -> impl Strategy<Value = String> {
    // Printable ASCII plus a few non-ASCII characters; XML-unsafe ones get escaped.
    "[ -~éü☺]{0,10}"
}

fn format() -> impl Strategy<Value = Format> {
    prop::sample::select(Format::ALL.to_vec())
}

fn node_type() -> impl Strategy<Value = NodeType> {
    prop_oneof![
        text().prop_map(NodeType::Mime),
        text().prop_map(NodeType::DdfName)
    ]
}

fn rt() -> impl Strategy<Value = RtProperties> {
    (
        (
            prop::option::of(text()),
            prop::option::of(format()),
            prop::option::of(text()),
            prop::option::of(any::<u32>()),
        ),
        (
            prop::option::of(text()),
            prop::option::of(text()),
            node_type(),
            prop::option::of(any::<u16>()),
        ),
    )
        .prop_map(
            |((acl, format, name, size), (title, tstamp, t, ver_no))| RtProperties {
                acl,
                format,
                name,
                size,
                title,
                tstamp,
                type_: Some(t),
                ver_no,
            },
        )
}

fn occurrence() -> impl Strategy<Value = Occurrence> {
    prop_oneof![
        Just(Occurrence::One),
        Just(Occurrence::ZeroOrOne),
        Just(Occurrence::ZeroOrMore),
        Just(Occurrence::OneOrMore),
        (2u32..=65536).prop_map(Occurrence::ZeroOrN),
        (2u32..=65536).prop_map(Occurrence::OneOrN),
    ]
}

fn df() -> impl Strategy<Value = DfProperties> {
    (
        (
            prop::sample::subsequence(AccessRight::ALL.to_vec(), 0..=6),
            prop::option::of(text()),
            prop::option::of(text()),
            format(),
            prop::option::of(occurrence()),
        ),
        (
            prop::option::of(prop_oneof![Just(Scope::Permanent), Just(Scope::Dynamic)]),
            prop::option::of(text()),
            prop_oneof![
                prop::collection::vec(text(), 1..3).prop_map(DfType::Mime),
                text().prop_map(DfType::DdfName),
            ],
            prop::option::of(prop_oneof![Just(CaseSense::Cs), Just(CaseSense::Cis)]),
        ),
    )
        .prop_map(
            |(
                (rights, default_value, description, df_format, occurrence),
                (scope, df_title, df_type, case_sense),
            )| {
                DfProperties {
                    access_type: AccessType::of(&rights),
                    default_value,
                    description,
                    df_format,
                    occurrence,
                    scope,
                    df_title,
                    df_type,
                    case_sense,
                }
            },
        )
}

/// A node whose empty content matches its format, the one ambiguity of the DTD's
/// `(Node* | Value?)` (see `NodeContent`).
fn fix_empty(mut n: Node) -> Node {
    let interior = n.rt.as_ref().and_then(|r| r.format) == Some(Format::Node)
        || n.df.as_ref().map(|d| d.df_format) == Some(Format::Node);
    n.content = match n.content {
        NodeContent::Children(c) if c.is_empty() && !interior => NodeContent::Value(None),
        NodeContent::Value(None) if interior => NodeContent::Children(Vec::new()),
        other => other,
    };
    n
}

fn node() -> impl Strategy<Value = Node> {
    let leaf = (
        text(),
        prop::option::of(text()),
        prop::option::of(rt()),
        prop::option::of(df()),
        prop::option::of(text()),
    )
        .prop_map(|(name, path, rt, df, value)| {
            fix_empty(Node {
                name,
                path,
                rt,
                df,
                content: NodeContent::Value(value),
            })
        });
    leaf.prop_recursive(4, 24, 4, |inner| {
        (
            text(),
            prop::option::of(text()),
            prop::option::of(rt()),
            prop::option::of(df()),
            prop::collection::vec(inner, 0..4),
        )
            .prop_map(|(name, path, rt, df, children)| {
                fix_empty(Node {
                    name,
                    path,
                    rt,
                    df,
                    content: NodeContent::Children(children),
                })
            })
    })
}

fn tree() -> impl Strategy<Value = MgmtTree> {
    (
        prop::option::of(text()),
        prop::option::of(text()),
        prop::collection::vec(node(), 1..4),
    )
        .prop_map(|(man, mod_, nodes)| MgmtTree {
            ver_dtd: "1.2".into(),
            man,
            mod_,
            nodes,
        })
}

const WORDS: &[&str] = &[
    "<MgmtTree xmlns='syncml:dmddf1.2'>",
    "</MgmtTree>",
    "<VerDTD>1.2</VerDTD>",
    "<Node>",
    "</Node>",
    "<NodeName>",
    "</NodeName>",
    "<Path>",
    "</Path>",
    "<RTProperties>",
    "</RTProperties>",
    "<DFProperties>",
    "</DFProperties>",
    "<Format>",
    "</Format>",
    "<chr/>",
    "<node/>",
    "<Type>",
    "</Type>",
    "<MIME>",
    "</MIME>",
    "<DDFName>",
    "</DDFName>",
    "<Value>",
    "</Value>",
    "<AccessType>",
    "<Get/>",
    "</AccessType>",
    "<DFFormat>",
    "</DFFormat>",
    "<DFType>",
    "</DFType>",
    "<Occurrence>",
    "<ZeroOrN>",
    "</ZeroOrN>",
    "</Occurrence>",
    "<Size>",
    "</Size>",
    "<VerNo>",
    "</VerNo>",
    "x",
    "65537",
    " ",
    "&amp;",
    "<![CDATA[<]]>",
    "<dm:Node xmlns:dm='syncml:dmddf1.2'>",
    "</dm:Node>",
    "<Foo/>",
];

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn arbitrary_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..512)) {
        let _ = TndsDocument::parse_xml(&bytes);
    }

    #[test]
    fn arbitrary_wbxml_never_panics(tail in prop::collection::vec(any::<u8>(), 0..256)) {
        // A plausible header (WBXML 1.2, literal public id, UTF-8) then arbitrary bytes.
        let mut bytes = vec![0x02, 0x00, 0x00, 0x6A, 0x00];
        bytes.extend(tail);
        let _ = TndsDocument::parse(&bytes);
    }

    #[test]
    fn xmlish_strings_never_panic(parts in prop::collection::vec(prop::sample::select(WORDS.to_vec()), 0..60)) {
        let xml = parts.concat();
        if let Ok(doc) = TndsDocument::parse_xml(xml.as_bytes()) {
            let _ = doc.tnds_violations(true);
            let _ = doc.to_xml(true);
            let _ = doc.tree.flatten();
        }
        // Also with a valid prefix, so decoding gets past the root check.
        let wrapped = format!("<MgmtTree xmlns='syncml:dmddf1.2'>{xml}</MgmtTree>");
        let _ = TndsDocument::parse_xml(wrapped.as_bytes());
    }

    #[test]
    fn trees_round_trip_through_dom_and_xml(t in tree()) {
        let (back, violations) = from_dom(&to_dom(&t)).unwrap();
        prop_assert!(violations.is_empty(), "{violations:?}");
        prop_assert_eq!(&back, &t);
        let doc = TndsDocument::from_tree(t.clone());
        for pretty in [false, true] {
            let xml = doc.to_xml(pretty).unwrap();
            let again = TndsDocument::parse_xml(xml.as_bytes()).unwrap();
            prop_assert!(again.violations.is_empty(), "{:?}", again.violations);
            prop_assert_eq!(&again.tree, &t);
        }
        let bytes = doc.to_wbxml().unwrap();
        let again = TndsDocument::parse(&bytes).unwrap();
        prop_assert!(again.violations.is_empty(), "{:?}", again.violations);
        prop_assert_eq!(&again.tree, &t);
        let json = serde_json::to_string(&t).unwrap();
        prop_assert_eq!(serde_json::from_str::<MgmtTree>(&json).unwrap(), t);
    }
}
