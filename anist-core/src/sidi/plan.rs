//! The comparison: a SIDI snapshot against the local database, in SIDI's
//! order (sedi → classi → tempo scuola / indirizzi → alunni), producing a
//! [`Plan`] that can be reviewed, saved as JSON, decided and applied later.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use chrono::Datelike;
use serde::{Deserialize, Serialize};

use super::model::{
    mask, normalise_cf, Entity, LocalRecord, LocalSchool, Provenance, SidiAlunno, SidiMark,
    SidiSnapshot, SyncField, TableKind,
};
use super::SidiError;
use crate::csvio::fold_header;
use crate::meccanografico::{CodiceMeccanografico, SchoolKind};
use crate::school::SchoolYear;

/// One field that differs (or is equal but not yet locked).
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FieldChange {
    /// The field.
    pub field: SyncField,
    /// The local value (`None` when never set).
    pub local: Option<String>,
    /// SIDI's value.
    pub sidi: String,
    /// A local edit SIDI disagrees with, on data the Agenzia delle Entrate
    /// has not validated: needs a decision.
    pub conflict: bool,
}

impl FieldChange {
    /// Equal values, only to be locked.
    pub fn is_lock_only(&self) -> bool {
        self.local.as_deref() == Some(self.sidi.as_str())
    }
}

impl fmt::Debug for FieldChange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let show = |v: &str| {
            if self.field.is_personal() {
                mask(v)
            } else {
                v.to_owned()
            }
        };
        f.debug_struct("FieldChange")
            .field("field", &self.field)
            .field("local", &self.local.as_deref().map(show))
            .field("sidi", &show(&self.sidi))
            .field("conflict", &self.conflict)
            .finish()
    }
}

/// Why records look like one person.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DuplicateReason {
    /// Two or more local records with SIDI's code (or the code it replaced).
    SamePerson,
    /// A local record under a provisional code, same name and date of birth
    /// as a SIDI pupil with another code: the provisional code was probably
    /// replaced.
    ProvisionalReplaced,
}

/// Which side lacks something.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Side {
    /// The local database.
    Local,
    /// SIDI.
    Sidi,
}

/// What an action does.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
#[non_exhaustive]
pub enum ActionKind {
    /// A ministerial code SIDI has and the local table lacks or describes
    /// otherwise: the table is updated (automatic).
    UpdateCode {
        /// Which table.
        table: TableKind,
        /// The code.
        code: String,
        /// SIDI's description.
        description: String,
        /// The local description, if any.
        local: Option<String>,
    },
    /// A record only SIDI has: imported (automatic).
    Import {
        /// The local id it will get.
        local_id: String,
        /// SIDI's values.
        values: BTreeMap<SyncField, String>,
    },
    /// A record on both sides with field differences, or equal fields not
    /// locked yet. Automatic unless a change is a conflict.
    Align {
        /// The local record.
        local_id: String,
        /// The fields to write (and lock).
        changes: Vec<FieldChange>,
        /// All of SIDI's values for the record.
        values: BTreeMap<SyncField, String>,
    },
    /// A pupil only the local database has: keep as local-only or mark
    /// "not for SIDI" (decision).
    LocalOnly {
        /// The local record.
        local_id: String,
    },
    /// One SIDI pupil, probably several local records (decision: merge, or
    /// keep and flag).
    Duplicate {
        /// The local records.
        local_ids: Vec<String>,
        /// Why.
        reason: DuplicateReason,
        /// SIDI's values.
        values: BTreeMap<SyncField, String>,
    },
    /// A sede or class the local database has and SIDI does not (report).
    NotOnSidi {
        /// The local record.
        local_id: String,
    },
    /// A class used by a pupil that is not among the classes (report; the
    /// pupil's class is still synced).
    UnknownClass {
        /// The class key.
        classe: String,
        /// The side that lacks it.
        missing_on: Side,
    },
    /// A class uses a code its table lacks on both sides (report; the code
    /// is kept, never dropped).
    UnknownCode {
        /// Which table.
        table: TableKind,
        /// The code.
        code: String,
    },
    /// Birth year and anno di corso do not fit (report: "Verifica
    /// incongruenze anno nascita/anno corso").
    Incongruence {
        /// Year of birth.
        anno_nascita: i32,
        /// Anno di corso.
        anno_corso: u8,
        /// The usual year of birth for that class.
        anno_atteso: i32,
    },
}

