//! The real `IseeClient` against the real sandbox INPS backend (issue #6):
//! every service and the legacy v1 endpoint find the expected synthetic
//! record; the mTLS services go over the TLS port and fail at the
//! handshake without the client certificate; DATI_NON_TROVATI,
//! RISCONTRO_NON_VALIDO, RICHIESTA_INVALIDA; retries on DATABASE_OFFLINE
//! and ERRORE_INTERNO; eligibility refused locally; the daily quota; a
//! gateway fault; the resumable batch over the real client. Synthetic
//! codes only, 127.0.0.1 only.
#![cfg(feature = "sandbox")]
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;
use std::time::Duration;

use anist_client::bulk::isee::{IseeBatch, IseeBatchSpec, COLUMNS};
use anist_client::bulk::{Counts, JobOutcome};
use anist_client::call::{CallError, Caller};
use anist_client::clock::{Clock, SystemClock};
use anist_client::env::Environment;
use anist_client::isee::{
    session_name, IseeAnswer, IseeClient, IseeEnte, IseeError, IseeLookup, IseeQuery, NoCarrier,
    LEGACY_V1,
};
use anist_client::keys::{PrivateKey, RsaBits};
use anist_client::modi::ModiSigner;
use anist_client::sandbox::inps::{
    eservice_of, InpsBackend, IseeExpected, IseePopulation, CALLING_COMUNE, INPS_ESERVICES,
    SANDBOX_INPS_USER_ID,
};
use anist_client::sandbox::registry::{Client, Registry, Tenant, DEFAULT_CLIENT, DEFAULT_CONSUMER};
use anist_client::sandbox::{Fault, Route, Sandbox, SandboxConfig, SandboxHandle};
use anist_client::session::Session;
use anist_client::transport::Backoff;
use anist_client::voucher::cache::VoucherCache;
use anist_client::voucher::http::{HttpOptions, HttpTokenFetcher};
use anist_core::cf::AnyCodiceFiscale;
use anist_core::dsu::DsuProtocol;
use anist_core::isee::{Esito, Indicatore, IpaCategory, IseeKind, IseeService, ServiceFamily};
use anist_core::ErrorCode;
use chrono::NaiveDate;

const SEED: u64 = 4242;

fn date() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 6, 15).unwrap()
}

/// Tiny waits between the client's retries.
fn fast_retry(attempts: u32) -> Backoff {
    Backoff {
        max_attempts: attempts,
        base: Duration::from_millis(2),
        cap: Duration::from_millis(10),
        seed: Some(7),
        ..Backoff::inps_outage()
    }
}

async fn start() -> SandboxHandle {
    Sandbox::start(SandboxConfig::with_default_client(SEED).unwrap())
        .await
        .unwrap()
}

/// A code of the population's sample whose expectation satisfies `pred`.
fn pick(pop: &IseePopulation, pred: impl Fn(&IseeExpected) -> bool) -> AnyCodiceFiscale {
    pop.sample(500)
        .into_iter()
        .map(AnyCodiceFiscale::Persona)
        .find(|cf| pred(&pop.expected(cf, date())))
        .expect("a code for the outcome")
}

fn resident(e: &IseeExpected) -> bool {
    e.household().is_some_and(|h| h.resides_in(CALLING_COMUNE))
}

fn eservice_id(service: IseeService) -> &'static str {
    eservice_of(InpsBackend::Service(service)).unwrap().eservice
}

fn strip(mut ind: Indicatore) -> Indicatore {
    assert!(ind.ricerca.take().is_some(), "the request is echoed");
    assert!(!ind.raw_xml.is_empty());
    ind.raw_xml.clear();
    ind
}

