//! The ANPR E002 e-services of the sandbox (reference §1.1–§1.2): C030,
//! C015, C020 and C021 behind the GovWay-like front, erogatore
//! [`ANPR_EROGATORE`] (`MinInternoPortaANPR-PDND`), Bearer +
//! INTEGRITY_REST_02 + AUDIT_REST_02; the voucher and ModI audience is the
//! e-service's **without** `-PDND`, as ANPR's is.
//!
//! The population is the ANIST / ISEE sandbox one: the ID ANPR of a code is
//! [`super::anist::Population::id_anpr`], names, family and residence come
//! from the ISEE household of the code ([`super::inps::IseePopulation`]),
//! birth data from the code itself. Outcomes are a pure function of (seed,
//! codice fiscale), see [`AnprCase`] and
//! [`SandboxHandle::anpr_case`](super::SandboxHandle::anpr_case):
//! not found (`404 EN122`), deceased, omocodia (two subjects with two ID
//! ANPR), ambiguous (`EN131` or `EN175` on C030), resident where the ente is not
//! competent (`EN167` on C020). Every search by codice fiscale carries the
//! `EN148` warning. A reused `idOperazioneClient` gets the earlier answer,
//! a lower one `400`.

pub mod massive;
pub mod soap;

use std::collections::HashMap;
use std::sync::Mutex;

use anist_core::anpr::e002::{
    CodiceFiscaleAnpr, Comune, DatiEvento, DatiSoggetto, ErroreAnomalia, Generalita,
    Identificativi, Indirizzo, LegameSoggetto, ListaSoggetti, LuogoEvento, NumeroCivico, Residenza,
    RichiestaE002, RispostaE002Ok, RispostaKo, Toponimo,
};
use anist_core::anpr::{luhn36_check_char, IdAnpr};
use anist_core::cf::{AnyCodiceFiscale, CodiceFiscale, Sex};
use anist_core::synthetic::SplitMix64;
use axum::http::StatusCode;
use chrono::{Days, NaiveDate};

use super::anist::AnistState;
use super::backend::{
    lock, missing_state, BackendCall, BackendContext, BackendStates, Refusal, Reply, ServiceBackend,
};
use super::inps::InpsState;
use super::registry::DEFAULT_CONSUMER;
use super::registry::{Agreement, Backend, Descriptor, EService, Front, Purpose, RegistryBuilder};
use crate::anpr::codec;
use crate::anpr::{C015, C020, C021, C030};

/// The erogatore segment of the ANPR e-services on the front.
pub const ANPR_EROGATORE: &str = "MinInternoPortaANPR-PDND";
/// The producer tenant of the ANPR e-services (Ministero dell'Interno).
pub const ANPR_PRODUCER: &str = "a4970000-0000-4000-8000-0000000000aa";
/// Daily calls per client on each ANPR e-service of the default registry.
pub const ANPR_DAILY_CALLS: u64 = 1_000_000;

/// Which ANPR e-service answers behind the front.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AnprBackend {
    /// C030 — codice fiscale → ID ANPR.
    C030,
    /// C015 — accertamento generalità.
    C015,
    /// C020 — accertamento residenza.
    C020,
    /// C021 — stato di famiglia.
    C021,
}

impl AnprBackend {
    fn caso_uso(self) -> &'static str {
        match self {
            AnprBackend::C030 => "C030",
            AnprBackend::C015 => "C015",
            AnprBackend::C020 => "C020",
            AnprBackend::C021 => "C021",
        }
    }
}

/// One ANPR e-service of the default registry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AnprEService {
    /// The session service name ([`crate::anpr::C030`]…).
    pub session_name: &'static str,
    /// The e-service id.
    pub eservice: &'static str,
    /// The descriptor id.
    pub descriptor: &'static str,
    /// The default client's purpose.
    pub purpose: &'static str,
    /// The service segment on the front.
    pub service: &'static str,
    /// The voucher and ModI audience (without `-PDND`).
    pub audience: &'static str,
    /// What answers.
    pub backend: AnprBackend,
}

