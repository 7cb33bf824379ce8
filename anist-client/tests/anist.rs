//! The ANIST client ([`anist_client::anist::AnistClient`]) against the
//! sandbox's ANIST e-services, through the GovWay-like front (voucher,
//! INTEGRITY_REST_02, AUDIT_REST_02): every answer is compared with
//! [`Population::expected`], "no data" is `NotFound` (404 and the legacy
//! 500), "not attending" is `Found`, gateway errors stay errors, and the
//! massive services go submit → poll → fetch with rows in order.
//!
//! Everything talks to 127.0.0.1 only; every sandbox stops with its test.
#![cfg(feature = "sandbox")]
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;
use common::client_key;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anist_client::anist::{
    AnistClient, AnistError, Answer, AttendanceService, JobId, JobStatus, Query, Subject,
    YearSelector, ACCERTAMENTO, VERIFICA, VERIFICA_MASSIVA,
};
use anist_client::sandbox::anist::{Expected, Population, ANIST_EROGATORE};
use anist_client::sandbox::{Fault, Route, Sandbox, SandboxConfig, SandboxHandle};
use anist_client::session::Session;
use anist_core::attendance::EsitoFrequenza;
use anist_core::cf::CodiceFiscale;
use anist_core::meccanografico::CodiceMeccanografico;
use anist_core::synthetic::SyntheticPeople;
use anist_core::ErrorCode;
use chrono::NaiveDate;

const SEED: u64 = 20_251_103;

async fn start_with(
    f: impl FnOnce(SandboxConfig) -> SandboxConfig,
) -> (SandboxHandle, AnistClient) {
    let config = f(SandboxConfig::with_client_key(SEED, client_key()).unwrap());
    let sandbox = Sandbox::start(config).await.unwrap();
    let client = AnistClient::new(Arc::new(sandbox.session().unwrap()));
    (sandbox, client)
}

async fn start() -> (SandboxHandle, AnistClient) {
    start_with(|c| c).await
}

fn current(p: &Population) -> anist_core::school::SchoolYear {
    p.current_year()
}

/// The first listed pupil whose current answer has `esito` (`None`: not in ANIST).
fn pupil_with(p: &Population, esito: Option<EsitoFrequenza>) -> CodiceFiscale {
    p.pupils()
        .iter()
        .map(|x| x.codice_fiscale)
        .find(|cf| p.expected(cf, current(p)).esito() == esito)
        .unwrap_or_else(|| panic!("no pupil with {esito:?} for seed {SEED}"))
}

fn verifica_of(e: &Expected) -> Answer<anist_core::attendance::Verifica> {
    e.verifica().map_or(Answer::NotFound, Answer::Found)
}

