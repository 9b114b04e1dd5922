#![allow(clippy::unwrap_used, clippy::expect_used)]
//! Authentication end to end over a real socket: per-message HMAC in both directions
//! (facts §6.3), md5 challenge and nonce rotation (facts §6.2), and the auth fault switches.

mod common;

use common::{
    chal, config, device, hdr_status, run, run_default, serve, server_xml, status_code, Reply,
    Request,
};
use dm_client::driver::Direction;
use dm_client::session::{ClientFaults, Credentials, EndReason, Session};
use dm_client::tester::NoTester;
use dm_protocol::auth::{self, AuthType, HmacHeader};
use dm_protocol::codec::Encoding;
use dm_protocol::model::Command;
use rstest::rstest;

const MAC: &str = "syncml:auth-MAC";
const MD5: &str = "syncml:auth-md5";

fn creds(auth_type: AuthType, name: &str, secret: &str, nonce: &[u8]) -> Credentials {
    Credentials {
        auth_type,
        name: name.into(),
        secret: secret.into(),
        nonce: nonce.to_vec(),
    }
}

/// Whether the request's `x-syncml-hmac` is right for `nonce` (facts §6.3).
fn hmac_ok(req: &Request, name: &str, secret: &str, nonce: &[u8]) -> bool {
    req.header("x-syncml-hmac")
        .and_then(|h| HmacHeader::parse(h).ok())
        .is_some_and(|h| auth::verify_hmac(&h, name, secret, nonce, &req.bytes))
}

const GET_MAN: &str =
    "<Get><CmdID>3</CmdID><Item><Target><LocURI>./DevInfo/Man</LocURI></Target></Item></Get>";

/// Client → server HMAC: no Cred, LocName = user, a valid header on every message with the
/// nonce of the latest Chal (facts §6.2 HMAC row, §6.3).
#[rstest]
#[case::xml(Encoding::Xml)]
#[case::wbxml(Encoding::Wbxml)]
#[tokio::test]
async fn client_hmac_every_message_with_rotating_nonce(#[case] encoding: Encoding) {
    let server = serve(|n, req, url| {
        if n == 0 {
            let body = format!(
                "{}{GET_MAN}",
                hdr_status(req, url, 200, &chal(MAC, b"nonce-1"))
            );
            Reply::xml(server_xml(req, 1, url, "", &body, true))
        } else {
            let body = hdr_status(req, url, 200, &chal(MAC, b"nonce-2"));
            Reply::xml(server_xml(req, 2, url, "", &body, true))
        }
    })
    .await;
    let mut tree = device(&server.url);
    let mut cfg = config(&server.url);
    cfg.client_auth = Some(creds(AuthType::Mac, "dev", "devpass", b"nonce-0"));
    let mut session = Session::new(cfg);
    let run = run(&mut tree, &mut session, encoding, &mut NoTester)
        .await
        .unwrap();
    assert_eq!(run.end, EndReason::Completed);
    let reqs = server.requests();
    assert_eq!(reqs.len(), 2);
    for (req, nonce) in reqs.iter().zip([&b"nonce-0"[..], b"nonce-1"]) {
        assert!(
            req.msg().hdr.cred.is_none(),
            "facts §6.1: MAC is never in Cred"
        );
        assert_eq!(req.msg().hdr.source.loc_name.as_deref(), Some("dev"));
        assert!(hmac_ok(req, "dev", "devpass", nonce), "HMAC with {nonce:?}");
    }
    assert!(
        !hmac_ok(&reqs[1], "dev", "devpass", b"nonce-0"),
        "nonce rotated"
    );
    // The sent Exchange records the header that went out.
    let sent = run
        .exchanges
        .iter()
        .find(|e| e.direction == Direction::Sent)
        .unwrap();
    assert!(sent.headers.iter().any(|(n, _)| n == "x-syncml-hmac"));
    assert_eq!(
        sent.headers
            .iter()
            .find(|(n, _)| n == "content-type")
            .map(|(_, v)| v.as_str()),
        Some(encoding.content_type())
    );
}

