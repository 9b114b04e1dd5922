#![allow(clippy::unwrap_used, clippy::expect_used)]
//! Message size and large objects end to end over a real socket: the client's reply split
//! across messages under the server's MaxMsgSize with 1222 continuation (facts §1.5, §2.4),
//! outgoing Results chunks with the 213 flow and MaxObjSize refusal, and incoming large
//! objects (213, 424, 1225; facts §8).

mod common;

use common::{
    config, continuation, device, hdr_status, is_final, run, run_default, serve, server_xml,
    status_code, Reply, Request,
};
use dm_client::session::{EndReason, Session};
use dm_client::tester::NoTester;
use dm_protocol::codec::Encoding;
use dm_protocol::codes::AlertCode;
use dm_protocol::model::{Command, Data, Results, SyncMl};
use rstest::rstest;

fn meta_sizes(max_msg: Option<u64>, max_obj: Option<u64>) -> String {
    let mut m = String::new();
    if let Some(v) = max_msg {
        m.push_str(&format!(
            r#"<MaxMsgSize xmlns="syncml:metinf">{v}</MaxMsgSize>"#
        ));
    }
    if let Some(v) = max_obj {
        m.push_str(&format!(
            r#"<MaxObjSize xmlns="syncml:metinf">{v}</MaxObjSize>"#
        ));
    }
    format!("<Meta>{m}</Meta>")
}

fn results(m: &SyncMl) -> Vec<&Results> {
    m.body
        .commands
        .iter()
        .filter_map(|c| match c {
            Command::Results(r) => Some(r),
            _ => None,
        })
        .collect()
}

const LEAVES: [&str; 5] = ["DevId", "Man", "Mod", "DmV", "Lang"];

/// Ten Gets whose statuses and Results cannot fit one 1100-byte message: the reply goes in
/// several messages, none over the limit, only the last with Final; the server's 1222 gets
/// its Status; every Get is answered once (facts §1.5, §2.4).
#[rstest]
#[case::xml(Encoding::Xml, 1100)]
#[case::wbxml(Encoding::Wbxml, 400)]
#[tokio::test]
async fn reply_split_under_max_msg_size(#[case] encoding: Encoding, #[case] limit: u64) {
    let server = serve(move |n, req, url| {
        if n > 0 {
            return continuation(n, req, url);
        }
        let mut body = hdr_status(req, url, 200, "");
        for i in 0..10 {
            let leaf = LEAVES[i % LEAVES.len()];
            body.push_str(&format!(
                "<Get><CmdID>{}</CmdID><Item><Target><LocURI>./DevInfo/{leaf}</LocURI></Target></Item></Get>",
                i + 2
            ));
        }
        let meta = meta_sizes(Some(limit), None);
        Reply::xml(server_xml(req, 1, url, &meta, &body, true))
    })
    .await;
    let mut tree = device(&server.url);
    let mut session = Session::new(config(&server.url));
    let run = run(&mut tree, &mut session, encoding, &mut NoTester)
        .await
        .unwrap();
    assert_eq!(run.end, EndReason::Completed);
    let reqs: Vec<Request> = server.requests().into_iter().skip(1).collect();
    assert!(reqs.len() >= 2, "split into {} messages", reqs.len());
    for (i, r) in reqs.iter().enumerate() {
        assert!(
            r.bytes.len() as u64 <= limit,
            "message {i} is {} bytes",
            r.bytes.len()
        );
        assert_eq!(is_final(r), i == reqs.len() - 1, "Final only on the last");
        let first = r.msg().body.commands.first();
        assert!(
            matches!(first, Some(Command::Status(s)) if s.cmd_ref == "0"),
            "SyncHdr Status first"
        );
        let ids: Vec<&str> = r
            .msg()
            .body
            .commands
            .iter()
            .filter_map(Command::cmd_id)
            .collect();
        let mut unique = ids.clone();
        unique.dedup();
        assert_eq!(ids.len(), unique.len(), "CmdIDs unique in a message");
        if i > 0 {
            // The server's 1222 (CmdID 3 of its previous message) has its Status.
            assert_eq!(status_code(r.msg(), "3"), Some(200));
        }
    }
    for get in 2..12 {
        let id = get.to_string();
        let answered: usize = reqs
            .iter()
            .map(|r| {
                common::statuses(r.msg())
                    .iter()
                    .filter(|s| s.cmd_ref == id && s.msg_ref == "1")
                    .count()
            })
            .sum();
        assert_eq!(answered, 1, "Get {id} answered once");
        let res: usize = reqs
            .iter()
            .map(|r| results(r.msg()).iter().filter(|x| x.cmd_ref == id).count())
            .sum();
        assert_eq!(res, 1, "Get {id} has its Results");
    }
}

