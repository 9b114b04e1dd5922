#![allow(clippy::unwrap_used, clippy::expect_used)]
//! A whole client-initiated session over a real socket: the session engine and the HTTP
//! transport against a scripted DM server (hyper on 127.0.0.1:0), in XML and in WBXML
//! (facts §1.1, §1.4, §2.1, §2.2).

mod common;

use common::{config, device, hdr_status, serve, server_xml, Reply};
use dm_client::driver::{self, Direction};
use dm_client::session::{EndReason, Session};
use dm_client::transport::{Transport, TransportConfig};
use dm_protocol::codec::Encoding;
use dm_protocol::codes::{AlertCode, StatusCode};
use dm_protocol::model::{Command, Data};
use dm_tree::NoHooks;

/// Package 2 for the first message, package 4 (status only) for the second.
fn script(n: usize, req: &common::Request, url: &str) -> Reply {
    let hdr = hdr_status(req, url, 212, "");
    let body = if n == 0 {
        format!(
            "{hdr}<Status><CmdID>2</CmdID><MsgRef>1</MsgRef><CmdRef>1</CmdRef><Cmd>Alert</Cmd><Data>200</Data></Status>\
             <Get><CmdID>3</CmdID><Item><Target><LocURI>./DevInfo/Man</LocURI></Target></Item></Get>\
             <Replace><CmdID>4</CmdID><Item><Target><LocURI>./DMAcc/srvA/Name</LocURI></Target><Data>Renamed</Data></Item></Replace>"
        )
    } else {
        hdr
    };
    Reply::xml(server_xml(req, n + 1, url, "", &body, true))
}

async fn one_session(encoding: Encoding) {
    let server = serve(script).await;
    let url = server.url.clone();
    let mut tree = device(&url);
    let mut session = Session::new(config(&url));
    let transport = Transport::new(TransportConfig::default()).unwrap();
    let run = driver::run(
        &mut tree,
        &mut session,
        &transport,
        encoding,
        &mut NoHooks,
        10,
    )
    .await
    .unwrap();
    assert_eq!(run.end, EndReason::Completed);
    // Two client messages, two server answers; the session ended without a third message
    // (facts §2.2).
    let dirs: Vec<Direction> = run.exchanges.iter().map(|e| e.direction).collect();
    assert_eq!(
        dirs,
        [
            Direction::Sent,
            Direction::Received,
            Direction::Sent,
            Direction::Received
        ]
    );
    let seen = server.requests();
    assert_eq!(seen.len(), 2);
    assert!(seen
        .iter()
        .all(|r| r.header("content-type") == Some(encoding.content_type())));
    let pkg1 = seen[0].msg();
    let Command::Alert(a) = &pkg1.body.commands[0] else {
        panic!()
    };
    assert_eq!(a.code, Some(AlertCode::ClientInitiatedMgmt));
    let pkg3 = seen[1].msg();
    assert_eq!(pkg3.hdr.session_id, "7F");
    assert_eq!(pkg3.hdr.msg_id, "2");
    let results = pkg3
        .body
        .commands
        .iter()
        .find_map(|c| match c {
            Command::Results(r) => Some(r),
            _ => None,
        })
        .expect("Results for the Get");
    assert_eq!(results.cmd_ref, "3");
    assert_eq!(results.items[0].data, Some(Data::Text("Acme".into())));
    let replace_status = pkg3
        .body
        .commands
        .iter()
        .find_map(|c| match c {
            Command::Status(s) if s.cmd_ref == "4" => Some(s.code),
            _ => None,
        })
        .unwrap();
    assert_eq!(replace_status, StatusCode::Ok);
    assert_eq!(tree.value_str("./DMAcc/srvA/Name").unwrap(), "Renamed");
}

#[tokio::test]
async fn client_initiated_session_over_http_xml() {
    one_session(Encoding::Xml).await;
}

#[tokio::test]
async fn client_initiated_session_over_http_wbxml() {
    one_session(Encoding::Wbxml).await;
}

/// facts §1.3: once the server gives a RespURI, every later client message goes there.
#[tokio::test]
async fn resp_uri_is_honoured() {
    let server = serve(|n, req, url| {
        let resp = format!("{url}/s1?x=1");
        let body = if n == 0 {
            format!(
                "{}<Get><CmdID>2</CmdID><Item><Target><LocURI>./DevInfo/Man</LocURI></Target></Item></Get>",
                hdr_status(req, url, 200, "")
            )
        } else {
            hdr_status(req, url, 200, "")
        };
        let extra = if n == 0 {
            format!("<RespURI>{resp}</RespURI>")
        } else {
            String::new()
        };
        Reply::xml(server_xml(req, n + 1, url, &extra, &body, true))
    })
    .await;
    let mut tree = device(&server.url);
    let mut session = Session::new(config(&server.url));
    let transport = Transport::new(TransportConfig::default()).unwrap();
    let run = driver::run(
        &mut tree,
        &mut session,
        &transport,
        Encoding::Xml,
        &mut NoHooks,
        8,
    )
    .await
    .unwrap();
    assert_eq!(run.end, EndReason::Completed);
    let paths: Vec<String> = server.requests().iter().map(|r| r.path.clone()).collect();
    assert_eq!(paths, ["/dm", "/dm/s1?x=1"]);
    // facts §1.3: Target/LocURI stays the server URI; only the HTTP target moves.
    assert_eq!(server.requests()[1].msg().hdr.target.loc_uri, server.url);
}

/// Real servers' quirks are tolerated and each is recorded (issue 5 item 3): the SyncML DS
/// Content-Type, a DOCTYPE, pretty-printed XML.
#[tokio::test]
async fn quirky_answers_are_accepted_and_recorded() {
    let server = serve(|n, req, url| {
        let xml = server_xml(req, n + 1, url, "", &hdr_status(req, url, 200, ""), true)
            .replace("<SyncHdr>", "\n  <SyncHdr>\n    ")
            .replacen(
                "<SyncML",
                "<!DOCTYPE SyncML PUBLIC \"-//SYNCML//DTD SyncML 1.2//EN\" \"x.dtd\">\n<SyncML",
                1,
            );
        let mut r = Reply::xml(xml);
        r.headers
            .push(("content-type".into(), "application/vnd.syncml+xml".into()));
        r
    })
    .await;
    let mut tree = device(&server.url);
    let mut session = Session::new(config(&server.url));
    let transport = Transport::new(TransportConfig::default()).unwrap();
    let run = driver::run(
        &mut tree,
        &mut session,
        &transport,
        Encoding::Xml,
        &mut NoHooks,
        8,
    )
    .await
    .unwrap();
    assert_eq!(run.end, EndReason::Completed);
    let got = &run.exchanges[1];
    assert_eq!(got.direction, Direction::Received);
    assert_eq!(got.leniencies.len(), 3, "{:?}", got.leniencies);
    assert!(got.leniencies[0].contains("application/vnd.syncml+xml"));
    assert!(got.leniencies[1].contains("DOCTYPE"));
    assert!(got.leniencies[2].contains("pretty-printed"));
    assert!(run.exchanges[0].leniencies.is_empty());
}
