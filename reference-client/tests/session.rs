//! The client session engine against scripted server messages (facts §1.4, §2, §6.2).
#![allow(clippy::unwrap_used)]

use std::sync::Arc;

use dm_client::session::{
    ClientFaults, Credentials, EndReason, Initiation, Session, SessionConfig, Step,
};
use dm_protocol::auth::{self, AuthType};
use dm_protocol::codec::{decode, DecodeOptions};
use dm_protocol::codes::{AlertCode, StatusCode as S};
use dm_protocol::model::{Command, Data, SyncMl};
use dm_tree::standard::{install, put_account, Account, DeviceIdentity};
use dm_tree::{ManualClock, NoHooks, Tree, TreeConfig};

const DEV: &str = "IMEI:493005100592800";
const SRV: &str = "https://dm.example/dm";

fn device() -> Tree {
    let mut t = Tree::with_clock(
        TreeConfig::default(),
        Arc::new(ManualClock::at(994_869_497)),
    );
    install(
        &mut t,
        &DeviceIdentity {
            dev_id: DEV.into(),
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
            addr: SRV.into(),
            aauth_pref: "DIGEST".into(),
            auth: vec![],
        },
    )
    .unwrap();
    t
}

fn config() -> SessionConfig {
    SessionConfig {
        session_id: "1A".into(),
        server_uri: SRV.into(),
        server_id: "srvA".into(),
        initiation: Initiation::Client,
        client_auth: None,
        server_auth: None,
        max_msg_size: Some(16_384),
        max_obj_size: None,
        alerts: vec![],
        seed: 7,
        faults: ClientFaults::default(),
    }
}

/// A server message: `body` holds the commands; `final_` adds `<Final/>`.
fn server(msg_id: u32, hdr_extra: &str, body: &str, final_: bool) -> SyncMl {
    let fin = if final_ { "<Final/>" } else { "" };
    let xml = format!(
        r#"<SyncML xmlns="SYNCML:SYNCML1.2"><SyncHdr><VerDTD>1.2</VerDTD><VerProto>DM/1.2</VerProto><SessionID>1A</SessionID><MsgID>{msg_id}</MsgID><Target><LocURI>{DEV}</LocURI></Target><Source><LocURI>{SRV}</LocURI></Source>{hdr_extra}</SyncHdr><SyncBody>{body}{fin}</SyncBody></SyncML>"#
    );
    decode(xml.as_bytes(), DecodeOptions::LENIENT)
        .unwrap()
        .message
}

fn hdr_status(msg_ref: &str, code: u16, chal: &str) -> String {
    format!("<Status><CmdID>1</CmdID><MsgRef>{msg_ref}</MsgRef><CmdRef>0</CmdRef><Cmd>SyncHdr</Cmd><TargetRef>{SRV}</TargetRef><SourceRef>{DEV}</SourceRef>{chal}<Data>{code}</Data></Status>")
}

const REPLACE_NAME: &str = "<Replace><CmdID>2</CmdID><Item><Target><LocURI>./DMAcc/srvA/Name</LocURI></Target><Data>B</Data></Item></Replace>";

fn sent(step: Step) -> SyncMl {
    match step {
        Step::Send(m) => *m,
        Step::Finished(r) => panic!("session finished: {r:?}"),
    }
}

fn status(m: &SyncMl, i: usize) -> &dm_protocol::model::Status {
    match &m.body.commands[i] {
        Command::Status(s) => s,
        other => panic!("command {i} is not a Status: {other:?}"),
    }
}

