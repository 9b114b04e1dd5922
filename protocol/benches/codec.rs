//! Codec throughput: decode and encode of two realistic DM messages in XML and WBXML,
//! next to the practical limit of a bare tokenizer pass over the same bytes.
//!
//! Run with `cargo bench -p dm-protocol --bench codec`; figures and their meaning are
//! recorded in `docs/performance.md`.
//!
//! * `small`: a client's package 3 answering 30 single-leaf `Get`s on DevDetail-like leaves
//!   — a `Status` for the header, then a `Status` and a `Results` (`Meta/Format` only) per
//!   `Get` (about 11 KiB of XML).
//! * `large`: a package 3 answering 12 `Get`s with 30 `Results` items each (`Meta/Format`
//!   and `Meta/Type`), every tenth item carrying a 2–5 KiB value (log-like base64 text) —
//!   about 210 KiB of XML.
//!
//! Each message is built in code, encoded to XML (canonical, compact) and WBXML once, and
//! then measured with [`Throughput::Bytes`] of the encoded form:
//!
//! * `xml_decode` / `wbxml_decode`: [`codec::decode`] (bytes → dom → model, lenient);
//! * `xml_encode` / `wbxml_encode`: [`codec::encode`] (model → dom → bytes);
//! * `quick_xml_events`: a bare `quick_xml::Reader` pass (`read_event` until `Eof`, no tree,
//!   no unescaping) over the XML bytes;
//! * `wbxml_tokens`: a bare WBXML token walk (header, string table, tokens; no tree, no
//!   strings copied) over the WBXML bytes.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use std::hint::black_box;
use std::time::Duration;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use dm_protocol::codec::{self, DecodeOptions, Encoding};
use dm_protocol::codes::StatusCode;
use dm_protocol::model::{
    Command, Data, Item, Locator, Meta, Results, Status, SyncBody, SyncHdr, SyncMl,
};
use dm_protocol::wbxml::tokens;

/// DevDetail-like leaves and plausible values, cycled through by the messages.
const LEAVES: [(&str, &str, &str); 10] = [
    ("./DevDetail/DevTyp", "chr", "smartphone"),
    ("./DevDetail/OEM", "chr", "Acme Devices Ltd."),
    ("./DevDetail/FwV", "chr", "RR2-FW-4.12.0-20240117"),
    (
        "./DevDetail/SwV",
        "chr",
        "Roadrunner OS 14.2.1 (build 7731)",
    ),
    ("./DevDetail/HwV", "chr", "PVT-3"),
    ("./DevDetail/LrgObj", "bool", "true"),
    ("./DevDetail/URI/MaxDepth", "int", "16"),
    ("./DevDetail/URI/MaxTotLen", "int", "1024"),
    ("./DevDetail/URI/MaxSegLen", "int", "64"),
    ("./DevDetail/Ext/Battery/Level", "int", "87"),
];

fn header() -> SyncHdr {
    SyncHdr {
        ver_dtd: "1.2".into(),
        ver_proto: "DM/1.2".into(),
        session_id: "4F2A".into(),
        msg_id: "2".into(),
        target: Locator::uri("https://dms.example.com/oma-dm/endpoint"),
        source: Locator::uri("IMEI:356938035643809"),
        ..SyncHdr::default()
    }
}

fn status(cmd_id: usize, cmd_ref: usize, cmd: &str, target_ref: Option<&str>) -> Command {
    Command::Status(Status {
        cmd_id: cmd_id.to_string(),
        msg_ref: "1".into(),
        cmd_ref: cmd_ref.to_string(),
        cmd: cmd.into(),
        target_refs: target_ref.map(|t| vec![t.to_owned()]).unwrap_or_default(),
        source_refs: Vec::new(),
        cred: None,
        chal: None,
        items: Vec::new(),
        code: StatusCode::Ok,
    })
}

