//! dom → model, lenient (facts §9.1).

use std::collections::BTreeSet;

use crate::dom::{Element, Node as DomNode, Pos, NS_DMDDF12};
use crate::violation::{Violation, ViolationKind};

use super::{
    AccessRight, AccessType, CaseSense, DfProperties, DfType, Format, MgmtTree, Node, NodeContent,
    NodePos, NodeType, Occurrence, RtProperties, Scope, TndsError, MAX_NODE_DEPTH, OCCURRENCE_N,
    VER_DTD,
};

/// What [`decode`] found.
pub(crate) struct Decoded {
    pub(crate) tree: MgmtTree,
    pub(crate) violations: Vec<Violation>,
    pub(crate) positions: Vec<NodePos>,
}

const FORMATS: &[&str] = &[
    "b64", "bin", "bool", "chr", "int", "node", "null", "xml", "date", "time", "float",
];
const FORMATS_WORDS: &str = "one of b64 bin bool chr int node null xml date time float";
const OCCURRENCES: &[&str] = &[
    "One",
    "ZeroOrOne",
    "ZeroOrMore",
    "OneOrMore",
    "ZeroOrN",
    "OneOrN",
];

// Content models as (child name, rank); equal ranks are alternatives. Facts §9.1.
const MGMT_TREE: &[(&str, u8)] = &[("VerDTD", 0), ("Man", 1), ("Mod", 2), ("Node", 3)];
const NODE: &[(&str, u8)] = &[
    ("NodeName", 0),
    ("Path", 1),
    ("RTProperties", 2),
    ("DFProperties", 3),
    ("Node", 4),
    ("Value", 4),
];
const RT: &[(&str, u8)] = &[
    ("ACL", 0),
    ("Format", 1),
    ("Name", 2),
    ("Size", 3),
    ("Title", 4),
    ("TStamp", 5),
    ("Type", 6),
    ("VerNo", 7),
];
const DF: &[(&str, u8)] = &[
    ("AccessType", 0),
    ("DefaultValue", 1),
    ("Description", 2),
    ("DFFormat", 3),
    ("Occurrence", 4),
    ("Scope", 5),
    ("DFTitle", 6),
    ("DFType", 7),
    ("CaseSense", 8),
];
const ACCESS: &[(&str, u8)] = &[
    ("Add", 0),
    ("Copy", 1),
    ("Delete", 2),
    ("Exec", 3),
    ("Get", 4),
    ("Replace", 5),
];

/// The recognised children of one element, in document order.
struct Kids<'a> {
    parent: &'a Element,
    items: Vec<(&'static str, &'a Element)>,
}

impl<'a> Kids<'a> {
    fn all(&self, name: &str) -> Vec<&'a Element> {
        self.items
            .iter()
            .filter(|(n, _)| *n == name)
            .map(|(_, e)| *e)
            .collect()
    }
}

#[derive(Default)]
struct Decoder {
    violations: Vec<Violation>,
    positions: Vec<NodePos>,
}

/// How a choice element treats an unknown child.
enum Unknown {
    /// The child names a value (Format, Occurrence, ...): `BadValue` with these words.
    BadValue(&'static str),
    /// The child is structure (Type, DFType): `UnexpectedElement`.
    Unexpected,
}

pub(crate) fn decode(root: &Element) -> Result<Decoded, TndsError> {
    if root.name != "MgmtTree" {
        return Err(TndsError::NotMgmtTree {
            found: root.name.clone(),
            pos: root.pos,
        });
    }
    let mut d = Decoder::default();
    if root.ns != NS_DMDDF12 {
        d.wrong_ns(root);
    }
    let tree = d.mgmt_tree(root)?;
    sort_by_position(&mut d.violations);
    Ok(Decoded {
        tree,
        violations: d.violations,
        positions: d.positions,
    })
}

/// Document order: by position, ties in detection order (the sort is stable).
pub(crate) fn sort_by_position(violations: &mut [Violation]) {
    violations.sort_by_key(|v| match v.pos {
        Pos::Xml { line, column } => (u64::from(line), u64::from(column)),
        Pos::Wbxml { offset } => (0, offset as u64),
        Pos::None => (0, 0),
    });
}

fn is_blank(e: &Element) -> bool {
    e.children.iter().all(|n| match n {
        DomNode::Element(_) => true,
        DomNode::Text(t) => t.trim().is_empty(),
        DomNode::Opaque(b) => b.is_empty(),
    })
}

impl Decoder {
    fn push(&mut self, kind: ViolationKind, e: &Element) {
        self.violations.push(Violation::new(kind, e.pos));
    }

