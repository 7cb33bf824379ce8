//! Conformance of the sandbox with the DPoP variant (RFC 9449, protocol
//! reference §2.8): for every rule of the proof, at the token endpoint and
//! at the front, the violating request (raw HTTP, the proof built by hand)
//! is refused with the real status and body, and the compliant one is
//! accepted. Then the real client: `HttpTokenFetcher::dpop_key` +
//! `Caller::dpop_key` + `ServiceProfile::dpop`.
//!
//! Everything talks to 127.0.0.1 only.
#![cfg(feature = "sandbox")]
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;
use common::key;
use std::sync::Arc;
use std::time::Duration;

use anist_client::call::{Caller, ServiceProfile};
use anist_client::clock::ManualClock;
use anist_client::env::Environment;
use anist_client::ids::{ClientId, PurposeId};
use anist_client::jws::decode_unverified;
use anist_client::keys::PrivateKey;
use anist_client::modi::ModiSigner;
use anist_client::sandbox::registry::{
    Agreement, Client, Descriptor, EService, Front, Purpose, Registry, Tenant, DEFAULT_CLIENT,
    DEFAULT_CONSUMER, DEFAULT_PRODUCER, ECHO_AUDIENCE, ECHO_DESCRIPTOR, ECHO_EROGATORE,
    ECHO_ESERVICE, ECHO_PURPOSE, ECHO_SERVICE,
};
use anist_client::sandbox::{Sandbox, SandboxConfig, SandboxHandle, REASON_HEADER};
use anist_client::transport::Backoff;
use anist_client::voucher::assertion::AssertionBuilder;
use anist_client::voucher::cache::{VoucherCache, VoucherKey};
use anist_client::voucher::http::HttpTokenFetcher;
use anist_client::voucher::token::TokenRequest;
use anist_core::ErrorCode;
use aws_lc_rs::digest;
use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::signature::{EcdsaKeyPair, KeyPair as _, ECDSA_P256_SHA256_FIXED_SIGNING};
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine as _;
use serde_json::{json, Map, Value};

const NOW: i64 = 1_764_000_000;
const BODY: &[u8] = br#"{"domanda":"ping"}"#;

/// The client-assertion key, the DPoP key, another key.
fn client_key() -> Arc<PrivateKey> {
    key(0)
}
fn dpop_key() -> Arc<PrivateKey> {
    key(1)
}
fn other_key() -> Arc<PrivateKey> {
    key(2)
}

struct World {
    sandbox: SandboxHandle,
    http: reqwest::Client,
    clock: Arc<ManualClock>,
}

/// The echo e-service without ModI patterns (the voucher and DPoP only).
async fn world() -> World {
    let registry = Registry::builder()
        .tenant(Tenant::new(DEFAULT_CONSUMER, "Comune"))
        .tenant(Tenant::new(DEFAULT_PRODUCER, "Erogatore"))
        .eservice(EService::new(
            ECHO_ESERVICE,
            DEFAULT_PRODUCER,
            Descriptor::new(ECHO_DESCRIPTOR, ECHO_AUDIENCE)
                .front(Front::new(ECHO_EROGATORE, ECHO_SERVICE).integrity(false)),
        ))
        .agreement(Agreement::new(ECHO_ESERVICE, DEFAULT_CONSUMER))
        .purpose(Purpose::new(ECHO_PURPOSE, ECHO_ESERVICE, DEFAULT_CONSUMER))
        .client(
            Client::new(DEFAULT_CLIENT, DEFAULT_CONSUMER)
                .key(client_key().public_key().clone())
                .purpose(ECHO_PURPOSE),
        )
        .build()
        .unwrap();
    let clock = Arc::new(ManualClock::new(NOW));
    World {
        sandbox: Sandbox::start(
            SandboxConfig::new(registry)
                .clock(clock.clone())
                .rate_limit(1000, 1000),
        )
        .await
        .unwrap(),
        http: reqwest::Client::builder()
            .timeout(Duration::from_secs(10))
            .build()
            .unwrap(),
        clock,
    }
}

