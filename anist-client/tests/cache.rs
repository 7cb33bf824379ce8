//! The voucher cache with a fake token fetcher: reuse, single-flight,
//! renewal, audit contexts, invalidation, shared errors, cancellation.

// Test helpers may unwrap: a panic there is a failing test.
#![allow(clippy::unwrap_used)]

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use anist_client::clock::{Clock, ManualClock};
use anist_client::env::Environment;
use anist_client::ids::{ClientId, PurposeId};
use anist_client::keys::{Kid, PrivateKey, RsaBits};
use anist_client::modi::{AuditContext, ModiSigner};
use anist_client::voucher::cache::{
    CachePolicy, FetchedVoucher, TokenFetcher, VoucherCache, VoucherKey,
};
use anist_client::voucher::token::{parse_token_response, FetchError};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use tokio::sync::Semaphore;

const CLIENT: &str = "c9b73ff4-e203-4580-911b-689514d350c2";
const PURPOSE: &str = "ffe23164-4b19-4ac4-8ee3-2a259dc2b81e";
const NOW: i64 = 1_764_000_000;

fn key_pair() -> &'static Arc<PrivateKey> {
    static KEY: OnceLock<Arc<PrivateKey>> = OnceLock::new();
    KEY.get_or_init(|| Arc::new(PrivateKey::generate(RsaBits::Rsa2048).unwrap()))
}

fn kid() -> Kid {
    key_pair().kid().clone()
}

fn vkey() -> VoucherKey {
    VoucherKey::new(
        Environment::Collaudo,
        ClientId::parse(CLIENT).unwrap(),
        kid(),
        PurposeId::parse(PURPOSE).unwrap(),
    )
}

/// Issues vouchers "signed" at the clock's time, with `lifetime` seconds
/// and `skew` seconds of difference between PDND's clock and ours. It can be
/// held (a semaphore with no permits) and made to fail.
struct Fake {
    clock: Arc<ManualClock>,
    calls: AtomicUsize,
    lifetime: i64,
    skew: i64,
    gate: Option<Arc<Semaphore>>,
    fail: bool,
    with_evidence: bool,
}

impl Fake {
    fn new(clock: &Arc<ManualClock>) -> Self {
        Self {
            clock: Arc::clone(clock),
            calls: AtomicUsize::new(0),
            lifetime: 600,
            skew: 0,
            gate: None,
            fail: false,
            with_evidence: false,
        }
    }

    fn calls(&self) -> usize {
        self.calls.load(Ordering::SeqCst)
    }
}

impl TokenFetcher for Fake {
    type Error = FetchError;

