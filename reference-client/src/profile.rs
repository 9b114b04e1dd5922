//! The device profile: what the simulated device is (DevInfo/DevDetail, initial tree), which
//! servers it knows (DMAcc accounts with credentials and encodings), how it connects, how its
//! simulated user answers, and which faults it injects. TOML, documented with a full example
//! in `docs/reference-client.md` ("Device profile").
//!
//! Every table refuses unknown fields, so a typo is an error naming the field instead of a
//! silently ignored setting. Relative file paths are relative to the profile file.

use std::path::{Path, PathBuf};
use std::time::Duration;

use dm_protocol::auth::AAuthType;
use dm_protocol::codec::Encoding;
use dm_protocol::uri::UriLimits;
use dm_tree::standard::{Account, AppAuth, DeviceIdentity};
use serde::{Deserialize, Serialize};

use crate::listener::NotificationConfig;
use crate::transport::{ClientCertificate, TransportConfig};
use crate::ui::UiPolicy;

/// A whole device profile.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DeviceProfile {
    /// DevInfo / DevDetail values and session limits.
    pub device: DeviceSection,
    /// Tree options and initial content.
    #[serde(default)]
    pub tree: TreeSection,
    /// The DM servers the device knows (`./DMAcc/<X>`).
    #[serde(default, rename = "account")]
    pub accounts: Vec<AccountSection>,
    /// HTTP(S) settings.
    #[serde(default)]
    pub transport: TransportSection,
    /// How the simulated user answers UI alerts (facts §3.4).
    #[serde(default)]
    pub ui: UiPolicy,
    /// Package #0 listeners and their verification settings (facts §7).
    #[serde(default)]
    pub notification: NotificationConfig,
    /// The SCOMO management object (facts §10), off by default.
    #[serde(default)]
    pub scomo: crate::scomo::ScomoSection,
    /// The backup MO at `./Backup` (docs/migration.md), off by default.
    #[serde(default)]
    pub backup: crate::backup::BackupSection,
    /// The schedule MO at `./Schedule` (docs/scheduling.md), off by default.
    #[serde(default)]
    pub schedule: crate::schedule::ScheduleSection,
    /// Deliberate misbehaviours (all off by default).
    #[serde(default)]
    pub faults: FaultsSection,
}

/// `[device]`: DevInfo (facts §5.2), DevDetail (facts §5.3) and what the device announces.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DeviceSection {
    /// `DevInfo/DevId`, e.g. `IMEI:493005100592800`; also the `Source/LocURI` of every message.
    pub dev_id: String,
    /// `DevInfo/Man`.
    pub manufacturer: String,
    /// `DevInfo/Mod`.
    pub model: String,
    /// `DevInfo/DmV`.
    #[serde(default = "default_dmv")]
    pub dm_version: String,
    /// `DevInfo/Lang`.
    #[serde(default = "default_lang")]
    pub language: String,
    /// `DevDetail/DevTyp`.
    #[serde(default = "default_dev_type")]
    pub device_type: String,
    /// `DevDetail/OEM`.
    #[serde(default)]
    pub oem: String,
    /// `DevDetail/FwV`.
    #[serde(default)]
    pub firmware_version: String,
    /// `DevDetail/SwV`.
    #[serde(default)]
    pub software_version: String,
    /// `DevDetail/HwV`.
    #[serde(default)]
    pub hardware_version: String,
    /// `DevDetail/LrgObj`: whether the device handles large objects (facts §8). When false,
    /// no `MaxObjSize` is announced.
    #[serde(default = "yes")]
    pub large_objects: bool,
    /// `MaxMsgSize` announced in every message (facts §1.5); none when absent.
    #[serde(default)]
    pub max_msg_size: Option<u64>,
    /// `MaxObjSize` announced (facts §8); only with `large_objects`.
    #[serde(default)]
    pub max_obj_size: Option<u64>,
    /// `DevDetail/URI/MaxDepth` (0 = no limit).
    #[serde(default)]
    pub uri_max_depth: usize,
    /// `DevDetail/URI/MaxTotLen` (0 = no limit).
    #[serde(default)]
    pub uri_max_tot_len: usize,
    /// `DevDetail/URI/MaxSegLen` (0 = no limit).
    #[serde(default)]
    pub uri_max_seg_len: usize,
}

