//! The client-side rate limiter against the sandbox front: 20 concurrent
//! callers, a front that lets 2 calls in flight (each held 30 ms), and a
//! shared limiter below that → no `429`; the same load without the
//! limiter is throttled. A throttled call pauses the shared limiter.
//!
//! Everything talks to 127.0.0.1 only.
#![cfg(feature = "sandbox")]
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;
use std::time::{Duration, Instant};

use anist_client::call::{Caller, ServiceProfile};
use anist_client::clock::ManualClock;
use anist_client::env::Environment;
use anist_client::ids::{ClientId, PurposeId};
use anist_client::keys::{PrivateKey, RsaBits};
use anist_client::modi::ModiSigner;
use anist_client::ratelimit::RateLimiter;
use anist_client::sandbox::faults::FaultRates;
use anist_client::sandbox::registry::{
    Agreement, Client, Descriptor, EService, Front, Purpose, Registry, Tenant, DEFAULT_CLIENT,
    DEFAULT_CONSUMER, DEFAULT_PRODUCER, ECHO_AUDIENCE, ECHO_DESCRIPTOR, ECHO_EROGATORE,
    ECHO_ESERVICE, ECHO_PURPOSE, ECHO_SERVICE,
};
use anist_client::sandbox::{Fault, Route, Sandbox, SandboxConfig, SandboxHandle};
use anist_client::transport::Backoff;
use anist_client::voucher::cache::{VoucherCache, VoucherKey};
use anist_client::voucher::http::HttpTokenFetcher;
use anist_core::ErrorCode;

const NOW: i64 = 1_764_000_000;
const CALLERS: usize = 20;
const CALLS_EACH: usize = 2;

struct World {
    sandbox: SandboxHandle,
    caller: Arc<Caller<HttpTokenFetcher>>,
    key: VoucherKey,
    profile: ServiceProfile,
}

async fn world(limiter: Option<Arc<RateLimiter>>) -> World {
    let key = Arc::new(PrivateKey::generate(RsaBits::Rsa2048).unwrap());
    let front = Front::new(ECHO_EROGATORE, ECHO_SERVICE).max_concurrency(2);
    let registry = Registry::builder()
        .tenant(Tenant::new(DEFAULT_CONSUMER, "Comune"))
        .tenant(Tenant::new(DEFAULT_PRODUCER, "Erogatore"))
        .eservice(EService::new(
            ECHO_ESERVICE,
            DEFAULT_PRODUCER,
            Descriptor::new(ECHO_DESCRIPTOR, ECHO_AUDIENCE)
                .daily_calls(10_000)
                .front(front),
        ))
        .agreement(Agreement::new(ECHO_ESERVICE, DEFAULT_CONSUMER))
        .purpose(Purpose::new(ECHO_PURPOSE, ECHO_ESERVICE, DEFAULT_CONSUMER))
        .client(
            Client::new(DEFAULT_CLIENT, DEFAULT_CONSUMER)
                .key(key.public_key().clone())
                .purpose(ECHO_PURPOSE),
        )
        .build()
        .unwrap();
    let clock = Arc::new(ManualClock::new(NOW));
    let sandbox = Sandbox::start(SandboxConfig::new(registry).clock(clock.clone()))
        .await
        .unwrap();
    // Every call holds its concurrency slot for 30 ms.
    sandbox
        .fault_rates(
            Route::Front(format!("{ECHO_EROGATORE}/{ECHO_SERVICE}/v1")),
            Some(FaultRates {
                latency: Some(Duration::from_millis(30)),
                ..FaultRates::default()
            }),
        )
        .unwrap();
    let fetcher = HttpTokenFetcher::new(sandbox.endpoints().clone(), key.clone(), clock.clone())
        .unwrap()
        .retry_policy(Backoff::never());
    let cache = Arc::new(VoucherCache::new(fetcher, clock.clone()));
    let client = ClientId::parse(DEFAULT_CLIENT).unwrap();
    let mut caller = Caller::new(cache, ModiSigner::new(client.clone(), key.clone()), clock)
        .unwrap()
        .throttle_policy(Backoff {
            max_attempts: 1,
            seed: Some(1),
            ..Backoff::gateway_throttling()
        });
    if let Some(l) = limiter {
        caller = caller.rate_limiter(l);
    }
    let voucher_key = VoucherKey::new(
        Environment::Sandbox,
        client,
        key.kid().clone(),
        PurposeId::parse(ECHO_PURPOSE).unwrap(),
    );
    let profile = ServiceProfile::new(&sandbox.front_url(ECHO_ESERVICE).unwrap(), ECHO_AUDIENCE);
    World {
        sandbox,
        caller: Arc::new(caller),
        key: voucher_key,
        profile,
    }
}