fn record_of(e: &Expected) -> Answer<anist_core::attendance::Frequenza> {
    e.record().cloned().map_or(Answer::NotFound, Answer::Found)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn verify_by_cf_and_id_anpr_with_school_and_year() {
    let (sandbox, anist) = start().await;
    let p = sandbox.population();
    let cf = pupil_with(p, Some(EsitoFrequenza::Frequentante));
    let expected = p.expected(&cf, current(p));
    let v = anist.verify(&Query::by_cf(cf)).await.unwrap();
    assert_eq!(v, verifica_of(&expected));
    assert!(
        matches!(&v, Answer::Found(x) if x.frequentante && x.esito_frequenza == Some(EsitoFrequenza::Frequentante))
    );

    // By ID ANPR: the same answer.
    let pupil = p.pupils().iter().find(|x| x.codice_fiscale == cf).unwrap();
    let by_id = Query {
        subject: Subject::IdAnpr(pupil.id_anpr),
        school: None,
        year: YearSelector::Current,
    };
    assert_eq!(anist.verify(&by_id).await.unwrap(), v);

    // At the pupil's plesso and at its istituto, with the explicit current year.
    let record = expected.record().unwrap();
    for code in [
        &record.codice_meccanografico,
        &record.codice_istituto_principale,
    ] {
        let school = CodiceMeccanografico::parse(code.as_deref().unwrap()).unwrap();
        let q = Query::by_cf(cf)
            .school(school)
            .year(YearSelector::Explicit(current(p)));
        assert_eq!(anist.verify(&q).await.unwrap(), v);
        let q = by_id.school(school);
        assert_eq!(anist.verify(&q).await.unwrap(), v);
    }
    // At another school of the population: not attending there.
    let other = p
        .schools()
        .iter()
        .map(|s| s.code)
        .find(|c| Some(c.as_str()) != record.codice_istituto_principale.as_deref())
        .unwrap();
    let there = anist.verify(&Query::by_cf(cf).school(other)).await.unwrap();
    assert!(matches!(there, Answer::Found(x) if !x.frequentante));
    // A school the service does not know is refused (an error, never "no").
    let unknown = CodiceMeccanografico::parse("ZZIC00000X").unwrap();
    let e = anist
        .verify(&Query::by_cf(cf).school(unknown))
        .await
        .unwrap_err();
    // ANIST's own reason reaches the caller, not a bare "400 Bad Request".
    assert_eq!(e.code(), "anist_request_rejected");
    assert!(
        e.to_string().contains("codiceMeccanografico non censito"),
        "{e}"
    );

    // The previous school year (from the client's clock).
    let prev = anist
        .verify(&Query::by_cf(cf).year(YearSelector::Previous))
        .await
        .unwrap();
    assert_eq!(prev, verifica_of(&p.expected(&cf, current(p).previous())));
    // Two years back: not in ANIST.
    let old = YearSelector::Explicit(current(p).previous().previous());
    assert_eq!(
        anist.verify(&Query::by_cf(cf).year(old)).await.unwrap(),
        Answer::NotFound
    );
    sandbox.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn previous_is_the_year_before_the_sandboxs_current_year() {
    // A sandbox started for a year far from the machine's date: "previous"
    // is the year before that year, not the year before today's.
    let year = anist_core::school::SchoolYear::starting(2019).unwrap();
    let (sandbox, anist) = start_with(|c| c.current_school_year(year)).await;
    let p = sandbox.population();
    assert_eq!(p.current_year(), year);
    let known_last_year = p
        .pupils()
        .iter()
        .map(|x| x.codice_fiscale)
        .find(|cf| p.expected(cf, year.previous()).record().is_some())
        .unwrap();
    let got = anist
        .ascertain(&Query::by_cf(known_last_year).year(YearSelector::Previous))
        .await
        .unwrap();
    assert_eq!(
        got,
        record_of(&p.expected(&known_last_year, year.previous()))
    );
    match got {
        Answer::Found(f) => assert_eq!(f.anno_scolastico, Some(year.previous())),
        Answer::NotFound => panic!("no record for the previous year"),
    }
    // The massive services too.
    let job = anist
        .submit_ascertain(&[Query::by_cf(known_last_year).year(YearSelector::Previous)])
        .await
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(10);
    while anist.poll(&job).await.unwrap() != JobStatus::Done {
        assert!(Instant::now() < deadline);
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let rows = anist.fetch_ascertain(&job).await.unwrap();
    assert_eq!(
        rows,
        vec![Ok(record_of(
            &p.expected(&known_last_year, year.previous())
        ))]
    );
    sandbox.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ascertain_matches_the_population() {
    let (sandbox, anist) = start().await;
    let p = sandbox.population();
    let cf = pupil_with(p, Some(EsitoFrequenza::Frequentante));
    let got = anist.ascertain(&Query::by_cf(cf)).await.unwrap();
    assert_eq!(got, record_of(&p.expected(&cf, current(p))));
    let Answer::Found(f) = &got else { panic!() };
    assert!(f.anno_corso.is_some() && f.istituto().is_some() && f.plesso().is_some());

    let prev = anist
        .ascertain(&Query::by_cf(cf).year(YearSelector::Previous))
        .await
        .unwrap();
    assert_eq!(prev, record_of(&p.expected(&cf, current(p).previous())));
    if let (Answer::Found(now), Answer::Found(before)) = (&got, &prev) {
        assert_ne!(now.anno_corso, before.anno_corso);
        assert_eq!(before.esito_frequenza, Some(EsitoFrequenza::Frequentante));
    }
    sandbox.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_esito_is_reachable_and_as_expected() {
    let (sandbox, anist) = start().await;
    let p = sandbox.population();
    for esito in [
        EsitoFrequenza::Frequentante,
        EsitoFrequenza::NonFrequentante,
        EsitoFrequenza::FrequentanteAltroAnnoCorso,
        EsitoFrequenza::NonPiuFrequentante,
    ] {
        let cf = pupil_with(p, Some(esito));
        let expected = p.expected(&cf, current(p));
        let v = anist.verify(&Query::by_cf(cf)).await.unwrap();
        assert_eq!(v, verifica_of(&expected), "{esito:?}");
        let Answer::Found(v) = v else { panic!() };
        assert_eq!(v.esito_frequenza, Some(esito));
        assert_eq!(v.frequentante, esito.is_attending());
        let f = anist.ascertain(&Query::by_cf(cf)).await.unwrap();
        assert_eq!(f, record_of(&expected), "{esito:?}");
    }
    // "Not attending" is an answer (Found with frequentante false), not NotFound.
    let cf = pupil_with(p, Some(EsitoFrequenza::NonFrequentante));
    assert!(matches!(
        anist.verify(&Query::by_cf(cf)).await.unwrap(),
        Answer::Found(v) if !v.frequentante
    ));
    assert!(matches!(
        anist.ascertain(&Query::by_cf(cf)).await.unwrap(),
        Answer::Found(f) if f.frequentante == Some(false)
    ));

    // Any valid code gets the population's answer, listed or not.
    let from = NaiveDate::from_ymd_opt(2008, 1, 1).unwrap();
    let to = NaiveDate::from_ymd_opt(2019, 12, 31).unwrap();
    let mut others = SyntheticPeople::new(999, from, to);
    for _ in 0..10 {
        let cf = others.next_person().codice_fiscale;
        let expected = p.expected(&cf, current(p));
        assert_eq!(
            anist.verify(&Query::by_cf(cf)).await.unwrap(),
            verifica_of(&expected)
        );
    }
    sandbox.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn not_found_is_an_answer_404_and_legacy_500() {
    let (sandbox, anist) = start().await;
    let p = sandbox.population();
    let unknown = pupil_with(p, None);
    assert_eq!(
        anist.verify(&Query::by_cf(unknown)).await.unwrap(),
        Answer::NotFound
    );
    assert_eq!(
        anist.ascertain(&Query::by_cf(unknown)).await.unwrap(),
        Answer::NotFound
    );
    // An ID ANPR ANPR does not know here.
    let q = Query {
        subject: Subject::IdAnpr(anist_core::anpr::IdAnpr::parse("ZZ00000ZZ").unwrap()),
        school: None,
        year: YearSelector::Current,
    };
    assert_eq!(anist.verify(&q).await.unwrap(), Answer::NotFound);
    let known = pupil_with(p, Some(EsitoFrequenza::Frequentante));
    sandbox.shutdown().await;

    let (sandbox, anist) = start_with(|c| c.legacy_not_found_500(true)).await;
    assert_eq!(
        anist.verify(&Query::by_cf(unknown)).await.unwrap(),
        Answer::NotFound
    );
    assert_eq!(
        anist.ascertain(&Query::by_cf(unknown)).await.unwrap(),
        Answer::NotFound
    );
    assert!(matches!(
        anist.verify(&Query::by_cf(known)).await.unwrap(),
        Answer::Found(v) if v.frequentante
    ));
    sandbox.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn gateway_errors_are_errors_never_not_found() {
    let (sandbox, anist) = start().await;
    let p = sandbox.population();
    let unknown = pupil_with(p, None);
    let attending = pupil_with(p, Some(EsitoFrequenza::Frequentante));
    let route = |service: &str| Route::Front(format!("{ANIST_EROGATORE}/{service}/v1"));

    for cf in [unknown, attending] {
        sandbox.inject_at(route("verificaFrequenze"), Fault::Status(503));
        let e = anist.verify(&Query::by_cf(cf)).await.unwrap_err();
        assert_eq!(e.code(), "gateway_server_error");
        assert!(e.is_retryable() && !e.is_quota_exceeded());
        sandbox.inject_at(route("accertamentoFrequenze"), Fault::Status(503));
        let e = anist.ascertain(&Query::by_cf(cf)).await.unwrap_err();
        assert_eq!(e.code(), "gateway_server_error");
        // A plain 500 from the gateway is not the legacy "no result" either.
        sandbox.inject_at(route("verificaFrequenze"), Fault::Status(500));
        let e = anist.verify(&Query::by_cf(cf)).await.unwrap_err();
        assert_eq!(e.code(), "gateway_server_error");
    }
    sandbox.inject_at(route("verificaFrequenze"), Fault::LimitExceeded);
    let e = anist.verify(&Query::by_cf(attending)).await.unwrap_err();
    assert!(e.is_quota_exceeded(), "{e:?}");
    assert!(!e.is_retryable());
    sandbox.inject_at(route("verificaMassivaFrequenze"), Fault::LimitExceeded);
    let e = anist
        .submit_verify(&[Query::by_cf(attending)])
        .await
        .unwrap_err();
    assert!(e.is_quota_exceeded(), "{e:?}");
    // The next call goes through.
    assert!(anist.verify(&Query::by_cf(attending)).await.is_ok());
    sandbox.shutdown().await;
}

/// Polls until done, counting the "processing" answers.
async fn wait(anist: &AnistClient, job: &JobId) -> usize {
    let deadline = Instant::now() + Duration::from_secs(20);
    let mut processing = 0;
    loop {
        match anist.poll(job).await.unwrap() {
            JobStatus::Done => return processing,
            JobStatus::Processing => processing += 1,
        }
        assert!(Instant::now() < deadline, "the job never finished");
        tokio::time::sleep(Duration::from_millis(40)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn massive_submit_poll_fetch_in_order() {
    let (sandbox, anist) =
        start_with(|c| c.massive_delay(Duration::from_millis(300), Duration::from_millis(1))).await;
    let p = sandbox.population();
    assert!(anist.has_massive());
    let unknown_school = CodiceMeccanografico::parse("ZZIC00000X").unwrap();
    let mut queries: Vec<Query> = [
        Some(EsitoFrequenza::NonPiuFrequentante),
        Some(EsitoFrequenza::Frequentante),
        None,
        Some(EsitoFrequenza::NonFrequentante),
        Some(EsitoFrequenza::FrequentanteAltroAnnoCorso),
    ]
    .into_iter()
    .map(|e| Query::by_cf(pupil_with(p, e)))
    .collect();
    // A row the service refuses (an unknown school), and rows by ID ANPR
    // and for the previous year.
    queries.push(Query::by_cf(p.pupils()[0].codice_fiscale).school(unknown_school));
    queries.push(Query {
        subject: Subject::IdAnpr(p.pupils()[1].id_anpr),
        school: None,
        year: YearSelector::Previous,
    });
    queries.extend(
        p.pupils()[2..40]
            .iter()
            .map(|x| Query::by_cf(x.codice_fiscale)),
    );

    let expected_for = |q: &Query| {
        let cf = match q.subject {
            Subject::CodiceFiscale(cf) => cf,
            Subject::IdAnpr(id) => p.resolve(&id).unwrap(),
        };
        let year = match q.year {
            YearSelector::Previous => current(p).previous(),
            _ => current(p),
        };
        p.expected(&cf, year)
    };

    let started = Instant::now();
    let job = anist.submit_verify(&queries).await.unwrap();
    assert_eq!(job.service(), Some(VERIFICA_MASSIVA));
    assert_eq!(job.rows(), Some(queries.len()));
    // A fresh client (e.g. after a restart) cannot fetch before it is done.
    let fresh = AnistClient::new(anist.session().clone());
    assert!(matches!(
        fresh.fetch_verify(&job).await.unwrap_err(),
        AnistError::JobNotReady
    ));
    // Wrong kind.
    assert_eq!(
        anist.fetch_ascertain(&job).await.unwrap_err().code(),
        "anist_invalid_job"
    );
    let processing = wait(&anist, &job).await;
    assert!(processing >= 1, "the job was never seen processing");
    assert!(started.elapsed() >= Duration::from_millis(300));
    let rows = anist.fetch_verify(&job).await.unwrap();
    assert_eq!(rows.len(), queries.len());
    for (i, (q, row)) in queries.iter().zip(&rows).enumerate() {
        if i == 5 {
            let e = row.as_ref().unwrap_err();
            assert_eq!(e.code(), "anist_row_failed");
            assert!(e.to_string().contains("codiceMeccanografico"), "{e}");
            continue;
        }
        assert_eq!(
            row.as_ref().unwrap(),
            &verifica_of(&expected_for(q)),
            "row {i}"
        );
    }
    assert_eq!(rows[2], Ok(Answer::NotFound));
    assert!(matches!(&rows[3], Ok(Answer::Found(v)) if !v.frequentante));
    // The result can be fetched again, also by a fresh client.
    assert_eq!(fresh.fetch_verify(&job).await.unwrap(), rows);
    // A job id claiming another row count is refused.
    let tampered = JobId::new(
        job.service().unwrap(),
        job.path().unwrap(),
        queries.len() + 1,
    );
    assert_eq!(
        anist.fetch_verify(&tampered).await.unwrap_err().code(),
        "anist_unexpected_answer"
    );

    // Massive ascertainment.
    let job = anist.submit_ascertain(&queries).await.unwrap();
    wait(&anist, &job).await;
    let rows = anist.fetch_ascertain(&job).await.unwrap();
    assert_eq!(rows.len(), queries.len());
    for (i, (q, row)) in queries.iter().zip(&rows).enumerate() {
        if i == 5 {
            assert_eq!(row.as_ref().unwrap_err().code(), "anist_row_failed");
            continue;
        }
        assert_eq!(
            row.as_ref().unwrap(),
            &record_of(&expected_for(q)),
            "row {i}"
        );
    }
    assert_eq!(sandbox.anist_jobs(), 2);
    sandbox.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_massive_services() {
    use anist_client::call::Caller;
    use anist_client::clock::SystemClock;
    use anist_client::modi::{AuditContext, ModiSigner};
    use anist_client::voucher::cache::VoucherCache;
    use anist_client::voucher::http::HttpTokenFetcher;

    let (sandbox, _) = start().await;
    let key = sandbox.client_key().unwrap();
    let fetcher = HttpTokenFetcher::new(
        sandbox.endpoints().clone(),
        key.clone(),
        Arc::new(SystemClock),
    )
    .unwrap();
    let cache = Arc::new(VoucherCache::new(fetcher, Arc::new(SystemClock)));
    let client = sandbox.client_id().unwrap();
    let caller = Caller::new(
        cache,
        ModiSigner::new(client.clone(), key.clone()),
        Arc::new(SystemClock),
    )
    .unwrap();
    let mut session = Session::new(
        caller,
        anist_client::env::Environment::Sandbox,
        client,
        key.kid().clone(),
    )
    .operator(AuditContext::new("operatore-1", "c_h501").unwrap());
    for (name, service) in sandbox.services() {
        if name == VERIFICA || name == ACCERTAMENTO {
            session = session.service(&name, service);
        }
    }
    let anist = AnistClient::new(Arc::new(session));
    assert!(!anist.has_massive());
    let cf = sandbox.population().pupils()[0].codice_fiscale;
    let e = anist.submit_verify(&[Query::by_cf(cf)]).await.unwrap_err();
    assert_eq!(e.code(), "call_not_sent");
    assert!(e.to_string().contains(VERIFICA_MASSIVA), "{e}");
    assert!(anist.submit_ascertain(&[Query::by_cf(cf)]).await.is_err());
    // The single services work.
    assert!(anist.verify(&Query::by_cf(cf)).await.is_ok());
    sandbox.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_default_session_has_every_service() {
    let sandbox = Sandbox::start(SandboxConfig::with_default_client(5).unwrap())
        .await
        .unwrap();
    let session = sandbox.session().unwrap();
    let names: Vec<&str> = session.service_names().collect();
    for n in [
        VERIFICA,
        ACCERTAMENTO,
        VERIFICA_MASSIVA,
        anist_client::anist::ACCERTAMENTO_MASSIVO,
        anist_client::sandbox::anist::ECHO,
    ] {
        assert!(names.contains(&n), "{names:?}");
    }
    // The echo service answers through the same session.
    let r = session
        .post_json(anist_client::sandbox::anist::ECHO, "echo", br#"{"a":1}"#)
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(sandbox.population().seed(), 5);
    // A sandbox without a default client has no session.
    let bare = Sandbox::start(SandboxConfig::new(
        anist_client::sandbox::registry::Registry::builder()
            .build()
            .unwrap(),
    ))
    .await
    .unwrap();
    assert_eq!(bare.session().unwrap_err().code(), "call_not_sent");
    bare.shutdown().await;
    sandbox.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn single_lookups_are_recorded_in_the_client_s_audit_trail() {
    let (sandbox, anist) = start().await;
    let dir = common::temp_dir("anist-lookups");
    let trail =
        Arc::new(anist_client::audit::AuditLog::open_beside(&dir.join("a.sqlite")).unwrap());
    let audited = anist.clone().with_audit(Arc::clone(&trail));
    let p = sandbox.population();
    let known = pupil_with(p, Some(EsitoFrequenza::Frequentante));
    let unknown = pupil_with(p, None);
    let school = CodiceMeccanografico::parse("ZZIC00000X").unwrap();

    assert!(matches!(
        audited.verify(&Query::by_cf(known)).await,
        Ok(Answer::Found(_))
    ));
    assert_eq!(
        audited.ascertain(&Query::by_cf(unknown)).await,
        Ok(Answer::NotFound)
    );
    let refused = audited.verify(&Query::by_cf(known).school(school)).await;
    assert_eq!(refused.unwrap_err().code(), "anist_request_rejected");
    // The client without a trail (a bulk job's) records nothing.
    anist.verify(&Query::by_cf(known)).await.unwrap();

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
            (VERIFICA, "verify", "found"),
            (ACCERTAMENTO, "ascertain", "not_found"),
            (VERIFICA, "verify", "anist_request_rejected"),
        ]
    );
    // Who, under which purpose, about whom (a keyed hash, never the code).
    let purpose = audited
        .session()
        .lookup(VERIFICA)
        .unwrap()
        .purpose()
        .as_str()
        .to_string();
    assert_eq!(rows[0].purpose, purpose);
    assert_eq!(
        rows[0].subject.as_deref(),
        Some(trail.subject_hash(known.as_str()).as_str())
    );
    assert_eq!(
        rows[1].subject.as_deref(),
        Some(trail.subject_hash(unknown.as_str()).as_str())
    );
    assert!(rows[2].govway_id.is_some());
    assert_eq!(trail.verify().unwrap(), 3);
    sandbox.shutdown().await;
}