#[tokio::test]
async fn every_service_finds_the_expected_record() {
    let handle = start().await;
    let client = handle.isee_client().unwrap();
    let pop = handle.isee_population().clone();
    let cf = pick(&pop, resident);
    let household = pop.expected(&cf, date()).household().unwrap().clone();
    let expected_att = household.attestazione.clone();
    let expected_ind = household.indicatore(&cf, &IseeKind::Ordinario).unwrap();
    let tls = handle.tls_base_url().unwrap().to_string();

    for service in IseeService::ALL {
        // The mTLS services are configured on the TLS port, the others not.
        let url = client
            .session()
            .lookup(session_name(service))
            .unwrap()
            .profile()
            .url()
            .to_string();
        let mtls = handle.inps_requires_mtls(eservice_id(service));
        assert_eq!(mtls, anist_client::isee::mtls_by_default(service));
        assert_eq!(url.starts_with(&tls), mtls, "{service:?}: {url}");
        assert_eq!(url.starts_with(handle.base_url()), !mtls);

        let query = if service.family() == ServiceFamily::Riscontro {
            IseeQuery::by_dsu(household.attestazione.protocollo_dsu, cf)
        } else {
            IseeQuery::by_cf(cf).valid_on(date())
        };
        let before = handle.front_requests();
        if service.returns_attestazione() {
            let answer = client.attestazione(service, &query).await.unwrap();
            let IseeAnswer::Found {
                record,
                id_richiesta,
            } = answer
            else {
                panic!("{service:?}: {answer:?}");
            };
            assert!(id_richiesta.is_some_and(|id| !id.is_empty()));
            assert_eq!(record.isee(), expected_att.isee(), "{service:?}");
            assert_eq!(record.protocollo_dsu, expected_att.protocollo_dsu);
            assert_eq!(record.household.len(), expected_att.household.len());
            assert_eq!(
                record.ricerca.as_ref().unwrap().codice_fiscale.as_ref(),
                Some(&cf)
            );
            let mut record = record;
            record.ricerca = None;
            record.raw_xml.clear();
            assert_eq!(record, expected_att, "{service:?}");
        } else {
            let answer = client.indicatore(service, &query).await.unwrap();
            let IseeAnswer::Found { record, .. } = answer else {
                panic!("{service:?}: {answer:?}");
            };
            let record = strip(record);
            assert_eq!(record.isee(), expected_ind.isee(), "{service:?}");
            assert_eq!(record.kind, expected_ind.kind);
            assert_eq!(record.protocollo_dsu, Some(expected_att.protocollo_dsu));
            let mut expected = expected_ind.clone();
            if service == IseeService::IndicatoreNucleoRiscontro {
                assert_eq!(record.household.len(), expected_att.household.len());
                expected.household = expected_att.household.clone();
            } else {
                assert!(record.household.is_empty());
            }
            assert_eq!(record, expected, "{service:?}");
        }
        assert_eq!(handle.front_requests(), before + 1, "{service:?}: one call");
    }

    // The legacy v1 endpoint, both operations, on its own URL (mTLS).
    let legacy = client.clone().legacy_v1(true);
    let v1_url = legacy
        .session()
        .lookup(LEGACY_V1)
        .unwrap()
        .profile()
        .url()
        .to_string();
    assert!(v1_url.starts_with(&tls), "{v1_url}");
    assert!(v1_url.ends_with("/v1"), "{v1_url}");
    let query = IseeQuery::by_cf(cf).valid_on(date());
    let ind = legacy
        .indicatore(IseeService::Indicatore, &query)
        .await
        .unwrap();
    assert_eq!(strip(ind.record().unwrap().clone()), expected_ind);
    let att = legacy
        .attestazione(IseeService::Attestazione, &query)
        .await
        .unwrap();
    assert_eq!(att.record().unwrap().isee(), expected_att.isee());
    assert_eq!(
        att.record().unwrap().household.len(),
        expected_att.household.len()
    );
    handle.shutdown().await;
}

/// A session like the sandbox's, but whose mTLS services have no client
/// certificate (the sandbox CA is trusted).
fn session_without_identity(handle: &SandboxHandle, key: Arc<PrivateKey>) -> Session {
    let clock: Arc<dyn Clock> = Arc::new(SystemClock);
    let fetcher = HttpTokenFetcher::new(
        handle.endpoints().clone(),
        Arc::clone(&key),
        Arc::clone(&clock),
    )
    .unwrap();
    let cache = Arc::new(VoucherCache::new(fetcher, Arc::clone(&clock)));
    let client = handle.client_id().unwrap();
    let options = HttpOptions::default()
        .timeout(Duration::from_secs(10))
        .ca_bundle_pem(handle.ca_pem().unwrap().as_bytes().to_vec())
        .ca_bundle_only(true);
    let caller = Caller::with_options(
        cache,
        ModiSigner::new(client.clone(), Arc::clone(&key)),
        clock,
        &options,
    )
    .unwrap();
    let mut session = Session::new(caller, Environment::Sandbox, client, key.kid().clone());
    for (name, service) in handle.services() {
        session = session.service(&name, service);
    }
    session
}

