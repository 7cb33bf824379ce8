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
use anist_client::sandbox::anist::{registry_with_limits, ANIST_ESERVICES};
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

async fn sandbox(daily_calls: u64, clock: Arc<ManualClock>) -> SandboxHandle {
    let key = Arc::new(PrivateKey::generate(RsaBits::Rsa2048).unwrap());
    let reg = registry_with_limits(key.public_key(), daily_calls, 0).unwrap();
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

/// 20,000 rows through single calls while the sandbox injects 5% 503, 2%
/// 429 with `Retry-After`, 1% dropped connections and 1% timeouts on the
/// ANIST e-services, and throttles the token endpoint: the job completes,
/// every row has its final outcome once, and none is an error.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_faulty_sandbox_loses_and_duplicates_no_row() {
    use anist_client::sandbox::faults::FaultRates;
    use anist_client::sandbox::Route;
    use std::time::Duration;

    let dir = temp_dir("faults");
    let input = input(&dir, 20_000);
    let config = SandboxConfig::with_default_client(SEED)
        .unwrap()
        .current_school_year(year())
        .rate_limit(4, 1000);
    let sandbox = Sandbox::start(config).await.unwrap();
    let rates = FaultRates {
        status_503: 0.05,
        too_many_with_retry_after: 0.02,
        drop_connection: 0.01,
        timeout: 0.01,
        timeout_hold: Duration::from_secs(3),
        retry_after: 1,
        ..FaultRates::default()
    };
    for s in ANIST_ESERVICES {
        let path = format!("MIM-INTRA-PDND/{}/v1", s.service);
        sandbox
            .fault_rates(Route::Front(path), Some(rates))
            .unwrap();
    }
    let token = FaultRates {
        status_503: 0.2,
        too_many_with_retry_after: 0.2,
        ..FaultRates::default()
    };
    sandbox.fault_rates(Route::Token, Some(token)).unwrap();
    let session = sandbox
        .session_with_timeout(Duration::from_millis(1500), |c| c)
        .unwrap();
    let svc = AnistClient::new(Arc::new(session));
    let mut spec = JobSpec::new(
        &input,
        dir.join("esiti.csv"),
        dir.join("esiti.journal"),
        year(),
    );
    spec.options.use_massive = false;
    spec.options.concurrency = 32;
    spec.options.max_attempts = 10;
    spec.options.backoff_base = Duration::from_millis(20);
    spec.options.backoff_cap = Duration::from_millis(200);
    let summary = completed(BulkJob::new(spec).run(&svc, None, |_| {}).await.unwrap());
    let throttled = sandbox.front_throttled();
    sandbox.shutdown().await;

    assert_eq!(summary.rows_total, 20_000);
    assert_eq!(summary.rows_done, 20_000);
    assert_eq!(summary.outcomes.total(), 20_000);
    assert_eq!(summary.outcomes.error, 0, "{summary:?}");
    assert!(
        summary.retries > 100,
        "the faults were not exercised: {summary:?}"
    );
    assert!(throttled > 0);
    let out = std::fs::read_to_string(dir.join("esiti.csv")).unwrap();
    let mut lines: Vec<&str> = out.lines().skip(1).collect();
    assert_eq!(lines.len(), 20_000);
    let rows: std::collections::HashSet<&str> = lines
        .iter()
        .map(|l| l.split([';', ',']).next().unwrap())
        .collect();
    assert_eq!(rows.len(), 20_000, "a row appears twice");
    lines.retain(|l| l.contains(";error;") || l.contains(",error,"));
    assert!(lines.is_empty(), "{lines:?}");
}