/// A 407 with a MAC Chal (the server missed our HMAC) makes the client restart package 1
/// with the challenge's nonce (facts §6.2); `stale_nonce` keeps the old one, `no_hmac`
/// sends none.
#[rstest]
#[case::correct(ClientFaults::default(), Some(&b"fresh"[..]))]
#[case::stale_nonce(ClientFaults { stale_nonce: true, ..Default::default() }, Some(&b"old"[..]))]
#[case::no_hmac(ClientFaults { no_hmac: true, ..Default::default() }, None)]
#[tokio::test]
async fn client_hmac_challenge(#[case] faults: ClientFaults, #[case] nonce: Option<&[u8]>) {
    let server = serve(|n, req, url| {
        let body = if n == 0 {
            hdr_status(req, url, 407, &chal(MAC, b"fresh"))
        } else {
            hdr_status(req, url, 200, &chal(MAC, b"next"))
        };
        Reply::xml(server_xml(req, n + 1, url, "", &body, true))
    })
    .await;
    let mut tree = device(&server.url);
    let mut cfg = config(&server.url);
    cfg.client_auth = Some(creds(AuthType::Mac, "dev", "devpass", b"old"));
    cfg.faults = faults;
    let mut session = Session::new(cfg);
    run(&mut tree, &mut session, Encoding::Xml, &mut NoTester)
        .await
        .unwrap();
    let reqs = server.requests();
    assert_eq!(reqs.len(), 2, "package 1 sent again after the challenge");
    let retry = &reqs[1];
    assert!(matches!(
        retry.msg().body.commands.first(),
        Some(Command::Alert(_))
    ));
    assert_eq!(retry.msg().hdr.session_id, reqs[0].msg().hdr.session_id);
    match nonce {
        Some(n) => {
            assert!(hmac_ok(retry, "dev", "devpass", n));
            let other: &[u8] = if n == b"fresh" { b"old" } else { b"fresh" };
            assert!(!hmac_ok(retry, "dev", "devpass", other));
        }
        None => assert!(retry.header("x-syncml-hmac").is_none()),
    }
}

/// How the server signs its package 2.
#[derive(Debug, Clone, Copy)]
enum Sign {
    Good,
    Missing,
    WrongSecret,
    WrongNonce,
}

/// Server → client HMAC: each received message is checked; 200 when right, 407 when
/// missing, 401 when wrong, always with a MAC Chal and a new NextNonce (facts §6.2, §6.3);
/// an unauthenticated server's commands are not executed (facts §6.2).
#[rstest]
#[case::good(Sign::Good, 200)]
#[case::missing(Sign::Missing, 407)]
#[case::wrong_secret(Sign::WrongSecret, 401)]
#[case::wrong_nonce(Sign::WrongNonce, 401)]
#[tokio::test]
async fn server_hmac_checked_per_message(#[case] sign: Sign, #[case] code: u16) {
    let server = serve(move |n, req, url| {
        let body = if n == 0 {
            format!("{}{GET_MAN}", hdr_status(req, url, 200, ""))
        } else {
            hdr_status(req, url, 200, "")
        };
        let reply = Reply::xml(server_xml(req, n + 1, url, "", &body, true));
        // The nonce for message n: the initial one, then the client's NextNonce.
        let nonce = if n == 0 {
            b"srv-0".to_vec()
        } else {
            let c = req.msg().body.commands.iter().find_map(|c| match c {
                Command::Status(s) if s.cmd_ref == "0" => s.chal.clone(),
                _ => None,
            });
            auth::b64_decode(&c.unwrap().meta.next_nonce.unwrap()).unwrap()
        };
        match sign {
            Sign::Missing => reply,
            Sign::WrongSecret => reply.with_hmac("srv", "not-it", &nonce),
            Sign::WrongNonce => reply.with_hmac("srv", "srvpass", b"other"),
            Sign::Good => reply.with_hmac("srv", "srvpass", &nonce),
        }
    })
    .await;
    let mut tree = device(&server.url);
    let mut cfg = config(&server.url);
    cfg.server_auth = Some(creds(AuthType::Mac, "srv", "srvpass", b"srv-0"));
    let mut session = Session::new(cfg);
    let run = run(&mut tree, &mut session, Encoding::Xml, &mut NoTester)
        .await
        .unwrap();
    let reqs = server.requests();
    let pkg3 = reqs[1].msg();
    assert_eq!(status_code(pkg3, "0"), Some(code));
    let hdr = common::statuses(pkg3)[0];
    let c = hdr
        .chal
        .as_ref()
        .expect("a Chal on every HMAC SyncHdr status");
    assert_eq!(c.meta.type_.as_deref(), Some(MAC));
    assert!(c.meta.next_nonce.is_some());
    assert_eq!(status_code(pkg3, "3"), Some(code), "the Get's status");
    let results = pkg3
        .body
        .commands
        .iter()
        .any(|c| matches!(c, Command::Results(_)));
    assert_eq!(
        results,
        code == 200,
        "Results only for an authenticated server"
    );
    let expected_end = if code == 200 {
        EndReason::Completed
    } else {
        EndReason::ServerNotAuthenticated
    };
    assert_eq!(run.end, expected_end);
    // The received Exchange keeps the server's header when it sent one.
    let rx = run
        .exchanges
        .iter()
        .find(|e| e.direction == Direction::Received)
        .unwrap();
    assert_eq!(
        rx.headers.iter().any(|(n, _)| n == "x-syncml-hmac"),
        !matches!(sign, Sign::Missing)
    );
}