impl ActionKind {
    /// The stable name (`import`, `align`, `local_only`…).
    pub fn name(&self) -> &'static str {
        match self {
            ActionKind::UpdateCode { .. } => "update_code",
            ActionKind::Import { .. } => "import",
            ActionKind::Align { .. } => "align",
            ActionKind::LocalOnly { .. } => "local_only",
            ActionKind::Duplicate { .. } => "duplicate",
            ActionKind::NotOnSidi { .. } => "not_on_sidi",
            ActionKind::UnknownClass { .. } => "unknown_class",
            ActionKind::UnknownCode { .. } => "unknown_code",
            ActionKind::Incongruence { .. } => "incongruence",
        }
    }
}

/// The kind and its local ids; values (personal data) are left out.
impl fmt::Debug for ActionKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ActionKind::Import { local_id, .. }
            | ActionKind::Align { local_id, .. }
            | ActionKind::LocalOnly { local_id }
            | ActionKind::NotOnSidi { local_id } => write!(f, "{}({local_id})", self.name()),
            ActionKind::Duplicate { local_ids, .. } => {
                write!(f, "{}({})", self.name(), local_ids.join(","))
            }
            _ => f.write_str(self.name()),
        }
    }
}

/// A decision on an action that needs one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "decision", rename_all = "snake_case")]
pub enum Decision {
    /// Take SIDI's values (field conflicts; a provisional code replaced).
    AcceptSidi,
    /// Keep the local values and flag the record for the clerk.
    KeepAndFlag,
    /// Merge duplicates into one local record.
    Merge {
        /// The local id kept; the others are merged into it and removed.
        keep: String,
    },
    /// Keep a local-only pupil as such.
    KeepLocalOnly,
    /// Mark a local-only pupil "not for SIDI" (Elemento SIDI: NO).
    MarkNotForSidi,
}

impl Decision {
    /// The stable name (`accept_sidi`, `keep_and_flag`, `merge`,
    /// `keep_local_only`, `mark_not_for_sidi`).
    pub fn name(&self) -> &'static str {
        match self {
            Decision::AcceptSidi => "accept_sidi",
            Decision::KeepAndFlag => "keep_and_flag",
            Decision::Merge { .. } => "merge",
            Decision::KeepLocalOnly => "keep_local_only",
            Decision::MarkNotForSidi => "mark_not_for_sidi",
        }
    }
}

/// One step of the plan.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Action {
    /// Its number in the plan (1-based, stable: decisions refer to it).
    pub id: usize,
    /// The kind of record.
    pub entity: Entity,
    /// SIDI's key (codice meccanografico, class key, codice fiscale) or the
    /// local id for local-only records.
    pub key: String,
    /// What to do.
    pub kind: ActionKind,
    /// The user's decision, when one is needed and given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub decision: Option<Decision>,
}

impl fmt::Debug for Action {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let key = if self.entity == Entity::Alunno {
            mask(&self.key)
        } else {
            self.key.clone()
        };
        f.debug_struct("Action")
            .field("id", &self.id)
            .field("entity", &self.entity)
            .field("key", &key)
            .field("kind", &self.kind_name())
            .field("decision", &self.decision)
            .finish()
    }
}

