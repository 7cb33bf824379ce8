//! The ANPR massive job ([`anist_client::bulk::anpr_massiva`]) and client
//! ([`anist_client::anpr::massive`]) against the sandbox's massive
//! e-services: reconciliation with omitted subjects (not found, and the
//! seeded incomplete sets) asked again singly, every input row in the
//! output, one audit row per identifier, the pending-request refusal,
//! `tipoRicerca` 3 refused, and crash/resume (the job dropped after its
//! submit resumes polling from the journal and never submits again).
//!
//! Everything talks to 127.0.0.1 only; every sandbox stops with its test.
#![cfg(feature = "sandbox")]
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;
use common::client_key;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use anist_client::anpr::massive::{MassiveClient, ServizioMassivo, Stato, C030_MASSIVO};
use anist_client::anpr::{AnprClient, OperationIds};
use anist_client::audit::AuditLog;
use anist_client::bulk::anpr_massiva::{MassivaJob, MassivaSpec, MassivaSummary};
use anist_client::bulk::JobOutcome;
use anist_client::sandbox::anpr::AnprCase;
use anist_client::sandbox::{Sandbox, SandboxConfig, SandboxHandle};
use anist_core::anpr::massive::TipoRicerca;
use anist_core::cf::CodiceFiscale;
use anist_core::synthetic::SyntheticPeople;
use anist_core::ErrorCode;
use chrono::NaiveDate;

const SEED: u64 = 20_261_202;

struct Dir(PathBuf);

impl Dir {
    fn new(name: &str) -> Self {
        let p = std::env::temp_dir().join(format!(
            "anist-anpr-massive-{name}-{}-{}",
            std::process::id(),
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .as_nanos()
        ));
        std::fs::create_dir_all(&p).unwrap();
        Self(p)
    }
}

impl Drop for Dir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

async fn start(dir: &Dir) -> (SandboxHandle, MassiveClient, AnprClient) {
    let sandbox = Sandbox::start(SandboxConfig::with_client_key(SEED, client_key()).unwrap())
        .await
        .unwrap();
    let ids = Arc::new(OperationIds::open(&dir.0.join("ids.sqlite")).unwrap());
    let session = Arc::new(sandbox.session().unwrap());
    let massive = MassiveClient::new(Arc::clone(&session), Arc::clone(&ids));
    let single = AnprClient::new(session, ids);
    (sandbox, massive, single)
}

fn people(n: usize) -> Vec<CodiceFiscale> {
    let from = NaiveDate::from_ymd_opt(1950, 1, 1).unwrap();
    let to = NaiveDate::from_ymd_opt(2015, 12, 31).unwrap();
    let mut p = SyntheticPeople::new(SEED, from, to);
    (0..n).map(|_| p.next_person().codice_fiscale).collect()
}

fn date() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 11, 30).unwrap()
}

fn spec(dir: &Dir, cfs: &[CodiceFiscale], extra: &[&str]) -> MassivaSpec {
    let input = dir.0.join("in.csv");
    let mut text = String::from("Codice fiscale;Note\n");
    for cf in cfs {
        text.push_str(cf.as_str());
        text.push_str(";x\n");
    }
    for e in extra {
        text.push_str(e);
        text.push_str(";x\n");
    }
    std::fs::write(&input, text).unwrap();
    let mut s = MassivaSpec::new(
        input,
        dir.0.join("out.csv"),
        dir.0.join("job.journal"),
        ServizioMassivo::IdAnpr,
        "prot. 77/2026",
        date(),
    );
    s.options.poll_interval = Duration::from_millis(5);
    s.options.keep_journal = true;
    s
}

fn completed(o: JobOutcome<MassivaSummary>) -> MassivaSummary {
    match o {
        JobOutcome::Completed(s) => s,
        JobOutcome::Paused { code, reason, .. } => panic!("paused {code}: {reason}"),
    }
}

