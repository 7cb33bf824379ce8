//! The INPS ISEE e-services of the sandbox (protocol reference §7, §4.2,
//! U11–U15): the eight services of [`IseeService::ALL`] and the legacy v1
//! endpoint, SOAP 1.1 behind the GovWay-like front, answering from a
//! deterministic synthetic population ([`IseePopulation`]).
//!
//! Front paths: `INPS/ConsultazioneISEE-<Flavour>/v2/<Operation>` (the
//! session URL is the part before `/<Operation>`, e.g.
//! `…/INPS/ConsultazioneISEE-IndicatoreResidenti/v2`), and
//! `INPS/ConsultazioneISEE/v1` for the legacy endpoint (the URL itself;
//! the operation is chosen by `SOAPAction`).
//!
//! A request is checked in this order; the first failure answers:
//!
//! 1. on the TLS port when the service requires a client certificate
//!    (otherwise `403` fault `Authorization`): by default only the plain
//!    Indicatore / Attestazione services and the legacy v1 endpoint (INPS
//!    message 3269/2025);
//! 2. `POST`, `Content-Type: text/xml`, `SOAPAction` quoted and equal to
//!    `http://inps.it/ConsultazioneISEE/ISvcConsultazione/<Operation>`
//!    (otherwise a `400` fault `SOAP-ENV:Client.<Title>`);
//! 3. the front's voucher, quota (bare `429`, `text/xml`, empty body: U15),
//!    rate, concurrency, injected faults (SOAP faults);
//! 4. the envelope (quick-xml, by local names, at most 64 KiB, 16 levels,
//!    256 elements; its operation element must be the `SOAPAction`'s):
//!    otherwise a `400` fault `InvalidRequestContent`;
//! 5. (Operatori) an operator's assertion that is sent but is not a
//!    well-formed SAML assertion or OIDC id_token ([`assertion`]): a `403`
//!    fault `AuthorizationDenied`;
//! 6. an esito injected with
//!    [`SandboxHandle::inject_inps_esito`](super::SandboxHandle::inject_inps_esito);
//! 7. `Identity` header (`UserId`, `CodiceUfficio`) equal to the
//!    `INPS-Identity-UserId` / `INPS-Identity-CodiceUfficio` HTTP headers,
//!    the Operatori evidence (U13), the fields: otherwise `200` with
//!    `Esito` `RICHIESTA_INVALIDA` and a `DescrizioneErrore` in Italian;
//! 8. the answer: `OK` with the base64 document, `DATI_NON_TROVATI`,
//!    `RISCONTRO_NON_VALIDO`.
//!
//! The calling ente of the default client is a Comune capoluogo, Roma
//! ([`CALLING_COMUNE`], IPA [`CALLING_ENTE_IPA`]), identified to INPS as
//! [`SANDBOX_INPS_USER_ID`]. Residenti services answer `DATI_NON_TROVATI`
//! for households residing elsewhere (never revealing that data exist).

pub mod assertion;
mod population;
mod soap;

use std::collections::HashMap;
use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;

use anist_core::cf::{AnyCodiceFiscale, CodiceFiscale};
use anist_core::dsu::DsuProtocol;
use anist_core::isee::{
    write_attestazione, write_indicatore, Esito, IseeKind, IseeService, PrestazioneDaErogare,
    Ricerca, RicercaKind, ServiceFamily, StatoDomanda,
};
use axum::http::StatusCode;
use base64::Engine as _;
use chrono::{DateTime, NaiveDate};
use serde_json::{Map, Value};

pub use self::population::{
    IseeExpected, IseeHousehold, IseePopulation, ELSEWHERE_PERCENT, NOT_FOUND_PERCENT,
};
use self::soap::fault;

use super::backend::{
    lock, missing_state, Admission, BackendCall, BackendContext, BackendStates, Refusal, Reply,
    ServiceBackend,
};
use super::registry::DEFAULT_CONSUMER;
use super::registry::{Agreement, Backend, Descriptor, EService, Front, Purpose, RegistryBuilder};
#[cfg(test)]
use crate::isee::{session_name, LEGACY_V1};
use crate::isee::{Loa, SOAP_ACTION_PREFIX};

