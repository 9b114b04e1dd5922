//! The SQLite store: every record kind, the job life cycle, atomicity, persistence across a
//! reopen and across an unclean stop.

use std::collections::BTreeMap;
use std::path::Path;

use dm_server::model::{
    AlertItem, AlertRecord, AuthKind, Device, DeviceState, Direction, JobResult, JobSpec, JobState,
    JobStatus, JobUpdate, NotifyAddress, NotifyTransport, Secret, TranscriptEntry,
};
use dm_server::store::{check_transition, SessionChanges, Store, StoreError, DB_FILE};

type R = Result<(), Box<dyn std::error::Error>>;

fn device(dev_id: &str) -> Device {
    Device {
        dev_id: dev_id.into(),
        server_id: "dms.example.com".into(),
        client_auth: Some(Secret {
            kind: AuthKind::Md5,
            name: "dev".into(),
            secret: "devpass".into(),
        }),
        server_auth: Some(Secret {
            kind: AuthKind::Md5,
            name: "dms.example.com".into(),
            secret: "srvpass".into(),
        }),
        notify: vec![NotifyAddress {
            transport: NotifyTransport::Udp,
            address: "127.0.0.1:2948".into(),
        }],
    }
}

fn spec(json: &str) -> JobSpec {
    serde_json::from_str(json).unwrap_or_else(|e| panic!("test job spec {json}: {e}"))
}

const GET_SPEC: &str = r#"{"commands": [
    {"Command": "Get", "CmdID": "1", "Items": [{"Target": {"LocURI": "./DevInfo/Mod"}}]},
    {"Command": "Replace", "CmdID": "2",
     "Items": [{"Target": {"LocURI": "./Vendor/X"}, "Data": {"text": "1"}}]}
]}"#;

const EXEC_SPEC: &str = r#"{"commands": [
    {"Command": "Exec", "CmdID": "1", "Correlator": "c-42",
     "Items": [{"Target": {"LocURI": "./FUMO/Pkg/Update"}}]}
]}"#;

fn status(command: &str, cmd: &str, code: u16) -> JobStatus {
    JobStatus {
        command: command.into(),
        cmd: cmd.into(),
        code,
        target_refs: vec![],
        source_refs: vec![],
        items: vec![],
        note: None,
    }
}

fn alert(dev_id: &str, session_id: &str, code: u16, correlator: Option<&str>) -> AlertRecord {
    AlertRecord {
        dev_id: dev_id.into(),
        session_id: session_id.into(),
        at: 1000,
        code,
        correlator: correlator.map(str::to_string),
        items: vec![AlertItem {
            type_: Some("org.openmobilealliance.dm.firmwareupdate.update".into()),
            format: Some("int".into()),
            data: Some("200".into()),
            ..AlertItem::default()
        }],
    }
}

fn entry(direction: Direction, text: &str) -> TranscriptEntry {
    TranscriptEntry {
        direction,
        time: 7,
        encoding: "xml".into(),
        bytes_b64: dm_protocol::auth::b64(text.as_bytes()),
        xml: Some(text.into()),
        violations: vec![],
    }
}

fn open(dir: &Path) -> Store {
    Store::open(dir).unwrap_or_else(|e| panic!("open {}: {e}", dir.display()))
}

#[test]
fn store_is_clone_send_sync() {
    fn check<T: Clone + Send + Sync + 'static>() {}
    check::<Store>();
}

#[test]
fn open_creates_the_directory_and_the_wal_database() -> R {
    let tmp = tempfile::tempdir()?;
    let dir = tmp.path().join("nested").join("data");
    let store = open(&dir);
    assert_eq!(store.path(), dir.join(DB_FILE));
    assert!(dir.join(DB_FILE).is_file());
    store.add_device(&device("IMEI:1"))?;
    // WAL mode: committed pages sit in the -wal file until a checkpoint.
    assert!(dir.join(format!("{DB_FILE}-wal")).is_file());
    let conn = rusqlite::Connection::open(dir.join(DB_FILE))?;
    let mode: String = conn.query_row("PRAGMA journal_mode", [], |r| r.get(0))?;
    assert_eq!(mode, "wal");
    let version: i64 =
        conn.query_row("SELECT max(version) FROM schema_version", [], |r| r.get(0))?;
    assert_eq!(version, dm_server::store::SCHEMA_VERSION);
    Ok(())
}

