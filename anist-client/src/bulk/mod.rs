//! Resumable bulk jobs: a municipal CSV in, one outcome per input row out,
//! every answer journaled in SQLite before it is counted.
//!
//! Three jobs share one machinery:
//!
//! - [`BulkJob`]: school attendance (ANIST), the `caivano` check;
//! - [`isee::IseeBatch`]: ISEE lookups (INPS);
//! - [`anpr_massiva::MassivaJob`]: ANPR identity data, massive then single.
//!
//! What they share: the journal (`meta`, one row per input row, one
//! question per distinct thing to ask, the job's answer columns and its
//! own tables: every state change one transaction, committed before it is
//! counted), the engine (bounded concurrency, retries with the one
//! [`Backoff`](crate::transport::Backoff) by the service's clock, the
//! quota pause, progress, the audit trail), the input's column and
//! fingerprint, and the output written whole ([`JobOptions`],
//! [`JobOutcome`], [`Progress`], [`BulkError`]). Each job decides a row's
//! outcome from its answers with a pure function of anist-core (the
//! attendance job with `attendance::decide_row`, the ISEE batch with
//! `isee::batch::RowOutcome`).

use std::path::PathBuf;
use std::time::Duration;

use anist_core::csvio::CsvError;
use anist_core::{CodeSamples, ErrorCode, ErrorKind};

use crate::audit::AuditError;

pub mod anpr_massiva;
pub mod attendance;
pub(crate) mod engine;
mod input;
pub mod isee;
mod journal;
pub(crate) mod output;

/// Shared attendance jobs: several workers, one database (#19).
pub use attendance::shared;
/// The attendance job's types, where round 1 put them.
pub use attendance::{BulkJob, CallCounts, JobSpec, OutcomeCounts, Summary};
pub use engine::Counts;
pub use input::{code_column, CodeColumn, CodeKind};

/// How a job runs. None of these changes the output: they may differ
/// between a run and its resumption.
#[derive(Debug, Clone)]
pub struct JobOptions {
    /// Single calls in flight at once (default 16, at least 1).
    pub concurrency: usize,
    /// Use the massive services when the service has them (default true).
    pub use_massive: bool,
    /// Codes per massive job (default 1000, at least 1).
    pub batch_size: usize,
    /// Wait between two polls of a massive job (default 5 s).
    pub poll_interval: Duration,
    /// Attempts per call, the first included (default 4, at least 1): the
    /// call's one retry budget, spent also by the layers below (the token
    /// request, the throttling, INPS's outages: [`crate::transport::budget`]).
    pub max_attempts: u32,
    /// First backoff step (default 500 ms): attempt `n` waits a random time
    /// up to `min(backoff_cap, backoff_base × 2ⁿ⁻¹)`, or the gateway's
    /// `Retry-After` when longer.
    pub backoff_base: Duration,
    /// Longest backoff (default 30 s).
    pub backoff_cap: Duration,
    /// Shortest interval between two progress reports (default 100 ms).
    pub progress_interval: Duration,
    /// The operator's user id, for the audit trail.
    pub operator: String,
    /// The PDND purpose id the calls are made under, for the audit trail,
    /// when [`Self::purposes`] does not name the e-service's own.
    pub purpose: String,
    /// The purpose id of each e-service (by session name, e.g.
    /// [`crate::anist::ACCERTAMENTO`]), for the audit trail: each ANIST
    /// e-service has its own purpose.
    pub purposes: std::collections::BTreeMap<String, String>,
    /// Keep the journal of a finished job (default false: a job that ends
    /// with every row answered removes its journal, which holds the codes
    /// asked; a job with rows to ask again keeps it for the resumption).
    pub keep_journal: bool,
}

impl JobOptions {
    /// Takes the audit identity of the job's calls from `session`: its
    /// operator and each e-service's purpose.
    pub fn audit_identity(&mut self, session: &crate::session::Session) {
        self.operator = session.operator_id();
        self.purposes = session.purposes();
    }
}

