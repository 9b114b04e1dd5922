//! The typed SyncML DM 1.2 message model (facts §1).
//!
//! One struct per element OMA DM uses, commands kept **in document order**. The model is
//! encoding-neutral: a message decoded from XML and from its WBXML encoding compares equal.
//! Anything the model has no field for (a non-DM element such as `Sync`, an unknown element,
//! a command whose code is not a number) is kept as [`Command::Other`] or [`Meta::extra`], as
//! the raw element, so nothing a peer sent is lost.
//!
//! The JSON form (serde) uses the SyncML element names (`CmdID`, `LocURI`, …) so it reads
//! naturally next to the XML; it is the "expected decoded form" of the golden vectors.

mod decode;
mod encode;

pub use decode::{from_dom, ModelError};
pub use encode::to_dom;

use serde::{Deserialize, Serialize};

use crate::codes::{AlertCode, StatusCode};
use crate::dom::{Element, Node};

fn is_false(b: &bool) -> bool {
    !*b
}

/// A whole SyncML message: `SyncML (SyncHdr, SyncBody)`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SyncMl {
    /// The header.
    #[serde(rename = "SyncHdr")]
    pub hdr: SyncHdr,
    /// The body.
    #[serde(rename = "SyncBody")]
    pub body: SyncBody,
}

/// `SyncHdr (VerDTD, VerProto, SessionID, MsgID, Target, Source, RespURI?, NoResp?, Cred?,
/// Meta?)` — facts §1.2, §1.3.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct SyncHdr {
    /// `VerDTD`, `1.2` for DM 1.2 and 1.3.
    #[serde(rename = "VerDTD")]
    pub ver_dtd: String,
    /// `VerProto`, `DM/1.2`.
    #[serde(rename = "VerProto")]
    pub ver_proto: String,
    /// `SessionID`, the same in every message of a session.
    #[serde(rename = "SessionID")]
    pub session_id: String,
    /// `MsgID`, per sender within the session.
    #[serde(rename = "MsgID")]
    pub msg_id: String,
    /// `Target`: the recipient (server URL or device id).
    #[serde(rename = "Target")]
    pub target: Locator,
    /// `Source`: the sender (device id or server URL/id); `LocName` carries the user name.
    #[serde(rename = "Source")]
    pub source: Locator,
    /// `RespURI`: where the peer must send its next message.
    #[serde(rename = "RespURI", default, skip_serializing_if = "Option::is_none")]
    pub resp_uri: Option<String>,
    /// `NoResp` (not used by DM, kept if present).
    #[serde(rename = "NoResp", default, skip_serializing_if = "is_false")]
    pub no_resp: bool,
    /// `Cred`: credentials (DM allows them only here).
    #[serde(rename = "Cred", default, skip_serializing_if = "Option::is_none")]
    pub cred: Option<Cred>,
    /// `Meta`: MaxMsgSize, MaxObjSize.
    #[serde(rename = "Meta", default, skip_serializing_if = "Option::is_none")]
    pub meta: Option<Meta>,
}

/// `Target` / `Source`: `LocURI`, `LocName?`.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Locator {
    /// `LocURI`.
    #[serde(rename = "LocURI")]
    pub loc_uri: String,
    /// `LocName`.
    #[serde(rename = "LocName", default, skip_serializing_if = "Option::is_none")]
    pub loc_name: Option<String>,
}

impl Locator {
    /// A locator with just a URI.
    pub fn uri(uri: impl Into<String>) -> Self {
        Locator {
            loc_uri: uri.into(),
            loc_name: None,
        }
    }
}

/// `SyncBody`: commands in document order, then `Final?`.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct SyncBody {
    /// The commands, in document order.
    #[serde(rename = "Commands")]
    pub commands: Vec<Command>,
    /// `Final`: this message ends its package.
    #[serde(rename = "Final", default, skip_serializing_if = "is_false")]
    pub final_: bool,
}

