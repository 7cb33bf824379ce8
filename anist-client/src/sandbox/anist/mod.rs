//! The ANIST e-services of the sandbox (protocol reference §8, §10, U7–U10):
//! their registry entries, a seeded synthetic population, the verifica /
//! accertamento backends and the massive jobs (ModI NONBLOCK_PULL). The
//! sandbox's default client gets a ready session on them
//! ([`SandboxHandle::session`](super::SandboxHandle::session)).
//!
//! The four e-services are published by the front as erogatore
//! [`ANIST_EROGATORE`] (`MIM-INTRA-PDND`) with the services
//! `verificaFrequenze`, `accertamentoFrequenze`, `verificaMassivaFrequenze`
//! and `accertamentoMassivoFrequenze` (v1), Bearer + INTEGRITY_REST_02 +
//! AUDIT_REST_02, vouchers of 600 s, [`ANIST_DAILY_CALLS`] calls a day per
//! client and [`ANIST_MAX_CONCURRENCY`] in flight. The wire shapes are the
//! client's codecs ([`crate::anist::codec`]).
//!
//! **Outcomes are a pure function of (seed, codice fiscale)**: any valid
//! code gets a deterministic answer, whether or not it is one of
//! [`Population::pupils`]. See [`Population::expected`].
//!
//! ```
//! use std::sync::Arc;
//! use anist_client::anist::{AnistClient, Answer, AttendanceService, Query};
//! use anist_client::sandbox::{Sandbox, SandboxConfig};
//!
//! # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
//! let sandbox = Sandbox::start(SandboxConfig::with_default_client(7)?).await?;
//! let anist = AnistClient::new(Arc::new(sandbox.session()?));
//! let pupil = &sandbox.population().pupils()[0];
//! let answer = anist.verify(&Query::by_cf(pupil.codice_fiscale)).await?;
//! let expected = sandbox.population().expected(&pupil.codice_fiscale, sandbox.population().current_year());
//! assert_eq!(answer, expected.verifica().map_or(Answer::NotFound, Answer::Found));
//! sandbox.shutdown().await;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! # }).unwrap();
//! ```

use std::collections::HashMap;
use std::fmt;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use anist_core::anpr::IdAnpr;
use anist_core::cf::CodiceFiscale;
use anist_core::meccanografico::CodiceMeccanografico;
use anist_core::school::SchoolYear;
use axum::http::StatusCode;
use chrono::DateTime;
use serde_json::{json, Map, Value};

use super::backend::{
    lock, missing_state, BackendCall, BackendContext, Refusal, Reply, ServiceBackend,
};
use super::registry::{Agreement, Backend, Descriptor, EService, Front, Purpose, RegistryBuilder};
use super::registry::{DEFAULT_CLIENT, DEFAULT_CONSUMER, DEFAULT_PRODUCER};
use crate::anist::codec::{accertamento, massiva, verifica};
use crate::anist::{ACCERTAMENTO, ACCERTAMENTO_MASSIVO, VERIFICA, VERIFICA_MASSIVA};
use crate::clock::Clock;

mod population;

pub use self::population::{Expected, Plesso, Population, Pupil, School, UnknownSchool};

/// The erogatore segment of the ANIST e-services on the front (U7).
pub const ANIST_EROGATORE: &str = "MIM-INTRA-PDND";
/// Daily calls per client on each ANIST e-service of the default registry.
pub const ANIST_DAILY_CALLS: u64 = 1_000_000;
/// Calls in flight on each ANIST e-service of the default registry.
pub const ANIST_MAX_CONCURRENCY: u32 = 64;
/// The session service name of the echo e-service in
/// [`SandboxHandle::session`](super::SandboxHandle::session).
pub const ECHO: &str = "echo";
/// The operator of [`SandboxHandle::session`](super::SandboxHandle::session)
/// (`userID` of the TrackingEvidence).
pub const SANDBOX_OPERATOR: &str = "operatore-sandbox";
/// The operator's location (`userLocation`).
pub const SANDBOX_OPERATOR_LOCATION: &str = "c_h501";
/// Most questions in one massive job.
pub const MAX_MASSIVE_ROWS: usize = 100_000;

