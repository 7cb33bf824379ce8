//! Status codes, the thread-local last error, and the guard every exported
//! function runs its body in (NULL checks, no panic across the boundary).

use std::cell::RefCell;
use std::ffi::c_char;
use std::panic::{catch_unwind, AssertUnwindSafe, UnwindSafe};

use anist_core::cf::CfError;
use anist_core::{ErrorCode, ErrorKind};

/// Success.
pub const ANIST_OK: i32 = 0;
/// A required pointer argument was NULL.
pub const ANIST_ERR_NULL_ARGUMENT: i32 = 1;
/// An argument is not usable: not UTF-8, a date not written `YYYY-MM-DD`,
/// a value out of range.
pub const ANIST_ERR_INVALID_ARGUMENT: i32 = 2;
/// The caller's buffer is too small (the text written is truncated and
/// NUL-terminated).
pub const ANIST_ERR_BUFFER_TOO_SMALL: i32 = 3;
/// A bug in the library (a Rust panic, caught at the boundary). Please
/// report it with the message of [`anist_last_error_message`].
pub const ANIST_ERR_PANIC: i32 = 4;
/// Not a valid codice fiscale (codes `cf_*`).
pub const ANIST_ERR_INVALID_CF: i32 = 10;
/// Not a valid ID ANPR (codes `anpr_*`).
pub const ANIST_ERR_INVALID_ID_ANPR: i32 = 11;
/// Not a valid codice meccanografico (codes `mecc_*`).
pub const ANIST_ERR_INVALID_MECC: i32 = 12;
/// Not a valid school year (codes `school_year_*`).
pub const ANIST_ERR_INVALID_SCHOOL_YEAR: i32 = 13;
/// A place of birth that cannot be resolved (codes `place_*`).
pub const ANIST_ERR_PLACE: i32 = 14;
/// The configuration file or its key cannot be used (codes `config_*`,
/// `key_*`).
pub const ANIST_ERR_CONFIG: i32 = 20;
/// The sandbox could not start (codes `sandbox_*`).
pub const ANIST_ERR_SANDBOX: i32 = 21;
/// The call was not sent (codes `call_not_sent`, `voucher_not_sent`):
/// nothing reached the service.
pub const ANIST_ERR_NOT_SENT: i32 = 30;
/// PDND refused the client (codes `voucher_refused`,
/// `voucher_bad_request`): check the client id, the key and the purpose.
pub const ANIST_ERR_AUTH: i32 = 31;
/// The gateway refused the call (code `gateway_refused`).
pub const ANIST_ERR_REFUSED: i32 = 32;
/// The quota is exhausted until its window resets (codes
/// `gateway_quota_exceeded`, `voucher_quota_exceeded`).
pub const ANIST_ERR_QUOTA_EXCEEDED: i32 = 33;
/// Throttled: retry later (codes `gateway_throttled`,
/// `voucher_throttled`).
pub const ANIST_ERR_THROTTLED: i32 = 34;
/// No answer in time (codes `gateway_timeout`, `voucher_timeout`).
pub const ANIST_ERR_TIMEOUT: i32 = 35;
/// The connection failed (codes `gateway_network`, `voucher_network`).
pub const ANIST_ERR_NETWORK: i32 = 36;
/// The gateway or the service failed (codes `gateway_server_error`,
/// `voucher_server_error`).
pub const ANIST_ERR_SERVER: i32 = 37;
/// An answer that cannot be read (codes `gateway_unparseable`,
/// `anist_unexpected_answer`, `voucher_unparseable`,
/// `voucher_unexpected_status`, and the
/// other `isee_*` codes: `isee_unexpected_answer`, `isee_unknown_esito`,
/// `isee_xml_*`, `isee_soap_*`).
pub const ANIST_ERR_UNEXPECTED_ANSWER: i32 = 38;
/// A bulk job or a massive ANIST job failed (codes `bulk_*`,
/// `anist_job_failed`, `anist_invalid_job`, `anist_row_failed`).
pub const ANIST_ERR_JOB: i32 = 40;
/// The job has not finished yet: poll it until its state is final.
pub const ANIST_ERR_JOB_NOT_READY: i32 = 41;
/// The job was cancelled (resume it by starting it again on the same
/// journal).
pub const ANIST_ERR_CANCELLED: i32 = 42;
/// The audit trail cannot be used (codes `audit_*`).
pub const ANIST_ERR_AUDIT: i32 = 43;
/// The ente's IPA category may not use this ISEE service (code
/// `isee_not_eligible`; nothing was sent): the message names the rule and
/// the service to use instead. Statuses 50-59 are the ISEE ones.
pub const ANIST_ERR_NOT_ELIGIBLE: i32 = 50;
/// INPS refused the ISEE request (codes `isee_richiesta_invalida`,
/// `isee_riscontro_non_valido`: the DSU protocol does not match the
/// person): check the question, do not ask it again as is.
pub const ANIST_ERR_ISEE_REFUSED: i32 = 51;
/// INPS stayed unavailable after the retries (codes
/// `isee_database_offline`, `isee_errore_interno`): try again later.
pub const ANIST_ERR_ISEE_UNAVAILABLE: i32 = 52;
/// The ISEE request cannot be sent as is (codes `isee_invalid_request`,
/// `isee_operator_required`, `isee_operator_invalid`: the configured
/// operator cannot ask the Operatori services; nothing was sent): e.g. a Riscontro service
/// without a DSU protocol, an Attestazione service asked for an
/// indicatore; the message says what to fix.
pub const ANIST_ERR_ISEE_INVALID_REQUEST: i32 = 53;
/// A SIDI synchronisation failed (codes `sidi_*`: the interchange file,
/// the plan, the local database, a decision not allowed).
pub const ANIST_ERR_SIDI: i32 = 60;
/// A local edit of a field synchronised from SIDI (code `sidi_locked`):
/// change it on SIDI and synchronise again.
pub const ANIST_ERR_SIDI_LOCKED: i32 = 61;
/// The 0–3 survey refused a value or an operation (codes `infanzia_*`,
/// e.g. `infanzia_not_active`, `infanzia_reason_missing`,
/// `infanzia_no_counts`, `infanzia_json`). Statuses 70-79 are the survey's.
pub const ANIST_ERR_INFANZIA: i32 = 70;
/// The 0–3 survey's submission window is not open (codes
/// `infanzia_window_not_open`, `infanzia_window_closed`): the message says
/// when it opens or closed.
pub const ANIST_ERR_INFANZIA_WINDOW: i32 = 71;
/// The 0–3 survey form has problems (code `infanzia_check_failed`): every
/// one is listed in the message.
pub const ANIST_ERR_INFANZIA_CHECK: i32 = 72;
/// ANPR found several subjects for the criteria (code `anpr_ambiguous`,
/// ANPR's EN131 / EN175): search by ID ANPR. Statuses 80-89 are ANPR's.
pub const ANIST_ERR_ANPR_AMBIGUOUS: i32 = 80;
/// ANPR says the ente is not competent for the subject's comune (code
/// `anpr_not_competent`, ANPR's EN167).
pub const ANIST_ERR_ANPR_NOT_COMPETENT: i32 = 81;
/// ANPR refused the request with another error of its own (code
/// `anpr_refused`: its code and text are in the message).
pub const ANIST_ERR_ANPR_REFUSED: i32 = 82;
/// The user's role, ente or profile does not allow the action (codes
/// `rivestizione_denied`, `rivestizione_profile`): the message says who
/// may do it. Statuses 90-94 are the rivestizione workflow's.
pub const ANIST_ERR_DENIED: i32 = 90;
/// A rivestizione request cannot move that way from its state (code
/// `rivestizione_state`).
pub const ANIST_ERR_RIVESTIZIONE: i32 = 91;
/// Any other error: read its code with [`anist_last_error_code`].
pub const ANIST_ERR_OTHER: i32 = 99;

