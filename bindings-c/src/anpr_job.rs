//! The ANPR massive job (the job of `anist anpr massiva`) as start / poll /
//! cancel / result / free, like the attendance and ISEE jobs: a CSV of
//! codici fiscali or ID ANPR in, one outcome per row out, journaled and
//! resumable, on the client's threads. Every identifier is audited.

use std::ffi::c_char;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use anist_client::anpr::massive::{MassiveClient, ServizioMassivo};
use anist_client::anpr::{AnprClient, OperationIds};
use anist_client::bulk::anpr_massiva::{MassivaCounts, MassivaJob, MassivaSpec, MassivaSummary};

use crate::anpr::{ANIST_ANPR_ID_ANPR, ANIST_ANPR_RESIDENZA};
use crate::client::open_audit;
use crate::client::{client_ref, AnistClient};
use crate::error::{guard, guard_void, Failure};
use crate::ids::{parse_date, today};
use crate::job::{handle_ref, journal_beside, Job, JobKind};
use crate::strings::{arg_str, opt_str, out_ptr, take_box, write_out};

/// What an ANPR massive job works on. Every string is NUL-terminated
/// UTF-8; NULL means "not given". Zero the struct (`memset`, `= {0}`) and
/// set what you need.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct AnistAnprJobSpec {
    /// The CSV of codici fiscali or ID ANPR (required; the column found by
    /// its header, or `column`).
    pub input: *const c_char,
    /// The output CSV, written at the end (required).
    pub output: *const c_char,
    /// The journal (NULL: `<output>.journal`); an existing journal is
    /// resumed (polling again, never submitting twice).
    pub journal: *const c_char,
    /// `ANIST_ANPR_ID_ANPR` (C030 massivo, the default when 0) or
    /// `ANIST_ANPR_RESIDENZA` (C020 massivo).
    pub servizio: i32,
    /// `motivoRichiesta`, the reference of the file (required).
    pub motivo: *const c_char,
    /// The reference date, `YYYY-MM-DD` (NULL: today).
    pub date: *const c_char,
    /// The code column, by header name (NULL: found by alias).
    pub column: *const c_char,
    /// The audit trail database (NULL: `anist-audit.sqlite` beside the
    /// output; its secret `<audit>.key`).
    pub audit: *const c_char,
    /// The store of the operation ids (NULL: `anist-anpr-ids.sqlite`).
    pub ids: *const c_char,
    /// Polls of one run before it pauses (0: 720).
    pub max_polls: u32,
    /// Seconds between polls (0: 5; a sandbox client: 0.1).
    pub poll_seconds: f64,
}

/// Where an ANPR massive job stands (counts only: no personal data).
#[repr(C)]
#[derive(Debug, Clone, Copy, Default)]
pub struct AnistAnprJobProgress {
    /// `ANIST_JOB_*`.
    pub state: i32,
    /// Rows with their final outcome (across runs of the job).
    pub rows_done: u64,
    /// Rows in the input (0 until it is read).
    pub rows_total: u64,
    /// Rows `found`.
    pub found: u64,
    /// Rows `not_found`.
    pub not_found: u64,
    /// Rows `invalid_code`.
    pub invalid_code: u64,
    /// Rows `error`.
    pub error: u64,
    /// Rows finished per second during this run.
    pub rate: f64,
}

/// What a finished ANPR massive job did.
#[repr(C)]
#[derive(Debug, Clone, Copy, Default)]
pub struct AnistAnprJobSummary {
    /// `ANIST_JOB_COMPLETED` or `ANIST_JOB_PAUSED` (ANPR has a request
    /// pending, or the file is not ready: start it again later).
    pub state: i32,
    /// Rows in the input.
    pub rows_total: u64,
    /// Rows with their final outcome.
    pub rows_done: u64,
    /// Distinct valid identifiers.
    pub distinct: u64,
    /// Rows `found`.
    pub found: u64,
    /// Rows `not_found`.
    pub not_found: u64,
    /// Rows `invalid_code`.
    pub invalid_code: u64,
    /// Rows `error`.
    pub error: u64,
    /// Massive submits of this run.
    pub submits: u64,
    /// Polls of this run.
    pub polls: u64,
    /// Identifiers asked singly by this run (omitted by ANPR's file).
    pub singles: u64,
    /// Duration of this run, in seconds.
    pub duration_seconds: f64,
}

