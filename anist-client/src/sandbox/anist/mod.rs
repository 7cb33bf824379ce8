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

use std::collections::{HashMap, HashSet};
use std::fmt;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use anist_core::anpr::{luhn36_check_char, IdAnpr};
use anist_core::attendance::{EsitoFrequenza, Frequenza, Verifica};
use anist_core::cf::CodiceFiscale;
use anist_core::meccanografico::{compute_check_char, CodiceMeccanografico};
use anist_core::school::{expected_class, SchoolCycle, SchoolYear};
use anist_core::synthetic::{SplitMix64, SyntheticPeople};
use axum::http::StatusCode;
use chrono::{DateTime, Datelike, NaiveDate};
use serde_json::{json, Map, Value};

use super::backend::{
    lock, missing_state, BackendCall, BackendContext, Refusal, Reply, ServiceBackend,
};
use super::registry::{Agreement, Backend, Descriptor, EService, Front, Purpose, RegistryBuilder};
use super::registry::{DEFAULT_CLIENT, DEFAULT_CONSUMER, DEFAULT_PRODUCER};
use crate::anist::codec::{accertamento, massiva, verifica};
use crate::anist::{ACCERTAMENTO, ACCERTAMENTO_MASSIVO, VERIFICA, VERIFICA_MASSIVA};
use crate::clock::Clock;

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

// ---- The population ---------------------------------------------------

/// A pupil of the population. `Debug` masks the identifiers.
#[derive(Clone, PartialEq, Eq)]
pub struct Pupil {
    /// The codice fiscale (synthetic, valid, real Belfiore code).
    pub codice_fiscale: CodiceFiscale,
    /// The ID ANPR ([`Population::id_anpr`] of the code).
    pub id_anpr: IdAnpr,
}

impl fmt::Debug for Pupil {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Pupil")
            .field("codice_fiscale", &self.codice_fiscale)
            .field("id_anpr", &self.id_anpr)
            .finish()
    }
}

/// A plesso (punto di erogazione) of a school.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Plesso {
    /// The cycle it runs.
    pub cycle: SchoolCycle,
    /// Its codice meccanografico.
    pub code: CodiceMeccanografico,
    /// Its name.
    pub name: String,
    /// The percorso di studi reported for its pupils.
    pub percorso: &'static str,
}

/// An istituzione scolastica of the population (invented names, codes
/// with a valid check character).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct School {
    /// The istituto principale's codice meccanografico.
    pub code: CodiceMeccanografico,
    /// Its name.
    pub name: String,
    /// Its plessi.
    pub plessi: Vec<Plesso>,
}

/// What ANIST knows about a pupil in a school year.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Expected {
    /// Nothing: the service answers "no data" (404, or the legacy 500).
    NotInAnist,
    /// The accertamento record.
    Record(Frequenza),
}

impl Expected {
    /// The record, if any.
    pub fn record(&self) -> Option<&Frequenza> {
        match self {
            Expected::NotInAnist => None,
            Expected::Record(f) => Some(f),
        }
    }

    /// The esito, if any.
    pub fn esito(&self) -> Option<EsitoFrequenza> {
        self.record().and_then(|f| f.esito_frequenza)
    }

    /// The verifica answer, if any.
    pub fn verifica(&self) -> Option<Verifica> {
        self.record().map(|f| Verifica {
            frequentante: f.is_attending().unwrap_or(false),
            esito_frequenza: f.esito_frequenza,
        })
    }
}

/// A codice meccanografico that is not a school of the population.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UnknownSchool;

