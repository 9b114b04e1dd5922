//! Multi-message packages and large objects between the server engine and the real client
//! engine (facts §2.4, §8).
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod engine_common;

use std::sync::Arc;

use dm_client::session::{EndReason, Session};
use dm_protocol::codec::Encoding;
use dm_protocol::codes::{AlertCode, StatusCode};
use dm_protocol::model::{Command, SyncMl};
use dm_server::model::{DeviceState, JobState};
use dm_server::session::{ManualClock, ServerSession};
use dm_tree::NoHooks;
use engine_common::*;
use rstest::rstest;

fn has_alert(m: &SyncMl, code: AlertCode) -> bool {
    m.body
        .commands
        .iter()
        .any(|c| matches!(c, Command::Alert(a) if a.code == Some(code)))
}

fn mgmt(m: &SyncMl) -> usize {
    m.body
        .commands
        .iter()
        .filter(|c| !matches!(c, Command::Status(_) | Command::Alert(_)))
        .count()
}

/// facts §2.4: with a small device MaxMsgSize our package is cut into several messages, each
/// within the limit, only the last with Final; the device asks for the rest with 1222; every
/// job is attributed and Done.
#[rstest]
#[case::xml(Encoding::Xml)]
#[case::wbxml(Encoding::Wbxml)]
fn our_package_split_under_device_max_msg_size(#[case] encoding: Encoding) {
    let mut tree = device();
    let mut cfg = client_config();
    cfg.max_msg_size = Some(900);
    let mut client = Session::new(cfg);
    let jobs = (1..=30)
        .map(|i| job(i, vec![get(&["./DevInfo/Man"]), get(&["./DevInfo/Mod"])]))
        .collect();
    let mut server = server_for(jobs);
    let run = run(&mut tree, &mut client, &mut server, encoding, &mut NoHooks);
    assert_eq!(
        run.client_end,
        Some(EndReason::Completed),
        "{:?}",
        run.client_deviations
    );
    assert!(run.own.is_empty(), "{:?}", run.own);
    let sent: Vec<&SyncMl> = run.server_msgs();
    let with_cmds: Vec<&&SyncMl> = sent.iter().filter(|m| mgmt(m) > 0).collect();
    assert!(
        with_cmds.len() >= 3,
        "split into {} messages",
        with_cmds.len()
    );
    for e in run.log.iter().filter(|e| !e.from_device) {
        assert!(
            e.bytes.len() <= 900,
            "{}",
            String::from_utf8_lossy(&e.bytes)
        );
    }
    for m in &with_cmds[..with_cmds.len() - 1] {
        assert!(!m.body.final_, "facts §2.4: Final only on the last message");
    }
    // facts §2.4: the device keeps its package open while ours is (no Final in between).
    let device = run.device_msgs();
    assert!(device[1..device.len() - 1].iter().all(|m| !m.body.final_));
    for i in 1..=30 {
        assert_eq!(run.job_state(i), Some(JobState::Done), "job {i}");
        assert_eq!(run.job_results(i).len(), 2);
    }
    assert!(
        run.client_deviations.is_empty(),
        "{:?}",
        run.client_deviations
    );
}

/// facts §2.4: a device package in several messages (our small MaxMsgSize makes the client
/// split its Results) gets "next message" answers: Status + Alert 1222, no Final, no
/// command; the Results are all attributed.
#[test]
fn device_package_split_gets_next_message_answers() {
    let mut tree = device();
    let mut client = Session::new(client_config());
    let jobs = vec![job(1, (0..10).map(|_| get(&["./DevInfo/DevId"])).collect())];
    let mut s = setup(registered(), DeviceState::default(), jobs);
    s.max_msg_size = Some(1_200);
    let mut server = ServerSession::new(s, Arc::new(ManualClock::at(T0))).unwrap();
    let run = run(
        &mut tree,
        &mut client,
        &mut server,
        Encoding::Xml,
        &mut NoHooks,
    );
    assert_eq!(
        run.client_end,
        Some(EndReason::Completed),
        "{:?}",
        run.client_deviations
    );
    let device = run.device_msgs();
    assert!(
        device.iter().any(|m| !m.body.final_),
        "the device split its package"
    );
    let nm: Vec<&SyncMl> = run
        .server_msgs()
        .into_iter()
        .filter(|m| has_alert(m, AlertCode::NextMessage))
        .collect();
    assert!(!nm.is_empty());
    for m in nm {
        assert!(!m.body.final_);
        assert_eq!(mgmt(m), 0);
    }
    assert_eq!(run.job_results(1).len(), 10);
    assert_eq!(run.job_state(1), Some(JobState::Done));
}