/// md5: 401 with a Chal → package 1 again with a digest over the new nonce; the 212's Chal
/// nonce is for the next session and is stored (facts §6.2). `stale_nonce` reuses the old.
#[rstest]
#[case::correct(false)]
#[case::stale_nonce(true)]
#[tokio::test]
async fn md5_challenge_and_nonce_rotation(#[case] stale: bool) {
    let server = serve(|n, req, url| {
        let body = if n == 0 {
            hdr_status(req, url, 401, &chal(MD5, b"n1"))
        } else {
            hdr_status(req, url, 212, &chal(MD5, b"n2"))
        };
        Reply::xml(server_xml(req, n + 1, url, "", &body, true))
    })
    .await;
    let mut tree = device(&server.url);
    let mut cfg = config(&server.url);
    cfg.client_auth = Some(creds(AuthType::Md5, "dev", "devpass", b"n0"));
    cfg.faults.stale_nonce = stale;
    let mut session = Session::new(cfg);
    let run = run(&mut tree, &mut session, Encoding::Xml, &mut NoTester)
        .await
        .unwrap();
    assert_eq!(run.end, EndReason::Completed);
    let reqs = server.requests();
    assert_eq!(reqs.len(), 2);
    let digest = |r: &Request| r.msg().hdr.cred.as_ref().unwrap().data.clone();
    assert!(auth::verify_md5(&digest(&reqs[0]), "dev", "devpass", b"n0"));
    let used: &[u8] = if stale { b"n0" } else { b"n1" };
    assert!(auth::verify_md5(&digest(&reqs[1]), "dev", "devpass", used));
    assert_eq!(session.client_nonce_to_store(), Some(&b"n2"[..]));
}

/// The md5 `Cred` a server sends for user `srv` / `srvpass` over `nonce` (facts §6.1).
fn server_md5_cred(nonce: &[u8]) -> String {
    format!(
        r#"<Cred><Meta><Type xmlns="syncml:metinf">{MD5}</Type><Format xmlns="syncml:metinf">b64</Format></Meta><Data>{}</Data></Cred>"#,
        auth::md5_credential("srv", "srvpass", nonce)
    )
}

/// The NextNonce of the Chal on a client message's SyncHdr Status, if any.
fn client_next_nonce(req: &Request) -> Option<Vec<u8>> {
    let st = common::statuses(req.msg())
        .into_iter()
        .find(|s| s.cmd_ref == "0")?;
    let n = st.chal.as_ref()?.meta.next_nonce.as_deref()?;
    Some(auth::b64_decode(n).unwrap())
}

/// What session 1 does after the device checked the server's md5 credentials.
#[derive(Debug, Clone, Copy, PartialEq)]
enum After {
    /// The server's package 2 has no command: the session ends, nothing is sent (§2.2).
    NothingSent,
    /// The reply carrying the Chal reaches the server, which answers it.
    Delivered,
    /// The server answers the reply carrying the Chal with HTTP 500 and does not take it.
    HttpError,
}