#[test]
fn package1_has_alert_devinfo_and_final() {
    // facts §2.1 package 1, §2.5 Alert 1201/1200, §5.2 DevInfo in the first message.
    let mut t = device();
    let mut s = Session::new(config());
    let m = s.start(&mut t);
    assert_eq!(m.hdr.session_id, "1A");
    assert_eq!(m.hdr.msg_id, "1");
    assert_eq!(m.hdr.source.loc_uri, DEV);
    assert_eq!(m.hdr.target.loc_uri, SRV);
    assert!(m.body.final_);
    let Command::Alert(a) = &m.body.commands[0] else {
        panic!()
    };
    assert_eq!(a.code, Some(AlertCode::ClientInitiatedMgmt));
    let Command::Replace(r) = &m.body.commands[1] else {
        panic!()
    };
    let uris: Vec<&str> = r
        .items
        .iter()
        .map(|i| i.source.as_ref().unwrap().loc_uri.as_str())
        .collect();
    assert_eq!(
        uris,
        [
            "./DevInfo/DevId",
            "./DevInfo/Man",
            "./DevInfo/Mod",
            "./DevInfo/DmV",
            "./DevInfo/Lang"
        ]
    );
    assert_eq!(r.items[0].data, Some(Data::Text(DEV.into())));
    assert!(m.hdr.cred.is_none());
    let mut cfg = config();
    cfg.initiation = Initiation::Server;
    let m = Session::new(cfg).start(&mut t);
    let Command::Alert(a) = &m.body.commands[0] else {
        panic!()
    };
    assert_eq!(a.code, Some(AlertCode::ServerInitiatedMgmt));
}

#[test]
fn get_is_answered_with_status_then_results_and_session_ends() {
    // facts §1.4 references, §2.1 package 3, §2.2 session end.
    let mut t = device();
    let mut s = Session::new(config());
    s.start(&mut t);
    let pkg2 = server(
        1,
        "",
        &format!(
            "{}<Status><CmdID>2</CmdID><MsgRef>1</MsgRef><CmdRef>1</CmdRef><Cmd>Alert</Cmd><Data>200</Data></Status>\
             <Get><CmdID>3</CmdID><Item><Target><LocURI>./DevInfo/Man</LocURI></Target></Item></Get>\
             <Get><CmdID>4</CmdID><Item><Target><LocURI>./Nope</LocURI></Target></Item></Get>",
            hdr_status("1", 212, "")
        ),
        true,
    );
    let reply = sent(s.handle(&mut t, &pkg2, &mut NoHooks));
    assert_eq!(reply.hdr.msg_id, "2");
    assert!(reply.body.final_);
    let h = status(&reply, 0);
    assert_eq!(
        (
            h.cmd_ref.as_str(),
            h.cmd.as_str(),
            h.msg_ref.as_str(),
            h.code
        ),
        ("0", "SyncHdr", "1", S::Ok)
    );
    assert_eq!(h.target_refs, [DEV]);
    assert_eq!(h.source_refs, [SRV]);
    let g = status(&reply, 1);
    assert_eq!(
        (g.cmd_ref.as_str(), g.cmd.as_str(), g.code),
        ("3", "Get", S::Ok)
    );
    assert_eq!(g.target_refs, ["./DevInfo/Man"]);
    let Command::Results(r) = &reply.body.commands[2] else {
        panic!("Results after the Status")
    };
    assert_eq!(r.cmd_ref, "3");
    assert_eq!(r.msg_ref.as_deref(), Some("1"));
    assert_eq!(r.items[0].source.as_ref().unwrap().loc_uri, "./DevInfo/Man");
    let n = status(&reply, 3);
    assert_eq!((n.cmd_ref.as_str(), n.code), ("4", S::NotFound));
    assert_eq!(reply.body.commands.len(), 4);
    // Package 4 with only Status and Final: nothing is sent (facts §2.2).
    let pkg4 = server(2, "", &hdr_status("2", 200, ""), true);
    assert_eq!(
        s.handle(&mut t, &pkg4, &mut NoHooks),
        Step::Finished(EndReason::Completed)
    );
    assert!(s.is_finished());
}

const MD5_CHAL: &str = "<Chal><Meta><Type xmlns=\"syncml:metinf\">syncml:auth-md5</Type><Format xmlns=\"syncml:metinf\">b64</Format><NextNonce xmlns=\"syncml:metinf\">Tm9uY2U=</NextNonce></Meta></Chal>";