/// facts §8: a Replace whose data exceeds the device's MaxMsgSize goes in chunks: Meta/Size
/// on the first, MoreData on all but the last, one chunk per message, each answered 213;
/// the device stores the whole value and the job gets one 200.
#[test]
fn large_object_to_the_device() {
    let big: String = (0..3000)
        .map(|i| char::from(b'a' + (i % 26) as u8))
        .collect();
    let mut tree = device();
    let mut cfg = client_config();
    cfg.max_msg_size = Some(1_000);
    let mut client = Session::new(cfg);
    let mut server = ServerSession::new(
        setup(
            registered(),
            DeviceState::default(),
            vec![job(1, vec![replace("./Big", &big)])],
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
    assert_eq!(
        run.client_end,
        Some(EndReason::Completed),
        "{:?}",
        run.client_deviations
    );
    assert_eq!(tree.value_str("./Big").as_deref(), Some(big.as_str()));
    let chunks: Vec<&dm_protocol::model::Item> = run
        .server_msgs()
        .into_iter()
        .flat_map(|m| m.body.commands.iter())
        .filter_map(|c| match c {
            Command::Replace(r) => r.items.first(),
            _ => None,
        })
        .collect();
    assert!(chunks.len() >= 3, "{} chunks", chunks.len());
    assert_eq!(
        chunks[0].meta.as_ref().and_then(|m| m.size),
        Some(big.len() as u64)
    );
    assert!(chunks[1..]
        .iter()
        .all(|c| c.meta.as_ref().and_then(|m| m.size).is_none()));
    let (last, rest) = chunks.split_last().unwrap();
    assert!(rest.iter().all(|c| c.more_data));
    assert!(!last.more_data);
    for e in run.log.iter().filter(|e| !e.from_device) {
        assert!(
            e.bytes.len() <= 1_000,
            "{}",
            String::from_utf8_lossy(&e.bytes)
        );
    }
    assert_eq!(run.job_statuses(1), vec![("1".to_owned(), 200)]);
    assert_eq!(run.job_state(1), Some(JobState::Done));
}

/// facts §8: a Results too large for our MaxMsgSize comes in chunks; we answer 213 per chunk,
/// reassemble and store one result with the whole value.
#[test]
fn large_object_from_the_device() {
    let big: String = (0..4000)
        .map(|i| char::from(b'A' + (i % 26) as u8))
        .collect();
    let mut tree = device();
    tree.replace(
        &dm_tree::Principal::Local,
        "./Big",
        dm_tree::NewNode::leaf(big.as_bytes()),
    )
    .unwrap();
    let mut client = Session::new(client_config());
    let mut s = setup(
        registered(),
        DeviceState::default(),
        vec![job(1, vec![get(&["./Big"])])],
    );
    s.max_msg_size = Some(1_500);
    let mut server = ServerSession::new(s, Arc::new(ManualClock::at(T0))).unwrap();
    let run = run(
        &mut tree,
        &mut client,
        &mut server,
        Encoding::Xml,
        &mut NoHooks,
    );
    assert_eq!(
        run.client_end,
        Some(EndReason::Completed),
        "{:?}",
        run.client_deviations
    );
    assert!(run.deviations.is_empty(), "{:?}", run.deviations);
    let r = run.job_results(1);
    assert_eq!(r.len(), 1);
    assert_eq!(r[0].data, big);
    let acks = run
        .server_msgs()
        .into_iter()
        .flat_map(|m| m.body.commands.iter())
        .filter(|c| {
            matches!(c, Command::Status(s) if s.cmd == "Results"
                && s.code == StatusCode::ChunkedItemAccepted)
        })
        .count();
    assert!(acks >= 2, "{acks} chunks acknowledged");
    assert_eq!(run.job_state(1), Some(JobState::Done));
}

/// facts §8: "peer must not send a bigger object" than the receiver's MaxObjSize. A job
/// Replace whose data exceeds the device's MaxObjSize is not sent; the job gets 413 from the
/// server (with a note saying so) and completes; its other command goes out normally.
#[test]
fn objects_over_the_device_max_obj_size_are_not_sent() {
    let mut tree = device();
    let mut cfg = client_config();
    cfg.max_obj_size = Some(100);
    let mut client = Session::new(cfg);
    let big = "x".repeat(101);
    let jobs = vec![job(
        1,
        vec![replace("./DMAcc/srvA/Name", &big), get(&["./DevInfo/Man"])],
    )];
    let mut server = server_for(jobs);
    let run = run(
        &mut tree,
        &mut client,
        &mut server,
        Encoding::Xml,
        &mut NoHooks,
    );
    assert_eq!(run.client_end, Some(EndReason::Completed));
    assert!(
        run.server_msgs()
            .iter()
            .all(|m| !m.body.commands.iter().any(|c| c.name() == "Replace")),
        "the oversized Replace never went out"
    );
    assert_eq!(
        run.job_statuses(1),
        vec![("1".to_owned(), 413), ("2".to_owned(), 200)]
    );
    assert_eq!(run.job_state(1), Some(JobState::Done));
    assert!(
        run.own.iter().any(|o| o.contains("MaxObjSize 100")),
        "{:?}",
        run.own
    );
    assert_eq!(tree.value_str("./DMAcc/srvA/Name").unwrap(), "A");
}

/// Hides our MaxObjSize from the device (as if it ignored it), so it sends bigger objects.
struct HideMaxObjSize;

impl dm_server::session::ServerTester for HideMaxObjSize {
    fn before_encode(&mut self, msg: &mut SyncMl) {
        if let Some(m) = msg.hdr.meta.as_mut() {
            m.max_obj_size = None;
        }
    }
}

/// A Get of a 4000-byte `./Big` from a device that does not know our MaxObjSize, with the
/// device's messages changed by `edit`.
fn oversized_from_device(
    max_obj_size: Option<u64>,
    edit: &mut dyn FnMut(usize, &mut SyncMl),
) -> Run {
    let big: String = (0..4000)
        .map(|i| char::from(b'A' + (i % 26) as u8))
        .collect();
    let mut tree = device();
    tree.replace(
        &dm_tree::Principal::Local,
        "./Big",
        dm_tree::NewNode::leaf(big.as_bytes()),
    )
    .unwrap();
    let mut client = Session::new(client_config());
    let mut s = setup(
        registered(),
        DeviceState::default(),
        vec![job(1, vec![get(&["./Big"])])],
    );
    s.max_msg_size = Some(1_500);
    s.max_obj_size = max_obj_size;
    let mut server = ServerSession::new(s, Arc::new(ManualClock::at(T0))).unwrap();
    server.set_tester(Box::new(HideMaxObjSize));
    run_tweaked(
        &mut tree,
        &mut client,
        &mut server,
        Encoding::Xml,
        &mut NoHooks,
        &mut Tweaks {
            edit: Some(edit),
            ..Tweaks::default()
        },
    )
}

fn results_413(run: &Run) -> usize {
    run.server_msgs()
        .into_iter()
        .flat_map(|m| m.body.commands.iter())
        .filter(|c| {
            matches!(c, Command::Status(s) if s.cmd == "Results"
                && s.code == StatusCode::RequestEntityTooLarge)
        })
        .count()
}

/// facts §8, §3.1: a large object whose declared Meta/Size exceeds our MaxObjSize is answered
/// 413 on its first chunk and dropped; the job's Get gets 413 from the server with a note,
/// no Results are stored, and the job completes.
#[test]
fn incoming_object_over_our_max_obj_size_declared() {
    let run = oversized_from_device(Some(1_000), &mut |_, _| {});
    assert_eq!(run.client_end, Some(EndReason::Completed));
    assert_eq!(results_413(&run), 1, "413 on the first chunk");
    assert!(run.job_results(1).is_empty(), "nothing kept");
    assert_eq!(
        run.job_statuses(1),
        vec![("1".to_owned(), 200), ("1".to_owned(), 413)]
    );
    assert_eq!(run.job_state(1), Some(JobState::Done));
    assert!(
        run.deviations
            .iter()
            .any(|d| d.contains("Meta/Size 4000") && d.contains("MaxObjSize 1000")),
        "{:?}",
        run.deviations
    );
}

/// facts §8: without Meta/Size on the first chunk, the reassembled data is counted: the
/// chunk that takes it over our MaxObjSize gets 413 and the object is dropped.
#[test]
fn incoming_object_over_our_max_obj_size_reassembled() {
    let mut strip = |_: usize, m: &mut SyncMl| {
        for c in &mut m.body.commands {
            if let Command::Results(r) = c {
                for i in &mut r.items {
                    if let Some(meta) = i.meta.as_mut() {
                        meta.size = None;
                    }
                }
                if let Some(meta) = r.meta.as_mut() {
                    meta.size = None;
                }
            }
        }
    };
    let run = oversized_from_device(Some(2_500), &mut strip);
    assert_eq!(run.client_end, Some(EndReason::Completed));
    assert_eq!(results_413(&run), 1);
    assert!(run.job_results(1).is_empty(), "nothing kept");
    assert_eq!(run.job_state(1), Some(JobState::Done));
    assert!(
        run.deviations
            .iter()
            .any(|d| d.contains("reassembled data reached") && d.contains("MaxObjSize 2500")),
        "{:?}",
        run.deviations
    );
}

/// Without our own MaxObjSize, an object under the hard cap (16 MiB) is still accepted.
#[test]
fn incoming_object_under_the_hard_cap_is_kept() {
    let run = oversized_from_device(None, &mut |_, _| {});
    assert_eq!(results_413(&run), 0);
    assert_eq!(run.job_results(1).len(), 1);
    assert_eq!(run.job_results(1)[0].data.len(), 4000);
    const { assert!(dm_server::session::MAX_INBOUND_OBJECT == 16 * 1024 * 1024) };
}

/// Removes MsgRef from every Results (optional, facts §1.2).
fn strip_results_msg_ref(_: usize, m: &mut SyncMl) {
    for c in &mut m.body.commands {
        if let Command::Results(r) = c {
            r.msg_ref = None;
        }
    }
}

/// facts §1.2, §8: chunked Results without MsgRef are matched by CmdRef to the object being
/// reassembled, not to our last message (the 1222 answer): no spurious 1225, the whole value
/// is stored.
#[test]
fn chunked_results_without_msg_ref_are_reassembled() {
    let big: String = (0..4000)
        .map(|i| char::from(b'A' + (i % 26) as u8))
        .collect();
    let mut tree = device();
    tree.replace(
        &dm_tree::Principal::Local,
        "./Big",
        dm_tree::NewNode::leaf(big.as_bytes()),
    )
    .unwrap();
    let mut client = Session::new(client_config());
    let mut s = setup(
        registered(),
        DeviceState::default(),
        vec![job(1, vec![get(&["./Big"])])],
    );
    s.max_msg_size = Some(1_500);
    let mut server = ServerSession::new(s, Arc::new(ManualClock::at(T0))).unwrap();
    let mut edit = strip_results_msg_ref;
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
    assert_eq!(run.client_end, Some(EndReason::Completed));
    assert!(
        run.device_msgs()
            .iter()
            .flat_map(|m| m.body.commands.iter())
            .filter(|c| matches!(c, Command::Results(_)))
            .count()
            >= 2,
        "the object came in chunks"
    );
    assert!(
        !run.server_msgs()
            .iter()
            .any(|m| has_alert(m, AlertCode::NoEndOfData)),
        "no spurious 1225"
    );
    assert!(run.deviations.is_empty(), "{:?}", run.deviations);
    let r = run.job_results(1);
    assert_eq!(r.len(), 1);
    assert_eq!(r[0].data, big);
    assert_eq!(run.job_state(1), Some(JobState::Done));
}

/// The device splits its package 3 (our small MaxMsgSize): the Gets' Statuses and Results in
/// its later messages name our message 1 (package 2), which is right (facts §1.4): no MsgRef deviation;
/// Results without MsgRef (facts §1.2) are matched by CmdRef to the Gets of our package.
#[rstest]
#[case::with_msg_ref(false)]
#[case::without_msg_ref(true)]
fn split_device_package_refs_are_ours(#[case] strip: bool) {
    let mut tree = device();
    let mut client = Session::new(client_config());
    let jobs = vec![job(1, (0..10).map(|_| get(&["./DevInfo/DevId"])).collect())];
    let mut s = setup(registered(), DeviceState::default(), jobs);
    s.max_msg_size = Some(1_200);
    let mut server = ServerSession::new(s, Arc::new(ManualClock::at(T0))).unwrap();
    let mut edit = |k: usize, m: &mut SyncMl| {
        if strip {
            strip_results_msg_ref(k, m);
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
    assert_eq!(run.client_end, Some(EndReason::Completed));
    let device = run.device_msgs();
    assert!(device.len() >= 4, "the device split its package");
    assert!(
        device[2..]
            .iter()
            .flat_map(|m| m.body.commands.iter())
            .any(|c| matches!(c, Command::Status(s) if s.cmd == "Get" && s.msg_ref == "1")),
        "later device messages answer our message 1"
    );
    assert!(run.deviations.is_empty(), "{:?}", run.deviations);
    assert_eq!(run.job_results(1).len(), 10);
    assert_eq!(run.job_state(1), Some(JobState::Done));
}

/// facts §1.4, §2.1: a Status missing from a later message of the device's split package 3
/// is reported for our message 1 (it was checked against our last 1222 answer before).
#[test]
fn missing_status_in_a_split_device_package_is_reported() {
    let mut tree = device();
    let mut client = Session::new(client_config());
    let jobs = vec![job(1, (0..10).map(|_| get(&["./DevInfo/DevId"])).collect())];
    let mut s = setup(registered(), DeviceState::default(), jobs);
    s.max_msg_size = Some(1_200);
    let mut server = ServerSession::new(s, Arc::new(ManualClock::at(T0))).unwrap();
    let mut dropped = None;
    let mut edit = |k: usize, m: &mut SyncMl| {
        if k >= 2 && dropped.is_none() {
            let pos = m
                .body
                .commands
                .iter()
                .position(|c| matches!(c, Command::Status(s) if s.cmd == "Get"));
            if let Some(p) = pos {
                if let Command::Status(s) = m.body.commands.remove(p) {
                    dropped = Some(s.cmd_ref);
                }
            }
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
    let dropped = dropped.expect("a Get Status removed from a later device message");
    assert!(
        run.deviations.iter().any(|d| d.contains(&format!(
            "no Status for our CmdID(s) {dropped} of message 1"
        ))),
        "{:?}",
        run.deviations
    );
}
