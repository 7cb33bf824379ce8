//! Bulk attendance jobs as start / poll / cancel / result / free, so that
//! a GUI thread never blocks: the job runs on the client's threads.

use std::ffi::c_char;
use std::future::Future;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use anist_client::bulk::{BulkJob, JobOutcome, JobSpec, OutcomeCounts, Progress, Summary};
use anist_core::school::SchoolYear;
use tokio::task::JoinHandle;

use crate::client::{client_ref, open_audit, AnistClient, ClientInner};
use crate::error::{guard, guard_void, Failure, ANIST_ERR_CANCELLED};
use crate::strings::{arg_str, opt_str, out_ptr, take_box, write_out};

/// Job state: running.
pub const ANIST_JOB_RUNNING: i32 = 1;
/// Job state: every row has its outcome; the output is written.
pub const ANIST_JOB_COMPLETED: i32 = 2;
/// Job state: stopped cleanly before the end (the quota is exhausted);
/// start it again on the same journal later to resume.
pub const ANIST_JOB_PAUSED: i32 = 3;
/// Job state: failed ([`anist_job_result`] gives the error).
pub const ANIST_JOB_FAILED: i32 = 4;
/// Job state: cancelled; start it again on the same journal to resume.
pub const ANIST_JOB_CANCELLED: i32 = 5;

/// Where a job stands (counts only: no personal data).
#[repr(C)]
#[derive(Debug, Clone, Copy, Default)]
pub struct AnistJobProgress {
    /// `ANIST_JOB_*`.
    pub state: i32,
    /// Rows with their final outcome (across runs of the job).
    pub rows_done: u64,
    /// Rows in the input (0 until it is read).
    pub rows_total: u64,
    /// Rows `compliant`.
    pub compliant: u64,
    /// Rows `to_be_checked`.
    pub to_be_checked: u64,
    /// Rows `not_in_anist`.
    pub not_in_anist: u64,
    /// Rows `not_obliged`.
    pub not_obliged: u64,
    /// Rows `invalid_code`.
    pub invalid_code: u64,
    /// Rows `error`.
    pub error: u64,
    /// Rows finished per second during this run.
    pub rate: f64,
}

/// What a finished job did.
#[repr(C)]
#[derive(Debug, Clone, Copy, Default)]
pub struct AnistJobSummary {
    /// [`ANIST_JOB_COMPLETED`] or [`ANIST_JOB_PAUSED`].
    pub state: i32,
    /// Rows in the input.
    pub rows_total: u64,
    /// Rows with their final outcome.
    pub rows_done: u64,
    /// Distinct valid codes (each asked about once, if obliged).
    pub distinct_codes: u64,
    /// Rows `compliant`.
    pub compliant: u64,
    /// Rows `to_be_checked`.
    pub to_be_checked: u64,
    /// Rows `not_in_anist`.
    pub not_in_anist: u64,
    /// Rows `not_obliged`.
    pub not_obliged: u64,
    /// Rows `invalid_code`.
    pub invalid_code: u64,
    /// Rows `error`.
    pub error: u64,
    /// Calls made by this run (single and massive, retries included).
    pub calls: u64,
    /// Retries made by this run.
    pub retries: u64,
    /// Duration of this run, in seconds.
    pub duration_seconds: f64,
}

/// What the generic job machinery needs to know of one kind of job: its
/// counts and summary on the Rust side, its progress and summary records
/// on the C side. The attendance job (`anist_job_*`) and the ISEE batch
/// (`anist_isee_job_*`) are its two users.
pub(crate) trait JobKind: 'static {
    /// The outcome counts of the Rust job.
    type Counts: Send + 'static;
    /// The summary of the Rust job.
    type Summary: Send + 'static;
    /// The C progress record (`state` first).
    type Progress: Copy + Default + Send + 'static;
    /// The C summary record.
    type CSummary;
    /// What the logs call this job (no personal data).
    const NAME: &'static str;
    /// Sets the `ANIST_JOB_*` state of a progress record.
    fn set_state(p: &mut Self::Progress, state: i32);
    /// Copies the rows and counts of the Rust job into a progress record.
    fn set_counts(p: &mut Self::Progress, rows_done: u64, rows_total: u64, c: &Self::Counts);
    /// Sets the rate of a progress record.
    fn set_rate(p: &mut Self::Progress, rate: f64);
    /// The rows done, rows in all and counts of a summary.
    fn rows(s: &Self::Summary) -> (u64, u64, &Self::Counts);
    /// The C summary of a finished job in `state`.
    fn summary_of(state: i32, s: &Self::Summary) -> Self::CSummary;
}

