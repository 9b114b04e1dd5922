//! The requirement catalog (`features/catalog.toml`) and the pending list
//! (`features/pending.toml`): loading with typed errors that name the file and the entry.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::CoverageError;

/// The normative level of an entry, as written in the source document.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[non_exhaustive]
pub enum Level {
    /// MUST.
    #[serde(rename = "MUST")]
    Must,
    /// MUST NOT.
    #[serde(rename = "MUST NOT")]
    MustNot,
    /// SHALL.
    #[serde(rename = "SHALL")]
    Shall,
    /// SHALL NOT.
    #[serde(rename = "SHALL NOT")]
    ShallNot,
    /// SHOULD.
    #[serde(rename = "SHOULD")]
    Should,
    /// SHOULD NOT.
    #[serde(rename = "SHOULD NOT")]
    ShouldNot,
    /// MAY.
    #[serde(rename = "MAY")]
    May,
    /// No RFC 2119 keyword: use cases, work items, and statements written without one.
    #[serde(rename = "informative")]
    Informative,
}

impl Level {
    /// Every level, in report order.
    pub const ALL: [Level; 8] = [
        Level::Must,
        Level::MustNot,
        Level::Shall,
        Level::ShallNot,
        Level::Should,
        Level::ShouldNot,
        Level::May,
        Level::Informative,
    ];

    /// The catalog spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Level::Must => "MUST",
            Level::MustNot => "MUST NOT",
            Level::Shall => "SHALL",
            Level::ShallNot => "SHALL NOT",
            Level::Should => "SHOULD",
            Level::ShouldNot => "SHOULD NOT",
            Level::May => "MAY",
            Level::Informative => "informative",
        }
    }

    /// MUST, MUST NOT, SHALL or SHALL NOT: the levels the coverage lint insists on.
    pub fn is_mandatory(self) -> bool {
        matches!(
            self,
            Level::Must | Level::MustNot | Level::Shall | Level::ShallNot
        )
    }

    fn parse(s: &str) -> Option<Level> {
        Level::ALL.into_iter().find(|l| l.as_str() == s)
    }
}

/// Who a requirement binds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
#[non_exhaustive]
pub enum Binds {
    /// The DM client (device side, including its smart card).
    Client,
    /// The DM server.
    Server,
    /// Both peers.
    Both,
    /// The system as a whole (architecture, specifications, PC agents, operators).
    System,
}

impl Binds {
    /// The catalog spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Binds::Client => "client",
            Binds::Server => "server",
            Binds::Both => "both",
            Binds::System => "system",
        }
    }

    fn parse(s: &str) -> Option<Binds> {
        [Binds::Client, Binds::Server, Binds::Both, Binds::System]
            .into_iter()
            .find(|b| b.as_str() == s)
    }
}

/// How a requirement can be checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
#[non_exhaustive]
pub enum Testability {
    /// Observable on the wire against a black-box implementation.
    Protocol,
    /// Checkable only inside our reference peers.
    Reference,
    /// Not checkable; the entry's `reason` says why.
    Untestable,
}

impl Testability {
    /// Every class, in report order.
    pub const ALL: [Testability; 3] = [
        Testability::Protocol,
        Testability::Reference,
        Testability::Untestable,
    ];

    /// The catalog spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Testability::Protocol => "protocol",
            Testability::Reference => "reference",
            Testability::Untestable => "untestable",
        }
    }

    fn parse(s: &str) -> Option<Testability> {
        Testability::ALL.into_iter().find(|t| t.as_str() == s)
    }
}

/// What kind of item of the source document an entry stands for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
#[non_exhaustive]
pub enum Kind {
    /// A numbered requirement or a requirement table row.
    Requirement,
    /// A use case.
    UseCase,
    /// A work item of the DM 1.3 work item description.
    WorkItem,
}

impl Kind {
    /// The catalog spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Requirement => "requirement",
            Kind::UseCase => "use-case",
            Kind::WorkItem => "work-item",
        }
    }

    fn parse(s: &str) -> Option<Kind> {
        [Kind::Requirement, Kind::UseCase, Kind::WorkItem]
            .into_iter()
            .find(|k| k.as_str() == s)
    }
}

/// One seed document.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Document {
    /// The file name under `shared/seeds/`.
    pub file: String,
    /// A short title in our words.
    pub title: String,
    /// The label scheme used for its entries.
    pub labels: String,
}

/// One catalog entry: a requirement, table row, use case or work item.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Entry {
    /// The stable label scenarios tag with `@req:`.
    pub label: String,
    /// What the entry stands for.
    pub kind: Kind,
    /// The source document's file name.
    pub source: String,
    /// The section in the source document (`None` when the catalog omits it: a lint error).
    pub section: Option<String>,
    /// The normative level as written.
    pub level: Level,
    /// Who it binds.
    pub binds: Binds,
    /// One line in our own words.
    pub summary: String,
    /// How it can be checked.
    pub testability: Testability,
    /// Why it cannot be tested (required when untestable).
    pub reason: Option<String>,
    /// The mechanism that realizes it.
    pub mechanism: String,
    /// The project document that defines the mechanism, when no public spec does.
    pub project_doc: Option<String>,
    /// What is unclear in the source text, if anything.
    pub ambiguity: Option<String>,
    /// Other remarks (conflicts, odd spelling in the source).
    pub note: Option<String>,
    /// Labels of duplicated, overlapping or conflicting entries.
    pub related: Vec<String>,
}

