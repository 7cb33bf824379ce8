//! The ANPR massive e-services of the sandbox (reference §1.3): C030
//! massivo (`E002AccertamentoIdAnprMassivo`) and C020 massivo
//! (`E002AccertamentoResidenzaMassivo`, an assumed path) behind the same
//! GovWay-like front, over the same population as the single E002
//! services ([`super`]).
//!
//! - `POST anpr-massivo-e002-richiesta`: `{"idOperazioneANPR","stato":"0"}`;
//!   `tipoRicerca` other than `1` / `2` → `400 Tipo ricerca non ammissibile`;
//!   a second request while one of the same client and service is pending
//!   → `409` (ANPR accepts no further request until the pending one is
//!   processed; the exact status is not public, see the README);
//! - `GET anpr-massivo-e002-download/resource/{id}`: `404 Risorsa in attesa
//!   di elaborazione con stato: 1` for the first [`POLLS_BEFORE_READY`]
//!   polls, then `200` with the gzip of `{"risposteMassive":[…]}`; the
//!   subjects not found are omitted, and a seeded
//!   [`DROPPED_PERCENT`] of the found ones too (ANPR's incomplete sets).
//!
//! Every identifier is answered as the single service would
//! ([`super`]'s answer): one element per found identifier.

use std::collections::HashMap;
use std::sync::Mutex;

use anist_core::anpr::e002::{
    CodiceFiscaleAnpr, CriteriRicerca, ErroreAnomalia, Generalita, RichiestaE002, RispostaE002Ok,
    RispostaKo,
};
use anist_core::anpr::massive::{
    gzip, leggi_file_input, RichiestaMassiva, RispostaRichiestaMassiva, TipoRicerca,
};
use anist_core::synthetic::SplitMix64;
use axum::http::StatusCode;

use super::{Anpr, AnprBackend, ANPR_DAILY_CALLS, ANPR_EROGATORE, ANPR_PRODUCER};
use crate::anpr::massive::{C020_MASSIVO, C030_MASSIVO, DOWNLOAD_PATH, SUBMIT_PATH};
use crate::sandbox::backend::{
    lock, missing_state, BackendCall, BackendContext, Refusal, Reply, ServiceBackend,
};
use crate::sandbox::registry::DEFAULT_CONSUMER;
use crate::sandbox::registry::{
    Agreement, Backend, Descriptor, EService, Front, Purpose, RegistryBuilder,
};

/// Polls answered `404` (not ready) before the download is ready.
pub const POLLS_BEFORE_READY: u32 = 2;
/// Percent of the found subjects the download omits anyway (seeded).
pub const DROPPED_PERCENT: u64 = 3;

/// Which massive e-service answers behind the front.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MassiveBackend {
    /// C030 massivo — codici fiscali → ID ANPR.
    C030,
    /// C020 massivo — residenza.
    C020,
}

impl MassiveBackend {
    fn single(self) -> AnprBackend {
        match self {
            MassiveBackend::C030 => AnprBackend::C030,
            MassiveBackend::C020 => AnprBackend::C020,
        }
    }
}

/// One massive e-service of the default registry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AnprMassiveEService {
    /// The session service name ([`crate::anpr::massive::C030_MASSIVO`]…).
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
    pub backend: MassiveBackend,
}

/// The two massive e-services of the default registry.
pub const ANPR_MASSIVE_ESERVICES: [AnprMassiveEService; 2] = [
    AnprMassiveEService {
        session_name: C030_MASSIVO,
        eservice: "a4970130-0000-4000-8000-000000000130",
        descriptor: "a4970130-0000-4000-8000-0000000001d0",
        purpose: "a4970130-0000-4000-8000-0000000001f0",
        service: "E002AccertamentoIdAnprMassivo",
        audience: "https://sandbox.anist.invalid/govway/rest/in/MinInternoPortaANPR/E002AccertamentoIdAnprMassivo/v1",
        backend: MassiveBackend::C030,
    },
    AnprMassiveEService {
        session_name: C020_MASSIVO,
        eservice: "a4970120-0000-4000-8000-000000000120",
        descriptor: "a4970120-0000-4000-8000-0000000001d2",
        purpose: "a4970120-0000-4000-8000-0000000001f2",
        service: "E002AccertamentoResidenzaMassivo",
        audience: "https://sandbox.anist.invalid/govway/rest/in/MinInternoPortaANPR/E002AccertamentoResidenzaMassivo/v1",
        backend: MassiveBackend::C020,
    },
];