#[test]
fn a_database_of_a_newer_schema_is_refused() -> R {
    let tmp = tempfile::tempdir()?;
    drop(open(tmp.path()));
    let conn = rusqlite::Connection::open(tmp.path().join(DB_FILE))?;
    conn.execute("INSERT INTO schema_version (version) VALUES (99)", [])?;
    drop(conn);
    match Store::open(tmp.path()) {
        Err(StoreError::SchemaTooNew {
            found, supported, ..
        }) => {
            assert_eq!((found, supported), (99, dm_server::store::SCHEMA_VERSION));
        }
        other => panic!("expected SchemaTooNew, got {other:?}"),
    }
    Ok(())
}

#[test]
fn a_file_that_is_not_a_database_is_a_typed_error() -> R {
    let tmp = tempfile::tempdir()?;
    std::fs::write(
        tmp.path().join(DB_FILE),
        b"this is not an SQLite database, just text....",
    )?;
    let err = Store::open(tmp.path()).err().ok_or("opened a text file")?;
    assert!(
        matches!(err, StoreError::Open { .. } | StoreError::Sql { .. }),
        "{err:?}"
    );
    assert!(err.to_string().contains(DB_FILE), "{err}");
    Ok(())
}

#[test]
fn devices_are_registered_once_listed_in_order_updated_and_deleted() -> R {
    let tmp = tempfile::tempdir()?;
    let store = open(tmp.path());
    store.add_device(&device("IMEI:2"))?;
    store.add_device(&device("IMEI:1"))?;
    match store.add_device(&device("IMEI:2")) {
        Err(StoreError::DeviceExists { dev_id }) => assert_eq!(dev_id, "IMEI:2"),
        other => panic!("expected DeviceExists, got {other:?}"),
    }
    let ids: Vec<String> = store.devices()?.into_iter().map(|d| d.dev_id).collect();
    assert_eq!(ids, ["IMEI:2", "IMEI:1"], "registration order");
    assert_eq!(store.device("IMEI:1")?, device("IMEI:1"));

    let mut changed = device("IMEI:1");
    changed.server_id = "other.example.com".into();
    changed.notify.clear();
    store.update_device(&changed)?;
    assert_eq!(store.device("IMEI:1")?, changed);
    assert!(matches!(
        store.update_device(&device("IMEI:9")),
        Err(StoreError::UnknownDevice { .. })
    ));

    store.delete_device("IMEI:2")?;
    assert!(
        matches!(store.device("IMEI:2"), Err(StoreError::UnknownDevice { dev_id }) if dev_id == "IMEI:2")
    );
    assert!(matches!(
        store.delete_device("IMEI:2"),
        Err(StoreError::UnknownDevice { .. })
    ));
    assert_eq!(store.devices()?.len(), 1);
    Ok(())
}

#[test]
fn invalid_devices_are_refused_with_the_reason() -> R {
    let tmp = tempfile::tempdir()?;
    let store = open(tmp.path());
    let mut d = device(" ");
    assert!(
        matches!(store.add_device(&d), Err(StoreError::InvalidDevice { reason }) if reason.contains("dev_id"))
    );
    d.dev_id = "IMEI:1".into();
    d.server_id = "x".repeat(256);
    assert!(
        matches!(store.add_device(&d), Err(StoreError::InvalidDevice { reason }) if reason.contains("255"))
    );
    d.server_id = "s".into();
    d.notify[0].address = String::new();
    assert!(
        matches!(store.add_device(&d), Err(StoreError::InvalidDevice { reason }) if reason.contains("Udp"))
    );
    assert!(store.devices()?.is_empty());
    Ok(())
}

#[test]
fn device_state_defaults_then_keeps_what_was_saved() -> R {
    let tmp = tempfile::tempdir()?;
    let store = open(tmp.path());
    store.add_device(&device("IMEI:1"))?;
    assert_eq!(store.device_state("IMEI:1")?, DeviceState::default());
    let state = DeviceState {
        client_nonce: vec![0, 1, 2, 255],
        server_nonce: b"srv".to_vec(),
        used_client_nonces: vec!["AAEC/w==".into()],
        devinfo: BTreeMap::from([("Man".to_string(), "Acme".to_string())]),
    };
    store.set_device_state("IMEI:1", &state)?;
    assert_eq!(store.device_state("IMEI:1")?, state);
    assert!(matches!(
        store.set_device_state("IMEI:9", &state),
        Err(StoreError::UnknownDevice { .. })
    ));
    assert!(matches!(
        store.device_state("IMEI:9"),
        Err(StoreError::UnknownDevice { .. })
    ));
    Ok(())
}

