//! Implementation profiles: what the implementation under test (IUT) is, which optional
//! features it claims (the ICS), the extra information needed to test it (the IXIT), and how
//! the harness makes it act (the adapter). TOML, documented with a client and a server
//! example in `docs/profiles.md`; the vocabulary is `shared/docs/conformance-model.md`'s.
//!
//! Every table refuses unknown fields and every ICS feature name is checked against
//! [`Feature`], so a typo is an error naming it instead of a silently unclaimed feature.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// The role of the IUT.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Role {
    /// A DM client (device): tested by the reference server in tester mode; `@client`
    /// scenarios apply.
    #[serde(rename = "dm-client")]
    Client,
    /// A DM server: tested by the reference client in tester mode; `@server` scenarios
    /// apply.
    #[serde(rename = "dm-server")]
    Server,
}

impl Role {
    /// The scenario tag of this role (`client` or `server`).
    pub fn tag(self) -> &'static str {
        match self {
            Role::Client => "client",
            Role::Server => "server",
        }
    }
}

/// An optional feature an IUT may claim (the ICS vocabulary; scenario tag `@ics:<name>`).
/// Scenarios needing an unclaimed feature are `not-applicable`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum Feature {
    /// WBXML encoding (facts §12).
    #[serde(rename = "encoding.wbxml")]
    Wbxml,
    /// `syncml:auth-basic` (facts §6.1).
    #[serde(rename = "auth.basic")]
    AuthBasic,
    /// `syncml:auth-md5` (facts §6.1, §6.2).
    #[serde(rename = "auth.md5")]
    AuthMd5,
    /// `syncml:auth-MAC` (facts §6.3).
    #[serde(rename = "auth.hmac")]
    AuthHmac,
    /// Large objects (facts §8).
    #[serde(rename = "large-objects")]
    LargeObjects,
    /// TNDS in Add/Replace and `?list=TNDS` (facts §9.2).
    #[serde(rename = "tnds")]
    Tnds,
    /// `?list=Struct|StructData` (facts §4.6).
    #[serde(rename = "list-queries")]
    ListQueries,
    /// UI alerts 1100–1104 (facts §3.4).
    #[serde(rename = "ui-alerts")]
    UiAlerts,
    /// Package #0 over UDP (facts §7).
    #[serde(rename = "notify.udp")]
    NotifyUdp,
    /// Package #0 over TCP (project-defined framing).
    #[serde(rename = "notify.tcp")]
    NotifyTcp,
    /// Package #0 over HTTP POST (project-defined framing).
    #[serde(rename = "notify.http")]
    NotifyHttp,
    /// HTTPS (facts §6.4).
    #[serde(rename = "tls")]
    Tls,
    /// TLS client certificates.
    #[serde(rename = "tls.client-cert")]
    TlsClientCert,
    /// Software component management (facts §10).
    #[serde(rename = "scomo")]
    Scomo,
    /// The device asks its user before it reports the installed-application list
    /// (DMRD-6.1.4-16; docs/scomo.md "Inventory consent"); for the test it is set to ask.
    #[serde(rename = "scomo.inventory-consent")]
    ScomoInventoryConsent,
    /// The project-defined schedule MO.
    #[serde(rename = "scheduling")]
    Scheduling,
    /// Backup/restore for migration.
    #[serde(rename = "migration")]
    Migration,
}

impl Feature {
    /// Every feature, in declaration order.
    pub const ALL: [Feature; 17] = [
        Feature::Wbxml,
        Feature::AuthBasic,
        Feature::AuthMd5,
        Feature::AuthHmac,
        Feature::LargeObjects,
        Feature::Tnds,
        Feature::ListQueries,
        Feature::UiAlerts,
        Feature::NotifyUdp,
        Feature::NotifyTcp,
        Feature::NotifyHttp,
        Feature::Tls,
        Feature::TlsClientCert,
        Feature::Scomo,
        Feature::ScomoInventoryConsent,
        Feature::Scheduling,
        Feature::Migration,
    ];

    /// Whether the feature is one implementation's own behaviour, which its peer takes no
    /// part in (an interop run then needs only the judged implementation's claim).
    pub fn one_sided(self) -> bool {
        matches!(self, Feature::ScomoInventoryConsent)
    }

    /// The ICS name (`encoding.wbxml`, `auth.md5`, …), also the `@ics:` tag value.
    pub fn name(self) -> &'static str {
        match self {
            Feature::Wbxml => "encoding.wbxml",
            Feature::AuthBasic => "auth.basic",
            Feature::AuthMd5 => "auth.md5",
            Feature::AuthHmac => "auth.hmac",
            Feature::LargeObjects => "large-objects",
            Feature::Tnds => "tnds",
            Feature::ListQueries => "list-queries",
            Feature::UiAlerts => "ui-alerts",
            Feature::NotifyUdp => "notify.udp",
            Feature::NotifyTcp => "notify.tcp",
            Feature::NotifyHttp => "notify.http",
            Feature::Tls => "tls",
            Feature::TlsClientCert => "tls.client-cert",
            Feature::Scomo => "scomo",
            Feature::ScomoInventoryConsent => "scomo.inventory-consent",
            Feature::Scheduling => "scheduling",
            Feature::Migration => "migration",
        }
    }
}

