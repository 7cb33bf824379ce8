//! The ANIST client: from a configuration file or from a sandbox the
//! library starts, and the single calls (verify, ascertain, last status).

use std::ffi::c_char;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use anist_client::anist::{
    AnistClient as RustClient, Answer, AttendanceService, Query, Subject, YearSelector,
};
use anist_client::audit::{AuditLog, DEFAULT_FILE};
use anist_client::clock::SystemClock;
use anist_client::config::Config;
use anist_client::isee::IseeClient;
use anist_client::sandbox::{Sandbox, SandboxConfig, SandboxHandle};
use anist_core::anpr::IdAnpr;
use anist_core::attendance::Frequenza;
use anist_core::cf::CodiceFiscale;
use anist_core::meccanografico::CodiceMeccanografico;
use anist_core::school::SchoolYear;
use tokio::runtime::Runtime;

use crate::error::{guard, guard_void, Failure};
use crate::ids::school_year_of;
use crate::strings::{arg_str, c_string, clear_strings, opt_str, out_ptr, take_box, write_out};

/// A client of the ANIST e-services, with its own threads. Opaque: made
/// by [`anist_client_from_config`] or [`anist_client_start_sandbox`],
/// freed by [`anist_client_free`]. Its functions may be called from
/// several threads at once.
pub struct AnistClient {
    pub(crate) inner: Arc<ClientInner>,
}

/// What a client and its jobs share. Dropped (runtime shut down, sandbox
/// stopped) when the client and every job made from it are freed.
pub(crate) struct ClientInner {
    runtime: Option<Runtime>,
    pub(crate) anist: Arc<RustClient>,
    /// The INPS ISEE client of the same session, or why there is none
    /// (a configuration without `[inps]`): the `anist_isee_*` calls
    /// return that failure.
    pub(crate) isee: Mutex<Result<Arc<IseeClient>, Failure>>,
    pub(crate) sandbox: Mutex<Option<SandboxHandle>>,
    /// Single calls in flight in a bulk job, when configured.
    pub(crate) concurrency: Option<usize>,
    /// Wait between two polls of a massive job, when not the default.
    pub(crate) poll_interval: Option<Duration>,
    /// Where the single lookups are recorded (`None` once the caller
    /// opted out), and the trail once opened.
    audit: Mutex<(Option<PathBuf>, Option<Arc<AuditLog>>)>,
}

impl ClientInner {
    /// The audit trail of the single lookups, opened at the first one;
    /// `None` when the caller opted out ([`anist_client_disable_audit`]).
    pub(crate) fn trail(&self) -> Result<Option<Arc<AuditLog>>, Failure> {
        let mut slot = self
            .audit
            .lock()
            .map_err(|_| Failure::invalid("client", "it failed earlier"))?;
        let (path, trail) = &mut *slot;
        let Some(path) = path.as_ref() else {
            return Ok(None);
        };
        if let Some(t) = trail.as_ref() {
            return Ok(Some(Arc::clone(t)));
        }
        let opened = Arc::new(open_audit(path)?);
        *trail = Some(Arc::clone(&opened));
        Ok(Some(opened))
    }

    /// The ANIST client of the single lookups (audited unless opted out).
    pub(crate) fn anist_audited(&self) -> Result<RustClient, Failure> {
        Ok(match self.trail()? {
            Some(t) => self.anist.as_ref().clone().with_audit(t),
            None => self.anist.as_ref().clone(),
        })
    }

    pub(crate) fn runtime(&self) -> Result<&Runtime, Failure> {
        self.runtime
            .as_ref()
            .ok_or_else(|| Failure::invalid("client", "it is being freed"))
    }
}

impl Drop for ClientInner {
    fn drop(&mut self) {
        let sandbox = self.sandbox.lock().ok().and_then(|mut s| s.take());
        if let Some(runtime) = self.runtime.take() {
            if let Some(handle) = sandbox {
                runtime.block_on(handle.shutdown());
            }
            // Joins the worker threads (their thread-locals are freed).
            runtime.shutdown_timeout(Duration::from_secs(5));
        }
        tracing::info!(target: "anist", "client freed");
    }
}

fn new_runtime() -> Result<Runtime, Failure> {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .thread_name("anist-rt")
        .enable_all()
        .build()
        .map_err(|e| {
            Failure::new(
                anist_core::ErrorKind::Local,
                "runtime",
                format!("the library's threads could not start: {e}"),
            )
        })
}