#[test]
fn jobs_are_queued_in_order_per_device() -> R {
    let tmp = tempfile::tempdir()?;
    let store = open(tmp.path());
    store.add_device(&device("IMEI:1"))?;
    store.add_device(&device("IMEI:2"))?;
    let a = store.add_job("IMEI:1", &spec(GET_SPEC), 100)?;
    let b = store.add_job("IMEI:2", &spec(EXEC_SPEC), 101)?;
    let c = store.add_job("IMEI:1", &spec(EXEC_SPEC), 102)?;
    assert!(a.id < b.id && b.id < c.id);
    assert_eq!(a.state, JobState::Queued);
    assert_eq!((a.created_at, a.updated_at), (100, 100));
    assert_eq!(a.spec, spec(GET_SPEC));
    assert!(a.session_id.is_none() && a.statuses.is_empty());
    let ids: Vec<u64> = store.jobs("IMEI:1")?.iter().map(|j| j.id).collect();
    assert_eq!(ids, [a.id, c.id]);
    assert_eq!(store.pending_jobs("IMEI:1")?, vec![a.clone(), c.clone()]);
    assert_eq!(store.job(b.id)?, b);
    assert!(matches!(
        store.job(9999),
        Err(StoreError::UnknownJob { id: 9999 })
    ));
    assert!(matches!(
        store.add_job("IMEI:9", &spec(GET_SPEC), 1),
        Err(StoreError::UnknownDevice { .. })
    ));
    assert!(matches!(
        store.jobs("IMEI:9"),
        Err(StoreError::UnknownDevice { .. })
    ));
    Ok(())
}

#[test]
fn jobs_without_commands_or_with_answers_are_refused() -> R {
    let tmp = tempfile::tempdir()?;
    let store = open(tmp.path());
    store.add_device(&device("IMEI:1"))?;
    let empty = store.add_job("IMEI:1", &spec(r#"{"commands": []}"#), 1);
    assert!(matches!(empty, Err(StoreError::InvalidJob { reason }) if reason.contains("empty")));
    let nested_status = spec(
        r#"{"commands": [{"Command": "Atomic", "CmdID": "1", "Commands": [
            {"Command": "Replace", "CmdID": "2", "Items": [{"Target": {"LocURI": "./A"}}]},
            {"Command": "Status", "CmdID": "3", "MsgRef": "1", "CmdRef": "1", "Cmd": "Get", "Data": 200}
        ]}]}"#,
    );
    match store.add_job("IMEI:1", &nested_status, 1) {
        Err(StoreError::InvalidJob { reason }) => {
            assert!(reason.contains("command 1.2 is a Status"), "{reason}");
        }
        other => panic!("expected InvalidJob, got {other:?}"),
    }
    assert!(store.jobs("IMEI:1")?.is_empty());
    Ok(())
}

#[test]
fn only_queued_or_interrupted_jobs_can_be_cancelled() -> R {
    let tmp = tempfile::tempdir()?;
    let store = open(tmp.path());
    store.add_device(&device("IMEI:1"))?;
    let a = store.add_job("IMEI:1", &spec(GET_SPEC), 1)?;
    let b = store.add_job("IMEI:1", &spec(GET_SPEC), 1)?;
    let cancelled = store.cancel_job(a.id, 5)?;
    assert_eq!(
        (cancelled.state, cancelled.updated_at),
        (JobState::Cancelled, 5)
    );
    assert_eq!(store.job(a.id)?.state, JobState::Cancelled);
    assert!(matches!(
        store.cancel_job(a.id, 6),
        Err(StoreError::NotCancellable {
            state: JobState::Cancelled,
            ..
        })
    ));
    store.apply_job_updates(
        &[JobUpdate::Sent {
            job: b.id,
            session_id: "1".into(),
        }],
        7,
    )?;
    match store.cancel_job(b.id, 8) {
        Err(
            e @ StoreError::NotCancellable {
                state: JobState::Sent,
                ..
            },
        ) => {
            assert!(e.to_string().contains("only queued or interrupted"), "{e}");
        }
        other => panic!("expected NotCancellable, got {other:?}"),
    }
    assert!(store.pending_jobs("IMEI:1")?.is_empty());
    store.interrupt_jobs("IMEI:1", "1", 9)?;
    assert_eq!(store.cancel_job(b.id, 10)?.state, JobState::Cancelled);
    assert!(matches!(
        store.cancel_job(77, 1),
        Err(StoreError::UnknownJob { id: 77 })
    ));
    Ok(())
}