/// The loaded catalog.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Catalog {
    /// The seed documents, in file order.
    pub documents: Vec<Document>,
    /// The entries, in catalog order.
    pub entries: Vec<Entry>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawCatalog {
    #[serde(default)]
    document: Vec<Document>,
    #[serde(default)]
    requirement: Vec<RawEntry>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawEntry {
    label: Option<String>,
    kind: Option<String>,
    source: Option<String>,
    section: Option<String>,
    level: Option<String>,
    binds: Option<String>,
    summary: Option<String>,
    testability: Option<String>,
    reason: Option<String>,
    mechanism: Option<String>,
    project_doc: Option<String>,
    ambiguity: Option<String>,
    note: Option<String>,
    #[serde(default)]
    related: Vec<String>,
}

impl Catalog {
    /// Read and check a catalog file.
    pub fn load(path: &Path) -> Result<Catalog, CoverageError> {
        let text = read(path)?;
        Catalog::parse(path, &text)
    }

    /// Parse catalog text; `path` only names the file in errors.
    pub fn parse(path: &Path, text: &str) -> Result<Catalog, CoverageError> {
        let raw: RawCatalog = toml::from_str(text).map_err(|e| CoverageError::Parse {
            path: path.to_path_buf(),
            message: one_line(&e.to_string()),
        })?;
        let mut entries = Vec::with_capacity(raw.requirement.len());
        for (index, r) in raw.requirement.into_iter().enumerate() {
            entries.push(convert(path, index, r, &raw.document)?);
        }
        Ok(Catalog {
            documents: raw.document,
            entries,
        })
    }

    /// The entry with this label, if any.
    pub fn get(&self, label: &str) -> Option<&Entry> {
        self.entries.iter().find(|e| e.label == label)
    }
}

fn convert(
    path: &Path,
    index: usize,
    r: RawEntry,
    documents: &[Document],
) -> Result<Entry, CoverageError> {
    let label = r.label.ok_or_else(|| CoverageError::MissingField {
        path: path.to_path_buf(),
        entry: format!("entry #{}", index + 1),
        field: "label",
    })?;
    let need = |field: &'static str, v: Option<String>| {
        v.ok_or_else(|| CoverageError::MissingField {
            path: path.to_path_buf(),
            entry: label.clone(),
            field,
        })
    };
    let bad =
        |field: &'static str, value: String, expected: &'static str| CoverageError::BadValue {
            path: path.to_path_buf(),
            entry: label.clone(),
            field,
            value,
            expected,
        };
    let kind_s = need("kind", r.kind)?;
    let kind = Kind::parse(&kind_s)
        .ok_or_else(|| bad("kind", kind_s, "requirement, use-case or work-item"))?;
    let source = need("source", r.source)?;
    if !documents.iter().any(|d| d.file == source) {
        return Err(bad(
            "source",
            source,
            "the file of one of the [[document]] tables",
        ));
    }
    let level_s = need("level", r.level)?;
    let level = Level::parse(&level_s).ok_or_else(|| {
        bad(
            "level",
            level_s,
            "MUST, MUST NOT, SHALL, SHALL NOT, SHOULD, SHOULD NOT, MAY or informative",
        )
    })?;
    let binds_s = need("binds", r.binds)?;
    let binds = Binds::parse(&binds_s)
        .ok_or_else(|| bad("binds", binds_s, "client, server, both or system"))?;
    let test_s = need("testability", r.testability)?;
    let testability = Testability::parse(&test_s)
        .ok_or_else(|| bad("testability", test_s, "protocol, reference or untestable"))?;
    let summary = need("summary", r.summary)?;
    let mechanism = need("mechanism", r.mechanism)?;
    let section = r.section.filter(|s| !s.trim().is_empty());
    Ok(Entry {
        label,
        kind,
        source,
        section,
        level,
        binds,
        summary,
        testability,
        reason: r.reason.filter(|s| !s.trim().is_empty()),
        mechanism,
        project_doc: r.project_doc,
        ambiguity: r.ambiguity,
        note: r.note,
        related: r.related,
    })
}

/// The pending list: protocol-testable MUST/SHALL labels no scenario covers yet, with reasons.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Pending {
    /// Label → reason, sorted by label.
    pub entries: BTreeMap<String, String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPending {
    #[serde(default)]
    pending: BTreeMap<String, String>,
}

impl Pending {
    /// Read a pending list (`[pending]` table of label = "reason").
    pub fn load(path: &Path) -> Result<Pending, CoverageError> {
        let text = read(path)?;
        Pending::parse(path, &text)
    }

    /// Parse pending-list text; `path` only names the file in errors.
    pub fn parse(path: &Path, text: &str) -> Result<Pending, CoverageError> {
        let raw: RawPending = toml::from_str(text).map_err(|e| CoverageError::Parse {
            path: path.to_path_buf(),
            message: one_line(&e.to_string()),
        })?;
        if let Some((label, _)) = raw.pending.iter().find(|(_, r)| r.trim().is_empty()) {
            return Err(CoverageError::MissingField {
                path: path.to_path_buf(),
                entry: label.clone(),
                field: "reason",
            });
        }
        Ok(Pending {
            entries: raw.pending,
        })
    }
}

pub(super) fn read(path: &Path) -> Result<String, CoverageError> {
    std::fs::read_to_string(path).map_err(|source| CoverageError::Io {
        path: PathBuf::from(path),
        source,
    })
}

/// toml's messages span several lines (a source excerpt); keep the CLI's one-line contract.
pub(super) fn one_line(s: &str) -> String {
    s.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}
