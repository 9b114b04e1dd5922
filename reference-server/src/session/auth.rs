//! Authentication in both directions (facts §6): checking the device's credentials against
//! `Device::client_auth`, and building ours from `Device::server_auth`.

use dm_protocol::auth::{self, AuthType, HmacHeader};
use dm_protocol::codes::StatusCode;
use dm_protocol::model::{Chal, Cred, Meta, SyncMl};

use crate::model::{AuthKind, Secret};

/// The wire type of an [`AuthKind`] (facts §6.1).
pub(super) fn auth_type(kind: AuthKind) -> AuthType {
    match kind {
        AuthKind::Basic => AuthType::Basic,
        AuthKind::Md5 => AuthType::Md5,
        AuthKind::Hmac => AuthType::Mac,
    }
}

/// The verdict on one device message's credentials.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Verdict {
    /// Authenticated: 212 for basic/md5 (rest of the session), 200 for HMAC (this message)
    /// or when no credentials are required / the session is already authenticated.
    Accepted(StatusCode),
    /// Missing (407) or wrong (401) credentials, with why.
    Refused(StatusCode, String),
}

/// What the device presented, checked against `secret` and the nonce we issued.
pub(super) struct Check<'a> {
    /// The required credentials.
    pub secret: &'a Secret,
    /// The nonce the device must use (md5, HMAC).
    pub nonce: &'a [u8],
    /// Nonces already used in an accepted credential (replay protection).
    pub used: &'a [String],
    /// The message.
    pub msg: &'a SyncMl,
    /// Its exact bytes.
    pub bytes: &'a [u8],
    /// Its `x-syncml-hmac` header.
    pub hmac_header: Option<&'a str>,
}

impl Check<'_> {
    /// Check the message's credentials (facts §6.1–§6.3).
    pub fn verdict(&self) -> Verdict {
        let s = self.secret;
        match s.kind {
            AuthKind::Hmac => self.hmac(),
            AuthKind::Basic | AuthKind::Md5 => {
                let Some(cred) = &self.msg.hdr.cred else {
                    return Verdict::Refused(
                        StatusCode::MissingCredentials,
                        "no Cred in the SyncHdr (facts §6.2: 407)".into(),
                    );
                };
                let ty = cred.meta.as_ref().and_then(|m| m.type_.as_deref());
                let want = auth_type(s.kind);
                if ty != Some(want.as_str()) {
                    return Verdict::Refused(
                        StatusCode::InvalidCredentials,
                        format!(
                            "Cred type {ty:?}, expected {} (facts §6.2: the auth type stays \
                             the one challenged)",
                            want.as_str()
                        ),
                    );
                }
                if s.kind == AuthKind::Basic {
                    return if auth::verify_basic(cred.data.trim(), &s.name, &s.secret) {
                        Verdict::Accepted(StatusCode::AuthenticationAccepted)
                    } else {
                        Verdict::Refused(
                            StatusCode::InvalidCredentials,
                            "wrong basic credentials (facts §6.1)".into(),
                        )
                    };
                }
                self.nonced(|nonce| auth::verify_md5(&cred.data, &s.name, &s.secret, nonce))
                    .unwrap_or(Verdict::Accepted(StatusCode::AuthenticationAccepted))
            }
        }
    }

    /// `None` when `ok` holds for the current, unused nonce; else the refusal (replay when
    /// it holds for a nonce already used).
    fn nonced(&self, ok: impl Fn(&[u8]) -> bool) -> Option<Verdict> {
        let current = auth::b64(self.nonce);
        if ok(self.nonce) && !self.used.contains(&current) {
            return None;
        }
        let replayed = self
            .used
            .iter()
            .any(|u| auth::b64_decode(u).map(|raw| ok(&raw)).unwrap_or(false));
        Some(Verdict::Refused(
            StatusCode::InvalidCredentials,
            if replayed {
                "credentials computed over a nonce already used (replay refused, facts §6.2: \
                 new nonce per session)"
                    .into()
            } else {
                "credentials do not match the nonce we issued (facts §6.1, §6.3)".into()
            },
        ))
    }

    fn hmac(&self) -> Verdict {
        let s = self.secret;
        let Some(value) = self.hmac_header else {
            return Verdict::Refused(
                StatusCode::MissingCredentials,
                "no x-syncml-hmac header (facts §6.3: every message carries it)".into(),
            );
        };
        let header = match HmacHeader::parse(value) {
            Ok(h) => h,
            Err(e) => {
                return Verdict::Refused(
                    StatusCode::InvalidCredentials,
                    format!("x-syncml-hmac does not parse: {e} (facts §6.3)"),
                )
            }
        };
        if self.msg.hdr.source.loc_name.as_deref() != Some(header.username.as_str()) {
            return Verdict::Refused(
                StatusCode::InvalidCredentials,
                "x-syncml-hmac username differs from SyncHdr Source/LocName (facts §6.3)".into(),
            );
        }
        self.nonced(|nonce| auth::verify_hmac(&header, &s.name, &s.secret, nonce, self.bytes))
            .unwrap_or(Verdict::Accepted(StatusCode::Ok))
    }
}

/// A Chal of `kind`; md5 and HMAC carry `nonce` as NextNonce (facts §6.2).
pub(super) fn chal(kind: AuthKind, nonce: Option<&[u8]>) -> Chal {
    Chal {
        meta: Meta {
            type_: Some(auth_type(kind).as_str().to_owned()),
            format: Some("b64".into()),
            next_nonce: nonce.filter(|_| kind != AuthKind::Basic).map(auth::b64),
            ..Meta::default()
        },
    }
}

/// Our `Cred` for the SyncHdr (basic, md5 with the device's nonce; none for HMAC, which
/// goes in the transport header, facts §6.1).
pub(super) fn our_cred(secret: &Secret, nonce: &[u8]) -> Option<Cred> {
    let data = match secret.kind {
        AuthKind::Basic => auth::basic_credential(&secret.name, &secret.secret),
        AuthKind::Md5 => auth::md5_credential(&secret.name, &secret.secret, nonce),
        AuthKind::Hmac => return None,
    };
    Some(Cred {
        meta: Some(Meta {
            type_: Some(auth_type(secret.kind).as_str().to_owned()),
            format: Some("b64".into()),
            ..Meta::default()
        }),
        data,
    })
}

/// The `x-syncml-hmac` value over `body` (facts §6.3).
pub(super) fn hmac_value(secret: &Secret, nonce: &[u8], body: &[u8]) -> String {
    HmacHeader::new(
        secret.name.clone(),
        auth::hmac_mac(&secret.name, &secret.secret, nonce, body),
    )
    .to_string()
}