#[test]
fn sent_status_result_done() -> R {
    let tmp = tempfile::tempdir()?;
    let store = open(tmp.path());
    store.add_device(&device("IMEI:1"))?;
    let job = store.add_job("IMEI:1", &spec(GET_SPEC), 1)?;
    store.apply_job_updates(
        &[JobUpdate::Sent {
            job: job.id,
            session_id: "A1".into(),
        }],
        2,
    )?;
    let sent = store.job(job.id)?;
    assert_eq!(sent.state, JobState::Sent);
    assert_eq!(sent.session_id.as_deref(), Some("A1"));
    assert_eq!(sent.updated_at, 2);
    assert!(
        store.pending_jobs("IMEI:1")?.is_empty(),
        "a sent job is not pending"
    );
    let result = JobResult {
        command: "1".into(),
        source: Some("./DevInfo/Mod".into()),
        format: Some("chr".into()),
        type_: None,
        data: "X1".into(),
    };
    store.apply_job_updates(
        &[
            JobUpdate::Status {
                job: job.id,
                status: status("1", "Get", 200),
            },
            JobUpdate::Result {
                job: job.id,
                result: result.clone(),
            },
            JobUpdate::Status {
                job: job.id,
                status: status("2", "Replace", 200),
            },
            JobUpdate::State {
                job: job.id,
                state: JobState::Done,
            },
        ],
        3,
    )?;
    let done = store.job(job.id)?;
    assert_eq!(done.state, JobState::Done);
    assert_eq!(
        done.statuses,
        vec![status("1", "Get", 200), status("2", "Replace", 200)]
    );
    assert_eq!(done.results, vec![result]);
    assert_eq!((done.created_at, done.updated_at), (1, 3));
    // Done is final.
    let again = store.apply_job_updates(
        &[JobUpdate::State {
            job: job.id,
            state: JobState::Interrupted,
        }],
        4,
    );
    assert!(matches!(
        again,
        Err(StoreError::InvalidUpdate {
            state: JobState::Done,
            ..
        })
    ));
    Ok(())
}

#[test]
fn an_interrupted_job_is_queued_again_and_its_next_attempt_starts_clean() -> R {
    let tmp = tempfile::tempdir()?;
    let store = open(tmp.path());
    store.add_device(&device("IMEI:1"))?;
    let first = store.add_job("IMEI:1", &spec(GET_SPEC), 1)?;
    let other_session = store.add_job("IMEI:1", &spec(GET_SPEC), 1)?;
    store.apply_job_updates(
        &[
            JobUpdate::Sent {
                job: first.id,
                session_id: "10".into(),
            },
            JobUpdate::Status {
                job: first.id,
                status: status("1", "Get", 200),
            },
            JobUpdate::Sent {
                job: other_session.id,
                session_id: "11".into(),
            },
        ],
        2,
    )?;
    let interrupted = store.interrupt_jobs("IMEI:1", "10", 3)?;
    assert_eq!(
        interrupted,
        vec![first.id],
        "only the jobs of the ended session"
    );
    assert_eq!(store.job(other_session.id)?.state, JobState::Sent);
    let pending = store.pending_jobs("IMEI:1")?;
    assert_eq!(pending.len(), 1);
    assert_eq!(pending[0].id, first.id);
    assert_eq!(pending[0].state, JobState::Interrupted);
    assert_eq!(
        pending[0].statuses.len(),
        1,
        "statuses of the attempt stay visible"
    );

    store.apply_job_updates(
        &[JobUpdate::Sent {
            job: first.id,
            session_id: "12".into(),
        }],
        4,
    )?;
    let resent = store.job(first.id)?;
    assert_eq!(resent.state, JobState::Sent);
    assert_eq!(resent.session_id.as_deref(), Some("12"));
    assert!(
        resent.statuses.is_empty(),
        "a new attempt starts without old statuses"
    );
    assert!(
        store.interrupt_jobs("IMEI:1", "10", 5)?.is_empty(),
        "nothing left in session 10"
    );
    Ok(())
}

#[test]
fn waiting_exec_completes_with_its_generic_alert() -> R {
    let tmp = tempfile::tempdir()?;
    let store = open(tmp.path());
    store.add_device(&device("IMEI:1"))?;
    let job = store.add_job("IMEI:1", &spec(EXEC_SPEC), 1)?;
    store.apply_job_updates(
        &[
            JobUpdate::Sent {
                job: job.id,
                session_id: "5".into(),
            },
            JobUpdate::Status {
                job: job.id,
                status: status("1", "Exec", 202),
            },
            JobUpdate::State {
                job: job.id,
                state: JobState::Waiting,
            },
        ],
        2,
    )?;
    // The session ends: a Waiting job is not interrupted (its completion comes later,
    // facts §3.5).
    assert!(store.interrupt_jobs("IMEI:1", "5", 3)?.is_empty());
    assert_eq!(store.job(job.id)?.state, JobState::Waiting);
    assert!(store.pending_jobs("IMEI:1")?.is_empty());
    let completion = alert("IMEI:1", "6", 1226, Some("c-42"));
    store.apply_job_updates(
        &[
            JobUpdate::Completion {
                job: job.id,
                alert: completion.clone(),
            },
            JobUpdate::State {
                job: job.id,
                state: JobState::Done,
            },
        ],
        4,
    )?;
    let done = store.job(job.id)?;
    assert_eq!(done.state, JobState::Done);
    assert_eq!(done.completions, vec![completion.clone()]);
    assert_eq!(done.statuses, vec![status("1", "Exec", 202)]);
    // A repeated completion (reported at least once) is still recorded.
    store.apply_job_updates(
        &[JobUpdate::Completion {
            job: job.id,
            alert: completion,
        }],
        5,
    )?;
    assert_eq!(store.job(job.id)?.completions.len(), 2);
    Ok(())
}

