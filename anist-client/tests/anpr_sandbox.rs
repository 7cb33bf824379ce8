//! The ANPR E002 client ([`anist_client::anpr::AnprClient`]) against the
//! sandbox's ANPR e-services, through the GovWay-like front (voucher,
//! INTEGRITY_REST_02, AUDIT_REST_02): every service by codice fiscale and
//! by ID ANPR, not found as an outcome, omocodia (two subjects), the
//! EN148 warning surfaced, EN131 / EN167 as distinct errors, deceased
//! subjects, the operation ids persisted and strictly increasing, the
//! audit trail, fault injection, and the wire shape against the OpenAPI
//! field lists.
//!
//! Everything talks to 127.0.0.1 only; every sandbox stops with its test.
#![cfg(feature = "sandbox")]
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;
use common::client_key;
use std::collections::BTreeSet;
use std::path::PathBuf;
use std::sync::Arc;

use anist_client::anpr::codec;
use anist_client::anpr::{
    AnprClient, OperationIds, Richiesta, Risposta, Servizio, Soggetto, C015, C030,
};
use anist_client::audit::AuditLog;
use anist_client::sandbox::anpr::{AnprCase, ANPR_EROGATORE};
use anist_client::sandbox::{Fault, Route, Sandbox, SandboxConfig, SandboxHandle};
use anist_core::anpr::e002::{CriteriRicerca, IdOperazioneClient};
use anist_core::anpr::esito::Esito;
use anist_core::cf::CodiceFiscale;
use anist_core::synthetic::SyntheticPeople;
use anist_core::ErrorCode;
use chrono::NaiveDate;
use serde_json::Value;

const SEED: u64 = 20_261_202;

struct Dir(PathBuf);

impl Dir {
    fn new(name: &str) -> Self {
        let p = std::env::temp_dir().join(format!(
            "anist-anpr-{name}-{}-{}",
            std::process::id(),
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .as_nanos()
        ));
        std::fs::create_dir_all(&p).unwrap();
        Self(p)
    }

    fn ids(&self) -> PathBuf {
        self.0.join("anpr-ids.sqlite")
    }
}

impl Drop for Dir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

async fn start(dir: &Dir) -> (SandboxHandle, AnprClient) {
    let sandbox = Sandbox::start(SandboxConfig::with_client_key(SEED, client_key()).unwrap())
        .await
        .unwrap();
    let ids = Arc::new(OperationIds::open(&dir.ids()).unwrap());
    let client = AnprClient::new(Arc::new(sandbox.session().unwrap()), ids);
    (sandbox, client)
}

/// The first synthetic code of the sandbox's ANPR `case`.
fn cf_with(sandbox: &SandboxHandle, case: AnprCase) -> CodiceFiscale {
    let from = NaiveDate::from_ymd_opt(1950, 1, 1).unwrap();
    let to = NaiveDate::from_ymd_opt(2015, 12, 31).unwrap();
    let mut people = SyntheticPeople::new(SEED, from, to);
    (0..5000)
        .map(|_| people.next_person().codice_fiscale)
        .find(|cf| sandbox.anpr_case(cf) == case)
        .unwrap_or_else(|| panic!("no code with {case:?}"))
}

fn date() -> Option<NaiveDate> {
    NaiveDate::from_ymd_opt(2026, 11, 30)
}

fn by_cf(cf: CodiceFiscale, servizio: Servizio) -> Richiesta {
    Richiesta {
        soggetto: Soggetto::CodiceFiscale(cf),
        servizio,
        motivo: "prot. 123/2026".into(),
        data: date(),
    }
}

fn has_en148(r: &Risposta) -> bool {
    r.avvisi
        .iter()
        .any(|a| a.codice() == "EN148" && a.is_warning())
}

