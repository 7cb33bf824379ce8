//! The ANPR *rivestizione* workflow ([`anist_client::rivestizione`]) from
//! C: a workflow opened on a directory, the actions of its users (set up,
//! register, submit, approve / reject, status, download), and the worker
//! as a job (start / poll / cancel / result / free) on a client's threads,
//! so that a GUI thread never blocks on ANPR.
//!
//! Every action is authorised and audited by anist-client; a refusal
//! returns [`crate::ANIST_ERR_DENIED`] (codes `rivestizione_denied`,
//! `rivestizione_profile`), a request in the wrong state
//! [`crate::ANIST_ERR_RIVESTIZIONE`] (`rivestizione_state`,
//! `rivestizione_not_ready`).

use std::ffi::c_char;
use std::path::PathBuf;
use std::sync::Arc;

use anist_client::anpr::{AnprClient, OperationIds};
use anist_client::bulk::JobOutcome;
use anist_client::clock::SystemClock;
use anist_client::rivestizione::{
    layout, AnprLookup, Ente, RequestRecord, Rivestizione, Settings, User, Worker, WorkerReport,
};
use anist_core::rivestizione::{read_subjects, Approval, Profile, Role, Scope};

use crate::client::{client_ref, AnistClient};
use crate::error::{guard, guard_void, Failure};
use crate::job::{handle_ref, Job, JobKind};
use crate::strings::{arg_str, c_string, opt_str, out_ptr, take_box, write_out};

/// A rivestizione workflow on a directory. Opaque: made by
/// [`anist_rivestizione_open`], freed by [`anist_rivestizione_free`]. Its
/// functions may be called from several threads at once.
pub struct AnistRivestizione {
    riv: Rivestizione,
    dir: PathBuf,
}

fn riv_ref<'a>(riv: *const AnistRivestizione) -> Result<&'a AnistRivestizione, Failure> {
    if riv.is_null() {
        return Err(Failure::null("riv"));
    }
    // SAFETY: a non-NULL `riv` was made by `anist_rivestizione_open` and is
    // not freed while the caller uses it (the caller's promise).
    Ok(unsafe { &*riv })
}

/// Opens (creating it when needed) the workflow in the directory `dir`:
/// its store `rivestizione.sqlite`, its audit trail `anist-audit.sqlite`
/// (secret `anist-audit.sqlite.key`) and its response files `files/`.
/// Free it with [`anist_rivestizione_free`].
///
/// Returns [`crate::ANIST_ERR_AUDIT`] (the trail cannot be opened),
/// [`crate::ANIST_ERR_OTHER`] (`rivestizione_store`,
/// `rivestizione_file`: the directory or the store cannot be used).
#[no_mangle]
pub extern "C" fn anist_rivestizione_open(
    dir: *const c_char,
    out_riv: *mut *mut AnistRivestizione,
) -> i32 {
    guard(|| {
        let dir = PathBuf::from(arg_str(dir, "dir")?);
        out_ptr(out_riv, "out_riv")?;
        let riv =
            Rivestizione::open_dir(&dir, Arc::new(SystemClock)).map_err(|e| Failure::of(&e))?;
        write_out(
            out_riv,
            Box::into_raw(Box::new(AnistRivestizione { riv, dir })),
        );
        Ok(())
    })
}

/// Frees a workflow. NULL is allowed. A worker job started from it keeps
/// what it needs and may outlive it.
#[no_mangle]
pub extern "C" fn anist_rivestizione_free(riv: *mut AnistRivestizione) {
    if riv.is_null() {
        return;
    }
    guard_void(move || drop(take_box(riv)));
}

