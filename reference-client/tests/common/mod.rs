//! Shared helpers for the end-to-end tests: a scripted DM server (hyper on 127.0.0.1:0)
//! whose answers a test writes as XML text, and a standard device.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::convert::Infallible;
use std::sync::{Arc, Mutex};

use bytes::Bytes;
use dm_client::session::{ClientFaults, Initiation, SessionConfig};
use dm_protocol::auth;
use dm_protocol::codec::{self, DecodeOptions, Encoding};
use dm_protocol::model::{Command, Status, SyncMl};
use dm_tree::standard::{install, put_account, Account, DeviceIdentity};
use dm_tree::{ManualClock, Tree, TreeConfig};
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;

pub mod pki;

/// The device's DevId.
pub const DEV: &str = "IMEI:493005100592800";

/// One request the server received.
#[derive(Debug, Clone)]
pub struct Request {
    /// The request path (and query), e.g. `/dm`.
    pub path: String,
    /// Headers, names in lower case.
    pub headers: Vec<(String, String)>,
    /// The exact body.
    pub bytes: Vec<u8>,
    /// The decoded message, if it decoded.
    pub msg: Option<SyncMl>,
    /// Its encoding, if it decoded.
    pub encoding: Option<Encoding>,
}

impl Request {
    /// The first header called `name`.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    /// The decoded message (panics in tests when it did not decode).
    pub fn msg(&self) -> &SyncMl {
        self.msg.as_ref().expect("a decodable request")
    }
}

/// What the server answers.
#[derive(Debug, Clone, Default)]
pub struct Reply {
    /// The body (XML text for the scripts here, re-encoded as WBXML when asked).
    pub body: Vec<u8>,
    /// Extra headers.
    pub headers: Vec<(String, String)>,
    /// The HTTP status; `None` is 200.
    pub status: Option<u16>,
}

impl Reply {
    /// An XML answer.
    pub fn xml(text: String) -> Reply {
        Reply {
            body: text.into_bytes(),
            headers: Vec::new(),
            status: None,
        }
    }

    /// An empty answer with HTTP status `status` (e.g. 500: the server did not take the
    /// message).
    pub fn http_status(status: u16) -> Reply {
        Reply {
            status: Some(status),
            ..Reply::default()
        }
    }

    /// Add an `x-syncml-hmac` header over the body (facts §6.3).
    pub fn with_hmac(mut self, user: &str, secret: &str, nonce: &[u8]) -> Reply {
        let mac = auth::hmac_mac(user, secret, nonce, &self.body);
        self.headers.push((
            "x-syncml-hmac".into(),
            auth::HmacHeader::new(user, mac).to_string(),
        ));
        self
    }
}

/// The script: the 0-based index of the request and the request → the answer.
pub type Script = Arc<dyn Fn(usize, &Request) -> Reply + Send + Sync>;

/// A running scripted server.
pub struct Server {
    /// Its URL.
    pub url: String,
    /// Every request, in order.
    pub seen: Arc<Mutex<Vec<Request>>>,
}

impl Server {
    /// The requests so far.
    pub fn requests(&self) -> Vec<Request> {
        self.seen.lock().unwrap().clone()
    }
}

/// Start a server answering with `script(index, request, url)`. When the request was WBXML
/// and the script answered XML, the answer is re-encoded as WBXML (headers kept as given).
pub async fn serve<F>(script: F) -> Server
where
    F: Fn(usize, &Request, &str) -> Reply + Send + Sync + 'static,
{
    serve_over(None, script).await
}

/// [`serve`] over TLS with `tls` (see [`pki`]); the URL is `https://localhost:PORT/dm`.
pub async fn serve_tls<F>(tls: tokio_rustls::TlsAcceptor, script: F) -> Server
where
    F: Fn(usize, &Request, &str) -> Reply + Send + Sync + 'static,
{
    serve_over(Some(tls), script).await
}

