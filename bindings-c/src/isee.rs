//! The INPS ISEE lookups: one Indicatore or Attestazione question to one
//! of the eight e-services (or the legacy v1 endpoint), answered as a
//! flat [`AnistIseeResult`].

use std::ffi::c_char;
use std::sync::Arc;

use anist_client::isee::{
    IseeAnswer, IseeClient, IseeEnte, IseeError, IseeLookup, IseeQuery, Search,
};
use anist_client::sandbox::inps::SANDBOX_INPS_USER_ID;
use anist_core::cf::AnyCodiceFiscale;
use anist_core::dsu::DsuProtocol;
use anist_core::isee::{
    check_eligibility, Attestazione, Indicatore, IpaCategory, IseeKind, IseeService,
    PrestazioneDaErogare, ServiceFamily,
};
use chrono::{Datelike, NaiveDate};

use crate::client::{client_ref, AnistClient};
use crate::error::{guard, guard_void, Failure};
use crate::ids::parse_date;
use crate::strings::{c_string, clear_strings, opt_str, out_ptr, write_out};

/// `service`: Consultazione Indicatore ISEE Operatori (on behalf of an
/// operator logged in with SPID level 2 or CIE: the `[operator]` of the
/// configuration).
pub const ANIST_ISEE_SERVICE_INDICATORE_OPERATORI: i32 = 1;
/// `service`: Consultazione Attestazione ISEE Operatori.
pub const ANIST_ISEE_SERVICE_ATTESTAZIONE_OPERATORI: i32 = 2;
/// `service`: Consultazione Indicatore Residenti ISEE (Comuni, for their
/// residents).
pub const ANIST_ISEE_SERVICE_INDICATORE_RESIDENTI: i32 = 3;
/// `service`: Consultazione Attestazione Residenti ISEE.
pub const ANIST_ISEE_SERVICE_ATTESTAZIONE_RESIDENTI: i32 = 4;
/// `service`: Consultazione Indicatore Riscontro ISEE (by DSU protocol:
/// set `protocollo_dsu` in the query).
pub const ANIST_ISEE_SERVICE_INDICATORE_RISCONTRO: i32 = 5;
/// `service`: Consultazione Indicatore Nucleo Riscontro ISEE (by DSU
/// protocol; the answer has the household).
pub const ANIST_ISEE_SERVICE_INDICATORE_NUCLEO_RISCONTRO: i32 = 6;
/// `service`: Consultazione Indicatore ISEE (plain; capoluoghi and the
/// other admitted enti, with the INPS client certificate).
pub const ANIST_ISEE_SERVICE_INDICATORE: i32 = 7;
/// `service`: Consultazione Attestazione ISEE (plain).
pub const ANIST_ISEE_SERVICE_ATTESTAZIONE: i32 = 8;

pub(crate) fn service_of(service: i32) -> Result<IseeService, Failure> {
    Ok(match service {
        ANIST_ISEE_SERVICE_INDICATORE_OPERATORI => IseeService::IndicatoreOperatori,
        ANIST_ISEE_SERVICE_ATTESTAZIONE_OPERATORI => IseeService::AttestazioneOperatori,
        ANIST_ISEE_SERVICE_INDICATORE_RESIDENTI => IseeService::IndicatoreResidenti,
        ANIST_ISEE_SERVICE_ATTESTAZIONE_RESIDENTI => IseeService::AttestazioneResidenti,
        ANIST_ISEE_SERVICE_INDICATORE_RISCONTRO => IseeService::IndicatoreRiscontro,
        ANIST_ISEE_SERVICE_INDICATORE_NUCLEO_RISCONTRO => IseeService::IndicatoreNucleoRiscontro,
        ANIST_ISEE_SERVICE_INDICATORE => IseeService::Indicatore,
        ANIST_ISEE_SERVICE_ATTESTAZIONE => IseeService::Attestazione,
        _ => {
            return Err(Failure::new(
                anist_core::ErrorKind::InvalidArgument,
                "invalid_argument",
                "the argument `service` is one of the ANIST_ISEE_SERVICE_* values (1-8)",
            ))
        }
    })
}

