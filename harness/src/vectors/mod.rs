//! The golden-vector checker behind `dmconf vectors check`.
//!
//! Vectors live under `vectors/` in one folder per category (`codec/`, `auth/`, `pkg0/`,
//! `uri/`, `acl/`, `tnds/`, `tree/`, `sessions/`). The format of each category is described
//! in the README of its folder; `vectors/README.md` is the index. Each category module turns its files into
//! [`Outcome`]s; a mismatch carries a unified diff made with `similar`.

use std::path::{Path, PathBuf};

/// The result of checking one vector.
#[derive(Debug, Clone)]
pub struct Outcome {
    /// The vector's id (unique within its category).
    pub id: String,
    /// The file (or folder) the vector came from.
    pub source: PathBuf,
    /// `Ok` when the vector passed; otherwise what differed, as readable text (often a diff).
    pub result: Result<(), String>,
}

impl Outcome {
    /// A passing outcome.
    pub fn pass(id: impl Into<String>, source: &Path) -> Self {
        Outcome {
            id: id.into(),
            source: source.to_path_buf(),
            result: Ok(()),
        }
    }

    /// A failing outcome with a reason.
    pub fn fail(id: impl Into<String>, source: &Path, why: impl Into<String>) -> Self {
        Outcome {
            id: id.into(),
            source: source.to_path_buf(),
            result: Err(why.into()),
        }
    }
}

/// A unified diff of two texts, labelled `expected` and `actual`.
pub fn unified_diff(expected: &str, actual: &str) -> String {
    similar::TextDiff::from_lines(expected, actual)
        .unified_diff()
        .context_radius(3)
        .header("expected", "actual")
        .to_string()
}

/// Pretty JSON of a value, with a trailing newline, the form every expected-JSON file uses.
pub fn pretty_json(v: &serde_json::Value) -> String {
    let mut s = serde_json::to_string_pretty(v).unwrap_or_default();
    s.push('\n');
    s
}

/// Compare an expected JSON value with an actual one; on mismatch, a unified diff of their
/// pretty forms.
pub fn compare_json(
    expected: &serde_json::Value,
    actual: &serde_json::Value,
) -> Result<(), String> {
    if expected == actual {
        Ok(())
    } else {
        Err(unified_diff(&pretty_json(expected), &pretty_json(actual)))
    }
}

/// Read and parse a JSON file, with an error that names the file.
pub fn read_json(path: &Path) -> Result<serde_json::Value, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    serde_json::from_str(&text).map_err(|e| format!("{}: invalid JSON: {e}", path.display()))
}

pub mod codec;

/// Whether the checkers should write actual results instead of comparing (set
/// `DMCONF_BLESS=1`). Only for creating new vectors: review the diff before committing.
pub fn blessing() -> bool {
    std::env::var_os("DMCONF_BLESS").is_some_and(|v| v == "1")
}

/// A category of vectors: its folder name and its checker.
pub struct Category {
    /// Folder name under the vectors root.
    pub name: &'static str,
    /// The checker.
    pub check: fn(&Path) -> Vec<Outcome>,
}

/// Every category this build knows, in the order they are checked.
pub fn categories() -> Vec<Category> {
    vec![
        Category {
            name: "codec",
            check: codec::check,
        },
        Category {
            name: "auth",
            check: auth::check,
        },
        Category {
            name: "pkg0",
            check: pkg0::check,
        },
        Category {
            name: "uri",
            check: uri::check,
        },
        Category {
            name: "acl",
            check: acl::check,
        },
        Category {
            name: "tnds",
            check: tnds::check,
        },
        Category {
            name: "tree",
            check: tree::check,
        },
        Category {
            name: "swpkg",
            check: swpkg::check,
        },
        Category {
            name: "sessions",
            check: sessions::check,
        },
    ]
}

/// Why a vectors folder could not be checked at all.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum VectorsError {
    /// The folder does not exist or cannot be read.
    #[error("cannot read vectors folder {path}: {source}")]
    Unreadable {
        /// The folder.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The folder holds no known category.
    #[error("{0} holds none of the vector folders this build checks ({1}); pass the vectors root")]
    Empty(PathBuf, String),
}

/// Check every known category found under `root`, in order.
pub fn check_dir(root: &Path) -> Result<Vec<(&'static str, Vec<Outcome>)>, VectorsError> {
    std::fs::read_dir(root).map_err(|source| VectorsError::Unreadable {
        path: root.to_path_buf(),
        source,
    })?;
    let mut all = Vec::new();
    for cat in categories() {
        let dir = root.join(cat.name);
        if dir.is_dir() {
            all.push((cat.name, (cat.check)(&dir)));
        }
    }
    if all.is_empty() {
        let names: Vec<&str> = categories().iter().map(|c| c.name).collect();
        return Err(VectorsError::Empty(root.to_path_buf(), names.join(", ")));
    }
    Ok(all)
}

/// Sorted sub-folders of a category folder (one per vector).
pub fn case_dirs(dir: &Path) -> Result<Vec<PathBuf>, String> {
    let mut out: Vec<PathBuf> = std::fs::read_dir(dir)
        .map_err(|e| format!("{}: {e}", dir.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.is_dir())
        .collect();
    out.sort();
    Ok(out)
}
pub mod acl;
pub mod auth;
pub mod pkg0;
mod sec_cases;
pub mod sessions;
pub mod swpkg;
pub mod tnds;
pub mod tree;
pub mod uri;