#[tokio::test]
async fn the_mtls_services_refuse_a_client_without_certificate() {
    let key = Arc::new(PrivateKey::generate(RsaBits::Rsa2048).unwrap());
    let handle = Sandbox::start(SandboxConfig::with_client_key(SEED, Arc::clone(&key)).unwrap())
        .await
        .unwrap();
    let pop = handle.isee_population().clone();
    let cf = pick(&pop, resident);
    let query = IseeQuery::by_cf(cf).valid_on(date());
    let bare = IseeClient::new(
        Arc::new(session_without_identity(&handle, key)),
        IseeEnte::new(IpaCategory::ComuneCapoluogo, SANDBOX_INPS_USER_ID),
    )
    .retry_policy(Backoff::never());
    let before = handle.front_requests();
    let err = bare
        .indicatore(IseeService::Indicatore, &query)
        .await
        .unwrap_err();
    assert!(
        matches!(err, IseeError::Call(CallError::Network { .. })),
        "handshake refused: {err:?}"
    );
    assert_eq!(err.code(), "gateway_network");
    assert_eq!(handle.front_requests(), before, "nothing reached the front");
    // The Residenti services need no certificate: the same session works.
    let ok = bare
        .indicatore(IseeService::IndicatoreResidenti, &query)
        .await
        .unwrap();
    assert!(ok.record().is_some());
    // And the sandbox's own client (with the certificate) gets through.
    let full = handle.isee_client().unwrap();
    assert!(full
        .indicatore(IseeService::Indicatore, &query)
        .await
        .unwrap()
        .record()
        .is_some());
    handle.shutdown().await;
}

#[tokio::test]
async fn answers_other_than_ok() {
    let handle = start().await;
    let client = handle.isee_client().unwrap().retry_policy(fast_retry(3));
    let pop = handle.isee_population().clone();

    // DATI_NON_TROVATI: no ISEE at all, on a Residenti and a plain service.
    let none = pick(&pop, |e| matches!(e, IseeExpected::NotFound));
    let q = IseeQuery::by_cf(none).valid_on(date());
    for service in [IseeService::IndicatoreResidenti, IseeService::Indicatore] {
        let a = client.indicatore(service, &q).await.unwrap();
        assert!(matches!(a, IseeAnswer::NoIsee { .. }), "{service:?}: {a:?}");
    }
    // A household residing elsewhere: not revealed to Residenti, found by
    // the plain Attestazione.
    let elsewhere = pick(&pop, |e| e.household().is_some() && !resident(e));
    let q = IseeQuery::by_cf(elsewhere).valid_on(date());
    let a = client
        .attestazione(IseeService::AttestazioneResidenti, &q)
        .await
        .unwrap();
    assert!(matches!(a, IseeAnswer::NoIsee { .. }), "{a:?}");
    let a = client
        .attestazione(IseeService::Attestazione, &q)
        .await
        .unwrap();
    assert_eq!(
        a.record().unwrap().protocollo_dsu,
        pop.expected(&elsewhere, date())
            .household()
            .unwrap()
            .attestazione
            .protocollo_dsu
    );

    // RISCONTRO_NON_VALIDO: a DSU protocol that is not the person's.
    let found = pick(&pop, resident);
    let own = pop
        .expected(&found, date())
        .household()
        .unwrap()
        .attestazione
        .protocollo_dsu;
    let other = DsuProtocol::parse("INPS-ISEE-2026-00000001A-00").unwrap();
    assert_ne!(own, other);
    let err = client
        .indicatore(
            IseeService::IndicatoreRiscontro,
            &IseeQuery::by_dsu(other, found),
        )
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            IseeError::Refused {
                esito: Esito::RiscontroNonValido,
                ..
            }
        ),
        "{err:?}"
    );
    assert_eq!(err.code(), "isee_riscontro_non_valido");
    assert!(!err.is_retryable());

    // RICHIESTA_INVALIDA: the Operatori service without the operator's
    // assertion (an operator with none, or a carrier that sends nothing).
    let q = IseeQuery::by_cf(found).valid_on(date());
    let mut operator = handle.isee_operator();
    operator.assertion = None;
    let no_assertion = client.clone().operator(operator);
    let no_carrier = client.clone().assertion_carrier(NoCarrier);
    for c in [no_assertion, no_carrier] {
        let err = c
            .indicatore(IseeService::IndicatoreOperatori, &q)
            .await
            .unwrap_err();
        match &err {
            IseeError::Refused {
                esito: Esito::RichiestaInvalida,
                description,
                ..
            } => assert!(
                description
                    .as_deref()
                    .is_some_and(|d| d.contains("INPS-Identity-Assertion")),
                "{description:?}"
            ),
            other => panic!("{other:?}"),
        }
        assert_eq!(err.code(), "isee_richiesta_invalida");
    }
    // ... while the sandbox's operator gets the record.
    assert!(client
        .indicatore(IseeService::IndicatoreOperatori, &q)
        .await
        .unwrap()
        .record()
        .is_some());
    handle.shutdown().await;
}