/// One ISEE question. Every string is NUL-terminated UTF-8; NULL means
/// "not given". Zero the struct (`memset`, `= {0}`) and set what you need.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct AnistIseeQuery {
    /// The person: their codice fiscale (required; the beneficiary for a
    /// search by DSU protocol).
    pub codice_fiscale: *const c_char,
    /// The DSU protocol (`INPS-ISEE-YYYY-NNNNNNNNL-VV`): NULL searches by
    /// codice fiscale; given, searches by DSU protocol and beneficiary (the
    /// Riscontro services need it; a mismatch is refused by INPS).
    pub protocollo_dsu: *const c_char,
    /// The ISEE valid on this date, `YYYY-MM-DD` (searches by codice
    /// fiscale only): NULL for the date of the call.
    pub valid_on: *const c_char,
    /// The benefit to be granted, a code of the Casellario dell'assistenza
    /// (e.g. `A1.04`): NULL for none.
    pub prestazione: *const c_char,
    /// `TipoIndicatore` of the Indicatore services: `ordinario` (NULL),
    /// `minorenni`, `universitario`, `socio_sanitario`, `dottorato`,
    /// `socio_sanitario_residenziale`. Ignored by the Attestazione services.
    pub kind: *const c_char,
    /// Non-zero: send the plain Indicatore / Attestazione questions to the
    /// legacy v1 endpoint (`isee-v1` in the configuration) instead of v2.
    /// Ignored by the other services.
    pub legacy_v1: i32,
}

/// The answer of an ISEE lookup. The strings are owned by the result
/// (NULL when not given): release them all with
/// [`anist_isee_result_clear`].
#[repr(C)]
#[derive(Debug)]
pub struct AnistIseeResult {
    /// The ISEE in euro cents (1234567 is 12.345,67 €), when `has_isee`.
    pub isee_cents: i64,
    /// 1 when INPS has an ISEE for the question; 0 when it has none
    /// (`DATI_NON_TROVATI`: an answer, not an error; only `id_richiesta`
    /// may then be set).
    pub found: i32,
    /// 1 when `isee_cents` holds a value; 0 when INPS found the DSU but the
    /// indicator cannot be computed (or `found` is 0).
    pub has_isee: i32,
    /// The kind of the indicator (`ordinario`, `corrente`, `minorenni`,
    /// …): for an attestazione, of its main indicator.
    pub kind: *mut c_char,
    /// The DSU protocol (`INPS-ISEE-YYYY-NNNNNNNNL-VV`).
    pub protocollo_dsu: *mut c_char,
    /// The date the DSU was presented, `YYYY-MM-DD`.
    pub presented_on: *mut c_char,
    /// The last day the ISEE is valid, `YYYY-MM-DD`: 31 December of the
    /// DSU's year, or for an ISEE corrente `corrente_valid_until` when
    /// earlier.
    pub valid_until: *mut c_char,
    /// `IdRichiesta`, INPS's id of the request (quote it to INPS).
    pub id_richiesta: *mut c_char,
    /// Members of the household, or 0 when the answer does not list them
    /// (the Indicatore services other than Nucleo Riscontro).
    pub household_size: i32,
    /// 1 when the attestazione reports omissions or discrepancies found by
    /// the Agenzia delle Entrate, 0 when not, -1 when the answer does not
    /// say (the Indicatore services, no ISEE).
    pub omissioni: i32,
    /// For an ISEE corrente, the last day it is valid (six months from the
    /// modulo sostitutivo, or INPS's `DataScadenzaDSUCorrente`),
    /// `YYYY-MM-DD`; NULL for the other kinds.
    pub corrente_valid_until: *mut c_char,
}

impl AnistIseeResult {
    fn empty() -> Self {
        Self {
            isee_cents: 0,
            found: 0,
            has_isee: 0,
            kind: std::ptr::null_mut(),
            protocollo_dsu: std::ptr::null_mut(),
            presented_on: std::ptr::null_mut(),
            valid_until: std::ptr::null_mut(),
            id_richiesta: std::ptr::null_mut(),
            household_size: 0,
            omissioni: -1,
            corrente_valid_until: std::ptr::null_mut(),
        }
    }
}

