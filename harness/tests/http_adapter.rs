#![allow(clippy::unwrap_used, clippy::expect_used)]
//! The http adapter against the reference server's real admin API (in-process, on
//! 127.0.0.1:0): register (twice: the second updates), queue, read, wait, notify; refusals and
//! an unreachable API are adapter errors (inconclusive, never fail).

use std::sync::Arc;
use std::time::Duration;

use dm_server::admin::{serve_admin, Admin};
use dm_server::model::{Device, JobSpec, JobState, NotifyRequest};
use dm_server::notify::PackageNotifier;
use dm_server::store::Store;
use dmconf::adapter::http::HttpAdapter;
use dmconf::adapter::AdapterError;

async fn admin(dir: &std::path::Path) -> String {
    let store = Store::open(dir).unwrap();
    let admin = Admin::new(
        store,
        Arc::new(PackageNotifier::new(Duration::from_secs(2), Some(1))),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(serve_admin(listener, admin, std::future::pending::<()>()));
    url
}

fn device(server_id: &str) -> Device {
    Device {
        dev_id: "IMEI:1".into(),
        server_id: server_id.into(),
        client_auth: None,
        server_auth: None,
        notify: vec![],
    }
}

#[tokio::test]
async fn drives_the_admin_api_contract() {
    let tmp = tempfile::tempdir().unwrap();
    let a = HttpAdapter::new(&admin(tmp.path()).await, Duration::from_secs(5));
    a.register_device(&device("first")).await.unwrap();
    a.register_device(&device("second")).await.unwrap();
    let spec: JobSpec = serde_json::from_value(serde_json::json!({"commands": [
        {"Command": "Get", "CmdID": "0", "Items": [{"Target": {"LocURI": "./DevInfo/Man"}}]}
    ]}))
    .unwrap();
    let id = a.queue_job("IMEI:1", &spec).await.unwrap();
    let job = a.job(id).await.unwrap();
    assert_eq!(
        (job.dev_id.as_str(), job.state),
        ("IMEI:1", JobState::Queued)
    );
    // Nobody runs a session: waiting for Done runs into the deadline.
    let err = a
        .wait_job(id, Duration::from_millis(200), |j| {
            j.state == JobState::Done
        })
        .await
        .unwrap_err();
    assert!(matches!(err, AdapterError::Timeout { .. }), "{err}");
    let queued = a
        .wait_job(id, Duration::from_millis(200), |j| {
            j.state == JobState::Queued
        })
        .await
        .unwrap();
    assert_eq!(queued.id, id);
    // No notification address: the API refuses (409), reported with its error body.
    let err = a
        .notify("IMEI:1", &NotifyRequest::default())
        .await
        .unwrap_err();
    match err {
        AdapterError::Refused { status, body, .. } => {
            assert_eq!(status, 409);
            assert!(body.contains("no_notify_address"), "{body}");
        }
        other => panic!("{other}"),
    }
    assert!(matches!(
        a.job(9999).await,
        Err(AdapterError::Refused { status: 404, .. })
    ));
}

#[tokio::test]
async fn an_unreachable_api_is_an_adapter_error() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let a = HttpAdapter::new(&format!("http://127.0.0.1:{port}"), Duration::from_secs(2));
    let err = a.register_device(&device("x")).await.unwrap_err();
    assert!(matches!(err, AdapterError::Unreachable { .. }), "{err}");
}