/// A Results item; `typed` adds `Meta/Type` `text/plain` next to `Meta/Format`.
fn item(uri: &str, format: &str, typed: bool, value: String) -> Item {
    Item {
        source: Some(Locator::uri(uri)),
        meta: Some(Meta {
            format: Some(format.into()),
            type_: typed.then(|| "text/plain".into()),
            ..Meta::default()
        }),
        data: Some(Data::Text(value)),
        ..Item::default()
    }
}

/// Package 3 answering `gets` single-item `Get`s (CmdIDs 2..) with a Status and a Results each.
fn small_message(gets: usize) -> SyncMl {
    let mut commands = vec![status(1, 0, "SyncHdr", Some("IMEI:356938035643809"))];
    for i in 0..gets {
        let (uri, format, value) = LEAVES[i % LEAVES.len()];
        let get_id = i + 2;
        let uri = if i < LEAVES.len() {
            uri.to_owned()
        } else {
            format!("{uri}{}", i / LEAVES.len())
        };
        commands.push(status(commands.len() + 1, get_id, "Get", Some(&uri)));
        commands.push(Command::Results(Results {
            cmd_id: (commands.len() + 1).to_string(),
            msg_ref: Some("1".into()),
            cmd_ref: get_id.to_string(),
            items: vec![item(&uri, format, false, value.to_owned())],
            ..Results::default()
        }));
    }
    SyncMl {
        hdr: header(),
        body: SyncBody {
            commands,
            final_: true,
        },
    }
}

/// A deterministic base64-alphabet text of `len` bytes, wrapped every 76 characters.
fn blob(len: usize, seed: usize) -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut x = (seed as u64).wrapping_mul(2_654_435_761).wrapping_add(1);
    (0..len)
        .map(|i| {
            if i % 77 == 76 {
                '\n'
            } else {
                x = x.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
                char::from(ALPHABET[(x >> 58) as usize])
            }
        })
        .collect()
}

/// Package 3 with `results` Results of `per` items each; every tenth item holds a
/// multi-KiB value.
fn large_message(results: usize, per: usize) -> SyncMl {
    let mut commands = vec![status(1, 0, "SyncHdr", Some("IMEI:356938035643809"))];
    for r in 0..results {
        let get_id = r + 2;
        commands.push(status(
            commands.len() + 1,
            get_id,
            "Get",
            Some("./DevDetail"),
        ));
        let items = (0..per)
            .map(|i| {
                let n = r * per + i;
                if n % 10 == 9 {
                    let uri = format!("./Vendor/Logs/Entry{n}/Content");
                    item(&uri, "b64", true, blob(2048 + (n % 4) * 1024, n))
                } else {
                    let (uri, format, value) = LEAVES[n % LEAVES.len()];
                    item(&format!("{uri}{n}"), format, true, value.to_owned())
                }
            })
            .collect();
        commands.push(Command::Results(Results {
            cmd_id: (commands.len() + 1).to_string(),
            msg_ref: Some("1".into()),
            cmd_ref: get_id.to_string(),
            items,
            ..Results::default()
        }));
    }
    SyncMl {
        hdr: header(),
        body: SyncBody {
            commands,
            final_: true,
        },
    }
}

/// Bare quick-xml pass: every event, nothing kept. Returns the number of events.
fn quick_xml_events(xml: &[u8]) -> usize {
    let mut reader = quick_xml::Reader::from_reader(xml);
    let config = reader.config_mut();
    config.trim_text(false);
    config.check_end_names = true;
    let mut n = 0;
    loop {
        match reader.read_event().unwrap() {
            quick_xml::events::Event::Eof => return n,
            ev => {
                black_box(&ev);
                n += 1;
            }
        }
    }
}

/// Read a WBXML multi-byte unsigned integer at `*i`.
fn mb_u32(b: &[u8], i: &mut usize) -> u32 {
    let mut v = 0u32;
    loop {
        let byte = b[*i];
        *i += 1;
        v = (v << 7) | u32::from(byte & 0x7F);
        if byte & 0x80 == 0 {
            return v;
        }
    }
}

