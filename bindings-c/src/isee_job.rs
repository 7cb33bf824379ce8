//! The resumable ISEE batch (the job of `anist isee batch`) as start /
//! poll / cancel / result / free, like the attendance job (`anist_job_*`):
//! a CSV of applications in, one ISEE outcome per row out, journaled, on
//! the client's threads. The audit trail is on by default.

use std::ffi::c_char;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use anist_client::bulk::isee::{IseeBatch, IseeBatchSpec, IseeCounts, IseeSummary};
use anist_core::isee::{IseeKind, PrestazioneDaErogare};

use crate::client::open_audit;
use crate::client::{client_ref, AnistClient, ClientInner};
use crate::error::{guard, guard_void, Failure};
use crate::ids::{parse_date, today};
use crate::isee::service_of;
use crate::job::{handle_ref, journal_beside, Job, JobKind};
use crate::strings::{arg_str, opt_str, out_ptr, take_box, write_out};

// The audit database of an ISEE batch when `audit` is NULL: this file
// beside the output (its secret `<audit>.key`), as `anist isee batch`.
use anist_client::audit::DEFAULT_FILE as DEFAULT_AUDIT;

/// What an ISEE batch works on. Every string is NUL-terminated UTF-8;
/// NULL means "not given". Zero the struct (`memset`, `= {0}`) and set
/// what you need.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct AnistIseeBatchSpec {
    /// The CSV of applications (required): a codice fiscale column, and
    /// optionally `data_validita`, `prestazione`, `protocollo_domanda`,
    /// `protocollo_dsu` (required by the Riscontro services),
    /// `stato_domanda`.
    pub input: *const c_char,
    /// The output CSV, written at the end (required).
    pub output: *const c_char,
    /// The journal (NULL: `<output>.journal`); an existing journal is
    /// resumed.
    pub journal: *const c_char,
    /// The e-service, an `ANIST_ISEE_SERVICE_*` value (required).
    pub service: i32,
    /// The date the ISEE must be valid on, for rows without
    /// `data_validita`, `YYYY-MM-DD` (NULL: today).
    pub valid_on: *const c_char,
    /// The benefit, for rows without `prestazione` (e.g. `A1.07`; NULL:
    /// none).
    pub prestazione: *const c_char,
    /// `TipoIndicatore` of the Indicatore services (NULL: `ordinario`).
    pub kind: *const c_char,
    /// The codice fiscale column, by header name (NULL: found by alias).
    pub cf_column: *const c_char,
    /// The audit trail database (NULL: `anist-audit.sqlite` beside the
    /// output); its secret is `<audit>.key`, created on first use.
    pub audit: *const c_char,
    /// Non-zero: run without an audit trail. The trail is on unless this
    /// says otherwise: opting out is explicit.
    pub no_audit: i32,
}

/// Where an ISEE batch stands (counts only: no personal data).
#[repr(C)]
#[derive(Debug, Clone, Copy, Default)]
pub struct AnistIseeJobProgress {
    /// `ANIST_JOB_*`.
    pub state: i32,
    /// Rows with their final outcome (across runs of the job).
    pub rows_done: u64,
    /// Rows in the input (0 until it is read).
    pub rows_total: u64,
    /// Rows `found`.
    pub found: u64,
    /// Rows `no_isee`.
    pub no_isee: u64,
    /// Rows `refused`.
    pub refused: u64,
    /// Rows `invalid_input`.
    pub invalid_input: u64,
    /// Rows `error`.
    pub error: u64,
    /// Rows finished per second during this run.
    pub rate: f64,
}

/// What a finished ISEE batch did.
#[repr(C)]
#[derive(Debug, Clone, Copy, Default)]
pub struct AnistIseeJobSummary {
    /// `ANIST_JOB_COMPLETED` or `ANIST_JOB_PAUSED`.
    pub state: i32,
    /// Rows in the input.
    pub rows_total: u64,
    /// Rows with their final outcome.
    pub rows_done: u64,
    /// Distinct questions (each asked once).
    pub distinct_questions: u64,
    /// Rows `found`.
    pub found: u64,
    /// Rows `no_isee`.
    pub no_isee: u64,
    /// Rows `refused`.
    pub refused: u64,
    /// Rows `invalid_input`.
    pub invalid_input: u64,
    /// Rows `error`.
    pub error: u64,
    /// Calls made by this run (retries included).
    pub calls: u64,
    /// Retries made by this run.
    pub retries: u64,
    /// Duration of this run, in seconds.
    pub duration_seconds: f64,
}