fn default_dmv() -> String {
    "1.2".into()
}
fn default_lang() -> String {
    "en-US".into()
}
fn default_dev_type() -> String {
    "simulator".into()
}
fn yes() -> bool {
    true
}

/// `[tree]`: which optional tree features the device supports, and what it starts with.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TreeSection {
    /// TNDS files (facts §9.2) imported as the device at `init`, in order, at the root.
    #[serde(default)]
    pub tnds: Vec<PathBuf>,
    /// DDF files (facts §9.1) describing extra MOs; copied into the state directory at `init`
    /// and loaded every time the tree is opened.
    #[serde(default)]
    pub ddf: Vec<PathBuf>,
    /// `?list=` queries supported (facts §4.6).
    #[serde(default = "yes")]
    pub list_queries: bool,
    /// TNDS in Add/Replace and `?list=TNDS` supported (facts §9.2).
    #[serde(default = "yes")]
    pub tnds_supported: bool,
    /// Missing interior ancestors created on Add (facts §4.2).
    #[serde(default = "yes")]
    pub implicit_add: bool,
}

impl Default for TreeSection {
    fn default() -> Self {
        TreeSection {
            tnds: Vec::new(),
            ddf: Vec::new(),
            list_queries: true,
            tnds_supported: true,
            implicit_add: true,
        }
    }
}

/// `[[account]]`: one DM server (facts §5.4).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AccountSection {
    /// `ServerID`: the principal of the server's commands in ACLs (facts §4.4) and the key of
    /// package #0 verification (facts §7.2).
    pub server_id: String,
    /// The account node name `<X>` under `./DMAcc`; defaults to the ServerID.
    #[serde(default)]
    pub node: Option<String>,
    /// `Name`: a display name.
    #[serde(default)]
    pub name: String,
    /// `AppAddr/1/Addr`: the server URL (`http://` or `https://`).
    pub url: String,
    /// The encoding of this server's sessions.
    #[serde(default = "default_encoding")]
    pub encoding: Encoding,
    /// The server of client-initiated sessions when `--account` is not given.
    #[serde(default)]
    pub default: bool,
    /// Client → server credentials (`AAuthLevel` CLCRED).
    #[serde(default)]
    pub client_auth: Option<AuthSection>,
    /// Server → client credentials the device requires (`AAuthLevel` SRVCRED); also the
    /// password and nonce package #0 digests are checked with (facts §7.2).
    #[serde(default)]
    pub server_auth: Option<AuthSection>,
}

fn default_encoding() -> Encoding {
    Encoding::Xml
}

impl AccountSection {
    /// The `./DMAcc/<X>` node name.
    pub fn node_name(&self) -> &str {
        self.node.as_deref().unwrap_or(&self.server_id)
    }

    /// The DMAcc account to write into the tree.
    pub fn to_account(&self) -> Account {
        let mut auth = Vec::new();
        for (level, a) in [
            ("CLCRED", &self.client_auth),
            ("SRVCRED", &self.server_auth),
        ] {
            if let Some(a) = a {
                auth.push(AppAuth {
                    level: level.into(),
                    auth_type: a.kind.aauth_type().as_str().into(),
                    name: a.name.clone(),
                    secret: a.secret.clone(),
                    data: a.nonce.clone().into_bytes(),
                });
            }
        }
        Account {
            node: self.node_name().to_owned(),
            server_id: self.server_id.clone(),
            name: self.name.clone(),
            addr: self.url.clone(),
            aauth_pref: self
                .client_auth
                .as_ref()
                .map(|a| a.kind.aauth_type().as_str().to_owned())
                .unwrap_or_default(),
            auth,
        }
    }
}

/// Credentials of one direction.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AuthSection {
    /// `basic`, `md5` or `hmac` (facts §6.1).
    #[serde(rename = "type")]
    pub kind: AuthKind,
    /// `AAuthName`.
    pub name: String,
    /// `AAuthSecret`.
    pub secret: String,
    /// The initial nonce (`AAuthData`), as text; empty by default. Rotated by the peers'
    /// challenges and kept in the tree from then on.
    #[serde(default)]
    pub nonce: String,
}

