//! The sandbox's faults as the real client ([`anist_client::call::Caller`])
//! sees them: one-shot dropped connections on the token route and on the
//! front, faults drawn by rate (each kind with its `CallError` code; rates
//! over 2,000 calls; the same sequence for the same seed), added latency,
//! and a skewed sandbox clock.
//!
//! Everything talks to 127.0.0.1 only.
#![cfg(feature = "sandbox")]
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;
use common::{client_key, sandbox_key};
use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anist_client::call::{CallError, Caller, ServiceProfile};
use anist_client::clock::ManualClock;
use anist_client::env::Environment;
use anist_client::ids::{ClientId, PurposeId};
use anist_client::modi::{AuditContext, ModiSigner};
use anist_client::sandbox::faults::FaultRates;
use anist_client::sandbox::registry::{
    Agreement, Client, Descriptor, EService, Front, Purpose, Registry, Tenant, DEFAULT_CLIENT,
    DEFAULT_CONSUMER, DEFAULT_PRODUCER, ECHO_AUDIENCE, ECHO_DESCRIPTOR, ECHO_EROGATORE,
    ECHO_ESERVICE, ECHO_PURPOSE, ECHO_SERVICE,
};
use anist_client::sandbox::{Fault, Route, Sandbox, SandboxConfig, SandboxHandle};
use anist_client::transport::Backoff;
use anist_client::voucher::cache::{VoucherCache, VoucherKey};
use anist_client::voucher::http::{HttpOptions, HttpTokenFetcher};
use anist_core::ErrorCode;

const NOW: i64 = 1_764_000_000;
const BODY: &[u8] = br#"{"domanda":"ping"}"#;

fn route() -> Route {
    Route::Front(format!("{ECHO_EROGATORE}/{ECHO_SERVICE}/v1"))
}

/// The echo e-service with this front profile and a quota that is never
/// reached.
fn registry(front: Front) -> Registry {
    Registry::builder()
        .tenant(Tenant::new(DEFAULT_CONSUMER, "Comune"))
        .tenant(Tenant::new(DEFAULT_PRODUCER, "Erogatore"))
        .eservice(EService::new(
            ECHO_ESERVICE,
            DEFAULT_PRODUCER,
            Descriptor::new(ECHO_DESCRIPTOR, ECHO_AUDIENCE)
                .daily_calls(1_000_000)
                .front(front),
        ))
        .agreement(Agreement::new(ECHO_ESERVICE, DEFAULT_CONSUMER))
        .purpose(Purpose::new(ECHO_PURPOSE, ECHO_ESERVICE, DEFAULT_CONSUMER))
        .client(
            Client::new(DEFAULT_CLIENT, DEFAULT_CONSUMER)
                .key(client_key().public_key().clone())
                .purpose(ECHO_PURPOSE),
        )
        .build()
        .unwrap()
}

struct World {
    sandbox: SandboxHandle,
    caller: Caller<HttpTokenFetcher>,
    key: VoucherKey,
    profile: ServiceProfile,
}

/// A sandbox (seed `seed`) and a real client with the given call timeout,
/// no retries of the token request and none after throttling. `modi`:
/// INTEGRITY_REST_02 + AUDIT_REST_02 on both sides, else a bare voucher.
async fn world(seed: u64, timeout: Duration, modi: bool) -> World {
    let front = Front::new(ECHO_EROGATORE, ECHO_SERVICE)
        .integrity(modi)
        .audit(modi)
        .max_concurrency(0);
    let clock = Arc::new(ManualClock::new(NOW));
    let sandbox = Sandbox::start(
        SandboxConfig::new(registry(front))
            .clock(clock.clone())
            .signing_key(sandbox_key())
            .seed(seed),
    )
    .await
    .unwrap();
    let fetcher = HttpTokenFetcher::new(sandbox.endpoints().clone(), client_key(), clock.clone())
        .unwrap()
        .retry_policy(Backoff::never());
    let cache = Arc::new(VoucherCache::new(fetcher, clock.clone()));
    let client = ClientId::parse(DEFAULT_CLIENT).unwrap();
    let caller = Caller::with_options(
        cache,
        ModiSigner::new(client.clone(), client_key()),
        clock,
        &HttpOptions::default().timeout(timeout),
    )
    .unwrap()
    .throttle_policy(Backoff {
        max_attempts: 1,
        seed: Some(1),
        ..Backoff::gateway_throttling()
    });
    let mut key = VoucherKey::new(
        Environment::Sandbox,
        client,
        client_key().kid().clone(),
        PurposeId::parse(ECHO_PURPOSE).unwrap(),
    );
    if modi {
        let context = AuditContext::new("operatore-1", "c_h501").unwrap();
        key = key.with_tracking_evidence(&context, ECHO_AUDIENCE);
    }
    let profile = ServiceProfile::new(&sandbox.front_url(ECHO_ESERVICE).unwrap(), ECHO_AUDIENCE)
        .integrity(modi)
        .audit(modi);
    World {
        sandbox,
        caller,
        key,
        profile,
    }
}