/// A value set by the server and read back: a `len`-byte string.
fn big_value(len: usize) -> String {
    (0..len)
        .map(|i| char::from(b'a' + (i % 26) as u8))
        .collect()
}

fn set_and_get(req: &Request, url: &str, value: &str, meta: &str) -> Reply {
    let body = format!(
        "{}<Replace><CmdID>2</CmdID><Item><Target><LocURI>./DMAcc/srvA/Name</LocURI></Target><Data>{value}</Data></Item></Replace>\
         <Get><CmdID>3</CmdID><Item><Target><LocURI>./DMAcc/srvA/Name</LocURI></Target></Item></Get>",
        hdr_status(req, url, 200, "")
    );
    Reply::xml(server_xml(req, 1, url, meta, &body, true))
}

/// A Results item bigger than a message goes in chunks: Meta/Size on the first only,
/// MoreData on all but the last, one chunk per message, each after the server's 213
/// (facts §8); reassembled it is the value.
#[tokio::test]
async fn outgoing_large_object_in_chunks() {
    let value = big_value(3000);
    let v2 = value.clone();
    let server = serve(move |n, req, url| {
        if n == 0 {
            set_and_get(req, url, &v2, &meta_sizes(Some(1200), None))
        } else {
            continuation(n, req, url)
        }
    })
    .await;
    let (_, _, run) = run_default(&server, &mut NoTester).await;
    assert_eq!(run.end, EndReason::Completed);
    let reqs: Vec<Request> = server.requests().into_iter().skip(1).collect();
    let chunks: Vec<(usize, &Results)> = reqs
        .iter()
        .enumerate()
        .flat_map(|(i, r)| results(r.msg()).into_iter().map(move |x| (i, x)))
        .collect();
    assert!(chunks.len() >= 3, "3000 bytes in 1200-byte messages");
    let mut whole = String::new();
    for (k, (msg_index, r)) in chunks.iter().enumerate() {
        assert_eq!(r.cmd_ref, "3");
        let item = &r.items[0];
        let last = k == chunks.len() - 1;
        assert_eq!(item.more_data, !last);
        let size = item.meta.as_ref().and_then(|m| m.size);
        assert_eq!(
            size,
            (k == 0).then_some(3000),
            "Meta/Size on the first chunk only"
        );
        assert_eq!(*msg_index, k, "one chunk per message");
        assert!(reqs[*msg_index].bytes.len() <= 1200);
        let Some(Data::Text(t)) = &item.data else {
            panic!("text data")
        };
        whole.push_str(t);
    }
    assert_eq!(whole, value);
    assert!(is_final(reqs.last().unwrap()));
    assert!(reqs[..reqs.len() - 1].iter().all(|r| !is_final(r)));
}

/// A server that answers a chunk with something else than 213 gets no more chunks; the
/// session goes on and the deviation is noted (facts §8).
#[tokio::test]
async fn chunk_refused_stops_the_object() {
    let value = big_value(3000);
    let server = serve(move |n, req, url| {
        if n == 0 {
            return set_and_get(req, url, &value, &meta_sizes(Some(1200), None));
        }
        let m = req.msg();
        if m.body.final_ {
            return continuation(n, req, url);
        }
        let chunk_id = results(m)[0].cmd_id.clone();
        let body = format!(
            "{}<Status><CmdID>2</CmdID><MsgRef>{}</MsgRef><CmdRef>{chunk_id}</CmdRef><Cmd>Results</Cmd><Data>500</Data></Status><Alert><CmdID>3</CmdID><Data>1222</Data></Alert>",
            hdr_status(req, url, 200, ""),
            m.hdr.msg_id
        );
        Reply::xml(server_xml(req, n + 1, url, "", &body, false))
    })
    .await;
    let (_, session, run) = run_default(&server, &mut NoTester).await;
    assert_eq!(run.end, EndReason::Completed);
    let reqs = server.requests();
    assert_eq!(
        reqs.len(),
        3,
        "package 1, first chunk, the rest without chunks"
    );
    assert!(results(reqs[2].msg()).is_empty());
    assert!(is_final(&reqs[2]));
    assert!(session
        .deviations()
        .iter()
        .any(|d| d.what.contains("instead of 213")));
}

