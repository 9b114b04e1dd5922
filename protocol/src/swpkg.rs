//! The project-defined software package format (`DMPKG 1`, docs/scomo-package.md): what a
//! SCOMO `PkgURL` serves, with the three checks a device makes before installing
//! (DMRD-6.3.1-26/-31/-33, DMRD-6.1.1.4-5): **integrity** (SHA-256 of the payload),
//! **originator** (an Ed25519 signature by a software originator the device trusts) and
//! **targeting** (the package names the device's DevId or its manufacturer/model).
//!
//! No public specification defines a SCOMO package format (facts §10 names only `PkgType`);
//! this one is ours. Layout: a header of `Name: value` lines (UTF-8, `\n`), a blank line, the
//! payload. The signature line is last in the header and signs every header byte before it,
//! which includes the payload's size and digest — so the signature covers the payload too.
//!
//! Each check failing maps to the SCOMO result code the device reports (facts §10.3):
//! malformed or truncated package and digest mismatch → 1402 (download failed: the bytes are
//! not the published ones), untrusted originator or bad signature → 1407 (package validation
//! failed), not for this device → 1413 (unsupported environment).

use std::fmt::Write as _;

use ring::signature::{self, KeyPair as _};

/// The first header line.
pub const MAGIC: &str = "DMPKG 1";

/// The result codes of facts §10.3 the checks map to.
pub mod result_code {
    /// Successful.
    pub const SUCCESS: u16 = 1200;
    /// User cancelled.
    pub const USER_CANCELLED: u16 = 1401;
    /// Download failed.
    pub const DOWNLOAD_FAILED: u16 = 1402;
    /// Install failed.
    pub const INSTALL_FAILED: u16 = 1405;
    /// Package validation (signature) failed.
    pub const VALIDATION_FAILED: u16 = 1407;
    /// Remove failed.
    pub const REMOVE_FAILED: u16 = 1408;
    /// Activate failed.
    pub const ACTIVATE_FAILED: u16 = 1409;
    /// Deactivate failed.
    pub const DEACTIVATE_FAILED: u16 = 1410;
    /// Unsupported environment.
    pub const UNSUPPORTED_ENVIRONMENT: u16 = 1413;
}

/// Who a package is for: at least one entry must match the device.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// `Target-DevId: <DevId>`.
    DevId(String),
    /// `Target-Model: <manufacturer>/<model>`.
    Model {
        /// DevInfo/Man.
        manufacturer: String,
        /// DevInfo/Mod.
        model: String,
    },
}

/// A parsed package.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Package {
    /// `PkgID`.
    pub pkg_id: String,
    /// `Name`.
    pub name: String,
    /// `Version`.
    pub version: String,
    /// `PkgType` (a MIME type), if given.
    pub pkg_type: Option<String>,
    /// Who it is for.
    pub targets: Vec<Target>,
    /// The signer's key id (`Originator`).
    pub originator: String,
    /// SHA-256 of the payload as declared.
    pub sha256: [u8; 32],
    /// The Ed25519 signature over the signed header bytes.
    pub signature: Vec<u8>,
    /// The payload.
    pub payload: Vec<u8>,
    signed: Vec<u8>,
}

/// Why a package is refused. [`PackageError::result_code`] is what the device reports.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PackageError {
    /// The bytes are not a `DMPKG 1` package.
    #[error("not a DMPKG 1 package: {0}")]
    Malformed(String),
    /// Fewer or more payload bytes than the header's `Size` (an interrupted download).
    #[error("the payload has {got} bytes, the header says {declared}: the download is incomplete or corrupt")]
    SizeMismatch {
        /// `Size`.
        declared: u64,
        /// Received.
        got: u64,
    },
    /// The payload's SHA-256 is not the declared one.
    #[error("the payload's SHA-256 does not match the package header (integrity check)")]
    DigestMismatch,
    /// The signer is not a trusted software originator of the device.
    #[error("originator {0:?} is not trusted by this device")]
    UntrustedOriginator(String),
    /// The signature does not verify with the originator's key.
    #[error("the signature of originator {0:?} does not verify")]
    BadSignature(String),
    /// The package names neither this device nor its model.
    #[error("the package is for {targets}, not for this device ({device})")]
    NotForThisDevice {
        /// The package's targets.
        targets: String,
        /// The device.
        device: String,
    },
}