/// One command of a body, an Atomic or a Sequence.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "Command")]
pub enum Command {
    /// `Add`.
    Add(ItemCommand),
    /// `Alert`.
    Alert(Alert),
    /// `Atomic`.
    Atomic(Container),
    /// `Copy`.
    Copy(ItemCommand),
    /// `Delete`.
    Delete(ItemCommand),
    /// `Exec`.
    Exec(Exec),
    /// `Get`.
    Get(ItemCommand),
    /// `Replace`.
    Replace(ItemCommand),
    /// `Results`.
    Results(Results),
    /// `Sequence`.
    Sequence(Container),
    /// `Status`.
    Status(Status),
    /// Anything else, kept as received: non-DM SyncML commands (Sync, Map, Put, Search), unknown
    /// elements, and commands that could not be typed (e.g. a Status whose code is not a
    /// number). The decoder reports a violation for each.
    Other(RawXml),
}

impl Command {
    /// The element name of the command (`Add`, `Status`, … or the raw element's name).
    pub fn name(&self) -> &str {
        match self {
            Command::Add(_) => "Add",
            Command::Alert(_) => "Alert",
            Command::Atomic(_) => "Atomic",
            Command::Copy(_) => "Copy",
            Command::Delete(_) => "Delete",
            Command::Exec(_) => "Exec",
            Command::Get(_) => "Get",
            Command::Replace(_) => "Replace",
            Command::Results(_) => "Results",
            Command::Sequence(_) => "Sequence",
            Command::Status(_) => "Status",
            Command::Other(raw) => &raw.element.name,
        }
    }

    /// The command's `CmdID` (None for [`Command::Other`]).
    pub fn cmd_id(&self) -> Option<&str> {
        Some(match self {
            Command::Add(c)
            | Command::Copy(c)
            | Command::Delete(c)
            | Command::Get(c)
            | Command::Replace(c) => &c.cmd_id,
            Command::Alert(a) => &a.cmd_id,
            Command::Atomic(c) | Command::Sequence(c) => &c.cmd_id,
            Command::Exec(e) => &e.cmd_id,
            Command::Results(r) => &r.cmd_id,
            Command::Status(s) => &s.cmd_id,
            Command::Other(_) => return None,
        })
    }
}

/// `Add`, `Copy`, `Delete`, `Get`, `Replace`: `CmdID, NoResp?, [Archive?, SftDel? | Lang?],
/// Cred?, Meta?, Item+`.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct ItemCommand {
    /// `CmdID`.
    #[serde(rename = "CmdID")]
    pub cmd_id: String,
    /// `NoResp`.
    #[serde(rename = "NoResp", default, skip_serializing_if = "is_false")]
    pub no_resp: bool,
    /// `Archive` (Delete only; not used in DM).
    #[serde(rename = "Archive", default, skip_serializing_if = "is_false")]
    pub archive: bool,
    /// `SftDel` (Delete only; not used in DM).
    #[serde(rename = "SftDel", default, skip_serializing_if = "is_false")]
    pub sft_del: bool,
    /// `Lang` (Get only; not used in DM).
    #[serde(rename = "Lang", default, skip_serializing_if = "Option::is_none")]
    pub lang: Option<String>,
    /// `Cred` (DM allows credentials only in SyncHdr).
    #[serde(rename = "Cred", default, skip_serializing_if = "Option::is_none")]
    pub cred: Option<Cred>,
    /// `Meta`, applying to every item unless an item overrides it.
    #[serde(rename = "Meta", default, skip_serializing_if = "Option::is_none")]
    pub meta: Option<Meta>,
    /// `Item+`.
    #[serde(rename = "Items")]
    pub items: Vec<Item>,
}

/// `Exec (CmdID, NoResp?, Cred?, Meta?, Correlator?, Item)`.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Exec {
    /// `CmdID`.
    #[serde(rename = "CmdID")]
    pub cmd_id: String,
    /// `NoResp`.
    #[serde(rename = "NoResp", default, skip_serializing_if = "is_false")]
    pub no_resp: bool,
    /// `Cred`.
    #[serde(rename = "Cred", default, skip_serializing_if = "Option::is_none")]
    pub cred: Option<Cred>,
    /// `Meta`.
    #[serde(rename = "Meta", default, skip_serializing_if = "Option::is_none")]
    pub meta: Option<Meta>,
    /// `Correlator`, echoed by the Generic Alert that reports an asynchronous completion.
    #[serde(
        rename = "Correlator",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub correlator: Option<String>,
    /// `Item` (exactly one by the DTD; kept as a list so extra items are not lost).
    #[serde(rename = "Items")]
    pub items: Vec<Item>,
}

