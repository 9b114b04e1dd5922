//! One-call decoding and encoding of whole SyncML DM messages, in either encoding.
//!
//! `bytes → (xml | wbxml) → dom → model`, collecting representation violations on the way;
//! strict mode turns any violation into [`CodecError::Strict`]. Encoding is canonical and
//! deterministic. The reference peers decode leniently and log violations; testers decide
//! what a violation means for a verdict.

use crate::dom::Element;
use crate::model::{self, ModelError, SyncMl};
use crate::violation::Violation;
use crate::wbxml::{self, WbxmlError};
use crate::xml::{self, WriteOptions, XmlError, XmlWriteError};

/// MIME type of XML-encoded DM messages (facts §1.1).
pub const CONTENT_TYPE_XML: &str = "application/vnd.syncml.dm+xml";
/// MIME type of WBXML-encoded DM messages (facts §1.1).
pub const CONTENT_TYPE_WBXML: &str = "application/vnd.syncml.dm+wbxml";

/// The two wire encodings of SyncML DM.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Encoding {
    /// XML text.
    Xml,
    /// WAP Binary XML.
    Wbxml,
}

impl Encoding {
    /// `XML` or `WBXML`, for messages.
    pub fn name(self) -> &'static str {
        match self {
            Encoding::Xml => "XML",
            Encoding::Wbxml => "WBXML",
        }
    }

    /// `xml` or `wbxml`, the serde (transcript and report) spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Encoding::Xml => "xml",
            Encoding::Wbxml => "wbxml",
        }
    }

    /// The HTTP Content-Type for this encoding.
    pub fn content_type(self) -> &'static str {
        match self {
            Encoding::Xml => CONTENT_TYPE_XML,
            Encoding::Wbxml => CONTENT_TYPE_WBXML,
        }
    }

    /// The encoding a Content-Type names, and whether the name was the exact DM one.
    ///
    /// Real peers also send the SyncML DS types `application/vnd.syncml+xml` / `+wbxml`
    /// (facts §13): those are accepted with `exact = false`, so callers can record the
    /// leniency. Parameters such as `; charset=UTF-8` are ignored.
    pub fn from_content_type(value: &str) -> Option<(Encoding, bool)> {
        let mime = value
            .split(';')
            .next()
            .unwrap_or("")
            .trim()
            .to_ascii_lowercase();
        match mime.as_str() {
            CONTENT_TYPE_XML => Some((Encoding::Xml, true)),
            CONTENT_TYPE_WBXML => Some((Encoding::Wbxml, true)),
            "application/vnd.syncml+xml" => Some((Encoding::Xml, false)),
            "application/vnd.syncml+wbxml" => Some((Encoding::Wbxml, false)),
            _ => None,
        }
    }

    /// Guess the encoding from the first bytes: WBXML starts with a version byte 0x00–0x03.
    pub fn detect(bytes: &[u8]) -> Encoding {
        if wbxml::is_wbxml(bytes) {
            Encoding::Wbxml
        } else {
            Encoding::Xml
        }
    }
}

/// What a received `Content-Type` tolerates (facts §1.1), as one line, or `None` when it is
/// the exact DM type of the body's encoding: missing, the SyncML DS type
/// (`application/vnd.syncml+xml`), naming the other encoding, or not a DM type at all. The
/// body is decoded by its own first byte in every case.
pub fn content_type_leniency(content_type: Option<&str>, body: &[u8]) -> Option<String> {
    let body_enc = Encoding::detect(body);
    let Some(ct) = content_type else {
        return Some(format!(
            "no Content-Type; {} detected from the bytes (facts §1.1: {})",
            body_enc.name(),
            body_enc.content_type()
        ));
    };
    match Encoding::from_content_type(ct) {
        Some((e, true)) if e == body_enc => None,
        Some((e, false)) if e == body_enc => Some(format!(
            "Content-Type {ct:?} is not the DM type {} (facts §1.1); accepted",
            e.content_type()
        )),
        Some((e, _)) => Some(format!(
            "Content-Type {ct:?} names {} but the body is {} (facts §1.1); decoded as {}",
            e.name(),
            body_enc.name(),
            body_enc.name()
        )),
        None => Some(format!(
            "Content-Type {ct:?} is not a DM type (facts §1.1: {}); decoded from the bytes",
            body_enc.content_type()
        )),
    }
}