/// Skip a NUL-terminated inline string at `*i`.
fn skip_str_i(b: &[u8], i: &mut usize) {
    *i += b[*i..].iter().position(|&c| c == 0).unwrap() + 1;
}

/// Bare WBXML pass: header, string table, then every token (no attributes in DM), nothing
/// kept. Returns the number of tokens.
fn wbxml_tokens(b: &[u8]) -> usize {
    let mut i = 1; // version
    if mb_u32(b, &mut i) == 0 {
        mb_u32(b, &mut i); // literal public id: string-table index
    }
    mb_u32(b, &mut i); // charset
    let table = mb_u32(b, &mut i) as usize;
    i += table;
    let mut n = 0;
    while i < b.len() {
        let t = b[i];
        i += 1;
        n += 1;
        match t {
            tokens::SWITCH_PAGE => i += 1,
            tokens::END => {}
            tokens::ENTITY
            | tokens::STR_T
            | tokens::EXT_T_0
            | tokens::EXT_T_1
            | tokens::EXT_T_2
            | tokens::LITERAL
            | tokens::LITERAL_C => {
                mb_u32(b, &mut i);
            }
            tokens::STR_I | tokens::EXT_I_0 | tokens::EXT_I_1 | tokens::EXT_I_2 => {
                skip_str_i(b, &mut i);
            }
            tokens::OPAQUE => {
                let len = mb_u32(b, &mut i) as usize;
                black_box(&b[i..i + len]);
                i += len;
            }
            tokens::EXT_0 | tokens::EXT_1 | tokens::EXT_2 => {}
            tag => {
                black_box(tag & tokens::TAG_ID_MASK);
            }
        }
    }
    n
}

fn bench_message(c: &mut Criterion, name: &str, message: &SyncMl) {
    let xml = codec::encode(message, Encoding::Xml).unwrap();
    let wbxml = codec::encode(message, Encoding::Wbxml).unwrap();
    // Sanity: both encodings decode back to the message, and the bare passes see something.
    for bytes in [&xml, &wbxml] {
        assert_eq!(
            &codec::decode(bytes, DecodeOptions::LENIENT)
                .unwrap()
                .message,
            message
        );
    }
    assert!(quick_xml_events(&xml) > 0 && wbxml_tokens(&wbxml) > 0);
    println!(
        "{name}: {} commands, XML {} bytes ({:.1} KiB), WBXML {} bytes ({:.1} KiB)",
        message.body.commands.len(),
        xml.len(),
        xml.len() as f64 / 1024.0,
        wbxml.len(),
        wbxml.len() as f64 / 1024.0
    );

    let mut g = c.benchmark_group(name);
    g.warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3))
        .sample_size(20);

    g.throughput(Throughput::Bytes(xml.len() as u64));
    g.bench_function("xml_decode", |b| {
        b.iter(|| codec::decode(black_box(&xml), DecodeOptions::LENIENT).unwrap())
    });
    g.bench_function("xml_encode", |b| {
        b.iter(|| codec::encode(black_box(message), Encoding::Xml).unwrap())
    });
    g.bench_function("quick_xml_events", |b| {
        b.iter(|| quick_xml_events(black_box(&xml)))
    });

    g.throughput(Throughput::Bytes(wbxml.len() as u64));
    g.bench_function("wbxml_decode", |b| {
        b.iter(|| codec::decode(black_box(&wbxml), DecodeOptions::LENIENT).unwrap())
    });
    g.bench_function("wbxml_encode", |b| {
        b.iter(|| codec::encode(black_box(message), Encoding::Wbxml).unwrap())
    });
    g.bench_function("wbxml_tokens", |b| {
        b.iter(|| wbxml_tokens(black_box(&wbxml)))
    });
    g.finish();
}

fn codec_benches(c: &mut Criterion) {
    bench_message(c, "small", &small_message(30));
    bench_message(c, "large", &large_message(12, 30));
}

criterion_group!(benches, codec_benches);
criterion_main!(benches);
