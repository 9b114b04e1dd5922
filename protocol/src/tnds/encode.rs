//! model → canonical dom (facts §9.1): DTD order, `syncml:dmddf1.2` on every element, no
//! empty text nodes.

use crate::dom::{Element, NS_DMDDF12};

use super::{
    CaseSense, DfProperties, DfType, Format, MgmtTree, Node, NodeContent, NodeType, Occurrence,
    RtProperties, Scope,
};

fn el(name: &str) -> Element {
    Element::new(name, NS_DMDDF12)
}

/// An element holding text; empty text gives an empty element (`<NodeName/>`).
fn text_el(name: &str, text: &str) -> Element {
    let e = el(name);
    if text.is_empty() {
        e
    } else {
        e.with_text(text)
    }
}

fn format_el(name: &str, f: Format) -> Element {
    el(name).with_child(el(f.as_str()))
}

pub(crate) fn encode(tree: &MgmtTree) -> Element {
    let mut root = el("MgmtTree").with_child(text_el("VerDTD", &tree.ver_dtd));
    if let Some(man) = &tree.man {
        root.push(text_el("Man", man));
    }
    if let Some(m) = &tree.mod_ {
        root.push(text_el("Mod", m));
    }
    for n in &tree.nodes {
        root.push(node(n));
    }
    root
}

fn node(n: &Node) -> Element {
    let mut e = el("Node").with_child(text_el("NodeName", &n.name));
    if let Some(p) = &n.path {
        e.push(text_el("Path", p));
    }
    if let Some(rt) = &n.rt {
        e.push(rt_properties(rt));
    }
    if let Some(df) = &n.df {
        e.push(df_properties(df));
    }
    match &n.content {
        NodeContent::Children(children) => {
            for c in children {
                e.push(node(c));
            }
        }
        NodeContent::Value(Some(v)) => e.push(text_el("Value", v)),
        NodeContent::Value(None) => {}
    }
    e
}

fn rt_properties(rt: &RtProperties) -> Element {
    let mut e = el("RTProperties");
    if let Some(acl) = &rt.acl {
        e.push(text_el("ACL", acl));
    }
    if let Some(f) = rt.format {
        e.push(format_el("Format", f));
    }
    if let Some(name) = &rt.name {
        e.push(text_el("Name", name));
    }
    if let Some(size) = rt.size {
        e.push(text_el("Size", &size.to_string()));
    }
    if let Some(title) = &rt.title {
        e.push(text_el("Title", title));
    }
    if let Some(ts) = &rt.tstamp {
        e.push(text_el("TStamp", ts));
    }
    if let Some(t) = &rt.type_ {
        let inner = match t {
            NodeType::Mime(m) => text_el("MIME", m),
            NodeType::DdfName(d) => text_el("DDFName", d),
        };
        e.push(el("Type").with_child(inner));
    }
    if let Some(v) = rt.ver_no {
        e.push(text_el("VerNo", &v.to_string()));
    }
    e
}

fn df_properties(df: &DfProperties) -> Element {
    let mut access = el("AccessType");
    for right in &df.access_type.0 {
        access.push(el(right.as_str()));
    }
    let mut e = el("DFProperties").with_child(access);
    if let Some(d) = &df.default_value {
        e.push(text_el("DefaultValue", d));
    }
    if let Some(d) = &df.description {
        e.push(text_el("Description", d));
    }
    e.push(format_el("DFFormat", df.df_format));
    if let Some(o) = df.occurrence {
        let inner = match o {
            Occurrence::One => el("One"),
            Occurrence::ZeroOrOne => el("ZeroOrOne"),
            Occurrence::ZeroOrMore => el("ZeroOrMore"),
            Occurrence::OneOrMore => el("OneOrMore"),
            Occurrence::ZeroOrN(n) => text_el("ZeroOrN", &n.to_string()),
            Occurrence::OneOrN(n) => text_el("OneOrN", &n.to_string()),
        };
        e.push(el("Occurrence").with_child(inner));
    }
    if let Some(s) = df.scope {
        let inner = match s {
            Scope::Permanent => "Permanent",
            Scope::Dynamic => "Dynamic",
        };
        e.push(el("Scope").with_child(el(inner)));
    }
    if let Some(t) = &df.df_title {
        e.push(text_el("DFTitle", t));
    }
    let mut t = el("DFType");
    match &df.df_type {
        DfType::Mime(mimes) => {
            for m in mimes {
                t.push(text_el("MIME", m));
            }
        }
        DfType::DdfName(d) => t.push(text_el("DDFName", d)),
    }
    e.push(t);
    if let Some(c) = df.case_sense {
        let inner = match c {
            CaseSense::Cs => "CS",
            CaseSense::Cis => "CIS",
        };
        e.push(el("CaseSense").with_child(el(inner)));
    }
    e
}
