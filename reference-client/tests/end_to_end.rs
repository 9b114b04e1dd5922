#![allow(clippy::unwrap_used, clippy::expect_used)]
//! A whole client-initiated session over a real socket: the session engine and the HTTP
//! transport against a scripted DM server (hyper on 127.0.0.1:0), in XML and in WBXML
//! (facts §1.1, §1.4, §2.1, §2.2).

use std::convert::Infallible;
use std::sync::{Arc, Mutex};

use bytes::Bytes;
use dm_client::driver::{self, Direction};
use dm_client::session::{ClientFaults, EndReason, Initiation, Session, SessionConfig};
use dm_client::transport::{Transport, TransportConfig};
use dm_protocol::codec::{self, DecodeOptions, Encoding};
use dm_protocol::codes::{AlertCode, StatusCode};
use dm_protocol::model::{Command, Data, SyncMl};
use dm_tree::standard::{install, put_account, Account, DeviceIdentity};
use dm_tree::{ManualClock, NoHooks, Tree, TreeConfig};
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;

const DEV: &str = "IMEI:493005100592800";

/// What the scripted server saw.
#[derive(Default)]
struct Seen {
    messages: Vec<SyncMl>,
    content_types: Vec<String>,
}

fn server_message(session_id: &str, msg_id: u32, body: &str, url: &str) -> SyncMl {
    let xml = format!(
        r#"<SyncML xmlns="SYNCML:SYNCML1.2"><SyncHdr><VerDTD>1.2</VerDTD><VerProto>DM/1.2</VerProto><SessionID>{session_id}</SessionID><MsgID>{msg_id}</MsgID><Target><LocURI>{DEV}</LocURI></Target><Source><LocURI>{url}</LocURI></Source></SyncHdr><SyncBody>{body}<Final/></SyncBody></SyncML>"#
    );
    codec::decode(xml.as_bytes(), DecodeOptions::LENIENT)
        .unwrap()
        .message
}

/// Package 2 for the first message, package 4 (status only) for the second.
fn script(seen: &Mutex<Seen>, request: &SyncMl, url: &str) -> SyncMl {
    let n = seen.lock().unwrap().messages.len();
    let hdr = format!(
        "<Status><CmdID>1</CmdID><MsgRef>{}</MsgRef><CmdRef>0</CmdRef><Cmd>SyncHdr</Cmd><TargetRef>{url}</TargetRef><SourceRef>{DEV}</SourceRef><Data>212</Data></Status>",
        request.hdr.msg_id
    );
    let body = if n == 1 {
        format!(
            "{hdr}<Status><CmdID>2</CmdID><MsgRef>1</MsgRef><CmdRef>1</CmdRef><Cmd>Alert</Cmd><Data>200</Data></Status>\
             <Get><CmdID>3</CmdID><Item><Target><LocURI>./DevInfo/Man</LocURI></Target></Item></Get>\
             <Replace><CmdID>4</CmdID><Item><Target><LocURI>./DMAcc/srvA/Name</LocURI></Target><Data>Renamed</Data></Item></Replace>"
        )
    } else {
        hdr
    };
    server_message(&request.hdr.session_id, n as u32, &body, url)
}

async fn scripted_server() -> (String, Arc<Mutex<Seen>>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!(
        "http://127.0.0.1:{}/dm",
        listener.local_addr().unwrap().port()
    );
    let seen = Arc::new(Mutex::new(Seen::default()));
    let (seen2, url2) = (seen.clone(), url.clone());
    tokio::spawn(async move {
        loop {
            let Ok((tcp, _)) = listener.accept().await else {
                return;
            };
            let (seen, url) = (seen2.clone(), url2.clone());
            tokio::spawn(async move {
                let svc = service_fn(move |req: hyper::Request<Incoming>| {
                    let (seen, url) = (seen.clone(), url.clone());
                    async move {
                        let ct = req
                            .headers()
                            .get(hyper::header::CONTENT_TYPE)
                            .and_then(|v| v.to_str().ok())
                            .unwrap_or_default()
                            .to_owned();
                        let body = req.into_body().collect().await.unwrap().to_bytes();
                        let decoded = codec::decode(&body, DecodeOptions::LENIENT).unwrap();
                        {
                            let mut s = seen.lock().unwrap();
                            s.messages.push(decoded.message.clone());
                            s.content_types.push(ct.clone());
                        }
                        let answer = script(&seen, &decoded.message, &url);
                        let bytes = codec::encode(&answer, decoded.encoding).unwrap();
                        Ok::<_, Infallible>(
                            hyper::Response::builder()
                                .header(
                                    hyper::header::CONTENT_TYPE,
                                    decoded.encoding.content_type(),
                                )
                                .body(Full::new(Bytes::from(bytes)))
                                .unwrap(),
                        )
                    }
                });
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(TokioIo::new(tcp), svc)
                    .await;
            });
        }
    });
    (url, seen)
}

fn device(url: &str) -> Tree {
    let mut t = Tree::with_clock(
        TreeConfig::default(),
        Arc::new(ManualClock::at(994_869_497)),
    );
    install(
        &mut t,
        &DeviceIdentity {
            dev_id: DEV.into(),
            man: "Acme".into(),
            ..DeviceIdentity::default()
        },
    )
    .unwrap();
    put_account(
        &mut t,
        &Account {
            node: "srvA".into(),
            server_id: "srvA".into(),
            name: "A".into(),
            addr: url.into(),
            aauth_pref: String::new(),
            auth: vec![],
        },
    )
    .unwrap();
    t
}

async fn one_session(encoding: Encoding) {
    let (url, seen) = scripted_server().await;
    let mut tree = device(&url);
    let mut session = Session::new(SessionConfig {
        session_id: "7F".into(),
        server_uri: url.clone(),
        server_id: "srvA".into(),
        initiation: Initiation::Client,
        client_auth: None,
        server_auth: None,
        max_msg_size: Some(16_384),
        max_obj_size: None,
        alerts: vec![],
        seed: 1,
        faults: ClientFaults::default(),
    });
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
    let seen = seen.lock().unwrap();
    assert_eq!(seen.messages.len(), 2);
    assert!(seen
        .content_types
        .iter()
        .all(|c| c == encoding.content_type()));
    let pkg1 = &seen.messages[0];
    let Command::Alert(a) = &pkg1.body.commands[0] else {
        panic!()
    };
    assert_eq!(a.code, Some(AlertCode::ClientInitiatedMgmt));
    let pkg3 = &seen.messages[1];
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