/// "ANIST - Frequenze" (verifica): e-service id.
pub const VERIFICA_ESERVICE: &str = "a1570001-0000-4000-8000-000000000001";
/// Its descriptor.
pub const VERIFICA_DESCRIPTOR: &str = "a1570001-0000-4000-8000-0000000000d1";
/// The default client's purpose on it.
pub const VERIFICA_PURPOSE: &str = "a1570001-0000-4000-8000-0000000000f1";
/// "ANIST - Accertamento Frequenze": e-service id.
pub const ACCERTAMENTO_ESERVICE: &str = "a1570002-0000-4000-8000-000000000002";
/// Its descriptor.
pub const ACCERTAMENTO_DESCRIPTOR: &str = "a1570002-0000-4000-8000-0000000000d2";
/// The default client's purpose on it.
pub const ACCERTAMENTO_PURPOSE: &str = "a1570002-0000-4000-8000-0000000000f2";
/// "ANIST - Verifica Massiva Frequenze": e-service id.
pub const VERIFICA_MASSIVA_ESERVICE: &str = "a1570003-0000-4000-8000-000000000003";
/// Its descriptor.
pub const VERIFICA_MASSIVA_DESCRIPTOR: &str = "a1570003-0000-4000-8000-0000000000d3";
/// The default client's purpose on it.
pub const VERIFICA_MASSIVA_PURPOSE: &str = "a1570003-0000-4000-8000-0000000000f3";
/// "ANIST - Accertamento Massivo Frequenze": e-service id.
pub const ACCERTAMENTO_MASSIVO_ESERVICE: &str = "a1570004-0000-4000-8000-000000000004";
/// Its descriptor.
pub const ACCERTAMENTO_MASSIVO_DESCRIPTOR: &str = "a1570004-0000-4000-8000-0000000000d4";
/// The default client's purpose on it.
pub const ACCERTAMENTO_MASSIVO_PURPOSE: &str = "a1570004-0000-4000-8000-0000000000f4";

/// Which ANIST operation set answers behind the front.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AnistBackend {
    /// `POST frequenze/verifica-frequenza`.
    Verifica,
    /// `POST frequenze/accertamento-frequenza`.
    Accertamento,
    /// `POST frequenze/massiva`, `GET frequenze/massiva/{id}[/result]` (verifica rows).
    VerificaMassiva,
    /// As [`Self::VerificaMassiva`], with accertamento rows.
    AccertamentoMassivo,
}

impl AnistBackend {
    fn is_massive(self) -> bool {
        matches!(
            self,
            AnistBackend::VerificaMassiva | AnistBackend::AccertamentoMassivo
        )
    }

    fn detailed(self) -> bool {
        matches!(
            self,
            AnistBackend::Accertamento | AnistBackend::AccertamentoMassivo
        )
    }
}

/// One ANIST e-service of the default registry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AnistEService {
    /// The session service name ([`crate::anist::VERIFICA`]…).
    pub session_name: &'static str,
    /// The e-service id.
    pub eservice: &'static str,
    /// The descriptor id.
    pub descriptor: &'static str,
    /// The default client's purpose.
    pub purpose: &'static str,
    /// The service segment on the front.
    pub service: &'static str,
    /// The voucher and ModI audience.
    pub audience: &'static str,
    /// What answers.
    pub backend: AnistBackend,
}

/// The four ANIST e-services of [`super::registry::Registry::default_builder`].
pub const ANIST_ESERVICES: [AnistEService; 4] = [
    AnistEService {
        session_name: VERIFICA,
        eservice: VERIFICA_ESERVICE,
        descriptor: VERIFICA_DESCRIPTOR,
        purpose: VERIFICA_PURPOSE,
        service: "verificaFrequenze",
        audience: "https://sandbox.anist.invalid/govway/rest/in/MIM-INTRA-PDND/verificaFrequenze/v1",
        backend: AnistBackend::Verifica,
    },
    AnistEService {
        session_name: ACCERTAMENTO,
        eservice: ACCERTAMENTO_ESERVICE,
        descriptor: ACCERTAMENTO_DESCRIPTOR,
        purpose: ACCERTAMENTO_PURPOSE,
        service: "accertamentoFrequenze",
        audience:
            "https://sandbox.anist.invalid/govway/rest/in/MIM-INTRA-PDND/accertamentoFrequenze/v1",
        backend: AnistBackend::Accertamento,
    },
    AnistEService {
        session_name: VERIFICA_MASSIVA,
        eservice: VERIFICA_MASSIVA_ESERVICE,
        descriptor: VERIFICA_MASSIVA_DESCRIPTOR,
        purpose: VERIFICA_MASSIVA_PURPOSE,
        service: "verificaMassivaFrequenze",
        audience:
            "https://sandbox.anist.invalid/govway/rest/in/MIM-INTRA-PDND/verificaMassivaFrequenze/v1",
        backend: AnistBackend::VerificaMassiva,
    },
    AnistEService {
        session_name: ACCERTAMENTO_MASSIVO,
        eservice: ACCERTAMENTO_MASSIVO_ESERVICE,
        descriptor: ACCERTAMENTO_MASSIVO_DESCRIPTOR,
        purpose: ACCERTAMENTO_MASSIVO_PURPOSE,
        service: "accertamentoMassivoFrequenze",
        audience: "https://sandbox.anist.invalid/govway/rest/in/MIM-INTRA-PDND/accertamentoMassivoFrequenze/v1",
        backend: AnistBackend::AccertamentoMassivo,
    },
];

