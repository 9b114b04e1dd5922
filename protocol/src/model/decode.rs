//! dom → model, checking the representation rules (facts §1.2–§1.5) as it goes.
//!
//! Lenient by design: every deviation becomes a [`Violation`] at the element's position and
//! the message is still built. Only a root that is not `SyncML` is a hard error.

use crate::codes::{AlertCode, StatusCode};
use crate::dom::{Element, Node, Pos, NS_METINF, NS_SYNCML11, NS_SYNCML12};
use crate::violation::{Violation, ViolationKind};

use super::{
    Alert, Chal, Command, Container, Cred, Data, Exec, Item, ItemCommand, Locator, Meta, RawNodes,
    RawXml, Results, Status, SyncBody, SyncHdr, SyncMl,
};

/// Why a tree is not a SyncML message at all.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ModelError {
    /// The root element is not `SyncML`.
    #[error("{pos}: the root element is <{found}>, not <SyncML>; this is not a SyncML DM message")]
    NotSyncMl {
        /// The root element's name.
        found: String,
        /// Where it starts.
        pos: Pos,
    },
}

/// How often a child may occur in a content model.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Occ {
    One,
    Opt,
    Many,
    OneOrMore,
}

type Model = &'static [(&'static str, Occ)];

const SYNC_HDR: Model = &[
    ("VerDTD", Occ::One),
    ("VerProto", Occ::One),
    ("SessionID", Occ::One),
    ("MsgID", Occ::One),
    ("Target", Occ::One),
    ("Source", Occ::One),
    ("RespURI", Occ::Opt),
    ("NoResp", Occ::Opt),
    ("Cred", Occ::Opt),
    ("Meta", Occ::Opt),
];
const LOCATOR: Model = &[
    ("LocURI", Occ::One),
    ("LocName", Occ::Opt),
    ("Filter", Occ::Opt),
];
const ITEM_CMD: Model = &[
    ("CmdID", Occ::One),
    ("NoResp", Occ::Opt),
    ("Cred", Occ::Opt),
    ("Meta", Occ::Opt),
    ("Item", Occ::OneOrMore),
];
const DELETE: Model = &[
    ("CmdID", Occ::One),
    ("NoResp", Occ::Opt),
    ("Archive", Occ::Opt),
    ("SftDel", Occ::Opt),
    ("Cred", Occ::Opt),
    ("Meta", Occ::Opt),
    ("Item", Occ::OneOrMore),
];
const GET: Model = &[
    ("CmdID", Occ::One),
    ("NoResp", Occ::Opt),
    ("Lang", Occ::Opt),
    ("Cred", Occ::Opt),
    ("Meta", Occ::Opt),
    ("Item", Occ::OneOrMore),
];
const EXEC: Model = &[
    ("CmdID", Occ::One),
    ("NoResp", Occ::Opt),
    ("Cred", Occ::Opt),
    ("Meta", Occ::Opt),
    ("Correlator", Occ::Opt),
    ("Item", Occ::One),
];
const ALERT: Model = &[
    ("CmdID", Occ::One),
    ("NoResp", Occ::Opt),
    ("Cred", Occ::Opt),
    ("Data", Occ::Opt),
    ("Correlator", Occ::Opt),
    ("Item", Occ::Many),
];
const CONTAINER_HEAD: Model = &[
    ("CmdID", Occ::One),
    ("NoResp", Occ::Opt),
    ("Meta", Occ::Opt),
];
const STATUS: Model = &[
    ("CmdID", Occ::One),
    ("MsgRef", Occ::One),
    ("CmdRef", Occ::One),
    ("Cmd", Occ::One),
    ("TargetRef", Occ::Many),
    ("SourceRef", Occ::Many),
    ("Cred", Occ::Opt),
    ("Chal", Occ::Opt),
    ("Item", Occ::Many),
    ("Data", Occ::One),
];
const RESULTS: Model = &[
    ("CmdID", Occ::One),
    ("MsgRef", Occ::Opt),
    ("CmdRef", Occ::One),
    ("Meta", Occ::Opt),
    ("TargetRef", Occ::Opt),
    ("SourceRef", Occ::Opt),
    ("Item", Occ::OneOrMore),
];
const ITEM: Model = &[
    ("Target", Occ::Opt),
    ("Source", Occ::Opt),
    ("SourceParent", Occ::Opt),
    ("TargetParent", Occ::Opt),
    ("Meta", Occ::Opt),
    ("Data", Occ::Opt),
    ("MoreData", Occ::Opt),
];
const CRED: Model = &[("Meta", Occ::Opt), ("Data", Occ::One)];
const CHAL: Model = &[("Meta", Occ::One)];