#[test]
fn challenge_restarts_package1_with_md5_credentials() {
    // facts §6.2: 401 with Chal → package 1 again with Cred, same SessionID, to RespURI.
    let mut t = device();
    let mut cfg = config();
    cfg.client_auth = Some(Credentials {
        auth_type: AuthType::Basic,
        name: "dev".into(),
        secret: "pw".into(),
        nonce: vec![],
    });
    let mut s = Session::new(cfg);
    let first = s.start(&mut t);
    assert!(
        first.hdr.cred.is_some(),
        "configured credentials go in package 1"
    );
    let pkg2 = server(
        1,
        "<RespURI>https://dm.example/dm?s=9</RespURI>",
        &hdr_status("1", 401, MD5_CHAL),
        true,
    );
    let retry = sent(s.handle(&mut t, &pkg2, &mut NoHooks));
    assert_eq!(retry.hdr.session_id, "1A");
    assert_eq!(s.target_uri(), "https://dm.example/dm?s=9");
    let Command::Alert(a) = &retry.body.commands[0] else {
        panic!()
    };
    assert_eq!(a.code, Some(AlertCode::ClientInitiatedMgmt));
    assert!(
        matches!(retry.body.commands[1], Command::Replace(_)),
        "DevInfo again"
    );
    let cred = retry.hdr.cred.as_ref().unwrap();
    assert_eq!(
        cred.meta.as_ref().unwrap().type_.as_deref(),
        Some("syncml:auth-md5")
    );
    assert_eq!(cred.data, auth::md5_credential("dev", "pw", b"Nonce"));
    assert_eq!(retry.hdr.source.loc_name.as_deref(), Some("dev"));
    // facts §6.2: the nonce came from an unauthenticated server: used, not yet storable.
    // A second refusal ends the session.
    let again = server(2, "", &hdr_status(&retry.hdr.msg_id, 401, MD5_CHAL), true);
    assert_eq!(
        s.handle(&mut t, &again, &mut NoHooks),
        Step::Finished(EndReason::AuthFailed(S::InvalidCredentials))
    );
}

#[test]
fn nonce_from_an_authenticated_server_may_be_stored() {
    // facts §6.2: a Chal on 212 carries the nonce for the next session; store it only when
    // the server is believed (here: no server credentials required).
    let mut t = device();
    let mut cfg = config();
    cfg.client_auth = Some(Credentials {
        auth_type: AuthType::Md5,
        name: "dev".into(),
        secret: "pw".into(),
        nonce: b"old".to_vec(),
    });
    let mut s = Session::new(cfg);
    s.start(&mut t);
    let m = server(
        1,
        "",
        &format!("{}{REPLACE_NAME}", hdr_status("1", 212, MD5_CHAL)),
        true,
    );
    sent(s.handle(&mut t, &m, &mut NoHooks));
    assert_eq!(s.client_nonce_to_store(), Some(&b"Nonce"[..]));
}

#[test]
fn nonce_from_an_unauthenticated_server_is_not_stored() {
    // facts §6.2: "never store a nonce from an unauthenticated peer": the account requires
    // server credentials and the server sends none, so its Chal nonce is not offered for
    // storing (and its commands are not executed: 407).
    let mut t = device();
    let mut cfg = config();
    cfg.client_auth = Some(Credentials {
        auth_type: AuthType::Md5,
        name: "dev".into(),
        secret: "pw".into(),
        nonce: b"old".to_vec(),
    });
    cfg.server_auth = Some(Credentials {
        auth_type: AuthType::Md5,
        name: "srvA".into(),
        secret: "sp".into(),
        nonce: b"sn".to_vec(),
    });
    let mut s = Session::new(cfg);
    s.start(&mut t);
    let m = server(
        1,
        "",
        &format!("{}{REPLACE_NAME}", hdr_status("1", 212, MD5_CHAL)),
        false,
    );
    let reply = sent(s.handle(&mut t, &m, &mut NoHooks));
    assert_eq!(status(&reply, 0).code, S::MissingCredentials);
    assert_eq!(s.client_nonce_to_store(), None);
}

#[test]
fn server_abort_is_not_answered() {
    // facts §2.3: the client does not answer Alert 1223.
    let mut t = device();
    let mut s = Session::new(config());
    s.start(&mut t);
    let m = server(
        1,
        "",
        &format!(
            "{}<Alert><CmdID>2</CmdID><Data>1223</Data></Alert>",
            hdr_status("1", 200, "")
        ),
        true,
    );
    assert_eq!(
        s.handle(&mut t, &m, &mut NoHooks),
        Step::Finished(EndReason::AbortedByServer)
    );
}

