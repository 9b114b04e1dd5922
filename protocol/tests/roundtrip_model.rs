//! Property tests for whole messages: model → XML → model and model → WBXML → model give the
//! same model with no violations, and arbitrary bytes never panic the decoder.
#![allow(clippy::unwrap_used)]

use dm_protocol::codec::{self, DecodeOptions, Encoding};
use dm_protocol::codes::{AlertCode, StatusCode};
use dm_protocol::dom::{Element, Node, NS_DMDDF12};
use dm_protocol::model::{
    Alert, Chal, Command, Container, Cred, Data, Exec, Item, ItemCommand, Locator, Meta, RawNodes,
    Results, Status, SyncBody, SyncHdr, SyncMl,
};
use proptest::collection::vec;
use proptest::option;
use proptest::prelude::*;

/// Scalar element text: decoders trim scalars, so no surrounding whitespace.
fn scalar() -> impl Strategy<Value = String> {
    "[A-Za-z0-9./:_?=+-]{0,12}"
}

fn id() -> impl Strategy<Value = String> {
    "[1-9][0-9]{0,3}"
}

/// Data text: anything XML and WBXML can carry (no NUL or other control characters).
fn text() -> impl Strategy<Value = String> {
    "[ -~\t\né€]{0,24}"
}

fn locator() -> impl Strategy<Value = Locator> {
    (scalar(), option::of(scalar())).prop_map(|(loc_uri, loc_name)| Locator { loc_uri, loc_name })
}

fn meta() -> impl Strategy<Value = Meta> {
    (
        option::of(prop_oneof![
            Just("chr"),
            Just("b64"),
            Just("node"),
            Just("xml"),
            Just("int")
        ]),
        option::of(scalar()),
        option::of(prop_oneof![Just("warning"), Just("critical")]),
        option::of(any::<u32>()),
        option::of(scalar()),
        option::of(any::<u32>()),
        option::of(any::<u32>()),
    )
        .prop_map(
            |(format, type_, mark, size, next_nonce, max_msg, max_obj)| Meta {
                format: format.map(str::to_string),
                type_,
                mark: mark.map(str::to_string),
                size: size.map(u64::from),
                next_nonce,
                max_msg_size: max_msg.map(u64::from),
                max_obj_size: max_obj.map(u64::from),
                extra: RawNodes::default(),
            },
        )
}

fn markup() -> impl Strategy<Value = RawNodes> {
    (scalar(), text()).prop_map(|(name, value)| {
        let node = Element::new("Node", NS_DMDDF12)
            .with_child(Element::new("NodeName", NS_DMDDF12).with_text(name))
            .with_child(
                Element::new("Value", NS_DMDDF12).with_text(if value.is_empty() {
                    "v".to_string()
                } else {
                    value
                }),
            );
        let tree = Element::new("MgmtTree", NS_DMDDF12)
            .with_child(Element::new("VerDTD", NS_DMDDF12).with_text("1.2"))
            .with_child(node);
        RawNodes {
            nodes: vec![Node::Element(tree)],
        }
    })
}

fn data(binary: bool) -> BoxedStrategy<Data> {
    let text_or_markup = prop_oneof![
        4 => text().prop_map(Data::Text),
        1 => markup().prop_map(Data::Markup),
    ];
    if binary {
        // Bytes that are not XML text (a NUL makes sure), so they stay binary.
        prop_oneof![
            4 => text_or_markup,
            1 => vec(any::<u8>(), 0..16).prop_map(|mut b| { b.push(0); Data::Binary(b) }),
        ]
        .boxed()
    } else {
        text_or_markup.boxed()
    }
}

fn item(binary: bool) -> impl Strategy<Value = Item> {
    (
        option::of(locator()),
        option::of(locator()),
        option::of(meta()),
        option::of(data(binary)),
        any::<bool>(),
    )
        .prop_map(|(target, source, meta, data, more_data)| Item {
            target,
            source,
            source_parent: None,
            target_parent: None,
            meta,
            data,
            more_data,
        })
}

fn items(binary: bool, min: usize) -> impl Strategy<Value = Vec<Item>> {
    vec(item(binary), min..3)
}

