//! The rivestizione workflow end to end on the sandbox: requests by
//! codice fiscale and by document, approved, processed by the worker
//! through the real ANPR clients (PDND E002 for the data, the Comune's
//! SOAP 3002 channel for the documents), each subject with the outcome its
//! sandbox case calls for, the profile's columns only, the scope of the
//! convenzionati enforced on the residence ANPR answers.
//!
//! Everything talks to 127.0.0.1 only; every sandbox stops with its test.
#![cfg(feature = "sandbox")]
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;
use common::client_key;

use std::path::PathBuf;
use std::sync::Arc;

use anist_client::anpr::massive::MassiveClient;
use anist_client::anpr::soap::{AnprSoapClient, AnprSoapSettings};
use anist_client::anpr::{AnprClient, OperationIds};
use anist_client::audit::AuditLog;
use anist_client::rivestizione::{
    AnprLookup, Ente, Rivestizione, Settings, SqliteStore, User, Worker,
};
use anist_client::sandbox::anpr::AnprCase;
use anist_client::sandbox::anpr_soap::{SANDBOX_ISTAT, SANDBOX_OPERATOR};
use anist_client::sandbox::{Sandbox, SandboxConfig, SandboxHandle};
use anist_core::anpr::dati::DatoRichiesto;
use anist_core::rivestizione::{read_subjects, Approval, Profile, Role, Scope};
use anist_core::synthetic::SyntheticPeople;
use chrono::NaiveDate;

const SEED: u64 = 20_261_203;

struct Dir(PathBuf);

impl Drop for Dir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn soap_settings(sandbox: &SandboxHandle) -> AnprSoapSettings {
    let mut s = AnprSoapSettings::new(
        &sandbox.anpr_soap_url().unwrap(),
        SANDBOX_OPERATOR,
        SANDBOX_ISTAT,
    );
    s.ca_pem = Some(sandbox.ca_pem().unwrap().as_bytes().to_vec());
    let (cert, key) = sandbox.client_identity_pem().unwrap();
    s.identity_pem = Some((
        cert.as_bytes().to_vec(),
        zeroize::Zeroizing::new(key.as_bytes().to_vec()),
    ));
    s
}

fn user(id: &str, role: Role, ente: &str, p: Profile) -> User {
    User {
        id: id.into(),
        nome: format!("Operatore {id}"),
        role,
        ente: ente.into(),
        active: true,
        profile: p,
    }
}

fn rows(path: &std::path::Path) -> Vec<Vec<String>> {
    std::fs::read_to_string(path)
        .unwrap()
        .trim_start_matches('\u{feff}')
        .lines()
        .map(|l| l.split(';').map(str::to_owned).collect())
        .collect()
}