/// Runs the load; returns (successes, codes of the failures).
async fn load(w: &World) -> (usize, Vec<&'static str>) {
    let tasks: Vec<_> = (0..CALLERS)
        .map(|i| {
            let caller = Arc::clone(&w.caller);
            let key = w.key.clone();
            let profile = w.profile.clone();
            tokio::spawn(async move {
                let mut out = Vec::new();
                for n in 0..CALLS_EACH {
                    let body = format!(r#"{{"caller":{i},"n":{n}}}"#);
                    out.push(
                        caller
                            .post_json(&profile, &key, "echo", body.as_bytes())
                            .await
                            .map(|r| r.status())
                            .map_err(|e| e.code()),
                    );
                }
                out
            })
        })
        .collect();
    let mut ok = 0;
    let mut failed = Vec::new();
    for t in tasks {
        for r in t.await.unwrap() {
            match r {
                Ok(200) => ok += 1,
                Ok(s) => panic!("status {s}"),
                Err(code) => failed.push(code),
            }
        }
    }
    (ok, failed)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_limiter_below_the_front_concurrency_gets_no_429() {
    // Without a limiter, 20 callers at once overrun 2 slots.
    let w = world(None).await;
    let (_, failed) = load(&w).await;
    assert!(
        failed.contains(&"gateway_throttled"),
        "the load must be able to overrun the front: {failed:?}"
    );
    w.sandbox.shutdown().await;

    // 20 calls per second, no burst: a call every 50 ms, each holding its
    // slot 30 ms; 2 in flight only if a call takes over 50 ms, 3 never.
    let limiter = Arc::new(RateLimiter::new(20.0, 1).unwrap());
    let w = world(Some(Arc::clone(&limiter))).await;
    let start = Instant::now();
    let (ok, failed) = load(&w).await;
    assert_eq!(failed, Vec::<&str>::new());
    assert_eq!(ok, CALLERS * CALLS_EACH);
    assert_eq!(w.sandbox.backend_calls(), (CALLERS * CALLS_EACH) as u64);
    // 40 calls, one every 50 ms: at least 1.95 s.
    assert!(start.elapsed() >= Duration::from_millis(1950));
    w.sandbox.shutdown().await;
}

#[tokio::test]
async fn throttling_pauses_the_shared_limiter() {
    let limiter = Arc::new(RateLimiter::new(100.0, 10).unwrap());
    let w = world(Some(Arc::clone(&limiter))).await;
    w.sandbox.inject_at(
        Route::Front(format!("{ECHO_EROGATORE}/{ECHO_SERVICE}/v1")),
        Fault::TooManyRequests {
            retry_after: Some(2),
        },
    );
    let e = w
        .caller
        .post_json(&w.profile, &w.key, "echo", b"{}")
        .await
        .unwrap_err();
    assert_eq!(e.code(), "gateway_throttled");
    // Everyone sharing the limiter now waits for the Retry-After.
    let wait = limiter.delay();
    assert!(
        wait > Duration::from_millis(1500) && wait <= Duration::from_secs(2),
        "{wait:?}"
    );
    let start = Instant::now();
    w.caller
        .post_json(&w.profile, &w.key, "echo", b"{}")
        .await
        .unwrap();
    assert!(start.elapsed() >= Duration::from_millis(1500));
    w.sandbox.shutdown().await;
}
