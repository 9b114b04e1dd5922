//! The device's DM server accounts, read from the tree (`./DMAcc/<X>`, facts §5.4), the rule
//! that picks the server of a client-initiated session, and nonce storage in `AAuthData`.
//!
//! The tree is the truth: accounts a server bootstrapped or changed over the air count as much
//! as those the profile created, and every rotated nonce is written back into `AAuthData` so it
//! survives restarts.

use dm_protocol::auth::{AAuthType, AuthType};
use dm_protocol::tnds::Format;
use dm_tree::{GetResult, NewNode, Principal, Tree, TreeError};

use crate::session::Credentials;

/// One `AppAuth/<n>` entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredAuth {
    /// Its node, e.g. `./DMAcc/srv/AppAuth/1`.
    pub uri: String,
    /// `AAuthType` as stored.
    pub aauth_type: String,
    /// `AAuthName`.
    pub name: String,
    /// `AAuthSecret`.
    pub secret: String,
    /// `AAuthData`: the next nonce, raw bytes.
    pub nonce: Vec<u8>,
}

impl StoredAuth {
    /// Session credentials, or why this entry cannot be used by the reference client.
    pub fn credentials(&self) -> Result<Credentials, AccountError> {
        let ty = self
            .aauth_type
            .parse::<AAuthType>()
            .ok()
            .and_then(AAuthType::auth_type)
            .filter(|t| matches!(t, AuthType::Basic | AuthType::Md5 | AuthType::Mac))
            .ok_or_else(|| AccountError::UnsupportedAuth {
                uri: self.uri.clone(),
                aauth_type: self.aauth_type.clone(),
            })?;
        Ok(Credentials {
            auth_type: ty,
            name: self.name.clone(),
            secret: self.secret.clone(),
            nonce: self.nonce.clone(),
        })
    }
}

/// One server account as the tree holds it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeviceAccount {
    /// `./DMAcc/<X>`.
    pub uri: String,
    /// `ServerID`.
    pub server_id: String,
    /// `AppAddr/<first>/Addr`: the server URL.
    pub url: String,
    /// The first `AppAuth` entry with `AAuthLevel` CLCRED.
    pub client_auth: Option<StoredAuth>,
    /// The first `AppAuth` entry with `AAuthLevel` SRVCRED.
    pub server_auth: Option<StoredAuth>,
}

/// Why an account cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum AccountError {
    /// The device has no DM account.
    #[error("the device has no DM server account: add an [[account]] to the profile and run `dm-client init` again, or let a server bootstrap one")]
    NoAccounts,
    /// `--account` names a ServerID the device does not know.
    #[error("no account has ServerID {requested:?}; the device knows: {known}")]
    Unknown {
        /// The ServerID asked for.
        requested: String,
        /// The known ServerIDs, comma-separated.
        known: String,
    },
    /// Several accounts and nothing says which one.
    #[error("the device has {count} accounts ({known}) and none is the default: pass --account SERVER_ID or set `default = true` on one [[account]]")]
    Ambiguous {
        /// How many.
        count: usize,
        /// The known ServerIDs, comma-separated.
        known: String,
    },
    /// The account has no server address.
    #[error("account {server_id:?} has no server address (AppAddr/<x>/Addr)")]
    NoAddress {
        /// The account.
        server_id: String,
    },
    /// A credential type the reference client does not implement.
    #[error("{uri}: AAuthType {aauth_type:?} is not supported by the reference client (BASIC, DIGEST and HMAC are)")]
    UnsupportedAuth {
        /// The `AppAuth/<n>` node.
        uri: String,
        /// Its type.
        aauth_type: String,
    },
}

fn children(tree: &Tree, uri: &str) -> Vec<String> {
    match tree.get(&Principal::Local, uri) {
        Ok(GetResult::Interior { children, .. }) => children,
        _ => Vec::new(),
    }
}