/// The INPS producer tenant of the default registry.
pub const INPS_PRODUCER: &str = "15ee0000-0000-4000-8000-000000000000";
/// The erogatore segment of the INPS front paths.
pub const INPS_EROGATORE: &str = "INPS";
/// The default daily quota per client on each INPS e-service.
pub const INPS_DAILY_CALLS: u64 = 100_000;
/// Calls in flight per INPS e-service before `429 TooManyRequests`.
pub const INPS_MAX_CONCURRENCY: u32 = 32;
/// Belfiore code of the calling Comune of the default client (Roma, a
/// Comune capoluogo).
pub const CALLING_COMUNE: &str = "H501";
/// IPA code of the calling ente (as [`super::anist::SANDBOX_OPERATOR_LOCATION`]).
pub const CALLING_ENTE_IPA: &str = "c_h501";
/// The `Identity/UserId` of the default client: a synthetic, valid
/// 11-digit codice fiscale (an ente's).
pub const SANDBOX_INPS_USER_ID: &str = "90000000019";
/// The HTTP header carrying the operator's SPID/CIE assertion to the
/// Operatori services (assumption U13; a placeholder name).
pub const IDENTITY_ASSERTION_HEADER: &str = "INPS-Identity-Assertion";

/// Which INPS endpoint answers behind the front.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum InpsBackend {
    /// One of the eight v2 services (one operation each).
    Service(IseeService),
    /// The legacy v1 endpoint: `ConsultazioneIndicatore` and
    /// `ConsultazioneAttestazione`, by `SOAPAction`.
    LegacyV1,
}

impl InpsBackend {
    /// The operation named `op`, when this endpoint answers it: the
    /// service's own ([`IseeService::operation`]), or either of the plain
    /// Indicatore / Attestazione ones for v1.
    pub fn operation(self, op: &str) -> Option<&'static str> {
        let services = match &self {
            InpsBackend::LegacyV1 => &[IseeService::Indicatore, IseeService::Attestazione][..],
            InpsBackend::Service(s) => std::slice::from_ref(s),
        };
        services.iter().map(|s| s.operation()).find(|o| *o == op)
    }

    /// Whether the path after the version is right: the operation for a
    /// v2 service, nothing for v1.
    fn path_operation_ok(self, operation: &str) -> bool {
        match self {
            InpsBackend::LegacyV1 => operation.is_empty(),
            InpsBackend::Service(s) => operation == s.operation(),
        }
    }

    /// The service whose rules apply to `operation`.
    fn service_for(self, operation: &str) -> IseeService {
        match self {
            InpsBackend::Service(s) => s,
            InpsBackend::LegacyV1 if operation == IseeService::Attestazione.operation() => {
                IseeService::Attestazione
            }
            InpsBackend::LegacyV1 => IseeService::Indicatore,
        }
    }

    /// Whether the client certificate is required by default (U14; the
    /// legacy endpoint: yes).
    pub fn mtls_by_default(self) -> bool {
        match self {
            InpsBackend::Service(s) => crate::isee::mtls_by_default(s),
            InpsBackend::LegacyV1 => true,
        }
    }
}

impl InpsBackend {
    /// Every INPS backend: the eight services and the legacy endpoint.
    pub const ALL: [InpsBackend; 9] = [
        InpsBackend::Service(IseeService::IndicatoreOperatori),
        InpsBackend::Service(IseeService::AttestazioneOperatori),
        InpsBackend::Service(IseeService::IndicatoreResidenti),
        InpsBackend::Service(IseeService::AttestazioneResidenti),
        InpsBackend::Service(IseeService::IndicatoreRiscontro),
        InpsBackend::Service(IseeService::IndicatoreNucleoRiscontro),
        InpsBackend::Service(IseeService::Indicatore),
        InpsBackend::Service(IseeService::Attestazione),
        InpsBackend::LegacyV1,
    ];
}

impl ServiceBackend for InpsBackend {
    fn name(&self) -> &str {
        match self {
            InpsBackend::Service(IseeService::IndicatoreOperatori) => "inps-indicatore-operatori",
            InpsBackend::Service(IseeService::AttestazioneOperatori) => {
                "inps-attestazione-operatori"
            }
            InpsBackend::Service(IseeService::IndicatoreResidenti) => "inps-indicatore-residenti",
            InpsBackend::Service(IseeService::AttestazioneResidenti) => {
                "inps-attestazione-residenti"
            }
            InpsBackend::Service(IseeService::IndicatoreRiscontro) => "inps-indicatore-riscontro",
            InpsBackend::Service(IseeService::IndicatoreNucleoRiscontro) => {
                "inps-indicatore-nucleo-riscontro"
            }
            InpsBackend::Service(IseeService::Indicatore) => "inps-indicatore",
            InpsBackend::Service(IseeService::Attestazione) => "inps-attestazione",
            InpsBackend::LegacyV1 => "inps-v1",
        }
    }

    /// The operation in the path; the method and `SOAPAction` are checked
    /// by [`Self::admit`].
    fn operation_known(&self, _method: &str, operation: &str) -> bool {
        self.path_operation_ok(operation)
    }