/// An object over the server's MaxObjSize is not sent: the Get is answered 413 and has no
/// Results (facts §8, §3.2).
#[tokio::test]
async fn object_over_max_obj_size_is_refused() {
    let server = serve(|n, req, url| {
        if n == 0 {
            set_and_get(req, url, &big_value(300), &meta_sizes(None, Some(100)))
        } else {
            continuation(n, req, url)
        }
    })
    .await;
    let mut tree = device(&server.url);
    let mut session = Session::new(config(&server.url));
    run(&mut tree, &mut session, Encoding::Xml, &mut NoTester)
        .await
        .unwrap();
    let pkg3 = server.requests()[1].msg().clone();
    assert_eq!(status_code(&pkg3, "2"), Some(200), "the Replace");
    assert_eq!(status_code(&pkg3, "3"), Some(413), "the Get");
    assert!(results(&pkg3).is_empty());
}

/// How the server ends its incoming large object.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Ending {
    /// Last chunk, sizes agree.
    Complete,
    /// Last chunk, but Meta/Size announced 5 more bytes.
    SizeMismatch,
    /// A Get instead of the last chunk.
    Dropped,
}

/// Incoming large object: 213 and Alert 1222 for the non-final chunk; then 200 and the
/// value committed, or 424 with nothing committed, or Alert 1225 naming the item when the
/// server drops it (facts §8).
#[rstest]
#[case::complete(Ending::Complete)]
#[case::size_mismatch(Ending::SizeMismatch)]
#[case::dropped(Ending::Dropped)]
#[tokio::test]
async fn incoming_large_object(#[case] ending: Ending) {
    let server = serve(move |n, req, url| {
        let target = "<Target><LocURI>./DMAcc/srvA/Name</LocURI></Target>";
        let hdr = hdr_status(req, url, 200, "");
        match n {
            0 => {
                let size = if ending == Ending::SizeMismatch { 15 } else { 10 };
                let body = format!(
                    r#"{hdr}<Replace><CmdID>2</CmdID><Item>{target}<Meta><Size xmlns="syncml:metinf">{size}</Size></Meta><Data>Hello</Data><MoreData/></Item></Replace>"#
                );
                Reply::xml(server_xml(req, 1, url, "", &body, false))
            }
            1 => {
                let body = if ending == Ending::Dropped {
                    format!("{hdr}<Get><CmdID>3</CmdID><Item><Target><LocURI>./DevInfo/Man</LocURI></Target></Item></Get>")
                } else {
                    format!("{hdr}<Replace><CmdID>3</CmdID><Item>{target}<Data>World</Data></Item></Replace>")
                };
                Reply::xml(server_xml(req, 2, url, "", &body, true))
            }
            _ => continuation(n, req, url),
        }
    })
    .await;
    let (tree, _, run) = run_default(&server, &mut NoTester).await;
    assert_eq!(run.end, EndReason::Completed);
    let reqs = server.requests();
    let first = reqs[1].msg();
    assert_eq!(status_code(first, "2"), Some(213));
    assert!(!first.body.final_);
    assert!(first
        .body
        .commands
        .iter()
        .any(|c| matches!(c, Command::Alert(a) if a.code == Some(AlertCode::NextMessage))));
    let second = reqs[2].msg();
    let name = tree.value_str("./DMAcc/srvA/Name").unwrap();
    match ending {
        Ending::Complete => {
            assert_eq!(status_code(second, "3"), Some(200));
            assert_eq!(name, "HelloWorld");
        }
        Ending::SizeMismatch => {
            assert_eq!(status_code(second, "3"), Some(424));
            assert_eq!(name, "A", "nothing committed");
        }
        Ending::Dropped => {
            let alert = second.body.commands.iter().find_map(|c| match c {
                Command::Alert(a) if a.code == Some(AlertCode::NoEndOfData) => Some(a),
                _ => None,
            });
            let alert = alert.expect("Alert 1225");
            assert_eq!(
                alert.items[0].target.as_ref().map(|l| l.loc_uri.as_str()),
                Some("./DMAcc/srvA/Name")
            );
            assert_eq!(status_code(second, "3"), Some(200), "the Get still runs");
            assert_eq!(name, "A", "nothing committed");
        }
    }
}

/// Run `f` on its own thread and wait at most `secs` for it: a session that loops forever
/// fails the test instead of hanging it.
fn within<T: Send + 'static>(secs: u64, f: impl FnOnce() -> T + Send + 'static) -> T {
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(f());
    });
    match rx.recv_timeout(std::time::Duration::from_secs(secs)) {
        Ok(v) => v,
        Err(std::sync::mpsc::RecvTimeoutError::Timeout) => {
            panic!("the session did not end within {secs} s (endless loop?)")
        }
        Err(std::sync::mpsc::RecvTimeoutError::Disconnected) => {
            panic!("the session thread panicked (its message is above)")
        }
    }
}