#[tokio::test]
async fn every_service_by_codice_fiscale_goes_through_c030() {
    let dir = Dir::new("services");
    let (sandbox, client) = start(&dir).await;
    let cf = cf_with(&sandbox, AnprCase::Resident);
    let expected_id = sandbox.anpr_ids(&cf);
    assert_eq!(expected_id.len(), 1);

    // C030 only.
    let r = client.cerca(&by_cf(cf, Servizio::IdAnpr)).await.unwrap();
    assert_eq!(r.id_anpr, expected_id);
    assert!(has_en148(&r), "EN148 reaches the caller");
    assert_eq!(r.esito.soggetti()[0].id_anpr, Some(expected_id[0]));

    // Generalità: C030 then C015 by ID ANPR.
    let r = client
        .cerca(&by_cf(cf, Servizio::Generalita))
        .await
        .unwrap();
    assert!(has_en148(&r));
    let s = &r.esito.soggetti();
    assert_eq!(s.len(), 1);
    let g = s[0].dati.generalita.as_ref().unwrap();
    assert_eq!(g.cf(), Some(cf.as_str()));
    assert!(g.cognome.is_some() && g.nome.is_some());
    assert_eq!(s[0].id_anpr, Some(expected_id[0]));
    assert!(!s[0].deceduto());

    // Residenza: ANPR splits the subject over two entries: merged into one.
    let r = client.cerca(&by_cf(cf, Servizio::Residenza)).await.unwrap();
    assert_eq!(r.esito.soggetti().len(), 1);
    let res = &r.esito.soggetti()[0].dati.residenza;
    assert_eq!(res.len(), 1);
    assert!(res[0].indirizzo.as_ref().unwrap().comune.is_some());

    // Famiglia: the subject is among the members, each with its legame.
    let r = client.cerca(&by_cf(cf, Servizio::Famiglia)).await.unwrap();
    let members = r.esito.soggetti();
    assert!(!members.is_empty());
    assert!(members.iter().any(|m| m.id_anpr == Some(expected_id[0])));
    assert!(members.iter().all(|m| m.dati.legame_soggetto.is_some()));
    sandbox.shutdown().await;
}

#[tokio::test]
async fn by_id_anpr_directly_without_warning() {
    let dir = Dir::new("by-id");
    let (sandbox, client) = start(&dir).await;
    // A listed pupil of the ANIST population: the same ID ANPR.
    let pupil = sandbox
        .population()
        .pupils()
        .iter()
        .find(|p| {
            !matches!(
                sandbox.anpr_case(&p.codice_fiscale),
                AnprCase::NotFound | AnprCase::Omocodia | AnprCase::NotCompetent
            )
        })
        .cloned()
        .unwrap();
    assert_eq!(sandbox.anpr_ids(&pupil.codice_fiscale), vec![pupil.id_anpr]);
    for servizio in [
        Servizio::Generalita,
        Servizio::Residenza,
        Servizio::Famiglia,
    ] {
        let r = client
            .cerca(&Richiesta {
                soggetto: Soggetto::IdAnpr(pupil.id_anpr),
                servizio,
                motivo: "fascicolo 7".into(),
                data: date(),
            })
            .await
            .unwrap();
        assert!(!has_en148(&r), "{servizio:?}: no EN148 by ID ANPR");
        assert_eq!(r.id_anpr, vec![pupil.id_anpr]);
        assert!(!r.esito.soggetti().is_empty(), "{servizio:?}");
    }
    let r = client
        .cerca(&Richiesta {
            soggetto: Soggetto::IdAnpr(pupil.id_anpr),
            servizio: Servizio::Generalita,
            motivo: "fascicolo 7".into(),
            data: date(),
        })
        .await
        .unwrap();
    let g = r.esito.soggetti()[0].dati.generalita.clone().unwrap();
    assert_eq!(g.cf(), Some(pupil.codice_fiscale.as_str()));
    sandbox.shutdown().await;
}