impl std::fmt::Display for Encoding {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Encoding::Xml => "xml",
            Encoding::Wbxml => "wbxml",
        })
    }
}

/// How to decode.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DecodeOptions {
    /// Fail with [`CodecError::Strict`] on any representation violation.
    pub strict: bool,
    /// Force an encoding instead of detecting it.
    pub encoding: Option<Encoding>,
}

impl DecodeOptions {
    /// Lenient decoding with encoding detection: what the reference peers use.
    pub const LENIENT: DecodeOptions = DecodeOptions {
        strict: false,
        encoding: None,
    };
    /// Strict decoding with encoding detection.
    pub const STRICT: DecodeOptions = DecodeOptions {
        strict: true,
        encoding: None,
    };
}

/// A decoded message with what was found along the way.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decoded {
    /// The message.
    pub message: SyncMl,
    /// The encoding it arrived in.
    pub encoding: Encoding,
    /// Every representation violation, in document order.
    pub violations: Vec<Violation>,
}

/// Why a message could not be decoded or encoded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CodecError {
    /// The XML could not be read.
    #[error("XML: {0}")]
    Xml(#[from] XmlError),
    /// The WBXML could not be read or written.
    #[error("WBXML: {0}")]
    Wbxml(#[from] WbxmlError),
    /// The tree is not a SyncML message.
    #[error("{0}")]
    Model(#[from] ModelError),
    /// Strict mode found representation violations.
    #[error("strict mode: {} representation violation(s); first: {}", .0.len(), .0.first().map(ToString::to_string).unwrap_or_default())]
    Strict(Vec<Violation>),
    /// The message cannot be written as XML.
    #[error("XML output: {0}")]
    XmlWrite(#[from] XmlWriteError),
}

impl CodecError {
    /// A stable snake_case name for the kind of error (used by vectors and reports).
    pub fn kind(&self) -> &'static str {
        match self {
            CodecError::Xml(e) => e.kind(),
            CodecError::Wbxml(_) => "wbxml",
            CodecError::Model(_) => "not_syncml",
            CodecError::Strict(_) => "strict",
            CodecError::XmlWrite(_) => "xml_write",
        }
    }
}

/// Decode the bytes of a message into an element tree, with XML-level violations.
pub fn decode_dom(
    bytes: &[u8],
    encoding: Option<Encoding>,
) -> Result<(Element, Encoding, Vec<Violation>), CodecError> {
    let encoding = encoding.unwrap_or_else(|| Encoding::detect(bytes));
    match encoding {
        Encoding::Xml => {
            let (root, violations) = xml::parse_with_violations(bytes)?;
            Ok((root, encoding, violations))
        }
        Encoding::Wbxml => Ok((wbxml::decode(bytes)?.root, encoding, Vec::new())),
    }
}

/// Decode a whole message.
pub fn decode(bytes: &[u8], options: DecodeOptions) -> Result<Decoded, CodecError> {
    let (root, encoding, mut violations) = decode_dom(bytes, options.encoding)?;
    let (message, more) = model::from_dom(&root)?;
    violations.extend(more);
    if options.strict && !violations.is_empty() {
        return Err(CodecError::Strict(violations));
    }
    Ok(Decoded {
        message,
        encoding,
        violations,
    })
}

/// Encode a message canonically: compact XML, or WBXML 1.2 with public id 0x1201 (0x0FD3
/// for a `VerDTD` 1.1 message), UTF-8, no string table.
pub fn encode(message: &SyncMl, encoding: Encoding) -> Result<Vec<u8>, CodecError> {
    let root = model::to_dom(message);
    match encoding {
        Encoding::Xml => Ok(xml::write(&root, WriteOptions::CANONICAL)?.into_bytes()),
        Encoding::Wbxml => {
            let v11 = root.ns == crate::dom::NS_SYNCML11;
            let mut doc = wbxml::Document::syncml(root);
            if v11 {
                doc.public_id = wbxml::PublicId::SYNCML11;
            }
            Ok(wbxml::encode(&doc)?)
        }
    }
}

/// Encode a message as indented XML with a declaration, for people.
pub fn to_pretty_xml(message: &SyncMl) -> Result<String, CodecError> {
    Ok(xml::write(&model::to_dom(message), WriteOptions::PRETTY)?)
}