fn b64(b: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(b)
}

fn sha256(b: &[u8]) -> Vec<u8> {
    digest::digest(&digest::SHA256, b).as_ref().to_vec()
}

/// RS256 by hand (aws-lc-rs directly).
fn sign_rs(header: &Value, payload: &Value, key: &PrivateKey) -> String {
    let pem = key.to_pkcs8_pem().unwrap();
    let b: String = pem.lines().filter(|l| !l.starts_with("-----")).collect();
    let pair = aws_lc_rs::rsa::KeyPair::from_pkcs8(&STANDARD.decode(b).unwrap()).unwrap();
    let input = format!(
        "{}.{}",
        b64(header.to_string().as_bytes()),
        b64(payload.to_string().as_bytes())
    );
    let mut sig = vec![0u8; pair.public_modulus_len()];
    pair.sign(
        &aws_lc_rs::signature::RSA_PKCS1_SHA256,
        &SystemRandom::new(),
        input.as_bytes(),
        &mut sig,
    )
    .unwrap();
    format!("{input}.{}", b64(&sig))
}

/// `{"kty","n","e"}` of an RSA key, by hand.
fn rsa_jwk(key: &PrivateKey) -> Value {
    let full: Value = serde_json::from_str(&key.public_key().to_jwk()).unwrap();
    json!({ "kty": "RSA", "n": full["n"], "e": full["e"] })
}

fn fresh_jti() -> String {
    static N: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1);
    let n = N.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
    format!("dpop-jti-{n}")
}

/// A proof, compliant by default; tests break one member.
struct Proof {
    header: Value,
    claims: Value,
    key: Arc<PrivateKey>,
}

impl Proof {
    fn new(htm: &str, htu: &str) -> Self {
        Self {
            header: json!({ "typ": "dpop+jwt", "alg": "RS256", "jwk": rsa_jwk(&dpop_key()) }),
            claims: json!({ "jti": fresh_jti(), "htm": htm, "htu": htu, "iat": NOW }),
            key: dpop_key(),
        }
    }

    fn at_front(url: &str, voucher: &str) -> Self {
        let mut p = Self::new("POST", url);
        obj(&mut p.claims).insert("ath".into(), json!(b64(&sha256(voucher.as_bytes()))));
        p
    }

    fn sign(&self) -> String {
        sign_rs(&self.header, &self.claims, &self.key)
    }
}

fn obj(v: &mut Value) -> &mut Map<String, Value> {
    v.as_object_mut().unwrap()
}

#[derive(Debug)]
struct Answer {
    status: u16,
    reason: String,
    body: Value,
}

async fn answer(r: reqwest::Response) -> Answer {
    let status = r.status().as_u16();
    let reason = r
        .headers()
        .get(REASON_HEADER)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_string();
    let body = serde_json::from_slice(&r.bytes().await.unwrap()).unwrap_or(Value::Null);
    Answer {
        status,
        reason,
        body,
    }
}

/// A valid token request (assertion made by the library), with these
/// `DPoP` header values.
async fn token(w: &World, proofs: &[&str]) -> Answer {
    let client = ClientId::parse(DEFAULT_CLIENT).unwrap();
    let assertion = AssertionBuilder::new(
        client.clone(),
        PurposeId::parse(ECHO_PURPOSE).unwrap(),
        w.sandbox.endpoints(),
    )
    .build(&client_key(), w.clock.as_ref())
    .unwrap();
    let mut b = w
        .http
        .post(w.sandbox.endpoints().token_url())
        .body(TokenRequest::new(client, &assertion).form_body());
    for (n, v) in TokenRequest::headers() {
        b = b.header(n, v);
    }
    for p in proofs {
        b = b.header("DPoP", *p);
    }
    answer(b.send().await.unwrap()).await
}

fn token_url(w: &World) -> String {
    w.sandbox.endpoints().token_url().to_string()
}

