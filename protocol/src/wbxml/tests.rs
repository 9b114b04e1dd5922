//! Unit tests of the WBXML codec against facts §12.
#![allow(clippy::unwrap_used)]

use super::*;
use crate::dom::{Element, Node, Pos, NS_DMDDF12, NS_METINF, NS_SYNCML11, NS_SYNCML12};

/// Header: version 1.2, public id 0x1201 (`A4 01`), UTF-8, empty string table. Facts §12.1.
const HDR: [u8; 5] = [0x02, 0xA4, 0x01, 0x6A, 0x00];

fn with_header(body: &[u8]) -> Vec<u8> {
    let mut v = HDR.to_vec();
    v.extend_from_slice(body);
    v
}

fn with_table(table: &[u8], body: &[u8]) -> Vec<u8> {
    let mut v = vec![0x02, 0xA4, 0x01, 0x6A];
    mb_uint::write(&mut v, u32::try_from(table.len()).unwrap());
    v.extend_from_slice(table);
    v.extend_from_slice(body);
    v
}

fn s(name: &str) -> Element {
    Element::new(name, NS_SYNCML12)
}

fn m(name: &str) -> Element {
    Element::new(name, NS_METINF)
}

fn d(name: &str) -> Element {
    Element::new(name, NS_DMDDF12)
}

fn root_of(bytes: &[u8]) -> Element {
    decode(bytes).unwrap().root
}

fn err_of(bytes: &[u8]) -> WbxmlError {
    decode(bytes).unwrap_err()
}

// ---- header (facts §12.1) ----

#[test]
fn header_fields_are_read() {
    let doc = decode(&with_header(&[0x2D])).unwrap();
    assert_eq!(doc.version, 0x02);
    assert_eq!(doc.public_id, PublicId::Known(0x1201));
    assert_eq!(doc.charset, 106);
    assert_eq!(doc.root, s("SyncML"));
    assert_eq!(doc.root.pos, Pos::Wbxml { offset: 5 });
}

#[test]
fn every_wbxml_1x_version_is_accepted() {
    for v in 0..=3u8 {
        let mut b = with_header(&[0x2D]);
        b[0] = v;
        assert_eq!(decode(&b).unwrap().version, v);
    }
    let mut b = with_header(&[0x2D]);
    b[0] = 0x04;
    assert_eq!(
        err_of(&b),
        WbxmlError::UnsupportedVersion {
            offset: 0,
            version: 4
        }
    );
}

#[test]
fn charsets() {
    for cs in [106u8, 3, 0] {
        let b = [0x02, 0xA4, 0x01, cs, 0x00, 0x2D];
        assert_eq!(decode(&b).unwrap().charset, u32::from(cs));
    }
    let b = [0x02, 0xA4, 0x01, 0x04, 0x00, 0x2D];
    assert_eq!(
        err_of(&b),
        WbxmlError::UnsupportedCharset {
            offset: 3,
            charset: 4
        }
    );
}

#[test]
fn syncml11_public_id_gives_syncml11_namespace() {
    // facts §12.1: 0x0FD3 -> 9F 53
    let b = [0x02, 0x9F, 0x53, 0x6A, 0x00, 0x2D];
    let doc = decode(&b).unwrap();
    assert_eq!(doc.public_id, PublicId::SYNCML11);
    assert_eq!(doc.root, Element::new("SyncML", NS_SYNCML11));
}

#[test]
fn literal_public_id_from_string_table() {
    // facts §12.1: 00 + string-table index; DDF/TNDS documents use the literal FPI.
    let fpi = FPI_DMDDF12.as_bytes();
    let mut b = vec![0x02, 0x00, 0x00, 0x6A, u8::try_from(fpi.len() + 1).unwrap()];
    b.extend_from_slice(fpi);
    b.push(0);
    b.extend_from_slice(&[
        0x00, 0x02, 0x60, 0x77, 0x03, b'1', b'.', b'2', 0, 0x01, 0x01,
    ]);
    let doc = decode(&b).unwrap();
    assert_eq!(doc.public_id, PublicId::Literal(FPI_DMDDF12.into()));
    assert!(doc.is_tnds());
    assert_eq!(
        doc.root,
        d("MgmtTree").with_child(d("VerDTD").with_text("1.2"))
    );
    // and we write the same bytes
    assert_eq!(encode(&doc).unwrap(), b);
}

