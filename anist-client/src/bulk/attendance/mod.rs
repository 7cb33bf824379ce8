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
//!    With [`AttendanceService::has_massive`], batches go through the
//!    massive services (submit → poll → fetch), the job id journaled right
//!    after the submit so that a resumed job polls it instead of submitting
//!    again; otherwise single calls run concurrently.
//! 5. **Writes the output** from the journal, to a temporary file renamed
//!    into place: the same journal always gives the same bytes.
//!
//! # Failures, quota, interruptions
//!
//! A retryable error ([`AnistError::is_retryable`])
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

//!
//! Running a job: single calls with bounded concurrency, or massive jobs;
//! retries; the quota pause; progress.

use std::future::Future;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use anist_core::school::SchoolYear;
use anist_core::ErrorCode;
use serde::Serialize;

use super::engine::{bump, pump, AskTask, Asked, Pause, Retried, Retrier, Tracker};
use super::input::hash_file;
use super::journal::Pending;
use super::{BulkError, JobOptions, JobOutcome, Progress};
use input::{ingest, AskKey};
use journal::{AnyStored, Journal, OpenJob, Params, Step, Stored};
use output::write_output;

mod input;
mod journal;
mod output;
pub mod shared;
use crate::anist::{
    AnistError, Answer, AttendanceService, JobId, JobStatus, Query, RowAnswer, YearSelector,
    ACCERTAMENTO, ACCERTAMENTO_MASSIVO, VERIFICA, VERIFICA_MASSIVA,
};
use crate::audit::{AuditError, AuditLog};

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

/// Rows per outcome.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, serde::Deserialize)]
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

/// A bulk attendance job. See the [module documentation](self).
#[derive(Debug, Clone)]
pub struct BulkJob {
    spec: JobSpec,
}

#[derive(Default)]
struct Counters {
    verify: AtomicU64,
    ascertain: AtomicU64,
    submit: AtomicU64,
    poll: AtomicU64,
    fetch: AtomicU64,
}

/// What every call of a run shares.
struct Ctx<'a> {
    r: Retrier<'a>,
    year: SchoolYear,
    counters: Counters,
}

impl Ctx<'_> {
    fn year_of(&self, step: Step) -> SchoolYear {
        match step {
            Step::Verify | Step::AscCurrent => self.year,
            Step::AscPrevious => self.year.previous(),
        }
    }

    fn query(&self, step: Step, key: AskKey) -> Query {
        Query {
            subject: key.subject(),
            school: None,
            year: YearSelector::Explicit(self.year_of(step)),
        }
    }
}

fn answer_outcome<T>(a: &Answer<T>) -> &'static str {
    match a {
        Answer::Found(_) => "found",
        Answer::NotFound => "not_found",
    }
}

fn stored<T>(r: Result<Answer<T>, AnistError>) -> Stored<T> {
    match r {
        Ok(Answer::Found(t)) => Stored::Found(t),
        Ok(Answer::NotFound) => Stored::NotFound,
        Err(e) => Stored::Failed {
            code: e.code().to_owned(),
            message: e.to_string(),
        },
    }
}

fn corrupt(what: &str) -> BulkError {
    BulkError::Journal {
        reason: format!("the journal is damaged: {what}"),
    }
}

fn parse_cf(p: &Pending) -> Result<AskKey, BulkError> {
    AskKey::parse(&p.key).ok_or_else(|| corrupt("a journaled code is not valid"))
}

/// One single call (with its retries) about one subject.
async fn ask<S: AttendanceService>(
    ctx: &Ctx<'_>,
    svc: &S,
    step: Step,
    id: i64,
    cf: AskKey,
) -> Result<Asked<AnyStored>, AuditError> {
    let query = ctx.query(step, cf);
    let subject = Some(cf.as_str());
    let (answer, quota) = match step {
        Step::Verify => {
            let r = ctx
                .r
                .retrying(
                    || {
                        bump(&ctx.counters.verify);
                        svc.verify(&query)
                    },
                    |r| {
                        ctx.r
                            .record_result(VERIFICA, "verify", subject, None, r, answer_outcome)
                    },
                )
                .await?;
            let quota = Pause::of_result(&r);
            (AnyStored::Verify(stored(r)), quota)
        }
        Step::AscCurrent | Step::AscPrevious => {
            let op = step.operation();
            let r = ctx
                .r
                .retrying(
                    || {
                        bump(&ctx.counters.ascertain);
                        svc.ascertain(&query)
                    },
                    |r| {
                        ctx.r
                            .record_result(ACCERTAMENTO, op, subject, None, r, answer_outcome)
                    },
                )
                .await?;
            let quota = Pause::of_result(&r);
            (AnyStored::Ascertain(stored(r)), quota)
        }
    };
    Ok(match quota {
        Some(p) => Asked::Quota(p),
        None => Asked::Answer(id, answer),
    })
}

