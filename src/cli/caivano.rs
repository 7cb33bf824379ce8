//! The school-attendance check of resident minors (art. 12 DL 123/2023,
//! "decreto Caivano"): the job behind `anist caivano` and `anist demo`.
//!
//! It runs [`anist_client::bulk::BulkJob`] with the ANIST client of a
//! session taken from a configuration file (PDND) or from an in-process
//! sandbox, records every call in the audit trail, and reports progress.
//!
//! A job keeps its state in a journal (by default `<output>.journal`).
//! Running it again with `resume` continues where it stopped (a crash, a
//! kill, an exhausted quota) and produces the same output; without
//! `resume`, an existing journal is refused rather than silently reused.
//! A job that ends with every row answered removes its journal (it holds
//! the codes asked) unless `keep_journal`; one with rows that failed for a
//! transient reason keeps it, and `resume` asks those rows again.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use anist_client::anist::AnistClient;
use anist_client::audit::{AuditError, AuditLog};
use anist_client::bulk::{BulkError, BulkJob, JobOutcome, JobSpec, Progress};
use anist_client::call::CallError;
use anist_client::clock::SystemClock;
use anist_client::config::{Config, ConfigError};
use anist_client::sandbox::{Sandbox, SandboxConfig, SandboxError};
use anist_core::school::SchoolYear;
use anist_core::{ErrorCode, ErrorKind, Sent};

/// The bundled synthetic sample `anist demo` runs on (`examples/data/anagrafe.csv`:
/// Windows-1252, `;`, CRLF; invented people only).
pub const DEMO_SAMPLE: &[u8] = include_bytes!("../../examples/data/anagrafe.csv");
/// Data rows of [`DEMO_SAMPLE`].
pub const DEMO_ROWS: usize = 5000;

/// The seed of the sandbox `anist caivano` and `anist demo` start by default.
pub const DEFAULT_SANDBOX_SEED: u64 = 42;

/// Where the calls go.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// A sandbox started in-process with this seed (its answers are a pure
    /// function of the seed and the codice fiscale).
    Sandbox {
        /// The seed.
        seed: u64,
    },
    /// The e-services of a configuration file (`anist.toml`).
    Config(PathBuf),
}

/// What `anist caivano` is asked to do.
#[derive(Debug, Clone)]
pub struct CaivanoArgs {
    /// The municipal CSV.
    pub input: PathBuf,
    /// The output CSV.
    pub output: PathBuf,
    /// The school year checked.
    pub school_year: SchoolYear,
    /// The codice fiscale column (header name or alias); found by alias when `None`.
    pub column: Option<String>,
    /// The journal (default: `<output>.journal`).
    pub journal: Option<PathBuf>,
    /// The audit database (default: `anist-audit.sqlite` beside the output);
    /// its secret is `<audit>.key`.
    pub audit: Option<PathBuf>,
    /// Continue the job of an existing journal.
    pub resume: bool,
    /// Where the calls go.
    pub target: Target,
    /// Single calls in flight (default 16).
    pub concurrency: Option<usize>,
    /// Never use the massive services.
    pub no_massive: bool,
    /// Keep the journal of a finished job (by default a job that ends with
    /// every row answered removes it: it holds the codes asked).
    pub keep_journal: bool,
}

/// A job's journal: `journal` if given, else `<output>.journal`.
pub fn default_journal(journal: Option<&Path>, output: &Path) -> PathBuf {
    journal.map(Path::to_path_buf).unwrap_or_else(|| {
        let mut p = output.to_path_buf().into_os_string();
        p.push(".journal");
        PathBuf::from(p)
    })
}

/// A job's audit database: `audit` if given, else `anist-audit.sqlite`
/// beside `output`.
pub fn default_audit(audit: Option<&Path>, output: &Path) -> PathBuf {
    audit.map(Path::to_path_buf).unwrap_or_else(|| {
        output
            .parent()
            .unwrap_or_else(|| Path::new(""))
            .join("anist-audit.sqlite")
    })
}

/// Opens a job's audit trail ([`default_audit`]; its secret is
/// `<audit>.key`).
///
/// # Errors
/// [`AuditError`] when it cannot be opened or created.
pub fn open_audit(audit: Option<&Path>, output: &Path) -> Result<AuditLog, AuditError> {
    AuditLog::open_beside(&default_audit(audit, output))
}

impl CaivanoArgs {
    /// The journal path.
    pub fn journal_path(&self) -> PathBuf {
        default_journal(self.journal.as_deref(), &self.output)
    }

    /// The audit database path.
    pub fn audit_path(&self) -> PathBuf {
        default_audit(self.audit.as_deref(), &self.output)
    }
}

