#![allow(clippy::unwrap_used, clippy::expect_used)]
//! The DM service with a real store and the reference client engine, on a manual clock:
//! leniencies recorded in the transcript, idle sessions reaped with their jobs queued again,
//! and two devices' sessions interleaved without disturbing each other.

use std::sync::Arc;

use dm_client::session::{Initiation, Session, SessionConfig, Step};
use dm_protocol::codec::{self, DecodeOptions, Encoding};
use dm_server::endpoint::DmRequest;
use dm_server::faults::ServerFaults;
use dm_server::model::{Device, JobSpec, JobState};
use dm_server::service::{DmService, ServiceConfig};
use dm_server::store::Store;
use dm_tree::standard::{install, put_account, Account, DeviceIdentity};
use dm_tree::{ManualClock, NoHooks, Tree, TreeConfig};

const URL: &str = "http://127.0.0.1:1/dm";

fn service(dir: &std::path::Path, clock: ManualClock) -> (Arc<DmService>, Store) {
    let store = Store::open(dir).unwrap();
    for id in ["IMEI:A", "IMEI:B"] {
        store
            .add_device(&Device {
                dev_id: id.into(),
                server_id: "srvA".into(),
                client_auth: None,
                server_auth: None,
                notify: vec![],
            })
            .unwrap();
        let get: JobSpec = serde_json::from_value(serde_json::json!({"commands": [
            {"Command": "Get", "CmdID": "0", "Items": [{"Target": {"LocURI": "./DevInfo/Man"}}]}
        ]}))
        .unwrap();
        store.add_job(id, &get, 0).unwrap();
    }
    let svc = DmService::new(
        store.clone(),
        ServiceConfig {
            server_uri: URL.into(),
            max_msg_size: None,
            max_obj_size: None,
            faults: ServerFaults::default(),
            idle_timeout_secs: 60,
            seed: Some(7),
        },
        Arc::new(clock),
    )
    .unwrap();
    (Arc::new(svc), store)
}

fn device(dev_id: &str) -> (Tree, Session) {
    let mut t = Tree::with_clock(TreeConfig::default(), Arc::new(ManualClock::at(1)));
    install(
        &mut t,
        &DeviceIdentity {
            dev_id: dev_id.into(),
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
            addr: URL.into(),
            aauth_pref: String::new(),
            auth: vec![],
        },
    )
    .unwrap();
    let s = Session::new(SessionConfig {
        session_id: format!("S{dev_id}"),
        server_uri: URL.into(),
        server_id: "srvA".into(),
        initiation: Initiation::Client,
        client_auth: None,
        server_auth: None,
        max_msg_size: None,
        max_obj_size: None,
        alerts: vec![],
        seed: 1,
        faults: Default::default(),
    });
    (t, s)
}

async fn post(svc: &DmService, bytes: Vec<u8>, content_type: &str) -> Vec<u8> {
    let r = svc
        .handle(DmRequest {
            target: "/dm".into(),
            content_type: Some(content_type.into()),
            hmac: None,
            body: bytes,
            peer: "127.0.0.1:9".parse().unwrap(),
        })
        .await;
    assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
    r.body
}

/// The client's next message for the server's `answer`.
fn next(tree: &mut Tree, client: &mut Session, answer: &[u8]) -> Option<Vec<u8>> {
    let m = codec::decode(answer, DecodeOptions::LENIENT)
        .unwrap()
        .message;
    match client.handle(tree, &m, &mut NoHooks) {
        Step::Send(m) => Some(codec::encode(&m, Encoding::Xml).unwrap()),
        Step::Finished(_) => None,
    }
}

#[tokio::test]
async fn interleaved_devices_leniency_and_reaping() {
    let tmp = tempfile::tempdir().unwrap();
    let clock = ManualClock::at(1_000);
    let (svc, store) = service(tmp.path(), clock.clone());
    let (mut ta, mut a) = device("IMEI:A");
    let (mut tb, mut b) = device("IMEI:B");
    // A's package 1 with the SyncML DS Content-Type (a real-client quirk, facts §1.1).
    let a1 = codec::encode(&a.start(&mut ta), Encoding::Xml).unwrap();
    let a2 = post(&svc, a1, "application/vnd.syncml+xml").await;
    // B starts and finishes its whole session while A's is open.
    let mut msg = codec::encode(&b.start(&mut tb), Encoding::Xml).unwrap();
    loop {
        let answer = post(&svc, msg, "application/vnd.syncml.dm+xml").await;
        match next(&mut tb, &mut b, &answer) {
            Some(m) => msg = m,
            None => break,
        }
    }
    let jobs_b = store.jobs("IMEI:B").unwrap();
    assert_eq!(jobs_b[0].state, JobState::Done);
    // A's package 2 carried its Get; A then goes silent past the idle timeout.
    assert_eq!(store.jobs("IMEI:A").unwrap()[0].state, JobState::Sent);
    assert!(next(&mut ta, &mut a, &a2).is_some());
    clock.advance(61);
    assert_eq!(svc.reap().await.unwrap(), 1);
    let job_a = &store.jobs("IMEI:A").unwrap()[0];
    assert_eq!(job_a.state, JobState::Interrupted, "queued again");
    let session = store.session("IMEI:A", "SIMEI:A").unwrap();
    assert_eq!(session.end.as_deref(), Some("timed out"));
    assert!(
        session.transcript[0]
            .violations
            .iter()
            .any(|v| v.contains("leniency: Content-Type \"application/vnd.syncml+xml\"")),
        "{:?}",
        session.transcript[0].violations
    );
    // B's session was not touched by any of it.
    let session_b = store.session("IMEI:B", "SIMEI:B").unwrap();
    assert_eq!(session_b.end.as_deref(), Some("completed"));
    assert!(session_b.transcript[0].violations.is_empty());
}