/// The credential types the reference client implements (facts §6.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum AuthKind {
    /// `syncml:auth-basic` (`AAuthType` BASIC).
    Basic,
    /// `syncml:auth-md5` (`AAuthType` DIGEST).
    Md5,
    /// `syncml:auth-MAC` (`AAuthType` HMAC), facts §6.3.
    Hmac,
}

impl AuthKind {
    /// The DMAcc `AAuthType` value (facts §5.4).
    pub fn aauth_type(self) -> AAuthType {
        match self {
            AuthKind::Basic => AAuthType::Basic,
            AuthKind::Md5 => AAuthType::Digest,
            AuthKind::Hmac => AAuthType::Hmac,
        }
    }
}

/// `[transport]`: see [`TransportConfig`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TransportSection {
    /// Limit for connect + TLS handshake, seconds.
    #[serde(default = "default_connect_secs")]
    pub connect_timeout_secs: u64,
    /// Limit for one response, seconds.
    #[serde(default = "default_read_secs")]
    pub read_timeout_secs: u64,
    /// Retries while no connection could be made.
    #[serde(default = "default_retries")]
    pub retries: u32,
    /// First back-off, milliseconds (doubles each retry).
    #[serde(default = "default_initial_backoff_ms")]
    pub initial_backoff_ms: u64,
    /// Longest back-off, milliseconds.
    #[serde(default = "default_max_backoff_ms")]
    pub max_backoff_ms: u64,
    /// PEM files of the CAs trusted for `https://` servers; empty means the bundled public
    /// roots are not used either: set at least one for TLS.
    #[serde(default)]
    pub trust_anchors: Vec<PathBuf>,
    /// Client certificate chain (PEM) for TLS client authentication.
    #[serde(default)]
    pub client_cert: Option<PathBuf>,
    /// Its private key (PEM).
    #[serde(default)]
    pub client_key: Option<PathBuf>,
    /// Most messages a session may take before the client gives up on the server.
    #[serde(default = "default_max_messages")]
    pub max_messages: usize,
}

fn default_connect_secs() -> u64 {
    10
}
fn default_read_secs() -> u64 {
    30
}
fn default_retries() -> u32 {
    3
}
fn default_initial_backoff_ms() -> u64 {
    500
}
fn default_max_backoff_ms() -> u64 {
    8_000
}
fn default_max_messages() -> usize {
    100
}

impl Default for TransportSection {
    fn default() -> Self {
        TransportSection {
            connect_timeout_secs: default_connect_secs(),
            read_timeout_secs: default_read_secs(),
            retries: default_retries(),
            initial_backoff_ms: default_initial_backoff_ms(),
            max_backoff_ms: default_max_backoff_ms(),
            trust_anchors: Vec::new(),
            client_cert: None,
            client_key: None,
            max_messages: default_max_messages(),
        }
    }
}

impl TransportSection {
    /// The transport configuration.
    pub fn to_config(&self) -> TransportConfig {
        TransportConfig {
            connect_timeout: Duration::from_secs(self.connect_timeout_secs),
            read_timeout: Duration::from_secs(self.read_timeout_secs),
            retries: self.retries,
            initial_backoff: Duration::from_millis(self.initial_backoff_ms),
            max_backoff: Duration::from_millis(self.max_backoff_ms),
            trust_anchors: self.trust_anchors.clone(),
            client_cert: match (&self.client_cert, &self.client_key) {
                (Some(chain), Some(key)) => Some(ClientCertificate {
                    chain: chain.clone(),
                    key: key.clone(),
                }),
                _ => None,
            },
            ..TransportConfig::default()
        }
    }
}