#[tokio::test]
async fn omitted_subjects_are_asked_singly_and_every_row_is_in_the_output() {
    let dir = Dir::new("reconcile");
    let (sandbox, massive, single) = start(&dir).await;
    let audit = AuditLog::open(&dir.0.join("audit.sqlite"), &dir.0.join("audit.secret")).unwrap();
    let cfs = people(300);
    let not_found = cfs
        .iter()
        .filter(|c| sandbox.anpr_case(c) == AnprCase::NotFound)
        .count();
    assert!(not_found > 0);
    // A duplicate row and an invalid code too.
    let dup = cfs[0].as_str().to_string();
    let s = spec(&dir, &cfs, &[&dup, "NONVALIDO"]);
    let out = completed(
        MassivaJob::new(s.clone())
            .run(&massive, &single, Some(&audit), |_| {})
            .await
            .unwrap(),
    );
    assert_eq!(out.rows_total, 302);
    assert_eq!(out.rows_done, 302);
    assert_eq!(out.distinct, 300);
    assert_eq!(out.outcomes.total(), 302);
    assert_eq!(out.outcomes.invalid_code, 1);
    assert_eq!(out.submits, 1);
    assert!(out.polls >= 3, "404 twice, then 200: {}", out.polls);
    // Every not-found subject was omitted, so asked singly, plus the
    // seeded dropped ones (and the ambiguous ones).
    assert!(out.singles as usize > not_found, "{out:?}");
    assert!(out.outcomes.not_found as usize >= not_found);
    assert!(out.outcomes.found > 250);

    let text = std::fs::read_to_string(&s.output).unwrap();
    assert!(text.starts_with('\u{feff}'), "BOM for Excel");
    let lines: Vec<&str> = text.trim_start_matches('\u{feff}').lines().collect();
    assert_eq!(lines.len(), 303, "header + one line per input row");
    assert!(lines[0].starts_with("riga;identificativo;tipo_identificativo;esito;"));
    let massiva = lines
        .iter()
        .filter(|l| l.contains(";trovato;;massiva;"))
        .count();
    let singola = lines.iter().filter(|l| l.contains(";singola;")).count();
    assert!(massiva > 250 && singola > 0, "{massiva} {singola}");
    assert!(lines
        .iter()
        .any(|l| l.contains(";identificativo non valido;")));
    // The found rows carry the ID ANPR of the sandbox.
    let first = cfs
        .iter()
        .find(|c| sandbox.anpr_case(c) == AnprCase::Resident)
        .unwrap();
    let id = sandbox.anpr_ids(first)[0];
    assert!(lines
        .iter()
        .any(|l| l.contains(first.as_str()) && l.contains(id.as_str()) && l.ends_with(";found")));

    // One audit row per identifier for the massive outcome.
    let rows = audit.rows(None, None).unwrap();
    let massive_rows = rows.iter().filter(|r| r.operation == "massivo").count();
    assert_eq!(massive_rows, 300);
    assert!(rows
        .iter()
        .filter(|r| r.operation == "massivo")
        .all(|r| r.eservice == C030_MASSIVO));
    let (found_massive, to_ask) =
        rows.iter()
            .filter(|r| r.operation == "massivo")
            .fold((0, 0), |(f, d), r| match r.outcome.as_str() {
                "trovato" => (f + 1, d),
                "da_richiedere" => (f, d + 1),
                other => panic!("unexpected {other}"),
            });
    assert_eq!(to_ask as u64, out.singles);
    assert_eq!(found_massive + to_ask, 300);
    sandbox.shutdown().await;
}