#[test]
fn a_failing_update_batch_changes_nothing() -> R {
    let tmp = tempfile::tempdir()?;
    let store = open(tmp.path());
    store.add_device(&device("IMEI:1"))?;
    let job = store.add_job("IMEI:1", &spec(GET_SPEC), 1)?;
    let before = store.job(job.id)?;
    let batch = [
        JobUpdate::Sent {
            job: job.id,
            session_id: "1".into(),
        },
        JobUpdate::Status {
            job: job.id,
            status: status("1", "Get", 200),
        },
        JobUpdate::State {
            job: 4242,
            state: JobState::Done,
        },
    ];
    assert!(matches!(
        store.apply_job_updates(&batch, 2),
        Err(StoreError::UnknownJob { id: 4242 })
    ));
    assert_eq!(store.job(job.id)?, before);
    // Moves the life cycle does not have.
    for bad in [
        JobUpdate::Status {
            job: job.id,
            status: status("1", "Get", 200),
        },
        JobUpdate::State {
            job: job.id,
            state: JobState::Done,
        },
        JobUpdate::State {
            job: job.id,
            state: JobState::Sent,
        },
        JobUpdate::Completion {
            job: job.id,
            alert: alert("IMEI:1", "1", 1226, None),
        },
    ] {
        match store.apply_job_updates(std::slice::from_ref(&bad), 3) {
            Err(StoreError::InvalidUpdate {
                id,
                state: JobState::Queued,
                ..
            }) => {
                assert_eq!(id, job.id);
            }
            other => panic!("{bad:?} on a queued job: expected InvalidUpdate, got {other:?}"),
        }
    }
    assert_eq!(store.job(job.id)?, before);
    Ok(())
}

#[test]
fn transitions_follow_the_life_cycle() {
    use JobState::*;
    let all = [Queued, Sent, Waiting, Done, Interrupted, Cancelled];
    let allowed = [
        (Queued, Cancelled),
        (Interrupted, Cancelled),
        (Sent, Waiting),
        (Sent, Done),
        (Sent, Interrupted),
        (Waiting, Done),
    ];
    for from in all {
        for to in all {
            let expected = from == to || allowed.contains(&(from, to));
            assert_eq!(check_transition(from, to), expected, "{from:?} -> {to:?}");
        }
    }
}

#[test]
fn session_changes_are_saved_together_or_not_at_all() -> R {
    let tmp = tempfile::tempdir()?;
    let store = open(tmp.path());
    store.add_device(&device("IMEI:1"))?;
    let done = store.add_job("IMEI:1", &spec(GET_SPEC), 1)?;
    let cut = store.add_job("IMEI:1", &spec(GET_SPEC), 1)?;
    let state = DeviceState {
        client_nonce: b"next".to_vec(),
        ..DeviceState::default()
    };
    let mut changes = SessionChanges {
        dev_id: "IMEI:1".into(),
        state: Some(state.clone()),
        jobs: vec![
            JobUpdate::Sent {
                job: done.id,
                session_id: "S".into(),
            },
            JobUpdate::Sent {
                job: cut.id,
                session_id: "S".into(),
            },
            JobUpdate::Status {
                job: done.id,
                status: status("1", "Get", 200),
            },
            JobUpdate::State {
                job: done.id,
                state: JobState::Done,
            },
        ],
        alerts: vec![alert("IMEI:2", "S", 1224, None)],
        ended_session: Some("S".into()),
    };
    // An alert of another device: nothing is saved.
    assert!(matches!(
        store.commit_session_changes(&changes, 2),
        Err(StoreError::ForeignAlert { .. })
    ));
    assert_eq!(store.device_state("IMEI:1")?, DeviceState::default());
    assert_eq!(store.job(done.id)?.state, JobState::Queued);
    assert!(store.all_alerts()?.is_empty());

    changes.alerts = vec![alert("IMEI:1", "S", 1224, None)];
    let interrupted = store.commit_session_changes(&changes, 2)?;
    assert_eq!(interrupted, vec![cut.id]);
    assert_eq!(store.device_state("IMEI:1")?, state);
    assert_eq!(store.job(done.id)?.state, JobState::Done);
    assert_eq!(store.job(cut.id)?.state, JobState::Interrupted);
    assert_eq!(store.alerts("IMEI:1")?, changes.alerts);
    Ok(())
}

