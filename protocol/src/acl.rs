//! Access control lists (facts §4.4).
//!
//! Grammar (facts §4.4):
//!
//! ```text
//! acl        = "" | entry *("&" entry)
//! entry      = command "=" servers
//! servers    = server-id *("+" server-id)
//! server-id  = "*" | 1*<printable ASCII except '=', '&', '*', '+', whitespace>
//! command    = "Add" | "Delete" | "Exec" | "Get" | "Replace"
//! ```
//!
//! An [`Acl`] keeps, per command, the principals in first-seen order (a repeated id within
//! one command is kept once). Its `Display` is canonical: commands in the order Add, Delete,
//! Exec, Get, Replace.

use std::fmt;
use std::str::FromStr;

/// A command an ACL grants (facts §4.4; there is no Copy entry).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum AclCommand {
    /// `Add`.
    Add,
    /// `Delete`.
    Delete,
    /// `Exec`.
    Exec,
    /// `Get`.
    Get,
    /// `Replace`.
    Replace,
}

impl AclCommand {
    /// All commands, in canonical order.
    pub const ALL: [AclCommand; 5] = [
        AclCommand::Add,
        AclCommand::Delete,
        AclCommand::Exec,
        AclCommand::Get,
        AclCommand::Replace,
    ];

    /// The command name as in ACL strings.
    pub fn as_str(self) -> &'static str {
        match self {
            AclCommand::Add => "Add",
            AclCommand::Delete => "Delete",
            AclCommand::Exec => "Exec",
            AclCommand::Get => "Get",
            AclCommand::Replace => "Replace",
        }
    }

    /// The command with this exact (case-sensitive) name.
    pub fn from_name(name: &str) -> Option<Self> {
        AclCommand::ALL.into_iter().find(|c| c.as_str() == name)
    }

    fn index(self) -> usize {
        match self {
            AclCommand::Add => 0,
            AclCommand::Delete => 1,
            AclCommand::Exec => 2,
            AclCommand::Get => 3,
            AclCommand::Replace => 4,
        }
    }
}

impl fmt::Display for AclCommand {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Who an ACL entry grants a command to (facts §4.4).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum AclPrincipal {
    /// `*`: any server.
    Any,
    /// One ServerID (case-sensitive, facts §5.4).
    Server(String),
}

impl AclPrincipal {
    /// The text of this principal in an ACL string.
    pub fn as_str(&self) -> &str {
        match self {
            AclPrincipal::Any => "*",
            AclPrincipal::Server(s) => s,
        }
    }
}

/// Whether `c` may appear in a server id (facts §4.4: printable ASCII except `=`, `&`, `*`,
/// `+`, whitespace).
pub fn is_server_id_char(c: char) -> bool {
    c.is_ascii_graphic() && !matches!(c, '=' | '&' | '*' | '+')
}

/// Why an ACL string was rejected. Offsets are byte offsets into it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum AclError {
    /// The command name is not Add, Delete, Exec, Get or Replace (facts §4.4).
    #[error("unknown ACL command {name:?} at byte {offset}")]
    UnknownCommand {
        /// Where the entry starts.
        offset: usize,
        /// The name as given.
        name: String,
    },
    /// A command with no server ids (`Get=` or `Get`) is malformed (facts §4.4).
    #[error("ACL command {command} at byte {offset} lists no server ids")]
    NoServerIds {
        /// Where the entry starts.
        offset: usize,
        /// The command.
        command: AclCommand,
    },
    /// A server id is empty (e.g. `a++b`, a trailing `+`) (facts §4.4).
    #[error("empty server id at byte {offset}")]
    EmptyServerId {
        /// Where the id would start.
        offset: usize,
    },
    /// A character not allowed in a server id (facts §4.4).
    #[error("character {ch:?} at byte {offset} is not allowed in a server id")]
    BadServerIdChar {
        /// Offset of the character.
        offset: usize,
        /// The character.
        ch: char,
    },
    /// An empty entry (`&&`, leading or trailing `&`) (facts §4.4).
    #[error("empty ACL entry at byte {offset}")]
    EmptyEntry {
        /// Where the entry would start.
        offset: usize,
    },
    /// The same command appears twice.
    #[error("ACL command {command} repeated at byte {offset}")]
    DuplicateCommand {
        /// Where the second entry starts.
        offset: usize,
        /// The command.
        command: AclCommand,
    },
}

impl AclError {
    /// A stable snake_case name for this error, used by the golden vectors.
    pub fn kind(&self) -> &'static str {
        match self {
            AclError::UnknownCommand { .. } => "unknown_command",
            AclError::NoServerIds { .. } => "no_server_ids",
            AclError::EmptyServerId { .. } => "empty_server_id",
            AclError::BadServerIdChar { .. } => "bad_server_id_char",
            AclError::EmptyEntry { .. } => "empty_entry",
            AclError::DuplicateCommand { .. } => "duplicate_command",
        }
    }
}

/// An ACL value (facts §4.4); possibly empty (= inherit from the parent).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
pub struct Acl {
    /// Per command (indexed by `AclCommand::index`): the principals, first-seen order.
    /// An entry is never `Some(empty)`.
    entries: [Option<Vec<AclPrincipal>>; 5],
}

impl Acl {
    /// The empty ACL (the node inherits; facts §4.4).
    pub fn new() -> Self {
        Acl::default()
    }

    /// Parse an ACL string (facts §4.4 grammar).
    pub fn parse(s: &str) -> Result<Self, AclError> {
        let mut acl = Acl::new();
        if s.is_empty() {
            return Ok(acl);
        }
        let mut offset = 0;
        for entry in s.split('&') {
            acl.parse_entry(entry, offset)?;
            offset += entry.len() + 1;
        }
        Ok(acl)
    }

