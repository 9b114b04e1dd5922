//! HTTPS steps (docs/tls.md; facts §6.4, DMRD-6.1.1.5-1, DMRD-6.3.1.2-4, DMRD-6.3.4-14).
//!
//! Which peers speak TLS is decided by the profile, not by a step: a client claiming `tls`
//! meets a tester server that serves HTTPS only, a server claiming it is reached at its
//! `https://` URL. These steps switch the certificate the tester presents, open sessions
//! that must be protected, and judge what the tester saw: its TLS front records how each
//! connection's handshake ended (`run::tls::Handshake`).

use std::collections::BTreeMap;

use cucumber::step::Context;

use super::{arg, def, Def};
use crate::profile::{Feature, Role};
use crate::run::client_side::ClientSide;
use crate::run::server_side::ServerSide;
use crate::run::tls::{Handshake, Presented};
use crate::run::world::{DmWorld, Observed, Party, StepResult, TlsFailure, Why};

pub(super) fn defs() -> Vec<Def> {
    vec![
        def!(
            Given,
            r"the tester server presents (a certificate from a CA the client does not trust|a certificate for another host name)",
            present
        ),
        def!(
            When,
            r"the client opens a session over HTTPS",
            https_session
        ),
        def!(
            When,
            r"the client tries to start (?:a|another) session",
            try_session
        ),
        def!(Then, r"the exchange ran over TLS", ran_over_tls),
        def!(
            Then,
            r"the client refused the tester's certificate",
            refused
        ),
    ]
}

fn is_https(url: &str) -> bool {
    crate::profile::has_scheme(url, "https")
}

fn is_plain_http(url: &str) -> bool {
    crate::profile::has_scheme(url, "http")
}

const RULE: &str = "facts §6.4, DMRD-6.1.1.5-1 (data between server and device is kept \
                    confidential: DM over HTTPS)";

/// Switch the tester's certificate; later checks look only at what happened after this.
async fn present(w: &mut DmWorld, c: &Context) -> StepResult {
    super::setup::only(w, Role::Client, "the tester server presents a certificate")?;
    if !w.ctx()?.profile.claims(Feature::Tls) {
        return Err(Why::NotApplicable(
            "the client does not claim `tls`: the tester serves plain HTTP".into(),
        ));
    }
    let Some(ServerSide::Tester(tester)) = &w.server else {
        return Err(Why::Error(
            "switch the tester's certificate after `the client has an account on the server`"
                .into(),
        ));
    };
    let front = tester
        .tls
        .as_ref()
        .ok_or_else(|| Why::Error("the tester serves plain HTTP".into()))?;
    front.present(if arg(c, 1).contains("host name") {
        Presented::WrongName
    } else {
        Presented::UntrustedCa
    });
    w.tls_mark = Some((front.handshakes().len(), w.sessions.len()));
    Ok(())
}

/// How the tester's device failed to reach a server under test over TLS: a server that does
/// not speak TLS at its `https://` URL fails DMRD-6.3.1.2-4 (`rule`); anything else is not
/// the server shown wrong (a certificate the IXIT's anchors do not accept, a protocol the
/// harness does not speak, a server that is down).
fn unreachable_over_tls(observed: Option<&Observed>, url: &str, rule: &str) -> Why {
    match observed.and_then(|o| o.tls_failure.as_ref()) {
        Some(TlsFailure::NotTls(e)) => Why::Fail(format!(
            "{rule}: expected a TLS handshake at {url}; received no TLS: {e}"
        )),
        Some(TlsFailure::CertificateNotAccepted(e)) => Why::Inconclusive(format!(
            "the server's certificate is not accepted by the profile's trust_anchors ({e}); \
             check [ixit] trust_anchors"
        )),
        Some(TlsFailure::Other(e)) => Why::Inconclusive(format!(
            "no TLS session with {url} ({e}); the harness speaks TLS 1.2 and 1.3 without a \
             client certificate (docs/tls.md)"
        )),
        None => Why::Inconclusive(format!(
            "the server under test did not answer at {url}: {}",
            observed.map_or("no session", |o| o.end.as_str())
        )),
    }
}

/// A session that must run over TLS. Server role: the tester's device opens it at the
/// server's `https://` URL. Client role: the client under test starts it towards the
/// tester's HTTPS endpoint.
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
            let url = iut.dm_url.clone();
            w.sessions.push(observed);
            if answered {
                Ok(())
            } else {
                Err(unreachable_over_tls(
                    w.sessions.last(),
                    &url,
                    "facts §6.4, DMRD-6.3.1.2-4 (the server supports HTTPS)",
                ))
            }
        }
        (Some(ClientSide::Iut(..)), Some(ServerSide::Tester(tester))) => {
            if tester.tls.is_none() {
                return Err(Why::NotApplicable(
                    "the client does not claim `tls`: the tester serves plain HTTP".into(),
                ));
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
        Ok(_) => "its start_session action succeeded".into(),
        Err(e) => e.to_string(),
    });
    Ok(())
}

