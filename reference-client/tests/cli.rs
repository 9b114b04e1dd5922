#![allow(clippy::unwrap_used, clippy::expect_used)]
//! The `dm-client` binary as users run it: real processes, a real state directory, a
//! scripted DM server on a real socket. Covers the documented contract of
//! docs/reference-client.md ("Command line", "Traces", "Running: notifications to sessions"):
//! output, exit codes, persistence across processes.

mod common;

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use common::{chal, hdr_status, serve, server_xml, status_code, Reply, DEV};
use dm_protocol::auth;
use dm_protocol::codes::AlertCode;
use dm_protocol::model::Command as DmCommand;
use dm_protocol::pkg0::{Initiator, Notification, UiMode};

const BIN: &str = env!("CARGO_BIN_EXE_dm-client");

/// Run `dm-client args…` off the async runtime (the scripted server runs on it).
async fn dm(args: &[&str]) -> Output {
    let args: Vec<String> = args.iter().map(|s| s.to_string()).collect();
    tokio::task::spawn_blocking(move || Command::new(BIN).args(&args).output().unwrap())
        .await
        .unwrap()
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

fn profile(dir: &Path, accounts: &str, extra: &str) -> PathBuf {
    let p = dir.join("profile.toml");
    std::fs::write(
        &p,
        format!(
            "[device]\ndev_id = \"{DEV}\"\nmanufacturer = \"Acme\"\nmodel = \"Sim\"\n\n\
             [transport]\nretries = 0\nconnect_timeout_secs = 2\nread_timeout_secs = 5\n\n\
             {extra}\n{accounts}"
        ),
    )
    .unwrap();
    p
}

fn account(url: &str, auth: &str) -> String {
    format!("[[account]]\nserver_id = \"srvA\"\nurl = \"{url}\"\n{auth}\n")
}

async fn init(dir: &Path, profile: &Path) -> String {
    let state = dir.join("state");
    let out = dm(&[
        "init",
        "--state",
        state.to_str().unwrap(),
        "--profile",
        profile.to_str().unwrap(),
    ])
    .await;
    assert!(out.status.success(), "init: {}", text(&out.stderr));
    assert!(text(&out.stdout).contains("created device"), "{out:?}");
    state.to_str().unwrap().to_owned()
}

/// A server whose every message holds only the SyncHdr Status and `Final`: the session
/// ends after package 2 (facts §2.2).
fn status_only(n: usize, req: &common::Request, url: &str) -> Reply {
    Reply::xml(server_xml(
        req,
        n + 1,
        url,
        "",
        &hdr_status(req, url, 200, ""),
        true,
    ))
}

/// A device with one account `srvA` at `url`, no credentials.
async fn plain_device(dir: &Path, url: &str) -> String {
    init(dir, &profile(dir, &account(url, ""), "")).await
}

/// Package 2 with a Get and a Replace, then the end (facts §2.1, §2.2).
fn get_and_replace(n: usize, req: &common::Request, url: &str) -> Reply {
    if n == 0 {
        let body = format!(
            "{}<Get><CmdID>2</CmdID><Item><Target><LocURI>./DevInfo/Man</LocURI></Target></Item></Get>\
             <Replace><CmdID>3</CmdID><Item><Target><LocURI>./DMAcc/srvA/Name</LocURI></Target><Data>Renamed</Data></Item></Replace>",
            hdr_status(req, url, 212, "")
        );
        Reply::xml(server_xml(req, 1, url, "", &body, true))
    } else {
        Reply::xml(server_xml(
            req,
            n + 1,
            url,
            "",
            &hdr_status(req, url, 200, ""),
            true,
        ))
    }
}

#[tokio::test]
async fn session_completes_persists_and_traces() {
    let server = serve(get_and_replace).await;
    let tmp = tempfile::tempdir().unwrap();
    let state = plain_device(tmp.path(), &server.url).await;
    let trace = tmp.path().join("t.jsonl");
    let out = dm(&[
        "session",
        "--state",
        &state,
        "--trace",
        trace.to_str().unwrap(),
    ])
    .await;
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    assert!(
        stdout.contains("session 10000 with srvA") && stdout.contains("4 messages: completed"),
        "{stdout}"
    );
    // Package 1 (facts §2.1): Alert 1201, the DevInfo Replace; the Get answered with Results.
    let reqs = server.requests();
    assert_eq!(reqs.len(), 2);
    let p1 = reqs[0].msg();
    // facts §1.3 / §7.3: client-chosen, unique, never a package #0 id (1–4 hex digits).
    assert_eq!(p1.hdr.session_id, "10000");
    assert!(p1.body.commands.iter().any(
        |c| matches!(c, DmCommand::Alert(a) if a.code == Some(AlertCode::ClientInitiatedMgmt))
    ));
    assert_eq!(status_code(reqs[1].msg(), "2"), Some(200));
    assert_eq!(status_code(reqs[1].msg(), "3"), Some(200));
    // The trace: one line per message, alternating, with bytes, XML and the end.
    let lines: Vec<serde_json::Value> = std::fs::read_to_string(&trace)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 4);
    let dirs: Vec<&str> = lines
        .iter()
        .map(|l| l["direction"].as_str().unwrap())
        .collect();
    assert_eq!(dirs, ["sent", "received", "sent", "received"]);
    assert_eq!(lines[0]["seq"], 1);
    assert_eq!(lines[0]["encoding"], "xml");
    assert!(lines[0]["xml"]
        .as_str()
        .unwrap()
        .contains("<Data>1201</Data>"));
    assert_eq!(
        auth::b64_decode(lines[1]["bytes_b64"].as_str().unwrap()).unwrap(),
        reqs_reply_bytes(&lines[1])
    );
    assert!(lines[0]["time"].as_u64().unwrap() > 1_700_000_000);
    assert_eq!(lines[3]["end"], "completed");
    assert!(lines[2].get("end").is_none());
    // The Replace is in the tree for the next process; the next session takes the next id.
    let got = dm(&["tree", "--state", &state, "get", "./DMAcc/srvA/Name"]).await;
    assert_eq!(text(&got.stdout).trim(), "Renamed");
    let again = dm(&["session", "--state", &state]).await;
    assert_eq!(again.status.code(), Some(0), "{}", text(&again.stderr));
    assert_eq!(server.requests()[2].msg().hdr.session_id, "10001");
}