impl Action {
    /// The stable name of the kind (`import`, `align`, `local_only`…).
    pub fn kind_name(&self) -> &'static str {
        self.kind.name()
    }

    /// Whether the action waits for a user's decision.
    pub fn needs_decision(&self) -> bool {
        match &self.kind {
            ActionKind::Align { changes, .. } => changes.iter().any(|c| c.conflict),
            ActionKind::LocalOnly { .. } | ActionKind::Duplicate { .. } => true,
            _ => false,
        }
    }

    /// Whether it only reports (changes nothing).
    pub fn is_report(&self) -> bool {
        matches!(
            self.kind,
            ActionKind::NotOnSidi { .. }
                | ActionKind::UnknownClass { .. }
                | ActionKind::UnknownCode { .. }
                | ActionKind::Incongruence { .. }
        )
    }

    /// The decisions this action accepts.
    pub fn allowed(&self, decision: &Decision) -> bool {
        match (&self.kind, decision) {
            (ActionKind::Align { .. }, Decision::AcceptSidi | Decision::KeepAndFlag) => {
                self.needs_decision()
            }
            (ActionKind::LocalOnly { .. }, Decision::KeepLocalOnly | Decision::MarkNotForSidi) => {
                true
            }
            (ActionKind::Duplicate { local_ids, .. }, Decision::Merge { keep }) => {
                local_ids.contains(keep)
            }
            (ActionKind::Duplicate { local_ids, .. }, Decision::AcceptSidi) => local_ids.len() == 1,
            (ActionKind::Duplicate { .. }, Decision::KeepAndFlag) => true,
            _ => false,
        }
    }
}

/// The reviewable result of a comparison.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Plan {
    /// The SIDI download compared.
    pub sync_id: String,
    /// Its school year.
    pub anno_scolastico: String,
    /// The steps, in SIDI's order.
    pub actions: Vec<Action>,
}

impl fmt::Debug for Plan {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Plan")
            .field("sync_id", &self.sync_id)
            .field("actions", &self.actions)
            .finish()
    }
}

/// Counts of a plan, for a summary line.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlanSummary {
    /// Actions applied without a decision.
    pub automatic: usize,
    /// Actions waiting for a decision.
    pub pending: usize,
    /// Actions with a decision.
    pub decided: usize,
    /// Reports (no change).
    pub reports: usize,
}

impl Plan {
    /// The action with this id.
    pub fn action(&self, id: usize) -> Option<&Action> {
        self.actions.get(id.checked_sub(1)?).filter(|a| a.id == id)
    }

    /// Records a decision.
    ///
    /// # Errors
    /// [`SidiError::NoSuchAction`]; [`SidiError::DecisionNotAllowed`] when
    /// the action takes no decision or not this one.
    pub fn decide(&mut self, id: usize, decision: Decision) -> Result<(), SidiError> {
        let action = id
            .checked_sub(1)
            .and_then(|i| self.actions.get_mut(i))
            .filter(|a| a.id == id)
            .ok_or(SidiError::NoSuchAction { id })?;
        if !action.allowed(&decision) {
            return Err(SidiError::DecisionNotAllowed {
                id,
                decision: decision.name(),
                kind: action.kind_name(),
            });
        }
        action.decision = Some(decision);
        Ok(())
    }

    /// The counts.
    pub fn summary(&self) -> PlanSummary {
        let mut s = PlanSummary::default();
        for a in &self.actions {
            if a.is_report() {
                s.reports += 1;
            } else if !a.needs_decision() {
                s.automatic += 1;
            } else if a.decision.is_some() {
                s.decided += 1;
            } else {
                s.pending += 1;
            }
        }
        s
    }

    /// The ids of the actions still waiting for a decision.
    pub fn pending(&self) -> Vec<usize> {
        self.actions
            .iter()
            .filter(|a| a.needs_decision() && a.decision.is_none())
            .map(|a| a.id)
            .collect()
    }
}