/// The ISEE batch (`anist isee batch`).
pub(crate) struct Isee;

impl JobKind for Isee {
    type Counts = IseeCounts;
    type Summary = IseeSummary;
    type Progress = AnistIseeJobProgress;
    type CSummary = AnistIseeJobSummary;
    const NAME: &'static str = "isee";

    fn set_state(p: &mut AnistIseeJobProgress, state: i32) {
        p.state = state;
    }

    fn set_counts(p: &mut AnistIseeJobProgress, rows_done: u64, rows_total: u64, c: &IseeCounts) {
        p.rows_done = rows_done;
        p.rows_total = rows_total;
        p.found = c.found;
        p.no_isee = c.no_isee;
        p.refused = c.refused;
        p.invalid_input = c.invalid_input;
        p.error = c.error;
    }

    fn set_rate(p: &mut AnistIseeJobProgress, rate: f64) {
        p.rate = rate;
    }

    fn rows(s: &IseeSummary) -> (u64, u64, &IseeCounts) {
        (s.rows_done, s.rows_total, &s.outcomes)
    }

    fn summary_of(state: i32, s: &IseeSummary) -> AnistIseeJobSummary {
        let o = &s.outcomes;
        AnistIseeJobSummary {
            state,
            rows_total: s.rows_total,
            rows_done: s.rows_done,
            distinct_questions: s.distinct_questions,
            found: o.found,
            no_isee: o.no_isee,
            refused: o.refused,
            invalid_input: o.invalid_input,
            error: o.error,
            calls: s.calls,
            retries: s.retries,
            duration_seconds: s.duration_seconds,
        }
    }
}

/// An ISEE batch running on a client's threads. Opaque: made by
/// [`anist_isee_job_start`], freed by [`anist_isee_job_free`].
pub struct AnistIseeJob(Job<Isee>);

/// The default journal and audit paths of `output`.
fn beside(output: &str, journal: Option<&str>, audit: Option<&str>) -> (PathBuf, PathBuf) {
    let journal = journal_beside(output, journal);
    let audit = audit.map_or_else(
        || {
            Path::new(output)
                .parent()
                .unwrap_or_else(|| Path::new(""))
                .join(DEFAULT_AUDIT)
        },
        PathBuf::from,
    );
    (journal, audit)
}

/// Reads the C spec into an [`IseeBatchSpec`] and the audit path (`None`:
/// opted out).
fn spec_of(
    inner: &ClientInner,
    spec: *const AnistIseeBatchSpec,
) -> Result<(IseeBatchSpec, Option<PathBuf>), Failure> {
    if spec.is_null() {
        return Err(Failure::null("spec"));
    }
    // SAFETY: the caller promises a non-NULL `spec` points to an
    // `AnistIseeBatchSpec` valid during the call (its strings checked
    // below).
    let s = unsafe { &*spec };
    let input = arg_str(s.input, "spec.input")?;
    let output = arg_str(s.output, "spec.output")?;
    let service = service_of(s.service)?;
    let valid_on = match opt_str(s.valid_on, "spec.valid_on")? {
        Some(d) => parse_date(d, "spec.valid_on")?,
        None => today(),
    };
    let (journal, audit) = beside(
        output,
        opt_str(s.journal, "spec.journal")?,
        opt_str(s.audit, "spec.audit")?,
    );
    let mut out = IseeBatchSpec::new(input, output, journal, service, valid_on);
    if let Some(p) = opt_str(s.prestazione, "spec.prestazione")? {
        out.prestazione = Some(PrestazioneDaErogare::parse(p).map_err(|e| Failure::of(&e))?);
    }
    if let Some(k) = opt_str(s.kind, "spec.kind")? {
        out.kind = IseeKind::parse(k);
    }
    out.cf_column = opt_str(s.cf_column, "spec.cf_column")?.map(str::to_string);
    if let Some(c) = inner.concurrency {
        out.options.concurrency = c;
    }
    out.options.audit_identity(inner.anist.session());
    Ok((out, (s.no_audit == 0).then_some(audit)))
}