/// The ANPR massive job.
pub(crate) struct Massiva;

impl JobKind for Massiva {
    type Counts = MassivaCounts;
    type Summary = MassivaSummary;
    type Progress = AnistAnprJobProgress;
    type CSummary = AnistAnprJobSummary;
    const NAME: &'static str = "anpr-massiva";

    fn set_state(p: &mut AnistAnprJobProgress, state: i32) {
        p.state = state;
    }

    fn set_counts(
        p: &mut AnistAnprJobProgress,
        rows_done: u64,
        rows_total: u64,
        c: &MassivaCounts,
    ) {
        p.rows_done = rows_done;
        p.rows_total = rows_total;
        p.found = c.found;
        p.not_found = c.not_found;
        p.invalid_code = c.invalid_code;
        p.error = c.error;
    }

    fn set_rate(p: &mut AnistAnprJobProgress, rate: f64) {
        p.rate = rate;
    }

    fn rows(s: &MassivaSummary) -> (u64, u64, &MassivaCounts) {
        (s.rows_done, s.rows_total, &s.outcomes)
    }

    fn summary_of(state: i32, s: &MassivaSummary) -> AnistAnprJobSummary {
        let o = &s.outcomes;
        AnistAnprJobSummary {
            state,
            rows_total: s.rows_total,
            rows_done: s.rows_done,
            distinct: s.distinct,
            found: o.found,
            not_found: o.not_found,
            invalid_code: o.invalid_code,
            error: o.error,
            submits: s.submits,
            polls: s.polls,
            singles: s.singles,
            duration_seconds: s.duration_seconds,
        }
    }
}

/// An ANPR massive job running on a client's threads. Opaque: made by
/// [`anist_anpr_job_start`], freed by [`anist_anpr_job_free`].
pub struct AnistAnprJob(Job<Massiva>);

/// Reads the C spec: the job's spec, the audit path and the id store path.
fn spec_of(
    spec: *const AnistAnprJobSpec,
    sandbox: bool,
) -> Result<(MassivaSpec, PathBuf, PathBuf), Failure> {
    if spec.is_null() {
        return Err(Failure::null("spec"));
    }
    // SAFETY: the caller promises a non-NULL `spec` points to an
    // `AnistAnprJobSpec` valid during the call (its strings checked below).
    let s = unsafe { &*spec };
    let input = arg_str(s.input, "spec.input")?;
    let output = arg_str(s.output, "spec.output")?;
    let servizio = match s.servizio {
        0 | ANIST_ANPR_ID_ANPR => ServizioMassivo::IdAnpr,
        ANIST_ANPR_RESIDENZA => ServizioMassivo::Residenza,
        other => {
            return Err(Failure::invalid(
                "spec.servizio",
                format!("{other}: use ANIST_ANPR_ID_ANPR or ANIST_ANPR_RESIDENZA"),
            ))
        }
    };
    let motivo = arg_str(s.motivo, "spec.motivo")?;
    let date = match opt_str(s.date, "spec.date")? {
        Some(d) => parse_date(d, "spec.date")?,
        None => today(),
    };
    let journal = journal_beside(output, opt_str(s.journal, "spec.journal")?);
    let mut out = MassivaSpec::new(input, output, journal, servizio, motivo, date);
    out.column = opt_str(s.column, "spec.column")?.map(str::to_string);
    if s.max_polls > 0 {
        out.max_polls = s.max_polls;
    }
    out.options.poll_interval = if s.poll_seconds.is_finite() && s.poll_seconds > 0.0 {
        Duration::from_secs_f64(s.poll_seconds)
    } else if s.poll_seconds == 0.0 {
        Duration::from_millis(if sandbox { 100 } else { 5_000 })
    } else {
        return Err(Failure::invalid(
            "spec.poll_seconds",
            "a non-negative number of seconds",
        ));
    };
    let audit = opt_str(s.audit, "spec.audit")?.map_or_else(
        || {
            Path::new(output)
                .parent()
                .unwrap_or_else(|| Path::new(""))
                .join("anist-audit.sqlite")
        },
        PathBuf::from,
    );
    let ids = PathBuf::from(opt_str(s.ids, "spec.ids")?.unwrap_or("anist-anpr-ids.sqlite"));
    Ok((out, audit, ids))
}