/// `Alert (CmdID, NoResp?, Cred?, Data?, Correlator?, Item*)`; `Data` is the alert code.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Alert {
    /// `CmdID`.
    #[serde(rename = "CmdID")]
    pub cmd_id: String,
    /// `NoResp`.
    #[serde(rename = "NoResp", default, skip_serializing_if = "is_false")]
    pub no_resp: bool,
    /// `Cred`.
    #[serde(rename = "Cred", default, skip_serializing_if = "Option::is_none")]
    pub cred: Option<Cred>,
    /// `Data`: the alert code.
    #[serde(rename = "Data", default, skip_serializing_if = "Option::is_none")]
    pub code: Option<AlertCode>,
    /// `Correlator` (Generic Alert answering an asynchronous Exec).
    #[serde(
        rename = "Correlator",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub correlator: Option<String>,
    /// `Item*`.
    #[serde(rename = "Items", default, skip_serializing_if = "Vec::is_empty")]
    pub items: Vec<Item>,
}

/// `Atomic` / `Sequence`: `CmdID, NoResp?, Meta?, commands+`.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Container {
    /// `CmdID`.
    #[serde(rename = "CmdID")]
    pub cmd_id: String,
    /// `NoResp`.
    #[serde(rename = "NoResp", default, skip_serializing_if = "is_false")]
    pub no_resp: bool,
    /// `Meta`.
    #[serde(rename = "Meta", default, skip_serializing_if = "Option::is_none")]
    pub meta: Option<Meta>,
    /// The nested commands, in order.
    #[serde(rename = "Commands")]
    pub commands: Vec<Command>,
}

/// `Status (CmdID, MsgRef, CmdRef, Cmd, TargetRef*, SourceRef*, Cred?, Chal?, Item*, Data)`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Status {
    /// `CmdID`.
    #[serde(rename = "CmdID")]
    pub cmd_id: String,
    /// `MsgRef`: MsgID of the message holding the referenced command.
    #[serde(rename = "MsgRef")]
    pub msg_ref: String,
    /// `CmdRef`: CmdID of the referenced command (`0` for the SyncHdr).
    #[serde(rename = "CmdRef")]
    pub cmd_ref: String,
    /// `Cmd`: the referenced command's name (`SyncHdr` for the header).
    #[serde(rename = "Cmd")]
    pub cmd: String,
    /// `TargetRef*`.
    #[serde(rename = "TargetRef", default, skip_serializing_if = "Vec::is_empty")]
    pub target_refs: Vec<String>,
    /// `SourceRef*`.
    #[serde(rename = "SourceRef", default, skip_serializing_if = "Vec::is_empty")]
    pub source_refs: Vec<String>,
    /// `Cred`.
    #[serde(rename = "Cred", default, skip_serializing_if = "Option::is_none")]
    pub cred: Option<Cred>,
    /// `Chal`: MUST accompany 401 and 407 (facts §6.2).
    #[serde(rename = "Chal", default, skip_serializing_if = "Option::is_none")]
    pub chal: Option<Chal>,
    /// `Item*` (e.g. the answer of a UI alert).
    #[serde(rename = "Items", default, skip_serializing_if = "Vec::is_empty")]
    pub items: Vec<Item>,
    /// `Data`: the status code.
    #[serde(rename = "Data")]
    pub code: StatusCode,
}

