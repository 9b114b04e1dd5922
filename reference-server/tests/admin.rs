//! The admin API over a real socket (127.0.0.1:0): every endpoint, every error path, the
//! JSON error shape, persistence across a restart, and job progress as the engine reports it.

use std::sync::{Arc, Mutex};

use bytes::Bytes;
use dm_server::admin::{serve_admin, Admin, Notifier, NotifyFuture};
use dm_server::model::{
    AlertRecord, Device, DeviceState, Direction, JobState, JobStatus, JobUpdate, NotifyAddress,
    NotifyOutcome, NotifyRequest, NotifyTransport, TranscriptEntry, UiMode,
};
use dm_server::store::Store;
use http_body_util::{BodyExt, Full};
use hyper::header::{HeaderMap, ALLOW, CONTENT_TYPE, LOCATION};
use hyper::{Method, Request, StatusCode};
use hyper_util::rt::TokioIo;
use serde_json::{json, Value};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

type R = Result<(), BoxError>;
type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// One notifier call: DevId, address, request, the state's server nonce.
type Call = (String, NotifyAddress, NotifyRequest, Vec<u8>);

/// What the fake notifier saw, and what it answers.
#[derive(Default)]
struct FakeNotifier {
    calls: Mutex<Vec<Call>>,
    fail: bool,
}

impl Notifier for FakeNotifier {
    fn notify<'a>(
        &'a self,
        device: &'a Device,
        state: &'a DeviceState,
        address: &'a NotifyAddress,
        request: &'a NotifyRequest,
    ) -> NotifyFuture<'a> {
        Box::pin(async move {
            if self.fail {
                return Err("connection refused".to_string());
            }
            if let Ok(mut calls) = self.calls.lock() {
                calls.push((
                    device.dev_id.clone(),
                    address.clone(),
                    request.clone(),
                    state.server_nonce.clone(),
                ));
            }
            Ok(NotifyOutcome::new(
                address.transport,
                address.address.clone(),
                request.session_id.unwrap_or(0x1A2B),
            ))
        })
    }
}

struct Server {
    addr: std::net::SocketAddr,
    store: Store,
    notifier: Arc<FakeNotifier>,
    dir: tempfile::TempDir,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    task: tokio::task::JoinHandle<std::io::Result<()>>,
}

impl Server {
    async fn start() -> Result<Server, BoxError> {
        Self::start_with(tempfile::tempdir()?, FakeNotifier::default(), None).await
    }

    async fn start_with(
        dir: tempfile::TempDir,
        notifier: FakeNotifier,
        max_body: Option<usize>,
    ) -> Result<Server, BoxError> {
        let store = Store::open(dir.path())?;
        let notifier = Arc::new(notifier);
        let mut admin =
            Admin::new(store.clone(), notifier.clone()).with_public_base("http://dms.example:8080");
        if let Some(limit) = max_body {
            admin = admin.with_max_body(limit);
        }
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let task = tokio::spawn(serve_admin(listener, admin, async move {
            let _ = stopped.await;
        }));
        Ok(Server {
            addr,
            store,
            notifier,
            dir,
            stop: Some(stop),
            task,
        })
    }

    /// Stops the server and gives the data directory back.
    async fn stop(mut self) -> Result<tempfile::TempDir, BoxError> {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        tokio::time::timeout(std::time::Duration::from_secs(5), self.task).await???;
        drop(self.store);
        Ok(self.dir)
    }

    async fn call(
        &self,
        method: Method,
        path: &str,
        body: Option<&str>,
    ) -> Result<(StatusCode, HeaderMap, Bytes), BoxError> {
        self.call_with(method, path, body.map(|b| b.as_bytes().to_vec()), None)
            .await
    }

    async fn call_with(
        &self,
        method: Method,
        path: &str,
        body: Option<Vec<u8>>,
        content_type: Option<&str>,
    ) -> Result<(StatusCode, HeaderMap, Bytes), BoxError> {
        let stream = TcpStream::connect(self.addr).await?;
        let (mut sender, conn) =
            hyper::client::conn::http1::handshake(TokioIo::new(stream)).await?;
        tokio::spawn(conn);
        let mut req = Request::builder()
            .method(method)
            .uri(path)
            .header("host", "localhost");
        if let Some(ct) = content_type {
            req = req.header(CONTENT_TYPE, ct);
        } else if body.is_some() {
            req = req.header(CONTENT_TYPE, "application/json");
        }
        let req = req.body(Full::new(Bytes::from(body.unwrap_or_default())))?;
        let response = sender.send_request(req).await?;
        let status = response.status();
        let headers = response.headers().clone();
        let bytes = response.into_body().collect().await?.to_bytes();
        Ok((status, headers, bytes))
    }

    async fn json(
        &self,
        method: Method,
        path: &str,
        body: Option<Value>,
    ) -> Result<(StatusCode, Value), BoxError> {
        let text = body.map(|b| b.to_string());
        let (status, headers, bytes) = self.call(method, path, text.as_deref()).await?;
        if bytes.is_empty() {
            return Ok((status, Value::Null));
        }
        assert_eq!(
            headers.get(CONTENT_TYPE).and_then(|v| v.to_str().ok()),
            Some("application/json"),
            "{path}"
        );
        Ok((status, serde_json::from_slice(&bytes)?))
    }
}