/// The received line's bytes decode to a DM message from the server.
fn reqs_reply_bytes(line: &serde_json::Value) -> Vec<u8> {
    let b = auth::b64_decode(line["bytes_b64"].as_str().unwrap()).unwrap();
    assert!(text(&b).contains("<Cmd>SyncHdr</Cmd>"));
    b
}

/// facts §6.2: md5 credentials with the nonce of the Chal; the newest nonce is stored per
/// account and used by the next session, in another process.
#[tokio::test]
async fn md5_nonce_rotates_across_processes() {
    let server = serve(|n, req, url| {
        let m = req.msg();
        let cred = m.hdr.cred.as_ref().map(|c| c.data.clone());
        let expected = |nonce: &[u8]| auth::md5_credential("dev", "pw", nonce);
        match n {
            // Session 1: no usable nonce yet → 401 with a Chal; then 212 with a new nonce.
            0 => Reply::xml(server_xml(
                req,
                1,
                url,
                "",
                &hdr_status(req, url, 401, &chal("syncml:auth-md5", b"N1")),
                true,
            )),
            1 => {
                assert_eq!(cred, Some(expected(b"N1")), "retry must use the Chal nonce");
                Reply::xml(server_xml(
                    req,
                    2,
                    url,
                    "",
                    &hdr_status(req, url, 212, &chal("syncml:auth-md5", b"N2")),
                    true,
                ))
            }
            // Session 2 (new process): package 1 already uses N2.
            _ => {
                let code = if cred == Some(expected(b"N2")) {
                    212
                } else {
                    401
                };
                Reply::xml(server_xml(
                    req,
                    1,
                    url,
                    "",
                    &hdr_status(req, url, code, &chal("syncml:auth-md5", b"N3")),
                    true,
                ))
            }
        }
    })
    .await;
    let tmp = tempfile::tempdir().unwrap();
    let acc = account(
        &server.url,
        "client_auth = { type = \"md5\", name = \"dev\", secret = \"pw\", nonce = \"old\" }",
    );
    let state = init(tmp.path(), &profile(tmp.path(), &acc, "")).await;
    let first = dm(&["session", "--state", &state]).await;
    assert_eq!(first.status.code(), Some(0), "{}", text(&first.stderr));
    let second = dm(&["session", "--state", &state]).await;
    assert_eq!(second.status.code(), Some(0), "{}", text(&second.stderr));
    assert_eq!(server.requests().len(), 3);
}

