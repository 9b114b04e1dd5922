//! Requirement coverage: the catalog, the scenarios' `@req:` tags, an optional results file,
//! the matrix report in four formats, and the lint that keeps them consistent.
//!
//! ```text
//! features/catalog.toml ─┐
//! features/**/*.feature ─┼─▶ Inputs ──▶ report::build ──▶ render (markdown|json|csv|html)
//! features/pending.toml ─┤        └───▶ lint::lint ────▶ Vec<LintError>
//! results.json (opt.) ───┘
//! ```

pub mod catalog;
pub mod gherkin;
pub mod lint;
pub mod report;
pub mod results;

use std::path::{Path, PathBuf};

pub use catalog::{Binds, Catalog, Entry, Kind, Level, Pending, Testability};
pub use gherkin::Scenario;
pub use lint::LintError;
pub use report::{Format, Report};
pub use results::{Results, Verdict};

/// Why the coverage inputs could not be read.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CoverageError {
    /// A file or folder could not be read.
    #[error("cannot read {}: {source}", path.display())]
    Io {
        /// The file or folder.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
    /// A file is not valid TOML/JSON or does not have the expected shape.
    #[error("{}: {message}", path.display())]
    Parse {
        /// The file.
        path: PathBuf,
        /// What the parser said.
        message: String,
    },
    /// An entry lacks a required field.
    #[error("{}: {entry}: missing field `{field}`", path.display())]
    MissingField {
        /// The file.
        path: PathBuf,
        /// The entry's label (or its position when the label itself is missing).
        entry: String,
        /// The missing field.
        field: &'static str,
    },
    /// A field holds a value outside its vocabulary.
    #[error("{}: {entry}: `{field}` is {value:?}, expected {expected}", path.display())]
    BadValue {
        /// The file.
        path: PathBuf,
        /// The entry's label.
        entry: String,
        /// The field.
        field: &'static str,
        /// The value found.
        value: String,
        /// The allowed values.
        expected: &'static str,
    },
}

/// Everything the report and the lint read.
#[derive(Debug, Clone)]
pub struct Inputs {
    /// The catalog.
    pub catalog: Catalog,
    /// Every scenario found under the features folder.
    pub scenarios: Vec<Scenario>,
    /// The pending list.
    pub pending: Pending,
    /// A run's verdicts, when a results file was given.
    pub results: Option<Results>,
}

impl Inputs {
    /// Load the catalog, scan the features folder, read the pending list and, if given, the
    /// results file.
    pub fn load(
        catalog: &Path,
        features: &Path,
        pending: &Path,
        results: Option<&Path>,
    ) -> Result<Inputs, CoverageError> {
        Ok(Inputs {
            catalog: Catalog::load(catalog)?,
            scenarios: gherkin::scan_dir(features)?,
            pending: Pending::load(pending)?,
            results: results.map(results::load).transpose()?,
        })
    }

    /// Build the requirement × scenarios × verdict matrix with its totals.
    pub fn report(&self) -> Report {
        report::build(self)
    }

    /// Every lint problem, in a stable order.
    pub fn lint(&self) -> Vec<LintError> {
        lint::lint(self)
    }
}