fn into_handle(inner: ClientInner, out: *mut *mut AnistClient) {
    let handle = Box::new(AnistClient {
        inner: Arc::new(inner),
    });
    write_out(out, Box::into_raw(handle));
}

/// Makes a client from a configuration file (`anist.toml`, see `anist
/// config check`; environment overrides and key passwords are read from
/// the process environment) into `*out_client`. Free it with
/// [`anist_client_free`].
///
/// Returns [`crate::ANIST_ERR_CONFIG`] when the file or its keys cannot
/// be used (the message names the field to fix).
#[no_mangle]
pub extern "C" fn anist_client_from_config(
    path: *const c_char,
    out_client: *mut *mut AnistClient,
) -> i32 {
    guard(|| {
        let path = arg_str(path, "path")?;
        out_ptr(out_client, "out_client")?;
        let config = Config::load(path).map_err(|e| Failure::of(&e))?;
        let runtime = new_runtime()?;
        let session = {
            let _enter = runtime.enter();
            config
                .session(Arc::new(SystemClock))
                .map_err(|e| Failure::of(&e))?
        };
        let session = Arc::new(session);
        // A configuration without ISEE services is fine for ANIST: the
        // failure is kept and returned by the ISEE calls.
        let isee = config
            .isee_client(Arc::clone(&session))
            .map(Arc::new)
            .map_err(|e| Failure::of(&e));
        let inner = ClientInner {
            concurrency: config
                .limits
                .concurrency
                .map(|c| usize::try_from(c).unwrap_or(1).max(1)),
            poll_interval: None,
            anist: Arc::new(RustClient::new(session)),
            isee: Mutex::new(isee),
            audit: Mutex::new((Some(PathBuf::from(DEFAULT_FILE)), None)),
            sandbox: Mutex::new(None),
            runtime: Some(runtime),
        };
        tracing::info!(target: "anist", services = inner.anist.session().service_names().count(), "client created from a configuration file");
        into_handle(inner, out_client);
        Ok(())
    })
}

/// Starts a sandbox (a faithful local PDND and ANIST on 127.0.0.1, with a
/// synthetic population seeded by `seed`) and makes a client of it into
/// `*out_client`. `current_school_year` (e.g. `2025/26`) is the year the
/// sandbox treats as current; NULL: the one of today's date. The sandbox
/// stops when the client (and its jobs) are freed.
///
/// Returns [`crate::ANIST_ERR_SANDBOX`] when it cannot start,
/// [`crate::ANIST_ERR_INVALID_SCHOOL_YEAR`].
#[no_mangle]
pub extern "C" fn anist_client_start_sandbox(
    seed: u64,
    current_school_year: *const c_char,
    out_client: *mut *mut AnistClient,
) -> i32 {
    guard(|| {
        out_ptr(out_client, "out_client")?;
        let year = opt_str(current_school_year, "current_school_year")?
            .map(SchoolYear::parse)
            .transpose()
            .map_err(|e| Failure::of(&e))?;
        let mut config = SandboxConfig::with_default_client(seed).map_err(|e| Failure::of(&e))?;
        if let Some(year) = year {
            config = config.current_school_year(year);
        }
        let runtime = new_runtime()?;
        let handle = runtime
            .block_on(Sandbox::start(config))
            .map_err(|e| Failure::of(&e))?;
        let (session, isee) = {
            let _enter = runtime.enter();
            let session = handle.session().map_err(|e| Failure::of(&e))?;
            let isee = handle.isee_client().map_err(|e| Failure::of(&e))?;
            (session, isee)
        };
        let inner = ClientInner {
            isee: Mutex::new(Ok(Arc::new(isee))),
            concurrency: None,
            // The sandbox finishes a massive job in well under a second.
            poll_interval: Some(Duration::from_millis(100)),
            anist: Arc::new(RustClient::new(Arc::new(session))),
            sandbox: Mutex::new(Some(handle)),
            audit: Mutex::new((Some(PathBuf::from(DEFAULT_FILE)), None)),
            runtime: Some(runtime),
        };
        tracing::info!(target: "anist", seed, "client created on a sandbox");
        into_handle(inner, out_client);
        Ok(())
    })
}