/// The sandbox's synthetic ANIST population, deterministic per seed.
///
/// The answer for a codice fiscale is a pure function of (seed, code): its
/// birth date (decoded from the code) gives the regular cycle and class
/// ([`expected_class`]; ANIST covers primaria, secondaria di I and II
/// grado and CPIA, as the Portale Enti notice says: a child of scuola
/// dell'infanzia age (3–5) or outside ages 3–18 is not in ANIST), and a
/// hash of (seed, code) decides the rest — about 85% attending (esito 1),
/// 5% not attending (2), 3% attending another anno di corso (3), 3% no
/// longer attending (4), 4% unknown to ANIST — and the school. About 15%
/// of those attending (esito 1) aged 16 or more attend a CPIA (first-level course,
/// anno di corso 1) instead of a secondaria di II grado.
///
/// Years: the current school year is the one containing the sandbox's
/// date at start ([`Self::current_year`]). The previous year is a
/// consistent variant: about 92% of those known now attended (esito 1)
/// last year, one class lower (possibly in the previous cycle and school;
/// nobody in scuola dell'infanzia); the others are not in ANIST that year
/// (e.g. arrived from abroad). Other years are not in ANIST.
pub struct Population {
    seed: u64,
    current: SchoolYear,
    pupils: Vec<Pupil>,
    by_id: HashMap<IdAnpr, CodiceFiscale>,
    schools: Vec<School>,
}

impl fmt::Debug for Population {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Population")
            .field("seed", &self.seed)
            .field("current", &self.current)
            .field("pupils", &self.pupils.len())
            .field("schools", &self.schools.len())
            .finish()
    }
}

const PROVINCES: [&str; 6] = ["RM", "MI", "NA", "TO", "PA", "BA"];
const SCHOOL_NAMES: [&str; 12] = [
    "Via dei Gelsi",
    "Giardino dei Tigli",
    "Borgo Alto",
    "Piazza delle Rondini",
    "Lungofiume",
    "Colle Verde",
    "Via del Mulino",
    "Parco dei Pini",
    "Largo delle Vele",
    "Porta Nuova",
    "Campo dei Fiori di Prova",
    "Viale dei Cedri",
];

fn mecc(prefix: &str, progressive: u32) -> Option<CodiceMeccanografico> {
    let first9 = format!("{prefix}{progressive:05}");
    let bytes: [u8; 9] = first9.as_bytes().try_into().ok()?;
    let check = compute_check_char(&bytes)?;
    CodiceMeccanografico::parse(&format!("{first9}{check}")).ok()
}

/// One CPIA per province (istituto and its first-level punto di
/// erogazione), from its own stream of `seed`.
fn cpias(seed: u64) -> Vec<School> {
    let mut rng = SplitMix64::new(seed ^ 0x0C91_A000_A157_0000);
    PROVINCES
        .iter()
        .zip(1u32..)
        .filter_map(|(prov, n)| {
            let base = u32::try_from(1000 + rng.below(8999)).unwrap_or(1000) * 10;
            let code = mecc(&format!("{prov}CT"), base)?;
            let plesso = Plesso {
                cycle: SchoolCycle::Cpia,
                code: mecc(&format!("{prov}CT"), base + 1)?,
                name: format!("CPIA {n} {prov} - sede centrale"),
                percorso: "CPIA - PERCORSO DI ISTRUZIONE DI PRIMO LIVELLO",
            };
            Some(School {
                code,
                name: format!("C.P.I.A. {n} {prov}"),
                plessi: vec![plesso],
            })
        })
        .collect()
}