#[test]
fn multi_message_package_is_answered_without_final_and_with_1222() {
    // facts §2.4: no Final before the server closes its package; ask for more with 1222.
    let mut t = device();
    let mut s = Session::new(config());
    s.start(&mut t);
    let part = server(
        1,
        "",
        &format!("{}{REPLACE_NAME}", hdr_status("1", 212, "")),
        false,
    );
    let reply = sent(s.handle(&mut t, &part, &mut NoHooks));
    assert!(!reply.body.final_);
    let Some(Command::Alert(a)) = reply.body.commands.last() else {
        panic!()
    };
    assert_eq!(a.code, Some(AlertCode::NextMessage));
    assert_eq!(t.value_str("./DMAcc/srvA/Name").unwrap(), "B");
    let last = server(
        2,
        "",
        "<Get><CmdID>1</CmdID><Item><Target><LocURI>./DevInfo/Lang</LocURI></Target></Item></Get>",
        true,
    );
    let reply = sent(s.handle(&mut t, &last, &mut NoHooks));
    assert!(reply.body.final_);
    assert!(reply
        .body
        .commands
        .iter()
        .any(|c| matches!(c, Command::Results(_))));
}

fn server_creds() -> Credentials {
    Credentials {
        auth_type: AuthType::Md5,
        name: "srvA".into(),
        secret: "srv-secret".into(),
        nonce: b"first".to_vec(),
    }
}

#[test]
fn server_credentials_are_verified() {
    // facts §6.2: both ends authenticated; missing → 407 + Chal; commands not executed.
    let mut t = device();
    let mut cfg = config();
    cfg.server_auth = Some(server_creds());
    let mut s = Session::new(cfg.clone());
    s.start(&mut t);
    let body = format!("{}{REPLACE_NAME}", hdr_status("1", 212, ""));
    let reply = sent(s.handle(&mut t, &server(1, "", &body, true), &mut NoHooks));
    let h = status(&reply, 0);
    assert_eq!(h.code, S::MissingCredentials);
    let chal = h.chal.as_ref().unwrap();
    assert_eq!(chal.meta.type_.as_deref(), Some("syncml:auth-md5"));
    let nonce = auth::b64_decode(chal.meta.next_nonce.as_deref().unwrap()).unwrap();
    assert_eq!(status(&reply, 1).code, S::MissingCredentials);
    assert_eq!(
        t.value_str("./DMAcc/srvA/Name").unwrap(),
        "A",
        "not executed"
    );
    // The server retries with the nonce it was given: 212, commands run.
    let cred = format!(
        "<Cred><Meta><Type xmlns=\"syncml:metinf\">syncml:auth-md5</Type><Format xmlns=\"syncml:metinf\">b64</Format></Meta><Data>{}</Data></Cred>",
        auth::md5_credential("srvA", "srv-secret", &nonce)
    );
    let body2 = format!("{}{REPLACE_NAME}", hdr_status("2", 200, ""));
    let reply = sent(s.handle(&mut t, &server(2, &cred, &body2, true), &mut NoHooks));
    assert_eq!(status(&reply, 0).code, S::AuthenticationAccepted);
    assert_eq!(t.value_str("./DMAcc/srvA/Name").unwrap(), "B");
    // Wrong credentials → 401.
    let mut s2 = Session::new(cfg);
    s2.start(&mut t);
    let bad = "<Cred><Meta><Type xmlns=\"syncml:metinf\">syncml:auth-md5</Type></Meta><Data>AAAA</Data></Cred>";
    let reply = sent(s2.handle(&mut t, &server(1, bad, &body, true), &mut NoHooks));
    assert_eq!(status(&reply, 0).code, S::InvalidCredentials);
    // Fault injection: server authentication skipped.
    let mut cfg = config();
    cfg.server_auth = Some(server_creds());
    cfg.faults.skip_server_auth = true;
    let mut s3 = Session::new(cfg);
    s3.start(&mut t);
    let reply = sent(s3.handle(&mut t, &server(1, "", &body, true), &mut NoHooks));
    assert_eq!(status(&reply, 0).code, S::Ok);
}