#[tokio::test]
async fn a_day_of_requests_on_the_sandbox() {
    let dir = Dir(std::env::temp_dir().join(format!("anist-riv-sbx-{}", std::process::id())));
    let _ = std::fs::remove_dir_all(&dir.0);
    std::fs::create_dir_all(&dir.0).unwrap();
    let sandbox = Sandbox::start(SandboxConfig::with_client_key(SEED, client_key()).unwrap())
        .await
        .unwrap();
    let session = Arc::new(sandbox.session().unwrap());
    let ids = Arc::new(OperationIds::open(&dir.0.join("ids.sqlite")).unwrap());
    let massive = MassiveClient::new(Arc::clone(&session), Arc::clone(&ids));
    let client = AnprClient::new(session, ids);
    let soap = AnprSoapClient::new(
        soap_settings(&sandbox),
        OperationIds::open(&dir.0.join("soap-ids.sqlite")).unwrap(),
    )
    .unwrap();
    // The codici fiscali of a request of 10 or more get their ID ANPR from
    // one massive C030 request first.
    let lookup = Arc::new(
        AnprLookup::new(client, Some(soap), SANDBOX_ISTAT).with_massive(
            massive,
            10,
            std::time::Duration::from_millis(50),
            50,
        ),
    );

    let riv = Rivestizione::new(
        Arc::new(SqliteStore::open(&dir.0.join("riv.sqlite")).unwrap()),
        Arc::new(AuditLog::open(&dir.0.join("a.sqlite"), &dir.0.join("a.key")).unwrap()),
        Arc::new(anist_client::clock::SystemClock),
        dir.0.join("files"),
    );
    let all = Profile::new([DatoRichiesto::SchedaCompleta], Scope::Italia);
    riv.setup(
        Settings {
            approval: Approval::Manual,
            retention_days: 7,
            comuni: vec![SANDBOX_ISTAT.into(), "TORINO".into()],
        },
        Ente {
            id: "anagrafe".into(),
            nome: "Anagrafe".into(),
            comune: SANDBOX_ISTAT.into(),
        },
        "top",
        "Anna",
    )
    .unwrap();
    riv.register_user("top", user("t1", Role::Standard, "anagrafe", all))
        .unwrap();
    let local = Profile::new([DatoRichiesto::Generalita], Scope::Convenzionati);
    riv.register_user("top", user("s1", Role::Standard, "anagrafe", local))
        .unwrap();

    // Codici fiscali of every sandbox case, and documents of real people.
    let from = NaiveDate::from_ymd_opt(1950, 1, 1).unwrap();
    let to = NaiveDate::from_ymd_opt(2015, 12, 31).unwrap();
    let mut people = SyntheticPeople::new(SEED, from, to);
    let cfs: Vec<_> = (0..80)
        .map(|_| people.next_person().codice_fiscale)
        .collect();
    let mut csv = String::from("tipo;identificativo;rilascio\n");
    for cf in &cfs {
        csv.push_str(&format!("CF;{};\n", cf.as_str()));
    }
    let today = chrono::Utc::now().date_naive();
    let mut documents = Vec::new();
    for cf in sandbox.anpr_soap_people() {
        if sandbox.anpr_case(&cf) != AnprCase::Resident {
            continue;
        }
        let Some(d) = sandbox.anpr_documenti(&cf, today) else {
            continue;
        };
        if let (Some((numero, Some(comune), _)), true) = (&d.carta, documents.len() < 2) {
            csv.push_str(&format!("CI;{numero};{comune}\n"));
            documents.push(cf);
        } else if let (Some((numero, questura)), true) = (&d.permesso, documents.len() < 3) {
            csv.push_str(&format!("PS;{numero};{questura}\n"));
            documents.push(cf);
        }
        if documents.len() == 3 {
            break;
        }
    }
    assert_eq!(documents.len(), 3);
    let file = read_subjects(csv.as_bytes()).unwrap();
    assert!(file.bad.is_empty(), "{:?}", file.bad);
    let t1 = riv
        .submit("t1", "prot. 1/2026", None, file.clone())
        .unwrap();
    let s1 = riv.submit("s1", "prot. 2/2026", None, file).unwrap();
    riv.approve("top", t1).unwrap();
    riv.approve("top", s1).unwrap();
    let report = Worker::new(riv.clone(), lookup.clone(), 8)
        .run_once()
        .await
        .unwrap();
    assert_eq!(report.completed, vec![t1, s1]);
    // Most of the 80 codes were resolved in bulk (once: the second request
    // reuses them); the outcomes below are those of the one-by-one lookups.
    let bulk = lookup.resolved_in_bulk();
    assert!((60..=80).contains(&bulk), "{bulk}");

    // All Italy, everything: each case's outcome.
    let all_rows = rows(&riv.download("t1", t1).unwrap());
    let header = &all_rows[0];
    let col = |name: &str| header.iter().position(|h| h == name).unwrap();
    assert_eq!(all_rows.len(), 1 + 80 + 3);
    for (cf, r) in cfs.iter().zip(&all_rows[1..]) {
        let expected = match sandbox.anpr_case(cf) {
            AnprCase::NotFound => "not_found",
            AnprCase::Resident | AnprCase::Deceased => "found",
            AnprCase::Omocodia | AnprCase::Ambiguous => "ambiguous",
            AnprCase::NotCompetent => "refused",
            other => panic!("a case this test does not know: {other:?}"),
        };
        assert_eq!(
            r[col("codice_esito")],
            expected,
            "{:?} {}",
            sandbox.anpr_case(cf),
            r[col("motivo")]
        );
        if expected == "found" {
            assert_eq!(r[col("codice_fiscale")], cf.as_str());
            assert!(!r[col("comune_residenza")].is_empty());
            assert!(!r[col("famiglia")].is_empty());
        }
    }
    // By document: resolved through 3002 to the person.
    for (cf, r) in documents.iter().zip(&all_rows[81..]) {
        assert_eq!(r[col("codice_esito")], "found", "{r:?}");
        assert_eq!(r[col("codice_fiscale")], cf.as_str());
    }

    // Generalità of the Comune's residents only.
    let local_rows = rows(&riv.download("s1", s1).unwrap());
    assert!(!local_rows[0].contains(&"comune_residenza".to_owned()));
    assert!(!local_rows[0].contains(&"famiglia".to_owned()));
    let mut outside = 0;
    for (a, l) in all_rows[1..].iter().zip(&local_rows[1..]) {
        if a[col("codice_esito")] == "found" {
            let here = a[col("codice_istat_comune")] == SANDBOX_ISTAT
                || a[col("comune_residenza")].eq_ignore_ascii_case("TORINO");
            // By document, ANPR itself searches the Comune's residents only
            // (ricercaNazionale 0): a non-resident may be not found there.
            let by_document = a[1] != "codice fiscale";
            match (here, by_document) {
                (true, _) => assert_eq!(l[4], "found", "{a:?}"),
                (false, false) => assert_eq!(l[4], "out_of_scope", "{a:?}"),
                (false, true) => assert!(["out_of_scope", "not_found"].contains(&l[4].as_str())),
            }
            if l[4] != "found" {
                assert!(l[6..].iter().all(String::is_empty), "{l:?}");
            }
            outside += usize::from(!here);
        }
    }
    assert!(outside > 0, "every subject found lives in the Comune");
    assert!(riv.audit().verify().unwrap() > 0);
    sandbox.shutdown().await;
}