#[test]
fn literal_public_id_index_out_of_table() {
    let b = [0x02, 0x00, 0x05, 0x6A, 0x00, 0x2D];
    assert_eq!(
        err_of(&b),
        WbxmlError::BadStringTableIndex {
            offset: 2,
            index: 5,
            table_len: 0
        }
    );
}

#[test]
fn string_table_longer_than_input() {
    let b = [0x02, 0xA4, 0x01, 0x6A, 0x8F, 0xFF, 0xFF, 0xFF, 0x7F, 0x2D];
    assert!(matches!(
        err_of(&b),
        WbxmlError::UnexpectedEof {
            offset: 10,
            what: "string table"
        }
    ));
}

#[test]
fn truncated_headers() {
    assert!(matches!(
        err_of(&[]),
        WbxmlError::UnexpectedEof { offset: 0, .. }
    ));
    assert!(matches!(
        err_of(&[0x02]),
        WbxmlError::UnexpectedEof { offset: 1, .. }
    ));
    assert!(matches!(
        err_of(&[0x02, 0xA4]),
        WbxmlError::UnexpectedEof { offset: 2, .. }
    ));
    assert!(matches!(
        err_of(&[0x02, 0xA4, 0x01]),
        WbxmlError::UnexpectedEof { offset: 3, .. }
    ));
    assert!(matches!(
        err_of(&[0x02, 0xA4, 0x01, 0x6A]),
        WbxmlError::UnexpectedEof { offset: 4, .. }
    ));
    assert_eq!(err_of(&HDR), WbxmlError::NoRoot { offset: 5 });
}

#[test]
fn overlong_and_overflowing_mb_u_int32_in_header() {
    let b = [0x02, 0x80, 0x80, 0x80, 0x80, 0x80, 0x01, 0x6A, 0x00, 0x2D];
    assert_eq!(err_of(&b), WbxmlError::MbUintTooLong { offset: 1 });
    let b = [0x02, 0xA4, 0x01, 0xFF, 0xFF, 0xFF, 0xFF, 0x7F, 0x00, 0x2D];
    assert_eq!(err_of(&b), WbxmlError::MbUintOverflow { offset: 3 });
}

// ---- global tokens (facts §12.2) ----

#[test]
fn token_end_and_content_bit() {
    // 0x6D = SyncML | content, 0x6C SyncHdr | content, 0x12 Final without content
    let r = root_of(&with_header(&[0x6D, 0x6C, 0x01, 0x12, 0x01]));
    assert_eq!(
        r,
        s("SyncML").with_child(s("SyncHdr")).with_child(s("Final"))
    );
}

#[test]
fn token_str_i() {
    let r = root_of(&with_header(&[0x71, 0x03, b'1', b'.', b'2', 0x00, 0x01]));
    assert_eq!(r, s("VerDTD").with_text("1.2"));
}

#[test]
fn token_str_i_empty_gives_no_text_node() {
    let r = root_of(&with_header(&[0x71, 0x03, 0x00, 0x01]));
    assert_eq!(r, s("VerDTD"));
    assert!(
        r.children.is_empty(),
        "same tree as the XML <VerDTD></VerDTD>"
    );
}

#[test]
fn token_str_t() {
    let r = root_of(&with_table(b"xx\0DM/1.2\0", &[0x72, 0x83, 0x03, 0x01]));
    assert_eq!(r, s("VerProto").with_text("DM/1.2"));
    // an index into the middle of a string is legal WBXML
    let r = root_of(&with_table(b"DM/1.2\0", &[0x72, 0x83, 0x03, 0x01]));
    assert_eq!(r, s("VerProto").with_text("1.2"));
}