async fn ran_over_tls(w: &mut DmWorld, _c: &Context) -> StepResult {
    let received = |party: Party| w.sessions.iter().any(|s| s.from(party).next().is_some());
    match &w.server {
        Some(ServerSide::Tester(tester)) => {
            let Some(front) = &tester.tls else {
                return Err(Why::NotApplicable(
                    "the client does not claim `tls`: the tester serves plain HTTP".into(),
                ));
            };
            let handshakes = front.handshakes();
            if !handshakes.contains(&Handshake::Completed(Presented::Trusted)) {
                return Err(Why::Fail(format!(
                    "{RULE}: expected a TLS handshake with the tester at {} (the CA given at \
                     bootstrap); received {handshakes:?}",
                    tester.url
                )));
            }
            // The tester's front speaks TLS only: every message it received came over it.
            if !received(Party::Client) {
                return Err(Why::Fail(format!(
                    "{RULE}: expected DM messages over TLS; received none after {} handshakes",
                    handshakes.len()
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
            if !is_https(&iut.dm_url) {
                return Err(Why::Inconclusive(format!(
                    "the profile claims `tls` but the server's DM URL {} is not https://",
                    iut.dm_url
                )));
            }
            // The tester's device speaks only TLS to an https:// URL and checks the
            // certificate, so an answer at that URL came over authenticated TLS.
            if !received(Party::Server) {
                return Err(unreachable_over_tls(
                    w.sessions.last(),
                    &iut.dm_url,
                    "facts §6.4, DMRD-6.3.1.2-4, DMRD-6.3.4-14 (the server sets up a secure connection)",
                ));
            }
            // A RespURI would move the rest of the session to plain HTTP.
            let downgrade = w
                .sessions
                .iter()
                .flat_map(|s| s.from(Party::Server))
                .filter_map(|m| m.msg.as_ref()?.hdr.resp_uri.clone())
                .find(|r| is_plain_http(r));
            if let Some(r) = downgrade {
                return Err(Why::Fail(format!(
                    "{RULE}: expected every RespURI of an HTTPS session to stay on https://; \
                     received RespURI {r}"
                )));
            }
            Ok(())
        }
        None => Err(Why::Error(
            "check the exchange after `the client has an account on the server`".into(),
        )),
    }
}

/// Since the certificate was switched: the client must have refused it with a certificate
/// alert, completed no handshake with it, spoken no cleartext and sent no DM message.
async fn refused(w: &mut DmWorld, _c: &Context) -> StepResult {
    let (Some(ServerSide::Tester(tester)), Some((h0, s0))) = (&mut w.server, w.tls_mark) else {
        return Err(Why::Error(
            "`the client refused the tester's certificate` follows `the tester server presents …`"
                .into(),
        ));
    };
    let late = tester.new_sessions(&w.dev_id)?;
    w.sessions.extend(late);
    let front = tester
        .tls
        .as_ref()
        .ok_or_else(|| Why::Error("the tester serves plain HTTP".into()))?;
    let since: Vec<Handshake> = front.handshakes().into_iter().skip(h0).collect();
    let presented = front.presented().describe();
    let messages: usize = w.sessions[s0.min(w.sessions.len())..]
        .iter()
        .map(|s| s.from(Party::Client).count())
        .sum();
    if let Some(h) = since.iter().find(|h| matches!(h, Handshake::Completed(_))) {
        return Err(Why::Fail(format!(
            "{RULE}: a client must not accept a certificate it cannot verify; expected the \
             client to refuse {presented}; received a completed handshake ({h:?}) and \
             {messages} DM message(s)"
        )));
    }
    if let Some(Handshake::NotTls(e)) = since.iter().find(|h| matches!(h, Handshake::NotTls(_))) {
        return Err(Why::Fail(format!(
            "{RULE}: expected no cleartext towards the server; received a connection that was \
             not TLS ({e})"
        )));
    }
    if messages > 0 {
        return Err(Why::Fail(format!(
            "{RULE}: expected no DM message after the tester presented {presented}; received \
             {messages}"
        )));
    }
    if since.iter().any(|h| matches!(h, Handshake::Refused(..))) {
        return Ok(());
    }
    // A client that never connected, or whose handshake failed for another reason, cannot
    // be judged on this certificate.
    Err(Why::Inconclusive(format!(
        "the client did not refuse {presented} with a certificate alert; handshakes: \
         {since:?} ({})",
        w.attempt.as_deref().unwrap_or("no attempt recorded")
    )))
}