impl FromStr for Feature {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        Feature::ALL
            .into_iter()
            .find(|f| f.name() == s)
            .ok_or_else(|| {
                let known: Vec<&str> = Feature::ALL.iter().map(|f| f.name()).collect();
                format!("unknown ICS feature {s:?}; known: {}", known.join(", "))
            })
    }
}

/// `[implementation]`: who the IUT is.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Implementation {
    /// Product name.
    pub name: String,
    /// Version.
    pub version: String,
    /// Vendor.
    pub vendor: String,
    /// The role under test.
    pub role: Role,
}

/// `[ics]`: the optional features claimed.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Ics {
    /// The claimed features.
    #[serde(default)]
    pub claims: BTreeSet<Feature>,
}

/// Credentials of one direction, as the IUT is configured.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Credentials {
    /// `basic`, `md5` or `hmac`.
    #[serde(rename = "type")]
    pub kind: String,
    /// User name.
    pub name: String,
    /// Secret.
    pub secret: String,
}

impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Credentials")
            .field("kind", &self.kind)
            .field("name", &self.name)
            .field("secret", &"<redacted>")
            .finish()
    }
}

/// `[ixit]`: what the harness must know to test the IUT.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Ixit {
    /// The device's DevId (client IUT: the one it reports; server IUT: the one the tester
    /// uses).
    pub dev_id: String,
    /// The ServerID the device knows the server by.
    pub server_id: String,
    /// Server IUT: its DM URL. Client IUT: the URL it must be pointed at is the tester's,
    /// given to the adapter at run time.
    #[serde(default)]
    pub server_url: Option<String>,
    /// Client → server credentials.
    #[serde(default)]
    pub client_auth: Option<Credentials>,
    /// Server → client credentials (and the package #0 password).
    #[serde(default)]
    pub server_auth: Option<Credentials>,
    /// Server IUT with an `https://` URL: PEM files of the CAs that issued its certificate,
    /// the only trust anchors of the tester's device (relative paths are read from the
    /// profile's folder). A client IUT learns the tester's CA from `bootstrap` instead.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub trust_anchors: Vec<PathBuf>,
    /// Seconds each step may take before the scenario is `inconclusive`.
    #[serde(default = "default_step_timeout")]
    pub step_timeout_secs: u64,
}

fn default_step_timeout() -> u64 {
    30
}

/// `[adapter]`: how the harness makes the IUT act (docs/adapters.md).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "lowercase", deny_unknown_fields)]
pub enum Adapter {
    /// The bundled reference peer, run as a separate process.
    Reference,
    /// One command template per action, with `{placeholders}`.
    Exec {
        /// Action name → command template.
        actions: std::collections::BTreeMap<String, String>,
    },
    /// A server implementing the reference server's admin API contract (docs/admin-api.md).
    Http {
        /// Its base URL.
        admin_url: String,
    },
    /// A person performs each action when prompted.
    Manual {
        /// Seconds to wait for the person.
        #[serde(default = "default_manual_timeout")]
        timeout_secs: u64,
    },
}

fn default_manual_timeout() -> u64 {
    300
}

/// A whole profile.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Profile {
    /// Who.
    pub implementation: Implementation,
    /// What it claims.
    #[serde(default)]
    pub ics: Ics,
    /// What the harness needs to know.
    pub ixit: Ixit,
    /// How it is driven.
    pub adapter: Adapter,
}

/// Why a profile cannot be used.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ProfileError {
    /// Unreadable file.
    #[error("cannot read the profile {path}: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// Malformed TOML, unknown field or feature, missing field.
    #[error("the profile {path} is not valid: {message}")]
    Syntax {
        /// The file.
        path: PathBuf,
        /// The parser's message with line and column.
        message: String,
    },
    /// Values that do not go together.
    #[error("the profile {path} is not usable: {message}")]
    Invalid {
        /// The file.
        path: PathBuf,
        /// What to fix.
        message: String,
    },
}

/// The actions an `exec` adapter may define, per role (docs/adapters.md).
pub const CLIENT_ACTIONS: [&str; 7] = [
    "bootstrap",
    "start_session",
    "send_alert",
    "restart",
    "answer_ui",
    "set_clock",
    "advance_clock",
];

/// The actions an `exec` adapter for a server may define.
pub const SERVER_ACTIONS: [&str; 4] = ["register_device", "queue_job", "notify", "job_status"];