/// The four ANPR e-services of [`super::registry::Registry::default_builder`].
pub const ANPR_ESERVICES: [AnprEService; 4] = [
    AnprEService {
        session_name: C030,
        eservice: "a4970030-0000-4000-8000-000000000030",
        descriptor: "a4970030-0000-4000-8000-0000000000d0",
        purpose: "a4970030-0000-4000-8000-0000000000f0",
        service: "C030-servizioAccertamentoIdUnicoNazionale",
        audience: "https://sandbox.anist.invalid/govway/rest/in/MinInternoPortaANPR/C030-servizioAccertamentoIdUnicoNazionale/v1",
        backend: AnprBackend::C030,
    },
    AnprEService {
        session_name: C015,
        eservice: "a4970015-0000-4000-8000-000000000015",
        descriptor: "a4970015-0000-4000-8000-0000000000d5",
        purpose: "a4970015-0000-4000-8000-0000000000f5",
        service: "C015-servizioAccertamentoGeneralita",
        audience: "https://sandbox.anist.invalid/govway/rest/in/MinInternoPortaANPR/C015-servizioAccertamentoGeneralita/v1",
        backend: AnprBackend::C015,
    },
    AnprEService {
        session_name: C020,
        eservice: "a4970020-0000-4000-8000-000000000020",
        descriptor: "a4970020-0000-4000-8000-0000000000d2",
        purpose: "a4970020-0000-4000-8000-0000000000f2",
        service: "C020-servizioAccertamentoResidenza",
        audience: "https://sandbox.anist.invalid/govway/rest/in/MinInternoPortaANPR/C020-servizioAccertamentoResidenza/v1",
        backend: AnprBackend::C020,
    },
    AnprEService {
        session_name: C021,
        eservice: "a4970021-0000-4000-8000-000000000021",
        descriptor: "a4970021-0000-4000-8000-0000000000d1",
        purpose: "a4970021-0000-4000-8000-0000000000f1",
        service: "C021-servizioAccertamentoStatoFamiglia",
        audience: "https://sandbox.anist.invalid/govway/rest/in/MinInternoPortaANPR/C021-servizioAccertamentoStatoFamiglia/v1",
        backend: AnprBackend::C021,
    },
];

/// Adds the four ANPR e-services (producer [`ANPR_PRODUCER`]), the
/// default consumer's agreements and purposes on them.
pub fn register(mut builder: RegistryBuilder) -> RegistryBuilder {
    builder = builder.tenant(super::registry::Tenant::new(
        ANPR_PRODUCER,
        "Ministero dell'Interno - ANPR (sandbox)",
    ));
    for s in ANPR_ESERVICES {
        builder = builder
            .eservice(EService::new(
                s.eservice,
                ANPR_PRODUCER,
                Descriptor::new(s.descriptor, s.audience)
                    .voucher_lifespan(600)
                    .daily_calls(ANPR_DAILY_CALLS)
                    .front(
                        Front::new(ANPR_EROGATORE, s.service)
                            .integrity(true)
                            .audit(true)
                            .max_concurrency(32)
                            .backend(Backend::service(s.backend)),
                    ),
            ))
            .agreement(Agreement::new(s.eservice, DEFAULT_CONSUMER))
            .purpose(Purpose::new(s.purpose, s.eservice, DEFAULT_CONSUMER));
    }
    builder
}

/// The health operation (`GET`, without `Agid-JWT-Signature`).
pub const STATUS_OPERATION: &str = codec::STATUS_PATH;

impl AnprBackend {
    /// Every ANPR E002 backend.
    pub const ALL: [AnprBackend; 4] = [
        AnprBackend::C030,
        AnprBackend::C015,
        AnprBackend::C020,
        AnprBackend::C021,
    ];
}

/// Whether `method` `operation` is the health check (`GET /status`).
fn is_status(method: &str, operation: &str) -> bool {
    method == "GET" && operation == STATUS_OPERATION
}

impl ServiceBackend for AnprBackend {
    fn name(&self) -> &str {
        match self {
            AnprBackend::C030 => "anpr-c030",
            AnprBackend::C015 => "anpr-c015",
            AnprBackend::C020 => "anpr-c020",
            AnprBackend::C021 => "anpr-c021",
        }
    }

    fn operation_known(&self, method: &str, operation: &str) -> bool {
        (method == "POST" && operation == codec::PATH) || is_status(method, operation)
    }