const TNDS_GET: &str =
    "<Get><CmdID>2</CmdID><Item><Target><LocURI>./DevInfo?list=TNDS+Value</LocURI></Target></Item></Get>";

/// The TNDS document the device answers `TNDS_GET` with, as XML text.
fn tnds_reference() -> String {
    let mut tree = device("http://127.0.0.1:1/dm");
    let get = dm_protocol::codec::decode(
        format!(
            r#"<SyncML xmlns="SYNCML:SYNCML1.2"><SyncHdr><VerDTD>1.2</VerDTD><VerProto>DM/1.2</VerProto><SessionID>1</SessionID><MsgID>1</MsgID><Target><LocURI>d</LocURI></Target><Source><LocURI>s</LocURI></Source></SyncHdr><SyncBody>{TNDS_GET}</SyncBody></SyncML>"#
        )
        .as_bytes(),
        dm_protocol::codec::DecodeOptions::LENIENT,
    )
    .unwrap()
    .message
    .body
    .commands
    .remove(0);
    let o = dm_tree::Processor::new().process(
        &mut tree,
        &dm_tree::Principal::server("srvA"),
        &get,
        &mut dm_tree::NoHooks,
    );
    match o.results[0].data.as_ref() {
        Some(Data::Markup(m)) => m.to_xml(),
        other => panic!("TNDS markup expected, got {other:?}"),
    }
}

/// A `?list=TNDS` Results (embedded markup) that does not fit the server's MaxMsgSize is
/// chunked as its XML text: the session ends, every message fits, the first chunk carries
/// the TNDS Meta Type and Meta/Size, and the server reassembles the TNDS document (facts
/// §8, §9.2).
#[test]
fn tnds_results_over_max_msg_size_go_in_chunks() {
    const LIMIT: u64 = 1300;
    let reference = tnds_reference();
    let (end, reqs) = within(30, || {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async {
            let server = serve(|n, req, url| {
                if n > 0 {
                    return continuation(n, req, url);
                }
                let body = format!("{}{TNDS_GET}", hdr_status(req, url, 200, ""));
                let meta = meta_sizes(Some(LIMIT), None);
                Reply::xml(server_xml(req, 1, url, &meta, &body, true))
            })
            .await;
            let mut tree = device(&server.url);
            let mut session = Session::new(config(&server.url));
            let run = run(&mut tree, &mut session, Encoding::Xml, &mut NoTester)
                .await
                .unwrap();
            (run.end, server.requests())
        })
    });
    assert_eq!(end, EndReason::Completed);
    let reqs: Vec<Request> = reqs.into_iter().skip(1).collect();
    let chunks: Vec<Results> = reqs
        .iter()
        .flat_map(|r| results(r.msg()).into_iter().cloned())
        .collect();
    assert!(chunks.len() >= 2, "{} chunks", chunks.len());
    let mut whole = String::new();
    for (k, r) in chunks.iter().enumerate() {
        assert_eq!(r.cmd_ref, "2");
        let item = &r.items[0];
        assert_eq!(item.more_data, k + 1 < chunks.len());
        if k == 0 {
            let meta = item.meta.as_ref().expect("Meta on the first chunk");
            assert_eq!(
                meta.type_.as_deref(),
                Some("application/vnd.syncml.dmtnds+xml")
            );
            assert_eq!(meta.size, Some(reference.len() as u64));
        }
        let Some(Data::Text(t)) = &item.data else {
            panic!("chunks carry text, got {:?}", item.data)
        };
        whole.push_str(&t[..]);
    }
    for r in &reqs {
        assert!(r.bytes.len() as u64 <= LIMIT, "{} bytes", r.bytes.len());
    }
    assert_eq!(whole, reference);
    let parsed = dm_protocol::model::RawNodes::from_xml(&whole).unwrap();
    assert!(!parsed.is_empty());
    assert!(whole.contains("MgmtTree"));
}