fn leaf(tree: &Tree, uri: &str) -> Option<Vec<u8>> {
    match tree.get(&Principal::Local, uri) {
        Ok(GetResult::Leaf { value, .. }) => Some(value),
        _ => None,
    }
}

fn text(tree: &Tree, uri: &str) -> String {
    leaf(tree, uri)
        .map(|v| String::from_utf8_lossy(&v).into_owned())
        .unwrap_or_default()
}

/// Every account under `./DMAcc` with a ServerID, in node-name order.
pub fn accounts(tree: &Tree) -> Vec<DeviceAccount> {
    let mut out = Vec::new();
    for name in children(tree, "./DMAcc") {
        let base = format!("./DMAcc/{name}");
        let server_id = text(tree, &format!("{base}/ServerID"));
        if server_id.is_empty() {
            continue;
        }
        let url = children(tree, &format!("{base}/AppAddr"))
            .iter()
            .map(|a| text(tree, &format!("{base}/AppAddr/{a}/Addr")))
            .find(|a| !a.is_empty())
            .unwrap_or_default();
        let mut acc = DeviceAccount {
            uri: base.clone(),
            server_id,
            url,
            client_auth: None,
            server_auth: None,
        };
        for n in children(tree, &format!("{base}/AppAuth")) {
            let p = format!("{base}/AppAuth/{n}");
            let stored = StoredAuth {
                uri: p.clone(),
                aauth_type: text(tree, &format!("{p}/AAuthType")),
                name: text(tree, &format!("{p}/AAuthName")),
                secret: text(tree, &format!("{p}/AAuthSecret")),
                nonce: leaf(tree, &format!("{p}/AAuthData")).unwrap_or_default(),
            };
            let slot = match text(tree, &format!("{p}/AAuthLevel")).as_str() {
                "CLCRED" => &mut acc.client_auth,
                "SRVCRED" => &mut acc.server_auth,
                _ => continue,
            };
            if slot.is_none() {
                *slot = Some(stored);
            }
        }
        out.push(acc);
    }
    out
}

/// The account of a client-initiated session (docs/reference-client.md "Choosing the
/// server"): the one `requested` names; else the profile's default if the tree still has it;
/// else the only account; else an error asking for `--account`.
pub fn choose<'a>(
    accounts: &'a [DeviceAccount],
    requested: Option<&str>,
    profile_default: Option<&str>,
) -> Result<&'a DeviceAccount, AccountError> {
    let known = || {
        accounts
            .iter()
            .map(|a| a.server_id.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    };
    if accounts.is_empty() {
        return Err(AccountError::NoAccounts);
    }
    let by_id = |id: &str| accounts.iter().find(|a| a.server_id == id);
    let chosen = if let Some(id) = requested {
        by_id(id).ok_or_else(|| AccountError::Unknown {
            requested: id.to_owned(),
            known: known(),
        })?
    } else if let Some(a) = profile_default.and_then(by_id) {
        a
    } else if let [only] = accounts {
        only
    } else {
        return Err(AccountError::Ambiguous {
            count: accounts.len(),
            known: known(),
        });
    };
    if chosen.url.is_empty() {
        return Err(AccountError::NoAddress {
            server_id: chosen.server_id.clone(),
        });
    }
    Ok(chosen)
}

/// Write `nonce` into `<auth>/AAuthData` as the device (facts §5.4: the next nonce).
pub fn store_nonce(tree: &mut Tree, auth: &StoredAuth, nonce: &[u8]) -> Result<(), TreeError> {
    let uri = format!("{}/AAuthData", auth.uri);
    let node = NewNode {
        format: Some(Format::Bin),
        type_: Some("application/octet-stream".into()),
        value: Some(nonce.to_vec()),
    };
    if leaf(tree, &uri).is_some() {
        tree.replace(&Principal::Local, &uri, node)
    } else {
        tree.add(&Principal::Local, &uri, node).map(|_| ())
    }
}
