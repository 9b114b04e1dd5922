//! Cross-check of the WBXML codec against libwbxml's `xml2wbxml` / `wbxml2xml`
//! (Debian `libwbxml2-utils`, 0.11.8), on the DM messages in `tests/fixtures/`.
//!
//! Forward: `xml2wbxml -v 1.2 fixture.xml` is decoded with [`wbxml::decode`] and, after the
//! normalisations below, must equal `xml::parse(fixture)`, which in turn must equal our own
//! round trip `wbxml::decode(wbxml::encode_syncml(tree))`.
//!
//! Reverse: our encoding is fed to `wbxml2xml`, which must succeed; its XML, parsed with
//! [`xml::parse`], must equal the fixture tree (except inside an inline TNDS `MgmtTree`,
//! see `reverse_inline_tnds_is_unknown_to_libwbxml`).
//!
//! Normalisations of libwbxml's decoded tree, each for a documented libwbxml behaviour
//! (facts §12.6 and the rustdoc of `dm_protocol::wbxml`):
//!
//! * N1 `OPAQUE` → content: libwbxml encodes `Data` under `Add/Item` or `Replace/Item` as
//!   `OPAQUE` ("vObject" rule). Opaque bytes that are a WBXML document (libwbxml embeds an
//!   inline TNDS `MgmtTree` as a nested WBXML document) are replaced by that document's root
//!   element; other opaque bytes that are UTF-8 become text.
//! * N2 `Meta/Type`: libwbxml rewrites `application/vnd.syncml.dmtnds+xml` to `...+wbxml`
//!   when it embeds the TNDS as WBXML; we map it back.
//! * N3 whitespace (only for `-k` output): whitespace-only text in elements that also have
//!   element children is dropped — the same rule `xml::parse` applies to indentation.
//!   Without `-k` libwbxml drops whitespace-only text and trims text itself; the fixtures
//!   have no leading/trailing whitespace in leaf text, so no trimming is needed.
//!
//! If the tools are missing the tests print why and pass, unless the `CI` environment
//! variable is set, in which case they fail.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use dm_protocol::dom::{Element, Node, NS_DMDDF12};
use dm_protocol::wbxml::{self, PublicId, FPI_DMDDF12};
use dm_protocol::xml;

const FIXTURES: [&str; 6] = [
    "pkg1_devinfo_replace",
    "pkg2_status_chal",
    "get_results",
    "atomic_nested",
    "generic_alert",
    "replace_tnds",
];

fn fixture_path(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(format!("{name}.xml"))
}

/// True when both tools exist; otherwise explains, and fails under CI.
fn tools_available() -> bool {
    common::libwbxml_tools_available("libwbxml cross-check")
}

/// A scratch file name unique to this process and `tag`; callers delete it after use.
/// A scratch path unique within this process: tests run in parallel threads and may convert
/// the same fixture with the same options at once.
fn scratch(tag: &str) -> PathBuf {
    use std::sync::atomic::{AtomicUsize, Ordering};
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    let n = NEXT.fetch_add(1, Ordering::Relaxed);
    std::env::temp_dir().join(format!(
        "dm-wbxml-crosscheck-{}-{n}-{tag}",
        std::process::id()
    ))
}

/// Run `xml2wbxml <args> -o out input` and return the output bytes.
fn xml2wbxml(name: &str, args: &[&str]) -> Vec<u8> {
    let out = scratch(&format!("{name}{}.wbxml", args.join("")));
    let status = Command::new("xml2wbxml")
        .args(args)
        .arg("-o")
        .arg(&out)
        .arg(fixture_path(name))
        .output()
        .expect("run xml2wbxml");
    assert!(
        status.status.success(),
        "xml2wbxml failed on {name}: {status:?}"
    );
    let bytes = std::fs::read(&out).unwrap();
    let _ = std::fs::remove_file(&out);
    bytes
}

/// Run `wbxml2xml -m 0` (compact) on `bytes` and return the XML text.
fn wbxml2xml(name: &str, bytes: &[u8]) -> String {
    let input = scratch(&format!("{name}.ours.wbxml"));
    let out = scratch(&format!("{name}.ours.xml"));
    std::fs::write(&input, bytes).unwrap();
    let status = Command::new("wbxml2xml")
        .args(["-m", "0", "-o"])
        .arg(&out)
        .arg(&input)
        .output()
        .expect("run wbxml2xml");
    let _ = std::fs::remove_file(&input);
    assert!(
        status.status.success(),
        "wbxml2xml failed on our {name}: {status:?}"
    );
    let text = std::fs::read_to_string(&out).unwrap();
    let _ = std::fs::remove_file(&out);
    text
}