impl Default for JobOptions {
    fn default() -> Self {
        Self {
            concurrency: 16,
            use_massive: true,
            batch_size: 1000,
            poll_interval: Duration::from_secs(5),
            max_attempts: 4,
            backoff_base: Duration::from_millis(500),
            backoff_cap: Duration::from_secs(30),
            progress_interval: Duration::from_millis(100),
            operator: String::new(),
            purpose: String::new(),
            purposes: std::collections::BTreeMap::new(),
            keep_journal: false,
        }
    }
}

/// Where a job stands, as reported to the progress callback (`C`: the
/// job's counts per outcome).
#[derive(Debug, Clone, PartialEq)]
pub struct Progress<C = OutcomeCounts> {
    /// Rows with their final outcome (across runs of the job).
    pub rows_done: u64,
    /// Rows in the input.
    pub rows_total: u64,
    /// Final outcomes so far.
    pub outcomes: C,
    /// Rows finished per second during this run.
    pub rate: f64,
    /// Estimated time left, when the rate is known.
    pub eta: Option<Duration>,
}

/// How a run ended (`S`: the job's summary).
#[derive(Debug, Clone, PartialEq)]
pub enum JobOutcome<S = Summary> {
    /// Every row has its outcome; the output is written.
    Completed(S),
    /// The job stopped cleanly before the end (the quota is exhausted):
    /// what was answered is journaled; run it again later to resume. No
    /// output is written.
    Paused {
        /// Why, in words (no personal data).
        reason: String,
        /// The stable code of the cause (e.g. `gateway_quota_exceeded`).
        code: &'static str,
        /// Where the job stands.
        summary: S,
    },
}

/// Why a job could not run. Every variant has a stable `bulk_*`
/// [`ErrorCode::code`]; messages carry no codice fiscale.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum BulkError {
    /// The input could not be opened or read.
    #[error("il file di input {path} non si può leggere: {reason}")]
    Input {
        /// The input file.
        path: PathBuf,
        /// What went wrong.
        reason: String,
    },
    /// The input is not a CSV the reader accepts (empty, UTF-16, bad header).
    #[error("l'input non è un CSV leggibile ({code}): {source}", code = .0.code(), source = .0)]
    Csv(CsvError),
    /// No codice fiscale column.
    #[error("{0}")]
    Column(String),
    /// The journal could not be used.
    #[error("il giornale non si può usare ({reason}): controlla il percorso, i permessi e lo spazio libero")]
    Journal {
        /// What SQLite (or the journal check) said.
        reason: String,
    },
    /// The journal belongs to another job.
    #[error("il giornale è di un altro lavoro (diverso: {what}): usa un altro file di giornale (--journal), oppure rimetti com'era: {what}")]
    JournalMismatch {
        /// What differs: `file di input`, `anno scolastico`, `colonna del
        /// codice fiscale`, `servizio ISEE`….
        what: &'static str,
    },
    /// The output's directory does not exist.
    #[error("la cartella {0} dell'output non esiste: creala, o scegli con --out un file in una cartella esistente")]
    OutputDir(PathBuf),
    /// The output could not be written.
    #[error("il file di output {path} non si può scrivere: {reason}")]
    Output {
        /// The output file.
        path: PathBuf,
        /// What went wrong.
        reason: String,
    },
    /// A call could not be recorded in the audit trail: the job stops
    /// (nothing is asked that is not recorded).
    #[error("il lavoro si è fermato perché il registro di audit non funziona: {0}")]
    Audit(#[from] AuditError),
}

impl ErrorCode for BulkError {
    fn code(&self) -> &'static str {
        match self {
            BulkError::Input { .. } => "bulk_input",
            BulkError::Csv(_) => "bulk_csv",
            BulkError::Column(_) => "bulk_column",
            BulkError::Journal { .. } => "bulk_journal",
            BulkError::JournalMismatch { .. } => "bulk_journal_mismatch",
            BulkError::OutputDir(_) => "bulk_output_dir",
            BulkError::Output { .. } => "bulk_output",
            BulkError::Audit(_) => "bulk_audit",
        }
    }

    /// Always [`ErrorKind::Job`]: every variant has its own `bulk_*` code,
    /// whatever it wraps.
    fn kind(&self) -> ErrorKind {
        ErrorKind::Job
    }
}