/// PDND's opaque 400 with the reason in the sandbox header.
fn assert_refused(a: &Answer, code: &str) {
    assert_eq!(a.status, 400, "{a:?}");
    assert_eq!(a.body["errors"][0]["code"], "015-0008", "{a:?}");
    assert_eq!(a.body["detail"], "Bad request");
    assert!(
        a.reason.starts_with(&format!("{code}: ")),
        "expected {code}, got {:?}",
        a.reason
    );
}

/// A DPoP voucher bound to `jkt`; returns the voucher.
fn assert_dpop_voucher(a: &Answer, jkt: &str) -> String {
    assert_eq!(a.status, 200, "{a:?}");
    assert_eq!(a.body["token_type"], "DPoP");
    let token = a.body["access_token"].as_str().unwrap().to_string();
    let d = decode_unverified(&token).unwrap();
    assert_eq!(d.payload["cnf"], json!({ "jkt": jkt }));
    assert_eq!(d.header["typ"], "at+jwt");
    token
}

fn dpop_jkt() -> String {
    dpop_key().kid().as_str().to_string()
}

// ---- Token endpoint ------------------------------------------------------

#[tokio::test]
async fn as_compliant_proof_gives_a_bound_voucher_and_no_proof_a_bearer() {
    let w = world().await;
    let a = token(&w, &[&Proof::new("POST", &token_url(&w)).sign()]).await;
    assert_dpop_voucher(&a, &dpop_jkt());
    let a = token(&w, &[]).await;
    assert_eq!(a.body["token_type"], "Bearer");
    let d = decode_unverified(a.body["access_token"].as_str().unwrap()).unwrap();
    assert!(!d.payload.contains_key("cnf"));
    w.sandbox.shutdown().await;
}

/// One rule at the token endpoint: `breaks` makes the proof violate it.
async fn as_rule(breaks: impl FnOnce(&mut Proof), code: &str) {
    let w = world().await;
    let mut p = Proof::new("POST", &token_url(&w));
    breaks(&mut p);
    assert_refused(&token(&w, &[&p.sign()]).await, code);
    assert_eq!(w.sandbox.vouchers_issued(), 0);
    let ok = token(&w, &[&Proof::new("POST", &token_url(&w)).sign()]).await;
    assert_dpop_voucher(&ok, &dpop_jkt());
    w.sandbox.shutdown().await;
}

const INVALID: &str = "dpopProofValidationFailed";

#[tokio::test]
async fn as_typ_is_dpop_jwt() {
    as_rule(|p| p.header["typ"] = json!("JWT"), INVALID).await;
}

#[tokio::test]
async fn as_header_has_only_typ_alg_jwk() {
    as_rule(
        |p| p.header["kid"] = json!(dpop_key().kid().as_str()),
        INVALID,
    )
    .await;
}

#[tokio::test]
async fn as_jwk_has_only_kty_n_e() {
    as_rule(|p| p.header["jwk"]["use"] = json!("sig"), INVALID).await;
}

#[tokio::test]
async fn as_alg_matches_the_key_type() {
    as_rule(|p| p.header["alg"] = json!("ES256"), INVALID).await;
}

#[tokio::test]
async fn as_alg_is_rs256_or_es256() {
    as_rule(|p| p.header["alg"] = json!("RS512"), INVALID).await;
}

#[tokio::test]
async fn as_claims_are_exactly_four() {
    as_rule(|p| p.claims["nonce"] = json!("x"), INVALID).await;
}

#[tokio::test]
async fn as_claims_jti_is_required() {
    as_rule(
        |p| {
            obj(&mut p.claims).remove("jti");
        },
        INVALID,
    )
    .await;
}

#[tokio::test]
async fn as_no_ath_at_the_token_endpoint() {
    as_rule(|p| p.claims["ath"] = json!(b64(&sha256(b"x"))), INVALID).await;
}