fn opt_c(s: Option<&str>) -> *mut c_char {
    s.map_or(std::ptr::null_mut(), c_string)
}

fn date_c(d: Option<NaiveDate>) -> *mut c_char {
    // By hand, not chrono's `format`: see `Attrs::date` in anist-core's
    // isee/write.rs (valgrind and the optimised chrono formatter).
    d.map_or(std::ptr::null_mut(), |d| {
        c_string(&format!("{:04}-{:02}-{:02}", d.year(), d.month(), d.day()))
    })
}

fn size_c(n: usize) -> i32 {
    i32::try_from(n).unwrap_or(i32::MAX)
}

fn no_isee(id_richiesta: Option<&str>) -> AnistIseeResult {
    AnistIseeResult {
        id_richiesta: opt_c(id_richiesta),
        ..AnistIseeResult::empty()
    }
}

fn indicatore_result(answer: &IseeAnswer<Indicatore>) -> AnistIseeResult {
    let IseeAnswer::Found { record, .. } = answer else {
        return no_isee(answer.id_richiesta());
    };
    AnistIseeResult {
        isee_cents: record.isee().cents(),
        found: 1,
        has_isee: 1,
        kind: opt_c(record.kind.as_ref().map(IseeKind::as_str)),
        protocollo_dsu: opt_c(record.protocollo_dsu.map(|p| p.to_string()).as_deref()),
        presented_on: date_c(record.presented_on),
        valid_until: date_c(record.valid_until()),
        id_richiesta: opt_c(answer.id_richiesta()),
        household_size: size_c(record.household.len()),
        omissioni: -1,
        corrente_valid_until: date_c(record.corrente_expires_on()),
    }
}

fn attestazione_result(answer: &IseeAnswer<Attestazione>) -> AnistIseeResult {
    let IseeAnswer::Found { record, .. } = answer else {
        return no_isee(answer.id_richiesta());
    };
    let isee = record.isee();
    AnistIseeResult {
        isee_cents: isee.map_or(0, |e| e.cents()),
        found: 1,
        has_isee: i32::from(isee.is_some()),
        kind: opt_c(record.headline().map(|h| h.kind.as_str())),
        protocollo_dsu: c_string(&record.protocollo_dsu.to_string()),
        presented_on: date_c(Some(record.presented_on)),
        valid_until: date_c(Some(record.valid_until())),
        id_richiesta: opt_c(answer.id_richiesta()),
        household_size: size_c(record.household_size()),
        omissioni: i32::from(record.has_omissioni_difformita()),
        corrente_valid_until: date_c(record.corrente_expires_on()),
    }
}

/// Reads the C query into an [`IseeQuery`] and its legacy flag.
fn query_of(query: *const AnistIseeQuery) -> Result<(IseeQuery, bool), Failure> {
    if query.is_null() {
        return Err(Failure::null("query"));
    }
    // SAFETY: the caller promises a non-NULL `query` points to an
    // `AnistIseeQuery` valid during the call (its strings checked below).
    let q = unsafe { &*query };
    let cf = opt_str(q.codice_fiscale, "query.codice_fiscale")?
        .ok_or_else(|| Failure::null("query.codice_fiscale"))?;
    let cf = AnyCodiceFiscale::parse(cf)?;
    let mut out = match opt_str(q.protocollo_dsu, "query.protocollo_dsu")? {
        Some(p) => IseeQuery::by_dsu(DsuProtocol::parse(p).map_err(|e| Failure::of(&e))?, cf),
        None => IseeQuery::by_cf(cf),
    };
    if let Some(d) = opt_str(q.valid_on, "query.valid_on")? {
        out = out.valid_on(parse_date(d, "query.valid_on")?);
    }
    if let Some(p) = opt_str(q.prestazione, "query.prestazione")? {
        out = out.prestazione(PrestazioneDaErogare::parse(p).map_err(|e| Failure::of(&e))?);
    }
    if let Some(k) = opt_str(q.kind, "query.kind")? {
        out = out.kind(IseeKind::parse(k));
    }
    Ok((out, q.legacy_v1 != 0))
}