#[test]
fn unauthenticated_server_without_commands_gets_no_status_only_challenge() {
    // facts §6.2: no creds, no commands → the client does not answer with a challenge.
    let mut t = device();
    let mut cfg = config();
    cfg.server_auth = Some(server_creds());
    let mut s = Session::new(cfg);
    s.start(&mut t);
    let m = server(1, "", &hdr_status("1", 212, ""), true);
    assert_eq!(
        s.handle(&mut t, &m, &mut NoHooks),
        Step::Finished(EndReason::ServerNotAuthenticated)
    );
}

#[test]
fn faults_are_visible_in_the_messages() {
    let mut t = device();
    let mut cfg = config();
    cfg.faults = ClientFaults {
        wrong_msg_ref: true,
        no_results: true,
        no_devinfo: true,
        ..Default::default()
    };
    let mut s = Session::new(cfg);
    let p1 = s.start(&mut t);
    assert_eq!(p1.body.commands.len(), 1, "no DevInfo Replace");
    let m = server(
        1,
        "",
        &format!(
            "{}<Get><CmdID>2</CmdID><Item><Target><LocURI>./DevInfo/Man</LocURI></Target></Item></Get>",
            hdr_status("1", 212, "")
        ),
        true,
    );
    let reply = sent(s.handle(&mut t, &m, &mut NoHooks));
    assert_ne!(status(&reply, 0).msg_ref, "1");
    assert!(!reply
        .body
        .commands
        .iter()
        .any(|c| matches!(c, Command::Results(_))));
}

#[test]
fn async_exec_completion_becomes_a_generic_alert() {
    // facts §3.5: the Generic Alert echoes the Exec's Correlator.
    let mut t = device();
    t.add(
        &dm_tree::Principal::Local,
        "./Job",
        dm_tree::NewNode::leaf(""),
    )
    .unwrap();
    t.replace_prop(
        &dm_tree::Principal::Local,
        "./Job",
        dm_protocol::uri::Property::Acl,
        "Exec=srvA&Get=srvA",
    )
    .unwrap();
    t.register_exec("./Job", |tree: &mut Tree, call: &dm_tree::ExecCall| {
        tree.complete_exec(dm_tree::Completion {
            correlator: call.correlator.clone(),
            source: call.uri.clone(),
            alert_type: "urn:example:done".into(),
            format: "int".into(),
            mark: None,
            data: "1200".into(),
            server: None,
        });
        dm_tree::ExecOutcome::Accepted
    });
    let mut s = Session::new(config());
    s.start(&mut t);
    let m = server(
        1,
        "",
        &format!(
            "{}<Exec><CmdID>2</CmdID><Correlator>c-9</Correlator><Item><Target><LocURI>./Job</LocURI></Target></Item></Exec>",
            hdr_status("1", 212, "")
        ),
        true,
    );
    let reply = sent(s.handle(&mut t, &m, &mut NoHooks));
    assert_eq!(status(&reply, 1).code, S::Accepted);
    let Some(Command::Alert(a)) = reply.body.commands.last() else {
        panic!()
    };
    assert_eq!(a.code, Some(AlertCode::GenericAlert));
    assert_eq!(a.correlator.as_deref(), Some("c-9"));
    assert_eq!(
        a.items[0].meta.as_ref().unwrap().type_.as_deref(),
        Some("urn:example:done")
    );
}

/// facts §3.5: an Exec that finished after its session (answered 202 then) is reported to
/// its own server in the next package 1, Correlator echoed; another server's completion
/// stays queued, and a restarted package 1 (after 401) repeats the report.
#[test]
fn completions_go_to_their_server_in_package_1() {
    let mut t = device();
    let done = |server: &str, correlator: &str| dm_tree::Completion {
        correlator: Some(correlator.into()),
        source: "./Job".parse().unwrap(),
        alert_type: "urn:example:done".into(),
        format: "int".into(),
        mark: None,
        data: "1200".into(),
        server: Some(server.into()),
    };
    t.complete_exec(done("srvA", "for-a"));
    t.complete_exec(done("srvB", "for-b"));
    let mut cfg = config();
    cfg.client_auth = Some(Credentials {
        auth_type: AuthType::Basic,
        name: "dev".into(),
        secret: "pw".into(),
        nonce: vec![],
    });
    let mut s = Session::new(cfg);
    let correlators = |m: &dm_protocol::model::SyncMl| -> Vec<String> {
        m.body
            .commands
            .iter()
            .filter_map(|c| match c {
                Command::Alert(a) if a.code == Some(AlertCode::GenericAlert) => {
                    a.correlator.clone()
                }
                _ => None,
            })
            .collect()
    };
    let p1 = s.start(&mut t);
    assert_eq!(correlators(&p1), ["for-a"]);
    let refused = server(1, "", &hdr_status("1", 401, MD5_CHAL), true);
    let again = sent(s.handle(&mut t, &refused, &mut NoHooks));
    assert_eq!(
        correlators(&again),
        ["for-a"],
        "the retry repeats the report"
    );
    let left = t.take_completions();
    assert_eq!(left.len(), 1);
    assert_eq!(left[0].correlator.as_deref(), Some("for-b"));
}

