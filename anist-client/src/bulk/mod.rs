//! The resumable bulk attendance job: a municipal CSV of codici fiscali in,
//! one outcome per input row out, every answer journaled in SQLite before
//! it is counted.
//!
//! # What a job does
//!
//! 1. **Reads the input** with anist-core's tolerant reader (any encoding
//!    and delimiter it supports; the codice fiscale column found by header
//!    alias or named by the caller; a one-column list of codes without a
//!    header is accepted too) and records every row in the journal.
//! 2. **Decides locally** what needs no call: an invalid code is
//!    `invalid_code` with its `cf_*` code and is never sent; a person
//!    outside compulsory education in the job's school year (by the birth
//!    date in the code, century chosen relative to the end of the school
//!    year) is `not_obliged`; an 11-digit code is not asked (the ANIST
//!    contract queries 16-character codes or ID ANPR): `error` with
//!    `bulk_numeric_code` when it may be a person's provisional code,
//!    `invalid_code` with `bulk_not_a_person` otherwise; an unreadable CSV
//!    record is `error` with its `csv_*` code.
//! 3. **De-duplicates**: rows with the same code (as normalised by
//!    [`CodiceFiscale::parse`](anist_core::cf::CodiceFiscale::parse);
//!    omocodic variants are different people) are asked about once.
//! 4. **Verifies** each distinct obliged code for the job's school year,
//!    then **ascertains** those ANIST says are not attending, for the
//!    job's year and the previous one, and combines the answers with
//!    [`compliance_outcome`](anist_core::attendance::compliance_outcome).
//!    With [`AttendanceService::has_massive`](crate::anist::AttendanceService::has_massive), batches go through the
//!    massive services (submit → poll → fetch), the job id journaled right
//!    after the submit so that a resumed job polls it instead of submitting
//!    again; otherwise single calls run concurrently.
//! 5. **Writes the output** from the journal, to a temporary file renamed
//!    into place: the same journal always gives the same bytes.
//!
//! # Failures, quota, interruptions
//!
//! A retryable error ([`AnistError::is_retryable`](crate::anist::AnistError::is_retryable))
//! is retried with capped exponential backoff and full jitter (honouring
//! the gateway's `Retry-After`); after [`JobOptions::max_attempts`] the
//! row's outcome is `error` with the error's stable code. An exhausted
//! quota stops the job cleanly: calls in flight are awaited and journaled,
//! nothing further is sent, and [`BulkJob::run`] returns
//! [`JobOutcome::Paused`]. Running the job again on the same journal
//! resumes it.
//!
//! To interrupt a job, drop its future (or kill the process): every answer
//! is committed to the journal (SQLite, WAL) before it is counted, so a
//! resumed job loses no row, duplicates none and does not ask again what
//! was answered. Only the calls in flight at the moment of the interruption
//! (at most [`JobOptions::concurrency`], or one massive submit whose id was
//! not yet journaled) are asked again. The journal survives a crash of the
//! process at any point; a power cut may lose its last transactions, which
//! are then asked again.
//!
//! # Output columns
//!
//! `riga` (the physical line of the input where the row starts; the header
//! is line 1), `codice_fiscale` (as written in the input), `esito`
//! (`compliant`, `to_be_checked`, `not_in_anist`, `not_obliged`,
//! `invalid_code`, `error`), `motivo` (the reason or the error code),
//! `obbligo` (`not_yet_obliged`, `compulsory`, `diritto_dovere`, `beyond`),
//! `frequentante` (`true` / `false`, as verified), `esito_frequenza` (the
//! ANIST code 1-4), `codice_istituto`, `denominazione_istituto`,
//! `codice_plesso`, `denominazione_plesso`, `anno_corso`,
//! `anno_scolastico_record` (the school year of the detailed record shown:
//! the job's year, or the previous one when only that has a record).
//!
//! ```no_run
//! # async fn demo<S: anist_client::anist::AttendanceService>(svc: &S) -> Result<(), anist_client::bulk::BulkError> {
//! use anist_client::bulk::{BulkJob, JobOutcome, JobSpec};
//! let year = "2025/26".parse().unwrap();
//! let job = BulkJob::new(JobSpec::new("alunni.csv", "esiti.csv", "alunni.journal", year));
//! match job.run(svc, None, |p| eprintln!("{}/{}", p.rows_done, p.rows_total)).await? {
//!     JobOutcome::Completed(summary) => println!("{} rows", summary.rows_total),
//!     JobOutcome::Paused { reason, .. } => println!("paused: {reason}; run again later"),
//! }
//! # Ok(()) }
//! ```

