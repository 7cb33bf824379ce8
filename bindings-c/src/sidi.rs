//! SIDI synchronisation of a school's local database: compare a SIDI
//! interchange file with a SQLite local database (the plan as JSON text,
//! reviewable and saveable), decide, apply in one transaction; the
//! sandbox school to try it. Thin over `anist_client::sidi`.

use std::ffi::c_char;
use std::path::Path;

use anist_client::sidi::{self as client_sidi, LocalStore};
use anist_core::sidi::{self, Decision, Entity, SyncField};

use crate::error::guard;
use crate::error::Failure;
use crate::strings::{arg_str, c_string, opt_str, out_ptr, write_out};

/// What [`anist_sidi_apply`] did.
#[repr(C)]
#[derive(Debug, Clone, Copy, Default)]
pub struct AnistSidiReport {
    /// Actions carried out (automatic or decided).
    pub applied: u32,
    /// Actions left waiting for a decision.
    pub pending: u32,
    /// Actions whose local record no longer exists (compare again).
    pub stale: u32,
    /// Records written.
    pub records_written: u32,
    /// Records removed (merged duplicates).
    pub records_removed: u32,
    /// Code-table entries written.
    pub codes_written: u32,
}

fn count(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

fn plan_of(json: *const c_char) -> Result<sidi::Plan, Failure> {
    let text = arg_str(json, "plan_json")?;
    client_sidi::parse_plan(text.as_bytes()).map_err(|e| Failure::of(&e))
}

fn plan_out(plan: &sidi::Plan) -> Result<*mut c_char, Failure> {
    Ok(c_string(&client_sidi::plan_to_json(plan)))
}

/// Compares the SIDI file `sidi_path` (JSON or CSV layout, see the README)
/// with the SQLite local database `db_path`: the plan as JSON text in
/// `*out_plan_json`, to free with [`crate::anist_string_free`]. Statuses:
/// `ANIST_ERR_SIDI` (codes `sidi_*`, `csv_*`).
#[no_mangle]
pub extern "C" fn anist_sidi_diff(
    db_path: *const c_char,
    sidi_path: *const c_char,
    out_plan_json: *mut *mut c_char,
) -> i32 {
    guard(|| {
        let db = arg_str(db_path, "db_path")?;
        let file = arg_str(sidi_path, "sidi_path")?;
        out_ptr(out_plan_json, "out_plan_json")?;
        let (plan, _) =
            client_sidi::diff_files(Path::new(db), Path::new(file)).map_err(|e| Failure::of(&e))?;
        write_out(out_plan_json, plan_out(&plan)?);
        Ok(())
    })
}

/// The plan (JSON text) in Italian for the clerk, in `*out_text` (free
/// with [`crate::anist_string_free`]); codici fiscali and names masked
/// unless `show_personal` is non-zero.
#[no_mangle]
pub extern "C" fn anist_sidi_plan_text(
    plan_json: *const c_char,
    show_personal: i32,
    out_text: *mut *mut c_char,
) -> i32 {
    guard(|| {
        let plan = plan_of(plan_json)?;
        out_ptr(out_text, "out_text")?;
        write_out(
            out_text,
            c_string(&sidi::plan_text_it(&plan, show_personal != 0)),
        );
        Ok(())
    })
}

/// Records a decision on action number `action` of the plan: `decision`
/// is `accept_sidi`, `keep_and_flag`, `merge` (with `keep`, the local id
/// kept; NULL otherwise), `keep_local_only` or `mark_not_for_sidi`. The
/// new plan goes to `*out_plan_json` (free with
/// [`crate::anist_string_free`]). Statuses: `ANIST_ERR_SIDI` (codes
/// `sidi_no_such_action`, `sidi_decision_not_allowed`),
/// `ANIST_ERR_INVALID_ARGUMENT`.
#[no_mangle]
pub extern "C" fn anist_sidi_decide(
    plan_json: *const c_char,
    action: u32,
    decision: *const c_char,
    keep: *const c_char,
    out_plan_json: *mut *mut c_char,
) -> i32 {
    guard(|| {
        let mut plan = plan_of(plan_json)?;
        let name = arg_str(decision, "decision")?;
        let keep = opt_str(keep, "keep")?;
        out_ptr(out_plan_json, "out_plan_json")?;
        let d = match (name, keep) {
            ("accept_sidi", _) => Decision::AcceptSidi,
            ("keep_and_flag", _) => Decision::KeepAndFlag,
            ("merge", Some(k)) => Decision::Merge { keep: k.to_owned() },
            ("keep_local_only", _) => Decision::KeepLocalOnly,
            ("mark_not_for_sidi", _) => Decision::MarkNotForSidi,
            _ => {
                return Err(Failure::invalid(
                    "decision",
                    "one of accept_sidi, keep_and_flag, merge (with keep), keep_local_only, mark_not_for_sidi",
                ))
            }
        };
        plan.decide(action as usize, d)
            .map_err(|e| Failure::of(&e))?;
        write_out(out_plan_json, plan_out(&plan)?);
        Ok(())
    })
}

/// Applies the plan (JSON text) to the SQLite local database `db_path` in
/// one transaction: every action that needs no decision, and every decided
/// one; the synced fields are overwritten and locked. Idempotent. The
/// counts go to `*out_report`. Statuses: `ANIST_ERR_SIDI`.
#[no_mangle]
pub extern "C" fn anist_sidi_apply(
    db_path: *const c_char,
    plan_json: *const c_char,
    out_report: *mut AnistSidiReport,
) -> i32 {
    guard(|| {
        let db = arg_str(db_path, "db_path")?;
        let plan = plan_of(plan_json)?;
        out_ptr(out_report, "out_report")?;
        let r = client_sidi::apply_to_db(Path::new(db), &plan).map_err(|e| Failure::of(&e))?;
        write_out(
            out_report,
            AnistSidiReport {
                applied: count(r.applied),
                pending: count(r.pending.len()),
                stale: count(r.stale.len()),
                records_written: count(r.records_written),
                records_removed: count(r.records_removed),
                codes_written: count(r.codes_written),
            },
        );
        Ok(())
    })
}

/// A local edit of one field (`entity` `sede`, `classe` or `alunno`;
/// `field` e.g. `cognome`). Statuses: `ANIST_ERR_SIDI_LOCKED` (code
/// `sidi_locked`: change it on SIDI and synchronise again),
/// `ANIST_ERR_SIDI`, `ANIST_ERR_INVALID_ARGUMENT`.
#[no_mangle]
pub extern "C" fn anist_sidi_edit(
    db_path: *const c_char,
    entity: *const c_char,
    id: *const c_char,
    field: *const c_char,
    value: *const c_char,
) -> i32 {
    guard(|| {
        let db = arg_str(db_path, "db_path")?;
        let entity = Entity::parse(arg_str(entity, "entity")?)
            .ok_or_else(|| Failure::invalid("entity", "sede, classe or alunno"))?;
        let field = SyncField::parse(arg_str(field, "field")?)
            .ok_or_else(|| Failure::invalid("field", "not a synchronised field"))?;
        let id = arg_str(id, "id")?;
        let value = arg_str(value, "value")?;
        let mut store = client_sidi::open_existing(Path::new(db)).map_err(|e| Failure::of(&e))?;
        store
            .edit(entity, id, field, value)
            .map_err(|e| Failure::of(&e))
    })
}

/// Writes a sandbox school (synthetic people) into the folder `dir`
/// (created if missing): `locale.sqlite`, `sidi.json`, `sidi.csv`, all
/// 0600, replacing earlier ones. `pupils` on SIDI (at least 40), the
/// school year starting in `start_year`. Statuses: `ANIST_ERR_SIDI`.
#[no_mangle]
pub extern "C" fn anist_sidi_sandbox(
    dir: *const c_char,
    seed: u64,
    pupils: u32,
    start_year: u16,
) -> i32 {
    guard(|| {
        let dir = arg_str(dir, "dir")?;
        client_sidi::write_demo(Path::new(dir), seed, pupils as usize, start_year)
            .map_err(|e| Failure::of(&e))?;
        Ok(())
    })
}