/// SyncML elements OMA DM does not use (facts §1.2, last paragraph), plus DS-only children.
const NOT_IN_DM: &[&str] = &[
    "Archive",
    "Lang",
    "NoResp",
    "NoResults",
    "NumberOfChanges",
    "SftDel",
    "Map",
    "MapItem",
    "Put",
    "Search",
    "Sync",
    "SourceParent",
    "TargetParent",
    "Filter",
    "Move",
];

/// Format values DM defines (facts §1.5).
const FORMATS: &[&str] = &[
    "b64", "bin", "bool", "chr", "int", "node", "null", "xml", "date", "time", "float",
];
/// Mark values for Generic Alert severity (facts §1.5).
const MARKS: &[&str] = &[
    "fatal",
    "critical",
    "minor",
    "warning",
    "informational",
    "harmless",
    "indeterminate",
];

struct Cx {
    ns: String,
    violations: Vec<Violation>,
}

impl Cx {
    fn violate(&mut self, kind: ViolationKind, pos: Pos) {
        self.violations.push(Violation::new(kind, pos));
    }

    /// Check an element against an element-only content model: namespaces, order,
    /// cardinality, unknown children, stray text.
    fn check(&mut self, parent: &Element, model: Model) {
        self.check_text(parent);
        let mut counts = vec![0usize; model.len()];
        let mut furthest: Option<usize> = None;
        for child in parent.elements() {
            self.check_ns(child);
            let Some(idx) = model.iter().position(|(n, _)| *n == child.name) else {
                self.unexpected(parent, child);
                continue;
            };
            if NOT_IN_DM.contains(&child.name.as_str()) {
                self.violate(
                    ViolationKind::NotUsedInDm {
                        parent: parent.name.clone(),
                        element: child.name.clone(),
                    },
                    child.pos,
                );
            }
            if let Some(f) = furthest {
                if idx < f {
                    self.violate(
                        ViolationKind::WrongOrder {
                            parent: parent.name.clone(),
                            element: child.name.clone(),
                            after: model[f].0.to_string(),
                        },
                        child.pos,
                    );
                }
            }
            furthest = Some(furthest.map_or(idx, |f| f.max(idx)));
            counts[idx] += 1;
            if counts[idx] == 2 && matches!(model[idx].1, Occ::One | Occ::Opt) {
                self.violate(
                    ViolationKind::Repeated {
                        parent: parent.name.clone(),
                        element: child.name.clone(),
                    },
                    child.pos,
                );
            }
        }
        for ((name, occ), count) in model.iter().zip(&counts) {
            if *count == 0 && matches!(occ, Occ::One | Occ::OneOrMore) {
                self.violate(
                    ViolationKind::MissingElement {
                        parent: parent.name.clone(),
                        element: (*name).to_string(),
                    },
                    parent.pos,
                );
            }
        }
    }

    fn check_text(&mut self, e: &Element) {
        let stray = e.children.iter().any(|n| match n {
            Node::Text(t) => !t.trim().is_empty(),
            Node::Opaque(_) => true,
            Node::Element(_) => false,
        });
        if stray {
            self.violate(
                ViolationKind::UnexpectedText {
                    element: e.name.clone(),
                },
                e.pos,
            );
        }
    }