/// Frees a client. NULL is allowed. Jobs made from it keep working until
/// they are freed; the library's threads (and the sandbox) stop when the
/// client and all its jobs are freed. Never call it from a log callback.
#[no_mangle]
pub extern "C" fn anist_client_free(client: *mut AnistClient) {
    if client.is_null() {
        return;
    }
    guard_void(move || drop(take_box(client)));
}

/// Records the client's single lookups (verify, ascertain, last status,
/// ISEE, ANPR) in the audit trail at `path` (its secret `<path>.key`,
/// created on first use) instead of the default `anist-audit.sqlite` in
/// the working directory. The trail is opened at the next lookup; a
/// lookup that cannot be recorded fails with [`crate::ANIST_ERR_AUDIT`]
/// and its answer is not given. Bulk jobs name their own trail in their
/// spec.
///
/// Returns [`crate::ANIST_ERR_NULL_ARGUMENT`] for a NULL `client` or
/// `path`.
#[no_mangle]
pub extern "C" fn anist_client_set_audit(client: *const AnistClient, path: *const c_char) -> i32 {
    guard(|| {
        let client = client_ref(client)?;
        let path = PathBuf::from(arg_str(path, "path")?);
        set_audit(client, Some(path))
    })
}

/// Stops recording the client's single ANIST and ISEE lookups in an
/// audit trail: the explicit opt-out (e.g. a program that keeps its own
/// register of who asked what). ANPR lookups are always recorded.
#[no_mangle]
pub extern "C" fn anist_client_disable_audit(client: *const AnistClient) -> i32 {
    guard(|| {
        let client = client_ref(client)?;
        set_audit(client, None)
    })
}

fn set_audit(client: &AnistClient, path: Option<PathBuf>) -> Result<(), Failure> {
    let mut slot = client
        .inner
        .audit
        .lock()
        .map_err(|_| Failure::invalid("client", "it failed earlier"))?;
    *slot = (path, None);
    Ok(())
}

/// Borrows the client behind a C pointer.
pub(crate) fn client_ref<'a>(client: *const AnistClient) -> Result<&'a AnistClient, Failure> {
    if client.is_null() {
        return Err(Failure::null("client"));
    }
    // SAFETY: a non-NULL `client` was made by `into_handle` and is not
    // freed while the caller uses it (the caller's promise).
    Ok(unsafe { &*client })
}

/// Test helper: the codice fiscale of pupil `index` of a sandbox client's
/// synthetic population (invented people), into `*out_code` (free it with
/// [`crate::anist_string_free`]).
///
/// Returns [`crate::ANIST_ERR_INVALID_ARGUMENT`] when the client is not a
/// sandbox or `index` is past the population.
#[no_mangle]
pub extern "C" fn anist_sandbox_pupil(
    client: *const AnistClient,
    index: usize,
    out_code: *mut *mut c_char,
) -> i32 {
    guard(|| {
        let client = client_ref(client)?;
        out_ptr(out_code, "out_code")?;
        let sandbox = client
            .inner
            .sandbox
            .lock()
            .map_err(|_| Failure::invalid("client", "it failed earlier"))?;
        let handle = sandbox
            .as_ref()
            .ok_or_else(|| Failure::invalid("client", "it is not a sandbox client"))?;
        let pupil = handle
            .population()
            .pupils()
            .get(index)
            .ok_or_else(|| Failure::invalid("index", "it is past the sandbox population"))?;
        write_out(out_code, c_string(pupil.codice_fiscale.as_str()));
        Ok(())
    })
}

/// `year` argument: the current school year (the service's notion).
pub const ANIST_YEAR_CURRENT: i32 = 0;
/// `year` argument: the previous school year.
pub const ANIST_YEAR_PREVIOUS: i32 = -1;

fn subject_of(s: &str) -> Result<Subject, Failure> {
    let compact = s.chars().filter(|c| !c.is_whitespace()).count();
    if compact == anist_core::anpr::ID_ANPR_LEN {
        let id = IdAnpr::parse(s).map_err(|e| Failure::of(&e))?;
        return Ok(Subject::IdAnpr(id));
    }
    Ok(Subject::CodiceFiscale(CodiceFiscale::parse(s)?))
}