/// Asserts the documented error shape and returns the message.
fn error_of(body: &Value, kind: &str) -> String {
    let obj = body
        .as_object()
        .unwrap_or_else(|| panic!("not an object: {body}"));
    assert_eq!(obj.len(), 1, "only `error`: {body}");
    let error = &body["error"];
    assert_eq!(error["kind"], kind, "{body}");
    assert_eq!(error.as_object().map(|o| o.len()), Some(2), "{body}");
    let message = error["message"].as_str().unwrap_or_default().to_string();
    assert!(!message.is_empty(), "{body}");
    message
}

fn device_json(dev_id: &str) -> Value {
    json!({
        "dev_id": dev_id,
        "server_id": "dms.example.com",
        "client_auth": {"type": "md5", "name": "dev", "secret": "devpass"},
        "server_auth": {"type": "md5", "name": "dms.example.com", "secret": "srvpass"},
        "notify": [
            {"transport": "udp", "address": "127.0.0.1:2948"},
            {"transport": "tcp", "address": "127.0.0.1:2949"}
        ]
    })
}

fn get_job() -> Value {
    json!({"commands": [
        {"Command": "Get", "CmdID": "1", "Items": [{"Target": {"LocURI": "./DevInfo/Mod"}}]}
    ]})
}

/// `IMEI:1/x` as a path segment.
const ODD_ID: &str = "IMEI:1/x";
const ODD_ID_PATH: &str = "IMEI%3A1%2Fx";

#[tokio::test]
async fn health_answers_ok() -> R {
    let server = Server::start().await?;
    let (status, body) = server.json(Method::GET, "/health", None).await?;
    assert_eq!((status, body), (StatusCode::OK, json!({"status": "ok"})));
    server.stop().await?;
    Ok(())
}

#[tokio::test]
async fn devices_are_registered_listed_shown_updated_and_deleted() -> R {
    let server = Server::start().await?;
    let (status, headers, bytes) = server
        .call(
            Method::POST,
            "/devices",
            Some(&device_json(ODD_ID).to_string()),
        )
        .await?;
    assert_eq!(status, StatusCode::CREATED);
    assert_eq!(
        headers.get(LOCATION).and_then(|v| v.to_str().ok()),
        Some("/devices/IMEI:1%2Fx")
    );
    assert_eq!(
        serde_json::from_slice::<Value>(&bytes)?,
        device_json(ODD_ID)
    );
    server
        .json(Method::POST, "/devices", Some(device_json("IMEI:2")))
        .await?;

    let (status, list) = server.json(Method::GET, "/devices", None).await?;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(list, json!([device_json(ODD_ID), device_json("IMEI:2")]));

    // The device with its state (nonces, last DevInfo).
    server.store.set_device_state(
        ODD_ID,
        &DeviceState {
            server_nonce: b"nonce".to_vec(),
            devinfo: [("Man".to_string(), "Acme".to_string())].into(),
            ..DeviceState::default()
        },
    )?;
    for path in [
        format!("/devices/{ODD_ID_PATH}"),
        "/devices/IMEI:1%2fx".to_string(),
    ] {
        let (status, view) = server.json(Method::GET, &path, None).await?;
        assert_eq!(status, StatusCode::OK, "{path}");
        assert_eq!(view["device"], device_json(ODD_ID));
        assert_eq!(view["state"]["server_nonce"], "bm9uY2U=");
        assert_eq!(view["state"]["devinfo"], json!({"Man": "Acme"}));
    }

    let mut changed = device_json(ODD_ID);
    changed["server_id"] = json!("other.example.com");
    let (status, body) = server
        .json(
            Method::PUT,
            &format!("/devices/{ODD_ID_PATH}"),
            Some(changed.clone()),
        )
        .await?;
    assert_eq!((status, &body), (StatusCode::OK, &changed));
    assert_eq!(server.store.device(ODD_ID)?.server_id, "other.example.com");
    let (status, body) = server
        .json(Method::PUT, "/devices/IMEI:2", Some(changed))
        .await?;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(error_of(&body, "invalid_request").contains("differs"));

    let (status, _, bytes) = server
        .call(Method::DELETE, &format!("/devices/{ODD_ID_PATH}"), None)
        .await?;
    assert_eq!((status, bytes.len()), (StatusCode::NO_CONTENT, 0));
    let (status, body) = server
        .json(Method::GET, &format!("/devices/{ODD_ID_PATH}"), None)
        .await?;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert!(error_of(&body, "unknown_device").contains(ODD_ID));
    server.stop().await?;
    Ok(())
}