#[test]
fn token_entity() {
    // ENTITY 0xE9 = é, ENTITY 0x1F600 (mb: 87 EC 00)
    let r = root_of(&with_header(&[
        0x57, 0x02, 0x81, 0x69, 0x02, 0x87, 0xEC, 0x00, 0x01,
    ]));
    assert_eq!(r, s("LocURI").with_text("é\u{1F600}"));
}

#[test]
fn consecutive_text_pieces_merge() {
    let body = [
        0x57, 0x03, b'.', b'/', 0x00, 0x83, 0x00, 0x02, 0x2F, 0x03, b'x', 0x00, 0x01,
    ];
    let r = root_of(&with_table(b"Dev\0", &body));
    assert_eq!(r.children, vec![Node::Text("./Dev/x".into())]);
}

#[test]
fn token_opaque_is_not_merged() {
    let body = [
        0x4F, 0x03, b'a', 0x00, 0xC3, 0x02, 0xFF, 0x00, 0x03, b'b', 0x00, 0x01,
    ];
    let r = root_of(&with_header(&body));
    assert_eq!(
        r.children,
        vec![
            Node::Text("a".into()),
            Node::Opaque(vec![0xFF, 0x00]),
            Node::Text("b".into())
        ]
    );
    let r = root_of(&with_header(&[0x4F, 0xC3, 0x00, 0x01]));
    assert_eq!(r.children, vec![Node::Opaque(vec![])]);
}

#[test]
fn token_opaque_length_past_end() {
    let b = with_header(&[0x4F, 0xC3, 0x05, 0x01, 0x01]);
    assert_eq!(
        err_of(&b),
        WbxmlError::UnexpectedEof {
            offset: 10,
            what: "opaque data"
        }
    );
    // a huge length must not allocate
    let b = with_header(&[0x4F, 0xC3, 0x8F, 0xFF, 0xFF, 0xFF, 0x7F]);
    assert!(matches!(
        err_of(&b),
        WbxmlError::UnexpectedEof {
            what: "opaque data",
            ..
        }
    ));
}

#[test]
fn token_literal_and_literal_c() {
    // LITERAL_C "Foo" { LITERAL "Bar" } on page 0 -> SyncML namespace
    let r = root_of(&with_table(b"Foo\0Bar\0", &[0x44, 0x00, 0x04, 0x04, 0x01]));
    assert_eq!(r, s("Foo").with_child(s("Bar")));
    // on page 1 the literal gets the metinf namespace
    let r = root_of(&with_table(
        b"EMIx\0",
        &[0x5A, 0x00, 0x01, 0x04, 0x00, 0x01],
    ));
    assert_eq!(r, s("Meta").with_child(m("EMIx")));
}

/// A literal name the string table holds must be an XML name: `< Final/>`-like names (a
/// space, a NUL, empty) could never be written back as XML.
#[test]
fn literal_names_must_be_xml_names() {
    for table in [&b"a b\0"[..], b"\0", b"x\x01y\0", b"1st\0"] {
        let e = err_of(&with_table(table, &[0x04, 0x00]));
        assert!(
            matches!(e, WbxmlError::BadLiteralName { .. }),
            "{table:?}: {e}"
        );
    }
}

#[test]
fn token_switch_page() {
    // Meta { SWITCH 1, MaxMsgSize, SWITCH 0, ... }
    let body = [
        0x5A, 0x00, 0x01, 0x4C, 0x03, b'9', 0x00, 0x01, 0x00, 0x02, 0x60, 0x01, 0x01,
    ];
    let r = root_of(&with_header(&body));
    assert_eq!(
        r,
        s("Meta")
            .with_child(m("MaxMsgSize").with_text("9"))
            .with_child(d("MgmtTree"))
    );
    assert_eq!(
        err_of(&with_header(&[0x00, 0x03, 0x2D])),
        WbxmlError::UnknownCodePage { offset: 5, page: 3 }
    );
    assert!(matches!(
        err_of(&with_header(&[0x00])),
        WbxmlError::UnexpectedEof {
            offset: 6,
            what: "code page number"
        }
    ));
}