/// Sets the module up, once: the Anagrafe's ente (`ente_id`, `ente_name`,
/// the ISTAT code `comune`), the Comuni served (`comuni`: ISTAT codes or
/// names separated by `,` or `;`), the approval
/// (`silent_assent_seconds` < 0: manual; otherwise requests are approved
/// by silent assent after that many seconds), the days the response files
/// are kept (`retention_days`, 0: 30), and the first TOP user `top_user`
/// named `top_name` (every data set, all Italy).
///
/// Returns [`crate::ANIST_ERR_CONFIG`] (`rivestizione_setup`: set up
/// already), [`crate::ANIST_ERR_AUDIT`].
#[no_mangle]
#[allow(clippy::too_many_arguments)]
pub extern "C" fn anist_rivestizione_setup(
    riv: *const AnistRivestizione,
    top_user: *const c_char,
    top_name: *const c_char,
    ente_id: *const c_char,
    ente_name: *const c_char,
    comune: *const c_char,
    comuni: *const c_char,
    silent_assent_seconds: i64,
    retention_days: u32,
) -> i32 {
    guard(|| {
        let riv = riv_ref(riv)?;
        let top_user = arg_str(top_user, "top_user")?;
        let top_name = arg_str(top_name, "top_name")?;
        let ente_id = arg_str(ente_id, "ente_id")?;
        let ente_name = arg_str(ente_name, "ente_name")?;
        let comune = arg_str(comune, "comune")?;
        let comuni = arg_str(comuni, "comuni")?
            .split([',', ';'])
            .map(str::trim)
            .filter(|c| !c.is_empty())
            .map(str::to_owned)
            .collect();
        let approval = match u64::try_from(silent_assent_seconds) {
            Ok(after_seconds) => Approval::SilentAssent { after_seconds },
            Err(_) => Approval::Manual,
        };
        let settings = Settings {
            approval,
            retention_days: if retention_days == 0 {
                Settings::default().retention_days
            } else {
                retention_days
            },
            comuni,
        };
        let ente = Ente {
            id: ente_id.to_owned(),
            nome: ente_name.to_owned(),
            comune: comune.to_owned(),
        };
        riv.riv
            .setup(settings, ente, top_user, top_name)
            .map_err(|e| Failure::of(&e))
    })
}

/// Adds (or renames) an ente fruitore (TOP `actor`).
///
/// Returns [`crate::ANIST_ERR_DENIED`], [`crate::ANIST_ERR_INVALID_ARGUMENT`]
/// (`rivestizione_no_user`).
#[no_mangle]
pub extern "C" fn anist_rivestizione_add_ente(
    riv: *const AnistRivestizione,
    actor: *const c_char,
    ente_id: *const c_char,
    ente_name: *const c_char,
    comune: *const c_char,
) -> i32 {
    guard(|| {
        let riv = riv_ref(riv)?;
        let actor = arg_str(actor, "actor")?;
        let ente = Ente {
            id: arg_str(ente_id, "ente_id")?.to_owned(),
            nome: arg_str(ente_name, "ente_name")?.to_owned(),
            comune: arg_str(comune, "comune")?.to_owned(),
        };
        riv.riv.add_ente(actor, ente).map_err(|e| Failure::of(&e))
    })
}

/// Registers `user` named `name`, with `role` (`top`, `admin`,
/// `standard`), in `ente`, with the profile of `data` (Tabella-16 names or
/// codes separated by `,`, `;` or blanks: `generalita,residenza`) and
/// `scope` (`convenzionati` or `italia`; NULL: `convenzionati`).
///
/// Returns [`crate::ANIST_ERR_DENIED`] (the actor may not, or not with
/// that profile), [`crate::ANIST_ERR_INVALID_ARGUMENT`] (a bad role, scope
/// or data set; `rivestizione_no_ente`, `rivestizione_user_exists`).
#[no_mangle]
#[allow(clippy::too_many_arguments)]
pub extern "C" fn anist_rivestizione_register_user(
    riv: *const AnistRivestizione,
    actor: *const c_char,
    user: *const c_char,
    name: *const c_char,
    role: *const c_char,
    ente: *const c_char,
    data: *const c_char,
    scope: *const c_char,
) -> i32 {
    guard(|| {
        let riv = riv_ref(riv)?;
        let actor = arg_str(actor, "actor")?;
        let role_text = arg_str(role, "role")?;
        let role = Role::parse(role_text)
            .ok_or_else(|| Failure::invalid("role", "use \"top\", \"admin\" or \"standard\""))?;
        let scope = match opt_str(scope, "scope")? {
            None => Scope::Convenzionati,
            Some(s) => Scope::parse(s)
                .ok_or_else(|| Failure::invalid("scope", "use \"convenzionati\" or \"italia\""))?,
        };
        let data = Profile::parse_data(arg_str(data, "data")?).map_err(|e| Failure::of(&e))?;
        let user = User {
            id: arg_str(user, "user")?.to_owned(),
            nome: arg_str(name, "name")?.to_owned(),
            role,
            ente: arg_str(ente, "ente")?.to_owned(),
            active: true,
            profile: Profile { data, scope },
        };
        riv.riv
            .register_user(actor, user)
            .map_err(|e| Failure::of(&e))
    })
}