fn leaf_command(binary: bool) -> impl Strategy<Value = Command> {
    let item_cmd = (id(), option::of(meta()), items(binary, 1))
        .prop_map(|(cmd_id, meta, items)| ItemCommand {
            cmd_id,
            meta,
            items,
            ..ItemCommand::default()
        })
        .boxed();
    prop_oneof![
        item_cmd.clone().prop_map(Command::Add),
        item_cmd.clone().prop_map(Command::Replace),
        item_cmd.clone().prop_map(Command::Delete),
        item_cmd.clone().prop_map(Command::Get),
        item_cmd.prop_map(Command::Copy),
        (id(), option::of(scalar()), item(binary)).prop_map(|(cmd_id, correlator, item)| {
            Command::Exec(Exec {
                cmd_id,
                correlator,
                items: vec![item],
                ..Exec::default()
            })
        }),
        (
            id(),
            option::of(any::<u16>()),
            option::of(scalar()),
            items(binary, 0)
        )
            .prop_map(|(cmd_id, code, correlator, items)| Command::Alert(Alert {
                cmd_id,
                code: code.map(AlertCode::from_u16),
                correlator,
                items,
                ..Alert::default()
            })),
        (
            (id(), id(), id(), scalar()),
            vec(scalar(), 0..2),
            vec(scalar(), 0..2),
            option::of(meta()),
            items(binary, 0),
            any::<u16>()
        )
            .prop_map(
                |((cmd_id, msg_ref, cmd_ref, cmd), target_refs, source_refs, chal, items, code)| {
                    Command::Status(Status {
                        cmd_id,
                        msg_ref,
                        cmd_ref,
                        cmd,
                        target_refs,
                        source_refs,
                        cred: None,
                        chal: chal.map(|meta| Chal { meta }),
                        items,
                        code: StatusCode::from_u16(code),
                    })
                }
            ),
        (
            id(),
            option::of(id()),
            id(),
            option::of(scalar()),
            items(binary, 1)
        )
            .prop_map(
                |(cmd_id, msg_ref, cmd_ref, target_ref, items)| Command::Results(Results {
                    cmd_id,
                    msg_ref,
                    cmd_ref,
                    target_ref,
                    items,
                    ..Results::default()
                })
            ),
    ]
}

fn command(binary: bool) -> impl Strategy<Value = Command> {
    leaf_command(binary).prop_recursive(2, 12, 3, |inner| {
        (id(), option::of(meta()), vec(inner, 1..3), any::<bool>()).prop_map(
            |(cmd_id, meta, commands, atomic)| {
                let c = Container {
                    cmd_id,
                    no_resp: false,
                    meta,
                    commands,
                };
                if atomic {
                    Command::Atomic(c)
                } else {
                    Command::Sequence(c)
                }
            },
        )
    })
}

fn message(binary: bool) -> impl Strategy<Value = SyncMl> {
    (
        (scalar(), id(), locator(), locator(), option::of(scalar())),
        option::of((option::of(meta()), scalar())),
        option::of(meta()),
        vec(command(binary), 0..5),
        any::<bool>(),
    )
        .prop_map(
            |((session_id, msg_id, target, source, resp_uri), cred, meta, commands, final_)| {
                SyncMl {
                    hdr: SyncHdr {
                        ver_dtd: "1.2".into(),
                        ver_proto: "DM/1.2".into(),
                        session_id,
                        msg_id,
                        target,
                        source,
                        resp_uri,
                        no_resp: false,
                        cred: cred.map(|(meta, data)| Cred { meta, data }),
                        meta,
                    },
                    body: SyncBody { commands, final_ },
                }
            },
        )
}

fn round_trip(msg: &SyncMl, encoding: Encoding) {
    let bytes = codec::encode(msg, encoding).unwrap();
    let decoded = codec::decode(&bytes, DecodeOptions::LENIENT).unwrap();
    assert_eq!(decoded.encoding, encoding);
    assert_eq!(&decoded.message, msg);
    // Only violations the generator allows: unknown alert codes are fine, but nothing else.
    let unexpected: Vec<_> = decoded
        .violations
        .iter()
        .filter(|v| v.kind.name() != "missing_element")
        .collect();
    assert!(unexpected.is_empty(), "{unexpected:?}");
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    #[test]
    fn model_xml_model(msg in message(false)) {
        round_trip(&msg, Encoding::Xml);
    }

    #[test]
    fn model_wbxml_model(msg in message(true)) {
        round_trip(&msg, Encoding::Wbxml);
    }

    #[test]
    fn json_form_round_trips(msg in message(true)) {
        let json = serde_json::to_string(&msg).unwrap();
        let back: SyncMl = serde_json::from_str(&json).unwrap();
        prop_assert_eq!(back, msg);
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn arbitrary_bytes_never_panic(bytes in vec(any::<u8>(), 0..256)) {
        let _ = codec::decode(&bytes, DecodeOptions::LENIENT);
        let _ = codec::decode(&bytes, DecodeOptions { strict: true, encoding: Some(Encoding::Xml) });
        let _ = codec::decode(&bytes, DecodeOptions { strict: false, encoding: Some(Encoding::Wbxml) });
    }

    #[test]
    fn mutated_messages_never_panic(
        msg in message(false),
        flips in vec((any::<prop::sample::Index>(), any::<u8>()), 1..6),
        xml in any::<bool>(),
    ) {
        let mut bytes = codec::encode(&msg, if xml { Encoding::Xml } else { Encoding::Wbxml }).unwrap();
        for (at, b) in flips {
            let i = at.index(bytes.len());
            bytes[i] = b;
        }
        if let Ok(d) = codec::decode(&bytes, DecodeOptions::LENIENT) {
            // Whatever decodes re-encodes in the encoding it came in and decodes to the same
            // model. (Not necessarily in the other one: WBXML cannot carry elements of
            // arbitrary foreign namespaces, XML cannot carry raw binary; both are typed errors.)
            let again = codec::encode(&d.message, d.encoding).unwrap();
            let back = codec::decode(&again, DecodeOptions::LENIENT).unwrap();
            prop_assert_eq!(back.message, d.message);
        }
    }
}
