//! Running a job: single calls with bounded concurrency, or massive jobs;
//! retries; the quota pause; progress.

use std::future::Future;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use anist_core::school::SchoolYear;
use anist_core::ErrorCode;

use super::engine::{bump, pump, AskTask, Asked, Pause, Retried, Retrier, Tracker};
use super::input::{hash_file, ingest, AskKey};
use super::journal::{AnyStored, Journal, OpenJob, Params, Pending, Step, Stored};
use super::output::write_output;
use super::{BulkError, CallCounts, JobOutcome, JobSpec, OutcomeCounts, Progress, Summary};
use crate::anist::{
    AnistError, Answer, AttendanceService, JobId, JobStatus, Query, RowAnswer, YearSelector,
    ACCERTAMENTO, ACCERTAMENTO_MASSIVO, VERIFICA, VERIFICA_MASSIVA,
};
use crate::audit::{AuditError, AuditLog};

/// A bulk attendance job. See the [module documentation](super).
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
    AskKey::parse(&p.cf).ok_or_else(|| corrupt("a journaled code is not valid"))
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
            let quota = r
                .as_ref()
                .err()
                .filter(|e| e.is_quota_exceeded())
                .map(Pause::of);
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
            let quota = r
                .as_ref()
                .err()
                .filter(|e| e.is_quota_exceeded())
                .map(Pause::of);
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
                journal.reset_ingest()?;
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
                        .record_result(eservice, operation, Some(&p.cf), job, r, |_| "submitted")?;
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
                    Some(&member.cf),
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
