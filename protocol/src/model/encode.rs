//! model → dom, in the canonical form: DTD element order, the SyncML namespace on every
//! SyncML element, `syncml:metinf` on every MetInf element (facts §1.1, §1.2, §1.5).

use crate::dom::{Element, Node, NS_METINF, NS_SYNCML11, NS_SYNCML12};

use super::{
    Alert, Chal, Command, Container, Cred, Data, Exec, Item, ItemCommand, Locator, Meta, Results,
    Status, SyncBody, SyncHdr, SyncMl,
};

struct Enc {
    ns: &'static str,
}

impl Enc {
    fn el(&self, name: &str) -> Element {
        Element::new(name, self.ns)
    }

    fn text(&self, name: &str, value: &str) -> Element {
        let e = self.el(name);
        if value.is_empty() {
            e
        } else {
            e.with_text(value)
        }
    }

    fn opt_text(&self, parent: &mut Element, name: &str, value: Option<&str>) {
        if let Some(v) = value {
            parent.push(self.text(name, v));
        }
    }

    fn flag(&self, parent: &mut Element, name: &str, on: bool) {
        if on {
            parent.push(self.el(name));
        }
    }

    fn locator(&self, name: &str, l: &Locator) -> Element {
        let mut e = self.el(name);
        e.push(self.text("LocURI", &l.loc_uri));
        self.opt_text(&mut e, "LocName", l.loc_name.as_deref());
        e
    }

    fn meta(&self, parent: &mut Element, m: Option<&Meta>) {
        let Some(m) = m else { return };
        let mut e = self.el("Meta");
        let mi = |name: &str, v: &str| {
            let el = Element::new(name, NS_METINF);
            if v.is_empty() {
                el
            } else {
                el.with_text(v)
            }
        };
        if let Some(v) = &m.format {
            e.push(mi("Format", v));
        }
        if let Some(v) = &m.type_ {
            e.push(mi("Type", v));
        }
        if let Some(v) = &m.mark {
            e.push(mi("Mark", v));
        }
        if let Some(v) = m.size {
            e.push(mi("Size", &v.to_string()));
        }
        if let Some(v) = &m.next_nonce {
            e.push(mi("NextNonce", v));
        }
        if let Some(v) = m.max_msg_size {
            e.push(mi("MaxMsgSize", &v.to_string()));
        }
        if let Some(v) = m.max_obj_size {
            e.push(mi("MaxObjSize", &v.to_string()));
        }
        e.children.extend(m.extra.nodes.iter().cloned());
        parent.push(e);
    }

    fn cred(&self, parent: &mut Element, c: Option<&Cred>) {
        let Some(c) = c else { return };
        let mut e = self.el("Cred");
        self.meta(&mut e, c.meta.as_ref());
        e.push(self.text("Data", &c.data));
        parent.push(e);
    }

    fn chal(&self, parent: &mut Element, c: Option<&Chal>) {
        let Some(c) = c else { return };
        let mut e = self.el("Chal");
        self.meta(&mut e, Some(&c.meta));
        parent.push(e);
    }

    fn item(&self, i: &Item) -> Element {
        let mut e = self.el("Item");
        if let Some(t) = &i.target {
            e.push(self.locator("Target", t));
        }
        if let Some(s) = &i.source {
            e.push(self.locator("Source", s));
        }
        if let Some(s) = &i.source_parent {
            e.push(self.locator("SourceParent", s));
        }
        if let Some(t) = &i.target_parent {
            e.push(self.locator("TargetParent", t));
        }
        self.meta(&mut e, i.meta.as_ref());
        if let Some(d) = &i.data {
            let mut de = self.el("Data");
            match d {
                Data::Text(t) if t.is_empty() => {}
                Data::Text(t) => de.children.push(Node::Text(t.clone())),
                Data::Binary(b) => de.children.push(Node::Opaque(b.clone())),
                Data::Markup(raw) => de.children.extend(raw.nodes.iter().cloned()),
            }
            e.push(de);
        }
        self.flag(&mut e, "MoreData", i.more_data);
        e
    }

    fn items(&self, parent: &mut Element, items: &[Item]) {
        for i in items {
            parent.push(self.item(i));
        }
    }

    fn item_command(&self, name: &str, c: &ItemCommand) -> Element {
        let mut e = self.el(name);
        e.push(self.text("CmdID", &c.cmd_id));
        self.flag(&mut e, "NoResp", c.no_resp);
        self.flag(&mut e, "Archive", c.archive);
        self.flag(&mut e, "SftDel", c.sft_del);
        self.opt_text(&mut e, "Lang", c.lang.as_deref());
        self.cred(&mut e, c.cred.as_ref());
        self.meta(&mut e, c.meta.as_ref());
        self.items(&mut e, &c.items);
        e
    }