/// Adds the four ANIST e-services (produced by [`DEFAULT_PRODUCER`]),
/// the default consumer's agreements and purposes on them. The default
/// client is given the purposes by `Registry::default_builder`.
pub fn register(builder: RegistryBuilder) -> RegistryBuilder {
    register_with_limits(builder, ANIST_DAILY_CALLS, 0)
}

/// As [`register`], with a daily quota of `daily_calls` per client on each
/// e-service (e.g. a small one, to see a bulk job pause) and a rate policy
/// of `max_rate` calls per second on each (0: none; see
/// [`super::registry::Front::max_rate`]).
pub fn register_with_limits(
    mut builder: RegistryBuilder,
    daily_calls: u64,
    max_rate: u32,
) -> RegistryBuilder {
    for s in ANIST_ESERVICES {
        builder = builder
            .eservice(EService::new(
                s.eservice,
                DEFAULT_PRODUCER,
                Descriptor::new(s.descriptor, s.audience)
                    .voucher_lifespan(600)
                    .daily_calls(daily_calls)
                    .front(
                        Front::new(ANIST_EROGATORE, s.service)
                            .integrity(true)
                            .audit(true)
                            .max_concurrency(ANIST_MAX_CONCURRENCY)
                            .max_rate(max_rate)
                            .backend(Backend::service(s.backend)),
                    ),
            ))
            .agreement(Agreement::new(s.eservice, DEFAULT_CONSUMER))
            .purpose(Purpose::new(s.purpose, s.eservice, DEFAULT_CONSUMER));
    }
    builder
}

/// A registry of only the four ANIST e-services (quota and rate policy as
/// [`register_with_limits`]), with the default consumer, producer and
/// client, the client holding `client_key` and the ANIST purposes: for
/// [`SandboxConfig::with_client_registry`](super::SandboxConfig::with_client_registry).
///
/// # Errors
/// [`super::registry::RegistryError`] (never with these ids).
pub fn registry_with_limits(
    client_key: &crate::keys::PublicKey,
    daily_calls: u64,
    max_rate: u32,
) -> Result<super::registry::Registry, super::registry::RegistryError> {
    let mut client =
        super::registry::Client::new(DEFAULT_CLIENT, DEFAULT_CONSUMER).key(client_key.clone());
    for s in ANIST_ESERVICES {
        client = client.purpose(s.purpose);
    }
    let builder = super::registry::Registry::builder()
        .tenant(super::registry::Tenant::new(
            DEFAULT_CONSUMER,
            "Comune di Prova (sandbox)",
        ))
        .tenant(super::registry::Tenant::new(
            DEFAULT_PRODUCER,
            "MIM (sandbox)",
        ));
    register_with_limits(builder, daily_calls, max_rate)
        .client(client)
        .build()
}

impl ServiceBackend for AnistBackend {
    fn name(&self) -> &str {
        match self {
            AnistBackend::Verifica => "anist-verifica",
            AnistBackend::Accertamento => "anist-accertamento",
            AnistBackend::VerificaMassiva => "anist-verifica-massiva",
            AnistBackend::AccertamentoMassivo => "anist-accertamento-massivo",
        }
    }

    fn operation_known(&self, method: &str, operation: &str) -> bool {
        operation_known(*self, method, operation)
    }

    fn serve(&self, ctx: &BackendContext<'_>, call: &BackendCall<'_>) -> Result<Reply, Refusal> {
        let state = ctx
            .state::<AnistState>()
            .ok_or_else(|| missing_state("ANIST"))?;
        Ok(serve(ctx, state, *self, call))
    }
}

