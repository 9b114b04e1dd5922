#![allow(clippy::unwrap_used, clippy::expect_used)]
//! The reference client adapter: the real `dm-client` binary as the client under test,
//! against the reference server in-process as the tester. Needs the `dm-client` binary of
//! this workspace (built by `cargo test --workspace`, or `cargo build -p dm-client`).

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use dm_server::endpoint::{self, EndpointConfig};
use dm_server::faults::ServerFaults;
use dm_server::model::{AuthKind, Device, JobSpec, JobState, Secret};
use dm_server::service::{DmService, ServiceConfig};
use dm_server::store::Store;
use dmconf::adapter::reference::ReferenceClient;
use dmconf::adapter::AdapterError;
use dmconf::profile::{Credentials, Ixit};

fn dm_client_bin() -> PathBuf {
    // target/<profile>/deps/<this test> → target/<profile>/dm-client
    let exe = std::env::current_exe().unwrap();
    let bin = exe
        .parent()
        .and_then(|d| d.parent())
        .unwrap()
        .join(format!("dm-client{}", std::env::consts::EXE_SUFFIX));
    assert!(
        bin.exists(),
        "{} is missing: run `cargo build -p dm-client` (cargo test --workspace builds it)",
        bin.display()
    );
    bin
}

fn ixit() -> Ixit {
    Ixit {
        dev_id: "IMEI:77".into(),
        server_id: "tester".into(),
        server_url: None,
        client_auth: Some(Credentials {
            kind: "md5".into(),
            name: "dev".into(),
            secret: "pw".into(),
        }),
        server_auth: None,
        trust_anchors: Vec::new(),
        step_timeout_secs: 10,
    }
}

async fn tester(dir: &std::path::Path) -> (String, Store) {
    let store = Store::open(dir).unwrap();
    store
        .add_device(&Device {
            dev_id: "IMEI:77".into(),
            server_id: "tester".into(),
            client_auth: Some(Secret {
                kind: AuthKind::Md5,
                name: "dev".into(),
                secret: "pw".into(),
            }),
            server_auth: None,
            notify: vec![],
        })
        .unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/dm", listener.local_addr().unwrap());
    let svc = Arc::new(
        DmService::new(
            store.clone(),
            ServiceConfig {
                server_uri: url.clone(),
                max_msg_size: None,
                max_obj_size: None,
                faults: ServerFaults::default(),
                idle_timeout_secs: 60,
                seed: Some(3),
            },
            Arc::new(dm_tree::SystemClock),
        )
        .unwrap(),
    );
    tokio::spawn(endpoint::serve(
        listener,
        None,
        EndpointConfig::default(),
        Arc::new(svc),
    ));
    (url, store)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_reference_client_runs_a_session_as_the_iut() {
    let tmp = tempfile::tempdir().unwrap();
    let (url, store) = tester(&tmp.path().join("tester")).await;
    let spec: JobSpec = serde_json::from_value(serde_json::json!({"commands": [
        {"Command": "Get", "CmdID": "0", "Items": [{"Target": {"LocURI": "./DevInfo/Mod"}}]}
    ]}))
    .unwrap();
    let job = store.add_job("IMEI:77", &spec, 0).unwrap();
    let iut = ReferenceClient::new(
        &dm_client_bin(),
        &tmp.path().join("iut"),
        Duration::from_secs(20),
    );
    let ixit = ixit();
    let url2 = url.clone();
    let iut2 = iut.clone();
    tokio::task::spawn_blocking(move || {
        iut2.bootstrap(&ixit, &url2).unwrap();
        iut2.start_session().unwrap();
    })
    .await
    .unwrap();
    let j = store.job(job.id).unwrap();
    assert_eq!(j.state, JobState::Done, "{j:?}");
    assert_eq!(j.results[0].data, "reference", "the profile's model");
    let trace = std::fs::read_to_string(iut.trace_path()).unwrap();
    assert_eq!(trace.lines().count(), 4, "{trace}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unreachable_tester_is_an_adapter_error() {
    let tmp = tempfile::tempdir().unwrap();
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let iut = ReferenceClient::new(&dm_client_bin(), tmp.path(), Duration::from_secs(20));
    let err = tokio::task::spawn_blocking(move || {
        iut.bootstrap(&ixit(), &format!("http://127.0.0.1:{port}/dm"))
            .unwrap();
        iut.start_session().unwrap_err()
    })
    .await
    .unwrap();
    assert!(
        matches!(err, AdapterError::Failed { code: Some(3), .. }),
        "exit 3: unreachable, {err}"
    );
}
