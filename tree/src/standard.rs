//! The standard MOs (facts §5): their DDFs (shipped in `docs/mo/`, loaded from there at build
//! time) and builders for a device's DevInfo, DevDetail, DMAcc accounts and Inbox.
//!
//! Everything here acts as the device ([`Principal::Local`]). ACLs set (facts §4.4, §5.4):
//! `./DevInfo` and `./DevDetail` get `Get=*`; each account `./DMAcc/<X>` gets
//! `Add=<id>&Delete=<id>&Get=<id>&Replace=<id>` for its own ServerID (the bootstrap rule of
//! facts §5.4 plus Add so the server can extend its own account); `./DMAcc` and `./Inbox`
//! inherit the root's `Add=*&Get=*`.

use dm_protocol::tnds::{Format, TndsDocument};
use dm_protocol::uri::{NodeUri, Property, UriLimits};

use crate::error::TreeError;
use crate::ops::NewNode;
use crate::principal::Principal;
use crate::schema::SchemaError;
use crate::tree::Tree;

/// DDF of `./DevInfo` (facts §5.2).
pub const DEVINFO_DDF: &str = include_str!("../../docs/mo/devinfo.ddf.xml");
/// DDF of `./DevDetail` (facts §5.3).
pub const DEVDETAIL_DDF: &str = include_str!("../../docs/mo/devdetail.ddf.xml");
/// DDF of `./DMAcc` (facts §5.4).
pub const DMACC_DDF: &str = include_str!("../../docs/mo/dmacc.ddf.xml");
/// DDF of `./Inbox` (facts §5.5).
pub const INBOX_DDF: &str = include_str!("../../docs/mo/inbox.ddf.xml");

/// MO identifiers (facts §5.1).
pub mod mo {
    /// DMAcc.
    pub const DMACC: &str = "urn:oma:mo:oma-dm-dmacc:1.0";
    /// DevInfo.
    pub const DEVINFO: &str = "urn:oma:mo:oma-dm-devinfo:1.0";
    /// DevDetail.
    pub const DEVDETAIL: &str = "urn:oma:mo:oma-dm-devdetail:1.0";
    /// Inbox.
    pub const INBOX: &str = "urn:oma:mo:oma-dm-inbox:1.0";
}

/// Load the four standard DDFs into the tree's schema.
pub fn load_standard_ddfs(tree: &mut Tree) -> Result<(), SchemaError> {
    for text in [DEVINFO_DDF, DEVDETAIL_DDF, DMACC_DDF, INBOX_DDF] {
        let doc = TndsDocument::parse_xml(text.as_bytes()).map_err(|e| {
            SchemaError::MissingDfProperties {
                uri: format!("(built-in DDF failed to parse: {e})"),
            }
        })?;
        tree.load_ddf(&doc.tree)?;
    }
    Ok(())
}

/// What DevInfo and DevDetail report (facts §5.2, §5.3).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeviceIdentity {
    /// `DevInfo/DevId`, e.g. `IMEI:493005100592800`.
    pub dev_id: String,
    /// `DevInfo/Man`.
    pub man: String,
    /// `DevInfo/Mod`.
    pub model: String,
    /// `DevInfo/DmV`.
    pub dmv: String,
    /// `DevInfo/Lang`.
    pub lang: String,
    /// `DevDetail/DevTyp`.
    pub dev_typ: String,
    /// `DevDetail/OEM`.
    pub oem: String,
    /// `DevDetail/FwV`.
    pub fwv: String,
    /// `DevDetail/SwV`.
    pub swv: String,
    /// `DevDetail/HwV`.
    pub hwv: String,
    /// `DevDetail/LrgObj`.
    pub lrg_obj: bool,
    /// `DevDetail/URI/*` (0 = unlimited).
    pub uri_limits: UriLimits,
}

impl Default for DeviceIdentity {
    fn default() -> Self {
        DeviceIdentity {
            dev_id: "IMEI:000000000000000".into(),
            man: "dm-conformance".into(),
            model: "dm-client".into(),
            dmv: "1.2".into(),
            lang: "en-US".into(),
            dev_typ: "phone".into(),
            oem: "dm-conformance".into(),
            fwv: "1.0".into(),
            swv: env!("CARGO_PKG_VERSION").into(),
            hwv: "1.0".into(),
            lrg_obj: true,
            uri_limits: UriLimits::UNLIMITED,
        }
    }
}

fn uri(s: &str) -> Result<NodeUri, TreeError> {
    NodeUri::parse(s).map_err(|source| TreeError::BadUri {
        uri: s.to_owned(),
        source,
    })
}

/// Create or update a leaf as the device.
pub fn put_leaf(tree: &mut Tree, at: &str, value: &str, format: Format) -> Result<(), TreeError> {
    let local = Principal::Local;
    if tree.exists(&uri(at)?) {
        tree.replace(&local, at, NewNode::leaf(value).format(format))
    } else {
        tree.add(&local, at, NewNode::leaf(value).format(format))
            .map(|_| ())
    }
}

fn put_interior(tree: &mut Tree, at: &str, type_: &str) -> Result<(), TreeError> {
    if !tree.exists(&uri(at)?) {
        tree.add(&Principal::Local, at, NewNode::interior().typed(type_))?;
    }
    Ok(())
}

