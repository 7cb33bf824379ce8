//! The summary of the ISEE batch run by `Client.run_isee_batch` (the job
//! of `anist isee batch`), as the attendance job's `BulkSummary`.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anist_client::bulk::isee::{IseeCounts, IseeSummary};
use pyo3::prelude::*;

/// The audit database of an ISEE batch when `audit` is not given: this
/// file beside the output (its secret `<audit>.key`), as `anist isee
/// batch`.
pub use anist_client::audit::DEFAULT_FILE as DEFAULT_AUDIT;

/// The audit database of `output`'s batch: `audit`, or [`DEFAULT_AUDIT`]
/// beside the output.
pub fn audit_path(audit: Option<PathBuf>, output: &Path) -> PathBuf {
    audit.unwrap_or_else(|| {
        output
            .parent()
            .unwrap_or_else(|| Path::new(""))
            .join(DEFAULT_AUDIT)
    })
}

/// Outcome → rows.
pub fn outcome_map(o: &IseeCounts) -> BTreeMap<&'static str, u64> {
    BTreeMap::from([
        ("found", o.found),
        ("no_isee", o.no_isee),
        ("refused", o.refused),
        ("invalid_input", o.invalid_input),
        ("error", o.error),
    ])
}

/// What an ISEE batch did.
#[pyclass(module = "anist._anist", name = "IseeBatchSummary", frozen, get_all)]
pub struct PyIseeSummary {
    /// Rows of the input.
    rows_total: u64,
    /// Rows with a final outcome.
    rows_done: u64,
    /// Distinct questions (each asked once).
    distinct_questions: u64,
    /// Outcome (`found`, `no_isee`, `refused`, `invalid_input`, `error`) →
    /// rows.
    outcomes: BTreeMap<&'static str, u64>,
    /// Calls made by this run (retries included).
    calls: u64,
    /// Retried calls.
    retries: u64,
    /// Seconds the run took.
    duration_seconds: f64,
    /// Whether the batch paused (an exhausted quota): run it again to resume.
    paused: bool,
    /// The stable code of the pause, when paused.
    pause_code: Option<&'static str>,
    /// Why it paused, when paused.
    pause_reason: Option<String>,
    /// The audit trail the calls were recorded in (`None`: opted out).
    audit: Option<String>,
}

#[pymethods]
impl PyIseeSummary {
    fn __repr__(&self) -> String {
        format!(
            "IseeBatchSummary(rows_done={}, rows_total={}, paused={})",
            self.rows_done,
            self.rows_total,
            if self.paused { "True" } else { "False" }
        )
    }
}

/// The Python summary of `s`.
pub fn summary(
    s: IseeSummary,
    pause: Option<(&'static str, String)>,
    audit: Option<PathBuf>,
) -> PyIseeSummary {
    PyIseeSummary {
        rows_total: s.rows_total,
        rows_done: s.rows_done,
        distinct_questions: s.distinct_questions,
        outcomes: outcome_map(&s.outcomes),
        calls: s.calls,
        retries: s.retries,
        duration_seconds: s.duration_seconds,
        paused: pause.is_some(),
        pause_code: pause.as_ref().map(|p| p.0),
        pause_reason: pause.map(|p| p.1),
        audit: audit.map(|p| p.display().to_string()),
    }
}
