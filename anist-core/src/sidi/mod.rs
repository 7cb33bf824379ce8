//! SIDI synchronisation of a school's local database (MIUR nota 924/2012,
//! "sincronizzazione delle frequenze"): schools change pupils on SIDI
//! first, then align their local database with it.
//!
//! - [`model`]: the school on both sides. The SIDI side is a typed
//!   [`SidiSnapshot`] (sedi, classi, ministerial code tables, alunni with
//!   the flags "validated by the Agenzia delle Entrate" and "provisional
//!   code", their class, school year and attendance state). The local side
//!   is a [`LocalSchool`] of [`LocalRecord`]s whose synchronisable fields
//!   each carry a [`Provenance`] and a lock; a local edit of a locked field
//!   is refused with [`SidiError::Locked`].
//! - [`diff`]: the comparison in SIDI's order (sedi → classi → tempo
//!   scuola / indirizzi → alunni), producing a [`Plan`]: imports, field
//!   alignments (with conflicts), pupils only local, probable duplicates
//!   (two local records, or a provisional code replaced), classes or codes
//!   unknown on one side, birth-year / anno-di-corso incongruences.
//! - [`Plan::decide`] / [`decide_with`]: decisions ([`Decision`]) are part
//!   of the plan (serde), so it can be reviewed, saved and applied later.
//! - [`changes`] / [`apply`]: the writes a plan makes — synced fields
//!   overwritten and locked, local-only fields untouched, idempotent —
//!   as one [`ChangeSet`] a store commits atomically.
//!
//! Automatic mode applies every action that needs no decision and leaves
//! the rest pending; guided mode decides them first.
//!
//! ```
//! use anist_core::sidi::{self, Decision, Entity, LocalSchool, SidiSnapshot, SyncField};
//!
//! let sidi: SidiSnapshot = serde_json::from_str(r#"{
//!   "sync_id": "2026-11-23T10:00", "anno_scolastico": "2026/2027",
//!   "sedi": [{"codice_meccanografico": "RMEE00101A", "denominazione": "Plesso Verdi"}],
//!   "classi": [{"sede": "RMEE00101A", "anno_corso": 1, "sezione": "A", "tempo_scuola": "10"}],
//!   "codes": {"tempo_scuola": {"10": "24 ore settimanali"}},
//!   "alunni": [{"codice_fiscale": "RSSMRA20A01H501G", "cf_validato_ade": true,
//!     "cognome": "Rossi", "nome": "Mario", "sesso": "M", "data_nascita": "2020-01-01",
//!     "luogo_nascita": "H501", "classe": "RMEE00101A/1A",
//!     "anno_scolastico": "2026/2027", "stato": "frequentante"}]
//! }"#)?;
//! let mut local = LocalSchool::default();
//! let plan = sidi::diff(&local, &sidi);
//! assert!(plan.pending().is_empty());
//! let report = sidi::apply(&mut local, &plan);
//! assert_eq!(report.records_written, 3);
//! // Applying again changes nothing; the pupil's fields are now SIDI's.
//! assert!(sidi::changes(&local, &plan).0.is_empty());
//! let err = local
//!     .edit(Entity::Alunno, "sidi-RSSMRA20A01H501G", SyncField::Cognome, "Russo")
//!     .unwrap_err();
//! assert!(err.to_string().contains("modificare su SIDI e sincronizzare di nuovo"));
//! # let _ = Decision::AcceptSidi;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! Personal data: `Debug` of snapshots, records, plans and field values
//! masks codici fiscali and names; error messages carry neither.

mod apply;
pub mod model;
mod plan;
mod render;

pub use apply::{
    apply, changes, decide_with, ApplyReport, Change, ChangeSet, FLAG_DUPLICATE, FLAG_KEPT,
};
pub use model::{
    class_key, normalise_cf, CodeTable, CodeTables, Entity, LocalRecord, LocalSchool, Provenance,
    SidiAlunno, SidiClasse, SidiMark, SidiSede, SidiSnapshot, StatoFrequenza, SyncField, TableKind,
    Tracked,
};
pub use plan::{
    diff, Action, ActionKind, Decision, DuplicateReason, FieldChange, Plan, PlanSummary, Side,
};
pub use render::{action_text_it, plan_text_it, write_plan_csv};

use crate::error::{CodeSamples, ErrorCode, ErrorKind};

/// Why a SIDI operation was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SidiError {
    /// A local edit of a field synchronised from SIDI.
    #[error(
        "il campo «{}» è sincronizzato dal SIDI e non si modifica localmente: \
         modificare su SIDI e sincronizzare di nuovo",
        field.label_it()
    )]
    Locked {
        /// The field.
        field: SyncField,
    },
    /// No local record with that id.
    #[error("nessun record locale di tipo {entity} con l'id indicato: controllare l'id")]
    NoSuchRecord {
        /// The kind of record.
        entity: Entity,
    },
    /// No action with that number in the plan.
    #[error("il piano non ha l'azione n. {id}: rileggere il piano (anist sidi diff)")]
    NoSuchAction {
        /// The number.
        id: usize,
    },
    /// The action takes no decision, or not this one.
    #[error(
        "la decisione «{decision}» non vale per l'azione n. {id} ({kind}): \
         scegliere una decisione ammessa per quell'azione"
    )]
    DecisionNotAllowed {
        /// The action.
        id: usize,
        /// The decision given.
        decision: &'static str,
        /// The action's kind.
        kind: &'static str,
    },
}

impl ErrorCode for SidiError {
    fn code(&self) -> &'static str {
        match self {
            SidiError::Locked { .. } => "sidi_locked",
            SidiError::NoSuchRecord { .. } => "sidi_no_such_record",
            SidiError::NoSuchAction { .. } => "sidi_no_such_action",
            SidiError::DecisionNotAllowed { .. } => "sidi_decision_not_allowed",
        }
    }

    fn kind(&self) -> ErrorKind {
        match self {
            SidiError::Locked { .. } => ErrorKind::SidiLocked,
            SidiError::NoSuchRecord { .. }
            | SidiError::NoSuchAction { .. }
            | SidiError::DecisionNotAllowed { .. } => ErrorKind::Sidi,
        }
    }
}

#[doc(hidden)]
impl CodeSamples for SidiError {
    fn samples() -> Vec<Self> {
        vec![
            SidiError::Locked {
                field: SyncField::Denominazione,
            },
            SidiError::NoSuchRecord {
                entity: Entity::Alunno,
            },
            SidiError::NoSuchAction { id: 7 },
            SidiError::DecisionNotAllowed {
                id: 7,
                decision: "accept_sidi",
                kind: "import",
            },
        ]
    }
}
