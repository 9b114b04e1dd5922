//! Representation violations: what a peer sent that breaks the SyncML DM representation rules
//! but could still be read.
//!
//! Decoders are lenient: they return the message together with every [`Violation`] they
//! found, each with the [`Pos`] it refers to. Strict mode (see
//! [`crate::codec::DecodeOptions::strict`]) turns any violation into an error. Conformance
//! testers turn a violation into a failure (or a warning, for [`Severity::Should`] rules).

use std::fmt;

use crate::dom::Pos;

/// How binding the breached rule is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    /// A mandatory rule (MUST / SHALL, or the DTD).
    Must,
    /// A recommendation (SHOULD).
    Should,
}

/// One deviation from the representation rules.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
#[non_exhaustive]
pub enum ViolationKind {
    /// An XML attribute that is not a namespace declaration (SyncML uses none).
    UnexpectedAttribute {
        /// The element carrying it.
        element: String,
        /// The attribute name.
        attribute: String,
    },
    /// A namespace prefix with no declaration in scope.
    UnboundPrefix {
        /// The element using it.
        element: String,
        /// The prefix.
        prefix: String,
    },
    /// A child appears before a sibling that the content model puts earlier.
    WrongOrder {
        /// The parent element.
        parent: String,
        /// The misplaced child.
        element: String,
        /// The sibling it should follow.
        after: String,
    },
    /// A mandatory child is missing.
    MissingElement {
        /// The parent element.
        parent: String,
        /// The missing child.
        element: String,
    },
    /// A child that the content model does not allow here at all.
    UnexpectedElement {
        /// The parent element.
        parent: String,
        /// The unexpected child.
        element: String,
    },
    /// A SyncML element that OMA DM does not use (Sync, Map, Put, Search, Archive, Lang, …).
    NotUsedInDm {
        /// The parent element.
        parent: String,
        /// The element.
        element: String,
    },
    /// A child appears more often than the content model allows.
    Repeated {
        /// The parent element.
        parent: String,
        /// The repeated child.
        element: String,
    },
    /// An element in another namespace than the rules require.
    WrongNamespace {
        /// The element.
        element: String,
        /// The namespace required.
        expected: String,
        /// The namespace found (empty when none was declared).
        found: String,
    },
    /// A value that must be a decimal number is not.
    BadNumber {
        /// The element.
        element: String,
        /// The text found.
        value: String,
    },
    /// A value outside the set the rules allow.
    BadValue {
        /// The element.
        element: String,
        /// The text found.
        value: String,
        /// What is allowed, in words.
        expected: String,
    },
    /// Character data where only elements are allowed.
    UnexpectedText {
        /// The element holding it.
        element: String,
    },
}

impl ViolationKind {
    /// A stable snake_case name for the kind (used by vectors and reports).
    pub fn name(&self) -> &'static str {
        match self {
            ViolationKind::UnexpectedAttribute { .. } => "unexpected_attribute",
            ViolationKind::UnboundPrefix { .. } => "unbound_prefix",
            ViolationKind::WrongOrder { .. } => "wrong_order",
            ViolationKind::MissingElement { .. } => "missing_element",
            ViolationKind::UnexpectedElement { .. } => "unexpected_element",
            ViolationKind::NotUsedInDm { .. } => "not_used_in_dm",
            ViolationKind::Repeated { .. } => "repeated",
            ViolationKind::WrongNamespace { .. } => "wrong_namespace",
            ViolationKind::BadNumber { .. } => "bad_number",
            ViolationKind::BadValue { .. } => "bad_value",
            ViolationKind::UnexpectedText { .. } => "unexpected_text",
        }
    }

    /// How binding the breached rule is. Everything the DTD or the DM representation rules
    /// state is mandatory; a missing `xmlns` on MetInf elements (facts §1.1 says "declared per
    /// MetInf element or on Meta") is still treated as mandatory.
    pub fn severity(&self) -> Severity {
        Severity::Must
    }
}

impl fmt::Display for ViolationKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ViolationKind::UnexpectedAttribute { element, attribute } => {
                write!(
                    f,
                    "<{element}> carries attribute {attribute:?}; SyncML elements take none"
                )
            }
            ViolationKind::UnboundPrefix { element, prefix } => {
                write!(
                    f,
                    "<{element}> uses prefix {prefix:?} with no xmlns:{prefix} in scope"
                )
            }
            ViolationKind::WrongOrder {
                parent,
                element,
                after,
            } => write!(
                f,
                "<{element}> inside <{parent}> comes too early: it must follow <{after}>"
            ),
            ViolationKind::MissingElement { parent, element } => {
                write!(f, "<{parent}> lacks its mandatory <{element}>")
            }
            ViolationKind::UnexpectedElement { parent, element } => {
                write!(f, "<{element}> is not allowed inside <{parent}>")
            }
            ViolationKind::NotUsedInDm { parent, element } => {
                write!(
                    f,
                    "<{element}> inside <{parent}> is a SyncML element OMA DM does not use"
                )
            }
            ViolationKind::Repeated { parent, element } => {
                write!(f, "<{element}> appears more than once inside <{parent}>")
            }
            ViolationKind::WrongNamespace {
                element,
                expected,
                found,
            } => {
                let found = if found.is_empty() { "none" } else { found };
                write!(
                    f,
                    "<{element}> is in namespace {found:?}, expected {expected:?}"
                )
            }
            ViolationKind::BadNumber { element, value } => {
                write!(f, "<{element}> must hold a decimal number, found {value:?}")
            }
            ViolationKind::BadValue {
                element,
                value,
                expected,
            } => write!(f, "<{element}> holds {value:?}; expected {expected}"),
            ViolationKind::UnexpectedText { element } => {
                write!(f, "<{element}> holds text where only elements are allowed")
            }
        }
    }
}

/// A violation and where it was found.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Violation {
    /// What rule was broken.
    #[serde(flatten)]
    pub kind: ViolationKind,
    /// Where (line:column for XML, byte offset for WBXML).
    pub pos: Pos,
}

impl Violation {
    /// A violation at a position.
    pub fn new(kind: ViolationKind, pos: Pos) -> Self {
        Violation { kind, pos }
    }
}

impl fmt::Display for Violation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {} [{}]", self.pos, self.kind, self.kind.name())
    }
}