#[tokio::test]
async fn device_errors_are_typed() -> R {
    let server = Server::start().await?;
    server
        .json(Method::POST, "/devices", Some(device_json("IMEI:1")))
        .await?;
    let (status, body) = server
        .json(Method::POST, "/devices", Some(device_json("IMEI:1")))
        .await?;
    assert_eq!(status, StatusCode::CONFLICT);
    assert!(error_of(&body, "device_exists").contains("IMEI:1"));

    // Not JSON: the serde message says where.
    let (status, _, bytes) = server
        .call(Method::POST, "/devices", Some("{\"dev_id\": "))
        .await?;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let message = error_of(&serde_json::from_slice(&bytes)?, "bad_json");
    assert!(message.contains("line 1"), "{message}");
    // Unknown field, missing field, wrong enum value.
    let mut extra = device_json("IMEI:3");
    extra["colour"] = json!("red");
    let (status, body) = server.json(Method::POST, "/devices", Some(extra)).await?;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(error_of(&body, "bad_json").contains("colour"));
    let (status, body) = server
        .json(Method::POST, "/devices", Some(json!({"dev_id": "IMEI:3"})))
        .await?;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(error_of(&body, "bad_json").contains("server_id"));
    let mut bad_auth = device_json("IMEI:3");
    bad_auth["client_auth"]["type"] = json!("sha1");
    let (status, body) = server
        .json(Method::POST, "/devices", Some(bad_auth))
        .await?;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(error_of(&body, "bad_json").contains("sha1"));
    // Valid JSON, invalid values.
    let mut empty = device_json("IMEI:3");
    empty["server_id"] = json!("");
    let (status, body) = server.json(Method::POST, "/devices", Some(empty)).await?;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(error_of(&body, "invalid_device").contains("server_id"));

    // Unknown device, on every device endpoint.
    for (method, path) in [
        (Method::GET, "/devices/IMEI:9"),
        (Method::DELETE, "/devices/IMEI:9"),
        (Method::GET, "/devices/IMEI:9/jobs"),
        (Method::GET, "/devices/IMEI:9/sessions"),
        (Method::GET, "/devices/IMEI:9/alerts"),
        (Method::GET, "/sessions/IMEI:9/1"),
    ] {
        let (status, body) = server.json(method.clone(), path, None).await?;
        assert_eq!(status, StatusCode::NOT_FOUND, "{method} {path}");
        error_of(&body, "unknown_device");
    }
    for path in ["/devices/IMEI:9/jobs", "/devices/IMEI:9/notify"] {
        let (status, _, bytes) = server.call(Method::POST, path, Some("not json")).await?;
        assert_eq!(
            status,
            StatusCode::NOT_FOUND,
            "{path}: 404 whatever the body"
        );
        error_of(&serde_json::from_slice(&bytes)?, "unknown_device");
    }
    let (status, body) = server
        .json(Method::PUT, "/devices/IMEI:9", Some(device_json("IMEI:9")))
        .await?;
    assert_eq!(status, StatusCode::NOT_FOUND);
    error_of(&body, "unknown_device");
    server.stop().await?;
    Ok(())
}

#[tokio::test]
async fn jobs_are_queued_shown_and_cancelled() -> R {
    let server = Server::start().await?;
    server
        .json(Method::POST, "/devices", Some(device_json(ODD_ID)))
        .await?;
    let jobs_path = format!("/devices/{ODD_ID_PATH}/jobs");
    let (status, headers, bytes) = server
        .call(Method::POST, &jobs_path, Some(&get_job().to_string()))
        .await?;
    assert_eq!(status, StatusCode::CREATED);
    let job: Value = serde_json::from_slice(&bytes)?;
    let id = job["id"].as_u64().ok_or("no id")?;
    assert_eq!(
        headers.get(LOCATION).and_then(|v| v.to_str().ok()),
        Some(format!("/jobs/{id}").as_str())
    );
    assert_eq!(job["state"], "queued");
    assert_eq!(job["dev_id"], ODD_ID);
    assert_eq!(job["spec"], get_job());
    assert_eq!(job["statuses"], json!([]));
    assert!(job["created_at"]
        .as_u64()
        .is_some_and(|t| t > 1_600_000_000));

    let (_, second) = server
        .json(Method::POST, &jobs_path, Some(get_job()))
        .await?;
    let (status, list) = server.json(Method::GET, &jobs_path, None).await?;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(list, json!([job, second]), "oldest first");
    let (status, shown) = server
        .json(Method::GET, &format!("/jobs/{id}"), None)
        .await?;
    assert_eq!((status, &shown), (StatusCode::OK, &job));

    let (status, cancelled) = server
        .json(Method::DELETE, &format!("/jobs/{id}"), None)
        .await?;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(cancelled["state"], "cancelled");
    let (status, body) = server
        .json(Method::DELETE, &format!("/jobs/{id}"), None)
        .await?;
    assert_eq!(status, StatusCode::CONFLICT);
    assert!(error_of(&body, "job_not_cancellable").contains("Cancelled"));

    // A sent job cannot be cancelled.
    let second_id = second["id"].as_u64().ok_or("no id")?;
    server.store.apply_job_updates(
        &[JobUpdate::Sent {
            job: second_id,
            session_id: "1".into(),
        }],
        1,
    )?;
    let (status, body) = server
        .json(Method::DELETE, &format!("/jobs/{second_id}"), None)
        .await?;
    assert_eq!(status, StatusCode::CONFLICT);
    error_of(&body, "job_not_cancellable");

    // Deleting the device deletes its jobs.
    server
        .json(Method::DELETE, &format!("/devices/{ODD_ID_PATH}"), None)
        .await?;
    let (status, body) = server
        .json(Method::GET, &format!("/jobs/{second_id}"), None)
        .await?;
    assert_eq!(status, StatusCode::NOT_FOUND);
    error_of(&body, "unknown_job");
    server.stop().await?;
    Ok(())
}

