//! The bulk attendance job against the sandbox's ANIST e-services, through
//! the real client (vouchers, ModI, gateway): a daily quota pauses the job
//! and a later clock lets it finish; injected faults never lose or
//! duplicate a row. Synthetic codes only; network only to 127.0.0.1.
#![cfg(feature = "sandbox")]
#![allow(clippy::unwrap_used)] // test helpers: a failure is the test failing

use std::path::{Path, PathBuf};
use std::sync::Arc;

use anist_client::anist::AnistClient;
use anist_client::bulk::{BulkJob, JobOutcome, JobSpec, Summary};
use anist_client::clock::ManualClock;
use anist_client::keys::{PrivateKey, RsaBits};
use anist_client::sandbox::anist::{register_with_quota, ANIST_ESERVICES};
use anist_client::sandbox::registry::{
    Client, Registry, Tenant, DEFAULT_CLIENT, DEFAULT_CONSUMER, DEFAULT_PRODUCER,
};
use anist_client::sandbox::{Sandbox, SandboxConfig, SandboxHandle};
use anist_core::school::SchoolYear;
use anist_core::synthetic::SyntheticPeople;
use chrono::NaiveDate;

const SEED: u64 = 2026;

fn year() -> SchoolYear {
    SchoolYear::starting(2025).unwrap()
}

fn temp_dir(name: &str) -> PathBuf {
    let dir =
        std::env::temp_dir().join(format!("anist-bulk-sandbox-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// A CSV of `n` synthetic children of compulsory-school age in 2025/26,
/// some listed twice.
fn input(dir: &Path, n: usize) -> PathBuf {
    let from = NaiveDate::from_ymd_opt(2011, 1, 1).unwrap();
    let to = NaiveDate::from_ymd_opt(2018, 12, 31).unwrap();
    let mut people = SyntheticPeople::new(SEED, from, to);
    let mut text = String::from("cognome;codice fiscale\n");
    let mut last = String::new();
    for i in 0..n {
        let p = people.next_person();
        let cf = if i % 50 == 49 {
            last.clone()
        } else {
            p.codice_fiscale.to_string()
        };
        text.push_str(&format!("{};{cf}\n", p.surname));
        last = cf;
    }
    let path = dir.join("minori.csv");
    std::fs::write(&path, text).unwrap();
    path
}

/// The default client with the four ANIST e-services, `daily_calls` a day each.
fn registry(key: &PrivateKey, daily_calls: u64) -> Registry {
    let builder = Registry::builder()
        .tenant(Tenant::new(DEFAULT_CONSUMER, "Comune di Prova"))
        .tenant(Tenant::new(DEFAULT_PRODUCER, "MIM (sandbox)"));
    let mut client = Client::new(DEFAULT_CLIENT, DEFAULT_CONSUMER).key(key.public_key().clone());
    for s in ANIST_ESERVICES {
        client = client.purpose(s.purpose);
    }
    register_with_quota(builder, daily_calls)
        .client(client)
        .build()
        .unwrap()
}

async fn sandbox(daily_calls: u64, clock: Arc<ManualClock>) -> SandboxHandle {
    let key = Arc::new(PrivateKey::generate(RsaBits::Rsa2048).unwrap());
    let reg = registry(&key, daily_calls);
    let config = SandboxConfig::with_client_registry(SEED, key, reg)
        .clock(clock)
        .current_school_year(year());
    Sandbox::start(config).await.unwrap()
}

fn job(dir: &Path, input: &Path, out: &str) -> BulkJob {
    let mut spec = JobSpec::new(
        input,
        dir.join(out),
        dir.join(format!("{out}.journal")),
        year(),
    );
    spec.options.use_massive = false;
    spec.options.concurrency = 4;
    BulkJob::new(spec)
}

fn client(sandbox: &SandboxHandle, clock: Arc<ManualClock>) -> AnistClient {
    AnistClient::new(Arc::new(sandbox.session().unwrap())).with_clock(clock)
}

fn completed(outcome: JobOutcome) -> Summary {
    match outcome {
        JobOutcome::Completed(s) => s,
        JobOutcome::Paused { reason, .. } => panic!("paused: {reason}"),
    }
}

/// Mid-January 2026, noon UTC.
const T0: i64 = 1_768_478_400;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_exhausted_quota_pauses_the_job_and_a_later_day_completes_it() {
    let dir = temp_dir("quota");
    let input = input(&dir, 150);

    // The reference: the same job with a quota that is never reached.
    let clock = Arc::new(ManualClock::new(T0));
    let big = sandbox(1_000_000, Arc::clone(&clock)).await;
    let reference = completed(
        job(&dir, &input, "reference.csv")
            .run(&client(&big, Arc::clone(&clock)), None, |_| {})
            .await
            .unwrap(),
    );
    big.shutdown().await;
    assert_eq!(reference.outcomes.error, 0, "{reference:?}");
    assert!(reference.outcomes.to_be_checked + reference.outcomes.not_in_anist > 0);

    // 60 calls a day per e-service: about 150 verifications need 3 days.
    let clock = Arc::new(ManualClock::new(T0));
    let small = sandbox(60, Arc::clone(&clock)).await;
    let svc = client(&small, Arc::clone(&clock));
    let job = job(&dir, &input, "esiti.csv");
    let mut pauses = 0;
    let summary = loop {
        match job.run(&svc, None, |_| {}).await.unwrap() {
            JobOutcome::Completed(s) => break s,
            JobOutcome::Paused { code, summary, .. } => {
                assert_eq!(code, "gateway_quota_exceeded");
                assert!(summary.rows_done < summary.rows_total);
                assert!(!dir.join("esiti.csv").exists(), "no output while paused");
                pauses += 1;
                assert!(pauses <= 5, "the job does not progress across days");
                // The next day the quota is new.
                clock.advance(86_400);
            }
        }
    };
    small.shutdown().await;
    assert!(
        pauses >= 2,
        "expected the quota to pause the job, paused {pauses} times"
    );
    assert_eq!(summary.outcomes, reference.outcomes);
    assert_eq!(
        std::fs::read(dir.join("esiti.csv")).unwrap(),
        std::fs::read(dir.join("reference.csv")).unwrap()
    );
}