impl PackageError {
    /// The SCOMO result code (facts §10.3) a device reports for this refusal.
    pub fn result_code(&self) -> u16 {
        match self {
            PackageError::Malformed(_)
            | PackageError::SizeMismatch { .. }
            | PackageError::DigestMismatch => result_code::DOWNLOAD_FAILED,
            PackageError::UntrustedOriginator(_) | PackageError::BadSignature(_) => {
                result_code::VALIDATION_FAILED
            }
            PackageError::NotForThisDevice { .. } => result_code::UNSUPPORTED_ENVIRONMENT,
        }
    }

    /// A stable snake_case name (vectors, traces).
    pub fn kind(&self) -> &'static str {
        match self {
            PackageError::Malformed(_) => "malformed",
            PackageError::SizeMismatch { .. } => "size_mismatch",
            PackageError::DigestMismatch => "digest_mismatch",
            PackageError::UntrustedOriginator(_) => "untrusted_originator",
            PackageError::BadSignature(_) => "bad_signature",
            PackageError::NotForThisDevice { .. } => "not_for_this_device",
        }
    }
}

/// The software originators a device trusts: key id → Ed25519 public key (32 bytes).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TrustStore {
    keys: Vec<(String, Vec<u8>)>,
}

impl TrustStore {
    /// An empty store (trusts nobody).
    pub fn new() -> Self {
        TrustStore::default()
    }

    /// Trust `public_key` (32 raw Ed25519 bytes) as originator `id`.
    pub fn add(&mut self, id: &str, public_key: &[u8]) {
        self.keys.push((id.to_owned(), public_key.to_vec()));
    }

    fn key(&self, id: &str) -> Option<&[u8]> {
        self.keys
            .iter()
            .find(|(k, _)| k == id)
            .map(|(_, v)| v.as_slice())
    }
}

/// The device a package is checked for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeviceIdentity {
    /// DevInfo/DevId.
    pub dev_id: String,
    /// DevInfo/Man.
    pub manufacturer: String,
    /// DevInfo/Mod.
    pub model: String,
}

fn hex(bytes: &[u8]) -> String {
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        let _ = write!(s, "{b:02x}");
    }
    s
}

fn unhex(s: &str) -> Option<Vec<u8>> {
    if !s.len().is_multiple_of(2) || !s.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(s.get(i..i + 2)?, 16).ok())
        .collect()
}

/// SHA-256 of `data`.
pub fn sha256(data: &[u8]) -> [u8; 32] {
    let d = ring::digest::digest(&ring::digest::SHA256, data);
    let mut out = [0u8; 32];
    out.copy_from_slice(d.as_ref());
    out
}