fn parse_fixture(name: &str) -> Element {
    xml::parse(&std::fs::read(fixture_path(name)).unwrap()).unwrap()
}

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

/// N1 + N2 (+ N3 when `drop_indentation`), recursively.
fn normalise_libwbxml(el: &mut Element, drop_indentation: bool) {
    let children = std::mem::take(&mut el.children);
    let mut out = Vec::with_capacity(children.len());
    for n in children {
        out.push(match n {
            // N1
            Node::Opaque(bytes) if wbxml::is_wbxml(&bytes) => match wbxml::decode(&bytes) {
                Ok(doc) => Node::Element(doc.root),
                Err(_) => Node::Opaque(bytes),
            },
            Node::Opaque(bytes) => match String::from_utf8(bytes) {
                Ok(s) => Node::Text(s),
                Err(e) => Node::Opaque(e.into_bytes()),
            },
            // N2
            Node::Text(t) if el.name == "Type" && t == "application/vnd.syncml.dmtnds+wbxml" => {
                Node::Text("application/vnd.syncml.dmtnds+xml".into())
            }
            other => other,
        });
    }
    let mut out = merge_adjacent_text(out);
    // N3
    if drop_indentation && out.iter().any(|n| matches!(n, Node::Element(_))) {
        out.retain(|n| !matches!(n, Node::Text(t) if t.trim().is_empty()));
    }
    for n in &mut out {
        if let Node::Element(c) = n {
            normalise_libwbxml(c, drop_indentation);
        }
    }
    el.children = out;
}

fn find<'a>(root: &'a Element, path: &[&str]) -> &'a Element {
    path.iter().fold(root, |e, p| {
        e.child(p)
            .unwrap_or_else(|| panic!("no <{p}> under <{}>", e.name))
    })
}

#[test]
fn fixtures_parse_and_round_trip_through_our_codec() {
    for name in FIXTURES {
        let tree = parse_fixture(name);
        let bytes = wbxml::encode_syncml(&tree).unwrap();
        assert_eq!(wbxml::decode(&bytes).unwrap().root, tree, "{name}");
    }
}

#[test]
fn forward_libwbxml_output_decodes_to_the_xml_tree() {
    if !tools_available() {
        return;
    }
    for name in FIXTURES {
        let expected = parse_fixture(name);
        let ours = wbxml::decode(&wbxml::encode_syncml(&expected).unwrap()).unwrap();
        assert_eq!(ours.root, expected, "{name}: our own round trip");
        for args in [
            &["-v", "1.2"][..],
            &["-v", "1.2", "-n"],
            &[],
            &["-v", "1.3", "-k"],
        ] {
            let lib = xml2wbxml(name, args);
            let doc = wbxml::decode(&lib)
                .unwrap_or_else(|e| panic!("{name} {args:?}: decoding libwbxml output: {e}"));
            // facts §12.1 header as written by libwbxml
            assert_eq!(doc.public_id, PublicId::SYNCML12, "{name} {args:?}");
            assert_eq!(doc.charset, 106, "{name} {args:?}");
            let want_version = if args.contains(&"1.2") { 0x02 } else { 0x03 };
            assert_eq!(doc.version, want_version, "{name} {args:?}");
            let mut root = doc.root;
            normalise_libwbxml(&mut root, args.contains(&"-k"));
            assert_eq!(root, expected, "{name} {args:?}: libwbxml vs xml::parse");
            assert_eq!(
                root, ours.root,
                "{name} {args:?}: libwbxml vs our round trip"
            );
        }
    }
}

