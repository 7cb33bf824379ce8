//! SIDI synchronisation: compare a SIDI interchange file with a SQLite
//! local database (the plan as JSON text, reviewable and saveable), decide,
//! apply; the sandbox school to try it. Thin over `anist_client::sidi`.

use std::path::PathBuf;

use anist_client::sidi::{self as client_sidi, LocalStore};
use anist_core::sidi::{self, Decision, Entity, SyncField};
use anist_core::{ErrorCode, ErrorKind};
use pyo3::prelude::*;
use pyo3::types::PyDict;

use crate::errors::{self, guard};

/// The exception of a SIDI error (`SidiError` for the `sidi_*` codes).
fn sidi_err<E: ErrorCode>(e: &E) -> PyErr {
    errors::error(e)
}

fn plan_from(json: &str) -> PyResult<sidi::Plan> {
    client_sidi::parse_plan(json.as_bytes()).map_err(|e| sidi_err(&e))
}

fn to_json(plan: &sidi::Plan) -> PyResult<String> {
    Ok(client_sidi::plan_to_json(plan))
}

/// Compares the SIDI file `sidi` (JSON or CSV layout) with the local
/// database `db`: the plan as JSON text.
#[pyfunction]
pub fn sidi_diff(py: Python<'_>, db: PathBuf, sidi: PathBuf) -> PyResult<String> {
    guard(|| {
        let (plan, _) = py
            .detach(|| client_sidi::diff_files(&db, &sidi))
            .map_err(|e| sidi_err(&e))?;
        to_json(&plan)
    })
}

/// The plan in Italian for the clerk (codici fiscali and names masked
/// unless `show_personal`).
#[pyfunction]
#[pyo3(signature = (plan, show_personal = false))]
pub fn sidi_plan_text(plan: &str, show_personal: bool) -> PyResult<String> {
    guard(|| Ok(sidi::plan_text_it(&plan_from(plan)?, show_personal)))
}

/// Records a decision on action `action` of the plan (JSON text): one of
/// `accept_sidi`, `keep_and_flag`, `merge` (with `keep`),
/// `keep_local_only`, `mark_not_for_sidi`. Returns the new plan.
#[pyfunction]
#[pyo3(signature = (plan, action, decision, keep = None))]
pub fn sidi_decide(
    plan: &str,
    action: usize,
    decision: &str,
    keep: Option<String>,
) -> PyResult<String> {
    guard(|| {
        let mut plan = plan_from(plan)?;
        let d = match (decision, keep) {
            ("accept_sidi", _) => Decision::AcceptSidi,
            ("keep_and_flag", _) => Decision::KeepAndFlag,
            ("merge", Some(keep)) => Decision::Merge { keep },
            ("keep_local_only", _) => Decision::KeepLocalOnly,
            ("mark_not_for_sidi", _) => Decision::MarkNotForSidi,
            _ => {
                return Err(errors::new(
                    ErrorKind::InvalidArgument,
                    format!(
                        "decision {decision:?}: one of accept_sidi, keep_and_flag, merge (with keep=), keep_local_only, mark_not_for_sidi"
                    ),
                    "invalid_argument",
                ))
            }
        };
        plan.decide(action, d).map_err(|e| sidi_err(&e))?;
        to_json(&plan)
    })
}

/// Applies the plan (JSON text) to the local database in one
/// transaction: what needs no decision, and what is decided. Returns the
/// report: `applied`, `pending` (action ids), `stale`, `records_written`,
/// `records_removed`, `codes_written`.
#[pyfunction]
pub fn sidi_apply<'py>(py: Python<'py>, db: PathBuf, plan: &str) -> PyResult<Bound<'py, PyDict>> {
    guard(|| {
        let plan = plan_from(plan)?;
        let report = py
            .detach(|| client_sidi::apply_to_db(&db, &plan))
            .map_err(|e| sidi_err(&e))?;
        let out = PyDict::new(py);
        out.set_item("applied", report.applied)?;
        out.set_item("pending", report.pending)?;
        out.set_item("stale", report.stale)?;
        out.set_item("records_written", report.records_written)?;
        out.set_item("records_removed", report.records_removed)?;
        out.set_item("codes_written", report.codes_written)?;
        Ok(out)
    })
}

/// The locked fields of the local database: `(entity, id, field, sync_id)`.
#[pyfunction]
pub fn sidi_locks(db: PathBuf) -> PyResult<Vec<(String, String, String, String)>> {
    guard(|| {
        let store = client_sidi::open_existing(&db).map_err(|e| sidi_err(&e))?;
        let school = store.load().map_err(|e| sidi_err(&e))?;
        Ok(school
            .locks()
            .into_iter()
            .map(|(e, id, f, s)| {
                (
                    e.as_str().to_owned(),
                    id.to_owned(),
                    f.as_str().to_owned(),
                    s.to_owned(),
                )
            })
            .collect())
    })
}

/// A local edit of one field; raises `SidiError` with code `sidi_locked`
/// on a field synchronised from SIDI.
#[pyfunction]
pub fn sidi_edit(db: PathBuf, entity: &str, id: &str, field: &str, value: &str) -> PyResult<()> {
    guard(|| {
        let bad = |what: &str| {
            errors::new(
                ErrorKind::InvalidArgument,
                format!("{what} is not known"),
                "invalid_argument",
            )
        };
        let entity = Entity::parse(entity).ok_or_else(|| bad("entity"))?;
        let field = SyncField::parse(field).ok_or_else(|| bad("field"))?;
        let mut store = client_sidi::open_existing(&db).map_err(|e| sidi_err(&e))?;
        store
            .edit(entity, id, field, value)
            .map_err(|e| sidi_err(&e))
    })
}

/// Writes a sandbox school into `dir`: returns the paths of
/// `(locale.sqlite, sidi.json, sidi.csv)`.
#[pyfunction]
#[pyo3(signature = (dir, seed = 17, pupils = 400, start_year = 2026))]
pub fn sidi_sandbox(
    dir: PathBuf,
    seed: u64,
    pupils: usize,
    start_year: u16,
) -> PyResult<(String, String, String)> {
    guard(|| {
        let files =
            client_sidi::write_demo(&dir, seed, pupils, start_year).map_err(|e| sidi_err(&e))?;
        let show = |p: &std::path::Path| p.display().to_string();
        Ok((
            show(&files.db),
            show(&files.sidi_json),
            show(&files.sidi_csv),
        ))
    })
}