/// The status of a kind of failure: an exhaustive match, so that a kind
/// added to the vocabulary does not compile until it has its status, and
/// two codes of one kind always return the same status.
pub(crate) fn status_of_kind(kind: ErrorKind) -> i32 {
    match kind {
        ErrorKind::InvalidArgument => ANIST_ERR_INVALID_ARGUMENT,
        ErrorKind::InvalidCodiceFiscale => ANIST_ERR_INVALID_CF,
        ErrorKind::InvalidIdAnpr => ANIST_ERR_INVALID_ID_ANPR,
        ErrorKind::InvalidMeccanografico => ANIST_ERR_INVALID_MECC,
        ErrorKind::InvalidSchoolYear => ANIST_ERR_INVALID_SCHOOL_YEAR,
        ErrorKind::Place => ANIST_ERR_PLACE,
        ErrorKind::Config => ANIST_ERR_CONFIG,
        ErrorKind::Sandbox => ANIST_ERR_SANDBOX,
        ErrorKind::NotSent => ANIST_ERR_NOT_SENT,
        ErrorKind::AuthRefused => ANIST_ERR_AUTH,
        ErrorKind::Refused => ANIST_ERR_REFUSED,
        ErrorKind::QuotaExhausted => ANIST_ERR_QUOTA_EXCEEDED,
        ErrorKind::Throttled => ANIST_ERR_THROTTLED,
        ErrorKind::TimedOut => ANIST_ERR_TIMEOUT,
        ErrorKind::Network => ANIST_ERR_NETWORK,
        ErrorKind::ServerError => ANIST_ERR_SERVER,
        ErrorKind::UnexpectedAnswer => ANIST_ERR_UNEXPECTED_ANSWER,
        ErrorKind::Job => ANIST_ERR_JOB,
        ErrorKind::JobNotReady => ANIST_ERR_JOB_NOT_READY,
        ErrorKind::Audit => ANIST_ERR_AUDIT,
        ErrorKind::IseeNotEligible => ANIST_ERR_NOT_ELIGIBLE,
        ErrorKind::IseeRefused => ANIST_ERR_ISEE_REFUSED,
        ErrorKind::IseeUnavailable => ANIST_ERR_ISEE_UNAVAILABLE,
        ErrorKind::IseeInvalidRequest => ANIST_ERR_ISEE_INVALID_REQUEST,
        ErrorKind::Sidi => ANIST_ERR_SIDI,
        ErrorKind::SidiLocked => ANIST_ERR_SIDI_LOCKED,
        ErrorKind::InfanziaInvalid | ErrorKind::Infanzia => ANIST_ERR_INFANZIA,
        ErrorKind::InfanziaWindow => ANIST_ERR_INFANZIA_WINDOW,
        ErrorKind::InfanziaCheck => ANIST_ERR_INFANZIA_CHECK,
        ErrorKind::AnprAmbiguous => ANIST_ERR_ANPR_AMBIGUOUS,
        ErrorKind::AnprNotCompetent => ANIST_ERR_ANPR_NOT_COMPETENT,
        ErrorKind::AnprRefused => ANIST_ERR_ANPR_REFUSED,
        ErrorKind::Denied => ANIST_ERR_DENIED,
        ErrorKind::Rivestizione => ANIST_ERR_RIVESTIZIONE,
        ErrorKind::Local => ANIST_ERR_OTHER,
    }
}