fn query_of(subject: *const c_char, school: *const c_char, year: i32) -> Result<Query, Failure> {
    let subject = subject_of(arg_str(subject, "subject")?)?;
    let school = opt_str(school, "school")?
        .map(CodiceMeccanografico::parse)
        .transpose()
        .map_err(|e| Failure::of(&e))?;
    let year = match year {
        ANIST_YEAR_CURRENT => YearSelector::Current,
        ANIST_YEAR_PREVIOUS => YearSelector::Previous,
        y if y >= 1900 => YearSelector::Explicit(school_year_of(y)?),
        _ => {
            return Err(Failure::new(
                anist_core::ErrorKind::InvalidArgument,
                "invalid_argument",
                "the argument `year` is ANIST_YEAR_CURRENT, ANIST_YEAR_PREVIOUS or the first calendar year of a school year (e.g. 2025)",
            ))
        }
    };
    Ok(Query {
        subject,
        school,
        year,
    })
}

/// The answer of a verification.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct AnistVerifyResult {
    /// 1 when ANIST has data about the pupil; 0 when it has none (an
    /// answer, not an error: the other fields are then 0).
    pub found: i32,
    /// 1 when the pupil attends, 0 when not.
    pub attending: i32,
    /// The ANIST attendance code (1 attending, 2 not attending, 3
    /// attending another anno di corso, 4 no longer attending), or 0 when
    /// the service did not send it.
    pub esito_frequenza: i32,
}

/// Verification (verifica frequenze): does the pupil attend? `subject`
/// is a codice fiscale or an ID ANPR; `school` (may be NULL) restricts it
/// to a codice meccanografico; `year` is [`ANIST_YEAR_CURRENT`],
/// [`ANIST_YEAR_PREVIOUS`] or a first calendar year (2025 for 2025/26).
/// Blocks until the answer (or the error) arrives.
///
/// Returns [`crate::ANIST_OK`] with `*out` (also when ANIST has no data:
/// `found` = 0), or the error's family: [`crate::ANIST_ERR_QUOTA_EXCEEDED`],
/// [`crate::ANIST_ERR_THROTTLED`], [`crate::ANIST_ERR_AUTH`]… An error
/// never means "not attending".
#[no_mangle]
pub extern "C" fn anist_verify(
    client: *const AnistClient,
    subject: *const c_char,
    school: *const c_char,
    year: i32,
    out: *mut AnistVerifyResult,
) -> i32 {
    guard(|| {
        let client = client_ref(client)?;
        out_ptr(out, "out")?;
        let query = query_of(subject, school, year)?;
        let inner = &client.inner;
        let anist = inner.anist_audited()?;
        let answer = inner
            .runtime()?
            .block_on(anist.verify(&query))
            .map_err(|e| Failure::of(&e))?;
        let result = match answer {
            Answer::Found(v) => AnistVerifyResult {
                found: 1,
                attending: i32::from(v.frequentante),
                esito_frequenza: v
                    .esito_frequenza
                    .map_or(0, |e| i32::try_from(e.code()).unwrap_or(0)),
            },
            Answer::NotFound => AnistVerifyResult {
                found: 0,
                attending: 0,
                esito_frequenza: 0,
            },
        };
        write_out(out, result);
        Ok(())
    })
}

/// The detailed attendance record of an ascertainment. The strings are
/// owned by the record (NULL when the service did not send them): release
/// them all with [`anist_attendance_clear`].
#[repr(C)]
#[derive(Debug)]
pub struct AnistAttendance {
    /// 1 when ANIST has a record; 0 when it has none (an answer, not an
    /// error: the other fields are then 0 / NULL).
    pub found: i32,
    /// 1 attending, 0 not attending, -1 not sent.
    pub attending: i32,
    /// The ANIST attendance code 1-4, or 0 when not sent.
    pub esito_frequenza: i32,
    /// Anno di corso (class year), or 0 when not sent.
    pub anno_corso: i32,
    /// First calendar year of the record's school year, or 0 when not sent.
    pub school_year_start: i32,
    /// Codice meccanografico of the istituto principale.
    pub codice_istituto: *mut c_char,
    /// Name of the istituto principale.
    pub denominazione_istituto: *mut c_char,
    /// Codice meccanografico of the plesso.
    pub codice_plesso: *mut c_char,
    /// Name of the plesso.
    pub denominazione_plesso: *mut c_char,
    /// Percorso di studi (free text).
    pub percorso_studi: *mut c_char,
}