/// A Get with several items where one value is over the server's MaxObjSize: that item is
/// answered 413 and has no Results; the other keeps 200 and its Results (facts §8, §3.2).
#[tokio::test]
async fn one_item_over_max_obj_size_is_refused_alone() {
    let server = serve(|n, req, url| {
        if n > 0 {
            return continuation(n, req, url);
        }
        let body = format!(
            "{}<Replace><CmdID>2</CmdID><Item><Target><LocURI>./DMAcc/srvA/Name</LocURI></Target><Data>{}</Data></Item></Replace>\
             <Get><CmdID>3</CmdID><Item><Target><LocURI>./DMAcc/srvA/Name</LocURI></Target></Item><Item><Target><LocURI>./DevInfo/Man</LocURI></Target></Item></Get>",
            hdr_status(req, url, 200, ""),
            big_value(300)
        );
        Reply::xml(server_xml(req, 1, url, &meta_sizes(None, Some(100)), &body, true))
    })
    .await;
    let (_, _, run) = run_default(&server, &mut NoTester).await;
    assert_eq!(run.end, EndReason::Completed);
    let pkg3 = server.requests()[1].msg().clone();
    let get_statuses: Vec<(String, u16)> = common::statuses(&pkg3)
        .into_iter()
        .filter(|s| s.cmd_ref == "3")
        .map(|s| (s.target_refs.join(","), s.code.as_u16()))
        .collect();
    assert_eq!(
        get_statuses,
        vec![
            ("./DMAcc/srvA/Name".to_owned(), 413),
            ("./DevInfo/Man".to_owned(), 200)
        ]
    );
    let res = results(&pkg3);
    assert_eq!(res.len(), 1);
    let sources: Vec<&str> = res[0]
        .items
        .iter()
        .filter_map(|i| i.source.as_ref().map(|l| l.loc_uri.as_str()))
        .collect();
    assert_eq!(sources, vec!["./DevInfo/Man"]);
    assert_eq!(res[0].items[0].data, Some(Data::Text("Acme".into())));
}

/// A reply that cannot fit the server's tiny MaxMsgSize even alone is sent whole; the note
/// is an `OwnDeviation` with our MsgID, not a `Deviation` (whose MsgID is the server's).
#[tokio::test]
async fn own_oversized_message_is_an_own_deviation() {
    let server = serve(|n, req, url| {
        if n > 0 {
            return continuation(n, req, url);
        }
        let body = format!(
            "{}<Replace><CmdID>2</CmdID><Item><Target><LocURI>./DMAcc/srvA/Name</LocURI></Target><Data>B</Data></Item></Replace>",
            hdr_status(req, url, 200, "")
        );
        Reply::xml(server_xml(req, 1, url, &meta_sizes(Some(200), None), &body, true))
    })
    .await;
    let (_, session, run) = run_default(&server, &mut NoTester).await;
    assert_eq!(run.end, EndReason::Completed);
    let reqs = server.requests();
    assert_eq!(status_code(reqs[1].msg(), "2"), Some(200), "sent whole");
    let own = session.own_deviations();
    assert_eq!(own.len(), 1, "{own:?}");
    assert_eq!(own[0].our_msg_id, reqs[1].msg().hdr.msg_id);
    assert!(own[0].what.contains("does not fit"));
    assert!(
        session.deviations().is_empty(),
        "nothing wrong in the server's messages: {:?}",
        session.deviations()
    );
}

/// A server message over the MaxMsgSize we announced is a deviation (facts §1.3: the peer
/// must not exceed it) and is still processed; a message under it is not.
#[tokio::test]
async fn server_message_over_our_max_msg_size_is_noted() {
    const OURS: u64 = 700;
    let server = serve(|n, req, url| {
        if n > 0 {
            return Reply::xml(server_xml(req, 2, url, "", &hdr_status(req, url, 200, ""), true));
        }
        let mut body = hdr_status(req, url, 200, "");
        for i in 0..10 {
            body.push_str(&format!(
                "<Get><CmdID>{}</CmdID><Item><Target><LocURI>./DevInfo/Man</LocURI></Target></Item></Get>",
                i + 2
            ));
        }
        Reply::xml(server_xml(req, 1, url, "", &body, true))
    })
    .await;
    let mut tree = device(&server.url);
    let mut cfg = config(&server.url);
    cfg.max_msg_size = Some(OURS);
    let mut session = Session::new(cfg);
    let run = run(&mut tree, &mut session, Encoding::Xml, &mut NoTester)
        .await
        .unwrap();
    assert_eq!(run.end, EndReason::Completed);
    let received: Vec<usize> = run
        .exchanges
        .iter()
        .filter(|e| e.direction == dm_client::driver::Direction::Received)
        .map(|e| e.bytes.len())
        .collect();
    assert!(received[0] as u64 > OURS && received[1] as u64 <= OURS);
    let over: Vec<&str> = session
        .deviations()
        .iter()
        .filter(|d| d.what.contains("MaxMsgSize 700 we announced"))
        .map(|d| d.msg_id.as_str())
        .collect();
    assert_eq!(over, vec!["1"]);
    let pkg3 = server.requests()[1].msg().clone();
    for id in 2..12 {
        assert_eq!(status_code(&pkg3, &id.to_string()), Some(200), "Get {id}");
    }
    assert_eq!(results(&pkg3).len(), 10, "processed anyway");
}