#[tokio::test]
async fn refused_credentials_exit_1_with_the_reason() {
    let server = serve(|_, req, url| {
        Reply::xml(server_xml(
            req,
            1,
            url,
            "",
            &hdr_status(req, url, 401, &chal("syncml:auth-basic", b"")),
            true,
        ))
    })
    .await;
    let tmp = tempfile::tempdir().unwrap();
    let acc = account(
        &server.url,
        "client_auth = { type = \"basic\", name = \"dev\", secret = \"wrong\" }",
    );
    let state = init(tmp.path(), &profile(tmp.path(), &acc, "")).await;
    let out = dm(&["session", "--state", &state]).await;
    assert_eq!(out.status.code(), Some(1));
    let err = text(&out.stderr);
    assert!(err.contains("refused our credentials (401)"), "{err}");
    assert!(err.contains("client_auth"), "{err}");
}

#[tokio::test]
async fn garbage_answer_exits_1_and_is_traced() {
    let server = serve(|_, _, _| Reply::xml("this is not SyncML".into())).await;
    let tmp = tempfile::tempdir().unwrap();
    let state = plain_device(tmp.path(), &server.url).await;
    let trace = tmp.path().join("t.jsonl");
    let out = dm(&[
        "session",
        "--state",
        &state,
        "--trace",
        trace.to_str().unwrap(),
    ])
    .await;
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    assert!(text(&out.stderr).contains("not a DM message"), "{out:?}");
    let lines: Vec<serde_json::Value> = std::fs::read_to_string(&trace)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 2);
    assert_eq!(lines[1]["direction"], "received");
    assert!(lines[1]["xml"].is_null());
    assert!(lines[1]["decode_error"].is_string());
    assert!(lines[1]["end"].as_str().unwrap().starts_with("failed"));
}

#[tokio::test]
async fn unreachable_server_exits_3() {
    // A port nothing listens on: bind, learn the port, close.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let tmp = tempfile::tempdir().unwrap();
    let url = format!("http://127.0.0.1:{port}/dm");
    let state = init(tmp.path(), &profile(tmp.path(), &account(&url, ""), "")).await;
    let out = dm(&["session", "--state", &state]).await;
    assert_eq!(out.status.code(), Some(3), "{}", text(&out.stderr));
    assert!(text(&out.stderr).contains("could not connect"), "{out:?}");
}

/// Run `dm-client alert <args>` against a status-only server; exit 0 and the Alert with
/// `code` in package 1.
async fn alert_in_package_1(args: &[&str], code: AlertCode) -> dm_protocol::model::Alert {
    let server = serve(status_only).await;
    let tmp = tempfile::tempdir().unwrap();
    let state = plain_device(tmp.path(), &server.url).await;
    let mut all = vec!["alert", "--state", state.as_str()];
    all.extend_from_slice(args);
    let out = dm(&all).await;
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    server.requests()[0]
        .msg()
        .body
        .commands
        .iter()
        .find_map(|c| match c {
            DmCommand::Alert(a) if a.code == Some(code) => Some(a.clone()),
            _ => None,
        })
        .expect("the alert in package 1")
}

