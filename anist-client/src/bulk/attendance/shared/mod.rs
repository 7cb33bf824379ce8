//! Shared attendance jobs (`caivano`): one job, several worker processes
//! on one or several hosts, one database.
//!
//! A job is **submitted** once ([`SharedJobs::submit`]): the input is read
//! and checked exactly as a local job reads it (the same classification,
//! de-duplication and local decisions), and its rows and distinct
//! questions are recorded in one transaction. Any number of **workers**
//! ([`SharedJobs::work`]) then share it:
//!
//! - **Claims with leases.** A worker claims a batch of questions for a
//!   step (`FOR UPDATE SKIP LOCKED` on PostgreSQL; SQLite's single writer
//!   on one host), each held until its lease expires. A worker killed
//!   mid-batch loses nothing: its questions return to the pool when the
//!   lease expires and another worker asks them.
//! - **Answers committed once.** An answer is recorded only if the
//!   question has none for that step, and the outcome only once: a late
//!   duplicate (a worker whose lease expired while it was still asking)
//!   changes nothing.
//! - **The output once.** When no question is left, one worker takes the
//!   writing (itself a lease), writes the output with the same writer as a
//!   local job (so the same answers give the same bytes), marks the job
//!   done and forgets its rows and questions (the codes asked); the
//!   counts stay for the status.
//! - **One rate budget.** With a [`Budget`], every call of every worker
//!   (retries included) first reserves its slot in the database (GCRA, one
//!   statement per call, the database's clock): together the workers
//!   send at most `per_second` calls per second per e-service, evenly
//!   paced, and at most `daily` calls a day; a spent quota pauses the
//!   worker like a local job's.
//!
//! Shared jobs use single calls (their unit of work is a question); a
//! local job uses the massive services where they pay.
//!
//! SQLite ([`SharedJobs::open_sqlite`]) serves several processes of one
//! host; PostgreSQL ([`SharedJobs::open_postgres`], feature `postgres`)
//! several hosts. Both run the same statements.

use std::cell::Cell;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use anist_core::school::SchoolYear;
use serde::Serialize;

use super::journal::{AnyStored, Journal, Params};
use super::output::{write_rows, SUBJECT_META};
use super::{ask, parse_cf, Counters, Ctx, JobSpec, OutcomeCounts, STEPS};
use crate::anist::AttendanceService;
use crate::audit::AuditLog;
use crate::bulk::engine::{pump, AskTask, Pause, Retrier};
use crate::bulk::{BulkError, JobOptions};

mod budget;
pub(crate) mod sql;
pub(crate) mod store;
#[cfg(test)]
mod tests;

pub use budget::Budget;
use budget::Budgeted;
use store::{JobStore, NewJob, SharedRow};

/// Where a shared job stands (any host can ask: [`SharedJobs::status`]).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SharedJobStatus {
    /// The job's number.
    pub id: i64,
    /// `running` (questions being asked), `writing` (the output is being
    /// written), `done`, or `cancelled` ([`SharedJobs::cancel`]: no
    /// output).
    pub state: String,
    /// The school year checked.
    pub school_year: String,
    /// Where the output is written (on the host of the worker that
    /// finishes the job).
    pub output: String,
    /// Rows in the input.
    pub rows_total: u64,
    /// Rows with their final outcome.
    pub rows_done: u64,
    /// Rows per outcome so far.
    pub outcomes: OutcomeCounts,
    /// When it was submitted (Unix milliseconds, the database's clock).
    pub submitted_unix_ms: i64,
    /// When its output was written.
    pub finished_unix_ms: Option<i64>,
}

/// How [`SharedJobs::cancel`] went.
#[derive(Debug, Clone, PartialEq)]
pub enum Cancellation {
    /// The job was running and is now cancelled: its status, with the rows
    /// decided before.
    Cancelled(SharedJobStatus),
    /// The job was not running (its output being written, done, or
    /// cancelled already) and is left as it is: its status.
    NotRunning(SharedJobStatus),
    /// There is no such job.
    NoSuchJob,
}

/// How a worker works.
#[derive(Debug, Clone)]
pub struct WorkerOptions {
    /// The worker's name in the leases (default: host name and process
    /// id); unique per process.
    pub worker: String,
    /// How long a claimed question stays the worker's (default 60 s):
    /// longer than a batch takes to answer, short enough that a dead
    /// worker's batch is soon asked by another.
    pub lease: Duration,
    /// Questions claimed at a time (default 32).
    pub claim: usize,
    /// A question whose calls failed for a transient reason to the last
    /// attempt (a 503, the network…) goes back to the pool, to be asked
    /// again by any worker after [`Self::defer_delay`], up to this many
    /// times (default 3) before the failure is its answer: a flapping
    /// service does not turn a row of a long job into an error.
    pub defer_rounds: u32,
    /// See [`Self::defer_rounds`] (default 2 s).
    pub defer_delay: Duration,
    /// Concurrency, attempts, backoff, the audit identity (`use_massive`
    /// and `batch_size` are not used).
    pub job: JobOptions,
    /// The shared rate budget (`None`: no pacing but the gateway's).
    pub budget: Option<Budget>,
    /// Stop when no job is left to work on (default `false`: wait for
    /// new jobs, polling every [`Self::idle`]).
    pub once: bool,
    /// The wait between two looks for work (default 2 s).
    pub idle: Duration,
}