impl Profile {
    /// Parse TOML text; `path` names the profile in errors.
    pub fn from_toml(text: &str, path: &Path) -> Result<Profile, ProfileError> {
        let mut p: Profile = toml::from_str(text).map_err(|e| ProfileError::Syntax {
            path: path.to_owned(),
            message: e.to_string(),
        })?;
        // Relative anchors are read from the profile's folder, made absolute now: the
        // tester's device works in another folder.
        let folder = path
            .parent()
            .filter(|f| !f.as_os_str().is_empty())
            .unwrap_or(Path::new("."));
        for anchor in &mut p.ixit.trust_anchors {
            if anchor.is_relative() {
                let joined = folder.join(&*anchor);
                *anchor = std::path::absolute(&joined).unwrap_or(joined);
            }
        }
        p.validate().map_err(|message| ProfileError::Invalid {
            path: path.to_owned(),
            message,
        })?;
        Ok(p)
    }

    /// Read and check a profile file.
    pub fn load(path: &Path) -> Result<Profile, ProfileError> {
        let text = std::fs::read_to_string(path).map_err(|source| ProfileError::Read {
            path: path.to_owned(),
            source,
        })?;
        Self::from_toml(&text, path)
    }

    fn validate(&self) -> Result<(), String> {
        let ixit = &self.ixit;
        if ixit.dev_id.trim().is_empty() || ixit.server_id.trim().is_empty() {
            return Err("[ixit] dev_id and server_id must not be empty".into());
        }
        // The reference server is spawned by the harness, which learns its URL then.
        if self.implementation.role == Role::Server
            && ixit.server_url.is_none()
            && self.adapter != Adapter::Reference
        {
            return Err("[ixit] server_url is required to test a dm-server".into());
        }
        // docs/tls.md: who speaks TLS, and what the harness needs for it.
        let url = ixit.server_url.as_deref().unwrap_or("");
        let (https, http) = (has_scheme(url, "https"), has_scheme(url, "http"));
        let tls = self.claims(Feature::Tls);
        match (self.implementation.role, &self.adapter) {
            (Role::Client, _) if !ixit.trust_anchors.is_empty() => {
                return Err("[ixit] trust_anchors is for a server under test; a client is given \
                            the tester's CA by the bootstrap action (server_ca)"
                    .into())
            }
            (Role::Client, Adapter::Exec { actions })
                if tls && !actions.get("bootstrap").is_some_and(|b| b.contains("{server_ca}")) =>
            {
                return Err("[ics] claims tls: the exec bootstrap template must pass {server_ca}, \
                            the CA the client must trust for the tester's https:// URL (docs/tls.md)"
                    .into())
            }
            (Role::Server, Adapter::Reference) if !ixit.trust_anchors.is_empty() => {
                return Err("[ixit] trust_anchors: the reference server is spawned with the \
                            run's own test CA; remove them"
                    .into())
            }
            (Role::Server, _) if https && ixit.trust_anchors.is_empty() => {
                return Err("[ixit] server_url is https: give trust_anchors, the PEM file(s) of \
                            the CA that issued the server's certificate"
                    .into())
            }
            (Role::Server, _) if tls && http => {
                return Err("[ics] claims tls but [ixit] server_url is http://: give the \
                            server's https:// URL and its trust_anchors"
                    .into())
            }
            _ => {}
        }
        for (what, c) in [
            ("client_auth", &ixit.client_auth),
            ("server_auth", &ixit.server_auth),
        ] {
            if let Some(c) = c {
                if !["basic", "md5", "hmac"].contains(&c.kind.as_str()) {
                    return Err(format!(
                        "[ixit] {what}.type {:?}: expected basic, md5 or hmac",
                        c.kind
                    ));
                }
            }
        }
        if ixit.step_timeout_secs == 0 {
            return Err("[ixit] step_timeout_secs must be at least 1".into());
        }
        if let Adapter::Exec { actions } = &self.adapter {
            let known: &[&str] = match self.implementation.role {
                Role::Client => &CLIENT_ACTIONS,
                Role::Server => &SERVER_ACTIONS,
            };
            if let Some(bad) = actions.keys().find(|k| !known.contains(&k.as_str())) {
                return Err(format!(
                    "[adapter] unknown action {bad:?} for a {}; known: {}",
                    self.implementation.role.tag(),
                    known.join(", ")
                ));
            }
        }
        if let Adapter::Http { .. } = &self.adapter {
            if self.implementation.role != Role::Server {
                return Err(
                    "[adapter] kind = \"http\" drives a server through its admin API; a client \
                     uses reference, exec or manual"
                        .into(),
                );
            }
        }
        Ok(())
    }

    /// Whether the IUT claims `feature`.
    pub fn claims(&self, feature: Feature) -> bool {
        self.ics.claims.contains(&feature)
    }
}

/// Whether `url` starts with `scheme://` (the scheme compared without regard to case).
pub(crate) fn has_scheme(url: &str, scheme: &str) -> bool {
    url.split_once("://")
        .is_some_and(|(s, _)| s.eq_ignore_ascii_case(scheme))
}