#[tokio::test]
async fn generic_alert_goes_in_package_1() {
    let ga = alert_in_package_1(
        &[
            "--type",
            "urn:oma:at:scomo:1.0:OperationComplete",
            "--format",
            "int",
            "--data",
            "1200",
            "--source",
            "./SCOMO/Inventory/Deployed/app1",
            "--correlator",
            "c-42",
        ],
        AlertCode::GenericAlert,
    )
    .await;
    // facts §3.5: Alert 1226 with Correlator, Item Source, Meta Type and Format, Data.
    assert_eq!(ga.correlator.as_deref(), Some("c-42"));
    let item = &ga.items[0];
    let meta = item.meta.as_ref().unwrap();
    assert_eq!(
        meta.type_.as_deref(),
        Some("urn:oma:at:scomo:1.0:OperationComplete")
    );
    assert_eq!(meta.format.as_deref(), Some("int"));
    assert_eq!(
        item.source.as_ref().unwrap().loc_uri,
        "./SCOMO/Inventory/Deployed/app1"
    );
}

#[tokio::test]
async fn usage_errors_exit_2() {
    let tmp = tempfile::tempdir().unwrap();
    let two = "[[account]]\nserver_id = \"a\"\nurl = \"http://127.0.0.1:9/a\"\n\
               [[account]]\nserver_id = \"b\"\nurl = \"http://127.0.0.1:9/b\"\n";
    let state = init(tmp.path(), &profile(tmp.path(), two, "")).await;
    // facts §3.5: only a Generic Alert carries a Correlator.
    let bad_alert = dm(&[
        "alert",
        "--state",
        &state,
        "--code",
        "1224",
        "--type",
        "t",
        "--format",
        "chr",
        "--data",
        "d",
        "--correlator",
        "x",
    ])
    .await;
    assert_eq!(bad_alert.status.code(), Some(2));
    assert!(text(&bad_alert.stderr).contains("Correlator"));
    // Two accounts, no default, no --account.
    let ambiguous = dm(&["session", "--state", &state]).await;
    assert_eq!(ambiguous.status.code(), Some(2));
    assert!(
        text(&ambiguous.stderr).contains("--account"),
        "{ambiguous:?}"
    );
    // A state directory that holds no device.
    let empty = tempfile::tempdir().unwrap();
    let none = dm(&[
        "tree",
        "--state",
        empty.path().to_str().unwrap(),
        "get",
        ".",
    ])
    .await;
    assert_eq!(none.status.code(), Some(2));
    assert!(text(&none.stderr).contains("dm-client init"));
    // No such node.
    let missing = dm(&["tree", "--state", &state, "get", "./Nope"]).await;
    assert_eq!(missing.status.code(), Some(1));
    // export prints TNDS.
    let export = dm(&["tree", "--state", &state, "export", "./DevInfo"]).await;
    assert_eq!(export.status.code(), Some(0));
    assert!(text(&export.stdout).contains("<MgmtTree"), "{export:?}");
    assert!(text(&export.stdout).contains(DEV));
}

/// Send a package #0 the way each listener expects it (docs/reference-client.md
/// "Framing"): one UDP datagram; a TCP frame with a 2-byte big-endian length; an HTTP POST
/// of `application/vnd.syncml.notification`, answered 202.
async fn send_pkg0(transport: &str, addr: std::net::SocketAddr, bytes: &[u8]) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    match transport {
        "udp" => {
            let sock = tokio::net::UdpSocket::bind("127.0.0.1:0").await.unwrap();
            sock.send_to(bytes, addr).await.unwrap();
        }
        "tcp" => {
            let mut s = tokio::net::TcpStream::connect(addr).await.unwrap();
            let len = u16::try_from(bytes.len()).unwrap().to_be_bytes();
            s.write_all(&len).await.unwrap();
            s.write_all(bytes).await.unwrap();
            s.shutdown().await.unwrap();
        }
        _ => {
            let mut s = tokio::net::TcpStream::connect(addr).await.unwrap();
            let head = format!(
                "POST /notify HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/vnd.syncml.notification\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                bytes.len()
            );
            s.write_all(head.as_bytes()).await.unwrap();
            s.write_all(bytes).await.unwrap();
            let mut answer = String::new();
            s.read_to_string(&mut answer).await.unwrap();
            assert!(answer.starts_with("HTTP/1.1 202"), "{answer}");
        }
    }
}