impl World {
    async fn call(&self) -> Result<(), CallError> {
        self.caller
            .post_json(&self.profile, &self.key, "echo", BODY)
            .await
            .map(|r| assert_eq!(r.status(), 200))
    }
}

/// What the client saw, in one word.
fn outcome(r: &Result<(), CallError>) -> &'static str {
    match r {
        Ok(()) => "ok",
        Err(e) => match (e.code(), e.problem().map(|p| (p.status, p.retry_after))) {
            ("gateway_server_error", Some((503, _))) => "503",
            ("gateway_throttled", Some((429, Some(_)))) => "429+retry-after",
            ("gateway_throttled", Some((429, None))) => "429",
            ("gateway_network", _) => "dropped",
            ("gateway_timeout", _) => "timeout",
            (code, _) => panic!("unexpected {code}: {e}"),
        },
    }
}

#[tokio::test]
async fn dropped_connections_are_network_errors() {
    let w = world(1, Duration::from_secs(10), true).await;
    // On the token route: the voucher request fails on the network.
    w.sandbox.inject(Fault::DropConnection);
    let e = w.call().await.unwrap_err();
    assert_eq!(e.code(), "voucher_network", "{e}");
    assert!(e.is_retryable());
    assert_eq!(w.sandbox.vouchers_issued(), 0);
    // On the front, after the checks: the answer breaks off.
    w.sandbox.inject_at(route(), Fault::DropConnection);
    let e = w.call().await.unwrap_err();
    assert_eq!(e.code(), "gateway_network", "{e}");
    assert!(e.is_retryable());
    assert!(e.problem().is_none());
    assert_eq!(w.sandbox.backend_calls(), 0);
    // The next call goes through.
    w.call().await.unwrap();
    assert_eq!(w.sandbox.backend_calls(), 1);
    w.sandbox.shutdown().await;
}

#[tokio::test]
async fn each_rated_fault_reaches_the_client_with_its_code() {
    let w = world(2, Duration::from_millis(300), true).await;
    let only = |f: fn(&mut FaultRates)| {
        let mut r = FaultRates {
            timeout_hold: Duration::from_millis(900),
            retry_after: 7,
            ..FaultRates::default()
        };
        f(&mut r);
        r
    };
    let cases: [(FaultRates, &str); 5] = [
        (only(|r| r.status_503 = 1.0), "503"),
        (
            only(|r| r.too_many_with_retry_after = 1.0),
            "429+retry-after",
        ),
        (only(|r| r.too_many_without = 1.0), "429"),
        (only(|r| r.drop_connection = 1.0), "dropped"),
        (only(|r| r.timeout = 1.0), "timeout"),
    ];
    for (rates, expected) in cases {
        w.sandbox.fault_rates(route(), Some(rates)).unwrap();
        for _ in 0..2 {
            let r = w.call().await;
            assert_eq!(outcome(&r), expected);
            if expected == "429+retry-after" {
                assert_eq!(r.unwrap_err().retry_after(), Some(Duration::from_secs(7)));
            }
        }
    }
    // Latency: every call is slower, and succeeds.
    w.sandbox
        .fault_rates(
            route(),
            Some(FaultRates {
                latency: Some(Duration::from_millis(120)),
                ..FaultRates::default()
            }),
        )
        .unwrap();
    let start = Instant::now();
    w.call().await.unwrap();
    w.call().await.unwrap();
    assert!(start.elapsed() >= Duration::from_millis(240));
    // A queued fault comes before the drawn one.
    w.sandbox.inject_at(route(), Fault::Status(503));
    assert_eq!(outcome(&w.call().await), "503");
    // No more rates: no more faults.
    w.sandbox.fault_rates(route(), None).unwrap();
    let start = Instant::now();
    w.call().await.unwrap();
    assert!(start.elapsed() < Duration::from_millis(120));
    // Bad rates are refused.
    let e = w
        .sandbox
        .fault_rates(
            route(),
            Some(FaultRates {
                status_503: 0.7,
                timeout: 0.7,
                ..FaultRates::default()
            }),
        )
        .unwrap_err();
    assert_eq!(e.code(), "fault_rates_above_one");
    w.sandbox.shutdown().await;
}