#[test]
fn alerts_are_kept_newest_last_per_device_and_overall() -> R {
    let tmp = tempfile::tempdir()?;
    let store = open(tmp.path());
    store.add_device(&device("IMEI:1"))?;
    store.add_device(&device("IMEI:2"))?;
    let a1 = alert("IMEI:1", "1", 1226, Some("x"));
    let b1 = alert("IMEI:2", "1", 1224, None);
    let a2 = alert("IMEI:1", "2", 1226, None);
    for a in [&a1, &b1, &a2] {
        store.add_alert(a)?;
    }
    assert_eq!(store.alerts("IMEI:1")?, vec![a1.clone(), a2.clone()]);
    assert_eq!(store.alerts("IMEI:2")?, vec![b1.clone()]);
    assert_eq!(store.all_alerts()?, vec![a1, b1, a2]);
    assert!(matches!(
        store.add_alert(&alert("IMEI:9", "1", 1226, None)),
        Err(StoreError::UnknownDevice { .. })
    ));
    assert!(matches!(
        store.alerts("IMEI:9"),
        Err(StoreError::UnknownDevice { .. })
    ));
    Ok(())
}

#[test]
fn sessions_record_transcripts_and_their_end() -> R {
    let tmp = tempfile::tempdir()?;
    let store = open(tmp.path());
    store.add_device(&device("IMEI:1"))?;
    store.start_session("IMEI:1", "1A2B", 100)?;
    store.append_transcript("IMEI:1", "1A2B", &entry(Direction::Received, "<pkg1/>"))?;
    store.append_transcript("IMEI:1", "1A2B", &entry(Direction::Sent, "<pkg2/>"))?;
    let open_session = store.session("IMEI:1", "1A2B")?;
    assert_eq!(open_session.started_at, 100);
    assert_eq!(
        (open_session.ended_at, open_session.end.as_deref()),
        (None, None)
    );
    assert_eq!(
        open_session.transcript,
        vec![
            entry(Direction::Received, "<pkg1/>"),
            entry(Direction::Sent, "<pkg2/>")
        ]
    );
    store.end_session("IMEI:1", "1A2B", 105, "completed")?;
    assert!(matches!(
        store.end_session("IMEI:1", "1A2B", 106, "again"),
        Err(StoreError::SessionEnded { .. })
    ));
    let ended = store.session("IMEI:1", "1A2B")?;
    assert_eq!(
        (ended.ended_at, ended.end.as_deref()),
        (Some(105), Some("completed"))
    );

    // The SessionID comes again later: the latest session answers to it.
    store.start_session("IMEI:1", "1A2B", 200)?;
    store.append_transcript("IMEI:1", "1A2B", &entry(Direction::Received, "<again/>"))?;
    let latest = store.session("IMEI:1", "1A2B")?;
    assert_eq!(latest.started_at, 200);
    assert_eq!(latest.transcript.len(), 1);
    let list = store.sessions("IMEI:1")?;
    assert_eq!(list.len(), 2);
    assert_eq!(
        (list[0].started_at, list[0].messages, list[0].ended_at),
        (100, 2, Some(105))
    );
    assert_eq!(
        (list[1].started_at, list[1].messages, list[1].ended_at),
        (200, 1, None)
    );

    assert!(matches!(
        store.session("IMEI:1", "FFFF"),
        Err(StoreError::UnknownSession { .. })
    ));
    assert!(matches!(
        store.append_transcript("IMEI:1", "FFFF", &entry(Direction::Sent, "x")),
        Err(StoreError::UnknownSession { .. })
    ));
    assert!(matches!(
        store.start_session("IMEI:9", "1", 1),
        Err(StoreError::UnknownDevice { .. })
    ));
    Ok(())
}

