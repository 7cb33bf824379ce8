//! ANIST verification calls against the sandbox on loopback, client and
//! sandbox in one process on this machine's cores: the whole path of a call
//! (voucher from the shared cache, `Digest` + `Agid-JWT-Signature` signed
//! with RSA-2048, the TrackingEvidence, the gateway's checks of all three
//! signatures, the backend, the answer's codec).
//!
//! `cargo bench --bench anist_loopback` prints, for each scenario, calls per
//! second, the 429 answers and the token requests against the bound
//! ⌈duration / voucher lifetime⌉ + 1. Figures go to `benches/README.md`.
#![allow(clippy::print_stdout, clippy::unwrap_used, clippy::expect_used)]

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anist_client::anist::{AnistClient, AttendanceService, Query};
use anist_client::keys::{PrivateKey, RsaBits};
use anist_client::ratelimit::RateLimiter;
use anist_client::sandbox::anist::registry_with_limits;
use anist_client::sandbox::{Sandbox, SandboxConfig, SandboxHandle};
use anist_core::cf::CodiceFiscale;
use anist_core::synthetic::SyntheticPeople;
use chrono::NaiveDate;

/// Voucher lifetime of the sandbox's ANIST e-services, seconds.
const VOUCHER_LIFETIME: f64 = 600.0;

fn codes(n: usize) -> Vec<CodiceFiscale> {
    let from = NaiveDate::from_ymd_opt(2012, 1, 1).unwrap();
    let to = NaiveDate::from_ymd_opt(2018, 12, 31).unwrap();
    let mut people = SyntheticPeople::new(7, from, to);
    (0..n)
        .map(|_| people.next_person().codice_fiscale)
        .collect()
}

struct Run {
    calls: u64,
    errors: u64,
    seconds: f64,
}

/// `tasks` workers share the client and call `verify` until `duration` is over.
async fn drive(client: Arc<AnistClient>, tasks: usize, duration: Duration) -> Run {
    let codes = Arc::new(codes(4096));
    let calls = Arc::new(AtomicU64::new(0));
    let errors = Arc::new(AtomicU64::new(0));
    let start = Instant::now();
    let mut set = tokio::task::JoinSet::new();
    for t in 0..tasks {
        let (client, codes, calls, errors) = (
            Arc::clone(&client),
            Arc::clone(&codes),
            Arc::clone(&calls),
            Arc::clone(&errors),
        );
        set.spawn(async move {
            let mut i = t;
            while start.elapsed() < duration {
                let q = Query::by_cf(codes[i % codes.len()]);
                match client.verify(&q).await {
                    Ok(_) => calls.fetch_add(1, Ordering::Relaxed),
                    Err(_) => errors.fetch_add(1, Ordering::Relaxed),
                };
                i += tasks;
            }
        });
    }
    while set.join_next().await.is_some() {}
    Run {
        calls: calls.load(Ordering::Relaxed),
        errors: errors.load(Ordering::Relaxed),
        seconds: start.elapsed().as_secs_f64(),
    }
}

fn report(name: &str, run: &Run, sandbox: &SandboxHandle, throttled: u64) {
    let bound = (run.seconds / VOUCHER_LIFETIME).ceil() as u64 + 1;
    println!(
        "{name}: {} calls in {:.1} s = {:.0} calls/s; errors {}; 429 answers {}; token requests {} (bound {bound})",
        run.calls,
        run.seconds,
        run.calls as f64 / run.seconds,
        run.errors,
        throttled,
        sandbox.token_requests(),
    );
}

/// Calls per second the throttled sandbox allows on each ANIST e-service.
const THROTTLE: u32 = 50;

/// A sandbox whose ANIST e-services allow [`THROTTLE`] calls per second,
/// and a client whose rate limiter keeps 2% under that budget: against a
/// fixed one-second window, a call delayed by the scheduler followed by
/// fifty on time would count as fifty-one.
async fn throttled() -> (SandboxHandle, AnistClient) {
    let key = Arc::new(PrivateKey::generate(RsaBits::Rsa2048).unwrap());
    let registry = registry_with_limits(key.public_key(), 1_000_000, THROTTLE).unwrap();
    let sandbox = Sandbox::start(SandboxConfig::with_client_registry(2, key, registry))
        .await
        .unwrap();
    let limiter = Arc::new(RateLimiter::new(f64::from(THROTTLE) * 0.98, 1).unwrap());
    let session = sandbox
        .session_with(|caller| caller.rate_limiter(limiter))
        .unwrap();
    (sandbox, AnistClient::new(Arc::new(session)))
}

fn main() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        // Unthrottled: as fast as client and sandbox go together.
        let sandbox = Sandbox::start(SandboxConfig::with_default_client(1).unwrap())
            .await
            .unwrap();
        let client = Arc::new(AnistClient::new(Arc::new(sandbox.session().unwrap())));
        let run = drive(Arc::clone(&client), 32, Duration::from_secs(10)).await;
        report(
            "unthrottled, 32 tasks",
            &run,
            &sandbox,
            sandbox.front_throttled(),
        );
        sandbox.shutdown().await;

        // Throttled: the sandbox allows THROTTLE calls/s; the client's rate
        // limiter keeps to it with 16 tasks asking as fast as they can.
        let (sandbox, client) = throttled().await;
        let run = drive(Arc::new(client), 16, Duration::from_secs(20)).await;
        let name = format!("throttled to {THROTTLE}/s, 16 tasks");
        report(&name, &run, &sandbox, sandbox.front_throttled());
        println!(
            "  {:.1}% of the allowed rate",
            100.0 * run.calls as f64 / run.seconds / f64::from(THROTTLE)
        );
        sandbox.shutdown().await;
    });
}