#[tokio::test]
async fn job_errors_are_typed() -> R {
    let server = Server::start().await?;
    server
        .json(Method::POST, "/devices", Some(device_json("IMEI:1")))
        .await?;
    for (body, kind, needle) in [
        (json!({"commands": []}), "invalid_job", "empty"),
        (
            json!({"commands": [{"Command": "Status", "CmdID": "1", "MsgRef": "1",
                   "CmdRef": "1", "Cmd": "Get", "Data": 200}]}),
            "invalid_job",
            "Status",
        ),
        (
            json!({"commands": [{"Command": "Fetch", "CmdID": "1"}]}),
            "bad_json",
            "Fetch",
        ),
        (
            json!({"commands": [{"Command": "Get", "Items": []}]}),
            "bad_json",
            "CmdID",
        ),
        (json!({"cmds": []}), "bad_json", "cmds"),
    ] {
        let (status, answer) = server
            .json(Method::POST, "/devices/IMEI:1/jobs", Some(body.clone()))
            .await?;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
        let message = error_of(&answer, kind);
        assert!(message.contains(needle), "{body}: {message}");
    }
    let (status, body) = server.json(Method::GET, "/jobs/4242", None).await?;
    assert_eq!(status, StatusCode::NOT_FOUND);
    error_of(&body, "unknown_job");
    let (status, body) = server.json(Method::DELETE, "/jobs/4242", None).await?;
    assert_eq!(status, StatusCode::NOT_FOUND);
    error_of(&body, "unknown_job");
    let (status, body) = server.json(Method::GET, "/jobs/x1", None).await?;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    error_of(&body, "bad_path");
    assert!(server.store.jobs("IMEI:1")?.is_empty());
    server.stop().await?;
    Ok(())
}

#[tokio::test]
async fn job_progress_reported_by_the_engine_is_shown() -> R {
    let server = Server::start().await?;
    server
        .json(Method::POST, "/devices", Some(device_json("IMEI:1")))
        .await?;
    let (_, a) = server
        .json(Method::POST, "/devices/IMEI:1/jobs", Some(get_job()))
        .await?;
    let (_, b) = server
        .json(Method::POST, "/devices/IMEI:1/jobs", Some(get_job()))
        .await?;
    let (a, b) = (a["id"].as_u64().ok_or("id")?, b["id"].as_u64().ok_or("id")?);
    let status = JobStatus {
        command: "1".into(),
        cmd: "Get".into(),
        code: 200,
        target_refs: vec!["./DevInfo/Mod".into()],
        source_refs: vec![],
        items: vec![],
        note: None,
    };
    server.store.apply_job_updates(
        &[
            JobUpdate::Sent {
                job: a,
                session_id: "1A2B".into(),
            },
            JobUpdate::Sent {
                job: b,
                session_id: "1A2B".into(),
            },
            JobUpdate::Status { job: a, status },
            JobUpdate::State {
                job: a,
                state: JobState::Done,
            },
        ],
        5,
    )?;
    server.store.interrupt_jobs("IMEI:1", "1A2B", 6)?;
    let (_, done) = server
        .json(Method::GET, &format!("/jobs/{a}"), None)
        .await?;
    assert_eq!(done["state"], "done");
    assert_eq!(done["session_id"], "1A2B");
    assert_eq!(
        done["statuses"],
        json!([{"command": "1", "cmd": "Get", "code": 200,
                "target_refs": ["./DevInfo/Mod"], "source_refs": [], "items": []}])
    );
    let (_, again) = server
        .json(Method::GET, &format!("/jobs/{b}"), None)
        .await?;
    assert_eq!(again["state"], "interrupted");
    // Queued again: cancellable like a queued job.
    let (status, cancelled) = server
        .json(Method::DELETE, &format!("/jobs/{b}"), None)
        .await?;
    assert_eq!(
        (status, &cancelled["state"]),
        (StatusCode::OK, &json!("cancelled"))
    );
    server.stop().await?;
    Ok(())
}

fn transcript_entry(direction: Direction, xml: &str) -> TranscriptEntry {
    TranscriptEntry {
        direction,
        time: 100,
        encoding: "xml".into(),
        bytes_b64: dm_protocol::auth::b64(xml.as_bytes()),
        xml: Some(xml.into()),
        violations: vec!["leniency: pretty XML".into()],
    }
}

#[tokio::test]
async fn sessions_are_listed_and_shown_with_their_transcript() -> R {
    let server = Server::start().await?;
    server
        .json(Method::POST, "/devices", Some(device_json(ODD_ID)))
        .await?;
    server.store.start_session(ODD_ID, "1A2B", 100)?;
    server.store.append_transcript(
        ODD_ID,
        "1A2B",
        &transcript_entry(Direction::Received, "<SyncML/>"),
    )?;
    server.store.end_session(ODD_ID, "1A2B", 101, "completed")?;
    server.store.start_session(ODD_ID, "1A2C", 200)?;

    let (status, list) = server
        .json(
            Method::GET,
            &format!("/devices/{ODD_ID_PATH}/sessions"),
            None,
        )
        .await?;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        list,
        json!([
            {"dev_id": ODD_ID, "session_id": "1A2B", "started_at": 100, "ended_at": 101,
             "end": "completed", "messages": 1},
            {"dev_id": ODD_ID, "session_id": "1A2C", "started_at": 200, "ended_at": null,
             "end": null, "messages": 0}
        ])
    );
    let (status, session) = server
        .json(Method::GET, &format!("/sessions/{ODD_ID_PATH}/1A2B"), None)
        .await?;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(session["end"], "completed");
    assert_eq!(
        session["transcript"],
        json!([{"direction": "received", "time": 100, "encoding": "xml",
                "bytes_b64": "PFN5bmNNTC8+", "xml": "<SyncML/>",
                "violations": ["leniency: pretty XML"]}])
    );
    let (status, body) = server
        .json(Method::GET, &format!("/sessions/{ODD_ID_PATH}/FFFF"), None)
        .await?;
    assert_eq!(status, StatusCode::NOT_FOUND);
    error_of(&body, "unknown_session");
    server.stop().await?;
    Ok(())
}

fn alert_record(dev_id: &str, code: u16) -> AlertRecord {
    AlertRecord {
        dev_id: dev_id.into(),
        session_id: "1".into(),
        at: 5,
        code,
        correlator: None,
        items: vec![],
    }
}