#[tokio::test]
async fn a_second_request_is_refused_while_one_is_pending() {
    let dir = Dir::new("pending");
    let (sandbox, massive, _) = start(&dir).await;
    let cfs = people(5);
    let id = massive
        .submit(
            ServizioMassivo::IdAnpr,
            TipoRicerca::CodiceFiscale,
            &cfs.iter().map(|c| c.as_str()).collect::<Vec<_>>(),
            date(),
            "prot. 1",
        )
        .await
        .unwrap();
    let err = massive
        .submit(
            ServizioMassivo::IdAnpr,
            TipoRicerca::CodiceFiscale,
            &[cfs[0].as_str()],
            date(),
            "prot. 1",
        )
        .await
        .unwrap_err();
    assert_eq!(err.code(), "anpr_massive_pending");
    // Another service is not blocked.
    massive
        .submit(
            ServizioMassivo::Residenza,
            TipoRicerca::CodiceFiscale,
            &[cfs[0].as_str()],
            date(),
            "prot. 1",
        )
        .await
        .unwrap();
    assert_eq!(
        massive.poll(ServizioMassivo::IdAnpr, &id).await.unwrap(),
        Stato::InAttesa
    );
    assert_eq!(
        massive.poll(ServizioMassivo::IdAnpr, &id).await.unwrap(),
        Stato::InAttesa
    );
    assert!(matches!(
        massive.poll(ServizioMassivo::IdAnpr, &id).await.unwrap(),
        Stato::Pronto(_)
    ));
    // Once processed, a new request is accepted.
    massive
        .submit(
            ServizioMassivo::IdAnpr,
            TipoRicerca::CodiceFiscale,
            &[cfs[0].as_str()],
            date(),
            "prot. 1",
        )
        .await
        .unwrap();

    // tipoRicerca other than 1 / 2: 400.
    let body = br#"{"idOperazioneClient":"99999999999999","fileInput":"","datiRichiesta":{"dataRiferimentoRichiesta":"2026-11-30","motivoRichiesta":"1","casoUso":"C030"},"tipoRicerca":"3"}"#;
    let err = massive
        .session()
        .post_json(C030_MASSIVO, "anpr-massivo-e002-richiesta", body)
        .await
        .unwrap_err();
    assert_eq!(err.code(), "gateway_refused", "{err:?}");
    sandbox.shutdown().await;
}

#[tokio::test]
async fn a_job_dropped_after_its_submit_resumes_polling_and_never_submits_again() {
    let dir = Dir::new("resume");
    let (sandbox, massive, single) = start(&dir).await;
    let cfs = people(40);
    let mut s = spec(&dir, &cfs, &[]);
    // First run: submits, polls once (404), then waits long: dropped.
    s.options.poll_interval = Duration::from_secs(30);
    let job = MassivaJob::new(s.clone());
    let r = tokio::time::timeout(
        Duration::from_millis(1500),
        job.run(&massive, &single, None, |_| {}),
    )
    .await;
    assert!(r.is_err(), "the job was still polling when dropped");
    assert!(!s.output.exists());
    assert!(s.journal.exists());
    // Second run on the same journal: polls the journaled id (the sandbox
    // would refuse a second submit as pending), completes.
    s.options.poll_interval = Duration::from_millis(5);
    let out = completed(
        MassivaJob::new(s.clone())
            .run(&massive, &single, None, |_| {})
            .await
            .unwrap(),
    );
    assert_eq!(out.submits, 0, "resumed, not submitted again");
    assert!(out.polls >= 1);
    assert_eq!(out.rows_done, 40);
    let text = std::fs::read_to_string(&s.output).unwrap();
    assert_eq!(text.lines().count(), 41);
    sandbox.shutdown().await;
}