/// The `len` bytes at `ptr` (NULL only when `len` is 0).
fn byte_slice<'a>(ptr: *const u8, len: usize, name: &str) -> Result<&'a [u8], Failure> {
    if len == 0 {
        return Ok(&[]);
    }
    if ptr.is_null() {
        return Err(Failure::null(name));
    }
    // SAFETY: the caller of the exported function promises a non-NULL
    // `ptr` points to `len` readable bytes that stay valid and unchanged
    // during the call.
    Ok(unsafe { std::slice::from_raw_parts(ptr, len) })
}

/// Submits a request (STANDARD `user`) about the subjects of a request
/// file: `csv`, `len` bytes (CSV with the columns `tipo;identificativo`, or
/// a `codice_fiscale` column; bad rows are counted, never sent), with
/// `motivo` (the reference of the practice, mandatory), asking `asked`
/// (Tabella-16 names separated by `,`: `generalita,residenza`; NULL: the
/// user's whole profile) within the user's scope. Writes the request's
/// number into `*out_id`.
///
/// Returns [`crate::ANIST_ERR_DENIED`] (`rivestizione_denied`,
/// `rivestizione_profile`: more than the profile),
/// [`crate::ANIST_ERR_INVALID_ARGUMENT`] (`rivestizione_motivo`,
/// `rivestizione_empty`, `rivestizione_file_columns`, …).
#[no_mangle]
pub extern "C" fn anist_rivestizione_submit(
    riv: *const AnistRivestizione,
    user: *const c_char,
    motivo: *const c_char,
    csv: *const u8,
    len: usize,
    asked: *const c_char,
    out_id: *mut i64,
) -> i32 {
    guard(|| {
        let riv = riv_ref(riv)?;
        let user = arg_str(user, "user")?;
        let motivo = arg_str(motivo, "motivo")?;
        out_ptr(out_id, "out_id")?;
        let file = read_subjects(byte_slice(csv, len, "csv")?).map_err(|e| Failure::of(&e))?;
        let asked = opt_str(asked, "asked")?
            .map(Profile::parse_data)
            .transpose()
            .map_err(|e| Failure::of(&e))?;
        let id = riv
            .riv
            .submit(user, motivo, asked, file)
            .map_err(|e| Failure::of(&e))?;
        write_out(out_id, id);
        Ok(())
    })
}

/// Approves request `id` (TOP `actor`): the worker will process it.
///
/// Returns [`crate::ANIST_ERR_DENIED`] (not a TOP),
/// [`crate::ANIST_ERR_RIVESTIZIONE`] (`rivestizione_state`: decided
/// already), [`crate::ANIST_ERR_INVALID_ARGUMENT`]
/// (`rivestizione_no_request`).
#[no_mangle]
pub extern "C" fn anist_rivestizione_approve(
    riv: *const AnistRivestizione,
    actor: *const c_char,
    id: i64,
) -> i32 {
    guard(|| {
        let riv = riv_ref(riv)?;
        let actor = arg_str(actor, "actor")?;
        riv.riv.approve(actor, id).map_err(|e| Failure::of(&e))
    })
}