const RATES: FaultRates = FaultRates {
    status_503: 0.10,
    too_many_with_retry_after: 0.05,
    too_many_without: 0.05,
    drop_connection: 0.05,
    timeout: 0.01,
    timeout_hold: Duration::from_millis(250),
    retry_after: 2,
    latency: None,
};

async fn run(seed: u64, calls: usize) -> Vec<&'static str> {
    let w = world(seed, Duration::from_millis(100), false).await;
    w.sandbox.fault_rates(route(), Some(RATES)).unwrap();
    let mut seen = Vec::with_capacity(calls);
    for _ in 0..calls {
        seen.push(outcome(&w.call().await));
    }
    w.sandbox.shutdown().await;
    seen
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rates_hold_over_2000_calls_and_repeat_with_the_seed() {
    const N: usize = 2000;
    let a = run(42, N).await;
    let mut counts: HashMap<&str, usize> = HashMap::new();
    for o in &a {
        *counts.entry(o).or_default() += 1;
    }
    // Within four standard deviations of the binomial expectation.
    for (name, p) in [
        ("503", RATES.status_503),
        ("429+retry-after", RATES.too_many_with_retry_after),
        ("429", RATES.too_many_without),
        ("dropped", RATES.drop_connection),
        ("timeout", RATES.timeout),
        ("ok", 0.74),
    ] {
        let n = N as f64;
        let expected = n * p;
        let tolerance = 4.0 * (n * p * (1.0 - p)).sqrt();
        let got = counts.get(name).copied().unwrap_or(0) as f64;
        assert!(
            (got - expected).abs() <= tolerance,
            "{name}: {got} calls, expected {expected} ± {tolerance}"
        );
    }
    // The same seed gives the same sequence; another seed another one.
    assert_eq!(run(42, N).await, a);
    assert_ne!(run(43, 300).await, a[..300]);
}

#[tokio::test]
async fn clock_offset_skews_the_sandbox_judgement() {
    let w = world(3, Duration::from_secs(10), true).await;
    w.call().await.unwrap();
    // The sandbox runs 400 s ahead: the client's Agid-JWT-Signature (iat
    // = the client's now) is older than the front's 300 s window.
    w.sandbox.set_clock_offset(400);
    let e = w.call().await.unwrap_err();
    assert_eq!(e.code(), "gateway_refused", "{e}");
    assert_eq!(e.problem().map(|p| p.status), Some(400));
    assert_eq!(w.sandbox.backend_calls(), 1);
    w.sandbox.set_clock_offset(0);
    w.call().await.unwrap();
    assert_eq!(w.sandbox.backend_calls(), 2);
    w.sandbox.shutdown().await;

    // On the token route: the client's assertion (valid 300 s from the
    // client's now) is already expired for PDND.
    let w = world(4, Duration::from_secs(10), false).await;
    w.sandbox.set_clock_offset(400);
    let e = w.call().await.unwrap_err();
    assert_eq!(e.code(), "voucher_refused", "{e}");
    w.sandbox.set_clock_offset(-30);
    w.call().await.unwrap();
    assert_eq!(w.sandbox.vouchers_issued(), 1);
    w.sandbox.shutdown().await;
}