#[tokio::test]
async fn outcomes_and_anpr_errors() {
    let dir = Dir::new("outcomes");
    let (sandbox, client) = start(&dir).await;

    // Not found: an outcome, with EN148; C030 only is asked.
    let cf = cf_with(&sandbox, AnprCase::NotFound);
    let before = sandbox.backend_calls();
    let r = client
        .cerca(&by_cf(cf, Servizio::Generalita))
        .await
        .unwrap();
    assert!(matches!(r.esito, Esito::NonTrovato { .. }));
    assert!(has_en148(&r));
    assert_eq!(sandbox.backend_calls() - before, 1);

    // Omocodia: two subjects with two ID ANPR.
    let cf = cf_with(&sandbox, AnprCase::Omocodia);
    let r = client
        .cerca(&by_cf(cf, Servizio::Generalita))
        .await
        .unwrap();
    assert_eq!(r.id_anpr.len(), 2);
    assert_eq!(r.esito.soggetti().len(), 2);
    assert_ne!(r.esito.soggetti()[0].id_anpr, r.esito.soggetti()[1].id_anpr);

    // Deceased.
    let cf = cf_with(&sandbox, AnprCase::Deceased);
    let r = client
        .cerca(&by_cf(cf, Servizio::Generalita))
        .await
        .unwrap();
    assert!(r.esito.soggetti()[0].deceduto());

    // EN131 and EN175: ambiguous, one error code for both.
    let from = NaiveDate::from_ymd_opt(1950, 1, 1).unwrap();
    let to = NaiveDate::from_ymd_opt(2015, 12, 31).unwrap();
    let mut people = SyntheticPeople::new(SEED, from, to);
    let mut seen = std::collections::BTreeSet::new();
    for _ in 0..20_000 {
        let cf = people.next_person().codice_fiscale;
        if sandbox.anpr_case(&cf) != AnprCase::Ambiguous {
            continue;
        }
        let e = client
            .cerca(&by_cf(cf, Servizio::Generalita))
            .await
            .unwrap_err();
        assert_eq!(e.code(), "anpr_ambiguous");
        let text = e.to_string();
        seen.insert(if text.contains("EN175") {
            "EN175"
        } else {
            "EN131"
        });
        if seen.len() == 2 {
            break;
        }
    }
    assert_eq!(seen.len(), 2, "both EN131 and EN175: {seen:?}");

    // EN167 on C020 only.
    let cf = cf_with(&sandbox, AnprCase::NotCompetent);
    let e = client
        .cerca(&by_cf(cf, Servizio::Residenza))
        .await
        .unwrap_err();
    assert_eq!(e.code(), "anpr_not_competent");
    assert!(client.cerca(&by_cf(cf, Servizio::Generalita)).await.is_ok());

    // A blank motivo: refused before any call.
    let before = sandbox.backend_calls();
    let mut req = by_cf(cf, Servizio::Generalita);
    req.motivo = "  ".into();
    assert_eq!(
        client.cerca(&req).await.unwrap_err().code(),
        "anpr_motivo_missing"
    );
    assert_eq!(sandbox.backend_calls(), before);
    sandbox.shutdown().await;
}

#[tokio::test]
async fn status_is_asked_without_signature() {
    let dir = Dir::new("status");
    let (sandbox, client) = start(&dir).await;
    for s in [
        Servizio::IdAnpr,
        Servizio::Generalita,
        Servizio::Residenza,
        Servizio::Famiglia,
    ] {
        client.status(s).await.unwrap();
    }
    // With the session's profile (Signature on), the front refuses it.
    let session = sandbox.session().unwrap();
    let e = session.get(C030, codec::STATUS_PATH).await.unwrap_err();
    assert_eq!(e.code(), "gateway_refused");
    sandbox.shutdown().await;
}

#[tokio::test]
async fn faults_of_the_front_apply() {
    let dir = Dir::new("faults");
    let (sandbox, client) = start(&dir).await;
    let cf = cf_with(&sandbox, AnprCase::Resident);
    let route = Route::Front(format!(
        "{ANPR_EROGATORE}/C030-servizioAccertamentoIdUnicoNazionale/v1"
    ));
    sandbox.inject_at(route, Fault::Status(503));
    let e = client
        .cerca(&by_cf(cf, Servizio::IdAnpr))
        .await
        .unwrap_err();
    assert!(!e.code().starts_with("anpr_"), "{}", e.code());
    // The next call goes through.
    assert!(client.cerca(&by_cf(cf, Servizio::IdAnpr)).await.is_ok());
    sandbox.shutdown().await;
}