use std::path::PathBuf;
use std::time::Duration;

use anist_core::csvio::CsvError;
use anist_core::school::SchoolYear;
use anist_core::{CodeSamples, ErrorCode, ErrorKind};
use serde::Serialize;

use crate::audit::AuditError;

pub mod anpr_massiva;
mod engine;
mod exec;
mod input;
pub mod isee;
mod journal;
mod output;

pub use engine::Counts;
pub use exec::BulkJob;
pub use input::{code_column, CodeColumn, CodeKind};

/// What a job works on, and how.
#[derive(Debug, Clone)]
pub struct JobSpec {
    /// The municipal CSV.
    pub input: PathBuf,
    /// Where the output CSV is written (replaced at the end of the job).
    pub output: PathBuf,
    /// The journal (one SQLite file per job; created if missing, resumed
    /// otherwise).
    pub journal: PathBuf,
    /// The school year checked (its previous year is ascertained too).
    pub school_year: SchoolYear,
    /// The codice fiscale column, by header name or alias; `None` finds it
    /// through the built-in aliases.
    pub cf_column: Option<String>,
    /// Operational options (they may change when resuming).
    pub options: JobOptions,
}

impl JobSpec {
    /// A job with the default options and the codice fiscale column found
    /// by alias.
    pub fn new(
        input: impl Into<PathBuf>,
        output: impl Into<PathBuf>,
        journal: impl Into<PathBuf>,
        school_year: SchoolYear,
    ) -> Self {
        Self {
            input: input.into(),
            output: output.into(),
            journal: journal.into(),
            school_year,
            cf_column: None,
            options: JobOptions::default(),
        }
    }
}

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
    /// Attempts per call, the first included (default 4, at least 1).
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

/// Rows per outcome.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct OutcomeCounts {
    /// `compliant`.
    pub compliant: u64,
    /// `to_be_checked`.
    pub to_be_checked: u64,
    /// `not_in_anist`.
    pub not_in_anist: u64,
    /// `not_obliged`.
    pub not_obliged: u64,
    /// `invalid_code`.
    pub invalid_code: u64,
    /// `error`.
    pub error: u64,
}

impl OutcomeCounts {
    /// Adds `n` rows to the count of `esito` (a `ComplianceOutcome::as_str`
    /// name; an unknown name counts as `error`).
    pub fn add(&mut self, esito: &str, n: u64) {
        let slot = match esito {
            "compliant" => &mut self.compliant,
            "to_be_checked" => &mut self.to_be_checked,
            "not_in_anist" => &mut self.not_in_anist,
            "not_obliged" => &mut self.not_obliged,
            "invalid_code" => &mut self.invalid_code,
            _ => &mut self.error,
        };
        *slot += n;
    }

    /// All rows counted.
    pub fn total(&self) -> u64 {
        self.compliant
            + self.to_be_checked
            + self.not_in_anist
            + self.not_obliged
            + self.invalid_code
            + self.error
    }
}

/// Calls made by one run (attempts included, retries too).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct CallCounts {
    /// Single verifications.
    pub verify: u64,
    /// Single ascertainments.
    pub ascertain: u64,
    /// Massive submits.
    pub massive_submit: u64,
    /// Massive polls.
    pub massive_poll: u64,
    /// Massive fetches.
    pub massive_fetch: u64,
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

/// What a job did. `Serialize` for a JSON summary.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Summary {
    /// Rows in the input.
    pub rows_total: u64,
    /// Rows with their final outcome.
    pub rows_done: u64,
    /// Distinct valid codes (each asked about once, if obliged).
    pub distinct_codes: u64,
    /// Rows per outcome.
    pub outcomes: OutcomeCounts,
    /// Calls made by this run.
    pub calls: CallCounts,
    /// Retries made by this run.
    pub retries: u64,
    /// Duration of this run, in seconds.
    pub duration_seconds: f64,
    /// Rows of [`OutcomeCounts::error`] whose failure was transient (the
    /// network, a timeout, a 5xx, the token refused…): running the job
    /// again on its journal (which is then kept) asks them again.
    pub retry_rows: u64,
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