/// The plan that aligns `local` with `sidi`.
pub fn diff(local: &LocalSchool, sidi: &SidiSnapshot) -> Plan {
    let mut actions: Vec<(Entity, String, ActionKind)> = Vec::new();
    let sync = |rec: &LocalRecord, values: &BTreeMap<SyncField, String>, validated: bool| {
        align_changes(rec, values, validated)
    };

    // Sedi.
    let mut seen = BTreeSet::new();
    for s in &sidi.sedi {
        let key = s.codice_meccanografico.trim().to_uppercase();
        let values: BTreeMap<_, _> = s.values().into_iter().collect();
        seen.insert(key.clone());
        record_action(&mut actions, Entity::Sede, key, &local.sedi, values, &sync);
    }
    for (id, rec) in &local.sedi {
        if !seen.contains(id) && rec.mark != Some(SidiMark::NotForSidi) {
            actions.push((
                Entity::Sede,
                id.clone(),
                ActionKind::NotOnSidi {
                    local_id: id.clone(),
                },
            ));
        }
    }

    // Classi.
    let mut sidi_classes = BTreeMap::new();
    for c in &sidi.classi {
        let key = c.key();
        let values: BTreeMap<_, _> = c.values().into_iter().collect();
        sidi_classes.insert(key.clone(), c.anno_corso);
        record_action(
            &mut actions,
            Entity::Classe,
            key,
            &local.classi,
            values,
            &sync,
        );
    }
    for (id, rec) in &local.classi {
        if !sidi_classes.contains_key(id) && rec.mark != Some(SidiMark::NotForSidi) {
            actions.push((
                Entity::Classe,
                id.clone(),
                ActionKind::NotOnSidi {
                    local_id: id.clone(),
                },
            ));
        }
    }

    // Tempo scuola, indirizzi.
    for table in [TableKind::TempoScuola, TableKind::Indirizzo] {
        let theirs = sidi.codes.table(table);
        let ours = local.codes.table(table);
        for (code, description) in theirs {
            let local_desc = ours.get(code);
            if local_desc != Some(description) {
                actions.push((
                    Entity::Classe,
                    code.clone(),
                    ActionKind::UpdateCode {
                        table,
                        code: code.clone(),
                        description: description.clone(),
                        local: local_desc.cloned(),
                    },
                ));
            }
        }
        let field = match table {
            TableKind::TempoScuola => SyncField::TempoScuola,
            TableKind::Indirizzo => SyncField::Indirizzo,
        };
        let mut reported = BTreeSet::new();
        let used = sidi
            .classi
            .iter()
            .map(|c| {
                (
                    c.key(),
                    c.values()
                        .into_iter()
                        .find(|(f, _)| *f == field)
                        .map(|(_, v)| v),
                )
            })
            .chain(
                local
                    .classi
                    .iter()
                    .filter(|(k, _)| !sidi_classes.contains_key(*k))
                    .map(|(k, r)| (k.clone(), Some(r.value(field).to_owned()))),
            );
        for (class, code) in used {
            let Some(code) = code else { continue };
            if !code.is_empty()
                && !theirs.contains_key(&code)
                && !ours.contains_key(&code)
                && reported.insert(code.clone())
            {
                actions.push((
                    Entity::Classe,
                    class,
                    ActionKind::UnknownCode { table, code },
                ));
            }
        }
    }

    // Alunni.
    diff_alunni(local, sidi, &sidi_classes, &mut actions);

    Plan {
        sync_id: sidi.sync_id.clone(),
        anno_scolastico: sidi.anno_scolastico.clone(),
        actions: actions
            .into_iter()
            .enumerate()
            .map(|(i, (entity, key, kind))| Action {
                id: i + 1,
                entity,
                key,
                kind,
                decision: None,
            })
            .collect(),
    }
}