/// A Riscontro service asked without a DSU protocol: refused with the
/// C field to set (the Rust message names the Rust builder).
/// Eligibility is reported first, as the client does.
fn check_riscontro(
    isee: &IseeClient,
    service: IseeService,
    query: &IseeQuery,
) -> Result<(), Failure> {
    let by_dsu = matches!(query.search, Search::ProtocolloDsu { .. });
    if service.family() == ServiceFamily::Riscontro
        && !by_dsu
        && check_eligibility(isee.ente().category, service).is_ok()
    {
        return Err(Failure::new(
                anist_core::ErrorKind::IseeInvalidRequest,
            "isee_invalid_request",
            format!(
                "the ISEE request is not valid: {} checks the DSU protocol: set `protocollo_dsu` in the query (with the beneficiary's codice fiscale)",
                service.name_it()
            ),
        ));
    }
    Ok(())
}

/// The client's ISEE client (v2, or the legacy v1 endpoint).
fn isee_of(client: &AnistClient, legacy_v1: bool) -> Result<Arc<IseeClient>, Failure> {
    let isee = client
        .inner
        .isee
        .lock()
        .map_err(|_| Failure::invalid("client", "it failed earlier"))?
        .clone()?;
    let mut isee = isee.as_ref().clone().legacy_v1(legacy_v1);
    if let Some(trail) = client.inner.trail()? {
        isee = isee.with_audit(trail);
    }
    Ok(Arc::new(isee))
}

/// The body of both lookups: checks the arguments, asks `ask` on the
/// client's runtime, writes `convert` of the answer through `out`.
fn lookup<T>(
    client: *const AnistClient,
    service: i32,
    query: *const AnistIseeQuery,
    out: *mut AnistIseeResult,
    ask: impl AsyncFnOnce(&IseeClient, IseeService, &IseeQuery) -> Result<IseeAnswer<T>, IseeError>,
    convert: impl FnOnce(&IseeAnswer<T>) -> AnistIseeResult,
) -> Result<(), Failure> {
    let client = client_ref(client)?;
    out_ptr(out, "out")?;
    let service = service_of(service)?;
    let (query, legacy) = query_of(query)?;
    let isee = isee_of(client, legacy)?;
    check_riscontro(&isee, service, &query)?;
    let answer = client
        .inner
        .runtime()?
        .block_on(ask(&isee, service, &query))
        .map_err(|e| Failure::of(&e))?;
    write_out(out, convert(&answer));
    Ok(())
}

/// Asks an Indicatore service (`ANIST_ISEE_SERVICE_INDICATORE_*`) for the
/// ISEE of `query`, into `*out` (release its strings with
/// [`anist_isee_result_clear`]). Blocks until the answer arrives; INPS
/// outages are asked again a few times first.
///
/// Returns [`crate::ANIST_OK`] with `*out` (also when INPS has no ISEE:
/// `found` = 0), or: [`crate::ANIST_ERR_NOT_ELIGIBLE`] (the ente's IPA
/// category may not use the service; nothing sent),
/// [`crate::ANIST_ERR_ISEE_INVALID_REQUEST`] (e.g. a Riscontro service
/// without `protocollo_dsu`, an Attestazione service; nothing sent),
/// [`crate::ANIST_ERR_ISEE_REFUSED`] (INPS refused it),
/// [`crate::ANIST_ERR_ISEE_UNAVAILABLE`] (INPS is down: try later),
/// [`crate::ANIST_ERR_CONFIG`] (no `[inps]` in the configuration),
/// [`crate::ANIST_ERR_INVALID_CF`], the transport families
/// ([`crate::ANIST_ERR_QUOTA_EXCEEDED`], [`crate::ANIST_ERR_AUTH`]…). An
/// error never means "no ISEE".
#[no_mangle]
pub extern "C" fn anist_isee_indicatore(
    client: *const AnistClient,
    service: i32,
    query: *const AnistIseeQuery,
    out: *mut AnistIseeResult,
) -> i32 {
    guard(|| {
        lookup(
            client,
            service,
            query,
            out,
            async |isee, service, query| isee.indicatore(service, query).await,
            indicatore_result,
        )
    })
}