    fn check_ns(&mut self, e: &Element) {
        if e.ns != self.ns {
            self.violate(
                ViolationKind::WrongNamespace {
                    element: e.name.clone(),
                    expected: self.ns.clone(),
                    found: e.ns.clone(),
                },
                e.pos,
            );
        }
    }

    fn unexpected(&mut self, parent: &Element, child: &Element) {
        let kind = if NOT_IN_DM.contains(&child.name.as_str()) {
            ViolationKind::NotUsedInDm {
                parent: parent.name.clone(),
                element: child.name.clone(),
            }
        } else {
            ViolationKind::UnexpectedElement {
                parent: parent.name.clone(),
                element: child.name.clone(),
            }
        };
        self.violate(kind, child.pos);
    }

    /// The trimmed text of the first child with this name.
    fn text(&mut self, parent: &Element, name: &str) -> Option<String> {
        parent.child(name).map(|c| self.scalar(c))
    }

    /// The trimmed text of a scalar element; child elements inside it are violations.
    fn scalar(&mut self, e: &Element) -> String {
        for c in e.elements() {
            self.violate(
                ViolationKind::UnexpectedElement {
                    parent: e.name.clone(),
                    element: c.name.clone(),
                },
                c.pos,
            );
        }
        e.text().trim().to_string()
    }

    /// A mandatory scalar; empty when missing (the content-model check reported it).
    fn required(&mut self, parent: &Element, name: &str) -> String {
        self.text(parent, name).unwrap_or_default()
    }

    /// A mandatory decimal identifier (MsgID, CmdID, MsgRef, CmdRef).
    fn id(&mut self, parent: &Element, name: &str) -> String {
        let value = self.required(parent, name);
        if let Some(c) = parent.child(name) {
            if value.is_empty() || !value.bytes().all(|b| b.is_ascii_digit()) {
                self.violate(
                    ViolationKind::BadNumber {
                        element: name.to_string(),
                        value: value.clone(),
                    },
                    c.pos,
                );
            }
        }
        value
    }

    fn flag(&mut self, parent: &Element, name: &str) -> bool {
        parent.child(name).is_some()
    }

    fn cred_outside_header(&mut self, parent: &Element) {
        if let Some(c) = parent.child("Cred") {
            // facts §1.2: DM allows Cred only in SyncHdr.
            self.violate(
                ViolationKind::NotUsedInDm {
                    parent: parent.name.clone(),
                    element: "Cred".to_string(),
                },
                c.pos,
            );
        }
    }
}

/// Map a dom tree to a [`SyncMl`] message, returning every representation violation found.
pub fn from_dom(root: &Element) -> Result<(SyncMl, Vec<Violation>), ModelError> {
    if root.name != "SyncML" {
        return Err(ModelError::NotSyncMl {
            found: root.name.clone(),
            pos: root.pos,
        });
    }
    let mut cx = Cx {
        ns: root.ns.clone(),
        violations: Vec::new(),
    };
    if root.ns != NS_SYNCML12 && root.ns != NS_SYNCML11 {
        cx.violate(
            ViolationKind::WrongNamespace {
                element: "SyncML".into(),
                expected: NS_SYNCML12.into(),
                found: root.ns.clone(),
            },
            root.pos,
        );
    }
    cx.check(root, &[("SyncHdr", Occ::One), ("SyncBody", Occ::One)]);
    let hdr = match root.child("SyncHdr") {
        Some(h) => sync_hdr(&mut cx, h),
        None => SyncHdr::default(),
    };
    let body = match root.child("SyncBody") {
        Some(b) => sync_body(&mut cx, b),
        None => SyncBody::default(),
    };
    Ok((SyncMl { hdr, body }, cx.violations))
}