#[tokio::test]
async fn as_htm_is_post() {
    as_rule(|p| p.claims["htm"] = json!("GET"), INVALID).await;
}

#[tokio::test]
async fn as_htu_is_the_token_url() {
    as_rule(
        |p| p.claims["htu"] = json!("https://auth.interop.pagopa.it/token.oauth2"),
        INVALID,
    )
    .await;
}

#[tokio::test]
async fn as_iat_at_most_10_s_ahead() {
    as_rule(|p| p.claims["iat"] = json!(NOW + 11), INVALID).await;
}

#[tokio::test]
async fn as_iat_at_most_60_s_old() {
    as_rule(|p| p.claims["iat"] = json!(NOW - 61), INVALID).await;
}

#[tokio::test]
async fn as_iat_window_edges_are_accepted() {
    let w = world().await;
    for iat in [NOW + 10, NOW - 60] {
        let mut p = Proof::new("POST", &token_url(&w));
        p.claims["iat"] = json!(iat);
        assert_dpop_voucher(&token(&w, &[&p.sign()]).await, &dpop_jkt());
    }
    w.sandbox.shutdown().await;
}

#[tokio::test]
async fn as_signature_by_the_jwk() {
    as_rule(
        |p| p.key = other_key(),
        "dpopProofSignatureValidationFailed",
    )
    .await;
}

#[tokio::test]
async fn as_one_proof_only() {
    let w = world().await;
    let a = Proof::new("POST", &token_url(&w)).sign();
    let b = Proof::new("POST", &token_url(&w)).sign();
    assert_refused(&token(&w, &[&format!("{a},{b}")]).await, INVALID);
    assert_refused(&token(&w, &[&a, &b]).await, INVALID);
    assert_dpop_voucher(&token(&w, &[&a]).await, &dpop_jkt());
    w.sandbox.shutdown().await;
}

#[tokio::test]
async fn as_proof_jti_is_not_replayed() {
    let w = world().await;
    let p = Proof::new("POST", &token_url(&w)).sign();
    assert_dpop_voucher(&token(&w, &[&p]).await, &dpop_jkt());
    assert_refused(&token(&w, &[&p]).await, "dpopProofJtiAlreadyUsed");
    assert_eq!(w.sandbox.vouchers_issued(), 1);
    // Once the proof has expired (and its jti is forgotten) it is too old.
    w.clock.advance(80);
    assert_refused(&token(&w, &[&p]).await, INVALID);
    w.sandbox.shutdown().await;
}

#[tokio::test]
async fn as_es256_proofs_are_accepted() {
    let w = world().await;
    let rng = SystemRandom::new();
    let pkcs8 = EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &rng).unwrap();
    let pair = EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, pkcs8.as_ref()).unwrap();
    let point = pair.public_key().as_ref();
    assert_eq!(point.len(), 65);
    let (x, y) = (b64(&point[1..33]), b64(&point[33..]));
    let header = json!({ "typ": "dpop+jwt", "alg": "ES256", "jwk": { "kty": "EC", "crv": "P-256", "x": x, "y": y } });
    let claims = json!({ "jti": fresh_jti(), "htm": "POST", "htu": token_url(&w), "iat": NOW });
    let input = format!(
        "{}.{}",
        b64(header.to_string().as_bytes()),
        b64(claims.to_string().as_bytes())
    );
    let sig = pair.sign(&rng, input.as_bytes()).unwrap();
    let proof = format!("{input}.{}", b64(sig.as_ref()));
    // RFC 7638 thumbprint of the EC key, computed here.
    let canonical = format!(r#"{{"crv":"P-256","kty":"EC","x":"{x}","y":"{y}"}}"#);
    let jkt = b64(&sha256(canonical.as_bytes()));
    assert_dpop_voucher(&token(&w, &[&proof]).await, &jkt);
    // The same proof with a broken signature.
    let broken = format!("{input}.{}", b64(&[0u8; 64]));
    assert_refused(
        &token(&w, &[&broken]).await,
        "dpopProofSignatureValidationFailed",
    );
    w.sandbox.shutdown().await;
}