#[tokio::test]
async fn retries_and_outages() {
    let handle = start().await;
    let pop = handle.isee_population().clone();
    let found = pick(&pop, resident);
    let expected = pop
        .expected(&found, date())
        .household()
        .unwrap()
        .attestazione
        .isee();
    let q = IseeQuery::by_cf(found).valid_on(date());
    let client = handle.isee_client().unwrap().retry_policy(fast_retry(3));

    // DATABASE_OFFLINE twice, then the answer: found on the third attempt.
    handle.inject_inps_esito(Esito::DatabaseOffline, 2);
    let before = handle.front_requests();
    let a = client
        .indicatore(IseeService::IndicatoreResidenti, &q)
        .await
        .unwrap();
    assert_eq!(Some(a.record().unwrap().isee()), expected);
    assert_eq!(handle.front_requests(), before + 3);

    // ERRORE_INTERNO that does not go away: Unavailable after 3 attempts.
    handle.inject_inps_esito(Esito::ErroreInterno, 10);
    let before = handle.front_requests();
    let err = client
        .indicatore(IseeService::IndicatoreResidenti, &q)
        .await
        .unwrap_err();
    match &err {
        IseeError::Unavailable {
            esito: Esito::ErroreInterno,
            attempts: 3,
            ..
        } => {}
        other => panic!("{other:?}"),
    }
    assert_eq!(err.code(), "isee_errore_interno");
    assert!(err.is_retryable());
    assert_eq!(handle.front_requests(), before + 3);
    handle.inject_inps_esito(Esito::Ok, 0);

    // Eligibility: a Comune (not capoluogo) may not use the plain
    // Indicatore; refused locally, nothing sent.
    let comune = IseeClient::new(
        Arc::clone(client.session()),
        IseeEnte::new(IpaCategory::Comune, SANDBOX_INPS_USER_ID),
    );
    let before = handle.front_requests();
    let err = comune
        .indicatore(IseeService::Indicatore, &q)
        .await
        .unwrap_err();
    assert!(matches!(err, IseeError::NotEligible(_)), "{err:?}");
    assert_eq!(handle.front_requests(), before, "nothing sent");
    // The same Comune may use the Residenti service.
    assert!(comune
        .indicatore(IseeService::IndicatoreResidenti, &q)
        .await
        .unwrap()
        .record()
        .is_some());

    // A gateway fault (503 APIUnavailable) reaches the caller typed, with
    // GovWay's transaction id.
    let front = handle
        .registry()
        .eservice(eservice_id(IseeService::IndicatoreResidenti))
        .unwrap()
        .descriptor()
        .front_profile()
        .unwrap()
        .path();
    handle.inject_at(Route::Front(front), Fault::Status(503));
    let err = client
        .indicatore(IseeService::IndicatoreResidenti, &q)
        .await
        .unwrap_err();
    match &err {
        IseeError::Call(e @ CallError::Server { problem }) => {
            assert_eq!(problem.status, 503);
            assert_eq!(e.title(), Some("APIUnavailable"));
            assert!(e.govway_id().is_some_and(|id| !id.is_empty()), "{e:?}");
        }
        other => panic!("{other:?}"),
    }
    assert!(err.is_retryable());
    // The fault was one-shot.
    assert!(client
        .indicatore(IseeService::IndicatoreResidenti, &q)
        .await
        .is_ok());
    handle.shutdown().await;
}