/// `dm-client run --max-sessions N` with its stdout lines on a channel.
fn spawn_run(
    state: &str,
    sessions: usize,
) -> (
    std::process::Child,
    tokio::sync::mpsc::UnboundedReceiver<String>,
) {
    let mut child = Command::new(BIN)
        .args([
            "run",
            "--state",
            state,
            "--max-sessions",
            &sessions.to_string(),
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines() {
            if tx.send(line.unwrap()).is_err() {
                return;
            }
        }
    });
    (child, rx)
}

/// facts §7: a verified package #0 over UDP starts a server-initiated session (Alert 1200)
/// with the notification's session id as uppercase hex (§7.3); a user-interaction
/// notification under a `reject` policy is not followed.
#[rstest::rstest]
#[case::udp("udp")]
#[case::tcp("tcp")]
#[case::http("http")]
#[tokio::test]
async fn run_turns_notifications_into_sessions(#[case] transport: &str) {
    // The server authenticates with md5 over the nonce the device stored (facts §6.2).
    let server = serve(|n, req, url| {
        let cred = format!(
            r#"<Cred><Meta><Type xmlns="syncml:metinf">syncml:auth-md5</Type><Format xmlns="syncml:metinf">b64</Format></Meta><Data>{}</Data></Cred>"#,
            auth::md5_credential("srvA", "srvpw", b"sn")
        );
        Reply::xml(server_xml(req, n + 1, url, &cred, &hdr_status(req, url, 200, ""), true))
    })
    .await;
    let tmp = tempfile::tempdir().unwrap();
    let acc = account(
        &server.url,
        "server_auth = { type = \"md5\", name = \"srvA\", secret = \"srvpw\", nonce = \"sn\" }",
    );
    let extra =
        format!("[ui]\nmode = \"reject\"\n\n[notification.{transport}]\nbind = \"127.0.0.1:0\"\n");
    let state = init(tmp.path(), &profile(tmp.path(), &acc, &extra)).await;
    let (mut child, mut rx) = spawn_run(&state, 1);
    let first = rx.recv().await.unwrap();
    let addr: std::net::SocketAddr = first
        .strip_prefix(&format!("listening {transport} "))
        .unwrap_or_else(|| panic!("{first}"))
        .parse()
        .unwrap();
    let notify = |ui_mode, session_id| {
        Notification {
            digest: [0; 16],
            version: 11,
            ui_mode,
            initiator: Initiator::Server,
            session_id,
            server_id: "srvA".into(),
            vendor: vec![],
        }
        .build("srvpw", b"sn")
        .unwrap()
    };
    // User interaction under `reject`: not followed.
    send_pkg0(transport, addr, &notify(UiMode::UserInteraction, 0x0101)).await;
    let declined = rx.recv().await.unwrap();
    assert!(
        declined.contains("session 101") && declined.contains("declined"),
        "{declined}"
    );
    // Background: the session runs.
    send_pkg0(transport, addr, &notify(UiMode::Background, 0x1A2B)).await;
    let done = rx.recv().await.unwrap();
    assert!(
        done.contains("session 1A2B with srvA") && done.ends_with("completed"),
        "{done}"
    );
    let status = tokio::task::spawn_blocking(move || child.wait().unwrap())
        .await
        .unwrap();
    assert!(status.success());
    let p1 = server.requests()[0].msg().clone();
    assert_eq!(p1.hdr.session_id, "1A2B");
    assert!(p1.body.commands.iter().any(
        |c| matches!(c, DmCommand::Alert(a) if a.code == Some(AlertCode::ServerInitiatedMgmt))
    ));
    assert_eq!(server.requests().len(), 1);
}

