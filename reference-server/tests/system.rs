#![allow(clippy::unwrap_used, clippy::expect_used)]
//! The whole server as users run it: the `dm-server` binary as a real process, driven
//! through its admin API, with the reference client (`dm_client::device::Device`) as the
//! device over real sockets. Covers the newcomer flow of docs/reference-server.md, HTTPS
//! with the generated test CA, a kill -9 in the middle of a session (no job lost), bad
//! input and unknown devices.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;

use dm_client::device::{Device as Dev, SessionRequest};
use dm_client::session::EndReason;
use dm_client::tester::{SendAction, TesterHooks};
use dm_protocol::codec::{self, DecodeOptions};
use dm_protocol::model::{Command as DmCommand, SyncMl};
use dm_server::http_client::request;
use serde_json::{json, Value};

const BIN: &str = env!("CARGO_BIN_EXE_dm-server");

struct Server {
    child: Child,
    dm: String,
    admin: String,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn spawn(data: &Path, extra: &[&str]) -> Server {
    let mut child = Command::new(BIN)
        .args(["serve", "--data", data.to_str().unwrap()])
        .args(["--listen", "127.0.0.1:0", "--admin", "127.0.0.1:0"])
        .args(extra)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let dm = lines.next().unwrap().unwrap();
    let admin = lines.next().unwrap().unwrap();
    Server {
        child,
        dm: dm.strip_prefix("dm ").unwrap().to_owned(),
        admin: admin.strip_prefix("admin ").unwrap().to_owned(),
    }
}

async fn api(s: &Server, method: &str, path: &str, body: Option<Value>) -> (u16, Value) {
    let (ct, bytes) = match body {
        Some(b) => (Some("application/json"), b.to_string().into_bytes()),
        None => (None, Vec::new()),
    };
    let a = request(method, &format!("{}{path}", s.admin), ct, bytes)
        .await
        .unwrap();
    let v = serde_json::from_slice(&a.body).unwrap_or(Value::Null);
    (a.status, v)
}

/// Register `dev_id` with md5 both ways, the way docs/reference-server.md does.
async fn register(s: &Server, dev_id: &str) {
    let (status, v) = api(
        s,
        "POST",
        "/devices",
        Some(json!({
            "dev_id": dev_id,
            "server_id": "srvA",
            "client_auth": {"type": "md5", "name": "dev", "secret": "pw"},
            "server_auth": {"type": "md5", "name": "srvA", "secret": "spw"}
        })),
    )
    .await;
    assert_eq!(status, 201, "{v}");
}

async fn queue_get(s: &Server, dev_id: &str, uri: &str) -> u64 {
    let enc = dev_id.replace(':', "%3A");
    let (status, v) = api(
        s,
        "POST",
        &format!("/devices/{enc}/jobs"),
        Some(json!({"commands": [
            {"Command": "Get", "CmdID": "0", "Items": [{"Target": {"LocURI": uri}}]}
        ]})),
    )
    .await;
    assert_eq!(status, 201, "{v}");
    v["id"].as_u64().unwrap()
}

fn device(dir: &Path, dev_id: &str, url: &str, transport: &str) -> Dev {
    let profile = dir.join(format!("{}.toml", dev_id.replace(':', "_")));
    std::fs::write(
        &profile,
        format!(
            "[device]\ndev_id = \"{dev_id}\"\nmanufacturer = \"Acme\"\nmodel = \"Sim\"\n\
             [transport]\nretries = 0\nread_timeout_secs = 10\n{transport}\n\
             [[account]]\nserver_id = \"srvA\"\nurl = \"{url}\"\n\
             client_auth = {{ type = \"md5\", name = \"dev\", secret = \"pw\" }}\n\
             server_auth = {{ type = \"md5\", name = \"srvA\", secret = \"spw\" }}\n"
        ),
    )
    .unwrap();
    Dev::init(&dir.join(dev_id.replace(':', "_")), &profile).unwrap()
}

async fn job(s: &Server, id: u64) -> Value {
    let (status, v) = api(s, "GET", &format!("/jobs/{id}"), None).await;
    assert_eq!(status, 200, "{v}");
    v
}

/// docs/reference-server.md "Five minutes": start, register, queue a Get, run a session,
/// read the result and the transcript.
#[tokio::test]
async fn newcomer_flow() {
    let tmp = tempfile::tempdir().unwrap();
    let s = spawn(&tmp.path().join("data"), &[]);
    register(&s, "IMEI:1").await;
    let id = queue_get(&s, "IMEI:1", "./DevInfo/Man").await;
    let mut dev = device(tmp.path(), "IMEI:1", &s.dm, "");
    let r = dev.run_session(SessionRequest::default()).await.unwrap();
    assert_eq!(r.end.unwrap(), EndReason::Completed);
    let j = job(&s, id).await;
    assert_eq!(j["state"], "done", "{j}");
    assert_eq!(j["statuses"][0]["code"], 200);
    assert_eq!(j["results"][0]["data"], "Acme");
    let (_, sessions) = api(&s, "GET", "/devices/IMEI%3A1/sessions", None).await;
    assert_eq!(sessions[0]["end"], "completed", "{sessions}");
    let (_, t) = api(&s, "GET", "/sessions/IMEI%3A1/10000", None).await;
    assert_eq!(t["transcript"].as_array().unwrap().len(), r.exchanges.len());
    // DevInfo of package 1 is kept (facts §5.2).
    let (_, d) = api(&s, "GET", "/devices/IMEI%3A1", None).await;
    assert_eq!(d["state"]["devinfo"]["Man"], "Acme", "{d}");
}

#[tokio::test]
async fn https_with_the_generated_test_ca() {
    let tmp = tempfile::tempdir().unwrap();
    let ca = tmp.path().join("ca");
    let out = Command::new(BIN)
        .args(["test-ca", "--out", ca.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(out.status.success());
    let s = spawn(
        &tmp.path().join("data"),
        &[
            "--tls-cert",
            ca.join("server.pem").to_str().unwrap(),
            "--tls-key",
            ca.join("server.key").to_str().unwrap(),
        ],
    );
    assert!(s.dm.starts_with("https://"), "{}", s.dm);
    register(&s, "IMEI:2").await;
    let id = queue_get(&s, "IMEI:2", "./DevInfo/Mod").await;
    let trust = format!(
        "trust_anchors = [{:?}]",
        ca.join("ca.pem").to_str().unwrap()
    );
    let mut dev = device(tmp.path(), "IMEI:2", &s.dm, &trust);
    let r = dev.run_session(SessionRequest::default()).await.unwrap();
    assert_eq!(r.end.unwrap(), EndReason::Completed);
    assert_eq!(job(&s, id).await["results"][0]["data"], "Sim");
}

/// Stops the device after the server's package 2 (the device never answers).
struct Vanish;

impl TesterHooks for Vanish {
    fn send_action(&mut self, msg: &SyncMl) -> SendAction {
        if msg.hdr.msg_id == "2" {
            SendAction::DropBeforeSend
        } else {
            SendAction::Send
        }
    }
}

/// Issue 6 "Done when": a kill -9 during a session loses no queued job.
#[tokio::test]
async fn kill_9_mid_session_loses_no_job() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    let mut s = spawn(&data, &[]);
    register(&s, "IMEI:3").await;
    let id = queue_get(&s, "IMEI:3", "./DevInfo/Man").await;
    let mut dev = device(tmp.path(), "IMEI:3", &s.dm, "");
    let r = dev
        .run_session_with(SessionRequest::default(), &mut Vanish)
        .await
        .unwrap();
    assert!(r.dropped.is_some());
    assert_eq!(job(&s, id).await["state"], "sent");
    // SIGKILL: no chance to clean up.
    s.child.kill().unwrap();
    s.child.wait().unwrap();
    let s2 = spawn(&data, &[]);
    let j = job(&s2, id).await;
    assert_eq!(
        j["state"], "interrupted",
        "queued again after the restart: {j}"
    );
    let (_, sessions) = api(&s2, "GET", "/devices/IMEI%3A3/sessions", None).await;
    assert_eq!(sessions[0]["end"], "server restarted", "{sessions}");
    // The device's next session gets the job again and completes it.
    drop(dev);
    let mut dev = Dev::open(&tmp.path().join("IMEI_3")).unwrap();
    let url = s2.dm.clone();
    let acc = dev.accounts()[0].uri.clone();
    dm_tree::standard::put_leaf(
        dev.tree_mut(),
        &format!("{acc}/AppAddr/1/Addr"),
        &url,
        dm_protocol::tnds::Format::Chr,
    )
    .unwrap();
    let r = dev.run_session(SessionRequest::default()).await.unwrap();
    assert_eq!(r.end.unwrap(), EndReason::Completed);
    let j = job(&s2, id).await;
    assert_eq!(j["state"], "done", "{j}");
    assert_eq!(j["results"][0]["data"], "Acme");
}

/// Issue 6 item 10: a readable header gets a SyncML 400, garbage an HTTP 400 with a reason,
/// an unknown device a 403 for its SyncHdr; none of it disturbs another device's session.
#[tokio::test]
async fn bad_input_and_unknown_devices() {
    let tmp = tempfile::tempdir().unwrap();
    let s = spawn(&tmp.path().join("data"), &[]);
    register(&s, "IMEI:4").await;
    let id = queue_get(&s, "IMEI:4", "./DevInfo/Man").await;
    let post = |body: Vec<u8>| {
        let url = s.dm.clone();
        async move {
            request("POST", &url, Some("application/vnd.syncml.dm+xml"), body)
                .await
                .unwrap()
        }
    };
    let garbage = post(b"\x00\x01 definitely not SyncML".to_vec()).await;
    assert_eq!(garbage.status, 400);
    let text = String::from_utf8_lossy(&garbage.body);
    assert!(text.starts_with("not a SyncML DM message"), "{text}");
    assert_eq!(text.trim().lines().count(), 1);
    // A header end before the root start once panicked the header reader.
    let twisted = post(b"</SyncHdr>x<SyncML".to_vec()).await;
    assert_eq!(twisted.status, 400);
    let hdr = r#"<SyncML xmlns="SYNCML:SYNCML1.2"><SyncHdr><VerDTD>1.2</VerDTD><VerProto>DM/1.2</VerProto><SessionID>77</SessionID><MsgID>5</MsgID><Target><LocURI>x</LocURI></Target><Source><LocURI>IMEI:4</LocURI></Source></SyncHdr>"#;
    let broken = post(format!("{hdr}<SyncBody><Get><CmdID>1</Cmd").into_bytes()).await;
    assert_eq!(broken.status, 200);
    let m = codec::decode(&broken.body, DecodeOptions::LENIENT)
        .unwrap()
        .message;
    let DmCommand::Status(st) = &m.body.commands[0] else {
        panic!("{m:?}")
    };
    assert_eq!(
        (st.cmd_ref.as_str(), st.msg_ref.as_str(), st.code.as_u16()),
        ("0", "5", 400)
    );
    let unknown = post(
        hdr.replace("IMEI:4", "IMEI:nobody")
            .replace(
                "</SyncHdr>",
                "</SyncHdr><SyncBody><Final/></SyncBody></SyncML>",
            )
            .into_bytes(),
    )
    .await;
    let m = codec::decode(&unknown.body, DecodeOptions::LENIENT)
        .unwrap()
        .message;
    let DmCommand::Status(st) = &m.body.commands[0] else {
        panic!("{m:?}")
    };
    assert_eq!(st.code.as_u16(), 403);
    // The registered device's session is unaffected.
    let mut dev = device(tmp.path(), "IMEI:4", &s.dm, "");
    let r = dev.run_session(SessionRequest::default()).await.unwrap();
    assert_eq!(r.end.unwrap(), EndReason::Completed);
    assert_eq!(job(&s, id).await["state"], "done");
}

/// Issue 6 item 7: content uploaded through the admin API is served at a stable URL on the
/// DM listener; a device upload on the DM listener is visible through the admin API.
#[tokio::test]
async fn content_hosting_and_uploads() {
    let tmp = tempfile::tempdir().unwrap();
    let s = spawn(&tmp.path().join("data"), &[]);
    let base = s.dm.trim_end_matches("/dm").to_owned();
    let put = request(
        "PUT",
        &format!("{}/content/pkg/app-1.0.bin", s.admin),
        Some("application/octet-stream"),
        b"PKGDATA".to_vec(),
    )
    .await
    .unwrap();
    assert!((200..300).contains(&put.status), "{}", put.status);
    let got = request(
        "GET",
        &format!("{base}/content/pkg/app-1.0.bin"),
        None,
        vec![],
    )
    .await
    .unwrap();
    assert_eq!((got.status, got.body.as_slice()), (200, &b"PKGDATA"[..]));
    let up = request(
        "PUT",
        &format!("{base}/upload/backup-IMEI_5.tnds"),
        Some("application/vnd.syncml.dmtnds+xml"),
        b"<MgmtTree/>".to_vec(),
    )
    .await
    .unwrap();
    assert_eq!(up.status, 201);
    let (status, list) = api(&s, "GET", "/content", None).await;
    assert_eq!(status, 200);
    let names: Vec<&str> = list
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["name"].as_str().unwrap())
        .collect();
    assert!(names.contains(&"uploads/backup-IMEI_5.tnds"), "{list}");
    let missing = request("GET", &format!("{base}/content/nope"), None, vec![])
        .await
        .unwrap();
    assert_eq!(missing.status, 404);
}

/// Issue 6 item 5: the admin API wakes a device — package #0 over UDP, verified by the
/// reference client's listener (digest over the nonce the device holds, facts §7.2) — and
/// the server-initiated session runs the queued job.
#[tokio::test]
async fn notify_through_the_admin_api_starts_a_session() {
    use dm_client::runner::{self, RunEvent, RunOptions};
    let tmp = tempfile::tempdir().unwrap();
    let s = spawn(&tmp.path().join("data"), &[]);
    let mut dev = device(
        tmp.path(),
        "IMEI:6",
        &s.dm,
        "[notification.udp]\nbind = \"127.0.0.1:0\"",
    );
    let (tx, rx) = tokio::sync::oneshot::channel();
    let mut tx = Some(tx);
    let device_side = async move {
        let opts = RunOptions {
            max_sessions: Some(1),
            ..RunOptions::default()
        };
        let mut ended = Vec::new();
        runner::run(
            &mut dev,
            &opts,
            Arc::new(dm_tree::SystemClock),
            std::future::pending::<()>(),
            |ev| match ev {
                RunEvent::Listening { udp, .. } => {
                    if let Some(tx) = tx.take() {
                        let _ = tx.send(udp.unwrap());
                    }
                }
                RunEvent::Session(r) => ended.push(r.end.is_ok_and(|e| e == EndReason::Completed)),
                _ => {}
            },
        )
        .await
        .unwrap();
        ended
    };
    let admin_side = async {
        let udp = rx.await.unwrap();
        let (status, v) = api(
            &s,
            "POST",
            "/devices",
            Some(json!({
                "dev_id": "IMEI:6",
                "server_id": "srvA",
                "client_auth": {"type": "md5", "name": "dev", "secret": "pw"},
                "server_auth": {"type": "md5", "name": "srvA", "secret": "spw"},
                "notify": [{"transport": "udp", "address": udp.to_string()}]
            })),
        )
        .await;
        assert_eq!(status, 201, "{v}");
        let id = queue_get(&s, "IMEI:6", "./DevInfo/Mod").await;
        let (status, out) = api(
            &s,
            "POST",
            "/devices/IMEI%3A6/notify",
            Some(json!({"ui_mode": "background", "session_id": 0x0ABC})),
        )
        .await;
        assert_eq!(status, 200, "{out}");
        assert_eq!(out["sync_hdr_session_id"], "ABC");
        id
    };
    // The device is not Send (its tree hooks): both sides run on this task.
    let (ended, id) = tokio::time::timeout(std::time::Duration::from_secs(20), async {
        tokio::join!(device_side, admin_side)
    })
    .await
    .unwrap();
    assert_eq!(ended, vec![true]);
    let j = job(&s, id).await;
    assert_eq!(j["state"], "done", "{j}");
    assert_eq!(j["session_id"], "ABC");
    assert_eq!(j["results"][0]["data"], "Sim");
}