impl AnistBackend {
    /// Every ANIST backend.
    pub const ALL: [AnistBackend; 4] = [
        AnistBackend::Verifica,
        AnistBackend::Accertamento,
        AnistBackend::VerificaMassiva,
        AnistBackend::AccertamentoMassivo,
    ];
}

/// Whether the backend offers `method` `operation`.
fn operation_known(kind: AnistBackend, method: &str, operation: &str) -> bool {
    match kind {
        AnistBackend::Verifica => method == "POST" && operation == verifica::PATH,
        AnistBackend::Accertamento => method == "POST" && operation == accertamento::PATH,
        AnistBackend::VerificaMassiva | AnistBackend::AccertamentoMassivo => match method {
            "POST" => operation == massiva::SUBMIT_PATH,
            "GET" => massive_target(operation).is_some(),
            _ => false,
        },
    }
}

/// `frequenze/massiva/{id}` → (id, false); `…/{id}/result` → (id, true).
fn massive_target(operation: &str) -> Option<(&str, bool)> {
    let rest = operation
        .strip_prefix(massiva::SUBMIT_PATH)?
        .strip_prefix('/')?;
    let (id, result) = match rest.strip_suffix("/result") {
        Some(id) => (id, true),
        None => (rest, false),
    };
    let ok = !id.is_empty()
        && id.len() <= 64
        && id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-');
    ok.then_some((id, result))
}

// ---- Configuration and state -------------------------------------------

/// The ANIST part of a sandbox's configuration (set through the sandbox's
/// `SandboxConfig`).
#[derive(Clone)]
pub(in crate::sandbox) struct AnistConfig {
    /// "No data" is the legacy `500` (U9).
    pub(in crate::sandbox) legacy_not_found_500: bool,
    /// A massive job takes this…
    pub(in crate::sandbox) massive_base: Duration,
    /// …plus this per question.
    pub(in crate::sandbox) massive_per_row: Duration,
    /// How many pupils [`Population::pupils`] lists.
    pub(in crate::sandbox) population_size: usize,
    /// The school year treated as current (default: the sandbox's date's).
    pub(in crate::sandbox) current_year: Option<SchoolYear>,
}

impl Default for AnistConfig {
    fn default() -> Self {
        Self {
            legacy_not_found_500: false,
            massive_base: Duration::from_millis(200),
            massive_per_row: Duration::from_millis(1),
            population_size: 500,
            current_year: None,
        }
    }
}

impl fmt::Debug for AnistConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AnistConfig")
            .field("legacy_not_found_500", &self.legacy_not_found_500)
            .field("massive_base", &self.massive_base)
            .field("massive_per_row", &self.massive_per_row)
            .field("population_size", &self.population_size)
            .field("current_year", &self.current_year)
            .finish()
    }
}

/// A massive job.
struct Job {
    owner: String,
    kind: AnistBackend,
    ready_at: Instant,
    result: String,
}

/// The ANIST part of a running sandbox's state (one of its
/// [`super::backend::BackendStates`]).
pub(in crate::sandbox) struct AnistState {
    config: AnistConfig,
    population: Population,
    jobs: Mutex<HashMap<String, Job>>,
}

impl AnistState {
    /// The population (also the ANPR backend's).
    pub(in crate::sandbox) fn population(&self) -> &Population {
        &self.population
    }

    /// How many massive jobs were submitted.
    pub(in crate::sandbox) fn jobs(&self) -> usize {
        lock(&self.jobs).len()
    }

    pub(in crate::sandbox) fn new(config: AnistConfig, seed: u64, clock: &dyn Clock) -> Self {
        let today = DateTime::from_timestamp(clock.now(), 0)
            .map(|d| d.date_naive())
            .unwrap_or_default();
        let current = config
            .current_year
            .unwrap_or_else(|| SchoolYear::containing(today));
        let population = Population::new(seed, current, config.population_size);
        Self {
            config,
            population,
            jobs: Mutex::new(HashMap::new()),
        }
    }
}

// ---- The backends -----------------------------------------------------

fn reply(status: StatusCode, body: &Value) -> Reply {
    Reply::new(status, "application/json", body.to_string())
}

