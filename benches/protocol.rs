//! The protocol layer's hot paths, one thread: reusing a cached voucher,
//! and building the ModI headers of a 1 KB JSON call with an RSA-2048 key
//! (`Digest` + `Agid-JWT-Signature`, and with an `Agid-JWT-TrackingEvidence`
//! signed for the call).
//!
//! Run: `cargo bench --bench protocol`. Figures are in `benches/README.md`.

use std::future::Future;
use std::pin::pin;
use std::sync::Arc;
use std::task::{Context, Poll, Waker};

use anist_client::clock::ManualClock;
use anist_client::env::Environment;
use anist_client::ids::{ClientId, PurposeId};
use anist_client::keys::{PrivateKey, RsaBits};
use anist_client::modi::{AuditContext, IntegrityRequest, ModiSigner};
use anist_client::voucher::cache::{FetchedVoucher, TokenFetcher, VoucherCache, VoucherKey};
use anist_client::voucher::token::{parse_token_response, FetchError};
use divan::{black_box, Bencher};

const NOW: i64 = 1_764_000_000;
const CLIENT: &str = "c9b73ff4-e203-4580-911b-689514d350c2";
const PURPOSE: &str = "ffe23164-4b19-4ac4-8ee3-2a259dc2b81e";
const AUDIENCE: &str = "https://modipa-val.example.invalid/govway/rest/in/Ente/servizio/v1";

fn main() {
    divan::main();
}

/// A fetcher that answers at once with a fixed 600 s voucher.
struct Fixed;

impl TokenFetcher for Fixed {
    type Error = FetchError;
    async fn fetch(&self, _key: &VoucherKey) -> Result<FetchedVoucher, FetchError> {
        let r = parse_token_response(
            200,
            [],
            br#"{"access_token":"a.b.c","token_type":"Bearer","expires_in":600}"#,
        )?;
        Ok(FetchedVoucher::new(r.voucher))
    }
}

/// Polls a future that never waits (a cache hit, the fixed fetcher).
fn ready<F: Future>(f: F) -> F::Output {
    let mut f = pin!(f);
    match f.as_mut().poll(&mut Context::from_waker(Waker::noop())) {
        Poll::Ready(v) => v,
        Poll::Pending => panic!("the future waited"),
    }
}

fn key() -> Arc<PrivateKey> {
    Arc::new(PrivateKey::generate(RsaBits::Rsa2048).expect("an RSA-2048 key"))
}

fn voucher_key(kid_of: &PrivateKey, purpose: &str) -> VoucherKey {
    VoucherKey::new(
        Environment::Collaudo,
        ClientId::parse(CLIENT).expect("a client id"),
        kid_of.kid().clone(),
        PurposeId::parse(purpose).expect("a purpose id"),
    )
}

/// `VoucherCache::get` of a voucher already cached (one key in the cache).
#[divan::bench]
fn voucher_cache_hit(b: Bencher) {
    let k = key();
    let cache = VoucherCache::new(Fixed, Arc::new(ManualClock::new(NOW)));
    let vk = voucher_key(&k, PURPOSE);
    ready(cache.get(&vk)).expect("a voucher");
    b.bench(|| ready(cache.get(black_box(&vk))).map(|v| v.reuse_until()));
}

/// The same hit with 1,000 keys (purposes) in the cache.
#[divan::bench]
fn voucher_cache_hit_among_1000(b: Bencher) {
    let k = key();
    let cache = VoucherCache::new(Fixed, Arc::new(ManualClock::new(NOW)));
    let keys: Vec<VoucherKey> = (0..1000)
        .map(|i| voucher_key(&k, &format!("ffe23164-4b19-4ac4-8ee3-{i:012}")))
        .collect();
    for vk in &keys {
        ready(cache.get(vk)).expect("a voucher");
    }
    let vk = &keys[500];
    b.bench(|| ready(cache.get(black_box(vk))).map(|v| v.reuse_until()));
}

fn body_1kb() -> Vec<u8> {
    let mut s = String::from(r#"{"richiesta":""#);
    while s.len() < 1010 {
        s.push_str("abcdefghij");
    }
    s.push_str(r#""}"#);
    s.into_bytes()
}

/// INTEGRITY_REST_02 for a 1 KB body: `Digest` (SHA-256) and the
/// `Agid-JWT-Signature` (RS256, 2048 bits) over it.
#[divan::bench]
fn modi_integrity_1kb(b: Bencher) {
    let signer = ModiSigner::new(ClientId::parse(CLIENT).expect("a client id"), key());
    let clock = ManualClock::new(NOW);
    let body = body_1kb();
    b.bench(|| {
        let req = IntegrityRequest::new(AUDIENCE)
            .body(black_box(&body))
            .content_type("application/json");
        signer.integrity(&req, &clock).map(|h| h.jti().len())
    });
}

/// The above plus a fresh `Agid-JWT-TrackingEvidence` (AUDIT_REST_02), as
/// when the evidence (and so the voucher) is renewed for the call.
#[divan::bench]
fn modi_integrity_and_tracking_evidence_1kb(b: Bencher) {
    let signer = ModiSigner::new(ClientId::parse(CLIENT).expect("a client id"), key());
    let clock = ManualClock::new(NOW);
    let body = body_1kb();
    let context = AuditContext::new("operatore-42", "c_h501").expect("an audit context");
    let purpose = PurposeId::parse(PURPOSE).expect("a purpose id");
    b.bench(|| {
        let te = signer.tracking_evidence(&context, &purpose, AUDIENCE, &clock);
        let req = IntegrityRequest::new(AUDIENCE)
            .body(black_box(&body))
            .content_type("application/json");
        let h = signer.integrity(&req, &clock);
        (te.map(|t| t.iat()), h.map(|h| h.jti().len()))
    });
}

/// `Digest: SHA-256=<base64>` of the 1 KB body alone, for reference.
#[divan::bench]
fn digest_1kb(b: Bencher) {
    let body = body_1kb();
    b.bench(|| anist_client::modi::digest_header(black_box(&body)));
}