    /// ANPR's `GET /status` takes no `Agid-JWT-Signature` (reference §1.2).
    fn unsigned_operation(&self, method: &str, operation: &str) -> Option<&'static str> {
        is_status(method, operation).then_some("ANPR's GET /status takes no Agid-JWT-Signature")
    }

    fn serve(&self, ctx: &BackendContext<'_>, call: &BackendCall<'_>) -> Result<Reply, Refusal> {
        if is_status(call.method, call.operation) {
            return Ok(status());
        }
        let world = Anpr::from_states(ctx.states()).ok_or_else(|| missing_state("ANPR"))?;
        let (status, content_type, text) = serve(&world, *self, call.client_id, call.body);
        Ok(Reply::new(status, content_type, text))
    }
}

/// `GET /status`: 200 with a `RispostaKO`-shaped body, as ANPR's YAML says.
fn status() -> Reply {
    let body = RispostaKo {
        id_operazione_anpr: None,
        lista_errori: Vec::new(),
    };
    Reply::new(
        StatusCode::OK,
        "application/problem+json",
        serde_json::to_string(&body).unwrap_or_default(),
    )
}

/// What the ANPR backends answer from and keep: the ANIST population (the
/// ID ANPR and the seed), the ISEE population (names, families,
/// residence) and their own state. Taken from a running sandbox's
/// [`BackendStates`].
#[derive(Clone, Copy)]
pub(in crate::sandbox) struct Anpr<'a> {
    pub(in crate::sandbox) anist: &'a AnistState,
    pub(in crate::sandbox) inps: &'a InpsState,
    pub(in crate::sandbox) anpr: &'a AnprState,
}

impl<'a> Anpr<'a> {
    /// The states, if the sandbox keeps them all.
    pub(in crate::sandbox) fn from_states(states: &'a BackendStates) -> Option<Self> {
        Some(Self {
            anist: states.get::<AnistState>()?,
            inps: states.get::<InpsState>()?,
            anpr: states.get::<AnprState>()?,
        })
    }
}

/// What the sandbox's ANPR says about a codice fiscale.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum AnprCase {
    /// Not registered: `404 EN122` (with `EN148`) on every service.
    NotFound,
    /// A living resident.
    Resident,
    /// Deceased: `datiDecesso` in the answers.
    Deceased,
    /// Omocodia: C030 finds two subjects, with two ID ANPR.
    Omocodia,
    /// C030 answers `400 EN131` or `400 EN175` (several subjects).
    Ambiguous,
    /// Resident where the ente is not competent: C020 answers `400 EN167`.
    NotCompetent,
}

/// The case of `cf` for `seed` (pure).
pub fn anpr_case(seed: u64, cf: &CodiceFiscale) -> AnprCase {
    match rng(seed, cf, 0x00A4_9700).below(100) {
        0..=4 => AnprCase::NotFound,
        5..=8 => AnprCase::Deceased,
        9..=11 => AnprCase::Omocodia,
        12..=13 => AnprCase::Ambiguous,
        14..=16 => AnprCase::NotCompetent,
        _ => AnprCase::Resident,
    }
}

/// The error of an ambiguous subject: ANPR uses `EN131` or `EN175`
/// (half of the ambiguous codes each, by seed and code).
pub fn ambiguity(seed: u64, cf: &CodiceFiscale) -> ErroreAnomalia {
    if rng(seed, cf, 0x00E1_7500).below(2) == 0 {
        ErroreAnomalia::new("EN131", "E", "Piu' soggetti trovati")
    } else {
        ErroreAnomalia::new(
            "EN175",
            "E",
            "I criteri di ricerca individuano piu' soggetti: indicare l'identificativo unico nazionale",
        )
    }
}

fn rng(seed: u64, cf: &CodiceFiscale, salt: u64) -> SplitMix64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325 ^ seed.rotate_left(17) ^ salt;
    for b in cf.canonical().as_str().bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    SplitMix64::new(h)
}