    fn exec(&self, x: &Exec) -> Element {
        let mut e = self.el("Exec");
        e.push(self.text("CmdID", &x.cmd_id));
        self.flag(&mut e, "NoResp", x.no_resp);
        self.cred(&mut e, x.cred.as_ref());
        self.meta(&mut e, x.meta.as_ref());
        self.opt_text(&mut e, "Correlator", x.correlator.as_deref());
        self.items(&mut e, &x.items);
        e
    }

    fn alert(&self, a: &Alert) -> Element {
        let mut e = self.el("Alert");
        e.push(self.text("CmdID", &a.cmd_id));
        self.flag(&mut e, "NoResp", a.no_resp);
        self.cred(&mut e, a.cred.as_ref());
        if let Some(code) = a.code {
            e.push(self.text("Data", &code.to_string()));
        }
        self.opt_text(&mut e, "Correlator", a.correlator.as_deref());
        self.items(&mut e, &a.items);
        e
    }

    fn container(&self, name: &str, c: &Container) -> Element {
        let mut e = self.el(name);
        e.push(self.text("CmdID", &c.cmd_id));
        self.flag(&mut e, "NoResp", c.no_resp);
        self.meta(&mut e, c.meta.as_ref());
        for cmd in &c.commands {
            e.push(self.command(cmd));
        }
        e
    }

    fn status(&self, s: &Status) -> Element {
        let mut e = self.el("Status");
        e.push(self.text("CmdID", &s.cmd_id));
        e.push(self.text("MsgRef", &s.msg_ref));
        e.push(self.text("CmdRef", &s.cmd_ref));
        e.push(self.text("Cmd", &s.cmd));
        for r in &s.target_refs {
            e.push(self.text("TargetRef", r));
        }
        for r in &s.source_refs {
            e.push(self.text("SourceRef", r));
        }
        self.cred(&mut e, s.cred.as_ref());
        self.chal(&mut e, s.chal.as_ref());
        self.items(&mut e, &s.items);
        e.push(self.text("Data", &s.code.to_string()));
        e
    }

    fn results(&self, r: &Results) -> Element {
        let mut e = self.el("Results");
        e.push(self.text("CmdID", &r.cmd_id));
        self.opt_text(&mut e, "MsgRef", r.msg_ref.as_deref());
        e.push(self.text("CmdRef", &r.cmd_ref));
        self.meta(&mut e, r.meta.as_ref());
        self.opt_text(&mut e, "TargetRef", r.target_ref.as_deref());
        self.opt_text(&mut e, "SourceRef", r.source_ref.as_deref());
        self.items(&mut e, &r.items);
        e
    }

    fn command(&self, c: &Command) -> Element {
        match c {
            Command::Add(x) => self.item_command("Add", x),
            Command::Copy(x) => self.item_command("Copy", x),
            Command::Delete(x) => self.item_command("Delete", x),
            Command::Get(x) => self.item_command("Get", x),
            Command::Replace(x) => self.item_command("Replace", x),
            Command::Exec(x) => self.exec(x),
            Command::Alert(x) => self.alert(x),
            Command::Atomic(x) => self.container("Atomic", x),
            Command::Sequence(x) => self.container("Sequence", x),
            Command::Status(x) => self.status(x),
            Command::Results(x) => self.results(x),
            Command::Other(raw) => raw.element.clone(),
        }
    }

    fn hdr(&self, h: &SyncHdr) -> Element {
        let mut e = self.el("SyncHdr");
        e.push(self.text("VerDTD", &h.ver_dtd));
        e.push(self.text("VerProto", &h.ver_proto));
        e.push(self.text("SessionID", &h.session_id));
        e.push(self.text("MsgID", &h.msg_id));
        e.push(self.locator("Target", &h.target));
        e.push(self.locator("Source", &h.source));
        self.opt_text(&mut e, "RespURI", h.resp_uri.as_deref());
        self.flag(&mut e, "NoResp", h.no_resp);
        self.cred(&mut e, h.cred.as_ref());
        self.meta(&mut e, h.meta.as_ref());
        e
    }

    fn body(&self, b: &SyncBody) -> Element {
        let mut e = self.el("SyncBody");
        for c in &b.commands {
            e.push(self.command(c));
        }
        self.flag(&mut e, "Final", b.final_);
        e
    }
}

/// Map a message to its canonical dom tree. The namespace follows `VerDTD` (`1.1` →
/// `SYNCML:SYNCML1.1`, anything else → `SYNCML:SYNCML1.2`).
pub fn to_dom(msg: &SyncMl) -> Element {
    let enc = Enc {
        ns: if msg.hdr.ver_dtd == "1.1" {
            NS_SYNCML11
        } else {
            NS_SYNCML12
        },
    };
    enc.el("SyncML")
        .with_child(enc.hdr(&msg.hdr))
        .with_child(enc.body(&msg.body))
}
