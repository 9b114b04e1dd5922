//! The server engine against the real client engine: package 1, jobs with their Statuses
//! and Results, nested commands, UI alerts, asynchronous Exec, session end (facts §1.4,
//! §2.1, §2.2, §2.6, §3.4, §3.5).
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod engine_common;

use std::sync::Arc;

use dm_client::session::{EndReason, Session};
use dm_client::ui::{UiHooks, UiPolicy};
use dm_protocol::codec::Encoding;
use dm_protocol::codes::{AlertCode, StatusCode};
use dm_protocol::model::{Alert, Command, Data, Item, Locator, Meta};
use dm_server::model::{DeviceState, JobState, JobUpdate};
use dm_server::session::{ManualClock, ServerSession};
use dm_tree::NoHooks;
use engine_common::*;
use rstest::rstest;

fn statuses(m: &dm_protocol::model::SyncMl) -> Vec<&dm_protocol::model::Status> {
    m.body
        .commands
        .iter()
        .filter_map(|c| match c {
            Command::Status(s) => Some(s),
            _ => None,
        })
        .collect()
}

/// facts §2.1, §1.4: package 2 answers the SyncHdr first (CmdRef 0, TargetRef/SourceRef
/// echo the header), then each device command with the right MsgRef/CmdRef; DevInfo is
/// stored; a Get job's Results are stored and the job is Done; the last message holds no
/// command, so the session ends on both sides (facts §2.2).
#[rstest]
#[case::xml(Encoding::Xml)]
#[case::wbxml(Encoding::Wbxml)]
fn plain_session_with_a_get_job(#[case] encoding: Encoding) {
    let mut tree = device();
    let mut client = Session::new(client_config());
    let mut server = ServerSession::new(
        setup(
            registered(),
            DeviceState::default(),
            vec![job(1, vec![get(&["./DevInfo/Man", "./DevInfo/DevId"])])],
        ),
        Arc::new(ManualClock::at(T0)),
    )
    .unwrap();
    let run = run(&mut tree, &mut client, &mut server, encoding, &mut NoHooks);
    assert_eq!(run.client_end, Some(EndReason::Completed));
    assert_eq!(run.server_end.as_deref(), Some("completed"));
    assert!(run.deviations.is_empty(), "{:?}", run.deviations);
    assert!(
        run.client_deviations.is_empty(),
        "{:?}",
        run.client_deviations
    );

    let p1 = run.device_msgs()[0];
    let p2 = run.server_msgs()[0];
    let st = statuses(p2);
    assert_eq!(st[0].cmd_ref, "0");
    assert_eq!(st[0].cmd, "SyncHdr");
    assert_eq!(st[0].msg_ref, p1.hdr.msg_id);
    assert_eq!(st[0].target_refs, vec![SRV.to_owned()]);
    assert_eq!(st[0].source_refs, vec![DEV.to_owned()]);
    assert_eq!(st[0].code, StatusCode::Ok);
    // One Status per device command, in order (Alert 1201, Replace DevInfo).
    let device_ids: Vec<&str> = p1.body.commands.iter().filter_map(|c| c.cmd_id()).collect();
    let refs: Vec<&str> = st[1..].iter().map(|s| s.cmd_ref.as_str()).collect();
    assert_eq!(refs, device_ids);
    assert_eq!(st[1].cmd, "Alert");
    assert_eq!(st[2].cmd, "Replace");
    assert!(st[1..].iter().all(|s| s.code == StatusCode::Ok));
    assert!(p2.body.final_);
    assert_eq!(p2.hdr.session_id, "7F");
    assert_eq!(p2.hdr.target.loc_uri, DEV);

    let state = run.state.as_ref().unwrap();
    assert_eq!(state.devinfo.get("DevId").map(String::as_str), Some(DEV));
    assert_eq!(state.devinfo.get("Man").map(String::as_str), Some("Acme"));

    let results = run.job_results(1);
    assert_eq!(results.len(), 2);
    assert_eq!(results[0].command, "1");
    assert_eq!(results[0].source.as_deref(), Some("./DevInfo/Man"));
    assert_eq!(results[0].data, "Acme");
    assert_eq!(results[1].data, DEV);
    assert!(run
        .job_statuses(1)
        .iter()
        .all(|(p, c)| p == "1" && *c == 200));
    assert_eq!(run.job_state(1), Some(JobState::Done));
    assert!(run
        .updates
        .iter()
        .any(|u| matches!(u, JobUpdate::Sent { job: 1, session_id } if session_id == "7F")));
    // facts §2.2: the last server message has no management command.
    let last = run.server_msgs().last().copied().unwrap();
    assert!(last
        .body
        .commands
        .iter()
        .all(|c| matches!(c, Command::Status(_))));
    assert!(last.body.final_);
}

