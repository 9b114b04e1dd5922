//! HTTPS steps (docs/tls.md; facts §6.4, DMRD-6.1.1.5-1, DMRD-6.3.1.2-4, DMRD-6.3.4-14).
//!
//! Which peers speak TLS is decided by the profile, not by a step: a client claiming `tls`
//! meets a tester server that serves HTTPS only, a server claiming it is reached at its
//! `https://` URL. These steps make a certificate untrusted on purpose, open a session that
//! must be protected, and check what went over the wire.

use std::collections::BTreeMap;

use cucumber::step::Context;

use super::{def, Def};
use crate::profile::{Feature, Role};
use crate::run::client_side::ClientSide;
use crate::run::server_side::ServerSide;
use crate::run::world::{DmWorld, Party, StepResult, TlsFailure, Why};

pub(super) fn defs() -> Vec<Def> {
    vec![
        def!(
            Given,
            r"the tester server presents a certificate the client does not trust",
            untrusted
        ),
        def!(
            When,
            r"the client opens a session over HTTPS",
            https_session
        ),
        def!(When, r"the client tries to start a session", try_session),
        def!(Then, r"the exchange ran over TLS", ran_over_tls),
        def!(
            Then,
            r"the client started a TLS handshake with the tester",
            handshake_started
        ),
        def!(
            Then,
            r"the tester received no message from the client",
            nothing_received
        ),
    ]
}

fn is_https(url: &str) -> bool {
    url.get(..8)
        .is_some_and(|s| s.eq_ignore_ascii_case("https://"))
}

const RULE: &str = "facts §6.4, DMRD-6.1.1.5-1 (data between server and device is kept \
                    confidential: DM over HTTPS)";

async fn untrusted(w: &mut DmWorld, _c: &Context) -> StepResult {
    super::setup::only(w, Role::Client, "the tester server presents a certificate")?;
    if !w.ctx()?.profile.claims(Feature::Tls) {
        return Err(Why::NotApplicable(
            "the client does not claim `tls`: the tester serves plain HTTP".into(),
        ));
    }
    if w.server.is_some() {
        return Err(Why::Error(
            "say which certificate the tester presents before `the client has an account on the server`".into(),
        ));
    }
    w.setup.untrusted_certificate = true;
    Ok(())
}

/// A session that must run over TLS. Server role: the tester's device opens it at the
/// server's `https://` URL, and a handshake the server cannot complete is a failure (a
/// certificate the IXIT's trust anchors do not accept is the profile's matter:
/// inconclusive). Client role: the client under test starts it towards the tester's HTTPS
/// endpoint.
async fn https_session(w: &mut DmWorld, _c: &Context) -> StepResult {
    let ctx = w.ctx()?;
    let seed = w.seed.wrapping_add(w.sessions.len() as u64);
    match (&mut w.client, &w.server) {
        (Some(ClientSide::Tester(tester)), Some(ServerSide::Iut(iut))) => {
            if !is_https(&iut.dm_url) {
                return Err(Why::Inconclusive(format!(
                    "the profile claims `tls` but the server's DM URL {} is not https://; give \
                     [ixit] server_url as the https URL and trust_anchors (docs/profiles.md)",
                    iut.dm_url
                )));
            }
            let script = w.setup.tester_client.clone();
            let observed = tester
                .session(Vec::new(), &script, false, None, seed)
                .await?;
            let answered = observed.from(Party::Server).next().is_some();
            let failure = observed.tls_failure.clone();
            w.sessions.push(observed);
            match failure {
                _ if answered => Ok(()),
                Some(TlsFailure::Handshake(e)) => Err(Why::Fail(format!(
                    "facts §6.4, DMRD-6.3.1.2-4 (the server supports HTTPS): expected a TLS \
                     handshake at {}; received: {e}",
                    iut.dm_url
                ))),
                Some(TlsFailure::CertificateNotAccepted(e)) => Err(Why::Inconclusive(format!(
                    "the server's certificate is not accepted by the profile's trust_anchors \
                     ({e}); check [ixit] trust_anchors"
                ))),
                None => Err(Why::Inconclusive(format!(
                    "the server under test did not answer at {}",
                    iut.dm_url
                ))),
            }
        }
        (Some(ClientSide::Iut(..)), Some(ServerSide::Tester(tester))) => {
            if !is_https(&tester.url) {
                return Err(Why::Error(format!(
                    "the tester serves {} without TLS although the client claims `tls`",
                    tester.url
                )));
            }
            super::act::session(w, Vec::new(), "start_session", BTreeMap::new()).await
        }
        (Some(ClientSide::Iut(..)), Some(ServerSide::Iut(_))) if ctx.interop() => {
            Err(Why::NotApplicable(
                "in an interop run the client talks plain HTTP to the harness's relay".into(),
            ))
        }
        _ => Err(Why::Error(
            "open a session after `the client has an account on the server`".into(),
        )),
    }
}

