//! Run-time properties (facts §4.3): `?prop=` Get and Replace.

use dm_protocol::acl::{Acl, AclCommand, AclPrincipal};
use dm_protocol::uri::{NodeUri, Property};

use crate::clock::format_tstamp;
use crate::error::{NotAllowed, TreeError};
use crate::node::Kind;
use crate::observe::ChangeKind;
use crate::principal::Principal;
use crate::schema::DefMatch;
use crate::tree::{Tree, ROOT};

impl Tree {
    /// Whether the device supports the property (ACL, Format, Name, Type always; the others
    /// per [`TreeConfig::optional_props`](crate::TreeConfig)).
    pub fn supports(&self, p: Property) -> bool {
        matches!(
            p,
            Property::Acl | Property::Format | Property::Name | Property::Type
        ) || self.config.optional_props.contains(&p)
    }

    fn unsupported(p: Property) -> TreeError {
        TreeError::Unsupported {
            what: format!("property {p} (facts §4.3)"),
        }
    }

    /// Get a property (facts §4.3): 406 if unsupported (and Size on an interior node); the
    /// Get right on the node (425). `ACL` returns the node's own value, empty when it
    /// inherits (facts §4.4).
    pub fn get_prop(&self, who: &Principal, uri: &str, p: Property) -> Result<String, TreeError> {
        let uri = self.target(uri)?;
        if !self.supports(p) {
            return Err(Tree::unsupported(p));
        }
        if Tree::is_inbox(&uri) && matches!(who, Principal::Server(_)) {
            return Err(TreeError::NotAllowed {
                uri: uri.to_string(),
                command: "Get",
                reason: NotAllowed::Inbox,
            });
        }
        let id = self.existing(&uri)?;
        self.check_right(who, id, AclCommand::Get)?;
        let n = self.node(id);
        Ok(match p {
            Property::Acl => n.acl.to_string(),
            Property::Format => n.format.as_str().to_owned(),
            Property::Name => n.name.clone(),
            Property::Size => match &n.kind {
                Kind::Leaf(v) => v.len().to_string(),
                // facts §4.3: Size MUST NOT be supported on interior nodes.
                Kind::Interior(_) => {
                    return Err(TreeError::Unsupported {
                        what: "property Size on an interior node (facts §4.3)".into(),
                    })
                }
            },
            Property::Title => n.title.clone().unwrap_or_default(),
            Property::TStamp => format_tstamp(n.tstamp),
            Property::Type => n.type_.clone(),
            Property::VerNo => n.ver_no.to_string(),
        })
    }

    /// Replace a property (facts §4.3): ACL, Name (rename) and Title only; the others are
    /// read-only (405), unsupported ones 406.
    pub fn replace_prop(
        &mut self,
        who: &Principal,
        uri: &str,
        p: Property,
        value: &str,
    ) -> Result<(), TreeError> {
        let uri = self.target(uri)?;
        self.atomically(|t| t.replace_prop_at(who, &uri, p, value))
    }