/// Without jobs, package 2 is Status only with Final: the session ends at once.
#[test]
fn no_jobs_ends_with_package_2() {
    let (_, run) = plain(vec![]);
    assert_eq!(run.server_msgs().len(), 1);
    assert_eq!(run.client_end, Some(EndReason::Completed));
    assert_eq!(run.server_end.as_deref(), Some("completed"));
}

/// facts §2.4: commands of a second job go out only after the first package's statuses —
/// here both jobs share package 2 and each is attributed by its own CmdIDs.
#[test]
fn two_jobs_statuses_attributed_by_cmd_id() {
    let (tree, run) = plain(vec![
        job(1, vec![replace("./DMAcc/srvA/Name", "B")]),
        job(2, vec![get(&["./DMAcc/srvA/Name"]), get(&["./Nope"])]),
    ]);
    assert_eq!(run.job_statuses(1), vec![("1".to_owned(), 200)]);
    assert_eq!(
        run.job_statuses(2),
        vec![("1".to_owned(), 200), ("2".to_owned(), 404)]
    );
    let r = run.job_results(2);
    assert_eq!(r.len(), 1);
    assert_eq!(r[0].data, "B", "the Replace ran before the Get");
    assert_eq!(run.job_state(1), Some(JobState::Done));
    assert_eq!(run.job_state(2), Some(JobState::Done));
    assert_eq!(tree.value_str("./DMAcc/srvA/Name").as_deref(), Some("B"));
}

/// facts §2.6: nested commands get their own CmdIDs; the Atomic's and its children's
/// statuses are attributed to positions `1`, `1.1`, `1.2`; a failing child rolls back (507,
/// 216) and the Sequence's children are attributed as `2.1`, `2.2`.
#[test]
fn atomic_and_sequence_children_attributed() {
    let (tree, run) = plain(vec![job(
        1,
        vec![
            atomic(vec![
                replace("./DMAcc/srvA/Name", "X"),
                replace("./Missing", "y"),
            ]),
            sequence(vec![replace("./Big", "v"), get(&["./Big"])]),
        ],
    )]);
    let st = run.job_statuses(1);
    let code = |p: &str| st.iter().find(|(q, _)| q == p).map(|(_, c)| *c);
    assert_eq!(code("1"), Some(507));
    assert_eq!(code("1.1"), Some(216));
    assert_eq!(code("1.2"), Some(404));
    assert_eq!(code("2"), Some(200));
    assert_eq!(code("2.1"), Some(200));
    assert_eq!(code("2.2"), Some(200));
    let r = run.job_results(1);
    assert_eq!(r.len(), 1);
    assert_eq!(r[0].command, "2.2");
    assert_eq!(r[0].data, "v");
    assert_eq!(run.job_state(1), Some(JobState::Done));
    assert_ne!(tree.value_str("./DMAcc/srvA/Name").as_deref(), Some("X"));
}

/// facts §3.4: a UI alert job is answered by the device's UI policy: 200 when accepted, 304
/// when rejected — recorded as the job's Status.
#[rstest]
#[case::accept(UiPolicy::Accept { text: None }, 200)]
#[case::reject(UiPolicy::Reject, 304)]
#[case::headless(UiPolicy::Headless, 406)]
fn ui_alert_job_answered_by_policy(#[case] policy: UiPolicy, #[case] code: u16) {
    let mut hooks = UiHooks::new(policy);
    let (_, run) = plain_with(
        vec![job(7, vec![confirm("Update now?")])],
        Default::default(),
        &mut hooks,
    );
    assert_eq!(run.job_statuses(7), vec![("1".to_owned(), code)]);
    assert_eq!(run.job_state(7), Some(JobState::Done));
}