#[test]
fn attributes_are_unsupported() {
    for tok in [0x84u8, 0xC4, 0xAD, 0xED] {
        assert_eq!(
            err_of(&with_header(&[tok, 0x00, 0x01])),
            WbxmlError::UnsupportedAttributes {
                offset: 5,
                token: tok
            }
        );
    }
}

#[test]
fn extensions_are_unsupported() {
    for tok in [0x40u8, 0x41, 0x42, 0x80, 0x81, 0x82, 0xC0, 0xC1, 0xC2] {
        assert_eq!(
            err_of(&with_header(&[0x6D, tok, 0x00, 0x01])),
            WbxmlError::UnsupportedExtension {
                offset: 6,
                token: tok
            }
        );
    }
}

#[test]
fn processing_instructions_are_rejected() {
    assert_eq!(
        err_of(&with_header(&[0x43, 0x05, 0x01, 0x2D])),
        WbxmlError::UnsupportedProcessingInstruction { offset: 5 }
    );
}

// ---- body errors ----

#[test]
fn unknown_tokens_name_page_and_offset() {
    assert_eq!(
        err_of(&with_header(&[0x6D, 0x30])),
        WbxmlError::UnknownTag {
            offset: 6,
            page: 0,
            token: 0x30
        }
    );
    assert_eq!(
        err_of(&with_header(&[0x00, 0x01, 0x57])),
        WbxmlError::UnknownTag {
            offset: 7,
            page: 1,
            token: 0x57
        }
    );
    assert_eq!(
        err_of(&with_header(&[0x00, 0x02, 0x7D])),
        WbxmlError::UnknownTag {
            offset: 7,
            page: 2,
            token: 0x7D
        }
    );
}

#[test]
fn unbalanced_and_outside_root() {
    assert_eq!(
        err_of(&with_header(&[0x01])),
        WbxmlError::UnbalancedEnd { offset: 5 }
    );
    assert_eq!(
        err_of(&with_header(&[0x03, b'x', 0x00])),
        WbxmlError::OutsideRoot {
            offset: 5,
            token: 0x03
        }
    );
    assert_eq!(
        err_of(&with_header(&[0xC3, 0x00])),
        WbxmlError::OutsideRoot {
            offset: 5,
            token: 0xC3
        }
    );
    assert_eq!(
        err_of(&with_header(&[0x2D, 0x2D])),
        WbxmlError::OutsideRoot {
            offset: 6,
            token: 0x2D
        }
    );
    assert!(matches!(
        err_of(&with_header(&[0x6D, 0x6C, 0x01])),
        WbxmlError::UnexpectedEof { offset: 8, .. }
    ));
}

#[test]
fn unterminated_inline_string() {
    assert!(matches!(
        err_of(&with_header(&[0x71, 0x03, b'1'])),
        WbxmlError::UnexpectedEof { offset: 8, .. }
    ));
}

#[test]
fn invalid_utf8_is_reported() {
    assert_eq!(
        err_of(&with_header(&[0x71, 0x03, 0xFF, 0x00, 0x01])),
        WbxmlError::InvalidUtf8 { offset: 7 }
    );
    assert_eq!(
        err_of(&with_table(&[0xC3, 0x28, 0x00], &[0x71, 0x83, 0x00, 0x01])),
        WbxmlError::InvalidUtf8 { offset: 9 }
    );
}

#[test]
fn invalid_entity() {
    // 0xD800 is a surrogate: mb 83 B0 00
    assert_eq!(
        err_of(&with_header(&[0x71, 0x02, 0x83, 0xB0, 0x00, 0x01])),
        WbxmlError::InvalidEntity {
            offset: 6,
            code: 0xD800
        }
    );
}