/// Why the job could not run. Every variant has a stable code.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CaivanoError {
    /// A journal exists and `resume` was not asked.
    #[error("esiste già il giornale di questo lavoro ({0}): ripeti il comando con --resume per continuarlo, oppure cancellalo per ricominciare da capo")]
    JournalExists(PathBuf),
    /// `resume` was asked and there is no journal.
    #[error("non c'è un giornale da riprendere in {0}: togli --resume per avviare il lavoro (un lavoro finito senza errori cancella il suo giornale, salvo --keep-journal)")]
    NothingToResume(PathBuf),
    /// The configuration could not be used.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// The sandbox could not start.
    #[error(transparent)]
    Sandbox(#[from] SandboxError),
    /// The session could not be built.
    #[error(transparent)]
    Session(#[from] CallError),
    /// The audit trail could not be opened.
    #[error(transparent)]
    Audit(#[from] AuditError),
    /// The job failed.
    #[error(transparent)]
    Bulk(#[from] BulkError),
    /// The async runtime could not start.
    #[error("the async runtime could not start: {0}")]
    Runtime(String),
}

impl ErrorCode for CaivanoError {
    fn code(&self) -> &'static str {
        match self {
            CaivanoError::JournalExists(_) => "caivano_journal_exists",
            CaivanoError::NothingToResume(_) => "caivano_no_journal",
            CaivanoError::Config(e) => e.code(),
            CaivanoError::Sandbox(e) => e.code(),
            CaivanoError::Session(e) => e.code(),
            CaivanoError::Audit(e) => e.code(),
            CaivanoError::Bulk(e) => e.code(),
            CaivanoError::Runtime(_) => "caivano_runtime",
        }
    }

    fn kind(&self) -> ErrorKind {
        match self {
            CaivanoError::JournalExists(_) | CaivanoError::NothingToResume(_) => ErrorKind::Job,
            CaivanoError::Config(e) => e.kind(),
            CaivanoError::Sandbox(e) => e.kind(),
            CaivanoError::Session(e) => e.kind(),
            CaivanoError::Audit(e) => e.kind(),
            CaivanoError::Bulk(e) => e.kind(),
            CaivanoError::Runtime(_) => ErrorKind::Local,
        }
    }

    fn request_sent(&self) -> Option<Sent> {
        self.wrapped().and_then(ErrorCode::request_sent)
    }

    fn retry_after(&self) -> Option<Duration> {
        self.wrapped().and_then(ErrorCode::retry_after)
    }
}

impl CaivanoError {
    /// The error this one shows the code of, when it wraps one.
    fn wrapped(&self) -> Option<&dyn ErrorCode> {
        match self {
            CaivanoError::Config(e) => Some(e),
            CaivanoError::Sandbox(e) => Some(e),
            CaivanoError::Session(e) => Some(e),
            CaivanoError::Audit(e) => Some(e),
            CaivanoError::Bulk(e) => Some(e),
            CaivanoError::JournalExists(_)
            | CaivanoError::NothingToResume(_)
            | CaivanoError::Runtime(_) => None,
        }
    }
}

/// Runs (or resumes) the job, blocking, calling `progress` as it goes.
///
/// # Errors
/// [`CaivanoError`]; a job paused by an exhausted quota is not an error
/// ([`JobOutcome::Paused`]).
pub fn run(
    args: &CaivanoArgs,
    progress: impl Fn(&Progress) + Send + Sync,
) -> Result<JobOutcome, CaivanoError> {
    // Before anything is created beside it (journal, audit trail).
    anist_client::bulk::check_output_dir(&args.output)?;
    let journal = args.journal_path();
    match (journal.exists(), args.resume) {
        (true, false) => return Err(CaivanoError::JournalExists(journal)),
        (false, true) => return Err(CaivanoError::NothingToResume(journal)),
        _ => {}
    }
    let runtime =
        anist_client::blocking::runtime().map_err(|e| CaivanoError::Runtime(e.to_string()))?;
    runtime.block_on(run_async(args, journal, progress))
}

async fn run_async(
    args: &CaivanoArgs,
    journal: PathBuf,
    progress: impl Fn(&Progress) + Send + Sync,
) -> Result<JobOutcome, CaivanoError> {
    let mut spec = JobSpec::new(&args.input, &args.output, journal, args.school_year);
    spec.cf_column = args.column.clone();
    if let Some(c) = args.concurrency {
        spec.options.concurrency = c.max(1);
    }
    spec.options.use_massive = !args.no_massive;
    spec.options.keep_journal = args.keep_journal;
    let audit = open_audit(args.audit.as_deref(), &args.output)?;

    let (session, sandbox) = match &args.target {
        Target::Sandbox { seed } => {
            // The sandbox treats the job's school year as the current one,
            // so that any year asked shows the whole mix of outcomes.
            let config =
                SandboxConfig::with_default_client(*seed)?.current_school_year(args.school_year);
            let handle = Sandbox::start(config).await?;
            // The sandbox finishes a massive job in well under a second.
            spec.options.poll_interval = Duration::from_millis(100);
            (handle.session()?, Some(handle))
        }
        Target::Config(path) => {
            let config = Config::load(path)?;
            // The configured budget, unless the command line says otherwise.
            if let (None, Some(c)) = (args.concurrency, config.limits.concurrency) {
                spec.options.concurrency = usize::try_from(c).unwrap_or(1).max(1);
            }
            (config.session(Arc::new(SystemClock))?, None)
        }
    };
    // The operator and each e-service's own purpose go into the audit trail.
    spec.options.audit_identity(&session);
    let client = AnistClient::new(Arc::new(session));
    let outcome = BulkJob::new(spec)
        .run(&client, Some(&audit), progress)
        .await?;
    if let Some(handle) = sandbox {
        handle.shutdown().await;
    }
    Ok(outcome)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds() {
        let cases = [
            (CaivanoError::JournalExists("j".into()), ErrorKind::Job),
            (CaivanoError::NothingToResume("j".into()), ErrorKind::Job),
            (CaivanoError::Runtime("x".into()), ErrorKind::Local),
        ];
        for (e, kind) in cases {
            assert_eq!(e.kind(), kind, "{}", e.code());
            assert_eq!((e.request_sent(), e.retry_after()), (None, None));
        }
    }
}