    fn is_soap(&self) -> bool {
        true
    }

    /// GovWay's SOAP 1.1 fault with the problem in `detail`; the daily
    /// quota (`LimitExceeded`) is a bare `429` with an empty `text/xml`
    /// body, as INPS answers (U15).
    fn refusal_reply(&self, refusal: &Refusal, transaction: &str) -> Option<Reply> {
        let status =
            StatusCode::from_u16(refusal.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        if refusal.status == 429 && refusal.title == "LimitExceeded" {
            return Some(Reply::new(status, "text/xml", Vec::new()));
        }
        let body = fault(refusal.status, refusal.title, refusal.detail, transaction);
        Some(Reply::new(status, "text/xml; charset=utf-8", body))
    }

    /// The sandbox's setting for this backend
    /// (`SandboxConfig::inps_mtls`), else the front's.
    fn requires_mtls(&self, states: &BackendStates, front_setting: bool) -> bool {
        match states.get::<InpsState>() {
            Some(state) => state.requires_mtls(*self, front_setting),
            None => front_setting,
        }
    }

    /// The client certificate, then POST, `Content-Type` and `SOAPAction`.
    fn admit(&self, ctx: &BackendContext<'_>, call: &Admission<'_>) -> Result<(), Refusal> {
        if self.requires_mtls(ctx.states(), call.front_requires_mtls) && !call.via_tls {
            return Err(Refusal::new(
                403,
                "Authorization",
                "Authorization failed: this API requires a TLS client certificate (mutual authentication)",
                "the e-service requires mTLS: call the sandbox's TLS port with the client certificate",
            ));
        }
        transport(*self, call.method, call.header).map(|_| ())
    }

    fn serve(&self, ctx: &BackendContext<'_>, call: &BackendCall<'_>) -> Result<Reply, Refusal> {
        let state = ctx
            .state::<InpsState>()
            .ok_or_else(|| missing_state("INPS"))?;
        let operation = transport(*self, call.method, call.header)?;
        let call = InpsCall {
            backend: *self,
            operation,
            header: call.header,
            body: call.body,
            evidence: call.evidence,
            now: ctx.now(),
        };
        let xml = serve(state, &call)?;
        Ok(Reply::new(StatusCode::OK, "text/xml; charset=utf-8", xml))
    }
}

/// One INPS e-service of the default registry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct InpsEService {
    /// The session service name ([`crate::isee::session_name`],
    /// [`crate::isee::LEGACY_V1`]).
    pub session_name: &'static str,
    /// What answers.
    pub backend: InpsBackend,
    /// The e-service id (sandbox-own).
    pub eservice: &'static str,
    /// The descriptor id.
    pub descriptor: &'static str,
    /// The default client's purpose.
    pub purpose: &'static str,
    /// The service segment on the front.
    pub service: &'static str,
    /// The version segment on the front.
    pub version: &'static str,
    /// The voucher audience.
    pub audience: &'static str,
}

macro_rules! inps_eservice {
    ($n:literal, $name:literal, $svc:expr, $segment:literal, $version:literal) => {
        InpsEService {
            session_name: $name,
            backend: $svc,
            eservice: concat!("15ee000", $n, "-0000-4000-8000-00000000000", $n),
            descriptor: concat!("15ee000", $n, "-0000-4000-8000-0000000000d", $n),
            purpose: concat!("15ee000", $n, "-0000-4000-8000-0000000000f", $n),
            service: $segment,
            version: $version,
            audience: concat!(
                "https://sandbox.inps.invalid/pdnd/soap/",
                $segment,
                "/",
                $version
            ),
        }
    };
}