#[tokio::test]
async fn the_daily_quota_is_reported_as_such() {
    let key = Arc::new(PrivateKey::generate(RsaBits::Rsa2048).unwrap());
    let mut client = Client::new(DEFAULT_CLIENT, DEFAULT_CONSUMER).key(key.public_key().clone());
    for s in INPS_ESERVICES {
        client = client.purpose(s.purpose);
    }
    let builder =
        Registry::builder().tenant(Tenant::new(DEFAULT_CONSUMER, "Comune di Roma (sandbox)"));
    let registry = anist_client::sandbox::inps::register_with_limits(builder, 2, 0)
        .client(client)
        .build()
        .unwrap();
    let handle = Sandbox::start(SandboxConfig::with_client_registry(SEED, key, registry))
        .await
        .unwrap();
    let isee = handle.isee_client().unwrap().retry_policy(fast_retry(3));
    let pop = handle.isee_population().clone();
    let q = IseeQuery::by_cf(pick(&pop, resident)).valid_on(date());
    let service = IseeService::AttestazioneResidenti;
    for _ in 0..2 {
        assert!(isee
            .attestazione(service, &q)
            .await
            .unwrap()
            .record()
            .is_some());
    }
    let err = isee.attestazione(service, &q).await.unwrap_err();
    assert!(err.is_quota_exceeded(), "{err:?}");
    assert!(!err.is_retryable());
    // The quota is per e-service: another one still answers.
    assert!(isee
        .indicatore(IseeService::IndicatoreResidenti, &q)
        .await
        .is_ok());
    handle.shutdown().await;
}

fn tempdir(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!(
        "anist-isee-e2e-{name}-{}-{}",
        std::process::id(),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos()
    ));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

#[tokio::test]
async fn the_batch_over_the_real_client() {
    let handle = start().await;
    let client = handle.isee_client().unwrap().retry_policy(fast_retry(3));
    let pop = handle.isee_population().clone();
    let codes: Vec<AnyCodiceFiscale> = pop
        .sample(30)
        .into_iter()
        .map(AnyCodiceFiscale::Persona)
        .collect();
    // The sample mixes found, no ISEE and households residing elsewhere.
    let expectations: Vec<IseeExpected> = codes.iter().map(|c| pop.expected(c, date())).collect();
    assert!(expectations.iter().any(resident));
    assert!(expectations
        .iter()
        .any(|e| e.household().is_some() && !resident(e)));

    let dir = tempdir("batch");
    let mut csv = String::from("Cognome;Codice fiscale\r\n");
    for (i, c) in codes.iter().enumerate() {
        csv.push_str(&format!("N{i};{}\r\n", c.as_str()));
    }
    std::fs::write(dir.join("domande.csv"), csv).unwrap();
    let mut spec = IseeBatchSpec::new(
        dir.join("domande.csv"),
        dir.join("esiti.csv"),
        dir.join("domande.journal"),
        IseeService::IndicatoreResidenti,
        date(),
    );
    spec.options.concurrency = 4;
    spec.options.backoff_base = Duration::from_millis(1);
    spec.options.backoff_cap = Duration::from_millis(5);
    let before = handle.front_requests();
    let summary = match IseeBatch::new(spec)
        .run(&client, None, |_| {})
        .await
        .unwrap()
    {
        JobOutcome::Completed(s) => s,
        JobOutcome::Paused { reason, .. } => panic!("paused: {reason}"),
    };
    assert_eq!(summary.rows_total, 30);
    assert_eq!(summary.outcomes.total(), 30);
    assert_eq!(handle.front_requests(), before + 30);

    let text = std::fs::read_to_string(dir.join("esiti.csv")).unwrap();
    let text = text.strip_prefix('\u{feff}').expect("Excel BOM");
    let mut reader = anist_core::csvio::CsvReader::new(text.as_bytes()).unwrap();
    assert_eq!(reader.headers().names(), COLUMNS);
    let rows: Vec<Vec<String>> = reader.rows().map(|r| r.unwrap().to_vec()).collect();
    assert_eq!(rows.len(), 30);
    let (mut found, mut no_isee) = (0, 0);
    for (i, (c, e)) in codes.iter().zip(&expectations).enumerate() {
        let r = &rows[i];
        assert_eq!(r[1], c.as_str());
        assert_eq!(r[14], "indicatore_residenti");
        if resident(e) {
            found += 1;
            let ind = e
                .household()
                .unwrap()
                .indicatore(c, &IseeKind::Ordinario)
                .unwrap();
            assert_eq!(r[15], "found", "row {i}: {r:?}");
            assert_eq!(r[2], "ISEE trovata", "row {i}: {r:?}");
            assert_eq!(r[4], ind.isee().machine().to_string().replace('.', ","));
            assert_eq!(r[6], ind.protocollo_dsu.unwrap().to_string());
            assert!(!r[13].is_empty(), "id_richiesta");
        } else {
            no_isee += 1;
            assert_eq!(r[15], "no_isee", "row {i}: {r:?}");
            assert_eq!(r[4], "");
        }
    }
    assert_eq!(summary.outcomes.found, found);
    assert_eq!(summary.outcomes.no_isee, no_isee);
    std::fs::remove_dir_all(&dir).ok();
    handle.shutdown().await;
}