/// facts §6.2: the nonce the device stores for the server's next credentials is the one the
/// server actually received (or none); a Chal that was never sent or not taken changes
/// nothing. Two sessions in a row against a server that keeps the last nonce it received:
/// the second session's md5 credentials are accepted (212).
#[rstest]
#[case::nothing_sent(After::NothingSent)]
#[case::delivered(After::Delivered)]
#[case::http_error(After::HttpError)]
#[tokio::test]
async fn server_nonce_stored_only_once_delivered(#[case] after: After) {
    use std::sync::{Arc, Mutex};
    // The server's copy of the nonce the device expects (a real server's AAuthData).
    let known: Arc<Mutex<Vec<u8>>> = Arc::new(Mutex::new(b"srv-0".to_vec()));
    let k = known.clone();
    let server = serve(move |_, req, url| {
        let first_session = req.msg().hdr.session_id == "7F";
        if req.msg().hdr.msg_id == "1" {
            // Package 2: md5 credentials over the nonce the server knows.
            let cmds = if first_session && after == After::NothingSent {
                String::new()
            } else {
                GET_MAN.to_owned()
            };
            let cred = server_md5_cred(&k.lock().unwrap());
            let body = format!("{}{cmds}", hdr_status(req, url, 200, ""));
            return Reply::xml(server_xml(req, 1, url, &cred, &body, true));
        }
        if first_session && after == After::HttpError {
            return Reply::http_status(500);
        }
        if let Some(n) = client_next_nonce(req) {
            *k.lock().unwrap() = n;
        }
        let body = hdr_status(req, url, 200, "");
        Reply::xml(server_xml(req, 2, url, "", &body, true))
    })
    .await;
    let initial = b"srv-0".to_vec();

    // Session 1.
    let mut tree = device(&server.url);
    let mut cfg = config(&server.url);
    cfg.server_auth = Some(creds(AuthType::Md5, "srv", "srvpass", &initial));
    let mut s1 = Session::new(cfg.clone());
    let r1 = run(&mut tree, &mut s1, Encoding::Xml, &mut NoTester).await;
    let reqs = server.requests();
    match after {
        After::NothingSent => {
            assert_eq!(r1.unwrap().end, EndReason::Completed);
            assert_eq!(reqs.len(), 1, "nothing sent after package 2");
        }
        After::Delivered => {
            assert_eq!(r1.unwrap().end, EndReason::Completed);
            assert_eq!(status_code(reqs[1].msg(), "0"), Some(212));
            assert!(
                client_next_nonce(&reqs[1]).is_some(),
                "md5 Chal with a nonce"
            );
        }
        After::HttpError => {
            assert!(matches!(
                r1,
                Err(dm_client::driver::DriverError::HttpStatus { status: 500 })
            ));
            assert!(client_next_nonce(&reqs[1]).is_some(), "the Chal went out");
        }
    }
    let stored = s1.server_nonce_to_store().map(<[u8]>::to_vec);
    let server_has = known.lock().unwrap().clone();
    match after {
        After::Delivered => assert_eq!(stored.as_ref(), Some(&server_has)),
        _ => assert_eq!(stored, None, "no nonce reached the server"),
    }
    assert_eq!(stored.clone().unwrap_or(initial), server_has);

    // Session 2 with what the device stored.
    cfg.session_id = "80".into();
    cfg.server_auth = Some(creds(
        AuthType::Md5,
        "srv",
        "srvpass",
        &stored.unwrap_or_else(|| b"srv-0".to_vec()),
    ));
    let mut s2 = Session::new(cfg);
    let r2 = run(&mut tree, &mut s2, Encoding::Xml, &mut NoTester)
        .await
        .unwrap();
    assert_eq!(r2.end, EndReason::Completed);
    let reqs: Vec<Request> = server
        .requests()
        .into_iter()
        .filter(|r| r.msg().hdr.session_id == "80")
        .collect();
    assert_eq!(
        status_code(reqs[1].msg(), "0"),
        Some(212),
        "the server's credentials over the nonce it knows are accepted"
    );
    assert_eq!(status_code(reqs[1].msg(), "3"), Some(200));
}

/// Basic server credentials: the Chal carries no NextNonce (facts §6.2), so there is no
/// server nonce to store.
#[tokio::test]
async fn basic_server_auth_issues_no_nonce() {
    let server = serve(|n, req, url| {
        if n == 0 {
            let cred = format!(
                r#"<Cred><Meta><Type xmlns="syncml:metinf">syncml:auth-basic</Type><Format xmlns="syncml:metinf">b64</Format></Meta><Data>{}</Data></Cred>"#,
                auth::basic_credential("srv", "srvpass")
            );
            let body = format!("{}{GET_MAN}", hdr_status(req, url, 200, ""));
            Reply::xml(server_xml(req, 1, url, &cred, &body, true))
        } else {
            Reply::xml(server_xml(req, 2, url, "", &hdr_status(req, url, 200, ""), true))
        }
    })
    .await;
    let mut tree = device(&server.url);
    let mut cfg = config(&server.url);
    cfg.server_auth = Some(creds(AuthType::Basic, "srv", "srvpass", b""));
    let mut session = Session::new(cfg);
    let run = run(&mut tree, &mut session, Encoding::Xml, &mut NoTester)
        .await
        .unwrap();
    assert_eq!(run.end, EndReason::Completed);
    let reqs = server.requests();
    assert_eq!(status_code(reqs[1].msg(), "0"), Some(212));
    assert_eq!(client_next_nonce(&reqs[1]), None);
    assert_eq!(session.server_nonce_to_store(), None);
}