/// The name of a status, as the header spells it (for the agreement test
/// and the documentation of the vocabulary).
#[cfg(test)]
pub(crate) fn status_name(status: i32) -> &'static str {
    match status {
        ANIST_OK => "ANIST_OK",
        ANIST_ERR_NULL_ARGUMENT => "ANIST_ERR_NULL_ARGUMENT",
        ANIST_ERR_INVALID_ARGUMENT => "ANIST_ERR_INVALID_ARGUMENT",
        ANIST_ERR_BUFFER_TOO_SMALL => "ANIST_ERR_BUFFER_TOO_SMALL",
        ANIST_ERR_PANIC => "ANIST_ERR_PANIC",
        ANIST_ERR_INVALID_CF => "ANIST_ERR_INVALID_CF",
        ANIST_ERR_INVALID_ID_ANPR => "ANIST_ERR_INVALID_ID_ANPR",
        ANIST_ERR_INVALID_MECC => "ANIST_ERR_INVALID_MECC",
        ANIST_ERR_INVALID_SCHOOL_YEAR => "ANIST_ERR_INVALID_SCHOOL_YEAR",
        ANIST_ERR_PLACE => "ANIST_ERR_PLACE",
        ANIST_ERR_CONFIG => "ANIST_ERR_CONFIG",
        ANIST_ERR_SANDBOX => "ANIST_ERR_SANDBOX",
        ANIST_ERR_NOT_SENT => "ANIST_ERR_NOT_SENT",
        ANIST_ERR_AUTH => "ANIST_ERR_AUTH",
        ANIST_ERR_REFUSED => "ANIST_ERR_REFUSED",
        ANIST_ERR_QUOTA_EXCEEDED => "ANIST_ERR_QUOTA_EXCEEDED",
        ANIST_ERR_THROTTLED => "ANIST_ERR_THROTTLED",
        ANIST_ERR_TIMEOUT => "ANIST_ERR_TIMEOUT",
        ANIST_ERR_NETWORK => "ANIST_ERR_NETWORK",
        ANIST_ERR_SERVER => "ANIST_ERR_SERVER",
        ANIST_ERR_UNEXPECTED_ANSWER => "ANIST_ERR_UNEXPECTED_ANSWER",
        ANIST_ERR_JOB => "ANIST_ERR_JOB",
        ANIST_ERR_JOB_NOT_READY => "ANIST_ERR_JOB_NOT_READY",
        ANIST_ERR_CANCELLED => "ANIST_ERR_CANCELLED",
        ANIST_ERR_AUDIT => "ANIST_ERR_AUDIT",
        ANIST_ERR_NOT_ELIGIBLE => "ANIST_ERR_NOT_ELIGIBLE",
        ANIST_ERR_ISEE_REFUSED => "ANIST_ERR_ISEE_REFUSED",
        ANIST_ERR_ISEE_UNAVAILABLE => "ANIST_ERR_ISEE_UNAVAILABLE",
        ANIST_ERR_ISEE_INVALID_REQUEST => "ANIST_ERR_ISEE_INVALID_REQUEST",
        ANIST_ERR_SIDI => "ANIST_ERR_SIDI",
        ANIST_ERR_SIDI_LOCKED => "ANIST_ERR_SIDI_LOCKED",
        ANIST_ERR_INFANZIA => "ANIST_ERR_INFANZIA",
        ANIST_ERR_INFANZIA_WINDOW => "ANIST_ERR_INFANZIA_WINDOW",
        ANIST_ERR_INFANZIA_CHECK => "ANIST_ERR_INFANZIA_CHECK",
        ANIST_ERR_ANPR_AMBIGUOUS => "ANIST_ERR_ANPR_AMBIGUOUS",
        ANIST_ERR_ANPR_NOT_COMPETENT => "ANIST_ERR_ANPR_NOT_COMPETENT",
        ANIST_ERR_ANPR_REFUSED => "ANIST_ERR_ANPR_REFUSED",
        ANIST_ERR_DENIED => "ANIST_ERR_DENIED",
        ANIST_ERR_RIVESTIZIONE => "ANIST_ERR_RIVESTIZIONE",
        _ => "ANIST_ERR_OTHER",
    }
}