#[test]
fn deleting_a_device_deletes_everything_of_it() -> R {
    let tmp = tempfile::tempdir()?;
    let store = open(tmp.path());
    store.add_device(&device("IMEI:1"))?;
    store.add_device(&device("IMEI:2"))?;
    let job = store.add_job("IMEI:1", &spec(GET_SPEC), 1)?;
    let kept = store.add_job("IMEI:2", &spec(GET_SPEC), 1)?;
    store.add_alert(&alert("IMEI:1", "1", 1226, None))?;
    store.add_alert(&alert("IMEI:2", "1", 1226, None))?;
    store.start_session("IMEI:1", "1", 1)?;
    store.append_transcript("IMEI:1", "1", &entry(Direction::Sent, "x"))?;
    store.delete_device("IMEI:1")?;
    assert!(matches!(
        store.job(job.id),
        Err(StoreError::UnknownJob { .. })
    ));
    assert_eq!(store.job(kept.id)?.dev_id, "IMEI:2");
    assert_eq!(store.all_alerts()?.len(), 1);
    // Registered again: a clean slate.
    store.add_device(&device("IMEI:1"))?;
    assert!(store.jobs("IMEI:1")?.is_empty());
    assert!(store.sessions("IMEI:1")?.is_empty());
    assert!(store.alerts("IMEI:1")?.is_empty());
    assert_eq!(store.device_state("IMEI:1")?, DeviceState::default());
    Ok(())
}

#[test]
fn content_blobs_are_stored_replaced_listed_and_deleted() -> R {
    let tmp = tempfile::tempdir()?;
    let store = open(tmp.path());
    store.put_content("fw/v2.bin", "application/octet-stream", &[0, 1, 2, 255], 10)?;
    store.put_content("a.txt", "text/plain", b"hello", 11)?;
    let blob = store.content("fw/v2.bin")?;
    assert_eq!(blob.bytes, [0, 1, 2, 255]);
    assert_eq!(blob.content_type, "application/octet-stream");
    store.put_content("a.txt", "text/markdown", b"bye!!!", 12)?;
    let list = store.contents()?;
    let summary: Vec<(&str, &str, u64, u64)> = list
        .iter()
        .map(|c| {
            (
                c.name.as_str(),
                c.content_type.as_str(),
                c.size,
                c.updated_at,
            )
        })
        .collect();
    assert_eq!(
        summary,
        [
            ("a.txt", "text/markdown", 6, 12),
            ("fw/v2.bin", "application/octet-stream", 4, 10)
        ]
    );
    store.delete_content("a.txt")?;
    assert!(matches!(
        store.content("a.txt"),
        Err(StoreError::UnknownContent { .. })
    ));
    assert!(matches!(
        store.delete_content("a.txt"),
        Err(StoreError::UnknownContent { .. })
    ));
    for bad in ["", "/abs", "a/../b", "a//b", "sp ace", "trail/", "ü"] {
        assert!(
            matches!(
                store.put_content(bad, "text/plain", b"x", 1),
                Err(StoreError::InvalidContentName { .. })
            ),
            "{bad:?} accepted"
        );
    }
    assert_eq!(store.contents()?.len(), 1);
    Ok(())
}

/// Fills a store with one of everything; returns the two job ids.
fn populate(store: &Store) -> Result<(u64, u64), StoreError> {
    store.add_device(&device("IMEI:1"))?;
    store.set_device_state(
        "IMEI:1",
        &DeviceState {
            server_nonce: vec![9, 8, 7],
            ..DeviceState::default()
        },
    )?;
    let a = store.add_job("IMEI:1", &spec(GET_SPEC), 1)?;
    let b = store.add_job("IMEI:1", &spec(EXEC_SPEC), 2)?;
    store.apply_job_updates(
        &[
            JobUpdate::Sent {
                job: b.id,
                session_id: "7".into(),
            },
            JobUpdate::Status {
                job: b.id,
                status: status("1", "Exec", 202),
            },
            JobUpdate::State {
                job: b.id,
                state: JobState::Waiting,
            },
        ],
        3,
    )?;
    store.add_alert(&alert("IMEI:1", "7", 1226, Some("c-42")))?;
    store.start_session("IMEI:1", "7", 3)?;
    store.append_transcript("IMEI:1", "7", &entry(Direction::Received, "<m/>"))?;
    store.end_session("IMEI:1", "7", 4, "completed")?;
    store.put_content("pkg.bin", "application/octet-stream", b"\x00payload", 5)?;
    Ok((a.id, b.id))
}

/// Everything a store holds about `IMEI:1`, for comparison.
fn snapshot(store: &Store) -> Result<String, StoreError> {
    Ok(format!(
        "{:?}|{:?}|{:?}|{:?}|{:?}|{:?}|{:?}|{:?}",
        store.devices()?,
        store.device_state("IMEI:1")?,
        store.jobs("IMEI:1")?,
        store.alerts("IMEI:1")?,
        store.sessions("IMEI:1")?,
        store.session("IMEI:1", "7")?,
        store.contents()?,
        store.content("pkg.bin")?,
    ))
}