/// Adds the massive e-services (producer [`ANPR_PRODUCER`], registered by
/// [`super::register`]) and the default consumer's agreements and
/// purposes on them.
pub fn register(mut builder: RegistryBuilder) -> RegistryBuilder {
    for s in ANPR_MASSIVE_ESERVICES {
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

impl MassiveBackend {
    /// Every ANPR massive backend.
    pub const ALL: [MassiveBackend; 2] = [MassiveBackend::C030, MassiveBackend::C020];
}

impl ServiceBackend for MassiveBackend {
    fn name(&self) -> &str {
        match self {
            MassiveBackend::C030 => "anpr-c030-massivo",
            MassiveBackend::C020 => "anpr-c020-massivo",
        }
    }

    fn operation_known(&self, method: &str, operation: &str) -> bool {
        match method {
            "POST" => operation == SUBMIT_PATH,
            "GET" | "HEAD" => resource(operation).is_some(),
            _ => false,
        }
    }

    fn serve(&self, ctx: &BackendContext<'_>, call: &BackendCall<'_>) -> Result<Reply, Refusal> {
        let (Some(world), Some(state)) =
            (Anpr::from_states(ctx.states()), ctx.state::<MassiveState>())
        else {
            return Err(missing_state("ANPR massive"));
        };
        let (status, content_type, bytes) = serve(
            &world,
            state,
            *self,
            call.client_id,
            call.method,
            call.operation,
            call.body,
        );
        Ok(Reply::new(status, content_type, bytes))
    }
}

fn resource(operation: &str) -> Option<&str> {
    operation
        .strip_prefix(DOWNLOAD_PATH)?
        .strip_prefix('/')
        .filter(|id| !id.is_empty() && !id.contains('/'))
}

struct Job {
    client: String,
    backend: MassiveBackend,
    polls: u32,
    result: Vec<u8>,
    served: bool,
}

/// The massive requests of a running sandbox (one of its backend states).
#[derive(Default)]
pub(in crate::sandbox) struct MassiveState {
    jobs: Mutex<HashMap<String, Job>>,
}

impl MassiveState {
    /// The next `idOperazioneANPR` of a massive request.
    fn next_id(jobs: &HashMap<String, Job>) -> String {
        format!("{}", 76_000_000 + jobs.len())
    }
}

fn ko(
    status: u16,
    op: Option<String>,
    codice: &str,
    testo: &str,
) -> (StatusCode, &'static str, Vec<u8>) {
    let body = RispostaKo {
        id_operazione_anpr: op,
        lista_errori: vec![ErroreAnomalia::new(codice, "E", testo)],
    };
    (
        StatusCode::from_u16(status).unwrap_or(StatusCode::BAD_REQUEST),
        "application/problem+json",
        serde_json::to_vec(&body).unwrap_or_default(),
    )
}

fn dropped(seed: u64, id: &str) -> bool {
    let mut h: u64 = 0x9e37_79b9_7f4a_7c15 ^ seed.rotate_left(29);
    for b in id.bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    SplitMix64::new(h).below(100) < DROPPED_PERCENT
}

/// Answers a call of `kind` by `client_id`.
fn serve(
    world: &Anpr<'_>,
    state: &MassiveState,
    kind: MassiveBackend,
    client_id: &str,
    method: &str,
    operation: &str,
    body: &[u8],
) -> (StatusCode, &'static str, Vec<u8>) {
    if method == "POST" {
        return submit(world, state, kind, client_id, body);
    }
    let Some(id) = resource(operation) else {
        return ko(404, None, "404", "Risorsa non trovata");
    };
    let mut jobs = lock(&state.jobs);
    let Some(job) = jobs
        .get_mut(id)
        .filter(|j| j.client == client_id && j.backend == kind)
    else {
        return ko(404, Some(id.to_string()), "404", "Risorsa non trovata");
    };
    if job.polls < POLLS_BEFORE_READY {
        job.polls += 1;
        return ko(
            404,
            Some(id.to_string()),
            "404",
            "Risorsa in attesa di elaborazione con stato: 1",
        );
    }
    job.served = true;
    (StatusCode::OK, "text/plain", job.result.clone())
}

fn submit(
    world: &Anpr<'_>,
    state: &MassiveState,
    kind: MassiveBackend,
    client_id: &str,
    body: &[u8],
) -> (StatusCode, &'static str, Vec<u8>) {
    let op = {
        let jobs = lock(&state.jobs);
        MassiveState::next_id(&jobs)
    };
    let Ok(req) = serde_json::from_slice::<RichiestaMassiva>(body) else {
        return ko(400, Some(op), "400", "Richiesta non conforme");
    };
    let Some(tipo) = TipoRicerca::parse(&req.tipo_ricerca) else {
        return ko(400, Some(op), "400", "Tipo ricerca non ammissibile");
    };
    let Ok(ids) = leggi_file_input(&req.file_input) else {
        return ko(400, Some(op), "400", "fileInput non leggibile");
    };
    {
        let jobs = lock(&state.jobs);
        if jobs
            .values()
            .any(|j| j.client == client_id && j.backend == kind && !j.served)
        {
            return ko(
                409,
                Some(op),
                "409",
                "Esiste una richiesta massiva in attesa di elaborazione con stato: 1: non sono accettate altre richieste finche' non viene elaborata",
            );
        }
    }
    let seed = world.anist.population().seed();
    let mut elements = Vec::new();
    for (n, id) in ids.iter().enumerate() {
        let criteri = match tipo {
            TipoRicerca::CodiceFiscale => CriteriRicerca::codice_fiscale(id),
            TipoRicerca::IdAnpr => CriteriRicerca::id_anpr(id),
        };
        let single = RichiestaE002 {
            id_operazione_client: req.id_operazione_client.clone(),
            criteri_ricerca: criteri,
            dati_richiesta: req.dati_richiesta.clone(),
        };
        let (status, text) = super::answer(world, kind.single(), &single, &format!("{op}{n}"));
        if status != 200 {
            if status == 400 && n == 0 && text.contains("\"codiceErroreAnomalia\":\"400\"") {
                // A request-level problem (motivo, casoUso, date): the whole request is refused.
                return (
                    StatusCode::BAD_REQUEST,
                    "application/problem+json",
                    text.into_bytes(),
                );
            }
            // Not found, not competent…: silently omitted, as ANPR does.
            continue;
        }
        if dropped(seed, id) {
            continue;
        }
        let Ok(mut ok) = serde_json::from_str::<RispostaE002Ok>(&text) else {
            continue;
        };
        if tipo == TipoRicerca::CodiceFiscale {
            // C030 answers only identificativi: the massive element carries
            // the codice fiscale asked, so that the ente can match it.
            if let Some(l) = ok.lista_soggetti.as_mut() {
                for d in &mut l.dati_soggetto {
                    let g = d.generalita.get_or_insert_with(Generalita::default);
                    if g.codice_fiscale.is_none() {
                        g.codice_fiscale = Some(CodiceFiscaleAnpr {
                            cod_fiscale: Some(id.clone()),
                            ..Default::default()
                        });
                    }
                }
            }
        }
        elements.push(ok);
    }
    let json = serde_json::json!({ "risposteMassive": elements });
    let result = gzip(&serde_json::to_vec(&json).unwrap_or_default());
    lock(&state.jobs).insert(
        op.clone(),
        Job {
            client: client_id.to_string(),
            backend: kind,
            polls: 0,
            result,
            served: false,
        },
    );
    let accepted = RispostaRichiestaMassiva {
        id_operazione_anpr: Some(op),
        stato: Some("0".into()),
    };
    (
        StatusCode::OK,
        "application/json",
        serde_json::to_vec(&accepted).unwrap_or_default(),
    )
}