/// `[faults]`: deliberate misbehaviours that make the device a faulty client, to prove the
/// suite catches them (docs/reference-client.md "Fault injection"). All off by default.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FaultsSection {
    /// Accept any server credentials without checking (facts §6.2).
    #[serde(default)]
    pub skip_server_auth: bool,
    /// A wrong `MsgRef` in every Status (facts §1.4).
    #[serde(default)]
    pub wrong_msg_ref: bool,
    /// No Results for successful Gets (facts §1.4).
    #[serde(default)]
    pub no_results: bool,
    /// No DevInfo in package 1 (facts §2.1).
    #[serde(default)]
    pub no_devinfo: bool,
    /// No client message carries `Final` (facts §2.4).
    #[serde(default)]
    pub no_final: bool,
    /// The nonce of a `Chal` is ignored; credentials keep using the old one (facts §6.2).
    #[serde(default)]
    pub stale_nonce: bool,
    /// No `x-syncml-hmac` header although the account uses HMAC (facts §6.3).
    #[serde(default)]
    pub no_hmac: bool,
    /// Grant every ACL check (facts §4.4).
    #[serde(default)]
    pub ignore_acl: bool,
    /// A failed `Atomic` keeps its successful children's changes while still reporting
    /// 507 (facts §2.6).
    #[serde(default)]
    pub commit_failed_atomic: bool,
    /// Add on an existing leaf overwrites it with 200 instead of 418 (facts §4.5).
    #[serde(default)]
    pub add_overwrites: bool,
    /// Servers may delete permanent nodes (facts §4.2).
    #[serde(default)]
    pub delete_permanent: bool,
    /// `VerNo` and `TStamp` never change (facts §4.3).
    #[serde(default)]
    pub frozen_versions: bool,
    /// A chunked object is committed even when its size does not match, no 424 (facts §8).
    #[serde(default)]
    pub ignore_size_mismatch: bool,
    /// A failed `Atomic` answers 516 for its successful children and keeps their changes
    /// (facts §2.6).
    #[serde(default)]
    pub fail_rollback: bool,
    /// SCOMO: install packages whose originator is untrusted or whose signature does not
    /// verify (DMRD-6.3.1-31; integrity and targeting are still checked).
    #[serde(default)]
    pub skip_signature_check: bool,
    /// SCOMO: every completion reports result code 1200, whatever happened (facts §10.3).
    #[serde(default)]
    pub report_success_on_failure: bool,
    /// SCOMO: install although the user refused the confirmation (DMRD-6.1.4-14).
    #[serde(default)]
    pub ignore_user_refusal: bool,
    /// Schedules: every schedule is lost when the device restarts (DMRD-6.1.7-3).
    #[serde(default)]
    pub forget_schedules: bool,
    /// Schedules: runs act as the device itself, without the creating server's rights
    /// (DMRD-6.1.7-6).
    #[serde(default)]
    pub skip_schedule_rights: bool,
    /// Schedules: every active schedule runs and reports at the first tick, due or not
    /// (DMRD-6.1.7-1, docs/scheduling.md "Triggers and runs").
    #[serde(default)]
    pub report_early: bool,
    /// Transport: accept any server certificate, trusted or not, for any name
    /// (DMRD-6.1.1.5-1: confidentiality needs an authenticated server).
    #[serde(default)]
    pub accept_any_certificate: bool,
    /// SCOMO: the installed-application list is reported whatever the user said
    /// (DMRD-6.1.4-16, docs/scomo.md "Inventory consent").
    #[serde(default)]
    pub report_inventory_without_consent: bool,
}

/// Why a profile cannot be used.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ProfileError {
    /// The file could not be read.
    #[error("cannot read the profile {path}: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// The TOML is malformed or has an unknown or missing field.
    #[error("the profile {path} is not valid: {message}")]
    Syntax {
        /// The file.
        path: PathBuf,
        /// The parser's message, with line and column.
        message: String,
    },
    /// The values are inconsistent.
    #[error("the profile {path} is not usable: {message}")]
    Invalid {
        /// The file.
        path: PathBuf,
        /// What to fix.
        message: String,
    },
}

impl DeviceProfile {
    /// Parse a profile from TOML text; `path` names it in errors and anchors relative paths.
    pub fn from_toml(text: &str, path: &Path) -> Result<Self, ProfileError> {
        let mut p: DeviceProfile = toml::from_str(text).map_err(|e| ProfileError::Syntax {
            path: path.to_owned(),
            message: e.to_string(),
        })?;
        let base = path.parent().unwrap_or(Path::new("."));
        p.make_paths_absolute(base);
        p.validate().map_err(|message| ProfileError::Invalid {
            path: path.to_owned(),
            message,
        })?;
        Ok(p)
    }