#[tokio::test]
async fn alerts_are_listed_per_device_and_overall_newest_last() -> R {
    let server = Server::start().await?;
    server
        .json(Method::POST, "/devices", Some(device_json("IMEI:1")))
        .await?;
    server
        .json(Method::POST, "/devices", Some(device_json("IMEI:2")))
        .await?;
    let (_, empty) = server.json(Method::GET, "/alerts", None).await?;
    assert_eq!(empty, json!([]));
    for (dev, code) in [("IMEI:1", 1226), ("IMEI:2", 1224), ("IMEI:1", 1224)] {
        server.store.add_alert(&alert_record(dev, code))?;
    }
    let (status, mine) = server
        .json(Method::GET, "/devices/IMEI:1/alerts", None)
        .await?;
    assert_eq!(status, StatusCode::OK);
    let codes = |v: &Value| -> Vec<(String, u64)> {
        v.as_array()
            .map(|a| {
                a.iter()
                    .map(|x| {
                        (
                            x["dev_id"].as_str().unwrap_or_default().to_string(),
                            x["code"].as_u64().unwrap_or_default(),
                        )
                    })
                    .collect()
            })
            .unwrap_or_default()
    };
    assert_eq!(
        codes(&mine),
        [("IMEI:1".into(), 1226), ("IMEI:1".into(), 1224)]
    );
    let (_, all) = server.json(Method::GET, "/alerts", None).await?;
    assert_eq!(
        codes(&all),
        [
            ("IMEI:1".into(), 1226),
            ("IMEI:2".into(), 1224),
            ("IMEI:1".into(), 1224)
        ]
    );
    assert_eq!(
        all[0],
        json!({"dev_id": "IMEI:1", "session_id": "1", "at": 5, "code": 1226,
               "correlator": null, "items": []})
    );
    server.stop().await?;
    Ok(())
}

#[tokio::test]
async fn notify_picks_the_address_and_passes_the_request_to_the_notifier() -> R {
    let server = Server::start().await?;
    server
        .json(Method::POST, "/devices", Some(device_json("IMEI:1")))
        .await?;
    server.store.set_device_state(
        "IMEI:1",
        &DeviceState {
            server_nonce: b"srv-nonce".to_vec(),
            ..DeviceState::default()
        },
    )?;
    // Empty body: the first address, ui-mode not specified, the notifier picks the id.
    let (status, _, bytes) = server
        .call(Method::POST, "/devices/IMEI:1/notify", Some(""))
        .await?;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        serde_json::from_slice::<Value>(&bytes)?,
        json!({"transport": "udp", "address": "127.0.0.1:2948", "session_id": 6699,
               "sync_hdr_session_id": "1A2B"})
    );
    let (status, outcome) = server
        .json(
            Method::POST,
            "/devices/IMEI:1/notify",
            Some(json!({"transport": "tcp", "ui_mode": "user_interaction", "session_id": 171})),
        )
        .await?;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        outcome,
        json!({"transport": "tcp", "address": "127.0.0.1:2949", "session_id": 171,
               "sync_hdr_session_id": "AB"})
    );
    let calls = server
        .notifier
        .calls
        .lock()
        .map_err(|_| "poisoned")?
        .clone();
    assert_eq!(calls.len(), 2);
    assert_eq!(calls[0].0, "IMEI:1");
    assert_eq!(calls[0].1.transport, NotifyTransport::Udp);
    assert_eq!(calls[0].2, NotifyRequest::default());
    assert_eq!(
        calls[0].3, b"srv-nonce",
        "the notifier gets the device state"
    );
    assert_eq!(calls[1].1.address, "127.0.0.1:2949");
    assert_eq!(
        calls[1].2,
        NotifyRequest {
            transport: Some(NotifyTransport::Tcp),
            ui_mode: UiMode::UserInteraction,
            session_id: Some(171),
        }
    );
    server.stop().await?;
    Ok(())
}

#[tokio::test]
async fn notify_errors_are_typed() -> R {
    let server = Server::start_with(
        tempfile::tempdir()?,
        FakeNotifier {
            fail: true,
            ..FakeNotifier::default()
        },
        None,
    )
    .await?;
    server
        .json(Method::POST, "/devices", Some(device_json("IMEI:1")))
        .await?;
    let mut silent = device_json("IMEI:2");
    silent["notify"] = json!([]);
    server.json(Method::POST, "/devices", Some(silent)).await?;
    for (path, body, status, kind, needle) in [
        (
            "/devices/IMEI:1/notify",
            json!({"transport": "http"}),
            409,
            "no_notify_address",
            "Http",
        ),
        (
            "/devices/IMEI:2/notify",
            json!({}),
            409,
            "no_notify_address",
            "no notification",
        ),
        (
            "/devices/IMEI:1/notify",
            json!({"session_id": 0}),
            400,
            "invalid_request",
            "§7.1",
        ),
        (
            "/devices/IMEI:1/notify",
            json!({"session_id": 70000}),
            400,
            "bad_json",
            "70000",
        ),
        (
            "/devices/IMEI:1/notify",
            json!({"ui_mode": "loud"}),
            400,
            "bad_json",
            "loud",
        ),
        (
            "/devices/IMEI:1/notify",
            json!({"via": "udp"}),
            400,
            "bad_json",
            "via",
        ),
        (
            "/devices/IMEI:1/notify",
            json!({}),
            502,
            "notify_failed",
            "connection refused",
        ),
    ] {
        let (got, answer) = server.json(Method::POST, path, Some(body.clone())).await?;
        assert_eq!(got.as_u16(), status, "{path} {body}");
        let message = error_of(&answer, kind);
        assert!(message.contains(needle), "{body}: {message}");
    }
    server.stop().await?;
    Ok(())
}