fn async_device() -> dm_tree::Tree {
    let mut t = device();
    t.register_exec(
        "./Big",
        |tree: &mut dm_tree::Tree, call: &dm_tree::ExecCall| {
            tree.complete_exec(dm_tree::Completion {
                correlator: call.correlator.clone(),
                source: call.uri.clone(),
                alert_type: "urn:example:done".into(),
                format: "int".into(),
                mark: None,
                data: "1200".into(),
                server: Some("srvA".into()),
            });
            dm_tree::ExecOutcome::Accepted
        },
    );
    t
}

/// facts §3.5: an Exec answered 202 makes the job Waiting; the Generic Alert echoing the
/// Correlator (here the one the engine generated) completes it: Completion, then Done.
#[test]
fn async_exec_completed_by_generic_alert() {
    let mut tree = async_device();
    let mut client = Session::new(client_config());
    let mut server = ServerSession::new(
        setup(
            registered(),
            DeviceState::default(),
            vec![job(3, vec![exec("./Big", None)])],
        ),
        Arc::new(ManualClock::at(T0)),
    )
    .unwrap();
    let run = run(
        &mut tree,
        &mut client,
        &mut server,
        Encoding::Xml,
        &mut NoHooks,
    );
    assert_eq!(run.job_statuses(3), vec![("1".to_owned(), 202)]);
    let states: Vec<JobState> = run
        .updates
        .iter()
        .filter_map(|u| match u {
            JobUpdate::Sent { job: 3, .. } => Some(JobState::Sent),
            JobUpdate::State { job: 3, state } => Some(*state),
            _ => None,
        })
        .collect();
    assert_eq!(
        states,
        vec![JobState::Sent, JobState::Waiting, JobState::Done]
    );
    let completion = run
        .updates
        .iter()
        .find_map(|u| match u {
            JobUpdate::Completion { job: 3, alert } => Some(alert.clone()),
            _ => None,
        })
        .expect("a completion");
    assert_eq!(completion.correlator.as_deref(), Some("job-3-1"));
    assert_eq!(completion.code, 1226);
    assert_eq!(run.alerts.len(), 1);
    assert_eq!(run.client_end, Some(EndReason::Completed));
}

/// facts §3.5: a job Waiting from an earlier session is completed by the Generic Alert the
/// device reports in package 1; nothing is sent again.
#[test]
fn waiting_job_completed_in_a_later_package_1() {
    let mut tree = device();
    tree.complete_exec(dm_tree::Completion {
        correlator: Some("c-9".into()),
        source: "./Big".parse().unwrap(),
        alert_type: "urn:example:done".into(),
        format: "int".into(),
        mark: None,
        data: "1200".into(),
        server: Some("srvA".into()),
    });
    let mut waiting = job(4, vec![exec("./Big", Some("c-9"))]);
    waiting.state = JobState::Waiting;
    waiting.statuses = vec![dm_server::model::JobStatus {
        command: "1".into(),
        cmd: "Exec".into(),
        code: 202,
        target_refs: vec![],
        source_refs: vec![],
        items: vec![],
        note: None,
    }];
    let mut client = Session::new(client_config());
    let mut server = server_for(vec![waiting]);
    let run = run(
        &mut tree,
        &mut client,
        &mut server,
        Encoding::Xml,
        &mut NoHooks,
    );
    assert_eq!(run.job_state(4), Some(JobState::Done));
    assert!(!run
        .updates
        .iter()
        .any(|u| matches!(u, JobUpdate::Sent { .. })));
    assert_eq!(run.server_msgs().len(), 1);
}

/// facts §2.1, §3.3: client alerts 1224 in package 1 are stored as AlertRecords and answered
/// 200; one without Meta Type is answered 412.
#[test]
fn client_events_are_recorded() {
    let mut tree = device();
    let event = |ty: Option<&str>| Alert {
        code: Some(AlertCode::ClientEvent),
        items: vec![Item {
            source: Some(Locator::uri("./DevDetail")),
            meta: Some(Meta {
                type_: ty.map(str::to_owned),
                format: Some("chr".into()),
                ..Meta::default()
            }),
            data: Some(Data::Text("hello".into())),
            ..Item::default()
        }],
        ..Alert::default()
    };
    let mut cfg = client_config();
    cfg.alerts = vec![event(Some("com.example.login")), event(None)];
    let mut client = Session::new(cfg);
    let mut server = server_for(vec![]);
    let run = run(
        &mut tree,
        &mut client,
        &mut server,
        Encoding::Xml,
        &mut NoHooks,
    );
    assert_eq!(run.alerts.len(), 2);
    assert_eq!(run.alerts[0].code, 1224);
    assert_eq!(run.alerts[0].session_id, "7F");
    assert_eq!(
        run.alerts[0].items[0].type_.as_deref(),
        Some("com.example.login")
    );
    assert_eq!(run.alerts[0].items[0].data.as_deref(), Some("hello"));
    let p2 = run.server_msgs()[0];
    let codes: Vec<u16> = statuses(p2).iter().map(|s| s.code.as_u16()).collect();
    assert_eq!(codes, vec![200, 200, 200, 200, 412]);
    assert_eq!(run.deviations.len(), 1, "{:?}", run.deviations);
}