/// Starts the ISEE batch of `spec` (the job of `anist isee batch`) on the
/// client's INPS ISEE services. Returns at once with the job in
/// `*out_job`: poll it with [`anist_isee_job_poll`], then read
/// [`anist_isee_job_result`] and free it with [`anist_isee_job_free`].
/// Every call is recorded in the audit trail unless `spec->no_audit` is
/// non-zero.
///
/// Returns [`crate::ANIST_ERR_CONFIG`] (no `[inps]` in the
/// configuration), [`crate::ANIST_ERR_AUDIT`] (the audit trail cannot be
/// opened), [`crate::ANIST_ERR_INVALID_ARGUMENT`] (a bad service, date or
/// prestazione); errors of the job itself (unreadable input, journal of
/// another job…) come from [`anist_isee_job_result`].
#[no_mangle]
pub extern "C" fn anist_isee_job_start(
    client: *const AnistClient,
    spec: *const AnistIseeBatchSpec,
    out_job: *mut *mut AnistIseeJob,
) -> i32 {
    guard(|| {
        let client = client_ref(client)?;
        out_ptr(out_job, "out_job")?;
        let inner = Arc::clone(&client.inner);
        let (spec, audit) = spec_of(&inner, spec)?;
        let isee = inner
            .isee
            .lock()
            .map_err(|_| Failure::invalid("client", "it failed earlier"))?
            .clone()?;
        let audit = audit.as_deref().map(open_audit).transpose()?;
        let job = Job::<Isee>::start(inner, move |reporter| async move {
            IseeBatch::new(spec)
                .run(isee.as_ref(), audit.as_ref(), |p| reporter.report(p))
                .await
        })?;
        write_out(out_job, Box::into_raw(Box::new(AnistIseeJob(job))));
        Ok(())
    })
}

/// Where the ISEE batch stands, into `*out` (never blocks). Poll it until
/// `state` is no longer `ANIST_JOB_RUNNING`.
#[no_mangle]
pub extern "C" fn anist_isee_job_poll(
    job: *const AnistIseeJob,
    out: *mut AnistIseeJobProgress,
) -> i32 {
    guard(|| {
        let job = handle_ref(job)?;
        out_ptr(out, "out")?;
        write_out(out, job.0.poll());
        Ok(())
    })
}

/// Stops the ISEE batch: the calls in flight are dropped, every answer
/// already journaled stays, and the state becomes `ANIST_JOB_CANCELLED`
/// (unless it had finished). Start it again on the same journal to
/// resume. Returns once the job has stopped.
#[no_mangle]
pub extern "C" fn anist_isee_job_cancel(job: *mut AnistIseeJob) -> i32 {
    guard(|| handle_ref(job)?.0.stop())
}

/// The summary of a finished ISEE batch, into `*out`.
///
/// Returns [`crate::ANIST_OK`] for a completed or paused job (see
/// `state`), [`crate::ANIST_ERR_JOB_NOT_READY`] while it runs,
/// [`crate::ANIST_ERR_CANCELLED`] for a cancelled job, or the status of
/// the error that made it fail, with its message.
#[no_mangle]
pub extern "C" fn anist_isee_job_result(
    job: *const AnistIseeJob,
    out: *mut AnistIseeJobSummary,
) -> i32 {
    guard(|| {
        let job = handle_ref(job)?;
        out_ptr(out, "out")?;
        write_out(out, job.0.result()?);
        Ok(())
    })
}

/// Frees an ISEE batch, cancelling it first if it still runs. NULL is
/// allowed. Never call it from a log callback.
#[no_mangle]
pub extern "C" fn anist_isee_job_free(job: *mut AnistIseeJob) {
    if job.is_null() {
        return;
    }
    guard_void(move || {
        if let Some(job) = take_box(job) {
            let _ = job.0.stop();
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn audit_and_journal_beside_the_output() {
        let (j, a) = beside("/data/esiti.csv", None, None);
        assert_eq!(j, PathBuf::from("/data/esiti.csv.journal"));
        assert_eq!(a, PathBuf::from("/data/anist-audit.sqlite"));
        let (j, a) = beside("esiti.csv", Some("j.db"), Some("a.db"));
        assert_eq!((j, a), (PathBuf::from("j.db"), PathBuf::from("a.db")));
    }
}