/// facts §7.2 nonce-resync: a notification whose digest matches only the resync nonce
/// `0x00000000` is followed, and package 1's credentials are built with that nonce.
#[tokio::test]
async fn run_follows_a_resync_notification() {
    let server = serve(status_only).await;
    let tmp = tempfile::tempdir().unwrap();
    let acc = account(
        &server.url,
        "client_auth = { type = \"md5\", name = \"dev\", secret = \"pw\", nonce = \"cn\" }\n\
         server_auth = { type = \"md5\", name = \"srvA\", secret = \"srvpw\", nonce = \"lost\" }",
    );
    let extra = "[notification.udp]\nbind = \"127.0.0.1:0\"\n";
    let state = init(tmp.path(), &profile(tmp.path(), &acc, extra)).await;
    let (mut child, mut rx) = spawn_run(&state, 1);
    let first = rx.recv().await.unwrap();
    let addr = first.strip_prefix("listening udp ").unwrap().to_owned();
    let bytes = Notification {
        digest: [0; 16],
        version: 11,
        ui_mode: UiMode::Background,
        initiator: Initiator::Server,
        session_id: 7,
        server_id: "srvA".into(),
        vendor: vec![],
    }
    .build("srvpw", b"0x00000000")
    .unwrap();
    send_pkg0("udp", addr.parse().unwrap(), &bytes).await;
    let status = tokio::task::spawn_blocking(move || child.wait().unwrap())
        .await
        .unwrap();
    assert!(status.code().is_some());
    let p1 = server.requests()[0].msg().clone();
    assert_eq!(p1.hdr.session_id, "7");
    assert_eq!(
        p1.hdr.cred.unwrap().data,
        auth::md5_credential("dev", "pw", b"0x00000000"),
        "package 1 credentials use the resync nonce (facts §7.2)"
    );
}

/// facts §3.3: a client event 1224, each Item with Meta Type and Format, no Correlator.
#[tokio::test]
async fn client_event_goes_in_package_1() {
    let ev = alert_in_package_1(
        &[
            "--code",
            "1224",
            "--type",
            "org.example.battery.low",
            "--format",
            "chr",
            "--data",
            "12%",
        ],
        AlertCode::ClientEvent,
    )
    .await;
    assert!(ev.correlator.is_none());
    let meta = ev.items[0].meta.as_ref().unwrap();
    assert_eq!(meta.type_.as_deref(), Some("org.example.battery.low"));
    assert_eq!(meta.format.as_deref(), Some("chr"));
}