impl BulkJob {
    /// A job. Nothing is read or written until [`run`](Self::run).
    pub fn new(spec: JobSpec) -> Self {
        Self { spec }
    }

    /// The job's specification.
    pub fn spec(&self) -> &JobSpec {
        &self.spec
    }

    /// Runs the job, or resumes it when its journal exists: reads the
    /// input (a journal made from other input bytes, another school year
    /// or another column is refused with `bulk_journal_mismatch`), asks
    /// what is not yet answered, and writes the output.
    ///
    /// Every call is recorded in `audit` when given (a failure to record
    /// stops the job with `bulk_audit`). `progress` is called at most
    /// every [`JobOptions::progress_interval`](super::JobOptions::progress_interval) and once at the end.
    ///
    /// The journal and the files are used synchronously from the job's
    /// task (short SQLite transactions); the calls run concurrently within
    /// it.
    pub async fn run<S, P>(
        &self,
        svc: &S,
        audit: Option<&AuditLog>,
        progress: P,
    ) -> Result<JobOutcome, BulkError>
    where
        S: AttendanceService,
        P: Fn(&Progress) + Send + Sync,
    {
        let spec = &self.spec;
        let start = Instant::now();
        super::check_output_dir(&spec.output)?;
        let params = Params {
            input_path: spec.input.display().to_string(),
            input_sha256: hash_file(&spec.input)?,
            school_year: spec.school_year.to_string(),
            cf_column: spec.cf_column.clone().unwrap_or_default(),
        };
        let mut journal = super::fresh_or_removed(&spec.journal, || {
            let mut journal = Journal::open(&spec.journal, &params)?;
            if !journal.is_ingested()? {
                ingest(
                    &spec.input,
                    spec.cf_column.as_deref(),
                    spec.school_year,
                    &mut journal,
                )?;
            }
            Ok(journal)
        })?;
        // What failed for a transient reason is asked again.
        journal.transient_failures(true)?;
        let (total, distinct) = journal.totals()?;
        let counts = journal.done_counts()?;
        let mut tracker = Tracker::new(&progress, spec.options.progress_interval, total, counts);
        tracker.start = start;
        tracker.tick(false);
        let ctx = Ctx {
            r: Retrier::new(&spec.options, audit, svc.clock()),
            year: spec.school_year,
            counters: Counters::default(),
        };
        let pause = if spec.options.use_massive && svc.has_massive() {
            run_massive(&ctx, svc, &mut journal, &mut tracker).await?
        } else {
            run_single(&ctx, svc, &mut journal, &mut tracker).await?
        };
        let summary =
            |tracker: &Tracker<'_, OutcomeCounts, P>, outcomes: OutcomeCounts, retry_rows: u64| {
                let c = &ctx.counters;
                let get = |a: &AtomicU64| a.load(Ordering::Relaxed);
                Summary {
                    rows_total: total,
                    rows_done: outcomes.total(),
                    distinct_codes: distinct,
                    outcomes,
                    calls: CallCounts {
                        verify: get(&c.verify),
                        ascertain: get(&c.ascertain),
                        massive_submit: get(&c.submit),
                        massive_poll: get(&c.poll),
                        massive_fetch: get(&c.fetch),
                    },
                    retries: get(&ctx.r.retries),
                    duration_seconds: tracker.start.elapsed().as_secs_f64(),
                    retry_rows,
                }
            };
        if let Some(p) = pause {
            tracker.tick(true);
            return Ok(JobOutcome::Paused {
                reason: p.reason,
                code: p.code,
                summary: summary(&tracker, tracker.counts, 0),
            });
        }
        let outcomes = write_output(&journal, &spec.output, spec.school_year)?;
        let retry_rows = journal.transient_failures(false)?;
        tracker.counts = outcomes;
        tracker.done = outcomes.total();
        tracker.tick(true);
        let done = summary(&tracker, outcomes, retry_rows);
        drop(journal);
        super::retire_journal(&spec.journal, spec.options.keep_journal, retry_rows)?;
        Ok(JobOutcome::Completed(done))
    }
}

/// The steps in order: verification, then the two ascertainments of the
/// codes not attending.
const STEPS: [Step; 3] = [Step::Verify, Step::AscCurrent, Step::AscPrevious];