#[tokio::test]
async fn every_call_is_audited() {
    let dir = Dir::new("audit");
    let (sandbox, client) = start(&dir).await;
    let audit =
        Arc::new(AuditLog::open(&dir.0.join("audit.sqlite"), &dir.0.join("audit.secret")).unwrap());
    let client = client.with_audit(Arc::clone(&audit));
    let found = cf_with(&sandbox, AnprCase::Resident);
    let missing = cf_with(&sandbox, AnprCase::NotFound);
    client
        .cerca(&by_cf(found, Servizio::Generalita))
        .await
        .unwrap();
    client
        .cerca(&by_cf(missing, Servizio::Generalita))
        .await
        .unwrap();
    let rows = audit.rows(None, None).unwrap();
    let seen: Vec<(&str, &str, &str)> = rows
        .iter()
        .map(|r| {
            (
                r.eservice.as_str(),
                r.operation.as_str(),
                r.outcome.as_str(),
            )
        })
        .collect();
    assert_eq!(
        seen,
        [
            (C030, "C030", "found"),
            (C015, "C015", "found"),
            (C030, "C030", "not_found"),
        ]
    );
    assert!(rows.iter().all(|r| r.operator == "operatore-sandbox"));
    assert_eq!(
        rows[0].subject.as_deref(),
        Some(audit.subject_hash(found.as_str()).as_str())
    );
    assert_eq!(audit.verify().unwrap(), 3);
    sandbox.shutdown().await;
}

#[test]
fn operation_ids_persist_and_strictly_increase_across_clients_and_threads() {
    let dir = Dir::new("ids");
    let a = OperationIds::open(&dir.ids()).unwrap();
    let first: u64 = a.next(5_000).unwrap().as_str().parse().unwrap();
    assert_eq!(first, 5_000);
    // Same millisecond, then a clock set back: still increasing.
    assert_eq!(a.next(5_000).unwrap().as_str(), "5001");
    assert_eq!(a.next(10).unwrap().as_str(), "5002");
    drop(a);
    // A second client (another run) continues from the file.
    let b = OperationIds::open(&dir.ids()).unwrap();
    assert_eq!(b.last().unwrap(), 5002);
    assert_eq!(b.next(0).unwrap().as_str(), "5003");
    // Two "processes" (separate connections) drawing at once never share an id.
    let path = dir.ids();
    let handles: Vec<_> = (0..4)
        .map(|_| {
            let path = path.clone();
            std::thread::spawn(move || {
                let ids = OperationIds::open(&path).unwrap();
                (0..25)
                    .map(|_| ids.next(0).unwrap().as_str().parse::<u64>().unwrap())
                    .collect::<Vec<_>>()
            })
        })
        .collect();
    let mut all = BTreeSet::new();
    for h in handles {
        let mine = h.join().unwrap();
        assert!(mine.windows(2).all(|w| w[0] < w[1]));
        all.extend(mine);
    }
    assert_eq!(all.len(), 100);
    assert!(all.iter().all(|n| *n > 5003));
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(dir.ids()).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }
}

// ---- Wire shape -----------------------------------------------------------