async fn serve_over<F>(tls: Option<tokio_rustls::TlsAcceptor>, script: F) -> Server
where
    F: Fn(usize, &Request, &str) -> Reply + Send + Sync + 'static,
{
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let url = match tls {
        None => format!("http://127.0.0.1:{port}/dm"),
        Some(_) => format!("https://localhost:{port}/dm"),
    };
    let seen: Arc<Mutex<Vec<Request>>> = Arc::default();
    let script: Script = {
        let url = url.clone();
        Arc::new(move |i, r| script(i, r, &url))
    };
    let seen2 = seen.clone();
    tokio::spawn(async move {
        loop {
            let Ok((tcp, _)) = listener.accept().await else {
                return;
            };
            let (seen, script, tls) = (seen2.clone(), script.clone(), tls.clone());
            tokio::spawn(async move {
                let svc = service_fn(move |req: hyper::Request<Incoming>| {
                    let (seen, script) = (seen.clone(), script.clone());
                    async move {
                        let headers = req
                            .headers()
                            .iter()
                            .map(|(n, v)| {
                                (
                                    n.as_str().to_owned(),
                                    v.to_str().unwrap_or_default().to_owned(),
                                )
                            })
                            .collect();
                        let path = req
                            .uri()
                            .path_and_query()
                            .map(|p| p.as_str().to_owned())
                            .unwrap_or_default();
                        let bytes = req.into_body().collect().await.unwrap().to_bytes();
                        let decoded = codec::decode(&bytes, DecodeOptions::LENIENT).ok();
                        let request = Request {
                            path,
                            headers,
                            bytes: bytes.to_vec(),
                            encoding: decoded.as_ref().map(|d| d.encoding),
                            msg: decoded.map(|d| d.message),
                        };
                        let index = {
                            let mut s = seen.lock().unwrap();
                            s.push(request.clone());
                            s.len() - 1
                        };
                        let mut reply = script(index, &request);
                        let encoding = request.encoding.unwrap_or(Encoding::Xml);
                        if encoding == Encoding::Wbxml && reply.body.starts_with(b"<") {
                            let m = codec::decode(&reply.body, DecodeOptions::LENIENT)
                                .unwrap()
                                .message;
                            reply.body = codec::encode(&m, Encoding::Wbxml).unwrap();
                        }
                        let mut b = hyper::Response::builder().status(reply.status.unwrap_or(200));
                        if !reply
                            .headers
                            .iter()
                            .any(|(n, _)| n.eq_ignore_ascii_case("content-type"))
                        {
                            b = b.header(hyper::header::CONTENT_TYPE, encoding.content_type());
                        }
                        for (n, v) in &reply.headers {
                            b = b.header(n.as_str(), v.as_str());
                        }
                        Ok::<_, Infallible>(b.body(Full::new(Bytes::from(reply.body))).unwrap())
                    }
                });
                let http = hyper::server::conn::http1::Builder::new();
                match tls {
                    None => {
                        let _ = http.serve_connection(TokioIo::new(tcp), svc).await;
                    }
                    Some(tls) => {
                        if let Ok(stream) = tls.accept(tcp).await {
                            let _ = http.serve_connection(TokioIo::new(stream), svc).await;
                        }
                    }
                }
            });
        }
    });
    Server { url, seen }
}

/// A server message as XML text: SyncHdr (with optional extra header XML such as Cred or
/// Meta), `body`, and `Final` when `final_`.
pub fn server_xml(
    req: &Request,
    msg_id: usize,
    url: &str,
    hdr_extra: &str,
    body: &str,
    final_: bool,
) -> String {
    let sid = &req.msg().hdr.session_id;
    let fin = if final_ { "<Final/>" } else { "" };
    format!(
        r#"<SyncML xmlns="SYNCML:SYNCML1.2"><SyncHdr><VerDTD>1.2</VerDTD><VerProto>DM/1.2</VerProto><SessionID>{sid}</SessionID><MsgID>{msg_id}</MsgID><Target><LocURI>{DEV}</LocURI></Target><Source><LocURI>{url}</LocURI></Source>{hdr_extra}</SyncHdr><SyncBody>{body}{fin}</SyncBody></SyncML>"#
    )
}

/// The Status for the request's SyncHdr with `code` and optional Chal XML.
pub fn hdr_status(req: &Request, url: &str, code: u16, chal: &str) -> String {
    format!(
        "<Status><CmdID>1</CmdID><MsgRef>{}</MsgRef><CmdRef>0</CmdRef><Cmd>SyncHdr</Cmd><TargetRef>{url}</TargetRef><SourceRef>{DEV}</SourceRef>{chal}<Data>{code}</Data></Status>",
        req.msg().hdr.msg_id
    )
}

/// A `Chal` element of `auth_type` with `nonce` (raw bytes) as NextNonce.
pub fn chal(auth_type: &str, nonce: &[u8]) -> String {
    format!(
        r#"<Chal><Meta><Type xmlns="syncml:metinf">{auth_type}</Type><Format xmlns="syncml:metinf">b64</Format><NextNonce xmlns="syncml:metinf">{}</NextNonce></Meta></Chal>"#,
        auth::b64(nonce)
    )
}