/// A Get with two items (one Status per item and two Results items from the client, facts
/// §1.4) and a Status the device repeats: the job is Done and every update is one the store
/// accepts (checked by `apply`).
#[test]
fn two_item_get_and_a_repeated_status_pass_the_store_rules() {
    let mut tree = device();
    let mut client = dm_client::session::Session::new(client_config());
    let jobs = vec![job(1, vec![get(&["./DevInfo/Man", "./DevInfo/DevId"])])];
    let mut server = dm_server::session::ServerSession::new(
        setup(registered(), DeviceState::default(), jobs.clone()),
        std::sync::Arc::new(dm_server::session::ManualClock::at(T0)),
    )
    .unwrap();
    let mut repeated = false;
    let mut edit = |_: usize, m: &mut dm_protocol::model::SyncMl| {
        let get_status = m.body.commands.iter().find_map(|c| match c {
            Command::Status(s) if s.cmd == "Get" => Some(s.clone()),
            _ => None,
        });
        if let (Some(mut st), false) = (get_status, repeated) {
            st.cmd_id = "99".into();
            m.body.commands.push(Command::Status(st));
            repeated = true;
        }
    };
    let run = run_tweaked(
        &mut tree,
        &mut client,
        &mut server,
        Encoding::Xml,
        &mut NoHooks,
        &mut Tweaks {
            edit: Some(&mut edit),
            ..Tweaks::default()
        },
    );
    assert!(repeated, "a Status was repeated");
    assert_eq!(
        run.client_end,
        Some(dm_client::session::EndReason::Completed)
    );
    assert_eq!(run.job_state(1), Some(JobState::Done));
    assert_eq!(run.job_results(1).len(), 2, "two Results items");
    let statuses = run.job_statuses(1);
    assert_eq!(
        statuses.len(),
        3,
        "two per-item Statuses and the repeat: {statuses:?}"
    );
    let mut stored = jobs;
    apply(&mut stored, &run.updates).unwrap();
    assert_eq!(stored[0].state, JobState::Done);
    assert_eq!(stored[0].results.len(), 2);
}

/// The store rules `apply` checks refuse what the store refuses.
#[test]
fn apply_refuses_what_the_store_refuses() {
    let status = JobUpdate::Status {
        job: 1,
        status: dm_server::model::JobStatus {
            command: "1".into(),
            cmd: "Get".into(),
            code: 200,
            target_refs: vec![],
            source_refs: vec![],
            items: vec![],
            note: None,
        },
    };
    let sent = |sid: &str| JobUpdate::Sent {
        job: 1,
        session_id: sid.into(),
    };
    let done = JobUpdate::State {
        job: 1,
        state: JobState::Done,
    };
    let fresh = || vec![job(1, vec![get(&["./DevInfo/Man"])])];
    assert!(
        apply(&mut fresh(), std::slice::from_ref(&status)).is_err(),
        "Status on Queued"
    );
    assert!(
        apply(&mut fresh(), std::slice::from_ref(&done)).is_err(),
        "Queued → Done"
    );
    assert!(
        apply(&mut fresh(), &[sent("A"), sent("B")]).is_err(),
        "Sent in another session"
    );
    assert!(
        apply(&mut fresh(), &[sent("A"), done.clone(), sent("A")]).is_err(),
        "Done → Sent"
    );
    assert!(apply(&mut fresh(), &[sent("9"), status.clone()]).is_ok());
    assert!(apply(&mut fresh(), &[sent("A"), sent("A"), done, status]).is_ok());
    assert!(apply(&mut fresh(), &[sent("2").clone()]).is_ok());
    let mut other = fresh();
    other[0].id = 2;
    assert!(apply(&mut other, &[sent("A")]).is_err(), "unknown job");
}