#[doc(hidden)]
impl CodeSamples for BulkError {
    fn samples() -> Vec<Self> {
        vec![
            BulkError::Input {
                path: PathBuf::from("alunni.csv"),
                reason: "not found".into(),
            },
            BulkError::Csv(CsvError::Empty),
            BulkError::no_cf_column(),
            BulkError::Journal {
                reason: "database is locked".into(),
            },
            BulkError::JournalMismatch {
                what: "file di input",
            },
            BulkError::OutputDir(PathBuf::from("esiti")),
            BulkError::Output {
                path: PathBuf::from("esiti.csv"),
                reason: "permission denied".into(),
            },
            BulkError::Audit(AuditError::Storage {
                reason: "database is locked".into(),
            }),
        ]
    }
}

impl BulkError {
    /// No column of the input's header is a codice fiscale alias.
    pub(crate) fn no_cf_column() -> Self {
        BulkError::Column(String::from(
            "nessuna colonna del codice fiscale o dell'ID ANPR riconosciuta dall'intestazione (per esempio \"Codice fiscale\", \"CF\", \"ID ANPR\"): indica la colonna con --column",
        ))
    }

    /// No codice fiscale column for INPS, which is asked by codice
    /// fiscale only (`id_anpr`: the header has an ID ANPR column).
    pub(crate) fn no_cf_column_for_inps(id_anpr: bool) -> Self {
        BulkError::Column(if id_anpr {
            String::from(
                "l'input ha una colonna di ID ANPR, ma l'INPS si interroga solo per codice fiscale: aggiungi la colonna del codice fiscale (per esempio \"Codice fiscale\", \"CF\") o indicala con --column",
            )
        } else {
            String::from(
                "nessuna colonna del codice fiscale riconosciuta dall'intestazione (per esempio \"Codice fiscale\", \"CF\"): indica la colonna con --column",
            )
        })
    }

    /// The column named by the caller is not in the header.
    pub(crate) fn no_such_column(name: &str) -> Self {
        BulkError::Column(format!(
            "l'input non ha la colonna {name:?}: indica una delle colonne della sua intestazione (anist csv inspect FILE le elenca)"
        ))
    }
}

/// Checks that the directory of the output `path` exists (before anything
/// else of a job is created beside it: journal, audit trail).
///
/// # Errors
/// [`BulkError::OutputDir`] naming the missing directory.
pub fn check_output_dir(path: &std::path::Path) -> Result<(), BulkError> {
    match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() && !dir.is_dir() => {
            Err(BulkError::OutputDir(dir.to_path_buf()))
        }
        _ => Ok(()),
    }
}

/// Runs `prepare` (opening a journal and reading the input into it); when
/// it fails and the journal did not exist before, the journal's files are
/// removed, so that a job that could not start leaves nothing behind.
pub(crate) fn fresh_or_removed<J>(
    journal: &std::path::Path,
    prepare: impl FnOnce() -> Result<J, BulkError>,
) -> Result<J, BulkError> {
    let fresh = !journal.exists();
    let result = prepare();
    if result.is_err() && fresh {
        // Best effort: the error that stopped the job is the one to report.
        let _ = crate::files::remove_sqlite(journal);
    }
    result
}

/// Removes a finished job's journal unless `keep` (or rows remain to ask
/// again: `retry_rows`).
pub(crate) fn retire_journal(
    journal: &std::path::Path,
    keep: bool,
    retry_rows: u64,
) -> Result<(), BulkError> {
    if keep || retry_rows > 0 {
        return Ok(());
    }
    crate::files::remove_sqlite(journal).map_err(|e| BulkError::Journal {
        reason: format!("the finished job's journal could not be removed: {e}"),
    })
}

impl From<rusqlite::Error> for BulkError {
    fn from(e: rusqlite::Error) -> Self {
        BulkError::Journal {
            reason: e.to_string(),
        }
    }
}