/// Load the standard DDFs and create DevInfo, DevDetail, DMAcc and Inbox for `id`
/// (idempotent: existing nodes are updated).
pub fn install(tree: &mut Tree, id: &DeviceIdentity) -> Result<(), TreeError> {
    load_standard_ddfs(tree).map_err(|e| TreeError::Failed {
        uri: ".".into(),
        reason: e.to_string(),
    })?;
    tree.atomically(|t| {
        put_interior(t, "./DevInfo", mo::DEVINFO)?;
        for (name, v) in [
            ("DevId", &id.dev_id),
            ("Man", &id.man),
            ("Mod", &id.model),
            ("DmV", &id.dmv),
            ("Lang", &id.lang),
        ] {
            put_leaf(t, &format!("./DevInfo/{name}"), v, Format::Chr)?;
        }
        put_interior(t, "./DevDetail", mo::DEVDETAIL)?;
        put_interior(t, "./DevDetail/URI", "")?;
        let l = id.uri_limits;
        for (name, v) in [
            ("MaxDepth", l.max_depth),
            ("MaxTotLen", l.max_tot_len),
            ("MaxSegLen", l.max_seg_len),
        ] {
            put_leaf(
                t,
                &format!("./DevDetail/URI/{name}"),
                &v.to_string(),
                Format::Chr,
            )?;
        }
        for (name, v) in [
            ("DevTyp", &id.dev_typ),
            ("OEM", &id.oem),
            ("FwV", &id.fwv),
            ("SwV", &id.swv),
            ("HwV", &id.hwv),
        ] {
            put_leaf(t, &format!("./DevDetail/{name}"), v, Format::Chr)?;
        }
        put_leaf(
            t,
            "./DevDetail/LrgObj",
            if id.lrg_obj { "true" } else { "false" },
            Format::Bool,
        )?;
        put_interior(t, "./DMAcc", mo::DMACC)?;
        put_interior(t, "./Inbox", mo::INBOX)?;
        for mo_root in ["./DevInfo", "./DevDetail"] {
            t.replace_prop(&Principal::Local, mo_root, Property::Acl, "Get=*")?;
        }
        Ok(())
    })
}

/// Credentials of one direction of an account (`AppAuth/<X>`, facts §5.4).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AppAuth {
    /// `AAuthLevel`: `CLCRED` (client → server) or `SRVCRED` (server → client).
    pub level: String,
    /// `AAuthType`: `BASIC`, `DIGEST`, `HMAC`, ...
    pub auth_type: String,
    /// `AAuthName`.
    pub name: String,
    /// `AAuthSecret`.
    pub secret: String,
    /// `AAuthData`: the next nonce (raw bytes).
    pub data: Vec<u8>,
}

/// One DM server account (`./DMAcc/<X>`, facts §5.4).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Account {
    /// The node name `<X>`.
    pub node: String,
    /// `ServerID`.
    pub server_id: String,
    /// `Name`.
    pub name: String,
    /// `AppAddr/1/Addr`: the server URL.
    pub addr: String,
    /// `AAuthPref`.
    pub aauth_pref: String,
    /// `AppAuth` entries.
    pub auth: Vec<AppAuth>,
}

/// Create (or update) an account as the device, with the ServerID's ACL on the account node.
pub fn put_account(tree: &mut Tree, acc: &Account) -> Result<NodeUri, TreeError> {
    let base = format!("./DMAcc/{}", dm_protocol::uri::escape_name(&acc.node));
    tree.atomically(|t| {
        put_interior(t, "./DMAcc", mo::DMACC)?;
        put_interior(t, &base, "")?;
        put_leaf(t, &format!("{base}/AppID"), "w7", Format::Chr)?;
        put_leaf(t, &format!("{base}/ServerID"), &acc.server_id, Format::Chr)?;
        put_leaf(t, &format!("{base}/Name"), &acc.name, Format::Chr)?;
        put_interior(t, &format!("{base}/AppAddr"), "")?;
        put_interior(t, &format!("{base}/AppAddr/1"), "")?;
        put_leaf(t, &format!("{base}/AppAddr/1/Addr"), &acc.addr, Format::Chr)?;
        put_leaf(t, &format!("{base}/AppAddr/1/AddrType"), "URI", Format::Chr)?;
        put_leaf(
            t,
            &format!("{base}/AAuthPref"),
            &acc.aauth_pref,
            Format::Chr,
        )?;
        put_interior(t, &format!("{base}/AppAuth"), "")?;
        for (i, a) in acc.auth.iter().enumerate() {
            let p = format!("{base}/AppAuth/{}", i + 1);
            put_interior(t, &p, "")?;
            put_leaf(t, &format!("{p}/AAuthLevel"), &a.level, Format::Chr)?;
            put_leaf(t, &format!("{p}/AAuthType"), &a.auth_type, Format::Chr)?;
            put_leaf(t, &format!("{p}/AAuthName"), &a.name, Format::Chr)?;
            put_leaf(t, &format!("{p}/AAuthSecret"), &a.secret, Format::Chr)?;
            let data_uri = format!("{p}/AAuthData");
            let new = NewNode {
                format: Some(Format::Bin),
                type_: Some("application/octet-stream".into()),
                value: Some(a.data.clone()),
            };
            if t.exists(&uri(&data_uri)?) {
                t.replace(&Principal::Local, &data_uri, new)?;
            } else {
                t.add(&Principal::Local, &data_uri, new)?;
            }
        }
        let sid = &acc.server_id;
        t.replace_prop(
            &Principal::Local,
            &base,
            Property::Acl,
            &format!("Add={sid}&Delete={sid}&Get={sid}&Replace={sid}"),
        )?;
        uri(&base)
    })
}
