//! Client alerts the device sends in package 1: Generic Alert 1226 (facts §3.5) and client
//! events 1224 (facts §3.3), checked before anything is sent.

use dm_protocol::codes::AlertCode;
use dm_protocol::model::{Alert, Data, Item, Locator, Meta};

/// Which client alert.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClientAlertKind {
    /// 1226 GENERIC ALERT.
    Generic,
    /// 1224 CLIENT EVENT.
    ClientEvent,
}

impl ClientAlertKind {
    /// The alert code.
    pub fn code(self) -> AlertCode {
        match self {
            ClientAlertKind::Generic => AlertCode::GenericAlert,
            ClientAlertKind::ClientEvent => AlertCode::ClientEvent,
        }
    }

    /// The kind of a code, if it is one the device may send this way.
    pub fn from_code(code: u16) -> Option<Self> {
        match code {
            1226 => Some(ClientAlertKind::Generic),
            1224 => Some(ClientAlertKind::ClientEvent),
            _ => None,
        }
    }
}

/// One client alert with one Item.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientAlert {
    /// 1226 or 1224.
    pub kind: ClientAlertKind,
    /// `Item/Meta/Type` (required, facts §3.3 / §3.5), e.g. `urn:oma:at:scomo:1.0:OperationComplete`.
    pub type_: String,
    /// `Item/Meta/Format` (required), e.g. `int`, `chr`, `xml`.
    pub format: String,
    /// `Item/Data` (required).
    pub data: String,
    /// `Item/Source/LocURI`: the related node, when the alert type asks for it.
    pub source: Option<String>,
    /// `Item/Target/LocURI`.
    pub target: Option<String>,
    /// `Item/Meta/Mark`, e.g. `critical` (default `informational`, facts §3.5).
    pub mark: Option<String>,
    /// `Correlator`: the Exec this 1226 answers asynchronously (facts §3.5).
    pub correlator: Option<String>,
}

/// Why a client alert cannot be sent.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ClientAlertError {
    /// A required part is empty.
    #[error("the alert's {0} must not be empty (facts §3.5: Type, Format and Data are required)")]
    Missing(&'static str),
    /// A Correlator on a client event.
    #[error("only a Generic Alert (1226) carries a Correlator (facts §3.5)")]
    CorrelatorOnEvent,
}

impl ClientAlert {
    /// The Alert command (CmdID left for the session to number).
    pub fn to_alert(&self) -> Result<Alert, ClientAlertError> {
        for (name, v) in [
            ("type", &self.type_),
            ("format", &self.format),
            ("data", &self.data),
        ] {
            if v.is_empty() {
                return Err(ClientAlertError::Missing(name));
            }
        }
        if self.correlator.is_some() && self.kind != ClientAlertKind::Generic {
            return Err(ClientAlertError::CorrelatorOnEvent);
        }
        Ok(Alert {
            code: Some(self.kind.code()),
            correlator: self.correlator.clone(),
            items: vec![Item {
                source: self.source.clone().map(Locator::uri),
                target: self.target.clone().map(Locator::uri),
                meta: Some(Meta {
                    type_: Some(self.type_.clone()),
                    format: Some(self.format.clone()),
                    mark: self.mark.clone(),
                    ..Meta::default()
                }),
                data: Some(Data::Text(self.data.clone())),
                ..Item::default()
            }],
            ..Alert::default()
        })
    }
}
