//! Property tests for the WBXML codec: the decoder never panics on any input, and generated
//! trees round-trip through encode → decode unchanged (facts §12).
#![allow(clippy::unwrap_used)]

use dm_protocol::dom::{Element, Node, NS_DMDDF12, NS_METINF, NS_SYNCML12};
use dm_protocol::wbxml::{self, tokens};
use proptest::prelude::*;

/// Header: version 1.2, public id 0x1201, UTF-8, empty string table. Facts §12.1.
const HDR: [u8; 5] = [0x02, 0xA4, 0x01, 0x6A, 0x00];

/// Bytes that are tokens somewhere in facts §12.2–§12.5, so random bodies hit real paths.
fn token_byte() -> impl Strategy<Value = u8> {
    prop_oneof![
        4 => 0x00u8..=0x05,
        4 => 0x45u8..=0x7C,
        2 => 0x05u8..=0x3C,
        1 => prop::sample::select(vec![0x40u8, 0x41, 0x42, 0x43, 0x44, 0x80, 0x81, 0x82, 0x83,
            0x84, 0xC0, 0xC1, 0xC2, 0xC3, 0xC4]),
        1 => any::<u8>(),
    ]
}

fn ns_of(page: u8) -> &'static str {
    match page {
        0 => NS_SYNCML12,
        1 => NS_METINF,
        _ => NS_DMDDF12,
    }
}

fn leaf_element() -> impl Strategy<Value = Element> {
    (
        0u8..3,
        any::<prop::sample::Index>(),
        prop::bool::weighted(0.05),
    )
        .prop_map(|(page, idx, literal)| {
            let names = tokens::page_names(page);
            let name = if literal {
                "X-Vendor".to_owned()
            } else {
                names[idx.index(names.len())].to_owned()
            };
            Element::new(name, ns_of(page))
        })
}

fn text() -> impl Strategy<Value = String> {
    "[^\u{0}]{1,12}"
}

fn child_node(elem: BoxedStrategy<Element>) -> impl Strategy<Value = Node> {
    prop_oneof![
        3 => elem.prop_map(Node::Element),
        2 => text().prop_map(Node::Text),
        1 => prop::collection::vec(any::<u8>(), 0..8).prop_map(Node::Opaque),
    ]
}

/// Adjacent text pieces merge on decode, so the canonical tree has none.
fn merge_adjacent_text(children: Vec<Node>) -> Vec<Node> {
    let mut out: Vec<Node> = Vec::new();
    for n in children {
        match (out.last_mut(), n) {
            (Some(Node::Text(prev)), Node::Text(t)) => prev.push_str(&t),
            (_, n) => out.push(n),
        }
    }
    out
}

fn element_tree() -> impl Strategy<Value = Element> {
    leaf_element().prop_recursive(6, 48, 5, |inner| {
        (
            leaf_element(),
            prop::collection::vec(child_node(inner.boxed()), 0..5),
        )
            .prop_map(|(mut el, children)| {
                el.children = merge_adjacent_text(children);
                el
            })
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(3000))]

    #[test]
    fn arbitrary_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..64)) {
        let _ = wbxml::decode(&bytes);
        let _ = wbxml::is_wbxml(&bytes);
    }

    #[test]
    fn valid_header_random_body_never_panics(
        body in prop::collection::vec(token_byte(), 0..96)
    ) {
        let mut bytes = HDR.to_vec();
        bytes.extend_from_slice(&body);
        let _ = wbxml::decode(&bytes);
    }

    #[test]
    fn valid_header_with_string_table_never_panics(
        table in prop::collection::vec(prop_oneof![Just(0u8), any::<u8>()], 0..16),
        body in prop::collection::vec(token_byte(), 0..64)
    ) {
        let mut bytes = vec![0x03, 0x00, 0x00, 0x6A, u8::try_from(table.len()).unwrap()];
        bytes.extend_from_slice(&table);
        bytes.extend_from_slice(&body);
        let _ = wbxml::decode(&bytes);
    }

    #[test]
    fn mutated_encodings_never_panic(
        tree in element_tree(),
        flips in prop::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..4),
        cut in any::<prop::sample::Index>(),
    ) {
        let mut bytes = wbxml::encode_syncml(&tree).unwrap();
        for (at, b) in flips {
            let i = at.index(bytes.len());
            bytes[i] = b;
        }
        let _ = wbxml::decode(&bytes);
        let n = cut.index(bytes.len() + 1);
        let _ = wbxml::decode(&bytes[..n]);
    }

    #[test]
    fn generated_trees_round_trip(tree in element_tree()) {
        let bytes = wbxml::encode_syncml(&tree).unwrap();
        let doc = wbxml::decode(&bytes).unwrap();
        prop_assert_eq!(&doc.root, &tree);
        prop_assert_eq!(wbxml::encode(&doc).unwrap(), bytes);
    }
}