#[tokio::test]
async fn unknown_paths_and_methods_are_refused() -> R {
    let server = Server::start().await?;
    for path in [
        "/",
        "/nothing",
        "/devices/",
        "/devices/a/b",
        "/jobs",
        "/sessions/a",
    ] {
        let (status, body) = server.json(Method::GET, path, None).await?;
        assert_eq!(status, StatusCode::NOT_FOUND, "{path}");
        error_of(&body, "not_found");
    }
    for (method, path, allow) in [
        (Method::POST, "/health", "GET"),
        (Method::PATCH, "/devices", "GET, POST"),
        (Method::POST, "/devices/IMEI:1", "GET, PUT, DELETE"),
        (Method::GET, "/devices/IMEI:1/notify", "POST"),
        (Method::PUT, "/jobs/1", "GET, DELETE"),
        (Method::DELETE, "/alerts", "GET"),
    ] {
        let (status, headers, bytes) = server.call(method.clone(), path, None).await?;
        assert_eq!(status, StatusCode::METHOD_NOT_ALLOWED, "{method} {path}");
        assert_eq!(
            headers.get(ALLOW).and_then(|v| v.to_str().ok()),
            Some(allow)
        );
        error_of(&serde_json::from_slice(&bytes)?, "method_not_allowed");
    }
    let (status, body) = server.json(Method::GET, "/devices/%zz", None).await?;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    error_of(&body, "bad_path");
    server.stop().await?;
    Ok(())
}

#[tokio::test]
async fn bodies_over_the_limit_get_413() -> R {
    let server =
        Server::start_with(tempfile::tempdir()?, FakeNotifier::default(), Some(512)).await?;
    let mut big = device_json("IMEI:1");
    big["server_id"] = json!("s".repeat(600));
    let (status, body) = server.json(Method::POST, "/devices", Some(big)).await?;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
    assert!(error_of(&body, "body_too_large").contains("512"));

    // Chunked, no Content-Length: the limit still holds while reading.
    let mut stream = TcpStream::connect(server.addr).await?;
    let chunk = "x".repeat(300);
    let request = format!(
        "POST /devices HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n\
         Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n\
         {len:x}\r\n{chunk}\r\n{len:x}\r\n{chunk}\r\n0\r\n\r\n",
        len = chunk.len()
    );
    stream.write_all(request.as_bytes()).await?;
    let mut answer = Vec::new();
    tokio::time::timeout(
        std::time::Duration::from_secs(5),
        stream.read_to_end(&mut answer),
    )
    .await??;
    let text = String::from_utf8_lossy(&answer);
    assert!(text.starts_with("HTTP/1.1 413"), "{text}");
    assert!(text.contains("\"body_too_large\""), "{text}");
    assert!(server.store.devices()?.is_empty());

    // Under the limit is fine.
    let (status, _) = server
        .json(Method::POST, "/devices", Some(device_json("IMEI:1")))
        .await?;
    assert_eq!(status, StatusCode::CREATED);
    server.stop().await?;
    Ok(())
}

#[tokio::test]
async fn content_is_uploaded_served_listed_and_deleted() -> R {
    let server = Server::start().await?;
    let payload = vec![0u8, 1, 2, 0xFF, b'\n'];
    let (status, _, bytes) = server
        .call_with(
            Method::PUT,
            "/content/fw/v2.bin",
            Some(payload.clone()),
            Some("application/vnd.example.fw"),
        )
        .await?;
    assert_eq!(status, StatusCode::OK);
    let info: Value = serde_json::from_slice(&bytes)?;
    assert_eq!(info["name"], "fw/v2.bin");
    assert_eq!(info["size"], 5);
    assert_eq!(info["content_type"], "application/vnd.example.fw");

    let (status, headers, bytes) = server.call(Method::GET, "/content/fw/v2.bin", None).await?;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        headers.get(CONTENT_TYPE).and_then(|v| v.to_str().ok()),
        Some("application/vnd.example.fw")
    );
    assert_eq!(bytes.as_ref(), payload.as_slice());
    let (_, list) = server.json(Method::GET, "/content", None).await?;
    assert_eq!(list.as_array().map(Vec::len), Some(1));
    assert_eq!(list[0]["name"], "fw/v2.bin");

    let (status, _, body) = server
        .call_with(Method::PUT, "/content/a/../b", Some(vec![1]), None)
        .await?;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    error_of(&serde_json::from_slice(&body)?, "invalid_content_name");
    let (status, _, _) = server
        .call(Method::DELETE, "/content/fw/v2.bin", None)
        .await?;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, body) = server.json(Method::GET, "/content/fw/v2.bin", None).await?;
    assert_eq!(status, StatusCode::NOT_FOUND);
    error_of(&body, "unknown_content");
    server.stop().await?;
    Ok(())
}