/// What an exported function failed with. Kept cheap to build: the hot
/// path (`anist_cf_validate` on an invalid code) stores the `CfError` and
/// formats its message only when asked.
#[derive(Debug, Clone)]
pub(crate) enum Failure {
    /// A codice fiscale error, formatted lazily.
    Cf(CfError),
    /// Any other error, already rendered.
    Other {
        status: i32,
        code: &'static str,
        message: String,
        position: Option<usize>,
    },
}

impl Failure {
    /// The failure of a typed error: its family, its code, its message.
    pub(crate) fn of<E: ErrorCode + ?Sized>(e: &E) -> Self {
        Failure::Other {
            status: status_of_kind(e.kind()),
            code: e.code(),
            message: e.to_string(),
            position: e.position(),
        }
    }

    /// A failure of this kind (its status derived from it), with this
    /// code and message.
    pub(crate) fn new(kind: ErrorKind, code: &'static str, message: impl Into<String>) -> Self {
        Self::c_only(status_of_kind(kind), code, message)
    }

    /// A failure that only the C boundary knows (a NULL pointer, a short
    /// buffer, a panic, a cancelled job), with its own status.
    pub(crate) fn c_only(status: i32, code: &'static str, message: impl Into<String>) -> Self {
        Failure::Other {
            status,
            code,
            message: message.into(),
            position: None,
        }
    }