impl Package {
    /// Parse a package. Structure only: [`Package::verify`] makes the checks.
    pub fn parse(bytes: &[u8]) -> Result<Package, PackageError> {
        let bad = |s: &str| PackageError::Malformed(s.to_owned());
        let end = bytes
            .windows(2)
            .position(|w| w == b"\n\n")
            .ok_or_else(|| bad("no blank line ends the header"))?;
        let header =
            std::str::from_utf8(&bytes[..=end]).map_err(|_| bad("the header is not UTF-8"))?;
        let payload = bytes[end + 2..].to_vec();
        let mut lines = header.lines();
        if lines.next() != Some(MAGIC) {
            return Err(bad("the first line is not `DMPKG 1`"));
        }
        // The Signature line is the header's last: the signature covers every byte before
        // it, and nothing after it may change what was signed (a field added after the
        // signature would otherwise override a signed one).
        let body = header.strip_suffix('\n').unwrap_or(header);
        let sig_at = body
            .rfind('\n')
            .filter(|i| body[i + 1..].starts_with("Signature: "))
            .ok_or_else(|| bad("the last header line is not the Signature line"))?;
        if body[..sig_at].contains("\nSignature: ") {
            return Err(bad("more than one Signature line"));
        }
        let signed = bytes[..=sig_at].to_vec();
        let (mut pkg_id, mut name, mut version, mut pkg_type) = (None, None, None, None);
        let (mut size, mut digest, mut originator, mut sig) = (None, None, None, None);
        let mut targets = Vec::new();
        for line in lines {
            let (k, v) = line.split_once(": ").ok_or_else(|| {
                PackageError::Malformed(format!("header line {line:?} is not `Name: value`"))
            })?;
            let once = |slot: &Option<String>| {
                if slot.is_some() {
                    Err(PackageError::Malformed(format!(
                        "header field {k} appears twice"
                    )))
                } else {
                    Ok(Some(v.to_owned()))
                }
            };
            match k {
                "PkgID" => pkg_id = once(&pkg_id)?,
                "Name" => name = once(&name)?,
                "Version" => version = once(&version)?,
                "PkgType" => pkg_type = once(&pkg_type)?,
                "Target-DevId" => targets.push(Target::DevId(v.to_owned())),
                "Target-Model" => {
                    let (m, model) = v
                        .split_once('/')
                        .ok_or_else(|| bad("Target-Model is not `manufacturer/model`"))?;
                    targets.push(Target::Model {
                        manufacturer: m.to_owned(),
                        model: model.to_owned(),
                    });
                }
                "Size" | "SHA-256" | "Originator" | "Signature"
                    if match k {
                        "Size" => size.is_some(),
                        "SHA-256" => digest.is_some(),
                        "Originator" => originator.is_some(),
                        _ => sig.is_some(),
                    } =>
                {
                    return Err(PackageError::Malformed(format!(
                        "header field {k} appears twice"
                    )))
                }
                "Size" => size = Some(v.parse::<u64>().map_err(|_| bad("Size is not a number"))?),
                "SHA-256" => {
                    let d = unhex(v)
                        .filter(|d| d.len() == 32)
                        .ok_or_else(|| bad("SHA-256 is not 64 hex digits"))?;
                    let mut a = [0u8; 32];
                    a.copy_from_slice(&d);
                    digest = Some(a);
                }
                "Originator" => originator = Some(v.to_owned()),
                "Signature" => {
                    sig = Some(
                        crate::auth::b64_decode(v).map_err(|_| bad("Signature is not base64"))?,
                    );
                }
                other => {
                    return Err(PackageError::Malformed(format!(
                        "unknown header field {other:?}"
                    )))
                }
            }
        }
        let need = |v: Option<String>, f: &str| {
            v.ok_or_else(|| PackageError::Malformed(format!("no {f} line")))
        };
        let size = size.ok_or_else(|| bad("no Size line"))?;
        if targets.is_empty() {
            return Err(bad("no Target-DevId or Target-Model line"));
        }
        let got = payload.len() as u64;
        if got != size {
            return Err(PackageError::SizeMismatch {
                declared: size,
                got,
            });
        }
        Ok(Package {
            pkg_id: need(pkg_id, "PkgID")?,
            name: need(name, "Name")?,
            version: need(version, "Version")?,
            pkg_type,
            targets,
            originator: need(originator, "Originator")?,
            sha256: digest.ok_or_else(|| bad("no SHA-256 line"))?,
            signature: sig.ok_or_else(|| bad("no Signature line"))?,
            payload,
            signed,
        })
    }

    /// The three checks, in this order: integrity, originator, targeting.
    pub fn verify(&self, trust: &TrustStore, device: &DeviceIdentity) -> Result<(), PackageError> {
        if sha256(&self.payload) != self.sha256 {
            return Err(PackageError::DigestMismatch);
        }
        let key = trust
            .key(&self.originator)
            .ok_or_else(|| PackageError::UntrustedOriginator(self.originator.clone()))?;
        signature::UnparsedPublicKey::new(&signature::ED25519, key)
            .verify(&self.signed, &self.signature)
            .map_err(|_| PackageError::BadSignature(self.originator.clone()))?;
        let ok = self.targets.iter().any(|t| match t {
            Target::DevId(d) => *d == device.dev_id,
            Target::Model {
                manufacturer,
                model,
            } => *manufacturer == device.manufacturer && *model == device.model,
        });
        if ok {
            Ok(())
        } else {
            Err(PackageError::NotForThisDevice {
                targets: self.targets_text(),
                device: format!("{} {}/{}", device.dev_id, device.manufacturer, device.model),
            })
        }
    }