// ---- Front ---------------------------------------------------------------

fn front_url(w: &World) -> String {
    format!("{}/echo", w.sandbox.front_url(ECHO_ESERVICE).unwrap())
}

async fn dpop_voucher(w: &World) -> String {
    assert_dpop_voucher(
        &token(w, &[&Proof::new("POST", &token_url(w)).sign()]).await,
        &dpop_jkt(),
    )
}

async fn call(w: &World, authorization: &str, proofs: &[&str]) -> Answer {
    let mut b = w
        .http
        .post(front_url(w))
        .header("Content-Type", "application/json")
        .header("Authorization", authorization)
        .body(BODY);
    for p in proofs {
        b = b.header("DPoP", *p);
    }
    answer(b.send().await.unwrap()).await
}

fn assert_unauthorized(a: &Answer, reason: &str) {
    assert_eq!(a.status, 401, "{a:?}");
    assert_eq!(a.body["title"], "TokenAuthenticationFailed", "{a:?}");
    assert_eq!(a.body["detail"], "Invalid token");
    assert!(a.body["govway_id"].is_string());
    assert!(
        a.reason.contains(reason),
        "expected {reason:?} in {:?}",
        a.reason
    );
}

fn assert_echoed(a: &Answer) {
    assert_eq!(a.status, 200, "{a:?}");
    assert_eq!(a.body["received"], json!({"domanda": "ping"}));
}

/// One rule at the front: the violating call, then a compliant one.
async fn front_rule(breaks: impl FnOnce(&mut Proof, &mut String), reason: &str) {
    let w = world().await;
    let voucher = dpop_voucher(&w).await;
    let mut p = Proof::at_front(&front_url(&w), &voucher);
    let mut authorization = format!("DPoP {voucher}");
    breaks(&mut p, &mut authorization);
    assert_unauthorized(&call(&w, &authorization, &[&p.sign()]).await, reason);
    assert_eq!(w.sandbox.backend_calls(), 0);
    let ok = Proof::at_front(&front_url(&w), &voucher).sign();
    assert_echoed(&call(&w, &format!("DPoP {voucher}"), &[&ok]).await);
    w.sandbox.shutdown().await;
}

#[tokio::test]
async fn front_bound_voucher_goes_as_dpop() {
    front_rule(
        |_, auth| *auth = auth.replacen("DPoP", "Bearer", 1),
        "must be sent as Authorization: DPoP",
    )
    .await;
}

#[tokio::test]
async fn front_ath_is_the_voucher_hash() {
    front_rule(
        |p, _| p.claims["ath"] = json!(b64(&sha256(b"another voucher"))),
        "ath",
    )
    .await;
}

#[tokio::test]
async fn front_ath_is_required() {
    front_rule(
        |p, _| {
            obj(&mut p.claims).remove("ath");
        },
        "claims must be exactly",
    )
    .await;
}

#[tokio::test]
async fn front_proof_key_is_the_bound_key() {
    front_rule(
        |p, _| {
            p.key = other_key();
            p.header["jwk"] = rsa_jwk(&other_key());
        },
        "cnf.jkt",
    )
    .await;
}

#[tokio::test]
async fn front_proof_signature() {
    front_rule(
        |p, _| p.key = other_key(),
        "dpopProofSignatureValidationFailed",
    )
    .await;
}

#[tokio::test]
async fn front_htu_is_the_resource() {
    front_rule(
        |p, _| p.claims["htu"] = json!("http://127.0.0.1:1/govway/rest/in/x/y/v1/echo"),
        "htu",
    )
    .await;
}

#[tokio::test]
async fn front_htm_is_the_method() {
    front_rule(|p, _| p.claims["htm"] = json!("GET"), "htm").await;
}

#[tokio::test]
async fn front_proof_is_fresh() {
    front_rule(|p, _| p.claims["iat"] = json!(NOW - 61), "older than 60 s").await;
}