/// Rejects request `id` (TOP `actor`) with `reason`: nothing reaches ANPR.
/// Statuses as [`anist_rivestizione_approve`], and
/// [`crate::ANIST_ERR_INVALID_ARGUMENT`] for a blank reason.
#[no_mangle]
pub extern "C" fn anist_rivestizione_reject(
    riv: *const AnistRivestizione,
    actor: *const c_char,
    id: i64,
    reason: *const c_char,
) -> i32 {
    guard(|| {
        let riv = riv_ref(riv)?;
        let actor = arg_str(actor, "actor")?;
        let reason = arg_str(reason, "reason")?;
        riv.riv
            .reject(actor, id, reason)
            .map_err(|e| Failure::of(&e))
    })
}

/// A request's status (counts only, no subject's data).
fn status_json(r: &RequestRecord) -> serde_json::Value {
    serde_json::json!({
        "id": r.id,
        "state": r.state.as_str(),
        "state_label": r.state.label(),
        "owner": r.owner,
        "ente": r.ente,
        "subjects": r.subjects,
        "answered": r.answered,
        "bad_rows": r.bad_rows,
        "submitted_at": r.submitted_at,
        "decided_by": r.decided_by,
        "reason": r.reason,
        "error": r.error,
        "file": r.file,
    })
}

/// The status of request `id`, if `user` may see it (TOP: every request;
/// ADMIN: its ente's; STANDARD: its own), into `*out_json` as a JSON
/// object (free it with [`crate::anist_string_free`]): `id`, `state`
/// (`awaiting_approval`, `approved`, `processing`, `done`, `rejected`,
/// `failed`, `expired`), `state_label` (in Italian), `owner`, `ente`,
/// `subjects`, `answered`, `bad_rows`, `submitted_at` (seconds since the
/// epoch), `decided_by`, `reason`, `error`, `file` (null when absent).
///
/// Returns [`crate::ANIST_ERR_DENIED`], [`crate::ANIST_ERR_INVALID_ARGUMENT`]
/// (`rivestizione_no_request`, `rivestizione_no_user`).
#[no_mangle]
pub extern "C" fn anist_rivestizione_status(
    riv: *const AnistRivestizione,
    user: *const c_char,
    id: i64,
    out_json: *mut *mut c_char,
) -> i32 {
    guard(|| {
        let riv = riv_ref(riv)?;
        let user = arg_str(user, "user")?;
        out_ptr(out_json, "out_json")?;
        let r = riv.riv.request(user, id).map_err(|e| Failure::of(&e))?;
        write_out(out_json, c_string(&status_json(&r).to_string()));
        Ok(())
    })
}

/// The statuses of the requests `user` may see, oldest first, into
/// `*out_json` as a JSON array of the objects of
/// [`anist_rivestizione_status`] (free it with
/// [`crate::anist_string_free`]).
#[no_mangle]
pub extern "C" fn anist_rivestizione_requests(
    riv: *const AnistRivestizione,
    user: *const c_char,
    out_json: *mut *mut c_char,
) -> i32 {
    guard(|| {
        let riv = riv_ref(riv)?;
        let user = arg_str(user, "user")?;
        out_ptr(out_json, "out_json")?;
        let list: Vec<_> = riv
            .riv
            .requests(user)
            .map_err(|e| Failure::of(&e))?
            .iter()
            .map(status_json)
            .collect();
        write_out(
            out_json,
            c_string(&serde_json::Value::from(list).to_string()),
        );
        Ok(())
    })
}

/// The path of the response file of request `id` (a CSV for Excel: its
/// requester only, once done), into `*out_path` (free it with
/// [`crate::anist_string_free`]); recorded as downloaded.
///
/// Returns [`crate::ANIST_ERR_RIVESTIZIONE`] (`rivestizione_not_ready`:
/// not done yet, or purged), [`crate::ANIST_ERR_DENIED`] (not the
/// requester).
#[no_mangle]
pub extern "C" fn anist_rivestizione_download(
    riv: *const AnistRivestizione,
    user: *const c_char,
    id: i64,
    out_path: *mut *mut c_char,
) -> i32 {
    guard(|| {
        let riv = riv_ref(riv)?;
        let user = arg_str(user, "user")?;
        out_ptr(out_path, "out_path")?;
        let path = riv.riv.download(user, id).map_err(|e| Failure::of(&e))?;
        write_out(out_path, c_string(&path.to_string_lossy()));
        Ok(())
    })
}