/// The second subject's ID ANPR in an omocodia case.
fn second_id(seed: u64, cf: &CodiceFiscale) -> Option<IdAnpr> {
    let mut r = rng(seed, cf, 0x0002_0D00);
    let mut p = [0u8; 8];
    for (i, b) in p.iter_mut().enumerate() {
        *b = match i {
            0 | 1 | 7 => b'A' + u8::try_from(r.below(26)).unwrap_or(0),
            _ => b'0' + u8::try_from(r.below(10)).unwrap_or(0),
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

pub(super) fn ids_of(world: &Anpr<'_>, cf: &CodiceFiscale) -> Vec<IdAnpr> {
    let pop = world.anist.population();
    let seed = pop.seed();
    match anpr_case(seed, cf) {
        AnprCase::NotFound => Vec::new(),
        AnprCase::Omocodia => pop
            .id_anpr(cf)
            .into_iter()
            .chain(second_id(seed, cf))
            .collect(),
        _ => pop.id_anpr(cf).into_iter().collect(),
    }
}

/// The ANPR part of the sandbox state: the ID ANPR handed out (to answer
/// by ID ANPR) and the answers by `idOperazioneClient`, per client.
#[derive(Default)]
pub(super) struct AnprState {
    ids: Mutex<HashMap<IdAnpr, (CodiceFiscale, bool)>>,
    answers: Mutex<HashMap<String, ClientAnswers>>,
}

/// One client's highest `idOperazioneClient` and its answers by id.
type ClientAnswers = (u128, HashMap<String, (u16, String)>);

const SURNAMES: [&str; 8] = [
    "ROSSI", "BIANCHI", "ESPOSITO", "COLOMBO", "RICCI", "MARINO", "GRECO", "BRUNO",
];
const MALE: [&str; 6] = ["MARCO", "LUCA", "GIUSEPPE", "ANDREA", "PAOLO", "MATTEO"];
const FEMALE: [&str; 6] = ["GIULIA", "SARA", "ANNA", "FRANCESCA", "CHIARA", "ELENA"];
const STREETS: [&str; 6] = [
    "GARIBALDI",
    "ROMA",
    "MAZZINI",
    "DANTE ALIGHIERI",
    "DEI MILLE",
    "XX SETTEMBRE",
];

fn warning_en148() -> ErroreAnomalia {
    ErroreAnomalia::new(
        "EN148",
        "W",
        "Il D.M. Ministero dell'Interno 3 marzo 2023 (art.3 comma 3) prevede l'accesso ad ANPR esclusivamente con identificativo unico nazionale (ID ANPR)",
    )
}

fn ko(status: u16, op: &str, errors: Vec<ErroreAnomalia>) -> (u16, String) {
    let body = RispostaKo {
        id_operazione_anpr: Some(op.to_string()),
        lista_errori: errors,
    };
    (status, serde_json::to_string(&body).unwrap_or_default())
}

/// Serves one E002 call: `(status, content type, body)`.
fn serve(
    world: &Anpr<'_>,
    kind: AnprBackend,
    client_id: &str,
    body: &[u8],
) -> (StatusCode, &'static str, String) {
    let op_anpr = {
        let n = lock(&world.anpr.answers).len();
        format!("{}", 70_000_000 + n)
    };
    let (status, text) = match serde_json::from_slice::<RichiestaE002>(body) {
        Err(_) => ko(
            400,
            &op_anpr,
            vec![ErroreAnomalia::new(
                "400",
                "E",
                "Richiesta non conforme: il corpo non e' una RichiestaE002",
            )],
        ),
        Ok(req) => {
            let id = req.id_operazione_client.as_str().to_string();
            let num: u128 = id.parse().unwrap_or(0);
            let previous = {
                let answers = lock(&world.anpr.answers);
                answers
                    .get(client_id)
                    .map(|(last, seen)| (*last, seen.get(&id).cloned()))
            };
            match previous {
                Some((_, Some(earlier))) => earlier,
                Some((last, None)) if num < last => ko(
                    400,
                    &op_anpr,
                    vec![ErroreAnomalia::new(
                        "EN010",
                        "E",
                        "idOperazioneClient inferiore all'ultimo inviato",
                    )],
                ),
                _ => {
                    let answer = answer(world, kind, &req, &op_anpr);
                    let mut answers = lock(&world.anpr.answers);
                    let entry = answers.entry(client_id.to_string()).or_default();
                    entry.0 = entry.0.max(num);
                    entry.1.insert(id, answer.clone());
                    answer
                }
            }
        }
    };
    let ct = if status == 200 {
        "application/json"
    } else {
        "application/problem+json"
    };
    (
        StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
        ct,
        text,
    )
}

pub(super) fn answer(
    world: &Anpr<'_>,
    kind: AnprBackend,
    req: &RichiestaE002,
    op: &str,
) -> (u16, String) {
    let dati = &req.dati_richiesta;
    if dati.motivo_richiesta.trim().is_empty() {
        return ko(
            400,
            op,
            vec![ErroreAnomalia::new(
                "400",
                "E",
                "motivoRichiesta obbligatorio",
            )],
        );
    }
    if dati.caso_uso.as_str() != kind.caso_uso() {
        return ko(
            400,
            op,
            vec![ErroreAnomalia::new(
                "400",
                "E",
                "casoUso non coerente con il servizio",
            )],
        );
    }
    let Ok(date) = NaiveDate::parse_from_str(&dati.data_riferimento_richiesta, "%Y-%m-%d") else {
        return ko(
            400,
            op,
            vec![ErroreAnomalia::new(
                "400",
                "E",
                "dataRiferimentoRichiesta non valida",
            )],
        );
    };
    let criteri = &req.criteri_ricerca;
    let by_cf = criteri.codice_fiscale.is_some();
    let mut warnings = Vec::new();
    if by_cf {
        warnings.push(warning_en148());
    }
    let not_found = |mut w: Vec<ErroreAnomalia>| {
        w.insert(
            0,
            ErroreAnomalia::new(
                "EN122",
                "E",
                "La richiesta effettuata non produce alcun risultato",
            ),
        );
        ko(404, op, w)
    };
    let pop = world.anist.population();
    let seed = pop.seed();
    // Whom: (cf, second subject of an omocodia?) for each subject found.
    let subjects: Vec<(CodiceFiscale, bool)> = match (&criteri.codice_fiscale, &criteri.id_anpr) {
        (Some(cf), None) => {
            let Ok(cf) = CodiceFiscale::parse(cf) else {
                return not_found(warnings);
            };
            match anpr_case(seed, &cf) {
                AnprCase::NotFound => return not_found(warnings),
                AnprCase::Ambiguous if kind == AnprBackend::C030 => {
                    let mut e = vec![ambiguity(seed, &cf)];
                    e.extend(warnings);
                    return ko(400, op, e);
                }
                AnprCase::Omocodia => vec![(cf, false), (cf, true)],
                _ => vec![(cf, false)],
            }
        }
        (None, Some(id)) if kind != AnprBackend::C030 => {
            let Ok(id) = IdAnpr::parse(id) else {
                return not_found(warnings);
            };
            let known = lock(&world.anpr.ids).get(&id).copied();
            match known.or_else(|| pop.resolve(&id).map(|cf| (cf, false))) {
                Some(s) if anpr_case(seed, &s.0) != AnprCase::NotFound => vec![s],
                _ => return not_found(warnings),
            }
        }
        _ => {
            return ko(
                400,
                op,
                vec![ErroreAnomalia::new(
                "400",
                "E",
                "criteriRicerca: indicare codiceFiscale oppure idANPR (C030: solo codiceFiscale)",
            )],
            )
        }
    };
    if kind == AnprBackend::C020
        && subjects
            .iter()
            .any(|(cf, _)| anpr_case(seed, cf) == AnprCase::NotCompetent)
    {
        let mut e = vec![ErroreAnomalia::new(
            "EN167",
            "E",
            "il mittente non e' competente sul comune indicato",
        )];
        e.extend(warnings);
        return ko(400, op, e);
    }
    let mut entries = Vec::new();
    for (cf, second) in subjects {
        let Some(id) = (if second {
            second_id(seed, &cf)
        } else {
            pop.id_anpr(&cf)
        }) else {
            continue;
        };
        lock(&world.anpr.ids).insert(id, (cf, second));
        match kind {
            AnprBackend::C030 => entries.push(DatiSoggetto {
                identificativi: Some(Identificativi {
                    id_anpr: Some(id.to_string()),
                }),
                ..DatiSoggetto::default()
            }),
            AnprBackend::C015 => {
                let mut d = subject(world, &cf, second, date);
                d.identificativi = Some(Identificativi {
                    id_anpr: Some(id.to_string()),
                });
                entries.push(d);
            }
            AnprBackend::C020 => {
                let mut d = subject(world, &cf, second, date);
                d.residenza = vec![residence(world, &cf, date)];
                d.identificativi = Some(Identificativi {
                    id_anpr: Some(id.to_string()),
                });
                // ANPR splits: the residence block in its own entry.
                let split = DatiSoggetto {
                    residenza: std::mem::take(&mut d.residenza),
                    identificativi: d.identificativi.clone(),
                    ..DatiSoggetto::default()
                };
                entries.push(d);
                entries.push(split);
            }
            AnprBackend::C021 => entries.extend(family(world, &cf, second, id, date)),
        }
    }
    let ok = RispostaE002Ok {
        id_operazione_anpr: Some(op.to_string()),
        lista_soggetti: Some(ListaSoggetti {
            dati_soggetto: entries,
        }),
        lista_anomalie: warnings,
    };
    (200, serde_json::to_string(&ok).unwrap_or_default())
}

/// The ISEE household of `cf` (the DSU of the year before `date`).
fn household(
    world: &Anpr<'_>,
    cf: &CodiceFiscale,
    date: NaiveDate,
) -> Option<super::inps::IseeHousehold> {
    let year = chrono::Datelike::year(&date) - 1;
    let on = NaiveDate::from_ymd_opt(year, 12, 31)?;
    world
        .inps
        .population()
        .expected(&AnyCodiceFiscale::Persona(*cf), on)
        .household()
        .cloned()
}

fn names(world: &Anpr<'_>, cf: &CodiceFiscale, second: bool, date: NaiveDate) -> (String, String) {
    if !second {
        if let Some(h) = household(world, cf, date) {
            let me = AnyCodiceFiscale::Persona(*cf);
            if let Some(m) = h
                .attestazione
                .household
                .iter()
                .find(|m| m.codice_fiscale == me)
            {
                if let (Some(s), Some(n)) = (&m.surname, &m.name) {
                    return (s.clone(), n.clone());
                }
            }
        }
    }
    let seed = world.anist.population().seed();
    let mut r = rng(seed, cf, if second { 0x0002_0002 } else { 0x0002_0001 });
    let surname = SURNAMES[usize::try_from(r.below(8)).unwrap_or(0)];
    let list = if cf.sex() == Sex::Female {
        FEMALE
    } else {
        MALE
    };
    let name = list[usize::try_from(r.below(6)).unwrap_or(0)];
    (surname.to_string(), name.to_string())
}

fn comune(belfiore: &str) -> Comune {
    let era = belfiore
        .as_bytes()
        .try_into()
        .ok()
        .and_then(|b: [u8; 4]| anist_core::place::latest(&b));
    Comune {
        nome_comune: era.map(|e| e.name().to_string()),
        sigla_provincia_istat: era.map(|e| e.province().to_string()),
        descrizione_localita: era.is_none().then(|| belfiore.to_string()),
        ..Comune::default()
    }
}

fn subject(world: &Anpr<'_>, cf: &CodiceFiscale, second: bool, date: NaiveDate) -> DatiSoggetto {
    let (cognome, nome) = names(world, cf, second, date);
    let birth = cf.birth_date_relative_to(date);
    let seed = world.anist.population().seed();
    let deceased = anpr_case(seed, cf) == AnprCase::Deceased && !second;
    DatiSoggetto {
        generalita: Some(Generalita {
            codice_fiscale: Some(CodiceFiscaleAnpr {
                cod_fiscale: Some(cf.as_str().to_string()),
                validita_cf: Some(if second { "9" } else { "1" }.to_string()),
                data_attribuzione_validita: None,
            }),
            cognome: Some(cognome),
            nome: Some(nome),
            sesso: Some(if cf.sex() == Sex::Female { "F" } else { "M" }.to_string()),
            data_nascita: birth.map(|d| d.format("%Y-%m-%d").to_string()),
            luogo_nascita: Some(LuogoEvento {
                comune: Some(comune(cf.belfiore_code().as_str())),
                ..LuogoEvento::default()
            }),
            ..Generalita::default()
        }),
        dati_decesso: deceased.then(|| DatiEvento {
            data_evento: date
                .checked_sub_days(Days::new(30 + rng(seed, cf, 0x0DEA_D000).below(3000)))
                .map(|d| d.format("%Y-%m-%d").to_string()),
            ..DatiEvento::default()
        }),
        ..DatiSoggetto::default()
    }
}

/// The subject's data (for the SOAP 3002 endpoint).
pub(super) fn subject_of(world: &Anpr<'_>, cf: &CodiceFiscale, date: NaiveDate) -> DatiSoggetto {
    subject(world, cf, false, date)
}

/// The subject's residence (for the SOAP 3002 endpoint).
pub(super) fn residence_of(world: &Anpr<'_>, cf: &CodiceFiscale, date: NaiveDate) -> Residenza {
    residence(world, cf, date)
}

/// The Belfiore code of the comune of residence, as [`residence`] picks it.
pub(super) fn residence_belfiore(world: &Anpr<'_>, cf: &CodiceFiscale, date: NaiveDate) -> String {
    let calling = world.inps.population().comune().to_string();
    household(world, cf, date).map_or(calling, |h| h.comune)
}

fn residence(world: &Anpr<'_>, cf: &CodiceFiscale, date: NaiveDate) -> Residenza {
    let calling = world.inps.population().comune().to_string();
    let belfiore = household(world, cf, date).map_or(calling, |h| h.comune);
    let seed = world.anist.population().seed();
    let mut r = rng(seed, cf, 0x0000_CA5A);
    Residenza {
        tipo_indirizzo: Some("1".into()),
        indirizzo: Some(Indirizzo {
            cap: Some(format!("{:05}", 10_000 + r.below(89_999))),
            comune: Some(comune(&belfiore)),
            toponimo: Some(Toponimo {
                specie: Some("VIA".into()),
                denominazione_toponimo: Some(
                    STREETS[usize::try_from(r.below(6)).unwrap_or(0)].to_string(),
                ),
                ..Toponimo::default()
            }),
            numero_civico: Some(NumeroCivico {
                numero: Some((1 + r.below(150)).to_string()),
                ..NumeroCivico::default()
            }),
            ..Indirizzo::default()
        }),
        data_decorrenza_residenza: date
            .checked_sub_days(Days::new(100 + r.below(5000)))
            .map(|d| d.format("%Y-%m-%d").to_string()),
        ..Residenza::default()
    }
}

fn legame(code: &str, progressivo: usize) -> LegameSoggetto {
    LegameSoggetto {
        codice_legame: Some(code.to_string()),
        progressivo_componente: Some(progressivo.to_string()),
        ..LegameSoggetto::default()
    }
}

/// C021: one entry per member of the ISEE household (the subject first
/// when there is none), with `legameSoggetto`: `1` intestatario (the ISEE
/// declarant), `2` coniuge, `3` figlio, `99` other (assumed codes).
fn family(
    world: &Anpr<'_>,
    cf: &CodiceFiscale,
    second: bool,
    id: IdAnpr,
    date: NaiveDate,
) -> Vec<DatiSoggetto> {
    let pop = world.anist.population();
    let me = |mut d: DatiSoggetto| {
        d.identificativi = Some(Identificativi {
            id_anpr: Some(id.to_string()),
        });
        d.legame_soggetto = Some(legame("1", 1));
        vec![d]
    };
    if second {
        return me(subject(world, cf, true, date));
    }
    let Some(h) = household(world, cf, date) else {
        return me(subject(world, cf, false, date));
    };
    let mut out = Vec::new();
    for (i, m) in h.attestazione.household.iter().enumerate() {
        let AnyCodiceFiscale::Persona(mcf) = m.codice_fiscale else {
            continue;
        };
        let Some(mid) = pop.id_anpr(&mcf) else {
            continue;
        };
        lock(&world.anpr.ids).insert(mid, (mcf, false));
        let mut d = subject(world, &mcf, false, date);
        if let (Some(g), Some(s), Some(n)) = (d.generalita.as_mut(), &m.surname, &m.name) {
            g.cognome = Some(s.clone());
            g.nome = Some(n.clone());
        }
        d.identificativi = Some(Identificativi {
            id_anpr: Some(mid.to_string()),
        });
        let code = match m.relationship.as_deref() {
            Some("D") => "1",
            Some("C") => "2",
            Some("F" | "FC") => "3",
            _ => "99",
        };
        d.legame_soggetto = Some(legame(code, i + 1));
        out.push(d);
    }
    if !out.iter().any(|d| d.id_anpr() == Some(id.as_str())) {
        return me(subject(world, cf, false, date));
    }
    out
}
