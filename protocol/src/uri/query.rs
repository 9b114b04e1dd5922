//! `?prop=` and `?list=` URI queries (facts §4.1, §4.3, §4.6).

use super::{NodeUri, ParseOptions, UriError};
use std::fmt;
use std::str::FromStr;

/// A run-time property name, as in `?prop=<Name>` (facts §4.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Property {
    /// `ACL`.
    Acl,
    /// `Format`.
    Format,
    /// `Name`.
    Name,
    /// `Size`.
    Size,
    /// `Title`.
    Title,
    /// `TStamp`.
    TStamp,
    /// `Type`.
    Type,
    /// `VerNo`.
    VerNo,
}

impl Property {
    /// All properties in the order of facts §4.3.
    pub const ALL: [Property; 8] = [
        Property::Acl,
        Property::Format,
        Property::Name,
        Property::Size,
        Property::Title,
        Property::TStamp,
        Property::Type,
        Property::VerNo,
    ];

    /// The exact property name (case-sensitive).
    pub fn as_str(self) -> &'static str {
        match self {
            Property::Acl => "ACL",
            Property::Format => "Format",
            Property::Name => "Name",
            Property::Size => "Size",
            Property::Title => "Title",
            Property::TStamp => "TStamp",
            Property::Type => "Type",
            Property::VerNo => "VerNo",
        }
    }

    /// The property with this exact name.
    pub fn from_name(name: &str) -> Option<Self> {
        Property::ALL.into_iter().find(|p| p.as_str() == name)
    }
}

impl fmt::Display for Property {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A field that a `?list=TNDS` filter may name: a run-time property or `Value` (facts §4.6).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum TndsField {
    /// A run-time property.
    Prop(Property),
    /// The leaf value.
    Value,
}

impl TndsField {
    /// The exact field name.
    pub fn as_str(self) -> &'static str {
        match self {
            TndsField::Prop(p) => p.as_str(),
            TndsField::Value => "Value",
        }
    }

    /// The field with this exact name.
    pub fn from_name(name: &str) -> Option<Self> {
        if name == "Value" {
            Some(TndsField::Value)
        } else {
            Property::from_name(name).map(TndsField::Prop)
        }
    }
}

/// The property selection of a `?list=TNDS` query (facts §4.6).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum TndsFilter {
    /// No filter: every property the server may read.
    All,
    /// `+A+B`: only the named fields (in the order given).
    Include(Vec<TndsField>),
    /// `-A-B`: everything except the named fields (in the order given).
    Exclude(Vec<TndsField>),
}

/// The attribute of a `?list=` query (facts §4.6).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum ListQuery {
    /// `Struct`: the subtree's nodes with Format/Type, no data.
    Struct,
    /// `StructData`: as `Struct` plus leaf values.
    StructData,
    /// `TNDS`, optionally filtered.
    Tnds(TndsFilter),
}

/// The query part of a URI (facts §4.1).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum UriQuery {
    /// `?prop=<Name>`.
    Prop(Property),
    /// `?list=<attr>`.
    List(ListQuery),
}

impl UriQuery {
    /// Parse the text after `?`; `base` is its byte offset in the whole URI.
    fn parse_at(q: &str, base: usize) -> Result<Self, UriError> {
        if let Some(name) = q.strip_prefix("prop=") {
            return Property::from_name(name)
                .map(UriQuery::Prop)
                .ok_or_else(|| UriError::UnknownProperty {
                    offset: base + 5,
                    name: name.to_owned(),
                });
        }
        let Some(attr) = q.strip_prefix("list=") else {
            return Err(UriError::UnknownQuery {
                offset: base,
                query: q.to_owned(),
            });
        };
        parse_list_attr(attr, base + 5).map(UriQuery::List)
    }
}