    fn targets_text(&self) -> String {
        self.targets
            .iter()
            .map(|t| match t {
                Target::DevId(d) => d.clone(),
                Target::Model {
                    manufacturer,
                    model,
                } => format!("{manufacturer}/{model}"),
            })
            .collect::<Vec<_>>()
            .join(", ")
    }
}

/// What to build a package from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PackageSpec {
    /// `PkgID`.
    pub pkg_id: String,
    /// `Name`.
    pub name: String,
    /// `Version`.
    pub version: String,
    /// `PkgType`.
    pub pkg_type: Option<String>,
    /// Targets (at least one).
    pub targets: Vec<Target>,
    /// The payload.
    pub payload: Vec<u8>,
}

/// A software originator's signing key (Ed25519).
pub struct Originator {
    id: String,
    key: signature::Ed25519KeyPair,
}

impl std::fmt::Debug for Originator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Originator")
            .field("id", &self.id)
            .finish_non_exhaustive()
    }
}

/// Why an originator key cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("not an Ed25519 PKCS#8 key: {0}")]
pub struct KeyError(String);

impl Originator {
    /// A new random key (tests and `dm-server` generate theirs at run time: no key is
    /// committed). Returns the originator and its PKCS#8 document to store.
    pub fn generate(id: &str) -> Result<(Originator, Vec<u8>), KeyError> {
        let rng = ring::rand::SystemRandom::new();
        let pkcs8 =
            signature::Ed25519KeyPair::generate_pkcs8(&rng).map_err(|e| KeyError(e.to_string()))?;
        let o = Originator::from_pkcs8(id, pkcs8.as_ref())?;
        Ok((o, pkcs8.as_ref().to_vec()))
    }

    /// An originator from a stored PKCS#8 key.
    pub fn from_pkcs8(id: &str, pkcs8: &[u8]) -> Result<Originator, KeyError> {
        let key =
            signature::Ed25519KeyPair::from_pkcs8(pkcs8).map_err(|e| KeyError(e.to_string()))?;
        Ok(Originator {
            id: id.to_owned(),
            key,
        })
    }

    /// The key id.
    pub fn id(&self) -> &str {
        &self.id
    }

    /// The 32-byte public key a device puts in its trust store.
    pub fn public_key(&self) -> Vec<u8> {
        self.key.public_key().as_ref().to_vec()
    }

    /// Build and sign a package.
    pub fn sign(&self, spec: &PackageSpec) -> Vec<u8> {
        let mut h = format!(
            "{MAGIC}\nPkgID: {}\nName: {}\nVersion: {}\n",
            spec.pkg_id, spec.name, spec.version
        );
        if let Some(t) = &spec.pkg_type {
            let _ = writeln!(h, "PkgType: {t}");
        }
        for t in &spec.targets {
            let _ = match t {
                Target::DevId(d) => writeln!(h, "Target-DevId: {d}"),
                Target::Model {
                    manufacturer,
                    model,
                } => writeln!(h, "Target-Model: {manufacturer}/{model}"),
            };
        }
        let _ = writeln!(h, "Size: {}", spec.payload.len());
        let _ = writeln!(h, "SHA-256: {}", hex(&sha256(&spec.payload)));
        let _ = writeln!(h, "Originator: {}", self.id);
        let sig = self.key.sign(h.as_bytes());
        let _ = writeln!(h, "Signature: {}", crate::auth::b64(sig.as_ref()));
        h.push('\n');
        let mut out = h.into_bytes();
        out.extend_from_slice(&spec.payload);
        out
    }
}