/// facts §6.2: a server that failed to authenticate gets only Status; a completion that
/// appears mid-session waits in the tree for the first reply to an authenticated message.
#[test]
fn mid_session_completions_wait_for_an_authenticated_server() {
    let mut t = device();
    let mut cfg = config();
    cfg.server_auth = Some(Credentials {
        auth_type: AuthType::Basic,
        name: "srv".into(),
        secret: "sp".into(),
        nonce: vec![],
    });
    let mut s = Session::new(cfg);
    s.start(&mut t);
    t.complete_exec(dm_tree::Completion {
        correlator: Some("late".into()),
        source: "./DevInfo".parse().unwrap(),
        alert_type: "urn:example:done".into(),
        format: "int".into(),
        mark: None,
        data: "1200".into(),
        server: None,
    });
    let unauthenticated = server(
        1,
        "",
        &format!("{}{REPLACE_NAME}", hdr_status("1", 212, "")),
        true,
    );
    let reply = sent(s.handle(&mut t, &unauthenticated, &mut NoHooks));
    assert!(reply
        .body
        .commands
        .iter()
        .all(|c| matches!(c, Command::Status(_))));
    let cred = format!(
        r#"<Cred><Meta><Type xmlns="syncml:metinf">syncml:auth-basic</Type><Format xmlns="syncml:metinf">b64</Format></Meta><Data>{}</Data></Cred>"#,
        dm_protocol::auth::basic_credential("srv", "sp")
    );
    let authenticated = server(
        2,
        &cred,
        &format!("{}{REPLACE_NAME}", hdr_status("2", 200, "")),
        true,
    );
    let reply = sent(s.handle(&mut t, &authenticated, &mut NoHooks));
    let Some(Command::Alert(a)) = reply.body.commands.last() else {
        panic!("a Generic Alert at the end: {reply:?}")
    };
    assert_eq!(a.code, Some(AlertCode::GenericAlert));
    assert_eq!(a.correlator.as_deref(), Some("late"));
}

/// DMRD-6.1.1.5-1, facts §6.4: a RespURI never takes an HTTPS session to plain HTTP; one
/// that stays on HTTPS is followed (facts §1.3).
#[test]
fn resp_uri_never_leaves_https() {
    let mut t = device();
    let mut s = Session::new(config());
    s.start(&mut t);
    let get =
        "<Get><CmdID>3</CmdID><Item><Target><LocURI>./DevInfo/Man</LocURI></Target></Item></Get>";
    let body = |msg_ref: &str| format!("{}{get}", hdr_status(msg_ref, 212, ""));
    let plain = server(
        1,
        "<RespURI>http://dm.example/dm?s=1</RespURI>",
        &body("1"),
        true,
    );
    s.handle(&mut t, &plain, &mut NoHooks);
    assert_eq!(s.target_uri(), SRV);
    let noted = s
        .deviations()
        .iter()
        .any(|d| d.what.contains("from HTTPS to plain HTTP"));
    assert!(noted, "{:?}", s.deviations());
    let secure = server(
        2,
        "<RespURI>https://dm.example/dm?s=2</RespURI>",
        &body("2"),
        true,
    );
    s.handle(&mut t, &secure, &mut NoHooks);
    assert_eq!(s.target_uri(), "https://dm.example/dm?s=2");
}