    pub(crate) fn replace_prop_at(
        &mut self,
        who: &Principal,
        uri: &NodeUri,
        p: Property,
        value: &str,
    ) -> Result<(), TreeError> {
        if !self.supports(p) {
            return Err(Tree::unsupported(p));
        }
        let id = self.existing(uri)?;
        let not_allowed = |reason| TreeError::NotAllowed {
            uri: uri.to_string(),
            command: "Replace",
            reason,
        };
        match p {
            Property::Format
            | Property::Size
            | Property::TStamp
            | Property::Type
            | Property::VerNo => Err(not_allowed(NotAllowed::Property(p))),
            Property::Title => {
                self.check_right(who, id, AclCommand::Replace)?;
                if value.len() > self.config.max_title_len {
                    return Err(TreeError::TooLarge {
                        uri: uri.to_string(),
                        reason: format!(
                            "Title is {} bytes, at most {} allowed (facts §4.3)",
                            value.len(),
                            self.config.max_title_len
                        ),
                    });
                }
                self.set_title(id, (!value.is_empty()).then(|| value.to_owned()));
                self.emit(uri.clone(), ChangeKind::Property(p), who);
                Ok(())
            }
            Property::Name => self.rename_at(who, uri, id, value),
            Property::Acl => {
                let acl = Acl::parse(value).map_err(|e| TreeError::BadValue {
                    uri: uri.to_string(),
                    reason: format!("not a valid ACL: {e} (facts §4.4)"),
                })?;
                let n = self.node(id);
                // facts §4.4: an interior node's own Replace right, or the parent's Replace
                // right, allows changing its ACL; for a leaf only the parent's.
                let allowed = match n.parent {
                    None => self.has_right(who, id, AclCommand::Replace),
                    Some(parent) => {
                        (n.is_interior() && self.has_right(who, id, AclCommand::Replace))
                            || self.has_right(who, parent, AclCommand::Replace)
                    }
                };
                if !allowed {
                    let checked = if n.is_interior() {
                        id
                    } else {
                        n.parent.unwrap_or(ROOT)
                    };
                    return Err(TreeError::PermissionDenied {
                        uri: self.uri_of(checked).to_string(),
                        right: AclCommand::Replace,
                        server: who.server_id().unwrap_or_default().to_owned(),
                    });
                }
                if id == ROOT {
                    // facts §4.4: the root ACL is never empty, and we keep root Add at `*`
                    // (the change MAY fail with 405).
                    let keeps_add = acl
                        .principals(AclCommand::Add)
                        .is_some_and(|ids| ids.contains(&AclPrincipal::Any));
                    if acl.is_empty() || !keeps_add {
                        return Err(not_allowed(NotAllowed::RootAcl));
                    }
                }
                self.set_acl(id, acl);
                self.emit(uri.clone(), ChangeKind::Property(p), who);
                Ok(())
            }
        }
    }

    /// Rename via `Name` (facts §4.3): 405 for the root, permanent nodes and names the MO
    /// fixes; 425 without Replace on the node; 418 if a sibling has the name; 414 over
    /// MaxSegLen.
    fn rename_at(
        &mut self,
        who: &Principal,
        uri: &NodeUri,
        id: u64,
        new_name: &str,
    ) -> Result<(), TreeError> {
        let not_allowed = |reason| TreeError::NotAllowed {
            uri: uri.to_string(),
            command: "Replace",
            reason,
        };
        let Some(parent) = self.node(id).parent else {
            return Err(not_allowed(NotAllowed::Root));
        };
        let server = matches!(who, Principal::Server(_));
        if server && self.node(id).permanent && !self.faults.delete_permanent {
            return Err(not_allowed(NotAllowed::Permanent));
        }
        let def = self.node(id).def;
        if server {
            if let Some(d) = def.and_then(|d| self.schema.def(d)) {
                if d.name.is_some() {
                    return Err(not_allowed(NotAllowed::FixedName));
                }
            }
        }
        self.check_right(who, id, AclCommand::Replace)?;
        let parent_uri = self.uri_of(parent);
        let new_uri = parent_uri
            .child(new_name)
            .map_err(|e| TreeError::BadValue {
                uri: uri.to_string(),
                reason: format!("{new_name:?} is not a valid node name: {e} (facts §4.1)"),
            })?;
        self.uri_limits()
            .check(&new_uri)
            .map_err(|source| TreeError::UriTooLong {
                uri: new_uri.to_string(),
                source,
            })?;
        if new_name == self.node(id).name {
            return Ok(());
        }
        if self
            .child_of(parent, new_name, || parent_uri.to_string())
            .is_some()
        {
            return Err(TreeError::AlreadyExists {
                uri: new_uri.to_string(),
            });
        }
        if server {
            if let DefMatch::Defined(d) = self.def_for_child(parent, new_name) {
                if Some(d) != def {
                    return Err(not_allowed(NotAllowed::NotInMo));
                }
            }
        }
        self.rename_node(id, new_name);
        self.emit(new_uri, ChangeKind::Renamed { from: uri.clone() }, who);
        Ok(())
    }
}