fn schools(seed: u64) -> Vec<School> {
    let mut rng = SplitMix64::new(seed ^ 0x5C00_1500_A157_0000);
    let mut out = Vec::new();
    for (i, prov) in PROVINCES.iter().enumerate() {
        for superiore in [false, true] {
            // A 4-digit base; the istituto ends in 0, its plessi in 1, 2, 3.
            let base = u32::try_from(1000 + rng.below(8999)).unwrap_or(1000) * 10;
            let name = SCHOOL_NAMES
                .get((2 * i + usize::from(superiore)) % SCHOOL_NAMES.len())
                .copied()
                .unwrap_or("Scuola di Prova");
            let (kind, title, plessi): (&str, &str, &[(&str, SchoolCycle, &'static str)]) =
                if superiore {
                    (
                        "IS",
                        "I.I.S.",
                        &[
                            (
                                "PS",
                                SchoolCycle::SecondariaSecondoGrado,
                                "LICEO SCIENTIFICO",
                            ),
                            (
                                "TD",
                                SchoolCycle::SecondariaSecondoGrado,
                                "ISTITUTO TECNICO ECONOMICO",
                            ),
                        ],
                    )
                } else {
                    (
                        "IC",
                        "I.C.",
                        &[
                            ("AA", SchoolCycle::Infanzia, "SCUOLA DELL'INFANZIA"),
                            ("EE", SchoolCycle::Primaria, "SCUOLA PRIMARIA"),
                            (
                                "MM",
                                SchoolCycle::SecondariaPrimoGrado,
                                "SCUOLA SECONDARIA DI I GRADO",
                            ),
                        ],
                    )
                };
            let Some(code) = mecc(&format!("{prov}{kind}"), base) else {
                continue;
            };
            let plessi = plessi
                .iter()
                .zip(1u32..)
                .filter_map(|((t, cycle, percorso), n)| {
                    Some(Plesso {
                        cycle: *cycle,
                        code: mecc(&format!("{prov}{t}"), base + n)?,
                        name: format!("{name} - plesso {n}"),
                        percorso,
                    })
                })
                .collect();
            out.push(School {
                code,
                name: format!("{title} \"{name}\""),
                plessi,
            });
        }
    }
    out
}

/// The base facts of a code: esito in the current year, birth date, and a
/// number that picks the school.
struct Base {
    esito: EsitoFrequenza,
    birth: NaiveDate,
    pick: u64,
    /// Over 16, attends a CPIA rather than a secondaria di II grado.
    cpia: bool,
    /// Not in ANIST the previous school year (e.g. arrived from abroad).
    new_this_year: bool,
}

impl Population {
    /// The population of `seed` whose current school year is `current`,
    /// listing `size` pupils (aged 6 to 18 in `current`: the ages ANIST
    /// covers).
    pub fn new(seed: u64, current: SchoolYear, size: usize) -> Self {
        let start = i32::from(current.start_year());
        // Primaria to secondaria di II grado: ANIST has no scuola
        // dell'infanzia records.
        let from = NaiveDate::from_ymd_opt(start - 18, 1, 1).unwrap_or_default();
        let to = NaiveDate::from_ymd_opt(start - 6, 12, 31).unwrap_or_default();
        let mut people = SyntheticPeople::new(seed, from, to);
        let mut seen = HashSet::new();
        let mut pop = Self {
            seed,
            current,
            pupils: Vec::with_capacity(size),
            by_id: HashMap::with_capacity(size),
            schools: schools(seed).into_iter().chain(cpias(seed)).collect(),
        };
        let mut attempts = 0usize;
        while pop.pupils.len() < size && attempts < size.saturating_mul(4) + 16 {
            attempts += 1;
            let cf = people.next_person().codice_fiscale;
            if !seen.insert(cf) {
                continue;
            }
            let Some(id) = pop.id_anpr(&cf) else {
                continue;
            };
            if pop.by_id.contains_key(&id) {
                continue;
            }
            pop.by_id.insert(id, cf);
            pop.pupils.push(Pupil {
                codice_fiscale: cf,
                id_anpr: id,
            });
        }
        pop
    }

    /// The seed.
    pub fn seed(&self) -> u64 {
        self.seed
    }

    /// The current school year (of the sandbox's date at start).
    pub fn current_year(&self) -> SchoolYear {
        self.current
    }

    /// The listed pupils (each also reachable by ID ANPR).
    pub fn pupils(&self) -> &[Pupil] {
        &self.pupils
    }

    /// The schools.
    pub fn schools(&self) -> &[School] {
        &self.schools
    }

    /// Whether `code` is an istituto or a plesso of the population.
    pub fn has_school(&self, code: &CodiceMeccanografico) -> bool {
        self.schools
            .iter()
            .any(|s| s.code == *code || s.plessi.iter().any(|p| p.code == *code))
    }

    fn rng(&self, cf: &CodiceFiscale, salt: u64) -> SplitMix64 {
        // FNV-1a over the canonical code (omocodic variants answer alike).
        let mut h: u64 = 0xcbf2_9ce4_8422_2325 ^ self.seed.rotate_left(29) ^ salt;
        for b in cf.canonical().as_bytes() {
            h ^= u64::from(*b);
            h = h.wrapping_mul(0x0000_0100_0000_01b3);
        }
        SplitMix64::new(h)
    }

    /// The ID ANPR of `cf` in this population (deterministic: two letters,
    /// five digits, a letter and the probable Luhn check character; `None`
    /// cannot happen with this alphabet).
    pub fn id_anpr(&self, cf: &CodiceFiscale) -> Option<IdAnpr> {
        let mut rng = self.rng(cf, 0x001D_A49B);
        let mut p = [0u8; 8];
        for (i, b) in p.iter_mut().enumerate() {
            *b = match i {
                0 | 1 | 7 => b'A' + u8::try_from(rng.below(26)).unwrap_or(0),
                _ => b'0' + u8::try_from(rng.below(10)).unwrap_or(0),
            };
        }
        let check = luhn36_check_char(&p)?;
        let text: String = p
            .iter()
            .chain([check].iter())
            .map(|b| char::from(*b))
            .collect();
        IdAnpr::parse(&text).ok()
    }

    /// The codice fiscale of a listed pupil's ID ANPR.
    pub fn resolve(&self, id: &IdAnpr) -> Option<CodiceFiscale> {
        self.by_id.get(id).copied()
    }

    fn base(&self, cf: &CodiceFiscale) -> Option<Base> {
        let birth = cf.birth_date_relative_to(self.current.last_day())?;
        let mut rng = self.rng(cf, 0x000E_5170);
        let esito = match rng.below(100) {
            0..=84 => EsitoFrequenza::Frequentante,
            85..=89 => EsitoFrequenza::NonFrequentante,
            90..=92 => EsitoFrequenza::FrequentanteAltroAnnoCorso,
            93..=95 => EsitoFrequenza::NonPiuFrequentante,
            _ => return None,
        };
        let pick = rng.next_u64();
        // Their own stream, so that the esito and the school stay those of
        // the draws above.
        let mut more = self.rng(cf, 0x00C9_1A00);
        Some(Base {
            esito,
            birth,
            pick,
            cpia: more.below(100) < 15,
            new_this_year: more.below(100) < 8,
        })
    }

    fn plesso(&self, cycle: SchoolCycle, pick: u64) -> Option<(&School, &Plesso)> {
        let candidates: Vec<(&School, &Plesso)> = self
            .schools
            .iter()
            .flat_map(|s| s.plessi.iter().map(move |p| (s, p)))
            .filter(|(_, p)| p.cycle == cycle)
            .collect();
        let n = u64::try_from(candidates.len()).ok().filter(|n| *n > 0)?;
        candidates.get(usize::try_from(pick % n).ok()?).copied()
    }

    /// What ANIST says about `cf` in `year`, at any school.
    pub fn expected(&self, cf: &CodiceFiscale, year: SchoolYear) -> Expected {
        let Some(base) = self.base(cf) else {
            return Expected::NotInAnist;
        };
        let esito = if year == self.current {
            base.esito
        } else if year == self.current.previous() && !base.new_this_year {
            EsitoFrequenza::Frequentante
        } else {
            return Expected::NotInAnist;
        };
        let Some((cycle, class)) = expected_class(base.birth, year) else {
            return Expected::NotInAnist;
        };
        // ANIST covers primaria, secondaria I/II grado and CPIA only.
        if cycle == SchoolCycle::Infanzia {
            return Expected::NotInAnist;
        }
        // Some over-16s attend a CPIA (istruzione degli adulti), in its
        // first-level course, instead of the secondaria di II grado.
        let age = i32::from(year.start_year()) - base.birth.year();
        let (cycle, class) = if base.cpia && age >= 16 && esito == EsitoFrequenza::Frequentante {
            (SchoolCycle::Cpia, 1)
        } else {
            (cycle, class)
        };
        let mut f = Frequenza {
            frequentante: Some(esito.is_attending()),
            esito_frequenza: Some(esito),
            anno_scolastico: Some(year),
            ..Frequenza::default()
        };
        if esito == EsitoFrequenza::NonFrequentante {
            return Expected::Record(f);
        }
        let Some((school, plesso)) = self.plesso(cycle, base.pick) else {
            return Expected::NotInAnist;
        };
        let class = if esito == EsitoFrequenza::FrequentanteAltroAnnoCorso {
            if class > 1 {
                class - 1
            } else {
                class + 1
            }
        } else {
            class
        };
        f.codice_istituto_principale = Some(school.code.as_str().to_string());
        f.deno_istituto_principale = Some(school.name.clone());
        f.codice_meccanografico = Some(plesso.code.as_str().to_string());
        f.denominazione_plesso = Some(plesso.name.clone());
        f.percorso_studi = Some(plesso.percorso.to_string());
        f.anno_corso = Some(class);
        Expected::Record(f)
    }

    /// What ANIST says about `cf` in `year` when the question names a
    /// school: the record if it is at that school (istituto or plesso),
    /// otherwise "not attending" (esito 2) there.
    ///
    /// # Errors
    /// [`UnknownSchool`] if `school` is not one of [`Self::schools`].
    pub fn expected_at(
        &self,
        cf: &CodiceFiscale,
        year: SchoolYear,
        school: Option<&CodiceMeccanografico>,
    ) -> Result<Expected, UnknownSchool> {
        let expected = self.expected(cf, year);
        let Some(school) = school else {
            return Ok(expected);
        };
        if !self.has_school(school) {
            return Err(UnknownSchool);
        }
        let Expected::Record(f) = &expected else {
            return Ok(expected);
        };
        let here = [&f.codice_istituto_principale, &f.codice_meccanografico]
            .into_iter()
            .flatten()
            .any(|c| c == school.as_str());
        if here {
            return Ok(expected);
        }
        Ok(Expected::Record(Frequenza {
            frequentante: Some(false),
            esito_frequenza: Some(EsitoFrequenza::NonFrequentante),
            anno_scolastico: Some(year),
            ..Frequenza::default()
        }))
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
        None => pop.current,
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

    fn pop() -> Population {
        Population::new(11, SchoolYear::starting(2025).unwrap(), 400)
    }

    #[test]
    fn deterministic_and_valid() {
        let a = pop();
        let b = pop();
        assert_eq!(a.pupils(), b.pupils());
        assert_eq!(a.pupils().len(), 400);
        assert_ne!(
            a.pupils(),
            Population::new(12, a.current_year(), 400).pupils()
        );
        for s in a.schools() {
            assert_eq!(
                s.code.check_status(),
                anist_core::meccanografico::CheckStatus::Valid
            );
            for p in &s.plessi {
                assert_eq!(
                    p.code.check_status(),
                    anist_core::meccanografico::CheckStatus::Valid
                );
            }
        }
        for p in a.pupils() {
            assert!(p.id_anpr.probable_check_ok());
            assert_eq!(a.resolve(&p.id_anpr), Some(p.codice_fiscale));
            assert_eq!(
                a.expected(&p.codice_fiscale, a.current_year()),
                b.expected(&p.codice_fiscale, b.current_year())
            );
        }
    }

    #[test]
    fn outcome_mix() {
        let p = pop();
        let mut counts: HashMap<Option<i64>, usize> = HashMap::new();
        for pupil in p.pupils() {
            let e = p.expected(&pupil.codice_fiscale, p.current_year());
            *counts
                .entry(e.esito().map(EsitoFrequenza::code))
                .or_default() += 1;
        }
        let n = |k| counts.get(&k).copied().unwrap_or(0);
        assert!((300..=370).contains(&n(Some(1))), "{counts:?}");
        for k in [Some(2), Some(3), Some(4), None] {
            assert!(n(k) >= 3, "{counts:?}");
        }
    }

    #[test]
    fn previous_year_is_consistent() {
        let p = pop();
        let prev = p.current_year().previous();
        for pupil in p.pupils() {
            let now = p.expected(&pupil.codice_fiscale, p.current_year());
            let before = p.expected(&pupil.codice_fiscale, prev);
            if now == Expected::NotInAnist {
                assert_eq!(before, Expected::NotInAnist);
                continue;
            }
            if let Some(f) = before.record() {
                assert_eq!(f.esito_frequenza, Some(EsitoFrequenza::Frequentante));
                assert_eq!(f.anno_scolastico, Some(prev));
            }
            assert_eq!(
                p.expected(&pupil.codice_fiscale, prev.previous()),
                Expected::NotInAnist
            );
        }
    }

    #[test]
    fn no_infanzia_some_cpia_and_newcomers() {
        let p = pop();
        let y = p.current_year();
        // Nobody of scuola dell'infanzia age is in ANIST, whatever the draw.
        let from = NaiveDate::from_ymd_opt(2021, 1, 1).unwrap();
        let to = NaiveDate::from_ymd_opt(2022, 12, 31).unwrap();
        let mut small = SyntheticPeople::new(3, from, to);
        for _ in 0..200 {
            let cf = small.next_person().codice_fiscale;
            assert_eq!(p.expected(&cf, y), Expected::NotInAnist);
        }
        for pupil in p.pupils() {
            for year in [y, y.previous()] {
                if let Some(f) = p.expected(&pupil.codice_fiscale, year).record() {
                    assert_ne!(
                        f.percorso_studi.as_deref(),
                        Some("SCUOLA DELL'INFANZIA"),
                        "{f:?}"
                    );
                }
            }
        }
        // Some over-16s attend a CPIA, with a CPIA code (type CT).
        let from = NaiveDate::from_ymd_opt(2007, 9, 1).unwrap();
        let to = NaiveDate::from_ymd_opt(2009, 8, 31).unwrap();
        let mut teens = SyntheticPeople::new(5, from, to);
        let (mut cpia, mut other) = (0, 0);
        for _ in 0..400 {
            let cf = teens.next_person().codice_fiscale;
            let Some(f) = p.expected(&cf, y).record().cloned() else {
                continue;
            };
            match f.plesso() {
                Some(code) if SchoolCycle::of_school(&code) == [SchoolCycle::Cpia] => {
                    assert_eq!(f.esito_frequenza, Some(EsitoFrequenza::Frequentante));
                    assert_eq!(f.anno_corso, Some(1));
                    assert!(f.percorso_studi.as_deref().unwrap().starts_with("CPIA"));
                    assert!(p.has_school(&code));
                    cpia += 1;
                }
                _ => other += 1,
            }
        }
        assert!(cpia >= 10 && other > cpia * 3, "cpia {cpia} other {other}");
        // Not every pupil known this year was known the year before.
        let newcomers = p
            .pupils()
            .iter()
            .filter(|x| {
                let b = x
                    .codice_fiscale
                    .birth_date_relative_to(y.last_day())
                    .unwrap();
                let grown = expected_class(b, y.previous())
                    .is_some_and(|(c, _)| c != SchoolCycle::Infanzia);
                grown
                    && p.expected(&x.codice_fiscale, y) != Expected::NotInAnist
                    && p.expected(&x.codice_fiscale, y.previous()) == Expected::NotInAnist
            })
            .count();
        assert!((10..=60).contains(&newcomers), "{newcomers}");
    }

    #[test]
    fn school_filter() {
        let p = pop();
        let pupil = p
            .pupils()
            .iter()
            .find(|x| {
                p.expected(&x.codice_fiscale, p.current_year()).esito()
                    == Some(EsitoFrequenza::Frequentante)
            })
            .unwrap();
        let y = p.current_year();
        let rec = p.expected(&pupil.codice_fiscale, y);
        let here = CodiceMeccanografico::parse(
            rec.record()
                .unwrap()
                .codice_meccanografico
                .as_deref()
                .unwrap(),
        )
        .unwrap();
        assert_eq!(
            p.expected_at(&pupil.codice_fiscale, y, Some(&here)),
            Ok(rec.clone())
        );
        let other = p
            .schools()
            .iter()
            .map(|s| s.code)
            .find(|c| {
                Some(c.as_str()) != rec.record().unwrap().codice_istituto_principale.as_deref()
            })
            .unwrap();
        let there = p
            .expected_at(&pupil.codice_fiscale, y, Some(&other))
            .unwrap();
        assert_eq!(there.esito(), Some(EsitoFrequenza::NonFrequentante));
        let unknown = CodiceMeccanografico::parse("ZZIC00000X").unwrap();
        assert_eq!(
            p.expected_at(&pupil.codice_fiscale, y, Some(&unknown)),
            Err(UnknownSchool)
        );
    }

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
