//! Shared jobs from the command line (#19): `anist caivano --config F
//! --detach` submits a job to the configuration's `[database]`, `anist
//! worker --config F` works on its jobs (as many processes and hosts as
//! wanted), `anist jobs --config F` says where they stand, from any host.
//!
//! The database is PostgreSQL (several hosts) or a SQLite file (several
//! processes of one host); the audit trail is in the same database (one
//! hash chain, whatever the number of workers), its secret in the file
//! `[database] audit_key` names, the same on every host.
//!
//! The ente's budget is `[limits]`: with a database, `rate_per_second`
//! and `daily_calls` are the budget of each e-service for every worker
//! together (kept in the database), not of one process.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use anist_client::anist::AnistClient;
use anist_client::audit::{AuditEntry, AuditError, AuditLog};
use anist_client::bulk::shared::{
    Budget, Cancellation, SharedJobStatus, SharedJobs, WorkerOptions, WorkerReport,
};
use anist_client::bulk::{BulkError, JobSpec};
use anist_client::clock::SystemClock;
use anist_client::config::{Config, ConfigError, DatabaseConfig};
use anist_client::pg::PgError;
use anist_core::school::SchoolYear;
use anist_core::{ErrorCode, ErrorKind, Sent};

/// Why a shared-job command could not run. Every variant has a stable code.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SharedCmdError {
    /// The configuration has no `[database]`.
    #[error("la configurazione {0} non ha una sezione [database]: aggiungila (url = \"postgres://…\" o il percorso di un file SQLite) per lavorare con più worker")]
    NoDatabase(PathBuf),
    /// The password variable is not set.
    #[error("la variabile {0} con la password del database non è impostata: impostala prima di avviare il comando")]
    PasswordEnv(String),
    /// No job with that number.
    #[error("nel database non c'è il lavoro {0}: `anist jobs --config FILE` elenca i lavori")]
    NoSuchJob(i64),
    /// The job is not running (its output being written, done or
    /// cancelled): it cannot be cancelled.
    #[error("il lavoro {id} non è in corso ({}): si annulla solo un lavoro in corso; `anist jobs --config FILE --id {id}` dice dove si trova", state_it(.state))]
    NotRunning {
        /// The job.
        id: i64,
        /// Its state (`writing`, `done`, `cancelled`).
        state: String,
    },
    /// The configuration could not be read.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// The database could not be reached.
    #[error(transparent)]
    Pg(#[from] PgError),
    /// The job or the store failed.
    #[error(transparent)]
    Bulk(#[from] BulkError),
    /// The audit trail could not be opened.
    #[error(transparent)]
    Audit(#[from] AuditError),
    /// The async runtime could not start.
    #[error("the async runtime could not start: {0}")]
    Runtime(String),
}

impl ErrorCode for SharedCmdError {
    fn code(&self) -> &'static str {
        match self {
            SharedCmdError::NoDatabase(_) => "shared_no_database",
            SharedCmdError::PasswordEnv(_) => "shared_password_env",
            SharedCmdError::NoSuchJob(_) => "shared_no_such_job",
            SharedCmdError::NotRunning { .. } => "shared_job_not_running",
            SharedCmdError::Config(e) => e.code(),
            SharedCmdError::Pg(e) => e.code(),
            SharedCmdError::Bulk(e) => e.code(),
            SharedCmdError::Audit(e) => e.code(),
            SharedCmdError::Runtime(_) => "shared_runtime",
        }
    }

    fn kind(&self) -> ErrorKind {
        match self {
            SharedCmdError::NoDatabase(_) | SharedCmdError::PasswordEnv(_) => ErrorKind::Config,
            SharedCmdError::NoSuchJob(_) | SharedCmdError::NotRunning { .. } => ErrorKind::Job,
            SharedCmdError::Config(e) => e.kind(),
            SharedCmdError::Pg(e) => e.kind(),
            SharedCmdError::Bulk(e) => e.kind(),
            SharedCmdError::Audit(e) => e.kind(),
            SharedCmdError::Runtime(_) => ErrorKind::Local,
        }
    }

    fn request_sent(&self) -> Option<Sent> {
        None
    }
}

/// The shared database of a configuration: its jobs and its audit trail.
pub struct Shared {
    /// The jobs.
    pub jobs: SharedJobs,
    /// The audit trail.
    pub audit: AuditLog,
    /// How long a worker holds what it claimed.
    pub lease: Duration,
}

fn database(config: &Config) -> Result<&DatabaseConfig, SharedCmdError> {
    config.database.as_ref().ok_or_else(|| {
        SharedCmdError::NoDatabase(config.origin().map(Path::to_path_buf).unwrap_or_default())
    })
}

/// The PostgreSQL connection of `config`'s `[database]` and the audit
/// trail's key, when it is PostgreSQL (`None`: a SQLite file).
///
/// # Errors
/// [`SharedCmdError`].
pub fn postgres(
    config: &Config,
) -> Result<Option<(Arc<anist_client::pg::Database>, PathBuf)>, SharedCmdError> {
    let db = database(config)?;
    if !db.is_postgres() {
        return Ok(None);
    }
    Ok(Some((connect(config, db)?, audit_key(config, db))))
}

/// A new connection to the PostgreSQL `db` of `config` (its password from
/// the variable it names, its CA bundle).
fn connect(
    config: &Config,
    db: &DatabaseConfig,
) -> Result<Arc<anist_client::pg::Database>, SharedCmdError> {
    let password = match &db.password_env {
        Some(var) => {
            Some(std::env::var(var).map_err(|_| SharedCmdError::PasswordEnv(var.clone()))?)
        }
        None => None,
    };
    let ca = db.ca_bundle.as_deref().map(|p| config.resolve_path(p));
    Ok(Arc::new(anist_client::pg::Database::connect_with(
        &db.url,
        password.as_deref(),
        ca.as_deref(),
    )?))
}

fn audit_key(config: &Config, db: &DatabaseConfig) -> PathBuf {
    config.resolve_path(
        db.audit_key
            .as_deref()
            .unwrap_or_else(|| Path::new("anist-audit.key")),
    )
}

/// Opens the `[database]` of `config` (schemas created or upgraded).
///
/// # Errors
/// [`SharedCmdError`].
pub fn open(config: &Config) -> Result<Shared, SharedCmdError> {
    let db = database(config)?;
    let lease = Duration::from_secs(db.lease_seconds.unwrap_or(60).max(1));
    if db.is_postgres() {
        // The trail on a connection of its own: its writes wait for the
        // head's lock, not for the jobs' statements.
        return Ok(Shared {
            jobs: SharedJobs::open_postgres(connect(config, db)?)?,
            audit: AuditLog::open_postgres(
                connect(config, db)?,
                &audit_key(config, db),
                Arc::new(SystemClock),
            )?,
            lease,
        });
    }
    let path = config.resolve_path(Path::new(&db.url));
    let trail = path.with_file_name("anist-audit.sqlite");
    Ok(Shared {
        jobs: SharedJobs::open_sqlite(&path)?,
        audit: AuditLog::open(&trail, &audit_key(config, db))?,
        lease,
    })
}

/// Submits a `caivano` job of `input` (output `out`) to the database of
/// the configuration at `path`; its number.
///
/// # Errors
/// [`SharedCmdError`].
pub fn submit(
    path: &Path,
    input: &Path,
    out: &Path,
    school_year: SchoolYear,
    column: Option<String>,
) -> Result<i64, SharedCmdError> {
    let config = Config::load(path)?;
    let shared = open(&config)?;
    let mut spec = JobSpec::new(input, out, PathBuf::new(), school_year);
    spec.cf_column = column;
    spec.options.operator = config
        .operator
        .as_ref()
        .map(|o| o.user_id.clone())
        .unwrap_or_default();
    Ok(shared.jobs.submit(&spec)?)
}

/// Where the jobs of the database stand (one, or all).
///
/// # Errors
/// [`SharedCmdError`].
pub fn status(path: &Path, id: Option<i64>) -> Result<Vec<SharedJobStatus>, SharedCmdError> {
    let config = Config::load(path)?;
    let shared = open(&config)?;
    match id {
        Some(id) => Ok(vec![shared
            .jobs
            .status(id)?
            .ok_or(SharedCmdError::NoSuchJob(id))?]),
        None => Ok(shared.jobs.list()?),
    }
}

/// Cancels the running job `id` of the database of the configuration at
/// `path` ([`SharedJobs::cancel`]: its codes forgotten at once, no
/// output) and records who did it in the shared audit trail; its status.
///
/// # Errors
/// [`SharedCmdError`]: `shared_no_such_job`, `shared_job_not_running`
/// (its output being written, done or cancelled already).
pub fn cancel(path: &Path, id: i64) -> Result<SharedJobStatus, SharedCmdError> {
    let config = Config::load(path)?;
    let shared = open(&config)?;
    match shared.jobs.cancel(id)? {
        Cancellation::Cancelled(status) => {
            let operator = config
                .operator
                .as_ref()
                .map(|o| o.user_id.clone())
                .unwrap_or_default();
            let job = id.to_string();
            shared.audit.record(&AuditEntry {
                operator: &operator,
                purpose: "shared_jobs",
                eservice: "anist-shared-jobs",
                operation: "cancel",
                subject: None,
                outcome: "ok",
                correlation_id: Some(&job),
                govway_id: None,
            })?;
            Ok(status)
        }
        Cancellation::NotRunning(status) => Err(SharedCmdError::NotRunning {
            id,
            state: status.state,
        }),
        Cancellation::NoSuchJob => Err(SharedCmdError::NoSuchJob(id)),
    }
}

/// What `anist worker` is asked to do.
#[derive(Debug, Clone, Default)]
pub struct WorkerArgs {
    /// The configuration file.
    pub config: PathBuf,
    /// Stop when no job is left.
    pub once: bool,
    /// Single calls in flight (default: `[limits] concurrency`, else 16).
    pub concurrency: Option<usize>,
    /// The worker's name in the leases (default `host:pid`).
    pub name: Option<String>,
}

/// Runs a worker on the database's jobs, blocking.
///
/// # Errors
/// [`SharedCmdError`].
pub fn work(args: &WorkerArgs) -> Result<WorkerReport, SharedCmdError> {
    let config = Config::load(&args.config)?;
    let shared = open(&config)?;
    let mut opts = WorkerOptions {
        lease: shared.lease,
        once: args.once,
        ..WorkerOptions::default()
    };
    if let Some(name) = &args.name {
        opts.worker = format!("{name}:{}", std::process::id());
    }
    // The budget is every worker's, in the database: the session's own
    // per-process limiter would only slow one worker further.
    if let Some(r) = config.limits.rate_per_second {
        opts.budget = Some(Budget {
            per_second: f64::from(r),
            daily: config.limits.daily_calls.unwrap_or(u64::MAX / 2),
        });
    } else if let Some(daily) = config.limits.daily_calls {
        opts.budget = Some(Budget {
            per_second: 0.0,
            daily,
        });
    }
    opts.job.concurrency = args
        .concurrency
        .or(config
            .limits
            .concurrency
            .and_then(|c| usize::try_from(c).ok()))
        .unwrap_or(opts.job.concurrency)
        .max(1);
    let mut session_config = config.clone();
    session_config.limits.rate_per_second = None;
    session_config.limits.daily_calls = None;
    let runtime =
        anist_client::blocking::runtime().map_err(|e| SharedCmdError::Runtime(e.to_string()))?;
    runtime.block_on(async {
        let session = session_config.session(Arc::new(SystemClock))?;
        opts.job.audit_identity(&session);
        let client = AnistClient::new(Arc::new(session));
        Ok(shared
            .jobs
            .work(&client, Some(&shared.audit), &opts)
            .await?)
    })
}

/// Verifies the configuration's shared audit trail: the rows of the one
/// hash chain.
///
/// # Errors
/// [`SharedCmdError`]; [`AuditError::Tampered`] inside it when a row was
/// changed.
pub fn verify_audit(path: &Path) -> Result<u64, SharedCmdError> {
    let config = Config::load(path)?;
    let shared = open(&config)?;
    Ok(shared.audit.verify()?)
}

/// A job's state in Italian.
fn state_it(state: &str) -> &str {
    match state {
        "running" => "in corso",
        "writing" => "scrittura dell'esito",
        "done" => "concluso",
        "cancelled" => "annullato",
        other => other,
    }
}

/// One line of `anist jobs`, in Italian.
pub fn render(s: &SharedJobStatus) -> String {
    let state = state_it(&s.state);
    let o = &s.outcomes;
    format!(
        "lavoro {}: {state}, {} di {} righe (conformi {}, da verificare {}, non in ANIST {}, non in obbligo {}, codici non validi {}, errori {}), anno {}, esito {}",
        s.id,
        s.rows_done,
        s.rows_total,
        o.compliant,
        o.to_be_checked,
        o.not_in_anist,
        o.not_obliged,
        o.invalid_code,
        o.error,
        s.school_year,
        s.output
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_kinds_and_what_to_do_next() {
        let cases = [
            (
                SharedCmdError::NoDatabase("a.toml".into()),
                "shared_no_database",
                ErrorKind::Config,
                "aggiungila",
            ),
            (
                SharedCmdError::PasswordEnv("PW".into()),
                "shared_password_env",
                ErrorKind::Config,
                "impostala",
            ),
            (
                SharedCmdError::NoSuchJob(3),
                "shared_no_such_job",
                ErrorKind::Job,
                "anist jobs",
            ),
            (
                SharedCmdError::NotRunning {
                    id: 3,
                    state: String::from("done"),
                },
                "shared_job_not_running",
                ErrorKind::Job,
                "(concluso): si annulla solo un lavoro in corso; `anist jobs --config FILE --id 3`",
            ),
        ];
        for (e, code, kind, next_step) in cases {
            assert_eq!(e.code(), code);
            assert_eq!(e.kind(), kind, "{code}");
            // The message says what to do next, in Italian.
            assert!(e.to_string().contains(next_step), "{code}: {e}");
            assert_eq!(e.request_sent(), None);
        }
    }
}