fn opt_c(s: Option<&str>) -> *mut c_char {
    s.map_or(std::ptr::null_mut(), c_string)
}

fn attendance_of(answer: Answer<Frequenza>) -> AnistAttendance {
    match answer {
        Answer::Found(f) => AnistAttendance {
            found: 1,
            attending: f.frequentante.map_or(-1, i32::from),
            esito_frequenza: f
                .esito_frequenza
                .map_or(0, |e| i32::try_from(e.code()).unwrap_or(0)),
            anno_corso: f.anno_corso.map_or(0, i32::from),
            school_year_start: f.anno_scolastico.map_or(0, |y| i32::from(y.start_year())),
            codice_istituto: opt_c(f.codice_istituto_principale.as_deref()),
            denominazione_istituto: opt_c(f.deno_istituto_principale.as_deref()),
            codice_plesso: opt_c(f.codice_meccanografico.as_deref()),
            denominazione_plesso: opt_c(f.denominazione_plesso.as_deref()),
            percorso_studi: opt_c(f.percorso_studi.as_deref()),
        },
        Answer::NotFound => AnistAttendance {
            found: 0,
            attending: 0,
            esito_frequenza: 0,
            anno_corso: 0,
            school_year_start: 0,
            codice_istituto: std::ptr::null_mut(),
            denominazione_istituto: std::ptr::null_mut(),
            codice_plesso: std::ptr::null_mut(),
            denominazione_plesso: std::ptr::null_mut(),
            percorso_studi: std::ptr::null_mut(),
        },
    }
}

fn ascertain_into(
    query: &Query,
    client: &AnistClient,
    out: *mut AnistAttendance,
) -> Result<(), Failure> {
    let inner = &client.inner;
    let anist = inner.anist_audited()?;
    let answer = inner
        .runtime()?
        .block_on(anist.ascertain(query))
        .map_err(|e| Failure::of(&e))?;
    write_out(out, attendance_of(answer));
    Ok(())
}

/// Ascertainment (accertamento frequenze): the detailed record of the
/// pupil for a school year, into `*out` (release it with
/// [`anist_attendance_clear`]). Arguments and statuses as
/// [`anist_verify`]. Blocks until the answer arrives.
#[no_mangle]
pub extern "C" fn anist_ascertain(
    client: *const AnistClient,
    subject: *const c_char,
    school: *const c_char,
    year: i32,
    out: *mut AnistAttendance,
) -> i32 {
    guard(|| {
        let client = client_ref(client)?;
        out_ptr(out, "out")?;
        let query = query_of(subject, school, year)?;
        ascertain_into(&query, client, out)
    })
}

/// The last attendance status of the pupil in the current school year
/// (`previous_year` = 0) or in the previous one (`previous_year` = 1):
/// the ascertainment for [`ANIST_YEAR_CURRENT`] / [`ANIST_YEAR_PREVIOUS`].
/// Release `*out` with [`anist_attendance_clear`].
#[no_mangle]
pub extern "C" fn anist_last_status(
    client: *const AnistClient,
    subject: *const c_char,
    previous_year: i32,
    out: *mut AnistAttendance,
) -> i32 {
    guard(|| {
        let client = client_ref(client)?;
        out_ptr(out, "out")?;
        let year = if previous_year != 0 {
            ANIST_YEAR_PREVIOUS
        } else {
            ANIST_YEAR_CURRENT
        };
        let query = query_of(subject, std::ptr::null(), year)?;
        ascertain_into(&query, client, out)
    })
}

/// Frees the strings of a record filled by [`anist_ascertain`] or
/// [`anist_last_status`] and sets them to NULL (the record itself belongs
/// to the caller). NULL is allowed; clearing twice is harmless.
#[no_mangle]
pub extern "C" fn anist_attendance_clear(record: *mut AnistAttendance) {
    guard_void(move || {
        clear_strings(record, |r| {
            [
                &mut r.codice_istituto,
                &mut r.denominazione_istituto,
                &mut r.codice_plesso,
                &mut r.denominazione_plesso,
                &mut r.percorso_studi,
            ]
        });
    });
}

/// Opens the audit trail at `path` (its secret `<path>.key`).
pub(crate) fn open_audit(path: &Path) -> Result<AuditLog, Failure> {
    AuditLog::open_beside(path).map_err(|e| Failure::of(&e))
}