/// Parse the value of `?list=` (`Struct`, `StructData`, `TNDS`, `TNDS+A+B`, `TNDS-A`);
/// `attr_base` is its byte offset in the whole URI, for error positions.
fn parse_list_attr(attr: &str, attr_base: usize) -> Result<ListQuery, UriError> {
    match attr {
        "Struct" => return Ok(ListQuery::Struct),
        "StructData" => return Ok(ListQuery::StructData),
        "TNDS" => return Ok(ListQuery::Tnds(TndsFilter::All)),
        _ => {}
    }
    let Some(filter) = attr.strip_prefix("TNDS") else {
        return Err(UriError::UnknownListAttribute {
            offset: attr_base,
            name: attr.to_owned(),
        });
    };
    let mut pos = attr_base + 4;
    let mut sign: Option<char> = None;
    let mut fields: Vec<TndsField> = Vec::new();
    let mut rest = filter;
    while let Some(c) = rest.chars().next() {
        if c != '+' && c != '-' {
            return Err(UriError::UnknownListAttribute {
                offset: attr_base,
                name: attr.to_owned(),
            });
        }
        if sign.is_some_and(|s| s != c) {
            return Err(UriError::MixedTndsFilter { offset: pos });
        }
        sign = Some(c);
        let body = rest.get(1..).unwrap_or("");
        let end = body.find(['+', '-']).unwrap_or(body.len());
        let name = body.get(..end).unwrap_or("");
        let field = TndsField::from_name(name).ok_or_else(|| UriError::UnknownTndsField {
            offset: pos + 1,
            name: name.to_owned(),
        })?;
        if fields.contains(&field) {
            return Err(UriError::DuplicateTndsField {
                offset: pos + 1,
                name: name.to_owned(),
            });
        }
        fields.push(field);
        pos += 1 + end;
        rest = body.get(end..).unwrap_or("");
    }
    let filter = match sign {
        Some('-') => TndsFilter::Exclude(fields),
        _ => TndsFilter::Include(fields),
    };
    Ok(ListQuery::Tnds(filter))
}

impl TndsFilter {
    /// Whether a `?list=TNDS` result with this filter carries the field (facts §4.6).
    pub fn includes(&self, field: TndsField) -> bool {
        match self {
            TndsFilter::All => true,
            TndsFilter::Include(fields) => fields.contains(&field),
            TndsFilter::Exclude(fields) => !fields.contains(&field),
        }
    }
}

impl FromStr for TndsFilter {
    type Err = UriError;

    /// Parse a `?list=` value that must be a TNDS query: `TNDS`, `TNDS+Value+ACL`,
    /// `TNDS-Format` (facts §4.6). Error offsets count from the start of `s`.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match parse_list_attr(s, 0)? {
            ListQuery::Tnds(filter) => Ok(filter),
            ListQuery::Struct | ListQuery::StructData => Err(UriError::UnknownListAttribute {
                offset: 0,
                name: s.to_owned(),
            }),
        }
    }
}

impl fmt::Display for UriQuery {
    /// The text after `?`, e.g. `prop=ACL`, `list=TNDS+Value+ACL`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            UriQuery::Prop(p) => write!(f, "prop={p}"),
            UriQuery::List(ListQuery::Struct) => f.write_str("list=Struct"),
            UriQuery::List(ListQuery::StructData) => f.write_str("list=StructData"),
            UriQuery::List(ListQuery::Tnds(filter)) => {
                f.write_str("list=TNDS")?;
                let (sign, fields) = match filter {
                    TndsFilter::All => return Ok(()),
                    TndsFilter::Include(v) => ('+', v),
                    TndsFilter::Exclude(v) => ('-', v),
                };
                for field in fields {
                    write!(f, "{sign}{}", field.as_str())?;
                }
                Ok(())
            }
        }
    }
}

/// A node URI with an optional query, as found in `LocURI` (facts §4.1).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct UriRef {
    /// The node addressed.
    pub node: NodeUri,
    /// The `?prop=` / `?list=` part, if any.
    pub query: Option<UriQuery>,
}

impl UriRef {
    /// Parse strictly: the node URI up to the first `?`, then the query.
    pub fn parse(s: &str) -> Result<Self, UriError> {
        Self::parse_with(s, ParseOptions::default())
    }

    /// Parse with explicit [`ParseOptions`] for the node part.
    pub fn parse_with(s: &str, opts: ParseOptions) -> Result<Self, UriError> {
        match s.split_once('?') {
            None => Ok(UriRef {
                node: NodeUri::parse_with(s, opts)?,
                query: None,
            }),
            Some((path, q)) => Ok(UriRef {
                node: NodeUri::parse_at(path, 0, opts)?,
                query: Some(UriQuery::parse_at(q, path.len() + 1)?),
            }),
        }
    }
}

impl FromStr for UriRef {
    type Err = UriError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        UriRef::parse(s)
    }
}

impl fmt::Display for UriRef {
    /// Canonical node URI, then `?` and the query if present.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.node)?;
        if let Some(q) = &self.query {
            write!(f, "?{q}")?;
        }
        Ok(())
    }
}