/// Where a worker job stands.
#[repr(C)]
#[derive(Debug, Clone, Copy, Default)]
pub struct AnistRivestizioneJobProgress {
    /// `ANIST_JOB_*`.
    pub state: i32,
    /// Requests completed (once finished).
    pub completed: u64,
    /// Subjects asked about (once finished).
    pub subjects: u64,
}

/// What a finished worker job did.
#[repr(C)]
#[derive(Debug, Clone, Copy, Default)]
pub struct AnistRivestizioneJobSummary {
    /// `ANIST_JOB_COMPLETED`.
    pub state: i32,
    /// Requests approved by silent assent.
    pub assented: u64,
    /// Requests completed (their files can be downloaded).
    pub completed: u64,
    /// Subjects asked about.
    pub subjects: u64,
    /// Requests whose files were purged after the retention time.
    pub purged: u64,
}

/// One pass of the rivestizione worker.
pub(crate) struct RivWorker;

impl JobKind for RivWorker {
    type Counts = WorkerReport;
    type Summary = WorkerReport;
    type Progress = AnistRivestizioneJobProgress;
    type CSummary = AnistRivestizioneJobSummary;
    const NAME: &'static str = "rivestizione-worker";

    fn set_state(p: &mut AnistRivestizioneJobProgress, state: i32) {
        p.state = state;
    }

    fn set_counts(
        p: &mut AnistRivestizioneJobProgress,
        rows_done: u64,
        _rows_total: u64,
        c: &WorkerReport,
    ) {
        p.completed = c.completed.len() as u64;
        p.subjects = rows_done;
    }

    fn set_rate(_p: &mut AnistRivestizioneJobProgress, _rate: f64) {}

    fn rows(s: &WorkerReport) -> (u64, u64, &WorkerReport) {
        (s.subjects, s.subjects, s)
    }

    fn summary_of(state: i32, s: &WorkerReport) -> AnistRivestizioneJobSummary {
        AnistRivestizioneJobSummary {
            state,
            assented: s.assented,
            completed: s.completed.len() as u64,
            subjects: s.subjects,
            purged: s.purged,
        }
    }
}

/// A worker job running on a client's threads. Opaque: made by
/// [`anist_rivestizione_worker_start`], freed by
/// [`anist_rivestizione_job_free`].
pub struct AnistRivestizioneJob(Job<RivWorker>);

/// The ISTAT code an identity card without its issuer is taken from: the
/// Anagrafe's (the TOP users' ente), else the first Comune served.
fn comune_of(riv: &Rivestizione) -> Result<String, Failure> {
    let store = riv.store();
    let users = store.users().map_err(|e| Failure::of(&e))?;
    if let Some(top) = users.iter().find(|u| u.role == Role::Top) {
        if let Some(e) = store.ente(&top.ente).map_err(|e| Failure::of(&e))? {
            return Ok(e.comune);
        }
    }
    let settings = riv.settings().map_err(|e| Failure::of(&e))?;
    Ok(settings.comuni.into_iter().next().unwrap_or_default())
}