fn sync_hdr(cx: &mut Cx, e: &Element) -> SyncHdr {
    cx.check(e, SYNC_HDR);
    let ver_dtd = cx.required(e, "VerDTD");
    let expected_dtd = if cx.ns == NS_SYNCML11 { "1.1" } else { "1.2" };
    if let Some(c) = e.child("VerDTD") {
        if ver_dtd != expected_dtd {
            cx.violate(
                ViolationKind::BadValue {
                    element: "VerDTD".into(),
                    value: ver_dtd.clone(),
                    expected: format!("{expected_dtd} for namespace {:?}", cx.ns),
                },
                c.pos,
            );
        }
    }
    let ver_proto = cx.required(e, "VerProto");
    if let Some(c) = e.child("VerProto") {
        if !matches!(ver_proto.as_str(), "DM/1.1" | "DM/1.2" | "DM/1.3") {
            cx.violate(
                ViolationKind::BadValue {
                    element: "VerProto".into(),
                    value: ver_proto.clone(),
                    expected: "DM/1.2 (or DM/1.1, DM/1.3)".into(),
                },
                c.pos,
            );
        }
    }
    SyncHdr {
        ver_dtd,
        ver_proto,
        session_id: cx.required(e, "SessionID"),
        msg_id: cx.id(e, "MsgID"),
        target: e
            .child("Target")
            .map(|t| locator(cx, t))
            .unwrap_or_default(),
        source: e
            .child("Source")
            .map(|s| locator(cx, s))
            .unwrap_or_default(),
        resp_uri: cx.text(e, "RespURI"),
        no_resp: cx.flag(e, "NoResp"),
        cred: e.child("Cred").map(|c| cred(cx, c)),
        meta: e.child("Meta").map(|m| meta(cx, m)),
    }
}

fn locator(cx: &mut Cx, e: &Element) -> Locator {
    cx.check(e, LOCATOR);
    Locator {
        loc_uri: cx.required(e, "LocURI"),
        loc_name: cx.text(e, "LocName"),
    }
}

fn sync_body(cx: &mut Cx, e: &Element) -> SyncBody {
    cx.check_text(e);
    let mut body = SyncBody::default();
    let mut final_pos: Option<Pos> = None;
    for child in e.elements() {
        cx.check_ns(child);
        if child.name == "Final" {
            if final_pos.is_some() {
                cx.violate(
                    ViolationKind::Repeated {
                        parent: "SyncBody".into(),
                        element: "Final".into(),
                    },
                    child.pos,
                );
            }
            final_pos = Some(child.pos);
            body.final_ = true;
            continue;
        }
        if let Some(pos) = final_pos {
            // Final closes the body (facts §1.2): nothing may follow it.
            cx.violate(
                ViolationKind::WrongOrder {
                    parent: "SyncBody".into(),
                    element: "Final".into(),
                    after: child.name.clone(),
                },
                pos,
            );
            final_pos = Some(Pos::None);
        }
        body.commands.push(command(cx, e, child));
    }
    body
}

fn command(cx: &mut Cx, parent: &Element, e: &Element) -> Command {
    match e.name.as_str() {
        "Add" => Command::Add(item_command(cx, e, ITEM_CMD)),
        "Copy" => Command::Copy(item_command(cx, e, ITEM_CMD)),
        "Replace" => Command::Replace(item_command(cx, e, ITEM_CMD)),
        "Delete" => Command::Delete(item_command(cx, e, DELETE)),
        "Get" => Command::Get(item_command(cx, e, GET)),
        "Exec" => Command::Exec(exec(cx, e)),
        "Atomic" => Command::Atomic(container(cx, e)),
        "Sequence" => Command::Sequence(container(cx, e)),
        "Results" => Command::Results(results(cx, e)),
        "Alert" => alert(cx, e),
        "Status" => status(cx, e),
        _ => {
            cx.unexpected(parent, e);
            Command::Other(RawXml { element: e.clone() })
        }
    }
}