#[tokio::test]
async fn everything_is_there_after_a_restart() -> R {
    let server = Server::start().await?;
    server
        .json(Method::POST, "/devices", Some(device_json(ODD_ID)))
        .await?;
    let (_, job) = server
        .json(
            Method::POST,
            &format!("/devices/{ODD_ID_PATH}/jobs"),
            Some(get_job()),
        )
        .await?;
    server.store.add_alert(&alert_record(ODD_ID, 1226))?;
    server.store.start_session(ODD_ID, "7", 1)?;
    let mut before = Vec::new();
    for path in [
        "/devices".to_string(),
        format!("/devices/{ODD_ID_PATH}"),
        format!("/devices/{ODD_ID_PATH}/jobs"),
        format!("/devices/{ODD_ID_PATH}/sessions"),
        "/alerts".to_string(),
    ] {
        before.push((path.clone(), server.json(Method::GET, &path, None).await?.1));
    }
    let dir = server.stop().await?;

    let restarted = Server::start_with(dir, FakeNotifier::default(), None).await?;
    for (path, expected) in &before {
        let (status, now) = restarted.json(Method::GET, path, None).await?;
        assert_eq!(status, StatusCode::OK, "{path}");
        assert_eq!(&now, expected, "{path}");
    }
    let (_, shown) = restarted
        .json(Method::GET, &format!("/jobs/{}", job["id"]), None)
        .await?;
    assert_eq!(shown, job);
    restarted.stop().await?;
    Ok(())
}

#[tokio::test]
async fn shutdown_stops_accepting() -> R {
    let server = Server::start().await?;
    let addr = server.addr;
    server.stop().await?;
    assert!(TcpStream::connect(addr).await.is_err(), "listener closed");
    Ok(())
}

#[tokio::test]
async fn packages_are_signed_hosted_listed_and_deleted() -> R {
    use dm_protocol::swpkg::{DeviceIdentity, Package, TrustStore};
    let server = Server::start().await?;
    let (status, origin) = server.json(Method::GET, "/originator", None).await?;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(origin["id"], "dm-server");
    let key = dm_protocol::auth::b64_decode(origin["public_key"].as_str().unwrap_or(""))?;
    assert_eq!(key.len(), 32);
    let upload = serde_json::json!({
        "pkg_id": "antivirus-2.0",
        "name": "Antivirus",
        "version": "2.0",
        "pkg_type": "application/vnd.example.app",
        "targets": [{"model": "Acme/Phone-1"}, {"dev_id": "IMEI:9"}],
        "payload": dm_protocol::auth::b64(b"the app\n\nbytes"),
    });
    let (status, info) = server
        .json(Method::POST, "/packages", Some(upload.clone()))
        .await?;
    assert_eq!(status, StatusCode::CREATED, "{info}");
    assert_eq!(
        info["content_path"],
        "/content/packages/antivirus-2.0.dmpkg"
    );
    assert_eq!(info["originator"], "dm-server");
    // The hosted bytes are a DMPKG 1 package a device trusting the server accepts.
    let (status, _, bytes) = server
        .call(Method::GET, "/content/packages/antivirus-2.0.dmpkg", None)
        .await?;
    assert_eq!(status, StatusCode::OK);
    let pkg = Package::parse(&bytes)?;
    assert_eq!(pkg.payload, b"the app\n\nbytes");
    let mut trust = TrustStore::new();
    trust.add("dm-server", &key);
    pkg.verify(
        &trust,
        &DeviceIdentity {
            dev_id: "IMEI:1".into(),
            manufacturer: "Acme".into(),
            model: "Phone-1".into(),
        },
    )?;
    let (_, list) = server.json(Method::GET, "/packages", None).await?;
    assert_eq!(list.as_array().map(Vec::len), Some(1));
    assert_eq!(list[0]["pkg_id"], "antivirus-2.0");
    let (status, one) = server
        .json(Method::GET, "/packages/antivirus-2.0", None)
        .await?;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(one, info);
    // Bad uploads are refused with the reason.
    for (field, value) in [
        ("pkg_id", serde_json::json!("../x")),
        ("targets", serde_json::json!([])),
        ("targets", serde_json::json!([{"model": "no-slash"}])),
        ("payload", serde_json::json!("!!!")),
    ] {
        let mut bad = upload.clone();
        bad[field] = value;
        let (status, body) = server.json(Method::POST, "/packages", Some(bad)).await?;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{field}: {body}");
        error_of(&body, "invalid_package");
    }
    let (status, _, _) = server
        .call(Method::DELETE, "/packages/antivirus-2.0", None)
        .await?;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, body) = server
        .json(Method::GET, "/packages/antivirus-2.0", None)
        .await?;
    assert_eq!(status, StatusCode::NOT_FOUND);
    error_of(&body, "unknown_package");
    // The key survives a restart: packages signed before stay valid.
    let dir = server.stop().await?;
    let again = Server::start_with(dir, FakeNotifier::default(), None).await?;
    let (_, origin2) = again.json(Method::GET, "/originator", None).await?;
    assert_eq!(origin2["public_key"], origin["public_key"]);
    let (status, _, _) = again
        .call(Method::GET, "/content/originator.pk8", None)
        .await?;
    assert_eq!(
        status,
        StatusCode::NOT_FOUND,
        "the private key is never hosted"
    );
    again.stop().await?;
    Ok(())
}