/// `Results (CmdID, MsgRef?, CmdRef, Meta?, TargetRef?, SourceRef?, Item+)`.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Results {
    /// `CmdID`.
    #[serde(rename = "CmdID")]
    pub cmd_id: String,
    /// `MsgRef`.
    #[serde(rename = "MsgRef", default, skip_serializing_if = "Option::is_none")]
    pub msg_ref: Option<String>,
    /// `CmdRef`: the Get this answers.
    #[serde(rename = "CmdRef")]
    pub cmd_ref: String,
    /// `Meta`.
    #[serde(rename = "Meta", default, skip_serializing_if = "Option::is_none")]
    pub meta: Option<Meta>,
    /// `TargetRef`.
    #[serde(rename = "TargetRef", default, skip_serializing_if = "Option::is_none")]
    pub target_ref: Option<String>,
    /// `SourceRef`.
    #[serde(rename = "SourceRef", default, skip_serializing_if = "Option::is_none")]
    pub source_ref: Option<String>,
    /// `Item+`.
    #[serde(rename = "Items")]
    pub items: Vec<Item>,
}

/// `Item (Target?, Source?, SourceParent?, TargetParent?, Meta?, Data?, MoreData?)`.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Item {
    /// `Target`.
    #[serde(rename = "Target", default, skip_serializing_if = "Option::is_none")]
    pub target: Option<Locator>,
    /// `Source`.
    #[serde(rename = "Source", default, skip_serializing_if = "Option::is_none")]
    pub source: Option<Locator>,
    /// `SourceParent` (DS only; kept if present).
    #[serde(
        rename = "SourceParent",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub source_parent: Option<Locator>,
    /// `TargetParent` (DS only; kept if present).
    #[serde(
        rename = "TargetParent",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub target_parent: Option<Locator>,
    /// `Meta`, overriding the command's.
    #[serde(rename = "Meta", default, skip_serializing_if = "Option::is_none")]
    pub meta: Option<Meta>,
    /// `Data`.
    #[serde(rename = "Data", default, skip_serializing_if = "Option::is_none")]
    pub data: Option<Data>,
    /// `MoreData`: more chunks of this object follow (large objects, facts §8).
    #[serde(rename = "MoreData", default, skip_serializing_if = "is_false")]
    pub more_data: bool,
}

/// The content of a `Data` element.
///
/// Text and bytes are told apart by content, not by how they were encoded: WBXML `OPAQUE`
/// that is valid UTF-8 text is [`Data::Text`], so the XML and WBXML forms of a message give
/// the same model.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Data {
    /// Character data (XML text or CDATA, WBXML strings, or opaque bytes that are text).
    #[serde(rename = "text")]
    Text(String),
    /// Bytes that are not representable as XML text (only possible in WBXML).
    #[serde(rename = "bytes_hex", with = "hex_bytes")]
    Binary(Vec<u8>),
    /// Embedded markup, e.g. a TNDS `MgmtTree` document carried inline (facts §9.2), kept
    /// intact as elements.
    #[serde(rename = "xml")]
    Markup(RawNodes),
}

impl Data {
    /// The data as text, when it is text.
    pub fn as_text(&self) -> Option<&str> {
        match self {
            Data::Text(t) => Some(t),
            _ => None,
        }
    }
}

/// `Meta`: the meta-information elements DM uses (facts §1.5), typed; any other MetInf
/// element is kept in `extra`.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Meta {
    /// `Format` (b64, bin, bool, chr, int, node, null, xml, date, time, float).
    #[serde(rename = "Format", default, skip_serializing_if = "Option::is_none")]
    pub format: Option<String>,
    /// `Type`: MIME type, MO identifier, auth type or alert type.
    #[serde(rename = "Type", default, skip_serializing_if = "Option::is_none")]
    pub type_: Option<String>,
    /// `Mark`: Generic Alert severity.
    #[serde(rename = "Mark", default, skip_serializing_if = "Option::is_none")]
    pub mark: Option<String>,
    /// `Size`: total object size (large objects: first chunk only).
    #[serde(rename = "Size", default, skip_serializing_if = "Option::is_none")]
    pub size: Option<u64>,
    /// `NextNonce` (base64) in a `Chal`.
    #[serde(rename = "NextNonce", default, skip_serializing_if = "Option::is_none")]
    pub next_nonce: Option<String>,
    /// `MaxMsgSize` the sender accepts.
    #[serde(
        rename = "MaxMsgSize",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub max_msg_size: Option<u64>,
    /// `MaxObjSize` the sender accepts.
    #[serde(
        rename = "MaxObjSize",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub max_obj_size: Option<u64>,
    /// Other MetInf elements (Version, EMI, Anchor, Mem, FieldLevel — not used by DM — or
    /// values that failed to parse), kept as received.
    #[serde(rename = "Extra", default, skip_serializing_if = "RawNodes::is_empty")]
    pub extra: RawNodes,
}