/// Every property name of the E002 schemas (public OpenAPI files of C021 /
/// C030 / C001: RichiestaE002, TipoCriteriRicercaE002, TipoDatiNascitaE000,
/// TipoDatiRichiestaE002, RispostaE002OK, RispostaKO, TipoErroriAnomalia,
/// TipoListaSoggetti, TipoDatiSoggettiEnte, TipoGeneralita,
/// TipoCodiceFiscale, TipoLuogoEvento, TipoComune, TipoLocalita,
/// TipoIdentificativi, TipoInfoSoggettoEnte, TipoLegameSoggettoCompleto,
/// TipoDatiEvento, TipoResidenza and its address blocks).
const REQUEST_FIELDS: &[&str] = &[
    "idOperazioneClient",
    "criteriRicerca",
    "datiRichiesta",
    "codiceFiscale",
    "idANPR",
    "cognome",
    "senzaCognome",
    "nome",
    "senzaNome",
    "sesso",
    "datiNascita",
    "dataEvento",
    "senzaGiorno",
    "senzaGiornoMese",
    "luogoNascita",
    "dataRiferimentoRichiesta",
    "motivoRichiesta",
    "casoUso",
];
const REQUEST_REQUIRED: &[&str] = &[
    "idOperazioneClient",
    "criteriRicerca",
    "datiRichiesta",
    "dataRiferimentoRichiesta",
    "motivoRichiesta",
    "casoUso",
];
const RESPONSE_FIELDS: &[&str] = &[
    // RispostaE002OK / RispostaKO / TipoErroriAnomalia
    "idOperazioneANPR",
    "listaSoggetti",
    "listaAnomalie",
    "listaErrori",
    "codiceErroreAnomalia",
    "tipoErroreAnomalia",
    "testoErroreAnomalia",
    "oggettoErroreAnomalia",
    "campoErroreAnomalia",
    "valoreErroreAnomalia",
    // TipoListaSoggetti / TipoDatiSoggettiEnte
    "datiSoggetto",
    "generalita",
    "identificativi",
    "datiDecesso",
    "legameSoggetto",
    "infoSoggettoEnte",
    "residenza",
    // TipoGeneralita / TipoCodiceFiscale
    "codiceFiscale",
    "codFiscale",
    "validitaCF",
    "dataAttribuzioneValidita",
    "cognome",
    "senzaCognome",
    "nome",
    "senzaNome",
    "sesso",
    "dataNascita",
    "senzaGiorno",
    "senzaGiornoMese",
    "luogoNascita",
    "soggettoAIRE",
    "annoEspatrio",
    "idSchedaSoggettoComune",
    "idSchedaSoggettoANPR",
    "note",
    // TipoLuogoEvento / TipoComune / TipoLocalita
    "luogoEccezionale",
    "comune",
    "localita",
    "nomeComune",
    "codiceIstat",
    "siglaProvinciaIstat",
    "descrizioneLocalita",
    "descrizioneStato",
    "codiceStato",
    "provinciaContea",
    // TipoIdentificativi
    "idANPR",
    // TipoDatiEvento
    "dataEvento",
    "luogoEvento",
    // TipoLegameSoggettoCompleto
    "tipoLegame",
    "dataDecorrenza",
    "codiceLegame",
    "progressivoComponente",
    "dataDecorrenzaLegame",
    // TipoInfoSoggettoEnte
    "id",
    "chiave",
    "valore",
    "valoreTesto",
    "valoreData",
    "dettaglio",
    // TipoResidenza
    "tipoIndirizzo",
    "noteIndirizzo",
    "indirizzo",
    "cap",
    "frazione",
    "toponimo",
    "codSpecie",
    "specie",
    "specieFonte",
    "codToponimo",
    "denominazioneToponimo",
    "toponimoFonte",
    "numeroCivico",
    "codiceCivico",
    "civicoFonte",
    "numero",
    "metrico",
    "progSNC",
    "lettera",
    "esponente1",
    "colore",
    "civicoInterno",
    "localitaEstera",
    "presso",
    "dataDecorrenzaResidenza",
];

fn names(v: &Value, out: &mut BTreeSet<String>) {
    match v {
        Value::Object(m) => {
            for (k, v) in m {
                out.insert(k.clone());
                names(v, out);
            }
        }
        Value::Array(a) => a.iter().for_each(|v| names(v, out)),
        _ => {}
    }
}