#[tokio::test]
async fn a_job_refused_as_pending_pauses_and_resumes_later() {
    let dir = Dir::new("paused");
    let (sandbox, massive, single) = start(&dir).await;
    let cfs = people(10);
    // Someone else's request is pending on the service.
    let other = massive
        .submit(
            ServizioMassivo::IdAnpr,
            TipoRicerca::CodiceFiscale,
            &[cfs[0].as_str()],
            date(),
            "prot. 2",
        )
        .await
        .unwrap();
    let s = spec(&dir, &cfs, &[]);
    match MassivaJob::new(s.clone())
        .run(&massive, &single, None, |_| {})
        .await
        .unwrap()
    {
        JobOutcome::Paused { code, .. } => assert_eq!(code, "anpr_massive_pending"),
        JobOutcome::Completed(_) => panic!("a pending request blocks the submit"),
    }
    // The other request is processed; the job runs again and completes.
    assert!(massive
        .wait(ServizioMassivo::IdAnpr, &other, Duration::from_millis(1), 5)
        .await
        .unwrap()
        .is_some());
    let out = completed(
        MassivaJob::new(s)
            .run(&massive, &single, None, |_| {})
            .await
            .unwrap(),
    );
    assert_eq!(out.submits, 1);
    assert_eq!(out.rows_done, 10);
    sandbox.shutdown().await;
}

#[tokio::test]
async fn residenza_by_id_anpr_goes_through_c020_massivo() {
    let dir = Dir::new("c020");
    let (sandbox, massive, single) = start(&dir).await;
    // Pupils of the population: their ID ANPR is known to the sandbox.
    let residents: Vec<_> = sandbox
        .population()
        .pupils()
        .iter()
        .filter(|p| sandbox.anpr_case(&p.codice_fiscale) == AnprCase::Resident)
        .take(20)
        .collect();
    assert_eq!(residents.len(), 20);
    let input = dir.0.join("ids.csv");
    let mut text = String::from("ID ANPR\n");
    for p in &residents {
        text.push_str(p.id_anpr.as_str());
        text.push('\n');
    }
    std::fs::write(&input, text).unwrap();
    let mut s = MassivaSpec::new(
        input,
        dir.0.join("out.csv"),
        dir.0.join("job.journal"),
        ServizioMassivo::Residenza,
        "prot. 9",
        date(),
    );
    s.options.poll_interval = Duration::from_millis(5);
    let out = completed(
        MassivaJob::new(s.clone())
            .run(&massive, &single, None, |_| {})
            .await
            .unwrap(),
    );
    assert_eq!(out.rows_total, 20);
    assert_eq!(out.outcomes.found, 20, "{out:?}");
    let csv = std::fs::read_to_string(&s.output).unwrap();
    let rows: Vec<&str> = csv.lines().skip(1).collect();
    assert_eq!(rows.len(), 20);
    assert!(rows.iter().all(|l| l.contains(";ID ANPR;trovato;")));
    // The residence columns are filled.
    assert!(rows
        .iter()
        .all(|l| l.split(';').nth(11).is_some_and(|c| !c.is_empty())));
    assert!(!s.journal.exists(), "removed when every row is answered");
    sandbox.shutdown().await;
}

#[tokio::test]
async fn faults_of_the_front_apply_and_a_failed_submit_pauses_the_job() {
    use anist_client::sandbox::anpr::ANPR_EROGATORE;
    use anist_client::sandbox::{Fault, Route};
    let dir = Dir::new("faults");
    let (sandbox, massive, single) = start(&dir).await;
    let cfs = people(15);
    let s = spec(&dir, &cfs, &[]);
    sandbox.inject_at(
        Route::Front(format!("{ANPR_EROGATORE}/E002AccertamentoIdAnprMassivo/v1")),
        Fault::Status(503),
    );
    match MassivaJob::new(s.clone())
        .run(&massive, &single, None, |_| {})
        .await
        .unwrap()
    {
        JobOutcome::Paused { code, summary, .. } => {
            assert!(code.starts_with("gateway_"), "{code}");
            assert_eq!(summary.rows_done, 0);
        }
        JobOutcome::Completed(_) => panic!("the submit met the injected 503"),
    }
    assert!(!s.output.exists());
    // Run again: the submit goes through, the job completes.
    let out = completed(
        MassivaJob::new(s)
            .run(&massive, &single, None, |_| {})
            .await
            .unwrap(),
    );
    assert_eq!(out.submits, 1);
    assert_eq!(out.rows_done, 15);
    sandbox.shutdown().await;
}