#[test]
fn str_t_errors() {
    // index past the table
    assert_eq!(
        err_of(&with_table(b"ab\0", &[0x71, 0x83, 0x03, 0x01])),
        WbxmlError::BadStringTableIndex {
            offset: 9,
            index: 3,
            table_len: 3
        }
    );
    // unterminated table string
    assert!(matches!(
        err_of(&with_table(b"ab", &[0x71, 0x83, 0x00, 0x01])),
        WbxmlError::BadStringTableIndex { index: 0, .. }
    ));
    // mb_u_int32 errors inside the body
    assert_eq!(
        err_of(&with_header(&[
            0x71, 0x83, 0x80, 0x80, 0x80, 0x80, 0x80, 0x00
        ])),
        WbxmlError::MbUintTooLong { offset: 7 }
    );
}

#[test]
fn expansion_budget_stops_amplification() {
    // one 60 KiB table string referenced many times
    let mut table = vec![b'a'; 60 * 1024];
    table.push(0);
    let mut body = vec![0x71];
    for _ in 0..4000 {
        body.extend_from_slice(&[0x83, 0x00]);
    }
    body.push(0x01);
    assert!(matches!(
        err_of(&with_table(&table, &body)),
        WbxmlError::ExpansionLimit { .. }
    ));
}

#[test]
fn nesting_is_capped() {
    let mut body = vec![0x54; MAX_DEPTH]; // Item with content
    body.extend(std::iter::repeat_n(0x01, MAX_DEPTH));
    assert!(decode(&with_header(&body)).is_ok());
    let mut body = vec![0x54; MAX_DEPTH + 1];
    body.extend(std::iter::repeat_n(0x01, MAX_DEPTH + 1));
    assert_eq!(
        err_of(&with_header(&body)),
        WbxmlError::TooDeep {
            offset: 5 + MAX_DEPTH,
            limit: MAX_DEPTH
        }
    );
    // content-less innermost element counts too
    let mut body = vec![0x54; MAX_DEPTH];
    body.push(0x14);
    assert!(matches!(
        err_of(&with_header(&body)),
        WbxmlError::TooDeep { .. }
    ));
    // a very deep adversarial input fails fast without recursion
    let body = vec![0x54; 1_000_000];
    assert!(matches!(
        err_of(&with_header(&body)),
        WbxmlError::TooDeep { .. }
    ));
}

// ---- hand-assembled message (facts §12.3, §12.4) ----