impl Default for WorkerOptions {
    fn default() -> Self {
        Self {
            worker: default_worker_name(),
            lease: Duration::from_secs(60),
            claim: 32,
            defer_rounds: 3,
            defer_delay: Duration::from_secs(2),
            job: JobOptions::default(),
            budget: None,
            once: false,
            idle: Duration::from_secs(2),
        }
    }
}

/// `host:pid`.
fn default_worker_name() -> String {
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname")
        .ok()
        .or_else(|| std::env::var("COMPUTERNAME").ok())
        .or_else(|| std::env::var("HOSTNAME").ok())
        .unwrap_or_else(|| String::from("host"));
    format!("{}:{}", host.trim(), std::process::id())
}

/// What a worker did.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct WorkerReport {
    /// Rows whose final outcome this worker recorded.
    pub rows_decided: u64,
    /// Single calls this worker made (retries included).
    pub calls: u64,
    /// Retries.
    pub retries: u64,
    /// Questions given back to the pool after a transient failure
    /// ([`WorkerOptions::defer_rounds`]).
    pub deferred: u64,
    /// The jobs whose output this worker wrote.
    pub outputs_written: Vec<i64>,
    /// Why the worker stopped early (`gateway_quota_exceeded`…), if it did.
    pub paused: Option<String>,
}

/// The shared jobs of one database.
pub struct SharedJobs {
    store: Arc<JobStore>,
}

impl std::fmt::Debug for SharedJobs {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SharedJobs")
            .field("backend", &self.store.backend())
            .finish()
    }
}

impl SharedJobs {
    /// The shared jobs of a SQLite file (created 0600): several
    /// processes of one host.
    ///
    /// # Errors
    /// [`BulkError::Journal`] when the file cannot be opened or its schema
    /// is newer than this anist's.
    pub fn open_sqlite(path: &Path) -> Result<Self, BulkError> {
        Ok(Self {
            store: Arc::new(JobStore::open(Box::new(sql::Sqlite::open(path)?))?),
        })
    }

    /// The shared jobs of a PostgreSQL database (schema created or
    /// upgraded): several hosts.
    ///
    /// # Errors
    /// [`BulkError::Journal`] when the schema cannot be made.
    #[cfg(feature = "postgres")]
    pub fn open_postgres(db: Arc<crate::pg::Database>) -> Result<Self, BulkError> {
        Ok(Self {
            store: Arc::new(JobStore::open(Box::new(sql::Postgres::new(db)))?),
        })
    }