/// A SyncHdr Status refusing the whole message (neither success nor the 401/407 of the
/// authentication flow) ends the session with `Refused`: nothing more is sent, the server's
/// commands are not executed; a code SyncML does not define is also a deviation (facts
/// §3.1, §6.2).
#[rstest]
#[case::forbidden(403, false)]
#[case::command_failed(500, false)]
#[case::sync_failed(512, false)]
#[case::unknown(599, true)]
#[tokio::test]
async fn synchdr_refusal_ends_the_session(#[case] code: u16, #[case] unknown: bool) {
    let server = serve(move |n, req, url| {
        let body = format!(
            "{}<Replace><CmdID>2</CmdID><Item><Target><LocURI>./DMAcc/srvA/Name</LocURI></Target><Data>B</Data></Item></Replace>{GET_MAN}",
            hdr_status(req, url, code, "")
        );
        Reply::xml(server_xml(req, n + 1, url, "", &body, true))
    })
    .await;
    let (tree, session, run) = run_default(&server, &mut NoTester).await;
    assert_eq!(
        run.end,
        EndReason::Refused(dm_protocol::codes::StatusCode::from_u16(code))
    );
    assert_eq!(server.requests().len(), 1, "nothing sent after the refusal");
    assert_eq!(
        tree.value_str("./DMAcc/srvA/Name").unwrap(),
        "A",
        "the refused message's Replace is not executed"
    );
    let noted = session
        .deviations()
        .iter()
        .any(|d| d.msg_id == "1" && d.what.contains("not a SyncML status code"));
    assert_eq!(noted, unknown);
}

/// facts §2.1 / §3.5 / §6.2: a Generic Alert 1226 queued before the session (an
/// asynchronous Exec that finished since) goes in package 1, once; a server that failed to
/// authenticate then gets only Status. (Completions that appear mid-session wait for an
/// authenticated server: tests/session.rs.)
#[tokio::test]
async fn completions_pending_before_the_session_go_in_package_1() {
    let server = serve(|n, req, url| match n {
        0 => {
            let body = format!("{}{GET_MAN}", hdr_status(req, url, 200, ""));
            Reply::xml(server_xml(req, 1, url, "", &body, true))
        }
        1 => {
            let cred = format!(
                r#"<Cred><Meta><Type xmlns="syncml:metinf">syncml:auth-basic</Type><Format xmlns="syncml:metinf">b64</Format></Meta><Data>{}</Data></Cred>"#,
                auth::basic_credential("srv", "srvpass")
            );
            let body = format!("{}{GET_MAN}", hdr_status(req, url, 200, ""));
            Reply::xml(server_xml(req, 2, url, &cred, &body, true))
        }
        _ => Reply::xml(server_xml(req, 3, url, "", &hdr_status(req, url, 200, ""), true)),
    })
    .await;
    let mut tree = device(&server.url);
    tree.complete_exec(dm_tree::Completion {
        correlator: Some("c-1".into()),
        source: dm_protocol::uri::NodeUri::parse("./DevInfo").unwrap(),
        alert_type: "urn:example:done".into(),
        format: "int".into(),
        mark: None,
        data: "1200".into(),
        server: None,
    });
    let mut cfg = config(&server.url);
    cfg.server_auth = Some(creds(AuthType::Basic, "srv", "srvpass", b""));
    let mut session = Session::new(cfg);
    let run = run(&mut tree, &mut session, Encoding::Xml, &mut NoTester)
        .await
        .unwrap();
    assert_eq!(run.end, EndReason::Completed);
    let reqs = server.requests();
    assert_eq!(reqs.len(), 3);
    let generic = |r: &Request| {
        r.msg()
            .body
            .commands
            .iter()
            .filter_map(|c| match c {
                Command::Alert(a)
                    if a.code == Some(dm_protocol::codes::AlertCode::GenericAlert) =>
                {
                    a.correlator.clone()
                }
                _ => None,
            })
            .collect::<Vec<_>>()
    };
    assert_eq!(status_code(reqs[1].msg(), "0"), Some(407));
    assert!(
        reqs[1]
            .msg()
            .body
            .commands
            .iter()
            .all(|c| matches!(c, Command::Status(_))),
        "only Status to an unauthenticated server"
    );
    assert_eq!(generic(&reqs[0]), vec!["c-1".to_owned()]);
    assert_eq!(status_code(reqs[2].msg(), "0"), Some(212));
    assert!(generic(&reqs[2]).is_empty(), "reported once");
}