/// A job whose Replace carries a character XML cannot hold (U+0001): our reply cannot be
/// encoded, so the device gets HTTP 500 (never a 200 with an empty DM body) and the job is
/// queued again.
#[tokio::test]
async fn an_unencodable_reply_is_a_500_and_the_job_waits() {
    let tmp = tempfile::tempdir().unwrap();
    let clock = ManualClock::at(1_000);
    let store = Store::open(tmp.path()).unwrap();
    store
        .add_device(&Device {
            dev_id: "IMEI:A".into(),
            server_id: "srvA".into(),
            client_auth: None,
            server_auth: None,
            notify: vec![],
        })
        .unwrap();
    let bad: JobSpec = serde_json::from_value(serde_json::json!({"commands": [
        {"Command": "Replace", "CmdID": "0", "Items": [
            {"Target": {"LocURI": "./DMAcc/srvA/Name"}, "Data": {"text": "a\u{1}b"}}
        ]}
    ]}))
    .unwrap();
    let job = store.add_job("IMEI:A", &bad, 0).unwrap();
    let svc = DmService::new(
        store.clone(),
        ServiceConfig {
            server_uri: URL.into(),
            max_msg_size: None,
            max_obj_size: None,
            faults: ServerFaults::default(),
            idle_timeout_secs: 60,
            seed: Some(7),
        },
        Arc::new(clock),
    )
    .unwrap();
    let (mut ta, mut a) = device("IMEI:A");
    let p1 = codec::encode(&a.start(&mut ta), Encoding::Xml).unwrap();
    let r = svc
        .handle(DmRequest {
            target: "/dm".into(),
            content_type: Some("application/vnd.syncml.dm+xml".into()),
            hmac: None,
            body: p1,
            peer: "127.0.0.1:9".parse().unwrap(),
        })
        .await;
    assert_eq!(r.status, 500, "{}", String::from_utf8_lossy(&r.body));
    assert!(
        !String::from_utf8_lossy(&r.body).contains("U+"),
        "no internals"
    );
    assert_ne!(store.job(job.id).unwrap().state, JobState::Done);
}

#[tokio::test]
async fn a_device_request_alert_gets_its_scomo_job_in_the_same_session() {
    // SCOMO-OSR-Device-XX: the device asks for an install in package 1; package 2 already
    // carries the Download node and the DownloadInstall Exec of the newest package.
    let dir = tempfile::tempdir().unwrap();
    let (svc, store) = service(dir.path(), ManualClock::at(1));
    let (o, _) = dm_protocol::swpkg::Originator::generate("dm-server").unwrap();
    dm_server::packages::publish(
        &store,
        &o,
        &dm_server::packages::PackageUpload {
            pkg_id: "av-2".into(),
            name: "Antivirus".into(),
            version: "2".into(),
            pkg_type: None,
            targets: vec![dm_server::packages::PackageTarget {
                dev_id: Some("IMEI:A".into()),
                model: None,
            }],
            payload: dm_protocol::auth::b64(b"x"),
        },
        1,
    )
    .unwrap();
    let (mut tree, _) = device("IMEI:A");
    let mut client = Session::new(SessionConfig {
        session_id: "SR".into(),
        server_uri: URL.into(),
        server_id: "srvA".into(),
        initiation: Initiation::Client,
        client_auth: None,
        server_auth: None,
        max_msg_size: None,
        max_obj_size: None,
        alerts: vec![dm_protocol::model::Alert {
            cmd_id: "0".into(),
            code: Some(dm_protocol::codes::AlertCode::from_u16(1226)),
            items: vec![dm_protocol::model::Item {
                meta: Some(dm_protocol::model::Meta {
                    type_: Some(dm_server::packages::DEVICE_REQUEST_TYPE.into()),
                    format: Some("xml".into()),
                    ..Default::default()
                }),
                data: Some(dm_protocol::model::Data::Text(
                    "<Operation>install</Operation><Name>Antivirus</Name>".into(),
                )),
                ..Default::default()
            }],
            ..Default::default()
        }],
        seed: 1,
        faults: Default::default(),
    });
    let first = codec::encode(&client.start(&mut tree), Encoding::Xml).unwrap();
    let answer = post(&svc, first, "application/vnd.syncml.dm+xml").await;
    let text = String::from_utf8_lossy(&answer);
    assert!(
        text.contains("./SCOMO/Download/antivirus/Operations/DownloadInstall"),
        "{text}"
    );
    assert!(text.contains("/content/packages/av-2.dmpkg"), "{text}");
    let jobs = store.jobs("IMEI:A").unwrap();
    assert!(jobs.iter().any(|j| j.state == JobState::Sent), "{jobs:?}");
}