/// The nine INPS e-services of [`super::registry::Registry::default_builder`].
pub const INPS_ESERVICES: [InpsEService; 9] = [
    inps_eservice!(
        "1",
        "isee-indicatore-operatori",
        InpsBackend::Service(IseeService::IndicatoreOperatori),
        "ConsultazioneISEE-IndicatoreOperatori",
        "v2"
    ),
    inps_eservice!(
        "2",
        "isee-attestazione-operatori",
        InpsBackend::Service(IseeService::AttestazioneOperatori),
        "ConsultazioneISEE-AttestazioneOperatori",
        "v2"
    ),
    inps_eservice!(
        "3",
        "isee-indicatore-residenti",
        InpsBackend::Service(IseeService::IndicatoreResidenti),
        "ConsultazioneISEE-IndicatoreResidenti",
        "v2"
    ),
    inps_eservice!(
        "4",
        "isee-attestazione-residenti",
        InpsBackend::Service(IseeService::AttestazioneResidenti),
        "ConsultazioneISEE-AttestazioneResidenti",
        "v2"
    ),
    inps_eservice!(
        "5",
        "isee-indicatore-riscontro",
        InpsBackend::Service(IseeService::IndicatoreRiscontro),
        "ConsultazioneISEE-IndicatoreRiscontro",
        "v2"
    ),
    inps_eservice!(
        "6",
        "isee-indicatore-nucleo-riscontro",
        InpsBackend::Service(IseeService::IndicatoreNucleoRiscontro),
        "ConsultazioneISEE-IndicatoreNucleoRiscontro",
        "v2"
    ),
    inps_eservice!(
        "7",
        "isee-indicatore",
        InpsBackend::Service(IseeService::Indicatore),
        "ConsultazioneISEE-Indicatore",
        "v2"
    ),
    inps_eservice!(
        "8",
        "isee-attestazione",
        InpsBackend::Service(IseeService::Attestazione),
        "ConsultazioneISEE-Attestazione",
        "v2"
    ),
    inps_eservice!(
        "9",
        "isee-v1",
        InpsBackend::LegacyV1,
        "ConsultazioneISEE",
        "v1"
    ),
];

/// The default registry entry of `backend`.
pub fn eservice_of(backend: InpsBackend) -> Option<&'static InpsEService> {
    INPS_ESERVICES.iter().find(|e| e.backend == backend)
}

/// Adds the INPS producer, the nine INPS e-services (SOAP fronts, no
/// INTEGRITY_REST_02, client certificate per [`InpsBackend::mtls_by_default`]),
/// the default consumer's agreements and purposes on them. The default
/// client is given the purposes by `Registry::default_builder`.
pub fn register(builder: RegistryBuilder) -> RegistryBuilder {
    register_with_limits(builder, INPS_DAILY_CALLS, 0)
}

/// As [`register`], with a daily quota of `daily_calls` per client on each
/// e-service and a rate policy of `max_rate` calls per second (0: none).
pub fn register_with_limits(
    builder: RegistryBuilder,
    daily_calls: u64,
    max_rate: u32,
) -> RegistryBuilder {
    let mut builder = builder.tenant(super::registry::Tenant::new(
        INPS_PRODUCER,
        "INPS (sandbox)",
    ));
    for s in INPS_ESERVICES {
        builder = builder
            .eservice(EService::new(
                s.eservice,
                INPS_PRODUCER,
                Descriptor::new(s.descriptor, s.audience)
                    .voucher_lifespan(600)
                    .daily_calls(daily_calls)
                    .front(
                        Front::new(INPS_EROGATORE, s.service)
                            .version(s.version)
                            .integrity(false)
                            .audit(false)
                            .audit_claims(&[])
                            .mtls(s.backend.mtls_by_default())
                            .max_concurrency(INPS_MAX_CONCURRENCY)
                            .max_rate(max_rate)
                            .backend(Backend::service(s.backend)),
                    ),
            ))
            .agreement(Agreement::new(s.eservice, DEFAULT_CONSUMER))
            .purpose(Purpose::new(s.purpose, s.eservice, DEFAULT_CONSUMER));
    }
    builder
}

// ---- Configuration and state -------------------------------------------

/// The INPS part of a sandbox's configuration (set through the sandbox's
/// `SandboxConfig`).
#[derive(Clone)]
pub(super) struct InpsConfig {
    /// The Belfiore code of the calling Comune.
    pub(super) comune: String,
    /// Whether a backend requires the client certificate, overriding its
    /// front's setting.
    pub(super) mtls: HashMap<InpsBackend, bool>,
}

impl Default for InpsConfig {
    fn default() -> Self {
        Self {
            comune: CALLING_COMUNE.to_string(),
            mtls: HashMap::new(),
        }
    }
}

impl fmt::Debug for InpsConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("InpsConfig")
            .field("comune", &self.comune)
            .field("mtls", &self.mtls)
            .finish()
    }
}

/// The INPS part of a running sandbox's state (one of its
/// [`BackendStates`]).
pub(super) struct InpsState {
    pub(super) config: InpsConfig,
    population: IseePopulation,
    injected: Mutex<Option<(Esito, u32)>>,
    next_id: AtomicU64,
}

impl InpsState {
    /// The ISEE population (also the ANPR backend's families).
    pub(in crate::sandbox) fn population(&self) -> &IseePopulation {
        &self.population
    }

    pub(super) fn new(config: InpsConfig, seed: u64) -> Self {
        let population = IseePopulation::new(seed, &config.comune);
        Self {
            config,
            population,
            injected: Mutex::new(None),
            next_id: AtomicU64::new(1),
        }
    }