/// Pins the libwbxml behaviours documented in `dm_protocol::wbxml` (and in the report).
#[test]
fn libwbxml_data_encoding_behaviour() {
    if !tools_available() {
        return;
    }
    // Cred/Data and Alert/Data: STR_I text; Replace/Item/Data: OPAQUE.
    let pkg1 = wbxml::decode(&xml2wbxml("pkg1_devinfo_replace", &["-v", "1.2"]))
        .unwrap()
        .root;
    let cred_data = find(&pkg1, &["SyncHdr", "Cred", "Data"]);
    assert_eq!(
        cred_data.children,
        vec![Node::Text("Zm9vYmFyYmF6cXV4MTIzNA==".into())]
    );
    let alert_data = find(&pkg1, &["SyncBody", "Alert", "Data"]);
    assert_eq!(alert_data.children, vec![Node::Text("1201".into())]);
    let leaf = find(&pkg1, &["SyncBody", "Replace", "Item", "Data"]);
    assert_eq!(leaf.children, vec![Node::Opaque(b"Model X".to_vec())]);

    // Results/Item/Data is not under Add/Replace: text.
    let res = wbxml::decode(&xml2wbxml("get_results", &["-v", "1.2"]))
        .unwrap()
        .root;
    let data = find(&res, &["SyncBody", "Results", "Item", "Data"]);
    assert_eq!(data.children, vec![Node::Text("1.0.3".into())]);

    // Inline TNDS: a nested WBXML document in OPAQUE, literal DDF public id, Type rewritten.
    let tnds = wbxml::decode(&xml2wbxml("replace_tnds", &["-v", "1.2"]))
        .unwrap()
        .root;
    let item = find(&tnds, &["SyncBody", "Replace", "Item"]);
    assert_eq!(
        find(item, &["Meta", "Type"]).text(),
        "application/vnd.syncml.dmtnds+wbxml"
    );
    let [Node::Opaque(inner)] = find(item, &["Data"]).children.as_slice() else {
        panic!("inline TNDS is not a single OPAQUE");
    };
    assert_eq!(&inner[..4], &[0x02, 0x00, 0x00, 0x6A]);
    let inner = wbxml::decode(inner).unwrap();
    assert_eq!(inner.public_id, PublicId::Literal(FPI_DMDDF12.into()));
    assert!(inner.is_tnds());
    assert_eq!(inner.root.ns, NS_DMDDF12);

    // String table: used for repeated strings (pkg2 repeats both LocURIs), off with -n.
    let with_table = xml2wbxml("pkg2_status_chal", &["-v", "1.2"]);
    assert_ne!(with_table[4], 0, "string table expected");
    let without = xml2wbxml("pkg2_status_chal", &["-v", "1.2", "-n"]);
    assert_eq!(without[4], 0, "-n: empty string table");
    assert!(without.len() > with_table.len());
}

#[test]
fn reverse_our_encoding_reads_back_through_wbxml2xml() {
    if !tools_available() {
        return;
    }
    for name in FIXTURES.into_iter().filter(|n| *n != "replace_tnds") {
        let expected = parse_fixture(name);
        let text = wbxml2xml(name, &wbxml::encode_syncml(&expected).unwrap());
        for needle in ["<SyncML", "<SyncHdr>", "<VerDTD>1.2</VerDTD>", "<Final/>"] {
            assert!(text.contains(needle), "{name}: {needle} missing in {text}");
        }
        let back = xml::parse(text.as_bytes())
            .unwrap_or_else(|e| panic!("{name}: wbxml2xml output does not parse: {e}\n{text}"));
        assert_eq!(back, expected, "{name}: wbxml2xml(our encoding) vs fixture");
    }
}

/// libwbxml's SyncML 1.2 tables have no code page 2, so our inline TNDS (cp2 inside a cp0
/// `Data`, facts §12.5/§12.6) comes back as `<unknown>` elements; text survives.
#[test]
fn reverse_inline_tnds_is_unknown_to_libwbxml() {
    if !tools_available() {
        return;
    }
    let expected = parse_fixture("replace_tnds");
    let text = wbxml2xml("replace_tnds", &wbxml::encode_syncml(&expected).unwrap());
    assert!(
        text.contains("<Data><unknown><unknown>1.2</unknown>"),
        "{text}"
    );
    for needle in [
        "<SyncML",
        "<Replace>",
        "<LocURI>./DMAcc</LocURI>",
        ">x1<",
        ">ServerID<",
    ] {
        assert!(text.contains(needle), "{needle} missing in {text}");
    }
    assert!(!text.contains("MgmtTree"), "{text}");
    let back = xml::parse(text.as_bytes()).unwrap();
    let data = find(&back, &["SyncBody", "Replace", "Item", "Data"]);
    assert_eq!(data.elements().next().unwrap().name, "unknown");
}