fn item_command(cx: &mut Cx, e: &Element, model: Model) -> ItemCommand {
    cx.check(e, model);
    cx.cred_outside_header(e);
    ItemCommand {
        cmd_id: cx.id(e, "CmdID"),
        no_resp: cx.flag(e, "NoResp"),
        archive: cx.flag(e, "Archive"),
        sft_del: cx.flag(e, "SftDel"),
        lang: cx.text(e, "Lang"),
        cred: e.child("Cred").map(|c| cred(cx, c)),
        meta: e.child("Meta").map(|m| meta(cx, m)),
        items: items(cx, e),
    }
}

fn items(cx: &mut Cx, e: &Element) -> Vec<Item> {
    e.elements()
        .filter(|c| c.name == "Item")
        .map(|i| item(cx, i))
        .collect()
}

fn exec(cx: &mut Cx, e: &Element) -> Exec {
    cx.check(e, EXEC);
    cx.cred_outside_header(e);
    Exec {
        cmd_id: cx.id(e, "CmdID"),
        no_resp: cx.flag(e, "NoResp"),
        cred: e.child("Cred").map(|c| cred(cx, c)),
        meta: e.child("Meta").map(|m| meta(cx, m)),
        correlator: cx.text(e, "Correlator"),
        items: items(cx, e),
    }
}

fn alert(cx: &mut Cx, e: &Element) -> Command {
    cx.check(e, ALERT);
    cx.cred_outside_header(e);
    let code = match e.child("Data") {
        None => None,
        Some(d) => {
            let text = cx.scalar(d);
            match text.parse::<u16>() {
                Ok(n) => Some(AlertCode::from_u16(n)),
                Err(_) => {
                    cx.violate(
                        ViolationKind::BadNumber {
                            element: "Data".into(),
                            value: text,
                        },
                        d.pos,
                    );
                    return Command::Other(RawXml { element: e.clone() });
                }
            }
        }
    };
    Command::Alert(Alert {
        cmd_id: cx.id(e, "CmdID"),
        no_resp: cx.flag(e, "NoResp"),
        cred: e.child("Cred").map(|c| cred(cx, c)),
        code,
        correlator: cx.text(e, "Correlator"),
        items: items(cx, e),
    })
}

fn container(cx: &mut Cx, e: &Element) -> Container {
    cx.check_text(e);
    let mut head = Element {
        name: e.name.clone(),
        ns: e.ns.clone(),
        pos: e.pos,
        children: Vec::new(),
    };
    let mut commands = Vec::new();
    let mut seen_command: Option<String> = None;
    for child in e.elements() {
        if CONTAINER_HEAD.iter().any(|(n, _)| *n == child.name) {
            if let Some(cmd) = &seen_command {
                cx.violate(
                    ViolationKind::WrongOrder {
                        parent: e.name.clone(),
                        element: cmd.clone(),
                        after: child.name.clone(),
                    },
                    child.pos,
                );
            }
            head.push(child.clone());
        } else {
            cx.check_ns(child);
            seen_command.get_or_insert_with(|| child.name.clone());
            commands.push(command(cx, e, child));
        }
    }
    cx.check(&head, CONTAINER_HEAD);
    if commands.is_empty() {
        cx.violate(
            ViolationKind::MissingElement {
                parent: e.name.clone(),
                element: "a command".into(),
            },
            e.pos,
        );
    }
    Container {
        cmd_id: cx.id(&head, "CmdID"),
        no_resp: cx.flag(&head, "NoResp"),
        meta: head.child("Meta").map(|m| meta(cx, m)),
        commands,
    }
}