    /// Whether calls to `backend` need the client certificate, its front
    /// saying `front_setting`.
    fn requires_mtls(&self, backend: InpsBackend, front_setting: bool) -> bool {
        self.config
            .mtls
            .get(&backend)
            .copied()
            .unwrap_or(front_setting)
    }

    /// The next `times` calls that reach the backend with a readable
    /// envelope answer `esito` (0 clears).
    pub(super) fn inject(&self, esito: Esito, times: u32) {
        *lock(&self.injected) = (times > 0).then_some((esito, times));
    }
}

// ---- Serving ------------------------------------------------------------

fn client_fault(status: u16, title: &'static str, detail: &'static str, reason: String) -> Refusal {
    Refusal::new(status, title, detail, reason)
}

/// The transport checks (POST, `Content-Type`, `SOAPAction`); the
/// operation on success.
fn transport(
    backend: InpsBackend,
    method: &str,
    header: impl Fn(&str) -> Option<String>,
) -> Result<&'static str, Refusal> {
    if method != "POST" {
        return Err(client_fault(
            400,
            "BadRequest",
            "SOAP requests must use POST",
            format!("method {method} on a SOAP e-service"),
        ));
    }
    let ct = header("content-type").unwrap_or_default();
    if !ct
        .split(';')
        .next()
        .is_some_and(|m| m.trim().eq_ignore_ascii_case("text/xml"))
    {
        return Err(client_fault(
            400,
            "ContentTypeNotSupported",
            "The request content type is not supported: use text/xml (SOAP 1.1)",
            "Content-Type is not text/xml".into(),
        ));
    }
    let action = header("soapaction").unwrap_or_default();
    let unquoted = action
        .trim()
        .strip_prefix('"')
        .and_then(|a| a.strip_suffix('"'));
    let op = unquoted.and_then(|a| a.strip_prefix(SOAP_ACTION_PREFIX));
    match op.and_then(|op| backend.operation(op)) {
        Some(op) => Ok(op),
        None => Err(client_fault(
            400,
            "BadRequest",
            "The SOAPAction does not identify an operation of this API",
            if unquoted.is_none() {
                "SOAPAction is missing or not quoted".into()
            } else {
                "SOAPAction is not one of this service's operations".into()
            },
        )),
    }
}

/// A call the front let through to an INPS backend.
struct InpsCall<'a> {
    backend: InpsBackend,
    operation: &'a str,
    header: &'a dyn Fn(&str) -> Option<String>,
    body: &'a [u8],
    /// The verified AUDIT_REST_02 evidence's claims, if one was sent.
    evidence: Option<&'a Map<String, Value>>,
    /// The sandbox's now (Unix seconds).
    now: i64,
}

