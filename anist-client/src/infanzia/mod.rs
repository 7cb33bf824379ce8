//! The Comune's side of the Piemonte 0–3 survey ("SERVIZI 03"): the form
//! kept in a SQLite file (mode 0600), tolerant readers of the services
//! registry and of the attendance registers, and the exports (CSV for
//! Italian Excel, JSON, a printable summary). The rules are in
//! [`anist_core::infanzia`].
//!
//! ```
//! use anist_client::infanzia::{read_registers, read_registry, summary_text, FormStore};
//! use anist_core::infanzia::{Form, SurveyConfig};
//!
//! let registry = "Codice;Tipologia;Denominazione;Indirizzo;Gestore;Posti;Provvedimento;Data provvedimento\n\
//!                 S1;Micro-nido;Il Bruco;Via Verdi 2;Coop. Esempio;18;Det. 5/2019;02/09/2019\n";
//! let read = read_registry(registry.as_bytes())?;
//! assert!(read.errors.is_empty());
//! let mut form = Form::new("Comune di Esempio", SurveyConfig::piemonte_2026(), read.services);
//! let registers = "Servizio;Mese;Frequentanti\nS1;03/2025;15\nS1;04/2025;17\n";
//! let counts = read_registers(registers.as_bytes())?;
//! counts.apply(&mut form)?;
//! assert!(form.check().is_empty());
//!
//! let dir = std::env::temp_dir().join(format!("anist-doc-infanzia-{}", std::process::id()));
//! std::fs::create_dir_all(&dir)?;
//! let store = FormStore::open(&dir.join("servizi03.db"))?;
//! store.save(&form, "import")?;
//! assert_eq!(store.load()?.as_ref(), Some(&form));
//! assert!(summary_text(&form).contains("Il Bruco"));
//! # std::fs::remove_dir_all(&dir)?;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod export;
mod read;
mod store;

use std::path::PathBuf;

use anist_core::infanzia::InfanziaError;
use anist_core::{CodeSamples, ErrorCode, ErrorKind};

pub use export::{form_from_json, form_json, form_to_json, summary_text, write_form_csv};
pub use read::{read_registers, read_registry, RegisterRead, RegistryRead, RowProblem};
pub use store::FormStore;

/// Why a file of the survey could not be read or written.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum InfanziaFileError {
    /// The form's database cannot be opened, read or written.
    #[error("archivio del modulo {path}: {reason}")]
    Store {
        /// The database file.
        path: PathBuf,
        /// What went wrong.
        reason: String,
    },
    /// The database holds no form yet.
    #[error("nessun modulo in {path}: importare prima l'elenco dei servizi (anist infanzia import-registry)")]
    NoForm {
        /// The database file.
        path: PathBuf,
    },
    /// A CSV file cannot be read at all (no header, unreadable encoding…).
    #[error("file CSV illeggibile [{code}]: {reason}")]
    Csv {
        /// The stable code of the CSV error (`csv_*`).
        code: &'static str,
        /// What went wrong.
        reason: String,
    },
    /// A required column is not in the header.
    #[error("manca la colonna {wanted:?} (o un suo sinonimo) nell'intestazione del file")]
    MissingColumn {
        /// The column, by its Italian name.
        wanted: &'static str,
    },
    /// A form in JSON that cannot be read.
    #[error("modulo in JSON illeggibile: {reason}")]
    Json {
        /// What went wrong.
        reason: String,
    },
    /// Writing an export failed.
    #[error("scrittura non riuscita: {reason}")]
    Write {
        /// What went wrong.
        reason: String,
    },
    /// A rule of the form refused the operation.
    #[error(transparent)]
    Form(#[from] InfanziaError),
}

impl ErrorCode for InfanziaFileError {
    fn code(&self) -> &'static str {
        match self {
            InfanziaFileError::Store { .. } => "infanzia_store",
            InfanziaFileError::NoForm { .. } => "infanzia_no_form",
            InfanziaFileError::Csv { .. } => "infanzia_csv",
            InfanziaFileError::MissingColumn { .. } => "infanzia_missing_column",
            InfanziaFileError::Json { .. } => "infanzia_json",
            InfanziaFileError::Write { .. } => "infanzia_write",
            InfanziaFileError::Form(e) => e.code(),
        }
    }

    fn kind(&self) -> ErrorKind {
        match self {
            InfanziaFileError::Store { .. }
            | InfanziaFileError::NoForm { .. }
            | InfanziaFileError::Csv { .. }
            | InfanziaFileError::MissingColumn { .. }
            | InfanziaFileError::Json { .. }
            | InfanziaFileError::Write { .. } => ErrorKind::Infanzia,
            InfanziaFileError::Form(e) => e.kind(),
        }
    }
}

#[doc(hidden)]
impl CodeSamples for InfanziaFileError {
    fn samples() -> Vec<Self> {
        vec![
            InfanziaFileError::Store {
                path: PathBuf::from("servizi03.db"),
                reason: "database is locked".into(),
            },
            InfanziaFileError::NoForm {
                path: PathBuf::from("servizi03.db"),
            },
            InfanziaFileError::Csv {
                code: "csv_empty",
                reason: "the file has no header line".into(),
            },
            InfanziaFileError::MissingColumn { wanted: "Codice" },
            InfanziaFileError::Json {
                reason: "expected an object".into(),
            },
            InfanziaFileError::Write {
                reason: "permission denied".into(),
            },
            // InfanziaError's own samples are in anist-core.
            InfanziaFileError::Form(InfanziaError::ReasonMissing),
        ]
    }
}

impl InfanziaFileError {
    /// Every code of this type besides those of [`InfanziaError`].
    pub const CODES: &'static [&'static str] = &[
        "infanzia_store",
        "infanzia_no_form",
        "infanzia_csv",
        "infanzia_missing_column",
        "infanzia_json",
        "infanzia_write",
    ];
}