async fn run_single<S: AttendanceService, P: Fn(&Progress)>(
    ctx: &Ctx<'_>,
    svc: &S,
    journal: &mut Journal,
    tracker: &mut Tracker<'_, OutcomeCounts, P>,
) -> Result<Option<Pause>, BulkError> {
    for step in STEPS {
        let pause = pump(
            journal,
            ctx.r.opts.concurrency,
            |j: &Journal, after, n| {
                Ok(j.pending(step, after, n)?
                    .into_iter()
                    .map(|p| (p.id, p))
                    .collect())
            },
            |id, p| {
                let cf = parse_cf(&p)?;
                Ok(Box::pin(ask(ctx, svc, step, id, cf)) as AskTask<'_, AnyStored>)
            },
            // Committed before it is counted.
            |j, id, answer| {
                if let Some((esito, rows)) = j.store(id, step, &answer)? {
                    tracker.finished(&esito, rows);
                }
                Ok(())
            },
        )
        .await?;
        if pause.is_some() {
            return Ok(pause);
        }
    }
    Ok(None)
}

async fn run_massive<S: AttendanceService, P: Fn(&Progress)>(
    ctx: &Ctx<'_>,
    svc: &S,
    journal: &mut Journal,
    tracker: &mut Tracker<'_, OutcomeCounts, P>,
) -> Result<Option<Pause>, BulkError> {
    // First what an earlier run submitted: poll it, never submit it again.
    for job in journal.open_jobs()? {
        if let Some(p) = complete_job(ctx, svc, journal, tracker, &job).await? {
            return Ok(Some(p));
        }
    }
    let size = ctx.r.opts.batch_size.max(1);
    for step in STEPS {
        // Every batch is answered (or failed) before the next: a cursor
        // keeps each window query an index range scan.
        let mut cursor = 0i64;
        loop {
            let batch = journal.pending(step, cursor, size)?;
            let Some(last) = batch.last() else {
                break;
            };
            cursor = last.id;
            let queries = batch
                .iter()
                .map(|p| parse_cf(p).map(|cf| ctx.query(step, cf)))
                .collect::<Result<Vec<_>, _>>()?;
            let (eservice, operation) = match step {
                Step::Verify => (VERIFICA_MASSIVA, "submit_verify"),
                _ => (ACCERTAMENTO_MASSIVO, "submit_ascertain"),
            };
            let audit = |r: &Result<JobId, AnistError>| {
                let job = r.as_ref().ok().map(|j| j.0.as_str());
                for p in &batch {
                    ctx.r
                        .record_result(eservice, operation, Some(&p.key), job, r, |_| {
                            "submitted"
                        })?;
                }
                Ok(())
            };
            let submitted = match step {
                Step::Verify => {
                    ctx.r
                        .retrying(
                            || {
                                bump(&ctx.counters.submit);
                                svc.submit_verify(&queries)
                            },
                            audit,
                        )
                        .await?
                }
                _ => {
                    ctx.r
                        .retrying(
                            || {
                                bump(&ctx.counters.submit);
                                svc.submit_ascertain(&queries)
                            },
                            audit,
                        )
                        .await?
                }
            };
            match submitted {
                Ok(JobId(job_id)) => {
                    // Journaled before anything else: a resumed run polls it.
                    let id = journal.add_job(step, &job_id, &batch)?;
                    let job = OpenJob {
                        id,
                        step,
                        job_id,
                        members: batch,
                    };
                    if let Some(p) = complete_job(ctx, svc, journal, tracker, &job).await? {
                        return Ok(Some(p));
                    }
                }
                Err(e) if e.is_quota_exceeded() => return Ok(Some(Pause::of(&e))),
                Err(e) => fail_all(journal, tracker, None, step, &batch, &e)?,
            }
        }
    }
    Ok(None)
}

/// Journals `e` as the answer of every member (and closes the job).
fn fail_all<P: Fn(&Progress)>(
    journal: &mut Journal,
    tracker: &mut Tracker<'_, OutcomeCounts, P>,
    job: Option<i64>,
    step: Step,
    members: &[Pending],
    e: &AnistError,
) -> Result<(), BulkError> {
    let message = e.to_string();
    let answers: Vec<(i64, AnyStored)> = members
        .iter()
        .map(|m| (m.id, AnyStored::failed(step, e.code(), &message)))
        .collect();
    for (esito, rows) in journal.finish_job(job, step, &answers)? {
        tracker.finished(&esito, rows);
    }
    Ok(())
}

/// Fetches a finished massive job's rows (retried; a failed fetch is
/// audited here, the rows one by one by the caller) and pairs them with
/// the job's members.
async fn fetch_rows<T, Fut>(
    ctx: &Ctx<'_>,
    eservice: &str,
    operation: &str,
    correlation: Option<&str>,
    fetch: impl Fn() -> Fut,
    members: &[Pending],
    wrap: impl Fn(Stored<T>) -> AnyStored,
) -> Retried<Vec<(i64, AnyStored)>, AnistError>
where
    Fut: Future<Output = Result<Vec<RowAnswer<T>>, AnistError>>,
{
    let r = ctx
        .r
        .retrying(
            || {
                bump(&ctx.counters.fetch);
                fetch()
            },
            |r| match r {
                Ok(_) => Ok(()),
                Err(_) => ctx
                    .r
                    .record_result(eservice, operation, None, correlation, r, |_| ""),
            },
        )
        .await?;
    Ok(r.map(|rows| rows_stored(members, rows, wrap)))
}

fn rows_stored<T>(
    members: &[Pending],
    rows: Vec<RowAnswer<T>>,
    wrap: impl Fn(Stored<T>) -> AnyStored,
) -> Vec<(i64, AnyStored)> {
    let mut rows = rows.into_iter();
    members
        .iter()
        .map(|m| {
            let s = match rows.next() {
                Some(r) => stored(r),
                None => Stored::Failed {
                    code: String::from("anist_unexpected_answer"),
                    message: String::from("the massive answer has fewer rows than queries"),
                },
            };
            (m.id, wrap(s))
        })
        .collect()
}

/// Polls a journaled massive job until it is done, fetches it and journals
/// its answers (one transaction, closing the job).
async fn complete_job<S: AttendanceService, P: Fn(&Progress)>(
    ctx: &Ctx<'_>,
    svc: &S,
    journal: &mut Journal,
    tracker: &mut Tracker<'_, OutcomeCounts, P>,
    job: &OpenJob,
) -> Result<Option<Pause>, BulkError> {
    let jid = JobId(job.job_id.clone());
    let correlation = Some(job.job_id.as_str());
    let (eservice, fetch_op) = match job.step {
        Step::Verify => (VERIFICA_MASSIVA, "fetch_verify"),
        _ => (ACCERTAMENTO_MASSIVO, "fetch_ascertain"),
    };
    loop {
        let status = ctx
            .r
            .retrying(
                || {
                    bump(&ctx.counters.poll);
                    svc.poll(&jid)
                },
                |r| {
                    ctx.r
                        .record_result(eservice, "poll", None, correlation, r, |s| match s {
                            JobStatus::Processing => "processing",
                            JobStatus::Done => "done",
                        })
                },
            )
            .await?;
        match status {
            Ok(JobStatus::Processing) => tokio::time::sleep(ctx.r.opts.poll_interval).await,
            Ok(JobStatus::Done) => break,
            Err(e) if e.is_quota_exceeded() => return Ok(Some(Pause::of(&e))),
            Err(e) => {
                fail_all(journal, tracker, Some(job.id), job.step, &job.members, &e)?;
                return Ok(None);
            }
        }
    }
    let answers = match job.step {
        Step::Verify => {
            let fetch = || svc.fetch_verify(&jid);
            fetch_rows(
                ctx,
                eservice,
                fetch_op,
                correlation,
                fetch,
                &job.members,
                AnyStored::Verify,
            )
            .await?
        }
        _ => {
            let fetch = || svc.fetch_ascertain(&jid);
            fetch_rows(
                ctx,
                eservice,
                fetch_op,
                correlation,
                fetch,
                &job.members,
                AnyStored::Ascertain,
            )
            .await?
        }
    };
    match answers {
        Ok(answers) => {
            // One audit row per subject, with its own outcome.
            for ((_, answer), member) in answers.iter().zip(&job.members) {
                let outcome = match answer {
                    AnyStored::Verify(Stored::Found(_))
                    | AnyStored::Ascertain(Stored::Found(_)) => "found",
                    AnyStored::Verify(Stored::NotFound)
                    | AnyStored::Ascertain(Stored::NotFound) => "not_found",
                    AnyStored::Verify(Stored::Failed { code, .. })
                    | AnyStored::Ascertain(Stored::Failed { code, .. }) => code.as_str(),
                };
                ctx.r.record(
                    eservice,
                    fetch_op,
                    Some(&member.key),
                    outcome,
                    correlation,
                    None,
                )?;
            }
            for (esito, rows) in journal.finish_job(Some(job.id), job.step, &answers)? {
                tracker.finished(&esito, rows);
            }
            Ok(None)
        }
        Err(e) if e.is_quota_exceeded() => Ok(Some(Pause::of(&e))),
        Err(e) => {
            fail_all(journal, tracker, Some(job.id), job.step, &job.members, &e)?;
            Ok(None)
        }
    }
}