enum Finish<S> {
    Done(Box<JobOutcome<S>>),
    Failed(Failure),
    Cancelled,
}

struct Shared<K: JobKind> {
    progress: K::Progress,
    finish: Option<Finish<K::Summary>>,
}

fn lock<K: JobKind>(shared: &Mutex<Shared<K>>) -> std::sync::MutexGuard<'_, Shared<K>> {
    shared
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// Hands the progress of a running job to its [`Job`] (what `poll` reads).
pub(crate) struct Reporter<K: JobKind>(Arc<Mutex<Shared<K>>>);

impl<K: JobKind> Reporter<K> {
    /// Records where the job stands.
    pub(crate) fn report(&self, p: &Progress<K::Counts>) {
        let mut s = lock(&self.0);
        K::set_counts(&mut s.progress, p.rows_done, p.rows_total, &p.outcomes);
        K::set_rate(&mut s.progress, p.rate);
        drop(s);
        tracing::debug!(target: "anist", job = K::NAME, rows_done = p.rows_done, rows_total = p.rows_total, "job progress");
    }
}

/// A job running on a client's threads: start / poll / cancel / result /
/// free, whatever its kind.
pub(crate) struct Job<K: JobKind> {
    client: Arc<ClientInner>,
    shared: Arc<Mutex<Shared<K>>>,
    task: Mutex<Option<JoinHandle<()>>>,
}

impl<K: JobKind> Job<K> {
    /// Spawns `run` (given the reporter of its progress) on the client's
    /// runtime; returns at once. Its error (a `BulkError`, or any
    /// other [`anist_core::ErrorCode`]) is what `result` returns.
    pub(crate) fn start<F, Fut, E>(inner: Arc<ClientInner>, run: F) -> Result<Self, Failure>
    where
        F: FnOnce(Reporter<K>) -> Fut,
        Fut: Future<Output = Result<JobOutcome<K::Summary>, E>> + Send + 'static,
        E: anist_core::ErrorCode + Send + 'static,
    {
        let mut progress = K::Progress::default();
        K::set_state(&mut progress, ANIST_JOB_RUNNING);
        let shared = Arc::new(Mutex::new(Shared {
            progress,
            finish: None,
        }));
        let job = run(Reporter(Arc::clone(&shared)));
        let task_shared = Arc::clone(&shared);
        tracing::info!(target: "anist", job = K::NAME, "job started");
        let task = inner.runtime()?.spawn(async move {
            let result = job.await;
            let mut s = lock(&task_shared);
            let (state, finish) = match result {
                Ok(outcome) => {
                    let (state, summary) = match &outcome {
                        JobOutcome::Completed(summary) => (ANIST_JOB_COMPLETED, summary),
                        JobOutcome::Paused { summary, .. } => (ANIST_JOB_PAUSED, summary),
                    };
                    let (done, total, counts) = K::rows(summary);
                    K::set_counts(&mut s.progress, done, total, counts);
                    tracing::info!(target: "anist", job = K::NAME, rows_done = done, rows_total = total, paused = (state == ANIST_JOB_PAUSED), "job finished");
                    (state, Finish::Done(Box::new(outcome)))
                }
                Err(e) => {
                    tracing::warn!(target: "anist", job = K::NAME, code = anist_core::ErrorCode::code(&e), "job failed");
                    (ANIST_JOB_FAILED, Finish::Failed(Failure::of(&e)))
                }
            };
            K::set_state(&mut s.progress, state);
            s.finish = Some(finish);
        });
        Ok(Job {
            client: inner,
            shared,
            task: Mutex::new(Some(task)),
        })
    }

    /// Where the job stands (never blocks).
    pub(crate) fn poll(&self) -> K::Progress {
        lock(&self.shared).progress
    }

    /// Stops the job and waits until its task is dropped (so that the
    /// journal is closed when this returns: a resumed job can open it).
    pub(crate) fn stop(&self) -> Result<(), Failure> {
        let task = self
            .task
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .take();
        if let Some(task) = task {
            task.abort();
            let _ = self.client.runtime()?.block_on(task);
            let mut s = lock(&self.shared);
            if s.finish.is_none() {
                K::set_state(&mut s.progress, ANIST_JOB_CANCELLED);
                s.finish = Some(Finish::Cancelled);
                tracing::info!(target: "anist", job = K::NAME, "job cancelled");
            }
        }
        Ok(())
    }