#[tokio::test]
async fn scomo_requests_become_jobs_with_the_package_url() -> R {
    let server = Server::start().await?;
    server
        .json(Method::POST, "/devices", Some(device_json("IMEI:5")))
        .await?;
    let upload = json!({"pkg_id": "app-1", "name": "App", "version": "1",
        "targets": [{"dev_id": "IMEI:5"}], "payload": dm_protocol::auth::b64(b"x")});
    server.json(Method::POST, "/packages", Some(upload)).await?;
    let (status, job) = server
        .json(
            Method::POST,
            "/devices/IMEI:5/scomo",
            Some(json!({"operation": "install", "pkg_id": "app-1"})),
        )
        .await?;
    assert_eq!(status, StatusCode::CREATED, "{job}");
    let cmds = job["spec"]["commands"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let text = serde_json::to_string(&cmds)?;
    assert_eq!(
        cmds.first().map(|c| c["Command"].clone()),
        Some(json!("Add"))
    );
    assert!(text.contains("./SCOMO/Download/app/PkgID"), "{text}");
    assert!(
        text.contains("http://dms.example:8080/content/packages/app-1.dmpkg"),
        "{text}"
    );
    let last = cmds.last().cloned().unwrap_or_default();
    assert_eq!(last["Command"], "Exec");
    assert_eq!(
        last["Items"][0]["Target"]["LocURI"],
        "./SCOMO/Download/app/Operations/DownloadInstall"
    );

    let (_, job) = server
        .json(
            Method::POST,
            "/devices/IMEI:5/scomo",
            Some(json!({"operation": "deactivate", "component": "App", "root": "./SCM"})),
        )
        .await?;
    assert_eq!(
        job["spec"]["commands"][0]["Items"][0]["Target"]["LocURI"],
        "./SCM/Inventory/Deployed/App/Operations/Deactivate"
    );
    let (_, job) = server
        .json(
            Method::POST,
            "/devices/IMEI:5/scomo",
            Some(json!({"operation": "inventory"})),
        )
        .await?;
    assert_eq!(job["spec"]["commands"][0]["Command"], "Get");

    for (body, status, kind) in [
        (
            json!({"operation": "install"}),
            StatusCode::BAD_REQUEST,
            "invalid_package",
        ),
        (
            json!({"operation": "install", "pkg_id": "nope"}),
            StatusCode::NOT_FOUND,
            "unknown_package",
        ),
        (
            json!({"operation": "remove", "component": "a/b"}),
            StatusCode::BAD_REQUEST,
            "invalid_package",
        ),
        (
            json!({"operation": "reboot"}),
            StatusCode::BAD_REQUEST,
            "bad_json",
        ),
    ] {
        let (s, b) = server
            .json(Method::POST, "/devices/IMEI:5/scomo", Some(body))
            .await?;
        assert_eq!(s, status, "{b}");
        error_of(&b, kind);
    }
    let (s, b) = server
        .json(
            Method::POST,
            "/devices/IMEI:404/scomo",
            Some(json!({"operation": "inventory"})),
        )
        .await?;
    assert_eq!(s, StatusCode::NOT_FOUND);
    error_of(&b, "unknown_device");
    server.stop().await?;
    Ok(())
}

#[tokio::test]
async fn backups_are_started_listed_and_restored_onto_another_device() -> R {
    let server = Server::start().await?;
    for d in ["IMEI:old", "IMEI:new"] {
        server
            .json(Method::POST, "/devices", Some(device_json(d)))
            .await?;
    }
    let (status, job) = server
        .json(
            Method::POST,
            "/devices/IMEI:old/backup",
            Some(json!({"subtrees": ["./Vendor"]})),
        )
        .await?;
    assert_eq!(status, StatusCode::CREATED, "{job}");
    let cmds = &job["spec"]["commands"];
    assert_eq!(cmds[0]["Items"][0]["Target"]["LocURI"], "./Backup/Subtrees");
    assert_eq!(
        cmds[1]["Items"][0]["Target"]["LocURI"],
        "./Backup/Operations/Backup"
    );
    let upload = cmds[1]["Items"][0]["Data"]["text"]
        .as_str()
        .unwrap_or("")
        .to_owned();
    let prefix = "http://dms.example:8080/upload/backups/IMEI_3Aold/";
    assert!(
        upload.starts_with(prefix) && upload.ends_with(".tnds"),
        "{upload}"
    );
    // The device uploads there (the DM listener's /upload/, stored as uploads/…).
    let name = format!(
        "uploads/{}",
        upload.trim_start_matches("http://dms.example:8080/upload/")
    );
    server
        .store
        .put_content(&name, "application/octet-stream", b"<MgmtTree/>", 1)?;
    let (_, list) = server
        .json(Method::GET, "/devices/IMEI:old/backups", None)
        .await?;
    assert_eq!(list[0]["name"], json!(name));
    let (_, none) = server
        .json(Method::GET, "/devices/IMEI:new/backups", None)
        .await?;
    assert_eq!(none, json!([]));
    // Restore it onto the new device: the migration.
    let (status, job) = server
        .json(
            Method::POST,
            "/devices/IMEI:new/restore",
            Some(json!({"backup": name})),
        )
        .await?;
    assert_eq!(status, StatusCode::CREATED, "{job}");
    assert_eq!(job["dev_id"], "IMEI:new");
    let item = &job["spec"]["commands"][0]["Items"][0];
    assert_eq!(item["Target"]["LocURI"], "./Backup/Operations/Restore");
    assert_eq!(
        item["Data"]["text"],
        json!(format!("http://dms.example:8080/content/{name}"))
    );
    let (status, body) = server
        .json(
            Method::POST,
            "/devices/IMEI:new/restore",
            Some(json!({"backup": "uploads/backups/x/1.tnds"})),
        )
        .await?;
    assert_eq!(status, StatusCode::NOT_FOUND);
    error_of(&body, "unknown_content");
    let (status, body) = server
        .json(
            Method::POST,
            "/devices/IMEI:old/backup",
            Some(json!({"subtrees": ["a,b"]})),
        )
        .await?;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    error_of(&body, "invalid_request");
    server.stop().await?;
    Ok(())
}