    fn wrong_ns(&mut self, e: &Element) {
        self.push(
            ViolationKind::WrongNamespace {
                element: e.name.clone(),
                expected: NS_DMDDF12.into(),
                found: e.ns.clone(),
            },
            e,
        );
    }

    /// A child element: report its namespace when it is wrong and differs from its parent's
    /// (so an undeclared namespace is reported once, at the top). Facts §9.1.
    fn check_ns(&mut self, parent: &Element, child: &Element) {
        if child.ns != NS_DMDDF12 && child.ns != parent.ns {
            self.wrong_ns(child);
        }
    }

    /// Non-blank character data in element-only content. Returns the trimmed text.
    fn stray_text(&mut self, e: &Element) -> String {
        if is_blank(e) {
            return String::new();
        }
        self.push(
            ViolationKind::UnexpectedText {
                element: e.name.clone(),
            },
            e,
        );
        e.text().trim().to_string()
    }

    /// Sort the children of an element-only element against a content model: unknown
    /// children, wrong order and stray text are reported here; repeats and missing children
    /// by the caller.
    fn kids<'a>(&mut self, parent: &'a Element, model: &[(&'static str, u8)]) -> Kids<'a> {
        self.stray_text(parent);
        let mut items = Vec::new();
        let mut max: Option<(u8, &'static str)> = None;
        for child in parent.elements() {
            self.check_ns(parent, child);
            let Some(&(name, rank)) = model.iter().find(|(n, _)| *n == child.name) else {
                self.push(
                    ViolationKind::UnexpectedElement {
                        parent: parent.name.clone(),
                        element: child.name.clone(),
                    },
                    child,
                );
                continue;
            };
            match max {
                Some((m, after)) if rank < m => self.push(
                    ViolationKind::WrongOrder {
                        parent: parent.name.clone(),
                        element: name.into(),
                        after: after.into(),
                    },
                    child,
                ),
                Some((m, _)) if rank == m => {}
                _ => max = Some((rank, name)),
            }
            items.push((name, child));
        }
        Kids { parent, items }
    }

    /// The first child with this name; later ones are `Repeated`.
    fn one<'a>(&mut self, kids: &Kids<'a>, name: &str) -> Option<&'a Element> {
        let all = kids.all(name);
        let mut all = all.into_iter();
        let first = all.next();
        for extra in all {
            self.push(
                ViolationKind::Repeated {
                    parent: kids.parent.name.clone(),
                    element: name.into(),
                },
                extra,
            );
        }
        first
    }

    /// Like [`Decoder::one`], and `MissingElement` (at the parent) when absent.
    fn required<'a>(&mut self, kids: &Kids<'a>, name: &str) -> Option<&'a Element> {
        let found = self.one(kids, name);
        if found.is_none() {
            self.push(
                ViolationKind::MissingElement {
                    parent: kids.parent.name.clone(),
                    element: name.into(),
                },
                kids.parent,
            );
        }
        found
    }

    /// Text of a text-only element; child elements are unexpected.
    fn text(&mut self, e: &Element) -> String {
        for child in e.elements() {
            self.push(
                ViolationKind::UnexpectedElement {
                    parent: e.name.clone(),
                    element: child.name.clone(),
                },
                child,
            );
        }
        e.text()
    }

    /// An element that must be empty (`<chr/>`, `<Get/>`, `<CS/>`, ...).
    fn empty(&mut self, e: &Element) {
        for child in e.elements() {
            self.push(
                ViolationKind::UnexpectedElement {
                    parent: e.name.clone(),
                    element: child.name.clone(),
                },
                child,
            );
        }
        self.stray_text(e);
    }