    /// Read and check a profile file.
    pub fn load(path: &Path) -> Result<Self, ProfileError> {
        let text = std::fs::read_to_string(path).map_err(|source| ProfileError::Read {
            path: path.to_owned(),
            source,
        })?;
        Self::from_toml(&text, path)
    }

    /// The profile as TOML (what the state directory keeps).
    pub fn to_toml(&self) -> String {
        // Serializing plain data with string keys cannot fail.
        toml::to_string_pretty(self).unwrap_or_default()
    }

    fn make_paths_absolute(&mut self, base: &Path) {
        let abs = |p: &mut PathBuf| {
            if p.is_relative() {
                *p = base.join(&*p);
            }
        };
        self.tree.tnds.iter_mut().for_each(abs);
        self.tree.ddf.iter_mut().for_each(abs);
        self.transport.trust_anchors.iter_mut().for_each(abs);
        self.transport.client_cert.iter_mut().for_each(abs);
        self.transport.client_key.iter_mut().for_each(abs);
    }

    fn validate(&self) -> Result<(), String> {
        if self.device.dev_id.trim().is_empty() {
            return Err("[device] dev_id must not be empty (facts §5.2)".into());
        }
        let mut seen_ids = std::collections::BTreeSet::new();
        let mut seen_nodes = std::collections::BTreeSet::new();
        for a in &self.accounts {
            if a.server_id.is_empty() {
                return Err("an [[account]] has an empty server_id".into());
            }
            if !seen_ids.insert(&a.server_id) {
                return Err(format!(
                    "two accounts have server_id {:?}; ServerIDs must be unique",
                    a.server_id
                ));
            }
            if !seen_nodes.insert(a.node_name()) {
                return Err(format!(
                    "two accounts use the node ./DMAcc/{}; set `node` to tell them apart",
                    a.node_name()
                ));
            }
            if !(a.url.starts_with("http://") || a.url.starts_with("https://")) {
                return Err(format!(
                    "account {:?}: url {:?} must start with http:// or https://",
                    a.server_id, a.url
                ));
            }
        }
        let defaults = self.accounts.iter().filter(|a| a.default).count();
        if defaults > 1 {
            return Err("more than one account has `default = true`".into());
        }
        if self.transport.client_cert.is_some() != self.transport.client_key.is_some() {
            return Err("[transport] client_cert and client_key go together".into());
        }
        self.notification.validate().map_err(|e| e.to_string())?;
        self.scomo.validate()?;
        self.backup.validate()?;
        if self.transport.max_messages == 0 {
            return Err("[transport] max_messages must be at least 1".into());
        }
        if !self.device.large_objects && self.device.max_obj_size.is_some() {
            return Err(
                "[device] max_obj_size needs large_objects = true (facts §8: MaxObjSize is \
                 announced by devices that support large objects)"
                    .into(),
            );
        }
        Ok(())
    }

    /// DevInfo and DevDetail values for [`dm_tree::standard::install`].
    pub fn identity(&self) -> DeviceIdentity {
        let d = &self.device;
        DeviceIdentity {
            dev_id: d.dev_id.clone(),
            man: d.manufacturer.clone(),
            model: d.model.clone(),
            dmv: d.dm_version.clone(),
            lang: d.language.clone(),
            dev_typ: d.device_type.clone(),
            oem: d.oem.clone(),
            fwv: d.firmware_version.clone(),
            swv: d.software_version.clone(),
            hwv: d.hardware_version.clone(),
            lrg_obj: d.large_objects,
            uri_limits: UriLimits {
                max_depth: d.uri_max_depth,
                max_tot_len: d.uri_max_tot_len,
                max_seg_len: d.uri_max_seg_len,
            },
        }
    }

    /// The profile settings of the account with this ServerID, if the profile has one
    /// (accounts a server added over the air have none).
    pub fn account(&self, server_id: &str) -> Option<&AccountSection> {
        self.accounts.iter().find(|a| a.server_id == server_id)
    }
}