/// Asks an Attestazione service (`ANIST_ISEE_SERVICE_ATTESTAZIONE_*`) for
/// the attestazione of `query` (the ISEE of its main indicator, the
/// household size, the omissions flag), into `*out` (release it with
/// [`anist_isee_result_clear`]). Statuses as [`anist_isee_indicatore`].
#[no_mangle]
pub extern "C" fn anist_isee_attestazione(
    client: *const AnistClient,
    service: i32,
    query: *const AnistIseeQuery,
    out: *mut AnistIseeResult,
) -> i32 {
    guard(|| {
        lookup(
            client,
            service,
            query,
            out,
            async |isee, service, query| isee.attestazione(service, query).await,
            attestazione_result,
        )
    })
}

/// Frees the strings of a result filled by [`anist_isee_indicatore`] or
/// [`anist_isee_attestazione`] and sets them to NULL (the result itself
/// belongs to the caller). NULL is allowed; clearing twice is harmless.
#[no_mangle]
pub extern "C" fn anist_isee_result_clear(result: *mut AnistIseeResult) {
    guard_void(move || {
        clear_strings(result, |r| {
            [
                &mut r.kind,
                &mut r.protocollo_dsu,
                &mut r.presented_on,
                &mut r.valid_until,
                &mut r.id_richiesta,
                &mut r.corrente_valid_until,
            ]
        });
    });
}

/// Test helper: the codice fiscale number `index` (0, 1, …) of a sandbox
/// client's synthetic population that has an ISEE today and resides in
/// the sandbox's calling Comune (`with_isee` non-zero: every service
/// answers it), or that has none (`with_isee` 0: `found` = 0), into
/// `*out_code` (free it with [`crate::anist_string_free`]). Invented
/// people only.
///
/// Returns [`crate::ANIST_ERR_INVALID_ARGUMENT`] when the client is not a
/// sandbox or `index` is past the codes found (on 1 January nobody has an
/// ISEE yet: the sandbox's DSU are presented from 2 January).
#[no_mangle]
pub extern "C" fn anist_sandbox_isee_person(
    client: *const AnistClient,
    with_isee: i32,
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
        let population = handle.isee_population();
        // The sandbox answers on the date of the call (UTC).
        let today = chrono::Utc::now().date_naive();
        let cf = population
            .sample(2000)
            .into_iter()
            .filter(|cf| {
                let expected = population.expected(&AnyCodiceFiscale::Persona(*cf), today);
                match expected.household() {
                    Some(h) => with_isee != 0 && h.resides_in(population.comune()),
                    None => with_isee == 0,
                }
            })
            .nth(index)
            .ok_or_else(|| Failure::invalid("index", "it is past the sandbox population"))?;
        write_out(out_code, c_string(cf.as_str()));
        Ok(())
    })
}