fn status(cx: &mut Cx, e: &Element) -> Command {
    cx.check(e, STATUS);
    let Some(d) = e.child("Data") else {
        return Command::Other(RawXml { element: e.clone() });
    };
    let text = cx.scalar(d);
    let Ok(n) = text.parse::<u16>() else {
        cx.violate(
            ViolationKind::BadNumber {
                element: "Data".into(),
                value: text,
            },
            d.pos,
        );
        return Command::Other(RawXml { element: e.clone() });
    };
    Command::Status(Status {
        cmd_id: cx.id(e, "CmdID"),
        msg_ref: cx.id(e, "MsgRef"),
        cmd_ref: cx.id(e, "CmdRef"),
        cmd: cx.required(e, "Cmd"),
        target_refs: refs(cx, e, "TargetRef"),
        source_refs: refs(cx, e, "SourceRef"),
        cred: e.child("Cred").map(|c| cred(cx, c)),
        chal: e.child("Chal").map(|c| chal(cx, c)),
        items: items(cx, e),
        code: StatusCode::from_u16(n),
    })
}

fn refs(cx: &mut Cx, e: &Element, name: &str) -> Vec<String> {
    e.elements()
        .filter(|c| c.name == name)
        .map(|c| cx.scalar(c))
        .collect()
}

fn results(cx: &mut Cx, e: &Element) -> Results {
    cx.check(e, RESULTS);
    let msg_ref = e.child("MsgRef").map(|_| cx.id(e, "MsgRef"));
    Results {
        cmd_id: cx.id(e, "CmdID"),
        msg_ref,
        cmd_ref: cx.id(e, "CmdRef"),
        meta: e.child("Meta").map(|m| meta(cx, m)),
        target_ref: cx.text(e, "TargetRef"),
        source_ref: cx.text(e, "SourceRef"),
        items: items(cx, e),
    }
}

fn item(cx: &mut Cx, e: &Element) -> Item {
    cx.check(e, ITEM);
    Item {
        target: e.child("Target").map(|t| locator(cx, t)),
        source: e.child("Source").map(|s| locator(cx, s)),
        source_parent: e.child("SourceParent").map(|s| locator(cx, s)),
        target_parent: e.child("TargetParent").map(|t| locator(cx, t)),
        meta: e.child("Meta").map(|m| meta(cx, m)),
        data: e.child("Data").map(data),
        more_data: cx.flag(e, "MoreData"),
    }
}

/// The content of a `Data` element, told apart by content (see [`Data`]).
fn data(e: &Element) -> Data {
    if e.children.iter().any(|n| matches!(n, Node::Element(_))) {
        let nodes = e
            .children
            .iter()
            .filter(|n| !matches!(n, Node::Text(t) if t.trim().is_empty()))
            .cloned()
            .collect();
        return Data::Markup(RawNodes { nodes });
    }
    if e.children.iter().all(|n| matches!(n, Node::Text(_))) {
        return Data::Text(e.text());
    }
    if let [Node::Opaque(bytes)] = e.children.as_slice() {
        // libwbxml carries an embedded TNDS document as OPAQUE holding a WBXML document of
        // its own; the XML form carries it inline. Both are the same markup.
        if let Some(root) = embedded_tnds(bytes) {
            return Data::Markup(RawNodes {
                nodes: vec![Node::Element(root)],
            });
        }
    }
    let mut bytes = Vec::new();
    for n in &e.children {
        match n {
            Node::Text(t) => bytes.extend_from_slice(t.as_bytes()),
            Node::Opaque(b) => bytes.extend_from_slice(b),
            Node::Element(_) => {}
        }
    }
    match String::from_utf8(bytes) {
        Ok(text) if is_xml_text(&text) => Data::Text(text),
        Ok(text) => Data::Binary(text.into_bytes()),
        Err(e) => Data::Binary(e.into_bytes()),
    }
}

/// A TNDS/DDF `MgmtTree` carried as a nested WBXML document, if `bytes` is one.
fn embedded_tnds(bytes: &[u8]) -> Option<Element> {
    if !crate::wbxml::is_wbxml(bytes) {
        return None;
    }
    let doc = crate::wbxml::decode(bytes).ok()?;
    doc.is_tnds().then_some(doc.root)
}

/// True when XML 1.0 can carry the text (no control characters but tab, LF, CR).
pub(crate) fn is_xml_text(text: &str) -> bool {
    text.chars()
        .all(|c| (c as u32) >= 0x20 || matches!(c, '\t' | '\n' | '\r'))
}