#[test]
fn hand_assembled_message_decodes_to_expected_dom() {
    #[rustfmt::skip]
    let body: &[u8] = &[
        0x6D,                                   // <SyncML>
          0x6C,                                 //   <SyncHdr>
            0x71, 0x03, b'1', b'.', b'2', 0x00, 0x01,               // <VerDTD>1.2</VerDTD>
            0x72, 0x03, b'D', b'M', b'/', b'1', b'.', b'2', 0x00, 0x01, // <VerProto>
            0x65, 0x03, b'1', 0x00, 0x01,       //     <SessionID>1
            0x5B, 0x03, b'1', 0x00, 0x01,       //     <MsgID>1
            0x6E, 0x57, 0x03, b's', 0x00, 0x01, 0x01, // <Target><LocURI>s
            0x67, 0x57, 0x03, b'c', 0x00, 0x01, 0x01, // <Source><LocURI>c
            0x5A,                               //     <Meta>
              0x00, 0x01,                       //       SWITCH_PAGE 1
              0x4C, 0x03, b'1', b'6', b'3', b'8', b'4', 0x00, 0x01, // <MaxMsgSize>
            0x01,                               //     </Meta>
          0x01,                                 //   </SyncHdr>
          0x00, 0x00,                           //   SWITCH_PAGE 0
          0x6B,                                 //   <SyncBody>
            0x46, 0x4B, 0x03, b'1', 0x00, 0x01, 0x4F, 0x03, b'1', b'2', b'0', b'1', 0x00, 0x01, 0x01,
            0x12,                               //     <Final/>
          0x01,
        0x01,
    ];
    let doc = decode(&with_header(body)).unwrap();
    let expected = s("SyncML")
        .with_child(
            s("SyncHdr")
                .with_child(s("VerDTD").with_text("1.2"))
                .with_child(s("VerProto").with_text("DM/1.2"))
                .with_child(s("SessionID").with_text("1"))
                .with_child(s("MsgID").with_text("1"))
                .with_child(s("Target").with_child(s("LocURI").with_text("s")))
                .with_child(s("Source").with_child(s("LocURI").with_text("c")))
                .with_child(s("Meta").with_child(m("MaxMsgSize").with_text("16384"))),
        )
        .with_child(
            s("SyncBody")
                .with_child(
                    s("Alert")
                        .with_child(s("CmdID").with_text("1"))
                        .with_child(s("Data").with_text("1201")),
                )
                .with_child(s("Final")),
        );
    assert_eq!(doc.root, expected);
    // positions point at the tag tokens
    let hdr = doc.root.child("SyncHdr").unwrap();
    assert_eq!(hdr.pos, Pos::Wbxml { offset: 6 });
    // our encoder produces exactly these bytes
    assert_eq!(encode_syncml(&expected).unwrap(), with_header(body));
}

// ---- encoder ----

#[test]
fn encoder_switches_page_only_on_change() {
    let tree = s("Meta")
        .with_child(m("Format").with_text("b64"))
        .with_child(m("Type").with_text("t"));
    let b = encode_syncml(&tree).unwrap();
    assert_eq!(
        b,
        with_header(&[
            0x5A, 0x00, 0x01, 0x47, 0x03, b'b', b'6', b'4', 0x00, 0x01, 0x53, 0x03, b't', 0x00,
            0x01, 0x01
        ])
    );
}

#[test]
fn encoder_literals_share_string_table_entries() {
    let tree = s("Foo").with_child(s("Bar")).with_child(s("Foo"));
    let b = encode_syncml(&tree).unwrap();
    assert_eq!(
        b,
        with_table(b"Foo\0Bar\0", &[0x44, 0x00, 0x04, 0x04, 0x04, 0x00, 0x01])
    );
    assert_eq!(root_of(&b), tree);
}

#[test]
fn encoder_literal_public_id_is_table_entry_zero_before_literal_tags() {
    let doc = Document::tnds(d("MgmtTree").with_child(d("Custom")));
    let b = encode(&doc).unwrap();
    let fpi_len = FPI_DMDDF12.len() + 1;
    assert_eq!(&b[..4], &[0x02, 0x00, 0x00, 0x6A]);
    assert_eq!(usize::from(b[4]), fpi_len + "Custom".len() + 1);
    assert_eq!(decode(&b).unwrap(), doc);
}