fn record_action<F>(
    actions: &mut Vec<(Entity, String, ActionKind)>,
    entity: Entity,
    key: String,
    records: &BTreeMap<String, LocalRecord>,
    values: BTreeMap<SyncField, String>,
    sync: &F,
) where
    F: Fn(&LocalRecord, &BTreeMap<SyncField, String>, bool) -> Vec<FieldChange>,
{
    match records.get(&key) {
        None => actions.push((
            entity,
            key.clone(),
            ActionKind::Import {
                local_id: key,
                values,
            },
        )),
        Some(rec) => {
            let changes = sync(rec, &values, true);
            if !changes.is_empty() {
                actions.push((
                    entity,
                    key.clone(),
                    ActionKind::Align {
                        local_id: key,
                        changes,
                        values,
                    },
                ));
            }
        }
    }
}

/// The fields to write: different, or equal but not locked. A difference
/// is a conflict when the local value was entered locally and SIDI's
/// anagrafica is not validated by the Agenzia delle Entrate.
fn align_changes(
    rec: &LocalRecord,
    values: &BTreeMap<SyncField, String>,
    validated: bool,
) -> Vec<FieldChange> {
    let mut out = Vec::new();
    for (field, sidi) in values {
        let tracked = rec.fields.get(field);
        let local = tracked.map(|t| t.value.clone());
        let same = local.as_deref() == Some(sidi.as_str());
        if same && tracked.is_some_and(|t| t.locked) {
            continue;
        }
        let anagrafica = matches!(
            field,
            SyncField::Cognome
                | SyncField::Nome
                | SyncField::Sesso
                | SyncField::DataNascita
                | SyncField::LuogoNascita
                | SyncField::Cittadinanza
        );
        let conflict = !same
            && !validated
            && anagrafica
            && tracked.is_some_and(|t| t.provenance == Provenance::Local && !t.value.is_empty());
        out.push(FieldChange {
            field: *field,
            local,
            sidi: sidi.clone(),
            conflict,
        });
    }
    out
}

fn is_provisional(cf: &str) -> bool {
    cf.len() == 11 && cf.bytes().all(|b| b.is_ascii_digit())
}

fn person_key(cognome: &str, nome: &str, data: &str) -> String {
    format!(
        "{}|{}|{}",
        fold_header(cognome),
        fold_header(nome),
        data.trim()
    )
}

/// The usual offset between the school year's first year and the year of
/// birth of a pupil in anno 1, by the sede's kind.
fn birth_offset(sede: &str) -> Option<i32> {
    let code = CodiceMeccanografico::parse(sede).ok()?;
    match code.school_kind() {
        SchoolKind::Primaria | SchoolKind::ParitariaPrimaria => Some(6),
        SchoolKind::SecondariaPrimoGrado | SchoolKind::ParitariaSecondariaPrimoGrado => Some(11),
        SchoolKind::Liceo(_)
        | SchoolKind::Tecnico(_)
        | SchoolKind::Professionale(_)
        | SchoolKind::SecondoGradoAltro => Some(14),
        _ => None,
    }
}

fn incongruence(p: &SidiAlunno, anno_corso: u8, anno: Option<SchoolYear>) -> Option<ActionKind> {
    let year = anno?;
    let sede = p.classe.split('/').next()?;
    let offset = birth_offset(sede)?;
    let expected = i32::from(year.start_year()) - offset - i32::from(anno_corso) + 1;
    let born = p.data_nascita.year();
    // Anticipatari are born one year later; repeaters one or two earlier.
    if born > expected + 1 || born < expected - 2 {
        Some(ActionKind::Incongruence {
            anno_nascita: born,
            anno_corso,
            anno_atteso: expected,
        })
    } else {
        None
    }
}

fn anno_from_key(key: &str) -> Option<u8> {
    let rest = key.split('/').nth(1)?;
    rest.chars()
        .next()?
        .to_digit(10)
        .and_then(|d| u8::try_from(d).ok())
}

