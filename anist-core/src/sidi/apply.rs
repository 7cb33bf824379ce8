//! Applying a plan: the synced fields are overwritten and locked; local-only
//! fields are never touched. The result is a [`ChangeSet`] (whole records to
//! write or remove, code-table entries) that a store commits in one
//! transaction; computing it again on the result gives an empty set
//! (idempotent).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::model::{
    Entity, LocalRecord, LocalSchool, Provenance, SidiMark, SyncField, TableKind, Tracked,
};
use super::plan::{Action, ActionKind, Decision, Plan};

/// The flag left on a record kept against SIDI's values.
pub const FLAG_KEPT: &str = "dati diversi da SIDI mantenuti: verificare e correggere su SIDI";
/// The flag left on duplicates kept apart.
pub const FLAG_DUPLICATE: &str = "probabile duplicato: verificare";

/// One write to the local database.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "snake_case")]
pub enum Change {
    /// Write a whole record (insert or replace).
    Upsert {
        /// Kind of record.
        entity: Entity,
        /// Local id.
        id: String,
        /// The record as it must be.
        record: LocalRecord,
    },
    /// Remove a record (merged into another).
    Delete {
        /// Kind of record.
        entity: Entity,
        /// Local id.
        id: String,
    },
    /// Set a ministerial code's description.
    Code {
        /// Which table.
        table: TableKind,
        /// The code.
        code: String,
        /// Its description.
        description: String,
    },
}

/// The writes a plan makes, to commit atomically.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChangeSet {
    /// The writes, in order.
    pub changes: Vec<Change>,
}

impl ChangeSet {
    /// Whether nothing changes.
    pub fn is_empty(&self) -> bool {
        self.changes.is_empty()
    }

    /// Applies the writes to an in-memory school.
    pub fn apply_to(&self, local: &mut LocalSchool) {
        for c in &self.changes {
            match c {
                Change::Upsert { entity, id, record } => {
                    local
                        .records_mut(*entity)
                        .insert(id.clone(), record.clone());
                }
                Change::Delete { entity, id } => {
                    local.records_mut(*entity).remove(id);
                }
                Change::Code {
                    table,
                    code,
                    description,
                } => local.codes.set(*table, code, description),
            }
        }
    }
}

/// What applying a plan did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApplyReport {
    /// Actions carried out (automatic or decided).
    pub applied: usize,
    /// Actions left waiting for a decision (ids).
    pub pending: Vec<usize>,
    /// Actions whose local record no longer exists (ids): compare again.
    pub stale: Vec<usize>,
    /// Records written.
    pub records_written: usize,
    /// Records removed (merged).
    pub records_removed: usize,
    /// Code-table entries written.
    pub codes_written: usize,
}

/// Writes SIDI's values into a record and locks them, except `skip`.
/// Fields already equal and locked keep their provenance.
fn sync_values(
    rec: &mut LocalRecord,
    values: &BTreeMap<SyncField, String>,
    sync_id: &str,
    skip: &[SyncField],
) {
    for (field, value) in values {
        if skip.contains(field) {
            continue;
        }
        if rec
            .fields
            .get(field)
            .is_some_and(|t| t.locked && t.value == *value)
        {
            continue;
        }
        rec.fields.insert(
            *field,
            Tracked {
                value: value.clone(),
                provenance: Provenance::Sidi {
                    sync_id: sync_id.to_owned(),
                },
                locked: true,
            },
        );
    }
}