/// Starts one pass of the worker of `riv` on `client`'s threads, through
/// the client's ANPR e-services (PDND E002; the operation ids in the
/// workflow's `anist-anpr-ids.sqlite`): requests approved by silent assent,
/// every approved request asked to ANPR (`concurrency` subjects at once,
/// 0: 4) and its response file written, old files purged. Returns at once
/// with the job in `*out_job`: poll it with
/// [`anist_rivestizione_job_poll`] (e.g. from a GUI timer), then read
/// [`anist_rivestizione_job_result`] and free it with
/// [`anist_rivestizione_job_free`]. Subjects by document need the
/// Comune's SOAP channel, which this function does not configure: they get
/// the outcome `error` (`rivestizione_no_document_channel`).
///
/// Returns [`crate::ANIST_ERR_CONFIG`] (`rivestizione_setup`: not set
/// up); errors of the pass itself come from
/// [`anist_rivestizione_job_result`].
#[no_mangle]
pub extern "C" fn anist_rivestizione_worker_start(
    riv: *const AnistRivestizione,
    client: *const AnistClient,
    concurrency: u32,
    out_job: *mut *mut AnistRivestizioneJob,
) -> i32 {
    guard(|| {
        let riv = riv_ref(riv)?;
        let client = client_ref(client)?;
        out_ptr(out_job, "out_job")?;
        let comune = comune_of(&riv.riv)?;
        let ids =
            OperationIds::open(&riv.dir.join(layout::ANPR_IDS)).map_err(|e| Failure::of(&e))?;
        let inner = Arc::clone(&client.inner);
        let anpr = AnprClient::new(Arc::clone(inner.anist.session()), Arc::new(ids));
        let lookup = Arc::new(AnprLookup::new(anpr, None, &comune));
        let concurrency = if concurrency == 0 {
            4
        } else {
            concurrency as usize
        };
        let worker = Worker::new(riv.riv.clone(), lookup, concurrency);
        let job = Job::<RivWorker>::start(inner, move |_reporter| async move {
            worker.run_once().await.map(JobOutcome::Completed)
        })?;
        write_out(out_job, Box::into_raw(Box::new(AnistRivestizioneJob(job))));
        Ok(())
    })
}

/// Where the worker job stands, into `*out` (never blocks). Poll it until
/// `state` is no longer `ANIST_JOB_RUNNING`.
#[no_mangle]
pub extern "C" fn anist_rivestizione_job_poll(
    job: *const AnistRivestizioneJob,
    out: *mut AnistRivestizioneJobProgress,
) -> i32 {
    guard(|| {
        let job = handle_ref(job)?;
        out_ptr(out, "out")?;
        write_out(out, job.0.poll());
        Ok(())
    })
}

/// Stops the worker job: every subject already answered stays recorded,
/// the request being processed stays `processing` and the next pass
/// resumes it; the state becomes `ANIST_JOB_CANCELLED` (unless it had
/// finished).
#[no_mangle]
pub extern "C" fn anist_rivestizione_job_cancel(job: *mut AnistRivestizioneJob) -> i32 {
    guard(|| handle_ref(job)?.0.stop())
}

/// The summary of a finished worker job, into `*out`. Returns
/// [`crate::ANIST_OK`], [`crate::ANIST_ERR_JOB_NOT_READY`] while it runs,
/// [`crate::ANIST_ERR_CANCELLED`], or the status of the error that made it
/// fail (the store's, the trail's, the response file's).
#[no_mangle]
pub extern "C" fn anist_rivestizione_job_result(
    job: *const AnistRivestizioneJob,
    out: *mut AnistRivestizioneJobSummary,
) -> i32 {
    guard(|| {
        let job = handle_ref(job)?;
        out_ptr(out, "out")?;
        write_out(out, job.0.result()?);
        Ok(())
    })
}