#[test]
fn encoder_errors() {
    // Text holding a NUL cannot be STR_I: it goes as OPAQUE with the same bytes.
    let b = encode_syncml(&s("Data").with_text("a\0b")).unwrap();
    assert_eq!(&b[b.len() - 6..], &[0xC3, 0x03, b'a', 0x00, b'b', 0x01]);
    assert_eq!(decode(&b).unwrap().root.text(), "a\0b");
    assert!(matches!(
        encode_syncml(&Element::new("X", "urn:other")),
        Err(WbxmlError::UnencodableNamespace { .. })
    ));
    // 1.1 elements cannot go into a 1.2 document
    assert!(matches!(
        encode_syncml(&Element::new("SyncML", NS_SYNCML11)),
        Err(WbxmlError::UnencodableNamespace { .. })
    ));
    assert!(matches!(
        encode_syncml(&s("")),
        Err(WbxmlError::BadElementName { .. })
    ));
    assert!(matches!(
        encode_syncml(&s("a\0")),
        Err(WbxmlError::BadElementName { .. })
    ));
    let mut doc = Document::syncml(s("SyncML"));
    doc.public_id = PublicId::Known(0);
    assert!(matches!(
        encode(&doc),
        Err(WbxmlError::InvalidPublicId { .. })
    ));
    doc.public_id = PublicId::Literal("a\0".into());
    assert!(matches!(
        encode(&doc),
        Err(WbxmlError::InvalidPublicId { .. })
    ));
    let mut doc = Document::syncml(s("SyncML"));
    doc.charset = 4;
    assert!(matches!(
        encode(&doc),
        Err(WbxmlError::UnsupportedCharset { charset: 4, .. })
    ));
    doc.charset = 106;
    doc.version = 9;
    assert!(matches!(
        encode(&doc),
        Err(WbxmlError::UnsupportedVersion { version: 9, .. })
    ));
    let mut deep = s("Item");
    for _ in 0..MAX_DEPTH {
        deep = s("Item").with_child(deep);
    }
    assert!(matches!(
        encode_syncml(&deep),
        Err(WbxmlError::TooDeep { .. })
    ));
}

#[test]
fn round_trip_with_opaque_and_inline_tnds() {
    let tnds = d("MgmtTree")
        .with_child(d("VerDTD").with_text("1.2"))
        .with_child(
            d("Node")
                .with_child(d("NodeName").with_text("x1"))
                .with_child(
                    d("RTProperties")
                        .with_child(d("Format").with_child(d("node")))
                        .with_child(d("Type").with_child(d("DDFName").with_text("urn:x"))),
                ),
        );
    let mut bin = s("Data");
    bin.children.push(Node::Opaque(vec![0, 1, 2, 0xFF]));
    let tree = s("SyncML").with_child(
        s("SyncBody").with_child(
            s("Replace")
                .with_child(s("CmdID").with_text("3"))
                .with_child(
                    s("Item")
                        .with_child(s("Meta").with_child(m("Format").with_text("xml")))
                        .with_child(s("Data").with_child(tnds)),
                )
                .with_child(s("Item").with_child(bin)),
        ),
    );
    let bytes = encode_syncml(&tree).unwrap();
    let back = decode(&bytes).unwrap();
    assert_eq!(back.root, tree);
    assert_eq!(
        encode(&back).unwrap(),
        bytes,
        "re-encoding is deterministic"
    );
}

#[test]
fn syncml11_document_round_trip() {
    let tree = Element::new("SyncML", NS_SYNCML11)
        .with_child(Element::new("SyncHdr", NS_SYNCML11))
        .with_child(Element::new("Meta", NS_SYNCML11).with_child(m("Type").with_text("x")));
    let doc = Document {
        version: 3,
        public_id: PublicId::SYNCML11,
        charset: 106,
        root: tree,
    };
    let b = encode(&doc).unwrap();
    assert_eq!(&b[..4], &[0x03, 0x9F, 0x53, 0x6A]);
    assert_eq!(decode(&b).unwrap(), doc);
}

#[test]
fn sniffing() {
    assert!(is_wbxml(&HDR));
    assert!(is_wbxml(&[0x03, 0x9F]));
    assert!(!is_wbxml(b"<SyncML/>"));
    assert!(!is_wbxml(b"\xEF\xBB\xBF<SyncML/>"));
    assert!(!is_wbxml(b"\xFE\xFF\x00<"));
    assert!(!is_wbxml(b"\x00<\x00S"));
    assert!(!is_wbxml(b" <x/>"));
    assert!(!is_wbxml(&[0x02]));
    assert!(!is_wbxml(&[]));
}

#[test]
fn errors_say_what_and_where() {
    let e = err_of(&with_header(&[0x6D, 0x30]));
    assert_eq!(
        e.to_string(),
        "unknown tag token 0x30 on code page 0 at byte 6"
    );
}