/// `(status, body)` of an E002 answer, ANPR's own errors included.
async fn post(session: &anist_client::session::Session, name: &str, body: &[u8]) -> (u16, Vec<u8>) {
    use anist_client::call::CallError;
    match session.post_json(name, codec::PATH, body).await {
        Ok(r) => (r.status(), r.body().to_vec()),
        Err(CallError::Refused { problem } | CallError::Server { problem }) => (
            problem.status,
            problem.service_body.expect("an ANPR RispostaKO").0,
        ),
        Err(e) => panic!("{e:?}"),
    }
}

fn only_known(v: &Value, known: &[&str]) {
    let mut seen = BTreeSet::new();
    names(v, &mut seen);
    for n in &seen {
        assert!(
            known.contains(&n.as_str()),
            "`{n}` is not in the schema: {v}"
        );
    }
}

#[tokio::test]
async fn wire_shape_matches_the_openapi_field_lists() {
    let dir = Dir::new("wire");
    let (sandbox, _client) = start(&dir).await;
    let session = sandbox.session().unwrap();
    let ids = OperationIds::open(&dir.ids()).unwrap();
    let day = date().unwrap();
    let mut bodies = Vec::new();
    for case in [
        AnprCase::Resident,
        AnprCase::NotFound,
        AnprCase::Deceased,
        AnprCase::Omocodia,
    ] {
        let cf = cf_with(&sandbox, case);
        // The request the client sends.
        let req = codec::c030::request(
            ids.next(0).unwrap(),
            CriteriRicerca::codice_fiscale(cf.as_str()),
            day,
            "prot. 1",
        )
        .unwrap();
        let sent: Value = serde_json::from_slice(&codec::encode(&req)).unwrap();
        only_known(&sent, REQUEST_FIELDS);
        for r in REQUEST_REQUIRED {
            let mut seen = BTreeSet::new();
            names(&sent, &mut seen);
            assert!(seen.contains(*r), "required `{r}` missing");
        }
        assert!(sent["idOperazioneClient"]
            .as_str()
            .unwrap()
            .bytes()
            .all(|b| b.is_ascii_digit()));
        bodies.push(post(&session, C030, &codec::encode(&req)).await);
        // Then every other service by each ID ANPR.
        for id in sandbox.anpr_ids(&cf) {
            for (name, caso) in [
                (C015, codec::c015::request as fn(_, _, _, _) -> _),
                (anist_client::anpr::C020, codec::c020::request),
                (anist_client::anpr::C021, codec::c021::request),
            ] {
                let req = caso(
                    ids.next(0).unwrap(),
                    CriteriRicerca::id_anpr(id.as_str()),
                    day,
                    "prot. 1",
                )
                .unwrap();
                let sent: Value = serde_json::from_slice(&codec::encode(&req)).unwrap();
                only_known(&sent, REQUEST_FIELDS);
                bodies.push(post(&session, name, &codec::encode(&req)).await);
            }
        }
    }
    let mut statuses = BTreeSet::new();
    for (status, body) in &bodies {
        statuses.insert(*status);
        let v: Value = serde_json::from_slice(body).unwrap();
        only_known(&v, RESPONSE_FIELDS);
        if *status == 200 {
            assert!(v.get("idOperazioneANPR").is_some() && v.get("listaSoggetti").is_some());
        } else {
            assert!(v.get("listaErrori").is_some());
        }
    }
    assert_eq!(statuses, BTreeSet::from([200, 404]));

    // A reused idOperazioneClient gets the earlier answer.
    let cf = cf_with(&sandbox, AnprCase::Resident);
    let id = IdOperazioneClient::parse(&ids.next(0).unwrap().to_string()).unwrap();
    let req = codec::c030::request(
        id,
        CriteriRicerca::codice_fiscale(cf.as_str()),
        day,
        "prot. 2",
    )
    .unwrap();
    let a = post(&session, C030, &codec::encode(&req)).await;
    let b = post(&session, C030, &codec::encode(&req)).await;
    assert_eq!(a, b);
    sandbox.shutdown().await;
}