/// Test helper: from now on, a sandbox client asks the ISEE services as
/// an ente of IPA `category` (`comune`, `comune_capoluogo` (the default),
/// `asl`, `universita`, `altro`…), to see the eligibility refusals (e.g.
/// a `comune` that is not a capoluogo may not use the plain services:
/// [`crate::ANIST_ERR_NOT_ELIGIBLE`]).
///
/// Returns [`crate::ANIST_ERR_INVALID_ARGUMENT`] when the client is not a
/// sandbox or the category is unknown.
#[no_mangle]
pub extern "C" fn anist_sandbox_isee_category(
    client: *const AnistClient,
    category: *const c_char,
) -> i32 {
    guard(|| {
        let client = client_ref(client)?;
        let name = opt_str(category, "category")?.ok_or_else(|| Failure::null("category"))?;
        let category = IpaCategory::parse(name).ok_or_else(|| {
            Failure::invalid(
                "category",
                format!(
                    "it is not an IPA category: write one of {}",
                    IpaCategory::ALL.map(IpaCategory::as_str).join(", ")
                ),
            )
        })?;
        let sandbox = client
            .inner
            .sandbox
            .lock()
            .map_err(|_| Failure::invalid("client", "it failed earlier"))?;
        let handle = sandbox
            .as_ref()
            .ok_or_else(|| Failure::invalid("client", "it is not a sandbox client"))?;
        let mut isee = client
            .inner
            .isee
            .lock()
            .map_err(|_| Failure::invalid("client", "it failed earlier"))?;
        let current = isee.clone()?;
        let fresh = IseeClient::new(
            Arc::clone(current.session()),
            IseeEnte::new(category, SANDBOX_INPS_USER_ID),
        )
        .operator(handle.isee_operator());
        *isee = Ok(Arc::new(fresh));
        Ok(())
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use std::ffi::{CStr, CString};

    use super::*;
    use crate::{
        anist_client_free, anist_client_start_sandbox, anist_last_error_code, anist_string_free,
        ANIST_ERR_INVALID_ARGUMENT, ANIST_ERR_ISEE_REFUSED, ANIST_ERR_NOT_ELIGIBLE, ANIST_OK,
    };

    fn text(p: *const c_char) -> Option<String> {
        // SAFETY: the library's strings are NUL-terminated (or NULL).
        (!p.is_null()).then(|| unsafe { CStr::from_ptr(p) }.to_string_lossy().into_owned())
    }

    fn last_code() -> String {
        let mut buf = [0 as c_char; 64];
        assert_eq!(anist_last_error_code(buf.as_mut_ptr(), buf.len()), ANIST_OK);
        text(buf.as_ptr()).unwrap()
    }

    fn person(client: *const AnistClient, with_isee: i32, index: usize) -> CString {
        let mut code: *mut c_char = std::ptr::null_mut();
        assert_eq!(
            anist_sandbox_isee_person(client, with_isee, index, &mut code),
            ANIST_OK
        );
        let owned = CString::new(text(code).unwrap()).unwrap();
        anist_string_free(code);
        owned
    }

    fn query(cf: &CStr) -> AnistIseeQuery {
        AnistIseeQuery {
            codice_fiscale: cf.as_ptr(),
            protocollo_dsu: std::ptr::null(),
            valid_on: std::ptr::null(),
            prestazione: std::ptr::null(),
            kind: std::ptr::null(),
            legacy_v1: 0,
        }
    }

    #[test]
    fn lookups_against_the_sandbox() {
        let mut client: *mut AnistClient = std::ptr::null_mut();
        assert_eq!(
            anist_client_start_sandbox(7, std::ptr::null(), &mut client),
            ANIST_OK
        );
        // Every lookup goes to this trail (not the working directory's).
        let dir = std::env::temp_dir().join(format!("anist-c-isee-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let db = dir.join("lookups.sqlite");
        let _ = std::fs::remove_file(&db);
        let db_c = CString::new(db.to_str().unwrap()).unwrap();
        assert_eq!(
            crate::anist_client_set_audit(client, db_c.as_ptr()),
            ANIST_OK
        );
        let cf = person(client, 1, 0);
        let mut out = AnistIseeResult::empty();

        // Indicatore Residenti: found, with the DSU.
        let q = query(&cf);
        let status = anist_isee_indicatore(
            client,
            ANIST_ISEE_SERVICE_INDICATORE_RESIDENTI,
            &q,
            &mut out,
        );
        assert_eq!(status, ANIST_OK, "{}", last_code());
        assert_eq!((out.found, out.has_isee, out.omissioni), (1, 1, -1));
        assert!(out.isee_cents >= 0);
        assert_eq!(text(out.kind).as_deref(), Some("ordinario"));
        let dsu = CString::new(text(out.protocollo_dsu).unwrap()).unwrap();
        assert!(dsu.to_str().unwrap().starts_with("INPS-ISEE-"));
        let presented = text(out.presented_on).unwrap();
        let until = text(out.valid_until).unwrap();
        assert!(presented < until, "{presented} {until}");
        let isee = out.isee_cents;
        anist_isee_result_clear(&mut out);
        assert!(out.kind.is_null() && out.protocollo_dsu.is_null());
        anist_isee_result_clear(&mut out);

        // Attestazione (plain): the same household's value.
        let status = anist_isee_attestazione(client, ANIST_ISEE_SERVICE_ATTESTAZIONE, &q, &mut out);
        assert_eq!(status, ANIST_OK, "{}", last_code());
        assert_eq!(out.found, 1);
        assert!(out.household_size >= 1);
        assert!(out.omissioni == 0 || out.omissioni == 1);
        assert_eq!(text(out.protocollo_dsu).as_deref(), dsu.to_str().ok());
        assert_eq!(out.isee_cents, isee);
        anist_isee_result_clear(&mut out);

        // Nucleo Riscontro, by DSU protocol: the household is listed.
        let mut by_dsu = query(&cf);
        by_dsu.protocollo_dsu = dsu.as_ptr();
        let status = anist_isee_indicatore(
            client,
            ANIST_ISEE_SERVICE_INDICATORE_NUCLEO_RISCONTRO,
            &by_dsu,
            &mut out,
        );
        assert_eq!(status, ANIST_OK, "{}", last_code());
        assert_eq!(out.found, 1);
        assert!(out.household_size >= 1);
        anist_isee_result_clear(&mut out);

        // The DSU of someone else: INPS refuses it.
        let other = person(client, 1, 1);
        let mut mismatch = query(&other);
        mismatch.protocollo_dsu = dsu.as_ptr();
        let status = anist_isee_indicatore(
            client,
            ANIST_ISEE_SERVICE_INDICATORE_RISCONTRO,
            &mismatch,
            &mut out,
        );
        assert_eq!(status, ANIST_ERR_ISEE_REFUSED);
        assert_eq!(last_code(), "isee_riscontro_non_valido");

        // Riscontro without the DSU protocol: refused locally.
        let status = anist_isee_indicatore(
            client,
            ANIST_ISEE_SERVICE_INDICATORE_RISCONTRO,
            &q,
            &mut out,
        );
        assert_eq!(status, crate::ANIST_ERR_ISEE_INVALID_REQUEST);
        assert_eq!(last_code(), "isee_invalid_request");
        let mut msg = [0 as c_char; 512];
        crate::anist_last_error_message(msg.as_mut_ptr(), msg.len());
        assert!(text(msg.as_ptr()).unwrap().contains("`protocollo_dsu`"));

        // No ISEE: an answer, not an error.
        let none = person(client, 0, 0);
        let status = anist_isee_indicatore(
            client,
            ANIST_ISEE_SERVICE_INDICATORE,
            &query(&none),
            &mut out,
        );
        assert_eq!(status, ANIST_OK, "{}", last_code());
        assert_eq!((out.found, out.has_isee), (0, 0));
        assert!(out.kind.is_null());
        anist_isee_result_clear(&mut out);

        // The legacy v1 endpoint answers the plain services too.
        let mut legacy = query(&cf);
        legacy.legacy_v1 = 1;
        let status =
            anist_isee_indicatore(client, ANIST_ISEE_SERVICE_INDICATORE, &legacy, &mut out);
        assert_eq!(status, ANIST_OK, "{}", last_code());
        assert_eq!(out.isee_cents, isee);
        anist_isee_result_clear(&mut out);

        // A Comune that is not a capoluogo may not use the plain services.
        let comune = CString::new("comune").unwrap();
        assert_eq!(
            anist_sandbox_isee_category(client, comune.as_ptr()),
            ANIST_OK
        );
        let status = anist_isee_indicatore(client, ANIST_ISEE_SERVICE_INDICATORE, &q, &mut out);
        assert_eq!(status, ANIST_ERR_NOT_ELIGIBLE);
        assert_eq!(last_code(), "isee_not_eligible");
        // … but may use the Residenti ones.
        let status = anist_isee_indicatore(
            client,
            ANIST_ISEE_SERVICE_INDICATORE_RESIDENTI,
            &q,
            &mut out,
        );
        assert_eq!(status, ANIST_OK, "{}", last_code());
        anist_isee_result_clear(&mut out);

        // Bad arguments.
        let status = anist_isee_indicatore(client, 0, &q, &mut out);
        assert_eq!(status, ANIST_ERR_INVALID_ARGUMENT);
        let status = anist_isee_indicatore(
            client,
            ANIST_ISEE_SERVICE_INDICATORE_RESIDENTI,
            std::ptr::null(),
            &mut out,
        );
        assert_eq!(status, crate::ANIST_ERR_NULL_ARGUMENT);
        let bad_date = CString::new("15/06/2026").unwrap();
        let mut dated = query(&cf);
        dated.valid_on = bad_date.as_ptr();
        let status = anist_isee_indicatore(
            client,
            ANIST_ISEE_SERVICE_INDICATORE_RESIDENTI,
            &dated,
            &mut out,
        );
        assert_eq!(status, ANIST_ERR_INVALID_ARGUMENT);
        let unknown = CString::new("sindaco").unwrap();
        assert_eq!(
            anist_sandbox_isee_category(client, unknown.as_ptr()),
            ANIST_ERR_INVALID_ARGUMENT
        );
        anist_client_free(client);
        // Each lookup that reached the client is in the trail, codes hashed.
        let trail = anist_client::audit::AuditLog::open_beside(&db).unwrap();
        let rows = trail.rows(None, None).unwrap();
        assert!(rows.len() >= 4, "{}", rows.len());
        assert!(rows.iter().all(|r| r.eservice.starts_with("isee-")));
        let hash = trail.subject_hash(cf.to_str().unwrap());
        assert_eq!(rows[0].subject.as_deref(), Some(hash.as_str()));
        assert_eq!(rows[0].outcome, "found");
        let _ = std::fs::remove_dir_all(&dir);
    }

    /// The C result of an ISEE corrente carries its own expiry (six months,
    /// or INPS's `DataScadenzaDSUCorrente`), and its validity is that,
    /// never the DSU's 31 December; an ordinario has none.
    #[test]
    fn a_corrente_s_expiry_reaches_the_c_result() {
        let data =
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../anist-core/tests/data/isee");
        let att = anist_core::isee::parse_attestazione(
            &std::fs::read(data.join("attestazione_corrente.xml")).unwrap(),
        )
        .unwrap();
        let mut out = attestazione_result(&IseeAnswer::Found {
            record: att,
            id_richiesta: None,
        });
        assert_eq!(
            text(out.corrente_valid_until).as_deref(),
            Some("2025-12-09")
        );
        assert_eq!(text(out.valid_until).as_deref(), Some("2025-12-09"));
        anist_isee_result_clear(&mut out);
        assert!(out.corrente_valid_until.is_null());

        let ind = anist_core::isee::parse_indicatore(
            &std::fs::read(data.join("indicatore_ordinario_utf8.xml")).unwrap(),
        )
        .unwrap();
        let mut out = indicatore_result(&IseeAnswer::Found {
            record: ind,
            id_richiesta: None,
        });
        assert!(out.corrente_valid_until.is_null());
        assert_eq!(text(out.valid_until).as_deref(), Some("2025-12-31"));
        anist_isee_result_clear(&mut out);
    }

    #[test]
    fn every_service_constant_maps_to_a_distinct_service() {
        let mut seen = std::collections::BTreeSet::new();
        for n in 1..=8 {
            assert!(seen.insert(
                service_of(n)
                    .map_err(|_| n)
                    .unwrap_or_else(|n| { panic!("service {n} unmapped") })
            ));
        }
        assert_eq!(seen.len(), IseeService::ALL.len());
        assert!(service_of(0).is_err());
        assert!(service_of(9).is_err());
    }
}