    async fn fetch(&self, key: &VoucherKey) -> Result<FetchedVoucher, FetchError> {
        let n = self.calls.fetch_add(1, Ordering::SeqCst) + 1;
        if let Some(gate) = &self.gate {
            let _permit = gate.acquire().await.unwrap();
        }
        if self.fail {
            let body = format!(
                r#"{{"status":400,"errors":[{{"code":"015-0008","detail":"x"}}],"correlationId":"call-{n}"}}"#
            );
            return parse_token_response(400, [], body.as_bytes()).map(|_| unreachable!());
        }
        let iat = self.clock.now() + self.skew;
        let payload = serde_json::json!({
            "iat": iat, "exp": iat + self.lifetime, "n": n, "purposeId": key.purpose_id().as_str()
        });
        let token = format!(
            "{}.{}.c2ln",
            URL_SAFE_NO_PAD.encode(r#"{"alg":"RS256"}"#),
            URL_SAFE_NO_PAD.encode(payload.to_string())
        );
        let body = serde_json::json!({ "access_token": token, "token_type": "Bearer", "expires_in": self.lifetime });
        let voucher = parse_token_response(200, [], body.to_string().as_bytes())?.voucher;
        if self.with_evidence {
            let signer = ModiSigner::new(ClientId::parse(CLIENT).unwrap(), Arc::clone(key_pair()));
            let te = signer
                .tracking_evidence(
                    &AuditContext::new("op", "office").unwrap(),
                    key.purpose_id(),
                    "aud",
                    &*self.clock,
                )
                .unwrap();
            return Ok(FetchedVoucher::with_tracking_evidence(voucher, te));
        }
        Ok(FetchedVoucher::new(voucher))
    }
}

fn serial(v: &anist_client::voucher::cache::CachedVoucher) -> i64 {
    let p = v
        .voucher()
        .access_token()
        .as_str()
        .split('.')
        .nth(1)
        .unwrap();
    let json: serde_json::Value =
        serde_json::from_slice(&URL_SAFE_NO_PAD.decode(p).unwrap()).unwrap();
    json["n"].as_i64().unwrap()
}

#[tokio::test]
async fn a_thousand_calls_in_one_lifetime_fetch_once() {
    let clock = Arc::new(ManualClock::new(NOW));
    let cache = VoucherCache::new(Fake::new(&clock), clock.clone());
    let key = vkey();
    for i in 0..1000 {
        clock.set(NOW + i * 539 / 1000);
        let v = cache.get(&key).await.unwrap();
        assert_eq!(serial(&v), 1);
    }
    assert_eq!(cache.fetcher().calls(), 1);
    assert_eq!(cache.len(), 1);
}

#[tokio::test]
async fn renewed_at_exp_minus_margin() {
    let clock = Arc::new(ManualClock::new(NOW));
    let cache = VoucherCache::new(Fake::new(&clock), clock.clone());
    let key = vkey();
    let v = cache.get(&key).await.unwrap();
    assert_eq!(v.reuse_until(), NOW + 600 - 60);
    assert_eq!(v.fetched_at(), NOW);
    clock.set(NOW + 539);
    assert_eq!(serial(&cache.get(&key).await.unwrap()), 1);
    clock.set(NOW + 540);
    assert_eq!(serial(&cache.get(&key).await.unwrap()), 2);
    assert_eq!(cache.fetcher().calls(), 2);
}

#[tokio::test]
async fn custom_margin_and_short_vouchers() {
    let clock = Arc::new(ManualClock::new(NOW));
    let mut fake = Fake::new(&clock);
    fake.lifetime = 60;
    let policy = CachePolicy {
        renew_margin: 60,
        audit_max_age: 240,
    };
    let cache = VoucherCache::with_policy(fake, clock.clone(), policy);
    // A voucher living no longer than the margin is reused for half its life.
    assert_eq!(cache.get(&vkey()).await.unwrap().reuse_until(), NOW + 30);
    let policy = CachePolicy {
        renew_margin: 10,
        audit_max_age: 240,
    };
    let cache = VoucherCache::with_policy(Fake::new(&clock), clock.clone(), policy);
    assert_eq!(cache.get(&vkey()).await.unwrap().reuse_until(), NOW + 590);
}

#[tokio::test]
async fn skewed_pdnd_clock_neither_storms_nor_overstays() {
    let clock = Arc::new(ManualClock::new(NOW));
    // PDND's clock is 15 minutes behind ours: its exp is already past here.
    let mut fake = Fake::new(&clock);
    fake.skew = -900;
    let cache = VoucherCache::new(fake, clock.clone());
    let key = vkey();
    for _ in 0..100 {
        cache.get(&key).await.unwrap();
    }
    assert_eq!(cache.fetcher().calls(), 1);
    assert_eq!(cache.get(&key).await.unwrap().reuse_until(), NOW + 540);
}

#[tokio::test]
async fn keys_are_separate() {
    let clock = Arc::new(ManualClock::new(NOW));
    let cache = VoucherCache::new(Fake::new(&clock), clock.clone());
    let a = vkey();
    let b = VoucherKey::new(
        Environment::Collaudo,
        ClientId::parse(CLIENT).unwrap(),
        kid(),
        PurposeId::parse("11111111-2222-4333-8444-555555555555").unwrap(),
    );
    let c = VoucherKey::new(
        Environment::Produzione,
        ClientId::parse(CLIENT).unwrap(),
        kid(),
        PurposeId::parse(PURPOSE).unwrap(),
    );
    let op1 = AuditContext::new("operatore-1", "c_h501").unwrap();
    let op2 = AuditContext::new("operatore-2", "c_h501").unwrap();
    let d = vkey().with_audit(&op1);
    let e = vkey().with_audit(&op2);
    let d2 = vkey().with_audit(&op1.clone());
    for k in [&a, &b, &c, &d, &e, &a, &b, &c, &d, &e, &d2] {
        cache.get(k).await.unwrap();
    }
    assert_eq!(cache.fetcher().calls(), 5);
    assert_eq!(cache.len(), 5);
    assert!(!format!("{d:?}").contains("operatore-1"));
}

#[tokio::test]
async fn audit_context_vouchers_renew_with_the_evidence() {
    let clock = Arc::new(ManualClock::new(NOW));
    let mut fake = Fake::new(&clock);
    fake.with_evidence = true;
    let cache = VoucherCache::new(fake, clock.clone());
    let key = vkey().with_audit(&AuditContext::new("op", "office").unwrap());
    let v = cache.get(&key).await.unwrap();
    assert!(v.tracking_evidence().is_some());
    assert_eq!(
        v.reuse_until(),
        NOW + 240,
        "TrackingEvidence older than 240 s is renewed"
    );
    clock.set(NOW + 240);
    assert_eq!(serial(&cache.get(&key).await.unwrap()), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_callers_share_the_in_flight_fetch() {
    let clock = Arc::new(ManualClock::new(NOW));
    let gate = Arc::new(Semaphore::new(0));
    let mut fake = Fake::new(&clock);
    fake.gate = Some(gate.clone());
    let cache = Arc::new(VoucherCache::new(fake, clock.clone()));
    let entered = Arc::new(AtomicUsize::new(0));
    let tasks: Vec<_> = (0..64)
        .map(|_| {
            let cache = Arc::clone(&cache);
            let entered = Arc::clone(&entered);
            tokio::spawn(async move {
                entered.fetch_add(1, Ordering::SeqCst);
                serial(&cache.get(&vkey()).await.unwrap())
            })
        })
        .collect();
    // Let every task reach the cache while the one fetch is held.
    while cache.fetcher().calls() == 0 || entered.load(Ordering::SeqCst) < 64 {
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
    tokio::time::sleep(Duration::from_millis(50)).await;
    gate.add_permits(1000);
    for t in tasks {
        assert_eq!(t.await.unwrap(), 1);
    }
    assert_eq!(cache.fetcher().calls(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_fetch_is_shared_then_retried_by_the_next_caller() {
    let clock = Arc::new(ManualClock::new(NOW));
    let gate = Arc::new(Semaphore::new(0));
    let mut fake = Fake::new(&clock);
    fake.gate = Some(gate.clone());
    fake.fail = true;
    let cache = Arc::new(VoucherCache::new(fake, clock.clone()));
    let entered = Arc::new(AtomicUsize::new(0));
    let tasks: Vec<_> = (0..16)
        .map(|_| {
            let cache = Arc::clone(&cache);
            let entered = Arc::clone(&entered);
            tokio::spawn(async move {
                entered.fetch_add(1, Ordering::SeqCst);
                cache.get(&vkey()).await.unwrap_err()
            })
        })
        .collect();
    while cache.fetcher().calls() == 0 || entered.load(Ordering::SeqCst) < 16 {
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
    tokio::time::sleep(Duration::from_millis(50)).await;
    gate.add_permits(1000);
    for t in tasks {
        let e = t.await.unwrap();
        assert_eq!(e.correlation_id(), Some("call-1"));
    }
    assert_eq!(cache.fetcher().calls(), 1);
    assert!(cache.is_empty(), "errors are not cached");
    let e = cache.get(&vkey()).await.unwrap_err();
    assert_eq!(e.correlation_id(), Some("call-2"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cancelled_fetch_is_taken_over_by_a_waiter() {
    let clock = Arc::new(ManualClock::new(NOW));
    let gate = Arc::new(Semaphore::new(0));
    let mut fake = Fake::new(&clock);
    fake.gate = Some(gate.clone());
    let cache = Arc::new(VoucherCache::new(fake, clock.clone()));
    let leader = {
        let cache = Arc::clone(&cache);
        tokio::spawn(async move { cache.get(&vkey()).await.map(|v| serial(&v)) })
    };
    while cache.fetcher().calls() == 0 {
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
    let waiter = {
        let cache = Arc::clone(&cache);
        tokio::spawn(async move { serial(&cache.get(&vkey()).await.unwrap()) })
    };
    tokio::time::sleep(Duration::from_millis(30)).await;
    leader.abort();
    assert!(leader.await.unwrap_err().is_cancelled());
    while cache.fetcher().calls() < 2 {
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
    gate.add_permits(1000);
    assert_eq!(waiter.await.unwrap(), 2);
    assert_eq!(cache.fetcher().calls(), 2);
}

#[tokio::test]
async fn invalidate_on_401_drops_only_the_rejected_voucher() {
    let clock = Arc::new(ManualClock::new(NOW));
    let cache = VoucherCache::new(Fake::new(&clock), clock.clone());
    let key = vkey();
    let first = cache.get(&key).await.unwrap();
    // The e-service answered 401 TokenExpired with `first`.
    assert!(cache.invalidate(&key, &first));
    let second = cache.get(&key).await.unwrap();
    assert_eq!(serial(&second), 2);
    // A late 401 for `first` from another task must not drop `second`.
    assert!(!cache.invalidate(&key, &first));
    assert_eq!(serial(&cache.get(&key).await.unwrap()), 2);
    assert_eq!(cache.fetcher().calls(), 2);
    cache.clear();
    assert!(cache.is_empty());
    assert_eq!(serial(&cache.get(&key).await.unwrap()), 3);
}

#[tokio::test]
async fn debug_hides_tokens() {
    let clock = Arc::new(ManualClock::new(NOW));
    let cache = VoucherCache::new(Fake::new(&clock), clock.clone());
    let v = cache.get(&vkey()).await.unwrap();
    let dbg = format!("{v:?} {cache:?}");
    assert!(!dbg.contains(v.voucher().access_token().as_str()), "{dbg}");
}