#[tokio::test]
async fn front_proof_is_required_and_single() {
    let w = world().await;
    let voucher = dpop_voucher(&w).await;
    let auth = format!("DPoP {voucher}");
    assert_unauthorized(&call(&w, &auth, &[]).await, "no DPoP proof");
    let a = Proof::at_front(&front_url(&w), &voucher).sign();
    let b = Proof::at_front(&front_url(&w), &voucher).sign();
    assert_unauthorized(&call(&w, &auth, &[&a, &b]).await, "several");
    assert_echoed(&call(&w, &auth, &[&a]).await);
    // Replayed.
    assert_unauthorized(&call(&w, &auth, &[&a]).await, "already used");
    assert_echoed(&call(&w, &auth, &[&b]).await);
    w.sandbox.shutdown().await;
}

// ---- The real client -----------------------------------------------------

#[tokio::test]
async fn the_client_calls_a_dpop_service() {
    let w = world().await;
    let clock = w.clock.clone();
    let fetcher = HttpTokenFetcher::new(w.sandbox.endpoints().clone(), client_key(), clock.clone())
        .unwrap()
        .retry_policy(Backoff::never())
        .dpop_key(dpop_key());
    let cache = Arc::new(VoucherCache::new(fetcher, clock.clone()));
    let client = ClientId::parse(DEFAULT_CLIENT).unwrap();
    let plain_caller = Caller::new(
        Arc::clone(&cache),
        ModiSigner::new(client.clone(), client_key()),
        clock.clone(),
    )
    .unwrap();
    let caller = Caller::new(
        Arc::clone(&cache),
        ModiSigner::new(client.clone(), client_key()),
        clock,
    )
    .unwrap()
    .dpop_key(dpop_key());
    let key = VoucherKey::new(
        Environment::Sandbox,
        client,
        client_key().kid().clone(),
        PurposeId::parse(ECHO_PURPOSE).unwrap(),
    );
    let dpop_key_ = key.clone().with_dpop();
    let profile = ServiceProfile::new(&w.sandbox.front_url(ECHO_ESERVICE).unwrap(), ECHO_AUDIENCE)
        .integrity(false)
        .dpop(true);
    for _ in 0..3 {
        let r = caller
            .post_json(&profile, &dpop_key_, "echo", BODY)
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
        let v: Value = r.json().unwrap();
        assert_eq!(v["received"], json!({"domanda": "ping"}));
    }
    // One DPoP voucher, a fresh proof for each call.
    assert_eq!(w.sandbox.vouchers_issued(), 1);
    assert_eq!(w.sandbox.backend_calls(), 3);
    let cached = cache.get(&dpop_key_).await.unwrap();
    assert!(cached.voucher().authorization().starts_with("DPoP "));
    // Misconfigurations are not sent.
    let e = caller
        .post_json(&profile, &key, "echo", BODY)
        .await
        .unwrap_err();
    assert_eq!(e.code(), "call_not_sent");
    let e = plain_caller
        .post_json(&profile, &dpop_key_, "echo", BODY)
        .await
        .unwrap_err();
    assert_eq!(e.code(), "call_not_sent");
    // A DPoP voucher sent as Bearer by a profile without DPoP: refused.
    let e = plain_caller
        .post_json(&profile.clone().dpop(false), &dpop_key_, "echo", BODY)
        .await
        .unwrap_err();
    assert_eq!(e.code(), "gateway_refused", "{e}");
    // A fetcher without a DPoP key does not ask.
    let bare = HttpTokenFetcher::new(w.sandbox.endpoints().clone(), client_key(), w.clock.clone())
        .unwrap()
        .retry_policy(Backoff::never());
    let e = VoucherCache::new(bare, w.clock.clone())
        .get(&dpop_key_)
        .await
        .unwrap_err();
    assert_eq!(e.code(), "voucher_not_sent");
    w.sandbox.shutdown().await;
}