fn problem(status: StatusCode, title: &str, detail: &str) -> Reply {
    let mut r = reply(
        status,
        &json!({
            "type": "about:blank",
            "title": title,
            "status": status.as_u16(),
            "detail": detail,
        }),
    );
    r.content_type = "application/problem+json";
    r
}

/// The legacy "no result" text (U9), in full.
const LEGACY_TEXT: &str = "La richiesta effettuata non produce alcun risultato";

/// Reads one question and answers it from the population.
fn evaluate(pop: &Population, row: &Value) -> Result<Expected, String> {
    let Some(obj) = row.as_object() else {
        return Err("la richiesta non è un oggetto JSON".into());
    };
    let text = |k: &str| -> Result<Option<&str>, String> {
        match obj.get(k) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.as_str())),
            Some(_) => Err(format!("{k} deve essere una stringa")),
        }
    };
    let (cf, id) = (text("codiceFiscale")?, text("idANPR")?);
    let school = match text("codiceMeccanografico")? {
        None => None,
        Some(s) => Some(
            CodiceMeccanografico::parse(s)
                .map_err(|_| String::from("codiceMeccanografico non valido"))?,
        ),
    };
    let year = match text("annoScolastico")? {
        None => pop.current_year(),
        Some(s) => SchoolYear::parse(s)
            .map_err(|_| String::from("annoScolastico non valido: AAAA/AAAA"))?,
    };
    let cf = match (cf, id) {
        (Some(cf), None) => {
            CodiceFiscale::parse(cf).map_err(|_| String::from("codiceFiscale non valido"))?
        }
        (None, Some(id)) => {
            let id = IdAnpr::parse(id).map_err(|_| String::from("idANPR non valido"))?;
            match pop.resolve(&id) {
                Some(cf) => cf,
                None => {
                    return match &school {
                        Some(s) if !pop.has_school(s) => {
                            Err("codiceMeccanografico non censito".into())
                        }
                        _ => Ok(Expected::NotInAnist),
                    }
                }
            }
        }
        _ => return Err("indicare esattamente uno tra codiceFiscale e idANPR".into()),
    };
    pop.expected_at(&cf, year, school.as_ref())
        .map_err(|UnknownSchool| String::from("codiceMeccanografico non censito"))
}

fn answer_fields(kind: AnistBackend, expected: &Expected) -> Map<String, Value> {
    let value = if kind.detailed() {
        expected.record().and_then(|f| serde_json::to_value(f).ok())
    } else {
        expected
            .verifica()
            .and_then(|v| serde_json::to_value(v).ok())
    };
    match value {
        Some(Value::Object(m)) => m,
        _ => Map::new(),
    }
}

/// Serves one call that passed the front's checks.
fn serve(
    ctx: &BackendContext<'_>,
    state: &AnistState,
    kind: AnistBackend,
    call: &BackendCall<'_>,
) -> Reply {
    if !kind.is_massive() {
        let Ok(row) = serde_json::from_slice::<Value>(call.body) else {
            return problem(
                StatusCode::BAD_REQUEST,
                "Bad Request",
                "il corpo non è JSON",
            );
        };
        return match evaluate(&state.population, &row) {
            Err(why) => problem(StatusCode::BAD_REQUEST, "Bad Request", &why),
            Ok(Expected::NotInAnist) if state.config.legacy_not_found_500 => problem(
                StatusCode::INTERNAL_SERVER_ERROR,
                "Internal Server Error",
                LEGACY_TEXT,
            ),
            Ok(Expected::NotInAnist) => problem(
                StatusCode::NOT_FOUND,
                "Not Found",
                "Nessuna frequenza trovata per i criteri indicati",
            ),
            Ok(found) => reply(StatusCode::OK, &Value::Object(answer_fields(kind, &found))),
        };
    }
    if call.method == "POST" {
        return submit(ctx, state, kind, call);
    }
    let Some((id, result)) = massive_target(call.operation) else {
        return problem(StatusCode::NOT_FOUND, "Not Found", "operazione sconosciuta");
    };
    let jobs = lock(&state.jobs);
    let Some(job) = jobs
        .get(id)
        .filter(|j| j.owner == call.client_id && j.kind == kind)
    else {
        return problem(
            StatusCode::NOT_FOUND,
            "Not Found",
            "richiesta massiva sconosciuta",
        );
    };
    let ready = Instant::now() >= job.ready_at;
    match (ready, result) {
        (true, true) => Reply::new(StatusCode::OK, "application/json", job.result.clone()),
        (false, true) => problem(
            StatusCode::NOT_FOUND,
            "Not Found",
            "il risultato della richiesta massiva non è ancora disponibile",
        ),
        (false, false) => reply(StatusCode::OK, &json!({ "id": id, "status": "processing" })),
        (true, false) => {
            let mut r = reply(
                StatusCode::SEE_OTHER,
                &json!({ "id": id, "status": "completed" }),
            );
            r.headers
                .push(("location", format!("{}/result", location(call, id))));
            r
        }
    }
}

