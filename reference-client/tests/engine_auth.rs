#![allow(clippy::unwrap_used, clippy::expect_used)]
//! Authentication end to end over a real socket: per-message HMAC in both directions
//! (facts §6.3), md5 challenge and nonce rotation (facts §6.2), and the auth fault switches.

mod common;

use common::{
    chal, config, device, hdr_status, run, serve, server_xml, status_code, Reply, Request,
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