impl Meta {
    /// True when no field is set.
    pub fn is_empty(&self) -> bool {
        *self == Meta::default()
    }
}

/// `Cred (Meta?, Data)`.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Cred {
    /// `Meta`: Type (auth type) and Format (`b64`).
    #[serde(rename = "Meta", default, skip_serializing_if = "Option::is_none")]
    pub meta: Option<Meta>,
    /// `Data`: the credential.
    #[serde(rename = "Data")]
    pub data: String,
}

/// `Chal (Meta)`: Type, Format, NextNonce.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Chal {
    /// `Meta`.
    #[serde(rename = "Meta")]
    pub meta: Meta,
}

/// A single raw element kept as received, serialized as its canonical XML text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RawXml {
    /// The element.
    pub element: Element,
}

/// A run of raw nodes (elements and text) kept as received, serialized as canonical XML text.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct RawNodes {
    /// The nodes.
    pub nodes: Vec<Node>,
}

impl RawNodes {
    /// True when there are no nodes.
    pub fn is_empty(&self) -> bool {
        self.nodes.is_empty()
    }

    /// The canonical XML text of the nodes (namespaces declared on each top element).
    pub fn to_xml(&self) -> String {
        let mut out = String::new();
        for n in &self.nodes {
            match n {
                Node::Element(e) => {
                    out.push_str(
                        &crate::xml::write(e, crate::xml::WriteOptions::CANONICAL)
                            .unwrap_or_else(|err| format!("<!-- {err} -->")),
                    );
                }
                Node::Text(t) => out.push_str(&escape_text(t)),
                Node::Opaque(b) => out.push_str(&escape_text(&String::from_utf8_lossy(b))),
            }
        }
        out
    }

    /// Parse canonical XML text back into nodes (the inverse of [`RawNodes::to_xml`]).
    pub fn from_xml(text: &str) -> Result<RawNodes, crate::xml::XmlError> {
        let wrapped = format!("<RawNodes>{text}</RawNodes>");
        let root = crate::xml::parse(wrapped.as_bytes())?;
        Ok(RawNodes {
            nodes: root.children,
        })
    }
}

fn escape_text(t: &str) -> String {
    t.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

impl Serialize for RawXml {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        let mut st = s.serialize_struct("RawXml", 1)?;
        let xml = crate::xml::write(&self.element, crate::xml::WriteOptions::CANONICAL)
            .map_err(serde::ser::Error::custom)?;
        st.serialize_field("xml", &xml)?;
        st.end()
    }
}

impl<'de> Deserialize<'de> for RawXml {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        struct Repr {
            xml: String,
        }
        let r = Repr::deserialize(d)?;
        let element = crate::xml::parse(r.xml.as_bytes()).map_err(serde::de::Error::custom)?;
        Ok(RawXml { element })
    }
}

impl Serialize for RawNodes {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.to_xml())
    }
}

impl<'de> Deserialize<'de> for RawNodes {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        RawNodes::from_xml(&text).map_err(serde::de::Error::custom)
    }
}

mod hex_bytes {
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(bytes: &[u8], s: S) -> Result<S::Ok, S::Error> {
        let mut out = String::with_capacity(bytes.len() * 2);
        for b in bytes {
            out.push_str(&format!("{b:02x}"));
        }
        s.serialize_str(&out)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<u8>, D::Error> {
        let text = String::deserialize(d)?;
        if text.len() % 2 != 0 {
            return Err(serde::de::Error::custom("hex text has an odd length"));
        }
        (0..text.len())
            .step_by(2)
            .map(|i| {
                text.get(i..i + 2)
                    .and_then(|h| u8::from_str_radix(h, 16).ok())
                    .ok_or_else(|| serde::de::Error::custom(format!("bad hex at {i}")))
            })
            .collect()
    }
}