fn diff_alunni(
    local: &LocalSchool,
    sidi: &SidiSnapshot,
    sidi_classes: &BTreeMap<String, u8>,
    actions: &mut Vec<(Entity, String, ActionKind)>,
) {
    let mut by_cf: BTreeMap<String, Vec<&str>> = BTreeMap::new();
    let mut by_person: BTreeMap<String, Vec<&str>> = BTreeMap::new();
    for (id, rec) in &local.alunni {
        if rec.mark == Some(SidiMark::NotForSidi) {
            continue;
        }
        let cf = normalise_cf(rec.value(SyncField::CodiceFiscale));
        if is_provisional(&cf) || rec.value(SyncField::CfProvvisorio) == "true" {
            by_person
                .entry(person_key(
                    rec.value(SyncField::Cognome),
                    rec.value(SyncField::Nome),
                    rec.value(SyncField::DataNascita),
                ))
                .or_default()
                .push(id);
        }
        if !cf.is_empty() {
            by_cf.entry(cf).or_default().push(id);
        }
    }
    let anno = SchoolYear::parse(&sidi.anno_scolastico).ok();
    let mut used: BTreeSet<&str> = BTreeSet::new();
    for p in &sidi.alunni {
        let cf = p.cf();
        let values: BTreeMap<_, _> = p.values().into_iter().collect();
        let mut exact: Vec<&str> = by_cf.get(&cf).cloned().unwrap_or_default();
        if let Some(prev) = p.cf_precedente.as_deref().map(normalise_cf) {
            if prev != cf {
                exact.extend(by_cf.get(&prev).into_iter().flatten().copied());
            }
        }
        exact.retain(|id| !used.contains(id));
        let kind = if exact.is_empty() {
            let probable: Vec<&str> = by_person
                .get(&person_key(
                    &p.cognome,
                    &p.nome,
                    &p.data_nascita.to_string(),
                ))
                .into_iter()
                .flatten()
                .copied()
                .filter(|id| !used.contains(id))
                .collect();
            if probable.is_empty() {
                Some(ActionKind::Import {
                    local_id: format!("sidi-{cf}"),
                    values,
                })
            } else {
                used.extend(probable.iter().copied());
                Some(ActionKind::Duplicate {
                    local_ids: probable.iter().map(|s| (*s).to_owned()).collect(),
                    reason: DuplicateReason::ProvisionalReplaced,
                    values,
                })
            }
        } else if exact.len() == 1 {
            let id = exact[0];
            used.insert(id);
            let rec = &local.alunni[id];
            let changes = align_changes(rec, &values, p.cf_validato_ade);
            let unmark = rec.mark.is_some();
            (!changes.is_empty() || unmark).then(|| ActionKind::Align {
                local_id: id.to_owned(),
                changes,
                values,
            })
        } else {
            used.extend(exact.iter().copied());
            Some(ActionKind::Duplicate {
                local_ids: exact.iter().map(|s| (*s).to_owned()).collect(),
                reason: DuplicateReason::SamePerson,
                values,
            })
        };
        if let Some(kind) = kind {
            actions.push((Entity::Alunno, cf.clone(), kind));
        }
        let classe = p.classe.trim();
        let anno_corso = sidi_classes.get(classe).copied();
        if anno_corso.is_none() {
            let missing_on = if local.classi.contains_key(classe) {
                Side::Sidi
            } else {
                Side::Local
            };
            actions.push((
                Entity::Alunno,
                cf.clone(),
                ActionKind::UnknownClass {
                    classe: classe.to_owned(),
                    missing_on,
                },
            ));
        }
        if let Some(kind) = anno_corso
            .or_else(|| anno_from_key(classe))
            .and_then(|a| incongruence(p, a, anno))
        {
            actions.push((Entity::Alunno, cf, kind));
        }
    }
    for (id, rec) in &local.alunni {
        if rec.mark.is_none() && !used.contains(id.as_str()) {
            actions.push((
                Entity::Alunno,
                id.clone(),
                ActionKind::LocalOnly {
                    local_id: id.clone(),
                },
            ));
        }
    }
}