/// The statuses in a message.
pub fn statuses(m: &SyncMl) -> Vec<&Status> {
    m.body
        .commands
        .iter()
        .filter_map(|c| match c {
            Command::Status(s) => Some(s),
            _ => None,
        })
        .collect()
}

/// The code of the Status for `cmd_ref` in `m`.
pub fn status_code(m: &SyncMl, cmd_ref: &str) -> Option<u16> {
    statuses(m)
        .into_iter()
        .find(|s| s.cmd_ref == cmd_ref)
        .map(|s| s.code.as_u16())
}

/// The standard test device with account `srvA` for `url`, on a manual clock.
pub fn device(url: &str) -> Tree {
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

/// A client-initiated session for `url` with no authentication.
pub fn config(url: &str) -> SessionConfig {
    SessionConfig {
        session_id: "7F".into(),
        server_uri: url.into(),
        server_id: "srvA".into(),
        initiation: Initiation::Client,
        client_auth: None,
        server_auth: None,
        max_msg_size: Some(16_384),
        max_obj_size: None,
        alerts: vec![],
        seed: 1,
        faults: ClientFaults::default(),
    }
}

/// Run `session` against `url` in `encoding` with `tester`, at most 12 messages.
pub async fn run(
    tree: &mut Tree,
    session: &mut dm_client::session::Session,
    encoding: Encoding,
    tester: &mut dyn dm_client::tester::TesterHooks,
) -> Result<dm_client::driver::Run, dm_client::driver::DriverError> {
    let transport = dm_client::transport::Transport::new(dm_client::transport::TransportConfig {
        retries: 0,
        ..Default::default()
    })
    .unwrap();
    dm_client::driver::run_with(
        tree,
        session,
        &transport,
        encoding,
        &mut dm_tree::NoHooks,
        tester,
        12,
    )
    .await
}

/// The generic continuation of a session after package 2: a final client message gets a
/// final Status-only answer (the session ends, facts §2.2); a non-final one gets Status for
/// the SyncHdr, 213 for a chunk it carried (facts §8) and Alert 1222 (facts §2.4).
pub fn continuation(n: usize, req: &Request, url: &str) -> Reply {
    let m = req.msg();
    let mut body = hdr_status(req, url, 200, "");
    if m.body.final_ {
        return Reply::xml(server_xml(req, n + 1, url, "", &body, true));
    }
    for c in &m.body.commands {
        if let Command::Results(r) = c {
            if r.items.iter().any(|i| i.more_data) {
                body.push_str(&format!(
                    "<Status><CmdID>2</CmdID><MsgRef>{}</MsgRef><CmdRef>{}</CmdRef><Cmd>Results</Cmd><Data>213</Data></Status>",
                    m.hdr.msg_id, r.cmd_id
                ));
            }
        }
    }
    body.push_str("<Alert><CmdID>3</CmdID><Data>1222</Data></Alert>");
    Reply::xml(server_xml(req, n + 1, url, "", &body, false))
}

/// Whether a message carries `Final`.
pub fn is_final(r: &Request) -> bool {
    r.msg().body.final_
}

/// The standard device and a default session (see [`config`]) run in XML against `server`
/// with `tester`, to the end: the tree, the session and the run.
pub async fn run_default(
    server: &Server,
    tester: &mut dyn dm_client::tester::TesterHooks,
) -> (Tree, dm_client::session::Session, dm_client::driver::Run) {
    let mut tree = device(&server.url);
    let mut session = dm_client::session::Session::new(config(&server.url));
    let run = run(&mut tree, &mut session, Encoding::Xml, tester)
        .await
        .unwrap();
    (tree, session, run)
}

/// The value of a leaf of `dev`'s tree, as text.
pub fn value(dev: &dm_client::device::Device, uri: &str) -> Option<String> {
    dev.tree().value_str(uri)
}

/// Whether `dev` has the node `uri`.
pub fn exists(dev: &dm_client::device::Device, uri: &str) -> bool {
    dev.tree().exists(&uri.parse().unwrap())
}

/// The Generic Alerts (1226) of a request's message.
pub fn generic_alerts(r: &Request) -> Vec<dm_protocol::model::Alert> {
    r.msg()
        .body
        .commands
        .iter()
        .filter_map(|c| match c {
            Command::Alert(a) if a.code == Some(dm_protocol::codes::AlertCode::GenericAlert) => {
                Some(a.clone())
            }
            _ => None,
        })
        .collect()
}
