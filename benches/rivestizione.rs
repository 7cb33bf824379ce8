//! The rivestizione worker on a 10,000-subject request against the
//! in-process sandbox on loopback: each subject asked by codice fiscale
//! (C030 → ID ANPR, then generalità C015 and residenza C020 by ID ANPR),
//! the outcome committed to the SQLite store and audited, the response
//! file written. ANPR wants its operation ids in increasing order, so the
//! calls of one client go one at a time; the figure is subjects per second
//! for the whole request, worker start to response file.
//!
//! With the massive step (the default), one massive C030 request gives the
//! codici fiscali their ID ANPR first and each subject then needs two single
//! calls instead of three.
//!
//! `cargo bench --bench rivestizione` (`RIVESTIZIONE_SUBJECTS=n` for
//! another size, `RIVESTIZIONE_MASSIVE=0` without the massive step).
//! Figures go to `benches/README.md`.
#![allow(clippy::print_stdout, clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;
use std::time::{Duration, Instant};

use anist_client::anpr::massive::MassiveClient;
use anist_client::anpr::{AnprClient, OperationIds};
use anist_client::audit::AuditLog;
use anist_client::clock::SystemClock;
use anist_client::rivestizione::{
    AnprLookup, Ente, Rivestizione, Settings, SqliteStore, User, Worker,
};
use anist_client::sandbox::{Sandbox, SandboxConfig};
use anist_core::anpr::dati::DatoRichiesto;
use anist_core::rivestizione::{read_subjects, Approval, Profile, Role, Scope};
use anist_core::synthetic::SyntheticPeople;
use chrono::NaiveDate;

fn main() {
    let n: usize = std::env::var("RIVESTIZIONE_SUBJECTS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(10_000);
    // RIVESTIZIONE_MASSIVE=0: every C030 single, as without the massive
    // e-service.
    let massive_step = std::env::var("RIVESTIZIONE_MASSIVE").map_or(true, |v| v != "0");
    let dir = std::env::temp_dir().join(format!("anist-bench-riv-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let sandbox = Sandbox::start(SandboxConfig::with_default_client(7).unwrap())
            .await
            .unwrap();
        let session = Arc::new(sandbox.session().unwrap());
        let ids = Arc::new(OperationIds::open(&dir.join("ids.sqlite")).unwrap());
        let massive = MassiveClient::new(Arc::clone(&session), Arc::clone(&ids));
        let client = AnprClient::new(session, ids);
        let mut lookup = AnprLookup::new(client, None, "058091");
        if massive_step {
            lookup = lookup.with_massive(massive, 100, Duration::from_millis(500), 120);
        }
        let lookup = Arc::new(lookup);
        let riv = Rivestizione::new(
            Arc::new(SqliteStore::open(&dir.join("riv.sqlite")).unwrap()),
            Arc::new(AuditLog::open(&dir.join("a.sqlite"), &dir.join("a.key")).unwrap()),
            Arc::new(SystemClock),
            dir.join("files"),
        );
        riv.setup(
            Settings {
                approval: Approval::Manual,
                ..Settings::default()
            },
            Ente {
                id: "anagrafe".into(),
                nome: "Anagrafe".into(),
                comune: "058091".into(),
            },
            "top",
            "Top",
        )
        .unwrap();
        let p = Profile::new(
            [DatoRichiesto::Generalita, DatoRichiesto::Residenza],
            Scope::Italia,
        );
        riv.register_user(
            "top",
            User {
                id: "u".into(),
                nome: "U".into(),
                role: Role::Standard,
                ente: "anagrafe".into(),
                active: true,
                profile: p,
            },
        )
        .unwrap();
        let from = NaiveDate::from_ymd_opt(1950, 1, 1).unwrap();
        let to = NaiveDate::from_ymd_opt(2015, 12, 31).unwrap();
        let mut people = SyntheticPeople::new(11, from, to);
        let mut csv = String::from("codice_fiscale\n");
        for _ in 0..n {
            csv.push_str(people.next_person().codice_fiscale.as_str());
            csv.push('\n');
        }
        let file = read_subjects(csv.as_bytes()).unwrap();
        let distinct = file.subjects.len();
        let id = riv.submit("u", "bench 1/2026", None, file).unwrap();
        riv.approve("top", id).unwrap();
        let started = Instant::now();
        let report = Worker::new(riv.clone(), lookup.clone(), 8)
            .run_once()
            .await
            .unwrap();
        let secs = started.elapsed().as_secs_f64();
        assert_eq!(report.completed, vec![id]);
        let r = riv.request("u", id).unwrap();
        assert_eq!(r.answered as usize, distinct);
        println!(
            "rivestizione worker: {distinct} subjects (generalità + residenza, by codice fiscale) in {secs:.1} s = {:.0} subjects/s, {} resolved by the massive C030, {} audit rows",
            distinct as f64 / secs,
            lookup.resolved_in_bulk(),
            riv.audit().head().unwrap().count
        );
        sandbox.shutdown().await;
    });
    let _ = std::fs::remove_dir_all(&dir);
}