    /// A choice of one child among `allowed`. Returns the chosen child and any stray text
    /// (trimmed) so callers can be lenient about `<Format>chr</Format>`.
    fn choice<'a>(
        &mut self,
        e: &'a Element,
        allowed: &[&str],
        unknown: Unknown,
    ) -> (Option<&'a Element>, String) {
        let text = self.stray_text(e);
        let mut chosen: Option<&'a Element> = None;
        for child in e.elements() {
            self.check_ns(e, child);
            let known = allowed.contains(&child.name.as_str());
            let kind = match (&chosen, known) {
                (None, true) => {
                    chosen = Some(child);
                    continue;
                }
                (Some(c), true) if c.name == child.name => ViolationKind::Repeated {
                    parent: e.name.clone(),
                    element: child.name.clone(),
                },
                (_, true) => ViolationKind::UnexpectedElement {
                    parent: e.name.clone(),
                    element: child.name.clone(),
                },
                (_, false) => match unknown {
                    Unknown::BadValue(words) => ViolationKind::BadValue {
                        element: e.name.clone(),
                        value: child.name.clone(),
                        expected: words.into(),
                    },
                    Unknown::Unexpected => ViolationKind::UnexpectedElement {
                        parent: e.name.clone(),
                        element: child.name.clone(),
                    },
                },
            };
            self.push(kind, child);
        }
        let any_element = e.elements().next().is_some();
        if chosen.is_none() && !any_element && text.is_empty() {
            self.push(
                ViolationKind::MissingElement {
                    parent: e.name.clone(),
                    element: allowed.join("|"),
                },
                e,
            );
        }
        (chosen, text)
    }

    fn mgmt_tree(&mut self, root: &Element) -> Result<MgmtTree, TndsError> {
        let kids = self.kids(root, MGMT_TREE);
        let ver_dtd = match self.required(&kids, "VerDTD") {
            Some(v) => {
                let text = self.text(v);
                if text.trim() != VER_DTD {
                    self.push(
                        ViolationKind::BadValue {
                            element: "VerDTD".into(),
                            value: text.clone(),
                            expected: VER_DTD.into(),
                        },
                        v,
                    );
                }
                text
            }
            None => String::new(),
        };
        let man = self.one(&kids, "Man").map(|e| self.text(e));
        let mod_ = self.one(&kids, "Mod").map(|e| self.text(e));
        let node_elements: Vec<&Element> = kids.all("Node");
        if node_elements.is_empty() {
            self.push(
                ViolationKind::MissingElement {
                    parent: "MgmtTree".into(),
                    element: "Node".into(),
                },
                root,
            );
        }
        let mut nodes = Vec::with_capacity(node_elements.len());
        for n in node_elements {
            nodes.push(self.node(n, 1)?);
        }
        Ok(MgmtTree {
            ver_dtd,
            man,
            mod_,
            nodes,
        })
    }

    fn node(&mut self, e: &Element, depth: usize) -> Result<Node, TndsError> {
        if depth > MAX_NODE_DEPTH {
            return Err(TndsError::TooDeep { pos: e.pos });
        }
        let index = self.positions.len();
        self.positions.push(NodePos {
            node: e.pos,
            rt: e.pos,
        });
        let kids = self.kids(e, NODE);
        let name = match self.required(&kids, "NodeName") {
            Some(n) => self.text(n),
            None => String::new(),
        };
        let path = self.one(&kids, "Path").map(|p| self.text(p));
        let rt = match self.one(&kids, "RTProperties") {
            Some(r) => {
                if let Some(p) = self.positions.get_mut(index) {
                    p.rt = r.pos;
                }
                Some(self.rt(r))
            }
            None => None,
        };
        let df = match self.one(&kids, "DFProperties") {
            Some(d) => Some(self.df(d)?),
            None => None,
        };
        let child_elements: Vec<&Element> = kids.all("Node");
        let values: Vec<&Element> = kids.all("Value");
        let content = if !child_elements.is_empty() {
            // facts §9.1: (Node* | Value?) — children win; a Value beside them is unexpected.
            for v in values {
                self.push(
                    ViolationKind::UnexpectedElement {
                        parent: "Node".into(),
                        element: "Value".into(),
                    },
                    v,
                );
            }
            let mut children = Vec::with_capacity(child_elements.len());
            for c in child_elements {
                children.push(self.node(c, depth + 1)?);
            }
            NodeContent::Children(children)
        } else if let Some(v) = self.one(&kids, "Value") {
            NodeContent::Value(Some(self.text(v)))
        } else {
            let interior = rt.as_ref().and_then(|r| r.format) == Some(Format::Node)
                || df.as_ref().map(|d| d.df_format) == Some(Format::Node);
            if interior {
                NodeContent::Children(Vec::new())
            } else {
                NodeContent::Value(None)
            }
        };
        Ok(Node {
            name,
            path,
            rt,
            df,
            content,
        })
    }

    fn rt(&mut self, e: &Element) -> RtProperties {
        let kids = self.kids(e, RT);
        let acl = self.one(&kids, "ACL").map(|x| self.text(x));
        let format = self.one(&kids, "Format").and_then(|x| self.format(x));
        let name = self.one(&kids, "Name").map(|x| self.text(x));
        let size = self
            .one(&kids, "Size")
            .and_then(|x| self.number(x, u64::from(u32::MAX), "0..4294967295"))
            .and_then(|n| u32::try_from(n).ok());
        let title = self.one(&kids, "Title").map(|x| {
            let t = self.text(x);
            if t.len() > 255 {
                // facts §4.3: Title ≤ 255 bytes.
                self.push(
                    ViolationKind::BadValue {
                        element: "Title".into(),
                        value: t.clone(),
                        expected: "at most 255 bytes".into(),
                    },
                    x,
                );
            }
            t
        });
        let tstamp = self.one(&kids, "TStamp").map(|x| self.text(x));
        let type_ = self.required(&kids, "Type").and_then(|x| self.node_type(x));
        let ver_no = self
            .one(&kids, "VerNo")
            .and_then(|x| self.number(x, u64::from(u16::MAX), "0..65535"))
            .and_then(|n| u16::try_from(n).ok());
        RtProperties {
            acl,
            format,
            name,
            size,
            title,
            tstamp,
            type_,
            ver_no,
        }
    }

    /// A decimal number (surrounding whitespace allowed) up to `max`. Facts §4.3.
    fn number(&mut self, e: &Element, max: u64, range: &str) -> Option<u64> {
        let text = self.text(e);
        let t = text.trim();
        if t.is_empty() || !t.bytes().all(|b| b.is_ascii_digit()) {
            self.push(
                ViolationKind::BadNumber {
                    element: e.name.clone(),
                    value: text.clone(),
                },
                e,
            );
            return None;
        }
        match t.parse::<u64>() {
            Ok(n) if n <= max => Some(n),
            _ => {
                self.push(
                    ViolationKind::BadValue {
                        element: e.name.clone(),
                        value: text.clone(),
                        expected: range.into(),
                    },
                    e,
                );
                None
            }
        }
    }

    /// `Format` / `DFFormat`: one empty element naming the format. Facts §9.1.
    fn format(&mut self, e: &Element) -> Option<Format> {
        let (chosen, text) = self.choice(e, FORMATS, Unknown::BadValue(FORMATS_WORDS));
        match chosen {
            Some(c) => {
                self.empty(c);
                c.name.parse().ok()
            }
            // Lenient: `<Format>chr</Format>` (already reported as UnexpectedText).
            None if e.elements().next().is_none() && !text.is_empty() => match text.parse() {
                Ok(f) => Some(f),
                Err(_) => {
                    self.push(
                        ViolationKind::BadValue {
                            element: e.name.clone(),
                            value: text,
                            expected: FORMATS_WORDS.into(),
                        },
                        e,
                    );
                    None
                }
            },
            None => None,
        }
    }

    /// `Type`: `MIME | DDFName`. Facts §9.1.
    fn node_type(&mut self, e: &Element) -> Option<NodeType> {
        let (chosen, text) = self.choice(e, &["MIME", "DDFName"], Unknown::Unexpected);
        match chosen {
            Some(c) if c.name == "MIME" => Some(NodeType::Mime(self.text(c))),
            Some(c) => Some(NodeType::DdfName(self.text(c))),
            // Lenient: `<Type>text/plain</Type>` (already reported as UnexpectedText).
            None if e.elements().next().is_none() && !text.is_empty() => Some(NodeType::Mime(text)),
            None => None,
        }
    }

    fn df(&mut self, e: &Element) -> Result<DfProperties, TndsError> {
        let kids = self.kids(e, DF);
        let access_type = match self.required(&kids, "AccessType") {
            Some(a) => self.access_type(a),
            None => AccessType::default(),
        };
        let default_value = self.one(&kids, "DefaultValue").map(|x| self.text(x));
        let description = self.one(&kids, "Description").map(|x| self.text(x));
        let df_format = self
            .required(&kids, "DFFormat")
            .and_then(|x| self.format(x))
            .ok_or_else(|| TndsError::Unusable {
                element: "DFProperties".into(),
                pos: e.pos,
                reason: "no usable DFFormat (mandatory, facts §9.1)".into(),
            })?;
        let occurrence = self
            .one(&kids, "Occurrence")
            .and_then(|x| self.occurrence(x));
        let scope = self.one(&kids, "Scope").and_then(|x| {
            let (c, _) = self.choice(
                x,
                &["Permanent", "Dynamic"],
                Unknown::BadValue("Permanent or Dynamic"),
            );
            c.map(|c| {
                self.empty(c);
                if c.name == "Permanent" {
                    Scope::Permanent
                } else {
                    Scope::Dynamic
                }
            })
        });
        let df_title = self.one(&kids, "DFTitle").map(|x| self.text(x));
        let df_type = self
            .required(&kids, "DFType")
            .and_then(|x| self.df_type(x))
            .ok_or_else(|| TndsError::Unusable {
                element: "DFProperties".into(),
                pos: e.pos,
                reason: "no usable DFType (mandatory, facts §9.1)".into(),
            })?;
        let case_sense = self.one(&kids, "CaseSense").and_then(|x| {
            let (c, _) = self.choice(x, &["CS", "CIS"], Unknown::BadValue("CS or CIS"));
            c.map(|c| {
                self.empty(c);
                if c.name == "CS" {
                    CaseSense::Cs
                } else {
                    CaseSense::Cis
                }
            })
        });
        Ok(DfProperties {
            access_type,
            default_value,
            description,
            df_format,
            occurrence,
            scope,
            df_title,
            df_type,
            case_sense,
        })
    }

    fn access_type(&mut self, e: &Element) -> AccessType {
        let kids = self.kids(e, ACCESS);
        let mut set = BTreeSet::new();
        for right in AccessRight::ALL {
            if let Some(x) = self.one(&kids, right.as_str()) {
                self.empty(x);
                set.insert(right);
            }
        }
        AccessType(set)
    }

    /// `Occurrence`; `ZeroOrN`/`OneOrN` carry N (2..65536) as text. Facts §9.1.
    fn occurrence(&mut self, e: &Element) -> Option<Occurrence> {
        let (chosen, _) = self.choice(
            e,
            OCCURRENCES,
            Unknown::BadValue("One, ZeroOrOne, ZeroOrMore, OneOrMore, ZeroOrN or OneOrN"),
        );
        let c = chosen?;
        let bounded = |d: &mut Decoder| {
            let n = d.number(c, u64::from(u32::MAX), "2..65536")?;
            let n = u32::try_from(n).ok().filter(|n| OCCURRENCE_N.contains(n));
            if n.is_none() {
                d.push(
                    ViolationKind::BadValue {
                        element: c.name.clone(),
                        value: c.text(),
                        expected: "2..65536".into(),
                    },
                    c,
                );
            }
            n
        };
        match c.name.as_str() {
            "ZeroOrN" => bounded(self).map(Occurrence::ZeroOrN),
            "OneOrN" => bounded(self).map(Occurrence::OneOrN),
            other => {
                self.empty(c);
                Some(match other {
                    "ZeroOrOne" => Occurrence::ZeroOrOne,
                    "ZeroOrMore" => Occurrence::ZeroOrMore,
                    "OneOrMore" => Occurrence::OneOrMore,
                    _ => Occurrence::One,
                })
            }
        }
    }

    /// `DFType`: `MIME+ | DDFName`; the first child decides. Facts §9.1.
    fn df_type(&mut self, e: &Element) -> Option<DfType> {
        self.stray_text(e);
        let mut mimes = Vec::new();
        let mut ddf: Option<String> = None;
        let mut any = false;
        for child in e.elements() {
            self.check_ns(e, child);
            let kind = match child.name.as_str() {
                "MIME" if ddf.is_none() => {
                    mimes.push(self.text(child));
                    any = true;
                    continue;
                }
                "DDFName" if ddf.is_none() && mimes.is_empty() => {
                    ddf = Some(self.text(child));
                    any = true;
                    continue;
                }
                "DDFName" if ddf.is_some() => ViolationKind::Repeated {
                    parent: "DFType".into(),
                    element: "DDFName".into(),
                },
                _ => ViolationKind::UnexpectedElement {
                    parent: "DFType".into(),
                    element: child.name.clone(),
                },
            };
            self.push(kind, child);
        }
        if !any && e.elements().next().is_none() {
            self.push(
                ViolationKind::MissingElement {
                    parent: "DFType".into(),
                    element: "MIME|DDFName".into(),
                },
                e,
            );
        }
        match ddf {
            Some(d) => Some(DfType::DdfName(d)),
            None if !mimes.is_empty() => Some(DfType::Mime(mimes)),
            None => None,
        }
    }
}