fn cred(cx: &mut Cx, e: &Element) -> Cred {
    cx.check(e, CRED);
    Cred {
        meta: e.child("Meta").map(|m| meta(cx, m)),
        data: cx.required(e, "Data"),
    }
}

fn chal(cx: &mut Cx, e: &Element) -> Chal {
    cx.check(e, CHAL);
    Chal {
        meta: e.child("Meta").map(|m| meta(cx, m)).unwrap_or_default(),
    }
}

/// `Meta` holds MetInf elements in any order (the SyncML DTD declares it as text holding
/// the metinf namespace), each of which must be in `syncml:metinf` (facts §1.1).
fn meta(cx: &mut Cx, e: &Element) -> Meta {
    cx.check_text(e);
    let mut m = Meta::default();
    let mut seen: Vec<&str> = Vec::new();
    for c in e.elements() {
        if c.ns != NS_METINF {
            cx.violate(
                ViolationKind::WrongNamespace {
                    element: c.name.clone(),
                    expected: NS_METINF.into(),
                    found: c.ns.clone(),
                },
                c.pos,
            );
        }
        let known = matches!(
            c.name.as_str(),
            "Format" | "Type" | "Mark" | "Size" | "NextNonce" | "MaxMsgSize" | "MaxObjSize"
        );
        if known {
            if seen.contains(&c.name.as_str()) {
                cx.violate(
                    ViolationKind::Repeated {
                        parent: "Meta".into(),
                        element: c.name.clone(),
                    },
                    c.pos,
                );
                m.extra.nodes.push(Node::Element(c.clone()));
                continue;
            }
            seen.push(c.name.as_str());
        }
        let value = || c.text().trim().to_string();
        match c.name.as_str() {
            "Format" => {
                let v = value();
                if !FORMATS.contains(&v.as_str()) {
                    cx.violate(
                        ViolationKind::BadValue {
                            element: "Format".into(),
                            value: v.clone(),
                            expected: format!("one of {}", FORMATS.join(", ")),
                        },
                        c.pos,
                    );
                }
                m.format = Some(v);
            }
            "Type" => m.type_ = Some(value()),
            "Mark" => {
                let v = value();
                if !MARKS.contains(&v.as_str()) {
                    cx.violate(
                        ViolationKind::BadValue {
                            element: "Mark".into(),
                            value: v.clone(),
                            expected: format!("one of {}", MARKS.join(", ")),
                        },
                        c.pos,
                    );
                }
                m.mark = Some(v);
            }
            "NextNonce" => m.next_nonce = Some(value()),
            "Size" | "MaxMsgSize" | "MaxObjSize" => match value().parse::<u64>() {
                Ok(n) => {
                    let slot = match c.name.as_str() {
                        "Size" => &mut m.size,
                        "MaxMsgSize" => &mut m.max_msg_size,
                        _ => &mut m.max_obj_size,
                    };
                    *slot = Some(n);
                }
                Err(_) => {
                    cx.violate(
                        ViolationKind::BadNumber {
                            element: c.name.clone(),
                            value: value(),
                        },
                        c.pos,
                    );
                    m.extra.nodes.push(Node::Element(c.clone()));
                }
            },
            "Version" | "EMI" | "Anchor" | "Mem" | "FieldLevel" | "MetInf" => {
                cx.violate(
                    ViolationKind::NotUsedInDm {
                        parent: "Meta".into(),
                        element: c.name.clone(),
                    },
                    c.pos,
                );
                m.extra.nodes.push(Node::Element(c.clone()));
            }
            _ => {
                cx.violate(
                    ViolationKind::UnexpectedElement {
                        parent: "Meta".into(),
                        element: c.name.clone(),
                    },
                    c.pos,
                );
                m.extra.nodes.push(Node::Element(c.clone()));
            }
        }
    }
    m
}