/// `http://<host>/govway/rest/in/<front path>/frequenze/massiva/{id}`
/// (absolute-path without a `Host`).
fn location(call: &BackendCall<'_>, id: &str) -> String {
    let origin = call
        .host
        .filter(|h| {
            h.bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b':' | b'-' | b'[' | b']'))
        })
        .map(|h| format!("http://{h}"))
        .unwrap_or_default();
    format!(
        "{origin}/govway/rest/in/{}/{}/{id}",
        call.front_path,
        massiva::SUBMIT_PATH
    )
}

fn submit(
    ctx: &BackendContext<'_>,
    state: &AnistState,
    kind: AnistBackend,
    call: &BackendCall<'_>,
) -> Reply {
    let requests = match serde_json::from_slice::<Value>(call.body) {
        Ok(Value::Object(mut m)) => match m.remove("richieste") {
            Some(Value::Array(rows)) => rows,
            _ => {
                return problem(
                    StatusCode::BAD_REQUEST,
                    "Bad Request",
                    "il corpo deve essere {\"richieste\": [...]}",
                )
            }
        },
        _ => {
            return problem(
                StatusCode::BAD_REQUEST,
                "Bad Request",
                "il corpo non è un oggetto JSON",
            )
        }
    };
    if requests.is_empty() || requests.len() > MAX_MASSIVE_ROWS {
        return problem(
            StatusCode::BAD_REQUEST,
            "Bad Request",
            "una richiesta massiva contiene da 1 a 100000 richieste",
        );
    }
    let rows: Vec<Value> = requests
        .iter()
        .map(|row| {
            let mut out = Map::new();
            for key in ["codiceFiscale", "idANPR"] {
                if let Some(v @ Value::String(_)) = row.get(key) {
                    out.insert(key.into(), v.clone());
                }
            }
            match evaluate(&state.population, row) {
                Ok(Expected::NotInAnist) => {
                    out.insert("esito".into(), "NON_TROVATO".into());
                }
                Ok(found) => {
                    out.insert("esito".into(), "OK".into());
                    out.extend(answer_fields(kind, &found));
                }
                Err(why) => {
                    out.insert("esito".into(), "ERRORE".into());
                    out.insert("errore".into(), why.into());
                }
            }
            Value::Object(out)
        })
        .collect();
    let n = u32::try_from(rows.len()).unwrap_or(u32::MAX);
    let delay = state.config.massive_base + state.config.massive_per_row.saturating_mul(n);
    let id = ctx.uuid();
    lock(&state.jobs).insert(
        id.clone(),
        Job {
            owner: call.client_id.to_string(),
            kind,
            ready_at: Instant::now() + delay,
            result: Value::Array(rows).to_string(),
        },
    );
    let mut r = reply(
        StatusCode::ACCEPTED,
        &json!({ "id": id, "status": "accepted" }),
    );
    r.headers.push(("location", location(call, &id)));
    r
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn operations() {
        assert!(operation_known(
            AnistBackend::Verifica,
            "POST",
            "frequenze/verifica-frequenza"
        ));
        assert!(!operation_known(
            AnistBackend::Verifica,
            "GET",
            "frequenze/verifica-frequenza"
        ));
        assert!(operation_known(
            AnistBackend::VerificaMassiva,
            "GET",
            "frequenze/massiva/ab-12"
        ));
        assert!(operation_known(
            AnistBackend::VerificaMassiva,
            "GET",
            "frequenze/massiva/ab-12/result"
        ));
        assert!(!operation_known(
            AnistBackend::VerificaMassiva,
            "GET",
            "frequenze/massiva/"
        ));
        assert!(!operation_known(
            AnistBackend::VerificaMassiva,
            "GET",
            "frequenze/massiva/a/b"
        ));
        assert!(!operation_known(
            AnistBackend::Accertamento,
            "POST",
            "frequenze/massiva"
        ));
    }
}