/// Starts the ANPR massive job of `spec` (the job of `anist anpr massiva`):
/// one massive request, polled until ANPR's file is ready, the subjects it
/// omitted asked again singly, one outcome per input row in the output.
/// Returns at once with the job in `*out_job`: poll it with
/// [`anist_anpr_job_poll`], then read [`anist_anpr_job_result`] and free
/// it with [`anist_anpr_job_free`]. Every identifier is recorded in the
/// audit trail.
///
/// Returns [`crate::ANIST_ERR_INVALID_ARGUMENT`] (a bad service, date or
/// poll interval; a missing motivo), [`crate::ANIST_ERR_AUDIT`] (the audit
/// trail cannot be opened); errors of the job itself (unreadable input,
/// journal of another job…) come from [`anist_anpr_job_result`].
#[no_mangle]
pub extern "C" fn anist_anpr_job_start(
    client: *const AnistClient,
    spec: *const AnistAnprJobSpec,
    out_job: *mut *mut AnistAnprJob,
) -> i32 {
    guard(|| {
        let client = client_ref(client)?;
        out_ptr(out_job, "out_job")?;
        let inner = Arc::clone(&client.inner);
        let sandbox = inner
            .sandbox
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .is_some();
        let (mut spec, audit, ids) = spec_of(spec, sandbox)?;
        if spec.motivo.trim().is_empty() {
            return Err(Failure::new(
                anist_core::ErrorKind::InvalidArgument,
                "anpr_motivo_missing",
                "the motivo is mandatory: the reference of the file (e.g. \"prot. 123\")",
            ));
        }
        spec.options.audit_identity(inner.anist.session());
        let audit = Arc::new(open_audit(&audit)?);
        let ids = Arc::new(OperationIds::open(&ids).map_err(|e| Failure::of(&e))?);
        let session = Arc::clone(inner.anist.session());
        let massive = MassiveClient::new(Arc::clone(&session), Arc::clone(&ids));
        let single = AnprClient::new(session, ids).with_audit(Arc::clone(&audit));
        let job = Job::<Massiva>::start(inner, move |reporter| async move {
            MassivaJob::new(spec)
                .run(&massive, &single, Some(&audit), |p| reporter.report(p))
                .await
        })?;
        write_out(out_job, Box::into_raw(Box::new(AnistAnprJob(job))));
        Ok(())
    })
}

/// Where the ANPR massive job stands, into `*out` (never blocks). Poll it
/// until `state` is no longer `ANIST_JOB_RUNNING`.
#[no_mangle]
pub extern "C" fn anist_anpr_job_poll(
    job: *const AnistAnprJob,
    out: *mut AnistAnprJobProgress,
) -> i32 {
    guard(|| {
        let job = handle_ref(job)?;
        out_ptr(out, "out")?;
        write_out(out, job.0.poll());
        Ok(())
    })
}

/// Stops the ANPR massive job: what is journaled stays (the submitted
/// request's id too), and the state becomes `ANIST_JOB_CANCELLED` (unless
/// it had finished). Start it again on the same journal to resume it.
#[no_mangle]
pub extern "C" fn anist_anpr_job_cancel(job: *mut AnistAnprJob) -> i32 {
    guard(|| handle_ref(job)?.0.stop())
}

/// The summary of a finished ANPR massive job, into `*out`. Statuses as
/// [`crate::anist_job_result`].
#[no_mangle]
pub extern "C" fn anist_anpr_job_result(
    job: *const AnistAnprJob,
    out: *mut AnistAnprJobSummary,
) -> i32 {
    guard(|| {
        let job = handle_ref(job)?;
        out_ptr(out, "out")?;
        write_out(out, job.0.result()?);
        Ok(())
    })
}

/// Frees an ANPR massive job, cancelling it first if it still runs. NULL
/// is allowed. Never call it from a log callback.
#[no_mangle]
pub extern "C" fn anist_anpr_job_free(job: *mut AnistAnprJob) {
    if job.is_null() {
        return;
    }
    guard_void(move || {
        if let Some(job) = take_box(job) {
            let _ = job.0.stop();
        }
    });
}