    /// Submits the job of `spec` (its input, school year, code column and
    /// output; `spec.journal` is not used): reads and checks the input as
    /// a local job does and records it; the job's number. Nothing is
    /// asked: workers do.
    ///
    /// # Errors
    /// The input's (`bulk_input`, `bulk_csv`, `bulk_column`), the output
    /// directory's (`bulk_output_dir`), the store's (`bulk_journal`).
    pub fn submit(&self, spec: &JobSpec) -> Result<i64, BulkError> {
        super::super::check_output_dir(&spec.output)?;
        let output = absolute(&spec.output);
        // The input is read into a private scratch journal by the local
        // job's own ingestion, then copied: one reading of a CSV.
        let scratch = std::env::temp_dir().join(format!(
            "anist-submit-{}-{}.sqlite",
            std::process::id(),
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_nanos())
                .unwrap_or_default()
        ));
        let result = (|| {
            let params = Params {
                input_path: spec.input.display().to_string(),
                input_sha256: String::new(),
                school_year: spec.school_year.to_string(),
                cf_column: spec.cf_column.clone().unwrap_or_default(),
            };
            let mut journal = Journal::open(&scratch, &params)?;
            super::input::ingest(
                &spec.input,
                spec.cf_column.as_deref(),
                spec.school_year,
                &mut journal,
            )?;
            let id_anpr = journal.meta(SUBJECT_META)?.as_deref() == Some("id_anpr");
            let mut rows = Vec::new();
            journal.for_each_row(|r| {
                rows.push(SharedRow {
                    line: r.line,
                    given: r.given,
                    key: r.key,
                    esito: r.esito,
                    motivo: r.motivo,
                    note: r.note,
                });
                Ok(())
            })?;
            drop(journal);
            self.store.create_job(
                &NewJob {
                    school_year: spec.school_year.to_string(),
                    id_anpr,
                    output: output.display().to_string(),
                    operator: spec.options.operator.clone(),
                },
                &rows,
            )
        })();
        // Best effort: the scratch holds the codes; the job's error, if
        // any, is the one to report.
        let _ = crate::files::remove_sqlite(&scratch);
        result
    }

    /// Cancels job `id` if it is running (a wrong file submitted, a job no
    /// longer wanted): it becomes `cancelled` with the counts of the rows
    /// decided so far, its rows and questions (the codes asked) are
    /// forgotten at once, no worker asks anything more of it and no output
    /// is written. A job whose output is being written, done or cancelled
    /// is left as it is.
    ///
    /// # Errors
    /// [`BulkError::Journal`] when the store fails.
    pub fn cancel(&self, id: i64) -> Result<Cancellation, BulkError> {
        let cancel = self.store.cancel(id)?;
        let status = || {
            self.status(id)?
                .ok_or_else(|| sql::damaged("a job vanished while being cancelled"))
        };
        Ok(match cancel {
            store::Cancel::Cancelled => Cancellation::Cancelled(status()?),
            store::Cancel::NotRunning(_) => Cancellation::NotRunning(status()?),
            store::Cancel::NoSuchJob => Cancellation::NoSuchJob,
        })
    }

    /// Where job `id` stands; `None` when there is no such job.
    ///
    /// # Errors
    /// [`BulkError::Journal`] when the store fails.
    pub fn status(&self, id: i64) -> Result<Option<SharedJobStatus>, BulkError> {
        self.store.job(id)?.map(|j| self.status_of(j)).transpose()
    }

    /// Every job, oldest first.
    ///
    /// # Errors
    /// [`BulkError::Journal`] when the store fails.
    pub fn list(&self) -> Result<Vec<SharedJobStatus>, BulkError> {
        self.store
            .jobs()?
            .into_iter()
            .map(|j| self.status_of(j))
            .collect()
    }

    fn status_of(&self, j: store::JobRecord) -> Result<SharedJobStatus, BulkError> {
        let outcomes = match &j.outcomes {
            Some(json) => crate::bulk::journal::decode::<OutcomeCounts>(json)?,
            None => self.store.done_counts(j.id)?,
        };
        Ok(SharedJobStatus {
            id: j.id,
            state: j.state,
            school_year: j.school_year,
            output: j.output,
            rows_total: j.rows_total,
            rows_done: outcomes.total(),
            outcomes,
            submitted_unix_ms: j.submitted_ms,
            finished_unix_ms: j.finished_ms,
        })
    }

    /// Works on the database's jobs: claims, asks, records, and writes
    /// the output of each job it completes; with [`WorkerOptions::once`]
    /// returns when no job is left, else waits for new ones. Every call is
    /// recorded in `audit` when given.
    ///
    /// # Errors
    /// The store's (`bulk_journal`), the output's (`bulk_output`), the
    /// audit trail's (`bulk_audit`).
    pub async fn work<S: AttendanceService>(
        &self,
        svc: &S,
        audit: Option<&AuditLog>,
        opts: &WorkerOptions,
    ) -> Result<WorkerReport, BulkError> {
        match opts.budget {
            Some(budget) => {
                let paced = Budgeted {
                    svc,
                    store: Arc::clone(&self.store),
                    budget,
                };
                self.work_with(&paced, audit, opts).await
            }
            None => self.work_with(svc, audit, opts).await,
        }
    }

    async fn work_with<S: AttendanceService>(
        &self,
        svc: &S,
        audit: Option<&AuditLog>,
        opts: &WorkerOptions,
    ) -> Result<WorkerReport, BulkError> {
        let mut report = WorkerReport::default();
        loop {
            let open: Vec<store::JobRecord> = self
                .store
                .jobs()?
                .into_iter()
                .filter(|j| j.state == "running" || j.state == "writing")
                .collect();
            if open.is_empty() {
                if opts.once {
                    return Ok(report);
                }
                svc.clock().sleep(opts.idle).await;
                continue;
            }
            let before = (report.rows_decided, report.outputs_written.len());
            for job in &open {
                if let Some(p) = self.work_job(svc, audit, opts, job, &mut report).await? {
                    report.paused = Some(p.code.to_owned());
                    return Ok(report);
                }
            }
            if (report.rows_decided, report.outputs_written.len()) == before {
                // Nothing to do here now: another worker writes an output,
                // or holds the last questions.
                svc.clock()
                    .sleep(opts.idle.min(Duration::from_millis(500)))
                    .await;
            }
        }
    }

    /// Asks `job`'s questions until none is left (waiting for the leases
    /// of other workers), then writes its output if no other worker does.
    async fn work_job<S: AttendanceService>(
        &self,
        svc: &S,
        audit: Option<&AuditLog>,
        opts: &WorkerOptions,
        job: &store::JobRecord,
        report: &mut WorkerReport,
    ) -> Result<Option<Pause>, BulkError> {
        let year: SchoolYear = job
            .school_year
            .parse()
            .map_err(|_| sql::damaged("a job's school year"))?;
        let ctx = Ctx {
            r: Retrier::new(&opts.job, audit, svc.clock()),
            year,
            counters: Counters::default(),
        };
        let store = &self.store;
        let worker = opts.worker.as_str();
        let result = loop {
            let claimed = Cell::new(0usize);
            let mut decided = 0u64;
            let mut pause = None;
            for step in STEPS {
                pause = pump(
                    &mut (),
                    opts.job.concurrency,
                    |_: &(), after, n| {
                        let batch = store.claim(
                            job.id,
                            step,
                            worker,
                            after,
                            n.min(opts.claim.max(1)),
                            opts.lease,
                        )?;
                        claimed.set(claimed.get() + batch.len());
                        Ok(batch.into_iter().map(|p| (p.id, p)).collect())
                    },
                    |id, p| {
                        let cf = parse_cf(&p)?;
                        Ok(Box::pin(ask(&ctx, svc, step, id, cf)) as AskTask<'_, AnyStored>)
                    },
                    |_: &mut (), id, answer: AnyStored| {
                        if answer.is_transient_failure()
                            && store.defer(job.id, id, step, opts.defer_delay, opts.defer_rounds)?
                        {
                            report.deferred += 1;
                            return Ok(());
                        }
                        if let Some((_, rows)) = store.store(job.id, id, step, &answer.json()?)? {
                            decided += rows;
                        }
                        Ok(())
                    },
                )
                .await?;
                if pause.is_some() {
                    break;
                }
            }
            report.rows_decided += decided;
            if pause.is_some() {
                break pause;
            }
            if store.remaining(job.id)? == 0 {
                if store.take_output(job.id, worker, opts.lease)? {
                    let path = PathBuf::from(&job.output);
                    let counts = write_rows(&path, year, job.id_anpr, |each| {
                        store.for_each_row(job.id, each)
                    })?;
                    let json = crate::bulk::journal::encode(&counts)?;
                    if store.finish(job.id, worker, &json, opts.job.keep_journal)? {
                        report.outputs_written.push(job.id);
                    }
                }
                break None;
            }
            if claimed.get() == 0 {
                // The rest is held by other workers: wait for them, or for
                // their leases to expire.
                svc.clock()
                    .sleep(opts.lease.min(Duration::from_millis(500)))
                    .await;
            }
        };
        let c = &ctx.counters;
        report.calls += c.verify.load(std::sync::atomic::Ordering::Relaxed)
            + c.ascertain.load(std::sync::atomic::Ordering::Relaxed);
        report.retries += ctx.r.retries.load(std::sync::atomic::Ordering::Relaxed);
        Ok(result)
    }

    /// Writes job `id`'s output to `path` from the database, from any
    /// host (while the job's rows are kept: before it is done, or with
    /// [`JobOptions::keep_journal`]).
    ///
    /// # Errors
    /// [`BulkError::Journal`] when the job is unknown or its rows were
    /// forgotten; the output's.
    pub fn write_output(&self, id: i64, path: &Path) -> Result<OutcomeCounts, BulkError> {
        let job = self.store.job(id)?.ok_or_else(|| BulkError::Journal {
            reason: format!("no shared job {id}"),
        })?;
        if job.rows_total > 0 && !self.store.has_rows(id)? {
            return Err(BulkError::Journal {
                reason: format!(
                    "the rows of job {id} were forgotten when its output was written to {}",
                    job.output
                ),
            });
        }
        let year: SchoolYear = job
            .school_year
            .parse()
            .map_err(|_| sql::damaged("a job's school year"))?;
        super::super::check_output_dir(path)?;
        write_rows(path, year, job.id_anpr, |each| {
            self.store.for_each_row(id, each)
        })
    }
}

/// `path` made absolute against the working directory (a worker on
/// another host or directory writes where the submitter meant).
fn absolute(path: &Path) -> PathBuf {
    if path.is_absolute() {
        return path.to_path_buf();
    }
    std::env::current_dir()
        .map(|d| d.join(path))
        .unwrap_or_else(|_| path.to_path_buf())
}