    /// The summary of the finished job, or why there is none.
    pub(crate) fn result(&self) -> Result<K::CSummary, Failure> {
        let s = lock(&self.shared);
        match &s.finish {
            None => Err(Failure::new(
                anist_core::ErrorKind::JobNotReady,
                "job_not_ready",
                "the job is still running: poll it until its state is final",
            )),
            Some(Finish::Cancelled) => Err(Failure::c_only(
                ANIST_ERR_CANCELLED,
                "job_cancelled",
                "the job was cancelled: start it again on the same journal to resume it",
            )),
            Some(Finish::Failed(f)) => Err(f.clone()),
            Some(Finish::Done(outcome)) => Ok(match outcome.as_ref() {
                JobOutcome::Completed(summary) => K::summary_of(ANIST_JOB_COMPLETED, summary),
                JobOutcome::Paused { summary, .. } => K::summary_of(ANIST_JOB_PAUSED, summary),
            }),
        }
    }
}

/// A reference to a job made by one of the `*_start` functions.
pub(crate) fn handle_ref<'a, T>(job: *const T) -> Result<&'a T, Failure> {
    if job.is_null() {
        return Err(Failure::null("job"));
    }
    // SAFETY: a non-NULL `job` was made by the matching `*_start`
    // function and is not freed while the caller uses it (the caller's
    // promise).
    Ok(unsafe { &*job })
}

/// The attendance job (`anist caivano`).
pub(crate) struct Attendance;

impl JobKind for Attendance {
    type Counts = OutcomeCounts;
    type Summary = Summary;
    type Progress = AnistJobProgress;
    type CSummary = AnistJobSummary;
    const NAME: &'static str = "attendance";

    fn set_state(p: &mut AnistJobProgress, state: i32) {
        p.state = state;
    }

    fn set_counts(p: &mut AnistJobProgress, rows_done: u64, rows_total: u64, c: &OutcomeCounts) {
        p.rows_done = rows_done;
        p.rows_total = rows_total;
        p.compliant = c.compliant;
        p.to_be_checked = c.to_be_checked;
        p.not_in_anist = c.not_in_anist;
        p.not_obliged = c.not_obliged;
        p.invalid_code = c.invalid_code;
        p.error = c.error;
    }

    fn set_rate(p: &mut AnistJobProgress, rate: f64) {
        p.rate = rate;
    }

    fn rows(s: &Summary) -> (u64, u64, &OutcomeCounts) {
        (s.rows_done, s.rows_total, &s.outcomes)
    }

    fn summary_of(state: i32, s: &Summary) -> AnistJobSummary {
        let o = &s.outcomes;
        let c = &s.calls;
        AnistJobSummary {
            state,
            rows_total: s.rows_total,
            rows_done: s.rows_done,
            distinct_codes: s.distinct_codes,
            compliant: o.compliant,
            to_be_checked: o.to_be_checked,
            not_in_anist: o.not_in_anist,
            not_obliged: o.not_obliged,
            invalid_code: o.invalid_code,
            error: o.error,
            calls: c.verify + c.ascertain + c.massive_submit + c.massive_poll + c.massive_fetch,
            retries: s.retries,
            duration_seconds: s.duration_seconds,
        }
    }
}

/// A bulk job running on a client's threads. Opaque: made by
/// [`anist_job_start`], freed by [`anist_job_free`].
pub struct AnistJob(Job<Attendance>);

/// The journal of `output` when none is named: `<output>.journal`.
pub(crate) fn journal_beside(output: &str, journal: Option<&str>) -> PathBuf {
    journal.map_or_else(
        || {
            let mut p = PathBuf::from(output).into_os_string();
            p.push(".journal");
            PathBuf::from(p)
        },
        PathBuf::from,
    )
}