/// Frees a worker job, cancelling it first if it still runs. NULL is
/// allowed. Never call it from a log callback.
#[no_mangle]
pub extern "C" fn anist_rivestizione_job_free(job: *mut AnistRivestizioneJob) {
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
#[allow(clippy::unwrap_used)]
mod tests {
    use std::ffi::{CStr, CString};

    use super::*;
    use crate::{
        anist_last_error_code, anist_string_free, ANIST_ERR_DENIED, ANIST_ERR_INVALID_ARGUMENT,
        ANIST_ERR_NULL_ARGUMENT, ANIST_ERR_RIVESTIZIONE, ANIST_OK,
    };

    fn c(s: &str) -> CString {
        CString::new(s).unwrap()
    }

    fn last_code() -> String {
        let mut buf = [0 as c_char; 64];
        assert_eq!(anist_last_error_code(buf.as_mut_ptr(), buf.len()), ANIST_OK);
        // SAFETY: the library wrote a NUL-terminated code into `buf`.
        unsafe { CStr::from_ptr(buf.as_ptr()) }
            .to_string_lossy()
            .into_owned()
    }

    fn take_json(p: *mut c_char) -> serde_json::Value {
        assert!(!p.is_null());
        // SAFETY: `p` is a NUL-terminated string made by the library.
        let text = unsafe { CStr::from_ptr(p) }.to_str().unwrap().to_owned();
        anist_string_free(p);
        serde_json::from_str(&text).unwrap()
    }

    #[test]
    fn the_actions_without_anpr() {
        let dir = std::env::temp_dir().join(format!("anist-c-riv-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let dir_c = c(dir.to_str().unwrap());
        let mut riv: *mut AnistRivestizione = std::ptr::null_mut();
        assert_eq!(
            anist_rivestizione_open(std::ptr::null(), &mut riv),
            ANIST_ERR_NULL_ARGUMENT
        );
        assert_eq!(anist_rivestizione_open(dir_c.as_ptr(), &mut riv), ANIST_OK);
        assert!(!riv.is_null());

        let (top, u1, comune) = (c("top"), c("u1"), c("001272"));
        let (anagrafe, nome) = (c("anagrafe"), c("Anagrafe"));
        assert_eq!(
            anist_rivestizione_setup(
                riv,
                top.as_ptr(),
                nome.as_ptr(),
                anagrafe.as_ptr(),
                nome.as_ptr(),
                comune.as_ptr(),
                comune.as_ptr(),
                -1,
                0
            ),
            ANIST_OK
        );
        // Not UTF-8: refused, nothing done.
        let bad = [0xffu8 as c_char, 0];
        let (standard, data, italia) = (c("standard"), c("generalita residenza"), c("italia"));
        assert_eq!(
            anist_rivestizione_register_user(
                riv,
                top.as_ptr(),
                bad.as_ptr(),
                nome.as_ptr(),
                standard.as_ptr(),
                anagrafe.as_ptr(),
                data.as_ptr(),
                italia.as_ptr()
            ),
            ANIST_ERR_INVALID_ARGUMENT
        );
        assert_eq!(
            anist_rivestizione_register_user(
                riv,
                top.as_ptr(),
                u1.as_ptr(),
                nome.as_ptr(),
                standard.as_ptr(),
                anagrafe.as_ptr(),
                data.as_ptr(),
                italia.as_ptr()
            ),
            ANIST_OK
        );

        let csv = b"tipo;identificativo\nCF;RSSMRA80A01H501U\nCF;XXX\n";
        let motivo = c("prot. 1");
        let mut id = 0i64;
        assert_eq!(
            anist_rivestizione_submit(
                riv,
                u1.as_ptr(),
                motivo.as_ptr(),
                csv.as_ptr(),
                csv.len(),
                std::ptr::null(),
                &mut id
            ),
            ANIST_OK
        );
        let mut json: *mut c_char = std::ptr::null_mut();
        assert_eq!(
            anist_rivestizione_status(riv, u1.as_ptr(), id, &mut json),
            ANIST_OK
        );
        let status = take_json(json);
        assert_eq!(status["id"], id);
        assert_eq!(status["state"], "awaiting_approval");
        assert_eq!(status["subjects"], 1);
        assert_eq!(status["bad_rows"], 1);
        assert!(status["file"].is_null());

        assert_eq!(
            anist_rivestizione_approve(riv, u1.as_ptr(), id),
            ANIST_ERR_DENIED
        );
        assert_eq!(last_code(), "rivestizione_denied");
        let reason = c("manca il protocollo");
        assert_eq!(
            anist_rivestizione_reject(riv, top.as_ptr(), id, reason.as_ptr()),
            ANIST_OK
        );
        assert_eq!(
            anist_rivestizione_approve(riv, top.as_ptr(), id),
            ANIST_ERR_RIVESTIZIONE
        );
        assert_eq!(last_code(), "rivestizione_state");
        let mut json: *mut c_char = std::ptr::null_mut();
        assert_eq!(
            anist_rivestizione_requests(riv, top.as_ptr(), &mut json),
            ANIST_OK
        );
        let list = take_json(json);
        assert_eq!(list[0]["state"], "rejected");
        assert_eq!(list[0]["reason"], "manca il protocollo");

        anist_rivestizione_free(riv);
        let _ = std::fs::remove_dir_all(&dir);
    }
}