/// facts §6.2 + §7.2 across sessions: the device authenticates the server with md5 and gives
/// it a fresh nonce in its Chal; that nonce is kept (SRVCRED AAuthData), so the server's
/// next package #0 digest and its next credentials must use it — and do verify.
#[tokio::test]
async fn server_nonce_rotates_through_notifications() {
    use std::sync::{Arc, Mutex};
    let nonce: Arc<Mutex<Vec<u8>>> = Arc::new(Mutex::new(b"sn".to_vec()));
    let server = serve({
        let nonce = nonce.clone();
        move |n, req, url| {
            let m = req.msg();
            // The device's Chal on its SyncHdr Status carries our next nonce.
            if let Some(next) = common::statuses(m)
                .iter()
                .find(|s| s.cmd_ref == "0")
                .and_then(|s| s.chal.as_ref())
                .and_then(|c| c.meta.next_nonce.clone())
            {
                *nonce.lock().unwrap() = auth::b64_decode(&next).unwrap();
            }
            let package1 = m.body.commands.iter().any(|c| {
                matches!(c, DmCommand::Alert(a) if a.code == Some(AlertCode::ServerInitiatedMgmt))
            });
            if package1 {
                let cred = format!(
                    r#"<Cred><Meta><Type xmlns="syncml:metinf">syncml:auth-md5</Type><Format xmlns="syncml:metinf">b64</Format></Meta><Data>{}</Data></Cred>"#,
                    auth::md5_credential("srvA", "srvpw", &nonce.lock().unwrap())
                );
                let body = format!(
                    "{}<Get><CmdID>2</CmdID><Item><Target><LocURI>./DevInfo/Man</LocURI></Target></Item></Get>",
                    hdr_status(req, url, 200, "")
                );
                Reply::xml(server_xml(req, 1, url, &cred, &body, true))
            } else {
                Reply::xml(server_xml(req, n + 1, url, "", &hdr_status(req, url, 200, ""), true))
            }
        }
    })
    .await;
    let tmp = tempfile::tempdir().unwrap();
    let acc = account(
        &server.url,
        "server_auth = { type = \"md5\", name = \"srvA\", secret = \"srvpw\", nonce = \"sn\" }",
    );
    let extra = "[notification.udp]\nbind = \"127.0.0.1:0\"\n";
    let state = init(tmp.path(), &profile(tmp.path(), &acc, extra)).await;
    let (mut child, mut rx) = spawn_run(&state, 2);
    let first = rx.recv().await.unwrap();
    let addr: std::net::SocketAddr = first
        .strip_prefix("listening udp ")
        .unwrap()
        .parse()
        .unwrap();
    let pkg0 = |session_id, nonce: &[u8]| {
        Notification {
            digest: [0; 16],
            version: 11,
            ui_mode: UiMode::Background,
            initiator: Initiator::Server,
            session_id,
            server_id: "srvA".into(),
            vendor: vec![],
        }
        .build("srvpw", nonce)
        .unwrap()
    };
    send_pkg0("udp", addr, &pkg0(0x21, b"sn")).await;
    let one = rx.recv().await.unwrap();
    assert!(
        one.contains("session 21 with srvA") && one.ends_with("completed"),
        "{one}"
    );
    let rotated = nonce.lock().unwrap().clone();
    assert_ne!(rotated, b"sn", "the device issued a new nonce");
    send_pkg0("udp", addr, &pkg0(0x22, &rotated)).await;
    let two = rx.recv().await.unwrap();
    assert!(
        two.contains("session 22 with srvA") && two.ends_with("completed"),
        "{two}"
    );
    let status = tokio::task::spawn_blocking(move || child.wait().unwrap())
        .await
        .unwrap();
    assert!(status.success());
    // Both sessions: the server's credentials were accepted (212 on its SyncHdr).
    let reqs = server.requests();
    let answers: Vec<_> = reqs
        .iter()
        .filter(|r| r.msg().hdr.msg_id == "2")
        .map(|r| status_code(r.msg(), "0"))
        .collect();
    assert_eq!(answers, [Some(212), Some(212)]);
}

/// A whole session over TLS with mutual authentication (issue 5 item 3): the profile's
/// trust anchor and client certificate are used; a server the device does not trust is
/// unreachable (exit 3).
#[tokio::test]
async fn session_over_mutual_tls() {
    use common::pki::{server_tls, Pki};
    let pki = Pki::new("dm");
    let device_cert = pki.client();
    let server = common::serve_tls(server_tls(&pki.server(), Some(&pki)), get_and_replace).await;
    let tmp = tempfile::tempdir().unwrap();
    let transport = format!(
        "[transport]\ntrust_anchors = [{:?}]\nclient_cert = {:?}\nclient_key = {:?}\nretries = 0\n",
        pki.ca_file, device_cert.chain_file, device_cert.key_file
    );
    let text_profile = |url: &str, transport: &str| {
        format!(
            "[device]\ndev_id = \"{DEV}\"\nmanufacturer = \"Acme\"\nmodel = \"Sim\"\n\n{transport}\n{}",
            account(url, "")
        )
    };
    let p = tmp.path().join("tls.toml");
    std::fs::write(&p, text_profile(&server.url, &transport)).unwrap();
    let state = init(tmp.path(), &p).await;
    let out = dm(&["session", "--state", &state]).await;
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert_eq!(server.requests().len(), 2);
    // Another CA: the server's certificate is not trusted.
    let other = Pki::new("other");
    let untrusting = format!(
        "[transport]\ntrust_anchors = [{:?}]\nretries = 0\n",
        other.ca_file
    );
    let dir2 = tempfile::tempdir().unwrap();
    let p2 = dir2.path().join("tls.toml");
    std::fs::write(&p2, text_profile(&server.url, &untrusting)).unwrap();
    let state2 = init(dir2.path(), &p2).await;
    let out = dm(&["session", "--state", &state2]).await;
    assert_eq!(out.status.code(), Some(3), "{}", text(&out.stderr));
    assert_eq!(server.requests().len(), 2, "nothing reached the server");
}