/// The writes that carry out `plan` on `local`, and what they do. Actions
/// needing a decision and without one are left pending; reports change
/// nothing.
pub fn changes(local: &LocalSchool, plan: &Plan) -> (ChangeSet, ApplyReport) {
    // Working copies of the records touched, `None` = removed.
    let mut work: BTreeMap<(Entity, String), Option<LocalRecord>> = BTreeMap::new();
    let mut codes: Vec<Change> = Vec::new();
    let mut report = ApplyReport::default();
    let sync_id = plan.sync_id.as_str();

    let get = |work: &mut BTreeMap<(Entity, String), Option<LocalRecord>>,
               entity: Entity,
               id: &str|
     -> Option<LocalRecord> {
        match work.get(&(entity, id.to_owned())) {
            Some(r) => r.clone(),
            None => local.records(entity).get(id).cloned(),
        }
    };

    for action in &plan.actions {
        if action.is_report() {
            continue;
        }
        if action.needs_decision() && action.decision.is_none() {
            report.pending.push(action.id);
            continue;
        }
        let e = action.entity;
        let ok = match (&action.kind, &action.decision) {
            (
                ActionKind::UpdateCode {
                    table,
                    code,
                    description,
                    ..
                },
                _,
            ) => {
                if local.codes.table(*table).get(code) != Some(description) {
                    codes.push(Change::Code {
                        table: *table,
                        code: code.clone(),
                        description: description.clone(),
                    });
                }
                true
            }
            (ActionKind::Import { local_id, values }, _) => {
                let mut rec = get(&mut work, e, local_id).unwrap_or_default();
                sync_values(&mut rec, values, sync_id, &[]);
                work.insert((e, local_id.clone()), Some(rec));
                true
            }
            (
                ActionKind::Align {
                    local_id,
                    changes,
                    values,
                },
                decision,
            ) => match get(&mut work, e, local_id) {
                None => false,
                Some(mut rec) => {
                    let skip: Vec<SyncField> = if decision == &Some(Decision::KeepAndFlag) {
                        rec.flag = Some(FLAG_KEPT.to_owned());
                        changes
                            .iter()
                            .filter(|c| c.conflict)
                            .map(|c| c.field)
                            .collect()
                    } else {
                        Vec::new()
                    };
                    sync_values(&mut rec, values, sync_id, &skip);
                    if rec.mark == Some(SidiMark::LocalOnly) {
                        rec.mark = None;
                    }
                    work.insert((e, local_id.clone()), Some(rec));
                    true
                }
            },
            (ActionKind::LocalOnly { local_id }, Some(d)) => match get(&mut work, e, local_id) {
                None => false,
                Some(mut rec) => {
                    rec.mark = Some(if *d == Decision::MarkNotForSidi {
                        SidiMark::NotForSidi
                    } else {
                        SidiMark::LocalOnly
                    });
                    work.insert((e, local_id.clone()), Some(rec));
                    true
                }
            },
            (
                ActionKind::Duplicate {
                    local_ids, values, ..
                },
                Some(d),
            ) => apply_duplicate(&mut work, local, e, local_ids, values, d, sync_id),
            _ => true,
        };
        if ok {
            report.applied += 1;
        } else {
            report.stale.push(action.id);
        }
    }

    let mut set = ChangeSet::default();
    for ((entity, id), rec) in work {
        let before = local.records(entity).get(&id);
        match rec {
            Some(rec) if before != Some(&rec) => {
                report.records_written += 1;
                set.changes.push(Change::Upsert {
                    entity,
                    id,
                    record: rec,
                });
            }
            None if before.is_some() => {
                report.records_removed += 1;
                set.changes.push(Change::Delete { entity, id });
            }
            _ => {}
        }
    }
    report.codes_written = codes.len();
    set.changes.extend(codes);
    (set, report)
}

fn apply_duplicate(
    work: &mut BTreeMap<(Entity, String), Option<LocalRecord>>,
    local: &LocalSchool,
    e: Entity,
    local_ids: &[String],
    values: &BTreeMap<SyncField, String>,
    decision: &Decision,
    sync_id: &str,
) -> bool {
    let current = |work: &BTreeMap<(Entity, String), Option<LocalRecord>>, id: &str| match work
        .get(&(e, id.to_owned()))
    {
        Some(r) => r.clone(),
        None => local.records(e).get(id).cloned(),
    };
    let keep = match decision {
        Decision::Merge { keep } => keep.clone(),
        Decision::AcceptSidi => match local_ids.first() {
            Some(k) => k.clone(),
            None => return false,
        },
        _ => {
            // Keep apart and flag.
            let mut any = false;
            for id in local_ids {
                if let Some(mut rec) = current(work, id) {
                    rec.flag = Some(FLAG_DUPLICATE.to_owned());
                    work.insert((e, id.clone()), Some(rec));
                    any = true;
                }
            }
            return any;
        }
    };
    let Some(mut kept) = current(work, &keep) else {
        return false;
    };
    for id in local_ids.iter().filter(|id| **id != keep) {
        if let Some(other) = current(work, id) {
            for (k, v) in other.local_only {
                kept.local_only.entry(k).or_insert(v);
            }
            work.insert((e, id.clone()), None);
        }
    }
    sync_values(&mut kept, values, sync_id, &[]);
    if kept.flag.as_deref() == Some(FLAG_DUPLICATE) {
        kept.flag = None;
    }
    kept.mark = None;
    work.insert((e, keep), Some(kept));
    true
}

/// Applies a plan to an in-memory school ([`changes`] then
/// [`ChangeSet::apply_to`]).
pub fn apply(local: &mut LocalSchool, plan: &Plan) -> ApplyReport {
    let (set, report) = changes(local, plan);
    set.apply_to(local);
    report
}

/// Decides every pending action with `f` (the guided mode's engine: `f`
/// asks the user, reads a file, or applies a policy). `None` leaves the
/// action pending. Decisions an action does not accept are skipped.
pub fn decide_with<F>(plan: &mut Plan, mut f: F)
where
    F: FnMut(&Action) -> Option<Decision>,
{
    for action in &mut plan.actions {
        if action.needs_decision() && action.decision.is_none() {
            if let Some(d) = f(action) {
                if action.allowed(&d) {
                    action.decision = Some(d);
                }
            }
        }
    }
}