/// Client role: the client under test is asked to start a session that it may rightly
/// refuse (its adapter may then report a failure); whatever reached the tester is kept.
async fn try_session(w: &mut DmWorld, _c: &Context) -> StepResult {
    super::setup::only(w, Role::Client, "the client tries to start a session")?;
    let (Some(ClientSide::Iut(iut, _)), Some(ServerSide::Tester(tester))) =
        (&w.client, &mut w.server)
    else {
        return Err(Why::Error(
            "start a session after `the client has an account on the server`".into(),
        ));
    };
    // A refusal surfaces as a failed action (dm-client exits 3): not an adapter fault here.
    let outcome = iut.perform("start_session", BTreeMap::new()).await;
    let new = tester.new_sessions(&w.dev_id)?;
    w.sessions.extend(new);
    w.attempt = Some(match outcome {
        Ok(_) => "the client's start_session action succeeded".into(),
        Err(e) => e.to_string(),
    });
    Ok(())
}

async fn ran_over_tls(w: &mut DmWorld, _c: &Context) -> StepResult {
    let received = |party: Party| w.sessions.iter().any(|s| s.from(party).next().is_some());
    match &w.server {
        Some(ServerSide::Tester(tester)) => {
            let hellos = tester.tls_hellos().unwrap_or(0);
            if !is_https(&tester.url) || hellos == 0 {
                return Err(Why::Fail(format!(
                    "{RULE}: expected the client to connect with TLS to {}; received {hellos} TLS handshakes",
                    tester.url
                )));
            }
            // The tester's endpoint speaks TLS only: every message it received came over it.
            if !received(Party::Client) {
                return Err(Why::Fail(format!(
                    "{RULE}: expected DM messages over TLS; received none after {hellos} handshakes"
                )));
            }
            Ok(())
        }
        Some(ServerSide::Iut(iut)) => {
            if w.ctx()?.interop() {
                return Err(Why::NotApplicable(
                    "in an interop run the client talks plain HTTP to the harness's relay".into(),
                ));
            }
            // The tester's device refuses plain HTTP on an https:// URL (dm-client
            // transport), so an answer at that URL came over TLS.
            if !is_https(&iut.dm_url) {
                return Err(Why::Inconclusive(format!(
                    "the profile claims `tls` but the server's DM URL {} is not https://",
                    iut.dm_url
                )));
            }
            if !received(Party::Server) {
                return Err(Why::Fail(format!(
                    "facts §6.4, DMRD-6.3.1.2-4: expected the server's answers over TLS at {}; received none",
                    iut.dm_url
                )));
            }
            Ok(())
        }
        None => Err(Why::Error(
            "check the exchange after `the client has an account on the server`".into(),
        )),
    }
}

async fn handshake_started(w: &mut DmWorld, _c: &Context) -> StepResult {
    let Some(ServerSide::Tester(tester)) = &w.server else {
        return Err(Why::Error("this step checks a client under test".into()));
    };
    match tester.tls_hellos() {
        Some(n) if n > 0 => Ok(()),
        // A client that never connects cannot be judged on what it would have sent.
        _ => Err(Why::Inconclusive(format!(
            "the client never started a TLS handshake with the tester at {} ({})",
            tester.url,
            w.attempt.as_deref().unwrap_or("no attempt recorded")
        ))),
    }
}

async fn nothing_received(w: &mut DmWorld, _c: &Context) -> StepResult {
    let Some(ServerSide::Tester(tester)) = &mut w.server else {
        return Err(Why::Error("this step checks a client under test".into()));
    };
    let late = tester.new_sessions(&w.dev_id)?;
    w.sessions.extend(late);
    let messages: usize = w
        .sessions
        .iter()
        .map(|s| s.from(Party::Client).count())
        .sum();
    if messages > 0 {
        return Err(Why::Fail(format!(
            "{RULE}: a client must not send its data to a server whose certificate it cannot \
             verify; expected no message; received {messages} message(s) over a connection to \
             a certificate from an untrusted CA"
        )));
    }
    Ok(())
}