    /// `name` was NULL.
    pub(crate) fn null(name: &str) -> Self {
        Self::c_only(
            ANIST_ERR_NULL_ARGUMENT,
            "null_argument",
            format!("the argument `{name}` is NULL: pass a valid pointer"),
        )
    }

    /// `name` is not usable, because `why`.
    pub(crate) fn invalid(name: &str, why: impl std::fmt::Display) -> Self {
        Self::new(
            ErrorKind::InvalidArgument,
            "invalid_argument",
            format!("the argument `{name}` is not usable: {why}"),
        )
    }

    /// The status returned to C.
    pub(crate) fn status(&self) -> i32 {
        match self {
            Failure::Cf(e) => status_of_kind(e.kind()),
            Failure::Other { status, .. } => *status,
        }
    }

    fn code(&self) -> &'static str {
        match self {
            Failure::Cf(e) => e.code(),
            Failure::Other { code, .. } => code,
        }
    }

    fn message(&self) -> String {
        match self {
            Failure::Cf(e) => e.to_string(),
            Failure::Other { message, .. } => message.clone(),
        }
    }

    fn position(&self) -> Option<usize> {
        match self {
            Failure::Cf(e) => e.position(),
            Failure::Other { position, .. } => *position,
        }
    }
}

impl From<CfError> for Failure {
    fn from(e: CfError) -> Self {
        Failure::Cf(e)
    }
}

thread_local! {
    static LAST_ERROR: RefCell<Option<Failure>> = const { RefCell::new(None) };
}

fn set_last(f: Option<Failure>) {
    // try_with: a call made while the thread is being torn down records nothing.
    let _ = LAST_ERROR.try_with(|slot| {
        if let Ok(mut slot) = slot.try_borrow_mut() {
            *slot = f;
        }
    });
}

fn with_last<T: Default>(f: impl FnOnce(Option<&Failure>) -> T) -> T {
    LAST_ERROR
        .try_with(|slot| match slot.try_borrow() {
            Ok(s) => f(s.as_ref()),
            Err(_) => f(None),
        })
        .unwrap_or_default()
}

thread_local! {
    /// How many guarded calls are running on this thread: a panic inside
    /// one is reported through the status, not printed.
    static IN_GUARD: std::cell::Cell<u32> = const { std::cell::Cell::new(0) };
}

/// Installs (once) a panic hook that stays silent for panics inside the
/// library's guarded calls and hands every other panic to the hook that
/// was there before (the host's, or Rust's default).
fn install_quiet_panic_hook() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            let inside = IN_GUARD.try_with(std::cell::Cell::get).unwrap_or(0) > 0;
            if !inside {
                previous(info);
            }
        }));
    });
}

/// Marks the current thread as inside a guarded call for its lifetime.
struct InGuard;

impl InGuard {
    fn enter() -> Self {
        let _ = IN_GUARD.try_with(|c| c.set(c.get() + 1));
        InGuard
    }
}

impl Drop for InGuard {
    fn drop(&mut self) {
        let _ = IN_GUARD.try_with(|c| c.set(c.get().saturating_sub(1)));
    }
}