/// Starts the school-attendance check of a municipal CSV (the job of
/// `anist caivano`): `input` the CSV of codici fiscali, `output` the CSV
/// written at the end, `journal` the job's SQLite journal (NULL:
/// `<output>.journal`; an existing journal is resumed), `school_year`
/// (`2025/26`), `cf_column` the codice fiscale column (NULL: found by
/// alias), `audit` the audit trail database (NULL: `anist-audit.sqlite`
/// beside `output`; the empty string `""` opts out of the audit trail,
/// explicitly; its secret is `<audit>.key`). A job that ends with every
/// row answered removes its journal; one with error rows of a transient
/// failure keeps it, and starting it again asks them again. Returns at
/// once with the job in `*out_job`: poll it
/// with [`anist_job_poll`], then read [`anist_job_result`] and free it
/// with [`anist_job_free`].
///
/// Returns [`crate::ANIST_ERR_INVALID_SCHOOL_YEAR`],
/// [`crate::ANIST_ERR_AUDIT`]; errors of the job itself (unreadable
/// input, journal of another job…) come from [`anist_job_result`].
#[no_mangle]
pub extern "C" fn anist_job_start(
    client: *const AnistClient,
    input: *const c_char,
    output: *const c_char,
    journal: *const c_char,
    school_year: *const c_char,
    cf_column: *const c_char,
    audit: *const c_char,
    out_job: *mut *mut AnistJob,
) -> i32 {
    guard(|| {
        let client = client_ref(client)?;
        let input = arg_str(input, "input")?;
        let output = arg_str(output, "output")?;
        let journal = opt_str(journal, "journal")?;
        let year =
            SchoolYear::parse(arg_str(school_year, "school_year")?).map_err(|e| Failure::of(&e))?;
        let cf_column = opt_str(cf_column, "cf_column")?;
        let audit = opt_str(audit, "audit")?;
        out_ptr(out_job, "out_job")?;

        let inner = Arc::clone(&client.inner);
        let journal = journal_beside(output, journal);
        let mut spec = JobSpec::new(input, output, journal, year);
        spec.cf_column = cf_column.map(str::to_string);
        if let Some(c) = inner.concurrency {
            spec.options.concurrency = c;
        }
        if let Some(p) = inner.poll_interval {
            spec.options.poll_interval = p;
        }
        spec.options.audit_identity(inner.anist.session());
        // The audit trail is on unless opted out with "", explicitly.
        let audit = match audit {
            None => Some(
                Path::new(output)
                    .parent()
                    .unwrap_or_else(|| Path::new(""))
                    .join("anist-audit.sqlite"),
            ),
            Some("") => None,
            Some(path) => Some(PathBuf::from(path)),
        };
        let audit = audit.as_deref().map(open_audit).transpose()?;
        let service = Arc::clone(&inner.anist);
        let job = Job::<Attendance>::start(inner, move |reporter| async move {
            BulkJob::new(spec)
                .run(service.as_ref(), audit.as_ref(), |p| reporter.report(p))
                .await
        })?;
        write_out(out_job, Box::into_raw(Box::new(AnistJob(job))));
        Ok(())
    })
}

/// Where the job stands, into `*out` (never blocks). Poll it, e.g. from
/// a GUI timer, until `state` is no longer [`ANIST_JOB_RUNNING`].
#[no_mangle]
pub extern "C" fn anist_job_poll(job: *const AnistJob, out: *mut AnistJobProgress) -> i32 {
    guard(|| {
        let job = handle_ref(job)?;
        out_ptr(out, "out")?;
        write_out(out, job.0.poll());
        Ok(())
    })
}

/// Stops the job: the calls in flight are dropped, everything already
/// answered stays in the journal, and the state becomes
/// [`ANIST_JOB_CANCELLED`] (unless the job had already finished). Start
/// the job again on the same journal to resume it. Returns once the job
/// has stopped (promptly: it does not wait for the calls in flight).
#[no_mangle]
pub extern "C" fn anist_job_cancel(job: *mut AnistJob) -> i32 {
    guard(|| handle_ref(job)?.0.stop())
}

/// The summary of a finished job, into `*out`.
///
/// Returns [`crate::ANIST_OK`] for a completed or paused job (see
/// `state`), [`crate::ANIST_ERR_JOB_NOT_READY`] while it runs,
/// [`crate::ANIST_ERR_CANCELLED`] for a cancelled job, or the status of
/// the error that made it fail ([`crate::ANIST_ERR_JOB`] with `bulk_*`
/// codes, [`crate::ANIST_ERR_AUDIT`]…), with its message.
#[no_mangle]
pub extern "C" fn anist_job_result(job: *const AnistJob, out: *mut AnistJobSummary) -> i32 {
    guard(|| {
        let job = handle_ref(job)?;
        out_ptr(out, "out")?;
        write_out(out, job.0.result()?);
        Ok(())
    })
}

/// Frees a job, cancelling it first if it still runs. NULL is allowed.
/// Never call it from a log callback.
#[no_mangle]
pub extern "C" fn anist_job_free(job: *mut AnistJob) {
    if job.is_null() {
        return;
    }
    guard_void(move || {
        if let Some(job) = take_box(job) {
            let _ = job.0.stop();
        }
    });
}