    fn parse_entry(&mut self, entry: &str, offset: usize) -> Result<(), AclError> {
        if entry.is_empty() {
            return Err(AclError::EmptyEntry { offset });
        }
        let (name, servers) = match entry.split_once('=') {
            Some((n, s)) => (n, Some(s)),
            None => (entry, None),
        };
        let command = AclCommand::from_name(name).ok_or_else(|| AclError::UnknownCommand {
            offset,
            name: name.to_owned(),
        })?;
        let servers = match servers {
            Some(s) if !s.is_empty() => s,
            _ => return Err(AclError::NoServerIds { offset, command }),
        };
        if self.entries[command.index()].is_some() {
            return Err(AclError::DuplicateCommand { offset, command });
        }
        let mut ids: Vec<AclPrincipal> = Vec::new();
        let mut id_offset = offset + name.len() + 1;
        for id in servers.split('+') {
            let p = parse_principal(id, id_offset)?;
            if !ids.contains(&p) {
                ids.push(p);
            }
            id_offset += id.len() + 1;
        }
        self.entries[command.index()] = Some(ids);
        Ok(())
    }

    /// Whether the ACL has no entries (the node inherits its parent's; facts §4.4).
    pub fn is_empty(&self) -> bool {
        self.entries.iter().all(Option::is_none)
    }

    /// The principals granted `cmd`, if the command has an entry.
    pub fn principals(&self, cmd: AclCommand) -> Option<&[AclPrincipal]> {
        self.entries[cmd.index()].as_deref()
    }

    /// Grant `cmd` to `principal` (appended unless already present). Server ids are checked
    /// against the grammar.
    pub fn grant(&mut self, cmd: AclCommand, principal: AclPrincipal) -> Result<(), AclError> {
        if let AclPrincipal::Server(id) = &principal {
            parse_principal(id, 0)?;
        }
        let ids = self.entries[cmd.index()].get_or_insert_with(Vec::new);
        if !ids.contains(&principal) {
            ids.push(principal);
        }
        Ok(())
    }

    /// Whether this ACL grants `cmd` to `server_id`: listed exactly, or `*` present (the
    /// wildcard wins; facts §4.4). This does not apply inheritance; see [`effective`].
    pub fn allows(&self, cmd: AclCommand, server_id: &str) -> bool {
        self.principals(cmd).is_some_and(|ids| {
            ids.iter().any(|p| match p {
                AclPrincipal::Any => true,
                AclPrincipal::Server(s) => s == server_id,
            })
        })
    }

    /// Remove `server_id` from every command; a command left with no ids is removed
    /// (facts §4.4, removing a ServerID). Returns whether anything changed.
    pub fn scrub(&mut self, server_id: &str) -> bool {
        let mut changed = false;
        for slot in &mut self.entries {
            if let Some(ids) = slot {
                let before = ids.len();
                ids.retain(|p| p != &AclPrincipal::Server(server_id.to_owned()));
                changed |= ids.len() != before;
                if ids.is_empty() {
                    *slot = None;
                }
            }
        }
        changed
    }

    /// [`Acl::scrub`] for the root node: a command left with no ids becomes `*` instead of
    /// being removed (facts §4.4: "root command left empty becomes `*`"; the factory-default
    /// alternative is the caller's).
    pub fn scrub_root(&mut self, server_id: &str) -> bool {
        let mut changed = false;
        for slot in self.entries.iter_mut().flatten() {
            let before = slot.len();
            slot.retain(|p| p != &AclPrincipal::Server(server_id.to_owned()));
            if slot.len() != before {
                changed = true;
                if slot.is_empty() {
                    slot.push(AclPrincipal::Any);
                }
            }
        }
        changed
    }
}

fn parse_principal(id: &str, offset: usize) -> Result<AclPrincipal, AclError> {
    if id.is_empty() {
        return Err(AclError::EmptyServerId { offset });
    }
    if id == "*" {
        return Ok(AclPrincipal::Any);
    }
    if let Some((i, ch)) = id.char_indices().find(|&(_, c)| !is_server_id_char(c)) {
        return Err(AclError::BadServerIdChar {
            offset: offset + i,
            ch,
        });
    }
    Ok(AclPrincipal::Server(id.to_owned()))
}

impl FromStr for Acl {
    type Err = AclError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Acl::parse(s)
    }
}

impl fmt::Display for Acl {
    /// Canonical form: entries in the order Add, Delete, Exec, Get, Replace, ids in
    /// first-seen order; the empty ACL is the empty string.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut first = true;
        for cmd in AclCommand::ALL {
            let Some(ids) = self.principals(cmd) else {
                continue;
            };
            if !first {
                f.write_str("&")?;
            }
            first = false;
            write!(f, "{cmd}=")?;
            for (i, p) in ids.iter().enumerate() {
                if i > 0 {
                    f.write_str("+")?;
                }
                f.write_str(p.as_str())?;
            }
        }
        Ok(())
    }
}

/// The ACL that governs a node: the first non-empty ACL of `chain`, which lists the node's
/// own ACL first and then its ancestors' up to the root (facts §4.4: inheritance takes the
/// nearest non-empty ACL whole, no per-command merge). `None` if all are empty.
pub fn effective<'a>(chain: impl IntoIterator<Item = &'a Acl>) -> Option<&'a Acl> {
    chain.into_iter().find(|a| !a.is_empty())
}

#[cfg(test)]
mod tests;