/// Runs `f` catching panics, without printing them.
pub(crate) fn quiet_catch<T>(f: impl FnOnce() -> T + UnwindSafe) -> std::thread::Result<T> {
    install_quiet_panic_hook();
    let _mark = InGuard::enter();
    catch_unwind(f)
}

/// Runs the body of an exported function: clears the thread's last error,
/// returns [`ANIST_OK`] or the failure's status (recording it), and turns
/// a panic into [`ANIST_ERR_PANIC`].
pub(crate) fn guard(body: impl FnOnce() -> Result<(), Failure>) -> i32 {
    // AssertUnwindSafe: after a panic the caller only gets ANIST_ERR_PANIC;
    // shared state is behind mutexes, which a panic poisons.
    match quiet_catch(AssertUnwindSafe(body)) {
        Ok(Ok(())) => {
            set_last(None);
            ANIST_OK
        }
        Ok(Err(f)) => {
            let status = f.status();
            set_last(Some(f));
            status
        }
        Err(payload) => {
            let what = payload
                .downcast_ref::<&str>()
                .map(|s| (*s).to_string())
                .or_else(|| payload.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "unknown panic".into());
            set_last(Some(Failure::c_only(
                ANIST_ERR_PANIC,
                "panic",
                format!("internal error in libanist (please report it): {what}"),
            )));
            ANIST_ERR_PANIC
        }
    }
}

/// Like [`guard`] for the functions that return nothing (the `*_free`
/// ones): a panic is swallowed (recorded as the last error).
pub(crate) fn guard_void(body: impl FnOnce()) {
    let _ = guard(|| {
        body();
        Ok(())
    });
}

/// Copies `text` into `buf` (capacity `len`, NUL included). Returns
/// [`ANIST_ERR_BUFFER_TOO_SMALL`] when it had to truncate (at a UTF-8
/// character boundary; the buffer is still NUL-terminated when `len > 0`).
fn copy_out(text: &str, buf: *mut c_char, len: usize) -> i32 {
    if buf.is_null() {
        return ANIST_ERR_NULL_ARGUMENT;
    }
    if len == 0 {
        return ANIST_ERR_BUFFER_TOO_SMALL;
    }
    let mut n = text.len().min(len - 1);
    while !text.is_char_boundary(n) {
        n -= 1;
    }
    // SAFETY: the caller promises `buf` points to `len` writable bytes;
    // `n + 1 <= len`, and `text` is a valid slice of `n` bytes or more.
    unsafe {
        std::ptr::copy_nonoverlapping(text.as_ptr(), buf.cast::<u8>(), n);
        *buf.add(n) = 0;
    }
    if n < text.len() {
        ANIST_ERR_BUFFER_TOO_SMALL
    } else {
        ANIST_OK
    }
}

/// Copies the message of the calling thread's last error into `buf`
/// (`len` bytes, NUL included): an empty string when the last call
/// succeeded. The message never contains a whole codice fiscale, a name,
/// a key or a token. Does not change the last error.
///
/// Returns [`ANIST_OK`], [`ANIST_ERR_NULL_ARGUMENT`] when `buf` is NULL,
/// or [`ANIST_ERR_BUFFER_TOO_SMALL`] (the message is truncated; 512 bytes
/// are always enough for a message of the library).
#[no_mangle]
pub extern "C" fn anist_last_error_message(buf: *mut c_char, len: usize) -> i32 {
    quiet_catch(|| {
        let msg = with_last(|f| f.map(Failure::message).unwrap_or_default());
        copy_out(&msg, buf, len)
    })
    .unwrap_or(ANIST_ERR_PANIC)
}

/// Copies the stable code of the calling thread's last error (e.g.
/// `cf_check_char`, `gateway_quota_exceeded`: the same codes as the Rust
/// crates and the Python package) into `buf`: an empty string when the
/// last call succeeded. 64 bytes are always enough. Does not change the
/// last error.
///
/// Returns as [`anist_last_error_message`].
#[no_mangle]
pub extern "C" fn anist_last_error_code(buf: *mut c_char, len: usize) -> i32 {
    quiet_catch(|| {
        let code = with_last(|f| f.map(Failure::code).unwrap_or_default());
        copy_out(code, buf, len)
    })
    .unwrap_or(ANIST_ERR_PANIC)
}