#[tokio::test]
async fn every_lookup_is_recorded_in_the_client_s_audit_trail() {
    let handle = start().await;
    let pop = handle.isee_population().clone();
    let dir = std::env::temp_dir().join(format!("anist-isee-trail-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let db = dir.join("a.sqlite");
    let _ = std::fs::remove_file(&db);
    let trail = Arc::new(anist_client::audit::AuditLog::open_beside(&db).unwrap());
    let plain = handle.isee_client().unwrap();
    let client = plain.clone().with_audit(Arc::clone(&trail));
    let with = pick(&pop, resident);
    let without = pick(&pop, |e| matches!(e, IseeExpected::NotFound));

    let residenti = IseeService::IndicatoreResidenti;
    let q = IseeQuery::by_cf(with).valid_on(date());
    assert!(matches!(
        client.indicatore(residenti, &q).await,
        Ok(IseeAnswer::Found { .. })
    ));
    let att = client
        .attestazione(IseeService::AttestazioneResidenti, &q)
        .await;
    assert!(matches!(att, Ok(IseeAnswer::Found { .. })));
    let none = IseeQuery::by_cf(without).valid_on(date());
    assert!(matches!(
        client.indicatore(residenti, &none).await,
        Ok(IseeAnswer::NoIsee { .. })
    ));
    // Refused before sending: recorded too, with its code.
    let e = client
        .indicatore(IseeService::IndicatoreRiscontro, &q)
        .await
        .unwrap_err();
    assert_eq!(e.code(), "isee_invalid_request");
    // The client without a trail (a batch's) records nothing.
    plain.indicatore(residenti, &q).await.unwrap();

    let rows = trail.rows(None, None).unwrap();
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
            ("isee-indicatore-residenti", "indicatore", "found"),
            ("isee-attestazione-residenti", "attestazione", "found"),
            ("isee-indicatore-residenti", "indicatore", "no_isee"),
            (
                "isee-indicatore-riscontro",
                "indicatore",
                "isee_invalid_request"
            ),
        ]
    );
    let hash = trail.subject_hash(with.as_str());
    assert_eq!(rows[0].subject.as_deref(), Some(hash.as_str()));
    assert_eq!(
        rows[2].subject.as_deref(),
        Some(trail.subject_hash(without.as_str()).as_str())
    );
    // INPS's IdRichiesta is the correlation id of an answered lookup.
    assert!(rows[0].correlation_id.is_some());
    assert_eq!(trail.verify().unwrap(), 4);
    handle.shutdown().await;
    let _ = std::fs::remove_dir_all(&dir);
}