#[test]
fn everything_is_there_after_a_reopen() -> R {
    let tmp = tempfile::tempdir()?;
    let store = open(tmp.path());
    let (a, _) = populate(&store)?;
    let before = snapshot(&store)?;
    drop(store);
    let reopened = open(tmp.path());
    assert_eq!(snapshot(&reopened)?, before);
    // Ids continue after the highest one.
    let next = reopened.add_job("IMEI:1", &spec(GET_SPEC), 9)?;
    assert!(next.id > a + 1);
    Ok(())
}

#[test]
fn an_unclean_stop_keeps_every_committed_change() -> R {
    // Copy the database files while the store is open and nothing was checkpointed: what a
    // process killed at that instant leaves behind. The copy must open with all committed
    // changes, and without the one that failed.
    let tmp = tempfile::tempdir()?;
    let live = tmp.path().join("live");
    let crashed = tmp.path().join("crashed");
    let store = open(&live);
    populate(&store)?;
    let failed = store.apply_job_updates(
        &[
            JobUpdate::State {
                job: 1,
                state: JobState::Cancelled,
            },
            JobUpdate::State {
                job: 999,
                state: JobState::Done,
            },
        ],
        6,
    );
    assert!(failed.is_err());
    let before = snapshot(&store)?;
    std::fs::create_dir_all(&crashed)?;
    for suffix in ["", "-wal"] {
        let name = format!("{DB_FILE}{suffix}");
        std::fs::copy(live.join(&name), crashed.join(&name))?;
    }
    let recovered = open(&crashed);
    assert_eq!(snapshot(&recovered)?, before);
    assert_eq!(recovered.job(1)?.state, JobState::Queued);
    drop(store);
    Ok(())
}

#[test]
fn clones_share_the_store_across_threads() -> R {
    let tmp = tempfile::tempdir()?;
    let store = open(tmp.path());
    store.add_device(&device("IMEI:1"))?;
    let handles: Vec<_> = (0..4)
        .map(|t| {
            let store = store.clone();
            std::thread::spawn(move || -> Result<Vec<u64>, StoreError> {
                (0..10)
                    .map(|i| {
                        store
                            .add_job("IMEI:1", &spec(GET_SPEC), t * 100 + i)
                            .map(|j| j.id)
                    })
                    .collect()
            })
        })
        .collect();
    let mut ids = Vec::new();
    for h in handles {
        ids.extend(h.join().map_err(|_| "thread panicked")??);
    }
    ids.sort_unstable();
    ids.dedup();
    assert_eq!(ids.len(), 40, "every job got its own id");
    assert_eq!(store.jobs("IMEI:1")?.len(), 40);
    Ok(())
}

/// What a live session may legitimately report after a job completed or was resent, and a
/// job the admin cancelled while a session had it: none of it fails the session's commit.
#[test]
fn late_statuses_resends_and_cancelled_jobs() -> R {
    let tmp = tempfile::tempdir()?;
    let store = open(tmp.path());
    store.add_device(&device("IMEI:1"))?;
    let job = store.add_job("IMEI:1", &spec(GET_SPEC), 1)?;
    let sent = |sid: &str| JobUpdate::Sent {
        job: job.id,
        session_id: sid.into(),
    };
    store.apply_job_updates(
        &[
            sent("S1"),
            JobUpdate::Status {
                job: job.id,
                status: status("1", "Get", 401),
            },
        ],
        2,
    )?;
    // Resent in the same session (our package again after the device refused our
    // credentials, facts §6.2): the first attempt's answers are dropped.
    store.apply_job_updates(&[sent("S1")], 3)?;
    assert!(store.job(job.id)?.statuses.is_empty());
    // …but not in another session while it is Sent there.
    assert!(store.apply_job_updates(&[sent("S2")], 3).is_err());
    // One Status per item (facts §1.4) and a repeat after Done are kept.
    store.apply_job_updates(
        &[
            JobUpdate::Status {
                job: job.id,
                status: status("1", "Get", 200),
            },
            JobUpdate::State {
                job: job.id,
                state: JobState::Done,
            },
            JobUpdate::Status {
                job: job.id,
                status: status("1", "Get", 200),
            },
        ],
        4,
    )?;
    let done = store.job(job.id)?;
    assert_eq!((done.state, done.statuses.len()), (JobState::Done, 2));
    // Cancelled while a session had it loaded: the session's news about it is dropped.
    let other = store.add_job("IMEI:1", &spec(GET_SPEC), 5)?;
    store.cancel_job(other.id, 6)?;
    store.apply_job_updates(
        &[JobUpdate::Sent {
            job: other.id,
            session_id: "S3".into(),
        }],
        7,
    )?;
    assert_eq!(store.job(other.id)?.state, JobState::Cancelled);
    Ok(())
}