/// The 1-based position in the (normalised) input the calling thread's
/// last error applies to, or 0 when it applies to no single character.
/// Cannot fail.
#[no_mangle]
pub extern "C" fn anist_last_error_position() -> u32 {
    quiet_catch(|| {
        with_last(|f| {
            f.and_then(Failure::position)
                .and_then(|p| u32::try_from(p).ok())
                .unwrap_or(0)
        })
    })
    .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_lazy_cf_failure_has_the_status_of_its_kind() {
        for e in <CfError as anist_core::CodeSamples>::samples() {
            let status = Failure::of(&e).status();
            assert_eq!(Failure::from(e.clone()).status(), status, "{}", e.code());
            if e.code().starts_with("cf_") {
                assert_eq!(status, ANIST_ERR_INVALID_CF, "{}", e.code());
            }
        }
    }

    /// ERRORS.md's kinds table: kind → C status name.
    fn documented_statuses() -> std::collections::BTreeMap<String, String> {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../ERRORS.md");
        let text = std::fs::read_to_string(path).expect("ERRORS.md is readable");
        let start = text
            .find("| kind | what it means | Python class | C status |")
            .expect("ERRORS.md has its kinds table");
        text[start..]
            .lines()
            .skip(2)
            .take_while(|l| l.starts_with('|'))
            .map(|line| {
                let cells: Vec<&str> = line.split('|').collect();
                let first = |cell: &str| cell.split('`').nth(1).unwrap_or_default().to_string();
                (first(cells[1]), first(cells[4]))
            })
            .collect()
    }

    #[test]
    fn every_code_of_the_catalogue_has_the_status_errors_md_gives_its_kind() {
        let table = documented_statuses();
        for kind in ErrorKind::ALL {
            assert_eq!(
                table.get(kind.as_str()).map(String::as_str),
                Some(status_name(status_of_kind(kind))),
                "{kind}"
            );
        }
        let catalogue = anist_client::errors::catalogue();
        assert!(catalogue.len() > 200);
        for e in catalogue {
            let status = Failure::of(e.as_ref()).status();
            assert_eq!(
                Some(status_name(status)),
                table.get(e.kind().as_str()).map(String::as_str),
                "{} ({})",
                e.code(),
                e.kind()
            );
        }
    }

    #[test]
    fn a_panic_becomes_a_status_and_a_message() {
        let status = guard(|| panic!("boom"));
        assert_eq!(status, ANIST_ERR_PANIC);
        let mut buf = [0 as c_char; 128];
        assert_eq!(anist_last_error_message(buf.as_mut_ptr(), buf.len()), 0);
        // SAFETY: the buffer was NUL-terminated by anist_last_error_message.
        let msg = unsafe { std::ffi::CStr::from_ptr(buf.as_ptr()) };
        assert!(msg.to_string_lossy().contains("boom"));
        assert_eq!(guard(|| Ok(())), ANIST_OK);
        assert_eq!(anist_last_error_message(buf.as_mut_ptr(), buf.len()), 0);
        assert_eq!(buf[0], 0);
    }

    #[test]
    fn truncation_is_reported_and_stays_on_a_char_boundary() {
        let mut buf = [0x7f as c_char; 4];
        assert_eq!(
            copy_out("àè", buf.as_mut_ptr(), 4),
            ANIST_ERR_BUFFER_TOO_SMALL
        );
        assert_eq!(buf[2], 0);
        assert_eq!(copy_out("ab", buf.as_mut_ptr(), 4), ANIST_OK);
        assert_eq!(
            copy_out("ab", std::ptr::null_mut(), 4),
            ANIST_ERR_NULL_ARGUMENT
        );
        assert_eq!(
            copy_out("ab", buf.as_mut_ptr(), 0),
            ANIST_ERR_BUFFER_TOO_SMALL
        );
    }
}