/// An application answer: `Esito`, description, document.
struct Outcome {
    esito: Esito,
    descrizione: Option<String>,
    payload: Option<(&'static str, String)>,
}

fn invalid(why: impl Into<String>) -> Outcome {
    Outcome {
        esito: Esito::RichiestaInvalida,
        descrizione: Some(why.into()),
        payload: None,
    }
}

fn no_data() -> Outcome {
    Outcome {
        esito: Esito::DatiNonTrovati,
        descrizione: Some("Nessuna DSU valida trovata per i criteri indicati".into()),
        payload: None,
    }
}

/// The XSD pattern of `CodiceFiscale`:
/// `([A-Z]{6}\d{2}[A-Z]\d{2}[A-Z][A-Z0-9]{3}[A-Z])|(\d{11})`.
pub(crate) fn cf_pattern_ok(s: &str) -> bool {
    let b = s.as_bytes();
    if b.len() == 11 {
        return b.iter().all(u8::is_ascii_digit);
    }
    if b.len() != 16 {
        return false;
    }
    b.iter().enumerate().all(|(i, c)| match i {
        0..=5 | 8 | 11 | 15 => c.is_ascii_uppercase(),
        6 | 7 | 9 | 10 => c.is_ascii_digit(),
        _ => c.is_ascii_uppercase() || c.is_ascii_digit(),
    })
}

/// Serves one call that passed the front's checks: the SOAP answer (200),
/// or a fault.
fn serve(state: &InpsState, call: &InpsCall<'_>) -> Result<String, Refusal> {
    let req = soap::parse_request(call.body).map_err(|why| {
        client_fault(
            400,
            "InvalidRequestContent",
            "Request content not conform to API specification",
            why,
        )
    })?;
    if req.operation != call.operation {
        return Err(client_fault(
            400,
            "InvalidRequestContent",
            "Request content not conform to API specification",
            "the Body's operation element is not the SOAPAction's operation".into(),
        ));
    }
    // Operatori: a malformed SPID/CIE assertion is refused by the front
    // (a missing one is a RICHIESTA_INVALIDA, below).
    if call.backend.service_for(call.operation).family() == ServiceFamily::Operatori {
        let header = (call.header)(&IDENTITY_ASSERTION_HEADER.to_ascii_lowercase());
        if let Some(why) = header
            .as_deref()
            .filter(|h| !h.trim().is_empty())
            .and_then(assertion::assertion_problem)
        {
            return Err(client_fault(
                403,
                "AuthorizationDenied",
                "The operator's SPID/CIE assertion is not valid: send the SAML assertion or the OIDC id_token of the operator's login, as the identity provider issued it",
                why.to_string(),
            ));
        }
    }
    let id = state.next_id.fetch_add(1, Ordering::SeqCst).to_string();
    let injected = {
        let mut slot = lock(&state.injected);
        match slot.as_mut() {
            Some((esito, n)) => {
                let e = esito.clone();
                *n -= 1;
                if *n == 0 {
                    *slot = None;
                }
                Some(e)
            }
            None => None,
        }
    };
    let outcome = match injected {
        Some(esito) => {
            let d = match esito {
                Esito::DatabaseOffline => {
                    "Banca dati temporaneamente non disponibile: riprovare più tardi"
                }
                _ => "Errore interno del servizio: riprovare più tardi",
            };
            Outcome {
                esito,
                descrizione: Some(d.into()),
                payload: None,
            }
        }
        None => answer(state, call, &req),
    };
    Ok(soap::response(
        call.operation,
        &id,
        outcome.esito.as_str(),
        outcome.descrizione.as_deref(),
        outcome.payload.as_ref().map(|(f, b)| (*f, b.as_str())),
    ))
}

fn answer(state: &InpsState, call: &InpsCall<'_>, req: &soap::SoapRequest) -> Outcome {
    let service = call.backend.service_for(call.operation);
    // Identity.
    let Some(identity) = &req.identity else {
        return invalid("Manca l'header SOAP Identity (UserId, CodiceUfficio)");
    };
    let (Some(user_id), Some(ufficio)) = (&identity.user_id, &identity.codice_ufficio) else {
        return invalid("Identity: UserId e CodiceUfficio sono obbligatori");
    };
    if (call.header)("inps-identity-userid")
        .as_deref()
        .map(str::trim)
        != Some(user_id.as_str())
        || (call.header)("inps-identity-codiceufficio")
            .as_deref()
            .map(str::trim)
            != Some(ufficio.as_str())
    {
        return invalid(
            "Identity: UserId e CodiceUfficio devono coincidere con gli header HTTP INPS-Identity-UserId e INPS-Identity-CodiceUfficio",
        );
    }
    // Operatori: the operator's evidence and assertion (U13).
    if service.family() == ServiceFamily::Operatori {
        if let Some(why) = operator_problem(call, user_id) {
            return invalid(why);
        }
    }
    // The fields.
    let Some(search) = &req.search else {
        return invalid(
            "Manca il criterio di ricerca (RicercaCF, RicercaProtDSU o RicercaProtMittente)",
        );
    };
    let allowed = match service.family() {
        ServiceFamily::Riscontro => search.kind == soap::SearchKind::ProtDsu,
        _ if !service.returns_attestazione() => search.kind == soap::SearchKind::Cf,
        _ => true,
    };
    if !allowed {
        return invalid(if service.family() == ServiceFamily::Riscontro {
            "Criterio di ricerca non ammesso: il servizio di riscontro richiede RicercaProtDSU (ProtocolloDSU e CodiceFiscaleBeneficiario)"
        } else {
            "Criterio di ricerca non ammesso: il servizio richiede RicercaCF"
        });
    }
    let Some(cf_text) = &search.codice_fiscale else {
        return invalid("Codice fiscale mancante");
    };
    if !cf_pattern_ok(cf_text) {
        return invalid(
            "Codice fiscale non valido: atteso il formato di 16 caratteri o di 11 cifre",
        );
    }
    let today = DateTime::from_timestamp(call.now, 0)
        .map(|d| d.date_naive())
        .unwrap_or_default();
    let date = match &search.data_validita {
        None => today,
        Some(d) => match NaiveDate::parse_from_str(d, "%Y-%m-%d") {
            Ok(d) if d.to_string().len() == 10 => d,
            _ => return invalid("DataValidita non valida: attesa una data nel formato AAAA-MM-GG"),
        },
    };
    if let Some(p) = &search.prestazione {
        if PrestazioneDaErogare::parse(p).is_err() {
            return invalid("PrestazioneDaErogare non valida: atteso un codice da A1.01 a Z9.99 della tabella del Casellario dell'assistenza");
        }
    }
    if let Some(p) = &search.protocollo_domanda {
        if p.chars().count() > 256 {
            return invalid(
                "ProtocolloDomandaEnteErogatore troppo lungo: al massimo 256 caratteri",
            );
        }
    }
    if let Some(s) = &search.stato_domanda {
        if StatoDomanda::parse(s).is_none() {
            return invalid(
                "StatodomandaPrestazione non valido: atteso \"Da Erogare\" o \"Erogata\"",
            );
        }
    }
    let dsu = match (&search.protocollo_dsu, search.kind) {
        (Some(p), _) => match DsuProtocol::parse(p) {
            Ok(p) => Some(p),
            _ => {
                return invalid(
                    "ProtocolloDSU non valido: atteso il formato INPS-ISEE-AAAA-NNNNNNNNL-NN",
                )
            }
        },
        (None, soap::SearchKind::ProtDsu) => return invalid("ProtocolloDSU mancante"),
        (None, _) => None,
    };
    if search.kind == soap::SearchKind::ProtMittente && search.protocollo_mittente.is_none() {
        return invalid("ProtocolloMittente mancante");
    }
    let kind = if service.returns_attestazione() {
        IseeKind::Ordinario
    } else {
        match &req.tipo_indicatore {
            None => IseeKind::Ordinario,
            Some(t) => {
                let k = IseeKind::parse(t);
                if k.tipo_indicatore() != Some(t.as_str()) {
                    return invalid("TipoIndicatore non valido: atteso Ordinario, Minorenne, Universitario, SocioSanitario, Dottorato o Residenziale");
                }
                k
            }
        }
    };

    // The lookup.
    let person = match CodiceFiscale::parse(cf_text) {
        Ok(cf) => AnyCodiceFiscale::Persona(cf),
        Err(_) => match AnyCodiceFiscale::parse(cf_text) {
            Ok(any) => any,
            Err(_) => return no_data(),
        },
    };
    // As INPS would on `today`: no DSU presented after it, no expired
    // ISEE corrente.
    let expected = state.population.expected_on(&person, date, today);
    let Some(household) = expected.household() else {
        return no_data();
    };
    let att = &household.attestazione;
    if service.family() == ServiceFamily::Residenti && !household.resides_in(&state.config.comune) {
        return no_data();
    }
    match search.kind {
        soap::SearchKind::ProtDsu => {
            if dsu.as_ref() != Some(&att.protocollo_dsu) {
                if service.family() == ServiceFamily::Riscontro {
                    return Outcome {
                        esito: Esito::RiscontroNonValido,
                        descrizione: Some("Il protocollo DSU indicato non corrisponde al codice fiscale del beneficiario".into()),
                        payload: None,
                    };
                }
                return no_data();
            }
        }
        soap::SearchKind::ProtMittente => {
            if att.protocollo_mittente != search.protocollo_mittente {
                return no_data();
            }
        }
        soap::SearchKind::Cf => {}
    }
    let ricerca = Ricerca {
        kind: match search.kind {
            soap::SearchKind::Cf => RicercaKind::CodiceFiscale,
            soap::SearchKind::ProtDsu => RicercaKind::ProtocolloDsu,
            soap::SearchKind::ProtMittente => RicercaKind::ProtocolloMittente,
        },
        codice_fiscale: Some(person),
        data_validita: search.data_validita.as_ref().map(|_| date),
        prestazione_da_erogare: search.prestazione.clone(),
        protocollo_domanda: search.protocollo_domanda.clone(),
        stato_domanda: search.stato_domanda.clone(),
        protocollo_dsu: dsu,
        protocollo_mittente: search.protocollo_mittente.clone(),
    };
    let b64 = |xml: String| base64::engine::general_purpose::STANDARD.encode(xml.as_bytes());
    if service.returns_attestazione() {
        let mut out = att.clone();
        out.ricerca = Some(ricerca);
        return Outcome {
            esito: Esito::Ok,
            descrizione: None,
            payload: Some(("XmlEsitoAttestazione", b64(write_attestazione(&out)))),
        };
    }
    let Some(mut ind) = household.indicatore(&person, &kind) else {
        return no_data();
    };
    if service == IseeService::IndicatoreNucleoRiscontro {
        ind.household = att.household.clone();
    }
    ind.ricerca = Some(ricerca);
    Outcome {
        esito: Esito::Ok,
        descrizione: None,
        payload: Some(("XmlEsitoIndicatore", b64(write_indicatore(&ind)))),
    }
}

/// What is missing for an Operatori call (U13), in Italian; `None` when
/// all is there.
fn operator_problem(call: &InpsCall<'_>, user_id: &str) -> Option<&'static str> {
    let Some(te) = call.evidence else {
        return Some("Manca l'evidenza dell'operatore: inviare l'header Agid-JWT-TrackingEvidence (AUDIT_REST_02) con userID e LoA");
    };
    let te_user = te
        .get("userID")
        .and_then(Value::as_str)
        .unwrap_or("")
        .trim();
    if te_user.len() != 16 || CodiceFiscale::parse(te_user).is_err() {
        return Some("L'evidenza dell'operatore non riporta in userID un codice fiscale valido di 16 caratteri");
    }
    if te_user != user_id {
        return Some("Il codice fiscale dell'operatore (userID dell'evidenza) non coincide con Identity/UserId");
    }
    let loa = te.get("LoA").and_then(Value::as_str).unwrap_or("");
    if !Loa::parse(loa).is_some_and(Loa::is_enough_for_operatori) {
        return Some("Livello di autenticazione dell'operatore non ammesso: LoA deve essere LoA3 o LoA4 (SPID di livello 2 o 3, CIE)");
    }
    let assertion = (call.header)(&IDENTITY_ASSERTION_HEADER.to_ascii_lowercase());
    if assertion.as_deref().map(str::trim).unwrap_or("").is_empty() {
        return Some("Manca l'asserzione SPID/CIE dell'operatore (header INPS-Identity-Assertion)");
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn constants_hold() {
        assert!(matches!(
            AnyCodiceFiscale::parse(SANDBOX_INPS_USER_ID),
            Ok(AnyCodiceFiscale::Numerico(_))
        ));
        for e in INPS_ESERVICES {
            assert!(crate::ids::is_uuid(e.eservice), "{}", e.eservice);
            assert!(crate::ids::is_uuid(e.descriptor));
            assert!(crate::ids::is_uuid(e.purpose));
        }
        assert!(crate::ids::is_uuid(INPS_PRODUCER));
        let names: std::collections::HashSet<_> =
            INPS_ESERVICES.iter().map(|e| e.session_name).collect();
        assert_eq!(names.len(), 9);
        assert!(names.contains(LEGACY_V1));
        for s in IseeService::ALL {
            let e = eservice_of(InpsBackend::Service(s)).unwrap();
            assert_eq!(e.session_name, session_name(s));
            assert_eq!(e.backend.operation(s.operation()), Some(s.operation()));
            assert_eq!(e.backend.operation("ConsultazioneAltro"), None);
        }
    }

    #[test]
    fn cf_pattern() {
        assert!(cf_pattern_ok("RSSMRA80A01H501U"));
        assert!(cf_pattern_ok("RSSMRA80A01H5L1U"));
        assert!(cf_pattern_ok("12345678901"));
        assert!(!cf_pattern_ok("rssmra80a01h501u"));
        assert!(!cf_pattern_ok("RSSMRA80A01H501"));
        assert!(!cf_pattern_ok("1234567890"));
        assert!(!cf_pattern_ok("RSSMRA8XA01H501U"));
    }

    #[test]
    fn transport_checks() {
        let b = InpsBackend::Service(IseeService::IndicatoreResidenti);
        let ok = |name: &str| match name {
            "content-type" => Some("text/xml; charset=utf-8".to_string()),
            "soapaction" => Some(format!(
                "\"{SOAP_ACTION_PREFIX}ConsultazioneIndicatoreResidenti\""
            )),
            _ => None,
        };
        assert_eq!(
            transport(b, "POST", ok).unwrap(),
            "ConsultazioneIndicatoreResidenti"
        );
        assert_eq!(transport(b, "GET", ok).unwrap_err().title, "BadRequest");
        let unquoted = |name: &str| match name {
            "soapaction" => Some(format!(
                "{SOAP_ACTION_PREFIX}ConsultazioneIndicatoreResidenti"
            )),
            n => ok(n),
        };
        assert_eq!(transport(b, "POST", unquoted).unwrap_err().status, 400);
        let json = |name: &str| match name {
            "content-type" => Some("application/json".to_string()),
            n => ok(n),
        };
        assert_eq!(
            transport(b, "POST", json).unwrap_err().title,
            "ContentTypeNotSupported"
        );
        let v1 = |name: &str| match name {
            "soapaction" => Some(format!("\"{SOAP_ACTION_PREFIX}ConsultazioneAttestazione\"")),
            n => ok(n),
        };
        assert_eq!(
            transport(InpsBackend::LegacyV1, "POST", v1).unwrap(),
            "ConsultazioneAttestazione"
        );
        assert!(transport(b, "POST", v1).is_err());
    }
}
